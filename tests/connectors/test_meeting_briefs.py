"""Briefs before meetings with contacts: once, at the chosen lead time, only when there is
something to say, never while paused or at night; from a real synced calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest.mock import ANY

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from rapport.bot.connectors.calendars.briefs import BriefJob
from rapport.storage.models import CapturedEvent
from tests.conftest import console_user
from tests.connectors.helpers import connected
from tests.fakes.calendar_fixtures import CalendarApp

ALEX = console_user("alex", tz="Europe/Berlin")
# Monday 23 Nov 2026 10:00 UTC (11:00 in Berlin) is the shared clock's start.
MEETING = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # 14:00 in Berlin


async def _setup(app: CalendarApp, provider: str = "google") -> tuple[BriefJob, list[str]]:
    calendar = await connected(app, provider)
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    rapport = app.runtime.rapport
    assert (await rapport.handle_text(ALEX, "log Dana yesterday coffee: the Q3 plan")).ok
    assert (await rapport.handle_text(ALEX, "note Dana: hiking trip in Yosemite")).ok
    assert (await rapport.handle_text(ALEX, "date Dana birthday Nov 27")).ok
    calendar.add(start=MEETING, attendees=["dana@acme.com"])
    await app.sync.run_once()
    told: list[str] = []

    async def tell(user_id: int, text: str, people: object = ()) -> bool:
        told.append(text)
        return True

    return BriefJob(sessions=app.runtime.sessions, tell=tell, clock=app.clock), told


@pytest.mark.parametrize("provider", ["google", "microsoft"])
async def test_a_brief_arrives_once_thirty_minutes_before(calendar_app: CalendarApp,
                                                          provider: str) -> None:
    job, told = await _setup(calendar_app, provider)
    calendar_app.clock.set(MEETING - timedelta(minutes=31))
    assert await job.run_once() == 0 and told == []  # not yet
    calendar_app.clock.set(MEETING - timedelta(minutes=29))
    assert await job.run_once() == 1
    calendar_app.clock.advance(minutes=1)
    assert await job.run_once() == 0  # once per meeting
    [brief] = told
    assert brief.startswith("Meeting with Dana Scully at 14:00 — last talked Sun Nov 22 "
                            "(coffee: the Q3 plan)")
    assert "Ask about: the hiking trip in Yosemite (noted Mon Nov 23)" in brief
    assert "Dana's birthday is Fri Nov 27" in brief


async def test_settings_prep_moves_or_turns_off_the_brief(calendar_app: CalendarApp) -> None:
    job, told = await _setup(calendar_app)
    rapport = calendar_app.runtime.rapport
    assert (await rapport.handle_text(ALEX, "settings prep 1h")).ok
    calendar_app.clock.set(MEETING - timedelta(minutes=59))
    assert await job.run_once() == 1 and len(told) == 1
    assert "Briefs before meetings (connected calendars): 60 min before" in \
        (await rapport.handle_text(ALEX, "settings")).text
    bad = await rapport.handle_text(ALEX, "settings prep 5 hours")
    assert not bad.ok and "prep" in bad.text


async def test_no_brief_when_off_paused_or_with_nothing_to_say(calendar_app: CalendarApp) -> None:
    job, told = await _setup(calendar_app)
    rapport = calendar_app.runtime.rapport
    assert (await rapport.handle_text(ALEX, "settings prep off")).ok
    calendar_app.clock.set(MEETING - timedelta(minutes=10))
    assert await job.run_once() == 0
    assert (await rapport.handle_text(ALEX, "settings prep 30m")).ok
    assert (await rapport.handle_text(ALEX, "pause for 1 week")).ok
    assert await job.run_once() == 0 and told == []  # paused: this meeting passes quietly
    # A contact Rapport knows nothing about is no reason for a message.
    calendar = await connected(calendar_app, "microsoft")
    await calendar_app.add_contact("alex", "Lee Park", "lee@acme.com")
    assert (await rapport.handle_text(ALEX, "resume")).ok
    later = MEETING + timedelta(hours=2)
    calendar.add(start=later, attendees=["lee@acme.com"])
    await calendar_app.sync.run_once()
    calendar_app.clock.set(later - timedelta(minutes=20))
    assert await job.run_once() == 0 and told == []


async def test_a_meeting_moved_to_another_day_after_its_brief_gets_one_for_the_new_time(
        calendar_app: CalendarApp) -> None:
    """The brief said "at 14:00"; the meeting moved to tomorrow: tomorrow brings a brief for
    it (before, the brief claimed at 13:30 stood for the meeting wherever it went)."""
    job, told = await _setup(calendar_app)
    calendar = calendar_app.google.calendar("alex@example.com")
    [meeting] = calendar.events.values()
    calendar_app.clock.set(MEETING - timedelta(minutes=29))
    assert await job.run_once() == 1
    calendar_app.clock.advance(minutes=10)
    calendar.move(meeting.id, MEETING + timedelta(days=1, hours=1))
    await calendar_app.sync.run_once()
    calendar_app.clock.set(MEETING + timedelta(days=1, minutes=31))
    await calendar_app.sync.run_once()
    assert await job.run_once() == 1
    assert told[-1].startswith("Meeting with Dana Scully at 15:00 — last talked Sun Nov 22")
    # A move by less than the longest lead keeps the brief it had: no second one.
    calendar.move(meeting.id, MEETING + timedelta(days=1, hours=1, minutes=30))
    calendar_app.clock.advance(minutes=10)
    await calendar_app.sync.run_once()
    assert await job.run_once() == 0 and len(told) == 2


async def test_an_early_meeting_is_briefed_at_seven_not_skipped(calendar_app: CalendarApp
                                                                ) -> None:
    job, told = await _setup(calendar_app)
    calendar = calendar_app.google.calendar("alex@example.com")
    early = datetime(2026, 11, 24, 6, 15, tzinfo=UTC)  # 07:15 in Berlin
    calendar.add(start=early, attendees=["dana@acme.com"])
    calendar_app.clock.advance(minutes=6)
    await calendar_app.sync.run_once()
    calendar_app.clock.set(MEETING + timedelta(hours=1))  # today's meeting is over
    await job.run_once()
    told.clear()
    calendar_app.clock.set(early - timedelta(minutes=30))  # 06:45: too early for a message
    assert await job.run_once() == 0
    calendar_app.clock.set(early - timedelta(minutes=15))  # 07:00
    assert await job.run_once() == 1
    assert told[0].startswith("Meeting with Dana Scully at 07:15")


async def test_someone_with_no_conversation_yet_reads_as_one_sentence(
        calendar_app: CalendarApp) -> None:
    job, told = await _setup(calendar_app)
    await calendar_app.add_contact("alex", "Lee Park", "lee@acme.com")
    assert (await calendar_app.runtime.rapport.handle_text(ALEX, "note Lee: the new role")).ok
    calendar = calendar_app.google.calendar("alex@example.com")
    later = MEETING + timedelta(hours=3)
    calendar.add(start=later, attendees=["lee@acme.com", "dana@acme.com"])
    calendar_app.clock.advance(minutes=6)
    await calendar_app.sync.run_once()
    calendar_app.clock.set(later - timedelta(minutes=29))
    assert await job.run_once() == 1
    assert told[-1].endswith("\n• Lee Park — ask about: the new role (noted Mon Nov 23).")


async def test_briefs_turned_off_come_back_with_prep_on(calendar_app: CalendarApp) -> None:
    """`settings prep on` answered with an error, so after `off` there was no plain way back."""
    rapport = calendar_app.runtime.rapport
    assert (await rapport.handle_text(ALEX, "settings prep off")).ok
    back = await rapport.handle_text(ALEX, "settings prep on")
    assert back.ok and "Briefs before meetings (connected calendars): 30 min before" in back.text


async def test_a_meeting_in_two_connected_calendars_is_briefed_once(
        calendar_app: CalendarApp) -> None:
    """Work and personal calendars both holding the meeting sent the same brief twice."""
    job, told = await _setup(calendar_app)
    await calendar_app.add_contact("alex", "Lee Park", "lee@acme.com")
    assert (await calendar_app.runtime.rapport.handle_text(ALEX, "note Lee: the new role")).ok
    work = await connected(calendar_app, "microsoft", "alex@work.example.com")
    work.add(start=MEETING, attendees=["dana@acme.com", "lee@acme.com"])
    calendar_app.clock.advance(minutes=6)
    await calendar_app.sync.run_once()
    calendar_app.clock.set(MEETING - timedelta(minutes=29))
    assert await job.run_once() == 1
    calendar_app.clock.advance(minutes=1)
    assert await job.run_once() == 0
    [brief] = told
    # One brief, with everyone either calendar lists.
    assert brief.startswith("Meeting at 14:00 with:\n• Dana Scully — last talked")
    assert brief.endswith("\n• Lee Park — ask about: the new role (noted Mon Nov 23).")


async def test_meetings_not_yet_due_cost_no_transaction_each(calendar_app: CalendarApp
                                                             ) -> None:
    """Every minute the job sees each meeting of the next two hours: one not yet due (or
    already briefed) is left out by one read for all of them, not asked about in a
    transaction of its own, once a minute for up to two hours."""
    calendar = await connected(calendar_app, "google")
    await calendar_app.add_contact("alex", "Dana Scully", "dana@acme.com")
    assert (await calendar_app.runtime.rapport.handle_text(
        ALEX, "note Dana: hiking trip in Yosemite")).ok
    for minutes in (0, 10, 20, 30):
        calendar.add(start=MEETING + timedelta(minutes=minutes), attendees=["dana@acme.com"])
    await calendar_app.sync.run_once()
    told: list[str] = []

    async def tell(user_id: int, text: str, people: object = ()) -> bool:
        told.append(text)
        return True

    job = BriefJob(sessions=calendar_app.runtime.sessions, tell=tell, clock=calendar_app.clock)
    leads_read: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "prep_minutes" in statement:
            leads_read.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        # Three in view (the fourth starts just past the two hours), none due yet.
        calendar_app.clock.set(MEETING - timedelta(minutes=90))
        assert await job.run_once() == 0
        assert len(leads_read) == 1  # one read of the users' leads, none per meeting
        leads_read.clear()
        calendar_app.clock.set(MEETING - timedelta(minutes=25))  # the first one is due
        assert await job.run_once() == 1
        calendar_app.clock.advance(minutes=1)
        assert await job.run_once() == 0  # briefed: left out with the others, not yet due
        assert len(leads_read) == 3  # the two reads, and the due meeting's own decision
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert len(told) == 1 and told[0].startswith("Meeting with Dana Scully at 14:00")


async def test_a_calendar_connected_after_the_brief_brings_no_second_one(
        calendar_app: CalendarApp) -> None:
    """The work calendar, connected after the personal one's copy was briefed, holds the same
    meeting: the read of meetings to brief shows only the new copy, which is the same
    meeting, so no second brief."""
    job, told = await _setup(calendar_app)
    calendar_app.clock.set(MEETING - timedelta(minutes=29))
    assert await job.run_once() == 1
    work = await connected(calendar_app, "microsoft", "alex@work.example.com")
    work.add(start=MEETING, attendees=["dana@acme.com"])
    await calendar_app.sync.run_once()
    assert len(await _still_to_brief(calendar_app)) == 1  # the work copy, just captured
    calendar_app.clock.advance(minutes=1)
    assert await job.run_once() == 0 and len(told) == 1
    assert await _still_to_brief(calendar_app) == []  # and claimed: not asked again


async def _still_to_brief(app: CalendarApp) -> list[tuple[str, datetime]]:
    async with app.runtime.sessions() as session:
        return [(row.event_id, row.start_at) for row in await session.execute(
            select(CapturedEvent.event_id, CapturedEvent.start_at)
            .where(CapturedEvent.brief_sent_at.is_(None)))]


async def test_only_meetings_to_come_wait_for_a_brief(calendar_app: CalendarApp) -> None:
    """A meeting the sync finds after it began needs no brief, and one that ends without a
    brief (here briefs are off) needs none any more: both are marked handled, so the brief
    job's index holds meetings to come alone."""
    job, _told = await _setup(calendar_app)
    calendar = calendar_app.google.calendar("alex@example.com")
    calendar.add(start=datetime(2026, 11, 23, 8, 0, tzinfo=UTC),  # two hours ago
                 attendees=["dana@acme.com"])
    calendar_app.clock.advance(minutes=6)
    await calendar_app.sync.run_once()
    assert await _still_to_brief(calendar_app) == [(ANY, MEETING)]
    assert (await calendar_app.runtime.rapport.handle_text(ALEX, "settings prep off")).ok
    calendar_app.clock.set(MEETING - timedelta(minutes=10))
    assert await job.run_once() == 0
    calendar_app.clock.set(MEETING + timedelta(hours=2))  # over, unbriefed
    await calendar_app.sync.run_once()
    assert await _still_to_brief(calendar_app) == []


