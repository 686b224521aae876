"""Reminders already delivered about someone forgotten are cleared in Slack: `forget Dana`,
`forget me` and `admin purge` queue the bot's DM messages in the same transaction as the
delete, and the scheduler's job edits each with chat.update to a neutral text without
buttons; a restart in between loses nothing, a message Slack says is gone is dropped, and a
transient failure is tried again."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from rapport.storage.models import MessageRedaction
from tests.conftest import Clock
from tests.fakes.slack_api import DEFAULT_TEAM_ID
from tests.slack.conftest import ALEX, HarnessFactory, SlackHarness
from tests.slack.test_admin import BOSS

FORGOTTEN = "This reminder was about someone you asked Rapport to forget."


async def _deliver(slack: SlackHarness, clock: Clock, *names: str) -> dict[str, dict[str, Any]]:
    """One DM per person (digests off), by the real sweep: name -> the message in the DM."""
    await slack.runtime.rapport.handle_text(slack.actor(), "settings digest off")
    for name in names:
        await slack.runtime.rapport.handle_text(slack.actor(), f"add {name}")
        reply = await slack.runtime.rapport.handle_text(
            slack.actor(), f"note {name}: hiking trip in Yosemite after Saturday")
        assert reply.ok, reply.text
    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))  # Monday after the trip
    report = await slack.runtime.sweeper.sweep()
    assert report.messages == len(names), report
    return {name: next(m for m in slack.fake.messages_in(ALEX) if name in m["text"])
            for name in names}


def _now(slack: SlackHarness, message: dict[str, Any]) -> dict[str, Any]:
    found = slack.fake.message(slack.fake.dm_channel_id(ALEX), message["ts"])
    assert found is not None
    return found


def _has_buttons(message: dict[str, Any]) -> bool:
    return any(block["type"] == "actions" for block in message.get("blocks", []))


async def _queued(slack: SlackHarness) -> int:
    async with slack.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(MessageRedaction))
                   or 0)


async def test_forget_clears_the_reminders_about_that_person_even_after_a_restart(
        make_harness: HarnessFactory, clock: Clock) -> None:
    slack = await make_harness()
    delivered = await _deliver(slack, clock, "Dana", "Lee")
    assert _has_buttons(delivered["Dana"]) and "Dana" in delivered["Dana"]["text"]
    status, body = await slack.command("forget Dana confirm")
    assert status == 200 and json.loads(body)["text"].startswith("Forgot Dana")
    # The queue is in the database, written with the delete; nothing was edited yet.
    assert await _queued(slack) == 1 and slack.fake.calls_to("chat.update") == []
    # Another process (a restart, another replica) finds the queue and clears the message.
    restarted = await make_harness()
    assert await restarted.runtime.redact_pending() == 1
    [update] = slack.fake.calls_to("chat.update")
    assert update.ok and update.args["channel"] == slack.fake.dm_channel_id(ALEX)
    dana = _now(slack, delivered["Dana"])
    assert dana["text"] == FORGOTTEN and "edited" in dana and not _has_buttons(dana)
    assert "Dana" not in json.dumps(dana) and "Yosemite" not in json.dumps(dana)
    # Lee's reminder is untouched, buttons and all; the queue is empty.
    assert _now(slack, delivered["Lee"]) == delivered["Lee"]
    assert await _queued(slack) == 0
    assert await restarted.runtime.redact_pending() == 0


async def test_a_digest_naming_the_person_is_cleared_and_says_where_the_rest_are(
        slack: SlackHarness, clock: Clock) -> None:
    for name in ("Dana", "Lee"):
        await slack.runtime.rapport.handle_text(slack.actor(), f"add {name}")
        await slack.runtime.rapport.handle_text(
            slack.actor(), f"note {name}: hiking trip in Yosemite after Saturday")
    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))
    assert (await slack.runtime.sweeper.sweep()).messages == 1
    [digest] = slack.fake.messages_in(ALEX)
    assert "Dana" in digest["text"] and "Lee" in digest["text"]
    await slack.command("forget Dana confirm")
    assert await slack.runtime.redact_pending() == 1
    cleared = _now(slack, digest)
    assert cleared["text"].startswith("This message named someone you asked Rapport to forget")
    assert "“due”" in cleared["text"] and "Dana" not in json.dumps(cleared)
    assert not _has_buttons(cleared)
    due = await slack.runtime.rapport.handle_text(slack.actor(), "due")
    assert "Lee" in due.text and "Dana" not in due.text


async def test_forget_me_retries_a_transient_failure_and_drops_a_message_slack_lost(
        slack: SlackHarness, clock: Clock) -> None:
    delivered = await _deliver(slack, clock, "Dana", "Lee")
    await slack.command("forget me confirm")
    assert await _queued(slack) == 2
    # Dana's (queued first) meets a Slack hiccup; Lee's message no longer exists.
    slack.fake.fail_next("chat.update", error="internal_error")
    slack.fake.fail_next("chat.update", error="message_not_found")
    assert await slack.runtime.redact_pending() == 0
    assert await _queued(slack) == 1
    # Not before its backoff...
    clock.advance(seconds=10)
    assert await slack.runtime.redact_pending() == 0
    assert len(slack.fake.calls_to("chat.update")) == 2
    # ...then once more, for Dana's only: the lost one is not tried again.
    clock.advance(minutes=1)
    assert await slack.runtime.redact_pending() == 1
    assert len(slack.fake.calls_to("chat.update")) == 3
    dana = _now(slack, delivered["Dana"])
    assert dana["text"] == ("This message was cleared: you asked Rapport to delete "
                            "everything it stored for you.")
    assert not _has_buttons(dana) and await _queued(slack) == 0


async def _purged_by_an_admin(slack: SlackHarness) -> None:
    """A workspace admin runs `admin purge confirm`, and it has answered."""
    slack.fake.add_user(BOSS, name="boss", real_name="Bo Boss", team_id=DEFAULT_TEAM_ID,
                        is_admin=True)
    await slack.command("admin purge confirm", user=BOSS)
    await slack.until(lambda: any("Deleted everything" in post["text"]
                                  for post in slack.sink.posts))


async def test_admin_purge_clears_the_workspaces_reminders_at_once(
        slack: SlackHarness, clock: Clock) -> None:
    delivered = await _deliver(slack, clock, "Dana")
    await _purged_by_an_admin(slack)
    dana = _now(slack, delivered["Dana"])
    assert dana["text"] == "This message was cleared: your workspace's Rapport data was deleted."
    assert not _has_buttons(dana) and await _queued(slack) == 0


async def test_nothing_delivered_nothing_queued(slack: SlackHarness, clock: Clock) -> None:
    await slack.runtime.rapport.handle_text(slack.actor(), "add Dana")
    await slack.command("forget Dana confirm")
    assert await _queued(slack) == 0
    clock.advance(hours=1)
    assert await slack.runtime.redact_pending() == 0
    assert slack.fake.calls_to("chat.update") == []


