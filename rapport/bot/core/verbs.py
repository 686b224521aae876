"""The command table: every verb once, with its usage, parser, handler and help.

Adding a verb is one `Verb` entry here plus its handler. Text goes through `parse_command`;
forms and buttons build the typed command themselves and hand it to `Rapport.execute`, which
finds the handler here by the command's type.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from rapport.bot.core import (
    admin,
    calendars,
    chat_capture,
    corrections,
    data_rights,
    goals,
    journal,
    meetings,
    notes,
    nudges,
    onboarding,
    overview,
    people,
    person_fields,
    preferences,
    profile,
    recent,
    settings_said,
    suggestions,
)
from rapport.bot.core import commands as c
from rapport.bot.core.context import Directory, Turn, UserContext
from rapport.bot.core.dates import parse_day, parse_duration_days
from rapport.bot.core.views import HelpView, Reply, error

if TYPE_CHECKING:
    from rapport.bot.core.rapport import Rapport

C = TypeVar("C")
Handler = Callable[[Turn, C], Reply]
# The directory names @mentioned accounts (and says which are no person) for handlers that
# look someone up outside `handle`'s unit of work (`draft`).
AsyncHandler = Callable[["Rapport", UserContext, C, Directory | None], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Verb(Generic[C]):
    """One verb: how it reads, what it does, how help explains it.

    `handle` runs in one unit of work (`writes=False`: a read-only one). `handle_async` is for
    the few verbs that call something slow besides the database (an AI provider) or nothing
    at all (help).
    """

    name: str
    command: type[C]
    usage: str
    summary: str
    parse: Callable[[str, date], C | c.CommandError]
    handle: Handler[C] | None = None
    handle_async: AsyncHandler[C] | None = None
    writes: bool = True
    examples: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    # How people say the same thing without the verb: (leading words, their parser), e.g.
    # ("talked to", parse_log) for "talked to Lee today". The longest match wins.
    phrases: tuple[tuple[str, Callable[[str, date], Any]], ...] = ()
    # Other command types this verb's handler runs (`edit t7` is an EditTouch).
    also: tuple[type, ...] = ()
    # Workspace admins only: the platform is asked (`Admins`) before the handler runs.
    admin_only: bool = False
    # Other command types this verb reads, each with its own async handler
    # (`settings capture slack on` asks the platform for a consent link).
    also_async: tuple[tuple[type, AsyncHandler[Any]], ...] = ()

    def async_handler(self, command: object) -> AsyncHandler[Any] | None:
        """The async handler for `command`, or None when `handle` runs it."""
        for kind, handler in self.also_async:
            if isinstance(command, kind):
                return handler
        return self.handle_async


async def _help(core: Rapport, ctx: UserContext, command: c.Help,
                directory: Directory | None) -> Reply:
    del core, ctx, directory
    if command.small_talk == "thanks":
        return Reply("You're welcome!")
    if command.small_talk == "hello":
        return Reply("Hi! Tell me after you talk to someone (“log Dana: coffee, her trip”), "
                     "ask what is due (“due”), or type “help” for everything I can do.")
    return Reply(help_text(command.topic),
                 view=HelpView(command.topic, onboarding.PRIVACY_NOTICE))


async def _import_in_chat(core: Rapport, ctx: UserContext, command: c.ImportFile,
                          directory: Directory | None) -> Reply:
    del directory  # nobody is named by @mention here
    # Reading a path on the server for a chat user would leak the server's files; the
    # console reads its own files before it gets here (rapport.bot.platforms.console).
    del core, ctx, command
    return error(data_rights.IMPORT_IN_CHAT)


_LOG_PHRASES: tuple[tuple[str, Callable[[str, date], Any]], ...] = (
    ("talked to", c.parse_log), ("talked with", c.parse_log), ("spoke to", c.parse_log),
    ("spoke with", c.parse_log), ("chatted with", c.parse_log),
    ("caught up with", c.parse_log), ("had", c.parse_log), ("grabbed", c.parse_log),
    ("met with", c.log_as("meeting")), ("met", c.log_as("meeting")),
    ("saw", c.log_as("in person")), ("called", c.log_as("call")),
    ("phoned", c.log_as("call")), ("rang", c.log_as("call")),
    ("emailed", c.log_as("email")), ("messaged", c.log_as("message")),
    ("texted", c.log_as("message")), ("pinged", c.log_as("message")),
    ("dm'd", c.log_as("message")), ("dmed", c.log_as("message")),
    ("lunch with", c.log_as("lunch")), ("coffee with", c.log_as("coffee")),
    ("dinner with", c.log_as("dinner")), ("call with", c.log_as("call")),
    # "hopped on a call with Ana", "jumped on a zoom with Marco": the kind comes first.
    ("hopped on", c.parse_log), ("jumped on", c.parse_log), ("got on", c.parse_log),
    ("bumped into", c.log_as("in person")), ("ran into", c.log_as("in person")),
)


def _show_guess(words: str) -> Callable[[str, date], c.ShowPerson | c.CommandError]:
    """`how's Dana?`: Dana's card when Dana is someone you know; otherwise the line was not
    about one of your people, and is answered (and treated by the draft editor) as such."""
    def parse(rest: str, today: date) -> c.ShowPerson | c.CommandError:
        unknown = _unknown(words.split()[0])
        shown = c.parse_show(rest, today)
        return c.CommandError(unknown) if isinstance(shown, c.CommandError) \
            else replace(shown, unknown=unknown)

    return parse

# What may follow a question about who is due: when, not whom ("who haven't I talked to
# lately?"); anything else is no such question.
_DUE_QUESTION_TAILS = frozenset({"", "lately", "recently", "in a while", "for a while",
                                 "in ages", "today", "this week", "next", "now", "yet",
                                 "for today", "for this week", "for the week", "coming up",
                                 "pending", "open", "waiting"})


def _question_tail(rest: str) -> str:
    """What follows a question's fixed words, as the tails below are written: lower case, one
    space between words, no end punctuation."""
    return " ".join(rest.lower().strip(" ?!.").split())


def _due_question(rest: str, today: date) -> c.ShowDue | c.CommandError:
    """`due`, `what is due this week?`, `who haven't I talked to lately?`, `who should I
    reach out to?`: the due list (which holds what is due now and the coming week)."""
    if _question_tail(rest) not in _DUE_QUESTION_TAILS:
        return c.CommandError("Say “due” to see who is due, or “show Dana” for one person.",
                              "due")
    return c.no_arguments(c.ShowDue, "due")("", today)


# "… in 2 months", "for over a month", "in more than 3 weeks": how long quiet counts.
_QUIET_FOR = re.compile(r"^(?:in|for)\s+(?:(?:over|more than|at least)\s+)?(?P<how_long>.+)$")


def _quiet_question(rest: str, today: date) -> c.ShowDue | c.CommandError:
    """`who haven't I talked to lately?`: the due list, and who you have gone longest
    without talking to, rhythm or not; `… in 2 months?`: those quiet that long."""
    said = _QUIET_FOR.match(_question_tail(rest))
    days = parse_duration_days(said.group("how_long")) if said is not None else None
    if days is not None:
        return c.ShowDue(quiet=True, quiet_days=days)
    asked = _due_question(rest, today)
    return c.ShowDue(quiet=True) if isinstance(asked, c.ShowDue) else asked


# What may follow a question about your people: nothing that picks some of them out.
_PEOPLE_QUESTION_TAILS = frozenset({"", "do i have", "have i got", "i have", "i know",
                                   "are there", "do i keep in touch with", "my people",
                                   "people", "my contacts", "contacts", "of them"})


def _people_question(rest: str, today: date) -> c.ShowPeople | c.CommandError:
    """`my people`, `how many people do I have?`, `show everyone`: the people list (a #tag
    after it lists that group)."""
    if _question_tail(rest) in _PEOPLE_QUESTION_TAILS:
        return c.ShowPeople()
    return c.parse_people(rest, today)


def _next_meeting(rest: str, today: date) -> c.ShowMeetings | c.CommandError:
    """"prep me", "next meeting": the next meeting alone; "prep me for tomorrow": a span."""
    return meetings.parse_meetings(rest or "next", today)


def _in_group(rest: str, today: date) -> c.ShowPeople | c.CommandError:
    """`who's in #clients?`, `who is tagged design`: the people of one tag."""
    del today
    words = rest.strip(" ?!.").split()
    tag = c.tag_name(words[0]) if len(words) == 1 else None
    if tag is None:
        return c.CommandError("Name one tag, for example “who's in #clients?”; “goals” lists "
                              "your tags.", "people")
    return c.ShowPeople(tag)


# "when is Lee's birthday?", "when's Dana's anniversary": the card, which lists the dates.
_WHEN_IS_DATE = re.compile(r"^(?P<name>.+?)(?:'s|’s|')\s+(?:work\s+)?(?:birthday|bday|b-day|"
                           r"anniversary)[\s?!.]*$", re.IGNORECASE)


def _when_is_date(rest: str, today: date) -> c.ShowPerson | c.CommandError:
    said = _WHEN_IS_DATE.match(rest.strip())
    if said is None:
        return c.CommandError("Ask “show Dana” to see someone's dates, or “due” for what is "
                              "coming up.", "show")
    return c.parse_show(said.group("name"), today)


# "what did Dana and I talk about?", "when did Lee and I last speak?": a question about the
# conversations with one person, which their card answers.
_WE_TALKED = re.compile(r"^(?P<name>\S+(?:\s+\S+){0,2}?)\s+and\s+(?:i|me)\s+(?:last\s+)?"
                        r"(?:talk|talked|chat|chatted|discuss|discussed|speak|spoke|meet|met|"
                        r"catch\s+up|caught\s+up|see|saw)\b[^?!.]*[\s?!.]*$", re.IGNORECASE)


def _we_talked(rest: str, today: date) -> c.ShowPerson | c.CommandError:
    said = _WE_TALKED.match(rest.strip())
    if said is None:
        # "what did Lee say about the offsite?": Lee's card has it, when it was noted.
        first = rest.split(" ", 1)[0]
        who = first if _NAME_WORD.match(first) and first[0].isupper() and first != "I" \
            else "Dana"
        return c.CommandError("To see what you talked about with someone, and when, ask "
                              f"“show {who}”; “search <words>” finds a note or "
                              "conversation by what it says.", "show")
    return c.parse_show(said.group("name"), today)


# What may end a question about one person after their name: "what did I talk to Sam
# about?", "when should I talk to Lee next?".
_AFTER_THE_NAME = re.compile(r"\s+(?:about|next|next time|again|due|last|lately|recently)$",
                             re.IGNORECASE)


def _show_or_group(rest: str, today: date) -> c.ShowPerson | c.ShowPeople | c.CommandError:
    """`show Dana`; `show #clients` lists the group."""
    text = rest.strip().rstrip("?!. ")
    if text.startswith("#") and len(text.split()) == 1 and (tag := c.tag_name(text)):
        return c.ShowPeople(tag)
    return c.parse_show(rest, today)


def _about_someone(rest: str, today: date) -> c.ShowPerson | c.CommandError:
    """The card of the person a question names, with the words after the name left off."""
    text = rest.strip().rstrip("?!. ")
    while (tail := _AFTER_THE_NAME.search(text)) is not None and tail.start() > 0:
        text = text[:tail.start()]
    return c.parse_show(text, today)


# Whose: "Lee's", and after an s the apostrophe alone ("James'"), as `commands._owner` reads it.
_WHOSE = r"(?:'s|’s|(?<=[sS])['’])"
# "what's Dana's email?", "what is Lee's daughter called": a detail of one person, on their
# card.
_WHOSE_DETAIL = re.compile(r"^(?P<name>[^\W\d_][\w.\-]*(?:\s[^\W\d_][\w.\-]*)?)" + _WHOSE
                           + r"\s+\S")


def _whose_detail(rest: str, today: date) -> c.ShowPerson | c.CommandError:
    said = _WHOSE_DETAIL.match(rest.strip())
    if said is None or said.group("name").lower() in _NOT_WHOSE:
        return c.CommandError("I didn't catch that. To see what Rapport knows about someone, "
                              "ask “show Dana”; “help” lists everything.", "show")
    return c.parse_show(said.group("name"), today)


# "who works at Acme?", "people at Initech": whoever's company it is (and notes and
# conversations that name it), as `search` finds them.
def _at_company(rest: str, today: date) -> c.Search | c.CommandError:
    company = rest.strip().rstrip("?!.").strip()
    if not company:
        return c.CommandError("At which company? For example “who works at Acme?”.", "search")
    return c.parse_search(company, today)


_NOTES_OF_LEAD = re.compile(r"^(?:on|about|for)\s+", re.IGNORECASE)


def _notes_of(rest: str, today: date) -> c.ShowPerson | c.AddNote | c.CommandError:
    """"notes Dana": Dana's card, which lists her notes; "notes" or "my notes" alone: where
    notes are (kept with each person, there is no list of all of them); "notes Dana: …" is
    a note to keep."""
    if ":" in rest:
        return c.parse_note(rest, today)
    rest = _NOTES_OF_LEAD.sub("", rest.strip())  # "notes on Dana", "my notes about Lee"
    if rest.rstrip("?!. ").lower() in ("", "all", "list", "please"):
        return c.CommandError("Notes are kept with each person: “show Dana” lists Dana's with "
                              "their handles (n3), “search <words>” finds one across everyone, "
                              "and “due” shows the follow-ups coming up.", "show")
    return c.parse_show(rest, today)


# What may follow "how am I doing" and the like: when, not what.
_STATS_QUESTION_TAILS = frozenset({"", "lately", "recently", "so far", "overall", "this week",
                                   "this month", "today", "these days"})
_GOALS_WORDS = frozenset({"goal", "goals", "my goal", "my goals", "the goals", "the goal"})


def _stats_question(rest: str, today: date
                    ) -> c.Stats | c.ShowGoals | c.ShowPerson | c.CommandError:
    """`how am I doing?`, `how's it going`: the stats; `… on my goals`: the goals; `… with
    Dana`: Dana's card."""
    tail = _question_tail(rest)
    if tail in _STATS_QUESTION_TAILS:
        return c.Stats()
    preposition, _, what = tail.partition(" ")
    if preposition in ("on", "with", "against", "toward", "towards", "for") \
            and what in _GOALS_WORDS:
        return c.ShowGoals()
    if preposition == "with" and what:
        return c.parse_show(rest.strip(" ?!.")[len(preposition):].strip(), today)
    return c.CommandError("Say “stats” for how it is going, or “goals” for your goals.", "stats")


