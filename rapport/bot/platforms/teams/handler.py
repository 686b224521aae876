"""The Teams bot: Teams activities in, core use cases called, Teams messages and cards out.

Privacy rule: answers with a user's data go to that user's personal chat only. In a group chat
or channel the bot reacts only to an @mention, runs the command, delivers the answer privately
and posts nothing but a neutral line where others can read it. A card's button clicked there
(only a forged or forwarded card can be there) is answered with a neutral line and does nothing.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, ClassVar, Literal

from botbuilder.core import InvokeResponse, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
    ErrorResponseException,
)
from botbuilder.schema.teams import FileConsentCardResponse, TeamInfo, TeamsChannelData
from msrest.exceptions import ClientRequestError

from rapport.bot.core import commands as c
from rapport.bot.core import onboarding
from rapport.bot.core.context import TRY_AGAIN, Actor, NotAPerson, Turn, UserContext
from rapport.bot.core.data_rights import EXPORT_FILENAME
from rapport.bot.core.overview import due_text_beside_cards, due_view, goal_lines
from rapport.bot.core.rapport import DATABASE_TROUBLE, Rapport
from rapport.bot.core.suggestions import counts_line, open_items, silenced_line
from rapport.bot.core.trend_chart import TrendChart, trend_chart
from rapport.bot.core.users import StaleUser
from rapport.bot.core.verbs import help_text
from rapport.bot.core.views import (
    ConfirmView,
    DueView,
    HelpView,
    PersonView,
    Reply,
    StatsView,
    SuggestionsView,
    error,
)
from rapport.bot.platforms.teams import cards
from rapport.bot.platforms.teams.admins import TeamsAdmins
from rapport.bot.platforms.teams.directory import (
    MentionDirectory,
    Mentioned,
    given_name,
    is_bot,
    is_group,
    natural_order,
)
from rapport.bot.platforms.teams.file_consent import (
    FILE_CONSENT_INVOKE,
    NO_DATABASE,
    TeamsFileOffers,
)
from rapport.bot.platforms.teams.imports import (
    HOW_TO_IMPORT,
    TeamsImports,
    Upload,
    drop_pending_files,
    find_upload,
    is_import_command,
)
from rapport.bot.platforms.teams.messenger import Sleep, with_retries
from rapport.bot.platforms.teams.store import PLATFORM, ReferenceStore
from rapport.scheduler.messenger import DeliveryResult, SuggestionItem
from rapport.storage.db import again_on_a_dropped_connection

logger = logging.getLogger(__name__)

NUDGE_VERBS = frozenset({"done", "dismiss", "snooze", "snooze_1d", "snooze_1w", "draft"})
PERSON_VERBS = frozenset({"person_log", "person_note", "person_draft", "person_snooze",
                          "person_forget", "person_show"})
PRIVATE_SENT = "I've sent you a private message."
PRIVATE_FAILED = ("I couldn't open a private chat with you, so I kept the answer to myself. "
                  "Add Rapport as a personal app (Apps, then Rapport, then Add) and mention me "
                  "again.")
CHANNEL_WELCOME = ("Hi, I'm Rapport. I help each of you keep in touch with the people you work "
                   "with. Mention me with a command (for example “@Rapport due”) and I'll answer "
                   "you in a private chat; nothing about your contacts is posted here.")
WORKING = "Working on it…"
WORKING_PRIVATELY = "Working on it… I'll answer you in a private message."
STALE_BUTTON = "That button is out of date. Type “due” to see your open nudges."
# A button on an old card clicked by someone Rapport keeps no rows for (after "forget me"):
# acting would store them again (the core creates rows for whoever acts), as Slack's
# NOTHING_KEPT says there.
NOTHING_KEPT = ("Rapport no longer keeps anything about you, so this button does nothing. "
                "Type “help” to start again.")
# An answer Teams still refused after the retries (throttled, down): a change the command
# made is saved, so the person must not be asked to send it again (it would be done twice).
SAVED_NOT_SHOWN = ("That's done and saved, but I couldn't show you my answer just now. "
                   "There's no need to send it again.")
NOT_SHOWN = "Teams wouldn't let me send my answer just now. Please ask again in a moment."
PRIVATE_SAVED_NOT_SENT = ("That's done and saved, but Teams wouldn't let me send you the "
                          "details privately just now. There's no need to ask again.")
PRIVATE_NOT_SENT = ("Teams wouldn't let me send you my answer privately just now. Please ask "
                    "again in a moment.")
# Set in a turn's state once its command has changed something: a failure after that must
# not be answered with "try again" (see app.py's turn error handler).
CHANGE_SAVED = "rapport.change_saved"
# How long an answer waits for Teams when throttled: the person is waiting, and the turn
# must end well inside the channel's patience (three attempts at most; see `with_retries`).
ANSWER_MAX_WAIT_SECONDS = 3.0
CARDS_ARE_PERSONAL = "Rapport's cards work in your personal chat with Rapport."
# An activity whose sender Rapport cannot tell apart safely (see `RapportTeamsBot._identify`).
UNIDENTIFIED = ("Teams didn't say which account this came from, so I did nothing. Rapport "
                "works for people signed in to Teams with their work account; please try "
                "again from your personal chat with Rapport.")
# The Bot Framework Emulator names no tenant; its users have no AAD object id either.
EMULATOR_TENANT = "emulator"
# Where a turn keeps its sender as Rapport knows them (`RapportTeamsBot.on_turn`).
TURN_ACTOR = "rapport.actor"
ADAPTIVE_CARD_ACTION = "adaptiveCard/action"
# Universal Actions' error answer (Microsoft Learn, "Universal Actions for Adaptive Cards").
ERROR_RESPONSE = "application/vnd.microsoft.error"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
# Teams messages are capped near 28 KB; longer exports go as a file (file_consent.py).
MAX_INLINE_EXPORT_BYTES = 20_000
TOO_LARGE_TO_SHOW = "\n\nThis file is too large to show in Teams."
# Teams refuses a bot message over 40 KB, counted as the whole payload in UTF-16 (413
# MessageSizeTooBig, "Format your bot messages" on Microsoft Learn): a text answer keeps room
# for the activity's own fields.
MAX_TEXT_UTF16_BYTES = 36 * 1024
MORE_THAN_FITS = ("\n… and more than fits in one Teams message: narrow it down, for example "
                  "“people #clients” or “search Dana”.")
_UNSAFE_NAME = re.compile(r"[<>|]")
# What the core's mention token ``<@id|Name>`` can carry as an id; a channel's
# ("19:…@thread.tacv2") or a tag's id has other characters, and a token that does not
# parse was shown back to the person as markup.
_NOT_IN_TOKEN_ID = re.compile(r"[^A-Za-z0-9_:.\-]")
# Teams' mention markup in a message's text, its name HTML-escaped.
_AT_MARKUP = re.compile(r"<at>(.*?)</at>", re.DOTALL)
# A complete HTML character reference: named (with its ";"), decimal or hexadecimal.
_CHAR_REFERENCE = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);")

# (actor, draft_id, "copy" | "discard" | "post", edited text, disclosure wanted) -> what to
# show, and the finished message to copy ("" when there is none).
DraftAction = Callable[[Actor, int, str, str | None, bool], Awaitable[tuple[Reply, str]]]
# What became of an answer meant for the person's personal chat: sent; `unreachable` when
# Teams says no chat can be had (403/404: the app is not installed for them, they blocked
# it); `not_sent` when it failed otherwise (throttled or down past the retries).
PrivateOutcome = Literal["sent", "unreachable", "not_sent"]


def tenant_id(activity: Activity) -> str:
    """The Teams tenant (our workspace), in lower case; botbuilder does not map
    conversation.tenantId."""
    return named_tenant(activity) or EMULATOR_TENANT


def named_tenant(activity: Activity) -> str | None:
    """The tenant id the activity names, in lower case (Teams may spell one tenant in either
    case; a second spelling made a second workspace), or None."""
    try:
        channel_data = TeamsChannelData().deserialize(activity.channel_data or {})
    except (ValueError, TypeError, AttributeError):
        channel_data = None
    if channel_data is not None and channel_data.tenant is not None and channel_data.tenant.id:
        return str(channel_data.tenant.id).lower()
    conversation = activity.conversation
    if conversation is not None:
        extra = conversation.additional_properties or {}
        found = conversation.tenant_id or extra.get("tenantId")
        if found:
            return str(found).lower()
    return None


def time_zone(activity: Activity) -> str | None:
    """The user's IANA zone: the clientInfo entity, else the activity's localTimezone."""
    for entity in activity.entities or []:
        if (entity.type or "").lower() == "clientinfo":
            zone = (entity.additional_properties or {}).get("timezone")
            if isinstance(zone, str) and zone:
                return zone
    return activity.local_timezone or None


def actor_for(activity: Activity) -> Actor:
    """Who is talking, in core terms, as the activity names them: tenant, AAD object id (or
    Teams id), name, zone. `RapportTeamsBot._identify` finds them as Rapport keeps them."""
    sender = activity.from_property or ChannelAccount(id="unknown")
    # "Scully, Dana" (a directory's order) is greeted "Hi Dana," as "Dana Scully" is.
    return Actor(platform=PLATFORM, workspace_external_id=tenant_id(activity),
                 user_external_id=str(sender.aad_object_id or sender.id),
                 display_name=natural_order(sender.name or "")[:200], tz=time_zone(activity))


def is_personal(activity: Activity) -> bool:
    """A 1:1 chat with the bot (the Emulator sends no conversation type)."""
    conversation = activity.conversation
    kind = conversation.conversation_type if conversation is not None else None
    return kind in (None, "", "personal") and not (conversation and conversation.is_group)


@dataclass(frozen=True, slots=True)
class _Mention:
    """One mention entity: its ``<at>…</at>`` markup as the message's text has it, the
    account it names, and the id that account goes by in the command's tokens."""

    markup: str
    account: Mapping[str, Any]
    person: str

    @property
    def name(self) -> str:
        """The name as written: Teams' `name`, unless Teams escaped it as it escapes the
        markup ("Tom &amp; Jerry" for "Tom & Jerry"); the markup's text when it has none."""
        name = str(self.account.get("name") or "")
        inner = _markup_inner(self.markup)
        shown = _unescape(inner)
        return shown if not name or (name == inner and shown != inner) else name


