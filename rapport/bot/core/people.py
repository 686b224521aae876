"""Use cases on people and touchpoints: add someone, log a conversation, set a rhythm, and
forget someone (after a confirmation)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from functools import partial
from typing import Protocol, TypeVar

from sqlalchemy import func, select

from rapport.bot.core import commands as c
from rapport.bot.core import overview
from rapport.bot.core.calendars import complete_logged_meeting
from rapport.bot.core.context import MentionNamesNeeded, Turn
from rapport.bot.core.journal import CLOCK, LINK, NUDGE_OUTCOME, PLANNED, RHYTHM, Change
from rapport.bot.core.resolve import (
    Resolved,
    Unresolved,
    exact_wins,
    mention_matches,
    or_list,
    resolve,
    written_another_way,
)
from rapport.bot.core.touchpoints import DAY_ONLY_MINUTE, record_touchpoint
from rapport.bot.core.views import ConfirmView, Reply, error
from rapport.scheduler import planner, wording
from rapport.storage import queries
from rapport.storage.models import TYPED_SOURCE, Contact
from rapport.storage.names import first_word, given_name, name_key
from rapport.storage.queries import ContactName


def find_contact(turn: Turn, person: c.PersonRef, *, create_mentions: bool,
                 known: ContactName | None = None, change: Change | None = None
                 ) -> tuple[ContactName | None, str | None, bool]:
    """(contact, why not, created) for `person`; an unknown @mention may become a contact,
    or (given the `change` to journal it in) link the one added by that name before.
    `known`: the contact this same unit of work found for `person` already (`choose_reading`)."""
    if known is not None:
        return known, None, False
    result = resolve(turn.session, turn.user.user_id, person)
    if isinstance(result, Resolved):
        return result.contact, None, False
    if person.mention_id and create_mentions:
        refusal = mention_refusal(turn, person)
        if refusal is not None:
            return None, refusal, False
        if change is not None and (linked := link_mention(turn, person, change)) is not None:
            return (None, linked, False) if isinstance(linked, str) else (linked, None, False)
        refusal = new_contact_refusal(turn, person)
        if refusal is not None:
            return None, refusal, False
        contact = create_contact(turn, person, kind="colleague", company=None,
                                 cadence_days=None)
        return contact, None, True
    return None, _named(turn, person, result).message, False


def resolve_person(turn: Turn, person: c.PersonRef, *, offer_add: bool = True
                   ) -> Resolved | Unresolved:
    """`resolve` for a use case: the same contact, or the same answer with an @mention of
    someone not among the user's people named as the user sees them ("@Dana Scully is not
    in your people yet"), never the chat's markup ("<@U0DANA>"). Every use case that names
    a person asks here, so no answer shows the markup."""
    result = resolve(turn.session, turn.user.user_id, person, offer_add=offer_add)
    return result if isinstance(result, Resolved) else _named(turn, person, result)


def _named(turn: Turn, person: c.PersonRef, result: Unresolved) -> Unresolved:
    if not person.mention_id:
        return result
    if turn.not_people.get(person.mention_id) in ("group", "bot") or \
            person.mention_id == turn.user.user_external_id:
        # "snooze @here", "show @Rapport", "draft @me": not someone to look for among the
        # user's people (nor to offer to add), the same answer `add` gives.
        refusal = mention_refusal(turn, person)
        assert refusal is not None
        return Unresolved(refusal, ())
    # The directory's name, else the mention's label, else (when neither could be had) the
    # account's id: "@U0DANA" is no markup, "<@U0DANA>" is.
    who = "@" + (mention_name(turn, person) or person.mention_id)
    return Unresolved(result.message.replace(f"<@{person.mention_id}>", who),
                      result.suggestions)


def link_mention(turn: Turn, person: c.PersonRef, change: Change) -> ContactName | str | None:
    """The contact added by name ("add Dana Scully", or "add Dana" alone) that an @mention of
    someone with that name now links to their chat account; None when there is none not
    linked yet; the question when several could be them (nothing is written).

    Without it, "log @Dana Scully" made a second Dana, named "Dana Scully" beside "Dana".
    The contact keeps the name the user gave it: the link, not the name, says who it is."""
    name = mention_name(turn, person)
    if not name or person.mention_id is None:
        return None
    found = mention_matches(turn.session, turn.user.user_id, name)
    if not found:
        return None  # none, or someone else linked already: two colleagues with one name
    whole = [contact for contact in found if name_key(contact.name) == name_key(name)]
    if len(whole) == 1:
        # The one saved by the mentioned person's whole name is them; "Dana" beside "Dana
        # Scully" is only maybe them, so it is no reason to ask.
        found = whole
    if len(found) > 1:
        names = tuple(sorted(contact.name for contact in found))
        # A name of one word in quotes: "Dana" alone is asked about beside Dana Scully.
        said = tuple(f"“{n}”" if " " in n else f"“\"{n}\"”" for n in names)
        return (f"Which of your people is @{name}: {or_list(names)}? I won't guess, and "
                f"nothing was saved. Say their name instead of the @mention ({or_list(said)}).")
    [same] = found
    change.before_update("contacts", [same.id], LINK)
    queries.update_contact(turn.session, turn.user.user_id, same.id,
                           platform_user_id=person.mention_id)
    return ContactName(same.id, same.name, person.mention_id)


def mention_name(turn: Turn, person: c.PersonRef) -> str | None:
    """The name a new contact from an @mention gets: the platform directory's, else the
    mention's own label; None when neither is known (the directory could not be asked)."""
    assert person.mention_id is not None
    if person.mention_id not in turn.mention_names:
        raise MentionNamesNeeded((person.mention_id,))
    return turn.mention_names[person.mention_id] or person.mention_name or person.text or None


