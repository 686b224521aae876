"""Hypothesis-generated, validly signed input into the running Slack app.

Whatever arrives: no 5xx, no traceback or exception text to the user or to Slack, and when the
input is invalid the database is exactly as it was.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.bot.core import commands as c
from rapport.bot.core.verbs import parse_command
from rapport.bot.platforms.slack import blocks as b
from tests.conftest import Clock, snapshot
from tests.slack.conftest import ALEX, SAM, SlackHarness

EXAMPLES = 50
LEAKS = ("Traceback", "Exception", "Error:", 'File "', "sqlalchemy", "asyncpg")
VERBS = ["log", "note", "every", "add", "due", "people", "snooze", "done", "pause", "resume",
         "settings", "draft", "stats", "help", "dismiss", "forget", "export", "bogus"]
ACTION_IDS = [*sorted(b.NUDGE_ACTIONS), b.ACTION_OPEN_SETTINGS, "unknown_action", ""]
CALLBACKS = [b.CALLBACK_SETTINGS, b.CALLBACK_LOG_TOUCHPOINT, b.CALLBACK_DRAFT, "unknown", ""]

_odd_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                    max_size=300)
_words = st.lists(st.sampled_from(["Dana", "#1", "#999999999999", "<@U0DANA>", "<!channel>",
                                   "tomorrow", "1 week", ":", ",", "until", "1999-02-30",
                                   "every", "0", "-1", "\u202e", "\x00", "on", "off",
                                   "tz", "window", "99:99-00:00", "Mars/Olympus"]), max_size=6)
_command_text = st.one_of(
    _odd_text,
    st.builds(lambda verb, words: " ".join([verb, *words]), st.sampled_from(VERBS), _words))
# Anything JSON can carry, as Slack payload values.
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)


def _draw(strategy: st.SearchStrategy[Any], count: int = EXAMPLES) -> list[Any]:
    """Examples from hypothesis, drawn up front: the app runs on the test's own event loop."""
    drawn: list[Any] = []

    @settings(max_examples=count, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(example: Any) -> None:
        drawn.append(example)

    collect()
    return drawn


def _assert_clean(status: int, body: str, slack: SlackHarness) -> None:
    assert status < 500, (status, body)
    seen = body + json.dumps(slack.sink.posts) + json.dumps(
        [call.args for call in slack.fake.calls], default=str)
    for leak in LEAKS:
        assert leak not in seen, leak


async def _seeded(slack: SlackHarness) -> None:
    for user in (ALEX, SAM):
        assert (await slack.runtime.rapport.handle_text(slack.actor(user), "add Dana")).ok
    assert (await slack.runtime.rapport.handle_text(
        slack.actor(), "note Dana: hiking trip in Yosemite on tomorrow")).ok
    for user in (ALEX, SAM):
        # The first request teaches the app the user's Slack zone, the next one applies it:
        # both are legitimate changes, made before any snapshot is taken.
        assert (await slack.command("help", user=user))[0] == 200
        await slack.until(lambda user=user: slack.profile_cached(user))
        assert (await slack.command("help", user=user))[0] == 200


async def test_fuzzed_slash_command_text(slack: SlackHarness, clock: Clock) -> None:
    await _seeded(slack)
    today = clock().date()

    for text in _draw(_command_text):
        before = await snapshot(slack.runtime.engine)
        posted = len(slack.sink.posts)
        status, body = await slack.command(text, user=ALEX)
        if "Working on it" in body:  # a slow command answers after the ack: wait for it
            await slack.until(lambda posted=posted: len(slack.sink.posts) > posted, within=10)
        _assert_clean(status, body, slack)
        if isinstance(parse_command(text, today=today), c.CommandError):
            assert await snapshot(slack.runtime.engine) == before, text


async def test_fuzzed_form_bodies(slack: SlackHarness) -> None:
    await _seeded(slack)
    keys = st.sampled_from(["command", "text", "user_id", "team_id", "payload", "ssl_check",
                            "type", "trigger_id", "response_url", "x"])
    values = st.one_of(st.text(max_size=80), st.sampled_from(["/rapport", "{", "[]", "null"]))
    for fields, raw, use_raw in _draw(st.tuples(st.dictionaries(keys, values, max_size=6),
                                                st.binary(max_size=200), st.booleans())):
        before = await snapshot(slack.runtime.engine)
        body = raw.decode("latin-1") if use_raw else urllib.parse.urlencode(fields)
        status, answer = await slack.post(body, "application/x-www-form-urlencoded")
        _assert_clean(status, answer, slack)
        # Without a real command's team, user and text nothing is anybody's valid request.
        assert await snapshot(slack.runtime.engine) == before, fields


async def test_fuzzed_block_actions(slack: SlackHarness) -> None:
    await _seeded(slack)

    for action_id, value, block_id, selected_date, container in _draw(st.tuples(
            st.sampled_from(ACTION_IDS), _json, _json,
            st.one_of(st.none(), st.text(max_size=12), st.dates().map(str)), _json)):
        before = await snapshot(slack.runtime.engine)
        action: dict[str, Any] = {"type": "button", "action_id": action_id, "value": value,
                                  "block_id": block_id}
        if selected_date is not None:
            action["selected_date"] = selected_date
        # Sam owns no nudge: every nudge action from him must be refused.
        payload = slack.block_action(user=SAM, action=action)
        payload["container"] = container
        status, body = await slack.interaction(payload)
        await slack.until(lambda: True)
        _assert_clean(status, body, slack)
        if action_id != b.ACTION_OPEN_SETTINGS:
            assert await snapshot(slack.runtime.engine) == before



async def test_fuzzed_view_submissions(slack: SlackHarness) -> None:
    await _seeded(slack)
    for callback, values, metadata, user_field in _draw(st.tuples(
            st.sampled_from(CALLBACKS), _json, st.text(max_size=60),
            st.one_of(st.just({"id": SAM}), _json))):
        before = await snapshot(slack.runtime.engine)
        payload = {"type": "view_submission", "team": {"id": slack.team_id},
                   "user": user_field, "api_app_id": slack.fake.app_id, "token": "legacy",
                   "trigger_id": slack.fake.new_trigger_id(),
                   "view": {"id": "V0FUZZ", "type": "modal", "callback_id": callback,
                            "private_metadata": metadata, "state": {"values": values}}}
        status, body = await slack.interaction(payload)
        _assert_clean(status, body, slack)
        # Garbage in the state never forms a valid settings change, touchpoint or draft post.
        assert await snapshot(slack.runtime.engine) == before, (callback, values)


async def test_shapes_the_fuzzer_found_are_answered_without_a_5xx(slack: SlackHarness) -> None:
    await _seeded(slack)
    before = await snapshot(slack.runtime.engine)
    bodies = [
        {"payload": "{"},  # not JSON
        {"payload": "null"},  # JSON, not an object
        {"payload": json.dumps({"type": "block_actions", "user": 5})},  # user not an object
        {"payload": json.dumps({"type": "view_submission", "team": {"id": slack.team_id},
                                "user": {"id": SAM}, "view": {"callback_id": "settings",
                                                              "state": {"values": []}}})},
        # A foreign team's click with a response_url that is no URL (Bolt answers there).
        {"payload": json.dumps({"type": "block_actions", "team": {"id": "T0NOPE"},
                                "user": {"id": SAM}, "response_url": "{",
                                "actions": [{"action_id": "nudge_done", "value": "1"}]})},
        {"command": "/rapport", "text": "add Mallory"},  # no team, no user
    ]
    statuses = []
    for fields in bodies:
        status, answer = await slack.post(urllib.parse.urlencode(fields),
                                          "application/x-www-form-urlencoded")
        _assert_clean(status, answer, slack)
        statuses.append(status)
    assert statuses[:5] == [400] * 5, statuses
    assert await snapshot(slack.runtime.engine) == before
