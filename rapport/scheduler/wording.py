"""The human sentences nudges are made of. Plain text; platforms add their own formatting."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Literal, NamedTuple

from rapport.scheduler.messenger import NudgeItem
from rapport.scheduler.planner import cadence_text, humanize_days
from rapport.storage.names import TITLES, given_name, name_key

_KEEPS_ITS_OWN_ARTICLE = {
    "the", "a", "an", "her", "his", "their", "my", "our", "your", "its", "how", "what",
    "whether", "when", "where", "why", "who", "which", "that", "this", "these", "those", "if",
}
# Nouns that end in -ing: they take "the" ("the wedding"), unlike "moving to Berlin".
_ING_NOUNS = {"wedding", "meeting", "training", "briefing", "building", "opening", "outing",
              "screening", "housewarming", "evening", "morning", "offering", "reading",
              "hearing", "tasting", "christening", "ceiling", "painting", "recording",
              "booking", "ring", "spring", "thing", "offboarding", "onboarding", "gathering"}
_LINKING_WORDS = {"to", "in", "on", "at", "for", "with", "the", "a", "an", "her", "his", "their",
                  "into", "from", "back", "out", "up"}


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """'1 person', '2 people', '0 notes': a count with the word that agrees with it
    (`plural` defaults to `singular` + "s")."""
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def people_count(items: Iterable[NudgeItem]) -> int:
    """How many different people some nudges are about (one person may have several)."""
    return len({item.contact_id for item in items})


def every_example(contact_name: str) -> str:
    """'“every Dana White 2 weeks”': a suggested command names the person in full, since
    the first name may be two people's."""
    return f"“every {contact_name} 2 weeks”"


# The stored first words (`contacts.first_key`) of names that start with a title
# (`rapport.storage.names.TITLES`, the one list of them).
TITLE_KEYS = frozenset({*TITLES, *(title + "." for title in TITLES)})


def first_name(name: str) -> str:
    """The name to call someone by (`given_name`): "Dr. Jane Doe" is "Jane", nobody is
    greeted "Hi Dr.!" nor "Hi 👩🏽‍💻!"."""
    return given_name(name)


# Words whose period is their own, not the sentence's ("Acme Inc.", "Sam Lee Jr."); an
# initial ("Priya N.") and a dotted abbreviation ("the U.S.") keep theirs too.
_ABBREVIATIONS = frozenset({"inc", "ltd", "llc", "plc", "co", "corp", "bros", "jr", "sr", "dr",
                            "mr", "mrs", "ms", "prof", "st", "mt", "etc", "vs", "approx",
                            "dept"})


def called_name(contact_name: str, others: Iterable[str]) -> str:
    """What a reminder calls someone among the user's other contacts `others`: their first
    name when it is theirs alone, else their full name ("Ask Dana Scully about …" beside Dana
    White), as a rhythm's nudge always does."""
    given = first_name(contact_name)
    key = name_key(given)
    if any(name_key(first_name(other)) == key for other in others):
        return contact_name
    return given


def text_without_period(text: str) -> str:
    """`text` on one line without the period or "!" that ends it, so that it can go on in a
    sentence: "met Priya N." keeps the period of "N.", which is the name's."""
    text = " ".join(text.split())
    bare = text.rstrip(".!")
    if bare != text and text[len(bare)] == "." and _own_period(bare):
        return bare + "."
    return bare


def _own_period(text: str) -> bool:
    """Whether a period after `text` belongs to its last word: an initial, a dotted
    abbreviation or one of `_ABBREVIATIONS`."""
    word = text.rsplit(" ", 1)[-1].lstrip("(\"'“‘")
    if len(word) == 1:
        return word.isupper()
    parts = word.split(".")
    if len(parts) > 1:  # "U.S", "e.g", "Ph.D"; not "example.com"
        return all(part.isalpha() and len(part) <= 2 for part in parts)
    return word.lower() in _ABBREVIATIONS


