"""Recording, moving and deleting touchpoints, keeping each contact's keep-in-touch clock right.

Synchronous functions on one `Session`, so they run inside any unit of work: a typed command,
a nudge's "done", or a connector that captured a meeting. The rule they keep: a contact's
`last_touch_at` is the newest touchpoint, and the cadence clock (`next_due_at`, `plan_at`)
counts from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from rapport.scheduler import planner
from rapport.storage import queries
from rapport.storage.models import CALENDAR_SOURCE, TYPED_SOURCE, Touchpoint

MAX_KIND_CHARS = 32


def record_touchpoint(session: Session, *, workspace_id: int, user_id: int, contact_id: int,
                      happened_at: datetime, kind: str, summary: str | None, source: str,
                      now: datetime, open_cadence_nudges: Sequence[int] | None = None,
                      state: queries.TouchState | None = None, day_only: bool = False) -> int:
    """Insert a touchpoint, move the contact's clock forward, close its cadence nudges
    (`open_cadence_nudges`: their ids when the caller read them already; none: no update).

    `state`: the contact as the caller read it already in this unit (`queries.touch_state`):
    nothing is read again, and the writes go together (one statement on PostgreSQL).
    `day_only`: logged for a day, at `DAY_ONLY_MINUTE` of it (see `day_logs_to_move`)."""
    if state is not None:
        # The clock's inputs (cadence, creation, last touch) are the same before and after
        # the touchpoint's insert: the new clock is known before anything is written.
        last, next_due = _restarted_clock(state.clock, happened_at)
        return queries.insert_touchpoint_with_clock(
            session, workspace_id=workspace_id, user_id=user_id, contact_id=contact_id,
            happened_at=happened_at, kind=kind[:MAX_KIND_CHARS], summary=summary,
            source=source, now=now, close_cadence=bool(state.open_nudges),
            last_touch_at=last, next_due_at=next_due, day_only=day_only)
    touchpoint_id = queries.insert_touchpoint(
        session, workspace_id=workspace_id, user_id=user_id, contact_id=contact_id,
        happened_at=happened_at, kind=kind[:MAX_KIND_CHARS], summary=summary, source=source,
        now=now, day_only=day_only)
    # Talking to someone answers the "it has been a while" nudges about them...
    if open_cadence_nudges is None or open_cadence_nudges:
        queries.close_cadence_nudges(session, user_id, contact_id, now)
    contact = queries.contact_clock_inputs(session, contact_id)
    if contact is not None:
        # ...and the clock restarts (plan_at too, so the next one gets planned).
        last, next_due = _restarted_clock(contact, happened_at)
        queries.set_contact_clock(session, contact_id, last_touch_at=last, next_due_at=next_due)
    return touchpoint_id


def _restarted_clock(contact: queries.ClockInputs, happened_at: datetime
                     ) -> tuple[datetime, datetime | None]:
    """(last touch, next due) after a conversation at `happened_at`. A backdated one never
    moves the clock backwards: never more overdue than before."""
    last = happened_at if contact.last_touch_at is None \
        else max(contact.last_touch_at, happened_at)
    return last, planner.cadence_next_due(last, contact.cadence_days, contact.created_at,
                                          contact.cadence_months, tz=contact.tz)


class Met(NamedTuple):
    """One conversation to record in a batch: with whom and when (a named tuple: a calendar
    page makes dozens, and a frozen dataclass costs several times as much to make)."""

    contact_id: int
    happened_at: datetime


def record_touchpoints(session: Session, *, workspace_id: int, user_id: int,
                       meetings: Sequence[Met], kind: str, source: str, now: datetime
                       ) -> list[int]:
    """`record_touchpoint` for many conversations of one user at once (what a calendar sync
    logs): the same rows and clocks, in three statements however many (four when some of
    the contacts have cadence nudges to close). Ids in order."""
    if not meetings:
        return []
    ids = queries.insert_touchpoints(
        session, workspace_id=workspace_id, user_id=user_id, kind=kind[:MAX_KIND_CHARS],
        summary=None, source=source, now=now,
        meetings=[(met.contact_id, met.happened_at) for met in meetings])
    newest: dict[int, datetime] = {}
    for met in meetings:
        seen = newest.get(met.contact_id)
        newest[met.contact_id] = met.happened_at if seen is None else max(seen, met.happened_at)
    inputs, open_cadence = queries.clock_inputs_of(session, user_id, newest)
    # Most contacts have no cadence nudge out or planned: the UPDATE runs only for those
    # that do (the read above said which).
    queries.close_cadence_nudges_of(session, user_id, open_cadence, now)
    clocks = [(contact_id, *_restarted_clock(contact, newest[contact_id]))
              for contact_id, contact in inputs.items()]
    queries.set_contact_clocks(session, clocks)
    return ids


def calendar_touch_on(session: Session, user_id: int, contact_id: int, day: date, tz: str
                      ) -> tuple[int, str] | None:
    """(id, kind) of the meeting with this contact the calendar logged on the user's local
    `day` (the latest, when several were) and still owns, which the person's own log of that
    day completes (`complete_calendar_touch`); None when there is none."""
    return queries.calendar_touch_between(
        session, user_id, contact_id, planner.local_moment(day, 0, tz),
        planner.local_moment(day + timedelta(days=1), 0, tz))


def complete_calendar_touch(session: Session, *, user_id: int, contact_id: int,
                            touchpoint_id: int, kind: str | None, summary: str | None,
                            now: datetime) -> list[int]:
    """The person logged, that day, the meeting the calendar had logged: one conversation,
    not two. It takes their words, and their kind when they said one (None: the calendar's
    stays), and becomes theirs (no longer marked as logged from the calendar, never moved or
    deleted by it, as a correction is); it keeps the meeting's own moment, which the clock
    counts from already. Returns the captured attendee rows that no longer follow it (for
    undo: `Change.let_go_captured`)."""
    said = {} if kind is None else {"kind": kind[:MAX_KIND_CHARS]}
    queries.update_touchpoint(session, user_id, touchpoint_id, summary=summary,
                              source=TYPED_SOURCE, **said)
    # As any logged conversation does (the calendar's sync closed those out then already;
    # one sent since is answered now).
    queries.close_cadence_nudges(session, user_id, contact_id, now)
    return queries.take_over_captured(session, touchpoint_id)


def move_touchpoint(session: Session, touchpoint_id: int, happened_at: datetime,
                    day_only: bool | None = None) -> None:
    """A touchpoint happened at another moment (a meeting moved, or a person's correction:
    `day_only` says whether it now stands for a day): the clock follows."""
    contact_id = queries.move_touchpoint(session, touchpoint_id, happened_at, day_only)
    if contact_id is not None:
        recompute_clock(session, contact_id)


def delete_touchpoint(session: Session, touchpoint_id: int) -> None:
    """Remove a touchpoint (a cancelled meeting, a correction); the clock goes back to the
    newest touchpoint that remains."""
    contact_id = queries.delete_touchpoint(session, touchpoint_id)
    if contact_id is not None:
        recompute_clock(session, contact_id)


def drop_calendar_touchpoint(session: Session, touchpoint_id: int | None) -> int:
    """The calendar takes back a meeting it logged (cancelled, no longer with that contact):
    its touchpoint goes, unless it is the person's own (`queries.calendar_owned`) or another
    calendar holding the same meeting takes it over. Returns 1 when one was deleted."""
    if touchpoint_id is None or not queries.calendar_owned(session, touchpoint_id):
        return 0
    if queries.hand_calendar_touchpoint_over(session, touchpoint_id):
        return 0
    delete_touchpoint(session, touchpoint_id)
    return 1


def logged_by_hand(session: Session, contact_id: int, moment: datetime, tz: str, *,
                   besides: datetime | None = None) -> bool:
    """Whether a touchpoint with the contact not logged by a calendar is on the local day of
    `moment`, other than one at `besides`: that day's is the person's alone, and a meeting
    adds no second one (a sync's rule, and undo's when it gives a touchpoint back)."""
    day = planner.local_date(moment, tz)
    query = select(Touchpoint.id).where(
        Touchpoint.contact_id == contact_id, Touchpoint.source != CALENDAR_SOURCE,
        Touchpoint.happened_at >= planner.local_moment(day, 0, tz),
        Touchpoint.happened_at < planner.local_moment(day + timedelta(days=1), 0, tz))
    if besides is not None:
        query = query.where(Touchpoint.happened_at != besides)
    return session.scalar(query.limit(1)) is not None


# A conversation logged for a day rather than a moment ("log Dana yesterday") is kept at noon
# of that day in the user's zone, so its day reads the same in any zone within 12 hours.
DAY_ONLY_MINUTE = 12 * 60


@dataclass(frozen=True, slots=True)
class DayLogMove:
    touchpoint_id: int
    contact_id: int
    happened_at: datetime


def day_logs_to_move(session: Session, user_id: int, old_tz: str, new_tz: str,
                     now: datetime) -> list[DayLogMove]:
    """The user's conversations logged for a day, each moved to noon of the same day in
    `new_tz`: after a move across the world, "yesterday" stays the day it was (read only;
    `move_day_logs` writes). Whatever its source, a conversation logged at a moment (a
    meeting from the calendar, `log Dana: call` now) keeps it."""
    if old_tz == new_tz:
        return []
    old_zone = planner.zone(old_tz)
    moves = []
    for touchpoint_id, contact_id, happened_at in queries.day_only_touches(session, user_id):
        local = happened_at.astimezone(old_zone)
        moved = min(now, planner.local_moment(local.date(), DAY_ONLY_MINUTE, new_tz))
        if moved != happened_at:
            moves.append(DayLogMove(touchpoint_id, contact_id, moved))
    return moves


def move_day_logs(session: Session, moves: Sequence[DayLogMove]) -> None:
    """Write `day_logs_to_move`'s moves and the clocks of the contacts they belong to."""
    queries.set_touch_moments(session, [(m.touchpoint_id, m.happened_at) for m in moves])
    for contact_id in sorted({m.contact_id for m in moves}):
        recompute_clock(session, contact_id)


def recompute_clock(session: Session, contact_id: int) -> None:
    """Set the contact's last touch to its newest touchpoint and the cadence clock from it."""
    contact = queries.contact_clock_inputs(session, contact_id)
    if contact is None:
        return
    newest = queries.newest_touch(session, contact_id)
    queries.set_contact_clock(session, contact_id, last_touch_at=newest,
                              next_due_at=planner.cadence_next_due(
                                  newest, contact.cadence_days, contact.created_at,
                                  contact.cadence_months, tz=contact.tz))
