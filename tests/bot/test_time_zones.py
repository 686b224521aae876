"""Time zones as people type them: an IANA name, a city, or the abbreviation of the clock
where they live. "EST" is read as New York's clock, summer time included (the zone database's
own "EST" is UTC-5 all year), and the answer says so; "CST", which is US Central or China, is
asked about and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.dates import read_zone
from rapport.bot.core.rapport import Rapport
from rapport.storage import db
from rapport.storage.models import User
from tests.conftest import console_user, say, snapshot

ALEX = console_user("alex")
JULY = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
JANUARY = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("typed", "zone"), [
    ("EST", "America/New_York"), ("est", "America/New_York"), ("EDT", "America/New_York"),
    ("Eastern Time", "America/New_York"), ("PST", "America/Los_Angeles"),
    ("US Pacific", "America/Los_Angeles"), ("HST", "Pacific/Honolulu"),
    ("CET", "Europe/Berlin"), ("CEST", "Europe/Berlin"), ("EET", "Europe/Athens"),
    ("JST", "Asia/Tokyo"), ("AEDT", "Australia/Sydney"),
])
def test_an_abbreviation_is_read_as_its_regions_clock_and_said_so(typed: str, zone: str
                                                                   ) -> None:
    reading = read_zone(typed)
    assert reading.zone == zone
    assert reading.read_as is not None and zone in reading.read_as
    assert typed.upper() in reading.read_as or typed in reading.read_as


def test_est_follows_new_yorks_summer_time_as_the_database_est_does_not() -> None:
    zone = ZoneInfo(read_zone("EST").zone or "")
    assert JANUARY.astimezone(zone).utcoffset() == ZoneInfo("EST").utcoffset(JANUARY)
    assert JULY.astimezone(zone).hour == 8  # EDT, UTC-4; the database's EST says 7


@pytest.mark.parametrize(("typed", "choices"), [
    ("CST", ("America/Chicago", "Asia/Shanghai")),
    ("IST", ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem")),
    ("MST", ("America/Denver", "America/Phoenix")),
    ("GMT", ("Europe/London", "UTC")),
    ("bst", ("Europe/London", "Asia/Dhaka")),
])
def test_an_abbreviation_of_several_clocks_is_asked_about(typed: str,
                                                          choices: tuple[str, ...]) -> None:
    reading = read_zone(typed)
    assert reading.zone is None and reading.question is not None
    assert all(choice in reading.question for choice in choices), reading.question


@pytest.mark.parametrize(("typed", "zone"), [
    ("UTC", "UTC"), ("utc", "UTC"), ("Europe/Berlin", "Europe/Berlin"),
    ("america/new_york", "America/New_York"), ("new york", "America/New_York"),
    ("Etc/GMT+5", "Etc/GMT+5"), ("US/Eastern", "US/Eastern"),
])
def test_zone_names_and_cities_are_read_as_before(typed: str, zone: str) -> None:
    assert read_zone(typed).zone == zone
    assert read_zone(typed).read_as is None


@given(st.text(max_size=80))
def test_any_text_is_a_zone_a_question_or_unknown_never_an_error(text: str) -> None:
    reading = read_zone(text)
    if reading.zone is not None:
        ZoneInfo(reading.zone)
    assert reading.zone is None or reading.question is None


async def _zone(engine: AsyncEngine) -> str:
    async with db.session_factory(engine)() as session:
        user = await session.scalar(select(User).where(User.external_id == "alex"))
    assert user is not None
    return user.tz


async def test_settings_tz_est_saves_new_york_and_says_how_it_read_it(
        rapport: Rapport, engine: AsyncEngine) -> None:
    answer = await say(rapport, "settings tz EST")
    assert answer.startswith("Saved. I read EST as America/New_York (US Eastern time)"), answer
    assert "Time zone: America/New_York" in answer
    assert await _zone(engine) == "America/New_York"
    # Said as a sentence, the same reading.
    answer = await say(rapport, "change my time zone to PST")
    assert "I read PST as America/Los_Angeles" in answer
    assert await _zone(engine) == "America/Los_Angeles"
    answer = await say(rapport, "settings tz UTC")
    assert answer.startswith("Saved.\n") and await _zone(engine) == "UTC"


async def test_settings_tz_cst_asks_which_and_changes_nothing(rapport: Rapport,
                                                             engine: AsyncEngine) -> None:
    await say(rapport, "help")
    before = await snapshot(engine)
    for line in ("settings tz CST", "my time zone is IST"):
        reply = await rapport.handle_text(ALEX, line)
        assert not reply.ok and "Which one?" in reply.text, (line, reply.text)
    assert await snapshot(engine) == before
