"""The data commands check the settings as every other command does, and refuse a database
file that is not there instead of creating an empty one.

Found by a tester: `purge-workspace` and `rotate-key` skipped the start-up checks
(`RAPPORT_PORT=abc` was a pydantic traceback, `postgresql://` without `+asyncpg` a
ModuleNotFoundError), and `rotate-key` on a mistyped SQLite path created and migrated a new
database, then reported "Re-encrypted 0 stored token row(s)" with exit code 0.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.bot.processes import clean_env, run_cli, run_cli_in_process

KEY = "lmFOhvcSbrNc3ywXR0D7A3C_lyRivdrtdXcxZHWvWDw="
PURGE = ("purge-workspace", "--platform", "slack", "--workspace", "T0123ABCD", "--yes")
ROTATE = ("rotate-key",)


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line an operator reads, after checking it is all there is and exit code 2."""
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("Cannot start: "), line
    return line


@pytest.mark.parametrize(("command", "environment", "words"), [
    (PURGE, {"RAPPORT_PORT": "abc"}, ("RAPPORT_PORT", "'abc'")),
    (ROTATE, {"RAPPORT_PORT": "abc", "RAPPORT_ENCRYPTION_KEY": KEY}, ("RAPPORT_PORT",)),
    (PURGE, {"RAPPORT_DATABASE_URL": "postgresql://u:hunter2@db/rapport"},
     ("RAPPORT_DATABASE_URL", "postgresql+asyncpg://u:***@db/rapport")),
    (ROTATE, {"RAPPORT_DATABASE_URL": "postgresql://u:hunter2@db/rapport",
              "RAPPORT_ENCRYPTION_KEY": KEY}, ("RAPPORT_DATABASE_URL", "postgresql+asyncpg")),
    (ROTATE, {"RAPPORT_ENCRYPTION_KEY": "not-a-fernet-key"}, ("RAPPORT_ENCRYPTION_KEY",)),
])
def test_purge_and_rotate_check_the_settings_like_every_command(
        tmp_path: Path, command: tuple[str, ...], environment: dict[str, str],
        words: tuple[str, ...]) -> None:
    result = run_cli_in_process(*command, env=clean_env(tmp_path, **environment), cwd=tmp_path)

    line = _one_line(result)
    for word in words:
        assert word in line, line
    assert "hunter2" not in line and "not-a-fernet-key" not in line
    assert list(tmp_path.iterdir()) == []


def test_rotate_key_on_a_mistyped_database_path_creates_nothing(tmp_path: Path) -> None:
    mistyped = tmp_path / "rapprot.db"
    env = clean_env(tmp_path, RAPPORT_DATABASE_URL=f"sqlite+aiosqlite:///{mistyped}",
                    RAPPORT_ENCRYPTION_KEY=KEY)

    result = run_cli(*ROTATE, env=env, cwd=tmp_path)

    line = _one_line(result)
    assert f"No database at {mistyped}" in line and "RAPPORT_DATABASE_URL" in line
    assert "Re-encrypted" not in result.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [
    PURGE,
    ("report", "--workspace", "console:local", "--out", "report"),
    ("retention", "--workspace", "console:local", "--months", "6"),
    ("workspace-ai", "--ai", "off"),
    ("import", "contacts.csv", "--user", "console:local:alex"),
])
def test_every_data_command_refuses_a_database_that_is_not_there(
        tmp_path: Path, command: tuple[str, ...]) -> None:
    (tmp_path / "contacts.csv").write_text("name\nDana\n", encoding="utf-8")
    missing = tmp_path / "missing.db"
    env = clean_env(tmp_path, RAPPORT_DATABASE_URL=f"sqlite+aiosqlite:///{missing}")

    result = run_cli_in_process(*command, env=env, cwd=tmp_path)

    assert f"No database at {missing}" in _one_line(result)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["contacts.csv"]


def test_rotate_key_still_works_on_an_existing_database(tmp_path: Path) -> None:
    env = clean_env(tmp_path, RAPPORT_ENCRYPTION_KEY=KEY)
    assert run_cli_in_process("db", "upgrade", env=env, cwd=tmp_path).returncode == 0

    result = run_cli_in_process(*ROTATE, env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Re-encrypted 0 stored token row(s) with the first key."


@pytest.mark.parametrize(("selection", "refusal"), [
    (("--platform", "slack", "--workspace", "T0TYPO"), "No workspace 'slack:T0TYPO' "),
    (("--workspace", "T0TYPO"), "No workspace 'T0TYPO' "),
    (("--platform", "teams"), "No teams workspace "),
])
def test_workspace_ai_refuses_a_workspace_that_is_not_there(
        tmp_path: Path, selection: tuple[str, ...], refusal: str) -> None:
    """Found by a tester: a mistyped team id answered "Updated 0 workspace(s).", exit 0, as if
    AI drafts were now off there; `retention`, `report` and `purge-workspace` refuse it."""
    env = clean_env(tmp_path)
    assert run_cli_in_process("db", "upgrade", env=env, cwd=tmp_path).returncode == 0

    result = run_cli_in_process("workspace-ai", "--ai", "off", *selection, env=env, cwd=tmp_path)

    assert result.returncode == 2, (result.stdout, result.stderr)
    # One line, and no INFO line ("schema at head") without RAPPORT_LOG_LEVEL, as the other
    # data commands.
    [line] = result.stderr.splitlines()
    assert line.startswith(refusal) and "--workspace" in line, line
    assert "Updated" not in result.stdout
