"""The people met who are not contacts, one row per person holding their meetings as a JSON
list, written by one statement with a JSON parameter (`capture._UPSERT_MET`, a
`JsonRowsInsert`): the same meetings, times and names as the row-per-meeting upsert it
replaced, on every backend, through names with quotes and any script, conflicts and rows that
did not change; the list's text is the very same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from rapport.bot.connectors.calendars import capture
from rapport.bot.connectors.calendars.events import Attendee, CalendarEvent
from rapport.scheduler.retention import apply_retention
from rapport.scheduler.suggestions import MET_KEEP
from rapport.storage import db, forgotten, met, queries
from rapport.storage.models import CalendarConnection, MetPerson
from rapport.storage.uow import Database
from tests.connectors.seed import connected_user

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TOKYO = timezone(timedelta(hours=9))
ME = Attendee("me@example.com", declined=False, is_self=True)
QUOTED = Attendee("o'brien@example.com", declined=False, is_self=False,
                  name='Seán O\'Brien "Jr" \\ ; DROP TABLE met_attendees; --')
UNICODE = Attendee("zoë@例え.jp", declined=False, is_self=False, name="佐藤 ゾーイ 🙂")
NAMELESS = Attendee("plain@example.com", declined=False, is_self=False)


def _event(event_id: str, start: datetime, *attendees: Attendee,
           series_id: str | None = None) -> CalendarEvent:
    return CalendarEvent(event_id=event_id, series_id=series_id, start=start,
                         end=start + timedelta(minutes=45, microseconds=123456),
                         attendees=(ME, *attendees))


def _connection(session: Session, key: str) -> capture.ConnectionRef:
    return connected_user(session, key, NOW, "UTC")


# What the row-per-meeting upsert held: (event id, email) -> (series id, name, start, end).
Reference = dict[tuple[str, str], tuple[str | None, str | None, datetime, datetime]]


def _reference_upsert(held: Reference, events: list[CalendarEvent]) -> None:
    """The upsert as it was written before (a row per meeting and person, a conflict taking
    the page's times and name), kept in a dict."""
    for event in events:
        assert event.start is not None and event.end is not None
        for attendee in event.partners():
            held[(event.event_id, attendee.email)] = (event.series_id, attendee.name,
                                                      event.start, event.end)


def _reference_rows(held: Reference) -> list[tuple[Any, ...]]:
    return [(True, True, event_id, series_id, email, name, start, end)
            for (event_id, email), (series_id, name, start, end) in sorted(held.items())]


def _held(session: Session, ref: capture.ConnectionRef) -> list[tuple[Any, ...]]:
    """The meetings of one connection, one tuple per meeting and person (the person's row id
    first), with the moments as stored; checks each row's list text on the way."""
    m = MetPerson
    rows = []
    for row in session.execute(
            select(m.id, (m.workspace_id == ref.workspace_id).label("same_workspace"),
                   (m.user_id == ref.user_id).label("same_user"), m.email, m.display_name,
                   m.meetings, m.first_start_at)
            .where(m.connection_id == ref.connection_id)):
        meetings = met.meetings(row.meetings)
        # The text is what rapport.storage.met writes, whatever the backend: UTC moments
        # with microseconds, oldest first; first_start_at midnight UTC of the oldest start.
        assert row.meetings == met.encode(met.ordered(
            met.entry(*meeting) for meeting in meetings))
        oldest = meetings[0].start_at
        assert row.first_start_at == datetime(oldest.year, oldest.month, oldest.day, tzinfo=UTC)
        rows.extend((row.id, bool(row.same_workspace), bool(row.same_user), meeting.event_id,
                     meeting.series_id, row.email, row.display_name, meeting.start_at,
                     meeting.end_at) for meeting in meetings)
    return sorted(rows, key=lambda row: (row[3], row[5]))


def _without_ids(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [row[1:] for row in rows]


async def test_json_upsert_stores_what_the_row_by_row_upsert_stored(
        any_engine: AsyncEngine) -> None:
    monday = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
    first = [_event("e1", monday, QUOTED, UNICODE, NAMELESS),
             _event("e2", monday.astimezone(TOKYO) + timedelta(days=1), NAMELESS,
                    series_id="s'1")]
    # The second page: e1 moved and one name changed (conflicts updated in place), e2 as it
    # was (nothing to write), e3 new.
    renamed = Attendee(QUOTED.email, declined=False, is_self=False, name="Seán")
    second = [_event("e1", monday + timedelta(hours=2), renamed, UNICODE, NAMELESS),
              first[1], _event("e3", monday + timedelta(days=2), UNICODE)]

    def work(session: Session) -> dict[str, Any]:
        ours = _connection(session, "json")
        known = capture.Known(contacts={}, account_email=ME.email)
        reference: Reference = {}
        seen: dict[str, Any] = {}
        for label, page in (("first", first), ("second", second)):
            capture.apply_events(session, ours, page, known, NOW)
            _reference_upsert(reference, page)
            seen[label] = (_held(session, ours), _reference_rows(reference))
        return seen

    seen = await Database(db.session_factory(any_engine)).run(work)
    for label in ("first", "second"):
        ours, theirs = seen[label]
        assert _without_ids(ours) == theirs, label
    first_rows, _ = seen["first"]
    second_rows, _ = seen["second"]
    assert len(first_rows) == 4 and len(second_rows) == 5
    # Rows held are updated, not replaced: the same ids.
    assert {row[0] for row in first_rows} <= {row[0] for row in second_rows}
    by_key = {(row[3], row[5]): row for row in second_rows}
    assert by_key[("e1", QUOTED.email)][6] == "Seán"
    assert by_key[("e1", UNICODE.email)][6] == UNICODE.name
    assert by_key[("e1", NAMELESS.email)][6] is None
    assert by_key[("e2", NAMELESS.email)][4] == "s'1"
    assert by_key[("e1", QUOTED.email)][7] == monday + timedelta(hours=2)
    assert all(row[7].tzinfo is not None and row[8].tzinfo is not None for row in second_rows)
    first_e1 = {(row[3], row[5]): row for row in first_rows}[("e1", QUOTED.email)]
    assert first_e1[6] == QUOTED.name


def _meetings_of(session: Session, ref: capture.ConnectionRef) -> dict[str, list[str]]:
    """Each person met's event ids, oldest meeting first."""
    m = MetPerson
    return {row.email: [meeting.event_id for meeting in met.meetings(row.meetings)]
            for row in session.execute(select(m.email, m.meetings)
                                       .where(m.connection_id == ref.connection_id))}


async def test_a_page_takes_back_meetings_that_are_gone_and_keeps_the_rest(
        any_engine: AsyncEngine) -> None:
    """Cancelled, declined and untimed events, an attendee dropped from an event, a
    cancelled series and a full resync that no longer lists an event each take that meeting
    out of the lists of the people in it, even when the page does not name them; a person
    left with no meeting has no row."""
    monday = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
    pat = Attendee("pat@initech.com", declined=False, is_self=False, name="Pat Kim")
    kim = Attendee("kim@initech.com", declined=False, is_self=False)
    first = [_event("a", monday, pat, kim), _event("b", monday + timedelta(days=1), pat),
             _event("c", monday + timedelta(days=2), kim),
             _event("s1", monday + timedelta(days=3), pat, series_id="s"),
             _event("s2", monday + timedelta(days=4), pat, kim, series_id="s"),
             _event("d", monday + timedelta(days=5), NAMELESS),
             _event("u", monday + timedelta(days=6), NAMELESS)]

    def work(session: Session) -> list[dict[str, list[str]]]:
        ref = _connection(session, "changes")
        known = capture.Known(contacts={}, account_email=ME.email)
        capture.apply_events(session, ref, first, known, NOW)
        seen = [_meetings_of(session, ref)]
        # Kim dropped from "a" (the page names Pat only); "c" cancelled (no attendees
        # listed); the series "s" cancelled; the user declined "d"; "u" lost its times.
        capture.apply_events(session, ref, [
            _event("a", monday, pat), CalendarEvent(event_id="c", removed=True),
            CalendarEvent(event_id="s", removed=True),
            CalendarEvent(event_id="d", start=monday, end=monday + timedelta(hours=1),
                          user_declined=True, attendees=(ME, NAMELESS)),
            CalendarEvent(event_id="u", attendees=(ME, NAMELESS))], known, NOW)
        seen.append(_meetings_of(session, ref))
        # A full resync lists "a" only: "b" was deleted while the cursor was dead.
        capture.forget_unseen(session, ref.connection_id, {"a"}, monday - timedelta(days=1),
                              None)
        seen.append(_meetings_of(session, ref))
        return seen

    before, after_page, after_resync = await Database(db.session_factory(any_engine)).run(work)
    assert before == {"pat@initech.com": ["a", "b", "s1", "s2"], "kim@initech.com":
                      ["a", "c", "s2"], NAMELESS.email: ["d", "u"]}
    assert after_page == {"pat@initech.com": ["a", "b"]}
    assert after_resync == {"pat@initech.com": ["a"]}


async def test_retention_trims_old_meetings_from_a_list_and_keeps_newer_ones(
        any_engine: AsyncEngine) -> None:
    old, recent = NOW - MET_KEEP - timedelta(days=1), NOW - timedelta(days=3)
    pat = Attendee("pat@initech.com", declined=False, is_self=False)
    kim = Attendee("kim@initech.com", declined=False, is_self=False)
    sessions = db.session_factory(any_engine)

    def seed(session: Session) -> capture.ConnectionRef:
        ref = _connection(session, "retention")
        capture.apply_events(session, ref, [_event("old", old, pat, kim),
                                            _event("new", recent, pat)],
                             capture.Known(contacts={}, account_email=ME.email), NOW)
        return ref

    ref = await Database(sessions).run(seed)
    report = await apply_retention(sessions, NOW)
    assert report.met_pruned == 2  # the old meeting, with Pat and with Kim

    def held(session: Session) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in session.execute(
            select(MetPerson.email, MetPerson.first_start_at, MetPerson.meetings)
            .where(MetPerson.connection_id == ref.connection_id))]

    [(email, first_start, listed)] = await Database(sessions).run(held)
    assert email == "pat@initech.com"
    assert first_start == datetime(recent.year, recent.month, recent.day, tzinfo=UTC)
    assert [meeting.event_id for meeting in met.meetings(listed)] == ["new"]
    assert (await apply_retention(sessions, NOW)).met_pruned == 0


async def test_retention_trims_whole_days_and_never_looks_at_a_row_twice(
        any_engine: AsyncEngine) -> None:
    """The rows hold the day of their oldest meeting: a meeting on the cutoff's own day stays
    (before or after the cutoff's hour), one on the day before goes, and a row looked at
    once is not looked at again (the retention job loops while a batch was full)."""
    cutoff = datetime(2026, 10, 9, 12, 0, tzinfo=UTC)
    pat = Attendee("pat@initech.com", declined=False, is_self=False)
    kim = Attendee("kim@initech.com", declined=False, is_self=False)
    lee = Attendee("lee@initech.com", declined=False, is_self=False)
    sessions = db.session_factory(any_engine)

    def seed(session: Session) -> capture.ConnectionRef:
        ref = _connection(session, "whole-days")
        capture.apply_events(session, ref, [
            _event("early-that-day", cutoff - timedelta(hours=11), pat),
            _event("after-the-hour", cutoff + timedelta(hours=2), lee),
            _event("day-before", cutoff - timedelta(hours=12, minutes=30), kim),
            _event("later", cutoff + timedelta(days=2), kim)],
            capture.Known(contacts={}, account_email=ME.email), NOW)
        return ref

    await Database(sessions).run(seed)
    first = await Database(sessions).run(lambda session: queries.trim_met(session, cutoff, 10))
    again = await Database(sessions).run(lambda session: queries.trim_met(session, cutoff, 10))
    assert (first, again) == ((1, 1), (0, 0))  # Kim's meeting of the day before, Kim's row

    def held(session: Session) -> dict[str, tuple[datetime, list[str]]]:
        return {row.email: (row.first_start_at, [m.event_id for m in met.meetings(row.meetings)])
                for row in session.execute(select(MetPerson.email, MetPerson.first_start_at,
                                                  MetPerson.meetings))}

    assert await Database(sessions).run(held) == {
        "pat@initech.com": (datetime(2026, 10, 9, tzinfo=UTC), ["early-that-day"]),
        "lee@initech.com": (datetime(2026, 10, 9, tzinfo=UTC), ["after-the-hour"]),
        "kim@initech.com": (datetime(2026, 10, 11, tzinfo=UTC), ["later"])}


@settings(max_examples=200, deadline=None)
@given(moments=st.lists(st.datetimes(min_value=datetime(1900, 1, 1),
                                     max_value=datetime(2200, 1, 1),
                                     timezones=st.sampled_from([UTC, TOKYO, timezone(
                                         timedelta(hours=-7, minutes=-30))])),
                        min_size=1, max_size=5))
def test_a_rows_day_is_the_utc_day_of_its_oldest_meeting(moments: list[datetime]) -> None:
    entries = met.ordered(met.entry(f"e{n}", None, moment, moment + timedelta(hours=1))
                          for n, moment in enumerate(moments))
    oldest = min(moments).astimezone(UTC)
    midnight = datetime(oldest.year, oldest.month, oldest.day, tzinfo=UTC)
    assert met.first_day(entries) == midnight == met.day_start(min(moments))
    assert met.first_day(entries) <= oldest < midnight + timedelta(days=1)


async def test_a_forgotten_address_is_neither_written_nor_kept_by_a_page(
        any_engine: AsyncEngine) -> None:
    """A page never holds a forgotten person as someone met, and drops what a page written
    just before the forget committed still held of them."""
    monday = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
    pat = Attendee("pat@initech.com", declined=False, is_self=False, name="Pat Kim")
    salt = forgotten.new_salt()
    gone = forgotten.ForgottenAddresses([(salt, forgotten.digest(salt, " Pat@Initech.com"))])

    def work(session: Session) -> list[dict[str, list[str]]]:
        ref = _connection(session, "forgotten")
        capture.apply_events(session, ref, [_event("a", monday, pat, NAMELESS)],
                             capture.Known(contacts={}, account_email=ME.email), NOW)
        seen = [_meetings_of(session, ref)]
        capture.apply_events(session, ref, [_event("b", monday + timedelta(days=1), pat)],
                             capture.Known(contacts={}, account_email=ME.email,
                                           forgotten=gone), NOW)
        seen.append(_meetings_of(session, ref))
        return seen

    before, after = await Database(db.session_factory(any_engine)).run(work)
    assert before == {"pat@initech.com": ["a"], NAMELESS.email: ["a"]}
    assert after == {NAMELESS.email: ["a"]}


async def test_the_owners_address_once_marked_takes_back_what_was_held_for_it(
        any_engine: AsyncEngine) -> None:
    """Graph lists the owner among the attendees without marking them: until a page marks
    the address as theirs, it is held as someone met. The page that marks it drops that row
    (no statement of its own: the read of every row finds it) and leaves the address to be
    stored with the page."""
    monday = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
    unmarked = Attendee(ME.email, declined=False, is_self=False)

    def work(session: Session) -> tuple[dict[str, list[str]], ...]:
        ref = _connection(session, "owner")
        earlier = capture.Known(contacts={}, account_email=None)
        capture.apply_events(session, ref, [CalendarEvent(
            event_id="a", start=monday, end=monday + timedelta(minutes=30),
            attendees=(unmarked, NAMELESS))], earlier, NOW)
        assert earlier.unsaved_account_email is None
        before = _meetings_of(session, ref)
        known = capture.Known(contacts={}, account_email=None)
        capture.apply_events(session, ref, [_event("b", monday + timedelta(days=1), NAMELESS)],
                             known, NOW)
        assert known.account_email == known.unsaved_account_email == ME.email
        after = _meetings_of(session, ref)
        capture.save_account_email(session, ref, known)
        stored = session.scalar(select(CalendarConnection.account_email)
                                .where(CalendarConnection.id == ref.connection_id))
        return before, after, {"stored": [stored or ""]}

    before, after, stored = await Database(db.session_factory(any_engine)).run(work)
    assert before == {ME.email: ["a"], NAMELESS.email: ["a"]}
    assert after == {NAMELESS.email: ["a", "b"]}
    assert stored == {"stored": [ME.email]}
