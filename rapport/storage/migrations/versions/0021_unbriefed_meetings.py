"""captured_events: the brief job's index holds only meetings still to brief

Revision ID: 0021_unbriefed_meetings
Revises: 0020_delivered_messages
Create Date: 2026-12-03 19:30:00

A meeting that has begun needs no brief, so its `brief_sent_at` is set (to its own start,
which says no brief went out: one is always handled before its meeting) and it leaves the
index: from now on a sync marks a meeting it captures after it began, and one that ends
unbriefed, the same way. The index of every meeting's start goes;
`ix_captured_events_user_id_start_at` still serves a user's meetings in time order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from rapport.storage.types import UTCDateTime

revision: str = "0021_unbriefed_meetings"
down_revision: str | None = "0020_delivered_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVENTS = sa.table("captured_events", sa.column("start_at", UTCDateTime()),
                   sa.column("brief_sent_at", UTCDateTime()))
_UNBRIEFED = "brief_sent_at IS NULL"


def upgrade() -> None:
    now = datetime.now(UTC)
    op.get_bind().execute(sa.update(_EVENTS).where(_EVENTS.c.brief_sent_at.is_(None),
                                                   _EVENTS.c.start_at <= now)
                          .values(brief_sent_at=_EVENTS.c.start_at))
    with op.batch_alter_table("captured_events") as batch:
        batch.drop_index("ix_captured_events_start_at")
        batch.create_index("ix_captured_events_unbriefed_start_at", ["start_at"],
                           sqlite_where=sa.text(_UNBRIEFED),
                           postgresql_where=sa.text(_UNBRIEFED))


def downgrade() -> None:
    # The meetings marked handled stay marked: they had begun, so no brief is lost.
    with op.batch_alter_table("captured_events") as batch:
        batch.drop_index("ix_captured_events_unbriefed_start_at")
        batch.create_index("ix_captured_events_start_at", ["start_at"])
