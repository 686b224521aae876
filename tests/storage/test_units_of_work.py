"""Units of work queue on the event loop: SQLite behind one connection and one thread, PostgreSQL
for a connection slot; a deadline bounds the wait."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, event, text

from rapport.storage import db


async def test_a_file_database_queues_transactions_on_one_connection(tmp_path: Path) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}")
    try:
        assert engine.pool.size() == 1  # type: ignore[attr-defined]
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (n INTEGER)"))

        async def write(n: int) -> None:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
                await asyncio.sleep(0.01)  # hold the write lock across an await

        # Queued on the loop: every transaction waits for the one connection, so none ever
        # meets SQLite's busy handler (which sleeps in steps of up to 100 ms).
        checked_out: list[int] = []
        in_use = {"now": 0, "most": 0}

        def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
            checked_out.append(id(dbapi_connection))
            in_use["now"] += 1
            in_use["most"] = max(in_use["most"], in_use["now"])

        def on_checkin(_dbapi_connection: Any, _record: Any) -> None:
            in_use["now"] -= 1

        event.listen(engine.sync_engine.pool, "checkout", on_checkout)
        event.listen(engine.sync_engine.pool, "checkin", on_checkin)
        await asyncio.gather(*(write(n) for n in range(20)))
        assert len(checked_out) == 20 and len(set(checked_out)) == 1
        assert in_use["most"] == 1
        async with engine.connect() as connection:
            assert (await connection.scalar(text("SELECT count(*) FROM t"))) == 20
    finally:
        await engine.dispose()


async def test_an_in_memory_database_keeps_its_static_pool() -> None:
    engine = db.create_engine("sqlite+aiosqlite://")
    try:
        async with engine.connect() as connection:
            assert (await connection.scalar(text("SELECT 1"))) == 1
    finally:
        await engine.dispose()


async def test_a_collected_engine_s_thread_stops_and_closes_its_connection(
        tmp_path: Path) -> None:
    """The engine's finalizer runs wherever the garbage collector does, even inside another
    library's lock (submitting to an executor from there once deadlocked a test run): it only
    queues a stop mark, and the SQLite thread finishes the units ahead, closes its
    connection and exits."""
    import gc
    import weakref

    from rapport.storage import uow

    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gc.db'}")
    database = uow.Database(db.session_factory(engine))
    assert await database.run(lambda session: session.execute(text("SELECT 1")).scalar()) == 1
    thread = database._thread
    assert thread is not None
    worker, pool = thread.thread, thread.engine.pool
    assert worker.is_alive() and pool.checkedin() == 1
    await engine.dispose()
    engine_ref = weakref.ref(engine)
    del engine, database, thread
    gc.collect()
    assert engine_ref() is None
    await asyncio.to_thread(worker.join, 20)
    assert not worker.is_alive()
    assert pool.checkedin() == 0  # disposed on its own thread


async def test_a_unit_queued_past_its_deadline_answers_busy_at_once_and_never_runs(
        tmp_path: Path) -> None:
    """A long line in front of the SQLite thread must not hold a caller past its deadline:
    it hears Busy while the unit ahead is still running, and its work never runs later. (The
    unit ahead writes: beside a read, the caller's unit would run on the event loop's own
    connection instead of waiting.)"""
    import threading
    import time

    from rapport.storage import uow

    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'line.db'}")
    database = uow.Database(db.session_factory(engine))
    release = threading.Event()
    ran: list[str] = []

    started = threading.Event()

    def blocking(session: Any) -> str:
        started.set()
        release.wait(30)
        ran.append("blocking")
        return "first"

    def queued(session: Any) -> str:
        ran.append("queued")
        return "second"

    try:
        first = asyncio.ensure_future(database.run(blocking, write=True))
        assert await asyncio.to_thread(started.wait, 30)
        refused = False
        try:
            await asyncio.wait_for(database.run(queued, write=True,
                                                deadline=time.monotonic() + 0.05), timeout=20)
        except uow.Busy:
            refused = True
        assert refused
        assert not first.done() and ran == []  # the unit ahead was still running
        release.set()
        assert await first == "first"
        # The thread reached the abandoned unit after the first; it was skipped.
        assert await database.run(lambda session: "third", write=False) == "third"
        assert ran == ["blocking"]
    finally:
        release.set()
        await engine.dispose()


async def test_a_unit_whose_caller_went_away_before_it_started_never_runs(
        tmp_path: Path) -> None:
    """A cancelled caller (the client hung up) leaves nothing half-done: its queued unit is
    skipped, and the units behind it still run."""
    import threading

    from rapport.storage import uow

    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'cancelled.db'}")
    database = uow.Database(db.session_factory(engine))
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def blocking(session: Any) -> None:
        started.set()
        release.wait(30)

    def write(session: Any) -> None:
        session.execute(text("CREATE TABLE cancelled_marker (x INTEGER)"))
        ran.append("write")

    try:
        first = asyncio.ensure_future(database.run(blocking, write=False))
        assert await asyncio.to_thread(started.wait, 30)
        cancelled = asyncio.ensure_future(database.run(write, write=True))
        await asyncio.sleep(0)
        cancelled.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await cancelled
        assert database.queued == 1  # only the blocking unit is still counted
        release.set()
        await first
        assert await database.run(lambda session: "after", write=False) == "after"
        assert ran == []
        tables = await database.run(lambda session: session.execute(text(
            "SELECT name FROM sqlite_master WHERE name = 'cancelled_marker'")).all(),
            write=False)
        assert tables == []
    finally:
        release.set()
        await engine.dispose()


async def test_a_unit_that_started_in_time_finishes_past_its_deadline(tmp_path: Path) -> None:
    """Started before its deadline, a unit's outcome stands: never "busy" for work that
    happened."""
    import threading
    import time

    from rapport.storage import uow

    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'started.db'}")
    database = uow.Database(db.session_factory(engine))
    # On the database thread (a unit on the event loop's own connection runs to its end
    # before anything else can happen).
    database._inline = None
    started, release = threading.Event(), threading.Event()

    def slow(session: Any) -> str:
        started.set()
        release.wait(30)
        return "done"

    try:
        unit = asyncio.ensure_future(database.run(slow, write=True,
                                                  deadline=time.monotonic() + 0.5))
        assert await asyncio.to_thread(started.wait, 30)
        # Hold it past its deadline, then let it finish.
        await asyncio.sleep(0.6)
        assert not unit.done()
        release.set()
        assert await unit == "done"
    finally:
        release.set()
        await engine.dispose()


async def test_a_unit_with_a_deadline_runs_on_the_loop_s_thread_beside_a_long_read(
        tmp_path: Path) -> None:
    """Someone is waiting on a unit with a deadline: on a SQLite file it runs on the event
    loop's own connection, so a long read on the database thread does not hold it up."""
    import threading
    import time

    from rapport.storage import uow

    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    database = uow.Database(db.session_factory(engine))
    started, release = threading.Event(), threading.Event()

    def long_read(session: Any) -> str:
        started.set()
        release.wait(30)
        return "read"

    def command(session: Any) -> int:
        session.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
        return threading.get_ident()

    try:
        reading = asyncio.ensure_future(database.run(long_read, write=False))
        assert await asyncio.to_thread(started.wait, 30)
        ran_on = await database.run(command, deadline=time.monotonic() + 5)
        assert ran_on == threading.get_ident()
        assert not reading.done()
        release.set()
        assert await reading == "read"
        count = await database.run(lambda session: session.execute(
            text("SELECT count(*) FROM t")).scalar(), write=False)
        assert count == 1
    finally:
        release.set()
        await engine.dispose()


