"""Drafts the user must make their own: AI or template text, the edit check, disclosure, records.

`DraftService.draft_for` builds the smallest possible context for one contact, asks the provider
(or fills a template when AI is off, unconfigured or failing) and stores a Draft row.
`DraftService.finish` is the one way a draft leaves Rapport: it refuses an unedited draft, adds
the disclosure line the workspace policy asks for, and records the outcome. Platforms do the
actual posting or show the text to copy.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from rapidfuzz.distance import Levenshtein
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from rapport.bot.core.ai import AIProvider, AISettings, ProviderError, provider_from_settings
from rapport.bot.core.commands import DISCLOSURE_POLICIES, full_stop
from rapport.bot.core.context import Actor, UserContext
from rapport.bot.core.users import fresh_context
from rapport.bot.core.views import DraftView, Reply, error
from rapport.scheduler import items, planner, wording
from rapport.storage import queries
from rapport.storage.uow import Database

logger = logging.getLogger(__name__)

TEMPLATE = "template"
MAX_DRAFT_CHARS = 1_000
# What a person may send after editing; platforms have their own, larger limits.
MAX_FINAL_CHARS = 4_000
# Context fields are cut short: the model needs the gist, not the whole note.
MAX_FIELD_CHARS = 300
DISCLOSURE_LINE = "(drafted with AI help, edited by me)"
UNCHANGED = ("That is still the draft as it was written (changes to case, spacing or "
             "punctuation don't count). Make it yours: change the words, add something only "
             "you would say, or write your own message from scratch.")
TONES = {
    "warm": "warm and friendly",
    "brief": "brief and casual, one or two short sentences",
    "formal": "polite and professional",
}
SYSTEM_PROMPT = (
    "You help a person write a short direct message to a work contact they want to stay in "
    "touch with. Write only the message, in the first person, as plain text: at most three "
    "sentences, no subject line, no placeholders, no hashtags, no @-mentions, no sign-off "
    "name. Tone: {tone}.")

Outcome = Literal["post", "copy", "discard"]
_RECORDED = {"post": "posted", "copy": "copied", "discard": "discarded"}

# Slack reads "<...>" as a token: <!here>, <!channel>, <!subteam^ID> (broadcasts and other
# specials, none belongs in a personal message), <@U123|name> (a mention), <#C123|name> (a
# channel), <https://x|label> and <mailto:a@b|label> (links whose label can hide the target);
# Teams reads <at>name</at> as a mention.
_ANGLE = re.compile(r"[<>]")
_USER_TOKEN = re.compile(r"@([A-Za-z0-9]+)(?:\|.*)?", re.DOTALL)
_CHANNEL_TOKEN = re.compile(r"#[A-Za-z0-9]+(?:\|(.*))?", re.DOTALL)
_LINK_TOKEN = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*:[^|]*)(?:\|(.*))?", re.DOTALL)
_TEAMS_AT_TOKEN = re.compile(r"/?at\b", re.IGNORECASE)
_PLAIN_BROADCAST = re.compile(r"@(?:here|channel|everyone|all)\b", re.IGNORECASE)
# After a "<": it would open a token if a ">" came later; shown as "‹" instead, which joins
# nothing (removing it could join its neighbours into a broadcast).
_OPENING = r"(?=[!@#]|[A-Za-z][A-Za-z0-9+.-]*:|(?i:/?at)\b)"
_DROP_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


def _visible_link(target: str, label: str) -> str:
    """A link as plain text that shows where it goes: "label (target)", or just the target."""
    shown = target[len("mailto:"):] if target.lower().startswith("mailto:") else target
    label = label.strip()
    return f"{label} ({shown})" if label and label not in (target, shown) else shown


def _token_text(content: str, allowed_mention: str | None) -> str | None:
    """What the token "<content>" becomes, or None when it is no token (kept as it is)."""
    if content.startswith("!"):
        return ""
    if user := _USER_TOKEN.fullmatch(content):
        return f"<@{user.group(1)}>" if allowed_mention and user.group(1) == allowed_mention \
            else ""
    if channel := _CHANNEL_TOKEN.fullmatch(content):
        return f"#{channel.group(1).strip()}" if channel.group(1) else ""
    if link := _LINK_TOKEN.fullmatch(content):
        return _visible_link(link.group(1), link.group(2) or "")
    if _TEAMS_AT_TOKEN.match(content):
        return ""
    return None


def _replace_tokens(text: str, allowed_mention: str | None) -> str:
    """Every token replaced in one pass, innermost first, as often as replacing forms new ones
    ("<<!x>!here>" -> "<!here>" -> ""), so nesting costs no extra passes."""
    pieces: list[str] = []
    opened: list[int] = []  # indexes in `pieces` of each "<" that no ">" has closed yet
    position = 0
    for match in _ANGLE.finditer(text):
        if match.start() > position:
            pieces.append(text[position:match.start()])
        position = match.end()
        if match.group() == "<":
            opened.append(len(pieces))
            pieces.append("<")
            continue
        if not opened:
            pieces.append(">")
            continue
        start = opened.pop()
        replacement = _token_text("".join(pieces[start + 1:]), allowed_mention)
        if replacement is None:
            pieces.append(">")
        else:
            del pieces[start:]
            pieces.append(replacement)
        if replacement is None or ">" in replacement:
            # Text kept with its ">" (not a token, or the contact's mention): no token can
            # span it, so the "<" before it can never close.
            opened.clear()
    pieces.append(text[position:])
    return "".join(pieces)


# ---------------------------------------------------------------------- pure text functions
def sanitise(text: str, *, allowed_mention: str | None = None,
             limit: int = MAX_DRAFT_CHARS) -> str:
    """Model output made safe to show and post: no broadcasts, no foreign mentions, no hidden
    link targets, no control or invisible characters, at most `limit` characters."""
    # Bound the work first: a model can answer with megabytes.
    text = unicodedata.normalize("NFKC", text[: limit * 20])
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    text = "".join(ch for ch in text
                   if ch == "\n" or unicodedata.category(ch) not in _DROP_CATEGORIES)
    # Removing a broadcast can form a token ("<@here!x>" -> "<!x>") and replacing a token can
    # form a broadcast ("@<!x>here" -> "@here"): repeat until nothing changes. This ends, as
    # every change removes a "<" or shortens the text.
    while True:
        before = text
        text = _PLAIN_BROADCAST.sub("", _replace_tokens(text, allowed_mention))
        if text == before:
            break
    kept = f"(?!@{re.escape(allowed_mention)}>)" if allowed_mention else ""
    text = re.sub("<" + kept + _OPENING, "‹", text)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'“”":
        text = text[1:-1].strip()
    elif text[:1] == "“" and text[-1:] == "”":
        text = text[1:-1].strip()
    if len(text) > limit:
        cut = text[: limit - 1]
        space = cut.rfind(" ")
        if space > limit - 100:
            cut = cut[:space]
        # Cutting a word can end in a broadcast ("@heresy" -> "@here…") or a tag's opening
        # ("<athere" -> "<at…", Teams' mention tag): remove and defuse them again.
        text = re.sub("<" + kept + _OPENING, "‹", _PLAIN_BROADCAST.sub("", cut.rstrip() + "…"))
    return text


def normalise(text: str) -> str:
    """Text as the edit check compares it: casefolded, punctuation gone, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P")
                   and unicodedata.category(ch) not in _DROP_CATEGORIES)
    return " ".join(text.split())