# `<@U0LEE>` or `<@U0LEE|lee>`, the core's token for a mentioned person, inside free text.
_MENTION_IN_TEXT = re.compile(r"<@([A-Za-z0-9_:.\-]+)(?:\|([^<>]*))?>")


def named_mentions(turn: Turn, text: str) -> str:
    """`text` with each @mention token written as "@Name" (the directory's name, else the
    mention's label): a note keeps reading right where no mention renders (Teams, the
    console, a nudge's fallback text, an export) and where it does, shows the same person."""
    unknown = tuple(dict.fromkeys(match.group(1) for match in _MENTION_IN_TEXT.finditer(text)
                                  if match.group(1) not in turn.mention_names))
    if unknown:
        raise MentionNamesNeeded(unknown)

    def name(match: re.Match[str]) -> str:
        label = " ".join((match.group(2) or "").split())
        return "@" + (turn.mention_names[match.group(1)] or label or match.group(1))

    return _MENTION_IN_TEXT.sub(name, text)


def summary_named(turn: Turn, summary: str | None) -> str | None:
    """What was talked about (`log`, `done`, `edit t7`), its @mentions written as names as a
    note's are (`named_mentions`); None and "" stay as they are."""
    return named_mentions(turn, summary) if summary else summary


# A contact named "U0123ABCD" would be no one the person recognises.
NAME_UNKNOWN = ("I couldn't look up that person's name just now. Try again in a moment, or add "
                "them by name (“add Dana Scully”).")


# The directory has no such account (removed, or another organisation's): asking again won't
# tell its name.
NAME_NOT_FOUND = ("I can't find that person in your workspace's directory, so I don't know "
                  "their name. Add them by name instead (“add Dana Scully”).")

# `log @me`, or the message shortcut on one's own message: not someone to keep in touch with.
ITS_YOU = "That's you. Rapport keeps track of the people you talk to; name someone else."


def mention_refusal(turn: Turn, person: c.PersonRef) -> str | None:
    """Why an @mention can't become or be linked to a contact (it is the user, a bot, a
    group, or nobody could say its name), or None when it can."""
    if person.mention_id == turn.user.user_external_id:
        return ITS_YOU
    name = mention_name(turn, person)
    not_a_person = turn.not_people.get(person.mention_id or "")
    if not_a_person == "group":
        who = f"@{name}" if name else "That mention"
        return f"{who} is a group, not a person: I keep track of the people you talk to."
    if not name:
        return NAME_NOT_FOUND if not_a_person == "unknown" else NAME_UNKNOWN
    if not_a_person == "bot":
        return f"{name} is a bot, not a person: I keep track of the people you talk to."
    return None


def new_contact_refusal(turn: Turn, person: c.PersonRef) -> str | None:
    """Why an @mention that links no contact can't become a new one: a deactivated account.
    A contact the user has already (linked, or added by that name) still works."""
    if not person.mention_id:
        return None
    name = mention_name(turn, person)  # looks the account up first, when it is not yet
    if turn.not_people.get(person.mention_id) == "deactivated":
        return (f"{name}'s account is deactivated, so I won't add them from an @mention. To "
                f"keep in touch anyway, add them by name (“add {name}”).")
    return None


def unknown_mention(turn: Turn, person: c.PersonRef) -> str:
    """The answer to an @mention of someone who is not among the user's people, naming them
    as the user sees them (never the chat's markup): why they can't be one (the user, a bot,
    a deactivated account), else how to add them."""
    refusal = mention_refusal(turn, person) or new_contact_refusal(turn, person)
    if refusal is not None and refusal != NAME_UNKNOWN:
        return refusal
    # When the directory could not say the name, the mention's id is still no markup.
    who = "@" + (mention_name(turn, person) or person.mention_id or "")
    return f"{who} isn't one of your people yet. To keep in touch with them, say “add {who}”."


