"""Start-up as an operator meets it: the real `python -m rapport` in a subprocess.

Every configuration or connection error is one line on stderr naming the variable, exit code 2,
and nothing was migrated; the full traceback only with RAPPORT_LOG_LEVEL=DEBUG. A good start
says in one line which front ends are on and why the others are off.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

import rapport
from rapport.storage.db import SCHEMA_HEAD
from tests.bot.processes import (
    clean_env,
    free_port,
    refusing_port,
    run_cli,
    run_cli_in_process,
    running_cli,
    start_cli,
    stop_cleanly,
    wait_for_metric,
    wait_until_answering,
)
from tests.conftest import PG_SKIP_REASON, PG_URL
from tests.fakes.slack_api import DEFAULT_BOT_TOKEN, DEFAULT_TEAM_ID, FakeSlack

APP_ID = "3f2b8c1e-6a4d-4e9b-9c2f-1d7e5a0b8c6d"

# (command, environment, words the one line must contain)
BAD_STARTS: list[tuple[tuple[str, ...], dict[str, str], tuple[str, ...]]] = [
    (("serve", "--no-console"), {"RAPPORT_PORT": "abc"}, ("RAPPORT_PORT", "'abc'")),
    (("worker",), {"RAPPORT_SWEEP_SECONDS": "often"}, ("RAPPORT_SWEEP_SECONDS",)),
    (("serve", "--no-console"), {"RAPPORT_DATABASE_URL": "postgresql://u:hunter2@db/rapport"},
     ("RAPPORT_DATABASE_URL", "postgresql+asyncpg://u:***@db/rapport")),
    (("worker",), {"RAPPORT_DATABASE_URL": "not a database url"},
     ("RAPPORT_DATABASE_URL", "sqlite+aiosqlite://")),
    (("chat",), {"RAPPORT_DATABASE_URL": "sqlite:///rapport.db"},
     ("RAPPORT_DATABASE_URL", "sqlite+aiosqlite:///rapport.db")),
    (("chat",), {"RAPPORT_DATABASE_URL": "mysql+aiomysql://u@h/db"}, ("RAPPORT_DATABASE_URL",)),
    (("serve", "--no-console"), {"RAPPORT_DATABASE_URL": "sqlite+aiosqlite:///no/such/dir.db"},
     ("RAPPORT_DATABASE_URL", "no/such")),
    (("db", "upgrade"), {"RAPPORT_DATABASE_URL": "postgres://u@h/db"}, ("RAPPORT_DATABASE_URL",)),
    # OAuth half-configured used to start silently with /slack/events answering 404.
    (("serve", "--no-console"), {"SLACK_CLIENT_ID": "123.456", "SLACK_SIGNING_SECRET": "s"},
     ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")),
    (("worker",), {"SLACK_CLIENT_SECRET": "shh", "SLACK_SIGNING_SECRET": "s"},
     ("SLACK_CLIENT_SECRET", "SLACK_CLIENT_ID")),
    (("serve", "--no-console"), {"SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN},
     ("SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")),
    (("serve", "--no-console"), {"SLACK_SIGNING_SECRET": "s"}, ("SLACK_SIGNING_SECRET",
                                                                 "SLACK_BOT_TOKEN")),
    (("serve", "--no-console"), {"SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN,
                                 "SLACK_APP_TOKEN": "xoxb-not-an-app-token"},
     ("SLACK_APP_TOKEN", "xapp-")),
    (("serve", "--no-console"), {"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "p",
                                 "MicrosoftAppType": "Bogus"},
     ("MicrosoftAppType", "'Bogus'", "MultiTenant", "SingleTenant", "UserAssignedMSI")),
    # botbuilder needs the tenant for a managed identity too: it raised only once the adapter
    # was built, a long traceback after the migration (found by an operator).
    (("serve", "--no-console"), {"MicrosoftAppId": APP_ID, "MicrosoftAppType": "UserAssignedMSI"},
     ("MicrosoftAppType=UserAssignedMSI needs MicrosoftAppTenantId",)),
    (("worker",), {"MicrosoftAppId": APP_ID, "MicrosoftAppType": "userassignedmsi"},
     ("MicrosoftAppType=UserAssignedMSI needs MicrosoftAppTenantId",)),
    (("serve", "--no-console"), {"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "p",
                                 "MicrosoftAppType": "SingleTenant"},
     ("MicrosoftAppType=SingleTenant needs MicrosoftAppTenantId",)),
    (("serve", "--no-console"), {"MicrosoftAppId": APP_ID, "MicrosoftAppType": "SingleTenant",
                                 "MicrosoftAppTenantId": "t"},
     ("MicrosoftAppType=SingleTenant needs MicrosoftAppPassword",)),
    (("serve", "--no-console"), {"MicrosoftAppId": APP_ID},
     ("MicrosoftAppType=MultiTenant needs MicrosoftAppPassword",)),
    (("worker",), {"MicrosoftAppPassword": "p"}, ("MicrosoftAppPassword", "MicrosoftAppId")),
    (("serve", "--no-console"), {"TEAMS_ENABLED": "true", "RAPPORT_HOST": "0.0.0.0"},
     ("MicrosoftAppId", "RAPPORT_HOST")),
    # Several processes on one SQLite file would fight over its write lock.
    (("serve", "--no-console"), {"RAPPORT_REUSE_PORT": "true"},
     ("RAPPORT_REUSE_PORT", "PostgreSQL")),
    # Calendars keep refresh tokens: they need the encryption key.
    (("serve", "--no-console"), {"RAPPORT_PUBLIC_URL": "https://bot.example.com",
                                 "GOOGLE_CLIENT_ID": "id", "GOOGLE_CLIENT_SECRET": "shh"},
     ("RAPPORT_ENCRYPTION_KEY",)),
    # Numbers out of their range (tests/bot/test_startup_ranges.py checks every number has
    # one), log settings, and Slack OAuth without the key to keep its tokens.
    (("worker",), {"RAPPORT_SWEEP_SECONDS": "-5"}, ("RAPPORT_SWEEP_SECONDS", "'-5'")),
    (("serve", "--no-console"), {"RAPPORT_SWEEP_SECONDS": "0"}, ("RAPPORT_SWEEP_SECONDS",)),
    (("worker",), {"RAPPORT_SWEEP_SECONDS": "nan"}, ("RAPPORT_SWEEP_SECONDS",)),
    (("worker",), {"RAPPORT_LEASE_SECONDS": "0"}, ("RAPPORT_LEASE_SECONDS",)),
    (("worker",), {"RAPPORT_LEASE_SECONDS": "inf"}, ("RAPPORT_LEASE_SECONDS",)),
    (("serve", "--no-console"), {"RAPPORT_DATABASE_POOL_SIZE": "0"},
     ("RAPPORT_DATABASE_POOL_SIZE",)),
    (("worker",), {"RAPPORT_DATABASE_POOL_SIZE": "-1"}, ("RAPPORT_DATABASE_POOL_SIZE",)),
    (("serve", "--no-console"), {"RAPPORT_PORT": "70000"}, ("RAPPORT_PORT",)),
    (("serve", "--no-console"), {"RAPPORT_METRICS_PORT": "-1"}, ("RAPPORT_METRICS_PORT",)),
    (("worker",), {"RAPPORT_SHUTDOWN_SECONDS": "-1"}, ("RAPPORT_SHUTDOWN_SECONDS",)),
    (("serve", "--no-console"), {"RAPPORT_MAX_BODY_BYTES": "0"}, ("RAPPORT_MAX_BODY_BYTES",)),
    (("serve", "--no-console"), {"RAPPORT_HEADER_TIMEOUT_SECONDS": "0"},
     ("RAPPORT_HEADER_TIMEOUT_SECONDS",)),
    (("serve", "--no-console"), {"RAPPORT_AI_TIMEOUT_SECONDS": "-1"},
     ("RAPPORT_AI_TIMEOUT_SECONDS",)),
    (("serve", "--no-console"), {"RAPPORT_CALENDAR_SYNC_SECONDS": "1"},
     ("RAPPORT_CALENDAR_SYNC_SECONDS",)),
    (("serve", "--no-console"), {"RAPPORT_UNINSTALL_GRACE_DAYS": "100000"},
     ("RAPPORT_UNINSTALL_GRACE_DAYS",)),
    (("chat",), {"RAPPORT_SWEEP_SECONDS": "-1"}, ("RAPPORT_SWEEP_SECONDS",)),
    (("db", "upgrade"), {"RAPPORT_DATABASE_POOL_SIZE": "0"}, ("RAPPORT_DATABASE_POOL_SIZE",)),
    # Log settings: a traceback (level) and a silent fallback to text (format) before.
    (("serve", "--no-console"), {"RAPPORT_LOG_LEVEL": "LOUD"}, ("RAPPORT_LOG_LEVEL", "'LOUD'")),
    (("worker",), {"RAPPORT_LOG_FORMAT": "xml"}, ("RAPPORT_LOG_FORMAT", "'xml'", "json")),
    (("chat",), {"RAPPORT_LOG_LEVEL": "verbose"}, ("RAPPORT_LOG_LEVEL",)),
    # Slack OAuth keeps every workspace's tokens: it needs the key (or the development opt-out).
    (("serve", "--no-console"), {"SLACK_CLIENT_ID": "123.456", "SLACK_CLIENT_SECRET": "shh",
                                 "SLACK_SIGNING_SECRET": "s"},
     ("RAPPORT_ENCRYPTION_KEY", "RAPPORT_ALLOW_PLAINTEXT_TOKENS")),
    (("worker",), {"SLACK_CLIENT_ID": "123.456", "SLACK_CLIENT_SECRET": "shh"},
     ("RAPPORT_ENCRYPTION_KEY",)),
]


# The first bad start of each command runs as a real process (what an operator meets, from
# the interpreter's start on); the others differ only in the settings being checked, so they
# go through the same entry point in this process, two seconds less each.
REAL_PROCESS = {command[0]: index for index, (command, _, _) in reversed(
    list(enumerate(BAD_STARTS)))}


@pytest.mark.parametrize(("command", "environment", "words"), BAD_STARTS,
                         ids=[f"{c[0]}-{'-'.join(e)}" for c, e, _ in BAD_STARTS])
def test_a_configuration_error_is_one_line_and_nothing_is_migrated(
        tmp_path: Path, command: tuple[str, ...], environment: dict[str, str],
        words: tuple[str, ...]) -> None:
    real = REAL_PROCESS[command[0]] == BAD_STARTS.index((command, environment, words))
    run = run_cli if real else run_cli_in_process
    result = run(*command, env=clean_env(tmp_path, **environment), cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("Cannot start: ")
    for word in words:
        assert word in line, line
    assert "hunter2" not in line and "shh" not in line
    assert not (tmp_path / "rapport.db").exists()  # no database was created or migrated
    assert list(tmp_path.iterdir()) == []


# A misspelled variable is often why a configuration error stops the start: its setting was
# left unset or at its default. (command, environment, the misspelled variable, the setting it
# is closest to, words of the error's line)
MISSPELLED_THEN_REFUSED: list[tuple[tuple[str, ...], dict[str, str], str, str,
                                    tuple[str, ...]]] = [
    # An invalid value in another setting.
    (("serve", "--no-console"),
     {"RAPPORT_DATABSE_URL": "postgresql+asyncpg://u:hunter2@db/rapport", "RAPPORT_PORT": "abc"},
     "RAPPORT_DATABSE_URL", "RAPPORT_DATABASE_URL", ("RAPPORT_PORT", "'abc'")),
    # A setting that is needed and missing: the very one misspelled.
    (("chat",), {"RAPPORT_PUBLIC_URL": "https://bot.example.com", "GOOGLE_CLIENT_ID": "id",
                 "GOOGLE_CLIENT_SECRET": "shh", "RAPPORT_ENCRYPTON_KEY": "hunter2"},
     "RAPPORT_ENCRYPTON_KEY", "RAPPORT_ENCRYPTION_KEY",
     ("Calendars are configured", "set RAPPORT_ENCRYPTION_KEY")),
    # A data command on the default database path, which holds none.
    (("workspace-ai", "--ai", "off"),
     {"RAPPORT_DATABSE_URL": "postgresql+asyncpg://u:hunter2@db/rapport"},
     "RAPPORT_DATABSE_URL", "RAPPORT_DATABASE_URL", ("No database at", "RAPPORT_DATABASE_URL")),
]


@pytest.mark.parametrize(("command", "environment", "misspelled", "closest", "words"),
                         MISSPELLED_THEN_REFUSED,
                         ids=["invalid-value", "missing-setting", "missing-database"])
def test_a_misspelled_variable_is_named_before_the_configuration_error(
        tmp_path: Path, command: tuple[str, ...], environment: dict[str, str], misspelled: str,
        closest: str, words: tuple[str, ...]) -> None:
    # The first through a real process, as an operator meets it; the others in this process.
    real = command == MISSPELLED_THEN_REFUSED[0][0]
    run = run_cli if real else run_cli_in_process
    result = run(*command, env=clean_env(tmp_path, **environment), cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    [warning, line] = result.stderr.splitlines()
    assert warning == (f"Warning: {misspelled} is not a Rapport setting and is ignored; did you "
                       f"mean {closest}?")
    assert line.startswith("Cannot start: ")
    for word in words:
        assert word in line, line
    assert "hunter2" not in result.stderr and "shh" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing was created or migrated


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    with refusing_port() as port:
        url = f"postgresql+asyncpg://rapport:secret@127.0.0.1:{port}/rapport"
        _assert_unreachable(tmp_path, url)


def _assert_unreachable(tmp_path: Path, url: str) -> None:
    for command in (("serve", "--no-console"), ("worker",), ("db", "upgrade")):
        result = run_cli(*command, env=clean_env(tmp_path, RAPPORT_DATABASE_URL=url),
                         cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        [line] = result.stderr.splitlines()
        assert "RAPPORT_DATABASE_URL" in line and "127.0.0.1" in line
        assert "secret" not in line


@pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)
def test_a_missing_postgresql_database_is_one_line(tmp_path: Path) -> None:
    assert PG_URL is not None
    missing = make_url(PG_URL).set(database="rapport_no_such_database")
    url = missing.render_as_string(hide_password=False)
    result = run_cli("worker", env=clean_env(tmp_path, RAPPORT_DATABASE_URL=url), cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert 'database "rapport_no_such_database" does not exist' in line
    assert "createdb" in line and "RAPPORT_DATABASE_URL" in line


def test_debug_level_adds_the_traceback(tmp_path: Path) -> None:
    env = clean_env(tmp_path, RAPPORT_PORT="abc", RAPPORT_LOG_LEVEL="DEBUG")
    result = run_cli("serve", "--no-console", env=env, cwd=tmp_path)

    assert result.returncode == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert "ValidationError" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("Cannot start: RAPPORT_PORT='abc'")


def test_version(tmp_path: Path) -> None:
    result = run_cli("--version", env=clean_env(tmp_path), cwd=tmp_path)

    assert result.returncode == 0
    assert result.stdout.strip() == f"rapport {rapport.__version__}"
    assert result.stderr == ""


async def _serve_until_swept(tmp_path: Path, env: dict[str, str], sweeps: int = 2) -> str:
    """Run `rapport serve` until it has swept `sweeps` times, SIGTERM it, return its stderr."""
    # /metrics is on the operator port.
    env = {"RAPPORT_METRICS_PORT": str(free_port()), **env}
    base = f"http://127.0.0.1:{env['RAPPORT_METRICS_PORT']}"
    async with running_cli("serve", "--no-console", env=env, cwd=tmp_path) as process:
        await wait_until_answering(process, f"{base}/healthz")
        # The sweep runs every second.
        await wait_for_metric(base, "rapport_sweep_duration_seconds_count", sweeps,
                              failure="the scheduler never swept")
        return await stop_cleanly(process)


async def test_start_line_in_json_logs_and_a_quiet_idle_server(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        fake.add_workspace(DEFAULT_TEAM_ID, bot_token=DEFAULT_BOT_TOKEN)
        env = clean_env(tmp_path, SLACK_BOT_TOKEN=DEFAULT_BOT_TOKEN, SLACK_SIGNING_SECRET="s",
                        SLACK_API_URL=fake.base_url, TEAMS_ENABLED="true",
                        RAPPORT_PORT=str(free_port()), RAPPORT_SWEEP_SECONDS="1",
                        RAPPORT_LOG_FORMAT="json",
                        # Misspelled: it used to be ignored without a word, and the process
                        # quietly used another database.
                        RAPPORT_DATABASE_URI="postgresql+asyncpg://u:hunter2@db/rapport")
        stderr = await _serve_until_swept(tmp_path, env)
    lines = [json.loads(line) for line in stderr.splitlines()]
    [unknown] = [line for line in lines if line.get("variable") == "RAPPORT_DATABASE_URI"]
    assert unknown["level"] == "warning"
    assert unknown["did_you_mean"] == "RAPPORT_DATABASE_URL"
    assert "did you mean RAPPORT_DATABASE_URL?" in unknown["msg"]
    assert "hunter2" not in stderr  # an unknown variable's value is never logged
    [database] = [line for line in lines if line["msg"] == "using database"]
    assert (database["driver"], database["database"]) == ("sqlite+aiosqlite",
                                                          str(tmp_path / "rapport.db"))
    # The revision the schema reached, not the target's name ("head").
    [upgraded] = [line for line in lines if line["msg"] == "schema upgraded"]
    assert upgraded["revision"] == SCHEMA_HEAD
    [start] = [line for line in lines if line["msg"].startswith("Slack: ")]
    assert start["msg"] == ("Slack: on (single workspace, HTTP). Teams: on (EMULATOR MODE: no "
                            "authentication, loopback only). Console: off (--no-console).")
    assert start["slack"] == "on (single workspace, HTTP)"
    assert start["teams"].startswith("on (EMULATOR MODE")
    assert start["console"] == "off (--no-console)"
    assert start["level"] == "info"
    # Item 8 of issue 17: idle sweeps are DEBUG, the emulator warning comes once, and Bolt's
    # "token will be unused" (it reads SLACK_BOT_TOKEN itself) is gone.
    messages = [line["msg"] for line in lines]
    assert not [m for m in messages if m.startswith("sweep finished")]
    # Once warmed up, what start-up built is kept from the collector (its full collections
    # walked all of it, a pause every request in flight waited for).
    [kept] = [line for line in lines
              if line["msg"] == "start-up objects kept from the garbage collector"]
    assert kept["objects"] > 50_000
    assert len([m for m in messages if "TEAMS EMULATOR MODE" in m]) == 1
    assert not [m for m in messages if "will be unused" in m]
    assert DEFAULT_BOT_TOKEN not in stderr


async def test_start_line_in_text_logs_says_why_front_ends_are_off(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(tmp_path, RAPPORT_PORT=str(port), RAPPORT_SWEEP_SECONDS="1",
                    RAPPORT_LOG_FORMAT="text", RAPPORT_SWEEP_SECS="5")
    stderr = await _serve_until_swept(tmp_path, env, sweeps=1)
    lines = stderr.splitlines()
    [start] = [line for line in lines if "Slack: " in line]
    assert (
        " INFO rapport.bot.service.cli Slack: off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, "
        "or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET). Teams: off (set MicrosoftAppId, "
        "MicrosoftAppPassword). Console: off (--no-console). slack=") in start
    assert start.endswith(' console="off (--no-console)"'), start
    assert "sweep finished" not in stderr
    # The fields of the JSON lines are in the text lines too.
    [listening] = [line for line in lines if " listening host=" in line]
    assert f" listening host=127.0.0.1 port={port} " in listening, listening
    [unknown] = [line for line in lines if "RAPPORT_SWEEP_SECS" in line]
    assert " WARNING " in unknown and "did you mean RAPPORT_SWEEP_SECONDS?" in unknown, unknown
    [database] = [line for line in lines if " using database " in line]
    assert database.endswith(f" driver=sqlite+aiosqlite database={tmp_path / 'rapport.db'}")


async def test_a_worker_says_it_only_sends(tmp_path: Path) -> None:
    env = clean_env(tmp_path, MicrosoftAppId=APP_ID, MicrosoftAppPassword="p",
                    MicrosoftAppType="MultiTenant", RAPPORT_LOG_FORMAT="text")
    process = await start_cli("worker", env=env, cwd=tmp_path)
    assert process.stderr is not None
    try:
        async with asyncio.timeout(90):  # a hang guard
            while b"Slack: " not in (line := await process.stderr.readline()):
                assert line, "the worker exited before its start line"
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    assert "Teams: on (MultiTenant, sending nudges only). Console: off (worker). " \
        in line.decode(), line
    assert "EMULATOR" not in line.decode()


@pytest.mark.parametrize(("values", "web", "expected"), [
    ({"slack_client_id": "1.2", "slack_client_secret": "s", "slack_signing_secret": "x"}, True,
     "Slack: on (OAuth, many workspaces, HTTP)."),
    ({"slack_bot_token": "xoxb-1", "slack_app_token": "xapp-1"}, True,
     "Slack: on (single workspace, Socket Mode)."),
    ({"slack_bot_token": "xoxb-1"}, False,
     "Slack: on (single workspace, sending nudges only: this process serves no requests)."),
    ({"microsoft_app_id": APP_ID, "microsoft_app_password": "p",
      "microsoft_app_type": "SingleTenant", "microsoft_app_tenant_id": "t"}, True,
     "Teams: on (SingleTenant)."),
])
def test_the_start_line_names_the_mode(values: dict[str, str], web: bool, expected: str) -> None:
    from rapport.bot.service.config import Settings
    from rapport.bot.service.startup import describe_front_ends

    line = describe_front_ends(Settings.model_validate(values), web=web, console=False).line
    assert expected in line
    for secret in ("xoxb-1", "xapp-1"):
        assert secret not in line


@pytest.mark.parametrize(("app_type", "extra", "shown"), [
    ("singletenant", {"microsoft_app_tenant_id": "t"}, "SingleTenant"),
    (" MULTITENANT ", {}, "MultiTenant"),
    ("UserAssignedMsi", {"microsoft_app_tenant_id": "t"}, "UserAssignedMSI"),
])
def test_app_types_are_read_in_any_case_as_botbuilder_reads_them(
        app_type: str, extra: dict[str, str], shown: str) -> None:
    from rapport.bot.service.config import Settings
    from rapport.bot.service.startup import check_config, describe_front_ends

    settings = Settings.model_validate({"microsoft_app_id": APP_ID, "microsoft_app_password": "p",
                                        "microsoft_app_type": app_type, **extra})
    check_config(settings, web=True, platforms=True)
    assert settings.microsoft_app_type == shown
    assert f"Teams: on ({shown})." in describe_front_ends(settings, web=True, console=False).line


@pytest.mark.parametrize("taken", ["RAPPORT_PORT", "RAPPORT_METRICS_PORT"])
def test_a_taken_port_names_that_port_and_its_variable(tmp_path: Path, taken: str) -> None:
    # Found by a tester: the operator port was taken, the message named the public one.
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        ports = {"RAPPORT_PORT": str(free_port()), "RAPPORT_METRICS_PORT": str(free_port())}
        ports[taken] = str(busy)
        result = run_cli_in_process("serve", "--no-console",
                                    env=clean_env(tmp_path, **ports), cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    line = result.stderr.splitlines()[-1]
    other = ({"RAPPORT_PORT", "RAPPORT_METRICS_PORT"} - {taken}).pop()
    assert line.startswith(f"Cannot start: Cannot listen on 127.0.0.1:{busy} "), line
    assert taken in line and other not in line, line
    assert ports[other] not in line, line
