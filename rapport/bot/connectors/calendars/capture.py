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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from types import SimpleNamespace
from typing import Any, NamedTuple

from sqlalchemy import Table, bindparam, case, delete, select, update
from sqlalchemy.orm import Session

from rapport.bot.connectors.calendars.events import CalendarEvent
from rapport.bot.core.touchpoints import (
    Met,
    delete_touchpoint,
    drop_calendar_touchpoint,
    logged_by_hand,
    move_touchpoint,
    record_touchpoints,
)
from rapport.scheduler import planner
from rapport.storage import met, queries
from rapport.storage.forgotten import ForgottenAddresses
from rapport.storage.models import (
    CALENDAR_SOURCE,
    CalendarConnection,
    CapturedAttendee,
    CapturedEvent,
    Contact,
    MetPerson,
    Touchpoint,
)
from rapport.storage.prepared import JsonRowsInsert, JsonRowsUpdate, Prepared, in_json_list

MEETING = "meeting"
SOURCE = CALENDAR_SOURCE
# A meeting moved by more than the longest brief lead (`settings prep` up to 2 hours) after its
# brief was handled is briefed again for its new time; a smaller shift keeps the one it had.
REBRIEF_AFTER_MOVE = timedelta(hours=2)
# At most this many contacts' addresses are sent to ask which people met became contacts;
# more take the way round (the few addresses met, matched here), which costs less then.
MAX_ADDRESSES_ASKED = 5000


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


_MET: Table = MetPerson.__table__  # type: ignore[assignment]
_EVENTS: Table = CapturedEvent.__table__  # type: ignore[assignment]
_ATTENDEES: Table = CapturedAttendee.__table__  # type: ignore[assignment]
# The people met on a page (one row per person: about 40 on a first sync, where a row per
# meeting and person was about 125) and its new events, each in one statement with the rows
# as one JSON parameter: binding them value by value cost as much as SQLite's insert itself,
# and on PostgreSQL each row or batch of rows was a round trip. A person held already keeps
# their row's id and takes the merged list and name.
_UPSERT_MET = JsonRowsInsert(
    _MET, shared=("connection_id", "workspace_id", "user_id"),
    per_row=("email", "display_name", "meetings", "first_start_at"),
    tail="ON CONFLICT (connection_id, email) DO UPDATE SET "
         "display_name = excluded.display_name, meetings = excluded.meetings, "
         "first_start_at = excluded.first_start_at")
# Another replica may have inserted the same instance a moment ago: theirs stays (RETURNING
# names only the rows inserted here). A meeting that has begun goes in with its brief handled
# (`handled_brief`): it needs none, and stays out of the brief job's index.
_INSERT_EVENTS = JsonRowsInsert(
    _EVENTS, shared=("connection_id", "workspace_id", "user_id", "updated_at"),
    per_row=("event_id", "series_id", "instance_start", "start_at", "end_at",
             "brief_sent_at"),
    tail="ON CONFLICT (connection_id, event_id) DO NOTHING RETURNING event_id, id",
    returning=("event_id", "id"))
# A page's contacts met, and the rows `log_ended` has handled, each one statement: run once
# per row, each row's step on SQLite waited to take the GIL back from the event loop.
_INSERT_ATTENDEES = JsonRowsInsert(
    _ATTENDEES, shared=(), per_row=("captured_event_id", "contact_id"),
    tail="ON CONFLICT (captured_event_id, contact_id) DO NOTHING")
_MARK_LOGGED = JsonRowsUpdate(_ATTENDEES, key="id", shared=("logged_at",),
                              per_row=("touchpoint_id",))
# The round's last page's contacts met, written by `log_ended` once it knows their
# touchpoints: an ended meeting's row goes in handled, so neither the read of rows to log nor
# the UPDATE that marks them has it to do (on a first sync, every row of the round).
_INSERT_HANDLED_ATTENDEES = JsonRowsInsert(
    _ATTENDEES, shared=(), per_row=("captured_event_id", "contact_id", "touchpoint_id",
                                    "logged_at"),
    tail="ON CONFLICT (captured_event_id, contact_id) DO NOTHING")


class _Held(NamedTuple):
    """A captured event as a page finds it."""

    id: int
    event_id: str
    start_at: datetime
    end_at: datetime


