"""A period that belongs to a name ("Priya N.", "Acme Inc.") stays wherever a note or a
conversation is said back: in a reminder, a card, an edit, a delete and a template draft,
neither dropped ("… with Priya N (n2)") nor doubled ("… with Priya N.."). A sentence's own
period still goes before the sentence goes on."""

from __future__ import annotations

from datetime import date

from rapport.bot.core.drafts import DraftService
from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.console.chat import ConsoleMessenger
from rapport.scheduler import wording
from rapport.scheduler.delivery import Sweeper
from tests.conftest import Clock, console_user, say

ALEX = console_user("alex")


def _draft_text(reply: str) -> str:
    """The draft itself, after the line that introduces it."""
    return reply.split("\n\n", 1)[1].splitlines()[0]


async def test_a_name_inside_or_at_the_end_of_a_note_keeps_its_period(
        rapport: Rapport, clock: Clock) -> None:
    await say(rapport, "add Dana Scully", ALEX)
    assert await say(rapport, "note Dana met Priya N. at the offsite", ALEX) == \
        "Noted for Dana Scully (n1)."
    assert await say(rapport, "note Dana: lunch with Priya N. tomorrow", ALEX) == (
        "Noted. I'll remind you tomorrow to ask Dana about the lunch with Priya N. (n2).")
    assert await say(rapport, "note Dana: send the deck to Acme Inc. tomorrow", ALEX) == (
        "Noted. I'll remind you tomorrow to send the deck to Acme Inc. (Dana Scully) (n3).")
    assert await say(rapport, "note Dana: loved the trip!", ALEX) == "Noted for Dana Scully (n4)."
    shown = await say(rapport, "show Dana", ALEX)
    assert "  then ask about: the lunch with Priya N. (n2, noted today, follow-up " \
        "tomorrow)" in shown
    assert "First: send the deck to Acme Inc. (Dana Scully) (n3, " in shown
    assert "\n  n1 met Priya N. at the offsite (noted today)" in shown
    due = await say(rapport, "due", ALEX)
    assert "  Ask Dana about the lunch with Priya N. tomorrow" in due

    # The reminder as it arrives.
    out: list[str] = []
    sweeper = Sweeper(sessions=rapport.sessions,
                      messengers={"console": ConsoleMessenger(write=out.append)},
                      owner="initials", clock=clock)
    clock.advance(days=1)
    await sweeper.sweep()
    assert "Ask Dana about the lunch with Priya N. (you noted it on Mon Nov 23)" in "".join(out)

    # Edited and deleted: one period, the name's.
    assert await say(rapport, "edit n2: lunch with Priya N. on Friday", ALEX) == (
        "Changed n2 (Dana Scully): lunch with Priya N. I'll remind you on Fri Nov 27 to ask "
        "Dana about the lunch with Priya N.")
    assert await say(rapport, "delete n2", ALEX) == (
        "Deleted n2 about Dana Scully: lunch with Priya N. “undo” brings it back.")
    # A sentence's own mark still goes once: "loved the trip!" said back ends once.
    assert await say(rapport, "delete n4", ALEX) == (
        "Deleted n4 about Dana Scully: loved the trip! “undo” brings it back.")


async def test_a_conversation_ending_in_an_initial_keeps_one_period(
        rapport: Rapport, clock: Clock) -> None:
    rapport.drafter = DraftService(sessions=rapport.sessions, clock=clock)
    await say(rapport, "add Dana Scully", ALEX)
    assert await say(rapport, "log Dana coffee: with Priya N.", ALEX) == \
        "Logged coffee with Dana Scully."
    assert "  t1 today, Dana Scully: coffee: with Priya N.\n" in \
        await say(rapport, "recent", ALEX) + "\n"
    assert await say(rapport, "edit t1: with Priya N.!", ALEX) == (
        "Changed t1: coffee with Dana Scully (today): with Priya N.!")
    assert await say(rapport, "edit t1: with Priya N.", ALEX) == (
        "Changed t1: coffee with Dana Scully (today): with Priya N.")
    assert _draft_text(await say(rapport, "draft Dana", ALEX)) == (
        "Hi Dana! It's been a while since we talked about with Priya N. How are things going?")


async def test_template_drafts_end_a_name_with_one_period(rapport: Rapport,
                                                          clock: Clock) -> None:
    rapport.drafter = DraftService(sessions=rapport.sessions, clock=clock)
    await say(rapport, "add Dana Scully", ALEX)
    await say(rapport, "note Dana: ask how things went with Priya N. tomorrow", ALEX)
    assert _draft_text(await say(rapport, "draft Dana", ALEX)) == (
        "Hi Dana! I've been meaning to ask how things went with Priya N.")
    await say(rapport, "settings tone formal", ALEX)
    assert _draft_text(await say(rapport, "draft Dana", ALEX)) == (
        "Hello Dana, I hope you are well. I wanted to ask how things went with Priya N.")
    await say(rapport, "add Lee Park", ALEX)
    await say(rapport, "note Lee: congratulate Priya N. tomorrow", ALEX)
    assert _draft_text(await say(rapport, "draft Lee", ALEX)) == (
        "Hello Lee, I hope you are well. Congratulations Priya N.")
    await say(rapport, "note Lee: lunch with Priya N. next week", ALEX)
    await say(rapport, "delete n2", ALEX)
    assert _draft_text(await say(rapport, "draft Lee", ALEX)) == (
        "Hello Lee, I hope you are well. I wanted to wish you all the best with the lunch "
        "with Priya N.")


def test_only_a_sentences_own_mark_is_taken_off() -> None:
    for said, kept in (("met Priya N.", "met Priya N."), ("at Acme Inc.", "at Acme Inc."),
                       ("the U.S.", "the U.S."), ("Sam Lee Jr.", "Sam Lee Jr."),
                       ("great news!", "great news"), ("great news.", "great news"),
                       ("see example.com.", "see example.com"), ("plan a.", "plan a"),
                       ("Priya N.!", "Priya N."),
                       ("  lunch  with\nPriya N. ", "lunch with Priya N.")):
        assert wording.text_without_period(said) == kept, said
    assert wording.reminder("Dana Scully", "lunch with Priya N.", when="tomorrow") == \
        "Ask Dana about the lunch with Priya N. tomorrow"
    assert wording.follow_up_headline("Dana Scully", "met Priya N.", date(2026, 11, 20)).endswith(
        "Priya N. (you noted it on Fri Nov 20)")
