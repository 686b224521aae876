"""users.chart_*: the goal trend chart last shared into each user's DM, kept in the database

Revision ID: 0024_shared_goal_charts
Revises: 0023_name_key_titles
Create Date: 2026-12-05 12:00:00

Before, each process remembered in memory which chart it had shared, so opening App Home
shared the chart again once per replica and after every restart. The file id, the numbers'
fingerprint and the moment are now stored with the user, and `chart_claimed_at` lets one
replica claim an upload with a conditional UPDATE. Users start with none recorded (NULL):
their next `stats` or App Home shares the chart once, as after a restart before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rapport.storage.types import UTCDateTime

revision: str = "0024_shared_goal_charts"
down_revision: str | None = "0023_name_key_titles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("chart_digest", "chart_file_id", "chart_shared_at", "chart_claimed_at")


def upgrade() -> None:
    op.add_column("users", sa.Column("chart_digest", sa.String(64), nullable=True))
    op.add_column("users", sa.Column("chart_file_id", sa.String(128), nullable=True))
    op.add_column("users", sa.Column("chart_shared_at", UTCDateTime(timezone=True),
                                     nullable=True))
    op.add_column("users", sa.Column("chart_claimed_at", UTCDateTime(timezone=True),
                                     nullable=True))


def downgrade() -> None:
    # Not batch mode: on SQLite that copies the table, and dropping the old users would
    # cascade to every row they own. SQLite (3.35 and later) drops an unindexed column in
    # place, as PostgreSQL does.
    for name in reversed(_COLUMNS):
        op.drop_column("users", name)
