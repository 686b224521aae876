"""The goal trend chart shared into the DM from App Home at most once a day per user, whichever
replica serves Home and across restarts: what was shared is kept in the database, and an
upload is claimed there first."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.storage.models import User
from tests.conftest import Clock
from tests.slack.conftest import ALEX, HarnessFactory, SlackHarness
from tests.slack.test_goals import CLIENTS, _client_history, _core


@pytest.fixture
def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """Each test on SQLite and, when configured, on PostgreSQL (replicas' claims race on
    row locks there)."""
    return any_engine


def _uploads(slack: SlackHarness) -> int:
    return len(slack.fake.calls_to("files.completeUploadExternal"))


def _charts_in_dm(slack: SlackHarness) -> int:
    dm = slack.fake.dm_channel_id(ALEX)
    return sum(m.get("subtype") == "file_share" for m in slack.fake.messages_in(dm))


def _chart_shown(view: dict[str, object]) -> str | None:
    """The file id of the chart App Home shows, or None."""
    for block in view["blocks"]:  # type: ignore[attr-defined]
        if block.get("block_id") == "home_goal_chart":
            return str(block["slack_file"]["id"])
    return None


async def _with_a_goal(slack: SlackHarness, clock: Clock) -> None:
    await _client_history(slack, clock)
    await _core(slack, *(f'tag "{name}" clients' for name in CLIENTS),
                "goal clients every month")


async def test_home_opened_on_every_replica_and_after_a_restart_shares_the_chart_once(
        make_harness: HarnessFactory, clock: Clock) -> None:
    first = await make_harness()
    await _with_a_goal(first, clock)
    shown = _chart_shown(await first.open_home())
    assert _uploads(first) == 1 and _charts_in_dm(first) == 1
    [uploaded] = first.fake.files.values()
    assert shown == uploaded.id
    second = await make_harness()  # another replica, or the first one restarted
    for replica in (second, first, second):
        # Each shows the chart shared before, for these very numbers.
        assert _chart_shown(await replica.open_home()) == uploaded.id
    assert _uploads(first) == 1 and _charts_in_dm(first) == 1
    async with first.runtime.sessions() as session:
        row = (await session.execute(select(User.chart_file_id, User.chart_shared_at,
                                            User.chart_claimed_at))).one()
    assert row == (uploaded.id, clock.now, None)


async def test_new_numbers_are_shared_from_home_a_day_later_and_by_stats_at_once(
        make_harness: HarnessFactory, clock: Clock) -> None:
    first = await make_harness()
    await _with_a_goal(first, clock)
    await first.open_home()
    second = await make_harness()
    clock.advance(hours=23)
    await _core(first, 'log "Hal Udo" coffee')  # new numbers
    view = await second.open_home()
    assert _uploads(first) == 1  # within a day of the last: not from Home
    assert _chart_shown(view) is None  # the old chart shows other numbers
    clock.advance(hours=2)
    view = await second.open_home()
    assert _uploads(first) == 2 and _chart_shown(view) is not None
    # The same numbers, more than a day later: the chart in the DM is still theirs.
    clock.advance(days=2)
    await first.open_home()
    assert _uploads(first) == 2
    # `stats` shares new numbers at once, and Home then shows that chart without another.
    await _core(first, 'log "Ivy Vo" coffee')
    status, body = await second.command("stats")
    assert status == 200 and "Working on it" in json.loads(body)["text"]
    await second.until(lambda: _uploads(second) == 3)
    latest = list(second.fake.files.values())[-1]
    await second.until(lambda: any("Clients:" in p["text"] for p in second.sink.posts))
    assert _chart_shown(await first.open_home()) == latest.id
    assert _uploads(first) == 3


async def test_home_opened_on_two_replicas_at_once_shares_the_chart_once(
        make_harness: HarnessFactory, clock: Clock) -> None:
    first = await make_harness()
    await _with_a_goal(first, clock)
    second = await make_harness()
    published = first.publishes()
    await asyncio.gather(first.open_home(), second.open_home())
    await first.until(lambda: first.publishes() >= published + 2)
    assert _uploads(first) == 1 and _charts_in_dm(first) == 1


async def test_a_failed_upload_is_tried_again_at_the_next_opening(
        make_harness: HarnessFactory, clock: Clock) -> None:
    first = await make_harness()
    await _with_a_goal(first, clock)
    first.fake.fail_next("files.getUploadURLExternal", error="invalid_arguments")
    assert _chart_shown(await first.open_home()) is None
    assert _uploads(first) == 0
    second = await make_harness()
    assert _chart_shown(await second.open_home()) is not None
    assert _uploads(first) == 1
