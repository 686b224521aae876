"""Teams `export` larger than a message: a FileConsentCard, then the file in the user's OneDrive.

Activity JSON goes over HTTP into the app as production wires it; botbuilder sends the bot's
messages to the BotConnectorFake, and the bytes go to a OneDrive upload-session fake served
over TLS under a SharePoint name (the upload's resolver finds it on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import Actor
from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.teams.app import install_teams
from rapport.bot.platforms.teams.downloads import FileHostPolicy
from rapport.bot.platforms.teams.file_consent import (
    DECLINED,
    FILE_CONSENT_CARD,
    FILE_INFO_CARD,
    FILES_ARE_PERSONAL,
    NOT_YOURS,
    OFFER_GONE,
    UPLOAD_CHUNK_BYTES,
    UPLOAD_FAILED,
    UploadFailed,
    UploadRefused,
    upload,
)
from rapport.bot.platforms.teams.handler import MAX_INLINE_EXPORT_BYTES, PRIVATE_SENT
from rapport.bot.service.config import Settings
from rapport.bot.service.runtime import Runtime
from rapport.bot.service.server import build_web_app
from rapport.storage import db
from tests.conftest import Clock, snapshot
from tests.fakes.bot_connector import BotConnectorFake, ReceivedActivity
from tests.fakes.dns import StaticResolver
from tests.fakes.onedrive_upload import FRAGMENT_MULTIPLE, UPLOAD_HOST, OneDriveUploadFake
from tests.fakes.teams_activities import (
    DEFAULT_AAD_OBJECT_ID,
    DEFAULT_TENANT_ID,
    default_conversation_id,
    teams_file_consent_invoke,
    teams_message_activity,
)

PERSONAL = default_conversation_id("personal")
GROUP = default_conversation_id("groupChat")
FOX = {"user_id": "29:fox-mulder", "user_name": "Fox Mulder", "aad_object_id": "aad-fox"}
FOX_PERSONAL = default_conversation_id("personal", user_id="29:fox-mulder")
DELETED = "Done. Everything Rapport stored for you is deleted."
DANA = Actor(platform="teams", workspace_external_id=DEFAULT_TENANT_ID,
             user_external_id=DEFAULT_AAD_OBJECT_ID, display_name="Dana Scully",
             tz="Europe/Berlin")


@dataclass
class Harness:
    runtime: Runtime
    client: TestClient[Any, Any]
    connector: BotConnectorFake
    onedrive: OneDriveUploadFake

    @property
    def url(self) -> str:
        return self.connector.service_url

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        response = await self.client.post("/api/messages", json=activity)
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body

    async def say(self, text: str, **kwargs: Any) -> None:
        status, _ = await self.post(teams_message_activity(text, service_url=self.url, **kwargs))
        assert status in (200, 201)

    async def consent(self, action: Literal["accept", "decline"], context: object,
                      upload_info: dict[str, Any] | None, **kwargs: Any) -> int:
        """Teams' invoke for a click on the consent card; the status the bot answered."""
        status, _ = await self.post(teams_file_consent_invoke(
            action, context, service_url=self.url, upload_info=upload_info, **kwargs))
        return status

    async def add_contacts(self, count: int, *, first: int = 0,
                           actor: Actor = DANA) -> None:
        rows = "".join(f"Person {n:04d},colleague,Field Office {n},person{n}@fbi.example,"
                       f"2 weeks,Remembers every case file from the X-Files basement {n}\n"
                       for n in range(first, first + count))
        reply = await self.runtime.rapport.handle_import(
            actor, "contacts.csv", ("name,kind,company,email,cadence,notes\n" + rows).encode(),
            dry_run=False)
        assert reply.ok, reply.text


@pytest.fixture(name="h")
async def harness(engine: AsyncEngine, clock: Clock, bot_connector: BotConnectorFake,
                  onedrive_upload: OneDriveUploadFake) -> AsyncIterator[Harness]:
    settings = Settings(database_url="sqlite+aiosqlite://", host="127.0.0.1", teams_enabled=True)
    sessions = db.session_factory(engine)
    runtime = Runtime(settings=settings, engine=engine, sessions=sessions,
                      rapport=Rapport(sessions=sessions, clock=clock), clock=clock)
    # The Teams installer as production wires it, except for how SharePoint is reached.
    app = await build_web_app(runtime, installers=[
        functools.partial(install_teams, file_policy=onedrive_upload.policy)])
    async with TestClient(TestServer(app)) as client:
        yield Harness(runtime=runtime, client=client, connector=bot_connector,
                      onedrive=onedrive_upload)


