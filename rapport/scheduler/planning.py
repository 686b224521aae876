"""Planning: turn what fell due (rhythms, follow-up notes, yearly dates) into nudge rows.

Each step takes one batch of due row ids through its partial index, inserts their nudges
skipping duplicates (the unique (user, dedupe key) makes planning idempotent across runs and
replicas), and moves each row's `plan_at` on; all in one unit of work, whose write lock
(SQLite) or row locks (PostgreSQL, SKIP LOCKED: replicas plan disjoint batches) keep the
batch from changing under it. Rhythms and notes are set-based (INSERT ... SELECT, one
UPDATE); yearly dates need the calendar in Python and are moved row by row.
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
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.orm import Session

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


def _cadence_sql(postgresql: bool) -> tuple[ColumnElement[str], ColumnElement[Any]]:
    """(dedupe key, plan_at one cadence later) as SQL, per dialect.

    The key must equal f"cadence:{id}:{plan_at:%Y%m%d%H%M}" (UTC), as rows planned before
    have it; on SQLite the new plan_at keeps SQLAlchemy's stored text format exactly, so
    later comparisons with bound datetimes stay exact.
    """
    if postgresql:
        stamp = func.to_char(func.timezone("UTC", Contact.plan_at), "YYYYMMDDHH24MI")
        later: ColumnElement[Any] = Contact.plan_at + func.make_interval(
            0, 0, 0, Contact.cadence_days)
    else:
        stamp = func.strftime("%Y%m%d%H%M", Contact.plan_at)
        later = type_coerce(func.strftime(
            "%Y-%m-%d %H:%M:%S", Contact.plan_at,
            "+" + cast(Contact.cadence_days, String) + " days"), String).concat(
            func.substr(Contact.plan_at, 20))
    key = literal("cadence:") + cast(Contact.id, String) + literal(":") + stamp
    return key, later


_NOW = bindparam("now", type_=UTCDateTime)
# The batch's day rhythms that ran out (monthly ones are planned one by one).
_RAN_OUT = and_(in_json_list(Contact.id, "b_ids"), Contact.cadence_days > 0,
                func.coalesce(Contact.cadence_months, 0) == 0,
                Contact.next_due_at.is_not(None), Contact.next_due_at <= _NOW)
_DUE_CONTACTS = _due_ids_statement(Contact.plan_at, Contact.id)


def _nudges_from(postgresql: bool, columns: Sequence[str], source: Selectable) -> Executable:
    """INSERT ... SELECT of new nudges, skipping those planned before (by a concurrent sweep
    too), returning the ids of the rows that were new."""
    insert = postgresql_dialect.insert if postgresql else sqlite_dialect.insert
    return (insert(Nudge).from_select(columns, source)
            .on_conflict_do_nothing(index_elements=[Nudge.user_id, Nudge.dedupe_key])
            .returning(Nudge.id))


def _insert_cadences(postgresql: bool) -> Executable:
    key, _later = _cadence_sql(postgresql)
    columns = ("workspace_id", "user_id", "contact_id", "reason", "dedupe_key", "due_at",
               "deliver_after", "status", "snooze_count", "attempts", "created_at")
    source = select(Contact.workspace_id, Contact.user_id, Contact.id, literal("cadence"), key,
                    Contact.next_due_at, Contact.plan_at,
                    literal(NudgeStatus.PLANNED.value), literal(0), literal(0),
                    _NOW).where(_RAN_OUT)
    return _nudges_from(postgresql, columns, source)


def _move_cadences(postgresql: bool) -> Executable:
    # Ask again after another full cadence if the user still has not talked; otherwise the
    # clock (next_due_at) says when to look again, or never.
    _key, later = _cadence_sql(postgresql)
    retry_at = bindparam("retry_at", type_=UTCDateTime)
    greatest = func.greatest if postgresql else func.max
    return update(Contact).where(in_json_list(Contact.id, "b_ids"),
                                 func.coalesce(Contact.cadence_months, 0) == 0).values(
        plan_at=case((_RAN_OUT, greatest(later, retry_at)),
                     (Contact.next_due_at > _NOW, Contact.next_due_at),
                     else_=null()))


_INSERT_CADENCES = _prepared_per_dialect(_insert_cadences)
_MOVE_CADENCES = _prepared_per_dialect(_move_cadences)
_MONTHLY = Prepared(
    select(Contact.id, Contact.user_id, Contact.workspace_id, Contact.cadence_days,
           Contact.cadence_months, Contact.next_due_at, Contact.plan_at)
    .where(in_json_list(Contact.id, "b_ids"), Contact.cadence_months > 0))


def plan_cadences(session: Session, now: datetime, limit: int) -> tuple[int, int]:
    """Rhythms that ran out: one nudge each; the contact is looked at again a cadence later
    (or when its clock says, after a conversation moved it). Set-based: one INSERT ...
    SELECT and one UPDATE for the whole batch."""
    ids = _due_ids(session, _DUE_CONTACTS, now, limit)
    if not ids:
        return 0, 0
    created = _plan_monthly(session, ids, now)
    # Rhythms in calendar months were planned row by row above; day rhythms here, as a set.
    dialect = _dialect(session)
    created += len(_INSERT_CADENCES[dialect].rows(session, b_ids=ids, now=now))
    _MOVE_CADENCES[dialect].execute(session, b_ids=ids, now=now,
                                    retry_at=now + CADENCE_RETRY)
    return created, len(ids)


def _plan_monthly(session: Session, ids: Sequence[int], now: datetime) -> int:
    """The due contacts among `ids` whose rhythm is in calendar months, one by one: the next
    ask keeps to the same day of the month, which no portable SQL interval gives. Few
    people are on monthly rhythms, so this stays a short loop."""
    rows = _MONTHLY.rows(session, b_ids=ids)
    nudges: list[dict[str, Any]] = []
    moves: list[tuple[int, datetime, datetime | None]] = []
    for contact_id, user_id, workspace_id, cadence, months, next_due, plan_at in rows:
        if plan_at is None:
            continue  # not due: the batch was picked by plan_at <= now
        new_plan: datetime | None
        if next_due is not None and next_due <= now:
            nudges.append(_nudge(workspace_id=workspace_id, user_id=user_id,
                                 contact_id=contact_id, reason="cadence",
                                 dedupe_key=f"cadence:{contact_id}:{plan_at:%Y%m%d%H%M}",
                                 due_at=next_due, deliver_after=plan_at, now=now))
            again = planner.cadence_step(plan_at, cadence, months) or plan_at
            new_plan = max(again, now + CADENCE_RETRY)
        else:
            new_plan = next_due if next_due is not None and next_due > now else None
        moves.append((contact_id, plan_at, new_plan))
    created = insert_nudges(session, nudges)
    move_plans(session, Contact.plan_at, Contact.id, moves)
    return created


_DUE_NOTES = _due_ids_statement(Note.plan_at, Note.id)


def _insert_follow_ups(postgresql: bool) -> Executable:
    key = literal("follow_up:") + cast(Note.contact_id, String) + literal(":") + cast(
        Note.id, String)
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
