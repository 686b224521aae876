"""The form names are stored and compared in (`contacts.name_key`, `tags.name_key`).

One function for every place a name is matched: typed commands, imports, renames, people added
from a calendar or a platform directory, and the migration that recomputes stored keys. Phones,
macOS and word processors type "O’Brien" where a keyboard types "O'Brien"; both are one person.
"""

from __future__ import annotations

import unicodedata

# Characters people type (or their software substitutes) for an ASCII one in a name.
_APOSTROPHES = (
    "\u2018"  # ‘ left single quotation mark
    "\u2019"  # ’ right single quotation mark (the smart apostrophe)
    "\u201a"  # ‚ single low-9 quotation mark
    "\u201b"  # ‛ single high-reversed-9 quotation mark
    "\u2032"  # ′ prime
    "\u2035"  # ‵ reversed prime
    "\u02b9"  # ʹ modifier letter prime
    "\u02bb"  # ʻ modifier letter turned comma (ʻokina, typed as ' by most)
    "\u02bc"  # ʼ modifier letter apostrophe
    "\u02bd"  # ʽ modifier letter reversed comma
    "\u0060"  # ` grave accent (a keyboard's other apostrophe)
    "\u00b4"  # ´ acute accent (the apostrophe of many European keyboards)
    "\uff07"  # ＇ fullwidth apostrophe
)
_DOUBLE_QUOTES = (
    "\u201c"  # “
    "\u201d"  # ”
    "\u201e"  # „
    "\u201f"  # ‟
    "\u2033"  # ″ double prime
    "\u2036"  # ‶ reversed double prime
    "\uff02"  # ＂ fullwidth quotation mark
)
_HYPHENS = (
    "\u2010"  # ‐ hyphen
    "\u2011"  # ‑ non-breaking hyphen
    "\u2012"  # ‒ figure dash
    "\u2013"  # – en dash
    "\u2014"  # — em dash
    "\u2015"  # ― horizontal bar
    "\u2212"  # − minus sign
    "\ufe58"  # ﹘ small em dash
    "\ufe63"  # ﹣ small hyphen-minus
    "\uff0d"  # － fullwidth hyphen-minus
)
# Invisible characters that copying a name from a web page or a document brings along (the
# grammar drops them from typed lines too): soft hyphen, zero-width space, joiners, direction
# marks and embeddings, the byte order mark. Other spaces (no-break, narrow, figure, ideographic)
# are whitespace to str.split() already.
_INVISIBLE = ("\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
              "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff")
_ASCII_FORMS = str.maketrans({**dict.fromkeys(_APOSTROPHES, "'"),
                              **dict.fromkeys(_DOUBLE_QUOTES, '"'),
                              **dict.fromkeys(_HYPHENS, "-"),
                              **dict.fromkeys(_INVISIBLE, None)})


# Latin letters that carry their mark inside (no combining accent to drop), as people type
# them without it: "Bjorn" for "Bjørn", "Lukasz" for "Łukasz".
_LATIN_PLAIN = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "ħ": "h", "ı": "i",
                              "æ": "ae", "œ": "oe", "ŧ": "t", "ŀ": "l"})


def _is_latin(char: str) -> bool:
    """Basic Latin, Latin-1, Latin Extended-A/B and Latin Extended Additional letters."""
    code = ord(char)
    return code <= 0x024F or 0x1E00 <= code <= 0x1EFF


def _without_latin_accents(text: str) -> str:
    """'zoë' -> 'zoe', 'josé' -> 'jose': people type names without their accents as often
    as with. Only marks on Latin letters go; in other scripts (Devanagari, Thai, Arabic…) a
    combining mark is part of the spelling and stays."""
    kept: list[str] = []
    base_is_latin = False
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char):
            if not base_is_latin:
                kept.append(char)
            continue
        base_is_latin = _is_latin(char)
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept)).translate(_LATIN_PLAIN)


# The key columns' lengths (contacts.name_key, tags.name_key): casefolding can make a key
# longer than its name ("ﬃ" is "ffi", "ß" is "ss"), so a key is cut to fit rather than fail
# to store; two names alike for that long are one person to every lookup anyway.
KEY_CHARS = 200
TAG_KEY_CHARS = 40


def name_key(name: str, *, limit: int = KEY_CHARS) -> str:
    """The form names are compared in: typographic apostrophes, quotes and dashes as their ASCII
    forms, invisible characters dropped, accents on Latin letters dropped ("Zoë" is "zoe"),
    other scripts composed (NFC), casefolded, single spaces, at most `limit` characters."""
    # Translated again after NFC, which makes a few of them out of other characters.
    composed = unicodedata.normalize("NFC", name.translate(_ASCII_FORMS))
    folded = _without_latin_accents(composed.translate(_ASCII_FORMS).casefold())
    return " ".join(folded.translate(_ASCII_FORMS).split())[:limit].rstrip()


def tag_key(name: str) -> str:
    """A tag's key: as a name's, cut to the tag key column."""
    return name_key(name, limit=TAG_KEY_CHARS)


def first_word(key: str) -> str:
    """The first word of a name key: "dana scully" -> "dana"."""
    return key.split(" ", 1)[0]
