"""A person at a glance (`show`) and finding anything again (`search`): read-only use cases.

The card puts what to ask about first (meeting prep), then the rhythm, notes and the last
five conversations with handles (`n3`, `t7`) that `edit` and `delete` accept.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

from rapport.bot.core import commands as c
from rapport.bot.core.context import Turn
from rapport.bot.core.goals import person_badges
from rapport.bot.core.overview import (
    coming_day,
    contact_health,
    delivery_moments,
    paused_until,
    reminder_days,
)
from rapport.bot.core.people import unknown_mention
from rapport.bot.core.resolve import Resolved, resolve
from rapport.bot.core.views import (
    DateLine,
    NoteLine,
    PersonView,
    Reply,
    SearchHit,
    SearchView,
    TouchLine,
    error,
)
from rapport.scheduler import planner, wording
from rapport.scheduler.items import called_names
from rapport.storage import queries
from rapport.storage.models import CALENDAR_SOURCE, SLACK_DM_SOURCE

MAX_NOTES = 10
LAST_TOUCHES = 5
MAX_ASK_ABOUT = 3
MAX_HITS = 20
# A person has a few nudges at most (a rhythm, some notes, two yearly dates).
MAX_SNOOZED = 20


def show(turn: Turn, command: c.ShowPerson) -> Reply:
    result = resolve(turn.session, turn.user.user_id, command.person)
    if not isinstance(result, Resolved):
        if command.person.mention_id:
            # "@Dana", typed alone or after `show`: whoever they are, named as the user sees
            # them, with what to do next; never the mention's markup.
            return error(unknown_mention(turn, command.person))
        # A bare word that names nobody was more likely a mistyped command; so is a lowercase
        # one that only comes close to a name ("Which Dana …?" still asks).
        ambiguous = result.message.startswith("Which ")
        if command.unknown and (not result.suggestions or (command.exact and not ambiguous)):
            return error(command.unknown)
        return error(result.message)
    view = person_view(turn, result.contact.id)
    if view is None:
        return error("I can't find that person among yours.")
    return Reply(person_text(view), view=view)


def person_view(turn: Turn, contact_id: int) -> PersonView | None:
    """Everything the card shows, read in this unit of work."""
    session, user_id, tz, today = turn.session, turn.user.user_id, turn.user.tz, turn.today
    state = queries.contact_state(session, user_id, contact_id)
    if state is None:
        return None
    note_rows = queries.notes_of_contact(session, user_id, contact_id, MAX_NOTES)
    acted = queries.acted_note_ids(session, user_id, [row[0] for row in note_rows])
    # A snoozed nudge is neither out nor planned: the card says the day it comes back, as
    # `due` does.
    snoozed = queries.snoozed_nudges_of_contact(session, user_id, contact_id, MAX_SNOOZED)
    snoozed_notes: dict[int, date] = {}
    for back, note_id in snoozed:
        if note_id is not None:
            snoozed_notes.setdefault(note_id, coming_day(turn, back))  # soonest first
    flags = queries.person_flags(session, user_id, contact_id)
    # What their reminders call them (the full name when another contact has that first
    # name), read only when the card says it: in a note's reminder or a drafts badge.
    called = called_names(session, {contact_id: state.name})[contact_id] \
        if note_rows or (flags and (flags.sensitive or not flags.ai_drafts)) \
        else wording.first_name(state.name)

    # A follow-up still to come says the day its reminder comes, as `due` does.
    comes = reminder_days(turn)

    def line(row: tuple[Any, ...], *, is_open: bool) -> NoteLine:
        note_id, text, created, follow_up, event, plan = row
        return NoteLine(note_id=note_id, text=text, noted_on=planner.local_date(created, tz),
                        follow_up_on=follow_up, event_on=event, open=is_open,
                        reminder=wording.reminder(state.name, text, called=called),
                        snoozed_to=snoozed_notes.get(note_id),
                        comes_on=None if plan is None else comes(plan))

    notes = tuple(line(row, is_open=row[3] is not None and row[0] not in acted)
                  for row in note_rows)
    # The open follow-ups of all their notes, not only of the newest listed below: enough
    # rows to sort the snoozed ones in by the day they come back.
    follow_ups = tuple(line(row, is_open=True) for row in queries.open_follow_ups(
        session, user_id, contact_id, list(snoozed_notes), len(snoozed_notes) + MAX_ASK_ABOUT))
    nudge_now, next_nudge_on = _next_nudge(turn, contact_id, [back for back, _ in snoozed])
    touches = tuple(
        TouchLine(touchpoint_id=touch_id, day=planner.local_date(at, tz), kind=kind,
                  summary=summary, source=source)
        for touch_id, at, kind, summary, source in queries.touches_of_contact(
            session, user_id, contact_id, LAST_TOUCHES))
    dates = tuple(
        DateLine(kind=kind, month=month, day=day, year=year,
                 next_on=planner.yearly_occurrence(month, day, today))
        for kind, month, day, year in queries.dates_of_contact(session, user_id, contact_id))
    made, used = queries.draft_usage(session, user_id, contact_id)
    badges = person_badges(flags.tags, sensitive=flags.sensitive, ai_drafts=flags.ai_drafts,
                           first_name=called) if flags else []
    return PersonView(
        contact_id=contact_id, name=state.name, kind=state.kind, company=state.company,
        role=state.role,
        email=state.email, linked=state.platform_user_id is not None,
        cadence_days=state.cadence_days, cadence_months=state.cadence_months,
        next_nudge_on=next_nudge_on, nudge_now=nudge_now,
        last_touch_on=planner.local_date(state.last_touch_at, tz)
        if state.last_touch_at else None,
        health=contact_health(state.next_due_at, turn.now, turn.user.tz),
        ask_about=_ask_about(follow_ups, notes, today),
        notes=notes, more_notes=max(queries.note_count(session, user_id, contact_id)
                                    - len(notes), 0),
        touches=touches, touch_count=queries.touch_count(session, user_id, contact_id),
        dates=dates, drafts_made=made, drafts_used=used, today=today,
        paused_until=paused_until(turn), tags=flags.tags if flags else (),
        drafts_note=next((badge for badge in badges if not badge.startswith("#")), None),
        next_meeting=_next_meeting(turn, contact_id))


def _next_meeting(turn: Turn, contact_id: int) -> tuple[date, str] | None:
    """(day, "14:00") of the next meeting with them in a connected calendar."""
    starts = queries.next_meeting_with(turn.session, turn.user.user_id, contact_id, turn.now)
    if starts is None:
        return None
    local = starts.astimezone(planner.zone(turn.user.tz))
    return local.date(), local.strftime("%H:%M")


def _next_nudge(turn: Turn, contact_id: int, snoozed_back: Sequence[datetime]
                ) -> tuple[Literal["", "out", "coming"], date | None]:
    """Whether a nudge about them is out now ("out": delivered and not acted on) or goes
    out with the next sweep ("coming"), and the day the next one comes: the soonest of a
    nudge planned and held for the user's hours, the sweep's next look at their rhythm,
    notes and dates, and a snoozed nudge coming back, delivered when the scheduler would
    (`delivery_moments`: window, working days, pause, daily cap)."""
    session, user_id = turn.session, turn.user.user_id
    ahead = queries.nudges_ahead_of_contact(session, user_id, contact_id)
    if ahead.delivered:
        return "out", turn.today
    moments: list[datetime] = [*queries.next_plans(session, user_id, contact_id),
                               *snoozed_back]
    if ahead.held_until is not None:
        moments.append(ahead.held_until)
    if ahead.delivering:
        moments.append(turn.now)  # being delivered as we speak
    if not moments:
        return "", None
    at = delivery_moments(turn)(min(moments))
    if at is None:
        return "", None  # paused until "resume": the card says nudges are paused
    if at <= turn.now:
        return "coming", turn.today
    return "", planner.local_date(at, turn.user.tz)


def _ask_about(follow_ups: tuple[NoteLine, ...], notes: tuple[NoteLine, ...], today: date
               ) -> tuple[NoteLine, ...]:
    """What to bring up first: the open follow-ups (`follow_ups`, of all their notes),
    soonest first (a snoozed one on the day it comes back); else the newest note from the
    last three months (`notes`, newest first) that is not background
    (`wording.is_background`)."""
    open_ones = sorted(follow_ups, key=lambda n: (n.ask_on or date.max, -n.note_id))
    if open_ones:
        return tuple(open_ones[:MAX_ASK_ABOUT])
    # "prefers email over calls" is what they are like, not a topic to open with.
    recent = [n for n in notes if n.follow_up_on is None and (today - n.noted_on).days <= 92
              and not wording.is_background(n.text)]
    return tuple(recent[:1])


def ask_line(note: NoteLine, today: date, *, first: bool) -> str:
    """'Ask about first: the hiking trip in Yosemite (n3, noted Mon Nov 23, follow-up Sun
    Nov 29)', or 'First: send Dana the deck (n5, ...)' for a note that says what to do."""
    form, _verb, _rest = wording.note_form(note.text)
    if form == "subject":
        lead, what = ("Ask about first" if first else "then ask about"), \
            wording.about_phrase(note.text)
    else:
        lead, what = ("First" if first else "then"), wording.lower_first(note.reminder)
    parts = [note.handle, f"noted {wording.friendly_day(note.noted_on, today)}"]
    if note.event_on is not None and note.event_on != note.follow_up_on:
        parts.append(f"on {wording.friendly_day(note.event_on, today)}")
    if note.follow_up_on is not None:
        parts.append(follow_up_text(note, today))
    return f"{lead}: {what} ({', '.join(parts)})"


