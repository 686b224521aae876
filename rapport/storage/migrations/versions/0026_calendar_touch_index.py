"""touchpoints: an index of calendar touchpoints by contact and time

Revision ID: 0026_calendar_touch_index
Revises: 0025_name_key_pictures
Create Date: 2026-12-07 10:00:00

`log` reads the contact together with the newest meeting the calendar logged with them
(`queries.touch_state`). Through `ix_touchpoints_contact_id_happened_at` both SQLite and
PostgreSQL walked every touchpoint of the contact, newest first, looking for a calendar one:
for someone with many typed touchpoints and no meeting, all of them on every `log`. The
partial index holds calendar touchpoints alone; the query spells its condition with the same
literal, so PostgreSQL's generic plan of the prepared statement can use it too.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_calendar_touch_index"
down_revision: str | None = "0025_name_key_pictures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_touchpoints_calendar_contact_id_happened_at"
# As rapport.storage.models.CALENDAR_SOURCE_SQL was when this was written.
_CALENDAR = "source = 'calendar'"


def upgrade() -> None:
    op.create_index(INDEX, "touchpoints", ["contact_id", "happened_at"],
                    sqlite_where=sa.text(_CALENDAR), postgresql_where=sa.text(_CALENDAR))


def downgrade() -> None:
    op.drop_index(INDEX, table_name="touchpoints")
