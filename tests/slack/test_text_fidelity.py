"""What people write reaches Slack as they wrote it: a mention inside a note reads as the
person's name everywhere, a contact from a mention gets their real name, `*`, `_` and `~` in
names and notes are not turned into formatting, the Note form's day is bounded like the Log
form's, and quotes inside a new name are kept."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from rapport.bot.platforms.slack import blocks as b
from rapport.storage.models import Contact, Note, Touchpoint
from tests.conftest import snapshot
from tests.slack.conftest import ALEX, SAM, SlackHarness
from tests.slack.test_person import _dana, _submission

# Slack's mrkdwn formats `*x*`, `_x_`, `~x~` and code when the opening character starts a
# word (line start, a space or an opening bracket or quote before it) and the closing one ends
# a word; anything else before it (a letter, an invisible joiner) leaves the characters as
# typed.
_FORMATTED = re.compile(r"(?:^|(?<=[\s(\[{\"'“‘]))([*_~`])(?=\S)(.+?)(?<=\S)\1"
                        r"(?=$|[\s.,;:!?)\]}\"'”’])", re.MULTILINE)
# And it quotes a line that starts with ">", which it receives as "&gt;" (spaces before it or
# not: either way the line must not start with it).
_QUOTED = re.compile(r"^[ \t]*(?:&gt;|>)", re.MULTILINE)


def _mrkdwn_texts(node: Any) -> Iterator[str]:
    """Every mrkdwn text object's text in a block tree."""
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            yield from _mrkdwn_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _mrkdwn_texts(value)


def _formatted_user_text(blocks: list[dict[str, Any]], *typed: str) -> list[str]:
    """The spans Slack would format in `blocks` that come from what the person typed
    (Rapport's own `*bold*` labels are meant)."""
    return [match.group(0) for text in _mrkdwn_texts(blocks)
            for match in _FORMATTED.finditer(text)
            if any(match.group(2) in piece for piece in typed)]


async def test_a_mention_inside_a_note_is_stored_and_shown_as_the_persons_name(
        slack: SlackHarness) -> None:
    _status, body = await slack.command("add Dana Scully")
    if "Working on it" in json.loads(body)["text"]:
        # A loaded machine may answer the newcomer's first command later: Dana must be kept
        # before the note names her.
        await slack.until(lambda: bool(slack.sink.posts))
    answered = len(slack.sink.posts)
    # Sam is not in the cache yet: users.info is asked after the ack.
    status, body = await slack.command(f"note Dana: ask <@{SAM}> about the intro on Friday")
    assert status == 200 and "Working on it" in json.loads(body)["text"]
    await slack.until(lambda: len(slack.sink.posts) > answered)
    answer = slack.sink.posts[-1]["text"]
    assert "ask Dana Scully about ask @Sam Lee about the intro" not in answer
    assert "@Sam Lee" in answer and "<@" not in answer and SAM not in answer, answer
    async with slack.runtime.sessions() as session:
        note = await session.scalar(select(Note))
        contacts = list(await session.scalars(select(Contact.name)))
    # Readable in Teams, the console, nudges, drafts and exports; Sam is no contact for it.
    assert note is not None and note.text == "ask @Sam Lee about the intro"
    assert contacts == ["Dana Scully"]
    _status, body = await slack.command("show Dana")
    shown = json.dumps(json.loads(body)["blocks"], ensure_ascii=False)
    assert "@Sam Lee" in shown and "‹@" not in shown and "&lt;@" not in shown
    # A mention with Slack's own label, and one edited in later, read the same way.
    # A loaded machine may answer either after the ack ("Working on it"): read once stored.
    await slack.command(f"note Dana: <@{SAM}|sam> owes her a call")

    async def note_texts() -> list[str]:
        async with slack.runtime.sessions() as session:
            return list(await session.scalars(select(Note.text).order_by(Note.id)))

    await slack.until(lambda: _count(note_texts(), 2))
    assert (await note_texts())[-1] == "@Sam Lee owes her a call"
    await slack.command(f"edit n{note.id}: intro <@{SAM}> to the board")

    async def edited() -> str | None:
        async with slack.runtime.sessions() as session:
            return await session.scalar(select(Note.text).where(Note.id == note.id))

    await slack.until(lambda: _differs(edited(), "ask @Sam Lee about the intro"))
    assert await edited() == "intro @Sam Lee to the board"


