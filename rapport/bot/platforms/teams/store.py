"""Conversation references for proactive Teams messages, kept in the ConversationRef table."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime

from botbuilder.schema import ConversationReference
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.storage.models import ConversationRef, User, Workspace

logger = logging.getLogger(__name__)

PLATFORM = "teams"


class ReferenceStore:
    """Reads and writes the one personal-chat reference each Teams user has."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession],
                 clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.clock = clock

    async def save(self, *, workspace_id: int, user_id: int,
                   reference: ConversationReference) -> bool:
        """Store `reference` for the user (and re-activate them); True when it is new."""
        conversation_id = reference.conversation.id
        payload = json.dumps(reference.serialize(), sort_keys=True)
        for _attempt in range(2):
            try:
                async with self.sessions() as session, session.begin():
                    # Writing to the bot makes a user reachable again (after a 403 or an
                    # uninstall); the core only notices that when its id cache is cold.
                    await session.execute(
                        update(User).where(User.id == user_id, User.active.is_(False),
                                           User.inactive_reason.is_not(None))
                        .values(active=True, inactive_reason=None))
                    row = await session.scalar(
                        select(ConversationRef).where(ConversationRef.user_id == user_id))
                    if row is None:
                        session.add(ConversationRef(
                            workspace_id=workspace_id, user_id=user_id, platform=PLATFORM,
                            conversation_id=conversation_id[:300],
                            service_url=(reference.service_url or "")[:500] or None,
                            reference_json=payload, updated_at=self.clock()))
                        return True
                    changed = bool(row.conversation_id != conversation_id[:300])
                    if changed or row.reference_json != payload:
                        row.conversation_id = conversation_id[:300]
                        row.service_url = (reference.service_url or "")[:500] or None
                        row.reference_json = payload
                        row.updated_at = self.clock()
                    return changed
            except IntegrityError:
                continue  # a concurrent install event stored it first; compare again
        return False

    async def user_id(self, tenant_id: str, user_external_id: str) -> int | None:
        """The id of the Teams user's rows, or None when Rapport keeps none for them (never
        met, or after "forget me"); asking creates nothing, unlike the core's acting user."""
        async with self.sessions() as session:
            return await session.scalar(
                select(User.id).join(Workspace, Workspace.id == User.workspace_id)
                .where(Workspace.platform == PLATFORM, Workspace.external_id == tenant_id,
                       User.external_id == user_external_id))

    async def conversation_id(self, user_id: int) -> str | None:
        """The stored personal conversation id, or None."""
        async with self.sessions() as session:
            return await session.scalar(select(ConversationRef.conversation_id)
                                        .where(ConversationRef.user_id == user_id))

    async def load(self, user_id: int) -> ConversationReference | None:
        """The stored reference, or None when the user never opened a personal chat."""
        async with self.sessions() as session:
            payload = await session.scalar(
                select(ConversationRef.reference_json).where(ConversationRef.user_id == user_id,
                                                             ConversationRef.platform == PLATFORM))
        if payload is None:
            return None
        try:
            return ConversationReference().deserialize(json.loads(payload))
        except (ValueError, TypeError) as failure:
            logger.warning("unreadable conversation reference",
                           extra={"user_id": user_id, "error": type(failure).__name__})
            return None

    async def deactivate(self, user_id: int, reason: str) -> None:
        """Stop nudging a user who removed the app; talking to the bot again re-activates."""
        async with self.sessions() as session, session.begin():
            await session.execute(update(User).where(User.id == user_id)
                                  .values(active=False, inactive_reason=reason[:64]))
