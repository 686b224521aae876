"""`rapport rotate-key` re-encrypts every value stored under RAPPORT_ENCRYPTION_KEY, in one
transaction.

Found by an operator test: it re-encrypted the Slack token tables only. Calendar tokens
(connections.refresh_token_encrypted, access_token_encrypted), the DM capture grants'
user tokens (chat_grants.token_encrypted) and pending consents' PKCE verifiers stayed under
the old key, although docs/security.md says "every stored token": removing the old key
afterwards, as the docs say to, broke every calendar and every DM capture. Now every column
holding `enc1:` values is rotated, all of them or (a value no key opens) none.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import String, insert, inspect, select, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.slack.install import RapportInstallationStore
from rapport.storage import db
from rapport.storage.models import CalendarConnection, ChatGrant, OAuthState, User
from rapport.storage.secrets import PREFIX, Secrets, SecretsError
from tests.bot.processes import clean_env, run_cli, run_cli_in_process
from tests.conftest import console_user, copy_database, truncate_all

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
CLIENT_ID = "1111111111.2222222222"
# What each sealed column holds, in plain text: every one is seeded under OLD_KEY.
PLAINTEXTS = {
    ("slack_installations", "bot_token"): "xoxb-installation-bot",
    ("slack_installations", "user_token"): "xoxp-installation-user",
    ("slack_bots", "bot_token"): "xoxb-installation-bot",
    ("connections", "refresh_token_encrypted"): "1//calendar-refresh",
    ("connections", "access_token_encrypted"): "ya29.calendar-access",
    ("chat_grants", "token_encrypted"): "xoxp-dm-capture-grant",
    ("oauth_states", "code_verifier_encrypted"): "pkce-code-verifier",
}
SLACK_TABLES = ("slack_installations", "slack_bots")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, sqlite_template: Path,
                       tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database: an SQLite file of this test's own, or the test PostgreSQL."""
    if request.param == "sqlite":
        copy_database(sqlite_template, tmp_path / "rapport.db")
        yield f"sqlite+aiosqlite:///{tmp_path / 'rapport.db'}"
        return
    url: str = request.getfixturevalue("postgres_ready")
    engine = db.create_engine(url, pool_size=1)
    try:
        await _empty(engine)
        yield url
        await _empty(engine)  # slack_sdk's tables are not in truncate_all's metadata
    finally:
        await engine.dispose()


async def _empty(engine: AsyncEngine) -> None:
    await truncate_all(engine)
    async with engine.begin() as connection:
        for name in SLACK_TABLES:
            await connection.execute(table(name).delete())


async def _seed(url: str, sealing: dict[tuple[str, str], Secrets]) -> None:
    """A Slack install (bot and user token), a Google calendar connection, a DM capture grant
    and a pending consent, each value sealed with the Secrets `sealing` names for its column
    (OLD_KEY's when not named)."""
    def seal(where: tuple[str, str]) -> str:
        return sealing.get(where, Secrets([OLD_KEY])).encrypt(PLAINTEXTS[where])

    engine = db.create_engine(url)
    try:
        store = RapportInstallationStore(CLIENT_ID, engine, db.session_factory(engine),
                                         secrets=Secrets([OLD_KEY]))
        await store.async_save(Installation(
            app_id="A0ROT", enterprise_id=None, team_id="T0ROT",
            bot_token=PLAINTEXTS["slack_installations", "bot_token"], bot_id="B0ROT",
            bot_user_id="U0BOT", user_id="U0ALEX",
            user_token=PLAINTEXTS["slack_installations", "user_token"]))
        await Rapport(sessions=db.session_factory(engine)).handle_text(console_user(), "help")
        now = datetime.now(UTC)
        async with engine.begin() as connection:
            user_id, workspace_id = (await connection.execute(
                select(User.id, User.workspace_id))).one()
            owner = {"workspace_id": workspace_id, "user_id": user_id}
            await connection.execute(insert(CalendarConnection).values(
                **owner, provider="google", status="active",
                refresh_token_encrypted=seal(("connections", "refresh_token_encrypted")),
                access_token_encrypted=seal(("connections", "access_token_encrypted")),
                failures=0, connected_at=now, updated_at=now))
            await connection.execute(insert(ChatGrant).values(
                **owner, provider="slack", external_user_id="U0ALEX",
                token_encrypted=seal(("chat_grants", "token_encrypted")),
                scopes="im:history", granted_at=now))
            await connection.execute(insert(OAuthState).values(
                **owner, provider="microsoft", state_hash="0" * 64,
                code_verifier_encrypted=seal(("oauth_states", "code_verifier_encrypted")),
                expires_at=now + timedelta(minutes=10), created_at=now))
    finally:
        await engine.dispose()
    if not sealing:
        # Seeded as the test means: every sealed column it names holds an OLD_KEY value.
        assert set(await _sealed_values(url)) == set(PLAINTEXTS)


