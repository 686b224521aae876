"""The weekly summary DM: once a week, on the user's last working day up to Friday, in their window.

Several replicas may run the job at once: a user's week is claimed with a conditional update of
`User.summary_sent_on` before anything is sent, so each summary goes out once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from rapport.scheduler import planner
from rapport.scheduler.attainment import goal_attainments, goal_line
from rapport.scheduler.messenger import Messenger, OutgoingMessage, Recipient, SuggestionItem
from rapport.scheduler.suggestions import KIND_LABELS
from rapport.storage import queries
from rapport.storage.models import Contact, Touchpoint, User, Workspace

logger = logging.getLogger(__name__)

FRIDAY = 4
MAX_NAMES = 3
# The span the summary counts conversations in, up to the moment it is sent; `stats` says
# the same ("in the last 7 days").
SPAN_DAYS = 7
SPAN = f"In the last {SPAN_DAYS} days"


@dataclass
class SummaryReport:
    """What one run did, for logs and tests."""

    sent: int = 0
    retry: int = 0
    failed: int = 0


def summary_day(week_day: date, working_days: int) -> date | None:
    """The day of `week_day`'s Mon-Sun week the summary goes out: Friday, or the last working
    day before it (Sun-Thu weeks get Thursday); None when no day Mon-Fri is a working day."""
    monday = week_day - timedelta(days=week_day.weekday())
    for offset in range(FRIDAY, -1, -1):
        if planner.is_working_day(monday + timedelta(days=offset), working_days):
            return monday + timedelta(days=offset)
    return None


def summary_text(reconnected: int, overdue: list[str], goals: Sequence[str] = (),
                 suggestions: int = 0) -> str:
    """'In the last 7 days you reconnected with 4 people; 3 are overdue: Dana, Sam and Lee.',
    then one line per goal ('Clients: 7 of 9 within a month (78%), up from 56%') and a word
    about open suggestions. "The last 7 days", not "this week": that is what is counted
    (`_content`), so a Friday summary counts the previous Friday afternoon, and a calendar
    week would leave out the weekend after a Friday summary altogether."""
    if reconnected == 0:
        first = f"{SPAN} you did not log a conversation"
    else:
        first = f"{SPAN} you reconnected with {reconnected} " + (
            "person" if reconnected == 1 else "people")
    if not overdue:
        second = "nobody is overdue"
    else:
        names = overdue[:MAX_NAMES]
        more = len(overdue) - len(names)
        if more > 0:
            listed = ", ".join(names) + f" and {more} more"
        elif len(names) == 1:
            listed = names[0]
        else:
            listed = ", ".join(names[:-1]) + f" and {names[-1]}"
        second = f"{len(overdue)} " + ("is" if len(overdue) == 1 else "are") + \
            f" overdue: {listed}"
    lines = [f"{first}; {second}.", *goals]
    if suggestions:
        lines.append("I have a suggestion for you below." if suggestions == 1 else
                     f"I have {suggestions} suggestions for you below.")
    lines.append("Type “stats” for more, or “settings summary off” to stop these summaries.")
    return "\n".join(lines)


def _due_now(user: User, now: datetime) -> bool:
    prefs = planner.DeliveryPrefs(tz=user.tz, window_start_minute=user.window_start_minute,
                                  window_end_minute=user.window_end_minute,
                                  working_days=user.working_days, paused_until=user.paused_until)
    today = planner.local_date(now, user.tz)
    if summary_day(today, user.working_days) != today:
        return False
    if user.summary_sent_on is not None and user.summary_sent_on >= \
            today - timedelta(days=today.weekday()):
        return False  # already sent this week
    if prefs.paused_until is not None and prefs.paused_until > now:
        return False
    start = planner.local_moment(today, user.window_start_minute, user.tz)
    end = planner.local_moment(today, user.window_end_minute, user.tz)
    return start <= now < end


def _goals_and_suggestions(session: Session, user_id: int, now: datetime, tz: str
                           ) -> tuple[list[str], tuple[SuggestionItem, ...], list[int]]:
    """Goal lines, open suggestions, and the contacts those suggestions are about."""
    goals = [goal_line(goal) for goal in goal_attainments(session, user_id, now, tz=tz)
             if goal.now.members]
    rows = queries.open_suggestions(session, user_id, limit=3)
    open_ones = tuple(SuggestionItem(row.id, row.kind, row.text,
                                     KIND_LABELS.get(row.kind, row.kind)) for row in rows)
    return goals, open_ones, [row.contact_id for row in rows if row.contact_id is not None]


async def _content(session: AsyncSession, user_id: int, now: datetime, tz: str
                   ) -> tuple[int, list[tuple[int, str]]]:
    """How many people were talked to in the last `SPAN_DAYS` days, and the overdue contacts
    (id, name): past their rhythm's day in the user's calendar `tz`, as `people` and `stats`
    count."""
    reconnected = await session.scalar(
        select(func.count(Touchpoint.contact_id.distinct()))
        .where(Touchpoint.user_id == user_id,
               Touchpoint.happened_at >= now - timedelta(days=SPAN_DAYS),
               Touchpoint.happened_at <= now)) or 0
    # Due by now is the indexed superset; someone due today is not overdue, whatever the hour.
    overdue = [(contact_id, name) for contact_id, name, due in (await session.execute(
        select(Contact.id, Contact.name, Contact.next_due_at)
        .where(Contact.user_id == user_id, Contact.cadence_days.is_not(None),
               Contact.next_due_at <= now)
        .order_by(Contact.next_due_at, Contact.name_key))).all()
        if due is not None and planner.days_past_rhythm(due, now, tz) > 0]
    return reconnected, overdue


async def send_weekly_summaries(sessions: async_sessionmaker[AsyncSession],
                                messengers: Mapping[str, Messenger],
                                now: datetime) -> SummaryReport:
    """Send this week's summary to every user whose summary moment is now; once per week."""
    report = SummaryReport()
    # Local dates are within a day of UTC: this coarse filter only skips users whose summary
    # went out in the last few days, whatever their zone.
    recent = now.date() - timedelta(days=2)
    async with sessions() as session:
        rows = (await session.execute(
            select(User, Workspace.external_id, Workspace.platform)
            .join(Workspace, Workspace.id == User.workspace_id)
            .where(User.weekly_summary.is_(True), User.active.is_(True),
                   Workspace.active.is_(True), Workspace.platform.in_(list(messengers)),
                   or_(User.summary_sent_on.is_(None), User.summary_sent_on < recent))
            .order_by(User.id))).all()
    for user, workspace_external_id, platform in rows:
        if not _due_now(user, now):
            continue
        await _send_one(sessions, messengers[platform], user, workspace_external_id, platform,
                        now, report)
    if report.sent or report.retry or report.failed:
        logger.info("weekly summaries", extra={"sent": report.sent, "retry": report.retry,
                                               "failed": report.failed})
    return report


