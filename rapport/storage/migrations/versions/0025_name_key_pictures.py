"""contacts.name_key: emoji and other pictures, and pronouns that end a name, are left out
("Pat Doe (she/her) 🌴" is "pat doe", "👩🏽‍💻 Zoë Park" is "zoe park"), so stored keys and
first keys are recomputed from the names

Revision ID: 0025_name_key_pictures
Revises: 0024_shared_goal_charts
Create Date: 2026-12-06 10:00:00

Before, someone added from a Slack profile named "Pat Doe (she/her) 🌴" was not found by
"log Doe", "note Pat Doe: …" or "show Doe", and "👩🏽‍💻 Zoë Park" not by "log Zoë" (its first
key was the emoji). Only what is clearly pronouns goes ("(she/her)", "(any pronouns)"; not
"(Ella)"). Two contacts of one person that now have the same key ("Pat Doe" and "Pat Doe
(she/her) 🌴") are both kept, as 0015 and 0023 keep them: the one linked to a chat account,
or else the older one, keeps its name; the other is renamed with the first number its owner
has no name or key with yet ("Pat Doe (she/her) 🌴 (2)", key "pat doe (2)"), so both stay in
`people` for their owner to tell apart, rename or forget. Names are never changed otherwise;
tags are untouched (their keys keep their pictures: `names.tag_key`).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from rapport.storage.names import first_word, name_key, titled_key

revision: str = "0025_name_key_pictures"
down_revision: str | None = "0024_shared_goal_charts"
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
    # The keys as 0024's code computed them; renamed contacts keep their new names. Keys that
    # were unique without pictures and pronouns are unique with them, so nothing should need
    # renaming (were something to, it is numbered as on the way up, never a failed upgrade).
    _rekey(op.get_bind(), titled_key)


def _numbered(name: str, number: int) -> str:
    suffix = f" ({number})"
    return name[:NAME_CHARS - len(suffix)] + suffix


def _rekey(connection: sa.Connection, key_of: Callable[[str], str]) -> list[int]:
    """Set every contact's name_key and first_key from its name with `key_of`; the ids of
    contacts renamed to keep keys unique per user. (0023's, as of this revision: a migration
    keeps the code it ran with.)"""
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
                       [{"b_id": change["b_id"], "b_key": f" 0025 {change['b_id']}"}
                        for change in changes])
    connection.execute(_CONTACTS.update().where(_CONTACTS.c.id == sa.bindparam("b_id"))
                       .values(name=sa.bindparam("b_name"), name_key=sa.bindparam("b_key"),
                               first_key=sa.bindparam("b_first")), changes)
    return renamed
