"""drafts.draft_length: a draft's length kept apart from its text, which retention empties

Revision ID: 0028_draft_length
Revises: 0027_pending_files
Create Date: 2026-12-15 10:00:00

`stats` and the team report count the share of a draft the person rewrote as its edit distance
over the draft's length. Retention used to keep that length by replacing an old draft's text
with one █ per character, which `export` showed. The length is now a column of its own, and
retention sets the texts to NULL. Drafts already blacked out lose their █ here (their length
stays), in the table and in the undo journal's before-images of deleted drafts, which also get
their length; on the way down, a NULL text becomes █ again, once per character.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0028_draft_length"
down_revision: str | None = "0027_pending_files"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BLACKED_OUT = "\u2588"
_DRAFTS = sa.table("drafts", sa.column("id", sa.Integer()), sa.column("draft_text", sa.Text()),
                   sa.column("draft_length", sa.Integer()))
_UNDO_ENTRIES = sa.table("undo_entries", sa.column("id", sa.Integer()),
                         sa.column("payload", sa.Text()))


def _blacked_out(text: object) -> bool:
    return isinstance(text, str) and bool(text) and not text.replace(BLACKED_OUT, "")


def upgrade() -> None:
    op.add_column("drafts", sa.Column("draft_length", sa.Integer(), nullable=True))
    op.execute(_DRAFTS.update().values(draft_length=sa.func.length(_DRAFTS.c.draft_text)))
    with op.batch_alter_table("drafts") as batch:
        batch.alter_column("draft_length", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("draft_text", existing_type=sa.Text(), nullable=True)
    # Retention cleared final_text and sent_context with the draft: only the draft is left.
    op.execute(_DRAFTS.update()
               .where(_DRAFTS.c.draft_text != "",
                      sa.func.replace(_DRAFTS.c.draft_text, BLACKED_OUT, "") == "")
               .values(draft_text=None))
    _rewrite_journal(_image_up)


def downgrade() -> None:
    connection = op.get_bind()
    cleared = connection.execute(sa.select(_DRAFTS.c.id, _DRAFTS.c.draft_length)
                                 .where(_DRAFTS.c.draft_text.is_(None))).all()
    if cleared:
        connection.execute(
            _DRAFTS.update().where(_DRAFTS.c.id == sa.bindparam("draft_id"))
            .values(draft_text=sa.bindparam("blacked")),
            [{"draft_id": row.id, "blacked": BLACKED_OUT * row.draft_length}
             for row in cleared])
    with op.batch_alter_table("drafts") as batch:
        batch.alter_column("draft_text", existing_type=sa.Text(), nullable=False)
        batch.drop_column("draft_length")
    _rewrite_journal(_image_down)


def _image_up(image: dict[str, Any]) -> None:
    if "draft_text" not in image:
        return  # an update's image carries only the columns it changed
    image.setdefault("draft_length", len(image["draft_text"] or ""))
    if _blacked_out(image["draft_text"]):
        image["draft_text"] = None


def _image_down(image: dict[str, Any]) -> None:
    if "draft_text" in image and image["draft_text"] is None:
        image["draft_text"] = BLACKED_OUT * int(image.get("draft_length") or 0)
    image.pop("draft_length", None)


def _rewrite_journal(change: Callable[[dict[str, Any]], None]) -> None:
    """Apply `change` to every draft before-image the undo journal keeps (at most a week of
    entries, 40 per user)."""
    connection = op.get_bind()
    rewritten = []
    for entry_id, payload in connection.execute(
            sa.select(_UNDO_ENTRIES.c.id, _UNDO_ENTRIES.c.payload)
            .where(_UNDO_ENTRIES.c.payload.contains('"drafts"'))).all():
        data = json.loads(str(payload))
        images = [image for kind in ("updated", "deleted")
                  for image in data.get(kind, {}).get("drafts", [])]
        if not images:
            continue
        for image in images:
            change(image)
        rewritten.append({"entry_id": entry_id, "rewritten": json.dumps(
            data, ensure_ascii=False, separators=(",", ":"))})
    if rewritten:
        connection.execute(
            _UNDO_ENTRIES.update().where(_UNDO_ENTRIES.c.id == sa.bindparam("entry_id"))
            .values(payload=sa.bindparam("rewritten")), rewritten)
