"""Block Kit rendering with slack_sdk.models, so Slack's limits are checked in code."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    ImageBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from rapport.bot.core import commands as c
from rapport.bot.core.commands import SuggestionAnswer
from rapport.bot.core.drafts import DISCLOSURE_LINE
from rapport.bot.core.onboarding import FIRST_COMMANDS, PRIVACY_NOTICE, greeting
from rapport.bot.core.overview import (
    coming_lines,
    due_text_beside_cards,
    due_today_lines,
    goal_lines,
    more_nudges_line,
    overdue_lines,
    stats_text,
)
from rapport.bot.core.preferences import AI_OFF_FOR_THE_WORKSPACE
from rapport.bot.core.profile import (
    ask_line,
    date_text,
    fix_examples,
    note_when,
    rhythm_line,
    source_note,
)
from rapport.bot.core.stats import UserStats, automatic_note
from rapport.bot.core.suggestions import silenced_line
from rapport.bot.core.views import (
    ConfirmView,
    DraftView,
    DueView,
    HomeView,
    PersonLine,
    PersonView,
    Reply,
    SettingsView,
    StatsView,
    SuggestionsView,
)
from rapport.scheduler import planner, wording
from rapport.scheduler.attainment import percent
from rapport.scheduler.messenger import (
    NudgeItem,
    OutgoingMessage,
    PersonButton,
    SuggestionItem,
)

# Slack's published limits (Block Kit reference).
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_CONTEXT_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_FALLBACK_TEXT = 3000
MAX_INPUT_TEXT = 3000

# action ids and callback ids: app_manifest.yml and the tests check these names.
ACTION_DONE = "nudge_done"
ACTION_SNOOZE_1D = "nudge_snooze_1d"
ACTION_SNOOZE_1W = "nudge_snooze_1w"
ACTION_SNOOZE_PICK = "nudge_snooze_pick"
ACTION_DRAFT = "nudge_draft"
ACTION_DISMISS = "nudge_dismiss"
NUDGE_ACTIONS = {ACTION_DONE: "done", ACTION_SNOOZE_1D: "snooze_1d",
                 ACTION_SNOOZE_1W: "snooze_1w", ACTION_SNOOZE_PICK: "snooze",
                 ACTION_DRAFT: "draft", ACTION_DISMISS: "dismiss"}
ACTION_OPEN_SETTINGS = "open_settings"
# A suggestion's three answers (suggestion_buttons.py); the value is the suggestion id.
ACTION_SUGGESTION_ACCEPT = "suggestion_accept"
ACTION_SUGGESTION_KEEP = "suggestion_keep"
ACTION_SUGGESTION_SILENCE = "suggestion_silence"
SUGGESTION_ACTIONS: dict[str, SuggestionAnswer] = {
    ACTION_SUGGESTION_ACCEPT: "accept", ACTION_SUGGESTION_KEEP: "keep",
    ACTION_SUGGESTION_SILENCE: "silence"}
SUGGESTION_BLOCK_PREFIX = "suggestion_"
# A brief names at most this many people with buttons (a meeting with more is a crowd).
MAX_BRIEF_PEOPLE = 5
# A person card's buttons (value: the contact id) and the row button on Home's people list.
ACTION_PERSON_LOG = "person_log"
ACTION_PERSON_NOTE = "person_note"
ACTION_PERSON_DRAFT = "person_draft"
ACTION_PERSON_SNOOZE = "person_snooze"
ACTION_PERSON_OPEN = "person_open"
ACTION_CONFIRM_FORGET = "confirm_forget"
PERSON_ACTIONS = (ACTION_PERSON_LOG, ACTION_PERSON_NOTE, ACTION_PERSON_DRAFT,
                  ACTION_PERSON_SNOOZE, ACTION_PERSON_OPEN, ACTION_CONFIRM_FORGET)
CALLBACK_PERSON = "person"
CALLBACK_PERSON_LOG = "person_log"
CALLBACK_PERSON_NOTE = "person_note"
NUDGE_BLOCK_PREFIX = "nudge_"
# The heading of a digest ("2 people to reach out to"), redrawn with the rows left.
DIGEST_HEADING_BLOCK = "digest_heading"
CALLBACK_LOG_TOUCHPOINT = "log_touchpoint"
CALLBACK_SETTINGS = "settings"
# The settings form's line in place of the AI drafts choice when the workspace has them off.
SETTINGS_WORKSPACE_AI_OFF = "ai_workspace_off"
CALLBACK_DRAFT = "draft_edit"
ACTION_DRAFT_COPY = "draft_copy"
ACTION_DRAFT_DISCARD = "draft_discard"
# Under a draft answered as text (typed in the Messages tab, or a slash command whose window
# could not open): the same draft in the editor, where it can be posted.
ACTION_DRAFT_OPEN = "draft_open"
DRAFT_ERROR_BLOCK = "draft_error"
SLASH_COMMAND = "/rapport"

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_KINDS = ("chat", "call", "meeting", "coffee", "email", "lunch")


# Before a formatting character, it is no longer at a word's edge, so Slack's mrkdwn does not
# read "*urgent*" or "Dana_Scully_" as bold or italic, nor "`Pat`" as code; invisible, and
# Rapport's own grammar drops it (a format character) when a name is copied back into a
# command.
WORD_JOINER = "\u2060"
_FORMATTING = re.compile(r"([*_~`])")
_ANY_FORMATTING = re.compile(r"[*_~`]")
# Slack quotes a line that starts with ">", sent as "&gt;" (which it reads the same): with the
# joiner first, the line no longer starts with it.
_QUOTE = re.compile(r"^([ \t]*)(?=&gt;)", re.MULTILINE)


def escape_controls(text: str) -> str:
    """Escape Slack's three control characters only: for text shown as code (where nothing is
    formatted) and text posted as the person's own message (formatted as they wrote it)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape(text: str) -> str:
    """User-written text (names, notes, summaries) for a mrkdwn object: Slack's three control
    characters escaped, and its formatting characters and a leading ">" shown as typed."""
    escaped = escape_controls(text)
    # Most answers hold neither: then the two passes over every word change nothing, and
    # skipping them halves the cost of a short answer's blocks.
    if _ANY_FORMATTING.search(escaped) is not None:
        escaped = _WORD.sub(_join_formatting, escaped)
    if "&gt;" in escaped:
        escaped = _QUOTE.sub(r"\1" + WORD_JOINER, escaped)
    return escaped


