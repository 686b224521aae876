"""Malformed requests to /slack/events before authentication: 400 with one log line, never a
500, nothing changed, nothing remembered, no call to Slack."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse

import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

from rapport.bot.service.payloads import MAX_JSON_DEPTH, json_too_deep
from rapport.storage.models import SeenSignature
from tests.conftest import snapshot
from tests.slack.conftest import SECRET, SlackHarness


def _signed(body: str, timestamp: str) -> dict[str, str]:
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}


def _nested_event(depth: int) -> str:
    inner = "0"
    for _ in range(depth):
        inner = '{"a":' + inner + "}"
    return json.dumps({"type": "event_callback", "team_id": "T0TEST",
                       "event": {"type": "app_home_opened", "user": "U0ALEX"}})[:-1] + \
        ', "x": ' + inner + "}"


def _cases() -> list[tuple[str, str, str, dict[str, str]]]:
    """(name, body, content type, headers) of hostile requests, signed where it matters."""
    now = str(int(time.time()))
    command = urllib.parse.urlencode({"team_id": "T0TEST", "user_id": "U0ALEX",
                                      "command": "/rapport", "text": "log Dana coffee"})
    form = "application/x-www-form-urlencoded"
    cases: list[tuple[str, str, str, dict[str, str]]] = [
        (f"timestamp {bad!r}", command, form, _signed(command, bad))
        # (HTTP strips spaces around header values, so " 1700000000" is no such case.)
        for bad in ("abc", "", "1.7e9", "1_700_000_000", "+" + now, "١٧٠٠٠٠٠٠٠٠",
                    "0x6553f100", "9" * 40, "-1", now + "abc")
    ]
    for depth in (MAX_JSON_DEPTH + 1, 2_000, 100_000):
        arrays = "[" * depth + "]" * depth
        cases.append((f"json array {depth}", arrays, "application/json", _signed(arrays, now)))
        event = _nested_event(depth)
        cases.append((f"json event {depth}", event, "application/json", _signed(event, now)))
        payload = urllib.parse.urlencode({"payload": '{"type": "block_actions", "x": '
                                          + "[" * depth + "]" * depth + "}"})
        cases.append((f"form payload {depth}", payload, form, _signed(payload, now)))
    unsigned = "[" * 50_000
    cases.append(("unsigned json", unsigned, "text/plain", {}))
    return cases


async def test_malformed_requests_get_400_and_change_nothing(
        slack: SlackHarness, caplog: pytest.LogCaptureFixture) -> None:
    await slack.command("help")  # the workspace and user rows exist
    engine = slack.runtime.engine
    before = await snapshot(engine)
    async with engine.connect() as connection:
        remembered = await connection.scalar(select(func.count()).select_from(SeenSignature))
    calls = len(slack.fake.calls)
    cases = _cases()

    with caplog.at_level(logging.WARNING):
        for name, body, content_type, headers in cases:
            caplog.clear()
            async with slack.http.post(f"{slack.base}/slack/events", data=body.encode(),
                                       headers={"Content-Type": content_type, **headers}
                                       ) as response:
                assert response.status == 400, (name, await response.text())
                assert "Traceback" not in await response.text()
            refusals = [r for r in caplog.records if r.getMessage() == "slack request refused"]
            assert len(refusals) == 1 and not any(r.exc_info for r in caplog.records), name

    assert len(cases) == 20
    assert await snapshot(engine) == before
    async with engine.connect() as connection:
        assert await connection.scalar(
            select(func.count()).select_from(SeenSignature)) == remembered
    assert len(slack.fake.calls) == calls


async def test_ordinary_nesting_still_reaches_bolt(slack: SlackHarness) -> None:
    status, _ = await slack.event({"type": "app_home_opened", "user": "U0ALEX", "tab": "home",
                                   "view": {"blocks": [{"elements": [[[{"a": [1]}]]]}]}})
    assert status == 200


def test_depth_counts_brackets_outside_strings_only() -> None:
    assert not json_too_deep('{"a": "' + "[" * 500 + '"}')
    assert not json_too_deep("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    assert json_too_deep("[" * (MAX_JSON_DEPTH + 1))
    assert not json_too_deep("[1]," * 1000)  # many brackets, little depth
    assert json_too_deep('{"k": "\\"' + '", "x": ' + "{" * 100)
