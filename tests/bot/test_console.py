"""The console driven as a person would: typed lines in, answers and nudges out."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sqlite3
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import Actor
from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.console.chat import (
    PROMPT,
    ConsoleChat,
    ConsoleMessenger,
    console_actor,
)
from rapport.bot.service.logs import configure_console_logging, console_log_path
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db, queries
from tests.bot.processes import clean_env, run_chat, run_cli
from tests.conftest import Clock


class TypedLines:
    """Lines a person types; the test decides when the next one is typed."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()

    def type(self, line: str | None) -> None:
        self.queue.put_nowait(line)

    async def __aiter__(self) -> AsyncIterator[str]:
        while (line := await self.queue.get()) is not None:
            yield line


async def _wait_for(output: list[str], needle: str) -> str:
    # Database work runs on aiosqlite's thread: poll briefly for the answer to appear.
    for _ in range(1000):
        joined = "".join(output)
        if needle in joined:
            return joined
        await asyncio.sleep(0.01)
    raise AssertionError(f"{needle!r} never printed; got:\n{''.join(output)}")


async def test_walkthrough_from_the_readme_delivers_a_nudge(engine: AsyncEngine, clock: Clock,
                                                            tmp_path: Path) -> None:
    output: list[str] = []
    sessions = db.session_factory(engine)
    rapport = Rapport(sessions=sessions, clock=clock)
    sweeper = Sweeper(sessions=sessions, messengers={"console": ConsoleMessenger(output.append)},
                      clock=clock)
    lines = TypedLines()
    chat = ConsoleChat(rapport=rapport, actor=console_actor("sam", "America/Los_Angeles"),
                       lines=lines, write=output.append, export_dir=tmp_path)
    running = asyncio.create_task(chat.run())
    clock.set(datetime(2026, 11, 23, 4, 0, tzinfo=UTC))  # 20:00 on Sunday in Los Angeles
    for line in ("add Dana Scully colleague every 2 weeks",
                 "note Dana: hiking trip in Yosemite on today",
                 "settings window 0:00-24:00",
                 "settings days all"):
        lines.type(line)
    await _wait_for(output, "every day")
    await sweeper.sweep()
    printed = await _wait_for(output, "Ask Dana about the hiking trip in Yosemite")
    # The user's local date, not UTC's (issue 14: one date format, with the weekday).
    assert "(you noted it on Sun Nov 22)" in printed
    nudge_number = printed.split("🔔 #", 1)[1].split(" ", 1)[0]
    lines.type(f"done #{nudge_number}")
    await _wait_for(output, "Logged that you reached out to Dana Scully")
    lines.type("export")
    await _wait_for(output, "saved as")
    assert (tmp_path / "rapport-export.json").read_text().count("hiking trip") == 1
    lines.type("quit")
    await asyncio.wait_for(running, 5)
    assert "Bye." in "".join(output)


async def test_bad_input_in_the_console_gets_an_answer_not_a_traceback(
        engine: AsyncEngine, clock: Clock, tmp_path: Path) -> None:
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
    text = await _console_lines(rapport, tmp_path, "frobnicate", "log", "log Nobody coffee",
                                "x" * 10_000, "snooze #999 1 day")
    assert "I don't know the command “frobnicate”" in text
    assert "Who do you mean?" in text
    assert "I don't know anyone called “Nobody”" in text
    assert "That is too long" in text
    assert "I can't find nudge #999" in text
    assert "Traceback" not in text


@pytest.mark.parametrize("goodbye", ["quit now", "exit please", "Bye!", "bye for now", "quit",
                                     "EXIT"])
async def test_quit_exit_or_bye_with_a_word_or_two_ends_the_chat(
        engine: AsyncEngine, clock: Clock, tmp_path: Path, goodbye: str) -> None:
    """“quit now” and “exit please” answered “I don't know the command “quit””."""
    running, lines, output = _started(
        Rapport(sessions=db.session_factory(engine), clock=clock), tmp_path)
    lines.type(goodbye)
    await asyncio.wait_for(running, 5)
    text = "".join(output)
    assert text.endswith("\nBye.\n") and "I don't know" not in text


async def test_a_longer_line_that_starts_with_quit_is_answered(
        engine: AsyncEngine, clock: Clock, tmp_path: Path) -> None:
    running, lines, output = _started(
        Rapport(sessions=db.session_factory(engine), clock=clock), tmp_path)
    lines.type("quit the job at Initech")
    await _wait_for(output, "I don't know the command “quit”")
    lines.type(None)
    await asyncio.wait_for(running, 5)


