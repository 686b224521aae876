"""Names from a Slack profile reach Slack as text, never as mentions or links: the fallback
`text` of every message is escaped like its blocks (issue: a display name `<!channel>`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.conftest import Clock
from tests.slack.conftest import ALEX, SlackHarness

HOSTILE = {"U0HOSTILE": "<!channel>", "U0LINKER": "<https://evil.example|click>"}


def _raw_markup(value: Any) -> list[str]:
    text = json.dumps(value)
    return [token for token in ("<!channel>", "<https://evil.example") if token in text]


async def test_hostile_display_names_are_escaped_in_acks_nudges_and_updates(
        slack: SlackHarness, clock: Clock) -> None:
    for user_id, display in HOSTILE.items():
        slack.fake.add_user(user_id, name=user_id.lower(), display_name=display,
                            team_id=slack.team_id)
        # The contact is created from the directory's display name (users.info after the ack).
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