def _attachment(activity: ReceivedActivity, content_type: str) -> dict[str, Any]:
    [attachment] = [a for a in activity.body.get("attachments") or []
                    if a.get("contentType") == content_type]
    return dict(attachment)


async def _offer(h: Harness, **kwargs: Any) -> tuple[ReceivedActivity, dict[str, Any]]:
    """Dana types `export`; the one message holding a FileConsentCard, and the card."""
    await h.say("export", **kwargs)
    offers = [a for a in h.connector.sent()
              if any(x.get("contentType") == FILE_CONSENT_CARD
                     for x in a.body.get("attachments") or [])]
    assert len(offers) == 1
    return offers[0], _attachment(offers[0], FILE_CONSENT_CARD)


async def test_a_large_export_is_offered_as_a_file_and_uploaded_fresh_on_accept(
        h: Harness, clock: Clock) -> None:
    await h.add_contacts(120)
    message, card = await _offer(h)

    assert message.conversation_id == PERSONAL
    # Nothing of the export is inline: the message says what the file is, the card offers it.
    assert "Person 0001" not in json.dumps(message.body)
    assert "120 people" in (message.text or "")
    assert card["name"] == f"rapport-export-{clock().date().isoformat()}.json"
    content = card["content"]
    assert content["sizeInBytes"] > MAX_INLINE_EXPORT_BYTES
    assert content["description"]
    # The context names no one and holds no data: only a random token.
    assert DEFAULT_AAD_OBJECT_ID not in json.dumps(content)

    # The file is made when she accepts, so what she added since is in it.
    await h.add_contacts(1, first=500)
    info = h.onedrive.upload_info(card["name"])
    h.connector.reset()
    assert await h.consent("accept", content["acceptContext"], info,
                           reply_to_id=message.activity_id) == 200

    uploaded = h.onedrive.uploaded(info)
    assert uploaded is not None
    exported = json.loads(uploaded)
    assert len(exported["contacts"]) == 121
    assert exported["user"]["external_id"] == DEFAULT_AAD_OBJECT_ID
    [put] = h.onedrive.puts
    assert put.headers["Content-Range"] == f"bytes 0-{len(uploaded) - 1}/{len(uploaded)}"
    assert put.headers["Content-Length"] == str(len(uploaded))
    # The upload URL carries its own grant: no bot token travels to OneDrive.
    assert "Authorization" not in put.headers

    [done] = h.connector.sent_to(PERSONAL)
    file_info = _attachment(done, FILE_INFO_CARD)
    assert file_info["contentUrl"] == info["contentUrl"]
    assert file_info["name"] == info["name"]
    assert file_info["content"] == {"uniqueId": info["uniqueId"], "fileType": "json"}
    assert "121 people" in (done.text or "")


async def test_decline_sends_nothing_and_says_how_to_ask_again(h: Harness) -> None:
    await h.add_contacts(120)
    message, card = await _offer(h)
    h.connector.reset()

    assert await h.consent("decline", card["content"]["declineContext"], None,
                           reply_to_id=message.activity_id) == 200

    assert [a.text for a in h.connector.sent_to(PERSONAL)] == [DECLINED]
    assert "export" in DECLINED
    # The offer is closed: accepting the same card afterwards uploads nothing.
    info = h.onedrive.upload_info(card["name"])
    assert await h.consent("accept", card["content"]["acceptContext"], info) == 200
    assert h.onedrive.puts == []
    assert h.connector.sent_to(PERSONAL)[-1].text == OFFER_GONE


async def test_another_users_accept_with_the_same_context_is_refused(h: Harness) -> None:
    await h.add_contacts(120)
    await h.add_contacts(3, actor=Actor(platform="teams", workspace_external_id=DEFAULT_TENANT_ID,
                                        user_external_id="aad-fox", display_name="Fox Mulder",
                                        tz="Europe/Berlin"))
    _, card = await _offer(h)
    context = card["content"]["acceptContext"]
    h.connector.reset()

    foxs = h.onedrive.upload_info(card["name"])
    assert await h.consent("accept", context, foxs, **FOX) == 200

    assert h.onedrive.puts == []
    assert [a.text for a in h.connector.sent_to(FOX_PERSONAL)] == [NOT_YOURS]
    assert h.connector.sent_to(PERSONAL) == []
    # Refusing him did not spend her offer.
    danas = h.onedrive.upload_info(card["name"])
    assert await h.consent("accept", context, danas) == 200
    exported = json.loads(h.onedrive.uploaded(danas) or b"{}")
    assert exported["user"]["external_id"] == DEFAULT_AAD_OBJECT_ID


