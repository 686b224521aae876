"""The undo journal: every change a person makes can be reversed, newest first.

A use case that changes something opens a `Change` at the start of its unit of work, tells it
which rows it is about to update or delete (their before-images are read then) and which rows
it inserted, and saves it with a description in the same transaction. `undo` reverses the
newest entry exactly: inserted rows are deleted, deleted rows inserted again (with their old
ids when those are free), updated rows set back to their before-images. A change that
changes nothing writes no entry: `Change.save` raises `Unchanged`, the facade answers "…
Nothing changed." and rolls the unit back, so no command claims it or spends an undo step.
Undo refuses rather than delete a person it added together with a history recorded since
(`_history_since`), and undoing a note keeps the nudges delivered about it, as `delete` does.

Bounds (`rapport.scheduler.retention`): entries older than a week are purged, 40 per user
at most (cut back to the newest 30 past that); a forgotten person's snapshot is kept for
`FORGET_KEEP` (15 minutes) only, after which its entry stays as a barrier without data (undo
says it is too late rather than reach past it) and the entries before it are deleted. Until
then `export` says until when a forgotten person can be brought back, never what their
snapshot holds (`exported_history`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rapport.bot.core import commands as c
from rapport.bot.core.context import Turn, UserContext
from rapport.bot.core.touchpoints import (
    drop_calendar_touchpoint,
    logged_by_hand,
    move_touchpoint,
)
from rapport.bot.core.views import Reply, error
from rapport.scheduler import planner, wording
from rapport.scheduler.retention import FORGET_KEEP, MAX_UNDO_ENTRIES, UNDO_TRIM_PAST
from rapport.storage import queries
from rapport.storage.models import (
    CALENDAR_SOURCE,
    CapturedAttendee,
    CapturedEvent,
    NudgeStatus,
    Touchpoint,
)
from rapport.storage.names import first_word, name_key
from rapport.storage.prepared import json_text

logger = logging.getLogger(__name__)

# Foreign keys a re-inserted row may need remapped when its parent got a new id.
_PARENTS = {"contact_id": "contacts", "tag_id": "tags", "note_id": "notes",
            "important_date_id": "important_dates", "nudge_id": "nudges",
            "touchpoint_id": "touchpoints"}


# The columns each kind of change sets, so undo sets back exactly those.
CLOCK = ("last_touch_at", "next_due_at", "plan_at")
RHYTHM = ("cadence_days", "cadence_months", "cadence_own", "next_due_at", "plan_at")
NUDGE_OUTCOME = ("status", "acted_at")
# What applying goals sets on a contact (rapport.bot.core.goals), and a goal on a tag.
GOAL_RHYTHM = ("cadence_days", "cadence_months", "goal_cadence_days", "next_due_at", "plan_at")
TAG_GOAL = ("goal_cadence_days", "goal_set_at")
NUDGE_SNOOZE = ("status", "snooze_count", "lease_owner", "deliver_after")
# An @mention linking a contact first added by name to the person's chat account.
LINK = ("platform_user_id",)
# When to remind next, recomputed from what a change sets (a rhythm, a day, a window): kept
# for undo, but no change by themselves (`Change.before_update`'s `follows`).
PLANNED = ("next_due_at", "plan_at")

# The answer to a change that changes nothing, when its command has no words of its own.
ALREADY = "Already so: {description}."


class Unchanged(Exception):
    """Raised by `Change.save` when the command changed nothing: the facade answers
    `answer` and rolls the unit of work back, and no journal entry is written, so `undo`
    never spends a step on it."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