async def test_a_write_that_finds_the_database_locked_runs_on_the_thread_once(
        tmp_path: Path) -> None:
    """The event loop never waits for a lock: a command's write that finds another process
    writing (`rapport chat` on the same file) is handed to the database thread, which waits
    its turn; it runs once, and its caller hears its result."""
    import sqlite3
    import threading
    import time

    from rapport.storage import uow

    path = tmp_path / "locked.db"
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    database = uow.Database(db.session_factory(engine))
    await database.run(lambda session: session.execute(text("CREATE TABLE t (n INTEGER)")))
    other_process = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other_process.execute("BEGIN IMMEDIATE")
    ran_on: list[str] = []

    def command(session: Any) -> str:
        session.execute(text("INSERT INTO t VALUES (1)"))
        ran_on.append(threading.current_thread().name)
        return "logged"

    try:
        assert database._inline is not None
        unit = asyncio.ensure_future(database.run(command, deadline=time.monotonic() + 20))
        await asyncio.sleep(0.2)
        assert not unit.done() and ran_on == []  # waiting for the lock, not on the loop
        other_process.execute("COMMIT")
        assert await asyncio.wait_for(unit, 30) == "logged"
        assert ran_on == ["rapport-sqlite"]
        assert database._inline.handed_over == 1
        count = await database.run(lambda session: session.execute(
            text("SELECT count(*) FROM t")).scalar(), write=False)
        assert count == 1
    finally:
        other_process.close()
        await engine.dispose()


