"""`goal Dana Scully off` names one person as `goal dana off` does (a group's name is one word):
it says where her rhythm comes from and how to change it, never "How often?", and changes
nothing; a group whose name is a word of hers is left alone."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from tests.conftest import console_user, say, snapshot

ALEX = console_user("alex")


async def _refused(rapport: Rapport, line: str) -> str:
    reply = await rapport.handle_text(ALEX, line)
    assert not reply.ok, (line, reply.text)
    return reply.text


async def test_goal_off_with_a_two_word_name_says_where_the_rhythm_comes_from(
        rapport: Rapport, engine: AsyncEngine) -> None:
    for line in ("add Dana Scully every 2 weeks", "add Lee Park #clients",
                 "goal clients every month", "add Sam Okafor", "add Priya every month"):
        await say(rapport, line, ALEX)
    before = await snapshot(engine)

    own = ("Dana Scully's rhythm is their own: “every Dana Scully off” stops reminders, "
           "“every Dana Scully 3 weeks” changes it.")
    assert await _refused(rapport, "goal Dana Scully off") == "A goal is a group's. " + own
    assert await _refused(rapport, "goal dana scully never") == "A goal is a group's. " + own
    assert await _refused(rapport, 'goal "Dana Scully" off') == "A goal is a group's. " + own
    # One word, as before: there is no such group, and the same truth about her.
    assert await _refused(rapport, "goal dana off") == "There is no group called dana. " + own
    assert await _refused(rapport, "goal priya off") == (
        "There is no group called priya. Priya's rhythm is their own: “every Priya off” stops "
        "reminders, “every Priya 3 weeks” changes it.")

    assert await _refused(rapport, "goal Lee Park off") == (
        "A goal is a group's. Lee Park follows your goal for clients (every month); their "
        "rhythm is not their own. “untag Lee Park clients” takes them out of it, “goal clients "
        "off” turns it off for everyone tagged clients, and “every Lee Park off” stops "
        "reminders for Lee Park alone.")
    assert await _refused(rapport, "goal Sam Okafor off") == (
        "A goal is a group's. Sam Okafor has no rhythm to turn off: “every Sam Okafor 3 weeks” "
        "sets one.")
    assert "Nobody Here" in await _refused(rapport, "goal Nobody Here off")
    assert await snapshot(engine) == before


async def test_a_group_named_like_a_word_of_the_name_is_left_alone(
        rapport: Rapport, engine: AsyncEngine) -> None:
    # A group "team" with a goal, and a person whose first name is Team.
    for line in ("add Team Player every 3 weeks", "add Lee Park #team", "goal team every week",
                 "add Dana Scully", "tag Lee dana", "goal dana every month"):
        await say(rapport, line, ALEX)
    before = await snapshot(engine)
    assert await _refused(rapport, "goal Team Player off") == (
        "A goal is a group's. Team Player's rhythm is their own: “every Team Player off” stops "
        "reminders, “every Team Player 3 weeks” changes it.")
    assert await _refused(rapport, "goal Dana Scully off") == (
        "A goal is a group's. Dana Scully has no rhythm to turn off: “every Dana Scully 3 "
        "weeks” sets one.")
    assert await snapshot(engine) == before
    # One word that is a group's name is the group, which comes first.
    assert await say(rapport, "goal dana off", ALEX) == "Goal for dana turned off."
    assert await say(rapport, "goal team off", ALEX) == (
        "Goal for team turned off. 1 of them no longer has a rhythm; set one with “every "
        "<name> 2 weeks”.")
