"""Installations: OAuth stores in Rapport's database (tokens encrypted), bot-token lookup,
uninstall."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import (
    AsyncSQLAlchemyInstallationStore,
    SQLAlchemyInstallationStore,
)
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import desc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rapport.bot.service.config import Settings
from rapport.scheduler.planner import utcnow
from rapport.storage import queries
from rapport.storage.secrets import Secrets, SecretsError, encrypt_columns, is_encrypted
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
# The secrets in slack_sdk's tables; encrypted with RAPPORT_ENCRYPTION_KEY (storage/secrets.py).
INSTALLATION_TOKENS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
BOT_TOKENS = ("bot_token", "bot_refresh_token")
TOKEN_COLUMNS = {"slack_installations": INSTALLATION_TOKENS, "slack_bots": BOT_TOKENS}
_Stored = TypeVar("_Stored", Installation, Bot)


class TokenSettingsError(RuntimeError):
    """OAuth would store tokens in plain text; the message says what to set."""


def token_secrets(settings: Settings) -> Secrets | None:
    """The keys for Slack tokens at rest, or None; refuses OAuth without a key unless
    RAPPORT_ALLOW_PLAINTEXT_TOKENS=true (development)."""
    try:
        secrets = Secrets.from_setting(settings.encryption_key)
    except SecretsError as problem:
        raise TokenSettingsError(str(problem)) from problem
    oauth = bool(settings.slack_client_id and settings.slack_client_secret)
    if secrets is None and oauth and not settings.allow_plaintext_tokens:
        raise TokenSettingsError(
            "Slack OAuth stores every workspace's tokens: set RAPPORT_ENCRYPTION_KEY to encrypt "
            "them (see docs/security.md), or RAPPORT_ALLOW_PLAINTEXT_TOKENS=true for "
            "development only.")
    if secrets is None and oauth:
        logger.warning("slack tokens stored in plain text (RAPPORT_ALLOW_PLAINTEXT_TOKENS)")
    return secrets


async def set_workspace_active(sessions: async_sessionmaker[AsyncSession], team_id: str,
                               active: bool, *, now: datetime | None = None) -> None:
    """Start or stop deliveries to a Slack workspace (install, uninstall).

    Stopping (app_uninstalled, the bot token revoked) also starts the grace period after which
    the scheduler purges the workspace's data (scheduler/lifecycle.py); the first moment is
    kept when it stops twice. Starting again (a reinstall) cancels the purge.
    """
    moment = now or utcnow()
    await Database(sessions).run(lambda session: queries.set_workspace_active(
        session, PLATFORM, team_id, active, moment))


class RapportInstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's SQLAlchemy store with its token columns encrypted; a (re)install also
    resumes the workspace's deliveries."""

    def __init__(self, client_id: str, engine: AsyncEngine,
                 sessions: async_sessionmaker[AsyncSession], *,
                 secrets: Secrets | None = None) -> None:
        super().__init__(client_id=client_id, engine=engine, logger=logger)
        self.sessions = sessions
        self.secrets = secrets

    def _sealed(self, stored: _Stored, names: tuple[str, ...]) -> _Stored:
        """A copy with the token fields encrypted (values already encrypted are kept)."""
        if self.secrets is None:
            return stored
        sealed = copy.copy(stored)
        for name in names:
            value = getattr(sealed, name, None)
            if isinstance(value, str) and value and not is_encrypted(value):
                setattr(sealed, name, self.secrets.encrypt(value))
        return sealed

    def _opened(self, stored: _Stored | None, names: tuple[str, ...]) -> _Stored | None:
        """A copy with the token fields decrypted (plaintext rows pass through)."""
        if stored is None:
            return None
        opened = copy.copy(stored)
        for name in names:
            value = getattr(opened, name, None)
            if isinstance(value, str) and is_encrypted(value):
                if self.secrets is None:
                    raise TokenSettingsError("Slack tokens are stored encrypted but "
                                             "RAPPORT_ENCRYPTION_KEY is not set.")
                setattr(opened, name, self.secrets.decrypt(value))
        return opened

    async def async_save(self, installation: Installation) -> None:
        # super() saves the installation's bot through async_save_bot below as well.
        await super().async_save(self._sealed(installation, INSTALLATION_TOKENS))
        if installation.team_id:
            await set_workspace_active(self.sessions, installation.team_id, True)
        logger.info("slack installation saved", extra={"team_id": installation.team_id})

    async def async_save_bot(self, bot: Bot) -> None:
        await super().async_save_bot(self._sealed(bot, BOT_TOKENS))

    # Bolt authorizes a request by its org and workspace. A workspace that moved into an
    # Enterprise Grid org after installing sends its org's id while its rows name none, so
    # slack_sdk's exact match finds nothing: a workspace-level lookup that misses is asked
    # again for that same workspace's own installation without an org. Never an org-wide
    # install (its rows have no team) and never another workspace's rows.
    @staticmethod
    def _joined_an_org_later(enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None) -> bool:
        return bool(enterprise_id and team_id and not is_enterprise_install)

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        found = await super().async_find_bot(
            enterprise_id=enterprise_id, team_id=team_id,
            is_enterprise_install=is_enterprise_install)
        if found is None and self._joined_an_org_later(enterprise_id, team_id,
                                                       is_enterprise_install):
            found = await super().async_find_bot(enterprise_id=None, team_id=team_id,
                                                 is_enterprise_install=False)
        return self._opened(found, BOT_TOKENS)

    async def async_find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                      user_id: str | None = None,
                                      is_enterprise_install: bool | None = False
                                      ) -> Installation | None:
        found = await super().async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
            is_enterprise_install=is_enterprise_install)
        if found is None and self._joined_an_org_later(enterprise_id, team_id,
                                                       is_enterprise_install):
            found = await super().async_find_installation(
                enterprise_id=None, team_id=team_id, user_id=user_id,
                is_enterprise_install=False)
        return self._opened(found, INSTALLATION_TOKENS)

    # Rapport knows a workspace by its team id alone (deliveries, the draft editor), while
    # slack_sdk's finders match the enterprise id exactly (`IS NULL` when given None), so a
    # workspace of an Enterprise Grid org, saved with its org's id, would never be found.
    # Slack's team ids are unique across orgs: these find a workspace's rows whatever its org.
    async def async_find_team_bot(self, team_id: str) -> Bot | None:
        """The latest bot token of the workspace `team_id`, in a Grid org or not."""
        c = self.bots.c
        query = (self.bots.select()
                 .where(c.client_id == self.client_id, c.team_id == team_id,
                        c.bot_token.is_not(None))
                 .order_by(desc(c.installed_at)).limit(1))
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        if row is None:
            return None
        return self._opened(SQLAlchemyInstallationStore.build_bot_entity(row), BOT_TOKENS)

    async def async_find_team_user(self, team_id: str, user_id: str) -> Installation | None:
        """The latest installation `user_id` made in the workspace `team_id` (their own
        user token, when they granted the user scopes), in a Grid org or not."""
        c = self.installations.c
        query = (self.installations.select()
                 .where(c.client_id == self.client_id, c.team_id == team_id,
                        c.user_id == user_id)
                 .order_by(desc(c.installed_at)).limit(1))
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        if row is None:
            return None
        return self._opened(SQLAlchemyInstallationStore.build_installation_entity(row),
                            INSTALLATION_TOKENS)

    async def async_delete_team_rows(self, team_id: str, *,
                                     user_ids: tuple[str, ...] | None = None) -> None:
        """Delete the workspace's installations of `user_ids`, or (None) all its installations
        and bots, whatever org the rows name: a workspace that joined a Grid org after it
        installed the app has rows without the org id its events now carry."""
        async with self.engine.begin() as connection:
            installations = self.installations.c
            where = [installations.client_id == self.client_id,
                     installations.team_id == team_id]
            if user_ids is not None:
                where.append(installations.user_id.in_(user_ids))
            await connection.execute(self.installations.delete().where(*where))
            if user_ids is None:
                bots = self.bots.c
                await connection.execute(self.bots.delete().where(
                    bots.client_id == self.client_id, bots.team_id == team_id))

    async def seal_plaintext_tokens(self) -> int:
        """Encrypt token rows written before a key was configured; returns how many."""
        if self.secrets is None:
            return 0
        report = await encrypt_columns(self.engine, self.secrets, TOKEN_COLUMNS, rotate=False)
        return report.total


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
        bot = await self.store.async_find_team_bot(team_id)
        return bot.bot_token if bot is not None else None

    async def user_token(self, team_id: str, user_id: str) -> str | None:
        """The user's own token when they granted the optional user scopes, else None."""
        if self.store is None:
            return None
        installation = await self.store.async_find_team_user(team_id, user_id)
        # Never another person's token (the lookup is by user; checked all the same).
        if installation is None or installation.user_id != user_id:
            return None
        return installation.user_token

    async def remove(self, team_id: str, *, user_ids: tuple[str, ...] = (),
                     bot: bool = True) -> None:
        """Forget tokens after app_uninstalled / tokens_revoked: `user_ids`' own installations,
        and with `bot` every installation of the workspace."""
        if self.store is None:
            return
        if user_ids:
            await self.store.async_delete_team_rows(team_id, user_ids=user_ids)
        if bot:
            await self.store.async_delete_team_rows(team_id)


