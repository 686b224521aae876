"""Calendars are on only when configured, with a cipher; the job and callbacks are wired."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from rapport.bot.connectors.calendars.providers import providers_from_settings
from rapport.bot.service.config import Settings
from rapport.bot.service.runtime import build_runtime
from rapport.bot.service.server import build_web_app
from rapport.scheduler.jobs import build_scheduler, guarded
from tests.conftest import Clock
from tests.fakes.calendar_fixtures import CalendarApp, FernetCipher


def test_providers_need_credentials_and_a_public_url() -> None:
    assert Settings(GOOGLE_CLIENT_ID="id", GOOGLE_CLIENT_SECRET="s").calendar_providers == ()
    settings = Settings(RAPPORT_PUBLIC_URL="https://rapport.example.com/",
                        GOOGLE_CLIENT_ID="id", GOOGLE_CLIENT_SECRET="s",
                        MICROSOFT_CLIENT_ID="bot-app", MicrosoftAppId="bot-app",
                        MicrosoftAppPassword="bot-password", MicrosoftAppType="SingleTenant",
                        MicrosoftAppTenantId="tenant-guid")
    providers = providers_from_settings(settings)
    google, microsoft = providers["google"], providers["microsoft"]
    assert google.redirect_uri == "https://rapport.example.com/oauth/google/callback"
    assert (google.authorize_url, google.token_url, google.revoke_url) == (
        "https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token",
        "https://oauth2.googleapis.com/revoke")
    # The bot's own app registration as the Microsoft client: its secret and its tenant.
    assert microsoft.client_secret == "bot-password"
    assert microsoft.authorize_url == \
        "https://login.microsoftonline.com/tenant-guid/oauth2/v2.0/authorize"
    assert microsoft.api_url == "https://graph.microsoft.com"
    other = Settings(RAPPORT_PUBLIC_URL="https://r.example", MICROSOFT_CLIENT_ID="other",
                     MicrosoftAppId="bot-app", MicrosoftAppPassword="bot-password")
    assert other.calendar_providers == ()  # another app needs its own secret


async def test_without_a_cipher_calendars_stay_off_and_say_why(
        calendar_app: CalendarApp, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    settings = calendar_app.runtime.settings
    runtime = await build_runtime(settings, upgrade=False, clock=clock)
    try:
        assert runtime.calendars is None and runtime.scheduled_jobs() == []
        assert "no token cipher" in caplog.text
        app = await build_web_app(runtime)
        assert not any(str(r.url_for()).startswith("/oauth/") for r in app.router.resources()
                       if isinstance(r, web.PlainResource))
    finally:
        await runtime.close()


async def test_the_sync_runs_as_a_guarded_scheduler_job(calendar_app: CalendarApp) -> None:
    runtime = calendar_app.runtime
    [(job, seconds), (_briefs, brief_seconds)] = runtime.scheduled_jobs()
    assert seconds == runtime.settings.calendar_sync_seconds == 300
    assert brief_seconds == 60
    scheduler = build_scheduler(sweeper=runtime.sweeper, sweep_seconds=60,
                                extra_jobs=runtime.scheduled_jobs())
    # sweep, calendar sync, meeting briefs, summary, retention, purge, suggestions, undo purge,
    # redactions
    assert len(scheduler.get_jobs()) == 9
    await calendar_app.connect("alex", "google", "alex@example.com")
    await job()
    async with aiohttp.ClientSession() as http:  # the callback route is mounted
        async with http.get(f"{calendar_app.base_url}/oauth/google/callback") as response:
            assert response.status == 400


async def test_a_failing_job_is_logged_and_survives(caplog: pytest.LogCaptureFixture) -> None:
    async def broken() -> None:
        raise RuntimeError("database away")

    await guarded("calendar sync", broken)()
    assert "job failed" in caplog.text


def test_fernet_cipher_round_trips() -> None:
    cipher = FernetCipher()
    assert cipher.decrypt(cipher.encrypt("secret")) == "secret"
