"""APScheduler wiring: the sweep every RAPPORT_SWEEP_SECONDS, coalesced, one at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from rapport.scheduler.delivery import Sweeper, SweepReport
from rapport.scheduler.housekeeping import housekeeping_jobs
from rapport.scheduler.lifecycle import DEFAULT_GRACE
from rapport.scheduler.planner import utcnow

logger = logging.getLogger(__name__)


async def run_sweep(sweeper: Sweeper,
                    on_report: Callable[[SweepReport, float], None] | None = None) -> None:
    """The job body: one sweep; a database hiccup is logged and the next run retries."""
    started = time.perf_counter()
    try:
        report = await sweeper.sweep()
    except Exception as error:  # the scheduler must survive a failed run
        logger.error("sweep failed; the next run retries",
                     extra={"error": type(error).__name__})
        return
    if on_report is not None:
        on_report(report, time.perf_counter() - started)


def guarded(name: str, job: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
    """An extra job's body with the sweep's failure policy: logged, and the next run retries."""

    async def run() -> None:
        try:
            await job()
        except Exception as error:  # the scheduler must survive a failed run
            logger.error("job failed; the next run retries",
                         extra={"job": name, "error": type(error).__name__})

    return run


def build_scheduler(*, sweeper: Sweeper, sweep_seconds: float,
                    extra_jobs: list[tuple[Callable[[], Awaitable[Any]], float]] | None = None,
                    on_report: Callable[[SweepReport, float], None] | None = None,
                    uninstall_grace: timedelta = DEFAULT_GRACE) -> AsyncIOScheduler:
    """An AsyncIOScheduler with the sweep (first run right away) and any extra interval jobs."""
    scheduler = AsyncIOScheduler(timezone="UTC", job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
    scheduler.add_job(run_sweep, "interval", args=[sweeper, on_report], seconds=sweep_seconds,
                      id="sweep", next_run_time=utcnow() + timedelta(seconds=1))
    for index, (job, seconds) in enumerate([*(extra_jobs or []),
                                            *housekeeping_jobs(
                                                sweeper, uninstall_grace=uninstall_grace)]):
        scheduler.add_job(job, "interval", seconds=seconds, id=f"job-{index}",
                          next_run_time=utcnow() + timedelta(seconds=5))
    return scheduler
