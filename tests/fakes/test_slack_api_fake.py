"""FakeSlack driven by the real slack_sdk AsyncWebClient over HTTP."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import (
    DEFAULT_BOT_TOKEN,
    DEFAULT_TEAM_ID,
    FakeSlack,
    Limit,
    RateLimits,
    load_method_specs,
)

if TYPE_CHECKING:
    # Imported for typing only: a runtime import would beat pytest_plugins to the module and
    # keep pytest from rewriting its asserts.
    from tests.fakes.slack_fixtures import SeedWorkspace

# Lets this file run before the root conftest registers the plugin; registering twice is a no-op.
pytest_plugins = ["tests.fakes.slack_fixtures"]

USER = "U0ALICE"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _home(blocks: int) -> dict[str, Any]:
    return {"type": "home", "blocks": [_section(f"line {i}") for i in range(blocks)]}


class FakeClock:
    """A monotonic clock the test moves by hand, so rate windows pass without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _error_of(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value


# -- reference data -------------------------------------------------------------------------


def test_reference_files_are_loaded_for_every_served_method() -> None:
    specs = load_method_specs()
    assert specs["users.info"].http_method == "GET"
    assert specs["chat.postMessage"].tier == "t5"
    assert specs["conversations.open"].tier == "t3"
    assert "channel" in specs["chat.postMessage"].required
    assert "no_text" in specs["chat.postMessage"].errors


# -- messages -------------------------------------------------------------------------------


async def test_post_message_is_recorded_stored_and_shaped_like_slack(
    fake_slack: FakeSlack, fake_slack_client: AsyncWebClient
) -> None:
    blocks = [_section("Time to check in with *Dana*")]
    first = await fake_slack_client.chat_postMessage(channel="C0GENERAL", text="hi", blocks=blocks)
    second = await fake_slack_client.chat_postMessage(channel="C0GENERAL", text="again")

    assert first["ok"] is True and first["channel"] == "C0GENERAL"
    assert first["message"]["text"] == "hi" and first["message"]["ts"] == first["ts"]
    assert first["message"]["bot_id"] == fake_slack.tokens[DEFAULT_BOT_TOKEN].bot_id
    assert first["ts"] < second["ts"]
    call = fake_slack.calls_to("chat.postMessage")[0]
    assert call.token == DEFAULT_BOT_TOKEN
    assert call.http_method == "POST"
    assert call.args["blocks"] == blocks  # JSON body, decoded
    assert call.ok and call.received_at > 0
    assert [m["text"] for m in fake_slack.messages_in("C0GENERAL")] == ["hi", "again"]


async def test_form_encoded_blocks_and_token_argument_are_accepted(fake_slack: FakeSlack) -> None:
    form = {
        "token": DEFAULT_BOT_TOKEN,
        "channel": "C0GENERAL",
        "blocks": json.dumps([_section("from a form")]),
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{fake_slack.base_url}chat.postMessage", data=form) as res:
            body = await res.json()
    assert body["ok"] is True
    call = fake_slack.calls_to("chat.postMessage")[0]
    assert call.token == DEFAULT_BOT_TOKEN and "token" not in call.args
    assert call.args["blocks"] == [_section("from a form")]


async def test_token_inside_a_json_body_is_ignored_like_slack_does(fake_slack: FakeSlack) -> None:
    payload = {"token": DEFAULT_BOT_TOKEN, "channel": "C0GENERAL", "text": "hi"}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{fake_slack.base_url}chat.postMessage", json=payload) as res:
            body = await res.json()
    assert body == {"ok": False, "error": "not_authed"}


async def test_missing_required_arguments_use_slacks_error_names(
    fake_slack: FakeSlack, fake_slack_client: AsyncWebClient
) -> None:
    client = fake_slack_client
    no_channel = await _error_of(client.api_call("chat.postMessage", json={"text": "hi"}))
    with pytest.warns(UserWarning, match="`text` argument is missing"):
        no_text = await _error_of(client.chat_postMessage(channel="C0GENERAL"))
    no_user_id = await _error_of(client.api_call("views.publish", json={"view": _home(1)}))
    no_user = await _error_of(client.api_call("users.info", http_verb="GET", params={}))
    zero_length = await _error_of(client.files_getUploadURLExternal(filename="a.txt", length=0))

    assert no_channel.response["error"] == "channel_not_found"
    assert no_text.response["error"] == "no_text"
    assert no_user_id.response["error"] == "invalid_arguments"
    assert no_user_id.response["response_metadata"]["messages"] == [
        "[ERROR] missing required field: user_id"
    ]
    assert no_user.response["error"] == "user_not_found"
    assert zero_length.response["error"] == "missing_argument"
    assert fake_slack.messages == {}


async def test_block_kit_limits_are_enforced(fake_slack_client: AsyncWebClient) -> None:
    client = fake_slack_client
    await client.chat_postMessage(channel="C0X", blocks=[_section("ok")] * 50, text="fifty")
    too_many = await _error_of(
        client.chat_postMessage(channel="C0X", blocks=[_section("x")] * 51, text="x")
    )
    too_long = await _error_of(
        client.chat_postMessage(channel="C0X", blocks=[_section("x" * 3001)], text="x")
    )
    assert too_many.response["error"] == "invalid_blocks"
    assert too_many.response["errors"] == ["no more than 50 items allowed [json-pointer:/blocks]"]
    assert too_long.response["error"] == "invalid_blocks"
    assert "/blocks/0/text/text" in too_long.response["errors"][0]


async def test_views_publish_allows_100_blocks_and_refuses_101(
    fake_slack: FakeSlack, fake_slack_client: AsyncWebClient
) -> None:
    published = await fake_slack_client.views_publish(user_id=USER, view=_home(100))
    refused = await _error_of(fake_slack_client.views_publish(user_id=USER, view=_home(101)))

    assert published["view"]["id"].startswith("V") and published["view"]["type"] == "home"
    assert refused.response["error"] == "invalid_arguments"
    assert "no more than 100 items" in refused.response["response_metadata"]["messages"][0]
    home = fake_slack.home_view(USER)
    assert home is not None and len(home["blocks"]) == 100


async def test_chat_update_changes_the_stored_message(
    fake_slack: FakeSlack, fake_slack_client: AsyncWebClient
) -> None:
    dm = (await fake_slack_client.conversations_open(users=USER))["channel"]["id"]
    posted = await fake_slack_client.chat_postMessage(channel=dm, text="Draft ready")
    updated = await fake_slack_client.chat_update(channel=dm, ts=posted["ts"], text="Posted")
    missing = await _error_of(fake_slack_client.chat_update(channel=dm, ts="1.000001", text="x"))

    assert updated["text"] == "Posted"
    message = fake_slack.message(dm, posted["ts"])
    assert message is not None and message["text"] == "Posted" and "edited" in message
    assert missing.response["error"] == "message_not_found"


async def test_conversations_open_is_stable_and_posting_to_a_user_id_lands_in_the_dm(
    fake_slack: FakeSlack, fake_slack_client: AsyncWebClient
) -> None:
    first = await fake_slack_client.conversations_open(users=USER)
    again = await fake_slack_client.conversations_open(users=[USER])
    group = await fake_slack_client.conversations_open(users=[USER, "U0BOB"])
    posted = await fake_slack_client.chat_postMessage(channel=USER, text="nudge")

    dm = first["channel"]["id"]
    assert dm.startswith("D") and again["channel"]["id"] == dm and again["already_open"]
    assert dm == fake_slack.dm_channel_id(USER, DEFAULT_TEAM_ID)
    assert group["channel"]["id"] != dm
    assert posted["channel"] == dm
    assert [m["text"] for m in fake_slack.messages_in(USER)] == ["nudge"]
    unknown_dm = await _error_of(fake_slack_client.chat_postMessage(channel="D0NOPE", text="x"))
    assert unknown_dm.response["error"] == "channel_not_found"


async def test_post_ephemeral_is_shown_to_one_member_and_never_stored_in_the_channel(
    fake_slack: FakeSlack, fake_slack_client: AsyncWebClient
) -> None:
    dm = (await fake_slack_client.conversations_open(users=USER))["channel"]["id"]
    shown = await fake_slack_client.chat_postEphemeral(channel=dm, user=USER, text="Hi")
    stranger = await _error_of(
        fake_slack_client.chat_postEphemeral(channel=dm, user="U0BOB", text="Hi"))
    unknown_dm = await _error_of(
        fake_slack_client.chat_postEphemeral(channel="D0NOPE", user=USER, text="Hi"))
    no_user = await _error_of(fake_slack_client.api_call(
        "chat.postEphemeral", json={"channel": dm, "text": "Hi"}))

    assert shown["message_ts"]
    assert [(m["channel"], m["user"], m["text"]) for m in fake_slack.ephemeral_messages] == [
        (dm, USER, "Hi")]
    assert fake_slack.messages_in(USER) == []
    assert stranger.response["error"] == "user_not_in_channel"
    assert unknown_dm.response["error"] == "channel_not_found"
    assert no_user.response["error"] == "user_not_in_channel"  # `user` is required


# -- users, auth, oauth ---------------------------------------------------------------------


async def test_users_info_returns_seeded_users_or_user_not_found(
    fake_slack: FakeSlack, fake_slack_client: AsyncWebClient
) -> None:
    fake_slack.add_user(USER, name="alice", real_name="Alice Liddell", tz="Europe/Berlin")
    found = await fake_slack_client.users_info(user=USER)
    missing = await _error_of(fake_slack_client.users_info(user="U0NOBODY"))

    user = found["user"]
    assert user["id"] == USER and user["tz"] == "Europe/Berlin"
    assert user["tz_offset"] in (3600, 7200)
    assert user["profile"]["real_name"] == "Alice Liddell"
    assert user["profile"]["display_name"] == "alice"
    assert fake_slack.calls_to("users.info")[0].http_method == "GET"
    assert missing.response["error"] == "user_not_found"


async def test_auth_errors_invalid_revoked_and_scoped_tokens(
    fake_slack: FakeSlack, seed_slack_workspace: SeedWorkspace
) -> None:
    unknown = AsyncWebClient(token="xoxb-nope", base_url=fake_slack.base_url)
    assert (await _error_of(unknown.auth_test())).response["error"] == "invalid_auth"

    other = seed_slack_workspace("T0OTHER", scopes=["chat:write"])
    client = AsyncWebClient(token=other.token, base_url=fake_slack.base_url)
    identity = await client.auth_test()
    assert identity["team_id"] == "T0OTHER" and identity["bot_id"] == other.bot_id
    assert identity.headers["x-oauth-scopes"] == "chat:write"
    no_scope = await _error_of(client.users_info(user=USER))
    assert no_scope.response["error"] == "missing_scope"
    assert no_scope.response["needed"] == "users:read"

    fake_slack.revoke(other.token)
    assert (await _error_of(client.auth_test())).response["error"] == "token_revoked"


# slack_sdk 3.47 still builds aiohttp's deprecated BasicAuth for the client credentials.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_oauth_v2_access_installs_a_workspace_once(fake_slack: FakeSlack) -> None:
    code = fake_slack.add_oauth_code(team_id="T0NEW", team_name="New Co", user_id="U0ADMIN")
    client = AsyncWebClient(base_url=fake_slack.base_url)
    kwargs = {"client_id": fake_slack.client_id, "client_secret": fake_slack.client_secret}
    install = await client.oauth_v2_access(code=code, **kwargs)
    reused = await _error_of(client.oauth_v2_access(code=code, **kwargs))
    bad_secret = await _error_of(
        client.oauth_v2_access(code="x", client_id=fake_slack.client_id, client_secret="no")
    )

    assert install["access_token"].startswith("xoxb-")
    assert install["team"] == {"id": "T0NEW", "name": "New Co"}
    assert install["authed_user"] == {"id": "U0ADMIN"}
    assert install["app_id"] == fake_slack.app_id and install["bot_user_id"].startswith("U")
    bot = AsyncWebClient(token=install["access_token"], base_url=fake_slack.base_url)
    assert (await bot.auth_test())["team_id"] == "T0NEW"
    assert reused.response["error"] == "invalid_code"
    assert bad_secret.response["error"] == "bad_client_secret"


# -- files ----------------------------------------------------------------------------------


async def test_files_upload_v2_works_end_to_end(
    fake_slack: FakeSlack, fake_slack_client: AsyncWebClient
) -> None:
    dm = (await fake_slack_client.conversations_open(users=USER))["channel"]["id"]
    result = await fake_slack_client.files_upload_v2(
        channel=dm, content="name,email\n", filename="contacts.csv", title="Export"
    )

    file_id = result["file"]["id"]
    assert result["file"]["title"] == "Export"
    assert fake_slack.files[file_id].content == b"name,email\n"
    assert [m["files"][0]["id"] for m in fake_slack.messages_in(dm)] == [file_id]


# -- faults and latency ---------------------------------------------------------------------


async def test_injected_429_is_retried_by_slack_sdks_rate_limit_handler(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    client = AsyncWebClient(
        token=DEFAULT_BOT_TOKEN,
        base_url=fake_slack.base_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    started = time.monotonic()
    response = await client.chat_postMessage(channel="C0GENERAL", text="once")

    assert response["ok"] is True
    assert time.monotonic() - started >= 1.0  # the handler honoured Retry-After
    attempts = fake_slack.calls_to("chat.postMessage")
    assert [(c.status, c.error) for c in attempts] == [(429, "ratelimited"), (200, None)]
    assert len(fake_slack.messages_in("C0GENERAL")) == 1


async def test_injected_429_without_a_retry_handler_surfaces_retry_after(
    fake_slack: FakeSlack, fake_slack_client: AsyncWebClient
) -> None:
    fake_slack.fail_next("views.publish", status=429, retry_after=1)
    error = await _error_of(fake_slack_client.views_publish(user_id=USER, view=_home(1)))
    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "1"
    assert fake_slack.home_view(USER) is None


async def test_injected_server_errors_and_api_errors(
    fake_slack: FakeSlack, fake_slack_client: AsyncWebClient
) -> None:
    fake_slack.add_user(USER, name="alice")
    fake_slack.fail_next("users.info", status=500, count=2)
    fake_slack.fail_next("users.info", error="user_not_found")
    statuses = []
    for _ in range(3):
        error = await _error_of(fake_slack_client.users_info(user=USER))
        statuses.append((error.response.status_code, error.response["error"]))
    recovered = await fake_slack_client.users_info(user=USER)

    assert statuses == [(500, "internal_error"), (500, "internal_error"), (200, "user_not_found")]
    assert recovered["user"]["id"] == USER
    assert fake_slack.pending_faults() == 0


async def test_latency_delays_the_answer(
    fake_slack: FakeSlack, fake_slack_client: AsyncWebClient
) -> None:
    fake_slack.latency = 0.1
    started = time.monotonic()
    await fake_slack_client.auth_test()
    assert time.monotonic() - started >= 0.1


async def test_unknown_method_and_wrong_http_verb(
    fake_slack: FakeSlack, fake_slack_client: AsyncWebClient
) -> None:
    unknown = await _error_of(fake_slack_client.api_call("chat.teleport", json={}))
    wrong_verb = await _error_of(
        fake_slack_client.api_call("chat.postMessage", http_verb="GET", params={"channel": "C0X"})
    )
    assert unknown.response["error"] == "unknown_method"
    assert wrong_verb.response.status_code == 405
    assert fake_slack.messages == {}


# -- rate-limit enforcement -----------------------------------------------------------------


async def test_enforced_tier_limit_answers_429_until_the_window_frees() -> None:
    clock = FakeClock()
    limits = RateLimits(tiers={"t3": Limit(2, 60.0)})
    async with FakeSlack(enforce_rate_limits=True, rate_limits=limits, clock=clock) as fake:
        fake.add_workspace(DEFAULT_TEAM_ID, bot_token=DEFAULT_BOT_TOKEN)
        client = AsyncWebClient(token=DEFAULT_BOT_TOKEN, base_url=fake.base_url)
        await client.conversations_open(users=USER)
        clock.now += 20
        await client.conversations_open(users=USER)
        limited = await _error_of(client.conversations_open(users=USER))
        assert limited.response.status_code == 429
        assert limited.response["error"] == "ratelimited"
        assert limited.response.headers["Retry-After"] == "40"

        clock.now += 40
        assert (await client.conversations_open(users=USER))["ok"] is True


async def test_enforced_post_message_limits_per_channel_and_workspace() -> None:
    clock = FakeClock()
    limits = RateLimits(
        post_message_per_channel=Limit(1, 1.0), post_message_per_workspace=Limit(3, 60.0)
    )
    async with FakeSlack(
        enforce_rate_limits=True, rate_limits=limits, rate_limit_scale=0.01, clock=clock
    ) as fake:
        fake.add_workspace(DEFAULT_TEAM_ID, bot_token=DEFAULT_BOT_TOKEN)
        client = AsyncWebClient(token=DEFAULT_BOT_TOKEN, base_url=fake.base_url)
        await client.chat_postMessage(channel="C0A", text="1")
        same_channel = await _error_of(client.chat_postMessage(channel="C0A", text="2"))
        await client.chat_postMessage(channel="C0B", text="3")
        await client.chat_postMessage(channel="C0C", text="4")
        workspace_cap = await _error_of(client.chat_postMessage(channel="C0D", text="5"))

        assert same_channel.response.status_code == 429
        assert same_channel.response.headers["Retry-After"] == "1"
        assert workspace_cap.response.status_code == 429
        clock.now += 0.6  # the scaled 60 s window
        assert (await client.chat_postMessage(channel="C0D", text="5"))["ok"] is True


# -- views ----------------------------------------------------------------------------------


async def test_views_open_trigger_is_single_use_and_expires(
    fake_slack: FakeSlack, fake_slack_client: AsyncWebClient
) -> None:
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Draft"},
        "blocks": [_section("hello")],
    }
    trigger = fake_slack.new_trigger_id()
    opened = await fake_slack_client.views_open(trigger_id=trigger, view=modal)
    reused = await _error_of(fake_slack_client.views_open(trigger_id=trigger, view=modal))
    updated = await fake_slack_client.views_update(
        view_id=opened["view"]["id"], view={**modal, "blocks": [_section("updated")]}
    )

    assert reused.response["error"] == "exchanged_trigger_id"
    assert updated["view"]["id"] == opened["view"]["id"]
    assert fake_slack.views[opened["view"]["id"]]["blocks"] == [_section("updated")]

    clock = FakeClock()
    async with FakeSlack(clock=clock) as fake:
        fake.add_workspace(DEFAULT_TEAM_ID, bot_token=DEFAULT_BOT_TOKEN)
        client = AsyncWebClient(token=DEFAULT_BOT_TOKEN, base_url=fake.base_url)
        late = fake.new_trigger_id()
        clock.now += 3.5
        expired = await _error_of(client.views_open(trigger_id=late, view=modal))
        assert expired.response["error"] == "expired_trigger_id"


async def test_reset_forgets_traffic_but_keeps_seeds(
    fake_slack: FakeSlack, fake_slack_client: AsyncWebClient
) -> None:
    await fake_slack_client.chat_postMessage(channel="C0GENERAL", text="hi")
    fake_slack.fail_next("auth.test", error="invalid_auth")
    fake_slack.reset()

    assert fake_slack.calls == [] and fake_slack.messages_in("C0GENERAL") == []
    assert (await fake_slack_client.auth_test())["team_id"] == DEFAULT_TEAM_ID


async def test_files_info_and_download_need_the_files_workspace_bot_token(
    fake_slack: FakeSlack, fake_slack_client: AsyncWebClient, seed_slack_workspace: SeedWorkspace
) -> None:
    fake_slack.add_file("F0CSV", "people list.csv", b"name\nDana\n", user_id=USER,
                        filetype="csv")

    info = (await fake_slack_client.files_info(file="F0CSV"))["file"]
    assert (info["id"], info["name"], info["size"], info["filetype"], info["user"]) == (
        "F0CSV", "people list.csv", 10, "csv", USER)
    assert fake_slack.calls_to("files.info")[0].http_method == "GET"
    url = info["url_private_download"]
    assert url.startswith(fake_slack.origin)
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers={"Authorization": f"Bearer {DEFAULT_BOT_TOKEN}"}) as ok:
            assert (ok.status, await ok.read()) == (200, b"name\nDana\n")
        async with http.get(url) as anonymous:
            assert anonymous.status == 401
        other = seed_slack_workspace("T0OTHER")
        async with http.get(url, headers={"Authorization": f"Bearer {other.token}"}) as foreign:
            assert foreign.status == 401
    assert [(f, s) for f, _, s in fake_slack.downloads] == [
        ("F0CSV", 200), ("F0CSV", 401), ("F0CSV", 401)]
    # Another workspace's bot cannot see the file at all, and unknown ids are file_not_found.
    foreign_client = AsyncWebClient(token=other.token, base_url=fake_slack.base_url)
    for client, file_id in ((foreign_client, "F0CSV"), (fake_slack_client, "F0NONE")):
        with pytest.raises(SlackApiError) as failure:
            await client.files_info(file=file_id)
        assert failure.value.response["error"] == "file_not_found"
    assert "files.info" in load_method_specs()
    assert load_method_specs()["files.info"].bot_scopes == ("files:read",)
