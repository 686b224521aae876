"""Block Kit rendering stays inside Slack's limits however long the content gets."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from rapport.bot.core.views import Attachment, DueView, FileView, Reply, RowStatus
from rapport.bot.platforms.slack import blocks as b
from rapport.bot.platforms.slack.nudge_buttons import redrawn_digest
from rapport.scheduler.messenger import NudgeItem, OutgoingMessage, Recipient


def _items(count: int) -> tuple[NudgeItem, ...]:
    return tuple(NudgeItem(nudge_id=i, contact_id=i, contact_name=f"Person {i}", reason="cadence",
                           headline=f"Talk to Person {i} <!channel>", context="x" * 2500)
                 for i in range(1, count + 1))


def _recipient() -> Recipient:
    return Recipient(workspace_id=1, workspace_external_id="T0", platform="slack", user_id=1,
                     user_external_id="U0ALEX", display_name="Alex", tz="UTC")


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=7000),
       limit=st.sampled_from([b.MAX_SECTION_TEXT, 40, 1]))
def test_text_sections_are_exactly_what_slack_sdk_builds_and_pass_its_checks(
        text: str, limit: int) -> None:
    """Text sections skip slack_sdk's slow validation: their dicts must be the same as a
    validated SectionBlock's, and pass the same checks, for any text."""
    for section in b.text_sections(text, limit=limit):
        chunk = section.to_dict()["text"]["text"]
        assert 0 < len(chunk) <= limit and chunk.strip()
        validated = SectionBlock(text=MarkdownTextObject(text=chunk))
        assert section.to_dict() == validated.to_dict()  # to_dict validates, or raises
        SectionBlock.validate_json(section)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("ab *_~`>&<@:/.w\n\t\u2060é"), max_size=80)
       | st.text(max_size=200))
def test_escape_s_shortcut_gives_what_escaping_every_word_gives(text: str) -> None:
    """`escape` skips the per-word passes when nothing in the text needs them: for any text
    the result is the same as with them."""
    assert b.escape(text) == b._escape_every_word(text)


def test_long_text_splits_into_sections_and_pages() -> None:
    text = "\n".join(f"line {i} " + "y" * 500 for i in range(400))
    rendered = b.reply_pages(Reply(text))
    assert len(rendered.pages) > 1
    assert all(len(page) <= b.MAX_MESSAGE_BLOCKS for page in rendered.pages)
    sections = [block["text"]["text"] for page in rendered.pages for block in page]
    assert all(len(s) <= b.MAX_SECTION_TEXT for s in sections)
    assert "line 0 " in sections[0] and "line 399 " in sections[-1]


def test_a_single_huge_line_is_cut_into_sections() -> None:
    [page] = b.reply_pages(Reply("z" * 7000)).pages
    assert [len(block["text"]["text"]) for block in page] == [3000, 3000, 1000]


def test_digest_of_many_people_fits_one_message_and_says_how_many_more() -> None:
    message = OutgoingMessage(recipient=_recipient(), kind="digest", items=_items(40))
    text, blocks = b.outgoing_blocks(message)
    rendered = b.to_dicts(blocks)
    assert len(rendered) <= b.MAX_MESSAGE_BLOCKS
    assert "40 people" in text
    assert "more" in rendered[-1]["elements"][0]["text"]
    # Mentions in names are shown, never executed.
    assert "<!channel>" not in str(rendered) and "&lt;!channel&gt;" in str(rendered)


def test_home_view_stays_within_100_blocks() -> None:
    people = "\n".join(f"Person {i} " + "p" * 200 for i in range(2000))
    view = b.home_view(b.HomeContent(due=_items(80), coming_up="Talk to Dana tomorrow",
                                     people=people, stats_text="3 conversations"))
    assert len(view["blocks"]) <= b.MAX_VIEW_BLOCKS
    text = str(view["blocks"])
    assert "open_settings" in text and "How is it going?" in text and "more people" in text


def test_outcome_replaces_only_the_clicked_nudges_buttons() -> None:
    message = OutgoingMessage(recipient=_recipient(), kind="digest", items=_items(2))
    _text, blocks = b.outgoing_blocks(message)
    out = {nudge_id: RowStatus("sent", nudge_id, "cadence") for nudge_id in (1, 2)}
    updated = redrawn_digest(b.to_dicts(blocks), 1, "Done: logged a chat with Person 1.", out)
    ids = [block.get("block_id") for block in updated]
    assert "nudge_1" not in ids and "nudge_outcome_1" in ids and "nudge_2" in ids


def test_export_attachment_is_shown_as_text_within_limits() -> None:
    data = ("{" + "\"k\": \"v\"," * 2000 + "}").encode()
    rendered = b.reply_pages(Reply("Here is everything.", view=FileView(Attachment(
        "rapport-export.json", "application/json", data))))
    blocks = [block for page in rendered.pages for block in page]
    assert all(len(block["text"]["text"]) <= b.MAX_SECTION_TEXT for block in blocks)
    assert sum(block["text"]["text"].count("&quot;k") + block["text"]["text"].count('"k')
               for block in blocks) == 2000


def _nudge_cards(pages: list[list[dict[str, object]]]) -> list[list[str]]:
    """Each page's blocks as the nudge ids they belong to, by kind (text, context, buttons)."""
    shown: list[list[str]] = []
    for page in pages:
        row: list[str] = []
        card = ""
        for block in page:
            block_id = str(block.get("block_id") or "")
            if block_id.startswith("nudge_text_"):
                card = block_id.removeprefix("nudge_text_")
                row.append(f"text {card}")
            elif block["type"] == "context" and card:
                row.append(f"context {card}")
            elif block_id.startswith("nudge_"):
                row.append(f"buttons {block_id.removeprefix('nudge_')}")
        shown.append(row)
    return shown


def test_due_pages_break_between_nudge_cards_never_inside_one() -> None:
    # 30 cards of 3 blocks with a divider between: the 50th block was card 13's headline,
    # its context line and buttons the next message's first blocks.
    view = DueView(nudges=_items(30), overdue=(), coming=(), today=date(2026, 11, 30))
    pages = b.reply_pages(Reply("30 people to reach out to", view=view)).pages
    assert len(pages) == 3
    assert all(len(page) <= b.MAX_MESSAGE_BLOCKS for page in pages)
    for page in _nudge_cards(pages):
        # Every card on a page is whole: its headline, context line and buttons.
        cards = [entry.split()[1] for entry in page if entry.startswith("text")]
        assert page == [f"{kind} {card}" for card in cards
                        for kind in ("text", "context", "buttons")], page
    assert [[entry for entry in page if entry.startswith("text")]
            for page in _nudge_cards(pages)] == [[f"text {i}" for i in range(first, last)]
                                                 for first, last in ((1, 13), (13, 25),
                                                                     (25, 31))]
    # The next message opens with a card, not with the divider that separated two.
    assert [page[0].get("block_id") for page in pages[1:]] == ["nudge_text_13", "nudge_text_25"]