async def test_a_consent_accepted_twice_uploads_once(h: Harness) -> None:
    await h.add_contacts(120)
    _, card = await _offer(h)
    context = card["content"]["acceptContext"]
    first = h.onedrive.upload_info(card["name"])
    assert await h.consent("accept", context, first) == 200
    h.connector.reset()

    second = h.onedrive.upload_info(card["name"])
    assert await h.consent("accept", context, second) == 200

    assert [put.session_id for put in h.onedrive.puts] == [
        first["uploadUrl"].rsplit("/", 1)[-1].split("?")[0]]
    assert h.onedrive.uploaded(second) is None
    [answer] = h.connector.sent_to(PERSONAL)
    assert answer.text == OFFER_GONE
    assert not answer.body.get("attachments")


async def test_an_upload_error_gets_a_clear_reply(h: Harness) -> None:
    await h.add_contacts(120)
    _, card = await _offer(h)
    info = h.onedrive.upload_info(card["name"])
    h.onedrive.fail_next(503)
    h.connector.reset()

    assert await h.consent("accept", card["content"]["acceptContext"], info) == 200

    [answer] = h.connector.sent_to(PERSONAL)
    assert answer.text == UPLOAD_FAILED
    assert "export" in UPLOAD_FAILED
    assert not answer.body.get("attachments")


@pytest.mark.parametrize("upload_url", [
    "http://contoso-my.sharepoint.com/up/session-1",  # not https
    "https://attacker.example/up/session-1",  # not a host Teams stores files on
    "https://127.0.0.1/up/session-1",
])
async def test_an_upload_url_off_the_file_hosts_is_not_contacted(h: Harness,
                                                                 upload_url: str) -> None:
    await h.add_contacts(120)
    _, card = await _offer(h)
    info = {**h.onedrive.upload_info(card["name"]), "uploadUrl": upload_url}
    h.connector.reset()

    assert await h.consent("accept", card["content"]["acceptContext"], info) == 200

    assert h.onedrive.puts == []
    assert [a.text for a in h.connector.sent_to(PERSONAL)] == [UPLOAD_FAILED]


async def test_no_export_after_forget_me(h: Harness) -> None:
    await h.add_contacts(120)
    _, card = await _offer(h)
    await h.say("forget me confirm")
    await _until(lambda: any(a.text == DELETED for a in h.connector.sent_to(PERSONAL)),
                 "the forget me answer")
    h.connector.reset()
    before = await snapshot(h.runtime.engine)

    info = h.onedrive.upload_info(card["name"])
    assert await h.consent("accept", card["content"]["acceptContext"], info) == 200

    assert h.onedrive.puts == []
    assert [a.text for a in h.connector.sent_to(PERSONAL)] == [OFFER_GONE]
    # Refusing stored nothing about her again.
    assert await snapshot(h.runtime.engine) == before


async def test_no_export_after_forget_me_said_where_the_offer_is_not_known(h: Harness) -> None:
    """`forget me` through another replica (or the core directly): the offer, kept in the
    database, went with her rows, so nothing is exported and nothing is stored about her
    again."""
    await h.add_contacts(120)
    _, card = await _offer(h)
    forgotten = await h.runtime.rapport.handle_text(DANA, "forget me confirm")
    assert forgotten.erased
    h.runtime.rapport.forget_cached("teams", DEFAULT_TENANT_ID, DEFAULT_AAD_OBJECT_ID)
    h.connector.reset()
    before = await snapshot(h.runtime.engine)

    info = h.onedrive.upload_info(card["name"])
    assert await h.consent("accept", card["content"]["acceptContext"], info) == 200

    assert h.onedrive.puts == []
    assert [a.text for a in h.connector.sent_to(PERSONAL)] == [OFFER_GONE]
    assert await snapshot(h.runtime.engine) == before