# Words that start no noun phrase: a note that starts with one says how someone is or what
# they did ("back from paternity leave", "out sick", "recently promoted"), and neither "the"
# nor "Ask Sean about" fits it ("the back from paternity leave"). Prepositions and adverbs,
# adjectives said of a person, subject pronouns and conjunctions.
_STATE_STARTS = frozenset({
    "above", "across", "after", "against", "along", "among", "around", "as", "at", "away",
    "before", "behind", "below", "beside", "besides", "between", "beyond", "by", "despite",
    "down", "during", "except", "for", "from", "in", "inside", "into", "near", "of", "off", "on",
    "onto", "out", "outside", "over", "since", "through", "throughout", "till", "to", "toward",
    "towards", "under", "until", "unlike", "up", "upon", "via", "with", "within", "without",
    "again", "almost", "already", "also", "always", "ever", "finally", "hopefully", "just",
    "lately", "maybe", "mostly", "nearly", "never", "newly", "not", "now", "often", "once",
    "perhaps", "possibly", "probably", "quite", "rather", "really", "recently", "seldom",
    "sometimes", "soon", "still", "then", "too", "very", "yet", "here", "there", "together",
    "abroad", "overseas", "sick", "ill", "unwell", "pregnant", "expecting", "busy", "afraid",
    "alone", "asleep", "awake", "aware", "glad", "happy", "unhappy", "keen", "sad", "upset",
    "proud", "ready", "sorry", "sure", "unsure", "nervous", "anxious", "available",
    "unavailable", "able", "unable", "i", "you", "he", "she", "it", "we", "they", "someone",
    "somebody", "everyone", "everybody", "nobody", "and", "or", "but", "because", "although",
    "though", "while", "unless"})
# Past forms not spelled "-ed" ("met Priya", "ran a marathon"); those that are also common
# nouns ("cut", "shot", "saw", "set", "hit", "read") are left out.
_IRREGULAR_PAST = frozenset({
    "met", "went", "got", "gotten", "had", "did", "made", "took", "came", "gave", "found",
    "told", "said", "ran", "won", "lost", "bought", "brought", "thought", "caught", "taught",
    "sent", "spent", "built", "kept", "slept", "meant", "heard", "held", "paid", "sold",
    "stood", "understood", "wrote", "spoke", "broke", "chose", "drove", "rode", "began",
    "begun", "swam", "sang", "drank", "flew", "grew", "knew", "threw", "wore", "forgot",
    "became", "fell", "felt", "woke", "gone", "done", "seen", "taken", "given", "written",
    "spoken", "broken", "chosen", "driven", "flown", "grown", "known", "been", "fallen",
    "forgotten", "left", "quit", "fled", "fed", "hung", "stuck", "struck", "shook", "tore",
    "sank", "stole", "hid", "lent", "dealt", "learnt", "sought", "fought"})
# Words spelled "-ed" that are no past form ("flower bed", "speed").
_ED_WORDS = frozenset({"bed", "red", "wed", "shed", "sled", "shred", "embed", "hundred",
                       "bloodshed", "watershed", "seabed", "hotbed", "flatbed", "sacred"})
_PAST_EED = frozenset({"agreed", "disagreed", "freed", "guaranteed", "decreed", "refereed"})
# After "back", the words that make it the adverb ("back from leave", "back at work", "back
# next week"); before anything else it is the noun ("the back pain").
_AFTER_BACK = frozenset({
    "from", "to", "at", "on", "in", "into", "with", "for", "after", "since", "by", "and",
    "home", "again", "soon", "now", "today", "tomorrow", "yesterday", "last", "next", "this",
    "the", "a", "an", "her", "his", "their", "my", "our", "monday", "tuesday", "wednesday",
    "thursday", "friday", "saturday", "sunday"})
# Endings of adverbs ("officially", "unexpectedly", "immediately"); not "-ly" alone ("family",
# "assembly", "early retirement").
_ADVERB_ENDINGS = ("ally", "ntly", "ously", "ively", "fully", "edly", "ately", "ingly")


def _past_form(word: str) -> bool:
    """Whether a lowercase word is a past tense or participle ("met", "promoted")."""
    if word in _IRREGULAR_PAST:
        return True
    if len(word) <= 3 or not word.endswith("ed") or word in _ED_WORDS:
        return False
    return not word.endswith("eed") or word in _PAST_EED  # "speed", "proceed"


