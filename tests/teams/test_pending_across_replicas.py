"""Teams file offers and waiting imports answered by another replica, or after a restart.

Two Rapport Teams bots, each a web app with its own engine, Rapport and botbuilder adapter, on
one database (as two replicas behind one endpoint, or one process and its successor): one
makes the export offer (a FileConsentCard) or the import's dry run card, the other answers
it. Activity JSON goes over HTTP into each app; botbuilder sends both bots' messages to one
BotConnectorFake; exports go up to the OneDrive upload fake, uploads come from the local file
server of tests/teams/test_import_upload.py. On SQLite (one file, two engines) and, with
RAPPORT_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import Actor
from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.teams import cards
from rapport.bot.platforms.teams.app import install_teams
from rapport.bot.platforms.teams.downloads import FileHostPolicy
from rapport.bot.platforms.teams.file_consent import (
    FILE_CONSENT_CARD,
    FILE_INFO_CARD,
    NO_DATABASE,
    NOT_YOURS,
    OFFER_GONE,
)
from rapport.bot.platforms.teams.imports import EXPIRED, IMPORT_KIND, PendingFiles, unseal
from rapport.bot.platforms.teams.imports import NOT_YOURS as NOT_YOUR_IMPORT
from rapport.bot.service.config import Settings
from rapport.bot.service.runtime import Runtime
from rapport.bot.service.server import build_web_app
from rapport.scheduler.retention import undo_purge_job
from rapport.storage import db
from rapport.storage.models import Contact, PendingFile
from tests.conftest import PG_SKIP_REASON, PG_URL, Clock, truncate_all
from tests.fakes.bot_connector import BotConnectorFake, ReceivedActivity
from tests.fakes.database_faults import DatabaseProxy
from tests.fakes.onedrive_upload import OneDriveUploadFake
from tests.fakes.teams_activities import (
    DEFAULT_AAD_OBJECT_ID,
    DEFAULT_TENANT_ID,
    default_conversation_id,
    teams_card_action_invoke,
    teams_file_consent_invoke,
    teams_installation_update_activity,
    teams_message_activity,
)
from tests.teams.test_import_upload import CONTACTS_CSV, FileServer, file_message
from tests.teams.test_import_upload import files as files

PERSONAL = default_conversation_id("personal")
FOX = {"user_id": "29:fox-mulder", "user_name": "Fox Mulder", "aad_object_id": "aad-fox"}
FOX_PERSONAL = default_conversation_id("personal", user_id="29:fox-mulder")
DANA = Actor(platform="teams", workspace_external_id=DEFAULT_TENANT_ID,
             user_external_id=DEFAULT_AAD_OBJECT_ID, display_name="Dana Scully",
             tz="Europe/Berlin")
FOXS = Actor(platform="teams", workspace_external_id=DEFAULT_TENANT_ID,
             user_external_id="aad-fox", display_name="Fox Mulder", tz="Europe/Berlin")
DELETED = "Done. Everything Rapport stored for you is deleted."


@dataclass
class Replica:
    """One Rapport Teams bot: its own engine, Rapport and web app."""

    runtime: Runtime
    client: TestClient[Any, Any]
    service_url: str

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        response = await self.client.post("/api/messages", json=activity)
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body

    async def say(self, text: str, **kwargs: Any) -> None:
        status, _ = await self.post(teams_message_activity(text, service_url=self.service_url,
                                                           **kwargs))
        assert status in (200, 201)

    async def consent(self, context: object, upload_info: dict[str, Any] | None, *,
                      action: str = "accept", **kwargs: Any) -> int:
        status, _ = await self.post(teams_file_consent_invoke(
            action, context, service_url=self.service_url,  # type: ignore[arg-type]
            upload_info=upload_info, **kwargs))
        return status

    async def click(self, action: dict[str, Any], *, reply_to_id: str,
                    **kwargs: Any) -> tuple[int, Any]:
        return await self.post(teams_card_action_invoke(
            action["data"], verb=action["verb"], service_url=self.service_url,
            reply_to_id=reply_to_id, **kwargs))

    async def upload(self, files: FileServer, name: str, data: bytes) -> None:
        files.files[name] = data
        status, _ = await self.post(file_message(name, files.url(name),
                                                 service_url=self.service_url))
        assert status == 201


@dataclass
class Cluster:
    """Replicas of Rapport on one database; `start` adds one (a new process), `stop` ends one."""

    url: str
    clock: Clock
    connector: BotConnectorFake
    policy: FileHostPolicy
    stack: contextlib.AsyncExitStack
    first_engine: AsyncEngine
    replicas: dict[int, contextlib.AsyncExitStack] = field(default_factory=dict)

    async def start(self, url: str | None = None) -> Replica:
        """A new replica, on the cluster's database (or through `url` to it)."""
        own = contextlib.AsyncExitStack()
        await self.stack.enter_async_context(own)
        url = url or self.url
        engine = db.create_engine(url, pool_size=5) if url.startswith("postgresql") \
            else db.create_engine(url)
        own.push_async_callback(engine.dispose)
        sessions = db.session_factory(engine)
        settings = Settings(database_url="sqlite+aiosqlite://", host="127.0.0.1",
                            teams_enabled=True)
        runtime = Runtime(settings=settings, engine=engine, sessions=sessions,
                          rapport=Rapport(sessions=sessions, clock=self.clock), clock=self.clock)
        app = await build_web_app(runtime, installers=[
            functools.partial(install_teams, file_policy=self.policy)])
        client = await own.enter_async_context(TestClient(TestServer(app)))
        replica = Replica(runtime=runtime, client=client, service_url=self.connector.service_url)
        self.replicas[id(replica)] = own
        return replica

    async def stop(self, replica: Replica) -> None:
        await self.replicas.pop(id(replica)).aclose()

    async def pending(self) -> list[PendingFile]:
        async with db.session_factory(self.first_engine)() as session:
            return list((await session.scalars(select(PendingFile).order_by(PendingFile.id)))
                        .all())

    async def contacts(self) -> int:
        async with db.session_factory(self.first_engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(Contact)) or 0)


