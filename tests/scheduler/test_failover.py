"""PostgreSQL drops every connection (a failover, a restart): a running `rapport worker` keeps
answering /readyz 200 and its sweeps carry on, each recovering on its first retry.

Found by a tester: after PostgreSQL terminated its connections the next /readyz answered 503
(InterfaceError) for a database that was up: it asked once, on a dead pooled connection.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text

from rapport.storage import db
from rapport.storage.uow import Database
from tests.bot.processes import (
    clean_env,
    free_port,
    metric,
    running_cli,
    stop_cleanly,
    wait_for_metric,
    wait_until_answering,
)
from tests.conftest import PG_SKIP_REASON, PG_URL, truncate_all

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)]

_TERMINATE_OTHERS = text(
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND backend_type = 'client backend'")


async def _terminate_every_other_connection() -> int:
    assert PG_URL is not None
    admin = db.create_engine(PG_URL, pool_size=1)
    try:
        async with admin.connect() as connection:
            return int((await connection.execute(_TERMINATE_OTHERS)).scalar() or 0)
    finally:
        await admin.dispose()


SWEEPS = "rapport_sweep_duration_seconds_count"


async def test_a_worker_stays_ready_and_keeps_sweeping_when_postgresql_drops_its_connections(
        postgres_ready: str, tmp_path: Path) -> None:
    engine = db.create_engine(postgres_ready, pool_size=1)
    await truncate_all(engine)
    await engine.dispose()
    operator = free_port()
    env = clean_env(tmp_path, RAPPORT_DATABASE_URL=postgres_ready,
                    RAPPORT_METRICS_PORT=str(operator), RAPPORT_SWEEP_SECONDS="1",
                    RAPPORT_LOG_FORMAT="text")
    base = f"http://127.0.0.1:{operator}"
    async with running_cli("worker", env=env, cwd=tmp_path) as process:
        await wait_until_answering(process, f"{base}/healthz")
        async with aiohttp.ClientSession() as http:
            # Several readiness checks at once: the pool keeps several connections open.
            async def ready() -> int:
                async with http.get(f"{base}/readyz") as response:
                    return response.status

            assert set(await asyncio.gather(*(ready() for _ in range(6)))) == {200}
            assert await _terminate_every_other_connection() >= 2

            assert await ready() == 200
            swept = await metric(http, base, SWEEPS)
        # The sweep runs every second.
        await wait_for_metric(base, SWEEPS, swept + 2, failure="the worker stopped sweeping")
        log = await stop_cleanly(process)
    assert "sweep failed" not in log and " ERROR " not in log, log[-2000:]


async def test_units_of_work_recover_on_their_first_retry_when_the_whole_pool_died(
        postgres_ready: str, caplog: pytest.LogCaptureFixture) -> None:
    engine = db.create_engine(postgres_ready, pool_size=4)
    database = Database(db.session_factory(engine))

    async def unit(write: bool) -> int:
        return int(await database.run(lambda session: session.execute(
            text("SELECT 1 FROM pg_sleep(0.05)")).scalar_one(), write=write))

    try:
        assert await asyncio.gather(*(unit(False) for _ in range(8))) == [1] * 8
        assert await _terminate_every_other_connection() == 4
        caplog.clear()
        # Units at once, reads and writes: none fails, and the pool is replaced as soon as
        # the first dead connection is found, so the dead ones cost a retry each at most.
        assert await asyncio.gather(*(unit(index % 2 == 0) for index in range(8))) == [1] * 8
        retries = [r for r in caplog.records if r.getMessage().startswith("database connection")]
        assert len(retries) <= 4
        caplog.clear()
        assert await asyncio.gather(*(unit(index % 2 == 0) for index in range(8))) == [1] * 8
        assert not [r for r in caplog.records if r.getMessage().startswith("database conn")]
    finally:
        await engine.dispose()
