"""A workspace of an Enterprise Grid org: its installation is saved with the org's id (as
Bolt's OAuth flow saves it when oauth.v2.access names an enterprise), and Rapport still finds
its tokens by the workspace alone: nudges are delivered, "post as you" posts, uninstall and
revocation delete the tokens."""

from __future__ import annotations

import json
import time
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import select, text

from rapport.bot.core.drafts import DISCLOSURE_LINE, build_draft_service
from rapport.bot.platforms.slack import SLACK_KEY
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.acks import finish_answers
from rapport.bot.platforms.slack.install import BOT_SCOPES, USER_SCOPES, Installations
from rapport.bot.service.config import Settings
from rapport.storage.models import Contact, Draft, Nudge, User
from tests.conftest import Clock
from tests.fakes.openai_api import FakeOpenAI
from tests.slack.conftest import HarnessFactory, SlackHarness
from tests.slack.test_tokens_at_rest import OAUTH

GRID_TEAM = "T0GRIDWS"
ORG = "E0ORG"
ALEX = "W0ALEX"
DANA = "W0DANA"
EDITED = "Dana! How did the launch go? Coffee next week is on me."


async def _grid(make_harness: HarnessFactory, *, user_token: bool = False,
                enterprise_id: str | None = ORG) -> tuple[SlackHarness, str | None]:
    """OAuth mode with the app installed in GRID_TEAM by Alex, saved as Bolt's OAuth flow
    saves a Grid workspace's installation; Alex's own token too with `user_token`."""
    slack = await make_harness(**OAUTH)
    slack.team_id = GRID_TEAM
    bot = slack.fake.add_workspace(GRID_TEAM, "Grid WS", scopes=BOT_SCOPES)
    mine = slack.fake.add_token(f"xoxp-{GRID_TEAM}-alex", team_id=GRID_TEAM, user_id=ALEX,
                                scopes=USER_SCOPES) if user_token else None
    slack.fake.add_user(ALEX, name="alex", real_name="Alex Grid", team_id=None, tz="UTC")
    slack.fake.add_user(DANA, name="dana", real_name="Dana Scully", team_id=None)
    await _installations(slack).store.async_save(Installation(  # type: ignore[union-attr]
        app_id=slack.fake.app_id, enterprise_id=enterprise_id, enterprise_name="Org",
        team_id=GRID_TEAM, team_name="Grid WS", bot_token=bot.token, bot_id=bot.bot_id,
        bot_user_id=bot.user_id, bot_scopes=",".join(BOT_SCOPES), user_id=ALEX,
        user_token=mine.token if mine else None,
        user_scopes=",".join(USER_SCOPES) if mine else None, is_enterprise_install=False,
        installed_at=time.time()))
    return slack, mine.token if mine else None


def _installations(slack: SlackHarness) -> Installations:
    return slack.extra["app"][SLACK_KEY].installations  # type: ignore[no-any-return]


async def _command(slack: SlackHarness, line: str, user: str = ALEX,
                   team: str = GRID_TEAM) -> dict[str, Any]:
    """/rapport from a workspace of the Grid org: Slack sends the org's id with the team's."""
    form = {"token": "legacy", "team_id": team, "team_domain": "gridws",
            "enterprise_id": ORG, "enterprise_name": "Org", "channel_id": "C0GENERAL",
            "channel_name": "general", "user_id": user, "user_name": user.lower(),
            "command": "/rapport", "text": line, "api_app_id": slack.fake.app_id,
            "response_url": slack.sink.url, "is_enterprise_install": "false",
            "trigger_id": slack.fake.new_trigger_id()}
    status, body = await slack.post(urllib.parse.urlencode(form),
                                    "application/x-www-form-urlencoded")
    assert status == 200, body
    return json.loads(body) if body.startswith("{") else {"text": body}


async def _event(slack: SlackHarness, event: dict[str, Any]) -> None:
    body = json.dumps({"token": "legacy", "team_id": GRID_TEAM, "enterprise_id": ORG,
                       "api_app_id": slack.fake.app_id, "type": "event_callback",
                       "event_id": f"Ev{time.time_ns()}", "event_time": int(time.time()),
                       "event": event})
    status, _ = await slack.post(body, "application/json")
    assert status == 200


async def test_a_nudge_is_delivered_in_a_grid_workspace(make_harness: HarnessFactory,
                                                        clock: Clock) -> None:
    slack, _ = await _grid(make_harness)
    assert "Added Dana" in (await _command(slack, "add Dana Scully"))["text"]
    assert "remind you" in (await _command(
        slack, "note Dana: hiking trip in Yosemite after Saturday"))["text"]
    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))  # Monday after the trip
    report = await slack.runtime.sweeper.sweep()
    assert report.sent == 1 and report.gone_users == 0, report
    [posted] = slack.fake.calls_to("chat.postMessage")
    assert posted.ok and posted.token.startswith(f"xoxb-{GRID_TEAM}")
    assert "Dana" in json.dumps(posted.args["blocks"])
    async with slack.runtime.sessions() as session:
        assert (await session.scalar(select(Nudge.status))) == "sent"
        assert (await session.scalar(select(User.active).where(User.external_id == ALEX)))