def _goals_asked(tails: frozenset[str], hint: str
                 ) -> Callable[[str, date], c.ShowGoals | c.CommandError]:
    """A question the goals view answers when only `tails` follow its words."""
    def parse(rest: str, today: date) -> c.ShowGoals | c.CommandError:
        del today
        return c.ShowGoals() if _question_tail(rest) in tails else c.CommandError(hint, "goals")

    return parse


# `my goals`, `show me my goals`, `how are my goals going?`: the goals.
_goals_question = _goals_asked(
    frozenset({"", "going", "doing", "so far", "now", "this week", "look", "looking"}),
    "Say “goals” to see your goals, or “goal clients every month” to set one.")
# `what tags do I have?`, `my tags`: the goals, which list every tag and its people.
_tags_question = _goals_asked(
    frozenset({"", "do i have", "have i got", "are there", "do i use", "have i used", "exist",
               "i have"}),
    "“goals” lists your tags with how many people each has; “people #clients” lists one "
    "tag's people.")


TABLE: tuple[Verb[Any], ...] = (
    Verb("log", c.Log, "log <person> [when][: how, what you talked about]",
         "Log a conversation; the keep-in-touch clock restarts from the day it happened. "
         "Without am/pm, “at 3” is 3pm (1 to 6 are afternoon).",
         c.parse_log, people.log,
         examples=("log Dana coffee", "log Lee Park yesterday: call about the Q3 plan",
                   "log coffee with Dana yesterday", "talked to Lee today",
                   "met Priya for lunch on Monday", "log Dana and Lee lunch"),
         aliases=("logged",), phrases=_LOG_PHRASES, also=(c.LogTogether,)),
    Verb("note", c.AddNote, "note <person>: <something to remember> [after|on <date>]",
         "Remember something; with a date anywhere in it, a nudge to ask about it.",
         c.parse_note, notes.note,
         examples=("note Dana: hiking trip in Yosemite after Saturday",
                   "note Priya: her talk is next Thursday",
                   "remind me to ask Dana about the offsite next week"),
         aliases=("remember",),
         phrases=(("remind me to", c.reminder_or_every), ("remind me", c.reminder_or_every),
                  ("ask", c.reminder_as("ask")),
                  *((verb, c.reach_or_reminder(verb)) for verb in (
                      "call", "phone", "email", "text", "message", "ping", "dm")),
                  ("follow up with", c.reminder_as("follow up with")),
                  # "check in with Mei every 2 weeks" sets a rhythm; "… on Friday" reminds.
                  ("check in with", c.every_or_reminder("check in with")),
                  ("catch up with", c.every_or_reminder("catch up with")))),
    Verb("every", c.SetCadence, "every <person> <2 weeks|monthly|every other week|3 months|off>",
         "How often you want to talk to someone (months are calendar months).",
         c.parse_every, people.every,
         examples=("every Dana 2 weeks", "every Lee monthly", "every Priya quarterly"),
         phrases=(("talk to", c.every_or_reminder("talk to")),
                  ("keep in touch with", c.parse_every),
                  ("see", c.every_or_reminder("see")))),
    Verb("add", c.AddContact,
         "add <name>[, role] [colleague|client] [at <company>] [every <duration>|monthly] "
         "[#tag ...]",
         "Add someone to keep in touch with.", c.parse_add_tagged, goals.add_tagged,
         examples=("add Lee Park client at Acme every 6 weeks",
                   "add Hiro Tanaka, VP Sales at Umbrella, monthly", "add @dana colleague",
                   "add Lee Park client at Initech #clients")),
    Verb("show", c.ShowPerson, "show <person>",
         "Everything Rapport knows about someone, what to ask about first, with handles "
         "(n3, t7) to edit or delete.", _show_or_group, profile.show, writes=False,
         examples=("show Dana", "who is Lee?", "Dana?"), aliases=("who", "whois", "who's"),
         phrases=(*((words, c.parse_show) for words in (
             "tell me about", "what do i know about", "when did i last talk to",
             "what's new with", "whats new with", "what's up with", "whats up with",
             "what’s new with", "what’s up with",
             "when did i last talk with", "when did i last speak to", "when did i last see",
             "when did i last speak with", "how long since i talked to",
             "how long since i last talked to", "how long since i spoke to",
             "how long since i saw", "what did i talk about with",
             "what did we talk about with", "what did i discuss with",
             "what have i talked about with", "when did i talk to", "when did i talk with",
             "when did i last meet", "when did i last meet with",
             "when was the last time i talked to", "when was the last time i spoke to",
             "when was the last time i saw", "when did i last chat with",
             "what do you know about", "what do we know about", "what do you have on",
             "what do i have on", "what have you got on", "everything about",
             "everything you know about", "what's the latest with",
             "whats the latest with", "what’s the latest with",
             "how often do i talk to", "how often do i see", "how often do i speak to",
             "how often should i talk to", "how often do i talk with",
             "what's my rhythm with", "whats my rhythm with", "what is my rhythm with",
             "what did i note about", "what did i note on", "what notes do i have on",
             "what notes do i have about", "what notes do i have for")),
             *((words, _about_someone) for words in (
                 "what did i talk to", "what did i talk with", "what have i talked to",
                 "what have i talked with", "what did i speak to", "what did i speak with",
                 "what did i chat with",
                 "when should i talk to", "when should i next talk to",
                 "when should i reach out to", "when should i contact", "when should i ping",
                 "when should i call", "when should i see", "when do i talk to",
                 "when do i next talk to", "when's my next nudge about",
                 "when is my next nudge about", "whens my next nudge about",
                 "when’s my next nudge about", "when will you remind me about",
                 "when will i be reminded about", "is it time to talk to",
                 "do i need to talk to")),
             *((words, _notes_of) for words in ("notes", "my notes", "all my notes",
                                                "show my notes", "show notes")),
             *((words, _when_is_date) for words in ("when is", "when's", "whens", "when’s")),
             *((words, _we_talked) for words in ("what did", "what have", "when did",
                                                 "when have", "how long since")),
             *((words, _whose_detail) for words in ("what's", "whats", "what’s", "what is",
                                                    "where's", "where is")),
             # "How's the launch going?" is as likely a message to someone: a guess.
             *((words, _show_guess(words)) for words in ("how is", "how's", "how’s")))),
    Verb("search", c.Search, "search <words>",
         "Find people, notes and conversations, newest first.", c.parse_search,
         profile.search, writes=False, examples=("search hiking", "who works at Acme?"),
         aliases=("find",),
         phrases=tuple((words, _at_company) for words in (
             "who works at", "who else works at", "who works for", "who do i know at",
             "who's at", "who is at", "anyone at", "anybody at", "people at",
             "contacts at", "everyone at", "who at"))),
    Verb("meetings", c.ShowMeetings,
         "meetings [today|tomorrow|this week|next week|<day>|next]",
         "Your coming meetings with your people, from a connected calendar (default: the next "
         "7 days), each with what to know before it.", meetings.parse_meetings,
         meetings.meetings, writes=False,
         examples=("meetings", "meetings tomorrow", "prep for my next meeting",
                   "who am I meeting this week?"),
         aliases=("agenda",),
         phrases=(
             *((words, meetings.parse_meetings) for words in (
                 *(f"{lead}meetings" for lead in (
                     "my ", "my upcoming ", "upcoming ", "my coming ", "coming ", "show my ",
                     "show me my ", "list my ", "what ", "which ", "any ", "prep for my ",
                     "prepare for my ", "prep me for my ", "brief me on my ")),
                 *(f"{what} meetings {have}" for what in ("what", "which")
                   for have in ("do i have", "have i got", "are there", "are coming up")),
                 "do i have meetings", "do i have any meetings", "am i meeting anyone",
                 "who am i meeting", "who am i meeting with", "who am i seeing",
                 "who do i meet", "who do i meet with", "who will i meet",
                 "who will i meet with", "who do i have meetings with")),
             *((words, _next_meeting) for words in (
                 "next meeting", "my next meeting", "prep me", "brief me", "prepare me",
                 "prep for my next meeting", "prepare for my next meeting",
                 "brief me for my next meeting", "when is my next meeting",
                 "what is my next meeting", "who is my next meeting with",
                 "who am i meeting next"))),
         ),
    Verb("recent", c.ShowRecent,
         "recent [today|this week|last week|this month|10 days|since <date>]",
         "Who you talked to over a span (default: the last two weeks), newest first, with "
         "handles (t7) to edit or delete.", recent.parse_recent, recent.recent, writes=False,
         examples=("recent", "recent last week", "who did I talk to this week?",
                   "who have I met since Monday?"),
         aliases=("history",),
         phrases=tuple((words, recent.parse_recent) for words in (
             *(f"who {did} i {verb}" for did in ("did", "have")
               for verb in ("talk to", "talk with", "speak to", "speak with", "meet",
                            "meet with", "see", "chat with", "catch up with", "call",
                            "talked to", "talked with", "spoken to", "spoken with", "met",
                            "met with", "seen", "chatted with", "caught up with", "called")),
             "what did i log", "what have i logged", "who did i log",
             *(f"{lead}{thing}" for lead in ("", "my ", "show ", "show my ", "show me my ",
                                             "list ", "list my ", "recent ", "my recent ")
               for thing in ("conversations", "touchpoints", "history", "log")),
             "recent conversations"))),
    Verb("due", c.ShowDue, "due", "Who is due now and what is coming up.",
         _due_question, overview.due, writes=False, aliases=("status",),
         phrases=(*((words, _due_question) for words in (
             "what's due", "whats due", "what is due", "who's due", "who is due",
             "anything due", "what's next", "whats next",
             "who's overdue", "who is overdue", "whos overdue", "anyone overdue",
             "who should i reach out to", "who should i talk to",
             "who should i ping", "who do i need to talk to", "what's on my plate",
             "whats on my plate", "what’s on my plate", "what should i do",
             "anything for today", "anything on today", "what do i have today",
             # What people call the list: "my nudges", "any reminders?", "next nudge".
             *(f"{lead}{thing}" for lead in ("", "my ", "show ", "show my ", "show me my ",
                                             "any ", "upcoming ", "my upcoming ")
               for thing in ("nudges", "reminders")),
             "what nudges do i have", "what reminders do i have", "when's my next nudge",
             "when is my next nudge", "whens my next nudge", "when’s my next nudge",
             "what's my next nudge", "whats my next nudge", "when's the next nudge",
             "when is the next nudge", "next nudge", "my next nudge")),
             *((f"who {negation} {verb}", _quiet_question)
               for negation in ("haven't i", "havent i", "haven’t i", "have i not")
               for verb in ("talked to", "talked with", "spoken to", "spoken with", "seen",
                            "caught up with", "heard from")),
             *((words, _quiet_question) for words in (
                 "who have i lost touch with", "who did i lose touch with",
                 "who am i losing touch with", "who have i neglected",
                 "who am i neglecting", "who have i been neglecting")))),
    Verb("people", c.ShowPeople, "people [#tag]",
         "Everyone you keep in touch with, last touch and health.",
         c.parse_people, overview.people, writes=False,
         examples=("people", "people #clients"), aliases=("list", "contacts"),
         phrases=(*((words, _people_question) for words in (
             "my people", "my contacts", "how many people", "how many contacts",
             "who do i know", "who do i keep in touch with", "show everyone",
             "show everybody", "show all")),
             # "who's in #clients?", "who is tagged design": the group.
             *((f"{who} {how}", _in_group) for who in ("who's", "who is", "whos", "who’s",
                                                         "who else is", "everyone",
                                                         "everybody", "anyone", "people",
                                                         "show people", "list people")
               for how in ("in", "tagged", "in group", "in the group")))),
    Verb("snooze", c.Snooze, "snooze <person|#nudge> [1 day|1 week|2 hours|until <date>]",
         "Push a nudge back (default: 1 day).", c.parse_snooze, nudges.snooze,
         examples=("snooze Dana 1 week", "snooze #12 friday", "snooze #6 2 hours")),
    Verb("done", c.Done, "done <person|#nudge>[: what you talked about]",
         "You reached out: logs a conversation and closes the nudge.", c.parse_done,
         nudges.done, examples=("done Dana",)),
    Verb("dismiss", c.Dismiss, "dismiss <person|#nudge>", "Drop a nudge without logging anything.",
         c.parse_dismiss, nudges.dismiss, aliases=("skip",)),
    Verb("undo", c.Undo, "undo",
         "Reverse your last change (several steps deep); says exactly what it undid.",
         c.parse_undo, journal.undo, aliases=("oops",)),
    Verb("edit", c.EditNote,
         "edit <n3|t7>[ when][: new text [on <date>]] | edit the last note|conversation: …",
         "Correct one note or conversation (handles are shown by “show”).",
         c.parse_edit, corrections.edit, also=(c.EditTouch, c.EditNewest),
         examples=("edit n3: hiking trip in Tahoe on Saturday", "edit t7 yesterday: call",
                   "edit n3 no date", "edit my last conversation with Lee: call about Q3"),
         aliases=("fix", "change")),
    Verb("delete", c.DeleteEntry, "delete <n3|t7> | delete the last note|conversation",
         "Delete one note or conversation.",
         c.parse_delete, corrections.delete, examples=("delete t7", "delete the last note"),
         aliases=("remove",), also=(c.DeleteNewest,)),
    Verb("rename", c.Rename, "rename <person> to <new name>", "Correct someone's name.",
         c.parse_rename, corrections.rename, examples=("rename Dana Scully to Dana Mulder",)),
    Verb("set", c.SetField, person_fields.USAGE,
         "Correct one detail of a person, or their own settings: AI drafts for them, or "
         "sensitive (write personally).", person_fields.parse_set, person_fields.set_any,
         examples=(*(spec.example for spec in c.PERSON_FIELDS.values()), "set Dana ai off",
                   "set Dana sensitive"),
         also=(c.SetPersonField, c.NewCompany)),
    Verb("pause", c.Pause, "pause [until <date>|for <duration>]", "Stop all nudges for a while.",
         c.parse_pause, preferences.pause, examples=("pause until Monday", "pause for 2 weeks"),
         aliases=("mute",),
         phrases=tuple((words, c.parse_pause) for words in (
             "stop nudges", "stop nudging me", "stop reminders", "stop reminding me",
             "no nudges", "no reminders", "take a break"))),
    Verb("resume", c.Resume, "resume", "Start nudges again after a pause.",
         c.no_arguments(c.Resume, "resume"), preferences.resume, aliases=("unpause",)),
    Verb("settings", c.Settings, c.SETTINGS_USAGE,
         "Show or change when and how Rapport nudges you, briefs you before meetings "
         "(prep) and logs your Slack DMs (capture).", c.parse_settings,
         preferences.settings,
         examples=("settings window 8:30-16:00", "settings tz Europe/Berlin",
                   "settings prep 1h", "settings capture slack on"),
         aliases=("config", "setting"), also_async=((c.CaptureChat, chat_capture.capture),),
         phrases=settings_said.SAID),
    Verb("draft", c.Draft, "draft <person|#nudge>", "Get a draft message you edit before sending.",
         c.parse_draft, handle_async=nudges.draft),
    Verb("date", c.SetDate, "date <person> birthday|anniversary <month day [year]|off>",
         "Remember a yearly date; you get a nudge a few days before.", c.parse_date,
         notes.set_date, examples=("date Dana birthday May 4",
                                   "date Lee anniversary March 1 2019")),
    Verb("stats", c.Stats, "stats", "How it is going: touchpoints, nudges acted on, health.",
         c.no_arguments(c.Stats, "stats"), overview.stats, writes=False,
         phrases=tuple((words, _stats_question) for words in (
             "how am i doing", "how are we doing", "how's it going", "hows it going",
             "how’s it going", "how is it going", "how are things", "how are things going",
             "my stats", "show my stats", "show me my stats", "show stats"))),
    Verb("export", c.Export, "export",
         "Everything Rapport stores about your relationships, as JSON.",
         c.no_arguments(c.Export, "export"), handle_async=data_rights.export),
    Verb("import", c.ImportFile, "import <contacts.csv|contacts.vcf> [dry run]",
         "Bring contacts in from a CSV or vCard file, all or nothing (console; in Slack and "
         "Teams, send the file to Rapport in your chat with it instead).",
         c.parse_import, handle_async=_import_in_chat,
         examples=("import ~/contacts.csv dry run",)),
    Verb("forget", c.Forget, "forget <person> [confirm] | forget me [confirm]",
         "Delete a contact with everything about them, or all your data (asks first).",
         c.parse_forget, data_rights.forget, examples=("forget Lee Park confirm",)),
    Verb("connect", c.Connect, "connect calendar [google|microsoft]",
         "Let Rapport log your meetings with your people (read-only; who and when only).",
         c.parse_connect, handle_async=calendars.connect,
         examples=("connect calendar", "connect google calendar")),
    Verb("disconnect", c.Disconnect, "disconnect calendar [google|microsoft]",
         "Stop reading your calendar and delete its tokens.", c.parse_disconnect,
         handle_async=calendars.disconnect),
    Verb("tag", c.TagPerson, "tag <person> <tag> | tag <person> #tag #tag",
         "Put people in groups (“clients”, “team”) to set goals for them.", c.parse_tag,
         goals.tag, examples=("tag Lee clients", "tag Lee Park #clients #emea")),
    Verb("untag", c.UntagPerson, "untag <person> <tag>", "Take a tag off someone.",
         c.parse_untag, goals.untag, examples=("untag Lee clients",)),
    Verb("goal", c.SetGoal, "goal <tag|person> every <duration> | goal <tag> off",
         "How often to talk to everyone in a group (their own rhythm wins), or to one person.",
         c.parse_goal, goals.goal,
         examples=("goal clients every month", "goal team every 2 weeks",
                   "goal Dana every 2 weeks")),
    Verb("goals", c.ShowGoals, "goals",
         "Your goals and how close you are: now and over the last 8 weeks.",
         c.no_arguments(c.ShowGoals, "goals"), goals.show_goals, writes=False,
         phrases=(*((words, _goals_question) for words in (
             "my goals", "show my goals", "show me my goals", "what are my goals",
             "how are my goals", "how are my goals doing", "how are my goals going",
             "how're my goals")),
             # Every tag is on it, with or without a goal.
             *((words, _tags_question) for words in (
                 "tags", "my tags", "show tags", "show my tags", "list tags", "list my tags",
                 "what tags", "which tags", "all tags", "all my tags", "my groups",
                 "what groups", "which groups", "show my groups")))),
    Verb("suggestions", c.ShowSuggestions, "suggestions [on|off <kind>]",
         "Changes Rapport suggests from your history, each with its reason.",
         c.parse_suggestions, suggestions.show, examples=("suggestions",
                                                          "suggestions on window")),
    Verb("accept", c.AnswerSuggestion, "accept <suggestion number>",
         "Yes: make the change a suggestion proposes (for someone you met: Add).",
         c.answer_parser("accept"), suggestions.answer, examples=("accept 3",)),
    Verb("keep", c.AnswerSuggestion, "keep <suggestion number>",
         "No: keep things as they are (for someone you met: Not now).",
         c.answer_parser("keep"), suggestions.answer),
    Verb("silence", c.AnswerSuggestion, "silence <suggestion number>",
         "No, and no more suggestions of that kind (for someone you met: Never, for that "
         "person only).", c.answer_parser("silence"), suggestions.answer),
    Verb("admin", c.Admin, c.ADMIN_USAGE,
         "Workspace admins only: AI drafts, the disclosure line and retention for everyone, "
         "the team report (aggregates, no one's contacts), or deleting the workspace's data.",
         c.parse_admin, handle_async=admin.admin, admin_only=True,
         examples=("admin", "admin ai off", "admin disclosure required",
                   "admin retention 12 months", "admin report", "admin purge")),
    Verb("help", c.Help, "help [command]", "This list, or the details of one command.",
         c.parse_help, handle_async=_help, aliases=("?",)),
)