def _mentions(activity: Activity) -> list[_Mention]:
    """Each mention entity of the message, in order."""
    text = activity.text or ""
    found = []
    for entity in activity.entities or []:
        if (entity.type or "").lower() != "mention":
            continue
        props = entity.additional_properties or {}
        mentioned = props.get("mentioned")
        if not isinstance(mentioned, dict):
            continue
        said = props.get("text")
        if not isinstance(said, str) or not said or said not in text:
            # Teams leaves `text` out of some mentions (a name with "&" in it), and escapes
            # the name in the message's text its own way: the markup is then found by what
            # it shows.
            said = _markup_of(str(mentioned.get("name") or ""), said, text)
        found.append(_Mention(said, mentioned, _mention_id(mentioned, activity)))
    return found


def _markup_inner(markup: str) -> str:
    return markup[4:-5] if markup.startswith("<at>") and markup.endswith("</at>") else ""


def _unescape(markup: str) -> str:
    """`markup`'s character references read ("&amp;", "&#39;", "&#246;"); only complete ones:
    `html.unescape` also reads "&not" in "this&nothing"."""
    return _CHAR_REFERENCE.sub(lambda ref: html.unescape(ref.group(0)), markup)


def _markup_of(name: str, said: object, text: str) -> str:
    """The ``<at>…</at>`` markup in `text` that shows `name` (or what the entity's own `said`
    markup shows), however its characters are escaped; else the plain form (then matching
    nothing)."""
    wanted = {name, _unescape(name)}
    if isinstance(said, str) and _markup_inner(said):
        wanted.add(_unescape(_markup_inner(said)))
    wanted.discard("")
    return next((markup.group(0) for markup in _AT_MARKUP.finditer(text)
                 if _unescape(markup.group(1)) in wanted), f"<at>{name}</at>")


def mentions_bot(activity: Activity) -> bool:
    """Whether the bot was @mentioned in this message."""
    bot_id = activity.recipient.id if activity.recipient is not None else None
    return any(m.account.get("id") == bot_id for m in _mentions(activity))


def _is_sender(mentioned: Mapping[str, Any], activity: Activity) -> bool:
    """Whether the mention names whoever sent the message, by either of their ids."""
    sender = activity.from_property
    if sender is None:
        return False
    teams_id, aad_id = mentioned.get("id"), mentioned.get("aadObjectId")
    return bool(teams_id and teams_id == sender.id) or \
        bool(aad_id and aad_id == sender.aad_object_id)


def _mention_id(mentioned: Mapping[str, Any], activity: Activity) -> str:
    """The id a mentioned account goes by in the command's ``<@id|Name>`` token: the sender's
    own id (`actor_for`) for the sender, by either id, so the core refuses it as it refuses
    any mention of oneself; anyone else's Teams ("29:") id, which every mention of them
    carries (the AAD object id only some: a contact linked by it was a second contact for
    a mention without it; `ReferenceStore.link_teams_ids` moves such links); a channel's or
    a tag's id made fit for the token (it is only ever refused, never stored)."""
    if _is_sender(mentioned, activity):
        return actor_for(activity).user_external_id
    return _NOT_IN_TOKEN_ID.sub("-", str(mentioned.get("id") or mentioned.get("aadObjectId")
                                         or ""))


def teams_id_links(activity: Activity) -> list[tuple[str, str]]:
    """(Teams id, AAD object id) of each colleague the message mentions by both: a contact
    linked by the AAD object id alone is theirs."""
    bot_id = activity.recipient.id if activity.recipient is not None else None
    links = []
    for mention in _mentions(activity):
        aad_id = str(mention.account.get("aadObjectId") or "")
        if aad_id and mention.person not in ("", aad_id) \
                and not _is_sender(mention.account, activity) \
                and not is_bot(str(mention.account.get("id") or ""), bot_id) \
                and not is_group(mention.account):
            links.append((mention.person, aad_id))
    return list(dict.fromkeys(links))


def _token(person: str, name: str) -> str:
    """The core's mention token. Its label never holds a comma: `add` splits a line at
    commas ("add Hiro Tanaka, VP Sales"), and a label split there made a contact named
    "<@29:fox|Mulder" with a note "Fox>"; nor "<", ">" or "|", which end the token. The core
    names the contact from the directory (`mention_directory`), as written, so the label is
    only a fallback."""
    label = " ".join(_UNSAFE_NAME.sub("", name).replace(",", " ").split())
    return f"<@{person}|{label}>" if label else f"<@{person}>"


