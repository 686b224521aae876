"""Wiring: the ``/api/messages`` route and the Teams messenger (used by platforms/registry.py)."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, CallerIdConstants
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
)
from msrest.exceptions import DeserializationError

from rapport.bot.core.context import Actor
from rapport.bot.core.views import Reply, error
from rapport.bot.platforms.teams.adapter import (
    bot_app_id,
    build_adapter,
    check_settings,
    emulator_mode,
)
from rapport.bot.platforms.teams.admins import admin_ids
from rapport.bot.platforms.teams.auth import (
    RETRY_AFTER_FAILURE_SECONDS,
    ChannelTokenValidator,
    KeysUnavailable,
    Unauthorized,
)
from rapport.bot.platforms.teams.downloads import FileHostPolicy, download, parse_hosts
from rapport.bot.platforms.teams.gate import Refusal, allowed_tenants, check_origin, check_shape
from rapport.bot.platforms.teams.handler import (
    CHANGE_SAVED,
    SAVED_NOT_SHOWN,
    DraftAction,
    RapportTeamsBot,
)
from rapport.bot.platforms.teams.messenger import Sleep, TeamsMessenger
from rapport.bot.platforms.teams.store import PLATFORM
from rapport.bot.service.payloads import json_too_deep
from rapport.bot.service.runtime import Runtime
from rapport.bot.service.server import RECEIVED_AT

logger = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"


def _draft_action(runtime: Runtime) -> DraftAction:
    """Draft buttons finish drafts through the runtime's draft service."""
    async def finish(actor: Actor, draft_id: int, verb: str, text: str | None,
                     disclose: bool) -> tuple[Reply, str]:
        service = runtime.drafts
        if service is None:
            return error("Copy the text from the box above and send it in your own words."), ""
        # "post" cannot happen in Teams (the bot cannot write as the user): it is a copy.
        outcome = await service.finish(actor, draft_id, text or "",
                                       "discard" if verb == "discard" else "copy", disclose)
        if not outcome.ok:
            return error(outcome.message), ""
        return Reply(outcome.message), outcome.text or ""

    return finish


async def install_teams(app: web.Application, runtime: Runtime, *,
                        file_policy: FileHostPolicy | None = None,
                        token_validator: ChannelTokenValidator | None = None,
                        sleep: Sleep | None = None) -> None:
    """Mount POST /api/messages: the Bot Framework endpoint Teams (or the Emulator) calls.

    `file_policy` and `token_validator` replace the ones built from the settings; tests pass
    them to reach local fakes (a file server on 127.0.0.1, their own signing keys), and
    `sleep` to record the waits for a throttled Connector instead of waiting.
    """
    settings = runtime.settings
    adapter = build_adapter(settings)
    _say_saved_after_a_change(adapter)
    bot = RapportTeamsBot(rapport=runtime.rapport, adapter=adapter,
                          bot_app_id=bot_app_id(settings),
                          draft_action=_draft_action(runtime),
                          admin_ids=admin_ids(settings),
                          sleep=sleep or asyncio.sleep)
    policy = file_policy or FileHostPolicy(hosts=parse_hosts(settings.teams_file_hosts))
    bot.imports.fetch = functools.partial(download, policy=policy)
    # An export's upload URL is held to the same hosts as a download link (file_consent.py).
    bot.files.policy = policy
    emulator = emulator_mode(settings)
    validator = None if emulator else \
        token_validator or ChannelTokenValidator(bot_app_id(settings))
    tenants = allowed_tenants(settings)
    authentication = adapter.bot_framework_authentication
    metrics = runtime.metrics

    async def messages(request: web.Request) -> web.StreamResponse:
        # Not CloudAdapter.process: in botbuilder 4.17.1 it serializes an invoke response's
        # body a second time, which fails (500) for every Adaptive Card action.
        if request.content_type != "application/json":
            return web.json_response({"error": "expected application/json"}, status=415)
        activity_or_refusal = await _read_activity(request)
        if isinstance(activity_or_refusal, Refusal):
            return _refuse(activity_or_refusal)
        activity = activity_or_refusal
        if emulator:
            # Authentication is off (loopback only, see adapter.check_settings): a token
            # proves nothing here, and botbuilder would try to fetch keys to check one.
            auth: str | AuthenticateRequestResult = ""
        else:
            assert validator is not None
            try:
                identity = await validator.validate(
                    request.headers.get("Authorization", ""), channel_id=activity.channel_id,
                    service_url=activity.service_url)
            except Unauthorized as refused:
                return _refuse(Refusal(401, f"token refused: {refused}"))
            except KeysUnavailable:
                # Logged once by the validator; the channel retries later.
                return web.json_response(
                    {"error": "try again later"}, status=503,
                    headers={"Retry-After": str(RETRY_AFTER_FAILURE_SECONDS)})
            refusal = check_origin(activity, tenants)
            if refusal is not None:
                return _refuse(refusal)
            auth = _authenticated(authentication, identity)
        started = time.monotonic()
        try:
            invoke_response = await adapter.process_activity(auth, activity, bot.on_turn)
        except PermissionError:
            return _refuse(Refusal(401, "token refused by botbuilder"))
        if activity.type == ActivityTypes.message:
            # A typed command (or a card's submit) is answered inside its turn: the turn is
            # the command's time, and Teams hears back when the request is answered.
            metrics.command_seconds.labels(PLATFORM).observe(time.monotonic() - started)
            metrics.ack_seconds.labels(PLATFORM).observe(
                time.monotonic() - request.get(RECEIVED_AT, started))
        if invoke_response is None:
            return web.Response(status=201)
        return web.json_response(invoke_response.body, status=invoke_response.status)

    app.router.add_post(MESSAGES_PATH, messages)

    async def finish_answers(_app: web.Application) -> None:
        await bot.finish_answers()

    app.on_shutdown.append(finish_answers)
    logger.info("teams endpoint mounted", extra={"path": MESSAGES_PATH})