SPECS: dict[str, Verb[Any]] = {verb.name: verb for verb in TABLE}
VERBS = tuple(SPECS)
_BY_NAME: dict[str, Verb[Any]] = {
    **SPECS, **{alias: verb for verb in TABLE for alias in verb.aliases}}
_BY_COMMAND: dict[type, Verb[Any]] = {
    command: verb for verb in TABLE
    for command in (verb.command, *verb.also, *(kind for kind, _ in verb.also_async))}
# Phrases by their words, longest first.
_PHRASES: tuple[tuple[tuple[str, ...], Verb[Any], Callable[[str, date], Any]], ...] = tuple(
    sorted(((tuple(words.split()), verb, parse) for verb in TABLE
            for words, parse in verb.phrases), key=lambda entry: -len(entry[0])))
# The same, by their first word: a line is checked against the few phrases its first word
# starts, not against every phrase (the table grows; the hot path must not).
_PHRASES_BY_FIRST_WORD: dict[str, tuple[tuple[tuple[str, ...], Verb[Any],
                                              Callable[[str, date], Any]], ...]] = {
    first: tuple(entry for entry in _PHRASES if entry[0][0] == first)
    for first in dict.fromkeys(entry[0][0] for entry in _PHRASES)}
# Words a typo may be meant as: verbs, aliases and the first word of each phrase.
_KNOWN_WORDS = tuple(dict.fromkeys([*_BY_NAME, *(entry[0][0] for entry in _PHRASES)]))


