"""Find the contact a user meant: @mention, exact name, first name, last name, nickname, or a
'did you mean' answer. A one-word name that is someone's whole name and others' first name
("Dana" with Dana and Dana Scully) is asked about, unless typed in quotes.

Each step up to the first name is one indexed lookup (`rapport.storage.queries`); only a miss
reads every name, for the last name, a nickname or a hyphen typed as a space, and then the
fuzzy "did you mean". Never guesses between candidates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process
from sqlalchemy.orm import Session

from rapport.bot.core.commands import PersonRef
from rapport.storage import queries
from rapport.storage.names import (
    TITLES,
    first_word,
    hyphen_blind,
    name_key,
    nicknames,
    written_alike,
)
from rapport.storage.queries import ContactName

FUZZY_CUTOFF = 72


@dataclass(frozen=True, slots=True)
class Resolved:
    contact: ContactName


@dataclass(frozen=True, slots=True)
class Unresolved:
    """No single contact matched; `message` says why and what to do."""

    message: str
    suggestions: tuple[str, ...] = ()


NOT_YOURS = "I can't find that person among yours."
# What ends a sentence typed after a name ("forget Dana Scully.").
SENTENCE_END = ".!?"


def resolve(session: Session, user_id: int, person: PersonRef, *,
            offer_add: bool = True) -> Resolved | Unresolved:
    """Match `person` against the user's contacts. `offer_add=False` leaves out the "Add them
    with add ..." hint (it makes no sense after "forget Nobody")."""
    if person.contact_id is not None:
        # From a button or a form: the id must be one of this user's contacts; the same
        # answer for missing and someone else's.
        by_id = queries.contact_by_id(session, user_id, person.contact_id)
        return Resolved(by_id) if by_id is not None else Unresolved(NOT_YOURS)
    if person.mention_id:
        found = queries.contact_by_mention(session, user_id, person.mention_id)
        if found is not None:
            return Resolved(found)
        return Unresolved(f"<@{person.mention_id}> is not in your people yet.")
    wanted = name_key(person.text)
    # "forget Dana Scully.": the end of a sentence, not of the name, unless someone's name
    # ends so ("Priya N."): the name as typed is looked up first.
    unended = person.text.rstrip(SENTENCE_END).rstrip()
    if person.several is not None:
        # "Tom & Jerry" where one person goes: someone called exactly that, or two people
        # (never a guess at one of them, nor "did you mean").
        whole = queries.contact_by_key(session, user_id, wanted)
        if whole is None and unended and unended != person.text:
            return resolve(session, user_id, replace(person, text=unended),
                           offer_add=offer_add)
        return Resolved(whole) if whole is not None else Unresolved(person.several)
    by_key = queries.contact_by_key_shared(session, user_id, wanted)
    if by_key is None and unended and unended != person.text:
        return resolve(session, user_id, replace(person, text=unended), offer_add=offer_add)
    if by_key is not None:
        exact, shared = by_key
        if exact_wins(person, shared):
            return Resolved(exact)
        return _which(person, exact, queries.contacts_by_first_name(session, user_id, wanted))
    if " " not in wanted:
        picked = _one_of(person, queries.contacts_by_first_name(session, user_id, wanted))
        if picked is not None:
            return picked
    everyone = queries.contact_names(session, user_id)
    # "log Scully": a last name is how some people are known; "log CJ": so is a nickname
    # (Chris “CJ” Johnson); "Anne Marie" is Anne-Marie. One match is them; several, asked.
    picked = _one_of(person, [c for c in everyone if _known_as(wanted, c.name)
                              or _titled_as(wanted, c.name)])
    if picked is not None:
        return picked
    return did_you_mean(person, everyone, offer_add=offer_add)


def _titled_as(wanted: str, name: str) -> bool:
    """Whether a typed title and a name ("Dr. Tanaka", "Dr. Hiro") name `name`, whose key
    leaves the title out when a given name remains ("Dr. Hiro Tanaka" is "hiro tanaka"):
    by its whole, first or last name after the title. Never someone keyed by another title
    ("Mrs. Smith" is not Mr. Smith)."""
    title, _, rest = wanted.partition(" ")
    if title not in TITLES or not rest:
        return False
    key = name_key(name)
    words = key.split(" ")
    if words[0] in TITLES:
        return False  # their title is in their key: typed as it is, it matched already
    return key == rest or (" " not in rest and rest in (words[0], words[-1])) \
        or _known_as(rest, name)


