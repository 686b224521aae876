"""Run the real `python -m rapport ...` as a subprocess with a clean, explicit environment."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from unittest import mock

import aiohttp

# Every variable Rapport reads: removed from the inherited environment so a developer's own
# credentials never leak into a test's process, then set explicitly by each test.
_PREFIXES = ("RAPPORT_", "SLACK_", "MicrosoftApp", "TEAMS_", "OPENAI_", "AZURE_OPENAI_")


def clean_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The current environment minus Rapport's variables, with a SQLite file in `tmp_path`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_PREFIXES)}
    env["RAPPORT_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'rapport.db'}"
    # Any free operator port: a developer's own `make run` may hold the default one.
    env["RAPPORT_METRICS_PORT"] = str(free_port())
    env.update(overrides)
    return env


def run_cli(*args: str, env: Mapping[str, str], cwd: Path,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m rapport ARGS` to completion (`timeout` only guards against a hang)."""
    return subprocess.run([sys.executable, "-m", "rapport", *args], env=dict(env), cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)


def run_cli_in_process(*args: str, env: Mapping[str, str], cwd: Path
                       ) -> subprocess.CompletedProcess[str]:
    """`rapport ARGS` through the console script's own entry point (`cli.main`, what
    `python -m rapport` runs) in this process, with exactly `env` as the environment, `cwd` as
    the working directory and no input: the same parsing, settings and checks as `run_cli`,
    without paying a Python start and the app's imports (about two seconds on CI) each time.
    Every behaviour so tested keeps at least one `run_cli` test through a real process."""
    from rapport.bot.service import cli

    stdout, stderr = io.StringIO(), io.StringIO()
    code: int
    with (mock.patch.dict(os.environ, dict(env), clear=True), contextlib.chdir(cwd),
          mock.patch.object(sys, "argv", ["rapport", *args]),
          mock.patch.object(sys, "stdin", io.StringIO()),
          contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr)):
        try:
            cli.main()
            code = 0
        except SystemExit as exit_:
            if exit_.code is None or isinstance(exit_.code, int):
                code = exit_.code or 0
            else:  # what the interpreter does with a message as exit code
                print(exit_.code, file=sys.stderr)
                code = 1
    return subprocess.CompletedProcess(["rapport", *args], code, stdout.getvalue(),
                                       stderr.getvalue())


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def refusing_port() -> Iterator[int]:
    """A port that refuses connections for as long as the block runs: bound, never listening,
    so no other process on a busy machine can take it and answer instead."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield int(bound.getsockname()[1])


async def run_chat(*lines: str, cwd: Path, database: Path, **env: str) -> tuple[str, str]:
    """(stdout, stderr) of `python -m rapport chat` (no scheduler) with `lines` typed, as a
    person runs it; it must exit 0."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rapport", "chat", "--user", "sam", "--no-scheduler", cwd=cwd,
        env=clean_env(cwd, RAPPORT_DATABASE_URL=f"sqlite+aiosqlite:///{database}", **env),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(
        process.communicate("".join(f"{line}\n" for line in lines).encode()), 120)
    assert process.returncode == 0, stderr.decode()
    return stdout.decode(), stderr.decode()


async def start_cli(*args: str, env: Mapping[str, str], cwd: Path,
                    stdin: int = asyncio.subprocess.DEVNULL,
                    stdout: int = asyncio.subprocess.DEVNULL) -> asyncio.subprocess.Process:
    """Start `python -m rapport ARGS` with stderr captured (read it with communicate());
    `stdin` and `stdout` may be file descriptors (a pipe's or a terminal's end)."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rapport", *args, env=dict(env), cwd=cwd,
        stdin=stdin, stdout=stdout, stderr=asyncio.subprocess.PIPE)


@asynccontextmanager
async def killed_on_exit(process: asyncio.subprocess.Process
                         ) -> AsyncIterator[asyncio.subprocess.Process]:
    """`process` for the block; killed (and reaped) on the way out if it still runs, so a
    failed wait or assertion never leaves a process behind."""
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@asynccontextmanager
async def running_cli(*args: str, env: Mapping[str, str], cwd: Path,
                      stdin: int = asyncio.subprocess.DEVNULL,
                      stdout: int = asyncio.subprocess.DEVNULL
                      ) -> AsyncIterator[asyncio.subprocess.Process]:
    """`start_cli(ARGS)` for the block, killed on the way out if it still runs (stop it with
    `stop_cleanly` to check its exit)."""
    started = await start_cli(*args, env=env, cwd=cwd, stdin=stdin, stdout=stdout)
    async with killed_on_exit(started) as process:
        yield process


async def stop_cleanly(process: asyncio.subprocess.Process,
                       signum: int = signal.SIGTERM) -> str:
    """SIGTERM (or `signum`, e.g. SIGINT for a Ctrl-C) `process`, wait for it to exit (60 s
    only guard against a hang), check it exited 0 and return its stderr (empty when stderr was
    not captured)."""
    process.send_signal(signum)
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    log = (stderr or b"").decode()
    assert process.returncode == 0, log[-2000:]
    return log


async def metric(http: aiohttp.ClientSession, base: str, name: str) -> float:
    """The value of the sample `name` (no labels) in `base`/metrics; 0 while it is absent."""
    async with http.get(f"{base}/metrics") as response:
        for line in (await response.text()).splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return 0.0


async def wait_for_metric(base: str, name: str, at_least: float, *, failure: str,
                          guard_seconds: float = 90) -> None:
    """Poll `base`/metrics until the sample `name` reaches `at_least`; `guard_seconds` is a
    hang guard (fails with `failure`), not a speed requirement."""
    deadline = time.monotonic() + guard_seconds
    async with aiohttp.ClientSession() as http:
        while await metric(http, base, name) < at_least:
            assert time.monotonic() < deadline, failure
            await asyncio.sleep(0.1)


async def wait_until_answering(process: asyncio.subprocess.Process, url: str,
                               guard_seconds: float = 90) -> None:
    """Poll `url` until it answers at all; fails if the process exits or the guard runs out."""
    deadline = time.monotonic() + guard_seconds
    async with aiohttp.ClientSession() as http:
        while True:
            if process.returncode is not None:
                _, stderr = await process.communicate()
                raise AssertionError(f"exited with {process.returncode}: "
                                     f"{stderr.decode()[-2000:]}")
            try:
                async with http.get(url) as response:
                    await response.read()
                    return
            except aiohttp.ClientConnectionError:
                pass
            assert time.monotonic() < deadline, f"{url} never answered"
            await asyncio.sleep(0.1)