class _HeldAttendee(NamedTuple):
    id: int
    captured_event_id: int
    contact_id: int
    touchpoint_id: int | None
    logged_at: datetime | None


class _Pending(NamedTuple):
    """An attendee row of an ended meeting not logged yet."""

    id: int
    contact_id: int
    start_at: datetime
    captured_event_id: int


class NewAttendee(NamedTuple):
    """A contact met in a captured event who has no row yet: what `apply_events` hands
    `log_ended` to write, when asked to (`held`)."""

    captured_event_id: int
    contact_id: int
    start_at: datetime
    end_at: datetime


# Statements built once, on first use, and reused: building one costs more than running it on
# SQLite (argument coercion, one literal per element of an IN list), and a sync runs the same
# dozen statements for every page. The ones a page runs are `Prepared` (compiled once per
# dialect; on SQLite run on the driver); their IN lists are one JSON array parameter
# (`in_json_list`), so one statement serves every list length.
@cache
def _statements() -> SimpleNamespace:
    e, a, m, c = CapturedEvent, CapturedAttendee, MetPerson, CalendarConnection
    return SimpleNamespace(
        contacts=Prepared(select(Contact.id, Contact.email).where(
            Contact.user_id == bindparam("user_id"), Contact.email.is_not(None))),
        events_of=Prepared(select(e.id, e.event_id, e.start_at, e.end_at).where(
            e.connection_id == bindparam("connection_id"),
            in_json_list(e.event_id, "event_ids"))),
        ids_of=Prepared(select(e.event_id, e.id).where(
            e.connection_id == bindparam("connection_id"),
            in_json_list(e.event_id, "event_ids"))),
        move_events=update(e).where(e.id == bindparam("b_id")).values(
            start_at=bindparam("b_start"), end_at=bindparam("b_end"),
            updated_at=bindparam("b_now")),
        attendees_of=Prepared(select(a.id, a.captured_event_id, a.contact_id, a.touchpoint_id,
                                     a.logged_at).where(
            in_json_list(a.captured_event_id, "captured_ids"))),
        # Every person met on the connection: a page may drop a meeting (cancelled, declined,
        # an attendee removed) of someone it no longer names, so the lists to look at are
        # not only those of the people it names. None on a first sync; a few dozen short
        # rows after, one per person rather than one per meeting.
        met_of_connection=Prepared(select(m.id, m.email, m.display_name, m.meetings).where(
            m.connection_id == bindparam("connection_id"))),
        delete_met=Prepared(delete(m).where(in_json_list(m.id, "ids"))),
        met_emails=select(m.email).where(m.connection_id == bindparam("connection_id")),
        met_with=Prepared(select(m.id, m.email, m.meetings).where(
            m.connection_id == bindparam("connection_id"), in_json_list(m.email, "emails"))),
        set_account_email=Prepared(update(c).where(c.id == bindparam("connection_id")).values(
            account_email=bindparam("email"))),
        # FOR UPDATE (PostgreSQL; SQLite's writer holds the database already): a replica
        # syncing the same connection at the same moment waits here for our commit, then
        # finds the rows logged and leaves them.
        pending=Prepared(select(a.id, a.contact_id, e.start_at, a.captured_event_id)
                         .join(e, e.id == a.captured_event_id)
                         .where(e.connection_id == bindparam("connection_id"),
                                e.end_at <= bindparam("now"), a.logged_at.is_(None))
                         .order_by(e.start_at, a.id).with_for_update(of=a)),
        # The same contacts' touchpoints around those meetings, of every source: the ones the
        # person logged (a typed day stands alone) and the calendar's own (another connected
        # calendar, work and personal, may hold the same meeting and have logged it). One
        # read for both: a page's span is a week, so neither set is large.
        touches_around=Prepared(select(Touchpoint.contact_id, Touchpoint.happened_at,
                                       Touchpoint.source).where(
            in_json_list(Touchpoint.contact_id, "contact_ids"),
            Touchpoint.happened_at >= bindparam("first"),
            Touchpoint.happened_at <= bindparam("last"))),
        # Meetings that ended unbriefed (briefs off, or nothing to say before 07:00) leave
        # the brief job's index.
        brief_handled=Prepared(update(e).where(in_json_list(e.id, "ids"),
                                               e.brief_sent_at.is_(None))
                               .values(brief_sent_at=e.start_at)),
        # A meeting handled because it had begun, moved to a start still to come, is to
        # brief after all (whatever the move's size: no brief went out for it).
        reopen_briefs=Prepared(update(e).where(in_json_list(e.id, "ids"),
                                               e.brief_sent_at == e.start_at)
                               .values(brief_sent_at=None)),
        # Which of these touchpoints an attendee row holds (rare: see `_write_new`).
        linked=Prepared(select(a.touchpoint_id).where(in_json_list(a.touchpoint_id, "ids"))),
    )


