"""Fixtures for calendar tests: the Google and Microsoft fakes on the test clock, a Fernet
token cipher, and a whole Rapport web app whose public URL is its own loopback address, so a
browser (an aiohttp session) can walk the consent redirects end to end."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from cryptography.fernet import Fernet
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.connectors.calendars.connections import CalendarConnections
from rapport.bot.connectors.calendars.oauth import CalendarHttp
from rapport.bot.connectors.calendars.providers import (
    ProviderConfig,
    providers_from_settings,
)
from rapport.bot.connectors.calendars.sync import CalendarSync
from rapport.bot.service.config import Settings
from rapport.bot.service.runtime import Runtime, build_runtime
from rapport.bot.service.server import build_web_app
from rapport.storage import db
from rapport.storage.models import Contact
from tests.conftest import Clock, console_user
from tests.fakes import google_api, microsoft_api
from tests.fakes.google_api import FakeGoogle
from tests.fakes.microsoft_api import FakeMicrosoft

__all__ = ["CalendarApp", "FernetCipher", "calendar_app", "calendar_settings",
           "fake_google", "fake_microsoft", "fernet"]


class FernetCipher:
    """A TokenCipher over cryptography's Fernet, as RAPPORT_ENCRYPTION_KEY will provide."""

    def __init__(self, key: bytes | None = None) -> None:
        self._fernet = Fernet(key or Fernet.generate_key())

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        return self._fernet.decrypt(ciphertext.encode()).decode()


@pytest.fixture
def fernet() -> FernetCipher:
    return FernetCipher()


@pytest.fixture
async def fake_google(clock: Clock) -> AsyncIterator[FakeGoogle]:
    async with FakeGoogle(clock=clock) as fake:
        yield fake


@pytest.fixture
async def fake_microsoft(clock: Clock) -> AsyncIterator[FakeMicrosoft]:
    async with FakeMicrosoft(clock=clock) as fake:
        yield fake


def calendar_settings(google: FakeGoogle, microsoft: FakeMicrosoft, public_url: str,
                      database_url: str = "sqlite+aiosqlite:///:memory:") -> Settings:
    """Settings with both providers pointed at the fakes (and their redirect URIs allowed)."""
    google.allow_redirect(f"{public_url}/oauth/google/callback")
    microsoft.allow_redirect(f"{public_url}/oauth/microsoft/callback")
    return Settings(RAPPORT_DATABASE_URL=database_url, RAPPORT_PUBLIC_URL=public_url,
                    GOOGLE_CLIENT_ID=google_api.CLIENT_ID,
                    GOOGLE_CLIENT_SECRET=google_api.CLIENT_SECRET,
                    GOOGLE_OAUTH_URL=google.base_url, GOOGLE_API_URL=google.base_url,
                    MICROSOFT_CLIENT_ID=microsoft_api.CLIENT_ID,
                    MICROSOFT_CLIENT_SECRET=microsoft_api.CLIENT_SECRET,
                    MICROSOFT_LOGIN_URL=microsoft.base_url,
                    MICROSOFT_GRAPH_URL=microsoft.base_url)


@dataclass
class CalendarApp:
    """Rapport's runtime and web app serving the callbacks, plus a browser."""

    runtime: Runtime
    base_url: str
    browser: aiohttp.ClientSession
    google: FakeGoogle
    microsoft: FakeMicrosoft
    cipher: FernetCipher
    clock: Clock

    @property
    def connections(self) -> CalendarConnections:
        assert self.runtime.calendars is not None
        return self.runtime.calendars.connections

    @property
    def sync(self) -> CalendarSync:
        assert self.runtime.calendars is not None
        return self.runtime.calendars.sync

    @property
    def providers(self) -> dict[str, ProviderConfig]:
        return providers_from_settings(self.runtime.settings)

    async def user(self, name: str) -> tuple[int, int]:
        """(workspace_id, user_id) of a console user, created on first use."""
        ctx = await self.runtime.rapport.user_context(console_user(name, tz="Europe/Berlin"))
        return ctx.workspace_id, ctx.user_id

    async def add_contact(self, user: str, name: str, email: str | None) -> int:
        """`add <name>` as the user would type it, then the contact's email."""
        _, user_id = await self.user(user)
        reply = await self.runtime.rapport.handle_text(console_user(user, tz="Europe/Berlin"),
                                                       f"add {name}")
        assert reply.ok, reply.text
        async with self.runtime.sessions() as session, session.begin():
            contact_id = (await session.execute(
                update(Contact).where(Contact.user_id == user_id, Contact.name == name)
                .values(email=email).returning(Contact.id))).scalar_one()
        return int(contact_id)

    async def consent(self, url: str, account: str) -> tuple[int, str]:
        """The browser opens the consent URL signed in as `account` and follows redirects."""
        for fake in (self.google, self.microsoft):
            fake.oauth.signed_in = account
        async with self.browser.get(url) as response:
            return response.status, await response.text()

    async def connect(self, user: str, provider: str, account: str) -> tuple[int, str]:
        workspace_id, user_id = await self.user(user)
        url = await self.connections.start(user_id, workspace_id, provider)
        return await self.consent(url, account)


@pytest.fixture
async def calendar_app(fake_google: FakeGoogle, fake_microsoft: FakeMicrosoft, clock: Clock,
                       fernet: FernetCipher, engine: AsyncEngine) -> AsyncIterator[CalendarApp]:
    """The real runtime (build_runtime) and web app (build_web_app) on a loopback socket."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    # The migrated SQLite copy of the `engine` fixture, opened by the runtime's own engine.
    settings = calendar_settings(fake_google, fake_microsoft, base_url,
                                 engine.url.render_as_string(hide_password=False))
    runtime = await build_runtime(settings, upgrade=False, clock=clock, token_cipher=fernet)
    app = await build_web_app(runtime)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    browser = aiohttp.ClientSession()
    try:
        yield CalendarApp(runtime=runtime, base_url=base_url, browser=browser,
                          google=fake_google, microsoft=fake_microsoft, cipher=fernet,
                          clock=clock)
    finally:
        await browser.close()
        await runner.cleanup()
        await runtime.close()


def calendar_sync(engine: AsyncEngine, settings: Settings, cipher: FernetCipher, clock: Clock,
                  *, owner: str = "a", http: CalendarHttp | None = None,
                  **kwargs: object) -> CalendarSync:
    """A CalendarSync on `engine` with the providers of `settings`."""
    return CalendarSync(sessions=db.session_factory(engine),
                        providers=providers_from_settings(settings), cipher=cipher,
                        http=http or CalendarHttp(), clock=clock, owner=owner,
                        **kwargs)  # type: ignore[arg-type]