def is_unchanged(final_text: str, draft_text: str) -> bool:
    """True while the final text is still the draft (the edit check refuses it)."""
    return normalise(final_text) == normalise(draft_text)


def discloses(policy: str, *, ai_assisted: bool, disclose: bool) -> bool:
    """Whether the disclosure line goes on a posted message under the workspace policy."""
    if not ai_assisted or policy == "off":
        return False
    return policy == "required" or disclose


def with_disclosure(text: str) -> str:
    """The message with the disclosure line after it."""
    return f"{text}\n{DISCLOSURE_LINE}"


# The disclosure line typed at the end of the message's last line ("... go? (Drafted with AI
# help - edited by me.)"): its words in any case, with a little punctuation around and
# between them. Bounded repeats keep the search linear in the message's length.
_TRAILING_DISCLOSURE = re.compile(
    r"(?<!\w)[^\w\s]{0,3}"
    + r"[\W_]{1,4}".join(re.escape(word) for word in re.findall(r"\w+", DISCLOSURE_LINE))
    + r"[\W_]{0,4}\Z", re.IGNORECASE)


def without_disclosure(text: str) -> str:
    """The message without the disclosure lines the person typed themselves (any case,
    spacing or punctuation): what the edit check compares, since typing the line is no
    edit of the draft, and what the line is added to, once."""
    line = normalise(DISCLOSURE_LINE)
    kept = "\n".join(own for own in text.split("\n") if normalise(own) != line).strip()
    return _TRAILING_DISCLOSURE.sub("", kept).rstrip()


