"""Structured logs: one JSON object per line, never message text, notes, drafts or tokens."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from rapport.storage.db import sqlite_database_path

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message",
                                                                              "asctime"}
# Extra fields that may carry user text or secrets are dropped, whatever a caller passes.
_NEVER_LOGGED = {"text", "note", "draft", "summary", "token", "bot_token", "user_token",
                 "password", "secret", "body", "final_text", "draft_text"}


def record_fields(record: logging.LogRecord) -> dict[str, object]:
    """What a log line carries besides its time, level, logger and message, in either format:
    the request id, the record's `extra` fields (never those in _NEVER_LOGGED; long values
    cut) and the exception's type."""
    fields: dict[str, object] = {}
    request_id = _current_request_id()
    if request_id:
        fields["request_id"] = request_id
    for key, value in record.__dict__.items():
        if key not in _STANDARD and key not in _NEVER_LOGGED and not key.startswith("_"):
            fields[key] = value if isinstance(value, (int, float, bool, type(None))) \
                else str(value)[:200]
    if record.exc_info and record.exc_info[0] is not None:
        fields["exc_type"] = record.exc_info[0].__name__
    return fields


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON with its `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **record_fields(record),
        }
        return json.dumps(payload, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """For people at a terminal: time, level, logger and message, then the same fields as the
    JSON lines as key=value (the audit line's workspace and new value, a port, a count, an
    error's type), then a traceback as the standard formatter writes it."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        pairs = [f"{key}={_text_value(value)}" for key, value in record_fields(record).items()]
        return " ".join([line, *pairs])


def _text_value(value: object) -> str:
    """A value as JSON writes it; a string bare unless a space, quote or `=` (or nothing at
    all) would make the line ambiguous, then quoted with JSON's escapes."""
    if not isinstance(value, str):
        return json.dumps(value)
    if value and not any(char.isspace() or char in '"=\\' for char in value):
        return value
    return json.dumps(value, ensure_ascii=False)


def _current_request_id() -> str:
    from rapport.bot.service.server import (
        REQUEST_ID,  # late: the server imports the runtime, which logs
    )

    return REQUEST_ID.get()


class _DropBoltTokenWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and warns that it goes unused
    because Rapport hands it a ready client; the token is used, through that client."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in str(record.msg)


_BOLT_TOKEN_WARNING = _DropBoltTokenWarning()


class _CancelledResetIsNoError(logging.Filter):
    """SQLAlchemy's pool logs ERROR "Exception during reset or similar" when the task
    returning a connection is cancelled (a sweep that outlives its shutdown grace, a request
    whose client went away): it then discards that connection, as it should. A cancellation
    asked for is no error, so the line is kept at INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and record.exc_info \
                and record.exc_info[0] is not None \
                and issubclass(record.exc_info[0], asyncio.CancelledError):
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


_CANCELLED_RESET = _CancelledResetIsNoError()


def configure_logging(level: str = "INFO", fmt: str = "json", *, stream: object = None,
                      path: Path | None = None) -> None:
    """Root logging: JSON to stderr (or plain text for people at a terminal), or appended to
    the file at `path`."""
    handler: logging.Handler = logging.FileHandler(path, encoding="utf-8") if path else \
        logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Drivers and SDKs log SQL parameters or request bodies (note text, drafts) at DEBUG.
    for noisy in ("apscheduler", "aiohttp.access", "sqlalchemy.engine", "aiosqlite", "asyncpg",
                  "openai", "httpx", "slack_sdk", "slack_bolt", "botbuilder", "msrest", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("slack_bolt").addFilter(_BOLT_TOKEN_WARNING)
    for pool in ("sqlalchemy.pool.impl.AsyncAdaptedQueuePool", "sqlalchemy.pool.impl.QueuePool",
                 "sqlalchemy.pool.impl.NullPool", "sqlalchemy.pool.impl.StaticPool"):
        # A logger's filters see its own records only, so each pool class's logger gets one.
        logging.getLogger(pool).addFilter(_CANCELLED_RESET)


# The interactive console's log, beside its SQLite database (or in the working directory).
CONSOLE_LOG_NAME = "rapport.log"


def console_log_path(database_url: str) -> Path:
    """Where a console session's logs go: rapport.log beside the SQLite database file
    (./rapport.log with the default ./rapport.db), else in the working directory."""
    database = sqlite_database_path(database_url)
    return ((database.parent if database is not None else Path()) / CONSOLE_LOG_NAME).absolute()


class ConsoleNotices(logging.Handler):
    """For the person chatting in a terminal: a real problem (ERROR and worse) as one plain
    line between the answers, pointing at the log file for the details; everything else (the
    admin audit lines at WARNING, start-up, sweeps) is in that file only."""

    def __init__(self, log_path: Path, *, prompt: str = "", stream: TextIO | None = None
                 ) -> None:
        super().__init__(logging.ERROR)
        self.log_path = log_path
        self.prompt = prompt
        self.stream = stream or sys.stderr

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "answered_in_chat", False):
            return  # the chat has said so already, in its answer
        try:
            problem = record.getMessage().rstrip(". ")
            # Like a nudge, it interrupts the prompt the person was looking at: shown again.
            self.stream.write(f"\n(Something went wrong in the background: {problem}. The "
                              f"details are in {self.log_path}.)\n{self.prompt}")
            self.stream.flush()
        except Exception:  # logging must never break the chat
            self.handleError(record)


def configure_console_logging(level: str, fmt: str, path: Path, *, prompt: str = "",
                              stream: TextIO | None = None) -> None:
    """Logging for `rapport chat` (and `serve` with the console): records go to the file at
    `path`, never between the person's lines and the answers; only a real problem is also
    said in the terminal (`ConsoleNotices`). Raises OSError when the file cannot be opened."""
    configure_logging(level, fmt, path=path)
    logging.getLogger().addHandler(ConsoleNotices(path, prompt=prompt, stream=stream))