def _is_state(words: list[str]) -> bool:
    """Whether a note's words say how someone is or what they did ("back from paternity
    leave", "met Priya N.", "recently promoted", "daughter graduated") rather than name a thing
    to ask about ("hiking trip", "back pain"). Conservative: a word it does not know is a
    thing, a capitalised one a name."""
    first = words[0].strip(_PUNCTUATION)
    if first == "I":
        return True  # "I owe her lunch"
    if not first[:1].islower():
        return False
    second = words[1].strip(_PUNCTUATION) if len(words) > 1 else ""
    if first == "back":
        return not second or second.lower() in _AFTER_BACK
    if first in _STATE_STARTS or _past_form(first) \
            or (len(first) > 5 and first.endswith(_ADVERB_ENDINGS)):
        return True
    # A thing and what happened to it: "daughter graduated", "flight delayed".
    return second[:1].islower() and _past_form(second) and first not in _DETERMINERS \
        and first not in _KEEPS_ITS_OWN_ARTICLE


def about_phrase(note_text: str) -> str:
    """'hiking trip in Yosemite' -> 'the hiking trip in Yosemite'; 'her new job', 'moving to
    Berlin' and 'back from paternity leave' stay as they are: "the" only before a thing."""
    text = text_without_period(note_text)
    if not text:
        return "what you noted"
    words = text.split(" ")
    first = words[0]
    second = words[1].lower() if len(words) > 1 else ""
    # "moving to Berlin" reads as it is; "hiking trip" wants "the".
    gerund_phrase = first.endswith("ing") and first.lower() not in _ING_NOUNS and (
        not second or second in _LINKING_WORDS)
    if first.lower() in _KEEPS_ITS_OWN_ARTICLE or not first[:1].islower() or gerund_phrase \
            or _is_state(words):
        return text
    if second and note_form(text)[0] in ("action", "statement"):
        return text  # "send the deck", not "the send the deck"
    return "the " + text


# English names whatever the process's locale; strftime's %a and %b would follow it.
_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                "Dec")


def short_date(day: date | datetime, today: date | None = None) -> str:
    """'Fri Nov 20' (with the year when it is not `today`'s): the one way every message
    writes a day."""
    text = f"{_WEEKDAY_NAMES[day.weekday()]} {_MONTH_NAMES[day.month - 1]} {day.day}"
    if today is not None and day.year != today.year:
        text += f" {day.year}"
    return text


# Notes that say what to do ("call", "send the deck"): the reminder leads with the action and
# puts the contact where the verb wants them: as its one object ("Call Dana", unless another
# one follows: "call the office"), before what is given ("Send Dana the deck"), after its
# preposition ("Talk to Dana about the budget"), after what it is about ("Share the deck with
# Dana"), or nowhere ("get the contract signed" says what to do, not to whom): then the
# reminder says whose note it is, "Get the contract signed (Dana Scully)".
_PERSON, _OBJECT, _AFTER, _OWN = "person", "object", "after", "own"
_ACTIONS: dict[str, str] = {
    "check in": "with", "catch up": "with", "follow up": "with", "reach out": "to",
    "get back": "to", "get in touch": "with", "talk": "to", "write": "to", "speak": "to",
    "chat": "with", "sync": "with", "reply": "to", "respond": "to",
    **dict.fromkeys(("call", "email", "ping", "message", "text", "thank", "congratulate",
                     "invite", "meet", "see", "visit", "introduce", "remind", "update",
                     "brief", "help", "nudge", "chase", "welcome"), _PERSON),
    **dict.fromkeys(("send", "wish", "tell", "give", "show", "lend", "bring", "buy", "offer",
                     "forward"), _OBJECT),
    **dict.fromkeys(("share", "schedule", "plan", "arrange", "set up", "discuss"), _AFTER),
    **dict.fromkeys(("get", "book"), _OWN),
}
# A finite verb makes a note a statement ("wife is expecting", "she got promoted").
_STATEMENT = re.compile(
    r"\b(?:is|are|was|were|has|have|had|will|won't|isn't|aren't|got|gets|started|starts|"
    r"joined|joins|left|leaves|moved|moves|passed|lost|won|became|becomes|broke|bought|"
    r"sold|finished|shipped|launched|announced|returned|retired|quit|married|"
    # What someone is like ("loves sourdough", "plays in a band"): a fact, not a topic.
    r"loves|likes|hates|dislikes|prefers|enjoys|wants|needs|knows|speaks|lives|works|plays|"
    r"runs|owns|collects|drinks|eats|coaches|teaches|studies|follows|supports|does|doesn't|"
    r"can|can't|cannot)\b|'s\s+\w+ing\b",
    re.IGNORECASE)
