"""The typed commands and the parsers that read them from text.

Pure: no database, no platform. Contacts are named by an @mention, a "quoted name", or
plain words; the use cases resolve them. Dates are read relative to the user's `today`.
Which verb uses which parser, its usage line and its handler are in the one command table,
`rapport.bot.core.verbs`; forms and buttons build these commands directly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal, TypeVar

from rapport.bot.core.dates import parse_clock, parse_day, parse_duration_days

MAX_COMMAND_CHARS = 4000
MAX_SUMMARY_CHARS = 1000
MAX_NAME_CHARS = 100
KNOWN_KINDS = ("chat", "call", "meeting", "in person", "coffee", "email", "lunch", "dinner",
               "video", "message", "walk", "event")
TONES = ("warm", "brief", "formal")
SETTINGS_USAGE = ("settings [tz <zone>|window <9-17>|days <mon-fri>|cap <n>|digest on|off|"
                  "ai on|off|tone warm|brief|formal|summary on|off|prep 15m|1h|off]")
_MENTION = re.compile(r"^<@([A-Za-z0-9_:.\-]+)(?:\|([^>]*))?>$")
_TOKEN = re.compile(r'<@[^>]+>|"[^"]*"|“[^”]*”|\S+')
_NUDGE_REF = re.compile(r"^#(\d{1,12})$")
_KIND_WORD = re.compile(r"^[\w\-]{1,32}$")


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, slots=True)
class PersonRef:
    """A contact as the user named it: words, or a platform mention."""

    text: str = ""
    mention_id: str | None = None
    mention_name: str | None = None

    def describe(self) -> str:
        return self.mention_name or self.text or (self.mention_id or "")


@dataclass(frozen=True, slots=True)
class NudgeRef:
    """A nudge by its number, as shown in `due` ("#12")."""

    nudge_id: int


Target = PersonRef | NudgeRef


@dataclass(frozen=True, slots=True)
class Log:
    person: PersonRef
    day: date | None
    kind: str
    summary: str | None
    # Other readings of the same words, e.g. "log Dana White" as the person "Dana White"
    # rather than "Dana" with the kind "white"; the use case takes the one that names a
    # contact. Not part of equality: the same command, read another way.
    alternatives: tuple[Log, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class AddNote:
    person: PersonRef
    text: str
    follow_up_on: date | None


@dataclass(frozen=True, slots=True)
class SetCadence:
    person: PersonRef
    days: int | None


@dataclass(frozen=True, slots=True)
class AddContact:
    person: PersonRef
    kind: str
    company: str | None
    cadence_days: int | None
    # `add Lee Park client at Initech #clients` (see parse_add_tagged).
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ShowDue:
    pass


@dataclass(frozen=True, slots=True)
class ShowPeople:
    # `people #clients`: only the people carrying this tag.
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class Snooze:
    """Until a day, or for a number of days from the user's today (a button's "1 week")."""

    target: Target
    until: date | None = None
    days: int | None = None


@dataclass(frozen=True, slots=True)
class Done:
    target: Target
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class Dismiss:
    target: Target


@dataclass(frozen=True, slots=True)
class Pause:
    until: date | None


@dataclass(frozen=True, slots=True)
class Resume:
    pass


@dataclass(frozen=True, slots=True)
class Settings:
    """`settings` alone shows them; each field that is set is a change (typed text sets one,
    the settings form several at once)."""

    tz: str | None = None
    window: tuple[int, int] | None = None
    days: int | None = None
    cap: int | None = None
    digest: bool | None = None
    ai: bool | None = None
    tone: str | None = None
    summary: bool | None = None
    # Minutes of meeting-brief lead time; 0 turns briefs off.
    prep: int | None = None

    @property
    def is_change(self) -> bool:
        return any(getattr(self, name) is not None for name in self.__slots__)


@dataclass(frozen=True, slots=True)
class Draft:
    person: Target


@dataclass(frozen=True, slots=True)
class Stats:
    pass


@dataclass(frozen=True, slots=True)
class Export:
    pass


@dataclass(frozen=True, slots=True)
class Forget:
    person: PersonRef | None
    confirmed: bool = False


@dataclass(frozen=True, slots=True)
class SetDate:
    person: PersonRef
    kind: Literal["birthday", "anniversary"]
    month: int | None
    day: int | None


@dataclass(frozen=True, slots=True)
class Help:
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class ImportFile:
    """`import <file> [dry run]`: only the console reads local files (see bot/console.py)."""

    path: str
    dry_run: bool


@dataclass(frozen=True, slots=True)
class Connect:
    """`connect calendar [google|microsoft]`: a consent link for a read-only calendar."""

    provider: str | None = None


@dataclass(frozen=True, slots=True)
class Disconnect:
    """`disconnect calendar [google|microsoft]`: revoke and delete the grant."""

    provider: str | None = None


CALENDAR_PROVIDERS = {"google": "google", "gmail": "google", "microsoft": "microsoft",
                      "outlook": "microsoft", "office": "microsoft", "365": "microsoft",
                      "m365": "microsoft", "office365": "microsoft"}


def _calendar_provider(rest: str, verb: str) -> str | CommandError | None:
    words = [w.lower() for w in rest.replace(",", " ").split()]
    if "calendar" not in words and "calendars" not in words:
        return CommandError("Connect what? For example “connect calendar” or “connect google "
                            "calendar”.", verb)
    others = [w for w in words if w not in ("calendar", "calendars", "my", "the", "a")]
    if not others:
        return None
    if len(others) == 1 and others[0] in CALENDAR_PROVIDERS:
        return CALENDAR_PROVIDERS[others[0]]
    return CommandError("Which calendar: Google or Microsoft (Outlook)?", verb)


def parse_connect(rest: str, today: date) -> Connect | CommandError:
    del today
    provider = _calendar_provider(rest, "connect")
    return provider if isinstance(provider, CommandError) else Connect(provider)


def parse_disconnect(rest: str, today: date) -> Disconnect | CommandError:
    del today
    provider = _calendar_provider(rest, "disconnect")
    return provider if isinstance(provider, CommandError) else Disconnect(provider)


# --------------------------------------------------------------------------- goals
@dataclass(frozen=True, slots=True)
class TagPerson:
    """`tag Lee clients`: put one or more tags on a person."""

    person: PersonRef
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UntagPerson:
    person: PersonRef
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SetGoal:
    """`goal clients every month`; `days` None turns the goal off."""

    tag: str
    days: int | None


@dataclass(frozen=True, slots=True)
class ShowGoals:
    pass


@dataclass(frozen=True, slots=True)
class SetPersonField:
    """`set Dana ai off`, `set Dana sensitive`: one field of one person (see
    rapport.bot.core.person_fields, which holds the field registry)."""

    person: PersonRef
    field: str
    value: str


@dataclass(frozen=True, slots=True)
class ShowSuggestions:
    """`suggestions` lists them; `suggestions on|off <kind>` turns a kind back on or off."""

    kind: str | None = None
    enabled: bool | None = None


SuggestionAnswer = Literal["accept", "keep", "silence"]


@dataclass(frozen=True, slots=True)
class AnswerSuggestion:
    """Yes, no (keep things as they are) or "stop suggesting this kind"."""

    suggestion_id: int
    answer: SuggestionAnswer


def nudge_button(name: str, nudge_id: int, until: date | None = None) -> Command | None:
    """The typed command behind a nudge's button: done, dismiss, snooze for a day or a week,
    snooze until a picked day, draft; None for an unknown button or a picker without a day."""
    target = NudgeRef(nudge_id)
    if name == "done":
        return Done(target)
    if name == "dismiss":
        return Dismiss(target)
    if name == "draft":
        return Draft(target)
    if name in ("snooze_1d", "snooze_1w"):
        return Snooze(target, days=7 if name == "snooze_1w" else 1)
    if name == "snooze" and until is not None:
        return Snooze(target, until=until)
    return None


Command = (Log | AddNote | SetCadence | AddContact | ShowDue | ShowPeople | Snooze | Done
           | Dismiss | Pause | Resume | Settings | Draft | Stats | Export | Forget | SetDate
           | ImportFile | Help | Connect | Disconnect | TagPerson | UntagPerson | SetGoal
           | ShowGoals | SetPersonField | ShowSuggestions | AnswerSuggestion)


C = TypeVar("C")


@dataclass(frozen=True, slots=True)
class CommandError:
    """A short, specific answer to a command that could not be understood."""

    message: str
    verb: str | None = None
    # Filled in from the command table when the verb is known.
    usage: str | None = None

    @property
    def help_line(self) -> str | None:
        return f"Usage: {self.usage}" if self.usage else None

    def text(self) -> str:
        line = self.help_line
        return f"{self.message}\n{line}" if line else self.message


# --------------------------------------------------------------------------- parsing
def clean_text(text: str) -> str:
    """Normalise odd Unicode: NFC, no control or format characters, folded spaces."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if unicodedata.category(ch) in ("Zs", "Zl", "Zp") or ch in "\t\r\n"
                   else ch for ch in text
                   if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
                   or ch in "\t\r\n")
    return " ".join(text.split())


def clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _partition_colon(text: str) -> tuple[str, str, str]:
    """Split at the first ":" outside a mention token (Teams ids look like ``29:abc``)."""
    masked = re.sub(r"<@[^>]*>", lambda m: "_" * len(m.group(0)), text)
    index = masked.find(":")
    return (text, "", "") if index < 0 else (text[:index], ":", text[index + 1:])


def _person_from_tokens(tokens: list[str]) -> PersonRef | None:
    if not tokens:
        return None
    if len(tokens) == 1:
        token = tokens[0]
        mention = _MENTION.match(token)
        if mention:
            name = (mention.group(2) or "").strip() or None
            return PersonRef(text=name or "", mention_id=mention.group(1), mention_name=name)
        if token[:1] in "\"“" and len(token) >= 2:
            inner = " ".join(token[1:-1].split())
            return PersonRef(text=inner) if inner else None
        if token.startswith("@") and len(token) > 1:
            return PersonRef(text=token[1:])
    words = " ".join(t.strip("\"“”") for t in tokens).strip()
    return PersonRef(text=words) if words else None


def _check_person(person: PersonRef | None, verb: str) -> PersonRef | CommandError:
    if person is None or not (person.text or person.mention_id):
        return CommandError("Who do you mean? Name a person.", verb)
    if not person.mention_id and not any(unicodedata.category(ch)[0] in "LNS"
                                         for ch in person.text):
        # Lone combining marks or punctuation are not a name anyone could recognise.
        return CommandError("Who do you mean? Name a person.", verb)
    if len(person.text) > MAX_NAME_CHARS:
        return CommandError(f"That name is too long (at most {MAX_NAME_CHARS} characters).", verb)
    return person


