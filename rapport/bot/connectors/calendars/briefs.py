"""Upcoming meetings with contacts, for meeting briefs: the query, and the pure rule of when a
brief is due. `meeting_id` is stable per event instance, so "at most one brief per meeting"
can be a unique key on it (for example a nudge dedupe key `brief:<meeting_id>`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from rapport.bot.core.briefs import brief_people, meeting_brief
from rapport.scheduler import planner
from rapport.scheduler.messenger import DeliveryResult, PersonButton
from rapport.storage import queries
from rapport.storage.models import CalendarConnection, CapturedAttendee, CapturedEvent
from rapport.storage.uow import Database

logger = logging.getLogger(__name__)

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
    # The same meeting held in the user's other connected calendars (work and personal):
    # claimed with this one, so it is briefed once.
    same_in_other_calendars: tuple[int, ...] = ()


def one_per_meeting(meetings: Sequence[UpcomingMeeting]) -> list[UpcomingMeeting]:
    """One entry per user and start: a meeting in two connected calendars is one meeting,
    with every contact either calendar lists (the lowest id claims it)."""
    merged: dict[tuple[int, datetime], UpcomingMeeting] = {}
    for meeting in sorted(meetings, key=lambda m: m.meeting_id):
        key = (meeting.user_id, meeting.start_at)
        known = merged.get(key)
        if known is None:
            merged[key] = meeting
            continue
        merged[key] = replace(
            known, contact_ids=tuple(dict.fromkeys((*known.contact_ids, *meeting.contact_ids))),
            same_in_other_calendars=(*known.same_in_other_calendars, meeting.meeting_id))
    return sorted(merged.values(), key=lambda m: (m.start_at, m.meeting_id))


async def upcoming_meetings(session: AsyncSession, *, start: datetime, end: datetime,
                            user_id: int | None = None) -> list[UpcomingMeeting]:
    """Meetings still to brief with at least one contact starting in [start, end), for one
    user or all, from calendars that are still connected; ordered by start."""
    meetings: dict[int, UpcomingMeeting] = {}
    for meeting_id, workspace_id, owner, provider, start_at, end_at, contact_id in \
            await session.execute(upcoming_query(start, end, user_id)):
        known = meetings.get(meeting_id)
        meetings[meeting_id] = UpcomingMeeting(
            meeting_id=meeting_id, workspace_id=workspace_id, user_id=owner,
            provider=provider, start_at=start_at, end_at=end_at,
            contact_ids=(*known.contact_ids, contact_id) if known else (contact_id,))
    return list(meetings.values())


def upcoming_query(start: datetime, end: datetime, user_id: int | None = None
                   ) -> Select[int, int, int, str, datetime, datetime, int]:
    """`upcoming_meetings`' read: through the index of meetings still to brief, which holds
    upcoming ones alone (tests/storage/test_due_indexes.py)."""
    query = (select(CapturedEvent.id, CapturedEvent.workspace_id, CapturedEvent.user_id,
                    CalendarConnection.provider, CapturedEvent.start_at, CapturedEvent.end_at,
                    CapturedAttendee.contact_id)
             .join(CalendarConnection, CalendarConnection.id == CapturedEvent.connection_id)
             .join(CapturedAttendee, CapturedAttendee.captured_event_id == CapturedEvent.id)
             .where(CapturedEvent.brief_sent_at.is_(None), CapturedEvent.start_at >= start,
                    CapturedEvent.start_at < end, CalendarConnection.status == "active")
             .order_by(CapturedEvent.start_at, CapturedEvent.id, CapturedAttendee.contact_id))
    if user_id is not None:
        query = query.where(CapturedEvent.user_id == user_id)
    return query


def release_claim(session: Session, meeting: UpcomingMeeting, claimed_at: datetime) -> None:
    """Give back the claim `BriefJob` made at `claimed_at` on `meeting` (and its copies in
    other calendars), so the next run briefs it; a claim made since by anything else stays."""
    session.execute(update(CapturedEvent).where(
        CapturedEvent.id.in_((meeting.meeting_id, *meeting.same_in_other_calendars)),
        CapturedEvent.brief_sent_at == claimed_at).values(brief_sent_at=None))


def brief_at(meeting: UpcomingMeeting, lead: timedelta = DEFAULT_LEAD) -> datetime:
    """When the brief for `meeting` is due: `lead` before it starts."""
    return meeting.start_at - lead


def lead_has_come(meeting: UpcomingMeeting, prep_minutes: int, now: datetime) -> bool:
    """Whether, with briefs `prep_minutes` ahead (0: off), the brief's moment has come."""
    return bool(prep_minutes) and now >= brief_at(meeting, timedelta(minutes=prep_minutes))


def briefs_due(meetings: Sequence[UpcomingMeeting], now: datetime,
               lead: timedelta = DEFAULT_LEAD) -> list[UpcomingMeeting]:
    """The meetings whose brief is due at `now`: inside the lead time, not yet started."""
    return [m for m in meetings if brief_at(m, lead) <= now < m.start_at]


