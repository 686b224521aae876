"""Briefs before meetings with contacts: once, at the chosen lead time, only when there is
something to say, never while paused or at night; from a real synced calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rapport.bot.connectors.calendars.briefs import BriefJob
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
