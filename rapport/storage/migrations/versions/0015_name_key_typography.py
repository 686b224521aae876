"""contacts.name_key: typographic apostrophes, quotes, dashes and invisible characters read as
their ASCII forms ("O’Brien" is "O'Brien"), so stored keys are recomputed from the names

Revision ID: 0015_name_key_typography
Revises: 0014_goal_months
Create Date: 2026-12-03 01:30:00

Two contacts of one person whose names differed only in such a character ("Dana O'Brien" and
"Dana O’Brien") now have the same key, which (user_id, name_key) must keep unique. Nothing is
merged or deleted: the contact that already had the key, or else the older one, keeps the name;
the other is renamed "Dana O’Brien (2)", so both stay in `people` and can be told apart,
renamed or forgotten by their owner. Tags need nothing: their names are letters, digits and
dashes only, composed like every typed line (`rapport.bot.core.commands.tag_name`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from rapport.storage.names import first_word, name_key

revision: str = "0015_name_key_typography"
down_revision: str | None = "0014_goal_months"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger(__name__)

NAME_CHARS = 200  # contacts.name and contacts.name_key
_CONTACTS = sa.table("contacts", sa.column("id", sa.Integer()), sa.column("user_id", sa.Integer()),
                     sa.column("name", sa.String()), sa.column("name_key", sa.String()),
                     sa.column("first_key", sa.String()))


def upgrade() -> None:
    renamed = _rekey(op.get_bind(), name_key)
    if renamed:
        # Ids and a count only: names are the users' data.
        logger.warning("contacts renamed: their names now read the same as another's",
                       extra={"count": len(renamed), "contact_ids": renamed[:50]})


def downgrade() -> None:
    # The keys as the code before this revision computed them (casefolded, single spaces); renamed contacts keep
    # their new names.
    _rekey(op.get_bind(), lambda name: " ".join(name.casefold().split()))


def _rekey(connection: sa.Connection, key_of: Callable[[str], str]) -> list[int]:
    """Set every contact's name_key (and first_key) to `key_of(name)`; the ids of contacts
    renamed to keep keys unique per user."""
    rows = connection.execute(sa.select(_CONTACTS.c.id, _CONTACTS.c.user_id, _CONTACTS.c.name,
                                        _CONTACTS.c.name_key)
                              .order_by(_CONTACTS.c.user_id, _CONTACTS.c.id)).all()
    taken: dict[int, set[str]] = {}
    moving: list[tuple[int, int, str, str]] = []
    for row in rows:
        contact_id, user_id, name = int(row.id), int(row.user_id), str(row.name)
        key = key_of(name)
        if key == row.name_key:
            taken.setdefault(user_id, set()).add(key)
        else:
            moving.append((contact_id, user_id, name, key))
    if not moving:
        return []
    renamed: list[int] = []
    changes: list[dict[str, object]] = []
    for contact_id, user_id, name, key in moving:  # oldest first within each user
        keys = taken.setdefault(user_id, set())
        new_name = name
        number = 1
        while key in keys:
            number += 1
            suffix = f" ({number})"
            new_name = name[:NAME_CHARS - len(suffix)] + suffix
            key = key_of(new_name)
        if new_name != name:
            renamed.append(contact_id)
        keys.add(key)
        changes.append({"b_id": contact_id, "b_name": new_name, "b_key": key,
                        "b_first": first_word(key)})
    # Out of the way first: a key another row is about to give up must be free before it is
    # taken. A key never starts with a space, so these never meet a real one.
    connection.execute(_CONTACTS.update().where(_CONTACTS.c.id == sa.bindparam("b_id"))
                       .values(name_key=sa.bindparam("b_key")),
                       [{"b_id": change["b_id"], "b_key": f" 0015 {change['b_id']}"}
                        for change in changes])
    connection.execute(_CONTACTS.update().where(_CONTACTS.c.id == sa.bindparam("b_id"))
                       .values(name=sa.bindparam("b_name"), name_key=sa.bindparam("b_key"),
                               first_key=sa.bindparam("b_first")), changes)
    return renamed
