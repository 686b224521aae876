"""The one interface each platform implements for proactive messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

DeliveryStatus = Literal["sent", "retry", "gone", "failed"]
MessageKind = Literal["nudge", "digest", "summary"]


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a proactive message is for, in platform terms and ours."""

    workspace_id: int
    workspace_external_id: str
    platform: str
    user_id: int
    user_external_id: str
    display_name: str
    tz: str


@dataclass(frozen=True, slots=True)
class NudgeItem:
    """One nudge as every platform renders it: a human sentence, context, and actions."""

    nudge_id: int
    contact_id: int
    contact_name: str
    reason: str
    headline: str
    context: str | None = None


def by_person(items: Sequence[NudgeItem]) -> tuple[NudgeItem, ...]:
    """`items` with each person's nudges together, people in the order of their first one.
    A sweep orders a digest by when each nudge fell due, which can put someone else's row
    between two of one person's."""
    grouped: dict[int, list[NudgeItem]] = {}
    for item in items:
        grouped.setdefault(item.contact_id, []).append(item)
    return tuple(item for person in grouped.values() for item in person)


@dataclass(frozen=True, slots=True)
class SuggestionItem:
    """One open suggestion as every platform renders it: the sentence and three answers
    (accept, keep things as they are, silence this kind)."""

    suggestion_id: int
    kind: str
    text: str
    # How the kind is named in "stop suggestions about ..." (rapport.scheduler.suggestions).
    kind_label: str

    @property
    def labels(self) -> tuple[str, str, str]:
        """The three answers' button labels: an offer to add someone met says Add / Not now /
        Never (that person only); a change to the plan says change it / keep / stop."""
        if self.kind == "add_person":  # rapport.scheduler.suggestions.ADD_PERSON
            return ("Add", "Not now", "Never")
        return ("Yes, change it", "Keep as it is", "Stop suggesting this")


@dataclass(frozen=True, slots=True)
class PersonButton:
    """A person a message is about (a meeting brief), shown with Show and Snooze buttons that
    act on that contact like a person card's."""

    contact_id: int
    name: str


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A nudge, a digest of several, or a plain summary text (with open suggestions, or the
    people of a meeting brief)."""

    recipient: Recipient
    kind: MessageKind
    items: tuple[NudgeItem, ...] = ()
    text: str = ""
    suggestions: tuple[SuggestionItem, ...] = ()
    people: tuple[PersonButton, ...] = ()


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What happened to one message.

    `retry`: transient (rate limit, 5xx, network); try again after `retry_after` seconds.
    `gone`: the user cannot be reached any more (bot removed, token revoked, user deleted).
    `failed`: this message will never go through as it is (a bug or a rejected payload).
    """

    status: DeliveryStatus
    ref: str | None = None
    retry_after: float | None = None
    error: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # A message the platform sent as several (a Teams digest over its size limit): where each
    # nudge went. When `sent` with refs, a nudge missing from them did not go out and is
    # tried again (`error`, `retry_after`: why not).
    refs: dict[int, str] = field(default_factory=dict)

    @classmethod
    def sent(cls, ref: str | None = None) -> DeliveryResult:
        return cls("sent", ref=ref)

    @classmethod
    def retry(cls, error: str, retry_after: float | None = None) -> DeliveryResult:
        return cls("retry", retry_after=retry_after, error=error)

    @classmethod
    def gone(cls, error: str) -> DeliveryResult:
        return cls("gone", error=error)

    @classmethod
    def failed(cls, error: str) -> DeliveryResult:
        return cls("failed", error=error)


class Messenger(Protocol):
    """A platform's way of sending a proactive direct message to one user."""

    platform: str

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        """Send `message` privately to its recipient; never raise for platform errors."""
        ...


@dataclass(frozen=True, slots=True)
class DeliveredMessage:
    """A message a messenger sent earlier, as it told us where (`DeliveryResult.ref`)."""

    platform: str
    workspace_external_id: str
    ref: str
    # The conversation reference it went through, when the platform stored one (Teams).
    conversation_json: str | None = None


@runtime_checkable
class EditableMessenger(Messenger, Protocol):
    """A messenger that can also replace what it sent (Slack, Teams)."""

    async def redact(self, message: DeliveredMessage, text: str) -> DeliveryResult:
        """Replace the message with `text` alone, no buttons; never raise for platform
        errors. `gone`: the message (or the way to it) no longer exists, so trying again is
        pointless; `retry`: a transient failure."""
        ...
