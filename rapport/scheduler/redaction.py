"""Clear delivered messages about someone forgotten (`forget Dana`, `forget me`, `admin purge`).

The forget queues one `message_redactions` row per delivered message in its own transaction
(storage.queries.queue_redactions); this job edits each message to a neutral text without
buttons through the platform's `EditableMessenger`, then deletes the row. A restart in between
loses nothing: the row waits in the database, claimed with a lease so one replica edits it. A
message the platform says is gone (deleted, conversation removed, app uninstalled) is dropped;
transient failures are tried again with backoff, for a bounded time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from rapport.scheduler import planner, wording
from rapport.scheduler.messenger import (
    DeliveredMessage,
    DeliveryResult,
    EditableMessenger,
    Messenger,
)
from rapport.storage import queries
from rapport.storage.uow import Database

logger = logging.getLogger(__name__)

REDACTION_SECONDS = 30
BATCH = 200
# A claimed row is someone else's until then (a replica that died mid-edit leaves it here).
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 12
# A platform this process has no messenger for (a worker without Slack configured) may be
# served by another replica; after this long nobody will.
GIVE_UP_AFTER = timedelta(days=7)
NO_MESSENGER_WAIT = timedelta(hours=1)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** attempts, 6 * 3600))


async def redact_pending(sessions: async_sessionmaker[AsyncSession],
                         messengers: Mapping[str, Messenger], now: datetime) -> int:
    """Edit every queued message that is due; how many were redacted."""
    database = Database(sessions)
    rows = await database.run(lambda session: queries.claim_redactions(
        session, now, now + LEASE, BATCH))
    redacted = 0
    for row in rows:
        messenger = messengers.get(row.platform)
        if not isinstance(messenger, EditableMessenger):
            await database.run(_wait_for_messenger(row.id, now, row.created_at))
            continue
        message = DeliveredMessage(platform=row.platform,
                                   workspace_external_id=row.workspace_external_id,
                                   ref=row.message_ref, conversation_json=row.conversation_json)
        try:
            result = await messenger.redact(message, wording.redacted_text(row.reason))
        except Exception as failure:  # a messenger bug must not lose the redaction
            logger.exception("messenger raised while redacting",
                             extra={"platform": row.platform})
            result = DeliveryResult.retry(type(failure).__name__)
        redacted += result.status == "sent"
        if result.status != "sent":
            logger.info("redaction not done", extra={"platform": row.platform,
                                                     "status": result.status,
                                                     "error": result.error})
        await database.run(_settle(row.id, result, now, row.attempts))
    return redacted


def _wait_for_messenger(redaction_id: int, now: datetime, created_at: datetime
                        ) -> Callable[[Session], None]:
    def write(session: Session) -> None:
        if now - created_at > GIVE_UP_AFTER:
            queries.finish_redaction(session, redaction_id)
        else:
            queries.retry_redaction(session, redaction_id, now + NO_MESSENGER_WAIT,
                                    "no messenger", counted=False)

    return write


def _settle(redaction_id: int, result: DeliveryResult, now: datetime, attempts: int
            ) -> Callable[[Session], None]:
    def write(session: Session) -> None:
        if result.status == "retry" and attempts + 1 < MAX_ATTEMPTS:
            wait = _backoff(attempts)
            if result.retry_after:
                wait = max(wait, timedelta(seconds=result.retry_after))
            queries.retry_redaction(session, redaction_id, now + wait, result.error or "retry")
        else:
            # Done, gone (nothing left to clear) or refused for good: the row has served.
            queries.finish_redaction(session, redaction_id)

    return write


def redaction_job(sessions: async_sessionmaker[AsyncSession],
                  messengers: Mapping[str, Messenger],
                  clock: Callable[[], datetime] = planner.utcnow
                  ) -> Callable[[], Awaitable[None]]:
    """A no-argument coroutine function for APScheduler; failures are logged, not raised."""

    async def run() -> None:
        try:
            await redact_pending(sessions, messengers, clock())
        except Exception as error:  # the scheduler must survive a failed run
            logger.error("redaction failed; the next run retries",
                         extra={"error": type(error).__name__})

    return run