# What follows "ask" when the question is asked as written ("ask how it went", "ask for a
# coffee", "ask to join the panel").
_QUESTION_WORDS = ("about", "how", "what", "whether", "if", "when", "why", "where", "who",
                   "which", "for", "to")
Form = Literal["ask", "action", "statement", "subject"]
# Words after "her" that show it is the person ("send her the deck"), not "her flight".
_AFTER_HER = ("the", "a", "an", "about", "to", "for", "on", "at", "in", "with", "back", "and",
              "re", "that", "if", "how", "what", "when", "whether", "again", "soon", "up",
              "out", "my", "our", "some", "this", "these", "those")
# Words a verb takes before its object ("review the contract", "lend her the book"): a note
# that starts with an unlisted word and one of these says what to do, it is not a topic.
_OBJECT_STARTS = {"the", "a", "an", "some", "my", "our", "your", "his", "her", "their", "its",
                  "him", "them", "me", "us"}
# Nouns that may open a topic with one of those words after them ("lunch the day after").
_TOPIC_NOUNS = {"lunch", "dinner", "breakfast", "coffee", "drinks", "trip", "party", "offsite",
                "birthday", "holiday", "vacation"}


def note_form(note_text: str) -> tuple[Form, str, str]:
    """How a note reads: (form, the verb it starts with or "", the rest).

    "ask how the offsite went" -> ("ask", "ask", "how the offsite went"); "send the deck" ->
    ("action", "send", "the deck"); "review the contract" -> ("action", "review", "the
    contract"); "wife is expecting" -> ("statement", "", ...); "hiking trip in Yosemite" ->
    ("subject", "", ...).
    """
    text = text_without_period(note_text)
    lowered = text.lower()
    if lowered == "ask" or lowered.startswith("ask "):
        rest = re.sub(r"^(?:him|her|them)\s+", "", text[4:], flags=re.IGNORECASE)
        return "ask", "ask", rest
    for verb in sorted(_ACTIONS, key=len, reverse=True):
        if lowered == verb or lowered.startswith(verb + " "):
            return "action", verb, text[len(verb):].strip()
    first, _, rest = text.partition(" ")
    if _STATEMENT.search(text) and not first.lower().endswith("ing"):
        return "statement", "", text
    if _is_state(text.split(" ")):
        return "statement", "", text  # "back from paternity leave", "met Priya N."
    if first.isalpha() and first.islower() and rest.split(" ", 1)[0] in _OBJECT_STARTS \
            and not first.endswith("ing") and first not in _KEEPS_ITS_OWN_ARTICLE \
            and first not in _TOPIC_NOUNS:
        # "completed the course", "reads the news": a fact about them, said without "she".
        if first.endswith("ed") or (first.endswith("s") and not first.endswith(("ss", "us"))):
            return "statement", "", text
        return "action", first, rest
    return "subject", "", text


# What someone is like, kept to know them by rather than to bring up: "prefers email over
# calls", "vegetarian", "allergic to nuts", "goes by Sam".
_BACKGROUND = re.compile(
    r"^(?:she\s+|he\s+|they\s+)?(?:prefers|likes|loves|hates|dislikes|doesn'?t\s+(?:like|drink|"
    r"eat)|does\s+not\s+(?:like|drink|eat)|never|always|is\s+allergic|allergic|vegetarian|"
    r"vegan|pronouns|goes\s+by|is\s+vegetarian|is\s+vegan)(?=$|[\s,.;:!])", re.IGNORECASE)