class Change:
    """What one command changes, kept so `undo` can reverse it (see the module docstring)."""

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.inserted: list[tuple[str, int]] = []
        self.updated: dict[str, dict[int, dict[str, Any]]] = {}
        self.deleted: dict[str, dict[int, dict[str, Any]]] = {}
        # (captured attendee row, touchpoint) links a correction took from the calendar.
        self.let_go: list[tuple[int, int]] = []
        # The captured attendee rows of each contact whose email this change sets, as they
        # stood before it: undo hands the meetings captured since back to people met.
        self.captured: dict[int, list[int]] = {}
        # By table, the updated columns that make a change when they differ afterwards (not
        # those that only follow from them: `before_update`'s `follows`).
        self.chosen: dict[str, set[str]] = {}

    def before_update(self, table: str, ids: Iterable[int], columns: Sequence[str], *,
                      follows: Sequence[str] = ()) -> None:
        """Read the before-images of the `columns` this change is about to update. Call it
        before the change writes anything: the image is of the row before the command.
        Only those columns are set back on undo, so a change never reverts what it did not
        touch (the sweep's delivery records, say). `follows`: those of them recomputed from
        the others (`PLANNED`), which alone make no change (`save`)."""
        wanted = [i for i in ids if not self._inserted(table, i)]
        self.chosen.setdefault(table, set()).update(c for c in columns if c not in follows)
        self.before_images(table, queries.row_images(self.turn.session, table,
                                                     self.turn.user.user_id, wanted, columns),
                           chosen=False)
        if table == "contacts" and "email" in columns:
            # The calendar captures meetings by email (capture.promote_met hands over those
            # held with a new address): what stands now is what undo keeps.
            new = [i for i in wanted if i not in self.captured]
            self.captured.update(queries.captured_attendee_ids(
                self.turn.session, self.turn.user.user_id, new))

    def before_images(self, table: str, images: Iterable[dict[str, Any]], *,
                      chosen: bool = True) -> None:
        """`before_update` with the images read already (in a statement that read more
        than them: `queries.touch_state`). Rows this change inserted have none."""
        known = self.updated.setdefault(table, {})
        for image in images:
            if self._inserted(table, int(image["id"])):
                continue
            if chosen:
                self.chosen.setdefault(table, set()).update(k for k in image if k != "id")
            kept = known.setdefault(int(image["id"]), {})
            for column, value in image.items():
                kept.setdefault(column, value)

    def before_delete(self, table: str, ids: Iterable[int]) -> None:
        """Read the whole rows this change is about to delete."""
        known = self.deleted.setdefault(table, {})
        wanted = [i for i in ids if i not in known]
        for image in queries.row_images(self.turn.session, table, self.turn.user.user_id,
                                        wanted):
            known[int(image["id"])] = image

    def inserted_row(self, table: str, row_id: int) -> None:
        self.inserted.append((table, row_id))

    def let_go_captured(self, attendee_ids: Iterable[int], touchpoint_id: int) -> None:
        """The calendar's attendee rows no longer follow this touchpoint (a correction made it
        the person's); undo links them again, so the calendar has it back as before."""
        self.let_go.extend((attendee_id, touchpoint_id) for attendee_id in attendee_ids)

    def _inserted(self, table: str, row_id: int) -> bool:
        return (table, row_id) in self.inserted

    def save(self, description: str, *, kind: str = "change",
             unchanged: str | None = None) -> None:
        """Write the journal entry (same transaction as the change) and purge old ones.

        A change that changed nothing (no row inserted or deleted, every column it chose
        as it was) writes none: it raises `Unchanged`, whose answer is `unchanged` (what is
        so already: "Dana Scully's rhythm is already every 2 weeks.") or `ALREADY`, and
        "Nothing changed." The rule is here so that every command keeps it."""
        if kind == "change" and not self._changed_anything():
            said = unchanged or ALREADY.format(description=description)
            raise Unchanged(f"{said} Nothing changed.")
        turn = self.turn
        payload = json_text({
            "inserted": self.inserted,
            **({"let_go": self.let_go} if self.let_go else {}),
            **({"captured": {str(contact_id): ids for contact_id, ids in self.captured.items()}}
               if self.captured else {}),
            "updated": {table: list(rows.values()) for table, rows in self.updated.items()
                        if rows},
            "deleted": {table: list(rows.values()) for table, rows in self.deleted.items()
                        if rows},
        })
        # Only the count bound here, with the insert (one statement on PostgreSQL): every
        # command pays for it. The age bounds (old entries, forgotten people's snapshots)
        # are the undo purge job's, and `undo` checks a snapshot's age itself.
        queries.insert_undo_entry_and_trim(
            turn.session, workspace_id=turn.user.workspace_id, user_id=turn.user.user_id,
            description=description, kind=kind, payload=payload, now=turn.now,
            keep=MAX_UNDO_ENTRIES, trim_past=UNDO_TRIM_PAST)

    def _changed_anything(self) -> bool:
        """Whether a row was inserted or deleted, or a chosen column now differs from its
        before-image (read again: one statement per table updated, only for a change that
        inserted and deleted nothing)."""
        if self.inserted or self.let_go or any(self.deleted.values()):
            return True
        for table, rows in self.updated.items():
            columns = sorted(self.chosen.get(table, ()))
            if not rows or not columns:
                continue
            after = {int(image["id"]): image for image in queries.row_images(
                self.turn.session, table, self.turn.user.user_id, list(rows), columns)}
            for row_id, before in rows.items():
                now = after.get(row_id)
                if now is None or any(now.get(column) != before[column]
                                      for column in columns if column in before):
                    return True
        return False