def draft_label(view: DraftView) -> str:
    """'AI draft (openai, gpt-4o-mini)' or 'Template draft'."""
    if view.is_template:
        return "Template draft"
    return f"AI draft ({view.provider}{', ' + view.model if view.model else ''})"


# ---------------------------------------------------------------------- context and templates
@dataclass(frozen=True, slots=True)
class DraftContext:
    """Everything a draft may be based on; `as_prompt` is all a provider ever sees of it."""

    first_name: str
    tone: str
    topic: str | None = None
    last_touch: str | None = None
    company: str | None = None
    reason: str = "cadence"
    date_kind: str | None = None
    # Whether the noted event, birthday or anniversary is still "ahead", "today" or "past"
    # (None: no day is known); templates never ask "How did it go?" about something still to
    # come, nor wish an early happy birthday after it. Not sent (the topic says it).
    timing: str | None = None

    def prompt_lines(self) -> list[str]:
        lines = [f"Contact's first name: {self.first_name}"]
        if self.company:
            lines.append(f"Contact's company: {self.company}")
        if self.topic:
            lines.append(f"Topic to ask about: {self.topic}")
        if self.last_touch:
            lines.append(f"Last conversation: {self.last_touch}")
        if not self.topic:
            lines.append("Purpose: check in, it has been a while.")
        return lines

    def request_body(self, model: str) -> dict[str, Any]:
        """The whole request body: nothing else is sent to the provider."""
        tone = TONES.get(self.tone, TONES["warm"])
        return {"model": model, "messages": [
            {"role": "system", "content": SYSTEM_PROMPT.format(tone=tone)},
            {"role": "user", "content": "\n".join(self.prompt_lines())},
        ]}


def _clip(text: str | None) -> str | None:
    if not text:
        return None
    text = " ".join(text.split())
    return text[:MAX_FIELD_CHARS] or None


def template_text(context: DraftContext) -> str:
    """A plain draft from the nudge reason and note, in the user's tone."""
    name = context.first_name
    hello = {"formal": f"Hello {name},", "brief": f"Hi {name},"}.get(context.tone, f"Hi {name}!")
    if context.reason == "date" and context.date_kind:
        body = _date_body(context)
    elif context.topic:
        body = _topic_body(context)
    elif context.last_touch:
        body = {"brief": "how are things since we last talked?",
                "formal": "I hope you are well. I wanted to follow up on our last conversation "
                          f"({context.last_touch}). How are things going?"}.get(
            context.tone, full_stop(f"It's been a while since we talked about "
                                    f"{context.last_touch}") + " How are things going?")
    else:
        body = {"brief": "how are things?",
                "formal": "I hope you are well. It has been a while; how are things going?"}.get(
            context.tone, "It's been a while! How are things going on your side?")
    return sanitise(f"{hello} {body}")


def _date_body(context: DraftContext) -> str:
    """Wishes for a birthday or work anniversary: early before the day, on the day, belated
    after it (a nudge held by a pause or a snooze arrives late)."""
    what = "birthday" if context.date_kind == "birthday" else "work anniversary"
    tone = context.tone
    if context.timing == "past":
        return {"brief": f"belated happy {what}!",
                "formal": f"I wanted to wish you a belated happy {what}."}.get(
            tone, f"Belated happy {what}! Hope it was a good one.")
    if context.timing == "today":
        return {"brief": f"happy {what}!",
                "formal": f"I wanted to wish you a happy {what}."}.get(
            tone, f"Happy {what}! Hope it's a great day.")
    return {"brief": f"happy early {what}!",
            "formal": f"I wanted to wish you a happy {what} in advance."}.get(
        tone, f"Your {what} is coming up, so an early happy {what}! Hope it's a good one.")


