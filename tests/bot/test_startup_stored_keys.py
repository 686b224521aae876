"""A RAPPORT_ENCRYPTION_KEY that cannot read the tokens already stored stops the start.

Found by an operator test: a workspace installed with key K1, the server restarted with K2
only. It started, /readyz said ready, and every Slack request of that workspace got HTTP 500
with only `"slack listener failed" ... "error": "SecretsError"` in the log. Now the start reads
the newest stored token of each kind this process uses and refuses, in one line naming the
setting and the fix, when none of the configured keys decrypts it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import insert, select

from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.slack.install import RapportInstallationStore
from rapport.bot.service.config import Settings
from rapport.bot.service.startup import StartupError, check_stored_secrets
from rapport.storage import db
from rapport.storage.models import CalendarConnection, User
from rapport.storage.secrets import Secrets
from rapport.storage.uow import close_database
from tests.bot.processes import clean_env, free_port, run_cli
from tests.conftest import console_user

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
BOT_TOKEN = "xoxb-0000-stored-with-the-old-key"
REFRESH_TOKEN = "1//calendar-refresh-token-stored-with-the-old-key"
CLIENT_SECRET = "oauth-client-secret-value"
OAUTH_ENV = {"SLACK_CLIENT_ID": "1111111111.2222222222", "SLACK_CLIENT_SECRET": CLIENT_SECRET,
             "SLACK_SIGNING_SECRET": "signing-secret-value"}
CALENDARS = {"public_url": "https://bot.example.com", "google_client_id": "google-id",
             "google_client_secret": "google-secret"}
SECRETS = (OLD_KEY, NEW_KEY, BOT_TOKEN, REFRESH_TOKEN, CLIENT_SECRET)
# Real processes, so that a start that does not stop (the defect) fails after this hang guard
# instead of running on.
HANG_GUARD_SECONDS = 60


async def _install_slack(url: str, key: str) -> None:
    """A migrated database with one workspace installed through OAuth under `key`."""
    engine = db.create_engine(url)
    try:
        await db.upgrade(engine)
        store = RapportInstallationStore(OAUTH_ENV["SLACK_CLIENT_ID"], engine,
                                         db.session_factory(engine), secrets=Secrets([key]))
        await store.async_save(Installation(
            app_id="A0OPS", enterprise_id=None, team_id="T0OPS", bot_token=BOT_TOKEN,
            bot_id="B0OPS", bot_user_id="U0BOT", user_id="U0ADMIN"))
    finally:
        await close_database(engine)


async def _connect_calendar(url: str, key: str) -> None:
    """One user's Google calendar connected under `key` (the database exists)."""
    engine = db.create_engine(url)
    try:
        sessions = db.session_factory(engine)
        await Rapport(sessions=sessions).handle_text(console_user(), "help")
        now = datetime.now(UTC)
        async with engine.begin() as connection:
            user_id, workspace_id = (await connection.execute(
                select(User.id, User.workspace_id))).one()
            await connection.execute(insert(CalendarConnection).values(
                workspace_id=workspace_id, user_id=user_id, provider="google",
                status="active", refresh_token_encrypted=Secrets([key]).encrypt(REFRESH_TOKEN),
                failures=0, connected_at=now, updated_at=now))
    finally:
        await close_database(engine)


def _database(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'rapport.db'}"