def not_undoable(turn: Turn, description: str) -> None:
    """Record a change `undo` does not reverse (answering a suggestion): undo right after it
    says so rather than reach past it to something older."""
    barrier(turn.session, turn.user, description, turn.now)


def barrier(session: Session, user: UserContext, description: str, now: datetime) -> None:
    """`not_undoable` for a change made outside a turn (disconnecting a calendar)."""
    queries.insert_undo_entry_and_trim(
        session, workspace_id=user.workspace_id, user_id=user.user_id,
        description=description, kind="barrier", payload=None, now=now,
        keep=MAX_UNDO_ENTRIES, trim_past=UNDO_TRIM_PAST)


def not_undoable_description(command: object) -> str | None:
    """What an async verb's change is called in the journal when it can't be undone (it
    revokes a grant at a provider, or changes the workspace for everyone); None for the
    others."""
    if isinstance(command, c.Disconnect):
        return "disconnected your calendar"
    if isinstance(command, c.CaptureChat) and not command.on:
        return f"stopped logging your {command.platform.capitalize()} DMs"
    if isinstance(command, c.Admin) and command.action in ("ai", "disclosure", "retention"):
        return f"changed the workspace's {command.action} setting"
    return None


# What `export` says of a change that goes with a forgotten person's snapshot.
HELD = "an earlier change, deleted with what Rapport keeps of someone you forgot"


def exported_history(entries: Sequence[dict[str, Any]], now: datetime
                     ) -> tuple[list[dict[str, Any]], list[datetime]]:
    """The journal's rows (oldest first) as `export` shows them, and until when each person
    forgotten in the last 15 minutes can still be brought back by `undo`.

    A forgotten person's snapshot is kept only for `undo`: someone who just said “forget
    Dana” expects Dana gone from their export, so it shows the entry as “forgot someone”
    with its `undo_until`, never its before-images. The entries before it, which only
    undoing it can reach and which may name the person (“logged coffee with Dana”), are
    dropped with the snapshot; until then they are listed as `HELD`, without their
    description or data."""
    forgets = [index for index, entry in enumerate(entries) if entry["kind"] == "forget"]
    held_through = forgets[-1] if forgets else -1
    shown: list[dict[str, Any]] = []
    pending: list[datetime] = []
    for index, entry in enumerate(entries):
        row = dict(entry)
        if index > held_through:
            row["payload"] = json.loads(row["payload"]) if row["payload"] else None
        elif entry["kind"] == "forget":
            until = entry["created_at"] + FORGET_KEEP
            row.update(description=queries.FORGOTTEN, payload=None)
            if until > now:
                row["undo_until"] = until
                pending.append(until)
            else:  # what the purge job turns it into on its next run
                row["kind"] = "barrier"
        else:
            row.update(description=HELD, payload=None)
        shown.append(row)
    return shown, pending


def undo(turn: Turn, command: c.Undo) -> Reply:
    """Reverse the user's newest change and say exactly what it was."""
    del command
    session, user_id = turn.session, turn.user.user_id
    entry = queries.latest_undo_entry(session, user_id)
    if entry is None:
        return error("There is nothing to undo.")
    expired = entry.kind == "forget" and entry.created_at < turn.now - FORGET_KEEP
    if expired or entry.kind == "barrier" or entry.payload is None:
        # Too late for a forgotten person (the housekeeping job drops the snapshot), or a
        # change undo cannot reverse: say so rather than reach past it.
        what = "forgetting someone" if expired or entry.description == queries.FORGOTTEN \
            else entry.description
        why = " Rapport keeps a forgotten person for 15 minutes only." \
            if what == "forgetting someone" else ""
        return error(f"Your last change ({what}) can't be undone.{why} Nothing changed.")
    payload = json.loads(entry.payload)
    kept = _history_since(session, user_id, payload)
    if kept is not None:
        # The entry stays, so undo never skips it to reverse something older.
        logger.info("undo refused", extra={"reason": "history since"})
        return error(f"I can't undo “{entry.description}”: {kept} Nothing changed.")
    try:
        with session.begin_nested():
            if not queries.take_undo_entry(session, user_id, entry.id):
                return error("That change was just undone.")
            reopened = _out_again(session, user_id, payload)
            restored = _reverse(session, turn.user, payload)
    except IntegrityError:
        # Something the change depended on is gone: leave everything as it is and say so;
        # the entry stays, so undo never skips it to reverse something older.
        logger.info("undo refused", extra={"reason": "conflict"})
        return error(f"I can't undo “{entry.description}” any more: what it changed has "
                     "changed since. Nothing changed.")
    logger.info("undone", extra={"entry_id": entry.id})
    handles = f" (as {', '.join(restored)})" if restored else ""
    answer = c.full_stop(f"Undone: {entry.description}{handles}")
    return Reply(f"{answer} {_open_again(entry.description, reopened)}".rstrip(), changed=True)