def unescape(text: str) -> str:
    """What `escape` was given, from what it made (a row's text in a clicked message, to say
    it again in a message's `text`, which `fallback` escapes)."""
    return text.replace(WORD_JOINER, "").replace("&lt;", "<").replace("&gt;", ">") \
        .replace("&amp;", "&")


def _escape_every_word(text: str) -> str:
    """`escape` without its shortcut (tests compare the two)."""
    return _QUOTE.sub(r"\1" + WORD_JOINER, _WORD.sub(_join_formatting, escape_controls(text)))


# A link or an email address (Slack links both) keeps its characters: a word joiner inside
# "https://acme.com/q3_plan" or "dana_s@acme.com" would break the link and what is copied.
_WORD = re.compile(r"\S+")


def _join_formatting(match: re.Match[str]) -> str:
    word = match.group(0)
    if "@" in word or "://" in word or word.startswith(("www.", "mailto:")):
        return word
    return _FORMATTING.sub(WORD_JOINER + r"\1", word)


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fallback(text: str) -> str:
    """A message's top-level `text` (notifications, screen readers): Slack parses `<...>` and
    `&` there as it does in blocks, so names and notes are escaped here too."""
    return clip(escape_controls(text), MAX_FALLBACK_TEXT)


class TextSection(SectionBlock):
    """A section of mrkdwn text that `text_sections` has already cut to Slack's limits.

    Its dict is built directly: slack_sdk's `to_dict` validates by inspecting every method of
    the block and its text object, which took longer than the rest of a command's answer
    (about 0.25 ms a section). What it would check (at most 3,000 characters, not empty) holds
    by construction, and `tests/slack/test_blocks.py` checks that the dict is exactly
    slack_sdk's and passes its validation."""

    def __init__(self, text: str) -> None:
        super().__init__(text=MarkdownTextObject(text=text))
        self._chunk = text

    def to_dict(self, *args: Any) -> dict[str, Any]:
        return {"text": {"text": self._chunk, "type": "mrkdwn"}, "type": "section"}


def text_sections(text: str, *, limit: int = MAX_SECTION_TEXT) -> list[Block]:
    """Sections of at most `limit` characters each, split on line breaks when possible."""
    chunks: list[str] = []
    current = ""
    for line in escape(text).split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        chunks.append(current)
    return [TextSection(chunk) for chunk in chunks if chunk.strip()]


def paginate(units: Sequence[Sequence[Block]], *,
             per_page: int = MAX_MESSAGE_BLOCKS) -> list[list[Block]]:
    """Pages Slack accepts (50 blocks a message), each unit's blocks on one page (a nudge
    card's headline, context line and buttons, see `_cards`), in order; a unit longer than a
    page is cut. No page but the first opens with a divider (it separated two cards)."""
    pages: list[list[Block]] = []
    page: list[Block] = []
    for unit in units:
        if page and len(page) + len(unit) > per_page:
            pages.append(page)
            page = []
        if not page and pages and unit and isinstance(unit[0], DividerBlock):
            unit = unit[1:]
        page += unit
        while len(page) > per_page:
            pages.append(page[:per_page])
            page = page[per_page:]
    if page or not pages:
        pages.append(page)
    return pages


def _each(blocks: Sequence[Block]) -> list[list[Block]]:
    """Blocks that may each end a page (sections of one text)."""
    return [[block] for block in blocks]


def _cards(blocks: Sequence[Block]) -> list[list[Block]]:
    """Cards (`nudge_blocks`, `suggestion_blocks`) as units for `paginate`: each ends with its
    buttons, so a heading or divider goes with the card after it, and buttons with their card."""
    units: list[list[Block]] = [[]]
    for block in blocks:
        units[-1].append(block)
        if isinstance(block, ActionsBlock):
            units.append([])
    return [unit for unit in units if unit]


def to_dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    """Serialise (and so validate) blocks for the Web API."""
    return [block.to_dict() for block in blocks]


# ---------------------------------------------------------------------------------- nudges
def nudge_actions(nudge_id: int) -> ActionsBlock:
    """Done, Snooze 1 day / 1 week / pick a date, Draft, Dismiss for one nudge."""
    value = str(nudge_id)
    return ActionsBlock(block_id=f"{NUDGE_BLOCK_PREFIX}{nudge_id}", elements=[
        ButtonElement(text="Done", action_id=ACTION_DONE, value=value, style="primary"),
        ButtonElement(text="Snooze 1 day", action_id=ACTION_SNOOZE_1D, value=value),
        ButtonElement(text="Snooze 1 week", action_id=ACTION_SNOOZE_1W, value=value),
        DatePickerElement(action_id=ACTION_SNOOZE_PICK,
                          placeholder=PlainTextObject(text="Snooze until…")),
        ButtonElement(text="Draft a message", action_id=ACTION_DRAFT, value=value),
        ButtonElement(text="Dismiss", action_id=ACTION_DISMISS, value=value),
    ])


