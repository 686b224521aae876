"""contacts.name_key: typographic apostrophes, quotes, dashes and invisible characters read as
their ASCII forms ("O’Brien" is "O'Brien"), so stored keys are recomputed from the names

Revision ID: 0015_name_key_typography
Revises: 0014_goal_months
Create Date: 2026-12-03 01:30:00

Two contacts of one person whose names differed only in such a character ("Dana O'Brien" and
"Dana O’Brien") now have the same key, which (user_id, name_key) must keep unique. Nothing is
merged or deleted: the contact that already had the key, or else the older one, keeps the name;
the other is renamed "Dana O’Brien (2)", so both stay in `people` and can be told apart,
renamed or forgotten by their owner. Accents on Latin letters are left out of keys too ("Zoë"
is "zoe"), so tags are re-keyed the same way ("équipe" is found as "equipe"); a tag whose key
now meets another's is renamed "équipe-2".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from rapport.storage.names import first_word, name_key, tag_key

revision: str = "0015_name_key_typography"
down_revision: str | None = "0014_goal_months"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger(__name__)

NAME_CHARS = 200  # contacts.name and contacts.name_key
TAG_CHARS = 40  # tags.name and tags.name_key
_CONTACTS = sa.table("contacts", sa.column("id", sa.Integer()), sa.column("user_id", sa.Integer()),
                     sa.column("name", sa.String()), sa.column("name_key", sa.String()),
                     sa.column("first_key", sa.String()))
_TAGS = sa.table("tags", sa.column("id", sa.Integer()), sa.column("user_id", sa.Integer()),
                 sa.column("name", sa.String()), sa.column("name_key", sa.String()))


def _contact_suffix(name: str, number: int) -> str:
    suffix = f" ({number})"
    return name[:NAME_CHARS - len(suffix)] + suffix


def _tag_suffix(name: str, number: int) -> str:
    suffix = f"-{number}"  # tag names are letters, digits and dashes
    return name[:TAG_CHARS - len(suffix)] + suffix


def upgrade() -> None:
    connection = op.get_bind()
    for table, key_of, suffixed in ((_CONTACTS, name_key, _contact_suffix),
                                    (_TAGS, tag_key, _tag_suffix)):
        renamed = _rekey(connection, table, key_of, suffixed)
        if renamed:
            # Ids and a count only: names are the users' data.
            logger.warning(f"{table.name} renamed: their names now read the same as another's",
                           extra={"count": len(renamed), "ids": renamed[:50]})


def downgrade() -> None:
    # The keys as the code before this revision computed them (casefolded, single spaces);
    # renamed contacts and tags keep their new names.
    def old_key(name: str) -> str:
        return " ".join(name.casefold().split())

    connection = op.get_bind()
    _rekey(connection, _CONTACTS, old_key, _contact_suffix)
    _rekey(connection, _TAGS, old_key, _tag_suffix)


def _rekey(connection: sa.Connection, table: sa.TableClause, key_of: Callable[[str], str],
           suffixed: Callable[[str, int], str]) -> list[int]:
    """Set every row's name_key (and a contact's first_key) to `key_of(name)`; the ids of rows
    renamed (`suffixed`) to keep keys unique per user."""
    rows = connection.execute(sa.select(table.c.id, table.c.user_id, table.c.name,
                                        table.c.name_key)
                              .order_by(table.c.user_id, table.c.id)).all()
    taken: dict[int, set[str]] = {}
    moving: list[tuple[int, int, str, str]] = []
    for row in rows:
        row_id, user_id, name = int(row.id), int(row.user_id), str(row.name)
        key = key_of(name)
        if key == row.name_key:
            taken.setdefault(user_id, set()).add(key)
        else:
            moving.append((row_id, user_id, name, key))
    if not moving:
        return []
    renamed: list[int] = []
    changes: list[dict[str, object]] = []
    for row_id, user_id, name, key in moving:  # oldest first within each user
        keys = taken.setdefault(user_id, set())
        new_name = name
        number = 1
        while key in keys:
            number += 1
            new_name = suffixed(name, number)
            key = key_of(new_name)
        if new_name != name:
            renamed.append(row_id)
        keys.add(key)
        changes.append({"b_id": row_id, "b_name": new_name, "b_key": key,
                        "b_first": first_word(key)})
    # Out of the way first: a key another row is about to give up must be free before it is
    # taken. A key never starts with a space, so these never meet a real one.
    connection.execute(table.update().where(table.c.id == sa.bindparam("b_id"))
                       .values(name_key=sa.bindparam("b_key")),
                       [{"b_id": change["b_id"], "b_key": f" 0015 {change['b_id']}"}
                        for change in changes])
    values: dict[str, sa.BindParameter[Any]] = {"name": sa.bindparam("b_name"), "name_key": sa.bindparam("b_key")}
    if "first_key" in table.c:
        values["first_key"] = sa.bindparam("b_first")
    connection.execute(table.update().where(table.c.id == sa.bindparam("b_id")).values(values),
                       changes)
    return renamed
