"""Migrations: empty database to head on SQLite and PostgreSQL, and models match the result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.storage import db
from rapport.storage.models import Base, is_modelled
from tests.conftest import PG_SKIP_REASON, PG_URL

SCHEMA = "rapport_migration_check"


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                            "include_object": is_modelled})
    return compare_metadata(context, Base.metadata)


def _index_names(connection: Connection) -> set[str]:
    inspector = inspect(connection)
    return {index["name"] for table in inspector.get_table_names()
            for index in inspector.get_indexes(table) if index["name"]}


async def _check_head(engine: AsyncEngine) -> None:
    assert await db.current_revision(engine) is None
    await db.upgrade(engine)
    assert await db.current_revision(engine) == db.head_revision()
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []
        indexes = await connection.run_sync(_index_names)
    # The sweep's range scans depend on these.
    assert {"ix_contacts_plan_at", "ix_notes_plan_at", "ix_nudges_active_deliver_after",
            "ix_important_dates_plan_at"} <= indexes
    await db.upgrade(engine)  # a second start finds the schema at head and changes nothing
    assert await db.current_revision(engine) == db.head_revision()


async def test_sqlite_empty_to_head_matches_models(tmp_path: Path) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    try:
        await _check_head(engine)
        async with engine.connect() as connection:
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar()
            keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar()
        assert mode == "wal" and keys == 1
    finally:
        await engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)
async def test_postgresql_empty_to_head_matches_models() -> None:
    assert PG_URL is not None
    admin = db.create_engine(PG_URL, pool_size=1)
    async with admin.begin() as connection:
        await connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engine = db.create_engine(PG_URL, pool_size=1)
    engine.sync_engine.dialect.default_schema_name = SCHEMA

    from sqlalchemy import event

    @event.listens_for(engine.sync_engine, "connect")
    def _search_path(dbapi_connection: Any, _record: Any) -> None:
        # Runs the migrations in a schema of their own, away from the shared test schema.
        dbapi_connection.run_async(
            lambda conn: conn.execute(f"SET search_path TO {SCHEMA}"))

    try:
        await _check_head(engine)
    finally:
        await engine.dispose()
        async with admin.begin() as connection:
            await connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await admin.dispose()


def test_the_known_head_is_alembics_head() -> None:
    # Start-up skips Alembic when the database is at SCHEMA_HEAD: it must be the real head.
    assert db.SCHEMA_HEAD == db.head_revision()
