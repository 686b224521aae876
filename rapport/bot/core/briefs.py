"""Meeting prep: what to know before meeting someone, in a few lines, or nothing at all.

"Meeting with Dana Scully at 14:00 — last talked Nov 3 (coffee: Q3 plan). Ask about: the
hiking trip (noted Oct 28). Her birthday is Friday." Only what Rapport holds is used: the last
conversation, notes written since, and a yearly date in the coming week.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from rapport.scheduler import planner, wording
from rapport.scheduler.items import called_names
from rapport.scheduler.messenger import PersonButton
from rapport.storage import queries

DATE_AHEAD = timedelta(days=7)


def person_brief(session: Session, user_id: int, contact_id: int, tz: str, now: datetime
                 ) -> tuple[str, list[str], bool] | None:
    """(the contact's name, what to know about them, whether any of it is useful), or None
    when the contact is not the user's."""
    contact = queries.contact_state(session, user_id, contact_id)
    if contact is None:
        return None
    today = planner.local_date(now, tz)
    parts: list[str] = []
    useful = False
    touch = queries.latest_touches(session, [contact_id]).get(contact_id)
    if touch is not None:
        kind, happened_at, summary = touch
        about = f"{kind}: {summary}" if summary else kind
        parts.append(f"last talked {wording.short_date(planner.local_date(happened_at, tz))} "
                     f"({about})")
        useful = useful or bool(summary)
    notes = queries.notes_since(session, user_id, contact_id, contact.last_touch_at)
    # What they are like ("prefers email over calls") is kept in mind, not asked about.
    topics: list[tuple[str, datetime]] = []
    background: list[str] = []
    for text, created in notes:
        if wording.is_background(text):
            background.append(text)
        else:
            topics.append((text, created))
    if topics:
        asks = "; ".join(f"{wording.about_phrase(text)} (noted "
                         f"{wording.short_date(planner.local_date(created, tz))})"
                         for text, created in topics)
        parts.append(f"Ask about: {asks}")
    if background:
        parts.append(f"Keep in mind: {'; '.join(' '.join(text.split()) for text in background)}")
    useful = useful or bool(notes)
    called: str | None = None
    for kind, month, day in queries.important_dates_of(session, user_id, contact_id):
        occurrence = planner.yearly_occurrence(month, day, today)
        if occurrence - today <= DATE_AHEAD:
            what = "birthday" if kind == "birthday" else "work anniversary"
            # As the date's reminder calls them: in full when another has that first name.
            called = called or called_names(session, {contact_id: contact.name})[contact_id]
            parts.append(f"{called}'s {what} is {wording.friendly_day(occurrence, today)}")
            useful = True
    return contact.name, parts, useful


def after_dash(parts: Sequence[str]) -> str:
    """The parts after a dash: "— ask about: …", not "— Ask about: …" (a part that starts
    with a name, "Dana's birthday …", keeps its capital)."""
    text = ". ".join(parts)
    return "ask" + text[3:] if text.startswith("Ask ") else text


def meeting_brief(session: Session, user_id: int, contact_ids: Sequence[int],
                  start_at: datetime, tz: str, now: datetime) -> str | None:
    """The brief for a meeting, or None when Rapport has nothing useful to say."""
    found = [brief for brief in (person_brief(session, user_id, contact_id, tz, now)
                                 for contact_id in contact_ids) if brief is not None]
    if not any(useful for _, _, useful in found):
        return None
    at = start_at.astimezone(planner.zone(tz)).strftime("%H:%M")
    if len(found) == 1:
        name, parts, _ = found[0]
        return f"Meeting with {name} at {at} — " + after_dash(parts) + "."
    lines = [f"• {name}" + (" — " + after_dash(parts) if parts else "") + "."
             for name, parts, _ in found]
    return f"Meeting at {at} with:\n" + "\n".join(lines)


def brief_people(session: Session, user_id: int, contact_ids: Sequence[int]
                 ) -> tuple[PersonButton, ...]:
    """The user's contacts of a meeting, for the brief's Show / Snooze buttons."""
    found = (queries.contact_state(session, user_id, contact_id) for contact_id in contact_ids)
    return tuple(PersonButton(contact.id, contact.name) for contact in found
                 if contact is not None)
