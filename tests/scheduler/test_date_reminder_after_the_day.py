"""A birthday or anniversary reminder that reaches the person after the day itself (held by a
pause or a snooze) says the day has passed: "was on Tue Jan 12 (8 days ago)", never
"in -8 days", in the nudge and in `due`."""

from __future__ import annotations

from datetime import UTC, date, datetime

from rapport.bot.core.rapport import Rapport
from rapport.scheduler import wording
from rapport.scheduler.delivery import Sweeper
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say


def test_a_passed_day_reads_as_passed() -> None:
    today = date(2027, 1, 20)
    assert wording.important_date_headline("Lee Park", "birthday", date(2027, 1, 12), today) \
        == "Lee's birthday was on Tue Jan 12 (8 days ago)"
    assert wording.important_date_headline("Lee Park", "birthday", date(2027, 1, 19), today) \
        == "Lee's birthday was on Tue Jan 19 (yesterday)"
    assert wording.important_date_headline(
        "Lee Park", "anniversary", date(2026, 12, 29), today, since_year=2019) \
        == "Lee's 7th work anniversary was on Tue Dec 29 2026 (3 weeks ago)"
    # Today and ahead read as before.
    assert wording.important_date_headline("Lee Park", "birthday", today, today) \
        == "Lee's birthday is on Wed Jan 20 (today)"
    assert wording.important_date_headline("Lee Park", "birthday", date(2027, 1, 23), today) \
        == "Lee's birthday is on Sat Jan 23 (in 3 days)"


async def test_a_birthday_reminder_held_by_a_pause_says_the_day_has_passed(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(datetime(2027, 1, 4, 10, 0, tzinfo=UTC))  # a Monday
    alex = console_user()
    await say(rapport, "add Lee Park", alex)
    await say(rapport, "date Lee birthday Jan 12", alex)
    await say(rapport, "pause until Jan 20", alex)
    inbox = Inbox()
    sweeper = Sweeper(sessions=rapport.sessions, messengers={"console": inbox}, owner="t",
                      clock=clock)
    clock.set(datetime(2027, 1, 11, 10, 0, tzinfo=UTC))
    assert (await sweeper.sweep()).sent == 0  # paused: planned, held back
    clock.set(datetime(2027, 1, 20, 10, 0, tzinfo=UTC))
    assert (await sweeper.sweep()).sent == 1
    [message] = inbox.delivered
    assert message.items[0].headline == "Lee's birthday was on Tue Jan 12 (8 days ago)"
    due = await say(rapport, "due", alex)
    assert "Lee's birthday was on Tue Jan 12 (8 days ago)" in due
    assert "in -" not in due
