"""The meetings of a person met (rapport.storage.models.MetPerson.meetings): one JSON list per
person, each meeting `[event id, series id or null, start, end]`, oldest first.

Moments are whole microseconds since 1970-01-01 UTC: exact, compared and sorted as numbers,
and made from a datetime six times faster than ISO text (a first sync makes about forty
thousand of them). The column is plain text written and read here alone, so SQLite and
PostgreSQL hold the very same characters (a JSON column would not: PostgreSQL's jsonb
rewrites spacing and key order).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring
from operator import itemgetter
from typing import NamedTuple

from rapport.storage.types import remember

# (event id, series id or None, start, end), moments in microseconds since EPOCH.
Entry = tuple[str, str | None, int, int]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_START_THEN_EVENT = itemgetter(2, 0)


def micros(moment: datetime) -> int:
    """An aware moment as a list holds it (a naive one raises TypeError)."""
    return (moment - EPOCH) // _MICROSECOND


def moment(value: int) -> datetime:
    """The aware UTC moment a list holds as `value`."""
    return EPOCH + timedelta(microseconds=value)


def entry(event_id: str, series_id: str | None, start: datetime, end: datetime) -> Entry:
    return (event_id, series_id, micros(start), micros(end))


def ordered(entries: Iterable[Entry]) -> list[Entry]:
    """Oldest first (then by event id), the order every list is kept in."""
    return sorted(entries, key=_START_THEN_EVENT)


def entry_text(item: Entry) -> str:
    """One entry's JSON text (what `encode` joins; a page shares it between the people of
    one meeting)."""
    event_id, series_id, start, end = item
    series = "null" if series_id is None else encode_basestring(series_id)
    return f"[{encode_basestring(event_id)},{series},{start},{end}]"


def encode(entries: Sequence[Entry], texts: dict[Entry, str] | None = None) -> str:
    """The column's text for entries already `ordered`; `texts` holds entries' texts made
    already (and takes the new ones)."""
    if texts is None:
        return "[" + ",".join(map(entry_text, entries)) + "]"
    parts = []
    for item in entries:
        text = texts.get(item)
        if text is None:
            text = texts[item] = entry_text(item)
        parts.append(text)
    return "[" + ",".join(parts) + "]"


def decode(text: str) -> list[Entry]:
    return [(str(event_id), series_id, int(start), int(end))
            for event_id, series_id, start, end in json.loads(text)]


_MICROS_PER_DAY = 86_400 * 1_000_000
_MIDNIGHTS: dict[int, datetime] = {}


def first_day(entries: Sequence[Entry]) -> datetime:
    """Midnight UTC of the day of the oldest start of a non-empty ordered list: the row's
    `first_start_at`.

    The day, not the moment: retention trims by the day anyway, and rows of one day share
    one key in the column's index, so the rows a calendar page writes go at the end of a few
    days' runs of that index instead of each on a page of its own (on SQLite every page a
    commit touches is written to the WAL whole: the exact moment made a first sync write
    most of the index again with every commit; docs/performance.md, session 12)."""
    return _midnight(entries[0][2] // _MICROS_PER_DAY)


def day_start(value: datetime) -> datetime:
    """Midnight UTC of the day an aware moment falls on (what `first_day` holds)."""
    return _midnight(micros(value) // _MICROS_PER_DAY)


def _midnight(day: int) -> datetime:
    midnight = _MIDNIGHTS.get(day)
    return midnight if midnight is not None else remember(_MIDNIGHTS, day,
                                                          EPOCH + timedelta(days=day))


class Meeting(NamedTuple):
    """One meeting of a list, with its moments as datetimes."""

    event_id: str
    series_id: str | None
    start_at: datetime
    end_at: datetime


def meetings(text: str) -> list[Meeting]:
    """The meetings of a column's text, oldest first."""
    return [Meeting(event_id, series_id, moment(start), moment(end))
            for event_id, series_id, start, end in decode(text)]
