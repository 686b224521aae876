"""Typed lines read as people mean them: the role after `add`'s comma, `edit`'s tail read as
`log` reads it, stray quotes and @ signs around names, trailing punctuation, dangling
function words, the "James'" possessive, and a semicolon that splits nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core import commands as c
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.verbs import parse_command
from rapport.storage import db
from rapport.storage.models import Contact, Note, Touchpoint
from tests.conftest import console_user, say

TODAY = date(2026, 11, 23)  # a Monday


def parse(text: str) -> c.Command | c.CommandError:
    return parse_command(text, today=TODAY)


def readings(text: str) -> list[str]:
    command = parse(text)
    assert isinstance(command, c.Log), (text, command)
    return [reading.person.text for reading in (command, *command.alternatives)]


# ------------------------------------------------------------------ 1. add <name>, <role>
@pytest.mark.parametrize(("line", "name", "role", "months"), [
    ("add Hiro Tanaka, VP Sales", "Hiro Tanaka", "VP Sales", None),
    ("add Ann Lee, CTO", "Ann Lee", "CTO", None),
    ("add Di Ng, CTO, monthly", "Di Ng", "CTO", 1),
    ("add Jo Kim, senior engineer, client", "Jo Kim", "senior engineer", None),
    ("add Tomás Reyes, Head of Design", "Tomás Reyes", "Head of Design", None),
    ("add Jo Kim, frontend developer", "Jo Kim", "frontend developer", None),
])
def test_the_words_after_the_comma_are_the_role(line: str, name: str, role: str,
                                                 months: int | None) -> None:
    command = parse(line)
    assert isinstance(command, c.AddContact), command
    assert (command.person.text, command.role, command.note, command.cadence_months) == (
        name, role, None, months)


@pytest.mark.parametrize(("line", "note"), [
    ("add Al Bo, likes hiking", "likes hiking"),
    ("add Noor Haddad, met at KubeCon", "met at KubeCon"),
    ("add Di Ng, CTO, loves dogs", "loves dogs"),
    ("add Jo Kim, Initech", "Initech"),
])
def test_a_remark_after_the_comma_stays_a_note(line: str, note: str) -> None:
    command = parse(line)
    assert isinstance(command, c.AddContact), command
    assert command.note == note
    assert command.role == ("CTO" if "CTO" in line else None)


async def test_a_role_after_the_comma_is_on_the_card_not_asked_about(
        rapport: Rapport, engine: AsyncEngine) -> None:
    added = await say(rapport, "add Hiro Tanaka, VP Sales")
    assert added.startswith("Added Hiro Tanaka (VP Sales, colleague).")
    assert "note" not in added
    card = await say(rapport, "show Hiro")
    assert card.startswith("Hiro Tanaka: VP Sales, colleague")
    assert "Ask about first" not in card
    async with db.session_factory(engine)() as session:
        assert (await session.scalar(select(Contact.role))) == "VP Sales"
        assert (await session.scalars(select(Note.text))).all() == []


# ------------------------------------------------------------------ 2. edit reads as log
def test_edit_reads_the_kind_then_the_summary_after_its_colon() -> None:
    yesterday = TODAY - timedelta(days=1)
    assert parse("edit t1: call") == c.EditTouch(1, kind="call")
    assert parse("edit t1 yesterday: call") == c.EditTouch(1, day=yesterday, kind="call")
    assert parse("edit t1: call about Q3") == c.EditTouch(1, kind="call", summary="about Q3")
    assert parse("edit t1: coffee, her new team") == c.EditTouch(
        1, kind="coffee", summary="her new team")
    assert parse("edit t1: the Q3 plan") == c.EditTouch(1, summary="the Q3 plan")
    # A kind said before the colon leaves the whole tail to the summary, as with `log`.
    assert parse("edit t7 yesterday call: coffee budget") == c.EditTouch(
        7, day=yesterday, kind="call", summary="coffee budget")
    assert parse("edit my last conversation with Lee: call about Q3") == c.EditNewest(
        c.EditTouch(0, kind="call", summary="about Q3"), c.PersonRef(text="Lee"))


async def test_edit_changes_the_kind_and_keeps_what_was_not_said(
        rapport: Rapport, engine: AsyncEngine) -> None:
    await say(rapport, "add Lee Park")
    await say(rapport, "log Lee: coffee, her new team")
    assert await say(rapport, "edit t1: call") == \
        "Changed t1: call with Lee Park (today): her new team."
    await say(rapport, "edit my last conversation with Lee: video about Q3")
    async with db.session_factory(engine)() as session:
        row = (await session.execute(select(Touchpoint.kind, Touchpoint.summary))).one()
    assert tuple(row) == ("video", "about Q3")


# ------------------------------------------------------------------ 3. an unclosed quote
def test_an_opening_quote_without_its_close_cuts_no_letter() -> None:
    added = parse('add "Dana')
    assert isinstance(added, c.AddContact) and added.person.text == "Dana"
    assert "Dana Scully" in readings('log "Dana Scully yesterday')
    assert "Dan" not in readings('log "Dana Scully yesterday')
    assert "Dana" in readings("log “Dana yesterday")
    # A closed quote still marks the whole name.
    quoted = parse('add "Dana Scully" client')
    assert isinstance(quoted, c.AddContact) and quoted.person.text == "Dana Scully"


async def test_a_log_with_an_unclosed_quote_finds_the_person(rapport: Rapport) -> None:
    await say(rapport, "add Dana Scully")
    assert await say(rapport, 'log "Dana Scully yesterday') == \
        "Logged chat with Dana Scully (yesterday)."


# ------------------------------------------------------------------ 4. a typed @
@pytest.mark.parametrize(("line", "name"), [
    ("add @Lee Park", "Lee Park"), ("add @dana", "dana"),
    ("add @Lee Park client at Acme", "Lee Park"), ("add @Lee Park, CTO", "Lee Park"),
])
def test_a_typed_at_sign_is_no_part_of_a_name(line: str, name: str) -> None:
    command = parse(line)
    assert isinstance(command, c.AddContact), command
    assert command.person == c.PersonRef(text=name)


def test_a_typed_at_sign_is_dropped_wherever_a_person_is_named() -> None:
    assert "Lee Park" in readings("log @Lee Park yesterday")
    assert "@Lee Park" not in readings("log @Lee Park yesterday")
    shown = parse("show @Lee Park")
    assert isinstance(shown, c.ShowPerson) and shown.person.text == "Lee Park"


# ------------------------------------------------------------------ 5. trailing punctuation
def test_forget_me_with_a_full_stop() -> None:
    assert parse("forget me.") == c.Forget(None, False)
    assert parse("forget me!") == c.Forget(None, False)
    assert parse("forget me confirm.") == c.Forget(None, True)


async def test_forget_me_with_a_full_stop_asks_first(rapport: Rapport) -> None:
    reply = await rapport.handle_text(console_user(), "forget me.")
    assert "me." not in reply.text
    assert "forget me confirm" in reply.text


# ------------------------------------------------------------------ 6. dangling words
@pytest.mark.parametrize("line", ["log Dana for", "log Dana to", "log Dana every",
                                  "log Dana yesterday for", "talked to Dana about",
                                  "log Dana Scully with"])
def test_a_dangling_function_word_is_no_kind(line: str) -> None:
    command = parse(line)
    assert isinstance(command, c.CommandError), command
    assert "Nothing was logged" in command.message


def test_a_kind_of_ones_own_still_reads() -> None:
    command = parse("log Dana pairing")
    assert isinstance(command, c.Log) and command.kind == "pairing"
    command = parse("log Dana yesterday pairing")
    assert isinstance(command, c.Log) and command.kind == "pairing"


def test_edit_takes_no_function_word_for_a_kind() -> None:
    assert isinstance(parse("edit t1 for"), c.CommandError)
    assert parse("edit t1 pairing") == c.EditTouch(1, kind="pairing")


async def test_a_dangling_word_stores_nothing(rapport: Rapport, engine: AsyncEngine) -> None:
    await say(rapport, "add Dana Scully")
    for line in ("log Dana for", "log Dana to", "log Dana every"):
        reply = await rapport.handle_text(console_user(), line)
        assert not reply.ok, (line, reply.text)
    async with db.session_factory(engine)() as session:
        assert (await session.scalars(select(Touchpoint.kind))).all() == []


# ------------------------------------------------------------------ 7. "James'"
def test_a_possessive_after_an_s_is_read_as_any_other() -> None:
    assert parse("James' birthday is May 4") == c.SetDate(
        c.PersonRef(text="James"), "birthday", 5, 4)
    assert parse("James’ birthday is May 4") == c.SetDate(
        c.PersonRef(text="James"), "birthday", 5, 4)
    assert parse("set James' company Acme") == c.SetField(
        c.PersonRef(text="James"), "company", "Acme")
    assert parse("James' email is james@acme.com") == c.SetField(
        c.PersonRef(text="James"), "email", "james@acme.com")
    assert parse("change James' company to Initech") == c.SetField(
        c.PersonRef(text="James"), "company", "Initech")
    shown = parse("what's James' email?")
    assert isinstance(shown, c.ShowPerson) and shown.person.text == "James"


async def test_james_birthday_is_kept(rapport: Rapport) -> None:
    await say(rapport, "add James Holden")
    answer = await say(rapport, "James' birthday is May 4")
    assert answer == "I'll remind you of James's birthday (Tue May 4 2027) a few days before."


# ------------------------------------------------------------------ 8. a semicolon
@pytest.mark.parametrize("line", ["add Robert'); DROP TABLE contacts;--",
                                  "add Dana Scully; met at KubeCon"])
def test_a_semicolon_splits_no_name_from_a_note(line: str) -> None:
    command = parse(line)
    assert isinstance(command, c.CommandError), command
    assert "whole name" in command.message


async def test_a_semicolon_in_a_name_stores_nothing(rapport: Rapport,
                                                    engine: AsyncEngine) -> None:
    reply = await rapport.handle_text(console_user(), "add Robert'); DROP TABLE contacts;--")
    assert not reply.ok
    async with db.session_factory(engine)() as session:
        assert (await session.scalars(select(Contact.name))).all() == []
        assert (await session.scalars(select(Note.text))).all() == []