def follow_up_text(note: NoteLine, today: date) -> str:
    """'follow-up Mon Nov 30' (the day its reminder comes: for Sun Nov 29, a day off, the
    next working day), or 'follow-up snoozed to Thu Dec 10' once its reminder was snoozed
    (the day it was first due is no longer when it comes)."""
    if note.snoozed_to is not None and note.open:
        return f"follow-up snoozed to {wording.friendly_day(note.snoozed_to, today)}"
    return f"follow-up {wording.friendly_day(note.reminded_on, today)}" \
        if note.reminded_on is not None else ""


def note_when(note: NoteLine, today: date) -> str:
    """What the card's list of notes says beside a note: its follow-up (see
    `follow_up_text`), else the day it was noted."""
    return follow_up_text(note, today) if note.follow_up_on is not None \
        else f"noted {wording.friendly_day(note.noted_on, today)}"


def rhythm_line(view: PersonView) -> str:
    """'every 2 weeks · last talked Sun Nov 22 · due in 13 days · next nudge Sun Dec 6 · next
    meeting Wed Nov 25 09:30'."""
    today = view.today
    every = planner.cadence_text(view.cadence_days, view.cadence_months)
    parts = [f"every {every}" if every else "no rhythm set"]
    parts.append(f"last talked {wording.friendly_day(view.last_touch_on, today)}"
                 if view.last_touch_on else "no conversation logged")
    if view.health:
        parts.append(view.health)
    if view.paused_until is not None:
        parts.append("nudges paused")
    elif view.nudge_now == "out":
        parts.append("a nudge is out now")
    elif view.nudge_now == "coming":
        parts.append("a nudge is on its way")  # as `due` says it
    elif view.next_nudge_on is not None:
        parts.append(f"next nudge {wording.friendly_day(view.next_nudge_on, today)}")
    if view.next_meeting is not None:
        day, starts = view.next_meeting
        parts.append(f"next meeting {wording.friendly_day(day, today)} {starts}")
    return " · ".join(parts)


