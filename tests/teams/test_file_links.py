"""Hostile Teams file links: an activity names the download URL, so it may name anything.

Every case posts a real file-attachment Activity into the running app. The link is refused
before anything is fetched: the local file server (which would serve the file) records no
request, the user gets "couldn't download", no import card, and no row changes. The policy is
production's (SharePoint/OneDrive hosts, https, public addresses only); the tests replace only
DNS (a static table, to make SharePoint names resolve to private addresses as a hostile or
rebinding DNS server would) and the CA that signs the local server's certificate.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.rapport import Rapport
from rapport.bot.platforms.teams.app import install_teams
from rapport.bot.platforms.teams.downloads import (
    DownloadRefused,
    FileHostPolicy,
    download,
    host_allowed,
    is_public,
    parse_hosts,
)
from rapport.bot.platforms.teams.imports import DOWNLOAD_FAILED
from rapport.bot.service.config import DEFAULT_TEAMS_FILE_HOSTS, Settings
from rapport.bot.service.runtime import Runtime
from rapport.bot.service.server import build_web_app
from rapport.storage import db
from tests.conftest import Clock, snapshot
from tests.fakes.bot_connector import BotConnectorFake
from tests.fakes.dns import StaticResolver
from tests.teams.test_import_upload import (  # noqa: F401 (files is a fixture)
    CONTACTS_CSV,
    FILE_HOST,
    PERSONAL,
    FileServer,
    Harness,
    _buttons,
    _card,
    data_unchanged,
    file_message,
    files,
)

# What a hostile DNS server could answer for names under allowed domains.
HOSTILE_DNS = {
    FILE_HOST: "127.0.0.1",
    "rebind.sharepoint.com": "10.0.0.5",
    "metadata.sharepoint.com": "169.254.169.254",
    "alibaba.sharepoint.com": "100.100.100.200",
    "loopback6.sharepoint.com": "::1",
    "mapped.sharepoint.com": "::ffff:127.0.0.1",
    "nat64.sharepoint.com": "64:ff9b::a9fe:a9fe",
    "sixtofour.sharepoint.com": "2002:7f00:1::1",
    "ula.onedrive.com": "fd00:ec2::254",
    "zero.1drv.com": "0.0.0.0",
    "mixed.sharepoint.com": ["20.190.160.1", "192.168.1.10"],
}


def hostile_links(port: int) -> list[str]:
    """Download links an attacker can put into an activity (the file server listens on
    127.0.0.1:`port` and would serve `contacts.csv` to anyone who reached it)."""
    path = "/files/contacts.csv?tempauth=abc"
    return [
        f"http://127.0.0.1:{port}{path}",                  # plain http, loopback
        f"https://127.0.0.1:{port}{path}",                 # an address, not a file host
        f"https://localhost:{port}{path}",
        f"https://[::1]:{port}{path}",
        "https://2130706433/latest/meta-data",              # 127.0.0.1 as one number
        "https://169.254.169.254/latest/meta-data",         # cloud metadata
        "https://evil.example/contacts.csv",
        "https://contoso.sharepoint.com.evil.example/contacts.csv",
        "https://sharepoint.com/contacts.csv",              # the bare domain is no tenant host
        f"https://contoso.sharepoint.com@127.0.0.1:{port}{path}",
        f"http://{FILE_HOST}:{port}{path}",                 # an allowed host over plain http
        # Allowed names whose DNS answers a non-public address: refused after resolution.
        *(f"https://{name}:{port}{path}" for name in HOSTILE_DNS),
    ]


async def _harness(engine: AsyncEngine, clock: Clock, connector: BotConnectorFake,
                   files: FileServer, policy: FileHostPolicy) -> Harness:  # noqa: F811
    settings = Settings(database_url="sqlite+aiosqlite://", host="127.0.0.1", teams_enabled=True)
    sessions = db.session_factory(engine)
    runtime = Runtime(settings=settings, engine=engine, sessions=sessions,
                      rapport=Rapport(sessions=sessions, clock=clock), clock=clock)
    app = await build_web_app(runtime, installers=[
        functools.partial(install_teams, file_policy=policy)])
    client = TestClient(TestServer(app))
    await client.start_server()
    return Harness(runtime=runtime, client=client, connector=connector, engine=engine,
                   clock=clock, files=files)


@pytest.fixture
async def strict(engine: AsyncEngine, clock: Clock, bot_connector: BotConnectorFake,
                 files: FileServer) -> AsyncIterator[Harness]:  # noqa: F811
    """Production's policy; only DNS answers and the trusted CA are the test's."""
    policy = dataclasses.replace(files.policy, allow_private_for_tests=False,
                                 resolver=lambda: StaticResolver(HOSTILE_DNS))
    assert policy.hosts == parse_hosts(DEFAULT_TEAMS_FILE_HOSTS)
    harness = await _harness(engine, clock, bot_connector, files, policy)
    yield harness
    await harness.client.close()


@pytest.fixture
async def local(engine: AsyncEngine, clock: Clock, bot_connector: BotConnectorFake,
                files: FileServer) -> AsyncIterator[Harness]:  # noqa: F811
    """The file server reachable (its name resolves to 127.0.0.1 and that is allowed)."""
    harness = await _harness(engine, clock, bot_connector, files, files.policy)
    yield harness
    await harness.client.close()


async def _send_link(h: Harness, url: str) -> None:
    """Dana sends contacts.csv whose download link is `url`; Rapport answers once."""
    h.connector.reset()
    status, _ = await h.post(file_message("contacts.csv", url,
                                          service_url=h.connector.service_url))
    assert status == 201


async def _refused_and_unchanged(h: Harness, before: dict[str, object]) -> None:
    [answer] = h.connector.sent_to(PERSONAL)
    assert answer.text == DOWNLOAD_FAILED and not answer.body.get("attachments")
    assert h.files.requests == []
    assert await data_unchanged(h, before)  # type: ignore[arg-type]


async def test_every_hostile_link_is_refused_before_anything_is_fetched(
        strict: Harness, caplog: pytest.LogCaptureFixture) -> None:
    strict.files.files["contacts.csv"] = CONTACTS_CSV
    assert await strict.say("help") == 201
    before = await snapshot(strict.engine)
    links = hostile_links(strict.files.port)

    with caplog.at_level(logging.WARNING, logger="rapport.bot.platforms.teams.imports"):
        for url in links:
            await _send_link(strict, url)
            await _refused_and_unchanged(strict, before)

    refusals = [r for r in caplog.records if r.getMessage() == "import download refused"]
    assert len(refusals) == len(links) == 22
    assert {getattr(r, "reason", "") for r in refusals} == {
        "not https", "host not allowed", "credentials in the URL", "address not public"}
    # The link carries an access token: it never reaches the log.
    assert not any("tempauth" in r.getMessage() + str(r.__dict__) for r in caplog.records)


async def test_a_redirect_to_another_host_is_not_followed(local: Harness) -> None:
    server = local.files
    server.files["contacts.csv"] = CONTACTS_CSV
    path = "/files/contacts.csv?tempauth=abc"
    targets = [f"https://127.0.0.1:{server.port}{path}",
               f"http://{FILE_HOST}:{server.port}{path}",    # same host, downgraded to http
               f"https://other.sharepoint.com:{server.port}{path}",
               "https://169.254.169.254/latest/meta-data"]
    assert await local.say("help") == 201
    before = await snapshot(local.engine)

    for target in targets:
        server.redirects["moved.csv"] = target
        server.requests.clear()
        await _send_link(local, server.url("moved.csv"))
        [answer] = local.connector.sent_to(PERSONAL)
        assert answer.text == DOWNLOAD_FAILED
        assert server.requests == ["moved.csv"]  # the redirect was never followed
        assert await data_unchanged(local, before)


async def test_a_redirect_on_the_same_host_is_followed_a_few_times_only(local: Harness) -> None:
    server = local.files
    server.files["contacts.csv"] = CONTACTS_CSV
    server.redirects["moved.csv"] = "/files/contacts.csv?tempauth=abc"
    await _send_link(local, server.url("moved.csv"))
    [message] = local.connector.sent_to(PERSONAL)
    assert set(_buttons(_card(message))) == {"Import", "Cancel"}
    assert server.requests == ["moved.csv", "contacts.csv"]

    server.requests.clear()
    server.redirects["loop.csv"] = "/files/loop.csv"
    with pytest.raises(DownloadRefused, match="too many redirects"):
        await download(server.url("loop.csv"), 1000, policy=server.policy)
    assert server.requests == ["loop.csv"] * 4


async def test_the_download_resolves_once_and_connects_to_that_address(
        files: FileServer) -> None:  # noqa: F811
    files.files["contacts.csv"] = CONTACTS_CSV
    resolver = StaticResolver({FILE_HOST: "127.0.0.1"})
    policy = dataclasses.replace(files.policy, resolver=lambda: resolver)

    assert await download(files.url("contacts.csv"), 10_000, policy=policy) == CONTACTS_CSV
    assert resolver.lookups == [FILE_HOST]


def test_host_patterns_and_public_addresses() -> None:
    hosts = parse_hosts(" *.SharePoint.com, files.example.org ,, ")
    assert hosts == ("*.sharepoint.com", "files.example.org")
    assert host_allowed("contoso-my.sharepoint.com", hosts)
    assert host_allowed("CONTOSO.sharepoint.com.", hosts)
    assert not host_allowed("sharepoint.com", hosts)
    assert not host_allowed("evilsharepoint.com", hosts)
    assert not host_allowed("contoso.sharepoint.com.evil.example", hosts)
    assert host_allowed("files.example.org", hosts) and not host_allowed("x.files.example.org",
                                                                         hosts)
    assert parse_hosts("") == ()
    assert is_public("20.190.160.1") and is_public("2603:1036::1")
    for address in ("127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.0.1", "169.254.169.254",
                    "100.100.100.200", "0.0.0.0", "224.0.0.1", "::1", "::", "fe80::1",
                    "fd00:ec2::254", "::ffff:10.0.0.1", "2002:a9fe:a9fe::", "64:ff9b::7f00:1",
                    "::7f00:1", "2001:0:4136:e378:8000:63bf:80ff:fffe", "not an address"):
        assert not is_public(address), address
