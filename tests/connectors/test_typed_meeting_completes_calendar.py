"""A meeting the calendar logged and the same meeting typed by the person that day (`log Dana
meeting: the Q3 plan`, `log Dana yesterday meeting: ...`) are one conversation, whichever
came first: the typed words complete the calendar's touchpoint (kept as the person's own,
no longer marked as logged from the calendar), and `undo` gives it back to the calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.views import StatsView
from tests.conftest import console_user
from tests.connectors.helpers import connected, said, touchpoints
from tests.fakes.calendar_fixtures import CalendarApp

PROVIDERS = ["google", "microsoft"]
ALEX = console_user("alex", tz="Europe/Berlin")
# The clock starts on Monday 2026-11-23 10:00 UTC (11:00 in Berlin).
MON_08 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SUN_14 = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)


@pytest.fixture
def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """The calendar app's database: SQLite and, when configured, PostgreSQL."""
    return any_engine


async def _say(app: CalendarApp, line: str) -> str:
    return await said(app, ALEX, line)


async def _sync(app: CalendarApp) -> None:
    app.clock.advance(minutes=5, seconds=1)
    assert (await app.sync.run_once()).failed == 0


async def _stats_line(app: CalendarApp) -> str:
    reply = await app.runtime.rapport.handle_text(ALEX, "stats")
    assert isinstance(reply.view, StatsView)
    return reply.text.splitlines()[0]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("held", "typed"), [
    (MON_08, "log Dana meeting: the Q3 plan"),
    (SUN_14, "log Dana yesterday meeting: the Q3 plan")])
async def test_a_meeting_typed_after_the_calendar_logged_it_completes_it(
        calendar_app: CalendarApp, provider: str, held: datetime, typed: str) -> None:
    app = calendar_app
    calendar = await connected(app, provider)
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    meeting = calendar.add(start=held, attendees=["dana@acme.com"])
    await app.sync.run_once()
    [logged] = await touchpoints(app)
    assert logged.source == "calendar"

    await _say(app, typed)
    [touch] = await touchpoints(app)
    # One conversation: the calendar's, with the person's words, now theirs.
    assert (touch.id, touch.happened_at, touch.kind, touch.summary, touch.source) == (
        logged.id, held, "meeting", "the Q3 plan", "command")
    show = await _say(app, "show Dana")
    assert f"t{touch.id} " in show and ", meeting: the Q3 plan" in show
    assert "logged from your calendar" not in show and "in all" not in show
    assert await _stats_line(app) == (
        "Conversations logged: 1 in the last 7 days (1 person), 1 in 30 days.")
    # The calendar adds nothing again, and no longer moves it: the summary stays.
    calendar.move(meeting.id, held + timedelta(minutes=30))
    await _sync(app)
    assert [(t.id, t.happened_at, t.summary, t.source) for t in await touchpoints(app)] == [
        (logged.id, held, "the Q3 plan", "command")]

    # Undo gives the meeting back to the calendar, which follows it again.
    assert (await _say(app, "undo")).startswith("Undone: logged meeting with Dana Scully")
    assert [(t.id, t.summary, t.source) for t in await touchpoints(app)] == [
        (logged.id, None, "calendar")]
    calendar.move(meeting.id, held + timedelta(hours=1))
    await _sync(app)
    assert [(t.id, t.happened_at, t.source) for t in await touchpoints(app)] == [
        (logged.id, held + timedelta(hours=1), "calendar")]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("held", "typed"), [
    (MON_08, "log Dana meeting: the Q3 plan"),
    (SUN_14, "log Dana yesterday meeting: the Q3 plan")])
async def test_a_meeting_typed_before_the_calendar_syncs_it_stays_the_only_one(
        calendar_app: CalendarApp, provider: str, held: datetime, typed: str) -> None:
    app = calendar_app
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    await _say(app, typed)
    [mine] = await touchpoints(app)
    calendar = await connected(app, provider)
    calendar.add(start=held, attendees=["dana@acme.com"])
    await app.sync.run_once()
    await _sync(app)
    assert [(t.id, t.kind, t.summary, t.source) for t in await touchpoints(app)] == [
        (mine.id, "meeting", "the Q3 plan", "command")]
    assert await _stats_line(app) == (
        "Conversations logged: 1 in the last 7 days (1 person), 1 in 30 days.")


async def test_a_typed_log_on_another_day_stays_a_conversation_of_its_own(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar = await connected(app, "google")
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    calendar.add(start=SUN_14 - timedelta(days=1), attendees=["dana@acme.com"])
    await app.sync.run_once()
    await _say(app, "log Dana yesterday meeting: the Q3 plan")
    assert [(t.summary, t.source) for t in await touchpoints(app)] == [
        (None, "calendar"), ("the Q3 plan", "command")]
