"""Someone known by a first name alone ("Dana") beside someone with that first name (Dana
Scully): README promises "Which Dana do you mean …?", never a silent pick of either, and
`add` says so when it makes a first name shared."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from tests.conftest import console_user, say, snapshot

ALEX = console_user("alex")
WHICH = ("Which Dana do you mean: Dana or Dana Scully? For Dana alone, put the name in "
         "quotes (“\"Dana\"”).")


async def test_a_bare_first_name_added_beside_a_full_name_is_asked_about(
        rapport: Rapport, engine: AsyncEngine) -> None:
    await say(rapport, "add Dana Scully every 2 weeks")
    assert await say(rapport, "log Dana yesterday: coffee") == \
        "Logged coffee with Dana Scully (yesterday)."
    added = await say(rapport, "add Dana")
    assert added == ("Added Dana (colleague). Set how often with “every Dana 2 weeks”. You "
                     "also have Dana Scully, so “Dana” alone will ask which one; “\"Dana\"” in "
                     "quotes means this Dana.")
    before = await snapshot(engine)
    for line in ("log Dana today: lunch", "note Dana: likes jazz", "show Dana",
                 "every Dana 3 weeks", "done Dana"):
        reply = await rapport.handle_text(ALEX, line)
        assert not reply.ok and reply.text == WHICH, (line, reply.text)
    assert await snapshot(engine) == before
    # Each of them can still be named: the full name, or the one word in quotes.
    assert await say(rapport, 'log "Dana" today: lunch') == "Logged lunch with Dana."
    assert await say(rapport, "log Dana Scully today: tea") == "Logged chat with Dana Scully."
    shown = await say(rapport, "show “Dana”")
    assert shown.startswith("Dana: colleague") and "lunch" in shown


async def test_adding_someone_whose_first_name_is_taken_says_what_it_now_means(
        rapport: Rapport) -> None:
    await say(rapport, "add Dana")
    assert await say(rapport, "add Dana Scully") == (
        "Added Dana Scully (colleague). Set how often with “every Dana Scully 2 weeks”. You "
        "also have Dana, so “Dana” alone will ask which one.")
    assert await say(rapport, "add Dana Mulder") == (
        "Added Dana Mulder (colleague). Set how often with “every Dana Mulder 2 weeks”. You "
        "also have Dana and Dana Scully, so “Dana” alone will ask which one.")
    reply = await rapport.handle_text(ALEX, "log Dana: coffee")
    assert not reply.ok and reply.text.startswith(
        "Which Dana do you mean: Dana, Dana Mulder or Dana Scully?")
    # Nobody else with that first name: nothing to say.
    assert await say(rapport, "add Lee Park") == \
        "Added Lee Park (colleague). Set how often with “every Lee Park 2 weeks”."
