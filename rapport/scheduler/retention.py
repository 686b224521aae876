"""Retention: a workspace may keep touchpoint summaries and notes for N months only.

Touchpoints themselves stay (dates and kinds feed stats and cadences); their free-text summary
is cleared. Notes are deleted. Nudges already delivered about a deleted note keep their history
(for stats) but lose the link; nudges still waiting to go out about it are removed with it.
Drafts keep their outcome, edit distance and when they were made and finished (stats) but
lose their texts: the draft (which quotes the note it was made from), what the person sent, and
the record of what was sent to the AI provider (``sent_context``: a first name, a note, a
summary), all set to NULL; the draft's length stays in a column of its own (`stats` counts how
much of a draft was rewritten as its edit distance over it). The undo journal's copies of them
go too: an entry that holds one becomes a barrier without data (`expire_journal`), so
neither `export` nor `undo` brings back what retention deleted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from rapport.scheduler import planner
from rapport.scheduler.suggestions import MET_KEEP
from rapport.storage import queries
from rapport.storage.models import (
    ACTIVE_NUDGE_STATUSES,
    Draft,
    Note,
    Nudge,
    Touchpoint,
    Workspace,
)
from rapport.storage.uow import Database

logger = logging.getLogger(__name__)

MAX_RETENTION_MONTHS = 120
# The undo journal (bot/core/journal.py): entries are kept a week; a forgotten person's
# snapshot 15 minutes only. A user's journal is cut back to their newest 30 entries once it
# holds more than 40, not after every change: the DELETE cost a command more than writing its
# entry (docs/performance.md, session 19). So `undo` reaches at least 30 changes back, at most
# 40.
UNDO_KEEP = timedelta(days=7)
FORGET_KEEP = timedelta(minutes=15)
MAX_UNDO_ENTRIES = 30
UNDO_TRIM_PAST = 40
# Every minute: a forgotten person's snapshot is gone at most a minute after its 15 minutes
# (`undo` and `export` treat it as gone from the 15th minute on). The query is cheap: entries
# are 40 per user at most, and each forgotten person's is blanked once.
UNDO_PURGE_SECONDS = 60
# Rows of people met trimmed per transaction.
MET_TRIM_BATCH = 500
# A draft's texts retention removes (its length, in draft_length, stays for `stats`).
DRAFT_TEXTS = ("draft_text", "final_text", "sent_context")


@dataclass
class RetentionReport:
    """What one run removed, for logs and tests."""

    workspaces: int = 0
    summaries_cleared: int = 0
    notes_deleted: int = 0
    contexts_cleared: int = 0
    drafts_cleared: int = 0
    met_pruned: int = 0
    undo_entries_emptied: int = 0


def months_before(moment: datetime, months: int) -> datetime:
    """The same instant `months` calendar months earlier (the 31st becomes the month's end)."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    day = moment.day
    while True:
        try:
            date(year, month, day)
            break
        except ValueError:
            day -= 1
    return moment.replace(year=year, month=month, day=day)


async def set_retention(sessions: async_sessionmaker[AsyncSession], workspace_id: int,
                        months: int | None) -> bool:
    """Keep a workspace's touchpoint summaries and notes `months` calendar months (None or 0:
    forever); False when there is no such workspace. Shared by `rapport retention` and the
    chat's `admin retention`; the next `apply_retention` run deletes what is older."""
    if months is not None and not 0 <= months <= MAX_RETENTION_MONTHS:
        raise ValueError(f"retention is 0 to {MAX_RETENTION_MONTHS} months")
    return bool(await Database(sessions).run(lambda session: queries.set_workspace_retention(
        session, workspace_id, months or None)))


async def apply_retention(sessions: async_sessionmaker[AsyncSession], now: datetime,
                          *, workspace_id: int | None = None) -> RetentionReport:
    """Clear touchpoint summaries and drafts' texts and delete notes older than each
    workspace's retention; delete meetings with people who are not contacts older than MET_KEEP."""
    report = RetentionReport()
    # People met who are not contacts are kept MET_KEEP, whatever the workspace says: their
    # lists lose the older meetings (one index range here rather than a statement in every
    # calendar sync), a few hundred rows per transaction so a sync's writes are not held up.
    while True:
        async with sessions() as session, session.begin():
            dropped, looked_at = await session.run_sync(
                lambda sync: queries.trim_met(sync, now - MET_KEEP, MET_TRIM_BATCH,
                                              workspace_id))
        report.met_pruned += dropped
        if looked_at < MET_TRIM_BATCH:
            break
    async with sessions() as session:
        query = select(Workspace.id, Workspace.retention_months).where(
            Workspace.retention_months.is_not(None), Workspace.retention_months > 0)
        if workspace_id is not None:
            query = query.where(Workspace.id == workspace_id)
        workspaces = (await session.execute(query)).all()
    for ws_id, months in workspaces:
        if months is None:
            continue  # excluded by the query; keeps the type checker informed
        cutoff = months_before(now, min(months, MAX_RETENTION_MONTHS))
        # One transaction per workspace: a failure leaves other tenants' cleanup done.
        async with sessions() as session, session.begin():
            cleared = await session.execute(
                update(Touchpoint)
                .where(Touchpoint.workspace_id == ws_id, Touchpoint.happened_at < cutoff,
                       Touchpoint.summary.is_not(None))
                .values(summary=None).execution_options(synchronize_session=False))
            # The journal first: it needs to know which notes are old before they go.
            emptied = await session.run_sync(expire_journal, ws_id, cutoff)
            old_notes = select(Note.id).where(Note.workspace_id == ws_id,
                                              Note.created_at < cutoff)
            await session.execute(
                update(Nudge)
                .where(Nudge.note_id.in_(old_notes),
                       Nudge.status.not_in(ACTIVE_NUDGE_STATUSES))
                .values(note_id=None).execution_options(synchronize_session=False))
            deleted = await session.execute(
                delete(Note).where(Note.workspace_id == ws_id, Note.created_at < cutoff)
                .execution_options(synchronize_session=False))
            old_drafts = (Draft.workspace_id == ws_id, Draft.created_at < cutoff,
                          _draft_holds_text())
            drafts, contexts = (await session.execute(
                select(func.count(), func.count(Draft.sent_context)).where(*old_drafts))).one()
            if drafts:
                await session.execute(
                    update(Draft).where(*old_drafts).values(dict.fromkeys(DRAFT_TEXTS))
                    .execution_options(synchronize_session=False))
        report.workspaces += 1
        report.undo_entries_emptied += emptied
        report.drafts_cleared += drafts
        report.contexts_cleared += contexts
        report.summaries_cleared += cleared.rowcount or 0  # type: ignore[attr-defined]
        report.notes_deleted += deleted.rowcount or 0  # type: ignore[attr-defined]
    if report.summaries_cleared or report.notes_deleted or report.drafts_cleared \
            or report.undo_entries_emptied:
        logger.info("retention applied", extra={"workspaces": report.workspaces,
                                                "summaries_cleared": report.summaries_cleared,
                                                "notes_deleted": report.notes_deleted,
                                                "drafts_cleared": report.drafts_cleared,
                                                "contexts_cleared": report.contexts_cleared,
                                                "undo_entries_emptied":
                                                    report.undo_entries_emptied})
    return report


def _draft_holds_text() -> ColumnElement[bool]:
    """Whether a draft still holds a text retention removes (not yet cleared)."""
    return or_(*(getattr(Draft, name).is_not(None) for name in DRAFT_TEXTS))


def _draft_image_holds_text(image: dict[str, Any]) -> bool:
    """Whether a before-image of a draft holds a text retention removes (`_draft_holds_text`);
    an update's image carries only the columns it changed."""
    return any(image.get(name) is not None for name in DRAFT_TEXTS)


# What retention removes, per table of the undo journal: the column whose age decides, and
# whether a before-image holds something that goes (a note: the whole row goes).
_RETAINED: dict[str, tuple[str, Callable[[dict[str, Any]], bool]]] = {
    "notes": ("created_at", lambda image: True),
    "touchpoints": ("happened_at", lambda image: image.get("summary") is not None),
    "drafts": ("created_at", _draft_image_holds_text)}
PAST_RETENTION = ", since removed by the workspace's retention"


def expire_journal(session: Session, workspace_id: int, cutoff: datetime) -> int:
    """Retention for the undo journal's before-images (bot/core/journal.py): an entry holding
    a note, a conversation summary or what a draft sent to an AI provider from before
    `cutoff` becomes a barrier without data (undo says it can't reverse it); how many did.
    A draft's texts count too (the draft, what was sent); one already cleared does not, so a
    person forgotten after retention can still be brought back.

    A before-image of an update carries only the columns changed, so a row's age comes from
    the row itself or from a whole-row image of it (a later delete) in the journal."""
    entries = [(entry, json.loads(entry.payload))
               for entry in queries.workspace_undo_payloads(session, workspace_id)]
    old: dict[str, set[int]] = {}
    for table, (age, holds) in _RETAINED.items():
        images = [image for _, payload in entries for kind in ("updated", "deleted")
                  for image in payload.get(kind, {}).get(table, []) if holds(image)]
        # Only rows the journal holds something of are looked up, by id.
        old[table] = queries.ids_older_than(session, table, {int(i["id"]) for i in images},
                                            age, cutoff)
        old[table].update(int(image["id"]) for image in images
                          if _before(image.get(age), cutoff))
    emptied = 0
    for entry, payload in entries:
        if _holds_expired(payload, old, cutoff):
            queries.empty_undo_entry(
                session, entry.id, entry.user_id, kind=entry.kind,
                description=queries.FORGOTTEN if entry.kind == "forget"
                else entry.description + PAST_RETENTION)
            emptied += 1
    return emptied


def _holds_expired(payload: dict[str, Any], old: dict[str, set[int]], cutoff: datetime
                   ) -> bool:
    for images in (payload.get("updated", {}), payload.get("deleted", {})):
        for table, (age, holds) in _RETAINED.items():
            for image in images.get(table, []):
                if not holds(image):
                    continue  # nothing retention removes is in this image
                if int(image["id"]) in old[table] or _before(image.get(age), cutoff):
                    return True
    return False


def _before(value: object, cutoff: datetime) -> bool:
    """Whether a before-image's timestamp (ISO text, or absent) is before `cutoff`."""
    if not isinstance(value, str):
        return False
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) < cutoff


