"""Slack answering bursts of 429 and 500: the real Sweeper still delivers every nudge once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select

from rapport.scheduler.delivery import SweepReport
from rapport.storage.models import Nudge
from tests.conftest import Clock
from tests.fakes.slack_api import DEFAULT_TEAM_ID
from tests.slack.conftest import SlackHarness

USERS = 24
MAX_SWEEPS = 12


def _user(i: int) -> str:
    return f"U0FAULT{i:03d}"


async def _seed(slack: SlackHarness, clock: Clock) -> None:
    for i in range(USERS):
        slack.fake.add_user(_user(i), name=f"fault{i}", team_id=DEFAULT_TEAM_ID)
        actor = slack.actor(_user(i))
        assert (await slack.runtime.rapport.handle_text(actor, "add Dana")).ok
        reply = await slack.runtime.rapport.handle_text(
            actor, "note Dana: hiking trip in Yosemite after Saturday")
        assert reply.ok, reply.text
    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))  # Monday after the trip: all due


async def _statuses(slack: SlackHarness) -> Counter[str]:
    async with slack.runtime.sessions() as session:
        return Counter((await session.scalars(select(Nudge.status))).all())


async def test_bursts_of_429_and_500_still_deliver_every_nudge_exactly_once(
        slack: SlackHarness, clock: Clock) -> None:
    await _seed(slack, clock)
    fake = slack.fake
    # A while of trouble on both calls: more failures than the client's inline retries absorb,
    # so some deliveries go back to the sweep and are retried after their backoff.
    fake.fail_next("conversations.open", status=429, retry_after=1, count=10)
    fake.fail_next("conversations.open", status=500, count=8)
    fake.fail_next("chat.postMessage", status=500, count=12)
    fake.fail_next("chat.postMessage", status=429, retry_after=1, count=10)
    fake.fail_next("chat.postMessage", status=503, count=6)

    total = SweepReport()
    sweeps = 0
    while sweeps < MAX_SWEEPS:
        total.add(await slack.runtime.sweeper.sweep())
        sweeps += 1
        if (await _statuses(slack))["sent"] == USERS:
            break
        clock.advance(minutes=30)  # past every backoff so far (30 s, 60 s, ... per attempt)

    calls = fake.calls_to("conversations.open") + fake.calls_to("chat.postMessage")
    by_status = Counter(call.status for call in calls)
    posted = Counter(str(call.args["channel"]) for call in fake.calls_to("chat.postMessage")
                     if call.ok)
    print(f"\n429/500 bursts: {USERS} nudges delivered in {sweeps} sweeps; Slack answered "
          f"{by_status[429]}x429, {by_status[500] + by_status[503]}x5xx, {by_status[200]}x200; "
          f"{total.retried} deliveries went back to the sweep; {total.failed} failed; "
          f"max posts per DM {max(posted.values())}")
    assert fake.pending_faults() == 0  # every injected fault was served
    assert total.retried > 0  # the sweep, not only the client, had to retry
    assert await _statuses(slack) == Counter({"sent": USERS})
    assert total.failed == 0
    assert sorted(posted) == sorted(fake.dm_channel_id(_user(i)) for i in range(USERS))
    assert set(posted.values()) == {1}
    assert all(len(fake.messages_in(_user(i))) == 1 for i in range(USERS))
