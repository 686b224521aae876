"""Periodic jobs besides the sweep: weekly summary DMs, the retention cleanup and the undo
journal's bounds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rapport.scheduler.delivery import Sweeper
from rapport.scheduler.retention import UNDO_PURGE_SECONDS, retention_job, undo_purge_job
from rapport.scheduler.summary import summary_job

# Summaries go out inside each user's window on their summary day; every 15 minutes finds it.
SUMMARY_SECONDS = 15 * 60
RETENTION_SECONDS = 6 * 3600


def housekeeping_jobs(sweeper: Sweeper) -> list[tuple[Callable[[], Awaitable[Any]], float]]:
    """(job, interval seconds) pairs sharing the sweeper's sessions, messengers and clock."""
    return [
        (summary_job(sweeper.sessions, sweeper.messengers, sweeper.clock),
         SUMMARY_SECONDS),
        (retention_job(sweeper.sessions, sweeper.clock), RETENTION_SECONDS),
        (undo_purge_job(sweeper.sessions, sweeper.clock), UNDO_PURGE_SECONDS),
    ]
