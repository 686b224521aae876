"""App Home: built from the core's HomeView when the tab opens, refreshed after changes."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.platform import SlackPlatform, team_of

logger = logging.getLogger(__name__)


@dataclass
class HomeTab:
    platform: SlackPlatform
    # Seconds a refresh waits after a change, collecting further changes.
    refresh_delay: float = 1.0
    # Users whose Home is being republished -> "changed again meanwhile" (see refresh).
    _refreshing: dict[tuple[str, str], bool] = field(default_factory=dict)

    async def publish(self, client: AsyncWebClient, team_id: str, user_id: str) -> None:
        """views.publish the user's Home tab with current data."""
        view = await self.platform.rapport.home(self.platform.actor(team_id, user_id))
        if view is None:
            return  # the database is away; the tab keeps what it showed
        await client.views_publish(user_id=user_id, view=b.home_view(b.home_content(view)))

    async def refresh(self, client: AsyncWebClient, team_id: str, user_id: str, *,
                      delay: float | None = None) -> None:
        """Republish Home after a change; a failure here never undoes the change."""
        key = (team_id, user_id)
        if key in self._refreshing:
            # Coalesce: one publish is pending or running; it runs once more after it
            # finishes, so a burst of commands costs one or two Home builds, not one each.
            self._refreshing[key] = True
            return
        self._refreshing[key] = False
        try:
            while True:
                # Wait a moment first: building Home right away for every command would
                # compete with the commands for the database (bench/slash_command.py).
                await asyncio.sleep(self.refresh_delay if delay is None else delay)
                self._refreshing[key] = False
                try:
                    await self.publish(client, team_id, user_id)
                except SlackApiError as failure:
                    logger.info("home refresh failed",
                                extra={"error": failure.response.get("error")})
                except Exception as failure:
                    logger.warning("home refresh failed", extra={"error": type(failure).__name__})
                if not self._refreshing.get(key):
                    break
                self._refreshing[key] = False
        finally:
            self._refreshing.pop(key, None)

    async def on_home_opened(self, event: dict[str, Any], body: dict[str, Any],
                             client: AsyncWebClient) -> None:
        """Publish Home whenever the user opens it."""
        if event.get("tab", "home") != "home":
            return
        team_id, user_id = team_of(body), str(event.get("user", ""))
        await self.platform.warm_profile(client, team_id, user_id)
        await self.refresh(client, team_id, user_id, delay=0)


def register(platform: SlackPlatform) -> None:
    tab = HomeTab(platform)
    platform.home = tab
    platform.app.event("app_home_opened")(tab.on_home_opened)
