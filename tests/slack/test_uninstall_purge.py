"""After app_uninstalled a workspace's data is deleted once the grace period has passed; a
reinstall within it keeps everything; `rapport purge-workspace` deletes it at once."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from rapport.bot.core.context import Actor
from rapport.bot.service.cli import app as cli
from rapport.scheduler.housekeeping import housekeeping_jobs
from rapport.scheduler.lifecycle import purge_job, purge_uninstalled
from rapport.storage import db
from rapport.storage.models import Base, Contact, Workspace
from rapport.storage.uow import Database
from tests.bot import seed
from tests.conftest import Clock
from tests.slack.conftest import ALEX, HarnessFactory, SlackHarness
from tests.slack.test_install import NEW_TEAM, _install
from tests.slack.test_tokens_at_rest import OAUTH

GRACE = timedelta(days=30)


async def _rows_of(engine: AsyncEngine, workspace_id: int) -> dict[str, int]:
    """How many rows each table holds for the workspace."""
    counts: dict[str, int] = {}
    async with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            key = "id" if table.name == "workspaces" else "workspace_id"
            if key in table.c:
                counts[table.name] = int(await connection.scalar(
                    select(func.count()).select_from(table)
                    .where(table.c[key] == workspace_id)) or 0)
    return counts


async def _history(slack: SlackHarness) -> int:
    """An installed workspace with a person's contacts, notes, a touchpoint and a nudge."""
    await _install(slack)
    slack.fake.add_user(ALEX, name="alex", team_id=NEW_TEAM)
    for command in ("add Dana every 2 weeks", "note Dana: hiking trip in Yosemite on today",
                    "log Dana yesterday: coffee"):
        status, _ = await slack.command(command, team=NEW_TEAM)
        assert status == 200
    async with slack.runtime.sessions() as session, session.begin():
        dana = await session.scalar(select(Contact))
        assert dana is not None
        await seed.add_all(session, seed.draft(dana, "copied", 3, dana.created_at))
    return dana.workspace_id


async def _uninstalled_at(slack: SlackHarness) -> datetime | None:
    async with slack.runtime.sessions() as session:
        return await session.scalar(select(Workspace.uninstalled_at).where(
            Workspace.external_id == NEW_TEAM))


async def _other_tenant(slack: SlackHarness) -> dict[str, Any]:
    actor = Actor(platform="console", workspace_external_id="local", user_external_id="sam")
    await slack.runtime.rapport.handle_text(actor, "add Lee")
    await slack.runtime.rapport.handle_text(actor, "note Lee: new job")
    ctx = await slack.runtime.rapport.user_context(actor)
    return {"id": ctx.workspace_id, "rows": await _rows_of(slack.runtime.engine,
                                                           ctx.workspace_id)}


async def test_uninstalled_workspace_is_purged_after_the_grace_period(
        make_harness: HarnessFactory) -> None:
    slack = await make_harness(**OAUTH)
    slack.team_id = NEW_TEAM
    workspace_id = await _history(slack)
    other = await _other_tenant(slack)
    rows = await _rows_of(slack.runtime.engine, workspace_id)
    assert all(rows[t] for t in ("users", "contacts", "notes", "touchpoints", "drafts"))

    status, _ = await slack.event({"type": "app_uninstalled"}, team=NEW_TEAM)
    assert status == 200
    await slack.until(lambda: _uninstalled_at(slack), within=5.0)
    since = await _uninstalled_at(slack)
    assert since is not None
    # A second stop (tokens_revoked follows every uninstall) keeps the first moment.
    status, _ = await slack.event({"type": "tokens_revoked",
                                   "tokens": {"oauth": [], "bot": ["UBOT"]}}, team=NEW_TEAM)
    assert status == 200 and await _uninstalled_at(slack) == since

    sessions = slack.runtime.sessions
    assert await purge_uninstalled(sessions, since + GRACE - timedelta(seconds=1), GRACE) == []
    assert await _rows_of(slack.runtime.engine, workspace_id) == rows

    assert await purge_uninstalled(sessions, since + GRACE, GRACE) == [workspace_id]
    assert set((await _rows_of(slack.runtime.engine, workspace_id)).values()) == {0}
    assert await _rows_of(slack.runtime.engine, other["id"]) == other["rows"]


