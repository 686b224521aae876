"""A PostgreSQL that accepts connections and never answers, while Rapport runs.

Found by an operator test: with a proxy whose backend had hung, /readyz answered after 60 s
(asyncpg's default connect timeout) and a Slack command waited as long, then failed. Connects
are bounded now, a unit someone waits on gives up at its deadline (Busy: it never started),
and the other units answer the database-trouble message once the connect gives up.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from rapport.bot.core.context import TRY_AGAIN
from rapport.bot.core.rapport import Rapport
from rapport.bot.service.config import Settings
from rapport.bot.service.runtime import Runtime
from rapport.bot.service.server import build_operator_app
from rapport.storage import db
from rapport.storage.uow import Busy, Database
from tests.bot.processes import refusing_port
from tests.conftest import Clock, console_user
from tests.fakes.database_faults import SilentServer

# Hang guard only: without bounded connects asyncpg waits 60 s.
HANG_GUARD_SECONDS = 30


def _record_connect_timeouts(engine: AsyncEngine) -> list[Any]:
    """The `timeout` each connect of `engine` hands asyncpg, as the driver receives it."""
    seen: list[Any] = []

    @event.listens_for(engine.sync_engine, "do_connect")
    def record(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        seen.append(cparams.get("timeout"))

    return seen


async def test_postgresql_engines_bound_the_connect_and_the_wait_for_a_pooled_connection(
        ) -> None:
    with refusing_port() as port:
        engine = db.create_engine(f"postgresql+asyncpg://rapport@127.0.0.1:{port}/rapport",
                                  pool_size=2)
        timeouts = _record_connect_timeouts(engine)
        try:
            with pytest.raises(ConnectionRefusedError):
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
            assert engine.pool.timeout() == db.POOL_TIMEOUT_SECONDS  # type: ignore[attr-defined]
        finally:
            await engine.dispose()
    assert timeouts == [db.CONNECT_TIMEOUT_SECONDS]


async def test_a_unit_with_a_deadline_gives_up_connecting_at_its_deadline() -> None:
    async with SilentServer() as silent:
        # The engine's own connect timeout (5 s) is later than the deadline.
        engine = db.create_engine(silent.url(), pool_size=2)
        timeouts = _record_connect_timeouts(engine)
        ran: list[bool] = []

        def work(session: Session) -> None:
            ran.append(True)

        try:
            async with asyncio.timeout(HANG_GUARD_SECONDS):
                with pytest.raises(Busy):
                    await Database(db.session_factory(engine)).run(
                        work, deadline=time.monotonic() + 0.3)
                await silent.until_abandoned(1)
        finally:
            await engine.dispose()
    assert silent.accepted == 1 and silent.abandoned == 1
    assert ran == []
    [timeout] = timeouts
    assert 0 <= timeout < db.CONNECT_TIMEOUT_SECONDS


async def test_a_command_says_try_again_once_the_connect_gives_up(clock: Clock) -> None:
    async with SilentServer() as silent:
        engine = db.create_engine(silent.url(), pool_size=2, connect_timeout=0.3)
        rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
        try:
            async with asyncio.timeout(HANG_GUARD_SECONDS):
                # The console's command (no deadline): the connect gives up after the
                # engine's timeout and the answer is the database-trouble one. (A Slack
                # command's deadline: tests/slack/test_silent_database.py.)
                reply = await rapport.handle_text(console_user(), "due")
                assert not reply.ok and reply.text == TRY_AGAIN
                await silent.until_abandoned(1)
        finally:
            await engine.dispose()
    assert silent.accepted == 1


async def test_readyz_answers_unavailable_when_the_database_never_answers(
        clock: Clock) -> None:
    async with SilentServer() as silent:
        engine = db.create_engine(silent.url(), pool_size=2, connect_timeout=0.3)
        sessions = db.session_factory(engine)
        runtime = Runtime(settings=Settings(), engine=engine, sessions=sessions,
                          rapport=Rapport(sessions=sessions, clock=clock), clock=clock)
        app: web.Application = build_operator_app(runtime)
        try:
            async with asyncio.timeout(HANG_GUARD_SECONDS), \
                    TestClient(TestServer(app)) as client:
                response = await client.get("/readyz")
                body = await response.json()
                await silent.until_abandoned(1)
        finally:
            await engine.dispose()
    assert response.status == 503
    assert body == {"status": "unavailable", "database": "TimeoutError"}
    assert silent.accepted == 1


async def test_the_start_check_gives_the_connect_its_own_longer_budget() -> None:
    from rapport.bot.service.startup import StartupError, check_database

    async with SilentServer() as silent:
        engine = db.create_engine(silent.url(), pool_size=2, connect_timeout=0.1)
        timeouts = _record_connect_timeouts(engine)
        try:
            async with asyncio.timeout(HANG_GUARD_SECONDS):
                with pytest.raises(StartupError, match="did not answer within 1 s"):
                    await check_database(engine, seconds=1.0)
        finally:
            await engine.dispose()
    [timeout] = timeouts
    assert 0.5 < timeout <= 1.0

