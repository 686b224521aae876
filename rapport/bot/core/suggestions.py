"""Use cases on suggestions: list them, and answer one (accept, keep as it is, silence the kind).

The rules that make suggestions run in the scheduler (rapport.scheduler.suggestions). Here the
person decides: accepting applies exactly the change proposed, through the same use cases a
typed command would use (`every`, `settings`, a follow-up note); keeping or silencing changes
nothing but the suggestion's record. A suggestion whose subject changed meanwhile (the person
set another rhythm, moved the window) is not applied: it is marked expired and the answer
says why.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from rapport.bot.core import commands as c
from rapport.bot.core import people, preferences
from rapport.bot.core.context import Turn
from rapport.bot.core.journal import Change, not_undoable
from rapport.bot.core.views import (
    Reply,
    SuggestionAnswered,
    SuggestionCounts,
    SuggestionsView,
    error,
)
from rapport.scheduler import planner, wording
from rapport.scheduler import suggestions as rules
from rapport.scheduler.attainment import every_phrase
from rapport.scheduler.messenger import SuggestionItem
from rapport.storage import queries

MAX_SHOWN = 10
COFFEE_NOTE = "a coffee to catch up on what you noted"
_STATUS_WORDS = {rules.ACCEPTED: "accepted", rules.KEPT: "kept as it was",
                 rules.SILENCED: "silenced", rules.EXPIRED: "out of date"}


def item(row: queries.SuggestionRow) -> SuggestionItem:
    return SuggestionItem(suggestion_id=row.id, kind=row.kind, text=row.text,
                          kind_label=rules.KIND_LABELS.get(row.kind, row.kind))


def open_items(session: Session, user_id: int) -> tuple[SuggestionItem, ...]:
    """The person's unanswered suggestions, oldest first."""
    return tuple(item(row) for row in queries.open_suggestions(session, user_id, MAX_SHOWN))


def counts(session: Session, user_id: int) -> SuggestionCounts:
    statuses = queries.suggestion_counts(session, user_id)
    made, accepted, kept, silenced, waiting = rules.counts(statuses)
    return SuggestionCounts(made=made, accepted=accepted, kept=kept, silenced=silenced,
                            waiting=waiting, expired=statuses.get(rules.EXPIRED, 0))


def answer_hint(suggestion_id: int, kind: str = "") -> str:
    if kind == rules.ADD_PERSON:
        return (f"Reply “accept {suggestion_id}” to add them, “keep {suggestion_id}” for not "
                f"now, or “silence {suggestion_id}” to never be asked about them again.")
    return (f"Reply “accept {suggestion_id}”, “keep {suggestion_id}” or "
            f"“silence {suggestion_id}” (no more suggestions like this).")


def item_text(entry: SuggestionItem) -> str:
    """'💡 Suggestion 3: You've put off Lee three times. Every 8 weeks instead?\n   Reply …'."""
    return (f"💡 Suggestion {entry.suggestion_id}: {entry.text}\n"
            f"   {answer_hint(entry.suggestion_id, entry.kind)}")


def counts_line(numbers: SuggestionCounts) -> str:
    """'Suggestions: 5 made, 2 accepted, 1 kept as it was, 1 silenced, 1 expired.' ('' when
    none): the parts add up to what was made."""
    if not numbers.made:
        return ""
    parts = [f"{numbers.made} made", f"{numbers.accepted} accepted"]
    if numbers.kept:
        parts.append(f"{numbers.kept} kept as it was")
    if numbers.silenced:
        parts.append(f"{numbers.silenced} silenced")
    if numbers.expired:
        parts.append(f"{numbers.expired} expired")
    if numbers.waiting:
        parts.append(f"{numbers.waiting} waiting for your answer")
    return "Suggestions: " + ", ".join(parts) + "."


def kind_word(kind: str) -> str:
    """The word a person types for a kind (`suggestions on window`)."""
    return next((word for word, known in rules.KIND_WORDS.items() if known == kind), kind)


def silenced_line(silenced: tuple[str, ...]) -> str:
    """'Silenced: delivery window (“suggestions on window” turns one back on).' or ''."""
    if not silenced:
        return ""
    labels = ", ".join(rules.KIND_LABELS.get(kind, kind) for kind in silenced)
    return f"Silenced: {labels} (“suggestions on {kind_word(silenced[0])}” turns one back on)."


