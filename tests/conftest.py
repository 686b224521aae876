"""Shared fixtures: a real database (SQLite always, PostgreSQL when configured) and a clock."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from rapport.bot.core.context import Actor
from rapport.bot.core.rapport import Rapport
from rapport.storage import db
from rapport.storage.models import Base
from tests.fakes.database_faults import DatabaseProxy

pytest_plugins = [
    "tests.fakes.openai_fixtures",
    "tests.fakes.teams_fixtures",
    "tests.fakes.slack_fixtures",
    "tests.fakes.calendar_fixtures",
]

PG_URL_ENV = "RAPPORT_TEST_DATABASE_URL"


def _database_of_this_worker(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets its own PostgreSQL database, `<name>_<worker>`,
    created on first use: PostgreSQL tests reset and empty the whole schema, so two workers
    must never share one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = make_url(url)
    own = base.set(database=f"{base.database}_{worker}")

    async def _create() -> None:
        # Through the maintenance database: the one named need not exist itself.
        engine = create_async_engine(base.set(database="postgres"),
                                     isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                exists = await connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": own.database})
                if not exists:
                    await connection.execute(text(f'CREATE DATABASE "{own.database}"'))
        finally:
            await engine.dispose()

    asyncio.run(_create())
    return own.render_as_string(hide_password=False)


PG_URL = _database_of_this_worker(os.environ.get(PG_URL_ENV))
PG_SKIP_REASON = f"PostgreSQL tests need {PG_URL_ENV} (.ci/run sets it)"
# Monday 2026-11-23 10:00 UTC: a working day, inside the default 09:00-17:00 window in UTC.
MONDAY_10_UTC = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class Clock:
    """A clock the tests move by hand; injected wherever the code asks for 'now'."""

    def __init__(self, now: datetime = MONDAY_10_UTC) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return moment


def run_in_fresh_loop(make_coroutine: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run setup code on its own loop in a thread: session fixtures may be first requested
    from inside a running test loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, make_coroutine()).result()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per run; each test gets a copy (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def _migrate() -> None:
        engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
        await db.upgrade(engine)
        await engine.dispose()  # the last connection closing checkpoints the WAL

    run_in_fresh_loop(_migrate)
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> str:
    """Reset the test database's schema once per run, then migrate it to head."""
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)

    async def _reset() -> None:
        engine = db.create_engine(PG_URL, pool_size=2)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await db.upgrade(engine)
        await engine.dispose()

    run_in_fresh_loop(_reset)
    return PG_URL


@pytest.fixture
async def proxy(postgres_ready: str) -> AsyncIterator[DatabaseProxy]:
    """A TCP proxy in front of the test PostgreSQL that a test can make refuse connections or
    go silent (tests/fakes/database_faults.py)."""
    async with DatabaseProxy(postgres_ready) as running:
        yield running


async def truncate_all(engine: AsyncEngine) -> None:
    """Empty every application table and restart every id sequence at 1 (PostgreSQL tests
    share one database), as TRUNCATE ... RESTART IDENTITY would.

    DELETE, not TRUNCATE: a test leaves a few rows, and deleting them is one commit, while
    TRUNCATE swaps every table's files (about half a second for the schema, per test)."""
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):  # rows that refer to others first
            await connection.execute(table.delete())
        # Tables the migrations create outside the models (slack_sdk's installation store):
        # their sequences restart below too, so rows a test left there must go as well.
        others = (await connection.scalars(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename <> 'alembic_version'"))).all()
        for name in sorted(set(others) - set(Base.metadata.tables)):
            await connection.execute(text(f'DELETE FROM "{name}"'))
        sequences = (await connection.scalars(text(
            "SELECT oid::regclass::text FROM pg_class "
            "WHERE relkind = 'S' AND relnamespace = current_schema()::regnamespace"))).all()
        if sequences:
            await connection.execute(
                text("SELECT " + ", ".join(f"setval('{name}', 1, false)" for name in sequences)))


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database, what its WAL holds included, through SQLite's
    backup API. Copying the files raced with a connection that closes later (a finished
    engine's database thread closes its connection when the engine is collected), whose
    close checkpoints and deletes the -wal and -shm files between seeing them and copying."""
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)


def _sqlite_engine(template: Path, tmp_path: Path) -> AsyncEngine:
    target = tmp_path / "rapport.db"
    copy_database(template, target)
    return db.create_engine(f"sqlite+aiosqlite:///{target}")


@pytest.fixture
async def engine(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated SQLite database of this test's own."""
    engine = _sqlite_engine(sqlite_template, tmp_path)
    yield engine
    await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def any_engine(request: pytest.FixtureRequest, sqlite_template: Path,
                     tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The same test on SQLite and, when configured, on PostgreSQL."""
    if request.param == "sqlite":
        engine = _sqlite_engine(sqlite_template, tmp_path)
    else:
        url = request.getfixturevalue("postgres_ready")
        engine = db.create_engine(url, pool_size=5)
        await truncate_all(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return db.session_factory(engine)


@pytest.fixture
def rapport(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> Rapport:
    return Rapport(sessions=sessions, clock=clock)


def console_user(name: str = "alex", tz: str = "UTC") -> Actor:
    """A console actor for core tests."""
    return Actor(platform="console", workspace_external_id="local", user_external_id=name,
                 display_name=name.title(), tz=tz)


@pytest.fixture
def actor() -> Actor:
    return console_user()


async def say(rapport: Rapport, text: str, actor: Actor | None = None) -> str:
    """Rapport's answer to `text` typed by `actor` (alex at the console); it must succeed."""
    reply = await rapport.handle_text(actor or console_user(), text)
    assert reply.ok, (text, reply.text)
    return reply.text


SnapshotFn = Callable[[], "asyncio.Future[dict[str, list[tuple[object, ...]]]]"]


# Not data about anyone: the replay guard remembers every correctly signed request it
# accepts, bad input included, by design (tests/slack/test_replay.py checks it).
SNAPSHOT_SKIPS = frozenset({"seen_signatures"})


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every application table, to prove that bad input changed nothing."""
    result: dict[str, list[tuple[object, ...]]] = {}
    async with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in SNAPSHOT_SKIPS:
                continue
            rows = await connection.execute(table.select().order_by(*table.primary_key.columns))
            result[table.name] = [tuple(row) for row in rows]
    return result
