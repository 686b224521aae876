"""Slack DM capture: chat_grants, chat_channels, captured_chats

Revision ID: 0011_chat_capture
Revises: 0010_person_view
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.storage.types

revision: str = "0011_chat_capture"
down_revision: str | None = "0010_person_view"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = rapport.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "chat_grants",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("external_user_id", sa.String(length=128), nullable=False),
        sa.Column("token_encrypted", sa.Text(), nullable=False),
        sa.Column("scopes", sa.String(length=300), nullable=False),
        sa.Column("granted_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_chat_grants_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_chat_grants_workspace_id_workspaces"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_grants")),
        sa.UniqueConstraint("user_id", "provider", name=op.f("uq_chat_grants_user_id_provider")),
    )
    with op.batch_alter_table("chat_grants") as batch:
        batch.create_index("ix_chat_grants_workspace_id_external_user_id",
                           ["workspace_id", "external_user_id"], unique=False)
    op.create_table(
        "chat_channels",
        sa.Column("id", _ID, nullable=False),
        sa.Column("grant_id", _ID, nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("counterpart_external_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(["grant_id"], ["chat_grants.id"],
                                name=op.f("fk_chat_channels_grant_id_chat_grants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_channels")),
        sa.UniqueConstraint("grant_id", "channel_id",
                            name=op.f("uq_chat_channels_grant_id_channel_id")),
    )
    with op.batch_alter_table("chat_channels") as batch:
        batch.create_index("ix_chat_channels_channel_id", ["channel_id"], unique=False)
    op.create_table(
        "captured_chats",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("touchpoint_id", _ID, nullable=True),
        sa.Column("logged_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"],
                                name=op.f("fk_captured_chats_contact_id_contacts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["touchpoint_id"], ["touchpoints.id"],
                                name=op.f("fk_captured_chats_touchpoint_id_touchpoints"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_captured_chats_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_captured_chats_workspace_id_workspaces"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_captured_chats")),
        sa.UniqueConstraint("user_id", "contact_id", "day",
                            name=op.f("uq_captured_chats_user_id_contact_id_day")),
    )
    with op.batch_alter_table("captured_chats") as batch:
        batch.create_index("ix_captured_chats_contact_id", ["contact_id"], unique=False)
        batch.create_index("ix_captured_chats_touchpoint_id", ["touchpoint_id"], unique=False,
                           sqlite_where=sa.text("touchpoint_id IS NOT NULL"),
                           postgresql_where=sa.text("touchpoint_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_table("captured_chats")
    op.drop_table("chat_channels")
    op.drop_table("chat_grants")
