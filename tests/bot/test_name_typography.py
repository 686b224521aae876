"""A name typed with a phone's apostrophe (“O’Brien”), dash (“Smith‐Jones”) or space is the
same person as one typed on a keyboard (“O'Brien”), in every lookup and in either direction."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.commands import PersonRef
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.resolve import did_you_mean
from rapport.storage import db
from rapport.storage.models import Contact, UndoEntry
from rapport.storage.names import name_key
from rapport.storage.queries import ContactName
from tests.bot.processes import run_chat
from tests.conftest import console_user, say

# What phones, macOS, word processors and other keyboards put where a person means ' or -.
APOSTROPHES = ("’", "‘", "ʼ", "′", "‛", "ʹ", "ʻ", "`", "´", "＇")
HYPHENS = ("‐", "‑", "‒", "–", "—", "−", "－")
SPACES = (" ", "\u00a0", "\u202f", "\u2007", "  ", " \u200b")
INVISIBLE = ("\u00ad", "\u200b", "\u2060", "\ufeff", "\u200e")

# Names as a keyboard types them: letters, apostrophes, hyphens and single spaces.
_WORD = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzÀÉÎÕÜçñøßAZ'-"),
                min_size=1, max_size=12)
NAMES = st.lists(_WORD, min_size=1, max_size=4).map(" ".join)


def _typed(name: str, apostrophes: list[str], hyphens: list[str], spaces: list[str]) -> str:
    """`name` with each ', - and space replaced by the next of the given variants."""
    pools = {"'": iter(apostrophes), "-": iter(hyphens), " ": iter(spaces)}
    return "".join(next(pools[ch], ch) if ch in pools else ch for ch in name)


@given(name=NAMES, apostrophes=st.lists(st.sampled_from(APOSTROPHES), max_size=8),
       hyphens=st.lists(st.sampled_from(HYPHENS), max_size=8),
       spaces=st.lists(st.sampled_from(SPACES), max_size=8))
def test_a_typographic_apostrophe_dash_or_space_makes_the_same_key(
        name: str, apostrophes: list[str], hyphens: list[str], spaces: list[str]) -> None:
    assert name_key(_typed(name, apostrophes, hyphens, spaces)) == name_key(name)


@given(name=NAMES, where=st.integers(min_value=0), invisible=st.sampled_from(INVISIBLE))
def test_an_invisible_character_copied_along_with_a_name_changes_nothing(
        name: str, where: int, invisible: str) -> None:
    at = where % (len(name) + 1)
    assert name_key(name[:at] + invisible + name[at:]) == name_key(name)


@given(st.text())
def test_the_key_of_a_key_is_itself_and_accents_compare_however_they_were_encoded(
        text: str) -> None:
    key = name_key(text)
    assert name_key(key) == key
    assert name_key(unicodedata.normalize("NFD", text)) == key
    assert not set(key) & set("".join(APOSTROPHES + HYPHENS + INVISIBLE))


def test_the_examples_people_type() -> None:
    assert name_key("Dana O’Brien") == name_key("dana o'brien") == "dana o'brien"
    assert name_key("Anne‐Marie Smith–Jones") == "anne-marie smith-jones"
    assert name_key("Zoë\u00a0Lee") == name_key("Zoe\u0308 Lee") == "zoe lee"
    assert name_key("José García") == name_key("Jose Garcia") == "jose garcia"
    assert name_key("Björn Ødegård") == "bjorn odegard"
    assert name_key("Łukasz Żak") == "lukasz zak"
    assert name_key("Nguyễn Văn An") == "nguyen van an"
    # Outside Latin a combining mark is part of the spelling: "कि" is not "क".
    assert name_key("किरण") != name_key("करण")


# Latin letters with their accents, and the letter a person types without one.
_ACCENTED = {"é": "e", "è": "e", "ê": "e", "ë": "e", "á": "a", "à": "a", "â": "a", "ä": "a",
             "å": "a", "ã": "a", "í": "i", "ï": "i", "ó": "o", "ö": "o", "ô": "o", "õ": "o",
             "ø": "o", "ú": "u", "ü": "u", "ç": "c", "ñ": "n", "ł": "l", "ż": "z", "ś": "s",
             "ő": "o", "ă": "a", "ș": "s", "ț": "t", "ğ": "g", "ý": "y", "č": "c", "ř": "r"}


@given(name=st.lists(st.text(alphabet=st.sampled_from("abcdeilnorstuyz" + "".join(_ACCENTED)),
                             min_size=1, max_size=10), min_size=1, max_size=3).map(" ".join))
