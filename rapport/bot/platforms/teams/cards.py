"""Adaptive Cards (schema 1.5, which Teams renders) for nudges, digests, outcomes and drafts.

Buttons are ``Action.Execute`` (Universal Actions: an ``adaptiveCard/action`` invoke) with an
``Action.Submit`` fallback (a message whose ``value`` is the data) for clients without them.
Both carry the same ``data``: ``{"rapport": kind, "verb": verb, ...ids}``.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from botbuilder.core import CardFactory
from botbuilder.schema import Attachment

from rapport.bot.core import commands as c
from rapport.bot.core.commands import SuggestionAnswer
from rapport.bot.core.drafts import DISCLOSURE_LINE
from rapport.bot.core.overview import more_nudges_line
from rapport.bot.core.profile import (
    ask_line,
    date_text,
    fix_examples,
    note_when,
    rhythm_line,
    source_note,
)
from rapport.bot.core.stats import UserStats, automatic_note
from rapport.bot.core.trend_chart import TrendChart
from rapport.bot.core.views import ConfirmView, DraftView, NoteLine, PersonView, TouchLine
from rapport.bot.platforms.teams.directory import given_name
from rapport.scheduler import planner, wording
from rapport.scheduler.messenger import NudgeItem, PersonButton, SuggestionItem

CARD_VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Teams' file cards (Microsoft Learn, "Send and receive files using bot"): personal chat only.
FILE_CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO_CARD = "application/vnd.microsoft.teams.card.file.info"
NUDGE = "nudge"
DRAFT = "draft"
DRAFT_TEXT_INPUT = "draft_text"
# The disclosure toggle on an AI draft under the `optional` policy ("true" / "false").
DRAFT_DISCLOSE_INPUT = "draft_disclose"
IMPORT = "import"
PERSON = "person"
# A brief names at most this many people with buttons.
MAX_BRIEF_PEOPLE = 5
# A person card's inputs (one card per person, so the ids need no suffix).
PERSON_LOG_KIND = "person_log_kind"
PERSON_LOG_DAY = "person_log_day"
PERSON_LOG_SUMMARY = "person_log_summary"
PERSON_NOTE_TEXT = "person_note_text"
PERSON_NOTE_DAY = "person_note_day"
LOG_KINDS = ("chat", "call", "meeting", "coffee", "email", "lunch")
IMPORT_CONFIRM = "import_confirm"
IMPORT_CANCEL = "import_cancel"
SUGGESTION = "suggestion"
SUGGESTION_VERBS: dict[str, SuggestionAnswer] = {
    "suggestion_accept": "accept", "suggestion_keep": "keep", "suggestion_silence": "silence"}
# At most this many nudges on one card. Each takes 5 to 7 KB with its buttons (counted as
# Teams does, UTF-16), so ten of them (some 60 KB) are more than one message holds:
# `digest_parts` and `text_card` measure the cards instead of trusting this count.
MAX_CARD_ITEMS = 10
# Teams refuses a bot message over 40 KB counted as UTF-16 (413 MessageSizeTooBig): a person
# card with long notes and conversation summaries keeps room for the activity around it.
MAX_PERSON_CARD_UTF16_BYTES = 34 * 1024
# The same room for `due`'s card, its nudges with their buttons and the lines beside them.
MAX_DUE_CARD_UTF16_BYTES = MAX_PERSON_CARD_UTF16_BYTES
# And for each card of a proactive digest: one that would not fit goes out as several.
MAX_DIGEST_CARD_UTF16_BYTES = MAX_PERSON_CARD_UTF16_BYTES
# And for `stats`: the goal chart travels inside the card as a base64 data URI, which the
# Connector counts with the rest (some 30 KB as UTF-16 for a chart of five zigzagging goals).
MAX_STATS_CARD_UTF16_BYTES = MAX_PERSON_CARD_UTF16_BYTES
# And for a meeting brief: a meeting with many people, each with long notes.
MAX_BRIEF_CARD_UTF16_BYTES = MAX_PERSON_CARD_UTF16_BYTES
# Where the chart would be, when even its small version does not fit (the goal lines above
# and the trend line below it give the same figures).
CHART_LEFT_OUT = "Chart left out to fit Teams' message size; its figures are below."
# The small version of the chart: antialiased lines in six colours take some 20 KB as a
# full-colour PNG and a quarter of that in a palette this size, which looks the same.
_CHART_PALETTE_COLORS = 32
# Below this many characters a note is no longer worth shortening further.
_SHORTEST_CLIP = 60
SHORTENED_NOTE = ("Long notes and summaries are shortened to fit in Teams; "
                  "“search <words>” shows them in full.")


def snooze_input_id(nudge_id: int) -> str:
    """The Input.Date id of one nudge's "pick a date", unique within a digest card."""
    return f"snooze_until_{nudge_id}"