@dataclass
class Known:
    """What a round of pages reads once, not per page: the user's contacts by lower-cased
    email (two contacts may share one), the calendar owner's own address and the addresses
    of people the user forgot (never held as people met)."""

    contacts: dict[str, list[int]]
    account_email: str | None
    forgotten: ForgottenAddresses = field(default_factory=ForgottenAddresses)
    # The event ids each person met was held with when the round's first page was read
    # (None until then): what a full sync may find gone. Whatever a page adds later comes
    # from the round itself, so is seen.
    met_before: dict[str, list[str]] | None = None
    # The owner's address when a page of this round marked it and it is not stored yet:
    # written with the page (`save_account_email`) or, on the round's last page, with its
    # outcome, in the same statement.
    unsaved_account_email: str | None = None


def contact_emails(session: Session, user_id: int) -> dict[str, list[int]]:
    """The user's contacts by lower-cased email (two contacts may share one)."""
    by_email: dict[str, list[int]] = defaultdict(list)
    for contact_id, email in _statements().contacts.rows(session,
                                                                          user_id=user_id):
        if email and email.strip():
            by_email[email.strip().lower()].append(contact_id)
    return dict(by_email)


def apply_events(session: Session, ref: ConnectionRef, events: Sequence[CalendarEvent],
                 known: Known, now: datetime, held: list[NewAttendee] | None = None
                 ) -> CaptureStats:
    """Bring captured events in line with one page of provider changes.

    With `held`, the page's new attendee rows are added to it instead of written: the caller
    passes it to `log_ended` in the same transaction, which writes them with their
    touchpoints."""
    stats = CaptureStats(events=len(events))
    q = _statements()
    contacts = known.contacts
    # The last version of an instance on a page wins.
    latest = {event.event_id: event for event in events}
    own = _account_email(latest.values(), known)
    forgotten = known.forgotten if known.forgotten else None  # asked per attendee: usually none
    existing = {row.event_id: row for row in map(_Held._make, q.events_of.rows(
        session, connection_id=ref.connection_id, event_ids=list(latest)))}
    wanted: dict[str, set[int]] = {}
    # The people met who are not contacts, by email: what the page says should be held.
    named: dict[str, _Named] = {}
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
        contacts_met: set[int] = set()
        start, end = event.start, event.end
        if event.attended and start is not None and end is not None:
            # One pass over the people the user met (everyone else who did not decline)
            # for both: the contacts among them, and the others, held as people met for
            # the offer to add them (never the owner, never someone the user forgot).
            listed: met.Entry | None = None
            for guest in event.attendees:
                email = guest.email
                # The owner by address too: Graph lists them unmarked in meetings others
                # organise, and they may keep themselves among their people.
                if guest.is_self or guest.declined or email == own:
                    continue
                their_ids = contacts.get(email)
                if their_ids is not None:
                    contacts_met.update(their_ids)
                    continue
                if len(email) > 320 or (forgotten is not None and email in forgotten):
                    continue
                if listed is None:
                    listed = met.entry(event.event_id, event.series_id, start, end)
                person = named.get(email)
                if person is None:
                    person = named[email] = _Named({}, [None, None])
                person.entries[event.event_id] = listed
                if guest.name and (person.name[0] is None or start >= person.name[0]):
                    person.name[:] = [start, guest.name]
        if row is None and not contacts_met:
            continue  # nothing of ours: events without contacts are not stored at all
        wanted[event.event_id] = contacts_met
    _track_met(session, ref, latest, known, named, own)
    stats.removed += forget_events(session, gone)
    if not wanted:
        return stats
    ids = _upsert_events(session, ref, [latest[key] for key in wanted], existing, now)
    # Only events held before this page can have attendee rows (and one another replica
    # inserted a moment ago): a freshly inserted event has none yet.
    older = [ids[key] for key in wanted if key not in ids.fresh]
    rows_of: dict[int, list[_HeldAttendee]] = defaultdict(list)
    if older:
        for attendee in map(_HeldAttendee._make,
                            q.attendees_of.rows(session, captured_ids=older)):
            rows_of[attendee.captured_event_id].append(attendee)
    new: list[tuple[int, int]] = []
    for event_id, contacts_met in wanted.items():
        row = existing.get(event_id)
        event = latest[event_id]
        moved = row is not None and event.start is not None and (
            row.start_at != event.start or row.end_at != event.end)
        attendees = rows_of.get(ids[event_id], [])
        removed, shifted = _sync_attendees(session, attendees, contacts_met, event, moved, now,
                                           was=row.start_at if row is not None else None,
                                           tz=ref.tz)
        stats.removed += removed
        stats.moved += shifted
        if not contacts_met:
            continue
        have = {attendee.contact_id for attendee in attendees}
        fresh = sorted(contacts_met - have)
        if held is not None and fresh and event.start is not None and event.end is not None:
            captured_id, start, end = ids[event_id], event.start, event.end
            held.extend(NewAttendee(captured_id, contact_id, start, end)
                        for contact_id in fresh)
        else:
            new.extend((ids[event_id], contact_id) for contact_id in fresh)
    if new:
        _INSERT_ATTENDEES.execute(session, new)
    return stats


