"""people met: one row per connection and person (met_people) holding their meetings as a JSON
list, instead of one row per meeting and person (met_attendees); forgotten_addresses

Revision ID: 0019_met_people
Revises: 0018_message_redactions
Create Date: 2026-12-03 05:30:00

A calendar page wrote about 125 rows of people met on a first sync, most of a sync's database
time; one row per person is about 40 (docs/performance.md, session 8). Existing rows are folded
into lists, oldest meeting first; a person's display name is the last one their meetings gave.
Downgrading unfolds the lists into one row per meeting again, each with the person's name.

forgotten_addresses keeps a salted hash of the email of each person the user forgot, so a
calendar never offers them again (rapport.storage.forgotten); downgrading drops it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import groupby
from json.encoder import encode_basestring
from typing import Any

import sqlalchemy as sa
from alembic import op

from rapport.storage.types import UTCDateTime

revision: str = "0019_met_people"
down_revision: str | None = "0018_message_redactions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BATCH = 1000

_OLD = sa.table("met_attendees", sa.column("id", Id), sa.column("connection_id", Id),
                sa.column("workspace_id", Id), sa.column("user_id", Id),
                sa.column("event_id", sa.String()), sa.column("series_id", sa.String()),
                sa.column("email", sa.String()), sa.column("display_name", sa.String()),
                sa.column("start_at", UTCDateTime()), sa.column("end_at", UTCDateTime()))
_NEW = sa.table("met_people", sa.column("id", Id), sa.column("connection_id", Id),
                sa.column("workspace_id", Id), sa.column("user_id", Id),
                sa.column("email", sa.String()), sa.column("display_name", sa.String()),
                sa.column("meetings", sa.Text()), sa.column("first_start_at", UTCDateTime()))


# The list format of met_people.meetings as this revision writes it (rapport.storage.met at
# 0019), frozen here: the revision must keep writing and reading that format whatever met.py
# becomes. Each meeting is [event id, series id or null, start, end], oldest first, moments
# in whole microseconds since 1970-01-01 UTC.
_Entry = tuple[str, str | None, int, int]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _entry(event_id: str, series_id: str | None, start: datetime, end: datetime) -> _Entry:
    return (event_id, series_id, (start - _EPOCH) // _MICROSECOND,
            (end - _EPOCH) // _MICROSECOND)


def _ordered(entries: Iterable[_Entry]) -> list[_Entry]:
    return sorted(entries, key=lambda entry: (entry[2], entry[0]))


def _encode(entries: Sequence[_Entry]) -> str:
    return "[" + ",".join(
        f"[{encode_basestring(event_id)},"
        f"{'null' if series_id is None else encode_basestring(series_id)},{start},{end}]"
        for event_id, series_id, start, end in entries) + "]"


def _moment(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _meetings(text: str) -> list[tuple[str, str | None, datetime, datetime]]:
    """(event id, series id, start, end) of each meeting of a list, oldest first."""
    return [(str(event_id), series_id, _moment(int(start)), _moment(int(end)))
            for event_id, series_id, start, end in json.loads(text)]


def _foreign_keys(table: str) -> list[sa.ForeignKeyConstraint]:
    return [sa.ForeignKeyConstraint([column], [f"{parent}.id"],
                                    name=op.f(f"fk_{table}_{column}_{parent}"),
                                    ondelete="CASCADE")
            for column, parent in (("connection_id", "connections"),
                                   ("workspace_id", "workspaces"), ("user_id", "users"))
            if table != "forgotten_addresses" or column != "connection_id"]


def _create_met_attendees() -> None:
    op.create_table(
        "met_attendees",
        sa.Column("id", Id, nullable=False),
        sa.Column("connection_id", Id, nullable=False),
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("event_id", sa.String(length=1024), nullable=False),
        sa.Column("series_id", sa.String(length=1024), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("start_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_at", UTCDateTime(timezone=True), nullable=False),
        *_foreign_keys("met_attendees"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_met_attendees")),
        sa.UniqueConstraint("connection_id", "event_id", "email",
                            name=op.f("uq_met_attendees_connection_id_event_id_email")),
    )
    with op.batch_alter_table("met_attendees") as batch:
        batch.create_index("ix_met_attendees_user_id_email", ["user_id", "email"], unique=False)
        batch.create_index("ix_met_attendees_start_at", ["start_at"], unique=False)


def _drop_met_attendees() -> None:
    with op.batch_alter_table("met_attendees") as batch:
        batch.drop_index("ix_met_attendees_start_at")
        batch.drop_index("ix_met_attendees_user_id_email")
    op.drop_table("met_attendees")


def _in_batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _folded(connection: sa.Connection) -> Iterator[dict[str, Any]]:
    """One met_people row per (connection, email) of met_attendees."""
    rows = connection.execute(sa.select(_OLD).order_by(
        _OLD.c.connection_id, _OLD.c.email, _OLD.c.start_at, _OLD.c.id)).all()
    for (connection_id, email), group in groupby(rows, key=lambda row: (row.connection_id,
                                                                       row.email)):
        meetings = list(group)
        names = [row.display_name for row in meetings if row.display_name]
        entries = _ordered(_entry(row.event_id, row.series_id, row.start_at, row.end_at)
                           for row in meetings)
        yield {"connection_id": connection_id, "workspace_id": meetings[0].workspace_id,
               "user_id": meetings[0].user_id, "email": email,
               "display_name": names[-1] if names else None,
               "meetings": _encode(entries), "first_start_at": _moment(entries[0][2])}


def _unfolded(connection: sa.Connection) -> Iterator[dict[str, Any]]:
    """One met_attendees row per meeting of each met_people list."""
    for row in connection.execute(sa.select(_NEW).order_by(_NEW.c.id)).all():
        for event_id, series_id, start, end in _meetings(row.meetings):
            yield {"connection_id": row.connection_id, "workspace_id": row.workspace_id,
                   "user_id": row.user_id, "event_id": event_id, "series_id": series_id,
                   "email": row.email, "display_name": row.display_name, "start_at": start,
                   "end_at": end}


def upgrade() -> None:
    op.create_table(
        "met_people",
        sa.Column("id", Id, nullable=False),
        sa.Column("connection_id", Id, nullable=False),
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("meetings", sa.Text(), nullable=False),
        sa.Column("first_start_at", UTCDateTime(timezone=True), nullable=False),
        *_foreign_keys("met_people"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_met_people")),
        sa.UniqueConstraint("connection_id", "email",
                            name=op.f("uq_met_people_connection_id_email")),
    )
    with op.batch_alter_table("met_people") as batch:
        batch.create_index("ix_met_people_user_id_email", ["user_id", "email"], unique=False)
        batch.create_index("ix_met_people_first_start_at", ["first_start_at"], unique=False)
    op.create_table(
        "forgotten_addresses",
        sa.Column("id", Id, nullable=False),
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("forgotten_at", UTCDateTime(timezone=True), nullable=False),
        *_foreign_keys("forgotten_addresses"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forgotten_addresses")),
        sa.UniqueConstraint("user_id", "digest",
                            name=op.f("uq_forgotten_addresses_user_id_digest")),
    )
    connection = op.get_bind()
    for rows in _in_batches(_folded(connection)):
        connection.execute(_NEW.insert(), rows)
    _drop_met_attendees()


def downgrade() -> None:
    _create_met_attendees()
    connection = op.get_bind()
    for rows in _in_batches(_unfolded(connection)):
        connection.execute(_OLD.insert(), rows)
    with op.batch_alter_table("met_people") as batch:
        batch.drop_index("ix_met_people_first_start_at")
        batch.drop_index("ix_met_people_user_id_email")
    op.drop_table("met_people")
    op.drop_table("forgotten_addresses")
