"""Slash-command latency: the real Slack app against the same stack whose handler only acks.

Both servers are the production aiohttp app (bot.server.build_web_app, request middleware,
Bolt signature check and authorize, SQLite in a temp dir). "app" mounts Rapport's Slack
installer; "bare" mounts a Bolt AsyncApp whose /rapport listener only calls ack(). Each runs in
its own process (the server gets a core to itself, as in production); this process plays Slack:
50 concurrent clients sending signed `/rapport due` and `/rapport log Dana coffee`, the Web API
(FakeSlack) and the response_url endpoint. Half of --seconds goes to each side.

    python bench/slash_command.py                 # make bench scale (20 s)
    python bench/slash_command.py --seconds 40 --clients 50
    python bench/slash_command.py --profile out.html   # pyinstrument the app server
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack_api import FakeSlack

SECRET = "bench-signing-secret-0123456789ab"
TOKEN = "xoxb-bench-token"
TEAM = "T0BENCH"
COMMANDS = ("due", "log Dana coffee")
ACK_BUDGET_SECONDS = 3.0


def _user(n: int) -> str:
    return f"U0B{n:05d}"


# ------------------------------------------------------------------ server (child process)
async def _bare_installer(app: web.Application, runtime: Any) -> None:
    """The same Bolt stack as the Slack installer, with a /rapport listener that only acks."""
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp

    from rapport.bot.platforms.slack.client import make_client
    from rapport.bot.platforms.slack.platform import _single_workspace_authorize

    settings = runtime.settings
    client = make_client(settings)
    bolt = AsyncApp(signing_secret=settings.slack_signing_secret, client=client,
                    authorize=_single_workspace_authorize(client, settings.slack_bot_token))

    @bolt.command("/rapport")
    async def only_ack(ack: Any) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(
            await to_bolt_request(request)))

    app.router.add_post("/slack/events", events)


async def serve(kind: str, slack_url: str, workdir: str, users: int, profile: str) -> Any:
    """Child process: seed, start the server, print its port, serve until stdin closes."""
    from rapport.bot.core.context import Actor
    from rapport.bot.platforms.registry import installers_for
    from rapport.bot.service.config import Settings
    from rapport.bot.service.logs import configure_logging
    from rapport.bot.service.runtime import build_runtime
    from rapport.bot.service.server import build_web_app

    configure_logging("WARNING")
    settings = Settings(slack_signing_secret=SECRET, slack_bot_token=TOKEN,
                        slack_api_url=slack_url,
                        database_url=f"sqlite+aiosqlite:///{workdir}/{kind}.db")
    runtime = await build_runtime(settings)
    for n in range(users):
        actor = Actor(platform="slack", workspace_external_id=TEAM, user_external_id=_user(n))
        await runtime.rapport.handle_text(actor, "add Dana")
        await runtime.rapport.handle_text(actor, "note Dana: ask about the hiking trip")
    installers = installers_for(settings) if kind == "app" else [_bare_installer]
    app = await build_web_app(runtime, installers=installers)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled")
        profiler.start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    if profiler is not None:
        profiler.stop()
    await runner.cleanup()
    await runtime.close()
    return profiler


def write_profile(profiler: Any, path: str) -> None:
    """HTML for a browser, the raw session for re-rendering, and a text tree on stderr."""
    Path(path).write_text(profiler.output_html())
    profiler.last_session.save(path + ".pyisession")
    print(profiler.output_text(unicode=False, color=False, show_all=False), file=sys.stderr)


# ------------------------------------------------------------------ Slack side (this process)
class Sink:
    """Slack's response_url endpoint."""

    def __init__(self) -> None:
        self.posts = 0
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/response", self._post)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/response"

    async def _post(self, request: web.Request) -> web.Response:
        await request.read()
        self.posts += 1
        return web.Response(text="ok")