class _Ids(dict[str, int]):
    """Captured event ids by provider event id, knowing which were inserted just now."""

    def __init__(self) -> None:
        super().__init__()
        self.fresh: set[str] = set()


def _upsert_events(session: Session, ref: ConnectionRef, events: Iterable[CalendarEvent],
                   existing: Mapping[str, Any], now: datetime) -> _Ids:
    """Insert new events and follow moved ones; every wanted event's captured id."""
    q = _statements()
    ids = _Ids()
    new_rows: list[tuple[str, str | None, datetime | None, datetime, datetime,
                         datetime | None]] = []
    changed: list[dict[str, Any]] = []
    existing_start: dict[int, datetime] = {}
    for event in events:
        row = existing.get(event.event_id)
        if row is not None:
            ids[event.event_id] = row.id
        if event.start is None or event.end is None:
            continue  # no longer a timed meeting: its attendees are dropped, the row stays
        if row is None:
            new_rows.append((event.event_id, event.series_id, event.instance_start,
                             event.start, event.end, handled_brief(event.start, now)))
        elif row.start_at != event.start or row.end_at != event.end:
            existing_start[row.id] = row.start_at
            changed.append({"b_id": row.id, "b_start": event.start, "b_end": event.end,
                            "b_now": now})
    if new_rows:
        # Rows another replica inserted a moment ago are read after.
        for event_id, captured_id in _INSERT_EVENTS.rows(
                session, new_rows, connection_id=ref.connection_id,
                workspace_id=ref.workspace_id, user_id=ref.user_id, updated_at=now):
            ids[event_id] = captured_id
            ids.fresh.add(event_id)
        missing = [row[0] for row in new_rows if row[0] not in ids]
        if missing:
            ids.update(q.ids_of.rows(session, connection_id=ref.connection_id,
                                     event_ids=missing))
    if changed:
        to_come = [row["b_id"] for row in changed if row["b_start"] > now]
        if to_come:
            # Before the move, while `start_at` is still the one the mark was made from.
            q.reopen_briefs.execute(session, ids=to_come)
        session.connection().execute(q.move_events, changed)
        far = [row["b_id"] for row in changed
               if abs(row["b_start"] - existing_start[row["b_id"]]) > REBRIEF_AFTER_MOVE]
        if far:
            # Its brief named the old time: moved this far, the meeting gets one for the new
            # (unless it has begun by then).
            session.execute(update(CapturedEvent).where(CapturedEvent.id.in_(far))
                            .values(brief_sent_at=case(
                                (CapturedEvent.start_at <= now, CapturedEvent.start_at),
                                else_=None)))
    return ids