def retention_job(sessions: async_sessionmaker[AsyncSession],
                  clock: Callable[[], datetime] = planner.utcnow
                  ) -> Callable[[], Awaitable[None]]:
    """A no-argument coroutine function for APScheduler; failures are logged, not raised."""

    async def run() -> None:
        try:
            await apply_retention(sessions, clock())
        except Exception as error:  # the scheduler must survive a failed run
            logger.error("retention failed; the next run retries",
                         extra={"error": type(error).__name__})

    return run


def purge_undo(session: Session, now: datetime, *, user_id: int | None = None) -> None:
    """Apply the undo journal's bounds, for one user (after each change) or for everyone."""
    queries.blank_forget_entries(session, now - FORGET_KEEP, user_id=user_id)
    queries.purge_undo_entries(session, now - UNDO_KEEP, user_id=user_id,
                               keep=MAX_UNDO_ENTRIES if user_id is not None else None)


def undo_purge_job(sessions: async_sessionmaker[AsyncSession],
                   clock: Callable[[], datetime] = planner.utcnow
                   ) -> Callable[[], Awaitable[None]]:
    """Drop forgotten people's snapshots after 15 minutes even when nobody changes anything,
    and files left waiting for an answer (Teams' export offers, uploads) once they expire."""
    database = Database(sessions)

    def purge(session: Session) -> None:
        now = clock()
        purge_undo(session, now)
        queries.delete_expired_pending_files(session, now)

    async def run() -> None:
        try:
            await database.run(purge)
        except Exception as error:  # the scheduler must survive a failed run
            logger.error("undo purge failed; the next run retries",
                         extra={"error": type(error).__name__})

    return run
