"""Engine and session setup for SQLite (default) and PostgreSQL, and schema upgrades."""

from __future__ import annotations

import contextlib
import logging
import re
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


async def again_on_a_dropped_connection(ask: Callable[[], Awaitable[T]], what: str) -> T:
    """`ask()`, once more when it met a pooled connection the server (or a proxy in front of
    it) had dropped: after a failover or a restart every connection the pool kept is, and
    the first found dead has the pool replace the rest (SQLAlchemy's pool invalidation), so
    the second try runs on a fresh one and only its failure says the database is away.
    (A unit of work does the same itself: rapport.storage.uow.)"""
    try:
        return await ask()
    except DBAPIError as failure:
        if not failure.connection_invalidated:
            raise
    logger.info("a dead pooled connection; asked again", extra={"what": what})
    return await ask()

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./rapport.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Execution option a unit of work sets on its connection: False means it only reads, so on
# SQLite it begins with a plain BEGIN instead of taking the write lock.
WRITE_OPTION = "rapport_writes"
# How many units of work may use an engine made here at once: as many as its pool keeps open.
# The others queue for a slot on the event loop, where a deadline can bound the wait, instead
# of opening overflow connections that the pool closes again on return (under a burst, a
# connection opened and closed for every other command). The overflow stays for the
# scheduler's jobs and /readyz, which use sessions of their own.
POOL_CAPACITY: weakref.WeakKeyDictionary[AsyncEngine, int] = weakref.WeakKeyDictionary()
# How long opening a PostgreSQL connection may take (asyncpg's own default is 60 s): a
# database that accepts connections but never answers (a hung server, a proxy whose backend
# is gone) then costs /readyz, a job or a command this long, not a minute.
CONNECT_TIMEOUT_SECONDS = 5.0
# How long a checkout waits for a pooled connection while all of them are in use
# (SQLAlchemy's default is 30 s). Units of work queue for a slot before that
# (rapport.storage.uow), so this bounds the scheduler's jobs and /readyz.
POOL_TIMEOUT_SECONDS = 10.0
# Each PostgreSQL engine's connect timeout, for units that must be bounded more tightly.
CONNECT_TIMEOUTS: weakref.WeakKeyDictionary[AsyncEngine, float] = weakref.WeakKeyDictionary()
# How long one PostgreSQL statement of a command may run, a wait for a lock included
# (RAPPORT_DATABASE_STATEMENT_TIMEOUT_SECONDS; 0: no limit). Without it a command blocked by
# another transaction's lock, or a runaway query, never answered and kept its pooled
# connection as long; now it stops, is rolled back, and the person hears "busy".
STATEMENT_TIMEOUT_SECONDS = 5.0
# The same for the scheduler's jobs (`background_work`;
# RAPPORT_DATABASE_JOB_STATEMENT_TIMEOUT_SECONDS): retention's bulk updates or a sweep after
# downtime may rightly take longer than a command, but not for ever (the job runs one at a
# time: a hung statement would stop it for good). Their lock waits keep the commands' bound,
# so a job never queues long for rows and holds up the commands queued behind it.
# Migrations have no bound (see `upgrade`).
JOB_STATEMENT_TIMEOUT_SECONDS = 300.0
# Set in a task doing background work (the scheduler's jobs): its statements get the jobs'
# timeout instead of the commands'.
_BACKGROUND: ContextVar[bool] = ContextVar("rapport_background_work", default=False)
# Where a pooled connection remembers the statement timeout it was last given (milliseconds).
_TIMEOUT_KEY = "rapport_statement_timeout_ms"
# The moment (time.monotonic()) by which a connection opened in this context must be open,
# instead of the engine's connect timeout; see `connecting_by`.
_CONNECT_BY: ContextVar[float | None] = ContextVar("rapport_connect_by", default=None)


@contextlib.contextmanager
def connecting_by(moment: float) -> Iterator[None]:
    """Connections a PostgreSQL engine opens inside this block (the pool's, for this task)
    give up at `moment`, a time.monotonic() moment, rather than after the engine's connect
    timeout: sooner for a unit someone waits on, later for the start, which may wait for a
    database that is still coming up."""
    token = _CONNECT_BY.set(moment)
    try:
        yield
    finally:
        _CONNECT_BY.reset(token)


