"""Pytest fixtures around FakeSlack; registered through ``pytest_plugins`` in the root conftest."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import (
    DEFAULT_BOT_TOKEN,
    DEFAULT_TEAM_ID,
    DEFAULT_TEAM_NAME,
    FakeSlack,
    TokenInfo,
)

__all__ = [
    "DEFAULT_BOT_TOKEN",
    "DEFAULT_TEAM_ID",
    "DEFAULT_TEAM_NAME",
    "SeedWorkspace",
    "fake_slack",
    "fake_slack_client",
    "fake_slack_env",
    "seed_slack_workspace",
]

SeedWorkspace = Callable[..., TokenInfo]


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A started FakeSlack with bot token ``xoxb-test-token`` for team ``T0TEST``."""
    async with FakeSlack() as fake:
        fake.add_workspace(DEFAULT_TEAM_ID, DEFAULT_TEAM_NAME, bot_token=DEFAULT_BOT_TOKEN)
        yield fake


@pytest.fixture
def seed_slack_workspace(fake_slack: FakeSlack) -> SeedWorkspace:
    """Install the app in more workspaces: ``seed_slack_workspace("T0TWO", scopes=[...])``."""

    def seed(
        team_id: str,
        name: str | None = None,
        *,
        bot_token: str | None = None,
        scopes: Iterable[str] | None = None,
    ) -> TokenInfo:
        return fake_slack.add_workspace(team_id, name, bot_token=bot_token, scopes=scopes)

    return seed


@pytest.fixture
def fake_slack_client(fake_slack: FakeSlack) -> AsyncWebClient:
    """The real slack_sdk client, authenticated as the default bot, pointed at the fake."""
    return AsyncWebClient(token=DEFAULT_BOT_TOKEN, base_url=fake_slack.base_url)


@pytest.fixture
def fake_slack_env(fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> FakeSlack:
    """Point ``SLACK_API_URL`` and ``SLACK_BOT_TOKEN`` at the fake (single-workspace mode)."""
    monkeypatch.setenv("SLACK_API_URL", fake_slack.base_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", DEFAULT_BOT_TOKEN)
    return fake_slack
