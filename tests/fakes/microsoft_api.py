"""A local fake of the Microsoft identity platform (v2.0) and Graph's calendarView delta, for
the real Authlib client over httpx2. Written from Microsoft's references: "OAuth 2.0
authorization code flow" (identity platform), "event: delta", "Get incremental changes to
events in a calendar view" and the "event resource type".

One server for both hosts (point MICROSOFT_LOGIN_URL and MICROSOFT_GRAPH_URL at
``fake.base_url``):
- ``GET /{tenant}/oauth2/v2.0/authorize`` and ``POST /{tenant}/oauth2/v2.0/token``: PKCE,
  a refresh token only with the ``offline_access`` scope, refresh tokens rotated on use,
  ``invalid_grant`` (AADSTS codes in the body) for bad verifiers and revoked grants;
- ``GET /v1.0/me/calendarView/delta?startDateTime&endDateTime``: occurrences, exceptions and
  single events overlapping the window; ``Prefer: odata.maxpagesize`` (answered in
  ``Preference-Applied``) and ``outlook.timezone``; pages linked by ``@odata.nextLink``
  (``$skiptoken``), a round closed by ``@odata.deltaLink`` (``$deltatoken``); later rounds list
  changed events, and deleted ones (or ones moved out of the window) as ``@removed``; an
  expired delta token answers 410 with ``syncStateNotFound`` in the error body; injected
  429 with ``Retry-After``;
- ``GET /v1.0/me/calendar``: the signed-in user's default calendar (the "calendar resource
  type", allowed by Calendars.Read), whose ``owner`` (an emailAddress: name and address) is
  the mailbox's own address; ``$select`` honoured; ``calendar_status`` makes it refuse
  (403 ``ErrorAccessDenied``).
"""

from __future__ import annotations

import base64
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from tests.fakes.calendar_store import FakeCalendar, Instance, opaque_token, read_token
from tests.fakes.local_server import LocalServer
from tests.fakes.oauth_server import OAuthServer, utcnow

CLIENT_ID = "00000000-0000-0000-0000-00000000c0de"
CLIENT_SECRET = "microsoft-test-secret"
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000
# Google's response words to Graph's responseType.
_RESPONSES = {"accepted": "accepted", "declined": "declined",
              "tentative": "tentativelyAccepted", "needsAction": "none"}
_AAD_ERRORS = {
    "invalid_grant": (70000, "AADSTS70000: The provided value for the 'code' parameter is not "
                             "valid."),
    "bad_verifier": (501481, "AADSTS501481: The Code_Verifier does not match the "
                             "code_challenge supplied in the authorization request."),
    "revoked": (50173, "AADSTS50173: The provided grant has expired due to it being revoked, "
                       "a fresh auth token is needed."),
    "invalid_client": (7000215, "AADSTS7000215: Invalid client secret provided."),
}


@dataclass(frozen=True)
class GraphRequest:
    path: str
    query: dict[str, str]
    prefer: str | None
    authorization: str | None
    status: int


@dataclass
class _Failure:
    status: int
    retry_after: str | None


def graph_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "innerError": {
        "date": "2026-11-23T10:00:00", "request-id": "00000000-0000-0000-0000-000000000000",
        "client-request-id": "00000000-0000-0000-0000-000000000000"}}}


def _graph_time(moment: datetime, zone: str) -> dict[str, str]:
    local = moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return {"dateTime": local.isoformat(timespec="microseconds") + "0", "timeZone": zone}