def _bound_connects(engine: Engine) -> None:
    # The pool opens connections inside the unit's own greenlet, which shares its task's
    # context: the moment set by `connecting_by` is seen here.
    @event.listens_for(engine, "do_connect")
    def _on_connect(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        moment = _CONNECT_BY.get()
        if moment is not None:
            cparams["timeout"] = max(0.0, moment - time.monotonic())


@contextlib.contextmanager
def background_work() -> Iterator[None]:
    """PostgreSQL statements run inside this block (and in tasks it starts) are bounded by
    the jobs' statement timeout rather than the commands'."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


def _milliseconds(seconds: float) -> int:
    # 0 is PostgreSQL's "no limit"; any other bound is at least a millisecond.
    return max(1, round(seconds * 1000)) if seconds > 0 else 0


def _bound_statements(engine: Engine, *, command_seconds: float, job_seconds: float,
                      connect_seconds: float) -> None:
    """Every connection gets the commands' statement and lock timeouts when it opens; one
    handed to background work (`background_work`) gets the jobs' statement timeout, and back
    to the commands' when a command next takes it. Each change is one SET, made only when a
    connection changes hands between the two."""
    command_ms, job_ms = _milliseconds(command_seconds), _milliseconds(job_seconds)

    def wanted() -> int:
        return job_ms if _BACKGROUND.get() else command_ms

    def set_timeout(dbapi_connection: Any, sql: str) -> None:
        # On the driver itself, outside SQLAlchemy's transaction: a plain SET lasts for the
        # session, whatever the unit then does. Bounded, so a server that stops answering
        # here fails the checkout instead of hanging it.
        try:
            dbapi_connection.run_async(
                lambda driver: driver.execute(sql, timeout=connect_seconds))
        except OSError:
            raise  # a timeout, a reset socket: the database trouble callers know
        except Exception as failure:
            # The driver's own "connection closed" is no OSError: said as one, it reaches
            # callers as the database trouble it is, not as a traceback.
            raise ConnectionError(f"setting the statement timeout failed: {failure}"
                                  ) from failure

    # SET after connecting rather than asyncpg's server_settings: a connection pooler
    # (PgBouncer) refuses a startup packet with parameters it does not know.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        timeout = wanted()
        set_timeout(dbapi_connection, f"SET statement_timeout = {timeout}; "
                                      f"SET lock_timeout = {command_ms}")
        record.info[_TIMEOUT_KEY] = timeout

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        timeout = wanted()
        if record.info.get(_TIMEOUT_KEY) == timeout:
            return
        try:
            set_timeout(dbapi_connection, f"SET statement_timeout = {timeout}")
        except Exception as failure:
            # A connection that cannot take a SET is not one to run a unit on: the pool
            # opens another.
            raise DisconnectionError(str(failure)) from failure
        record.info[_TIMEOUT_KEY] = timeout


def is_sqlite(engine_or_url: AsyncEngine | str) -> bool:
    """True when the URL or engine points at SQLite."""
    url = engine_or_url if isinstance(engine_or_url, str) else str(engine_or_url.url)
    return url.startswith("sqlite")


def is_file_database(url: str) -> bool:
    """True for an SQLite URL naming a file (not an in-memory database)."""
    database = make_url(url).database
    return bool(database) and database != ":memory:" and "mode=memory" not in url


# Files SQLite keeps beside the database: the write-ahead log, its shared-memory index, and
# the rollback journal.
SQLITE_COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")


def sqlite_database_path(url: str) -> Path | None:
    """The file an SQLite URL names (a `file:` URI's path too); None for other databases."""
    if not is_sqlite(url) or not is_file_database(url):
        return None
    database = make_url(url).database or ""
    if database.startswith("file:"):
        database = database.removeprefix("file:").split("?", 1)[0]
    return Path(database).expanduser()


def is_database_file(path: Path, url: str) -> bool:
    """True when `path`, by any spelling or link, is the live SQLite database at `url` or one of
    its -wal/-shm/-journal files.

    Call it before opening a path a person typed: POSIX record locks belong to the process and
    the file, so closing *any* descriptor of the database in this process drops SQLite's locks,
    and another connection may then delete the WAL under us (and lose committed writes).
    Files are compared by device and inode, so symlinks, hard links and `..` are all caught.
    """
    database = sqlite_database_path(url)
    if database is None:
        return False
    try:
        target = path.expanduser().stat()
    except (OSError, ValueError):
        return False  # nothing there (or an unusable name): opening it will say why
    identity = (target.st_dev, target.st_ino)
    for candidate in (database, *(Path(f"{database}{suffix}")
                                  for suffix in SQLITE_COMPANION_SUFFIXES)):
        try:
            found = candidate.stat()
        except OSError:
            continue
        if (found.st_dev, found.st_ino) == identity:
            return True
    return False


def create_engine(url: str = DEFAULT_DATABASE_URL, *, pool_size: int = 10,
                  echo: bool = False,
                  connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
                  statement_timeout: float = STATEMENT_TIMEOUT_SECONDS,
                  job_statement_timeout: float = JOB_STATEMENT_TIMEOUT_SECONDS) -> AsyncEngine:
    """An async engine with the settings each backend needs; `connect_timeout` bounds
    opening a PostgreSQL connection, `statement_timeout` each statement of a command and
    `job_statement_timeout` each of background work (seconds, 0: no limit; PostgreSQL only,
    SQLite keeps its busy timeout)."""
    kwargs: dict[str, Any] = {"echo": echo}
    if is_sqlite(url):
        # A busy writer makes others wait instead of failing at once.
        kwargs["connect_args"] = {"timeout": 30}
        if is_file_database(url):
            # Every transaction starts with BEGIN IMMEDIATE (below), so only one runs at a time
            # anyway; one pooled connection makes the others queue on the event loop instead
            # of in SQLite's busy handler, which sleeps in steps of up to 100 ms.
            kwargs.update(pool_size=1, max_overflow=0, pool_timeout=60)
    else:
        # No ping on every checkout (a round trip per command): connections are recycled
        # before servers and proxies drop them, and a unit of work that meets a dead one
        # anyway runs again on a fresh one (rapport.storage.uow).
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800,
                      pool_timeout=POOL_TIMEOUT_SECONDS,
                      connect_args={"timeout": connect_timeout})
    engine = create_async_engine(url, **kwargs)
    if not is_sqlite(url):
        POOL_CAPACITY[engine] = pool_size
        CONNECT_TIMEOUTS[engine] = connect_timeout
        _bound_connects(engine.sync_engine)
        _bound_statements(engine.sync_engine, command_seconds=statement_timeout,
                          job_seconds=job_statement_timeout, connect_seconds=connect_timeout)
    if is_sqlite(url):
        configure_sqlite(engine.sync_engine)
    return engine


def configure_sqlite(engine: Engine, *, wait_for_locks: bool = True,
                     page_cache_kib: int | None = None, temp_in_memory: bool = False) -> None:
    """WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE for transactions that write.

    `wait_for_locks=False` is for a connection used on the event loop's own thread: a
    statement that finds the database locked fails at once (SQLITE_BUSY) instead of waiting,
    and the connection never checkpoints the WAL itself (a checkpoint writes the database
    file and syncs it, which would stop the loop); its owner has that done elsewhere.
    `page_cache_kib` sets the connection's page cache (SQLite's default is 2 MiB).
    `temp_in_memory` keeps the connection's temporary files in memory, savepoints' journals
    among them: a group of units (calendar pages on the database thread, commands on the
    event loop's connection) is one transaction with a savepoint each, and SQLite copied
    every page a savepoint changed to a temporary file first (three quarters of the calendar
    sync's writes; docs/performance.md, session 18)."""
    in_memory = not is_file_database(str(engine.url))
    busy_timeout_ms = 30000 if wait_for_locks else 0

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the sweep's writes; foreign keys make deletes cascade.
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        if not wait_for_locks:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        if page_cache_kib is not None:
            cursor.execute(f"PRAGMA cache_size=-{int(page_cache_kib)}")  # negative: KiB
        if temp_in_memory:
            cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()
        # Let SQLAlchemy's "begin" event below issue BEGIN instead of the driver.
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # pysqlite's deferred BEGIN lets two writers deadlock on lock upgrade; IMMEDIATE
        # serialises writers up front, which SQLite needs anyway. Work that only reads
        # says so and does not take the write lock.
        writes = connection.get_execution_options().get(WRITE_OPTION, True)
        driver = connection.connection.driver_connection
        if getattr(driver, "in_transaction", False):
            # Begun on the driver's connection already (a unit on the event loop's own
            # connection, rapport.storage.uow): the session joins that transaction.
            return
        # On the driver's own cursor: every unit of work pays for this statement, and going
        # through SQLAlchemy's execution machinery cost more than the BEGIN itself.
        cursor = connection.connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE" if writes else "BEGIN")
        finally:
            cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (rows are plain values to callers)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Any:
    """Alembic configuration pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


# The newest migration shipped with this code (tests/storage/test_migrations.py checks it
# against Alembic's script directory). Starting a process whose database is already there
# needs no Alembic at all: importing it (and its template engine) costs a good part of start-up.
SCHEMA_HEAD = "0028_draft_length"


async def schema_at_head(engine: AsyncEngine) -> bool:
    """True when the database records SCHEMA_HEAD (one small read, no Alembic import)."""
    try:
        async with engine.connect() as connection:
            found = (await connection.exec_driver_sql(
                "SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:
        return False  # no version table yet: a new database
    return list(found) == [SCHEMA_HEAD]


class SchemaProblem(Exception):
    """The schema cannot be brought to the revision asked for; ``str()`` says why, one line."""


class SchemaAheadOfCode(SchemaProblem):
    """The database records a revision this code does not ship: a newer version migrated it
    (an image rolled back after an upgrade). Nothing was changed."""

    def __init__(self, current: str, head: str) -> None:
        super().__init__(f"the database is at schema {current}, newer than this version's "
                         f"{head}")
        self.current = current
        self.head = head


# Alembic's relative targets ("+1", "-2", "head-1", "ae10+2"): only Alembic can resolve them.
_RELATIVE_REVISION = re.compile(r"[+-]\d+$")


def check_revision(revision: str) -> None:
    """Refuse a target revision this code does not ship, before anything connects."""
    if revision in ("head", "heads") or _RELATIVE_REVISION.search(revision):
        return
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        ScriptDirectory.from_config(alembic_config()).get_revisions(revision)
    except CommandError as unknown:
        raise SchemaProblem(_first_line(unknown)) from unknown


def _first_line(failure: BaseException) -> str:
    return (str(failure).strip().splitlines() or [type(failure).__name__])[0]


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to call on every start and from several replicas.

    Raises SchemaAheadOfCode when the database is at a revision this code does not know, and
    SchemaProblem when Alembic cannot reach `revision`; either way nothing is changed."""
    if revision == "head" and await schema_at_head(engine):
        logger.info("schema at head", extra={"revision": SCHEMA_HEAD})
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    config = alembic_config()

    def _run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # No statement or lock timeout for this transaction: a replica waits here for as
            # long as another's migration runs, and rewriting a big table or waiting for a
            # long reader's lock takes what it takes; the start is the one thing waiting.
            connection.exec_driver_sql("SELECT set_config('statement_timeout', '0', true), "
                                       "set_config('lock_timeout', '0', true)")
            # Replicas starting together take turns; the second finds the schema at head.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(72701001)")
        scripts = ScriptDirectory.from_config(config)
        for current in MigrationContext.configure(connection).get_current_heads():
            try:
                scripts.get_revision(current)
            except CommandError:
                # Alembic would answer with a traceback about a revision it cannot locate.
                raise SchemaAheadOfCode(current, scripts.get_current_head() or SCHEMA_HEAD
                                        ) from None
        config.attributes["connection"] = connection
        try:
            command.upgrade(config, revision)
        except CommandError as failure:
            raise SchemaProblem(_first_line(failure)) from failure
        # The revision reached, which the log names: "head" or "+1" says nothing of it.
        reached.extend(MigrationContext.configure(connection).get_current_heads())

    reached: list[str] = []
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    logger.info("schema upgraded", extra={"revision": ",".join(reached) or "base"})


async def current_revision(engine: AsyncEngine) -> str | None:
    """The schema revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    def _read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_read)


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
