"""`due` with more open nudges than it lists (it stops at 50): it says how many more there
are, and someone whose nudge did not fit is not listed as overdue without one; what is coming
up is still there."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import Actor
from rapport.bot.core.overview import MAX_OPEN_NUDGES
from rapport.bot.core.rapport import Rapport
from rapport.storage import db
from tests.bot import seed
from tests.conftest import Clock, console_user, say

PEOPLE = 120


async def seed_many_due(rapport: Rapport, clock: Clock, actor: Actor | None = None, *,
                        rhythms_reversed: bool = False) -> None:
    """`PEOPLE` people overdue since Saturday, each with a nudge out (planned, past due), and
    Zed coming up on Thursday. The nudges run in name order, and so do the rhythms, unless
    `rhythms_reversed`: a nudge's moment need not follow its rhythm's day (a snooze, a note's
    follow-up), and then the people whose nudges do not fit in `due` are the first whose
    rhythm came due."""
    now = clock.now
    # Person 001's rhythm came due first, or (reversed) last.
    order = 1 if rhythms_reversed else -1
    ctx = await rapport.user_context(actor or console_user())
    ids = ctx.workspace_id, ctx.user_id
    async with rapport.sessions() as session, session.begin():
        people = [seed.contact(ids, f"Person {i:03d}", now, cadence=7,
                               next_due=now - timedelta(days=2, minutes=order * i))
                  for i in range(1, PEOPLE + 1)]
        for person in people:
            person.plan_at = now + timedelta(days=5)  # the rhythm's next ask
        zed = seed.contact(ids, "Zed Later", now, cadence=7, next_due=now + timedelta(days=3))
        await seed.add_all(session, *people, zed)
        await seed.add_all(session, *[
            seed.nudge(person, "planned", now - timedelta(days=1) + timedelta(minutes=i))
            for i, person in enumerate(people)])


async def test_due_says_how_many_more_and_not_that_they_lack_a_nudge(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await seed_many_due(rapport, clock, rhythms_reversed=True)

    lines = (await say(rapport, "due")).splitlines()

    listed = [line for line in lines if line.startswith("  #")]
    assert len(listed) == MAX_OPEN_NUDGES
    assert "Person 001" in listed[0] and "Person 050" in listed[-1]
    assert f"  … and {PEOPLE - MAX_OPEN_NUDGES} more; answer these and “due” shows the next " \
        "ones." in lines
    # Person 051 and on have a nudge out, too: none of them is overdue "without" one.
    assert "Overdue:" not in lines and "Due today:" not in lines
    assert not any("Person 051" in line or "Person 120" in line for line in lines)
    # Their rhythms do not crowd out who comes up later in the week.
    assert "  Talk to Zed Later Thu Nov 26" in lines
