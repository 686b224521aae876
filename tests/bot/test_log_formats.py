"""Both log formats carry a record's fields. Found by an operator: RAPPORT_LOG_FORMAT=text
printed the message alone, so the admin audit line lost the workspace id and the new value,
"listening" its host and port, "claims released" its count, and errors their type."""

from __future__ import annotations

import io
import json
import logging
import shlex
from collections.abc import Iterator

import pytest

from rapport.bot.service.logs import configure_logging

# Real lines Rapport logs (logger, level, message, fields), and one with a value to quote.
RECORDS: list[tuple[str, int, str, dict[str, object]]] = [
    ("rapport.bot.core.admin", logging.WARNING, "workspace policy changed by an admin",
     {"workspace_id": 7, "ai_enabled": False, "disclosure_policy": None}),
    ("rapport.bot.service.listen", logging.INFO, "listening",
     {"host": "127.0.0.1", "port": 3000, "metrics_host": "127.0.0.1", "metrics_port": 3001}),
    ("rapport.scheduler.delivery", logging.WARNING, "claims released", {"count": 12}),
    ("rapport.bot.platforms.teams.adapter", logging.ERROR, "teams turn failed",
     {"error": "ClientConnectorError", "activity_type": "message",
      "where": "handler.py:12 < app.py:40"}),
    ("rapport.bot.service.startup", logging.WARNING, "unknown variable",
     {"variable": "RAPPORT_DATABASE_URI", "hint": 'say "RAPPORT_DATABASE_URL"', "empty": ""}),
]


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def _log_all(fmt: str) -> list[str]:
    stream = io.StringIO()
    configure_logging("INFO", fmt, stream=stream)
    for name, level, message, fields in RECORDS:
        logging.getLogger(name).log(level, message, extra=fields)
    return stream.getvalue().splitlines()


def _text_fields(line: str, message: str) -> dict[str, str]:
    """The key=value pairs after the message of a text line, unquoted as a shell would."""
    _, _, rest = line.partition(f" {message}")
    return dict(pair.split("=", 1) for pair in shlex.split(rest))


@pytest.mark.usefixtures("restored_logging")
def test_text_lines_carry_the_same_fields_as_json_lines() -> None:
    json_lines = [json.loads(line) for line in _log_all("json")]
    text_lines = _log_all("text")

    assert len(json_lines) == len(text_lines) == len(RECORDS)
    for (name, _, message, fields), as_json, as_text in zip(RECORDS, json_lines, text_lines,
                                                             strict=True):
        assert f" {name} {message}" in as_text, as_text
        in_json = {key: value for key, value in as_json.items()
                   if key not in ("ts", "level", "logger", "msg")}
        assert set(in_json) == set(fields), as_json
        shown = _text_fields(as_text, message)
        assert set(shown) == set(fields), as_text
        for key, value in in_json.items():
            # The same value, written as JSON writes it (strings bare).
            assert shown[key] == (value if isinstance(value, str) else json.dumps(value)), \
                (key, as_text)


@pytest.mark.usefixtures("restored_logging")
def test_text_values_are_quoted_only_when_they_need_it() -> None:
    audit, listening, _, failed, unknown = _log_all("text")

    assert audit.endswith(" WARNING rapport.bot.core.admin workspace policy changed by an admin"
                          " workspace_id=7 ai_enabled=false disclosure_policy=null"), audit
    assert listening.endswith(" listening host=127.0.0.1 port=3000 metrics_host=127.0.0.1 "
                              "metrics_port=3001"), listening
    assert failed.endswith(' error=ClientConnectorError activity_type=message '
                           'where="handler.py:12 < app.py:40"'), failed
    assert unknown.endswith(' variable=RAPPORT_DATABASE_URI hint="say \\"RAPPORT_DATABASE_URL\\""'
                            ' empty=""'), unknown


@pytest.mark.usefixtures("restored_logging")
def test_text_lines_never_carry_what_json_lines_drop() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "text", stream=stream)
    logging.getLogger("rapport.test").warning("draft failed", extra={
        "draft": "Dear Dana", "token": "xoxb-1", "workspace_id": 3})

    line = stream.getvalue().strip()
    assert line.endswith(" draft failed workspace_id=3"), line
    assert "Dana" not in line and "xoxb" not in line


@pytest.mark.usefixtures("restored_logging")
def test_both_formats_name_the_exception_type() -> None:
    lines: dict[str, str] = {}
    for fmt in ("json", "text"):
        stream = io.StringIO()
        configure_logging("INFO", fmt, stream=stream)
        try:
            raise TimeoutError("slow")
        except TimeoutError:
            logging.getLogger("rapport.test").exception("sweep failed", extra={"count": 2})
        lines[fmt] = stream.getvalue().splitlines()[0]

    assert json.loads(lines["json"])["exc_type"] == "TimeoutError"
    assert lines["text"].endswith(" sweep failed count=2 exc_type=TimeoutError"), lines["text"]


@pytest.mark.usefixtures("restored_logging")
def test_a_pooled_connection_given_up_on_cancellation_is_no_error() -> None:
    """A sweep cancelled when its shutdown grace runs out may be returning a connection:
    SQLAlchemy's pool then logs "Exception during reset or similar" at ERROR with the
    CancelledError and discards the connection (seen once in a full run of
    tests/scheduler/test_shutdown_logs.py). A stop asked for is no error; any other exception
    there still is."""
    import asyncio

    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    pool = logging.getLogger("sqlalchemy.pool.impl.AsyncAdaptedQueuePool")
    for error in (asyncio.CancelledError(), ConnectionResetError()):
        try:
            raise error
        except BaseException:
            pool.error("Exception during reset or similar", exc_info=True)
    cancelled, reset = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (cancelled["level"], cancelled["exc_type"]) == ("info", "CancelledError")
    assert (reset["level"], reset["exc_type"]) == ("error", "ConnectionResetError")
