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
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal, TypeVar

from rapport.bot.core.dates import (
    AROUND_A_DAY,
    Cadence,
    count_from,
    counted_day_at_end,
    date_like_words,
    day_problem,
    find_dates,
    is_count_alone,
    is_counted_day,
    moment_minute,
    month_alone,
    parse_cadence,
    parse_clock,
    parse_day,
    parse_duration_days,
    parse_short_duration,
    passed_question,
    past_day_meant,
    past_weekday_meant,
    shift_by_duration,
    span_alone,
    spell_out_days,
    stands_for_a_week,
    time_words_at_end,
    unread_date_at_end,
    which_numeric_day,
    without_year,
)
from rapport.scheduler.retention import MAX_RETENTION_MONTHS
from rapport.scheduler.wording import short_date
from rapport.storage.names import in_emoji

MAX_COMMAND_CHARS = 4000
MAX_SUMMARY_CHARS = 1000
MAX_NAME_CHARS = 100
KNOWN_KINDS = ("chat", "call", "meeting", "in person", "coffee", "email", "lunch", "dinner",
               "video", "message", "walk", "event")
TONES = ("warm", "brief", "formal")
SETTINGS_USAGE = ("settings [tz <zone>|window <9-17>|days <mon-fri>|cap <n>|digest on|off|"
                  "ai on|off|tone warm|brief|formal|summary on|off|prep 15m|1h|off|"
                  "capture slack on|off]")
_MENTION = re.compile(r"^<@([A-Za-z0-9_:.\-]+)(?:\|([^>]*))?>$")
_MENTION_INSIDE = re.compile(r"<@[A-Za-z0-9_:.\-]+(?:\|[^>]*)?>")
_TOKEN = re.compile(r'<@[^>]+>|"[^"]*"|“[^”]*”|\S+')
_NUDGE_REF = re.compile(r"^#(\d{1,12})$")
# A kind of the user's own ("pairing"): one word with a letter in it ("2026-02-30" is not one).
_KIND_WORD = re.compile(r"^(?=.*[^\W\d_])[\w\-]{1,32}$")
# Words that only lead to what follows them: never a kind of one's own, and a log line that
# ends with them alone ("log Dana for", "talked to Lee about") was sent before it was done.
# Typed in lower case only: "To" may be a name ("log Dana To").
_FUNCTION_WORDS = frozenset({
    "for", "to", "every", "with", "w", "w/", "about", "re", "regarding", "of", "from", "at",
    "on", "in", "by", "via", "over", "the", "a", "an", "into", "my", "her", "his", "their",
    "our", "your"})


def _own_kind(word: str) -> bool:
    """Whether `word` may be a kind of the user's own ("pairing"; not "for")."""
    return word not in _FUNCTION_WORDS and _KIND_WORD.match(word) is not None


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, slots=True)
class PersonRef:
    """A contact as the user named it: words, a platform mention, or (from a button or a
    form) the contact's id, which the use case checks belongs to the acting user."""

    text: str = ""
    mention_id: str | None = None
    mention_name: str | None = None
    contact_id: int | None = None
    # Typed in quotes ("Dana", “Dana”): exactly that name, even where it is also someone else's
    # first name (rapport.bot.core.resolve). Not part of equality: the name is the same.
    exact: bool = field(default=False, compare=False)
    # Words that read as several people joined ("Dana and Lee", "Tom & Jerry") where one
    # person goes: only someone with exactly this whole name is meant (`add Tom & Jerry`
    # is taken as typed); anyone else gets this answer (one person at a time).
    several: str | None = field(default=None, compare=False)

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
    # Words this reading is not sure of ("White" between "Dana" and "yesterday"): a reading
    # with doubts is never written; the use case asks instead.
    unsure: str | None = field(default=None, compare=False)
    # The time of day said ("at 3pm", "23:00", an ISO timestamp's), minutes after midnight in
    # the user's zone. A log keeps its day, but a time still to come today is a plan: the use
    # case refuses it, as it knows what time it is and the grammar does not.
    minute_of_day: int | None = field(default=None, compare=False)
    # False when no kind was said and `kind` is the default: a meeting the calendar logged
    # that day stays a meeting (`complete_logged_meeting`) rather than become a "chat".
    kind_said: bool = field(default=True, compare=False)
    # Said kind first without "with" ("log chat Dana Scully"): when the line is asked about,
    # the kind word is offered as a kind, never as the start of a name to add.
    kind_before_name: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class LogTogether:
    """`log Dana and Lee lunch`, `had coffee with Dana, Lee and Sam`: one conversation with
    several people, a `Log` for each (the same day, kind and summary), recorded as one
    change."""

    logs: tuple[Log, ...]
    # The same words as one person's whole name ("log Tom & Jerry coffee"): taken when
    # someone is called exactly that. Not part of equality: the same command, read another way.
    whole: Log | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class AddNote:
    person: PersonRef
    text: str
    follow_up_on: date | None
    # The day the noted thing happens ("the offsite on Friday"), when the note names one.
    event_on: date | None = field(default=None, compare=False)
    # Words that look like a date nobody could read ("next tuesdy"): the answer says so.
    unread_date: str | None = field(default=None, compare=False)
    # A date in the text that lies in the past, so it is no reminder ("started Nov 2").
    past_date: date | None = field(default=None, compare=False)
    alternatives: tuple[AddNote, ...] = field(default=(), compare=False)
    unsure: str | None = field(default=None, compare=False)
    # A form's text, not read for dates yet (a person card's Note form): with no day picked,
    # the use case reads it on the user's own today as `note Dana: …` is read.
    dates_unread: bool = field(default=False, compare=False)
    # The text only states their birthday ("birthday March 3"): (month, day, year or None),
    # set as `date` sets it, and no note is kept.
    birthday: tuple[int, int, int | None] | None = None


@dataclass(frozen=True, slots=True)
class SetCadence:
    """Every `days` days, or every `months` calendar months; neither: no rhythm."""

    person: PersonRef
    days: int | None
    months: int | None = None


@dataclass(frozen=True, slots=True)
class AddContact:
    person: PersonRef
    kind: str
    company: str | None
    cadence_days: int | None
    cadence_months: int | None = None
    email: str | None = None
    # What else the line said about them ("met at KubeCon"): kept as a note, and said so.
    note: str | None = None
    # `add Lee Park client at Initech #clients` (see parse_add_tagged).
    tags: tuple[str, ...] = ()
    # What they do, from "…, VP Sales at Umbrella": the contact's role.
    role: str | None = None
    # Their birthday, from "…, birthday March 3": (month, day, year or None), set as `date`
    # sets it.
    birthday: tuple[int, int, int | None] | None = None


@dataclass(frozen=True, slots=True)
class ShowDue:
    # "who haven't I talked to lately?": the due list, then the people you have gone
    # longest without talking to (rhythm or not); "… in 2 months?": only those quiet for at
    # least that many days.
    quiet: bool = False
    quiet_days: int = 0


@dataclass(frozen=True, slots=True)
class ShowPeople:
    # `people #clients`: only the people carrying this tag.
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class ShowPerson:
    """Everything Rapport knows about one person (`show Dana`, `who is Dana`, `Dana?`)."""

    person: PersonRef
    # A bare line ("Dana") read as a name: when it names nobody, this is the answer instead
    # (the line was probably a mistyped command).
    unknown: str | None = field(default=None, compare=False)
    # A bare lowercase word ("dana"): `unknown` answers any near miss too, unless the word is
    # the first name of several people (then "Which Dana …?").
    exact: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class Search:
    words: str


@dataclass(frozen=True, slots=True)
class ShowRecent:
    """The conversations logged over a span of days, newest first (`recent last week`, `who
    did I talk to this week?`); both days included, in the user's time zone."""

    first_day: date
    last_day: date
    # How the answer names the span: "this week", "last month", "in the last 10 days".
    label: str


@dataclass(frozen=True, slots=True)
class ShowMeetings:
    """The coming meetings with the user's people, from their connected calendars, each with
    what to know before it (`meetings this week`, `prep for my next meeting`); both days
    included, in the user's time zone, never a meeting that has started."""

    first_day: date
    last_day: date
    # How the answer names the span: "today", "this week", "in the next 7 days".
    label: str
    # Only the next meeting ("next meeting", "prep me").
    next_only: bool = False


@dataclass(frozen=True, slots=True)
class Undo:
    pass


@dataclass(frozen=True, slots=True)
class EditNote:
    """`edit n3: new text [on <date>]`; None leaves a part as it is."""

    note_id: int
    text: str | None = None
    follow_up_on: date | None = None
    clear_follow_up: bool = False
    event_on: date | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class EditTouch:
    """`edit t7 [when] [how][: what you talked about]`; None leaves a part as it is."""

    touchpoint_id: int
    day: date | None = None
    kind: str | None = None
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class EditNewest:
    """`edit the last note: …`, `edit my last conversation with Sam: …`: `change` applied to
    the newest note or conversation recorded (of `person`'s); its id, 0 here, is the newest
    one's when it runs."""

    change: EditNote | EditTouch
    person: PersonRef | None = None


@dataclass(frozen=True, slots=True)
class DeleteEntry:
    """`delete n3` (a note) or `delete t7` (a conversation)."""

    kind: Literal["note", "touchpoint"]
    entry_id: int


@dataclass(frozen=True, slots=True)
class DeleteNewest:
    """`delete the last note`, `delete Dana's last conversation`: the newest one recorded,
    of everyone's or of `person`'s."""

    kind: Literal["note", "touchpoint"]
    person: PersonRef | None = None


@dataclass(frozen=True, slots=True)
class Rename:
    person: PersonRef
    new_name: str


@dataclass(frozen=True, slots=True)
class SetField:
    """`set Dana company Acme`: one field of the person registry (`PERSON_FIELDS`)."""

    person: PersonRef
    field: str
    value: str | None


@dataclass(frozen=True, slots=True)
class Snooze:
    """Until a day, for a number of days from the user's today (a button's "1 week"), or
    for a number of minutes ("2 hours")."""

    target: Target
    until: date | None = None
    days: int | None = None
    minutes: int | None = None


@dataclass(frozen=True, slots=True)
class Done:
    """You reached out: the nudge (or person) and what the conversation was, as `log` reads
    it after its colon ("done #2: coffee, her new team"); no kind is a chat."""

    target: Target
    summary: str | None = None
    kind: str | None = None


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
class CaptureChat:
    """`settings capture slack on|off`: log DMs with contacts as conversations (opt-in)."""

    platform: str
    on: bool


CAPTURE_PLATFORMS = {"slack": "slack"}
CAPTURE_HELP = "Say “settings capture slack on” or “settings capture slack off”."


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
class Admin:
    """A workspace setting an admin shows or changes (`admin ai off`, `admin purge`...)."""

    action: AdminAction = "status"
    ai_enabled: bool | None = None
    disclosure: str | None = None
    # `admin retention`: whole calendar months; None keeps notes and summaries forever.
    retention_months: int | None = None
    # What the admin typed for the retention ("365d"), to say how it was read.
    retention_text: str = ""
    confirmed: bool = False


@dataclass(frozen=True, slots=True)
class SetDate:
    person: PersonRef
    kind: Literal["birthday", "anniversary"]
    month: int | None
    day: int | None
    year: int | None = None


@dataclass(frozen=True, slots=True)
class Help:
    topic: str | None = None
    # "hi", "thanks!": small talk, answered in a line instead of "I don't know the command".
    small_talk: Literal["hello", "thanks"] | None = None


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
    others = [w for w in words if w not in ("calendar", "calendars", "my", "the", "a")]
    if "calendar" not in words and "calendars" not in words:
        if len(others) == 1 and others[0] in CALENDAR_PROVIDERS:
            return CALENDAR_PROVIDERS[others[0]]  # `connect google`: only calendars connect
        if "slack" in others:
            return CommandError("Slack DMs are logged with “settings capture slack on” (and "
                                "stopped with “settings capture slack off”).", verb)
        return CommandError(f"{verb.capitalize()} what? For example “{verb} calendar” or "
                            f"“{verb} google calendar”.", verb)
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


# Lines that withdraw a grant at Google, Microsoft or Slack: a revocation call whose time is
# the provider's, longer than a chat platform waits for its answer (Slack's 3 seconds, Teams'
# patience), so every platform answers them after the turn.
_REVOKING = re.compile(r"^\s*(?:disconnect\b|forget\s+me\s+confirm\b|"
                       r"settings\s+capture\s+\S+\s+off\b)", re.IGNORECASE)


def revokes_a_grant(text: str) -> bool:
    """Whether the typed line may call a provider to revoke a grant (see `_REVOKING`)."""
    return _REVOKING.match(text) is not None


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
    """`goal clients every month`; `days` None turns the goal off. `person`: the same words
    read as `every` ("goal Dana every 2 weeks"): with no group of that name, a goal for one
    person is their own rhythm. `tag` is None when the words cannot be a group
    ("goal Dana Scully every 2 weeks")."""

    tag: str | None
    days: int | None
    person: SetCadence | None = field(default=None, compare=False)


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
class NewCompany:
    """"Lee moved to Initech", "Dana is now at Acme": `set <person> company <company>` told
    as news. The same words tell a move to a city ("Dana moved to Berlin"), so the use case
    sets the company only when it plainly is one, and asks otherwise."""

    person: PersonRef
    company: str
    # The words between the name and the company ("moved to"), for the note it offers.
    said: str
    # "Lee joined Globex as VP Sales": the role said with it.
    role: str | None = None


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


def person_button(name: str, contact_id: int) -> Command | None:
    """The typed command behind a person card's one-click buttons (Draft, Snooze 1 week,
    the confirmed Forget); None for a button that needs a form (Log, Note) or is unknown."""
    person = PersonRef(contact_id=contact_id)
    if name == "draft":
        return Draft(person)
    if name == "snooze":
        return Snooze(person, days=7)
    if name == "show":
        return ShowPerson(person)
    if name == "forget":
        return Forget(person, confirmed=True)
    return None


AdminAction = Literal["status", "ai", "disclosure", "retention", "report", "purge"]

Command = (Log | LogTogether | AddNote | SetCadence | AddContact | ShowDue | ShowPeople
           | ShowPerson | Search | ShowRecent | ShowMeetings | Undo | EditNote | EditTouch
           | EditNewest | DeleteEntry | DeleteNewest | Rename | SetField | Snooze | Done
           | Dismiss | Pause | Resume | Settings | CaptureChat | Draft | Stats | Export | Forget
           | SetDate | ImportFile | Help | Connect | Disconnect | TagPerson | UntagPerson
           | SetGoal | ShowGoals | SetPersonField | NewCompany | ShowSuggestions
           | AnswerSuggestion | Admin)


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
    if text.isascii() and text.isprintable():
        # Most lines: nothing to normalise or drop, and every space is a plain one (the
        # character by character pass below cost a command's parse a quarter of its time).
        return " ".join(text.split())
    return _clean_every_character(text)


def _clean_every_character(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if unicodedata.category(ch) in ("Zs", "Zl", "Zp") or ch in "\t\r\n"
                   else ch for index, ch in enumerate(text)
                   if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
                   or ch in "\t\r\n" or in_emoji(text, index))
    return " ".join(text.split())


def clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def full_stop(sentence: str) -> str:
    """`sentence` ended with a period, unless it ends with one already (a name such as
    "Priya N.") or with another closing mark."""
    return sentence if sentence.endswith((".", "!", "?", "…")) else sentence + "."


def _tokens(text: str) -> list[str]:
    # A dash standing alone separates parts ("log Sam - coffee - yesterday"); it says nothing.
    return [token for token in _TOKEN.findall(text) if token not in ("-", "–", "—", "--")]


def _partition_colon(text: str) -> tuple[str, str, str]:
    """Split at the first ":" outside a mention token (Teams ids look like ``29:abc``)."""
    masked = re.sub(r"<@[^>]*>", lambda m: "_" * len(m.group(0)), text)
    # Nor a colon between digits: "1:1", "10:30".
    masked = re.sub(r"(?<=\d):(?=\d)", "_", masked)
    index = masked.find(":")
    return (text, "", "") if index < 0 else (text[:index], ":", text[index + 1:])


def _person_from_tokens(tokens: list[str]) -> PersonRef | None:
    if not tokens:
        return None
    mentions = [token for token in tokens if _MENTION.match(token)]
    if len(mentions) == 1 and len(tokens) > 1:
        # "add Dana @Dana Scully": the mention says exactly who; the words around it are the
        # name typed twice, never part of it (stored, the name read "Dana <@U0DANA>").
        tokens = mentions
    if len(tokens) == 1:
        token = tokens[0]
        mention = _MENTION.match(token)
        if mention:
            name = (mention.group(2) or "").strip() or None
            return PersonRef(text=name or "", mention_id=mention.group(1), mention_name=name)
        if _is_quoted(token):
            inner = " ".join(token[1:-1].split())
            return PersonRef(text=inner, exact=True) if inner else None
    # A quote opened and never closed ("Dana) is a stray mark: no letter goes with it. An @
    # typed before a name (`add @Lee Park`) is no mention, only the name. Words in quotes
    # inside a name are a nickname (Chris "CJ" Johnson): kept, as “CJ”, for `add` to store
    # and the lookup to leave out of the key.
    words = " ".join(f"“{' '.join(t[1:-1].split())}”" if _is_quoted(t) and t[1:-1].strip()
                     else t.strip("\"“”").rstrip(",;") for t in tokens).strip()
    if words.startswith("@"):
        words = words[1:].lstrip()
    return PersonRef(text=words) if words else None


def _is_quoted(token: str) -> bool:
    """A "quoted name" token: opened and closed by quotes ("Dana Scully", “Dana Scully”)."""
    return len(token) >= 2 and (token[0] == token[-1] == '"'
                                or (token[0] == "“" and token[-1] in "”\""))


