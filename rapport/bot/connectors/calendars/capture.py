"""Applying calendar changes to the database: captured events, the contacts met in them, and
`meeting` touchpoints through the core's touchpoint functions.

Synchronous functions on one `Session` (called with `AsyncSession.run_sync`), each the body of
one short transaction. Every step is idempotent, so a page seen twice, by one replica or by two
at once, logs each meeting once: rows are keyed by the provider's instance id, and a touchpoint
is written only by the transaction whose conditional update took its attendee row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from rapport.bot.connectors.calendars.events import CalendarEvent
from rapport.bot.core.touchpoints import (
    Met,
    delete_touchpoint,
    move_touchpoint,
    record_touchpoints,
)
from rapport.scheduler import planner
from rapport.storage.models import (
    CALENDAR_SOURCE,
    CalendarConnection,
    CapturedAttendee,
    CapturedEvent,
    Contact,
    MetAttendee,
    Touchpoint,
)

MEETING = "meeting"
SOURCE = CALENDAR_SOURCE


@dataclass(frozen=True, slots=True)
class ConnectionRef:
    """What capture needs to know about the connection being synced."""

    connection_id: int
    workspace_id: int
    user_id: int
    tz: str


@dataclass
class CaptureStats:
    events: int = 0
    logged: int = 0
    moved: int = 0
    removed: int = 0

    def add(self, other: CaptureStats) -> None:
        self.events += other.events
        self.logged += other.logged
        self.moved += other.moved
        self.removed += other.removed


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert


def contact_emails(session: Session, user_id: int) -> dict[str, list[int]]:
    """The user's contacts by lower-cased email (two contacts may share one)."""
    by_email: dict[str, list[int]] = defaultdict(list)
    for contact_id, email in session.execute(
            select(Contact.id, Contact.email)
            .where(Contact.user_id == user_id, Contact.email.is_not(None))):
        if email and email.strip():
            by_email[email.strip().lower()].append(contact_id)
    return dict(by_email)


def apply_events(session: Session, ref: ConnectionRef, events: Sequence[CalendarEvent],
                 contacts: Mapping[str, list[int]], now: datetime) -> CaptureStats:
    """Bring captured events in line with one page of provider changes."""
    stats = CaptureStats(events=len(events))
    # The last version of an instance on a page wins.
    latest = {event.event_id: event for event in events}
    _track_met(session, ref, latest, contacts)
    existing = {row.event_id: row for row in session.execute(
        select(CapturedEvent.id, CapturedEvent.event_id, CapturedEvent.start_at,
               CapturedEvent.end_at)
        .where(CapturedEvent.connection_id == ref.connection_id,
               CapturedEvent.event_id.in_(list(latest))))}
    wanted: dict[str, set[int]] = {}
    gone: list[int] = []
    for event in latest.values():
        row = existing.get(event.event_id)
        if event.removed:
            if row is not None:
                gone.append(row.id)
            if event.series_id is None:
                # A cancelled or deleted series takes every instance we hold with it.
                gone.extend(session.scalars(
                    select(CapturedEvent.id)
                    .where(CapturedEvent.connection_id == ref.connection_id,
                           CapturedEvent.series_id == event.event_id)))
            continue
        met = {contact_id for email in event.partner_emails()
               for contact_id in contacts.get(email, ())} if event.attended else set()
        if row is None and not met:
            continue  # nothing of ours: events without contacts are not stored at all
        wanted[event.event_id] = met
    stats.removed += forget_events(session, gone)
    if not wanted:
        return stats
    _upsert_events(session, ref, [latest[key] for key in wanted], existing, now)
    ids: dict[str, int] = {event_id: captured_id for event_id, captured_id in session.execute(
        select(CapturedEvent.event_id, CapturedEvent.id)
        .where(CapturedEvent.connection_id == ref.connection_id,
               CapturedEvent.event_id.in_(list(wanted))))}
    held: dict[int, list[Any]] = defaultdict(list)
    for attendee in session.execute(
            select(CapturedAttendee.id, CapturedAttendee.captured_event_id,
                   CapturedAttendee.contact_id, CapturedAttendee.touchpoint_id,
                   CapturedAttendee.logged_at)
            .where(CapturedAttendee.captured_event_id.in_(list(ids.values())))):
        held[attendee.captured_event_id].append(attendee)
    new: list[dict[str, Any]] = []
    for event_id, met in wanted.items():
        row = existing.get(event_id)
        event = latest[event_id]
        moved = row is not None and event.start is not None and (
            row.start_at != event.start or row.end_at != event.end)
        attendees = held.get(ids[event_id], [])
        removed, shifted = _sync_attendees(session, attendees, met, event, moved, now)
        stats.removed += removed
        stats.moved += shifted
        have = {attendee.contact_id for attendee in attendees}
        new.extend({"captured_event_id": ids[event_id], "contact_id": contact_id}
                   for contact_id in sorted(met - have))
    if new:
        session.connection().execute(
            _insert(session)(CapturedAttendee).on_conflict_do_nothing(
                index_elements=[CapturedAttendee.captured_event_id,
                                CapturedAttendee.contact_id]), new)
    return stats