def is_background(note_text: str) -> bool:
    """Whether a note tells what the person is like (a preference, a diet, how they are
    called) rather than something to ask about or do."""
    return _BACKGROUND.match(" ".join(note_text.split())) is not None


def reminder(contact_name: str, note_text: str, *, when: str = "",
             called: str | None = None) -> str:
    """What to do about a note, as the start of a sentence: "Ask Dana about the hiking trip
    in Yosemite", "Ask Priya how the offsite went", "Send Lee the deck", "Check in with
    Marco: wife is expecting". `when` ("tomorrow", "Thu Dec 10") goes where it reads right:
    "Call Zoë tomorrow", "Check in with Marco tomorrow: wife is expecting".

    A note that already says who keeps its words and says whose note it is: "Talk to Lee
    about the budget (Dana Scully)"; "her" for the contact becomes the name: "give her the
    book" -> "Give Dana the book". `called` is what to call the contact (default: the first
    name; the full name when another contact has that first name, `called_name`)."""
    parts = _reminder_parts(contact_name, note_text, called)
    after = f" {when}" if when else ""
    said = f"{parts.sentence}{after}" + (f": {parts.fact}" if parts.fact else "")
    return said + (f" ({parts.whose})" if parts.whose else "")


# What a date leaves behind in a note: "in 2 weeks time" (the reminder has its own day),
# a time of day read apart from its day ("call tomorrow evening" is noted "call evening").
_DURATION_TIME = re.compile(
    r"[\s,]*\bin\s+(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|a\s+few|"
    r"a\s+couple\s+of)\s+(?:days?|weeks?|months?|years?)(?:'s|’s|'|’)?\s+time\b",
    re.IGNORECASE)
_TIME_OF_DAY = {"morning": "in the morning", "afternoon": "in the afternoon",
                "evening": "in the evening", "night": "at night", "lunchtime": "at lunchtime",
                "noon": "at noon", "midday": "at midday"}
_PUNCTUATION = ",.;:!?()\"'“”‘’"
_PREPOSITIONS = {"to", "from", "with", "for", "about", "by", "of", "at", "on", "and"}
_NOT_PEOPLE = {"i", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
               "sunday", "january", "february", "march", "april", "may", "june", "july",
               "august", "september", "october", "november", "december"}
_DETERMINERS = {"the", "a", "an", "some", "my", "our", "your", "his", "her", "their", "its",
                "this", "that", "these", "those"}
_GROUPS = {"me", "us", "everyone", "everybody", "the team", "the board", "the group"}


