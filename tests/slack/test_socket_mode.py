"""Socket Mode never blocks start-up: the real server against a fake Slack that refuses
connections, answers invalid_auth, or fails once and then lets the WebSocket in."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from rapport.bot.platforms.slack import CONNECTION_KEY, slack_installer
from rapport.bot.platforms.slack.socket_mode import (
    MAX_DELAY_SECONDS,
    SocketModeConnection,
    exponential_backoff,
)
from rapport.bot.service.config import Settings
from rapport.bot.service.listen import WebServers, start_web
from rapport.bot.service.runtime import Runtime, build_runtime
from tests.bot.processes import (
    clean_env,
    free_port,
    refusing_port,
    start_cli,
    wait_until_answering,
)
from tests.fakes.slack_api import DEFAULT_BOT_TOKEN, FakeSlack

APP_TOKEN = "xapp-1-A0FAKEAPP01-1-0123456789abcdef"
# An hour: long enough that a test sees the connection waiting, never slept through.
PARKED = 3600.0


class RecordingBackoff:
    """Injected delays: no wait for the first `attempts_before_parking` failures, then parked."""

    def __init__(self, attempts_before_parking: int = 1_000_000) -> None:
        self.asked: list[int] = []
        self.parking = attempts_before_parking

    def __call__(self, attempt: int) -> float:
        self.asked.append(attempt)
        return 0.0 if attempt < self.parking else PARKED


Serve = Callable[..., Awaitable[tuple[str, web.Application]]]


@pytest.fixture
async def serve_socket_mode(tmp_path: Path) -> AsyncIterator[Serve]:
    """Serve the real web app with the Slack installer in Socket Mode against `api_url`."""
    started: list[tuple[WebServers, Runtime]] = []

    async def serve(api_url: str, backoff: RecordingBackoff) -> tuple[str, web.Application]:
        settings = Settings(slack_bot_token=DEFAULT_BOT_TOKEN, slack_app_token=APP_TOKEN,
                            slack_signing_secret=None, slack_api_url=api_url,
                            database_url=f"sqlite+aiosqlite:///{tmp_path / 'socket.db'}",
                            port=0, metrics_port=0)
        runtime = await build_runtime(settings)
        # Both listeners, as `rapport serve` has them; setup runs on_startup, so the
        # connection starts in the background.
        servers = await start_web(runtime, installers=[slack_installer(backoff=backoff)])
        started.append((servers, runtime))
        # The operator port answers /healthz and /readyz; the installer ran on the public app.
        return f"http://127.0.0.1:{servers.operator_port}", servers.public.app

    yield serve
    for servers, runtime in started:
        await servers.cleanup()
        await runtime.close()


async def _get(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


async def _until(condition: Callable[[], bool], guard_seconds: float = 30) -> None:
    """Poll the background task's state; the guard only turns a hang into a failure."""
    deadline = time.monotonic() + guard_seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never became true"
        await asyncio.sleep(0.01)


def _socket_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "Socket Mode" in r.getMessage()]


async def test_unreachable_slack_never_blocks_health_and_readiness_says_why(
        serve_socket_mode: Serve,
        caplog: pytest.LogCaptureFixture) -> None:
    backoff = RecordingBackoff(attempts_before_parking=3)
    with caplog.at_level(logging.INFO), refusing_port() as port:
        # Slack's address refuses every connection.
        base, app = await serve_socket_mode(f"http://127.0.0.1:{port}/api/", backoff)
        connection = app[CONNECTION_KEY]
        await _until(lambda: backoff.asked == [1, 2, 3])

        health, _ = await _get(f"{base}/healthz")
        status, ready = await _get(f"{base}/readyz")

    assert health == 200
    assert status == 503 and ready["status"] == "not ready"
    assert ready["checks"]["slack"] == {"ready": False, "socket_mode": "connecting",
                                        "attempts": 3, "error": "ClientConnectorError"}
    assert connection.state == "connecting" and connection.attempts == 3
    retries = [r.getMessage() for r in _socket_lines(caplog)]
    assert len(retries) == 3 and all("not connected" in line for line in retries)
    assert not any(APP_TOKEN in r.getMessage() or APP_TOKEN in json.dumps(r.__dict__,
                                                                          default=str)
                   for r in caplog.records)