def person_text(view: PersonView) -> str:
    """The card as text (the console prints it; platforms use it as the fallback)."""
    today = view.today
    who = [wording.who(view.kind, view.company, view.role)]
    if view.email:
        who.append(view.email)
    if view.linked:
        who.append("linked to their chat account")
    if view.tags:
        who.append(" ".join(f"#{tag}" for tag in view.tags))
    lines = [f"{view.name}: {' · '.join(who)}"]
    if view.drafts_note:
        lines.append(view.drafts_note)
    if view.ask_about:
        first, *rest = view.ask_about
        lines.append(ask_line(first, today, first=True))
        lines += [f"  {ask_line(note, today, first=False)}" for note in rest]
    lines.append(f"Rhythm: {rhythm_line(view)}")
    if view.notes:
        lines.append("Notes:")
        for note in view.notes:
            done = "" if note.open or note.follow_up_on is None else ", followed up"
            lines.append(f"  {note.handle} {note.text} ({note_when(note, today)}{done})")
        if view.more_notes:
            lines.append(f"  … and {view.more_notes} older (search finds them)")
    if view.touches:
        total = f" ({view.touch_count} in all)" if view.touch_count > len(view.touches) else ""
        lines.append(f"Last conversations{total}:")
        for touch in view.touches:
            about = f": {touch.summary}" if touch.summary else ""
            lines.append(f"  {touch.handle} {wording.friendly_day(touch.day, today)}, "
                         f"{touch.kind}{about}{source_note(touch.source)}")
    if view.dates:
        lines.append("Dates: " + "; ".join(date_text(line, today) for line in view.dates))
    lines.append(f"Drafts: {view.drafts_made} made, {view.drafts_used} used"
                 if view.drafts_made else "Drafts: none yet")
    examples = ", ".join(f"“{example}”" for example in fix_examples(view))
    lines.append(f"Fix anything: {examples}; “undo” reverses a change.")
    return "\n".join(lines)


