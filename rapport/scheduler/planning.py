"""Planning: turn what fell due (rhythms, follow-up notes, yearly dates) into nudge rows.

Each step reads one batch of due rows through its partial index, inserts their nudges with
one multi-row INSERT that skips duplicates (the unique (user, dedupe key) makes planning
idempotent across runs and replicas), and moves each row's `plan_at` on with one guarded
UPDATE; all in one unit of work. On PostgreSQL the batch is locked with SKIP LOCKED, so
replicas plan disjoint batches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from rapport.scheduler import planner
from rapport.storage.models import Contact, ImportantDate, Note, Nudge, NudgeStatus, User
from rapport.storage.uow import Database

IMPORTANT_DATE_LEAD_DAYS = 3
# How much later an unanswered rhythm asks again, at the earliest.
CADENCE_RETRY = timedelta(days=1)

Step = Callable[[Session, datetime, int], tuple[int, int]]


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_nudges(session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert new nudges, skipping ones planned before; how many were new."""
    if not rows:
        return 0
    insert = postgresql.insert if _is_postgresql(session) else sqlite.insert
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


def plan_cadences(session: Session, now: datetime, limit: int) -> tuple[int, int]:
    """Rhythms that ran out: one nudge each; the contact is looked at again a cadence later
    (or when its clock says, after a conversation moved it)."""
    query = (select(Contact.id, Contact.user_id, Contact.workspace_id, Contact.cadence_days,
                    Contact.cadence_months, Contact.next_due_at, Contact.plan_at)
             .where(Contact.plan_at <= now).order_by(Contact.plan_at).limit(limit))
    if _is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    rows = session.execute(query).all()
    nudges: list[dict[str, Any]] = []
    moves: list[tuple[int, datetime, datetime | None]] = []
    for contact_id, user_id, workspace_id, cadence, months, next_due, plan_at in rows:
        if plan_at is None:
            continue  # excluded by the query
        new_plan: datetime | None
        if cadence and next_due is not None and next_due <= now:
            nudges.append(_nudge(workspace_id=workspace_id, user_id=user_id,
                                 contact_id=contact_id, reason="cadence",
                                 dedupe_key=f"cadence:{contact_id}:{plan_at:%Y%m%d%H%M}",
                                 due_at=next_due, deliver_after=plan_at, now=now))
            # Ask again after another full cadence if the user still has not talked (calendar
            # months for a monthly rhythm, so it keeps to the same day of the month).
            again = planner.cadence_step(plan_at, cadence, months) or plan_at
            new_plan = max(again, now + CADENCE_RETRY)
        else:
            new_plan = next_due if next_due is not None and next_due > now else None
        moves.append((contact_id, plan_at, new_plan))
    created = insert_nudges(session, nudges)
    move_plans(session, Contact.plan_at, Contact.id, moves)
    return created, len(rows)


def plan_follow_ups(session: Session, now: datetime, limit: int) -> tuple[int, int]:
    """Notes whose follow-up day has come: one nudge each, once."""
    query = (select(Note.id, Note.contact_id, Note.user_id, Note.workspace_id, Note.plan_at)
             .where(Note.plan_at <= now).order_by(Note.plan_at).limit(limit))
    if _is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    rows = session.execute(query).all()
    nudges: list[dict[str, Any]] = []
    moves: list[tuple[int, datetime, datetime | None]] = []
    for note_id, contact_id, user_id, workspace_id, plan_at in rows:
        if plan_at is None:
            continue  # excluded by the query
        nudges.append(_nudge(workspace_id=workspace_id, user_id=user_id, contact_id=contact_id,
                             note_id=note_id, reason="follow_up",
                             dedupe_key=f"follow_up:{contact_id}:{note_id}", due_at=plan_at,
                             deliver_after=plan_at, now=now))
        # Once planned, a follow-up is done: its nudge carries it from here.
        moves.append((note_id, plan_at, None))
    created = insert_nudges(session, nudges)
    move_plans(session, Note.plan_at, Note.id, moves)
    return created, len(rows)


def plan_dates(session: Session, now: datetime, limit: int) -> tuple[int, int]:
    """Birthdays and anniversaries a few days ahead: one nudge a year each."""
    query = (select(ImportantDate.id, ImportantDate.contact_id, ImportantDate.user_id,
                    ImportantDate.workspace_id, ImportantDate.month, ImportantDate.day,
                    ImportantDate.plan_at, User.tz, User.window_start_minute)
             .join(User, User.id == ImportantDate.user_id)
             .where(ImportantDate.plan_at <= now).order_by(ImportantDate.plan_at)
             .limit(limit))
    if _is_postgresql(session):
        query = query.with_for_update(of=ImportantDate, skip_locked=True)
    rows = session.execute(query).all()
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
        created = 0
        for step in STEPS:
            while True:
                made, seen = await self._run(step, now)
                created += made
                if seen < self.batch_size or stopping():
                    break
        return created

    async def _run(self, step: Step, now: datetime) -> tuple[int, int]:
        return await self.db.run(lambda session: step(session, now, self.batch_size))