def suggestions_text(view: SuggestionsView) -> str:
    lines = [item_text(entry) for entry in view.items]
    if not lines:
        lines.append("No suggestions right now. I look at your history once a day and suggest "
                     "a change only when it has a clear reason.")
    if view.silenced:
        lines.append(silenced_line(view.silenced))
    return "\n".join(lines)


def show(turn: Turn, command: c.ShowSuggestions) -> Reply:
    reply = _show(turn, command)
    if reply.changed and command.kind is not None:
        state = "on" if command.enabled else "off"
        kind = rules.by_kind(command.kind) or command.kind
        not_undoable(turn, f"turned {state} suggestions about "
                           f"{rules.KIND_LABELS.get(kind, kind_word(kind))}")
    return reply


def _show(turn: Turn, command: c.ShowSuggestions) -> Reply:
    user_id = turn.user.user_id
    silenced = queries.user_silenced_kinds(turn.session, user_id)
    if command.kind is not None:
        kind = rules.by_kind(command.kind)
        if kind is None:
            names = ", ".join(kind_word(known) for known in rules.KINDS)
            return error(f"There is no kind of suggestion called “{c.clip(command.kind)}”. "
                         f"Kinds: {names}.")
        label = rules.KIND_LABELS[kind]
        if command.enabled:
            if kind not in silenced:
                return Reply(f"Suggestions about {label} are on already.")
            queries.set_suggestions_silenced(turn.session, user_id,
                                             [k for k in silenced if k != kind])
            return Reply(f"Suggestions about {label} are back on.", changed=True)
        if kind in silenced:
            return Reply(f"Suggestions about {label} are off already.")
        queries.set_suggestions_silenced(turn.session, user_id, [*silenced, kind])
        queries.expire_open_of_kind(turn.session, user_id, kind, turn.now)
        return Reply(f"No more suggestions about {label}.", changed=True)
    view = SuggestionsView(items=open_items(turn.session, user_id), silenced=silenced)
    return Reply(suggestions_text(view), view=view)


# ---------------------------------------------------------------------- answering
def _contact_name(row: queries.SuggestionRow) -> str:
    return row.contact_name or "them"


def _apply(turn: Turn, row: queries.SuggestionRow) -> str | None:
    """Make the change; its description, or None when the subject changed meanwhile."""
    session, user = turn.session, turn.user
    if row.kind in (rules.PUT_OFF, rules.MORE_OFTEN):
        if row.contact_id is None or row.proposed_days is None:
            return None
        state = queries.contact_state(session, user.user_id, row.contact_id)
        if state is None or state.cadence_days != row.current_value:
            return None
        # The rhythm the suggestion said, set as a typed `every` sets it: "every 2 months"
        # is calendar months (as `every Lee 2 months`), "every week" clears the months a
        # monthly rhythm had, and either way the rhythm is theirs, so no goal moves it.
        months = planner.goal_months(row.proposed_days)
        people.every(turn, c.SetCadence(c.PersonRef(contact_id=row.contact_id),
                                        None if months else row.proposed_days, months))
        return f"{state.name} is now {every_phrase(row.proposed_days)}."
    if row.kind == rules.WINDOW:
        start, end = row.proposed_window_start, row.proposed_window_end
        prefs = user.prefs
        if start is None or end is None or row.current_value != (
                prefs.window_start_minute * 10_000 + prefs.window_end_minute):
            return None
        preferences.settings(turn, c.Settings(window=(start, end)))
        return f"Your nudges now arrive between {rules.hour_text(start)} and " \
               f"{rules.hour_text(end)}."
    if row.kind == rules.DAYS:
        days = row.proposed_working_days
        if days is None or row.current_value != user.prefs.working_days:
            return None
        preferences.settings(turn, c.Settings(days=days))
        return f"Your nudges now arrive on {preferences.format_days(days)}."
    if row.kind == rules.COFFEE:
        if row.contact_id is None or queries.contact_state(session, user.user_id,
                                                           row.contact_id) is None:
            return None
        day = turn.today + timedelta(days=1)
        queries.insert_note(session, workspace_id=user.workspace_id, user_id=user.user_id,
                            contact_id=row.contact_id, text=COFFEE_NOTE, follow_up_on=day,
                            plan_at=planner.follow_up_moment(day, user.prefs), now=turn.now)
        first = wording.first_name(_contact_name(row))
        return f"I'll remind you {wording.friendly_day(day, turn.today)} to ask {first} " \
               "for a coffee."
    return None


