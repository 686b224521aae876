"""Statements built and compiled once: the queries every command runs (`Prepared`) and the
writes a calendar sync makes by the hundred (`PreparedMany`).

Building a SQLAlchemy statement, computing its cache key and going through the ORM's execute
path costs about 150-300 microseconds of Python per statement; SQLite itself needs about 15.
A command runs ten or so statements, so on the command path that overhead, not the database,
was most of a command's cost (docs/performance.md). A `Prepared` statement is built once at
import, with named `bindparam`s for what varies; it is compiled once per dialect. It then runs
straight on the DB-API connection, with SQLAlchemy's own bind and result processors for each
column's type, so values go in and come out exactly as through SQLAlchemy: on a SQLite file
the unit's `sqlite3` connection, on PostgreSQL SQLAlchemy's adapter of asyncpg (which keeps
asyncpg's server-side prepared statements per connection); the driver's errors come out as
SQLAlchemy's, a lost connection invalidated as SQLAlchemy would. Elsewhere (aiosqlite in
memory) it runs through the Core connection, which skips only the building and the ORM
layer. A `PreparedMany` hands many rows to the driver's executemany.
`in_json_list` is an IN list a prepared statement can hold: its values as one JSON array.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Boolean, Executable, Table, Text, bindparam, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.expression import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

from rapport.storage.types import UTCDateTime, remember

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Plan:
    """A statement as the SQLite driver takes it."""

    sql: str
    # Per positional parameter: (its bind name, or None with a fixed value as the constant;
    # the constant; SQLAlchemy's bind processor for it).
    steps: tuple[tuple[str | None, Any, _Processor], ...]
    # (position, processor) of the result columns that have one: most columns (ints, text)
    # come from the driver as they are, and a wide row should not pay for them.
    result_processors: tuple[tuple[int, Callable[[Any], Any]], ...]


_NO_PLAN = _Plan("", (), ())


class Prepared:
    """A statement with named parameters, built once and compiled once per dialect."""

    __slots__ = ("_plans", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._plans: dict[type[Dialect], _Plan] = {}

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(type(dialect))
        if plan is None:
            plan = self._plans[type(dialect)] = _compile(self.statement, dialect)
        return plan

    def _driver(self, session: Session) -> tuple[_Driver | None, _Plan]:
        driver: _Driver | None = session.info.get(_DRIVER)
        if driver is None:
            # Not inside a unit on the SQLite thread: the session's connection of the moment
            # (asked each time: a session may move to another connection after a commit).
            driver = _driver_of(session.connection())
            if driver is None:
                return None, _NO_PLAN
        return driver, self._plan(driver.dialect)

    def rows(self, session: Session, **params: Any) -> list[tuple[Any, ...]]:
        """Every row, as tuples."""
        driver, plan = self._driver(session)
        if driver is None:
            return [tuple(row) for row in session.connection().execute(self.statement, params)]
        cursor = driver.execute(plan.sql, _arguments(plan, params))
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        cursor.close()
        processors = plan.result_processors
        if not processors and (not rows or isinstance(rows[0], tuple)):
            return rows  # `sqlite3` gives tuples already: nothing to convert
        return [_processed(processors, row) for row in rows]

    def first(self, session: Session, **params: Any) -> tuple[Any, ...] | None:
        """The first row, or None."""
        driver, plan = self._driver(session)
        if driver is None:
            row = session.connection().execute(self.statement, params).first()
            return tuple(row) if row is not None else None
        cursor = driver.execute(plan.sql, _arguments(plan, params))
        found = cursor.fetchone()
        cursor.close()
        return _processed(plan.result_processors, found) if found is not None else None

    def scalar(self, session: Session, **params: Any) -> Any:
        """The first column of the first row, or None."""
        row = self.first(session, **params)
        return row[0] if row is not None else None

    def execute(self, session: Session, **params: Any) -> int:
        """Run a statement that returns no rows; the number of rows it changed."""
        driver, plan = self._driver(session)
        if driver is None:
            result = session.connection().execute(self.statement, params)
            return int(result.rowcount)
        cursor = driver.execute(plan.sql, _arguments(plan, params))
        changed = int(cursor.rowcount)
        cursor.close()
        return changed


@dataclass(frozen=True, slots=True)
class _Driver:
    """A unit's DB-API connection: `sqlite3`'s own, or SQLAlchemy's adapter of asyncpg (whose
    calls await the driver from inside the unit's greenlet), and the SQLAlchemy connection
    it belongs to."""

    connection: Any
    dialect: Dialect
    owner: Connection

    def execute(self, sql: str, arguments: Sequence[Any]) -> Any:
        """A cursor that ran `sql`; the driver's errors raised as SQLAlchemy's."""
        cursor = self.connection.cursor()
        with _as_sqlalchemy_errors(sql, self):
            cursor.execute(sql, arguments)
        return cursor


_DRIVER = "rapport.sqlite_driver"


def attach_driver(session: Session, connection: Connection) -> None:
    """Remember the unit's own `sqlite3` connection on its session: a prepared statement
    then skips asking the session for its connection (a measurable part of a fast query)."""
    driver = _driver_of(connection)
    if driver is not None and isinstance(driver.connection, sqlite3.Connection):
        session.info[_DRIVER] = driver


def sqlite_connection(session: Session) -> sqlite3.Connection | None:
    """The `sqlite3` connection of the unit `session` belongs to, when it has one attached."""
    driver: _Driver | None = session.info.get(_DRIVER)
    return driver.connection if driver is not None else None


def _driver_of(connection: Connection) -> _Driver | None:
    """The connection's DB-API connection when a prepared statement can run on it directly:
    `sqlite3` (a SQLite file's unit) or asyncpg (through SQLAlchemy's adapter, which keeps
    its cache of server-side prepared statements); None for others (aiosqlite in memory)."""
    pooled = connection.connection
    if isinstance(pooled.driver_connection, sqlite3.Connection):
        return _Driver(pooled.driver_connection, connection.dialect, connection)
    if connection.dialect.driver == "asyncpg":
        return _Driver(pooled.dbapi_connection, connection.dialect, connection)
    return None


@contextmanager
def _as_sqlalchemy_errors(sql: str, driver: _Driver) -> Iterator[None]:
    """The driver's errors as SQLAlchemy raises them (IntegrityError, OperationalError, ...):
    callers that tell a busy database or a conflict from a bug catch those. A lost
    connection is invalidated and says so (`connection_invalidated`), as SQLAlchemy does, so
    a unit of work on PostgreSQL runs once more on a fresh connection."""
    dbapi_error = driver.dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as error:
        lost = driver.dialect.is_disconnect(error, driver.connection, None)
        if lost:
            driver.owner.invalidate(error)
        raise DBAPIError.instance(sql, None, error, dbapi_error, connection_invalidated=lost,
                                  dialect=driver.dialect) from error


def _arguments(plan: _Plan, params: Mapping[str, Any]) -> tuple[Any, ...]:
    # One pass, without a generator: a page runs this for each of its dozen statements.
    arguments = []
    for name, constant, processor in plan.steps:
        value = params[name] if name is not None else constant
        arguments.append(processor(value) if processor is not None else value)
    return tuple(arguments)


def _processed(processors: tuple[tuple[int, Callable[[Any], Any]], ...], row: Sequence[Any]
               ) -> tuple[Any, ...]:
    if not processors:
        return row if isinstance(row, tuple) else tuple(row)  # asyncpg gives Records
    values = list(row)
    for position, processor in processors:
        values[position] = processor(values[position])
    return tuple(values)


def _renders_at_execution(compiled: SQLCompiler) -> bool:
    """Whether SQLAlchemy completes the SQL as it executes (IN lists, literal parameters)."""
    return bool(compiled.literal_execute_params or compiled.post_compile_params)


def _bind_processor(compiled: SQLCompiler, name: str, dialect: Dialect) -> _Processor:
    """What SQLAlchemy does to the parameter `name` before the driver gets it."""
    return compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)


def _compile(statement: Executable, dialect: Dialect) -> _Plan:
    if not isinstance(statement, ClauseElement):
        raise TypeError("only SQL expression statements can be prepared")
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    order = compiled.positiontup
    if order is None:
        raise ValueError(f"{dialect.name} does not take positional parameters")
    steps: list[tuple[str | None, Any, _Processor]] = []
    for key in order:
        bind = compiled.binds[key]
        # A bindparam named by the caller (`bindparam("user_id")`) varies; one SQLAlchemy
        # made for a literal (`column == 5`, `.limit(1)`) is fixed in the statement.
        steps.append((bind.key if bind.required else None,
                      None if bind.required else bind.effective_value,
                      _bind_processor(compiled, key, dialect)))
    # SQLAlchemy computes Python-side defaults (`default=`, `onupdate=`) as it executes; the
    # driver would not, so a prepared INSERT or UPDATE must set those columns itself.
    prefetched = [column.key for column in (*compiled.insert_prefetch,
                                            *compiled.update_prefetch)]
    if prefetched:
        raise ValueError(f"a prepared statement must set {', '.join(prefetched)} itself")
    if _renders_at_execution(compiled):
        raise ValueError("statements with parameters rendered at execution cannot be prepared")
    sql = compiled.string
    columns = statement.exported_columns if hasattr(statement, "exported_columns") else ()
    processors = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                  for column in columns]
    result_processors = tuple((position, processor)
                              for position, processor in enumerate(processors)
                              if processor is not None)
    return _Plan(sql, tuple(steps), result_processors)


@dataclass(frozen=True, slots=True)
class _ManyPlan:
    sql: str
    # The row's values in the statement's order, in one C call.
    values: Callable[[Mapping[str, Any]], Any]
    # (position, processor) of the values that need one (on SQLite: the datetimes).
    processed: tuple[tuple[int, Callable[[Any], Any]], ...]


class PreparedMany:
    """An INSERT or UPDATE without RETURNING, run for many rows of the same keys (what a
    calendar sync writes by the hundred, what the sweep records per wave): its rows go to the
    driver's executemany as tuples, each value through its type's bind processor only where it
    has one. Values fixed in the statement (`.values(status="sent")`, `attempts + 1`) are
    passed with every row, as `Prepared` does.
    `Connection.execute(statement, rows)` does the same work with SQLAlchemy's bookkeeping
    per row (a parameter dict built and processed key by key), which costs more than SQLite's
    insert of the row itself."""

    def __init__(self, statement: UpdateBase, keys: Sequence[str]) -> None:
        self.statement = statement
        self.keys = tuple(keys)
        self._compiled: dict[str, _ManyPlan | None] = {}

    def _compile(self, dialect: Dialect) -> _ManyPlan | None:
        if dialect.name in self._compiled:
            return self._compiled[dialect.name]
        compiled = self.statement.compile(dialect=dialect, column_keys=list(self.keys))
        names = compiled.positiontup
        prepared = None
        constants = {name: compiled.binds[name].effective_value for name in names or ()
                     if name not in self.keys and not compiled.binds[name].required}
        if dialect.positional and names is not None \
                and set(names) <= set(self.keys) | set(constants) \
                and not _renders_at_execution(compiled):
            processors = [_bind_processor(compiled, name, dialect) for name in names]
            get = itemgetter(*names)
            values = get if len(names) > 1 else (lambda row: (get(row),))
            prepared = _ManyPlan(
                sql=compiled.string,
                values=values if not constants
                else (lambda row: values({**constants, **row})),
                processed=tuple((position, process)
                                for position, process in enumerate(processors)
                                if process is not None))
        # None: a dialect this cannot serve (named parameters), which takes the usual way.
        self._compiled[dialect.name] = prepared
        return prepared

    def executemany(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement once per row (each row a mapping of `keys`)."""
        if not rows:
            return
        # Inside a unit on a SQLite file: its own driver connection, as `Prepared` uses.
        attached: _Driver | None = session.info.get(_DRIVER)
        prepared = self._compile(attached.dialect if attached is not None
                                 else session.get_bind().dialect)
        if prepared is None:
            session.connection().execute(self.statement, list(rows))
            return
        values, processed = prepared.values, prepared.processed
        if not processed:
            params = [values(row) for row in rows]
        else:
            params = []
            for row in rows:
                row_values = list(values(row))
                for position, process in processed:
                    row_values[position] = process(row_values[position])
                params.append(tuple(row_values))
        if attached is None:
            session.connection().exec_driver_sql(prepared.sql, params)
            return
        with _as_sqlalchemy_errors(prepared.sql, attached):
            attached.connection.executemany(prepared.sql, params)