def _known_as(wanted: str, name: str) -> bool:
    """Whether the typed key names `name` other than by its whole or first name: its last
    name (one word), its nickname, or its words with a hyphen read as a space."""
    key = name_key(name)  # once: every contact is read on a miss
    _first, space, last = key.rpartition(" ")
    return (" " not in wanted and bool(space) and last == wanted) \
        or hyphen_blind(wanted, key) or wanted in nicknames(name, key)


def written_another_way(session: Session, user_id: int, key: str) -> ContactName | None:
    """The contact whose whole name the key `key` is, written another way (`written_alike`:
    "anne marie smith" for Anne-Marie Smith), for `add` to answer as for the same name.
    Reads every name, as a miss does."""
    return next((c for c in queries.contact_names(session, user_id)
                 if written_alike(key, c.name, name_key(c.name))), None)


def mention_matches(session: Session, user_id: int, name: str) -> list[ContactName]:
    """The contacts linked to no account yet that an @mention of someone called `name` (as
    the directory says it) may be: by their whole name, written however (`written_alike`),
    or by a name of one word that is the mentioned person's first name or nickname ("Dana",
    added before with "add Dana", for Dana Scully). Reads every name, as a miss does."""
    key = name_key(name)
    known_as = {key, first_word(key), *nicknames(name, key)}
    found = []
    for contact in queries.contact_names(session, user_id):
        if contact.platform_user_id is not None:
            continue  # someone's account already: another person of that name
        stored = name_key(contact.name)
        if stored in known_as or written_alike(key, contact.name, stored):
            found.append(contact)
    return found


def exact_wins(person: PersonRef, shared: bool) -> bool:
    """Whether the contact whose whole name `person` is, is who they mean. Not when that one
    word is others' first name too (`shared`, read with the name): with Dana and Dana
    Scully, "Dana" is either of them, so it is asked about (README: "Which Dana do you mean
    …?"), unless typed in quotes (“"Dana"” is Dana alone)."""
    return person.exact or not shared


def _which(person: PersonRef, exact: ContactName, others: list[ContactName]) -> Unresolved:
    """"Which Dana do you mean", when one of them is called by that word alone: how to name
    that one (in quotes) goes with the question."""
    names = tuple(sorted(c.name for c in (exact, *others)))
    return Unresolved(f"Which {person.text} do you mean: {or_list(names)}? For {exact.name} "
                      f"alone, put the name in quotes (“\"{exact.name}\"”).", names)


def _one_of(person: PersonRef, found: list[ContactName]) -> Resolved | Unresolved | None:
    """The one contact a single word names, the question when it names several, or None."""
    if len(found) == 1:
        return Resolved(found[0])
    if len(found) > 1:
        names = tuple(sorted(c.name for c in found))
        return Unresolved(f"Which {person.text} do you mean: {or_list(names)}?", names)
    return None


def did_you_mean(person: PersonRef, contacts: list[ContactName], *,
                 offer_add: bool = True) -> Unresolved:
    """The answer to a name that matched nobody: close names, or how to add them."""
    choices = {c.id: c.name for c in contacts}
    matches = process.extract(person.text, choices, scorer=_name_score, limit=3,
                              score_cutoff=FUZZY_CUTOFF, processor=name_key)
    names = tuple(dict.fromkeys(match[0] for match in matches))
    if not names and " " in name_key(person.text):
        # "Dana White" when you know Dana Scully: the same first name is worth asking about.
        first = name_key(person.text).split(" ", 1)[0]
        names = tuple(sorted(c.name for c in contacts if name_key(c.name).split(" ")[0] == first))
    if names:
        return Unresolved(f"I don't know anyone called “{person.text}”. Did you mean "
                          f"{or_list(names)}?", names)
    if not offer_add:
        return Unresolved(f"I don't know anyone called “{person.text}”.")
    return Unresolved(f"I don't know anyone called “{person.text}” yet. "
                      f"Add them with “add {person.text}”.")


def _name_score(query: str, choice: str, **kwargs: object) -> float:
    """Similarity to the whole name or to the first name ("Dnaa" -> "Dana Scully")."""
    del kwargs
    return max(fuzz.WRatio(query, choice), fuzz.ratio(query, choice.split(" ")[0]))


def or_list(names: tuple[str, ...]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]
