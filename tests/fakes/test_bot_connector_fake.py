"""The Bot Connector fake, driven by the real botbuilder ``CloudAdapter`` (no mocks).

These tests also pin down how botbuilder 4.17.1 reports Connector failures; the summary lives
in the docstring of ``tests/fakes/bot_connector.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import (
    Activity,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
    ErrorResponseException,
)
from botbuilder.schema.teams import TeamInfo, TeamsChannelAccount, TeamsChannelData

from tests.fakes.bot_connector import BOT_NOT_IN_ROSTER, BotConnectorFake
from tests.fakes.teams_activities import (
    DEFAULT_BOT_ID,
    DEFAULT_TENANT_ID,
    teams_card_action_invoke,
    teams_conversation_update_activity,
    teams_installation_update_activity,
    teams_message_activity,
    teams_message_back,
)

# Until the root conftest registers the fixtures for everyone.
pytest_plugins = ["tests.fakes.teams_fixtures"]

Logic = Callable[[TurnContext], Awaitable[Any]]


class _EmulatorConfig:
    """Empty bot identity: botbuilder skips authentication both ways."""

    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


@pytest.fixture
def adapter() -> CloudAdapter:
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(_EmulatorConfig()))


async def _process(adapter: CloudAdapter, activity_json: dict[str, Any], logic: Logic) -> Any:
    # CloudAdapter's first parameter is `auth_header_or_authenticate_request_result`
    # (BotFrameworkAdapter's was `auth_header`), so pass it positionally.
    return await adapter.process_activity("", Activity().deserialize(activity_json), logic)


def _reference(bot_connector: BotConnectorFake, **kwargs: Any) -> ConversationReference:
    incoming = Activity().deserialize(
        teams_message_activity("hi", service_url=bot_connector.service_url, **kwargs)
    )
    return TurnContext.get_conversation_reference(incoming)


def _send_text(text: str) -> Logic:
    async def logic(turn_context: TurnContext) -> None:
        await turn_context.send_activity(text)

    return logic


# -- the happy paths -------------------------------------------------------------------------


async def test_reply_to_a_message_is_recorded(
    bot_connector: BotConnectorFake, adapter: CloudAdapter
) -> None:
    incoming = teams_message_activity("due", service_url=bot_connector.service_url)
    conversation_id = incoming["conversation"]["id"]

    await _process(adapter, incoming, _send_text("Nobody is due today."))

    [reply] = bot_connector.sent_to(conversation_id)
    assert reply.kind == "reply"
    assert reply.reply_to_id == incoming["id"]
    assert reply.path == f"/v3/conversations/{conversation_id}/activities/{incoming['id']}"
    assert reply.body["text"] == "Nobody is due today."
    assert reply.body["recipient"]["id"] == incoming["from"]["id"]
    assert reply.body["from"]["id"] == DEFAULT_BOT_ID
    # Empty app id: no token fetched, no Authorization header, nothing but the reply itself.
    assert "Authorization" not in reply.headers
    assert [(r.http_method, r.status) for r in bot_connector.requests] == [("POST", 201)]
    assert bot_connector.unhandled == []


async def test_continue_conversation_delivers_a_proactive_message(
    bot_connector: BotConnectorFake, adapter: CloudAdapter
) -> None:
    reference = _reference(bot_connector)

    await adapter.continue_conversation(
        reference, _send_text("Time to catch up with Fox?"), bot_app_id=""
    )

    [nudge] = bot_connector.sent_to(reference.conversation.id)
    assert nudge.body["text"] == "Time to catch up with Fox?"
    # botbuilder replies to a uuid it made up for the continuation activity.
    assert nudge.kind == "reply"
    assert nudge.reply_to_id is not None and nudge.reply_to_id != reference.activity_id
    assert bot_connector.unhandled == []


async def test_update_and_delete_reach_put_and_delete(
    bot_connector: BotConnectorFake, adapter: CloudAdapter
) -> None:
    reference = _reference(bot_connector)
    conversation_id = reference.conversation.id

    async def logic(turn_context: TurnContext) -> None:
        sent = await turn_context.send_activity("Draft for Fox: ...")
        edited = MessageFactory.text("Posted.")
        edited.id = sent.id
        updated = await turn_context.update_activity(edited)
        assert updated.id == sent.id
        await turn_context.delete_activity(sent.id)

    await adapter.continue_conversation(reference, logic, bot_app_id="")

    [sent] = bot_connector.sent_to(conversation_id)
    [update] = bot_connector.updates()
    [delete] = bot_connector.deletes()
    assert update.activity_id == sent.activity_id == delete.activity_id
    assert update.http_method == "PUT"
    assert update.path == f"/v3/conversations/{conversation_id}/activities/{sent.activity_id}"
    assert update.body["text"] == "Posted."
    assert delete.kind == "delete"


async def test_create_conversation_returns_an_id_that_sends_reach(
    bot_connector: BotConnectorFake, adapter: CloudAdapter
) -> None:
    parameters = ConversationParameters(
        is_group=False,
        bot=ChannelAccount(id=DEFAULT_BOT_ID),
        members=[ChannelAccount(id="29:fox-mulder")],
        tenant_id=DEFAULT_TENANT_ID,
    )
    seen: list[str] = []

    async def logic(turn_context: TurnContext) -> None:
        seen.append(turn_context.activity.conversation.id)
        await turn_context.send_activity("Welcome to Rapport.")

    await adapter.create_conversation(
        "",
        logic,
        conversation_parameters=parameters,
        channel_id="msteams",
        service_url=bot_connector.service_url,
    )

    [created] = bot_connector.created_conversations
    assert seen == [created.conversation_id]
    assert created.body["members"] == [{"id": "29:fox-mulder"}]
    [welcome] = bot_connector.sent_to(created.conversation_id)
    assert welcome.body["text"] == "Welcome to Rapport."


# -- failures as botbuilder reports them -----------------------------------------------------


async def test_429_on_a_reply_raises_with_status_and_retry_after(
    bot_connector: BotConnectorFake, adapter: CloudAdapter
) -> None:
    bot_connector.fail_next(status=429, retry_after=3)
    incoming = teams_message_activity("due", service_url=bot_connector.service_url)

    with pytest.raises(ErrorResponseException) as caught:
        await _process(adapter, incoming, _send_text("Nobody is due today."))

    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "3"
    assert caught.value.error.error.code == "Throttled"
    # Sends are POSTs: botbuilder gives up after one attempt, retrying is ours to do.
    assert [r.status for r in bot_connector.requests] == [429]
    assert bot_connector.activities == []


async def test_429_on_a_proactive_send_raises_from_continue_conversation(
    bot_connector: BotConnectorFake, adapter: CloudAdapter
) -> None:
    reference = _reference(bot_connector)
    bot_connector.fail_next(status=429, retry_after=2)

    with pytest.raises(ErrorResponseException) as caught:
        await adapter.continue_conversation(reference, _send_text("nudge"), bot_app_id="")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers.get("Retry-After") == "2"

    # The fault was for one call only: the caller's retry goes through.
    await adapter.continue_conversation(reference, _send_text("nudge"), bot_app_id="")
    assert [a.body["text"] for a in bot_connector.sent_to(reference.conversation.id)] == ["nudge"]


async def test_403_when_the_user_blocked_or_removed_the_bot(
    bot_connector: BotConnectorFake, adapter: CloudAdapter
) -> None:
    reference = _reference(bot_connector)
    bot_connector.fail_next(status=403)
    bot_connector.fail_next(status=403, error=BOT_NOT_IN_ROSTER)
    codes: list[tuple[int, str, str | None]] = []

    for _ in range(2):
        with pytest.raises(ErrorResponseException) as caught:
            await adapter.continue_conversation(reference, _send_text("n"), bot_app_id="")
        codes.append(
            (
                caught.value.response.status_code,
                caught.value.error.error.code,
                caught.value.response.headers.get("Retry-After"),
            )
        )

    assert codes == [
        (403, "ConversationBlockedByUser", None),
        (403, "BotNotInConversationRoster", None),
    ]


async def test_404_for_an_unknown_conversation(
    bot_connector: BotConnectorFake, adapter: CloudAdapter
) -> None:
    reference = _reference(bot_connector)
    bot_connector.fail_next(status=404)

    with pytest.raises(ErrorResponseException) as caught:
        await adapter.continue_conversation(reference, _send_text("n"), bot_app_id="")

    assert caught.value.response.status_code == 404
    assert str(caught.value) == "(ConversationNotFound) Conversation not found."


async def test_update_is_retried_by_botbuilder_itself(
    bot_connector: BotConnectorFake, adapter: CloudAdapter
) -> None:
    reference = _reference(bot_connector)
    # Retry-After 0 keeps urllib3's first retry immediate; a real 429 would sleep its seconds.
    bot_connector.fail_next(status=429, retry_after=0)

    async def logic(turn_context: TurnContext) -> None:
        edited = MessageFactory.text("Snoozed for a week.")
        edited.id = "1690000000042"
        await turn_context.update_activity(edited)

    await adapter.continue_conversation(reference, logic, bot_app_id="")

    assert [(r.http_method, r.status) for r in bot_connector.requests] == [
        ("PUT", 429),
        ("PUT", 200),
    ]
    assert len(bot_connector.updates()) == 1


async def test_faults_can_target_one_conversation(
    bot_connector: BotConnectorFake, adapter: CloudAdapter
) -> None:
    dana = _reference(bot_connector)
    fox = _reference(bot_connector, user_id="29:fox-mulder", user_name="Fox Mulder")
    bot_connector.fail_next(status=403, conversation_id=fox.conversation.id)

    await adapter.continue_conversation(dana, _send_text("to Dana"), bot_app_id="")
    with pytest.raises(ErrorResponseException):
        await adapter.continue_conversation(fox, _send_text("to Fox"), bot_app_id="")

    assert [a.body["text"] for a in bot_connector.sent()] == ["to Dana"]


async def test_reset_forgets_activities_and_faults(
    bot_connector: BotConnectorFake, adapter: CloudAdapter
) -> None:
    reference = _reference(bot_connector)
    await adapter.continue_conversation(reference, _send_text("one"), bot_app_id="")
    bot_connector.fail_next(status=429)

    bot_connector.reset()
    await adapter.continue_conversation(reference, _send_text("two"), bot_app_id="")

    assert [a.body["text"] for a in bot_connector.activities] == ["two"]


# -- Teams rate limits -----------------------------------------------------------------------


async def test_rate_limits_follow_teams_per_conversation_windows(adapter: CloudAdapter) -> None:
    now = [1_000.0]
    async with BotConnectorFake(enforce_rate_limits=True, clock=lambda: now[0]) as connector:
        reference = _reference(connector)
        texts = [f"m{i}" for i in range(7)]

        async def burst(turn_context: TurnContext) -> None:
            for text in texts:
                await turn_context.send_activity(text)

        await adapter.continue_conversation(reference, burst, bot_app_id="")
        # 7 per second are allowed; the 8th in the same second is refused.
        with pytest.raises(ErrorResponseException) as caught:
            await adapter.continue_conversation(reference, _send_text("m7"), bot_app_id="")
        assert caught.value.response.status_code == 429
        assert caught.value.response.headers["Retry-After"] == "1"

        # A second later the 8-per-2-seconds window still has room for exactly one.
        now[0] += 1.0
        await adapter.continue_conversation(reference, _send_text("m7"), bot_app_id="")
        with pytest.raises(ErrorResponseException) as caught:
            await adapter.continue_conversation(reference, _send_text("m8"), bot_app_id="")
        assert caught.value.response.headers["Retry-After"] == "1"

        # Another conversation has its own budget.
        other = _reference(connector, user_id="29:fox-mulder")
        await adapter.continue_conversation(other, _send_text("hello"), bot_app_id="")
        assert len(connector.sent()) == 9


async def test_rate_limit_of_60_per_30_seconds() -> None:
    now = [0.0]
    async with (
        BotConnectorFake(enforce_rate_limits=True, clock=lambda: now[0]) as connector,
        aiohttp.ClientSession(base_url=connector.service_url) as http,
    ):
        statuses: list[int] = []
        retry_after: str | None = None
        for _ in range(61):
            async with http.post(
                "v3/conversations/a:chat/activities",
                json={"type": "message", "text": "x", "from": {"id": DEFAULT_BOT_ID}},
            ) as response:
                statuses.append(response.status)
                retry_after = response.headers.get("Retry-After")
            # 0.25 s apart stays within the 1 s and 2 s windows (4 and 8 operations).
            now[0] += 0.25

    assert statuses == [201] * 60 + [429]
    # The oldest of the 60 (t=0) leaves the 30 s window at t=30; the refusal came at t=15.
    assert retry_after == "15"


# -- the activity builders as botbuilder's Teams handler reads them --------------------------


class _RecordingHandler(TeamsActivityHandler):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        text = TurnContext.remove_recipient_mention(activity) if activity.text else None
        self.events.append(("message", (text and text.strip(), activity.value)))

    async def on_teams_members_added(
        self,
        teams_members_added: list[TeamsChannelAccount],
        team_info: TeamInfo,
        turn_context: TurnContext,
    ) -> None:
        self.events.append(("members_added", [m.id for m in teams_members_added]))

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        self.events.append(("installed", turn_context.activity.conversation.id))

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        self.events.append(("uninstalled", turn_context.activity.conversation.id))

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        # botbuilder keeps `action` as the raw dict from the activity.
        action = invoke_value.action
        self.events.append(("card_action", (action["verb"], action["data"])))
        # Action.Execute answers with the card that replaces the clicked one.
        card = {
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [{"type": "TextBlock", "text": "Snoozed."}],
        }
        return AdaptiveCardInvokeResponse(
            status_code=200, type="application/vnd.microsoft.card.adaptive", value=card
        )


async def test_builders_are_understood_by_teams_activity_handler(
    bot_connector: BotConnectorFake, adapter: CloudAdapter
) -> None:
    handler = _RecordingHandler()
    url = bot_connector.service_url

    await _process(
        adapter,
        teams_message_activity(
            "log <at>Fox Mulder</at> coffee",
            service_url=url,
            conversation_type="channel",
            mentions_bot=True,
            mentions=[("29:fox-mulder", "Fox Mulder")],
        ),
        handler.on_turn,
    )
    await _process(adapter, teams_message_back({"verb": "done"}, service_url=url), handler.on_turn)
    await _process(adapter, teams_conversation_update_activity(service_url=url), handler.on_turn)
    await _process(adapter, teams_installation_update_activity(service_url=url), handler.on_turn)
    invoke_response = await _process(
        adapter,
        teams_card_action_invoke(
            {"nudge_id": 42}, verb="snooze", service_url=url, reply_to_id="1690000000001"
        ),
        handler.on_turn,
    )

    assert handler.events == [
        ("message", ("log <at>Fox Mulder</at> coffee", None)),
        ("message", (None, {"verb": "done"})),
        ("members_added", [DEFAULT_BOT_ID]),
        ("installed", "a:1-personal-user-aad"),
        ("card_action", ("snooze", {"nudge_id": 42})),
    ]
    assert invoke_response.status == 200
    assert invoke_response.body["value"]["body"][0]["text"] == "Snoozed."
    assert bot_connector.unhandled == []


async def test_a_user_joining_a_team_is_looked_up_on_the_members_api(
    bot_connector: BotConnectorFake, adapter: CloudAdapter
) -> None:
    handler = _RecordingHandler()
    activity = teams_conversation_update_activity(
        service_url=bot_connector.service_url,
        conversation_type="channel",
        members_added=["29:fox-mulder"],
    )
    conversation_id = activity["conversation"]["id"]
    # botbuilder 4.17.1's TeamsInfo.get_team_member asks the channel conversation, not the team.
    bot_connector.add_member(
        conversation_id, {"id": "29:fox-mulder", "name": "Fox Mulder", "aadObjectId": "aad-fox"}
    )

    await _process(adapter, activity, handler.on_turn)

    assert handler.events == [("members_added", ["29:fox-mulder"])]
    assert [(r.http_method, r.path) for r in bot_connector.requests] == [
        ("GET", f"/v3/conversations/{conversation_id}/members/29:fox-mulder")
    ]


def test_message_builder_carries_teams_context() -> None:
    activity = Activity().deserialize(
        teams_message_activity(
            "hello",
            service_url="http://127.0.0.1:1/",
            conversation_type="groupChat",
            local_timezone="America/New_York",
        )
    )

    assert activity.channel_id == "msteams"
    assert activity.conversation.conversation_type == "groupChat"
    # Teams sends conversation.tenantId but botbuilder maps `tenant_id` to "tenantID", so the
    # tenant has to be read from channelData.
    assert activity.conversation.tenant_id is None
    assert activity.conversation.additional_properties["tenantId"] == DEFAULT_TENANT_ID
    assert TeamsChannelData().deserialize(activity.channel_data).tenant.id == DEFAULT_TENANT_ID
    assert activity.from_property.aad_object_id
    [client_info] = [e for e in activity.entities if e.type == "clientInfo"]
    assert client_info.additional_properties["timezone"] == "America/New_York"
    assert activity.local_timezone == "America/New_York"
    assert activity.local_timestamp is not None and activity.local_timestamp.utcoffset()
