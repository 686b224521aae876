"""What a graceful stop of a busy `rapport worker` logs: no ERROR, no WARNING for every interval
a long sweep outlasts, and release counts that agree with the database.

Found by a tester: a SIGTERM while a job ran logged ERROR "Job ... raised an exception ...
CancelledError"; "Execution of job run_sweep skipped: maximum number of running instances
reached" came at WARNING every interval of a long sweep; and "claims released count 92" was
followed by "scheduler stopped released 0".
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.storage import db
from rapport.storage.models import Nudge
from tests.bot.processes import killed_on_exit, stop_cleanly
from tests.fakes.slack_api import DEFAULT_BOT_TOKEN, DEFAULT_TEAM_ID, FakeSlack
from tests.scheduler.workers import seed_due_nudges, slack_user, start_worker

USERS = 150


async def _stop_mid_sweep(tmp_path: Path, *, shutdown_seconds: str
                          ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Run a worker whose sweep takes several intervals (Slack answers in 0.15 s), SIGTERM it
    mid-sweep; its JSON log lines and the nudges' statuses afterwards."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'rapport.db'}"
    engine: AsyncEngine = db.create_engine(url)
    await db.upgrade(engine)
    await seed_due_nudges(engine, USERS)
    async with FakeSlack(latency=0.15) as fake:
        fake.add_workspace(DEFAULT_TEAM_ID, "Test", bot_token=DEFAULT_BOT_TOKEN)
        for index in range(USERS):
            fake.add_user(slack_user(index), name=f"u{index}", team_id=DEFAULT_TEAM_ID)
        worker = await start_worker(fake, url, lease_seconds=300, capture_stderr=True,
                                    extra_env={"RAPPORT_LOG_LEVEL": "INFO",
                                               "RAPPORT_LOG_FORMAT": "json",
                                               "RAPPORT_SHUTDOWN_SECONDS": shutdown_seconds})
        async with killed_on_exit(worker):
            # Past the sweep's second interval (a wave of 16 takes about 0.3 s), not at its end.
            deadline = time.monotonic() + 90  # a hang guard, not a speed requirement
            while len(fake.calls_to("chat.postMessage")) < 100:
                assert time.monotonic() < deadline, "the worker never got that far"
                await asyncio.sleep(0.05)
            stderr = await stop_cleanly(worker)
    async with engine.connect() as connection:
        statuses = {status: int(count) for status, count in (await connection.execute(
            select(Nudge.status, func.count()).group_by(Nudge.status))).all()}
    await engine.dispose()
    return [json.loads(line) for line in stderr.splitlines()], statuses


async def test_a_graceful_stop_mid_sweep_logs_no_error_and_counts_that_agree(
        tmp_path: Path) -> None:
    lines, statuses = await _stop_mid_sweep(tmp_path, shutdown_seconds="10")

    assert [line for line in lines if line["level"] in ("error", "critical")] == []
    # The sweep outlasted several intervals: each skipped run is DEBUG, not a WARNING.
    assert not [line for line in lines if "maximum number of running" in line["msg"]]
    assert 0 < statuses.get("planned", 0) < USERS and statuses.get("claimed", 0) == 0
    # The releases' own lines add up to what went back to planned, and no line gives another
    # total ("scheduler stopped" said "released 0" after 92 had been released).
    releases = [line["count"] for line in lines if line["msg"] == "claims released"]
    assert sum(releases) == statuses["planned"], releases
    totals = [line["released"] for line in lines if "released" in line]
    assert all(total == statuses["planned"] for total in totals), totals
    assert [line for line in lines if line["msg"] == "scheduler stopped"]


async def test_a_sweep_cancelled_when_its_grace_runs_out_is_no_error(tmp_path: Path) -> None:
    lines, statuses = await _stop_mid_sweep(tmp_path, shutdown_seconds="0")

    assert [line for line in lines if line["level"] in ("error", "critical")] == []
    assert [line for line in lines if line["msg"] == "sweep stopped by the shutdown"]
    assert statuses.get("claimed", 0) == 0
