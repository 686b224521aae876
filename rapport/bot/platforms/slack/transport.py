"""Slack over HTTP: the aiohttp routes, the replay guard, and bad input answered with 400.

Checks before anything parses the body (Bolt parses it while building its request, before
it verifies the signature): malformed input is a 400 with one log line, never a 500. Bolt
then verifies every signature; a correctly signed request that any replica accepted before
is refused by the replay guard, a Bolt middleware that runs right after that verification
and remembers signatures in the database (replay.py). An Events API event is remembered by its
event id instead, so Slack's redelivery of it (signed anew) is answered 200 and not handled
again; over Socket Mode too, where nothing is signed but Slack redelivers events all the same.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from sqlalchemy.exc import SQLAlchemyError

from rapport.bot.core.rapport import BUSY, DATABASE_TROUBLE
from rapport.bot.platforms.slack.acks import log_listener_failure
from rapport.bot.platforms.slack.platform import RECEIVED_AT_KEY, SlackPlatform
from rapport.bot.platforms.slack.replay import (
    EVENT_MEMORY,
    SIGNATURE_MEMORY,
    ReplayStore,
    event_key,
)
from rapport.bot.service.payloads import json_too_deep
from rapport.bot.service.server import RECEIVED_AT
from rapport.storage.uow import Busy

logger = logging.getLogger(__name__)
# Seconds since the epoch, as Slack sends them; int() would also take " 1", "1_0" or "١".
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# Slack's retry headers are not signed: only this much of them (or of an event id) is logged.
_LOGGED_CHARS = 40


@dataclass
class ReplayGuard:
    """Bolt middleware: refuses a signed request whose signature some replica accepted, and
    answers an event some replica handled without handling it again."""

    store: ReplayStore
    # The moment the claim must start by (the platform's command deadline), from the context.
    deadline: Callable[[Mapping[str, Any]], float]
    on_busy: Callable[[], None]

    async def middleware(self, req: AsyncBoltRequest, resp: BoltResponse,
                         next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        del resp
        signature = (req.headers.get("x-slack-signature") or [""])[0]
        timestamp = (req.headers.get("x-slack-request-timestamp") or [""])[0]
        event = event_key(req.body)
        # Bolt has verified both by now (Socket Mode requests carry neither).
        if req.mode == "http" and signature and timestamp.isascii() and timestamp.isdigit():
            signed_at = datetime.fromtimestamp(int(timestamp), UTC)
            # An event's key stands in for its signature (the signed body holds the event
            # id): still one row and one statement per request.
            key, expires_at = ((event, signed_at + EVENT_MEMORY) if event is not None
                               else (signature, signed_at + SIGNATURE_MEMORY))
        elif req.mode == "socket_mode" and event is not None:
            # Slack redelivers an event over the socket too, when its envelope was not acked
            # in time or the socket dropped, possibly to another replica's socket. Only events:
            # interaction envelopes are never redelivered (slack_sdk carries retry fields for
            # events_api envelopes alone), and nobody but Slack sends on the socket.
            key, expires_at = event, self.store.clock() + EVENT_MEMORY
        else:
            return await next()
        try:
            seen = await self.store.seen_before(key, expires_at,
                                                deadline=self.deadline(req.context))
        except Busy:
            # Overloaded: answer inside Slack's deadline rather than after it. Nothing
            # was remembered or done, so Slack's retry (or the person's) is accepted.
            self.on_busy()
            if req.body.get("command"):  # a slash command shows this answer
                return BoltResponse(status=200, body=json.dumps(
                    {"response_type": "ephemeral", "text": BUSY}),
                    headers={"content-type": "application/json"})
            return BoltResponse(status=503, body="busy")
        except (SQLAlchemyError, *DATABASE_TROUBLE) as failure:
            # Every effect of a request is written to this same database, so while it
            # fails a replay can change nothing either; refusing would turn a database
            # hiccup into Slack errors for every user. A refused or lost connection
            # arrives as the driver's plain OSError, not wrapped by SQLAlchemy: the
            # request goes on and gets the core's "can't reach my database" answer.
            logger.warning("replay check unavailable",
                           extra={"error": type(failure).__name__})
            seen = False
        if seen and event is not None:
            # Slack retries until it gets a 2xx: anything else would bring the event back
            # up to three times, each to be answered again.
            already_handled(req)
            return BoltResponse(status=200, body="")
        if seen:
            logger.warning("slack request refused", extra={"reason": "replayed signature"})
            return BoltResponse(status=401, body="replayed request")
        return await next()


def already_handled(req: AsyncBoltRequest) -> None:
    """The log line of an event delivered again: info for Slack's own retries (and anything
    on the Socket Mode socket, where only Slack sends), a warning for an HTTP delivery without
    Slack's retry mark (the same request sent again by someone else)."""

    def header(name: str) -> str:
        return (req.headers.get(name) or [""])[0][:_LOGGED_CHARS]

    retry_num = header("x-slack-retry-num")
    from_slack = bool(retry_num) or req.mode == "socket_mode"
    logger.log(logging.INFO if from_slack else logging.WARNING, "slack event already handled",
               extra={"event_id": str(req.body.get("event_id"))[:_LOGGED_CHARS],
                      "retry_num": retry_num,
                      "retry_reason": header("x-slack-retry-reason")})


