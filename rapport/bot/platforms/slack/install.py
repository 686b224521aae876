"""Installations: OAuth stores in Rapport's database, bot-token lookup, uninstall."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rapport.bot.service.config import Settings
from rapport.storage import queries
from rapport.storage.uow import Database

logger = logging.getLogger(__name__)

PLATFORM = "slack"
OAUTH_STATE_SECONDS = 600
# The smallest set that works (app_manifest.yml lists the same).
# files:read + im:history: contacts imported from a CSV/vCard uploaded in the DM with the bot.
BOT_SCOPES = ("commands", "chat:write", "im:write", "users:read", "files:write", "files:read",
              "im:history")
# Optional: lets a user post their edited draft as themselves, in their DM with the contact
# (conversations.open needs im:write, chat.postMessage needs chat:write).
USER_SCOPES = ("chat:write", "im:write")


async def set_workspace_active(sessions: async_sessionmaker[AsyncSession], team_id: str,
                               active: bool) -> None:
    """Start or stop deliveries to a Slack workspace (install, uninstall)."""
    await Database(sessions).run(lambda session: queries.set_workspace_active(
        session, PLATFORM, team_id, active))


class RapportInstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's SQLAlchemy store; a (re)install also resumes the workspace's deliveries."""

    def __init__(self, client_id: str, engine: AsyncEngine,
                 sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(client_id=client_id, engine=engine, logger=logger)
        self.sessions = sessions

    async def async_save(self, installation: Installation) -> None:
        await super().async_save(installation)
        if installation.team_id:
            await set_workspace_active(self.sessions, installation.team_id, True)
        logger.info("slack installation saved", extra={"team_id": installation.team_id})


@dataclass
class Installations:
    """Where bot tokens come from: one env token, or the OAuth installation store."""

    settings: Settings
    store: RapportInstallationStore | None = None
    state_store: AsyncSQLAlchemyOAuthStateStore | None = None

    @property
    def oauth(self) -> bool:
        return self.store is not None

    async def bot_token(self, team_id: str) -> str | None:
        """The bot token for `team_id`, or None when the app is not installed there."""
        if self.store is None:
            return self.settings.slack_bot_token
        bot = await self.store.async_find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot is not None else None

    async def user_token(self, team_id: str, user_id: str) -> str | None:
        """The user's own token when they granted the optional user scopes, else None."""
        if self.store is None:
            return None
        installation = await self.store.async_find_installation(
            enterprise_id=None, team_id=team_id, user_id=user_id)
        # Never another person's token: the store falls back to the latest row of the team.
        if installation is None or installation.user_id != user_id:
            return None
        return installation.user_token

    async def remove(self, team_id: str, *, enterprise_id: str | None = None,
                     user_ids: tuple[str, ...] = (), bot: bool = True) -> None:
        """Forget tokens after app_uninstalled / tokens_revoked."""
        if self.store is None:
            return
        for user_id in user_ids:
            await self.store.async_delete_installation(enterprise_id=enterprise_id,
                                                       team_id=team_id, user_id=user_id)
        if bot:
            await self.store.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)


def build_installations(settings: Settings, engine: AsyncEngine,
                        sessions: async_sessionmaker[AsyncSession]) -> Installations:
    """OAuth stores when SLACK_CLIENT_ID/SECRET are set, else the single bot token."""
    if settings.slack_client_id and settings.slack_client_secret:
        # Tables come from the 0002_slack_oauth migration, not create_tables().
        return Installations(
            settings=settings,
            store=RapportInstallationStore(settings.slack_client_id, engine, sessions),
            state_store=AsyncSQLAlchemyOAuthStateStore(
                expiration_seconds=OAUTH_STATE_SECONDS, engine=engine, logger=logger))
    return Installations(settings=settings)
