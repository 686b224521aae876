"""Replayed Slack requests: a correctly signed request is accepted once, by any replica.

Slack signs each request with its timestamp and accepts it for five minutes, so a captured
request could be sent again within that window, to any replica. Every signature accepted is
inserted into the shared ``seen_signatures`` table; the insert conflicts on the primary key when
any replica accepted it before, which makes the check and the claim one atomic statement.
Rows expire when their timestamp could no longer pass Slack's five-minute check. The claim
is a unit of work like any command's: on SQLite it queues on the one writer thread instead of
contending with it for the file lock. Claims that arrive while one is being written share the
next unit (`uow.Grouped`: one transaction, each signature its own statement), so under a
burst a request pays for a fraction of a commit instead of a whole one.

An Events API delivery is remembered by its event instead (`event_key`, in the same table):
Slack redelivers an event it got no 2xx for within 3 seconds, signed anew, so its signature
is new each time but its event id is not. The signed body holds the event id, so a replayed
signature repeats the event key too, and that one row guards against both.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from rapport.scheduler.planner import utcnow
from rapport.storage.models import SeenSignature
from rapport.storage.prepared import Prepared
from rapport.storage.uow import Database, Grouped

logger = logging.getLogger(__name__)

# Slack (and Bolt) accept a timestamp up to five minutes away from now; a minute more covers
# clock differences between replicas.
SIGNATURE_MEMORY = timedelta(minutes=6)
# Slack retries an event at once, a minute later and five minutes after that: its last
# retry comes some six minutes after the first delivery, later than a signature is
# remembered. The margin covers clocks and Slack's own delays.
EVENT_MEMORY = timedelta(minutes=30)
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


def event_key(body: Mapping[str, Any]) -> str | None:
    """What an Events API delivery is remembered by, or None for any other request.

    Slack's event id names the event within its app and workspace: two workspaces (or apps)
    may send the same one. Hashed: the key then fits the column whatever the ids' lengths,
    and the parts cannot run into each other; never a signature ("v0=...")."""
    if body.get("type") != "event_callback":
        return None
    event_id = body.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        return None
    where = [body.get("api_app_id"), body.get("enterprise_id"), body.get("team_id")]
    return "event=" + hashlib.sha256(json.dumps([*where, event_id]).encode()).hexdigest()


# At most this many claims share one transaction (a burst larger than that takes several).
CLAIMS_PER_UNIT = 64


class ReplayStore:
    """The shared memory of accepted signatures and handled events."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *,
                 clock: Callable[[], datetime] = utcnow,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.db = Database(sessions)
        self.clock = clock
        self.monotonic = monotonic
        self._cleaned_at: float | None = None
        # One INSERT ... ON CONFLICT DO NOTHING per claim cannot fail alone: no savepoints.
        # Each claim stands on its own, so on PostgreSQL it commits as it runs: one round
        # trip per request instead of three (BEGIN and COMMIT around it).
        self._claims = Grouped(self.db, limit=CLAIMS_PER_UNIT, savepoints=False,
                               atomic=False)

    async def seen_before(self, key: str, expires_at: datetime, *,
                          deadline: float | None = None) -> bool:
        """Remember `key` (a signature or an `event_key`) until `expires_at`; True when it
        was already remembered.

        Raises `Busy` when the claim cannot start by `deadline` (nothing was remembered)."""

        def claim(session: Session) -> bool:
            postgres = session.get_bind().dialect.name == "postgresql"
            statement = _CLAIM_POSTGRESQL if postgres else _CLAIM_SQLITE
            return statement.first(session, signature=key,
                                   expires_at=expires_at) is not None

        first = await self._claims.run(claim, deadline=deadline)
        now = self.monotonic()
        if self._cleaned_at is None or now - self._cleaned_at >= CLEANUP_EVERY_SECONDS:
            self._cleaned_at = now
            await self.forget_expired()
        return not first

    async def forget_expired(self) -> int:
        """Delete the signatures and events that can no longer come again; how many."""
        cutoff = self.clock()

        def forget(session: Session) -> int:
            result = session.execute(delete(SeenSignature).where(
                SeenSignature.expires_at < cutoff))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

        return await self.db.run(forget)
