"""The bot's Messages tab: typed commands answered in the DM, a welcome the first time."""

from __future__ import annotations

from sqlalchemy import select

from rapport.storage.models import Touchpoint
from tests.slack.conftest import ALEX, SlackHarness


def _dm_event(slack: SlackHarness, text: str, **extra: object) -> dict[str, object]:
    # The person writes in their DM with the bot, so Slack knows that conversation.
    if slack.fake.dm_channel_id(ALEX) not in slack.fake.channels:
        slack.fake.add_channel(slack.fake.dm_channel_id(ALEX), members=[ALEX])
    return {"type": "message", "channel": slack.fake.dm_channel_id(ALEX), "channel_type": "im",
            "user": ALEX, "text": text, "ts": "1.000200", "event_ts": "1.000200", **extra}


def _texts(slack: SlackHarness) -> list[str]:
    return [message["text"] for message in slack.fake.messages_in(ALEX)]


async def test_commands_typed_in_the_dm_are_answered_there_after_one_welcome(
        slack: SlackHarness) -> None:
    status, _ = await slack.event(_dm_event(slack, "add Dana"))
    assert status == 200
    await slack.until(lambda: len(_texts(slack)) >= 2)
    welcome, answer = _texts(slack)[:2]
    assert welcome.startswith("Hi ") and "private to you" in welcome and "due" in welcome
    assert "Added Dana" in answer

    await slack.event(_dm_event(slack, "log Dana coffee", ts="1.000300"))
    await slack.until(lambda: len(_texts(slack)) >= 3)
    assert "Logged coffee with Dana" in _texts(slack)[2]
    assert sum("private to you" in text for text in _texts(slack)) == 1  # welcomed once
    async with slack.runtime.sessions() as session:
        assert (await session.scalar(select(Touchpoint.kind))) == "coffee"


async def test_opening_the_messages_tab_welcomes_once_and_bots_and_edits_are_ignored(
        slack: SlackHarness) -> None:
    for _ in range(2):
        await slack.event({"type": "app_home_opened", "user": ALEX, "tab": "messages",
                           "channel": slack.fake.dm_channel_id(ALEX), "event_ts": "1.2"})
    await slack.until(lambda: len(_texts(slack)) >= 1)
    # Edits, deletions and bots' messages are not commands.
    await slack.event(_dm_event(slack, "due", subtype="message_changed"))
    await slack.event(_dm_event(slack, "due", bot_id="B0OTHER"))
    await slack.event({**_dm_event(slack, "due"), "channel_type": "channel",
                       "channel": "C0GENERAL"})
    await slack.event(_dm_event(slack, "due", ts="1.000400"))
    await slack.until(lambda: len(_texts(slack)) >= 2)
    texts = _texts(slack)
    assert len(texts) == 2 and "private to you" in texts[0] and "Nothing is due" in texts[1]