async def delete_team_tokens(engine: AsyncEngine, team_id: str) -> int:
    """Delete the slack_sdk installation and bot rows of a team (OAuth mode); how many
    installations there were. `rapport purge-workspace` and `admin purge` call it."""
    from sqlalchemy import column, delete, table

    deleted = 0
    async with engine.begin() as connection:
        for name in TOKEN_COLUMNS:
            rows = table(name, column("team_id"))
            result = await connection.execute(delete(rows).where(rows.c.team_id == team_id))
            deleted += int(result.rowcount or 0) if name == "slack_installations" else 0
    return deleted


@dataclass(frozen=True, slots=True)
class SlackTokens:
    """The core's `WorkspaceTokens` for Slack: the OAuth installations of a team."""

    engine: AsyncEngine

    async def delete(self, workspace_external_id: str) -> int:
        return await delete_team_tokens(self.engine, workspace_external_id)


def build_installations(settings: Settings, engine: AsyncEngine,
                        sessions: async_sessionmaker[AsyncSession]) -> Installations:
    """OAuth stores when SLACK_CLIENT_ID/SECRET are set, else the single bot token."""
    secrets = token_secrets(settings)
    if settings.slack_client_id and settings.slack_client_secret:
        # Tables come from the 0002_slack_oauth migration, not create_tables().
        return Installations(
            settings=settings,
            store=RapportInstallationStore(settings.slack_client_id, engine, sessions,
                                           secrets=secrets),
            state_store=AsyncSQLAlchemyOAuthStateStore(
                expiration_seconds=OAUTH_STATE_SECONDS, engine=engine, logger=logger))
    return Installations(settings=settings)