def _name_as_typed(tokens: list[str], unquoted: str) -> str:
    """A new name with the quotes typed inside it ("Dana “The Boss” Scully"); only quotes
    around the whole name are taken off, as they mark where it starts and ends."""
    if len(tokens) == 1:
        return unquoted
    return " ".join(token.rstrip(",;") for token in tokens).strip() or unquoted


def _owner(tokens: list[str]) -> list[str]:
    """The words naming whose detail it is, without the "'s" of the last ("set Priya's
    company to Hooli", "Lee's birthday") or the apostrophe after its s ("James' birthday")."""
    owner = list(tokens)
    if owner:
        owner[-1] = _without_possessive(owner[-1])
    return owner


def _is_possessive(word: str) -> bool:
    """"Lee's", "James'": whose."""
    return _without_possessive(word) != word


def _without_possessive(word: str) -> str:
    """'Lee's' -> 'Lee', 'James'' -> 'James'; any other word as it is."""
    if word.lower().endswith(("'s", "’s")):
        return word[:-2]
    if len(word) > 2 and word[-1] in "'’" and word[-2] in "sS":
        return word[:-1]
    return word


ONE_PERSON_AT_A_TIME = "One person at a time, please"
# Names joined as a list: "Dana and Lee", "Dana & Lee", "Dana, Lee".
_SEVERAL_NAMES = re.compile(r"\S,\s*(\S+)|\s(?:and|&|\+)\s(\S+)", re.IGNORECASE)
# Verbs about one person whose line names a person first (`add` takes a role after a comma,
# `rename` a new name).
_ONE_PERSON_VERBS = frozenset({"log", "note", "every", "show", "date", "set", "forget"})


def _one_person_at_a_time(verb: str) -> CommandError:
    return CommandError(f"{ONE_PERSON_AT_A_TIME}: I keep each person's notes and conversations "
                        f"apart. Say it once for each of them (“{verb} @Dana …”, then "
                        f"“{verb} @Lee …”).", verb)


def _check_person(person: PersonRef | None, verb: str) -> PersonRef | CommandError:
    if person is None or not (person.text or person.mention_id):
        return CommandError("Who do you mean? Name a person.", verb)
    if not person.mention_id and _MENTION_INSIDE.search(person.text):
        return _one_person_at_a_time(verb)  # two @mentions where one person goes
    if not person.mention_id and not person.exact and verb in _ONE_PERSON_VERBS and any(
            (joined.group(1) or joined.group(2)).lower().strip(",.") not in _COMPANY_WORDS
            for joined in _SEVERAL_NAMES.finditer(person.text)):
        # "note Dana and Lee: …", "log Dana, Lee: standup": two people where one goes (not
        # "I don't know anyone called “Dana and Lee”", nor a guess that it is Lee), unless
        # it is someone's whole name ("Tom & Jerry"): the lookup decides. A name in quotes
        # is never split.
        person = replace(person, several=_one_person_at_a_time(verb).message)
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


def _is_single_token_name(token: str) -> bool:
    """A mention or a "quoted name": the name is exactly this token."""
    return bool(_MENTION.match(token)) or _is_quoted(token)


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
    found = _kind_at(words, 0)
    if found is None:
        return None, words
    kind, size = found
    return kind, words[size:]


def _target(tokens: list[str], verb: str) -> Target | CommandError:
    if len(tokens) == 1 and _NUDGE_REF.match(tokens[0]):
        return NudgeRef(int(tokens[0][1:]))
    return _check_person(_person_from_tokens(tokens), verb)


# Conversations people call by a name of their own, and the kind each is a sort of. The name
# is what is stored and shown ("Logged drinks with Zoe", README: "or a word of your own"):
# stored as its kind, the word was lost ("drinks" an "event", "standup" a "meeting").
_OCCASIONS = {"drinks": "event", "breakfast": "coffee", "standup": "meeting",
              "sync": "meeting", "1:1": "meeting", "huddle": "call"}
# Ways people name how they talked, mapped to the kinds Rapport stores: another spelling of a
# kind or of an occasion, or the tool it ran on (a call on Zoom is a video call).
_KIND_SYNONYMS = {
    **{kind: kind for kind in (*KNOWN_KINDS, *_OCCASIONS)},
    "phone": "call", "phone call": "call", "video call": "video", "zoom": "video",
    "teams call": "video", "one-on-one": "1:1", "1-on-1": "1:1",
    "e-mail": "email", "mail": "email", "dm": "message", "text": "message",
    "coffee chat": "coffee", "stand-up": "standup",
    "zoom call": "video", "zoom meeting": "video", "teams meeting": "video",
    "google meet": "video", "conference call": "call",
    # Chat tools: a chat or a call there is one.
    "slack chat": "chat", "slack message": "message", "slack call": "call",
    "slack huddle": "huddle", "teams chat": "chat", "whatsapp": "message",
}
# Words before a kind that belong to it: "for lunch", "over coffee", "on a call", "by email".
_KIND_FILLERS = ("for", "over", "a", "an", "on", "by", "via", "had", "the", "at")
# Words before a day that belong to it: "on Monday".
_DAY_FILLERS = ("on",)


def _kind_at(tokens: list[str], index: int) -> tuple[str, int] | None:
    """(kind, tokens used) when a kind starts at `index`, fillers included."""
    start = index
    while start < len(tokens) and tokens[start].lower() in _KIND_FILLERS and start - index < 2:
        start += 1
    for size in (2, 1):
        words = [t.lower().strip(AROUND_A_DAY) for t in tokens[start:start + size]]
        if len(words) == size and " ".join(words) in _KIND_SYNONYMS:
            return _KIND_SYNONYMS[" ".join(words)], start + size - index
    return None


# Bare words a date reader takes but that mean something else in a log line ("I sat with
# her", "the sun", "May said"); after "on" the weekdays among them are days ("on Sat").
_NOT_DAY_WORDS = {"now", "sat", "sun", "wed", "mon", "may", "march"}
_WEEKDAYS_SHORT = frozenset({"mon", "wed", "sat", "sun"})
# A plain day takes up to four words ("a week ago Friday"); a counted one up to seven ("a
# couple of weeks before last Friday").
_PLAIN_DAY_WORDS = 4
_COUNTED_DAY_WORDS = 7


def _could_be_day(words: list[str], *, after_on: bool) -> bool:
    """Whether `words` are worth asking the date reader about as one day: not a lone word
    that means something else in a sentence, and not a long phrase unless it counts a day."""
    if len(words) == 1:
        word = words[0].lower().strip(AROUND_A_DAY)
        return word not in _NOT_DAY_WORDS or (after_on and word in _WEEKDAYS_SHORT)
    return len(words) <= _PLAIN_DAY_WORDS or is_counted_day(" ".join(words))


def _day_at(tokens: list[str], index: int, *, today: date,
            direction: Literal["past", "future"]) -> tuple[date, int] | None:
    """(day, tokens used) when a day phrase starts at `index` ("on Monday" included)."""
    after_on = index < len(tokens) and tokens[index].lower().strip(AROUND_A_DAY) in _DAY_FILLERS
    start = index + 1 if after_on else index
    for size in range(min(len(tokens) - start, _COUNTED_DAY_WORDS), 0, -1):
        words = tokens[start:start + size]
        if not _could_be_day(words, after_on=after_on):
            continue
        day = parse_day(" ".join(words), today=today, direction=direction)
        if day is not None:
            return day, start + size - index
    return None


@dataclass(frozen=True, slots=True)
class _DayAtEnd:
    """The day that ends what was said about a conversation: the day (None when it is
    counted from a day in a way nobody can read: "100 years before tomorrow"), where its
    words start, and the words."""

    day: date | None
    start: int
    phrase: str


# Words before a date that make it what was talked about, not when: "planning for Dec 10",
# "moved the demo to Friday", "her birthday is May 4".
_DATE_AS_TOPIC = frozenset({"for", "about", "until", "till", "til", "before", "after", "by",
                            "from", "since", "to", "of", "due", "re", "regarding", "through",
                            "is", "was", "are", "were", "be", "'s", "’s"})
# A span rather than a day ("next week", "the end of the month"): the day of a conversation
# only when nothing else was said ("log Dana: coffee last week"); after other words it is
# what was talked about ("went over the plan for next week").
_SPAN = re.compile(r"^(?:(?:this|next|last|past|coming)\s+)?(?:the\s+)?(?:week|weekend|month"
                   r"|year|end\s+of\s+(?:the\s+|this\s+)?(?:week|month)|eow|eom)$",
                   re.IGNORECASE)


def _day_at_end(words: list[str], *, today: date) -> _DayAtEnd | None:
    """The day that ends `words` ("coffee yesterday", "coffee on Dec 1", "coffee 2 days
    ago", "coffee 2 weeks from tomorrow"), longest first; None when they end otherwise or
    the date there is what was talked about ("planning for Dec 10")."""
    # Brackets opened before a day are the day's ("coffee (the day before yesterday)").
    said = " ".join(word.lstrip("([") or word for word in words)
    counted = counted_day_at_end(said, today=today, direction="past")
    if counted is not None:
        # "coffee 2 weeks from tomorrow": one day, counted, even when the count is unreadable.
        at, day = counted
        return _DayAtEnd(day, len(said[:at].split()), said[at:].rstrip(AROUND_A_DAY))
    for size in range(min(len(words), _COUNTED_DAY_WORDS), 0, -1):
        start = len(words) - size
        before = words[start - 1].lower().strip(AROUND_A_DAY) if start else ""
        if not _could_be_day(words[start:], after_on=before == "on"):
            continue
        phrase = " ".join(words[start:])
        day = parse_day(phrase, today=today, direction="past")
        if day is None:
            continue
        if before in _DATE_AS_TOPIC or (start and _SPAN.match(phrase.strip(AROUND_A_DAY))):
            return None
        if before in _DAY_FILLERS:
            start -= 1
        return _DayAtEnd(day, start, phrase.rstrip(AROUND_A_DAY))
    return None


# A time of day in a log line ("at 3pm", "10:30", "around noon"): a log is of a day, so the
# time is read and set aside rather than taken for part of a name or for what was said.
# Stricter than `_ONLY_A_TIME` (a note's time after its day): a bare number or "morning"
# here is as likely what was said ("log Dana 3 coffees").
_LOG_TIME = re.compile(r"(?:(?:at|around|@)\s*)?(?:\d{1,2}(?::\d{2})?\s*(?:am|pm)|"
                       r"\d{1,2}:\d{2}|noon|midday)|(?:at|around)\s+\d{1,2}",
                       re.IGNORECASE)
_TIME_LEAD = re.compile(r"^(?:at|around|@)\s*", re.IGNORECASE)


def _time_at(tokens: list[str], index: int) -> int | None:
    """How many tokens a time of day starting at `index` takes, if one does."""
    for size in (3, 2, 1):
        words = tokens[index:index + size]
        if len(words) == size and _LOG_TIME.fullmatch(
                " ".join(word.strip(",.;") for word in words)):
            return size
    return None


# An hour without am/pm as people at work say it: "at 3" is 3pm, "at 9" 9am.
_WORKDAY_HOUR = re.compile(r"[1-9](?::\d{2})?")
_AFTERNOON_HOURS = range(1, 7)


def _minute_of(time_words: list[str]) -> int | None:
    """Minutes after midnight of the time `_time_at` found ("at 3pm", "23:00", "noon"). An
    hour from 1 to 6 without am/pm and without a leading zero ("at 3", "3:30") is in the
    afternoon, 13:00 to 18:59: nobody logs a 3am coffee, and read as 03:00 a conversation
    still to come at 10:00 was logged. 7 to 12 are read as said; "03:00", "15:00", "0:30"
    and "3am" are the clock they say."""
    said = _TIME_LEAD.sub("", " ".join(word.strip(",.;") for word in time_words)).lower()
    if said in ("noon", "midday"):
        return 12 * 60
    minute = parse_clock(said)
    if minute is not None and _WORKDAY_HOUR.fullmatch(said) and \
            minute // 60 in _AFTERNOON_HOURS:
        return minute + 12 * 60
    return minute


def _marker_at(tokens: list[str], index: int, today: date) -> bool:
    """Whether a day, a time or a kind starts at `index`: where a name typed without quotes
    ends."""
    word = tokens[index].lower()
    if word in _KIND_FILLERS + _DAY_FILLERS and index + 1 >= len(tokens):
        return False
    return (_day_at(tokens, index, today=today, direction="past") is not None
            or _time_at(tokens, index) is not None
            or _kind_at(tokens, index) is not None)


@dataclass
class _Head:
    day: date | None = None
    kind: str | None = None
    words: list[str] = field(default_factory=list)
    # A day counted from another in words nobody can read ("100 years before yesterday").
    day_unread: str | None = None
    minute_of_day: int | None = None  # the time said, if one was ("yesterday at 3pm")


def _read_markers(tokens: list[str], today: date) -> _Head:
    """Days and kinds from the left, in any order; the rest are the words of a summary. A
    simple day at the very end counts too ("... about the launch yesterday")."""
    head = _Head()
    index = 0
    while index < len(tokens):
        if head.day is None and (found := _day_at(tokens, index, today=today,
                                                  direction="past")) is not None:
            head.day, used = found
            head.minute_of_day = _first_known(
                head.minute_of_day, _moment_minute(tokens[index:index + used]))
            index += used
            continue
        if head.kind is None and (kind := _kind_at(tokens, index)) is not None:
            head.kind, used = kind
            index += used
            continue
        if (time_words := _time_at(tokens, index)) is not None:
            # "yesterday at 3pm": the day is what a log keeps; the time only says whether
            # it has happened yet.
            head.minute_of_day = _first_known(
                head.minute_of_day, _minute_of(tokens[index:index + time_words]))
            index += time_words
            continue
        break
    rest = tokens[index:]
    if head.day is None and len(rest) >= 2 and (
            at_end := _day_at_end(rest, today=today)) is not None:
        # "... about the launch yesterday": the day ends what was said.
        head.day, head.day_unread = at_end.day, at_end.phrase if at_end.day is None else None
        head.minute_of_day = _first_known(head.minute_of_day,
                                          _moment_minute(at_end.phrase.split()))
        rest = rest[:at_end.start]
    head.words = rest
    return head


def _first_known(first: int | None, then: int | None) -> int | None:
    return first if first is not None else then


def _moment_minute(day_words: list[str]) -> int | None:
    """The time of an ISO timestamp that ends a day's words ("on 2026-11-23T18:30",
    "2026-11-23 18:30"), in one token or two."""
    if not day_words:
        return None
    return _first_known(moment_minute(" ".join(day_words[-2:])), moment_minute(day_words[-1]))


# Words after "and" that say who else was there without naming one of your people ("dinner
# with Marco and his wife"): the conversation is still Marco's alone.
_COMPANY_WORDS = frozenset({
    "his", "her", "their", "my", "our", "your", "the", "a", "an", "some", "two", "three",
    "team", "others", "everyone", "co", "friends", "family", "kids", "wife", "husband",
    "partner", "boss", "colleagues", "folks", "crew", "gang", "me", "i"})


def _another_person(words: list[str]) -> bool:
    """Whether words after a name start by naming someone else ("and Lee", "& Lee Park")."""
    if len(words) < 2 or words[0].lower() not in ("and", "&", "+"):
        return False
    return words[1].lower().strip(",.") not in _COMPANY_WORDS


def _only_symbols(word: str) -> bool:
    """An emoji or a run of them ("👍", "☕️", "🙌🏽"): no letters, digits or punctuation."""
    return all(unicodedata.category(ch) in ("So", "Sk", "Mn", "Me", "Cf")
               or ch == "\ufe0f" for ch in word)


def _without_reactions(tokens: list[str]) -> list[str]:
    """`tokens` without their emoji, wherever they stand ("talked to Lee Park 👍", "add Dana
    Scully 🎉", "had a 🍕 lunch with Sam"): a reaction, never part of a name, a kind or of
    what was said. Alone, emoji stay (they are all there is to read)."""
    kept = [token for token in tokens if not _only_symbols(token)]
    return kept if kept else list(tokens)


def _kind_and_summary(text: str) -> tuple[str | None, list[str]]:
    """What was said after a colon ("coffee, her new team"): the kind when it starts with
    one, and the words of the summary."""
    kind, words = _split_kind(text.split())
    if kind is not None and words and words[0] in (",", "-"):
        words = words[1:]
    return kind, words


