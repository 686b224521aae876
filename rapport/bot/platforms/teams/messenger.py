"""Proactive Teams messages for the scheduler: ``continue_conversation`` with the stored ref.

How the Connector's answers map to the sweep's outcomes:
403/404 (bot blocked or removed, conversation gone) -> ``gone``: the sweep marks the user
inactive instead of retrying. 429 -> wait the Retry-After it asks for, in-process when short,
else hand it to the sweep as ``retry`` with that delay (the nudge stays in the database).
412/5xx/network -> a couple of quick retries with backoff, then ``retry``.
Other 4xx -> ``failed``: the payload itself was refused.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ConversationReference, ErrorResponseException
from msrest.exceptions import ClientRequestError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.bot.platforms.teams import cards
from rapport.bot.platforms.teams.store import ReferenceStore
from rapport.scheduler.messenger import DeliveredMessage, DeliveryResult, OutgoingMessage
from rapport.scheduler.planner import utcnow
from rapport.scheduler.wording import counted, people_count

logger = logging.getLogger(__name__)

GONE_STATUSES = frozenset({403, 404})
TRANSIENT_STATUSES = frozenset({408, 412, 500, 502, 503, 504})
# Longer waits go back to the sweep: one message must not hold a delivery slot for long.
MAX_INLINE_WAIT_SECONDS = 5.0
INLINE_ATTEMPTS = 3
BACKOFF_SECONDS = (0.25, 1.0)

Sleep = Callable[[float], Awaitable[Any]]
T = TypeVar("T")


def split(message: OutgoingMessage) -> list[OutgoingMessage]:
    """The Teams messages `message` goes out as: a digest too big for one is several cards
    (cards.digest_parts), in order; anything else is itself."""
    if len(message.items) <= 1:
        return [message]
    return [replace(message, items=part) for part in cards.digest_parts(message.items)]


def render(message: OutgoingMessage) -> Activity:
    """The activity for a nudge or digest (an Adaptive Card) or a summary (text)."""
    if message.items:
        intro = None if message.kind != "summary" else message.text or None
        card = cards.nudge_card(message.items, intro=intro)
        activity = MessageFactory.attachment(cards.as_attachment(card))
        # The notification preview in Teams shows this instead of "Sent a card".
        activity.summary = message.items[0].headline if len(message.items) == 1 \
            else f"{counted(people_count(message.items), 'person', 'people')} worth a message"
        return activity
    if message.people:
        # A meeting brief, with Show / Snooze for each person met.
        card = cards.brief_card(message.text, message.people)
        activity = MessageFactory.attachment(cards.as_attachment(card))
        activity.summary = message.text.splitlines()[0][:100]
        return activity
    if message.suggestions:
        # The summary with its open suggestions, each with accept / keep / silence.
        card = cards.suggestions_card(message.text, message.suggestions)
        activity = MessageFactory.attachment(cards.as_attachment(card))
        activity.summary = message.text.splitlines()[0][:100] if message.text else "Rapport"
        return activity
    return MessageFactory.text(message.text)


def _status(failure: ErrorResponseException) -> tuple[int | None, float | None]:
    response = getattr(failure, "response", None)
    status = getattr(response, "status_code", None)
    retry_after: float | None = None
    header = response.headers.get("Retry-After") if response is not None else None
    if header is not None:
        try:
            retry_after = max(0.0, float(header))
        except ValueError:
            retry_after = None  # an HTTP date; fall back to our own backoff
    return status, retry_after


async def with_retries(attempt: Callable[[], Awaitable[T]], *, sleep: Sleep = asyncio.sleep,
                       max_inline_wait: float = MAX_INLINE_WAIT_SECONDS) -> T | DeliveryResult:
    """What `attempt()` returns, tried again on throttling (429, waiting its Retry-After when
    at most `max_inline_wait`) and transient failures (412/5xx, with backoff), at most
    `INLINE_ATTEMPTS` times; else why not, as a DeliveryResult: `gone` (403/404), `retry`
    (still throttled or failing: worth trying later) or `failed` (the payload was refused).

    Proactive nudges and the bot's answers inside a turn both send through this, so a busy
    Connector gets the same patience everywhere."""
    error = "not sent"
    for attempt_number in range(INLINE_ATTEMPTS):
        last = attempt_number == INLINE_ATTEMPTS - 1
        try:
            return await attempt()
        except ErrorResponseException as failure:
            status, retry_after = _status(failure)
            error = f"teams {status}"
            if status in GONE_STATUSES:
                logger.info("teams user unreachable", extra={"status": status})
                return DeliveryResult.gone(error)
            if status == 429:
                wait = retry_after if retry_after is not None else BACKOFF_SECONDS[-1]
                if wait > max_inline_wait or last:
                    return DeliveryResult.retry(error, retry_after=wait)
                logger.info("teams throttled, waiting", extra={"seconds": wait})
                await sleep(wait)
                continue
            if status in TRANSIENT_STATUSES:
                if last:
                    return DeliveryResult.retry(error, retry_after=retry_after)
                await sleep(retry_after if retry_after is not None
                            and retry_after <= max_inline_wait
                            else BACKOFF_SECONDS[min(attempt_number, len(BACKOFF_SECONDS) - 1)])
                continue
            return DeliveryResult.failed(error)
        except (ClientRequestError, OSError, TimeoutError) as failure:
            # msrest already retried these (connection errors, exhausted 5xx retries).
            return DeliveryResult.retry(type(failure).__name__)
    return DeliveryResult.retry(error)


class TeamsMessenger:
    """The scheduler's Messenger for Teams users."""

    platform = "teams"

    def __init__(self, *, adapter: CloudAdapter, sessions: async_sessionmaker[AsyncSession],
                 bot_app_id: str, sleep: Sleep = asyncio.sleep,
                 max_inline_wait: float = MAX_INLINE_WAIT_SECONDS) -> None:
        self.adapter = adapter
        self.references = ReferenceStore(sessions=sessions, clock=utcnow)
        self.bot_app_id = bot_app_id
        self.sleep = sleep
        self.max_inline_wait = max_inline_wait

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        """Send privately to the recipient's personal chat; never raises for Teams errors.

        A digest too big for one Teams message goes out as several cards: `refs` then says
        which message holds each nudge (its redaction edits that one). When a later card is
        not sent, the earlier ones' nudges are delivered and the others left out of `refs`
        are tried again by the sweep."""
        reference = await self.references.load(message.recipient.user_id)
        if reference is None:
            return DeliveryResult.gone("no personal conversation")
        parts = split(message)
        refs: dict[int, str] = {}
        first: str | None = None
        for part in parts:
            result = await self._deliver_one(reference, part)
            if result.status != "sent":
                if first is None:
                    return result
                return replace(DeliveryResult.sent(first), refs=refs, error=result.error,
                               retry_after=result.retry_after)
            first = first or result.ref
            if len(parts) > 1 and result.ref is not None:
                refs.update((item.nudge_id, result.ref) for item in part.items)
        return replace(DeliveryResult.sent(first), refs=refs)

    async def _deliver_one(self, reference: Any, message: OutgoingMessage) -> DeliveryResult:
        """One Teams message, with the quick retries above."""
        # Rendered afresh for each attempt: sending fills in ids and addresses on the activity.
        outcome = await with_retries(lambda: self._send(reference, render(message)),
                                     sleep=self.sleep, max_inline_wait=self.max_inline_wait)
        if isinstance(outcome, DeliveryResult):
            return outcome
        return DeliveryResult.sent(json.dumps(
            {"conversation_id": reference.conversation.id, "activity_id": outcome}))

    async def redact(self, message: DeliveredMessage, text: str) -> DeliveryResult:
        """Update the sent card to `text` alone, no buttons, through the conversation it went
        to; a conversation or message that is gone (403/404) is `gone`."""
        try:
            sent = json.loads(message.ref)
            activity_id = str(sent["activity_id"])
            reference = ConversationReference().deserialize(
                json.loads(message.conversation_json or ""))
        except (ValueError, KeyError, TypeError):
            return DeliveryResult.failed("no Teams message or conversation reference")
        if reference.conversation is None or reference.conversation.id != \
                sent.get("conversation_id"):
            return DeliveryResult.failed("the message is in another conversation")
        cleared = MessageFactory.attachment(cards.as_attachment(cards.cleared_card(text)))
        cleared.summary = text[:100]
        cleared.id = activity_id
        async def update(turn_context: TurnContext) -> None:
            await turn_context.update_activity(cleared)

        try:
            await self._in_conversation(reference, update)
        except ErrorResponseException as failure:
            status, retry_after = _status(failure)
            if status in GONE_STATUSES:
                return DeliveryResult.gone(f"teams {status}")
            if status == 429 or status in TRANSIENT_STATUSES:
                return DeliveryResult.retry(f"teams {status}", retry_after=retry_after)
            return DeliveryResult.failed(f"teams {status}")
        except (ClientRequestError, OSError, TimeoutError) as failure:
            return DeliveryResult.retry(type(failure).__name__)
        return DeliveryResult.sent(message.ref)

    async def _send(self, reference: Any, activity: Activity) -> str | None:
        sent: list[str | None] = []

        async def send(turn_context: TurnContext) -> None:
            response = await turn_context.send_activity(activity)
            sent.append(response.id if response is not None else None)

        await self._in_conversation(reference, send)
        return sent[0] if sent else None

    async def _in_conversation(self, reference: Any,
                               work: Callable[[TurnContext], Awaitable[None]]) -> None:
        """Run `work` in a proactive turn of `reference`'s conversation; what it raises is
        raised here (caught inside the turn so the adapter's on_turn_error cannot swallow
        it)."""
        failures: list[Exception] = []

        async def callback(turn_context: TurnContext) -> None:
            try:
                await work(turn_context)
            except Exception as failure:
                failures.append(failure)

        await self.adapter.continue_conversation(reference, callback, bot_app_id=self.bot_app_id)
        if failures:
            raise failures[0]
