"""`goal … off` answered as the words mean: two Danas are asked about, a name nobody has is
said to be no person or group (with no offer to add it), and "remove", "delete" or "clear"
turn off as "off" does, for `goal` and for `every`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from tests.conftest import console_user, say, snapshot

ALEX = console_user("alex")


async def _refused(rapport: Rapport, line: str) -> str:
    reply = await rapport.handle_text(ALEX, line)
    assert not reply.ok, (line, reply.text)
    return reply.text


async def test_goal_off_with_two_danas_asks_which(rapport: Rapport, engine: AsyncEngine
                                                  ) -> None:
    await say(rapport, "add Dana Scully every 2 weeks", ALEX)
    await say(rapport, "add Dana White", ALEX)
    before = await snapshot(engine)
    for line in ("goal dana off", "goal dana remove"):
        assert await _refused(rapport, line) == (
            "There is no group called dana. Which dana do you mean: Dana Scully or Dana "
            "White?")
    assert await snapshot(engine) == before


async def test_goal_off_for_a_name_nobody_has_says_so_plainly(rapport: Rapport,
                                                            engine: AsyncEngine) -> None:
    await say(rapport, "add Dana Scully every 2 weeks", ALEX)
    before = await snapshot(engine)
    answer = await _refused(rapport, "goal Nobody Here off")
    assert answer == "There is no person or group called “Nobody Here”: nothing to turn off."
    assert "add" not in answer
    # A name close to someone's is still asked about.
    assert "Did you mean Dana Scully?" in await _refused(rapport, "goal Dana Scuily off")
    assert await snapshot(engine) == before


async def test_remove_delete_and_clear_turn_off_like_off(rapport: Rapport,
                                                         engine: AsyncEngine) -> None:
    for line in ("add Dana Scully every 2 weeks", "add Lee Park #clients",
                 "goal clients every month"):
        await say(rapport, line, ALEX)
    before = await snapshot(engine)
    own = ("A goal is a group's. Dana Scully's rhythm is their own: “every Dana Scully off” "
           "stops reminders, “every Dana Scully 3 weeks” changes it.")
    for word in ("remove", "delete", "clear"):
        assert await _refused(rapport, f"goal Dana Scully {word}") == own
    assert await snapshot(engine) == before

    for word in ("remove", "delete", "clear"):
        assert await say(rapport, f"goal clients {word}", ALEX) == (
            "Goal for clients turned off. 1 of them no longer has a rhythm; set one with "
            "“every <name> 2 weeks”.")
        assert await say(rapport, f"every Dana Scully {word}", ALEX) == (
            "No more keep-in-touch reminders for Dana Scully.")
        await say(rapport, "goal clients every month", ALEX)
        await say(rapport, "every Dana Scully 2 weeks", ALEX)
