"""Contacts import by uploading a CSV or vCard in the DM with the bot: dry run, Import, Cancel."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.platforms.slack import SLACK_KEY, imports
from rapport.bot.platforms.slack import blocks as b
from rapport.storage.models import Contact, Note
from tests.conftest import snapshot
from tests.fakes.slack_api import DEFAULT_TEAM_ID
from tests.slack.conftest import ALEX, SAM, SlackHarness
from tests.slack.test_messages_tab import _dm_event, _texts

CSV = (b"name,kind,company,email,cadence,notes\n"
       b"Dana Scully,client,FBI,dana@fbi.example,2 weeks,hiking trip in Yosemite\n"
       b"Lee Park,colleague,,lee@example.com,1 month,\n")


def dm(slack: SlackHarness, user: str = ALEX) -> str:
    channel = slack.fake.dm_channel_id(user)
    slack.fake.add_channel(channel, team_id=DEFAULT_TEAM_ID, members=[user])
    return channel


async def upload(slack: SlackHarness, file_id: str, name: str, data: bytes, *,
                 user: str = ALEX, channel: str | None = None, channel_type: str = "im",
                 size: int | None = None, filetype: str | None = None,
                 extra: dict[str, Any] | None = None) -> tuple[int, str]:
    """Seed the file in the fake and send Slack's signed message.im file_share event."""
    info = slack.fake.add_file(file_id, name, data, user_id=user, filetype=filetype)
    if size is not None:
        info["size"] = size
    event = {"type": "message", "subtype": "file_share", "text": "", "user": user,
             "channel": channel or dm(slack, user), "channel_type": channel_type,
             "ts": f"{time.time():.6f}", "event_ts": f"{time.time():.6f}", "upload": True,
             "files": [info], **(extra or {})}
    return await slack.event(event)


def bot_messages(slack: SlackHarness, user: str = ALEX) -> list[dict[str, Any]]:
    return [m for m in slack.fake.messages_in(dm(slack, user)) if m.get("bot_id")]


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["action_id"], e["value"]) for block in message.get("blocks") or ()
            if block["type"] == "actions" for e in block["elements"]]


async def answer(slack: SlackHarness, count: int = 1) -> dict[str, Any]:
    await slack.until(lambda: len(bot_messages(slack)) >= count)
    return bot_messages(slack)[count - 1]


async def click(slack: SlackHarness, message: dict[str, Any], action_id: str, file_id: str, *,
                user: str = ALEX) -> tuple[int, str]:
    payload = slack.block_action(
        user=user, channel=dm(slack), message=message,
        action={"type": "button", "action_id": action_id, "value": file_id,
                "block_id": "import_actions"})
    return await slack.interaction(payload)


async def contacts(slack: SlackHarness) -> list[tuple[Any, ...]]:
    async with slack.runtime.sessions() as session:
        rows = await session.execute(select(Contact.name, Contact.email, Contact.cadence_days)
                                     .order_by(Contact.name))
        return [tuple(row) for row in rows]


async def seeded(slack: SlackHarness) -> None:
    """Create Alex's rows first, so a snapshot shows what the import itself changed."""
    await slack.runtime.rapport.user_context(slack.actor())


@pytest.fixture(autouse=True)
def quick_home(slack: SlackHarness) -> None:
    """Republish Home right after an import instead of a second (or half a minute) later."""
    slack.extra["app"][SLACK_KEY].home.refresh_delay = 0.0
    slack.extra["app"][SLACK_KEY].home.min_interval = 0.0


async def test_upload_dry_run_then_import_then_the_same_file_again_merges(
        slack: SlackHarness, engine: AsyncEngine) -> None:
    await seeded(slack)
    before = await snapshot(engine)
    status, _ = await upload(slack, "F0CSV1", "contacts.csv", CSV, filetype="csv")
    assert status == 200
    offer = await answer(slack)
    assert "Would add 2 people" in offer["text"] and "dry run" in offer["text"]
    assert buttons(offer) == [("import_confirm", "F0CSV1"), ("import_cancel", "F0CSV1")]
    # The dry run downloaded the file with the bot token and saved nothing.
    [(file_id, token, code)] = slack.fake.downloads
    assert (file_id, token, code) == ("F0CSV1", "xoxb-test-token", 200)
    assert await snapshot(engine) == before

    # The click is acknowledged at once; files.info, download and import come after the ack.
    slack.fake.latency = 0.3
    answered = slack.fake.answered
    status, _ = await click(slack, offer, "import_confirm", "F0CSV1")
    # Acknowledged before Slack answered any of the calls the import makes.
    assert status == 200 and slack.fake.answered == answered
    await slack.until(lambda: "Imported" in slack.fake.message(dm(slack), offer["ts"])["text"],
                      within=5.0)
    slack.fake.latency = 0.0
    updated = slack.fake.message(dm(slack), offer["ts"])
    assert updated is not None and "Added 2 people" in updated["text"]
    assert buttons(updated) == []
    [info] = slack.fake.calls_to("files.info")
    assert info.args["file"] == "F0CSV1" and info.token == "xoxb-test-token"
    assert len(slack.fake.downloads) == 2
    # The Home tab is republished with the new people.
    await slack.until(lambda: "Dana Scully" in str(slack.fake.home_view(ALEX)))
    assert await contacts(slack) == [("Dana Scully", "dana@fbi.example", 14),
                                     ("Lee Park", "lee@example.com", 30)]

    # The same file again: the dry run and the import merge, nothing is duplicated.
    await upload(slack, "F0CSV2", "contacts.csv", CSV, filetype="csv")
    again = await answer(slack, 2)
    assert "Would add 0 people" in again["text"] and "would leave 2 unchanged" in again["text"]
    await click(slack, again, "import_confirm", "F0CSV2")
    await slack.until(lambda: "Imported" in slack.fake.message(dm(slack), again["ts"])["text"])
    assert len(await contacts(slack)) == 2
    async with slack.runtime.sessions() as session:
        assert len((await session.scalars(select(Note))).all()) == 1


