"""Planning: turn what fell due (rhythms, follow-up notes, yearly dates) into nudge rows.

Each step takes one batch of due row ids through its partial index, inserts their nudges
skipping duplicates (the unique (user, dedupe key) makes planning idempotent across runs and
replicas), and moves each row's `plan_at` on; all in one unit of work, whose write lock
(SQLite) or row locks (PostgreSQL, SKIP LOCKED: replicas plan disjoint batches) keep the
batch from changing under it. Rhythms and notes are set-based (INSERT ... SELECT, one
UPDATE); yearly dates, and rhythms whose next ask on the user's calendar is not a whole
number of UTC days later (months, a DST change), need the calendar in Python and are moved
row by row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Executable,
    Selectable,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.orm import Session, aliased

from rapport.scheduler import planner
from rapport.storage.models import Contact, ImportantDate, Note, Nudge, NudgeStatus, User
from rapport.storage.prepared import Prepared, in_json_list
from rapport.storage.types import UTCDateTime
from rapport.storage.uow import Database

IMPORTANT_DATE_LEAD_DAYS = 3
# How much later an unanswered rhythm asks again, at the earliest.
CADENCE_RETRY = timedelta(days=1)

Step = Callable[[Session, datetime, int], tuple[int, int]]
T = TypeVar("T")


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_nudges(session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert new nudges, skipping ones planned before; how many were new."""
    if not rows:
        return 0
    insert = postgresql_dialect.insert if _is_postgresql(session) else sqlite_dialect.insert
    # One multi-row INSERT (insertmanyvalues); RETURNING lists only the rows that were new,
    # so a concurrent sweep's duplicates are skipped and not counted.
    statement = insert(Nudge).on_conflict_do_nothing(
        index_elements=[Nudge.user_id, Nudge.dedupe_key]).returning(Nudge.id)
    return len(session.connection().execute(statement, list(rows)).all())


def move_plans(session: Session, column: Any, key: Any,
               moves: Sequence[tuple[int, datetime, datetime | None]]) -> None:
    """Set each row's `plan_at` from old to new, unless it changed meanwhile (a command or
    another replica moved it): (id, old plan_at, new plan_at) triples."""
    if not moves:
        return
    condition: ColumnElement[bool] = (key == bindparam("b_id")) & (
        column == bindparam("b_old"))
    session.connection().execute(
        update(column.class_).where(condition).values({column.key: bindparam("b_new")}),
        [{"b_id": row_id, "b_old": old, "b_new": new} for row_id, old, new in moves])


def _nudge(*, workspace_id: int, user_id: int, contact_id: int, reason: str, dedupe_key: str,
           due_at: datetime, deliver_after: datetime, now: datetime,
           note_id: int | None = None, important_date_id: int | None = None
           ) -> dict[str, Any]:
    return {"workspace_id": workspace_id, "user_id": user_id, "contact_id": contact_id,
            "note_id": note_id, "important_date_id": important_date_id, "reason": reason,
            "dedupe_key": dedupe_key, "due_at": due_at, "deliver_after": deliver_after,
            "status": NudgeStatus.PLANNED.value, "snooze_count": 0, "attempts": 0,
            "created_at": now}


def _prepared_per_dialect(build: Callable[[bool], Executable]) -> dict[str, Prepared]:
    """A planning statement built once for each backend (`build(postgresql)`), where the SQL
    differs between them (locks, date arithmetic): a sweep runs each step per batch, and
    building and compiling its statements each time cost more Python than the rest of the
    step's own."""
    return {"sqlite": Prepared(build(False)), "postgresql": Prepared(build(True))}


def _dialect(session: Session) -> str:
    return "postgresql" if _is_postgresql(session) else "sqlite"


def _due_ids_statement(column: Any, key: Any) -> dict[str, Prepared]:
    """One batch of due row ids through the partial index on `column` (plan_at), locked
    against other replicas on PostgreSQL (SKIP LOCKED: they take the next batch)."""
    def build(postgresql: bool) -> Executable:
        query = (select(key).where(column <= bindparam("now", type_=UTCDateTime))
                 .order_by(column).limit(bindparam("limit")))
        return query.with_for_update(skip_locked=True) if postgresql else query
    return _prepared_per_dialect(build)


def _due_ids(session: Session, statement: Mapping[str, Prepared], now: datetime, limit: int
             ) -> list[int]:
    return [row[0] for row in statement[_dialect(session)].rows(session, now=now, limit=limit)]


def _minute_stamp(postgresql: bool, column: Any) -> ColumnElement[str]:
    """`column` (a UTC moment) as f"{moment:%Y%m%d%H%M}", in SQL, per dialect."""
    if postgresql:
        return func.to_char(func.timezone("UTC", column), "YYYYMMDDHH24MI")
    return func.strftime("%Y%m%d%H%M", column)