_ANSWER_WORDS = {"accept": "accepted", "keep": "kept", "silence": "silenced"}


# What answering an offer to add someone sets on the suggestion (undo sets it back).
ANSWER_COLUMNS = ("status", "answered_at")


def answer(turn: Turn, command: c.AnswerSuggestion) -> Reply:
    user = turn.user
    # Locked until the answer is committed: two clicks at once (Add and Never, a double
    # click, two devices) would each read it open, and both succeed; the second now reads
    # the first's answer and is told so.
    row = queries.suggestion_of_user(turn.session, user.user_id, user.workspace_id,
                                     command.suggestion_id, lock=True)
    if row is None:
        # The same answer for "missing" and "someone else's": nothing leaks.
        return error(f"I can't find suggestion {command.suggestion_id} among yours; it may "
                     "have been withdrawn (“suggestions” lists the open ones).")
    if row.kind == rules.ADD_PERSON:
        settled = _offer_settled(turn, row)
        # Journaled by itself: Add, Not now and Never can each be undone.
        return settled if settled is not None else _answer_offer(turn, command, row)
    if row.status != rules.OPEN:
        return _settled(row, f"You already answered suggestion {row.id} "
                             f"({_STATUS_WORDS.get(row.status, row.status)}).")
    reply = _answer(turn, command, row)
    if reply.changed:
        verb = _ANSWER_WORDS.get(command.answer, "answered")
        not_undoable(turn, f"{verb} suggestion {command.suggestion_id}")
    return reply


def _answer(turn: Turn, command: c.AnswerSuggestion, row: queries.SuggestionRow) -> Reply:
    user = turn.user
    if command.answer == "accept":
        done = _apply(turn, row)
        if done is None:
            queries.answer_suggestion(turn.session, row.id, rules.EXPIRED, turn.now)
            return Reply("That suggestion is out of date (things changed since I made it), so "
                         "I left everything as it is.", changed=True,
                         view=SuggestionAnswered(row.id, rules.EXPIRED))
        queries.answer_suggestion(turn.session, row.id, rules.ACCEPTED, turn.now)
        return Reply(f"Done. {done}", changed=True,
                     view=SuggestionAnswered(row.id, rules.ACCEPTED))
    if command.answer == "keep":
        queries.answer_suggestion(turn.session, row.id, rules.KEPT, turn.now)
        return Reply("Kept as it is. I won't suggest this again until something changes.",
                     changed=True, view=SuggestionAnswered(row.id, rules.KEPT))
    queries.answer_suggestion(turn.session, row.id, rules.SILENCED, turn.now)
    silenced = queries.user_silenced_kinds(turn.session, user.user_id)
    queries.set_suggestions_silenced(turn.session, user.user_id, [*silenced, row.kind])
    queries.expire_open_of_kind(turn.session, user.user_id, row.kind, turn.now)
    label = rules.KIND_LABELS.get(row.kind, row.kind)
    return Reply(f"No more suggestions about {label}. (“suggestions on {kind_word(row.kind)}” "
                 "turns them back on.)", changed=True,
                 view=SuggestionAnswered(row.id, rules.SILENCED))


# ---------------------------------------------------------------------- a person met
def _answer_offer(turn: Turn, command: c.AnswerSuggestion, row: queries.SuggestionRow
                  ) -> Reply:
    """Add / Not now / Never on an offer to add someone met in meetings, each one change
    `undo` reverses (Add takes the person back out, and the offer is open again). Never
    silences this person only; `suggestions off met` stops all such offers."""
    change = Change(turn)
    change.before_update("suggestions", [row.id], ANSWER_COLUMNS)
    reply = _offer_answered(turn, command, row, change)
    if reply.changed:
        name = row.attendee_name or row.attendee_email or "someone"
        verb = {"accept": f"added {name} from suggestion {row.id}",
                "keep": f"said not now to adding {name}",
                "silence": f"said never to adding {name}"}.get(command.answer,
                                                              f"answered suggestion {row.id}")
        change.save(verb)
    return reply


