"""A process that has no messenger for a platform (a headless `rapport serve`, a `rapport
worker`) leaves that platform's nudges alone: a process that has one (a `rapport chat` started
later) delivers them on its next sweep, once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import Actor
from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.console.chat import ConsoleMessenger
from rapport.scheduler.delivery import Sweeper
from rapport.scheduler.messenger import DeliveryResult, OutgoingMessage
from rapport.storage import db
from rapport.storage.models import Nudge, User, Workspace
from tests.conftest import Clock, console_user, say

OPEN_ALL_DAY = ("settings window 0:00-24:00", "settings days all")


class SlackRecorder:
    """What a Slack-only process delivers, recorded."""

    platform = "slack"

    def __init__(self) -> None:
        self.delivered: list[OutgoingMessage] = []

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        self.delivered.append(message)
        return DeliveryResult.sent(ref=f"slack-{len(self.delivered)}")


async def _nudge_rows(engine: AsyncEngine, platform: str | None = None
                      ) -> list[tuple[Any, ...]]:
    """Every nudge's delivery state, or only those of users on `platform`."""
    query = select(Nudge.id, Nudge.status, Nudge.deliver_after, Nudge.not_before,
                   Nudge.lease_owner, Nudge.attempts).order_by(Nudge.id)
    if platform is not None:
        query = query.join(User, User.id == Nudge.user_id).join(
            Workspace, Workspace.id == User.workspace_id).where(Workspace.platform == platform)
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(query)]


async def test_a_headless_sweep_leaves_console_nudges_for_the_chat(
        any_engine: AsyncEngine, clock: Clock) -> None:
    sessions = db.session_factory(any_engine)
    rapport = Rapport(sessions=sessions, clock=clock)
    for line in (*OPEN_ALL_DAY, "add Dana Scully colleague every 2 weeks",
                 "note Dana: hiking trip in Yosemite on today"):
        await say(rapport, line)
    headless = Sweeper(sessions=sessions, messengers={"slack": SlackRecorder()},
                       owner="serve", clock=clock)
    await headless.planner.plan(clock.now, lambda: False)
    planned = await _nudge_rows(any_engine)
    assert planned and all(status == "planned" and after <= clock.now
                           for _id, status, after, *_ in planned)

    for _ in range(2):
        swept = await headless.sweep()
        assert (swept.claimed, swept.deferred, swept.sent) == (0, 0, 0)
        assert await _nudge_rows(any_engine) == planned  # not claimed, not put off
        clock.advance(seconds=30)
    printed: list[str] = []
    chat = Sweeper(sessions=sessions, messengers={"console": ConsoleMessenger(printed.append)},
                   owner="chat", clock=clock)
    delivered = await chat.sweep()
    assert delivered.sent == len(planned)
    assert "Ask Dana about the hiking trip in Yosemite" in "".join(printed)
    # Nothing doubled: neither process sends it again.
    clock.advance(minutes=1)
    assert (await headless.sweep()).sent == 0 and (await chat.sweep()).sent == 0
    assert {row[1] for row in await _nudge_rows(any_engine)} == {"sent"}
    assert len(printed) == delivered.messages


async def test_nudges_nobody_here_serves_do_not_hold_up_the_ones_it_does(
        any_engine: AsyncEngine, clock: Clock) -> None:
    """More due console nudges than a batch, older than a Slack user's: the Slack-only process
    delivers the Slack one in the same sweep, and never reads or writes the console ones (the
    candidates are read for its own platforms only, so they cost it no batch, again and
    again, however long nobody serves the console)."""
    sessions = db.session_factory(any_engine)
    rapport = Rapport(sessions=sessions, clock=clock)
    for number in range(7):
        person = console_user(f"console{number}")
        for line in (*OPEN_ALL_DAY, "add Dana", "note Dana: her talk on today"):
            await say(rapport, line, person)
    clock.advance(minutes=5)
    slack_user = Actor(platform="slack", workspace_external_id="T1", user_external_id="U1")
    for line in (*OPEN_ALL_DAY, "add Lee", "note Lee: his move on today"):
        await say(rapport, line, slack_user)
    slack = SlackRecorder()
    headless = Sweeper(sessions=sessions, messengers={"slack": slack}, owner="serve",
                       batch_size=3, clock=clock)
    await headless.planner.plan(clock.now, lambda: False)
    # By platform, not the first ids: the planner may number the nudges in any order.
    console_rows = await _nudge_rows(any_engine, "console")
    assert len(console_rows) == 7

    report = await headless.sweep()

    assert (report.sent, report.deferred) == (1, 0)
    assert [m.recipient.user_external_id for m in slack.delivered] == ["U1"]
    assert await _nudge_rows(any_engine, "console") == console_rows
    for _ in range(3):
        clock.advance(minutes=1)
        idle = await headless.sweep()
        assert (idle.claimed, idle.deferred, idle.sent) == (0, 0, 0)
    assert await _nudge_rows(any_engine, "console") == console_rows
