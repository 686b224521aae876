"""`/rapport admin ...` through the real Bolt app: Slack admins and owners (users.info) may
change their workspace, anyone else is refused with nothing changed; the team report is a
file in the admin's DM without anyone's contacts; purge asks first."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.storage.models import Contact, Workspace
from tests.bot import seed
from tests.conftest import snapshot
from tests.fakes.slack_api import DEFAULT_TEAM_ID
from tests.slack.conftest import ALEX, SAM, HarnessFactory, SlackHarness
from tests.slack.test_install import NEW_TEAM, _install
from tests.slack.test_tokens_at_rest import OAUTH

BOSS = "U0BOSS"


@pytest.fixture
async def admin_slack(slack: SlackHarness) -> SlackHarness:
    """The single-workspace app with a Slack workspace admin among its users."""
    slack.fake.add_user(BOSS, name="boss", real_name="Bo Boss", team_id=DEFAULT_TEAM_ID,
                        is_admin=True)
    return slack


def _answers(slack: SlackHarness) -> str:
    return "\n".join(json.dumps(post) for post in slack.sink.posts)


async def _answer(slack: SlackHarness, needle: str) -> str:
    await slack.until(lambda: needle in _answers(slack))
    return _answers(slack)


async def _workspace(slack: SlackHarness, team: str = DEFAULT_TEAM_ID) -> Workspace | None:
    async with slack.runtime.sessions() as session:
        return await session.scalar(select(Workspace).where(
            Workspace.platform == "slack", Workspace.external_id == team))


async def _settle(slack: SlackHarness, user: str) -> None:
    """The user has talked to Rapport before and their profile is cached, so that what a
    later command does is only that command."""
    status, _ = await slack.command("due", user=user)
    assert status == 200
    await slack.until(lambda: slack.profile_cached(user))


async def test_an_admin_turns_ai_off_for_the_workspace(admin_slack: SlackHarness) -> None:
    slack = admin_slack
    await _settle(slack, BOSS)
    infos = len(slack.fake.calls_to("users.info"))
    status, body = await slack.command("admin ai off", user=BOSS)
    assert status == 200 and "Working on it" in json.loads(body)["text"]
    answer = await _answer(slack, "AI drafts: off")
    assert "AI drafts are off for everyone" in answer
    # Asked afresh, once, although the profile was cached: roles change.
    [asked] = slack.fake.calls_to("users.info")[infos:]
    assert asked.args["user"] == BOSS
    workspace = await _workspace(slack)
    assert workspace is not None and workspace.ai_enabled is False
    status, _ = await slack.command("admin retention 365d", user=BOSS)
    await _answer(slack, "12 months")
    workspace = await _workspace(slack)
    assert workspace is not None and workspace.retention_months == 12
    # Another person's next command sees the workspace's policy.
    status, body = await slack.command("settings", user=ALEX)
    assert "turned off for the whole workspace" in json.loads(body)["text"]


@pytest.mark.parametrize("role", ["is_owner", "is_primary_owner"])
async def test_owners_count_as_admins(admin_slack: SlackHarness, role: str) -> None:
    slack = admin_slack
    slack.fake.users[SAM][role] = True  # as users.info reports it, whatever the other flags
    await slack.command("admin disclosure required", user=SAM)
    await _answer(slack, "Disclosure line on AI-assisted messages: required")
    workspace = await _workspace(slack)
    assert workspace is not None and workspace.disclosure_policy == "required"


@pytest.mark.parametrize("line", ["admin ai off", "admin disclosure off",
                                  "admin retention 12 months", "admin report",
                                  "admin purge", "admin purge confirm", "admin"])
async def test_a_member_is_refused_and_nothing_changes(admin_slack: SlackHarness,
                                                       engine: AsyncEngine, line: str) -> None:
    slack = admin_slack
    await _settle(slack, SAM)
    published = slack.publishes()
    await slack.command("add Dana every 2 weeks", user=SAM)
    # The add's own Home refresh (a second later, or later on a loaded machine) is not
    # the refused command's doing: let it land first.
    await slack.until(lambda: slack.publishes() > published, within=10.0)
    before = await snapshot(engine)
    calls = len(slack.fake.calls)
    status, _ = await slack.command(line, user=SAM)
    assert status == 200
    answer = await _answer(slack, "Only workspace admins can change that")
    assert "Slack workspace admins and owners" in answer
    assert await snapshot(engine) == before
    # Nothing went out but the question who is an admin: no upload, no message, no Home.
    assert [call.method for call in slack.fake.calls[calls:]] == ["users.info"]


@pytest.mark.parametrize("fault", [{"status": 500, "count": 2},  # after the one retry
                                   {"error": "user_not_visible"}], ids=["5xx", "error"])
async def test_a_failing_users_info_grants_nothing(admin_slack: SlackHarness,
                                                   engine: AsyncEngine,
                                                   fault: dict[str, Any]) -> None:
    slack = admin_slack
    await _settle(slack, BOSS)
    before = await snapshot(engine)
    slack.fake.fail_next("users.info", **fault)
    await slack.command("admin ai off", user=BOSS)
    await _answer(slack, "could not check that you are an admin")
    assert await snapshot(engine) == before


async def test_ordinary_commands_never_ask_users_info(admin_slack: SlackHarness) -> None:
    slack = admin_slack
    await _settle(slack, BOSS)
    infos = len(slack.fake.calls_to("users.info"))
    for line in ("add Dana every 2 weeks", "people", "show Dana", "due", "help admin"):
        status, _ = await slack.command(line, user=BOSS)
        assert status == 200
    assert len(slack.fake.calls_to("users.info")) == infos


async def _team_with_secrets(slack: SlackHarness, members: int = 5) -> None:
    """Other people of the workspace with contacts, notes, summaries and drafts."""
    for index in range(members):
        ctx = await slack.runtime.rapport.user_context(slack.actor(f"U0MEMBER{index}"))
        await seed.seed_team_member(slack.runtime.sessions, (ctx.workspace_id, ctx.user_id),
                                    slack.runtime.clock(), index)


async def test_the_team_report_is_uploaded_to_the_admins_dm_without_anyones_data(
        admin_slack: SlackHarness) -> None:
    slack = admin_slack
    await _team_with_secrets(slack)
    await slack.command("admin report", user=BOSS)
    await slack.until(lambda: bool(slack.fake.calls_to("files.completeUploadExternal")))
    [reserved] = slack.fake.calls_to("files.getUploadURLExternal")
    [completed] = slack.fake.calls_to("files.completeUploadExternal")
    assert reserved.args["filename"] == "rapport-team-report.csv"
    dm = slack.fake.dm_channel_id(BOSS)
    assert completed.ok and completed.args["channel_id"] == dm
    [uploaded] = slack.fake.files.values()
    assert uploaded.completed and uploaded.channels == [dm] and uploaded.content is not None
    report = uploaded.content.decode()
    assert "summary,users,5" in report.replace("\r", "")
    shared = json.dumps(slack.fake.messages_in(dm))
    for secret in seed.TEAM_SECRETS:
        assert secret not in report and secret not in shared
        assert secret not in _answers(slack)
    await _answer(slack, "direct messages")


async def test_an_admins_own_commands_never_show_anyone_elses_contacts(
        admin_slack: SlackHarness) -> None:
    slack = admin_slack
    await _team_with_secrets(slack)
    await slack.command("add Dana every 2 weeks", user=BOSS)
    await slack.command("admin", user=BOSS)
    await _answer(slack, "Settings for everyone in this workspace")
    acks = []
    for line in ("people", "show Zebulon0", "search Zebulon", "search lawyer", "due"):
        status, body = await slack.command(line, user=BOSS)
        assert status == 200
        acks.append(body)
    shown = "\n".join(acks) + _answers(slack)
    assert "Dana" in shown
    for secret in ("Quartermaine", "divorce lawyer", "chemo next week", "Hi Zeb", "Initech",
                   "Zebulon0 "):
        assert secret not in shown


async def test_purge_asks_first_then_deletes_the_workspace(admin_slack: SlackHarness,
                                                           engine: AsyncEngine) -> None:
    slack = admin_slack
    await _team_with_secrets(slack, 2)
    await _settle(slack, BOSS)
    before = await snapshot(engine)
    await slack.command("admin purge", user=BOSS)
    answer = await _answer(slack, "admin purge confirm")
    assert "contacts: 2" in answer and "cannot be undone" in answer
    assert await snapshot(engine) == before
    await slack.command("admin purge confirm", user=BOSS)
    await _answer(slack, "Deleted everything Rapport stored for this workspace")
    assert await _workspace(slack) is None
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Contact)) == 0


async def _installations(engine: AsyncEngine, team: str) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text(
            "SELECT count(*) FROM slack_installations WHERE team_id = :team"),
            {"team": team}) or 0)


async def test_purge_in_an_oauth_install_deletes_its_stored_tokens_too(
        make_harness: HarnessFactory, engine: AsyncEngine) -> None:
    slack = await make_harness(**OAUTH)
    slack.team_id = NEW_TEAM
    await _install(slack)
    slack.fake.add_user(ALEX, name="alex", team_id=NEW_TEAM, is_primary_owner=True)
    await slack.command("add Dana", team=NEW_TEAM)
    assert await _installations(engine, NEW_TEAM) >= 1
    await slack.command("admin purge", team=NEW_TEAM)
    answer: Any = await _answer(slack, "admin purge confirm")
    assert "installed again" in answer
    await slack.command("admin purge confirm", team=NEW_TEAM)
    await _answer(slack, "install Rapport again")
    assert await _installations(engine, NEW_TEAM) == 0
    assert await _workspace(slack, NEW_TEAM) is None


async def test_admin_typed_in_the_messages_tab_is_answered_there(
        admin_slack: SlackHarness) -> None:
    slack = admin_slack
    dm = slack.fake.dm_channel_id(BOSS)
    slack.fake.add_channel(dm, members=[BOSS])
    await slack.event({"type": "message", "channel": dm, "channel_type": "im", "user": BOSS,
                       "text": "admin disclosure off", "ts": "1.000200", "event_ts": "1.000200"})
    await slack.until(lambda: any("no longer carry a disclosure line" in m.get("text", "")
                                  for m in slack.fake.messages_in(dm)))
    workspace = await _workspace(slack)
    assert workspace is not None and workspace.disclosure_policy == "off"