def fix_examples(view: PersonView) -> list[str]:
    """The commands a card suggests for corrections, with this person's own handles and full
    name: a handle from elsewhere would act on someone else's record, a first name may be
    two people's."""
    examples = []
    if view.notes:
        examples.append(f"edit {view.notes[0].handle}: …")
    if view.touches:
        examples.append(f"delete {view.touches[0].handle}")
    return [*examples, f"rename {view.name} to …", f"set {view.name} company …"]


def source_note(source: str) -> str:
    """How a conversation got here when Rapport logged it, not the person."""
    return _SOURCE_NOTES.get(source, "")


_SOURCE_NOTES = {CALENDAR_SOURCE: " (logged from your calendar)",
                 SLACK_DM_SOURCE: " (logged from your Slack DMs)"}


def date_text(line: DateLine, today: date) -> str:
    """'birthday Mon May 4' or 'work anniversary Mon Mar 1 (since 2019)'."""
    what = "birthday" if line.kind == "birthday" else "work anniversary"
    since = f" (since {line.year})" if line.year else ""
    return f"{what} {wording.friendly_day(line.next_on, today)}{since}"


def search(turn: Turn, command: c.Search) -> Reply:
    words = [w.casefold() for w in command.words.split() if w.strip()]
    session, user_id, tz = turn.session, turn.user.user_id, turn.user.tz
    hits: list[tuple[datetime, SearchHit]] = []
    for contact_id, name, company, created in queries.search_people(
            session, user_id, words, MAX_HITS + 1):
        hits.append((created, SearchHit("person", contact_id, name,
                                        wording.contact_label(name, company),
                                        planner.local_date(created, tz))))
    for note_id, contact_id, name, text, created in queries.search_notes(
            session, user_id, words, MAX_HITS + 1):
        hits.append((created, SearchHit("note", contact_id, name, text,
                                        planner.local_date(created, tz), f"n{note_id}")))
    for touch_id, contact_id, name, kind, summary, at in queries.search_touches(
            session, user_id, words, MAX_HITS + 1):
        text = f"{kind}: {summary}" if summary else kind
        hits.append((at, SearchHit("conversation", contact_id, name, text,
                                   planner.local_date(at, tz), f"t{touch_id}")))
    hits.sort(key=lambda hit: hit[0], reverse=True)
    view = SearchView(words=command.words, hits=tuple(h for _, h in hits[:MAX_HITS]),
                      truncated=len(hits) > MAX_HITS, today=turn.today)
    return Reply(search_text(view), view=view)


def search_text(view: SearchView) -> str:
    if not view.hits:
        return f"Nothing matches “{view.words}”."
    lines = [f"Found for “{view.words}” (newest first):"]
    for hit in view.hits:
        when = wording.friendly_day(hit.day, view.today)
        if hit.kind == "person":
            lines.append(f"  {hit.text} (person, added {when})")
        else:
            lines.append(f"  {hit.handle} {when}, {hit.contact_name}: {hit.text}")
    if view.truncated:
        lines.append(f"  … showing the newest {len(view.hits)}; add a word to narrow it down.")
    return "\n".join(lines)
