"""The sweep: plan due nudges (planning.py), claim them with a lease, deliver, record.

Delivery guarantee: a nudge is never lost (it stays in the database until a platform accepted
it or it failed permanently), and is delivered once, except that a replica dying between the
platform's OK and the commit of the result lets the lease expire and another replica repeat
the messages of the wave it was sending (at most RECORD_EVERY).

Each step is one unit of work (`rapport.storage.uow`): claiming a batch (select, decide,
mark claimed, count the messages in their users' daily counts, defer the rest, read what the
messages say), recording a wave, renewing leases. The first claim shares the unit that
finishes planning.

The daily count is taken when a message is claimed, not when it is recorded: a batch's users
are written once in its claim instead of a few in every wave, and a wave's transaction writes
only its nudges. A message that does not go out gives its place back when its wave is
recorded (or when shutdown releases it). A replica killed holding claims leaves them counted:
its users get fewer messages that day than their cap allows, never more.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Text, bindparam, case, literal_column, select, text, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from rapport.scheduler import planner
from rapport.scheduler.items import items_of_rows
from rapport.scheduler.messenger import (
    DeliveryResult,
    Messenger,
    NudgeItem,
    OutgoingMessage,
    Recipient,
    by_person,
)
from rapport.scheduler.planning import NudgePlanner
from rapport.storage import db, queries
from rapport.storage.models import ACTIVE_NUDGE_STATUSES, Nudge, NudgeStatus, User, Workspace
from rapport.storage.prepared import Prepared, PreparedMany, in_json_list
from rapport.storage.types import UTCDateTime
from rapport.storage.uow import Database

logger = logging.getLogger(__name__)

DIGEST_MAX_ITEMS = 10
RECORD_ATTEMPTS = 5
RECORD_EVERY = 16
MAX_ATTEMPTS = 12
# Nudges of users we cannot reach now (inactive) are looked at again this much later, so they
# leave the sweep's index range instead of being rescanned. Not those of a platform this
# process has no messenger for: another process may (a `rapport chat` started beside a
# headless `rapport serve`), and putting them off would hold them back from it; the sweep
# reads only its own platforms' nudges instead.
RECHECK_UNREACHABLE = timedelta(hours=1)
# Leftovers after a digest wait at least this long: catching up is one message, not a flood.
DIGEST_SPACING = timedelta(hours=3)


@dataclass
class SweepReport:
    """What one sweep did, for logs, metrics and tests."""

    planned: int = 0
    claimed: int = 0
    sent: int = 0
    messages: int = 0
    retried: int = 0
    failed: int = 0
    gone_users: int = 0
    deferred: int = 0
    sent_by_platform: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failed_by_platform: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def did_something(self) -> bool:
        """Whether the sweep planned, claimed, sent, retried, failed or deferred anything."""
        return any((self.planned, self.claimed, self.sent, self.messages, self.retried,
                    self.failed, self.gone_users, self.deferred))

    def add(self, other: SweepReport) -> None:
        for name in ("planned", "claimed", "sent", "messages", "retried", "failed",
                     "gone_users", "deferred"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for platform, count in other.sent_by_platform.items():
            self.sent_by_platform[platform] += count
        for platform, count in other.failed_by_platform.items():
            self.failed_by_platform[platform] += count


# A deliverable nudge as the claim decides on it: (due moment, nudge id, status). A plain
# tuple, which sorts oldest first (ids break ties): a batch makes one per nudge, and a frozen
# dataclass cost several times as much to make.
_DueNudge = tuple[datetime, int, str]


@dataclass(slots=True)
class _PlannedMessage:
    key: str
    recipient: Recipient
    nudge_ids: list[int]
    digest: bool


# The sweep's statements are built once and compiled once per dialect; on a SQLite file they
# run on the driver (rapport/storage/prepared.py): building them per batch or wave cost more
# than SQLite's work.

# What may go out now, with everything a decision and a message need, in one read: the
# nudge, its user's delivery settings and address, and the wording's columns. The active
# statuses are spelled as literals so SQLite sees the partial index's own condition. Only the
# platforms this process has a messenger for (`platforms`): the others' nudges are neither
# claimed nor put off here, and take no place in a batch.
_DELIVERABLE = queries.with_nudge_item_columns(
    select(Nudge.user_id, Nudge.status, User.window_start_minute, User.window_end_minute,
           User.working_days, User.daily_cap, User.paused_until, User.digest, User.sent_day,
           User.sent_day_count, User.active, User.external_id, User.display_name,
           Workspace.id, Workspace.external_id, Workspace.platform, Workspace.active)
    .select_from(Nudge)
    .join(User, User.id == Nudge.user_id)
    .join(Workspace, Workspace.id == Nudge.workspace_id)
    .where(Nudge.status.in_([literal_column(f"'{status.value}'")
                             for status in ACTIVE_NUDGE_STATUSES]),
           Nudge.deliver_after <= bindparam("now", type_=UTCDateTime),
           in_json_list(Workspace.platform, "platforms"))
    .order_by(Nudge.deliver_after, Nudge.id)
    .limit(bindparam("limit")))
# The columns before the wording's (queries.NUDGE_ITEM_COLUMNS), and where the wording's
# nudge id, due moment and user zone are in a row.
_DECISION_COLUMNS = len(_DELIVERABLE.selected_columns) - len(queries.NUDGE_ITEM_COLUMNS)
_NUDGE_ID, _DUE_AT, _TZ = (
    _DECISION_COLUMNS + next(index for index, column in enumerate(queries.NUDGE_ITEM_COLUMNS)
                             if column is wanted)
    for wanted in (Nudge.id, Nudge.due_at, User.tz))
_CANDIDATES = Prepared(_DELIVERABLE)
# PostgreSQL: replicas skip each other's rows instead of waiting for them.
_CANDIDATES_LOCKED = Prepared(_DELIVERABLE.with_for_update(of=Nudge, skip_locked=True))
# The whole batch in one statement: one round trip on PostgreSQL.
_CLAIM = Prepared(update(Nudge).where(in_json_list(Nudge.id, "b_ids")).values(
    status=NudgeStatus.CLAIMED.value, lease_owner=bindparam("b_owner"),
    deliver_after=bindparam("b_until", type_=UTCDateTime), attempts=Nudge.attempts + 1))
# A wave's sent nudges, each only while we still hold its lease. Each row is a lookup in the
# primary key; one UPDATE ... FROM the wave's JSON rows was tried, and PostgreSQL planned it
# as a hash join over a scan of the whole nudges table (docs/performance.md, session 9).
_MARK_SENT = PreparedMany(
    update(Nudge).where(Nudge.id == bindparam("b_id"), Nudge.lease_owner == bindparam("b_owner"))
    .values(status=NudgeStatus.SENT.value, delivered_at=bindparam("b_now"),
            delivery_ref=bindparam("b_ref"), message_key=bindparam("b_key"), lease_owner=None,
            last_error=None),
    ("b_id", "b_owner", "b_now", "b_ref", "b_key"))
# A claim's messages in their users' daily counts, in one statement whatever the batch's
# users (one statement per user cost a round trip each on PostgreSQL): add to today's count,
# or start a new day's count. The rows are one JSON array of {"id", "day", "count"}.
_COUNT_SENT = {
    "sqlite": Prepared(text(
        "UPDATE users SET sent_day_count = CASE WHEN users.sent_day = counted.value ->> 'day' "
        "THEN users.sent_day_count + (counted.value ->> 'count') "
        "ELSE counted.value ->> 'count' END, sent_day = counted.value ->> 'day' "
        "FROM json_each(:rows) AS counted WHERE users.id = counted.value ->> 'id'")
        .bindparams(bindparam("rows", type_=Text()))),
    "postgresql": Prepared(text(
        "UPDATE users SET sent_day_count = CASE WHEN users.sent_day = counted.day "
        "THEN users.sent_day_count + counted.count ELSE counted.count END, "
        "sent_day = counted.day "
        "FROM jsonb_to_recordset(CAST(:rows AS JSONB)) "
        "AS counted(id INTEGER, day DATE, count SMALLINT) WHERE users.id = counted.id")
        .bindparams(bindparam("rows", type_=Text()))),
}
# A message the claim counted that did not go out (the platform refused it, asked for a retry,
# or the sweep shut down before sending it) gives its place in the day back.
_UNCOUNT_SENT = PreparedMany(
    update(User).where(User.id == bindparam("b_id"), User.sent_day == bindparam("b_day"))
    .values(sent_day_count=case(
        (User.sent_day_count > bindparam("b_count"), User.sent_day_count - bindparam("b_count")),
        else_=0)),
    ("b_id", "b_day", "b_count"))
# `b_floor`: the part of the wait the user's delivery settings do not decide (Nudge.not_before),
# or None when only their delivery moments hold the nudge.
_DEFER = PreparedMany(
    update(Nudge).where(Nudge.id == bindparam("b_id"))
    .values(deliver_after=bindparam("b_after"), status=bindparam("b_status"), lease_owner=None,
            not_before=bindparam("b_floor", type_=UTCDateTime)),
    ("b_id", "b_after", "b_status", "b_floor"))


def _day_counts(messages: Sequence[_PlannedMessage], now: datetime) -> list[dict[str, Any]]:
    """The messages per user on the user's local day at `now`, as `_UNCOUNT_SENT` rows."""
    counts: dict[int, dict[str, Any]] = {}
    days = planner.LocalDates(now)
    for message in messages:
        recipient = message.recipient
        row = counts.get(recipient.user_id)
        if row is None:
            row = counts[recipient.user_id] = {"b_id": recipient.user_id, "b_count": 0,
                                               "b_day": days[recipient.tz]}
        row["b_count"] += 1
    return list(counts.values())


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff for failed deliveries: 30 s, 60 s, ... capped at one hour."""
    return float(min(30 * 2 ** max(attempts - 1, 0), 3600))


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@dataclass
class _Claimed:
    """What one claim decided: the messages to send now, their wording, and the counts."""

    messages: list[_PlannedMessage]
    items: dict[int, NudgeItem]
    claimed: int
    deferred: int
    # The read found fewer candidates than a batch: nothing else was deliverable then.
    exhausted: bool


class Sweeper:
    """Plans, claims and delivers due nudges. Safe to run on several replicas at once."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession],
                 messengers: Mapping[str, Messenger], owner: str | None = None,
                 lease_seconds: float = 300, batch_size: int = 500, concurrency: int = 8,
                 clock: Callable[[], datetime] = planner.utcnow) -> None:
        self.sessions = sessions
        self.db = Database(sessions)
        self.messengers = dict(messengers)
        self.owner = owner or f"sweeper-{uuid.uuid4().hex[:12]}"
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.clock = clock
        self.planner = NudgePlanner(self.db, batch_size=batch_size)
        self._stopping = asyncio.Event()
        # The tasks running sweep(), so shutdown() can wait for them to record what they sent.
        self._sweeps: set[asyncio.Task[Any]] = set()
        # Message keys: unique per owner, no random number per message.
        self._message_numbers = itertools.count(1)
        # Nudges this sweeper claimed and has neither recorded nor released: what shutdown
        # hands back. An idle replica holds none and asks nothing of the database then.
        self._held: set[int] = set()

    def stop(self) -> None:
        """Stop claiming new work; deliveries in flight finish and are recorded."""
        self._stopping.set()

    async def shutdown(self, grace_seconds: float) -> int:
        """Stop claiming, give running sweeps `grace_seconds` to record, release what is left.

        Returns how many claimed nudges went back to planned. A sweep still running after the
        grace period is cancelled: a message it had in flight may then be repeated once.
        Holding no claims, it asks nothing of the database, which may be down. The release
        gets what is left of `grace_seconds` (at least a connect's time); one that fails or
        runs out is a warning, not an error: the claims' leases expire, and another replica
        (or the next start) takes them then, as after a crash.
        """
        self.stop()
        loop = asyncio.get_running_loop()
        budget_ends = loop.time() + grace_seconds
        running = [task for task in self._sweeps if not task.done()]
        cancelled = False
        if running:
            _, late = await asyncio.wait(running, timeout=grace_seconds)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=2.0)
                logger.warning("sweep cancelled at shutdown", extra={"tasks": len(late)})
                cancelled = True
        if not (self._held or cancelled):
            return 0
        # A cancelled sweep may have claimed a batch it never saw: all of this owner's claims.
        held = None if cancelled else sorted(self._held)
        try:
            async with asyncio.timeout(max(budget_ends - loop.time(),
                                           db.CONNECT_TIMEOUT_SECONDS)):
                return await self.release_claims(held)
        except (SQLAlchemyError, OSError) as failure:  # TimeoutError is an OSError
            logger.warning("claims not released at shutdown; their leases expire",
                           extra={"error": type(failure).__name__, "count": len(self._held)})
            return 0

    async def release_claims(self, nudge_ids: Sequence[int] | None = None, *,
                             uncount: Sequence[Mapping[str, Any]] = ()) -> int:
        """Put this owner's claimed, unsent nudges (or `nudge_ids` only) back to planned now;
        `uncount` takes their messages out of their users' daily counts (`_day_counts`)."""
        statement = (update(Nudge)
                     .where(Nudge.lease_owner == self.owner,
                            Nudge.status == NudgeStatus.CLAIMED)
                     .values(status=NudgeStatus.PLANNED.value, lease_owner=None,
                             deliver_after=self.clock(),
                             # The claim counted an attempt that never happened.
                             attempts=case((Nudge.attempts > 0, Nudge.attempts - 1), else_=0))
                     .execution_options(synchronize_session=False))
        if nudge_ids is not None:
            statement = statement.where(Nudge.id.in_(list(nudge_ids)))

        def release(session: Session) -> int:
            changed = int(session.connection().execute(statement).rowcount)
            _UNCOUNT_SENT.executemany(session, uncount)
            return changed

        released = await self.db.run(release)
        if nudge_ids is None:
            self._held.clear()
        else:
            self._held.difference_update(nudge_ids)
        if released:
            logger.warning("claims released", extra={"count": released})
        return released

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def sweep(self, now: datetime | None = None) -> SweepReport:
        """One full pass: plan everything due, then deliver everything deliverable."""
        fixed_now = now
        now = now or self.clock()
        report = SweepReport()
        task = asyncio.current_task()
        if task is not None:
            self._sweeps.add(task)
        try:
            # The first batch is claimed in the unit of work that finishes planning: the
            # nudges planned then are claimed in the same transaction (one commit, one hop).
            batch_now = now
            report.planned, claimed = await self.planner.plan_then(
                now, lambda: self.stopping,
                lambda session: None if self.stopping else self._claim(session, batch_now))
            while claimed is not None:
                batch = await self._deliver(claimed, batch_now)
                report.add(batch)
                # A short batch was all there was: no read of an empty range to find out.
                if self.stopping or claimed.exhausted or batch.claimed + batch.deferred == 0:
                    break
                # A paced sweep can run for many minutes: each batch's claims and leases
                # count from when that batch starts, not from when the sweep started.
                batch_now = fixed_now or self.clock()
                claimed = await self.db.run(functools.partial(self._claim, now=batch_now))
        finally:
            if task is not None:
                self._sweeps.discard(task)
        # An idle sweep runs every minute on every replica: a line each would bury the rest.
        logger.log(logging.INFO if report.did_something else logging.DEBUG, "sweep finished",
                   extra={"planned": report.planned, "sent": report.sent,
                          "messages": report.messages, "retried": report.retried,
                          "failed": report.failed})
        return report

    async def plan(self, now: datetime) -> int:
        """Create the nudges that are due at `now`; idempotent across runs and replicas."""
        return await self.planner.plan(now, lambda: self.stopping)

    # ----------------------------------------------------------------- delivery
    def _claim(self, session: Session, now: datetime) -> _Claimed:
        """One batch: select what may go out, decide messages and deferrals, mark the chosen
        nudges claimed by us, and word them; all in one transaction."""
        candidates_query = _CANDIDATES_LOCKED if _is_postgresql(session) else _CANDIDATES
        rows = candidates_query.rows(session, now=now, limit=self.batch_size,
                                     platforms=sorted(self.messengers))
        messages, deferrals = self._plan_messages(self._addressees(rows), now)
        claimed_ids = {n for message in messages for n in message.nudge_ids}
        if claimed_ids:
            _CLAIM.execute(session, b_ids=list(claimed_ids), b_owner=self.owner,
                           b_until=now + self.lease)
            counted = [{"id": row["b_id"], "day": row["b_day"].isoformat(),
                        "count": row["b_count"]} for row in _day_counts(messages, now)]
            _COUNT_SENT[session.get_bind().dialect.name].execute(
                session, rows=json.dumps(counted, separators=(",", ":")))
        _DEFER.executemany(session, deferrals)
        items = items_of_rows(session, [row[_DECISION_COLUMNS:] for row in rows
                                        if row[_NUDGE_ID] in claimed_ids], now)
        return _Claimed(messages, items, len(claimed_ids), len(deferrals),
                        exhausted=len(rows) < self.batch_size)

    async def deliver_batch(self, now: datetime) -> SweepReport:
        """Claim one batch of deliverable nudges, deliver them, and record the outcome."""
        claimed = await self.db.run(lambda session: self._claim(session, now))
        return await self._deliver(claimed, now)

    async def _deliver(self, claimed: _Claimed, now: datetime) -> SweepReport:
        """Deliver what one claim chose, wave by wave, recording each wave's outcome."""
        report = SweepReport()
        report.claimed, report.deferred = claimed.claimed, claimed.deferred
        messages = claimed.messages
        if not messages:
            return report
        self._held.update(n for message in messages for n in message.nudge_ids)
        semaphore = asyncio.Semaphore(self.concurrency)

        async def send(message: _PlannedMessage) -> tuple[_PlannedMessage, DeliveryResult]:
            async with semaphore:
                return message, await self._send(message, claimed.items)

        # Deliver and record in small waves: a replica killed mid-batch can then repeat only
        # the messages of its current wave (at most RECORD_EVERY), never the whole batch.
        lease_until = now + self.lease
        for first in range(0, len(messages), RECORD_EVERY):
            wave = messages[first:first + RECORD_EVERY]
            results = await asyncio.gather(*(send(message) for message in wave))
            await self._record([m for m, _ in results], [r for _, r in results], now, report)
            self._held.difference_update(n for message in wave for n in message.nudge_ids)
            rest = messages[first + RECORD_EVERY:]
            if rest and self.stopping:
                # Shutting down: hand the unsent rest back now instead of after the lease,
                # and their places in the daily counts with them.
                await self.release_claims([n for message in rest for n in message.nudge_ids],
                                          uncount=_day_counts(rest, now))
                break
            if rest:
                lease_until = await self._renew_leases(lease_until)
        return report

    async def _renew_leases(self, lease_until: datetime) -> datetime:
        """Extend our claims once a third of the lease is used; returns the new expiry."""
        # A slow batch (Slack pacing us) must not outlive its lease: another replica would
        # take the unsent rest over and deliver it a second time. A fast batch needs no
        # renewal, and skipping it saves a write transaction per wave.
        current = self.clock()
        if current < lease_until - self.lease * 2 / 3:
            return lease_until
        await self.db.run(lambda session: session.connection().execute(
            update(Nudge).where(Nudge.lease_owner == self.owner,
                                Nudge.status == NudgeStatus.CLAIMED)
            .values(deliver_after=current + self.lease)))
        return current + self.lease

    @staticmethod
    def _addressees(rows: Sequence[Sequence[Any]]
                    ) -> dict[int, tuple[Sequence[Any], list[_DueNudge]]]:
        """The batch's rows by user, users in the order of their first row: the user's first
        row (their settings and address) and their deliverable nudges."""
        by_user: dict[int, tuple[Sequence[Any], list[_DueNudge]]] = {}
        for row in rows:
            found = by_user.get(row[0])
            if found is None:
                found = by_user[row[0]] = (row, [])
            found[1].append((row[_DUE_AT], row[_NUDGE_ID], row[1]))
        return by_user

    def _plan_messages(self, addressees: Mapping[int, tuple[Sequence[Any], list[_DueNudge]]],
                       now: datetime) -> tuple[list[_PlannedMessage], list[dict[str, Any]]]:
        messages: list[_PlannedMessage] = []
        deferrals: list[dict[str, Any]] = []
        # Many users share their settings and today's count: the calendar arithmetic (time
        # zones, windows) is done once per distinct combination in a batch, not per user,
        # and so is making the planner's settings object.
        settings: dict[tuple[Any, ...], planner.DeliveryPrefs] = {}
        timings: dict[tuple[planner.DeliveryPrefs, date | None, int],
                      tuple[datetime | None, int]] = {}
        planned, snoozed = NudgeStatus.PLANNED.value, NudgeStatus.SNOOZED.value

        def defer(batch: Sequence[_DueNudge], until: datetime,
                  floor: datetime | None = None) -> None:
            """Put `batch` off to `until`; `floor`: how much of that wait is not the user's
            delivery moments (a settings change re-plans it no earlier)."""
            for _due_at, nudge_id, status in batch:
                deferrals.append({"b_id": nudge_id, "b_after": until, "b_floor": floor,
                                  "b_status": snoozed if status == snoozed else planned})

        for user_id, (row, due) in addressees.items():
            (start, end, days, cap, paused, digest_wanted, sent_day, sent_count, user_active,
             user_external, display_name, workspace_id, workspace_external, platform,
             workspace_active) = row[2:_DECISION_COLUMNS]
            if self.stopping:
                continue  # left as they are, for the next sweep here or elsewhere
            if not (user_active and workspace_active):
                recheck = now + RECHECK_UNREACHABLE
                # A user gone unreachable waits for that alone: talking to us again ends the
                # wait (queries.reactivate_user), so it is no floor.
                defer(due, recheck, recheck if user_active else None)
                continue
            tz = row[_TZ]
            setting = (tz, start, end, days, cap, paused)
            prefs = settings.get(setting)
            if prefs is None:
                prefs = settings[setting] = planner.DeliveryPrefs(
                    tz=tz, window_start_minute=start, window_end_minute=end,
                    working_days=days, daily_cap=cap, paused_until=paused)
            due.sort()
            key = (prefs, sent_day, sent_count)
            timing = timings.get(key)
            if timing is None:
                timing = timings[key] = (
                    planner.next_delivery_moment(prefs, now, sent_on=sent_day,
                                                 sent_count=sent_count),
                    planner.remaining_today(prefs, now, sent_on=sent_day,
                                            sent_count=sent_count))
            moment, remaining = timing
            if moment is None:
                defer(due, now + timedelta(days=1))
                continue
            if moment > now:
                defer(due, moment)
                continue
            if len(due) > 1 and (digest_wanted or len(due) > remaining):
                chosen = [due[:DIGEST_MAX_ITEMS]]
                leftover = due[DIGEST_MAX_ITEMS:]
                digest = True
            else:
                chosen = [[nudge] for nudge in due[:remaining]]
                leftover = due[remaining:]
                digest = False
            recipient = Recipient(workspace_id=workspace_id,
                                  workspace_external_id=workspace_external, platform=platform,
                                  user_id=user_id, user_external_id=user_external,
                                  display_name=display_name, tz=tz)
            for group in chosen:
                messages.append(_PlannedMessage(
                    key=f"{self.owner}-{next(self._message_numbers)}", recipient=recipient,
                    nudge_ids=[nudge_id for _due_at, nudge_id, _status in group],
                    digest=digest))
            if leftover:
                today = planner.local_date(now, tz)
                already = sent_count if sent_day == today else 0
                spaced = now + DIGEST_SPACING
                later = planner.next_delivery_moment(prefs, spaced, sent_on=today,
                                                     sent_count=already + len(chosen))
                defer(leftover, later or now + timedelta(days=1), spaced)
        return messages, deferrals

    async def _send(self, message: _PlannedMessage, items: dict[int, NudgeItem]
                    ) -> DeliveryResult:
        message_items = by_person([items[n] for n in message.nudge_ids if n in items])
        if not message_items:
            return DeliveryResult.failed("nudge rows vanished before delivery")
        outgoing = OutgoingMessage(recipient=message.recipient,
                                   kind="digest" if message.digest else "nudge",
                                   items=message_items)
        messenger = self.messengers[message.recipient.platform]
        try:
            return await messenger.deliver(outgoing)
        except Exception as error:  # a messenger bug must not lose the nudge: retry it later
            logger.exception("messenger raised", extra={"platform": messenger.platform})
            return DeliveryResult.retry(f"{type(error).__name__}")

    async def _record(self, messages: Sequence[_PlannedMessage],
                      results: Sequence[DeliveryResult], now: datetime,
                      report: SweepReport) -> None:
        sent_rows: list[dict[str, Any]] = []
        retry_rows: list[dict[str, Any]] = []
        unsent: list[_PlannedMessage] = []
        gone_users: dict[int, str] = {}
        for message, result in zip(messages, results, strict=True):
            platform = message.recipient.platform
            if result.status == "sent":
                refs = result.refs
                went = [n for n in message.nudge_ids if not refs or n in refs]
                report.messages += 1
                report.sent += len(went)
                report.sent_by_platform[platform] += len(went)
                sent_rows.extend({"b_id": nudge_id, "b_ref": refs.get(nudge_id, result.ref),
                                  "b_key": message.key} for nudge_id in went)
                # Part of a message sent as several: the rest is tried again.
                retry_rows.extend({"b_id": nudge_id, "b_error": (result.error or "")[:200],
                                   "b_kind": "retry", "b_retry": result.retry_after}
                                  for nudge_id in message.nudge_ids if refs and nudge_id
                                  not in refs)
                continue
            unsent.append(message)
            if result.status == "gone":
                gone_users[message.recipient.user_id] = (result.error or "unreachable")[:64]
            report.retried += result.status in ("retry", "gone")
            report.failed += result.status == "failed"
            if result.status == "failed":
                report.failed_by_platform[platform] += len(message.nudge_ids)
            for nudge_id in message.nudge_ids:
                retry_rows.append({"b_id": nudge_id, "b_error": (result.error or "")[:200],
                                   "b_kind": result.status,
                                   "b_retry": result.retry_after})
        uncount = _day_counts(unsent, now)
        # The platform already has these messages: recording must not give up on a dropped
        # connection (that would re-send them after the lease). The updates are conditional
        # on our lease, and a unit that failed wrote nothing, so running it again is harmless.
        # A wave that all went out is one statement (its rows in one executemany), which needs
        # no transaction around it: on PostgreSQL that saves the BEGIN and COMMIT round trips
        # of every wave. On a SQLite file a wave is a short unit run on the event loop's own
        # connection: the hop to the database thread and back cost more than its writes.
        alone = not (retry_rows or uncount or gone_users)
        for attempt in range(RECORD_ATTEMPTS):
            try:
                await self.db.run(lambda session: self._write_results(
                    session, sent_rows, retry_rows, uncount, gone_users, now),
                    atomic=not alone, short=True)
                break
            except (DBAPIError, OSError) as failure:
                if attempt == RECORD_ATTEMPTS - 1:
                    raise
                logger.warning("recording deliveries failed; retrying",
                               extra={"error": type(failure).__name__, "attempt": attempt + 1})
                await asyncio.sleep(0.2 * 2 ** attempt)
        if gone_users:
            report.gone_users += len(gone_users)
            logger.warning("users unreachable, marked inactive", extra={"count": len(gone_users)})

    def _write_results(self, session: Session, sent_rows: list[dict[str, Any]],
                       retry_rows: list[dict[str, Any]], uncount: list[dict[str, Any]],
                       gone_users: dict[int, str], now: datetime) -> None:
        # On PostgreSQL the rows go to asyncpg's executemany: one round trip, one implicit
        # transaction, also when the wave runs without BEGIN and COMMIT.
        _MARK_SENT.executemany(session, [{**row, "b_owner": self.owner, "b_now": now}
                                         for row in sent_rows])
        _UNCOUNT_SENT.executemany(session, uncount)
        if not (retry_rows or gone_users):
            # A wave that all went out runs prepared statements only: asking the session for
            # its connection would begin the session's own transaction, and on SQLite the
            # unit's commit would then go through the ORM's commit instead of the driver's.
            return
        connection = session.connection()
        if retry_rows:
            attempts = {nudge_id: tries for nudge_id, tries in connection.execute(
                select(Nudge.id, Nudge.attempts)
                .where(Nudge.id.in_([r["b_id"] for r in retry_rows])))}
            rows = []
            for r in retry_rows:
                tries = attempts.get(r["b_id"], 1)
                delay = max(r["b_retry"] or 0.0, backoff_seconds(tries))
                give_up = r["b_kind"] == "failed" or (
                    r["b_kind"] == "retry" and tries >= MAX_ATTEMPTS)
                rows.append({"b_id": r["b_id"], "b_error": r["b_error"] or None,
                             "b_status": NudgeStatus.FAILED.value if give_up
                             else NudgeStatus.PLANNED.value,
                             "b_after": now + timedelta(seconds=delay),
                             "b_floor": None if r["b_kind"] == "gone"
                             else now + timedelta(seconds=delay),
                             "b_owner": self.owner})
            # The backoff is the platform's wait, not the user's: a settings change keeps it.
            # Not after "gone": that wait is the user's being unreachable, which talking to
            # us again ends.
            connection.execute(
                update(Nudge).where(Nudge.id == bindparam("b_id"),
                                    Nudge.lease_owner == bindparam("b_owner"))
                .values(status=bindparam("b_status"), deliver_after=bindparam("b_after"),
                        not_before=bindparam("b_floor", type_=UTCDateTime),
                        last_error=bindparam("b_error"),
                        lease_owner=None), rows)
        if gone_users:
            connection.execute(
                update(User).where(User.id == bindparam("b_id"))
                .values(active=False, inactive_reason=bindparam("b_reason")),
                [{"b_id": user_id, "b_reason": reason} for user_id, reason in gone_users.items()])