def _log_reading(name: list[str], between: list[str], after: list[str], *, today: date,
                 default_kind: str, kind: str | None, colon_summary: str | None
                 ) -> Log | CommandError:
    """One reading of a log line: `name` is the person, `between` the words up to the first
    day or kind, `after` the rest. The day is read here, wherever it was said; words that
    only say when are never kept as what was talked about."""
    person = _check_person(_person_from_tokens(name), "log")
    if isinstance(person, CommandError):
        return person
    head = _read_markers(after, today)
    if head.day_unread is not None:
        return _unread_log_date(head.day_unread, today)
    day = head.day
    minute_of_day = head.minute_of_day
    kind = kind or head.kind
    unsure = None
    words = head.words
    if between and (question := which_numeric_day(between[-1], today=today, direction="past",
                                                  outcome="nothing was logged")) is not None:
        # "log Lee 12/11 coffee": Dec 11 or Nov 12? Neither is guessed, nor part of a name.
        return CommandError(question, "log")
    if between and not after and (unread := unread_date_at_end(
            " ".join(between), today=today, direction="past")) is not None:
        # "log Dana Scully on Feb 30: call": a day nobody could read, not a longer name.
        return _unread_log_date(unread, today)
    if between and is_count_alone(" ".join(between)):
        # "log Lee 100 years before today", "log Lee 2 weeks from": a count towards the day
        # read after it (or towards none), never a name nor what was talked about.
        counted = count_from(" ".join(between), day) \
            if day is not None and _day_at(after, 0, today=today, direction="past") else None
        if counted is None:
            return _unread_log_date(" ".join(between), today)
        day, between = counted, []
    if between:
        if after or colon_summary is not None or _another_person(between):
            # "log Dana White yesterday coffee": is "White" part of the name? "talked to
            # Dana and Lee": a second person, not what the talk was about.
            unsure = " ".join(between)
            words = between + words
        elif len(between) == 1 and kind is None and _own_kind(between[0]):
            # "log Dana pairing": a kind of the user's own, unless it reads like a name.
            kind, words = between[0].lower(), []
            if between[0][:1].isupper():
                unsure = between[0]
        else:
            words = between
    if colon_summary is None and kind is None and day is not None and len(words) == 1 \
            and _own_kind(words[0]):
        kind, words = words[0].lower(), []
    if colon_summary is not None:
        if words and kind is None and len(words) == 1 and _own_kind(words[0]):
            kind, words = words[0].lower(), []
        elif words:
            unsure = unsure or " ".join(words)
        if kind is None:
            kind, words = _kind_and_summary(colon_summary)
        else:
            words = colon_summary.split()  # the kind was said before the colon
        if day is None and (at_end := _day_at_end(words, today=today)) is not None:
            # "log Dana: coffee yesterday", "…: coffee on Dec 1", "…: coffee 2 days ago":
            # the day ends the summary.
            if at_end.day is None:
                return _unread_log_date(at_end.phrase, today)
            day, words = at_end.day, words[:at_end.start]
            minute_of_day = _first_known(minute_of_day, _moment_minute(at_end.phrase.split()))
    if any(_MENTION.match(word) for word in between):
        # "log Dana @Dana Scully coffee" read as "Dana": the mention is the name, not a stray.
        return CommandError("Who do you mean? Name a person.", "log")
    if colon_summary is None and any(_MENTION.match(word) for word in words):
        # "had coffee with @Sam and @Dana": logged for Sam alone, "and <@U0DANA>" the summary.
        return _one_person_at_a_time("log")
    while words and _only_symbols(words[-1]):
        words = words[:-1]  # "log Dana coffee 👍": a reaction, not what you talked about
    if colon_summary is None and words and all(word in _FUNCTION_WORDS for word in words):
        # "log Dana for", "talked to Lee about": sent before it was done; stored, "for" was
        # the kind of the conversation.
        return CommandError(f"{_STOPS_AT} “{clip(' '.join(words))}”. Say how you talked and "
                            "what about, for example “log Dana lunch” or “log Dana: coffee, "
                            "her new team”.", "log")
    said = " ".join(words)  # before the dashes go: "-3 days ago" is no day
    summary = said.strip(" ,;-") or None
    if day is None and summary and (unread := unread_date_at_end(
            said, today=today, direction="past")) is not None:
        # Saved, it would say today with the date words as the summary: ask instead.
        return _unread_log_date(unread, today)
    if day is not None and day > today + timedelta(days=3650):
        # "log Dana in 11 years": no reminder can be that far off either.
        return CommandError("You can only log conversations that already happened.", "log")
    if day is not None and day > today:
        # "coffee w Dana tmrw": a plan. A reminder is what keeps it.
        who = person.text if person.text else "them"
        return CommandError(f"You can only log conversations that already happened: "
                            f"{short_date(day, today)} is still to come. To be "
                            f"reminded of it: “remind me to meet {who} on "
                            f"{day:%b} {day.day}”.", "log")
    if day is not None and day < today - timedelta(days=3650):
        return CommandError("That date is more than ten years ago.", "log")
    if summary and len(summary) > MAX_SUMMARY_CHARS:
        return CommandError(f"Keep the summary under {MAX_SUMMARY_CHARS:,} characters.", "log")
    return Log(person=person, day=day, kind=kind or default_kind, summary=summary,
               unsure=unsure, minute_of_day=minute_of_day,
               kind_said=kind is not None or default_kind != DEFAULT_LOG_KIND)


_UNREAD_LOG_DATE = "I couldn't read"
_STOPS_AT = "Nothing was logged: the line stops at"
_WHICH_DAY_WAS = "Which day was"


def _unread_log_date(phrase: str, today: date) -> CommandError:
    """The answer to a log that ends with a date nobody could read: too far back, in the
    future, a month without its day, or not a day at all."""
    question = which_numeric_day(phrase, today=today, direction="past",
                                 outcome="nothing was logged")
    if question is not None:
        return CommandError(question, "log")  # "log Lee 12/11": Dec 11 or Nov 12?
    if (problem := day_problem(phrase, today=today, direction="past")) is not None:
        # "log Dana on Feb 29" in 2026: not Feb 29 2024, two years back.
        example, problem = today - timedelta(days=2), problem.replace("There", "there", 1)
        return CommandError(f"{_UNREAD_LOG_DATE} “{clip(phrase, 40)}” as a day: {problem}, so "
                            f"nothing was logged. Say which day, for example “{example:%b} "
                            f"{example.day}”.", "log")
    words = phrase.lower().split()
    signed = any(sign in phrase for sign in "-+−")
    if not signed and time_words_at_end(phrase) == " ".join(phrase.split()):
        # "the other day", "a while back", "3 days": a time, and which day nobody said.
        example = today - timedelta(days=2)
        return CommandError(f"{_WHICH_DAY_WAS} “{clip(phrase, 40)}”? Nothing was logged: a "
                            f"conversation is kept by its day. Say it, for example “2 days "
                            f"ago” or “{example:%b} {example.day}”.", "log")
    if span_alone(phrase):
        # "log Lee this week": which day of it nobody said; the week's Monday would be a guess.
        example = today - timedelta(days=2)
        return CommandError(f"{_UNREAD_LOG_DATE} “{clip(phrase, 40)}” as a day: a "
                            f"conversation is kept by its day, so nothing was logged. Say which "
                            f"day, for example “yesterday” or “{example:%b} {example.day}”.",
                            "log")
    if month_alone(phrase):
        # "log Lee in November": which day of it nobody said, and the keep-in-touch clock
        # counts from a day; the first or the last of the month would be a guess.
        month = next(word for word in reversed(words) if word[:3] in _MONTHS)
        return CommandError(f"{_UNREAD_LOG_DATE} “{clip(phrase, 40)}” as a day: a "
                            f"conversation is kept by its day, so nothing was logged. Say which "
                            f"day, for example “{month[:3].title()} 12”.", "log")
    if words[-1] in ("ago", "back") and not signed:
        return CommandError("That date is more than ten years ago.", "log")
    if (words[0] == "in" or words[-1] in ("now", "today", "later", "hence")) and not signed:
        return CommandError("You can only log conversations that already happened.", "log")
    return CommandError(f"{_UNREAD_LOG_DATE} “{clip(phrase, 40)}” as a date, so nothing was "
                        f"logged. Say for example “yesterday”, “last Friday”, “3 days ago” or "
                        f"“{(today - timedelta(days=2)).isoformat()}”.", "log")


# How long a conversation took, said before its kind ("30 min call", "1h lunch").
_LENGTH_BEFORE_KIND = re.compile(r"(?<!\S)\d{1,3}\s*(?:min|mins|minutes?|m|h|hr|hrs|hours?)"
                                 r"(?:\s+|-)", re.IGNORECASE)


_SUMMARY_MARKER = re.compile(r"\s+(?:re|regarding)\s*$", re.IGNORECASE)


# The kind of a conversation logged without saying how ("log Dana", "talked to Lee").
DEFAULT_LOG_KIND = "chat"


def parse_log(rest: str, today: date, *, default_kind: str = DEFAULT_LOG_KIND
              ) -> Log | LogTogether | CommandError:
    """`log Dana yesterday coffee`, `log coffee with Dana yesterday`, `log Lee Park: call`.

    A name typed without quotes may have several words, so every split of the words before
    the first day or kind is a reading; the use case takes the one that names a contact, and
    asks when a reading has words it is not sure of.
    """
    head_text, colon, tail = _partition_colon(rest)
    if colon and (marker := _SUMMARY_MARKER.search(head_text)) is not None:
        # "log Dana coffee yesterday re: hiring": "re" says what follows is the summary.
        head_text = head_text[:marker.start()]
    for length in _LENGTH_BEFORE_KIND.finditer(head_text):
        if _kind_at(_tokens(head_text[length.end():]), 0) is not None:
            # "log Lee 30 min call": how long is not who, nor what it was about.
            head_text = f"{head_text[:length.start()]} {head_text[length.end():]}"
            break
    tokens = _without_reactions(_tokens(head_text))  # "talked to Lee Park 👍"
    kind: str | None = None
    start = 0
    while start < len(tokens) - 1 and tokens[start].lower() in _ADJECTIVES:
        start += 1  # "had a great lunch with Priya"
    lead = _kind_at(tokens, start)
    after_kind = start + lead[1] if lead is not None else 0
    if lead is not None and after_kind < len(tokens) - 1 and \
            tokens[after_kind].lower() in _KIND_NOUNS:
        after_kind += 1  # "coffee catch-up with Lee"
    kind_first: tuple[str, list[str]] | None = None
    if lead is not None and after_kind < len(tokens) and tokens[after_kind].lower() in (
            "with", "w/", "w"):
        # "log coffee with Dana yesterday", "had lunch with Priya"
        kind, tokens = lead[0], tokens[after_kind + 1:]
    elif tokens and tokens[0].lower() in ("with", "to", "w/"):
        tokens = tokens[1:]
    elif lead is not None and start == 0 and after_kind < len(tokens):
        # "log call Lee", "log coffee Lee Park: budget": the kind first, without "with"; also
        # read as a name ("Call Me Maybe", "Chat Smith").
        kind_first = (lead[0], tokens[after_kind:])
    colon_summary = tail.strip() if colon else None
    if not tokens:
        return CommandError("Who do you mean? Name a person.", "log")
    if _is_single_token_name(tokens[0]):
        ends = [1]
    else:
        first_marker = next((i for i in range(1, len(tokens))
                             if _marker_at(tokens, i, today)), len(tokens))
        ends = list(range(1, first_marker + 1))
        if colon:
            ends.reverse()  # before a colon the whole head is the name ("log Lee Park: call")
    together = _log_together(tokens, today=today, default_kind=default_kind, kind=kind,
                             colon_summary=colon_summary)
    if isinstance(together, LogTogether) and kind_first is not None:
        return _kind_first_together(together, *kind_first, colon_summary, today,
                                    kind_words=tokens[:after_kind])
    if together is not None:
        return together
    first_marker = max(ends)
    if any(tokens[i].endswith(",") and tokens[i + 1][:1].isupper()
           for i in range(first_marker - 1)):
        return _one_person_at_a_time("log")  # "log Dana, Lee: standup"
    readings: list[Log] = []
    for end in ends:
        reading = _log_reading(tokens[:end], tokens[end:first_marker], tokens[first_marker:],
                               today=today, default_kind=default_kind, kind=kind,
                               colon_summary=colon_summary)
        if isinstance(reading, CommandError):
            if not readings and end == ends[-1]:
                return reading
            if reading.message.startswith(("You can only", "That date", "Keep the",
                                           _UNREAD_LOG_DATE, ONE_PERSON_AT_A_TIME,
                                           _STOPS_AT, "Did you mean", _WHICH_DAY_WAS)):
                return reading
            continue
        if kind_first is not None and end == after_kind and reading.unsure is None and \
                end < first_marker:
            # "log chat Dana Scully" as a chat with someone called "chat" about Dana Scully:
            # the kind word alone is no name to take without asking.
            reading = replace(reading, unsure=" ".join(tokens[end:first_marker]))
        readings.append(reading)
    if kind_first is not None:
        readings += _kind_first_readings(*kind_first, colon_summary, today)
    if not readings:
        return CommandError("Who do you mean? Name a person.", "log")
    first, *others = readings
    return replace(first, alternatives=tuple(others))


def _kind_first_readings(kind: str, rest: list[str], colon_summary: str | None,
                         today: date) -> list[Log]:
    """The readings of a log line said kind first without "with" ("log chat Dana Scully
    yesterday"): those of the words after the kind with no other kind said, each with the
    kind said, even the default one (a meeting the calendar logged that day becomes a chat)."""
    after_colon = f": {colon_summary}" if colon_summary is not None else ""
    again = parse_log(" ".join(rest) + after_colon, today, default_kind=kind)
    if not isinstance(again, Log):
        return []
    return [replace(reading, kind_said=True, kind_before_name=True)
            for reading in (again, *again.alternatives) if reading.kind == kind]


def _kind_first_together(together: LogTogether, kind: str, rest: list[str],
                         colon_summary: str | None, today: date, *,
                         kind_words: list[str]) -> LogTogether:
    """`log coffee Dana and Lee`: a coffee with each of them, the kind said; the first name
    with the kind word ("Chat Smith and Lee") stays a reading of the first person's, and so
    does the kind word alone, unsure of the name after it, as `log coffee Dana` reads it
    (with Coffee Smith known, the line is asked about, never taken)."""
    after_colon = f": {colon_summary}" if colon_summary is not None else ""
    again = parse_log(" ".join(rest) + after_colon, today, default_kind=kind)
    if not isinstance(again, LogTogether) or len(again.logs) != len(together.logs) or any(
            log.kind != kind for log in again.logs):
        return together
    first, *others = (replace(log, kind_said=True, kind_before_name=True)
                      for log in again.logs)
    with_kind_word = together.logs[0]
    kind_word = _person_from_tokens(kind_words)
    kind_word_alone = () if kind_word is None else (
        replace(with_kind_word, person=kind_word, unsure=first.person.describe()),)
    first = replace(first, alternatives=(*first.alternatives, with_kind_word,
                                         *kind_word_alone))
    return LogTogether((first, *others), whole=again.whole or together.whole)


# What joins the names of a list: "Dana and Lee", "Dana, Lee & Sam", "Dana + Lee".
_NAME_JOINER = re.compile(r"^(?:,|and|&|\+)$", re.IGNORECASE)
MAX_PEOPLE_TOGETHER = 10
# A name in a list of people has at most this many words ("Lee Park", "Ana de Souza"): more
# is a name with what was said after it, which reads as one person's line.
MAX_NAME_WORDS = 3


def _log_together(tokens: list[str], *, today: date, default_kind: str, kind: str | None,
                  colon_summary: str | None) -> LogTogether | CommandError | None:
    """The names before the first day or kind, when they are a list of people ("Dana and
    Lee", "Dana, Lee and Sam"): a reading for each, with what follows; None when they name
    one person."""
    if not any(token.endswith(",") or _NAME_JOINER.match(token) for token in tokens):
        return None  # no list to read: most lines, which need no second look for markers
    bare_tokens = [token.rstrip(",") or token for token in tokens]
    end = next((i for i in range(1, len(tokens)) if _marker_at(bare_tokens, i, today)),
               len(tokens))
    names: list[list[str]] = [[]]
    after_comma: list[list[str]] = []  # names after a comma, not after "and"
    for token in tokens[:end]:
        bare = token.rstrip(",")
        if _NAME_JOINER.match(token) or (token.endswith(",") and not bare):
            names.append([])
            if token == ",":
                after_comma.append(names[-1])
            continue
        if bare:
            names[-1].append(bare)
        if token.endswith(","):
            names.append([])
            after_comma.append(names[-1])
    if len(names) > 1 and not names[-1]:
        if end == len(tokens) and _NAME_JOINER.match(tokens[-1]) and all(names[:-1]):
            return CommandError("Who else was there? For example “log Dana and Lee lunch”.",
                                "log")
        names.pop()  # "log Dana, coffee": the comma ends the name
    if len(names) < 2 or any(not name for name in names) or any(
            name[0].lower() in _COMPANY_WORDS or len(name) > MAX_NAME_WORDS
            for name in names[1:]) or any(
            not all(_is_single_token_name(word) or word[:1].isupper() for word in name)
            for name in after_comma):
        # One name; "dinner with Marco and his wife" is Marco's; "a 1:1 with Lee, talked
        # about Q1 goals" says what about after the comma.
        return None
    if len(names) > MAX_PEOPLE_TOGETHER:
        return CommandError(f"Log at most {MAX_PEOPLE_TOGETHER} people at a time.", "log")
    logs: list[Log] = []
    for name in names:
        reading = _log_reading(name, [], tokens[end:], today=today, default_kind=default_kind,
                               kind=kind, colon_summary=colon_summary)
        if isinstance(reading, CommandError):
            return reading
        logs.append(reading)
    whole = _log_reading(tokens[:end], [], tokens[end:], today=today,
                         default_kind=default_kind, kind=kind, colon_summary=colon_summary)
    return LogTogether(tuple(logs), whole=whole if isinstance(whole, Log) else None)


def log_as(kind: str) -> Callable[[str, date], Log | LogTogether | CommandError]:
    """The log parser for a phrase that says how ("called Lee" is a call)."""

    def parse(rest: str, today: date) -> Log | LogTogether | CommandError:
        return parse_log(rest, today, default_kind=kind)

    return parse


_FOLLOW_UP = re.compile(r"(?:,|;)?\s+(after|on|by|follow up(?: on)?|remind me(?: on)?)\s+(.+)$",
                        re.IGNORECASE)
# What a statement's text may end with before a date ("her talk is next Thursday"): the date
# is then part of the sentence and stays in the note.
_NEEDS_ITS_DATE = {"is", "are", "was", "were", "be", "been", "'s", "will", "due", "until",
                   "till", "since", "starts", "start", "begins", "begin", "ends", "end",
                   "from", "to", "of", "the", "a", "an", "at", "for", "with"}


# Words a day can follow without being an article's noun: "A next week" is a note about A.
_RELATIVE_DAY_WORDS = frozenset({"next", "this", "coming", "tomorrow", "today", "tonight",
                                 "in"})


