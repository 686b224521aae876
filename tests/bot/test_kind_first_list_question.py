"""A list said kind first without "with" ("log coffee Dana and Lee") is asked about as a
single name said that way is (tests/bot/test_kind_first_question.py): when someone unknown
could be the kind word's contact (Coffee Smith), the question offers both as the user can say
them, the list kept ("log coffee with Dana and Lee"), instead of "I don't know anyone called
“coffee Dana”. Did you mean Coffee Smith?"; each offer does what it says."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from tests.bot.test_kind_first_question import _asked, _people
from tests.conftest import console_user, say

ALEX = console_user("alex")


async def test_someone_unknown_in_a_list_after_a_kind_is_offered_as_that_kind_with_them(
        rapport: Rapport, engine: AsyncEngine) -> None:
    await _people(rapport, "Coffee Smith", "Lee")
    assert await _asked(rapport, engine, "log coffee Dana and Lee") == (
        "I'm not sure who you mean: Dana or Coffee Smith? I don't know anyone called “Dana” "
        "yet: for them, say “add Dana”, then “log coffee with Dana and Lee”. If you meant "
        "Coffee Smith, use the full name or quotes (“log \"Coffee Smith\" …”). Nothing was "
        "saved.")
    # Both offers do what they say.
    await say(rapport, "add Dana", ALEX)
    assert await say(rapport, "log coffee with Dana and Lee", ALEX) == \
        "Logged coffee with Dana and Lee."
    assert await say(rapport, "log \"Coffee Smith\" and Lee yesterday", ALEX) == \
        "Logged chat with Coffee Smith and Lee (yesterday)."


async def test_a_first_name_in_a_list_after_a_kind_is_offered_as_each_of_them(
        rapport: Rapport, engine: AsyncEngine) -> None:
    await _people(rapport, "Coffee Smith", "Dana", "Dana Scully", "Lee")
    assert await _asked(rapport, engine, "log coffee Dana and Lee yesterday") == (
        "I'm not sure who you mean: Dana or Coffee Smith? For Dana, say which one: “log "
        "coffee with \"Dana\" and Lee …” or “log coffee with Dana Scully and Lee …”. If you "
        "meant Coffee Smith, use the full name or quotes (“log \"Coffee Smith\" …”). Nothing "
        "was saved.")


@pytest.mark.parametrize("known", [("Lee",), ("Lee", "Dana Scully")])
async def test_a_list_is_answered_as_its_first_name_said_alone_is(
        rapport: Rapport, engine: AsyncEngine, known: tuple[str, ...]) -> None:
    """With no contact the kind word could be, as "log coffee Kim" is: about Kim, not
    about someone called "coffee Kim"."""
    await _people(rapport, *known)
    alone = await _asked(rapport, engine, "log coffee Kim")
    assert "coffee Kim" not in alone, alone
    assert await _asked(rapport, engine, "log coffee Kim and Lee") == alone


async def test_a_known_first_name_in_a_list_after_a_kind_is_taken_as_alone(
        rapport: Rapport) -> None:
    """Dana is Dana Scully's first name, as "log coffee Dana" takes it: the kind word is
    not Coffee Smith's first name there."""
    await _people(rapport, "Coffee Smith", "Dana Scully", "Lee")
    assert await say(rapport, "log coffee Dana", ALEX) == "Logged coffee with Dana Scully."
    assert await say(rapport, "log coffee Dana and Lee", ALEX) == \
        "Logged coffee with Dana Scully and Lee."
    assert await say(rapport, "log coffee Smith and Lee", ALEX) == \
        "Logged chat with Coffee Smith and Lee."
