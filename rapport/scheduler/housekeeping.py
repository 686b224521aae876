"""Periodic jobs besides the sweep: weekly summary DMs, the retention cleanup, the undo
journal's bounds, and purging workspaces uninstalled longer than their grace period."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from rapport.scheduler.delivery import Sweeper
from rapport.scheduler.lifecycle import DEFAULT_GRACE, purge_job
from rapport.scheduler.redaction import REDACTION_SECONDS, redaction_job
from rapport.scheduler.retention import UNDO_PURGE_SECONDS, retention_job, undo_purge_job
from rapport.scheduler.suggestions import SUGGESTION_SECONDS, suggestion_job
from rapport.scheduler.summary import summary_job

# Summaries go out inside each user's window on their summary day; every 15 minutes finds it.
SUMMARY_SECONDS = 15 * 60
RETENTION_SECONDS = 6 * 3600
PURGE_SECONDS = 6 * 3600


def housekeeping_jobs(sweeper: Sweeper, *, uninstall_grace: timedelta = DEFAULT_GRACE
                      ) -> list[tuple[Callable[[], Awaitable[Any]], float]]:
    """(job, interval seconds) pairs sharing the sweeper's sessions, messengers and clock."""
    return [
        (summary_job(sweeper.sessions, sweeper.messengers, sweeper.clock),
         SUMMARY_SECONDS),
        (retention_job(sweeper.sessions, sweeper.clock), RETENTION_SECONDS),
        (purge_job(sweeper.sessions, sweeper.clock, uninstall_grace), PURGE_SECONDS),
        # Suggestions: every hour, each user at most once a day (scheduler/suggestions.py).
        (suggestion_job(sweeper.db, sweeper.clock), SUGGESTION_SECONDS),
        (undo_purge_job(sweeper.sessions, sweeper.clock), UNDO_PURGE_SECONDS),
        # Delivered reminders about someone forgotten are cleared (scheduler/redaction.py).
        (redaction_job(sweeper.sessions, sweeper.messengers, sweeper.clock), REDACTION_SECONDS),
    ]