def verb_for(command: object) -> Verb[Any]:
    """The table entry that handles a typed command."""
    return _BY_COMMAND[type(command)]


# What people ask help about that is not a verb of its own: the verb that does it.
HELP_TOPICS = {"calendar": "connect", "calendars": "connect", "google": "connect",
               "outlook": "connect", "microsoft": "connect", "prep": "settings",
               "brief": "settings", "briefs": "settings", "capture": "settings",
               "slack": "settings", "dms": "settings", "offers": "suggestions"}


def help_text(topic: str | None = None) -> str:
    """Help generated from the table: every verb, or one verb with examples."""
    if topic:
        words = topic.lower().split()
        verb = _BY_NAME.get(" ".join(words)) or next(
            (_BY_NAME.get(HELP_TOPICS.get(word, word)) for word in words[:2]
             if _BY_NAME.get(HELP_TOPICS.get(word, word)) is not None), None)
        if verb is None:
            return f"There is no command called “{c.clip(topic)}”.\n" + help_text()
        lines = [verb.usage, verb.summary]
        lines += [f"  e.g. {example}" for example in verb.examples]
        if verb.phrases:
            lines.append("Also understood: " + ", ".join(
                f"“{words} …”" for words, _ in verb.phrases[:8]) + ".")
        return "\n".join(lines)
    lines = ["Rapport keeps your work relationships warm. Commands:"]
    lines += [f"  {verb.usage}\n      {verb.summary}" for verb in TABLE]
    lines.append("Name people by @mention, by first name, or in \"quotes\". "
                 "“Dana?” shows Dana; “undo” reverses your last change.")
    return "\n".join(lines)