def date_topic(kind: str, on: date | None, today: date | None) -> str:
    """What the AI is asked to write about for a birthday or anniversary nudge: "their
    upcoming birthday", "their birthday, which is today", "their birthday, which was on Tue
    Nov 3" (the day only once it has passed: nothing more is sent than the wish needs)."""
    what = "birthday" if kind == "birthday" else "work anniversary"
    timing = note_timing(on, today) if today is not None else None
    if timing == "past" and on is not None:
        return f"their {what}, which was on {wording.short_date(on, today)}"
    if timing == "today":
        return f"their {what}, which is today"
    return f"their upcoming {what}"


def _topic_body(context: DraftContext) -> str:
    """The template's sentence about the note, from its form and tense: an event still
    ahead gets good wishes, one that happened "How did it go?", a question is asked as
    written ("I wanted to ask how the offsite went")."""
    topic = context.topic or ""
    tone = context.tone
    form, verb, rest = wording.note_form(topic)
    if form == "ask" and rest and rest.split(" ", 1)[0].lower() not in ("about",):
        return {"brief": f"quick question: {rest}?",
                "formal": full_stop(f"I hope you are well. I wanted to ask {rest}")}.get(
            tone, full_stop(f"I've been meaning to ask {rest}"))
    if form == "ask":
        topic = rest.removeprefix("about ").strip() or topic
        if wording.note_form(topic)[0] == "statement":
            # "ask about back from leave": how they are, no thing to think about or wish for.
            form = "statement"
    if form == "action" and verb in ("congratulate", "thank"):
        what = "Congratulations" if verb == "congratulate" else "Thank you"
        extra = f" {rest}" if rest else ""
        return {"formal": full_stop(f"I hope you are well. {what}{extra}")}.get(
            tone, f"{what}{extra}!")
    if form in ("action", "statement"):
        return {"brief": "how are things?",
                "formal": "I hope you are well. I wanted to check in; how are things going?"}.get(
            tone, "I was thinking of you and wanted to check in. How are things going?")
    about = wording.about_phrase(topic)
    if context.timing == "ahead":
        return {"brief": f"good luck with {about}!",
                "formal": full_stop(f"I hope you are well. I wanted to wish you all the best "
                                    f"with {about}")}.get(
            tone, f"I've been thinking about {about} you mentioned. Hope it goes great!")
    if context.timing == "today":
        return {"brief": f"good luck with {about} today!",
                "formal": f"I hope you are well. All the best with {about} today."}.get(
            tone, f"Thinking of you today with {about}. Hope it goes great!")
    return {"brief": f"how did {about} go?",
            "formal": f"I hope you are well. How did {about} go?"}.get(
        tone, f"I've been thinking about {about} you mentioned. How did it go?")


def note_timing(event_on: date | None, today: date) -> str | None:
    """'ahead', 'today' or 'past' for a note's event day (None without one)."""
    if event_on is None:
        return None
    return "ahead" if event_on > today else "today" if event_on == today else "past"


def draft_context(session: Session, ctx: UserContext, contact_id: int, nudge_id: int | None,
                  today: date | None = None) -> tuple[DraftContext, str, str | None] | None:
    """The minimal context of a draft, the contact's name and platform id; None when the
    contact or nudge is not the user's."""
    contact = queries.draft_contact(session, ctx.user_id, ctx.workspace_id, contact_id)
    if contact is None:
        return None
    name, company, platform_user_id = contact
    reason, note_text, date_kind = "cadence", None, None
    event_on: date | None = None
    if nudge_id is not None:
        nudge = queries.nudge_reason(session, ctx.user_id, contact_id, nudge_id)
        if nudge is None:
            return None
        reason, note_id, date_id = nudge
        if note_id is not None:
            found = queries.note_for_draft(session, ctx.user_id, note_id)
            note_text, event_on = found if found is not None else (None, None)
        if date_id is not None:
            found_date = items.date_nudge_day(session, nudge_id)
            if found_date is not None:
                date_kind, event_on = found_date
    if note_text is None and reason != "date":
        newest = queries.newest_follow_up(session, ctx.user_id, contact_id)
        note_text, event_on = newest if newest is not None else (None, None)
    summary = queries.latest_summary(session, ctx.user_id, contact_id)
    topic = _clip(note_text)
    if reason == "date" and date_kind:
        topic = date_topic(date_kind, event_on, today)
    context = DraftContext(first_name=wording.first_name(name)[:60], tone=ctx.tone,
                           topic=topic, last_touch=_clip(summary), company=_clip(company),
                           reason=reason, date_kind=date_kind,
                           timing=note_timing(event_on, today) if today else None)
    return context, name, platform_user_id