@dataclass
class SlackTransport:
    """POST /slack/events and the OAuth install routes."""

    platform: SlackPlatform

    async def handle_events(self, request: web.Request) -> web.Response:
        """POST /slack/events: Bolt verifies the signature, dispatches, answers."""
        malformed_request = refusal(request.headers, await request.read())
        if malformed_request is not None:
            return malformed_request
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
    log_listener_failure(error)
    return None


def register(platform: SlackPlatform) -> None:
    """The error handler and the replay guard on the Bolt app."""
    platform.app.error(on_error)
    guard = ReplayGuard(ReplayStore(platform.runtime.sessions), deadline=platform.deadline,
                        on_busy=platform.runtime.metrics.busy.labels("slack").inc)
    platform.app.middleware(guard.middleware)


def mount(app: web.Application, platform: SlackPlatform) -> None:
    """Add the HTTP routes for `platform` to the aiohttp app."""
    transport = SlackTransport(platform)
    if platform.runtime.settings.slack_signing_secret:
        app.router.add_post("/slack/events", transport.handle_events)
    if platform.installations.oauth:
        app.router.add_get("/slack/install", transport.handle_install)
        app.router.add_get("/slack/oauth_redirect", transport.handle_oauth_redirect)
    if platform.dm_capture is not None:
        from rapport.bot.platforms.slack.dm_capture import CALLBACK_PATH

        app.router.add_get(CALLBACK_PATH, platform.dm_capture.handle_callback)


def malformed(headers: Mapping[str, str], body: bytes) -> str | None:
    """Why the request cannot be a Slack request, or None. A missing timestamp or signature
    is left to Bolt, which answers 401."""
    timestamp = headers.get("X-Slack-Request-Timestamp")
    if timestamp is not None and not _TIMESTAMP.fullmatch(timestamp):
        return "timestamp not a number"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "body not UTF-8"
    # The same choice as Bolt's parse_body: a JSON body, or a form with a JSON "payload".
    content_type = headers.get("Content-Type", "")
    if content_type.startswith("application/json") or text.lstrip().startswith(("{", "[")):
        return "JSON nested too deeply" if json_too_deep(text) else None
    if "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload", "")
        return "JSON nested too deeply" if json_too_deep(payload) else None
    return None


def refusal(headers: Mapping[str, str], body: bytes) -> web.Response | None:
    """A 400 for a malformed request (logged once), or None to go on."""
    reason = malformed(headers, body)
    if reason is None:
        return None
    logger.warning("slack request refused", extra={"reason": reason})
    return web.Response(status=400, text="bad request")
