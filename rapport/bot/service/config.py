"""Settings, read once from the environment (the table in docs/configuration.md)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AliasChoices, BeforeValidator, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from rapport.storage.db import (
    DEFAULT_DATABASE_URL,
    JOB_STATEMENT_TIMEOUT_SECONDS,
    STATEMENT_TIMEOUT_SECONDS,
)

# Where Teams serves the files users send (SharePoint, OneDrive); see docs/security.md.
DEFAULT_TEAMS_FILE_HOSTS = ("*.sharepoint.com,*.sharepoint-df.com,*.sharepoint.us,"
                            "*.1drv.com,*.onedrive.com")

# The largest TCP port; 0 asks the system for a free one.
MAX_PORT = 65535
DAY_SECONDS = 24 * 3600


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


# Read in any case (`debug`, `Json`); anything else stops the start instead of being taken
# for the default or failing deep inside `logging`.
LogLevel = Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
                     BeforeValidator(_upper)]
LogFormat = Annotated[Literal["json", "text"], BeforeValidator(_lower)]

# The MicrosoftAppType values botbuilder knows, spelled as in Azure; it reads them in any case.
MICROSOFT_APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")


def _microsoft_app_type(value: object) -> object:
    """A known app type in any case, spelled as Azure does: botbuilder lower-cases it, and the
    checks and the start line compare the Azure spelling. Anything else is kept for the
    start-up check to name (botbuilder would quietly take it for MultiTenant)."""
    if not isinstance(value, str):
        return value
    known = {app_type.lower(): app_type for app_type in MICROSOFT_APP_TYPES}
    return known.get(value.strip().lower(), value)


MicrosoftAppType = Annotated[str, BeforeValidator(_microsoft_app_type)]


class Settings(BaseSettings):
    """Every knob an operator can turn; names are a stable contract (DESIGN.md)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias="RAPPORT_DATABASE_URL")
    # Every number has a range (docs/configuration.md): a value outside it could not work (a
    # negative interval spins the scheduler, a zero lease delivers every nudge twice, an empty
    # pool runs nothing) and stops the start with one line instead.
    database_pool_size: int = Field(10, ge=1, le=500,
                                    validation_alias="RAPPORT_DATABASE_POOL_SIZE")
    # PostgreSQL: how long one statement of a command may run, lock waits included, and one
    # of the scheduler's jobs (rapport.storage.db); 0 is no limit.
    database_statement_timeout_seconds: float = Field(
        STATEMENT_TIMEOUT_SECONDS, ge=0, le=3600, allow_inf_nan=False,
        validation_alias="RAPPORT_DATABASE_STATEMENT_TIMEOUT_SECONDS")
    database_job_statement_timeout_seconds: float = Field(
        JOB_STATEMENT_TIMEOUT_SECONDS, ge=0, le=DAY_SECONDS, allow_inf_nan=False,
        validation_alias="RAPPORT_DATABASE_JOB_STATEMENT_TIMEOUT_SECONDS")
    host: str = Field("127.0.0.1", validation_alias="RAPPORT_HOST")
    port: int = Field(3000, ge=0, le=MAX_PORT, validation_alias="RAPPORT_PORT")
    sweep_seconds: float = Field(60, ge=1, le=DAY_SECONDS, allow_inf_nan=False,
                                 validation_alias="RAPPORT_SWEEP_SECONDS")
    # Longer than one wave of deliveries takes (leases are renewed between waves only).
    lease_seconds: float = Field(300, ge=5, le=DAY_SECONDS, allow_inf_nan=False,
                                 validation_alias="RAPPORT_LEASE_SECONDS")
    shutdown_seconds: float = Field(20, ge=0, le=3600, allow_inf_nan=False,
                                    validation_alias="RAPPORT_SHUTDOWN_SECONDS")
    # Days a workspace's data is kept after the app is removed from it (0: at the next run).
    uninstall_grace_days: int = Field(30, ge=0, le=3650,
                                      validation_alias="RAPPORT_UNINSTALL_GRACE_DAYS")
    log_level: LogLevel = Field("INFO", validation_alias="RAPPORT_LOG_LEVEL")
    log_format: LogFormat = Field("json", validation_alias="RAPPORT_LOG_FORMAT")
    max_body_bytes: int = Field(1_000_000, ge=1024, le=100_000_000,
                                validation_alias="RAPPORT_MAX_BODY_BYTES")
    # A connection that has not sent a request's headers this long after it opened (or after
    # the first byte of its next request) is closed.
    header_timeout_seconds: float = Field(10, ge=0.1, le=3600, allow_inf_nan=False,
                                          validation_alias="RAPPORT_HEADER_TIMEOUT_SECONDS")
    # /readyz and /metrics are served here only; 0 picks a free port (logged).
    metrics_host: str = Field("127.0.0.1", validation_alias="RAPPORT_METRICS_HOST")
    metrics_port: int = Field(3001, ge=0, le=MAX_PORT, validation_alias="RAPPORT_METRICS_PORT")
    reuse_port: bool = Field(False, validation_alias="RAPPORT_REUSE_PORT")

    slack_signing_secret: str | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_bot_token: str | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_client_id: str | None = Field(None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(None, validation_alias="SLACK_CLIENT_SECRET")
    slack_state_secret: str | None = Field(None, validation_alias="SLACK_STATE_SECRET")
    slack_app_token: str | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    # Fernet keys for tokens at rest, comma-separated: the first encrypts, all decrypt.
    encryption_key: str | None = Field(None, validation_alias="RAPPORT_ENCRYPTION_KEY")
    allow_plaintext_tokens: bool = Field(False,
                                         validation_alias="RAPPORT_ALLOW_PLAINTEXT_TOKENS")

    microsoft_app_id: str | None = Field(None, validation_alias="MicrosoftAppId")
    microsoft_app_password: str | None = Field(None, validation_alias="MicrosoftAppPassword")
    microsoft_app_type: MicrosoftAppType = Field("MultiTenant",
                                                 validation_alias="MicrosoftAppType")
    microsoft_app_tenant_id: str | None = Field(None, validation_alias="MicrosoftAppTenantId")
    teams_enabled: bool = Field(False, validation_alias=AliasChoices("TEAMS_ENABLED"))
    # Comma-separated tenant ids a MultiTenant bot answers; empty: every tenant. A SingleTenant
    # (or UserAssignedMSI) bot answers MicrosoftAppTenantId only, whatever this says.
    teams_tenants: str = Field("", validation_alias="RAPPORT_TEAMS_TENANTS")
    # Comma-separated AAD object ids of the people who may run `admin ...` in Teams (matched
    # against the activity's from.aadObjectId); empty: nobody is a Teams admin.
    teams_admins: str = Field("", validation_alias="RAPPORT_TEAMS_ADMINS")
    # Comma-separated; "*.example.com" is any subdomain. Empty: no file is ever downloaded.
    teams_file_hosts: str = Field(DEFAULT_TEAMS_FILE_HOSTS,
                                  validation_alias="RAPPORT_TEAMS_FILE_HOSTS")

    openai_api_key: str | None = Field(None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, validation_alias="OPENAI_BASE_URL")
    ai_model: str = Field("gpt-4o-mini", validation_alias="RAPPORT_AI_MODEL")
    azure_openai_endpoint: str | None = Field(None, validation_alias="AZURE_OPENAI_ENDPOINT")
    azure_openai_api_key: str | None = Field(None, validation_alias="AZURE_OPENAI_API_KEY")
    openai_api_version: str | None = Field(None, validation_alias="OPENAI_API_VERSION")
    ai_deployment: str | None = Field(None, validation_alias="RAPPORT_AI_DEPLOYMENT")
    ai_timeout_seconds: float = Field(20, ge=0.1, le=600, allow_inf_nan=False,
                                      validation_alias="RAPPORT_AI_TIMEOUT_SECONDS")

    # Calendar connections (docs/calendars.md). The URLs are overridable for local fakes.
    public_url: str | None = Field(None, validation_alias="RAPPORT_PUBLIC_URL")
    google_client_id: str | None = Field(None, validation_alias="GOOGLE_CLIENT_ID")
    google_client_secret: str | None = Field(None, validation_alias="GOOGLE_CLIENT_SECRET")
    # Unset: Google's own hosts (consent on accounts.google.com, tokens on oauth2.googleapis.com).
    google_oauth_url: str | None = Field(None, validation_alias="GOOGLE_OAUTH_URL")
    google_api_url: str = Field("https://www.googleapis.com", validation_alias="GOOGLE_API_URL")
    microsoft_client_id: str | None = Field(None, validation_alias="MICROSOFT_CLIENT_ID")
    microsoft_client_secret: str | None = Field(None, validation_alias="MICROSOFT_CLIENT_SECRET")
    microsoft_tenant: str | None = Field(None, validation_alias="MICROSOFT_TENANT")
    microsoft_login_url: str = Field("https://login.microsoftonline.com",
                                     validation_alias="MICROSOFT_LOGIN_URL")
    microsoft_graph_url: str = Field("https://graph.microsoft.com",
                                     validation_alias="MICROSOFT_GRAPH_URL")
    calendar_sync_seconds: float = Field(300, ge=30, le=DAY_SECONDS, allow_inf_nan=False,
                                         validation_alias="RAPPORT_CALENDAR_SYNC_SECONDS")

    @property
    def slack_configured(self) -> bool:
        """Slack is on with a signing secret plus a bot token, OAuth, or Socket Mode."""
        return bool(self.slack_bot_token or (self.slack_client_id and self.slack_client_secret))

    @property
    def teams_configured(self) -> bool:
        """Teams is on with an app id, or explicitly in emulator mode."""
        return bool(self.microsoft_app_id) or self.teams_enabled

    @property
    def microsoft_calendar_secret(self) -> str | None:
        """The client secret; the bot's own password when the client is the bot's app."""
        if self.microsoft_client_secret:
            return self.microsoft_client_secret
        if self.microsoft_client_id and self.microsoft_client_id == self.microsoft_app_id:
            return self.microsoft_app_password
        return None

    @property
    def microsoft_calendar_tenant(self) -> str:
        """`common` (work, school and personal accounts) unless the app is single-tenant."""
        if self.microsoft_tenant:
            return self.microsoft_tenant
        if self.microsoft_client_id == self.microsoft_app_id and \
                self.microsoft_app_type == "SingleTenant" and self.microsoft_app_tenant_id:
            return self.microsoft_app_tenant_id
        return "common"

    @property
    def calendar_providers(self) -> tuple[str, ...]:
        """Calendar providers with credentials and a public URL for their redirect URIs."""
        if not self.public_url:
            return ()
        providers: list[str] = []
        if self.google_client_id and self.google_client_secret:
            providers.append("google")
        if self.microsoft_client_id and self.microsoft_calendar_secret:
            providers.append("microsoft")
        return tuple(providers)

    @property
    def any_platform_configured(self) -> bool:
        return self.slack_configured or self.teams_configured


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
