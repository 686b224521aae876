"""SIGTERM in the middle of a slow sweep: the worker records or releases, then exits cleanly.

A real `python -m bot worker` process on a SQLite file, the real Slack messenger talking to a
FakeSlack that answers slowly; what reached the fake is compared with what the database says.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Contact, Nudge, User, Workspace
from tests.fakes.slack_api import DEFAULT_BOT_TOKEN, DEFAULT_TEAM_ID, FakeSlack

USERS = 150
EXIT_WITHIN_SECONDS = 15.0


def _user(i: int) -> str:
    return f"U{i:06d}"


async def _seed(engine: AsyncEngine, count: int) -> None:
    now = datetime.now(UTC)
    due = now - timedelta(minutes=1)
    async with engine.begin() as connection:
        await connection.execute(insert(Workspace), [dict(
            id=1, platform="slack", external_id=DEFAULT_TEAM_ID, name="Test", ai_enabled=True,
            disclosure_policy="optional", active=True, created_at=now)])
        await connection.execute(insert(User), [dict(
            id=i + 1, workspace_id=1, external_id=_user(i), display_name=f"U{i}", tz="UTC",
            tz_from_platform=False, window_start_minute=0, window_end_minute=1440,
            working_days=127, daily_cap=3, digest=True, ai_enabled=True, tone="warm",
            # No weekly summary: its DMs would land in the channels counted below.
            weekly_summary=False, active=True, sent_day_count=0, created_at=now)
            for i in range(count)])
        await connection.execute(insert(Contact), [dict(
            id=i + 1, workspace_id=1, user_id=i + 1, name="Dana", name_key="dana",
            kind="colleague", created_at=now) for i in range(count)])
        await connection.execute(insert(Nudge), [dict(
            workspace_id=1, user_id=i + 1, contact_id=i + 1, reason="cadence",
            dedupe_key=f"cadence:{i + 1}:seed", due_at=due, deliver_after=due, status="planned",
            snooze_count=0, attempts=0, created_at=now) for i in range(count)])


async def _start_worker(fake: FakeSlack, url: str, *, capture: bool = False
                        ) -> asyncio.subprocess.Process:
    env = {**os.environ, "RAPPORT_DATABASE_URL": url, "SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN,
           "SLACK_SIGNING_SECRET": "test-secret", "SLACK_API_URL": fake.base_url,
           "RAPPORT_SWEEP_SECONDS": "1", "RAPPORT_LEASE_SECONDS": "300",
           "RAPPORT_SHUTDOWN_SECONDS": "10", "RAPPORT_LOG_LEVEL": "WARNING"}
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN", "MicrosoftAppId",
                 "TEAMS_ENABLED", "OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"):
        env.pop(name, None)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "worker", env=env, stdout=asyncio.subprocess.DEVNULL,
        # An unread pipe would fill up and block the worker: capture only when it is read.
        stderr=asyncio.subprocess.PIPE if capture else asyncio.subprocess.DEVNULL)


def _posts_per_user(fake: FakeSlack) -> Counter[str]:
    channel_to_user = {fake.dm_channel_id(_user(i)): _user(i) for i in range(USERS)}
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
    await _seed(engine, USERS)
    url = str(engine.url.render_as_string(hide_password=False))
    # Each Slack call takes 0.15 s: the batch of USERS messages needs several seconds.
    async with FakeSlack(latency=0.15) as fake:
        fake.add_workspace(DEFAULT_TEAM_ID, "Test", bot_token=DEFAULT_BOT_TOKEN)
        for i in range(USERS):
            fake.add_user(_user(i), name=f"u{i}", team_id=DEFAULT_TEAM_ID)
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

