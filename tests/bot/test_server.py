"""The web server's own routes: health, readiness, metrics, body limits, request ids; the
operator port; connections that never send their headers."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.platforms.console.chat import ConsoleMessenger
from rapport.bot.service.config import Settings
from rapport.bot.service.logs import JsonFormatter
from rapport.bot.service.runtime import Runtime, build_runtime
from rapport.bot.service.server import build_operator_app, build_web_app
from rapport.scheduler.jobs import run_sweep
from tests.conftest import Clock, console_user


@pytest.fixture
async def runtime(tmp_path: Path, clock: Clock) -> AsyncIterator[Runtime]:
    settings = Settings(RAPPORT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'web.db'}",
                        RAPPORT_MAX_BODY_BYTES=2048)
    runtime = await build_runtime(settings, clock=clock)
    yield runtime
    await runtime.close()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = await build_web_app(runtime)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


@pytest.fixture
async def operator(runtime: Runtime) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(build_operator_app(runtime))) as test_client:
        yield test_client


async def test_health_and_readiness(client: TestClient[web.Request, web.Application],
                                    operator: TestClient[web.Request, web.Application]) -> None:
    assert (await client.get("/healthz")).status == 200
    assert (await operator.get("/healthz")).status == 200
    ready = await operator.get("/readyz")
    assert ready.status == 200 and (await ready.json())["status"] == "ready"


async def test_readiness_fails_while_the_schema_is_behind(tmp_path: Path) -> None:
    settings = Settings(RAPPORT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    runtime = await build_runtime(settings, upgrade=False)
    try:
        async with TestClient(TestServer(build_operator_app(runtime))) as client:
            response = await client.get("/readyz")
            assert response.status == 503
            assert (await response.json())["status"] == "migrating"
    finally:
        await runtime.close()


async def test_metrics_move_after_a_sweep(runtime: Runtime, clock: Clock,
                                          operator: TestClient[web.Request, web.Application]
                                          ) -> None:
    runtime.add_messenger(ConsoleMessenger(lambda _text: None))
    user = console_user()
    await runtime.rapport.handle_text(user, "add Dana")
    await runtime.rapport.handle_text(user, "note Dana: the launch on today")
    await run_sweep(runtime.sweeper, runtime.metrics.record_sweep)
    body = await (await operator.get("/metrics")).text()
    assert 'rapport_nudges_sent_total{platform="console"} 1.0' in body
    assert "rapport_nudges_planned_total 1.0" in body
    assert "rapport_sweep_duration_seconds_count 1.0" in body


async def test_oversized_bodies_are_refused_before_parsing(
        client: TestClient[web.Request, web.Application]) -> None:
    response = await client.post("/healthz", data=b"x" * 10_000)
    assert response.status == 413


async def test_json_logs_carry_no_text_or_tokens(caplog: pytest.LogCaptureFixture) -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "delivered", None, None)
    record.__dict__.update({"text": "secret note", "token": "xoxb-1", "count": 3})
    line = json.loads(JsonFormatter().format(record))
    assert line["count"] == 3 and "text" not in line and "token" not in line


async def test_sweep_job_survives_a_database_error(tmp_path: Path, engine: AsyncEngine) -> None:
    class Broken:
        async def sweep(self) -> None:
            raise OSError("connection reset")

    await run_sweep(Broken())  # type: ignore[arg-type]