def _cadence_sql(postgresql: bool) -> tuple[ColumnElement[str], ColumnElement[Any]]:
    """(dedupe key, plan_at one cadence of days later, counted in UTC) as SQL, per dialect.

    The key must equal f"cadence:{id}:{plan_at:%Y%m%d%H%M}" (UTC), as rows planned before
    have it; on SQLite the new plan_at keeps SQLAlchemy's stored text format exactly, so
    later comparisons with bound datetimes stay exact. PostgreSQL adds hours, not days: a
    day interval on a timestamptz follows the server's TimeZone setting, whatever it is.
    """
    stamp = _minute_stamp(postgresql, Contact.plan_at)
    if postgresql:
        later: ColumnElement[Any] = Contact.plan_at + func.make_interval(
            0, 0, 0, 0, Contact.cadence_days * 24)
    else:
        later = type_coerce(func.strftime(
            "%Y-%m-%d %H:%M:%S", Contact.plan_at,
            "+" + cast(Contact.cadence_days, String) + " days"), String).concat(
            func.substr(Contact.plan_at, 20))
    key = literal("cadence:") + cast(Contact.id, String) + literal(":") + stamp
    return key, later


_NOW = bindparam("now", type_=UTCDateTime)
# The batch's rhythms that ran out, in days or in calendar months.
_RAN_OUT = and_(in_json_list(Contact.id, "b_ids"),
                or_(Contact.cadence_days > 0, Contact.cadence_months > 0),
                Contact.next_due_at.is_not(None), Contact.next_due_at <= _NOW)
_SNOOZED = aliased(Nudge)
# A snoozed rhythm nudge holds the rhythm until its snooze ends: it comes back then, and
# no other is planned meanwhile (one reminder out per person, not a second one beside it).
_HELD = select(_SNOOZED.id).where(
    _SNOOZED.contact_id == Contact.id, _SNOOZED.reason == "cadence",
    _SNOOZED.status == NudgeStatus.SNOOZED.value, _SNOOZED.deliver_after > _NOW).exists()
# Rhythms that ask now: ran out, and not held by a snooze.
_ASKS = and_(_RAN_OUT, ~_HELD)
_DUE_CONTACTS = _due_ids_statement(Contact.plan_at, Contact.id)
# The open rhythm nudges a newer period's ask replaces: all but a claimed one, whose
# delivery is under way and records it as sent afterwards, over anything set here.
_ANSWERABLE = (NudgeStatus.PLANNED, NudgeStatus.SENT, NudgeStatus.SNOOZED)


def _nudges_from(postgresql: bool, columns: Sequence[str], source: Selectable) -> Executable:
    """INSERT ... SELECT of new nudges, skipping those planned before (by a concurrent sweep
    too), returning the ids of the rows that were new."""
    insert = postgresql_dialect.insert if postgresql else sqlite_dialect.insert
    return (insert(Nudge).from_select(columns, source)
            .on_conflict_do_nothing(index_elements=[Nudge.user_id, Nudge.dedupe_key])
            .returning(Nudge.id))


def _supersede_cadences(postgresql: bool) -> Executable:
    # An older period's nudge still open when the next period asks is closed as expired:
    # the new one replaces it, so one reminder per person is out (`due`, a digest and
    # `stats` count one), and `stats` counts the old one, delivered and not answered, as
    # ignored (one delivered after a pause never was: it says nothing). Its own period's
    # nudge (the same key: planned before) stays as it is.
    key, _later = _cadence_sql(postgresql)
    replaced_by_this_period = select(Contact.id).where(
        Contact.id == Nudge.contact_id, _ASKS, Nudge.dedupe_key != key).exists()
    return update(Nudge).where(
        in_json_list(Nudge.contact_id, "b_ids"), Nudge.reason == "cadence",
        or_(*(Nudge.status == status.value for status in _ANSWERABLE)),
        replaced_by_this_period).values(status=NudgeStatus.EXPIRED.value)


def _insert_cadences(postgresql: bool) -> Executable:
    key, _later = _cadence_sql(postgresql)
    columns = ("workspace_id", "user_id", "contact_id", "reason", "dedupe_key", "due_at",
               "deliver_after", "status", "snooze_count", "attempts", "created_at")
    source = select(Contact.workspace_id, Contact.user_id, Contact.id, literal("cadence"), key,
                    Contact.next_due_at, Contact.plan_at,
                    literal(NudgeStatus.PLANNED.value), literal(0), literal(0),
                    _NOW).where(_ASKS)
    return _nudges_from(postgresql, columns, source)


