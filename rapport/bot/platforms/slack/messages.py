"""The bot's Messages tab: commands typed there work as `/rapport` does, answered in the same
DM; the first time someone opens the Messages tab or App Home, or writes, a short welcome.
Someone Rapport keeps no rows for who opens the Messages tab gets the welcome only they see,
and nothing is stored until they write."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.core.views import Reply
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.acks import answered_at_ack
from rapport.bot.platforms.slack.dm_capture import delivered_for_user
from rapport.bot.platforms.slack.imports import HOW_TO_IMPORT, is_import_command
from rapport.bot.platforms.slack.incoming import plain_text
from rapport.bot.platforms.slack.platform import SlackPlatform, team_of

logger = logging.getLogger(__name__)


@dataclass
class DirectMessages:
    platform: SlackPlatform

    async def post(self, client: AsyncWebClient, channel: str, reply: Reply) -> None:
        """The reply in the DM, as pages of blocks, every one of them: chat.postMessage has
        no response_url's cap (files go up as files)."""
        rendered = b.reply_pages(reply)
        await self.platform.post_pages_to_dm(client, "", rendered.text, rendered.pages,
                                             channel=channel)

    async def welcome(self, client: AsyncWebClient, team_id: str, user_id: str,
                      channel: str | None = None) -> None:
        """Post the welcome once per person (the core remembers who had it)."""
        text = await self.platform.rapport.welcome(self.platform.actor(team_id, user_id))
        if text is None:
            return
        try:
            if channel is None:
                opened = await client.conversations_open(users=user_id)
                channel = str(opened["channel"]["id"])
            await client.chat_postMessage(channel=channel, text=b.fallback(text),
                                          blocks=b.to_dicts(b.text_sections(text)))
        except SlackApiError as failure:
            logger.info("welcome failed", extra={"error": failure.response.get("error")})

    async def greet(self, client: AsyncWebClient, channel: str, user_id: str) -> None:
        """The Messages tab opened by someone Rapport keeps no rows for: a welcome only they
        see (chat.postEphemeral), nothing stored and nothing looked up, so after "forget me"
        opening the tab brings nothing back; their first command or message enrols them."""
        if not channel:
            return
        text = b.MESSAGES_TAB_GREETING
        try:
            await client.chat_postEphemeral(channel=channel, user=user_id,
                                            text=b.fallback(text),
                                            blocks=b.to_dicts(b.text_sections(text)))
        except SlackApiError as failure:
            logger.info("greeting failed", extra={"error": failure.response.get("error")})
        except (ClientError, TimeoutError) as failure:
            logger.warning("greeting failed", extra={"error": type(failure).__name__})

    async def on_message(self, event: dict[str, Any], body: dict[str, Any],
                         client: AsyncWebClient, context: dict[str, Any]) -> None:
        """A message in the DM with the bot: welcome the first time, then run it. A DM that
        Slack sent for a person's own token (Slack DM capture) is only looked at for who and
        when, and never run as a command unless it is the DM with the bot."""
        team_id, user_id = team_of(body), str(event.get("user") or "")
        channel = str(event.get("channel") or "")
        if event.get("channel_type") == "im" and delivered_for_user(body):
            capture = self.platform.dm_capture
            if capture is None or not await capture.on_message(
                    event, body, context.get("bot_user_id")):
                return
        if (event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id")
                or not user_id or not channel or team_id != context.get("team_id")):
            # Edits, deletions, bots and other conversations are none of Rapport's business.
            return
        platform = self.platform
        # Before the welcome, which starts a newcomer's rows: in their zone, not UTC.
        await platform.profile_of_newcomer(client, team_id, user_id)
        await self.welcome(client, team_id, user_id, channel)
        text = plain_text(str(event.get("text") or "")).strip()
        if not text:
            return
        directory = platform.directory(client, team_id)
        reply = Reply(HOW_TO_IMPORT) if is_import_command(text) \
            else await platform.rapport.handle_text(
                platform.actor(team_id, user_id), text, directory=directory, admins=directory)
        if reply.attachment is not None and reply.ok and await platform.upload(
                client, user_id, reply.text, reply.attachment):
            return
        await self.post(client, channel, reply)
        if reply.changed:
            # After a forget, Home must not show them a moment longer (docs/data.md).
            await platform.refresh_home(client, team_id, user_id, at_once=reply.erased)
        await platform.warm_profile(client, team_id, user_id)


def register(platform: SlackPlatform) -> DirectMessages:
    """After every other message listener: Bolt runs the first one that matches."""
    messages = DirectMessages(platform)
    platform.direct_messages = messages
    platform.app.event("message")(answered_at_ack(messages.on_message))
    return messages
