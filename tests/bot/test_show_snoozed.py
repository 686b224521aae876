"""A person's card says when a snoozed reminder comes back: the next nudge is the soonest of
the rhythm's next ask and the snoozed reminders, and a snoozed follow-up says its new day
(`due` says the same since it learnt about snoozes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import PersonView
from rapport.bot.platforms.teams.cards import person_card
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say


def _facts(card: Any) -> list[Any]:
    """Every fact of an Adaptive Card's fact sets, wherever they are nested."""
    if isinstance(card, dict):
        found = list(card.get("facts", [])) if card.get("type") == "FactSet" else []
        return found + [fact for value in card.values() for fact in _facts(value)]
    if isinstance(card, list):
        return [fact for item in card for fact in _facts(item)]
    return []

# Friday Dec 4 2026, the afternoon the tester saw it.
FRIDAY = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)


async def _dana_with_two_snoozed_reminders(rapport: Rapport, engine: AsyncEngine,
                                           clock: Clock) -> None:
    """Dana overdue, her rhythm reminder (#1) snoozed to Fri Dec 11 and her hiking-trip
    follow-up (#2) to Thu Dec 10, as the report has it."""
    clock.set(FRIDAY)
    for line in ("settings window 0:00-24:00", "settings days all",
                 "add Dana Scully colleague every 2 weeks", "log Dana 20 days ago",
                 "note Dana: hiking trip in Yosemite today"):
        await say(rapport, line)
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    assert (await sweeper.sweep()).messages == 1  # one digest: the rhythm and the trip
    assert await say(rapport, "snooze #2 until Dec 10") == (
        "Snoozed the reminder to ask Dana about the hiking trip in Yosemite until Thu Dec 10.")
    assert await say(rapport, "snooze #1 1 week") == (
        "Snoozed the reminder to talk to Dana Scully until Fri Dec 11.")


async def test_the_next_nudge_is_the_first_snoozed_reminder_to_come_back(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await _dana_with_two_snoozed_reminders(rapport, engine, clock)

    card = (await say(rapport, "show Dana")).splitlines()

    # Not Sat Dec 12 (the rhythm's next look): the trip's reminder is back on Thursday.
    assert card[2] == ("Rhythm: every 2 weeks · last talked Sat Nov 14 · overdue 6 days · "
                       "next nudge Thu Dec 10")


async def test_a_snoozed_follow_up_says_the_day_it_comes_back_not_its_first_day(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await _dana_with_two_snoozed_reminders(rapport, engine, clock)

    card = (await say(rapport, "show Dana")).splitlines()

    assert card[1] == ("Ask about first: the hiking trip in Yosemite (n1, noted today, "
                       "follow-up snoozed to Thu Dec 10)")
    assert card[4] == "  n1 hiking trip in Yosemite (follow-up snoozed to Thu Dec 10)"
    # `due` gives the same day.
    assert "  Ask Dana about the hiking trip in Yosemite Thu Dec 10" in \
        (await say(rapport, "due")).splitlines()
    # Teams' person card lists the note the same way.
    shown = await rapport.handle_text(console_user("alex"), "show Dana")
    assert isinstance(shown.view, PersonView)
    assert {"title": "n1", "value": "hiking trip in Yosemite (follow-up snoozed to Thu Dec 10)"} \
        in _facts(person_card(shown.view))


async def test_a_follow_up_snoozed_past_another_is_asked_about_after_it(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(FRIDAY)
    for line in ("settings window 0:00-24:00", "settings days all", "add Kim Wu",
                 "note Kim: the offsite today", "note Kim: her talk on Tuesday"):
        await say(rapport, line)
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    assert (await sweeper.sweep()).sent == 1
    await say(rapport, "snooze Kim 2 weeks")  # the offsite's reminder, the only one out

    card = (await say(rapport, "show Kim")).splitlines()

    # The talk (Tuesday) now comes before the offsite (back in two weeks).
    assert card[1].startswith("Ask about first: her talk (n2")
    assert card[2] == ("  then ask about: the offsite (n1, noted today, follow-up snoozed to "
                       "Fri Dec 18)")
    assert "next nudge Tue Dec 8" in card[3]
