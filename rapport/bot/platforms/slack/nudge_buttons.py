"""The buttons (and the date picker) on a nudge: act, then update the message in place."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.core import commands as c
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.acks import answered_at_ack
from rapport.bot.platforms.slack.incoming import row_id
from rapport.bot.platforms.slack.platform import Ack, Respond, SlackPlatform, team_of

logger = logging.getLogger(__name__)


@dataclass
class NudgeButtons:
    platform: SlackPlatform

    async def on_nudge_action(self, ack: Ack, body: dict[str, Any], action: dict[str, Any],
                              client: AsyncWebClient, respond: Respond,
                              context: dict[str, Any]) -> None:
        await ack()
        platform = self.platform
        team_id, user_id = team_of(body), str(body.get("user", {}).get("id", ""))
        action_id = str(action.get("action_id", ""))
        raw_id = action.get("value") or str(action.get("block_id", "")).removeprefix(
            b.NUDGE_BLOCK_PREFIX)
        can_respond = bool(body.get("response_url"))
        nudge_id = row_id(raw_id)
        if team_id != context.get("team_id") or nudge_id is None \
                or action_id not in b.NUDGE_ACTIONS:
            logger.warning("nudge action refused", extra={"reason": "malformed"})
            return
        if not await platform.owns_nudge(team_id, user_id, nudge_id):
            gone = not await platform.nudge_exists(nudge_id)
            logger.warning("nudge action refused",
                           extra={"reason": "gone" if gone else "not the owner"})
            if can_respond:
                # A button left on an old message after "forget": the owner's own nudge.
                await respond(text=f"I can't find nudge #{nudge_id} among yours." if gone
                              else "That nudge isn't yours.", response_type="ephemeral",
                              replace_original=False)
            return
        actor = platform.actor(team_id, user_id)
        name = b.NUDGE_ACTIONS[action_id]
        if name == "draft":
            if platform.draft_editor is not None:
                await platform.draft_editor.open_draft(client, body, actor, nudge_id)
            return
        picked = None
        if name == "snooze":
            try:
                picked = date.fromisoformat(str(action.get("selected_date")))
            except ValueError:
                return
        command = c.nudge_button(name, nudge_id, picked)
        if command is None:
            return
        reply = await platform.rapport.execute(actor, command)
        container = body.get("container") or {}
        message = body.get("message") or {}
        # An ephemeral message (the `due` answer) can't be edited: the outcome follows it.
        ephemeral = bool(container.get("is_ephemeral"))
        if reply.ok and container.get("type") == "message" and message.get("blocks") \
                and not ephemeral:
            try:
                await client.chat_update(
                    channel=container["channel_id"], ts=container["message_ts"],
                    text=b.fallback(reply.text),
                    blocks=b.outcome_blocks(message["blocks"], nudge_id, reply.text))
            except SlackApiError as failure:
                logger.info("chat.update failed", extra={"error": failure.response.get("error")})
        elif (ephemeral or not reply.ok) and can_respond:
            await respond(text=b.fallback(reply.text), response_type="ephemeral",
                          replace_original=False)
        await platform.refresh_home(client, team_id, user_id)


def register(platform: SlackPlatform) -> None:
    platform.app.action(re.compile(
        r"^nudge_(done|snooze_1d|snooze_1w|snooze_pick|draft|dismiss)$"))(
        answered_at_ack(NudgeButtons(platform).on_nudge_action))
