"""`UTCDateTime` on SQLite: its one-step bind processor writes exactly the text SQLAlchemy's
own two steps (`process_bind_param`, then SQLite's DATETIME processor) would, for every aware
moment, whatever its zone; moments are compared as text there, so one character off would
misorder rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from rapport.storage import types
from rapport.storage.prepared import json_moment
from rapport.storage.types import UTCDateTime

DIALECT = sqlite.dialect()
FAST = UTCDateTime().bind_processor(DIALECT)
SQLALCHEMY_DATETIME = DateTime().dialect_impl(DIALECT).bind_processor(DIALECT)

ZONES = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                         timezone(timedelta(hours=-11)), ZoneInfo("Europe/Paris"),
                         ZoneInfo("America/Los_Angeles"), ZoneInfo("Pacific/Kiritimati")])
MOMENTS = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9999, 12, 30),
                       timezones=ZONES)


def two_steps(value: datetime) -> str:
    assert SQLALCHEMY_DATETIME is not None
    return str(SQLALCHEMY_DATETIME(UTCDateTime().process_bind_param(value, DIALECT)))


@given(MOMENTS)
def test_the_one_step_text_is_sqlalchemys_for_every_zone(value: datetime) -> None:
    assert FAST is not None
    assert FAST(value) == two_steps(value)


@given(MOMENTS)
def test_json_rows_carry_the_same_text(value: datetime) -> None:
    assert json_moment("sqlite")(value) == two_steps(value)


def test_utc_moments_keep_their_microseconds_and_lose_the_offset() -> None:
    assert FAST is not None
    assert FAST(datetime(2026, 11, 23, 10, 0, tzinfo=UTC)) == "2026-11-23 10:00:00.000000"
    assert FAST(datetime(2026, 11, 23, 10, 0, 1, 7, tzinfo=UTC)) == "2026-11-23 10:00:01.000007"


def test_a_naive_moment_is_refused() -> None:
    assert FAST is not None
    with pytest.raises(ValueError, match="naive"):
        FAST(datetime(2026, 11, 23, 10, 0))
    assert FAST(None) is None


@given(MOMENTS)
def test_a_moment_bound_again_keeps_its_text(value: datetime) -> None:
    # The second time it comes from the texts kept by moment, the first time it was made.
    assert FAST is not None
    first = FAST(value)
    assert FAST(value) == first == two_steps(value)
    # The same instant in another zone is the same text.
    assert FAST(value.astimezone(ZoneInfo("Asia/Kathmandu"))) == first


def test_a_naive_moment_is_refused_after_the_same_wall_time_aware() -> None:
    assert FAST is not None
    FAST(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="naive"):
        FAST(datetime(2026, 11, 23, 10, 0))


def test_the_texts_kept_stay_bounded() -> None:
    assert FAST is not None
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for minute in range(types.MOMENTS_KEPT + 10):
        moment = start + timedelta(minutes=minute)
        assert FAST(moment) == two_steps(moment)
    assert len(types._SQLITE_TEXTS) <= types.MOMENTS_KEPT


READ = UTCDateTime().dialect_impl(DIALECT).result_processor(DIALECT, None)
SQLALCHEMY_READ = DateTime().dialect_impl(DIALECT).result_processor(DIALECT, None)


@given(MOMENTS)
def test_a_text_read_again_is_the_same_moment(value: datetime) -> None:
    # Read twice (the second time from the moments kept by text), it is what SQLAlchemy's
    # own steps make of it: the stored naive UTC wall time, made aware.
    assert READ is not None and SQLALCHEMY_READ is not None
    text = two_steps(value)
    first = READ(text)
    naive = SQLALCHEMY_READ(text)
    assert isinstance(naive, datetime)
    assert READ(text) == first == naive.replace(tzinfo=UTC)
    assert first == value.astimezone(UTC)
    assert first.tzinfo is UTC
    assert READ(None) is None


@given(MOMENTS)
def test_postgresql_json_rows_carry_the_instant_however_often_bound(value: datetime) -> None:
    # PostgreSQL reads the ISO text with its offset; a moment bound again (or the same
    # instant in another zone) may come from the texts kept, and is the same instant.
    iso = json_moment("postgresql")
    for bound in (value, value, value.astimezone(ZoneInfo("Asia/Kathmandu"))):
        assert datetime.fromisoformat(iso(bound)).astimezone(UTC) == value.astimezone(UTC)