# ---------------------------------------------------------------------- outcomes
@dataclass(frozen=True, slots=True)
class DraftOutcome:
    """What `finish` decided: the text to post or copy, or why not."""

    ok: bool
    message: str
    draft_id: int
    text: str = ""
    outcome: str | None = None
    contact_name: str = ""
    contact_platform_user_id: str | None = None
    disclosed: bool = False
    edit_distance: int | None = None
    # True when the user can fix the text and try again (an unchanged or empty draft).
    retry: bool = False


@dataclass(frozen=True, slots=True)
class _Loaded:
    draft_id: int
    user_id: int
    draft_text: str | None  # None: removed by the workspace's retention
    provider: str
    outcome: str | None
    contact_name: str
    contact_platform_user_id: str | None
    policy: str
    model: str | None = None
    contact_id: int | None = None
    nudge_id: int | None = None


class DraftService:
    """Makes drafts (the core's `Drafter`) and finishes them."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession],
                 provider: AIProvider | None = None,
                 clock: Callable[[], datetime] = planner.utcnow) -> None:
        self.sessions = sessions
        self.db = Database(sessions)
        self.provider = provider
        self.clock = clock

    async def close(self) -> None:
        """Release the provider's HTTP connections (at shutdown)."""
        if self.provider is not None:
            await self.provider.close()

    # ------------------------------------------------------------------ drafting
    async def draft_for(self, ctx: UserContext, contact_id: int,
                        nudge_id: int | None) -> Reply:
        """A new draft for one of the user's contacts (optionally for one of their nudges)."""
        today = ctx.today(self.clock())

        # Each unit of work starts by checking the ids are still the actor's (`StaleUser`
        # otherwise): a `forget me` elsewhere may come while the provider writes, and on
        # SQLite the next user (and contact) may take the ids, quoted text and all.
        def load(session: Session) -> tuple[tuple[DraftContext, str, str | None] | None,
                                            tuple[bool, bool] | None]:
            current = fresh_context(session, ctx)
            return (draft_context(session, current, contact_id, nudge_id, today),
                    queries.contact_ai_mode(session, current.user_id, contact_id))

        loaded, mode = await self.db.run(load, write=False)
        if loaded is None or mode is None:
            return error("I can't find that person among yours.")
        context, contact_name, platform_user_id = loaded
        ai_for_person, sensitive = mode
        if sensitive:
            # `set Dana sensitive`: no draft of any kind, the person writes this one.
            first = wording.first_name(contact_name)
            return Reply(f"You marked {contact_name} as sensitive, so there is no draft: write "
                         f"to {first} personally, in your own words. (“set {contact_name} "
                         "sensitive off” allows drafts again.)")
        notice = ""
        provider = self.provider
        if provider is not None and not ctx.workspace_ai_enabled:
            provider, notice = None, "AI drafts are turned off for this workspace."
        elif provider is not None and not ctx.ai_enabled:
            provider, notice = None, ("AI drafts are off for you (“settings ai on” turns them "
                                      "back on).")
        elif provider is not None and not ai_for_person:
            provider, notice = None, (f"AI drafts are off for {contact_name} (“set "
                                      f"{contact_name} ai on” turns them back on).")
        text, sent, model = "", None, None
        if provider is not None:
            body = context.request_body(provider.model)
            try:
                raw = await provider.complete(body)
            except ProviderError as failure:
                notice = failure.user_message
                sent = None
            else:
                sent, model = body, provider.model
                text = sanitise(raw, allowed_mention=platform_user_id)
                if not text:
                    notice, sent, model = "The AI provider answered with nothing usable.", \
                        None, None
            if notice:
                notice += " Here is a template to start from instead."
        is_template = not text
        if is_template:
            text = template_text(context)
        provider_name = TEMPLATE if is_template or provider is None else provider.name
        def store(session: Session) -> int:
            fresh_context(session, ctx)
            return queries.insert_draft(
                session, workspace_id=ctx.workspace_id, user_id=ctx.user_id,
                contact_id=contact_id, nudge_id=nudge_id, provider=provider_name, model=model,
                draft_text=text,
                sent_context=json.dumps(sent, ensure_ascii=False) if sent else None,
                disclosure=False, created_at=self.clock())

        draft_id = await self.db.run(store)
        logger.info("draft created", extra={"draft_id": draft_id, "provider": provider_name,
                                            "chars": len(text)})
        view = DraftView(draft_id=draft_id, contact_id=contact_id, contact_name=contact_name,
                         text=text, provider=provider_name, is_template=is_template,
                         disclosure_policy=ctx.disclosure_policy, can_post=True, notice=notice,
                         model=model, nudge_id=nudge_id,
                         contact_platform_user_id=platform_user_id)
        intro = f"{notice}\n" if notice else ""
        return Reply(f"{intro}{full_stop(f'{draft_label(view)} for {contact_name}')} Edit it "
                     f"before sending; an unchanged draft can't be posted:\n\n{text}", view=view)

    async def reopen(self, who: UserContext | Actor, draft_id: int) -> Reply:
        """A draft made before, to edit in a window of its own (a draft answered as text,
        where no editor could open): the same draft, not a new one; refused once finished."""
        loaded = await self._load(who, draft_id)
        if loaded is None:
            return error("I can't find that draft among yours.")
        if loaded.outcome is not None:
            return error(f"That draft is {loaded.outcome} already; “draft "
                         f"{loaded.contact_name}” starts a new one.")
        if loaded.draft_text is None:
            return error(_cleared(loaded))
        view = DraftView(draft_id=draft_id, contact_id=loaded.contact_id,
                         contact_name=loaded.contact_name, text=loaded.draft_text,
                         provider=loaded.provider, is_template=loaded.provider == TEMPLATE,
                         disclosure_policy=loaded.policy, can_post=True, model=loaded.model,
                         nudge_id=loaded.nudge_id,
                         contact_platform_user_id=loaded.contact_platform_user_id)
        return Reply(full_stop(f"{draft_label(view)} for {loaded.contact_name}"), view=view)

    # ------------------------------------------------------------------ finishing
    async def prepare(self, who: UserContext | Actor, draft_id: int, final_text: str,
                      outcome: Outcome, disclose: bool = True) -> DraftOutcome:
        """Check a finish without recording it (a platform may post first, then `finish`)."""
        loaded = await self._load(who, draft_id)
        if loaded is None:
            return DraftOutcome(False, "I can't find that draft among yours.", draft_id)
        return self._decide(loaded, final_text, outcome, disclose)

    async def finish(self, who: UserContext | Actor, draft_id: int, final_text: str,
                     outcome: Outcome, disclose: bool = True) -> DraftOutcome:
        """Post, copy or discard a draft: refused for others' drafts and for unedited text."""
        loaded = await self._load(who, draft_id)
        if loaded is None:
            return DraftOutcome(False, "I can't find that draft among yours.", draft_id)
        decided = self._decide(loaded, final_text, outcome, disclose)
        if not decided.ok:
            return decided
        recorded = await self.db.run(lambda session: queries.finish_draft(
            session, loaded.user_id, draft_id, final_text=decided.text or None,
            edit_distance=decided.edit_distance, disclosure=decided.disclosed,
            outcome=decided.outcome, finished_at=self.clock()))
        if not recorded:
            return DraftOutcome(False, "That draft is already finished.", draft_id)
        logger.info("draft finished", extra={"draft_id": draft_id, "outcome": decided.outcome,
                                             "edit_distance": decided.edit_distance,
                                             "disclosure": decided.disclosed})
        return decided

    def _decide(self, loaded: _Loaded, final_text: str, outcome: str,
                disclose: bool) -> DraftOutcome:
        base: dict[str, Any] = {"draft_id": loaded.draft_id, "contact_name": loaded.contact_name,
                "contact_platform_user_id": loaded.contact_platform_user_id}
        if loaded.outcome is not None:
            return DraftOutcome(False, "That draft is already finished.", **base)
        if outcome not in _RECORDED:
            return DraftOutcome(False, "Choose post, copy or discard.", **base)
        if outcome == "discard":
            return DraftOutcome(True, "Discarded. Nothing was sent.", outcome="discarded",
                                **base)
        if loaded.draft_text is None:
            return DraftOutcome(False, _cleared(loaded), **base)
        text = "\n".join(line.rstrip() for line in final_text.replace("\r\n", "\n")
                         .split("\n")).strip()
        own = without_disclosure(text)
        if not normalise(own):
            return DraftOutcome(False, "There is nothing to send yet. Write your message, or "
                                "discard the draft.", retry=True, **base)
        if len(text) > MAX_FINAL_CHARS:
            return DraftOutcome(False, f"That is too long to send ({len(text):,} characters; "
                                f"the limit is {MAX_FINAL_CHARS:,}).", retry=True, **base)
        if is_unchanged(own, loaded.draft_text):
            return DraftOutcome(False, UNCHANGED, retry=True, **base)
        disclosed = discloses(loaded.policy, ai_assisted=loaded.provider != TEMPLATE,
                              disclose=disclose)
        # Disclosed, the line is Rapport's to add, once; otherwise the person's words stand
        # as they wrote them.
        final = with_disclosure(own) if disclosed else text
        first = wording.first_name(loaded.contact_name)
        message = (f"Here is your message for {first}, ready to send."
                   if outcome == "post" else f"Here is your message to copy and send to {first}:")
        return DraftOutcome(True, message, text=final, outcome=_RECORDED[outcome],
                            disclosed=disclosed,
                            edit_distance=Levenshtein.distance(loaded.draft_text, own),
                            **base)

    async def _load(self, who: UserContext | Actor, draft_id: int) -> _Loaded | None:
        def load(session: Session) -> _Loaded | None:
            if isinstance(who, Actor):
                ids = queries.user_ids(session, who.platform, who.workspace_external_id,
                                       who.user_external_id)
                if ids is None:
                    return None
                workspace_id, user_id = ids
            else:
                workspace_id, user_id = who.workspace_id, who.user_id
            row = queries.draft_with_contact(session, user_id, workspace_id, draft_id)
            if row is None:
                return None
            (text, provider, outcome, name, platform_user_id, policy, model, contact_id,
             nudge_id) = row
            return _Loaded(draft_id=draft_id, user_id=user_id, draft_text=text,
                           provider=provider, outcome=outcome, contact_name=name or "them",
                           contact_platform_user_id=platform_user_id,
                           policy=policy if policy in DISCLOSURE_POLICIES else "optional",
                           model=model, contact_id=contact_id, nudge_id=nudge_id)

        return await self.db.run(load, write=False)


