"""Every number in the settings has a range, stated in docs/configuration.md; settings out of
range stop the start with one line and exit code 2, before any migration (the table of bad
starts in tests/bot/test_startup.py holds those cases).

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

ROOT = Path(__file__).resolve().parents[2]

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
