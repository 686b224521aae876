"""Conversation references for proactive Teams messages, kept in the ConversationRef table;
and which Teams id a contact linked by an @mention goes by."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from botbuilder.schema import ConversationReference
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.bot.core.context import UserContext
from rapport.bot.core.users import fresh_context
from rapport.storage.models import Contact, ConversationRef, User, Workspace

logger = logging.getLogger(__name__)

PLATFORM = "teams"
# contacts.platform_user_id's length.
MAX_LINK_ID = 128


class ReferenceStore:
    """Reads and writes the one personal-chat reference each Teams user has."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession],
                 clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.clock = clock

    async def save(self, *, workspace_id: int, user_id: int, reference: ConversationReference,
                   owner: UserContext | None = None) -> bool:
        """Store `reference` for the user (and re-activate them); True when it is new.

        `owner`: the sender's context (cached by the process) the ids came from; stored only
        while they are still the sender's rows, else `StaleUser`: SQLite hands a forgotten
        user's id to the next user, whose reminders would go to this chat."""
        conversation_id = reference.conversation.id
        payload = json.dumps(reference.serialize(), sort_keys=True)
        for _attempt in range(2):
            try:
                async with self.sessions() as session, session.begin():
                    if owner is not None:
                        await session.run_sync(fresh_context, owner)
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

    async def workspace_external_id(self, tenant_id: str) -> str:
        """The tenant's id as its workspace row spells it, found in any letter case (Teams
        may spell a tenant id in either, and an earlier Rapport stored it as it came), else
        `tenant_id` in lower case, as a new row spells it. Of two rows split by case, the
        one in lower case."""
        wanted = tenant_id.lower()
        async with self.sessions() as session:
            stored = (await session.scalars(
                select(Workspace.external_id)
                .where(Workspace.platform == PLATFORM,
                       func.lower(Workspace.external_id) == wanted)
                .order_by(Workspace.id))).all()
        return wanted if wanted in stored or not stored else stored[0]

    async def user_by_teams_id(self, tenant_id: str, teams_id: str) -> str | None:
        """The external id of the user whose personal chat Rapport keeps under the Teams
        ("29:") id `teams_id` in the tenant (found in any letter case), or None. For an
        activity without the AAD object id users are kept by: the stored chat says whose
        Teams id it is, so a Teams id is never taken for someone's AAD object id. Rare, so
        the stored references are searched as text, then read to be sure."""
        quoted = json.dumps(teams_id)  # as `save` writes it into the reference's JSON
        async with self.sessions() as session:
            rows = (await session.execute(
                select(User.external_id, ConversationRef.reference_json)
                .join(User, User.id == ConversationRef.user_id)
                .join(Workspace, Workspace.id == User.workspace_id)
                .where(Workspace.platform == PLATFORM,
                       func.lower(Workspace.external_id) == tenant_id.lower(),
                       ConversationRef.platform == PLATFORM,
                       ConversationRef.reference_json.contains(quoted, autoescape=True))
                .order_by(ConversationRef.updated_at.desc(), User.id))).all()
        by_aad, by_teams_id = [], []
        for external_id, payload in rows:
            try:
                user = json.loads(payload).get("user") or {}
            except (ValueError, AttributeError):
                continue
            if not isinstance(user, dict) or user.get("id") != teams_id:
                continue
            # Kept by the AAD object id the chat names for this Teams id, or (a row an
            # earlier Rapport made from an activity without one) by the Teams id itself.
            if user.get("aadObjectId") and external_id == user["aadObjectId"]:
                by_aad.append(external_id)
            elif not user.get("aadObjectId") and external_id == teams_id:
                by_teams_id.append(external_id)
        found = by_aad or by_teams_id
        return str(found[0]) if found else None

    async def link_teams_ids(self, tenant_id: str, user_external_id: str,
                             links: Sequence[tuple[str, str]]) -> int:
        """For each (Teams id, AAD object id) of a mentioned colleague: the user's contact
        linked by the AAD object id alone goes by the Teams id from now on, unless one goes
        by it already. Every mention carries the Teams id and only some the AAD object id, so
        a contact linked by the latter became a second contact for a mention without it.
        Returns how many contacts were moved."""
        # A longer id could not be stored whole, and cut it would match no mention.
        links = [(teams_id, aad) for teams_id, aad in links if len(teams_id) <= MAX_LINK_ID]
        if not links:
            return 0
        ids = {teams_id for teams_id, _aad in links} | {aad for _teams_id, aad in links}
        async with self.sessions() as session, session.begin():
            user_id = await session.scalar(
                select(User.id).join(Workspace, Workspace.id == User.workspace_id)
                .where(Workspace.platform == PLATFORM, Workspace.external_id == tenant_id,
                       User.external_id == user_external_id))
            if user_id is None:
                return 0
            linked: dict[str, int] = {}
            for contact_id, platform_user_id in (await session.execute(
                    select(Contact.id, Contact.platform_user_id)
                    .where(Contact.user_id == user_id, Contact.platform_user_id.in_(ids))
                    .order_by(Contact.id))).all():
                linked.setdefault(str(platform_user_id), contact_id)
            moved = 0
            for teams_id, aad_id in links:
                if teams_id in linked or aad_id not in linked:
                    continue
                contact_id = linked.pop(aad_id)
                await session.execute(update(Contact).where(Contact.id == contact_id)
                                      .values(platform_user_id=teams_id))
                linked[teams_id] = contact_id
                moved += 1
            return moved

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
