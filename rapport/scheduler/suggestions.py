"""Suggestions that adjust a person's plan: four deterministic rules over their own history.

Each rule reads only the user's rows and either proposes one change, with its reason in plain
words, or nothing. Nothing changes until the person answers yes (`rapport.bot.core.
suggestions`); every suggestion and its answer is a row in `suggestions`.

When and how often (docs/goals.md says the same):
- `suggestion_job` runs every hour; each user is evaluated at most once a day (the check is
  claimed in the database first, so several replicas evaluate a user once);
- at most one new suggestion per user per evaluation, and none while three are open;
- a rule waits for fresh evidence after the person answered it about the same person (or the
  same window), never repeats one still open, and never runs again once silenced;
- open suggestions nobody answered expire after 30 days.
The "add person" rule (people met in calendar meetings who are not contacts) is per person:
offered once per person; "Not now" (keep) or no answer waits for two new meetings after it;
"Never" (silence) is never offered again for that person alone; `suggestions off met` turns the
whole kind off.
They surface in `suggestions`, after `stats`, in Slack's App Home and Teams' stats card, and in
the weekly summary (with buttons on Slack and Teams).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.orm import Session

from rapport.scheduler import planner
from rapport.scheduler.attainment import every_phrase, number_word
from rapport.storage import queries
from rapport.storage.forgotten import ForgottenAddresses
from rapport.storage.uow import Database

logger = logging.getLogger(__name__)

PUT_OFF, MORE_OFTEN, WINDOW, DAYS, COFFEE = "put_off", "more_often", "window", "days", "coffee"
ADD_PERSON = "add_person"
KINDS = (PUT_OFF, MORE_OFTEN, WINDOW, DAYS, COFFEE, ADD_PERSON)
# How the person names a kind (`suggestions on window`) and how Rapport describes it.
KIND_LABELS = {PUT_OFF: "put-off people", MORE_OFTEN: "more often than planned",
               WINDOW: "delivery window", DAYS: "nudge days", COFFEE: "notes waiting",
               ADD_PERSON: "people you met"}
KIND_WORDS = {"put-off": PUT_OFF, "putoff": PUT_OFF, "put_off": PUT_OFF, "more-often": MORE_OFTEN,
              "more_often": MORE_OFTEN, "often": MORE_OFTEN, "window": WINDOW, "hours": WINDOW,
              "days": DAYS, "coffee": COFFEE, "notes": COFFEE, "met": ADD_PERSON,
              "people-met": ADD_PERSON, "attendees": ADD_PERSON, "add-person": ADD_PERSON}

OPEN, ACCEPTED, KEPT, SILENCED, EXPIRED = "open", "accepted", "kept", "silenced", "expired"

# Thresholds of the rules (docs/goals.md lists them).
PUT_OFF_IN_A_ROW = 3
MORE_OFTEN_WINDOW = timedelta(days=56)  # "for two months"
MORE_OFTEN_SPAN = timedelta(days=42)  # the first of those conversations at least 6 weeks ago
MORE_OFTEN_MIN_DAYS = 4  # days with a conversation in those two months
TIMING_MIN_NUDGES = 20
WINDOW_HOURS = 2
TIMING_MIN_GROUP = 5  # nudges inside and outside the hours compared
TIMING_GAP = 0.3  # acted-on rates at least 30 points apart
DAY_MIN_NUDGES = 4
DAYS_GAP = 0.35
COFFEE_MIN_NOTES = 2
COFFEE_WAIT = timedelta(days=30)
MET_WITHIN = timedelta(days=30)  # "this month"
# How long a meeting with someone who is not a contact is remembered (rapport.storage.models.
# MetPerson): the 30 days counted plus a little, so a meeting moved back still counts.
MET_KEEP = timedelta(days=45)
MET_MIN_MEETINGS = 2
MAX_OPEN = 3
CHECK_EVERY = timedelta(days=1)
EXPIRE_AFTER = timedelta(days=30)
SUGGESTION_SECONDS = 3600
BATCH = 200
# Same as the stats: acted on = done within 48 hours of arriving.
ACTED_ON_WITHIN = timedelta(hours=48)
_DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays",
              "Sundays")


@dataclass(frozen=True, slots=True)
class Proposal:
    """A change a rule proposes, with the sentence that explains it."""

    kind: str
    text: str
    dedupe_key: str
    contact_id: int | None = None
    proposed_days: int | None = None
    window: tuple[int, int] | None = None
    working_days: int | None = None
    # What the proposal replaces (a cadence, a window start, a days mask): an answer that comes
    # after it changed by other means finds the suggestion out of date.
    current_value: int | None = None
    # An "add person" offer: (email, name, company or None).
    attendee: tuple[str, str, str | None] | None = None


@dataclass(frozen=True, slots=True)
class CadenceNudge:
    id: int
    contact_id: int
    status: str
    snooze_count: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    name: str
    cadence_days: int | None
    last_touch_at: datetime | None
    cadence_months: int | None = None


@dataclass(frozen=True, slots=True)
class Delivered:
    """A nudge that reached the person, and whether they acted on it within 48 hours."""

    delivered_at: datetime
    acted_on: bool


@dataclass(frozen=True, slots=True)
class WaitingNote:
    contact_id: int
    created_at: datetime


@dataclass
class History:
    """Everything the rules look at for one user."""

    now: datetime
    tz: str
    window: tuple[int, int]
    working_days: int
    people: dict[int, Person]
    cadence_nudges: list[CadenceNudge] = field(default_factory=list)
    touches: dict[int, list[datetime]] = field(default_factory=dict)
    delivered: list[Delivered] = field(default_factory=list)
    notes: list[WaitingNote] = field(default_factory=list)
    # (kind, contact id or None) -> when the person last answered such a suggestion.
    answered: dict[tuple[str, int | None], datetime] = field(default_factory=dict)
    open: set[tuple[str, int | None]] = field(default_factory=set)
    silenced: frozenset[str] = frozenset()
    open_count: int = 0
    # Meetings with people who are not contacts (last MET_WITHIN), and what the user's
    # contacts tell about them: known addresses, the company of each email domain.
    met: list[queries.MetRow] = field(default_factory=list)
    contact_emails: frozenset[str] = frozenset()
    companies: dict[str, str] = field(default_factory=dict)
    # Per attendee email: offers open, offers silenced ("Never"), the last answer or expiry.
    attendee_open: set[str] = field(default_factory=set)
    attendee_never: set[str] = field(default_factory=set)
    attendee_answered: dict[str, datetime] = field(default_factory=dict)
    # People the user forgot (`forget Dana`): never offered again, whatever the calendar says.
    forgotten: ForgottenAddresses = field(default_factory=ForgottenAddresses)


def first(name: str) -> str:
    return name.split()[0] if name.split() else name


def hour_text(minute: int) -> str:
    """'9:00', '15:30' (as people write a time; no leading zero)."""
    return f"{minute // 60}:{minute % 60:02d}"


def _allowed(history: History, kind: str, contact_id: int | None) -> bool:
    return kind not in history.silenced and (kind, contact_id) not in history.open


def _since(history: History, kind: str, contact_id: int | None) -> datetime | None:
    return history.answered.get((kind, contact_id))


# ---------------------------------------------------------------------- rule 4: put off
def _twice_as_long(days: int, months: int | None) -> int:
    """Twice the person's rhythm, at most a year, in the days a proposal stores. A rhythm in
    calendar months doubles in months and is stored as a goal is, 30 days a month and 365 a
    year, so the proposal says months and accepting reads them back as calendar months
    (`planner.goal_months`); its days (122 for 4 months) doubled would say "every 244 days"."""
    if months:
        doubled = min(months * 2, 12)
        return 365 if doubled == 12 else doubled * 30
    return min(days * 2, 365)


def put_off(history: History) -> Iterable[Proposal]:
    """A person's cadence nudges snoozed or dismissed three times in a row (no conversation,
    no nudge done in between): propose a cadence twice as long."""
    by_contact: dict[int, list[CadenceNudge]] = defaultdict(list)
    for nudge in history.cadence_nudges:
        by_contact[nudge.contact_id].append(nudge)
    for contact_id in sorted(by_contact):
        person = history.people.get(contact_id)
        if person is None or not person.cadence_days or person.cadence_days >= 365:
            continue
        if not _allowed(history, PUT_OFF, contact_id):
            continue
        since = _since(history, PUT_OFF, contact_id)
        count, newest = 0, None
        for nudge in sorted(by_contact[contact_id], key=lambda n: (n.created_at, n.id),
                            reverse=True):
            if person.last_touch_at is not None and nudge.created_at <= person.last_touch_at:
                break  # a conversation happened after this one: the run ends here
            if since is not None and nudge.created_at <= since:
                break
            # Only a nudge answered ends the run. One expired by a conversation is older
            # than the last touch (above); one the next period's ask replaced, unanswered,
            # was left, and its snoozes still count.
            if nudge.status == "done":
                break
            put_offs = nudge.snooze_count + (1 if nudge.status == "dismissed" else 0)
            if put_offs and newest is None:
                newest = nudge.id
            count += put_offs
        if count >= PUT_OFF_IN_A_ROW and newest is not None:
            proposed = _twice_as_long(person.cadence_days, person.cadence_months)
            yield Proposal(
                kind=PUT_OFF, contact_id=contact_id, proposed_days=proposed,
                current_value=person.cadence_days,
                dedupe_key=f"{PUT_OFF}:{contact_id}:{newest}",
                text=(f"You've put off {first(person.name)} {number_word(count)} times. "
                      f"{every_phrase(proposed).capitalize()} instead?"))


# ---------------------------------------------------------------------- rule 5: more often
def more_often(history: History) -> Iterable[Proposal]:
    """Talking far more often than the cadence for two months: propose the real rhythm, so a
    slip is noticed."""
    start = history.now - MORE_OFTEN_WINDOW
    for contact_id in sorted(history.people):
        person = history.people[contact_id]
        cadence = person.cadence_days
        if not cadence or cadence < 14 or not _allowed(history, MORE_OFTEN, contact_id):
            continue
        since = _since(history, MORE_OFTEN, contact_id)
        if since is not None and since > start:
            continue  # two fresh months of evidence after the last answer
        days = sorted({planner.local_date(at, history.tz)
                       for at in history.touches.get(contact_id, ()) if start < at <= history.now})
        if len(days) < MORE_OFTEN_MIN_DAYS:
            continue
        if days[0] > planner.local_date(history.now - MORE_OFTEN_SPAN, history.tz):
            continue  # a burst, not two months of it
        interval = MORE_OFTEN_WINDOW.days / len(days)
        proposed = max(7, round(interval / 7) * 7)
        if proposed * 2 > cadence:
            continue
        rhythm = "weekly" if proposed == 7 else every_phrase(proposed)
        yield Proposal(
            kind=MORE_OFTEN, contact_id=contact_id, proposed_days=proposed,
            current_value=cadence,
            dedupe_key=f"{MORE_OFTEN}:{contact_id}:{history.now:%Y%m%d}",
            text=(f"You talk to {first(person.name)} about {rhythm}. "
                  f"Set {every_phrase(proposed)}, so I notice when it slips?"))


# ---------------------------------------------------------------------- rule 6: timing
def _rate(items: Sequence[Delivered]) -> float:
    return sum(1 for item in items if item.acted_on) / len(items)


def _pct(share: float) -> str:
    return f"{round(share * 100)}%"


def better_window(history: History) -> Iterable[Proposal]:
    """Nudges acted on much more in two hours of the day than at other times (at least 20
    answered nudges): propose those two hours as the delivery window."""
    if not _allowed(history, WINDOW, None):
        return
    since = _since(history, WINDOW, None)
    items = [d for d in history.delivered if since is None or d.delivered_at > since]
    if len(items) < TIMING_MIN_NUDGES:
        return
    hours = [(planner.zone(history.tz), d) for d in items]
    local = [(d.delivered_at.astimezone(z).hour, d) for z, d in hours]
    best: tuple[float, int, float, float] | None = None
    for start in range(0, 24 - WINDOW_HOURS + 1):
        if not any(h == start for h, _ in local):
            continue  # a window starts when nudges actually arrived
        inside = [d for h, d in local if start <= h < start + WINDOW_HOURS]
        outside = [d for h, d in local if not start <= h < start + WINDOW_HOURS]
        if len(inside) < TIMING_MIN_GROUP or len(outside) < TIMING_MIN_GROUP:
            continue
        rate_in, rate_out = _rate(inside), _rate(outside)
        if best is None or rate_in - rate_out > best[0]:
            best = (rate_in - rate_out, start, rate_in, rate_out)
    if best is None:
        return
    gap, start, rate_in, rate_out = best
    window = (start * 60, (start + WINDOW_HOURS) * 60)
    if gap < TIMING_GAP or rate_in < 0.5 or window == history.window:
        return
    earliest = min(h for h, _ in local)
    latest = max(h for h, _ in local)
    end = start + WINDOW_HOURS
    if earliest >= start:
        where = (f"before {hour_text(end * 60)} and {_pct(rate_out)} of those that arrive "
                 "later")
    elif latest < end:
        where = (f"after {hour_text(start * 60)} and {_pct(rate_out)} of those that arrive "
                 "earlier")
    else:
        where = (f"between {hour_text(start * 60)} and {hour_text(end * 60)} and "
                 f"{_pct(rate_out)} of those that arrive at other times")
    yield Proposal(
        kind=WINDOW, window=window, current_value=history.window[0] * 10_000 + history.window[1],
        dedupe_key=f"{WINDOW}:-:{history.now:%Y%m%d}",
        text=(f"You act on {_pct(rate_in)} of nudges that arrive {where}. Move your window to "
              f"{hour_text(window[0])}-{hour_text(window[1])}?"))


def better_days(history: History) -> Iterable[Proposal]:
    """Nudges acted on much less on some working days than on the others (at least 20
    answered nudges): propose leaving those days out."""
    if not _allowed(history, DAYS, None):
        return
    since = _since(history, DAYS, None)
    items = [d for d in history.delivered if since is None or d.delivered_at > since]
    if len(items) < TIMING_MIN_NUDGES:
        return
    by_day: dict[int, list[Delivered]] = defaultdict(list)
    for item in items:
        by_day[planner.local_date(item.delivered_at, history.tz).weekday()].append(item)
    bad = []
    for day in range(7):
        inside = by_day.get(day, [])
        outside = [d for other, group in by_day.items() if other != day for d in group]
        if len(inside) < DAY_MIN_NUDGES or len(outside) < 2 * DAY_MIN_NUDGES:
            continue
        if _rate(outside) - _rate(inside) >= DAYS_GAP:
            bad.append(day)
    remaining = history.working_days & ~sum(1 << day for day in bad)
    if not bad or not remaining or remaining == history.working_days:
        return
    bad_items = [d for day in bad for d in by_day[day]]
    good_items = [d for day, group in by_day.items() if day not in bad for d in group]
    names = [_DAY_NAMES[day] for day in bad]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    yield Proposal(
        kind=DAYS, working_days=remaining, current_value=history.working_days,
        dedupe_key=f"{DAYS}:-:{history.now:%Y%m%d}",
        text=(f"You act on {_pct(_rate(bad_items))} of nudges that arrive on {listed} and "
              f"{_pct(_rate(good_items))} on other days. Leave {listed} out of your nudge "
              "days?"))


# ---------------------------------------------------------------------- rule 7: coffee
def coffee(history: History) -> Iterable[Proposal]:
    """Two or more notes about a person and no conversation since any of them for a month:
    propose planning a coffee to ask about them."""
    waiting: dict[int, list[WaitingNote]] = defaultdict(list)
    for note in history.notes:
        person = history.people.get(note.contact_id)
        if person is None:
            continue
        if person.last_touch_at is None or note.created_at > person.last_touch_at:
            waiting[note.contact_id].append(note)
    for contact_id in sorted(waiting):
        notes = waiting[contact_id]
        newest = max(note.created_at for note in notes)
        if len(notes) < COFFEE_MIN_NOTES or history.now - newest < COFFEE_WAIT:
            continue
        if not _allowed(history, COFFEE, contact_id):
            continue
        since = _since(history, COFFEE, contact_id)
        if since is not None and newest <= since:
            continue
        count = number_word(len(notes))
        yield Proposal(
            kind=COFFEE, contact_id=contact_id, current_value=len(notes),
            dedupe_key=f"{COFFEE}:{contact_id}:{history.now:%Y%m%d}",
            text=(f"{count[:1].upper()}{count[1:]} things to ask "
                  f"{first(history.people[contact_id].name)} about are waiting. "
                  "Plan a coffee?"))


# ---------------------------------------------------------------------- add a person met
_NAME_PARTS = re.compile(r"[._-]+")


def name_from_email(email: str) -> str:
    """'sam.lee@globex.com' -> 'Sam Lee'; the address itself when its local part is not
    a first and last name."""
    parts = [part for part in _NAME_PARTS.split(email.split("@", 1)[0]) if part]
    if 2 <= len(parts) <= 3 and all(part.isalpha() for part in parts):
        return " ".join(part.capitalize() for part in parts)
    return email


def times_word(count: int) -> str:
    return "twice" if count == 2 else f"{number_word(count)} times"


def add_person(history: History) -> Iterable[Proposal]:
    """Someone who is not a contact, met in at least two meetings in the last 30 days (ended,
    not declined, not cancelled; each instance of a series counts): offer to add them once.
    After "Not now" or no answer, only meetings after that count."""
    if ADD_PERSON in history.silenced:
        return
    by_email: dict[str, list[queries.MetRow]] = defaultdict(list)
    start = history.now - MET_WITHIN
    for row in history.met:
        if row.start_at >= start and row.email not in history.contact_emails \
                and row.email not in history.forgotten:
            by_email[row.email].append(row)
    candidates = []
    for email, rows in by_email.items():
        if email in history.attendee_never or email in history.attendee_open:
            continue
        since = history.attendee_answered.get(email)
        # One meeting in two calendars (Google and Microsoft) is still one meeting.
        meetings = sorted({row.start_at for row in rows if since is None or row.start_at > since})
        if len(meetings) >= MET_MIN_MEETINGS:
            candidates.append((-len(meetings), -meetings[-1].timestamp(), email, rows, meetings))
    for _count, _latest, email, rows, meetings in sorted(candidates):
        named = [row.display_name for row in rows if row.display_name]
        name = named[-1] if named else name_from_email(email)
        company = history.companies.get(email.rsplit("@", 1)[-1])
        who = f"{name} ({company})" if company else name
        digest = hashlib.sha256(email.encode()).hexdigest()[:24]
        yield Proposal(
            kind=ADD_PERSON, attendee=(email, name, company),
            dedupe_key=f"{ADD_PERSON}:{digest}:{meetings[-1]:%Y%m%d%H%M}",
            text=f"You met {who} {times_word(len(meetings))} this month. Add to your people?")


RULES: tuple[Callable[[History], Iterable[Proposal]], ...] = (
    put_off, more_often, coffee, add_person, better_window, better_days)


def propose(history: History) -> Proposal | None:
    """The first proposal of the rules, in their order; None when nothing is worth saying."""
    if max(len(history.open), history.open_count) >= MAX_OPEN:
        return None
    for rule in RULES:
        for proposal in rule(history):
            return proposal
    return None


# ---------------------------------------------------------------------- reading history
def load_history(session: Session, user: queries.SuggestionUser, now: datetime) -> History:
    """Everything the rules read for one user (a handful of indexed reads)."""
    people = {row.id: Person(row.id, row.name, row.cadence_days, row.last_touch_at,
                             row.cadence_months)
              for row in queries.people_for_rules(session, user.user_id)}
    history = History(now=now, tz=user.tz, window=(user.window_start, user.window_end),
                      working_days=user.working_days, people=people,
                      silenced=frozenset(user.silenced))
    history.cadence_nudges = [CadenceNudge(*row) for row in
                              queries.cadence_nudges_for_rules(session, user.user_id)]
    for contact_id, at in queries.touches_since(session, user.user_id,
                                                now - MORE_OFTEN_WINDOW):
        history.touches.setdefault(contact_id, []).append(at)
    for status, _snoozes, delivered_at, acted_at in queries.nudge_outcomes(session,
                                                                         user.user_id):
        if delivered_at is None or status in ("planned", "claimed", "failed"):
            continue
        if status == "sent" and now - delivered_at <= ACTED_ON_WITHIN:
            continue  # still waiting for an answer
        acted = status == "done" and (acted_at is None
                                      or acted_at - delivered_at <= ACTED_ON_WITHIN)
        history.delivered.append(Delivered(delivered_at, acted))
    history.notes = [WaitingNote(*row) for row in queries.notes_for_rules(session,
                                                                          user.user_id)]
    for row in queries.suggestion_history(session, user.user_id):
        key = (row.kind, row.contact_id)
        if row.status == OPEN:
            history.open.add(key)
            history.open_count += 1
        elif row.answered_at is not None and row.status in (ACCEPTED, KEPT, SILENCED):
            history.answered[key] = max(history.answered.get(key, row.answered_at),
                                        row.answered_at)
        if row.attendee_email is not None:
            _attendee_history(history, row)
    if ADD_PERSON not in history.silenced:
        history.met = queries.met_for_rules(session, user.user_id, now - MET_WITHIN, now)
    if history.met:
        domains: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        emails = set()
        for email, company in queries.contact_emails_and_companies(session, user.user_id):
            address = (email or "").strip().lower()
            emails.add(address)
            if company and "@" in address:
                domains[address.rsplit("@", 1)[-1]][company] += 1
        emails |= queries.own_calendar_addresses(session, user.user_id)
        history.forgotten = queries.forgotten_addresses(session, user.user_id)
        history.contact_emails = frozenset(emails)
        # A domain's company is the one most of the user's contacts there work for.
        history.companies = {domain: max(names, key=lambda name: (names[name], name))
                             for domain, names in domains.items()}
    return history


def _attendee_history(history: History, row: queries.SuggestionHistoryRow) -> None:
    email = row.attendee_email
    assert email is not None
    if row.status == OPEN:
        history.attendee_open.add(email)
    elif row.status == SILENCED:
        history.attendee_never.add(email)
    else:  # accepted (then forgotten), kept, expired: only newer meetings count
        moment = row.answered_at or row.created_at
        if moment is not None:
            history.attendee_answered[email] = max(
                history.attendee_answered.get(email, moment), moment)


def evaluate_user(session: Session, user: queries.SuggestionUser, now: datetime
                  ) -> Proposal | None:
    """Claim today's check of one user, then record at most one new suggestion."""
    if not queries.claim_suggestion_check(session, user.user_id, user.checked_at, now):
        return None  # another replica took it
    queries.expire_old_suggestions(session, user.user_id, now - EXPIRE_AFTER)
    proposal = propose(load_history(session, user, now))
    if proposal is None:
        return None
    queries.insert_suggestion(
        session, workspace_id=user.workspace_id, user_id=user.user_id,
        contact_id=proposal.contact_id, kind=proposal.kind, text=proposal.text,
        dedupe_key=proposal.dedupe_key, proposed_days=proposal.proposed_days,
        proposed_window_start=proposal.window[0] if proposal.window else None,
        proposed_window_end=proposal.window[1] if proposal.window else None,
        proposed_working_days=proposal.working_days, current_value=proposal.current_value,
        now=now, attendee=proposal.attendee)
    return proposal