def _sync_attendees(session: Session, rows: Sequence[Any], met: set[int],
                    event: CalendarEvent, moved: bool, now: datetime, *,
                    was: datetime | None, tz: str) -> tuple[int, int]:
    """Drop attendee rows no longer met, follow a move (`was`: the start it moved from, in
    the user's zone `tz`); returns (touchpoints removed, moved). A meeting moved to another
    day is logged as one first seen there would be (`log_ended`): not on a day the person
    logged that contact themselves, and again once it leaves such a day."""
    removed = shifted = 0
    start, end = event.start, event.end
    other_day = moved and start is not None and was is not None and \
        planner.local_date(start, tz) != planner.local_date(was, tz)
    for row in rows:
        if row.contact_id not in met:
            removed += drop_calendar_touchpoint(session, row.touchpoint_id)
            session.execute(delete(CapturedAttendee).where(CapturedAttendee.id == row.id))
        elif not moved or row.logged_at is None or end is None or start is None:
            continue
        elif end > now:
            # Moved to a time that has not come yet: it will be logged when it has.
            removed += drop_calendar_touchpoint(session, row.touchpoint_id)
            session.execute(update(CapturedAttendee).where(CapturedAttendee.id == row.id)
                            .values(logged_at=None, touchpoint_id=None))
        elif row.touchpoint_id is not None:
            if not queries.calendar_owned(session, row.touchpoint_id):
                continue  # the person's own record now: no move changes it
            if other_day and logged_by_hand(session, row.contact_id, start, tz):
                # Onto a day they logged that contact themselves: theirs stands alone.
                removed += drop_calendar_touchpoint(session, row.touchpoint_id)
                session.execute(update(CapturedAttendee).where(CapturedAttendee.id == row.id)
                                .values(touchpoint_id=None))
            else:
                move_touchpoint(session, row.touchpoint_id, start)
                shifted += 1
        elif other_day and was is not None and logged_by_hand(
                session, row.contact_id, was, tz, besides=was):
            # Not logged because they had logged its old day themselves (not their own
            # record of the meeting, which keeps its moment, nor a touchpoint they deleted):
            # on a day of its own, `log_ended` logs it unless that day is theirs too.
            session.execute(update(CapturedAttendee).where(CapturedAttendee.id == row.id)
                            .values(logged_at=None))
    return removed, shifted


class _Named(NamedTuple):
    """What a page says of one person met: their meetings on it, and the name the calendar
    gives them in the latest of those that names them."""

    entries: dict[str, met.Entry]
    name: list[Any]  # [start of the meeting that named them, the name], or [None, None]


def _track_met(session: Session, ref: ConnectionRef, latest: Mapping[str, CalendarEvent],
               known: Known, named: dict[str, _Named], own: str | None) -> None:
    """Keep the people met who are not contacts in line with one page (`named`, what the
    page says of each, which `apply_events` gathered): email, display name, and each
    meeting's event key and times only, for the offer to add them (none for declined,
    cancelled, all-day or untimed events, none for people the user forgot)."""
    q = _statements()
    forgotten = known.forgotten if known.forgotten else None
    series_gone = {event.event_id for event in latest.values()
                   if event.removed and event.series_id is None}
    writes: list[tuple[str, str | None, str, datetime]] = []
    empty: list[int] = []
    texts: dict[met.Entry, str] = {}  # a meeting's text, made once for all its people

    first_page = known.met_before is None
    before: dict[str, list[str]] = {}
    for met_id, email, name, listed_text in q.met_of_connection.rows(
            session, connection_id=ref.connection_id):
        held = met.decode(listed_text)
        if first_page:
            before[email] = [entry[0] for entry in held]
        if email == own or (forgotten is not None and email in forgotten):
            # The owner's own address, met before a page marked it as theirs; or written by
            # a page that read the round's addresses before `forget` committed.
            empty.append(met_id)
            named.pop(email, None)
            continue
        # The page's version of each of its events replaces ours; a series gone takes its
        # instances.
        kept = [entry for entry in held if entry[0] not in latest and entry[1] not in series_gone]
        person = named.pop(email, None)
        if person is None:
            if len(kept) == len(held):
                continue  # nothing of theirs on this page
            merged, new_name = kept, name
        else:
            merged = met.ordered([*kept, *person.entries.values()])
            new_name = person.name[1] or name
        if not merged:
            empty.append(met_id)
        elif merged != held or new_name != name:
            writes.append((email, new_name, met.encode(merged, texts), met.first_day(merged)))
    for email, person in named.items():
        merged = met.ordered(person.entries.values())
        writes.append((email, person.name[1], met.encode(merged, texts),
                       met.first_day(merged)))
    if first_page:
        known.met_before = before
    if empty:
        q.delete_met.execute(session, ids=empty)
    if writes:
        _UPSERT_MET.execute(session, writes, connection_id=ref.connection_id,
                            workspace_id=ref.workspace_id, user_id=ref.user_id)


