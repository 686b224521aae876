"""Proactive DMs: the scheduler's Messenger for Slack (conversations.open + chat.postMessage)."""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack.blocks import outgoing_blocks, to_dicts
from bot.slack.client import make_client
from bot.slack.install import PLATFORM, Installations
from scheduler.messenger import DeliveryResult, OutgoingMessage

logger = logging.getLogger(__name__)

# The user or the whole installation cannot be reached: pause instead of retrying forever.
GONE_ERRORS = frozenset({"invalid_auth", "token_revoked", "account_inactive", "user_not_found",
                         "user_disabled", "not_authed", "team_access_not_granted",
                         "app_uninstalled", "cannot_dm_bot"})
# Slack-side trouble that another attempt may get past.
RETRY_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                          "request_timeout"})


def classify(failure: SlackApiError) -> DeliveryResult:
    """A Web API failure as a delivery outcome."""
    response = failure.response
    error = str(response.get("error") or "unknown")
    status = response.status_code
    if status == 429 or status >= 500 or error in RETRY_ERRORS:
        raw = response.headers.get("Retry-After") or response.headers.get("retry-after")
        try:
            retry_after = float(raw) if raw is not None else None
        except (TypeError, ValueError):
            retry_after = None
        return DeliveryResult.retry(error, retry_after)
    if error in GONE_ERRORS:
        return DeliveryResult.gone(error)
    return DeliveryResult.failed(error)


class SlackMessenger:
    """Sends nudges, digests and summaries as DMs from the bot."""

    platform = PLATFORM

    def __init__(self, *, settings: Settings, installations: Installations) -> None:
        self.settings = settings
        self.installations = installations
        self._clients: dict[str, AsyncWebClient] = {}

    def _client(self, token: str) -> AsyncWebClient:
        # One client per token keeps aiohttp sessions and retry state per workspace.
        client = self._clients.get(token)
        if client is None:
            client = self._clients[token] = make_client(self.settings, token)
        return client

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        """Open the DM and post the message; never raises for Slack's errors."""
        recipient = message.recipient
        try:
            token = await self.installations.bot_token(recipient.workspace_external_id)
        except Exception as failure:  # the store's database may hiccup: try again later
            return DeliveryResult.retry(type(failure).__name__)
        if token is None:
            return DeliveryResult.gone("not_installed")
        client = self._client(token)
        text, blocks = outgoing_blocks(message)
        try:
            opened = await client.conversations_open(users=recipient.user_external_id)
            channel = opened["channel"]["id"]
            posted = await client.chat_postMessage(channel=channel, text=text,
                                                   blocks=to_dicts(blocks), unfurl_links=False)
        except SlackApiError as failure:
            result = classify(failure)
            logger.info("slack delivery not sent", extra={"status": result.status,
                                                          "error": result.error})
            return result
        except (TimeoutError, aiohttp.ClientError) as failure:
            return DeliveryResult.retry(type(failure).__name__)
        return DeliveryResult.sent(f"{channel}:{posted['ts']}")
