"""The bot's Messages tab: typed commands answered in the DM, a welcome the first time.
Opening the tab before Rapport keeps anything for someone stores nothing: they get a welcome
only they see, and the persistent one comes with their first command."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import func, select

from rapport.bot.platforms.slack.acks import finish_answers
from rapport.storage.models import Touchpoint, User, Workspace
from tests.slack.conftest import ALEX, SlackHarness

WELCOME = "private to you"  # in the welcome (and in the greeting only Alex sees)
HOW_TO_START = "To start (again), type a command here, such as “help”"


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


async def _open_messages_tab(slack: SlackHarness) -> None:
    # Slack knows the DM with the bot once its Messages tab is open.
    if slack.fake.dm_channel_id(ALEX) not in slack.fake.channels:
        slack.fake.add_channel(slack.fake.dm_channel_id(ALEX), members=[ALEX])
    status, _ = await slack.event({"type": "app_home_opened", "user": ALEX, "tab": "messages",
                                   "channel": slack.fake.dm_channel_id(ALEX),
                                   "event_ts": "1.2"})
    assert status == 200
    await finish_answers()


def _greetings(slack: SlackHarness) -> list[dict[str, Any]]:
    """The ephemeral messages Alex was shown."""
    return [m for m in slack.fake.ephemeral_messages if m["user"] == ALEX]


async def _rows(slack: SlackHarness) -> tuple[int, int]:
    """How many users and workspaces Rapport stores."""
    async with slack.runtime.sessions() as session:
        return (int(await session.scalar(select(func.count()).select_from(User)) or 0),
                int(await session.scalar(select(func.count()).select_from(Workspace)) or 0))


async def test_a_newcomer_opening_the_messages_tab_is_greeted_privately_and_nothing_stored(
        slack: SlackHarness) -> None:
    for _ in range(2):
        await _open_messages_tab(slack)

    greetings = _greetings(slack)
    assert len(greetings) == 2  # each time: nothing remembers that it was shown
    for greeting in greetings:
        assert greeting["channel"] == slack.fake.dm_channel_id(ALEX)
        assert greeting["text"].startswith("Hi there, I'm Rapport")
        assert HOW_TO_START in greeting["text"] and "add Dana every 2 weeks" in greeting["text"]
        assert "stores nothing for you" in greeting["text"]
    assert _texts(slack) == [] and slack.fake.calls_to("chat.postMessage") == []
    assert await _rows(slack) == (0, 0)
    assert slack.fake.calls_to("users.info") == []  # nor is the profile looked up


async def test_a_first_message_after_opening_the_tab_welcomes_once_and_bots_are_ignored(
        slack: SlackHarness) -> None:
    await _open_messages_tab(slack)
    # Edits, deletions and bots' messages are not commands.
    await slack.event(_dm_event(slack, "due", subtype="message_changed"))
    await slack.event(_dm_event(slack, "due", bot_id="B0OTHER"))
    await slack.event({**_dm_event(slack, "due"), "channel_type": "channel",
                       "channel": "C0GENERAL"})
    await finish_answers()
    assert _texts(slack) == [] and await _rows(slack) == (0, 0)
    # The first message is acting: Alex is enrolled and welcomed, then answered.
    await slack.event(_dm_event(slack, "due", ts="1.000400"))
    await slack.until(lambda: len(_texts(slack)) >= 2)
    await _open_messages_tab(slack)
    texts = _texts(slack)
    assert len(texts) == 2 and WELCOME in texts[0] and "Nothing is due" in texts[1]
    assert (await _rows(slack))[0] == 1
    assert len(_greetings(slack)) == 1  # once Rapport keeps rows, no more private greeting


async def test_a_newcomers_first_command_brings_the_welcome_once(slack: SlackHarness) -> None:
    await _open_messages_tab(slack)
    assert len(_greetings(slack)) == 1 and _texts(slack) == []
    status, _ = await slack.command("add Dana every 2 weeks")
    assert status == 200
    assert (await _rows(slack))[0] == 1

    for _ in range(2):
        await _open_messages_tab(slack)

    welcomes = [text for text in _texts(slack) if WELCOME in text]
    assert len(welcomes) == 1 and welcomes[0].startswith("Hi ")
    assert len(_greetings(slack)) == 1


async def test_a_greeting_slack_refuses_is_logged_and_the_event_carries_on(
        slack: SlackHarness, caplog: pytest.LogCaptureFixture) -> None:
    slack.fake.fail_next("chat.postEphemeral", error="channel_not_found")
    with caplog.at_level(logging.INFO, logger="rapport.bot.platforms.slack.messages"):
        await _open_messages_tab(slack)
    [failed] = [r for r in caplog.records if r.getMessage() == "greeting failed"]
    assert failed.levelno == logging.INFO and failed.__dict__["error"] == "channel_not_found"
    assert _greetings(slack) == [] and await _rows(slack) == (0, 0)
    # Nothing is left half done: the next opening is greeted.
    await _open_messages_tab(slack)
    assert len(_greetings(slack)) == 1
