"""A nudge answered elsewhere (a typed command, App Home, another device) and then clicked in
a DM copy that still shows its buttons: the message is redrawn to what the nudge is now, as
docs/slack.md promises, rather than keeping live buttons and only saying "already done"."""

from __future__ import annotations

import json

from tests.conftest import Clock
from tests.slack.conftest import ALEX, SlackHarness
from tests.slack.test_nudge_redraw import _digest, _now, _row_ends


def _button(action_id: str, nudge_id: int) -> dict[str, str]:
    return {"type": "button", "action_id": action_id, "block_id": f"nudge_{nudge_id}",
            "value": str(nudge_id)}


async def test_done_on_a_nudge_already_done_by_command_redraws_the_dm(
        slack: SlackHarness, clock: Clock) -> None:
    [dana], channel, delivered = await _digest(slack, clock, "Dana")
    status, body = await slack.command("done Dana")
    assert status == 200 and "Logged that you reached out to Dana" in json.loads(body)["text"]
    posts = len(slack.sink.posts)

    # The DM still shows the buttons; Done there is the stale copy's click.
    await slack.click_to_update(_button("nudge_done", dana), channel=channel, message=delivered)
    now = _now(slack, channel, delivered)
    assert _row_ends(now) == {f"nudge_outcome_{dana}": "Marked done."}
    assert not [block for block in now["blocks"] if block["type"] == "actions"]
    # The redrawn message says it; no "already done" besides.
    assert slack.sink.posts[posts:] == []


async def test_snooze_on_a_nudge_dismissed_by_command_redraws_the_dm(
        slack: SlackHarness, clock: Clock) -> None:
    [dana], channel, delivered = await _digest(slack, clock, "Dana")
    reply = await slack.runtime.rapport.handle_text(slack.actor(ALEX), "dismiss Dana")
    assert reply.ok, reply.text

    await slack.click_to_update(_button("nudge_snooze_1w", dana), channel=channel,
                                message=delivered)
    assert _row_ends(_now(slack, channel, delivered)) == {f"nudge_outcome_{dana}": "Dismissed."}
