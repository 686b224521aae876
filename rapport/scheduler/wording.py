"""The human sentences nudges are made of. Plain text; platforms add their own formatting."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from rapport.scheduler.planner import humanize_days

_KEEPS_ITS_OWN_ARTICLE = {
    "the", "a", "an", "her", "his", "their", "my", "our", "your", "its", "how", "what",
    "whether", "when", "where", "why", "who", "which", "that", "this", "these", "those", "if",
}
_LINKING_WORDS = {"to", "in", "on", "at", "for", "with", "the", "a", "an", "her", "his", "their",
                  "into", "from", "back", "out", "up"}


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
    gerund_phrase = first.endswith("ing") and (not second or second in _LINKING_WORDS)
    if first.lower() in _KEEPS_ITS_OWN_ARTICLE or not first[:1].islower() or gerund_phrase:
        return text
    return "the " + text


def short_date(day: date | datetime) -> str:
    """'Nov 20', the way people write a date in a chat."""
    return f"{day:%b} {day.day}"


def follow_up_headline(contact_name: str, note_text: str, noted_on: date) -> str:
    """'Ask Dana about the hiking trip in Yosemite (you noted it on Nov 20)'."""
    return (f"Ask {first_name(contact_name)} about {about_phrase(note_text)} "
            f"(you noted it on {short_date(noted_on)})")


def contact_label(contact_name: str, company: str | None) -> str:
    """'Lee (Acme)' or 'Lee'."""
    return f"{contact_name} ({company})" if company else contact_name


def cadence_headline(contact_name: str, company: str | None, days_since: int | None,
                     cadence_days: int) -> str:
    """'It has been 6 weeks since you talked to Lee (Acme)'."""
    who = contact_label(contact_name, company)
    if days_since is None:
        return (f"You wanted to keep in touch with {who} every {humanize_days(cadence_days)}, "
                "and you have not logged a conversation yet")
    return f"It has been {humanize_days(days_since)} since you talked to {who}"


def important_date_headline(contact_name: str, kind: str, on: date, today: date) -> str:
    """"Dana's birthday is on May 4 (in 3 days)"."""
    what = "birthday" if kind == "birthday" else "work anniversary"
    days = (on - today).days
    when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
    return f"{first_name(contact_name)}'s {what} is on {short_date(on)} ({when})"


def last_touch_context(kind: str, happened_on: date, summary: str | None) -> str:
    """'Last time: coffee on Oct 2: talked about Q3'."""
    text = f"Last time: {kind} on {short_date(happened_on)}"
    if summary:
        text += f": {summary}"
    return text


def friendly_day(day: date, today: date) -> str:
    """'today', 'tomorrow', 'Friday, Nov 27', 'Mon Dec 14' or 'Mon Jan 4 2027'."""
    if day == today:
        return "today"
    if day == today + timedelta(days=1):
        return "tomorrow"
    if day == today - timedelta(days=1):
        return "yesterday"
    if today < day < today + timedelta(days=7):
        return f"{day:%A}, {short_date(day)}"
    return f"{day:%a} {short_date(day)}" + (f" {day.year}" if day.year != today.year else "")
