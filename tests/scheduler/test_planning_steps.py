"""Planning's statements pinned row by row on both backends: which nudges each step makes
(keys, moments, columns), where each due row's `plan_at` moves, and that planning again makes
nothing. The steps run in batches smaller than what is due, so several units share the work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.scheduler.planning import NudgePlanner
from rapport.storage import db
from rapport.storage.models import Contact, ImportantDate, Note, Nudge, User, Workspace
from rapport.storage.uow import Database

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


async def _contact(connection: Any, name: str, **columns: Any) -> int:
    return int((await connection.execute(insert(Contact).values(
        workspace_id=1, user_id=1, name=name, name_key=name.lower(), kind="colleague",
        created_at=NOW - timedelta(days=400), **columns).returning(Contact.id))).scalar_one())


async def test_each_step_plans_its_rows_once_and_moves_them_on(any_engine: AsyncEngine
                                                              ) -> None:
    day_due = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
    asked_before = NOW - timedelta(days=20)
    month_due = datetime(2026, 10, 31, 9, 0, tzinfo=UTC)
    async with any_engine.begin() as connection:
        await connection.execute(insert(Workspace).values(
            id=1, platform="console", external_id="T1", name="console", ai_enabled=True,
            disclosure_policy="optional", active=True, created_at=NOW))
        await connection.execute(insert(User).values(
            id=1, workspace_id=1, external_id="u1", display_name="u", tz="Europe/Berlin",
            tz_from_platform=True, window_start_minute=9 * 60, window_end_minute=17 * 60,
            working_days=0b0011111, daily_cap=3, digest=False, ai_enabled=True, tone="warm",
            weekly_summary=True, active=True, sent_day_count=0, created_at=NOW))
        # A two-week rhythm that ran out two days ago.
        fortnight = await _contact(connection, "Ana", cadence_days=14, next_due_at=day_due,
                                   plan_at=day_due)
        # Asked twenty days ago and never answered: asked again tomorrow at the earliest.
        unanswered = await _contact(connection, "Bo", cadence_days=14,
                                    next_due_at=asked_before, plan_at=asked_before)
        # Talked to since it was due: no nudge; looked at again when its clock says.
        talked = await _contact(connection, "Cy", cadence_days=14,
                                next_due_at=NOW + timedelta(days=5),
                                plan_at=NOW - timedelta(hours=1))
        # A monthly rhythm from the 31st: asked again on the last day of next month.
        monthly = await _contact(connection, "Di", cadence_days=30, cadence_months=1,
                                 next_due_at=month_due, plan_at=month_due)
        # Not due yet: untouched.
        later = await _contact(connection, "Ed", cadence_days=14,
                               next_due_at=NOW + timedelta(days=3),
                               plan_at=NOW + timedelta(days=3))
        note = int((await connection.execute(insert(Note).values(
            workspace_id=1, user_id=1, contact_id=later, text="the hiking trip",
            plan_at=NOW - timedelta(hours=1), created_at=NOW - timedelta(days=7))
            .returning(Note.id))).scalar_one())
        birthday = int((await connection.execute(insert(ImportantDate).values(
            workspace_id=1, user_id=1, contact_id=talked, kind="birthday", month=11, day=26,
            plan_at=datetime(2026, 11, 23, 8, 0, tzinfo=UTC), created_at=NOW)
            .returning(ImportantDate.id))).scalar_one())

    planner = NudgePlanner(Database(db.session_factory(any_engine)), batch_size=2)
    assert await planner.plan(NOW, lambda: False) == 5
    assert await planner.plan(NOW, lambda: False) == 0
    assert await planner.plan(NOW + timedelta(hours=1), lambda: False) == 0

    async with any_engine.connect() as connection:
        nudges = {row.dedupe_key: row for row in await connection.execute(select(
            Nudge.dedupe_key, Nudge.workspace_id, Nudge.user_id, Nudge.contact_id,
            Nudge.note_id, Nudge.important_date_id, Nudge.reason, Nudge.due_at,
            Nudge.deliver_after, Nudge.status, Nudge.snooze_count, Nudge.attempts,
            Nudge.created_at))}
        plans = dict((await connection.execute(select(Contact.id, Contact.plan_at))).all())
        note_plan = await connection.scalar(select(Note.plan_at).where(Note.id == note))
        date_plan = await connection.scalar(
            select(ImportantDate.plan_at).where(ImportantDate.id == birthday))

    def moment(value: datetime | None) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    expected = {
        f"cadence:{fortnight}:202611210830": (fortnight, None, None, "cadence", day_due,
                                              day_due),
        f"cadence:{unanswered}:{asked_before:%Y%m%d%H%M}": (unanswered, None, None, "cadence",
                                                            asked_before, asked_before),
        f"cadence:{monthly}:202610310900": (monthly, None, None, "cadence", month_due,
                                            month_due),
        f"follow_up:{later}:{note}:202611230900": (later, note, None, "follow_up",
                                                   NOW - timedelta(hours=1),
                                                   NOW - timedelta(hours=1)),
        f"date:{talked}:{birthday}:2026": (talked, None, birthday, "date",
                                           datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
                                           datetime(2026, 11, 23, 8, 0, tzinfo=UTC)),
    }
    assert set(nudges) == set(expected)
    for key, (contact, note_id, date_id, reason, due_at, deliver_after) in expected.items():
        row = nudges[key]
        assert (row.workspace_id, row.user_id, row.contact_id, row.note_id,
                row.important_date_id, row.reason) == (1, 1, contact, note_id, date_id, reason)
        assert (moment(row.due_at), moment(row.deliver_after)) == (due_at, deliver_after), key
        assert (row.status, row.snooze_count, row.attempts) == ("planned", 0, 0)
        assert moment(row.created_at) == NOW

    assert {contact: moment(plan) for contact, plan in plans.items()} == {
        fortnight: day_due + timedelta(days=14),
        unanswered: NOW + timedelta(days=1),
        talked: NOW + timedelta(days=5),
        monthly: datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        later: NOW + timedelta(days=3),
    }
    assert note_plan is None
    # Three days before next year's birthday, at the start of the user's window in Berlin.
    assert moment(date_plan) == datetime(2027, 11, 23, 8, 0, tzinfo=UTC)