def json_text(values: Any) -> str:
    """JSON as compact text, non-ASCII as it is: a JSON parameter (the database parses it)
    or a column that holds JSON (the undo journal's payloads).

    orjson writes the same text as `json.dumps(values, ensure_ascii=False,
    separators=(",", ":"))` a tenth of the time: a calendar page's rows went through the
    standard encoder in a fifth of the database thread's Python (docs/performance.md,
    session 14). Text, not orjson's bytes: SQLite would bind bytes as a BLOB, which its JSON
    functions read as JSONB."""
    return orjson.dumps(values).decode()


class JsonList(TypeDecorator[Iterable[Any]]):
    """Values (ids, strings) bound as the text of one JSON array."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Iterable[Any] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json_text(list(value))


class _InJsonList(ColumnElement[bool]):
    """`column [NOT] IN` the elements of a JSON array parameter (see `in_json_list`)."""

    __visit_name__ = "in_json_list"
    inherit_cache = True
    # SQLAlchemy's own spelling of what makes up the cache key (a list, as it declares it).
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),  # noqa: RUF012
                           ("values", InternalTraversal.dp_clauseelement),
                           ("negated", InternalTraversal.dp_boolean)]
    type = Boolean()
    # A predicate as it stands: no "= 1" added where the database has no boolean type.
    _is_implicitly_boolean = True

    def __init__(self, column: ColumnElement[Any], values: BindParameter[Any],
                 negated: bool) -> None:
        self.column = column
        self.values = values
        self.negated = negated


def in_json_list(column: ColumnElement[Any] | QueryableAttribute[Any], name: str, *,
                 negated: bool = False) -> ColumnElement[bool]:
    """`column IN` (or `NOT IN`) the values of the list given as parameter `name`.

    An expanding IN is rendered anew at each execution, one placeholder per value, which a
    `Prepared` statement cannot hold and which costs SQLAlchemy more than SQLite's lookup of
    the values; this is one fixed statement whatever the list's length, with no limit on
    bound parameters either."""
    if isinstance(column, QueryableAttribute):
        column = column.expression
    return _InJsonList(column, bindparam(name, type_=JsonList()), negated)


@compiles(_InJsonList, "sqlite")
def _in_json_list_sqlite(element: _InJsonList, compiler: SQLCompiler, **kw: Any) -> str:
    operator = "NOT IN" if element.negated else "IN"
    return (f"{compiler.process(element.column, **kw)} {operator} "
            f"(SELECT value FROM json_each({compiler.process(element.values, **kw)}))")


@compiles(_InJsonList, "postgresql")
def _in_json_list_postgresql(element: _InJsonList, compiler: SQLCompiler, **kw: Any) -> str:
    # An array, not IN (subquery): PostgreSQL plans an IN over a set-returning function as a
    # hash join over the whole table, but `= ANY(array)` as a lookup in the column's index.
    # The elements come out as text, cast back to the column's own type.
    element_type = compiler.dialect.type_compiler_instance.process(element.column.type)
    operator = "<> ALL" if element.negated else "= ANY"
    return (f"{compiler.process(element.column, **kw)} {operator} (ARRAY("
            f"SELECT CAST(value AS {element_type}) FROM jsonb_array_elements_text("
            f"CAST({compiler.process(element.values, **kw)} AS JSONB))))")


@cache
def json_moment(dialect_name: str) -> Callable[[datetime], str]:
    """A moment as text in a JSON parameter: on SQLite the very text `UTCDateTime` binds
    (moments are compared and sorted as text there), elsewhere ISO 8601 with its offset.
    Built once per dialect: a dialect object costs more to make than a page's moments."""
    if dialect_name == "sqlite":
        bind = UTCDateTime().bind_processor(sqlite.dialect())
        assert bind is not None
        return bind
    # As on SQLite (`UTCDateTime`), the text of a moment met lately is looked up, not made
    # again: a calendar page's rows repeat a few meeting moments. An equal moment in another
    # zone is the same instant, which the database reads back the same from either text.
    texts: dict[datetime, str] = {}

    def iso(value: datetime) -> str:
        text = texts.get(value)
        return text if text is not None else remember(texts, value, value.isoformat())

    return iso


