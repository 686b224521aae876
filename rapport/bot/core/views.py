"""What the core answers: a `Reply` carrying plain text plus one typed view.

The text is the core's own wording (the console prints it; every platform uses it as the
fallback). The view is the same answer as data, so each platform renders it its own way
(Block Kit, Adaptive Cards) without reading the text back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

from rapport.bot.core.stats import UserStats
from rapport.scheduler.attainment import GoalAttainment
from rapport.scheduler.messenger import NudgeItem, SuggestionItem

if TYPE_CHECKING:
    from rapport.bot.core.commands import Command


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file for the user (an export)."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class FileView:
    """A file to hand over (Slack uploads it, Teams inlines it, the console saves it)."""

    attachment: Attachment


@dataclass(frozen=True, slots=True)
class DraftView:
    """A draft the user must edit before posting."""

    draft_id: int
    contact_id: int | None
    contact_name: str
    text: str
    provider: str
    is_template: bool
    disclosure_policy: str
    can_post: bool
    notice: str = ""
    # AI drafts name their model; Slack needs the contact's user id to open the DM.
    model: str | None = None
    nudge_id: int | None = None
    contact_platform_user_id: str | None = None


@dataclass(frozen=True, slots=True)
class OverdueLine:
    """Someone whose rhythm has come due (past it, or due today) and whose nudge is not out
    yet."""

    name: str
    since: date
    # When the next nudge about them comes (None: the next sweep sends it).
    next_nudge: date | None = None


@dataclass(frozen=True, slots=True)
class ComingLine:
    """Something in the next week: a rhythm falling due, a note to ask about, or a yearly
    date (`DateComingLine`)."""

    name: str
    day: date | None
    # None for "talk to <name>"; the note text for "ask <name> about <topic>".
    topic: str | None = None
    # What a note's or a date's line calls the person, as their reminder does (the full name
    # when another contact has that first name); None: the first name.
    called: str | None = None


@dataclass(frozen=True, slots=True)
class DateComingLine(ComingLine):
    """A birthday or work anniversary on `on` whose reminder comes on `day` (planned, or
    snoozed and coming back)."""

    kind: str = "birthday"
    on: date | None = None
    # The year an anniversary counts from ("7th work anniversary"), when known.
    since_year: int | None = None


@dataclass(frozen=True, slots=True)
class QuietLine:
    """Someone you have gone long without talking to (None: no conversation logged)."""

    name: str
    last_talked_on: date | None


@dataclass(frozen=True, slots=True)
class DueView:
    """Open nudges (with their actions), overdue people, and what is coming up."""

    nudges: tuple[NudgeItem, ...]
    # Past their rhythm's day; `due_today`: their rhythm's day is today (not overdue yet).
    overdue: tuple[OverdueLine, ...]
    coming: tuple[ComingLine, ...]
    today: date
    has_people: bool = True
    has_rhythms: bool = True
    # Nudges are paused until this day (date.max: until "resume").
    paused_until: date | None = None
    # Asked "who haven't I talked to?": the people longest without a conversation who are
    # not in the lists above, oldest first, then those with none logged (at most a few
    # named; `never_talked` counts them all, less those the lists above name). None: not
    # asked.
    quiet: tuple[QuietLine, ...] | None = None
    never_talked: int = 0
    # "… in 2 months?": only people quiet at least this many days are in `quiet`, and the
    # lists above are left empty (the question asks for those people only).
    quiet_days: int = 0
    due_today: tuple[OverdueLine, ...] = ()
    # Open nudges beyond those in `nudges` (the list stops at a limit).
    more_nudges: int = 0


@dataclass(frozen=True, slots=True)
class PersonLine:
    """One row of the people list."""

    contact_id: int
    name: str
    company: str | None
    kind: str
    cadence_days: int | None
    last_touch_on: date | None
    health: str
    tags: tuple[str, ...] = ()
    # The rhythm comes from a goal of one of the tags, not from `every`.
    cadence_from_goal: bool = False
    cadence_months: int | None = None


@dataclass(frozen=True, slots=True)
class PeopleView:
    people: tuple[PersonLine, ...]
    truncated: bool
    today: date
    # `people #clients` shows only this tag's people.
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class SuggestionCounts:
    """How the person answered the suggestions Rapport made."""

    made: int = 0
    accepted: int = 0
    kept: int = 0
    silenced: int = 0
    waiting: int = 0
    # Unanswered for 30 days, withdrawn when their kind was silenced, or out of date when
    # accepted: without them the parts would not add up to `made`.
    expired: int = 0


@dataclass(frozen=True, slots=True)
class StatsView:
    stats: UserStats
    # Goals lead the stats (rapport.scheduler.attainment); open suggestions follow them.
    goals: tuple[GoalAttainment, ...] = ()
    suggestions: tuple[SuggestionItem, ...] = ()
    suggestion_counts: SuggestionCounts = SuggestionCounts()


@dataclass(frozen=True, slots=True)
class TagLine:
    """A tag, how many people carry it and its goal (None: no goal)."""

    name: str
    people: int
    goal_days: int | None


@dataclass(frozen=True, slots=True)
class OwnRhythmLine:
    """A goal for one person (their own rhythm): 'every 2 weeks', talked to within it or not,
    and when last ('Sun Nov 22'; None: never)."""

    name: str
    every: str
    within: bool
    last_talked: str | None


@dataclass(frozen=True, slots=True)
class GoalsView:
    """`goals`: every tag with its goal and, for goals, attainment now and its trend; then
    the people with a rhythm of their own."""

    tags: tuple[TagLine, ...]
    goals: tuple[GoalAttainment, ...]
    own: tuple[OwnRhythmLine, ...] = ()


@dataclass(frozen=True, slots=True)
class SuggestionsView:
    """`suggestions`: the open ones with their answers, and the kinds the person silenced."""

    items: tuple[SuggestionItem, ...]
    silenced: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SuggestionAnswered:
    """A suggestion was answered (platforms replace its buttons with what happened)."""

    suggestion_id: int
    status: str


@dataclass(frozen=True, slots=True)
class SettingsView:
    """The user's preferences as values (the settings form is filled from these)."""

    tz: str
    window_start_minute: int
    window_end_minute: int
    working_days: int
    daily_cap: int
    digest: bool
    ai_enabled: bool
    workspace_ai_enabled: bool
    tone: str
    weekly_summary: bool
    prep_minutes: int
    paused_until: date | None
    paused_indefinitely: bool
    # An AI provider is set up for this server (otherwise "on" means template drafts).
    ai_configured: bool = True
    # Platforms whose DMs are logged as conversations (`settings capture slack on`).
    chat_capture: tuple[str, ...] = ()
    # The user's calendars that are connected or paused: (provider, status, the account's
    # address once the first sync has learnt it).
    calendars: tuple[tuple[str, str, str | None], ...] = ()
    # Where the person is (slack, teams, console): DM capture is offered on Slack only.
    platform: str = ""

    @property
    def window(self) -> str:
        """'09:00-17:00'."""
        return format_window(self.window_start_minute, self.window_end_minute)


