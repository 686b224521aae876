"""SIGTERM while PostgreSQL is down, with calendars configured: exit 0, no ERROR, no traceback.

Found by an operator test after the nudge sweep's shutdown was fixed (tests/scheduler/
test_shutdown_database_down.py): with a calendar provider configured, `rapport worker` still
exited 1 with a traceback, because the calendar sync's shutdown always asked the database to
hand back claims, even holding none. Now it asks only for the connections it holds, within the
shutdown budget, and a release that fails is one warning (the leases expire, as a crashed
replica's do).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import pytest
from aiohttp import web
from cryptography.fernet import Fernet
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.connectors.calendars.oauth import CalendarHttp
from rapport.bot.connectors.calendars.sync import CalendarSync
from rapport.bot.core.rapport import Rapport
from rapport.bot.service.config import Settings
from rapport.storage import db
from rapport.storage.models import CalendarConnection, User
from tests.bot.processes import (
    clean_env,
    free_port,
)
from tests.conftest import PG_SKIP_REASON, PG_URL, Clock, console_user, truncate_all
from tests.fakes.calendar_fixtures import FernetCipher, calendar_sync
from tests.fakes.database_faults import (
    DatabaseProxy,
    SilentServer,
    assert_worker_stops_cleanly_as_the_database_fails,
)
from tests.fakes.local_server import LocalServer

# Hang guards only (a release against a silent database waited for asyncpg's own timeouts).
HANG_GUARD_SECONDS = 45
on_postgres = pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)
for_each_fault = pytest.mark.parametrize("fault", ["refuse", "silent"])
NOT_RELEASED = "calendar claims not released at shutdown; their leases expire"


class HeldProvider(LocalServer):
    """A provider whose token endpoint takes the request and answers only when stopped: a
    sync that claimed a connection stays in flight, holding it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = asyncio.Event()

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/token", self._token)
        return app

    async def _token(self, request: web.Request) -> web.Response:
        self.asked.set()
        await self._stopping.wait()
        return web.json_response({"error": "temporarily_unavailable"}, status=503)


def _settings_with_google_at(provider: HeldProvider) -> Settings:
    """Google configured, its endpoints `provider`."""
    base = f"http://127.0.0.1:{provider.port}"
    return Settings(RAPPORT_PUBLIC_URL="https://rapport.example.com",
                    GOOGLE_CLIENT_ID="google-id", GOOGLE_CLIENT_SECRET="google-secret",
                    GOOGLE_OAUTH_URL=base, GOOGLE_API_URL=base)


async def _connect(engine: AsyncEngine, cipher: FernetCipher, clock: Clock, *,
                   user: str = "alex", lease_owner: str | None = None) -> int:
    """A user's Google calendar, due to sync now (or claimed by `lease_owner`); its id."""
    await Rapport(sessions=db.session_factory(engine), clock=clock).handle_text(
        console_user(user), "help")
    now = clock()
    async with engine.begin() as connection:
        user_id, workspace_id = (await connection.execute(
            select(User.id, User.workspace_id).where(User.external_id == user))).one()
        return int((await connection.execute(insert(CalendarConnection).values(
            workspace_id=workspace_id, user_id=user_id, provider="google", status="active",
            refresh_token_encrypted=cipher.encrypt("1//refresh"), failures=0,
            next_sync_at=now + timedelta(minutes=5) if lease_owner else now,
            lease_owner=lease_owner, connected_at=now, updated_at=now)
            .returning(CalendarConnection.id))).scalar_one())


async def _claims(engine: AsyncEngine) -> dict[int, tuple[str | None, datetime | None]]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(CalendarConnection.id,
                                               CalendarConnection.lease_owner,
                                               CalendarConnection.next_sync_at))
        return {row.id: (row.lease_owner, row.next_sync_at) for row in rows}