async def test_what_someone_is_like_is_kept_in_mind_not_asked_about(
        calendar_app: CalendarApp) -> None:
    """A brief said “Ask about: prefers email over calls”: a note of what the person is like
    is now said as something to keep in mind, beside the topics to ask about."""
    job, told = await _setup(calendar_app)
    assert (await calendar_app.runtime.rapport.handle_text(
        ALEX, "note Dana: prefers email over calls")).ok
    calendar_app.clock.set(MEETING - timedelta(minutes=29))
    assert await job.run_once() == 1
    [brief] = told
    assert "Ask about: the hiking trip in Yosemite (noted Mon Nov 23)" in brief
    assert "prefers email over calls (noted" not in brief
    assert "Keep in mind: prefers email over calls" in brief


async def test_a_meeting_found_after_it_began_and_moved_later_gets_its_brief(
        calendar_app: CalendarApp) -> None:
    """Found by the sync after it began, a meeting needs no brief; put off to later the same
    morning (by less than the two hours that bring a briefed meeting a new brief), it needs
    one, since none went out."""
    job, told = await _setup(calendar_app)
    calendar = calendar_app.google.calendar("alex@example.com")
    begun = datetime(2026, 11, 23, 9, 45, tzinfo=UTC)  # began before the sync at 10:00
    meeting = calendar.add(start=begun, attendees=["dana@acme.com"])
    calendar_app.clock.advance(minutes=6)
    await calendar_app.sync.run_once()
    assert [start for _id, start in await _still_to_brief(calendar_app)] == [MEETING]
    later = datetime(2026, 11, 23, 11, 15, tzinfo=UTC)  # 12:15 in Berlin
    calendar.move(meeting.id, later)
    calendar_app.clock.advance(minutes=6)
    await calendar_app.sync.run_once()
    assert sorted(start for _id, start in await _still_to_brief(calendar_app)) == [
        later, MEETING]
    calendar_app.clock.set(later - timedelta(minutes=29))
    assert await job.run_once() == 1
    assert told[-1].startswith("Meeting with Dana Scully at 12:15")