# Teams renders a subset of Markdown in TextBlocks and facts: names and notes must not become
# links ("[click](https://…)"), emphasis or lists. CommonMark backslash escapes neutralise them.
_MARKDOWN = re.compile(r"([\\`*_\[\]~])")
_BULLET = re.compile(r"^(\s*)([-+])(\s)", re.MULTILINE)
_NUMBERED = re.compile(r"^(\s*)(\d+)\.(\s)", re.MULTILINE)


def escape_markdown(text: str) -> str:
    """`text` shown as written in a card: Markdown characters backslash-escaped."""
    text = _MARKDOWN.sub(r"\\\1", text)
    text = _BULLET.sub(r"\1\\\2\3", text)
    return _NUMBERED.sub(r"\1\2\\.\3", text)


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": escape_markdown(text), "wrap": True, **style}


def _execute(title: str, data: Mapping[str, Any], *, style: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "Action.Execute", "title": title, "verb": data["verb"], "data": dict(data),
        "fallback": {"type": "Action.Submit", "title": title, "data": dict(data)},
    }
    if style:
        action["style"] = style
    return action


def _card(body: list[dict[str, Any]], actions: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
    }
    if actions:
        card["actions"] = list(actions)
    # Teams shows an Action.Execute card to everyone; no `refresh` because only its owner acts.
    card["msteams"] = {"width": "Full"}
    return card


def nudge_actions(nudge_id: int, card_nudges: Sequence[int], *,
                  due_card: str | None = None) -> list[dict[str, Any]]:
    """Done, Snooze (1 day, 1 week, pick a date), Draft and Dismiss for one nudge; on `due`'s
    card each says which (`due_card`), so a click redraws the whole of it."""

    def data(verb: str) -> dict[str, Any]:
        fields: dict[str, Any] = {"rapport": NUDGE, "verb": verb, "nudge_id": nudge_id,
                                  "card_nudges": list(card_nudges)}
        if due_card is not None:
            fields[DUE_CARD_FIELD] = due_card
        return fields

    pick_date = {
        "type": "Action.ShowCard", "title": "Snooze until…",
        "card": {"type": "AdaptiveCard", "version": CARD_VERSION,
                 "body": [{"type": "Input.Date", "id": snooze_input_id(nudge_id),
                           "label": "Remind me again on", "isRequired": True,
                           "errorMessage": "Pick a day."}],
                 "actions": [_execute("Snooze", data("snooze"))]},
    }
    return [
        _execute("Done", data("done"), style="positive"),
        _execute("Snooze 1 day", data("snooze_1d")),
        _execute("Snooze 1 week", data("snooze_1w")),
        pick_date,
        _execute("Draft a message", data("draft")),
        _execute("Dismiss", data("dismiss")),
    ]


def _item_block(item: NudgeItem, card_nudges: Sequence[int],
                due_card: str | None = None) -> dict[str, Any]:
    items: list[dict[str, Any]] = [_text(item.headline, weight="Bolder")]
    if item.context:
        items.append(_text(item.context, isSubtle=True, spacing="None"))
    items.append({"type": "ActionSet", "actions": nudge_actions(item.nudge_id, card_nudges,
                                                                due_card=due_card)})
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": items}


# The data field that marks a nudge's buttons as `due`'s card's, and its values: the card
# answering "due", and the one answering "who haven't I talked to?".
DUE_CARD_FIELD = "card"
DUE_CARD = "due"
QUIET_DUE_CARD = "due_quiet"
DUE_CARDS = frozenset({DUE_CARD, QUIET_DUE_CARD})
# The heading of a card redrawn after its last open nudge was handled.
NOTHING_LEFT = "Nothing left to do on this card:"


