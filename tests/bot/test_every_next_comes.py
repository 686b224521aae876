"""`every`'s confirmation says the day the rhythm's reminder comes, as `due`'s "Coming up"
and `show`'s "next nudge" say it: the rhythm falling due on a day off comes on the next
working day (the confirmation said "(next: Sat Nov 28)", a day nothing came, beside `due`'s
Mon Nov 30), and in a pause when the pause ends; a working day keeps its own."""

from __future__ import annotations

from datetime import UTC, datetime

from rapport.bot.core.rapport import Rapport
from tests.bot.test_due_reminder_comes import _delivered
from tests.bot.test_due_rhythm_comes import _rhythm
from tests.conftest import Clock, console_user, say

ALEX = console_user("alex")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
KEEP_IN_TOUCH = ("You wanted to keep in touch with {} every {} days, and you have not logged "
                 "a conversation yet")


async def test_a_rhythm_falling_due_on_a_day_off_is_confirmed_for_the_working_day_it_comes(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(MONDAY)
    await say(rapport, "add Dana", ALEX)
    await say(rapport, "add Lee", ALEX)
    assert await say(rapport, "Dana every 5 days", ALEX) == \
        "I'll remind you to talk to Dana every 5 days (next: Mon Nov 30)."  # due Sat Nov 28
    assert await say(rapport, "Lee every 4 days", ALEX) == \
        "I'll remind you to talk to Lee every 4 days (next: Fri Nov 27)."  # a working day
    # The three agree...
    assert await say(rapport, "due", ALEX) == "\n".join([
        "Coming up:",
        "  Talk to Lee Fri Nov 27",
        "  Talk to Dana Mon Nov 30"])
    assert _rhythm(await say(rapport, "show Dana", ALEX)).endswith("next nudge Mon Nov 30")
    # ...with the days they do come.
    assert await _delivered(rapport, clock, datetime(2026, 11, 27, 12, 0, tzinfo=UTC)) == [
        KEEP_IN_TOUCH.format("Lee", 4)]
    assert await _delivered(rapport, clock, datetime(2026, 11, 28, 12, 0, tzinfo=UTC)) == []
    assert await _delivered(rapport, clock, datetime(2026, 11, 29, 12, 0, tzinfo=UTC)) == []
    assert await _delivered(rapport, clock, datetime(2026, 11, 30, 9, 5, tzinfo=UTC)) == [
        KEEP_IN_TOUCH.format("Dana", 5)]


async def test_the_users_own_working_days_decide_the_confirmed_day(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(MONDAY)
    await say(rapport, "settings days tue-sat", ALEX)
    await say(rapport, "add Dana", ALEX)
    assert await say(rapport, "Dana every 6 days", ALEX) == \
        "I'll remind you to talk to Dana every 6 days (next: Tue Dec 1)."  # due Sun Nov 29
    assert await say(rapport, "due", ALEX) == "Coming up:\n  Talk to Dana Tue Dec 1"
    assert await _delivered(rapport, clock, datetime(2026, 11, 30, 12, 0, tzinfo=UTC)) == []
    assert await _delivered(rapport, clock, datetime(2026, 12, 1, 9, 5, tzinfo=UTC)) == [
        KEEP_IN_TOUCH.format("Dana", 6)]


async def test_a_rhythm_falling_due_in_a_pause_is_confirmed_for_the_day_the_pause_ends(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(MONDAY)
    await say(rapport, "pause 3 days", ALEX)  # until Thu Nov 26
    await say(rapport, "add Dana", ALEX)
    assert await say(rapport, "Dana every 2 days", ALEX) == \
        "I'll remind you to talk to Dana every 2 days (next: Thu Nov 26)."  # due Wed Nov 25
    assert (await say(rapport, "due", ALEX)).splitlines()[:2] == [
        "Coming up:", "  Talk to Dana Thu Nov 26"]
    assert await _delivered(rapport, clock, datetime(2026, 11, 25, 12, 0, tzinfo=UTC)) == []
    assert await _delivered(rapport, clock, datetime(2026, 11, 26, 9, 5, tzinfo=UTC)) == [
        KEEP_IN_TOUCH.format("Dana", 2)]
