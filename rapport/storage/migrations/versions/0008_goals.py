"""Goals: tags with a cadence goal, per-person AI control, suggestions and their answers

Revision ID: 0008_goals
Revises: 0007_connections
Create Date: 2026-12-10 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rapport.storage.types import UTCDateTime

revision: str = "0008_goals"
down_revision: str | None = "0007_connections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _owned(table: str) -> list[sa.Column[int] | sa.Constraint]:
    """id, workspace_id and user_id with the cascades every user-scoped table has."""
    return [
        sa.Column("id", Id, nullable=False),
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f(f"fk_{table}_workspace_id_workspaces"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("goal_cadence_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("ai_drafts", sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
        batch.add_column(sa.Column("sensitive", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("contacts") as batch:
        batch.alter_column("ai_drafts", server_default=None)
        batch.alter_column("sensitive", server_default=None)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("suggestions_checked_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("suggestions_silenced", sa.String(120), nullable=False,
                                   server_default=""))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("suggestions_silenced", server_default=None)

    op.create_table(
        "tags",
        *_owned("tags"),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("name_key", sa.String(40), nullable=False),
        sa.Column("goal_cadence_days", sa.Integer(), nullable=True),
        sa.Column("goal_set_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "name_key", name=op.f("uq_tags_user_id_name_key")),
    )
    op.create_table(
        "contact_tags",
        *_owned("contact_tags"),
        sa.Column("contact_id", Id, nullable=False),
        sa.Column("tag_id", Id, nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"],
                                name=op.f("fk_contact_tags_contact_id_contacts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], name=op.f("fk_contact_tags_tag_id_tags"),
                                ondelete="CASCADE"),
        sa.UniqueConstraint("contact_id", "tag_id",
                            name=op.f("uq_contact_tags_contact_id_tag_id")),
    )
    op.create_index("ix_contact_tags_tag_id", "contact_tags", ["tag_id"])
    op.create_index("ix_contact_tags_user_id", "contact_tags", ["user_id"])
    op.create_table(
        "suggestions",
        *_owned("suggestions"),
        sa.Column("contact_id", Id, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("dedupe_key", sa.String(120), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("proposed_days", sa.Integer(), nullable=True),
        sa.Column("proposed_window_start", sa.SmallInteger(), nullable=True),
        sa.Column("proposed_window_end", sa.SmallInteger(), nullable=True),
        sa.Column("proposed_working_days", sa.SmallInteger(), nullable=True),
        sa.Column("current_value", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"],
                                name=op.f("fk_suggestions_contact_id_contacts"),
                                ondelete="CASCADE"),
        sa.UniqueConstraint("user_id", "dedupe_key",
                            name=op.f("uq_suggestions_user_id_dedupe_key")),
    )
    op.create_index("ix_suggestions_user_id_status", "suggestions", ["user_id", "status"])
    op.create_index("ix_suggestions_contact_id", "suggestions", ["contact_id"])


def downgrade() -> None:
    op.drop_table("suggestions")
    op.drop_table("contact_tags")
    op.drop_table("tags")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("suggestions_silenced")
        batch.drop_column("suggestions_checked_at")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("sensitive")
        batch.drop_column("ai_drafts")
        batch.drop_column("goal_cadence_days")
