"""Units of work: one transaction per command, written as plain synchronous code.

A use case is a function of a `Session`; `Database.run` runs it in one transaction and returns
its result. Work that only reads runs under a plain BEGIN (on SQLite, WAL lets it run beside
the writer); work that writes takes the write lock up front (BEGIN IMMEDIATE) so two writers
never deadlock on a lock upgrade. Any exception rolls everything back.

How each backend runs a unit:
- SQLite (a file): one thread owns one synchronous connection and runs each whole unit in one
  hop from the event loop; units queue in front of that thread, not in SQLite's busy handler.
  A unit someone is waiting on (it has a deadline: a Slack command's, the replay guard's claim
  of any Slack request), or a short one made many times in a row or waited for by a command
  (`short`: a sweep's waves, the acting user's rows), first tries a second connection on the
  event loop's own thread, which never waits for a lock: a short unit costs less run there
  than handed over, because the loop and the database thread share one GIL and every
  hand-over waits for the other.
  When that connection finds the database locked (a long write on the thread, another
  process), the unit goes to the thread as any other; nothing of it was done.
- PostgreSQL (and in-memory SQLite): the async engine's session, the unit run in a greenlet,
  so each statement awaits the driver on the event loop without thread hops.

A unit given a `deadline` that it cannot start before is not run at all (`Busy`): an
overloaded process answers "busy" while the answer can still reach the user, and nothing
half-happens. On SQLite the caller hears Busy at the deadline itself, however long the line in
front of the thread; a unit that started in time runs to its end. On PostgreSQL a connection
opened for the unit gives up at the deadline too (`rapport.storage.db.connecting_by`).
A PostgreSQL statement that runs or waits for a lock past its timeout (`db.create_engine`)
ends its unit, rolled back, with `StatementTimeout`, a `Busy` whatever the deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from rapport.storage import db, prepared

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Busy(Exception):
    """The unit of work could not start before its deadline; nothing was done."""


class StatementTimeout(Busy, TimeoutError):
    """A statement of the unit ran past PostgreSQL's statement timeout, or waited past its lock
    timeout for rows or a table another transaction holds: the unit was rolled back and
    nothing was done. A `Busy`, whose answer ("busy, try again") is the true one, though the
    unit had started; and a TimeoutError, for callers that only know the database's troubles.
    The connection it ran on is fine and goes back to the pool."""


# PostgreSQL's query_canceled (statement_timeout) and lock_not_available (lock_timeout).
_TIMED_OUT_STATES = frozenset({"57014", "55P03"})


def _timed_out(error: BaseException) -> bool:
    """Whether a driver error, as SQLAlchemy wraps it, is a statement or lock timeout."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) in _TIMED_OUT_STATES


def _as_timeout(error: DBAPIError) -> StatementTimeout:
    state = getattr(error.orig, "sqlstate", None)
    logger.warning("database statement timed out", extra={"sqlstate": state})
    timeout = StatementTimeout(str(error.orig))
    timeout.__cause__ = error
    return timeout


class DatabaseClosed(RuntimeError):
    """A unit of work was asked for after `close_database`; nothing was done."""


def _options(write: bool, atomic: bool = True) -> Any:
    # A plain dict: SQLAlchemy types execution options as a TypedDict of its own keys.
    if atomic:
        return {db.WRITE_OPTION: write}
    return {db.WRITE_OPTION: write, "isolation_level": "AUTOCOMMIT"}


