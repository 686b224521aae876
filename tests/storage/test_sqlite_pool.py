"""SQLite file databases use one pooled connection, so transactions queue on the event loop."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import text

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

        started = time.monotonic()
        await asyncio.gather(*(write(n) for n in range(20)))
        # Queued on the loop: no busy-handler sleeps (which step up to 100 ms each).
        assert time.monotonic() - started < 2.0
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