def _cleared(loaded: _Loaded) -> str:
    """An unfinished draft whose text retention removed: nothing is left to edit or measure
    the edits against."""
    return (f"That draft was removed by the workspace's retention; “draft "
            f"{loaded.contact_name}” starts a new one.")


def build_draft_service(*, sessions: async_sessionmaker[AsyncSession], settings: AISettings,
                        clock: Callable[[], datetime] = planner.utcnow) -> DraftService:
    """The service with the provider the settings describe (templates when none)."""
    return DraftService(sessions=sessions, provider=provider_from_settings(settings), clock=clock)


async def set_workspace_ai(sessions: async_sessionmaker[AsyncSession], *,
                           platform: str | None = None, external_id: str | None = None,
                           workspace_id: int | None = None,
                           ai_enabled: bool | None = None,
                           disclosure_policy: str | None = None) -> int:
    """Turn AI drafts on/off or set the disclosure policy for matching workspaces (every one
    when no platform, external id or workspace id narrows it down); row count. The operator
    CLI (`rapport workspace-ai`) and the chat's `admin ai`/`admin disclosure` share it."""
    if disclosure_policy is not None and disclosure_policy not in DISCLOSURE_POLICIES:
        raise ValueError(f"disclosure policy must be one of {', '.join(DISCLOSURE_POLICIES)}")
    values: dict[str, object] = {}
    if ai_enabled is not None:
        values["ai_enabled"] = ai_enabled
    if disclosure_policy is not None:
        values["disclosure_policy"] = disclosure_policy
    if not values:
        return 0
    return await Database(sessions).run(lambda session: queries.set_workspace_policy(
        session, platform=platform, external_id=external_id, workspace_id=workspace_id,
        values=values))
