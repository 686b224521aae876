"""What Slack still shows someone after `forget me`: old messages with buttons (a weekly
summary's suggestions, a reminder, a meeting brief) and the app's Messages tab. None of it may
bring anything back: a click on an old copy changes nothing, creates no rows and says why,
and opening the Messages tab does not enrol them again (Rapport keeps no trace of them, so
it greets them as it greets a newcomer, privately); only a command does."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from rapport.bot.platforms.slack import SLACK_KEY
from rapport.bot.platforms.slack.acks import finish_answers
from rapport.storage.models import Base, Suggestion, User
from tests.conftest import Clock
from tests.slack.conftest import ALEX, HarnessFactory, SlackHarness
from tests.slack.test_access import _action
from tests.slack.test_access import _deliver as _deliver_nudge
from tests.slack.test_forget_redaction_briefs import _brief, _people
from tests.slack.test_suggestion_redraw import _summary

NOTHING_KEPT = ("Rapport no longer keeps anything about you, so this button does nothing. "
                "Type “/rapport help” to start again.")
CLEARED = "This message was cleared: you asked Rapport to delete everything it stored for you."


@pytest.fixture
async def slack(make_harness: HarnessFactory) -> SlackHarness:
    """The harness, with Home rebuilt at once after a change: the tests wait for everything
    the app does after its acks (acks.finish_answers), Home's paced refreshes included."""
    harness = await make_harness()
    home = harness.extra["app"][SLACK_KEY].home
    home.refresh_delay = home.min_interval = 0.0
    return harness


async def _count(slack: SlackHarness, model: type[Base]) -> int:
    async with slack.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _forget_me(slack: SlackHarness) -> None:
    """`/rapport forget me confirm`, answered, and the old messages cleared by the job."""
    status, _ = await slack.command("forget me confirm")
    assert status == 200
    await slack.until(lambda: any("Everything Rapport stored for you is deleted"
                                  in post.get("text", "") for post in slack.sink.posts))
    assert await slack.runtime.redact_pending() >= 1
    await finish_answers()
    assert await _count(slack, User) == 0


async def _open_messages_tab(slack: SlackHarness) -> None:
    status, _ = await slack.event({"type": "app_home_opened", "user": ALEX, "tab": "messages",
                                   "channel": slack.fake.dm_channel_id(ALEX),
                                   "event_ts": "1.2"})
    assert status == 200
    await finish_answers()


async def _click_old_copy(slack: SlackHarness, action: dict[str, Any], channel: str,
                          copy: dict[str, Any]) -> dict[str, Any]:
    """Click `action` on `copy` (the message as Alex's Slack still shows it); the answer."""
    posts = len(slack.sink.posts)
    status, _ = await slack.interaction(slack.block_action(user=ALEX, action=action,
                                                           channel=channel, message=copy))
    assert status == 200
    await slack.until(lambda: len(slack.sink.posts) > posts)
    await finish_answers()
    [answer] = slack.sink.posts[posts:]
    return answer


def _now(slack: SlackHarness, channel: str, message: dict[str, Any]) -> dict[str, Any]:
    found = slack.fake.message(channel, message["ts"])
    assert found is not None
    return found


async def test_a_click_on_an_old_weekly_summary_after_forget_me_brings_nothing_back(
        slack: SlackHarness) -> None:
    (lee, _), channel, delivered = await _summary(slack)
    await _forget_me(slack)
    assert _now(slack, channel, delivered)["text"] == CLEARED
    updates = len(slack.fake.calls_to("chat.update"))
    # Alex goes to the DM with the bot, where another device still shows the summary.
    await _open_messages_tab(slack)

    answer = await _click_old_copy(slack, {
        "type": "button", "action_id": "suggestion_accept", "block_id": f"suggestion_{lee}",
        "value": str(lee)}, channel, delivered)

    assert await _count(slack, User) == 0 and await _count(slack, Suggestion) == 0
    assert answer == {"text": NOTHING_KEPT, "response_type": "ephemeral",
                      "replace_original": False}
    # The cleared summary stays cleared: nothing redrew it from the old copy.
    assert len(slack.fake.calls_to("chat.update")) == updates
    assert _now(slack, channel, delivered)["text"] == CLEARED