async def test_export_from_a_group_chat_offers_the_file_privately(h: Harness) -> None:
    await h.add_contacts(120)
    await h.say("hi")  # her personal chat is known
    h.connector.reset()

    message, card = await _offer(h, conversation_type="groupChat", mentions_bot=True)

    assert message.conversation_id == PERSONAL
    group = h.connector.sent_to(GROUP)
    assert [a.text for a in group] == [PRIVATE_SENT]
    assert not any(a.body.get("attachments") for a in group)
    info = h.onedrive.upload_info(card["name"])
    assert await h.consent("accept", card["content"]["acceptContext"], info) == 200
    assert h.onedrive.uploaded(info) is not None
    assert h.connector.sent_to(GROUP) == group


async def test_a_small_export_stays_inline(h: Harness) -> None:
    await h.add_contacts(2)
    h.connector.reset()

    await h.say("export")

    [answer] = h.connector.sent_to(PERSONAL)
    assert not answer.body.get("attachments")
    assert "Person 0001" in (answer.text or "")
    assert '"contacts"' in (answer.text or "")


async def test_a_large_file_goes_up_in_ranges_of_320_kib_multiples(
        onedrive_upload: OneDriveUploadFake) -> None:
    data = bytes(range(256)) * ((UPLOAD_CHUNK_BYTES * 2 + 1000) // 256)
    info = onedrive_upload.upload_info("big.json")

    await upload(info["uploadUrl"], data, policy=onedrive_upload.policy)

    assert onedrive_upload.uploaded(info) == data
    assert UPLOAD_CHUNK_BYTES % FRAGMENT_MULTIPLE == 0 and UPLOAD_CHUNK_BYTES < 4_000_000
    ranges = [put.headers["Content-Range"] for put in onedrive_upload.puts]
    assert ranges == [
        f"bytes 0-{UPLOAD_CHUNK_BYTES - 1}/{len(data)}",
        f"bytes {UPLOAD_CHUNK_BYTES}-{2 * UPLOAD_CHUNK_BYTES - 1}/{len(data)}",
        f"bytes {2 * UPLOAD_CHUNK_BYTES}-{len(data) - 1}/{len(data)}"]
    assert [put.status for put in onedrive_upload.puts] == [202, 202, 201]


async def test_upload_refuses_before_connecting_and_reports_http_errors(
        onedrive_upload: OneDriveUploadFake) -> None:
    with pytest.raises(UploadRefused):
        await upload("https://attacker.example/up/x", b"{}", policy=onedrive_upload.policy)
    # A SharePoint name that resolves to a private address (a hostile or rebinding DNS).
    with pytest.raises(UploadRefused):
        await upload(f"https://{UPLOAD_HOST}:{onedrive_upload.port}/up/x", b"{}",
                     policy=FileHostPolicy(resolver=lambda: StaticResolver(
                         {UPLOAD_HOST: "127.0.0.1"})))
    info = onedrive_upload.upload_info("x.json")
    onedrive_upload.fail_next(404)
    with pytest.raises(UploadFailed, match="404"):
        await upload(info["uploadUrl"], b"{}", policy=onedrive_upload.policy)


async def _until(check: Callable[[], bool], what: str) -> None:
    """Let the event loop run the answer the bot sends after its turn (bounded waits)."""
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


@pytest.mark.parametrize("value", [None, "accept", {"action": "upload", "context": None}])
async def test_a_malformed_consent_is_refused_and_spends_no_offer(h: Harness,
                                                                 value: object) -> None:
    await h.add_contacts(120)
    _, card = await _offer(h)
    context = card["content"]["acceptContext"]
    activity = teams_file_consent_invoke("accept", context, service_url=h.url)
    activity["value"] = value if not isinstance(value, dict) else {**value, "context": context}
    h.connector.reset()

    status, _ = await h.post(activity)

    assert status == 400
    assert h.connector.sent() == []
    info = h.onedrive.upload_info(card["name"])
    assert await h.consent("accept", context, info) == 200
    assert h.onedrive.uploaded(info) is not None


async def test_a_consent_from_a_group_chat_uploads_nothing_and_names_no_one(h: Harness) -> None:
    await h.add_contacts(120)
    _, card = await _offer(h)
    context = card["content"]["acceptContext"]
    h.connector.reset()

    info = h.onedrive.upload_info(card["name"])
    assert await h.consent("accept", context, info, conversation_type="groupChat") == 200

    assert h.onedrive.puts == []
    assert [a.text for a in h.connector.sent_to(GROUP)] == [FILES_ARE_PERSONAL]
    # Her offer is still open in her personal chat.
    assert await h.consent("accept", context, info) == 200
    assert h.onedrive.uploaded(info) is not None
