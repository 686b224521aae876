"""`set <person> <field> [value]`: one field of one person, through two registries.

Details of the person (company, email, kind: `commands.PERSON_FIELDS`, handled by
`corrections.set_field` with undo) and the person's own settings (`FIELDS` here: AI drafts,
sensitive). Each entry reads its value (pure, at parse time) and applies it in the command's
unit of work; adding a field is one entry in either registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from rapport.bot.core import commands as c
from rapport.bot.core import corrections
from rapport.bot.core.context import Turn
from rapport.bot.core.journal import Change
from rapport.bot.core.people import email_taken, find_contact, resolve_person
from rapport.bot.core.resolve import Resolved
from rapport.bot.core.views import Reply, error
from rapport.scheduler import wording
from rapport.storage import queries
from rapport.storage.queries import ContactName

USAGE = ("set <person> <" + "|".join(c.PERSON_FIELDS) + "> <value|none> | set <person> ai "
         "on|off | set <person> sensitive [off] | set <person> birthday|anniversary <date>")
_ON = ("on", "yes", "true")
_OFF = ("off", "no", "false")


@dataclass(frozen=True, slots=True)
class PersonField:
    """One field `set` can change: how its value reads, and what setting it does."""

    name: str
    usage: str
    # Value text -> the value, or the problem with it (pure: runs at parse time).
    read: Callable[[str], object | c.CommandError]
    apply: Callable[[Turn, ContactName, object], Reply]


def _flag(field: str, *, bare: bool | None) -> Callable[[str], object | c.CommandError]:
    """on/off values; `bare` is the value when none is given (None: a value is required)."""

    def read(value: str) -> object | c.CommandError:
        word = value.strip().lower()
        if not word and bare is not None:
            return bare
        if word in _ON:
            return True
        if word in _OFF:
            return False
        return c.CommandError(f"Say “on” or “off” after {field}.", "set")

    return read


def _set_ai(turn: Turn, contact: ContactName, value: object) -> Reply:
    allowed = bool(value)
    change = Change(turn)
    change.before_update("contacts", [contact.id], ("ai_drafts",))
    queries.update_contact(turn.session, turn.user.user_id, contact.id, ai_drafts=allowed)
    change.save(f"turned AI drafts {'on' if allowed else 'off'} for {contact.name}")
    first = wording.first_name(contact.name)
    if allowed:
        return Reply(c.full_stop(f"AI drafts are allowed again for {contact.name}"),
                     changed=True)
    return Reply(f"AI drafts are off for {contact.name}: drafts for {first} are templates "
                 "you fill in yourself, and nothing about them goes to an AI provider.",
                 changed=True)


def _set_sensitive(turn: Turn, contact: ContactName, value: object) -> Reply:
    sensitive = bool(value)
    change = Change(turn)
    change.before_update("contacts", [contact.id], ("sensitive",))
    queries.update_contact(turn.session, turn.user.user_id, contact.id, sensitive=sensitive)
    change.save(f"{'marked' if sensitive else 'unmarked'} {contact.name} as sensitive")
    first = wording.first_name(contact.name)
    if sensitive:
        return Reply(f"Marked {contact.name} as sensitive: no drafts for {first}, AI or "
                     f"template. Write to {first} personally.", changed=True)
    return Reply(f"{contact.name} is no longer marked sensitive.", changed=True)


FIELDS: dict[str, PersonField] = {
    "ai": PersonField("ai", "ai on|off", _flag("ai", bare=None), _set_ai),
    "sensitive": PersonField("sensitive", "sensitive [on|off]", _flag("sensitive", bare=True),
                             _set_sensitive),
}


def parse_set(rest: str, today: date
              ) -> (c.SetField | c.SetPersonField | c.SetDate | c.Rename | c.SetCadence
                    | c.CommandError):
    """The person, then the first word that names a field of either registry, then its
    value: `set Dana company Acme`, `set Dana ai off`; a yearly date as `date` reads it
    (`set Dana birthday May 4`); the name as `rename` does (`set Lee's name to Lee Parker`)."""
    tokens = c._tokens(rest)
    if tokens and tokens[0].lower() in FIELDS:
        return _parse_setting(rest)  # "set ai off": asks who
    for word in tokens[1:]:
        name = word.lower().strip(":")
        if name in FIELDS:
            return _parse_setting(rest)
        if c.FIELD_ALIASES.get(name, name) in c.PERSON_FIELDS:
            return c.parse_set(rest, today)
        if name in c.DATE_KINDS:
            return c.parse_date(rest, today)
        if name in c.RHYTHM_WORDS:
            return c.parse_every(rest, today)  # "set Lee's rhythm to monthly"
        if name == "name" and (renamed := c.rename_said_as_detail(tokens, today)) is not None:
            return renamed
    names = ", ".join((*c.PERSON_FIELDS, *FIELDS, "name", "birthday", "anniversary"))
    return c.CommandError(f"Which field? One of: {names}. For example “set Dana company Acme” "
                          "or “set Dana ai off”.", "set")


def _parse_setting(rest: str) -> c.SetPersonField | c.CommandError:
    tokens = c._tokens(rest)
    for index, token in enumerate(tokens):
        field = FIELDS.get(token.lower())
        if index == 0 or field is None:
            continue
        person = c._check_person(c._person_from_tokens(tokens[:index]), "set")
        if isinstance(person, c.CommandError):
            return person
        value = " ".join(tokens[index + 1:])
        read = field.read(value)
        if isinstance(read, c.CommandError):
            return read
        return c.SetPersonField(person, field.name, value)
    if tokens and tokens[0].lower() in FIELDS:
        return c.CommandError(f"Who do you mean? For example “set Dana {tokens[0].lower()} "
                              "off”.", "set")
    names = ", ".join(FIELDS)
    return c.CommandError(f"What should I set? Fields: {names}.", "set")


def set_any(turn: Turn, command: c.SetField | c.SetPersonField | c.NewCompany) -> Reply:
    if isinstance(command, c.SetField):
        if command.field == "email" and isinstance(command.value, str):
            # One address, one person (`email_taken`); `set_field` answers the rest.
            found = resolve_person(turn, command.person, offer_add=False)
            if isinstance(found, Resolved) and (taken := email_taken(
                    turn, command.value, who=found.contact.name,
                    contact_id=found.contact.id)) is not None:
                return error(taken)
        return corrections.set_field(turn, command)
    if isinstance(command, c.NewCompany):
        return corrections.new_company(turn, command)
    return set_field(turn, command)


def set_field(turn: Turn, command: c.SetPersonField) -> Reply:
    field = FIELDS.get(command.field)
    if field is None:
        return error(f"There is no field called “{c.clip(command.field)}”.")
    value = field.read(command.value)
    if isinstance(value, c.CommandError):
        return error(value.message)
    contact, problem, _ = find_contact(turn, command.person, create_mentions=False)
    if contact is None:
        return error(problem or "Who do you mean?")
    return field.apply(turn, contact, value)
