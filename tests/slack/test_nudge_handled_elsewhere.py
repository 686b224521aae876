"""A nudge answered elsewhere (a typed command, App Home, another device) and then clicked in
a DM copy that still shows its buttons: the message is redrawn to what the nudge is now, as
docs/slack.md promises, rather than keeping live buttons and only saying "already done"."""

from __future__ import annotations

import json
from datetime import UTC, datetime

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


async def test_done_again_on_an_old_copy_of_a_digest_keeps_a_text_naming_the_person(
        slack: SlackHarness, clock: Clock) -> None:
    """The message's `text` (a notification, a screen reader) still says whom the row is
    about, as the first click's does, not a bare "Marked done."."""
    (dana, _lee), channel, delivered = await _digest(slack, clock, "Dana", "Lee")
    await slack.click_to_update(_button("nudge_done", dana), channel=channel, message=delivered)
    assert "Dana" in _now(slack, channel, delivered)["text"]

    await slack.click_to_update(_button("nudge_done", dana), channel=channel, message=delivered)

    now = _now(slack, channel, delivered)
    assert _row_ends(now)[f"nudge_outcome_{dana}"] == "Marked done."
    assert now["text"] == ("Ask Dana about the hiking trip in Yosemite (you noted it on Mon "
                           "Nov 23) — marked done.")


async def test_the_old_copys_text_says_the_headline_as_written(slack: SlackHarness,
                                                               clock: Clock) -> None:
    """The headline is read back from the row's markup (stars kept from being bold, `&`
    and `<` escaped) and escaped once again as the message's `text`."""
    rapport = slack.runtime.rapport
    for line in ("add Dana Scully", "note Dana: the *R&D* <offsite> after Saturday",
                 "add Lee Park", "note Lee: the launch after Saturday"):
        assert (await rapport.handle_text(slack.actor(), line)).ok, line
    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))
    assert (await slack.runtime.sweeper.sweep()).messages == 1
    [delivered] = slack.fake.messages_in(ALEX)
    channel = slack.fake.dm_channel_id(ALEX)
    dana = int(next(block["block_id"] for block in delivered["blocks"]
                    if block["type"] == "actions").removeprefix("nudge_"))
    await slack.click_to_update(_button("nudge_done", dana), channel=channel, message=delivered)

    await slack.click_to_update(_button("nudge_done", dana), channel=channel, message=delivered)

    assert _now(slack, channel, delivered)["text"] == (
        "Ask Dana about the *R&amp;D* &lt;offsite&gt; (you noted it on Mon Nov 23) — "
        "marked done.")
