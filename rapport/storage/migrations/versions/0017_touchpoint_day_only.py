"""touchpoints.day_only: a conversation logged or corrected for a day rather than a moment,
whatever its source, so a time zone change keeps it on its day

Revision ID: 0017_touchpoint_day_only
Revises: 0016_contact_role
Create Date: 2026-12-03 05:30:00

Before this, only typed logs were recognised as days, by sitting at noon of their day in the
person's zone: that is what the backfill marks. A calendar touchpoint whose day was edited by
hand can't be told from a meeting at noon, so it is left a moment (its next edit marks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op

from rapport.storage.types import UTCDateTime

revision: str = "0017_touchpoint_day_only"
down_revision: str | None = "0016_contact_role"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TYPED_SOURCE = "command"  # as written by this revision's code
NOON = (12, 0, 0, 0)
_TOUCHPOINTS = sa.table("touchpoints", sa.column("id", sa.Integer()),
                        sa.column("user_id", sa.Integer()), sa.column("source", sa.String()),
                        sa.column("happened_at", UTCDateTime()),
                        sa.column("day_only", sa.Boolean()))
_USERS = sa.table("users", sa.column("id", sa.Integer()), sa.column("tz", sa.String()))


def upgrade() -> None:
    with op.batch_alter_table("touchpoints") as batch:
        batch.add_column(sa.Column("day_only", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_TOUCHPOINTS.c.id, _TOUCHPOINTS.c.happened_at, _USERS.c.tz)
        .join(_USERS, _USERS.c.id == _TOUCHPOINTS.c.user_id)
        .where(_TOUCHPOINTS.c.source == TYPED_SOURCE)).all()
    at_noon = [row.id for row in rows if _is_local_noon(row.happened_at, row.tz)]
    for start in range(0, len(at_noon), 500):
        connection.execute(sa.update(_TOUCHPOINTS)
                           .where(_TOUCHPOINTS.c.id.in_(at_noon[start:start + 500]))
                           .values(day_only=True))


def _is_local_noon(moment: datetime, tz_name: str) -> bool:
    try:
        zone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = moment.astimezone(zone)
    return (local.hour, local.minute, local.second, local.microsecond) == NOON


def downgrade() -> None:
    with op.batch_alter_table("touchpoints") as batch:
        batch.drop_column("day_only")
