"""Rhythms in calendar months: "monthly" from Jan 31 falls on Feb 28, and the sweep asks again
a calendar month later, not 30 days later."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler import planner
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from rapport.storage.models import Contact, Nudge
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user


def test_add_months_keeps_the_day_or_the_months_end() -> None:
    jan31 = datetime(2027, 1, 31, 10, 0, tzinfo=UTC)
    assert planner.add_months(jan31, 1) == datetime(2027, 2, 28, 10, 0, tzinfo=UTC)
    assert planner.add_months(datetime(2028, 1, 31, tzinfo=UTC), 1) == \
        datetime(2028, 2, 29, tzinfo=UTC)
    assert planner.add_months(jan31, 12) == datetime(2028, 1, 31, 10, 0, tzinfo=UTC)
    assert planner.add_months(datetime(2026, 11, 23, tzinfo=UTC), 3) == \
        datetime(2027, 2, 23, tzinfo=UTC)
    # Due from the start of the rhythm's day, whatever the hour it counts from.
    assert planner.cadence_next_due(None, 30, jan31, 1) == datetime(2027, 2, 28, tzinfo=UTC)
    assert planner.cadence_next_due(None, 14, jan31) == datetime(2027, 2, 14, tzinfo=UTC)
    assert planner.cadence_text(30, 1) == "month"
    assert planner.cadence_text(91, 3) == "3 months"
    assert planner.cadence_text(365, 12) == "year"
    assert planner.cadence_text(14) == "2 weeks"


async def test_a_monthly_rhythm_is_due_on_the_same_day_each_month(any_engine: AsyncEngine,
                                                                 clock: Clock) -> None:
    clock.set(datetime(2027, 1, 31, 10, 0, tzinfo=UTC))  # a Sunday
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    actor = console_user()
    reply = await rapport.handle_text(actor, "add Dana Scully monthly")
    assert reply.ok and "every month" in reply.text
    async with db.session_factory(any_engine)() as session:
        dana = await session.scalar(select(Contact))
    assert dana is not None and (dana.cadence_months, dana.cadence_days) == (1, 30)
    assert dana.next_due_at == datetime(2027, 2, 28, tzinfo=UTC)  # not Feb 28 + 2
    sweeper = Sweeper(sessions=db.session_factory(any_engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    clock.set(datetime(2027, 3, 1, 10, 0, tzinfo=UTC))  # a Monday, past Feb 28
    assert (await sweeper.sweep()).sent == 1
    async with db.session_factory(any_engine)() as session:
        dana = await session.scalar(select(Contact))
        nudges = (await session.scalars(select(Nudge))).all()
    assert len(nudges) == 1
    # Not answered: asked again a calendar month after the first ask (Feb 28 -> Mar 28).
    assert dana is not None and dana.plan_at == datetime(2027, 3, 28, tzinfo=UTC)
    reply = await rapport.handle_text(actor, "log Dana coffee")
    async with db.session_factory(any_engine)() as session:
        dana = await session.scalar(select(Contact))
    assert dana is not None and dana.next_due_at == datetime(2027, 4, 1, tzinfo=UTC)
    people = await rapport.handle_text(actor, "people")
    assert "Dana Scully (colleague, every month)" in people.text