def _account_email(events: Iterable[CalendarEvent], known: Known) -> str | None:
    """The calendar owner's address, once a page marks it (Graph lists the owner among the
    attendees of meetings others organise without saying so). A row of people met held for
    it goes in `_track_met`, which reads every row anyway; storing it waits for the end of
    the page (`save_account_email`), so a first sync's single page writes it with its
    outcome rather than in a statement of its own."""
    if known.account_email is not None:
        return known.account_email
    marked = next((a.email for event in events for a in event.attendees
                   if a.is_self and len(a.email) <= 320), None)
    if marked is not None:
        known.account_email = known.unsaved_account_email = marked
    return marked


def forget_met(session: Session, connection_id: int, email: str) -> None:
    """Delete the connection's row of someone met at this (lower-cased) address."""
    session.execute(delete(MetPerson).where(MetPerson.connection_id == connection_id,
                                            MetPerson.email == email))


def save_account_email(session: Session, ref: ConnectionRef, known: Known) -> None:
    """Store the owner's address a page has marked, if any (the caller forgets it once the
    page has committed: a unit run again writes it again)."""
    if known.unsaved_account_email is not None:
        _statements().set_account_email.execute(session, connection_id=ref.connection_id,
                                                 email=known.unsaved_account_email)


def promote_met(session: Session, ref: ConnectionRef, contacts: Mapping[str, list[int]] | None,
                now: datetime, held_before: Iterable[str] | None = None) -> int:
    """Meetings held with someone who has since become a contact (an accepted offer, `set
    Sam email ...`) become captured meetings with that contact, so `log_ended` logs them;
    their rows of people met go. Returns how many meetings were handed over.

    `held_before`, the people met held when the round (which knew `contacts` throughout)
    began: its pages hold no contact as a person met, so only those can be found."""
    q = _statements()
    if contacts is not None and held_before is not None:
        # On a first sync nobody was held: nothing to ask.
        known = [email for email in held_before if email in contacts]
    elif contacts is not None and len(contacts) <= MAX_ADDRESSES_ASKED:
        # The contacts are at hand: ask for the rows of people met who are among them.
        known = list(contacts)
    else:
        emails: set[str] = set(session.connection().execute(
            q.met_emails, {"connection_id": ref.connection_id}).scalars())
        if not emails:
            return 0
        if contacts is None:
            contacts = contact_emails(session, ref.user_id)
        known = [email for email in emails if email in contacts]
    if not known:
        return 0
    rows = q.met_with.rows(session, connection_id=ref.connection_id, emails=known)
    if not rows:
        return 0
    events: dict[str, met.Meeting] = {}
    pairs: list[tuple[str, str]] = []
    for _met_id, email, listed in rows:
        for meeting in met.meetings(listed):
            events.setdefault(meeting.event_id, meeting)
            pairs.append((meeting.event_id, email))
    ids: dict[str, int] = dict(_INSERT_EVENTS.rows(
        session, [(meeting.event_id, meeting.series_id, None, meeting.start_at, meeting.end_at,
                   handled_brief(meeting.start_at, now)) for meeting in events.values()],
        connection_id=ref.connection_id, workspace_id=ref.workspace_id, user_id=ref.user_id,
        updated_at=now))
    # Events held already (captured before the person became a contact) kept their rows.
    held = [event_id for event_id in events if event_id not in ids]
    if held:
        ids.update(q.ids_of.rows(session, connection_id=ref.connection_id, event_ids=held))
    _INSERT_ATTENDEES.execute(session, [(ids[event_id], contact_id)
                                        for event_id, email in pairs
                                        for contact_id in contacts[email]])
    q.delete_met.execute(session, ids=[row[0] for row in rows])
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
        removed += drop_calendar_touchpoint(session, touchpoint_id)
    session.execute(delete(CapturedEvent).where(CapturedEvent.id.in_(list(captured_ids))))
    return removed


