"""0024_shared_goal_charts: users get the chart columns empty (their next `stats` or App Home
shares the chart once); on the way down the columns go and every row stays."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import column, inspect, select, table
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rapport.storage import db
from rapport.storage.types import UTCDateTime
from tests.storage.people import insert_people
from tests.storage.test_migrations import _downgrade, empty_engine  # noqa: F401

CHART_COLUMNS = {"chart_digest", "chart_file_id", "chart_shared_at", "chart_claimed_at"}


async def test_users_get_empty_chart_columns_that_go_again(
        empty_engine: AsyncEngine) -> None:  # noqa: F811
    await db.upgrade(empty_engine, "0023_name_key_titles")
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    async with AsyncSession(empty_engine) as session, session.begin():
        _, user, contacts = await session.run_sync(lambda s: insert_people(s, now))
    await db.upgrade(empty_engine)
    users = table("users", column("id"), column("chart_digest"), column("chart_file_id"),
                  column("chart_shared_at", UTCDateTime()),
                  column("chart_claimed_at", UTCDateTime()))
    async with empty_engine.connect() as connection:
        rows = (await connection.execute(select(users))).all()
    assert [tuple(row) for row in rows] == [(user, None, None, None, None)]

    await _downgrade(empty_engine, "0023_name_key_titles")

    async with empty_engine.connect() as connection:
        columns = await connection.run_sync(
            lambda sync: {c["name"] for c in inspect(sync).get_columns("users")})
        kept = (await connection.execute(select(column("id")).select_from(
            table("contacts")))).scalars().all()
    assert not columns & CHART_COLUMNS and "prep_minutes" in columns
    assert sorted(kept) == sorted(contacts)
    await db.upgrade(empty_engine)
    assert await db.current_revision(empty_engine) == db.head_revision()