async def drive(port: int, fake: FakeSlack, sink: Sink, *, clients: int, seconds: float,
                warmup: float) -> dict[str, Any]:
    """`clients` closed-loop clients for `seconds` (after `warmup`); latencies in seconds."""
    verifier = SignatureVerifier(SECRET)
    url = f"http://127.0.0.1:{port}/slack/events"
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = itertools.count()
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        started = time.perf_counter()
        measure_from = started + warmup
        stop_at = measure_from + seconds

        async def client(n: int) -> None:
            user = _user(n)
            while (now := time.perf_counter()) < stop_at:
                text = COMMANDS[next(counter) % len(COMMANDS)]
                body = urllib.parse.urlencode({
                    "token": "legacy", "team_id": TEAM, "team_domain": "bench",
                    "channel_id": "C0GENERAL", "channel_name": "general", "user_id": user,
                    "user_name": user.lower(), "command": "/rapport", "text": text,
                    "api_app_id": fake.app_id, "response_url": sink.url,
                    "trigger_id": fake.new_trigger_id()})
                ts = str(int(time.time()))
                headers = {"Content-Type": "application/x-www-form-urlencoded",
                           "X-Slack-Request-Timestamp": ts,
                           "X-Slack-Signature": verifier.generate_signature(timestamp=ts,
                                                                            body=body)}
                sent = time.perf_counter()
                try:
                    async with http.post(url, data=body.encode(), headers=headers) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                elapsed = time.perf_counter() - sent
                if now >= measure_from:
                    latencies.append(elapsed)
                    statuses[status] = statuses.get(status, 0) + 1

        await asyncio.gather(*(client(n) for n in range(clients)))
    latencies.sort()
    return {"n": len(latencies), "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "max": latencies[-1], "rps": len(latencies) / seconds, "statuses": statuses}


async def run_side(kind: str, fake: FakeSlack, sink: Sink, workdir: str, *, clients: int,
                   seconds: float, profile: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", kind, "--slack-url", fake.base_url,
        "--workdir", workdir, "--clients", str(clients), "--profile", profile,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None and process.stdin is not None
    line = await asyncio.wait_for(process.stdout.readline(), 120)
    if not line:
        raise RuntimeError(f"{kind} server did not start")
    try:
        return await drive(int(line), fake, sink, clients=clients, seconds=seconds,
                           warmup=min(2.0, seconds / 5))
    finally:
        process.stdin.close()
        await asyncio.wait_for(process.wait(), 60)


async def main_async(args: argparse.Namespace) -> None:
    sink = Sink()
    await sink.start()
    async with FakeSlack() as fake:
        fake.add_workspace(TEAM, "Bench", bot_token=TOKEN)
        for n in range(args.clients):
            fake.add_user(_user(n), name=f"user{n}", tz="Europe/Berlin", team_id=TEAM)
        with tempfile.TemporaryDirectory() as workdir:
            rows = {}
            for kind in ("bare", "app"):
                rows[kind] = await run_side(kind, fake, sink, workdir, clients=args.clients,
                                            seconds=args.seconds / 2,
                                            profile=args.profile if kind == "app" else "")
    assert sink.runner is not None
    await sink.runner.cleanup()
    print(f"{args.clients} concurrent clients, {args.seconds / 2:.0f} s per side, "
          f"commands {' / '.join(COMMANDS)!r}")
    print(f"{'server':<6} {'requests':>9} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8}  statuses")
    for kind, row in rows.items():
        print(f"{kind:<6} {row['n']:>9,} {row['rps']:>7.0f} {1000 * row['p50']:>8.1f} "
              f"{1000 * row['p99']:>8.1f} {1000 * row['max']:>8.1f}  "
              f"{json.dumps(row['statuses'])}")
    ratio = rows["app"]["p99"] / rows["bare"]["p99"]
    print(f"p99 ratio app/bare: {ratio:.2f}x (target <= 1.3x: "
          f"{'met' if ratio <= 1.3 else 'NOT met'})")
    all_ok = all(set(row["statuses"]) == {200} for row in rows.values())
    worst = max(row["max"] for row in rows.values())
    within = all_ok and worst < ACK_BUDGET_SECONDS
    # Printed, not raised: like the p99 target, a miss is a finding, and `make bench` goes on.
    print(f"every request HTTP 200 inside Slack's {ACK_BUDGET_SECONDS:.0f} s: "
          f"{'yes' if within else 'NO'} (slowest {1000 * worst:.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="total measured time, split evenly between the two servers")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--profile", default="",
                        help="write a pyinstrument HTML profile of the app server here")
    parser.add_argument("--serve", choices=("app", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--slack-url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        profiler = asyncio.run(serve(args.serve, args.slack_url, args.workdir, args.clients,
                                     args.profile))
        if profiler is not None:
            write_profile(profiler, args.profile)
    else:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
