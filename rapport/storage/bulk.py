"""Many rows through one statement at the driver's pace, for the writes a calendar sync makes
by the hundred: a Core statement compiled once per dialect, its rows handed to the driver's
executemany as tuples, each value through its type's bind processor only where it has one.

`Connection.execute(statement, rows)` does the same work with SQLAlchemy's bookkeeping per row
(a parameter dict built and processed key by key), which costs more than SQLite's insert of
the row itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # The row's values in the statement's order, in one C call.
    values: Callable[[Mapping[str, Any]], Any]
    # (position, processor) of the values that need one (on SQLite: the datetimes).
    processed: tuple[tuple[int, Callable[[Any], Any]], ...]


class Prepared:
    """An INSERT or UPDATE without RETURNING, run for many rows of the same keys."""

    def __init__(self, statement: UpdateBase, keys: Sequence[str]) -> None:
        self.statement = statement
        self.keys = tuple(keys)
        self._compiled: dict[str, _Compiled | None] = {}

    def _compile(self, session: Session) -> _Compiled | None:
        dialect = session.get_bind().dialect
        if dialect.name in self._compiled:
            return self._compiled[dialect.name]
        compiled = self.statement.compile(dialect=dialect, column_keys=list(self.keys))
        names = compiled.positiontup
        prepared = None
        if dialect.positional and names is not None and set(names) <= set(self.keys) \
                and not compiled.literal_execute_params and not compiled.post_compile_params:
            processors = [compiled.binds[name].type.dialect_impl(dialect)
                          .bind_processor(dialect) for name in names]
            get = itemgetter(*names)
            prepared = _Compiled(
                sql=compiled.string,
                values=get if len(names) > 1 else (lambda row: (get(row),)),
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
        prepared = self._compile(session)
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
        session.connection().exec_driver_sql(prepared.sql, params)
