"""Replayed Slack requests: a correctly signed request is accepted once, by any replica.

Slack signs each request with its timestamp and accepts it for five minutes, so a captured
request could be sent again within that window, to any replica. Every signature accepted is
inserted into the shared ``seen_signatures`` table; the insert conflicts on the primary key when
any replica accepted it before, which makes the check and the claim one atomic statement.
Rows expire when their timestamp could no longer pass Slack's five-minute check. The claim
is a unit of work like any command's: on SQLite it queues on the one writer thread instead of
contending with it for the file lock. Claims that arrive while one is being written share the
next unit (one transaction, each signature its own statement), so under a burst a request
pays for a fraction of a commit instead of a whole one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from rapport.scheduler.planner import utcnow
from rapport.storage.models import SeenSignature
from rapport.storage.prepared import Prepared
from rapport.storage.uow import Busy, Database

logger = logging.getLogger(__name__)

# Slack (and Bolt) accept a timestamp up to five minutes away from now; a minute more covers
# clock differences between replicas.
SIGNATURE_MEMORY = timedelta(minutes=6)
# Expired rows are deleted by whichever replica next accepts a request after this long.
CLEANUP_EVERY_SECONDS = 300.0


def _claim(dialect: ModuleType) -> Prepared:
    return Prepared(dialect.insert(SeenSignature)
                    .values(signature=bindparam("signature"),
                            expires_at=bindparam("expires_at"))
                    .on_conflict_do_nothing(index_elements=[SeenSignature.signature])
                    .returning(SeenSignature.signature))


# Every request to /slack/events runs one of these: prepared once, like the hot queries.
_CLAIM_POSTGRESQL = _claim(postgresql)
_CLAIM_SQLITE = _claim(sqlite)


# At most this many claims share one transaction (a burst larger than that takes several).
CLAIMS_PER_UNIT = 64


@dataclass
class _Claim:
    signature: str
    expires_at: datetime
    deadline: float | None
    first: asyncio.Future[bool]  # True when this claim was the first for its signature


class ReplayStore:
    """The shared memory of accepted signatures."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *,
                 clock: Callable[[], datetime] = utcnow,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.db = Database(sessions)
        self.clock = clock
        self.monotonic = monotonic
        self._cleaned_at: float | None = None
        self._waiting: list[_Claim] = []
        self._claiming: asyncio.Task[None] | None = None

    async def seen_before(self, signature: str, expires_at: datetime, *,
                          deadline: float | None = None) -> bool:
        """Remember `signature` until `expires_at`; True when it was already remembered.

        Raises `Busy` when the claim cannot start by `deadline` (nothing was remembered)."""
        claim = _Claim(signature, expires_at, deadline,
                       asyncio.get_running_loop().create_future())
        self._waiting.append(claim)
        if self._claiming is None or self._claiming.done():
            # A task of its own, so no caller's request waits on writing the others' claims.
            self._claiming = asyncio.create_task(self._claim_waiting())
        first = await claim.first
        now = self.monotonic()
        if self._cleaned_at is None or now - self._cleaned_at >= CLEANUP_EVERY_SECONDS:
            self._cleaned_at = now
            await self.forget_expired()
        return not first

    async def _claim_waiting(self) -> None:
        try:
            while self._waiting:
                # A caller that stopped waiting (cancelled) has nothing claimed for it.
                waiting = [claim for claim in self._waiting if not claim.first.done()]
                batch, self._waiting = waiting[:CLAIMS_PER_UNIT], waiting[CLAIMS_PER_UNIT:]
                if batch:
                    await self._claim(batch)
        finally:
            # Cancelled mid-way (shutdown): nobody is left waiting for ever.
            for claim in self._waiting:
                claim.first.cancel()
            self._waiting = []

    async def _claim(self, batch: list[_Claim]) -> None:
        def claim_all(session: Session) -> list[bool]:
            postgres = session.get_bind().dialect.name == "postgresql"
            statement = _CLAIM_POSTGRESQL if postgres else _CLAIM_SQLITE
            return [statement.first(session, signature=claim.signature,
                                    expires_at=claim.expires_at) is not None
                    for claim in batch]

        deadlines = [claim.deadline for claim in batch if claim.deadline is not None]
        try:
            firsts = await self.db.run(claim_all, deadline=min(deadlines, default=None))
        except Busy:
            # The unit could not start by the earliest deadline in the batch: those whose
            # own deadline has passed hear Busy; the others go first in the next unit.
            now = time.monotonic()
            again: list[_Claim] = []
            for claim in batch:
                if claim.deadline is None or claim.deadline > now:
                    again.append(claim)
                elif not claim.first.done():
                    claim.first.set_exception(Busy())
            self._waiting = again + self._waiting
            return
        except BaseException as failure:
            # Nothing was committed: every claim hears why (cancelled at shutdown: cancelled).
            for claim in batch:
                if claim.first.done():
                    continue
                if isinstance(failure, Exception):
                    claim.first.set_exception(failure)
                else:
                    claim.first.cancel()
            if not isinstance(failure, Exception):
                raise
            return
        for claim, first in zip(batch, firsts, strict=True):
            if not claim.first.done():
                claim.first.set_result(first)

    async def forget_expired(self) -> int:
        """Delete the signatures that can no longer be replayed; returns how many."""
        cutoff = self.clock()

        def forget(session: Session) -> int:
            result = session.execute(delete(SeenSignature).where(
                SeenSignature.expires_at < cutoff))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

        return await self.db.run(forget)
