"""The parsers keep the attendees they read lately (and Google's looks the organizer up among
them by the address as given): whatever the attendees and organizer say (odd types, values
that cannot be hashed, case, spaces, rooms, the owner declining), a page read with the memos
warm or cold gives the events the plain reading gives, field for field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.bot.connectors.calendars import events
from rapport.bot.connectors.calendars.events import Attendee, CalendarEvent, display_name
from rapport.storage.types import MOMENTS_KEPT


def _plain_attendees(item: Mapping[str, Any]) -> tuple[tuple[Attendee, ...], bool]:
    """The attendees and whether the owner declined, read one by one with no memo (the
    parser's reading before it kept guests)."""
    attendees: dict[str, Attendee] = {}
    user_declined = False
    for attendee in item.get("attendees") or ():
        raw = attendee.get("email")
        email = str(raw).strip().lower() if raw else ""
        if not email or attendee.get("resource"):
            continue
        declined = attendee.get("responseStatus") == "declined"
        is_self = bool(attendee.get("self"))
        if is_self and declined:
            user_declined = True
        shown = attendee.get("displayName")
        attendees[email] = Attendee(email, declined, is_self,
                                    display_name(shown, email) if shown else None)
    organizer = item.get("organizer") or {}
    organizer_email = str(organizer.get("email") or "").strip().lower()
    if organizer_email and organizer_email not in attendees:
        attendees[organizer_email] = Attendee(
            organizer_email, False, bool(organizer.get("self")),
            display_name(organizer.get("displayName"), organizer_email))
    return tuple(attendees.values()), user_declined


# Values that read alike but are not alike: 1 and True, a text and its upper case, spaces.
_ADDRESSES = st.sampled_from(["dana@acme.com", "Dana@Acme.com", " dana@acme.com ",
                              "lee@acme.com", "me@example.com", "", "1", "True", 1, True,
                              1.0, None])
_NAMES = st.sampled_from([None, "", "Dana", "Dana  Lee", "dana", "dana@acme.com", 1, True,
                          "True", " Lee\n"])
_FLAGS = st.sampled_from([None, False, True, 0, 1, "yes", [], {"a": 1}])
_RESPONSES = st.sampled_from([None, "accepted", "declined", "tentative", "needsAction",
                              ["declined"], {}])


@st.composite
def _attendee(draw: st.DrawFn) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for key, values in (("email", _ADDRESSES), ("displayName", _NAMES),
                        ("responseStatus", _RESPONSES), ("self", _FLAGS),
                        ("resource", _FLAGS), ("organizer", _FLAGS)):
        if draw(st.booleans()):
            entry[key] = draw(values)
    return entry


@st.composite
def _event(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": draw(st.sampled_from(["e1", "e2"])), "status": "confirmed",
        "start": {"dateTime": "2026-11-20T17:00:00+01:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-11-20T17:30:00+01:00", "timeZone": "Europe/Berlin"},
        "eventType": draw(st.sampled_from(["default", "focusTime", "fromGmail"])),
        "attendees": draw(st.lists(_attendee(), max_size=5))}
    if draw(st.booleans()):
        organizer: dict[str, Any] = {"email": draw(_ADDRESSES)}
        if draw(st.booleans()):
            organizer["self"] = draw(_FLAGS)
        if draw(st.booleans()):
            organizer["displayName"] = draw(_NAMES)
        item["organizer"] = organizer
    return item


@settings(max_examples=300, deadline=None)
@given(st.lists(_event(), min_size=1, max_size=6), st.booleans())
def test_attendees_read_with_the_memo_are_those_read_plainly(
        items: list[dict[str, Any]], cold: bool) -> None:
    if cold:
        events._GOOGLE_GUESTS.clear()
    for item in items:
        parsed = events.parse_google_event(item)
        attendees, user_declined = _plain_attendees(item)
        assert parsed == CalendarEvent(
            event_id=item["id"], start=parsed.start, end=parsed.end,
            is_meeting=item["eventType"] in ("default", "fromGmail"),
            user_declined=user_declined, attendees=attendees)
        # Field for field, types included (True is not 1 here).
        assert [tuple(map(type, a)) for a in parsed.attendees] == \
            [tuple(map(type, a)) for a in attendees]
        assert parsed.start is not None and parsed.start.hour == 16


def _plain_graph_attendees(item: Mapping[str, Any]) -> tuple[Attendee, ...]:
    """Graph's attendees read one by one with no memo (the reading before it kept them)."""
    attendees: dict[str, Attendee] = {}
    for attendee in item.get("attendees") or ():
        address = attendee.get("emailAddress") or {}
        raw = address.get("address")
        email = str(raw).strip().lower() if raw else ""
        if not email or attendee.get("type") == "resource":
            continue
        response = (attendee.get("status") or {}).get("response")
        shown = address.get("name")
        attendees[email] = Attendee(email, response == "declined", False,
                                    display_name(shown, email) if shown else None)
    organizer_address = (item.get("organizer") or {}).get("emailAddress") or {}
    organizer = str(organizer_address.get("address") or "").strip().lower()
    if organizer:
        attendees[organizer] = Attendee(organizer, False, bool(item.get("isOrganizer")),
                                        display_name(organizer_address.get("name"), organizer))
    return tuple(attendees.values())


_SPACES = st.sampled_from(["", " ", "\t\n"])


@st.composite
def _graph_attendee(draw: st.DrawFn) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    address: dict[str, Any] = {}
    if draw(st.booleans()):
        address["address"] = draw(st.one_of(_ADDRESSES, _SPACES))
    if draw(st.booleans()):
        address["name"] = draw(_NAMES)
    if address or draw(st.booleans()):
        entry["emailAddress"] = address
    if draw(st.booleans()):
        entry["type"] = draw(st.sampled_from(["required", "optional", "resource", None, []]))
    if draw(st.booleans()):
        entry["status"] = {"response": draw(_RESPONSES)} if draw(st.booleans()) else None
    return entry


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_graph_attendee(), max_size=5), min_size=1, max_size=6),
       st.booleans())