_WITH = {"w/": "with", "w": "with"}


def parse_command(text: str, *, today: date) -> c.Command | c.CommandError:
    """Turn one line of user text into a command; never raises."""
    if len(text) > c.MAX_COMMAND_CHARS:
        return c.CommandError(f"That is too long for me ({len(text):,} characters; at most "
                              f"{c.MAX_COMMAND_CHARS:,}).")
    cleaned = c.clean_text(text)
    if cleaned.lower().startswith("/rapport"):
        cleaned = cleaned[len("/rapport"):].strip()
    cleaned = _unquoted(cleaned)
    if not cleaned:
        return _with_usage(c.CommandError(
            "Type a command, for example “due”, or “help” to see them all.", "help"))
    if (alone := c.mention_alone(cleaned)) is not None:
        return alone  # `/rapport @Dana`, or a DM that only mentions her: her card
    cleaned = _without_filler(cleaned)
    word, _, rest = cleaned.partition(" ")
    verb = _BY_NAME.get(word.lower()) or _BY_NAME.get(word.lower().rstrip("?!.,:"))
    parse: Callable[[str, date], Any] | None = verb.parse if verb is not None else None
    words = cleaned.split()
    # "caught up w/ Marco": the short "with" of chat, only where a phrase is matched.
    lowered = [_WITH.get(w.lower(), w.lower().strip("?!.,")) for w in words]
    for phrase, phrase_verb, phrase_parse in _PHRASES_BY_FIRST_WORD.get(
            lowered[0] if lowered else "", ()):
        if tuple(lowered[:len(phrase)]) == phrase and (verb is None or len(phrase) > 1):
            verb, parse = phrase_verb, phrase_parse
            rest = " ".join(words[len(phrase):])
            break
    if verb is None:
        verb, parse, rest = _name_first(cleaned, words)
    if verb is None or parse is None:
        talk = _small_talk(cleaned)
        if talk:
            return c.Help(small_talk=talk)
        if (mentioned := c.mention_first(cleaned)) is not None:
            return _with_usage(mentioned)
        unknown = _unknown(word)
        # A close typo of a command ("ntoe Dana: …") is the likelier meaning, unless the word
        # is capitalised as names are and commands rarely are ("Lee is away", not "see").
        news = _news_of_someone(cleaned) \
            if word[:1].isupper() or _SUGGESTED not in unknown else None
        return c.CommandError(news if news is not None else unknown)
    try:
        parsed = parse(rest.strip(), today)
    except (ValueError, OverflowError, IndexError):
        # A date library or a corner of the grammar choked: answer, never raise.
        parsed = c.CommandError("I could not read that.", verb.name)
    return _with_usage(parsed) if isinstance(parsed, c.CommandError) else parsed