async def test_post_as_you_uses_the_grid_users_own_token(
        make_harness: HarnessFactory, fake_openai_env: FakeOpenAI, clock: Clock) -> None:
    slack, user_token = await _grid(make_harness, user_token=True)
    drafts = build_draft_service(sessions=slack.runtime.sessions,
                                 settings=Settings(ai_timeout_seconds=10), clock=clock)
    slack.runtime.rapport.drafter = drafts
    try:
        await _command(slack, f"add <@{DANA}>")

        async def linked() -> bool:
            async with slack.runtime.sessions() as session:
                return await session.scalar(select(Contact.id).where(
                    Contact.platform_user_id == DANA)) is not None

        await slack.until(linked)
        assert "Working on it" in (await _command(slack, "draft Dana"))["text"]
        await slack.until(lambda: bool(slack.fake.calls_to("views.update")), within=12)
        view = slack.fake.calls_to("views.update")[-1].response["view"]
        assert view["callback_id"] == b.CALLBACK_DRAFT
        option = {"value": "yes", "text": {"type": "plain_text", "text": DISCLOSURE_LINE}}
        submission = {
            "type": "view_submission", "team": {"id": GRID_TEAM, "domain": "gridws",
                                                "enterprise_id": ORG},
            "enterprise": {"id": ORG, "name": "Org"}, "is_enterprise_install": False,
            "user": {"id": ALEX, "username": "alex", "team_id": GRID_TEAM},
            "api_app_id": slack.fake.app_id, "token": "legacy",
            "trigger_id": slack.fake.new_trigger_id(),
            "view": {**view, "state": {"values": {
                "draft": {"value": {"type": "plain_text_input", "value": EDITED}},
                "disclose": {"value": {"type": "checkboxes", "selected_options": [option]}}}}}}
        status, _ = await slack.interaction(submission)
        assert status == 200
        await slack.until(lambda: bool(slack.fake.calls_to("chat.postMessage")))
        [posted] = slack.fake.calls_to("chat.postMessage")
        assert posted.ok and posted.token == user_token
        assert posted.args["text"] == f"{EDITED}\n{DISCLOSURE_LINE}"

        async def recorded() -> bool:
            async with slack.runtime.sessions() as session:
                return await session.scalar(select(Draft.outcome)) == "posted"

        await slack.until(recorded)
    finally:
        if drafts.provider is not None:
            await drafts.provider.close()


async def _rows(slack: SlackHarness, table: str) -> int:
    async with slack.runtime.engine.connect() as connection:
        return int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def test_a_revoked_grid_user_token_is_forgotten_and_uninstall_deletes_the_rest(
        make_harness: HarnessFactory) -> None:
    slack, _ = await _grid(make_harness, user_token=True)
    installations = _installations(slack)
    assert await installations.user_token(GRID_TEAM, ALEX)
    await _event(slack, {"type": "tokens_revoked", "tokens": {"oauth": [ALEX]}})

    async def revoked() -> bool:
        return await installations.user_token(GRID_TEAM, ALEX) is None

    await slack.until(revoked)
    assert await installations.bot_token(GRID_TEAM)
    await _event(slack, {"type": "app_uninstalled"})

    async def gone() -> bool:
        return await _rows(slack, "slack_bots") == 0

    await slack.until(gone)
    assert await _rows(slack, "slack_installations") == 0
    assert await installations.bot_token(GRID_TEAM) is None


async def test_uninstall_deletes_the_tokens_of_a_workspace_that_joined_an_org_later(
        make_harness: HarnessFactory) -> None:
    """Installed before the workspace moved into a Grid org: its rows name no org, its
    app_uninstalled event names the org."""
    slack, _ = await _grid(make_harness, user_token=True, enterprise_id=None)
    assert await _installations(slack).bot_token(GRID_TEAM)
    await _event(slack, {"type": "app_uninstalled"})

    async def gone() -> bool:
        return await _rows(slack, "slack_bots") == 0

    await slack.until(gone)
    assert await _rows(slack, "slack_installations") == 0


async def test_a_workspace_that_joined_an_org_after_installing_is_still_answered(
        make_harness: HarnessFactory) -> None:
    """Its requests name the org, its stored installation names none: Bolt's lookup by org
    and team misses, and the workspace's own installation answers."""
    slack, _ = await _grid(make_harness, enterprise_id=None)
    assert "Added Dana" in (await _command(slack, "add Dana Scully"))["text"]
    dm = slack.fake.dm_channel_id(ALEX, GRID_TEAM)
    slack.fake.add_channel(dm, members=[ALEX])
    await _event(slack, {"type": "message", "channel": dm, "channel_type": "im",
                         "user": ALEX, "text": "log Dana coffee", "ts": "1.000100",
                         "event_ts": "1.000100"})
    await slack.until(lambda: any("Logged coffee with Dana" in str(call.args.get("text"))
                                  for call in slack.fake.calls_to("chat.postMessage")))
    assert {call.token for call in slack.fake.calls_to("chat.postMessage")} \
        == {slack.fake.calls_to("chat.postMessage")[0].token}
    assert slack.fake.calls_to("chat.postMessage")[0].token.startswith(f"xoxb-{GRID_TEAM}")


async def test_another_workspace_of_the_org_never_gets_that_workspaces_token(
        make_harness: HarnessFactory) -> None:
    """The fallback is by the workspace's own id: a workspace of the same org that never
    installed the app is refused, whatever was installed elsewhere in the org."""
    slack, _ = await _grid(make_harness, enterprise_id=None)
    stranger = "T0STRANGER"
    slack.fake.add_user("W0EVE", name="eve", real_name="Eve Stranger", team_id=None)
    answer = (await _command(slack, "add Dana Scully", user="W0EVE", team=stranger))["text"]
    assert "Added" not in answer
    await finish_answers()
    assert not slack.fake.calls_to("chat.postMessage")
    assert not slack.fake.calls_to("users.info")
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(User.id).where(User.external_id == "W0EVE")) is None
