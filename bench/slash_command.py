"""Slash commands under load: Rapport against its two floors, measured side by side in one run.

Three servers, each the production aiohttp app (request middleware, Bolt's signature check and
single-workspace authorize) in a process of its own; this process plays Slack: closed-loop
clients sending signed `/rapport log Dana coffee`, plus the Web API fake and response_url.

  bare   a /rapport listener that only acks: the cost of the stack itself;
  floor  a listener doing the inherent work of `log` with the plain driver (sqlite3 on the event
         loop, or asyncpg): one indexed SELECT of the contact, one INSERT, one UPDATE;
  app    Rapport.

    python bench/slash_command.py                          # SQLite, 50 clients (make bench)
    python bench/slash_command.py --clients 50 200 --seconds 20
    python bench/slash_command.py --url postgresql+asyncpg://postgres@127.0.0.1/test \\
        --clients 50 --processes 1 2                       # PostgreSQL, one then two processes
    python bench/slash_command.py --profile out.html       # pyinstrument the app server
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import socket
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
COMMAND = "log Dana coffee"
LATE_SECONDS = 2.5


def _user(n: int) -> str:
    return f"U0B{n:05d}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------ servers (child processes)
def _bolt(settings: Any) -> Any:
    from slack_bolt.async_app import AsyncApp

    from rapport.bot.platforms.slack.client import make_client
    from rapport.bot.platforms.slack.platform import _single_workspace_authorize

    client = make_client(settings)
    return AsyncApp(signing_secret=settings.slack_signing_secret, client=client,
                    authorize=_single_workspace_authorize(client, settings.slack_bot_token))


def _mount(app: web.Application, bolt: Any) -> None:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(
            await to_bolt_request(request)))

    app.router.add_post("/slack/events", events)


async def _bare_installer(app: web.Application, runtime: Any) -> None:
    bolt = _bolt(runtime.settings)

    @bolt.command("/rapport")
    async def only_ack(ack: Any) -> None:
        await ack()

    _mount(app, bolt)


_SELECT = ("SELECT c.id FROM contacts c JOIN users u ON u.id = c.user_id "
           "WHERE u.external_id = {p1} AND c.name_key = {p2}")
_INSERT = ("INSERT INTO touchpoints (workspace_id, user_id, contact_id, happened_at, kind, "
           "source, created_at) SELECT workspace_id, user_id, id, {p1}, 'coffee', 'command', "
           "{p1} FROM contacts WHERE id = {p2}")
_UPDATE = "UPDATE contacts SET last_touch_at = {p1} WHERE id = {p2}"


async def _floor_installer(app: web.Application, runtime: Any) -> None:
    """`log`'s inherent work through the plain driver, in the same Bolt stack."""
    bolt = _bolt(runtime.settings)
    url = runtime.settings.database_url
    if url.startswith("sqlite"):
        import sqlite3

        connection = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        # As durable as the app's commits (rapport.storage.db.configure_sqlite): WAL with
        # synchronous=NORMAL syncs at checkpoints, not at every commit. With SQLite's default
        # (FULL) every commit of the floor waited for an fsync the app's do not.
        connection.execute("PRAGMA synchronous=NORMAL")

        def work(user: str) -> None:
            now = time.strftime("%Y-%m-%d %H:%M:%S.000000")
            connection.execute("BEGIN IMMEDIATE")
            try:
                [(contact_id,)] = connection.execute(_SELECT.format(p1="?", p2="?"),
                                                     (user, "dana")).fetchall()
                connection.execute(_INSERT.format(p1="?", p2="?"), (now, now, contact_id))
                connection.execute(_UPDATE.format(p1="?", p2="?"), (now, contact_id))
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

        async def run(user: str) -> None:
            work(user)
    else:
        import asyncpg

        pool = await asyncpg.create_pool(url.replace("postgresql+asyncpg", "postgresql"),
                                         min_size=2, max_size=runtime.settings.database_pool_size)

        async def run(user: str) -> None:
            from datetime import UTC, datetime

            now = datetime.now(UTC)
            async with pool.acquire() as connection, connection.transaction():
                contact_id = await connection.fetchval(_SELECT.format(p1="$1", p2="$2"),
                                                       user, "dana")
                await connection.execute(_INSERT.format(p1="$1", p2="$2"), now, contact_id)
                await connection.execute(_UPDATE.format(p1="$1", p2="$2"), now, contact_id)

    @bolt.command("/rapport")
    async def log(ack: Any, command: dict[str, Any]) -> None:
        await run(str(command["user_id"]))
        await ack(text="Logged coffee with Dana.")

    _mount(app, bolt)


