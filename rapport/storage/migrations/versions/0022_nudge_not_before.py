"""nudges.not_before: the part of a planned nudge's wait its user's delivery settings do not
decide

Revision ID: 0022_nudge_not_before
Revises: 0021_unbriefed_meetings
Create Date: 2026-12-04 23:30:00

A change of zone, window, days, cap or pause end re-plans the nudges held for the user's
delivery moments, and no earlier than this: a retry's backoff, the spacing after a digest and
the recheck of an unreachable user keep their wait. Nudges waiting at the upgrade have none
recorded (NULL), so a settings change re-plans them as it did before this revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rapport.storage.types import UTCDateTime

revision: str = "0022_nudge_not_before"
down_revision: str | None = "0021_unbriefed_meetings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("nudges", sa.Column("not_before", UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    # Not batch mode: on SQLite that copies the table, and dropping the old nudges would
    # cascade to the drafts that point at them. SQLite (3.35 and later) drops an unindexed
    # column in place, as PostgreSQL does.
    op.drop_column("nudges", "not_before")
