"""Wiring: the ``/api/messages`` route and the Teams messenger (used by bot/platforms.py)."""

from __future__ import annotations

import logging

from aiohttp import web
from msrest.exceptions import DeserializationError

from bot.runtime import Runtime
from bot.teams.adapter import bot_app_id, build_adapter, check_settings
from bot.teams.handler import DraftAction, RapportTeamsBot
from bot.teams.messenger import TeamsMessenger

logger = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"


def _draft_action() -> DraftAction | None:
    # bot/drafts.py is optional: draft buttons answer "copy it yourself" without it.
    try:
        from bot import drafts  # type: ignore[attr-defined]
    except ImportError:
        return None
    handler = getattr(drafts, "handle_draft_action", None)
    return handler if callable(handler) else None


async def install_teams(app: web.Application, runtime: Runtime) -> None:
    """Mount POST /api/messages: the Bot Framework endpoint Teams (or the Emulator) calls."""
    adapter = build_adapter(runtime.settings)
    bot = RapportTeamsBot(rapport=runtime.rapport, adapter=adapter,
                          bot_app_id=bot_app_id(runtime.settings), draft_action=_draft_action())

    async def messages(request: web.Request) -> web.StreamResponse:
        if request.content_type != "application/json":
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            response = await adapter.process(request, bot)
        except (ValueError, DeserializationError) as failure:
            # Unparsable JSON or a body that is not an Activity: the caller's mistake.
            logger.info("bad activity", extra={"error": type(failure).__name__})
            return web.json_response({"error": "not a Bot Framework activity"}, status=400)
        return response if response is not None else web.Response(status=201)

    app.router.add_post(MESSAGES_PATH, messages)
    logger.info("teams endpoint mounted", extra={"path": MESSAGES_PATH})


def teams_messenger(runtime: Runtime) -> TeamsMessenger:
    """The scheduler's Messenger for Teams users."""
    check_settings(runtime.settings)
    return TeamsMessenger(adapter=build_adapter(runtime.settings), sessions=runtime.sessions,
                          bot_app_id=bot_app_id(runtime.settings))