class Reading(Protocol):
    """One way to read a line (a `Log` or an `AddNote`): who, and what it is unsure of."""

    @property
    def person(self) -> c.PersonRef: ...

    @property
    def unsure(self) -> str | None: ...


R = TypeVar("R", bound=Reading)
T = TypeVar("T")


def choose_reading(turn: Turn, readings: Sequence[R], verb: str, *,
                   touched: dict[int, queries.TouchState] | None = None,
                   among: Callable[[str], str] = str) -> tuple[R, ContactName | None] | str:
    """The reading whose person is one of the user's contacts, with that contact when it was
    looked up on the way (None for an @mention or a form's id); or why none can be taken.
    `touched`: a conversation is to be recorded with the person: each full name looked up
    reads the contact's `touch_state` in the same statement, kept there by contact id.
    `among`: how a name is said in the line, with the others of a list ("Dana and Lee").

    A full name that matches exactly wins; then a name that resolves (a unique first name).
    A reading with words it is unsure of is never taken: the answer asks instead, so a line
    that can be read two ways never writes anything.
    """
    user_id = turn.user.user_id
    exact: list[tuple[R, ContactName | None]] = []
    for reading in readings:
        if reading.person.mention_id or reading.person.contact_id is not None:
            exact.append((reading, None))
        elif (found := _by_key(turn, reading.person, touched)) is not None:
            exact.append((reading, found))
    results: dict[int, Resolved | Unresolved] = {}
    if not exact:
        for index, reading in enumerate(readings):
            results[index] = resolve(turn.session, user_id, reading.person)
    candidates = exact or [(reading, result.contact) for reading, result
                           in zip(readings, results.values(), strict=True)
                           if isinstance(result, Resolved)]
    if candidates:
        chosen, contact = _longest(candidates, lambda candidate: candidate[0])
        if chosen.unsure is None:
            return chosen, contact
        return _ask_about(turn, chosen, readings, verb, among)
    ambiguous = [r for r in results.values()
                 if isinstance(r, Unresolved) and r.message.startswith("Which ")]
    if ambiguous:
        return ambiguous[0].message
    last = results[len(readings) - 1]
    return last.message if isinstance(last, Unresolved) else "Who do you mean?"


def _longest(items: Sequence[T], reading_of: Callable[[T], Reading]) -> T:
    """The item whose reading names the most words, the later one of equals: a grammar lists
    its readings shortest name first, or longest first where the whole head is the name
    ("log Dana Scully: coffee")."""
    return max(reversed(items), key=lambda item: len(reading_of(item).person.text.split()))


def _by_key(turn: Turn, person: c.PersonRef, touched: dict[int, queries.TouchState] | None
            ) -> ContactName | None:
    """The contact whose whole name `person` is, unless that one word is others' first name
    too ("Dana" with Dana Scully: `resolve` asks which)."""
    key = name_key(person.text)
    if touched is None:
        found = queries.contact_by_key_shared(turn.session, turn.user.user_id, key)
        if found is None:
            return None
        contact, shared = found
    else:
        read = queries.contact_by_key_touched(turn.session, turn.user.user_id, key, CLOCK,
                                              NUDGE_OUTCOME)
        if read is None:
            return None
        contact, touched[read[0].id], shared = read
    return contact if exact_wins(person, shared) else None


def _ask_about(turn: Turn, chosen: Reading, readings: Sequence[Reading], verb: str,
               among: Callable[[str], str]) -> str:
    """The question for a line that can be read two ways ("log Dana White yesterday coffee"
    when Dana White is nobody you know): nothing is written."""
    longest = _longest(readings, lambda reading: reading).person.describe()
    result = resolve(turn.session, turn.user.user_id, chosen.person)
    known = result.contact.name if isinstance(result, Resolved) else chosen.person.describe()
    if chosen.unsure and chosen.unsure.split()[0].lower() in ("and", "&", "+"):
        # "talked to Dana and Lee": two people, and a conversation belongs to one.
        other = chosen.unsure.split()[1]
        return (f"{c.ONE_PERSON_AT_A_TIME}: I keep each person's notes and conversations "
                f"apart. Say it once for each of them (“{verb} {known} …”, then “{verb} "
                f"{other} …”). Nothing was saved.")
    named = f"{verb} \"{known}\""
    kind_first = [reading for reading in readings
                  if isinstance(reading, c.Log) and reading.kind_before_name]
    if kind_first:
        # "log chat Dana Scully": "chat" was said as a kind, so no name to add starts with it.
        meant = _longest(kind_first, lambda reading: reading)
        if not (isinstance(chosen, c.Log) and chosen.kind_before_name):
            return _kind_or_name(turn, meant, known, verb, among)
        longest, named = meant.person.describe(), f"{verb} {meant.kind} with \"{known}\""
    return (f"I'm not sure who you mean: I don't know anyone called “{longest}”, and I won't "
            f"guess that “{chosen.unsure}” is not part of the name. If you meant {known}, "
            f"use the full name or quotes (“{named} …”); to add {longest}, say "
            f"“add {longest}”. Nothing was saved.")


