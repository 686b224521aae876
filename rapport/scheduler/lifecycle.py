"""A workspace's data after the app is removed: kept for a grace period, then deleted.

Removing the app (Slack's ``app_uninstalled``, or its bot token revoked) stops deliveries at
once and records ``workspaces.uninstalled_at``; installing again within the grace period
(``RAPPORT_UNINSTALL_GRACE_DAYS``, default 30) clears it and nothing is lost. After it, the
scheduler deletes the workspace row, and with it, through the database's cascades, every user,
contact, conversation, note, date, nudge, draft and conversation reference of that workspace.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.scheduler import planner
from rapport.storage import queries
from rapport.storage.models import Workspace

logger = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(days=30)


async def purge_workspace(sessions: async_sessionmaker[AsyncSession], workspace_id: int,
                          now: datetime | None = None) -> bool:
    """Delete one workspace and everything scoped by it; False when there was none. The
    reminders it delivered are queued to be cleared (scheduler/redaction.py)."""
    moment = now or planner.utcnow()
    async with sessions() as session, session.begin():
        await session.run_sync(lambda sync: queries.queue_redactions(
            sync, moment, workspace_id=workspace_id))
        result = await session.execute(delete(Workspace).where(Workspace.id == workspace_id))
    purged = bool(result.rowcount)  # type: ignore[attr-defined]
    if purged:
        logger.warning("workspace purged", extra={"workspace_id": workspace_id})
    return purged


async def purge_uninstalled(sessions: async_sessionmaker[AsyncSession], now: datetime,
                            grace: timedelta = DEFAULT_GRACE) -> list[int]:
    """Purge every workspace uninstalled longer than `grace` ago; returns their ids."""
    cutoff = now - grace
    due = (Workspace.active.is_(False), Workspace.uninstalled_at.is_not(None),
           Workspace.uninstalled_at <= cutoff)
    async with sessions() as session:
        ids = list((await session.scalars(select(Workspace.id).where(*due))).all())
    purged: list[int] = []
    for workspace_id in ids:
        # One transaction each, and the condition again: a reinstall that happened since the
        # SELECT keeps its data.
        async with sessions() as session, session.begin():
            result = await session.execute(
                delete(Workspace).where(Workspace.id == workspace_id, *due))
        if result.rowcount:  # type: ignore[attr-defined]
            purged.append(workspace_id)
            logger.warning("uninstalled workspace purged after the grace period",
                           extra={"workspace_id": workspace_id, "grace_days": grace.days})
    return purged


def purge_job(sessions: async_sessionmaker[AsyncSession],
              clock: Callable[[], datetime] = planner.utcnow,
              grace: timedelta = DEFAULT_GRACE) -> Callable[[], Awaitable[None]]:
    """A no-argument coroutine function for APScheduler; failures are logged, not raised."""

    async def run() -> None:
        try:
            await purge_uninstalled(sessions, clock(), grace)
        except Exception as error:  # the scheduler must survive a failed run
            logger.error("workspace purge failed; the next run retries",
                         extra={"error": type(error).__name__})

    return run
