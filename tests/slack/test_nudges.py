"""Nudges delivered by the real Sweeper through the Slack messenger, and their buttons."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from rapport.bot.core.views import DraftView, Reply
from rapport.storage.models import Nudge, Touchpoint, User
from tests.conftest import Clock, snapshot
from tests.slack.conftest import ALEX, SAM, SlackHarness

NUDGE_BUTTONS = ["nudge_done", "nudge_snooze_1d", "nudge_snooze_1w", "nudge_snooze_pick",
                 "nudge_draft", "nudge_dismiss"]


async def _deliver_one(slack: SlackHarness, clock: Clock, *names: str) -> list[int]:
    for name in names or ("Dana",):
        await slack.runtime.rapport.handle_text(slack.actor(), f"add {name}")
        reply = await slack.runtime.rapport.handle_text(
            slack.actor(), f"note {name}: hiking trip in Yosemite after Saturday")
        assert reply.ok, reply.text
    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))  # Monday after the trip
    report = await slack.runtime.sweeper.sweep()
    assert report.sent == len(names or ("Dana",)), report
    async with slack.runtime.sessions() as session:
        return list((await session.scalars(select(Nudge.id).order_by(Nudge.id))).all())


def _dm(slack: SlackHarness) -> tuple[str, dict[str, Any]]:
    [message] = slack.fake.messages_in(ALEX)
    return slack.fake.dm_channel_id(ALEX), message


def _action(action_id: str, nudge_id: int, **extra: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "block_id": f"nudge_{nudge_id}",
            "value": str(nudge_id), **extra}


async def _status(slack: SlackHarness, nudge_id: int) -> str:
    async with slack.runtime.sessions() as session:
        nudge = await session.get(Nudge, nudge_id)
        assert nudge is not None
        return nudge.status


async def test_nudge_arrives_as_a_dm_with_reason_context_and_buttons(
        slack: SlackHarness, clock: Clock) -> None:
    [nudge_id] = await _deliver_one(slack, clock)
    assert [c.ok for c in slack.fake.calls_to("conversations.open")] == [True]
    _channel, message = _dm(slack)
    assert "Ask Dana about the hiking trip in Yosemite" in message["text"]
    actions = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [a["block_id"] for a in actions] == [f"nudge_{nudge_id}"]
    assert [e["action_id"] for e in actions[0]["elements"]] == NUDGE_BUTTONS
    assert await _status(slack, nudge_id) == "sent"


async def test_done_click_updates_the_message_in_place_and_logs(
        slack: SlackHarness, clock: Clock) -> None:
    [nudge_id] = await _deliver_one(slack, clock)
    channel, message = _dm(slack)
    status, _ = await slack.interaction(slack.block_action(
        user=ALEX, action=_action("nudge_done", nudge_id), channel=channel, message=message))
    assert status == 200
    await slack.until(lambda: bool(slack.fake.calls_to("chat.update")))
    updated = slack.fake.message(channel, message["ts"])
    assert updated is not None and "edited" in updated
    assert not [b for b in updated["blocks"] if b["type"] == "actions"]
    outcome = next(b for b in updated["blocks"] if b.get("block_id") == f"nudge_outcome_{nudge_id}")
    assert "Dana" in outcome["elements"][0]["text"]
    assert await _status(slack, nudge_id) == "done"
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(Touchpoint.source)) is not None
    await slack.until(lambda: slack.fake.home_view(ALEX) is not None)


async def test_snooze_to_a_picked_date(slack: SlackHarness, clock: Clock) -> None:
    [nudge_id] = await _deliver_one(slack, clock)
    channel, message = _dm(slack)
    action = {"type": "datepicker", "action_id": "nudge_snooze_pick",
              "block_id": f"nudge_{nudge_id}", "selected_date": "2026-12-10"}
    await slack.interaction(slack.block_action(user=ALEX, action=action, channel=channel,
                                               message=message))
    await slack.until(lambda: bool(slack.fake.calls_to("chat.update")))
    assert await _status(slack, nudge_id) == "snoozed"
    updated = slack.fake.message(channel, message["ts"])
    assert updated is not None and "Dec" in str(updated["blocks"])


async def test_another_users_nudge_is_refused_and_nothing_changes(
        slack: SlackHarness, clock: Clock) -> None:
    [nudge_id] = await _deliver_one(slack, clock)
    channel, message = _dm(slack)
    before = await snapshot(slack.runtime.engine)
    status, _ = await slack.interaction(slack.block_action(
        user=SAM, action=_action("nudge_done", nudge_id), channel=channel, message=message))
    assert status == 200
    await slack.until(lambda: bool(slack.sink.posts))
    assert "isn't yours" in slack.sink.posts[0]["text"]
    assert slack.fake.calls_to("chat.update") == []
    assert await snapshot(slack.runtime.engine) == before


@pytest.mark.parametrize("value", ["²", "9" * 25, "9" * 5000])
async def test_a_tampered_button_value_is_refused_as_malformed_not_a_listener_failure(
        slack: SlackHarness, clock: Clock, value: str, caplog: pytest.LogCaptureFixture
        ) -> None:
    """Digits to `str.isdigit` that `int` or the database cannot take ("²", an id past a
    64-bit integer): the click is refused in one log line and changes nothing."""
    await _deliver_one(slack, clock)
    channel, message = _dm(slack)
    before = await snapshot(slack.runtime.engine)
    action = {"type": "button", "action_id": "nudge_done", "block_id": "nudge_1",
              "value": value}
    status, _ = await slack.interaction(slack.block_action(
        user=ALEX, action=action, channel=channel, message=message))
    assert status == 200
    await slack.until(lambda: any(r.getMessage() == "nudge action refused"
                                  for r in caplog.records))
    assert [r.__dict__.get("reason") for r in caplog.records
            if r.getMessage() == "nudge action refused"] == ["malformed"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert await snapshot(slack.runtime.engine) == before


async def test_a_button_left_after_forgetting_the_person_says_the_nudge_is_gone(
        slack: SlackHarness, clock: Clock) -> None:
    [nudge_id] = await _deliver_one(slack, clock)
    channel, message = _dm(slack)
    reply = await slack.runtime.rapport.handle_text(slack.actor(), "forget Dana confirm")
    assert reply.ok, reply.text
    status, _ = await slack.interaction(slack.block_action(
        user=ALEX, action=_action("nudge_done", nudge_id), channel=channel, message=message))
    assert status == 200
    await slack.until(lambda: bool(slack.sink.posts))
    # The same answer as Teams and the console give, not "That nudge isn't yours."
    assert slack.sink.posts[0]["text"] == f"I can't find nudge #{nudge_id} among yours."
    assert slack.fake.calls_to("chat.update") == []


async def test_a_button_on_the_ephemeral_due_answer_says_what_happened(
        slack: SlackHarness, clock: Clock) -> None:
    [nudge_id] = await _deliver_one(slack, clock)
    status, body = await slack.command("due")
    assert status == 200 and f"nudge_{nudge_id}" in body  # the due list carries the buttons
    payload = slack.block_action(user=ALEX, action=_action("nudge_done", nudge_id))
    payload["container"] = {"type": "message", "message_ts": "1.1", "channel_id": "C0GENERAL",
                            "is_ephemeral": True}
    await slack.interaction(payload)
    await slack.until(lambda: bool(slack.sink.posts))
    # Slack can't chat.update an ephemeral message: the answer comes through response_url.
    assert "Logged that you reached out to Dana" in slack.sink.posts[0]["text"]
    assert slack.fake.calls_to("chat.update") == []
    assert await _status(slack, nudge_id) == "done"


async def test_another_workspace_is_refused_and_nothing_changes(
        slack: SlackHarness, clock: Clock) -> None:
    [nudge_id] = await _deliver_one(slack, clock)
    slack.fake.add_workspace("T0OTHER", "Other")
    channel, message = _dm(slack)
    before = await snapshot(slack.runtime.engine)
    status, body = await slack.interaction(slack.block_action(
        user=ALEX, team="T0OTHER", action=_action("nudge_dismiss", nudge_id), channel=channel,
        message=message))
    assert (status, body) == (200, "")  # Bolt's authorize refused it: no listener ran
    await asyncio.sleep(0.2)  # nothing deferred either
    assert slack.fake.calls_to("chat.update") == []
    assert await snapshot(slack.runtime.engine) == before
    assert await _status(slack, nudge_id) == "sent"


async def test_digest_lists_several_people_with_their_own_buttons(
        slack: SlackHarness, clock: Clock) -> None:
    ids = await _deliver_one(slack, clock, "Dana", "Riley")
    _channel, message = _dm(slack)
    assert message["blocks"][0]["type"] == "header"
    actions = [b["block_id"] for b in message["blocks"] if b["type"] == "actions"]
    assert sorted(actions) == sorted(f"nudge_{i}" for i in ids)


async def test_a_429_is_retried_and_the_nudge_delivered_once(
        slack: SlackHarness, clock: Clock) -> None:
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=0)
    [nudge_id] = await _deliver_one(slack, clock)
    calls = slack.fake.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert len(slack.fake.messages_in(ALEX)) == 1
    assert await _status(slack, nudge_id) == "sent"
    assert (await slack.runtime.sweeper.sweep()).sent == 0


async def test_user_not_found_pauses_the_user_instead_of_retrying(
        slack: SlackHarness, clock: Clock) -> None:
    await slack.runtime.rapport.handle_text(slack.actor(), "add Dana")
    await slack.runtime.rapport.handle_text(
        slack.actor(), "note Dana: hiking trip in Yosemite after Saturday")
    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))
    slack.fake.fail_next("conversations.open", error="user_not_found")
    report = await slack.runtime.sweeper.sweep()
    assert report.sent == 0 and report.gone_users == 1
    async with slack.runtime.sessions() as session:
        user = await session.scalar(select(User).where(User.external_id == ALEX))
    assert user is not None and not user.active and user.inactive_reason == "user_not_found"
    assert slack.fake.messages_in(ALEX) == []


class TemplateDrafter:
    """A stand-in for bot/drafts.py that answers with a fixed template DraftView."""

    async def draft_for(self, ctx: object, contact_id: int, nudge_id: int | None) -> Reply:
        view = DraftView(draft_id=7, contact_id=contact_id, contact_name="Dana",
                         text="Hi Dana, how was the hiking trip?", provider="template",
                         is_template=True, disclosure_policy="optional", can_post=False)
        return Reply("Here is a draft.", view=view)


async def test_draft_button_opens_a_modal_with_the_editable_draft(
        slack: SlackHarness, clock: Clock) -> None:
    [nudge_id] = await _deliver_one(slack, clock)
    slack.runtime.rapport.drafter = TemplateDrafter()
    channel, message = _dm(slack)
    await slack.interaction(slack.block_action(
        user=ALEX, action=_action("nudge_draft", nudge_id), channel=channel, message=message))
    await slack.until(lambda: bool(slack.fake.calls_to("views.update")))
    [opened] = slack.fake.calls_to("views.open")
    [updated] = slack.fake.calls_to("views.update")
    assert opened.ok and updated.ok, updated.response
    view = updated.args["view"]
    assert view["callback_id"] == "draft_edit"
    field = next(b for b in view["blocks"] if b.get("block_id") == "draft")
    assert field["element"]["multiline"] is True
    assert field["element"]["initial_value"] == "Hi Dana, how was the hiking trip?"
    assert await _status(slack, nudge_id) == "sent"  # a draft is not an outcome


async def test_draft_button_without_ai_explains_in_the_modal(
        slack: SlackHarness, clock: Clock) -> None:
    [nudge_id] = await _deliver_one(slack, clock)
    channel, message = _dm(slack)
    await slack.interaction(slack.block_action(
        user=ALEX, action=_action("nudge_draft", nudge_id), channel=channel, message=message))
    await slack.until(lambda: bool(slack.fake.calls_to("views.update")))
    [updated] = slack.fake.calls_to("views.update")
    assert "own words" in str(updated.args["view"]["blocks"])


async def test_a_long_due_answer_keeps_each_nudge_card_in_one_message(
        slack: SlackHarness, clock: Clock) -> None:
    rapport, actor = slack.runtime.rapport, slack.actor()
    for i in range(30):
        assert (await rapport.handle_text(actor, f"add P{i:03d} Zed every 2 weeks")).ok
        assert (await rapport.handle_text(actor, f"log P{i:03d} 3 weeks ago: chat")).ok
    clock.set(clock.now + timedelta(hours=1))
    await slack.runtime.sweeper.plan(clock())
    status, body = await slack.command("due")
    assert status == 200
    await slack.until(lambda: len(slack.sink.posts) >= 2)
    pages = [json.loads(body)["blocks"]] + [post["blocks"] for post in slack.sink.posts]
    headlines = 0
    for page in pages:
        assert len(page) <= 50
        # A card is its headline, its context line and its buttons, in one message.
        for at, block in enumerate(page):
            if str(block.get("block_id", "")).startswith("nudge_text_"):
                nudge_id = block["block_id"].removeprefix("nudge_text_")
                assert [b.get("block_id") for b in page[at + 2:at + 3]] == [f"nudge_{nudge_id}"]
                headlines += 1
    assert headlines == 30
