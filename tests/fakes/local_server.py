"""The lifecycle every local HTTP fake shares: a free loopback port, stop, `async with`."""

from __future__ import annotations

import asyncio
from typing import Self

from aiohttp import web


class LocalServer:
    """Base of the fakes: subclasses build their aiohttp app, this serves it on a free port."""

    def __init__(self, *, host: str = "127.0.0.1", shutdown_timeout: float = 0.5) -> None:
        self._host = host
        self._shutdown_timeout = shutdown_timeout
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        # Set by stop() so artificial latency ends at once instead of holding up shutdown
        # (aiohttp keeps a handler running after its client has given up).
        self._stopping = asyncio.Event()

    def build_app(self) -> web.Application:
        """The routes this fake serves."""
        raise NotImplementedError

    async def start(self) -> None:
        """Listen on a free loopback port."""
        if self._runner is not None:
            raise RuntimeError(f"{type(self).__name__} is already started")
        app = self.build_app()
        self._stopping = asyncio.Event()
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=self._shutdown_timeout)
        await runner.setup()
        await web.TCPSite(runner, self._host, 0).start()
        self._port = int(runner.addresses[0][1])
        self._runner = runner

    async def stop(self) -> None:
        """Stop listening; safe to call twice, and what was recorded stays readable."""
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._port