def _offset(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class FakeMicrosoft(LocalServer):
    """Identity platform + Graph calendarView delta on 127.0.0.1."""

    def __init__(self, *, clock: Callable[[], datetime] = utcnow,
                 redirect_uris: set[str] | None = None) -> None:
        super().__init__()
        self.clock = clock
        self.oauth = OAuthServer(clock=clock, rotate_refresh_tokens=True)
        self.oauth.register_client(CLIENT_ID, CLIENT_SECRET, redirect_uris or set())
        self.calendars: dict[str, FakeCalendar] = {}
        self.graph_requests: list[GraphRequest] = []
        # Requests for the default calendar's own properties (GET /me/calendar).
        self.calendar_requests: list[GraphRequest] = []
        # 200, or the status GET /me/calendar answers with instead (403: access denied).
        self.calendar_status = 200
        self.tenants_seen: list[str] = []
        self._failures: deque[_Failure] = deque()
        # Graph may page smaller than odata.maxpagesize asks; this makes it do so.
        self.page_limit: int | None = None

    def allow_redirect(self, uri: str) -> None:
        self.oauth.clients[CLIENT_ID][1].add(uri)

    def calendar(self, account: str) -> FakeCalendar:
        key = account.lower()
        if key not in self.calendars:
            self.calendars[key] = FakeCalendar(key)
        return self.calendars[key]

    def fail_next(self, status: int = 429, *, count: int = 1,
                  retry_after: str | None = "1") -> None:
        for _ in range(count):
            self._failures.append(_Failure(status, retry_after))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- HTTP ------------------------------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{tenant}/oauth2/v2.0/authorize", self._authorize)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/v1.0/me/calendarView/delta", self._delta)
        app.router.add_get("/v1.0/me/calendar", self._default_calendar)
        return app

    async def _default_calendar(self, request: web.Request) -> web.Response:
        response = self._default_calendar_response(request)
        self.calendar_requests.append(GraphRequest(request.path, dict(request.query),
                                                   request.headers.get("Prefer"),
                                                   request.headers.get("Authorization"),
                                                   response.status))
        return response

    def _default_calendar_response(self, request: web.Request) -> web.Response:
        """GET /me/calendar: the calendar resource of the mailbox's default calendar."""
        account = self.oauth.account_for(request.headers.get("Authorization"))
        if account is None:
            return web.json_response(graph_error(
                "InvalidAuthenticationToken", "Access token has expired or is not yet valid."),
                status=401)
        if self.calendar_status != 200:
            return web.json_response(graph_error(
                "ErrorAccessDenied", "Access is denied. Check credentials and try again."),
                status=self.calendar_status)
        calendar_id = "AAMkAD" + base64.urlsafe_b64encode(
            f"calendar:{account.lower()}".encode()).decode().rstrip("=")
        resource: dict[str, Any] = {
            "id": calendar_id, "name": "Calendar", "color": "auto", "hexColor": "",
            "isDefaultCalendar": True, "changeKey": "DwAAABYAAAA=", "canShare": True,
            "canViewPrivateItems": True, "canEdit": True,
            "allowedOnlineMeetingProviders": ["teamsForBusiness"],
            "defaultOnlineMeetingProvider": "teamsForBusiness",
            "isTallyingResponses": True, "isRemovable": False,
            # The address as the directory spells it (the sign-in's letter case).
            "owner": {"name": account.split("@")[0].title(), "address": account}}
        selected = [name.strip() for name in request.query.get("$select", "").split(",")
                    if name.strip()]
        if selected:
            resource = {key: value for key, value in resource.items()
                        if key == "id" or key in selected}
        context = ("https://graph.microsoft.com/v1.0/$metadata#users('"
                   f"{quote(account)}')/calendar/$entity")
        return web.json_response({"@odata.context": context, **resource})

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        self.tenants_seen.append(request.match_info["tenant"])
        status, target = self.oauth.authorize(
            dict(request.query),
            offline=lambda p: "offline_access" in p.get("scope", "").split())
        if status != 302:
            return web.Response(status=status, text=target)
        if "error=access_denied" in target:
            target += "&error_description=" + quote("AADSTS65004: User declined to consent.")
        raise web.HTTPFound(target)

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        status, body = self.oauth.token(form)
        if status >= 400:
            kind = body.get("error", "")
            if kind == "invalid_grant":
                kind = "bad_verifier" if body.get("error_description") == \
                    "Invalid code verifier." else "revoked" if form.get(
                        "grant_type") == "refresh_token" else "invalid_grant"
            code, description = _AAD_ERRORS.get(kind, (9002313, "AADSTS9002313: Invalid "
                                                               "request."))
            body = {"error": body.get("error"), "error_description": description,
                    "error_codes": [code], "timestamp": self.clock().strftime(
                        "%Y-%m-%d %H:%M:%SZ"), "trace_id": "00000000-0000-0000-0000-0",
                    "correlation_id": "00000000-0000-0000-0000-1",
                    "error_uri": "https://login.microsoftonline.com/error?code=" + str(code)}
        else:
            body["ext_expires_in"] = body["expires_in"]
        return web.json_response(body, status=status)

    async def _delta(self, request: web.Request) -> web.Response:
        response = self._delta_response(request)
        self.graph_requests.append(GraphRequest(request.path, dict(request.query),
                                                request.headers.get("Prefer"),
                                                request.headers.get("Authorization"),
                                                response.status))
        return response

    def _preferences(self, request: web.Request) -> tuple[int, str, list[str]]:
        size, zone, applied = DEFAULT_PAGE_SIZE, "UTC", []
        for part in request.headers.getall("Prefer", []):
            for item in part.split(","):
                name, _, value = item.strip().partition("=")
                value = value.strip().strip('"')
                if name == "odata.maxpagesize" and value.isdigit():
                    size = max(1, min(int(value), MAX_PAGE_SIZE))
                    applied.append(f"odata.maxpagesize={size}")
                elif name == "outlook.timezone":
                    try:
                        ZoneInfo(value)
                        zone = value
                        applied.append(f'outlook.timezone="{value}"')
                    except (ZoneInfoNotFoundError, ValueError):
                        pass
        return size, zone, applied

    def _delta_response(self, request: web.Request) -> web.Response:
        account = self.oauth.account_for(request.headers.get("Authorization"))
        if account is None:
            return web.json_response(graph_error(
                "InvalidAuthenticationToken", "Access token has expired or is not yet valid."),
                status=401)
        if self._failures:
            failure = self._failures.popleft()
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            error = graph_error("ApplicationThrottled",
                                "Application is over its MailboxConcurrency limit.") \
                if failure.status == 429 else graph_error("ServiceNotAvailable",
                                                          "Service unavailable.")
            return web.json_response(error, status=failure.status, headers=headers)
        calendar = self.calendar(account)
        size, zone, applied = self._preferences(request)
        if self.page_limit is not None:
            size = min(size, self.page_limit)
        query = request.query
        if "$skiptoken" in query:
            state = read_token(query["$skiptoken"])
        elif "$deltatoken" in query:
            token = read_token(query["$deltatoken"])
            state = None if token is None else {**token, "base": token["seq"],
                                                "snap": calendar.seq, "off": 0}
        else:
            start, end = query.get("startDateTime"), query.get("endDateTime")
            if not start or not end:
                return web.json_response(graph_error(
                    "ErrorInvalidParameter", "This request requires a time window specified "
                    "by the query string parameters StartDateTime and EndDateTime."),
                    status=400)
            try:
                window = [_offset(_aware(start)), _offset(_aware(end))]
            except ValueError:
                return web.json_response(graph_error("ErrorInvalidParameter",
                                                     "Invalid date value."), status=400)
            state = {"e": calendar.epoch, "w": window, "base": None, "snap": calendar.seq,
                     "off": 0}
        if state is None or state.get("e") != calendar.epoch:
            return web.json_response(graph_error(
                "syncStateNotFound", "The sync state generation is not found or is invalid."),
                status=410)
        items = self._items(calendar, state)
        offset = state["off"]
        page = items[offset:offset + size]
        base = f"{self.base_url}/v1.0/me/calendarView/delta"
        body: dict[str, Any] = {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(event)",
            "value": [self.render(calendar, unit, removed, zone) for unit, removed in page]}
        if offset + size < len(items):
            skip = opaque_token({**state, "off": offset + size})
            body["@odata.nextLink"] = f"{base}?$skiptoken={skip}"
        else:
            delta = opaque_token({"e": calendar.epoch, "w": state["w"], "seq": state["snap"]})
            body["@odata.deltaLink"] = f"{base}?$deltatoken={delta}"
        headers = {"Preference-Applied": ", ".join(applied)} if applied else {}
        return web.json_response(body, headers=headers)

    def _items(self, calendar: FakeCalendar, state: dict[str, Any]
               ) -> list[tuple[Instance, bool]]:
        start = datetime.fromisoformat(state["w"][0])
        end = datetime.fromisoformat(state["w"][1])
        base, snap = state["base"], state["snap"]
        chosen: list[tuple[Instance, bool]] = []
        for unit in calendar.instances():
            if unit.seq > snap:
                continue
            inside = unit.start < end and unit.end > start
            if base is None:
                if inside and unit.status != "deleted":
                    chosen.append((unit, False))
            elif unit.seq > base:
                # Deleted, or changed outside the window: both come back under @removed.
                chosen.append((unit, unit.status == "deleted" or not inside))
        return chosen

    def graph_id(self, unit: Instance) -> str:
        raw = unit.event.id if unit.original_start is None else \
            f"{unit.event.id}:{unit.original_start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        return "AAMkAD" + base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def render(self, calendar: FakeCalendar, unit: Instance, removed: bool, zone: str
               ) -> dict[str, Any]:
        """A Graph `event` as calendarView/delta returns it to the mailbox owner."""
        event_id = self.graph_id(unit)
        if removed:
            return {"@odata.type": "#microsoft.graph.event", "id": event_id,
                    "@removed": {"reason": "deleted"}}
        event = unit.event
        is_organizer = event.organizer == calendar.owner
        own = "organizer" if is_organizer else _RESPONSES[calendar.owner_response(event)]
        kind = "singleInstance" if unit.original_start is None else \
            "exception" if unit.is_exception else "occurrence"
        master = None if unit.original_start is None else "AAMkAD" + base64.urlsafe_b64encode(
            event.id.encode()).decode().rstrip("=")
        never = "0001-01-01T00:00:00Z"
        attendees = [{
            "type": "resource" if person.resource else "required",
            "status": {"response": _RESPONSES[person.response], "time": never},
            "emailAddress": {"name": person.name or person.email.split("@")[0],
                             "address": person.email}}
            for person in event.attendees if person.email != event.organizer]
        location = {"displayName": event.location, "locationType": "default",
                    "uniqueIdType": "unknown", "address": {}, "coordinates": {}}
        body: dict[str, Any] = {
            "@odata.type": "#microsoft.graph.event", "@odata.etag": f'W/"{unit.seq}"',
            "id": event_id, "createdDateTime": "2026-01-05T09:00:00.0000000Z",
            "lastModifiedDateTime": _offset(self.clock()), "changeKey": str(unit.seq),
            "categories": [], "transactionId": None, "originalStartTimeZone": event.time_zone,
            "originalEndTimeZone": event.time_zone, "iCalUId": f"040000008200E0{event.id}",
            "uid": f"040000008200E0{event.id}", "reminderMinutesBeforeStart": 15,
            "isReminderOn": True, "hasAttachments": False, "subject": event.title,
            "bodyPreview": event.description[:255], "importance": "normal",
            "sensitivity": "normal", "isAllDay": event.all_day,
            "isCancelled": unit.status == "cancelled", "isOrganizer": is_organizer,
            "responseRequested": True, "seriesMasterId": master, "showAs": "busy",
            "type": kind, "webLink": f"https://outlook.office365.com/owa/?itemid={event_id}",
            "onlineMeetingUrl": None, "isOnlineMeeting": False,
            "onlineMeetingProvider": "unknown", "allowNewTimeProposals": True,
            "isDraft": False, "hideAttendees": False, "recurrence": None,
            "responseStatus": {"response": own, "time": never},
            "body": {"contentType": "html", "content": f"<p>{event.description}</p>"},
            "start": _graph_time(unit.start, zone), "end": _graph_time(unit.end, zone),
            "location": location, "locations": [location], "attendees": attendees,
            "organizer": {"emailAddress": {"name": event.organizer.split("@")[0],
                                           "address": event.organizer}},
            "onlineMeeting": None}
        if unit.original_start is not None:
            body["originalStart"] = _offset(unit.original_start)
        return body


def _aware(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
