"""`done` with words about a conversation the calendar logged that day (`done #5: meeting,
the Q3 plan`, `done Dana: the Q3 plan`) is the same conversation `log` is: it completes the
calendar's touchpoint rather than add one beside it, and `undo` gives the meeting back to
the calendar and, for a nudge's `done`, the nudge back too."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.storage.models import Nudge
from tests.conftest import console_user
from tests.connectors.helpers import connected, said, touchpoints
from tests.fakes.calendar_fixtures import CalendarApp

ALEX = console_user("alex", tz="Europe/Berlin")
# The clock starts on Monday 2026-11-23 10:00 UTC (11:00 in Berlin).
MON_08 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """The calendar app's database: SQLite and, when configured, PostgreSQL."""
    return any_engine


async def _say(app: CalendarApp, line: str) -> str:
    return await said(app, ALEX, line)


async def _nudges(app: CalendarApp) -> list[tuple[int, str]]:
    async with app.runtime.sessions() as session:
        return [(n.id, n.status) for n in (await session.scalars(
            select(Nudge).order_by(Nudge.id))).all()]


async def _meeting_logged(app: CalendarApp) -> int:
    """Dana has a reminder out about a note for today, and the calendar logged this
    morning's meeting with her: its touchpoint's id."""
    calendar = await connected(app, "google")
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    await _say(app, "note Dana: ask about the Q3 plan today")
    await app.runtime.sweeper.plan(app.clock.now)
    calendar.add(start=MON_08, attendees=["dana@acme.com"])
    await app.sync.run_once()
    [logged] = await touchpoints(app)
    assert logged.source == "calendar"
    return logged.id


@pytest.mark.parametrize("target", ["#{nudge}", "Dana"])
async def test_done_with_words_completes_the_meeting_the_calendar_logged(
        calendar_app: CalendarApp, target: str) -> None:
    app = calendar_app
    logged = await _meeting_logged(app)
    [(nudge_id, status)] = await _nudges(app)

    await _say(app, f"done {target.format(nudge=nudge_id)}: meeting, the Q3 plan")

    [touch] = await touchpoints(app)
    assert (touch.id, touch.happened_at, touch.kind, touch.summary, touch.source) == (
        logged, MON_08, "meeting", "the Q3 plan", "command")
    assert await _nudges(app) == [(nudge_id, "done")]
    # Undo: the nudge is open again and the meeting the calendar's again, as it was.
    await _say(app, "undo")
    assert await _nudges(app) == [(nudge_id, status)]
    assert [(t.id, t.kind, t.summary, t.source) for t in await touchpoints(app)] == [
        (logged, "meeting", None, "calendar")]


async def test_done_about_someone_with_nothing_open_completes_the_meeting_too(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    logged = await _meeting_logged(app)
    await _say(app, "dismiss Dana")

    await _say(app, "done Dana: coffee, the Q3 plan")

    assert [(t.id, t.kind, t.summary, t.source) for t in await touchpoints(app)] == [
        (logged, "coffee", "the Q3 plan", "command")]
    await _say(app, "undo")
    assert [(t.id, t.kind, t.summary, t.source) for t in await touchpoints(app)] == [
        (logged, "meeting", None, "calendar")]
