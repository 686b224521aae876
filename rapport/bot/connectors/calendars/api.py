"""Reading changes from Google Calendar v3 and Microsoft Graph: pages of events and the cursor
for next time, with token refresh, 401 recovery and 429 Retry-After handled in one place."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from rapport.bot.connectors.calendars.events import (
    CalendarEvent,
    UnreadableEvent,
    parse_google_event,
    parse_graph_event,
)
from rapport.bot.connectors.calendars.providers import GOOGLE, ProviderConfig

logger = logging.getLogger(__name__)

# Refresh a little before expiry so a page request never carries a token that dies in flight.
REFRESH_LEEWAY = timedelta(seconds=60)
GOOGLE_PAGE_SIZE = 250
GRAPH_PAGE_SIZE = 100
# Google reports some quota errors as 403 with these reasons instead of 429.
_GOOGLE_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
# Graph's codes for an expired delta token (with 410, or another 4xx).
_GRAPH_RESYNC_CODES = frozenset({"syncstatenotfound", "resyncrequired",
                                 "syncstateinvalid"})


class SyncExpired(Exception):
    """The provider no longer knows our cursor: a full sync is needed."""


class RateLimited(Exception):
    """The provider asked us to wait; `retry_after` seconds, at least."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:g} s")
        self.retry_after = retry_after


class GrantRevoked(Exception):
    """The refresh token was refused (revoked, expired, password changed): ask the person."""


class ProviderFailed(Exception):
    """Anything else the provider or the network did; retried on a later run."""


@dataclass
class Tokens:
    """A connection's tokens in memory (plaintext only here, never stored as such).

    The refresh token, the long-lived secret, stays sealed as it is stored until a refresh
    needs it: most syncs use a current access token alone, and then it is never opened."""

    access_token: str | None
    sealed_refresh_token: str
    expires_at: datetime | None
    open_sealed: Callable[[str], str] = field(repr=False)
    changed: bool = False
    _refresh_token: str | None = field(default=None, repr=False)

    @property
    def refresh_token(self) -> str:
        if self._refresh_token is None:
            self._refresh_token = self.open_sealed(self.sealed_refresh_token)
        return self._refresh_token

    @refresh_token.setter
    def refresh_token(self, token: str) -> None:
        self._refresh_token = token


@dataclass
class Page:
    events: list[CalendarEvent]
    # Google's nextSyncToken or Graph's @odata.deltaLink: only on a round's last page.
    cursor: str | None = None
    unreadable: int = 0


Sleep = Callable[[float], Awaitable[Any]]