def _first_person(tokens: list[str]) -> tuple[PersonRef | None, list[str]]:
    """The person as the first token (mention, quoted name or one word) and the rest."""
    if not tokens:
        return None, []
    return _person_from_tokens(tokens[:1]), tokens[1:]


def _leading_day(tokens: list[str], *, today: date, direction: Literal["past", "future"]
                 ) -> tuple[date | None, list[str]]:
    for size in range(min(len(tokens), 4), 0, -1):
        day = parse_day(" ".join(tokens[:size]), today=today, direction=direction)
        if day is not None:
            return day, tokens[size:]
    return None, tokens


def _trailing_day(tokens: list[str], *, today: date, direction: Literal["past", "future"]
                  ) -> tuple[date | None, list[str]]:
    for size in range(min(len(tokens), 4), 0, -1):
        day = parse_day(" ".join(tokens[-size:]), today=today, direction=direction)
        if day is not None:
            return day, tokens[:-size]
    return None, tokens


def _split_kind(words: list[str]) -> tuple[str | None, list[str]]:
    """A touchpoint kind at the start of `words`: a known kind, or None."""
    lowered = [w.lower() for w in words]
    if [w.strip(",.") for w in lowered[:2]] == ["in", "person"]:
        return "in person", words[2:]
    if lowered and lowered[0].strip(",.") in KNOWN_KINDS:
        return lowered[0].strip(",."), words[1:]
    return None, words


def _target(tokens: list[str], verb: str) -> Target | CommandError:
    if len(tokens) == 1 and _NUDGE_REF.match(tokens[0]):
        return NudgeRef(int(tokens[0][1:]))
    return _check_person(_person_from_tokens(tokens), verb)


