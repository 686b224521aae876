"""A change command that changes nothing says so ("… Nothing changed.", as `set Dana kind
colleague` did already) and writes no undo journal entry: the rule is kept in one place,
`Change.save`, so every command keeps it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from rapport.storage.models import Nudge
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say, snapshot

ALEX = console_user("alex")


async def _unchanged(rapport: Rapport, engine: AsyncEngine, line: str) -> str:
    before = await snapshot(engine)
    reply = await rapport.handle_text(ALEX, line)
    assert not reply.ok and not reply.changed, (line, reply.text)
    assert reply.text.endswith(" Nothing changed."), (line, reply.text)
    assert await snapshot(engine) == before, line  # the journal included
    return reply.text


async def test_changes_that_change_nothing_say_so_and_take_no_undo_step(
        rapport: Rapport, engine: AsyncEngine) -> None:
    await say(rapport, "add Dana Scully every 2 weeks")
    assert await _unchanged(rapport, engine, "every Dana 2 weeks") == \
        "Dana Scully's rhythm is already every 2 weeks. Nothing changed."
    assert await _unchanged(rapport, engine, "resume") == \
        "Nudges are already on. Nothing changed."
    assert await _unchanged(rapport, engine, "settings window 9-17") == \
        "Your delivery window is already set that way. Nothing changed."
    await say(rapport, "date Dana birthday May 4")
    assert await _unchanged(rapport, engine, "date Dana birthday May 4") == \
        "Dana Scully's birthday is already May 4. Nothing changed."
    await say(rapport, "pause")
    assert await _unchanged(rapport, engine, "pause") == \
        "Nudges are already paused until you resume. Nothing changed."
    await say(rapport, "resume")
    await say(rapport, "every Dana off")
    assert await _unchanged(rapport, engine, "every Dana off") == \
        "Dana Scully's rhythm is already off. Nothing changed."
    # A command with no words of its own for it gets the same rule.
    await say(rapport, "set Dana ai off")
    assert await _unchanged(rapport, engine, "set Dana ai off") == \
        "Already so: turned AI drafts off for Dana Scully. Nothing changed."
    # Undo walks back the real changes only, one step each.
    undone = [await say(rapport, "undo") for _ in range(6)]
    assert undone == [
        "Undone: turned AI drafts off for Dana Scully.",
        "Undone: turned off the rhythm for Dana Scully.", "Undone: resumed nudges.",
        "Undone: paused nudges.", "Undone: set Dana Scully's birthday to May 4.",
        "Undone: added Dana Scully."]
    assert (await rapport.handle_text(ALEX, "undo")).text == "There is nothing to undo."


async def test_a_birthday_said_again_inside_its_lead_days_is_still_no_change(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    """Three days ahead the reminder is planned for "now", which moves with the clock: a
    moment recomputed from the same day is no change the person made."""
    await say(rapport, "add Dana Scully")
    await say(rapport, "date Dana birthday Nov 25")  # Monday Nov 23: inside the lead days
    clock.advance(minutes=5)
    assert await _unchanged(rapport, engine, "date Dana birthday Nov 25") == \
        "Dana Scully's birthday is already Nov 25. Nothing changed."


async def test_resume_when_not_paused_leaves_nudges_waiting_for_the_window(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    """`resume` used to release every planned nudge waiting for a later moment, paused or
    not: without a pause there is nothing to resume."""
    for number in range(11):
        await say(rapport, f"add Person {number} every 1 week")
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    assert (await sweeper.sweep()).sent == 10  # one digest; the eleventh follows later
    async with db.session_factory(engine)() as session:
        waiting = (await session.scalars(select(Nudge.deliver_after).where(
            Nudge.status == "planned"))).all()
    assert waiting and all(moment > clock.now for moment in waiting)
    await _unchanged(rapport, engine, "resume")
