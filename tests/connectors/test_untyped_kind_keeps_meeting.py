"""A log or `done` that names no kind, on a day the calendar logged a meeting with that
person, completes the meeting and leaves it a meeting (the reply says so too); a kind the
person typed wins, "chat" included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import console_user
from tests.connectors.helpers import connected, said, touchpoints
from tests.fakes.calendar_fixtures import CalendarApp

ALEX = console_user("alex", tz="UTC")
# The clock starts on Monday 2026-11-23 10:00 UTC; the meeting was at 09:00.
MON_09 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MON_15 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """The calendar app's database: SQLite and, when configured, PostgreSQL."""
    return any_engine


async def _say(app: CalendarApp, line: str) -> str:
    return await said(app, ALEX, line)


async def _meeting_logged(app: CalendarApp) -> int:
    calendar = await connected(app, "google")
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    calendar.add(start=MON_09, attendees=["dana@acme.com"])
    await app.sync.run_once()
    [logged] = await touchpoints(app)
    assert (logged.kind, logged.source) == ("meeting", "calendar")
    app.clock.set(MON_15)
    return logged.id


@pytest.mark.parametrize(("typed", "summary"), [
    ("log Dana today: Q3", "Q3"), ("log Dana today", None), ("log Dana: Q3", "Q3"),
    ("talked to Dana today", None)])
async def test_a_log_naming_no_kind_keeps_the_calendars_meeting(
        calendar_app: CalendarApp, typed: str, summary: str | None) -> None:
    app = calendar_app
    logged = await _meeting_logged(app)

    text = await _say(app, typed)

    assert text.startswith("Logged meeting with Dana Scully"), text
    assert [(t.id, t.kind, t.summary) for t in await touchpoints(app)] == [
        (logged, "meeting", summary)]
    assert (await _say(app, "undo")).startswith("Undone: logged meeting with Dana Scully")
    assert [(t.id, t.kind, t.source) for t in await touchpoints(app)] == [
        (logged, "meeting", "calendar")]


@pytest.mark.parametrize(("typed", "kind"), [
    ("log Dana today: chat, Q3", "chat"), ("log Dana chat: Q3", "chat"),
    ("had coffee with Dana today", "coffee"),
    # Said before the name, without "with": "chat" is said too, not the default.
    ("log chat Dana", "chat"), ("log chat Dana today", "chat"),
    ("log chat Dana Scully: Q3", "chat"), ("log coffee Dana Scully", "coffee")])
async def test_a_kind_typed_wins_over_the_calendars(
        calendar_app: CalendarApp, typed: str, kind: str) -> None:
    app = calendar_app
    logged = await _meeting_logged(app)

    text = await _say(app, typed)

    assert text.startswith(f"Logged {kind} with Dana Scully"), text
    assert [(t.id, t.kind) for t in await touchpoints(app)] == [(logged, kind)]


async def test_done_naming_no_kind_with_nothing_open_keeps_the_meeting(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    logged = await _meeting_logged(app)

    text = await _say(app, "done Dana: Q3")

    assert text == "Logged meeting with Dana Scully.", text
    assert [(t.id, t.kind, t.summary, t.source) for t in await touchpoints(app)] == [
        (logged, "meeting", "Q3", "command")]


async def test_done_on_a_nudge_naming_no_kind_keeps_the_meeting(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    app.clock.set(MON_09.replace(hour=7))
    await connected(app, "google")
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    await _say(app, "note Dana: ask about the Q3 plan today")
    await app.runtime.sweeper.plan(app.clock.now)
    logged = await _meeting_logged_again(app)

    await _say(app, "done Dana: the Q3 plan")

    assert [(t.id, t.kind, t.summary) for t in await touchpoints(app)] == [
        (logged, "meeting", "the Q3 plan")]


async def _meeting_logged_again(app: CalendarApp) -> int:
    calendar = app.google.calendar("alex@example.com")
    calendar.add(start=MON_09, attendees=["dana@acme.com"])
    app.clock.set(MON_09.replace(hour=10))
    await app.sync.run_once()
    [logged] = await touchpoints(app)
    app.clock.set(MON_15)
    return logged.id
