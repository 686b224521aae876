"""`admin ...` in Teams through the real botbuilder adapter: the AAD object ids listed in
RAPPORT_TEAMS_ADMINS may change their tenant's workspace; anyone else is refused, nothing
changed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import Actor
from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.registry import installers_for
from rapport.bot.platforms.teams.admins import parse_admin_ids
from rapport.bot.service.config import Settings
from rapport.bot.service.runtime import Runtime
from rapport.bot.service.server import build_web_app
from rapport.storage import db
from rapport.storage.models import Workspace
from tests.bot import seed
from tests.conftest import Clock, snapshot
from tests.fakes.bot_connector import BotConnectorFake
from tests.fakes.teams_activities import DEFAULT_AAD_OBJECT_ID, DEFAULT_TENANT_ID
from tests.teams.test_teams_bot import (  # noqa: F401 (teams is a fixture)
    FOX,
    FOX_PERSONAL,
    PERSONAL,
    RecordingSleep,
    TeamsHarness,
    teams,
)


@pytest.fixture
async def admin_teams(engine: AsyncEngine, clock: Clock, bot_connector: BotConnectorFake
                      ) -> AsyncIterator[TeamsHarness]:
    """Emulator-mode Teams with the default test user listed as an admin (upper case: ids
    are compared case-insensitively, as Azure shows them either way)."""
    settings = Settings(database_url="sqlite+aiosqlite://", host="127.0.0.1",
                        teams_enabled=True,
                        teams_admins=f" {DEFAULT_AAD_OBJECT_ID.upper()}, someone-else ")
    sessions = db.session_factory(engine)
    runtime = Runtime(settings=settings, engine=engine, sessions=sessions,
                      rapport=Rapport(sessions=sessions, clock=clock), clock=clock)
    app = await build_web_app(runtime, installers=installers_for(settings))
    async with TestClient(TestServer(app)) as client:
        yield TeamsHarness(runtime=runtime, client=client, connector=bot_connector,
                           engine=engine, clock=clock, sleep=RecordingSleep())


async def _workspace(bot: TeamsHarness) -> Workspace:
    async with bot.runtime.sessions() as session:
        workspace = await session.scalar(select(Workspace).where(
            Workspace.platform == "teams", Workspace.external_id == DEFAULT_TENANT_ID))
    assert workspace is not None
    return workspace


def _actor(aad_object_id: str) -> Actor:
    return Actor(platform="teams", workspace_external_id=DEFAULT_TENANT_ID,
                 user_external_id=aad_object_id)


def _said(bot: TeamsHarness, conversation: str = PERSONAL) -> str:
    return "\n".join(activity.text or "" for activity in bot.connector.sent_to(conversation))


def test_admin_ids_are_read_from_the_setting() -> None:
    assert parse_admin_ids(" A-1 ,b-2,, ") == frozenset({"a-1", "b-2"})
    assert parse_admin_ids("") == frozenset()


async def test_a_listed_admin_sets_the_retention(admin_teams: TeamsHarness) -> None:
    bot = admin_teams
    assert await bot.say("admin retention 12 months") == 201
    said = _said(bot)
    assert "Retention set to 12 months" in said
    assert "Retention of notes and conversation summaries: 12 months" in said
    assert (await _workspace(bot)).retention_months == 12
    assert await bot.say("admin ai off") == 201
    assert (await _workspace(bot)).ai_enabled is False


async def _refused_with_nothing_changed(bot: TeamsHarness, who: dict[str, Any],
                                        conversation: str) -> str:
    assert await bot.say("help", **who) == 201  # they are a user of the tenant already
    bot.connector.reset()
    before = await snapshot(bot.engine)
    assert await bot.say("admin retention 12 months", **who) == 201
    said = _said(bot, conversation)
    after = await snapshot(bot.engine)
    # Talking refreshes the sender's own conversation reference; nothing else moves.
    assert {k: v for k, v in after.items() if k != "conversation_refs"} == \
        {k: v for k, v in before.items() if k != "conversation_refs"}
    return said


async def test_someone_not_listed_is_refused_and_nothing_changes(
        admin_teams: TeamsHarness) -> None:
    said = await _refused_with_nothing_changed(admin_teams, FOX, FOX_PERSONAL)
    assert "Only workspace admins can change that" in said and "RAPPORT_TEAMS_ADMINS" in said
    assert (await _workspace(admin_teams)).retention_months is None


async def test_a_teams_id_never_counts_as_an_aad_object_id(
        engine: AsyncEngine, clock: Clock, bot_connector: BotConnectorFake) -> None:
    """Without aadObjectId the actor is known by the chat Rapport keeps for their from.id;
    listing that id grants nothing."""
    settings = Settings(database_url="sqlite+aiosqlite://", host="127.0.0.1",
                        teams_enabled=True, teams_admins="29:fox-mulder")
    sessions = db.session_factory(engine)
    runtime = Runtime(settings=settings, engine=engine, sessions=sessions,
                      rapport=Rapport(sessions=sessions, clock=clock), clock=clock)
    app = await build_web_app(runtime, installers=installers_for(settings))
    async with TestClient(TestServer(app)) as client:
        harness = TeamsHarness(runtime=runtime, client=client, connector=bot_connector,
                               engine=engine, clock=clock, sleep=RecordingSleep())
        assert await harness.say("help", **FOX) == 201  # Rapport keeps his personal chat
        fox = {**FOX, "aad_object_id": None}
        said = await _refused_with_nothing_changed(harness, fox, FOX_PERSONAL)
        assert "Only workspace admins can change that" in said


async def test_with_no_admins_configured_nobody_is_one(
        teams: TeamsHarness) -> None:  # noqa: F811
    bot = teams
    assert await bot.say("help") == 201
    bot.connector.reset()
    before = await snapshot(bot.engine)
    assert await bot.say("admin ai off") == 201
    assert "Only workspace admins can change that" in _said(bot)
    after = await snapshot(bot.engine)
    assert {k: v for k, v in after.items() if k != "conversation_refs"} == \
        {k: v for k, v in before.items() if k != "conversation_refs"}


async def test_the_team_report_comes_to_the_admin_without_anyones_data(
        admin_teams: TeamsHarness) -> None:
    bot = admin_teams
    rapport = bot.runtime.rapport
    assert await bot.say("help") == 201
    admin_ctx = await rapport.user_context(_actor(DEFAULT_AAD_OBJECT_ID))
    for index in range(5):
        ctx = await rapport.user_context(_actor(f"aad-member-{index}"))
        assert ctx.workspace_id == admin_ctx.workspace_id
        await seed.seed_team_member(bot.runtime.sessions, (ctx.workspace_id, ctx.user_id),
                                    bot.clock.now, index)
    bot.connector.reset()
    assert await bot.say("admin report") == 201
    said = _said(bot)
    assert "The team report for this workspace: 5 people" in said
    assert "summary,users,5" in said.replace("\r", "")
    for secret in seed.TEAM_SECRETS:
        assert secret not in said