def nudge_headline(message_blocks: Sequence[dict[str, Any]], nudge_id: int) -> str:
    """The headline a message's row shows for `nudge_id` (see `nudge_item_blocks`), as
    written before markup; "" when the message has no such row."""
    for block in message_blocks:
        if isinstance(block, dict) and block.get("block_id") == f"nudge_text_{nudge_id}":
            text = block.get("text")
            shown = text.get("text") if isinstance(text, dict) else None
            # Only the bold's own stars: a headline's own ("*urgent*") stay.
            return unescape(shown.removeprefix("*").removesuffix("*")) \
                if isinstance(shown, str) else ""
    return ""


def nudge_item_blocks(item: NudgeItem) -> list[Block]:
    """The reason, the context line, and the buttons for one nudge."""
    blocks: list[Block] = [SectionBlock(
        block_id=f"nudge_text_{item.nudge_id}",
        text=MarkdownTextObject(text=clip(f"*{escape(item.headline)}*", MAX_SECTION_TEXT)))]
    if item.context:
        blocks.append(ContextBlock(elements=[
            MarkdownTextObject(text=clip(escape(item.context), MAX_CONTEXT_TEXT))]))
    blocks.append(nudge_actions(item.nudge_id))
    return blocks


def nudge_blocks(items: Sequence[NudgeItem], *, budget: int = MAX_MESSAGE_BLOCKS,
                 heading: str | None = None, heading_id: str | None = None,
                 unlisted: int = 0) -> list[Block]:
    """Nudge cards within `budget` blocks; what does not fit, and the `unlisted` open nudges
    the core left out of `items`, are counted, not dropped silently."""
    blocks: list[Block] = []
    if heading:
        blocks.append(HeaderBlock(block_id=heading_id, text=clip(heading, MAX_HEADER_TEXT)))
    shown = 0
    for item in items:
        card = nudge_item_blocks(item)
        separator = [DividerBlock()] if shown else []
        # Keep one block free for the "and N more" line.
        if len(blocks) + len(separator) + len(card) > budget - 1:
            break
        blocks += separator + card
        shown += 1
    more = len(items) - shown + unlisted
    if unlisted:
        # `due` lists only the first of them as well: it shows the rest as these are answered.
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=more_nudges_line(more, f"`{SLASH_COMMAND} due`"))]))
    elif more:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"…and {more} more. Type `{SLASH_COMMAND} due` to see them all.")]))
    return blocks


def suggestion_actions(suggestion_id: int,
                       labels: tuple[str, str, str] = ("Yes, change it", "Keep as it is",
                                                       "Stop suggesting this")) -> ActionsBlock:
    """Accept, keep as it is, stop suggesting this kind (or, for a person met: Add, Not now,
    Never): each builds a typed answer."""
    value = str(suggestion_id)
    accept, keep, silence = labels
    return ActionsBlock(block_id=f"{SUGGESTION_BLOCK_PREFIX}{suggestion_id}", elements=[
        ButtonElement(text=accept, action_id=ACTION_SUGGESTION_ACCEPT, value=value,
                      style="primary"),
        ButtonElement(text=keep, action_id=ACTION_SUGGESTION_KEEP, value=value),
        ButtonElement(text=silence, action_id=ACTION_SUGGESTION_SILENCE, value=value),
    ])


def suggestion_blocks(items: Sequence[SuggestionItem]) -> list[Block]:
    """Each open suggestion: its reason in plain words, then its three answers."""
    blocks: list[Block] = []
    for item in items:
        blocks.append(SectionBlock(
            block_id=f"suggestion_text_{item.suggestion_id}",
            text=MarkdownTextObject(text=clip(f"💡 *Suggestion {item.suggestion_id}:* "
                                              f"{escape(item.text)}", MAX_SECTION_TEXT))))
        blocks.append(suggestion_actions(item.suggestion_id, item.labels))
    return blocks


def brief_person_actions(people: Sequence[PersonButton]) -> list[Block]:
    """A meeting brief's buttons, per person: Show (their card) and Snooze 1 week (their
    nudges: you are about to talk), the same actions as the person card's."""
    blocks: list[Block] = []
    for person in people[:MAX_BRIEF_PEOPLE]:
        value, first = str(person.contact_id), person.name.split()[0] if person.name else "them"
        blocks.append(ActionsBlock(block_id=f"brief_person_{person.contact_id}", elements=[
            ButtonElement(text=clip(f"Show {first}", 75), action_id=ACTION_PERSON_OPEN,
                          value=value),
            ButtonElement(text=clip(f"Snooze {first} 1 week", 75),
                          action_id=ACTION_PERSON_SNOOZE, value=value)]))
    return blocks


def outgoing_blocks(message: OutgoingMessage) -> tuple[str, list[Block]]:
    """Fallback text and blocks for a proactive nudge, digest or summary (or brief)."""
    if message.kind == "summary" or not message.items:
        blocks = text_sections(message.text) + suggestion_blocks(message.suggestions) \
            + brief_person_actions(message.people)
        return fallback(message.text or "Rapport"), blocks[:MAX_MESSAGE_BLOCKS]
    if message.kind == "digest" or len(message.items) > 1:
        heading = digest_heading(wording.people_count(message.items))
        people = {item.contact_id: item.contact_name for item in message.items}
        names = heading + ": " + ", ".join(people.values())
        return fallback(names), nudge_blocks(message.items, heading=heading,
                                             heading_id=DIGEST_HEADING_BLOCK)
    item = message.items[0]
    return fallback(item.headline), nudge_blocks([item])


def digest_heading(people: int) -> str:
    """'2 people to reach out to': a digest counts people, not nudges (one person may have
    several)."""
    return f"{wording.counted(people, 'person', 'people')} to reach out to"