async def test_a_failed_unit_on_the_loop_s_connection_leaves_nothing_for_the_next(
        tmp_path: Path) -> None:
    """The loop's connection stays open between units: a unit that fails is rolled back
    whole, and the next one starts clean on the same connection."""
    import time

    from rapport.storage import uow

    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'failed.db'}")
    database = uow.Database(db.session_factory(engine))

    def half_done(session: Any) -> None:
        session.execute(text("INSERT INTO t VALUES (1)"))
        raise ValueError("the use case gave up")

    def count(session: Any) -> int:
        return int(session.execute(text("SELECT count(*) FROM t")).scalar_one())

    try:
        await database.run(lambda session: session.execute(text("CREATE TABLE t (n INTEGER)")))
        with pytest.raises(ValueError):
            await database.run(half_done, deadline=time.monotonic() + 5)
        await database.run(lambda session: session.execute(text("INSERT INTO t VALUES (2)")),
                           deadline=time.monotonic() + 5)
        assert await database.run(count, write=False, deadline=time.monotonic() + 5) == 1
        assert await database.run(count, write=False) == 1  # as the database thread sees it
    finally:
        await engine.dispose()


async def test_on_the_loop_s_connection_prepared_and_orm_writes_share_one_transaction(
        tmp_path: Path) -> None:
    """A unit there begins its transaction on the driver's connection; ORM work joins it.
    One failure rolls back both kinds of write; a success commits both, once."""
    import time

    from sqlalchemy import Integer, column, insert, table
    from sqlalchemy.orm import Session

    from rapport.storage import uow
    from rapport.storage.prepared import Prepared

    numbers = table("t", column("n", Integer))
    insert_prepared = Prepared(insert(numbers).values(n=bindparam("n")))
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}")
    database = uow.Database(db.session_factory(engine))

    def both(session: Session, fail: bool) -> str:
        insert_prepared.execute(session, n=1)  # on the sqlite3 connection itself
        session.execute(insert(numbers).values(n=2))  # through the ORM session
        if fail:
            raise ValueError("the use case gave up")
        return "done"

    def rows(session: Session) -> list[int]:
        return sorted(session.execute(text("SELECT n FROM t")).scalars())

    try:
        await database.run(lambda session: session.execute(text("CREATE TABLE t (n INTEGER)")))
        with pytest.raises(ValueError):
            await database.run(lambda session: both(session, True),
                               deadline=time.monotonic() + 5)
        assert await database.run(rows, write=False) == []
        assert await database.run(lambda session: both(session, False),
                                  deadline=time.monotonic() + 5) == "done"
        assert await database.run(rows, write=False) == [1, 2]
        assert database._inline is not None and database._inline.handed_over == 0
    finally:
        await engine.dispose()