# A whole line in one pair of quotes: pasted from a doc or a chat ("“log Dana coffee”").
_QUOTED_LINE = re.compile(r'^(?:"([^"]+)"|“([^“”]+)”|‘([^‘’]+)’|`([^`]+)`)[.!]?$')


def _unquoted(text: str) -> str:
    """The line without the quotes around all of it; quotes inside it stay (a quoted name)."""
    match = _QUOTED_LINE.match(text)
    if match is None:
        return text
    return next(group for group in match.groups() if group is not None).strip()


_HELLO = ("hi", "hello", "hey", "hiya", "heya", "howdy", "yo", "hi there", "hello there",
          "hey there", "good morning", "good afternoon", "good evening", "morning", "gm")
_THANKS = ("thanks", "thank you", "thx", "ty", "cheers", "thanks a lot", "thank you so much",
           "thanks so much", "great thanks", "great, thanks", "perfect thanks", "perfect, thanks",
           "ok thanks", "ok, thanks", "awesome thanks", "awesome, thanks", "nice, thanks")


def _small_talk(text: str) -> Literal["hello", "thanks"] | None:
    """"Hi!", "thanks 🙏": what a person says to a bot between commands."""
    words = "".join(ch for ch in text.lower() if ch.isalnum() or ch in " ,'").strip(" ,")
    words = " ".join(words.split())
    if words in _HELLO:
        return "hello"
    if words in _THANKS:
        return "thanks"
    return None


# Words people put before a command ("I talked to Lee", "just had coffee with Dana").
_FILLER = ("i", "i've", "ive", "i have", "i just", "just", "we", "today i", "ok", "okay",
           "please", "hey rapport", "rapport", "let's", "lets", "let’s", "i need to",
           "need to", "i should", "should", "i must", "i want to", "want to", "i'd like to",
           "i’d like to", "id like to", "i would like to", "i wanna", "wanna")
# Longest first: "i just" is tried before "i".
_FILLER_LONGEST_FIRST = tuple(sorted(_FILLER, key=len, reverse=True))


def _without_filler(text: str) -> str:
    """The line without a leading "I" or "just" when a command or phrase follows it."""
    lowered = text.lower()
    for filler in _FILLER_LONGEST_FIRST:
        if lowered.startswith(filler + " "):
            rest = text[len(filler) + 1:].lstrip(" ,")
            first = rest.split(" ", 1)[0].lower()
            if first in _BY_NAME or first in _PHRASES_BY_FIRST_WORD:
                return _without_filler(rest)
    return text


_CALLED_ME = re.compile(r"^(?P<name>.{1,100}?)\s+(?P<how>called|phoned|rang|emailed|messaged|"
                        r"texted|pinged|dm'd|dmed|visited|stopped by)\s+(?:me\b)?(?P<rest>.*)$",
                        re.IGNORECASE)
# Before "called", words that make it a name given, not a call: "Dana's daughter is called
# Maya", "the project was called Atlas".
_NOT_A_CALLER = re.compile(r"(?:'s|’s|\bis|\bwas|\bare|\bwere|\bbe|\bgets?|\bgot)$",
                           re.IGNORECASE)
# "Dana joined us for lunch", "Lee joined me for coffee yesterday": a conversation.
_JOINED_ME = re.compile(r"^(?P<name>.{1,100}?)\s+(?:has\s+)?joined\s+(?:me|us)\s+"
                        r"(?:for|on|at|over)\s+(?:a\s+|an\s+|the\s+)?(?P<what>\S.*)$",
                        re.IGNORECASE)
# "Lee and I had lunch", "Dana and I caught up yesterday": a conversation with one person.
_AND_I = re.compile(r"^(?P<name>\S+(?:\s+\S+)?)\s+and\s+I\s+(?P<how>had|grabbed|caught\s+up|"
                    r"talked|spoke|chatted|met(?:\s+up)?)\b\s*(?P<rest>.*)$", re.IGNORECASE)
_AND_I_KIND = {"had": "chat", "grabbed": "chat", "caught up": "chat", "talked": "chat",
               "spoke": "chat", "chatted": "chat", "met": "meeting", "met up": "meeting"}
# "Dana's kid started college", "Sam's last day is Friday": news about a person, a note.
_POSSESSIVE_NEWS = re.compile(r"^(?P<name>[^\W\d_][\w.\-]*(?:\s[^\W\d_][\w.\-]*)?)" + _WHOSE
                              + r"\s+(?P<news>\S+(?:\s+\S+)+)$")
_HOW = {"called": "call", "phoned": "call", "rang": "call", "emailed": "email",
        "messaged": "message", "texted": "message", "pinged": "message", "dm'd": "message",
        "dmed": "message", "visited": "in person", "stopped by": "in person"}
# Whose detail, before its "'s": a name of one or two words, or one joined as "Tom & Jerry"
# is, which is someone's whole name or two people where one goes: the parser marks it
# (`PersonRef.several`) and the lookup takes it only as someone's whole name, never as two.
_OWNER_WORDS = r"\S+(?:\s\S+)?"
_JOINED_OWNER = rf"{_OWNER_WORDS}\s(?:and|&|\+)\s{_OWNER_WORDS}"
# "Dana's birthday is May 4", and typed in haste "Dana birthday May 4" (not "my birthday");
# joined names with their "'s" only ("Tom & Jerry's birthday"; "Dana and Lee birthday party"
# is no date of anyone's).
_POSSESSIVE_DATE = re.compile(rf"^(?!(?:my|our|your|his|her|their|the|a|an|its)\s)"
                              rf"(?:{_OWNER_WORDS}(?:'s|’s)?|{_JOINED_OWNER}(?:'s|’s))\s+"
                              r"(?:work\s+)?(?:birthday|bday|b-day|anniversary)\b",
                              re.IGNORECASE)


# "Dana's email is …", "Tom & Jerry's company is Acme": only the words that name a detail
# and nothing else ("Dana's new job is tough" is a remark, not her role).
_POSSESSIVE_FIELD = re.compile(
    rf"^(?:{_JOINED_OWNER}|{_OWNER_WORDS})" + _WHOSE + r"\s+(?P<new>(?:new\s+)?)(?:company|"
    r"employer|email|e-mail|role|title)(?:\s+(?:name|address))?(?:\s+is|\s*[=:])\s+\S",
    re.IGNORECASE)


# "Dana's name is Dana Mulder", "Lee's name is actually Lee Parker": a rename, when the new
# name is written as names are (each word capitalised); "Dana's name is hard to spell" is a
# remark about it.
_POSSESSIVE_NAME = re.compile(
    r"^(?P<owner>[^\W\d_][\w.\-]*(?:\s[^\W\d_][\w.\-]*)?)" + _WHOSE + r"\s+(?:full\s+)?name\s+"
    r"is\s+(?:now\s+|actually\s+|really\s+)?(?P<new>[^\W\d_][\w'’.\-]*"
    r"(?:\s+[^\W\d_][\w'’.\-]*){0,3})[\s.!]*$", re.IGNORECASE)


# "Dana every 2 weeks", "Lee Park every other week": a name of up to three words, then the
# rhythm (`parse_every` must read it, or the line is something else: "Standup every Monday").
_NAME_EVERY = re.compile(r"^[^\W\d_][\w'’.\-]*(?:\s+[^\W\d_][\w'’.\-]*){0,2}\s+every\s+\S",
                         re.IGNORECASE)