async def _send_one(sessions: async_sessionmaker[AsyncSession], messenger: Messenger,
                    user: User, workspace_external_id: str, platform: str, now: datetime,
                    report: SummaryReport) -> None:
    today = planner.local_date(now, user.tz)
    previous = user.summary_sent_on
    async with sessions() as session, session.begin():
        reconnected, overdue = await _content(session, user.id, now, user.tz)
        goals, suggestions, suggested_about = await session.run_sync(
            _goals_and_suggestions, user.id, now, user.tz)
        has_contacts = await session.scalar(
            select(Contact.id).where(Contact.user_id == user.id).limit(1))
        # Claim the week first: a second replica's update then matches no row.
        claimed = await session.execute(
            update(User).where(User.id == user.id, or_(User.summary_sent_on.is_(None),
                                                       User.summary_sent_on == previous))
            .values(summary_sent_on=today).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return
    if has_contacts is None:
        return  # nothing to summarise yet; the week still counts as done
    recipient = Recipient(workspace_id=user.workspace_id,
                          workspace_external_id=workspace_external_id, platform=platform,
                          user_id=user.id, user_external_id=user.external_id,
                          display_name=user.display_name, tz=user.tz)
    message = OutgoingMessage(recipient=recipient, kind="summary",
                              text=summary_text(reconnected, [name for _, name in overdue],
                                                goals, len(suggestions)),
                              suggestions=suggestions)
    delivered_ref: str | None = None
    try:
        result = await messenger.deliver(message)
    except Exception as error:  # a messenger bug must not stop the other users' summaries
        logger.exception("messenger raised on a summary", extra={"platform": platform})
        result_status, error_name = "retry", type(error).__name__
    else:
        result_status, error_name = result.status, result.error or ""
        delivered_ref = result.ref
    if result_status == "sent":
        report.sent += 1
        if delivered_ref:
            # Only the names the text shows (and the suggestions' people) count as named.
            named = [contact_id for contact_id, _ in overdue[:MAX_NAMES]] + suggested_about
            await _remember(sessions, user, delivered_ref, named, now)
        return
    async with sessions() as session, session.begin():
        if result_status == "retry":
            # Give the week back so the next run tries again (still inside the window).
            report.retry += 1
            await session.execute(update(User).where(User.id == user.id,
                                                     User.summary_sent_on == today)
                                  .values(summary_sent_on=previous))
        elif result_status == "gone":
            report.failed += 1
            await session.execute(update(User).where(User.id == user.id)
                                  .values(active=False, inactive_reason=error_name[:64]
                                          or "unreachable"))
        else:
            report.failed += 1
            logger.warning("summary not delivered", extra={"platform": platform,
                                                           "error": error_name[:100]})


async def _remember(sessions: async_sessionmaker[AsyncSession], user: User, ref: str,
                    named: list[int], now: datetime) -> None:
    """Record where the summary went, so forgetting someone it names clears it."""
    try:
        async with sessions() as session, session.begin():
            await session.run_sync(lambda sync: queries.record_delivered_message(
                sync, now, workspace_id=user.workspace_id, user_id=user.id,
                kind=queries.REDACT_SUMMARY, delivery_ref=ref, contact_ids=named))
    except Exception as error:  # it went out already; the other users' summaries still go
        logger.exception("summary sent but not recorded for redaction",
                         extra={"error": type(error).__name__})


def summary_job(sessions: async_sessionmaker[AsyncSession], messengers: Mapping[str, Messenger],
                clock: Callable[[], datetime] = planner.utcnow
                ) -> Callable[[], Awaitable[None]]:
    """A no-argument coroutine function for APScheduler; failures are logged, not raised."""

    async def run() -> None:
        try:
            await send_weekly_summaries(sessions, messengers, clock())
        except Exception as error:  # the scheduler must survive a failed run
            logger.error("weekly summaries failed; the next run retries",
                         extra={"error": type(error).__name__})

    return run