def digest_heading_block(people: int) -> dict[str, Any]:
    """A digest's heading, as delivered and as redrawn with the rows left."""
    return HeaderBlock(block_id=DIGEST_HEADING_BLOCK,
                       text=clip(digest_heading(people), MAX_HEADER_TEXT)).to_dict()


def outcome_block(item_id: int, outcome: str, *, prefix: str = NUDGE_BLOCK_PREFIX
                  ) -> dict[str, Any]:
    """What happened to a nudge (or a suggestion, with its `prefix`), in place of its
    buttons."""
    return ContextBlock(block_id=f"{prefix}outcome_{item_id}", elements=[
        MarkdownTextObject(text=clip(escape(outcome), MAX_CONTEXT_TEXT))]).to_dict()


# ---------------------------------------------------------------------------------- replies
@dataclass(frozen=True, slots=True)
class RenderedReply:
    """A reply as one or more Slack messages (first page answers in the ack)."""

    text: str
    pages: list[list[dict[str, Any]]]


def reply_pages(reply: Reply) -> RenderedReply:
    """A Reply as paginated message blocks: text, then nudge cards, then an attachment; a
    card never split across two messages."""
    units: list[list[Block]] = []
    text = reply.text if reply.ok else f"⚠️ {reply.text}"
    if isinstance(reply.view, PersonView):
        units += _each(person_blocks(reply.view))
    elif isinstance(reply.view, ConfirmView):
        units += _each(confirm_blocks(reply.view))
    elif isinstance(reply.view, DueView) and reply.view.nudges:
        # The cards show the open nudges with buttons; the text keeps the rest.
        rest = due_text_beside_cards(reply.view)
        if rest:
            units += _each(text_sections(rest))
        units += _cards(nudge_blocks(reply.view.nudges, budget=10 * MAX_MESSAGE_BLOCKS,
                                     heading="Due now", unlisted=reply.view.more_nudges))
    elif isinstance(reply.view, StatsView) and reply.view.suggestions:
        # The suggestions come as buttons; the text keeps the rest.
        units += _each(text_sections(stats_text(replace(reply.view, suggestions=()))))
        units += _cards(suggestion_blocks(reply.view.suggestions))
    elif isinstance(reply.view, SuggestionsView) and reply.view.items:
        units += _cards(suggestion_blocks(reply.view.items))
        if reply.view.silenced:
            units += _each(text_sections(silenced_line(reply.view.silenced)))
    else:
        units += _each(text_sections(text))
    if reply.draft is not None:
        units.append([ActionsBlock(block_id="draft_open", elements=[ButtonElement(
            text="Edit and send…", action_id=ACTION_DRAFT_OPEN,
            value=str(reply.draft.draft_id), style="primary")])])
    if reply.attachment is not None:
        try:
            body = reply.attachment.data.decode("utf-8")
        except UnicodeDecodeError:
            body = "(binary file)"
        # Files go up with files_upload_v2 (platform.py, upload); this inline copy is the
        # fallback when the upload is refused (an app installed before files:write).
        units += _each([SectionBlock(text=MarkdownTextObject(text=f"```{chunk}```"))
                        for chunk in _chunks(escape_controls(body), MAX_SECTION_TEXT - 6)])
    pages = [to_dicts(page) for page in paginate(units)]
    return RenderedReply(text=fallback(text), pages=pages)


