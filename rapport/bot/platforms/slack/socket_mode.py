"""Socket Mode connected in the background, so start-up never waits for Slack.

slack_sdk's ``SocketModeClient.connect()`` retries forever, every few seconds, whatever the
error, including a revoked app token; awaited in ``on_startup`` it kept the web server (and
``/healthz``) from ever listening. Here each attempt asks Slack for a fresh WebSocket URL
(``apps.connections.open``) and connects once; transient failures back off exponentially up to
a bound, and a refused token is reported once and not retried. Once connected, reconnecting
after a dropped socket is the SDK's own job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Literal

import aiohttp
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 60.0
# connect() retries a failing WebSocket with the same URL every ping interval; after this long
# the attempt counts as failed and the next one asks for a fresh URL.
CONNECT_SECONDS = 30.0
# apps.connections.open errors that no retry can fix: the app token itself is wrong.
TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired",
                          "account_inactive", "not_allowed_token_type", "missing_scope",
                          "forbidden_team", "missing_args"})
TOKEN_HINT = ("check SLACK_APP_TOKEN: it must be the app-level token (xapp-...) of this Slack "
              "app with the connections:write scope (Basic Information > App-Level Tokens); "
              "fix it and restart")

State = Literal["connecting", "connected", "failed", "stopped"]
Backoff = Callable[[int], float]


def exponential_backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt `attempt` (1, 2, 4, ... at most 60), jittered so
    replicas that lost Slack together do not retry in step."""
    delay = min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2.0 ** min(attempt - 1, 16))
    return delay * random.uniform(0.5, 1.0)  # jitter, not security: `random` is enough


class SocketModeConnection:
    """Connects a Bolt Socket Mode handler in a background task and reports its state."""

    def __init__(self, handler: AsyncSocketModeHandler, *, api: AsyncWebClient,
                 backoff: Backoff = exponential_backoff,
                 connect_seconds: float = CONNECT_SECONDS,
                 before_connect: Callable[[], Awaitable[None]] | None = None) -> None:
        self.handler = handler
        # A client without retry handlers: the retries and their pacing are this class's.
        self.api = api
        self.backoff = backoff
        self.connect_seconds = connect_seconds
        self.before_connect = before_connect
        self.state: State = "connecting"
        self.attempts = 0
        self.error: str | None = None
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin connecting in the background; returns at once."""
        if self.task is None:
            self.task = asyncio.create_task(self.run(), name="slack-socket-mode")

    async def stop(self) -> None:
        """Stop connecting (or disconnect) and release the SDK client's resources."""
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self.state = "stopped"
        await self.handler.close_async()

    async def status(self) -> dict[str, object]:
        """For /readyz: ready only while the WebSocket is up."""
        connected = self.state == "connected" and await self.handler.client.is_connected()
        status: dict[str, object] = {
            "ready": connected,
            "socket_mode": "connected" if connected else
            ("reconnecting" if self.state == "connected" else self.state),
            "attempts": self.attempts}
        if self.error:
            status["error"] = self.error
        return status

    async def run(self) -> None:
        """Attempt until connected, backing off between attempts; give up on a bad token."""
        if self.before_connect is not None:
            try:
                await self.before_connect()
            except Exception as failure:  # a failed warm-up must not stop the connection
                logger.warning("slack start-up check failed",
                               extra={"error": type(failure).__name__})
        while True:
            self.attempts += 1
            try:
                await self._attempt()
            except SlackApiError as failure:
                code = str(failure.response.get("error") or "unknown_error")
                if code in TOKEN_ERRORS:
                    self.state, self.error = "failed", code
                    logger.error(f"Slack Socket Mode refused the app token ({code}); "
                                 f"{TOKEN_HINT}. Not retrying.",
                                 extra={"error": code, "attempts": self.attempts})
                    return
                self.error = code
            except (aiohttp.ClientError, OSError, TimeoutError) as failure:
                self.error = type(failure).__name__
            except Exception as failure:
                # Unexpected, so with its traceback; still retried: the backoff bounds the cost.
                self.error = type(failure).__name__
                logger.error("slack socket mode attempt failed unexpectedly", exc_info=True)
            else:
                self.state, self.error = "connected", None
                logger.info("slack socket mode connected", extra={"attempts": self.attempts})
                return
            delay = self.backoff(self.attempts)
            logger.warning(f"Slack Socket Mode not connected ({self.error}); retrying in "
                           f"{delay:.0f} s", extra={"error": self.error,
                                                    "attempts": self.attempts,
                                                    "retry_in": round(delay, 1)})
            await asyncio.sleep(delay)

    async def _attempt(self) -> None:
        client = self.handler.client
        response = await self.api.apps_connections_open(app_token=client.app_token)
        client.wss_uri = str(response["url"])
        try:
            # slack_sdk's connect() has no annotations.
            await asyncio.wait_for(client.connect(),  # type: ignore[no-untyped-call]
                                   self.connect_seconds)
        except TimeoutError:
            client.wss_uri = None  # the next attempt asks Slack for a fresh URL
            raise