def _kind_or_name(turn: Turn, meant: c.Log, known: str, verb: str,
                  among: Callable[[str], str]) -> str:
    """The question for a kind said before a name (`meant`: "log chat Dana Scully") that
    reads as someone's name too (`known`: Chat Smith): each offered as the user can say it,
    the kind with "with" ("log chat with Dana Scully"), in its list if it was said in one
    (`among`: "log coffee with Dana and Lee")."""
    name = meant.person.describe()
    rest = " …" if meant.day is not None or meant.summary is not None else ""

    def said(who: str) -> str:
        return f"“{verb} {meant.kind} with {among(who)}{rest}”"

    found = resolve(turn.session, turn.user.user_id, meant.person)
    if isinstance(found, Resolved):
        offer = f"For {found.contact.name}, say {said(found.contact.name)}."
    elif found.message.startswith("Which "):
        # The one called by that word alone goes in quotes, as `resolve` says.
        typed = name_key(name)
        offer = f"For {name}, say which one: " + or_list(tuple(
            said(f'"{other}"' if name_key(other) == typed else other)
            for other in found.suggestions)) + "."
    else:
        offer = (f"I don't know anyone called “{name}”{'' if found.suggestions else ' yet'}: "
                 f"for them, say “add {name}”, then {said(name)}"
                 + "".join(f"; for {other}, {said(other)}" for other in found.suggestions)
                 + ".")
    return (f"I'm not sure who you mean: {name} or {known}? {offer} If you meant {known}, "
            f"use the full name or quotes (“{verb} \"{known}\" …”). Nothing was saved.")


def create_contact(turn: Turn, person: c.PersonRef, *, kind: str, company: str | None,
                   cadence_days: int | None, cadence_months: int | None = None,
                   email: str | None = None, change: Change | None = None,
                   role: str | None = None) -> ContactName:
    """A new contact; a colleague's name comes from the platform's directory."""
    if person.mention_id:
        name = (mention_name(turn, person) or person.mention_id)[:100]
    else:
        name = person.text[:100]
    if person.mention_id and queries.contact_by_key(turn.session, turn.user.user_id,
                                                    name_key(name)) is not None:
        # Two colleagues with one display name: the id tells them apart.
        name = f"{name} ({person.mention_id})"[:200]
    if cadence_months:
        cadence_days = planner.approx_days(cadence_months)
    next_due = planner.cadence_next_due(None, cadence_days, turn.now, cadence_months,
                                        tz=turn.user.tz)
    contact_id = queries.insert_contact(
        turn.session, workspace_id=turn.user.workspace_id, user_id=turn.user.user_id,
        name=name, key=name_key(name), kind=kind, platform_user_id=person.mention_id,
        company=company, email=email, cadence_days=cadence_days, cadence_months=cadence_months,
        cadence_own=cadence_days is not None, next_due_at=next_due, now=turn.now, role=role)
    if change is not None:
        change.inserted_row("contacts", contact_id)
    return ContactName(contact_id, name, person.mention_id)


def add(turn: Turn, command: c.AddContact) -> Reply:
    change = Change(turn)
    reply, contact = add_contact(turn, command, change)
    if contact is not None:
        change.save(f"added {contact.name}")
    return reply