def nudge_card(items: Sequence[NudgeItem], *, intro: str | None = None,
               outcomes: Mapping[int, str] | None = None,
               card_nudges: Sequence[int] | None = None,
               due_card: str | None = None) -> dict[str, Any]:
    """One nudge or a digest of several, each with its own buttons; acted-on ones show outcomes.

    ``card_nudges`` are all nudge ids the card has ever shown (so an update after one click can
    redraw the others); ``outcomes`` replace an item's buttons with what happened.
    """
    shown = list(items[:MAX_CARD_ITEMS])
    ids = list(card_nudges) if card_nudges is not None else [i.nudge_id for i in shown]
    outcomes = dict(outcomes or {})
    open_ids = {item.nudge_id for item in shown}
    if intro is None:
        # People, not nudges (one person may have several), and only those the card still
        # has buttons for: a card redrawn after a click counts what is left to do, never a
        # handled nudge as a person of its own (two of Dana's and one of Lee's said
        # "3 people" once one of Dana's was done).
        people = wording.people_count(item for item in shown if item.nudge_id not in outcomes)
        intro = (NOTHING_LEFT if people == 0 else "A good moment to reach out:" if people == 1
                 else f"{people} people worth a message:")
    body: list[dict[str, Any]] = [_text(intro, size="Medium", weight="Bolder")]
    for nudge_id in ids:
        if nudge_id in outcomes:
            body.append(_text(outcomes[nudge_id], separator=True, color="Good"))
    body.extend(_item_block(item, ids, due_card) for item in shown
                if item.nudge_id not in outcomes)
    handled = [n for n in ids if n not in outcomes and n not in open_ids]
    if handled:
        body.append(_text(f"{len(handled)} more already handled.", isSubtle=True))
    return _card(body)


def digest_parts(items: Sequence[NudgeItem]) -> list[tuple[NudgeItem, ...]]:
    """`items` in order, cut into runs whose `nudge_card` each fits in one Teams message (at
    most MAX_CARD_ITEMS, at least one): a digest Teams would refuse (413) goes out as several
    cards instead, every nudge on one of them with its own buttons."""
    parts: list[tuple[NudgeItem, ...]] = []
    part: list[NudgeItem] = []
    for item in items:
        if part and (len(part) == MAX_CARD_ITEMS or card_size(nudge_card(
                [*part, item])) > MAX_DIGEST_CARD_UTF16_BYTES):
            parts.append(tuple(part))
            part = []
        part.append(item)
    if part:
        parts.append(tuple(part))
    return parts


def help_card(text: str, privacy: str) -> dict[str, Any]:
    """`help` as a card: the commands, then the privacy notice Teams' store review looks for."""
    return _card([_text("Rapport", size="Medium", weight="Bolder"),
                  *_lines(text),
                  _text("Your privacy", weight="Bolder", separator=True),
                  _text(privacy, isSubtle=True)])


def outcome_card(text: str) -> dict[str, Any]:
    """The card that replaces a nudge after its last action: what happened, no buttons."""
    return _card([_text(text, color="Good")])


def draft_outcome_card(outcome: str, message: str) -> dict[str, Any]:
    """A finished draft: what to do with it, then the message to copy, exactly as written.

    Not in a TextBlock: one reads Markdown, where a single newline is no line break and the
    escapes that keep "*" or "1." as written show as backslashes in some clients, so the
    text copied was not the text written. A TextRun is shown as written (Adaptive Cards
    1.2+: "Markdown is not supported"): each line is a RichTextBlock of its own, a blank line
    a wider gap, and the AI disclosure the message ends with a line of its own."""
    lines: list[dict[str, Any]] = []
    gap = False
    for line in message.split("\n"):
        if not line.strip():
            gap = bool(lines)
            continue
        lines.append({"type": "RichTextBlock", "spacing": "Medium" if gap else "None",
                      "inlines": [{"type": "TextRun", "text": line}]})
        gap = False
    body = [_text(outcome, color="Good")]
    if lines:
        body.append({"type": "Container", "style": "emphasis", "items": lines})
    return _card(body)


def cleared_card(text: str) -> dict[str, Any]:
    """The card that replaces a delivered nudge about someone forgotten: the neutral text,
    no buttons."""
    return _card([_text(text)])


def brief_card(text: str, people: Sequence[PersonButton]) -> dict[str, Any]:
    """A meeting brief: its lines, then per person Show (their card) and Snooze 1 week (their
    nudges), the same actions as the person card's.

    A meeting with many people, each with long notes, is more than one Teams message holds:
    the lines are shortened, evenly, then the last people are counted ("… and 3 more")."""
    lines = [line for line in text.splitlines() if line.strip()]

    def candidates() -> Iterator[dict[str, Any]]:
        yield _brief_card(lines, people)
        for limit in _halved(max(map(len, lines), default=0)):
            yield _brief_card([c.clip(line, limit) for line in lines], people,
                              shortened=True)
        # Still too many people: the first line (the meeting) stays, the last ones go.
        shortest = [c.clip(line, _SHORTEST_CLIP) for line in lines]
        for kept in range(len(lines) - 1, 0, -1):
            yield _brief_card(shortest[:kept], people, shortened=True,
                              more=len(lines) - kept)

    return first_that_fits(candidates(), MAX_BRIEF_CARD_UTF16_BYTES)