async def test_rows_loaded_in_one_unit_on_the_loop_s_connection_are_read_afresh_in_the_next(
        tmp_path: Path) -> None:
    """The loop's connection keeps one session for every unit: what a unit loaded is
    forgotten when it ends, so a change made meanwhile elsewhere is seen."""
    import time

    from sqlalchemy import Column, Integer, String
    from sqlalchemy.orm import DeclarativeBase, Session

    from rapport.storage import uow

    class Base(DeclarativeBase):
        pass

    class Note(Base):
        __tablename__ = "notes"
        id = Column(Integer, primary_key=True)
        text = Column(String)

    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    database = uow.Database(db.session_factory(engine))

    def read(session: Session) -> str:
        note = session.get(Note, 1)
        assert note is not None
        return str(note.text)

    try:
        await database.run(lambda session: Base.metadata.create_all(session.connection()))
        await database.run(lambda session: session.add(Note(id=1, text="first")))
        # A unit that writes commits, and a commit keeps what it loaded (expire_on_commit
        # is off for every session), here held on to by the caller: only emptying the
        # session forgets it.
        held = await database.run(lambda session: session.get(Note, 1),
                                  deadline=time.monotonic() + 5)
        assert held is not None and held.text == "first"
        # Changed on the database thread's connection (no deadline), as another process might.
        await database.run(lambda session: session.execute(
            text("UPDATE notes SET text = 'second' WHERE id = 1")))
        assert await database.run(read, write=False, deadline=time.monotonic() + 5) == "second"
    finally:
        await engine.dispose()