def add_contact(turn: Turn, command: c.AddContact, change: Change
                ) -> tuple[Reply, ContactName | None]:
    """`add` without saving its journal entry (the caller saves `change`): the answer and
    the new contact (None when refused)."""
    person = command.person
    user_id = turn.user.user_id
    # The same person written another way ("Anne Marie Smith" for Anne-Marie Smith) is
    # answered as the same name is, not added twice.
    existing = queries.contact_by_mention(turn.session, user_id, person.mention_id) \
        if person.mention_id else queries.contact_by_key(
            turn.session, user_id, name_key(person.text)) or written_another_way(
            turn.session, user_id, name_key(person.text))
    if existing is not None:
        return error(c.full_stop(f"You already keep in touch with {existing.name}")), None
    refusal = mention_refusal(turn, person) if person.mention_id else None
    if refusal is not None:
        return error(refusal), None
    if person.mention_id and (linked := link_mention(turn, person, change)) is not None:
        if isinstance(linked, str):
            return error(linked), None
        # Nothing else of `add` applies (no new contact for the caller to tag or save as
        # "added"): they are someone the user keeps in touch with already.
        change.save(f"linked {linked.name} to an @mention")
        return Reply(f"You already keep in touch with {linked.name}: I linked them to that "
                     "@mention, so the chat's @mentions and Rapport mean the same person.",
                     changed=True), None
    refusal = new_contact_refusal(turn, person) if person.mention_id else None
    if refusal is None and command.email:
        refusal = email_taken(turn, command.email, who=person.text if not person.mention_id
                              else mention_name(turn, person) or person.mention_id)
    if refusal is not None:
        return error(refusal), None
    contact = create_contact(turn, person, kind=command.kind, company=command.company,
                             cadence_days=command.cadence_days,
                             cadence_months=command.cadence_months, email=command.email,
                             change=change, role=command.role)
    if command.note:
        note_id = queries.insert_note(turn.session, workspace_id=turn.user.workspace_id,
                                      user_id=user_id, contact_id=contact.id, text=command.note,
                                      follow_up_on=None, plan_at=None, now=turn.now)
        change.inserted_row("notes", note_id)
    birthday = _keep_birthday(turn, change, contact, command.birthday)
    label = f"{contact.name} ({wording.who(command.kind, command.company, command.role)})"
    every = planner.cadence_text(command.cadence_days, command.cadence_months)
    cadence = (f" I'll remind you to talk every {every}." if every else
               f" Set how often with {wording.every_example(contact.name)}.")
    extra = f" I kept “{command.note}” as a note." if command.note else ""
    email = f" Email: {command.email}." if command.email else ""
    return Reply(f"Added {label}.{email}{cadence}{birthday}{extra}"
                 f"{_first_name_shared(turn, contact)}", changed=True), contact


def email_taken(turn: Turn, email: str, *, who: str, contact_id: int | None = None
                ) -> str | None:
    """The answer refusing to give `email` to `who` (the contact `contact_id`; None: one being
    added) when another of the user's contacts has it already, letter case apart: a calendar
    meeting is logged for whoever has its address, so it would count for both. None when
    the address is free."""
    query = select(Contact.name).where(Contact.user_id == turn.user.user_id,
                                       func.lower(Contact.email) == email.strip().lower())
    if contact_id is not None:
        query = query.where(Contact.id != contact_id)
    holder = turn.session.scalar(query.order_by(Contact.id).limit(1))
    if holder is None:
        return None
    return (f"{holder} has {email} already: one address is one person, or every meeting with "
            f"it would count for both. If it is {who}'s now, clear {holder}'s first "
            f"(“set {holder} email none”). Nothing changed.")


def _keep_birthday(turn: Turn, change: Change, contact: ContactName,
                   birthday: tuple[int, int, int | None] | None) -> str:
    """`add …, birthday March 3`: the new contact's birthday, kept as `date` keeps one (its
    row in `change`); what the answer says of it ("" for none)."""
    if birthday is None:
        return ""
    # Notes and dates build on people (`find_contact`): imported here, not at the top.
    from rapport.bot.core.notes import keep_date
    answer, _day = keep_date(turn, change, contact,
                             c.SetDate(c.PersonRef(text=contact.name), "birthday", *birthday),
                             existing=None)
    return f" {answer}"


def _first_name_shared(turn: Turn, contact: ContactName) -> str:
    """What a new contact's first name means from now on, when someone else has it too: the
    name alone asks "Which Dana do you mean …?" (README), so the answer says so rather than
    let the next `log Dana` be a surprise."""
    first = first_word(name_key(contact.name))
    user_id = turn.user.user_id
    others = [o for o in queries.contacts_by_first_name(turn.session, user_id, first)
              if o.id != contact.id]
    alone = queries.contact_by_key(turn.session, user_id, first)
    if alone is not None and alone.id != contact.id:
        others.append(alone)
    if not others:
        return ""
    said = given_name(contact.name)  # "Dana" for Dr. Dana Scully, never "Dr."
    names = wording_list(sorted(o.name for o in others))
    quoted = (f"; “\"{contact.name}\"” in quotes means this {said}"
              if name_key(contact.name) == first else "")
    return c.full_stop(f" You also have {names}, so “{said}” alone will ask which one{quoted}")


def log(turn: Turn, command: c.Log | c.LogTogether) -> Reply:
    if isinstance(command, c.LogTogether):
        return log_together(turn, command)
    # The name's lookup reads what recording the conversation needs too (one statement).
    touched: dict[int, queries.TouchState] = {}
    chosen = choose_reading(turn, (command, *command.alternatives), "log", touched=touched)
    if isinstance(chosen, str):
        return error(chosen)
    command, known = chosen
    today = turn.today
    refused = _day_refused(command.day, today) or _time_refused(turn, command)
    if refused is not None:
        return error(refused, refused="day")
    change = Change(turn)
    contact, problem, created = find_contact(turn, command.person, create_mentions=True,
                                             known=known, change=change)
    if contact is None:
        return error(problem or "Who do you mean?")
    if created:
        change.inserted_row("contacts", contact.id)
    day, kind = _record_log(turn, change, command, contact.id, touched)
    when = "" if day is None else f" ({wording.friendly_day(day, today)})"
    added = f" I added {contact.name} to your people." if created else ""
    on = wording.short_date(day or today, today)
    change.save(f"logged {kind} with {contact.name} on {on}")
    return Reply(c.full_stop(f"Logged {kind} with {contact.name}{when}") + added,
                 changed=True)