async def test_an_idle_calendar_sync_asks_nothing_of_the_database_at_shutdown(
        clock: Clock) -> None:
    async with SilentServer() as silent:
        engine = db.create_engine(silent.url(), pool_size=1)
        sync = CalendarSync(sessions=db.session_factory(engine), providers={},
                            cipher=FernetCipher(), http=CalendarHttp(), clock=clock)
        try:
            async with asyncio.timeout(HANG_GUARD_SECONDS):
                released = await sync.shutdown(5)
        finally:
            await engine.dispose()
    assert released == 0
    assert silent.accepted == 0


async def test_shutdown_hands_back_only_the_connections_this_sync_holds(
        engine: AsyncEngine, clock: Clock, fernet: FernetCipher) -> None:
    others = await _connect(engine, fernet, clock, user="sam", lease_owner="another-replica")
    async with HeldProvider() as provider:
        mine = await _connect(engine, fernet, clock)
        sync = calendar_sync(engine, _settings_with_google_at(provider), fernet, clock,
                             owner="this-replica")
        run = asyncio.create_task(sync.run_once())
        try:
            async with asyncio.timeout(HANG_GUARD_SECONDS):
                await provider.asked.wait()  # the claim is held
                assert (await _claims(engine))[mine][0] == "this-replica"
                released = await sync.shutdown(5)
        finally:
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)
            await sync.http.aclose()
    assert released == 1
    claims = await _claims(engine)
    assert claims[mine] == (None, clock())  # due again at once, for any replica
    assert claims[others][0] == "another-replica"


@pytest.mark.postgres
@on_postgres
@for_each_fault
async def test_calendar_claims_the_database_cannot_take_back_are_one_warning(
        proxy: DatabaseProxy, clock: Clock, fernet: FernetCipher,
        caplog: pytest.LogCaptureFixture, fault: Literal["refuse", "silent"]) -> None:
    engine = db.create_engine(proxy.url(), pool_size=2, connect_timeout=0.5)
    await truncate_all(engine)
    await _connect(engine, fernet, clock)
    async with HeldProvider() as provider:
        sync = calendar_sync(engine, _settings_with_google_at(provider), fernet, clock)
        run = asyncio.create_task(sync.run_once())
        try:
            async with asyncio.timeout(HANG_GUARD_SECONDS):
                await provider.asked.wait()  # the claim is held
                await proxy.fail(fault)
                with caplog.at_level(logging.WARNING):
                    released = await sync.shutdown(0.1)
        finally:
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)
            await sync.http.aclose()
            await engine.dispose()
    assert released == 0
    warnings = [record for record in caplog.records if record.getMessage() == NOT_RELEASED]
    assert [record.levelno for record in warnings] == [logging.WARNING]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    # Back up: the connection is still claimed, as a crashed replica's would be, until its
    # lease ends.
    assert PG_URL is not None
    check = db.create_engine(PG_URL, pool_size=1)
    try:
        [(owner, _)] = (await _claims(check)).values()
    finally:
        await check.dispose()
    assert owner == sync.owner


@pytest.mark.postgres
@on_postgres
@for_each_fault
async def test_sigterm_with_calendars_while_the_database_is_down_exits_0_without_an_error(
        proxy: DatabaseProxy, tmp_path: Path, fault: Literal["refuse", "silent"]) -> None:
    engine = db.create_engine(proxy.url(), pool_size=1)
    await truncate_all(engine)
    await engine.dispose()
    metrics_port = str(free_port())
    env = clean_env(tmp_path, RAPPORT_DATABASE_URL=proxy.url(), RAPPORT_METRICS_PORT=metrics_port,
                    RAPPORT_SWEEP_SECONDS="60", RAPPORT_LOG_FORMAT="json",
                    RAPPORT_PUBLIC_URL="https://rapport.example.com",
                    GOOGLE_CLIENT_ID="google-id", GOOGLE_CLIENT_SECRET="google-secret",
                    RAPPORT_ENCRYPTION_KEY=Fernet.generate_key().decode())
    await assert_worker_stops_cleanly_as_the_database_fails(
        proxy, fault, env, tmp_path, metrics_port, HANG_GUARD_SECONDS)
