"""Builders of Activity JSON shaped like what Microsoft Teams posts to a bot's ``/api/messages``.

The shapes follow real Teams payloads (ids with ``29:``/``28:``/``a:``/``19:`` prefixes,
``clientInfo`` entity with the user's time zone, ``channelData.tenant``), so parsing code meets
what production sends. Feed them to ``Activity().deserialize(...)`` or POST them as JSON.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

ConversationType = Literal["personal", "groupChat", "channel"]

DEFAULT_USER_ID = "29:user-aad"
DEFAULT_USER_NAME = "Dana Scully"
DEFAULT_AAD_OBJECT_ID = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
DEFAULT_TENANT_ID = "tenant-1"
DEFAULT_BOT_ID = "28:rapport-bot"
DEFAULT_BOT_NAME = "Rapport"
DEFAULT_TEAM_ID = "19:team-general@thread.tacv2"
DEFAULT_CHANNEL_ID = "19:channel-rapport@thread.tacv2"

# Teams message ids are millisecond timestamps; a counter keeps builders' ids unique per run.
_activity_ids = itertools.count(1_690_000_000_000)


def _next_id() -> str:
    return str(next(_activity_ids))


def _timestamps(timestamp: datetime | None, local_timezone: str) -> tuple[str, str]:
    # datetime.now is read at call time so time-machine travel shows up in the payload.
    moment = (timestamp or datetime.now(UTC)).astimezone(UTC)
    local = moment.astimezone(ZoneInfo(local_timezone))
    return (
        moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        local.isoformat(timespec="milliseconds"),
    )


def default_conversation_id(
    conversation_type: ConversationType,
    *,
    user_id: str = DEFAULT_USER_ID,
    channel_id: str = DEFAULT_CHANNEL_ID,
) -> str:
    """A conversation id of the shape Teams uses for that kind of conversation."""
    if conversation_type == "personal":
        # Stable per user: a user has one 1:1 chat with the bot.
        return f"a:1-personal-{user_id.removeprefix('29:')}"
    if conversation_type == "groupChat":
        return "19:group-chat-1@thread.v2"
    return f"{channel_id};messageid=1690000000000"


def _envelope(
    activity_type: str,
    *,
    service_url: str,
    user_id: str,
    user_name: str,
    aad_object_id: str,
    tenant_id: str,
    conversation_type: ConversationType,
    conversation_id: str | None,
    bot_id: str,
    bot_name: str,
    team_id: str,
    channel_id: str,
    local_timezone: str,
    locale: str,
    timestamp: datetime | None,
    activity_id: str | None,
) -> dict[str, Any]:
    utc_stamp, local_stamp = _timestamps(timestamp, local_timezone)
    conversation: dict[str, Any] = {
        "conversationType": conversation_type,
        "tenantId": tenant_id,
        "id": conversation_id
        or default_conversation_id(conversation_type, user_id=user_id, channel_id=channel_id),
    }
    if conversation_type != "personal":
        conversation["isGroup"] = True
    channel_data: dict[str, Any] = {"tenant": {"id": tenant_id}}
    if conversation_type == "channel":
        channel_data.update(
            {
                "teamsTeamId": team_id,
                "teamsChannelId": channel_id,
                "team": {"id": team_id, "name": "Field Office"},
                "channel": {"id": channel_id, "name": "General"},
            }
        )
    return {
        "type": activity_type,
        "id": activity_id or _next_id(),
        "timestamp": utc_stamp,
        "localTimestamp": local_stamp,
        "localTimezone": local_timezone,
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": user_id, "name": user_name, "aadObjectId": aad_object_id},
        "conversation": conversation,
        "recipient": {"id": bot_id, "name": bot_name},
        "entities": [
            {
                "type": "clientInfo",
                "locale": locale,
                "country": locale.partition("-")[2] or "US",
                "platform": "Web",
                "timezone": local_timezone,
            }
        ],
        "channelData": channel_data,
        "locale": locale,
    }


def teams_message_activity(
    text: str,
    *,
    service_url: str,
    user_id: str = DEFAULT_USER_ID,
    user_name: str = DEFAULT_USER_NAME,
    aad_object_id: str = DEFAULT_AAD_OBJECT_ID,
    tenant_id: str = DEFAULT_TENANT_ID,
    conversation_type: ConversationType = "personal",
    conversation_id: str | None = None,
    mentions_bot: bool = False,
    mentions: Sequence[tuple[str, str]] = (),
    bot_id: str = DEFAULT_BOT_ID,
    bot_name: str = DEFAULT_BOT_NAME,
    team_id: str = DEFAULT_TEAM_ID,
    channel_id: str = DEFAULT_CHANNEL_ID,
    local_timezone: str = "Europe/Berlin",
    locale: str = "en-US",
    timestamp: datetime | None = None,
    activity_id: str | None = None,
) -> dict[str, Any]:
    """A user's text message to the bot.

    ``mentions_bot`` prefixes ``<at>{bot_name}</at> `` and adds the mention entity, as Teams does
    in channels and group chats. ``mentions`` are ``(user_id, name)`` pairs for people the text
    already names as ``<at>name</at>`` (how a user @mentions a contact).
    """
    activity = _envelope(
        "message",
        service_url=service_url,
        user_id=user_id,
        user_name=user_name,
        aad_object_id=aad_object_id,
        tenant_id=tenant_id,
        conversation_type=conversation_type,
        conversation_id=conversation_id,
        bot_id=bot_id,
        bot_name=bot_name,
        team_id=team_id,
        channel_id=channel_id,
        local_timezone=local_timezone,
        locale=locale,
        timestamp=timestamp,
        activity_id=activity_id,
    )
    mention_entities: list[dict[str, Any]] = []
    if mentions_bot:
        bot_tag = f"<at>{bot_name}</at>"
        text = f"{bot_tag} {text}"
        mention_entities.append(
            {"type": "mention", "text": bot_tag, "mentioned": {"id": bot_id, "name": bot_name}}
        )
    for mentioned_id, name in mentions:
        mention_entities.append(
            {
                "type": "mention",
                "text": f"<at>{name}</at>",
                "mentioned": {"id": mentioned_id, "name": name},
            }
        )
    activity["entities"] = mention_entities + activity["entities"]
    activity["text"] = text
    activity["textFormat"] = "plain"
    # Teams also sends the rendered HTML; handlers should read `text`, not this.
    activity["attachments"] = [{"contentType": "text/html", "content": f"<p>{text}</p>"}]
    return activity


def teams_message_back(
    value: Mapping[str, Any],
    *,
    service_url: str,
    reply_to_id: str | None = None,
    user_id: str = DEFAULT_USER_ID,
    user_name: str = DEFAULT_USER_NAME,
    aad_object_id: str = DEFAULT_AAD_OBJECT_ID,
    tenant_id: str = DEFAULT_TENANT_ID,
    conversation_type: ConversationType = "personal",
    conversation_id: str | None = None,
    bot_id: str = DEFAULT_BOT_ID,
    local_timezone: str = "Europe/Berlin",
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """An ``Action.Submit`` click on a card: a message with ``value`` and no text."""
    activity = _envelope(
        "message",
        service_url=service_url,
        user_id=user_id,
        user_name=user_name,
        aad_object_id=aad_object_id,
        tenant_id=tenant_id,
        conversation_type=conversation_type,
        conversation_id=conversation_id,
        bot_id=bot_id,
        bot_name=DEFAULT_BOT_NAME,
        team_id=DEFAULT_TEAM_ID,
        channel_id=DEFAULT_CHANNEL_ID,
        local_timezone=local_timezone,
        locale="en-US",
        timestamp=timestamp,
        activity_id=None,
    )
    activity["value"] = dict(value)
    activity["channelData"]["postBack"] = True
    if reply_to_id is not None:
        activity["replyToId"] = reply_to_id
    return activity


def _invoke(
    name: str,
    value: dict[str, Any],
    *,
    service_url: str,
    reply_to_id: str | None,
    user_id: str,
    user_name: str,
    aad_object_id: str,
    tenant_id: str,
    conversation_type: ConversationType,
    conversation_id: str | None,
    bot_id: str,
    local_timezone: str,
    timestamp: datetime | None,
) -> dict[str, Any]:
    """An ``invoke`` activity named ``name`` carrying ``value``; ``reply_to_id`` is the id of
    the message holding the card that was clicked."""
    activity = _envelope(
        "invoke",
        service_url=service_url,
        user_id=user_id,
        user_name=user_name,
        aad_object_id=aad_object_id,
        tenant_id=tenant_id,
        conversation_type=conversation_type,
        conversation_id=conversation_id,
        bot_id=bot_id,
        bot_name=DEFAULT_BOT_NAME,
        team_id=DEFAULT_TEAM_ID,
        channel_id=DEFAULT_CHANNEL_ID,
        local_timezone=local_timezone,
        locale="en-US",
        timestamp=timestamp,
        activity_id=None,
    )
    activity["name"] = name
    activity["value"] = value
    if reply_to_id is not None:
        activity["replyToId"] = reply_to_id
    return activity


def teams_card_action_invoke(
    data: Mapping[str, Any],
    *,
    service_url: str,
    verb: str = "",
    reply_to_id: str | None = None,
    user_id: str = DEFAULT_USER_ID,
    user_name: str = DEFAULT_USER_NAME,
    aad_object_id: str = DEFAULT_AAD_OBJECT_ID,
    tenant_id: str = DEFAULT_TENANT_ID,
    conversation_type: ConversationType = "personal",
    conversation_id: str | None = None,
    bot_id: str = DEFAULT_BOT_ID,
    local_timezone: str = "Europe/Berlin",
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """An ``Action.Execute`` click: an ``invoke`` named ``adaptiveCard/action``.

    ``reply_to_id`` is the id of the message holding the card, which the bot updates in place.
    """
    activity = _invoke(
        "adaptiveCard/action",
        {
            "action": {"type": "Action.Execute", "verb": verb, "data": dict(data)},
            "trigger": "manual",
        },
        service_url=service_url,
        reply_to_id=reply_to_id,
        user_id=user_id,
        user_name=user_name,
        aad_object_id=aad_object_id,
        tenant_id=tenant_id,
        conversation_type=conversation_type,
        conversation_id=conversation_id,
        bot_id=bot_id,
        local_timezone=local_timezone,
        timestamp=timestamp,
    )
    activity["channelData"]["source"] = {"name": "message"}
    return activity


def teams_conversation_update_activity(
    *,
    service_url: str,
    members_added: Sequence[str] | None = None,
    members_removed: Sequence[str] = (),
    user_id: str = DEFAULT_USER_ID,
    user_name: str = DEFAULT_USER_NAME,
    aad_object_id: str = DEFAULT_AAD_OBJECT_ID,
    tenant_id: str = DEFAULT_TENANT_ID,
    conversation_type: ConversationType = "personal",
    conversation_id: str | None = None,
    bot_id: str = DEFAULT_BOT_ID,
    local_timezone: str = "Europe/Berlin",
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """A ``conversationUpdate``; by default the bot's own installation (bot in membersAdded)."""
    activity = _envelope(
        "conversationUpdate",
        service_url=service_url,
        user_id=user_id,
        user_name=user_name,
        aad_object_id=aad_object_id,
        tenant_id=tenant_id,
        conversation_type=conversation_type,
        conversation_id=conversation_id,
        bot_id=bot_id,
        bot_name=DEFAULT_BOT_NAME,
        team_id=DEFAULT_TEAM_ID,
        channel_id=DEFAULT_CHANNEL_ID,
        local_timezone=local_timezone,
        locale="en-US",
        timestamp=timestamp,
        activity_id=None,
    )
    # conversationUpdate carries no clientInfo in Teams.
    activity["entities"] = []
    added = [bot_id] if members_added is None else list(members_added)
    if added:
        activity["membersAdded"] = [{"id": member} for member in added]
        event = "teamMemberAdded"
    else:
        event = "teamMemberRemoved"
    if members_removed:
        activity["membersRemoved"] = [{"id": member} for member in members_removed]
    if conversation_type == "channel":
        activity["channelData"]["eventType"] = event
    return activity


