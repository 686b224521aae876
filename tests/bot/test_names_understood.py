"""Names as people write them, found however they are typed again (found by an exploratory
tester at the console): a title ("Dr. Hiro Tanaka"), a nickname in quotes (Chris "CJ"
Johnson), a hyphen typed as a space ("Anne Marie"), a possessive after `note`/`remember`
("note Sean O'Brien's daughter …"), and one's own word for a conversation (`log Lee: standup`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.storage.names import TITLES, first_word, name_key
from tests.conftest import console_user, say, snapshot

ALEX = console_user("alex")

# A name's words as a keyboard types them (no quotes: a quoted word is a nickname).
_WORD = st.text(alphabet=st.sampled_from("abcdeilnorstuyzÉøß'-"), min_size=1, max_size=10)
_NAMES = st.lists(_WORD, min_size=1, max_size=3).map(" ".join)
# A given name and more, not starting with a title itself: what a title is dropped before.
_FULL_NAMES = st.lists(_WORD, min_size=2, max_size=3).filter(
    lambda words: name_key(words[0]) not in TITLES).map(" ".join)
_TITLES = ("Dr.", "Dr", "Prof.", "Prof", "Mr.", "Mr", "Ms.", "Mrs.", "Mx", "Miss", "Sir", "Dame",
           "DR.", "dr")


async def _answer(rapport: Rapport, line: str) -> str:
    return (await rapport.handle_text(ALEX, line)).text


# ---------------------------------------------------------------------------------- titles
@given(title=st.sampled_from(_TITLES), name=_FULL_NAMES)
def test_a_title_before_a_name_is_no_part_of_its_key(title: str, name: str) -> None:
    assert name_key(f"{title} {name}") == name_key(name)
    assert name_key(name_key(f"{title} {name}")) == name_key(name)


@given(title=st.sampled_from(_TITLES), name=_NAMES)
def test_a_key_is_its_own_key(title: str, name: str) -> None:
    assert name_key(name_key(f"{title} {name}")) == name_key(f"{title} {name}")


def test_a_title_before_one_word_stays_in_the_key() -> None:
    # "Mr. Smith" and "Mrs. Smith" are two people: without the titles both were "smith".
    assert name_key("Mr. Smith") == name_key("mr smith") == "mr smith"
    assert name_key("Mrs. Smith") == "mrs smith" and name_key("Dr Patel") == "dr patel"
    assert name_key("Dr. Hiro Tanaka") == "hiro tanaka"
    assert name_key("Mr. Smith (2)") == "mr smith (2)"
    assert name_key("Dr. Hiro Tanaka (2)") == "hiro tanaka (2)"


async def test_a_title_and_a_surname_alone_are_someone_each(rapport: Rapport) -> None:
    for added in ("Mr. Smith", "Mrs. Smith", "Dr. Patel", "Prof. Patel"):
        assert (await say(rapport, f"add {added}")).startswith(f"Added {added} (colleague)")
    assert (await say(rapport, "show Mrs Smith")).startswith("Mrs. Smith: colleague")
    assert (await say(rapport, "show mr. smith")).startswith("Mr. Smith: colleague")
    assert (await say(rapport, "show Prof Patel")).startswith("Prof. Patel: colleague")
    assert await _answer(rapport, "add Mr Smith") == "You already keep in touch with Mr. Smith."


def test_a_title_alone_is_still_a_name() -> None:
    # Nothing else to find them by: the word is kept ("Sir" is someone's name then).
    assert name_key("Sir") == "sir" and name_key("Dr.") == "dr."
    assert first_word(name_key("Dr. Hiro Tanaka")) == "hiro"
    assert name_key("Hiro Dr Tanaka") == "hiro dr tanaka"  # only before the name


async def test_a_title_is_kept_in_the_name_and_not_needed_to_find_them(
        rapport: Rapport) -> None:
    assert (await say(rapport, "add Dr. Hiro Tanaka, CTO at Umbrella, quarterly")).startswith(
        "Added Dr. Hiro Tanaka (CTO at Umbrella, colleague).")
    for line in ("show Hiro", "show Hiro Tanaka", "show Dr Hiro Tanaka", "show Tanaka",
                 "show dr. hiro tanaka"):
        assert (await say(rapport, line)).startswith("Dr. Hiro Tanaka: CTO at Umbrella"), line
    assert await say(rapport, "spoke with Hiro on the phone yesterday") == \
        "Logged call with Dr. Hiro Tanaka (yesterday)."
    assert (await say(rapport, "note Hiro: board meeting in March")).startswith(
        "Noted for Dr. Hiro Tanaka")
    # The same person typed without the title is not added a second time.
    assert (await _answer(rapport, "add Hiro Tanaka")).startswith(
        "You already keep in touch with Dr. Hiro Tanaka")


@pytest.mark.parametrize("title", ["Prof.", "Mrs.", "Mx", "Sir", "Dame"])
async def test_every_title_is_left_out_of_the_first_name(rapport: Rapport, title: str) -> None:
    await say(rapport, f"add {title} Ada Lovelace")
    assert (await say(rapport, "show Ada")).startswith(f"{title} Ada Lovelace: colleague")
    assert await say(rapport, "log Ada Lovelace: coffee") == \
        f"Logged coffee with {title} Ada Lovelace."


# ------------------------------------------------------------------------------- nicknames
def test_a_nickname_in_quotes_is_no_part_of_the_key() -> None:
    assert name_key('Chris "CJ" Johnson') == name_key("Chris “CJ” Johnson") == "chris johnson"
    assert name_key("Dana “The Boss” Scully") == "dana scully"
    # A whole name in quotes is the name.
    assert name_key('"Dana"') == name_key("“Dana”") == "dana"


async def test_a_nickname_in_quotes_is_kept_and_finds_them(rapport: Rapport) -> None:
    assert (await say(rapport, 'add Chris "CJ" Johnson')).startswith(
        "Added Chris “CJ” Johnson (colleague).")
    assert await say(rapport, "log CJ today") == "Logged chat with Chris “CJ” Johnson."
    assert await say(rapport, "log CJ Johnson: coffee") == \
        "Logged coffee with Chris “CJ” Johnson."
    for line in ("show Chris", "show Chris Johnson", "show cj", 'show Chris "CJ" Johnson'):
        assert (await say(rapport, line)).startswith("Chris “CJ” Johnson: colleague"), line
    assert (await _answer(rapport, "add Chris Johnson")).startswith(
        "You already keep in touch with Chris “CJ” Johnson")


async def test_a_nickname_two_people_share_is_asked_about(rapport: Rapport,
                                                          engine: AsyncEngine) -> None:
    await say(rapport, 'add Chris "CJ" Johnson')
    await say(rapport, "add Casey “CJ” Jones")
    before = await snapshot(engine)
    answer = await _answer(rapport, "log CJ today")
    assert answer == "Which CJ do you mean: Casey “CJ” Jones or Chris “CJ” Johnson?"
    assert await snapshot(engine) == before


# ------------------------------------------------------------------ hyphen typed as a space
async def test_a_hyphen_and_a_space_in_a_name_are_the_same(rapport: Rapport) -> None:
    await say(rapport, "add Anne-Marie Smith")
    await say(rapport, "add Jean Luc Picard")
    for line in ("who is Anne Marie", "show Anne Marie", "show Anne Marie Smith",
                 "show anne-marie"):
        assert (await say(rapport, line)).startswith("Anne-Marie Smith: colleague"), line
    assert await say(rapport, "log Anne Marie Smith: lunch") == \
        "Logged lunch with Anne-Marie Smith."
    assert (await say(rapport, "show Jean-Luc")).startswith("Jean Luc Picard: colleague")
    assert (await say(rapport, "show Jean-Luc Picard")).startswith("Jean Luc Picard")
    await say(rapport, "add Ann Smith-Jones")
    assert (await say(rapport, "show Smith Jones")).startswith("Ann Smith-Jones: colleague")


# ------------------------------------------------------------------- possessive after a verb
async def test_a_possessive_after_note_or_remember_names_the_person(rapport: Rapport) -> None:
    for line in ("add Dana Scully", "add Lee Park", "add Sean O'Brien"):
        await say(rapport, line)
    alone = await _alone_answer(rapport, "Dana's hiking trip next month")
    said = await say(rapport, "note Dana's hiking trip next month")
    assert said.replace("(n2)", "(n1)") == alone
    assert said.startswith("Noted. I'll remind you on") and "ask Dana about the hiking trip" in said
    said = await say(rapport, "remember Lee's renewal is due Friday")
    assert said.startswith("Noted. I'll remind you on Fri") and "Lee" in said, said
    said = await say(rapport, "note Sean O'Brien's daughter graduates in June")
    assert said.startswith("Noted for Sean O'Brien (n"), said
    card = await say(rapport, "show Sean")
    assert "daughter graduates in June" in card and "O'Brien's daughter" not in card


async def _alone_answer(rapport: Rapport, line: str) -> str:
    """The answer the same words get said on their own, then the note undone."""
    answer = await say(rapport, line)
    await say(rapport, "undo")
    return answer


async def test_a_possessive_that_could_be_part_of_the_note_asks(rapport: Rapport,
                                                               engine: AsyncEngine) -> None:
    """"note Dana Lee's intro went well" with Dana Scully alone: Dana's note about Lee's
    intro, or a note about someone called Dana Lee? Asked, never guessed."""
    await say(rapport, "add Dana Scully")
    before = await snapshot(engine)
    answer = await _answer(rapport, "note Dana Lee's intro went well")
    assert answer.startswith("I'm not sure who you mean: I don't know anyone called “Dana "
                             "Lee”"), answer
    assert await snapshot(engine) == before
    # Words that are no one's (her, the) are the note's, as before.
    assert (await say(rapport, "note Dana her kid's school starts in May")).startswith(
        "Noted for Dana Scully")


async def test_forget_of_what_belongs_to_a_name_with_an_apostrophe(rapport: Rapport) -> None:
    await say(rapport, "add Sean O'Brien")
    await say(rapport, "note Sean O'Brien: daughter graduates in June")
    answer = await _answer(rapport, "forget Sean O'Brien's daughter")
    assert answer.startswith("To delete just what you have about “daughter”: “delete n1”"), \
        answer


# ------------------------------------------------------------ one's own word for a talk
@pytest.mark.parametrize(("line", "logged", "shown"), [
    ("log zoe kravitz: drinks", "Logged drinks with zoe kravitz.", "t1 today, drinks"),
    ("log Zoe Kravitz yesterday: drinks, her new job",
     "Logged drinks with zoe kravitz (yesterday).", "t1 yesterday, drinks: her new job"),
    ("log Lee: standup", "Logged standup with Lee Park.", "t1 today, standup"),
    ("log Lee stand-up", "Logged standup with Lee Park.", "t1 today, standup"),
    ("log Lee: breakfast", "Logged breakfast with Lee Park.", "t1 today, breakfast"),
    ("log Lee 1:1", "Logged 1:1 with Lee Park.", "t1 today, 1:1"),
    ("quick sync w/ Lee", "Logged sync with Lee Park.", "t1 today, sync"),
    # A way of saying a kind that means the kind is stored as that kind.
    ("log Lee: phone call", "Logged call with Lee Park.", "t1 today, call"),
    ("log Lee: e-mail", "Logged email with Lee Park.", "t1 today, email"),
])
async def test_your_own_word_for_a_conversation_is_kept(rapport: Rapport, line: str,
                                                        logged: str, shown: str) -> None:
    await say(rapport, "add zoe kravitz")
    await say(rapport, "add Lee Park")
    assert await say(rapport, line) == logged
    who = "Zoe" if "zoe" in line.lower() else "Lee"
    assert f"  {shown}" in (await say(rapport, f"show {who}")).splitlines()


async def test_a_title_and_one_of_the_names_find_someone_keyed_without_the_title(
        rapport: Rapport) -> None:
    # "Dr. Hiro Tanaka" is keyed "hiro tanaka", so "Dr. Tanaka" and "Dr. Hiro" are not its
    # key: the title, then the last or first name, still find him; another title never does.
    await say(rapport, "add Dr. Hiro Tanaka")
    await say(rapport, "add Mr. Smith")
    for line in ("show Dr. Tanaka", "show Dr Hiro", "show Prof. Tanaka"):
        assert (await say(rapport, line)).startswith("Dr. Hiro Tanaka: colleague"), line
    assert (await _answer(rapport, "show Mrs. Smith")).startswith(
        "I don't know anyone called “Mrs. Smith”")