# A brief is a message, so only while people are likely awake (the user's local time).
WAKING_FROM, WAKING_UNTIL = 7 * 60, 22 * 60
# The longest lead a user may choose (`settings prep`), so the query looks that far ahead.
LOOK_AHEAD = timedelta(minutes=120)
# (user id, brief text, the contacts met, for Show / Snooze buttons) -> True when sent; else
# the messenger's DeliveryResult, whose status tells a failure worth another try (`retry`)
# from one that will not go through as it is (`failed`, `gone`), or False (not sent, for a
# reason not said: tried again, as `retry` is).
Tell = Callable[[int, str, tuple[PersonButton, ...]], Awaitable[bool | DeliveryResult]]


class BriefJob:
    """Every minute: the brief for each meeting whose lead time has come, at most once."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], tell: Tell,
                 clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.db = Database(sessions)
        self.tell = tell
        self.clock = clock

    async def run_once(self) -> int:
        """Send the briefs that are due now; how many went out."""
        now = self.clock()
        async with self.sessions() as session:
            meetings = one_per_meeting(
                await upcoming_meetings(session, start=now, end=now + LOOK_AHEAD))
            if meetings:
                meetings = await session.run_sync(
                    lambda sync: self._worth_deciding(sync, meetings, now))
        sent = 0
        for meeting in meetings:
            brief = await self._decide_one(meeting, now)
            if brief is None:
                continue
            told = await self.tell(meeting.user_id, *brief)
            if told is True or (isinstance(told, DeliveryResult) and told.status == "sent"):
                sent += 1
            else:
                await self._not_sent(meeting, now, told)
        if sent:
            logger.info("meeting briefs sent", extra={"count": sent})
        return sent

    async def _not_sent(self, meeting: UpcomingMeeting, claimed_at: datetime,
                        told: bool | DeliveryResult) -> None:
        """A brief the messenger did not send. The meeting was claimed before sending (so
        that replicas brief it once): a failure worth another try gives the claim back, and
        the next run (a minute later) tries again while the meeting has not begun; one that
        cannot go through as it is stays claimed, and is logged, as a failed nudge is."""
        result = told if isinstance(told, DeliveryResult) else None
        status = result.status if result is not None else "retry"
        extra = {"meeting_id": meeting.meeting_id, "user_id": meeting.user_id,
                 "status": status, "error": (result.error if result else None) or "not sent"}
        if status != "retry":
            logger.warning("meeting brief failed, not retried", extra=extra)
            return
        await self.db.run(lambda session: release_claim(session, meeting, claimed_at))
        logger.warning("meeting brief not sent, retried next run", extra=extra)

    @staticmethod
    def _worth_deciding(session: Session, meetings: list[UpcomingMeeting], now: datetime
                        ) -> list[UpcomingMeeting]:
        """The meetings `_decide` could brief now: those whose user's lead time has come
        (`upcoming_meetings` reads only the ones not yet claimed). Read once for all of them,
        where each would otherwise take a transaction of its own every minute of the two
        hours it is in view, to find out it is not yet time. `_decide` checks again inside
        its transaction; a meeting left out here is looked at again next minute."""
        leads = queries.brief_leads(session, {meeting.user_id for meeting in meetings})
        return [meeting for meeting in meetings
                if lead_has_come(meeting, leads.get(meeting.user_id, 0), now)]

    async def _decide_one(self, meeting: UpcomingMeeting, now: datetime
                          ) -> tuple[str, tuple[PersonButton, ...]] | None:
        return await self.db.run(lambda session: self._decide(session, meeting, now))

    @staticmethod
    def _decide(session: Session, meeting: UpcomingMeeting, now: datetime
                ) -> tuple[str, tuple[PersonButton, ...]] | None:
        """In one transaction: is it time, may we, and what to say (claiming the meeting)."""
        prefs = queries.brief_prefs(session, meeting.user_id)
        if prefs is None:
            return None
        prep_minutes, paused_until, tz = prefs
        if not lead_has_come(meeting, prep_minutes, now):
            return None  # briefs off, or not yet
        local = now.astimezone(planner.zone(tz))
        minute = local.hour * 60 + local.minute
        if minute < WAKING_FROM:
            return None  # early: the brief waits for 07:00 if the meeting has not begun
        paused = paused_until is not None and paused_until > now
        # Another calendar's copy of this meeting, briefed before this one was captured: the
        # read of meetings to brief no longer shows it, so it is asked for here.
        briefed = queries.briefed_at(session, meeting.user_id, meeting.start_at)
        # Claimed either way: at most one brief per meeting, and none late or while paused.
        if not queries.claim_brief(session, meeting.meeting_id, now):
            return None
        for other in meeting.same_in_other_calendars:
            queries.claim_brief(session, other, now)
        if briefed or paused or minute >= WAKING_UNTIL:
            return None
        text = meeting_brief(session, meeting.user_id, meeting.contact_ids, meeting.start_at,
                             tz, now)
        if text is None:
            return None
        return text, brief_people(session, meeting.user_id, meeting.contact_ids)
