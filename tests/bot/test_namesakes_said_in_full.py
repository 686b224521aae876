"""Beside Dana White, every answer that speaks of Dana Scully by name says which Dana: the
note's confirmation, `due`'s coming-up lines (birthdays too), the answers to done and
snooze, an edit's confirmation and the person card, as her reminders do; someone whose
first name is theirs alone is still called by it, and a title is never a first name."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rapport.bot.core.goals import person_badges_for
from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage.models import Contact
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say

ALEX = console_user("alex")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def _two_danas(rapport: Rapport, clock: Clock) -> None:
    clock.set(MONDAY)
    for line in ("add Dana Scully", "add Dana White", "add Lee Park"):
        await say(rapport, line, ALEX)


async def _sweep(rapport: Rapport, clock: Clock) -> dict[str, int]:
    """Deliver what is due; headline -> nudge number."""
    inbox = Inbox()
    await Sweeper(sessions=rapport.sessions, messengers={"console": inbox}, owner="t",
                  clock=clock).sweep()
    return {item.headline.split(" (")[0]: item.nudge_id
            for message in inbox.delivered for item in message.items}


async def test_a_notes_confirmation_says_which_dana(rapport: Rapport, clock: Clock) -> None:
    await _two_danas(rapport, clock)
    assert await say(rapport, "note Dana Scully: hiking trip in Yosemite tomorrow", ALEX) == (
        "Noted. I'll remind you tomorrow to ask Dana Scully about the hiking trip in "
        "Yosemite (n1).")
    assert await say(rapport, "note Lee: call him tomorrow", ALEX) == (
        "Noted. I'll remind you tomorrow to call Lee (n2).")
    assert await say(rapport, "date Dana White birthday Nov 27", ALEX) == (
        "I'll remind you of Dana White's birthday (Fri Nov 27) a few days before.")


async def test_dues_coming_up_lines_say_which_dana(rapport: Rapport, clock: Clock) -> None:
    await _two_danas(rapport, clock)
    for line in ("note Dana Scully: hiking trip in Yosemite on Thursday",
                 "note Lee: call him on Thursday",
                 "date Dana White birthday Nov 28"):
        await say(rapport, line, ALEX)
    due = await say(rapport, "due", ALEX)
    assert "  Ask Dana Scully about the hiking trip in Yosemite Thu Nov 26" in due
    assert "  Call Lee Thu Nov 26" in due
    assert "  Dana White's birthday on Sat Nov 28: next reminder Wed Nov 25" in due
    # Snoozed, a note's reminder is listed on the day it comes back: in full too.
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    nudges = await _sweep(rapport, clock)
    number = nudges["Ask Dana Scully about the hiking trip in Yosemite"]
    await say(rapport, f"snooze #{number} until Monday", ALEX)
    due = await say(rapport, "due", ALEX)
    assert "  Ask Dana Scully about the hiking trip in Yosemite Mon Nov 30" in due


async def test_done_and_snooze_say_which_dana(rapport: Rapport, clock: Clock) -> None:
    await _two_danas(rapport, clock)
    for line in ("note Dana Scully: call her tomorrow", "note Dana White: send her the deck "
                 "tomorrow", "date Dana White birthday Nov 26"):
        await say(rapport, line, ALEX)
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    nudges = await _sweep(rapport, clock)
    assert await say(rapport, f"done #{nudges['Call Dana Scully']}", ALEX) == (
        "Nice. Logged that you reached out to Dana Scully and marked the reminder to call "
        "Dana Scully done.")
    assert await say(rapport, f"snooze #{nudges['Send Dana White the deck']} 2 days",
                     ALEX) == ("Snoozed the reminder to send Dana White the deck until "
                               "Thu Nov 26.")
    birthday = nudges["Dana White's birthday is on Thu Nov 26"]
    assert await say(rapport, f"dismiss #{birthday}", ALEX) == (
        "Dismissed the reminder about Dana White's birthday.")


async def test_an_edits_confirmation_says_which_dana(rapport: Rapport, clock: Clock) -> None:
    await _two_danas(rapport, clock)
    await say(rapport, "note Dana Scully: hiking trip in Yosemite", ALEX)
    assert await say(rapport, "edit n1 on Thursday", ALEX) == (
        "Changed n1 (Dana Scully): hiking trip in Yosemite. I'll remind you on Thu Nov 26 "
        "to ask Dana Scully about the hiking trip in Yosemite.")


async def test_the_person_card_says_which_dana(rapport: Rapport, clock: Clock) -> None:
    await _two_danas(rapport, clock)
    for line in ("note Dana Scully: call her on Thursday", "set Dana Scully sensitive",
                 "note Lee: call him on Thursday"):
        await say(rapport, line, ALEX)
    card = await say(rapport, "show Dana Scully", ALEX)
    assert "Sensitive: write to Dana Scully personally; no drafts." in card
    assert "First: call Dana Scully (n1, noted today, follow-up Thu Nov 26)" in card
    reply = await rapport.handle_text(ALEX, "show Dana Scully")
    assert reply.view is not None and [note.reminder for note in reply.view.notes] == [
        "Call Dana Scully"]
    assert "First: call Lee (n2, noted today, follow-up Thu Nov 26)" in \
        await say(rapport, "show Lee", ALEX)


async def test_a_persons_badges_call_them_by_name_never_by_title(rapport: Rapport,
                                                                  clock: Clock) -> None:
    await _two_danas(rapport, clock)
    for line in ("add Dr. Jane Doe", "set Dr. Jane Doe sensitive", "set Dana White sensitive"):
        await say(rapport, line, ALEX)
    ctx = await rapport.user_context(ALEX)
    async with rapport.sessions() as session:
        ids = {name: await session.run_sync(_contact_id, name)
               for name in ("Dr. Jane Doe", "Dana White")}
        jane = await session.run_sync(person_badges_for, ctx.user_id, ids["Dr. Jane Doe"])
        dana = await session.run_sync(person_badges_for, ctx.user_id, ids["Dana White"])
    assert jane == ["Sensitive: write to Jane personally; no drafts."]
    assert dana == ["Sensitive: write to Dana White personally; no drafts."]


def _contact_id(session: Session, name: str) -> int:
    found = session.scalar(select(Contact.id).where(Contact.name == name))
    assert found is not None
    return found
