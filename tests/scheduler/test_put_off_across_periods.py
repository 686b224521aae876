"""Rule 4 ("You've put off Lee three times") counts snoozes across rhythm periods: a
snoozed reminder that came back, was left, and was replaced by the next period's ask
(expired) still counts as put off; only a conversation or a nudge done ends the run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rapport.bot.core.rapport import Rapport
from rapport.scheduler import suggestions as rules
from rapport.scheduler.delivery import Sweeper
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say


async def test_snoozes_in_three_periods_are_three_put_offs(rapport: Rapport, clock: Clock
                                                           ) -> None:
    alex = console_user()
    clock.set(datetime(2027, 1, 4, 10, 0, tzinfo=UTC))  # a Monday
    await say(rapport, "add Lee Park every 2 weeks", alex)
    sweeper = Sweeper(sessions=rapport.sessions, messengers={"console": Inbox()}, owner="t",
                      clock=clock)
    for period in range(3):  # each period's reminder snoozed a day, then left
        clock.set(datetime(2027, 1, 18, 10, 1, tzinfo=UTC) + timedelta(weeks=2 * period))
        assert (await sweeper.sweep()).sent == 1
        await say(rapport, "snooze Lee 1 day", alex)
        clock.advance(days=1)
        assert (await sweeper.sweep()).sent == 1
    assert await rules.make_suggestions(rapport.db, clock.now) == 1
    listed = await say(rapport, "suggestions", alex)
    assert "You've put off Lee three times. Every 4 weeks instead?" in listed