async def test_a_click_on_an_old_reminder_after_forget_me_says_nothing_is_kept(
        slack: SlackHarness, clock: Clock) -> None:
    nudge_id, channel, delivered = await _deliver_nudge(slack, clock)
    await _forget_me(slack)
    updates = len(slack.fake.calls_to("chat.update"))

    answer = await _click_old_copy(slack, _action("nudge_done", nudge_id), channel, delivered)

    assert answer["text"] == NOTHING_KEPT
    assert await _count(slack, User) == 0
    assert len(slack.fake.calls_to("chat.update")) == updates
    assert "Yosemite" not in _now(slack, channel, delivered)["text"]


async def test_a_click_on_an_old_meeting_brief_after_forget_me_does_not_enrol_again(
        slack: SlackHarness, clock: Clock) -> None:
    await _people(slack, "Dana Scully")
    brief = await _brief(slack, clock, "Dana Scully", 20)
    [dana] = [element["value"] for block in brief["blocks"] if block["type"] == "actions"
              for element in block["elements"] if element["action_id"] == "person_open"]
    await _forget_me(slack)

    answer = await _click_old_copy(slack, {
        "type": "button", "action_id": "person_open", "block_id": f"brief_person_{dana}",
        "value": dana}, slack.fake.dm_channel_id(ALEX), brief)

    assert await _count(slack, User) == 0
    assert answer["text"] == NOTHING_KEPT
    assert slack.fake.calls_to("views.open") == []


async def _database(slack: SlackHarness) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the replay guard's (every signed request leaves its
    signature there until it expires, whoever sent it; it names no one)."""
    async with slack.runtime.sessions() as session:
        return {table.name: [tuple(row) for row in await session.execute(select(table))]
                for table in Base.metadata.sorted_tables if table.name != "seen_signatures"}


async def test_opening_the_messages_tab_after_forget_me_stores_nothing_and_greets_privately(
        slack: SlackHarness) -> None:
    status, _ = await slack.command("add Dana every 2 weeks")
    assert status == 200
    await _open_messages_tab(slack)  # welcomed once, while Rapport kept rows for Alex
    welcomes = [m for m in slack.fake.messages_in(ALEX) if "private to you" in m["text"]]
    assert len(welcomes) == 1 and slack.fake.ephemeral_messages == []
    status, _ = await slack.command("forget me confirm")
    await slack.until(lambda: any("Everything Rapport stored for you is deleted"
                                  in post.get("text", "") for post in slack.sink.posts))
    await finish_answers()
    posted = len(slack.fake.calls_to("chat.postMessage"))
    # No trace of Alex, not even that he left: nothing tells him from a newcomer.
    before = await _database(slack)
    assert not any(ALEX in repr(row) or ALEX.lower() in repr(row)
                   for rows in before.values() for row in rows)

    for _ in range(2):
        await _open_messages_tab(slack)

    assert await _database(slack) == before  # nothing stored
    assert len(slack.fake.calls_to("chat.postMessage")) == posted  # no welcome again
    greetings = [m for m in slack.fake.ephemeral_messages if m["user"] == ALEX]
    assert len(greetings) == 2
    for greeting in greetings:
        assert greeting["channel"] == slack.fake.dm_channel_id(ALEX)
        assert "everything it kept was erased" in greeting["text"]
        assert "To start (again), type a command here, such as “help”" in greeting["text"]
    # A command is acting: Alex is back, and welcomed again when he next opens the tab.
    status, _ = await slack.command("people")
    assert status == 200
    assert await _count(slack, User) == 1
    await _open_messages_tab(slack)
    welcomes = [m for m in slack.fake.messages_in(ALEX) if "private to you" in m["text"]]
    assert len(welcomes) == 2 and len(slack.fake.ephemeral_messages) == 2