class _JsonRows:
    """What the statements below share: the rows of one call as one JSON array parameter,
    each row a tuple of `per_row` columns' values, moments converted as their columns would
    bind them; the statement built once per dialect and run as a `Prepared` one."""

    def __init__(self, table: Table, shared: Sequence[str], per_row: Sequence[str],
                 returning: Sequence[str]) -> None:
        self.table = table
        self.shared = tuple(shared)
        self.per_row = tuple(per_row)
        self.returning = tuple(returning)
        self._moments = tuple(position for position, name in enumerate(self.per_row)
                              if isinstance(table.c[name].type, UTCDateTime))
        self._prepared: dict[str, Prepared] = {}

    def _statement(self, dialect: Dialect) -> Prepared:
        prepared = self._prepared.get(dialect.name)
        if prepared is None:
            sql = self._sql(dialect)
            columns = self.table.c
            statement = text(sql).bindparams(
                bindparam("rows", type_=Text()),
                *(bindparam(name, type_=columns[name].type) for name in self.shared))
            prepared = self._prepared[dialect.name] = Prepared(
                statement.columns(*(columns[name] for name in self.returning))
                if self.returning else statement)
        return prepared

    def _sql(self, dialect: Dialect) -> str:
        raise NotImplementedError

    def _sql_type(self, dialect: Dialect, name: str) -> str:
        return dialect.type_compiler_instance.process(self.table.c[name].type)

    def _json(self, rows: Iterable[Sequence[Any]], dialect_name: str) -> str:
        if self._moments:
            # On SQLite a moment bound lately is looked up rather than formatted again
            # (`UTCDateTime`): meetings start and end on few distinct instants.
            moment = json_moment(dialect_name)
            positions = self._moments
            converted = []
            for row in rows:
                values = list(row)
                for position in positions:
                    value = values[position]
                    if value is not None:
                        values[position] = moment(value)
                converted.append(values)
            rows = converted
        else:
            rows = list(rows)
        return json_text(rows)

    def execute(self, session: Session, rows: Iterable[Sequence[Any]], **shared: Any) -> int:
        """Write the rows; how many rows were written."""
        dialect = _dialect(session)
        return self._statement(dialect).execute(
            session, rows=self._json(rows, dialect.name), **shared)

    def rows(self, session: Session, rows: Iterable[Sequence[Any]], **shared: Any
             ) -> list[tuple[Any, ...]]:
        """Write the rows; what `returning` returns for each."""
        dialect = _dialect(session)
        return self._statement(dialect).rows(
            session, rows=self._json(rows, dialect.name), **shared)