def test_a_name_typed_without_its_accents_is_the_same_person(name: str) -> None:
    plain = "".join(_ACCENTED.get(ch, ch) for ch in name)
    assert name_key(plain) == name_key(name) == name_key(name.upper())


async def test_a_person_saved_with_accents_is_found_without_them(rapport: Rapport) -> None:
    await say(rapport, "add Zoë O'Neil client")
    await say(rapport, "add José García")
    shown = await rapport.handle_text(console_user(), "show Zoe")
    assert shown.ok and shown.text.startswith("Zoë O'Neil: client"), shown.text
    logged = await rapport.handle_text(console_user(), "log jose garcia yesterday: coffee")
    assert logged.ok and "José García" in logged.text, logged.text
    assert "You already keep in touch with Zoë O'Neil" in (
        await rapport.handle_text(console_user(), "add Zoe O'Neil")).text
    # Typographic quotes are ASCII ones: either way "Bob" is a nickname, kept out of the key.
    assert name_key("“Bob” Smith") == name_key('"Bob" Smith') == "smith"
    assert name_key("Bob “Bobby” Smith") == name_key('Bob "Bobby" Smith') == "bob smith"


KNOWN = ("Dana O'Brien", "Lee O'Neil", "D'Arcy Smith", "Ann Smith-Jones", "Dana Scully",
         "Sam D'Souza", "Kim O'Day")


@given(index=st.integers(min_value=0, max_value=len(KNOWN) - 1), drop=st.integers(min_value=0),
       typed=st.sampled_from(APOSTROPHES), stored=st.sampled_from(("'", *APOSTROPHES)))
def test_did_you_mean_offers_the_same_people_with_either_apostrophe(
        index: int, drop: int, typed: str, stored: str) -> None:
    """A misspelt name ("Dana O'Brin") gets the same suggestions whichever apostrophe was
    typed, and whichever the contacts were saved with."""
    name = KNOWN[index]
    at = drop % len(name)
    misspelt = name[:at] + name[at + 1:]
    keyboard = [ContactName(i, known, None) for i, known in enumerate(KNOWN)]
    saved = [ContactName(i, known.replace("'", stored), None) for i, known in enumerate(KNOWN)]

    def offered(text: str, contacts: list[ContactName]) -> list[int]:
        by_name = {c.name: c.id for c in contacts}
        return [by_name[n] for n in did_you_mean(PersonRef(text=text), contacts).suggestions]

    expected = offered(misspelt, keyboard)
    assert offered(misspelt.replace("'", typed), keyboard) == expected
    assert offered(misspelt, saved) == expected
    assert offered(misspelt.replace("'", typed), saved) == expected


@pytest.mark.parametrize(("saved", "typed"), [("'", "’"), ("’", "'"), ("ʼ", "‘")])
async def test_every_lookup_finds_the_person_with_either_apostrophe(
        rapport: Rapport, saved: str, typed: str) -> None:
    def dana(apostrophe: str) -> str:
        return f"Dana O{apostrophe}Brien"

    await say(rapport, f"add {dana(saved)} client")
    await say(rapport, f"add D{saved}Arcy Smith")
    assert "You already keep in touch with" in (
        await rapport.handle_text(console_user(), f"add {dana(typed)}")).text
    assert (await say(rapport, f"show {dana(typed)}")).startswith(f"{dana(saved)}: client")
    assert f"Logged coffee with {dana(saved)}" in await say(
        rapport, f"log {dana(typed)} yesterday: coffee")
    assert "n1" in await say(rapport, f"note {dana(typed)}: hiking in May")
    # A first name with an apostrophe is one indexed lookup too.
    assert (await say(rapport, f"show D{typed}Arcy")).startswith(f"D{saved}Arcy Smith")
    unsure = await rapport.handle_text(console_user(), f"show Dana O{typed}Brian")
    assert not unsure.ok and unsure.text.endswith(f"Did you mean {dana(saved)}?")
    imported = await rapport.handle_import(console_user(), "people.csv",
                                           f"name,company\n{dana(typed)},Acme\n".encode(),
                                           dry_run=False)
    assert imported.text.startswith("Added 0 people, updated 1 "), imported.text
    assert f"{dana(saved)} (client at Acme)" in await say(rapport, "people")
    # Renaming someone to another person's name with the other apostrophe is refused;
    # changing the apostrophe of their own name is a spelling fix, and allowed.
    assert (await rapport.handle_text(console_user(), f"rename D{typed}Arcy Smith to "
                                      f"{dana(typed)}")).text.startswith(
        f"You already have someone called {dana(saved)}.")
    assert await say(rapport, f"rename {dana(saved)} to {dana(typed)}") == \
        f"Renamed {dana(saved)} to {dana(typed)}."
    assert (await say(rapport, f"show {dana(saved)}")).startswith(f"{dana(typed)}: client")


