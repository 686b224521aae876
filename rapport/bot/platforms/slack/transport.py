"""Slack over HTTP: the aiohttp routes, the replay guard, and bad input answered with 400.

Bolt verifies every signature; a correctly signed request seen before is refused by the
replay guard, a Bolt middleware that runs right after that verification.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from rapport.bot.platforms.slack.platform import RECEIVED_AT_KEY, SlackPlatform
from rapport.bot.service.server import RECEIVED_AT

logger = logging.getLogger(__name__)
# Slack accepts a signature for 5 minutes; remember accepted ones a little longer.
SIGNATURE_MEMORY_SECONDS = 6 * 60
MAX_REMEMBERED_SIGNATURES = 100_000


@dataclass
class ReplayGuard:
    """Valid signatures seen in the last minutes: Slack's 5-minute timestamp window alone
    would let a captured request be replayed (logging the same conversation twice)."""

    seen: dict[str, float] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic

    def seen_before(self, signature: str) -> bool:
        """True when `signature` was accepted before; remembers it otherwise."""
        now = self.clock()
        if len(self.seen) > MAX_REMEMBERED_SIGNATURES:
            self.seen = {s: t for s, t in self.seen.items() if t > now}
        if self.seen.get(signature, 0.0) > now:
            return True
        self.seen[signature] = now + SIGNATURE_MEMORY_SECONDS
        return False

    async def middleware(self, req: AsyncBoltRequest, resp: BoltResponse,
                         next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        """Bolt middleware: after Bolt's signature check, refuse a signature seen before."""
        del resp
        signature = (req.headers.get("x-slack-signature") or [""])[0]
        if req.mode == "http" and signature and self.seen_before(signature):
            logger.warning("slack request refused", extra={"reason": "replayed signature"})
            return BoltResponse(status=401, body="replayed request")
        return await next()


@dataclass
class SlackTransport:
    """POST /slack/events and the OAuth install routes."""

    platform: SlackPlatform

    async def handle_events(self, request: web.Request) -> web.Response:
        """POST /slack/events: Bolt verifies the signature, dispatches, answers."""
        try:
            bolt_request = await to_bolt_request(request)
            # Listeners count Slack's 3 s from when the request arrived, not from when they run.
            bolt_request.context[RECEIVED_AT_KEY] = request.get(RECEIVED_AT, time.monotonic())
            # Listener errors reach on_error; what escapes dispatch is Bolt's own parsing and
            # matching, which assume Slack's shapes (a JSON object payload, "user" and "view"
            # objects with a "type"): anything else is bad input, not a 500.
            response = await self.platform.app.async_dispatch(bolt_request)
        except (ValueError, TypeError, AttributeError, KeyError) as error:
            logger.warning("slack request refused", extra={"reason": "malformed body",
                                                           "error": type(error).__name__})
            return web.Response(status=400, text="bad request")
        return await to_aiohttp_response(response)

    async def handle_install(self, request: web.Request) -> web.Response:
        """GET /slack/install: the "Add to Slack" page with a fresh OAuth state."""
        flow = self.platform.app.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        return await to_aiohttp_response(await flow.handle_installation(
            await to_bolt_request(request)))

    async def handle_oauth_redirect(self, request: web.Request) -> web.Response:
        """GET /slack/oauth_redirect: exchange the code, store the installation."""
        flow = self.platform.app.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        return await to_aiohttp_response(await flow.handle_callback(
            await to_bolt_request(request)))


async def on_error(error: Exception) -> BoltResponse | None:
    """A payload of the wrong shape is the sender's fault: 400, never a 500 or a traceback."""
    # KeyError/TypeError/AttributeError/ValueError come from fields that are missing or of the
    # wrong type (a forged or garbled payload), or a response_url that is no URL.
    if isinstance(error, KeyError | TypeError | AttributeError | ValueError):
        logger.warning("slack request refused", extra={"reason": "malformed payload",
                                                       "error": type(error).__name__})
        return BoltResponse(status=400, body="")
    logger.error("slack listener failed", extra={"error": type(error).__name__})
    return None


def register(platform: SlackPlatform) -> None:
    """The error handler and the replay guard on the Bolt app."""
    platform.app.error(on_error)
    platform.app.middleware(ReplayGuard().middleware)


def mount(app: web.Application, platform: SlackPlatform) -> None:
    """Add the HTTP routes for `platform` to the aiohttp app."""
    transport = SlackTransport(platform)
    if platform.runtime.settings.slack_signing_secret:
        app.router.add_post("/slack/events", transport.handle_events)
    if platform.installations.oauth:
        app.router.add_get("/slack/install", transport.handle_install)
        app.router.add_get("/slack/oauth_redirect", transport.handle_oauth_redirect)
