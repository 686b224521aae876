"""`undo`: every change reversed exactly, newest first, several steps deep, on SQLite and
PostgreSQL; forgetting someone is undoable for 15 minutes, then nothing about them remains."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.scheduler.retention import undo_purge_job
from rapport.storage import db
from rapport.storage.models import Contact, UndoEntry
from rapport.storage.names import name_key
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say, snapshot

ALEX = console_user("alex")


async def _data(engine: AsyncEngine) -> dict[str, list[tuple[object, ...]]]:
    """Every row but the journal's own."""
    rows = await snapshot(engine)
    rows.pop("undo_entries")
    return rows


STEPS = ["add Dana Scully client at Acme", "add Lee Park", "log Dana yesterday: coffee",
         "note Dana: hiking trip after Saturday", "every Dana monthly",
         "date Dana birthday May 4", "date Dana birthday May 5",
         "settings window 8-16", "settings tz Europe/Berlin", "pause until Monday", "resume",
         "rename Dana Scully to Dana Mulder", "set Dana company Initech",
         "set Dana email d@initech.test", "set Dana kind colleague",
         "edit n1: hiking trip in Tahoe on Sunday", "edit t1 2 days ago call",
         "log Dana lunch", "delete t1", "delete n1", "every Lee 2 weeks", "every Dana off",
         "forget Dana confirm"]


async def _undo_each(rapport: Rapport, engine: AsyncEngine, steps: Sequence[str]
                     ) -> list[str]:
    """Type `steps`, then `undo` once per step: each undo must bring back exactly the data
    before its step, newest first. The undo answers, in order."""
    await say(rapport, "help")  # Alex's rows exist before the first change
    states = [await _data(engine)]
    for step in steps:
        await say(rapport, step)
        states.append(await _data(engine))
    answers = []
    for index in reversed(range(len(steps))):
        reply = await rapport.handle_text(ALEX, "undo")
        assert reply.ok and reply.changed, (steps[index], reply.text)
        answers.append(reply.text)
        assert await _data(engine) == states[index], (steps[index], reply.text)
    return answers


