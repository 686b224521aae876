"""The weekly summary says the span it counts: the 7 days up to the moment it is sent, so a
conversation on the previous Friday afternoon (after that week's summary went out) is counted
once, in this one, and the text does not call those 7 days "this week"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.summary import send_weekly_summaries
from tests.conftest import Clock, console_user, say
from tests.scheduler.test_summary import Recorder

NY = "America/New_York"
# Friday 2026-11-27 09:00 in New York, the start of the default window.
FRIDAY_9AM_NY = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


async def test_the_summary_names_the_last_7_days_it_counts(rapport: Rapport,
                                                           clock: Clock) -> None:
    alex = console_user(tz=NY)
    clock.set(FRIDAY_9AM_NY - timedelta(days=14))
    await say(rapport, "add Lee Park", alex)
    await say(rapport, "add Kim Wu", alex)
    messenger = Recorder()
    messengers = {"console": messenger}
    # Last Friday: the summary goes out at 09:00, then a call with Lee at 11:00.
    last_friday = FRIDAY_9AM_NY - timedelta(days=7)
    clock.set(last_friday)
    assert (await send_weekly_summaries(rapport.sessions, messengers, last_friday)).sent == 1
    clock.set(last_friday + timedelta(hours=2))
    await say(rapport, "log Lee Park call", alex)
    # Monday: coffee with Kim.
    clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    await say(rapport, "log Kim Wu coffee", alex)
    clock.set(FRIDAY_9AM_NY)
    assert (await send_weekly_summaries(rapport.sessions, messengers, FRIDAY_9AM_NY)).sent == 1
    first, second = messenger.delivered
    assert first.text.startswith("In the last 7 days you did not log a conversation;")
    # Lee's call was last Friday, not this calendar week: counted, and said honestly.
    assert second.text.startswith("In the last 7 days you reconnected with 2 people;"), \
        second.text
    assert "This week" not in second.text and "this week" not in second.text
