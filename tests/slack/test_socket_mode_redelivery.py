"""Over Socket Mode Slack redelivers an event whose envelope was not acked in time (or whose
socket dropped), possibly to another replica's socket: every replica handles an event id
once, as over HTTP. The envelopes go through Bolt's own Socket Mode entry point."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app
from slack_sdk.socket_mode.request import SocketModeRequest
from sqlalchemy import func, select

from rapport.bot.platforms.slack import SLACK_KEY
from rapport.bot.platforms.slack.acks import finish_answers
from rapport.storage.models import Touchpoint
from tests.slack.conftest import ALEX, HarnessFactory, SlackHarness

REPLAY_LOGGER = "rapport.bot.platforms.slack.transport"


def _envelope(slack: SlackHarness, payload: dict[str, Any], kind: str, *,
              attempt: int | None = None) -> SocketModeRequest:
    """A Socket Mode envelope as Slack sends it; each delivery has its own envelope id."""
    message: dict[str, Any] = {"type": kind, "envelope_id": f"env-{time.time_ns()}",
                               "payload": payload,
                               "accepts_response_payload": kind != "events_api"}
    if attempt:
        message.update(retry_attempt=attempt, retry_reason="timeout")
    request = SocketModeRequest.from_dict(message)
    assert request is not None
    return request


def _dm_event(slack: SlackHarness, text: str, event_id: str) -> dict[str, Any]:
    channel = slack.fake.dm_channel_id(ALEX)
    if channel not in slack.fake.channels:
        slack.fake.add_channel(channel, members=[ALEX])
    return {"token": "legacy", "team_id": slack.team_id, "api_app_id": slack.fake.app_id,
            "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
            "event": {"type": "message", "channel_type": "im", "channel": channel,
                      "user": ALEX, "text": text, "ts": "1700000000.000300",
                      "event_ts": "1700000000.000300"}}


async def _over_the_socket(slack: SlackHarness, request: SocketModeRequest) -> int:
    response = await run_async_bolt_app(slack.extra["app"][SLACK_KEY].app, request)
    return int(response.status)


async def _touchpoints(slack: SlackHarness) -> int:
    async with slack.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Touchpoint)) or 0)


def _logged(slack: SlackHarness) -> int:
    channel = slack.fake.dm_channel_id(ALEX)
    return sum("Logged coffee" in m.get("text", "") for m in slack.fake.messages_in(channel))


async def test_an_event_redelivered_over_the_socket_is_handled_once(
        slack: SlackHarness, caplog: pytest.LogCaptureFixture) -> None:
    await slack.runtime.rapport.handle_text(slack.actor(), "add Dana")
    payload = _dm_event(slack, "log Dana yesterday: coffee", "Ev0SOCKET1")
    with caplog.at_level(logging.INFO, logger=REPLAY_LOGGER):
        assert await _over_the_socket(slack, _envelope(slack, payload, "events_api")) == 200
        await slack.until(lambda: _logged(slack) == 1)
        # Acked with 200 (an empty ack), so Slack stops sending it.
        assert await _over_the_socket(
            slack, _envelope(slack, payload, "events_api", attempt=1)) == 200
        await finish_answers()
    assert await _touchpoints(slack) == 1
    assert _logged(slack) == 1
    [again] = [r for r in caplog.records if r.getMessage() == "slack event already handled"]
    assert again.levelno == logging.INFO and again.__dict__["retry_num"] == "1"


async def test_an_event_redelivered_to_another_replicas_socket_is_handled_once(
        make_harness: HarnessFactory) -> None:
    first = await make_harness()
    second = await make_harness()  # the same database, its own socket
    await first.runtime.rapport.handle_text(first.actor(), "add Dana")
    payload = _dm_event(first, "log Dana yesterday: coffee", "Ev0SOCKET2")
    assert await _over_the_socket(first, _envelope(first, payload, "events_api")) == 200
    await first.until(lambda: _logged(first) == 1)
    assert await _over_the_socket(second, _envelope(second, payload, "events_api")) == 200
    await finish_answers()
    assert await _touchpoints(first) == 1
    assert _logged(first) == 1


async def test_two_events_and_two_commands_over_the_socket_are_each_handled(
        slack: SlackHarness) -> None:
    """Different event ids are different events; slash commands (never redelivered, and
    unsigned over the socket) are not refused as replays, the same text twice included."""
    await slack.runtime.rapport.handle_text(slack.actor(), "add Dana")
    for event_id in ("Ev0SOCKET3", "Ev0SOCKET4"):
        payload = _dm_event(slack, "log Dana yesterday: coffee", event_id)
        assert await _over_the_socket(slack, _envelope(slack, payload, "events_api")) == 200
    await slack.until(lambda: _logged(slack) == 2)
    for _ in range(2):
        command = {"token": "legacy", "team_id": slack.team_id, "team_domain": "rapport",
                   "channel_id": "C0GENERAL", "user_id": ALEX, "user_name": "alex",
                   "command": "/rapport", "text": "add Sam Lee",
                   "api_app_id": slack.fake.app_id, "response_url": slack.sink.url,
                   "trigger_id": slack.fake.new_trigger_id()}
        request = _envelope(slack, command, "slash_commands")
        response = await run_async_bolt_app(slack.extra["app"][SLACK_KEY].app, request)
        assert response.status == 200, response.body
        assert "Sam Lee" in json.loads(response.body)["text"]
    await finish_answers()
    assert await _touchpoints(slack) == 2
