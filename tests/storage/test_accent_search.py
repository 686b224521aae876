"""Search is blind to accents, case and typographic apostrophes and dashes, in SQL: the
patterns `names.accent_blind_glob` (SQLite) and `accent_blind_regex` (PostgreSQL) build."""

from __future__ import annotations

import re
import sqlite3
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.storage.names import accent_blind_glob, accent_blind_regex, name_key


def _globbed(text: str, word: str) -> bool:
    with sqlite3.connect(":memory:") as connection:
        return bool(connection.execute("SELECT ? GLOB ?",
                                       (text, accent_blind_glob(word))).fetchone()[0])


@pytest.mark.parametrize("text, word", [
    ("Lunch at the Café Central", "cafe"),
    ("lunch at the cafe central", "café"),
    ("CAFÉ", "Cafe"),
    ("Zoë’s offsite", "zoe's"),
    ("met O'Brien", "o’brien"),
    ("the Q3–plan", "q3-plan"),
    ("Łukasz moved to Kraków", "lukasz"),
    ("Łukasz moved to Kraków", "krakow"),
    ("Встреча с Дмитрием", "дмитрием"),
    ("50% off [draft]", "[draft]"),
    ("what? *really*", "*really*"),
])
def test_a_word_finds_its_accented_cased_and_typographic_spellings(text: str,
                                                                     word: str) -> None:
    assert _globbed(text, word)
    assert re.search(accent_blind_regex(word), text), accent_blind_regex(word)


@pytest.mark.parametrize("text, word", [
    ("cafeteria", "cafes"),
    ("draft", "[draft]"),
    ("really", "*really*"),
    ("abc", "a?c"),
    ("renewal", "renewals"),
])
def test_pattern_characters_in_a_word_match_only_themselves(text: str, word: str) -> None:
    assert not _globbed(text, word)
    assert not re.search(accent_blind_regex(word), text)


# Letters whose key is one letter (not "æ", "ß"), composed as people's keyboards send them.
_LETTERS = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "àáâãäåçèéêëìíîïñòóôõöøùúûüýÿÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝ"
                                "ąćęłńśźżĄĆĘŁŃŚŹŻčďěňřšťůžČĎĚŇŘŠŤŮŽ 0123456789'’-–.,!?"))


@given(text=st.text(_LETTERS, min_size=1, max_size=30), data=st.data())
def test_every_part_of_a_text_finds_it_however_it_is_typed(text: str,
                                                           data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    words = text[start:end].split()
    if not words:
        return  # a search has words, never only spaces
    part = data.draw(st.sampled_from(words))
    word = data.draw(st.sampled_from([part, part.upper(), part.lower(), name_key(part)]))
    assert _globbed(text, word)
    assert re.search(accent_blind_regex(word), text)


@given(text=st.text(_LETTERS, max_size=30),
       word=st.text(_LETTERS, min_size=1, max_size=6).filter(lambda w: " " not in w))
def test_a_match_is_the_word_in_the_text_as_names_compare(text: str, word: str) -> None:
    expected = name_key(word) in _one_to_one_key(text)
    assert _globbed(text, word) == expected
    assert bool(re.search(accent_blind_regex(word), text)) == expected


def _one_to_one_key(text: str) -> str:
    """The text's key character by character (no spaces collapsed), as the patterns read it."""
    return "".join(name_key(char) if char.strip() else char for char in
                   unicodedata.normalize("NFC", text))
