"""`due` shows what is due now and coming up: birthdays and work anniversaries whose reminder
comes in the next week are listed with the date and the day the reminder arrives, in the
console text and in what Slack's App Home draws from the same view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import DateComingLine, DueView
from rapport.bot.platforms.console.chat import ConsoleMessenger
from rapport.bot.platforms.slack.blocks import home_content
from rapport.scheduler.delivery import Sweeper
from tests.conftest import Clock, console_user

ALEX = console_user("alex")
MONDAY = datetime(2026, 12, 21, 10, tzinfo=UTC)


async def _say(rapport: Rapport, *lines: str) -> None:
    for line in lines:
        reply = await rapport.handle_text(ALEX, line)
        assert reply.ok, (line, reply.text)


async def test_due_lists_birthdays_and_anniversaries_of_the_coming_week(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(MONDAY)
    await _say(rapport, "add Dana Scully", "add Lee Park", "add Mia Wong",
               "date dana birthday dec 25", "date lee anniversary 2019-12-27",
               "date lee birthday apr 5", "date mia birthday jan 12")

    due = await rapport.handle_text(ALEX, "due")
    # Reminders three days before, at the start of the window (09:00 on working days);
    # Lee's birthday in April and Mia's in January are more than a week off.
    assert due.text == ("Coming up:\n"
                        "  Dana's birthday on Fri Dec 25: next reminder tomorrow\n"
                        "  Lee's 7th work anniversary on Sun Dec 27: next reminder Thu Dec 24")
    assert isinstance(due.view, DueView)
    assert [(line.name, line.day, line.on) for line in due.view.coming
            if isinstance(line, DateComingLine)] == [
        ("Dana Scully", MONDAY.date() + timedelta(days=1), MONDAY.date() + timedelta(days=4)),
        ("Lee Park", MONDAY.date() + timedelta(days=3), MONDAY.date() + timedelta(days=6))]

    # Slack's App Home draws the same lines under "Coming up".
    home = await rapport.home(ALEX)
    assert home is not None
    assert home_content(home).coming_up.splitlines() == [
        "Dana's birthday on Fri Dec 25: next reminder tomorrow",
        "Lee's 7th work anniversary on Sun Dec 27: next reminder Thu Dec 24"]

    # Once the reminder is out it is due now, and not listed as coming up as well.
    messenger = ConsoleMessenger(write=lambda text: None)
    sweeper = Sweeper(sessions=rapport.sessions, messengers={"console": messenger},
                      owner="due-dates", clock=clock)
    clock.set(MONDAY + timedelta(hours=23, minutes=1))  # Tue 09:01
    assert (await sweeper.sweep()).sent == 1
    due = await rapport.handle_text(ALEX, "due")
    lines = due.text.splitlines()
    assert lines[0] == "Due now:" and "Dana's birthday" in lines[1]
    assert lines[2:4] == ["Coming up:", "  Lee's 7th work anniversary on Sun Dec 27: next "
                                        "reminder Thu Dec 24"]
    assert sum("Dana" in line for line in lines) == 1
