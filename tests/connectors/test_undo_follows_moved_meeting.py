"""`undo` of a correction gives the touchpoint back to the calendar as the meeting stands now:
moved meanwhile, the touchpoint takes its current time; cancelled, declined, moved onto a day
the person logged that contact themselves or to a time still to come, it goes (as a sync
would have taken it) — never left on a day the meeting is no longer on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import console_user
from tests.connectors.helpers import captured, connected, last_touch, said, touchpoints
from tests.fakes.calendar_fixtures import CalendarApp
from tests.fakes.calendar_store import FakeCalendar, FakeEvent

PROVIDERS = ["google", "microsoft"]
ALEX = console_user("alex", tz="Europe/Berlin")
# The clock starts on Monday 2026-11-23 10:00 UTC (11:00 in Berlin).
MON_14 = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)
TUE_14 = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
WED_09 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
THU_14 = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)
FRI_15 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture
def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """The calendar app's database: SQLite and, when configured, PostgreSQL."""
    return any_engine


async def _say(app: CalendarApp, line: str) -> str:
    return await said(app, ALEX, line)


async def _sync(app: CalendarApp, **delta: float) -> None:
    app.clock.advance(**(delta or {"minutes": 5, "seconds": 1}))
    assert (await app.sync.run_once()).failed == 0


async def _kim_met(app: CalendarApp, provider: str, start: datetime
                   ) -> tuple[FakeCalendar, FakeEvent, int, int]:
    calendar = await connected(app, provider)
    kim = await app.add_contact("alex", "Kim Lee", "kim@acme.com")
    meeting = calendar.add(start=start, attendees=["kim@acme.com"])
    assert (await app.sync.run_once()).failed == 0
    [logged] = await touchpoints(app)
    assert (logged.happened_at, logged.source) == (start, "calendar")
    return calendar, meeting, kim, logged.id


async def _full_resync(app: CalendarApp, calendar: FakeCalendar) -> None:
    calendar.expire_cursors()
    await _sync(app)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_undo_of_a_typed_log_moves_it_to_the_meetings_new_day(
        calendar_app: CalendarApp, provider: str) -> None:
    app = calendar_app
    calendar, meeting, kim, touch_id = await _kim_met(app, provider, TUE_14)
    await _say(app, "log Kim Tuesday call: typed tue")
    calendar.move(meeting.id, MON_14)
    await _sync(app)
    # The typed conversation stands where it was.
    assert [(t.happened_at, t.source) for t in await touchpoints(app)] == [
        (TUE_14, "command")]

    assert (await _say(app, "undo")).startswith("Undone: ")
    assert [(t.id, t.happened_at, t.kind, t.summary, t.source)
            for t in await touchpoints(app)] == [
        (touch_id, MON_14, "meeting", None, "calendar")]
    assert await last_touch(app, kim) == MON_14
    show = await _say(app, "show Kim")
    assert "Tue Nov 17" not in show and f"t{touch_id} Mon Nov 16, meeting" in show, show
    # Followed from there as before, and a full resync finds nothing to change.
    await _full_resync(app, calendar)
    assert [(t.id, t.happened_at) for t in await touchpoints(app)] == [(touch_id, MON_14)]
    calendar.move(meeting.id, WED_09)
    await _sync(app)
    assert [(t.id, t.happened_at) for t in await touchpoints(app)] == [(touch_id, WED_09)]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_undo_of_an_edit_moves_it_to_the_meetings_new_time(
        calendar_app: CalendarApp, provider: str) -> None:
    app = calendar_app
    calendar, meeting, kim, touch_id = await _kim_met(app, provider, THU_14)
    await _say(app, f"edit t{touch_id}: talked budget")
    calendar.move(meeting.id, FRI_15)
    await _sync(app)
    assert [(t.happened_at, t.summary) for t in await touchpoints(app)] == [
        (THU_14, "talked budget")]

    await _say(app, "undo")
    assert [(t.id, t.happened_at, t.summary, t.source) for t in await touchpoints(app)] == [
        (touch_id, FRI_15, None, "calendar")]
    assert await last_touch(app, kim) == FRI_15
    assert [(row.start_at, row.touchpoint_id) for row in await captured(app)] == [
        (FRI_15, touch_id)]
    recent = await _say(app, "recent")
    assert "Thu Nov 19" not in recent and "Fri Nov 20" in recent, recent
    await _full_resync(app, calendar)
    assert [(t.id, t.happened_at) for t in await touchpoints(app)] == [(touch_id, FRI_15)]


@pytest.mark.parametrize("gone", ["cancel", "delete", "decline"])
async def test_undo_of_an_edit_after_the_meeting_went_takes_the_touchpoint_away(
        calendar_app: CalendarApp, gone: str) -> None:
    app = calendar_app
    calendar, meeting, kim, touch_id = await _kim_met(app, "google", THU_14)
    await _say(app, "log Kim Monday call: an older call")
    await _say(app, f"edit t{touch_id}: talked budget")
    if gone == "decline":
        calendar.respond(meeting.id, calendar.owner, "declined")
    else:
        getattr(calendar, gone)(meeting.id)
    await _sync(app)
    assert [t.summary for t in await touchpoints(app)] == ["an older call", "talked budget"]

    await _say(app, "undo")
    [older] = await touchpoints(app)
    assert older.summary == "an older call"
    assert await last_touch(app, kim) == older.happened_at


async def test_undo_of_an_edit_after_a_move_onto_a_day_logged_by_hand_takes_it_away(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar, meeting, kim, touch_id = await _kim_met(app, "google", THU_14)
    await _say(app, "log Kim Tuesday call: typed tue")
    await _say(app, f"edit t{touch_id}: talked budget")
    calendar.move(meeting.id, TUE_14 + timedelta(hours=2))
    await _sync(app)

    await _say(app, "undo")
    [typed] = await touchpoints(app)
    assert (typed.summary, typed.source) == ("typed tue", "command")
    assert await last_touch(app, kim) == typed.happened_at
    # Moved off that day again, the meeting is logged as any move would log it.
    calendar.move(meeting.id, FRI_15)
    await _sync(app)
    assert [(t.happened_at, t.source) for t in await touchpoints(app)] == [
        (typed.happened_at, "command"), (FRI_15, "calendar")]


async def test_undo_of_an_edit_after_a_move_to_a_time_to_come_waits_for_it(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar, meeting, kim, touch_id = await _kim_met(app, "google", THU_14)
    await _say(app, f"edit t{touch_id}: talked budget")
    later = app.clock.now + timedelta(hours=3)
    calendar.move(meeting.id, later)
    await _sync(app)

    await _say(app, "undo")
    assert await touchpoints(app) == []
    assert await last_touch(app, kim) is None
    # Logged once it has happened, once.
    await _sync(app, hours=4)
    await _sync(app)
    assert [(t.happened_at, t.source) for t in await touchpoints(app)] == [
        (later, "calendar")]


async def test_undo_of_a_delete_brings_it_back_at_the_meetings_new_time(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar, meeting, kim, touch_id = await _kim_met(app, "google", THU_14)
    await _say(app, f"delete t{touch_id}")
    calendar.move(meeting.id, FRI_15)
    await _sync(app)
    assert await touchpoints(app) == []

    await _say(app, "undo")
    assert [(t.id, t.happened_at, t.source) for t in await touchpoints(app)] == [
        (touch_id, FRI_15, "calendar")]
    assert await last_touch(app, kim) == FRI_15
