""""the" goes only before a note that is a thing to ask about ("the hiking trip", "the
offsite"); a note that says how someone is or what they did ("back from paternity leave",
"met Priya N.", "pregnant") is never made "the back from …": its reminder checks in and
quotes it, as a statement's does ("Check in with Sean: back from paternity leave")."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.bot.core.drafts import DraftService
from rapport.bot.core.rapport import Rapport
from rapport.scheduler import wording
from rapport.scheduler.delivery import Sweeper
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say

ALEX = console_user("alex")

# (note, what `about_phrase` makes of it, the reminder about Sean Murphy)
SHAPES = [
    # Things: "the" before them.
    ("hiking trip in Yosemite", "the hiking trip in Yosemite",
     "Ask Sean about the hiking trip in Yosemite"),
    ("offsite", "the offsite", "Ask Sean about the offsite"),
    ("wedding", "the wedding", "Ask Sean about the wedding"),
    ("new job", "the new job", "Ask Sean about the new job"),
    ("demo at 3pm", "the demo at 3pm", "Ask Sean about the demo at 3pm"),
    ("trip to Japan", "the trip to Japan", "Ask Sean about the trip to Japan"),
    ("knee surgery", "the knee surgery", "Ask Sean about the knee surgery"),
    ("back pain", "the back pain", "Ask Sean about the back pain"),
    ("lunch with Priya N.", "the lunch with Priya N.", "Ask Sean about the lunch with Priya N."),
    ("upcoming talk", "the upcoming talk", "Ask Sean about the upcoming talk"),
    ("house move", "the house move", "Ask Sean about the house move"),
    # Phrases that carry their own article, or need none.
    ("her new job", "her new job", "Ask Sean about her new job"),
    ("Q3 planning", "Q3 planning", "Ask Sean about Q3 planning"),
    ("moving to Berlin", "moving to Berlin", "Ask Sean about moving to Berlin"),
    ("interviewing for a new role", "interviewing for a new role",
     "Ask Sean about interviewing for a new role"),
    # How someone is, or what they did: no article, and a check-in rather than "about".
    ("back from paternity leave", "back from paternity leave",
     "Check in with Sean: back from paternity leave"),
    ("back at work", "back at work", "Check in with Sean: back at work"),
    ("back", "back", "Check in with Sean: back"),
    ("met Priya N.", "met Priya N.", "Check in with Sean: met Priya N."),
    ("went to Japan", "went to Japan", "Check in with Sean: went to Japan"),
    ("ran a marathon", "ran a marathon", "Check in with Sean: ran a marathon"),
    ("promoted to VP", "promoted to VP", "Check in with Sean: promoted to VP"),
    ("relocated to Austin", "relocated to Austin", "Check in with Sean: relocated to Austin"),
    ("recently promoted", "recently promoted", "Check in with Sean: recently promoted"),
    ("excited about the launch", "excited about the launch",
     "Check in with Sean: excited about the launch"),
    ("busy with the launch", "busy with the launch", "Check in with Sean: busy with the launch"),
    ("tired of the commute", "tired of the commute", "Check in with Sean: tired of the commute"),
    ("pregnant", "pregnant", "Check in with Sean: pregnant"),
    ("out sick", "out sick", "Check in with Sean: out sick"),
    ("off to Japan", "off to Japan", "Check in with Sean: off to Japan"),
    ("away next week", "away next week", "Check in with Sean: away next week"),
    ("on holiday until Friday", "on holiday until Friday",
     "Check in with Sean: on holiday until Friday"),
    ("still job hunting", "still job hunting", "Check in with Sean: still job hunting"),
    ("finally home", "finally home", "Check in with Sean: finally home"),
    ("daughter graduated", "daughter graduated", "Check in with Sean: daughter graduated"),
    ("flight delayed", "flight delayed", "Check in with Sean: flight delayed"),
    ("I owe them a coffee", "I owe them a coffee", "Check in with Sean: I owe them a coffee"),
    # Unchanged statements and actions.
    ("wife is expecting", "wife is expecting", "Check in with Sean: wife is expecting"),
    ("completed the course", "completed the course", "Check in with Sean: completed the course"),
    ("send the deck", "send the deck", "Send Sean the deck"),
]


@pytest.mark.parametrize(("note", "about", "reminder"), SHAPES)
def test_an_article_only_before_a_thing(note: str, about: str, reminder: str) -> None:
    assert wording.about_phrase(note) == about
    assert wording.reminder("Sean Murphy", note) == reminder


# Words that never start a noun phrase: "the <word> …" is never right.
_NOT_NOUNS = ("back", "met", "went", "got", "ran", "promoted", "excited", "recently", "finally",
              "still", "just", "out", "off", "away", "on", "at", "from", "in", "pregnant",
              "busy", "sick", "tired", "engaged", "returned", "moved", "made", "took", "left",
              "bought", "joined", "hired", "fired", "retired", "visited", "started", "lost")
_TAILS = st.lists(st.sampled_from(("from", "paternity", "leave", "the", "launch", "to", "Japan",
                                   "Priya", "N.", "a", "new", "job", "at", "work", "on", "Friday",
                                   "with", "her", "team", "again", "home", "last", "week")),
                  max_size=5)


@settings(max_examples=300, deadline=None)
@given(first=st.sampled_from(_NOT_NOUNS), tail=_TAILS)
def test_no_article_before_a_word_that_is_no_noun(first: str, tail: list[str]) -> None:
    note = " ".join((first, *tail))
    if first == "back" and tail and tail[0] not in ("from", "to", "at", "on", "with", "home",
                                                    "again", "last", "the", "a", "her", "in"):
        return  # "back" before a noun is one ("the back pain")
    about = wording.about_phrase(note)
    assert not about.lower().startswith(f"the {first}"), (note, about)
    said = wording.reminder("Sean Murphy", note)
    assert not re.search(rf"\bthe {first}\b", said, re.IGNORECASE) or \
        f"the {first}" in note.lower(), (note, said)
    assert not re.search(rf"\babout {first}\b", said), (note, said)


_NOUNS = ("offsite", "trip", "wedding", "launch", "surgery", "demo", "conference", "move",
          "promotion", "interview", "marathon", "holiday", "renovation", "graduation")


@settings(max_examples=300, deadline=None)
@given(adjective=st.sampled_from(("", "new", "big", "upcoming", "hiking", "first", "team")),
       noun=st.sampled_from(_NOUNS),
       # No "the" straight after: "launch the …", "move the …" say what to do.
       tail=st.lists(st.sampled_from(("in", "to", "Japan", "Lisbon", "at", "3pm", "with",
                                      "Priya", "N.", "team", "next", "week")),
                     max_size=4))
def test_a_thing_keeps_its_article_and_every_word(adjective: str, noun: str,
                                                  tail: list[str]) -> None:
    note = " ".join(word for word in (adjective, noun, *tail) if word)
    about = wording.about_phrase(note)
    assert about == f"the {wording.text_without_period(note)}", (note, about)
    said = wording.reminder("Sean Murphy", note)
    assert said.startswith("Ask Sean about the "), (note, said)


@settings(max_examples=300, deadline=None)
@given(words=st.lists(st.sampled_from((*_NOT_NOUNS, *_NOUNS, "the", "a", "her", "to", "Priya",
                                       "N.", "Q3", "moving", "wife", "is", "expecting")),
                      min_size=1, max_size=6))
def test_about_phrase_only_ever_adds_the(words: list[str]) -> None:
    note = " ".join(words)
    about = wording.about_phrase(note)
    bare = wording.text_without_period(note)
    assert about in (bare, f"the {bare}"), (note, about)
    if about != bare:  # "the" added: never before an article, nor before a word that is none
        # ("back" before a noun is one: "the back pain").
        assert words[0] not in ("the", "a", "her") and (
            words[0] not in _NOT_NOUNS or words[0] == "back"), (note, about)


# ---------------------------------------------------------------------- as a person sees it
async def test_a_note_about_how_someone_is_reads_right_in_the_nudge_draft_and_card(
        rapport: Rapport, clock: Clock) -> None:
    rapport.drafter = DraftService(sessions=rapport.sessions, clock=clock)
    clock.set(datetime(2026, 10, 26, 10, 0, tzinfo=UTC))  # a Monday
    await say(rapport, "add Sean Murphy", ALEX)
    assert await say(rapport, "note Sean: back from paternity leave on Nov 2", ALEX) == (
        "Noted. I'll remind you on Mon Nov 2 to check in with Sean: back from paternity leave "
        "(n1).")
    inbox = Inbox()
    sweeper = Sweeper(sessions=rapport.sessions, messengers={"console": inbox}, owner="t",
                      clock=clock)
    clock.set(datetime(2026, 11, 2, 10, 0, tzinfo=UTC))
    await sweeper.sweep()
    [message] = inbox.delivered
    [item] = message.items
    assert item.headline == ("Check in with Sean: back from paternity leave (you noted it on "
                             "Mon Oct 26)")
    drafted = (await say(rapport, f"draft #{item.nudge_id}", ALEX)).split("\n\n", 1)[1]
    assert "the back" not in drafted
    assert drafted == ("Hi Sean! I was thinking of you and wanted to check in. How are things "
                       "going?")


async def test_a_card_asks_about_a_past_tense_note_without_an_article(
        rapport: Rapport, clock: Clock) -> None:
    await say(rapport, "add Dana Scully", ALEX)
    await say(rapport, "note Dana: met Priya N.", ALEX)
    card = await say(rapport, "show Dana", ALEX)
    assert "the met" not in card
    assert "First: check in with Dana: met Priya N. (n1, noted today)" in card


async def test_a_draft_never_thinks_about_a_state_as_a_thing(rapport: Rapport,
                                                             clock: Clock) -> None:
    rapport.drafter = DraftService(sessions=rapport.sessions, clock=clock)
    await say(rapport, "add Sean Murphy", ALEX)
    await say(rapport, "note Sean: ask about back from paternity leave tomorrow", ALEX)
    drafted = (await say(rapport, "draft Sean", ALEX)).split("\n\n", 1)[1]
    assert drafted == ("Hi Sean! I was thinking of you and wanted to check in. How are things "
                       "going?")
