"""attendees met who are not contacts (to offer adding them), and "add person" suggestions

Revision ID: 0012_attendees
Revises: 0011_chat_capture
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rapport.storage.types import UTCDateTime

revision: str = "0012_attendees"
down_revision: str | None = "0011_chat_capture"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
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
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"],
                                name=op.f("fk_met_attendees_connection_id_connections"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_met_attendees_workspace_id_workspaces"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_met_attendees_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_met_attendees")),
        sa.UniqueConstraint("connection_id", "event_id", "email",
                            name=op.f("uq_met_attendees_connection_id_event_id_email")),
    )
    with op.batch_alter_table("met_attendees") as batch:
        batch.create_index("ix_met_attendees_user_id_email", ["user_id", "email"], unique=False)
        batch.create_index("ix_met_attendees_start_at", ["start_at"], unique=False)
    with op.batch_alter_table("connections") as batch:
        batch.add_column(sa.Column("account_email", sa.String(length=320), nullable=True))
    with op.batch_alter_table("suggestions") as batch:
        batch.add_column(sa.Column("attendee_email", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("attendee_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("attendee_company", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("suggestions") as batch:
        batch.drop_column("attendee_company")
        batch.drop_column("attendee_name")
        batch.drop_column("attendee_email")
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("account_email")
    with op.batch_alter_table("met_attendees") as batch:
        batch.drop_index("ix_met_attendees_start_at")
        batch.drop_index("ix_met_attendees_user_id_email")
    op.drop_table("met_attendees")