def _chunks(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


# ---------------------------------------------------------------------------------- views
@dataclass(frozen=True, slots=True)
class HomeContent:
    """What the Home tab shows, from the core's `HomeView` (see `home_content`)."""

    due: Sequence[NudgeItem]
    coming_up: str
    people: str
    stats_text: str
    # Open nudges beyond `due` (the core's list stops at a limit).
    more_due: int = 0
    stats: UserStats | None = None
    goals: Sequence[str] = ()
    suggestions: Sequence[SuggestionItem] = ()
    # The goal trend chart shared in the user's DM (file id) and its text line.
    chart_file_id: str | None = None
    chart_alt_text: str = ""
    # One row per person, each with a button that opens their card.
    people_rows: Sequence[PersonLine] = ()
    today: date | None = None


def home_content(view: HomeView, *, chart_file_id: str | None = None,
                 chart_alt_text: str = "") -> HomeContent:
    """The Home tab's content from the core's typed view."""
    # Home's "Coming up" also lists who is overdue or due today and when their next nudge
    # comes.
    upcoming = overdue_lines(view.due) + due_today_lines(view.due, under_heading=False) \
        + coming_lines(view.due)
    return HomeContent(due=view.due.nudges, more_due=view.due.more_nudges,
                       coming_up="\n".join(upcoming),
                       people=view.people_text, stats_text=view.stats_text,
                       stats=view.stats.stats, goals=goal_lines(view.stats),
                       suggestions=view.stats.suggestions, chart_file_id=chart_file_id,
                       chart_alt_text=chart_alt_text, people_rows=view.people.people,
                       today=view.people.today)


def goals_blocks(lines: Sequence[str], *, chart_file_id: str | None,
                 alt_text: str) -> list[Block]:
    """Goal attainment: one line per goal, the trend chart and the same trend as text."""
    if not lines:
        return []
    blocks: list[Block] = [SectionBlock(block_id="home_goals", text=MarkdownTextObject(
        text=clip("\n".join(escape(line) for line in lines), MAX_SECTION_TEXT)))]
    if chart_file_id:
        blocks.append(ImageBlock(block_id="home_goal_chart", slack_file={"id": chart_file_id},
                                 alt_text=clip(alt_text or "Goal attainment chart", 2000),
                                 title=clip("Goal attainment, last 8 weeks", 2000)))
    if alt_text:
        blocks.append(ContextBlock(block_id="home_goal_trend", elements=[
            MarkdownTextObject(text=clip(escape(alt_text), MAX_CONTEXT_TEXT))]))
    return blocks


def person_row(line: PersonLine, today: date) -> SectionBlock:
    """One person on Home: name, rhythm and last conversation, and an Open button."""
    every = planner.cadence_text(line.cadence_days, line.cadence_months)
    last = f"last talked {wording.friendly_day(line.last_touch_on, today)}" \
        if line.last_touch_on else "no conversation logged"
    parts = [line.kind, f"every {every}" if every else "", last, line.health]
    detail = " · ".join(part for part in parts if part)
    title = escape(wording.contact_label(line.name, line.company))
    return SectionBlock(
        block_id=f"person_row_{line.contact_id}",
        text=MarkdownTextObject(text=clip(f"*{title}*\n{escape(detail)}", MAX_SECTION_TEXT)),
        accessory=ButtonElement(text="Open", action_id=ACTION_PERSON_OPEN,
                                value=str(line.contact_id)))


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def stats_blocks(stats: UserStats) -> list[Block]:
    """The user's numbers as one section of short fields plus who slipped most."""
    nudges = (f"{stats.nudges_acted_on} acted on · {stats.nudges_snoozed} snoozed · "
              f"{stats.nudges_dismissed} dismissed · {stats.nudges_ignored} ignored")
    if stats.acted_on_rate is not None:
        nudges += f"\nActed-on rate {round(stats.acted_on_rate * 100)}%"
    if stats.contacts_with_cadence:
        health = (f"{stats.contacts_within_cadence} of "
                  f"{wording.counted(stats.contacts_with_cadence, 'person', 'people')} "
                  "within their rhythm")
        if stats.health_share is not None:
            health += f" ({round(stats.health_share * 100)}%)"
    else:
        health = "No rhythms set yet"
    drafts = (f"{_count(stats.drafts_total, 'draft')} made, {stats.drafts_used} used, "
              f"{stats.drafts_edited} edited")
    if stats.mean_edit_distance is not None:
        drafts += f"\n~{stats.mean_edit_distance:.0f} characters changed on average"
    if stats.mean_rewritten_share is not None:
        drafts += f" ({percent(stats.mean_rewritten_share)} rewritten)"
    if stats.acted_on_rate_with_draft is not None:
        drafts += (f"\nNudges acted on: {percent(stats.acted_on_rate_with_draft)} with a draft, "
                   f"{percent(stats.acted_on_rate_without_draft)} without")
    automatic = automatic_note(stats)
    fields = [
        MarkdownTextObject(text=f"*Conversations*\n{stats.touchpoints_week} this week · "
                                f"{stats.touchpoints_month} this month"
                                + (f" ({automatic})" if automatic else "")),
        MarkdownTextObject(text=f"*Nudges*\n{nudges}"),
        MarkdownTextObject(text=f"*Health*\n{health}"),
        MarkdownTextObject(text=f"*Drafts*\n{drafts}"),
    ]
    blocks: list[Block] = [SectionBlock(block_id="home_stats", fields=fields)]
    if stats.most_overdue:
        slipped = ", ".join(f"{escape(o.name)} ({planner.humanize_days(o.days_overdue)} overdue)"
                            for o in stats.most_overdue)
        blocks.append(ContextBlock(block_id="home_slipped", elements=[MarkdownTextObject(
            text=clip(f"Slipped most: {slipped}", MAX_CONTEXT_TEXT))]))
    return blocks


def home_view(content: HomeContent) -> dict[str, Any]:
    """The App Home tab: due now, coming up, people, settings button, stats (≤100 blocks)."""
    head: list[Block] = [
        HeaderBlock(text="Rapport"),
        ActionsBlock(block_id="home_actions", elements=[
            ButtonElement(text="Settings", action_id=ACTION_OPEN_SETTINGS, value="open")]),
        HeaderBlock(text="Due now"),
    ]
    tail: list[Block] = [DividerBlock(), HeaderBlock(text="Coming up")]
    tail += text_sections(content.coming_up or "Nothing in the next week.")
    tail += [DividerBlock(), HeaderBlock(text="Your people")]
    people = [person_row(line, content.today) for line in content.people_rows] \
        if content.people_rows and content.today is not None \
        else text_sections(content.people)
    numbers = stats_blocks(content.stats) if content.stats is not None \
        else text_sections(content.stats_text)
    goals = goals_blocks(content.goals, chart_file_id=content.chart_file_id,
                         alt_text=content.chart_alt_text)
    stats = [DividerBlock(), HeaderBlock(text="How is it going?"), *goals, *numbers]
    if content.suggestions:
        stats += [DividerBlock(), HeaderBlock(text="Suggestions"),
                  *suggestion_blocks(content.suggestions[:5])]
    room = MAX_VIEW_BLOCKS - len(head) - len(tail) - len(stats) - 1
    due_budget = max(room // 2, 4)
    due = nudge_blocks(content.due, budget=due_budget, unlisted=content.more_due) \
        if content.due else [
        SectionBlock(text=MarkdownTextObject(text="Nothing is due. Enjoy your day."))]
    people_room = MAX_VIEW_BLOCKS - len(head) - len(due) - len(tail) - len(stats) - 1
    if len(people) > people_room:
        more = ContextBlock(elements=[MarkdownTextObject(
            text=f"…more people. Type `{SLASH_COMMAND} people` to see everyone.")])
        people = [*people[:people_room], more]
    blocks = head + due + tail + people + stats
    return View(type="home", callback_id="home", blocks=blocks[:MAX_VIEW_BLOCKS]).to_dict()


# App Home for someone Rapport keeps no rows for: never met, or gone after "forget me" (which
# keeps nothing, not even that they left). Opening the tab must not enrol them again.
NOTHING_STORED = ("Rapport stores nothing for you. If you typed “forget me”, everything it "
                  "kept was erased, and opening this tab does not bring anything back.")
HOW_TO_START = (f"To start (again), send any command (`{SLASH_COMMAND} help`, "
                f"`{SLASH_COMMAND} add Dana every 2 weeks`), or type one in Rapport's "
                "Messages tab.")
# The Messages tab opened by someone Rapport keeps no rows for (never met, or after "forget
# me": the same, by design), shown to them alone (chat.postEphemeral) each time they open it:
# the welcome's words with Home's "stores nothing", since posting a welcome once would take
# remembering whom it was posted to.
MESSAGES_TAB_GREETING = (f"{greeting('')}\n{NOTHING_STORED}\n"
                         "To start (again), type a command here, such as “help” or one of "
                         f"these:\n{FIRST_COMMANDS}\n{PRIVACY_NOTICE}")


def nothing_stored_view() -> dict[str, Any]:
    """App Home for someone with no rows: nothing is kept, and how to start (again)."""
    blocks = [HeaderBlock(text="Rapport"),
              SectionBlock(block_id="home_nothing_stored",
                           text=MarkdownTextObject(text=NOTHING_STORED)),
              SectionBlock(block_id="home_how_to_start",
                           text=MarkdownTextObject(text=HOW_TO_START)),
              ContextBlock(elements=[MarkdownTextObject(text=PRIVACY_NOTICE)])]
    return View(type="home", callback_id="home", blocks=blocks).to_dict()


def settings_view(settings: SettingsView) -> dict[str, Any]:
    """The settings modal, prefilled with the user's current values."""
    tz, window, working_days = settings.tz, settings.window, settings.working_days
    daily_cap, digest, ai_enabled = settings.daily_cap, settings.digest, settings.ai_enabled
    day_options = [Option(value=str(i), label=name) for i, name in enumerate(_DAYS)]
    on_off = [Option(value="on", label="On"), Option(value="off", label="Off")]
    checked = [day_options[i] for i in range(7) if working_days & (1 << i)]
    days = CheckboxesElement(action_id="value", options=day_options,
                             initial_options=checked or None)
    cap_options = [Option(value=str(n), label=str(n)) for n in range(1, 21)]
    blocks: list[Block] = [
        InputBlock(block_id="tz", label="Time zone",
                   hint="An IANA name like Europe/Berlin; Slack's profile zone by default.",
                   element=PlainTextInputElement(action_id="value", initial_value=tz,
                                                 max_length=64)),
        InputBlock(block_id="window", label="Delivery window",
                   hint="When nudges may arrive, in your time, e.g. 09:00-17:00.",
                   element=PlainTextInputElement(action_id="value", initial_value=window,
                                                 max_length=20)),
        InputBlock(block_id="days", label="Working days", element=days),
        InputBlock(block_id="cap", label="Daily cap (nudges per day)",
                   element=StaticSelectElement(action_id="value", options=cap_options,
                                               initial_option=cap_options[
                                                   max(1, min(daily_cap, 20)) - 1])),
        InputBlock(block_id="digest", label="Digest (several people in one message)",
                   element=RadioButtonsElement(action_id="value", options=on_off,
                                               initial_option=on_off[0 if digest else 1])),
    ]
    if settings.workspace_ai_enabled:
        blocks.append(InputBlock(
            block_id="ai", label="AI drafts",
            element=RadioButtonsElement(action_id="value", options=on_off,
                                        initial_option=on_off[0 if ai_enabled else 1])))
    else:
        # The person's own choice would change nothing while the workspace's is off: the form
        # says why there is none, in `settings`' words, and saving it leaves that choice be.
        blocks.append(ContextBlock(block_id=SETTINGS_WORKSPACE_AI_OFF, elements=[
            MarkdownTextObject(text=f"AI drafts: {AI_OFF_FOR_THE_WORKSPACE}")]))
    return View(type="modal", callback_id=CALLBACK_SETTINGS, title="Rapport settings",
                submit="Save", close="Cancel", blocks=blocks).to_dict()


def log_day_block(day: str) -> InputBlock:
    """A Log form's "When" (block `day`): the day picked, `day` (ISO) at first."""
    return InputBlock(block_id="day", label="When", element=DatePickerElement(
        action_id="value", initial_date=day))


def log_touchpoint_view(*, author_id: str | None, summary: str, day: str) -> dict[str, Any]:
    """The "Log touchpoint" modal, prefilled with the message's author, its day (ISO, in the
    user's calendar) and its text."""
    kinds = [Option(value=k, label=k.title()) for k in _KINDS]
    person = UserSelectElement(action_id="value", placeholder="Who did you talk to?",
                               initial_user=author_id or None)
    blocks: list[Block] = [
        InputBlock(block_id="contact", label="Contact", element=person),
        InputBlock(block_id="kind", label="How", element=StaticSelectElement(
            action_id="value", options=kinds, initial_option=kinds[0])),
        log_day_block(day),
        InputBlock(block_id="summary", label="What you talked about", optional=True,
                   element=PlainTextInputElement(
                       action_id="value", multiline=True, max_length=c.MAX_SUMMARY_CHARS,
                       # A long message is cut to what Log accepts, not refused on submit.
                       initial_value=clip(summary, c.MAX_SUMMARY_CHARS) if summary else None)),
    ]
    return View(type="modal", callback_id=CALLBACK_LOG_TOUCHPOINT, title="Log touchpoint",
                submit="Log", close="Cancel", blocks=blocks).to_dict()


def notice_view(title: str, text: str) -> dict[str, Any]:
    """A modal that only shows text (loading, errors, "AI drafts are off")."""
    return View(type="modal", title=clip(title, 24), close="Close",
                blocks=text_sections(text)[:MAX_VIEW_BLOCKS]).to_dict()


def draft_view(draft: DraftView, *, nudge_id: int | None) -> dict[str, Any]:
    """The draft in an editable box with Post (submit), Copy, Discard and the disclosure."""
    label = "Template draft" if draft.is_template else f"Draft by {draft.provider}"
    first = escape(wording.first_name(draft.contact_name) or "them")
    blocks: list[Block] = []
    if draft.notice:
        blocks += text_sections(draft.notice)
    blocks.append(InputBlock(
        block_id="draft", label=clip(f"{label}: edit it into your own words", 2000),
        element=PlainTextInputElement(action_id="value", multiline=True,
                                      max_length=MAX_INPUT_TEXT,
                                      initial_value=clip(draft.text, MAX_INPUT_TEXT))))
    if not draft.is_template and draft.disclosure_policy == "optional":
        option = Option(value="yes", label=f"Add “{DISCLOSURE_LINE}”")
        blocks.append(InputBlock(
            block_id="disclose", label="Disclosure", optional=True,
            element=CheckboxesElement(action_id="value", options=[option],
                                      initial_options=[option])))
    elif not draft.is_template and draft.disclosure_policy == "required":
        blocks.append(ContextBlock(block_id="disclose_required", elements=[MarkdownTextObject(
            text=f"Your workspace adds “{DISCLOSURE_LINE}” to AI-assisted messages.")]))
    blocks.append(ActionsBlock(block_id="draft_actions", elements=[
        ButtonElement(text="Copy text", action_id=ACTION_DRAFT_COPY, value=str(draft.draft_id)),
        ButtonElement(text="Discard", action_id=ACTION_DRAFT_DISCARD, value=str(draft.draft_id),
                      style="danger"),
    ]))
    where = (f"*Post* sends it as you in your DM with {first} when you have allowed Rapport "
             "to post for you; otherwise you get the text to copy."
             if draft.contact_platform_user_id else
             f"{first} has no Slack account linked, so *Post* gives you the text to copy.")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="Rapport never sends a draft as it is: change it first. " + where)]))
    metadata = json.dumps({"draft_id": draft.draft_id, "contact_id": draft.contact_id,
                           "nudge_id": nudge_id})
    return View(type="modal", callback_id=CALLBACK_DRAFT,
                title=clip(f"Message {draft.contact_name}", 24), submit="Post", close="Cancel",
                private_metadata=metadata, blocks=blocks).to_dict()