def _brief_card(lines: Sequence[str], people: Sequence[PersonButton], *,
                shortened: bool = False, more: int = 0) -> dict[str, Any]:
    body = [_text(line, spacing="Small") for line in lines]
    if more:
        body.append(_text(f"… and {more} more at this meeting.", spacing="Small"))
    if shortened:
        body.append(_text(SHORTENED_NOTE, isSubtle=True))
    for person in people[:MAX_BRIEF_PEOPLE]:
        first = given_name(person.name) or "them"
        data = {"rapport": PERSON, "contact_id": person.contact_id}
        body.append({"type": "ActionSet", "actions": [
            _execute(f"Show {first}", {**data, "verb": "person_show"}),
            _execute(f"Snooze {first} 1 week", {**data, "verb": "person_snooze"})]})
    return _card(body)


def text_card(text: str, items: Sequence[NudgeItem], *, unlisted: int = 0,
              due_card: str = DUE_CARD, outcomes: Mapping[int, str] | None = None,
              card_nudges: Sequence[int] | None = None) -> dict[str, Any]:
    """`due`: each open nudge once, with its buttons, then the rest of the answer (overdue,
    coming up) as plain lines, as Slack shows it. The nudges a card has no room for, and the
    `unlisted` ones the core left out of `items`, are counted, not dropped silently.

    Redrawn after a click (`outcomes`, `card_nudges` as for `nudge_card`), the clicked nudge
    shows what happened in place of its buttons and the rest stays; `due_card` says which
    question asked for it (`due`, or who you have not talked to)."""
    rest = _lines(text)

    def card_with(shown: Sequence[NudgeItem]) -> dict[str, Any]:
        # A nudge left out for room is counted below, not as handled.
        left_out = {item.nudge_id for item in items[len(shown):]}
        ids = None if card_nudges is None else [n for n in card_nudges if n not in left_out]
        card = nudge_card(shown, intro="Due now", outcomes=outcomes, card_nudges=ids,
                          due_card=due_card)
        more = len(items) - len(shown) + unlisted
        if more:
            card["body"].append(_text(more_nudges_line(more), isSubtle=True))
        if rest:
            card["body"] += [{**rest[0], "separator": True, "spacing": "Medium"}, *rest[1:]]
        return card

    # Each nudge's buttons take some 5 KB: fewer of them (at least one), rather than a card
    # Teams refuses (413) and an answer that never arrives.
    most = min(len(items), MAX_CARD_ITEMS)
    return first_that_fits((card_with(items[:count]) for count in range(most, 0, -1)),
                           MAX_DUE_CARD_UTF16_BYTES) if most else card_with(())


def draft_card(draft: DraftView) -> dict[str, Any]:
    """A draft to edit: multiline input prefilled with the text; Copy and Discard."""
    source = "Template draft" if draft.is_template else f"AI draft ({draft.provider})"
    body: list[dict[str, Any]] = [
        _text(f"Draft for {draft.contact_name}", size="Medium", weight="Bolder"),
        _text(f"{source}. Make it your own before you send it.", isSubtle=True, spacing="None"),
    ]
    if draft.notice:
        body.append(_text(draft.notice, isSubtle=True))
    body.append({"type": "Input.Text", "id": DRAFT_TEXT_INPUT, "isMultiline": True,
                 "value": draft.text, "maxLength": 4000, "label": "Your message"})
    # The disclosure as Slack's modal and the console offer it (docs/ai-drafts.md).
    if not draft.is_template and draft.disclosure_policy == "optional":
        body.append({"type": "Input.Toggle", "id": DRAFT_DISCLOSE_INPUT,
                     "title": f"Add “{DISCLOSURE_LINE}”", "value": "true",
                     "valueOn": "true", "valueOff": "false"})
    elif not draft.is_template and draft.disclosure_policy == "required":
        body.append(_text(f"Your workspace adds “{DISCLOSURE_LINE}” to AI-assisted messages.",
                          isSubtle=True))

    def data(verb: str) -> dict[str, Any]:
        return {"rapport": DRAFT, "verb": verb, "draft_id": draft.draft_id}

    # A bot cannot post as the user in Teams (DESIGN: "in Teams it is shown to copy"), so the
    # positive action finishes the edit and shows the final text to copy; `can_post` is moot.
    actions = [_execute("Copy my version", data("draft_copy"), style="positive"),
               _execute("Discard", data("draft_discard"))]
    return _card(body, actions)


