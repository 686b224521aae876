"""A put-off suggestion for someone with a rhythm in months proposes months ("Every 8 months
instead?"), never days ("every 244 days"), and accepting it sets that many calendar months, as
`every Lee 8 months` would."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import SuggestionsView
from rapport.bot.platforms.console.chat import ConsoleMessenger
from rapport.scheduler import planner
from rapport.scheduler import suggestions as rules
from rapport.scheduler.delivery import Sweeper
from rapport.storage.models import Contact
from tests.conftest import Clock, console_user, say

ALEX = console_user("alex")


async def _contact(rapport: Rapport, name: str) -> Contact:
    async with rapport.sessions() as session:
        found = await session.scalar(select(Contact).where(Contact.name == name))
    assert found is not None
    return found


async def _put_off_three_times(rapport: Rapport, clock: Clock, name: str) -> None:
    """Each rhythm nudge the real sweep delivers is put off: snoozed a week, then dismissed,
    then the next one dismissed (the clock moves a day at a time: the rhythm is months)."""
    sweeper = Sweeper(sessions=rapport.sessions,
                      messengers={"console": ConsoleMessenger(write=lambda text: None)},
                      owner="months-test", clock=clock)
    for answer in (f"snooze {name} 1 week", f"dismiss {name}", f"dismiss {name}"):
        for _day in range(400):
            clock.advance(days=1)
            if (await sweeper.sweep()).sent:
                break
        else:
            raise AssertionError("no rhythm nudge came in 400 days")
        await say(rapport, answer, ALEX)


@pytest.mark.parametrize(("rhythm", "months", "proposed", "stored"), [
    ("every 4 months", 4, "Every 8 months", 8),
    ("quarterly", 3, "Every 6 months", 6),
    ("every 2 months", 2, "Every 4 months", 4),
    ("every 7 months", 7, "Every year", 12),
])
async def test_a_rhythm_in_months_is_put_off_in_months(
        rapport: Rapport, clock: Clock, rhythm: str, months: int, proposed: str,
        stored: int) -> None:
    await say(rapport, "settings window 0:00-24:00", ALEX)
    await say(rapport, "settings days all", ALEX)
    await say(rapport, f"add Lee Park client {rhythm}", ALEX)
    lee = await _contact(rapport, "Lee Park")
    assert lee.cadence_months == months
    await _put_off_three_times(rapport, clock, "Lee")
    assert await rules.make_suggestions(rapport.db, clock.now) == 1
    listed = await rapport.handle_text(ALEX, "suggestions")
    assert isinstance(listed.view, SuggestionsView)
    [item] = listed.view.items
    assert item.text == f"You've put off Lee three times. {proposed} instead?"

    accepted = await say(rapport, f"accept {item.suggestion_id}", ALEX)
    assert accepted == f"Done. Lee Park is now {proposed.lower()}."
    lee = await _contact(rapport, "Lee Park")
    assert (lee.cadence_months, lee.cadence_days, lee.cadence_own) == (
        stored, planner.approx_days(stored), True)
    every = planner.cadence_text(None, stored)
    assert f"Rhythm: every {every} ·" in await say(rapport, "show Lee", ALEX)
    assert f"Lee Park (client, every {every})" in await say(rapport, "people", ALEX)
