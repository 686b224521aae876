"""Column types shared by the models, and many ids bound as one value (`in_ids`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Boolean,
    ColumnElement,
    DateTime,
    String,
    bindparam,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator, TypeEngine

# SQLAlchemy's SQLite DATETIME storage format, "2026-11-23 10:00:00.000000".
_SQLITE_FORMAT = ("%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d"
                  ".%(microsecond)06d")


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

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class IdList(TypeDecorator[list[int]]):
    """Many ids bound as one parameter: a JSON array on SQLite, a bigint[] on PostgreSQL.

    For `in_ids`: an IN list of bound values is rendered at execution, one placeholder per id
    (thousands in a sweep batch), which costs more than the statement and cannot be prepared.
    """

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(BigInteger()))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: list[int] | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        ids = [int(item) for item in value]
        return ids if dialect.name == "postgresql" else json.dumps(ids)


class _InIds(ColumnElement[bool]):
    """`column IN (ids)` with the ids in one parameter (see `in_ids`)."""

    inherit_cache = True
    type = Boolean()
    # A predicate already: SQLite must not compare it with 1 as it does a boolean column.
    _is_implicitly_boolean = True
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy declares it as an instance variable)
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[Any], ids: BindParameter[list[int]]) -> None:
        self.column = column
        self.ids = ids


@compiles(_InIds)
def _in_ids_from_json(element: _InIds, compiler: SQLCompiler, **kw: Any) -> str:
    return (f"{compiler.process(element.column, **kw)} IN "
            f"(SELECT value FROM json_each({compiler.process(element.ids, **kw)}))")


@compiles(_InIds, "postgresql")
def _in_ids_from_array(element: _InIds, compiler: SQLCompiler, **kw: Any) -> str:
    return (f"{compiler.process(element.column, **kw)} = "
            f"ANY({compiler.process(element.ids, **kw)})")


def in_ids(column: ColumnElement[Any] | Any, name: str) -> ColumnElement[bool]:
    """`column` is one of the ids bound as `name` (a list of ints), in one parameter however
    many there are, so the statement is compiled once and can be `Prepared`."""
    return _InIds(column, bindparam(name, type_=IdList()))
