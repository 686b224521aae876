"""The round's last page hands its new attendee rows to `log_ended`, which writes them with
their touchpoints (an ended meeting's row handled at once) instead of writing them first and
then reading them back and marking them: the same touchpoints, in the same order, the same
rows and clocks as the way round; and a row another replica wrote meanwhile keeps its meeting
logged once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from rapport.bot.connectors.calendars import capture
from rapport.bot.connectors.calendars.events import Attendee, CalendarEvent
from rapport.storage import db
from rapport.storage.models import (
    CapturedAttendee,
    CapturedEvent,
    Contact,
    Touchpoint,
)
from rapport.storage.uow import Database
from tests.connectors.seed import connected_user

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
ME = Attendee("me@example.com", declined=False, is_self=True)
EMAILS = ("dana@acme.com", "lee@acme.com", "kim@acme.com")


def _guest(email: str) -> Attendee:
    return Attendee(email, declined=False, is_self=False)


def _event(event_id: str, start: datetime, *emails: str) -> CalendarEvent:
    return CalendarEvent(event_id=event_id, start=start, end=start + timedelta(minutes=30),
                         attendees=(ME, *map(_guest, emails)))


def _user(session: Session, key: str) -> tuple[capture.ConnectionRef, dict[str, int]]:
    """A user with a connected calendar and three contacts (by email)."""
    ref = connected_user(session, key, NOW, "America/New_York")
    workspace, user = ref.workspace_id, ref.user_id
    contacts = {email: session.execute(insert(Contact).values(
        workspace_id=workspace, user_id=user, name=email.split("@")[0],
        name_key=email.split("@")[0], kind="colleague", email=email, cadence_days=14,
        created_at=NOW - timedelta(days=90)).returning(Contact.id)).scalar_one()
        for email in EMAILS}
    return ref, contacts


def _typed(session: Session, ref: capture.ConnectionRef, contact_id: int,
           at: datetime, source: str = "command") -> None:
    session.execute(insert(Touchpoint).values(
        workspace_id=ref.workspace_id, user_id=ref.user_id, contact_id=contact_id,
        happened_at=at, kind="call", source=source, day_only=False, created_at=NOW))


def _state(session: Session, ref: capture.ConnectionRef, contacts: dict[str, int]
           ) -> dict[str, Any]:
    """What a sync leaves, by email and event id rather than by row id; touchpoints in the
    order of their ids."""
    email_of = {contact_id: email for email, contact_id in contacts.items()}
    e, a, t = CapturedEvent, CapturedAttendee, Touchpoint
    touchpoints = [(email_of[row.contact_id], row.happened_at, row.source, row.kind)
                   for row in session.execute(
                       select(t.contact_id, t.happened_at, t.source, t.kind)
                       .where(t.user_id == ref.user_id).order_by(t.id))]
    attendees = sorted(
        (row.event_id, email_of[row.contact_id], row.logged_at,
         None if row.touchpoint_id is None else (email_of[row.contact_id], row.happened_at))
        for row in session.execute(
            select(e.event_id, a.contact_id, a.logged_at, a.touchpoint_id, t.happened_at)
            .join(e, e.id == a.captured_event_id).outerjoin(t, t.id == a.touchpoint_id)
            .where(e.connection_id == ref.connection_id)))
    clocks = sorted((email_of[row.id], row.last_touch_at, row.next_due_at, row.plan_at)
                    for row in session.execute(
                        select(Contact.id, Contact.last_touch_at, Contact.next_due_at,
                               Contact.plan_at).where(Contact.user_id == ref.user_id)))
    return {"touchpoints": touchpoints, "attendees": attendees, "clocks": clocks}


def _sync(session: Session, key: str, *, held_back: bool) -> tuple[dict[str, Any], int]:
    """Two pages of one round: the first written as a page with more to come, the second
    as the round's last page (its rows held back for `log_ended`, or written first)."""
    ref, contacts = _user(session, key)
    # Another calendar of the user logged Lee's Tuesday meeting; the person typed a call
    # with Kim on Wednesday (local day): both stand, neither is logged twice.
    _typed(session, ref, contacts["lee@acme.com"], MONDAY + timedelta(days=1),
           source=capture.SOURCE)
    _typed(session, ref, contacts["kim@acme.com"], MONDAY + timedelta(days=2, hours=5))
    known = capture.Known(capture.contact_emails(session, ref.user_id), ME.email)
    first = [_event("a", MONDAY + timedelta(days=3), "dana@acme.com", "lee@acme.com"),
             _event("b", MONDAY, "kim@acme.com")]
    capture.apply_events(session, ref, first, known, NOW)
    last = [
        # The same start as a row of the first page: the first page's row is logged first.
        _event("c", MONDAY + timedelta(days=3), "kim@acme.com"),
        _event("d", MONDAY + timedelta(days=1), "lee@acme.com", "dana@acme.com"),
        _event("e", MONDAY + timedelta(days=2), "kim@acme.com", "someone@else.com"),
        _event("f", NOW + timedelta(days=1), "dana@acme.com"),  # not ended: left to log
        _event("g", MONDAY - timedelta(days=1), "kim@acme.com", "dana@acme.com"),
        _event("h", MONDAY + timedelta(days=4)),  # nobody of theirs: not stored
    ]
    held: list[capture.NewAttendee] | None = [] if held_back else None
    capture.apply_events(session, ref, last, known, NOW, held)
    logged = capture.log_ended(session, ref, NOW, held or ())
    return _state(session, ref, contacts), logged


