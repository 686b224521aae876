"""Nudges as every platform shows them: a human headline and the last conversation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from rapport.scheduler import planner, wording
from rapport.scheduler.messenger import NudgeItem
from rapport.storage import queries
from rapport.storage.models import Contact
from rapport.storage.names import name_key


def nudge_items(session: Session, nudge_ids: Iterable[int], now: datetime
                ) -> dict[int, NudgeItem]:
    """The nudges' wording by nudge id (missing ids are left out)."""
    return items_of_rows(session, queries.nudge_item_rows(session, nudge_ids), now)


def items_of_rows(session: Session, rows: Sequence[Sequence[Any]], now: datetime
                  ) -> dict[int, NudgeItem]:
    """The wording of nudges already read (`queries.NUDGE_ITEM_COLUMNS` rows), by nudge id."""
    touches = queries.latest_touches(session, {row[2] for row in rows})
    # Only a note's or a date's reminder calls someone by their first name.
    called = called_names(session, {row[2]: row[4] for row in rows if row[1] != "cadence"})
    items: dict[int, NudgeItem] = {}
    todays = planner.LocalDates(now)
    for (nudge_id, reason, contact_id, due_at, name, company, cadence, last_touch_at,
         note_text, note_created, date_kind, month, day, tz, months, since_year) in rows:
        today = todays[tz]
        if reason == "follow_up" and note_text is not None and note_created is not None:
            headline = wording.follow_up_headline(name, note_text,
                                                  planner.local_date(note_created, tz),
                                                  called=called.get(contact_id))
        elif reason == "date" and date_kind is not None:
            occurrence = _occurrence(due_at, month, day, tz)
            headline = wording.important_date_headline(name, date_kind, occurrence, today,
                                                       since_year, called=called.get(contact_id))
        else:
            # Days on the person's calendar: logged "10 days ago" reads "10 days" whatever
            # the hour (a log counts from noon of its day).
            since = (today - planner.local_date(last_touch_at, tz)).days \
                if last_touch_at else None
            headline = wording.cadence_headline(name, company, since, cadence or 0, months)
        context = None
        if contact_id in touches:
            kind, happened_at, summary = touches[contact_id]
            context = wording.last_touch_context(kind, planner.local_date(happened_at, tz),
                                                 summary)
        items[nudge_id] = NudgeItem(nudge_id=nudge_id, contact_id=contact_id,
                                    contact_name=name, reason=reason, headline=headline,
                                    context=context)
    return items


def called_names(session: Session, names: Mapping[int, str]) -> dict[int, str]:
    """Contact id -> what a reminder calls them (`wording.called_name`), for contacts given as
    id -> name: the first name, or the full name when another of the user's contacts has the
    same first name. One statement: the others whose first word is one of those first names,
    or a title ("Dr. Dana Wu" is called Dana too)."""
    if not names:
        return {}
    keys = {name_key(wording.first_name(name)) for name in names.values()}
    mine, other = aliased(Contact), aliased(Contact)
    others: dict[int, list[str]] = {}
    for contact_id, other_name in session.execute(
            select(mine.id, other.name)
            .join(other, and_(other.user_id == mine.user_id, other.id != mine.id))
            .where(mine.id.in_(list(names)),
                   other.first_key.in_(sorted(keys | wording.TITLE_KEYS)))):
        others.setdefault(contact_id, []).append(other_name)
    return {contact_id: wording.called_name(name, others.get(contact_id, ()))
            for contact_id, name in names.items()}


def _occurrence(due_at: datetime, month: int, day: int, tz: str) -> date:
    """The birthday or anniversary a nudge due at `due_at` is about (it is planned before the
    day, and a pause or a snooze may hold it past the day)."""
    return planner.yearly_occurrence(month, day, planner.local_date(due_at, tz))


def date_nudge_day(session: Session, nudge_id: int) -> tuple[str, date] | None:
    """(kind, day) of a birthday or work-anniversary nudge: the day its headline names, so that
    a draft for it wishes early, on the day or late as the nudge says; None for another
    nudge."""
    for (_, reason, _, due_at, _, _, _, _, _, _, date_kind, month, day, tz, _,
         _) in queries.nudge_item_rows(session, [nudge_id]):
        if reason == "date" and date_kind is not None:
            return date_kind, _occurrence(due_at, month, day, tz)
    return None