def parse_log(rest: str, today: date) -> Log | CommandError:
    head, colon, tail = _partition_colon(rest)
    if colon:
        tokens = _tokens(head)
        day, person_tokens = _trailing_day(tokens, today=today, direction="past")
        kind: str | None = None
        if [t.lower() for t in person_tokens[-2:]] == ["in", "person"] \
                and len(person_tokens) > 2:
            # "log Dana yesterday in person: lunch": the two-word kind sits before the colon.
            kind, person_tokens = "in person", person_tokens[:-2]
            if day is None:
                day, person_tokens = _trailing_day(person_tokens, today=today, direction="past")
        if kind is None and day is None and len(person_tokens) > 1:
            # "log Dana yesterday pairing: ..." or "log Dana coffee: ..." name the kind
            # before the colon: a known kind, or the user's own word after a date.
            before_kind = person_tokens[:-1]
            day, without_day = _trailing_day(before_kind, today=today, direction="past")
            known_kind, _ = _split_kind(person_tokens[-1:])
            if day is not None and _KIND_WORD.match(person_tokens[-1]):
                kind, person_tokens = person_tokens[-1].lower(), without_day
            elif known_kind:
                kind, person_tokens = known_kind, before_kind
        person = _check_person(_person_from_tokens(person_tokens), "log")
        words = tail.split()
        if kind is None:
            kind, words = _split_kind(words)
    else:
        person_raw, tokens = _first_person(_tokens(rest))
        person = _check_person(person_raw, "log")
        day, tokens = _leading_day(tokens, today=today, direction="past")
        kind, words = _split_kind(tokens)
        if kind is None and len(words) == 1 and _KIND_WORD.match(words[0]):
            kind, words = words[0].lower(), []
    if isinstance(person, CommandError):
        return person
    if day is not None and day > today:
        return CommandError("You can only log conversations that already happened.", "log")
    if day is not None and day < today - timedelta(days=3650):
        return CommandError("That date is more than ten years ago.", "log")
    summary = " ".join(words).strip() or None
    if summary and len(summary) > MAX_SUMMARY_CHARS:
        return CommandError(f"Keep the summary under {MAX_SUMMARY_CHARS:,} characters.", "log")
    alternatives: tuple[Log, ...] = ()
    if kind and kind not in KNOWN_KINDS and not summary and not person.mention_id:
        # "log Dana White": the kind "white", or the person "Dana White"?
        alternatives = (Log(PersonRef(text=f"{person.text} {kind}"), day, "chat", None),)
    return Log(person=person, day=day, kind=kind or "chat", summary=summary,
               alternatives=alternatives)


_FOLLOW_UP = re.compile(r"(?:,|;)?\s+(after|on|by|follow up(?: on)?|remind me(?: on)?)\s+(.+)$",
                        re.IGNORECASE)


def parse_note(rest: str, today: date) -> AddNote | CommandError:
    head, colon, tail = _partition_colon(rest)
    if colon and head.strip():
        person = _check_person(_person_from_tokens(_tokens(head)), "note")
        text = tail.strip()
    else:
        person_raw, tokens = _first_person(_tokens(rest))
        person = _check_person(person_raw, "note")
        text = " ".join(tokens).lstrip(": ").strip()
    if isinstance(person, CommandError):
        return person
    follow_up: date | None = None
    for match in reversed(list(_FOLLOW_UP.finditer(text))):
        day = parse_day(match.group(2), today=today, direction="future")
        if day is not None:
            follow_up = day + timedelta(days=1) if match.group(1).lower() == "after" else day
            text = text[: match.start()].rstrip(" ,;")
            break
    if not text:
        return CommandError("What should I remember? Add the note after the name.", "note")
    if len(text) > MAX_SUMMARY_CHARS:
        return CommandError(f"Keep notes under {MAX_SUMMARY_CHARS:,} characters.", "note")
    if follow_up is not None and follow_up < today:
        return CommandError("That follow-up date has already passed.", "note")
    return AddNote(person=person, text=text, follow_up_on=follow_up)


def parse_every(rest: str, today: date) -> SetCadence | CommandError:
    del today
    tokens = _tokens(rest)
    if tokens and tokens[-1].lower() in ("off", "never", "none"):
        person = _check_person(_person_from_tokens(tokens[:-1]), "every")
        return person if isinstance(person, CommandError) else SetCadence(person, None)
    for size in (2, 1):
        if len(tokens) > size:
            days = parse_duration_days(" ".join(tokens[-size:]))
            if days is not None:
                person = _check_person(_person_from_tokens(tokens[:-size]), "every")
                if isinstance(person, CommandError):
                    return person
                return SetCadence(person, days)
    return CommandError("How often? For example “2 weeks”, “6w” or “3 months”.", "every")


