"""APScheduler wiring: the sweep every RAPPORT_SWEEP_SECONDS, coalesced, one at a time."""

from __future__ import annotations

import asyncio
import functools
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
from rapport.storage import db

logger = logging.getLogger(__name__)


# APScheduler's line when a run comes due while the previous one still runs (max_instances=1).
_SKIPPED_RUN = "maximum number of running instances reached"


class SchedulerLog(logging.LoggerAdapter[logging.Logger]):
    """APScheduler's own log, except that "run skipped, the previous one still runs" is DEBUG.

    A sweep longer than its interval (Slack pacing a big digest run) is expected, and one run
    at a time is the point; at WARNING that line came once per interval for as long as the
    sweep lasted."""

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if level == logging.WARNING and _SKIPPED_RUN in str(msg):
            level = logging.DEBUG
        super().log(level, msg, *args, **kwargs)


async def run_sweep(sweeper: Sweeper,
                    on_report: Callable[[SweepReport, float], None] | None = None) -> None:
    """The job body: one sweep; a database hiccup is logged and the next run retries."""
    started = time.perf_counter()
    try:
        with db.background_work():
            report = await sweeper.sweep()
    except Exception as error:  # the scheduler must survive a failed run
        logger.error("sweep failed; the next run retries",
                     extra={"error": type(error).__name__})
        return
    except asyncio.CancelledError:
        # Cancelled by a shutdown whose grace ran out (Sweeper.shutdown); APScheduler would
        # log it as a job that raised, at ERROR with a traceback.
        logger.info("sweep stopped by the shutdown")
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


def stops_quietly(name: str, job: Callable[[], Awaitable[Any]]
                  ) -> Callable[[], Awaitable[None]]:
    """`job`, ending with one INFO line when a shutdown cancels it (the scheduler's shutdown
    cancels the jobs still running) instead of APScheduler's ERROR and traceback."""

    # The job keeps its own name (what APScheduler and the tests see as its function).
    @functools.wraps(job)
    async def run() -> None:
        try:
            # Its statements are bounded as background work's, not as a command's.
            with db.background_work():
                await job()
        except asyncio.CancelledError:
            # The task is APScheduler's own and nothing awaits it: ending it here is the end
            # the cancellation asked for.
            logger.info("job stopped by the shutdown", extra={"job": name})

    return run


def build_scheduler(*, sweeper: Sweeper, sweep_seconds: float,
                    extra_jobs: list[tuple[Callable[[], Awaitable[Any]], float]] | None = None,
                    on_report: Callable[[SweepReport, float], None] | None = None,
                    uninstall_grace: timedelta = DEFAULT_GRACE) -> AsyncIOScheduler:
    """An AsyncIOScheduler with the sweep (first run right away) and any extra interval jobs."""
    scheduler = AsyncIOScheduler(timezone="UTC", logger=SchedulerLog(
        logging.getLogger("apscheduler.scheduler")), job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
    scheduler.add_job(run_sweep, "interval", args=[sweeper, on_report], seconds=sweep_seconds,
                      id="sweep", next_run_time=utcnow() + timedelta(seconds=1))
    for index, (job, seconds) in enumerate([*(extra_jobs or []),
                                            *housekeeping_jobs(
                                                sweeper, uninstall_grace=uninstall_grace)]):
        name = getattr(job, "__qualname__", "").split(".", 1)[0] or f"job-{index}"
        scheduler.add_job(stops_quietly(name, job), "interval", seconds=seconds,
                          id=f"job-{index}", next_run_time=utcnow() + timedelta(seconds=5))
    return scheduler
