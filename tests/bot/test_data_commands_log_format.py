"""Every command logs in RAPPORT_LOG_FORMAT. Found by an operator: with
RAPPORT_LOG_FORMAT=json only `rapport db upgrade` (and `workspace-ai`) logged JSON; the data
commands, `import`, `report`, `retention`, `purge-workspace` and `rotate-key`, always logged
plain text (and only their warnings, whatever RAPPORT_LOG_LEVEL said), so a log collector
parsing JSON lines choked on the one line an operator most needs: "workspace purged"."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.bot.processes import clean_env, run_cli, run_cli_in_process

KEY = "lmFOhvcSbrNc3ywXR0D7A3C_lyRivdrtdXcxZHWvWDw="
PURGE = ("purge-workspace", "--platform", "console", "--workspace", "local", "--yes")
# In the order an operator might run them on one database: the import creates the
# workspace the others name.
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("db", "upgrade"),
    ("import", "contacts.csv", "--user", "console:local:alex"),
    ("report", "--workspace", "console:local", "--out", "report"),
    ("retention", "--workspace", "console:local", "--months", "6", "--apply-now"),
    ("rotate-key",),
    ("workspace-ai", "--ai", "off"),
    PURGE,
)


def _json_lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    """Every line the command wrote to stderr, each parsed as one JSON object."""
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert all(isinstance(line, dict) for line in lines), result.stderr
    return lines


def test_every_data_command_logs_json_at_the_configured_level(tmp_path: Path) -> None:
    (tmp_path / "contacts.csv").write_text("name,kind\nDana Scully,colleague\n",
                                           encoding="utf-8")
    env = clean_env(tmp_path, RAPPORT_LOG_FORMAT="json", RAPPORT_LOG_LEVEL="INFO",
                    RAPPORT_ENCRYPTION_KEY=KEY)

    for command in COMMANDS:
        result = run_cli_in_process(*command, env=env, cwd=tmp_path)

        # `report` refuses a team of one (too small to stay anonymous): exit 2, one line.
        assert result.returncode == (2 if command[0] == "report" else 0), \
            (command, result.stdout, result.stderr)
        if command[0] == "report":
            assert "too small" in result.stderr or "at least" in result.stderr, result.stderr
            continue
        lines = _json_lines(result)
        assert lines, (command, "logged nothing at INFO")
        assert {line["level"] for line in lines} <= {"info", "warning"}, lines


def test_purge_workspace_logs_its_warning_as_json_in_a_real_process(tmp_path: Path) -> None:
    """Without RAPPORT_LOG_LEVEL the data commands stay quiet but for warnings; the one they
    log is JSON too."""
    (tmp_path / "contacts.csv").write_text("name\nDana Scully\n", encoding="utf-8")
    env = clean_env(tmp_path, RAPPORT_LOG_FORMAT="json")
    for setup in (("db", "upgrade"), ("import", "contacts.csv", "--user",
                                      "console:local:alex")):
        assert run_cli_in_process(*setup, env=env, cwd=tmp_path).returncode == 0

    result = run_cli(*PURGE, env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Deleted every row of console:local"), result.stdout
    [line] = _json_lines(result)
    assert (line["level"], line["logger"], line["msg"]) == (
        "warning", "rapport.scheduler.lifecycle", "workspace purged")


def test_the_data_commands_still_log_text_when_asked_to(tmp_path: Path) -> None:
    (tmp_path / "contacts.csv").write_text("name\nDana Scully\n", encoding="utf-8")
    env = clean_env(tmp_path, RAPPORT_LOG_FORMAT="text")
    for setup in (("db", "upgrade"), ("import", "contacts.csv", "--user",
                                      "console:local:alex")):
        assert run_cli_in_process(*setup, env=env, cwd=tmp_path).returncode == 0

    result = run_cli_in_process(*PURGE, env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    [line] = result.stderr.splitlines()
    # With its fields, as the JSON line has them.
    assert line.endswith(" WARNING rapport.scheduler.lifecycle workspace purged workspace_id=1"
                         ), line
