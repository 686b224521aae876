"""`due` puts under "Due today" only those whose reminder comes today: after the rhythm's
reminder of the day is dismissed, the rhythm is still due today (`people` and `show` say so)
but its next reminder comes on a later day, and the heading over that line says so instead of
promising one today."""

from __future__ import annotations

from datetime import UTC, datetime

from rapport.bot.core.rapport import Rapport
from tests.bot.test_note_reminder_comes import _delivered
from tests.conftest import Clock, console_user, say

ALEX = console_user("alex")
# Friday Dec 4 2026, before the 09:00 window: Cat's and Dana's three weeks run out today.
FRIDAY_EARLY = datetime(2026, 12, 4, 7, 0, tzinfo=UTC)


async def test_a_dismissed_reminder_of_today_is_not_due_today_in_due(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(FRIDAY_EARLY)
    for line in ("add Dana Scully every 3 weeks", "log Dana 21 days ago"):
        await say(rapport, line, ALEX)
    assert await say(rapport, "due", ALEX) == "Due today:\n  Dana Scully: next reminder today"
    assert await _delivered(rapport, clock, datetime(2026, 12, 4, 10, 0, tzinfo=UTC)) == [
        "It has been 3 weeks since you talked to Dana Scully"]
    await say(rapport, "add Cat Fox every 3 weeks", ALEX)
    await say(rapport, "log Cat 21 days ago", ALEX)
    assert await say(rapport, "dismiss #1", ALEX) == (
        "Dismissed the reminder to talk to Dana Scully.")

    due = await say(rapport, "due", ALEX)

    # Cat's reminder is on its way today; Dana's next one is weeks off, and not under
    # "Due today".
    assert due == "\n".join([
        "Due today:",
        "  Cat Fox: a nudge is on its way",
        "Due today, reminded later:",
        "  Dana Scully: next reminder Fri Dec 25"]), due
    assert (await say(rapport, "people", ALEX)).splitlines()[2].endswith(" · due today")


async def test_alone_the_line_reminded_later_has_its_own_heading(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(FRIDAY_EARLY)
    for line in ("add Dana Scully every 3 weeks", "log Dana 21 days ago"):
        await say(rapport, line, ALEX)
    await _delivered(rapport, clock, datetime(2026, 12, 4, 10, 0, tzinfo=UTC))
    await say(rapport, "dismiss #1", ALEX)

    assert await say(rapport, "due", ALEX) == (
        "Due today, reminded later:\n  Dana Scully: next reminder Fri Dec 25")
