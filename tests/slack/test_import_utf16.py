"""Contacts files in Excel's Unicode encodings: "Unicode text" (UTF-16 with a byte order mark,
tab separated) and other UTF-16 or UTF-32 text with its mark are read; UTF-16 without the
mark gets an answer that says what to do, not "not a text file"."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.bot.platforms.slack import SLACK_KEY
from tests.slack.conftest import SlackHarness
from tests.slack.test_import_upload import answer, buttons, click, contacts, dm, upload


@pytest.fixture(autouse=True)
def quick_home(slack: SlackHarness) -> None:
    """Republish Home right after an import instead of a second later."""
    slack.extra["app"][SLACK_KEY].home.refresh_delay = 0.0
    slack.extra["app"][SLACK_KEY].home.min_interval = 0.0


async def _imported(slack: SlackHarness, offer: dict[str, Any], file_id: str) -> None:
    await click(slack, offer, "import_confirm", file_id)
    await slack.until(lambda: "Added" in slack.fake.message(dm(slack), offer["ts"])["text"])


async def test_a_utf16_csv_with_its_byte_order_mark_is_imported(slack: SlackHarness) -> None:
    data = "name,company\nZoë Müller,Ünï\n".encode("utf-16")
    assert data.startswith(b"\xff\xfe")
    await upload(slack, "F0U16", "contacts.csv", data, filetype="csv")
    offer = await answer(slack)
    assert "Would add 1 person" in offer["text"], offer["text"]
    assert buttons(offer) == [("import_confirm", "F0U16"), ("import_cancel", "F0U16")]
    await _imported(slack, offer, "F0U16")
    assert await contacts(slack) == [("Zoë Müller", None, None)]


async def test_excels_unicode_text_tab_separated_is_imported(slack: SlackHarness) -> None:
    data = ("name\tcompany\temail\r\n"
            "Zoë Müller\t\"Acme, Inc.\"\tzoe@acme.example\r\n"
            "Lee Park\tBär\t\r\n").encode("utf-16")
    await upload(slack, "F0TXT", "contacts.csv", data, filetype="csv")
    offer = await answer(slack)
    assert "Would add 2 people" in offer["text"], offer["text"]
    await _imported(slack, offer, "F0TXT")
    assert await contacts(slack) == [("Lee Park", None, None),
                                     ("Zoë Müller", "zoe@acme.example", None)]


async def test_big_endian_utf16_and_utf32_with_their_marks_are_read(
        slack: SlackHarness) -> None:
    text = "name,company\nZoë Müller,Ünï\n"
    await upload(slack, "F0BE", "be.csv", b"\xfe\xff" + text.encode("utf-16-be"))
    assert "Would add 1 person" in (await answer(slack, 1))["text"]
    await upload(slack, "F0U32", "u32.csv", text.encode("utf-32"))
    assert "Would add 1 person" in (await answer(slack, 2))["text"]


async def test_utf16_without_its_mark_is_refused_with_what_to_do(slack: SlackHarness) -> None:
    await upload(slack, "F0NOBOM", "contacts.csv", "name\nDana Scully\n".encode("utf-16-le"))
    refused = await answer(slack)
    assert "Nothing was imported" in refused["text"]
    assert "UTF-16" in refused["text"] and "CSV UTF-8" in refused["text"]
    assert "not a text file" not in refused["text"]
    assert buttons(refused) == []
