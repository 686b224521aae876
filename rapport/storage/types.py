"""Column types shared by the models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# SQLAlchemy's SQLite DATETIME storage format, "2026-11-23 10:00:00.000000".
_SQLITE_FORMAT = ("%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d"
                  ".%(microsecond)06d")
_SQLITE_LENGTH = len("2026-11-23 10:00:00.000000")
# The stored text of moments bound lately, by moment. Meetings start and end on a few
# thousand distinct moments a month (whole and half hours, mostly), and a calendar sync binds
# each of them over and over (an event's start and end, its touchpoints, the people met):
# looking one up costs a twentieth of formatting it. Equal aware moments are the same instant
# whatever their zone, so they share one text; a naive one never equals an aware one, so it
# is never found here and is refused below. Cleared when full rather than kept in order.
_SQLITE_TEXTS: dict[datetime, str] = {}
# And the other way: the aware moments of texts read lately (datetimes are immutable, so
# rows may share one).
_SQLITE_MOMENTS: dict[Any, datetime] = {}
# At most this many entries in each such memo of moments.
MOMENTS_KEPT = 8192

K = TypeVar("K")
V = TypeVar("V")


def remember(memo: dict[K, V], key: K, value: V) -> V:
    """Keep `value` under `key` in a memo of moments, emptied first when it is full; `value`."""
    if len(memo) >= MOMENTS_KEPT:
        memo.clear()
    memo[key] = value
    return value


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend.

    SQLite has no time zones, so values are stored as naive UTC there and made aware again on
    the way out; the rest of the code never sees a naive datetime.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, one step from an aware datetime to the stored text (the same text as
        `process_bind_param` followed by SQLite's DATETIME processor, at a third of the
        cost: a calendar page binds a few hundred of them)."""
        if dialect.name != "sqlite" or \
                getattr(self.impl_instance.dialect_impl(dialect), "_storage_format",
                        None) != _SQLITE_FORMAT:
            return super().bind_processor(dialect)

        texts = _SQLITE_TEXTS

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            text = texts.get(value)
            if text is not None:
                return text
            zone = value.tzinfo
            if zone is UTC:
                # Already UTC (what parsers and the clock give): drop the "+00:00" instead of
                # making two more datetimes to format.
                text = value.isoformat(" ", "microseconds")[:_SQLITE_LENGTH]
            elif zone is None:
                raise ValueError("naive datetime given to a UTC column")
            else:
                text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
            return remember(texts, value, text)

        return process

    def result_processor(self, dialect: Dialect, coltype: object
                         ) -> Callable[[Any], Any] | None:
        """On SQLite, the moments of texts read lately are looked up rather than parsed and
        made aware again (a calendar page reads back a hundred or so, of few distinct
        meeting moments); the moment is SQLAlchemy's own two steps' the first time."""
        parse = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite" or parse is None or \
                getattr(self.impl_instance.dialect_impl(dialect), "_storage_format",
                        None) != _SQLITE_FORMAT:
            return parse
        moments = _SQLITE_MOMENTS

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            moment = moments.get(value)
            if moment is None:
                moment = parse(value)
                if moment is not None:
                    remember(moments, value, moment)
            return moment

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
