"""PostgreSQL faults at the TCP boundary: a server that accepts connections and never answers
(a hung database, a proxy whose backend is gone), and a proxy in front of the real server that
can start refusing connections or go silent while Rapport runs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from pathlib import Path
from typing import Literal, Self

from sqlalchemy.engine import make_url

from tests.bot.processes import running_cli, wait_for_metric, wait_until_answering


class SilentServer:
    """Accepts every connection and never sends a byte; counts the connections and those the
    client gave up on (closed from its side)."""

    def __init__(self) -> None:
        self.accepted = 0
        self.abandoned = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._closing = False
        self._changed = asyncio.Condition()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def url(self, database: str = "rapport") -> str:
        """An asyncpg URL pointing at this server."""
        return f"postgresql+asyncpg://rapport@127.0.0.1:{self.port}/{database}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        try:
            # Whatever the client sends (asyncpg's startup message) is read and left
            # unanswered; an empty read is the client closing its end.
            while await reader.read(65536):
                pass
            if not self._closing:  # not our own close at the end
                async with self._changed:
                    self.abandoned += 1
                    self._changed.notify_all()
        finally:
            self._handlers.discard(task)
            writer.close()

    async def until_abandoned(self, count: int) -> None:
        """Wait until the client has given up on `count` connections (it closes its socket as
        it gives up; this server reads that a moment later)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.abandoned >= count)

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._closing = True
        self._server.close()
        # Closing a connection ends its handler's read (a cancelled handler would be logged
        # by asyncio as an error).
        for writer in list(self._writers):
            writer.close()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()


ProxyMode = Literal["forward", "refuse", "silent"]


class DatabaseProxy:
    """A TCP proxy to a real PostgreSQL. `fail("refuse")` drops every connection and refuses
    new ones (the server stopped); `fail("silent")` drops them and accepts new ones without
    ever answering (the server hung)."""

    def __init__(self, target_url: str) -> None:
        target = make_url(target_url)
        self._target = (target.host or "127.0.0.1", target.port or 5432)
        self._target_url = target
        self.mode: ProxyMode = "forward"
        self._server: asyncio.Server | None = None
        self._port = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def url(self) -> str:
        """The target's URL with this proxy's host and port."""
        return self._target_url.set(host="127.0.0.1", port=self._port).render_as_string(
            hide_password=False)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            if self.mode == "silent":
                while await reader.read(65536):
                    pass
                return
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
            self._writers.add(upstream_writer)
            await asyncio.gather(self._pipe(reader, upstream_writer),
                                 self._pipe(upstream_reader, writer))
        except OSError:
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self._port)
        self._port = int(self._server.sockets[0].getsockname()[1])

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        # Closing every connection ends the handlers' reads and pipes (a cancelled handler
        # would be logged by asyncio as an error).
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def fail(self, mode: Literal["refuse", "silent"]) -> None:
        """Drop every open connection; then refuse new ones, or accept them silently."""
        self.mode = mode
        await self._stop_listening()
        if mode == "silent":
            await self._listen()  # the same port, now a black hole

    async def __aenter__(self) -> Self:
        await self._listen()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._stop_listening()


async def assert_worker_stops_cleanly_as_the_database_fails(
        proxy: DatabaseProxy, fault: Literal["refuse", "silent"], env: dict[str, str],
        cwd: Path, metrics_port: str, hang_guard_seconds: float) -> None:
    """Run `rapport worker` with `env` (its database behind `proxy`, JSON logs, metrics on
    `metrics_port`) until its first sweep went through, then make the database `fault` and
    send SIGTERM: it exits 0, with no traceback and no error logged once shutting down."""
    base = f"http://127.0.0.1:{metrics_port}"
    async with running_cli("worker", env=env, cwd=cwd) as worker:
        await wait_until_answering(worker, f"{base}/healthz")
        # The first sweep (a second after the start) went through while the database was up.
        await wait_for_metric(base, "rapport_sweep_duration_seconds_count", 1,
                              failure="the worker never swept")
        await proxy.fail(fault)
        worker.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(worker.communicate(), hang_guard_seconds)
    log = stderr.decode()
    assert worker.returncode == 0, log[-3000:]
    assert "Traceback" not in log
    lines = [json.loads(line) for line in log.splitlines()]
    stopping = [line["msg"] for line in lines].index("shutting down")
    assert not [line for line in lines[stopping:] if line["level"] in ("error", "critical")]
