"""SIGTERM in the middle of a slow sweep: the worker records or releases, then exits cleanly.

A real `python -m rapport worker` process on a SQLite file, the real Slack messenger talking to a
FakeSlack that answers slowly; what reached the fake is compared with what the database says.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.storage.models import Nudge, User
from tests.fakes.slack_api import DEFAULT_BOT_TOKEN, DEFAULT_TEAM_ID, FakeSlack
from tests.scheduler.workers import seed_due_nudges, slack_user, start_worker

USERS = 150
EXIT_WITHIN_SECONDS = 15.0


async def _start_worker(fake: FakeSlack, url: str, *, capture: bool = False
                        ) -> asyncio.subprocess.Process:
    return await start_worker(fake, url, lease_seconds=300, capture_stderr=capture,
                              extra_env={"RAPPORT_SHUTDOWN_SECONDS": "10"})


def _posts_per_user(fake: FakeSlack) -> Counter[str]:
    channel_to_user = {fake.dm_channel_id(slack_user(i)): slack_user(i) for i in range(USERS)}
    return Counter(channel_to_user.get(str(call.args.get("channel")), "?")
                   for call in fake.calls_to("chat.postMessage") if call.ok)


async def _statuses(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as connection:
        rows = (await connection.execute(
            select(User.external_id, Nudge.status).join(User, User.id == Nudge.user_id))).all()
    return {user: status for user, status in rows}


async def _wait_for_posts(fake: FakeSlack, count: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while len(fake.calls_to("chat.postMessage")) < count:
        assert time.monotonic() < deadline, "the worker never started delivering"
        await asyncio.sleep(0.05)


async def test_sigterm_mid_sweep_records_or_releases_every_claim_then_exits(
        engine: AsyncEngine) -> None:
    await seed_due_nudges(engine, USERS)
    url = str(engine.url.render_as_string(hide_password=False))
    # Each Slack call takes 0.15 s: the batch of USERS messages needs several seconds.
    async with FakeSlack(latency=0.15) as fake:
        fake.add_workspace(DEFAULT_TEAM_ID, "Test", bot_token=DEFAULT_BOT_TOKEN)
        for i in range(USERS):
            fake.add_user(slack_user(i), name=f"u{i}", team_id=DEFAULT_TEAM_ID)
        worker = await _start_worker(fake, url, capture=True)
        try:
            await _wait_for_posts(fake, 20, 60)
            worker.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            _, stderr = await asyncio.wait_for(worker.communicate(), EXIT_WITHIN_SECONDS)
            took = time.monotonic() - signalled
        finally:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
        assert worker.returncode == 0, stderr.decode()[-2000:]
        first_posts = _posts_per_user(fake)
        after_first = await _statuses(engine)
        status_counts = Counter(after_first.values())
        print(f"\nSIGTERM mid-sweep: exited in {took:.1f} s with code {worker.returncode}; "
              f"{status_counts['sent']} sent and recorded, {status_counts['planned']} released "
              f"to planned, {status_counts['claimed']} left claimed")
        # Nothing stuck as claimed; what reached Slack is exactly what is recorded as sent.
        assert status_counts["claimed"] == 0
        assert set(status_counts) <= {"sent", "planned"}
        assert 0 < status_counts["sent"] < USERS  # really cut mid-sweep
        assert {u for u, s in after_first.items() if s == "sent"} == set(first_posts)
        assert set(first_posts.values()) == {1}

        # The slow answers were there to cut the first sweep in the middle; the second worker
        # only has to deliver what was released, once each, which needs no waiting.
        fake.latency = 0.0
        second = await _start_worker(fake, url)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if set((await _statuses(engine)).values()) == {"sent"}:
                    break
                await asyncio.sleep(0.2)
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), EXIT_WITHIN_SECONDS)
        posts = _posts_per_user(fake)
    assert second.returncode == 0
    assert set((await _statuses(engine)).values()) == {"sent"}
    # Every nudge reached its user exactly once across both workers.
    assert len(posts) == USERS and set(posts.values()) == {1}

