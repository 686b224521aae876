"""`tag Lee vip` says "Lee Park now follows your goal: …" only when a tag just put on Lee has
a goal and that goal is the rhythm Lee now follows; a tag without a goal says nothing about
a rhythm, even when Lee follows another tag's goal."""

from __future__ import annotations

from rapport.bot.core.rapport import Rapport
from tests.conftest import console_user, say

ALEX = console_user("alex")


async def test_a_tag_without_a_goal_says_nothing_about_a_rhythm(rapport: Rapport) -> None:
    await say(rapport, "add Lee Park", ALEX)
    assert await say(rapport, "tag lee VIP", ALEX) == "Tagged Lee Park vip."
    # Lee follows the clients goal; tags without a goal leave that rhythm as it was.
    await say(rapport, "tag lee clients", ALEX)
    await say(rapport, "goal clients every month", ALEX)
    assert await say(rapport, "tag lee team", ALEX) == "Tagged Lee Park team."
    assert await say(rapport, "tag Lee Park #board #advisors", ALEX) == \
        "Tagged Lee Park board and advisors."


async def test_a_tag_with_a_goal_says_the_rhythm_it_gives(rapport: Rapport) -> None:
    await say(rapport, "add Lee Park", ALEX)
    await say(rapport, "goal vip every 2 weeks", ALEX)
    assert await say(rapport, "tag lee VIP", ALEX) == (
        "Tagged Lee Park vip. Lee Park now follows your goal: talk every 2 weeks.")
    # Several tags at once: one with a goal is enough, and its rhythm is named.
    await say(rapport, "add Kim Wu", ALEX)
    assert await say(rapport, "tag Kim #board #vip", ALEX) == (
        "Tagged Kim Wu board and vip. Kim Wu now follows your goal: talk every 2 weeks.")
    # A longer goal than the one Lee follows: the shorter still applies, so no claim.
    await say(rapport, "goal clients every month", ALEX)
    assert await say(rapport, "tag lee clients", ALEX) == "Tagged Lee Park clients."
    # A shorter one takes over, and says so.
    await say(rapport, "goal team every week", ALEX)
    assert await say(rapport, "tag lee team", ALEX) == (
        "Tagged Lee Park team. Lee Park now follows your goal: talk every week.")


async def test_a_rhythm_of_ones_own_is_not_said_to_follow_a_goal(rapport: Rapport) -> None:
    await say(rapport, "add Dana Scully every 3 weeks", ALEX)
    await say(rapport, "goal clients every month", ALEX)
    assert await say(rapport, "tag Dana clients", ALEX) == "Tagged Dana Scully clients."