def _check_deadline(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise Busy()


class _Ticket:
    """A queued unit's place in line: it either starts or is abandoned, never both."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = "queued"

    def start(self) -> bool:
        """On the database thread: False when the caller gave up waiting."""
        with self._lock:
            if self._state == "abandoned":
                return False
            self._state = "started"
            return True

    def abandon(self) -> bool:
        """On the event loop: True when the unit had not started (and now never will)."""
        with self._lock:
            if self._state == "started":
                return False
            self._state = "abandoned"
            return True


def _settle(outcome: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    # On the event loop. A caller that gave up (Busy at its deadline, or cancelled) has its
    # outcome already: what the thread reports afterwards is dropped.
    if outcome.done():
        return
    if error is None:
        outcome.set_result(result)
    else:
        outcome.set_exception(error)


# What the thread is handed for one unit: the work, whether it writes, its deadline, its place
# in line, and where to report (the caller's loop and future).
_Job = tuple[Callable[[Session], Any], bool, "float | None", _Ticket,
             asyncio.AbstractEventLoop, "asyncio.Future[Any]"]
# Housekeeping for the thread's own connection (a WAL checkpoint), run between units.
_Chore = Callable[[Engine], None]


# The page cache of this thread's connection. SQLite's default, 2 MiB, is smaller than what
# one sweep batch touches: planning reads a batch of contacts scattered over the table and
# then moves their `plan_at`, and with the default cache the second statement read every page
# again (docs/performance.md, session 9). At most 16 MiB, held by one connection.
_PAGE_CACHE_KIB = 16 * 1024


class _SqliteThread:
    """One thread, one synchronous SQLite connection: a unit of work is one hop.

    The hop is a queue and a future rather than an executor: handing a unit over and getting
    its result back is most of what a short unit costs on the event loop, and a deadline is
    a timer on the loop instead of a task wrapping the wait."""

    def __init__(self, engine: AsyncEngine) -> None:
        url = engine.url.set(drivername="sqlite")
        self.engine: Engine = create_engine(url, poolclass=QueuePool, pool_size=1,
                                            max_overflow=0, connect_args={"timeout": 30,
                                                                          "check_same_thread":
                                                                          True})
        db.configure_sqlite(self.engine, page_cache_kib=_PAGE_CACHE_KIB, temp_in_memory=True)
        self._jobs: queue.SimpleQueue[_Job | _Chore | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name="rapport-sqlite", daemon=True)
        self.thread.start()
        # Units waiting for (or running on) the thread: a cheap measure of how busy it is.
        self.queued = 0
        self.closed = False

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            if isinstance(job, tuple):
                self._run_one(*job)
            else:
                self._do_chore(job)
            # Nothing of a finished unit (its result, an exception's frames) stays alive
            # while the thread waits for the next one.
            del job
        # The connection belongs to this thread: it is closed here.
        self.engine.dispose()

    def _do_chore(self, chore: _Chore) -> None:
        try:
            chore(self.engine)
        except Exception as failure:  # housekeeping must never stop the thread
            logger.warning("sqlite housekeeping failed", extra={"error": type(failure).__name__})

    def add_chore(self, chore: _Chore) -> None:
        """Run `chore` on the thread's own connection after the units queued before it."""
        self._jobs.put(chore)

    def _run_one(self, work: Callable[[Session], Any], write: bool, deadline: float | None,
                 ticket: _Ticket, loop: asyncio.AbstractEventLoop,
                 outcome: asyncio.Future[Any]) -> None:
        result: Any = None
        error: BaseException | None = None
        try:
            result = self._unit(work, write, deadline, ticket)
        except BaseException as failure:  # the caller's to handle
            error = failure
        try:
            loop.call_soon_threadsafe(_settle, outcome, result, error)
        except RuntimeError:
            pass  # the caller's loop is closed: nobody is waiting any more

    def _unit(self, work: Callable[[Session], T], write: bool, deadline: float | None,
              ticket: _Ticket) -> T:
        if not ticket.start():
            raise Busy()
        _check_deadline(deadline)
        with Session(self.engine, expire_on_commit=False) as session:
            connection = session.connection(execution_options=_options(write))
            prepared.attach_driver(session, connection)
            if not write:
                try:
                    return work(session)
                finally:
                    session.rollback()
            result = work(session)
            session.commit()
            return result

    async def run(self, work: Callable[[Session], T], write: bool,
                  deadline: float | None) -> T:
        if self.closed:
            # Queued behind the stop mark, the unit would wait for ever.
            raise DatabaseClosed()
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[T] = loop.create_future()
        ticket = _Ticket()
        self.queued += 1
        self._jobs.put((work, write, deadline, ticket, loop, outcome))
        timer = None
        if deadline is not None:
            def give_up() -> None:
                # Waiting is bounded on the event loop, not on the thread: a unit queued
                # behind a long line answers Busy at its deadline instead of when its turn
                # comes (by then the answer would be too late to reach anyone). A unit that
                # started in time runs to its end, and its outcome stands.
                if not outcome.done() and ticket.abandon():
                    outcome.set_exception(Busy())

            timer = loop.call_later(max(0.0, deadline - time.monotonic()), give_up)
        try:
            return await outcome
        except asyncio.CancelledError:
            ticket.abandon()  # a caller that went away before its unit started: never run it
            raise
        finally:
            self.queued -= 1
            if timer is not None:
                timer.cancel()

    def close(self) -> None:
        """Stop the thread after the units already queued; it closes the connection."""
        self._jobs.put(None)

    async def finish(self) -> None:
        """Run the units already queued, fold the WAL into the database file, close the
        connection and wait until the thread has stopped."""
        self.closed = True
        self._jobs.put(_checkpoint_truncate)
        self._jobs.put(None)
        await asyncio.to_thread(self.thread.join)


# One SQLite thread per async engine, shared by every Database built on it; it stops when the
# engine is garbage-collected. The engine's finalizer runs wherever the collector happens to
# run (inside another library's lock, say), so it only puts a stop mark on the thread's queue:
# SimpleQueue.put is documented safe there.
_SQLITE_THREADS: weakref.WeakKeyDictionary[AsyncEngine, _SqliteThread] = \
    weakref.WeakKeyDictionary()


def _sqlite_thread(engine: AsyncEngine) -> _SqliteThread | None:
    if not db.is_sqlite(engine) or not db.is_file_database(str(engine.url)):
        return None
    thread = _SQLITE_THREADS.get(engine)
    if thread is None:
        thread = _SQLITE_THREADS[engine] = _SqliteThread(engine)
        weakref.finalize(engine, thread.close)
    return thread


# An inline connection never checkpoints the WAL itself; after this many of its commits the
# database thread is asked to (SQLite's own default is every 1,000 pages written, and a
# command's commit writes a handful).
CHECKPOINT_EVERY_COMMITS = 100


def _checkpoint(engine: Engine) -> None:
    # PASSIVE: copies what it can without waiting for readers or the writer, so the inline
    # connection is never locked out by it.
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        driver.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        raw.close()


def _checkpoint_truncate(engine: Engine) -> None:
    # At shutdown, with every other connection of this process closed: the whole WAL is
    # copied into the database file and the WAL emptied, so the file alone is a complete
    # database (a copy of it is a backup). SQLite answers busy=1 when another process still
    # reads or writes; the WAL then stays, and is folded in by whoever opens it next.
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        busy, _log_pages, _moved = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        raw.close()
    if busy:
        logger.info("sqlite WAL left for the next start: another process has the database open")


def _is_locked(error: BaseException) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (extended codes included), raw or as SQLAlchemy wraps it."""
    original = getattr(error, "orig", error)
    code = getattr(original, "sqlite_errorcode", None)
    return isinstance(original, sqlite3.OperationalError) and code is not None \
        and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class _InlineSqlite:
    """A second synchronous connection, used on the event loop's own thread for units someone
    is waiting on. It never waits for a lock (busy timeout 0): a unit that finds the database
    locked is rolled back untouched and handed to the database thread instead.

    The unit's transaction is begun and ended on the `sqlite3` connection itself, and one
    session, kept with the connection, serves every unit: on the command path a short unit
    runs prepared statements only, and the ORM session's own begin and commit cost about as
    much Python as the unit's statements. Work that does use the session (an ORM query, an
    `add`) joins the transaction already begun (`db.configure_sqlite` then issues no BEGIN),
    and the session commits or rolls it back and is emptied, so nothing loaded in one unit
    is seen by the next."""

    def __init__(self, engine: AsyncEngine, thread: _SqliteThread) -> None:
        url = engine.url.set(drivername="sqlite")
        # Whichever thread runs an event loop may use it, one unit at a time (`_in_use`): a
        # test suite runs loops one after another, on more than one thread.
        self.engine: Engine = create_engine(url, poolclass=QueuePool, pool_size=1,
                                            max_overflow=0, connect_args={
                                                "timeout": 0, "check_same_thread": False})
        # Grouped commands each take a savepoint here too: its journal stays in memory.
        db.configure_sqlite(self.engine, wait_for_locks=False, temp_in_memory=True)
        # Kept open between units: checking a connection out of the pool and back in cost
        # about as much as a short unit's own statements.
        self._connection: Connection | None = None
        self._session: Session | None = None
        self._raw: sqlite3.Connection | None = None
        self._thread = thread
        self._in_use = threading.Lock()
        self._commits_since_checkpoint = 0
        # Units that found the database locked and went to the thread (tests read it).
        self.handed_over = 0
        self.closed = False

    def _open(self) -> tuple[Session, sqlite3.Connection]:
        if self._connection is None or self._connection.invalidated \
                or self._session is None or self._raw is None:
            self._discard()
            self._connection = self.engine.connect()
            self._session = Session(bind=self._connection, expire_on_commit=False)
            prepared.attach_driver(self._session, self._connection)
            raw = self._connection.connection.driver_connection
            assert isinstance(raw, sqlite3.Connection)
            self._raw = raw
        return self._session, self._raw

    def _discard(self) -> None:
        """Close the connection and its session (closing rolls back whatever was open). A
        connection thrown away in doubt may fail to close: the failure that led here is the
        one worth reporting, so that one is not masked."""
        session, connection = self._session, self._connection
        self._session, self._connection, self._raw = None, None, None
        with contextlib.suppress(Exception):
            if session is not None:
                session.close()
        with contextlib.suppress(Exception):
            if connection is not None:
                connection.close()

    def try_run(self, work: Callable[[Session], Any], write: bool,
                deadline: float | None) -> tuple[bool, Any]:
        """(True, the unit's result), or (False, None) when it was not run here."""
        if self.closed or not self._in_use.acquire(blocking=False):
            return False, None
        try:
            _check_deadline(deadline)
            session, raw = self._open()
            try:
                # A write takes its lock here, before any work (BEGIN IMMEDIATE).
                raw.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                result = self._unit(session, raw, work, write)
            except Exception as failure:
                # Locked out at BEGIN, nothing was done; a read in WAL mode is locked out
                # only in rare moments (the WAL being reset), and `_unit` rolled it back.
                # Either way the thread runs the whole unit instead.
                if not _is_locked(failure):
                    raise
                self.handed_over += 1
                return False, None
        finally:
            self._in_use.release()
        if write:
            self._commits_since_checkpoint += 1
            if self._commits_since_checkpoint >= CHECKPOINT_EVERY_COMMITS:
                self._commits_since_checkpoint = 0
                self._thread.add_chore(_checkpoint)
        return True, result

    def _unit(self, session: Session, raw: sqlite3.Connection,
              work: Callable[[Session], Any], write: bool) -> Any:
        """Run `work` in the transaction begun on `raw`; commit it (a write) or roll it back.
        However it ends, the connection is left with no transaction and the session empty,
        or is discarded."""
        ended = False
        try:
            result = work(session)
            if session.in_transaction():  # the session joined: it ends the transaction
                if write:
                    session.commit()
                else:
                    session.rollback()
            else:
                raw.execute("COMMIT" if write else "ROLLBACK")
            ended = True
            return result
        finally:
            try:
                if not ended:
                    if session.in_transaction():
                        session.rollback()
                    if raw.in_transaction:
                        raw.execute("ROLLBACK")
                if session.identity_map:
                    session.expunge_all()
            except Exception:
                # The connection is in doubt: never carry it into the next unit.
                self._discard()
                raise

    def close(self) -> None:
        self.closed = True
        self._discard()
        self.engine.dispose()


_INLINE: weakref.WeakKeyDictionary[AsyncEngine, _InlineSqlite] = weakref.WeakKeyDictionary()


def _inline_sqlite(engine: AsyncEngine, thread: _SqliteThread) -> _InlineSqlite:
    inline = _INLINE.get(engine)
    if inline is None:
        inline = _INLINE[engine] = _InlineSqlite(engine, thread)
        weakref.finalize(engine, inline.close)
    return inline


async def close_database(engine: AsyncEngine) -> None:
    """Close `engine` and every connection this module opened on it (at shutdown).

    On a SQLite file the async engine's connections close first, then the event loop's own
    connection, then the database thread checkpoints the WAL into the database file (TRUNCATE)
    and closes the last connection: after a clean stop the `.db` file alone holds everything.
    Left to the engine's finalizer, the thread was stopped (or killed with the process) without
    a checkpoint, and the file alone could hold nothing at all.
    """
    await engine.dispose()
    inline = _INLINE.pop(engine, None)
    if inline is not None:
        inline.close()
    thread = _SQLITE_THREADS.pop(engine, None)
    if thread is not None:
        await thread.finish()


# Connection slots per engine and event loop (an asyncio primitive belongs to one loop).
_SLOTS: weakref.WeakKeyDictionary[
    AsyncEngine, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]] = \
    weakref.WeakKeyDictionary()