def _dialect(session: Session) -> Dialect:
    """The session's dialect: the unit's own driver's when it has one (asking the session for
    its bind goes through the ORM's machinery, a measurable part of a page's statements)."""
    driver: _Driver | None = session.info.get(_DRIVER)
    return driver.dialect if driver is not None else session.get_bind().dialect


def _json_source(dialect: Dialect) -> tuple[str, Callable[[int], str]]:
    """The FROM item that makes rows of the JSON parameter, and how to read a row's value at
    a position (as text on PostgreSQL, to be cast; as its SQL value on SQLite)."""
    if dialect.name == "sqlite":
        return "json_each(:rows) AS json_rows", lambda position: f"json_rows.value ->> {position}"
    if dialect.name == "postgresql":
        return ("jsonb_array_elements(CAST(:rows AS JSONB)) AS json_rows(json_row)",
                lambda position: f"json_rows.json_row ->> {position}")
    raise ValueError(f"no JSON rows on {dialect.name}")


class JsonRowsInsert(_JsonRows):
    """An INSERT of many rows in one statement, the rows one JSON array parameter: for the
    writes a calendar sync makes by the dozen, where binding each value (`PreparedMany`, or
    SQLAlchemy's many-values INSERT for RETURNING) cost as much as the database's insert, and
    on PostgreSQL each row or batch was a round trip.

    `shared` columns take one value for every row (keyword arguments); `per_row` columns come
    from each row's tuple, in that order, moments included (converted as their columns would
    bind them). `tail` follows the SELECT: ON CONFLICT and RETURNING clauses, spelled alike on
    SQLite and PostgreSQL; `returning` names the columns it returns, read back through their
    types."""

    def __init__(self, table: Table, shared: Sequence[str], per_row: Sequence[str], *,
                 tail: str = "", returning: Sequence[str] = ()) -> None:
        super().__init__(table, shared, per_row, returning)
        self.tail = tail
        # Python-side defaults are SQLAlchemy's to fill in as it executes; this statement is
        # text, so every column that has one must be given.
        unset = [column.name for column in table.columns if column.default is not None
                 and column.name not in (*self.shared, *self.per_row)]
        if unset:
            raise ValueError(f"JSON rows must set {', '.join(unset)} themselves")

    def _sql(self, dialect: Dialect) -> str:
        source, value_at = _json_source(dialect)
        if dialect.name == "sqlite":
            values = [f":{name}" for name in self.shared]
            values += [value_at(position) for position in range(len(self.per_row))]
            # SQLite's grammar needs a WHERE between a SELECT's FROM and ON CONFLICT.
            source += " WHERE true"
        else:
            values = [f"CAST(:{name} AS {self._sql_type(dialect, name)})"
                      for name in self.shared]
            values += [f"CAST({value_at(position)} AS {self._sql_type(dialect, name)})"
                       for position, name in enumerate(self.per_row)]
        names = ", ".join((*self.shared, *self.per_row))
        return (f"INSERT INTO {self.table.name} ({names}) SELECT {', '.join(values)} "
                f"FROM {source} {self.tail}")


