"""The listening sockets as `rapport serve` opens them (start_web), probed with raw sockets:
readiness and metrics only on the operator port, and connections that never finish their
headers are closed instead of held."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from rapport.bot.service.config import Settings
from rapport.bot.service.listen import WebServers, start_web
from rapport.bot.service.runtime import Runtime, build_runtime
from tests.conftest import Clock, snapshot

SILENT_CONNECTIONS = 200
# Only a deadlock guard: the assertions are about what the server did, not how fast.
GUARD_SECONDS = 30.0


@pytest.fixture
async def served(tmp_path: Path, clock: Clock) -> AsyncIterator[tuple[Runtime, WebServers]]:
    settings = Settings(RAPPORT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'web.db'}",
                        RAPPORT_PORT=0, RAPPORT_METRICS_PORT=0,
                        RAPPORT_HEADER_TIMEOUT_SECONDS=0.5)
    runtime = await build_runtime(settings, clock=clock)
    servers = await start_web(runtime)
    yield runtime, servers
    await servers.cleanup()
    await runtime.close()


async def _connect(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return sock


async def _closed_by_server(sock: socket.socket) -> bool:
    """True once the server closed the connection (EOF or reset), without a response."""
    loop = asyncio.get_running_loop()
    try:
        data = await asyncio.wait_for(loop.sock_recv(sock, 1024), GUARD_SECONDS)
    except ConnectionResetError:
        return True
    return data == b""


async def test_readiness_and_metrics_are_not_on_the_public_port(
        served: tuple[Runtime, WebServers]) -> None:
    runtime, servers = served
    before = await snapshot(runtime.engine)
    public = f"http://127.0.0.1:{servers.public_port}"
    operator = f"http://127.0.0.1:{servers.operator_port}"
    async with aiohttp.ClientSession() as http:
        for path in ("/readyz", "/metrics", "/metrics/", "/readyz?x=1"):
            async with http.get(public + path) as response:
                assert response.status == 404, path
                assert "rapport_" not in await response.text()
        async with http.get(public + "/healthz") as response:
            assert response.status == 200
        async with http.get(operator + "/readyz") as response:
            assert response.status == 200
        async with http.get(operator + "/metrics") as response:
            assert response.status == 200 and "rapport_http_requests_total" in await response.text()
    assert servers.operator.addresses[0][0] == "127.0.0.1"
    assert await snapshot(runtime.engine) == before


async def test_the_operator_port_is_loopback_by_default() -> None:
    settings = Settings()
    assert (settings.metrics_host, settings.metrics_port) == ("127.0.0.1", 3001)


async def test_silent_and_slow_connections_are_closed_and_others_still_served(
        served: tuple[Runtime, WebServers]) -> None:
    _runtime, servers = served
    loop = asyncio.get_running_loop()
    silent = [await _connect(servers.public_port) for _ in range(SILENT_CONNECTIONS)]
    # Sends the start of a request, then nothing more (slowloris).
    slow = await _connect(servers.public_port)
    await loop.sock_sendall(slow, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    # A kept-alive connection whose second request never finishes its headers.
    kept = await _connect(servers.public_port)
    await loop.sock_sendall(kept, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    first = await asyncio.wait_for(loop.sock_recv(kept, 4096), GUARD_SECONDS)
    assert first.startswith(b"HTTP/1.1 200")
    await loop.sock_sendall(kept, b"GET /healthz HTTP/1.1\r\n")
    operator_silent = await _connect(servers.operator_port)
    try:
        closed = await asyncio.gather(*(_closed_by_server(s)
                                        for s in [*silent, slow, kept, operator_silent]))
        assert all(closed)
        # Meanwhile and afterwards, a client that sends its request is answered.
        async with aiohttp.ClientSession() as http, \
                http.get(f"http://127.0.0.1:{servers.public_port}/healthz") as response:
            assert response.status == 200
    finally:
        for sock in [*silent, slow, kept, operator_silent]:
            sock.close()
