"""Wiring: one object that owns the engine, the use cases, the messengers and the sweeper."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rapport.bot.core.context import Drafter
from rapport.bot.core.rapport import Rapport
from rapport.bot.service.config import Settings
from rapport.bot.service.draft_metrics import build_metered_draft_service
from rapport.bot.service.load import RequestLoad
from rapport.bot.service.metrics import Metrics
from rapport.scheduler.delivery import Sweeper
from rapport.scheduler.messenger import (
    DeliveryResult,
    Messenger,
    OutgoingMessage,
    PersonButton,
    Recipient,
)
from rapport.scheduler.planner import utcnow
from rapport.scheduler.redaction import redact_pending
from rapport.storage import db, queries
from rapport.storage.uow import close_database

if TYPE_CHECKING:
    from rapport.bot.connectors.calendars.briefs import BriefJob
    from rapport.bot.connectors.calendars.service import CalendarService
    from rapport.bot.connectors.calendars.sync import PausedConnection as PausedCalendar
    from rapport.bot.connectors.cipher import TokenCipher

logger = logging.getLogger(__name__)

# Meeting briefs are looked for every minute (they go out `settings prep` minutes before).
BRIEF_SECONDS = 60.0


@dataclass
class Runtime:
    """Everything one process shares; built once, passed to platforms explicitly."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    rapport: Rapport
    messengers: dict[str, Messenger] = field(default_factory=dict)
    clock: Callable[[], datetime] = utcnow
    metrics: Metrics = field(default_factory=Metrics)
    load: RequestLoad = field(default_factory=RequestLoad)
    # Calendar connections and their sync job, when a provider is configured (issue 16).
    calendars: CalendarService | None = None
    _sweeper: Sweeper | None = None

    def __post_init__(self) -> None:
        self.rapport.redact_now = self.redact_pending

    async def redact_pending(self) -> int:
        """Clear the delivered messages queued after a forget or a purge, now."""
        return await redact_pending(self.sessions, self.messengers, self.clock())

    @property
    def drafts(self) -> Drafter | None:
        """The draft service platforms finish drafts with (None: drafts are not wired)."""
        return self.rapport.drafter

    def add_messenger(self, messenger: Messenger) -> None:
        self.messengers[messenger.platform] = messenger
        self._sweeper = None

    @property
    def sweeper(self) -> Sweeper:
        if self._sweeper is None:
            self._sweeper = Sweeper(sessions=self.sessions, messengers=self.messengers,
                                    lease_seconds=self.settings.lease_seconds, clock=self.clock)
        return self._sweeper

    def scheduled_jobs(self) -> list[tuple[Callable[[], Awaitable[Any]], float]]:
        """Interval jobs besides the sweep that this configuration needs: (job, seconds)."""
        from rapport.scheduler.jobs import guarded

        if self.calendars is None:
            return []
        return [(guarded("calendar sync", self.calendars.job()), self.calendars.sync_seconds),
                (guarded("meeting briefs", self.brief_job().run_once), BRIEF_SECONDS)]

    def brief_job(self) -> BriefJob:
        """The meeting-brief job, delivering through `tell_brief` (so briefs are recorded)."""
        from rapport.bot.connectors.calendars.briefs import BriefJob

        return BriefJob(sessions=self.sessions, tell=self.tell_brief, clock=self.clock)

    async def tell(self, user_id: int, text: str, people: tuple[PersonButton, ...] = ()
                   ) -> bool:
        """A direct message to one user, outside the nudge sweep (with Show / Snooze buttons
        for `people`); True when sent."""
        return (await self._tell(user_id, text, people))[1].status == "sent"

    async def tell_brief(self, user_id: int, text: str, people: tuple[PersonButton, ...]
                         ) -> DeliveryResult:
        """A meeting brief, recorded with the people it names so that forgetting one of
        them (or `forget me`, `admin purge`) clears it. The messenger's outcome, so that the
        brief job tries again only what may still go through."""
        workspace_id, result = await self._tell(user_id, text, people)
        ref = result.ref
        if result.status == "sent" and ref and workspace_id is not None:
            await self.rapport.db.run(lambda session: queries.record_delivered_message(
                session, self.clock(), workspace_id=workspace_id, user_id=user_id,
                kind=queries.REDACT_BRIEF, delivery_ref=ref,
                contact_ids=[person.contact_id for person in people]))
        return result

    async def _tell(self, user_id: int, text: str, people: tuple[PersonButton, ...]
                    ) -> tuple[int | None, DeliveryResult]:
        """(workspace id, the messenger's outcome); the user gone, or a platform this
        process does not serve, is an outcome too."""
        row = await self.rapport.db.run(lambda session: queries.recipient_row(session, user_id),
                                        write=False)
        if row is None:
            return None, DeliveryResult.gone("user not found")
        workspace_id, workspace_external_id, platform, external_id, name, tz = row
        messenger = self.messengers.get(platform)
        if messenger is None:
            # Another replica may serve it: worth trying again.
            return workspace_id, DeliveryResult.retry(f"no messenger for {platform}")
        return workspace_id, await messenger.deliver(OutgoingMessage(
            recipient=Recipient(workspace_id=workspace_id,
                                workspace_external_id=workspace_external_id,
                                platform=platform, user_id=user_id,
                                user_external_id=external_id, display_name=name, tz=tz),
            kind="summary", text=text, people=people))

    async def tell_calendar_paused(self, paused: PausedCalendar) -> bool:
        """The provider refused a calendar's grant: say so once, and how to reconnect."""
        name = {"google": "Google", "microsoft": "Microsoft 365"}.get(paused.provider,
                                                                       paused.provider)
        return await self.tell(paused.user_id, (
            f"Your {name} calendar stopped syncing: {name} no longer accepts Rapport's access "
            "(it was removed or expired). Meetings are not logged for you until you type "
            f"“connect {paused.provider} calendar” again."))

    async def close(self) -> None:
        if self.calendars is not None:
            await self.calendars.aclose()
        if self.drafts is not None:
            await self.drafts.close()
        # Not engine.dispose() alone: on SQLite that left the WAL unmerged (storage/uow.py).
        await close_database(self.engine)


