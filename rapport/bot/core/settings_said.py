"""Settings said as people say them: "turn off the digest", "only nudge me on weekdays",
"nudge me between 9 and 5", "I'm on vacation until Dec 20". Each is read into the command
its terse form gives (`settings digest off`, `settings days mon-fri`, `settings window 9-17`,
`pause until Dec 20`); a line that names no setting, or a value that cannot be read, is
answered with the terse form, never a guess that changes something else."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from rapport.bot.core import commands as c

SettingsSaid = (c.Settings | c.CaptureChat | c.Pause | c.Resume | c.SetCadence | c.AddNote
                | c.CommandError)

# What a setting is called in a sentence, and the `settings` word for it.
_TOGGLED = {
    "digest": "digest", "digests": "digest", "daily digest": "digest",
    "summary": "summary", "summaries": "summary", "weekly summary": "summary",
    "weekly summaries": "summary", "weekly recap": "summary", "recap": "summary",
    "ai": "ai", "ai drafts": "ai", "ai drafting": "ai", "ai writing": "ai",
    "briefs": "prep", "brief": "prep", "meeting briefs": "prep", "meeting brief": "prep",
    "meeting prep": "prep", "prep": "prep",
    "nudges": "nudges", "reminders": "nudges", "notifications": "nudges",
    "nudging": "nudges", "rapport": "nudges",
    "slack capture": "capture", "dm capture": "capture", "capture": "capture",
    "chat capture": "capture",
}
# Words around the setting's name that say nothing about it.
_AROUND = frozenset({"the", "my", "all", "me", "back", "please", "again", "now", "for",
                     "sending", "of", "those", "these", "your", "any"})
_UNTIL_WORDS = frozenset({"for", "until", "till", "til", "through"})
TOGGLE_HELP = ("Which setting? For example “turn off the digest”, “turn off the weekly "
               "summary”, “turn off nudges for a week” or “turn on meeting briefs”; "
               "“settings” lists them all. To stop nudges about one person: “every <name> "
               "off”.")


def _setting_named(words: list[str]) -> str | None:
    kept = [word for word in words if word not in _AROUND]
    return _TOGGLED.get(" ".join(kept))


def _toggled(words: list[str], on: bool, today: date) -> SettingsSaid:
    """`words` name a setting (and for nudges turned off, perhaps for how long)."""
    cut = next((index for index, word in enumerate(words)
                if word in _UNTIL_WORDS and index > 0), len(words))
    name = _setting_named(words[:cut])
    if name is None:
        return c.CommandError(TOGGLE_HELP, "settings")
    if name == "nudges":
        if on:
            return c.Resume()
        for_how_long = " ".join(words[cut:])
        return c.Pause(None) if for_how_long == "for now" else c.parse_pause(for_how_long, today)
    if cut < len(words):
        return c.CommandError(f"Only nudges can be paused for a while; “settings {name} "
                              f"{'on' if on else 'off'}” changes it until you change it "
                              "back.", "settings")
    if name == "capture":
        return c.CaptureChat(platform="slack", on=on)
    return c.parse_setting(name, "on" if on else "off")


def _words(rest: str) -> list[str]:
    return [word.strip("?!.,") for word in rest.lower().split() if word.strip("?!.,")]


def turned(on: bool) -> Callable[[str, date], SettingsSaid]:
    """"turn off the digest", "enable meeting briefs", "disable nudges for a week"."""
    def parse(rest: str, today: date) -> SettingsSaid:
        return _toggled(_words(rest), on, today)

    return parse


def turn_either(rest: str, today: date) -> SettingsSaid:
    """"turn the digest off", "switch nudges back on": on or off said last."""
    words = _words(rest)
    if len(words) >= 2 and words[0] in ("on", "off"):
        return _toggled(words[1:], words[0] == "on", today)
    for index, word in enumerate(words):
        if word in ("on", "off") and index > 0:
            # "turn nudges off for a week": the duration follows the switch.
            return _toggled(words[:index] + words[index + 1:], word == "on", today)
    return c.CommandError(TOGGLE_HELP, "settings")


def stopped(rest: str, today: date) -> SettingsSaid:
    """"stop the weekly summary", "don't send me the digest": that setting off."""
    return _toggled(_words(rest), False, today)


def time_zone(rest: str, today: date) -> SettingsSaid:
    """"change my time zone to Berlin", "my timezone is America/New_York"."""
    zone = " ".join(rest.split()).rstrip("?!.")
    zone = re.sub(r"^(?:to|is|=)\s+", "", zone, flags=re.IGNORECASE)
    return c.parse_setting("tz", zone)


def window(rest: str, today: date) -> SettingsSaid:
    """"nudge me between 9 and 5", "… from 8:30 to 4pm": the delivery window."""
    text = " ".join(rest.lower().split()).rstrip("?!.")
    text = re.sub(r"^(?:between|from)\s+", "", text)
    text = re.sub(r"\s+(?:only|please)$", "", text)
    text = re.sub(r"\s+(?:and|until|till|til)\s+", " to ", text)
    return c.parse_setting("window", text)


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _day_list(text: str) -> str:
    """"monday to friday" -> "mon-fri", "mondays and fridays" -> "mon,fri", "weekdays"."""
    text = re.sub(r"\b(" + "|".join(_WEEKDAYS) + r")s?\b", lambda m: m.group(1)[:3], text)
    text = re.sub(r"\s*(?:to|through|thru|until)\s*", "-", text)
    text = re.sub(r"\s*(?:,|and|&)\s*", ",", text)
    return text.replace(" ", "")


def working_days(rest: str, today: date) -> SettingsSaid:
    """"only nudge me on weekdays", "nudge me monday to friday": the working days."""
    text = " ".join(rest.lower().split()).rstrip("?!.")
    if _PER_DAY.match(text):
        return daily_cap(text, today)  # "only nudge me twice a day"
    text = re.sub(r"^(?:only\s+)?(?:on\s+)?", "", text)
    text = re.sub(r"\s+only$", "", text)
    return c.parse_setting("days", _day_list(text))


def nudge_me(rest: str, today: date) -> SettingsSaid:
    """"nudge me to call Lee on Friday" (a reminder), "nudge me between 9 and 5" (the
    window), "nudge me twice a day at most" (the cap), "nudge me on weekdays" (the days)."""
    text = " ".join(rest.lower().split()).rstrip("?!.")
    text = re.sub(r"^only\s+", "", text)
    if text.startswith("to "):
        return c.reminder_or_every(rest, today)
    if text.startswith(("between ", "from ")):
        return window(text, today)
    capped = re.sub(r"^(?:at most|no more than|up to)\s+|\s+(?:at most|max)$", "", text)
    if _PER_DAY.match(capped):
        return daily_cap(capped, today)
    return working_days(text, today)


def no_weekends(rest: str, today: date) -> SettingsSaid:
    """"no nudges on weekends", "don't nudge me at weekends": Monday to Friday."""
    if _words(rest) in (["weekends"], ["the", "weekend"], ["weekend"]):
        return c.Settings(days=c.parse_working_days("mon-fri"))
    return c.CommandError("Which days should nudges come? For example “settings days mon-fri”.",
                          "settings")


_TIMES = {"once": 1, "twice": 2, "thrice": 3, "one": 1, "two": 2, "three": 3, "four": 4,
          "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_PER_DAY = re.compile(r"^(?P<count>\d{1,2}|" + "|".join(_TIMES) + r")\s*(?:times|nudges?|"
                      r"messages?|reminders?)?\s*(?:a|per|each|every)\s+day$")


def daily_cap(rest: str, today: date) -> SettingsSaid:
    """"don't nudge me more than twice a day", "at most 2 nudges a day": the daily cap."""
    said = _PER_DAY.match(" ".join(rest.lower().split()).rstrip("?!."))
    if said is None:
        return c.CommandError("How many nudge messages a day, at most? For example “settings "
                              "cap 2”.", "settings")
    count = said.group("count")
    return c.parse_setting("cap", str(_TIMES.get(count, count)))


_TONES = {"formal": "formal", "more formal": "formal", "professional": "formal",
          "more professional": "formal", "warm": "warm", "warmer": "warm",
          "friendlier": "warm", "more friendly": "warm", "friendly": "warm",
          "more casual": "warm", "casual": "warm", "less formal": "warm", "brief": "brief",
          "briefer": "brief", "shorter": "brief", "short": "brief", "concise": "brief",
          "more concise": "brief", "more brief": "brief"}


def tone(rest: str, today: date) -> SettingsSaid:
    """"make drafts more formal", "set the tone to brief": the drafts' tone."""
    text = " ".join(rest.lower().split()).rstrip("?!.")
    text = re.sub(r"^(?:to|be|sound)\s+", "", text)
    text = re.sub(r"\s+(?:please|tone)$", "", text)
    said = _TONES.get(text)
    if said is None:
        return c.CommandError("Drafts can be warm, brief or formal: for example “settings tone "
                              "formal”.", "settings")
    return c.Settings(tone=said)


