"""Listeners answer at their ack and carry on after it (acks.py), through the real Bolt app
with `process_before_response=True`, as the platform runs it."""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from rapport.bot.platforms.slack.acks import answered_at_ack


async def _authorize(**_: Any) -> AuthorizeResult:
    return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-test",
                           bot_user_id="UBOT", bot_id="BBOT")


def _app() -> AsyncApp:
    return AsyncApp(signing_secret="unused", authorize=_authorize,
                    process_before_response=True, request_verification_enabled=False)


async def _eventually(condition: Callable[[], bool]) -> None:
    """Let the listener's task run until `condition` holds (a guard against a hang, not a
    time limit: a loaded machine may take a while)."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)


def _command(text: str = "hello") -> AsyncBoltRequest:
    body = urllib.parse.urlencode({
        "command": "/rapport", "text": text, "team_id": "T1", "user_id": "U1",
        "channel_id": "D1", "trigger_id": "1.2.3", "response_url": "http://127.0.0.1:9/r"})
    return AsyncBoltRequest(body=body, headers={
        "content-type": ["application/x-www-form-urlencoded"]})


async def test_the_answer_goes_out_at_the_ack_while_the_listener_carries_on() -> None:
    app = _app()
    release = asyncio.Event()
    steps: list[str] = []

    async def listener(ack: Any, command: dict[str, Any]) -> None:
        await ack(text=f"got {command['text']}")
        steps.append("acked")
        await release.wait()
        steps.append("after")

    app.command("/rapport")(answered_at_ack(listener))
    response = await asyncio.wait_for(app.async_dispatch(_command()), timeout=30)
    assert response.status == 200 and "got hello" in response.body
    assert steps == ["acked"]  # answered while the listener was still at work
    release.set()
    await _eventually(lambda: steps == ["acked", "after"])
    assert steps == ["acked", "after"]


async def test_a_failure_before_the_ack_reaches_bolt_s_error_handler() -> None:
    app = _app()
    handled: list[str] = []

    async def on_error(error: Exception) -> BoltResponse:
        handled.append(type(error).__name__)
        return BoltResponse(status=400, body="")

    app.error(on_error)

    async def listener(ack: Any, command: dict[str, Any]) -> None:
        raise KeyError("user_id")

    app.command("/rapport")(answered_at_ack(listener))
    response = await asyncio.wait_for(app.async_dispatch(_command()), timeout=30)
    assert handled == ["KeyError"]
    assert response.status == 400


async def test_a_failure_after_the_ack_keeps_the_answer_and_is_logged_once(
        caplog: pytest.LogCaptureFixture) -> None:
    app = _app()
    failed = asyncio.Event()

    async def listener(ack: Any) -> None:
        await ack(text="done")
        await asyncio.sleep(0)
        failed.set()
        raise RuntimeError("after the answer")

    app.command("/rapport")(answered_at_ack(listener))
    with caplog.at_level(logging.ERROR, logger="rapport.bot.platforms.slack.acks"):
        response = await asyncio.wait_for(app.async_dispatch(_command()), timeout=30)
        await asyncio.wait_for(failed.wait(), timeout=30)
        await _eventually(lambda: bool(caplog.records))
    assert response.status == 200 and "done" in response.body
    failures = [r for r in caplog.records if r.getMessage() == "slack listener failed"]
    assert len(failures) == 1 and getattr(failures[0], "error", None) == "RuntimeError"
    assert "after the answer" not in caplog.text  # no exception text in the log


async def test_an_event_is_acknowledged_at_once_however_long_its_listener_takes() -> None:
    app = _app()
    release = asyncio.Event()
    seen: list[str] = []

    async def on_home(event: dict[str, Any]) -> None:
        seen.append(event["user"])
        await release.wait()
        seen.append("published")

    app.event("app_home_opened")(answered_at_ack(on_home))
    request = AsyncBoltRequest(body=(
        '{"type": "event_callback", "team_id": "T1", "api_app_id": "A1", '
        '"event": {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}}'),
        headers={"content-type": ["application/json"]})
    response = await asyncio.wait_for(app.async_dispatch(request), timeout=30)
    assert response.status == 200
    await asyncio.sleep(0)
    assert "published" not in seen
    release.set()
    await _eventually(lambda: "published" in seen)
    assert seen == ["U1", "published"]


async def test_bolt_passes_the_listener_the_arguments_it_names() -> None:
    app = _app()
    received: dict[str, Any] = {}

    async def listener(ack: Any, command: dict[str, Any], context: Any) -> None:
        received.update(text=command["text"], team=context["team_id"])
        await ack()

    app.command("/rapport")(answered_at_ack(listener))
    response = await asyncio.wait_for(app.async_dispatch(_command("due")), timeout=30)
    assert response.status == 200
    assert received == {"text": "due", "team": "T1"}


async def test_shutting_down_waits_for_answers_still_being_sent(slack: Any) -> None:
    """A restart while a command is still being answered after its ack (the person was told
    "Working on it") sends that answer before the app stops, instead of cutting it."""
    slack.fake.latency = 0.3  # users.info for the uncached mention takes a while
    status, body = await slack.command("log <@U0DANA|dana> lunch")
    assert status == 200 and "Working on it" in body
    assert not slack.sink.posts
    await slack.extra["app"].shutdown()  # what `rapport serve` runs on SIGTERM, first
    assert [post["text"] for post in slack.sink.posts] == [
        "Logged lunch with Dana Scully. I added Dana Scully to your people."]
