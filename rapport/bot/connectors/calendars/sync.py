"""The calendar sync job: claim due connections with a lease, read their changes, capture.

Replica-safe like the nudge sweep (`rapport.scheduler.delivery`): connections are claimed with
`FOR UPDATE SKIP LOCKED` on PostgreSQL, or inside SQLite's single writer transaction, by setting
`lease_owner` and moving `next_sync_at` to the lease's end; a crashed replica's claims expire
and another replica takes them. Capturing is idempotent (see `capture`), so even two runs on
one connection log each meeting once.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from rapport.bot.connectors.calendars import capture
from rapport.bot.connectors.calendars.api import (
    GrantRevoked,
    Page,
    ProviderFailed,
    ProviderSession,
    RateLimited,
    Sleep,
    SyncExpired,
    Tokens,
    google_pages,
    graph_owner,
    graph_pages,
)
from rapport.bot.connectors.calendars.oauth import CalendarHttp
from rapport.bot.connectors.calendars.providers import GOOGLE, MICROSOFT, ProviderConfig
from rapport.bot.connectors.cipher import TokenCipher
from rapport.scheduler.planner import utcnow
from rapport.storage import db, queries
from rapport.storage.models import CalendarConnection, User
from rapport.storage.prepared import Prepared
from rapport.storage.uow import Database, Grouped

logger = logging.getLogger(__name__)

# A first sync, and a resync after an expired cursor, reach back this far: enough for "last
# week's meetings", bounded so a resync is a few pages, not a calendar's whole history.
RESYNC_DAYS = 30
# Graph's delta round is fixed to one window: it reaches this far ahead (briefs need the
# coming days), and a new round starts once fewer than ROLL_MARGIN of it remain.
GRAPH_AHEAD = timedelta(days=60)
GRAPH_ROLL_MARGIN = timedelta(days=7)
# A connection the provider keeps failing is retried less and less often, up to this.
MAX_BACKOFF = timedelta(hours=6)
# Telling the person their calendar needs reconnecting is retried this often until it works.
NOTIFY_RETRY = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class PausedConnection:
    """A calendar that stopped syncing because the provider refused the grant."""

    user_id: int
    workspace_id: int
    provider: str
    reason: str


# Returns True once the person was told (a DM sent); False or an exception retries later.
PauseNotifier = Callable[[PausedConnection], Awaitable[bool]]


@dataclass
class SyncReport:
    """What one run did, for logs, metrics, tests and the bench."""

    claimed: int = 0
    synced: int = 0
    full_syncs: int = 0
    resyncs: int = 0
    pages: int = 0
    events: int = 0
    unreadable: int = 0
    logged: int = 0
    moved: int = 0
    removed: int = 0
    rate_limited: int = 0
    paused: int = 0
    failed: int = 0
    notified: int = 0

    def add(self, other: SyncReport) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


@dataclass(frozen=True, slots=True)
class _Claim:
    id: int
    workspace_id: int
    user_id: int
    provider: str
    status: str
    refresh_token_encrypted: str | None
    access_token_encrypted: str | None
    access_token_expires_at: datetime | None
    sync_cursor: str | None
    window_start: datetime | None
    window_end: datetime | None
    failures: int
    tz: str
    account_email: str | None

    @property
    def new_grant(self) -> bool:
        """Whether this is the first round of a grant: a connect, or a reconnect (with the
        same account or another) clears the window, which every round's outcome sets."""
        return self.window_start is None

    @property
    def ref(self) -> capture.ConnectionRef:
        return capture.ConnectionRef(connection_id=self.id, workspace_id=self.workspace_id,
                                     user_id=self.user_id, tz=self.tz)


@dataclass
class _Round:
    """What one round read: its cursor, window, and what the last transaction needs."""

    cursor: str
    window_start: datetime | None
    window_end: datetime | None
    full: bool
    seen: set[str] = field(default_factory=set)
    last_page: Page | None = None
    # The contacts and the owner's address, read with the round's first page of events.
    known: capture.Known | None = None
    # The owner's address when this sync asked the provider for it (not stored yet).
    learnt_owner: str | None = None


@cache
def _outcome_statement(keys: tuple[str, ...]) -> Prepared:
    """A connection's outcome for these columns, while our lease holds; built once."""
    c = CalendarConnection
    return Prepared(update(c).where(c.id == bindparam("b_id"),
                                    c.lease_owner == bindparam("b_owner"))
                    .values({key: bindparam(f"b_{key}") for key in keys}))


