"""Accepting a suggested rhythm sets the rhythm the suggestion said, as a typed `every` would:
in weeks for someone who was monthly, in calendar months when it says months, and their own
(no goal moves it), so `show`, `people` and the next nudge all say the same."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import PeopleView, Reply, SuggestionsView
from rapport.bot.platforms.console.chat import ConsoleMessenger
from rapport.scheduler import planner
from rapport.scheduler import suggestions as rules
from rapport.scheduler.delivery import Sweeper
from rapport.storage.models import Contact
from tests.conftest import Clock, console_user

ALEX = console_user("alex")


async def _say(rapport: Rapport, *lines: str) -> Reply:
    reply = Reply("")
    for line in lines:
        reply = await rapport.handle_text(ALEX, line)
        assert reply.ok, (line, reply.text)
    return reply


async def _contact(rapport: Rapport, name: str) -> Contact:
    async with rapport.sessions() as session:
        found = await session.scalar(select(Contact).where(Contact.name == name))
    assert found is not None
    return found


async def _only_suggestion(rapport: Rapport) -> tuple[int, str]:
    reply = await rapport.handle_text(ALEX, "suggestions")
    assert isinstance(reply.view, SuggestionsView)
    [item] = reply.view.items
    return item.suggestion_id, item.text


async def test_accepting_every_week_for_a_monthly_person_makes_them_weekly(
        rapport: Rapport, clock: Clock) -> None:
    await _say(rapport, "add Priya Shah client monthly")
    for _week in range(9):
        clock.advance(days=7)
        await _say(rapport, "log Priya call")
    assert await rules.make_suggestions(rapport.db, clock.now) == 1
    number, text = await _only_suggestion(rapport)
    assert text == "You talk to Priya about weekly. Set every week, so I notice when it slips?"

    accepted = await rapport.handle_text(ALEX, f"accept {number}")
    assert accepted.text == "Done. Priya Shah is now every week."
    priya = await _contact(rapport, "Priya Shah")
    assert (priya.cadence_days, priya.cadence_months, priya.cadence_own) == (7, None, True)
    assert priya.last_touch_at is not None
    assert priya.next_due_at == (priya.last_touch_at + timedelta(days=7)).replace(hour=0)
    # Every view says the rhythm a typed `every … 1 week` gives, never "every month".
    await _say(rapport, "add Pat Doe client", "every Pat 1 week")
    shown = await rapport.handle_text(ALEX, "show Priya")
    typed = await rapport.handle_text(ALEX, "show Pat")
    rhythm = typed.text.splitlines()[1].split(" · ")[0]
    assert rhythm.startswith("Rhythm: every ") and "month" not in rhythm
    assert shown.text.splitlines()[1].split(" · ")[0] == rhythm
    people = await rapport.handle_text(ALEX, "people")
    assert isinstance(people.view, PeopleView)
    [priya_line, pat_line] = [line for line in people.text.splitlines()
                              if "Priya" in line or "Pat" in line]
    assert priya_line.split("(")[1].split(")")[0] == pat_line.split("(")[1].split(")")[0]
    due = await rapport.handle_text(ALEX, "due")
    next_week = planner.local_date(priya.last_touch_at + timedelta(days=7), "UTC")
    assert f"Talk to Priya Shah {next_week:%a %b} {next_week.day}" in due.text


async def _put_off_three_times(rapport: Rapport, clock: Clock, name: str) -> None:
    """Each rhythm nudge about `name` the real sweep delivers is put off: snoozed a week,
    then dismissed, then the next one dismissed."""
    messenger = ConsoleMessenger(write=lambda text: None)
    sweeper = Sweeper(sessions=rapport.sessions, messengers={"console": messenger},
                      owner="rhythm-test", clock=clock)
    for answer in (f"snooze {name} 1 week", f"dismiss {name}", f"dismiss {name}"):
        for _hour in range(24 * 40):
            clock.advance(hours=1)
            if (await sweeper.sweep()).sent:
                break
        else:
            raise AssertionError("no rhythm nudge came in 40 days")
        await _say(rapport, answer)


async def test_accepting_a_put_off_for_a_monthly_goal_sets_two_calendar_months_of_their_own(
        rapport: Rapport, clock: Clock) -> None:
    await _say(rapport, "settings window 0:00-24:00", "settings days all",
               "add Lee Park client #clients", "goal clients every month")
    lee = await _contact(rapport, "Lee Park")
    assert (lee.cadence_months, lee.cadence_own) == (1, False)  # follows the goal
    await _put_off_three_times(rapport, clock, "Lee")
    assert await rules.make_suggestions(rapport.db, clock.now) == 1
    number, text = await _only_suggestion(rapport)
    assert text == "You've put off Lee three times. Every 2 months instead?"

    accepted = await rapport.handle_text(ALEX, f"accept {number}")
    assert accepted.text == "Done. Lee Park is now every 2 months."
    lee = await _contact(rapport, "Lee Park")
    assert (lee.cadence_months, lee.cadence_own) == (2, True)
    # Never talked to: two calendar months from the day Lee was added.
    assert lee.next_due_at == planner.add_months(lee.created_at, 2).replace(hour=0)
    people = await rapport.handle_text(ALEX, "people")
    assert "Lee Park (client, every 2 months) #clients" in people.text
    shown = await rapport.handle_text(ALEX, "show Lee")
    assert "Rhythm: every 2 months ·" in shown.text
    # Their own now: the goal no longer moves it.
    await _say(rapport, "goal clients every 2 weeks")
    assert (await _contact(rapport, "Lee Park")).cadence_months == 2