async def test_a_command_that_fails_inside_rapport_is_apologised_for_and_the_chat_goes_on(
        engine: AsyncEngine, clock: Clock, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure inside Rapport (here the database refusing a read) used to end the chat
    without a word: the person is told, the details go to the log file only, and the next
    line is answered."""
    def disk_error(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(queries, "people_rows", disk_error)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    terminal = io.StringIO()
    log_path = tmp_path / "rapport.log"
    output: list[str] = []
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
    lines = TypedLines()
    chat = ConsoleChat(rapport=rapport, actor=console_actor("sam", "UTC"), lines=lines,
                       write=output.append, export_dir=tmp_path, log_path=log_path)
    try:
        configure_console_logging("INFO", "json", log_path, prompt=PROMPT, stream=terminal)
        running = asyncio.create_task(chat.run())
        for line in ("people", "add Dana Scully"):
            lines.type(line)
        lines.type(None)
        await asyncio.wait_for(running, 5)
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
    answers = "".join(output).split(PROMPT)
    assert answers[1] == ("Sorry, something went wrong on my side (OperationalError); the "
                          f"details are in {log_path}. Try again, and check with “undo” "
                          "whether anything changed.\n")
    assert answers[2].startswith("Added Dana Scully")
    assert "Bye." in answers[-1]
    # Said once, in the answer: not again as a background notice.
    assert terminal.getvalue() == ""
    logged = [json.loads(line) for line in log_path.read_text().splitlines()]
    failed = [r for r in logged if r["msg"] == "console command failed"]
    assert len(failed) == 1 and failed[0]["exc_type"] == "OperationalError", logged


async def test_rapport_chat_process_prints_a_nudge(tmp_path: Path) -> None:
    """`rapport chat` as a subprocess: real scheduler, real clock, window covering now."""
    env = {**os.environ, "RAPPORT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
           "RAPPORT_SWEEP_SECONDS": "1", "TZ": "UTC"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rapport", "chat", "--user", "sam", cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    assert process.stdin is not None and process.stdout is not None
    for line in ("settings window 0:00-24:00", "settings days all", "add Dana",
                 "note Dana: hiking trip in Yosemite on today"):
        process.stdin.write(f"{line}\n".encode())
    await process.stdin.drain()
    seen = b""
    try:
        async with asyncio.timeout(60):
            while b"Ask Dana about the hiking trip in Yosemite" not in seen:
                chunk = await process.stdout.read(4096)
                if not chunk:
                    break
                seen += chunk
    finally:
        process.stdin.write(b"quit\n")
        await process.stdin.drain()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
    assert b"Ask Dana about the hiking trip in Yosemite" in seen, seen.decode()[-2000:]


async def test_import_reads_a_local_file_only_in_the_console(engine: AsyncEngine, clock: Clock,
                                                             tmp_path: Path) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text("name,kind,company,email,cadence,notes\n"
                   "Lee Park,client,Acme,lee@acme.test,6 weeks,likes chess\n")
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
    text = await _console_lines(rapport, tmp_path, f"import {csv} dry run", "people",
                                f"import {csv}", "people", f"import {tmp_path / 'missing.csv'}")
    first_people = text.index("You have no people yet")
    assert "Lee Park (client at Acme, every 6 weeks)" in text[first_people:]
    assert "I can't read" in text
    # On a chat platform the same words never read the server's files.
    reply = await rapport.handle_text(console_user_on_slack(), f"import {csv}")
    assert not reply.ok and "console" in reply.text


def console_user_on_slack() -> Actor:
    return Actor(platform="slack", workspace_external_id="T1", user_external_id="U1")


def _started(rapport: Rapport, tmp_path: Path
             ) -> tuple[asyncio.Task[None], TypedLines, list[str]]:
    """A console chat for "sam" (UTC) running: its task, what to type into it, what it wrote."""
    output: list[str] = []
    lines = TypedLines()
    chat = ConsoleChat(rapport=rapport, actor=console_actor("sam", "UTC"), lines=lines,
                       write=output.append, export_dir=tmp_path)
    return asyncio.create_task(chat.run()), lines, output


async def _console_lines(rapport: Rapport, tmp_path: Path, *typed: str) -> str:
    """What the chat wrote for the `typed` lines, up to the end of input."""
    running, lines, output = _started(rapport, tmp_path)
    for line in typed:
        lines.type(line)
    lines.type(None)
    await asyncio.wait_for(running, 10)
    return "".join(output)


async def test_import_refuses_rapports_own_database_by_any_name(
        engine: AsyncEngine, clock: Clock, tmp_path: Path) -> None:
    database = tmp_path / "rapport.db"
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
    await _console_lines(rapport, tmp_path, "add Erin")
    wal = Path(f"{database}-wal")
    assert await asyncio.to_thread(wal.exists)
    (tmp_path / "link.db").symlink_to(database)
    (tmp_path / "sub").mkdir()
    spellings = [database, wal, tmp_path / "link.db", tmp_path / "sub" / ".." / "rapport.db"]
    text = await _console_lines(rapport, tmp_path, *(f"import {path}" for path in spellings))
    assert text.count("That is Rapport's own database") == len(spellings), text
    assert "NUL bytes" not in text
    csv = tmp_path / "people.csv"
    csv.write_text("name\nLee Park\n")
    text = await _console_lines(rapport, tmp_path, f"import {csv}", "people")
    assert "own database" not in text and "Lee Park" in text and "Erin" in text


async def test_refused_import_keeps_sqlites_locks_so_the_wal_survives_another_connection(
        engine: AsyncEngine, clock: Clock, tmp_path: Path) -> None:
    # POSIX locks belong to the process: had the console opened and closed the database file,
    # SQLite's locks would be gone, and the next connection of another process to close would
    # delete the WAL that this process still writes to (bug: `add Erin` lost after a crash).
    database = tmp_path / "rapport.db"
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
    text = await _console_lines(rapport, tmp_path, "add Erin", f"import {database}")
    other = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "c.execute('SELECT count(*) FROM contacts').fetchall(); c.close()", str(database))
    assert await asyncio.wait_for(other.wait(), 30) == 0
    assert await asyncio.to_thread(os.path.exists, f"{database}-wal")
    assert "own database" in text
    text = await _console_lines(rapport, tmp_path, "add Frank", "people")
    assert "Erin" in text and "Frank" in text


async def test_admin_changes_in_the_console_are_logged_to_a_file_not_into_the_chat(
        tmp_path: Path) -> None:
    """An admin change is logged at WARNING for operators; the person chatting sees only the
    answers, and the audit record is in rapport.log beside the database."""
    data = tmp_path / "data"
    data.mkdir()
    said, stderr = await run_chat("admin ai off", "admin retention 12 months",
                                  "admin disclosure required", "add Dana", "quit",
                                  cwd=tmp_path, database=data / "r.db")
    assert stderr == ""
    assert said.split("rapport> ")[1].startswith("AI drafts are off for everyone")
    assert said.split("rapport> ")[2].startswith("Retention set to 12 months")
    assert said.split("rapport> ")[4].startswith("Added Dana")
    assert "WARNING" not in said and "changed by an admin" not in said
    assert not (tmp_path / "rapport.log").exists()
    records = [json.loads(line) for line in (data / "rapport.log").read_text().splitlines()]
    audit = [(r["level"], r["msg"], r["workspace_id"]) for r in records
             if r["logger"] == "rapport.bot.core.admin"]
    assert audit == [("warning", "workspace policy changed by an admin", 1),
                     ("warning", "workspace retention changed by an admin", 1),
                     ("warning", "workspace policy changed by an admin", 1)]
    assert [r.get("ai_enabled") for r in records if "policy" in r["msg"]] == [False, None]
    assert {r["months"] for r in records if "retention" in r["msg"]} == {12}
    # A second session appends: the record of the first one stays.
    await run_chat("admin ai on", "quit", cwd=tmp_path, database=data / "r.db",
                   RAPPORT_LOG_FORMAT="text")
    lines = (data / "rapport.log").read_text().splitlines()
    assert lines[:len(records)] == [json.dumps(r, ensure_ascii=False) for r in records]
    assert [line.split(" ", 2)[2] for line in lines[len(records):] if " WARNING " in line] == [
        "WARNING rapport.bot.core.admin workspace policy changed by an admin workspace_id=1 "
        "ai_enabled=true disclosure_policy=null"]


def test_a_real_problem_is_one_plain_line_in_the_chat_and_the_rest_stays_in_the_file(
        tmp_path: Path) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    terminal = io.StringIO()
    log_path = tmp_path / "rapport.log"
    try:
        configure_console_logging("INFO", "json", log_path, prompt=PROMPT, stream=terminal)
        logging.getLogger("rapport.bot.core.admin").warning(
            "workspace policy changed by an admin", extra={"workspace_id": 1})
        assert terminal.getvalue() == ""
        try:
            raise ConnectionResetError("database went away")
        except ConnectionResetError:
            logging.getLogger("rapport.scheduler.jobs").exception(
                "sweep failed; the next run retries")
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
    assert terminal.getvalue() == (
        "\n(Something went wrong in the background: sweep failed; the next run retries. The "
        f"details are in {log_path}.)\n{PROMPT}")
    logged = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [(r["level"], r["msg"]) for r in logged] == [
        ("warning", "workspace policy changed by an admin"),
        ("error", "sweep failed; the next run retries")]
    assert logged[1]["exc_type"] == "ConnectionResetError"


def test_the_console_log_sits_beside_an_sqlite_database_else_in_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert console_log_path("sqlite+aiosqlite:///./rapport.db") == tmp_path / "rapport.log"
    assert console_log_path(f"sqlite+aiosqlite:///{tmp_path}/data/x.db") == \
        tmp_path / "data" / "rapport.log"
    assert console_log_path("postgresql+asyncpg://u@db/rapport") == tmp_path / "rapport.log"
    assert console_log_path("sqlite+aiosqlite://") == tmp_path / "rapport.log"


def test_a_log_file_that_cannot_be_written_is_one_start_up_line(tmp_path: Path) -> None:
    (tmp_path / "rapport.log").mkdir()  # a directory where the file should be
    result = run_cli("chat", env=clean_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (f"Cannot start: cannot write the console's log file "
                             f"{tmp_path / 'rapport.log'} (Is a directory); the console logs "
                             "beside an SQLite database, else in the working directory.\n")
