"""A new user's very first slash command counts days in their Slack zone: their profile
(users.info) is asked for before it runs, within a short bound. A user Rapport knows makes no
users.info call before their command runs."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from rapport.bot.platforms.slack import slash
from rapport.bot.platforms.slack.acks import finish_answers
from rapport.storage.models import Contact, Touchpoint, User
from tests.conftest import Clock
from tests.slack.conftest import ALEX, HarnessFactory, SlackHarness

# Monday 23:30 in UTC is already Tuesday 00:30 in Berlin (Alex's Slack zone).
LATE_MONDAY_UTC = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)


async def _text(slack: SlackHarness, line: str) -> str:
    status, body = await slack.command(line)
    assert status == 200, body
    return str(json.loads(body)["text"])


async def _zone(slack: SlackHarness) -> str | None:
    async with slack.runtime.sessions() as session:
        return await session.scalar(select(User.tz).where(User.external_id == ALEX))


async def _everything_after_the_acks(slack: SlackHarness) -> None:
    """Wait for what the commands do after their acks (the Home refresh unpaced)."""
    # conftest's WakeableSleep (imported twice by pytest, so no isinstance check).
    woken = slack.home_tab().sleep.woken  # type: ignore[attr-defined]
    assert isinstance(woken, asyncio.Event)
    woken.set()
    await finish_answers()


async def _days(slack: SlackHarness, name: str) -> list[date]:
    async with slack.runtime.sessions() as session:
        moments = await session.scalars(select(Touchpoint.happened_at).join(Contact).where(
            Contact.name == name))
        return [moment.date() for moment in moments]


async def test_a_new_users_first_command_counts_days_in_their_slack_zone(
        slack: SlackHarness, clock: Clock) -> None:
    clock.set(LATE_MONDAY_UTC)
    assert "Added Dana Scully" in await _text(slack, "add Dana Scully")
    # Asked before the command ran: their rows start in their zone.
    assert [call.args["user"] for call in slack.fake.calls_to("users.info")] == [ALEX]
    assert await _zone(slack) == "Europe/Berlin"
    assert "Logged coffee with Dana Scully (yesterday)" in await _text(
        slack, "log Dana yesterday: coffee")
    assert await _days(slack, "Dana Scully") == [date(2026, 11, 23)]  # Monday in Berlin


async def test_a_known_users_command_asks_slack_nothing_before_it_runs(
        slack: SlackHarness, clock: Clock) -> None:
    clock.set(LATE_MONDAY_UTC)
    await _text(slack, "add Dana Scully")
    await slack.until(slack.profile_cached)
    asked = len(slack.fake.calls_to("users.info"))
    for line in ("add Sam Lee", "log Sam yesterday: call", "due"):
        await _text(slack, line)
    await _everything_after_the_acks(slack)
    assert len(slack.fake.calls_to("users.info")) == asked
    assert await _days(slack, "Sam Lee") == [date(2026, 11, 23)]


async def test_on_another_replica_a_known_user_is_not_looked_up_before_the_command(
        make_harness: HarnessFactory, clock: Clock) -> None:
    """Another replica (or a restart) has no profile cached: the user's rows say they are
    known, so their command does not wait for Slack; the profile is learnt after the ack."""
    clock.set(LATE_MONDAY_UTC)
    first = await make_harness()
    await _text(first, "add Dana Scully")
    await _everything_after_the_acks(first)
    second = await make_harness()
    second.fake.latency = 0.3  # every Slack answer takes a while
    asked, answered = len(second.fake.calls_to("users.info")), second.fake.answered
    assert "Logged coffee with Dana Scully (yesterday)" in await _text(
        second, "log Dana yesterday: coffee")
    assert second.fake.answered == answered  # answered before Slack answered anything
    await _everything_after_the_acks(second)
    assert len(second.fake.calls_to("users.info")) == asked + 1  # the one after the ack
    assert second.profile_cached()
    assert await _days(second, "Dana Scully") == [date(2026, 11, 23)]


async def test_slack_not_answering_in_time_runs_the_first_command_in_utc(
        slack: SlackHarness, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lookup is bounded: past it the first command runs (in UTC, as Slack said nothing
    yet), and the zone learnt after the ack applies from the next command on."""
    clock.set(LATE_MONDAY_UTC)
    monkeypatch.setattr(slash, "FIRST_PROFILE_SECONDS", 0.05)
    slack.fake.latency = 0.3  # longer than the bound
    answered = slack.fake.answered
    assert "Added Dana Scully" in await _text(slack, "add Dana Scully")
    assert slack.fake.answered == answered  # the command did not wait for users.info
    assert await _zone(slack) == "UTC"
    await slack.until(slack.profile_cached)
    slack.fake.latency = 0.0
    assert "Logged coffee with Dana Scully (yesterday)" in await _text(
        slack, "log Dana yesterday: coffee")
    assert await _zone(slack) == "Europe/Berlin"
    assert await _days(slack, "Dana Scully") == [date(2026, 11, 23)]