async def test_the_loop_s_connection_leaves_wal_checkpoints_to_the_database_thread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkpoint writes the database file and syncs it: never on the event loop. After
    every CHECKPOINT_EVERY_COMMITS commits on the loop's connection the thread runs one."""
    import threading
    import time

    from rapport.storage import uow

    checkpoints: list[str] = []
    checkpoint = uow._checkpoint

    def recorded(engine: Any) -> None:
        checkpoints.append(threading.current_thread().name)
        checkpoint(engine)

    monkeypatch.setattr(uow, "CHECKPOINT_EVERY_COMMITS", 3)
    monkeypatch.setattr(uow, "_checkpoint", recorded)
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}")
    database = uow.Database(db.session_factory(engine))
    try:
        await database.run(lambda session: session.execute(text("CREATE TABLE t (n INTEGER)")))
        for n in range(7):
            await database.run(lambda session, n=n: session.execute(
                text("INSERT INTO t VALUES (:n)"), {"n": n}), deadline=time.monotonic() + 5)
        # The chores queued before this unit have run by the time it answers.
        assert await database.run(lambda session: "after", write=False) == "after"
        assert checkpoints == ["rapport-sqlite", "rapport-sqlite"]
        assert database._inline is not None and database._inline._connection is not None
        connection = database._inline._connection
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_on_postgresql_a_unit_waiting_for_a_connection_answers_busy_at_its_deadline(
        postgres_ready: str) -> None:
    """Units wait for a connection slot on the event loop: with every slot taken, one with a
    deadline is refused at it (nothing run), and without one it waits its turn."""
    import time

    from rapport.storage import uow

    engine = db.create_engine(postgres_ready, pool_size=1)
    database = uow.Database(db.session_factory(engine))
    ran: list[str] = []

    def work(session: Any) -> int:
        ran.append("work")
        return int(session.execute(text("SELECT 1")).scalar_one())

    try:
        slots = uow._slots(engine)
        assert slots is not None
        taken = 0
        while not slots.locked():  # every connection the pool keeps, as if in use
            await slots.acquire()
            taken += 1
        assert taken == 1
        refused = False
        try:
            await database.run(work, write=False, deadline=time.monotonic() + 0.05)
        except uow.Busy:
            refused = True
        assert refused and ran == []
        patient = asyncio.ensure_future(database.run(work, write=False))
        await asyncio.sleep(0.05)
        assert not patient.done()
        slots.release()
        assert await patient == 1 and ran == ["work"]
        for _ in range(taken - 1):
            slots.release()
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_on_postgresql_a_burst_of_units_shares_the_pool_s_kept_connections(
        postgres_ready: str) -> None:
    """More units than the pool keeps queue for its connections instead of opening overflow
    connections that are closed again on return: under a burst of slash commands that
    churn was a third of the process's CPU (a new connection each, with its TLS attempt)."""
    from sqlalchemy import event

    from rapport.storage import uow

    engine = db.create_engine(postgres_ready, pool_size=2)
    database = uow.Database(db.session_factory(engine))
    opened: list[object] = []
    event.listen(engine.sync_engine, "connect", lambda connection, record: opened.append(
        connection))

    def work(session: Any) -> int:
        return int(session.execute(text("SELECT 1 FROM pg_sleep(0.01)")).scalar_one())

    try:
        for _ in range(3):
            assert await asyncio.gather(*(database.run(work) for _ in range(12))) == [1] * 12
        assert len(opened) == 2
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_on_postgresql_a_unit_enters_sqlalchemy_s_greenlet_once(
        postgres_ready: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checkout, work, commit and close run in one greenlet: each awaited method of an
    async session started one of its own (five per unit, a sixth of a short unit's CPU). A
    failing unit is still rolled back and its connection returned."""
    from sqlalchemy.ext.asyncio import session as async_session

    from rapport.storage import uow

    spawned: list[str] = []
    spawn = async_session.greenlet_spawn

    async def counting_spawn(fn: Any, *args: Any, **kwargs: Any) -> Any:
        spawned.append(getattr(fn, "__name__", "?"))
        return await spawn(fn, *args, **kwargs)

    monkeypatch.setattr(async_session, "greenlet_spawn", counting_spawn)
    engine = db.create_engine(postgres_ready, pool_size=1)
    database = uow.Database(db.session_factory(engine))

    def fail(session: Any) -> None:
        session.execute(text("SELECT 1"))
        raise RuntimeError("the work failed")

    try:
        assert await database.run(lambda session: session.execute(
            text("SELECT 1")).scalar_one()) == 1
        assert await database.run(lambda session: session.execute(
            text("SELECT 2")).scalar_one(), write=False) == 2
        assert len(spawned) == 2
        with pytest.raises(RuntimeError):
            await database.run(fail)
        assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert await database.run(lambda session: session.execute(
            text("SELECT 3")).scalar_one()) == 3
    finally:
        await engine.dispose()


async def test_a_file_database_s_units_keep_a_page_cache_a_sweep_batch_fits_in(
        tmp_path: Path) -> None:
    # Planning reads a batch of contacts and then moves their plan_at: with SQLite's default
    # 2 MiB cache the second statement read every page again.
    from rapport.storage import uow

    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'cache.db'}")
    try:
        size = await uow.Database(db.session_factory(engine)).run(
            lambda session: session.connection().exec_driver_sql("PRAGMA cache_size").scalar(),
            write=False)
        assert size == -16 * 1024
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_on_postgresql_a_read_only_unit_runs_without_a_transaction(
        postgres_ready: str) -> None:
    """A read-only unit sends no BEGIN and no ROLLBACK: each of its statements is a
    transaction of its own (as under READ COMMITTED inside one, each has its own snapshot).
    A unit that writes is still one transaction."""
    from rapport.storage import uow

    engine = db.create_engine(postgres_ready, pool_size=1)
    database = uow.Database(db.session_factory(engine))

    def transactions_seen(session: Any) -> int:
        # now() is the moment the statement's transaction began.
        first = session.execute(text("SELECT now()")).scalar()
        session.execute(text("SELECT pg_sleep(0.02)"))
        return len({first, session.execute(text("SELECT now()")).scalar()})

    try:
        assert await database.run(transactions_seen, write=False) == 2
        assert await database.run(transactions_seen) == 1
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_on_postgresql_a_unit_that_is_not_atomic_commits_each_statement_and_only_it(
        postgres_ready: str) -> None:
    """`atomic=False` (a sweep wave's one UPDATE) runs without BEGIN and COMMIT: what a
    statement wrote stays even if the work fails after it. The pooled connection goes back
    to transactions for the next unit."""
    from rapport.storage import uow

    engine = db.create_engine(postgres_ready, pool_size=1)
    database = uow.Database(db.session_factory(engine))

    def insert_then_fail(number: int) -> Any:
        def work(session: Any) -> None:
            session.execute(text("INSERT INTO uow_atomic_probe VALUES (:n)"), {"n": number})
            raise RuntimeError("after the insert")
        return work

    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE IF EXISTS uow_atomic_probe"))
            await connection.execute(text("CREATE TABLE uow_atomic_probe (n INTEGER)"))
        with pytest.raises(RuntimeError):
            await database.run(insert_then_fail(1), atomic=False)
        with pytest.raises(RuntimeError):
            await database.run(insert_then_fail(2))
        async with engine.connect() as connection:
            kept = (await connection.execute(text("SELECT n FROM uow_atomic_probe"))).all()
        assert [row[0] for row in kept] == [1]
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE IF EXISTS uow_atomic_probe"))
        await engine.dispose()
