"""Connecting and disconnecting calendars: the consent flow (authorization code with PKCE,
a state bound to one user and used once), token storage (encrypted), revocation.

The core calls `start` from `connect calendar`, `disconnect` from `disconnect calendar`, and
`forget_user` from `forget me` and `admin purge` (before deleting the rows, so tokens are
revoked at the provider first); the calendar job calls `release_uninstalled` before the purge
of an uninstalled workspace. The web callbacks (`web.py`) call `complete`, which revokes the
grant a new one replaces.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx2
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.bot.connectors.calendars.api import google_calendar_address
from rapport.bot.connectors.calendars.oauth import CalendarHttp
from rapport.bot.connectors.calendars.providers import GOOGLE, ProviderConfig
from rapport.bot.connectors.cipher import TokenCipher
from rapport.bot.core.context import UserContext
from rapport.bot.core.users import fresh_context
from rapport.scheduler.lifecycle import purge_due
from rapport.scheduler.planner import utcnow
from rapport.storage import met as met_lists
from rapport.storage import queries
from rapport.storage.models import (
    CalendarConnection,
    CapturedAttendee,
    CapturedEvent,
    MetPerson,
    OAuthState,
    Workspace,
)

logger = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=10)


class ProviderNotConfigured(LookupError):
    """`connect calendar <provider>` for a provider this deployment has no app for."""


@dataclass(frozen=True, slots=True)
class ConsentResult:
    """What a callback achieved; `reason` is one of the REASONS keys."""

    ok: bool
    reason: str
    provider: str
    user_id: int | None = None


# What the callback page says for each outcome (never a token, never a provider's message).
REASONS: dict[str, str] = {
    "connected": "Connected. Rapport reads your last 30 days of meetings within a few "
                 "minutes. You can close this tab.",
    "unknown_state": "This link was already used or is not one Rapport made. Ask Rapport for "
                     "a new one with “connect calendar”.",
    "expired": "This link has expired. Ask Rapport for a new one with “connect calendar”.",
    "wrong_provider": "This link belongs to another calendar provider. Ask Rapport for a new "
                      "one with “connect calendar”.",
    "denied": "Not connected: access was not granted. Nothing was stored. To try again, "
              "type “connect calendar” to Rapport.",
    "scope_missing": "Not connected: calendar access was not granted (the calendar box was "
                     "left unticked). Nothing was stored. To try again, type “connect "
                     "calendar” to Rapport and tick the calendar box.",
    "no_refresh_token": "Not connected: the provider did not grant offline access. Try "
                        "“connect calendar” again.",
    "exchange_failed": "Not connected: the provider refused to complete the connection. Try "
                       "“connect calendar” again.",
    "same_account": "Not connected: this account was connected already, and withdrawing "
                    "Rapport's earlier access to it ended this one too (Google keeps one "
                    "grant per account). Type “connect calendar” to Rapport once more: the "
                    "next link connects it.",
}


@dataclass(frozen=True, slots=True)
class _Stored:
    """What storing a new grant did: its refresh token as stored, and the grant it replaced
    (the token that reaches it, sealed, and the account a sync had learnt it reads)."""

    sealed_refresh_token: str
    replaced_token: str | None = None
    replaced_account: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """One connection as the person may see it (no tokens)."""

    provider: str
    status: str
    connected_at: datetime
    last_synced_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Disconnected:
    """What `disconnect` did for one provider."""

    provider: str
    # False when the provider could not be reached or has no revocation endpoint
    # (Microsoft): the person can remove the app's access in their account settings.
    revoked_at_provider: bool
    # False when the provider had stopped accepting the grant already (a paused connection
    # holds no token): there is nothing left to withdraw.
    had_grant: bool = True


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


class CalendarConnections:
    """Connect, complete, disconnect and forget calendar connections."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession],
                 providers: Mapping[str, ProviderConfig], cipher: TokenCipher,
                 http: CalendarHttp, clock: Callable[[], datetime] = utcnow,
                 state_ttl: timedelta = STATE_TTL) -> None:
        self.sessions = sessions
        self.providers = dict(providers)
        self.cipher = cipher
        self.http = http
        self.clock = clock
        self.state_ttl = state_ttl

    @property
    def available(self) -> tuple[str, ...]:
        """Providers a person can connect here ("google", "microsoft")."""
        return tuple(self.providers)

    def _provider(self, name: str) -> ProviderConfig:
        try:
            return self.providers[name]
        except KeyError:
            raise ProviderNotConfigured(name) from None

    async def start(self, user_id: int, workspace_id: int, provider: str, *,
                    owner: UserContext | None = None) -> str:
        """A consent URL for this user, valid once for STATE_TTL; send it privately.

        `owner`: the acting user's context (cached by the process) the ids came from; the
        state is then stored only while they are still that platform user's rows, else
        `StaleUser`. Whoever opens the link connects their calendar to the user the state
        names, and SQLite hands a forgotten user's id to the next user."""
        config = self._provider(provider)
        now = self.clock()
        state = secrets.token_urlsafe(32)
        # RFC 7636: 43-128 characters from the unreserved set; Authlib derives the S256
        # challenge, which alone travels through the browser.
        verifier = generate_token(64)
        async with self.sessions() as session, session.begin():
            if owner is not None:
                await session.run_sync(fresh_context, owner)
            # Expired consents are of no use to anyone: sweep them while we are here.
            await session.execute(delete(OAuthState).where(OAuthState.expires_at < now))
            session.add(OAuthState(state_hash=state_hash(state), workspace_id=workspace_id,
                                   user_id=user_id, provider=provider,
                                   code_verifier_encrypted=self.cipher.encrypt(verifier),
                                   expires_at=now + self.state_ttl, created_at=now))
        client = self.http.client(config)
        async with client:
            url, _ = client.create_authorization_url(
                config.authorize_url, state=state, code_verifier=verifier,
                **config.authorize_params)
        return str(url)

    async def complete(self, provider: str, *, state: str | None, code: str | None,
                       error: str | None = None) -> ConsentResult:
        """Finish a consent from the provider's redirect: the state is consumed whatever
        happens next, so a link works once."""
        now = self.clock()
        if not state:
            return ConsentResult(False, "unknown_state", provider)
        async with self.sessions() as session, session.begin():
            row = (await session.execute(
                delete(OAuthState).where(OAuthState.state_hash == state_hash(state))
                .returning(OAuthState.user_id, OAuthState.workspace_id, OAuthState.provider,
                           OAuthState.code_verifier_encrypted, OAuthState.expires_at))).first()
        if row is None:
            return ConsentResult(False, "unknown_state", provider)
        user_id, workspace_id, state_provider, verifier_encrypted, expires_at = row
        if state_provider != provider or provider not in self.providers:
            return ConsentResult(False, "wrong_provider", provider, user_id)
        if expires_at <= now:
            return ConsentResult(False, "expired", provider, user_id)
        if error or not code:
            return ConsentResult(False, "denied", provider, user_id)
        config = self.providers[provider]
        client = self.http.client(config)
        async with client:
            try:
                token = await client.fetch_token(
                    config.token_url, grant_type="authorization_code", code=code,
                    code_verifier=self.cipher.decrypt(verifier_encrypted))
            except (OAuthError, httpx2.HTTPError) as failure:
                # Logged by kind only: the provider's description can echo request values.
                logger.warning("calendar consent refused by the token endpoint",
                               extra={"provider": provider, "user_id": user_id,
                                      "error": getattr(failure, "error", None)
                                      or type(failure).__name__})
                return ConsentResult(False, "exchange_failed", provider, user_id)
        if not config.grants_calendar(token.get("scope")):
            await self._revoke(config, token.get("refresh_token") or token.get("access_token"))
            return ConsentResult(False, "scope_missing", provider, user_id)
        refresh_token = token.get("refresh_token")
        if not refresh_token:
            return ConsentResult(False, "no_refresh_token", provider, user_id)
        access_token = str(token["access_token"])
        stored = await self._store(user_id, workspace_id, provider, access_token,
                                   str(refresh_token), float(token.get("expires_in") or 3600),
                                   now)
        if stored.replaced_token is not None and not await self._withdraw_replaced(
                config, user_id, stored, access_token, str(refresh_token)):
            return ConsentResult(False, "same_account", provider, user_id)
        logger.info("calendar connected", extra={"provider": provider, "user_id": user_id})
        return ConsentResult(True, "connected", provider, user_id)

    async def _store(self, user_id: int, workspace_id: int, provider: str, access_token: str,
                     refresh_token: str, expires_in: float, now: datetime) -> _Stored:
        """Store a new grant in the user's one row for the provider, and say which grant it
        replaced there (read under the row's lock, so two consents completing at once each
        learn the grant they replace, and none is overwritten unseen)."""
        sealed = self.cipher.encrypt(refresh_token)
        values = dict(
            status="active", refresh_token_encrypted=sealed,
            access_token_encrypted=self.cipher.encrypt(access_token),
            access_token_expires_at=now + timedelta(seconds=expires_in),
            # A new grant starts with a bounded full sync; captured events stay, so meetings
            # logged before a disconnect are not logged twice (the cleared window tells the
            # sync it is a new grant's first round: see capture.forget_unseen).
            sync_cursor=None, window_start=None, window_end=None, next_sync_at=now,
            lease_owner=None, failures=0, last_error=None, paused_notified_at=None,
            # Whoever consented may have signed in with another account: the first sync
            # learns the address again, rather than `settings` naming the old one.
            account_email=None, updated_at=now)
        c = CalendarConnection
        async with self.sessions() as session, session.begin():
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            # One row per user and provider: the first consent inserts it...
            inserted = await session.scalar(
                insert(c).values(workspace_id=workspace_id, user_id=user_id,
                                 provider=provider, connected_at=now, **values)
                .on_conflict_do_nothing(index_elements=[c.user_id, c.provider])
                .returning(c.id))
            if inserted is not None:
                return _Stored(sealed)
            # ...a later one (or the other of two racing) replaces the grant it holds.
            held = (await session.execute(
                select(c.id, c.refresh_token_encrypted, c.access_token_encrypted,
                       c.account_email)
                .where(c.user_id == user_id, c.provider == provider)
                .with_for_update())).one()
            await session.execute(update(c).where(c.id == held.id)
                                  .values(connected_at=now, **values))
        return _Stored(sealed, held.refresh_token_encrypted or held.access_token_encrypted,
                       held.account_email)

    async def _withdraw_replaced(self, config: ProviderConfig, user_id: int, stored: _Stored,
                                 access_token: str, refresh_token: str) -> bool:
        """Revoke the grant a new consent replaced, as `disconnect` would: Rapport keeps no
        access it no longer uses (another account's calendar, say). Best effort: a
        revocation that fails is logged, and the new connection stands. False when the new
        grant went with the old one (the same Google account): the connection is paused."""
        assert stored.replaced_token is not None
        if config.revoke_url is None:
            # Microsoft cannot be told (calendars.REMOVE_ACCESS): its tokens are overwritten.
            return True
        replaced = self.cipher.decrypt(stored.replaced_token)
        if replaced == refresh_token:
            return True
        if config.name == GOOGLE and stored.replaced_account is not None:
            # Google keeps one grant per account and app: a consent of the same account joins
            # the grant held, which revoking the old token would end, new token and all
            # (`disconnect` ends it whole).
            client = self.http.client(config, token={"access_token": access_token,
                                                     "token_type": "Bearer"})
            async with client:
                account = await google_calendar_address(client, config)
            if account == stored.replaced_account:
                return True
        if not await self._revoke(config, replaced):
            logger.warning("replaced calendar grant not revoked",
                           extra={"provider": config.name, "user_id": user_id})
            return True
        if await self._grant_stands(config, refresh_token):
            logger.info("replaced calendar grant revoked",
                        extra={"provider": config.name, "user_id": user_id})
            return True
        # The same account after all, which no sync had learnt yet: its one grant is gone.
        logger.info("calendar grant of the same account ended with the one it replaced",
                    extra={"provider": config.name, "user_id": user_id})
        c = CalendarConnection
        now = self.clock()
        async with self.sessions() as session, session.begin():
            # Only while the row still holds this grant (a consent since has replaced it).
            # The page says so now: no direct message follows (paused_notified_at).
            await session.execute(
                update(c).where(c.user_id == user_id, c.provider == config.name,
                                c.refresh_token_encrypted == stored.sealed_refresh_token)
                .values(status="paused", refresh_token_encrypted=None,
                        access_token_encrypted=None, access_token_expires_at=None,
                        sync_cursor=None, next_sync_at=None, lease_owner=None,
                        last_error="the provider refused the grant", paused_notified_at=now,
                        updated_at=now))
        return False

    async def _grant_stands(self, config: ProviderConfig, refresh_token: str) -> bool:
        """Whether the provider still accepts this refresh token; True when it cannot be
        told (the sync finds out later, pauses the connection and tells the person)."""
        client = self.http.client(config)
        async with client:
            try:
                await client.refresh_token(config.token_url, refresh_token=refresh_token)
            except OAuthError as failure:
                if failure.error == "invalid_grant":
                    return False
            except httpx2.HTTPError:
                pass
        return True

    async def disconnect(self, user_id: int, provider: str | None = None) -> list[Disconnected]:
        """Revoke the grant at the provider and delete the tokens (every provider when
        `provider` is None). Touchpoints already logged stay; upcoming meetings go."""
        c = CalendarConnection
        query = select(c.id, c.provider, c.refresh_token_encrypted, c.access_token_encrypted) \
            .where(c.user_id == user_id, c.status != "revoked")
        if provider is not None:
            query = query.where(c.provider == provider)
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()
        done: list[Disconnected] = []
        for connection_id, name, refresh_encrypted, access_encrypted in rows:
            config = self.providers.get(name)
            encrypted = refresh_encrypted or access_encrypted
            revoked = False
            if config is not None and encrypted is not None:
                revoked = await self._revoke(config, self.cipher.decrypt(encrypted))
            now = self.clock()
            async with self.sessions() as session, session.begin():
                await session.execute(
                    update(c).where(c.id == connection_id)
                    .values(status="revoked", refresh_token_encrypted=None,
                            access_token_encrypted=None, access_token_expires_at=None,
                            sync_cursor=None, next_sync_at=None, lease_owner=None,
                            updated_at=now))
                # Meetings not logged yet would only feed briefs: nothing reads them now.
                await session.execute(
                    delete(CapturedEvent).where(
                        CapturedEvent.connection_id == connection_id,
                        ~exists().where(CapturedAttendee.captured_event_id == CapturedEvent.id,
                                        CapturedAttendee.logged_at.is_not(None))))
                await session.execute(delete(OAuthState).where(OAuthState.user_id == user_id,
                                                               OAuthState.provider == name))
                # People met who are not contacts were kept only to offer adding them.
                await session.execute(delete(MetPerson).where(
                    MetPerson.connection_id == connection_id))
                await session.run_sync(
                    lambda sync: queries.delete_attendee_offers(sync, user_id))
            logger.info("calendar disconnected", extra={"provider": name, "user_id": user_id,
                                                        "revoked": revoked})
            done.append(Disconnected(provider=name, revoked_at_provider=revoked,
                                     had_grant=encrypted is not None))
        return done

    async def release_uninstalled(self, grace: timedelta) -> int:
        """Disconnect (revoking at the provider) the calendars of people whose workspace was
        uninstalled longer than `grace` ago: it is about to be purged, and the scheduler's
        purge, which cannot reach the providers, waits for this (rapport.scheduler.lifecycle,
        GRANTS_WAIT). Returns how many people's calendars were disconnected."""
        c = CalendarConnection
        async with self.sessions() as session:
            users = list(await session.scalars(
                select(c.user_id).distinct().join(Workspace, Workspace.id == c.workspace_id)
                .where(*purge_due(self.clock(), grace),
                       or_(c.refresh_token_encrypted.is_not(None),
                           c.access_token_encrypted.is_not(None)))))
        for user_id in users:
            await self.disconnect(user_id)
        if users:
            logger.info("calendars of uninstalled workspaces disconnected",
                        extra={"users": len(users)})
        return len(users)

    async def forget_user(self, user_id: int) -> None:
        """`forget me`: revoke every grant, then delete connections, captured events and
        pending consents. Call before deleting the user (whose rows cascade anyway)."""
        await self.disconnect(user_id)
        async with self.sessions() as session, session.begin():
            await session.execute(delete(CalendarConnection)
                                  .where(CalendarConnection.user_id == user_id))
            await session.execute(delete(OAuthState).where(OAuthState.user_id == user_id))

    async def export(self, user_id: int) -> dict[str, list[dict[str, object]]]:
        """The user's calendar data for `export` (see export_calendar_data)."""
        async with self.sessions() as session:
            return await export_calendar_data(session, user_id)

    async def status(self, user_id: int) -> list[ConnectionStatus]:
        """The user's connections, for `settings` and `export` (no tokens)."""
        c = CalendarConnection
        async with self.sessions() as session:
            rows = await session.execute(
                select(c.provider, c.status, c.connected_at, c.last_synced_at, c.last_error)
                .where(c.user_id == user_id).order_by(c.provider))
            return [ConnectionStatus(provider=row.provider, status=row.status,
                                     connected_at=row.connected_at,
                                     last_synced_at=row.last_synced_at,
                                     last_error=row.last_error) for row in rows]

    async def _revoke(self, config: ProviderConfig, token: str | None) -> bool:
        """Revoke at the provider when it offers it; True when the provider confirmed."""
        if config.revoke_url is None or not token:
            return False
        client = self.http.client(config)
        async with client:
            try:
                response = await client.revoke_token(config.revoke_url, token=token)
            except httpx2.HTTPError as failure:
                logger.warning("calendar revocation failed",
                               extra={"provider": config.name, "error": type(failure).__name__})
                return False
        # 400 invalid_token: already revoked or expired, which is what we wanted.
        return response.status_code in (200, 400)


