"""Find the contact a user meant: exact name, first name, or a 'did you mean' answer."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from rapport.bot.core.commands import PersonRef

FUZZY_CUTOFF = 72


@dataclass(frozen=True, slots=True)
class ContactName:
    id: int
    name: str
    platform_user_id: str | None


@dataclass(frozen=True, slots=True)
class Resolved:
    contact: ContactName


@dataclass(frozen=True, slots=True)
class Unresolved:
    """No single contact matched; `message` says why and what to do."""

    message: str
    suggestions: tuple[str, ...] = ()


def name_key(name: str) -> str:
    """The form names are compared in: casefolded, single spaces."""
    return " ".join(name.casefold().split())


def resolve(person: PersonRef, contacts: list[ContactName]) -> Resolved | Unresolved:
    """Match `person` against the user's contacts; never guesses between candidates."""
    if person.mention_id:
        for contact in contacts:
            if contact.platform_user_id == person.mention_id:
                return Resolved(contact)
        return Unresolved(f"<@{person.mention_id}> is not in your people yet.")
    wanted = name_key(person.text)
    exact = [c for c in contacts if name_key(c.name) == wanted]
    if len(exact) == 1:
        return Resolved(exact[0])
    first = [c for c in contacts if name_key(c.name).split(" ")[0] == wanted]
    if len(first) == 1:
        return Resolved(first[0])
    if len(first) > 1:
        names = tuple(sorted(c.name for c in first))
        return Unresolved(f"Which {person.text} do you mean: {_or_list(names)}?", names)
    choices = {c.id: c.name for c in contacts}
    matches = process.extract(person.text, choices, scorer=_name_score, limit=3,
                              score_cutoff=FUZZY_CUTOFF, processor=name_key)
    if matches:
        names = tuple(dict.fromkeys(match[0] for match in matches))
        return Unresolved(f"I don't know anyone called “{person.text}”. Did you mean "
                          f"{_or_list(names)}?", names)
    return Unresolved(f"I don't know anyone called “{person.text}” yet. "
                      f"Add them with “add {person.text}”.")


def _name_score(query: str, choice: str, **kwargs: object) -> float:
    """Similarity to the whole name or to the first name ("Dnaa" -> "Dana Scully")."""
    del kwargs
    return max(fuzz.WRatio(query, choice), fuzz.ratio(query, choice.split(" ")[0]))


def _or_list(names: tuple[str, ...]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]