@dataclass(frozen=True, slots=True)
class HomeView:
    """Everything the Slack App Home shows, read in one unit of work."""

    due: DueView
    due_text: str
    people: PeopleView
    people_text: str
    stats: StatsView
    stats_text: str


@dataclass(frozen=True, slots=True)
class RowStatus:
    """The stored state of one nudge or suggestion that a message shows, so a platform
    redraws the message from it rather than from a copy of the message: its status, whom it
    is about (a message counts people, not rows) and its kind (a suggestion's buttons are
    labelled by kind)."""

    status: str
    contact_id: int | None
    kind: str


@dataclass(frozen=True, slots=True)
class NudgeActed:
    """A nudge was done, snoozed or dismissed (platforms update its message in place)."""

    nudge_id: int
    status: str
    until: date | None = None


@dataclass(frozen=True, slots=True)
class ImportView:
    """What an import did or would do (a dry run), or why nothing was imported."""

    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    notes_added: int = 0
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HelpView:
    """The commands (or one command), and how Rapport treats what it is told."""

    topic: str | None
    privacy: str


@dataclass(frozen=True, slots=True)
class NoteLine:
    """A note on the person card, with its handle ("n3") for edit and delete."""

    note_id: int
    text: str
    noted_on: date
    follow_up_on: date | None
    event_on: date | None
    # Its follow-up is still to come or not acted on (False: done, dismissed, or no date).
    open: bool
    # What to do about it, as the card's "Ask about" line says it ("Ask Dana about ...").
    reminder: str
    # The day its follow-up reminder comes back after a snooze (None: not snoozed).
    snoozed_to: date | None = None
    # The day its follow-up reminder, still to come, reaches the user, as its confirmation
    # and `due` say it (one for a day off comes on the next working day); None once it came.
    comes_on: date | None = None

    @property
    def handle(self) -> str:
        return f"n{self.note_id}"

    @property
    def reminded_on(self) -> date | None:
        """The day its follow-up reminder comes (or came): `comes_on`, else the
        follow-up day."""
        return self.comes_on or self.follow_up_on

    @property
    def ask_on(self) -> date | None:
        """The day it is to be asked about: the snoozed day, else the day its reminder
        comes."""
        return self.snoozed_to or self.reminded_on


@dataclass(frozen=True, slots=True)
class TouchLine:
    """A conversation on the person card, with its handle ("t7")."""

    touchpoint_id: int
    day: date
    kind: str
    summary: str | None
    source: str

    @property
    def handle(self) -> str:
        return f"t{self.touchpoint_id}"


@dataclass(frozen=True, slots=True)
class DateLine:
    """A yearly date: when it next comes, and the year it started when known."""

    kind: str
    month: int
    day: int
    year: int | None
    next_on: date


