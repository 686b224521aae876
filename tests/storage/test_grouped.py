"""Grouped units of work share a transaction; the one that fails is rolled back alone."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import bindparam, event, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from rapport.bot.core.rapport import Rapport
from rapport.storage import db
from rapport.storage.models import Touchpoint, Workspace
from rapport.storage.prepared import Prepared
from rapport.storage.types import UTCDateTime
from rapport.storage.uow import Database, Grouped
from tests.conftest import Clock, console_user

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _workspace(name: str, *, fail: bool = False):  # type: ignore[no-untyped-def]
    def work(session: Session) -> str:
        session.execute(insert(Workspace).values(
            platform="console", external_id=name, name=name, ai_enabled=True,
            disclosure_policy="optional", active=True, created_at=NOW))
        if fail:
            raise ValueError(f"{name} broke")
        return name
    return work


async def _first_then_three(grouped: Grouped) -> list[object]:
    """"first" alone, then "a", "bad" (which fails) and "b" waiting for it together: the
    outcomes of the three."""
    first = asyncio.ensure_future(grouped.run(_workspace("first")))
    await asyncio.sleep(0)  # the first starts alone; the next ones wait for it together
    rest = [asyncio.ensure_future(grouped.run(_workspace(name, fail=name == "bad")))
            for name in ("a", "bad", "b")]
    assert await first == "first"
    return await asyncio.gather(*rest, return_exceptions=True)


async def test_waiting_units_share_one_commit_and_fail_alone(any_engine: AsyncEngine) -> None:
    database = Database(db.session_factory(any_engine))
    grouped = Grouped(database, limit=8)
    commits: list[int] = []
    target = any_engine.sync_engine
    if database._thread is not None:  # SQLite file: the units run on the thread's engine
        target = database._thread.engine

    def on_commit(_connection: object) -> None:
        commits.append(1)

    event.listen(target, "commit", on_commit)
    try:
        results = await _first_then_three(grouped)
    finally:
        event.remove(target, "commit", on_commit)
    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], ValueError) and str(results[1]) == "bad broke"
    names = await database.run(lambda s: sorted(s.scalars(select(Workspace.external_id))),
                               write=False)
    assert names == ["a", "b", "first"]  # the failing one left nothing behind
    assert len(commits) == 2  # one for the first, one for the three that waited together


async def test_a_failed_transaction_reaches_every_caller(engine: AsyncEngine) -> None:
    database = Database(db.session_factory(engine))
    grouped = Grouped(database)

    def duplicate(session: Session) -> None:
        session.execute(insert(Workspace).values(
            platform="console", external_id="same", name="x", ai_enabled=True,
            disclosure_policy="optional", active=True, created_at=NOW))

    await grouped.run(duplicate)

    async def broken_run(work: object, **_kw: object) -> None:
        raise ConnectionError("database gone")

    database.run = broken_run  # type: ignore[assignment,method-assign]
    calls = [asyncio.ensure_future(grouped.run(duplicate)) for _ in range(3)]
    for call in calls:
        with pytest.raises(ConnectionError):
            await call
    database.run = Database.run.__get__(database)  # type: ignore[method-assign]
    count = await database.run(lambda s: s.scalar(select(func.count()).select_from(Workspace)),
                               write=False)
    assert count == 1


async def test_a_lost_connection_runs_the_whole_group_again() -> None:
    engine = db.create_engine("sqlite+aiosqlite://")  # the async path, which retries
    database = Database(db.session_factory(engine))
    assert database._thread is None
    calls: list[str] = []

    def work(name: str):  # type: ignore[no-untyped-def]
        def run(session: Session) -> str:
            calls.append(name)
            session.execute(text("SELECT 1"))
            if calls == ["lost"]:
                raise DBAPIError("SELECT 1", {}, Exception("server closed the connection"),
                                 connection_invalidated=True)
            return name
        return run

    grouped = Grouped(database)
    try:
        assert await grouped.run(work("lost")) == "lost"
    finally:
        await engine.dispose()
    assert calls == ["lost", "lost"]


async def test_without_savepoints_a_failure_rolls_back_the_whole_group(
        any_engine: AsyncEngine) -> None:
    """`savepoints=False`: no SAVEPOINT around each caller's work, so one failure takes the
    group's transaction with it and every caller in it hears that failure."""
    database = Database(db.session_factory(any_engine))
    grouped = Grouped(database, savepoints=False)
    statements: list[str] = []
    target = database._thread.engine if database._thread is not None else any_engine.sync_engine

    def on_execute(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(target, "before_cursor_execute", on_execute)
    try:
        results = await _first_then_three(grouped)
    finally:
        event.remove(target, "before_cursor_execute", on_execute)
    assert all(isinstance(result, ValueError) and str(result) == "bad broke"
               for result in results)
    names = await database.run(lambda s: sorted(s.scalars(select(Workspace.external_id))),
                               write=False)
    assert names == ["first"]
    assert not any("SAVEPOINT" in statement.upper() for statement in statements)


async def test_a_group_that_is_not_atomic_commits_each_statement_on_postgresql(
        any_engine: AsyncEngine) -> None:
    """`atomic=False` (the replay guard's claims, one INSERT each): on PostgreSQL each
    caller's statement commits as it runs, no BEGIN or COMMIT around the group, so a
    failure leaves what ran before it; on SQLite the group is one transaction all the same.
    Every caller hears the failure either way."""
    database = Database(db.session_factory(any_engine))
    grouped = Grouped(database, savepoints=False, atomic=False)
    results = await _first_then_three(grouped)
    assert all(isinstance(result, ValueError) and str(result) == "bad broke"
               for result in results)
    names = await database.run(lambda s: sorted(s.scalars(select(Workspace.external_id))),
                               write=False)
    postgres = any_engine.dialect.name == "postgresql"
    # "bad" wrote before it raised: on PostgreSQL that stands too.
    assert names == (["a", "bad", "first"] if postgres else ["first"])
    with pytest.raises(ValueError):
        Grouped(database, atomic=False)  # savepoints need a transaction


def _temporary_files() -> list[str]:
    """The temporary files this process has open: SQLite's are unlinked as soon as opened
    and named etilqs_…, so they show in /proc as '…/etilqs_… (deleted)'."""
    opened = []
    for entry in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            opened.append(os.readlink(f"/proc/self/fd/{entry}"))
    return [path for path in opened if "etilqs" in path]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs Linux's /proc")
@pytest.mark.parametrize("on_the_loop", [False, True], ids=["database thread", "event loop"])
async def test_a_savepoint_s_journal_stays_in_memory(tmp_path: Path, on_the_loop: bool) -> None:
    """A group's units each run in a savepoint; SQLite first copies every page a savepoint
    changes to its journal, a temporary file once it passes 64 KiB: on the database thread
    that file was three quarters of a calendar sync's writes, and on the event loop's own
    connection (commands with a deadline, grouped) it would be a write the loop waits for.
    Each unit here changes about half a megabyte, and none may open a temporary file; the one
    that fails still leaves nothing behind (the journal in memory still rolls it back)."""
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'grouped.db'}")
    await db.upgrade(engine)
    database = Database(db.session_factory(engine))
    grouped = Grouped(database, limit=8)

    names = ("first", "a", "bad", "b")

    def seed(session: Session) -> None:
        session.execute(insert(Workspace), [
            dict(platform="console", external_id=f"{name}-{index}", name=name,
                 ai_enabled=True, disclosure_policy="optional", active=True, created_at=NOW)
            for name in names for index in range(2_500)])

    def rename(name: str, *, fail: bool = False):  # type: ignore[no-untyped-def]
        # Pages that were there when the savepoint began are the ones it journals.
        def work(session: Session) -> list[str]:
            session.execute(update(Workspace).where(Workspace.name == name)
                            .values(name=name + "!" * 150))
            opened = _temporary_files()
            if fail:
                raise ValueError(f"{name} broke")
            return opened
        return work

    deadline = time.monotonic() + 600 if on_the_loop else None
    try:
        await database.run(seed)
        first = asyncio.ensure_future(grouped.run(rename("first"), deadline=deadline))
        await asyncio.sleep(0)
        rest = [asyncio.ensure_future(grouped.run(rename(name, fail=name == "bad"),
                                                  deadline=deadline))
                for name in names[1:]]
        outcomes = [await first, *await asyncio.gather(*rest, return_exceptions=True)]
        assert database._inline is not None and database._inline.handed_over == 0
        assert outcomes[0] == [] and outcomes[1] == [] and outcomes[3] == []
        assert isinstance(outcomes[2], ValueError)
        counts = await database.run(lambda s: s.execute(text(
            "SELECT name, count(*) FROM workspaces GROUP BY 1 ORDER BY 1")).all(), write=False)
        assert [tuple(row) for row in counts] == [
            ("a" + "!" * 150, 2_500), ("b" + "!" * 150, 2_500), ("bad", 2_500),
            ("first" + "!" * 150, 2_500)]
    finally:
        await engine.dispose()