def forget_unseen(session: Session, connection_id: int, seen: set[str], start: datetime,
                  end: datetime | None, known: Known | None = None, *,
                  new_grant: bool = False, now: datetime | None = None) -> int:
    """After a complete full sync of [start, end): what we hold there and the provider no
    longer lists was deleted while our cursor was dead. Returns touchpoints removed.

    `new_grant`: the first round after a (re)connect, which may read another account's
    calendar than the one that logged what we hold. Its silence says nothing about those
    meetings: the ones logged are the person's history and are let go (`let_go_logged`),
    only the others (still to come, or not logged yet) are deleted."""
    # The seen ids go to the database, so only what is gone comes back (after a first sync:
    # nothing).
    q = _window_statements(end is not None)
    params = {"connection_id": connection_id, "start": start, "end": end, "seen": list(seen)}
    stale = [row[0] for row in q.events.rows(session, **params)]
    _forget_unseen_met(session, connection_id, seen, start, end, known)
    if new_grant and stale:
        kept = let_go_logged(session, stale, now or start)
        stale = [captured_id for captured_id in stale if captured_id not in kept]
    return forget_events(session, stale)


def let_go_logged(session: Session, captured_ids: Sequence[int], now: datetime) -> set[int]:
    """Of these captured events, those with a contact logged already stay, no longer
    following their touchpoints: each touchpoint stays as it is, the person's history that
    no later move, cancellation or resync of this connection takes back, and every attendee
    row of the event is handled, so the meeting is never logged again (when the account that
    listed it is connected once more, say). Returns the events kept."""
    a = CapturedAttendee
    kept = set(session.scalars(select(a.captured_event_id).where(
        a.captured_event_id.in_(list(captured_ids)), a.logged_at.is_not(None))))
    if kept:
        events = a.captured_event_id.in_(sorted(kept))
        session.execute(update(a).where(events, a.touchpoint_id.is_not(None))
                        .values(touchpoint_id=None)
                        .execution_options(synchronize_session=False))
        session.execute(update(a).where(events, a.logged_at.is_(None)).values(logged_at=now)
                        .execution_options(synchronize_session=False))
    return kept


def _forget_unseen_met(session: Session, connection_id: int, seen: set[str], start: datetime,
                       end: datetime | None, known: Known | None) -> None:
    """The meetings with people met in [start, end) that the full sync no longer lists."""
    q = _statements()
    if known is not None and known.met_before is not None:
        # Only a meeting held before the round can be unseen: on a first sync none is, and
        # the lists just written are not read back.
        emails = [email for email, event_ids in known.met_before.items()
                  if any(event_id not in seen for event_id in event_ids)]
        rows = [(met_id, listed) for met_id, _email, listed in q.met_with.rows(
            session, connection_id=connection_id, emails=emails)] if emails else []
    else:
        rows = [(met_id, listed) for met_id, _email, _name, listed in
                q.met_of_connection.rows(session, connection_id=connection_id)]
    after, before = met.micros(start), met.micros(end) if end is not None else None
    lists: list[tuple[int, list[met.Entry]]] = []
    for met_id, listed in rows:
        held = met.decode(listed)
        kept = [entry for entry in held
                if entry[0] in seen or entry[3] <= after
                or (before is not None and entry[2] >= before)]
        if len(kept) != len(held):
            lists.append((met_id, kept))
    queries.set_met_lists(session, lists)


@cache
def _window_statements(bounded: bool) -> SimpleNamespace:
    e = CapturedEvent
    events = select(e.id).where(e.connection_id == bindparam("connection_id"),
                                e.end_at > bindparam("start"),
                                in_json_list(e.event_id, "seen", negated=True))
    if bounded:
        events = events.where(e.start_at < bindparam("end"))
    return SimpleNamespace(events=Prepared(events))