@contextlib.asynccontextmanager
async def _cluster(engine: AsyncEngine, clock: Clock, connector: BotConnectorFake,
                   policy: FileHostPolicy) -> AsyncIterator[Cluster]:
    async with contextlib.AsyncExitStack() as stack:
        yield Cluster(url=engine.url.render_as_string(hide_password=False), clock=clock,
                      connector=connector, policy=policy, stack=stack, first_engine=engine)


@pytest.fixture
async def exports(any_engine: AsyncEngine, clock: Clock, bot_connector: BotConnectorFake,
                  onedrive_upload: OneDriveUploadFake) -> AsyncIterator[Cluster]:
    async with _cluster(any_engine, clock, bot_connector, onedrive_upload.policy) as cluster:
        yield cluster


@pytest.fixture
async def postgres_exports(postgres_ready: str, clock: Clock, bot_connector: BotConnectorFake,
                           onedrive_upload: OneDriveUploadFake) -> AsyncIterator[Cluster]:
    """`exports` on PostgreSQL alone (a replica may reach it through a DatabaseProxy)."""
    engine = db.create_engine(postgres_ready, pool_size=5)
    try:
        await truncate_all(engine)
        async with _cluster(engine, clock, bot_connector, onedrive_upload.policy) as cluster:
            yield cluster
    finally:
        await engine.dispose()


@pytest.fixture
async def imports(any_engine: AsyncEngine, clock: Clock, bot_connector: BotConnectorFake,
                  files: FileServer) -> AsyncIterator[Cluster]:
    async with _cluster(any_engine, clock, bot_connector, files.policy) as cluster:
        yield cluster


async def _add_contacts(replica: Replica, count: int, actor: Actor = DANA) -> None:
    rows = "".join(f"Person {n:04d},colleague,Field Office {n},person{n}@fbi.example,"
                   f"2 weeks,Remembers every case file from the X-Files basement {n}\n"
                   for n in range(count))
    reply = await replica.runtime.rapport.handle_import(
        actor, "contacts.csv", ("name,kind,company,email,cadence,notes\n" + rows).encode(),
        dry_run=False)
    assert reply.ok, reply.text


def _attachment(activity: ReceivedActivity, content_type: str) -> dict[str, Any]:
    [attachment] = [a for a in activity.body.get("attachments") or []
                    if a.get("contentType") == content_type]
    return dict(attachment)


async def _offer(replica: Replica, connector: BotConnectorFake) -> dict[str, Any]:
    """Dana types `export` to `replica`; the FileConsentCard it sent."""
    await _add_contacts(replica, 120)
    connector.reset()
    await replica.say("export")
    [offer] = [a for a in connector.sent_to(PERSONAL)
               if any(x.get("contentType") == FILE_CONSENT_CARD
                      for x in a.body.get("attachments") or [])]
    connector.reset()
    return _attachment(offer, FILE_CONSENT_CARD)


async def _until(check: Any, what: str) -> None:
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


# -- export offers --------------------------------------------------------------------------------


