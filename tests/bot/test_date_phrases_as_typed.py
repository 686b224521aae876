"""Date phrases as an exploratory tester typed them at the console (on Wed Dec 9 2026): a time
phrase a log cannot place is asked about, never saved as today with the phrase as the summary;
a past day in a note makes no reminder and the note keeps its words; the words that set a
reminder's day are not left in its text, where they would mislead on the day it comes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rapport.bot.core.rapport import Rapport
from tests.conftest import Clock, console_user, say

ALEX = console_user("alex")
WEDNESDAY = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)


async def _dana(rapport: Rapport, clock: Clock) -> None:
    clock.set(WEDNESDAY)
    await say(rapport, "add Dana Scully colleague", ALEX)


@pytest.mark.parametrize(("line", "logged", "day"), [
    ("log Dana 2 days back", "Logged chat with Dana Scully (Mon Dec 7).", "Mon Dec 7"),
    ("coffee w Dana 2 days back", "Logged coffee with Dana Scully (Mon Dec 7).", "Mon Dec 7"),
    ("log Dana a week back", "Logged chat with Dana Scully (Wed Dec 2).", "Wed Dec 2"),
    ("drinks w Dana last nite", "Logged drinks with Dana Scully (yesterday).", "yesterday"),
])
async def test_a_day_counted_back_or_last_nite_is_that_day(
        rapport: Rapport, clock: Clock, line: str, logged: str, day: str) -> None:
    await _dana(rapport, clock)
    assert await say(rapport, line, ALEX) == logged
    recent = await say(rapport, "recent", ALEX)
    assert f"t1 {day}, Dana Scully" in recent
    assert "back" not in recent and "nite" not in recent


@pytest.mark.parametrize("line", [
    "talked to Dana the other day", "log Dana the other day", "log Dana: coffee the other day",
    "log Dana coffee a while back", "log Dana several days ago", "log Dana coffee 3 days",
    "had coffee with Dana last nght", "log Dana many weeks back?"])
async def test_a_vague_or_unread_time_phrase_asks_which_day_and_saves_nothing(
        rapport: Rapport, clock: Clock, line: str) -> None:
    await _dana(rapport, clock)
    reply = await rapport.handle_text(ALEX, line)
    assert not reply.ok and "nothing was logged" in reply.text.lower(), reply.text
    assert "?" in reply.text or "Say " in reply.text
    assert "No conversations logged" in await say(rapport, "recent", ALEX)


@pytest.mark.parametrize(("note", "past"), [
    ("her son's wedding was last weekend", "Sat Dec 5"),
    ("ran a marathon on Sunday", "Sun Dec 6"),
    ("her party was Saturday", "Sat Dec 5"),
    ("went hiking on Monday", "Mon Dec 7"),
    ("had her surgery on Tuesday", "yesterday"),
])
async def test_a_past_day_in_a_note_makes_no_reminder_and_keeps_the_words(
        rapport: Rapport, clock: Clock, note: str, past: str) -> None:
    await _dana(rapport, clock)
    answer = await say(rapport, f"note Dana: {note}", ALEX)
    assert answer.startswith("Noted for Dana Scully (n1).")
    assert f"{past[:1].upper()}{past[1:]} is in the past, so there is no reminder." in answer
    card = await say(rapport, "show Dana", ALEX)
    assert f"n1 {note} (noted today)" in card


@pytest.mark.parametrize(("note", "reminded"), [
    # A plan said in the present or future keeps its reminder.
    ("runs a marathon on Sunday", "on Mon Dec 14 to"),
    ("her party is Saturday", "on Mon Dec 14 to ask Dana about her party"),
    ("she asked me to call on Friday", "on Fri Dec 11 to check in with Dana"),
    ("was planning to visit on Friday", "on Fri Dec 11 to"),
])
async def test_a_day_to_come_in_a_note_keeps_its_reminder(
        rapport: Rapport, clock: Clock, note: str, reminded: str) -> None:
    await _dana(rapport, clock)
    assert f"I'll remind you {reminded}" in await say(rapport, f"note Dana: {note}", ALEX)


@pytest.mark.parametrize(("line", "reminded", "stored"), [
    ("ping Dana next Monday about the contract",
     "I'll remind you on Mon Dec 14 to ping Dana about the contract (n1).",
     "n1 ping about the contract (follow-up Mon Dec 14)"),
    ("email Dana next week about the contract",
     "I'll remind you on Wed Dec 16 to email Dana about the contract (n1).",
     "n1 email about the contract (follow-up Wed Dec 16)"),
    ("note Dana: A next week", "I'll remind you on Wed Dec 16 to ask Dana about A (n1).",
     "n1 A (follow-up Wed Dec 16)"),
    ("note Dana: lunch next Friday with the team",
     "I'll remind you on Fri Dec 11 to ask Dana about the lunch with the team (n1).",
     "n1 lunch with the team (follow-up Fri Dec 11)"),
    ("note Dana: hiking next Sat",
     "I'll remind you on Mon Dec 14 to ask Dana about hiking (n1)", "n1 hiking"),
    ("note Dana: hiking Sat.",
     "I'll remind you on Mon Dec 14 to ask Dana about hiking (n1)", "n1 hiking"),
    ("note Dana: hiking next Thurs.",
     "I'll remind you on Thu Dec 17 to ask Dana about hiking (n1)", "n1 hiking"),
])
async def test_the_words_that_set_a_reminders_day_are_not_left_in_its_text(
        rapport: Rapport, clock: Clock, line: str, reminded: str, stored: str) -> None:
    await _dana(rapport, clock)
    assert reminded in await say(rapport, line, ALEX)
    assert stored in await say(rapport, "show Dana", ALEX)


async def test_a_colon_after_the_name_is_not_part_of_it(rapport: Rapport, clock: Clock) -> None:
    await _dana(rapport, clock)
    reply = await rapport.handle_text(ALEX, "message Dana: congrats on the launch")
    assert not reply.ok
    assert reply.text.startswith("Did you talk to Dana? “log Dana message” records it. Or to "
                                 "be reminded: “message Dana on Friday”."), reply.text


@pytest.mark.parametrize("line", ["settings tz Europe/Berlin.", "settings tz Europe/Berlin!",
                                  "settings tz berlin."])
async def test_a_full_stop_after_a_setting_is_not_part_of_it(
        rapport: Rapport, clock: Clock, line: str) -> None:
    await _dana(rapport, clock)
    answer = await say(rapport, line, ALEX)
    assert "Europe/Berlin." not in answer
    assert "Europe/Berlin" in await say(rapport, "settings", ALEX)
