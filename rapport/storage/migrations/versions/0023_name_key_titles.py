"""contacts.name_key: titles before a name and a nickname in quotes are left out ("Dr. Hiro
Tanaka" is "hiro tanaka", Chris “CJ” Johnson is "chris johnson"), so stored keys and first
keys are recomputed from the names

Revision ID: 0023_name_key_titles
Revises: 0022_nudge_not_before
Create Date: 2026-12-05 10:00:00

Before, "show Hiro" found nobody for a contact saved as "Dr. Hiro Tanaka": its first key was
"dr.". A title before one word alone stays ("Mr. Smith" and "Mrs. Smith" are two people).
Two contacts of one person that now have the same key ("Dr. Hiro Tanaka" and "Hiro Tanaka")
are both kept, as 0015 keeps them: the one linked to a chat account, or else the older one,
keeps its name; the other is renamed with the first number its owner has no name or key
with yet ("Dr. Hiro Tanaka (2)"), so both stay in `people` for their owner to tell apart,
rename or forget. Names are never changed otherwise; tags are untouched (a tag is one word,
with no title or quotes to leave out).
"""

from __future__ import annotations

import itertools
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
                     sa.column("first_key", sa.String()),
                     sa.column("platform_user_id", sa.String()))


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
                                        _CONTACTS.c.name_key, _CONTACTS.c.first_key,
                                        _CONTACTS.c.platform_user_id)
                              .order_by(_CONTACTS.c.user_id, _CONTACTS.c.id)).all()
    renamed: list[int] = []
    changes: list[dict[str, object]] = []
    for _user_id, owned in itertools.groupby(rows, key=lambda row: int(row.user_id)):
        contacts = [(row, key_of(str(row.name))) for row in owned]
        # Of contacts that now read alike, the one linked to a chat account keeps its name
        # (the link says who it is, and the chat shows that name), else the oldest: the one
        # the user has known the longest by it.
        keeps: dict[str, int] = {}
        for row, key in sorted(contacts, key=lambda pair: (pair[0].platform_user_id is None,
                                                           int(pair[0].id))):
            keeps.setdefault(key, int(row.id))
        # A number is one no name of theirs has yet, nor any key: "Dr. Hiro Tanaka (2)" may
        # be a name they gave someone else.
        keys = set(keeps)
        names = {str(row.name) for row, _key in contacts}
        for row, key in contacts:
            row_id, name = int(row.id), str(row.name)
            new_name = name
            if keeps[key] != row_id:
                number = 1
                while new_name in names or key in keys:
                    number += 1
                    new_name = _numbered(name, number)
                    key = key_of(new_name)
                keys.add(key)
                names.add(new_name)
                renamed.append(row_id)
            if new_name != name or key != row.name_key or first_word(key) != row.first_key:
                changes.append({"b_id": row_id, "b_name": new_name, "b_key": key,
                                "b_first": first_word(key)})
    if not changes:
        return []
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