def log_ended(session: Session, ref: ConnectionRef, now: datetime,
              new: Sequence[NewAttendee] = ()) -> int:
    """Log a `meeting` touchpoint for every contact met in an event that has ended and was
    not logged yet, and write the attendee rows `apply_events` held back (`new`), those of
    ended meetings as handled. Returns how many touchpoints were written."""
    q = _statements()
    pending = [_Pending._make(row) for row in q.pending.rows(
        session, connection_id=ref.connection_id, now=now)]
    ended = [row for row in new if row.end_at <= now]
    if not pending and not ended:
        _write_new(session, new, {}, now)
        return 0
    # In the order the rows' ids would give had the new ones been written first: by start,
    # then the rows held before (by id) ahead of the new ones (as they came).
    rows: list[_Pending | NewAttendee] = [*pending, *ended]
    if pending and ended:
        rows.sort(key=_start_at)
    typed, logged = _touched(session, ref, rows)
    # The person logged that day themselves: theirs stands alone. A meeting another of their
    # calendars logged already (same contact, same start) is one meeting, not two.
    tz = planner.zone(ref.tz)
    to_log = [row for row in rows
              if not (typed and (row.contact_id, row.start_at.astimezone(tz).date()) in typed)
              and (row.contact_id, row.start_at) not in logged]
    touchpoint_ids = record_touchpoints(
        session, workspace_id=ref.workspace_id, user_id=ref.user_id,
        meetings=[Met(row.contact_id, row.start_at) for row in to_log], kind=MEETING,
        source=SOURCE, now=now)
    links = dict(zip(to_log, touchpoint_ids, strict=True))
    lost = _write_new(session, new, links, now)
    if pending:
        # Every row is handled now, with its touchpoint or without one (a typed day).
        _MARK_LOGGED.execute(session, [(row.id, links.get(row)) for row in pending],
                             logged_at=now)
        q.brief_handled.execute(session, ids=list({row.captured_event_id for row in pending}))
    return len(links) - lost


def handled_brief(start: datetime, now: datetime) -> datetime | None:
    """A new captured meeting's `brief_sent_at`: its own start once it has begun (it needs no
    brief; a brief is always handled before its meeting starts, so this value says that none
    went out), else None (to brief)."""
    return start if start <= now else None


def _start_at(row: _Pending | NewAttendee) -> datetime:
    return row.start_at


def _write_new(session: Session, new: Sequence[NewAttendee],
               links: Mapping[_Pending | NewAttendee, int], now: datetime) -> int:
    """Write the attendee rows `apply_events` held back: an ended meeting's handled (with its
    touchpoint in `links`, or without one), the others to be logged once they end. Returns
    how many touchpoints went again because their row was there already."""
    if not new:
        return 0
    rows = [(row.captured_event_id, row.contact_id, links.get(row),
             now if row.end_at <= now else None) for row in new]
    if _INSERT_HANDLED_ATTENDEES.execute(session, rows) == len(rows):
        return 0
    # Another replica wrote some of these rows a moment ago (its own sync of this calendar,
    # on an event held before this page): the meeting is theirs to log, so the touchpoints
    # written here for those rows go (the contact's clock goes back with each).
    ours = [touchpoint_id for *_, touchpoint_id, _at in rows if touchpoint_id is not None]
    if not ours:
        return 0
    linked = {row[0] for row in _statements().linked.rows(session, ids=ours)}
    lost = [touchpoint_id for touchpoint_id in ours if touchpoint_id not in linked]
    for touchpoint_id in lost:
        delete_touchpoint(session, touchpoint_id)
    return len(lost)


def _touched(session: Session, ref: ConnectionRef, rows: Sequence[_Pending | NewAttendee]
             ) -> tuple[set[tuple[int, date]], set[tuple[int, datetime]]]:
    """The (contact, local day) pairs on which the person logged a touchpoint themselves,
    and the (contact, start) pairs a calendar touchpoint exists for already (any
    connection), for the contacts of `rows` around their meetings."""
    first = min(row.start_at for row in rows) - timedelta(days=1)
    last = max(row.start_at for row in rows) + timedelta(days=1)
    tz = planner.zone(ref.tz)
    typed: set[tuple[int, date]] = set()
    logged: set[tuple[int, datetime]] = set()
    for contact_id, at, source in _statements().touches_around.rows(
            session, contact_ids=list({row.contact_id for row in rows}), first=first,
            last=last):
        if source == SOURCE:
            logged.add((contact_id, at))
        elif source is not None:
            typed.add((contact_id, at.astimezone(tz).date()))
    return typed, logged
