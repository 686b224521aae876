"""How is it going? A user's effectiveness numbers, computed from what the database holds.

The classification of nudges is a pure function (`classify_nudge`) so the rules are easy to
read and to test; `compute_user_stats` only loads rows and counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from rapport.scheduler import planner, wording
from rapport.storage import queries
from rapport.storage.models import CALENDAR_SOURCE, SLACK_DM_SOURCE

logger = logging.getLogger(__name__)

# A nudge counts as acted on when it was marked done within this long after it reached the user.
ACTED_ON_WITHIN = timedelta(hours=48)
# Draft outcomes that mean the user sent (a version of) the draft.
USED_DRAFT_OUTCOMES = ("posted", "copied")
TOP_OVERDUE = 3
# Where Rapport logged a conversation by itself, as `stats` words it ("5 from your calendar").
SOURCE_WORDS = {CALENDAR_SOURCE: "your calendar", SLACK_DM_SOURCE: "your Slack DMs"}


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
    # Do drafts help? Drafts made for nudges vs others, discards, how much of a used draft the
    # person rewrote, and the acted-on rate of nudges with a draft vs without (acted, answered).
    drafts_on_nudges: int = 0
    drafts_other: int = 0
    drafts_discarded: int = 0
    mean_rewritten_share: float | None = None
    with_draft: tuple[int, int] = (0, 0)
    without_draft: tuple[int, int] = (0, 0)
    # Of the month's conversations, those Rapport logged by itself: (source, count), by source.
    automatic_month: tuple[tuple[str, int], ...] = ()

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

    @property
    def acted_on_rate_with_draft(self) -> float | None:
        acted, answered = self.with_draft
        return acted / answered if answered else None

    @property
    def acted_on_rate_without_draft(self) -> float | None:
        acted, answered = self.without_draft
        return acted / answered if answered else None


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


def compute_user_stats(session: Session, user_id: int, now: datetime, *, tz: str
                       ) -> UserStats:
    """Count one user's touchpoints, nudges, contact health and drafts as of `now`, days
    in the user's time zone `tz`."""
    week, month, reconnected = queries.touch_counts(
        session, user_id, week_ago=now - timedelta(days=7), month_ago=now - timedelta(days=30),
        now=now)
    automatic = queries.automatic_touch_counts(session, user_id,
                                               month_ago=now - timedelta(days=30), now=now)
    counts = dict.fromkeys(("acted_on", "done_late", "dismissed", "snoozed", "ignored",
                            "waiting"), 0)
    drafts = queries.draft_measures(session, user_id)
    drafted = {nudge_id for nudge_id, *_ in drafts if nudge_id is not None}
    with_draft, without_draft = [0, 0], [0, 0]
    for nudge_id, status, snoozes, delivered_at, acted_at in queries.nudge_outcomes_by_id(
            session, user_id):
        kind = classify_nudge(status, snoozes, delivered_at, acted_at, now)
        if kind is not None:
            counts[kind] += 1
        if kind is not None and kind != "waiting":
            side = with_draft if nudge_id in drafted else without_draft
            side[0] += kind == "acted_on"
            side[1] += 1
    contacts = queries.contact_rhythms(session, user_id)
    with_cadence = [(cid, name, due) for cid, name, cadence, due in contacts if cadence]
    # Someone due today is still within their rhythm: its day has not passed.
    overdue = sorted((OverdueContact(cid, name, planner.days_past_rhythm(due, now, tz))
                      for cid, name, due in with_cadence
                      if due is not None and not planner.within_rhythm(due, now, tz)),
                     key=lambda o: (-o.days_overdue, o.name.casefold()))
    used = [distance for _, outcome, distance, _ in drafts if outcome in USED_DRAFT_OUTCOMES]
    measured = [distance for distance in used if distance is not None]
    rewritten = [rewritten_share(distance, length) for _, outcome, distance, length in drafts
                 if outcome in USED_DRAFT_OUTCOMES and distance is not None]
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
        mean_edit_distance=sum(measured) / len(measured) if measured else None,
        drafts_on_nudges=len(drafted),
        drafts_other=sum(1 for nudge_id, *_ in drafts if nudge_id is None),
        drafts_discarded=sum(1 for _, outcome, *_ in drafts if outcome == "discarded"),
        mean_rewritten_share=sum(rewritten) / len(rewritten) if rewritten else None,
        with_draft=(with_draft[0], with_draft[1]),
        without_draft=(without_draft[0], without_draft[1]),
        automatic_month=tuple(sorted(automatic.items())))


def automatic_note(stats: UserStats) -> str:
    """'5 from your calendar' (or '' when Rapport logged none of the month's by itself)."""
    return ", ".join(f"{count} from {SOURCE_WORDS.get(source, source)}"
                     for source, count in stats.automatic_month if count)


def rewritten_share(edit_distance: int, draft_length: int) -> float:
    """How much of a draft the person rewrote: edit distance over the draft's length, at
    most 100 %. The length is the column kept when retention clears the draft's text."""
    return min(edit_distance / max(draft_length, 1), 1.0)


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)}%"


def format_stats_text(stats: UserStats) -> str:
    """The stats as plain text (console, and the fallback text on every platform)."""
    people = "person" if stats.people_reconnected_week == 1 else "people"
    automatic = automatic_note(stats)
    lines = [f"Conversations logged: {stats.touchpoints_week} in the last 7 days "
             f"({stats.people_reconnected_week} {people}), {stats.touchpoints_month} in 30 days"
             + (f" ({automatic})." if automatic else ".")]
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
        health = (f"Health: {stats.contacts_within_cadence} of "
                  f"{wording.counted(stats.contacts_with_cadence, 'person', 'people')} "
                  f"within their rhythm ({_percent(stats.health_share)}).")
        if stats.most_overdue:
            slipped = ", ".join(f"{o.name} ({planner.humanize_days(o.days_overdue)} overdue)"
                                for o in stats.most_overdue)
            health += f" Slipped most: {slipped}."
        lines.append(health)
    else:
        lines.append("Health: no keep-in-touch rhythms set yet (try “every Dana 2 weeks”).")
    if stats.drafts_total:
        lines.append(drafts_line(stats))
    return "\n".join(lines)


def drafts_line(stats: UserStats) -> str:
    """Whether drafts earn their place, in one line: 'Drafts: used on 12 nudges, 10 sent after
    your edits (avg 46% rewritten); nudges with a draft were acted on 83% vs 61% without.'"""
    if stats.drafts_on_nudges and not stats.drafts_other:
        made = f"used on {stats.drafts_on_nudges} nudge" + (
            "" if stats.drafts_on_nudges == 1 else "s")
    elif stats.drafts_on_nudges:
        made = f"{stats.drafts_total} made, {stats.drafts_on_nudges} of them on nudges"
    else:
        made = f"{stats.drafts_total} made"
    line = f"Drafts: {made}, {stats.drafts_used} sent after your edits"
    if stats.mean_rewritten_share is not None:
        line += f" (avg {_percent(stats.mean_rewritten_share)} rewritten)"
    if stats.drafts_discarded:
        line += f", {stats.drafts_discarded} discarded"
    with_rate, without_rate = stats.acted_on_rate_with_draft, stats.acted_on_rate_without_draft
    if with_rate is not None and without_rate is not None:
        line += (f"; nudges with a draft were acted on {_percent(with_rate)} vs "
                 f"{_percent(without_rate)} without")
    elif with_rate is not None:
        line += f"; nudges with a draft were acted on {_percent(with_rate)}"
    return line + "."
