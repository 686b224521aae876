""""Who did I talk to this week?": the conversations logged over a span of days, newest
first, with the person and the handle `edit` and `delete` take (the question used to answer
with the usage of `show`)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.storage import db
from rapport.storage.models import CALENDAR_SOURCE, Touchpoint
from tests.conftest import Clock, console_user, say


async def _say_all(rapport: Rapport, *lines: str, user: str = "alex", tz: str = "UTC") -> None:
    for line in lines:
        await say(rapport, line, console_user(user, tz))


async def test_this_week_lists_each_conversation_newest_first_with_its_handle(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))  # Friday
    await _say_all(rapport, "add Dana Scully", "add Lee Park", "add Priya Natarajan",
                   "log Dana on Tuesday: coffee, the Q3 roadmap", "log Lee today: call",
                   "log Priya last Friday: lunch", "log Dana yesterday")

    answer = await say(rapport, "who did I talk to this week?")

    assert answer == ("3 conversations with 2 people this week (since Mon Nov 23), newest "
                      "first:\n"
                      "  t2 today, Lee Park: call\n"
                      "  t4 yesterday, Dana Scully: chat\n"
                      "  t1 Tue Nov 24, Dana Scully: coffee: the Q3 roadmap")
    # Last week is Priya's lunch alone, named in the header.
    assert await say(rapport, "recent last week") == (
        "1 conversation with Priya Natarajan last week (Mon Nov 16 – Sun Nov 22):\n"
        "  t3 Fri Nov 20, Priya Natarajan: lunch")
    # The handles are the ones `delete` takes.
    await say(rapport, "delete t4")
    assert "t4" not in await say(rapport, "history")


async def test_a_span_with_nothing_says_so_and_how_to_log(rapport: Rapport) -> None:
    await _say_all(rapport, "add Dana Scully", "log Dana 3 weeks ago")

    assert await say(rapport, "who did I talk to yesterday?") == (
        "No conversations logged yesterday. After you talk to someone, “log Dana: coffee” "
        "records it; “who haven't I talked to lately?” shows who you have not talked to.")
    # The default span is two weeks; three weeks back is a span of its own.
    assert "No conversations logged in the last 2 weeks (since Tue Nov 10)" \
        in await say(rapport, "recent")
    assert "Dana Scully: chat" in await say(rapport, "who have I seen in the last month?")


async def test_days_are_the_users_own_in_their_time_zone(any_engine: AsyncEngine,
                                                         clock: Clock) -> None:
    """A call at 23:30 on Sunday in Los Angeles is Monday in UTC: it is last week's."""
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    clock.set(datetime(2026, 11, 23, 7, 30, tzinfo=UTC))  # Sun Nov 22, 23:30 in LA
    await _say_all(rapport, "add Lee Park", "log Lee: call", tz="America/Los_Angeles")
    clock.set(datetime(2026, 11, 24, 18, 0, tzinfo=UTC))  # Tue Nov 24, 10:00 in LA
    la = console_user("alex", "America/Los_Angeles")

    assert "No conversations logged this week" in await say(rapport, "recent this week", la)
    assert await say(rapport, "recent last week", la) == (
        "1 conversation with Lee Park last week (Mon Nov 16 – Sun Nov 22):\n"
        "  t1 Sun Nov 22, Lee Park: call")


async def test_another_persons_conversations_never_appear(any_engine: AsyncEngine,
                                                          clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await _say_all(rapport, "add Dana Scully", "log Dana today: about the merger",
                   user="blake")
    await _say_all(rapport, "add Lee Park", "log Lee today: call")

    mine = await say(rapport, "who did I talk to today?")

    assert mine == "1 conversation with Lee Park today:\n  t2 today, Lee Park: call"
    assert "Dana" not in await say(rapport, "recent this year")


async def test_many_conversations_show_the_newest_and_count_the_rest(
        rapport: Rapport, engine: AsyncEngine) -> None:
    await _say_all(rapport, "add Dana Scully", *(f"log Dana {days} days ago: call, item {days}"
                                                 for days in range(1, 31)))

    answer = await say(rapport, "recent this month")

    lines = answer.splitlines()
    # Monday Nov 23: this month is Nov 1-23, so 22 of the 30 (1-22 days ago).
    assert lines[0] == ("22 conversations with Dana Scully this month (since Sun Nov 1), "
                        "newest first:")
    assert lines[1] == "  t1 yesterday, Dana Scully: call: item 1"
    assert len(lines) == 23
    month = await say(rapport, "who did I talk to in the last month?")
    assert month.splitlines()[-1] == ("  … and 5 earlier: a shorter span (“recent this "
                                      "week”) or “show <name>” lists them.")
    assert len(month.splitlines()) == 1 + 25 + 1
    # A logged conversation from the calendar says so, as on the card.
    async with db.session_factory(engine)() as session:
        touch = await session.scalar(select(Touchpoint).where(Touchpoint.id == 1))
        assert touch is not None
        touch.source = CALENDAR_SOURCE
        await session.commit()
    assert ("  t1 yesterday, Dana Scully: call: item 1 (logged from your calendar)"
            in await say(rapport, "recent"))


async def test_a_long_summary_is_cut_in_the_list_and_whole_on_the_card(
        rapport: Rapport) -> None:
    summary = ("the reorg, her move to Berlin in March, the hiring plan for the platform "
               "team and the offsite")
    await _say_all(rapport, "add Dana Scully", f"log Dana today: coffee, {summary}")

    line = (await say(rapport, "recent today")).splitlines()[1]

    assert line == ("  t1 today, Dana Scully: coffee: the reorg, her move to Berlin in March, "
                    "the hiring plan for the platform team…")
    assert summary in await say(rapport, "show Dana")