def command_text(activity: Activity) -> str:
    """The text without the mention that addresses the bot, other mentions as ``<@id|Name>``
    tokens.

    The bot's first mention addresses it when it leads the text, or anywhere in a group chat
    or channel (where a mention is how one talks to a bot); any other mention of the bot is
    one like the rest, so "add @Rapport" is refused as a bot rather than read as "add".
    Not ``TurnContext.remove_recipient_mention``: it removes the bot's *name* everywhere as a
    regular expression, so "log Dana lunch at Rapport HQ" would lose a word.
    """
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient is not None else None
    addressed = False
    for mention in _mentions(activity):
        if mention.account.get("id") == bot_id and not addressed and (
                text.lstrip().startswith(mention.markup) or not is_personal(activity)):
            text = text.replace(mention.markup, " ", 1)
            addressed = True
            continue
        if not mention.person or mention.markup not in text:
            continue
        text = text.replace(mention.markup,
                            _token(mention.person, natural_order(mention.name)), 1)
    # Markup no entity explains is the name it shows, never echoed back as markup.
    return _AT_MARKUP.sub(lambda markup: _UNSAFE_NAME.sub("", _unescape(markup.group(1))),
                          text).strip()


def mention_directory(activity: Activity) -> MentionDirectory:
    """What the message's mentions say of the accounts its tokens name: their names as
    written, in the order people say them ("Mulder, Fox" is "Fox Mulder"; see
    `natural_order`), and which are no person (a bot, a channel, "Everyone", a tag: refused as
    contacts by the core)."""
    bot_id = activity.recipient.id if activity.recipient is not None else None
    mentioned: dict[str, Mentioned] = {}
    for mention in _mentions(activity):
        key, account = mention.person, mention.account
        if not key:
            continue
        not_a_person: NotAPerson | None = "bot" if is_bot(str(account.get("id") or ""), bot_id) \
            else "group" if is_group(account) else None
        seen = mentioned.get(key)
        mentioned[key] = Mentioned(
            name=(seen.name if seen else "") or natural_order(mention.name),
            not_a_person=(seen.not_a_person if seen else None) or not_a_person)
    return MentionDirectory(mentioned)


async def chart_for(reply: Reply) -> TrendChart | None:
    """The goal trend chart of a stats answer (rendered off the event loop), else None."""
    if isinstance(reply.view, StatsView) and reply.view.goals:
        return await asyncio.to_thread(trend_chart, reply.view.goals)
    return None


def render_reply(reply: Reply, chart: TrendChart | None = None) -> Activity:
    """A core Reply as a Teams message: a card for nudges, drafts, stats and suggestions,
    else plain text."""
    if reply.draft is not None:
        activity = MessageFactory.attachment(cards.as_attachment(cards.draft_card(reply.draft)))
        activity.summary = f"Draft for {reply.draft.contact_name}"
        return activity
    if isinstance(reply.view, HelpView):
        activity = MessageFactory.attachment(cards.as_attachment(
            cards.help_card(reply.text, reply.view.privacy)))
        activity.summary = "Rapport help"
        return activity
    if isinstance(reply.view, PersonView):
        activity = MessageFactory.attachment(cards.as_attachment(cards.person_card(reply.view)))
        activity.summary = reply.view.name
        return activity
    if isinstance(reply.view, ConfirmView):
        activity = MessageFactory.attachment(cards.as_attachment(cards.confirm_card(reply.view)))
        activity.summary = reply.view.label
        return activity
    if isinstance(reply.view, StatsView):
        view = reply.view
        activity = MessageFactory.attachment(cards.as_attachment(cards.stats_card(
            view.stats, goals=goal_lines(view), chart=chart, suggestions=view.suggestions,
            suggestions_line=counts_line(view.suggestion_counts))))
        activity.summary = "Your stats"
        return activity
    if isinstance(reply.view, SuggestionsView) and reply.view.items:
        activity = MessageFactory.attachment(cards.as_attachment(cards.suggestions_card(
            "Suggestions", reply.view.items, footer=silenced_line(reply.view.silenced))))
        activity.summary = "Suggestions for you"
        return activity
    if isinstance(reply.view, DueView) and reply.nudges:
        # The cards show the open nudges with buttons; the text keeps the rest (as in Slack).
        activity = MessageFactory.attachment(cards.as_attachment(cards.text_card(
            due_text_beside_cards(reply.view), reply.nudges,
            unlisted=reply.view.more_nudges, due_card=due_card_of(reply.view))))
        activity.summary = "Due now"
        return activity
    text = reply.text
    if reply.attachment is not None:
        # A larger export is offered as a file instead (`RapportTeamsBot._file_offer`).
        text = inline_file(reply) or text + TOO_LARGE_TO_SHOW
    return plain_text(fit_text(text))


def due_card_of(view: DueView) -> str:
    """Which question `due`'s card answers, for its buttons to redraw it after a click."""
    return cards.QUIET_DUE_CARD if view.quiet is not None else cards.DUE_CARD


def inline_file(reply: Reply) -> str | None:
    """The reply's text with its file shown below it, when that fits in a message; else
    None (bots can send a file only through the file-consent flow)."""
    if reply.attachment is None or len(reply.attachment.data) > MAX_INLINE_EXPORT_BYTES:
        return None
    inline = reply.text + "\n\n" + reply.attachment.data.decode("utf-8", "replace")
    return inline if _utf16_size(inline) <= MAX_TEXT_UTF16_BYTES else None


def plain_text(text: str) -> Activity:
    """A text message shown as written: names with "*", "_", "<" or "&" must not turn into
    formatting or markup (Teams reads a message's text as Markdown and HTML unless told)."""
    activity = MessageFactory.text(text)
    activity.text_format = "plain"
    return activity


def _utf16_size(text: str) -> int:
    """The bytes `text` takes in the activity as Teams counts them (JSON-escaped, UTF-16)."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-16-le"))


def fit_text(text: str) -> str:
    """`text`, or as many of its lines as fit in one Teams message and a line saying there is
    more (a long `people` list): an answer Teams refuses would never arrive at all."""
    if _utf16_size(text) <= MAX_TEXT_UTF16_BYTES:
        return text
    budget = MAX_TEXT_UTF16_BYTES - _utf16_size(MORE_THAN_FITS)
    kept: list[str] = []
    used = 0
    for line in text.split("\n"):
        size = _utf16_size(line + "\n")
        if used + size > budget:
            if not kept:  # one line longer than a message: as much of it as fits
                kept.append(line[:budget // 4])
            break
        kept.append(line)
        used += size
    return "\n".join(kept) + MORE_THAN_FITS


def adaptive_card_action_problem(value: object) -> tuple[str, str] | None:
    """Why an ``adaptiveCard/action`` invoke's value is not an Action.Execute click, as
    (error code, message), or None when it is one."""
    if value is None:
        return "BadRequest", "The invoke has no value."
    if not isinstance(value, Mapping):
        return "BadRequest", "The invoke's value is not an object."
    action = value.get("action")
    if action is None:
        return "BadRequest", "The invoke's value has no action."
    if not isinstance(action, Mapping):
        return "BadRequest", "The invoke's action is not an object."
    if action.get("type") != "Action.Execute":
        return "NotSupported", "Only Action.Execute is supported."
    return None


# What a card writes into a button's data besides words, days and typed text (all strings):
# ids as numbers (text once they come back, in some clients) and the lists of ids a card
# keeps of what it shows.
_ID_FIELDS = frozenset({"nudge_id", "contact_id", "suggestion_id", "draft_id"})
_ID_LIST_FIELDS = frozenset({"card_nudges", "card_suggestions"})


def card_data_is_well_typed(data: Mapping[str, Any]) -> bool:
    """Whether every field of a button's data (the card's own and its inputs' values) has a
    type a Rapport card gives it, for every kind of card. A list or an object elsewhere comes
    from a forged or broken card: compared with a set of verbs it raised (unhashable), and
    `str()` of it stored "{'a': 1}" as a note."""
    return all(_field_is_well_typed(key, value) for key, value in data.items())


def _field_is_well_typed(key: str, value: object) -> bool:
    if value is None or isinstance(value, str):
        return True
    if key in _ID_FIELDS:
        return _is_whole_number(value)
    if key in _ID_LIST_FIELDS:
        return isinstance(value, list) and all(
            isinstance(item, str) or _is_whole_number(item) for item in value)
    return False


def _is_whole_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**62 else None


def _parse_day(value: object) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _database_away(reply: Reply) -> bool:
    """Whether `reply` is the core's answer to a database it could not reach."""
    return not reply.ok and reply.text == TRY_AGAIN