async def test_a_reinstall_within_the_grace_period_keeps_everything(
        make_harness: HarnessFactory) -> None:
    slack = await make_harness(**OAUTH)
    slack.team_id = NEW_TEAM
    workspace_id = await _history(slack)
    rows = await _rows_of(slack.runtime.engine, workspace_id)
    await slack.event({"type": "app_uninstalled"}, team=NEW_TEAM)
    await slack.until(lambda: _uninstalled_at(slack), within=5.0)

    await _install(slack)  # the admin adds the app again

    assert await _uninstalled_at(slack) is None
    far = await purge_uninstalled(slack.runtime.sessions, datetime.now(UTC)
                                  + timedelta(days=3650), GRACE)
    assert far == []
    assert await _rows_of(slack.runtime.engine, workspace_id) == rows
    status, _ = await slack.command("due", team=NEW_TEAM)
    assert status == 200


async def test_the_scheduler_job_uses_its_clock_and_the_grace_setting(
        any_engine: AsyncEngine, clock: Clock) -> None:
    sessions = db.session_factory(any_engine)
    async with sessions() as session, session.begin():
        session.add_all([
            Workspace(platform="slack", external_id="TGONE", active=False,
                      uninstalled_at=clock.now - timedelta(days=8), created_at=clock.now),
            Workspace(platform="slack", external_id="TRECENT", active=False,
                      uninstalled_at=clock.now - timedelta(days=6), created_at=clock.now),
            # Paused for another reason (a revoked token on delivery): never purged by age.
            Workspace(platform="slack", external_id="TPAUSED", active=False,
                      created_at=clock.now - timedelta(days=900)),
            Workspace(platform="slack", external_id="TLIVE", created_at=clock.now)])

    await purge_job(sessions, clock, timedelta(days=7))()

    async with sessions() as session:
        left = (await session.scalars(select(Workspace.external_id)
                                      .order_by(Workspace.external_id))).all()
    assert left == ["TLIVE", "TPAUSED", "TRECENT"]
    assert any("purge" in getattr(job, "__qualname__", "")
               for job, _seconds in housekeeping_jobs(_sweeper_like(sessions, clock)))


def _sweeper_like(sessions: Any, clock: Clock) -> Any:
    class Sweeper:
        def __init__(self) -> None:
            self.sessions, self.messengers, self.clock = sessions, {}, clock
            self.db = Database(sessions)

    return Sweeper()


def test_purge_workspace_cli_deletes_one_workspace_and_its_tokens_at_once(
        tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "purge.db"
    shutil.copy(sqlite_template, target)
    url = f"sqlite+aiosqlite:///{target}"
    monkeypatch.setenv("RAPPORT_DATABASE_URL", url)

    async def seed() -> None:
        from rapport.bot.core.rapport import Rapport

        engine = db.create_engine(url)
        rapport = Rapport(sessions=db.session_factory(engine))
        for team in ("T123", "T456"):
            actor = Actor(platform="slack", workspace_external_id=team, user_external_id="U1")
            await rapport.handle_text(actor, "add Dana")
            await rapport.handle_text(actor, "note Dana: secret plans")
        async with engine.begin() as connection:
            for team in ("T123", "T456"):
                await connection.execute(text(
                    "INSERT INTO slack_bots (client_id, app_id, team_id, bot_token, "
                    "is_enterprise_install, installed_at) VALUES ('c', 'A', :team, 'enc1:x', 0, "
                    "'2026-11-23 10:00:00')"), {"team": team})
                await connection.execute(text(
                    "INSERT INTO slack_installations (client_id, app_id, team_id, user_id, "
                    "bot_token, is_enterprise_install, installed_at) VALUES ('c', 'A', :team, "
                    "'U1', 'enc1:x', 0, '2026-11-23 10:00:00')"), {"team": team})
        await engine.dispose()

    async def counts() -> dict[str, int]:
        engine = db.create_engine(url)
        result: dict[str, int] = {}
        async with engine.connect() as connection:
            for name in ("workspaces", "users", "contacts", "notes", "slack_bots",
                         "slack_installations"):
                result[name] = int(await connection.scalar(text(
                    f"SELECT count(*) FROM {name}")) or 0)
        await engine.dispose()
        return result

    asyncio.run(seed())
    runner = CliRunner()
    before = asyncio.run(counts())
    unknown = runner.invoke(cli, ["purge-workspace", "--platform", "slack", "--workspace",
                                  "TNOPE", "--yes"])
    assert unknown.exit_code == 2 and "No workspace" in unknown.output
    declined = runner.invoke(cli, ["purge-workspace", "--platform", "slack", "--workspace",
                                   "T123"], input="n\n")
    assert declined.exit_code == 1
    assert asyncio.run(counts()) == before

    result = runner.invoke(cli, ["purge-workspace", "--platform", "slack", "--workspace",
                                 "T123", "--yes"])
    assert result.exit_code == 0, result.output
    assert "1 stored Slack installation" in result.output
    assert asyncio.run(counts()) == {"workspaces": 1, "users": 1, "contacts": 1, "notes": 1,
                                     "slack_bots": 1, "slack_installations": 1}