async def export_calendar_data(session: AsyncSession, user_id: int
                               ) -> dict[str, list[dict[str, object]]]:
    """The user's calendar data for `export`: connections (never a token or cursor), the
    meetings captured with the contacts met, the people met who are not contacts (kept to
    offer adding them), and pending consents (never the state)."""
    c, e, a, s = CalendarConnection, CapturedEvent, CapturedAttendee, OAuthState
    connections = [dict(row._mapping) for row in await session.execute(
        select(c.id, c.provider, c.status, c.account_email, c.connected_at, c.last_synced_at,
               c.last_error, c.window_start, c.window_end, c.paused_notified_at)
        .where(c.user_id == user_id).order_by(c.id))]
    meetings: dict[int, dict[str, object]] = {}
    for row in await session.execute(
            select(e.id, c.provider, e.event_id, e.series_id, e.instance_start, e.start_at,
                   e.end_at, a.contact_id, a.touchpoint_id, a.logged_at)
            .join(c, c.id == e.connection_id)
            .outerjoin(a, a.captured_event_id == e.id)
            .where(e.user_id == user_id).order_by(e.start_at, e.id, a.contact_id)):
        meeting = meetings.setdefault(row.id, {
            "id": row.id, "provider": row.provider, "event_id": row.event_id,
            "series_id": row.series_id, "instance_start": row.instance_start,
            "start_at": row.start_at, "end_at": row.end_at, "contacts": []})
        if row.contact_id is not None:
            contacts = meeting["contacts"]
            assert isinstance(contacts, list)
            contacts.append({"contact_id": row.contact_id, "touchpoint_id": row.touchpoint_id,
                             "logged_at": row.logged_at})
    pending = [dict(row._mapping) for row in await session.execute(
        select(s.id, s.provider, s.created_at, s.expires_at)
        .where(s.user_id == user_id).order_by(s.id))]
    m = MetPerson
    # One entry per meeting, as the person would list them (a row holds a person's list).
    met = sorted(({"id": row.id, "provider": row.provider, "event_id": meeting.event_id,
                   "series_id": meeting.series_id, "email": row.email,
                   "display_name": row.display_name, "start_at": meeting.start_at,
                   "end_at": meeting.end_at}
                  for row in await session.execute(
                      select(m.id, c.provider, m.email, m.display_name, m.meetings)
                      .join(c, c.id == m.connection_id).where(m.user_id == user_id))
                  for meeting in met_lists.meetings(row.meetings)),
                 key=lambda item: (item["start_at"], item["id"]))
    return {"calendar_connections": connections, "calendar_meetings": list(meetings.values()),
            "calendar_people_met": met, "calendar_consents_pending": pending}
