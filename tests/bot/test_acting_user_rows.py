"""The acting user's rows are read, and created on first contact, on the event loop's own
SQLite connection like the command waiting for them: handed to the database thread, a burst
of new people (and of rows read again after each one's profile lookup) held the write lock
there, and every command arriving meanwhile found the database locked and queued behind
them (seconds of slow answers when 200 people started at once)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from rapport.bot.core.context import Actor
from rapport.bot.service.config import Settings
from rapport.bot.service.runtime import build_runtime
from rapport.storage import uow
from rapport.storage.models import User


async def test_a_new_user_s_rows_and_every_reload_run_on_the_loop_s_connection(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = await build_runtime(Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'users.db'}", metrics_port=0))
    handed: list[Any] = []
    run_on_thread = uow._SqliteThread.run

    async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        handed.append(args[0])
        return await run_on_thread(self, *args, **kwargs)

    monkeypatch.setattr(uow._SqliteThread, "run", counted)
    users = runtime.rapport.users
    actor = Actor(platform="slack", workspace_external_id="T1", user_external_id="U1")
    try:
        first = await users.context(actor)  # created: a write unit
        users.expire(first)  # settings changed: read again by id
        again = await users.context(actor)
        users.forget("slack", "T1", "U1")  # a profile lookup: rows reloaded, none created
        reloaded = await users.context(actor)
        assert first.user_id == again.user_id == reloaded.user_id
        assert handed == []
        assert runtime.rapport.db._inline is not None
        assert runtime.rapport.db._inline.handed_over == 0
        async with runtime.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(User)) == 1
    finally:
        await runtime.close()
