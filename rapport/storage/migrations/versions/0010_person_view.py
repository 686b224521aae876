"""undo journal, calendar-month rhythms, and the day a noted event happens

Revision ID: 0010_person_view
Revises: 0009_briefs
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.storage.types

revision: str = "0010_person_view"
down_revision: str | None = "0009_briefs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "undo_entries",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("created_at", rapport.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_undo_entries_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_undo_entries_workspace_id_workspaces"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_undo_entries")),
    )
    with op.batch_alter_table("undo_entries") as batch:
        batch.create_index("ix_undo_entries_user_id_id", ["user_id", "id"], unique=False)
        batch.create_index("ix_undo_entries_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("cadence_months", sa.SmallInteger(), nullable=True))
    with op.batch_alter_table("notes") as batch:
        batch.add_column(sa.Column("event_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notes") as batch:
        batch.drop_column("event_on")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("cadence_months")
    with op.batch_alter_table("undo_entries") as batch:
        batch.drop_index("ix_undo_entries_created_at")
        batch.drop_index("ix_undo_entries_user_id_id")
    op.drop_table("undo_entries")
