"""One person written several ways is one person: `add` with a hyphen typed as a space (or the
other way round), a title or a nickname answers as for the exact name; a name with pronouns
or emoji is keyed, found and greeted by the name in it; names.py is the one list of titles."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.bot.core.drafts import DraftService
from rapport.bot.core.rapport import Rapport
from rapport.scheduler import wording
from rapport.storage import names
from rapport.storage.models import Contact
from rapport.storage.names import given_name, name_key
from tests.conftest import Clock, console_user, say


async def _names(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(Contact.name).order_by(Contact.id)))


@pytest.mark.parametrize(("kept", "typed"), [
    ("Anne-Marie Smith", "Anne Marie Smith"),
    ("Anne Marie Smith", "Anne-Marie Smith"),
    ("Ann Smith-Jones", "ann smith jones"),
    ("Anne-Marie Smith", "Dr. Anne Marie Smith"),
    ("Anne-Marie Smith", "Anne–Marie Smith"),  # an en dash, as a phone types it
    ("Chris “CJ” Johnson", "CJ Johnson"),
    ("Chris “CJ” Johnson", "Prof Chris Johnson"),
])
async def test_adding_someone_again_written_another_way_is_refused_as_a_duplicate(
        kept: str, typed: str, rapport: Rapport,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    await say(rapport, f"add {kept}")
    reply = await rapport.handle_text(console_user(), f"add {typed}")
    assert not reply.ok
    assert reply.text == f"You already keep in touch with {kept}."
    assert await _names(sessions) == [kept]


@pytest.mark.parametrize(("kept", "typed"), [
    ("Anne-Marie Smith", "Anne Marie"),  # a first name alone: maybe someone else
    ("Anne-Marie Smith", "Anne Smith"),
    ("Chris “CJ” Johnson", "CJ"),
    ("Dana Scully", "Dana"),
])
async def test_someone_else_who_shares_part_of_the_name_is_added(
        kept: str, typed: str, rapport: Rapport,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    await say(rapport, f"add {kept}")
    assert (await say(rapport, f"add {typed}")).startswith(f"Added {typed} (colleague)")
    assert await _names(sessions) == [kept, typed]


@pytest.mark.parametrize(("name", "key"), [
    ("Pat Doe (she/her) 🌴", "pat doe"),
    ("Pat Doe 🌴 (they/them)", "pat doe"),
    ("Pat Doe (she/they)", "pat doe"),
    ("Pat Doe (any pronouns)", "pat doe"),
    ("Pat Doe he/him", "pat doe"),
    ("👩🏽‍💻 Zoë Park", "zoe park"),
    ("Zoë Park 🏴󠁧󠁢󠁳󠁣󠁴󠁿", "zoe park"),
    ("🎉Sam🎉 Lee™", "sam lee"),
    ("Dr. Pat Doe (she/her)", "pat doe"),
    # What Rapport writes after a name to tell two apart is kept: it is what tells them apart.
    ("Dana Scully (U0DANA)", "dana scully (u0dana)"),
    ("Hiro Tanaka (2)", "hiro tanaka (2)"),
    ("Pat Doe (she/her) (U0PAT)", "pat doe (she/her) (u0pat)"),
    ("Pat (Sales)", "pat (sales)"),
    # Only what is clearly pronouns goes: a word in brackets alone is a nickname as often.
    ("Maria Lopez (Ella)", "maria lopez (ella)"),
    ("Em Ward (Em)", "em ward (em)"),
    ("Jo Park (El)", "jo park (el)"),
    ("Lu Chen (Il)", "lu chen (il)"),
    ("Kai Berg (Er)", "kai berg (er)"),
    ("Maria Lopez (ella/ella)", "maria lopez"),
    ("Pat Doe (pronouns: she/her)", "pat doe"),
    # The number Rapport gives a second one is kept; what the name drops before it, dropped.
    ("Pat Doe (she/her) 🌴 (2)", "pat doe (2)"),
    ("Dr. Hiro Tanaka (2) (2)", "hiro tanaka (2) (2)"),
    # A name of nothing else is kept as it is.
    ("🌴", "🌴"),
    ("(she/her)", "(she/her)"),
])
def test_pronouns_and_emoji_are_left_out_of_the_key(name: str, key: str) -> None:
    assert name_key(name) == key
    assert name_key(key) == key


@pytest.mark.parametrize(("name", "given"), [
    ("Dr. Jane Doe", "Jane"),
    ("Sir Ian Wood", "Ian"),
    ("Dame Judi Dench", "Judi"),
    ("👩🏽‍💻 Zoë Park", "Zoë"),
    ("🎉 Dr. Sam Lee", "Sam"),
    ("Pat Doe (she/her) 🌴", "Pat"),
    ("Dr.", "Dr."),
    ("🌴", "🌴"),
    ("", ""),
])
def test_the_given_name_is_past_titles_and_emoji_and_drafts_use_it(name: str,
                                                                    given: str) -> None:
    assert given_name(name) == given
    assert wording.first_name(name) == given


async def test_a_draft_greets_someone_whose_name_starts_with_an_emoji_by_their_name(
        rapport: Rapport, clock: Clock, sessions: async_sessionmaker[AsyncSession]) -> None:
    rapport.drafter = DraftService(sessions=sessions, clock=clock)
    await say(rapport, 'add "👩🏽‍💻 Zoë Park"')
    drafted = (await say(rapport, "draft Zoë")).split("\n\n", 1)[1]
    assert drafted.startswith("Hi Zoë! "), drafted


def test_wording_has_no_title_list_of_its_own() -> None:
    assert not hasattr(wording, "_TITLES")
    assert wording.TITLE_KEYS == names.TITLES | {title + "." for title in names.TITLES}
    # "Sir" and "Dame" were titles to keys but not to greetings: one list makes them both.
    assert {"sir", "dame"} <= names.TITLES


@pytest.mark.parametrize("added", ["Dr. Dana Fox", "👩🏽‍💻 Dana Fox"])
async def test_adding_a_second_dana_says_what_dana_alone_does_by_the_given_name(
        added: str, rapport: Rapport) -> None:
    await say(rapport, "add Dana Scully")
    answer = await say(rapport, f'add "{added}"')
    assert answer.endswith("You also have Dana Scully, so “Dana” alone will ask which one."), \
        answer


async def test_a_nickname_in_brackets_is_someone_else_than_the_name_without_it(
        rapport: Rapport, sessions: async_sessionmaker[AsyncSession]) -> None:
    assert (await say(rapport, 'add "Maria Lopez (Ella)"')).startswith(
        "Added Maria Lopez (Ella) (colleague)")
    assert (await say(rapport, "add Maria Lopez")).startswith("Added Maria Lopez (colleague)")
    assert (await say(rapport, 'add "Pat Doe (she/her)"')).startswith("Added Pat Doe (she/her)")
    reply = await rapport.handle_text(console_user(), "add Pat Doe")
    assert reply.text == "You already keep in touch with Pat Doe (she/her)."
    assert await _names(sessions) == ["Maria Lopez (Ella)", "Maria Lopez", "Pat Doe (she/her)"]


async def test_a_numbered_second_one_is_found_by_the_name_shown(rapport: Rapport) -> None:
    """As migrations number a name that reads as another's: "🌴 Pat Doe (she/her) (2)" is
    "Pat Doe (2)" typed."""
    await say(rapport, "add Pat Doe")
    await say(rapport, 'add "🌴 Pat Doe (she/her) (2)"')
    for line in ("show Pat Doe (2)", "show pat doe (she/her) (2)"):
        assert (await say(rapport, line)).startswith("🌴 Pat Doe (she/her) (2): colleague"), line
    assert (await say(rapport, "show Pat Doe")).startswith("Pat Doe: colleague")