@dataclass
class ProviderSession:
    """One connection's authorized use of a provider during one sync run."""

    provider: ProviderConfig
    client: AsyncOAuth2Client
    tokens: Tokens
    clock: Callable[[], datetime]
    sleep: Sleep
    # A 429 asking for at most this long is waited out in place; longer ends the run and the
    # connection is rescheduled after Retry-After.
    max_inline_wait: float = 10.0
    max_attempts: int = 3
    waits: list[float] = field(default_factory=list)

    async def ensure_token(self) -> None:
        """Refresh the access token when it is missing or about to expire (by our clock)."""
        expires_at = self.tokens.expires_at
        if self.tokens.access_token is None or expires_at is None or \
                expires_at - REFRESH_LEEWAY <= self.clock():
            await self.refresh()

    async def refresh(self) -> None:
        try:
            token = await self.client.refresh_token(self.provider.token_url,
                                                    refresh_token=self.tokens.refresh_token)
        except OAuthError as error:
            if error.error == "invalid_grant":
                raise GrantRevoked(error.error) from None
            raise ProviderFailed(f"token endpoint: {error.error}") from None
        except httpx2.HTTPStatusError as error:
            self._raise_for_rate_limit(error.response)
            raise ProviderFailed(f"token endpoint: HTTP {error.response.status_code}") from None
        except httpx2.HTTPError as error:
            raise ProviderFailed(f"token endpoint: {type(error).__name__}") from None
        self.tokens.access_token = str(token["access_token"])
        # Microsoft rotates refresh tokens; Google keeps the old one (Authlib copies it).
        self.tokens.refresh_token = str(token.get("refresh_token") or self.tokens.refresh_token)
        expires_in = float(token.get("expires_in") or 3600)
        self.tokens.expires_at = self.clock() + timedelta(seconds=expires_in)
        self.tokens.changed = True
        # Authlib signs requests with client.token, which refresh_token() already updated.

    async def get_json(self, url: str, *, params: Mapping[str, str] | None = None,
                       headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
        """GET with the bearer token: (status, JSON body) for 2xx and the sync-relevant 4xx."""
        await self.ensure_token()
        refreshed = False
        for attempt in range(self.max_attempts):
            try:
                response = await self.client.get(url, params=params, headers=headers)
            except httpx2.HTTPError as error:
                raise ProviderFailed(type(error).__name__) from None
            if response.status_code == 401 and not refreshed:
                # Revoked or expired early: one refresh tells which (invalid_grant = revoked).
                await self.refresh()
                refreshed = True
                continue
            wait = self._retry_after(response)
            if wait is not None:
                if wait <= self.max_inline_wait and attempt < self.max_attempts - 1:
                    self.waits.append(wait)
                    await self.sleep(wait)
                    continue
                raise RateLimited(wait)
            if response.status_code >= 500:
                raise ProviderFailed(f"HTTP {response.status_code}")
            try:
                body = response.json()
            except ValueError:
                raise ProviderFailed(f"HTTP {response.status_code}: not JSON") from None
            return response.status_code, body
        raise ProviderFailed("gave up after retries")

    def _retry_after(self, response: httpx2.Response) -> float | None:
        """Seconds to wait when the response is a rate limit, else None."""
        limited = response.status_code == 429
        if response.status_code == 403 and self.provider.name == GOOGLE:
            limited = _google_reason(response) in _GOOGLE_RATE_REASONS
        if not limited:
            return None
        return _retry_after_seconds(response.headers.get("Retry-After"), self.clock())

    def _raise_for_rate_limit(self, response: httpx2.Response) -> None:
        if response.status_code == 429:
            raise RateLimited(_retry_after_seconds(response.headers.get("Retry-After"),
                                                   self.clock()))


def _retry_after_seconds(value: str | None, now: datetime) -> float:
    """Retry-After as seconds (delta-seconds or an HTTP date); 30 s when absent."""
    if not value:
        return 30.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    except (TypeError, ValueError):
        return 30.0


def _google_reason(response: httpx2.Response) -> str | None:
    try:
        errors = response.json()["error"]["errors"]
        return str(errors[0]["reason"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def _graph_error_code(body: Any) -> str:
    try:
        return str(body["error"]["code"]).lower()
    except (KeyError, TypeError):
        return ""


def _parse_all(items: list[Mapping[str, Any]],
               parse: Callable[[Mapping[str, Any]], CalendarEvent]) -> Page:
    page = Page(events=[])
    for item in items:
        try:
            page.events.append(parse(item))
        except (UnreadableEvent, KeyError, TypeError):
            page.unreadable += 1
    return page


async def google_pages(session: ProviderSession, *, cursor: str | None,
                       window_start: datetime, page_size: int = GOOGLE_PAGE_SIZE
                       ) -> AsyncIterator[Page]:
    """events.list on the primary calendar: a full sync from `window_start` when `cursor` is
    None, else the changes since the sync token (which may not be combined with timeMin)."""
    url = f"{session.provider.api_url}/calendar/v3/calendars/primary/events"
    params = {"singleEvents": "true", "maxResults": str(page_size)}
    if cursor:
        params["syncToken"] = cursor
    else:
        params["timeMin"] = window_start.isoformat().replace("+00:00", "Z")
    while True:
        status, body = await session.get_json(url, params=params)
        if status == 410:
            raise SyncExpired()
        if status != 200:
            raise ProviderFailed(f"events.list: HTTP {status}")
        page = _parse_all(body.get("items") or [], parse_google_event)
        page.cursor = body.get("nextSyncToken")
        yield page
        next_token = body.get("nextPageToken")
        if not next_token:
            return
        params = {**params, "pageToken": next_token}


# The longest address an attendee may have (RFC 5321's path limit, as capture applies it).
MAX_ADDRESS = 320


async def graph_owner(session: ProviderSession) -> str | None:
    """The signed-in account's own address, lower-cased: the owner of its default calendar
    (`GET /me/calendar`, which Calendars.Read allows; `/me` itself would need User.Read).
    Graph lists the owner among the attendees of meetings others organise without marking
    them, so this is what keeps the owner from being held as someone met. None when Graph
    does not say (a refusal is no reason to stop reading the calendar)."""
    status, body = await session.get_json(f"{session.provider.api_url}/v1.0/me/calendar",
                                          params={"$select": "owner"})
    owner = body.get("owner") if status == 200 and isinstance(body, dict) else None
    address = owner.get("address") if isinstance(owner, dict) else None
    if not isinstance(address, str) or not address.strip() or len(address) > MAX_ADDRESS:
        logger.info("calendar owner not given", extra={"status": status})
        return None
    return address.strip().lower()


async def google_calendar_address(client: AsyncOAuth2Client, provider: ProviderConfig
                                  ) -> str | None:
    """The address Google names the signed-in account's primary calendar by (its `summary`,
    the account's own address unless the person renamed it), lower-cased; read with
    events.list, which `calendar.events.readonly` allows. None when the answer is no address
    (renamed, refused, unreachable): the caller then cannot tell whose calendar it is."""
    try:
        response = await client.get(
            f"{provider.api_url}/calendar/v3/calendars/primary/events",
            params={"maxResults": "1", "fields": "summary"})
        body = response.json() if response.status_code == 200 else None
    except (httpx2.HTTPError, ValueError):
        return None
    summary = body.get("summary") if isinstance(body, dict) else None
    if not isinstance(summary, str) or "@" not in summary or len(summary) > MAX_ADDRESS:
        return None
    return summary.strip().lower()


async def graph_pages(session: ProviderSession, *, cursor: str | None,
                      window_start: datetime, window_end: datetime,
                      page_size: int = GRAPH_PAGE_SIZE) -> AsyncIterator[Page]:
    """calendarView/delta: a new round over [window_start, window_end) when `cursor` is None,
    else the changes since the stored @odata.deltaLink."""
    base = session.provider.api_url
    url = cursor or f"{base}/v1.0/me/calendarView/delta"
    params = None if cursor else {
        "startDateTime": window_start.isoformat().replace("+00:00", "Z"),
        "endDateTime": window_end.isoformat().replace("+00:00", "Z")}
    # Times in UTC whatever the mailbox's zone, pages of a bounded size.
    headers = {"Prefer": f'odata.maxpagesize={page_size}, outlook.timezone="UTC"'}
    while True:
        if not url.startswith(f"{base}/"):
            # The links carry our bearer token along: follow them only to the configured Graph.
            raise ProviderFailed("link to an unexpected host")
        status, body = await session.get_json(url, params=params, headers=headers)
        if status == 410 or (400 <= status < 500 and
                             _graph_error_code(body) in _GRAPH_RESYNC_CODES):
            raise SyncExpired()
        if status != 200:
            raise ProviderFailed(f"calendarView/delta: HTTP {status} {_graph_error_code(body)}")
        page = _parse_all(body.get("value") or [], parse_graph_event)
        page.cursor = body.get("@odata.deltaLink")
        yield page
        next_link = body.get("@odata.nextLink")
        if not next_link:
            return
        url, params = str(next_link), None
