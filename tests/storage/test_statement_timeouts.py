"""PostgreSQL statements are bounded: a command that waits for a lock another connection holds
(or runs away) answers "busy" instead of holding its pooled connection for ever.

Found reading the engine setup: nothing bounded a statement on PostgreSQL, so a command
blocked behind another transaction's row lock never answered, and its connection stayed
checked out as long as the lock did. Commands' statements now stop after
RAPPORT_DATABASE_STATEMENT_TIMEOUT_SECONDS (lock waits too); the scheduler's jobs get
RAPPORT_DATABASE_JOB_STATEMENT_TIMEOUT_SECONDS; migrations are not bounded (a replica waits
for another's migration, and rewriting a big table takes what it takes). SQLite keeps its
busy timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import Session

from rapport.bot.core.rapport import BUSY, Rapport
from rapport.bot.service.config import Settings
from rapport.bot.service.runtime import build_runtime
from rapport.scheduler.delivery import Sweeper
from rapport.scheduler.jobs import run_sweep, stops_quietly
from rapport.storage import db
from rapport.storage.models import Touchpoint, Workspace
from rapport.storage.uow import Database, Grouped, StatementTimeout
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say, truncate_all

# Hang guard only: without a statement timeout the blocked command waits for ever.
HANG_GUARD_SECONDS = 30
COMMAND_TIMEOUT = 0.5
JOB_TIMEOUT = 30.0
# Longer than COMMAND_TIMEOUT, shorter than JOB_TIMEOUT.
SLOW_STATEMENT = "SELECT 1 FROM pg_sleep(1.5)"


@pytest.fixture
async def bounded(postgres_ready: str) -> AsyncIterator[AsyncEngine]:
    """The test database behind one pooled connection whose statements are bounded tightly."""
    engine = db.create_engine(postgres_ready, pool_size=1, statement_timeout=COMMAND_TIMEOUT,
                              job_statement_timeout=JOB_TIMEOUT)
    await truncate_all(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def other_connection(postgres_ready: str) -> AsyncIterator[AsyncConnection]:
    """Another client's connection, with no bound of its own (it holds the locks)."""
    engine = db.create_engine(postgres_ready, pool_size=1, statement_timeout=0)
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