async def test_an_offer_made_by_one_replica_is_accepted_on_another(
        exports: Cluster, onedrive_upload: OneDriveUploadFake) -> None:
    first, second = await exports.start(), await exports.start()
    card = await _offer(first, exports.connector)

    info = onedrive_upload.upload_info(card["name"])
    assert await second.consent(card["content"]["acceptContext"], info) == 200

    exported = json.loads(onedrive_upload.uploaded(info) or b"{}")
    assert len(exported["contacts"]) == 120
    assert exported["user"]["external_id"] == DEFAULT_AAD_OBJECT_ID
    [done] = exports.connector.sent_to(PERSONAL)
    assert _attachment(done, FILE_INFO_CARD)["contentUrl"] == info["contentUrl"]
    # Spent: neither replica answers it again.
    assert await exports.pending() == []
    for replica in (first, second):
        again = onedrive_upload.upload_info(card["name"])
        assert await replica.consent(card["content"]["acceptContext"], again) == 200
        assert onedrive_upload.uploaded(again) is None
    assert [a.text for a in exports.connector.sent_to(PERSONAL)][1:] == [OFFER_GONE] * 2


async def test_an_offer_outlives_a_restart(exports: Cluster,
                                           onedrive_upload: OneDriveUploadFake) -> None:
    before = await exports.start()
    card = await _offer(before, exports.connector)
    await exports.stop(before)

    after = await exports.start()
    info = onedrive_upload.upload_info(card["name"])
    assert await after.consent(card["content"]["acceptContext"], info) == 200

    assert len(json.loads(onedrive_upload.uploaded(info) or b"{}")["contacts"]) == 120


async def test_a_decline_on_another_replica_closes_the_offer_everywhere(
        exports: Cluster, onedrive_upload: OneDriveUploadFake) -> None:
    first, second = await exports.start(), await exports.start()
    card = await _offer(first, exports.connector)

    assert await second.consent(card["content"]["declineContext"], None,
                                action="decline") == 200

    info = onedrive_upload.upload_info(card["name"])
    assert await first.consent(card["content"]["acceptContext"], info) == 200
    assert onedrive_upload.puts == []
    assert exports.connector.sent_to(PERSONAL)[-1].text == OFFER_GONE


async def test_an_offer_accepted_on_two_replicas_at_once_uploads_once(
        exports: Cluster, onedrive_upload: OneDriveUploadFake) -> None:
    first, second = await exports.start(), await exports.start()
    card = await _offer(first, exports.connector)
    context = card["content"]["acceptContext"]
    infos = [onedrive_upload.upload_info(card["name"]) for _ in range(2)]

    statuses = await asyncio.gather(first.consent(context, infos[0]),
                                    second.consent(context, infos[1]))

    assert statuses == [200, 200]
    assert sum(onedrive_upload.uploaded(info) is not None for info in infos) == 1
    answers = exports.connector.sent_to(PERSONAL)
    assert sorted(bool(a.body.get("attachments")) for a in answers) == [False, True]
    assert [a.text for a in answers if not a.body.get("attachments")] == [OFFER_GONE]


async def test_an_offer_expires_on_every_replica_and_its_row_goes(
        exports: Cluster, onedrive_upload: OneDriveUploadFake, clock: Clock) -> None:
    first, second = await exports.start(), await exports.start()
    card = await _offer(first, exports.connector)
    clock.advance(minutes=16)

    info = onedrive_upload.upload_info(card["name"])
    assert await second.consent(card["content"]["acceptContext"], info) == 200

    assert onedrive_upload.puts == []
    assert [a.text for a in exports.connector.sent_to(PERSONAL)] == [OFFER_GONE]
    # Nobody answered it, nobody made another: the every-minute purge takes it.
    assert len(await exports.pending()) == 1
    await undo_purge_job(second.runtime.sessions, clock)()
    assert await exports.pending() == []


async def test_another_users_accept_on_another_replica_is_refused(
        exports: Cluster, onedrive_upload: OneDriveUploadFake) -> None:
    first, second = await exports.start(), await exports.start()
    await _add_contacts(first, 3, actor=FOXS)
    card = await _offer(first, exports.connector)
    context = card["content"]["acceptContext"]

    foxs = onedrive_upload.upload_info(card["name"])
    assert await second.consent(context, foxs, **FOX) == 200

    assert onedrive_upload.puts == []
    assert [a.text for a in exports.connector.sent_to(FOX_PERSONAL)] == [NOT_YOURS]
    danas = onedrive_upload.upload_info(card["name"])
    assert await first.consent(context, danas) == 200
    exported = json.loads(onedrive_upload.uploaded(danas) or b"{}")
    assert exported["user"]["external_id"] == DEFAULT_AAD_OBJECT_ID


