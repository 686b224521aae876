"""`rapport purge-workspace` revokes the workspace's calendar grants at the providers before it
deletes the rows holding them, as `admin purge` does; other workspaces' grants stay live."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from rapport.bot.core.context import Actor
from rapport.bot.service.cli import app as cli
from rapport.storage.models import Base, CalendarConnection
from rapport.storage.secrets import Secrets
from tests.connectors.helpers import connected
from tests.fakes import google_api
from tests.fakes.calendar_fixtures import CalendarApp

# The CLI's runtime decrypts the stored tokens with RAPPORT_ENCRYPTION_KEY.
ENCRYPTION_KEY = Fernet.generate_key().decode()
SLACK_ALEX = Actor(platform="slack", workspace_external_id="T123", user_external_id="U1")


@pytest.fixture
def fernet() -> Secrets:
    """The cipher calendar_app seals the tokens with: the one the CLI is given."""
    cipher = Secrets.from_setting(ENCRYPTION_KEY)
    assert cipher is not None
    return cipher


async def _refresh_tokens(app: CalendarApp, workspace_id: int) -> list[str]:
    """The refresh tokens the workspace's connections hold, as Google issued them."""
    async with app.runtime.sessions() as session:
        sealed = list(await session.scalars(
            select(CalendarConnection.refresh_token_encrypted)
            .where(CalendarConnection.workspace_id == workspace_id)))
    return [app.cipher.decrypt(token) for token in sealed if token is not None]


async def _rows_of(engine: AsyncEngine, workspace_id: int) -> int:
    """How many rows every table holds for the workspace (itself included)."""
    total = 0
    async with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            key = "id" if table.name == "workspaces" else "workspace_id"
            if key in table.c:
                total += int(await connection.scalar(
                    select(func.count()).select_from(table)
                    .where(table.c[key] == workspace_id)) or 0)
    return total


async def test_purge_workspace_cli_revokes_calendar_grants_before_deleting(
        calendar_app: CalendarApp, engine: AsyncEngine) -> None:
    app = calendar_app
    await connected(app, "google", "alex@example.com")
    console_id, _ = await app.user("alex")
    # Another workspace with a grant of its own, which the purge must leave live.
    slack = await app.runtime.rapport.user_context(SLACK_ALEX)
    status, page = await app.consent(await app.connections.start(
        slack.user_id, slack.workspace_id, "google"), "dana@example.com")
    assert status == 200, page
    [console_token] = await _refresh_tokens(app, console_id)
    [slack_token] = await _refresh_tokens(app, slack.workspace_id)
    rows_before = await _rows_of(engine, slack.workspace_id)

    env = {"RAPPORT_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "RAPPORT_ENCRYPTION_KEY": ENCRYPTION_KEY, "RAPPORT_PUBLIC_URL": app.base_url,
           "GOOGLE_CLIENT_ID": google_api.CLIENT_ID,
           "GOOGLE_CLIENT_SECRET": google_api.CLIENT_SECRET,
           "GOOGLE_OAUTH_URL": app.google.base_url, "GOOGLE_API_URL": app.google.base_url}
    # The CLI runs its own event loop (asyncio.run); this one keeps serving the Google fake.
    result = await asyncio.to_thread(CliRunner().invoke, cli, [
        "purge-workspace", "--platform", "console", "--workspace", "local", "--yes"], env=env)

    assert result.exit_code == 0, result.output
    assert "Deleted every row of console:local" in result.output
    assert app.google.revocations == [console_token]
    assert app.google.oauth.refresh_tokens[console_token].revoked
    assert not app.google.oauth.refresh_tokens[slack_token].revoked
    assert await _rows_of(engine, console_id) == 0
    assert await _rows_of(engine, slack.workspace_id) == rows_before
    assert await _refresh_tokens(app, slack.workspace_id) == [slack_token]
