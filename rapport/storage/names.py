"""The form names are stored and compared in (`contacts.name_key`, `tags.name_key`).

One function for every place a name is matched: typed commands, imports, renames, people added
from a calendar or a platform directory, and the migration that recomputes stored keys. Phones,
macOS and word processors type "O’Brien" where a keyboard types "O'Brien"; both are one person.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

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


# Titles written before a name ("Dr. Hiro Tanaka", "Sir Ian Wood"), as keys spell them: part
# of how a person is addressed, not of how anyone types their name to find them, nor what
# anyone is called by (`given_name`). The one list: keys, greetings and drafts all read it.
TITLES = frozenset({"dr", "prof", "mr", "mrs", "ms", "mx", "miss", "sir", "dame"})
# A nickname between double quotes inside a name (Chris "CJ" Johnson), once the typographic
# quotes read as ASCII ones.
_NICKNAME = re.compile(r'"([^"]*)"')

# Characters that draw rather than spell (emoji, their skin tones, keycaps and variation
# selectors, a flag's tag characters, ™ and ©): chat profiles carry them ("Pat Doe 🌴",
# "👩🏽‍💻 Zoë Park"), nobody types them to find someone.
_PICTURE_CATEGORIES = frozenset({"So", "Sk", "Me"})


def _is_picture(char: str) -> bool:
    code = ord(char)
    return unicodedata.category(char) in _PICTURE_CATEGORIES or 0xFE00 <= code <= 0xFE0F \
        or 0xE0020 <= code <= 0xE007F or 0xE0100 <= code <= 0xE01EF


def in_emoji(text: str, index: int) -> bool:
    """Whether the invisible `text[index]` holds an emoji together: a zero-width joiner between
    two (👩🏽 + joiner + 💻 is one "technologist"), or a tag character of a subdivision's flag
    (🏴 + tags is Scotland's). Dropping either splits one picture into several."""
    char = text[index]
    if char == "\u200d":
        return 0 < index < len(text) - 1 and _is_picture(text[index - 1]) \
            and unicodedata.category(text[index + 1]) == "So"
    if not 0xE0020 <= ord(char) <= 0xE007F:
        return False
    before = index - 1
    while before >= 0 and 0xE0020 <= ord(text[before]) <= 0xE007F:
        before -= 1
    return before >= 0 and text[before] == "\U0001f3f4"


# Pronouns a chat profile puts after the name ("Pat Doe (she/her)", "(any pronouns)",
# "he/him"): how to speak of them, not part of the name anyone types. Only these are left
# out: a parenthesis Rapport writes to tell two people apart ("Dana Scully (U0DANA)",
# "Hiro Tanaka (2)") must keep their keys apart. Some of these words are names too ("Ella",
# "Em", "El"), so a word alone is never read as pronouns (`_pronouns`).
_PRONOUN_WORDS = frozenset({
    "she", "her", "hers", "he", "him", "his", "they", "them", "their", "theirs", "it", "its",
    "ze", "zie", "zir", "zim", "hir", "xe", "xem", "xir", "ey", "em", "eir", "fae", "faer",
    "any", "all", "pronoun", "pronouns", "ask", "me", "my", "no", "name", "only", "use",
    "il", "lui", "elle", "iel", "ella", "el", "elles", "ils", "sie", "ihr", "er", "ihm"})
_PRONOUN_SPLIT = re.compile(r"[/,:\s]+")
_TRAILING_BRACKETS = re.compile(r"\s*[(\[]([^()\[\]]*)[)\]]\s*$")
# A separator left alone at the end once the pronouns after it are gone ("Pat Doe | she/her").
_TRAILING_SEPARATOR = re.compile(r"\s+[|·•/\\,;:~-]+\s*$")


def _pronouns(text: str) -> bool:
    """Whether `text` is clearly pronouns: pronoun words with a slash between them
    ("she/her", "él/ella"), or said to be ("any pronouns"). "Maria Lopez (Ella)" is a
    nickname as likely, and a nickname kept apart is what tells two people apart."""
    words = [word for word in _PRONOUN_SPLIT.split(text) if word]
    if not words or not all(word in _PRONOUN_WORDS for word in words):
        return False
    return (len(words) > 1 and "/" in text) or "pronouns" in words or "pronoun" in words


def _without_pronouns(folded: str) -> str:
    """`folded` without the pronouns that end it, unless nothing else would remain."""
    text = folded.rstrip()
    while True:
        bracketed = _TRAILING_BRACKETS.search(text)
        if bracketed is not None and _pronouns(bracketed.group(1)):
            shorter = text[:bracketed.start()]
        else:
            head, _space, last = text.rpartition(" ")
            if "/" not in last or not _pronouns(last):
                return text
            shorter = head
        shorter = _TRAILING_SEPARATOR.sub("", shorter).rstrip()
        if not shorter.strip():
            return text
        text = shorter


def _folded(name: str) -> str:
    """`name` with its typography in ASCII, Latin accents dropped, casefolded."""
    # Translated again after NFC, which makes a few of them out of other characters.
    composed = unicodedata.normalize("NFC", name.translate(_ASCII_FORMS))
    return _without_latin_accents(composed.translate(_ASCII_FORMS).casefold()
                                  ).translate(_ASCII_FORMS)


def _spelt(folded: str) -> str:
    """`folded` without its pictures (`_is_picture`), unless it is nothing else."""
    if folded.isascii():
        # The one ASCII picture is "^" ("`", the other, is an apostrophe by now).
        spelt = folded.replace("^", "") if "^" in folded else folded
    else:
        spelt = "".join(char for char in folded if not _is_picture(char))
    return spelt if spelt.strip() else folded


def written_key(name: str, *, limit: int = KEY_CHARS) -> str:
    """The key as it was before titles and nicknames were left out of it (schema 0022 and
    earlier; migration 0023 goes back to it on its way down)."""
    return " ".join(_folded(name).split())[:limit].rstrip()


def _keyed(folded: str, limit: int) -> str:
    """The words of `folded` without a nickname in quotes, and without titles before the name
    when a given name and more remain: "Mr. Smith" and "Mrs. Smith" are two people, so a
    title before one word stays (as "mr smith": typed with or without its dot, the same)."""
    words = (_NICKNAME.sub(" ", folded).split() or folded.replace('"', " ").split()
             or folded.split())
    titles = 0
    while titles < len(words) and words[titles].removesuffix(".") in TITLES:
        titles += 1
    if len(words) - titles >= 2:
        words = words[titles:]
    elif len(words) > 1:
        words = [*(word.removesuffix(".") for word in words[:titles]), *words[titles:]]
    return " ".join(words)[:limit].rstrip()


# The number Rapport writes after a name to tell two people apart ("Hiro Tanaka (2)"):
# kept in the key, whatever before it is left out, or the second is found by no name shown.
_NUMBERED = re.compile(r"\s\((\d+)\)\s*$")


def _numbered_keyed(text: str, limit: int, key_of: Callable[[str, int], str]) -> str:
    """`key_of(text, limit)`, with the numbers that end `text` kept after the key (and kept
    when the key is cut to `limit`, so each number is a key of its own)."""
    numbered = _NUMBERED.search(text)
    if numbered is None or not text[:numbered.start()].strip():
        return key_of(text, limit)
    suffix = f" ({numbered.group(1)})"
    head = _numbered_keyed(text[:numbered.start()], max(limit - len(suffix), 0), key_of)
    return (head + suffix)[-limit:] if len(head + suffix) > limit else head + suffix


def titled_key(name: str, *, limit: int = KEY_CHARS) -> str:
    """The key as it was before pronouns and emoji were left out of it (schemas 0023 and
    0024; migration 0025 goes back to it on its way down). Tags are keyed so still: a tag is
    one word, and "#🌴" and "#🌴🌴" are two tags."""
    return _numbered_keyed(_folded(name), limit, _keyed)


def name_key(name: str, *, limit: int = KEY_CHARS) -> str:
    """The form names are compared in: typographic apostrophes, quotes and dashes as their ASCII
    forms, invisible characters dropped, accents on Latin letters dropped ("Zoë" is "zoe"),
    other scripts composed (NFC), casefolded, single spaces, at most `limit` characters.
    Left out when other words remain: emoji and other pictures, pronouns that end the name,
    a nickname in quotes and titles before the name ("👩🏽‍💻 Dr. Chris “CJ” Johnson
    (he/him)" is "chris johnson"): people find them by the name itself, and the same person
    typed without them is the same person."""
    spelt = _spelt(_folded(name))
    unnicknamed = _NICKNAME.sub(" ", spelt)
    if unnicknamed.split():
        spelt = unnicknamed
    return _numbered_keyed(spelt, limit,
                           lambda text, cut: _keyed(_without_pronouns(text), cut))


def given_name(name: str) -> str:
    """The name to call someone by: the first word of their name past any titles and any
    pictures ("Dr. Jane Doe" and "👩🏽‍💻 Jane Doe" are "Jane"), or the whole name when it
    has one word (a title alone stays)."""
    parts = name.split()
    while len(parts) > 1 and (_folded(parts[0]).rstrip(".") in TITLES
                              or not any(char.isalnum() for char in parts[0])):
        parts = parts[1:]
    if not parts:
        return name
    # "🎉Sam🎉" is greeted "Sam": the pictures around the letters go, as their keys do.
    word = parts[0]
    start, end = 0, len(word)
    while start < end and (_is_picture(word[start]) or word[start] == "\u200d"):
        start += 1
    while end > start and (_is_picture(word[end - 1]) or word[end - 1] == "\u200d"):
        end -= 1
    return word[start:end] or word


def nicknames(name: str, key: str) -> tuple[str, ...]:
    """The keys a person is also known by, from the nickname in their name (`key` is its
    `name_key`): "cj" and "cj johnson" for Chris “CJ” Johnson; none for a name without one."""
    if not any(quote in name for quote in ('"', *_DOUBLE_QUOTES)):
        return ()  # most names: nothing to fold
    said = [nick for nick in (" ".join(found.split())
                              for found in _NICKNAME.findall(_spelt(_folded(name)))) if nick]
    last = key.rpartition(" ")[2]
    return tuple(dict.fromkeys([*said, *(f"{nick} {last}" for nick in said if " " in key)]))


def hyphen_blind(typed: str, key: str) -> bool:
    """Whether the typed key `typed` names the person whose key is `key` when a hyphen and a
    space are the same ("anne marie" for Anne-Marie Smith, "smith jones" for Ann Smith-Jones,
    "jean-luc" for Jean Luc Picard): their whole, first or last name, or (a hyphen typed
    joining words their name spells apart) the words it starts with."""
    if "-" not in key and "-" not in typed:
        return False
    loose, stored = typed.replace("-", " "), key.replace("-", " ")
    words = key.split(" ")
    return loose in (stored, words[0].replace("-", " "), words[-1].replace("-", " ")) or (
        "-" in typed and stored.startswith(loose + " "))


def written_alike(typed: str, name: str, key: str) -> bool:
    """Whether the key `typed` is the whole name of the person called `name` (key `key`)
    written another way: the same words with a hyphen for a space or a space for a hyphen
    ("anne marie smith" for Anne-Marie Smith), or their nickname and last name ("cj johnson"
    for Chris “CJ” Johnson). A title, a nickname in quotes, pronouns and emoji are out of
    keys already; a first or last name alone is someone else's too, so never this."""
    return typed.replace("-", " ") == key.replace("-", " ") or (
        " " in typed and typed in nicknames(name, key))


def tag_key(name: str) -> str:
    """A tag's key: as a name's was in schema 0024 (`titled_key`), cut to the tag key
    column."""
    return titled_key(name, limit=TAG_KEY_CHARS)


def first_word(key: str) -> str:
    """The first word of a name key: "dana scully" -> "dana"."""
    return key.split(" ", 1)[0]


# ------------------------------------------------------------------ accent-blind text search
def _spellings() -> dict[str, str]:
    """Each character of a key ("e") -> every character whose key it is, in both cases
    ("eEèéêëÈÉÊË…"): the Latin letters with their marks, the typographic apostrophes, quotes
    and dashes. Characters whose key is two ("æ" is "ae", "ß" is "ss") are left out: a
    pattern matches one character for one."""
    found: dict[str, set[str]] = {}
    latin = (*range(0x20, 0x250), *range(0x1E00, 0x1F00))
    for char in (*map(chr, latin), *_APOSTROPHES, *_DOUBLE_QUOTES, *_HYPHENS):
        key = name_key(char)
        if len(key) == 1:
            found.setdefault(key, set()).add(char)
    # "-" first: in a bracket it is then the character, not a range (GLOB and regexes alike).
    return {key: "".join(sorted(chars, key=lambda c: (c != "-", c)))
            for key, chars in found.items() if len(chars) > 1}


_SPELLINGS = _spellings()


def _classes(word: str) -> list[str | None]:
    """Per character of the word's key, the characters it matches in stored text as a
    bracket's contents, or None where it matches only itself (then it is `char`)."""
    return [_SPELLINGS.get(char) or (char + char.upper() if char.upper() != char
                                     and len(char.upper()) == 1 else None)
            for char in name_key(word)]


def accent_blind_glob(word: str) -> str:
    """A SQLite GLOB pattern for text that contains `word` however it is accented, cased or
    typed ("cafe" finds "Café", "o'brien" finds "O’Brien"); GLOB is SQLite's own matcher, so
    this costs what LIKE does, where a Python function called per row cost 25 times more."""
    parts = []
    for char, spelled in zip(name_key(word), _classes(word), strict=True):
        if spelled is not None:
            parts.append(f"[{spelled}]")
        else:
            parts.append(f"[{char}]" if char in "*?[]" else char)
    return f"*{''.join(parts)}*"


def accent_blind_regex(word: str) -> str:
    """The same as a PostgreSQL regular expression (the `~` operator)."""
    parts = []
    for char, spelled in zip(name_key(word), _classes(word), strict=True):
        if spelled is not None:
            parts.append(f"[{spelled}]")
        else:
            parts.append(char if char.isalnum() else f"\\{char}")
    return "".join(parts)
