"""Teams imports the files Slack does: a table saved as text (Excel's "Unicode text", a .txt
of UTF-16 with its mark, tab separated; a .tsv), a UTF-16 CSV, and refuses a text file that is
no table, or a file of another type, saying which files it takes. Activity JSON with a file
attachment goes into the running app; the file comes over HTTPS from the local file server of
tests/teams/test_import_upload.py."""

from __future__ import annotations

import pytest

from rapport.bot.platforms.teams.imports import NOT_IMPORTABLE
from tests.conftest import snapshot
from tests.teams.test_import_upload import (
    PERSONAL,
    Harness,
    _buttons,
    _card,
    _preview,
    _texts,
    data_unchanged,
)
from tests.teams.test_import_upload import files as files
from tests.teams.test_import_upload import harness as harness

UNICODE_TEXT = ("name\tcompany\temail\r\n"
                "Zoë Müller\t\"Acme, Inc.\"\tzoe@acme.example\r\n"
                "Lee Park\tBär\t\r\n").encode("utf-16")


async def _imported(h: Harness, name: str, data: bytes) -> list[tuple[str, str | None]]:
    """Send `name`, press Import on its dry run card; the contacts then, by name."""
    message = await _preview(h, name, data)
    status, _ = await h.click(_buttons(_card(message))["Import"],
                              reply_to_id=message.activity_id)
    assert status == 200
    return sorted((c.name, c.company) for c in await h.contacts())


async def test_a_utf16_csv_is_imported(h: Harness) -> None:
    data = "name,company\nRenée Dupont,Café\nLee Park,Bär\n".encode("utf-16")

    message = await _preview(h, "contacts.csv", data)

    assert "Would add 2 people" in _texts(_card(message))
    assert await _imported(h, "contacts.csv", data) == [("Lee Park", "Bär"),
                                                        ("Renée Dupont", "Café")]


async def test_excels_unicode_text_saved_as_txt_is_imported(h: Harness) -> None:
    message = await _preview(h, "Contacts.txt", UNICODE_TEXT)

    assert "Would add 2 people" in _texts(_card(message)), _texts(_card(message))
    assert set(_buttons(_card(message))) == {"Import", "Cancel"}
    assert await _imported(h, "Contacts.txt", UNICODE_TEXT) == [
        ("Lee Park", "Bär"), ("Zoë Müller", "Acme, Inc.")]


async def test_a_tsv_is_imported(h: Harness) -> None:
    data = b"name\temail\tcompany\nDana Scully\tdana@fbi.example\tFBI\n"

    message = await _preview(h, "people.tsv", data)

    assert "Would add 1 person" in _texts(_card(message))
    assert await _imported(h, "people.tsv", data) == [("Dana Scully", "FBI")]


async def test_a_text_file_that_is_no_table_is_refused_saying_what_it_must_hold(
        h: Harness) -> None:
    assert await h.say("help") == 201
    before = await snapshot(h.engine)
    h.connector.reset()

    notes = b"Meeting notes\nTalked to Dana about the launch; coffee next week.\n"
    assert await h.upload("notes.txt", notes) == 201

    [answer] = h.connector.sent_to(PERSONAL)
    assert answer.text == (
        "“notes.txt” doesn't read as a table of contacts, so I left it alone. A text file is "
        "imported when it is a table saved from a spreadsheet (in Excel: Save As “Unicode "
        "Text” or “Text (Tab delimited)”), its first line naming the columns, a name column "
        "among them.")
    assert not answer.body.get("attachments")
    assert await data_unchanged(h, before)


@pytest.mark.parametrize(("name", "file_type"), [("holiday.pdf", None), ("sheet.xlsx", None),
                                                 ("contacts", "docx")])
async def test_other_types_are_refused_naming_the_ones_taken(h: Harness, name: str,
                                                             file_type: str | None) -> None:
    h.connector.reset()

    assert await h.upload(name, b"%PDF-1.7", file_type=file_type) == 201

    [answer] = h.connector.sent_to(PERSONAL)
    assert answer.text == NOT_IMPORTABLE
    for accepted in (".csv", ".vcf", ".txt", ".tsv"):
        assert accepted in answer.text
    assert h.files.requests == []