class JsonRowsUpdate(_JsonRows):
    """An UPDATE of many rows, each by its `key`, in one statement: the rows one JSON array
    parameter of tuples (key, *per_row values). Where `PreparedMany` ran the statement once
    per row, on SQLite each row's step let go of the GIL and waited to take it back from
    the busy event loop's thread (a calendar page's clocks and logged marks cost 5–10x
    SQLite's own work that way), and on PostgreSQL each row was a statement of its own.

    `shared` columns take one value for every row (keyword arguments). Keys are assumed
    distinct: a key given twice is updated with one of its rows."""

    def __init__(self, table: Table, key: str, shared: Sequence[str],
                 per_row: Sequence[str]) -> None:
        super().__init__(table, shared, (key, *per_row), ())
        self.key = key

    def _sql(self, dialect: Dialect) -> str:
        source, value_at = _json_source(dialect)
        postgresql = dialect.name == "postgresql"

        def cast(value: str, name: str) -> str:
            return f"CAST({value} AS {self._sql_type(dialect, name)})" if postgresql else value

        assignments = [f"{name} = {cast(f':{name}', name)}" for name in self.shared]
        assignments += [f"{name} = {cast(value_at(position), name)}"
                        for position, name in enumerate(self.per_row) if position > 0]
        table = self.table.name
        return (f"UPDATE {table} SET {', '.join(assignments)} FROM {source} "
                f"WHERE {table}.{self.key} = {cast(value_at(0), self.key)}")
