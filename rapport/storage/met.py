"""The meetings of a person met (rapport.storage.models.MetPerson.meetings): one JSON list per
person, each meeting `[event id, series id or null, start, end]`, oldest first.

Moments are UTC ISO 8601 text with microseconds and a "+00:00" offset, always the same width,
so text order is time order and two moments are equal exactly when their texts are: a page
compares and trims lists as text without making a datetime per meeting. The column is plain
text written and read here, so SQLite and PostgreSQL hold the very same characters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple

# [event id, series id, start, end], every element text but the series id (text or None).
Entry = list[str | None]


def moment_text(moment: datetime) -> str:
    """An aware moment as the list holds it: '2026-11-16T09:30:00.000000+00:00'."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to a list of meetings")
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")


def moment(text: str) -> datetime:
    """The aware UTC moment a list holds as `text`."""
    return datetime.fromisoformat(text)


def entry(event_id: str, series_id: str | None, start: datetime, end: datetime) -> Entry:
    return [event_id, series_id, moment_text(start), moment_text(end)]


def ordered(entries: Iterable[Entry]) -> list[Entry]:
    """Oldest first (then by event id), the order every list is kept in."""
    return sorted(entries, key=lambda item: (item[2] or "", item[0] or ""))


def encode(entries: Sequence[Entry]) -> str:
    """The column's text for entries already `ordered`."""
    return json.dumps(entries, ensure_ascii=False, separators=(",", ":"))


def decode(text: str) -> list[Entry]:
    return list(json.loads(text))


def first_start(entries: Sequence[Entry]) -> datetime:
    """The oldest start of a non-empty ordered list (the row's `first_start_at`)."""
    start = entries[0][2]
    assert start is not None
    return moment(start)


class Meeting(NamedTuple):
    """One meeting of a list, with its moments as datetimes."""

    event_id: str
    series_id: str | None
    start_at: datetime
    end_at: datetime


def meetings(text: str) -> list[Meeting]:
    """The meetings of a column's text, oldest first."""
    return [Meeting(str(event_id), series_id, moment(str(start)), moment(str(end)))
            for event_id, series_id, start, end in decode(text)]