@dataclass(frozen=True, slots=True)
class PersonView:
    """A person at a glance: who they are, what to ask about first, the rhythm, the last
    conversations and notes with their handles, dates and drafts. Platforms add their own
    buttons (Log, Note, Draft, Snooze) that build typed commands with `contact_id`."""

    contact_id: int
    name: str
    kind: str
    company: str | None
    email: str | None
    linked: bool
    cadence_days: int | None
    cadence_months: int | None
    next_nudge_on: date | None
    last_touch_on: date | None
    health: str
    ask_about: tuple[NoteLine, ...]
    notes: tuple[NoteLine, ...]
    more_notes: int
    touches: tuple[TouchLine, ...]
    touch_count: int
    dates: tuple[DateLine, ...]
    drafts_made: int
    drafts_used: int
    today: date
    paused_until: date | None = None
    tags: tuple[str, ...] = ()
    # How drafts may help with them ("AI drafts off for Dana: template drafts only."), when
    # not the default.
    drafts_note: str | None = None
    role: str | None = None
    # Their next meeting with the user in a connected calendar: (day, "14:00") in the user's
    # time zone.
    next_meeting: tuple[date, str] | None = None
    # A nudge about them now: "out" (delivered, not acted on) or "coming" (the next sweep
    # sends it); "" for neither, and `next_nudge_on` says the day the next one comes.
    nudge_now: Literal["", "out", "coming"] = ""


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One match: a person, a note (handle n…) or a conversation (handle t…)."""

    kind: str
    contact_id: int
    contact_name: str
    text: str
    day: date
    handle: str = ""


@dataclass(frozen=True, slots=True)
class SearchView:
    words: str
    hits: tuple[SearchHit, ...]
    truncated: bool
    today: date


@dataclass(frozen=True, slots=True)
class RecentTouch:
    """A conversation in the list of a span (`recent`): as the card shows it, and whose."""

    touch: TouchLine
    contact_id: int
    contact_name: str


@dataclass(frozen=True, slots=True)
class RecentView:
    """The conversations of a span of days, newest first: the first `len(touches)` of
    `total`, with `people` different people in all."""

    first_day: date
    last_day: date
    label: str
    touches: tuple[RecentTouch, ...]
    total: int
    people: int
    today: date


@dataclass(frozen=True, slots=True)
class MeetingPerson:
    """One of the user's people in a coming meeting, and what to know before meeting them
    (the brief's parts: the last conversation, notes to ask about, a date this week)."""

    contact_id: int
    name: str
    know: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MeetingLine:
    """A coming meeting with at least one of the user's people (one entry however many of
    the user's calendars hold it); its moments in the user's time zone."""

    day: date
    starts: str  # "14:00"
    people: tuple[MeetingPerson, ...]


@dataclass(frozen=True, slots=True)
class MeetingsView:
    """The first `len(meetings)` of `total` coming meetings with the user's people over a
    span; `calendars` says what the user has connected ((provider, status) each)."""

    label: str
    meetings: tuple[MeetingLine, ...]
    total: int
    calendars: tuple[tuple[str, str], ...]
    today: date
    next_only: bool = False


@dataclass(frozen=True, slots=True)
class ConfirmView:
    """A question that needs a yes: platforms show a button that runs `command` as it is."""

    prompt: str
    label: str
    command: Command


View = (HelpView | FileView | ImportView | DraftView | DueView | PeopleView | StatsView
        | SettingsView | HomeView | NudgeActed | GoalsView | SuggestionsView
        | SuggestionAnswered | PersonView | SearchView | RecentView | MeetingsView
        | ConfirmView)


# The arguments of a command a use case may refuse on their own, by the command's field
# name: a form shows the refusal under the input that gave that argument.
RefusedArgument = Literal["follow_up_on", "day"]


@dataclass(frozen=True, slots=True)
class Reply:
    """What a use case answers: text, and the same answer as a typed view when it has one."""

    text: str
    ok: bool = True
    view: View | None = None
    changed: bool = False
    # The change forgot someone (or the user): nothing about them may be shown anywhere, so
    # what a platform keeps on show (Slack's App Home) is redrawn at once, not when it would
    # next be refreshed.
    erased: bool = False
    # The command was not run because the process was overloaded; try again shortly.
    busy: bool = False
    # A refusal about one argument of the command (None: about the command as a whole).
    refused: RefusedArgument | None = None

    @property
    def nudges(self) -> tuple[NudgeItem, ...]:
        return self.view.nudges if isinstance(self.view, DueView) else ()

    @property
    def draft(self) -> DraftView | None:
        return self.view if isinstance(self.view, DraftView) else None

    @property
    def attachment(self) -> Attachment | None:
        return self.view.attachment if isinstance(self.view, FileView) else None


def error(text: str, refused: RefusedArgument | None = None) -> Reply:
    """A refusal or a problem: nothing changed. `refused`: the argument it is about."""
    return Reply(text=text, ok=False, refused=refused)


def format_window(start: int, end: int) -> str:
    """Minutes after midnight as '09:00-17:00'."""
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
