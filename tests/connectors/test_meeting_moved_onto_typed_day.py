"""A meeting the calendar logged, moved onto a day the person logged that contact themselves:
as for a meeting first seen on that day, their own log stands alone and the calendar's
touchpoint goes; moved away again, the meeting is logged again as for any move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import console_user
from tests.connectors.helpers import connected, last_touch, said, touchpoints
from tests.fakes.calendar_fixtures import CalendarApp
from tests.fakes.calendar_store import FakeCalendar, FakeEvent

PROVIDERS = ["google", "microsoft"]
ALEX = console_user("alex", tz="Europe/Berlin")
# The clock starts on Monday 2026-11-23 10:00 UTC (11:00 in Berlin).
TUE_14 = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
WED_09_BERLIN = datetime(2026, 11, 18, 8, 0, tzinfo=UTC)
THU_10 = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)


@pytest.fixture
def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """The calendar app's database: SQLite and, when configured, PostgreSQL."""
    return any_engine


async def _say(app: CalendarApp, line: str) -> str:
    return await said(app, ALEX, line)


async def _sync(app: CalendarApp) -> None:
    app.clock.advance(minutes=5, seconds=1)
    assert (await app.sync.run_once()).failed == 0


async def _kim_met_on_tuesday(app: CalendarApp, provider: str
                              ) -> tuple[FakeCalendar, FakeEvent, int]:
    calendar = await connected(app, provider)
    kim = await app.add_contact("alex", "Kim Lee", "kim@acme.com")
    meeting = calendar.add(start=TUE_14, attendees=["kim@acme.com"])
    assert (await app.sync.run_once()).failed == 0
    assert [(t.happened_at, t.source) for t in await touchpoints(app)] == [
        (TUE_14, "calendar")]
    return calendar, meeting, kim


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_meeting_moved_onto_a_day_logged_by_hand_leaves_that_log_alone(
        calendar_app: CalendarApp, provider: str) -> None:
    app = calendar_app
    calendar, meeting, kim = await _kim_met_on_tuesday(app, provider)
    await _say(app, "log Kim Wednesday call: typed wed")

    calendar.move(meeting.id, WED_09_BERLIN)
    await _sync(app)
    # One conversation on Wednesday, the person's; Tuesday's meeting is not there any more.
    [typed] = await touchpoints(app)
    assert (typed.kind, typed.summary, typed.source) == ("call", "typed wed", "command")
    assert await last_touch(app, kim) == typed.happened_at
    show = await _say(app, "show Kim")
    assert "logged from your calendar" not in show

    # Moved away again: logged again, as any meeting moved to a day of its own.
    calendar.move(meeting.id, THU_10)
    await _sync(app)
    assert [(t.happened_at, t.kind, t.source) for t in await touchpoints(app)] == [
        (typed.happened_at, "call", "command"), (THU_10, "meeting", "calendar")]
    assert await last_touch(app, kim) == THU_10
    # And followed as before: moved again, its touchpoint moves.
    calendar.move(meeting.id, TUE_14)
    await _sync(app)
    assert [(t.happened_at, t.source) for t in await touchpoints(app)] == [
        (TUE_14, "calendar"), (typed.happened_at, "command")]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_completed_or_deleted_meeting_moved_to_another_day_is_not_logged_again(
        calendar_app: CalendarApp, provider: str) -> None:
    """The person's own record of the meeting (completed by their log) stays theirs, and a
    meeting whose touchpoint they deleted stays deleted: a move brings neither back."""
    app = calendar_app
    calendar, meeting, _kim = await _kim_met_on_tuesday(app, provider)
    await _say(app, "log Kim Tuesday meeting: the plan")
    [completed] = await touchpoints(app)
    assert (completed.happened_at, completed.source) == (TUE_14, "command")
    calendar.move(meeting.id, THU_10)
    await _sync(app)
    assert [(t.id, t.happened_at, t.source) for t in await touchpoints(app)] == [
        (completed.id, TUE_14, "command")]

    other = calendar.add(start=TUE_14 + timedelta(days=1, hours=2),
                         attendees=["kim@acme.com"])
    await _sync(app)
    [_, logged] = await touchpoints(app)
    await _say(app, f"delete t{logged.id}")
    calendar.move(other.id, THU_10 + timedelta(hours=3))
    await _sync(app)
    assert [t.id for t in await touchpoints(app)] == [completed.id]
