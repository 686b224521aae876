"""A snoozed rhythm reminder is listed in `due` (with the day it comes back) when another
reminder about the same person is out, as it is when none is."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say

NEW_YORK = console_user(tz="America/New_York")


def _ny(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute,
                    tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)


async def test_a_snoozed_rhythm_reminder_is_listed_beside_a_note_reminder_out(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(_ny(10, 1, 10))
    await say(rapport, "add Mei Lin every 4 weeks", NEW_YORK)
    await say(rapport, "note Mei: renewal decision after Oct 30", NEW_YORK)
    clock.set(_ny(11, 2, 10, 1))
    await Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                  owner="test", clock=clock).sweep()
    await say(rapport, "snooze #1 until Wednesday", NEW_YORK)  # the rhythm's
    assert await say(rapport, "due", NEW_YORK) == "\n".join([
        "Due now:",
        "  #2 Ask Mei about the renewal decision (you noted it on Thu Oct 1)",
        "Overdue:",
        "  Mei Lin (since Thu Oct 29): next reminder Wed Nov 4",
        "Reply “done #N”, “snooze #N 1 week” or “dismiss #N”."])