def _out_again(session: Session, user_id: int, payload: dict[str, Any]) -> list[int]:
    """The delivered nudges undoing this entry puts back out (a Done, Snooze or Dismiss on
    one, a change that closed it), before it does: their numbers."""
    images = [image for image in payload.get("updated", {}).get("nudges", [])
              if image.get("status") == NudgeStatus.SENT]
    if not images:
        return []
    return sorted(int(row["id"]) for row in queries.row_images(
        session, "nudges", user_id, [int(image["id"]) for image in images], ("status",))
        if row["status"] != NudgeStatus.SENT)


def _open_again(description: str, nudge_ids: Sequence[int]) -> str:
    """Where the nudges an undo put back out are: their message was answered already and
    the sweep delivers a nudge once, so `due` is where the person finds them again."""
    if not nudge_ids:
        return ""
    if len(nudge_ids) == 1 and f"nudge #{nudge_ids[0]} " in f"{description} ":
        return "It's open again: see “due”."
    numbers = [f"#{nudge_id}" for nudge_id in nudge_ids]
    if len(numbers) == 1:
        return f"Nudge {numbers[0]} is open again: see “due”."
    return f"Nudges {', '.join(numbers[:-1])} and {numbers[-1]} are open again: see “due”."


def _history_since(session: Session, user_id: int, payload: dict[str, Any]) -> str | None:
    """Why undoing this entry would delete more than it did, or None: someone it added has
    a history recorded since that no later entry takes back (drafts, a nudge delivered,
    conversations logged from Slack DMs), which deleting them would take along unsaid.
    Meetings from a calendar are not lost: they go back to people met (`_reverse`)."""
    inserted = {(table, int(row_id)) for table, row_id in payload.get("inserted", [])}
    for table, contact_id in sorted(inserted):
        if table != "contacts":
            continue
        rows = queries.contact_rows(session, user_id, contact_id)
        since = {name: [i for i in rows[name] if (name, i) not in inserted]
                 for name in ("drafts", "touchpoints", "notes", "important_dates", "nudges")}
        touches = [image for image in queries.row_images(
            session, "touchpoints", user_id, since["touchpoints"], ("source",))
            if image["source"] != CALENDAR_SOURCE]
        delivered = [image for image in queries.row_images(
            session, "nudges", user_id, since["nudges"], ("delivered_at",))
            if image["delivered_at"] is not None]
        found = [wording.counted(count, label) for count, label in (
            (len(since["drafts"]), "draft"), (len(touches), "conversation"),
            (len(since["notes"]), "note"), (len(since["important_dates"]), "date"),
            (len(delivered), "delivered nudge")) if count]
        if found:
            [image] = queries.row_images(session, "contacts", user_id, [contact_id], ("name",))
            name = str(image["name"])
            listed = found[0] if len(found) == 1 else \
                ", ".join(found[:-1]) + " and " + found[-1]
            return (f"{name} has {listed} since, and undo won't delete those with them. To "
                    f"remove {name} with everything about them, use “forget {name}”.")
    return None


def _reverse(session: Session, user: UserContext, payload: dict[str, Any]) -> list[str]:
    """Apply one entry backwards; the handles of re-inserted notes and conversations whose
    ids changed (so the answer can name them)."""
    user_id = user.user_id
    for table, row_id in reversed(payload.get("inserted", [])):
        if table == "contacts":
            # Their captured meetings would go with them (cascade): held as someone met
            # again, a second add logs them as the first did.
            queries.return_meetings_to_met(session, user_id, int(row_id))
        elif table == "notes":
            # As `delete n3`: nudges delivered about the note keep their history without it
            # (one out and unanswered is closed); waiting ones go with it.
            _waiting, delivered, unanswered = queries.note_nudge_ids(session, user_id,
                                                                     int(row_id))
            queries.detach_note(session, delivered)
            queries.expire_nudges(session, unanswered)
        queries.delete_owned(session, table, user_id, int(row_id))
    renamed: dict[str, dict[int, int]] = {}
    moved: list[str] = []
    deleted: dict[str, list[dict[str, Any]]] = payload.get("deleted", {})
    for table in queries.JOURNAL_TABLES:
        for image in deleted.get(table, []):
            row = _keyed(image)
            for column, parent in _PARENTS.items():
                if row.get(column) is not None and int(row[column]) in renamed.get(parent, {}):
                    row[column] = renamed[parent][int(row[column])]
            if not queries.still_followed(session, table, row):
                # Her meeting was cancelled (or its calendar disconnected) while she was
                # forgotten: nothing follows it now, and what the calendar logged for it
                # goes, as the cancellation would have taken it had she been there.
                drop_calendar_touchpoint(session, row.get("touchpoint_id"))
                continue
            old_id = int(row["id"])
            keep_id = not queries.id_taken(session, table, old_id)
            new_id = queries.reinsert_row(session, table, row, keep_id=keep_id)
            if new_id != old_id:
                renamed.setdefault(table, {})[old_id] = new_id
                if table in ("notes", "touchpoints"):
                    moved.append(f"{'n' if table == 'notes' else 't'}{new_id}")
    updated: dict[str, list[dict[str, Any]]] = payload.get("updated", {})
    captured: dict[str, list[int]] = payload.get("captured", {})
    addresses = queries.contact_addresses(session, user_id, [int(key) for key in captured])
    for table in queries.JOURNAL_TABLES:
        for image in updated.get(table, []):
            queries.restore_image(session, table, user_id, _keyed(image))
    _return_readdressed(session, user_id, captured, addresses)
    touchpoints = renamed.get("touchpoints", {})
    _give_back_captured(session, user, [
        (int(attendee_id), touchpoints.get(int(touchpoint_id), int(touchpoint_id)))
        for attendee_id, touchpoint_id in payload.get("let_go", [])])
    return moved


