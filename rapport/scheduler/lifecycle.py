"""A workspace's data after the app is removed: kept for a grace period, then deleted.

Removing the app (Slack's ``app_uninstalled``, or its bot token revoked) stops deliveries at
once and records ``workspaces.uninstalled_at``; installing again within the grace period
(``RAPPORT_UNINSTALL_GRACE_DAYS``, default 30) clears it and nothing is lost. After it, the
scheduler deletes the workspace row, and with it, through the database's cascades, every user,
contact, conversation, note, date, nudge, draft and conversation reference of that workspace.

What its people granted at providers (calendars, Slack DM capture) is withdrawn first, as
`forget me` does for one person: the bot layer, which holds the connectors, passes that step
in (`release`); the scheduled purge, which has none, leaves a workspace whose people still
hold calendar grants to the calendar job, which revokes them (`GRANTS_WAIT`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.scheduler import planner
from rapport.storage import queries
from rapport.storage.models import Workspace

logger = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(days=30)
# How long past its grace a workspace whose people still hold calendar grants waits for the
# calendar job (which runs every few minutes, and revokes them at the providers) before it is
# purged with them: only calendars switched off on every replica since would make it wait
# that long, and then no one could revoke them anyway.
GRANTS_WAIT = timedelta(days=1)

# Withdraws at the providers what one workspace's people granted, before their rows go.
WorkspaceRelease = Callable[[int], Awaitable[None]]


async def purge_workspace(sessions: async_sessionmaker[AsyncSession], workspace_id: int,
                          now: datetime | None = None,
                          release: WorkspaceRelease | None = None) -> bool:
    """Delete one workspace and everything scoped by it; False when there was none. The
    reminders it delivered are queued to be cleared (scheduler/redaction.py). `release`
    first withdraws its people's grants at the providers (their tokens go with the rows)."""
    if release is not None:
        await release(workspace_id)
    moment = now or planner.utcnow()
    async with sessions() as session, session.begin():
        await session.run_sync(lambda sync: queries.queue_redactions(
            sync, moment, workspace_id=workspace_id))
        result = await session.execute(delete(Workspace).where(Workspace.id == workspace_id))
    purged = bool(result.rowcount)  # type: ignore[attr-defined]
    if purged:
        logger.warning("workspace purged", extra={"workspace_id": workspace_id})
    return purged


def purge_due(now: datetime, grace: timedelta) -> tuple[Any, ...]:
    """The conditions of a workspace to purge: uninstalled longer than `grace` ago."""
    return (Workspace.active.is_(False), Workspace.uninstalled_at.is_not(None),
            Workspace.uninstalled_at <= now - grace)


async def purge_uninstalled(sessions: async_sessionmaker[AsyncSession], now: datetime,
                            grace: timedelta = DEFAULT_GRACE) -> list[int]:
    """Purge every workspace uninstalled longer than `grace` ago; returns their ids.

    A workspace whose people still hold calendar grants is left for a later run, up to
    GRANTS_WAIT, so the calendar job revokes them at the providers first."""
    due = purge_due(now, grace)
    async with sessions() as session:
        rows = (await session.execute(select(Workspace.id, Workspace.uninstalled_at)
                                      .where(*due))).all()
        holding = await session.run_sync(lambda sync: queries.workspaces_with_calendar_grants(
            sync, [row.id for row in rows])) if rows else set()
    ids: list[int] = []
    for workspace_id, uninstalled_at in rows:
        if workspace_id in holding:
            if uninstalled_at is not None and uninstalled_at > now - grace - GRANTS_WAIT:
                continue  # the calendar job revokes them first
            logger.warning("uninstalled workspace purged with calendar grants not revoked",
                           extra={"workspace_id": workspace_id})
        ids.append(workspace_id)
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