def log_together(turn: Turn, command: c.LogTogether) -> Reply:
    """One conversation with several people: a touchpoint with each, one change for undo;
    nothing is written unless every name is one of the user's people (or an @mention).
    Words that are one person's whole name ("Tom & Jerry") are that person."""
    if command.whole is not None and queries.contact_by_key(
            turn.session, turn.user.user_id, name_key(command.whole.person.text)) is not None:
        return log(turn, command.whole)
    touched: dict[int, queries.TouchState] = {}
    chosen: list[tuple[c.Log, ContactName | None]] = []
    listed = [one.person.describe() for one in command.logs]
    for index, one in enumerate(command.logs):
        # Kind first ("log coffee Dana and Lee") is read last, as a single name's readings
        # are listed (`parse_log`): taken among equals, and the one a miss is answered for.
        readings = sorted((one, *one.alternatives), key=lambda read: read.kind_before_name)
        reading = choose_reading(turn, readings, "log", touched=touched,
                                 among=partial(_in_list, listed, index))
        if isinstance(reading, str):
            return error(reading)
        chosen.append(reading)
    today = turn.today
    refused = _day_refused(chosen[0][0].day, today) or _time_refused(turn, chosen[0][0])
    if refused is not None:
        return error(refused)
    change = Change(turn)
    savepoint = turn.session.begin_nested()
    found: dict[int, tuple[c.Log, ContactName, bool]] = {}
    for one, known in chosen:
        contact, problem, created = find_contact(turn, one.person, create_mentions=True,
                                                 known=known, change=change)
        if contact is None:
            savepoint.rollback()  # an @mention added as a contact before it goes too
            return error(problem or "Who do you mean?")
        found.setdefault(contact.id, (one, contact, created))
    savepoint.commit()
    day: date | None = None
    kinds: set[str] = set()
    for one, contact, created in found.values():
        if created:
            change.inserted_row("contacts", contact.id)
        day, kind = _record_log(turn, change, one, contact.id, touched)
        kinds.add(kind)
    first = chosen[0][0]
    # A kind not said is the calendar's where it logged that day's meeting ("meeting").
    said = kinds.pop() if len(kinds) == 1 else first.kind
    names = _joined([contact.name for _one, contact, _created in found.values()])
    added = [contact.name for _one, contact, created in found.values() if created]
    when = "" if day is None else f" ({wording.friendly_day(day, today)})"
    also = f" I added {_joined(added)} to your people." if added else ""
    change.save(f"logged {said} with {names} on {wording.short_date(day or today, today)}")
    return Reply(c.full_stop(f"Logged {said} with {names}{when}") + also, changed=True)


def _in_list(names: Sequence[str], index: int, who: str) -> str:
    """The list as said, with `who` for the name at `index`."""
    return _joined([*names[:index], who, *names[index + 1:]])


