"""An @mention of someone who is not among the user's people is named in every answer as the
user sees them ("@Fox Mulder"), never as the chat's markup ("<@U0FOX>"), whichever use case
answers; and a line that is, or starts with, a mention is read by the grammar itself."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import NotAPerson
from rapport.bot.core.rapport import Rapport
from tests.conftest import console_user, snapshot

ALEX = console_user("alex")


class Directory:
    """The platform's directory, as Slack's users.info answers for one colleague."""

    async def display_name(self, user_external_id: str) -> str | None:
        return "Fox Mulder" if user_external_id == "U0FOX" else None

    async def not_a_person(self, user_external_id: str) -> NotAPerson | None:
        del user_external_id
        return None


@pytest.mark.parametrize("line", [
    "snooze <@U0FOX>", "snooze <@U0FOX> 2 days", "dismiss <@U0FOX>", "done <@U0FOX>",
    "set <@U0FOX> company Acme", "set <@U0FOX> email fox@fbi.gov", "rename <@U0FOX> to Fox",
    "<@U0FOX> moved to Initech", "delete <@U0FOX>'s last note",
    "edit my last conversation with <@U0FOX>: the X files", "goal <@U0FOX> off",
    "forget <@U0FOX>", "untag <@U0FOX> clients",
])
async def test_someone_not_among_your_people_is_named_not_marked_up(
        rapport: Rapport, engine: AsyncEngine, line: str) -> None:
    """Each answered “<@U0FOX> is not in your people yet.”"""
    assert (await rapport.handle_text(ALEX, "add Dana Scully")).ok
    before = await snapshot(engine)
    reply = await rapport.handle_text(ALEX, line, directory=Directory())
    assert not reply.ok, reply.text
    assert "<@" not in reply.text and "@Fox Mulder" in reply.text, reply.text
    assert await snapshot(engine) == before


async def test_without_a_directory_the_mentions_own_label_names_them(rapport: Rapport) -> None:
    """So does `draft`, which asks no directory (it raised for someone not yours)."""
    for line in ("snooze <@U0FOX|fox>", "draft <@U0FOX|fox>"):
        reply = await rapport.handle_text(ALEX, line)
        assert reply.text == "@fox is not in your people yet.", line
    for line in ("dismiss <@U0FOX>", "draft <@U0FOX>"):
        reply = await rapport.handle_text(ALEX, line)
        assert reply.text == "@U0FOX is not in your people yet.", line


async def test_a_goal_turned_off_for_one_person_points_to_their_rhythm(rapport: Rapport) -> None:
    assert (await rapport.handle_text(ALEX, "add <@U0FOX>", directory=Directory())).ok
    reply = await rapport.handle_text(ALEX, "goal <@U0FOX> off", directory=Directory())
    # Fox has no rhythm (nothing to turn off): the answer says how to set one for him.
    assert not reply.ok and "“every Fox Mulder 3 weeks”" in reply.text, reply.text


async def test_a_mention_alone_is_the_card_without_the_adapter_asking_first(
        rapport: Rapport) -> None:
    """The grammar reads it: `handle_text` alone shows the card (or how to add them)."""
    assert (await rapport.handle_text(ALEX, "add <@U0FOX>", directory=Directory())).ok
    card = await rapport.handle_text(ALEX, "<@U0FOX>", directory=Directory())
    assert card.ok and card.text.startswith("Fox Mulder"), card.text
    unknown = await rapport.handle_text(ALEX, "<@U0SAM|sam>?", directory=Directory())
    assert "“add @sam”" in unknown.text and "<@" not in unknown.text, unknown.text


@pytest.mark.parametrize("line", ["<@U0FOX> coffee yesterday", "<@U0FOX> <@U0SAM>"])
async def test_a_line_starting_with_a_mention_echoes_no_markup(
        rapport: Rapport, engine: AsyncEngine, line: str) -> None:
    """It answered “I don't know the command “<@u0fox>””."""
    assert (await rapport.handle_text(ALEX, "add Dana Scully")).ok
    before = await snapshot(engine)
    reply = await rapport.handle_text(ALEX, line, directory=Directory())
    assert not reply.ok and "<@" not in reply.text and "u0fox" not in reply.text, reply.text
    assert await snapshot(engine) == before
