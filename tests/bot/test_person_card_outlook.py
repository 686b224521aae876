"""What a person's card says is coming: the open follow-ups to ask about come from all of the
person's notes, not only the ten it lists; and "a nudge is out now" only when one was
delivered and is open, else when the next one comes by the scheduler's own rules (window,
working days, pause), as `due` says it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from rapport.storage.models import Nudge
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say

# Friday Dec 4 2026: in the afternoon inside the default window (09:00-17:00 UTC, Mon-Fri),
# in the evening outside it; the next working day is Monday Dec 7.
FRIDAY_AFTERNOON = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
FRIDAY_EVENING = datetime(2026, 12, 4, 18, 46, tzinfo=UTC)


def _lines_starting(text: str, *starts: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith(starts)]


async def test_an_open_follow_up_older_than_the_ten_newest_notes_is_still_asked_about(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(FRIDAY_AFTERNOON)
    await say(rapport, "add Dana Scully")
    await say(rapport, "note Dana: ask about the hiking trip tomorrow")
    for number in range(1, 11):
        await say(rapport, f"note Dana: likes thing {number}")

    card = await say(rapport, "show Dana")

    assert _lines_starting(card, "Ask about first", "then", "First") == [
        "First: ask Dana about the hiking trip (n1, noted today, follow-up Mon Dec 7)"]
    # The list of notes stays the ten newest; `due` names the same reminder.
    assert "  … and 1 older (search finds them)" in card.splitlines()
    # Tomorrow is a Saturday, a day off: the reminder comes on Monday.
    assert "  Ask Dana about the hiking trip Mon Dec 7" in (await say(rapport, "due")).splitlines()


async def test_the_open_follow_ups_are_the_soonest_of_all_notes_soonest_first(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(FRIDAY_AFTERNOON)
    for line in ("add Dana Scully", "note Dana: the offsite today",
                 "note Dana: budget review on Dec 11",
                 *(f"note Dana: likes thing {number}" for number in range(1, 10)),
                 "note Dana: wife is expecting, due Mar 3 2027"):
        await say(rapport, line)

    card = await say(rapport, "show Dana")

    assert [line for line in card.splitlines() if "follow-up" in line][:3] == [
        "Ask about first: the offsite (n1, noted today, follow-up today)",
        "  then ask about: the budget review (n2, noted today, follow-up Fri Dec 11)",
        "  then: check in with Dana: wife is expecting (n12, noted today, follow-up Wed Mar 3 "
        "2027)"]


async def test_a_snoozed_follow_up_is_asked_about_on_the_day_it_comes_back(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    clock.set(FRIDAY_AFTERNOON)
    for line in ("settings window 0:00-24:00", "settings days all", "add Dana Scully",
                 "note Dana: the hiking trip today"):
        await say(rapport, line)
    sweeper = Sweeper(sessions=db.session_factory(any_engine),
                      messengers={"console": Inbox()}, owner="test", clock=clock)
    assert (await sweeper.sweep()).messages == 1
    await say(rapport, "snooze Dana until Dec 10")
    for line in ("note Dana: budget review on Dec 11", "note Dana: the offsite on Dec 8",
                 "note Dana: the board meeting on Dec 7",
                 *(f"note Dana: likes thing {number}" for number in range(1, 11))):
        await say(rapport, line)

    card = await say(rapport, "show Dana")

    assert [line for line in card.splitlines() if "follow-up" in line][:3] == [
        "Ask about first: the board meeting (n4, noted today, follow-up Mon Dec 7)",
        "  then ask about: the offsite (n3, noted today, follow-up Tue Dec 8)",
        "  then ask about: the hiking trip (n1, noted today, follow-up snoozed to Thu Dec 10)"]
    # Nothing is out: the next nudge is the board meeting's, on Monday.
    assert card.splitlines()[4] == "Rhythm: no rhythm set · no conversation logged · " \
        "next nudge Mon Dec 7"


async def test_a_follow_up_done_among_older_notes_is_not_asked_about(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(FRIDAY_AFTERNOON)
    for line in ("settings window 0:00-24:00", "add Dana Scully",
                 "note Dana: ask about the hiking trip today"):
        await say(rapport, line)
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    assert (await sweeper.sweep()).messages == 1
    await say(rapport, "dismiss Dana")
    for number in range(1, 11):
        await say(rapport, f"note Dana: likes thing {number}")

    card = await say(rapport, "show Dana")

    assert not _lines_starting(card, "Ask about first", "then", "First")


async def test_no_nudge_is_out_outside_the_window_the_card_and_due_say_when_it_comes(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(FRIDAY_EVENING)
    await say(rapport, "add Dana Scully every 2 weeks")
    await say(rapport, "log Dana 3 weeks ago")

    card = (await say(rapport, "show Dana")).splitlines()

    assert card[1] == ("Rhythm: every 2 weeks · last talked Fri Nov 13 · overdue 7 days · "
                       "next nudge Mon Dec 7")
    assert await say(rapport, "due") == (
        "Overdue:\n  Dana Scully (since Fri Nov 27): next reminder Mon Dec 7")
    assert (await rapport.handle_text(console_user(), "dismiss Dana")).text == \
        "There is no open nudge for Dana Scully."
    async with engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(Nudge))).scalar() == 0


async def test_a_nudge_planned_but_held_until_monday_is_not_out(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    clock.set(FRIDAY_EVENING)
    await say(rapport, "add Dana Scully every 2 weeks")
    await say(rapport, "log Dana 3 weeks ago")
    inbox = Inbox()
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": inbox},
                      owner="test", clock=clock)
    await sweeper.sweep()  # plans her nudge and holds it for the window
    assert inbox.delivered == []

    card = (await say(rapport, "show Dana")).splitlines()

    assert card[1].endswith(" · overdue 7 days · next nudge Mon Dec 7")


async def test_a_delivered_nudge_is_out_now(any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    clock.set(FRIDAY_AFTERNOON)
    await say(rapport, "add Dana Scully every 2 weeks")
    await say(rapport, "log Dana 3 weeks ago")
    # Inside the window, before the sweep: the next one sends it, and both say so.
    assert (await say(rapport, "show Dana")).splitlines()[1].endswith(
        " · overdue 7 days · a nudge is on its way")
    assert await say(rapport, "due") == (
        "Overdue:\n  Dana Scully (since Fri Nov 27): a nudge is on its way")
    inbox = Inbox()
    sweeper = Sweeper(sessions=db.session_factory(any_engine), messengers={"console": inbox},
                      owner="test", clock=clock)
    assert (await sweeper.sweep()).messages == 1

    card = (await say(rapport, "show Dana")).splitlines()

    assert card[1].endswith(" · overdue 7 days · a nudge is out now")


async def test_the_next_nudge_skips_days_the_user_is_not_nudged(rapport: Rapport,
                                                                clock: Clock) -> None:
    clock.set(datetime(2026, 12, 4, 10, 0, tzinfo=UTC))  # Friday morning
    await say(rapport, "add Dana Scully every 1 week")
    await say(rapport, "log Dana 6 days ago")  # due Saturday

    card = (await say(rapport, "show Dana")).splitlines()

    assert card[1] == ("Rhythm: every 7 days · last talked Sat Nov 28 · due in 1 day · "
                       "next nudge Mon Dec 7")
