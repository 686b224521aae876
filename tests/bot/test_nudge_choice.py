"""`snooze`, `done` and `dismiss` by a person's name when that person has several open nudges:
one open nudge is acted on as before; several are asked about (nothing changes) unless what
the nudges mean decides it (`done Dana` answers the keep-in-touch reminder only); the answer
is the command again with the nudge's number; every reply names what it acted on; `undo`
restores exactly what was there."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from rapport.storage.models import Contact, Nudge, Touchpoint
from tests.bot.test_actions import Inbox, expect_refusal
from tests.conftest import Clock, console_user, say, snapshot

ALEX = console_user("alex")
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a week after the clock's Mon Nov 23

# Dana: a weekly rhythm, a noted question for Monday and a birthday on Thursday, so three
# nudges are out on Monday. Lee: a noted topic and a birthday, no rhythm. Zoë: one question.
SETUP = ("add Dana Scully every 1 week", "note Dana: ask about the trip on Monday",
         "date Dana birthday Dec 3", "add Lee Park", "note Lee: the offsite on Monday",
         "date Lee birthday Dec 3", "add Zoë Adams", "note Zoë: ask how the move went on Monday")
TRIP, DANA_BIRTHDAY, DANA_RHYTHM = ("Dana Scully", "follow_up"), ("Dana Scully", "date"), \
    ("Dana Scully", "cadence")
OFFSITE, LEE_BIRTHDAY, MOVE = ("Lee Park", "follow_up"), ("Lee Park", "date"), \
    ("Zoë Adams", "follow_up")


async def _monday(rapport: Rapport, engine: AsyncEngine, clock: Clock
                  ) -> dict[tuple[str, str], int]:
    """Everyone's nudges out on Monday: their numbers by (name, reason)."""
    for line in SETUP:
        await say(rapport, line)
    clock.set(MONDAY)
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    assert (await sweeper.sweep()).sent == 6
    async with db.session_factory(engine)() as session:
        rows = await session.execute(select(Contact.name, Nudge.reason, Nudge.id)
                                     .join(Contact, Contact.id == Nudge.contact_id))
        return {(name, reason): nudge_id for name, reason, nudge_id in rows}


def _dana_asks(n: dict[tuple[str, str], int]) -> str:
    # Oldest due first: the rhythm from the start of Monday, the others from 09:00.
    return ("Which nudge about Dana Scully do you mean?\n"
            f"  #{n[DANA_RHYTHM]} You wanted to keep in touch with Dana Scully every 7 days, "
            "and you have not logged a conversation yet\n"
            f"  #{n[TRIP]} Ask Dana about the trip (you noted it on Mon Nov 23)\n"
            f"  #{n[DANA_BIRTHDAY]} Dana's birthday is on Thu Dec 3 (in 3 days)\n")


async def _data(engine: AsyncEngine) -> dict[str, list[tuple[object, ...]]]:
    rows = await snapshot(engine)
    rows.pop("undo_entries")
    return rows


async def _statuses(engine: AsyncEngine) -> dict[int, str]:
    async with db.session_factory(engine)() as session:
        return {nudge_id: status for nudge_id, status in
                (await session.execute(select(Nudge.id, Nudge.status)))}


async def _asked(rapport: Rapport, engine: AsyncEngine, text: str) -> str:
    """The question (or refusal) a command gets: not ok, and not one row changed."""
    return (await expect_refusal(rapport, engine, ALEX, text)).text


