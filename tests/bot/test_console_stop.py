"""Stopping a process that chats in the terminal: `rapport serve --console` (and `rapport
chat`) end on SIGTERM or Ctrl-C while the console waits for a line that may never come.

Found by a tester: after SIGTERM, `serve --console` logged "shutting down" and "scheduler
stopped" and then never exited, with stdin a terminal or a pipe that stayed open. The line was
read on the event loop's default executor, which `asyncio.run` joins on the way out, and that
thread sat in a read nobody would answer.
"""

from __future__ import annotations

import asyncio
import json
import os
import pty
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.console.chat import PROMPT, ConsoleChat, console_actor
from tests.bot.processes import (
    clean_env,
    free_port,
    killed_on_exit,
    running_cli,
    start_cli,
    stop_cleanly,
    wait_until_answering,
)
from tests.conftest import say


@contextmanager
def open_stdin(kind: str) -> Iterator[tuple[int, int]]:
    """(the child's end, the test's end) of a stdin that stays open and says nothing: a pipe,
    or a pseudo-terminal as a person at a terminal has. Both ends are closed afterwards."""
    if kind == "pty":
        ours, theirs = pty.openpty()
    else:
        theirs, ours = os.pipe()
    try:
        yield theirs, ours
    finally:
        for fd in (theirs, ours):
            os.close(fd)


def log_records(tmp_path: Path) -> list[dict[str, Any]]:
    """The console's log file (rapport.log beside the SQLite database), one record a line."""
    return [json.loads(line) for line in (tmp_path / "rapport.log").read_text().splitlines()]


def assert_shut_down_cleanly(tmp_path: Path, stderr: str) -> None:
    """Its log says it shut down, with no error; nothing went wrong on its way out (a daemon
    thread left holding stdin's lock can abort an interpreter's exit, on stderr)."""
    assert "Traceback" not in stderr and "Fatal" not in stderr, stderr
    records = log_records(tmp_path)
    messages = [record["msg"] for record in records]
    assert "shutting down" in messages and "scheduler stopped" in messages, messages
    assert [r for r in records if r["level"] in ("error", "critical")] == []


@pytest.mark.parametrize(("stdin", "signum"), [
    pytest.param("pipe", signal.SIGTERM, id="pipe-SIGTERM"),
    pytest.param("pty", signal.SIGTERM, id="pty-SIGTERM"),
    pytest.param("pty", signal.SIGINT, id="pty-Ctrl-C")])
async def test_serve_with_the_console_stops_on_a_signal_while_waiting_for_a_line(
        tmp_path: Path, stdin: str, signum: signal.Signals) -> None:
    port = free_port()
    env = clean_env(tmp_path, RAPPORT_PORT=str(port), RAPPORT_LOG_FORMAT="json")
    with open_stdin(stdin) as (theirs, _ours):
        async with running_cli("serve", "--console", env=env, cwd=tmp_path,
                               stdin=theirs) as process:
            await wait_until_answering(process, f"http://127.0.0.1:{port}/healthz")
            # Exits 0 (a hang fails stop_cleanly's guard) while the terminal is still open.
            stderr = await stop_cleanly(process, signum)
    assert_shut_down_cleanly(tmp_path, stderr)


async def until_printed(terminal: int, needle: str) -> str:
    """What the child wrote to its terminal (`terminal` the pty's master end) until `needle`."""
    loop = asyncio.get_running_loop()
    seen = bytearray()
    found: asyncio.Future[None] = loop.create_future()

    def read() -> None:
        seen.extend(os.read(terminal, 4096))
        if needle.encode() in seen and not found.done():
            found.set_result(None)

    loop.add_reader(terminal, read)
    try:
        await asyncio.wait_for(found, 90)  # a hang guard, not a speed requirement
    finally:
        loop.remove_reader(terminal)
    return seen.decode()


async def test_chat_at_a_terminal_stops_on_sigterm_at_its_prompt(tmp_path: Path) -> None:
    """`rapport chat` runs the same loop without the web server; stdin and stdout are one
    pseudo-terminal, as for a person, so the test sees the prompt before it signals."""
    env = clean_env(tmp_path, RAPPORT_LOG_FORMAT="json")
    with open_stdin("pty") as (theirs, ours):
        async with running_cli("chat", env=env, cwd=tmp_path, stdin=theirs,
                               stdout=theirs) as process:
            await until_printed(ours, PROMPT)
            stderr = await stop_cleanly(process)
    assert_shut_down_cleanly(tmp_path, stderr)


async def test_quit_typed_at_the_console_still_stops_serve(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(tmp_path, RAPPORT_PORT=str(port), RAPPORT_LOG_FORMAT="json")
    with open_stdin("pipe") as (theirs, ours):
        async with killed_on_exit(await start_cli("serve", "--console", env=env, cwd=tmp_path,
                                                  stdin=theirs)) as process:
            await wait_until_answering(process, f"http://127.0.0.1:{port}/healthz")
            os.write(ours, b"quit\n")
            _, stderr = await asyncio.wait_for(process.communicate(), 60)  # a hang guard
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert_shut_down_cleanly(tmp_path, stderr.decode())


class Lines:
    """Typed lines with a hook run just before each is handed over; then nothing, forever."""

    def __init__(self, *lines: str, before_each: Callable[[], None] | None = None) -> None:
        self.lines = lines
        self.before_each = before_each
        self.asked = 0
        self.silent = asyncio.Event()  # asked for a line it will never give

    async def __aiter__(self) -> AsyncIterator[str]:
        for line in self.lines:
            self.asked += 1
            if self.before_each is not None:
                self.before_each()
            yield line
        self.asked += 1
        self.silent.set()
        await asyncio.Event().wait()  # a terminal left open: no line, no end of input
        yield ""  # never reached


async def test_a_stop_at_the_prompt_ends_the_chat_with_its_goodbye(
        rapport: Rapport, tmp_path: Path) -> None:
    output: list[str] = []
    stop = asyncio.Event()
    lines = Lines()
    chat = ConsoleChat(rapport=rapport, actor=console_actor("sam", "UTC"), lines=aiter(lines),
                       write=output.append, export_dir=tmp_path, stop=stop)
    running = asyncio.create_task(chat.run())
    await asyncio.wait_for(lines.silent.wait(), 30)  # a hang guard
    stop.set()
    await asyncio.wait_for(running, 30)  # a hang guard
    assert output[-1] == "\nBye.\n"


async def test_a_line_being_answered_when_the_stop_comes_is_answered_first(
        rapport: Rapport, tmp_path: Path) -> None:
    """The same promise as the server's graceful stop: work in flight finishes, and no new
    line is read after the stop."""
    output: list[str] = []
    stop = asyncio.Event()
    lines = Lines("add Dana Scully", "add Fox Mulder", before_each=stop.set)
    chat = ConsoleChat(rapport=rapport, actor=console_actor("sam", "UTC"), lines=aiter(lines),
                       write=output.append, export_dir=tmp_path, stop=stop)
    await asyncio.wait_for(chat.run(), 30)  # a hang guard
    answers = "".join(output).split(PROMPT)
    assert answers[1].startswith("Added Dana Scully") and answers[-1] == "\nBye.\n"
    assert lines.asked == 1
    people = await say(rapport, "people", console_actor("sam", "UTC"))
    assert "Dana Scully" in people and "Fox Mulder" not in people
