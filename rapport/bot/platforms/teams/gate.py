"""What an activity must be before the bot sees it: a sender, and (outside emulator mode) the
Teams channel from an allowed tenant. botbuilder checks none of this."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from botbuilder.schema import Activity

from rapport.bot.service.config import Settings

TEAMS_CHANNEL = "msteams"
# MicrosoftAppType values whose bot lives in one tenant only.
ONE_TENANT_TYPES = frozenset({"SingleTenant", "UserAssignedMSI"})


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an activity is refused: HTTP status, the reason for the log and the client."""

    status: int
    reason: str


def parse_tenants(value: str) -> frozenset[str]:
    """``"id1, id2"`` -> lower-case tenant ids; blanks dropped."""
    return frozenset(part.strip().lower() for part in value.split(",") if part.strip())


def allowed_tenants(settings: Settings) -> frozenset[str] | None:
    """Tenant ids an activity may come from, or None for any (MultiTenant, no list)."""
    if settings.microsoft_app_type in ONE_TENANT_TYPES:
        return parse_tenants(settings.microsoft_app_tenant_id or "")
    return parse_tenants(settings.teams_tenants) or None


def check_shape(activity: Activity) -> Refusal | None:
    """400 for an activity no user can be told apart in (it would become one shared user)."""
    sender = activity.from_property
    if sender is None or not isinstance(sender.id, str) or not sender.id.strip():
        return Refusal(400, "activity without from.id")
    return None


def check_origin(activity: Activity, tenants: frozenset[str] | None) -> Refusal | None:
    """403 for an authenticated activity from another channel or a tenant not allowed."""
    if activity.channel_id != TEAMS_CHANNEL:
        return Refusal(403, "channel not allowed")
    if tenants is None:
        return None
    named = _tenant_ids(activity)
    if not named or not named <= tenants:
        return Refusal(403, "tenant not allowed")
    return None


def _tenant_ids(activity: Activity) -> set[str]:
    """Every tenant id the activity names, read as loosely as the bot reads them
    (channelData.tenant.id, conversation.tenantId), so none can slip past the check."""
    values: list[object] = []
    channel_data = activity.channel_data
    if isinstance(channel_data, Mapping):
        tenant = channel_data.get("tenant")
        if isinstance(tenant, Mapping):
            values.append(tenant.get("id"))
        elif tenant is not None:
            values.append(tenant)
    conversation = activity.conversation
    if conversation is not None:
        values.append(conversation.tenant_id)
        values.append((conversation.additional_properties or {}).get("tenantId"))
    return {str(value).strip().lower() for value in values
            if value is not None and str(value).strip()}
