"""delivered_messages and delivered_message_people: where each meeting brief and weekly summary
went and whom it names, so a forget clears them like reminders

Revision ID: 0020_delivered_messages
Revises: 0019_met_people
Create Date: 2026-12-03 06:45:00

Briefs and summaries delivered before this revision were not recorded, so a forget cannot
find them; only those delivered from now on are cleared.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rapport.storage.types import UTCDateTime

revision: str = "0020_delivered_messages"
down_revision: str | None = "0019_met_people"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _foreign_key(table: str, column: str, parent: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{parent}.id"],
                                   name=op.f(f"fk_{table}_{column}_{parent}"),
                                   ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "delivered_messages",
        sa.Column("id", Id, nullable=False),
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("delivery_ref", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        _foreign_key("delivered_messages", "workspace_id", "workspaces"),
        _foreign_key("delivered_messages", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivered_messages")),
    )
    op.create_index("ix_delivered_messages_user_id", "delivered_messages", ["user_id"])
    op.create_index("ix_delivered_messages_workspace_id", "delivered_messages",
                    ["workspace_id"])
    op.create_table(
        "delivered_message_people",
        sa.Column("delivered_message_id", Id, nullable=False),
        sa.Column("contact_id", Id, nullable=False),
        _foreign_key("delivered_message_people", "delivered_message_id", "delivered_messages"),
        _foreign_key("delivered_message_people", "contact_id", "contacts"),
        sa.PrimaryKeyConstraint("delivered_message_id", "contact_id",
                                name=op.f("pk_delivered_message_people")),
    )
    op.create_index("ix_delivered_message_people_contact_id", "delivered_message_people",
                    ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_delivered_message_people_contact_id",
                  table_name="delivered_message_people")
    op.drop_table("delivered_message_people")
    op.drop_index("ix_delivered_messages_workspace_id", table_name="delivered_messages")
    op.drop_index("ix_delivered_messages_user_id", table_name="delivered_messages")
    op.drop_table("delivered_messages")
