"""A zone the platform reports (Teams' clientInfo, Slack's profile) is applied when it changes,
also for someone this process already knows: a person who travels gets their new zone at
their next command, not at the next restart. A zone chosen with `settings tz` still wins. The
rows are compared with the reported zone only when it changed, so a command in the same zone
as the one before costs no extra read or write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.storage import db
from rapport.storage.models import User
from tests.conftest import console_user, say

NO_ZONE = console_user("alex", tz="")
IN_BERLIN = console_user("alex", tz="Europe/Berlin")
IN_NEW_YORK = console_user("alex", tz="America/New_York")
IN_TOKYO = console_user("alex", tz="Asia/Tokyo")


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine runs during the test (the core's SQLite runs on engines
    of its own beside the async one)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


def _row_checks(statements: list[str]) -> int:
    """How often the acting user's rows were compared with what the platform says."""
    return sum("users.tz_from_platform, users.active, users.inactive_reason" in s
               for s in statements)


def _zone_writes(statements: list[str]) -> int:
    return sum(s.startswith("UPDATE users SET tz=") for s in statements)


async def _zone(engine: AsyncEngine) -> tuple[str, bool]:
    async with db.session_factory(engine)() as session:
        [user] = (await session.scalars(select(User))).all()
    return user.tz, user.tz_from_platform


async def test_a_known_user_without_a_zone_gets_the_one_the_platform_reports_then(
        rapport: Rapport, engine: AsyncEngine, statements: list[str]) -> None:
    # Installed by an event that carried no zone: UTC until the platform says.
    await say(rapport, "add Dana Scully", NO_ZONE)
    assert await _zone(engine) == ("UTC", True)

    await say(rapport, "log Dana coffee", IN_NEW_YORK)

    assert await _zone(engine) == ("America/New_York", True)
    assert "Time zone: America/New_York" in await say(rapport, "settings", IN_NEW_YORK)


async def test_a_known_user_who_travels_gets_the_new_zone_once(
        rapport: Rapport, engine: AsyncEngine, statements: list[str]) -> None:
    await say(rapport, "add Dana Scully", IN_BERLIN)
    await say(rapport, "due", IN_BERLIN)
    assert await _zone(engine) == ("Europe/Berlin", True)
    statements.clear()

    await say(rapport, "log Dana coffee", IN_NEW_YORK)

    assert await _zone(engine) == ("America/New_York", True)
    assert (_row_checks(statements), _zone_writes(statements)) == (1, 1)
    statements.clear()
    # Still there: the same zone again is no news, neither read nor written.
    for line in ("due", "people", "log Dana lunch"):
        await say(rapport, line, IN_NEW_YORK)
    assert (_row_checks(statements), _zone_writes(statements)) == (0, 0)
    # Flying on: applied again.
    await say(rapport, "due", IN_TOKYO)
    assert await _zone(engine) == ("Asia/Tokyo", True)


async def test_a_zone_chosen_with_settings_tz_wins_over_the_platforms(
        rapport: Rapport, engine: AsyncEngine, statements: list[str]) -> None:
    await say(rapport, "settings tz Europe/Lisbon", IN_BERLIN)
    statements.clear()

    for line in ("due", "people", "due"):
        await say(rapport, line, IN_NEW_YORK)

    assert await _zone(engine) == ("Europe/Lisbon", False)
    # At most compared when the reported zone changed, never written.
    assert _row_checks(statements) <= 1 and _zone_writes(statements) == 0
    assert "Time zone: Europe/Lisbon" in await say(rapport, "settings", IN_NEW_YORK)
