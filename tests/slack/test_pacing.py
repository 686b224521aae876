"""The Slack messenger's pacing and DM-channel cache, against the rate-limited fake Slack."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from rapport.bot.platforms.slack.install import Installations
from rapport.bot.platforms.slack.messenger import SendWindow, SlackMessenger, SlackPacing
from rapport.bot.service.config import Settings
from rapport.scheduler.messenger import NudgeItem, OutgoingMessage, Recipient
from tests.fakes.slack_api import DEFAULT_BOT_TOKEN, DEFAULT_TEAM_ID, FakeSlack, Limit, RateLimits


def _nudge(user: str, n: int = 1) -> OutgoingMessage:
    recipient = Recipient(workspace_id=1, workspace_external_id=DEFAULT_TEAM_ID,
                          platform="slack", user_id=n, user_external_id=user,
                          display_name=user, tz="UTC")
    item = NudgeItem(nudge_id=n, contact_id=n, contact_name="Dana", reason="cadence",
                     headline="Talk to Dana", context=None)
    return OutgoingMessage(recipient=recipient, kind="nudge", items=(item,))


def _messenger(fake: FakeSlack, pacing: SlackPacing | None = None) -> SlackMessenger:
    settings = Settings(slack_bot_token=DEFAULT_BOT_TOKEN, slack_api_url=fake.base_url,
                        slack_signing_secret="test")
    return SlackMessenger(settings=settings, installations=Installations(settings=settings),
                          pacing=pacing)


async def test_send_window_holds_calls_to_the_limit_counting_from_when_they_finished() -> None:
    now = [100.0]
    window = SendWindow(2, 10.0, monotonic=lambda: now[0])
    async with window:
        assert window.delay() == 0.0  # one in flight, one slot left
    async with window:
        pass
    assert window.delay() == 10.0  # both slots finished at t=100: wait for the first to leave
    now[0] = 105.0
    assert window.delay() == 5.0
    now[0] = 110.0
    assert window.delay() == 0.0


async def test_a_burst_beyond_the_limit_is_paced_instead_of_rate_limited(
        fake_slack: FakeSlack) -> None:
    # 30 posts against 20 per 0.3 s per workspace, each to its own DM: without pacing the
    # fake would answer 429 and slack_sdk would sleep a whole second per retry.
    fake_slack.enforce_rate_limits = True
    fake_slack.rate_limits = RateLimits(post_message_per_workspace=Limit(20, 0.3),
                                        tiers={"t3": Limit(50, 0.3)})
    users = [f"U0P{n:04d}" for n in range(30)]
    messenger = _messenger(fake_slack, SlackPacing(open_calls=50, open_seconds=0.3,
                                                   post_calls=20, post_seconds=0.3,
                                                   from_start=True))
    started = time.monotonic()
    results = await asyncio.gather(*(messenger.deliver(_nudge(u, n))
                                     for n, u in enumerate(users)))
    elapsed = time.monotonic() - started
    assert [r.status for r in results] == ["sent"] * 30
    assert not [c for c in fake_slack.calls if c.status == 429]
    assert elapsed >= 0.3  # the last 10 waited for the window
    posts = Counter(str(c.response["channel"]) for c in fake_slack.calls_to("chat.postMessage"))
    assert len(posts) == 30 and set(posts.values()) == {1}


async def test_the_dm_channel_is_opened_once_per_user_and_reopened_when_stale(
        fake_slack: FakeSlack) -> None:
    messenger = _messenger(fake_slack)
    assert (await messenger.deliver(_nudge("U0ALEX"))).status == "sent"
    assert (await messenger.deliver(_nudge("U0ALEX", 2))).status == "sent"
    assert len(fake_slack.calls_to("conversations.open")) == 1
    assert len(fake_slack.messages_in("U0ALEX")) == 2
    fake_slack.fail_next("chat.postMessage", error="channel_not_found")
    assert (await messenger.deliver(_nudge("U0ALEX", 3))).status == "sent"
    assert len(fake_slack.calls_to("conversations.open")) == 2
    assert len(fake_slack.messages_in("U0ALEX")) == 3


async def test_pacing_starts_at_the_first_429_for_that_method(fake_slack: FakeSlack) -> None:
    messenger = _messenger(fake_slack, SlackPacing(post_calls=1, post_seconds=0.2))
    assert (await messenger.deliver(_nudge("U0ALEX"))).status == "sent"
    assert (await messenger.deliver(_nudge("U0ALEX", 2))).status == "sent"  # not paced yet
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    assert (await messenger.deliver(_nudge("U0ALEX", 3))).status == "sent"  # retried inline
    started = time.monotonic()
    assert (await messenger.deliver(_nudge("U0ALEX", 4))).status == "sent"
    assert time.monotonic() - started >= 0.15  # now one post per 0.2 s
    assert len(fake_slack.messages_in("U0ALEX")) == 4