class _Note:
    """A note's words, read for who they name: the contact (by name or as "her"), someone
    else ("Lee", "@sam", "the team"), or no one."""

    def __init__(self, contact_name: str, words: list[str]) -> None:
        self.words = words
        self.full = [part.lower() for part in contact_name.split()]
        self.parts = {part for part in self.full if len(part) > 1}
        self.given = first_name(contact_name).lower()

    def bare(self, index: int) -> str:
        return self.words[index].strip(_PUNCTUATION) if 0 <= index < len(self.words) else ""

    def possessive(self, index: int) -> bool:
        """"Dana's", "Lee’s"."""
        return re.search(r"['’]s$", self.bare(index)) is not None

    def pronoun_at(self, index: int, *, slot: bool) -> bool:
        """Whether the word is "him", "them" or "her" meaning the contact ("give her the
        book", "feedback from her"), not "her flight"; "them" only where a person goes."""
        word = self.bare(index).lower()
        if word == "him":
            return True
        after_preposition = self.bare(index - 1).lower() in _PREPOSITIONS
        if word == "them":
            return slot or after_preposition
        if word != "her":
            return False
        following = self.bare(index + 1)
        return (slot and not following) or after_preposition or not following \
            or self.words[index][-1:] in _PUNCTUATION or following.lower() in _AFTER_HER \
            or following.lower() in _TIME_OF_DAY \
            or (following[:1].isupper() and following.lower() not in self.parts)

    def contact_at(self, index: int, *, slot: bool) -> int:
        """How many words from `index` name the contact (0 when they do not)."""
        size = len(self.full)
        if size > 1 and [self.bare(i).lower() for i in range(index, index + size)] == self.full \
                and not self.possessive(index + size - 1):
            return size
        word = self.bare(index)
        if word.lower() in self.parts and (slot or word[:1].isupper()) \
                and not self.possessive(index):
            return 1
        return 1 if self.pronoun_at(index, slot=slot) else 0

    def someone_else_at(self, index: int) -> bool:
        word = self.bare(index)
        pair = f"{word} {self.bare(index + 1)}".lower()
        if word.lower() in _GROUPS or pair in _GROUPS or word.startswith(("<@", "@")):
            return True
        return word[:1].isupper() and re.fullmatch(r"[^\W\d_][\w'’-]*", word) is not None \
            and word.lower() not in _NOT_PEOPLE and word.lower() not in self.parts \
            and not self.possessive(index)

    def names_contact(self) -> bool:
        """Whether the words name the contact anywhere ("Dana's deck", "feedback from her")."""
        for i in range(len(self.words)):
            word = re.sub(r"['’]s$", "", self.bare(i))
            if (word[:1].isupper() and word.lower() in self.parts) \
                    or self.pronoun_at(i, slot=False):
                return True
        return False

    def with_name(self, name: str) -> str:
        """The words with the first "her"/"him" for the contact replaced by `name`, and the
        contact's first name alone too when `name` is more ("send the deck to Dana" is "… to
        Dana Scully" beside Dana White)."""
        words = list(self.words)
        for i in range(len(words)):
            if self.pronoun_at(i, slot=False):
                word = self.bare(i)
                words[i] = words[i].replace(word, name, 1)
                break
        if len(name.split()) > 1:
            for i in range(len(words)):
                word = self.bare(i)
                if word.lower() == self.given and word[:1].isupper() \
                        and self.contact_at(i, slot=False) == 1:
                    words[i] = words[i].replace(word, name, 1)
        return " ".join(words)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


class _Reminder(NamedTuple):
    """A reminder in its parts: what to do ("Check in with Marco"), the fact it is about
    ("wife is expecting") or "", and whose note it is ("Dana Scully") when the sentence names
    someone else or no one, else ""."""

    sentence: str
    fact: str = ""
    whose: str = ""


