"""Units of work: one transaction per command, written as plain synchronous code.

A use case is a function of a `Session`; `Database.run` runs it in one transaction and returns
its result. Reads run under a plain BEGIN, work that writes under the backend's write
transaction, and any exception rolls everything back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

T = TypeVar("T")


class Database:
    """Runs units of work on the application's database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def run(self, work: Callable[[Session], T], *, write: bool = True) -> T:
        """Run `work` in one transaction and return what it returned.

        `write=False` marks read-only work; it is rolled back rather than committed, so a
        read never holds SQLite's write lock longer than it must.
        """
        async with self.sessions() as session:
            if write:
                async with session.begin():
                    return await session.run_sync(work)
            try:
                return await session.run_sync(work)
            finally:
                await session.rollback()