async def test_vcard_upload_is_imported(slack: SlackHarness) -> None:
    card = (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Kim Wu\r\nORG:Acme\r\n"
            b"EMAIL:kim@acme.example\r\nEND:VCARD\r\n")
    await upload(slack, "F0VCF", "kim.vcf", card, filetype="vcard")
    offer = await answer(slack)
    assert "Would add 1 person" in offer["text"]
    await click(slack, offer, "import_confirm", "F0VCF")
    await slack.until(lambda: "Imported" in slack.fake.message(dm(slack), offer["ts"])["text"])
    assert await contacts(slack) == [("Kim Wu", "kim@acme.example", None)]


async def test_hostile_files_get_clear_errors_and_nothing_is_imported(
        slack: SlackHarness, engine: AsyncEngine) -> None:
    await seeded(slack)
    before = await snapshot(engine)
    hostile = (b"name,email\n"
               b"\"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",x@evil.example\n"
               b"Dana,not-an-email\n")
    await upload(slack, "F0BAD1", "hostile.csv", hostile)
    refused = await answer(slack)
    assert "Nothing was imported" in refused["text"]
    assert "row 3: email 'not-an-email' is not an email address" in refused["text"]
    assert "formula" in refused["text"]  # the formula prefix was removed and said so
    assert buttons(refused) == []
    # Bytes that are neither UTF-8 nor Windows-1252 text.
    await upload(slack, "F0BAD2", "latin.csv", b"name\n\x81\x8d\x8f\x90\x9d\n")
    wrong = await answer(slack, 2)
    assert "neither UTF-8 nor Windows-1252" in wrong["text"] and buttons(wrong) == []
    assert await snapshot(engine) == before

    # A formula alone is defused: the name is stored without it, never as a formula.
    await upload(slack, "F0BAD3", "formula.csv", b"name\n=cmd|' /C calc'!A0 Dana\n")
    offer = await answer(slack, 3)
    assert "formula" in offer["text"] and buttons(offer)
    await click(slack, offer, "import_confirm", "F0BAD3")
    await slack.until(lambda: "Imported" in slack.fake.message(dm(slack), offer["ts"])["text"])
    [(name, _, _)] = await contacts(slack)
    assert not name.startswith(("=", "+", "-", "@"))


async def test_another_user_clicking_import_is_refused_and_nothing_changes(
        slack: SlackHarness, engine: AsyncEngine) -> None:
    await seeded(slack)
    await upload(slack, "F0CSV1", "contacts.csv", CSV)
    offer = await answer(slack)
    before = await snapshot(engine)
    status, _ = await click(slack, offer, "import_confirm", "F0CSV1", user=SAM)
    assert status == 200
    await slack.until(lambda: any("Only the person who uploaded" in p.get("text", "")
                                  for p in slack.sink.posts))
    assert await snapshot(engine) == before
    assert len(slack.fake.downloads) == 1  # the dry run's, nothing more
    assert slack.fake.message(dm(slack), offer["ts"]) == offer
    assert slack.fake.calls_to("chat.update") == []


async def test_cancel_updates_the_message_and_imports_nothing(
        slack: SlackHarness, engine: AsyncEngine) -> None:
    await seeded(slack)
    before = await snapshot(engine)
    await upload(slack, "F0CSV1", "contacts.csv", CSV)
    offer = await answer(slack)
    await click(slack, offer, "import_cancel", "F0CSV1")
    await slack.until(lambda: "Import cancelled" in slack.fake.message(dm(slack),
                                                                       offer["ts"])["text"])
    assert buttons(slack.fake.message(dm(slack), offer["ts"]) or {}) == []
    assert await snapshot(engine) == before
    assert len(slack.fake.downloads) == 1