def parse_add(rest: str, today: date) -> AddContact | CommandError:
    del today
    tokens = _tokens(rest)
    kind, company, cadence = "colleague", None, None
    name_tokens: list[str] = []
    index = 0
    while index < len(tokens):
        word = tokens[index].lower()
        if word in ("colleague", "client") and name_tokens:
            kind = word
        elif word == "at" and name_tokens and index + 1 < len(tokens):
            end = index + 1
            while end < len(tokens) and tokens[end].lower() not in ("every", "colleague",
                                                                      "client"):
                end += 1
            company = " ".join(t.strip("\"“”") for t in tokens[index + 1:end])[:200] or None
            index = end
            continue
        elif word == "every" and name_tokens:
            duration = " ".join(tokens[index + 1:index + 3])
            cadence = parse_duration_days(duration) or parse_duration_days(
                " ".join(tokens[index + 1:index + 2]))
            if cadence is None:
                return CommandError("How often? For example “every 2 weeks”.", "add")
            index += 3 if parse_duration_days(duration) else 2
            continue
        else:
            if kind != "colleague" or company or cadence:
                return CommandError(f"I did not understand “{clip(tokens[index])}”.", "add")
            name_tokens.append(tokens[index])
        index += 1
    person = _check_person(_person_from_tokens(name_tokens), "add")
    if isinstance(person, CommandError):
        return person
    return AddContact(person=person, kind=kind, company=company, cadence_days=cadence)


MAX_SNOOZE = timedelta(days=366)


def snooze_problem(until: date, today: date) -> str | None:
    """Why a snooze to `until` is refused, or None: after today, within a year."""
    if until <= today:
        return "Snooze to a day after today."
    if until > today + MAX_SNOOZE:
        return "Snooze for at most a year; use `every` or `forget` instead."
    return None


def parse_snooze(rest: str, today: date) -> Snooze | CommandError:
    tokens = _tokens(rest)
    until: date | None = None
    for size in (3, 2, 1):
        if len(tokens) > size:
            phrase = [t.lower() for t in tokens[-size:]]
            if phrase[0] in ("for",):
                phrase = phrase[1:]
            if phrase and phrase[0] == "until":
                day = parse_day(" ".join(phrase[1:]), today=today, direction="future")
            else:
                days = parse_duration_days(" ".join(phrase))
                day = today + timedelta(days=days) if days else parse_day(
                    " ".join(phrase), today=today, direction="future")
            if day is not None:
                until, tokens = day, tokens[:-size]
                break
    if until is None:
        until = today + timedelta(days=1)
    problem = snooze_problem(until, today)
    if problem is not None:
        return CommandError(problem, "snooze")
    target = _target(tokens, "snooze")
    return target if isinstance(target, CommandError) else Snooze(target, until)


def parse_done(rest: str, today: date) -> Done | CommandError:
    del today
    head, _, tail = _partition_colon(rest)
    target = _target(_tokens(head), "done")
    if isinstance(target, CommandError):
        return target
    summary = tail.strip() or None
    if summary and len(summary) > MAX_SUMMARY_CHARS:
        return CommandError(f"Keep the summary under {MAX_SUMMARY_CHARS:,} characters.", "done")
    return Done(target, summary)


def parse_dismiss(rest: str, today: date) -> Dismiss | CommandError:
    del today
    target = _target(_tokens(rest), "dismiss")
    return target if isinstance(target, CommandError) else Dismiss(target)


def parse_pause(rest: str, today: date) -> Pause | CommandError:
    words = rest.lower().split()
    if not words:
        return Pause(None)
    if words[0] == "until":
        day = parse_day(" ".join(words[1:]), today=today, direction="future")
    elif words[0] == "for":
        days = parse_duration_days(" ".join(words[1:]))
        day = today + timedelta(days=days) if days else None
    else:
        days = parse_duration_days(" ".join(words))
        day = today + timedelta(days=days) if days else parse_day(
            " ".join(words), today=today, direction="future")
    if day is None:
        return CommandError("Pause until when? For example “until Monday” or “for 2 weeks”.",
                            "pause")
    if day <= today:
        return CommandError("Pause until a day after today.", "pause")
    return Pause(day)


