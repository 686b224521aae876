"""A provider-neutral calendar for the Google and Microsoft fakes: events with attendees and
responses, weekly series with moved or cancelled instances, and a change counter so both
fakes can answer "what changed since" (Google's syncToken, Graph's deltaLink).

Every change bumps a global sequence number on what it touched; an instance's `seq` is the
newest change of its series or of its own override. Each event carries a title, a
description and a location on purpose: the tests assert that none of them is ever stored.
"""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

RESPONSES = ("accepted", "declined", "tentative", "needsAction")


def opaque_token(payload: dict[str, Any]) -> str:
    """A page, sync or delta token: opaque to clients, readable by the fake that made it."""
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()
                                    ).decode().rstrip("=")


def read_token(token: str) -> dict[str, Any] | None:
    """The payload of an `opaque_token`, or None for anything else (a forged token)."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError):
        return None
    return data if isinstance(data, dict) else None


@dataclass
class FakeAttendee:
    email: str
    response: str = "accepted"  # Google's words: accepted, declined, tentative, needsAction
    name: str = ""
    resource: bool = False


@dataclass
class Override:
    """A moved or cancelled instance of a series."""

    start: datetime | None = None
    end: datetime | None = None
    status: str = "confirmed"  # confirmed, cancelled (by the organizer), deleted
    seq: int = 0


@dataclass
class FakeEvent:
    id: str
    start: datetime  # aware, in `time_zone`
    end: datetime
    time_zone: str
    organizer: str
    attendees: list[FakeAttendee]
    title: str
    description: str = ""
    location: str = ""
    all_day: bool = False
    event_type: str = "default"
    status: str = "confirmed"
    weekly_count: int | None = None
    overrides: dict[datetime, Override] = field(default_factory=dict)
    seq: int = 0
    created: datetime | None = None
    updated: datetime | None = None

    @property
    def is_series(self) -> bool:
        return self.weekly_count is not None


@dataclass(frozen=True)
class Instance:
    """One occurrence as a calendar view lists it."""

    event: FakeEvent
    original_start: datetime | None  # set for instances of a series
    start: datetime
    end: datetime
    status: str
    seq: int

    @property
    def is_exception(self) -> bool:
        return self.original_start is not None and \
            self.original_start in self.event.overrides


class FakeCalendar:
    """One person's primary calendar."""

    def __init__(self, owner: str, *, clock: object = None) -> None:
        self.owner = owner.lower()
        self.events: dict[str, FakeEvent] = {}
        self.seq = 0
        # Bumped to invalidate every sync token / delta link issued before.
        self.epoch = 0
        self._counter = itertools.count(1)

    def _bump(self) -> int:
        self.seq += 1
        return self.seq

    def add(self, *, start: datetime, minutes: int = 30, attendees: Iterable[str | FakeAttendee]
            = (), organizer: str | None = None, title: str = "Quarterly planning",
            description: str = "Agenda: the confidential merger", location: str = "Room 4",
            time_zone: str | None = None, all_day: bool = False, weekly_count: int | None = None,
            event_type: str = "default", event_id: str | None = None,
            owner_response: str = "accepted") -> FakeEvent:
        """Add an event the owner is invited to (or organizes, when organizer is the owner)."""
        zone: str = time_zone or str(getattr(start.tzinfo, "key", "UTC"))
        start = start.astimezone(ZoneInfo(zone))
        people = [a if isinstance(a, FakeAttendee) else FakeAttendee(email=a.lower())
                  for a in attendees]
        organizer = (organizer or self.owner).lower()
        if all(a.email != self.owner for a in people):
            people.insert(0, FakeAttendee(email=self.owner, response=(
                "accepted" if organizer == self.owner else owner_response)))
        if organizer != self.owner and all(a.email != organizer for a in people):
            people.append(FakeAttendee(email=organizer, response="accepted"))
        seq = self._bump()
        event = FakeEvent(id=event_id or uuid.uuid4().hex, start=start,
                          end=start + timedelta(minutes=minutes), time_zone=zone,
                          organizer=organizer, attendees=people, title=title,
                          description=description, location=location, all_day=all_day,
                          event_type=event_type, weekly_count=weekly_count, seq=seq)
        self.events[event.id] = event
        return event

    # ------------------------------------------------------------------------ changes
    def move(self, event_id: str, start: datetime, *, instance: datetime | None = None,
             minutes: int | None = None) -> None:
        event = self.events[event_id]
        length = timedelta(minutes=minutes) if minutes else event.end - event.start
        start = start.astimezone(ZoneInfo(event.time_zone))
        if instance is None:
            event.start, event.end, event.seq = start, start + length, self._bump()
        else:
            event.overrides[instance] = Override(start=start, end=start + length,
                                                 seq=self._bump())

    def cancel(self, event_id: str, *, instance: datetime | None = None) -> None:
        """The organizer cancels (Graph shows it with isCancelled; Google as cancelled)."""
        self._set_status(event_id, "cancelled", instance)

    def delete(self, event_id: str, *, instance: datetime | None = None) -> None:
        """The owner deletes it from their calendar (Graph: @removed)."""
        self._set_status(event_id, "deleted", instance)

    def respond(self, event_id: str, email: str, response: str) -> None:
        assert response in RESPONSES
        event = self.events[event_id]
        for attendee in event.attendees:
            if attendee.email == email.lower():
                attendee.response = response
        event.seq = self._bump()

    def expire_cursors(self) -> None:
        """Every sync token / delta link issued so far becomes unusable (410)."""
        self.epoch += 1

    def _set_status(self, event_id: str, status: str, instance: datetime | None) -> None:
        event = self.events[event_id]
        if instance is None:
            event.status, event.seq = status, self._bump()
        else:
            override = event.overrides.setdefault(instance, Override())
            override.status, override.seq = status, self._bump()

    # ------------------------------------------------------------------------- views
    def owner_response(self, event: FakeEvent) -> str:
        for attendee in event.attendees:
            if attendee.email == self.owner:
                return attendee.response
        return "needsAction"

    def instances(self) -> list[Instance]:
        """Single events and every instance of every series, in start order."""
        result: list[Instance] = []
        for event in self.events.values():
            if not event.is_series:
                result.append(Instance(event, None, event.start, event.end, event.status,
                                       event.seq))
                continue
            assert event.weekly_count is not None
            length = event.end - event.start
            for week in range(event.weekly_count):
                original = (event.start + timedelta(weeks=week)).astimezone(
                    ZoneInfo(event.time_zone))
                # Weekly in the event's own zone, so the local time survives DST.
                original = datetime.combine(original.date(), event.start.timetz())
                override = event.overrides.get(original)
                status = event.status if event.status != "confirmed" or override is None \
                    else override.status
                start = override.start if override and override.start else original
                end = override.end if override and override.end else start + length
                seq = max(event.seq, override.seq if override else 0)
                result.append(Instance(event, original, start, end, status, seq))
        result.sort(key=lambda i: (i.start, i.event.id))
        return result