async def test_a_refused_app_token_is_reported_once_and_never_retried(
        fake_slack: FakeSlack,
        serve_socket_mode: Serve,
        caplog: pytest.LogCaptureFixture) -> None:
    # The fake knows no app token at all: apps.connections.open answers invalid_auth.
    backoff = RecordingBackoff()
    with caplog.at_level(logging.INFO):
        base, app = await serve_socket_mode(fake_slack.base_url, backoff)
        connection = app[CONNECTION_KEY]
        assert connection.task is not None
        await asyncio.wait_for(asyncio.shield(connection.task), 30)

        health, _ = await _get(f"{base}/healthz")
        status, ready = await _get(f"{base}/readyz")

    assert health == 200
    assert status == 503
    assert ready["checks"]["slack"] == {"ready": False, "socket_mode": "failed", "attempts": 1,
                                        "error": "invalid_auth"}
    calls = fake_slack.calls_to("apps.connections.open")
    assert [call.error for call in calls] == ["invalid_auth"] and backoff.asked == []
    [line] = _socket_lines(caplog)
    assert line.levelno == logging.ERROR
    message = line.getMessage()
    assert "invalid_auth" in message and "SLACK_APP_TOKEN" in message
    assert "xapp-" in message and "connections:write" in message and "Not retrying" in message
    assert APP_TOKEN not in message
    # The bot token still works: the rest of Slack (and the sweep) is unaffected.
    assert [call.ok for call in fake_slack.calls_to("auth.test")] == [True]


async def test_socket_mode_connects_after_a_failed_attempt_and_becomes_ready(
        fake_slack: FakeSlack,
        serve_socket_mode: Callable[..., Awaitable[tuple[str, web.Application]]]) -> None:
    fake_slack.add_app_token(APP_TOKEN)
    fake_slack.fail_next("apps.connections.open", status=500)
    backoff = RecordingBackoff()
    base, app = await serve_socket_mode(fake_slack.base_url, backoff)
    connection = app[CONNECTION_KEY]
    await _until(lambda: connection.state == "connected")

    status, ready = await _get(f"{base}/readyz")

    assert status == 200 and ready["status"] == "ready"
    assert ready["checks"]["slack"] == {"ready": True, "socket_mode": "connected",
                                        "attempts": 2}
    assert backoff.asked == [1]
    assert [call.error for call in fake_slack.calls_to("apps.connections.open")] == [
        "internal_error", None]
    assert fake_slack.socket_connections == 1


def test_default_backoff_doubles_up_to_a_bound() -> None:
    for attempt, base in ((1, 1), (2, 2), (3, 4), (6, 32), (7, MAX_DELAY_SECONDS),
                          (500, MAX_DELAY_SECONDS)):
        delay = exponential_backoff(attempt)
        assert base / 2 <= delay <= base


async def test_stopping_while_connecting_cancels_cleanly() -> None:
    class NeverAnswers:
        async def apps_connections_open(self, **_: Any) -> None:
            await asyncio.Event().wait()

    class Client:
        app_token = APP_TOKEN
        closed = False

    class Handler:
        client = Client()

        async def close_async(self) -> None:
            self.client.closed = True

    handler = Handler()
    connection = SocketModeConnection(handler, api=NeverAnswers())  # type: ignore[arg-type]
    connection.start()
    await _until(lambda: connection.attempts == 1)
    await connection.stop()
    assert connection.state == "stopped" and handler.client.closed
    assert connection.task is not None and connection.task.cancelled()


async def test_sigterm_while_socket_mode_is_connecting_exits_cleanly(tmp_path: Path) -> None:
    """The real `rapport serve` with Slack unreachable: it listens, says why it is not ready,
    and SIGTERM ends it with code 0 and no traceback."""
    port, operator_port = free_port(), free_port()
    with refusing_port() as slack_port:
        env = clean_env(tmp_path, SLACK_APP_TOKEN=APP_TOKEN, SLACK_BOT_TOKEN=DEFAULT_BOT_TOKEN,
                        SLACK_API_URL=f"http://127.0.0.1:{slack_port}/api/",
                        RAPPORT_PORT=str(port), RAPPORT_METRICS_PORT=str(operator_port),
                        RAPPORT_LOG_FORMAT="json")
        stderr, health, status, ready = await _serve_then_sigterm(env, port, operator_port,
                                                                  tmp_path)
    lines = [json.loads(line) for line in stderr.decode().splitlines()]
    assert health == 200
    assert status == 503 and ready["checks"]["slack"]["ready"] is False
    assert ready["checks"]["slack"]["socket_mode"] == "connecting"
    assert "Traceback" not in stderr.decode() and APP_TOKEN not in stderr.decode()
    messages = [line["msg"] for line in lines]
    assert "Slack: on (single workspace, Socket Mode). Teams: off (set MicrosoftAppId, " \
           "MicrosoftAppPassword). Console: off (--no-console)." in messages
    assert "shutting down" in messages


async def _serve_then_sigterm(env: dict[str, str], port: int, operator_port: int, cwd: Path
                              ) -> tuple[bytes, int, int, dict[str, Any]]:
    """Start `rapport serve`, read /healthz (public port) and /readyz (operator port) once it
    listens, SIGTERM it; exit 0."""
    process = await start_cli("serve", "--no-console", env=env, cwd=cwd)
    try:
        await wait_until_answering(process, f"http://127.0.0.1:{port}/healthz")
        health, _ = await _get(f"http://127.0.0.1:{port}/healthz")
        status, ready = await _get(f"http://127.0.0.1:{operator_port}/readyz")
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()[-2000:]
    return stderr, health, status, ready
