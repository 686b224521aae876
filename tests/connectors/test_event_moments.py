"""The parsers keep the moments of date-time texts read lately: a text read again gives the
same moment as the first time, a zone-less text is read in its own zone each time, and a
text or zone that cannot be read is refused every time, never remembered."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rapport.bot.connectors.calendars.events import (
    UnreadableEvent,
    parse_google_event,
    parse_graph_event,
)


def _google(start: str, zone: str | None = None) -> datetime | None:
    return parse_google_event({
        "id": "e1", "status": "confirmed",
        "start": {"dateTime": start, **({"timeZone": zone} if zone else {})},
        "end": {"dateTime": start, **({"timeZone": zone} if zone else {})}}).start


def test_a_text_read_again_is_the_same_moment() -> None:
    first = _google("2026-11-20T17:00:00+01:00", "Europe/Berlin")
    assert first == datetime(2026, 11, 20, 16, 0, tzinfo=UTC) and first.tzinfo is UTC
    assert _google("2026-11-20T17:00:00+01:00", "Europe/Berlin") == first
    assert _google("2026-11-20T16:00:00Z") == first


def test_a_text_without_an_offset_is_read_in_the_zone_given_with_it() -> None:
    graph = "2026-11-20T17:00:00.0000000"
    moments = [parse_graph_event({"id": "e2", "start": {"dateTime": graph, "timeZone": zone},
                                  "end": {"dateTime": graph, "timeZone": zone}}).start
               for zone in ("UTC", "Europe/Berlin", "UTC", "America/Los_Angeles")]
    assert moments == [datetime(2026, 11, 20, hour, 0, tzinfo=UTC) for hour in (17, 16, 17)] \
        + [datetime(2026, 11, 21, 1, 0, tzinfo=UTC)]


@pytest.mark.parametrize(("start", "zone"), [("2026-11-20T17:00:00", "Mars/Olympus_Mons"),
                                             ("not a moment", None)])
def test_what_cannot_be_read_is_refused_every_time(start: str, zone: str | None) -> None:
    for _ in range(2):
        with pytest.raises(UnreadableEvent):
            _google(start, zone)