def draft_view_with_error(view: dict[str, Any], message: str) -> dict[str, Any]:
    """The open draft modal again with `message` on top (block ids kept, so typed text stays)."""
    blocks = [block for block in view.get("blocks") or []
              if block.get("block_id") != DRAFT_ERROR_BLOCK]
    error = SectionBlock(block_id=DRAFT_ERROR_BLOCK, text=MarkdownTextObject(
        text=clip(f"⚠️ {escape(message)}", MAX_SECTION_TEXT))).to_dict()
    kept = {key: view[key] for key in ("type", "callback_id", "title", "submit", "close",
                                       "private_metadata") if view.get(key)}
    return {**kept, "blocks": [error, *blocks][:MAX_VIEW_BLOCKS]}


def copy_view(contact_name: str, text: str, *, why: str = "") -> dict[str, Any]:
    """The final message shown to copy into the conversation by hand."""
    first = escape(wording.first_name(contact_name) or "them")
    blocks: list[Block] = []
    if why:
        blocks += text_sections(why)
    blocks.append(SectionBlock(text=MarkdownTextObject(
        text=f"Here is your message to copy and send to {first}:")))
    blocks += [SectionBlock(block_id=f"final_{i}", text=MarkdownTextObject(text=f"```{chunk}```"))
               for i, chunk in enumerate(_chunks(escape_controls(text), MAX_SECTION_TEXT - 6))]
    return View(type="modal", callback_id="draft_copied", title="Copy your message",
                close="Close", blocks=blocks[:MAX_VIEW_BLOCKS]).to_dict()