def _move_cadences(postgresql: bool) -> Executable:
    # Ask again after another full cadence if the user still has not talked (a snooze that
    # held this period's nudge back counts as its reminder); otherwise the clock
    # (next_due_at) says when to look again, or never. Rows `b_on_calendar` lists are moved
    # in Python instead (see `plan_cadences`).
    _key, later = _cadence_sql(postgresql)
    retry_at = bindparam("retry_at", type_=UTCDateTime)
    greatest = func.greatest if postgresql else func.max
    return update(Contact).where(in_json_list(Contact.id, "b_ids"),
                                 in_json_list(Contact.id, "b_on_calendar", negated=True)
                                 ).values(
        plan_at=case((_RAN_OUT, greatest(later, retry_at)),
                     (Contact.next_due_at > _NOW, Contact.next_due_at),
                     else_=null()))


_SUPERSEDE_CADENCES = _prepared_per_dialect(_supersede_cadences)
_INSERT_CADENCES = _prepared_per_dialect(_insert_cadences)
_MOVE_CADENCES = _prepared_per_dialect(_move_cadences)
# The ran-out rhythms whose next ask SQL's UTC days may not find: a user's zone other than
# UTC (a DST change moves the wall clock) and calendar months.
_ZONED_RAN_OUT = Prepared(
    select(Contact.id, Contact.plan_at, Contact.cadence_days, Contact.cadence_months, User.tz)
    .join(User, User.id == Contact.user_id)
    .where(_RAN_OUT, or_(User.tz != "UTC", Contact.cadence_months > 0)))


def plan_cadences(session: Session, now: datetime, limit: int) -> tuple[int, int]:
    """Rhythms that ran out: one nudge each, replacing the one of an earlier period still
    open; the contact is looked at again a cadence later (or when its clock says, after a
    conversation moved it). Set-based: the batch's nudges are one UPDATE, one INSERT ...
    SELECT, and its contacts one UPDATE, but for those whose next ask is on the user's
    calendar and not a whole number of UTC days on (months, a DST change between), moved
    one by one."""
    ids = _due_ids(session, _DUE_CONTACTS, now, limit)
    if not ids:
        return 0, 0
    dialect = _dialect(session)
    retry_at = now + CADENCE_RETRY
    on_calendar = _calendar_moves(_ZONED_RAN_OUT.rows(session, b_ids=ids, now=now),
                                  retry_at)
    # Before any plan_at moves: the keys of this period's nudges come from it.
    _SUPERSEDE_CADENCES[dialect].execute(session, b_ids=ids, now=now)
    created = len(_INSERT_CADENCES[dialect].rows(session, b_ids=ids, now=now))
    _MOVE_CADENCES[dialect].execute(session, b_ids=ids, now=now, retry_at=retry_at,
                                    b_on_calendar=[row_id for row_id, _, _ in on_calendar])
    move_plans(session, Contact.plan_at, Contact.id, on_calendar)
    return created, len(ids)


def _calendar_moves(rows: Sequence[Sequence[Any]], retry_at: datetime
                    ) -> list[tuple[int, datetime, datetime | None]]:
    """(id, plan_at, next ask) of the ran-out rhythms whose next ask on the user's calendar
    (`planner.cadence_step` in their zone) is not where SQL's whole UTC days put it: months,
    and a DST change in between. Few rows: the rest stay with the set-based UPDATE."""
    moves: list[tuple[int, datetime, datetime | None]] = []
    for contact_id, plan_at, days, months, tz in rows:
        again = planner.cadence_step(plan_at, days, months, tz=tz)
        if again is None:
            continue  # no rhythm: excluded by the query
        new_plan = max(again, retry_at)
        if not (months and months > 0) and days and \
                new_plan == max(plan_at + timedelta(days=days), retry_at):
            continue  # what the UPDATE sets
        moves.append((contact_id, plan_at, new_plan))
    return moves


_DUE_NOTES = _due_ids_statement(Note.plan_at, Note.id)


def _insert_follow_ups(postgresql: bool) -> Executable:
    # The follow-up's moment is in the key: a note given another day (`edit`) closes the
    # reminder of the old day, and is asked about again on the new one.
    key = literal("follow_up:") + cast(Note.contact_id, String) + literal(":") + cast(
        Note.id, String) + literal(":") + _minute_stamp(postgresql, Note.plan_at)
    columns = ("workspace_id", "user_id", "contact_id", "note_id", "reason", "dedupe_key",
               "due_at", "deliver_after", "status", "snooze_count", "attempts", "created_at")
    source = select(Note.workspace_id, Note.user_id, Note.contact_id, Note.id,
                    literal("follow_up"), key, Note.plan_at, Note.plan_at,
                    literal(NudgeStatus.PLANNED.value), literal(0), literal(0),
                    _NOW).where(in_json_list(Note.id, "b_ids"))
    return _nudges_from(postgresql, columns, source)


