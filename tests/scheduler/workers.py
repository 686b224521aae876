"""Shared by the multi-process tests: seed due Slack nudges, start `python -m rapport worker`
or `python -m rapport serve`."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from datetime import UTC, datetime, timedelta

import aiohttp
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.storage.models import Contact, Nudge, User, Workspace
from tests.fakes.slack_api import DEFAULT_BOT_TOKEN, DEFAULT_TEAM_ID, FakeSlack


def slack_user(index: int) -> str:
    """The Slack id of the index-th seeded user."""
    return f"U{index:06d}"


async def seed_due_nudges(engine: AsyncEngine, count: int) -> None:
    """`count` Slack users, each with one contact and one nudge due a minute ago."""
    now = datetime.now(UTC)
    due = now - timedelta(minutes=1)
    async with engine.begin() as connection:
        await connection.execute(insert(Workspace), [dict(
            id=1, platform="slack", external_id=DEFAULT_TEAM_ID, name="Test", ai_enabled=True,
            disclosure_policy="optional", active=True, created_at=now)])
        await connection.execute(insert(User), [dict(
            id=i + 1, workspace_id=1, external_id=slack_user(i), display_name=f"U{i}",
            tz="UTC", tz_from_platform=False, window_start_minute=0, window_end_minute=1440,
            working_days=127, daily_cap=3, digest=True, ai_enabled=True, tone="warm",
            # No weekly summary: its DMs would land in the channels the tests count.
            weekly_summary=False, active=True, sent_day_count=0, created_at=now)
            for i in range(count)])
        await connection.execute(insert(Contact), [dict(
            id=i + 1, workspace_id=1, user_id=i + 1, name="Dana", name_key="dana",
            kind="colleague", created_at=now) for i in range(count)])
        await connection.execute(insert(Nudge), [dict(
            workspace_id=1, user_id=i + 1, contact_id=i + 1, reason="cadence",
            dedupe_key=f"cadence:{i + 1}:seed", due_at=due, deliver_after=due, status="planned",
            snooze_count=0, attempts=0, created_at=now) for i in range(count)])


async def start_worker(fake: FakeSlack, database_url: str, *, lease_seconds: int,
                       capture_stderr: bool = False,
                       extra_env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    """A real worker process delivering to `fake` through the single-workspace bot token."""
    env = {**os.environ, "RAPPORT_DATABASE_URL": database_url,
           "SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN, "SLACK_SIGNING_SECRET": "test-secret",
           "SLACK_API_URL": fake.base_url, "RAPPORT_SWEEP_SECONDS": "1",
           "RAPPORT_LEASE_SECONDS": str(lease_seconds), "RAPPORT_LOG_LEVEL": "WARNING",
           **(extra_env or {})}
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN", "MicrosoftAppId",
                 "TEAMS_ENABLED", "OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"):
        env.pop(name, None)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rapport", "worker", env=env, stdout=asyncio.subprocess.DEVNULL,
        # An unread pipe would fill up and block the worker: capture only when it is read.
        stderr=asyncio.subprocess.PIPE if capture_stderr else asyncio.subprocess.DEVNULL)


def free_port() -> int:
    """A port nobody listens on right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_server(fake: FakeSlack, database_url: str, *, signing_secret: str,
                       extra_env: dict[str, str] | None = None, port: int | None = None
                       ) -> tuple[asyncio.subprocess.Process, str]:
    """A real `rapport serve --no-console --no-scheduler` process for the single-workspace bot
    of `fake`, answering on `port` (a free one by default); returns it with its base URL once
    /healthz answers."""
    port = port or free_port()
    env = {**os.environ, "RAPPORT_DATABASE_URL": database_url, "RAPPORT_PORT": str(port),
           "RAPPORT_METRICS_PORT": "0", "SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN,
           "SLACK_SIGNING_SECRET": signing_secret, "SLACK_API_URL": fake.base_url,
           "RAPPORT_LOG_LEVEL": "WARNING", **(extra_env or {})}
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN", "MicrosoftAppId",
                 "TEAMS_ENABLED", "OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"):
        env.pop(name, None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rapport", "serve", "--no-console", "--no-scheduler", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(600):  # a deadlock guard of about a minute, not a speed requirement
            if process.returncode is not None:
                raise RuntimeError(f"rapport serve exited with {process.returncode}")
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return process, base
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    process.kill()
    await process.wait()
    raise RuntimeError("rapport serve never answered /healthz")
