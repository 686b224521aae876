"""Hardening: seen request signatures shared by replicas, when a workspace was uninstalled,
room for encrypted Slack tokens

Revision ID: 0003
Revises: 0002_slack_oauth
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.storage.types

revision: str = "0003"
down_revision: str | None = "0002_slack_oauth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Token columns of slack_sdk's tables (0002): a Fernet token of a Slack token (up to ~150
# characters for a refresh token) is about twice as long as the 200 characters they had.
# The migration cannot encrypt (it has no key): plaintext rows are encrypted when `rapport
# serve` starts with RAPPORT_ENCRYPTION_KEY set, or by `rapport rotate-key`.
TOKEN_COLUMNS = {
    "slack_installations": ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
    "slack_bots": ("bot_token", "bot_refresh_token"),
}
WIDE = 1000


def upgrade() -> None:
    op.create_table(
        "seen_signatures",
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("expires_at", rapport.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("signature", name=op.f("pk_seen_signatures")),
    )
    op.create_index(op.f("ix_seen_signatures_expires_at"), "seen_signatures", ["expires_at"])
    op.add_column("workspaces", sa.Column(
        "uninstalled_at", rapport.storage.types.UTCDateTime(timezone=True), nullable=True))
    # SQLite does not enforce VARCHAR lengths, so only PostgreSQL needs the wider columns.
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in TOKEN_COLUMNS.items():
            for column in columns:
                op.alter_column(table, column, type_=sa.String(WIDE),
                                existing_type=sa.String(200))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Fails while encrypted tokens are stored: decrypt (or delete) them first.
        for table, columns in TOKEN_COLUMNS.items():
            for column in columns:
                op.alter_column(table, column, type_=sa.String(200),
                                existing_type=sa.String(WIDE))
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("uninstalled_at")
    op.drop_index(op.f("ix_seen_signatures_expires_at"), table_name="seen_signatures")
    op.drop_table("seen_signatures")
