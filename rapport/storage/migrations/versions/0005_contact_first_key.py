"""contacts.first_key: the first word of the name key, so a first name is one index lookup

Revision ID: 0005_contact_first_key
Revises: 0003
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_contact_first_key"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("first_key", sa.String(200), nullable=False,
                                   server_default=""))
    contacts = sa.table("contacts", sa.column("id", sa.Integer()),
                        sa.column("name_key", sa.String()), sa.column("first_key", sa.String()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(contacts.c.id, contacts.c.name_key)).all()
    for contact_id, key in rows:
        connection.execute(contacts.update().where(contacts.c.id == contact_id)
                           .values(first_key=str(key or "").split(" ", 1)[0]))
    with op.batch_alter_table("contacts") as batch:
        batch.alter_column("first_key", server_default=None)
        batch.create_index("ix_contacts_user_id_first_key", ["user_id", "first_key"])


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_index("ix_contacts_user_id_first_key")
        batch.drop_column("first_key")