class _MessageInvokeResponse(AdaptiveCardInvokeResponse):
    """An invoke answer whose value is text (Teams shows it to the clicker, card unchanged).

    botbuilder types ``value`` as a dict, which cannot carry the string this response type needs.
    """

    _attribute_map: ClassVar[dict[str, dict[str, str]]] = {
        **AdaptiveCardInvokeResponse._attribute_map, "value": {"key": "value", "type": "object"}}


def _where_the_answer_went(outcome: PrivateOutcome, reply: Reply) -> str:
    """The line posted where others read it, naming no one and nothing of the answer."""
    if outcome == "sent":
        return PRIVATE_SENT
    if outcome == "unreachable":
        return PRIVATE_FAILED
    return PRIVATE_SAVED_NOT_SENT if reply.changed else PRIVATE_NOT_SENT


class _Proactive:
    """Runs a send inside a proactive turn and hands its exception back to the caller."""

    def __init__(self, send: Callable[[TurnContext], Awaitable[None]]) -> None:
        self.send = send
        self.failure: Exception | None = None

    async def __call__(self, turn_context: TurnContext) -> None:
        try:
            await self.send(turn_context)
        except Exception as failure:  # re-raised by `check`; the adapter must not swallow it
            self.failure = failure

    def check(self) -> None:
        if self.failure is not None:
            raise self.failure