async def serve(kind: str, slack_url: str, url: str, users: int, port: int, seed: bool,
                profile: str) -> Any:
    """Child process: seed, listen on `port` (shared with siblings), serve until stdin closes."""
    from rapport.bot.core.context import Actor
    from rapport.bot.platforms.registry import installers_for
    from rapport.bot.service.config import Settings
    from rapport.bot.service.logs import configure_logging
    from rapport.bot.service.runtime import build_runtime
    from rapport.bot.service.server import build_web_app
    from rapport.launch import keep_from_collector

    configure_logging("ERROR")
    settings = Settings(slack_signing_secret=SECRET, slack_bot_token=TOKEN,
                        slack_api_url=slack_url, database_url=url, metrics_port=0)
    runtime = await build_runtime(settings)
    if seed:
        for n in range(users):
            actor = Actor(platform="slack", workspace_external_id=TEAM,
                          user_external_id=_user(n))
            await runtime.rapport.handle_text(actor, "add Dana")
    installers = {"app": installers_for(settings), "bare": [_bare_installer],
                  "floor": [_floor_installer]}[kind]
    app = await build_web_app(runtime, installers=installers)
    # As `rapport serve` does once it listens; the same for the three servers.
    await runtime.rapport.warm_up()
    keep_from_collector()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, reuse_port=True).start()
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled")
        profiler.start()
    print("ready", flush=True)
    cpu_before = time.process_time()
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    # CPU seconds this server spent while driven: per request, steadier than latency on a
    # machine that other work shares.
    print(f"cpu {time.process_time() - cpu_before:.4f}", flush=True)
    if profiler is not None:
        profiler.stop()
        await asyncio.to_thread(Path(profile).write_text, profiler.output_html())
        print(profiler.output_text(unicode=False, color=False, show_all=False), file=sys.stderr)
    await runner.cleanup()
    await runtime.close()


# ------------------------------------------------------------------ Slack side (this process)
class Sink:
    """Slack's response_url endpoint."""

    def __init__(self) -> None:
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()

        async def post(request: web.Request) -> web.Response:
            await request.read()
            return web.Response(text="ok")

        app.router.add_post("/response", post)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/response"


def _cpu_jiffies() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine so far (Linux), or None elsewhere."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


async def _machine_busy(measure_from: float, stop_at: float
                        ) -> tuple[float, float] | tuple[None, None]:
    """Share of all the machine's cores busy between the two moments, and the CPU seconds
    they were busy: near 1.0 means the CPU, not Rapport's design, bounds what another
    process could add."""
    await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
    first = _cpu_jiffies()
    await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
    last = _cpu_jiffies()
    if first is None or last is None or last[1] == first[1]:
        return None, None
    busy = last[0] - first[0]
    return busy / (last[1] - first[1]), busy / os.sysconf("SC_CLK_TCK")


# Measuring starts once every client has had this many answers (and `warmup` has passed):
# a user's first commands do first-contact work (their Slack profile looked up, their rows
# cached, their first Home), and 200 new users at once kept the app busy with it for 1-3 s.
WARM_ANSWERS = 5


