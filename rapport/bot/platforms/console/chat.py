"""The console platform: the same commands and nudges, in a terminal.

It doubles as the recording fake platform for core tests: `ConsoleMessenger` writes nudges to
any writer, and `ConsoleChat` reads lines from any async source.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.commands import CommandError, ImportFile
from rapport.bot.core.context import Actor, Drafter
from rapport.bot.core.dates import valid_zone
from rapport.bot.core.drafts import DISCLOSURE_LINE, DraftOutcome, draft_label
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.suggestions import item_text
from rapport.bot.core.verbs import is_guess, parse_command
from rapport.bot.core.views import DraftView, Reply
from rapport.scheduler.messenger import DeliveryResult, OutgoingMessage
from rapport.scheduler.wording import counted, people_count
from rapport.storage import db

logger = logging.getLogger(__name__)

PLATFORM = "console"
PROMPT = "rapport> "
EDIT_PROMPT = "Edit the message (or type a new one; empty line = discard):\nedit> "
Write = Callable[[str], None]


def local_zone_name() -> str:
    """This machine's IANA time zone, so console nudges follow the user's clock."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    try:
        target = os.readlink("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        zone = valid_zone(name) if name else None
        if zone:
            return zone
    return "UTC"


def console_actor(user: str | None = None, tz: str | None = None) -> Actor:
    """The person at this terminal."""
    name = user or os.environ.get("RAPPORT_CONSOLE_USER") or getpass.getuser() or "me"
    return Actor(platform=PLATFORM, workspace_external_id="local", user_external_id=name,
                 display_name=name, tz=tz or local_zone_name(), workspace_name="Console")


def _reads_as_command(text: str) -> bool:
    """Whether a line is one of Rapport's commands ("draft Zoë", "undo", "done #2"), not a
    message that only looks like one ("Coffee soon?", "Thanks!")."""
    command = parse_command(text, today=date.today())
    return not isinstance(command, CommandError) and not is_guess(command)


_YES = frozenset({"y", "yes"})
_NO = frozenset({"n", "no"})


def _yes_or_no(answer: str, default: bool) -> bool | None:
    """The answer to a [y/n] question: Enter takes the default; None for anything else."""
    word = answer.strip().lower().rstrip(".!")
    if not word:
        return default
    return True if word in _YES else False if word in _NO else None


def render_reply(reply: Reply, saved_as: Path | None = None) -> str:
    """A reply as terminal text (with where a file it carried was saved)."""
    if reply.attachment is not None:
        return f"{reply.text}\n(saved as {saved_as or reply.attachment.filename})"
    return reply.text


def render_draft(view: DraftView) -> str:
    """A draft as terminal text, labelled AI (provider, model) or Template."""
    notice = f"{view.notice}\n" if view.notice else ""
    return f"{notice}{draft_label(view)} for {view.contact_name}:\n\n{_indent(view.text)}\n"


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.split("\n"))


def render_message(message: OutgoingMessage) -> str:
    """A nudge or digest as terminal text, with the commands that act on it."""
    if message.kind == "summary":
        # Open suggestions follow the summary, each with the words that answer it.
        return "\n".join([f"\n📬 {message.text}",
                          *(item_text(entry) for entry in message.suggestions)])
    lines: list[str] = []
    if message.kind == "digest":
        people = counted(people_count(message.items), "person is", "people are")
        lines.append(f"\n🔔 {people} worth a message today:")
        for item in message.items:
            lines.append(f"  #{item.nudge_id} {item.headline}")
            if item.context:
                lines.append(f"      {item.context}")
        lines.append("  Reply “done #N”, “snooze #N 1 week”, “draft #N” or “dismiss #N”.")
    else:
        item = message.items[0]
        lines.append(f"\n🔔 #{item.nudge_id} {item.headline}")
        if item.context:
            lines.append(f"   {item.context}")
        lines.append(f"   Reply “done #{item.nudge_id}”, “snooze #{item.nudge_id} 1 week”, "
                     f"“draft #{item.nudge_id}” or “dismiss #{item.nudge_id}”.")
    return "\n".join(lines)


class ConsoleMessenger:
    """Delivers nudges by printing them; records them for tests."""

    platform = PLATFORM

    def __init__(self, write: Write | None = None) -> None:
        self.write = write or _stdout_write
        self.delivered: list[OutgoingMessage] = []

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        self.delivered.append(message)
        # The nudge interrupts the prompt the person was looking at: show it again after.
        self.write(render_message(message) + "\n" + PROMPT)
        return DeliveryResult.sent(ref=f"console:{len(self.delivered)}")


def _stdout_write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


async def stdin_lines() -> AsyncIterator[str]:
    """Lines typed at the terminal, read off the event loop; none when there is no stdin."""
    if sys.stdin is None:  # started with descriptor 0 closed: nothing will ever be typed
        return
    while True:
        line = await _in_daemon_thread(sys.stdin.readline)
        if not line:
            return
        yield line.rstrip("\n")


