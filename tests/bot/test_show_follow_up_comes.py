"""A person's card names the day a note's reminder comes, as the note's confirmation and
`due` do: a follow-up falling on a day off is reminded on the next working day, so the card
says that day, in its "Ask about" lines and under Notes, and so do the Slack and Teams cards
(they render the core's view); a follow-up on a working day keeps its own day."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import PersonView
from rapport.bot.platforms.slack.blocks import person_blocks
from rapport.bot.platforms.teams.cards import person_card
from tests.bot.test_note_reminder_comes import _delivered
from tests.bot.test_show_snoozed import _facts
from tests.conftest import Clock, console_user, say

ALEX = console_user("alex")
# Saturday Dec 5 2026, Mon-Fri working days: "next week" is Sat Dec 12, a day off.
SATURDAY = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


async def test_a_follow_up_on_a_day_off_shows_the_working_day_its_reminder_comes(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(SATURDAY)
    await say(rapport, "add Dana Scully", ALEX)
    assert await say(rapport, "note Dana: A next week", ALEX) == (
        "Noted. I'll remind you on Mon Dec 14 to ask Dana about A (n1): Sat Dec 12 is not "
        "one of your working days.")
    await say(rapport, "note Dana: the offsite on Friday", ALEX)  # Fri Dec 11, a working day

    card = (await say(rapport, "show Dana", ALEX)).splitlines()

    assert card[1:3] == [
        "Ask about first: the offsite (n2, noted today, follow-up Fri Dec 11)",
        "  then ask about: A (n1, noted today, follow-up Mon Dec 14)"]
    assert card[4:7] == ["Notes:", "  n2 the offsite (follow-up Fri Dec 11)",
                         "  n1 A (follow-up Mon Dec 14)"]
    assert "  Ask Dana about A Mon Dec 14" in (await say(rapport, "due", ALEX)).splitlines()
    # The Slack and Teams cards say the same day.
    shown = await rapport.handle_text(ALEX, "show Dana")
    assert isinstance(shown.view, PersonView)
    slack = json.dumps([block.to_dict() for block in person_blocks(shown.view)])
    assert "then ask about: A (n1, noted today, follow-up Mon Dec 14)" in slack
    assert "A (follow-up Mon Dec 14)" in slack and "Sat Dec 12" not in slack
    assert {"title": "n1", "value": "A (follow-up Mon Dec 14)"} in _facts(
        person_card(shown.view))
    # And those are the days they come.
    assert await _delivered(rapport, clock, datetime(2026, 12, 11, 9, 5, tzinfo=UTC)) == [
        "Ask Dana about the offsite"]
    assert await _delivered(rapport, clock, datetime(2026, 12, 12, 12, 0, tzinfo=UTC)) == []
    assert await _delivered(rapport, clock, datetime(2026, 12, 14, 9, 5, tzinfo=UTC)) == [
        "Ask Dana about A"]


async def test_a_follow_up_whose_reminder_came_keeps_its_day_on_the_card(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(SATURDAY)
    await say(rapport, "add Dana Scully", ALEX)
    await say(rapport, "note Dana: A next week", ALEX)
    await _delivered(rapport, clock, datetime(2026, 12, 14, 9, 5, tzinfo=UTC))
    clock.set(datetime(2026, 12, 16, 10, 0, tzinfo=UTC))  # reminded, not acted on yet

    card = (await say(rapport, "show Dana", ALEX)).splitlines()

    assert card[1] == "Ask about first: A (n1, noted Sat Dec 5, follow-up Sat Dec 12)"
