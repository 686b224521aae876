"""A user Rapport could not reach talks again: what waited because they could not be reached
is due at once (Ben below, held for the recheck), and only that.

Found in review: `reactivate_user` made every planned reminder due at once, also those
waiting for a reason the user's reachability does not decide: the backoff after a delivery
the platform asked to retry (a rate limit: the next sweep hit it again) and the three hours
between a digest and the reminders it left over (a second message right after the first)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import DIGEST_SPACING, Sweeper
from rapport.scheduler.messenger import DeliveryResult, OutgoingMessage
from rapport.storage import db
from rapport.storage.models import User
from tests.bot.test_actions import Inbox
from tests.bot.test_settings_keep_other_waits import RETRY_AFTER, _digest_with_one_left_over
from tests.conftest import Clock, say

MONDAY_10_UTC = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class Scripted(Inbox):
    """A console messenger answering with `script` first, then delivering."""

    def __init__(self) -> None:
        super().__init__()
        self.script: list[DeliveryResult] = []

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        if self.script:
            return self.script.pop(0)
        return await super().deliver(message)


@pytest.fixture
def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """These tests on SQLite and, when configured, on PostgreSQL."""
    return any_engine


def _sweeper(engine: AsyncEngine, clock: Clock, inbox: Inbox) -> Sweeper:
    return Sweeper(sessions=db.session_factory(engine), messengers={"console": inbox},
                   owner="test", clock=clock)


def _headlines(inbox: Inbox) -> list[str]:
    return [item.headline for message in inbox.delivered for item in message.items]


async def _unreachable_over_ben(rapport: Rapport, sweeper: Sweeper, inbox: Scripted,
                                clock: Clock, engine: AsyncEngine) -> None:
    """A reminder about Ben meets "user not found": the user is unreachable; a later sweep
    holds it for the recheck."""
    await say(rapport, "add Ben Okafor")
    await say(rapport, "note Ben: ask about the demo today")
    inbox.script = [DeliveryResult.gone("user_not_found")]
    assert (await sweeper.sweep()).gone_users == 1
    clock.advance(minutes=5)  # past the retry's backoff: held for the recheck now
    assert (await sweeper.sweep()).deferred == 1
    async with db.session_factory(engine)() as session:
        assert await session.scalar(select(User.active)) is False


async def test_talking_again_keeps_a_rate_limits_backoff(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    inbox = Scripted()
    sweeper = _sweeper(engine, clock, inbox)  # Monday 10:00 UTC, inside the window
    await say(rapport, "add Dana Scully")
    await say(rapport, "note Dana: ask about the trip today")
    inbox.script = [DeliveryResult.retry("rate limited", RETRY_AFTER.total_seconds())]
    assert (await sweeper.sweep()).retried == 1
    clock.advance(minutes=1)
    await _unreachable_over_ben(rapport, sweeper, inbox, clock, engine)

    await say(rapport, "due")  # 10:06: reachable again

    assert (await sweeper.sweep()).sent == 1
    assert len(_headlines(inbox)) == 1 and "Ben" in _headlines(inbox)[0]
    clock.set(MONDAY_10_UTC + RETRY_AFTER)
    assert (await sweeper.sweep()).sent == 1
    assert "Dana" in _headlines(inbox)[1]


async def test_talking_again_keeps_the_spacing_after_a_digest(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    inbox = Scripted()
    sweeper = _sweeper(engine, clock, inbox)
    await _digest_with_one_left_over(rapport, sweeper)  # Monday 10:00: 10 sent, 1 left over
    clock.advance(minutes=30)
    await _unreachable_over_ben(rapport, sweeper, inbox, clock, engine)

    await say(rapport, "due")  # 10:35: reachable again

    assert (await sweeper.sweep()).sent == 1  # Ben, not the leftover
    assert "Ben" in _headlines(inbox)[-1]
    clock.set(MONDAY_10_UTC + DIGEST_SPACING - timedelta(minutes=1))
    assert (await sweeper.sweep()).claimed == 0
    clock.set(MONDAY_10_UTC + DIGEST_SPACING)
    assert (await sweeper.sweep()).sent == 1

