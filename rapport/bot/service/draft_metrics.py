"""`rapport_draft_outcomes_total`: the draft service as every platform reaches it, counting each
draft that is posted, copied or discarded, by the provider that wrote it.

Counted here, in the service layer, so that the core knows nothing of Prometheus and every
platform (Slack's editor, Teams' card, the console) is counted the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from rapport.bot.core.ai import AIProvider, AISettings, provider_from_settings
from rapport.bot.core.context import Actor, DraftOutcomeKind, UserContext
from rapport.bot.core.drafts import DraftOutcome, DraftService
from rapport.bot.service.metrics import Metrics
from rapport.scheduler import planner
from rapport.storage.models import Draft

logger = logging.getLogger(__name__)


class MeteredDraftService(DraftService):
    """The core's draft service, moving the draft outcome counter after each finished draft."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], metrics: Metrics,
                 provider: AIProvider | None = None,
                 clock: Callable[[], datetime] = planner.utcnow) -> None:
        super().__init__(sessions=sessions, provider=provider, clock=clock)
        self.metrics = metrics

    async def finish(self, who: UserContext | Actor, draft_id: int, final_text: str,
                     outcome: DraftOutcomeKind, disclose: bool = True) -> DraftOutcome:
        finished = await super().finish(who, draft_id, final_text, outcome, disclose)
        if finished.ok and finished.outcome is not None:
            await self._count(draft_id, finished.outcome)
        return finished

    async def _count(self, draft_id: int, outcome: str) -> None:
        # One primary-key read per finished draft (a person's click): the outcome the core
        # returns does not say which provider wrote the draft.
        def provider_of(session: Session) -> str | None:
            return session.scalar(select(Draft.provider).where(Draft.id == draft_id))

        try:
            provider = await self.db.run(provider_of, write=False)
        except Exception as failure:  # a metric never fails the person's action
            logger.info("draft outcome not counted", extra={"error": type(failure).__name__})
            return
        self.metrics.draft_outcomes.labels(provider or "unknown", outcome).inc()


def build_metered_draft_service(*, sessions: async_sessionmaker[AsyncSession],
                                settings: AISettings, metrics: Metrics,
                                clock: Callable[[], datetime] = planner.utcnow
                                ) -> MeteredDraftService:
    """`rapport.bot.core.drafts.build_draft_service`, counted."""
    return MeteredDraftService(sessions=sessions, provider=provider_from_settings(settings),
                               clock=clock, metrics=metrics)
