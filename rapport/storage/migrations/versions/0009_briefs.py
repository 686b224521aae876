"""Meeting briefs: each user's lead time (users.prep_minutes) and the brief sent for a meeting
(captured_events.brief_sent_at), so at most one brief goes out per meeting

Revision ID: 0009_briefs
Revises: 0008_goals
Create Date: 2026-12-02 12:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rapport.storage.types import UTCDateTime

revision: str = "0009_briefs"
down_revision: str | None = "0008_goals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("prep_minutes", sa.SmallInteger(), nullable=False,
                                   server_default="30"))
    with op.batch_alter_table("captured_events") as batch:
        batch.add_column(sa.Column("brief_sent_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("captured_events") as batch:
        batch.drop_column("brief_sent_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("prep_minutes")