def teams_installation_update_activity(
    *,
    service_url: str,
    action: Literal["add", "remove", "add-upgrade", "remove-upgrade"] = "add",
    user_id: str = DEFAULT_USER_ID,
    user_name: str = DEFAULT_USER_NAME,
    aad_object_id: str = DEFAULT_AAD_OBJECT_ID,
    tenant_id: str = DEFAULT_TENANT_ID,
    conversation_type: ConversationType = "personal",
    conversation_id: str | None = None,
    bot_id: str = DEFAULT_BOT_ID,
    local_timezone: str = "Europe/Berlin",
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """An ``installationUpdate``: the app was installed (``add``) or uninstalled (``remove``)."""
    activity = _envelope(
        "installationUpdate",
        service_url=service_url,
        user_id=user_id,
        user_name=user_name,
        aad_object_id=aad_object_id,
        tenant_id=tenant_id,
        conversation_type=conversation_type,
        conversation_id=conversation_id,
        bot_id=bot_id,
        bot_name=DEFAULT_BOT_NAME,
        team_id=DEFAULT_TEAM_ID,
        channel_id=DEFAULT_CHANNEL_ID,
        local_timezone=local_timezone,
        locale="en-US",
        timestamp=timestamp,
        activity_id=None,
    )
    activity["entities"] = []
    activity["action"] = action
    return activity


def teams_file_consent_invoke(
    action: Literal["accept", "decline"],
    context: object,
    *,
    service_url: str,
    upload_info: Mapping[str, Any] | None = None,
    reply_to_id: str | None = None,
    user_id: str = DEFAULT_USER_ID,
    user_name: str = DEFAULT_USER_NAME,
    aad_object_id: str = DEFAULT_AAD_OBJECT_ID,
    tenant_id: str = DEFAULT_TENANT_ID,
    conversation_type: ConversationType = "personal",
    conversation_id: str | None = None,
    bot_id: str = DEFAULT_BOT_ID,
    local_timezone: str = "Europe/Berlin",
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """A click on a FileConsentCard: an ``invoke`` named ``fileConsent/invoke`` whose value
    carries the card's accept or decline context and, on accept, the ``uploadInfo`` of the
    file Teams created in the user's OneDrive (Microsoft Learn, "Send and receive files using
    bot"). ``reply_to_id`` is the id of the message holding the consent card."""
    value: dict[str, Any] = {"type": "fileUpload", "action": action, "context": context}
    if upload_info is not None:
        value["uploadInfo"] = dict(upload_info)
    return _invoke(
        "fileConsent/invoke",
        value,
        service_url=service_url,
        reply_to_id=reply_to_id,
        user_id=user_id,
        user_name=user_name,
        aad_object_id=aad_object_id,
        tenant_id=tenant_id,
        conversation_type=conversation_type,
        conversation_id=conversation_id,
        bot_id=bot_id,
        local_timezone=local_timezone,
        timestamp=timestamp,
    )
