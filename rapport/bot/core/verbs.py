"""The command table: every verb once, with its usage, parser, handler and help.

Adding a verb is one `Verb` entry here plus its handler. Text goes through `parse_command`;
forms and buttons build the typed command themselves and hand it to `Rapport.execute`, which
finds the handler here by the command's type.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from rapport.bot.core import (
    calendars,
    data_rights,
    goals,
    notes,
    nudges,
    onboarding,
    overview,
    people,
    person_fields,
    preferences,
    suggestions,
)
from rapport.bot.core import commands as c
from rapport.bot.core.context import Turn, UserContext
from rapport.bot.core.views import HelpView, Reply, error

if TYPE_CHECKING:
    from rapport.bot.core.rapport import Rapport

C = TypeVar("C")
Handler = Callable[[Turn, C], Reply]
AsyncHandler = Callable[["Rapport", UserContext, C], Awaitable[Reply]]


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


async def _help(core: Rapport, ctx: UserContext, command: c.Help) -> Reply:
    del core, ctx
    return Reply(help_text(command.topic),
                 view=HelpView(command.topic, onboarding.PRIVACY_NOTICE))


async def _import_in_chat(core: Rapport, ctx: UserContext, command: c.ImportFile) -> Reply:
    # Reading a path on the server for a chat user would leak the server's files; the
    # console reads its own files before it gets here (rapport.bot.platforms.console).
    del core, ctx, command
    return error(data_rights.IMPORT_IN_CHAT)


TABLE: tuple[Verb[Any], ...] = (
    Verb("log", c.Log, "log <person> [when][: how, what you talked about]",
         "Log a conversation; the keep-in-touch clock restarts from the day it happened.",
         c.parse_log, people.log,
         examples=("log Dana coffee", "log Lee Park yesterday: call about the Q3 plan"),
         aliases=("logged",)),
    Verb("note", c.AddNote, "note <person>: <something to remember> [after|on <date>]",
         "Remember something; with a date it becomes a nudge to ask about it.",
         c.parse_note, notes.note,
         examples=("note Dana: hiking trip in Yosemite after Saturday",),
         aliases=("remember",)),
    Verb("every", c.SetCadence, "every <person> <2 weeks|6w|3 months|off>",
         "How often you want to talk to someone.", c.parse_every, people.every,
         examples=("every Dana 2 weeks",)),
    Verb("add", c.AddContact,
         "add <name> [colleague|client] [at <company>] [every <duration>] [#tag ...]",
         "Add someone to keep in touch with.", c.parse_add_tagged, goals.add_tagged,
         examples=("add Lee Park client at Acme every 6 weeks", "add @dana colleague",
                   "add Lee Park client at Initech #clients")),
    Verb("due", c.ShowDue, "due", "Who is due now and what is coming up.",
         c.no_arguments(c.ShowDue, "due"), overview.due, writes=False, aliases=("status",)),
    Verb("people", c.ShowPeople, "people [#tag]",
         "Everyone you keep in touch with, last touch and health.",
         c.parse_people, overview.people, writes=False,
         examples=("people", "people #clients"), aliases=("list", "contacts")),
    Verb("snooze", c.Snooze, "snooze <person|#nudge> [1 day|1 week|until <date>]",
         "Push a nudge back (default: 1 day).", c.parse_snooze, nudges.snooze,
         examples=("snooze Dana 1 week", "snooze #12 friday")),
    Verb("done", c.Done, "done <person|#nudge>[: what you talked about]",
         "You reached out: logs a conversation and closes the nudge.", c.parse_done,
         nudges.done, examples=("done Dana",)),
    Verb("dismiss", c.Dismiss, "dismiss <person|#nudge>", "Drop a nudge without logging anything.",
         c.parse_dismiss, nudges.dismiss),
    Verb("pause", c.Pause, "pause [until <date>|for <duration>]", "Stop all nudges for a while.",
         c.parse_pause, preferences.pause, examples=("pause until Monday", "pause for 2 weeks")),
    Verb("resume", c.Resume, "resume", "Start nudges again after a pause.",
         c.no_arguments(c.Resume, "resume"), preferences.resume, aliases=("unpause",)),
    Verb("settings", c.Settings, c.SETTINGS_USAGE,
         "Show or change when and how Rapport nudges you.", c.parse_settings,
         preferences.settings,
         examples=("settings window 8:30-16:00", "settings tz Europe/Berlin"),
         aliases=("config",)),
    Verb("draft", c.Draft, "draft <person|#nudge>", "Get a draft message you edit before sending.",
         c.parse_draft, handle_async=nudges.draft),
    Verb("date", c.SetDate, "date <person> birthday|anniversary <month day|off>",
         "Remember a yearly date; you get a nudge a few days before.", c.parse_date,
         notes.set_date, examples=("date Dana birthday May 4",)),
    Verb("stats", c.Stats, "stats", "How it is going: touchpoints, nudges acted on, health.",
         c.no_arguments(c.Stats, "stats"), overview.stats, writes=False),
    Verb("export", c.Export, "export",
         "Everything Rapport stores about your relationships, as JSON.",
         c.no_arguments(c.Export, "export"), handle_async=data_rights.export),
    Verb("import", c.ImportFile, "import <contacts.csv|contacts.vcf> [dry run]",
         "Bring contacts in from a CSV or vCard file (console), all or nothing.",
         c.parse_import, handle_async=_import_in_chat,
         examples=("import ~/contacts.csv dry run",)),
    Verb("forget", c.Forget, "forget <person> | forget me",
         "Delete a contact with everything about them, or all your data.", c.parse_forget,
         data_rights.forget),
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
    Verb("goal", c.SetGoal, "goal <tag> every <duration> | goal <tag> off",
         "How often to talk to everyone in a group (their own rhythm wins).", c.parse_goal,
         goals.goal, examples=("goal clients every month", "goal team every 2 weeks")),
    Verb("goals", c.ShowGoals, "goals",
         "Your goals and how close you are: now and over the last 8 weeks.",
         c.no_arguments(c.ShowGoals, "goals"), goals.show_goals, writes=False),
    Verb("set", c.SetPersonField, person_fields.USAGE,
         "Per-person settings: AI drafts for them, or sensitive (write personally).",
         person_fields.parse_set, person_fields.set_field,
         examples=("set Dana ai off", "set Dana sensitive", "set Dana sensitive off")),
    Verb("suggestions", c.ShowSuggestions, "suggestions [on|off <kind>]",
         "Changes Rapport suggests from your history, each with its reason.",
         c.parse_suggestions, suggestions.show, examples=("suggestions",
                                                          "suggestions on window")),
    Verb("accept", c.AnswerSuggestion, "accept <suggestion number>",
         "Yes: make the change a suggestion proposes.", c.answer_parser("accept"),
         suggestions.answer, examples=("accept 3",)),
    Verb("keep", c.AnswerSuggestion, "keep <suggestion number>",
         "No: keep things as they are.", c.answer_parser("keep"), suggestions.answer),
    Verb("silence", c.AnswerSuggestion, "silence <suggestion number>",
         "No, and no more suggestions of that kind.", c.answer_parser("silence"),
         suggestions.answer),
    Verb("help", c.Help, "help [command]", "This list, or the details of one command.",
         c.parse_help, handle_async=_help, aliases=("?",)),
)

SPECS: dict[str, Verb[Any]] = {verb.name: verb for verb in TABLE}
VERBS = tuple(SPECS)
_BY_NAME: dict[str, Verb[Any]] = {
    **SPECS, **{alias: verb for verb in TABLE for alias in verb.aliases}}
_BY_COMMAND: dict[type, Verb[Any]] = {verb.command: verb for verb in TABLE}


def verb_for(command: object) -> Verb[Any]:
    """The table entry that handles a typed command."""
    return _BY_COMMAND[type(command)]


def help_text(topic: str | None = None) -> str:
    """Help generated from the table: every verb, or one verb with examples."""
    if topic:
        verb = SPECS.get(topic.lower().strip())
        if verb is None:
            return f"There is no command called “{c.clip(topic)}”.\n" + help_text()
        lines = [verb.usage, verb.summary]
        lines += [f"  e.g. {example}" for example in verb.examples]
        return "\n".join(lines)
    lines = ["Rapport keeps your work relationships warm. Commands:"]
    lines += [f"  {verb.usage}\n      {verb.summary}" for verb in TABLE]
    lines.append("Name people by @mention, by first name, or in \"quotes\".")
    return "\n".join(lines)


def parse_command(text: str, *, today: date) -> c.Command | c.CommandError:
    """Turn one line of user text into a command; never raises."""
    if len(text) > c.MAX_COMMAND_CHARS:
        return c.CommandError(f"That is too long for me ({len(text):,} characters; at most "
                              f"{c.MAX_COMMAND_CHARS:,}).")
    cleaned = c.clean_text(text)
    if cleaned.lower().startswith("/rapport"):
        cleaned = cleaned[len("/rapport"):].strip()
    if not cleaned:
        return _with_usage(c.CommandError(
            "Type a command, for example “due”, or “help” to see them all.", "help"))
    word, _, rest = cleaned.partition(" ")
    verb = _BY_NAME.get(word.lower())
    if verb is None:
        return c.CommandError(f"I don't know the command “{c.clip(word.lower())}”. "
                              "Type “help” to see what I can do.")
    try:
        parsed = verb.parse(rest.strip(), today)
    except (ValueError, OverflowError, IndexError):
        # A date library or a corner of the grammar choked: answer, never raise.
        parsed = c.CommandError("I could not read that.", verb.name)
    return _with_usage(parsed) if isinstance(parsed, c.CommandError) else parsed


def _with_usage(problem: c.CommandError) -> c.CommandError:
    verb = SPECS.get(problem.verb or "")
    return replace(problem, usage=verb.usage) if verb is not None else problem