_INSERT_WORKSPACE = Prepared(insert(Workspace).values(
    platform="console", external_id=bindparam("name"), name=bindparam("name"),
    ai_enabled=True, disclosure_policy="optional", active=True,
    created_at=bindparam("now", type_=UTCDateTime)))


def _traced_inline(database: Database) -> list[str]:
    """The statements the event loop's own SQLite connection runs from now on."""
    assert database._inline is not None
    _session, raw = database._inline._open()
    statements: list[str] = []
    raw.set_trace_callback(statements.append)
    return statements


async def test_units_with_a_deadline_share_one_commit_on_the_loop_s_connection_and_fail_alone(
        engine: AsyncEngine) -> None:
    """The units a command waits for run on the event loop's own connection, their
    statements straight on the driver: a savepoint there must be the driver's (SQLAlchemy's
    `begin_nested` on a session that has not touched its connection emits none, and its
    commit then commits nothing, leaving the transaction open for the next unit)."""
    database = Database(db.session_factory(engine))
    assert database.runs_inline
    grouped = Grouped(database, limit=8)
    statements = _traced_inline(database)
    deadline = time.monotonic() + 600

    def work(name: str, fail: bool = False):  # type: ignore[no-untyped-def]
        def run(session: Session) -> str:
            _INSERT_WORKSPACE.execute(session, name=name, now=NOW)
            if fail:
                raise ValueError(f"{name} broke")
            return name
        return run

    first = asyncio.ensure_future(grouped.run(work("first"), deadline=deadline))
    await asyncio.sleep(0)
    rest = [asyncio.ensure_future(grouped.run(work(name, fail=name == "bad"),
                                              deadline=deadline))
            for name in ("a", "bad", "b")]
    assert await first == "first"
    results = await asyncio.gather(*rest, return_exceptions=True)
    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], ValueError)
    # Still usable: the next unit begins a transaction of its own.
    assert await grouped.run(work("after"), deadline=deadline) == "after"
    names = await database.run(lambda s: sorted(s.scalars(select(Workspace.external_id))),
                               write=False)
    assert names == ["a", "after", "b", "first"]
    assert statements.count("COMMIT") == 3  # the first alone, the three together, the last
    assert statements.count("SAVEPOINT grouped_work") == 3  # none for a unit alone
    assert database._inline is not None and database._inline.handed_over == 0


async def test_commands_people_send_at_once_share_one_commit(engine: AsyncEngine,
                                                             clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
    people = [console_user(f"person{n}") for n in range(5)]
    for person in people:
        await rapport.handle_text(person, "add Dana Scully")
    statements = _traced_inline(rapport.db)
    deadline = time.monotonic() + 600
    replies = await asyncio.gather(*(
        rapport.handle_text(person, f"log Dana coffee: plan {n}", deadline=deadline)
        for n, person in enumerate(people)))
    assert [reply.text for reply in replies] == ["Logged coffee with Dana Scully."] * 5
    assert statements.count("COMMIT") == 1
    touchpoints = await rapport.db.run(lambda s: sorted(
        (user_id, summary) for user_id, summary in s.execute(
            select(Touchpoint.user_id, Touchpoint.summary))), write=False)
    assert [summary for _user, summary in touchpoints] == [f"plan {n}" for n in range(5)]
    assert len({user for user, _summary in touchpoints}) == 5