# ---------------------------------------------------------------------------------- people
def person_actions(contact_id: int) -> ActionsBlock:
    """Log, Note, Draft and Snooze 1 week for one person (value: the contact id)."""
    value = str(contact_id)
    return ActionsBlock(block_id=f"person_{contact_id}", elements=[
        ButtonElement(text="Log", action_id=ACTION_PERSON_LOG, value=value, style="primary"),
        ButtonElement(text="Note", action_id=ACTION_PERSON_NOTE, value=value),
        ButtonElement(text="Draft", action_id=ACTION_PERSON_DRAFT, value=value),
        ButtonElement(text="Snooze 1 week", action_id=ACTION_PERSON_SNOOZE, value=value),
    ])


def person_blocks(view: PersonView, *, notice: str = "") -> list[Block]:
    """A person at a glance: who, what to ask about first, rhythm, notes and conversations
    with their handles, dates and drafts, then the buttons."""
    today = view.today
    blocks: list[Block] = []
    if notice:
        blocks.append(ContextBlock(block_id="person_notice", elements=[
            MarkdownTextObject(text=clip(escape(notice), MAX_CONTEXT_TEXT))]))
    who = [wording.who(view.kind, view.company, view.role)]
    if view.email:
        who.append(view.email)
    if view.tags:
        who.append(" ".join(f"#{tag}" for tag in view.tags))
    drafts = f"\n{escape(view.drafts_note)}" if view.drafts_note else ""
    blocks.append(SectionBlock(block_id="person_who", text=MarkdownTextObject(text=clip(
        f"*{escape(view.name)}*\n{escape(' · '.join(who))}{drafts}", MAX_SECTION_TEXT))))
    if view.ask_about:
        lines = [ask_line(note, today, first=index == 0)
                 for index, note in enumerate(view.ask_about)]
        blocks.append(SectionBlock(block_id="person_ask", text=MarkdownTextObject(
            text=clip("\n".join(f"*{escape(line)}*" if i == 0 else escape(line)
                                for i, line in enumerate(lines)), MAX_SECTION_TEXT))))
    blocks.append(ContextBlock(block_id="person_rhythm", elements=[MarkdownTextObject(
        text=clip(escape(f"Rhythm: {rhythm_line(view)}"), MAX_CONTEXT_TEXT))]))
    if view.notes:
        lines = []
        for note in view.notes:
            lines.append(f"`{note.handle}` {escape(note.text)} ({note_when(note, today)})")
        if view.more_notes:
            lines.append(f"… and {view.more_notes} older")
        blocks.append(SectionBlock(block_id="person_notes", text=MarkdownTextObject(
            text=clip("*Notes*\n" + "\n".join(lines), MAX_SECTION_TEXT))))
    if view.touches:
        lines = [f"`{touch.handle}` {wording.friendly_day(touch.day, today)}, "
                 f"{escape(touch.kind)}" + (f": {escape(touch.summary)}" if touch.summary else "")
                 + source_note(touch.source) for touch in view.touches]
        total = f" ({view.touch_count} in all)" if view.touch_count > len(view.touches) else ""
        blocks.append(SectionBlock(block_id="person_touches", text=MarkdownTextObject(
            text=clip(f"*Last conversations{total}*\n" + "\n".join(lines),
                      MAX_SECTION_TEXT))))
    extra = []
    if view.dates:
        extra.append("Dates: " + "; ".join(date_text(line, today) for line in view.dates))
    extra.append(f"Drafts: {view.drafts_made} made, {view.drafts_used} used"
                 if view.drafts_made else "Drafts: none yet")
    first, *others = fix_examples(view)
    examples = ", ".join([f"`{SLASH_COMMAND} {escape_controls(first)}`",
                          *(f"`{escape_controls(example)}`" for example in others)])
    extra.append(f"Fix anything with {examples}; `undo` reverses a change.")
    blocks.append(ContextBlock(block_id="person_more", elements=[MarkdownTextObject(
        text=clip(escape(" · ".join(extra[:-1])) + "\n" + extra[-1], MAX_CONTEXT_TEXT))]))
    blocks.append(person_actions(view.contact_id))
    return blocks