async def drive(port: int, fake: FakeSlack, sink: Sink, *, clients: int, seconds: float,
                warmup: float, expected: bytes) -> dict[str, Any]:
    """`clients` closed-loop clients for `seconds`, measured from when `warmup` has passed and
    every client has had `WARM_ANSWERS` answers; latencies in seconds. Late answers are
    counted from the first request, warm-up included. An answer that lacks `expected` (when
    given) and is not "busy" is counted as wrong."""
    verifier = SignatureVerifier(SECRET)
    url = f"http://127.0.0.1:{port}/slack/events"
    latencies: list[float] = []
    answered = 0
    statuses: dict[int, int] = {}
    counter = itertools.count()
    busy = 0
    # Answers that say neither the command's outcome nor "busy": an app that fails fast must
    # not pass for a fast one.
    wrong: list[bytes] = []
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=10)
    late = 0
    # When measuring starts and stops: set once the warm-up is over.
    window: list[float] = []
    warmed = asyncio.Event()
    warm_clients = 0
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        started = time.perf_counter()

        async def client(n: int) -> None:
            nonlocal busy, answered, late, warm_clients
            user = _user(n)
            answers = 0
            while not window or time.perf_counter() < window[1]:
                body = urllib.parse.urlencode({
                    "token": "legacy", "team_id": TEAM, "team_domain": "bench",
                    "channel_id": "C0GENERAL", "channel_name": "general", "user_id": user,
                    "user_name": user.lower(), "command": "/rapport", "text": COMMAND,
                    "api_app_id": fake.app_id, "response_url": sink.url,
                    "trigger_id": f"{next(counter)}.{time.time_ns()}"})
                ts = str(int(time.time()))
                headers = {"Content-Type": "application/x-www-form-urlencoded",
                           "X-Slack-Request-Timestamp": ts,
                           "X-Slack-Signature": verifier.generate_signature(timestamp=ts,
                                                                            body=body)}
                sent = time.perf_counter()
                answer = b""
                try:
                    async with http.post(url, data=body.encode(), headers=headers) as response:
                        answer = await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                elapsed = time.perf_counter() - sent
                answered += 1
                late += elapsed > LATE_SECONDS
                answers += 1
                if answers == WARM_ANSWERS:
                    warm_clients += 1
                    if warm_clients == clients:
                        warmed.set()
                if window and sent >= window[0]:
                    latencies.append(elapsed)
                    statuses[status] = statuses.get(status, 0) + 1
                    refused = b"try again in a moment" in answer
                    busy += refused
                    if expected and not refused and expected not in answer:
                        wrong.append(answer)

        async def measure_window() -> tuple[float, float] | tuple[None, None]:
            # A guard against a server that never answers everyone, not a time limit.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(warmed.wait(), 120)
            await asyncio.sleep(max(0.0, started + warmup - time.perf_counter()))
            measure_from = time.perf_counter()
            window.extend((measure_from, measure_from + seconds))
            return await _machine_busy(measure_from, measure_from + seconds)

        busy_share = asyncio.create_task(measure_window())
        await asyncio.gather(*(client(n) for n in range(clients)))
        machine, machine_seconds = await busy_share
    latencies.sort()
    return {"n": len(latencies), "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "max": latencies[-1], "rps": len(latencies) / seconds, "statuses": statuses,
            "late": late, "busy": busy, "wrong": len(wrong), "wrong_sample": wrong[:1],
            "all": answered, "machine": machine,
            # Everything on the machine per answered request: servers, database, clients, fakes.
            "machine_ms": None if machine_seconds is None or not latencies
            else 1000 * machine_seconds / len(latencies)}


async def _reset(url: str) -> None:
    if url.startswith("postgresql"):
        from sqlalchemy import text

        from rapport.storage import db

        engine = db.create_engine(url, pool_size=1)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await engine.dispose()


async def run_side(kind: str, fake: FakeSlack, sink: Sink, url: str, *, clients: int,
                   seconds: float, processes: int, profile: str) -> dict[str, Any]:
    await _reset(url)
    port = _free_port()
    children = []
    try:
        for index in range(processes):
            child = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--serve", kind, "--slack-url", fake.base_url,
                "--db", url, "--users", str(clients), "--port", str(port),
                "--seed", "1" if index == 0 else "0",
                "--profile", profile if index == 0 else "",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
            children.append(child)
            assert child.stdout is not None
            # One at a time: the first seeds and migrates before the others start.
            if not await asyncio.wait_for(child.stdout.readline(), 600):
                raise RuntimeError(f"{kind} server did not start")
        # The bare server acks with no text; the floor and the app say what they logged.
        result = await drive(port, fake, sink, clients=clients, seconds=seconds,
                             warmup=min(2.0, seconds / 5),
                             expected=b"" if kind == "bare" else b"Logged coffee with Dana")
    finally:
        for child in children:
            assert child.stdin is not None
            child.stdin.close()
        await asyncio.gather(*(asyncio.wait_for(c.wait(), 60) for c in children))
    cpu = 0.0
    for child in children:
        assert child.stdout is not None
        for line in (await child.stdout.read()).decode().splitlines():
            if line.startswith("cpu "):
                cpu += float(line.split()[1])
    result["cpu_ms"] = 1000 * cpu / max(1, result["all"])
    return result


