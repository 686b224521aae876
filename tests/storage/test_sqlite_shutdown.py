"""After a clean stop the SQLite file alone is the whole database: an operator who copies only
`rapport.db` (the backup docs/operations.md describes) has every row, and no `-wal` is left.

Found by a tester: everything written stayed in `rapport.db-wal`, because the database thread's
and the event loop's own connections were left to garbage collection and nothing checkpointed.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from rapport.storage import db
from tests.bot.processes import killed_on_exit, run_chat, stop_cleanly
from tests.fakes.slack_api import DEFAULT_BOT_TOKEN, DEFAULT_TEAM_ID, FakeSlack
from tests.scheduler.workers import seed_due_nudges, slack_user, start_worker

USERS = 5


def _file_alone(database: Path, elsewhere: Path) -> Path:
    """A copy of the database file without its companions (what a file backup takes), after
    checking that no write-ahead log was left beside it."""
    assert not Path(f"{database}-wal").exists()
    elsewhere.mkdir()
    copy = elsewhere / database.name
    shutil.copyfile(database, copy)
    return copy


def _contact_names(database: Path) -> list[str]:
    with closing(sqlite3.connect(database)) as connection:
        return sorted(name for (name,) in connection.execute("SELECT name FROM contacts"))


async def test_the_database_file_alone_holds_everything_after_the_chat_ends(
        tmp_path: Path) -> None:
    database = tmp_path / "rapport.db"
    await run_chat("add Dana Scully", "add Lee Park", cwd=tmp_path, database=database)

    copy = _file_alone(database, tmp_path / "backup")
    assert _contact_names(copy) == ["Dana Scully", "Lee Park"]


async def test_the_database_file_alone_holds_everything_after_sigterm(tmp_path: Path) -> None:
    database = tmp_path / "rapport.db"
    url = f"sqlite+aiosqlite:///{database}"
    engine = db.create_engine(url)
    await db.upgrade(engine)
    await seed_due_nudges(engine, USERS)
    await engine.dispose()
    async with FakeSlack() as fake:
        fake.add_workspace(DEFAULT_TEAM_ID, "Test", bot_token=DEFAULT_BOT_TOKEN)
        for index in range(USERS):
            fake.add_user(slack_user(index), name=f"u{index}", team_id=DEFAULT_TEAM_ID)
        worker = await start_worker(fake, url, lease_seconds=300, capture_stderr=True)
        async with killed_on_exit(worker):
            deadline = time.monotonic() + 90  # a hang guard, not a speed requirement
            while _statuses(database) != {"sent"}:
                assert time.monotonic() < deadline, "the worker never delivered them all"
                await asyncio.sleep(0.1)
            await stop_cleanly(worker)

    assert _statuses(_file_alone(database, tmp_path / "backup")) == {"sent"}


def _statuses(database: Path) -> set[str]:
    """The nudges' statuses, read with a connection closed again at once."""
    with closing(sqlite3.connect(database)) as connection:
        return {status for (status,) in connection.execute("SELECT status FROM nudges")}
