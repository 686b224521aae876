"""contacts.role: what someone does ("VP Sales"), its own field instead of a note

Revision ID: 0016_contact_role
Revises: 0015_name_key_typography
Create Date: 2026-12-03 01:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_contact_role"
down_revision: str | None = "0015_name_key_typography"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Roles given to `add` before this were kept as notes; they can't be told from other
    # notes, so they stay notes (the person can `set Hiro role VP Sales`).
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("role", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("role")