async def test_rows_held_back_log_what_rows_written_first_logged(
        any_engine: AsyncEngine) -> None:
    def work(session: Session) -> tuple[Any, Any]:
        return (_sync(session, "written-first", held_back=False),
                _sync(session, "held-back", held_back=True))

    (before, logged_before), (after, logged_after) = \
        await Database(db.session_factory(any_engine)).run(work)
    assert after == before
    assert logged_after == logged_before == 7
    # Every ended meeting's row is handled, the one to come is not.
    assert [row[2] is not None for row in after["attendees"]] == \
        [event_id != "f" for event_id, *_ in after["attendees"]]
    # By start, then the earlier page's rows ahead of the last page's at the same start
    # (after the other calendar's own, written before the sync).
    day = timedelta(days=1)
    assert [row[:2] for row in after["touchpoints"] if row[2] == capture.SOURCE] == [
        ("lee@acme.com", MONDAY + day),
        ("dana@acme.com", MONDAY - day), ("kim@acme.com", MONDAY - day),
        ("kim@acme.com", MONDAY),
        ("dana@acme.com", MONDAY + day),
        ("dana@acme.com", MONDAY + 3 * day), ("lee@acme.com", MONDAY + 3 * day),
        ("kim@acme.com", MONDAY + 3 * day)]


@pytest.mark.parametrize("when", ["before the read", "after the read"])
async def test_a_row_another_replica_wrote_meanwhile_is_logged_once(
        any_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    """Another replica syncing the same calendar wrote one of the page's rows before the page
    wrote it, either before `log_ended` read the rows to log (which logs it then) or after
    (the row is theirs, to be logged by whichever sync reads it next): the touchpoint written
    here for the page's own row goes again, clock and all, and the meeting is logged once."""
    def work(session: Session) -> dict[str, Any]:
        ref, contacts = _user(session, "raced")
        dana, lee = contacts["dana@acme.com"], contacts["lee@acme.com"]
        known = capture.Known(capture.contact_emails(session, ref.user_id), ME.email)
        held: list[capture.NewAttendee] = []
        capture.apply_events(session, ref, [
            _event("a", MONDAY, "dana@acme.com"),
            _event("b", MONDAY + timedelta(days=2), "dana@acme.com", "lee@acme.com")],
            known, NOW, held)
        assert {(row.contact_id, row.start_at) for row in held} == {
            (dana, MONDAY), (dana, MONDAY + timedelta(days=2)),
            (lee, MONDAY + timedelta(days=2))}
        theirs = next(row for row in held if row.contact_id == dana and row.start_at != MONDAY)

        def write_theirs() -> None:
            session.execute(insert(CapturedAttendee).values(
                captured_event_id=theirs.captured_event_id, contact_id=dana))

        if when == "before the read":
            write_theirs()
        else:
            record = capture.record_touchpoints

            def racing(*args: Any, **kwargs: Any) -> list[int]:
                write_theirs()
                return record(*args, **kwargs)

            monkeypatch.setattr(capture, "record_touchpoints", racing)
        logged = capture.log_ended(session, ref, NOW, held)
        monkeypatch.undo()
        state = _state(session, ref, contacts)
        logged_next = capture.log_ended(session, ref, NOW)
        return {"logged": logged, "state": state, "logged_next": logged_next,
                "final": _state(session, ref, contacts)}

    seen = await Database(db.session_factory(any_engine)).run(work)
    wednesday = MONDAY + timedelta(days=2)
    every_meeting = [("dana@acme.com", MONDAY), ("dana@acme.com", wednesday),
                     ("lee@acme.com", wednesday)]
    state = seen["state"]
    dana_clock = next(clock for clock in state["clocks"] if clock[0] == "dana@acme.com")
    if when == "before the read":
        assert (seen["logged"], seen["logged_next"]) == (3, 0)
        assert sorted(row[:2] for row in state["touchpoints"]) == every_meeting
        assert dana_clock[1] == wednesday
    else:
        assert (seen["logged"], seen["logged_next"]) == (2, 1)
        assert sorted(row[:2] for row in state["touchpoints"]) == [
            ("dana@acme.com", MONDAY), ("lee@acme.com", wednesday)]
        # Dana's clock stands at the meeting still logged, not at the one taken back.
        assert dana_clock[1] == MONDAY
        assert ("b", "dana@acme.com", None, None) in state["attendees"]
    final = seen["final"]
    assert sorted(row[:2] for row in final["touchpoints"]) == every_meeting
    assert all(row[2] is not None and row[3] is not None for row in final["attendees"])
