"""Slack tokens at rest: encrypted by the installation store, plaintext rows encrypted on start,
`rapport rotate-key`, and no OAuth without a key.

What an attacker who reads the database (a dump, a backup, a replica) gets is the question: the
raw rows are checked for any trace of the tokens the fake Slack issued.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from rapport.bot.platforms.registry import installers_for, messengers_for
from rapport.bot.platforms.slack import SLACK_KEY
from rapport.bot.platforms.slack.install import TokenSettingsError
from rapport.bot.service.cli import app as cli
from rapport.bot.service.config import Settings
from rapport.storage import db
from rapport.storage.secrets import Secrets, is_encrypted
from tests.slack.conftest import ENCRYPTION_KEY, HarnessFactory, SlackHarness
from tests.slack.test_install import NEW_TEAM, _install

OAUTH = {"slack_bot_token": None, "slack_client_id": "1111111111.2222222222",
         "slack_client_secret": "fake-client-secret"}


async def _raw_rows(engine: AsyncEngine) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    async with engine.connect() as connection:
        for name in ("slack_installations", "slack_bots"):
            result = await connection.execute(text(f"SELECT * FROM {name}"))
            rows.extend({"table": name, **row} for row in result.mappings())
    return rows


def _issued_tokens(slack: SlackHarness) -> list[str]:
    """Every token the fake Slack handed out through oauth.v2.access."""
    tokens: list[str] = []
    for call in slack.fake.calls_to("oauth.v2.access"):
        response = call.response
        tokens += [response.get("access_token"), (response.get("authed_user") or {})
                   .get("access_token")]
    return [t for t in tokens if t]


async def _works(slack: SlackHarness, user: str) -> None:
    """A command in the installed workspace uses the (decrypted) bot token."""
    slack.fake.add_user(user, name=user.lower(), team_id=NEW_TEAM)
    status, body = await slack.command("add Dana", user=user, team=NEW_TEAM)
    assert status == 200 and "Added Dana" in json.loads(body)["text"]


async def test_an_oauth_install_stores_only_encrypted_tokens(
        make_harness: HarnessFactory) -> None:
    slack = await make_harness(**OAUTH)
    slack.team_id = NEW_TEAM
    await _install(slack)

    issued = _issued_tokens(slack)
    assert len(issued) == 2  # the bot token and Alex's user token
    rows = await _raw_rows(slack.runtime.engine)
    dump = json.dumps(rows, default=str)
    assert rows and not any(token in dump for token in issued)
    assert "xox" not in dump
    for row in rows:
        assert is_encrypted(row["bot_token"])
    secrets = Secrets([ENCRYPTION_KEY])
    assert {secrets.decrypt(r["bot_token"]) for r in rows} == {issued[0]}

    await _works(slack, "U0NEWBIE")
    assert all(call.token in issued for call in slack.fake.calls if call.token)
    store = slack.extra["app"][SLACK_KEY].installations.store
    mine = await store.async_find_installation(enterprise_id=None, team_id=NEW_TEAM,
                                               user_id="U0ALEX")
    assert mine is not None and mine.user_token == issued[1]


async def test_oauth_without_a_key_refuses_to_start(make_harness: HarnessFactory) -> None:
    with pytest.raises(TokenSettingsError, match="RAPPORT_ENCRYPTION_KEY"):
        await make_harness(**OAUTH, encryption_key=None)
    with pytest.raises(TokenSettingsError, match="Fernet keys"):
        await make_harness(**OAUTH, encryption_key="too-short-to-be-a-key")
    # The single-workspace token lives in the environment, not the database: no key needed.
    assert installers_for(Settings(slack_signing_secret="s", slack_bot_token="xoxb-1"))


async def test_plaintext_rows_are_encrypted_when_a_key_is_set(
        make_harness: HarnessFactory, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        plain = await make_harness(**OAUTH, encryption_key=None, allow_plaintext_tokens=True)
    assert any("plain text" in r.getMessage() for r in caplog.records)
    plain.team_id = NEW_TEAM
    await _install(plain)
    issued = _issued_tokens(plain)
    assert issued[0] in json.dumps(await _raw_rows(plain.runtime.engine), default=str)

    # The next start with a key encrypts what is there (the migration could not: no key).
    keyed = await make_harness(**OAUTH)
    rows = await _raw_rows(keyed.runtime.engine)
    assert not any(t in json.dumps(rows, default=str) for t in issued)
    assert all(is_encrypted(r["bot_token"]) for r in rows)
    keyed.team_id = NEW_TEAM
    await _works(keyed, "U0LATER")
    messenger = next(m for m in await messengers_for(keyed.runtime) if m.platform == "slack")
    assert await messenger.installations.bot_token(NEW_TEAM) == issued[0]  # type: ignore[attr-defined]


def test_rotate_key_reencrypts_every_row_with_the_new_key(
        tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "rotate.db"
    shutil.copy(sqlite_template, target)
    url = f"sqlite+aiosqlite:///{target}"
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored_old = Secrets([old]).encrypt("xoxb-rotate-me")

    async def seed() -> None:
        engine = db.create_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO slack_bots (client_id, app_id, team_id, bot_token, "
                "is_enterprise_install, installed_at) VALUES ('c', 'A', 'T1', :old, 0, "
                "'2026-11-23 10:00:00'), ('c', 'A', 'T2', 'xoxb-plain', 0, "
                "'2026-11-23 10:00:00')"), {"old": stored_old})
        await engine.dispose()

    async def tokens() -> list[str]:
        engine = db.create_engine(url)
        async with engine.connect() as connection:
            found = list((await connection.scalars(text(
                "SELECT bot_token FROM slack_bots ORDER BY team_id"))).all())
        await engine.dispose()
        return found

    asyncio.run(seed())
    monkeypatch.setenv("RAPPORT_DATABASE_URL", url)
    runner = CliRunner()
    monkeypatch.delenv("RAPPORT_ENCRYPTION_KEY", raising=False)
    refused = runner.invoke(cli, ["rotate-key"])
    assert refused.exit_code == 2 and "RAPPORT_ENCRYPTION_KEY" in refused.output
    assert asyncio.run(tokens()) == [stored_old, "xoxb-plain"]

    monkeypatch.setenv("RAPPORT_ENCRYPTION_KEY", new)  # the old key forgotten too early
    result = runner.invoke(cli, ["rotate-key"])
    assert result.exit_code == 2 and "none of the configured keys" in result.output

    monkeypatch.setenv("RAPPORT_ENCRYPTION_KEY", f"{new},{old}")
    result = runner.invoke(cli, ["rotate-key"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 2" in result.output
    new_only = Secrets([new])
    assert [new_only.decrypt(t) for t in asyncio.run(tokens())] == ["xoxb-rotate-me",
                                                                    "xoxb-plain"]
