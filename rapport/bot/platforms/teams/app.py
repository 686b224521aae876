"""Wiring: the ``/api/messages`` route and the Teams messenger (used by bot/platforms.py)."""

from __future__ import annotations

import logging

from aiohttp import web
from botbuilder.schema import Activity
from msrest.exceptions import DeserializationError

from rapport.bot.core.drafts import DraftService
from rapport.bot.core.replies import Actor, Reply, error
from rapport.bot.platforms.teams.adapter import bot_app_id, build_adapter, check_settings
from rapport.bot.platforms.teams.handler import DraftAction, RapportTeamsBot
from rapport.bot.platforms.teams.messenger import TeamsMessenger
from rapport.bot.service.runtime import Runtime

logger = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"


def _draft_action(runtime: Runtime) -> DraftAction | None:
    """Draft buttons finish drafts through bot/drafts.py's DraftService, when it is wired."""
    service = runtime.rapport.drafter
    if not isinstance(service, DraftService):
        return None

    async def finish(actor: Actor, draft_id: int, verb: str, text: str | None) -> Reply:
        # "post" cannot happen in Teams (the bot cannot write as the user): it is a copy.
        outcome = await service.finish(actor, draft_id, text or "",
                                       "discard" if verb == "discard" else "copy")
        if not outcome.ok:
            return error(outcome.message)
        return Reply(f"{outcome.message}\n\n{outcome.text}" if outcome.text else outcome.message)

    return finish


async def install_teams(app: web.Application, runtime: Runtime) -> None:
    """Mount POST /api/messages: the Bot Framework endpoint Teams (or the Emulator) calls."""
    adapter = build_adapter(runtime.settings)
    bot = RapportTeamsBot(rapport=runtime.rapport, adapter=adapter,
                          bot_app_id=bot_app_id(runtime.settings),
                          draft_action=_draft_action(runtime))

    async def messages(request: web.Request) -> web.StreamResponse:
        # Not CloudAdapter.process: in botbuilder 4.17.1 it serializes an invoke response's
        # body a second time, which fails (500) for every Adaptive Card action.
        if request.content_type != "application/json":
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            activity = Activity().deserialize(await request.json())
        except (ValueError, DeserializationError) as failure:
            logger.info("bad activity", extra={"error": type(failure).__name__})
            return web.json_response({"error": "not a Bot Framework activity"}, status=400)
        if not activity.type:
            return web.json_response({"error": "activity type missing"}, status=400)
        try:
            invoke_response = await adapter.process_activity(
                request.headers.get("Authorization", ""), activity, bot.on_turn)
        except PermissionError:
            # botbuilder refused the token (or its absence) outside emulator mode.
            return web.json_response({"error": "unauthorized"}, status=401)
        if invoke_response is None:
            return web.Response(status=201)
        return web.json_response(invoke_response.body, status=invoke_response.status)

    app.router.add_post(MESSAGES_PATH, messages)
    logger.info("teams endpoint mounted", extra={"path": MESSAGES_PATH})


def teams_messenger(runtime: Runtime) -> TeamsMessenger:
    """The scheduler's Messenger for Teams users."""
    check_settings(runtime.settings)
    return TeamsMessenger(adapter=build_adapter(runtime.settings, serves_requests=False),
                          sessions=runtime.sessions,
                          bot_app_id=bot_app_id(runtime.settings))
