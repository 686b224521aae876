"""Cross-user and cross-workspace access through every Slack action, view and command argument."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from rapport.bot.core.context import Actor
from rapport.bot.core.drafts import build_draft_service
from rapport.bot.platforms.slack import blocks as b
from rapport.storage.models import Contact, Draft, Nudge, Touchpoint, User
from tests.conftest import Clock, snapshot
from tests.slack.conftest import ALEX, SAM, HarnessFactory, SlackHarness

NUDGE_ACTIONS = sorted(b.NUDGE_ACTIONS)
OTHER_TEAM = "T0OTHER"


async def _deliver(slack: SlackHarness, clock: Clock) -> tuple[int, str, dict[str, Any]]:
    """Alex gets a nudge about Dana as a DM; returns (nudge id, DM channel, the message)."""
    rapport = slack.runtime.rapport
    assert (await rapport.handle_text(slack.actor(), "add Dana")).ok
    assert (await rapport.handle_text(
        slack.actor(), "note Dana: hiking trip in Yosemite after Saturday")).ok
    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))
    assert (await slack.runtime.sweeper.sweep()).sent == 1
    async with slack.runtime.sessions() as session:
        nudge_id = int(await session.scalar(select(Nudge.id)) or 0)
    [message] = slack.fake.messages_in(ALEX)
    return nudge_id, slack.fake.dm_channel_id(ALEX), message


def _action(action_id: str, nudge_id: int) -> dict[str, Any]:
    if action_id == b.ACTION_SNOOZE_PICK:
        return {"type": "datepicker", "action_id": action_id, "block_id": f"nudge_{nudge_id}",
                "selected_date": "2026-12-10"}
    return {"type": "button", "action_id": action_id, "block_id": f"nudge_{nudge_id}",
            "value": str(nudge_id)}


def _view_submission(slack: SlackHarness, *, user: str, callback_id: str,
                     values: dict[str, Any], private_metadata: str = "") -> dict[str, Any]:
    return {"type": "view_submission", "team": {"id": slack.team_id, "domain": "rapport"},
            "user": {"id": user, "username": user.lower(), "team_id": slack.team_id},
            "api_app_id": slack.fake.app_id, "token": "legacy",
            "trigger_id": slack.fake.new_trigger_id(),
            "view": {"id": "V0FORGED", "type": "modal", "callback_id": callback_id,
                     "private_metadata": private_metadata, "state": {"values": values},
                     "hash": "1.abc", "team_id": slack.team_id, "app_id": slack.fake.app_id}}


async def _settle() -> None:
    await asyncio.sleep(0.2)  # let anything Bolt runs after the ack finish


@pytest.mark.parametrize("action_id", NUDGE_ACTIONS)
async def test_another_users_click_on_every_nudge_action_is_refused(
        slack: SlackHarness, clock: Clock, action_id: str) -> None:
    nudge_id, channel, message = await _deliver(slack, clock)
    before = await snapshot(slack.runtime.engine)

    status, _ = await slack.interaction(slack.block_action(
        user=SAM, action=_action(action_id, nudge_id), channel=channel, message=message))

    assert status == 200
    await slack.until(lambda: bool(slack.sink.posts))
    assert "isn't yours" in slack.sink.posts[0]["text"]
    await _settle()
    assert slack.fake.calls_to("chat.update") == []
    assert slack.fake.calls_to("views.open") == []  # no draft of Alex's nudge for Sam
    assert slack.fake.message(channel, message["ts"]) == message
    assert await snapshot(slack.runtime.engine) == before


async def test_every_nudge_action_from_another_workspace_is_refused(
        slack: SlackHarness, clock: Clock) -> None:
    nudge_id, channel, message = await _deliver(slack, clock)
    slack.fake.add_workspace(OTHER_TEAM, "Other")
    before = await snapshot(slack.runtime.engine)

    for action_id in NUDGE_ACTIONS:
        status, body = await slack.interaction(slack.block_action(
            user=ALEX, team=OTHER_TEAM, action=_action(action_id, nudge_id), channel=channel,
            message=message))
        assert (status, body) == (200, ""), action_id  # authorize refused: no listener ran

    await _settle()
    assert slack.fake.calls_to("chat.update") == [] and slack.fake.calls_to("views.open") == []
    # Bolt tells the foreign workspace to reinstall; nothing of Alex's nudge goes there.
    assert "Yosemite" not in json.dumps(slack.sink.posts)
    assert await snapshot(slack.runtime.engine) == before


@pytest.mark.parametrize("text", ["done #{id}", "done #{id}: we talked", "snooze #{id}",
                                  "snooze #{id} 1 week", "dismiss #{id}", "draft #{id}"])
async def test_commands_naming_another_users_nudge_are_refused(
        slack: SlackHarness, clock: Clock, text: str) -> None:
    nudge_id, channel, message = await _deliver(slack, clock)
    assert (await slack.command("help", user=SAM))[0] == 200  # Sam is a user too
    await _settle()
    before = await snapshot(slack.runtime.engine)

    status, body = await slack.command(text.format(id=nudge_id), user=SAM)

    assert status == 200
    if body:
        assert "Dana" not in body and "Yosemite" not in body  # nothing of Alex's leaks

    def refused() -> bool:
        # A slow verb (draft) acks first and answers through response_url after.
        answers = body + json.dumps(slack.sink.posts)
        return re.search(r"can't find|isn't yours|no nudge", answers, re.IGNORECASE) is not None

    await slack.until(refused)
    await _settle()
    assert slack.fake.calls_to("chat.update") == []
    assert slack.fake.message(channel, message["ts"]) == message
    assert await snapshot(slack.runtime.engine) == before


async def test_settings_button_and_submission_touch_only_the_clicker(
        slack: SlackHarness, clock: Clock) -> None:
    await _deliver(slack, clock)
    assert (await slack.runtime.rapport.handle_text(slack.actor(), "settings tz Asia/Tokyo")).ok
    # Sam uses Rapport too (the Settings button and form store nothing for someone without rows).
    assert (await slack.runtime.rapport.handle_text(slack.actor(SAM), "people")).ok
    alex_before = await _user_row(slack, ALEX)

    await slack.interaction(slack.block_action(
        user=SAM, action={"type": "button", "action_id": b.ACTION_OPEN_SETTINGS,
                          "block_id": "home_actions", "value": ALEX}))
    await slack.until(lambda: bool(slack.fake.calls_to("views.open")))
    [opened] = slack.fake.calls_to("views.open")
    assert "Asia/Tokyo" not in json.dumps(opened.args["view"])  # Sam sees his own settings

    values = {"tz": {"value": {"type": "plain_text_input", "value": "Europe/Paris"}},
              "window": {"value": {"type": "plain_text_input", "value": "08:00-12:00"}},
              "days": {"value": {"type": "checkboxes",
                                 "selected_options": [{"value": "0"}, {"value": "1"}]}},
              "cap": {"value": {"type": "static_select", "selected_option": {"value": "7"}}},
              "digest": {"value": {"type": "radio_buttons", "selected_option": {"value": "off"}}},
              "ai": {"value": {"type": "radio_buttons", "selected_option": {"value": "off"}}}}
    forged = json.dumps({"user_id": ALEX, "team_id": slack.team_id})
    status, _ = await slack.interaction(_view_submission(
        slack, user=SAM, callback_id=b.CALLBACK_SETTINGS, values=values,
        private_metadata=forged))
    assert status == 200
    await _settle()

    assert await _user_row(slack, ALEX) == alex_before
    sam = await _user_row(slack, SAM)
    assert sam["tz"] == "Europe/Paris" and sam["daily_cap"] == 7  # it was Sam's own change


async def test_log_modal_with_forged_metadata_logs_only_for_the_submitter(
        slack: SlackHarness, clock: Clock) -> None:
    await _deliver(slack, clock)
    async with slack.runtime.sessions() as session:
        alex_contact = await session.scalar(select(Contact.id))
    alex_rows = await _rows_of(slack, ALEX)
    forged = json.dumps({"user_id": ALEX, "contact_id": alex_contact, "team_id": slack.team_id})
    values = {"contact": {"value": {"type": "users_select", "selected_user": "U0DANA"}},
              "kind": {"value": {"type": "static_select", "selected_option": {"value": "call"}}},
              "summary": {"value": {"type": "plain_text_input", "value": "forged"}}}

    status, body = await slack.interaction(_view_submission(
        slack, user=SAM, callback_id=b.CALLBACK_LOG_TOUCHPOINT, values=values,
        private_metadata=forged))

    assert status == 200 and "errors" not in body
    await _settle()
    assert await _rows_of(slack, ALEX) == alex_rows
    sam_touches = (await _rows_of(slack, SAM))["touchpoints"]
    assert [t[1] for t in sam_touches] == ["forged"]


async def test_draft_submission_with_another_users_draft_id_changes_nothing(
        slack: SlackHarness, clock: Clock) -> None:
    nudge_id, _channel, _message = await _deliver(slack, clock)
    runtime = slack.runtime
    runtime.rapport.drafter = build_draft_service(sessions=runtime.sessions,
                                                  settings=runtime.settings, clock=clock)
    reply = await runtime.rapport.handle_text(slack.actor(), f"draft #{nudge_id}")
    assert reply.ok and reply.draft is not None, reply.text
    before = await snapshot(runtime.engine)
    metadata = json.dumps({"draft_id": reply.draft.draft_id, "contact_id": reply.draft.contact_id,
                           "nudge_id": nudge_id})
    values = {"draft": {"value": {"type": "plain_text_input", "value": "Sam's words now"}}}

    status, _ = await slack.interaction(_view_submission(
        slack, user=SAM, callback_id=b.CALLBACK_DRAFT, values=values,
        private_metadata=metadata))

    assert status == 200
    await _settle()
    assert await snapshot(runtime.engine) == before
    async with runtime.sessions() as session:
        draft = await session.get(Draft, reply.draft.draft_id)
    assert draft is not None and not draft.final_text
    assert slack.fake.calls_to("chat.postMessage")[1:] == []  # only the nudge itself


async def test_oauth_workspace_cannot_act_on_another_installed_workspaces_nudge(
        make_harness: HarnessFactory, clock: Clock) -> None:
    slack = await make_harness(slack_bot_token=None, slack_client_id="1111111111.2222222222",
                               slack_client_secret="fake-client-secret")
    for team in ("T0NEW", "T0TWO"):
        await _oauth_install(slack, team)
    victim = Actor(platform="slack", workspace_external_id="T0NEW", user_external_id=ALEX)
    rapport = slack.runtime.rapport
    assert (await rapport.handle_text(victim, "add Dana")).ok
    assert (await rapport.handle_text(victim, "note Dana: the launch on today")).ok
    await slack.runtime.sweeper.plan(clock())
    async with slack.runtime.sessions() as session:
        nudge_id = int(await session.scalar(select(Nudge.id)) or 0)
    assert nudge_id
    assert (await slack.command("help", user=ALEX, team="T0TWO"))[0] == 200  # a user there too
    await _settle()
    before = await snapshot(slack.runtime.engine)

    # The same Slack user id, clicking from the other installed workspace.
    for action_id in NUDGE_ACTIONS:
        payload = slack.block_action(user=ALEX, team="T0TWO", action=_action(action_id, nudge_id))
        status, _ = await slack.interaction(payload)
        assert status == 200, action_id
    status, body = await slack.command(f"done #{nudge_id}", user=ALEX, team="T0TWO")
    assert status == 200 and "can't find" in body.lower(), body

    await _settle()
    assert slack.fake.calls_to("chat.update") == [] and slack.fake.calls_to("views.open") == []
    assert await snapshot(slack.runtime.engine) == before


# ---------------------------------------------------------------------------------- helpers
async def _user_row(slack: SlackHarness, external_id: str) -> dict[str, Any]:
    async with slack.runtime.sessions() as session:
        user = await session.scalar(select(User).where(User.external_id == external_id))
        assert user is not None
        return {column: getattr(user, column) for column in
                ("tz", "window_start_minute", "window_end_minute", "working_days",
                 "daily_cap", "digest", "ai_enabled")}


async def _rows_of(slack: SlackHarness, external_id: str) -> dict[str, list[tuple[Any, ...]]]:
    async with slack.runtime.sessions() as session:
        user_id = await session.scalar(select(User.id).where(User.external_id == external_id))
        contacts = (await session.execute(
            select(Contact.id, Contact.name, Contact.last_touch_at)
            .where(Contact.user_id == user_id).order_by(Contact.id))).all()
        touches = (await session.execute(
            select(Touchpoint.id, Touchpoint.summary).where(Touchpoint.user_id == user_id)
            .order_by(Touchpoint.id))).all()
    return {"contacts": [tuple(r) for r in contacts], "touchpoints": [tuple(r) for r in touches]}


async def _oauth_install(slack: SlackHarness, team: str) -> None:
    async with slack.http.get(f"{slack.base}/slack/install") as response:
        assert response.status == 200
        page = await response.text()
        cookies = response.headers.getall("Set-Cookie")
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert link is not None, page
    query = urllib.parse.parse_qs(urllib.parse.urlparse(link.group(1).replace("&amp;", "&")).query)
    code = slack.fake.add_oauth_code(team_id=team, team_name=team, user_id=ALEX)
    cookie = next(c.split(";")[0] for c in cookies if c.startswith("slack-app-oauth-state"))
    async with slack.http.get(f"{slack.base}/slack/oauth_redirect",
                              params={"code": code, "state": query["state"][0]},
                              headers={"Cookie": cookie}) as response:
        assert response.status == 200, await response.text()
