"""Nudges as every platform shows them: a human headline and the last conversation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from rapport.scheduler import planner, wording
from rapport.scheduler.messenger import NudgeItem
from rapport.storage import queries


def nudge_items(session: Session, nudge_ids: Iterable[int], now: datetime
                ) -> dict[int, NudgeItem]:
    """The nudges' wording by nudge id (missing ids are left out)."""
    return items_of_rows(session, queries.nudge_item_rows(session, nudge_ids), now)


def items_of_rows(session: Session, rows: Sequence[Sequence[Any]], now: datetime
                  ) -> dict[int, NudgeItem]:
    """The wording of nudges already read (`queries.NUDGE_ITEM_COLUMNS` rows), by nudge id."""
    touches = queries.latest_touches(session, {row[2] for row in rows})
    items: dict[int, NudgeItem] = {}
    todays = planner.LocalDates(now)
    for (nudge_id, reason, contact_id, due_at, name, company, cadence, last_touch_at,
         note_text, note_created, date_kind, month, day, tz, months, since_year) in rows:
        today = todays[tz]
        if reason == "follow_up" and note_text is not None and note_created is not None:
            headline = wording.follow_up_headline(name, note_text,
                                                  planner.local_date(note_created, tz))
        elif reason == "date" and date_kind is not None:
            occurrence = planner.yearly_occurrence(month, day, planner.local_date(due_at, tz))
            headline = wording.important_date_headline(name, date_kind, occurrence, today,
                                                       since_year)
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