async def _count(texts: Awaitable[list[str]], at_least: int) -> bool:
    return len(await texts) >= at_least


async def _differs(text: Awaitable[str | None], before: str) -> bool:
    return await text != before


async def test_a_mention_inside_what_was_talked_about_is_stored_as_the_persons_name(
        slack: SlackHarness) -> None:
    """`log`, `done` and `edit t7` keep a conversation's summary as notes keep their text:
    "@Sam Lee", never Slack's `<@U…>` token (shown raw by search, Teams and exports)."""
    await slack.command("add Dana Scully every 2 weeks")
    await slack.command(f"log Dana yesterday: talked about <@{SAM}>")
    await slack.until(lambda: bool(slack.sink.posts))

    async def summaries() -> list[str | None]:
        async with slack.runtime.sessions() as session:
            return list(await session.scalars(select(Touchpoint.summary)
                                              .order_by(Touchpoint.id)))

    assert await summaries() == ["talked about @Sam Lee"]
    async with slack.runtime.sessions() as session:
        touchpoint_id = await session.scalar(select(Touchpoint.id))
    await slack.command(f"edit t{touchpoint_id}: intro <@{SAM}|sam> to the board")
    assert await summaries() == ["intro @Sam Lee to the board"]
    _status, body = await slack.command("search board")
    assert "@Sam Lee" in body and "&lt;@" not in body and SAM not in body, body


async def test_a_contact_from_a_mention_takes_the_real_name_not_the_display_name(
        slack: SlackHarness) -> None:
    # Sam's display name is "sam"; his real name is "Sam Lee".
    await slack.command(f"log <@{SAM}> coffee")
    await slack.until(lambda: bool(slack.sink.posts))
    assert slack.sink.posts[-1]["text"].startswith("Logged coffee with Sam Lee.")
    # Someone who never filled in a real name is known by their display name.
    user = slack.fake.add_user("U0KIM", name="kim.w", display_name="Kim W",
                               team_id=slack.team_id)
    user["real_name"] = user["profile"]["real_name"] = ""
    await slack.command("log <@U0KIM> call")
    await slack.until(lambda: len(slack.sink.posts) >= 2)
    async with slack.runtime.sessions() as session:
        names = set(await session.scalars(select(Contact.name)))
    assert names == {"Sam Lee", "Kim W"}


async def test_formatting_characters_in_names_and_notes_are_shown_as_typed(
        slack: SlackHarness) -> None:
    typed = ("Dana_Scully_", "*urgent* and ~maybe~ _soon_")
    _status, body = await slack.command("add Dana_Scully_")
    added = json.loads(body)
    assert "Dana_Scully_" in added["text"]  # the notification text carries no joiners
    _status, body = await slack.command("note Dana_Scully_: *urgent* and ~maybe~ _soon_")
    noted = json.loads(body)["blocks"]
    _status, body = await slack.command("show Dana_Scully_")
    shown = json.loads(body)["blocks"]
    for blocks in (added["blocks"], noted, shown):
        assert _formatted_user_text(blocks, *typed) == [], blocks
    # Still what was typed once the invisible joiners are taken out; Rapport's own bold stays.
    card = "\n".join(_mrkdwn_texts(shown)).replace(b.WORD_JOINER, "")
    assert "*Dana_Scully_*" in card and "*urgent* and ~maybe~ _soon_" in card
    # A name copied from Slack, joiners and all, still finds the person.
    copied = next(text for text in _mrkdwn_texts(shown) if "Scully" in text)
    name = copied.split("\n")[0].strip("*")
    assert b.WORD_JOINER in name
    _status, body = await slack.command(f"log {name} coffee")
    assert json.loads(body)["text"].startswith("Logged coffee with Dana_Scully_")


