"""Logging a day of direct messages with a contact as one `chat` touchpoint.

A synchronous function on one `Session` (the body of one short transaction). Idempotent across
event retries, replays and replicas: the `captured_chats` row keyed by (user, contact, local
day) is inserted with ON CONFLICT DO NOTHING, and only the transaction whose insert took the
key writes a touchpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from rapport.bot.core.touchpoints import record_touchpoint
from rapport.scheduler import planner
from rapport.storage.models import AUTOMATIC_SOURCES, CapturedChat, Contact, Touchpoint

CHAT = "chat"


@dataclass(frozen=True, slots=True)
class ChatOwner:
    """The user whose direct message it was, as capture needs them."""

    workspace_id: int
    user_id: int
    tz: str


def log_chat_day(session: Session, owner: ChatOwner, *, counterpart_external_id: str,
                 at: datetime, source: str, provider: str, now: datetime) -> int:
    """A direct message with `counterpart_external_id` at `at`: one `chat` touchpoint per
    contact linked to that platform user, per local day. Returns touchpoints written."""
    contacts = list(session.scalars(
        select(Contact.id).where(Contact.user_id == owner.user_id,
                                 Contact.platform_user_id == counterpart_external_id)))
    if not contacts:
        return 0
    day = planner.local_date(at, owner.tz)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert
    written = 0
    for contact_id in contacts:
        taken = session.scalar(
            insert(CapturedChat)
            .values(workspace_id=owner.workspace_id, user_id=owner.user_id,
                    contact_id=contact_id, provider=provider, day=day, logged_at=now)
            .on_conflict_do_nothing(index_elements=[CapturedChat.user_id,
                                                    CapturedChat.contact_id, CapturedChat.day])
            .returning(CapturedChat.id))
        if taken is None:
            continue  # this day is logged already (another message, a retry, a replica)
        if _typed_that_day(session, contact_id, day, owner.tz):
            continue  # the person logged that day themselves: theirs stands alone
        touchpoint_id = record_touchpoint(
            session, workspace_id=owner.workspace_id, user_id=owner.user_id,
            contact_id=contact_id, happened_at=at, kind=CHAT, summary=None, source=source,
            now=now)
        session.execute(update(CapturedChat).where(CapturedChat.id == taken)
                        .values(touchpoint_id=touchpoint_id)
                        .execution_options(synchronize_session=False))
        written += 1
    return written


def _typed_that_day(session: Session, contact_id: int, day: date, tz: str) -> bool:
    """Whether the person logged a touchpoint with the contact on that local day."""
    start = planner.local_moment(day, 0, tz)
    return session.scalar(
        select(Touchpoint.id)
        .where(Touchpoint.contact_id == contact_id,
               Touchpoint.source.not_in(AUTOMATIC_SOURCES),
               Touchpoint.happened_at >= start,
               Touchpoint.happened_at < planner.local_moment(day + timedelta(days=1), 0, tz))
        .limit(1)) is not None
