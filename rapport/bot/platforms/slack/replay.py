"""Replayed Slack requests: a correctly signed request is accepted once, by any replica.

Slack signs each request with its timestamp and accepts it for five minutes, so a captured
request could be sent again within that window, to any replica. Every signature accepted is
inserted into the shared ``seen_signatures`` table; the insert conflicts on the primary key when
any replica accepted it before, which makes the check and the claim one atomic statement.
Rows expire when their timestamp could no longer pass Slack's five-minute check.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.scheduler.planner import utcnow
from rapport.storage.models import SeenSignature

logger = logging.getLogger(__name__)

# Slack (and Bolt) accept a timestamp up to five minutes away from now; a minute more covers
# clock differences between replicas.
SIGNATURE_MEMORY = timedelta(minutes=6)
# Expired rows are deleted by whichever replica next accepts a request after this long.
CLEANUP_EVERY_SECONDS = 300.0


class ReplayStore:
    """The shared memory of accepted signatures."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *,
                 clock: Callable[[], datetime] = utcnow,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.sessions = sessions
        self.clock = clock
        self.monotonic = monotonic
        self._cleaned_at: float | None = None

    async def seen_before(self, signature: str, expires_at: datetime) -> bool:
        """Remember `signature` until `expires_at`; True when it was already remembered."""
        async with self.sessions() as session, session.begin():
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            inserted = await session.execute(
                dialect.insert(SeenSignature)
                .values(signature=signature, expires_at=expires_at)
                .on_conflict_do_nothing(index_elements=[SeenSignature.signature])
                .returning(SeenSignature.signature))
            first = inserted.first() is not None
        now = self.monotonic()
        if self._cleaned_at is None or now - self._cleaned_at >= CLEANUP_EVERY_SECONDS:
            self._cleaned_at = now
            await self.forget_expired()
        return not first

    async def forget_expired(self) -> int:
        """Delete the signatures that can no longer be replayed; returns how many."""
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                delete(SeenSignature).where(SeenSignature.expires_at < self.clock()))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
