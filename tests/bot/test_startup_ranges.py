"""Settings that cannot work stop the start with one line and exit code 2, before any migration.

Found by an exploratory tester: numbers had no range (`RAPPORT_SWEEP_SECONDS=-5` started a
server whose /healthz never answered, `RAPPORT_LEASE_SECONDS=0` delivered every nudge twice with
two workers, `RAPPORT_DATABASE_POOL_SIZE=0` ran nothing while /readyz said ready), an unknown
log level was a traceback and an unknown log format was taken for text, and Slack OAuth without
`RAPPORT_ENCRYPTION_KEY` migrated the database before failing with a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from annotated_types import Ge, Le

from rapport.bot.service.config import Settings
from tests.bot.processes import clean_env, run_cli, run_cli_in_process

ROOT = Path(__file__).resolve().parents[2]

# (command, environment, words the one line must contain)
BAD_STARTS: list[tuple[tuple[str, ...], dict[str, str], tuple[str, ...]]] = [
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

# The first bad start of each command runs as a real process (what an operator meets); the
# others go through the same entry point in this process (tests/bot/processes.py).
REAL_PROCESS = {command[0]: index for index, (command, _, _) in reversed(
    list(enumerate(BAD_STARTS)))}


@pytest.mark.parametrize(("command", "environment", "words"), BAD_STARTS,
                         ids=[f"{c[0]}-{'-'.join(f'{k}={v}' for k, v in e.items())}"
                              for c, e, _ in BAD_STARTS])
def test_a_setting_out_of_range_is_one_line_and_nothing_is_migrated(
        tmp_path: Path, command: tuple[str, ...], environment: dict[str, str],
        words: tuple[str, ...]) -> None:
    real = REAL_PROCESS[command[0]] == BAD_STARTS.index((command, environment, words))
    run = run_cli if real else run_cli_in_process
    result = run(*command, env=clean_env(tmp_path, **environment), cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("Cannot start: "), line
    for word in words:
        assert word in line, line
    assert "shh" not in line
    assert list(tmp_path.iterdir()) == []  # no database was created or migrated


def test_slack_oauth_starts_with_a_key_or_the_development_opt_out() -> None:
    from rapport.bot.service.startup import check_config

    oauth = {"SLACK_CLIENT_ID": "123.456", "SLACK_CLIENT_SECRET": "shh",
             "SLACK_SIGNING_SECRET": "s"}
    key = "lmFOhvcSbrNc3ywXR0D7A3C_lyRivdrtdXcxZHWvWDw="
    check_config(Settings.model_validate({**oauth, "RAPPORT_ENCRYPTION_KEY": key}),
                 web=True, platforms=True)
    check_config(Settings.model_validate({**oauth, "RAPPORT_ALLOW_PLAINTEXT_TOKENS": "true"}),
                 web=True, platforms=True)
    # Commands that run no Slack (db upgrade, the data commands) store no token.
    check_config(Settings.model_validate(oauth), web=False, platforms=False)


@pytest.mark.parametrize(("variable", "value", "field", "expected"), [
    ("RAPPORT_LOG_LEVEL", "debug", "log_level", "DEBUG"),
    ("RAPPORT_LOG_LEVEL", " Warning ", "log_level", "WARNING"),
    ("RAPPORT_LOG_FORMAT", "TEXT", "log_format", "text"),
    ("RAPPORT_SWEEP_SECONDS", "1", "sweep_seconds", 1.0),
    ("RAPPORT_LEASE_SECONDS", "5", "lease_seconds", 5.0),
    ("RAPPORT_DATABASE_POOL_SIZE", "1", "database_pool_size", 1),
    ("RAPPORT_PORT", "0", "port", 0),
    ("RAPPORT_METRICS_PORT", "65535", "metrics_port", 65535),
    ("RAPPORT_SHUTDOWN_SECONDS", "0", "shutdown_seconds", 0.0),
])
def test_values_at_the_edges_of_their_range_are_accepted(
        variable: str, value: str, field: str, expected: object) -> None:
    assert getattr(Settings.model_validate({variable: value}), field) == expected


def _bounds(field: str) -> tuple[float | None, float | None]:
    low = high = None
    for constraint in Settings.model_fields[field].metadata:
        if isinstance(constraint, Ge):
            low = constraint.ge
        elif isinstance(constraint, Le):
            high = constraint.le
    return low, high


def _shown(number: float) -> str:
    return f"{number:,.0f}" if float(number).is_integer() else str(number)


NUMERIC = [name for name, field in Settings.model_fields.items()
           if field.annotation in (int, float)]


@pytest.mark.parametrize("field", NUMERIC)
def test_every_number_has_a_range_and_the_configuration_table_states_it(field: str) -> None:
    low, high = _bounds(field)
    assert low is not None and high is not None, f"{field} has no range"
    variable = str(Settings.model_fields[field].validation_alias)
    text = (ROOT / "docs" / "configuration.md").read_text("utf-8")
    [row] = [line for line in text.splitlines()
             if line.startswith("|") and re.search(rf"`{variable}`", line.split("|")[1])]
    assert f"{_shown(low)} to {_shown(high)}" in row, (variable, row)