def chart_uri(png: bytes) -> str:
    """A chart's PNG as a data URI, for an Image in a card."""
    return "data:image/png;base64," + base64.b64encode(png).decode()


def small_chart_png(png: bytes) -> bytes | None:
    """`png` in a palette of _CHART_PALETTE_COLORS colours, or None when that is not smaller
    or Pillow cannot read it. Pillow is there whenever a chart is: matplotlib needs it."""
    try:
        from PIL import Image
    except ImportError:
        return None
    out = io.BytesIO()
    try:
        with Image.open(io.BytesIO(png)) as image:
            image.convert("RGB").quantize(colors=_CHART_PALETTE_COLORS).save(out, format="PNG")
    except (OSError, ValueError):
        return None
    small = out.getvalue()
    return small if len(small) < len(png) else None


def suggestion_actions(suggestion_id: int, card_suggestions: Sequence[int] = (),
                       labels: tuple[str, str, str] = ("Yes, change it", "Keep as it is",
                                                       "Stop suggesting this")
                       ) -> list[dict[str, Any]]:
    """Accept, keep as it is, stop suggesting this (or, for a person met: Add, Not now,
    Never): each sends a typed answer."""

    def data(verb: str) -> dict[str, Any]:
        return {"rapport": SUGGESTION, "verb": verb, "suggestion_id": suggestion_id,
                "card_suggestions": list(card_suggestions)}

    accept, keep, silence = labels
    return [_execute(accept, data("suggestion_accept"), style="positive"),
            _execute(keep, data("suggestion_keep")),
            _execute(silence, data("suggestion_silence"))]


def suggestion_block(item: SuggestionItem, card_suggestions: Sequence[int] = ()
                     ) -> dict[str, Any]:
    """One suggestion: its reason in plain words, then its three answers."""
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": [
        _text(f"💡 Suggestion {item.suggestion_id}: {item.text}", weight="Bolder"),
        {"type": "ActionSet",
         "actions": suggestion_actions(item.suggestion_id, card_suggestions,
                                       item.labels)}]}


def suggestions_card(intro: str, items: Sequence[SuggestionItem], *,
                     outcomes: Mapping[int, str] | None = None,
                     card_suggestions: Sequence[int] | None = None,
                     footer: str = "") -> dict[str, Any]:
    """Open suggestions with their answers (`suggestions`, the weekly summary); answered ones
    show what happened instead of buttons."""
    shown = list(items[:MAX_CARD_ITEMS])
    ids = list(card_suggestions) if card_suggestions is not None \
        else [i.suggestion_id for i in shown]
    outcomes = dict(outcomes or {})
    body: list[dict[str, Any]] = [*_lines(intro)] if intro else []
    for suggestion_id in ids:
        if suggestion_id in outcomes:
            body.append(_text(outcomes[suggestion_id], separator=True, color="Good"))
    body.extend(suggestion_block(item, ids) for item in shown
                if item.suggestion_id not in outcomes)
    if footer:
        body.append(_text(footer, isSubtle=True))
    return _card(body)


def goal_blocks(lines: Sequence[str], chart: TrendChart | None, *, png: bytes | None = None,
                more: int = 0) -> list[dict[str, Any]]:
    """Goal attainment first: one line per goal (`more` of them counted, not shown), the
    trend chart drawn from `png` (or a line saying it was left out to fit), its text line."""
    if not lines:
        return []
    body: list[dict[str, Any]] = [_text("Goals", weight="Bolder"),
                                  *(_text(line, spacing="None") for line in lines)]
    if more:
        body.append(_text(f"… and {more} more goals; “goals” lists them all.",
                          spacing="None"))
    if chart is not None and png is not None:
        body.append({"type": "Image", "url": chart_uri(png), "altText": chart.alt_text,
                     "size": "Stretch", "id": "goal_chart"})
    elif chart is not None and chart.png is not None:
        body.append(_text(CHART_LEFT_OUT, isSubtle=True, spacing="Small"))
    if chart is not None and chart.alt_text:
        body.append(_text(chart.alt_text, isSubtle=True, spacing="Small"))
    return body


