"""The Settings modal when a workspace admin has turned AI drafts off for everyone: it says so,
as `/rapport settings` does, instead of offering the person's own choice preset to On; and
saving the form leaves that choice as it was."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from rapport.storage.models import User
from tests.fakes.slack_api import DEFAULT_TEAM_ID
from tests.slack.conftest import ALEX, SlackHarness
from tests.slack.test_admin import BOSS, _answer
from tests.slack.test_views import _settings_values, _submission, _user


async def _open_settings(slack: SlackHarness) -> dict[str, Any]:
    """ALEX clicks Settings on App Home; the modal opened."""
    opened = len(slack.fake.calls_to("views.open"))
    payload = {"type": "block_actions", "team": {"id": slack.team_id, "domain": "rapport"},
               "user": _user(slack), "api_app_id": slack.fake.app_id, "token": "legacy",
               "trigger_id": slack.fake.new_trigger_id(),
               "container": {"type": "view", "view_id": "V0HOME"},
               "actions": [{"type": "button", "action_id": "open_settings",
                            "block_id": "home_actions", "value": "open", "action_ts": "1.0"}]}
    status, _ = await slack.interaction(payload)
    assert status == 200
    await slack.until(lambda: len(slack.fake.calls_to("views.open")) > opened)
    call = slack.fake.calls_to("views.open")[-1]
    assert call.ok
    view: dict[str, Any] = call.args["view"]
    return view


def _texts(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


async def _ai_off_for_the_workspace(slack: SlackHarness) -> None:
    slack.fake.add_user(BOSS, name="boss", real_name="Bo Boss", team_id=DEFAULT_TEAM_ID,
                        is_admin=True)
    await slack.command("admin ai off", user=BOSS)
    await _answer(slack, "AI drafts are off for everyone")
    status, body = await slack.command("settings")
    assert status == 200
    assert "AI drafts: off (turned off for the whole workspace)" in json.loads(body)["text"]


async def test_the_modal_says_the_workspace_turned_ai_drafts_off(slack: SlackHarness) -> None:
    await _ai_off_for_the_workspace(slack)

    view = await _open_settings(slack)

    blocks = {block.get("block_id"): block for block in view["blocks"]}
    assert "ai" not in blocks  # no personal On/Off to pick: it would change nothing
    assert blocks["ai_workspace_off"]["type"] == "context"
    assert "AI drafts: off (turned off for the whole workspace)" in _texts(view)


async def test_saving_the_modal_keeps_the_persons_own_ai_choice(slack: SlackHarness) -> None:
    await _ai_off_for_the_workspace(slack)
    await _open_settings(slack)
    values = _settings_values(window={"type": "plain_text_input", "value": "08:30-16:00"})
    del values["ai"]  # the form has no such field now

    status, body = await slack.interaction(_submission(slack, "settings", values))

    assert status == 200 and body == ""
    await slack.until(lambda: slack.fake.home_view(ALEX) is not None)
    async with slack.runtime.sessions() as session:
        user = await session.scalar(select(User).where(User.external_id == ALEX))
    assert user is not None
    assert (user.window_start_minute, user.ai_enabled) == (8 * 60 + 30, True)


async def test_with_ai_on_for_the_workspace_the_modal_offers_the_choice(
        slack: SlackHarness) -> None:
    await slack.runtime.rapport.handle_text(slack.actor(), "help")

    view = await _open_settings(slack)

    blocks = {block.get("block_id"): block for block in view["blocks"]}
    assert blocks["ai"]["element"]["initial_option"]["value"] == "on"
    assert "ai_workspace_off" not in blocks
