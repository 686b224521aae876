"""Malformed bodies on /api/messages: 400 with one log line, never a 500, nothing changed and
nothing sent, whether or not the request would have been authenticated."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from rapport.bot.service.payloads import MAX_JSON_DEPTH
from tests.conftest import snapshot
from tests.fakes.teams_activities import teams_message_activity
from tests.teams.test_auth import AuthHarness, Build, build  # noqa: F401 (build is a fixture)
from tests.teams.test_teams_bot import TeamsHarness, teams  # noqa: F401 (teams is a fixture)


def _deep_activity(service_url: str, depth: int) -> bytes:
    activity = teams_message_activity("help", service_url=service_url)
    body = json.dumps(activity)[:-1]
    return (body + ', "channelData2": ' + "[" * depth + "]" * depth + "}").encode()


def _cases(service_url: str) -> list[tuple[str, bytes]]:
    activity = teams_message_activity("help", service_url=service_url)
    cases = [(f"nested {depth}", _deep_activity(service_url, depth))
             for depth in (MAX_JSON_DEPTH + 1, 5_000, 200_000)]
    deep = MAX_JSON_DEPTH + 5
    cases += [
        ("channelData nested", json.dumps(
            {**activity, "channelData": json.loads("[" * deep + "]" * deep)}).encode()),
        ("not json", b"{not json"),
        ("not utf-8", b'{"type": "message", "text": "\xff\xfe"}'),
        ("array", b"[]"),
        ("number", b"1"),
        ("null", b"null"),
        ("no type", json.dumps({**activity, "type": None}).encode()),
        ("from is a string", json.dumps({**activity, "from": "29:user"}).encode()),
        ("no from", json.dumps({k: v for k, v in activity.items() if k != "from"}).encode()),
    ]
    return cases


async def _all_400(post: Any, cases: list[tuple[str, bytes]], engine: Any, connector: Any,
                   caplog: pytest.LogCaptureFixture) -> None:
    before = await snapshot(engine)
    with caplog.at_level(logging.INFO):
        for name, body in cases:
            caplog.clear()
            status = await post(body)
            assert status == 400, name
            lines = [r for r in caplog.records if r.name.startswith("rapport")]
            assert len(lines) == 1 and not lines[0].exc_info, (name, lines)
    assert await snapshot(engine) == before
    assert connector.requests == []


async def test_malformed_bodies_are_400_in_emulator_mode(
        teams: TeamsHarness, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    async def post(body: bytes) -> int:
        response = await teams.client.post("/api/messages", data=body,
                                           headers={"Content-Type": "application/json"})
        return response.status

    cases = _cases(teams.url)
    await _all_400(post, cases, teams.engine, teams.connector, caplog)
    assert len(cases) == 12


async def test_malformed_bodies_are_400_before_authentication(
        build: Build, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    h: AuthHarness = await build()

    async def post(body: bytes) -> int:
        response = await h.client.post("/api/messages", data=body, headers={
            "Content-Type": "application/json", "Authorization": h.genuine()})
        return response.status

    await _all_400(post, _cases(h.service_url), h.engine, h.connector, caplog)
    assert h.keys.fetches == []  # refused before any token was looked at