class RapportTeamsBot(TeamsActivityHandler):
    """Rapport's TeamsActivityHandler: every Teams activity the bot understands."""

    def __init__(self, *, rapport: Rapport, adapter: CloudAdapter, bot_app_id: str,
                 draft_action: DraftAction | None = None,
                 admin_ids: frozenset[str] = frozenset(),
                 sleep: Sleep = asyncio.sleep) -> None:
        super().__init__()
        self.rapport = rapport
        # How answers wait out Teams' throttling (tests record the waits instead).
        self.sleep = sleep
        # AAD object ids that may run `admin ...` (RAPPORT_TEAMS_ADMINS).
        self.admin_ids = admin_ids
        self.adapter = adapter
        self.bot_app_id = bot_app_id
        self.references = ReferenceStore(sessions=rapport.sessions, clock=rapport.clock)
        self.draft_action = draft_action
        self.imports = TeamsImports(rapport)
        self.files = TeamsFileOffers(rapport)
        # Answers still being worked on after their turn (`_answer_after_turn`): kept so a
        # task is not collected mid-way and shutdown can wait for it.
        self._after_turn: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ who is talking
    async def on_turn(self, turn_context: TurnContext) -> None:
        """Every activity: its sender as Rapport keeps them (`_identify`) before anything
        acts; one Rapport cannot tell apart safely is refused, and nothing is stored.

        When the database does not answer that first question the turn ends there, with
        the database answer: going on, each later step (the command, storing the chat)
        waited for a connect of its own, and a silent database cost one message three
        connect timeouts, past the channel's patience."""
        try:
            actor = await self._identify(turn_context.activity)
        except DATABASE_TROUBLE as failure:
            logger.warning("database unavailable", extra={"error": type(failure).__name__})
            await self._answer_without_acting(turn_context, TRY_AGAIN,
                                              file_consent=NO_DATABASE)
            return
        if actor is None:
            logger.info("activity refused", extra={"reason": "sender not identified"})
            await self._answer_without_acting(turn_context, UNIDENTIFIED)
            return
        turn_context.turn_state[TURN_ACTOR] = actor
        await super().on_turn(turn_context)

    @staticmethod
    def _actor(turn_context: TurnContext) -> Actor:
        """The turn's sender as Rapport keeps them (`on_turn`)."""
        actor = turn_context.turn_state.get(TURN_ACTOR)
        return actor if isinstance(actor, Actor) else actor_for(turn_context.activity)

    async def _identify(self, activity: Activity) -> Actor | None:
        """The sender in the ids Rapport keeps them by: the tenant as its workspace row spells
        it (any letter case), the person by their AAD object id. Without that id (the
        Emulator aside, which names no tenant) the person is whoever Rapport keeps the
        personal chat of that Teams id for, else None: keyed by the Teams id instead, one
        person became two users, and a Teams id could have matched someone's AAD object id.
        Raises the database's trouble (`DATABASE_TROUBLE`)."""
        claimed = actor_for(activity)
        sender = activity.from_property
        tenant = named_tenant(activity)
        if tenant is None:
            return claimed
        claimed = replace(claimed, workspace_external_id=await again_on_a_dropped_connection(
            lambda: self.references.workspace_external_id(tenant), "teams sender"))
        if sender is None or sender.aad_object_id:
            return claimed
        teams_id = str(sender.id)
        found = await again_on_a_dropped_connection(
            lambda: self.references.user_by_teams_id(tenant, teams_id), "teams sender")
        if found is None:
            return None
        if found != sender.id:
            # For the rest of the turn: admins, mentions of oneself and the chat stored for
            # the person read it there.
            sender.aad_object_id = found
        return replace(claimed, user_external_id=found)

    async def _answer_without_acting(self, turn_context: TurnContext, text: str, *,
                                     file_consent: str | None = None) -> None:
        """End a turn that does nothing: `text` to someone who asked something (a card's
        click included; `file_consent`, when given, to an accept or decline of a file), said
        where they asked (it names no one); other activities (group talk, installs,
        reactions) are dropped without a word."""
        activity = turn_context.activity
        if activity.type == ActivityTypes.invoke:
            body = _MessageInvokeResponse(status_code=200, type=MESSAGE_RESPONSE,
                                          value=text) \
                if activity.name == ADAPTIVE_CARD_ACTION else None
            if body is None:
                await turn_context.send_activity(plain_text(
                    file_consent if file_consent is not None
                    and activity.name == FILE_CONSENT_INVOKE else text))
            await turn_context.send_activity(Activity(
                type=ActivityTypes.invoke_response,
                value=self._create_invoke_response(body)))
            return
        clicked = isinstance(activity.value, Mapping) and bool(activity.value.get("rapport"))
        if activity.type == ActivityTypes.message and (
                clicked or is_personal(activity) or mentions_bot(activity)):
            await turn_context.send_activity(plain_text(text))

    # ------------------------------------------------------------------ messages
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """A typed command, or an Action.Submit click (``value`` set, no text)."""
        activity = turn_context.activity
        if isinstance(activity.value, Mapping) and activity.value.get("rapport"):
            card, message = await self._card_action(turn_context, dict(activity.value))
            if card is None:
                # It names people ("Here is Ann <Ops> *Lee*."): Markdown would eat their names.
                await turn_context.send_activity(plain_text(message))
            return
        personal = is_personal(activity)
        # Teams delivers attached files to bots in personal chats only; elsewhere they are ignored.
        upload = find_upload(activity) if personal else None
        if upload is not None:
            await self._import_upload(turn_context, upload)
            return
        if not personal and not mentions_bot(activity):
            return  # group talk not addressed to the bot is none of its business
        actor = self._actor(turn_context)
        text = command_text(activity)
        # In Teams the file comes as an attachment, so typed `import` gets the how-to instead.
        admins = TeamsAdmins(self.admin_ids, (activity.from_property or ChannelAccount())
                             .aad_object_id)
        if c.revokes_a_grant(text):
            await self._answer_after_turn(turn_context, actor, text, admins, personal)
            return
        if is_import_command(text):
            reply = Reply(HOW_TO_IMPORT)
        elif await self._link_teams_ids(actor, activity):
            reply = await self.rapport.handle_text(actor, text, admins=admins,
                                                   directory=mention_directory(activity))
        else:
            reply = error(TRY_AGAIN)
        if _database_away(reply):
            # Nothing more to store or look up this turn: each would wait for the database
            # again. The answer names no one, so it is said where the person asked.
            await self._answer_in_turn(turn_context, reply, lambda: plain_text(reply.text))
            return
        if reply.changed:
            turn_context.turn_state[CHANGE_SAVED] = True
        # A file is offered in the personal chat only: from a group chat or channel the offer
        # goes privately, as any answer does.
        offer = await self._file_offer(actor, reply)
        if personal:
            await self._remember(turn_context, actor)
            chart = await chart_for(reply)
            await self._answer_in_turn(turn_context, reply,
                                       offer or (lambda: render_reply(reply, chart)))
            return
        outcome = await self._send_privately(turn_context, actor, reply, message=offer)
        await self._answer_in_turn(turn_context, reply,
                                   lambda: _where_the_answer_went(outcome, reply))

    async def _file_offer(self, actor: Actor, reply: Reply) -> Callable[[], Activity] | None:
        """The FileConsentCard message for an export too large to show inline, else None
        (only an export is offered: the offer makes it again, fresh, on accept)."""
        if reply.attachment is None or not reply.ok or inline_file(reply) is not None \
                or reply.attachment.filename != EXPORT_FILENAME:
            return None
        return await self.files.offer(actor, reply)

    async def _link_teams_ids(self, actor: Actor, activity: Activity) -> bool:
        """Before the core looks the message's mentions up by their Teams ids: contacts
        linked by a mentioned colleague's AAD object id alone go by their Teams id. False
        when the database could not be reached."""
        links = teams_id_links(activity)
        if not links:
            return True
        try:
            moved = await self.references.link_teams_ids(actor.workspace_external_id,
                                                          actor.user_external_id, links)
        except DATABASE_TROUBLE as failure:
            logger.warning("database unavailable", extra={"error": type(failure).__name__})
            return False
        if moved:
            logger.info("mentioned contacts linked by their teams id", extra={"count": moved})
        return True

    async def _answer_in_turn(self, turn_context: TurnContext, reply: Reply,
                              message: Callable[[], Activity | str]) -> None:
        """Answer in the chat the command came from, waiting out throttling as nudges do.
        When Teams still refuses, one short line says whether the change is saved: a person
        told "try again" after a saved `log` logged it twice."""
        failure = await self._with_retries(lambda: turn_context.send_activity(message()))
        if failure is None:
            return
        logger.warning("answer not sent", extra={"error": failure.error,
                                                 "changed": reply.changed})
        try:
            await turn_context.send_activity(SAVED_NOT_SHOWN if reply.changed else NOT_SHOWN)
        except (ErrorResponseException, ClientRequestError, OSError) as second:
            logger.warning("could not say the answer was not sent",
                           extra={"error": type(second).__name__})

    async def _with_retries(self, attempt: Callable[[], Awaitable[object]]
                            ) -> DeliveryResult | None:
        """None when `attempt` went through (retried as the messenger retries nudges), else
        why not."""
        outcome = await with_retries(attempt, sleep=self.sleep,
                                     max_inline_wait=ANSWER_MAX_WAIT_SECONDS)
        return outcome if isinstance(outcome, DeliveryResult) else None

    async def _answer_after_turn(self, turn_context: TurnContext, actor: Actor, text: str,
                                 admins: TeamsAdmins, personal: bool) -> None:
        """A line that revokes a grant at a provider (`disconnect calendar`, `forget me
        confirm`): "Working on it…" now, the answer once the provider has answered, in a
        proactive message. Run inside the turn, a slow provider kept Teams waiting past its
        patience, and the person saw an error while the command went on."""
        activity = turn_context.activity
        if personal:
            await self._remember(turn_context, actor)
        # The chat's reference from this activity, not the stored one: `forget me` deletes it.
        reference = TurnContext.get_conversation_reference(activity)
        await turn_context.send_activity(WORKING if personal else WORKING_PRIVATELY)

        async def answer() -> None:
            # Read before the command: `forget me` deletes the stored personal chat too.
            private = None if personal else await self._stored_reference(actor)
            # `forget me` takes their waiting offers and uploads with their rows (a cascade).
            reply = await self.rapport.handle_text(actor, text, admins=admins)
            if personal:
                chart = await chart_for(reply)
                await self._send_to(reference, lambda: render_reply(reply, chart))
                return
            if reply.erased and await self.references.user_id(
                    actor.workspace_external_id, actor.user_external_id) is None:
                # `forget me` from a group chat or channel: the answer goes privately through
                # the chat known before, or one opened and not stored (storing it would store
                # them again), else here, where they asked; it names no one else.
                if await self._deliver_privately(turn_context, private,
                                                 lambda: render_reply(reply),
                                                 keep_for=None) != "sent":
                    await self._send_to(reference, lambda: render_reply(reply))
                return
            outcome = await self._send_privately(turn_context, actor, reply)
            if outcome != "sent":
                await self._send_to(reference, lambda: _where_the_answer_went(outcome, reply))

        task = asyncio.create_task(answer())
        self._after_turn.add(task)
        task.add_done_callback(self._after_turn_done)

    async def _send_to(self, reference: ConversationReference,
                       message: Callable[[], Activity | str]) -> bool:
        """Send `message()` (made afresh for each attempt) into `reference`'s conversation;
        False, logged, when Teams refused it past the retries."""
        async def send(inner: TurnContext) -> None:
            await inner.send_activity(message())

        failure = await self._with_retries(lambda: self._in_conversation(reference, send))
        if failure is not None:
            logger.warning("answer not sent", extra={"error": failure.error})
        return failure is None

    async def _in_conversation(self, reference: ConversationReference,
                               work: Callable[[TurnContext], Awaitable[None]]) -> None:
        """Run `work` in a proactive turn of `reference`'s conversation; what it raises is
        raised here."""
        run = _Proactive(work)
        await self.adapter.continue_conversation(reference, run, bot_app_id=self.bot_app_id)
        run.check()

    def _after_turn_done(self, task: asyncio.Task[None]) -> None:
        self._after_turn.discard(task)
        if task.cancelled():
            return
        failure = task.exception()
        if failure is not None:
            # Type only: a Connector error's text can echo the message.
            logger.warning("answer after the turn failed",
                           extra={"error": type(failure).__name__})

    async def finish_answers(self) -> None:
        """Wait for the answers still being worked on after their turn (on shutdown)."""
        while self._after_turn:
            await asyncio.wait(set(self._after_turn))

    async def _import_upload(self, turn_context: TurnContext, upload: Upload) -> None:
        """A contacts file sent in the personal chat: answer with its dry run card."""
        actor = self._actor(turn_context)
        await self._remember(turn_context, actor)
        preview = await self.imports.preview(actor, upload)
        if isinstance(preview, str):
            activity = plain_text(preview)
        else:
            activity = MessageFactory.attachment(cards.as_attachment(preview))
            activity.summary = "Check your import"
        await turn_context.send_activity(activity)

    async def _remember(self, turn_context: TurnContext, actor: Actor) -> bool:
        reference = TurnContext.get_conversation_reference(turn_context.activity)

        async def save(ctx: UserContext) -> bool:
            return await self.references.save(workspace_id=ctx.workspace_id,
                                              user_id=ctx.user_id, reference=reference,
                                              owner=ctx)

        return bool(await self.rapport.with_user(actor, save))

    async def _context(self, ctx: UserContext) -> UserContext:
        """`ctx` read again: its cached ids may be another user's since a `forget me` on
        another replica, and their personal chat is no place for this user's answers."""
        return await self.rapport.recheck(ctx)

    async def _own_import(self, actor: Actor, data: Mapping[str, Any]) -> bool:
        """Whether the clicked import card holds a file `actor` sent that is still waiting."""
        return await self.imports.waiting(actor, data) is not None

    async def _keeps_rows_for(self, actor: Actor) -> bool:
        """Whether Rapport keeps rows for the actor (asking creates none). True when the
        database can't be reached: the action then meets the core's own "try again"."""
        return await self._rows_kept(actor) is not False

    async def _rows_kept(self, actor: Actor) -> bool | None:
        """Whether Rapport keeps rows for the actor (asking creates none); None when the
        database can't be reached."""
        try:
            return await self.references.user_id(actor.workspace_external_id,
                                                 actor.user_external_id) is not None
        except DATABASE_TROUBLE as failure:
            logger.warning("database unavailable", extra={"error": type(failure).__name__})
            return None

    async def _stored_reference(self, actor: Actor) -> ConversationReference | None:
        """The personal chat stored for the actor, or None."""
        ctx = await self.rapport.with_user(actor, self._context)
        return await self.references.load(ctx.user_id) if ctx is not None else None

    async def _send_privately(self, turn_context: TurnContext, actor: Actor, reply: Reply, *,
                              message: Callable[[], Activity] | None = None) -> PrivateOutcome:
        """Deliver `reply` (or `message()` in its place) in the user's personal chat, opening
        one if needed."""
        ctx = await self.rapport.with_user(actor, self._context)
        if ctx is None:
            return "not_sent"  # the database is out of reach: logged by the core
        chart = await chart_for(reply)
        return await self._deliver_privately(
            turn_context, await self.references.load(ctx.user_id),
            message or (lambda: render_reply(reply, chart)),
            keep_for=ctx)

    async def _deliver_privately(self, turn_context: TurnContext,
                                 reference: ConversationReference | None,
                                 message: Callable[[], Activity], *,
                                 keep_for: UserContext | None) -> PrivateOutcome:
        """Send `message()` through the stored personal chat `reference`, else through one
        opened now, whose reference is stored for the user `keep_for` (while its ids are
        still that user's) unless None. Throttling and outages are retried; only Teams
        saying there is no chat (403/404) makes the answer `unreachable`."""
        async def send(inner: TurnContext) -> None:
            await inner.send_activity(message())

        if reference is not None:
            failure = await self._with_retries(lambda: self._in_conversation(reference, send))
            if failure is None:
                return "sent"
            if failure.status != "gone":
                logger.warning("private answer failed", extra={"error": failure.error})
                return "not_sent"
            # The stored chat is gone; try to open a fresh one below.
        return await self._open_personal_chat(turn_context, keep_for, send)

    async def _open_personal_chat(self, turn_context: TurnContext,
                                  keep_for: UserContext | None,
                                  send: Callable[[TurnContext], Awaitable[None]]
                                  ) -> PrivateOutcome:
        activity = turn_context.activity
        tenant = tenant_id(activity)
        user = activity.from_property
        parameters = ConversationParameters(
            is_group=False, bot=activity.recipient, members=[ChannelAccount(id=user.id)],
            tenant_id=tenant, channel_data={"tenant": {"id": tenant}})
        created: dict[str, str] = {}

        async def first_turn(inner: TurnContext) -> None:
            created["id"] = inner.activity.conversation.id
            await send(inner)

        async def open_and_send() -> None:
            # Again after a failure: Teams answers with the same 1:1 chat for the same user.
            run = _Proactive(first_turn)
            await self.adapter.create_conversation(
                self.bot_app_id, run, conversation_parameters=parameters,
                channel_id=activity.channel_id or "msteams", service_url=activity.service_url)
            run.check()

        failure = await self._with_retries(open_and_send)
        if failure is not None:
            # 403/404: typically the app is not installed for this user, so Teams refuses
            # the chat; anything else is Teams being busy or down, not the person's doing.
            logger.info("could not open a personal chat", extra={"error": failure.error})
            return "unreachable" if failure.status == "gone" else "not_sent"
        if "id" in created and keep_for is not None:
            reference = ConversationReference(
                channel_id=activity.channel_id, service_url=activity.service_url,
                bot=activity.recipient,
                user=ChannelAccount(id=user.id, name=user.name, aad_object_id=user.aad_object_id),
                conversation=ConversationAccount(id=created["id"], conversation_type="personal",
                                                 tenant_id=tenant))
            try:
                await self.references.save(workspace_id=keep_for.workspace_id,
                                           user_id=keep_for.user_id, reference=reference,
                                           owner=keep_for)
            except StaleUser:
                # Forgotten on another replica meanwhile: the answer reached the sender (the
                # chat is theirs), and nothing is stored for ids that are no longer theirs.
                logger.info("personal chat not stored: the sender's rows are gone")
        return "sent"

    # ------------------------------------------------------------------ installation
    async def on_teams_members_added_dispatch(self, members_added: list[ChannelAccount],
                                              team_info: TeamInfo,
                                              turn_context: TurnContext) -> None:
        """The bot itself joining means installation; other members need no lookup."""
        del team_info
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in members_added) \
                and is_personal(turn_context.activity):
            await self._installed(turn_context)

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        """Installed or removed; an upgrade of the app (`add-upgrade`, `remove-upgrade`) is
        neither. botbuilder hands upgrades to the add and remove handlers, so every new version
        welcomed each team again and marked people as having removed the app meanwhile."""
        action = turn_context.activity.action or ""
        if action.endswith("-upgrade"):
            logger.info("teams app upgraded", extra={"action": action})
            return
        await super().on_installation_update(turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        """Installed for a user (personal) or in a team or group chat."""
        if is_personal(turn_context.activity):
            await self._installed(turn_context)
        else:
            await turn_context.send_activity(CHANNEL_WELCOME)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        """Uninstalled from the personal scope: stop nudging until the user returns."""
        if not is_personal(turn_context.activity):
            return
        actor = self._actor(turn_context)
        # Looked up, not created: someone who said "forget me" and then removed the app
        # must not be stored again as an inactive user.
        user_id = await self.references.user_id(actor.workspace_external_id,
                                                actor.user_external_id)
        if user_id is not None:
            await self.references.deactivate(user_id, "uninstalled")
            # Their waiting offers and uploads: nobody will answer those cards now.
            await drop_pending_files(self.rapport.db, user_id)
        # The next message then goes through the row check that re-activates the user.
        self.rapport.forget_cached(actor.platform, actor.workspace_external_id,
                                   actor.user_external_id)

    async def _installed(self, turn_context: TurnContext) -> None:
        actor = self._actor(turn_context)
        await self._remember(turn_context, actor)
        # Teams sends both conversationUpdate and installationUpdate; the core welcomes once.
        await self._welcome(turn_context, actor)

    async def _welcome(self, turn_context: TurnContext, actor: Actor) -> None:
        """The welcome, the first time Rapport meets this person in any front end."""
        if await self.rapport.welcome(actor) is None:
            return
        # Written here, not taken as the core words it: the core greets by the name's first
        # word, and Teams names start with titles ("Hi Dr.,"); see `given_name`.
        welcome = onboarding.welcome_text(given_name(actor.display_name))
        await turn_context.send_activity(plain_text(
            f"{welcome}\n\nFor example “log Dana coffee”.\n\n" + help_text()))

    # ------------------------------------------------------------------ card actions
    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        """Refuses a malformed ``adaptiveCard/action`` before botbuilder parses it: botbuilder's
        own refusal carries an object that cannot be serialised, so the request failed (500).
        A ``fileConsent/invoke`` without an object for its value is refused the same way."""
        activity = turn_context.activity
        if activity.name == FILE_CONSENT_INVOKE and not isinstance(activity.value, Mapping):
            logger.info("malformed file consent refused")
            return InvokeResponse(status=400)
        if activity.name == ADAPTIVE_CARD_ACTION:
            problem = adaptive_card_action_problem(activity.value)
            if problem is not None:
                code, message = problem
                logger.info("malformed card action refused", extra={"reason": message})
                return InvokeResponse(status=400, body={
                    "statusCode": 400, "type": ERROR_RESPONSE,
                    "value": {"code": code, "message": message}})
        return await super().on_invoke_activity(turn_context)

    async def on_teams_file_consent(self, turn_context: TurnContext,
                                    file_consent_card_response: FileConsentCardResponse
                                    ) -> InvokeResponse:
        """Accept or decline on a FileConsentCard: the file goes up (or not) inside the turn,
        then one message says what happened; the invoke itself is always answered 200 (an
        error there would only show Teams' generic failure)."""
        activity = turn_context.activity
        if file_consent_card_response.action not in ("accept", "decline"):
            logger.info("file consent with an unknown action refused")
            return InvokeResponse(status=400)
        answer = await self.files.answer(self._actor(turn_context),
                                         file_consent_card_response,
                                         personal=is_personal(activity),
                                         keeps_rows=self._keeps_rows_for)
        await self._answer_in_turn(turn_context, Reply(answer.text), answer.activity)
        return InvokeResponse(status=200)

    async def on_adaptive_card_invoke(self, turn_context: TurnContext,
                                      invoke_value: AdaptiveCardInvokeValue
                                      ) -> AdaptiveCardInvokeResponse:
        """An Action.Execute click: act, update the card, answer with the new card."""
        action = invoke_value.action if isinstance(invoke_value.action, Mapping) else {}
        data = dict(action.get("data") or {}) if isinstance(action.get("data"), Mapping) else {}
        if action.get("verb"):
            data["verb"] = action["verb"]
        card, message = await self._card_action(turn_context, data)
        if card is not None:
            return AdaptiveCardInvokeResponse(status_code=200, type=cards.CARD_CONTENT_TYPE,
                                              value=card)
        return _MessageInvokeResponse(status_code=200, type=MESSAGE_RESPONSE, value=message)

    async def _card_action(self, turn_context: TurnContext, data: dict[str, Any]
                           ) -> tuple[dict[str, Any] | None, str]:
        """Run a button's action; returns (the card now shown, or None; a message)."""
        if not is_personal(turn_context.activity):
            # A person's cards, notes, drafts and nudges belong in their personal chat: from
            # anywhere else a click changes nothing and its answer names no one.
            return None, CARDS_ARE_PERSONAL
        if not card_data_is_well_typed(data):
            logger.info("card action refused", extra={"reason": "malformed data"})
            return None, STALE_BUTTON
        actor = self._actor(turn_context)
        kind = data.get("rapport")
        # An import card refuses others' clicks itself, before anything is written.
        if kind != cards.IMPORT or await self._own_import(actor, data):
            kept = await self._rows_kept(actor)
            if kept is None:
                return None, TRY_AGAIN  # the action would wait for the database again
            if not kept:
                logger.info("card action refused", extra={"reason": "nothing kept"})
                return None, NOTHING_KEPT
        if kind == cards.NUDGE:
            return await self._nudge_action(turn_context, data)
        if kind == cards.DRAFT:
            return await self._draft_action(turn_context, data)
        if kind == cards.SUGGESTION:
            return await self._suggestion_action(turn_context, data)
        if kind == cards.PERSON:
            return await self._person_action(turn_context, data)
        if kind == cards.IMPORT:
            card, message = await self.imports.action(actor, data)
            if card is not None:
                await self._update_card(turn_context, card)
            return card, message
        return None, STALE_BUTTON

    async def _nudge_action(self, turn_context: TurnContext, data: dict[str, Any]
                            ) -> tuple[dict[str, Any] | None, str]:
        nudge_id = _positive_int(data.get("nudge_id"))
        verb = data.get("verb")
        if nudge_id is None or verb not in NUDGE_VERBS:
            return None, STALE_BUTTON
        until = None
        if verb == "snooze":
            until = _parse_day(data.get(cards.snooze_input_id(nudge_id))
                               or data.get("snooze_until"))
            if until is None:
                return None, "Pick a day to snooze until."
        command = c.nudge_button(str(verb), nudge_id, until)
        if command is None:
            return None, STALE_BUTTON
        actor = self._actor(turn_context)
        reply = await self.rapport.execute(actor, command)
        if verb == "draft":
            # The draft arrives as its own message; the nudge card keeps its buttons.
            if reply.ok:
                await turn_context.send_activity(render_reply(reply))
                return None, "Here is a draft; make it yours before you send it."
            return None, reply.text
        if not reply.ok:
            return None, reply.text
        card = await self._card_after(actor, nudge_id, reply.text, data)
        await self._update_card(turn_context, card)
        return card, reply.text

    async def _suggestion_action(self, turn_context: TurnContext, data: dict[str, Any]
                                 ) -> tuple[dict[str, Any] | None, str]:
        """Accept, keep or silence: the core checks ownership (missing and foreign get the
        same answer); a card of suggestions shows the outcome in place of the buttons."""
        suggestion_id = _positive_int(data.get("suggestion_id"))
        answer = cards.SUGGESTION_VERBS.get(str(data.get("verb")))
        if suggestion_id is None or answer is None:
            return None, STALE_BUTTON
        actor = self._actor(turn_context)
        reply = await self.rapport.execute(actor, c.AnswerSuggestion(suggestion_id, answer))
        if not reply.ok:
            return None, reply.text
        raw_ids = data.get("card_suggestions")
        ids = [n for n in (_positive_int(v) for v in raw_ids) if n is not None] \
            if isinstance(raw_ids, list) else []
        if not ids:
            # A button inside the stats card: the card stays, the answer is a message.
            return None, reply.text
        ids = ids[:cards.MAX_CARD_ITEMS]
        still_open = await self.rapport.with_user(actor, self._open_suggestions) or []
        card = cards.suggestions_card(
            "Suggestions", [i for i in still_open if i.suggestion_id in ids],
            outcomes={suggestion_id: reply.text}, card_suggestions=ids)
        await self._update_card(turn_context, card)
        return card, reply.text

    async def _open_suggestions(self, ctx: UserContext) -> list[SuggestionItem]:
        def read(turn: Turn) -> list[SuggestionItem]:
            return list(open_items(turn.session, turn.user.user_id))

        return await self.rapport.read(ctx, read)

    async def _person_action(self, turn_context: TurnContext, data: dict[str, Any]
                             ) -> tuple[dict[str, Any] | None, str]:
        """A person card's button: a typed command naming the contact by id (the core checks
        it is the clicker's); the card is redrawn with what happened."""
        contact_id = _positive_int(data.get("contact_id"))
        verb = data.get("verb")
        if contact_id is None or verb not in PERSON_VERBS:
            return None, STALE_BUTTON
        person = c.PersonRef(contact_id=contact_id)
        command: c.Command
        # A day that was sent but can't be read is refused, never taken as "today" or "none".
        day_field = cards.PERSON_LOG_DAY if verb == "person_log" else cards.PERSON_NOTE_DAY
        day = _parse_day(data.get(day_field))
        if verb in ("person_log", "person_note") and data.get(day_field) and day is None:
            return None, "Pick a day."
        if verb == "person_log":
            kind = str(data.get(cards.PERSON_LOG_KIND) or "chat").lower()
            summary = " ".join(str(data.get(cards.PERSON_LOG_SUMMARY) or "").split())
            if kind not in c.KNOWN_KINDS or len(summary) > c.MAX_SUMMARY_CHARS:
                return None, "Pick how you talked, and keep the summary short."
            command = c.Log(person, day, kind, summary or None)
        elif verb == "person_note":
            text = " ".join(str(data.get(cards.PERSON_NOTE_TEXT) or "").split())
            if not text or len(text) > c.MAX_SUMMARY_CHARS:
                return None, "Write what I should remember (at most 1,000 characters)."
            # With no day picked, the core reads one in the text ("her talk next Thursday")
            # as it reads a typed `note Dana: …`.
            command = c.AddNote(person, text, day, event_on=day, dates_unread=True)
        elif verb == "person_draft":
            command = c.Draft(person)
        elif verb == "person_snooze":
            command = c.Snooze(person, days=7)
        elif verb == "person_show":  # a meeting brief's Show: the person card, as a new message
            command = c.ShowPerson(person)
        else:
            command = c.Forget(person, confirmed=True)
        actor = self._actor(turn_context)
        reply = await self.rapport.execute(actor, command)
        if verb == "person_show":
            if reply.ok and isinstance(reply.view, PersonView):
                await turn_context.send_activity(render_reply(reply))
                return None, f"Here is {reply.view.name}."
            return None, reply.text
        if verb == "person_draft":
            if reply.ok:
                await turn_context.send_activity(render_reply(reply))
                return None, "Here is a draft; make it yours before you send it."
            return None, reply.text
        if not reply.ok:
            return None, reply.text
        if verb == "person_forget":
            card = cards.outcome_card(reply.text)
        else:
            shown = await self.rapport.execute(actor, c.ShowPerson(person))
            card = cards.person_card(shown.view, notice=reply.text) \
                if isinstance(shown.view, PersonView) else cards.outcome_card(reply.text)
        await self._update_card(turn_context, card)
        return card, reply.text

    async def _card_after(self, actor: Actor, acted: int, outcome: str,
                          data: Mapping[str, Any]) -> dict[str, Any]:
        card_nudges = data.get("card_nudges")
        ids = [n for n in (_positive_int(v) for v in card_nudges) if n is not None] \
            if isinstance(card_nudges, list) else []
        ids = ids[:cards.MAX_CARD_ITEMS] or [acted]
        due_card = data.get(cards.DUE_CARD_FIELD)
        if due_card in cards.DUE_CARDS:
            return await self._due_card_after(actor, acted, outcome, ids, str(due_card))
        if ids == [acted]:
            return cards.outcome_card(outcome)
        open_now = await self.rapport.with_user(actor, self.rapport.open_nudges) or []
        still_open = [item for item in open_now
                      if item.nudge_id in ids and item.nudge_id != acted]
        return cards.nudge_card(still_open, outcomes={acted: outcome}, card_nudges=ids)

    async def _due_card_after(self, actor: Actor, acted: int, outcome: str, ids: list[int],
                              due_card: str) -> dict[str, Any]:
        """`due`'s card after a click on one of its nudges: what happened in place of that
        nudge's buttons, the card's other nudges still open with theirs, and the rest (who is
        overdue, coming up, quiet) as Rapport keeps it now: read again, not carried in the
        card, whose data anyone could forge and whose lines would be out of date."""
        quiet = due_card == cards.QUIET_DUE_CARD

        async def read(ctx: UserContext) -> DueView:
            return await self.rapport.read(ctx, lambda turn: due_view(turn, quiet=quiet))

        view = await self.rapport.with_user(actor, read)
        if view is None:  # the database is out of reach: what happened, at least
            return cards.outcome_card(outcome)
        ids = ids if acted in ids else [acted, *ids]
        # Only the clicker's own open nudges: the card's ids are taken from its data.
        on_card = [item for item in view.nudges if item.nudge_id in ids and item.nudge_id != acted]
        elsewhere = sum(item.nudge_id not in ids for item in view.nudges) + view.more_nudges
        return cards.text_card(due_text_beside_cards(view), on_card, unlisted=elsewhere,
                               due_card=due_card, outcomes={acted: outcome}, card_nudges=ids)

    async def _update_card(self, turn_context: TurnContext, card: dict[str, Any]) -> None:
        message_id = turn_context.activity.reply_to_id
        if not message_id:
            return
        updated = MessageFactory.attachment(cards.as_attachment(card))
        updated.id = message_id
        try:
            await turn_context.update_activity(updated)
        except (ErrorResponseException, ClientRequestError) as failure:
            # The action itself is saved; a stale card only shows old buttons.
            logger.warning("card update failed", extra={"error": type(failure).__name__})

    async def _draft_action(self, turn_context: TurnContext, data: dict[str, Any]
                            ) -> tuple[dict[str, Any] | None, str]:
        draft_id = _positive_int(data.get("draft_id"))
        verb = data.get("verb")
        if draft_id is None or verb not in ("draft_post", "draft_copy", "draft_discard"):
            return None, STALE_BUTTON
        if self.draft_action is None:
            return None, "Copy the text from the box above and send it in your own words."
        text = data.get(cards.DRAFT_TEXT_INPUT)
        # Without the toggle (a template, or a policy of required or off) the policy decides.
        disclose = str(data.get(cards.DRAFT_DISCLOSE_INPUT, "true")).lower() != "false"
        reply, message = await self.draft_action(self._actor(turn_context), draft_id,
                                                 str(verb).removeprefix("draft_"),
                                                 text if isinstance(text, str) else None,
                                                 disclose)
        if not reply.ok:
            return None, reply.text
        card = cards.draft_outcome_card(reply.text, message) if message \
            else cards.outcome_card(reply.text)
        await self._update_card(turn_context, card)
        return card, reply.text