async def test_files_in_channels_from_bots_or_other_workspaces_are_ignored(
        slack: SlackHarness) -> None:
    channel = "C0GENERAL"
    slack.fake.add_channel(channel, team_id=DEFAULT_TEAM_ID, name="general")
    status, _ = await upload(slack, "F0CHAN", "contacts.csv", CSV, channel=channel,
                             channel_type="channel")
    assert status == 200
    bot = slack.fake.tokens["xoxb-test-token"]
    await upload(slack, "F0BOT", "contacts.csv", CSV, user=bot.user_id,
                 extra={"bot_id": bot.bot_id})
    await upload(slack, "F0FOREIGN", "contacts.csv", CSV, extra={"user_team": "T0OTHER"})
    # Plain text in the DM (message.im sends it too) is a command, as in Teams: the first
    # message is welcomed, and "hello" is no command, which the answer says.
    status, _ = await slack.event({"type": "message", "text": "hello", "user": ALEX,
                                   "channel": dm(slack), "channel_type": "im",
                                   "ts": f"{time.time():.6f}"})
    assert status == 200
    welcome, unknown = await answer(slack, 1), await answer(slack, 2)
    assert "private to you" in welcome["text"] and "hello" in unknown["text"]
    # A control upload afterwards proves the listener ran and answers only this one.
    await upload(slack, "F0OK", "contacts.csv", CSV)
    offer = await answer(slack, 3)
    assert buttons(offer)[0] == ("import_confirm", "F0OK")
    assert [f for f, _, _ in slack.fake.downloads] == ["F0OK"]
    assert slack.fake.messages_in(channel) == []
    assert len([m for ch in slack.fake.messages.values() for m in ch if m.get("bot_id")]) == 3


async def test_too_large_or_wrong_type_files_are_refused_without_download(
        slack: SlackHarness) -> None:
    await upload(slack, "F0BIG", "huge.csv", b"name\nDana\n", size=2_000_000)
    big = await answer(slack)
    assert "2.0 MB" in big["text"] and "up to 1 MB" in big["text"] and buttons(big) == []
    await upload(slack, "F0PNG", "photo.png", b"\x89PNG", filetype="png")
    png = await answer(slack, 2)
    assert ".csv or .vcf" in png["text"] and buttons(png) == []
    assert slack.fake.downloads == []
    # A size that lies: the download stops past 1 MB and nothing is kept.
    lying = b"name\n" + b"Dana Scully\n" * 100_000
    await upload(slack, "F0LIE", "lie.csv", lying, size=100)
    lie = await answer(slack, 3)
    assert "larger than 1 MB" in lie["text"] and buttons(lie) == []
    assert await contacts(slack) == []


def test_only_slack_file_hosts_get_the_bot_token() -> None:
    api = "https://slack.com/api/"
    assert imports.allowed_download_url("https://files.slack.com/files-pri/T-F/x.csv", api)
    assert not imports.allowed_download_url("http://files.slack.com/files-pri/T-F/x.csv", api)
    assert not imports.allowed_download_url("https://evil.example/files-pri/T-F/x.csv", api)
    assert imports.allowed_download_url("http://127.0.0.1:5000/files-pri/x",
                                        "http://127.0.0.1:5000/api/")
    assert not imports.allowed_download_url("http://127.0.0.1:5001/files-pri/x",
                                            "http://127.0.0.1:5000/api/")


async def test_a_file_deleted_before_the_click_imports_nothing(slack: SlackHarness) -> None:
    await upload(slack, "F0GONE", "contacts.csv", CSV)
    offer = await answer(slack)
    del slack.fake.files["F0GONE"]
    await click(slack, offer, "import_confirm", "F0GONE")
    await slack.until(lambda: "can't find that file" in slack.fake.message(dm(slack),
                                                                          offer["ts"])["text"])
    assert await contacts(slack) == []
    assert len(slack.fake.downloads) == 1


async def test_a_stub_file_in_the_event_is_looked_up_with_files_info(slack: SlackHarness) -> None:
    slack.fake.add_file("F0STUB", "contacts.csv", CSV, user_id=ALEX, filetype="csv")
    event = {"type": "message", "subtype": "file_share", "text": "", "user": ALEX,
             "channel": dm(slack), "channel_type": "im", "ts": f"{time.time():.6f}",
             "files": [{"id": "F0STUB", "file_access": "check_file_info"},
                       {"id": "F0HIDDEN", "mode": "hidden_by_limit"}]}
    await slack.event(event)
    offer = await answer(slack)
    assert "Would add 2 people" in offer["text"]
    hidden = await answer(slack, 2)
    assert "didn't let me read that file" in hidden["text"]
    assert [c.args["file"] for c in slack.fake.calls_to("files.info")] == ["F0STUB", "F0HIDDEN"]


async def test_typed_import_says_how_to_upload_in_slack(slack: SlackHarness) -> None:
    # The console's `import FILE` names a file on disk; in Slack the file is uploaded.
    status, body = await slack.command("import contacts.csv")
    answer = json.loads(body)
    assert status == 200 and answer["response_type"] == "ephemeral"
    assert answer["text"] == b.fallback(imports.HOW_TO_IMPORT)
    assert "console" not in answer["text"]
    await slack.event(_dm_event(slack, "import contacts.vcf"))
    await slack.until(lambda: len(_texts(slack)) >= 2)
    assert _texts(slack)[-1] == b.fallback(imports.HOW_TO_IMPORT)
    # The help line says so too, not only "(console)".
    _status, body = await slack.command("help import")
    assert "in Slack and Teams, send the file to Rapport" in json.loads(body)["text"]