def test_graph_attendees_read_with_the_memo_are_those_read_plainly(
        lists: list[list[dict[str, Any]]], cold: bool) -> None:
    if cold:
        events._GRAPH_GUESTS.clear()
    for attendees in lists:
        item: dict[str, Any] = {
            "id": "g1", "attendees": attendees, "isOrganizer": False,
            "organizer": {"emailAddress": {"address": "Lee@Acme.com", "name": "Lee"}},
            "start": {"dateTime": "2026-11-20T17:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": "2026-11-20T17:30:00.0000000", "timeZone": "UTC"}}
        parsed = events.parse_graph_event(item)
        plain = _plain_graph_attendees(item)
        assert parsed.attendees == plain
        assert [tuple(map(type, a)) for a in parsed.attendees] == \
            [tuple(map(type, a)) for a in plain]


def test_the_memo_stays_bounded() -> None:
    events._GOOGLE_GUESTS.clear()
    for n in range(MOMENTS_KEPT + 10):
        events.parse_google_event({"id": "e", "attendees": [{"email": f"p{n}@acme.com"}]})
    assert 0 < len(events._GOOGLE_GUESTS) <= MOMENTS_KEPT


def test_values_equal_across_types_are_not_taken_for_one_another() -> None:
    # 1 == True == 1.0, but they read as "1", "true" and "1.0".
    seen = [events.parse_google_event({"id": "e", "attendees": [
        {"email": value, "displayName": name}]}).attendees
        for value, name in ((1, None), (True, None), (1.0, None),
                            ("dana@acme.com", 1), ("dana@acme.com", True))]
    assert seen == [(Attendee("1", False, False),), (Attendee("true", False, False),),
                    (Attendee("1.0", False, False),),
                    (Attendee("dana@acme.com", False, False, "1"),),
                    (Attendee("dana@acme.com", False, False, "True"),)]