def _assert_refused(result: Any, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    line = result.stderr.splitlines()[-1]
    assert line.startswith("Cannot start: RAPPORT_ENCRYPTION_KEY cannot decrypt the "), line
    for word in ("comma-separated", "RAPPORT_ENCRYPTION_KEY=new,old", *words):
        assert word in line, line
    for secret in SECRETS:
        assert secret not in result.stderr and secret not in result.stdout


def test_serve_with_a_key_that_cannot_read_the_slack_tokens_stops_with_one_line(
        tmp_path: Path) -> None:
    url = _database(tmp_path)
    asyncio.run(_install_slack(url, OLD_KEY))
    result = run_cli("serve", "--no-console", env=clean_env(
        tmp_path, RAPPORT_DATABASE_URL=url, RAPPORT_ENCRYPTION_KEY=NEW_KEY,
        RAPPORT_PORT=str(free_port()), RAPPORT_LOG_FORMAT="json", **OAUTH_ENV), cwd=tmp_path,
        timeout=HANG_GUARD_SECONDS)
    _assert_refused(result, "Slack tokens")


def test_a_worker_with_that_key_stops_too(tmp_path: Path) -> None:
    url = _database(tmp_path)
    asyncio.run(_install_slack(url, OLD_KEY))
    result = run_cli("worker", env=clean_env(
        tmp_path, RAPPORT_DATABASE_URL=url, RAPPORT_ENCRYPTION_KEY=NEW_KEY, **OAUTH_ENV),
        cwd=tmp_path, timeout=HANG_GUARD_SECONDS)
    _assert_refused(result, "Slack tokens")


async def test_the_old_key_after_the_new_one_reads_them(tmp_path: Path) -> None:
    url = _database(tmp_path)
    await _install_slack(url, OLD_KEY)
    engine = db.create_engine(url)
    oauth = {"slack_client_id": OAUTH_ENV["SLACK_CLIENT_ID"],
             "slack_client_secret": CLIENT_SECRET}
    try:
        await check_stored_secrets(engine, Settings.model_validate(
            {**oauth, "encryption_key": f"{NEW_KEY},{OLD_KEY}"}), platforms=True)
        # Tokens this process does not read never stop it: single-workspace Slack, or a
        # command without the chat platforms.
        await check_stored_secrets(engine, Settings.model_validate(
            {"slack_bot_token": "xoxb-env", "encryption_key": NEW_KEY}), platforms=True)
        await check_stored_secrets(engine, Settings.model_validate(
            {**oauth, "encryption_key": NEW_KEY}), platforms=False)
        with pytest.raises(StartupError, match="cannot decrypt the Slack tokens"):
            await check_stored_secrets(engine, Settings.model_validate(
                {**oauth, "encryption_key": NEW_KEY}), platforms=True)
        # Development mode without a key cannot read them either.
        with pytest.raises(StartupError, match="encrypted with RAPPORT_ENCRYPTION_KEY, which "
                                               "is not set"):
            await check_stored_secrets(engine, Settings.model_validate(
                {**oauth, "allow_plaintext_tokens": True}), platforms=True)
    finally:
        await close_database(engine)


async def test_calendar_tokens_are_checked_when_calendars_are_on(tmp_path: Path) -> None:
    url = _database(tmp_path)
    engine = db.create_engine(url)
    await db.upgrade(engine)
    await close_database(engine)
    await _connect_calendar(url, OLD_KEY)
    engine = db.create_engine(url)
    try:
        with pytest.raises(StartupError) as refused:
            await check_stored_secrets(engine, Settings.model_validate(
                {**CALENDARS, "encryption_key": NEW_KEY}), platforms=False)
        assert "cannot decrypt the calendar tokens" in str(refused.value)
        assert not any(secret in str(refused.value) for secret in SECRETS)
        await check_stored_secrets(engine, Settings.model_validate(
            {**CALENDARS, "encryption_key": f"{NEW_KEY},{OLD_KEY}"}), platforms=False)
        # Calendars off: their tokens are not read, and do not stop the start.
        await check_stored_secrets(engine, Settings.model_validate(
            {"encryption_key": NEW_KEY}), platforms=False)
    finally:
        await close_database(engine)


async def test_a_new_database_has_nothing_to_check(tmp_path: Path) -> None:
    url = _database(tmp_path)
    engine = db.create_engine(url)
    try:
        await db.upgrade(engine)
        await check_stored_secrets(engine, Settings.model_validate(
            {"slack_client_id": "1.2", "slack_client_secret": "s", "encryption_key": NEW_KEY,
             **CALENDARS}), platforms=True)
    finally:
        await close_database(engine)