def stats_card(stats: UserStats, *, goals: Sequence[str] = (),
               chart: TrendChart | None = None,
               suggestions: Sequence[SuggestionItem] = (),
               suggestions_line: str = "") -> dict[str, Any]:
    """`stats` as a card: goals (with the trend chart) first, then the same numbers as the
    console text as facts, then open suggestions with their answers.

    The chart rides in the card as a data URI, which Teams counts with the rest: a card
    that would not fit in one message gets the chart in fewer colours, else leaves it out
    with a line saying so; then the last suggestions, then the last goals, are counted
    ("… and 2 more") instead of shown."""
    most = min(len(suggestions), MAX_CARD_ITEMS)

    def card(png: bytes | None, *, shown_suggestions: int = most,
             shown_goals: int = len(goals)) -> dict[str, Any]:
        return _stats_card(stats, goal_blocks(goals[:shown_goals], chart, png=png,
                                              more=len(goals) - shown_goals),
                           suggestions[:shown_suggestions], suggestions_line,
                           more_suggestions=len(suggestions) - shown_suggestions)

    def candidates() -> Iterator[dict[str, Any]]:
        if chart is not None and chart.png is not None:
            yield card(chart.png)
            small = small_chart_png(chart.png)
            if small is not None:
                yield card(small)
        for shown in range(most, -1, -1):
            yield card(None, shown_suggestions=shown)
        for shown in range(len(goals) - 1, 0, -1):
            yield card(None, shown_suggestions=0, shown_goals=shown)

    return first_that_fits(candidates(), MAX_STATS_CARD_UTF16_BYTES)


def _stats_card(stats: UserStats, goals: list[dict[str, Any]],
                suggestions: Sequence[SuggestionItem], suggestions_line: str, *,
                more_suggestions: int) -> dict[str, Any]:
    def percent(share: float | None) -> str:
        return "n/a" if share is None else f"{share:.0%}"

    automatic = automatic_note(stats)
    facts = [
        ("Conversations", f"{stats.touchpoints_week} this week, {stats.touchpoints_month} "
                          "in 30 days" + (f" ({automatic})" if automatic else "")),
        ("Nudges acted on", f"{stats.nudges_acted_on} ({percent(stats.acted_on_rate)} "
                            "within 48 h)"),
        ("Snoozed / dismissed / ignored", f"{stats.nudges_snoozed} / {stats.nudges_dismissed}"
                                          f" / {stats.nudges_ignored}"),
        ("Within their rhythm", f"{stats.contacts_within_cadence} of "
                                f"{stats.contacts_with_cadence} "
                                f"({percent(stats.health_share)})"),
        ("Drafts used / edited", f"{stats.drafts_used} / {stats.drafts_edited}"),
    ]
    if stats.acted_on_rate_with_draft is not None:
        facts.append(("Acted on with / without a draft",
                      f"{percent(stats.acted_on_rate_with_draft)} / "
                      f"{percent(stats.acted_on_rate_without_draft)}"))
    if stats.mean_rewritten_share is not None:
        facts.append(("Drafts rewritten (average)", percent(stats.mean_rewritten_share)))
    body: list[dict[str, Any]] = [
        _text("How it is going", weight="Bolder", size="Medium"),
        *goals,
        {"type": "FactSet", "facts": [{"title": title, "value": escape_markdown(value)}
                                      for title, value in facts]},
    ]
    if stats.most_overdue:
        slipped = ", ".join(f"{c.name} ({planner.humanize_days(c.days_overdue)} overdue)"
                            for c in stats.most_overdue)
        body.append(_text(f"Slipped most: {slipped}", isSubtle=True))
    if suggestions_line:
        body.append(_text(suggestions_line, isSubtle=True))
    body.extend(suggestion_block(item) for item in suggestions)
    if more_suggestions:
        body.append(_text(f"… and {more_suggestions} more; “suggestions” shows them all.",
                          isSubtle=True))
    return _card(body)


def _lines(text: str, **style: Any) -> list[dict[str, Any]]:
    # One TextBlock per line: Teams renders a lone newline inside a TextBlock as a space.
    return [_text(line, spacing="None", **style) for line in text.splitlines() if line.strip()]


