"""Calendars wired from Settings: one HTTP pool, the consent API, the sync job."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.bot.connectors.calendars.connections import CalendarConnections
from rapport.bot.connectors.calendars.oauth import CalendarHttp
from rapport.bot.connectors.calendars.providers import providers_from_settings
from rapport.bot.connectors.calendars.sync import CalendarSync, SyncReport
from rapport.bot.connectors.cipher import TokenCipher
from rapport.bot.service.config import Settings
from rapport.scheduler.lifecycle import DEFAULT_GRACE

logger = logging.getLogger(__name__)


@dataclass
class CalendarService:
    """What the runtime holds when at least one calendar provider is configured."""

    connections: CalendarConnections
    sync: CalendarSync
    http: CalendarHttp
    sync_seconds: float
    # RAPPORT_UNINSTALL_GRACE_DAYS: past it, a workspace's calendars are disconnected.
    uninstall_grace: timedelta = DEFAULT_GRACE
    # RAPPORT_SHUTDOWN_SECONDS: the budget for handing back claims, counted from sync.stop().
    shutdown_seconds: float = 20.0

    def job(self) -> Callable[[], Awaitable[Any]]:
        """The scheduler job body: the calendars of workspaces due to be purged disconnected
        (their grants revoked, which the purge waits for), then one sync run."""
        async def run() -> SyncReport:
            await self.connections.release_uninstalled(self.uninstall_grace)
            return await self.sync.run_once()

        return run

    async def aclose(self) -> None:
        """Stop claiming, hand back the claims held, close the connection pool.

        The database may be down at shutdown: holding no claims asks nothing of it, and a
        release that fails within the budget is a warning (sync.shutdown), never a failed exit.
        """
        await self.sync.shutdown(self.shutdown_seconds)
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
                           sync_seconds=settings.calendar_sync_seconds,
                           uninstall_grace=timedelta(days=settings.uninstall_grace_days),
                           shutdown_seconds=settings.shutdown_seconds)
