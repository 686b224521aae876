""""Who haven't I talked to in 2 months?" names only the people quiet that long, said
plainly, not what is due; the question without a length still answers with what is due,
then who has gone longest (tests/bot/test_quiet.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, say

# Friday Dec 4 2026, the afternoon the tester saw it.
FRIDAY = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)


async def _three_due(rapport: Rapport, clock: Clock) -> None:
    """Ann, Bob and Cat, each due or overdue, none quiet for two months."""
    clock.set(FRIDAY)
    for line in ("add Ann Lee every 2 weeks", "add Bob Ray every month",
                 "add Cat Fox every 3 weeks", "log Ann 15 days ago", "log Bob Nov 3",
                 "log Cat 3 weeks ago"):
        await say(rapport, line)


async def test_with_nobody_quiet_that_long_only_that_is_said(rapport: Rapport,
                                                              clock: Clock) -> None:
    await _three_due(rapport, clock)

    answer = await say(rapport, "who haven't I talked to in 2 months?")

    assert answer == "Nobody has gone 2 months without a conversation."


async def test_the_question_without_a_length_still_starts_with_what_is_due(
        rapport: Rapport, clock: Clock) -> None:
    await _three_due(rapport, clock)

    answer = await say(rapport, "who haven't I talked to?")

    assert answer.startswith("Overdue:\n  Ann Lee (since yesterday)"), answer
    assert "Cat Fox" in answer


async def test_someone_due_and_quiet_that_long_is_named_with_the_others_quiet_that_long(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await _three_due(rapport, clock)
    for line in ("add Dana Scully every 2 weeks", "log Dana Sep 1", "add Lee Park",
                 "log Lee Sep 20", "note Lee: the offsite today"):
        await say(rapport, line)
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    await sweeper.sweep()  # Lee's offsite reminder and the rhythms go out
    assert "#5 Ask Lee about the offsite" in await say(rapport, "due")

    answer = await say(rapport, "who haven't I talked to in 2 months?")

    # Dana is overdue and Lee has a reminder out: both are quiet that long, and named here
    # for that, not for being due; Ann, Bob and Cat are due but not quiet that long.
    assert answer == ("Not talked to in 2 months:\n"
                      "  Dana Scully: last talked Tue Sep 1 (3 months ago)\n"
                      "  Lee Park: last talked Sun Sep 20 (2 months ago)")