def _keeps_its_date(before: str, phrase: str) -> bool:
    """Whether the words before a date need it to make a sentence ("her talk is", "starts",
    "moved to", "a Monday"): the date then stays in the note's text. An article needs only a
    day it can stand before ("a Monday"), never "next week" or "tomorrow"."""
    last_word = before.split()[-1].lower()
    if last_word in ("a", "an") and phrase.split()[0].lower() in _RELATIVE_DAY_WORDS:
        return False
    return last_word in _NEEDS_ITS_DATE


_PAST_TENSE = re.compile(r"\b(?:was|were|had|did|went|started|joined|left|moved|got|"
                         r"\w+ed)\b", re.IGNORECASE)
_COPULA_END = re.compile(r"\s+(?:is|are|'s|’s|will be|is on|are on|happens|takes place)$",
                         re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class NoteDate:
    """What a note's text says about when: the cleaned text, the follow-up day, the day the
    noted thing happens, a past day, and words that looked like a date but were not read."""

    text: str
    follow_up_on: date | None = None
    event_on: date | None = None
    past: date | None = None
    unread: str | None = None


def read_note_date(text: str, today: date) -> NoteDate | CommandError:
    """Dates anywhere in a note: "after Saturday" asks the day after, "on Friday" that day,
    "her talk is next Thursday" keeps its words and asks on Thursday."""
    text = spell_out_days(text)
    for match in reversed(list(_FOLLOW_UP.finditer(text))):
        day = parse_day(match.group(2), today=today, direction="future")
        if day is not None:
            word = match.group(1).lower()
            cleaned = text[: match.start()].rstrip(" ,;")
            if day < today and word == "on" and _PAST_TENSE.search(cleaned):
                return NoteDate(text, past=day)  # "her talk was on Oct 15"
            if day < today and without_year(match.group(2)):
                # "dinner on Oct 29" said on Oct 30: yesterday's, not next year's.
                return CommandError(passed_question(
                    day, today, outcome="nothing was saved",
                    again=f"… {match.group(1)} {{day}}"), "note")
            if day < today:
                return CommandError("That follow-up date has already passed.", "note")
            if word == "on" and (gone := past_day_meant(cleaned, match.group(2), day,
                                                        today)) is not None:
                # "her talk was on Jun 1" in October: last June's, not next June's.
                return NoteDate(text, past=gone)
            if word == "on" and (gone := past_weekday_meant(cleaned, match.group(2),
                                                            today)) is not None:
                # "ran a marathon on Sunday": last Sunday's, not the coming one.
                return NoteDate(text, past=gone)
            copula = _COPULA_END.search(cleaned)
            if copula is not None and copula.start() > 0:
                return NoteDate(cleaned[:copula.start()].rstrip(" ,;"), day, day)
            if word == "after":
                return _after_event(cleaned, day)
            event = day if word == "on" else None
            if cleaned.lower().startswith("after "):
                return _after_event(cleaned[6:], day)
            return NoteDate(cleaned, day, event)
    spans = find_dates(text, today=today, direction="future")
    unread_words = date_like_words(text, spans)
    for phrase in unread_words:
        # "call on 11/12": Nov 12 or Dec 11? Asked, not guessed (a dotted "4.5" only after a
        # word that makes it a date: "rated it 4.5" is no date).
        question = which_numeric_day(phrase, today=today, direction="future",
                                     outcome="nothing was saved") \
            if "/" in phrase or re.search(rf"\b(?:on|by|until|till|before|after|from|due)\s+"
                                          rf"{re.escape(phrase)}", text, re.IGNORECASE) else None
        if question is not None:
            return CommandError(question, "note")
        if (problem := day_problem(phrase, today=today, direction="future")) is not None:
            # "on Feb 29" in 2026, "on the 31st" in November: no such day, and none guessed.
            return CommandError(f"{problem}, so nothing was saved. Say which day, for "
                                "example “on Friday” or “on Dec 4”.", "note")
    unread = ", ".join(unread_words) or None
    upcoming = [s for s in spans if s.day >= today]
    past = [s for s in spans if s.day < today]
    if not upcoming:
        return NoteDate(text, past=past[-1].day if past else None, unread=unread)
    span = upcoming[-1]
    if span.preposition in ("on", "") and (gone := past_day_meant(
            text[:span.start], span.phrase, span.day, today)) is not None:
        return NoteDate(text, past=gone, unread=unread)  # "she presented Mar 3"
    if span.preposition in ("on", "") and (gone := past_weekday_meant(
            text[:span.start], span.phrase, today)) is not None:
        return NoteDate(text, past=gone, unread=unread)  # "her party was Saturday"
    if span.day > today + timedelta(days=300) and not re.search(r"\d{4}", span.phrase) \
            and not is_counted_day(span.phrase):
        # "started Nov 2" read as next year's Nov 2: a past date, not a reminder.
        return NoteDate(text, past=span.day.replace(year=span.day.year - 1), unread=unread)
    if stands_for_a_week(span.phrase):
        # "offsite first week of December": asked on the 1st, in words still true that day.
        return NoteDate(text, span.day, None, unread=unread)
    # Punctuation around the day goes with it ("demo next Tuesday!!", "call her tomorrow!",
    # "demo (Friday)"): kept, it would be left over as "call her !".
    before = text[:span.start].rstrip(" ,;([")
    end = span.end
    if span.phrase.lower().startswith("in ") and \
            (time_word := _TIME_AFTER_A_WAIT.match(text, end)) is not None:
        end = time_word.end()  # "call in 2 weeks time": the wait's own word goes with it
    after = text[end:].strip(AROUND_A_DAY)
    cleaned = text
    if after and before and span.preposition in ("on", "by", "after", "until", "till", "before"):
        # "follow up on Friday about the contract": the day is kept as data, the words read
        # on without it.
        cleaned = f"{before} {after}"
        if span.preposition == "after" or _ends_after_clause(before, span.preposition):
            return _after_event(cleaned, span.day)
        event = span.day if span.preposition == "on" else None
        return NoteDate(cleaned, span.day, event, unread=unread)
    if after and before and not span.preposition and text[end:end + 1] not in "'’":
        # "demo tomorrow at 3pm", "ping next Monday about the contract": the words around the
        # day are kept, the day words are not: "tomorrow" or "next Monday" would be wrong on
        # the day and said twice beside the day the reminder names; the day is kept as data.
        if span.phrase.lower() in ("today", "tonight", "tomorrow") \
                or _ONLY_A_TIME.fullmatch(after):
            return NoteDate(f"{before} {after}", span.day, span.day, unread=unread)
        copula = _COPULA_END.search(before)
        if copula is not None and copula.start() > 0:
            # "her talk is next Thursday at the venue": her talk at the venue, on Thursday.
            return NoteDate(f"{before[:copula.start()].rstrip(' ,;')} {after}", span.day,
                            span.day, unread=unread)
        if not _keeps_its_date(before, span.phrase):
            return NoteDate(f"{before} {after}", span.day, span.day, unread=unread)
    copula = _COPULA_END.search(before) if not after else None
    if copula is not None and copula.start() > 0:
        # "her talk is next Thursday": the talk, on Thursday (the day is kept as data).
        return NoteDate(before[:copula.start()].rstrip(" ,;"), span.day, span.day,
                        unread=unread)
    if not after and before:
        if span.preposition in ("on", "by", "after", "before", "until", "till") \
                or not _keeps_its_date(before, span.phrase):
            cleaned = before
    if cleaned.lower().startswith("after ") and cleaned is not text:
        return _after_event(cleaned[6:], span.day)
    if span.preposition == "after" or (cleaned is not text
                                       and _ends_after_clause(cleaned, span.preposition)):
        return _after_event(cleaned, span.day)
    if span.preposition in ("by", "before", "until", "till"):
        return NoteDate(cleaned, span.day, None, unread=unread)
    return NoteDate(cleaned, span.day, span.day, unread=unread)


# "time" after a wait ("in 2 weeks time", "in a month's time"): part of the wait's words.
_TIME_AFTER_A_WAIT = re.compile(r"(?:['’]s?)?\s+time\b", re.IGNORECASE)
# A time of day and nothing else: "at 6pm", "6:30 pm", "at noon", "in the evening".
_ONLY_A_TIME = re.compile(
    r"(?:at\s+)?(?:\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm|h)?|noon|midday|lunchtime)"
    r"|(?:in\s+the\s+)?(?:morning|afternoon|evening)", re.IGNORECASE)


# "moving house after the offsite": an "after" clause of a few words just before "on Friday".
_AFTER_CLAUSE = re.compile(r"(?:^|\s)after\s+(?:[^\s,;]+\s+){0,4}[^\s,;]+$", re.IGNORECASE)


def _ends_after_clause(before: str, preposition: str) -> bool:
    """Whether the words before "on <day>" end with "after <event>": the event is that day
    ("moving house after the offsite on Friday"), so the reminder asks the day after, as when
    the note starts with "after"."""
    return preposition == "on" and _AFTER_CLAUSE.search(before) is not None


def _after_event(text: str, day: date) -> NoteDate:
    """"after the offsite on Friday": ask about the offsite the day after Friday."""
    return NoteDate(text.strip(" ,;"), day + timedelta(days=1), day)


def parse_note(rest: str, today: date) -> AddNote | CommandError:
    head, colon, tail = _partition_colon(rest)
    head_tokens = _tokens(head)
    while len(head_tokens) > 1 and head_tokens[0].lower() in ("for", "about", "re", "to", "on"):
        head_tokens = head_tokens[1:]  # "note for Dana: ..."
    if colon and head_tokens:
        person = _check_person(_person_from_tokens(head_tokens), "note")
        text = tail.strip()
    elif (whose := _note_of_whose(_tokens(rest), today)) is not None:
        return whose
    else:
        person_raw, tokens = _first_person(_tokens(rest))
        person = _check_person(person_raw, "note")
        text = " ".join(tokens).lstrip(": ").strip()
    if isinstance(person, CommandError):
        return person
    return _note_or_birthday(person, text, today)


def _note_of_whose(tokens: list[str], today: date) -> AddNote | CommandError | None:
    """`note Dana's hiking trip next month`, `remember Sean O'Brien's daughter graduates in
    June`: the words up to the first "'s" are whose it is, as the same line said without the
    verb reads; None when no name of up to three words ends so. A name of several words must
    be written as names are ("Dana her kid's school" is Dana's note), and the line is also
    read as its first word's note, with the words up to the "'s" unsure: a line that can be
    read both ways is asked about, never guessed."""
    at = next((i for i, token in enumerate(tokens[:MAX_NAME_WORDS])
               if _is_possessive(token)), None)
    if at is None or at + 1 >= len(tokens) or POSSESSIVE_DAY.match(tokens[at]) or any(
            _is_single_token_name(token) or not token[:1].isupper() or not token[:1].isalpha()
            for token in tokens[1:at + 1]):
        return None
    person = _check_person(_person_from_tokens(_owner(tokens[:at + 1])), "note")
    if isinstance(person, CommandError):
        return None
    text = " ".join(tokens[at + 1:])
    if at == 0:
        return _note_or_birthday(person, text, today)  # "note Lee's birthday is March 3"
    first = _check_person(_person_from_tokens(tokens[:1]), "note")
    alternative = _note(first, " ".join(tokens[1:]), today,
                        unsure=" ".join(tokens[1:at + 1])) \
        if not isinstance(first, CommandError) else None
    return _note(person, text, today, alternatives=(alternative,)
                 if isinstance(alternative, AddNote) else ())


def _note(person: PersonRef, text: str, today: date, *, alternatives: tuple[AddNote, ...] = (),
          unsure: str | None = None) -> AddNote | CommandError:
    if not text:
        return CommandError("What should I remember? Add the note after the name.", "note")
    if len(text) > MAX_SUMMARY_CHARS:
        return CommandError(f"Keep notes under {MAX_SUMMARY_CHARS:,} characters.", "note")
    read = read_note_date(text, today)
    if isinstance(read, CommandError):
        return read
    if not read.text:
        return CommandError("What should I remember? Add the note after the name.", "note")
    return AddNote(person=person, text=read.text, follow_up_on=read.follow_up_on,
                   event_on=read.event_on, unread_date=read.unread, past_date=read.past,
                   alternatives=alternatives, unsure=unsure)


# "remind me to ask Dana about the offsite next week": what to do, with whom, about what.
_REMINDER_VERBS = (
    ("check in with", "check in"), ("catch up with", "catch up"),
    ("follow up with", "follow up"), ("reach out to", "reach out"), ("talk to", "talk"),
    ("write to", "write"), ("ask", "ask"), ("call", "call"), ("email", "email"),
    ("ping", "ping"), ("message", "message"), ("text", "text"), ("thank", "thank"),
    ("congratulate", "congratulate"), ("invite", "invite"), ("send", "send"), ("wish", "wish"),
    ("meet", "meet"), ("see", "see"), ("visit", "visit"), ("introduce", "introduce"),
)
_TOPIC_WORDS = ("about", "re", "regarding", "how", "what", "whether", "if", "when", "why",
                "where", "who", "on", "for", "to", "that", "the", "a", "an", "her", "his",
                "their", "my", "our", "back")


def _name_colon(tokens: list[str]) -> int | None:
    """The token of a name that a colon ends ("Dana:", "Lee Park:"), if one of the first few
    does."""
    return next((i for i, token in enumerate(tokens[:MAX_NAME_WORDS])
                 if len(token) > 1 and token.endswith(":") and not _is_single_token_name(token)
                 and token[:-1].lower() not in _TOPIC_WORDS),
                None)


def parse_reminder(rest: str, today: date) -> AddNote | CommandError:
    """`remind me to ask Dana about the offsite next week`, `remind me to call Lee on Friday`,
    `ask Priya how the offsite went`: a note with its follow-up day."""
    text = " ".join(rest.split())
    lowered = text.lower()
    for prefix in ("remind me to ", "remind me ", "to "):
        if lowered.startswith(prefix):
            text, lowered = text[len(prefix):], lowered[len(prefix):]
            break
    # "remind me on Friday to ask Dana ...": the day may come before the task.
    lead = re.match(r"^(.{2,40}?)\s+to\s+", text)
    lead_day = None
    if lead and (lead_day := parse_day(lead.group(1).removeprefix("on "), today=today,
                                       direction="future")) is not None:
        text = text[lead.end():]
        lowered = text.lower()
    about_someone = lowered.startswith("about ")
    if about_someone:
        text, lowered = text[6:], lowered[6:]
        verb_phrase = "ask"
    else:
        verb_phrase = ""
        for words, action in _REMINDER_VERBS:
            if lowered.startswith(words + " "):
                verb_phrase, text = action, text[len(words) + 1:]
                break
        if not verb_phrase:
            return CommandError("Who should I remind you about? For example “remind me to ask "
                                "Dana about the offsite next week”.", "note")
    tokens = _tokens(text)
    if not tokens:
        return CommandError("Who do you mean? Name a person.", "note")
    colon = _name_colon(tokens)
    if colon is not None:
        # "message Dana: congrats on Friday": the colon ends the name, as in `note Dana: …`.
        tokens = [*tokens[:colon], tokens[colon][:-1], *tokens[colon + 1:]]
        ends = [colon + 1]
    elif _is_single_token_name(tokens[0]) or _is_possessive(tokens[0]):
        ends = [1]
    else:
        stop = next((i for i in range(1, len(tokens))
                     if tokens[i].lower().rstrip(":") in _TOPIC_WORDS
                     or _day_at(tokens, i, today=today, direction="future") is not None
                     or _is_possessive(tokens[i])), len(tokens))
        ends = list(range(1, stop + 1))
    readings: list[AddNote] = []
    no_day = False
    for end in ends:
        name = list(tokens[:end])
        possessive = _is_possessive(name[-1])
        if possessive:
            name[-1] = _without_possessive(name[-1])
        person = _check_person(_person_from_tokens(name), "note")
        if isinstance(person, CommandError):
            return person
        between = tokens[end:ends[-1]]
        topic = " ".join([*between, *tokens[ends[-1]:]])
        if topic.lower().startswith(("about ", "re ", "re: ", "regarding ")):
            topic = topic.split(" ", 1)[1]
            note_text = topic if verb_phrase == "ask" else f"{verb_phrase} about {topic}"
        elif verb_phrase == "ask" and topic:
            note_text = f"ask {topic}"
        else:
            note_text = f"{verb_phrase} {topic}".strip()
        if lead_day is not None and not note_text.lower().endswith(" on"):
            note_text = f"{note_text} on {lead_day.isoformat()}"
        if possessive and not between:
            note_text = f"{verb_phrase} about their {topic}" if verb_phrase != "ask" \
                else f"their {topic}"
        reading = _note(person, note_text, today,
                        unsure=" ".join(between) if between else None)
        if isinstance(reading, CommandError):
            if end == ends[-1] and not readings:
                return reading
            continue
        if about_someone and reading.text.lower() == "ask":
            # "remind me about Lee in 2 weeks": nothing to ask about, only someone to reach.
            reading = replace(reading, text="check in")
        if reading.follow_up_on is None:
            # A reminder needs a day; a note without one would never remind anyone. Another
            # reading may have one ("Dana" of "call Dana tomorrow!", not "Dana tomorrow!").
            no_day = True
            continue
        readings.append(reading)
    if not readings and no_day:
        return CommandError("When should I remind you? Add a day, for example “remind me "
                            "to call Lee tomorrow” or “… on Friday”.", "note")
    if not readings:
        return CommandError("Who do you mean? Name a person.", "note")
    first, *others = readings
    return replace(first, alternatives=tuple(others))


def _cadence_at_end(tokens: list[str]) -> tuple[Cadence, int] | None:
    """The rhythm phrase at the end of `tokens` and how many tokens it used."""
    for size in range(min(len(tokens), 4), 0, -1):
        cadence = parse_cadence(" ".join(tokens[-size:]))
        if cadence is not None:
            return cadence, size
    return None


def _cadence_at_start(tokens: list[str]) -> tuple[Cadence, int] | None:
    for size in range(min(len(tokens), 4), 0, -1):
        cadence = parse_cadence(" ".join(tokens[:size]))
        if cadence is not None:
            return cadence, size
    return None


HOW_OFTEN = ("How often? For example “2 weeks”, “monthly”, “every other week” or "
             "“3 months”.")


RHYTHM_WORDS = frozenset({"rhythm", "cadence", "frequency"})
_RHYTHM_LINKS = frozenset({"to", "is", "be", "should", "=", "at", "now"})


def _whose_rhythm(tokens: list[str]) -> list[str]:
    """The person's words of a rhythm said as a detail: "Lee's rhythm (is|to)" and "the
    rhythm for Lee (to)" are Lee; anything else stays as it is."""
    words = list(tokens)
    while words and words[-1].lower() in _RHYTHM_LINKS:
        words.pop()
    lowered = [word.lower().strip(":") for word in words]
    at = next((i for i, word in enumerate(lowered) if word in RHYTHM_WORDS), None)
    if at is None:
        return list(tokens)
    if at == len(words) - 1 and at > 0:
        return _owner(words[:at])  # "Lee's rhythm", "Lee rhythm"
    if at + 1 < len(words) and lowered[at + 1] in ("for", "with") \
            and all(word in ("the", "my", "our") for word in lowered[:at]):
        return words[at + 2:]  # "the rhythm for Lee"
    return list(tokens)


# What turns a rhythm or a goal off: "every Dana off", "goal clients remove".
TURN_OFF_WORDS = frozenset({"off", "never", "none", "stop", "remove", "delete", "clear"})


def parse_every(rest: str, today: date) -> SetCadence | CommandError:
    del today
    tokens = _tokens(rest)
    if tokens and tokens[-1].lower() in TURN_OFF_WORDS:
        person = _check_person(_person_from_tokens(_whose_rhythm(tokens[:-1])), "every")
        return person if isinstance(person, CommandError) else SetCadence(person, None)
    found = _cadence_at_end(tokens)
    name = _whose_rhythm(tokens[:-found[1]]) if found else []
    if found is None or not name:
        # "every 2 weeks Dana": the rhythm first.
        found = _cadence_at_start(tokens)
        name = tokens[found[1]:] if found else []
    if found is None or not name:
        if found is None and len(tokens) > 1 and any(ch.isdigit() for ch in rest):
            return CommandError(HOW_OFTEN, "every")
        if found is not None or len(tokens) > 1:
            if not name and found is not None:
                return CommandError("Who do you mean? Name a person.", "every")
        return CommandError(HOW_OFTEN, "every")
    person = _check_person(_person_from_tokens(name), "every")
    if isinstance(person, CommandError):
        return person
    cadence = found[0]
    return SetCadence(person, cadence.days, cadence.months)


# Words that are not a name anyone is called: "add colleague" is a mistake, not a person.
NOT_NAMES = frozenset({"colleague", "colleagues", "client", "clients", "me", "myself",
                       "someone", "somebody", "person", "people", "contact", "contacts",
                       "a", "an", "the", "new", "my", "friend", "him", "her", "them",
                       "everyone", "nobody", "here", "everybody"})
# Words of a job title: a name without commas that holds one is asked about, not stored.
_TITLE_WORDS = frozenset({"vp", "svp", "evp", "ceo", "cto", "cfo", "coo", "cmo", "cpo",
                          "director", "manager", "head", "engineer", "lead", "founder",
                          "president", "sales", "marketing", "recruiter", "designer",
                          "developer", "partner", "chief", "officer", "intern", "analyst",
                          "consultant", "pm", "em", "product"})
_EMAIL = re.compile(r"^[^@\s<>\"“”]{1,64}@[^@\s<>]{1,255}\.[^@\s<>.]{1,63}$")
_KINDS_OF_PERSON = {"colleague": "colleague", "client": "client", "customer": "client",
                    "coworker": "colleague", "co-worker": "colleague",
                    "teammate": "colleague"}


def _split_commas(text: str) -> list[str]:
    """Comma-separated parts, leaving commas inside quotes alone. A semicolon splits
    nothing: `add` separates with commas only (split there, a name lost its end to a note)."""
    parts, current, quote = [], "", ""
    for ch in text:
        if quote:
            current += ch
            if ch == quote or (quote == "“" and ch == "”"):
                quote = ""
        elif ch in "\"“":
            quote, current = ch, current + ch
        elif ch == ",":
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


@dataclass
class _Adding:
    kind: str = "colleague"
    kind_set: bool = False
    company: str | None = None
    cadence: Cadence | None = None
    email: str | None = None
    notes: list[str] = field(default_factory=list)
    role: str | None = None
    birthday: tuple[int, int, int | None] | None = None


# "…, met at KubeCon", "…, introduced by Sam at the offsite": how you know them, not a role at
# a company; the part is kept whole as a note.
_HOW_YOU_KNOW_THEM = ("met", "introduced", "intro", "saw", "spoke", "talked", "chatted",
                      "know", "knew", "friend", "friends", "worked", "studied", "sat", "via",
                      "through")


def _add_part(words: list[str], adding: _Adding, *, first: bool) -> list[str] | CommandError:
    """Read kind, company, rhythm and email out of one part; return the words left (the name
    in the first part)."""
    name: list[str] = []
    index = 0
    while index < len(words):
        word = words[index].lower().strip("()")
        if word in ("as", "is") and index + 1 < len(words):
            index += 1
            continue
        if word in ("a", "an", "new", "my"):
            following = next((w.lower() for w in words[index + 1:]
                              if w.lower() not in ("a", "an", "new", "my")), "")
            if following in _KINDS_OF_PERSON:
                index += 1  # "add a new client called Jo Kim"
                continue
        if word in _KINDS_OF_PERSON and (name or not first or index + 1 < len(words)):
            adding.kind, adding.kind_set = _KINDS_OF_PERSON[word], bool(name) or not first
            index += 1
            if index < len(words) and words[index].lower() in ("called", "named"):
                index += 1
            continue
        if word in ("at", "from", "with") and (name or not first) and index + 1 < len(words):
            end = index + 1
            while end < len(words) and words[end].lower() not in (
                    "every", "colleague", "client", "as") and parse_cadence(
                    words[end]) is None and not _EMAIL.match(words[end]):
                end += 1
            company = " ".join(t.strip("\"“”()") for t in words[index + 1:end])[:200]
            adding.company = company or None
            index = end
            continue
        if word == "every" and (name or not first):
            found = _cadence_at_start(words[index:index + 4]) or _cadence_at_start(
                words[index + 1:index + 4])
            if found is None:
                return CommandError("How often? For example “every 2 weeks” or “monthly”.",
                                    "add")
            adding.cadence = found[0]
            index += found[1] + (0 if words[index].lower() == "every" and parse_cadence(
                " ".join(words[index:index + found[1]])) else 1)
            continue
        if (name or not first) and (found := _cadence_at_start(words[index:])) is not None \
                and words[index].lower() not in ("a", "an", "one", "two"):
            adding.cadence = found[0]
            index += found[1]
            continue
        if _EMAIL.match(words[index].strip("<>()")):
            adding.email = words[index].strip("<>()").lower()
            index += 1
            continue
        if words[index].startswith("(") and words[-1].endswith(")") and name:
            adding.company = " ".join(words[index:]).strip("()")[:200] or None
            break
        if name and (adding.kind_set or adding.company or adding.cadence or adding.email) \
                and first:
            return CommandError(f"I did not understand “{clip(words[index])}”.", "add")
        name.append(words[index])
        index += 1
    return name


# Words of a role written in lower case ("senior engineer", "head of design"), besides the
# title words; and the small words inside a title ("VP of Sales").
_ROLE_WORDS = _TITLE_WORDS | frozenset({
    "senior", "junior", "staff", "principal", "associate", "assistant", "deputy", "acting",
    "interim", "executive", "architect", "scientist", "researcher", "editor", "writer",
    "owner", "co-founder", "cofounder", "advisor", "adviser", "investor", "specialist",
    "coordinator", "administrator", "accountant", "lawyer", "counsel", "attorney",
    "professor", "teacher", "doctor", "sre", "devops", "qa", "ux", "hr", "ops", "operations",
    "finance", "engineering", "design", "support", "success", "customer", "account",
    "software", "data", "program", "project", "vice", "general"})
_TITLE_JOINERS = frozenset({"of", "and", "&", "for", "the", "in", "/", "-"})
MAX_ROLE_WORDS = 8
# A title in initials: "CTO", "SVP", "GM", "CISO".
_INITIALS = re.compile(r"^[A-Z]{2,5}$")


def _reads_as_role(words: list[str]) -> bool:
    """Whether the words after `add`'s comma are a role ("VP Sales", "CTO", "senior
    engineer", "Head of Design", "frontend developer"): a title's own word or initials
    among them, every other word capitalised, or a short phrase ending in a title's noun. A
    remark ("likes hiking") or a company alone ("Initech") is kept as a note instead."""
    titled = [word for word in words if word.lower() not in _TITLE_JOINERS]
    if not titled or len(words) > MAX_ROLE_WORDS:
        return False
    if len(titled) <= 3 and titled[-1].lower() in _ROLE_WORDS:
        return True
    return any(word.lower() in _ROLE_WORDS or _INITIALS.match(word) for word in titled) \
        and all(word[:1].isupper() or word.lower() in _ROLE_WORDS for word in titled)


def parse_add(rest: str, today: date) -> AddContact | CommandError:
    """`add Lee Park client at Acme every 6 weeks`, `add Hiro Tanaka, VP Sales at Umbrella,
    monthly`, `add client Lee Park (Acme)`."""
    # "add Dana Scully 🎉": a reaction, never part of the name (kept, it added a second Dana).
    parts = _split_commas(" ".join(_without_reactions(rest.split()))) or [""]
    adding = _Adding()
    name_words = _add_part(_tokens(parts[0]), adding, first=True)
    if isinstance(name_words, CommandError):
        return name_words
    for part in parts[1:]:
        words = _tokens(part)
        if not words:
            continue
        lowered = [w.lower() for w in words]
        if adding.birthday is None and (birthday := birthday_said(part, today)) is not None:
            adding.birthday = birthday  # "birthday March 3": a yearly date, not a note
            continue
        if lowered[0] in _HOW_YOU_KNOW_THEM:
            adding.notes.append(" ".join(words))  # "met at KubeCon": how they met
            continue
        # "VP Sales at Umbrella": a role at a company ("colleague at Initech" is a kind).
        role = lowered[:lowered.index("at", 1)] if "at" in lowered[1:] else []
        if role and lowered[0] not in ("at", "from", "every") and not all(
                w in _KINDS_OF_PERSON or w in ("a", "an") for w in role):
            at = lowered.index("at", 1)
            if lowered[at - 1] in _KINDS_OF_PERSON:
                at -= 1  # "VP Sales client at Globex": the role, then what kind of person
            if adding.role is None:
                adding.role = " ".join(words[:at])[:200]
            else:
                adding.notes.append(" ".join(words[:at]))
            words = words[at:]
        leftover = _add_part(words, adding, first=False)
        if isinstance(leftover, CommandError):
            return leftover
        if leftover and adding.role is None and _reads_as_role(leftover):
            adding.role = " ".join(leftover)[:200]  # "add Hiro Tanaka, VP Sales"
        elif leftover:
            adding.notes.append(" ".join(leftover))
    person = _check_person(_person_from_tokens(name_words), "add")
    if isinstance(person, CommandError):
        return person
    if not person.mention_id:
        lowered = [w.lower().strip(".,") for w in person.text.split()]
        if not lowered or all(word in NOT_NAMES for word in lowered):
            return CommandError("Who should I add? Give their name, for example “add Dana "
                                "Scully colleague”.", "add")
        quoted = _is_single_token_name(name_words[0]) if name_words else False
        # A semicolon is no part of a name, nor does it end one ("add Robert'); DROP TABLE
        # contacts;--"): asked about, as a title in the name is.
        typed = " ".join(name_words) if any(";" in w for w in name_words) else None
        if not quoted and (typed or len(lowered) > 4
                           or any(w in _TITLE_WORDS for w in lowered[1:])):
            return CommandError(f"Is “{clip(typed or person.text)}” their whole name? Put the "
                                "name first and the rest after a comma, for example “add Hiro "
                                "Tanaka, VP Sales at Umbrella”, or put the name in quotes.",
                                "add")
    cadence = adding.cadence or Cadence()
    note = "; ".join(adding.notes)[:MAX_SUMMARY_CHARS] or None
    return AddContact(person=person, kind=adding.kind, company=adding.company,
                      cadence_days=cadence.days, cadence_months=cadence.months,
                      email=adding.email, note=note, role=adding.role,
                      birthday=adding.birthday)


MAX_SNOOZE = timedelta(days=366)


def snooze_problem(until: date, today: date) -> str | None:
    """Why a snooze to `until` is refused, or None: after today, within a year."""
    if until <= today:
        return "Snooze to a day after today."
    if until > today + MAX_SNOOZE:
        return "Snooze for at most a year; use “every” or “forget” instead."
    return None


def parse_snooze(rest: str, today: date) -> Snooze | CommandError:
    tokens = _tokens(rest)
    until: date | None = None
    minutes: int | None = None
    for size in (4, 3, 2, 1):  # "until Oct 29 2027" is four
        if len(tokens) > size:
            phrase = [t.lower() for t in tokens[-size:]]
            if phrase[0] in ("for",):
                phrase = phrase[1:]
            short = parse_short_duration(" ".join(phrase))
            if short is not None:
                minutes, tokens = int(short.total_seconds() // 60), tokens[:-size]
                break
            if phrase and phrase[0] in ("til", "till", "'til", "’til"):
                phrase[0] = "until"  # "snooze Mei til Monday"
            said = " ".join(phrase[1:] if phrase and phrase[0] == "until" else phrase)
            if phrase and phrase[0] == "until":
                day = parse_day(said, today=today, direction="future")
                if day is None and (problem := day_problem(said, today=today,
                                                           direction="future")) is not None:
                    # "until Feb 29" in 2026: no such day, and none two years on.
                    return CommandError(f"{problem}, so nothing was snoozed.", "snooze")
            else:
                day = shift_by_duration(" ".join(phrase), today) or parse_day(
                    " ".join(phrase), today=today, direction="future")
            if day is not None and day < today and without_year(said):
                # "until Oct 29" said on Oct 30: yesterday's, not a year's wait.
                again = " ".join(tokens[:-size])
                return CommandError(passed_question(
                    day, today, outcome="nothing was snoozed",
                    again=f"snooze {again} until {{day}}"), "snooze")
            if day is not None:
                until, tokens = day, tokens[:-size]
                break
    if tokens and _NUDGE_REF.match(tokens[0]) and len(tokens) > 1:
        # "snooze #6 2 blorps": the number is clear, the time is not.
        return CommandError(f"I couldn't read “{clip(' '.join(tokens[1:]))}” as a time. Try "
                            f"“snooze {tokens[0]} 2 days”, “snooze {tokens[0]} until Friday” "
                            f"or “snooze {tokens[0]} 2 hours”.", "snooze")
    if minutes is not None:
        target = _target(tokens, "snooze")
        return target if isinstance(target, CommandError) else Snooze(target, minutes=minutes)
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
    tokens = _tokens(head)
    if len(tokens) > 1 and tokens[0].lower() in ("with", "talking to", "for"):
        tokens = tokens[1:]  # "done with Tom"
    target = _target(tokens, "done")
    if isinstance(target, CommandError):
        return target
    kind, words = _kind_and_summary(tail)
    summary = " ".join(words).strip(" ,;-") or None
    if summary and len(summary) > MAX_SUMMARY_CHARS:
        return CommandError(f"Keep the summary under {MAX_SUMMARY_CHARS:,} characters.", "done")
    return Done(target, summary, kind)


def parse_dismiss(rest: str, today: date) -> Dismiss | CommandError:
    del today
    target = _target(_tokens(rest), "dismiss")
    return target if isinstance(target, CommandError) else Dismiss(target)


# "for 0 days", "for -1 week": a length, only not one a pause can have.
_NO_LENGTH = re.compile(r"^(?:[-−]\s*\d+|0+|zero)\s*[a-z]+$")


def parse_pause(rest: str, today: date) -> Pause | CommandError:
    words = rest.lower().split()
    if len(words) >= 2 and words[0] == "for" and _NO_LENGTH.match(" ".join(words[1:])):
        return CommandError("Pause for how long? For example “for 2 weeks” or “until Monday”.",
                            "pause")
    if len(words) >= 2 and words[0] in ("about", "for", "of", "with") \
            and shift_by_duration(" ".join(words[1:]), today) is None \
            and parse_day(" ".join(words[1:]), today=today, direction="future") is None:
        # "stop reminding me about Lee": one person, not every nudge.
        who = " ".join(rest.split()[1:])
        return CommandError(f"To stop nudges about {who}: “every {who} off” ends the rhythm, "
                            f"“dismiss {who}” drops what is waiting. “pause” stops every "
                            "nudge for a while.", "pause")
    while words and words[0] in ("nudges", "reminders", "everything", "all", "me", "it"):
        words = words[1:]  # "pause nudges for a week"
    if not words:
        return Pause(None)
    if words[0] in ("till", "til", "through", "to"):
        words[0] = "until"
    if words[0] == "until":
        day = parse_day(" ".join(words[1:]), today=today, direction="future")
    elif words[0] == "for":
        day = shift_by_duration(" ".join(words[1:]), today)
    else:
        day = shift_by_duration(" ".join(words), today) or parse_day(
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


# A new user's lead (the users.prep_minutes column default).
DEFAULT_PREP_MINUTES = 30


def parse_prep(text: str) -> int | None:
    """'15m', '30 min', '1h', '45', 'off', 'on' -> minutes before a meeting (0: off)."""
    value = text.lower().replace(" ", "")
    if value in ("off", "no", "none", "0", "0m"):
        return 0
    if value in ("on", "yes"):
        return DEFAULT_PREP_MINUTES  # back on after `settings prep off`, at the default
    match = re.fullmatch(r"(\d{1,3})(m|min|mins|minutes?|h|hr|hours?)?", value)
    if match is None:
        return None
    minutes = int(match.group(1)) * (60 if (match.group(2) or "m").startswith("h") else 1)
    return minutes if 1 <= minutes <= MAX_PREP_MINUTES else None


WINDOW_HELP = "Give the window as start-end in your time, e.g. “9-17” or “08:30-16:00”."


def _window_clocks(text: str) -> tuple[int, int] | None:
    """The two clock times of '9-17', '08:30-16:00', '9am to 5pm', in whatever order."""
    match = re.fullmatch(r"\s*([0-9:.apmh ]+?)\s*(?:-|–|to)\s*([0-9:.apmh ]+?)\s*", text)
    start = parse_clock(match.group(1)) if match else None
    end = parse_clock(match.group(2)) if match else None
    return (start, end) if start is not None and end is not None else None


def parse_window(text: str) -> tuple[int, int] | None:
    """'9-17', '08:30-16:00', '9am to 5pm', '9 to 5' -> minutes after midnight (start,
    end)."""
    clocks = _window_clocks(text)
    if clocks is not None and clocks[1] < clocks[0] <= 12 * 60 \
            and not re.search(r"[ap]\.?m|h", text.lower()):
        # "9-5", "8 to 6": office hours said on a twelve-hour clock; "22-6" stays refused.
        clocks = (clocks[0], clocks[1] + 12 * 60)
    if clocks is None or clocks[0] >= clocks[1]:
        return None
    return clocks


def window_problem(text: str) -> str:
    """Why `text` is no delivery window (`parse_window` gave None)."""
    clocks = _window_clocks(text)
    if clocks is not None and clocks[0] > clocks[1]:
        return (f"“{clip(text.strip())}” runs past midnight, and the window is within one day: "
                "give the hours you want nudges in, e.g. “8-18”.")
    if clocks is not None:
        return "The window needs an end after its start, e.g. “9-17”."
    return WINDOW_HELP


def parse_settings(rest: str, today: date) -> Settings | CaptureChat | CommandError:
    del today
    words = rest.split()
    if not words:
        return Settings()
    return parse_setting(words[0], " ".join(words[1:]))


def parse_setting(name: str, value_text: str) -> Settings | CaptureChat | CommandError:
    """One setting, by its word (`window`, `tz`, `digest`, …) and the value typed after it;
    the same checks and answers whether it was typed as `settings …` or said in a sentence
    (rapport.bot.core.settings_said)."""
    # A full stop or a mark ending the line is no part of the value ("tz Europe/Berlin.").
    name, values = name.lower(), value_text.rstrip(" .!?…").split()
    value_text = " ".join(values)
    if name in ("tz", "timezone", "zone"):
        if not values:
            return CommandError("Which time zone? For example “Europe/Berlin”.", "settings")
        return Settings(tz=" ".join(values))  # "settings tz new york": a city
    if name == "window":
        window = parse_window(value_text)
        if window is None:
            return CommandError(window_problem(value_text), "settings")
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
            return CommandError("Briefs before meetings: “settings prep 15m”, “1h”, “off” or "
                                "“on” (30 minutes; up to 2 hours).", "settings")
        return Settings(prep=minutes)
    if name in ("digest", "ai", "summary"):
        flag = _on_off(value_text) if values else None
        if flag is None:
            return CommandError(f"Say “settings {name} on” or “settings {name} off”.",
                                "settings")
        if name == "digest":
            return Settings(digest=flag)
        return Settings(ai=flag) if name == "ai" else Settings(summary=flag)
    if name == "capture":
        words = [value.lower() for value in values if value.lower() not in ("dms", "dm")]
        flag = _on_off(words[-1]) if len(words) == 2 else None
        if flag is None or words[0] not in CAPTURE_PLATFORMS:
            return CommandError(CAPTURE_HELP, "settings")
        return CaptureChat(platform=CAPTURE_PLATFORMS[words[0]], on=flag)
    if name == "tone":
        if value_text.lower() not in TONES:
            return CommandError("Tone is one of warm, brief or formal.", "settings")
        return Settings(tone=value_text.lower())
    return CommandError(f"There is no setting called “{clip(name)}”.", "settings")


DATE_KINDS = {"birthday": "birthday", "bday": "birthday", "b-day": "birthday",
               "birthdate": "birthday", "anniversary": "anniversary",
               "work-anniversary": "anniversary"}


def parse_date(rest: str, today: date) -> SetDate | CommandError:
    tokens = _tokens(rest)
    lowered = [t.lower().strip(":,") for t in tokens]
    for index, word in enumerate(lowered):
        if word in DATE_KINDS:
            name = list(tokens[:index])
            if name and name[-1].lower() == "work" and word == "anniversary":
                name = name[:-1]
            person = _check_person(_person_from_tokens(_owner(name)), "date")
            if isinstance(person, CommandError):
                return person
            kind: Literal["birthday", "anniversary"] = (
                "birthday" if DATE_KINDS[word] == "birthday" else "anniversary")
            value_words = lowered[index + 1:]
            while value_words and value_words[0] in ("is", "on", "the", "=", "-", "to"):
                value_words = value_words[1:]
            value = " ".join(value_words)
            if value in ("off", "none", "remove", "delete", "forget"):
                return SetDate(person, kind, None, None)
            read = month_day_year(value, today)
            if isinstance(read, str):
                return CommandError(read, "date")
            return SetDate(person, kind, *read)
    return CommandError("Say which date: “birthday” or “anniversary”.", "date")


# "her birthday is March 3": whose it is says nothing a note's person does not.
_THEIR = frozenset({"his", "her", "their"})


def birthday_said(text: str, today: date) -> tuple[int, int, int | None] | None:
    """The birthday a note or an `add` part states, and nothing else ("birthday March 3",
    "her birthday is March 3rd", "bday 3/3", "birthday: May 4 1985"): (month, day, year or
    None) as `date` reads it; None for anything more ("birthday party Saturday" is a
    note)."""
    words = [word.lower().strip(":,") for word in _tokens(text.strip().rstrip(".!"))]
    if words and words[0] in _THEIR:
        words = words[1:]
    if len(words) < 2 or DATE_KINDS.get(words[0]) != "birthday":
        return None
    value = words[1:]
    while value and value[0] in ("is", "on", "the", "=", "-"):
        value = value[1:]
    read = month_day_year(" ".join(value), today)
    return None if isinstance(read, str) else read


def _note_or_birthday(person: PersonRef, text: str, today: date) -> AddNote | CommandError:
    """`note Lee: birthday March 3` is Lee's birthday (`AddNote.birthday`), as "Lee's
    birthday is March 3" is, not a one-off reminder "ask Lee about the birthday"; any other
    text is a note."""
    birthday = birthday_said(text, today)
    if birthday is not None:
        return AddNote(person=person, text=text, follow_up_on=None, birthday=birthday)
    return _note(person, text, today)


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WHICH_DAY = "Which day? For example “May 4”, “4 May” or “March 1 2019”."


def month_day_year(value: str, today: date) -> tuple[int, int, int | None] | str:
    """'May 4', '4 May', '12/24', 'March 1 2019', '2019-03-01' -> (month, day, year or None);
    a short answer when it is not a day of the year (or the year is in the future)."""
    value = value.strip().strip(".")
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value)
    year: int | None = None
    if match:
        year = int(match.group(1))
        month_day = _month_day(f"{match.group(2)}/{match.group(3)}", day_first=False)
    else:
        match = re.fullmatch(r"(.+?),?\s+(\d{4})|(\d{1,2}[/.-]\d{1,2})[/.-](\d{4})", value)
        if match:
            year = int(match.group(2) or match.group(4))
            value = match.group(1) or match.group(3)
        month_day = _month_day(value)
    if month_day is None:
        return _WHICH_DAY
    if year is not None:
        if not 1900 <= year <= today.year:
            return "That year is not in the past; say the day without it, e.g. “May 4”."
        try:
            date(year, *month_day)
        except ValueError:
            return _WHICH_DAY
    return month_day[0], month_day[1], year


def _month_day(value: str, *, day_first: bool = True) -> tuple[int, int] | None:
    """'May 4', '4 May', '12/24' (and '13/5' when `day_first` may be read) -> (month, day)."""
    match = re.fullmatch(r"([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?|(\d{1,2})(?:st|nd|rd|th)?"
                         r"\s+(?:of\s+)?([a-z]{3,9})\.?|(\d{1,2})[/.-](\d{1,2})", value.strip())
    if not match:
        return None
    if match.group(1) or match.group(4):
        month_name = (match.group(1) or match.group(4))[:3]
        if month_name not in _MONTHS:
            return None
        month, day = _MONTHS.index(month_name) + 1, int(match.group(2) or match.group(3))
    else:
        month, day = int(match.group(5)), int(match.group(6))
        if day_first and month > 12 >= day:
            # "13/5": no month is the 13th, so it is the 13th of May, as `log Lee 30/11`
            # reads it; "4/5" stays April 5 (month first, as the usage line shows "12/24").
            month, day = day, month
    try:
        date(2024, month, day)  # a leap year, so Feb 29 is allowed
    except ValueError:
        return None
    return month, day


def parse_forget(rest: str, today: date) -> Forget | CommandError:
    del today
    # "forget me.", "forget me confirm!": the end of a sentence, not part of a word.
    words = rest.rstrip(" .!").split()
    if [w.lower() for w in words[:1]] == ["me"] and len(words) <= 2:
        confirmed = len(words) == 2 and words[1].lower() in ("confirm", "yes")
        if len(words) == 2 and not confirmed:
            return CommandError("To delete all your data, type “forget me confirm”.", "forget")
        return Forget(None, confirmed)
    tokens = _tokens(rest)
    if len(tokens) > 1 and tokens[0].lower() == "about":
        tokens = tokens[1:]  # "forget about Lee"
    confirmed = bool(tokens) and tokens[-1].lower().strip(",.!") in ("confirm", "confirmed",
                                                                     "yes")
    if confirmed:
        tokens = tokens[:-1]
        if tokens and tokens[-1] in (",", "-"):
            tokens = tokens[:-1]
        if tokens:
            tokens[-1] = tokens[-1].rstrip(",")
    person = _check_person(_person_from_tokens(tokens), "forget")
    return person if isinstance(person, CommandError) else Forget(person, confirmed)


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


# --------------------------------------------------------------------------- admin: parsing
ADMIN_USAGE = ("admin [status] | admin ai on|off | admin disclosure required|optional|off | "
               "admin retention <12 months|365d|off> | admin report | admin purge [confirm]")
DISCLOSURE_POLICIES = ("required", "optional", "off")
# A year of days is 12 months, 30 days 1 month: retention is kept in whole calendar months.
_DAYS_PER_MONTH = 365.25 / 12
_LONG_AMOUNT = re.compile(r"^(\d{1,6})\s*(d|days?|w|wks?|weeks?|m|mo|mos|months?|y|yrs?|years?)$")
_RETENTION_OFF = ("off", "never", "forever", "none", "0", "no limit", "keep forever")
RETENTION_HOW = ("How long? For example “admin retention 12 months”, “admin retention 365d” or "
                 "“admin retention off” (keep them until people delete them).")


def retention_months(text: str) -> int | CommandError | None:
    """'12 months', '365d', '1 year', '52 weeks' -> whole months; 'off' -> None."""
    phrase = " ".join(text.lower().strip(" ,.").split())
    if phrase.startswith("for "):
        phrase = phrase[4:]
    if phrase in _RETENTION_OFF:
        return None
    cadence = parse_cadence(phrase) if phrase else None
    longer = _LONG_AMOUNT.match(phrase) if cadence is None else None
    if longer is not None:
        # Beyond any keep-in-touch rhythm, but still a length of time to answer "too long" to.
        amount, unit = int(longer.group(1)), longer.group(2)[0]
        cadence = Cadence(months=amount * (12 if unit == "y" else 1)) if unit in "my" \
            else Cadence(days=amount * (7 if unit == "w" else 1))
    if cadence is None:
        return CommandError(f"I can't read “{clip(text)}” as a length of time. {RETENTION_HOW}",
                            "admin")
    months = cadence.months if cadence.months is not None \
        else round((cadence.days or 0) / _DAYS_PER_MONTH)
    if months < 1:
        return CommandError("Retention is kept in whole months, at least 1 month (“admin "
                            "retention 1 month”); “admin retention off” keeps everything.",
                            "admin")
    if months > MAX_RETENTION_MONTHS:
        return CommandError(f"At most {MAX_RETENTION_MONTHS} months ({MAX_RETENTION_MONTHS // 12} "
                            "years); “admin retention off” keeps everything.", "admin")
    return months


def parse_admin(rest: str, today: date) -> Admin | CommandError:
    """`admin`, `admin status`, `admin ai on|off`, `admin disclosure required|optional|off`,
    `admin retention <duration>|off`, `admin report`, `admin purge [confirm]`."""
    del today
    words = rest.lower().strip(" .!").split()
    if not words or words == ["status"] or words == ["settings"]:
        return Admin("status")
    action, values = words[0], words[1:]
    if action == "ai":
        choice = _on_off(" ".join(values)) if len(values) == 1 else None
        if choice is None:
            return CommandError("Turn AI drafts on or off for everyone: “admin ai on” or "
                                "“admin ai off”.", "admin")
        return Admin("ai", ai_enabled=choice)
    if action == "disclosure":
        if len(values) != 1 or values[0] not in DISCLOSURE_POLICIES:
            return CommandError("The disclosure line on AI-assisted messages is “required”, "
                                "“optional” or “off”, e.g. “admin disclosure required”.",
                                "admin")
        return Admin("disclosure", disclosure=values[0])
    if action == "retention":
        if not values:
            return CommandError(RETENTION_HOW, "admin")
        typed = " ".join(rest.split()[1:])
        months = retention_months(typed)
        if isinstance(months, CommandError):
            return months
        return Admin("retention", retention_months=months, retention_text=clip(typed))
    if action == "report":
        if values:
            return CommandError("“admin report” takes no arguments.", "admin")
        return Admin("report")
    if action == "purge":
        if not values:
            return Admin("purge")
        if values in (["confirm"], ["confirmed"], ["yes"]):
            return Admin("purge", confirmed=True)
        return CommandError("To delete this workspace's data, type “admin purge” first; it "
                            "says what goes and how to confirm.", "admin")
    return CommandError(f"There is no admin setting “{clip(action)}”.", "admin")


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
    elif len(tokens) == 1:
        # One word is the person: it is the tag that is missing ("tag Zoë").
        return CommandError(f"Which tag? For example “{verb} {clip(tokens[0])} clients”.", verb)
    else:
        person_tokens, tag_tokens = tokens[:-1], tokens[-1:]
    if not tokens:
        return CommandError(f"Who do you mean? Name a person and a tag, for example “{verb} "
                            "Lee clients”.", verb)
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
    """'month', '2 weeks', 'every 6w', 'fortnight', 'quarterly' -> days (a month stored as 30,
    a year as 365: `planner.goal_months` reads them back as calendar months); None when not
    a duration."""
    words = text.lower().split()
    cadence = parse_cadence(" ".join(words))
    if words[:1] == ["every"]:
        words = words[1:]
    phrase = " ".join(words)
    cadence = cadence or parse_cadence(phrase)
    if cadence is not None and cadence.months:
        years, months = divmod(cadence.months, 12)
        return years * 365 if not months else cadence.months * 30
    if cadence is not None and cadence.days:
        return cadence.days
    if phrase in ("week", "month", "year", "day"):
        phrase = "1 " + phrase
    if phrase in ("fortnight", "other week"):
        return 14
    return parse_duration_days(phrase) if phrase else None


def parse_goal(rest: str, today: date) -> SetGoal | CommandError:
    words = rest.split()
    if not words:
        return CommandError("Which group? For example “goal clients every month”.", "goal")
    as_person = parse_every(rest, today)
    person = as_person if isinstance(as_person, SetCadence) and (
        as_person.days or as_person.months) else None
    tag = tag_name(words[0])
    value = " ".join(words[1:]).lower()
    if tag is not None and value in TURN_OFF_WORDS:
        return SetGoal(tag, None)
    if isinstance(as_person, SetCadence) and not (as_person.days or as_person.months) and (
            tag is None or len(words) > 2):
        # "goal @Dana off", "goal Dana Scully off": a group's name is one word, so this is
        # one person; the use case names them and says how.
        return SetGoal(None, None, as_person)
    days = goal_duration_days(value) if value and tag is not None else None
    if days is not None:
        return SetGoal(tag, days, person)
    if person is not None:
        return SetGoal(None, person.days, person)  # "goal Dana Scully every 2 weeks"
    if tag is None:
        return CommandError(f"“{clip(words[0])}” is not a tag name: use letters, digits and "
                            "dashes.", "goal")
    return CommandError("How often? For example “goal clients every month” or “goal team "
                        "every 2 weeks”.", "goal")


def parse_people(rest: str, today: date) -> ShowPeople | CommandError:
    """`people` or `people #clients`."""
    del today
    words = rest.split()
    while words and words[0].lower().strip("?!.") in ("people", "everyone", "everybody", "all",
                                                      "my", "contacts", "of"):
        words = words[1:]  # "list people", "show all my people"
    if not words:
        return ShowPeople()
    # "people in #clients", "people tagged clients": after such words the # may be left off.
    grouped = len(words) > 1 and words[0].lower() in ("in", "tagged", "with", "under")
    if grouped and words[0].lower() == "with" and words[1].lower() == "tag":
        words = words[1:]
    if grouped:
        words = words[1:]
    if len(words) == 1 and (words[0].startswith("#") or grouped):
        tag = tag_name(words[0].rstrip("?!.,"))
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
    return replace(parsed, tags=tags)


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
# --------------------------------------------------------------------------- a person at a glance
# Words that start a question about the asker after "who": "who do I owe", "who have I met".
_ASKED_OF_ME = frozenset({"i", "do", "did", "does", "have", "has", "should", "can", "could",
                          "would", "will", "am", "was", "were", "are", "needs", "need", "owes"})
# Of those, the ones that are also first names (Will Smith, Can Yılmaz): a question only when
# the asker follows ("who will I see", "who can I ask").
_ASKED_OR_NAMED = frozenset({"will", "can"})
_ASKER = frozenset({"i", "i'm", "i’m", "i've", "i’ve", "me", "my", "we", "us", "our", "you"})


def parse_show(rest: str, today: date) -> ShowPerson | CommandError:
    """`show Dana`, `who is Dana`, `who's Dana?`, `show me Dana`."""
    del today
    said = rest.strip()
    text = said.rstrip("?!. ").strip()
    # A period may end a name ("show Priya N."): it stays for the lookup, which tries the
    # name without it too (rapport.bot.core.resolve); "?" and "!" end the question.
    period = "." if said.rstrip("?! ").endswith(".") and text[-1:] not in (">", '"', "”") \
        else ""
    for lead in ("is ", "'s ", "’s ", "me ", "about "):
        if text.lower().startswith(lead):
            text = text[len(lead):].strip()
    for tail in (" doing lately", " doing these days", " doing"):  # "how is Dana doing?"
        if text.lower().endswith(tail) and len(text) > len(tail):
            text, period = text[:-len(tail)].strip(), ""
            break
    if text.lower() in ("is", "me", ""):
        return CommandError("Who? For example “show Dana”.", "show")
    words = text.lower().split()
    first = words[0]
    named = first in _ASKED_OR_NAMED and (len(words) == 1 or words[1] not in _ASKER)
    if first in _ASKED_OF_ME and not named:
        # "who do I owe a reply", "who have I met": a question about you, not a name.
        return CommandError("“due” shows who to reach out to now, “people” everyone you keep "
                            "in touch with; “show Dana” one person.", "show")
    if first in ("my", "all", "every", "everyone", "everybody") or text.lower() in (
            "people", "contacts", "clients", "colleagues"):
        # "show me my clients", "show all my people".
        return CommandError("“people” lists everyone you keep in touch with; “people #clients” "
                            "those tagged clients.", "show")
    person = _check_person(_person_from_tokens(_tokens(text + period)), "show")
    return person if isinstance(person, CommandError) else ShowPerson(person)


# One @mention and nothing else ("<@U0DANA|dana>", "<@U0DANA>?"): how Slack and Teams send
# a `/rapport @Dana`, or a message to the bot that only @mentions someone.
_MENTION_ALONE = re.compile(r"^(<@[A-Za-z0-9_:.\-]+(?:\|[^<>]*)?>)[\s?!.]*$")


def mention_alone(text: str) -> ShowPerson | None:
    """A line that is one @mention alone, read as that person's card, as "Dana?" is (the
    card's answer for someone not among the user's people says how to add them); None for
    any other line. `verbs.parse_command` reads it so first: its verb-first reading
    answered “I don't know the command “<@u0dana|dana>””, Slack's markup echoed back."""
    alone = _MENTION_ALONE.match(clean_text(text))
    person = _person_from_tokens([alone.group(1)]) if alone is not None else None
    return ShowPerson(person) if person is not None else None


def _mention_said(token: str) -> str:
    """An @mention as an answer may write it: "@dana" from its label; "@name" when it came
    without one (the grammar asks no directory, and the markup is no name anyone reads)."""
    mention = _MENTION.match(token)
    label = " ".join((mention.group(2) or "").split()) if mention is not None else ""
    return f"@{label}" if label else "@name"


def mention_first(text: str) -> CommandError | None:
    """The answer to a line that starts with an @mention and reads as no command ("<@U0DANA>
    coffee yesterday", "<@U1> <@U2>"): who to name and how, with the mention written as a
    name, never echoed back as markup ("I don't know the command “<@u0dana>”"); None when
    the line does not start with one."""
    tokens = _tokens(clean_text(text))
    if not tokens or not _MENTION.match(tokens[0]):
        return None
    if all(_MENTION.match(token) for token in tokens):
        return CommandError(f"{ONE_PERSON_AT_A_TIME}: “show @name” shows one person; say it "
                            "for each of them.", "show")
    who = _mention_said(tokens[0])
    said = " ".join(_mention_said(token) if _MENTION.match(token) else token
                    for token in tokens[1:])
    return CommandError(f"Say what to do first, then who: “log {who} {clip(said)}” logs a "
                        f"conversation, “note {who}: {clip(said)}” keeps a note, “show {who}” "
                        "shows what you know about them.")


MAX_SEARCH_CHARS = 100


# What may end a search word without being searched for: "search renewal!", "search
# initech.", "search contract?", "search “hiking trip”" (inside a word it stays: "o'brien",
# "q3-plan", "v1.2"; apostrophes and brackets are searched for as typed: "James'", "[cafe]").
_SEARCH_END = " .,;:!?…\"“”"


def parse_search(rest: str, today: date) -> Search | CommandError:
    del today
    words = " ".join(word.strip(_SEARCH_END) for word in rest.split())
    words = " ".join(words.split())
    if not words:
        return CommandError("Search for what? For example “search hiking”.", "search")
    if len(words) > MAX_SEARCH_CHARS:
        return CommandError(f"Search for at most {MAX_SEARCH_CHARS} characters.", "search")
    return Search(words)


def parse_undo(rest: str, today: date) -> Undo | CommandError:
    del today
    if rest.strip().lower().strip(".!") not in ("", "that", "it", "last", "this", "please"):
        return CommandError("“undo” reverses your last change; type it again to go further "
                            "back.", "undo")
    return Undo()


# --------------------------------------------------------------------------- corrections
_HANDLE = re.compile(r"^([ntNT])(\d{1,12}):?$")
HANDLE_HELP = ("Name a note or conversation by its handle from “show”, for example "
               "“n3” or “t7”.")


def parse_handle(token: str) -> tuple[Literal["note", "touchpoint"], int] | None:
    """'n3' -> ("note", 3), 't7' -> ("touchpoint", 7)."""
    match = _HANDLE.match(token.strip())
    if not match:
        return None
    return ("note" if match.group(1).lower() == "n" else "touchpoint"), int(match.group(2))


def parse_edit(rest: str, today: date
               ) -> (EditNote | EditTouch | EditNewest | SetField | Rename | SetCadence
                     | CommandError):
    """`edit n3: new text [on <date>]`, `edit n3 on Friday`, `edit n3 no date`,
    `edit t7 yesterday call: new summary`; `edit the last note: …` the newest one."""
    head, colon, tail = _partition_colon(rest)
    tokens = _tokens(head)
    handle = parse_handle(tokens[0]) if tokens else None
    newest = _newest_said(head) if handle is None and tokens else None
    if isinstance(newest, CommandError):
        return CommandError(newest.message, "edit")
    if newest is not None:
        what = "note" if newest.kind == "note" else "conversation"
        if not colon or not tail.strip():
            return CommandError(f"What should the {what} say now? Put it after a colon: "
                                f"“edit the last {what}: …”.", "edit")
        change = _edit_note(0, [], tail.strip(), today) if newest.kind == "note" \
            else _edit_touch(0, [], tail.strip(), today)
        return change if isinstance(change, CommandError) else EditNewest(change,
                                                                          newest.person)
    if handle is None and tokens:
        renamed = rename_said_as_detail(tokens, today)
        if renamed is not None:
            return renamed  # "change Dana's name to Dana Mulder"
        if any(token.lower().strip(":") in RHYTHM_WORDS for token in tokens[1:]):
            return parse_every(rest, today)  # "change Lee's rhythm to every 6 weeks"
        # "change Lee's company to Initech": a person's detail, as `set` says it.
        fields = [i for i, t in enumerate(tokens) if FIELD_ALIASES.get(
            t.lower(), t.lower()) in PERSON_FIELDS]
        if fields and fields[0] > 0:
            words = [*_owner(tokens[:fields[0]]), *tokens[fields[0]:]]
            return parse_set(" ".join(words), today)
    if handle is None:
        return CommandError(HANDLE_HELP, "edit")
    kind, entry_id = handle
    words = tokens[1:]
    text = tail.strip() if colon else None
    if kind == "note":
        return _edit_note(entry_id, words, text, today)
    return _edit_touch(entry_id, words, text, today)


def _edit_touch(touchpoint_id: int, words: list[str], text: str | None, today: date
                ) -> EditTouch | CommandError:
    head_info = _read_markers(words, today)
    summary = text
    if head_info.words:
        if len(head_info.words) == 1 and head_info.kind is None and _own_kind(
                head_info.words[0]):
            head_info.kind = head_info.words[0].lower()
        else:
            return CommandError(f"I did not understand “{clip(' '.join(head_info.words))}”. "
                                "Put the new summary after a colon.", "edit")
    if text and head_info.kind is None:
        # After the colon as `log` reads it: how, then what about ("edit t7: call about
        # Q3"); a kind said before the colon leaves the whole of it to the summary.
        head_info.kind, said = _kind_and_summary(text)
        if head_info.kind is not None:
            summary = " ".join(said).strip(" ,;-") or None
    if head_info.day is not None and head_info.day > today:
        return CommandError("You can only log conversations that already happened.", "edit")
    if summary == "" and (head_info.day is not None or head_info.kind is not None):
        summary = None  # "edit t7 yesterday:": the day alone
    if summary == "":
        # A colon and nothing after it is a line sent too soon, not a summary to wipe.
        return CommandError(f"What did you talk about? Put it after the colon, for example "
                            f"“edit t{touchpoint_id}: coffee about Q3”.", "edit")
    if summary is not None and len(summary) > MAX_SUMMARY_CHARS:
        return CommandError(f"Keep the summary under {MAX_SUMMARY_CHARS:,} characters.", "edit")
    if head_info.day is None and head_info.kind is None and summary is None:
        return CommandError("What should change? For example “edit t7: coffee about Q3” or "
                            "“edit t7 yesterday”.", "edit")
    return EditTouch(touchpoint_id, day=head_info.day, kind=head_info.kind, summary=summary)


def _edit_note(note_id: int, words: list[str], text: str | None, today: date
               ) -> EditNote | CommandError:
    rest = " ".join(words).lower()
    if rest in ("no date", "no reminder", "no follow up", "no follow-up", "off"):
        if text:
            return CommandError("Say either the new text or “no date”, one at a time.", "edit")
        return EditNote(note_id, clear_follow_up=True)
    if text is not None:
        combined = f"{text} {' '.join(words)}".strip() if words else text
        if not combined:
            return CommandError("What should the note say? Put the text after the colon.",
                                "edit")
        if len(combined) > MAX_SUMMARY_CHARS:
            return CommandError(f"Keep notes under {MAX_SUMMARY_CHARS:,} characters.", "edit")
        read = read_note_date(combined, today)
        if isinstance(read, CommandError):
            return CommandError(read.message, "edit")
        if not read.text:
            return CommandError("What should the note say? Put the text after the colon.",
                                "edit")
        return EditNote(note_id, text=read.text, follow_up_on=read.follow_up_on,
                        event_on=read.event_on)
    phrase = " ".join(words)
    after = phrase.lower().startswith("after ")
    day = parse_day(phrase.split(" ", 1)[1] if phrase.lower().startswith(("on ", "after "))
                    else phrase, today=today, direction="future") if phrase else None
    if day is None:
        return CommandError("What should change? For example “edit n3: new text”, “edit n3 on "
                            "Friday” or “edit n3 no date”.", "edit")
    if day < today:
        return CommandError("That follow-up date has already passed.", "edit")
    follow = day + timedelta(days=1) if after else day
    return EditNote(note_id, follow_up_on=follow, event_on=day)


# "delete goal clients", "remove the clients goal", "delete my goal for #team": a group's
# goal, turned off as `goal clients off` does (read as a person, it was "I don't know anyone
# called “goal clients”").
_A_GOAL = re.compile(r"^(?:the\s+|my\s+|a\s+|that\s+|this\s+)?(?:goal\s+(?:for\s+|of\s+)?"
                     r"(?P<after>\S+)|(?P<before>\S+)\s+goal|goal)$", re.IGNORECASE)


def parse_delete(rest: str, today: date
                 ) -> DeleteEntry | DeleteNewest | Forget | SetGoal | CommandError:
    """`delete n3`, `delete t7`; `delete goal clients` turns that goal off; `delete Dana`
    means forgetting Dana (which asks first)."""
    goal = _A_GOAL.match(" ".join(rest.strip().rstrip("?!. ").split()))
    if goal is not None:
        said = goal.group("after") or goal.group("before") or ""
        tag = tag_name(said)
        if not said or said.lower() in _DETERMINERS:
            return CommandError("Which group's goal? For example “delete goal clients”; "
                                "“goals” lists them.", "goal")
        if tag is None:
            return CommandError(f"“{clip(said)}” is not a group's name. “goals” lists your "
                                "goals; “goal clients off” turns one off.", "goal")
        return SetGoal(tag, None)
    tokens = _tokens(rest)
    if len(tokens) == 2 and tokens[0].lower() in ("note", "conversation", "touchpoint", "entry",
                                                   "log", "the"):
        tokens = tokens[1:]  # "delete note n3"
    if len(tokens) == 1 and (handle := parse_handle(tokens[0])) is not None:
        return DeleteEntry(*handle)
    if not tokens:
        return CommandError(HANDLE_HELP, "delete")
    if any(parse_handle(t) for t in tokens):
        return CommandError("Delete one entry at a time, for example “delete t7”.", "delete")
    newest = _newest_said(rest)
    if newest is not None:
        return newest
    if any(t.lower().strip(",.") in _ENTRY_WORDS for t in tokens):
        # "delete Dana's last note": an entry, not the person (it read as "forget Dana's
        # last note" and answered "There is nothing to forget").
        return CommandError(f"Which one? {HANDLE_HELP} “show Dana” lists them with theirs; "
                            "then say “delete n3”.", "delete")
    return parse_forget(rest, today)


_NEWEST = r"(?:the\s+|my\s+)?(?:last|latest|newest|most\s+recent)\s+"
_NEWEST_KINDS = {"note": "note", "conversation": "touchpoint", "touchpoint": "touchpoint",
                 "log": "touchpoint", "call": "touchpoint", "meeting": "touchpoint"}
_NEWEST_OF = re.compile(
    rf"^{_NEWEST}(?P<kind>{'|'.join(_NEWEST_KINDS)})"
    r"(?:\s+(?:for|with|about|of|on)\s+(?P<person>.+))?$", re.IGNORECASE)
_THEIR_NEWEST = re.compile(
    rf"^(?P<person>.+?)['’]s?\s+{_NEWEST}(?P<kind>{'|'.join(_NEWEST_KINDS)})$", re.IGNORECASE)


def _newest_said(rest: str) -> DeleteNewest | CommandError | None:
    """"the last note", "my latest conversation with Lee", "Dana's last note"; None when
    `rest` says none of these."""
    text = " ".join(rest.strip().rstrip("?!. ").split())
    said = _NEWEST_OF.match(text) or _THEIR_NEWEST.match(text)
    if said is None:
        return None
    kind: Literal["note", "touchpoint"] = (
        "note" if _NEWEST_KINDS[said.group("kind").lower()] == "note" else "touchpoint")
    if said.group("person") is None:
        return DeleteNewest(kind)
    person = _check_person(_person_from_tokens(_tokens(said.group("person"))), "delete")
    return person if isinstance(person, CommandError) else DeleteNewest(kind, person)


_ENTRY_WORDS = frozenset({"note", "notes", "conversation", "conversations", "touchpoint",
                          "touchpoints", "log", "logs", "entry", "entries", "reminder",
                          "reminders"})


def parse_rename(rest: str, today: date) -> Rename | CommandError:
    """`rename Dana Scully to Dana Mulder` (also "as")."""
    del today
    tokens = _tokens(rest)
    lowered = [t.lower() for t in tokens]
    for word in ("to", "as", "->", "→"):
        if word in lowered[1:]:
            at = lowered.index(word, 1)
            person = _check_person(_person_from_tokens(tokens[:at]), "rename")
            if isinstance(person, CommandError):
                return person
            new = _check_person(_person_from_tokens(tokens[at + 1:]), "rename")
            if isinstance(new, CommandError) or new.mention_id:
                return CommandError("What is the new name? For example “rename Dana Scully to "
                                    "Dana Mulder”.", "rename")
            if all(w.lower() in NOT_NAMES for w in new.text.split()):
                return CommandError("That is not a name; give the new name in full.",
                                    "rename")
            return Rename(person, _name_as_typed(tokens[at + 1:], new.text))
    return CommandError("Say the new name after “to”, for example “rename Dana Scully to Dana "
                        "Mulder”.", "rename")


# Words between "name" and the new name ("Dana's name is actually Dana Mulder").
_BEFORE_NEW_NAME = frozenset({"to", "is", "=", ":", "as", "now", "actually", "really"})


def rename_said_as_detail(tokens: list[str], today: date) -> Rename | CommandError | None:
    """`<person>['s] name [to|is] <new name>`, the name said as one of a person's details
    ("change Dana's name to Dana Mulder", "set Lee name Lee Parker"): `rename`. None when no
    word after the person is "name"."""
    lowered = [token.lower() for token in tokens]
    if "name" not in lowered[1:]:
        return None
    at = lowered.index("name", 1)
    if FIELD_ALIASES.get(lowered[at - 1], lowered[at - 1]) in PERSON_FIELDS:
        return None  # "Lee's company name is Initech": the company
    owner = _owner(tokens[:at])
    new = tokens[at + 1:]
    while new and new[0].lower() in _BEFORE_NEW_NAME:
        new = new[1:]
    if not new or not owner[-1]:
        return CommandError("What is the new name? For example “rename Dana Scully to Dana "
                            "Mulder”.", "rename")
    return parse_rename(" ".join([*owner, "to", *new]), today)


@dataclass(frozen=True, slots=True)
class PersonField:
    """One field of a person that `set <person> <field> <value>` may change.

    `read` turns the typed value into what is stored (None clears it) or returns a short
    problem; `column` is the contact column it is stored in; `label` is how answers name it.
    A new field (per-person AI, "sensitive") is one more entry in `PERSON_FIELDS`.
    """

    name: str
    column: str
    label: str
    read: Callable[[str], tuple[str | None] | str]
    example: str


_CLEAR = ("none", "-", "clear", "off", "nothing", "remove", "delete")


def _read_text(label: str) -> Callable[[str], tuple[str | None] | str]:
    """A free-text field of at most 200 characters (its column's size); "none" clears it."""
    def read(value: str) -> tuple[str | None] | str:
        if value.lower() in _CLEAR:
            return (None,)
        if len(value) > 200:
            return f"Keep the {label} under 200 characters."
        return (value,)

    return read


def _read_email(value: str) -> tuple[str | None] | str:
    if value.lower() in _CLEAR:
        return (None,)
    email = value.strip("<>").lower()
    if email.startswith("mailto:"):
        email = email[7:]
    if not _EMAIL.match(email) or len(email) > 320:
        return f"“{clip(value)}” is not an email address."
    return (email,)


def _read_kind(value: str) -> tuple[str | None] | str:
    kind = _KINDS_OF_PERSON.get(value.lower())
    if kind is None:
        return "Kind is colleague or client."
    return (kind,)


PERSON_FIELDS: dict[str, PersonField] = {
    "company": PersonField("company", "company", "company", _read_text("company"),
                           "set Dana company Acme"),
    "email": PersonField("email", "email", "email", _read_email,
                         "set Dana email dana@acme.com"),
    "kind": PersonField("kind", "kind", "kind", _read_kind, "set Dana kind client"),
    "role": PersonField("role", "role", "role", _read_text("role"), "set Dana role VP Sales"),
}
FIELD_ALIASES = {"org": "company", "organisation": "company", "organization": "company",
                  "employer": "company", "e-mail": "email", "mail": "email", "type": "kind",
                  "title": "role", "job": "role", "position": "role"}


def parse_set(rest: str, today: date) -> SetField | CommandError:
    """`set Dana company Acme`, `set Dana Scully email dana@acme.com`, `set Dana kind client`."""
    del today
    tokens = _tokens(rest)
    fields = ", ".join(PERSON_FIELDS)
    for index in range(1, len(tokens)):
        word = tokens[index].lower().strip(":")
        name = FIELD_ALIASES.get(word, word)
        if name not in PERSON_FIELDS:
            continue
        person = _check_person(_person_from_tokens(_owner(tokens[:index])), "set")
        if isinstance(person, CommandError):
            return person
        value_tokens = tokens[index + 1:]
        if len(value_tokens) > 1 and value_tokens[0].lower() in ("name", "address"):
            value_tokens = value_tokens[1:]  # "Lee's company name is Initech"
        if value_tokens and value_tokens[0].lower() in ("to", "=", "is", "as", ":"):
            value_tokens = value_tokens[1:]
        if len(value_tokens) > 1 and value_tokens[0].lower() == "now":
            value_tokens = value_tokens[1:]  # "Lee's company is now Initech"
        value = " ".join(t.strip("\"“”") for t in value_tokens).strip()
        spec = PERSON_FIELDS[name]
        if not value:
            return CommandError(f"Set {spec.label} to what? For example “{spec.example}”.",
                                "set")
        read = spec.read(value)
        if isinstance(read, str):
            return CommandError(read, "set")
        return SetField(person, name, read[0])
    return CommandError(f"Which field? One of: {fields}. For example “set Dana company Acme”.",
                        "set")


# "<person> moved to|joined|is now at <company>": a name of one to three words first. Never
# a person ("Dana joined us for lunch", "Lee joined me for coffee" tell of a conversation).
NEW_COMPANY = re.compile(
    r"^(?P<name>\S+(?:\s+\S+){0,2}?)\s+(?P<said>(?:has\s+)?(?:moved\s+to|joined)|"
    r"is\s+now\s+(?:at|with)|(?:now\s+)?works\s+(?:at|for)|(?:has\s+)?started\s+at)\s+"
    r"(?!(?:us|me|him|her|them|you|everyone|everybody)\b)"
    r"(?P<company>\S.*?)(?:\s+now)?[\s.!]*$", re.IGNORECASE)
# Words that end only a company's name ("Hooli Inc", "Pied Piper GmbH").
_COMPANY_ENDING = re.compile(
    r"\b(?:inc|incorporated|ltd|limited|llc|llp|plc|gmbh|ag|sa|sarl|bv|nv|pty|corp|"
    r"corporation|co|company|group|labs|technologies)\.?$", re.IGNORECASE)


def parse_new_company(text: str, today: date) -> NewCompany | CommandError:
    """"Lee moved to Initech" (see `NewCompany`)."""
    del today
    said = NEW_COMPANY.match(text.strip())
    if said is None:
        return CommandError("Say it as “set Lee company Initech”.", "set")
    person = _check_person(_person_from_tokens(_tokens(said.group("name"))), "set")
    if isinstance(person, CommandError):
        return person
    company = " ".join(said.group("company").strip("\"“”").split())
    role: str | None = None
    if (with_role := _AS_ROLE.search(company)) is not None:
        role = company[with_role.end():].strip(" .!")
        company = company[:with_role.start()].strip()
        read_role = PERSON_FIELDS["role"].read(role)
        if isinstance(read_role, str) or read_role[0] is None:
            return CommandError(read_role if isinstance(read_role, str) else
                                f"Which role? For example “{PERSON_FIELDS['role'].example}”.",
                                "set")
    read = PERSON_FIELDS["company"].read(company)
    if isinstance(read, str) or read[0] is None:
        return CommandError(read if isinstance(read, str) else
                            f"Which company? For example “{PERSON_FIELDS['company'].example}”.",
                            "set")
    return NewCompany(person, company, " ".join(said.group("said").split()), role)


# "Globex as VP Sales", "Acme as a senior engineer": the company, then the role.
_AS_ROLE = re.compile(r"\s+as\s+(?:an?\s+|the\s+|their\s+|our\s+)?(?=\S)", re.IGNORECASE)


def looks_like_company(name: str) -> bool:
    """Whether a name ends the way only companies' names do ("Hooli Inc")."""
    return _COMPANY_ENDING.search(name) is not None


# Words that open what someone joined when it is one thing, not a company's name ("the
# call", "our standup", "yesterday's sync"). A company is named bare: "Lee joined Globex".
_DETERMINERS = frozenset({"the", "our", "my", "a", "an", "this", "that", "their", "your",
                          "his", "her"})
# "yesterday's call": the day the conversation happened, said as whose it was.
POSSESSIVE_DAY = re.compile(r"^(?P<day>today|yesterday|tonight|(?:mon|tues|wednes|thurs|fri|"
                            r"satur|sun)day)(?:'s|’s)$", re.IGNORECASE)
# The kinds you can join someone in: joining a chat, an email or a message thread is not
# talking to them.
_JOINABLE_KINDS = frozenset({"call", "meeting", "video", "coffee", "lunch", "dinner", "walk"})
# What may be joined without "the" ("Lee joined call"); "Lee joined Zoom" and "Lee joined
# Huddle" may be the companies of those names.
_BARE_JOINABLE = frozenset({"call", "meeting", "standup", "stand-up", "1:1", "lunch", "dinner",
                            "coffee"})
# How someone joined, not what was said: never a summary ("Sam joined the standup late").
_JOINING_MANNER = frozenset({"late", "early", "briefly", "too", "again", "halfway",
                             "through", "as", "well", "for", "a", "bit", "few", "minutes",
                             "minute", "at", "the", "end", "start"})
# The last word of something one joins that is neither a company nor a conversation: a
# group ("the team", "the board") or a gathering ("the conference").
_GROUP_WORDS = frozenset({
    "team", "board", "squad", "group", "committee", "council", "panel", "org", "department",
    "dept", "crew", "guild", "club", "chapter", "cohort", "program", "programme", "project",
    "initiative", "taskforce", "channel", "chat", "thread", "workspace", "community",
    "company", "firm", "startup", "conference", "webinar", "offsite", "all-hands", "summit",
    "meetup", "party"})
# "Lee joined the company": a company, but not which one.
UNNAMED_COMPANY = frozenset({"company", "firm", "startup"})


def joined_conversation(news: re.Match[str]) -> str | None:
    """The log line for "Lee joined the call" (a `NEW_COMPANY` match): "Lee call", as "Dana
    joined us for lunch" is "Dana lunch". None when what was joined is not a conversation:
    a company ("Lee joined Globex") or a group ("Priya joined the team")."""
    if news.group("said").split()[-1].lower() != "joined":
        return None
    words = _tokens(news.group("company"))
    day: list[str] = []
    if words and (whose := POSSESSIVE_DAY.match(words[0])) is not None:
        day, words = [whose.group("day")], words[1:]
    elif words and words[0].lower() in _DETERMINERS:
        words = words[1:]
    elif len(words) != 1 or words[0].lower() not in _BARE_JOINABLE:
        return None  # "Lee joined Acme Corp", "Lee joined Zoom": a company's name
    # The kind may follow a word or two that only say which ("the weekly sync", "the Q3
    # planning call"); those are not what was talked about, so they are left out.
    for start in range(min(len(words), 3)):
        found = _kind_at(words, start)
        if found is None:
            continue
        kind, size = found
        rest = words[start + size:]
        if _OCCASIONS.get(kind, kind) not in _JOINABLE_KINDS or (
                rest and rest[-1].lower() in _GROUP_WORDS):
            return None  # "the coffee club", "the lunch crew": a group
        while rest and rest[-1].lower().strip(".,!") in _JOINING_MANNER:
            rest = rest[:-1]
        while rest and rest[0].lower() in _JOINING_MANNER - {"for", "at", "a"}:
            rest = rest[1:]
        return " ".join([news.group("name"), kind, *rest, *day])
    return None


def names_a_group(joined: str) -> bool:
    """Whether what someone joined is a group or a gathering ("the team", "our board", "the
    conference"): no company to set and no conversation to log."""
    words = joined.lower().split()
    return bool(words) and words[-1].strip(".,!") in _GROUP_WORDS and (
        len(words) == 1 or words[0] in _DETERMINERS)


def reminder_as(verb: str) -> Callable[[str, date], AddNote | CommandError]:
    """The reminder parser for a phrase that starts with what to do ("ask Priya ...",
    "follow up with Lee on Friday ...")."""

    def parse(rest: str, today: date) -> AddNote | CommandError:
        return parse_reminder(f"{verb} {rest}", today)

    return parse


def every_or_reminder(verb: str) -> Callable[[str, date], SetCadence | AddNote | CommandError]:
    """"talk to Sam every month" sets a rhythm; "talk to Sam on Friday" is a reminder."""

    def parse(rest: str, today: date) -> SetCadence | AddNote | CommandError:
        tokens = _tokens(rest)
        weekly = _EVERY_WEEKDAY.search(rest)
        if weekly is not None:
            # A rhythm counts from the last conversation, never from a weekday: neither a
            # rhythm nor one reminder would be what "every Friday" means, so ask.
            who = rest[:weekly.start()].strip() or "them"
            weeks = "2 weeks" if " other " in weekly.group(0).lower() else "1 week"
            return CommandError(
                f"A rhythm counts from your last conversation, not from a day of the week. "
                f"Say “every {who} {weeks}” to be nudged {weeks.replace('1 week', 'a week')} "
                f"after you last talked, or "
                f"“remind me to {verb} {who} on {weekly.group(1).capitalize()}” for once.",
                "every")
        rhythm = _cadence_at_end(tokens)
        if rhythm is not None:
            # "… next week", "… in 2 weeks" end in a rhythm's words but name a day.
            day, before = _trailing_day(tokens, today=today, direction="future")
            if day is None or len(tokens) - len(before) <= rhythm[1]:
                return parse_every(rest, today)
        return parse_reminder(f"{verb} {rest}", today)

    return parse


# What a rhythm is said with after "remind me to" ("… talk to Lee every 3 weeks"); each is
# also a reminder's verb, so "remind me to talk to Lee on Friday" stays one.
_RHYTHM_VERBS = ("talk to", "check in with", "catch up with", "see")
# "remind me every 2 weeks to check in with Mei": the rhythm said first.
_EVERY_FIRST = re.compile(r"^(?:to\s+)?(?P<every>every\s+.+?)\s+to\s+(?P<verb>" +
                          "|".join(verb.replace(" ", r"\s+") for verb in _RHYTHM_VERBS) +
                          r")\s+(?P<who>\S.*)$", re.IGNORECASE)


def reminder_or_every(rest: str, today: date) -> SetCadence | AddNote | CommandError:
    """"remind me to talk to Lee every 3 weeks" sets a rhythm, as "talk to Lee every 3 weeks"
    does; "remind me to talk to Lee on Friday" and every other reminder stay reminders."""
    first = _EVERY_FIRST.match(" ".join(rest.split()))
    if first is not None:
        verb = " ".join(first.group("verb").lower().split())
        return every_or_reminder(verb)(f"{first.group('who')} {first.group('every')}", today)
    words = rest.split()
    if words and words[0].lower() == "to":
        words = words[1:]
    lowered = [word.lower() for word in words]
    for verb in _RHYTHM_VERBS:
        length = len(verb.split())
        if lowered[:length] == verb.split() and len(words) > length:
            return every_or_reminder(verb)(" ".join(words[length:]), today)
    return parse_reminder(rest, today)


# "… every Friday", "… each monday", "… every other Thursday", "… on Fridays".
_EVERY_WEEKDAY = re.compile(
    r"\s(?:(?:every|each)(?:\s+other)?\s+|on\s+(?=\w+days\b))"
    r"((?:mon|tues|tue|wednes|wed|thurs|thu|fri|satur|sat|sun)(?:day)?)s?[.!]?\s*$",
    re.IGNORECASE)


_ADJECTIVES = ("quick", "short", "long", "brief", "great", "good", "nice", "lovely", "a", "an")
# Words after a kind that name the same thing: "coffee catch-up", "lunch meeting".
_KIND_NOUNS = ("catch-up", "catchup", "break", "meeting", "date", "chat", "session")


def from_kind(text: str) -> str | None:
    """The words from how you talked on ("a quick lunch yesterday" -> "lunch yesterday"),
    or None when they do not start with it after an adjective or two."""
    tokens = _tokens(text)
    index = 0
    while index < len(tokens) and tokens[index].lower() in _ADJECTIVES:
        index += 1
    return " ".join(tokens[index:]) if _kind_at(tokens, index) is not None else None


def starts_with_kind(tokens: list[str]) -> bool:
    """"phone call with Ana", "quick call with Lee", "coffee w/ Marco": a log line that starts
    with how you talked."""
    index = 0
    while index < len(tokens) and tokens[index].lower() in _ADJECTIVES:
        index += 1
    found = _kind_at(tokens, index)
    if found is None:
        return False
    after = index + found[1]
    if after < len(tokens) and tokens[after].lower() in _KIND_NOUNS:
        after += 1
    return after < len(tokens) and tokens[after].lower() in ("with", "w/", "w")


def reach_or_reminder(verb: str
                      ) -> Callable[[str, date], Log | LogTogether | AddNote | CommandError]:
    """"call Lee tomorrow", "email Lee on Friday about the renewal": a reminder to, as "remind
    me to call Lee tomorrow" is; "call with Lee yesterday" logs one. Said with no day ("call
    Lee"), it could be either: ask."""
    # The kind a conversation that way is logged as ("text" a message); "ping", no kind of
    # its own, is one too.
    kind = _KIND_SYNONYMS.get(verb, "message")

    def parse(rest: str, today: date) -> Log | LogTogether | AddNote | CommandError:
        tokens = _tokens(rest)
        if not tokens:
            return CommandError(f"Who? “{verb} Lee on Friday” reminds you to; “log Lee {kind}” "
                                "records one you had.", "log")
        if starts_with_kind([verb, *tokens]):
            # "call with Lee yesterday", "phone call w/ Lee": how you talked, then who.
            return parse_kind_first(f"{verb} {rest}", today)
        reminder = parse_reminder(f"{verb} {rest}", today)
        if isinstance(reminder, AddNote) and reminder.follow_up_on is not None:
            return reminder
        colon = _name_colon(tokens)
        if colon is not None:
            who = " ".join(tokens[:colon + 1])[:-1]  # "message Dana: congrats": Dana
        else:
            who = " ".join(tokens[:2]) if len(tokens) > 1 and tokens[1][:1].isupper() \
                else tokens[0]
        return CommandError(f"Did you talk to {who}? “log {who} {kind}” records it. Or to be "
                            f"reminded: “{verb} {who} on Friday”.", "log")

    return parse


def parse_kind_first(rest: str, today: date) -> Log | LogTogether | CommandError:
    """A log line that starts with the kind: adjectives go, "w/" reads as "with"."""
    tokens = _tokens(rest)
    words = ["with" if t.lower() in ("w/", "w") else t for t in tokens]
    return parse_log(" ".join(words), today)
