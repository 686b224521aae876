"""Database faults: dropped PostgreSQL connections mid-sweep, an unreachable database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core import commands as c
from rapport.bot.core.context import TRY_AGAIN
from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.scheduler.messenger import DeliveryResult, OutgoingMessage
from rapport.storage import db
from rapport.storage.models import Nudge
from tests.conftest import PG_SKIP_REASON, PG_URL, Clock, console_user, truncate_all


class ConnectionKillingMessenger:
    """Delivers, and while the first message is in flight kills every app connection."""

    platform = "console"

    def __init__(self, admin: AsyncEngine) -> None:
        self.admin = admin
        self.delivered: list[int] = []
        self.killed = 0
        self.started = False

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        if not self.started:
            self.started = True  # deliveries run concurrently: only the first one kills
            async with self.admin.connect() as connection:
                result = await connection.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'"))
                self.killed = int(result.scalar() or 0)
        self.delivered.extend(item.nudge_id for item in message.items)
        return DeliveryResult.sent("ok")


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)
async def test_connections_killed_mid_sweep_lose_and_double_nothing(
        postgres_ready: str, clock: Clock) -> None:
    any_engine = db.create_engine(postgres_ready, pool_size=5)
    await truncate_all(any_engine)
    assert PG_URL is not None
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    for index in range(40):
        user = console_user(f"user{index}")
        await rapport.handle_text(user, f"add Person{index}")
        await rapport.handle_text(user, f"note Person{index}: the launch on today")
    admin = db.create_engine(PG_URL, pool_size=1)
    messenger = ConnectionKillingMessenger(admin)
    sweeper = Sweeper(sessions=db.session_factory(any_engine),
                      messengers={"console": messenger}, clock=clock, batch_size=10)
    try:
        first = await sweeper.sweep()
        second = await sweeper.sweep()
    finally:
        await admin.dispose()
    assert messenger.killed >= 1
    assert len(messenger.delivered) == len(set(messenger.delivered)) == 40
    assert first.sent + second.sent == 40
    async with db.session_factory(any_engine)() as session:
        statuses = (await session.execute(select(Nudge.status, func.count())
                                          .group_by(Nudge.status))).all()
    assert statuses == [("sent", 40)]
    await any_engine.dispose()


async def test_commands_say_try_again_when_the_database_is_down(clock: Clock) -> None:
    engine = db.create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere", pool_size=1)
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
    try:
        reply = await rapport.handle_text(console_user(), "due")
        assert not reply.ok and reply.text == TRY_AGAIN
        action = await rapport.execute(console_user(), c.nudge_button("done", 1))
        assert not action.ok and action.text == TRY_AGAIN
    finally:
        await engine.dispose()
