"""How is it going? A user's effectiveness numbers, computed from what the database holds.

The classification of nudges is a pure function (`classify_nudge`) so the rules are easy to
read and to test; `compute_user_stats` only loads rows and counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from rapport.scheduler import planner
from rapport.storage import queries

logger = logging.getLogger(__name__)

# A nudge counts as acted on when it was marked done within this long after it reached the user.
ACTED_ON_WITHIN = timedelta(hours=48)
# Draft outcomes that mean the user sent (a version of) the draft.
USED_DRAFT_OUTCOMES = ("posted", "copied")
TOP_OVERDUE = 3


@dataclass(frozen=True, slots=True)
class OverdueContact:
    """A contact past their keep-in-touch rhythm."""

    contact_id: int
    name: str
    days_overdue: int


@dataclass(frozen=True, slots=True)
class UserStats:
    """One user's numbers; platforms render these (App Home, Adaptive Card, console text)."""

    touchpoints_week: int
    touchpoints_month: int
    people_reconnected_week: int
    nudges_acted_on: int
    nudges_done_late: int
    nudges_snoozed: int
    nudges_dismissed: int
    nudges_ignored: int
    nudges_waiting: int
    contacts_total: int
    contacts_with_cadence: int
    contacts_within_cadence: int
    most_overdue: tuple[OverdueContact, ...]
    drafts_total: int
    drafts_used: int
    drafts_edited: int
    mean_edit_distance: float | None

    @property
    def nudges_resolved(self) -> int:
        """Nudges whose fate is known (everything but those still waiting for the user)."""
        return (self.nudges_acted_on + self.nudges_done_late + self.nudges_snoozed
                + self.nudges_dismissed + self.nudges_ignored)

    @property
    def acted_on_rate(self) -> float | None:
        """Share of resolved nudges that led to a conversation within 48 hours."""
        resolved = self.nudges_resolved
        return self.nudges_acted_on / resolved if resolved else None

    @property
    def overdue_count(self) -> int:
        return self.contacts_with_cadence - self.contacts_within_cadence

    @property
    def health_share(self) -> float | None:
        """Share of contacts with a rhythm that are within it."""
        if not self.contacts_with_cadence:
            return None
        return self.contacts_within_cadence / self.contacts_with_cadence

    @property
    def edited_share(self) -> float | None:
        """Share of used drafts the user changed before sending."""
        return self.drafts_edited / self.drafts_used if self.drafts_used else None


def classify_nudge(status: str, snooze_count: int, delivered_at: datetime | None,
                   acted_at: datetime | None, now: datetime) -> str | None:
    """'acted_on', 'done_late', 'dismissed', 'snoozed', 'ignored', 'waiting' or None.

    None means the nudge never reached the user and was not acted on (planned, expired
    before delivery, failed): it says nothing about the user.
    """
    if status == "done":
        if delivered_at is None or acted_at is None or acted_at - delivered_at <= ACTED_ON_WITHIN:
            return "acted_on"
        return "done_late"
    if status == "dismissed":
        return "dismissed"
    if snooze_count > 0:
        return "snoozed"
    if delivered_at is None:
        return None
    if status == "sent":
        return "ignored" if now - delivered_at > ACTED_ON_WITHIN else "waiting"
    if status == "expired":
        # Reached the user, then answered by a conversation logged some other way.
        return "ignored"
    return None


def overdue_days(next_due_at: datetime, now: datetime) -> int:
    """Whole days past the rhythm (0 on the day it fell due)."""
    return max((now - next_due_at).days, 0)


def compute_user_stats(session: Session, user_id: int, now: datetime) -> UserStats:
    """Count one user's touchpoints, nudges, contact health and drafts as of `now`."""
    week, month, reconnected = queries.touch_counts(
        session, user_id, week_ago=now - timedelta(days=7), month_ago=now - timedelta(days=30),
        now=now)
    counts = dict.fromkeys(("acted_on", "done_late", "dismissed", "snoozed", "ignored",
                            "waiting"), 0)
    for status, snoozes, delivered_at, acted_at in queries.nudge_outcomes(session, user_id):
        kind = classify_nudge(status, snoozes, delivered_at, acted_at, now)
        if kind is not None:
            counts[kind] += 1
    contacts = queries.contact_rhythms(session, user_id)
    with_cadence = [(cid, name, due) for cid, name, cadence, due in contacts if cadence]
    overdue = sorted(
        (OverdueContact(cid, name, overdue_days(due, now))
         for cid, name, due in with_cadence if due is not None and due <= now),
        key=lambda o: (-o.days_overdue, o.name.casefold()))
    drafts = queries.draft_outcomes(session, user_id)
    used = [distance for outcome, distance in drafts if outcome in USED_DRAFT_OUTCOMES]
    measured = [distance for distance in used if distance is not None]
    return UserStats(
        touchpoints_week=week or 0, touchpoints_month=month or 0,
        people_reconnected_week=reconnected or 0,
        nudges_acted_on=counts["acted_on"], nudges_done_late=counts["done_late"],
        nudges_snoozed=counts["snoozed"], nudges_dismissed=counts["dismissed"],
        nudges_ignored=counts["ignored"], nudges_waiting=counts["waiting"],
        contacts_total=len(contacts), contacts_with_cadence=len(with_cadence),
        contacts_within_cadence=len(with_cadence) - len(overdue),
        most_overdue=tuple(overdue[:TOP_OVERDUE]),
        drafts_total=len(drafts), drafts_used=len(used),
        drafts_edited=sum(1 for distance in measured if distance > 0),
        mean_edit_distance=sum(measured) / len(measured) if measured else None)


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)}%"


def format_stats_text(stats: UserStats) -> str:
    """The stats as plain text (console, and the fallback text on every platform)."""
    people = "person" if stats.people_reconnected_week == 1 else "people"
    lines = [f"Conversations logged: {stats.touchpoints_week} in the last 7 days "
             f"({stats.people_reconnected_week} {people}), {stats.touchpoints_month} in 30 days."]
    if stats.nudges_resolved or stats.nudges_waiting:
        late = f", {stats.nudges_done_late} done later" if stats.nudges_done_late else ""
        lines.append(
            f"Nudges: {stats.nudges_acted_on} acted on within 48 hours{late}, "
            f"{stats.nudges_snoozed} snoozed, {stats.nudges_dismissed} dismissed, "
            f"{stats.nudges_ignored} left unanswered"
            + (f", {stats.nudges_waiting} waiting for you" if stats.nudges_waiting else "")
            + (f" (acted-on rate {_percent(stats.acted_on_rate)})."
               if stats.acted_on_rate is not None else "."))
    else:
        lines.append("Nudges: none yet.")
    if stats.contacts_with_cadence:
        health = (f"Health: {stats.contacts_within_cadence} of {stats.contacts_with_cadence} "
                  f"people within their rhythm ({_percent(stats.health_share)}).")
        if stats.most_overdue:
            slipped = ", ".join(f"{o.name} ({planner.humanize_days(o.days_overdue)} overdue)"
                                for o in stats.most_overdue)
            health += f" Slipped most: {slipped}."
        lines.append(health)
    else:
        lines.append("Health: no keep-in-touch rhythms set yet (try “every Dana 2 weeks”).")
    if stats.drafts_total:
        edited = ""
        if stats.drafts_used:
            edited = f"; you edited {stats.drafts_edited} of them"
            if stats.mean_edit_distance is not None:
                edited += f" (on average {stats.mean_edit_distance:.0f} characters changed)"
        lines.append(f"Drafts: {stats.drafts_total} made, {stats.drafts_used} used{edited}.")
    return "\n".join(lines)
