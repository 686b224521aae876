"""A note that tells of something done on a day months ago ("her talk was on Jun 1", typed in
October) is about that past day: no reminder next June. A month and day said with a verb in
the past is the last such day unless the next one is near; words that make it a day to come
("asked me to call on …", "is on …") keep the reminder."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rapport.bot.core.rapport import Rapport
from tests.conftest import Clock, console_user, say

ALEX = console_user("alex")
THURSDAY = datetime(2026, 10, 29, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("note", "past"), [
    ("her talk was on Jun 1", "Mon Jun 1"),
    ("her talk was on Apr 1", "Wed Apr 1"),
    ("went to Lisbon on Feb 2", "Mon Feb 2"),
    ("she presented on Mar 3", "Tue Mar 3"),
    ("she presented Mar 3 and it went well", "Tue Mar 3"),
    ("had her review on 1 June", "Mon Jun 1"),
    ("did the keynote on August 20", "Thu Aug 20"),
])
async def test_a_past_tense_note_about_months_ago_sets_no_reminder(
        rapport: Rapport, clock: Clock, note: str, past: str) -> None:
    clock.set(THURSDAY)
    await say(rapport, "add Dana", ALEX)
    assert await say(rapport, f"note Dana: {note}", ALEX) == (
        f"Noted for Dana (n1). {past} is in the past, so there is no reminder.")
    assert "Coming up" not in await say(rapport, "due", ALEX)


@pytest.mark.parametrize(("note", "reminded"), [
    ("she asked me to call on Jun 14", "on Mon Jun 14 2027 to check in with Dana"),
    ("her talk is on Jun 1", "on Tue Jun 1 2027 to ask Dana about her talk"),
    ("she said the launch will be on Jun 1", "on Tue Jun 1 2027 to check in with Dana"),
    ("her talk was moved, remind me on Jun 1", "on Tue Jun 1 2027 to check in with Dana"),
    ("her talk is scheduled on Jun 1", "on Tue Jun 1 2027 to check in with Dana"),
    ("she invited me to her wedding on Jun 14", "on Mon Jun 14 2027 to check in with Dana"),
    ("her talk got moved to Jun 1", "on Tue Jun 1 2027 to check in with Dana"),
    # The next one is near: the day to come is meant, as before.
    ("she started on Nov 2", "on Mon Nov 2 to check in with Dana"),
    ("hiking trip on Jun 1", "on Tue Jun 1 2027 to ask Dana about the hiking trip"),
])
async def test_a_day_to_come_keeps_its_reminder(rapport: Rapport, clock: Clock, note: str,
                                                reminded: str) -> None:
    clock.set(THURSDAY)
    await say(rapport, "add Dana", ALEX)
    assert f"I'll remind you {reminded}" in await say(rapport, f"note Dana: {note}", ALEX)
