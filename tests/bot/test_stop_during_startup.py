"""A stop signal while a process starts. Found by an operator: a SIGTERM in the first two
seconds of `rapport serve` (its imports) killed it with status 143, although
docs/operations.md promises that start-up finishes its current step, then exits 0. Now
`rapport.launch` takes SIGTERM and SIGINT over on its first line; `serve`, `worker` and `chat`
stop at their next step without serving, and every other command is stopped as before."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from rapport.storage.db import SCHEMA_HEAD
from tests.bot.processes import clean_env, free_port, running_cli

ROOT = Path(__file__).resolve().parents[2]


def _catches(pid: int, signum: signal.Signals) -> bool:
    """Whether process `pid` has a handler for `signum` (Linux: SigCgt in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


async def test_a_sigterm_while_serve_starts_stops_it_cleanly_before_it_serves(
        tmp_path: Path) -> None:
    env = clean_env(tmp_path, RAPPORT_PORT=str(free_port()), RAPPORT_LOG_FORMAT="json")
    async with running_cli("serve", "--no-console", env=env, cwd=tmp_path) as process:
        # As soon as anything can take the signal: before this, the interpreter itself is
        # starting and any program dies of it.
        async with asyncio.timeout(60):  # a hang guard
            while not _catches(process.pid, signal.SIGTERM):
                assert process.returncode is None, "serve exited before it could be stopped"
                await asyncio.sleep(0.005)
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)

    log = stderr.decode()
    assert process.returncode == 0, log[-2000:]
    messages = [json.loads(line)["msg"] for line in log.splitlines()]
    assert "stopped during start-up, before serving" in messages, messages
    assert "listening" not in messages and "shutting down" not in messages, messages
    # Nothing half-done: a step under way (the migration) was finished, none was begun after.
    database = tmp_path / "rapport.db"
    if database.exists():
        with sqlite3.connect(database) as connection:
            [(revision,)] = connection.execute("SELECT version_num FROM alembic_version")
        assert revision == SCHEMA_HEAD


def _probe(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=False, timeout=60)


def test_a_signal_held_for_another_command_is_delivered_when_it_starts() -> None:
    """`rapport db upgrade`, `import`, ...: no graceful stop of their own, so a SIGTERM that
    came during the imports stops them as soon as the command is known, as it always did."""
    result = _probe("import signal\n"
                    "from rapport.launch import hold_stop_signals, release_stop_signals\n"
                    "hold_stop_signals()\n"
                    "signal.raise_signal(signal.SIGTERM)\n"
                    "print('held', flush=True)\n"
                    "release_stop_signals()\n"
                    "print('not reached', flush=True)\n")
    assert result.returncode == -signal.SIGTERM
    assert result.stdout == "held\n"


def test_releasing_gives_back_the_handlers_from_before() -> None:
    result = _probe("import signal\n"
                    "from rapport.launch import hold_stop_signals, release_stop_signals, "
                    "stop_requested\n"
                    "hold_stop_signals()\n"
                    "signal.raise_signal(signal.SIGINT)\n"
                    "print(stop_requested().name)\n"
                    "try:\n"
                    "    release_stop_signals()\n"
                    "except KeyboardInterrupt:\n"
                    "    print('KeyboardInterrupt')\n"
                    "print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, stop_requested())\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["SIGINT", "KeyboardInterrupt", "True", "None"]
