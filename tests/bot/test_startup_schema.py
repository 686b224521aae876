"""A database the code cannot migrate is one line and exit code 2, and is left as it was.

Found by a tester: a database at a newer schema than the code (an image rolled back after an
upgrade) and `rapport db upgrade bogus` both ended in a 150-line Alembic traceback, exit 1.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from rapport.storage.db import SCHEMA_HEAD
from tests.bot.processes import clean_env, run_cli, run_cli_in_process

FUTURE = "0099_from_a_newer_version"


def _set_revision(database: Path, revision: str) -> None:
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))


def _revision(database: Path) -> str:
    with closing(sqlite3.connect(database)) as connection:
        [(revision,)] = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        return str(revision)


@pytest.mark.parametrize("command", [("worker",), ("serve", "--no-console"), ("db", "upgrade")])
def test_a_database_newer_than_the_code_is_one_line_and_left_alone(
        tmp_path: Path, command: tuple[str, ...]) -> None:
    env = clean_env(tmp_path)
    database = tmp_path / "rapport.db"
    assert run_cli_in_process("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    _set_revision(database, FUTURE)

    run = run_cli if command == ("worker",) else run_cli_in_process
    result = run(*command, env=env, cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("Cannot start: "), line
    assert f"the database is at schema {FUTURE}, newer than this version's {SCHEMA_HEAD}" \
        in line
    assert "run the newer version" in line and "restore a backup" in line
    assert _revision(database) == FUTURE


def test_an_unknown_revision_is_one_line_and_no_database_is_created(tmp_path: Path) -> None:
    result = run_cli("db", "upgrade", "bogus", env=clean_env(tmp_path), cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("Cannot start: Cannot migrate the schema to 'bogus'"), line
    assert SCHEMA_HEAD in line
    assert list(tmp_path.iterdir()) == []


def test_a_relative_revision_alembic_cannot_reach_is_one_line(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    assert run_cli_in_process("db", "upgrade", env=env, cwd=tmp_path).returncode == 0

    result = run_cli_in_process("db", "upgrade", "+1", env=env, cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("Cannot start: Cannot migrate the schema to '+1'"), line
    assert _revision(tmp_path / "rapport.db") == SCHEMA_HEAD
