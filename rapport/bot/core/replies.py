"""Platform-neutral results of a use case; each platform renders them its own way."""

from __future__ import annotations

from dataclasses import dataclass, field

from rapport.scheduler.messenger import NudgeItem


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
class Attachment:
    """A file for the user (an export)."""

    filename: str
    content_type: str
    data: bytes


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
class Reply:
    """What a use case answers: text, maybe nudges with actions, a file or a draft."""

    text: str
    ok: bool = True
    nudges: tuple[NudgeItem, ...] = ()
    attachment: Attachment | None = None
    draft: DraftView | None = None
    changed: bool = False
    extra: dict[str, object] = field(default_factory=dict)


def error(text: str) -> Reply:
    """A refusal or a problem: nothing changed."""
    return Reply(text=text, ok=False)