async def make_suggestions(db: Database, now: datetime) -> int:
    """Evaluate every user not checked in the last day; how many suggestions were made."""
    made, after = 0, 0
    while True:
        users = await db.run(partial(queries.users_due_for_suggestions,
                                     checked_before=now - CHECK_EVERY, limit=BATCH,
                                     after_id=after), write=False)
        for user in users:
            after = user.user_id
            try:
                proposal = await db.run(partial(evaluate_user, user=user, now=now))
            except Exception as error:  # one user's bad row must not stop the others
                logger.warning("suggestions failed for a user",
                               extra={"user_id": user.user_id, "error": type(error).__name__})
                continue
            if proposal is not None:
                made += 1
                logger.info("suggestion made", extra={"kind": proposal.kind,
                                                      "user_id": user.user_id})
        if len(users) < BATCH:
            return made


def suggestion_job(db: Database, clock: Callable[[], datetime] = planner.utcnow
                   ) -> Callable[[], Awaitable[None]]:
    """A no-argument coroutine function for APScheduler; failures are logged, not raised."""

    async def run() -> None:
        try:
            await make_suggestions(db, clock())
        except Exception as error:  # the scheduler must survive a failed run
            logger.error("suggestions failed; the next run retries",
                         extra={"error": type(error).__name__})

    return run


def by_kind(words: str) -> str | None:
    """The kind a person named (`suggestions on window`), or None."""
    return KIND_WORDS.get(words.strip().lower())


def counts(statuses: Mapping[str, int]) -> tuple[int, int, int, int, int]:
    """(made, accepted, kept, silenced, open) from a status -> count mapping."""
    return (sum(statuses.values()), statuses.get(ACCEPTED, 0), statuses.get(KEPT, 0),
            statuses.get(SILENCED, 0), statuses.get(OPEN, 0))