async def test_backticks_and_a_leading_quote_in_names_and_notes_are_shown_as_typed(
        slack: SlackHarness) -> None:
    await slack.command("add >Dana Scully")
    await slack.command("add `Pat` Kim")
    await slack.command("note `Pat` Kim: run `make test` first")
    _status, body = await slack.command("people")
    listed = json.loads(body)["blocks"]
    _status, body = await slack.command("show `Pat` Kim")
    shown = json.loads(body)["blocks"]
    for blocks in (listed, shown):
        assert _formatted_user_text(blocks, "Pat", "make test") == [], blocks
        assert [text for text in _mrkdwn_texts(blocks) if _QUOTED.search(text)] == [], blocks
    # Still what was typed once the invisible joiners are taken out.
    people = "\n".join(_mrkdwn_texts(listed)).replace(b.WORD_JOINER, "")
    assert "  &gt;Dana Scully (colleague)" in people and "  `Pat` Kim (colleague)" in people
    assert "run `make test` first" in "\n".join(_mrkdwn_texts(shown)).replace(b.WORD_JOINER,
                                                                               "")


async def test_links_and_addresses_in_a_note_keep_their_characters(slack: SlackHarness
                                                                   ) -> None:
    # A word joiner inside a link or an address would break what Slack links and what the
    # person copies out of the card.
    await _dana(slack)
    note = "the plan at https://docs.acme.com/q3_plan_v2 (ask dana_s@acme.com) *soon*"
    await slack.command(f"note Dana: {note}")
    _status, body = await slack.command("show Dana")
    card = "\n".join(_mrkdwn_texts(json.loads(body)["blocks"]))
    assert "https://docs.acme.com/q3_plan_v2" in card and "dana_s@acme.com" in card
    assert f"{b.WORD_JOINER}*soon{b.WORD_JOINER}*" in card


@pytest.mark.parametrize(("picked", "field", "answer"), [
    ("2099-01-01", "follow_up", "That follow-up date is more than ten years away. Pick a day "
                                "within the next ten years."),
    ("2026-11-01", "follow_up", "That follow-up date has already passed."),
    # A person not theirs: about the form as a whole, shown under the text.
    ("2026-12-01", "text", "I can't find that person among yours."),
])
async def test_the_note_form_shows_each_refusal_under_the_field_it_is_about(
        slack: SlackHarness, picked: str, field: str, answer: str) -> None:
    contact_id = await _dana(slack)
    if field == "text":
        contact_id += 1000  # gone, or another user's: the same answer
    before = await snapshot(slack.runtime.engine)
    values = {"text": {"value": {"type": "plain_text_input", "value": "her sabbatical"}},
              "follow_up": {"value": {"type": "datepicker", "selected_date": picked}}}
    status, body = await slack.interaction(_submission(slack, ALEX, b.CALLBACK_PERSON_NOTE,
                                                       contact_id, values))
    reply = json.loads(body)
    assert status == 200 and reply["response_action"] == "errors", reply
    assert reply["errors"] == {field: answer}
    if picked == "2099-01-01":
        # Typed, the same day gets the same answer.
        _status, body = await slack.command("note Dana: her sabbatical on 2099-01-01")
        assert "more than ten years away" in json.loads(body)["text"]
    assert await snapshot(slack.runtime.engine) == before


async def test_quotes_inside_a_new_name_are_kept(slack: SlackHarness) -> None:
    await slack.command("add Dana Scully")
    _status, body = await slack.command("rename Dana to Dana “The Boss” Scully")
    assert json.loads(body)["text"] == "Renamed Dana Scully to Dana “The Boss” Scully."
    # Quotes around the whole name only mark where it starts and ends.
    await slack.command('rename Dana to "Dana O\'Neil"')
    async with slack.runtime.sessions() as session:
        assert await session.scalar(select(Contact.name)) == "Dana O'Neil"
