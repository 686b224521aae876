"""contacts.name_key: titles before a name and a nickname in quotes are left out ("Dr. Hiro
Tanaka" is "hiro tanaka", Chris “CJ” Johnson is "chris johnson"), so stored keys and first
keys are recomputed from the names

Revision ID: 0023_name_key_titles
Revises: 0022_nudge_not_before
Create Date: 2026-12-05 10:00:00

Before, "show Hiro" found nobody for a contact saved as "Dr. Hiro Tanaka": its first key was
"dr.". Two contacts of one person that now have the same key ("Dr. Hiro Tanaka" and "Hiro
Tanaka") are both kept, as 0015 keeps them: the one that already had the key, or else the
older one, keeps its name; the other is renamed "Dr. Hiro Tanaka (2)", so both stay in
`people` for their owner to tell apart, rename or forget. Names are never changed otherwise;
tags are untouched (a tag is one word, with no title or quotes to leave out).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from rapport.storage.names import first_word, name_key, written_key

revision: str = "0023_name_key_titles"
down_revision: str | None = "0022_nudge_not_before"
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
                       extra={"count": len(renamed), "ids": renamed[:50]})


def downgrade() -> None:
    # The keys as 0022's code computed them; renamed contacts keep their new names. Keys that
    # were unique without titles and nicknames are unique with them, so nothing is renamed.
    _rekey(op.get_bind(), written_key)


def _numbered(name: str, number: int) -> str:
    suffix = f" ({number})"
    return name[:NAME_CHARS - len(suffix)] + suffix


def _rekey(connection: sa.Connection, key_of: Callable[[str], str]) -> list[int]:
    """Set every contact's name_key and first_key from its name with `key_of`; the ids of
    contacts renamed to keep keys unique per user."""
    rows = connection.execute(sa.select(_CONTACTS.c.id, _CONTACTS.c.user_id, _CONTACTS.c.name,
                                        _CONTACTS.c.name_key, _CONTACTS.c.first_key)
                              .order_by(_CONTACTS.c.user_id, _CONTACTS.c.id)).all()
    taken: dict[int, set[str]] = {}
    moving: list[tuple[int, int, str, str]] = []
    for row in rows:
        row_id, user_id, name = int(row.id), int(row.user_id), str(row.name)
        key = key_of(name)
        if key == row.name_key and first_word(key) == row.first_key:
            taken.setdefault(user_id, set()).add(key)
        else:
            moving.append((row_id, user_id, name, key))
    if not moving:
        return []
    renamed: list[int] = []
    changes: list[dict[str, object]] = []
    for row_id, user_id, name, key in moving:  # oldest first within each user
        keys = taken.setdefault(user_id, set())
        new_name, number = name, 1
        while key in keys:
            number += 1
            new_name = _numbered(name, number)
            key = key_of(new_name)
        if new_name != name:
            renamed.append(row_id)
        keys.add(key)
        changes.append({"b_id": row_id, "b_name": new_name, "b_key": key,
                        "b_first": first_word(key)})
    # Out of the way first: a key another row is about to give up must be free before it is
    # taken. A key never starts with a space, so these never meet a real one.
    connection.execute(_CONTACTS.update().where(_CONTACTS.c.id == sa.bindparam("b_id"))
                       .values(name_key=sa.bindparam("b_key")),
                       [{"b_id": change["b_id"], "b_key": f" 0023 {change['b_id']}"}
                        for change in changes])
    connection.execute(_CONTACTS.update().where(_CONTACTS.c.id == sa.bindparam("b_id"))
                       .values(name=sa.bindparam("b_name"), name_key=sa.bindparam("b_key"),
                               first_key=sa.bindparam("b_first")), changes)
    return renamed
