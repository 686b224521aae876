"""Provider events turned into the little Rapport keeps: ids, times, who attended.

The parsers read only ids, status, times, responses, email addresses and attendees' display
names (to offer adding someone met twice). Titles, descriptions, locations and bodies are
never read, so they cannot reach the database or a log line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rapport.storage.types import remember

# Google event types that are not meetings with people.
_GOOGLE_MEETING_TYPES = frozenset({"default", "fromGmail"})
_UTC_NAMES = frozenset({None, "", "UTC", "Etc/UTC"})


class UnreadableEvent(ValueError):
    """An event whose times cannot be read (an unknown time zone name, a malformed value)."""


# Named tuples rather than frozen dataclasses: as immutable, and made three times faster (a
# frozen dataclass sets each field through object.__setattr__), which counts when a first
# sync parses a few hundred events per connection on the event loop.
class Attendee(NamedTuple):
    email: str  # lower-cased
    declined: bool
    is_self: bool
    # The name the calendar shows for them, when it gives one (never the address itself).
    name: str | None = None


class CalendarEvent(NamedTuple):
    """One event instance as the sync needs it; `removed` covers cancelled and deleted."""

    event_id: str
    series_id: str | None = None
    instance_start: datetime | None = None
    removed: bool = False
    start: datetime | None = None
    end: datetime | None = None
    all_day: bool = False
    is_meeting: bool = True
    user_declined: bool = False
    attendees: tuple[Attendee, ...] = ()

    @property
    def attended(self) -> bool:
        """A timed meeting the user did not decline (tentative and unanswered count)."""
        return (not self.removed and not self.all_day and self.is_meeting
                and not self.user_declined and self.start is not None and self.end is not None)

    def partners(self) -> tuple[Attendee, ...]:
        """Everyone else who did not decline: the people the user met."""
        return tuple(a for a in self.attendees if not a.is_self and not a.declined)


def display_name(value: object, email: str) -> str | None:
    """A calendar display name fit to show: stripped, one line, short; None when it is
    missing or only the address or its alias (Graph repeats them when it knows no name)."""
    if not value:
        return None
    text = " ".join(str(value).split())[:200]
    if not text or "@" in text or text.lower() == email.split("@", 1)[0]:
        return None
    return text


def _aware(moment: datetime, zone: str | None) -> datetime:
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    if zone in _UTC_NAMES:
        return moment.replace(tzinfo=UTC)
    try:
        tz = ZoneInfo(zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise UnreadableEvent(f"unknown time zone {zone!r}") from error
    return moment.replace(tzinfo=tz).astimezone(UTC)


# The UTC moments of date-time texts read lately, by (text, zone name): meetings start and
# end on few distinct instants (whole and half hours), which a sync reads again in event
# after event; a lookup costs a tenth of parsing and converting. Datetimes are immutable,
# so events may share one. Bounded like the storage's memos of moments.
_MOMENTS: dict[tuple[str, str | None], datetime] = {}


def _parse(value: str, zone: str | None) -> datetime:
    try:
        key = (value, zone)
        known = _MOMENTS.get(key)
        if known is not None:
            return known
        # Python 3.11 reads Graph's seven fractional digits ("2026-11-20T17:00:00.0000000"),
        # keeping six, and Google's "Z".
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError) as error:
        raise UnreadableEvent("malformed date-time") from error
    if moment.tzinfo is not None:  # what providers send: an offset, or "Z"
        return remember(_MOMENTS, key, moment.astimezone(UTC))
    return remember(_MOMENTS, key, _aware(moment, zone))


# ----------------------------------------------------------------------------------- Google
def _google_time(value: Mapping[str, Any] | None) -> tuple[datetime | None, bool]:
    """(UTC moment, all-day) of an EventDateTime; all-day dates carry no moment."""
    if not value:
        return None, False
    if "dateTime" in value:
        return _parse(value["dateTime"], value.get("timeZone")), False
    return None, "date" in value


def _google_guest(raw: object, response: object, is_self: object, shown: object,
                  resource: object) -> Attendee | None:
    """An attendee as Google lists it; None for a meeting room or equipment (not people) or
    an attendee with no address."""
    email = str(raw).strip().lower() if raw else ""
    if not email or resource:
        return None
    return Attendee(email, response == "declined", bool(is_self),
                    display_name(shown, email) if shown else None)


G = TypeVar("G", bound=Attendee | None)
# What a memo of guests gives for a key it does not hold (None is a guest read: no one).
_UNREAD: Any = object()


def _known_guest(memo: dict[tuple[Any, ...], G], key: tuple[Any, ...],
                 read: Callable[..., G]) -> G:
    """`read(*key)`, looked up in `memo` when read before; a key that cannot be hashed (a
    list or an object where a text belongs) is read as it is."""
    try:
        person: G = memo.get(key, _UNREAD)
    except TypeError:
        return read(*key)
    return remember(memo, key, read(*key)) if person is _UNREAD else person


# Google's attendees read lately, by (email, responseStatus, self, displayName, resource) as
# given: a calendar's guests are the same few dozen people in meeting after meeting. Bounded
# like the moments; only text addresses and names are kept (an equal value of another type
# could read differently).
_GOOGLE_GUESTS: dict[tuple[Any, ...], Attendee | None] = {}


def parse_google_event(item: Mapping[str, Any]) -> CalendarEvent:
    """A Calendar v3 `Event` (events.list with singleEvents=true)."""
    event_id = str(item["id"])
    series_id = item.get("recurringEventId")
    instance_start, _ = _google_time(item.get("originalStartTime"))
    if item.get("status") == "cancelled":
        return CalendarEvent(event_id=event_id, series_id=series_id,
                             instance_start=instance_start, removed=True)
    start, all_day = _google_time(item.get("start"))
    end, _ = _google_time(item.get("end"))
    attendees: dict[str, Attendee] = {}
    user_declined = False
    for attendee in item.get("attendees") or ():
        raw, response, shown = (attendee.get("email"), attendee.get("responseStatus"),
                                attendee.get("displayName"))
        key = (raw, response, attendee.get("self"), shown, attendee.get("resource"))
        if type(raw) is str and (shown is None or type(shown) is str):
            # What the provider says of a guest repeats from meeting to meeting: one guest
            # as read before is looked up, not read again (and not held twice).
            person = _known_guest(_GOOGLE_GUESTS, key, _google_guest)
        else:
            person = _google_guest(*key)
        if person is None:
            continue
        if person.is_self and person.declined:
            user_declined = True
        attendees[person.email] = person
    organizer = item.get("organizer") or {}
    raw = organizer.get("email")
    # The organizer is usually listed among the attendees, by the very address.
    if type(raw) is not str or raw not in attendees:
        organizer_email = str(raw or "").strip().lower()
        if organizer_email and organizer_email not in attendees:
            attendees[organizer_email] = Attendee(
                email=organizer_email, declined=False, is_self=bool(organizer.get("self")),
                name=display_name(organizer.get("displayName"), organizer_email))
    # Positional: a named tuple made with keywords costs twice as much.
    return CalendarEvent(
        event_id, series_id, instance_start, False, start, end, all_day,
        item.get("eventType", "default") in _GOOGLE_MEETING_TYPES, user_declined,
        tuple(attendees.values()))


# ------------------------------------------------------------------------------------ Graph
def _graph_time(value: Mapping[str, Any] | None) -> datetime | None:
    if not value or not value.get("dateTime"):
        return None
    return _parse(value["dateTime"], value.get("timeZone"))


def _graph_guest(raw: str, response: object, shown: object) -> Attendee:
    """A person Graph lists among the attendees (a text address, not a room)."""
    email = raw.strip().lower()
    return Attendee(email, response == "declined", False,
                    display_name(shown, email) if shown else None)


# Graph's people read lately, by (address, response, name) as given (see Google's).
_GRAPH_GUESTS: dict[tuple[Any, ...], Attendee] = {}


def parse_graph_event(item: Mapping[str, Any]) -> CalendarEvent:
    """A Graph `event` from calendarView/delta (an occurrence, exception or single event)."""
    event_id = str(item["id"])
    series_id = item.get("seriesMasterId")
    original = item.get("originalStart")
    instance_start = _parse(original, "UTC") if original else None
    if "@removed" in item or item.get("isCancelled"):
        return CalendarEvent(event_id=event_id, series_id=series_id,
                             instance_start=instance_start, removed=True)
    attendees: dict[str, Attendee] = {}
    for attendee in item.get("attendees") or ():
        address = attendee.get("emailAddress") or {}
        raw = address.get("address")
        # Only text as given is remembered; anything else where an address belongs is read
        # as its text each time.
        remembered = type(raw) is str
        if not remembered:
            raw = str(raw) if raw else ""
        # An address that strips to nothing is no one, whatever else the entry says.
        if not raw or raw.isspace() or attendee.get("type") == "resource":
            continue
        shown = address.get("name")
        key = (raw, (attendee.get("status") or {}).get("response"), shown)
        # As for Google: the same guests, as read before, are looked up.
        person = _known_guest(_GRAPH_GUESTS, key, _graph_guest) \
            if remembered and (shown is None or type(shown) is str) else _graph_guest(*key)
        attendees[person.email] = person
    organizer_address = (item.get("organizer") or {}).get("emailAddress") or {}
    organizer = str(organizer_address.get("address") or "").strip().lower()
    if organizer:
        attendees[organizer] = Attendee(email=organizer, declined=False,
                                        is_self=bool(item.get("isOrganizer")),
                                        name=display_name(organizer_address.get("name"),
                                                                 organizer))
    response = (item.get("responseStatus") or {}).get("response")
    return CalendarEvent(
        event_id=event_id, series_id=series_id, instance_start=instance_start,
        start=_graph_time(item.get("start")), end=_graph_time(item.get("end")),
        all_day=bool(item.get("isAllDay")),
        # calendarView lists instances; a series master is only the pattern.
        is_meeting=item.get("type") != "seriesMaster",
        user_declined=response == "declined", attendees=tuple(attendees.values()))
