"""A change of delivery settings re-plans only what waits for the user's delivery moments.

Found in review: `release_held` made every planned reminder waiting for a later moment due at
once, also those waiting for a reason the settings do not decide: the backoff after a
delivery the platform asked to retry (a rate limit: the next sweep hit it again), and the
three hours between a digest and the reminders it left over (a second message right after
the first). Those keep their wait; what waits for the window, the working days, the cap or a
pause is planned again, at the earliest when the other wait ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import DIGEST_MAX_ITEMS, DIGEST_SPACING, Sweeper
from rapport.scheduler.messenger import DeliveryResult, OutgoingMessage
from rapport.storage import db
from rapport.storage.models import Nudge
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, say

MONDAY_10_UTC = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
# The platform's rate limit: try again in ten minutes.
RETRY_AFTER = timedelta(minutes=10)


class RateLimitedOnce(Inbox):
    """A console messenger whose platform asks, the first time, to retry later."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        if not self.refused:
            self.refused += 1
            return DeliveryResult.retry("rate limited", RETRY_AFTER.total_seconds())
        return await super().deliver(message)


@pytest.fixture
def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """These tests on SQLite and, when configured, on PostgreSQL."""
    return any_engine


def _sweeper(engine: AsyncEngine, clock: Clock, inbox: Inbox) -> Sweeper:
    return Sweeper(sessions=db.session_factory(engine), messengers={"console": inbox},
                   owner="test", clock=clock)


async def _waiting(engine: AsyncEngine) -> list[tuple[str, datetime]]:
    """(status, deliver_after) of every nudge not sent."""
    async with db.session_factory(engine)() as session:
        return [(status, moment) for status, moment in await session.execute(
            select(Nudge.status, Nudge.deliver_after).where(Nudge.status != "sent")
            .order_by(Nudge.id))]


async def test_a_zone_change_leaves_a_reminder_in_retry_backoff_waiting(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    inbox = RateLimitedOnce()
    sweeper = _sweeper(engine, clock, inbox)  # Monday 10:00 UTC, inside the window
    await say(rapport, "add Dana Scully")
    await say(rapport, "note Dana: ask about the trip today")
    assert (await sweeper.sweep()).retried == 1
    backoff_ends = MONDAY_10_UTC + RETRY_AFTER
    assert await _waiting(engine) == [("planned", backoff_ends)]

    clock.advance(minutes=1)
    await say(rapport, "settings tz Europe/Berlin")  # 11:01 there: inside the window too

    assert await _waiting(engine) == [("planned", backoff_ends)]
    assert (await sweeper.sweep()).claimed == 0
    clock.set(backoff_ends)
    assert (await sweeper.sweep()).sent == 1


async def test_a_retry_that_ended_outside_the_window_follows_the_new_zone(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    """Once its backoff is over, a reminder held for the window waits for the user's
    delivery moments only: a zone change plans it again."""
    clock.set(datetime(2026, 11, 23, 16, 55, tzinfo=UTC))
    inbox = RateLimitedOnce()
    sweeper = _sweeper(engine, clock, inbox)
    await say(rapport, "add Dana Scully")
    await say(rapport, "note Dana: ask about the trip today")
    assert (await sweeper.sweep()).retried == 1
    clock.set(datetime(2026, 11, 23, 17, 5, tzinfo=UTC))  # backoff over, window closed
    assert (await sweeper.sweep()).claimed == 0
    tuesday_9_utc = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert await _waiting(engine) == [("planned", tuesday_9_utc)]

    await say(rapport, "settings tz America/New_York")  # 12:05 there

    assert await _waiting(engine) == [("planned", clock.now)]
    clock.advance(minutes=1)
    assert (await sweeper.sweep()).sent == 1


async def _digest_with_one_left_over(rapport: Rapport, sweeper: Sweeper) -> None:
    """Eleven reminders due at once: a digest of ten goes out, the eleventh is left over."""
    for number in range(DIGEST_MAX_ITEMS + 1):
        await say(rapport, f"add Person{number} Example")
        await say(rapport, f"note Person{number}: ask about the launch today")
    report = await sweeper.sweep()
    assert (report.messages, report.sent, report.deferred) == (1, DIGEST_MAX_ITEMS, 1)


async def test_a_zone_change_keeps_the_spacing_after_a_digest(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    inbox = Inbox()
    sweeper = _sweeper(engine, clock, inbox)  # Monday 10:00 UTC
    await _digest_with_one_left_over(rapport, sweeper)
    spacing_ends = MONDAY_10_UTC + DIGEST_SPACING  # 13:00 UTC, inside the window
    assert await _waiting(engine) == [("planned", spacing_ends)]

    clock.advance(minutes=1)
    await say(rapport, "settings tz Europe/Berlin")

    assert await _waiting(engine) == [("planned", spacing_ends)]
    clock.advance(minutes=1)
    assert (await sweeper.sweep()).claimed == 0
    assert len(inbox.delivered) == 1
    clock.set(spacing_ends)
    assert (await sweeper.sweep()).sent == 1


async def test_a_zone_change_brings_a_leftover_held_for_tomorrow_to_the_end_of_its_spacing(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    """A digest at 15:00 UTC: three hours later the window (09:00-17:00 UTC) is closed, so
    the leftover waits for Tuesday. In New York 18:00 UTC is 13:00, inside the window: the
    leftover comes then, not before."""
    digest_at = clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    inbox = Inbox()
    sweeper = _sweeper(engine, clock, inbox)
    await _digest_with_one_left_over(rapport, sweeper)
    assert await _waiting(engine) == [("planned", datetime(2026, 11, 24, 9, 0, tzinfo=UTC))]

    clock.advance(minutes=1)
    await say(rapport, "settings tz America/New_York")

    spacing_ends = digest_at + DIGEST_SPACING
    assert await _waiting(engine) == [("planned", spacing_ends)]
    clock.advance(minutes=1)
    assert (await sweeper.sweep()).claimed == 0
    clock.set(spacing_ends)
    assert (await sweeper.sweep()).sent == 1
    assert len(inbox.delivered) == 2


async def test_undo_of_the_zone_change_puts_the_leftover_back_where_it_was(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    sweeper = _sweeper(engine, clock, Inbox())
    await _digest_with_one_left_over(rapport, sweeper)
    held = await _waiting(engine)
    await say(rapport, "settings tz America/New_York")
    assert await _waiting(engine) != held

    await say(rapport, "undo")

    assert await _waiting(engine) == held