_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_working_days(text: str) -> int | None:
    """'mon-fri', 'weekdays', 'all', 'mon,wed,fri', 'sun-thu' -> bitmask (bit 0 = Monday)."""
    value = text.lower().replace(" ", "")
    aliases = {"weekdays": "mon-fri", "workdays": "mon-fri", "all": "mon-sun",
               "every": "mon-sun", "everyday": "mon-sun", "weekend": "sat-sun",
               "weekends": "sat-sun"}
    value = aliases.get(value, value)
    mask = 0
    for part in value.split(","):
        if not part:
            return None
        ends = part.split("-")
        names = [e[:3] for e in ends]
        if any(name not in _DAY_NAMES for name in names) or len(ends) > 2:
            return None
        first = _DAY_NAMES.index(names[0])
        last = _DAY_NAMES.index(names[-1])
        day = first
        while True:
            mask |= 1 << day
            if day == last:
                break
            day = (day + 1) % 7
    return mask or None


def _on_off(value: str) -> bool | None:
    return {"on": True, "yes": True, "true": True, "off": False, "no": False,
            "false": False}.get(value.lower())


MAX_PREP_MINUTES = 120


def parse_prep(text: str) -> int | None:
    """'15m', '30 min', '1h', '45', 'off' -> minutes before a meeting (0: off)."""
    value = text.lower().replace(" ", "")
    if value in ("off", "no", "none", "0"):
        return 0
    match = re.fullmatch(r"(\d{1,3})(m|min|mins|minutes?|h|hr|hours?)?", value)
    if match is None:
        return None
    minutes = int(match.group(1)) * (60 if (match.group(2) or "m").startswith("h") else 1)
    return minutes if 1 <= minutes <= MAX_PREP_MINUTES else None


WINDOW_HELP = "Give the window as start-end in your time, e.g. “9-17” or “08:30-16:00”."


def parse_window(text: str) -> tuple[int, int] | None:
    """'9-17', '08:30-16:00', '9am to 5pm' -> minutes after midnight (start, end)."""
    match = re.fullmatch(r"\s*([0-9:.apmh ]+?)\s*(?:-|–|to)\s*([0-9:.apmh ]+?)\s*", text)
    start = parse_clock(match.group(1)) if match else None
    end = parse_clock(match.group(2)) if match else None
    if start is None or end is None or start >= end:
        return None
    return start, end


def parse_settings(rest: str, today: date) -> Settings | CommandError:
    del today
    words = rest.split()
    if not words:
        return Settings()
    name, values = words[0].lower(), words[1:]
    value_text = " ".join(values)
    if name in ("tz", "timezone", "zone"):
        if not values:
            return CommandError("Which time zone? For example “Europe/Berlin”.", "settings")
        return Settings(tz=values[0])
    if name == "window":
        window = parse_window(value_text)
        if window is None:
            return CommandError(WINDOW_HELP, "settings")
        return Settings(window=window)
    if name in ("days", "workdays"):
        mask = parse_working_days(value_text)
        if mask is None:
            return CommandError("Which days? For example “mon-fri”, “sun-thu” or "
                                "“mon,wed,fri”.", "settings")
        return Settings(days=mask)
    if name == "cap":
        if len(values) != 1 or not values[0].isdigit() or not 1 <= int(values[0]) <= 20:
            return CommandError("The daily cap is a number from 1 to 20.", "settings")
        return Settings(cap=int(values[0]))
    if name in ("prep", "brief", "briefs"):
        minutes = parse_prep(value_text)
        if minutes is None:
            return CommandError("Briefs before meetings: “settings prep 15m”, “1h” or “off” "
                                "(up to 2 hours).", "settings")
        return Settings(prep=minutes)
    if name in ("digest", "ai", "summary"):
        flag = _on_off(value_text) if values else None
        if flag is None:
            return CommandError(f"Say “settings {name} on” or “settings {name} off”.",
                                "settings")
        if name == "digest":
            return Settings(digest=flag)
        return Settings(ai=flag) if name == "ai" else Settings(summary=flag)
    if name == "tone":
        if value_text.lower() not in TONES:
            return CommandError("Tone is one of warm, brief or formal.", "settings")
        return Settings(tone=value_text.lower())
    return CommandError(f"There is no setting called “{clip(name)}”.", "settings")


