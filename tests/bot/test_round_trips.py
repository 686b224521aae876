"""The statements a `log` runs, counted: on PostgreSQL each one is a round trip to the server,
so reads are merged (the name's lookup with the undo journal's before-images and the clock's
inputs) and the writes go together in data-modifying CTEs. SQLite has no such CTEs and no
round trips: the same rows, written by one statement each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.scheduler.retention import MAX_UNDO_ENTRIES, UNDO_TRIM_PAST
from rapport.storage import db, prepared
from rapport.storage.models import Contact, Nudge, UndoEntry
from tests.bot.test_actions import Inbox
from tests.bot.test_undo import _data
from tests.conftest import Clock, console_user, say

ALEX = console_user("alex")

# Besides BEGIN and COMMIT: the user's rows, the name's lookup with the contact's open cadence
# nudges (before-images and clock inputs in the same read), then the writes: on PostgreSQL
# the touchpoint with the clock (and the nudges closed) in one statement and the journal entry
# with its trim in another; on SQLite the touchpoint, the nudges when some are open, the
# clock and the entry one statement each (the entry's INSERT says whether the journal is past
# its bound; the trim runs only then).
LOG_STATEMENTS = {"postgresql": 4, "sqlite": 5}
LOG_STATEMENTS_CLOSING_NUDGES = {"postgresql": 4, "sqlite": 6}
# A first name ("log Dana" for Dana Scully) is resolved by the lookups that find it (two
# exact keys, then the first name); the contact's state is read after them.
LOG_BY_FIRST_NAME_STATEMENTS = {"postgresql": 7, "sqlite": 8}


@contextmanager
def _statements(rapport: Rapport, engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement sent to the database meanwhile: prepared ones (run on the driver
    directly) and SQLAlchemy's own."""
    executed: list[str] = []
    original = prepared._Driver.execute

    def counted(self: Any, sql: str, arguments: Any) -> Any:
        executed.append(sql)
        return original(self, sql, arguments)

    thread = rapport.db._thread
    target = thread.engine if thread is not None else engine.sync_engine

    def on_execute(*args: Any) -> None:
        executed.append(str(args[2]))

    prepared._Driver.execute = counted  # type: ignore[method-assign]
    event.listen(target, "before_cursor_execute", on_execute)
    try:
        yield executed
    finally:
        event.remove(target, "before_cursor_execute", on_execute)
        prepared._Driver.execute = original  # type: ignore[method-assign]


async def test_a_log_runs_four_statements_on_postgresql(any_engine: AsyncEngine,
                                                        clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await say(rapport, "add Dana every 2 weeks")
    await say(rapport, "log Dana coffee")  # statements compiled, the user's rows cached
    before = await _data(any_engine)
    with _statements(rapport, any_engine) as executed:
        assert await say(rapport, "log Dana coffee") == "Logged coffee with Dana."
    assert len(executed) == LOG_STATEMENTS[any_engine.dialect.name], executed
    # And it is undone exactly, as before.
    assert await say(rapport, "undo") == "Undone: logged coffee with Dana on Mon Nov 23."
    assert await _data(any_engine) == before


async def test_a_log_closes_the_open_cadence_nudges_in_the_same_statements(
        any_engine: AsyncEngine, clock: Clock) -> None:
    """A sent cadence nudge is done, a snoozed one expired; the clock restarts; undo puts
    them all back."""
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await say(rapport, "add Dana every 1 week")
    await say(rapport, "add Lee every 1 week")
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    sweeper = Sweeper(sessions=db.session_factory(any_engine),
                      messengers={"console": Inbox()}, owner="test", clock=clock)
    assert (await sweeper.sweep()).sent == 2
    due = await rapport.handle_text(ALEX, "due")
    lee = next(item.nudge_id for item in due.nudges if item.contact_name == "Lee")
    await say(rapport, f"snooze #{lee} 2 hours")
    await say(rapport, "log Lee yesterday call")  # warm-up, and Lee's snoozed nudge expires
    before = await _data(any_engine)
    with _statements(rapport, any_engine) as executed:
        assert await say(rapport, "log Dana coffee") == "Logged coffee with Dana."
    assert len(executed) == LOG_STATEMENTS_CLOSING_NUDGES[any_engine.dialect.name], \
        "\n".join(executed)
    async with db.session_factory(any_engine)() as session:
        nudges = (await session.execute(select(Contact.name, Nudge.status, Nudge.acted_at)
                                        .join(Contact, Contact.id == Nudge.contact_id)
                                        .order_by(Contact.name))).all()
        dana = (await session.execute(select(Contact.last_touch_at, Contact.next_due_at,
                                             Contact.plan_at)
                                      .where(Contact.name == "Dana"))).one()
        entries = await session.scalar(select(UndoEntry.id).order_by(UndoEntry.id.desc()))
    assert [tuple(row) for row in nudges] == [
        ("Dana", "done", clock.now), ("Lee", "expired", None)]
    assert tuple(dana) == (clock.now, datetime(2026, 12, 8, tzinfo=UTC),
                           datetime(2026, 12, 8, tzinfo=UTC))
    assert entries is not None
    # The nudge the log closed is out again, where `due` lists it.
    assert await say(rapport, "undo") == ("Undone: logged coffee with Dana on Tue Dec 1. "
                                          "Nudge #1 is open again: see “due”.")
    assert await _data(any_engine) == before


async def test_a_log_by_first_name_reads_the_contact_once_found(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await say(rapport, "add Dana Scully every 2 weeks")
    await say(rapport, "log Dana coffee")
    before = await _data(any_engine)
    with _statements(rapport, any_engine) as executed:
        assert await say(rapport, "log Dana call") == "Logged call with Dana Scully."
    assert len(executed) == LOG_BY_FIRST_NAME_STATEMENTS[any_engine.dialect.name], \
        "\n".join(executed)
    assert await say(rapport, "undo") == \
        "Undone: logged call with Dana Scully on Mon Nov 23."
    assert await _data(any_engine) == before


def _entries_kept(changes: int) -> int:
    """How many entries the journal holds after `changes`: every one, until one more than
    `UNDO_TRIM_PAST` cuts it back to the newest `MAX_UNDO_ENTRIES`."""
    held = 0
    for _ in range(changes):
        held += 1
        if held > UNDO_TRIM_PAST:
            held = MAX_UNDO_ENTRIES
    return held


@pytest.mark.parametrize("changes", [29, 30, 40, 41, 45])
async def test_the_journal_keeps_the_same_entries_on_every_backend(
        any_engine: AsyncEngine, clock: Clock, changes: int) -> None:
    """The entry and its trim are one statement on PostgreSQL, one or two on SQLite: the same
    entries are kept."""
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await say(rapport, "add Dana")
    for _ in range(changes - 1):
        await say(rapport, "log Dana coffee")
    async with db.session_factory(any_engine)() as session:
        descriptions = (await session.scalars(select(UndoEntry.description)
                                              .order_by(UndoEntry.id))).all()
    assert len(descriptions) == _entries_kept(changes)
    assert descriptions[-1] == "logged coffee with Dana on Mon Nov 23"
    assert (descriptions[0] == "added Dana") == (changes <= UNDO_TRIM_PAST)
