"""Upcoming meetings with contacts, for meeting briefs: the query, and the pure rule of when a
brief is due. `meeting_id` is stable per event instance, so "at most one brief per meeting"
can be a unique key on it (for example a nudge dedupe key `brief:<meeting_id>`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.storage.models import CalendarConnection, CapturedAttendee, CapturedEvent

DEFAULT_LEAD = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class UpcomingMeeting:
    """A meeting that has not started, with the user's contacts who are invited."""

    meeting_id: int
    workspace_id: int
    user_id: int
    provider: str
    start_at: datetime
    end_at: datetime
    contact_ids: tuple[int, ...]


async def upcoming_meetings(session: AsyncSession, *, start: datetime, end: datetime,
                            user_id: int | None = None) -> list[UpcomingMeeting]:
    """Meetings with at least one contact starting in [start, end), for one user or all,
    from calendars that are still connected; ordered by start."""
    query = (select(CapturedEvent.id, CapturedEvent.workspace_id, CapturedEvent.user_id,
                    CalendarConnection.provider, CapturedEvent.start_at, CapturedEvent.end_at,
                    CapturedAttendee.contact_id)
             .join(CalendarConnection, CalendarConnection.id == CapturedEvent.connection_id)
             .join(CapturedAttendee, CapturedAttendee.captured_event_id == CapturedEvent.id)
             .where(CapturedEvent.start_at >= start, CapturedEvent.start_at < end,
                    CalendarConnection.status == "active")
             .order_by(CapturedEvent.start_at, CapturedEvent.id, CapturedAttendee.contact_id))
    if user_id is not None:
        query = query.where(CapturedEvent.user_id == user_id)
    meetings: dict[int, UpcomingMeeting] = {}
    for meeting_id, workspace_id, owner, provider, start_at, end_at, contact_id in \
            await session.execute(query):
        known = meetings.get(meeting_id)
        meetings[meeting_id] = UpcomingMeeting(
            meeting_id=meeting_id, workspace_id=workspace_id, user_id=owner,
            provider=provider, start_at=start_at, end_at=end_at,
            contact_ids=(*known.contact_ids, contact_id) if known else (contact_id,))
    return list(meetings.values())


def brief_at(meeting: UpcomingMeeting, lead: timedelta = DEFAULT_LEAD) -> datetime:
    """When the brief for `meeting` is due: `lead` before it starts."""
    return meeting.start_at - lead


def briefs_due(meetings: Sequence[UpcomingMeeting], now: datetime,
               lead: timedelta = DEFAULT_LEAD) -> list[UpcomingMeeting]:
    """The meetings whose brief is due at `now`: inside the lead time, not yet started."""
    return [m for m in meetings if brief_at(m, lead) <= now < m.start_at]
