"""Someone whose rhythm's day is today is "due today" everywhere: `people`, `show`, `due`
and `stats` agree, in the user's days; overdue starts the day after (never "0 days
overdue" or "overdue since today"), and `stats` counts them within their rhythm."""

from __future__ import annotations

from datetime import UTC, datetime

from rapport.bot.core.rapport import Rapport
from tests.conftest import Clock, console_user, say

# Friday Dec 4 2026: "log Cat 21 days ago" is Fri Nov 13 (at noon), so her three weeks run
# out today; her nudge comes when the 09:00 window opens.
FRIDAY_AFTERNOON = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
FRIDAY_EARLY = datetime(2026, 12, 4, 7, 0, tzinfo=UTC)


async def _cat_due_today(rapport: Rapport, clock: Clock, *, at: datetime) -> None:
    clock.set(at)
    for line in ("add Cat Fox every 3 weeks", "log Cat 21 days ago"):
        await say(rapport, line)


async def test_people_show_due_and_stats_all_say_due_today(rapport: Rapport,
                                                            clock: Clock) -> None:
    await _cat_due_today(rapport, clock, at=FRIDAY_AFTERNOON)

    assert await say(rapport, "people") == (
        "Your people:\n"
        "  Cat Fox (colleague, every 3 weeks): last talked Fri Nov 13 · due today")
    assert " · due today · " in (await say(rapport, "show Cat")).splitlines()[1]
    assert await say(rapport, "due") == "Due today:\n  Cat Fox: a nudge is on its way"
    stats = await say(rapport, "stats")
    assert "Health: 1 of 1 person within their rhythm (100%)." in stats.splitlines()
    assert "overdue" not in stats


async def test_before_the_window_opens_it_is_due_today_as_well(rapport: Rapport,
                                                               clock: Clock) -> None:
    await _cat_due_today(rapport, clock, at=FRIDAY_EARLY)

    assert await say(rapport, "due") == "Due today:\n  Cat Fox: next reminder today"
    assert "Health: 1 of 1 person within their rhythm (100%)." in \
        (await say(rapport, "stats")).splitlines()


async def test_the_day_after_it_is_overdue_by_one_day_everywhere(rapport: Rapport,
                                                                 clock: Clock) -> None:
    await _cat_due_today(rapport, clock, at=FRIDAY_AFTERNOON)
    clock.set(datetime(2026, 12, 5, 9, 0, tzinfo=UTC))  # Saturday morning

    assert (await say(rapport, "people")).endswith("· overdue 1 day")
    # A Saturday: the nudge comes on Monday, the next working day.
    assert await say(rapport, "due") == \
        "Overdue:\n  Cat Fox (since yesterday): next reminder Mon Dec 7"
    stats = (await say(rapport, "stats")).splitlines()
    assert ("Health: 0 of 1 person within their rhythm (0%). Slipped most: Cat Fox (1 day "
            "overdue).") in stats


async def test_stats_count_the_users_days_not_utcs(rapport: Rapport, clock: Clock) -> None:
    pacific = console_user(tz="America/Los_Angeles")
    clock.set(FRIDAY_AFTERNOON)
    for line in ("add Cat Fox every 3 weeks", "log Cat 21 days ago"):
        await say(rapport, line, pacific)
    # Saturday 02:00 UTC is still Friday evening in Los Angeles: Cat is due today there.
    clock.set(datetime(2026, 12, 5, 2, 0, tzinfo=UTC))

    assert (await say(rapport, "people", pacific)).endswith("· due today")
    assert "Health: 1 of 1 person within their rhythm (100%)." in \
        (await say(rapport, "stats", pacific)).splitlines()

