"""`disconnect calendar` and `forget me confirm` typed in Teams, through the real botbuilder
adapter and the fake Bot Connector, with a real calendar connection to the Google fake: the
revocation call is Google's time, so the turn answers "Working on it…" and the result comes
after it as a proactive message."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import pytest

from tests.fakes.calendar_fixtures import CalendarApp
from tests.teams.test_teams_bot import (  # noqa: F401 (teams is a fixture)
    CHANNEL,
    PERSONAL,
    TeamsHarness,
    _install,
    teams,
)


async def _until(check: Callable[[], bool], what: str) -> None:
    """Let the event loop run the bot's work until `check` holds (bounded, small waits)."""
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def _texts(harness: TeamsHarness) -> list[str]:
    return [activity.text or "" for activity in harness.connector.sent_to(PERSONAL)]


async def _connect_google(teams: TeamsHarness,  # noqa: F811
                          calendar_app: CalendarApp) -> None:
    teams.runtime.rapport.calendars = calendar_app.connections
    await _install(teams)
    teams.connector.reset()
    assert await teams.say("connect google calendar") == 201
    [answer] = _texts(teams)
    link = re.search(r"https?://\S+", answer)
    assert link is not None, answer
    status, page = await calendar_app.consent(link.group(0), "alex@example.com")
    assert status == 200 and "Connected" in page
    teams.connector.reset()


@pytest.mark.parametrize(("line", "result"), [
    ("disconnect calendar", "Disconnected your Google calendar: Rapport no longer reads it"),
    ("forget me confirm", "Done."),
])
async def test_a_slow_revocation_answers_working_on_it_then_the_result(
        teams: TeamsHarness, calendar_app: CalendarApp,  # noqa: F811
        line: str, result: str) -> None:
    """Run inside the turn, the revocation held the answer (and Teams' request) for as long
    as Google took: Teams gave up and the person saw an error."""
    await _connect_google(teams, calendar_app)
    google = calendar_app.google
    revocations = len(google.revocations)
    gate = google.revocation_gate = asyncio.Event()
    said = asyncio.create_task(teams.say(line))
    try:
        await _until(lambda: len(google.revocations) > revocations, "Google asked to revoke")
        # Google has not answered yet, and the person already knows it is under way.
        assert _texts(teams) == ["Working on it…"]
    finally:
        gate.set()
    assert await said == 201
    await _until(lambda: len(_texts(teams)) == 2, "the answer after the revocation")
    assert _texts(teams)[1].startswith(result)


async def test_in_a_channel_the_result_comes_privately_after_the_turn(
        teams: TeamsHarness, calendar_app: CalendarApp) -> None:  # noqa: F811
    await _connect_google(teams, calendar_app)
    google = calendar_app.google
    gate = google.revocation_gate = asyncio.Event()
    said = asyncio.create_task(teams.say("disconnect calendar", conversation_type="channel",
                                         mentions_bot=True))
    try:
        await _until(lambda: bool(google.revocations), "Google asked to revoke")
        assert [a.text for a in teams.connector.sent_to(CHANNEL)] == [
            "Working on it… I'll answer you in a private message."]
    finally:
        gate.set()
    assert await said == 201
    await _until(lambda: bool(_texts(teams)), "the private answer")
    assert _texts(teams)[0].startswith("Disconnected your Google calendar")
    # Nothing about the person's calendar where others read.
    assert len(teams.connector.sent_to(CHANNEL)) == 1
