"""A click whose modal Slack refuses to open (its trigger id expired: more than 3 s passed
before Rapport asked) is told to the person, not dropped, and is no listener failure."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from rapport.bot.core.drafts import build_draft_service
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.modals import NOT_OPENED
from rapport.bot.service.config import Settings
from rapport.storage.models import Contact, Draft, Nudge
from tests.conftest import Clock
from tests.fakes.openai_api import FakeOpenAI
from tests.slack.conftest import ALEX, DANA, SlackHarness


@pytest.fixture
async def ai_slack(slack: SlackHarness, fake_openai_env: FakeOpenAI,
                   clock: Clock) -> AsyncIterator[SlackHarness]:
    """The harness with AI drafts from FakeOpenAI, so a draft has an editor to open."""
    service = build_draft_service(sessions=slack.runtime.sessions,
                                  settings=Settings(ai_timeout_seconds=10), clock=clock)
    slack.runtime.rapport.drafter = service
    yield slack
    if service.provider is not None:
        await service.provider.close()


def _expire_the_next_trigger(slack: SlackHarness) -> None:
    slack.fake.fail_next("views.open", error="expired_trigger_id")


def _no_listener_failure(caplog: pytest.LogCaptureFixture) -> None:
    errors = [record.getMessage() for record in caplog.records
              if record.levelno >= logging.ERROR]
    assert errors == []
    assert any(record.getMessage() == "views.open failed"
               and getattr(record, "error", None) == "expired_trigger_id"
               for record in caplog.records)


async def _told_to_try_again(slack: SlackHarness) -> None:
    await slack.until(lambda: bool(slack.sink.posts))
    assert [post["text"] for post in slack.sink.posts] == [NOT_OPENED]
    assert all(post["response_type"] == "ephemeral" for post in slack.sink.posts)


async def test_a_nudges_draft_button_answers_the_draft_in_the_conversation(
        ai_slack: SlackHarness, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    slack = ai_slack
    caplog.set_level(logging.INFO)
    rapport = slack.runtime.rapport
    assert (await rapport.handle_text(slack.actor(), "add Dana")).ok
    assert (await rapport.handle_text(
        slack.actor(), "note Dana: hiking trip in Yosemite after Saturday")).ok
    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))
    await slack.runtime.sweeper.sweep()
    async with slack.runtime.sessions() as session:
        nudge_id = await session.scalar(select(Nudge.id))
    [message] = slack.fake.messages_in(ALEX)
    _expire_the_next_trigger(slack)
    status, _ = await slack.interaction(slack.block_action(
        user=ALEX, channel=slack.fake.dm_channel_id(ALEX), message=message,
        action={"type": "button", "action_id": b.ACTION_DRAFT, "block_id": f"nudge_{nudge_id}",
                "value": str(nudge_id)}))
    assert status == 200
    await slack.until(lambda: bool(slack.sink.posts))
    # The draft, with the button that opens the editor on a fresh click.
    [answer] = slack.sink.posts
    async with slack.runtime.sessions() as session:
        draft_id = await session.scalar(select(Draft.id))
    assert {"action_id": b.ACTION_DRAFT_OPEN, "value": str(draft_id)}.items() <= \
        answer["blocks"][-1]["elements"][0].items()
    _no_listener_failure(caplog)


def _shortcut(slack: SlackHarness) -> dict[str, Any]:
    return {"type": "message_action", "callback_id": b.CALLBACK_LOG_TOUCHPOINT,
            "team": {"id": slack.team_id, "domain": "rapport"},
            "user": {"id": ALEX, "username": "alex", "team_id": slack.team_id},
            "api_app_id": slack.fake.app_id, "token": "legacy",
            "trigger_id": slack.fake.new_trigger_id(), "response_url": slack.sink.url,
            "channel": {"id": "C0GENERAL", "name": "general"}, "message_ts": "1.000100",
            "message": {"type": "message", "user": DANA, "ts": "1.000100", "text": "hi"}}


async def test_the_log_touchpoint_shortcut_says_to_try_again(
        slack: SlackHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    _expire_the_next_trigger(slack)
    status, _ = await slack.interaction(_shortcut(slack))
    assert status == 200
    await _told_to_try_again(slack)
    _no_listener_failure(caplog)


@pytest.mark.parametrize("action_id", [b.ACTION_PERSON_LOG, b.ACTION_PERSON_OPEN])
async def test_a_person_cards_form_buttons_say_to_try_again(
        slack: SlackHarness, caplog: pytest.LogCaptureFixture, action_id: str) -> None:
    caplog.set_level(logging.INFO)
    assert (await slack.runtime.rapport.handle_text(slack.actor(), "add Dana Scully")).ok
    async with slack.runtime.sessions() as session:
        contact_id = await session.scalar(select(Contact.id))
    payload = slack.block_action(user=ALEX, action={
        "type": "button", "action_id": action_id, "block_id": f"person_{contact_id}",
        "value": str(contact_id)})
    payload["container"] = {"type": "message", "message_ts": "1.1", "channel_id": "C0GENERAL",
                            "is_ephemeral": True}
    _expire_the_next_trigger(slack)
    status, _ = await slack.interaction(payload)
    assert status == 200
    await _told_to_try_again(slack)
    _no_listener_failure(caplog)


async def test_edit_and_send_says_to_try_again(ai_slack: SlackHarness,
                                               caplog: pytest.LogCaptureFixture) -> None:
    slack = ai_slack
    caplog.set_level(logging.INFO)
    assert (await slack.runtime.rapport.handle_text(slack.actor(), "add Dana Scully")).ok
    assert (await slack.runtime.rapport.handle_text(slack.actor(), "draft Dana")).draft
    async with slack.runtime.sessions() as session:
        draft_id = await session.scalar(select(Draft.id))
    _expire_the_next_trigger(slack)
    status, _ = await slack.interaction(slack.block_action(user=ALEX, action={
        "type": "button", "action_id": b.ACTION_DRAFT_OPEN, "block_id": "draft_open",
        "value": str(draft_id)}))
    assert status == 200
    await _told_to_try_again(slack)
    _no_listener_failure(caplog)