def _give_back_captured(session: Session, user: UserContext,
                        links: Sequence[tuple[int, int]]) -> None:
    """Give each (attendee row, touchpoint) a correction let go back to the calendar as the
    meeting stands now, by the rules a sync keeps (capture's `_sync_attendees`): the
    touchpoint takes the meeting's current time, or goes when the meeting did (cancelled,
    declined: its row is gone), was logged again with another touchpoint, is to come again
    (logged once it has happened) or moved onto another day the person logged that contact
    themselves. A sync never looks at a let-go row again, so this is the only moment."""
    if not links:
        return
    a, e = CapturedAttendee, CapturedEvent
    rows = {row.id: row for row in session.execute(
        select(a.id, a.contact_id, a.touchpoint_id, a.logged_at, e.start_at)
        .join(e, e.id == a.captured_event_id)
        .where(a.id.in_(sorted({attendee_id for attendee_id, _ in links})),
               e.user_id == user.user_id))}
    given: dict[int, list[Any]] = {}
    for attendee_id, touchpoint_id in links:
        row = rows.get(attendee_id)
        held = given.setdefault(touchpoint_id, [])
        if row is not None and row.touchpoint_id in (None, touchpoint_id) \
                and row.logged_at is not None:
            held.append(row)
    for touchpoint_id, held in given.items():
        happened_at = session.scalar(select(Touchpoint.happened_at).where(
            Touchpoint.id == touchpoint_id, Touchpoint.user_id == user.user_id))
        if happened_at is None:
            continue  # gone since: nothing to give back
        if not held:
            drop_calendar_touchpoint(session, touchpoint_id)
            continue
        start = held[0].start_at
        if start != happened_at and queries.calendar_owned(session, touchpoint_id):
            if planner.local_date(start, user.tz) != planner.local_date(happened_at, user.tz) \
                    and logged_by_hand(session, held[0].contact_id, start, user.tz):
                drop_calendar_touchpoint(session, touchpoint_id)
                continue
            move_touchpoint(session, touchpoint_id, start)
        queries.give_back_captured(session, user.user_id,
                                   [(row.id, touchpoint_id) for row in held])


def _return_readdressed(session: Session, user_id: int, captured: dict[str, list[int]],
                        addresses: dict[int, str]) -> None:
    """After the emails a change set are set back: the meetings the calendar captured with
    each contact through the address taken back go back to people met, and the touchpoints
    it logged for them go (the contact's clock with them)."""
    now = queries.contact_addresses(session, user_id, list(addresses))
    for contact_id, address in addresses.items():
        if now.get(contact_id) == address:
            continue  # the email stands (the change did not set it)
        for touchpoint_id in queries.return_readdressed_meetings(
                session, user_id, contact_id, address, captured[str(contact_id)]):
            drop_calendar_touchpoint(session, touchpoint_id)


def _keyed(image: dict[str, Any]) -> dict[str, Any]:
    """A copy of a before-image with its name key derived from its name again: an entry saved
    before the key's rules changed (migration 0015) restores a key today's lookups find."""
    row = dict(image)
    if "name" in row and "name_key" in row:
        row["name_key"] = name_key(row["name"])
        if "first_key" in row:
            row["first_key"] = first_word(row["name_key"])
    return row