def _reminder_parts(contact_name: str, note_text: str, called: str | None = None
                    ) -> _Reminder:
    name = called or first_name(contact_name)
    plain = text_without_period(note_text)
    text = text_without_period(_DURATION_TIME.sub("", plain)) or plain
    form, verb, rest = note_form(text)
    note = _Note(contact_name, text.split(" "))
    if form == "ask":
        words = text.split(" ")[1:]
        asked = _Note(contact_name, words)
        skip = asked.contact_at(0, slot=True)
        if not skip and (asked.someone_else_at(0) or asked.bare(0).lower() in (
                "his", "her", "their")):
            # "ask Lee about the budget": Lee is asked; "ask Lee to call her": Dana is named;
            # "ask her mom": the note's words.
            return _Reminder(_capitalised(note.with_name(name)),
                             whose="" if note.names_contact() else contact_name)
        rest = " ".join(words[skip:])
        if not rest:
            return _Reminder(f"Ask {name} how things are")
        if rest.split(" ", 1)[0].lower() in _QUESTION_WORDS:
            return _Reminder(f"Ask {name} {rest}")
        return _Reminder(f"Ask {name} about {about_phrase(rest)}")
    if form == "statement":
        return _Reminder(f"Check in with {name}", fact=text)
    if form == "subject":
        return _Reminder(f"Ask {name} about {about_phrase(text)}")
    kind = _ACTIONS.get(verb, _OWN)
    if verb == "write" and rest.lower().startswith(("a ", "an ")):
        kind = _OBJECT  # "write a note" -> "Write Dana a note"
    said_verb = _capitalised(text[:len(verb)])
    words = rest.split(" ") if rest else []
    them = _Note(contact_name, words)
    start = 1 if them.bare(0).lower() in ("to", "with") else 0
    skip = them.contact_at(start, slot=True)
    if skip:
        # "call her", "talk to Zoë", "give her the book": the contact, named once by name
        # (with what followed it: "call her, then ...").
        said = name + words[start + skip - 1][len(them.bare(start + skip - 1)):]
        tail = _tail(words[start + skip:])
        prep = words[0] if start else kind if kind in ("to", "with") else ""
        return _Reminder(" ".join(part for part in (said_verb, prep, said, tail) if part))
    first = them.bare(0).lower()
    names_other = them.someone_else_at(0) or (start == 1 and kind in ("to", "with")) or any(
        them.bare(i).lower() == ("with" if kind == _AFTER else "to")
        and them.someone_else_at(i + 1) for i in range(len(words))
        if kind in (_PERSON, _OBJECT, _AFTER) and not (i == 0 and verb == "introduce"))
    if names_other or note.names_contact():
        # "talk to Lee about the budget", "send the deck to Dana": the note's own words.
        return _Reminder(_capitalised(note.with_name(name)),
                         whose="" if note.names_contact() else contact_name)
    if (kind == _PERSON and first in _DETERMINERS) \
            or (kind == _OBJECT and first in ("his", "her", "their")):
        # "call the office", "send her flight details": someone or something else is the
        # object, or "her" may be the contact's or another's: the note's words, and whose.
        return _Reminder(_capitalised(text), whose=contact_name)
    tail = _tail(words)
    if kind in (_PERSON, _OBJECT):
        return _Reminder(" ".join(part for part in (said_verb, name, tail) if part))
    if kind == _AFTER:
        return _Reminder(" ".join(part for part in (said_verb, tail, "with", name) if part))
    if kind == _OWN:
        return _Reminder(_capitalised(text), whose=contact_name)
    return _Reminder(" ".join(part for part in (said_verb, kind, name, tail) if part))


def _tail(words: list[str]) -> str:
    """What follows the contact: the note's words, a lone time of day read as one ("call
    evening" -> "in the evening")."""
    tail = " ".join(words)
    return _TIME_OF_DAY.get(tail.lower(), tail)


def lower_first(text: str) -> str:
    """'Ask Dana about ...' -> 'ask Dana about ...' (to follow "I'll remind you to")."""
    return text[:1].lower() + text[1:]


def follow_up_headline(contact_name: str, note_text: str, noted_on: date, *,
                       called: str | None = None) -> str:
    """'Ask Dana about the hiking trip in Yosemite (you noted it on Fri Nov 20)', 'Talk to Lee
    about the budget (Dana Scully, you noted it on Fri Nov 20)'."""
    parts = _reminder_parts(contact_name, note_text, called)
    said = parts.sentence + (f": {parts.fact}" if parts.fact else "")
    noted = f"you noted it on {short_date(noted_on)}"
    return f"{said} ({parts.whose}, {noted})" if parts.whose else f"{said} ({noted})"


def contact_label(contact_name: str, company: str | None) -> str:
    """'Lee (Acme)' or 'Lee'."""
    return f"{contact_name} ({company})" if company else contact_name


def kind_at(kind: str, company: str | None) -> str:
    """'client at Acme' or 'colleague': who someone is, in one parenthesis with the rest."""
    return f"{kind} at {company}" if company else kind


def who(kind: str, company: str | None, role: str | None) -> str:
    """'VP Sales at Umbrella, client', 'VP Sales, colleague' or 'client at Acme': what someone
    does and where, then how you know them (the card's first line, `add`'s answer)."""
    if not role:
        return kind_at(kind, company)
    return f"{role} at {company}, {kind}" if company else f"{role}, {kind}"


def cadence_headline(contact_name: str, company: str | None, days_since: int | None,
                     cadence_days: int, cadence_months: int | None = None) -> str:
    """'It has been 6 weeks since you talked to Lee (Acme)'."""
    who = contact_label(contact_name, company)
    if days_since is None:
        every = cadence_text(cadence_days, cadence_months)
        return (f"You wanted to keep in touch with {who} every {every}, "
                "and you have not logged a conversation yet")
    return f"It has been {humanize_days(days_since)} since you talked to {who}"