async def test_forget_me_on_another_replica_removes_the_offer(
        exports: Cluster, onedrive_upload: OneDriveUploadFake) -> None:
    first, second = await exports.start(), await exports.start()
    card = await _offer(first, exports.connector)
    assert len(await exports.pending()) == 1

    await second.say("forget me confirm")
    await _until(lambda: any(a.text == DELETED for a in exports.connector.sent_to(PERSONAL)),
                 "the forget me answer")

    assert await exports.pending() == []
    info = onedrive_upload.upload_info(card["name"])
    assert await first.consent(card["content"]["acceptContext"], info) == 200
    assert onedrive_upload.puts == []
    assert exports.connector.sent_to(PERSONAL)[-1].text == OFFER_GONE


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)
async def test_an_accept_that_cannot_reach_the_database_spends_nothing(
        postgres_exports: Cluster, onedrive_upload: OneDriveUploadFake,
        proxy: DatabaseProxy) -> None:
    exports = postgres_exports
    first, cut_off = await exports.start(), await exports.start(proxy.url())
    card = await _offer(first, exports.connector)
    context = card["content"]["acceptContext"]
    await proxy.fail("refuse")

    lost = onedrive_upload.upload_info(card["name"])
    assert await cut_off.consent(context, lost) == 200

    assert onedrive_upload.puts == []
    assert [a.text for a in exports.connector.sent_to(PERSONAL)] == [NO_DATABASE]
    info = onedrive_upload.upload_info(card["name"])
    assert await first.consent(context, info) == 200
    assert len(json.loads(onedrive_upload.uploaded(info) or b"{}")["contacts"]) == 120


# -- imports --------------------------------------------------------------------------------------


def _card(activity: ReceivedActivity) -> dict[str, Any]:
    [attachment] = activity.body["attachments"]
    assert attachment["contentType"] == cards.CARD_CONTENT_TYPE
    content: dict[str, Any] = attachment["content"]
    return content


def _buttons(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["title"]: a for a in card.get("actions", [])}


def _texts(card: dict[str, Any]) -> str:
    return "\n".join(block.get("text", "") for block in card["body"])


async def _preview(replica: Replica, files: FileServer,
                   connector: BotConnectorFake) -> tuple[str, dict[str, dict[str, Any]]]:
    """Dana sends the contacts file to `replica`: the card message's id and its buttons."""
    connector.reset()
    await replica.upload(files, "contacts.csv", CONTACTS_CSV)
    [message] = connector.sent_to(PERSONAL)
    assert "Would add 2 people" in _texts(_card(message))
    connector.reset()
    return str(message.activity_id), _buttons(_card(message))


async def test_an_upload_checked_by_one_replica_is_imported_on_another(
        imports: Cluster, files: FileServer) -> None:
    first, second = await imports.start(), await imports.start()
    message_id, buttons = await _preview(first, files, imports.connector)

    status, body = await second.click(buttons["Import"], reply_to_id=message_id)

    assert status == 200 and "Added 2 people" in _texts(body["value"])
    assert await imports.contacts() == 2
    [update] = imports.connector.updates()
    assert update.activity_id == message_id and "Added 2 people" in _texts(_card(update))
    # The file was downloaded once, for the dry run; what the import read waited in the
    # database and is gone with the click.
    assert files.requests == ["contacts.csv"]
    assert await imports.pending() == []
    for replica in (first, second):
        status, body = await replica.click(buttons["Import"], reply_to_id=message_id)
        assert body["value"] == EXPIRED


async def test_the_waiting_file_is_unreadable_in_the_database(imports: Cluster,
                                                             files: FileServer) -> None:
    first = await imports.start()
    _, buttons = await _preview(first, files, imports.connector)
    token = buttons["Import"]["data"]["token"]

    [row] = await imports.pending()

    # Sealed with a key that only the card's token gives: neither the file nor the token.
    assert row.sealed_content is not None and b"Walter" not in row.sealed_content
    assert b"walter@fbi.example" not in row.sealed_content
    assert token not in row.token_hash and len(row.token_hash) == 64
    assert unseal(token, row.sealed_content) == CONTACTS_CSV
    assert unseal(row.token_hash, row.sealed_content) is None


async def test_an_upload_waits_across_a_restart(imports: Cluster, files: FileServer) -> None:
    before = await imports.start()
    message_id, buttons = await _preview(before, files, imports.connector)
    await imports.stop(before)

    after = await imports.start()
    status, body = await after.click(buttons["Import"], reply_to_id=message_id)

    assert status == 200 and "Added 2 people" in _texts(body["value"])
    assert await imports.contacts() == 2