def _upsert_events(session: Session, ref: ConnectionRef, events: Iterable[CalendarEvent],
                   existing: Mapping[str, Any], now: datetime) -> None:
    new_rows: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for event in events:
        row = existing.get(event.event_id)
        if event.start is None or event.end is None:
            continue  # no longer a timed meeting: its attendees are dropped, the row stays
        if row is None:
            new_rows.append(dict(
                connection_id=ref.connection_id, workspace_id=ref.workspace_id,
                user_id=ref.user_id, event_id=event.event_id, series_id=event.series_id,
                instance_start=event.instance_start, start_at=event.start, end_at=event.end,
                updated_at=now))
        elif row.start_at != event.start or row.end_at != event.end:
            changed.append({"b_id": row.id, "b_start": event.start, "b_end": event.end,
                            "b_now": now})
    if new_rows:
        # Another replica may have inserted the same instance a moment ago: keep theirs.
        session.connection().execute(
            _insert(session)(CapturedEvent).on_conflict_do_nothing(
                index_elements=[CapturedEvent.connection_id, CapturedEvent.event_id]),
            new_rows)
    if changed:
        session.connection().execute(
            update(CapturedEvent).where(CapturedEvent.id == bindparam("b_id"))
            .values(start_at=bindparam("b_start"), end_at=bindparam("b_end"),
                    updated_at=bindparam("b_now")), changed)


def _sync_attendees(session: Session, rows: Sequence[Any], met: set[int],
                    event: CalendarEvent, moved: bool, now: datetime) -> tuple[int, int]:
    """Drop attendee rows no longer met, follow a move; returns (touchpoints removed, moved)."""
    removed = shifted = 0
    for row in rows:
        if row.contact_id not in met:
            removed += _drop_touchpoint(session, row.touchpoint_id)
            session.execute(delete(CapturedAttendee).where(CapturedAttendee.id == row.id))
        elif moved and row.logged_at is not None and event.end is not None \
                and event.start is not None:
            if event.end <= now and row.touchpoint_id is not None:
                if _is_ours(session, row.touchpoint_id):
                    move_touchpoint(session, row.touchpoint_id, event.start)
                    shifted += 1
            elif event.end > now:
                # Moved to a time that has not come yet: it will be logged when it has.
                removed += _drop_touchpoint(session, row.touchpoint_id)
                session.execute(update(CapturedAttendee).where(CapturedAttendee.id == row.id)
                                .values(logged_at=None, touchpoint_id=None))
    return removed, shifted


def _is_ours(session: Session, touchpoint_id: int) -> bool:
    # Only touchpoints the calendar wrote are ever moved or deleted: a typed one is the
    # person's own record, and so is a calendar one they gave a summary (`edit t7: ...`).
    row = session.execute(select(Touchpoint.source, Touchpoint.summary)
                          .where(Touchpoint.id == touchpoint_id)).first()
    return row is not None and row.source == SOURCE and not row.summary


def _drop_touchpoint(session: Session, touchpoint_id: int | None) -> int:
    if touchpoint_id is None or not _is_ours(session, touchpoint_id):
        return 0
    delete_touchpoint(session, touchpoint_id)
    return 1


