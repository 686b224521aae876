"""A table saved as text is imported like a CSV: Excel's "Unicode text" (.txt: UTF-16 with its
mark, tab separated) and a .tsv. A text file that is no table is refused before anything is
read as contacts, saying what a text file must hold."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.platforms.slack import SLACK_KEY
from tests.conftest import snapshot
from tests.slack.conftest import SlackHarness
from tests.slack.test_import_upload import answer, buttons, click, contacts, dm, seeded, upload

UNICODE_TEXT = ("name\tcompany\temail\r\n"
                "Zoë Müller\t\"Acme, Inc.\"\tzoe@acme.example\r\n"
                "Lee Park\tBär\t\r\n").encode("utf-16")


@pytest.fixture(autouse=True)
def quick_home(slack: SlackHarness) -> None:
    """Republish Home right after an import instead of a second later."""
    slack.extra["app"][SLACK_KEY].home.refresh_delay = 0.0
    slack.extra["app"][SLACK_KEY].home.min_interval = 0.0


async def test_excels_unicode_text_saved_as_txt_is_imported(slack: SlackHarness) -> None:
    await upload(slack, "F0UTXT", "Contacts.txt", UNICODE_TEXT, filetype="text")
    offer = await answer(slack)
    assert "Would add 2 people" in offer["text"], offer["text"]
    assert buttons(offer) == [("import_confirm", "F0UTXT"), ("import_cancel", "F0UTXT")]
    await click(slack, offer, "import_confirm", "F0UTXT")
    await slack.until(lambda: "Added" in slack.fake.message(dm(slack), offer["ts"])["text"])
    assert await contacts(slack) == [("Lee Park", None, None),
                                     ("Zoë Müller", "zoe@acme.example", None)]


async def test_a_tsv_is_imported(slack: SlackHarness) -> None:
    data = b"name\temail\nDana Scully\tdana@fbi.example\n"
    await upload(slack, "F0TSV", "people.tsv", data, filetype="tsv")
    assert "Would add 1 person" in (await answer(slack))["text"]


async def test_a_text_file_that_is_no_table_is_refused_saying_what_it_must_hold(
        slack: SlackHarness, engine: AsyncEngine) -> None:
    await seeded(slack)
    before = await snapshot(engine)
    notes = b"Meeting notes\nTalked to Dana about the launch; coffee next week.\n"
    await upload(slack, "F0NOTES", "notes.txt", notes, filetype="text")
    refused = await answer(slack)
    assert refused["text"] == (
        "“notes.txt” doesn't read as a table of contacts, so I left it alone. A text file is "
        "imported when it is a table saved from a spreadsheet (in Excel: Save As “Unicode "
        "Text” or “Text (Tab delimited)”), its first line naming the columns, a name column "
        "among them.")
    assert buttons(refused) == []
    assert await snapshot(engine) == before