async def build_runtime(settings: Settings | None = None, *, upgrade: bool = True,
                        clock: Callable[[], datetime] = utcnow,
                        token_cipher: TokenCipher | None = None) -> Runtime:
    """Engine, schema at head, use cases: the common start of every role.

    `token_cipher` encrypts calendar tokens at rest; without one, calendars stay off.
    """
    settings = settings or Settings()
    engine = db.create_engine(
        settings.database_url, pool_size=settings.database_pool_size,
        statement_timeout=settings.database_statement_timeout_seconds,
        job_statement_timeout=settings.database_job_statement_timeout_seconds)
    if upgrade:
        from rapport.bot.service.startup import prepare_database

        try:
            # An unreachable database or a failed migration is one line (startup.py).
            await prepare_database(engine)
        except BaseException:
            await close_database(engine)
            raise
    sessions = db.session_factory(engine)
    metrics = Metrics()
    # Every platform finishes drafts through this one service: their outcomes are counted in it.
    drafts = build_metered_draft_service(sessions=sessions, settings=settings, metrics=metrics,
                                         clock=clock)
    rapport = Rapport(sessions=sessions, clock=clock, drafter=drafts)
    calendars = None
    if settings.calendar_providers:  # imported only then: it brings Authlib and httpx2
        from rapport.bot.connectors.calendars.service import build_calendar_service
        from rapport.storage.secrets import Secrets

        # Refresh tokens at rest are encrypted with RAPPORT_ENCRYPTION_KEY (startup.py refuses
        # calendars without it); tests inject their own cipher.
        cipher = token_cipher or Secrets.from_setting(settings.encryption_key)
        calendars = build_calendar_service(settings, sessions=sessions, cipher=cipher,
                                           clock=clock)
    runtime = Runtime(settings=settings, engine=engine, sessions=sessions, rapport=rapport,
                      clock=clock, metrics=metrics, calendars=calendars)
    if calendars is not None:
        rapport.calendars = calendars.connections
        calendars.sync.on_paused = runtime.tell_calendar_paused
    return runtime
