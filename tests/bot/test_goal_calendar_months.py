"""`goals` and `stats` measure a rhythm in months by calendar months, as `people` does: a
person's own `monthly`, and a monthly goal for those who follow it. Talked to Jan 31, both
are due Feb 28 (not Mar 2); talked to Mar 1, both are due Apr 1 (not Mar 31)."""

from __future__ import annotations

from datetime import UTC, datetime

from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import GoalsView, Reply
from tests.conftest import Clock, console_user

ALEX = console_user("alex")


def _at(month: int, day: int) -> datetime:
    return datetime(2027, month, day, 12, tzinfo=UTC)


async def _say(rapport: Rapport, *lines: str) -> Reply:
    reply = Reply("")
    for line in lines:
        reply = await rapport.handle_text(ALEX, line)
        assert reply.ok, (line, reply.text)
    return reply


async def _looks(rapport: Rapport) -> tuple[str, str, GoalsView, str]:
    """What `people`, `goals` (its text and view) and `stats` say now."""
    people = await _say(rapport, "people")
    goals = await _say(rapport, "goals")
    assert isinstance(goals.view, GoalsView)
    stats = await _say(rapport, "stats")
    return people.text, goals.text, goals.view, stats.text


async def test_goals_count_calendar_months_as_people_does(rapport: Rapport,
                                                         clock: Clock) -> None:
    clock.set(_at(1, 4))
    await _say(rapport, "add Priya Shah client monthly #clients", "add Lee Park client #clients",
               "goal clients every month")
    clock.set(_at(1, 31))
    await _say(rapport, "log Priya call", "log Lee call")

    # Feb 28: one calendar month after Jan 31, due today, so still within the rhythm.
    clock.set(_at(2, 28))
    people, goals, view, stats = await _looks(rapport)
    assert people.count("due today") == 2
    assert "Clients: 2 of 2 within a month (100%)" in goals
    assert "Clients: 2 of 2 within a month (100%)" in stats.splitlines()[0]
    assert [(line.name, line.within) for line in view.own] == [("Priya Shah", True)]
    assert "People with a rhythm of their own: 1 of 1 within their rhythm" in goals

    # Mar 1: a day past it (30 days would have said Mar 2).
    clock.set(_at(3, 1))
    people, goals, view, stats = await _looks(rapport)
    assert people.count("overdue 1 day") == 2
    assert "Clients: 0 of 2 within a month (0%)" in goals
    assert [(line.name, line.within) for line in view.own] == [("Priya Shah", False)]
    assert "Priya Shah: every month, last talked Sun Jan 31, overdue" in goals
    await _say(rapport, "log Priya call", "log Lee call")

    # Apr 1: one calendar month after Mar 1, due today (30 days would have said Mar 31).
    clock.set(_at(4, 1))
    people, goals, view, stats = await _looks(rapport)
    assert people.count("due today") == 2
    assert "Health: 2 of 2 people within their rhythm (100%)." in stats
    assert "Clients: 2 of 2 within a month (100%)" in goals
    assert "Clients: 2 of 2 within a month (100%)" in stats.splitlines()[0]
    assert [(line.name, line.within) for line in view.own] == [("Priya Shah", True)]
    assert "Priya Shah: every month, last talked Mon Mar 1\n" in goals + "\n"