def _track_met(session: Session, ref: ConnectionRef, latest: Mapping[str, CalendarEvent],
               contacts: Mapping[str, list[int]]) -> None:
    """Keep the people met who are not contacts in line with one page: email, display name,
    event key and times only, for the offer to add them (none for declined, cancelled,
    all-day or untimed events)."""
    m = MetAttendee
    own = _account_email(session, ref, latest.values())
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    for event in latest.values():
        if not event.attended or event.start is None or event.end is None:
            continue
        for attendee in event.partners():
            if attendee.email in contacts or attendee.email == own \
                    or len(attendee.email) > 320:
                continue
            wanted[(event.event_id, attendee.email)] = dict(
                connection_id=ref.connection_id, workspace_id=ref.workspace_id,
                user_id=ref.user_id, event_id=event.event_id, series_id=event.series_id,
                email=attendee.email, display_name=attendee.name, start_at=event.start,
                end_at=event.end)
    stale = [row.id for row in session.execute(
        select(m.id, m.event_id, m.email)
        .where(m.connection_id == ref.connection_id, m.event_id.in_(list(latest))))
        if (row.event_id, row.email) not in wanted]
    series_gone = [event.event_id for event in latest.values()
                   if event.removed and event.series_id is None]
    if series_gone:
        stale.extend(session.scalars(select(m.id).where(
            m.connection_id == ref.connection_id, m.series_id.in_(series_gone))))
    if stale:
        session.execute(delete(m).where(m.id.in_(stale)))
    if wanted:
        insert = _insert(session)(m)
        session.connection().execute(
            insert.on_conflict_do_update(
                index_elements=[m.connection_id, m.event_id, m.email],
                set_={"start_at": insert.excluded.start_at, "end_at": insert.excluded.end_at,
                      "display_name": insert.excluded.display_name}),
            list(wanted.values()))


def _account_email(session: Session, ref: ConnectionRef, events: Iterable[CalendarEvent]
                   ) -> str | None:
    """The calendar owner's address: stored once a page marks it (Graph lists the owner
    among the attendees of meetings others organise without saying so)."""
    known = session.scalar(select(CalendarConnection.account_email)
                           .where(CalendarConnection.id == ref.connection_id))
    if known is not None:
        return known
    marked = next((a.email for event in events for a in event.attendees
                   if a.is_self and len(a.email) <= 320), None)
    if marked is not None:
        session.execute(update(CalendarConnection)
                        .where(CalendarConnection.id == ref.connection_id)
                        .values(account_email=marked)
                        .execution_options(synchronize_session=False))
        session.execute(delete(MetAttendee).where(
            MetAttendee.connection_id == ref.connection_id, MetAttendee.email == marked))
    return marked


def promote_met(session: Session, ref: ConnectionRef, contacts: Mapping[str, list[int]] | None,
                now: datetime) -> int:
    """Meetings held with someone who has since become a contact (an accepted offer, `set
    Sam email ...`) become captured meetings with that contact, so `log_ended` logs them;
    their rows of people met go. Returns how many meetings were handed over."""
    m = MetAttendee
    emails = set(session.scalars(select(m.email).distinct()
                                 .where(m.connection_id == ref.connection_id)))
    if not emails:
        return 0
    if contacts is None:
        contacts = contact_emails(session, ref.user_id)
    known = [email for email in emails if email in contacts]
    if not known:
        return 0
    rows = session.execute(
        select(m.id, m.event_id, m.series_id, m.email, m.start_at, m.end_at)
        .where(m.connection_id == ref.connection_id, m.email.in_(known))).all()
    events = {row.event_id: row for row in rows}
    session.connection().execute(
        _insert(session)(CapturedEvent).on_conflict_do_nothing(
            index_elements=[CapturedEvent.connection_id, CapturedEvent.event_id]),
        [dict(connection_id=ref.connection_id, workspace_id=ref.workspace_id,
              user_id=ref.user_id, event_id=row.event_id, series_id=row.series_id,
              instance_start=None, start_at=row.start_at, end_at=row.end_at, updated_at=now)
         for row in events.values()])
    ids: dict[str, int] = {event_id: captured_id for event_id, captured_id in session.execute(
        select(CapturedEvent.event_id, CapturedEvent.id)
        .where(CapturedEvent.connection_id == ref.connection_id,
               CapturedEvent.event_id.in_(list(events))))}
    session.connection().execute(
        _insert(session)(CapturedAttendee).on_conflict_do_nothing(
            index_elements=[CapturedAttendee.captured_event_id, CapturedAttendee.contact_id]),
        [{"captured_event_id": ids[row.event_id], "contact_id": contact_id}
         for row in rows for contact_id in contacts[row.email]])
    session.execute(delete(m).where(m.id.in_([row.id for row in rows])))
    return len(events)


