"""OAuth install for many workspaces, uninstall, tokens_revoked, Socket Mode wiring."""

from __future__ import annotations

import json
import re
import urllib.parse

import pytest
from aiohttp import web
from sqlalchemy import select

from rapport.bot.platforms.registry import installers_for, messengers_for
from rapport.bot.platforms.slack import SLACK_KEY, SOCKET_KEY
from rapport.bot.service.config import Settings
from rapport.scheduler.messenger import OutgoingMessage, Recipient
from rapport.storage.models import Workspace
from tests.slack.conftest import ALEX, HarnessFactory, SlackHarness

NEW_TEAM = "T0NEW"


async def _oauth(make_harness: HarnessFactory) -> SlackHarness:
    # FakeSlack's default client id and secret, as an admin would copy them from the app page.
    return await make_harness(slack_bot_token=None, slack_client_id="1111111111.2222222222",
                              slack_client_secret="fake-client-secret")


async def _install(slack: SlackHarness) -> None:
    async with slack.http.get(f"{slack.base}/slack/install") as response:
        assert response.status == 200
        page = await response.text()
        cookie = response.headers.getall("Set-Cookie")
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert link is not None, page
    query = urllib.parse.parse_qs(urllib.parse.urlparse(link.group(1).replace("&amp;", "&")).query)
    state = query["state"][0]
    assert query["scope"][0] == ("commands,chat:write,im:write,users:read,files:write,"
                                 "files:read,im:history")
    assert query["user_scope"][0] == "chat:write,im:write"
    code = slack.fake.add_oauth_code(team_id=NEW_TEAM, team_name="New Co", user_id=ALEX,
                                     user_scopes=("chat:write", "im:write"))
    state_cookie = next(c.split(";")[0] for c in cookie if c.startswith("slack-app-oauth-state"))
    async with slack.http.get(f"{slack.base}/slack/oauth_redirect",
                              params={"code": code, "state": state},
                              headers={"Cookie": state_cookie}) as response:
        assert response.status == 200, await response.text()


async def test_oauth_install_stores_the_installation_and_uninstall_removes_it(
        make_harness: HarnessFactory) -> None:
    slack = await _oauth(make_harness)
    slack.team_id = NEW_TEAM
    await _install(slack)
    store = slack.extra["app"][SLACK_KEY].installations.store
    installation = await store.async_find_installation(enterprise_id=None, team_id=NEW_TEAM)
    assert installation is not None and installation.bot_token.startswith("xoxb-")
    assert installation.user_token is not None  # the optional scope for posting drafts

    # The installed workspace can use the app at once.
    slack.fake.add_user("U0NEWBIE", name="newbie", team_id=NEW_TEAM)
    status, body = await slack.command("add Dana", user="U0NEWBIE")
    assert status == 200 and "Added Dana" in json.loads(body)["text"]

    messenger = next(m for m in await messengers_for(slack.runtime) if m.platform == "slack")
    recipient = Recipient(workspace_id=1, workspace_external_id=NEW_TEAM, platform="slack",
                          user_id=1, user_external_id="U0NEWBIE", display_name="", tz="UTC")
    sent = await messenger.deliver(OutgoingMessage(recipient=recipient, kind="summary",
                                                   text="Weekly summary"))
    assert sent.status == "sent", sent

    status, _ = await slack.event({"type": "app_uninstalled"})
    assert status == 200
    await slack.until(lambda: _gone(store))
    async with slack.runtime.sessions() as session:
        workspace = await session.scalar(select(Workspace).where(
            Workspace.external_id == NEW_TEAM))
    assert workspace is not None and workspace.active is False
    gone = await messenger.deliver(OutgoingMessage(recipient=recipient, kind="summary",
                                                   text="Weekly summary"))
    assert gone.status == "gone"


async def _gone(store: object) -> bool:
    found = await store.async_find_bot(enterprise_id=None, team_id=NEW_TEAM)  # type: ignore[attr-defined]
    return found is None


