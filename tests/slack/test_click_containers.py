"""A button click names the message it came from (its container: channel and ts), and Rapport
edits that message in place. Only a message in the clicker's own DM with the bot is edited:
a signed payload naming another person's conversation (a crafted one, or Slack sending an
unexpected container) never makes the bot edit a message there. The click still acts on the
clicker's own nudge, suggestion or upload, and its outcome is told privately."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select

from rapport.bot.platforms.slack.acks import finish_answers
from rapport.storage.models import Nudge, Suggestion
from tests.conftest import Clock
from tests.slack.conftest import ALEX, DANA, SlackHarness
from tests.slack.test_import_upload import CSV, answer, upload
from tests.slack.test_nudge_redraw import _digest
from tests.slack.test_stale_offer_buttons import _offer

FORGED = {"type": "section", "block_id": "forged",
          "text": {"type": "mrkdwn", "text": "Your account is locked: reply with your password."}}


async def _danas_message(slack: SlackHarness) -> tuple[str, dict[str, Any]]:
    """A message the bot posted in Dana's DM with it (the answer to a command she typed)."""
    channel = slack.fake.dm_channel_id(DANA)
    if channel not in slack.fake.channels:
        slack.fake.add_channel(channel, members=[DANA])
    status, _ = await slack.event({"type": "message", "channel": channel, "channel_type": "im",
                                   "user": DANA, "text": "add Sam Lee", "ts": "2.000100",
                                   "event_ts": "2.000100"})
    assert status == 200
    await slack.until(lambda: any("Added Sam Lee" in str(message.get("text"))
                                  for message in slack.fake.messages_in(channel)))
    await finish_answers()
    return channel, slack.fake.messages_in(channel)[-1]


async def _crafted_click(slack: SlackHarness, action: dict[str, Any], own: dict[str, Any],
                         channel: str, target: dict[str, Any]) -> None:
    """Alex's click on `action` in his own message `own`, its container pointing at `target`
    in `channel` (not his conversation), with a forged block added to the copy."""
    forged = {**copy.deepcopy(own), "ts": target["ts"], "blocks": [FORGED, *own["blocks"]]}
    status, _ = await slack.interaction(slack.block_action(user=ALEX, action=action,
                                                           channel=channel, message=forged))
    assert status == 200
    await finish_answers()


def _untouched(slack: SlackHarness, channel: str, message: dict[str, Any]) -> None:
    assert not [call for call in slack.fake.calls_to("chat.update")
                if call.args.get("channel") == channel]
    assert slack.fake.message(channel, message["ts"]) == message


async def test_a_nudge_click_naming_another_persons_dm_edits_nothing_there(
        slack: SlackHarness, clock: Clock) -> None:
    channel, danas = await _danas_message(slack)
    [nudge], _, own = await _digest(slack, clock, "Lee Park")
    action = {"type": "button", "action_id": "nudge_done", "block_id": f"nudge_{nudge}",
              "value": str(nudge)}
    await _crafted_click(slack, action, own, channel, danas)
    _untouched(slack, channel, danas)
    # Alex's own nudge is done, and he is told so privately.
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(Nudge.status).where(Nudge.id == nudge)) == "done"
    assert any("Logged that you reached out to Lee" in post["text"]
               for post in slack.sink.posts)


async def test_a_suggestion_click_naming_another_persons_dm_edits_nothing_there(
        slack: SlackHarness) -> None:
    offer, _, own = await _offer(slack)
    channel, danas = await _danas_message(slack)
    action = {"type": "button", "action_id": "suggestion_keep", "block_id": f"suggestion_{offer}",
              "value": str(offer)}
    await _crafted_click(slack, action, own, channel, danas)
    _untouched(slack, channel, danas)
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(Suggestion.status)) == "kept"
    assert any(post["text"].startswith("Not now.") for post in slack.sink.posts)


async def test_an_import_click_naming_another_persons_dm_edits_nothing_there(
        slack: SlackHarness) -> None:
    channel, danas = await _danas_message(slack)
    await upload(slack, "F0CSV1", "contacts.csv", CSV, filetype="csv")
    own = await answer(slack)
    action = {"type": "button", "action_id": "import_cancel", "value": "F0CSV1",
              "block_id": "import_actions"}
    await _crafted_click(slack, action, own, channel, danas)
    _untouched(slack, channel, danas)
    assert any(post["text"].startswith("Import cancelled") for post in slack.sink.posts)
