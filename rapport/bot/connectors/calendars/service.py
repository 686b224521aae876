"""Calendars wired from Settings: one HTTP pool, the consent API, the sync job."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.bot.connectors.calendars.connections import CalendarConnections
from rapport.bot.connectors.calendars.oauth import CalendarHttp
from rapport.bot.connectors.calendars.providers import providers_from_settings
from rapport.bot.connectors.calendars.sync import CalendarSync
from rapport.bot.connectors.cipher import TokenCipher
from rapport.bot.service.config import Settings

logger = logging.getLogger(__name__)


@dataclass
class CalendarService:
    """What the runtime holds when at least one calendar provider is configured."""

    connections: CalendarConnections
    sync: CalendarSync
    http: CalendarHttp
    sync_seconds: float

    def job(self) -> Callable[[], Awaitable[Any]]:
        """The scheduler job body: one sync run."""
        return self.sync.run_once

    async def aclose(self) -> None:
        """Stop claiming, hand back claims, close the connection pool."""
        self.sync.stop()
        await self.sync.release_claims()
        await self.http.aclose()


def build_calendar_service(settings: Settings, *, sessions: async_sessionmaker[AsyncSession],
                           cipher: TokenCipher | None, clock: Callable[[], datetime]
                           ) -> CalendarService | None:
    """The calendar service, or None when no provider is configured (or no cipher is)."""
    providers = providers_from_settings(settings)
    if not providers:
        return None
    if cipher is None:
        # Refresh tokens are only ever stored encrypted: without a cipher, calendars stay off.
        logger.warning("calendar providers configured but no token cipher: calendars off",
                       extra={"providers": ",".join(providers)})
        return None
    http = CalendarHttp()
    connections = CalendarConnections(sessions=sessions, providers=providers, cipher=cipher,
                                      http=http, clock=clock)
    sync = CalendarSync(sessions=sessions, providers=providers, cipher=cipher, http=http,
                        clock=clock, interval_seconds=settings.calendar_sync_seconds,
                        lease_seconds=settings.lease_seconds)
    return CalendarService(connections=connections, sync=sync, http=http,
                           sync_seconds=settings.calendar_sync_seconds)
