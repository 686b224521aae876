"""Which settings a process really uses. Found by an operator: RAPPORT_DATABASE_URI (for _URL)
was ignored without a word and the replica quietly used ./rapport.db. Start-up now warns about
each RAPPORT_* variable Rapport does not read, with the closest name, and logs the database in
use (tests/bot/test_startup.py sees both in a real `rapport serve`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rapport.bot.service.startup import describe_database, unknown_variables

CONFIGURATION_DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


@pytest.mark.parametrize(("name", "closest"), [
    ("RAPPORT_DATABASE_URI", "RAPPORT_DATABASE_URL"),
    ("RAPPORT_DB_URL", "RAPPORT_DATABASE_URL"),
    ("RAPPORT_LOGLEVEL", "RAPPORT_LOG_LEVEL"),
    ("RAPPORT_METRIC_PORT", "RAPPORT_METRICS_PORT"),
    ("rapport_sweep_secs", "RAPPORT_SWEEP_SECONDS"),
    ("RAPPORT_FOO", None),  # the shared prefix alone makes no name close
])
def test_an_unknown_variable_is_named_with_the_closest_setting(name: str,
                                                               closest: str | None) -> None:
    assert unknown_variables({name: "x", "PATH": "/bin"}) == [(name, closest)]


def test_settings_in_any_case_and_variables_read_elsewhere_are_known() -> None:
    # Every RAPPORT_* name docs/configuration.md mentions: the settings' table and the
    # variables read outside the settings (the console, the tests, compose, the image), but
    # for its example of a misspelling.
    documented = set(re.findall(r"\bRAPPORT_[A-Z0-9_]*[A-Z0-9]\b",
                                CONFIGURATION_DOC.read_text(encoding="utf-8")))
    documented.remove("RAPPORT_DATABASE_URI")
    assert {"RAPPORT_CONSOLE_USER", "RAPPORT_PUBLISH_PORT", "RAPPORT_DATABASE_URL"} <= documented
    assert unknown_variables(dict.fromkeys(documented, "x")) == []
    assert unknown_variables({"rapport_database_url": "x", "Rapport_Port": "1"}) == []


@pytest.mark.parametrize(("url", "driver", "where"), [
    ("postgresql+asyncpg://rapport:hunter2@db.internal:6432/crm?ssl=require",
     "postgresql+asyncpg", "db.internal:6432/crm"),
    ("postgresql+asyncpg://rapport:hunter2@db/rapport", "postgresql+asyncpg",
     "db:5432/rapport"),
    ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite", "(memory)"),
])
def test_the_database_in_use_is_named_without_its_credentials(url: str, driver: str,
                                                              where: str) -> None:
    assert describe_database(url) == {"driver": driver, "database": where}


def test_a_relative_sqlite_path_is_named_in_full(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert describe_database("sqlite+aiosqlite:///./rapport.db") == {
        "driver": "sqlite+aiosqlite", "database": str(tmp_path / "rapport.db")}
