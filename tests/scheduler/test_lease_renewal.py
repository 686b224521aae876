"""Lease renewal between delivery waves: only when the batch is slow, and always in time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import RECORD_EVERY, Sweeper
from rapport.scheduler.messenger import DeliveryResult, OutgoingMessage
from rapport.storage import db
from rapport.storage.models import Nudge
from tests.conftest import Clock, console_user

USERS = 2 * RECORD_EVERY + 8  # three waves


class SlowMessenger:
    """Each delivery takes `step` seconds of the injected clock; a hook runs mid-batch."""

    platform = "console"

    def __init__(self, clock: Clock, step: float,
                 hook: Callable[[], Awaitable[None]] | None = None) -> None:
        self.clock = clock
        self.step = step
        self.hook = hook
        self.delivered: list[int] = []

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        self.clock.advance(seconds=self.step)
        self.delivered += [item.nudge_id for item in message.items]
        if len(self.delivered) == 2 * RECORD_EVERY + 1 and self.hook is not None:
            await self.hook()  # the first message of the third wave
        return DeliveryResult.sent(ref=f"ref-{len(self.delivered)}")


async def _due_nudges(engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
    for index in range(USERS):
        await rapport.handle_text(console_user(f"user{index}"), f"add Person{index} every 1 week")
    clock.advance(days=8)
    clock.set(clock.now.replace(hour=10))
    while clock.now.weekday() >= 5:
        clock.advance(days=1)


async def _lease_ends(engine: AsyncEngine) -> set[object]:
    async with db.session_factory(engine)() as session:
        return set((await session.scalars(
            select(Nudge.deliver_after).where(Nudge.status == "claimed"))).all())


async def test_a_slow_batch_renews_its_lease_so_no_replica_takes_it_over(
        engine: AsyncEngine, clock: Clock) -> None:
    await _due_nudges(engine, clock)
    taken_over: list[int] = []
    other = SlowMessenger(clock, 0)

    async def replica_b_sweeps() -> None:
        # 10 s per message: 320 s have passed, beyond the original 300 s lease.
        rival = Sweeper(sessions=db.session_factory(engine), messengers={"console": other},
                        owner="b", clock=clock)
        taken_over.append((await rival.deliver_batch(clock.now)).claimed)

    messenger = SlowMessenger(clock, 10, replica_b_sweeps)
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": messenger},
                      owner="a", clock=clock, lease_seconds=300)
    report = await sweeper.sweep()
    assert taken_over == [0]
    assert report.sent == USERS and sorted(messenger.delivered) == sorted(set(messenger.delivered))
    assert other.delivered == []


async def test_a_fast_batch_keeps_its_first_lease(engine: AsyncEngine, clock: Clock) -> None:
    await _due_nudges(engine, clock)
    seen: list[set[object]] = []

    async def look() -> None:
        seen.append(await _lease_ends(engine))

    start = clock.now
    messenger = SlowMessenger(clock, 0.01, look)
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": messenger},
                      owner="a", clock=clock, lease_seconds=300)
    assert (await sweeper.sweep(start)).sent == USERS
    # Still the claim's own expiry: no renewal transaction was spent on a fast batch.
    [ends] = seen
    assert {end.replace(tzinfo=None) for end in ends} == {  # type: ignore[attr-defined]
        (start.replace(tzinfo=None) + sweeper.lease)}