async def test_install_with_a_forged_state_stores_nothing(make_harness: HarnessFactory) -> None:
    slack = await _oauth(make_harness)
    code = slack.fake.add_oauth_code(team_id=NEW_TEAM, user_id=ALEX)
    async with slack.http.get(f"{slack.base}/slack/oauth_redirect",
                              params={"code": code, "state": "forged"},
                              headers={"Cookie": "slack-app-oauth-state=forged"}) as response:
        assert response.status == 401
    store = slack.extra["app"][SLACK_KEY].installations.store
    assert await store.async_find_bot(enterprise_id=None, team_id=NEW_TEAM) is None
    assert slack.fake.calls_to("oauth.v2.access") == []


async def test_tokens_revoked_for_the_bot_stops_deliveries(slack: SlackHarness) -> None:
    await slack.command("help")
    status, _ = await slack.event({"type": "tokens_revoked",
                                   "tokens": {"oauth": [], "bot": ["U0BOT"]}})
    assert status == 200

    async def inactive() -> bool:
        async with slack.runtime.sessions() as session:
            return await session.scalar(select(Workspace.active)) is False

    await slack.until(inactive)


async def test_socket_mode_handler_is_built_when_an_app_token_is_set(
        fake_slack: object) -> None:
    from rapport.bot.service.runtime import build_runtime

    settings = Settings(slack_signing_secret="s", slack_bot_token="xoxb-test-token",
                        slack_app_token="xapp-1-A0-1-abc", database_url="sqlite+aiosqlite://",
                        slack_api_url=fake_slack.base_url)  # type: ignore[attr-defined]
    runtime = await build_runtime(settings)
    try:
        app = web.Application()
        for install in installers_for(settings):
            await install(app, runtime)
        handler = app[SOCKET_KEY]
        assert handler.app is app[SLACK_KEY].app
        assert handler.app_token == "xapp-1-A0-1-abc"
        assert handler.client.web_client.base_url == fake_slack.base_url  # type: ignore[attr-defined]
        assert "connect" in [hook.__name__ for hook in app.on_startup]
        assert "disconnect" in [hook.__name__ for hook in app.on_cleanup]
    finally:
        await runtime.close()


async def test_http_mode_without_a_signing_secret_refuses_to_start(
        fake_slack: object) -> None:
    from rapport.bot.service.runtime import build_runtime

    settings = Settings(slack_bot_token="xoxb-test-token", database_url="sqlite+aiosqlite://",
                        slack_signing_secret=None, slack_app_token=None,
                        slack_api_url=fake_slack.base_url)  # type: ignore[attr-defined]
    runtime = await build_runtime(settings)
    try:
        [install] = installers_for(settings)
        with pytest.raises(RuntimeError, match="SLACK_SIGNING_SECRET"):
            await install(web.Application(), runtime)
        socket_only = settings.model_copy(update={"slack_app_token": "xapp-1-A0-1-abc"})
        runtime.settings = socket_only
        app = web.Application()
        for install in installers_for(socket_only):
            await install(app, runtime)
        # Without a secret there is no HTTP endpoint to forge requests against.
        assert "/slack/events" not in {r.resource.canonical for r in app.router.routes()}
    finally:
        await runtime.close()


async def test_a_fresh_bot_token_at_start_resumes_a_revoked_workspace(
        slack: SlackHarness, make_harness: HarnessFactory) -> None:
    await slack.command("help")
    await slack.event({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0BOT"]}})

    async def active() -> bool | None:
        async with slack.runtime.sessions() as session:
            return await session.scalar(select(Workspace.active))

    await slack.until(lambda: _is(active(), False))
    await make_harness()  # the operator restarts with a working token
    assert await active() is True


async def _is(value: object, expected: object) -> bool:
    return await value == expected  # type: ignore[misc]
