"""Where each provider's OAuth and calendar endpoints are, and what Rapport asks for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from rapport.bot.service.config import Settings

GOOGLE = "google"
MICROSOFT = "microsoft"
LABELS = {GOOGLE: "Google Calendar", MICROSOFT: "Microsoft 365 calendar"}

# Read-only access to events, nothing else (issue 16).
GOOGLE_SCOPE = "https://www.googleapis.com/auth/calendar.events.readonly"
# Any of these granted scopes lets events.list answer (Google's discovery document); with
# granular consent a person may untick the calendar box, which leaves none of them.
GOOGLE_READ_SCOPES = frozenset({
    GOOGLE_SCOPE,
    "https://www.googleapis.com/auth/calendar.readonly",
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar",
})
GOOGLE_AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
GOOGLE_REVOKE_URL = "https://oauth2.googleapis.com/revoke"

# offline_access is what makes the identity platform return a refresh token.
MICROSOFT_SCOPE = "offline_access Calendars.Read"
MICROSOFT_READ_SCOPES = frozenset({"calendars.read", "calendars.readwrite"})


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """One calendar provider as configured for this deployment."""

    name: str
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    # Microsoft's identity platform has no revocation endpoint for refresh tokens.
    revoke_url: str | None
    scope: str
    redirect_uri: str
    api_url: str
    # Extra authorize parameters: Google returns a refresh token only with offline access,
    # and again for a returning person only when the consent screen is shown.
    authorize_params: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return LABELS[self.name]

    def grants_calendar(self, granted_scope: str | None) -> bool:
        """Whether the scopes the provider granted include reading calendar events."""
        if granted_scope is None:
            # RFC 6749 5.1: scope may be omitted when it equals the requested one.
            return True
        granted = {_short_scope(scope) for scope in granted_scope.split()}
        if self.name == GOOGLE:
            return bool(granted & GOOGLE_READ_SCOPES)
        return bool(granted & MICROSOFT_READ_SCOPES)


def _short_scope(scope: str) -> str:
    # Microsoft may answer resource-qualified scopes ("https://graph.microsoft.com/Calendars.Read").
    if scope.startswith("https://graph.microsoft.com/"):
        return scope.rsplit("/", 1)[1].lower()
    return scope if scope.startswith("https://www.googleapis.com/") else scope.lower()


def redirect_uri(public_url: str, provider: str) -> str:
    """`${RAPPORT_PUBLIC_URL}/oauth/<provider>/callback`, the URI to register with the app."""
    return f"{public_url.rstrip('/')}/oauth/{provider}/callback"


def providers_from_settings(settings: Settings) -> dict[str, ProviderConfig]:
    """The configured providers (none without RAPPORT_PUBLIC_URL: no redirect URI)."""
    providers: dict[str, ProviderConfig] = {}
    public_url = settings.public_url
    if public_url is None:
        return providers
    if GOOGLE in settings.calendar_providers:
        assert settings.google_client_id and settings.google_client_secret
        oauth = settings.google_oauth_url.rstrip("/") if settings.google_oauth_url else None
        providers[GOOGLE] = ProviderConfig(
            name=GOOGLE, client_id=settings.google_client_id,
            client_secret=settings.google_client_secret,
            authorize_url=f"{oauth}/o/oauth2/v2/auth" if oauth else GOOGLE_AUTHORIZE_URL,
            token_url=f"{oauth}/token" if oauth else GOOGLE_TOKEN_URL,
            revoke_url=f"{oauth}/revoke" if oauth else GOOGLE_REVOKE_URL,
            scope=GOOGLE_SCOPE, redirect_uri=redirect_uri(public_url, GOOGLE),
            api_url=settings.google_api_url.rstrip("/"),
            authorize_params={"access_type": "offline", "prompt": "consent"})
    if MICROSOFT in settings.calendar_providers:
        secret = settings.microsoft_calendar_secret
        assert settings.microsoft_client_id and secret
        login = f"{settings.microsoft_login_url.rstrip('/')}/{settings.microsoft_calendar_tenant}"
        providers[MICROSOFT] = ProviderConfig(
            name=MICROSOFT, client_id=settings.microsoft_client_id, client_secret=secret,
            authorize_url=f"{login}/oauth2/v2.0/authorize",
            token_url=f"{login}/oauth2/v2.0/token", revoke_url=None,
            scope=MICROSOFT_SCOPE, redirect_uri=redirect_uri(public_url, MICROSOFT),
            api_url=settings.microsoft_graph_url.rstrip("/"),
            authorize_params={"response_mode": "query"})
    return providers
