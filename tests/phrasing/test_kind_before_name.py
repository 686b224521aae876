"""A kind said before the name without "with" ("log chat Dana", "log coffee Lee Park"): one
reading is that person, with that kind, said (so a meeting the calendar logged that day
becomes it); the words read as a name ("Chat Smith") stay a reading too, with no kind said."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.bot.core import commands as c
from rapport.bot.core.verbs import parse_command

TODAY = date(2026, 11, 23)  # a Monday
YESTERDAY = TODAY - timedelta(days=1)


def _readings(line: str) -> list[c.Log]:
    parsed = parse_command(line, today=TODAY)
    assert isinstance(parsed, c.Log), (line, parsed)
    return [parsed, *parsed.alternatives]


def _reading_of(line: str, name: str) -> c.Log:
    """The one reading of `line` whose person is `name`."""
    [found] = [r for r in _readings(line) if r.person.text == name]
    return found


@pytest.mark.parametrize(("line", "name", "day", "kind", "summary"), [
    ("log chat Dana", "Dana", None, "chat", None),
    ("log coffee Dana", "Dana", None, "coffee", None),
    ("log chat Dana yesterday", "Dana", YESTERDAY, "chat", None),
    ("log chat Dana Scully", "Dana Scully", None, "chat", None),
    ("log coffee Lee Park", "Lee Park", None, "coffee", None),
    ("log call Dana Scully yesterday", "Dana Scully", YESTERDAY, "call", None),
    ("log call Lee Park: budget", "Lee Park", None, "call", "budget"),
    ("log chat Lee: the offsite", "Lee", None, "chat", "the offsite"),
    ("log call with Dana", "Dana", None, "call", None),
    ("log a call with Dana yesterday", "Dana", YESTERDAY, "call", None),
    ("log Dana chat", "Dana", None, "chat", None),
])
def test_a_kind_before_the_name_is_said(line: str, name: str, day: date | None, kind: str,
                                        summary: str | None) -> None:
    reading = _reading_of(line, name)
    assert (reading.day, reading.kind, reading.summary, reading.unsure, reading.kind_said) == (
        day, kind, summary, None, True)


@pytest.mark.parametrize(("line", "whole", "rest", "kind"), [
    ("log Chat Smith", "Chat Smith", "Smith", "chat"),
    ("log Call Me Maybe", "Call Me Maybe", "Me Maybe", "call"),
])
def test_a_name_that_starts_with_a_kind_is_still_a_reading_with_no_kind_said(
        line: str, whole: str, rest: str, kind: str) -> None:
    named = _reading_of(line, whole)
    assert (named.kind, named.kind_said, named.unsure) == ("chat", False, None)
    kind_first = _reading_of(line, rest)
    assert (kind_first.kind, kind_first.kind_said) == (kind, True)


def test_the_kind_alone_as_a_name_with_the_rest_as_a_summary_is_a_doubt() -> None:
    """"log chat Dana Scully" is not a chat with someone called "chat" about Dana Scully
    without asking (Chat Smith was logged with the summary "Dana Scully")."""
    assert _reading_of("log chat Dana Scully", "chat").unsure == "Dana Scully"


NAMES = ("Dana", "Lee Park", "Dana Scully", "Priya", "Ana Lima", "Marco Rossi")
DAYS = ("", " yesterday", " on Friday", " 3 days ago")


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(c.KNOWN_KINDS), name=st.sampled_from(NAMES),
       day=st.sampled_from(DAYS))
def test_a_kind_before_a_name_reads_as_it_does_with_with(kind: str, name: str,
                                                         day: str) -> None:
    """"log <kind> <name>" has the reading "log <kind> with <name>" has, the kind said."""
    with_with = _reading_of(f"log {kind} with {name}{day}", name)
    reading = _reading_of(f"log {kind} {name}{day}", name)
    assert reading == with_with
    assert (reading.kind, reading.kind_said, reading.unsure) == (kind, True, None)
    assert with_with.kind_said


@pytest.mark.parametrize("line", ["log coffee Dana and Lee Park", "log coffee Dana, Lee Park",
                                  "log coffee Dana and Lee Park yesterday"])
def test_a_kind_before_several_names_is_each_ones(line: str) -> None:
    """It was a coffee with "coffee Dana" and a chat with Lee Park."""
    parsed = parse_command(line, today=TODAY)
    assert isinstance(parsed, c.LogTogether), parsed
    assert parsed == parse_command(line.replace("coffee ", "coffee with ", 1), today=TODAY)
    assert all(log.kind_said for log in parsed.logs)
