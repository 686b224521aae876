"""Days said without a year, parts of next month and weeks, as an exploratory tester typed
them at the console in New York: "Oct 30" is the nearest Oct 30, refused when it is on the
wrong side of today rather than moved a year; "the 31st" never skips a month; Feb 29 is
refused in a year that has none; "early next month" is the 1st, not a month from today; and
a snooze to a day off says the day the reminder does come."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from rapport.storage.models import Note, Touchpoint
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say, snapshot

ALEX = console_user("alex", tz="America/New_York")
# Wednesday Oct 21 2026, 11:00 in New York; Mon Oct 5 and Fri Oct 30, 10:00.
WED_OCT_21 = datetime(2026, 10, 21, 15, 0, tzinfo=UTC)
MON_OCT_5 = datetime(2026, 10, 5, 14, 0, tzinfo=UTC)
THU_OCT_29 = datetime(2026, 10, 29, 14, 0, tzinfo=UTC)
FRI_OCT_30 = datetime(2026, 10, 30, 14, 0, tzinfo=UTC)


async def _notes(engine: AsyncEngine) -> list[tuple[object, ...]]:
    async with db.session_factory(engine)() as session:
        return [tuple(row) for row in (await session.execute(
            select(Note.text, Note.follow_up_on).order_by(Note.id))).all()]


async def _days_logged(engine: AsyncEngine) -> list[date]:
    async with db.session_factory(engine)() as session:
        return [moment.date() for moment in (await session.execute(
            select(Touchpoint.happened_at).order_by(Touchpoint.id))).scalars()]


async def _refused(rapport: Rapport, line: str, *expected: str) -> str:
    reply = await rapport.handle_text(ALEX, line)
    assert not reply.ok and all(part in reply.text for part in expected), (line, reply.text)
    return reply.text


async def _nudge_out(rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    """Lee Park's weekly reminder, #1, sent on Thu Oct 29."""
    clock.set(WED_OCT_21)
    await say(rapport, "add Lee Park every 1 week", ALEX)
    clock.set(THU_OCT_29)
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    assert (await sweeper.sweep()).sent == 1