def parse_date(rest: str, today: date) -> SetDate | CommandError:
    del today
    tokens = _tokens(rest)
    lowered = [t.lower() for t in tokens]
    for index, word in enumerate(lowered):
        if word in ("birthday", "anniversary"):
            person = _check_person(_person_from_tokens(tokens[:index]), "date")
            if isinstance(person, CommandError):
                return person
            kind: Literal["birthday", "anniversary"] = (
                "birthday" if word == "birthday" else "anniversary")
            value = " ".join(lowered[index + 1:])
            if value in ("off", "none", "remove"):
                return SetDate(person, kind, None, None)
            month_day = _month_day(value)
            if month_day is None:
                return CommandError("Which day? For example “May 4” or “4 May”.", "date")
            return SetDate(person, kind, *month_day)
    return CommandError("Say which date: “birthday” or “anniversary”.", "date")


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _month_day(value: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?|(\d{1,2})(?:st|nd|rd|th)?"
                         r"\s+([a-z]{3,9})\.?|(\d{1,2})[/-](\d{1,2})", value.strip())
    if not match:
        return None
    if match.group(1) or match.group(4):
        month_name = (match.group(1) or match.group(4))[:3]
        if month_name not in _MONTHS:
            return None
        month, day = _MONTHS.index(month_name) + 1, int(match.group(2) or match.group(3))
    else:
        month, day = int(match.group(5)), int(match.group(6))
    try:
        date(2024, month, day)  # a leap year, so Feb 29 is allowed
    except ValueError:
        return None
    return month, day


def parse_forget(rest: str, today: date) -> Forget | CommandError:
    del today
    words = rest.split()
    if [w.lower() for w in words[:1]] == ["me"] and len(words) <= 2:
        confirmed = len(words) == 2 and words[1].lower() in ("confirm", "yes")
        if len(words) == 2 and not confirmed:
            return CommandError("To delete all your data, type “forget me confirm”.", "forget")
        return Forget(None, confirmed)
    person = _check_person(_person_from_tokens(_tokens(rest)), "forget")
    return person if isinstance(person, CommandError) else Forget(person)


def no_arguments(factory: Callable[[], C], verb: str) -> Callable[[str, date], C | CommandError]:
    """The parser of a verb that takes nothing (`due`, `people`, `stats`...)."""

    def parse(rest: str, today: date) -> C | CommandError:
        del today
        if rest.strip():
            return CommandError(f"“{verb}” takes no arguments.", verb)
        return factory()

    return parse


def parse_draft(rest: str, today: date) -> Draft | CommandError:
    del today
    target = _target(_tokens(rest), "draft")
    return target if isinstance(target, CommandError) else Draft(target)


def parse_import(rest: str, today: date) -> ImportFile | CommandError:
    del today
    words = rest.split()
    dry_run = [w.lower() for w in words[-2:]] == ["dry", "run"] or \
        [w.lower() for w in words[-1:]] in (["dry-run"], ["--dry-run"])
    if dry_run:
        words = words[:-2] if words[-1].lower() == "run" else words[:-1]
    path = " ".join(words).strip("\"“”")
    if not path:
        return CommandError("Which file? For example “import contacts.csv dry run”.", "import")
    return ImportFile(path, dry_run)


def parse_help(rest: str, today: date) -> Help | CommandError:
    del today
    return Help(rest.strip() or None)


# --------------------------------------------------------------------------- goals: parsing
MAX_TAG_CHARS = 32
_TAG = re.compile(r"^[^\W_][\w\-]*$")
_HASHTAG = re.compile(r"^#[^\s#]+$")
_SUGGESTION_REF = re.compile(r"^(?:#|s)?(\d{1,12})$", re.IGNORECASE)


def tag_name(word: str) -> str | None:
    """'#Clients' or 'clients' -> 'clients'; None when it is not a tag name."""
    name = word.strip().lstrip("#").strip(",;.").lower()
    if not name or len(name) > MAX_TAG_CHARS or not _TAG.match(name):
        return None
    return name


def _tag_words(words: list[str], verb: str) -> tuple[str, ...] | CommandError:
    tags: list[str] = []
    for word in words:
        name = tag_name(word)
        if name is None:
            return CommandError(f"“{clip(word)}” is not a tag name: use letters, digits and "
                                f"dashes, at most {MAX_TAG_CHARS} characters.", verb)
        if name not in tags:
            tags.append(name)
    return tuple(tags)


def _person_and_tags(rest: str, verb: str
                     ) -> tuple[PersonRef, tuple[str, ...]] | CommandError:
    """`Lee clients`, `Lee Park #clients #vip`, `"Lee Park" clients`: the person, then tags.

    With #tags every #word is a tag; without, the last word is the one tag.
    """
    tokens = _tokens(rest)
    hashed = [t for t in tokens if _HASHTAG.match(t)]
    if hashed:
        person_tokens = [t for t in tokens if not _HASHTAG.match(t)]
        tag_tokens = hashed
    else:
        person_tokens, tag_tokens = tokens[:-1], tokens[-1:]
    if not tag_tokens:
        return CommandError("Which tag? For example “tag Lee clients”.", verb)
    person = _check_person(_person_from_tokens(person_tokens), verb)
    if isinstance(person, CommandError):
        return person
    tags = _tag_words(tag_tokens, verb)
    return tags if isinstance(tags, CommandError) else (person, tags)


