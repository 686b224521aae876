"""A click on a digest redraws the message from the server's state, not from the clicker's
copy of it: a stale copy (two quick clicks, another device, a message cleared after a
forget) brings back neither buttons already answered nor a forgotten person's row."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from rapport.storage.models import Nudge
from tests.conftest import Clock
from tests.slack.conftest import ALEX, SlackHarness


async def _digest(slack: SlackHarness, clock: Clock, *names: str) -> tuple[list[int], str,
                                                                             dict[str, Any]]:
    """One digest naming `names`, delivered by the real sweep: (nudge ids in the order of
    `names`, the DM channel, the message as delivered)."""
    for name in names:
        reply = await slack.runtime.rapport.handle_text(slack.actor(), f"add {name}")
        assert reply.ok, reply.text
        reply = await slack.runtime.rapport.handle_text(
            slack.actor(), f"note {name}: hiking trip in Yosemite after Saturday")
        assert reply.ok, reply.text
    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))  # Monday after the trip
    assert (await slack.runtime.sweeper.sweep()).messages == 1
    async with slack.runtime.sessions() as session:
        ids = list((await session.scalars(select(Nudge.id).order_by(Nudge.id))).all())
    [message] = slack.fake.messages_in(ALEX)
    return ids, slack.fake.dm_channel_id(ALEX), message


async def _click_done(slack: SlackHarness, nudge_id: int, channel: str,
                      copy: dict[str, Any]) -> None:
    """Done on `nudge_id` in `copy` (the message as the person's Slack shows it), then wait
    for the message to be updated."""
    action = {"type": "button", "action_id": "nudge_done", "block_id": f"nudge_{nudge_id}",
              "value": str(nudge_id)}
    await slack.click_to_update(action, channel=channel, message=copy)


def _now(slack: SlackHarness, channel: str, message: dict[str, Any]) -> dict[str, Any]:
    found = slack.fake.message(channel, message["ts"])
    assert found is not None
    return found


def _row_ends(message: dict[str, Any]) -> dict[str, str]:
    """block_id -> its text (or "buttons") for what ends each nudge's row."""
    return {block["block_id"]: "buttons" if block["type"] == "actions"
            else block["elements"][0]["text"]
            for block in message["blocks"] if str(block.get("block_id", "")).startswith(
                ("nudge_outcome_", "nudge_")) and not block["block_id"].startswith("nudge_text")}


async def test_a_second_click_on_a_stale_digest_does_not_bring_back_answered_buttons(
        slack: SlackHarness, clock: Clock) -> None:
    (dana, lee), channel, delivered = await _digest(slack, clock, "Dana", "Lee")
    await _click_done(slack, dana, channel, delivered)
    # The second click comes from the same copy, which still shows Dana's buttons.
    await _click_done(slack, lee, channel, delivered)
    ends = _row_ends(_now(slack, channel, delivered))
    assert ends == {f"nudge_outcome_{dana}": "Marked done.",
                    f"nudge_outcome_{lee}": "Nice. Logged that you reached out to Lee and "
                                            "marked the reminder to ask Lee about the hiking "
                                            "trip in Yosemite done."}


async def test_a_click_on_the_updated_digest_keeps_the_earlier_outcome_in_its_words(
        slack: SlackHarness, clock: Clock) -> None:
    (dana, lee, kim), channel, delivered = await _digest(slack, clock, "Dana", "Lee", "Kim")
    await _click_done(slack, dana, channel, delivered)
    after_first = _now(slack, channel, delivered)
    await _click_done(slack, lee, channel, after_first)
    now = _now(slack, channel, delivered)
    ends = _row_ends(now)
    assert ends[f"nudge_outcome_{dana}"].startswith("Nice. Logged that you reached out to Dana")
    assert ends[f"nudge_outcome_{lee}"].startswith("Nice. Logged that you reached out to Lee")
    assert ends[f"nudge_{kim}"] == "buttons"  # still out: Kim's buttons stay
    # Every row keeps its headline, in the order delivered, under the digest's heading.
    assert now["blocks"][0]["type"] == "header"
    headlines = [block["block_id"] for block in now["blocks"]
                 if str(block.get("block_id", "")).startswith("nudge_text_")]
    assert headlines == [f"nudge_text_{n}" for n in (dana, lee, kim)]


async def test_a_stale_digest_does_not_bring_back_a_forgotten_persons_row(
        slack: SlackHarness, clock: Clock) -> None:
    (_dana, lee), channel, delivered = await _digest(slack, clock, "Dana", "Lee")
    await slack.command("forget Dana confirm")
    assert await slack.runtime.redact_pending() == 1  # the digest is cleared
    # A copy from before the forget still shows Dana's row and Lee's buttons.
    await _click_done(slack, lee, channel, delivered)
    now = _now(slack, channel, delivered)
    assert "Dana" not in json.dumps(now)
    assert _row_ends(now) == {f"nudge_outcome_{lee}": "Nice. Logged that you reached out to "
                                                      "Lee and marked the reminder to ask Lee "
                                                      "about the hiking trip in Yosemite done."}
    # The heading, Lee's headline, Lee's outcome: no empty divider where Dana's row was.
    assert [block["type"] for block in now["blocks"]] == ["header", "section", "context"]
