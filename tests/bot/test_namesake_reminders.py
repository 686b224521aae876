"""Two people with one first name (Dana Scully and Dana White): a reminder about either says
which Dana, in the nudge, the digest and `due`; someone whose first name is theirs alone is
still called by it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler import wording
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say

ALEX = console_user("alex")


async def _sweep(rapport: Rapport, clock: Clock) -> list[str]:
    inbox = Inbox()
    sweeper = Sweeper(sessions=rapport.sessions, messengers={"console": inbox}, owner="t",
                      clock=clock)
    await sweeper.sweep()
    return [item.headline for message in inbox.delivered for item in message.items]


async def test_a_shared_first_name_is_said_in_full(any_engine: AsyncEngine,
                                                   clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))  # Monday
    for line in ("add Dana Scully", "add Dana White", "add Lee Park", "add Dr. Jane Doe",
                 "note Dana Scully: moving to Berlin tomorrow",
                 "note Dana White: call her tomorrow",
                 "note Lee: hiking trip in Yosemite tomorrow",
                 "note Dr. Jane Doe: ask how the offsite went tomorrow",
                 "date Dana White birthday Nov 26"):
        await say(rapport, line, ALEX)
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    headlines = await _sweep(rapport, clock)
    assert sorted(headline.split(" (")[0] for headline in headlines) == [
        "Ask Dana Scully about moving to Berlin",
        "Ask Jane how the offsite went",
        "Ask Lee about the hiking trip in Yosemite",
        "Call Dana White",
        "Dana White's birthday is on Thu Nov 26"]
    due = await say(rapport, "due", ALEX)
    assert "Ask Dana Scully about moving to Berlin (you noted it on Mon Nov 23)" in due
    assert "Call Dana White (you noted it on Mon Nov 23)" in due
    assert "Dana White's birthday is on Thu Nov 26 (in 2 days)" in due
    assert "Ask Lee about the hiking trip in Yosemite (you noted it on Mon Nov 23)" in due
    assert "Ask Dana about" not in due and "Call Dana (" not in due


async def test_a_first_name_shared_with_someone_of_one_word_is_said_in_full(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    for line in ("add Dana Scully", "add \"Dana\"", "note Dana Scully: call tomorrow"):
        await rapport.handle_text(ALEX, line)
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    assert [h.split(" (")[0] for h in await _sweep(rapport, clock)] == ["Call Dana Scully"]


async def test_a_title_does_not_hide_a_shared_given_name(rapport: Rapport,
                                                         clock: Clock) -> None:
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    for line in ("add Dr. Jane Doe", "add Jane Smith", "note Jane Smith: call tomorrow",
                 "note Dr. Jane Doe: call tomorrow"):
        await say(rapport, line, ALEX)
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    assert sorted(h.split(" (")[0] for h in await _sweep(rapport, clock)) == [
        "Call Dr. Jane Doe", "Call Jane Smith"]


@pytest.mark.parametrize(("note", "expected"), [
    ("send the deck to Dana", "Send the deck to Dana Scully"),
    ("ask Lee to call her", "Ask Lee to call Dana Scully"),
    ("talk to Lee about the budget", "Talk to Lee about the budget (Dana Scully)"),
    ("give her the book", "Give Dana Scully the book"),
    ("call Dana Scully", "Call Dana Scully"),
    ("wife is expecting", "Check in with Dana Scully: wife is expecting"),
])
def test_a_note_that_names_the_contact_names_which_one(note: str, expected: str) -> None:
    assert wording.reminder("Dana Scully", note, called="Dana Scully") == expected


@settings(max_examples=300, deadline=None)
@given(verb=st.sampled_from(("call", "send", "give", "talk to", "ask", "share", "email")),
       person=st.sampled_from(("", "Dana", "her", "Dana Scully", "Scully", "Lee")),
       words=st.lists(st.sampled_from(("the", "deck", "to", "Dana", "about", "budget", "her",
                                       "on", "Friday", "trip", "moving", "back", "from")),
                      max_size=5))
def test_a_full_name_is_said_once_and_never_cut_to_the_first(verb: str, person: str,
                                                             words: list[str]) -> None:
    note = " ".join(part for part in (verb, person, *words) if part)
    # The contact named once in the note (twice, the note's own words repeat them).
    assume(note and len(re.findall(r"\b(?:Dana|her|Scully)\b", note)) <= 1)
    said = wording.reminder("Dana Scully", note, called="Dana Scully")
    assert not re.search(r"\bDana Scully,? Dana\b|\bDana Scully Scully\b", said), (note, said)
    # Wherever the note names the contact by first name, the full name ("ask" keeps the
    # words of what to ask about as they are: "about the Dana account").
    if verb != "ask":
        assert not re.search(r"\bDana\b(?! Scully)(?!'s)", said), (note, said)
