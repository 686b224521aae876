"""`stats` and `goals` count who is within their rhythm by one rule: not overdue, in the
user's days. Someone never talked to and still inside their first period is within it in
both; someone whose first period ran out is overdue in both."""

from __future__ import annotations

from datetime import UTC, datetime

from rapport.bot.core.rapport import Rapport
from tests.conftest import Clock, say


async def test_stats_and_goals_count_a_first_period_alike(rapport: Rapport,
                                                          clock: Clock) -> None:
    clock.set(datetime(2026, 10, 1, 10, 0, tzinfo=UTC))
    await say(rapport, "add Ana Diaz quarterly")
    await say(rapport, "add Ben Ng every 2 weeks")
    await say(rapport, "add Cy Ode every 2 weeks")
    clock.set(datetime(2026, 11, 2, 10, 0, tzinfo=UTC))
    await say(rapport, "log Cy yesterday")
    stats = await say(rapport, "stats")
    assert "Health: 2 of 3 people within their rhythm (67%). Slipped most: Ben Ng (" in stats
    goals = await say(rapport, "goals")
    assert goals.splitlines()[:4] == [
        "People with a rhythm of their own: 2 of 3 within their rhythm",
        "  Ana Diaz: every 3 months, no conversation logged yet",
        "  Ben Ng: every 2 weeks, no conversation logged yet, overdue",
        "  Cy Ode: every 2 weeks, last talked yesterday"]
