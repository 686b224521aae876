"""pending_files: Teams' file offers and waiting imports, in the database

Revision ID: 0027_pending_files
Revises: 0026_calendar_touch_index
Create Date: 2026-12-14 10:00:00

An export offered through Teams' file consent and an uploaded contacts file waiting for Import
or Cancel were kept in one process's memory: after a restart, or when the answer reached
another replica, the person was told the offer was no longer open. Each now waits in a row:
the SHA-256 of the card's token, its user, what it is, and an upload's bytes sealed under a key
derived from the token. The answer that deletes the row is the one that counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.storage.types

revision: str = "0027_pending_files"
down_revision: str | None = "0026_calendar_touch_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pending_files",
        sa.Column("id", _ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sealed_content", sa.LargeBinary(), nullable=True),
        sa.Column("expires_at", rapport.storage.types.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("created_at", rapport.storage.types.UTCDateTime(timezone=True),
                  nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_pending_files_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_pending_files_workspace_id_workspaces"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_files")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_pending_files_token_hash")),
    )
    op.create_index("ix_pending_files_user_id", "pending_files", ["user_id"])
    op.create_index("ix_pending_files_expires_at", "pending_files", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_pending_files_expires_at", table_name="pending_files")
    op.drop_index("ix_pending_files_user_id", table_name="pending_files")
    op.drop_table("pending_files")
