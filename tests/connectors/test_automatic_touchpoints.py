"""Touchpoints the calendar logged: marked as such in `stats` (text, Slack blocks, Teams card)
and `export`, deleted and undone like typed ones, and never overriding a typed summary."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from rapport.bot.core.views import StatsView
from rapport.bot.platforms.slack.blocks import stats_blocks
from rapport.bot.platforms.teams.cards import stats_card
from rapport.storage.models import Touchpoint
from tests.conftest import console_user
from tests.connectors.helpers import connected, said, touchpoints
from tests.fakes.calendar_fixtures import CalendarApp
from tests.fakes.calendar_store import FakeCalendar, FakeEvent

ALEX = console_user("alex", tz="Europe/Berlin")
# The clock starts on Monday 2026-11-23 10:00 UTC.
THU_14 = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)
FRI_10 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


async def _say(app: CalendarApp, line: str) -> str:
    return await said(app, ALEX, line)


async def _sync(app: CalendarApp) -> None:
    app.clock.advance(minutes=5, seconds=1)
    assert (await app.sync.run_once()).failed == 0


async def _two_meetings_with_dana(app: CalendarApp) -> tuple[int, list[Touchpoint]]:
    calendar = await connected(app, "google")
    dana = await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    calendar.add(start=THU_14, attendees=["dana@acme.com"])
    calendar.add(start=FRI_10, attendees=["dana@acme.com"])
    await app.sync.run_once()
    logged = await touchpoints(app)
    assert [(t.happened_at, t.source) for t in logged] == [(THU_14, "calendar"),
                                                          (FRI_10, "calendar")]
    return dana, logged


def _texts(node: object) -> str:
    return json.dumps(node, ensure_ascii=False)



async def _dana_met_twice(app: CalendarApp
                          ) -> tuple[FakeCalendar, FakeEvent, FakeEvent, Touchpoint, Touchpoint]:
    """Dana (a contact with her email) in two meetings the calendar has logged: the calendar,
    the two meetings and their two touchpoints."""
    calendar = await connected(app, "google")
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    meeting = calendar.add(start=THU_14, attendees=["dana@acme.com"])
    other = calendar.add(start=FRI_10, attendees=["dana@acme.com"])
    await app.sync.run_once()
    first, second = await touchpoints(app)
    return calendar, meeting, other, first, second

async def test_stats_say_how_many_conversations_the_calendar_logged(calendar_app: CalendarApp
                                                                   ) -> None:
    app = calendar_app
    await _two_meetings_with_dana(app)
    await _say(app, "log Dana call yesterday: the Q3 plan")
    reply = await app.runtime.rapport.handle_text(ALEX, "stats")
    assert reply.text.splitlines()[0] == (
        "Conversations logged: 3 in the last 7 days (1 person), 3 in 30 days (2 from your "
        "calendar).")
    assert isinstance(reply.view, StatsView)
    stats = reply.view.stats
    assert stats.automatic_month == (("calendar", 2),)
    # Slack (App Home's stats blocks) and Teams (the stats card) say the same.
    slack = _texts([block.to_dict() for block in stats_blocks(stats)])
    assert "3 this month (2 from your calendar)" in slack
    teams = _texts(stats_card(stats))
    assert "3 in 30 days (2 from your calendar)" in teams


async def test_stats_without_calendar_conversations_say_nothing_about_it(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    await _say(app, "log Dana call yesterday")
    reply = await app.runtime.rapport.handle_text(ALEX, "stats")
    assert reply.text.splitlines()[0] == (
        "Conversations logged: 1 in the last 7 days (1 person), 1 in 30 days.")
    assert isinstance(reply.view, StatsView)
    assert "calendar" not in _texts(stats_card(reply.view.stats))


async def test_export_says_where_each_conversation_came_from(calendar_app: CalendarApp) -> None:
    app = calendar_app
    await _two_meetings_with_dana(app)
    await _say(app, "log Dana call yesterday: the Q3 plan")
    reply = await app.runtime.rapport.handle_text(ALEX, "export")
    assert reply.attachment is not None
    data = json.loads(reply.attachment.data)
    assert sorted((t["source"], t["logged_from"], t["automatic"])
                  for t in data["touchpoints"]) == [
        ("calendar", "calendar", True), ("calendar", "calendar", True),
        ("command", "typed", False)]


async def test_a_calendar_touchpoint_is_deleted_and_undone_like_a_typed_one(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    _dana, logged = await _two_meetings_with_dana(app)
    shown = await _say(app, "show Dana")
    handle = f"t{logged[1].id}"
    assert f"{handle} " in shown and "(logged from your calendar)" in shown
    assert (await _say(app, f"delete {handle}")).startswith(f"Deleted {handle}: meeting with "
                                                            "Dana Scully")
    assert [t.id for t in await touchpoints(app)] == [logged[0].id]
    # A later sync does not log the deleted meeting again.
    await _sync(app)
    assert [t.id for t in await touchpoints(app)] == [logged[0].id]
    await _say(app, "undo")
    assert [(t.id, t.source) for t in await touchpoints(app)] == [
        (logged[0].id, "calendar"), (logged[1].id, "calendar")]
    await _sync(app)
    assert len(await touchpoints(app)) == 2


async def test_a_typed_summary_on_the_same_day_stands_alone(calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar = await connected(app, "google")
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    # The person logs the meeting themselves (the meeting is still going on).
    meeting = calendar.add(start=app.clock.now - timedelta(minutes=10),
                           attendees=["dana@acme.com"])
    await _say(app, "log Dana meeting: agreed the Q3 plan")
    await app.sync.run_once()
    app.clock.advance(hours=1)
    await _sync(app)
    assert [(t.source, t.summary) for t in await touchpoints(app)] == [
        ("command", "agreed the Q3 plan")]
    # Moving the meeting later that day does not touch the typed one either.
    calendar.move(meeting.id, app.clock.now - timedelta(minutes=40))
    await _sync(app)
    assert [(t.source, t.summary) for t in await touchpoints(app)] == [
        ("command", "agreed the Q3 plan")]


async def test_a_summary_added_to_a_calendar_touchpoint_survives_a_cancellation(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar, meeting, other, first, second = await _dana_met_twice(app)
    await _say(app, f"edit t{first.id}: the Q3 plan")
    calendar.cancel(meeting.id)
    calendar.cancel(other.id)
    await _sync(app)
    # The untouched calendar entry follows the calendar; the one with the person's words stays.
    async with app.runtime.sessions() as session:
        left = (await session.execute(select(Touchpoint.id, Touchpoint.summary))).all()
    assert [(row.id, row.summary) for row in left] == [(first.id, "the Q3 plan")]
    assert second.id not in {row.id for row in left}


async def test_a_day_given_by_hand_to_a_calendar_touchpoint_survives_a_move_and_a_cancel(
        calendar_app: CalendarApp) -> None:
    app = calendar_app
    calendar, meeting, other, first, second = await _dana_met_twice(app)
    # The calendar had the wrong day: it was Wednesday.
    await _say(app, f"edit t{first.id} 2026-11-18")
    [edited] = [t.happened_at for t in await touchpoints(app) if t.id == first.id]
    assert edited.date() == date(2026, 11, 18)
    calendar.move(meeting.id, THU_14 + timedelta(hours=2))
    calendar.move(other.id, FRI_10 + timedelta(hours=1))
    await _sync(app)
    async with app.runtime.sessions() as session:
        left = dict((await session.execute(select(Touchpoint.id, Touchpoint.happened_at))).all())
    assert left == {first.id: edited, second.id: FRI_10 + timedelta(hours=1)}
    calendar.cancel(meeting.id)
    await _sync(app)
    assert [t.id for t in await touchpoints(app)] == [first.id, second.id]


async def test_a_date_or_kind_corrected_on_a_calendar_touchpoint_sticks(
        calendar_app: CalendarApp) -> None:
    """`edit t1 Nov 19` then the meeting moved: the calendar put the date back; cancelled:
    it deleted what the person had corrected."""
    app = calendar_app
    calendar = await connected(app, "google")
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    held = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
    meeting = calendar.add(start=held, attendees=["dana@acme.com"])
    await app.sync.run_once()
    [touch] = await touchpoints(app)
    rapport = app.runtime.rapport
    assert (await rapport.handle_text(ALEX, f"edit t{touch.id} Nov 19")).ok
    assert (await rapport.handle_text(ALEX, f"edit t{touch.id} call")).ok
    calendar.move(meeting.id, held + timedelta(hours=2))
    app.clock.advance(minutes=6)
    await app.sync.run_once()
    calendar.cancel(meeting.id)
    app.clock.advance(minutes=6)
    await app.sync.run_once()
    [kept] = await touchpoints(app)
    assert (kept.id, kept.kind, kept.source) == (touch.id, "call", "calendar")
    assert kept.happened_at.date().isoformat() == "2026-11-19"
    show = await rapport.handle_text(ALEX, "show Dana")
    assert f"t{touch.id} Thu Nov 19, call (logged from your calendar)" in show.text


async def test_a_meeting_in_two_connected_calendars_is_one_conversation(
        calendar_app: CalendarApp) -> None:
    """The same meeting in the Google and the Microsoft calendar was logged twice, so
    `stats` counted two conversations for one meeting."""
    app = calendar_app
    personal = await connected(app, "google")
    work = await connected(app, "microsoft", "alex@work.example.com")
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    held = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
    for calendar in (personal, work):
        calendar.add(start=held, attendees=["dana@acme.com"])
    await app.sync.run_once()
    assert [(t.happened_at, t.source) for t in await touchpoints(app)] == [(held, "calendar")]
    stats = await app.runtime.rapport.handle_text(ALEX, "stats")
    assert "1 in 30 days (1 from your calendar)" in stats.text


@pytest.mark.parametrize("cancelled_in", ["google", "microsoft"])
async def test_a_meeting_in_two_calendars_stays_logged_while_one_still_holds_it(
        calendar_app: CalendarApp, cancelled_in: str) -> None:
    """The calendar that logged a meeting held in two cancelled it: the touchpoint went,
    though the meeting still stood in the other calendar."""
    app = calendar_app
    calendars = {"google": await connected(app, "google"),
                 "microsoft": await connected(app, "microsoft", "alex@work.example.com")}
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    held = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
    meetings = {name: calendar.add(start=held, attendees=["dana@acme.com"])
                for name, calendar in calendars.items()}
    await app.sync.run_once()
    [logged] = await touchpoints(app)

    calendars[cancelled_in].cancel(meetings[cancelled_in].id)
    await _sync(app)
    assert [(t.id, t.happened_at, t.source) for t in await touchpoints(app)] == [
        (logged.id, held, "calendar")]
    # Still the calendar's: cancelled in the other calendar too, it goes.
    [other] = [name for name in calendars if name != cancelled_in]
    calendars[other].cancel(meetings[other].id)
    await _sync(app)
    assert await touchpoints(app) == []


async def test_an_undone_correction_gives_the_touchpoint_back_to_the_calendar(
        calendar_app: CalendarApp) -> None:
    """`edit t1 call` then `undo`: the old values came back, but the calendar no longer
    moved or deleted the touchpoint, as if it were still corrected."""
    app = calendar_app
    calendar, meeting, other, first, second = await _dana_met_twice(app)
    await _say(app, f"edit t{first.id} call")
    assert (await _say(app, "undo")).startswith(f"Undone: edited t{first.id}")
    await _say(app, f"edit t{second.id}: the Q3 plan")
    await _say(app, "undo")
    calendar.move(meeting.id, THU_14 + timedelta(hours=2))
    calendar.cancel(other.id)
    await _sync(app)
    assert [(t.id, t.happened_at, t.kind, t.summary) for t in await touchpoints(app)] == [
        (first.id, THU_14 + timedelta(hours=2), "meeting", None)]


async def test_a_deleted_calendar_touchpoint_brought_back_by_undo_follows_the_calendar_again(
        calendar_app: CalendarApp) -> None:
    """`delete t1` then `undo`: the touchpoint came back, but the calendar no longer moved or
    deleted it with its meeting."""
    app = calendar_app
    calendar, meeting, other, first, second = await _dana_met_twice(app)
    for touch in (first, second):
        await _say(app, f"delete t{touch.id}")
        assert (await _say(app, "undo")).startswith("Undone: deleted t")
    restored = {t.happened_at: t.id for t in await touchpoints(app)}
    assert set(restored) == {THU_14, FRI_10}
    calendar.move(meeting.id, THU_14 + timedelta(hours=2))
    calendar.cancel(other.id)
    await _sync(app)
    assert [(t.id, t.happened_at) for t in await touchpoints(app)] == [
        (restored[THU_14], THU_14 + timedelta(hours=2))]
    # Deleted and left deleted, a meeting is not logged again by a later sync.
    [kept] = await touchpoints(app)
    await _say(app, f"delete t{kept.id}")
    calendar.move(meeting.id, THU_14 + timedelta(hours=3))
    await _sync(app)
    assert await touchpoints(app) == []