def import_preview_card(filename: str, text: str, *, token: str | None) -> dict[str, Any]:
    """An upload's dry run: what would change (or the row errors); Import and Cancel if valid."""
    body: list[dict[str, Any]] = [
        _text(f"Import from {filename}", size="Medium", weight="Bolder"),
        *_lines(text, color="Attention" if token is None else "Default"),
    ]
    if token is None:
        body.append(_text("Fix the file and send it again.", isSubtle=True))
        return _card(body)

    def data(verb: str) -> dict[str, Any]:
        return {"rapport": IMPORT, "verb": verb, "token": token}

    return _card(body, [_execute("Import", data(IMPORT_CONFIRM), style="positive"),
                        _execute("Cancel", data(IMPORT_CANCEL))])


def import_result_card(filename: str, text: str, *, ok: bool) -> dict[str, Any]:
    """What replaced the preview after Import or Cancel: the outcome, no buttons."""
    return _card([_text(f"Import from {filename}", size="Medium", weight="Bolder"),
                  *_lines(text, color="Good" if ok else "Default")])


def as_attachment(card: Mapping[str, Any]) -> Attachment:
    """A card as a botbuilder attachment."""
    return CardFactory.adaptive_card(dict(card))


def file_consent_attachment(filename: str, description: str, size_in_bytes: int,
                            context: Mapping[str, Any]) -> Attachment:
    """A FileConsentCard: Teams asks the person whether the bot may put `filename` into their
    OneDrive, and sends `context` back with their answer (a ``fileConsent/invoke``)."""
    return Attachment(content_type=FILE_CONSENT_CARD, name=filename, content={
        "description": description, "sizeInBytes": size_in_bytes,
        "acceptContext": dict(context), "declineContext": dict(context)})


def file_info_attachment(name: str, content_url: str, unique_id: str,
                         file_type: str) -> Attachment:
    """A FileInfoCard: the uploaded file, as Teams shows a file in a chat."""
    return Attachment(content_type=FILE_INFO_CARD, name=name, content_url=content_url,
                      content={"uniqueId": unique_id, "fileType": file_type})


def card_versions(card: Mapping[str, Any]) -> Iterable[str]:
    """Every ``version`` in a card and its nested cards (tests check Teams can render them)."""
    if isinstance(card.get("version"), str):
        yield card["version"]
    for value in card.values():
        children = value if isinstance(value, list) else [value]
        for child in children:
            if isinstance(child, Mapping):
                yield from card_versions(child)


def card_size(card: Mapping[str, Any]) -> int:
    """The bytes a card takes in a message as Teams counts them (JSON, UTF-16)."""
    return len(json.dumps(card, ensure_ascii=False).encode("utf-16-le"))


def first_that_fits(candidates: Iterable[dict[str, Any]], limit: int) -> dict[str, Any]:
    """The first of `candidates` (the whole card, then ever smaller versions of it) whose
    `card_size` is at most `limit`, else the last, the smallest there is: a card Teams
    refuses (413) never arrives, so the person sees less rather than nothing. Candidates
    are built only as far as needed."""
    card: dict[str, Any] | None = None
    for card in candidates:
        if card_size(card) <= limit:
            return card
    if card is None:
        raise ValueError("no card to fit")
    return card


def _shortened(view: PersonView, limit: int) -> PersonView:
    """`view` with every note and conversation summary at most `limit` characters."""
    def note(line: NoteLine) -> NoteLine:
        return replace(line, text=c.clip(line.text, limit), reminder=c.clip(line.reminder, limit))

    def touch(line: TouchLine) -> TouchLine:
        return replace(line, summary=c.clip(line.summary, limit) if line.summary else None)

    return replace(view, ask_about=tuple(note(line) for line in view.ask_about),
                   notes=tuple(note(line) for line in view.notes),
                   touches=tuple(touch(line) for line in view.touches))


def person_card(view: PersonView, *, notice: str = "") -> dict[str, Any]:
    """A person at a glance: what to ask about first, rhythm, notes and conversations with
    their handles, dates and drafts; Log and Note (small forms), Draft and Snooze 1 week.

    Ten long notes and five long summaries are more than one Teams message holds, and a card
    Teams refuses never arrives: they are shortened, evenly, until the card fits."""
    def candidates() -> Iterator[dict[str, Any]]:
        yield _person_card(view, notice=notice)
        for limit in _halved(c.MAX_SUMMARY_CHARS):
            yield _person_card(_shortened(view, limit), notice=notice, shortened=True)

    return first_that_fits(candidates(), MAX_PERSON_CARD_UTF16_BYTES)


