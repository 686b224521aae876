"""contacts.cadence_own: whether a contact's rhythm is their own (then goals leave it alone)

Revision ID: 0013_cadence_own
Revises: 0012_attendees
Create Date: 2026-12-02 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_cadence_own"
down_revision: str | None = "0012_attendees"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("cadence_own", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("contacts") as batch:
        batch.alter_column("cadence_own", server_default=None)
    # Before this column a contact followed its goals while the two cadences were equal:
    # where they differ, the rhythm was the person's own. (Equal ones can't be told apart.)
    op.execute(sa.text(
        "UPDATE contacts SET cadence_own = true WHERE "
        "(cadence_days IS NULL) <> (goal_cadence_days IS NULL) "
        "OR cadence_days <> goal_cadence_days"))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("cadence_own")