async def _in_daemon_thread(read: Callable[[], str]) -> str:
    """`read()` in a daemon thread of its own. Not `asyncio.to_thread`: `asyncio.run` joins
    the default executor's threads before it returns, and a read from a terminal or a pipe
    that stays open may never return, so a SIGTERM at the prompt left the process hanging
    after its graceful shutdown. Nothing waits for a daemon thread: the read ends with the
    process, and a line typed after the chat stopped waiting is dropped."""
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()

    def settle(text: str, failure: Exception | None) -> None:
        if line.done():  # cancelled: the chat stopped waiting for this line
            return
        if failure is None:
            line.set_result(text)
        else:
            line.set_exception(failure)

    def run() -> None:
        text, failure = "", None
        try:
            text = read()
        except Exception as error:  # raised where the line is awaited
            failure = error
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(settle, text, failure)

    threading.Thread(target=run, name="console-stdin", daemon=True).start()
    return await line


class ConsoleAdmin:
    """The core's `Admins` for the console: the person at the terminal runs the server (and
    could change the settings with the `rapport` CLI), so they administer its workspace."""

    who = "the person running Rapport"

    async def is_admin(self, user_external_id: str) -> bool:
        del user_external_id
        return True


CONSOLE_ADMIN = ConsoleAdmin()


# Words that end the chat, alone or with a few more ("quit now", "exit please", "bye for
# now"): none starts a command, so nothing a person meant as one is taken for them.
_GOODBYES = frozenset({"quit", "exit", "bye"})
_MAX_GOODBYE_WORDS = 3


def is_goodbye(line: str) -> bool:
    """Whether a typed line ends the chat: “quit”, “exit”, “bye” (or “:q”), alone or followed
    by a word or two."""
    words = line.lower().split()
    if words == [":q"]:
        return True
    return 0 < len(words) <= _MAX_GOODBYE_WORDS and words[0].strip(".!,") in _GOODBYES


