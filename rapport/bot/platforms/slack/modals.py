"""Opening a modal (views.open), which Slack refuses once the click's trigger id is 3 seconds
old: a slow moment between the click and Rapport's call leaves the person waiting for a window
that never comes. So a refusal is said, not dropped: where the click has a response_url, the
person reads that nothing opened and to try again; the caller learns it too (None), to answer
another way when it has one (a draft shown in the conversation)."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.platforms.slack.platform import Respond

logger = logging.getLogger(__name__)

NOT_OPENED = "Slack didn't open that window in time. Please try again."


async def open_modal(client: AsyncWebClient, trigger_id: str, view: dict[str, Any], *,
                     respond: Respond | None = None) -> str | None:
    """The opened modal's view id, or None when Slack refused it (an expired or used trigger
    id, most often), after telling the person through `respond` (the click's response_url;
    None when there is none, or when the caller answers in its own way)."""
    if trigger_id:
        try:
            opened = await client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as failure:
            # A slow moment, not a fault in Rapport: the person is told, operators see why.
            logger.warning("views.open failed", extra={"error": failure.response.get("error")})
        except (ClientError, TimeoutError) as failure:
            logger.warning("views.open failed", extra={"error": type(failure).__name__})
        else:
            return str(opened["view"]["id"])
    if respond is not None:
        await respond(text=NOT_OPENED, response_type="ephemeral", replace_original=False)
    return None