async def test_one_open_nudge_is_acted_on_and_named(any_engine: AsyncEngine,
                                                    clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    n = await _monday(rapport, any_engine, clock)
    before = await _data(any_engine)
    assert await say(rapport, "snooze Zoë 1 week") == (
        "Snoozed the reminder to ask Zoë how the move went until Mon Dec 7.")
    assert (await _statuses(any_engine))[n[MOVE]] == "snoozed"
    assert await say(rapport, "undo") == (
        f"Undone: snoozed nudge #{n[MOVE]} about Zoë Adams until Mon Dec 7. It's open again: "
        "see “due”.")
    assert await _data(any_engine) == before
    assert await say(rapport, "done Zoë: she loves Lisbon") == (
        "Nice. Logged that you reached out to Zoë Adams and marked the reminder to ask Zoë "
        "how the move went done.")
    assert (await _statuses(any_engine))[n[MOVE]] == "done"
    await say(rapport, "undo")
    assert await _data(any_engine) == before
    assert await say(rapport, "dismiss Zoë") == (
        "Dismissed the reminder to ask Zoë how the move went.")
    await say(rapport, "undo")
    assert await _data(any_engine) == before


async def test_several_open_nudges_are_asked_about_and_nothing_changes(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    n = await _monday(rapport, engine, clock)
    trip, birthday, rhythm = n[TRIP], n[DANA_BIRTHDAY], n[DANA_RHYTHM]
    assert await _asked(rapport, engine, "snooze Dana 1 week") == _dana_asks(n) + (
        f"Reply “snooze #{rhythm} until Dec 7”, “snooze #{trip} until Dec 7” or "
        f"“snooze #{birthday} until Dec 7”.")
    assert await _asked(rapport, engine, "snooze Dana 2 hours") == _dana_asks(n) + (
        f"Reply “snooze #{rhythm} 2 hours”, “snooze #{trip} 2 hours” or "
        f"“snooze #{birthday} 2 hours”.")
    assert await _asked(rapport, engine, "dismiss Dana") == _dana_asks(n) + (
        f"Reply “dismiss #{rhythm}”, “dismiss #{trip}” or “dismiss #{birthday}”.")
    # No keep-in-touch reminder among them: "done Lee" does not say which topic was covered.
    offsite, lee_birthday = n[OFFSITE], n[LEE_BIRTHDAY]
    lee_asks = ("Which nudge about Lee Park do you mean?\n"
                f"  #{offsite} Ask Lee about the offsite (you noted it on Mon Nov 23)\n"
                f"  #{lee_birthday} Lee's birthday is on Thu Dec 3 (in 3 days)\n")
    assert await _asked(rapport, engine, "done Lee: lunch") == lee_asks + (
        f"Reply “done #{offsite}: lunch” or “done #{lee_birthday}: lunch”.")
    # The kind and what it was about, as typed again they read back the same.
    assert await _asked(rapport, engine, "done Lee: lunch, the offsite") == lee_asks + (
        f"Reply “done #{offsite}: lunch, the offsite” or “done #{lee_birthday}: lunch, the "
        "offsite”.")
    assert await _asked(rapport, engine, "snooze Lee") == lee_asks + (
        f"Reply “snooze #{offsite} until Dec 1” or “snooze #{lee_birthday} until Dec 1”.")


async def test_the_answer_acts_on_the_nudge_it_names_and_undo_restores_it(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    n = await _monday(rapport, any_engine, clock)
    question = await _asked(rapport, any_engine, "snooze Dana 1 week")
    answers = re.findall(r"“([^”]+)”", question.splitlines()[-1])
    assert answers[1] == f"snooze #{n[TRIP]} until Dec 7"
    before = await _data(any_engine)
    assert await say(rapport, answers[1]) == (
        "Snoozed the reminder to ask Dana about the trip until Mon Dec 7.")
    statuses = await _statuses(any_engine)
    assert [statuses[n[key]] for key in (TRIP, DANA_BIRTHDAY, DANA_RHYTHM)] == [
        "snoozed", "sent", "sent"]
    async with db.session_factory(any_engine)() as session:
        back = await session.scalar(select(Nudge.deliver_after).where(Nudge.id == n[TRIP]))
    assert back == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert await say(rapport, "undo") == (
        f"Undone: snoozed nudge #{n[TRIP]} about Dana Scully until Mon Dec 7. It's open "
        "again: see “due”.")
    assert await _data(any_engine) == before
    # The other answers act on theirs, each named.
    assert await say(rapport, f"snooze #{n[DANA_RHYTHM]} until Dec 7") == (
        "Snoozed the reminder to talk to Dana Scully until Mon Dec 7.")
    assert await say(rapport, f"dismiss #{n[DANA_BIRTHDAY]}") == (
        "Dismissed the reminder about Dana's birthday.")
    assert await say(rapport, f"done #{n[OFFSITE]}: lunch") == (
        "Nice. Logged that you reached out to Lee Park and marked the reminder to ask Lee "
        "about the offsite done.")
    for _ in range(3):
        await say(rapport, "undo")
    assert await _data(any_engine) == before


async def test_a_wrong_answer_changes_nothing(rapport: Rapport, engine: AsyncEngine,
                                              clock: Clock) -> None:
    n = await _monday(rapport, engine, clock)
    await say(rapport, f"dismiss #{n[DANA_BIRTHDAY]}")
    await say(rapport, "add Dana Scully", console_user("mallory"))
    for line, answer in (
            ("snooze #99 until Dec 7", "I can't find nudge #99 among yours."),
            (f"done #{n[DANA_BIRTHDAY]}", "That nudge is already dismissed."),
            (f"snooze #{n[TRIP]} 2 blorps", "I couldn't read “2 blorps” as a time."),
            ("snooze Dana until blursday", "I don't know anyone called")):
        text = await _asked(rapport, engine, line)
        assert answer in text, (line, text)
    # Someone else's nudge number is as unknown as a missing one.
    other = await rapport.handle_text(console_user("mallory"), f"snooze #{n[TRIP]} until Dec 7")
    assert not other.ok and other.text == f"I can't find nudge #{n[TRIP]} among yours."
    assert (await _statuses(engine))[n[TRIP]] == "sent"


async def test_done_by_name_answers_the_rhythm_and_names_what_stays_open(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    n = await _monday(rapport, any_engine, clock)
    before = await _data(any_engine)
    assert await say(rapport, "done Dana: coffee") == (
        "Nice. Logged that you reached out to Dana Scully.\n"
        "Still open:\n"
        f"  #{n[TRIP]} Ask Dana about the trip (you noted it on Mon Nov 23)\n"
        f"  #{n[DANA_BIRTHDAY]} Dana's birthday is on Thu Dec 3 (in 3 days)")
    statuses = await _statuses(any_engine)
    assert [statuses[n[key]] for key in (TRIP, DANA_BIRTHDAY, DANA_RHYTHM)] == [
        "sent", "sent", "done"]
    async with db.session_factory(any_engine)() as session:
        touches = (await session.execute(select(Touchpoint.kind, Touchpoint.summary,
                                                Touchpoint.source))).all()
    # "coffee" after the colon is how they talked, as `log Dana: coffee` reads it.
    assert [tuple(t) for t in touches] == [("coffee", None, "nudge")]
    assert await say(rapport, "undo") == (
        f"Undone: marked nudge #{n[DANA_RHYTHM]} about Dana Scully done. It's open again: "
        "see “due”.")
    assert await _data(any_engine) == before


async def test_done_on_a_second_nudge_the_same_day_logs_the_conversation_once(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    n = await _monday(rapport, any_engine, clock)
    await say(rapport, "done Dana")
    clock.advance(minutes=5)
    before = await _data(any_engine)
    # The trip's Done (its card's button, or "done #N" from the list) is the same talk.
    assert await say(rapport, f"done #{n[TRIP]}") == (
        "Nice. Marked the reminder to ask Dana about the trip done; today's conversation with "
        "Dana Scully is logged already.")
    async with db.session_factory(any_engine)() as session:
        assert await session.scalar(select(func.count()).select_from(Touchpoint)) == 1
    assert await say(rapport, "undo") == (
        f"Undone: marked nudge #{n[TRIP]} about Dana Scully done. It's open again: see “due”.")
    assert await _data(any_engine) == before
    # With something said about it, that goes to the same talk (logged bare by the first
    # Done); the next day is another talk.
    assert await say(rapport, f"done #{n[TRIP]}: she loved Yosemite") == (
        "Nice. Marked the reminder to ask Dana about the trip done and added “she loved "
        "Yosemite” to today's chat with Dana Scully.")
    clock.advance(days=1)
    await say(rapport, f"done #{n[DANA_BIRTHDAY]}")
    async with db.session_factory(any_engine)() as session:
        assert await session.scalar(select(func.count()).select_from(Touchpoint)) == 2


async def test_a_rhythm_that_asked_again_is_one_reminder(rapport: Rapport, engine: AsyncEngine,
                                                         clock: Clock) -> None:
    await say(rapport, "add Lee Park every 1 week")
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    for moment in (MONDAY, datetime(2026, 12, 7, 10, 0, tzinfo=UTC)):  # unanswered, asked again
        clock.set(moment)
        await sweeper.sweep()
    # The second ask replaced the first, still unanswered (expired: it counts as ignored).
    assert sorted((await _statuses(engine)).values()) == ["expired", "sent"]
    assert await say(rapport, "snooze Lee 1 week") == (
        "Snoozed the reminder to talk to Lee Park until Mon Dec 14.")