def person_metadata(contact_id: int, *, from_home: bool) -> str:
    """A person modal's private_metadata: whose it is, and whether it was opened from App
    Home (a change made in it then republishes Home at once: the person is back on Home when
    the modal closes). Slack's view payload says nothing of where a modal was opened from."""
    return json.dumps({"contact_id": contact_id, "from_home": True} if from_home
                      else {"contact_id": contact_id})


def person_modal(view: PersonView, *, notice: str = "", from_home: bool = False
                 ) -> dict[str, Any]:
    """The person card as a modal (opened from a row of Home's people list, or a brief's
    Show button)."""
    return View(type="modal", callback_id=CALLBACK_PERSON, title=clip(view.name, 24),
                close="Close",
                private_metadata=person_metadata(view.contact_id, from_home=from_home),
                blocks=person_blocks(view, notice=notice)[:MAX_VIEW_BLOCKS]).to_dict()


def person_log_view(contact_id: int, name: str, today: str, *, from_home: bool = False
                    ) -> dict[str, Any]:
    """Log a conversation with one person: how, when, what about; submit builds a typed Log."""
    kinds = [Option(value=k, label=k.title()) for k in _KINDS]
    blocks: list[Block] = [
        InputBlock(block_id="kind", label="How", element=StaticSelectElement(
            action_id="value", options=kinds, initial_option=kinds[0])),
        log_day_block(today),
        InputBlock(block_id="summary", label="What you talked about", optional=True,
                   element=PlainTextInputElement(action_id="value", multiline=True,
                                                 max_length=c.MAX_SUMMARY_CHARS)),
    ]
    return View(type="modal", callback_id=CALLBACK_PERSON_LOG, title=clip(f"Log {name}", 24),
                submit="Log", close="Cancel",
                private_metadata=person_metadata(contact_id, from_home=from_home),
                blocks=blocks).to_dict()


def person_note_view(contact_id: int, name: str, *, from_home: bool = False
                     ) -> dict[str, Any]:
    """Note something about one person, with an optional follow-up day."""
    blocks: list[Block] = [
        InputBlock(block_id="text", label="Something to remember",
                   element=PlainTextInputElement(action_id="value", multiline=True,
                                                 max_length=c.MAX_SUMMARY_CHARS)),
        InputBlock(block_id="follow_up", label="Remind me to ask about it on", optional=True,
                   element=DatePickerElement(action_id="value")),
    ]
    return View(type="modal", callback_id=CALLBACK_PERSON_NOTE,
                title=clip(f"Note for {name}", 24), submit="Save", close="Cancel",
                private_metadata=person_metadata(contact_id, from_home=from_home),
                blocks=blocks).to_dict()


def confirm_blocks(view: ConfirmView) -> list[Block]:
    """A question with the button that answers yes (forgetting a person)."""
    blocks = text_sections(view.prompt)
    command = view.command
    if isinstance(command, c.Forget) and command.person is not None \
            and command.person.contact_id is not None:
        blocks.append(ActionsBlock(block_id=f"confirm_{command.person.contact_id}", elements=[
            ButtonElement(text=clip(view.label, 75), action_id=ACTION_CONFIRM_FORGET,
                          value=str(command.person.contact_id), style="danger",
                          # Plain text: the name shows as written, never as markup.
                          confirm=ConfirmObject(title="Forget for good?",
                                                text=PlainTextObject(text=clip(view.prompt, 300)),
                                                confirm="Forget", deny="Keep"))]))
    return blocks
