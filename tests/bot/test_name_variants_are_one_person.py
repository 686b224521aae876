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