async def test_a_double_barrelled_name_with_any_dash(rapport: Rapport) -> None:
    await say(rapport, "add Ann Smith‐Jones")  # U+2010, what a word processor puts there
    assert (await say(rapport, "show ann smith-jones")).startswith("Ann Smith‐Jones")
    assert (await say(rapport, "show Ann Smith–Jones")).startswith("Ann Smith‐Jones")


async def test_undo_of_a_change_saved_with_an_old_key_restores_a_key_that_is_found(
        rapport: Rapport, engine: AsyncEngine) -> None:
    """A journal entry written before migration 0015 holds the key as it was then
    ("dana o’brien"); undoing it restores a key today's lookups find."""
    await say(rapport, "add Dana O’Brien")
    await say(rapport, "rename Dana O’Brien to Dana Scully")
    async with db.session_factory(engine)() as session, session.begin():
        entry = (await session.execute(select(UndoEntry).order_by(UndoEntry.id.desc())
                                       .limit(1))).scalar_one()
        payload = json.loads(entry.payload or "{}")
        image = payload["updated"]["contacts"][0]
        assert image["name_key"] == "dana o'brien"
        image["name_key"], image["first_key"] = "dana o’brien", "dana"
        await session.execute(update(UndoEntry).where(UndoEntry.id == entry.id)
                              .values(payload=json.dumps(payload)))
    await say(rapport, "undo")
    async with db.session_factory(engine)() as session:
        keys = (await session.execute(select(Contact.name, Contact.name_key))).all()
    assert keys == [("Dana O’Brien", "dana o'brien")]
    assert (await say(rapport, "show Dana O'Brien")).startswith("Dana O’Brien")


async def test_rapport_chat_finds_a_name_typed_with_a_phone_apostrophe(tmp_path: Path) -> None:
    """`rapport chat` as a person runs it: UTF-8 typed at the terminal, answers on stdout."""
    said, _ = await run_chat("add Dana O'Brien", "show Dana O’Brien",
                             "log Dana O’Brien yesterday: coffee", "add Lee O’Neil",
                             "add Lee O'Neil", "show Lee ONeil", "quit",
                             cwd=tmp_path, database=tmp_path / "r.db", TZ="UTC")
    assert "Dana O'Brien: colleague" in said
    assert "Logged coffee with Dana O'Brien (yesterday)." in said
    assert "You already keep in touch with Lee O’Neil." in said
    assert "Did you mean Lee O’Neil?" in said
    assert "I don't know anyone called “Dana O’Brien”" not in said


async def test_a_name_or_tag_whose_key_outgrows_it_is_still_stored(any_engine: AsyncEngine
                                                                   ) -> None:
    """Casefolding lengthens some names ("ﬃ" is "ffi", "ß" is "ss"): the key is cut to its
    column rather than the database refusing it (PostgreSQL checks the length)."""
    rapport = Rapport(sessions=db.session_factory(any_engine))
    long_name = "ﬃ" * 90
    added = await rapport.handle_text(console_user(), f"add {long_name}")
    assert added.ok, added.text
    assert (await rapport.handle_text(console_user(), f"show {long_name}")).ok
    tag = "ß" * 32
    tagged = await rapport.handle_text(console_user(), f"tag {long_name} {tag}")
    assert tagged.ok, tagged.text
    people = await rapport.handle_text(console_user(), f"people #{tag}")
    assert long_name in people.text


async def test_a_last_name_alone_finds_the_one_person_who_has_it(rapport: Rapport) -> None:
    for name in ("Dana Scully", "Lee Park", "Sam Park", "Scully Jones"):
        await say(rapport, f"add {name}")
    assert (await say(rapport, "show Jones")).startswith("Scully Jones: ")
    logged = await say(rapport, "log Scully: coffee")  # a first name comes before a last name
    assert logged == "Logged coffee with Scully Jones."
    asked = await rapport.handle_text(console_user(), "log Park: coffee")
    assert not asked.ok and asked.text == "Which Park do you mean: Lee Park or Sam Park?"
    # Last names compare as names do: without accents, with either apostrophe.
    await say(rapport, "add José García")
    await say(rapport, "add Kim O’Day")
    assert (await say(rapport, "show garcia")).startswith("José García: ")
    assert (await say(rapport, "show O'Day")).startswith("Kim O’Day: ")
