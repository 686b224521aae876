"""A suggestion's buttons (accept, keep as it is, stop suggesting this): answer, then show
what happened in place of the buttons."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.core import commands as c
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.acks import answered_at_ack
from rapport.bot.platforms.slack.incoming import row_id
from rapport.bot.platforms.slack.install import PLATFORM
from rapport.bot.platforms.slack.platform import Ack, Respond, SlackPlatform, team_of
from rapport.storage import queries

logger = logging.getLogger(__name__)
# The same answer for someone else's and for one withdrawn since it was shown (disconnecting
# a calendar withdraws its offers): "isn't yours" would be wrong to the person it was for.
NOT_YOURS = ("I can't find that suggestion among yours; it may have been withdrawn "
             "(“/rapport suggestions” lists the open ones).")


@dataclass
class SuggestionButtons:
    platform: SlackPlatform

    async def owns(self, team_id: str, user_id: str, suggestion_id: int) -> bool:
        """True when the suggestion belongs to this Slack user (no rows created to find out)."""
        return await self.platform.rapport.db.run(lambda session: queries.suggestion_owned_by(
            session, suggestion_id, platform=PLATFORM, workspace_external_id=team_id,
            user_external_id=user_id), write=False)

    async def on_action(self, ack: Ack, body: dict[str, Any], action: dict[str, Any],
                        client: AsyncWebClient, respond: Respond,
                        context: dict[str, Any]) -> None:
        await ack()
        team_id, user_id = team_of(body), str(body.get("user", {}).get("id", ""))
        action_id = str(action.get("action_id", ""))
        raw_id = str(action.get("value") or "")
        suggestion_id = row_id(raw_id)
        can_respond = bool(body.get("response_url"))
        if team_id != context.get("team_id") or suggestion_id is None \
                or action_id not in b.SUGGESTION_ACTIONS or len(raw_id) > 12:
            logger.warning("suggestion action refused", extra={"reason": "malformed"})
            return
        if not await self.owns(team_id, user_id, suggestion_id):
            gone = not await self.platform.rapport.db.run(
                lambda session: queries.suggestion_exists(session, suggestion_id), write=False)
            logger.warning("suggestion action refused",
                           extra={"reason": "gone" if gone else "not the owner"})
            if can_respond:
                # A button left on an old summary after "forget": the owner's own suggestion,
                # answered as Teams and the console answer it. Nothing is created either way.
                await respond(text=f"I can't find suggestion {suggestion_id} among yours; it "
                              "may have been withdrawn (“/rapport suggestions” lists the open "
                              "ones)." if gone else NOT_YOURS, response_type="ephemeral",
                              replace_original=False)
            return
        answer = b.SUGGESTION_ACTIONS[action_id]
        command = c.AnswerSuggestion(suggestion_id, answer)
        reply = await self.platform.rapport.execute(self.platform.actor(team_id, user_id),
                                                    command)
        container = body.get("container") or {}
        message = body.get("message") or {}
        if reply.ok and container.get("type") == "message" and message.get("blocks") \
                and not container.get("is_ephemeral"):
            try:
                await client.chat_update(
                    channel=container["channel_id"], ts=container["message_ts"],
                    text=b.fallback(reply.text),
                    blocks=b.outcome_blocks(message["blocks"], suggestion_id, reply.text,
                                            prefix=b.SUGGESTION_BLOCK_PREFIX))
            except SlackApiError as failure:
                logger.info("chat.update failed", extra={"error": failure.response.get("error")})
        elif can_respond:
            # An ephemeral answer (stats, suggestions) can't be edited: the outcome follows it.
            await respond(text=b.fallback(reply.text if reply.ok else f"⚠️ {reply.text}"),
                          response_type="ephemeral", replace_original=False)
        await self.platform.refresh_home(client, team_id, user_id)


def register(platform: SlackPlatform) -> None:
    platform.app.action(re.compile(r"^suggestion_(accept|keep|silence)$"))(
        answered_at_ack(SuggestionButtons(platform).on_action))
