"""Listening sockets: the public app and the operator app, each closing silent connections.

aiohttp's server has no deadline for a request's headers: a connection that sends nothing is
held until its keep-alive timeout (an hour by default), so a few hundred idle sockets hold as
many file descriptors and handler tasks. The request handler below closes a connection whose
headers have not all arrived within ``RAPPORT_HEADER_TIMEOUT_SECONDS`` of its opening (or of
the first byte of its next request), and idle keep-alive connections close after
KEEPALIVE_SECONDS, longer than the usual load balancer idle timeout (60 s) so the balancer
is the one that closes first.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from rapport.bot.service.config import is_loopback
from rapport.bot.service.runtime import Runtime
from rapport.bot.service.server import (
    READINESS_KEY,
    RouteInstaller,
    build_operator_app,
    build_web_app,
)

logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 75.0


class HeaderTimeoutRequestHandler(RequestHandler):
    """aiohttp's handler plus a deadline for each request's headers."""

    def __init__(self, manager: web.Server, *, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._header_timeout = header_timeout
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._header_deadline is None and self._waiter is not None:
            self._arm()  # the first bytes of the next request on a kept-alive connection
        parsed = self._request_count
        super().data_received(data)
        if self._request_count > parsed:
            self._disarm()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self._loop.call_later(self._header_timeout, self._headers_late)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_late(self) -> None:
        self._header_deadline = None
        logger.debug("connection closed: no request headers in time")
        self.force_close()


class _HeaderTimeoutServer(web.Server):
    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout = header_timeout

    def __call__(self) -> RequestHandler:
        return HeaderTimeoutRequestHandler(self, loop=self._loop,
                                           header_timeout=self._header_timeout, **self._kwargs)


class GuardedAppRunner(web.AppRunner):
    """An AppRunner whose connections use HeaderTimeoutRequestHandler."""

    def __init__(self, app: web.Application, *, header_timeout: float, **kwargs: Any) -> None:
        kwargs.setdefault("keepalive_timeout", KEEPALIVE_SECONDS)
        super().__init__(app, **kwargs)
        self._header_timeout = header_timeout

    async def _make_server(self) -> web.Server:
        # The app's own server (startup signals run, handler arguments applied), rebuilt with
        # the same arguments around our request handler: aiohttp has no hook for its class.
        plain = await super()._make_server()
        return _HeaderTimeoutServer(plain.request_handler, request_factory=plain.request_factory,
                                    handler_cancellation=plain.handler_cancellation,
                                    loop=asyncio.get_running_loop(),
                                    header_timeout=self._header_timeout, **plain._kwargs)


class CannotListen(OSError):
    """One of the two listening addresses is taken or not allowed: says which, and which
    variables set it."""

    def __init__(self, host: str, port: int, host_variable: str, port_variable: str,
                 failure: OSError) -> None:
        # aiohttp's own text repeats the address; the system's reason alone reads better.
        reason = (os.strerror(failure.errno) if failure.errno
                  else failure.strerror or type(failure).__name__)
        super().__init__(failure.errno, reason)
        self.host = host
        self.port = port
        self.host_variable = host_variable
        self.port_variable = port_variable

    def __str__(self) -> str:
        return (f"Cannot listen on {self.host}:{self.port} ({self.strerror}); set "
                f"{self.host_variable} and {self.port_variable} to a free address.")


@dataclass
class WebServers:
    """The two listening apps of a `rapport serve` process."""

    public: web.AppRunner
    operator: web.AppRunner

    @property
    def public_port(self) -> int:
        return int(self.public.addresses[0][1])

    @property
    def operator_port(self) -> int:
        return int(self.operator.addresses[0][1])

    async def cleanup(self) -> None:
        await self.operator.cleanup()
        await self.public.cleanup()


async def start_web(runtime: Runtime, *, installers: list[RouteInstaller] | None = None
                    ) -> WebServers:
    """Listen on RAPPORT_HOST:PORT (public) and RAPPORT_METRICS_HOST:PORT (operator)."""
    settings = runtime.settings
    timeout = settings.header_timeout_seconds
    public_app = await build_web_app(runtime, installers=installers)
    public = GuardedAppRunner(public_app, header_timeout=timeout, access_log=None)
    await public.setup()
    # One registry: Slack's Socket Mode check, added on the public app, shows on /readyz.
    operator = GuardedAppRunner(build_operator_app(runtime,
                                                   readiness=public_app[READINESS_KEY]),
                                header_timeout=timeout, access_log=None)
    try:
        # With RAPPORT_REUSE_PORT several `serve` processes share the public port and the
        # kernel spreads connections between them (PostgreSQL only: SQLite is one process).
        try:
            await web.TCPSite(public, settings.host, settings.port,
                              reuse_port=settings.reuse_port or None).start()
        except OSError as failure:
            raise CannotListen(settings.host, settings.port, "RAPPORT_HOST", "RAPPORT_PORT",
                               failure) from failure
        await operator.setup()
        try:
            await web.TCPSite(operator, settings.metrics_host, settings.metrics_port).start()
        except OSError as failure:
            raise CannotListen(settings.metrics_host, settings.metrics_port,
                               "RAPPORT_METRICS_HOST", "RAPPORT_METRICS_PORT",
                               failure) from failure
    except BaseException:
        await operator.cleanup()
        await public.cleanup()
        raise
    servers = WebServers(public=public, operator=operator)
    logger.info("listening", extra={"host": settings.host, "port": servers.public_port,
                                    "metrics_host": settings.metrics_host,
                                    "metrics_port": servers.operator_port})
    if not is_loopback(settings.metrics_host):
        logger.warning("operator port reachable from other machines: /readyz and /metrics "
                       "are not authenticated", extra={"metrics_host": settings.metrics_host})
    return servers


async def start_operator(runtime: Runtime) -> web.AppRunner:
    """`rapport worker`: only the operator app (/healthz, /readyz, /metrics) on
    RAPPORT_METRICS_HOST:PORT, so its deliveries can be scraped and its health checked."""
    settings = runtime.settings
    runner = GuardedAppRunner(build_operator_app(runtime),
                              header_timeout=settings.header_timeout_seconds, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.metrics_host, settings.metrics_port).start()
    except OSError as failure:
        await runner.cleanup()
        raise CannotListen(settings.metrics_host, settings.metrics_port,
                           "RAPPORT_METRICS_HOST", "RAPPORT_METRICS_PORT", failure) from failure
    logger.info("listening", extra={"metrics_host": settings.metrics_host,
                                    "metrics_port": int(runner.addresses[0][1])})
    if not is_loopback(settings.metrics_host):
        logger.warning("operator port reachable from other machines: /readyz and /metrics "
                       "are not authenticated", extra={"metrics_host": settings.metrics_host})
    return runner


async def start_consent_callbacks(runtime: Runtime) -> web.AppRunner:
    """`rapport chat` with calendars: only the consent callbacks (and /healthz) on
    RAPPORT_HOST:PORT, so a link `connect calendar` gives in the console lands somewhere."""
    settings = runtime.settings
    runner = GuardedAppRunner(await build_web_app(runtime),
                              header_timeout=settings.header_timeout_seconds, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.port).start()
    except OSError as failure:
        await runner.cleanup()
        raise CannotListen(settings.host, settings.port, "RAPPORT_HOST", "RAPPORT_PORT",
                           failure) from failure
    return runner
