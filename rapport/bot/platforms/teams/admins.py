"""Who is a workspace admin in Teams: the AAD object ids in RAPPORT_TEAMS_ADMINS.

A bot cannot read tenant roles without Microsoft Graph permissions, so the operator lists the
admins; the id is matched against the activity's ``from.aadObjectId``, which Teams sets and the
Bot Connector signs (a display name or a Teams user id never counts).
"""

from __future__ import annotations

from dataclasses import dataclass

from rapport.bot.service.config import Settings


def parse_admin_ids(value: str) -> frozenset[str]:
    """``"id1, id2"`` -> lower-case AAD object ids; blanks dropped."""
    return frozenset(part.strip().lower() for part in value.split(",") if part.strip())


def admin_ids(settings: Settings) -> frozenset[str]:
    return parse_admin_ids(settings.teams_admins)


@dataclass(frozen=True, slots=True)
class TeamsAdmins:
    """The core's `Admins` for one activity: its sender's AAD object id against the list."""

    allowed: frozenset[str]
    aad_object_id: str | None

    who = "Teams users listed in Rapport's RAPPORT_TEAMS_ADMINS setting"

    async def is_admin(self, user_external_id: str) -> bool:
        sender = (self.aad_object_id or "").strip().lower()
        return bool(sender) and sender == user_external_id.strip().lower() \
            and sender in self.allowed
