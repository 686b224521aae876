"""App Home after changes: one publish for a burst, and never while commands are answered."""

from __future__ import annotations

import asyncio

import pytest

from tests.slack.conftest import ALEX, SlackHarness


@pytest.fixture(autouse=True)
def prompt_first_refresh(slack: SlackHarness) -> None:
    """Publish right after the first change instead of a second later."""
    slack.home_tab().refresh_delay = 0.0


async def test_a_burst_of_changes_publishes_home_once(slack: SlackHarness) -> None:
    await slack.command("add Dana")
    await slack.until(lambda: slack.publishes() == 1)
    for summary in ("coffee", "lunch", "call", "walk"):
        status, _ = await slack.command(f"log Dana {summary}")
        assert status == 200
    # The changes after the first publish are collected into one more publish, which waits
    # for the 30 s interval: none of them published on its own.
    await asyncio.sleep(0.3)
    assert slack.publishes() == 1
    assert (slack.team_id, ALEX) in slack.home_tab()._refreshing


async def test_a_refresh_waits_while_a_request_is_in_flight(slack: SlackHarness) -> None:
    load = slack.runtime.load
    load.started()  # another person's command, still being answered
    try:
        status, _ = await slack.command("add Dana")
        assert status == 200
        await asyncio.sleep(0.3)
        assert slack.publishes() == 0
    finally:
        load.finished()
    await slack.until(lambda: slack.publishes() == 1)


async def test_a_refresh_waits_for_the_burst_to_end_not_for_a_gap_between_requests(
        slack: SlackHarness) -> None:
    """Commands answered one after another, each before the next arrives, are one burst:
    "nothing in flight" between two of them is no pause to publish Home in."""
    load = slack.runtime.load
    status, _ = await slack.command("add Dana")
    assert status == 200
    for _ in range(8):
        load.started()
        load.finished()
        await asyncio.sleep(load.lull / 4)
        assert slack.publishes() == 0
    await slack.until(lambda: slack.publishes() == 1)


async def test_a_refresh_waits_for_a_pause_only_so_long(slack: SlackHarness) -> None:
    slack.home_tab().max_defer = 0.2
    load = slack.runtime.load
    load.started()  # a request that never ends: a burst that does not stop
    try:
        await slack.command("add Dana")
        await slack.until(lambda: slack.publishes() == 1)
        assert load.in_flight == 1
    finally:
        load.finished()


async def test_opening_the_tab_publishes_at_once_even_under_load(slack: SlackHarness) -> None:
    load = slack.runtime.load
    load.started()
    try:
        status, _ = await slack.event({"type": "app_home_opened", "user": ALEX, "tab": "home",
                                       "channel": "D0HOME", "event_ts": "1.2"})
        assert status == 200
        await slack.until(lambda: slack.publishes() == 1)
    finally:
        load.finished()
