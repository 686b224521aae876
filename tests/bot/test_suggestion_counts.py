"""The suggestion count in `stats` adds up: the ones that expired unanswered (and those out of
date when accepted) are counted as expired, so made = accepted + kept + silenced + expired +
waiting."""

from __future__ import annotations

from datetime import timedelta

from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import StatsView
from rapport.scheduler import suggestions as rules
from tests.conftest import Clock, console_user

ALEX = console_user("alex")
NAMES = ("Ann", "Bea", "Cat", "Dee", "Eve")


async def test_expired_suggestions_are_counted_so_the_parts_add_up(rapport: Rapport,
                                                                  clock: Clock) -> None:
    for name in NAMES:
        for line in (f"add {name} Smith", f"note {name}: one thing", f"note {name}: another"):
            assert (await rapport.handle_text(ALEX, line)).ok, line
    clock.advance(days=31)
    for day in range(3):  # one a day, three waiting at most
        assert await rules.make_suggestions(rapport.db, clock.now + timedelta(days=day)) == 1
    # Unanswered for 30 days: expired, and a new one is made.
    clock.advance(days=33)
    assert await rules.make_suggestions(rapport.db, clock.now) == 1
    reply = await rapport.handle_text(ALEX, "keep 4")
    assert reply.ok, reply.text

    stats = await rapport.handle_text(ALEX, "stats")
    assert "Suggestions: 4 made, 0 accepted, 1 kept as it was, 3 expired." in stats.text
    assert isinstance(stats.view, StatsView)
    counts = stats.view.suggestion_counts
    assert (counts.made, counts.kept, counts.expired, counts.waiting) == (4, 1, 3, 0)
    assert counts.made == (counts.accepted + counts.kept + counts.silenced + counts.expired
                           + counts.waiting)