def _slots(engine: AsyncEngine | None) -> asyncio.Semaphore | None:
    capacity = db.POOL_CAPACITY.get(engine) if engine is not None else None
    if engine is None or capacity is None:
        return None
    by_loop = _SLOTS.setdefault(engine, weakref.WeakKeyDictionary())
    loop = asyncio.get_running_loop()
    slots = by_loop.get(loop)
    if slots is None:
        slots = by_loop[loop] = asyncio.Semaphore(capacity)
    return slots


class Database:
    """Runs units of work on the application's database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        bind: Any = sessions.kw.get("bind")
        self._engine: AsyncEngine | None = bind if isinstance(bind, AsyncEngine) else None
        self._thread = _sqlite_thread(bind) if self._engine is not None else None
        self._inline = _inline_sqlite(bind, self._thread) if self._thread is not None else None
        # PostgreSQL's READ COMMITTED (its default, which Rapport keeps) gives every
        # statement of a transaction a snapshot of its own: a read-only unit reads the same
        # without BEGIN and ROLLBACK, two round trips fewer (a Home view: one instead of
        # three).
        self._reads_need_no_transaction = self._engine is not None \
            and self._engine.dialect.name == "postgresql"

    @property
    def runs_inline(self) -> bool:
        """Whether units with a deadline run on the event loop's own SQLite connection: then
        several callers' writes sharing one transaction (`Grouped`) share its commit, the
        larger part of a small write's cost there."""
        return self._inline is not None

    @property
    def queued(self) -> int:
        """Units waiting for the SQLite thread (0 on PostgreSQL, where the pool queues)."""
        return self._thread.queued if self._thread is not None else 0

    async def run(self, work: Callable[[Session], T], *, write: bool = True,
                  deadline: float | None = None, atomic: bool = True,
                  short: bool = False) -> T:
        """Run `work` in one transaction and return what it returned.

        `write=False` marks read-only work: it runs under a plain BEGIN and is rolled back;
        on PostgreSQL it runs with no transaction at all (see `_reads_need_no_transaction`).
        `deadline` (a `time.monotonic()` moment): if the unit cannot start by then, `Busy`.
        Someone is waiting on a unit with a deadline: on a SQLite file it runs on the event
        loop's own thread unless the database is locked (see the module's docstring).
        `atomic=False` is for work that is one statement (or statements each safe on its
        own): on PostgreSQL each statement then commits as it runs, with no BEGIN and COMMIT
        round trips around it; on SQLite the unit is a transaction all the same.
        `short=True` is for a unit of a few indexed statements that a caller makes many of
        in a row (a sweep's waves) or that a command waits for (the acting user's rows): on
        a SQLite file it runs on the event loop's own thread as a unit with a deadline does,
        since handing such a unit to the database thread and back costs more than the unit,
        and a write there would lock out the commands running on the loop; when the database
        is locked it goes to the thread.
        """
        if self._thread is not None:
            if (deadline is not None or short) and self._inline is not None:
                ran, result = self._inline.try_run(work, write, deadline)
                if ran:
                    return cast(T, result)
            return await self._thread.run(work, write, deadline)
        if not write and self._reads_need_no_transaction:
            atomic = False
        slots = _slots(self._engine)
        if slots is None:
            return await self._run_with_retry(work, write, deadline, atomic)
        # A free connection is waited for here, not in the pool: a wait bounded by the
        # deadline can give up safely (a cancelled pool checkout cannot).
        if deadline is None:
            await slots.acquire()
        else:
            try:
                await asyncio.wait_for(slots.acquire(),
                                       timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise Busy() from None
        try:
            return await self._run_with_retry(work, write, deadline, atomic)
        finally:
            slots.release()

    async def _run_with_retry(self, work: Callable[[Session], T], write: bool,
                              deadline: float | None, atomic: bool = True) -> T:
        for attempt in (1, 2):
            try:
                return await self._run_async(work, write, deadline, atomic)
            except _BeforeCommit as failure:
                if _timed_out(failure.error):
                    raise _as_timeout(failure.error) from failure.error
                # A connection that died before anything was committed (a recycled server
                # connection, a failover): the whole unit runs once more on a fresh one.
                if attempt == 2 or not failure.error.connection_invalidated:
                    raise failure.error from None
                logger.warning("database connection lost, unit retried")
            except DBAPIError as error:
                # At the commit: a timed-out COMMIT committed nothing either.
                if _timed_out(error):
                    raise _as_timeout(error) from error
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _run_async(self, work: Callable[[Session], T], write: bool,
                         deadline: float | None, atomic: bool = True) -> T:
        options = _options(write, atomic)
        connect_by = self._connect_by(deadline)

        def whole_unit(session: Session) -> T:
            # The whole unit in one greenlet: checkout, work, commit and close. Awaiting each
            # of the async session's methods instead started a greenlet for each (four or five
            # per unit), a third or more of a one-statement unit's CPU on PostgreSQL.
            try:
                try:
                    session.connection(execution_options=options)
                except TimeoutError:
                    if connect_by is None:
                        raise
                    # The connect gave up at the deadline: the unit never started.
                    raise Busy() from None
                _check_deadline(deadline)
                try:
                    result = work(session)
                except DBAPIError as error:
                    session.rollback()
                    raise _BeforeCommit(error) from error
                if write:
                    session.commit()
                else:
                    session.rollback()
                return result
            finally:
                session.close()

        if connect_by is None:
            return await self.sessions().run_sync(whole_unit)
        with db.connecting_by(connect_by):
            return await self.sessions().run_sync(whole_unit)

    def _connect_by(self, deadline: float | None) -> float | None:
        """The deadline, when it comes before a connection opened now would give up on its
        own: a unit someone waits on must not wait past it for a new connection (a database
        that accepts and never answers held a Slack command for a minute)."""
        if deadline is None or self._engine is None:
            return None
        timeout = db.CONNECT_TIMEOUTS.get(self._engine)
        if timeout is None or deadline >= time.monotonic() + timeout:
            return None
        return deadline


class _BeforeCommit(Exception):
    """A driver error raised by the work itself, before any commit (safe to retry)."""

    def __init__(self, error: DBAPIError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(slots=True)
class _GroupedWork:
    work: Callable[[Session], Any]
    deadline: float | None
    outcome: asyncio.Future[Any]


@contextlib.contextmanager
def _savepoint(session: Session) -> Iterator[None]:
    """One caller's work in a savepoint of the unit's transaction, rolled back alone when it
    raises. On a unit's own `sqlite3` connection the savepoint is the driver's: SQLAlchemy's
    `begin_nested` on a session that has not used its connection yet (an inline unit whose
    statements all go to the driver) emits no SAVEPOINT, and its commit then commits nothing."""
    raw = prepared.sqlite_connection(session)
    if raw is None:
        with session.begin_nested():
            yield
        return
    raw.execute("SAVEPOINT grouped_work")
    try:
        yield
        # ORM changes still pending belong to this caller's savepoint, not to whoever
        # flushes next.
        session.flush()
    except BaseException:
        raw.execute("ROLLBACK TO grouped_work")
        raw.execute("RELEASE grouped_work")
        raise
    else:
        raw.execute("RELEASE grouped_work")
    finally:
        # The next caller (another person's command) reads rows as they are now, never an
        # object this one loaded, which may hold what was rolled back or changed since.
        if session.identity_map:
            session.expunge_all()


class Grouped:
    """Units of work from many callers that may share one transaction: whatever is waiting
    when the database is free runs as one unit (one hop, one commit), each caller's work in a
    savepoint of its own, so the one that fails is rolled back alone and hears its exception.

    For work whose units are many and small (a calendar page each, the replay guard's claim
    of one signature), where the commit and the hop cost as much as the work; each caller
    still waits for the commit that makes its work durable. `limit` bounds how many units one
    transaction takes. `savepoints=False` is for work that cannot fail alone (a single
    INSERT ... ON CONFLICT DO NOTHING): no savepoint statements around each, and a failure
    rolls back the whole group, whose callers all hear it. `atomic=False` (with
    `savepoints=False`) is for work that is one statement each, which may stand alone: on
    PostgreSQL each then commits as it runs, with no BEGIN and COMMIT around the group (a
    failure then leaves what was written before it, and every caller hears it).

    A caller's `deadline` works as `Database.run`'s: a group that cannot start by its
    earliest deadline answers `Busy` to the callers whose deadline has passed, and the others
    go first in the next group.
    """

    def __init__(self, database: Database, *, limit: int = 16, savepoints: bool = True,
                 atomic: bool = True) -> None:
        if not atomic and savepoints:
            raise ValueError("savepoints need a transaction")
        self.database = database
        self.limit = limit
        self.savepoints = savepoints
        self.atomic = atomic
        self._waiting: list[_GroupedWork] = []
        self._drain: asyncio.Task[None] | None = None

    async def run(self, work: Callable[[Session], T], *, deadline: float | None = None) -> T:
        """Run `work` in a transaction shared with whatever else is waiting; its result."""
        outcome: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append(_GroupedWork(work, deadline, outcome))
        if self._drain is None or self._drain.done():
            # A task of its own, so no caller's coroutine is held up writing the others'.
            self._drain = asyncio.create_task(self._drain_waiting())
        return await outcome

    async def _drain_waiting(self) -> None:
        try:
            while self._waiting:
                # A caller that stopped waiting (cancelled) has nothing written for it.
                waiting = [item for item in self._waiting if not item.outcome.done()]
                batch, self._waiting = waiting[:self.limit], waiting[self.limit:]
                if batch:
                    await self._run(batch)
        finally:
            # Cancelled mid-way (shutdown): nobody is left waiting for ever.
            for item in self._waiting:
                if not item.outcome.done():
                    item.outcome.cancel()
            self._waiting = []

    def _each(self, session: Session, work: Callable[[Session], Any]) -> tuple[bool, Any]:
        if not self.savepoints:
            return True, work(session)
        try:
            with _savepoint(session):
                return True, work(session)
        except DBAPIError as error:
            if error.connection_invalidated or _is_locked(error):
                # The connection died (the whole unit runs again on a new one), or an inline
                # unit found the database locked (it goes to the database thread).
                raise
            # Rolled back to its savepoint alone: the others' work stands.
            return False, _as_timeout(error) if _timed_out(error) else error
        except Exception as error:  # this caller's failure, rolled back alone
            return False, error

    @staticmethod
    def _fail(batch: list[_GroupedWork], error: BaseException) -> None:
        """Nothing was committed: every caller in the batch hears why (cancelled at
        shutdown: cancelled)."""
        for item in batch:
            if item.outcome.done():
                continue
            if isinstance(error, Exception):
                item.outcome.set_exception(error)
            else:
                item.outcome.cancel()

    async def _run(self, batch: list[_GroupedWork]) -> None:
        def unit(session: Session) -> list[tuple[bool, Any]]:
            if len(batch) == 1 and self.atomic:
                # Alone in its transaction: no savepoint, and a failure rolls it all back.
                return [(True, batch[0].work(session))]
            return [self._each(session, item.work) for item in batch]

        deadlines = [item.deadline for item in batch if item.deadline is not None]
        try:
            outcomes = await self.database.run(unit, deadline=min(deadlines, default=None),
                                               atomic=self.atomic)
        except Busy as busy:
            if isinstance(busy, StatementTimeout):
                # The group ran and was rolled back: run again, it would wait as long again.
                self._fail(batch, busy)
                return
            now = time.monotonic()
            again: list[_GroupedWork] = []
            for item in batch:
                if item.deadline is None or item.deadline > now:
                    again.append(item)
                elif not item.outcome.done():
                    item.outcome.set_exception(Busy())
            self._waiting = again + self._waiting
            return
        except BaseException as error:
            self._fail(batch, error)
            if not isinstance(error, Exception):
                raise
            return
        for item, (ok, value) in zip(batch, outcomes, strict=True):
            if item.outcome.done():
                continue
            if ok:
                item.outcome.set_result(value)
            else:
                item.outcome.set_exception(value)