# "for the rest of the week", "this week": until Monday.
_THIS_WEEK = frozenset({"this week", "for the week", "for the rest of the week",
                        "the rest of the week", "rest of the week", "for this week"})


def away(rest: str, today: date) -> SettingsSaid:
    """"I'm on vacation until Dec 20", "I'm away for 2 weeks", "I'm out today": nudges
    paused from now until then; a stay that starts later cannot be paused yet, and is said
    so rather than paused from now."""
    text = " ".join(rest.lower().split()).rstrip("?!.")
    text = re.sub(r"^(?:and\s+)?(?:back\s+(?:on\s+)?)", "until ", text)
    if not text:
        return c.Pause(None)
    if text in ("today", "for today", "for the day", "for the rest of the day"):
        return c.Pause(today + timedelta(days=1))
    if text in _THIS_WEEK:
        return c.Pause(today + timedelta(days=7 - today.weekday()))
    if text.split()[0] in _UNTIL_WORDS:
        return c.parse_pause(text, today)
    return c.CommandError("Nudges can be paused from now until a day: “pause until <the day "
                          "you are back>” (“resume” starts them again).", "pause")


SAID: tuple[tuple[str, Callable[[str, date], SettingsSaid]], ...] = (
    *((words, turned(False)) for words in ("turn off", "switch off", "disable")),
    *((words, turned(True)) for words in ("turn on", "switch on", "enable")),
    ("turn", turn_either), ("switch", turn_either),
    *((words, stopped) for words in (
        "stop the", "stop my", "stop sending", "stop sending me", "don't send", "dont send",
        "don't send me", "dont send me", "do not send me", "no more")),
    *((f"{verb} {mine}{zone}", time_zone)
      for verb in ("change", "set", "switch", "update") for mine in ("my ", "the ", "")
      for zone in ("time zone", "timezone", "tz")),
    *((f"my {zone} is", time_zone) for zone in ("time zone", "timezone")),
    *((words, nudge_me) for words in ("nudge me", "only nudge me", "send nudges",
                                      "send me nudges", "only send nudges", "nudges only",
                                      "only send me nudges")),
    *((words, window) for words in ("only between",)),
    *((words, working_days) for words in ("only on",)),
    *((words, no_weekends) for words in (
        "no nudges on", "no nudges at", "don't nudge me on", "dont nudge me on",
        "don't nudge me at", "do not nudge me on")),
    *((words, daily_cap) for words in (
        "don't nudge me more than", "dont nudge me more than", "do not nudge me more than",
        "no more than", "at most", "maximum of")),
    *((words, tone) for words in (
        "make drafts", "make my drafts", "make the drafts", "drafts should",
        "set tone to", "set the tone to", "set my tone to", "change tone to",
        "change the tone to", "change my tone to")),
    *((words, away) for words in (
        *(f"{lead} {state}" for lead in ("i'm", "im", "i’m", "i am", "i'll be", "i’ll be",
                                         "ill be", "i will be")
          for state in ("on vacation", "on holiday", "on leave", "away", "out", "off",
                        "ooo", "out of office", "travelling", "traveling")),
        "going on vacation", "going on holiday", "out of office", "ooo")),
)