def _say_saved_after_a_change(adapter: CloudAdapter) -> None:
    """A turn that fails after its command changed something says the change is saved
    rather than the adapter's "please try again": sent again, a `log` is logged twice."""
    report_failure = adapter.on_turn_error

    async def on_turn_error(turn_context: TurnContext, failure: Exception) -> None:
        if not turn_context.turn_state.get(CHANGE_SAVED):
            await report_failure(turn_context, failure)
            return
        logger.error("teams turn failed after a saved change",
                     extra={"error": type(failure).__name__})
        try:
            await turn_context.send_activity(SAVED_NOT_SHOWN)
        except Exception as second:  # the Connector itself may be what failed
            logger.warning("could not report the failure",
                           extra={"error": type(second).__name__})

    adapter.on_turn_error = on_turn_error


async def _read_activity(request: web.Request) -> Activity | Refusal:
    """The request body as an Activity with a type and a sender, or why it is refused."""
    try:
        text = (await request.read()).decode("utf-8")
        if json_too_deep(text):
            return Refusal(400, "JSON nested too deeply")
        body = json.loads(text)
        if not isinstance(body, dict):
            return Refusal(400, "not a Bot Framework activity")
        activity = Activity().deserialize(body)
    except (ValueError, TypeError, AttributeError, RecursionError,
            DeserializationError) as failure:
        return Refusal(400, f"not a Bot Framework activity ({type(failure).__name__})")
    if not activity.type:
        return Refusal(400, "activity type missing")
    return check_shape(activity) or activity


def _refuse(refusal: Refusal) -> web.Response:
    logger.warning("teams activity refused", extra={"reason": refusal.reason,
                                                    "status": refusal.status})
    # Why a token or tenant was refused is for the log, not for whoever sent it.
    shown = _SHOWN.get(refusal.status, refusal.reason)
    return web.json_response({"error": shown}, status=refusal.status)


_SHOWN = {401: "unauthorized", 403: "forbidden"}


def _authenticated(authentication: BotFrameworkAuthentication, identity: ClaimsIdentity
                   ) -> AuthenticateRequestResult:
    """What botbuilder's own authenticate_request returns for a channel token we checked."""
    result = AuthenticateRequestResult()
    result.claims_identity = identity
    result.audience = authentication.get_originating_audience()
    result.caller_id = CallerIdConstants.public_azure_channel
    result.connector_factory = authentication.create_connector_factory(identity)
    return result


def teams_messenger(runtime: Runtime) -> TeamsMessenger:
    """The scheduler's Messenger for Teams users."""
    check_settings(runtime.settings)
    return TeamsMessenger(adapter=build_adapter(runtime.settings, serves_requests=False),
                          sessions=runtime.sessions,
                          bot_app_id=bot_app_id(runtime.settings))