async def test_cancel_on_another_replica_drops_the_file(imports: Cluster,
                                                        files: FileServer) -> None:
    first, second = await imports.start(), await imports.start()
    message_id, buttons = await _preview(first, files, imports.connector)

    status, body = await second.click(buttons["Cancel"], reply_to_id=message_id)

    assert status == 200 and "Import cancelled" in _texts(body["value"])
    assert await imports.pending() == []
    _, body = await first.click(buttons["Import"], reply_to_id=message_id)
    assert body["value"] == EXPIRED and await imports.contacts() == 0


async def test_import_clicked_on_two_replicas_at_once_imports_once(
        imports: Cluster, files: FileServer) -> None:
    first, second = await imports.start(), await imports.start()
    message_id, buttons = await _preview(first, files, imports.connector)

    answers = await asyncio.gather(
        first.click(buttons["Import"], reply_to_id=message_id),
        second.click(buttons["Import"], reply_to_id=message_id))

    values = [body["value"] for _, body in answers]
    assert sorted(isinstance(value, dict) for value in values) == [False, True]
    assert [v for v in values if not isinstance(v, dict)] == [EXPIRED]
    [imported] = [v for v in values if isinstance(v, dict)]
    assert "Added 2 people" in _texts(imported)
    assert len(imports.connector.updates()) == 1
    assert await imports.contacts() == 2


async def test_a_waiting_upload_expires_on_every_replica_and_its_row_goes(
        imports: Cluster, files: FileServer, clock: Clock) -> None:
    first, second = await imports.start(), await imports.start()
    message_id, buttons = await _preview(first, files, imports.connector)
    clock.advance(minutes=16)

    status, body = await second.click(buttons["Import"], reply_to_id=message_id)

    assert status == 200 and body["value"] == EXPIRED
    assert imports.connector.updates() == [] and await imports.contacts() == 0
    await undo_purge_job(first.runtime.sessions, clock)()
    assert await imports.pending() == []


async def test_another_users_click_on_another_replica_is_refused(
        imports: Cluster, files: FileServer) -> None:
    first, second = await imports.start(), await imports.start()
    message_id, buttons = await _preview(first, files, imports.connector)

    status, body = await second.click(buttons["Import"], reply_to_id=message_id, **FOX)

    assert status == 200 and body["value"] == NOT_YOUR_IMPORT
    assert await imports.contacts() == 0 and len(await imports.pending()) == 1
    status, body = await first.click(buttons["Import"], reply_to_id=message_id)
    assert "Added 2 people" in _texts(body["value"])


async def test_forget_me_removes_the_waiting_upload(imports: Cluster, files: FileServer) -> None:
    first, second = await imports.start(), await imports.start()
    message_id, buttons = await _preview(first, files, imports.connector)

    await second.say("forget me confirm")
    await _until(lambda: any(a.text == DELETED
                             for a in imports.connector.sent_to(PERSONAL)),
                 "the forget me answer")

    assert await imports.pending() == []
    _, body = await first.click(buttons["Import"], reply_to_id=message_id)
    assert body["value"] == EXPIRED and await imports.contacts() == 0


async def test_uninstalling_removes_the_waiting_upload(imports: Cluster, files: FileServer
                                                       ) -> None:
    first, second = await imports.start(), await imports.start()
    await _preview(first, files, imports.connector)
    await second.upload(files, "more.csv", CONTACTS_CSV)
    assert len(await imports.pending()) == 2

    status, _ = await second.post(teams_installation_update_activity(
        service_url=second.service_url, action="remove"))

    assert status in (200, 201)
    assert await imports.pending() == []


async def test_a_token_is_claimed_once_among_many_claims_on_two_engines(
        any_engine: AsyncEngine, clock: Clock) -> None:
    """The claim itself, raced: twelve claims of one token over two engines, one wins."""
    url = any_engine.url.render_as_string(hide_password=False)
    other = db.create_engine(url, pool_size=5) if url.startswith("postgresql") \
        else db.create_engine(url)
    try:
        stores = [PendingFiles(Rapport(sessions=db.session_factory(engine), clock=clock).db,
                               clock, kind=IMPORT_KIND) for engine in (any_engine, other)]
        rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
        ctx = await rapport.user_context(DANA)
        token = await stores[0].put(ctx, "contacts.csv", CONTACTS_CSV)
        waiting = await stores[1].find(token)
        assert waiting is not None

        claims = await asyncio.gather(*(stores[n % 2].claim(token, waiting)
                                        for n in range(12)))

        won = [claim for claim in claims if claim is not None]
        assert len(won) == 1 and won[0].content == CONTACTS_CSV
        assert await stores[0].find(token) is None
    finally:
        await other.dispose()
