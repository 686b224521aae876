"""SIGTERM while PostgreSQL is down: exit 0, no ERROR, no traceback.

Found by an operator test: with the database refusing connections, `rapport serve` exited 1
about 2 s after SIGTERM with a 500-line traceback; with a database that accepted connections
and never answered, it exited 1 after 82 s, past compose's 30 s stop_grace_period. Shutdown
always asked the database to release claims, even holding none. Now it asks only for claims
it holds, within the shutdown budget, and a release that fails is a warning (the leases
expire as a crashed replica's do).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Literal

import pytest
from sqlalchemy import select

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.scheduler.messenger import DeliveryResult, OutgoingMessage
from rapport.storage import db
from rapport.storage.models import Nudge
from tests.bot.processes import (
    clean_env,
    free_port,
)
from tests.conftest import PG_SKIP_REASON, PG_URL, Clock, console_user, truncate_all
from tests.fakes.database_faults import (
    DatabaseProxy,
    SilentServer,
    assert_worker_stops_cleanly_as_the_database_fails,
)

# Hang guards only (the old code needed 60 s and more against a silent database).
HANG_GUARD_SECONDS = 45
on_postgres = pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)
for_each_fault = pytest.mark.parametrize("fault", ["refuse", "silent"])


class HeldMessenger:
    """Takes a message and never finishes sending it: its nudge stays claimed."""

    platform = "console"

    def __init__(self) -> None:
        self.sending = asyncio.Event()

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        self.sending.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_an_idle_sweeper_asks_nothing_of_the_database_at_shutdown() -> None:
    async with SilentServer() as silent:
        engine = db.create_engine(silent.url(), pool_size=1)
        sweeper = Sweeper(sessions=db.session_factory(engine), messengers={})
        try:
            async with asyncio.timeout(HANG_GUARD_SECONDS):
                released = await sweeper.shutdown(5)
        finally:
            await engine.dispose()
    assert released == 0
    assert silent.accepted == 0


@pytest.mark.postgres
@on_postgres
@for_each_fault
async def test_claims_the_database_cannot_take_back_are_a_warning(
        proxy: DatabaseProxy, clock: Clock, caplog: pytest.LogCaptureFixture,
        fault: Literal["refuse", "silent"]) -> None:
    engine = db.create_engine(proxy.url(), pool_size=2, connect_timeout=0.5)
    await truncate_all(engine)
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
    await rapport.handle_text(console_user(), "add Dana")
    await rapport.handle_text(console_user(), "note Dana: the launch on today")
    messenger = HeldMessenger()
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": messenger},
                      clock=clock)
    sweep = asyncio.create_task(sweeper.sweep())
    try:
        async with asyncio.timeout(HANG_GUARD_SECONDS):
            await messenger.sending.wait()
            await proxy.fail(fault)
            with caplog.at_level(logging.WARNING):
                released = await sweeper.shutdown(0.1)
    finally:
        sweep.cancel()
        await asyncio.gather(sweep, return_exceptions=True)
        await engine.dispose()
    assert released == 0
    warnings = [record for record in caplog.records
                if record.getMessage() == "claims not released at shutdown; their leases expire"]
    assert [record.levelno for record in warnings] == [logging.WARNING]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    # Back up: the nudge is still claimed, as a crashed replica's would be, until its lease ends.
    assert PG_URL is not None
    check = db.create_engine(PG_URL, pool_size=1)
    try:
        async with check.connect() as connection:
            statuses = (await connection.execute(select(Nudge.status))).scalars().all()
    finally:
        await check.dispose()
    assert statuses == ["claimed"]


@pytest.mark.postgres
@on_postgres
@for_each_fault
async def test_sigterm_while_the_database_is_down_exits_0_without_an_error(
        proxy: DatabaseProxy, tmp_path: Path, fault: Literal["refuse", "silent"]) -> None:
    metrics_port = str(free_port())
    env = clean_env(tmp_path, RAPPORT_DATABASE_URL=proxy.url(), RAPPORT_METRICS_PORT=metrics_port,
                    RAPPORT_SWEEP_SECONDS="60", RAPPORT_LOG_FORMAT="json")
    await assert_worker_stops_cleanly_as_the_database_fails(
        proxy, fault, env, tmp_path, metrics_port, HANG_GUARD_SECONDS)

