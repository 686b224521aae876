"""`undo` after Done, Snooze or Dismiss on a nudge that was out: the nudge is open again, but
its message was answered already and the sweep sends it no more, so the answer says where to
find it, and `due` lists it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say

MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a week after the clock's Mon Nov 23


async def _out(rapport: Rapport, engine: AsyncEngine, clock: Clock) -> int:
    """Dana's weekly rhythm nudge, out on Monday: its number."""
    await say(rapport, "add Dana Scully every 1 week")
    clock.set(MONDAY)
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    assert (await sweeper.sweep()).sent == 1
    [nudge] = (await rapport.handle_text(console_user(), "due")).nudges
    return nudge.nudge_id


def _listed(due: str, nudge_id: int) -> bool:
    return any(line.startswith(f"  #{nudge_id} ") for line in due.splitlines())


@pytest.mark.parametrize(("command", "done"), [
    ("done #{n}", "marked nudge #{n} about Dana Scully done"),
    ("snooze #{n} 1 week", "snoozed nudge #{n} about Dana Scully until Mon Dec 7"),
    ("snooze #{n} 2 hours", "snoozed nudge #{n} about Dana Scully for 2 hours"),
    ("dismiss #{n}", "dismissed nudge #{n} about Dana Scully"),
])
async def test_undo_says_the_nudge_is_open_in_due(command: str, done: str, rapport: Rapport,
                                                  engine: AsyncEngine, clock: Clock) -> None:
    n = await _out(rapport, engine, clock)
    await say(rapport, command.format(n=n))
    assert not _listed(await say(rapport, "due"), n)
    assert await say(rapport, "undo") == (
        f"Undone: {done.format(n=n)}. It's open again: see “due”.")
    assert _listed(await say(rapport, "due"), n)


async def test_undo_of_another_change_names_the_nudge_it_reopens(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    n = await _out(rapport, engine, clock)
    await say(rapport, "every Dana off")  # closes the rhythm's reminder out
    assert not _listed(await say(rapport, "due"), n)
    answer = await say(rapport, "undo")
    assert answer.endswith(f". Nudge #{n} is open again: see “due”."), answer
    assert _listed(await say(rapport, "due"), n)


async def test_undo_that_reopens_nothing_says_nothing_of_it(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await _out(rapport, engine, clock)
    await say(rapport, "note Dana: the offsite")
    assert "open again" not in await say(rapport, "undo")