def parse_tag(rest: str, today: date) -> TagPerson | CommandError:
    del today
    parsed = _person_and_tags(rest, "tag")
    return parsed if isinstance(parsed, CommandError) else TagPerson(*parsed)


def parse_untag(rest: str, today: date) -> UntagPerson | CommandError:
    del today
    parsed = _person_and_tags(rest, "untag")
    return parsed if isinstance(parsed, CommandError) else UntagPerson(*parsed)


def goal_duration_days(text: str) -> int | None:
    """'month', '2 weeks', 'every 6w', 'fortnight' -> days; None when not a duration."""
    words = text.lower().split()
    if words[:1] == ["every"]:
        words = words[1:]
    phrase = " ".join(words)
    if phrase in ("week", "month", "year", "day"):
        phrase = "1 " + phrase
    if phrase in ("fortnight", "other week"):
        return 14
    return parse_duration_days(phrase) if phrase else None


def parse_goal(rest: str, today: date) -> SetGoal | CommandError:
    del today
    words = rest.split()
    if not words:
        return CommandError("Which group? For example “goal clients every month”.", "goal")
    tag = tag_name(words[0])
    if tag is None:
        return CommandError(f"“{clip(words[0])}” is not a tag name: use letters, digits and "
                            "dashes.", "goal")
    value = " ".join(words[1:]).lower()
    if value in ("off", "none", "never", "remove"):
        return SetGoal(tag, None)
    days = goal_duration_days(value) if value else None
    if days is None:
        return CommandError("How often? For example “goal clients every month” or “goal team "
                            "every 2 weeks”.", "goal")
    return SetGoal(tag, days)


def parse_people(rest: str, today: date) -> ShowPeople | CommandError:
    """`people` or `people #clients`."""
    del today
    words = rest.split()
    if not words:
        return ShowPeople()
    if len(words) == 1 and words[0].startswith("#"):
        tag = tag_name(words[0])
        if tag is not None:
            return ShowPeople(tag)
    return CommandError("“people” takes no arguments, or one #tag (for example “people "
                        "#clients”).", "people")


def parse_add_tagged(rest: str, today: date) -> AddContact | CommandError:
    """`add` with #tags anywhere: the tags are taken out, the rest is read by parse_add."""
    tokens = _tokens(rest)
    hashed = [t for t in tokens if _HASHTAG.match(t)]
    if not hashed:
        return parse_add(rest, today)
    tags = _tag_words(hashed, "add")
    if isinstance(tags, CommandError):
        return tags
    parsed = parse_add(" ".join(t for t in tokens if not _HASHTAG.match(t)), today)
    if isinstance(parsed, CommandError):
        return parsed
    return AddContact(person=parsed.person, kind=parsed.kind, company=parsed.company,
                      cadence_days=parsed.cadence_days, tags=tags)


def parse_suggestions(rest: str, today: date) -> ShowSuggestions | CommandError:
    """`suggestions`, `suggestions on window`, `suggestions off coffee`."""
    del today
    words = rest.lower().split()
    if not words:
        return ShowSuggestions()
    if len(words) == 2 and words[0] in ("on", "off"):
        return ShowSuggestions(kind=words[1], enabled=words[0] == "on")
    return CommandError("Say “suggestions”, or “suggestions on window” / “suggestions off "
                        "coffee” to turn a kind back on or off.", "suggestions")


def answer_parser(answer: SuggestionAnswer) -> Callable[[str, date],
                                                        AnswerSuggestion | CommandError]:
    """The parser of `accept 3`, `keep 3`, `silence 3` (a suggestion's number)."""

    def parse(rest: str, today: date) -> AnswerSuggestion | CommandError:
        del today
        match = _SUGGESTION_REF.match(rest.strip())
        if not match:
            return CommandError(f"Which suggestion? Give its number, for example "
                                f"“{answer} 3” (“suggestions” lists them).", answer)
        return AnswerSuggestion(int(match.group(1)), answer)

    return parse
