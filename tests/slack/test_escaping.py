"""Names from a Slack profile reach Slack as text, never as mentions or links: the fallback
`text` of every message is escaped like its blocks (issue: a display name `<!channel>`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.conftest import Clock
from tests.slack.conftest import ALEX, SlackHarness

HOSTILE = {"U0HOSTILE": "<!channel>", "U0LINKER": "<https://evil.example|click>"}


def _mrkdwn(value: Any) -> list[str]:
    """Every mrkdwn text in a payload (plain_text shows `<` as written)."""
    if isinstance(value, dict):
        own = [value["text"]] if value.get("type") == "mrkdwn" else []
        return own + [t for v in value.values() for t in _mrkdwn(v)]
    if isinstance(value, list):
        return [t for v in value for t in _mrkdwn(v)]
    return []


def _raw_markup(value: Any) -> list[str]:
    text = json.dumps(value)
    return [token for token in ("<!channel>", "<https://evil.example") if token in text]


async def test_hostile_display_names_are_escaped_in_acks_nudges_and_updates(
        slack: SlackHarness, clock: Clock) -> None:
    for user_id, display in HOSTILE.items():
        slack.fake.add_user(user_id, name=user_id.lower(), real_name=display,
                            team_id=slack.team_id)
        # The contact is created from the directory's real name (users.info after the ack).
        before = len(slack.sink.posts)
        await slack.command(f"log <@{user_id}> call")
        await slack.until(lambda before=before: len(slack.sink.posts) > before)
        assert _raw_markup(slack.sink.posts[-1]) == []
        reply = await slack.runtime.rapport.handle_text(
            slack.actor(), f"note <@{user_id}>: the offsite after Saturday")
        assert reply.ok, reply.text

    status, body = await slack.command("people")
    assert status == 200
    answer = json.loads(body)
    assert "&lt;!channel&gt;" in answer["text"]
    assert _raw_markup(answer) == []

    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))
    report = await slack.runtime.sweeper.sweep()
    assert report.messages == 1 and report.sent == 2
    [message] = slack.fake.messages_in(ALEX)
    assert _raw_markup(message["text"]) == [] and _raw_markup(message["blocks"]) == []
    assert "&lt;https://evil.example|click&gt;" in message["text"]

    status, body = await slack.command("due")
    assert status == 200 and _raw_markup(json.loads(body)) == []


async def test_forget_and_the_answer_to_its_button_are_escaped_too(slack: SlackHarness) -> None:
    slack.fake.add_user("U0HOSTILE", name="u0hostile", real_name="<!channel>",
                        team_id=slack.team_id)
    await slack.command("add <@U0HOSTILE>")
    await slack.until(lambda: bool(slack.sink.posts))
    _status, body = await slack.command("forget <@U0HOSTILE>")
    # The question, its button and the button's "are you sure?" dialog show the name as text:
    # escaped where Slack reads markup, plain text elsewhere.
    answer = json.loads(body)
    assert _raw_markup(answer["text"]) == [] and _raw_markup(_mrkdwn(answer)) == []
    [dialog] = [e["confirm"]["text"] for block in answer["blocks"] if block["type"] == "actions"
                for e in block["elements"]]
    assert dialog["type"] == "plain_text" and "<!channel>" in dialog["text"]
    [button] = [e for block in json.loads(body)["blocks"] if block["type"] == "actions"
                for e in block["elements"]]
    before = len(slack.sink.posts)
    payload = slack.block_action(user=ALEX, action={
        "type": "button", "action_id": button["action_id"], "block_id": "confirm",
        "value": button["value"]})
    payload["container"] = {"type": "message", "message_ts": "1.1", "channel_id": "C0GENERAL",
                            "is_ephemeral": True}
    await slack.interaction(payload)
    await slack.until(lambda: len(slack.sink.posts) > before)
    answer = slack.sink.posts[-1]
    assert answer["text"].startswith("Forgot &lt;!channel&gt;"), answer
    assert _raw_markup(answer) == []
