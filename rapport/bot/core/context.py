"""Who is acting and what a use case may call: shared by the core's modules and platforms.

Small on purpose: the use-case modules, the importer and the platforms depend on this module
instead of on each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal, Protocol

from sqlalchemy.orm import Session

from rapport.scheduler import planner

if TYPE_CHECKING:
    from rapport.bot.core.drafts import DraftOutcome
    from rapport.bot.core.views import Reply

TRY_AGAIN = "I can't reach my database right now. Please try again in a moment."


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is talking to Rapport, as the platform told us."""

    platform: str
    workspace_external_id: str
    user_external_id: str
    display_name: str = ""
    tz: str | None = None
    workspace_name: str = ""


@dataclass(frozen=True, slots=True)
class UserContext:
    """The acting user's ids and preferences, loaded once per command."""

    workspace_id: int
    user_id: int
    platform: str
    tz: str
    prefs: planner.DeliveryPrefs
    digest: bool
    ai_enabled: bool
    tone: str
    weekly_summary: bool
    workspace_ai_enabled: bool
    disclosure_policy: str
    active: bool = True
    # Who these rows belong to on the platform: a unit of work checks them, so ids cached by
    # one process never act for someone else after a delete elsewhere.
    workspace_external_id: str = ""
    user_external_id: str = ""
    # Minutes before a meeting that its brief arrives (0: off).
    prep_minutes: int = 30

    def today(self, now: datetime) -> date:
        return planner.local_date(now, self.tz)


# Why an account in the platform's directory is no one to keep in touch with: a bot (an app,
# a workflow, Slackbot), a deactivated account, a group (a mention of many people: @here, a
# user group), or no account the directory knows (removed, or another organisation's): asking
# again would not tell its name.
NotAPerson = Literal["bot", "deactivated", "group", "unknown"]


class Directory(Protocol):
    """The platform's people directory, for names of @mentioned colleagues."""

    async def display_name(self, user_external_id: str) -> str | None: ...

    async def not_a_person(self, user_external_id: str) -> NotAPerson | None:
        """Why the account can't become a contact, or None when it can."""
        ...


class Admins(Protocol):
    """Who may change workspace-wide settings (`admin ...`), as the platform knows it.

    Asked for `admin` commands only, never for ordinary ones. Slack asks users.info
    (`is_admin`, `is_owner`); Teams reads a configured list of AAD object ids; the person at
    the console runs the server.
    """

    @property
    def who(self) -> str:
        """Who counts as an admin here, for the refusal ("Slack workspace admins and owners")."""

    async def is_admin(self, user_external_id: str) -> bool | None:
        """Whether the user is an admin of the workspace; None when the platform could not
        tell (then nobody is treated as one)."""


class WorkspaceTokens(Protocol):
    """A platform's stored credentials for a workspace (Slack's OAuth installations), which
    `admin purge` deletes with the workspace's data, as `rapport purge-workspace` does."""

    async def delete(self, workspace_external_id: str) -> int:
        """Delete them; how many installations there were."""


DraftOutcomeKind = Literal["post", "copy", "discard"]


class Drafter(Protocol):
    """Makes drafts and finishes them (`rapport.bot.core.drafts.DraftService`)."""

    async def draft_for(self, ctx: UserContext, contact_id: int,
                        nudge_id: int | None) -> Reply: ...

    async def reopen(self, who: UserContext | Actor, draft_id: int) -> Reply:
        """A draft made before, to edit in a window of its own; refused once finished."""

    async def prepare(self, who: UserContext | Actor, draft_id: int, final_text: str,
                      outcome: DraftOutcomeKind, disclose: bool = True) -> DraftOutcome: ...

    async def finish(self, who: UserContext | Actor, draft_id: int, final_text: str,
                     outcome: DraftOutcomeKind, disclose: bool = True) -> DraftOutcome: ...

    async def close(self) -> None:
        """Release the provider's connections."""


class CalendarDisconnect(Protocol):
    """What disconnecting one calendar did."""

    @property
    def provider(self) -> str: ...
    @property
    def revoked_at_provider(self) -> bool: ...
    @property
    def had_grant(self) -> bool: ...


class Calendars(Protocol):
    """The calendar connector as the core sees it (rapport.bot.connectors.calendars)."""

    @property
    def available(self) -> tuple[str, ...]: ...

    async def start(self, user_id: int, workspace_id: int, provider: str, *,
                    owner: UserContext | None = None) -> str:
        """A private, single-use consent link for this user; with `owner`, stored only
        while the ids are still that platform user's rows (`StaleUser` otherwise)."""

    async def disconnect(self, user_id: int, provider: str | None = None
                         ) -> Sequence[CalendarDisconnect]:
        """Revoke at the provider and delete the tokens; what was disconnected."""

    async def forget_user(self, user_id: int) -> None:
        """Revoke and delete every calendar grant of the user (before `forget me`)."""

    async def export(self, user_id: int) -> dict[str, list[dict[str, object]]]:
        """The user's calendar data for `export` (never a token)."""


class ChatCapture(Protocol):
    """Capture of one chat platform's direct messages as the core sees it (Slack:
    rapport.bot.platforms.slack.dm_capture). Metadata only: who and when, never the text."""

    async def start(self, ctx: UserContext) -> str:
        """A private, single-use consent link for this user, stored only while `ctx`'s ids
        are still that platform user's rows (`StaleUser` otherwise)."""

    async def stop(self, user_id: int) -> bool | None:
        """Revoke the grant at the platform and delete it: None when capture was off, else
        whether the platform confirmed the revocation."""

    async def forget_user(self, user_id: int) -> None:
        """Revoke and delete the user's grant (before `forget me`)."""


@dataclass(slots=True)
class Turn:
    """One command's unit of work: the session, who acts, and the moment it happens."""

    session: Session
    user: UserContext
    now: datetime
    # Display names of @mentioned people, looked up before the unit of work when needed.
    mention_names: Mapping[str, str] = field(default_factory=dict)
    # Which of them are no people (bots, deactivated accounts), looked up with their names.
    not_people: Mapping[str, NotAPerson] = field(default_factory=dict)
    # Whether an AI provider is set up (settings say "template drafts" otherwise).
    ai_configured: bool = True

    @property
    def today(self) -> date:
        return self.user.today(self.now)


class MentionNamesNeeded(Exception):
    """Raised inside a unit of work that must create a contact from an @mention whose name
    it does not know yet: the facade asks the directory, then runs the work again."""

    def __init__(self, mention_ids: tuple[str, ...]) -> None:
        super().__init__(", ".join(mention_ids))
        self.mention_ids = mention_ids
