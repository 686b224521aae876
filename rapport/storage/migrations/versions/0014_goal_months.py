"""Goals in months give their followers a rhythm in calendar months

Revision ID: 0014_goal_months
Revises: 0013_cadence_own
Create Date: 2026-12-03 01:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_goal_months"
down_revision: str | None = "0013_cadence_own"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A goal set as "every month" (stored as 30 days; a year as 365) used to give the people
    # following it a 30-day rhythm, shown as "every 4 weeks"; they now count calendar months,
    # as `every … monthly` does (rapport.scheduler.planner.goal_months). Only the rhythm's
    # unit is set here: each person's next nudge keeps its day, and the next conversation
    # counts in months.
    op.execute(sa.text(
        "UPDATE contacts SET cadence_months = CASE WHEN cadence_days % 365 = 0 "
        "THEN cadence_days / 365 * 12 ELSE cadence_days / 30 END "
        "WHERE cadence_own = false AND cadence_months IS NULL AND cadence_days > 0 "
        "AND cadence_days = goal_cadence_days "
        "AND (cadence_days % 30 = 0 OR cadence_days % 365 = 0)"))


def downgrade() -> None:
    op.execute(sa.text(
        "UPDATE contacts SET cadence_months = NULL "
        "WHERE cadence_own = false AND cadence_days = goal_cadence_days"))