def _timeouts_seen(engine: AsyncEngine) -> list[str]:
    """The statement timeout of each connection `engine` hands out, as the server has it."""
    seen: list[str] = []

    # Registered after the engine's own listeners: it sees what they set.
    @event.listens_for(engine.sync_engine, "checkout")
    def record(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        seen.append(dbapi_connection.run_async(
            lambda driver: driver.fetchval("SHOW statement_timeout")))

    return seen


async def _backend(database: Database) -> int:
    return int(await database.run(lambda session: session.execute(
        text("SELECT pg_backend_pid()")).scalar_one(), write=False))


async def _touchpoints(database: Database) -> int:
    return int(await database.run(lambda session: session.execute(
        select(func.count()).select_from(Touchpoint)).scalar_one(), write=False))


@contextlib.asynccontextmanager
async def _guarded() -> AsyncIterator[None]:
    async with asyncio.timeout(HANG_GUARD_SECONDS):
        yield


@pytest.mark.postgres
async def test_a_command_blocked_by_a_row_lock_answers_busy_and_its_connection_serves_on(
        bounded: AsyncEngine, other_connection: AsyncConnection, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(bounded), clock=clock)
    await say(rapport, "add Dana Scully every week")
    backend = await _backend(rapport.db)
    # Another client holds Dana's row (an admin's UPDATE left open, a long job).
    await other_connection.execute(text("UPDATE contacts SET name = name"))
    async with _guarded():
        reply = await rapport.handle_text(console_user(), "log Dana")
    assert not reply.ok and reply.text == BUSY
    await other_connection.rollback()
    # Nothing of the refused command was kept, and the same connection answers the next one.
    assert await _touchpoints(rapport.db) == 0
    await say(rapport, "log Dana")
    assert await _touchpoints(rapport.db) == 1
    assert await _backend(rapport.db) == backend


@pytest.mark.postgres
async def test_a_read_blocked_by_a_table_lock_answers_busy(
        bounded: AsyncEngine, other_connection: AsyncConnection, clock: Clock) -> None:
    """Reads run without a transaction on PostgreSQL: they are bounded all the same."""
    rapport = Rapport(sessions=db.session_factory(bounded), clock=clock)
    await say(rapport, "add Dana Scully every week")
    await other_connection.execute(text("LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE"))
    async with _guarded():
        reply = await rapport.handle_text(console_user(), "due")
    assert not reply.ok and reply.text == BUSY
    await other_connection.rollback()
    assert (await rapport.handle_text(console_user(), "due")).ok


@pytest.mark.postgres
async def test_a_runaway_statement_is_stopped_and_rolled_back(bounded: AsyncEngine) -> None:
    database = Database(db.session_factory(bounded))

    def write_then_hang(session: Session) -> None:
        session.execute(insert(Workspace).values(
            platform="console", external_id="runaway", name="runaway", ai_enabled=True,
            disclosure_policy="optional", active=True, created_at=func.now()))
        session.execute(text(SLOW_STATEMENT))

    async with _guarded():
        with pytest.raises(StatementTimeout):
            await database.run(write_then_hang)
    assert await database.run(lambda session: session.execute(
        select(func.count()).select_from(Workspace)).scalar_one(), write=False) == 0


@pytest.mark.postgres
async def test_one_timed_out_caller_in_a_group_is_told_and_the_others_are_kept(
        bounded: AsyncEngine) -> None:
    database = Database(db.session_factory(bounded))
    grouped = Grouped(database)

    def add(name: str) -> Callable[[Session], str]:
        def work(session: Session) -> str:
            session.execute(insert(Workspace).values(
                platform="console", external_id=name, name=name, ai_enabled=True,
                disclosure_policy="optional", active=True, created_at=func.now()))
            return name
        return work

    def hang(session: Session) -> None:
        session.execute(text(SLOW_STATEMENT))

    async with _guarded():
        outcomes = await asyncio.gather(grouped.run(add("before")), grouped.run(hang),
                                        grouped.run(add("after")), return_exceptions=True)
    assert outcomes[0] == "before" and outcomes[2] == "after"
    assert isinstance(outcomes[1], StatementTimeout)
    assert sorted(await database.run(lambda session: session.execute(
        select(Workspace.external_id)).scalars().all(), write=False)) == ["after", "before"]


@pytest.mark.postgres
async def test_a_timed_out_group_without_savepoints_is_not_run_again(
        bounded: AsyncEngine) -> None:
    """Busy sends a group back in line; a statement that timed out would only time out
    again, so its callers hear it once."""
    runs: list[int] = []

    def hang(session: Session) -> None:
        runs.append(1)
        session.execute(text(SLOW_STATEMENT))

    grouped = Grouped(Database(db.session_factory(bounded)), savepoints=False, atomic=False)
    async with _guarded():
        with pytest.raises(StatementTimeout):
            await grouped.run(hang)
    assert runs == [1]


@pytest.mark.postgres
async def test_background_work_gets_the_jobs_timeout_and_commands_theirs_again(
        bounded: AsyncEngine) -> None:
    database = Database(db.session_factory(bounded))

    def slow(session: Session) -> int:
        return int(session.execute(text(SLOW_STATEMENT)).scalar_one())

    seen = _timeouts_seen(bounded)
    async with _guarded():
        with db.background_work():
            assert await database.run(slow, write=False) == 1
        with pytest.raises(StatementTimeout):
            await database.run(slow, write=False)
    assert seen == ["30s", "500ms"]


@pytest.mark.postgres
def test_the_operators_data_commands_run_as_background_work(postgres_ready: str) -> None:
    from rapport.bot.service.data_cli import _run

    seen: list[str] = []
    answers: list[int] = []

    async def bulk_work() -> None:
        engine = db.create_engine(postgres_ready, pool_size=1,
                                  statement_timeout=COMMAND_TIMEOUT,
                                  job_statement_timeout=JOB_TIMEOUT)
        timeouts = _timeouts_seen(engine)
        try:
            database = Database(db.session_factory(engine))
            answers.append(await database.run(
                lambda session: int(session.execute(text(SLOW_STATEMENT)).scalar_one()),
                write=False))
        finally:
            await engine.dispose()
            seen.extend(timeouts)

    _run(bulk_work)  # as `rapport report` and `rapport retention` run theirs
    assert answers == [1]
    assert seen == ["30s"]


@pytest.mark.postgres
async def test_scheduled_jobs_and_the_sweep_run_as_background_work(
        bounded: AsyncEngine, clock: Clock) -> None:
    sessions = db.session_factory(bounded)
    rapport = Rapport(sessions=sessions, clock=clock)
    await say(rapport, "add Dana Scully every week")
    seen = _timeouts_seen(bounded)

    async def job() -> None:
        await Database(sessions).run(lambda session: session.execute(text("SELECT 1")))

    await stops_quietly("job", job)()
    assert seen and set(seen) == {"30s"}
    seen.clear()
    sweeper = Sweeper(sessions=sessions, messengers={"console": Inbox()}, owner="t",
                      clock=clock)
    await run_sweep(sweeper)
    assert seen and set(seen) == {"30s"}
    seen.clear()
    await say(rapport, "due")
    assert seen and set(seen) == {"500ms"}


@pytest.mark.postgres
async def test_a_migration_waits_for_another_replicas_past_the_statement_timeout(
        postgres_ready: str, other_connection: AsyncConnection) -> None:
    """Two replicas starting together: the second waits on the first's migration lock (held
    here past the statement timeout), then finds nothing to do."""
    engine = db.create_engine(postgres_ready, pool_size=1, statement_timeout=COMMAND_TIMEOUT)
    await other_connection.execute(text("SELECT pg_advisory_xact_lock(72701001)"))

    async def other_replica_finishes() -> None:
        await asyncio.sleep(COMMAND_TIMEOUT * 3)
        await other_connection.commit()

    try:
        async with _guarded():
            # The revision named: "head" would find the schema there without the lock.
            await asyncio.gather(db.upgrade(engine, db.SCHEMA_HEAD), other_replica_finishes())
        assert await db.current_revision(engine) == db.SCHEMA_HEAD
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_the_settings_reach_each_connection(postgres_ready: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_DATABASE_URL", postgres_ready)
    monkeypatch.setenv("RAPPORT_DATABASE_STATEMENT_TIMEOUT_SECONDS", "1.5")
    monkeypatch.setenv("RAPPORT_DATABASE_JOB_STATEMENT_TIMEOUT_SECONDS", "120")
    runtime = await build_runtime(Settings(), upgrade=False)
    seen = _timeouts_seen(runtime.engine)

    def show(session: Session) -> tuple[str, str]:
        return (session.execute(text("SHOW statement_timeout")).scalar_one(),
                session.execute(text("SHOW lock_timeout")).scalar_one())

    try:
        database = Database(runtime.sessions)
        assert await database.run(show, write=False) == ("1500ms", "1500ms")
        with db.background_work():
            # A job waits for a lock no longer than a command would.
            assert await database.run(show, write=False) == ("2min", "1500ms")
    finally:
        await runtime.close()
    assert seen == ["1500ms", "2min"]


async def _busy_timeout(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("PRAGMA busy_timeout"))).scalar_one())


async def test_sqlite_keeps_its_busy_timeout(tmp_path: Path) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}",
                              statement_timeout=COMMAND_TIMEOUT)
    try:
        assert await _busy_timeout(engine) == 30000
    finally:
        await engine.dispose()
