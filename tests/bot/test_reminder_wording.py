"""A note's reminder says one sensible thing, the same in its confirmation, `due` and the
card: the person named once, no "ask about the ask …", no day said twice; `due` in date order."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.storage import db
from tests.conftest import Clock, say


async def test_confirmations_and_due_lines_say_the_same_thing(engine: AsyncEngine,
                                                             clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)  # Monday Nov 23
    for line in ("add Zoë", "add Dana Scully", "add Ravi Kumar every 10 days",
                 "log Ravi 7 days ago"):
        await say(rapport, line)
    said = {line: await say(rapport, line) for line in (
        "note Zoë: call her tomorrow", "note Zoë: ping her in 5 days",
        "remind me to call Zoë tomorrow", "note Zoë: follow up on Friday",
        "note Zoë: ask how the launch went next Wednesday",
        "note Dana Scully: demo tomorrow at 3pm")}
    assert [text.split(" (n")[0] for text in said.values()] == [
        "Noted. I'll remind you tomorrow to call Zoë",
        "Noted. I'll remind you on Mon Nov 30 to ping Zoë",
        "Noted. I'll remind you tomorrow to call Zoë",
        "Noted. I'll remind you on Fri Nov 27 to follow up with Zoë",
        "Noted. I'll remind you on Wed Nov 25 to ask Zoë how the launch went",
        "Noted. I'll remind you tomorrow to ask Dana about the demo at 3pm"]

    due = await say(rapport, "due")
    coming = due.split("Coming up:\n", 1)[1].splitlines()
    assert [line.strip() for line in coming] == [
        "Call Zoë tomorrow",
        "Call Zoë tomorrow",
        "Ask Dana about the demo at 3pm tomorrow",
        "Ask Zoë how the launch went Wed Nov 25",
        "Talk to Ravi Kumar Thu Nov 26",  # in date order among the follow-ups
        "Follow up with Zoë Fri Nov 27",
        "Ping Zoë Mon Nov 30"]  # the day it comes, as confirmed: Saturday is a day off


async def test_a_note_that_names_someone_else_or_a_pronoun_reads_as_written(
        engine: AsyncEngine, clock: Clock) -> None:
    """The note's own words say who ("talk to Lee", "give her the book"): the reminder keeps
    them, names the contact once, and drops a date's leftovers ("evening", "time")."""
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)  # Monday Nov 23
    await say(rapport, "add Dana Scully")
    said = [await say(rapport, f"note Dana: {line}") for line in (
        "talk to Lee about the budget tomorrow", "send Lee the slides in 3 weeks",
        "give her the book in 4 weeks", "get feedback from her on the deck in 2 weeks",
        "call tomorrow evening", "call in 2 weeks time")]
    assert [text.split(" (n")[0] for text in said] == [
        "Noted. I'll remind you tomorrow to talk to Lee about the budget (Dana Scully)",
        "Noted. I'll remind you on Mon Dec 14 to send Lee the slides (Dana Scully)",
        "Noted. I'll remind you on Mon Dec 21 to give Dana the book",
        "Noted. I'll remind you on Mon Dec 7 to get feedback from Dana on the deck",
        "Noted. I'll remind you tomorrow to call Dana in the evening",
        "Noted. I'll remind you on Mon Dec 7 to call Dana"]

    due = await say(rapport, "due")
    assert [line.strip() for line in due.split("Coming up:\n", 1)[1].splitlines()] == [
        "Talk to Lee about the budget tomorrow (Dana Scully)",
        "Call Dana in the evening tomorrow"]
    card = await say(rapport, "Dana")
    assert "First: call Dana in the evening (n5" in card
    assert "then: talk to Lee about the budget (Dana Scully) (n1" in card
    assert "then: call Dana (n6" in card