async def test_every_change_is_reversed_exactly_newest_first(any_engine: AsyncEngine,
                                                              clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    answers = await _undo_each(rapport, any_engine, STEPS)
    # It says exactly what it reversed.
    assert answers[0] == "Undone: forgot Dana Mulder."
    assert "Undone: deleted note n1 about Dana Mulder." in answers
    assert "Undone: set the rhythm for Dana Scully to every month." in answers
    assert "Undone: logged coffee with Dana Scully on Sun Nov 22." in answers
    assert answers[-1] == "Undone: added Dana Scully."
    last = await rapport.handle_text(ALEX, "undo")
    assert not last.ok and last.text == "There is nothing to undo."


async def test_nudge_actions_are_undone(any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await say(rapport, "add Dana Scully every 1 week")
    await say(rapport, "note Dana: the offsite on Monday")
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    sweeper = Sweeper(sessions=db.session_factory(any_engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    assert (await sweeper.sweep()).sent == 2
    due = await rapport.handle_text(ALEX, "due")
    numbers = [item.nudge_id for item in due.nudges]
    for command in (f"snooze #{numbers[0]} 2 hours", f"snooze #{numbers[0]} 1 week",
                    f"dismiss #{numbers[1]}", f"done #{numbers[0]}", "done Dana: coffee"):
        before = await _data(any_engine)
        await say(rapport, command)
        assert await _data(any_engine) != before, command
        reply = await rapport.handle_text(ALEX, "undo")
        assert reply.ok, reply.text
        assert await _data(any_engine) == before, (command, reply.text)


async def test_forget_is_undoable_for_15_minutes_then_nothing_about_them_remains(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    for line in ("add Dana Scully client at FBI", "note Dana: secret project Yosemite",
                 "log Dana coffee: the X-files", "date Dana birthday May 4"):
        await say(rapport, line)
    kept = await _data(any_engine)
    await say(rapport, "forget Dana confirm")
    await say(rapport, "undo")
    assert await _data(any_engine) == kept  # back within 15 minutes, ids and all
    await say(rapport, "forget Dana confirm")
    gone = await _data(any_engine)
    clock.advance(minutes=16)
    late = await rapport.handle_text(ALEX, "undo")
    assert not late.ok
    assert late.text == ("Your last change (forgetting someone) can't be undone. Rapport keeps a "
                         "forgotten person for 15 minutes only. Nothing changed.")
    assert await _data(any_engine) == gone
    await undo_purge_job(db.session_factory(any_engine), clock)()
    async with db.session_factory(any_engine)() as session:
        entries = (await session.execute(select(UndoEntry.description, UndoEntry.payload))).all()
    assert entries == [("forgot someone", None)]  # a barrier, nothing about Dana
    for word in ("Dana", "Scully", "Yosemite", "X-files", "FBI"):
        assert all(word not in f"{d}{p}" for d, p in entries), word


async def test_undo_stops_at_an_import_and_is_per_user(rapport: Rapport, engine: AsyncEngine
                                                       ) -> None:
    await say(rapport, "add Dana Scully")
    await say(rapport, "log Dana coffee")
    reply = await rapport.handle_import(ALEX, "people.csv", b"name\nLee Park\n", dry_run=False)
    assert reply.ok
    before = await snapshot(engine)
    refused = await rapport.handle_text(ALEX, "undo")
    assert not refused.ok and refused.text == ("Your last change (imported people.csv) can't be "
                                               "undone. Nothing changed.")
    assert await snapshot(engine) == before
    # Someone else's undo reverses nothing of Alex's.
    other = await rapport.handle_text(console_user("mallory"), "undo")
    assert not other.ok and other.text == "There is nothing to undo."
    assert (await snapshot(engine))["touchpoints"] == before["touchpoints"]


async def test_the_journal_keeps_at_least_the_last_30_changes_and_at_most_40(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)

    async def entries() -> int:
        async with db.session_factory(any_engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(UndoEntry)) or 0)

    await say(rapport, "add Dana Scully")
    for number in range(39):
        await say(rapport, f"note Dana: thing {number}")
    assert await entries() == 40  # at the bound: nothing trimmed yet
    await say(rapport, "note Dana: thing 39")
    assert await entries() == 30  # past it: back to the newest 30, the new one included
    for number in range(40, 45):
        await say(rapport, f"note Dana: thing {number}")
    assert await entries() == 35
    for _ in range(35):
        assert (await rapport.handle_text(ALEX, "undo")).ok
    assert (await rapport.handle_text(ALEX, "undo")).text == "There is nothing to undo."
    async with db.session_factory(any_engine)() as session:
        notes = await session.scalar(select(func.count()).select_from(
            Contact.__table__.metadata.tables["notes"]))
    assert notes == 10  # the ten oldest notes are still there: 35 steps back, no further


async def test_a_full_journal_is_trimmed_for_its_user_alone(any_engine: AsyncEngine,
                                                           clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    sam = console_user("sam")
    await say(rapport, "add Dana Scully")
    await rapport.handle_text(sam, "add Lee Park")
    for number in range(40):
        await say(rapport, f"note Dana: thing {number}")
    async with db.session_factory(any_engine)() as session:
        users = dict((await session.execute(
            select(UndoEntry.user_id, func.count()).group_by(UndoEntry.user_id))).all())
    assert sorted(users.values()) == [1, 30]  # Sam's one entry stays


async def test_an_undo_that_would_clash_says_so_and_changes_nothing(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await say(rapport, "add Dana Scully")
    await say(rapport, "rename Dana Scully to Dana Mulder")
    ctx = await rapport.user_context(ALEX)
    # Someone called Dana Scully appears by another way than a command (an import or a
    # connector would not go through the journal): undoing the rename would clash.
    async with db.session_factory(any_engine)() as session, session.begin():
        await session.execute(insert(Contact).values(
            workspace_id=ctx.workspace_id, user_id=ctx.user_id, name="Dana Scully",
            name_key=name_key("Dana Scully"), first_key="dana", kind="colleague",
            created_at=clock.now))
    before = await snapshot(any_engine)
    reply = await rapport.handle_text(ALEX, "undo")
    assert not reply.ok
    assert reply.text == ("I can't undo “renamed Dana Scully to Dana Mulder” any more: what it "
                          "changed has changed since. Nothing changed.")
    assert await snapshot(any_engine) == before


TAG_STEPS = ["add Omar Haddad", "log Omar yesterday: coffee", "add Priya Shah every 3 weeks #vip",
             "tag Omar clients", "goal clients every month", "tag Priya clients",
             "goal vip every 2 weeks", "untag Priya vip", "untag Omar clients",
             "goal clients off", "goal clients every 2 weeks", "set Omar ai off",
             "set Priya sensitive", "tag Omar vip", "forget Omar confirm"]


async def test_tags_goals_and_person_settings_are_undone_exactly(any_engine: AsyncEngine,
                                                                 clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    answers = await _undo_each(rapport, any_engine, TAG_STEPS)
    assert answers == [
        "Undone: forgot Omar Haddad.", "Undone: tagged Omar Haddad vip.",
        "Undone: marked Priya Shah as sensitive.", "Undone: turned AI drafts off for Omar Haddad.",
        "Undone: set the goal for clients to every 2 weeks.",
        "Undone: turned off the goal for clients.", "Undone: took clients off Omar Haddad.",
        "Undone: took vip off Priya Shah.", "Undone: set the goal for vip to every 2 weeks.",
        "Undone: tagged Priya Shah clients.", "Undone: set the goal for clients to every month.",
        "Undone: tagged Omar Haddad clients.", "Undone: added Priya Shah.",
        "Undone: logged coffee with Omar Haddad on Sun Nov 22.", "Undone: added Omar Haddad."]


async def test_undo_right_after_a_tag_reverses_the_tag_not_an_older_change(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    for step in ("add Omar Haddad", "log Omar yesterday: coffee", "tag Omar clients"):
        await say(rapport, step)
    assert await say(rapport, "undo") == "Undone: tagged Omar Haddad clients."
    shown = await say(rapport, "show Omar")
    assert "#clients" not in shown and "coffee" in shown
    await say(rapport, "goal clients every month")
    assert await say(rapport, "undo") == "Undone: set the goal for clients to every month."
    assert (await say(rapport, "goals")).startswith("You have no groups yet.")
    assert await say(rapport, "undo") == "Undone: logged coffee with Omar Haddad on Sun Nov 22."


async def test_undo_after_a_change_it_cannot_reverse_says_so(any_engine: AsyncEngine,
                                                             clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    for step in ("add Omar Haddad", "suggestions off window"):
        await say(rapport, step)
    before = await snapshot(any_engine)
    refused = await rapport.handle_text(ALEX, "undo")
    assert not refused.ok and refused.text == ("Your last change (turned off suggestions about "
                                               "delivery window) can't be undone. Nothing "
                                               "changed.")
    assert await snapshot(any_engine) == before
