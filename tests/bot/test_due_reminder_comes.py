"""`due`'s "Coming up" says the day a note's reminder comes, as its confirmation does: a note
for a day off comes on the next working day (the line said the Saturday, a day nothing
came), as does a note reminder snoozed to a day off; a working day keeps its own."""

from __future__ import annotations

from datetime import UTC, datetime

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say

ALEX = console_user("alex")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def _delivered(rapport: Rapport, clock: Clock, moment: datetime) -> list[str]:
    clock.set(moment)
    inbox = Inbox()
    await Sweeper(sessions=rapport.sessions, messengers={"console": inbox}, owner="t",
                  clock=clock).sweep()
    return [item.headline.split(" (")[0] for message in inbox.delivered
            for item in message.items]


async def test_a_note_for_a_day_off_is_coming_up_on_the_working_day_it_comes(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(MONDAY)
    await say(rapport, "add Dana", ALEX)
    await say(rapport, "add Lee", ALEX)
    confirmed = await say(rapport, "note Dana: hiking trip on Saturday", ALEX)
    assert "I'll remind you on Mon Nov 30" in confirmed
    await say(rapport, "note Lee: call him on Friday", ALEX)
    assert await say(rapport, "due", ALEX) == "\n".join([
        "Coming up:",
        "  Call Lee Fri Nov 27",
        "  Ask Dana about the hiking trip Mon Nov 30"])
    # And those are the days they do come.
    assert await _delivered(rapport, clock, datetime(2026, 11, 27, 12, 0, tzinfo=UTC)) == [
        "Call Lee"]
    assert await _delivered(rapport, clock, datetime(2026, 11, 28, 12, 0, tzinfo=UTC)) == []
    assert await _delivered(rapport, clock, datetime(2026, 11, 30, 9, 5, tzinfo=UTC)) == [
        "Ask Dana about the hiking trip"]


async def test_working_days_of_the_users_own_decide_the_coming_up_day(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(MONDAY)
    await say(rapport, "add Dana", ALEX)
    await say(rapport, "settings days tue-sat", ALEX)
    await say(rapport, "note Dana: hiking trip on Sunday", ALEX)
    await say(rapport, "note Dana: the offsite on Saturday", ALEX)
    assert await say(rapport, "due", ALEX) == "\n".join([
        "Coming up:",
        "  Ask Dana about the offsite Sat Nov 28",
        "  Ask Dana about the hiking trip Tue Dec 1"])


async def test_a_note_reminder_snoozed_to_a_day_off_is_coming_up_on_the_day_it_comes(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(MONDAY)
    await say(rapport, "add Kim Wu", ALEX)
    await say(rapport, "note Kim: hiking trip in Yosemite today", ALEX)
    assert await _delivered(rapport, clock, MONDAY) == ["Ask Kim about the hiking trip in "
                                                        "Yosemite"]
    snoozed = await say(rapport, "snooze Kim until Saturday", ALEX)
    assert "Mon Nov 30: Sat Nov 28 is not one of your working days" in snoozed
    assert await say(rapport, "due", ALEX) == \
        "Coming up:\n  Ask Kim about the hiking trip in Yosemite Mon Nov 30"
    assert await _delivered(rapport, clock, datetime(2026, 11, 28, 12, 0, tzinfo=UTC)) == []
    assert await _delivered(rapport, clock, datetime(2026, 11, 30, 9, 5, tzinfo=UTC)) == [
        "Ask Kim about the hiking trip in Yosemite"]
