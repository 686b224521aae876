"""The human sentences nudges are made of. Plain text; platforms add their own formatting."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Literal

from rapport.scheduler.messenger import NudgeItem
from rapport.scheduler.planner import cadence_text, humanize_days

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


def first_name(name: str) -> str:
    """The first word of a name, or the whole name when it has one word."""
    parts = name.split()
    return parts[0] if parts else name


def about_phrase(note_text: str) -> str:
    """'hiking trip in Yosemite' -> 'the hiking trip in Yosemite'; 'her new job' stays."""
    text = " ".join(note_text.split()).rstrip(".!")
    if not text:
        return "what you noted"
    words = text.split(" ")
    first = words[0]
    second = words[1].lower() if len(words) > 1 else ""
    # "moving to Berlin" reads as it is; "hiking trip" wants "the".
    gerund_phrase = first.endswith("ing") and first.lower() not in _ING_NOUNS and (
        not second or second in _LINKING_WORDS)
    if first.lower() in _KEEPS_ITS_OWN_ARTICLE or not first[:1].islower() or gerund_phrase:
        return text
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


# Notes that say what to do ("call", "send the deck"): the headline leads with the action.
_ACTIONS = {
    "check in": "Check in with {name}", "catch up": "Catch up with {name}",
    "follow up": "Follow up with {name}", "reach out": "Reach out to {name}",
    "talk": "Talk to {name}", "write": "Write to {name}", "call": "Call {name}",
    "email": "Email {name}", "ping": "Ping {name}", "message": "Message {name}",
    "text": "Text {name}", "thank": "Thank {name}", "congratulate": "Congratulate {name}",
    "invite": "Invite {name}", "send": "Send {name}", "wish": "Wish {name}",
    "meet": "Meet {name}", "see": "See {name}", "visit": "Visit {name}",
    "introduce": "Introduce {name}", "remind": "Remind {name}", "tell": "Tell {name}",
    "share": "Share with {name}", "book": "Book {name}", "schedule": "Schedule {name}",
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
_QUESTION_WORDS = ("about", "how", "what", "whether", "if", "when", "why", "where", "who",
                   "which")
Form = Literal["ask", "action", "statement", "subject"]
# Words after "her" that show it is the person ("send her the deck"), not "her flight".
_AFTER_HER = ("the", "a", "an", "about", "to", "for", "on", "at", "in", "with", "back", "and",
              "re", "that", "if", "how", "what", "when", "whether", "again", "soon", "up",
              "out", "my", "our", "some", "this", "these", "those")


def note_form(note_text: str) -> tuple[Form, str, str]:
    """How a note reads: (form, the verb it starts with or "", the rest).

    "ask how the offsite went" -> ("ask", "ask", "how the offsite went"); "send the deck" ->
    ("action", "send", "the deck"); "wife is expecting" -> ("statement", "", ...); "hiking
    trip in Yosemite" -> ("subject", "", ...).
    """
    text = " ".join(note_text.split()).rstrip(".!")
    lowered = text.lower()
    if lowered.startswith("ask "):
        rest = re.sub(r"^(?:him|her|them)\s+", "", text[4:], flags=re.IGNORECASE)
        return "ask", "ask", rest
    for verb in sorted(_ACTIONS, key=len, reverse=True):
        if lowered == verb or lowered.startswith(verb + " "):
            return "action", verb, text[len(verb):].strip()
    if _STATEMENT.search(text) and not text.split(" ", 1)[0].lower().endswith("ing"):
        return "statement", "", text
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


def reminder(contact_name: str, note_text: str, *, when: str = "") -> str:
    """What to do about a note, as the start of a sentence: "Ask Dana about the hiking trip
    in Yosemite", "Ask Priya how the offsite went", "Send Lee the deck", "Check in with
    Marco: wife is expecting". `when` ("tomorrow", "Thu Dec 10") goes where it reads right:
    "Call Zoë tomorrow", "Check in with Marco tomorrow: wife is expecting"."""
    name = first_name(contact_name)
    after = f" {when}" if when else ""
    form, verb, rest = note_form(note_text)
    if form == "ask":
        if not rest:
            return f"Ask {name} how things are{after}"
        if rest.split(" ", 1)[0].lower() in _QUESTION_WORDS:
            return f"Ask {name} {rest}{after}"
        return f"Ask {name} about {about_phrase(rest)}{after}"
    if form == "action":
        # The note names the person as "her" or by name ("call her", "talk to Zoë"): the
        # sentence names them once, by name.
        # "her" is the person unless a noun follows it ("book her flight").
        person = rf"(?:{re.escape(name)}|him|them|her(?=$|\s+(?:{'|'.join(_AFTER_HER)})\b))"
        rest = re.sub(rf"^(?:(?:with|to|in with)\s+)?{person}\b\s*", "", rest,
                      flags=re.IGNORECASE)
        lead = _ACTIONS[verb].format(name=name)
        return f"{lead} {rest}".rstrip() + after
    if form == "statement":
        return f"Check in with {name}{after}: {text_without_period(note_text)}"
    return f"Ask {name} about {about_phrase(note_text)}{after}"


def text_without_period(text: str) -> str:
    return " ".join(text.split()).rstrip(".!")


def lower_first(text: str) -> str:
    """'Ask Dana about ...' -> 'ask Dana about ...' (to follow "I'll remind you to")."""
    return text[:1].lower() + text[1:]


def follow_up_headline(contact_name: str, note_text: str, noted_on: date) -> str:
    """'Ask Dana about the hiking trip in Yosemite (you noted it on Fri Nov 20)'."""
    return f"{reminder(contact_name, note_text)} (you noted it on {short_date(noted_on)})"


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
                            since_year: int | None = None) -> str:
    """"Dana's birthday is on Mon May 4 (in 3 days)"; an anniversary with its year says how
    many years: "Lee's 7th work anniversary is on Mon Mar 1 (in 3 days)"."""
    what = "birthday" if kind == "birthday" else "work anniversary"
    if since_year is not None and kind != "birthday" and on.year > since_year:
        what = f"{ordinal(on.year - since_year)} {what}"
    days = (on - today).days
    when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
    return f"{first_name(contact_name)}'s {what} is on {short_date(on, today)} ({when})"


def nudge_subject(reason: str, contact_name: str, note_text: str | None,
                  date_kind: str | None) -> str:
    """Which nudge an answer acted on, after its verb: "the reminder to ask Dana about the
    trip", "the reminder about Dana's birthday", "the reminder to talk to Dana Scully"."""
    if reason == "follow_up" and note_text is not None:
        return f"the reminder to {lower_first(reminder(contact_name, note_text))}"
    if reason == "date" and date_kind is not None:
        what = "birthday" if date_kind == "birthday" else "work anniversary"
        return f"the reminder about {first_name(contact_name)}'s {what}"
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