def _joined(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _day_refused(day: date | None, today: date) -> str | None:
    if day is not None and day > today:
        # Typed text is checked by the grammar; this is a form's date picker.
        return "You can only log conversations that already happened."
    if day is not None and day < today - timedelta(days=3650):
        # The grammar's bound too: a date picker scrolled to 1900 is a slip, not a memory.
        return "That date is more than ten years ago."
    return None


def _time_refused(turn: Turn, command: c.Log) -> str | None:
    """A time of day said for today that is still to come in the user's zone ("log Dana
    23:00: coffee" at 10:00): a plan, refused as a day to come is. The grammar reads the
    time but not the clock; the turn has the clock."""
    minute = command.minute_of_day
    if minute is None or command.day not in (None, turn.today):
        return None
    local = turn.now.astimezone(planner.zone(turn.user.tz))
    if minute <= local.hour * 60 + local.minute:
        return None
    who = command.person.text or "them"
    return (f"You can only log conversations that already happened: {minute // 60:02d}:"
            f"{minute % 60:02d} today is still to come (it is {local:%H:%M} now). To be "
            f"reminded of it: “remind me to meet {who} today”.")


def _record_log(turn: Turn, change: Change, command: c.Log, contact_id: int,
                touched: dict[int, queries.TouchState]) -> tuple[date | None, str]:
    """The touchpoint `command` says, with its before-images in `change`: the day it was on
    when not today, and its kind."""
    today = turn.today
    day = command.day if command.day not in (None, today) else None
    # A past day counts from its noon, never later than now.
    happened_at = turn.now if day is None else min(
        turn.now, planner.local_moment(day, DAY_ONLY_MINUTE, turn.user.tz))
    state = touch_clock(turn, change, contact_id, known=touched.get(contact_id))
    summary = summary_named(turn, command.summary)
    # The meeting the calendar logged that day, not a second conversation; it stays a
    # meeting unless the user said what kind it was.
    kept = complete_logged_meeting(turn, change, contact_id, day or today, state,
                                   kind=command.kind if command.kind_said else None,
                                   summary=summary)
    if kept is not None:
        return day, kept
    touchpoint_id = record_touchpoint(
        turn.session, workspace_id=turn.user.workspace_id, user_id=turn.user.user_id,
        contact_id=contact_id, happened_at=happened_at, kind=command.kind, summary=summary,
        source=TYPED_SOURCE, now=turn.now,
        open_cadence_nudges=[] if state is None else None, state=state,
        day_only=day is not None)
    change.inserted_row("touchpoints", touchpoint_id)
    return day, command.kind


def touch_clock(turn: Turn, change: Change, contact_id: int, *,
                known: queries.TouchState | None = None) -> queries.TouchState | None:
    """Before-images of what recording a conversation changes: the contact's clock and its
    open cadence nudges, read in one statement with the clock's inputs (None when the
    contact is not the user's), or `known` when this unit read them already with the name
    (`choose_reading`), before writing anything. Pass what it returns to
    `record_touchpoint`, which then reads nothing again."""
    state = known if known is not None else queries.touch_state(
        turn.session, turn.user.user_id, contact_id, CLOCK, NUDGE_OUTCOME)
    change.before_images("contacts", [state.contact_image] if state is not None else [])
    change.before_images("nudges", state.nudge_images if state is not None else [])
    return state


def every(turn: Turn, command: c.SetCadence) -> Reply:
    change = Change(turn)
    contact, problem, created = find_contact(turn, command.person, create_mentions=True,
                                             change=change)
    if contact is None:
        return error(problem or "Who do you mean?")
    if created:
        change.inserted_row("contacts", contact.id)
    user_id = turn.user.user_id
    state = queries.contact_state(turn.session, user_id, contact.id)
    assert state is not None  # found above in this same transaction
    months = command.months
    days = planner.approx_days(months) if months else command.days
    next_due = planner.cadence_next_due(state.last_touch_at, days, state.created_at, months,
                                        tz=turn.user.tz)
    change.before_update("contacts", [contact.id], RHYTHM, follows=PLANNED)
    change.before_update("nudges", queries.open_cadence_nudge_ids(turn.session, user_id,
                                                                  contact.id), NUDGE_OUTCOME)
    queries.update_contact(turn.session, user_id, contact.id, cadence_days=days,
                           cadence_months=months, cadence_own=True, next_due_at=next_due,
                           plan_at=next_due)
    if days is None or (next_due is not None and next_due > turn.now):
        # No rhythm, or none due before its new day: the reminder out would contradict it
        # (`due` listing it "due now" beside "next: Mon Nov 16").
        queries.expire_cadence_nudges(turn.session, contact.id, user_id=user_id,
                                      with_sent=True)
    if days is None:
        change.save(f"turned off the rhythm for {contact.name}",
                    unchanged=f"{contact.name}'s rhythm is already off.")
        return Reply(c.full_stop(f"No more keep-in-touch reminders for {contact.name}"),
                     changed=True)
    today = turn.today
    due_day = planner.local_date(next_due, turn.user.tz) if next_due else today
    # The day the reminder comes, as `due` and `show` say it: due on a Saturday, a Mon-Fri
    # user hears of it on the Monday.
    when = "now" if next_due is None or due_day <= today else wording.friendly_day(
        overview.rhythm_reminder_day(turn, next_due), today)
    rhythm = planner.cadence_text(days, months)
    change.save(f"set the rhythm for {contact.name} to every {rhythm}",
                unchanged=f"{contact.name}'s rhythm is already every {rhythm}.")
    return Reply(f"I'll remind you to talk to {contact.name} every {rhythm} (next: {when}).",
                 changed=True)


# "Lee's daughter", "Dana’s trip to Lisbon", "Sean O'Brien's daughter": something of
# someone's, not someone; an apostrophe inside the name is the name's.
_POSSESSIVE = re.compile(r"^(?P<name>.+?)(?:'s|’s|(?<=[sS])['’])\s+(?P<what>\S.*)$")
_NOT_SEARCHED = frozenset({"the", "a", "an", "his", "her", "their", "my", "about", "note",
                           "notes", "last", "that", "this", "thing", "stuff", "info"})


def _their_entry(turn: Turn, text: str) -> str | None:
    """For `forget Lee's daughter`: the notes and conversations of Lee's that name the
    daughter, with the handles that delete them one by one; None when the text names no one
    of yours before its "'s"."""
    said = _POSSESSIVE.match(text.strip())
    if said is None:
        return None
    found = resolve(turn.session, turn.user.user_id, c.PersonRef(text=said.group("name")),
                    offer_add=False)
    if not isinstance(found, Resolved):
        return None
    contact, what = found.contact, said.group("what").strip(" .!?")
    words = [word for word in (w.casefold().removesuffix("'s").removesuffix("’s").strip(",.;:")
                               for w in what.split()) if word and word not in _NOT_SEARCHED]
    user_id = turn.user.user_id
    hits = [(f"n{note_id}", note_text) for note_id, _contact, _name, note_text, _at
            in queries.search_notes(turn.session, user_id, words, 3, contact.id)] \
        if words else []
    if words and len(hits) < 3:
        hits += [(f"t{touch_id}", f"{kind}: {summary}" if summary else kind)
                 for touch_id, _contact, _name, kind, summary, _at
                 in queries.search_touches(turn.session, user_id, words, 3 - len(hits),
                                           contact.id)]
    whole = f"“forget {contact.name}” would delete {contact.name} with everything about them."
    if not hits:
        return (f"Nothing you have about {contact.name} mentions “{what}”. “show "
                f"{contact.name}” lists their notes and conversations, each with the handle "
                f"that deletes just that one. {whole}")
    listed = "; ".join(f"“delete {handle}” ({entry})" for handle, entry in hits)
    return f"To delete just what you have about “{what}”: {listed}. {whole}"


def forget_person(turn: Turn, person: c.PersonRef, *, confirmed: bool) -> Reply:
    """Ask first (naming the person in full, with what goes with them); delete once
    confirmed. The rows are kept in the undo journal for a short while (`undo`)."""
    result = resolve_person(turn, person, offer_add=False)
    if not isinstance(result, Resolved):
        message = result.message
        if message.startswith("I don't know anyone"):
            # "forget Sean O'Brien's daughter": what is his, even where the words are close
            # enough to his name to be offered as "Did you mean Sean O'Brien?".
            entry = _their_entry(turn, person.text or "")
            if entry is not None:
                message = entry
            elif not result.suggestions:
                message += " There is nothing to forget."
        return error(message)
    contact = result.contact
    user_id = turn.user.user_id
    rows = queries.contact_rows(turn.session, user_id, contact.id)
    if not confirmed:
        counts = [f"{len(rows[table])} {label if len(rows[table]) == 1 else label + 's'}"
                  for table, label in (("notes", "note"), ("touchpoints", "conversation"),
                                       ("important_dates", "date"), ("drafts", "draft"))
                  if rows[table]]
        what = f" with {wording_list(counts)}" if counts else ""
        # Slack and Teams show a button under it; the console has none to mention.
        deletes = c.full_stop(f"This deletes {contact.name}{what}")  # "Priya N." ends it
        prompt = f"{deletes} To go ahead, type “forget {contact.name} confirm”."
        return Reply(prompt, view=ConfirmView(
            prompt=prompt, label=f"Forget {contact.name}",
            command=c.Forget(c.PersonRef(contact_id=contact.id), confirmed=True)))
    state = queries.contact_state(turn.session, user_id, contact.id)
    change = Change(turn)
    change.before_delete("contacts", [contact.id])
    for table in ("contact_tags", "notes", "important_dates", "touchpoints", "nudges",
                  "drafts", "suggestions"):
        change.before_delete(table, rows[table])
    # What the calendar and chat capture hold about them goes too (cascades, and
    # `forget_address` below): kept as well, so `undo` gives their meetings back to the
    # calendar to follow, and a day of DMs logged already is not logged twice.
    held = queries.held_about(turn.session, user_id, contact.id,
                              state.email if state is not None else None)
    for table, ids in held.items():
        change.before_delete(table, ids)
    # Reminders already delivered about them are cleared too (scheduler/redaction.py); the
    # queue is written with the delete, so nothing is lost to a restart.
    queries.queue_redactions(turn.session, turn.now, workspace_id=turn.user.workspace_id,
                             user_id=user_id, contact_id=contact.id)
    queries.delete_contact(turn.session, user_id, contact.id)
    if state is not None and state.email and state.email.strip():
        # Otherwise the next calendar sync meets her address as someone who is not a
        # contact and offers to add her again; `undo` deletes the hash with the rest.
        kept = queries.forget_address(turn.session, turn.user.workspace_id, user_id,
                                      state.email, turn.now)
        if kept is not None:
            change.inserted_row("forgotten_addresses", kept)
    change.save(f"forgot {contact.name}", kind="forget")
    return Reply(f"Forgot {contact.name}, with their notes, conversations, nudges and drafts. "
                 "Changed your mind? “undo” brings them back within 15 minutes.", changed=True,
                 erased=True)


def wording_list(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
