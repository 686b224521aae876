"""Delivery rate: N nudges through the real Sweeper + SlackMessenger to a rate-limited fake Slack.

Every nudge goes to a different user, so each needs conversations.open (Tier 3, 50 per minute
per workspace) and chat.postMessage (about one per second per channel, and a workspace-wide
limit Slack does not publish; the fake enforces 300 per minute, set explicitly below). The
allowed rate is the tightest of those on the path; the run reports the achieved rate against
it, and counts at the fake that nothing was lost or sent twice. `--scale` shrinks every window
(0.01: a minute lasts 0.6 s) so the default run is short; `--scale 1` is Slack's real clock.

    python bench/delivery.py                           # make bench scale: 2,000 nudges
    python bench/delivery.py --nudges 10000            # the issue's size, scaled clock
    python bench/delivery.py --nudges 10000 --scale 1  # real limits (hours)
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select

from rapport.bot.platforms.slack.install import build_installations
from rapport.bot.platforms.slack.messenger import SlackMessenger, SlackPacing
from rapport.bot.service.config import Settings
from rapport.bot.service.logs import configure_logging
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from rapport.storage.models import Contact, Nudge, User, Workspace
from tests.fakes.slack_api import FakeSlack, Limit, RateLimits

TOKEN = "xoxb-bench-delivery"
TEAM = "T0BENCH"
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
# Slack's published per-method limits, with the workspace-wide chat.postMessage figure explicit.
LIMITS = RateLimits(post_message_per_channel=Limit(3, 3.0),
                    post_message_per_workspace=Limit(300, 60.0))


def _user(n: int) -> str:
    return f"U0D{n:06d}"


async def seed(engine, nudges: int) -> None:  # type: ignore[no-untyped-def]
    """One user per nudge, each with one contact whose cadence is due now."""
    async with engine.begin() as connection:
        await connection.execute(insert(Workspace), [dict(
            id=1, platform="slack", external_id=TEAM, name="bench", ai_enabled=True,
            disclosure_policy="optional", active=True, created_at=START)])
        await connection.execute(insert(User), [dict(
            id=n + 1, workspace_id=1, external_id=_user(n), display_name=f"User {n}", tz="UTC",
            tz_from_platform=True, window_start_minute=0, window_end_minute=1440,
            working_days=127, daily_cap=3, digest=False, ai_enabled=True, tone="warm",
            weekly_summary=True, active=True, sent_day_count=0, created_at=START)
            for n in range(nudges)])
        due = START - timedelta(days=1)
        await connection.execute(insert(Contact), [dict(
            workspace_id=1, user_id=n + 1, name=f"Contact {n}", name_key=f"contact {n}",
            kind="colleague", cadence_days=14, last_touch_at=due - timedelta(days=14),
            next_due_at=due, plan_at=due, created_at=START - timedelta(days=100))
            for n in range(nudges)])


async def run(nudges: int, scale: float) -> dict[str, float]:
    """Deliver `nudges`; returns rates, counts and timings."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.create_engine(f"sqlite+aiosqlite:///{tmp}/delivery.db")
        await db.upgrade(engine)
        await seed(engine, nudges)
        sessions = db.session_factory(engine)
        async with FakeSlack(enforce_rate_limits=True, rate_limits=LIMITS,
                             rate_limit_scale=scale) as fake:
            fake.add_workspace(TEAM, "Bench", bot_token=TOKEN)
            for n in range(nudges):
                fake.add_user(_user(n), name=f"user{n}", team_id=TEAM)
            settings = Settings(slack_bot_token=TOKEN, slack_api_url=fake.base_url,
                                slack_signing_secret="bench")
            messenger = SlackMessenger(
                settings=settings, installations=build_installations(settings, engine, sessions),
                pacing=SlackPacing().scaled(scale))
            now = [START]
            sweeper = Sweeper(sessions=sessions, messengers={"slack": messenger},
                              clock=lambda: now[0])
            started = time.perf_counter()
            passes = 0
            sent = 0
            while sent < nudges and passes < 20:
                report = await sweeper.sweep(now[0])
                sent += report.sent
                passes += 1
                # Retries wait at least 30 s of sweep time: step the clock past them.
                now[0] += timedelta(hours=1)
            elapsed = time.perf_counter() - started
            posts = [c for c in fake.calls_to("chat.postMessage") if c.ok]
            opens = [c for c in fake.calls_to("conversations.open") if c.ok]
            limited = sum(1 for c in fake.calls if c.status == 429)
            per_channel = collections.Counter(str(c.response.get("channel")) for c in posts)
            async with sessions() as session:
                db_sent = int(await session.scalar(
                    select(func.count()).select_from(Nudge).where(Nudge.status == "sent")) or 0)
        await engine.dispose()
    first, last = posts[0].received_at, posts[-1].received_at
    window = 60.0 * scale
    # The tightest limit on the path: every nudge needs one open and one post.
    allowed = min(50 / window, LIMITS.post_message_per_workspace.calls / window)  # type: ignore[union-attr]
    return {
        "nudges": nudges, "posts": len(posts), "opens": len(opens), "limited": limited,
        "lost": nudges - len(per_channel), "doubled": sum(1 for n in per_channel.values() if n > 1),
        "db_sent": db_sent, "passes": passes, "elapsed": elapsed,
        "rate": len(posts) / elapsed, "delivery_rate": (len(posts) - 1) / max(last - first, 1e-9),
        "allowed": allowed,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nudges", type=int, default=2000)
    parser.add_argument("--scale", type=float, default=0.01,
                        help="rate-limit window scale (1 = Slack's real minute)")
    args = parser.parse_args()
    configure_logging("ERROR")
    row = asyncio.run(run(args.nudges, args.scale))
    print(f"{args.nudges:,} nudges to as many users; limits scaled x{args.scale} "
          f"(a minute lasts {60 * args.scale:g} s)")
    print(f"binding limit: conversations.open Tier 3 = 50/min per workspace -> allowed "
          f"{row['allowed']:.1f}/s (chat.postMessage workspace 300/min would allow 6x more)")
    print(f"{'sent':>7} {'allowed/s':>10} {'end-to-end/s':>13} {'%':>6} {'delivery/s':>11} "
          f"{'%':>6} {'429s':>5} {'lost':>5} {'doubled':>8} {'passes':>7} {'peak RSS MB':>12}")
    print(f"{row['posts']:>7,} {row['allowed']:>10.1f} {row['rate']:>13.1f} "
          f"{100 * row['rate'] / row['allowed']:>5.0f}% {row['delivery_rate']:>11.1f} "
          f"{100 * row['delivery_rate'] / row['allowed']:>5.0f}% {row['limited']:>5} "
          f"{row['lost']:>5} {row['doubled']:>8} {row['passes']:>7} {row['peak_rss_mb']:>12.0f}")
    if row["lost"] or row["doubled"] or row["db_sent"] != args.nudges:
        raise SystemExit(f"delivery was not exactly once: {row}")


if __name__ == "__main__":
    main()