def _settled(row: queries.SuggestionRow, text: str) -> Reply:
    """A refusal to answer a suggestion no longer open: nothing changes, and a platform
    replaces the buttons still shown on an old message with `text` (what became of it)."""
    return Reply(text, ok=False, view=SuggestionAnswered(row.id, row.status))


def _offer_address(row: queries.SuggestionRow) -> str:
    return (row.attendee_email or "").strip().lower()


def _offer_settled(turn: Turn, row: queries.SuggestionRow) -> Reply | None:
    """What a button on an old copy of an offer to add someone met gets once the offer is no
    longer open (None while it is): the answer given earlier, in the words of the buttons,
    or that it was withdrawn and why. Nothing is changed, so nothing is left for `undo`."""
    name = row.attendee_name or row.attendee_email or "them"
    labels = dict(zip((rules.ACCEPTED, rules.KEPT, rules.SILENCED),
                      item(row).labels, strict=True))
    said = labels.get(row.status)
    if said is not None:
        outcome = f" ({name} was added then), so I" if row.status == rules.ACCEPTED \
            else f", so I didn't add {name} and"
        return _settled(row, f"You already answered suggestion {row.id} with “{said}”"
                             f"{outcome} left everything as it is.")
    if row.status != rules.OPEN:
        return _settled(row, f"Suggestion {row.id} was withdrawn, so I didn't add {name} and "
                             "left everything as it is (“suggestions” lists the open ones).")
    email = _offer_address(row)
    known = {(address or "").strip().lower() for address, _ in
             queries.contact_emails_and_companies(turn.session, turn.user.user_id)}
    if not email or email in known:
        # Seen as expired everywhere (queries._offer_taken) while the address is a contact's,
        # which may go back (undo of `set … email`): the row itself stays as it is.
        why = f"{email} is the address of one of your people now" if email \
            else "it names no address to add"
        return Reply(f"Suggestion {row.id} was withdrawn: {why}, so I left everything as "
                     "it is.", ok=False, view=SuggestionAnswered(row.id, rules.EXPIRED))
    return None


def _offer_answered(turn: Turn, command: c.AnswerSuggestion, row: queries.SuggestionRow,
                    change: Change) -> Reply:
    name = row.attendee_name or row.attendee_email or "them"
    if command.answer == "accept":
        email = _offer_address(row)
        # The same use case as a typed `add Sam Lee at Globex email sam@globex.com`.
        added, _contact = people.add_contact(turn, c.AddContact(
            person=c.PersonRef(text=name), kind="colleague", company=row.attendee_company,
            cadence_days=None, email=email), change)
        if not added.ok:
            # A namesake exists: the offer stays open, nothing changed. Say how to settle
            # it either way, or the person is left with an offer they can't take.
            return error(f"{added.text} If that's who you met, “set {name} email {email}” "
                         f"links them (then the calendar logs your meetings); if it's someone "
                         f"else, “silence {row.id}”.")
        queries.answer_suggestion(turn.session, row.id, rules.ACCEPTED, turn.now)
        unnamed = (f" The calendar shows no name for them: “rename {name} to …” gives them "
                   "one." if name == email else "")
        return Reply(f"{added.text}{unnamed} Meetings you've had with them show up as "
                     "conversations after the next calendar sync, and later ones too. "
                     "(“undo” takes this back.)", changed=True,
                     view=SuggestionAnswered(row.id, rules.ACCEPTED))
    if command.answer == "keep":
        queries.answer_suggestion(turn.session, row.id, rules.KEPT, turn.now)
        return Reply(f"Not now. I'll ask about {name} again only if you meet twice more. "
                     "(“undo” takes this back.)",
                     changed=True, view=SuggestionAnswered(row.id, rules.KEPT))
    queries.answer_suggestion(turn.session, row.id, rules.SILENCED, turn.now)
    return Reply(f"I won't suggest adding {name} again. (“suggestions off met” stops these "
                 "offers for everyone; “undo” takes this back.)", changed=True,
                 view=SuggestionAnswered(row.id, rules.SILENCED))