# "Lee is a client", "Dana is my colleague": the kind, as `set Lee kind client` sets it.
_IS_A_KIND = re.compile(r"^(?P<name>[^\W\d_][\w'’.\-]*(?:\s+[^\W\d_][\w'’.\-]*)?)\s+is\s+"
                        r"(?:a|an|my|our)\s+(?P<kind>client|colleague)[\s.!]*$",
                        re.IGNORECASE)
# A word as names are typed: capitalised letters ("Dana", "O'Brien", "Jean-Luc").
_NAME_WORD = re.compile(r"^[^\W\d_][\w'’.\-]*$")


# Words before "'s" that are no one ("today's standup", "everyone's favourite").
_NOT_WHOSE = frozenset({"today", "yesterday", "tomorrow", "tonight", "everyone", "everybody",
                        "someone", "somebody", "nobody", "it", "that", "this", "there",
                        "here", "what", "who", "where", "when", "how", "let", "he", "she",
                        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                        "sunday", "week", "month", "year", "team", "company", "client"})


# Words that name one of a person's details ("Lee's role ..."), answered with `set`.
_DETAILS = frozenset({"company", "employer", "email", "e-mail", "role", "title", "kind"})
# "Sam's out today" is "Sam is out": a state of the moment, no note worth keeping.
_IS_NOT_NEWS = frozenset({"out", "off", "away", "sick", "in", "at", "here", "there", "late",
                          "not", "ok", "okay", "fine", "busy", "free", "around", "online",
                          "offline", "ooo", "on", "so", "very", "really", "just"})


def _ask_set_or_note(name: str, field: str) -> Callable[[str, date], c.CommandError]:
    """The answer to "Lee's role …" said without "is": which of the two was meant."""
    def parse(rest: str, today: date) -> c.CommandError:
        del rest, today
        return c.CommandError(f"To change {name}'s {field}, say “set {name} {field} …”; to "
                              f"remember something about it, “note {name}: …”.", "set")

    return parse


def _rhythm_said(name: str) -> Callable[[str, date], c.SetCadence | c.CommandError]:
    """"Lee's rhythm is every 6 weeks": the rhythm; a remark about it ("Lee's rhythm is too
    fast") says how to set one rather than keep it as a note."""
    def parse(rest: str, today: date) -> c.SetCadence | c.CommandError:
        said = c.parse_every(rest, today)
        if isinstance(said, c.SetCadence):
            return said
        return c.CommandError(f"To change how often you talk to {name}, say how often: "
                              f"“every {name} 6 weeks”, “every {name} monthly” or “every "
                              f"{name} off”.", "every")

    return parse


def _name_first(cleaned: str, words: list[str]
                ) -> tuple[Verb[Any] | None, Callable[[str, date], Any] | None, str]:
    """Lines that start with a name: "Lee called me yesterday" (a call), "Dana's birthday
    is May 4" (a date), "Dana?" or "Dana" (show Dana, when Dana is someone you know)."""
    if _POSSESSIVE_DATE.match(cleaned):
        return SPECS["date"], c.parse_date, cleaned
    if (named := _POSSESSIVE_NAME.match(cleaned)) is not None and \
            all(word[0].isupper() for word in named.group("new").split()):
        return SPECS["rename"], c.parse_rename, f"{named.group('owner')} to {named.group('new')}"
    if (field := _POSSESSIVE_FIELD.match(cleaned)) is not None:
        # "Dana's email is dana@acme.com", "Lee's new role is CTO": `set`, said as a fact.
        return SPECS["set"], SPECS["set"].parse, \
            f"{cleaned[:field.start('new')]}{cleaned[field.end('new'):]}".strip()
    if (news := c.NEW_COMPANY.match(cleaned)) is not None:
        if (talk := c.joined_conversation(news)) is not None:
            # "Lee joined the call": a conversation, as "Dana joined us for lunch" is.
            return SPECS["log"], SPECS["log"].parse, talk
        # "Lee moved to Initech", "Dana is now at Acme": `set`, said as news.
        return SPECS["set"], c.parse_new_company, cleaned
    if _NAME_EVERY.match(cleaned) is not None and \
            isinstance(c.parse_every(cleaned, date.min), c.SetCadence):
        # "Dana every 2 weeks": the rhythm said after the name, as `add` takes it.
        return SPECS["every"], c.parse_every, cleaned
    if (is_a := _IS_A_KIND.match(cleaned)) is not None:
        # "Lee is a client": `set Lee kind client`, said as a fact.
        return SPECS["set"], SPECS["set"].parse, \
            f"{is_a.group('name')} kind {is_a.group('kind').lower()}"
    joined = _JOINED_ME.match(cleaned)
    if joined is not None and len(joined.group("name").split()) <= 3:
        return SPECS["log"], SPECS["log"].parse, f"{joined.group('name')} {joined.group('what')}"
    if (both := _AND_I.match(cleaned)) is not None:
        how = " ".join(both.group("how").lower().split())
        # "Lee and I had a quick lunch"; not "Lee and I had planned to meet", which tells
        # of no conversation.
        said = c.from_kind(both.group("rest")) if how in ("had", "grabbed") \
            else both.group("rest")
        if said is not None:
            return SPECS["log"], c.log_as(_AND_I_KIND[how]), f"{both.group('name')} {said}"
    if c.starts_with_kind(words):
        return SPECS["log"], c.parse_kind_first, cleaned
    if len(words) > 3 and (whose := c.POSSESSIVE_DAY.match(words[0])) is not None \
            and c.starts_with_kind(words[1:]):
        # "Yesterday's call with Lee went well": the day the conversation happened, said as
        # whose it was.
        return SPECS["log"], _on_day(whose.group("day")), " ".join(words[1:])
    called = _CALLED_ME.match(cleaned)
    if called is not None and len(called.group("name").split()) <= 3 \
            and _NOT_A_CALLER.search(called.group("name")) is None:
        kind = _HOW[called.group("how").lower()]
        rest = f"{called.group('name')} {called.group('rest')}".strip()
        return SPECS["log"], c.log_as(kind), rest
    news = _POSSESSIVE_NEWS.match(cleaned)
    if news is not None and news.group("news").split()[0].lower() in c.RHYTHM_WORDS:
        # "Lee's rhythm should be monthly": `every`, said as a detail; never a note.
        return SPECS["every"], _rhythm_said(news.group("name")), cleaned
    if news is not None and not cleaned.endswith("?") \
            and news.group("name").lower() not in _NOT_WHOSE \
            and news.group("news").split()[0].lower() not in _IS_NOT_NEWS:
        detail = news.group("news").split()[0].lower()
        if detail in _DETAILS:
            # "Lee's role changed", "Lee's email lee@acme.com": a detail may be meant, or a
            # remark about it; a note would hide the one, `set` would guess at the other.
            return SPECS["set"], _ask_set_or_note(news.group("name"),
                                                  c.FIELD_ALIASES.get(detail, detail)), cleaned
        # Said of one person as a fact, not a question: a note about them.
        return SPECS["note"], SPECS["note"].parse, f"{news.group('name')}: {news.group('news')}"
    if _small_talk(cleaned) is not None:
        return None, None, cleaned  # "Thanks", "Hi" (capitalised as phones do): no names
    asked = cleaned.endswith("?") and len(words) <= 5
    capitalised = len(words) <= 3 and all(_NAME_WORD.match(w) and w[0].isupper()
                                          for w in words)
    # "dana" typed alone, as names are in chat: shown only when it is one of your people by
    # name; a near miss answers as the mistyped command it more likely is ("lgo").
    lowercase = len(words) == 1 and _NAME_WORD.match(words[0]) is not None
    if asked or capitalised or lowercase:
        # Only a guess that a name was meant: "Coffee soon?" names nobody and answers as the
        # unknown word it starts with, not as "I don't know anyone called Coffee soon".
        unknown = _unknown_name(words) or _unknown(words[0])
        exact = not (asked or capitalised)

        def show_if_known(rest: str, today: date) -> c.ShowPerson | c.CommandError:
            shown = c.parse_show(rest, today)
            if isinstance(shown, c.CommandError):
                return c.CommandError(unknown)
            return replace(shown, unknown=unknown, exact=exact)

        return SPECS["show"], show_if_known, cleaned
    return None, None, cleaned