def _row(label: str, row: dict[str, Any]) -> str:
    machine = "-" if row["machine"] is None else f"{100 * row['machine']:.0f}%"
    return (f"{label:<22} {row['n']:>8,} {row['rps']:>7.0f} {1000 * row['p50']:>8.1f} "
            f"{1000 * row['p99']:>8.1f} {1000 * row['max']:>8.1f} {row['late']:>6} "
            f"{row['busy']:>6} {row['cpu_ms']:>7.2f} {machine:>8}  {row['statuses']}"
            + (f"  WRONG ANSWERS: {row['wrong']}, e.g. {row['wrong_sample'][0][:200]!r}"
               if row["wrong"] else ""))


async def main_async(args: argparse.Namespace) -> None:
    sink = Sink()
    await sink.start()
    backend = "PostgreSQL" if args.url else "SQLite"
    async with FakeSlack() as fake:
        fake.add_workspace(TEAM, "Bench", bot_token=TOKEN)
        for n in range(max(args.clients)):
            fake.add_user(_user(n), name=f"user{n}", tz="Europe/Berlin", team_id=TEAM)
        with tempfile.TemporaryDirectory() as workdir:
            print(f"{backend}, `/rapport {COMMAND}`, {args.seconds:.0f} s per row, measured "
                  f"once every client has had {WARM_ANSWERS} answers, closed-loop clients; "
                  f"late = answered after {LATE_SECONDS} s (warm-up included); busy = "
                  "answered \"busy, try again\"; cpu ms = "
                  "server CPU per request (all processes, warm-up included); machine = share of "
                  f"all {os.cpu_count()} cores busy while measured (servers, clients, "
                  "database and fakes together)")
            print(f"{'server':<22} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
                  f"{'max ms':>8} {'late':>6} {'busy':>6} {'cpu ms':>7} {'machine':>8}  statuses")
            for clients in args.clients:
                rows: dict[str, dict[str, Any]] = {}
                for kind in ("bare", "floor"):
                    url = args.url or f"sqlite+aiosqlite:///{workdir}/{kind}{clients}.db"
                    rows[kind] = await run_side(kind, fake, sink, url, clients=clients,
                                                seconds=args.seconds, processes=1, profile="")
                    print(_row(f"{kind}, {clients} clients", rows[kind]))
                for processes in args.processes:
                    url = args.url or f"sqlite+aiosqlite:///{workdir}/app{clients}.db"
                    key = f"app x{processes}"
                    rows[key] = await run_side("app", fake, sink, url, clients=clients,
                                               seconds=args.seconds, processes=processes,
                                               profile=args.profile)
                    print(_row(f"{key}, {clients} clients", rows[key]))
                app = rows["app x1"] if "app x1" in rows else rows[f"app x{args.processes[0]}"]
                ratio = app["p99"] / rows["floor"]["p99"]
                print(f"  p99 app/floor: {ratio:.2f}x (target <= 1.5x: "
                      f"{'met' if ratio <= 1.5 else 'NOT met'}); app/bare: "
                      f"{app['p99'] / rows['bare']['p99']:.2f}x; late requests: "
                      f"{sum(r['late'] for r in rows.values())}")
                if "app x1" in rows and "app x2" in rows:
                    scale = rows["app x2"]["rps"] / rows["app x1"]["rps"]
                    print(f"  throughput two processes / one: {scale:.2f}x (target >= 1.8x: "
                          f"{'met' if scale >= 1.8 else 'NOT met'})")
                    if rows["app x1"]["machine_ms"]:
                        # What the cores allow at one process's cost per request, all of it
                        # counted (the database and the clients share these cores).
                        most = (os.cpu_count() or 1) / (rows["app x1"]["machine_ms"] / 1000)
                        print(f"  at {rows['app x1']['machine_ms']:.2f} ms of the whole "
                              "machine's CPU per request, its cores allow at most "
                              f"{most / rows['app x1']['rps']:.2f}x one process's rate")
    assert sink.runner is not None
    await sink.runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="measured time per row")
    parser.add_argument("--clients", type=int, nargs="+", default=[50])
    parser.add_argument("--processes", type=int, nargs="+", default=[1],
                        help="app server processes sharing the port (2+: PostgreSQL only)")
    parser.add_argument("--url", default="", help="PostgreSQL URL (default: temp SQLite)")
    parser.add_argument("--profile", default="",
                        help="write a pyinstrument HTML profile of the (first) app server")
    parser.add_argument("--serve", choices=("app", "bare", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--slack-url", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--users", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed", default="1", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.slack_url, args.db, args.users, args.port,
                          args.seed == "1", args.profile))
    else:
        if not args.url and max(args.processes) > 1:
            parser.error("several processes need PostgreSQL (--url)")
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