_INSERT_FOLLOW_UPS = _prepared_per_dialect(_insert_follow_ups)
# Once planned, a follow-up is done: its nudge carries it from here.
_FOLLOWED_UP = Prepared(update(Note).where(in_json_list(Note.id, "b_ids")).values(plan_at=None))


def plan_follow_ups(session: Session, now: datetime, limit: int) -> tuple[int, int]:
    """Notes whose follow-up day has come: one nudge each, once (set-based)."""
    ids = _due_ids(session, _DUE_NOTES, now, limit)
    if not ids:
        return 0, 0
    created = len(_INSERT_FOLLOW_UPS[_dialect(session)].rows(session, b_ids=ids, now=now))
    _FOLLOWED_UP.execute(session, b_ids=ids)
    return created, len(ids)


def _due_dates(postgresql: bool) -> Executable:
    query = (select(ImportantDate.id, ImportantDate.contact_id, ImportantDate.user_id,
                    ImportantDate.workspace_id, ImportantDate.month, ImportantDate.day,
                    ImportantDate.plan_at, User.tz, User.window_start_minute)
             .join(User, User.id == ImportantDate.user_id)
             .where(ImportantDate.plan_at <= _NOW).order_by(ImportantDate.plan_at)
             .limit(bindparam("limit")))
    return query.with_for_update(of=ImportantDate, skip_locked=True) if postgresql else query


_DUE_DATES = _prepared_per_dialect(_due_dates)


def plan_dates(session: Session, now: datetime, limit: int) -> tuple[int, int]:
    """Birthdays and anniversaries a few days ahead: one nudge a year each."""
    rows = _DUE_DATES[_dialect(session)].rows(session, now=now, limit=limit)
    nudges: list[dict[str, Any]] = []
    moves: list[tuple[int, datetime, datetime | None]] = []
    for date_id, contact_id, user_id, workspace_id, month, day, plan_at, tz, start in rows:
        if plan_at is None:
            continue  # excluded by the query
        occurrence = planner.yearly_occurrence(month, day, planner.local_date(plan_at, tz))
        nudges.append(_nudge(workspace_id=workspace_id, user_id=user_id, contact_id=contact_id,
                             important_date_id=date_id, reason="date",
                             dedupe_key=f"date:{contact_id}:{date_id}:{occurrence.year}",
                             due_at=plan_at, deliver_after=plan_at, now=now))
        following = planner.yearly_occurrence(month, day, occurrence + timedelta(days=1))
        moves.append((date_id, plan_at, planner.local_moment(
            following - timedelta(days=IMPORTANT_DATE_LEAD_DAYS), start, tz)))
    created = insert_nudges(session, nudges)
    move_plans(session, ImportantDate.plan_at, ImportantDate.id, moves)
    return created, len(rows)


STEPS: tuple[Step, ...] = (plan_cadences, plan_follow_ups, plan_dates)


class NudgePlanner:
    """Runs the planning steps batch by batch, each batch one unit of work."""

    def __init__(self, db: Database, *, batch_size: int) -> None:
        self.db = db
        self.batch_size = batch_size

    async def plan(self, now: datetime, stopping: Callable[[], bool]) -> int:
        """Create the nudges that are due at `now`; idempotent across runs and replicas."""
        created, _ = await self.plan_then(now, stopping, None)
        return created

    async def plan_then(self, now: datetime, stopping: Callable[[], bool],
                        then: Callable[[Session], T] | None) -> tuple[int, T | None]:
        """Plan as `plan` does, and run `then` in the unit of work that finishes planning;
        how many nudges were new, and what `then` returned (None when it did not run:
        stopping, or no `then`).

        A unit runs the steps one after the other until one of them fills its batch (that
        step has more to do, in a unit of its own): when few things are due, which is every
        sweep but a catch-up, all of planning is one transaction, and `then` (the sweep's
        first claim) shares it, so the nudges just planned are claimed before the commit
        that would have written their pages a first time."""
        created = 0
        step_index = 0
        while True:
            def unit(session: Session, first: int = step_index
                     ) -> tuple[int, int, T | None]:
                made = 0
                for index in range(first, len(STEPS)):
                    new, seen = STEPS[index](session, now, self.batch_size)
                    made += new
                    if seen >= self.batch_size:
                        return made, index, None
                return made, len(STEPS), then(session) if then is not None else None

            made, step_index, result = await self.db.run(unit)
            created += made
            if step_index == len(STEPS):
                return created, result
            if stopping():
                return created, None
