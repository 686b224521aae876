"""compose.yaml: PostgreSQL, a one-shot migration, then a `serve` and a `worker` replica; every
setting Rapport reads is named, and what the containers get is a configuration Rapport accepts."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import AliasChoices

from rapport.bot.service.config import Settings
from rapport.bot.service.startup import check_config
from tests.deploy.compose import (
    MissingVariable,
    container_environment,
    interpolations,
    load_compose,
)

# Settings the containers deliberately do not get, with the reason.
NOT_FOR_CONTAINERS = {
    # Emulator mode turns Teams authentication off and is refused unless RAPPORT_HOST is
    # loopback; a container listens on 0.0.0.0.
    "TEAMS_ENABLED",
}
ROLES = ("migrate", "serve", "worker")
OPERATOR = {"POSTGRES_PASSWORD": "s3cretpw", "SLACK_SIGNING_SECRET": "signing",
            "SLACK_BOT_TOKEN": "xoxb-1-2-3"}


def _setting_names() -> set[str]:
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice) for choice in alias.choices)
        elif alias is not None:
            names.add(str(alias))
    return names


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose(OPERATOR)


def test_every_variable_is_required_or_has_a_default() -> None:
    found = interpolations()
    assert found
    bare = [(name, op) for name, op, _ in found if op not in (":-", ":?")]
    assert bare == [], "use ${VAR:?why} for required and ${VAR:-default} for the rest"
    required = {name for name, op, _ in found if op == ":?"}
    assert required == {"POSTGRES_PASSWORD"}


def test_compose_refuses_to_render_without_the_database_password() -> None:
    with pytest.raises(MissingVariable, match="POSTGRES_PASSWORD"):
        load_compose({})


def test_the_roles_run_in_order_on_postgresql(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", *ROLES}
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["serve"]["command"][0] == "serve"
    assert "--no-console" in services["serve"]["command"]
    assert services["worker"]["command"] == ["worker"]
    assert services["migrate"]["restart"] == "no"  # a one-shot
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for role in ("serve", "worker"):
        assert services[role]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"}}
    for role in ROLES:
        assert services[role]["build"] == "." and services[role]["image"] == "rapport:local"
    # SIGTERM gets the shutdown grace Rapport asks for, not Docker's default 10 s.
    assert int(services["serve"]["stop_grace_period"].removesuffix("s")) > \
        Settings.model_validate({}).shutdown_seconds


def test_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    serve_check = services["serve"]["healthcheck"]["test"]
    assert serve_check == ["CMD", "python", "-m", "rapport.bot.service.healthcheck"]
    # A worker answers /healthz on its operator port too: the same check.
    assert services["worker"]["healthcheck"] == services["serve"]["healthcheck"]
    # The one-shot serves no HTTP: the image's /healthz check is switched off.
    assert services["migrate"]["healthcheck"] == {"disable": True}


def test_every_setting_rapport_reads_is_named_for_every_role(compose: dict[str, Any]) -> None:
    expected = _setting_names() - NOT_FOR_CONTAINERS
    for role in ROLES:
        named = set(compose["services"][role]["environment"])
        assert expected - named == set(), f"{role} does not name {sorted(expected - named)}"
        assert named - _setting_names() == set(), f"{role} names unknown variables"


def test_the_containers_get_a_configuration_rapport_accepts(compose: dict[str, Any]) -> None:
    env = container_environment(compose["services"]["serve"], OPERATOR)
    settings = Settings.model_validate(env)
    check_config(settings, web=True, platforms=True)  # raises StartupError otherwise

    assert settings.database_url == \
        "postgresql+asyncpg://rapport:s3cretpw@postgres:5432/rapport"
    assert (settings.host, settings.port) == ("0.0.0.0", 3000)
    assert settings.slack_configured and not settings.teams_configured
    # Unset secrets are left out rather than passed as empty strings.
    assert "MicrosoftAppId" not in env and "OPENAI_API_KEY" not in env
    # Every default in compose.yaml is Rapport's own default.
    defaults = Settings.model_validate({})  # the code's defaults, not this shell's
    literal = {"database_url", "host", "slack_signing_secret", "slack_bot_token"}
    for name in Settings.model_fields:
        if name not in literal:
            assert getattr(settings, name) == getattr(defaults, name), name
    postgres = compose["services"]["postgres"]["environment"]
    assert postgres["POSTGRES_PASSWORD"] == "s3cretpw"
    assert (postgres["POSTGRES_USER"], postgres["POSTGRES_DB"]) == ("rapport", "rapport")
