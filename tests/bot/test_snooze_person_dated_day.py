"""Snoozing a person (their card's Snooze, or "snooze Dana 1 week") while a note of theirs
has a day of its own: the answer names the day that reminder reaches the user, the day the
note's confirmation and `due` name (a note for a day off comes on the next working day)."""

from __future__ import annotations

from rapport.bot.core.rapport import Rapport
from tests.conftest import say


async def test_the_dated_reminder_is_named_on_the_day_it_comes(rapport: Rapport) -> None:
    # Monday Nov 23 2026, working days Monday to Friday: Sunday's follow-up comes Monday.
    await say(rapport, "add Dana Scully client at FBI every 2 weeks")
    noted = await say(rapport, "note Dana: hiking trip in Yosemite after Saturday")
    assert "Mon Nov 30" in noted and "Sun Nov 29" in noted, noted
    await say(rapport, "log Dana yesterday: coffee, talked about the X-files")
    await say(rapport, "every Dana 3 days")  # due Wed Nov 25: the snooze holds it
    answer = await say(rapport, "snooze Dana 1 week")
    assert answer == (
        "No nudge about Dana Scully is out; their next rhythm nudge waits until Mon Nov 30. "
        "A reminder with a day of its own still comes Mon Nov 30 (“show Dana Scully” lists "
        "it).")
    assert "Sun Nov 29" not in answer
    due = await say(rapport, "due")
    assert "  Ask Dana about the hiking trip in Yosemite Mon Nov 30" in due.splitlines(), due