class ConsoleChat:
    """The read-answer loop: one command per line until EOF, “quit” or `stop`."""

    def __init__(self, *, rapport: Rapport, actor: Actor, lines: AsyncIterator[str],
                 write: Write | None = None, export_dir: Path | None = None,
                 log_path: Path | None = None, stop: asyncio.Event | None = None) -> None:
        self.rapport = rapport
        self.actor = actor
        self.lines = lines
        self.write = write or _stdout_write
        self.export_dir = export_dir or Path.cwd()
        self.log_path = log_path
        # Set on SIGTERM or Ctrl-C (cli._serve): the chat ends at its next prompt as at the
        # end of input; a line being answered is answered first, as the web server finishes
        # the requests in flight.
        self.stop = stop
        # One iterator for the loop and the draft editor, which reads the lines after a draft.
        self._input: AsyncIterator[str] | None = None
        # A goodbye typed at a draft's question: the chat ends once the draft is put away.
        self._leaving = False

    async def run(self) -> None:
        # Loaded while the person reads the prompt, not on the first month name they type.
        warming = asyncio.create_task(self.rapport.warm_up())
        self.write("Rapport is listening. Type “help” for commands, “quit” to leave.\n")
        self.write(PROMPT)
        while (raw := await self._next_line()) is not None:
            if not warming.done():
                await warming
            line = raw.strip()
            if is_goodbye(line):
                break
            if line:
                await self._answer_or_apologise(line)
            if self._leaving:
                break
            self.write(PROMPT)
        if not warming.done():
            warming.cancel()
        self.write("\nBye.\n")

    async def _answer_or_apologise(self, line: str) -> None:
        """`answer`, and when Rapport itself fails (a bug, the database gone), say so and go
        on: the person's next line deserves an answer, and a chat that vanished without a
        word left them guessing."""
        try:
            await self.answer(line)
        except Exception as failure:
            # The traceback goes to the log file; the chat gets a plain line instead of the
            # background notice (`logs.ConsoleNotices`), since the person is looking at it.
            logger.error("console command failed", exc_info=True,
                         extra={"error": type(failure).__name__, "answered_in_chat": True})
            where = f"in {self.log_path}" if self.log_path is not None else "in the log"
            self.write(f"Sorry, something went wrong on my side ({type(failure).__name__}); "
                       f"the details are {where}. Try again, and check with “undo” whether "
                       "anything changed.\n")

    async def answer(self, line: str) -> Reply:
        """Run one line and print the answer."""
        reply = await self._import_file(line) if line.lower().startswith("import ") else None
        if reply is None:
            reply = await self.rapport.handle_text(self.actor, line, admins=CONSOLE_ADMIN)
        saved_as = None
        if reply.attachment is not None:
            saved_as = self.export_dir / reply.attachment.filename
            saved_as.write_bytes(reply.attachment.data)
        if reply.draft is not None and self.rapport.drafter is not None:
            self.write(render_draft(reply.draft) + "\n")
            await self.edit_draft(self.rapport.drafter, reply.draft)
            return reply
        self.write(render_reply(reply, saved_as) + "\n")
        return reply

    async def _import_file(self, line: str) -> Reply | None:
        # The console user owns this machine, so only here may a command read a local file.
        from rapport.bot.core.importer import MAX_BYTES as MAX_IMPORT_BYTES
        from rapport.bot.core.importer import OWN_DATABASE

        command = parse_command(line, today=date.today())
        if not isinstance(command, ImportFile):
            return None
        path = Path(command.path)
        database_url = self._database_url()

        def read() -> bytes | None:
            # Checked before the file is opened: closing any descriptor of the live database
            # in this process would drop SQLite's locks (see db.is_database_file).
            if database_url is not None and db.is_database_file(path, database_url):
                return None
            with path.expanduser().open("rb") as handle:
                return handle.read(MAX_IMPORT_BYTES + 1)

        try:
            data = await asyncio.to_thread(read)
        except OSError as failure:
            return Reply(f"I can't read {path}: {failure.strerror or type(failure).__name__}.",
                         ok=False)
        if data is None:
            return Reply(OWN_DATABASE, ok=False)
        return await self.rapport.handle_import(self.actor, path.name, data,
                                                dry_run=command.dry_run)

    def _database_url(self) -> str | None:
        engine = self.rapport.sessions.kw.get("bind")
        return engine.url.render_as_string(hide_password=False) \
            if isinstance(engine, AsyncEngine) else None

    async def _next_line(self) -> str | None:
        """The next line typed; None at the end of input or once `stop` is set."""
        if self.stop is None:
            return await self._read()
        if self.stop.is_set():
            return None
        reading = asyncio.create_task(self._read())
        stopping = asyncio.create_task(self.stop.wait())
        try:
            await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            stopped = not reading.done()
            if stopped:
                reading.cancel()  # ends `lines` (the read itself may never return)
        # A line that came with the stop was typed before it: answered like the rest.
        return None if stopped else reading.result()

    async def _read(self) -> str | None:
        if self._input is None:
            self._input = aiter(self.lines)
        try:
            return await anext(self._input)
        except StopAsyncIteration:
            return None

    async def edit_draft(self, drafter: Drafter, view: DraftView) -> DraftOutcome:
        """Read the user's version of a draft; unchanged text is refused until edited."""
        while True:
            self.write(EDIT_PROMPT)
            text = ((await self._next_line()) or "").strip()
            if text and (_reads_as_command(text) or is_goodbye(text)):
                # Typed at the wrong prompt, most likely: never copied (nor counted as a
                # draft used) without saying yes.
                use = await self._ask(f"“{text}” reads like a command. Use it as your "
                                      "message? [y/N] ", default=False)
                if use is not True:
                    result = await drafter.finish(self.actor, view.draft_id, "", "discard")
                    if use is False:
                        self.write(f"{result.message} Type the command again at the prompt.\n")
                    else:
                        await self._instead(result, use)
                    return result
            if not text:
                result = await drafter.finish(self.actor, view.draft_id, "", "discard")
                self.write(result.message + "\n")
                return result
            checked = await drafter.prepare(self.actor, view.draft_id, text, "copy")
            if not checked.ok:
                self.write(checked.message + "\n")
                if checked.retry:
                    continue
                return checked
            disclose: bool | str | None = True
            if not view.is_template and view.disclosure_policy == "optional":
                disclose = await self._ask(f"Add “{DISCLOSURE_LINE}”? [Y/n] ", default=True)
            if not isinstance(disclose, bool):
                result = await drafter.finish(self.actor, view.draft_id, "", "discard")
                await self._instead(result, disclose)
                return result
            result = await drafter.finish(self.actor, view.draft_id, text, "copy", disclose)
            if result.ok:
                self.write(f"{result.message}\n\n{_indent(result.text)}\n")
            else:
                self.write(result.message + "\n")
            return result

    async def _ask(self, question: str, *, default: bool) -> bool | str | None:
        """A yes or a no (Enter: `default`); the line itself when it is a command or a goodbye,
        typed at the wrong prompt; None at the end of input. Anything else is asked again:
        an answer that is neither yes nor no is never taken for one."""
        while True:
            self.write(question)
            line = await self._next_line()
            if line is None:
                return None
            answer = _yes_or_no(line, default)
            if answer is not None:
                return answer
            line = line.strip()
            if is_goodbye(line) or _reads_as_command(line):
                return line
            self.write("Please answer y or n.\n")

    async def _instead(self, discarded: DraftOutcome, line: str | None) -> None:
        """After a draft was put away for `line` typed at one of its questions: run it as the
        command it is (or end the chat for a goodbye); at the end of input, nothing more."""
        if line is None:
            self.write(f"{discarded.message}\n")
            return
        self.write(f"“{line}” isn't a yes or a no. {discarded.message}\n")
        if is_goodbye(line):
            self._leaving = True
        else:
            await self.answer(line)
