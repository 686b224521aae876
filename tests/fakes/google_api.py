"""A local fake of Google's OAuth 2.0 endpoints and the Calendar API v3 events.list, for the
real Authlib client over httpx2. Written from Google's references: the Calendar v3 discovery
document (tests/data/google-calendar/calendar.v3.json, whose `Events`/`Event` schemas every
answer is validated against in tests/fakes/test_calendar_fakes.py) and "OAuth 2.0 for Web
Server Applications".

One server serves what Google spreads over three hosts (point GOOGLE_OAUTH_URL and
GOOGLE_API_URL at ``fake.base_url``):
- ``GET /o/oauth2/v2/auth`` (accounts.google.com): redirects back with ``code``, ``scope`` and
  ``state``, or ``error=access_denied``; records the PKCE ``code_challenge``; a refresh token
  only with ``access_type=offline``;
- ``POST /token`` (oauth2.googleapis.com): ``authorization_code`` (verifies ``code_verifier``),
  ``refresh_token``; ``invalid_grant`` for revoked grants;
- ``POST /revoke``: revokes the grant of an access or refresh token, and with it every token
  the same account gave the client (Google keeps one grant per account and client);
- ``GET /calendar/v3/calendars/{calendarId}/events``: ``singleEvents``, ``timeMin``,
  ``maxResults`` (default 250, at most 2500), ``pageToken``/``nextPageToken`` and a final
  ``nextSyncToken``; ``syncToken`` (not combinable with ``timeMin``/``timeMax``/...; cancelled
  events always included; ``410`` once expired); 401 for bad tokens; injected 429 / 403
  ``rateLimitExceeded`` / 5xx with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from tests.fakes.calendar_store import FakeCalendar, Instance, opaque_token, read_token
from tests.fakes.local_server import LocalServer
from tests.fakes.oauth_server import OAuthServer, utcnow

CLIENT_ID = "rapport-test.apps.googleusercontent.com"
CLIENT_SECRET = "google-test-secret"
# events.list parameters that may not be combined with syncToken (discovery document).
_NOT_WITH_SYNC_TOKEN = ("iCalUID", "orderBy", "privateExtendedProperty", "q",
                        "sharedExtendedProperty", "timeMin", "timeMax", "updatedMin")


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    status: int


@dataclass
class _Failure:
    status: int
    retry_after: str | None
    reason: str | None


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def google_error(status: int, message: str, reason: str, *, domain: str = "global",
                 extra: dict[str, str] | None = None) -> dict[str, Any]:
    """Google's JSON error body."""
    error = {"domain": domain, "reason": reason, "message": message, **(extra or {})}
    statuses = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                404: "NOT_FOUND", 410: "FAILED_PRECONDITION", 429: "RESOURCE_EXHAUSTED",
                500: "INTERNAL", 503: "UNAVAILABLE"}
    body: dict[str, Any] = {"error": {"errors": [error], "code": status, "message": message}}
    if status in statuses:
        body["error"]["status"] = statuses[status]
    return body


