"""A rhythm is due at the start of its day in the user's zone (`planner.cadence_next_due`).
When the zone changes (`settings tz`, or the one the platform reports), the next due moment
of every rhythm is counted again in the new zone, in the same change as the zone (`undo`
sets both back): it used to keep the old zone's midnight, so after a move from New York to
Tokyo the reminder came at 14:00 in Tokyo, a day early ("It has been 6 days")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db, queries
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say

IN_NEW_YORK = console_user("alex", tz="America/New_York")
IN_TOKYO = console_user("alex", tz="Asia/Tokyo")


def _at(tz: str, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo(tz)).astimezone(UTC)


@pytest.fixture
def engine(any_engine: AsyncEngine) -> AsyncEngine:
    """SQLite and, when configured, PostgreSQL."""
    return any_engine


async def _sweep(engine: AsyncEngine, clock: Clock, at: datetime) -> list[str]:
    clock.set(at)
    inbox = Inbox()
    await Sweeper(sessions=db.session_factory(engine), messengers={"console": inbox},
                  owner="test", clock=clock).sweep()
    return [item.headline for message in inbox.delivered for item in message.items]


async def _logged_in_new_york(rapport: Rapport, clock: Clock) -> None:
    """Dana, every week, talked to on Tuesday Nov 10 at 20:00 in New York (Wednesday 10:00
    in Tokyo)."""
    clock.set(_at("America/New_York", 3, 10))
    await say(rapport, "add Dana Scully every 1 week", IN_NEW_YORK)
    clock.set(_at("America/New_York", 10, 20))
    await say(rapport, "log Dana today: coffee", IN_NEW_YORK)


async def test_a_zone_changed_after_a_log_brings_the_rhythm_at_the_new_window_start(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await _logged_in_new_york(rapport, clock)

    await say(rapport, "change my time zone to Asia/Tokyo", IN_NEW_YORK)

    assert "next nudge Tue Nov 17" in await say(rapport, "show Dana", IN_TOKYO)
    # Still due on Tuesday, as before; at the window's start there, not at 14:00 (New York's
    # midnight).
    assert await _sweep(engine, clock, _at("Asia/Tokyo", 17, 8, 59)) == []
    assert await _sweep(engine, clock, _at("Asia/Tokyo", 17, 9, 1)) == [
        "It has been 6 days since you talked to Dana Scully"]


async def test_undo_of_the_zone_change_brings_the_old_zones_moment_back(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await _logged_in_new_york(rapport, clock)
    await say(rapport, "change my time zone to Asia/Tokyo", IN_NEW_YORK)

    assert (await say(rapport, "undo", IN_TOKYO)).startswith("Undone: changed settings")

    assert "next nudge Tue Nov 17" in await say(rapport, "show Dana", IN_NEW_YORK)
    assert await _sweep(engine, clock, _at("America/New_York", 17, 8, 59)) == []
    assert await _sweep(engine, clock, _at("America/New_York", 17, 9, 1)) == [
        "It has been 7 days since you talked to Dana Scully"]


async def test_the_zone_the_platform_reports_moves_the_rhythm_too(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await _logged_in_new_york(rapport, clock)

    # The person travels: their next command carries Tokyo.
    assert "next nudge Tue Nov 17" in await say(rapport, "show Dana", IN_TOKYO)
    assert await _sweep(engine, clock, _at("Asia/Tokyo", 17, 8, 59)) == []
    assert await _sweep(engine, clock, _at("Asia/Tokyo", 17, 9, 1)) == [
        "It has been 6 days since you talked to Dana Scully"]


async def test_many_rhythms_move_in_one_write(
        rapport: Rapport, engine: AsyncEngine, clock: Clock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    await _logged_in_new_york(rapport, clock)
    for name in ("Lee Park", "Sam Reyes", "Ana Lima"):
        await say(rapport, f"add {name} every 2 weeks", IN_NEW_YORK)
        await say(rapport, f"log {name.split()[0]} today: lunch", IN_NEW_YORK)
    writes: list[int] = []
    one_by_one: list[int] = []
    batch = queries.set_planned_moments

    def spied(session: Session, moments: Sequence[tuple[int, Any, Any]]) -> None:
        writes.append(len(moments))
        batch(session, moments)

    def single(*_args: Any, **_kwargs: Any) -> None:
        one_by_one.append(1)

    monkeypatch.setattr(queries, "set_planned_moments", spied)
    monkeypatch.setattr(queries, "set_contact_clock", single)

    await say(rapport, "change my time zone to Asia/Tokyo", IN_NEW_YORK)

    assert (writes, one_by_one) == ([4], [])
    for name in ("Lee", "Sam", "Ana"):
        assert "next nudge Tue Nov 24" in await say(rapport, f"show {name}", IN_TOKYO)
    assert "next nudge Tue Nov 17" in await say(rapport, "show Dana", IN_TOKYO)