async def _sealed_values(url: str) -> dict[tuple[str, str], list[str]]:
    """Every `enc1:` value in any text column of any table, by (table, column): not only the
    columns the code knows about."""
    def text_columns(connection: Connection) -> dict[str, list[str]]:
        inspector = inspect(connection)
        return {name: [column["name"] for column in inspector.get_columns(name)
                       if isinstance(column["type"], String)]
                for name in inspector.get_table_names()}

    found: dict[tuple[str, str], list[str]] = {}
    engine = db.create_engine(url)
    try:
        async with engine.connect() as connection:
            columns = await connection.run_sync(text_columns)
            for table_name, names in columns.items():
                for name in names:
                    values = (await connection.scalars(text(
                        f'SELECT "{name}" FROM "{table_name}" WHERE "{name}" LIKE :sealed'),
                        {"sealed": PREFIX + "%"})).all()
                    if values:
                        found[table_name, name] = list(values)
    finally:
        await engine.dispose()
    return found


def _env(tmp_path: Path, url: str, keys: str) -> dict[str, str]:
    return clean_env(tmp_path, RAPPORT_DATABASE_URL=url, RAPPORT_ENCRYPTION_KEY=keys)


def test_rotate_key_reencrypts_calendar_tokens_and_dm_capture_grants_too(
        tmp_path: Path, database_url: str) -> None:
    asyncio.run(_seed(database_url, {}))

    result = run_cli("rotate-key", env=_env(tmp_path, database_url, f"{NEW_KEY},{OLD_KEY}"),
                     cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == \
        "Re-encrypted 5 stored token row(s) with the first key."  # 5 rows, 7 values
    new_only, old_only = Secrets([NEW_KEY]), Secrets([OLD_KEY])
    stored = asyncio.run(_sealed_values(database_url))
    assert set(stored) == set(PLAINTEXTS)
    for where, values in stored.items():
        assert [new_only.decrypt(value) for value in values] == [PLAINTEXTS[where]], where
        for value in values:
            with pytest.raises(SecretsError):
                old_only.decrypt(value)


def test_a_value_no_key_opens_stops_the_rotation_before_anything_changed(
        tmp_path: Path, database_url: str) -> None:
    # One DM capture grant sealed with a key that is not configured (lost, or another
    # deployment's): rotating the rest and stopping there would leave half of them behind.
    lost = Secrets([Fernet.generate_key().decode()])
    asyncio.run(_seed(database_url, {("chat_grants", "token_encrypted"): lost}))
    before = asyncio.run(_sealed_values(database_url))

    result = run_cli_in_process("rotate-key",
                                env=_env(tmp_path, database_url, f"{NEW_KEY},{OLD_KEY}"),
                                cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert "chat_grants.token_encrypted" in line and "none of the configured keys" in line
    assert "nothing was re-encrypted" in line
    assert not any(secret in result.stderr for secret in (*PLAINTEXTS.values(), NEW_KEY,
                                                          OLD_KEY))
    assert asyncio.run(_sealed_values(database_url)) == before