class CalendarSync:
    """Syncs every due calendar connection; safe to run on several replicas at once."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession],
                 providers: Mapping[str, ProviderConfig], cipher: TokenCipher,
                 http: CalendarHttp, clock: Callable[[], datetime] = utcnow,
                 owner: str | None = None, interval_seconds: float = 300,
                 lease_seconds: float = 300, batch_size: int = 100, concurrency: int = 8,
                 sleep: Sleep = asyncio.sleep, max_inline_wait: float = 10.0,
                 on_paused: PauseNotifier | None = None) -> None:
        self.sessions = sessions
        # A page's writes as one unit of work (on SQLite: one hop to the database thread),
        # sharing its transaction and commit with the other connections' pages waiting then.
        self.database = Database(sessions)
        self.pages = Grouped(self.database, limit=max(concurrency, 1))
        self.providers = dict(providers)
        self.cipher = cipher
        self.http = http
        self.clock = clock
        self.owner = owner or f"calendar-{uuid.uuid4().hex[:12]}"
        self.interval = timedelta(seconds=interval_seconds)
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.sleep = sleep
        self.max_inline_wait = max_inline_wait
        # The lead's hook to DM "your calendar needs reconnecting" (see PauseNotifier).
        self.on_paused = on_paused
        self._stopping = asyncio.Event()
        # When stop() was first called (time.monotonic()): the shutdown budget counts from it.
        self._stopped_at: float | None = None
        # Connections this sync claimed and has not recorded an outcome for: what shutdown
        # hands back. An idle replica holds none and asks nothing of the database then.
        self._held: set[int] = set()
        # A claim cancelled while in flight may have been committed without our seeing its
        # rows: shutdown then hands back every connection leased to this owner.
        self._claims_unknown = False

    def stop(self) -> None:
        """Claim nothing more; connections in flight finish."""
        if self._stopped_at is None:
            self._stopped_at = time.monotonic()
        self._stopping.set()

    async def run_once(self, now: datetime | None = None) -> SyncReport:
        """Sync every connection due at `now` (default: the clock), batch after batch."""
        report = SyncReport()
        semaphore = asyncio.Semaphore(self.concurrency)

        async def one(claim: _Claim, at: datetime) -> SyncReport:
            async with semaphore:
                synced = await self.sync_claimed(claim, at)
            # Its outcome recorded (or, if that failed, left to the lease, as before).
            self._held.discard(claim.id)
            return synced

        while not self._stopping.is_set():
            at = now or self.clock()
            claims = await self._claim(at)
            if not claims:
                break
            report.claimed += len(claims)
            for result in await asyncio.gather(*(one(claim, at) for claim in claims)):
                report.add(result)
        if report.claimed:
            logger.info("calendar sync finished", extra={
                "claimed": report.claimed, "synced": report.synced, "events": report.events,
                "logged": report.logged, "resyncs": report.resyncs,
                "rate_limited": report.rate_limited, "paused": report.paused,
                "failed": report.failed})
        return report

    async def shutdown(self, grace_seconds: float) -> int:
        """Stop claiming and hand back the connections this sync holds; returns how many.

        Holding none, it asks nothing of the database, which may be down. The release gets
        what is left of `grace_seconds` counted from the first stop() (at least a connect's
        time); one that fails or runs out is a warning, not an error: the claims' leases
        expire and another replica (or the next start) takes them then, as after a crash.
        """
        self.stop()
        if not (self._held or self._claims_unknown):
            return 0
        assert self._stopped_at is not None  # stop() set it
        left = self._stopped_at + grace_seconds - time.monotonic()
        held = None if self._claims_unknown else sorted(self._held)
        try:
            async with asyncio.timeout(max(left, db.CONNECT_TIMEOUT_SECONDS)):
                return await self.release_claims(held)
        except (SQLAlchemyError, OSError) as failure:  # TimeoutError is an OSError
            logger.warning("calendar claims not released at shutdown; their leases expire",
                           extra={"error": type(failure).__name__, "count": len(self._held)})
            return 0

    async def release_claims(self, connection_ids: Sequence[int] | None = None) -> int:
        """Hand back these claimed connections (default: every one leased to this owner) at
        once, instead of after the lease; only while the lease is still ours."""
        c = CalendarConnection

        def release(session: Session) -> int:
            statement = update(c).where(c.lease_owner == self.owner)
            if connection_ids is not None:
                statement = statement.where(c.id.in_(connection_ids))
            result = session.execute(statement.values(lease_owner=None,
                                                      next_sync_at=self.clock())
                                     .execution_options(synchronize_session=False))
            return int(getattr(result, "rowcount", 0) or 0)

        released = await self.database.run(release)
        if connection_ids is None:
            self._held.clear()
            self._claims_unknown = False
        else:
            self._held.difference_update(connection_ids)
        return released

    # ------------------------------------------------------------------------ claiming
    async def _claim(self, now: datetime) -> list[_Claim]:
        """Take up to a batch of due connections (one unit of work, like a page)."""
        c = CalendarConnection

        def claim(session: Session) -> list[_Claim]:
            query = (select(c.id, c.workspace_id, c.user_id, c.provider, c.status,
                            c.refresh_token_encrypted, c.access_token_encrypted,
                            c.access_token_expires_at, c.sync_cursor, c.window_start,
                            c.window_end, c.failures, User.tz, c.account_email)
                     .join(User, User.id == c.user_id)
                     .where(c.next_sync_at <= now).order_by(c.next_sync_at)
                     .limit(self.batch_size))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(of=c, skip_locked=True)
            claims = [_Claim(*tuple(row)) for row in session.execute(query)]
            if claims:
                # On SQLite this runs in the same BEGIN IMMEDIATE transaction as the SELECT,
                # and the condition repeats the SELECT's: no other writer can slip between.
                session.execute(
                    update(c).where(c.id.in_([claim.id for claim in claims]),
                                    c.next_sync_at <= now)
                    .values(lease_owner=self.owner, next_sync_at=now + self.lease)
                    .execution_options(synchronize_session=False))
            return claims

        try:
            claims = await self.database.run(claim)
        except asyncio.CancelledError:
            self._claims_unknown = True
            raise
        self._held.update(claimed.id for claimed in claims)
        return claims

    async def _finish(self, claim: _Claim, **values: Any) -> None:
        """Record a connection's outcome, only while our lease holds."""
        c = CalendarConnection
        await self.database.run(lambda session: session.execute(
            update(c).where(c.id == claim.id, c.lease_owner == self.owner)
            .values(lease_owner=None, updated_at=self.clock(), **values)
            .execution_options(synchronize_session=False)))

    # ------------------------------------------------------------------------- syncing
    async def sync_claimed(self, claim: _Claim, now: datetime) -> SyncReport:
        """Sync one claimed connection and record the outcome; never raises."""
        report = SyncReport()
        try:
            if claim.status == "paused":
                report.notified += await self._notify(claim, now)
                return report
            await self._sync(claim, now, report)
        except Exception as error:  # one broken connection must not stop the others
            logger.exception("calendar sync failed", extra={
                "connection_id": claim.id, "provider": claim.provider,
                "error": type(error).__name__})
            report.failed += 1
            await self._failed(claim, now, type(error).__name__)
        return report

    async def _sync(self, claim: _Claim, now: datetime, report: SyncReport) -> None:
        provider = self.providers.get(claim.provider)
        if provider is None or claim.refresh_token_encrypted is None:
            # Not configured on this replica (or no token): look again later.
            await self._finish(claim, next_sync_at=now + self.interval)
            return
        tokens = Tokens(
            access_token=(self.cipher.decrypt(claim.access_token_encrypted)
                          if claim.access_token_encrypted else None),
            sealed_refresh_token=claim.refresh_token_encrypted,
            expires_at=claim.access_token_expires_at, open_sealed=self.cipher.decrypt)
        # No refresh token for Authlib: it never refreshes on its own here (the token has no
        # expiry for it to check); ProviderSession.refresh hands it over when one is due.
        client = self.http.client(provider, token={
            "access_token": tokens.access_token or "", "token_type": "Bearer"})
        session = ProviderSession(provider=provider, client=client, tokens=tokens,
                                  clock=self.clock, sleep=self.sleep,
                                  max_inline_wait=self.max_inline_wait)
        async with client:
            try:
                owner = None
                if claim.provider == MICROSOFT and claim.account_email is None:
                    # Graph marks the owner only as the organiser of their own meetings:
                    # asked once per grant, before any page is read (see graph_owner).
                    owner = await graph_owner(session)
                try:
                    outcome = await self._round(session, claim, now, report, full=False,
                                                owner=owner)
                except SyncExpired:
                    report.resyncs += 1
                    outcome = await self._round(session, claim, now, report, full=True,
                                                owner=owner)
            except SyncExpired:
                await self._failed(claim, now, "sync expired during a full sync", tokens)
                report.failed += 1
                return
            except RateLimited as limited:
                report.rate_limited += 1
                # Wait at least what the provider asked; the cursor stays where it was.
                await self._finish(claim, next_sync_at=now + timedelta(
                    seconds=max(limited.retry_after, 1.0)), last_error="rate limited",
                    **self._token_values(tokens))
                return
            except GrantRevoked:
                report.paused += 1
                await self._pause(claim, now)
                report.notified += await self._notify(claim, now)
                return
            except ProviderFailed as failure:
                report.failed += 1
                await self._failed(claim, now, str(failure), tokens)
                return
        report.synced += 1
        await self._commit_round(claim, outcome, now, report, tokens)

    async def _round(self, session: ProviderSession, claim: _Claim, now: datetime,
                     report: SyncReport, *, full: bool, owner: str | None = None) -> _Round:
        """Read one round of changes (all its pages). Every page but the last is captured as
        it arrives; the last is left to `_commit_round`, which records it with the outcome."""
        google = claim.provider == GOOGLE
        cursor = None if full else claim.sync_cursor
        window_start = claim.window_start or now - timedelta(days=RESYNC_DAYS)
        window_end = claim.window_end
        if not google and cursor and window_end is not None and \
                window_end - GRAPH_ROLL_MARGIN <= now:
            cursor = None  # Graph's window is running out: start a round on a new one
        if cursor is None:
            report.full_syncs += 1
            window_start = now - timedelta(days=RESYNC_DAYS)
            window_end = None if google else now + GRAPH_AHEAD
        pages = google_pages(session, cursor=cursor, window_start=window_start) if google \
            else graph_pages(session, cursor=cursor, window_start=window_start,
                             window_end=window_end or now + GRAPH_AHEAD)
        outcome = _Round(cursor="", window_start=window_start, window_end=window_end,
                         full=cursor is None, learnt_owner=owner)
        async for page in pages:
            report.pages += 1
            report.unreadable += page.unreadable
            if outcome.full:
                outcome.seen.update(event.event_id for event in page.events)
            if page.cursor:
                outcome.cursor, outcome.last_page = page.cursor, page
            elif page.events:
                await self._capture(claim, outcome, page, now, report)
        if not outcome.cursor:
            raise ProviderFailed("a round ended without a cursor")
        return outcome

    async def _capture(self, claim: _Claim, outcome: _Round, page: Page, now: datetime,
                       report: SyncReport) -> None:
        """Apply one page of a round that has more pages, in a savepoint of its own (the
        transaction and its commit are shared with the other pages waiting then)."""
        def work(sync: Any) -> None:
            self._apply(sync, claim, outcome, page, now, report)
            if outcome.known is not None:
                capture.save_account_email(sync, claim.ref, outcome.known)

        await self.pages.run(work)
        if outcome.known is not None:
            outcome.known.unsaved_account_email = None  # committed with the page

    def _apply(self, sync: Any, claim: _Claim, outcome: _Round, page: Page, now: datetime,
               report: SyncReport, held: list[capture.NewAttendee] | None = None) -> None:
        if outcome.known is None:  # the user's contact emails, once per round
            outcome.known = capture.Known(capture.contact_emails(sync, claim.user_id),
                                          claim.account_email or outcome.learnt_owner,
                                          queries.forgotten_addresses(sync, claim.user_id))
            # Stored with the first page, as an address a page marks is.
            outcome.known.unsaved_account_email = outcome.learnt_owner
        stats = capture.apply_events(sync, claim.ref, page.events, outcome.known, now, held)
        report.events += stats.events
        report.moved += stats.moved
        report.removed += stats.removed

    async def _commit_round(self, claim: _Claim, outcome: _Round, now: datetime,
                            report: SyncReport, tokens: Tokens) -> None:
        """The round's last page, what a full sync no longer lists, the meetings that have
        ended, and the new cursor and tokens: one savepoint, so all or none of it, in a
        transaction shared with the other connections' pages waiting then (commits, not
        queries, bound a sync on PostgreSQL; on SQLite a commit costs as much as a page)."""
        values = dict(sync_cursor=outcome.cursor, window_start=outcome.window_start,
                      window_end=outcome.window_end, next_sync_at=now + self.interval,
                      last_synced_at=now, failures=0, last_error=None, lease_owner=None,
                      updated_at=self.clock(), **self._token_values(tokens))

        def work(sync: Any) -> None:
            # The last page's new attendee rows are written by `log_ended` below, those of
            # meetings that have ended with their touchpoints.
            held: list[capture.NewAttendee] = []
            if outcome.last_page is not None and outcome.last_page.events:
                self._apply(sync, claim, outcome, outcome.last_page, now, report, held)
            known = outcome.known  # the round's first page to apply sets it
            if outcome.full:
                report.removed += capture.forget_unseen(
                    sync, claim.id, outcome.seen, outcome.window_start or now,
                    outcome.window_end, known, new_grant=claim.new_grant, now=now)
            capture.promote_met(sync, claim.ref, known.contacts if known else None, now,
                                held_before=known.met_before if known else None)
            report.logged += capture.log_ended(sync, claim.ref, now, held)
            recorded = values
            if known is not None and known.unsaved_account_email is not None:
                # The owner's address the last page marked, in the outcome's statement.
                recorded = {**values, "account_email": known.unsaved_account_email}
            elif known is None and outcome.learnt_owner is not None:
                recorded = {**values, "account_email": outcome.learnt_owner}
            if outcome.learnt_owner is not None:
                # Held as someone met while the address was unknown (Graph refused it to
                # an earlier sync): the owner is never offered.
                capture.forget_met(sync, claim.id, outcome.learnt_owner)
            # Only while our lease holds: a replica that took over records its own outcome.
            _outcome_statement(tuple(recorded)).execute(
                sync, b_id=claim.id, b_owner=self.owner,
                **{f"b_{key}": value for key, value in recorded.items()})

        await self.pages.run(work)

    # ----------------------------------------------------------------------- outcomes
    def _token_values(self, tokens: Tokens) -> dict[str, Any]:
        if not tokens.changed or tokens.access_token is None:
            return {}
        return {"access_token_encrypted": self.cipher.encrypt(tokens.access_token),
                "refresh_token_encrypted": self.cipher.encrypt(tokens.refresh_token),
                "access_token_expires_at": tokens.expires_at}

    async def _failed(self, claim: _Claim, now: datetime, error: str,
                      tokens: Tokens | None = None) -> None:
        failures = claim.failures + 1
        delay = min(self.interval * 2 ** min(failures - 1, 10), MAX_BACKOFF)
        await self._finish(claim, failures=failures, last_error=error[:200],
                           next_sync_at=now + delay,
                           **(self._token_values(tokens) if tokens else {}))

    async def _pause(self, claim: _Claim, now: datetime) -> None:
        # The grant is dead: its tokens are useless, so none is kept. The next job run (or the
        # notify below) tells the person once; reconnecting starts afresh.
        await self._finish(claim, status="paused", refresh_token_encrypted=None,
                           access_token_encrypted=None, access_token_expires_at=None,
                           sync_cursor=None, last_error="the provider refused the grant",
                           paused_notified_at=None, next_sync_at=now)
        logger.warning("calendar connection paused: grant refused",
                       extra={"connection_id": claim.id, "provider": claim.provider})

    async def _notify(self, claim: _Claim, now: datetime) -> int:
        """Tell the person once that their calendar stopped; returns 1 when told."""
        c = CalendarConnection
        # Take the notice first, so two replicas never both send it.
        taken = await self.database.run(lambda session: session.execute(
            update(c).where(c.id == claim.id, c.status == "paused",
                            c.paused_notified_at.is_(None))
            .values(paused_notified_at=now, next_sync_at=None, lease_owner=None)
            .returning(c.id).execution_options(synchronize_session=False)).first())
        if taken is None:
            return 0
        told = False
        if self.on_paused is not None:
            try:
                told = await self.on_paused(PausedConnection(
                    user_id=claim.user_id, workspace_id=claim.workspace_id,
                    provider=claim.provider, reason="grant_refused"))
            except Exception as error:  # a failed DM is retried, not lost
                logger.warning("telling about a paused calendar failed",
                               extra={"connection_id": claim.id,
                                      "error": type(error).__name__})
        if not told:
            await self.database.run(lambda session: session.execute(
                update(c).where(c.id == claim.id, c.status == "paused")
                .values(paused_notified_at=None, next_sync_at=now + NOTIFY_RETRY)
                .execution_options(synchronize_session=False)))
            return 0
        return 1
