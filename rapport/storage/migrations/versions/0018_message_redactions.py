"""message_redactions: delivered messages about someone forgotten, still to be redacted

Revision ID: 0018_message_redactions
Revises: 0017_touchpoint_day_only
Create Date: 2026-12-03 06:00:00

Messages delivered before this revision about people forgotten before it are not found any
more (their nudges are deleted); only forgets from now on queue their messages.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rapport.storage.types import UTCDateTime

revision: str = "0018_message_redactions"
down_revision: str | None = "0017_touchpoint_day_only"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message_redactions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("workspace_external_id", sa.String(128), nullable=False),
        sa.Column("message_ref", sa.Text(), nullable=False),
        sa.Column("conversation_json", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_message_redactions_next_attempt_at", "message_redactions",
                    ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_message_redactions_next_attempt_at", table_name="message_redactions")
    op.drop_table("message_redactions")