def important_date_headline(contact_name: str, kind: str, on: date, today: date,
                            since_year: int | None = None, *, called: str | None = None
                            ) -> str:
    """"Dana's birthday is on Mon May 4 (in 3 days)"; an anniversary with its year says how
    many years: "Lee's 7th work anniversary is on Mon Mar 1 (in 3 days)". A reminder that
    comes after the day (held by a pause or a snooze) says so: "Lee's birthday was on Tue
    Jan 12 (8 days ago)"."""
    what = "birthday" if kind == "birthday" else "work anniversary"
    if since_year is not None and kind != "birthday" and on.year > since_year:
        what = f"{ordinal(on.year - since_year)} {what}"
    days = (on - today).days
    name = called or first_name(contact_name)
    if days < 0:
        ago = "yesterday" if days == -1 else f"{humanize_days(-days)} ago"
        return f"{name}'s {what} was on {short_date(on, today)} ({ago})"
    when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
    return f"{name}'s {what} is on {short_date(on, today)} ({when})"


def nudge_subject(reason: str, contact_name: str, note_text: str | None,
                  date_kind: str | None, *, called: str | None = None) -> str:
    """Which nudge an answer acted on, after its verb: "the reminder to ask Dana about the
    trip", "the reminder about Dana's birthday", "the reminder to talk to Dana Scully"."""
    if reason == "follow_up" and note_text is not None:
        return f"the reminder to {lower_first(reminder(contact_name, note_text, called=called))}"
    if reason == "date" and date_kind is not None:
        what = "birthday" if date_kind == "birthday" else "work anniversary"
        return f"the reminder about {called or first_name(contact_name)}'s {what}"
    return f"the reminder to talk to {contact_name}"


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(
        number % 10, "th")
    return f"{number}{suffix}"


def last_touch_context(kind: str, happened_on: date, summary: str | None) -> str:
    """'Last time: coffee on Fri Oct 2: talked about Q3'."""
    text = f"Last time: {kind} on {short_date(happened_on)}"
    if summary:
        text += f": {summary}"
    return text


def on_day(day: date, today: date) -> str:
    """'today', 'tomorrow' or 'on Fri Nov 27': a day after a verb ("I'll remind you ...")."""
    text = friendly_day(day, today)
    return text if text in ("today", "tomorrow", "yesterday") else f"on {text}"


def lasting_day(day: date, today: date) -> str:
    """'tomorrow (Fri Dec 4)' or 'Mon Dec 7': a day in an answer that stays in a nudge's
    message after the click, so "tomorrow" must still say which day it was."""
    friendly = friendly_day(day, today)
    return f"{friendly} ({short_date(day, today)})" if friendly in ("today", "tomorrow",
                                                                     "yesterday") else friendly


def friendly_day(day: date, today: date) -> str:
    """'today', 'tomorrow', 'yesterday', or the day as every message writes one: 'Fri Nov 27',
    'Mon Jan 4 2027'."""
    if day == today:
        return "today"
    if day == today + timedelta(days=1):
        return "tomorrow"
    if day == today - timedelta(days=1):
        return "yesterday"
    return short_date(day, today)


# What replaces a delivered message about someone forgotten, by MessageRedaction.reason.
_REDACTED = {
    "person": "This reminder was about someone you asked Rapport to forget.",
    "digest": ("This message named someone you asked Rapport to forget, so it was cleared. "
               "Reminders about the others in it are still in “due”."),
    "brief": ("This meeting brief named someone you asked Rapport to forget, so it was "
              "cleared."),
    "summary": ("This weekly summary named someone you asked Rapport to forget, so it was "
                "cleared. Type “stats” to see how your week went."),
    # Reminders, briefs and summaries alike, so "message".
    "user": "This message was cleared: you asked Rapport to delete everything it stored for you.",
    "workspace": "This message was cleared: your workspace's Rapport data was deleted.",
}


def redacted_text(reason: str) -> str:
    """The neutral text a delivered message is replaced with after a forget or a purge."""
    return _REDACTED.get(reason, _REDACTED["person"])