def is_guess(command: object) -> bool:
    """Whether a parsed line only guessed at what was meant: a name typed alone ("Dana?")
    or small talk ("thanks!"). Such a line is also a plausible message to someone."""
    return (isinstance(command, c.ShowPerson) and command.unknown is not None) or (
        isinstance(command, c.Help) and command.small_talk is not None)


# "Lee is on vacation until Dec 10", "Lee got promoted", "Dana just had a baby": news of
# someone, which may be meant as a note, or only said.
_NEWS_OF_SOMEONE = re.compile(
    r"^(?P<name>[^\W\d_][\w.\-]*(?:\s[A-Z][\w.\-]*)?)(?:\s+(?:is|was|got|has|had|just|"
    r"will|started|left|became|prefers|likes|loves|hates|wants|needs)\b|" + _WHOSE + r"\s)\s*"
    r"(?P<news>.+?)[.!]?$")
_NAME_COLON = re.compile(r"^(?P<name>[^\W\d_][\w.\-]*(?:\s[^\W\d_][\w.\-]*){0,2}):\s*"
                         r"(?P<text>\S.*)$")
_NEWS_FILLER = re.compile(r"^(?:is|was|just)\s+", re.IGNORECASE)
# News that names a new title: "got promoted to CEO", "now VP of Sales", "became CTO" (a
# title is written capitalised; "now engaged" is no role).
_NEW_ROLE = re.compile(r"^(?:(?:got|was|has been|just got)\s+)?(?:promoted\s+to|now|became)\s+"
                       r"(?:the\s+|a\s+|an\s+|our\s+|their\s+)?(?:new\s+)?"
                       r"(?P<role>[A-Z][\w&/.\-]*(?:\s+[\w&/.\-]+){0,5})$")


def _on_day(day_words: str
            ) -> Callable[[str, date], c.Log | c.LogTogether | c.CommandError]:
    """A kind-first log line whose day was said before it ("yesterday's call with Lee")."""
    def on(logged: c.Log, day: date) -> c.Log:
        if logged.day is not None:
            return logged
        return replace(logged, day=day, alternatives=tuple(
            replace(other, day=day) if other.day is None else other
            for other in logged.alternatives))

    def parse(rest: str, today: date) -> c.Log | c.LogTogether | c.CommandError:
        day = parse_day(day_words, today=today, direction="past")
        logged = c.parse_kind_first(rest, today)
        if day is None or isinstance(logged, c.CommandError):
            return logged
        if isinstance(logged, c.LogTogether):
            return c.LogTogether(tuple(on(one, day) for one in logged.logs),
                                 whole=logged.whole and on(logged.whole, day))
        return on(logged, day)

    return parse


# Who a line may be about without being anyone's name ("I was at the offsite").
_PRONOUNS = frozenset({"i", "we", "you", "they", "me", "us", "my", "our", "your", "their",
                       "his", "her", "its", "the", "a", "an", "this", "that", "these", "those"})


def _nobody(name: str) -> bool:
    first = name.split()[0].lower()
    return first in _NOT_WHOSE or first in _PRONOUNS


def _news_of_someone(cleaned: str) -> str | None:
    """The answer to news said of someone that no rule reads: how to keep it as a note, which
    is likely what was meant; never a guess that stores it."""
    labelled = _NAME_COLON.match(cleaned)
    if labelled is not None and not _nobody(labelled.group("name")):
        # "Dana: loves hiking": something about Dana, to remember or from a conversation.
        name, text = labelled.group("name"), labelled.group("text")
        return (f"To remember it, say “note {name}: {text}”; if you talked, “log {name}: "
                f"{text}” logs the conversation with it.")
    said = _NEWS_OF_SOMEONE.match(cleaned)
    if said is None or _nobody(said.group("name")) or cleaned.endswith("?"):
        return None
    name = said.group("name")
    news = _NEWS_FILLER.sub("", cleaned[len(name):].strip().removeprefix("'s ")
                            .removeprefix("’s ").removeprefix("' ").removeprefix("’ ")
                            ).rstrip(".!")
    if not news:
        return None
    answer = (f"To remember that, say “note {name}: {news}” (a date in it gets you a reminder "
              f"to ask about it then).")
    role = _NEW_ROLE.match(news)
    if role is not None:
        # "Lee got promoted to CEO", "Dana is now VP of Sales": maybe news, maybe the role
        # the card should show; both ways said, neither guessed.
        answer += f" If it is {name}'s new role: “set {name} role {role.group('role')}”."
    return answer


_SUGGESTED = "Did you mean"


def _unknown_name(words: list[str]) -> str | None:
    """The answer to a name asked about or said in full that is nobody yet ("Dana?", "Dana
    Scully"), when its first word is no near miss of a command: the welcome and help promise
    that "Dana?" shows Dana, so "I don't know the command “dana?”" read as if names were not
    understood."""
    said = [word.rstrip("?!.,") for word in words]
    if len(said) == 1 and not words[0].endswith("?"):
        return None  # "Banana" alone, capitalised as phones type: more likely a command
    if not all(word and _NAME_WORD.match(word) and word[0].isupper() for word in said):
        return None
    if _unknown(said[0]).find(_SUGGESTED) >= 0 or said[0].lower() in _SENTENCE_STARTS:
        return None
    name = c.clip(" ".join(said))
    return (f"I don't know anyone called “{name}” yet. Add them with “add {name}”, or type "
            "“help” to see what I can do.")


def _unknown(word: str) -> str:
    """The answer to a word that is no command: the closest command when it looks like a
    typo ("lgo" -> "log"), never a guess that runs."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    typed = word.lower()
    if "<@" in typed:
        # Mention markup is no command, and echoed back it reads as code ("<@u0dana>").
        return ("I didn't catch that. Lines I understand look like “log Dana coffee”, "
                "“show Dana” or “due”; type “help” to see them all.")
    bare = typed.rstrip("?!.,")  # "lgo?" is as near "log" as "lgo" is
    match = process.extractOne(bare, _KNOWN_WORDS, scorer=OSA.normalized_similarity,
                               score_cutoff=0.6) if 2 <= len(bare) <= 20 else None
    if match is not None and match[0] != bare:
        suggestion = _BY_NAME[match[0]].name if match[0] in _BY_NAME else match[0]
        return (f"I don't know the command “{c.clip(typed)}”. {_SUGGESTED} “{suggestion}”? "
                "Type “help” to see what I can do.")
    if typed.strip(",.!?") in _SENTENCE_STARTS:
        # "I haven't talked to Lee in ages": a sentence, not a mistyped command.
        return ("I didn't catch that. Lines I understand look like “log Dana coffee”, "
                "“show Dana” or “due”; type “help” to see them all.")
    return (f"I don't know the command “{c.clip(typed)}”. Type “help” to see what I can "
            "do.")


# First words of a sentence, which no command starts with.
_SENTENCE_STARTS = frozenset({"i", "i'm", "im", "i’m", "i'd", "i’d", "i'll", "i’ll", "we",
                              "we're", "my", "our", "it", "it's", "its", "this", "that",
                              "there", "they", "he", "she", "you", "the", "a", "an", "so",
                              "but", "and", "well", "hmm", "can", "could", "would", "will",
                              "do", "does", "did", "is", "are", "was", "why", "what", "when",
                              "where", "how", "which"})


def _with_usage(problem: c.CommandError) -> c.CommandError:
    verb = SPECS.get(problem.verb or "")
    return replace(problem, usage=verb.usage) if verb is not None else problem


def warm_up() -> None:
    """Read a line of each kind once: dateparser's language data, rapidfuzz and the grammar
    are loaded before the first person types (see `rapport.bot.core.dates.warm_up`)."""
    from rapport.bot.core.dates import warm_up as warm_dates

    warm_dates()
    today = date.today()
    for line in ("lgo Dana", "note Dana: the offsite on June 12", "log coffee with Dana"):
        parse_command(line, today=today)
