""""Who haven't I talked to lately?": the due list, then the people gone longest without a
conversation, whether they have a rhythm or not (the due list alone left out everyone
without one)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say


async def _people(rapport: Rapport, *lines: str) -> None:
    for line in lines:
        await say(rapport, line)


async def test_the_longest_quiet_come_oldest_first_then_those_never_talked_to(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    # Monday Nov 23 2026, 10:00 UTC (the test clock).
    await _people(rapport, "add Ana Alves", "add Ben Brody", "add Cleo Cruz", "add Dov Dror",
                  "log Ben 2 days ago", "log Ana on Oct 12", "log Cleo yesterday")

    answer = await say(rapport, "who haven't I talked to lately?")

    assert answer == (
        "Nothing is due. None of your people has a rhythm yet: “every <name> 2 weeks” tells "
        "me how often to remind you.\n"
        "Longest since you talked:\n"
        "  Ana Alves: last talked Mon Oct 12 (6 weeks ago)\n"
        "  Ben Brody: last talked Sat Nov 21 (2 days ago)\n"
        "  Cleo Cruz: last talked yesterday\n"
        "No conversation logged yet: Dov Dror.")
    # "due" is still only what is due.
    assert "Longest" not in await say(rapport, "due")


async def test_someone_overdue_or_with_a_nudge_is_named_once(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await _people(rapport, "add Dana Scully every 1 week", "log Dana 3 weeks ago",
                  "add Lee Park", "note Lee: the offsite today", "add Sam Ortiz",
                  "log Sam 4 weeks ago")
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    assert (await sweeper.sweep()).sent >= 1  # the reminder about Lee's offsite

    answer = await say(rapport, "who have I lost touch with?")

    assert "#2 Ask Lee about the offsite" in answer, answer
    # Dana is due and Lee has a nudge: neither comes again below (Lee, never talked to, is
    # not "no conversation logged yet" a second time).
    assert answer.count("Dana Scully") == 1, answer
    quiet = answer[answer.index("Longest since you talked:"):]
    assert quiet == ("Longest since you talked:\n"
                     "  Sam Ortiz: last talked Mon Oct 26 (4 weeks ago)")


async def test_asked_for_a_length_of_time_only_those_quiet_that_long_are_named(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await _people(rapport, "add Ana Alves", "add Ben Brody", "log Ana 5 weeks ago",
                  "log Ben 10 days ago")

    month = await say(rapport, "who haven't I talked to in a month?")
    assert month.endswith("Not talked to in a month:\n"
                          "  Ana Alves: last talked Mon Oct 19 (5 weeks ago)")
    assert "Ben" not in month

    two_months = await say(rapport, "who haven't I spoken to for over 2 months")
    assert two_months.endswith("Nobody has gone 2 months without a conversation.")


async def test_many_never_talked_to_are_counted_after_the_first_few(rapport: Rapport) -> None:
    names = ["Ana", "Ben", "Cleo", "Dov", "Eve", "Fay", "Gus", "Hal"]
    await _people(rapport, *(f"add {name}" for name in names))

    answer = await say(rapport, "who haven't I talked to")

    assert answer.endswith("No conversation logged yet: Ana, Ben, Cleo, Dov, Eve and 3 "
                           "others.")


async def test_nobody_else_s_people_are_named(rapport: Rapport) -> None:
    sam = console_user("sam")
    await _people(rapport, "add Ana Alves", "log Ana 2 weeks ago")
    await say(rapport, "add Zed Zimmer", sam)
    await say(rapport, "log Zed 9 weeks ago", sam)

    mine = await say(rapport, "who haven't I talked to lately")
    theirs = await say(rapport, "who haven't I talked to lately", sam)

    assert "Ana Alves" in mine and "Zed" not in mine
    assert "Zed Zimmer" in theirs and "Ana" not in theirs


async def test_with_no_people_the_answer_says_how_to_add_them(rapport: Rapport,
                                                                clock: Clock) -> None:
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    assert (await say(rapport, "who haven't I talked to lately?")).startswith(
        "Nothing is due. Add people with “add <name>”")
