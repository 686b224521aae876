"""users.welcomed_at: the welcome goes out once, whichever front end or replica meets the user

Revision ID: 0006_onboarding
Revises: 0005_contact_first_key
Create Date: 2026-12-02 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.storage.types

revision: str = "0006_onboarding"
down_revision: str | None = "0005_contact_first_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("welcomed_at", rapport.storage.types.UTCDateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("welcomed_at")