class FakeGoogle(LocalServer):
    """Google OAuth + Calendar v3 on 127.0.0.1, with one calendar per account."""

    def __init__(self, *, clock: Callable[[], datetime] = utcnow,
                 redirect_uris: set[str] | None = None) -> None:
        super().__init__()
        self.clock = clock
        self.oauth = OAuthServer(clock=clock, one_grant_per_account=True)
        self.oauth.register_client(CLIENT_ID, CLIENT_SECRET, redirect_uris or set())
        self.calendars: dict[str, FakeCalendar] = {}
        self.api_requests: list[ApiRequest] = []
        self.revocations: list[str] = []
        # Set to an unset event to make /revoke wait until the test sets it (a slow Google).
        self.revocation_gate: asyncio.Event | None = None
        self._failures: deque[_Failure] = deque()
        self._token_failures: deque[_Failure] = deque()
        self._revoke_failures: deque[_Failure] = deque()
        # Google may return fewer events than maxResults on a page; this makes it do so.
        self.page_limit: int | None = None

    # -- setup -----------------------------------------------------------------------------
    def allow_redirect(self, uri: str) -> None:
        self.oauth.clients[CLIENT_ID][1].add(uri)

    def calendar(self, account: str) -> FakeCalendar:
        """The account's primary calendar (created on first use)."""
        key = account.lower()
        if key not in self.calendars:
            self.calendars[key] = FakeCalendar(key)
        return self.calendars[key]

    def fail_next(self, status: int = 429, *, count: int = 1, retry_after: str | None = "1",
                  reason: str | None = None, token_endpoint: bool = False,
                  revoke_endpoint: bool = False) -> None:
        """Answer the next `count` API (or token, or revocation endpoint) requests with an
        error."""
        queue = self._token_failures if token_endpoint else \
            self._revoke_failures if revoke_endpoint else self._failures
        for _ in range(count):
            queue.append(_Failure(status, retry_after, reason))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def events_requests(self) -> list[ApiRequest]:
        return [r for r in self.api_requests if r.path.endswith("/events")]

    # -- HTTP ------------------------------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/o/oauth2/v2/auth", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_post("/revoke", self._revoke)
        app.router.add_get("/calendar/v3/calendars/{calendarId}/events", self._events)
        return app

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        status, target = self.oauth.authorize(
            dict(request.query), offline=lambda p: p.get("access_type") == "offline")
        if status != 302:
            return web.Response(status=status, text=f"Error 400: {target}")
        raise web.HTTPFound(target)

    async def _token(self, request: web.Request) -> web.Response:
        if self._token_failures:
            failure = self._token_failures.popleft()
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            return web.json_response({"error": "rate_limit_exceeded"} if failure.status == 429
                                     else {"error": "internal_failure"},
                                     status=failure.status, headers=headers)
        form = {k: str(v) for k, v in (await request.post()).items()}
        status, body = self.oauth.token(form)
        return web.json_response(body, status=status,
                                 headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def _revoke(self, request: web.Request) -> web.Response:
        form = await request.post()
        token = str(form.get("token", ""))
        self.revocations.append(token)
        if self.revocation_gate is not None:
            await self.revocation_gate.wait()
        if self._revoke_failures:
            failure = self._revoke_failures.popleft()
            return web.json_response({"error": "internal_failure"}, status=failure.status)
        if self.oauth.revoke_token(token):
            return web.json_response({})
        return web.json_response({"error": "invalid_token",
                                  "error_description": "Token expired or revoked"}, status=400)

    async def _events(self, request: web.Request) -> web.Response:
        response = self._events_response(request)
        self.api_requests.append(ApiRequest("GET", request.path, dict(request.query),
                                            request.headers.get("Authorization"),
                                            response.status))
        return response

    def _events_response(self, request: web.Request) -> web.Response:
        account = self.oauth.account_for(request.headers.get("Authorization"))
        if account is None:
            return web.json_response(google_error(
                401, "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.", "authError",
                extra={"location": "Authorization", "locationType": "header"}), status=401,
                headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
        if self._failures:
            failure = self._failures.popleft()
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            if failure.status == 429:
                body = google_error(429, "Rate Limit Exceeded", "rateLimitExceeded",
                                    domain="usageLimits")
            elif failure.status == 403:
                body = google_error(403, "Rate Limit Exceeded",
                                    failure.reason or "rateLimitExceeded", domain="usageLimits")
            else:
                body = google_error(failure.status, "Backend Error", "backendError")
            return web.json_response(body, status=failure.status, headers=headers)
        calendar_id = request.match_info["calendarId"]
        if calendar_id not in ("primary", account):
            return web.json_response(google_error(404, "Not Found", "notFound"), status=404)
        calendar = self.calendar(account)
        query = request.query
        try:
            return web.json_response(self._list(calendar, query))
        except _BadRequest as bad:
            return web.json_response(google_error(bad.status, bad.message, bad.reason),
                                     status=bad.status)

    # -- events.list -----------------------------------------------------------------------
    def _list(self, calendar: FakeCalendar, query: Any) -> dict[str, Any]:
        single = query.get("singleEvents", "false") == "true"
        try:
            max_results = min(int(query.get("maxResults", "250")), 2500)
        except ValueError:
            raise _BadRequest(400, "Invalid value for maxResults", "invalid") from None
        if max_results < 1:
            raise _BadRequest(400, "Invalid value for maxResults", "invalid")
        if self.page_limit is not None:
            max_results = min(max_results, self.page_limit)
        if "pageToken" in query:
            state = read_token(query["pageToken"])
            if state is None:
                raise _BadRequest(400, "Invalid page token", "invalid")
        elif "syncToken" in query:
            for name in _NOT_WITH_SYNC_TOKEN:
                if name in query:
                    raise _BadRequest(400, f"Sync token cannot be used with {name}.", "invalid")
            token = read_token(query["syncToken"])
            if token is None:
                raise _BadRequest(400, "Invalid sync token value.", "invalid")
            state = {"base": token["s"], "snap": calendar.seq, "off": 0, "e": token["e"],
                     "se": token["se"]}
        else:
            time_min = query.get("timeMin")
            if time_min is not None:
                try:
                    datetime.fromisoformat(time_min)
                except ValueError:
                    raise _BadRequest(400, "Bad Request", "badRequest") from None
            state = {"base": None, "snap": calendar.seq, "off": 0, "e": calendar.epoch,
                     "se": single, "tmin": time_min}
        if state["e"] != calendar.epoch:
            raise _BadRequest(410, "Sync token is no longer valid, a full sync is required.",
                              "fullSyncRequired")
        items = self._items(calendar, state, single)
        offset = state["off"]
        page = items[offset:offset + max_results]
        body: dict[str, Any] = {
            "kind": "calendar#events", "etag": f'"p{calendar.seq}"', "summary": calendar.owner,
            "description": "", "updated": _rfc3339(self.clock()), "timeZone": "UTC",
            "accessRole": "owner",
            "defaultReminders": [{"method": "popup", "minutes": 10}],
            "items": [self.render(calendar, item) for item in page]}
        if offset + max_results < len(items):
            body["nextPageToken"] = opaque_token({**state, "off": offset + max_results})
        else:
            body["nextSyncToken"] = opaque_token({"s": state["snap"], "e": calendar.epoch,
                                             "se": state["se"]})
        return body

    def _items(self, calendar: FakeCalendar, state: dict[str, Any], single: bool
               ) -> list[Any]:
        base, snap = state["base"], state["snap"]
        time_min = datetime.fromisoformat(state["tmin"]) if state.get("tmin") else None
        if single:
            units: list[Any] = calendar.instances()
        else:
            # Without singleEvents: series as one event with its recurrence, plus exceptions.
            units = [Instance(e, None, e.start, e.end, e.status, e.seq)
                     for e in calendar.events.values()]
            units += [i for i in calendar.instances() if i.is_exception]
        chosen = []
        for unit in units:
            if unit.seq > snap:
                continue  # changed after this round began: the next sync token covers it
            if base is None:
                if unit.status != "confirmed":
                    continue  # showDeleted defaults to false
                if time_min is not None and unit.end <= time_min and not (
                        not single and unit.event.is_series):
                    continue
            elif unit.seq <= base:
                continue
            chosen.append(unit)
        return chosen

    def render(self, calendar: FakeCalendar, unit: Instance) -> dict[str, Any]:
        """An `Event` resource as events.list returns it to the calendar's owner."""
        event = unit.event
        instance_id = event.id
        if unit.original_start is not None:
            instance_id = f"{event.id}_{unit.original_start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        base: dict[str, Any] = {"kind": "calendar#event", "etag": f'"{unit.seq}"',
                                "id": instance_id}
        if unit.original_start is not None:
            base["recurringEventId"] = event.id
            base["originalStartTime"] = self._time(unit.original_start, event)
        if unit.status != "confirmed":
            # Deleted and cancelled events carry their id and little else.
            return {**base, "status": "cancelled"}
        created = _rfc3339(event.created or datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        organizer = {"email": event.organizer}
        if event.organizer == calendar.owner:
            organizer["self"] = True  # type: ignore[assignment]
        attendees = []
        for person in event.attendees:
            entry: dict[str, Any] = {"email": person.email, "responseStatus": person.response}
            if person.name:
                entry["displayName"] = person.name
            if person.email == event.organizer:
                entry["organizer"] = True
            if person.email == calendar.owner:
                entry["self"] = True
            if person.resource:
                entry["resource"] = True
            attendees.append(entry)
        body = {
            **base, "status": "confirmed",
            "htmlLink": f"https://www.google.com/calendar/event?eid={instance_id}",
            "created": created, "updated": _rfc3339(self.clock()),
            "summary": event.title, "description": event.description,
            "location": event.location, "creator": dict(organizer), "organizer": organizer,
            "start": self._time(unit.start, event), "end": self._time(unit.end, event),
            "iCalUID": f"{event.id}@google.com", "sequence": 0, "attendees": attendees,
            "guestsCanInviteOthers": True, "reminders": {"useDefault": True},
            "eventType": event.event_type}
        if event.is_series and unit.original_start is None:
            body["recurrence"] = [f"RRULE:FREQ=WEEKLY;COUNT={event.weekly_count}"]
        return body

    @staticmethod
    def _time(moment: datetime, event: Any) -> dict[str, str]:
        if event.all_day:
            return {"date": moment.date().isoformat()}
        local = moment.astimezone(ZoneInfo(event.time_zone))
        return {"dateTime": local.isoformat(), "timeZone": event.time_zone}


class _BadRequest(Exception):
    def __init__(self, status: int, message: str, reason: str) -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason
