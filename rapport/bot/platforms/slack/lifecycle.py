"""The app's life in a workspace: uninstalled, tokens revoked."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from rapport.bot.platforms.slack.acks import answered_at_ack
from rapport.bot.platforms.slack.install import PLATFORM, set_workspace_active
from rapport.bot.platforms.slack.platform import SlackPlatform, team_of

logger = logging.getLogger(__name__)


@dataclass
class Lifecycle:
    platform: SlackPlatform

    async def on_uninstalled(self, body: dict[str, Any]) -> None:
        """app_uninstalled: drop every token and stop deliveries to the workspace."""
        platform = self.platform
        team_id = team_of(body)
        # Stop deliveries first, so a sweep in between never meets a workspace without tokens.
        await set_workspace_active(platform.runtime.sessions, team_id, False)
        await platform.installations.remove(team_id)
        if platform.dm_capture is not None:  # Slack revoked every user token with the app
            await platform.dm_capture.drop_revoked(team_id)
        platform.rapport.forget_cached(PLATFORM, team_id)
        logger.warning("slack app uninstalled", extra={"team_id": team_id})

    async def on_tokens_revoked(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """tokens_revoked: drop revoked user tokens; a revoked bot token stops deliveries."""
        platform = self.platform
        team_id = team_of(body)
        tokens = event.get("tokens") or {}
        users = tuple(str(u) for u in tokens.get("oauth") or ())
        bot_revoked = bool(tokens.get("bot"))
        if bot_revoked:
            await set_workspace_active(platform.runtime.sessions, team_id, False)
            platform.rapport.forget_cached(PLATFORM, team_id)
        await platform.installations.remove(team_id, user_ids=users, bot=bot_revoked)
        if platform.dm_capture is not None and users:
            # A person removed Rapport's access in Slack: DM capture stops with it.
            await platform.dm_capture.drop_revoked(team_id, users)
        logger.warning("slack tokens revoked", extra={"team_id": team_id, "users": len(users),
                                                      "bot": bot_revoked})


def register(platform: SlackPlatform) -> None:
    lifecycle = Lifecycle(platform)
    platform.app.event("app_uninstalled")(answered_at_ack(lifecycle.on_uninstalled))
    platform.app.event("tokens_revoked")(answered_at_ack(lifecycle.on_tokens_revoked))
