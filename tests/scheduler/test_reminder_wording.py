"""What a note's reminder says (`wording.reminder`): the note's own words when they already
say who, the contact as the verb's object when they do not, never the name twice or
"about the <verb>", and every meaningful word of the note kept."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.scheduler import wording


@pytest.mark.parametrize(("note", "expected"), [
    # Someone else is named: the note's own words, then whose note it is.
    ("talk to Lee about the budget", "Talk to Lee about the budget (Dana Scully)"),
    ("send Lee the slides", "Send Lee the slides (Dana Scully)"),
    ("ask Lee about the budget", "Ask Lee about the budget (Dana Scully)"),
    ("introduce Lee to her", "Introduce Lee to Dana"),
    ("ask Lee to call her", "Ask Lee to call Dana"),
    ("share the deck with Lee", "Share the deck with Lee (Dana Scully)"),
    ("email the CFO", "Email the CFO (Dana Scully)"),
    ("send the deck to the team", "Send the deck to the team (Dana Scully)"),
    ("introduce to Lee", "Introduce Dana to Lee"),
    # A pronoun for the contact becomes the contact's name.
    ("give her the book", "Give Dana the book"),
    ("get feedback from her on the deck", "Get feedback from Dana on the deck"),
    ("lend him the book", "Lend Dana the book"),
    ("call her, then email Lee", "Call Dana, then email Lee"),
    # "her" before a noun may be hers or another's: the note's words, and whose note it is.
    ("book her flight", "Book her flight (Dana Scully)"),
    ("wish her luck", "Wish her luck (Dana Scully)"),
    ("ask her mom about the move", "Ask her mom about the move (Dana Scully)"),
    # The contact already named: said once.
    ("ask Dana about the trip", "Ask Dana about the trip"),
    ("send the deck to Dana", "Send the deck to Dana"),
    ("call Dana Scully", "Call Dana"),
    ("call Scully", "Call Dana"),
    # Nobody named: the contact is the verb's object, or where the verb wants them.
    ("call", "Call Dana"),
    ("send the slides", "Send Dana the slides"),
    ("give the book back", "Give Dana the book back"),
    ("talk about the budget", "Talk to Dana about the budget"),
    ("write a thank-you note", "Write Dana a thank-you note"),
    ("help with the move", "Help Dana with the move"),
    ("share the deck", "Share the deck with Dana"),
    ("schedule a 1:1", "Schedule a 1:1 with Dana"),
    ("ask for a coffee", "Ask Dana for a coffee"),
    ("ask to join the panel", "Ask Dana to join the panel"),
    # A verb Rapport does not know is not a topic ("about the review the contract").
    ("review the contract", "Review the contract (Dana Scully)"),
    ("get the contract signed", "Get the contract signed (Dana Scully)"),
    # A date's leftovers: a bare time of day, "time" after a duration.
    ("call evening", "Call Dana in the evening"),
    ("call in 2 weeks time", "Call Dana"),
    ("send the deck in a week's time", "Send Dana the deck"),
    # Unchanged.
    ("hiking trip in Yosemite", "Ask Dana about the hiking trip in Yosemite"),
    ("wife is expecting", "Check in with Dana: wife is expecting"),
    ("gala evening", "Ask Dana about the gala evening"),
    ("completed the course", "Check in with Dana: completed the course"),
])
def test_a_reminder_names_the_contact_once_and_keeps_the_notes_words(note: str,
                                                                      expected: str) -> None:
    assert wording.reminder("Dana Scully", note) == expected


def test_the_day_goes_before_whose_note_it_is() -> None:
    assert wording.reminder("Dana Scully", "talk to Lee about the budget", when="tomorrow") \
        == "Talk to Lee about the budget tomorrow (Dana Scully)"
    assert wording.follow_up_headline("Dana Scully", "send Lee the slides",
                                      date(2026, 11, 20)) == \
        "Send Lee the slides (Dana Scully, you noted it on Fri Nov 20)"
    assert wording.nudge_subject("follow_up", "Dana Scully", "talk to Lee", None) == \
        "the reminder to talk to Lee (Dana Scully)"


_VERBS = ("call", "send", "give", "get", "talk to", "email", "tell", "share", "check in with",
          "ask", "review", "lend", "bring", "follow up with", "introduce", "thank")
_PEOPLE = ("", "Dana", "her", "him", "them", "Lee", "Lee Adama", "Dana Scully")
_WORDS = st.sampled_from(("the", "book", "slides", "budget", "deck", "about", "on", "for",
                          "contract", "a", "coffee", "Q3", "plan", "feedback", "from", "new"))
_PRONOUNS = {"her", "him", "them", "scully"}  # "Dana Scully" is said "Dana"


@settings(max_examples=400, deadline=None)
@given(verb=st.sampled_from(_VERBS), person=st.sampled_from(_PEOPLE),
       words=st.lists(_WORDS, max_size=6), when=st.sampled_from(("", "tomorrow")))
def test_a_reminder_never_doubles_the_name_or_asks_about_a_verb(
        verb: str, person: str, words: list[str], when: str) -> None:
    note = " ".join(part for part in (verb, person, *words) if part)
    said = wording.reminder("Dana Scully", note, when=when)
    assert not re.search(r"\bDana(?: Scully)?,? Dana\b", said), (note, said)
    # "review" and "lend" alone may be topics ("the review"); before an object they are not.
    known = "|".join(verb for verb in _VERBS if verb not in ("review", "lend"))
    assert not re.search(rf"\babout the (?:{known}|(?:review|lend) (?:the|a|her|him|them))\b",
                         said, re.IGNORECASE), (note, said)
    # Every word of the note is still there, but a pronoun that became the name (or the
    # last name, the contact being called by the first).
    kept = {word.lower() for word in re.findall(r"[\w:]+", said)}
    for word in re.findall(r"[\w:]+", note):
        if word.lower() not in _PRONOUNS:
            assert word.lower() in kept, (note, said, word)
    assert "dana" in kept, (note, said)