def _halved(longest: int) -> Iterator[int]:
    """Ever shorter limits for long text: `longest` halved, again and again, for as long as
    the limit before was above _SHORTEST_CLIP."""
    limit = longest
    while limit > _SHORTEST_CLIP:
        limit //= 2
        yield limit


def _person_card(view: PersonView, *, notice: str, shortened: bool = False) -> dict[str, Any]:
    today = view.today
    who = [wording.who(view.kind, view.company, view.role)]
    if view.email:
        who.append(view.email)
    if view.tags:
        who.append(" ".join(f"#{tag}" for tag in view.tags))
    body: list[dict[str, Any]] = []
    if notice:
        body.append(_text(notice, color="Good"))
    body += [_text(view.name, size="Medium", weight="Bolder"),
             _text(" · ".join(who), isSubtle=True, spacing="None")]
    if view.drafts_note:
        body.append(_text(view.drafts_note, isSubtle=True, spacing="None"))
    for index, note in enumerate(view.ask_about):
        body.append(_text(ask_line(note, today, first=index == 0),
                          weight="Bolder" if index == 0 else "Default"))
    body.append(_text(f"Rhythm: {rhythm_line(view)}", isSubtle=True))
    facts = []
    for note in view.notes:
        facts.append({"title": note.handle, "value": escape_markdown(
            f"{note.text} ({note_when(note, today)})")})
    for touch in view.touches:
        about = f": {touch.summary}" if touch.summary else ""
        facts.append({"title": touch.handle, "value": escape_markdown(
            f"{wording.friendly_day(touch.day, today)}, {touch.kind}{about}"
            f"{source_note(touch.source)}")})
    if facts:
        body.append({"type": "FactSet", "facts": facts})
    if shortened:
        body.append(_text(SHORTENED_NOTE, isSubtle=True))
    extra = ["; ".join(date_text(line, today) for line in view.dates)] if view.dates else []
    extra.append(f"Drafts: {view.drafts_made} made, {view.drafts_used} used"
                 if view.drafts_made else "Drafts: none yet")
    body.append(_text(" · ".join(extra), isSubtle=True))
    # Escaped once, by _text.
    examples = ", ".join(f"“{example}”" for example in fix_examples(view))
    body.append(_text(f"Fix anything with {examples}; “undo” reverses a change.",
                      isSubtle=True, spacing="None"))

    def data(verb: str) -> dict[str, Any]:
        return {"rapport": PERSON, "verb": verb, "contact_id": view.contact_id}

    kinds = [{"title": kind.title(), "value": kind} for kind in LOG_KINDS]
    log_form = {
        "type": "Action.ShowCard", "title": "Log",
        "card": {"type": "AdaptiveCard", "version": CARD_VERSION, "body": [
            {"type": "Input.ChoiceSet", "id": PERSON_LOG_KIND, "label": "How",
             "choices": kinds, "value": "chat"},
            {"type": "Input.Date", "id": PERSON_LOG_DAY, "label": "When",
             "value": today.isoformat(), "max": today.isoformat()},
            {"type": "Input.Text", "id": PERSON_LOG_SUMMARY, "isMultiline": True,
             "label": "What you talked about", "maxLength": c.MAX_SUMMARY_CHARS}],
            "actions": [_execute("Log", data("person_log"))]},
    }
    note_form = {
        "type": "Action.ShowCard", "title": "Note",
        "card": {"type": "AdaptiveCard", "version": CARD_VERSION, "body": [
            {"type": "Input.Text", "id": PERSON_NOTE_TEXT, "isMultiline": True,
             "label": "Something to remember", "isRequired": True,
             "errorMessage": "What should I remember?", "maxLength": c.MAX_SUMMARY_CHARS},
            {"type": "Input.Date", "id": PERSON_NOTE_DAY,
             "label": "Remind me to ask about it on", "min": today.isoformat()}],
            "actions": [_execute("Save", data("person_note"))]},
    }
    return _card(body, [log_form, note_form, _execute("Draft", data("person_draft")),
                        _execute("Snooze 1 week", data("person_snooze"))])


def confirm_card(view: ConfirmView) -> dict[str, Any]:
    """A question with the button that answers yes (forgetting a person)."""
    command = view.command
    actions = []
    if isinstance(command, c.Forget) and command.person is not None \
            and command.person.contact_id is not None:
        actions.append(_execute(view.label, {"rapport": PERSON, "verb": "person_forget",
                                             "contact_id": command.person.contact_id},
                                style="destructive"))
    return _card(_lines(view.prompt), actions)