def forget_events(session: Session, captured_ids: Sequence[int]) -> int:
    """Delete captured events (cancelled, deleted, gone from a resync) and the touchpoints
    the calendar logged for them; returns how many touchpoints went."""
    if not captured_ids:
        return 0
    removed = 0
    for touchpoint_id in session.scalars(
            select(CapturedAttendee.touchpoint_id)
            .where(CapturedAttendee.captured_event_id.in_(list(captured_ids)),
                   CapturedAttendee.touchpoint_id.is_not(None))):
        removed += _drop_touchpoint(session, touchpoint_id)
    session.execute(delete(CapturedEvent).where(CapturedEvent.id.in_(list(captured_ids))))
    return removed


def forget_unseen(session: Session, connection_id: int, seen: set[str], start: datetime,
                  end: datetime | None) -> int:
    """After a complete full sync of [start, end): what we hold there and the provider no
    longer lists was deleted while our cursor was dead. Returns touchpoints removed."""
    query = select(CapturedEvent.id, CapturedEvent.event_id).where(
        CapturedEvent.connection_id == connection_id, CapturedEvent.end_at > start)
    if end is not None:
        query = query.where(CapturedEvent.start_at < end)
    stale = [row.id for row in session.execute(query) if row.event_id not in seen]
    met = select(MetAttendee.id, MetAttendee.event_id).where(
        MetAttendee.connection_id == connection_id, MetAttendee.end_at > start)
    if end is not None:
        met = met.where(MetAttendee.start_at < end)
    gone = [row.id for row in session.execute(met) if row.event_id not in seen]
    if gone:
        session.execute(delete(MetAttendee).where(MetAttendee.id.in_(gone)))
    return forget_events(session, stale)


def log_ended(session: Session, ref: ConnectionRef, now: datetime) -> int:
    """Log a `meeting` touchpoint for every contact met in an event that has ended and was
    not logged yet. Returns how many touchpoints were written."""
    pending = session.execute(
        select(CapturedAttendee.id, CapturedAttendee.contact_id, CapturedEvent.start_at)
        .join(CapturedEvent, CapturedEvent.id == CapturedAttendee.captured_event_id)
        .where(CapturedEvent.connection_id == ref.connection_id,
               CapturedEvent.end_at <= now, CapturedAttendee.logged_at.is_(None))
        .order_by(CapturedEvent.start_at, CapturedAttendee.id)).all()
    if not pending:
        return 0
    # Take the rows first: a replica syncing the same connection at the same moment finds
    # them taken (its update waits for ours, then matches nothing) and logs nothing twice.
    taken = set(session.scalars(
        update(CapturedAttendee)
        .where(CapturedAttendee.id.in_([row.id for row in pending]),
               CapturedAttendee.logged_at.is_(None))
        .values(logged_at=now).returning(CapturedAttendee.id)
        .execution_options(synchronize_session=False)))
    rows = [row for row in pending if row.id in taken]
    typed = _typed_days(session, ref, rows)
    # The person logged that day themselves: theirs stands alone.
    to_log = [row for row in rows
              if (row.contact_id, planner.local_date(row.start_at, ref.tz)) not in typed]
    touchpoint_ids = record_touchpoints(
        session, workspace_id=ref.workspace_id, user_id=ref.user_id,
        meetings=[Met(row.contact_id, row.start_at) for row in to_log], kind=MEETING,
        source=SOURCE, now=now)
    links = [{"b_id": row.id, "b_touchpoint": touchpoint_id}
             for row, touchpoint_id in zip(to_log, touchpoint_ids, strict=True)]
    if links:
        session.connection().execute(
            update(CapturedAttendee).where(CapturedAttendee.id == bindparam("b_id"))
            .values(touchpoint_id=bindparam("b_touchpoint")), links)
    return len(links)


def _typed_days(session: Session, ref: ConnectionRef, rows: Sequence[Any]
                ) -> set[tuple[int, Any]]:
    """(contact, local day) pairs on which the person logged a touchpoint themselves."""
    if not rows:
        return set()
    first = min(row.start_at for row in rows) - timedelta(days=1)
    last = max(row.start_at for row in rows) + timedelta(days=1)
    typed = session.execute(
        select(Touchpoint.contact_id, Touchpoint.happened_at)
        .where(and_(Touchpoint.contact_id.in_({row.contact_id for row in rows}),
                    Touchpoint.source != SOURCE, Touchpoint.happened_at >= first,
                    Touchpoint.happened_at <= last)))
    return {(contact_id, planner.local_date(at, ref.tz)) for contact_id, at in typed}
