"""When "log chat Dana Scully" can be read two ways (a chat with Dana Scully, or Chat Smith),
the question offers both as the user can say them ("log chat with Dana Scully", "log "Chat
Smith" …"), and never to add someone whose name starts with the kind word ("add chat Dana
Scully"); each offer does what it says."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from tests.conftest import console_user, say, snapshot

ALEX = console_user("alex")


async def _people(rapport: Rapport, *names: str) -> None:
    for name in names:
        await say(rapport, f"add {name}", ALEX)


async def _asked(rapport: Rapport, engine: AsyncEngine, line: str) -> str:
    """The question `line` is answered with; it saves nothing."""
    before = await snapshot(engine)
    reply = await rapport.handle_text(ALEX, line)
    assert await snapshot(engine) == before
    return reply.text


async def test_someone_unknown_after_a_kind_is_offered_as_that_kind_with_them(
        rapport: Rapport, engine: AsyncEngine) -> None:
    await _people(rapport, "Chat Smith")
    assert await _asked(rapport, engine, "log chat Dana Scully") == (
        "I'm not sure who you mean: Dana Scully or Chat Smith? I don't know anyone called "
        "“Dana Scully” yet: for them, say “add Dana Scully”, then “log chat with Dana "
        "Scully”. If you meant Chat Smith, use the full name or quotes (“log \"Chat Smith\" "
        "…”). Nothing was saved.")
    # Both offers do what they say.
    await say(rapport, "add Dana Scully", ALEX)
    assert await say(rapport, "log chat with Dana Scully", ALEX) == \
        "Logged chat with Dana Scully."
    assert await say(rapport, "log \"Chat Smith\" yesterday", ALEX) == \
        "Logged chat with Chat Smith (yesterday)."


@pytest.mark.parametrize(("line", "offered"), [
    ("log chat Dana Scully yesterday", "“log chat with Dana Scully …”"),
    ("log coffee Dana Scully: budget", "“log coffee with Dana Scully …”"),
    # The kind as the log records it.
    ("log phone Dana Scully", "“log call with Dana Scully”"),
    ("log Chat Dana Scully", "“log chat with Dana Scully”"),
])
async def test_the_kind_word_is_never_offered_as_the_start_of_a_name(
        rapport: Rapport, engine: AsyncEngine, line: str, offered: str) -> None:
    await _people(rapport, "Chat Smith", "Coffee Smith", "Phone Smith")
    asked = await _asked(rapport, engine, line)
    assert asked.startswith("I'm not sure who you mean: Dana Scully or "), asked
    assert offered in asked and "“add Dana Scully”" in asked, asked
    first_word = line.split()[1]
    assert f"add {first_word}" not in asked.lower() and \
        f"called “{first_word}" not in asked.lower(), asked


async def test_a_shared_first_name_after_a_kind_is_offered_as_each_of_them(
        rapport: Rapport, engine: AsyncEngine) -> None:
    await _people(rapport, "Chat Smith", "Dana", "Dana Scully")
    assert await _asked(rapport, engine, "log chat Dana") == (
        "I'm not sure who you mean: Dana or Chat Smith? For Dana, say which one: “log chat "
        "with \"Dana\"” or “log chat with Dana Scully”. If you meant Chat Smith, use the "
        "full name or quotes (“log \"Chat Smith\" …”). Nothing was saved.")
    assert await say(rapport, "log chat with \"Dana\"", ALEX) == "Logged chat with Dana."
    assert await say(rapport, "log chat with Dana Scully", ALEX) == \
        "Logged chat with Dana Scully."


async def test_a_name_close_to_someone_after_a_kind_offers_them_and_adding_the_new_one(
        rapport: Rapport, engine: AsyncEngine) -> None:
    await _people(rapport, "Chat Smith", "Dana Scully")
    assert await _asked(rapport, engine, "log chat Dana White yesterday") == (
        "I'm not sure who you mean: Dana White or Chat Smith? I don't know anyone called "
        "“Dana White”: for them, say “add Dana White”, then “log chat with Dana White …”; "
        "for Dana Scully, “log chat with Dana Scully …”. If you meant Chat Smith, use the "
        "full name or quotes (“log \"Chat Smith\" …”). Nothing was saved.")
    assert await say(rapport, "log chat with Dana Scully yesterday", ALEX) == \
        "Logged chat with Dana Scully (yesterday)."


async def test_words_after_a_known_name_said_after_a_kind_are_asked_about_without_the_kind(
        rapport: Rapport, engine: AsyncEngine) -> None:
    await _people(rapport, "Dana Scully")
    asked = await _asked(rapport, engine, "log chat Dana Scully White yesterday")
    assert asked.startswith("I'm not sure who you mean: I don't know anyone called “Dana "
                            "Scully White”"), asked
    assert "If you meant Dana Scully, use the full name or quotes (“log chat with \"Dana " \
        "Scully\" …”); to add Dana Scully White, say “add Dana Scully White”." in asked, asked
    assert await say(rapport, "log chat with \"Dana Scully\" yesterday", ALEX) == \
        "Logged chat with Dana Scully (yesterday)."
