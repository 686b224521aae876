"""Found by an operator test: `rapport db upgrade` (and `rapport workspace-ai`) logged plain
text whatever RAPPORT_LOG_FORMAT said, and RAPPORT_METRICS_PORT equal to RAPPORT_PORT failed
only after the migration, with a message about a taken address."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rapport.bot.service.config import Settings
from rapport.bot.service.startup import StartupError, check_config
from tests.bot.processes import clean_env, free_port, run_cli, run_cli_in_process


@pytest.mark.parametrize("command", [("db", "upgrade"), ("workspace-ai", "--ai", "off")])
def test_database_commands_log_in_the_configured_format(tmp_path: Path,
                                                         command: tuple[str, ...]) -> None:
    # INFO: without RAPPORT_LOG_LEVEL the data commands (workspace-ai) log warnings only.
    env = clean_env(tmp_path, RAPPORT_LOG_FORMAT="json", RAPPORT_LOG_LEVEL="INFO")
    if command[0] != "db":  # the data commands work on an existing database only
        assert run_cli_in_process("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    result = run_cli_in_process(*command, env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    # Rapport's own lines: a loaded machine may add asyncio's (a slow callback noted).
    lines = [line for line in map(json.loads, result.stderr.splitlines())
             if line["logger"].startswith("rapport")]
    assert lines and "rapport.storage.db" in {line["logger"] for line in lines}
    assert {line["logger"] for line in lines} <= {"rapport.storage.db",
                                                  "rapport.bot.service.startup"}
    assert {line["msg"] for line in lines} <= {"schema upgraded", "schema at head",
                                               "using database"}


def test_a_metrics_port_equal_to_the_public_port_stops_the_start_before_migrating(
        tmp_path: Path) -> None:
    port = str(free_port())
    result = run_cli("serve", "--no-console", env=clean_env(
        tmp_path, RAPPORT_PORT=port, RAPPORT_METRICS_PORT=port), cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("Cannot start: RAPPORT_METRICS_PORT must differ from RAPPORT_PORT "
                           f"(both are {port})"), line
    assert list(tmp_path.iterdir()) == []  # nothing created, nothing migrated


@pytest.mark.parametrize(("values", "web"), [
    ({"port": 0, "metrics_port": 0}, True),  # each gets a free port of its own
    ({"port": 3005, "metrics_port": 3005, "host": "10.0.0.5", "metrics_host": "127.0.0.1"},
     True),  # two addresses of the machine, one port each
    ({"port": 3005, "metrics_port": 3005}, False),  # a worker has no public port
])
def test_ports_that_can_both_be_listened_on_are_accepted(values: dict[str, object],
                                                         web: bool) -> None:
    check_config(Settings.model_validate(values), web=web, platforms=False)


@pytest.mark.parametrize("hosts", [("0.0.0.0", "127.0.0.1"), ("localhost", "127.0.0.1"),
                                   ("::", "::1")])
def test_ports_that_clash_are_refused(hosts: tuple[str, str]) -> None:
    host, metrics_host = hosts
    settings = Settings.model_validate({"port": 3005, "metrics_port": 3005, "host": host,
                                        "metrics_host": metrics_host})
    with pytest.raises(StartupError, match="RAPPORT_METRICS_PORT must differ from RAPPORT_PORT"):
        check_config(settings, web=True, platforms=False)


def test_files_the_console_saves_are_ignored_by_git() -> None:
    from rapport.bot.core.admin import REPORT_FILENAME

    ignored = (Path(__file__).parents[2] / ".gitignore").read_text().splitlines()
    for saved in ("rapport-export.json", REPORT_FILENAME):
        assert saved in ignored
