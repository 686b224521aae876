"""Recording, moving and deleting touchpoints, keeping each contact's keep-in-touch clock right.

Synchronous functions on one `Session`, so they run inside any unit of work: a typed command,
a nudge's "done", or a connector that captured a meeting. The rule they keep: a contact's
`last_touch_at` is the newest touchpoint, and the cadence clock (`next_due_at`, `plan_at`)
counts from it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from rapport.scheduler import planner
from rapport.storage.models import Contact, Nudge, Touchpoint

MAX_KIND_CHARS = 32


def record_touchpoint(session: Session, *, workspace_id: int, user_id: int, contact_id: int,
                      happened_at: datetime, kind: str, summary: str | None, source: str,
                      now: datetime) -> int:
    """Insert a touchpoint, move the contact's clock forward, close its cadence nudges."""
    touchpoint_id = session.execute(
        insert(Touchpoint).values(workspace_id=workspace_id, user_id=user_id,
                                  contact_id=contact_id, happened_at=happened_at,
                                  kind=kind[:MAX_KIND_CHARS], summary=summary, source=source,
                                  created_at=now)
        .returning(Touchpoint.id)).scalar_one()
    contact = session.execute(
        select(Contact.last_touch_at, Contact.cadence_days, Contact.created_at)
        .where(Contact.id == contact_id)).one()
    # A backdated log never moves the clock backwards (never more overdue than before).
    if contact.last_touch_at is None or happened_at > contact.last_touch_at:
        _set_clock(session, contact_id, happened_at, contact.cadence_days, contact.created_at)
    # Talking to someone answers the "it has been a while" nudges about them.
    session.execute(
        update(Nudge).where(Nudge.contact_id == contact_id, Nudge.user_id == user_id,
                            Nudge.reason == "cadence", Nudge.status == "sent")
        .values(status="done", acted_at=now).execution_options(synchronize_session=False))
    session.execute(
        update(Nudge).where(Nudge.contact_id == contact_id, Nudge.user_id == user_id,
                            Nudge.reason == "cadence", Nudge.status.in_(("planned", "snoozed")))
        .values(status="expired").execution_options(synchronize_session=False))
    return touchpoint_id


def move_touchpoint(session: Session, touchpoint_id: int, happened_at: datetime) -> None:
    """A touchpoint happened at another moment (a meeting moved): the clock follows."""
    contact_id = session.execute(
        update(Touchpoint).where(Touchpoint.id == touchpoint_id).values(happened_at=happened_at)
        .returning(Touchpoint.contact_id)).scalar_one_or_none()
    if contact_id is not None:
        recompute_clock(session, contact_id)


def delete_touchpoint(session: Session, touchpoint_id: int) -> None:
    """Remove a touchpoint (a cancelled meeting, a correction); the clock goes back to the
    newest touchpoint that remains."""
    contact_id = session.execute(
        select(Touchpoint.contact_id).where(Touchpoint.id == touchpoint_id)).scalar_one_or_none()
    if contact_id is None:
        return
    session.execute(Touchpoint.__table__.delete().where(Touchpoint.id == touchpoint_id))
    recompute_clock(session, contact_id)


def recompute_clock(session: Session, contact_id: int) -> None:
    """Set the contact's last touch to its newest touchpoint and the cadence clock from it."""
    newest = session.execute(select(func.max(Touchpoint.happened_at))
                             .where(Touchpoint.contact_id == contact_id)).scalar_one_or_none()
    contact = session.execute(select(Contact.cadence_days, Contact.created_at)
                              .where(Contact.id == contact_id)).one_or_none()
    if contact is not None:
        _set_clock(session, contact_id, newest, contact.cadence_days, contact.created_at)


def _set_clock(session: Session, contact_id: int, last_touch_at: datetime | None,
               cadence_days: int | None, created_at: datetime) -> None:
    next_due = planner.cadence_next_due(last_touch_at, cadence_days, created_at)
    session.execute(update(Contact).where(Contact.id == contact_id)
                    .values(last_touch_at=last_touch_at, next_due_at=next_due, plan_at=next_due)
                    .execution_options(synchronize_session=False))
