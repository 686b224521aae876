"""A note's confirmation names the day its reminder comes: a note for a day off (a Sunday)
is reminded on the next working day, and one for today typed after the delivery window has
closed on the next day the window opens; the answer says so and why, as a snooze to a day off
does, rather than promise a day no reminder comes."""

from __future__ import annotations

from datetime import UTC, datetime

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say

ALEX = console_user("alex")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def _people(rapport: Rapport, clock: Clock, now: datetime) -> None:
    clock.set(now)
    for line in ("add Dana", "add Lee"):
        await say(rapport, line, ALEX)


async def _delivered(rapport: Rapport, clock: Clock, moment: datetime) -> list[str]:
    clock.set(moment)
    inbox = Inbox()
    await Sweeper(sessions=rapport.sessions, messengers={"console": inbox}, owner="t",
                  clock=clock).sweep()
    return [item.headline.split(" (")[0] for message in inbox.delivered
            for item in message.items]


async def test_a_note_for_a_day_off_says_the_working_day_it_comes(rapport: Rapport,
                                                                   clock: Clock) -> None:
    await _people(rapport, clock, MONDAY)
    assert await say(rapport, "note Dana: hiking trip on Sunday", ALEX) == (
        "Noted. I'll remind you on Mon Nov 30 to ask Dana about the hiking trip (n1): "
        "Sun Nov 29 is not one of your working days.")
    # A working day keeps its own words.
    assert await say(rapport, "note Lee: call him on Friday", ALEX) == (
        "Noted. I'll remind you on Fri Nov 27 to call Lee (n2).")
    assert await say(rapport, "edit n2 on Saturday", ALEX) == (
        "Changed n2 (Lee): call him. I'll remind you on Mon Nov 30 to call Lee: Sat Nov 28 "
        "is not one of your working days.")
    assert await _delivered(rapport, clock, datetime(2026, 11, 29, 12, 0, tzinfo=UTC)) == []
    assert sorted(await _delivered(rapport, clock, datetime(2026, 11, 30, 9, 5, tzinfo=UTC))
                  ) == ["Ask Dana about the hiking trip", "Call Lee"]


async def test_working_days_of_the_users_own_say_which_day(rapport: Rapport,
                                                           clock: Clock) -> None:
    await _people(rapport, clock, MONDAY)
    await say(rapport, "settings days tue-sat", ALEX)
    assert await say(rapport, "note Dana: hiking trip on Sunday", ALEX) == (
        "Noted. I'll remind you on Tue Dec 1 to ask Dana about the hiking trip (n1): "
        "Sun Nov 29 is not one of your working days.")
    assert await say(rapport, "note Lee: call him on Saturday", ALEX) == (
        "Noted. I'll remind you on Sat Nov 28 to call Lee (n2).")


async def test_a_note_for_today_after_the_window_says_the_next_day(rapport: Rapport,
                                                                   clock: Clock) -> None:
    await _people(rapport, clock, datetime(2026, 11, 23, 18, 30, tzinfo=UTC))
    # Monday evening; the window is 09:00-17:00.
    assert await say(rapport, "note Dana: call her tonight", ALEX) == (
        "Noted. I'll remind you tomorrow to call Dana (n1): today's delivery window ended "
        "at 17:00.")
    assert await _delivered(rapport, clock, datetime(2026, 11, 23, 21, 0, tzinfo=UTC)) == []
    assert await _delivered(rapport, clock, datetime(2026, 11, 24, 9, 5, tzinfo=UTC)) == [
        "Call Dana"]
    # On a Friday evening, the window opens next on Monday.
    clock.set(datetime(2026, 11, 27, 18, 0, tzinfo=UTC))
    assert await say(rapport, "note Lee: call him today", ALEX) == (
        "Noted. I'll remind you on Mon Nov 30 to call Lee (n2): today's delivery window "
        "ended at 17:00.")
    # Within the window, today is today.
    clock.set(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    assert await say(rapport, "note Lee: send him the deck today", ALEX) == (
        "Noted. I'll remind you today to send Lee the deck (n3).")