async def test_a_log_of_a_month_day_still_to_come_is_refused_not_moved_a_year_back(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    """"log Sam on Oct 30" on Oct 21 was logged on Thu Oct 30 2025; "log Dana on the 31st" on
    Oct 30 on Mon Aug 31, September having none."""
    clock.set(WED_OCT_21)
    await say(rapport, "add Sam Okafor", ALEX)
    await say(rapport, "add Dana Scully", ALEX)
    before = await snapshot(engine)
    for line, day in (("log Sam on Oct 30", "Fri Oct 30"), ("log Sam 10/30", "Fri Oct 30"),
                      ("log Sam: coffee on Oct 30", "Fri Oct 30"),
                      ("log Sam next week", "Wed Oct 28")):
        await _refused(rapport, line, "only log conversations that already happened",
                       f"{day} is still to come")
    clock.set(FRI_OCT_30)
    for line, day in (("log Dana on Nov 2", "Mon Nov 2"), ("log Dana on Oct 31", "Sat Oct 31"),
                      ("log Dana on the 31st", "Sat Oct 31")):
        await _refused(rapport, line, f"{day} is still to come")
    assert await snapshot(engine) == before
    # Days gone by are logged, this year's; one far ahead is last year's.
    for line in ("log Sam on Oct 15", "log Dana on the 30th", "log Sam on Mar 1",
                 "log Dana on Jan 30"):
        await say(rapport, line, ALEX)
    assert await _days_logged(engine) == [date(2026, 10, 15), date(2026, 10, 30),
                                          date(2026, 3, 1), date(2026, 1, 30)]


async def test_feb_29_in_a_year_without_one_is_refused(rapport: Rapport, engine: AsyncEngine,
                                                       clock: Clock) -> None:
    """"log Dana Scully on Feb 29" on Oct 21 2026 was logged on Thu Feb 29 2024."""
    await _nudge_out(rapport, engine, clock)
    clock.set(WED_OCT_21)
    await say(rapport, "add Dana Scully", ALEX)
    before = await snapshot(engine)
    await _refused(rapport, "log Dana Scully on Feb 29", "there is no Feb 29 in 2026",
                   "nothing was logged")
    await _refused(rapport, "log Dana on February 29th", "there is no Feb 29 in 2026")
    clock.set(FRI_OCT_30)
    await _refused(rapport, "snooze #1 until Feb 29", "There is no Feb 29 in 2027",
                   "nothing was snoozed")
    await _refused(rapport, "note Dana: call on Feb 29", "There is no Feb 29 in 2027",
                   "nothing was saved")
    assert await snapshot(engine) == before


async def test_a_snooze_to_a_month_day_just_passed_is_asked_about(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    """"snooze #3 until Oct 29" on Oct 30 snoozed until Fri Oct 29 2027; with no nudge out,
    "snooze Dana until Oct 15" held her rhythm for a year, and `undo` said "until Fri Oct 15"
    without the year."""
    await _nudge_out(rapport, engine, clock)
    await say(rapport, "add Dana Scully every 2 weeks", ALEX)
    clock.set(FRI_OCT_30)
    before = await snapshot(engine)
    await _refused(rapport, "snooze #1 until Oct 29", "Oct 29 was yesterday",
                   "nothing was snoozed", "Did you mean next year's? Say “snooze #1 until "
                   "Oct 29 2027”")
    await _refused(rapport, "snooze Dana until Oct 15", "Thu Oct 15 has passed",
                   "“snooze Dana until Oct 15 2027”")
    await _refused(rapport, "snooze Dana until 9/15", "Tue Sep 15 has passed")
    assert await snapshot(engine) == before
    # Said with its year, or far enough back that next year's is plainly meant, it is read.
    assert await say(rapport, "snooze #1 until Oct 28 2027", ALEX) == \
        "Snoozed the reminder to talk to Lee Park until Thu Oct 28 2027."
    assert await say(rapport, "undo", ALEX) == \
        "Undone: snoozed nudge #1 about Lee Park until Thu Oct 28 2027. It's open again: see " \
        "“due”."
    assert await say(rapport, "snooze #1 until Aug 4", ALEX) == \
        "Snoozed the reminder to talk to Lee Park until Wed Aug 4 2027."
    assert await say(rapport, "snooze #1 until Nov 4", ALEX) == \
        "Snoozed the reminder to talk to Lee Park until Wed Nov 4."


async def test_a_reminder_on_a_month_day_just_passed_is_asked_about(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    """"note Dana: dinner on Oct 29" on Oct 30 set a reminder on Oct 29 2027, while "her talk
    was on Oct 15" was rightly in the past."""
    clock.set(FRI_OCT_30)
    await say(rapport, "add Dana Scully", ALEX)
    before = await snapshot(engine)
    await _refused(rapport, "note Dana: dinner on Oct 29", "Oct 29 was yesterday",
                   "nothing was saved", "Did you mean next year's? Say “… on Oct 29 2027”")
    await _refused(rapport, "remind me to call Dana on Oct 15", "Thu Oct 15 has passed")
    assert await snapshot(engine) == before
    assert await say(rapport, "note Dana: her talk was on Oct 15", ALEX) == \
        "Noted for Dana Scully (n1). Thu Oct 15 is in the past, so there is no reminder."
    await say(rapport, "note Dana: dinner on Oct 29 2027", ALEX)
    await say(rapport, "note Dana: call on Jan 5", ALEX)
    assert await _notes(engine) == [("her talk was on Oct 15", None),
                                    ("dinner", date(2027, 10, 29)), ("call", date(2027, 1, 5))]


async def test_the_31st_never_skips_a_month(rapport: Rapport, engine: AsyncEngine,
                                            clock: Clock) -> None:
    """"the 31st" in a month without one, or after one that has none, is refused."""
    await _nudge_out(rapport, engine, clock)
    await say(rapport, "add Dana Scully", ALEX)
    clock.set(datetime(2026, 11, 16, 15, 0, tzinfo=UTC))
    before = await snapshot(engine)
    await _refused(rapport, "note Dana: call on the 31st", "November has no 31st",
                   "nothing was saved")
    await _refused(rapport, "snooze Lee until the 31st", "November has no 31st",
                   "nothing was snoozed")
    assert await snapshot(engine) == before
    # In a log, the last 31st: October's.
    assert "(Sat Oct 31)" in await say(rapport, "log Dana on the 31st", ALEX)


async def test_parts_of_next_month_and_weeks_are_read_whole(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    """On Oct 5 "end of next month" and "beginning of next month" were Nov 5; on Oct 30 every
    part of next month was Nov 30, with "early" or "mid" left in the note; "the week after
    next" and "first week of December" gave no reminder and no word about it."""
    clock.set(MON_OCT_5)
    await say(rapport, "add Dana Scully", ALEX)
    assert "on Mon Nov 30 to ask Dana about the conference (n1)" in await say(
        rapport, "note Dana: conference end of next month", ALEX)
    assert "on Mon Nov 2 to ask Dana about the conference (n2): Sun Nov 1 is not" in await say(
        rapport, "note Dana: conference beginning of next month", ALEX)
    clock.set(FRI_OCT_30)
    for part in ("early", "mid", "end of", "at the beginning of", "mid-"):
        space = "" if part.endswith("-") else " "
        await say(rapport, f"note Dana: the conference {part}{space}next month", ALEX)
    assert "on Mon Nov 9 to ask Dana about the offsite (n8)" in await say(
        rapport, "note Dana: offsite the week after next", ALEX)
    assert "on Tue Dec 1 to ask Dana about the offsite first week of December (n9)" in \
        await say(rapport, "note Dana: offsite first week of December", ALEX)
    assert "on Fri Nov 6" in await say(rapport, "note Dana: demo end of next week", ALEX)
    unread = await say(rapport, "note Dana: offsite late next month", ALEX)
    assert unread.startswith("Noted for Dana Scully (n11). “late next month” looks like a "
                             "date, but I couldn't read it, so there is no reminder."), unread
    unread = await say(rapport, "note Dana: offsite second week of December", ALEX)
    assert "“second week of December” looks like a date" in unread, unread
    assert await _notes(engine) == [
        ("conference", date(2026, 11, 30)), ("conference", date(2026, 11, 1)),
        ("the conference", date(2026, 11, 1)), ("the conference", date(2026, 11, 15)),
        ("the conference", date(2026, 11, 30)), ("the conference", date(2026, 11, 1)),
        ("the conference", date(2026, 11, 15)), ("offsite", date(2026, 11, 9)),
        ("offsite first week of December", date(2026, 12, 1)), ("demo", date(2026, 11, 6)),
        ("offsite late next month", None), ("offsite second week of December", None)]


async def test_a_snooze_to_a_day_off_says_the_day_it_comes(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    """"snooze #3 until Saturday" said "until tomorrow (Sat Oct 31)", but with Mon–Fri
    working days it came back on Monday."""
    await _nudge_out(rapport, engine, clock)
    clock.set(FRI_OCT_30)
    assert await say(rapport, "snooze #1 until Saturday", ALEX) == (
        "Snoozed the reminder to talk to Lee Park until Mon Nov 2: Sat Oct 31 is not one of "
        "your working days.")
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    clock.set(datetime(2026, 10, 31, 14, 0, tzinfo=UTC))
    assert (await sweeper.sweep()).sent == 0
    clock.set(datetime(2026, 11, 2, 15, 0, tzinfo=UTC))
    assert (await sweeper.sweep()).sent == 1
    # A working day is said as before.
    assert await say(rapport, "snooze #1 until Wednesday", ALEX) == \
        "Snoozed the reminder to talk to Lee Park until Wed Nov 4."
