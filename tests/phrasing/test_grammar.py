"""The grammar for the way people type, as pure functions: readings, dates in text, rhythms,
and properties that hold for any text (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.bot.core import commands as c
from rapport.bot.core.dates import (
    Cadence,
    date_like_words,
    find_dates,
    parse_cadence,
    parse_day,
    parse_short_duration,
    spell_out_days,
)
from rapport.bot.core.verbs import is_guess, parse_command

TODAY = date(2026, 11, 23)  # a Monday


def parse(text: str) -> c.Command | c.CommandError:
    return parse_command(text, today=TODAY)


def person(text: str) -> c.PersonRef:
    return c.PersonRef(text=text)


def test_a_name_without_quotes_is_read_every_way_and_the_doubts_are_kept() -> None:
    command = parse("log Dana White yesterday coffee")
    assert isinstance(command, c.Log)
    readings = [command, *command.alternatives]
    assert [(r.person.text, r.unsure) for r in readings] == [("Dana", "White"),
                                                             ("Dana White", None)]
    assert all(r.day == TODAY - timedelta(days=1) and r.kind == "coffee" for r in readings)
    # Lowercase words after a name are a kind of one's own; capitalised ones may be a name.
    pairing = parse("log Dana pairing")
    assert isinstance(pairing, c.Log) and pairing.unsure is None and pairing.kind == "pairing"
    white = parse("log Dana White")
    assert isinstance(white, c.Log) and white.unsure == "White"


@pytest.mark.parametrize(("line", "expected"), [
    ("log coffee with Dana yesterday", c.Log(person("Dana"), date(2026, 11, 22), "coffee", None)),
    ("had lunch with Priya on Friday", c.Log(person("Priya"), date(2026, 11, 20), "lunch", None)),
    ("talked to Lee today", c.Log(person("Lee"), TODAY, "chat", None)),
    ("called Sam yesterday", c.Log(person("Sam"), date(2026, 11, 22), "call", None)),
    ("met Priya for lunch on Monday", c.Log(person("Priya"), date(2026, 11, 16), "lunch", None)),
    ("Lee called me yesterday", c.Log(person("Lee"), date(2026, 11, 22), "call", None)),
    ("I talked to Lee", c.Log(person("Lee"), None, "chat", None)),
    ("quick call with Lee", c.Log(person("Lee"), None, "call", None)),
    ("log Dana 1:1", c.Log(person("Dana"), None, "1:1", None)),
    ("log Dana, coffee, yesterday", c.Log(person("Dana"), date(2026, 11, 22), "coffee", None)),
    ("log Sam - coffee - last night", c.Log(person("Sam"), date(2026, 11, 22), "coffee", None)),
])
def test_log_phrasings(line: str, expected: c.Log) -> None:
    assert parse(line) == expected


@pytest.mark.parametrize(("line", "text", "follow_up", "event"), [
    ("note Priya: her talk is next Thursday", "her talk", date(2026, 11, 26), date(2026, 11, 26)),
    ("note Priya: check in tomorrow", "check in", date(2026, 11, 24), date(2026, 11, 24)),
    ("note Priya: after the offsite on Friday", "the offsite", date(2026, 11, 28),
     date(2026, 11, 27)),
    ("note Marco: wife is expecting, due Mar 3 2027", "wife is expecting", date(2027, 3, 3),
     date(2027, 3, 3)),
    ("note Lee: send the proposal by Thursday", "send the proposal", date(2026, 11, 26), None),
    ("note Tom: kid starts school on the 15th", "kid starts school", date(2026, 12, 15),
     date(2026, 12, 15)),
    ("remind me to ask Dana about the offsite next week", "the offsite", date(2026, 11, 30),
     date(2026, 11, 30)),
    ("ask Priya how the offsite went on Friday", "ask how the offsite went",
     date(2026, 11, 27), date(2026, 11, 27)),
    ("follow up with Lee on Friday about the contract", "follow up about the contract",
     date(2026, 11, 27), date(2026, 11, 27)),
])
def test_dates_anywhere_in_a_note(line: str, text: str, follow_up: date,
                                  event: date | None) -> None:
    note = parse(line)
    assert isinstance(note, c.AddNote), note
    assert (note.text, note.follow_up_on, note.event_on) == (text, follow_up, event)


def test_a_note_says_when_something_looked_like_a_date() -> None:
    note = parse("note Dana: dentist next tuesdy")
    assert isinstance(note, c.AddNote) and note.follow_up_on is None
    assert note.unread_date == "tuesdy"
    past = parse("note Lee: she started on Nov 2")
    assert isinstance(past, c.AddNote) and past.follow_up_on is None
    assert past.past_date == date(2026, 11, 2)
    plain = parse("note Priya: talk on distributed systems")
    assert isinstance(plain, c.AddNote) and plain.unread_date is None
    assert plain.follow_up_on is None


@pytest.mark.parametrize(("text", "cadence"), [
    ("monthly", Cadence(months=1)), ("quarterly", Cadence(months=3)),
    ("biweekly", Cadence(days=14)), ("every other week", Cadence(days=14)),
    ("every month", Cadence(months=1)), ("1 month", Cadence(months=1)),
    ("3 months", Cadence(months=3)), ("2 weeks", Cadence(days=14)), ("6w", Cadence(days=42)),
    ("yearly", Cadence(months=12)), ("2 years", Cadence(months=24)),
    ("twice a month", Cadence(days=14)), ("sometimes", None), ("0 weeks", None),
    ("every few weeks", None),
])
def test_rhythms(text: str, cadence: Cadence | None) -> None:
    assert parse_cadence(text) == cadence


def test_add_reads_roles_kinds_and_rhythms_and_refuses_what_is_no_name() -> None:
    assert parse("add Hiro Tanaka, VP Sales at Umbrella, monthly") == c.AddContact(
        person("Hiro Tanaka"), "colleague", "Umbrella", None, 1, None, role="VP Sales")
    assert parse("add Sam O'Neil, VP Sales client at Globex every 6 weeks") == c.AddContact(
        person("Sam O'Neil"), "client", "Globex", 42, None, None, role="VP Sales")
    assert parse("add Lee Park, Head of Customer Success at Initech") == c.AddContact(
        person("Lee Park"), "colleague", "Initech", None, role="Head of Customer Success")
    assert parse("add Dana Scully, met at KubeCon") == c.AddContact(
        person("Dana Scully"), "colleague", None, None, note="met at KubeCon")
    assert parse("add a new client called Jo Kim (Initech)") == c.AddContact(
        person("Jo Kim"), "client", "Initech", None)
    for line in ("add colleague", "add client", "add someone"):
        problem = parse(line)
        assert isinstance(problem, c.CommandError) and "Who should I add?" in problem.message
    asked = parse("add Hiro Tanaka VP Sales at Umbrella")
    assert isinstance(asked, c.CommandError) and "whole name" in asked.message


def test_snooze_in_hours_and_a_clear_answer_for_a_time_it_cannot_read() -> None:
    assert parse("snooze #6 2 hours") == c.Snooze(c.NudgeRef(6), minutes=120)
    assert parse_short_duration("an hour") == timedelta(hours=1)
    problem = parse("snooze #6 2 blorps")
    assert isinstance(problem, c.CommandError) and "couldn't read “2 blorps”" in problem.message


def test_dates_with_a_year_and_from_a_possessive() -> None:
    assert parse("date Lee anniversary March 1 2019") == c.SetDate(
        person("Lee"), "anniversary", 3, 1, 2019)
    assert parse("Dana's birthday is May 4") == c.SetDate(person("Dana"), "birthday", 5, 4)
    future = parse("date Lee anniversary March 1 2030")
    assert isinstance(future, c.CommandError)


def test_typos_get_did_you_mean_and_never_run() -> None:
    for typed, meant in (("hlep", "help"), ("lgo Dana", "log"), ("peple", "people"),
                         ("snoze #6", "snooze"), ("ntoe Dana: x", "note")):
        problem = parse(typed)
        if " " not in typed:
            # A word alone may be a name typed in lowercase ("dana"): a guess, shown only
            # when it is someone's name, answered with the same words otherwise.
            assert isinstance(problem, c.ShowPerson) and is_guess(problem), typed
            assert problem.exact and problem.unknown is not None
            message = problem.unknown
        else:
            assert isinstance(problem, c.CommandError), typed
            message = problem.message
        assert f"Did you mean “{meant}”?" in message, (typed, message)


def test_the_new_verbs() -> None:
    assert parse("show Dana") == c.ShowPerson(person("Dana"))
    assert parse("who is Dana Scully?") == c.ShowPerson(person("Dana Scully"))
    assert parse("Dana?") == c.ShowPerson(person("Dana"))
    assert parse("search hiking trip") == c.Search("hiking trip")
    assert parse("undo") == c.Undo()
    assert parse("edit n3: new text on Friday") == c.EditNote(3, "new text", date(2026, 11, 27))
    assert parse("edit t7 yesterday call: budget") == c.EditTouch(
        7, date(2026, 11, 22), "call", "budget")
    assert parse("delete t7") == c.DeleteEntry("touchpoint", 7)
    assert parse("delete Dana") == c.Forget(person("Dana"))
    assert parse("rename Dana Scully to Dana Mulder") == c.Rename(person("Dana Scully"),
                                                                 "Dana Mulder")
    assert parse("set Dana email Dana@Acme.com") == c.SetField(person("Dana"), "email",
                                                                "dana@acme.com")
    assert parse("change Lee's company to Initech") == c.SetField(person("Lee"), "company",
                                                                  "Initech")
    assert parse("forget Lee Park confirm") == c.Forget(person("Lee Park"), confirmed=True)


_VOCABULARY = st.sampled_from([
    "log", "note", "remind", "me", "to", "ask", "about", "Dana", "Lee Park", "with", "coffee",
    "yesterday", "next", "Thursday", "on", "after", "the", "offsite", "every", "monthly",
    "quarterly", "other", "week", "add", ",", "VP", "at", "Acme", "snooze", "#6", "2",
    "hours", "is", "due", "Mar", "3", "2027", "show", "?", "edit", "n3", "t7", ":", "delete",
    "set", "email", "company", "rename", "undo", "called", "I", "just", "had", "'s",
    "recent", "who did I talk to", "since", "last", "month", "in the past",
    "birthday", "1:1", "-", "w/", "tuesdy", "the 15th", "EOW", "end of the month", "🙂",
    "\u202e", "x" * 30])


@settings(max_examples=500, deadline=None)
@given(words=st.lists(_VOCABULARY, max_size=10),
       today=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_any_line_of_these_words_parses_without_raising(words: list[str], today: date) -> None:
    result = parse_command(" ".join(words), today=today)
    assert isinstance(result, (*c.Command.__args__, c.CommandError))  # type: ignore[attr-defined]
    if isinstance(result, c.CommandError):
        assert 0 < len(result.text()) < 600


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=120))
def test_dates_found_in_any_text_are_real_spans_that_read_back(text: str) -> None:
    spans = find_dates(text, today=TODAY, direction="future")
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
        assert text[span.start:span.end] == span.phrase
    date_like_words(text, spans)  # never raises


@settings(max_examples=200, deadline=None)
@given(amount=st.integers(min_value=1, max_value=12),
       unit=st.sampled_from(["week", "weeks", "month", "months", "w", "m"]))
def test_rhythms_of_any_size(amount: int, unit: str) -> None:
    cadence = parse_cadence(f"{amount} {unit}")
    assert cadence is not None
    if unit.startswith("w"):
        assert cadence == Cadence(days=7 * amount)
    else:
        assert cadence == Cadence(months=amount)
    assert parse_cadence(f"every {amount} {unit}") == cadence


def test_relative_days_read_the_same_alone_and_inside_text() -> None:
    for phrase in ("tomorrow", "next Thursday", "on Friday", "in 2 weeks", "Dec 4"):
        alone = parse_day(phrase.removeprefix("on "), today=TODAY, direction="future")
        [span] = find_dates(f"the offsite {phrase}", today=TODAY, direction="future")
        assert span.day == alone, phrase


@pytest.mark.parametrize(("line", "expected"), [
    ("Lee joined the call", c.Log(person("Lee"), None, "call", None)),
    ("Dana joined the meeting", c.Log(person("Dana"), None, "meeting", None)),
    ("Sam joined the standup late", c.Log(person("Sam"), None, "standup", None)),
    ("Lee joined yesterday's call", c.Log(person("Lee"), date(2026, 11, 22), "call", None)),
    ("Lee joined the call about the renewal",
     c.Log(person("Lee"), None, "call", "about the renewal")),
    ("Lee joined the zoom call for a bit", c.Log(person("Lee"), None, "video", None)),
])
def test_joining_a_call_or_a_meeting_is_a_conversation(line: str, expected: c.Log) -> None:
    assert parse(line) == expected


@pytest.mark.parametrize(("line", "company"), [
    ("Lee joined Globex", "Globex"), ("Lee joined Hooli Inc", "Hooli Inc"),
    ("Lee joined Zoom", "Zoom"), ("Lee joined Huddle", "Huddle"),
    ("Priya joined the team", "the team"),
    ("Lee joined the coffee club", "the coffee club"),
])
def test_joining_anything_else_is_news_the_use_case_weighs(line: str, company: str) -> None:
    """A company, a city or a group: the use case sets the company only when it plainly is
    one, and answers a group ("the team") without storing anything."""
    parsed = parse(line)
    assert isinstance(parsed, c.NewCompany) and parsed.company == company


def test_a_group_is_told_apart_from_a_company_by_its_last_word() -> None:
    assert c.names_a_group("the team") and c.names_a_group("our leadership team")
    assert c.names_a_group("the board") and c.names_a_group("team")
    assert not c.names_a_group("Hooli Group") and not c.names_a_group("Globex")


_MEETINGS = st.sampled_from(["call", "meeting", "standup", "stand-up", "sync", "huddle",
                             "1:1", "zoom", "zoom call", "video call", "phone call",
                             "conference call", "lunch", "coffee", "dinner"])


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(["Lee", "Dana Scully", "lee", "María José García", "@Dana",
                             "O'Brien"]),
       said=st.sampled_from(["joined", "has joined"]),
       whose=st.sampled_from(["the", "our", "my", "a", "this", "today's", "yesterday's",
                              "Friday's"]),
       which=st.sampled_from(["", "weekly ", "Q3 planning ", "team "]),
       meeting=_MEETINGS,
       after=st.sampled_from(["", " late", " early", " yesterday", " about the renewal",
                              " for a bit", ".", "!"]))
def test_no_one_joining_a_meeting_is_read_as_a_new_company(
        name: str, said: str, whose: str, which: str, meeting: str, after: str) -> None:
    parsed = parse(f"{name} {said} {whose} {which}{meeting}{after}")
    assert not isinstance(parsed, (c.NewCompany, c.SetField)), parsed
    assert isinstance(parsed, c.Log) and parsed.kind in (
        "call", "meeting", "video", "lunch", "coffee", "dinner", "standup", "sync", "huddle",
        "1:1"), parsed


@pytest.mark.parametrize(("line", "expected"), [
    ("log coffee w Dana yday", c.Log(person("Dana"), date(2026, 11, 22), "coffee", None)),
    ("lunch w/ Priya yday 🍜", c.Log(person("Priya"), date(2026, 11, 22), "lunch", None)),
    ("log dana coffee 👍", c.Log(person("dana"), None, "coffee", None)),
    ("log Lee: call 👍", c.Log(person("Lee"), None, "call", None)),
    ("caught up w/ Marco", c.Log(person("Marco"), None, "chat", None)),
    ("hopped on a call with Ana", c.Log(person("Ana"), None, "call", None)),
    ("jumped on a zoom with Marco yesterday",
     c.Log(person("Marco"), date(2026, 11, 22), "video", None)),
    ("bumped into Tom at the office", c.Log(person("Tom"), None, "in person", "at the office")),
    ("Lee and I had a quick coffee yesterday",
     c.Log(person("Lee"), date(2026, 11, 22), "coffee", None)),
    ("Dana and I caught up about the reorg",
     c.Log(person("Dana"), None, "chat", "about the reorg")),
    ("Lee joined us on the call", c.Log(person("Lee"), None, "call", None)),
    ("log Lee 30 min call re budget", c.Log(person("Lee"), None, "call", "re budget")),
    ("log Marco zoom call", c.Log(person("Marco"), None, "video", None)),
    ("Quick sync w/ Sam this morning", c.Log(person("Sam"), TODAY, "sync", None)),
    ("log Dana 2 hours ago", c.Log(person("Dana"), TODAY, "chat", None)),
])
def test_conversations_as_chat_shortens_them(line: str, expected: c.Log) -> None:
    parsed = parse(line)
    assert isinstance(parsed, c.Log)
    assert replace(parsed, alternatives=()) == expected


def test_had_with_no_kind_after_it_tells_of_no_conversation() -> None:
    assert not isinstance(parse("Lee and I had planned to meet"), c.Log)


@pytest.mark.parametrize(("line", "text", "follow_up"), [
    ("remind me to call Lee tmrw", "call", date(2026, 11, 24)),
    ("remind me tmrw to email Ana", "email", date(2026, 11, 24)),
    ("remind me to follow up with Marco re: the contract on Thursday",
     "follow up about the contract", date(2026, 11, 26)),
    ("let's catch up with Dana next week", "catch up", date(2026, 11, 30)),
    ("talk to Sam next week", "talk", date(2026, 11, 30)),
    ("Sam's last day is Friday", "last day", date(2026, 11, 27)),
    ("Dana's kid started college", "kid started college", None),
])
def test_reminders_and_news_about_someone(line: str, text: str,
                                          follow_up: date | None) -> None:
    parsed = parse(line)
    assert isinstance(parsed, c.AddNote), parsed
    assert (parsed.text, parsed.follow_up_on) == (text, follow_up)


@pytest.mark.parametrize("line", ["Sam's out today", "Today's standup was long",
                                  "Let's see", "What's up?", "Dana's kid?"])
def test_a_possessive_that_is_no_news_about_someone_is_no_note(line: str) -> None:
    assert not isinstance(parse(line), c.AddNote)


@pytest.mark.parametrize("line", ["Lee's role changed", "Lee's email lee@acme.com",
                                  "Lee's company Initech"])
def test_a_detail_said_without_is_asks_whether_to_set_or_note(line: str) -> None:
    parsed = parse(line)
    assert isinstance(parsed, c.CommandError) and "“set Lee " in parsed.message


def test_rhythms_said_as_checking_in_and_days_said_in_short() -> None:
    assert parse("check in with Mei every 2 weeks") == c.SetCadence(person("Mei"), days=14)
    assert parse("snooze Mei til Monday") == c.Snooze(person("Mei"), date(2026, 11, 30))
    assert parse("snooze Tom til tmrw") == c.Snooze(person("Tom"), date(2026, 11, 24))
    assert parse("Dana's birthday is on the 14th of Feb") == c.SetDate(
        person("Dana"), "birthday", 2, 14, None)
    assert parse("Lee's company is now Initech") == c.SetField(person("Lee"), "company",
                                                               "Initech")
    for question in ("who should I reach out to?", "who's overdue", "what is due this week?",
                     "due today", "due now"):
        assert parse(question) == c.ShowDue(), question
    assert parse("who haven't I talked to lately") == c.ShowDue(quiet=True)
    assert isinstance(parse("due Dana"), c.CommandError)
    assert isinstance(parse("who should I reach out to about the offsite?"), c.CommandError)
    assert parse("how long since I talked to Ana?") == c.ShowPerson(person("Ana"))


def test_first_names_that_are_also_question_words_are_names() -> None:
    """Will and Can are people too: only "who will I …", "who can I …" ask about you."""
    for line, name in (("show Will", "Will"), ("show Will Smith", "Will Smith"),
                       ("who is Will Smith?", "Will Smith"), ("Will Smith?", "Will Smith"),
                       ("show Can", "Can"), ("who is Can Yilmaz", "Can Yilmaz")):
        assert parse(line) == c.ShowPerson(person(name)), line
    for question in ("show can I", "who is will I", "show do I owe"):
        assert isinstance(parse(question), c.CommandError), question


@pytest.mark.parametrize("question", [
    "what did I talk about with Ana?", "What did we talk about with Ana", "what did i discuss "
    "with Ana", "when did I talk to Ana?", "When did I last meet Ana", "when did i last meet "
    "with Ana?", "When was the last time I talked to Ana", "when did I last chat with Ana"])
def test_asking_what_was_said_or_when_shows_the_person(question: str) -> None:
    """These answered “I don't know the command “what”” (or “when”): the person's card says
    when they last talked and about what."""
    assert parse(question) == c.ShowPerson(person("Ana"))


@pytest.mark.parametrize("word", ["yday", "tmrw", "tmr"])
def test_chat_shorthand_for_a_day_reads_as_the_word(word: str) -> None:
    full = {"yday": "yesterday", "tmrw": "tomorrow", "tmr": "tomorrow"}[word]
    for direction in ("past", "future"):
        assert parse_day(word, today=TODAY, direction=direction) == parse_day(
            full, today=TODAY, direction=direction)
    assert spell_out_days(f"call Lee {word.upper()}, then Tomo") == f"call Lee {full}, then Tomo"


@settings(max_examples=200, deadline=None)
@given(line=st.sampled_from(["log Dana coffee", "log coffee with Dana", "had lunch with Priya",
                             "talked to Lee Park", "log Lee: call", "Lee joined the call"]),
       day=st.sampled_from([("", ""), (" yday", " yesterday"), (" yesterday", " yesterday")]),
       emoji=st.sampled_from(["", " 👍", " ☕️", " 🙌🏽", " 🎉🎉"]))
def test_a_reaction_or_a_short_day_at_the_end_changes_nothing_stored(
        line: str, day: tuple[str, str], emoji: str) -> None:
    short, full = day
    if ":" in line and short:
        return  # after a colon a day is read only when it is the summary's last word
    assert parse(f"{line}{short}{emoji}") == parse(f"{line}{full}")


@pytest.mark.parametrize(("line", "suggested"), [
    ("talk to Sam every Friday", "“every Sam 1 week”"),
    ("check in with Mei each monday", "“every Mei 1 week”"),
    ("catch up with Dana every other Thursday", "“every Dana 2 weeks”"),
    ("talk to Lee on Fridays", "“every Lee 1 week”"),
])
def test_a_rhythm_on_a_weekday_asks_rather_than_guess(line: str, suggested: str) -> None:
    """A rhythm counts from the last conversation: "every Friday" is neither a rhythm nor
    one reminder, so the answer offers both ways and stores nothing."""
    parsed = parse(line)
    assert isinstance(parsed, c.CommandError) and suggested in parsed.message


def test_one_weekday_is_still_a_reminder_and_a_period_still_a_rhythm() -> None:
    assert isinstance(parse("talk to Sam on Friday"), c.AddNote)
    assert parse("talk to Sam every 2 weeks") == c.SetCadence(person("Sam"), days=14)


@pytest.mark.parametrize(("line", "suggested"), [
    ("Lee is on vacation until Dec 10", "“note Lee: on vacation until Dec 10”"),
    ("Lee's out sick today", "“note Lee: out sick today”"),
    ("Dana just had a baby!", "“note Dana: had a baby”"),
    ("Lee Park got promoted to VP.", "“note Lee Park: got promoted to VP”"),
])
def test_news_of_someone_no_rule_reads_shows_how_to_note_it(line: str,
                                                           suggested: str) -> None:
    """Said of someone, news no rule reads is answered with the note that keeps it: never
    stored on a guess, never "I don't know the command “lee”"."""
    parsed = parse(line)
    assert isinstance(parsed, c.CommandError) and suggested in parsed.message


@pytest.mark.parametrize("line", ["Today is Friday", "it is late", "lgo Dana",
                                  "Is Lee around?", "I was at the offsite", "We had lunch",
                                  "The deck: done", "They got back to me"])
def test_lines_that_are_no_news_of_anyone_get_no_note_hint(line: str) -> None:
    parsed = parse(line)
    assert not (isinstance(parsed, c.CommandError) and "“note " in parsed.message), parsed


def test_a_new_job_said_with_its_role_reads_both() -> None:
    assert parse("Lee joined Globex as VP Sales") == c.NewCompany(
        person("Lee"), "Globex", "joined", "VP Sales")
    assert parse("Sam moved to Hooli Inc as a senior engineer") == c.NewCompany(
        person("Sam"), "Hooli Inc", "moved to", "senior engineer")
    assert parse("Lee joined Globex") == c.NewCompany(person("Lee"), "Globex", "joined")


@pytest.mark.parametrize(("line", "expected"), [
    ("how many people do I have?", c.ShowPeople()), ("show everyone", c.ShowPeople()),
    ("show all", c.ShowPeople()), ("my people", c.ShowPeople()),
    ("who do I know", c.ShowPeople()), ("show all #clients", c.ShowPeople("clients")),
    ("what's on my plate?", c.ShowDue()), ("what should I do today", c.ShowDue()),
    ("anything for today?", c.ShowDue())])
def test_questions_about_everyone_or_today_list_them(line: str, expected: c.Command) -> None:
    """These answered with a hint to type “people” or “due”, or “I don't know the command”."""
    assert parse(line) == expected


@pytest.mark.parametrize(("line", "day", "kind", "summary"), [
    ("log Dana yesterday at 3pm: the launch", TODAY - timedelta(days=1), "chat", "the launch"),
    ("log Dana yesterday 3pm", TODAY - timedelta(days=1), "chat", None),
    ("met Dana at 2pm today", TODAY, "meeting", None),
    ("coffee with Dana yesterday at noon", TODAY - timedelta(days=1), "coffee", None),
    ("log Dana call at 10:30", None, "call", None),
    ("log Dana at 9 am: planning", None, "chat", "planning")])
def test_a_time_of_day_in_a_log_is_set_aside(line: str, day: date | None, kind: str,
                                             summary: str | None) -> None:
    """A log keeps the day. "at 3pm" was taken for part of the name (“I won't guess that
    “at 3pm” is not part of the name”), for the kind (“Logged 3pm with Dana”) or for what
    was said."""
    assert parse(line) == c.Log(person("Dana"), day, kind, summary)


@pytest.mark.parametrize(("line", "minute"), [
    ("log Dana 23:00: coffee", 23 * 60), ("log Dana today 18:30 coffee", 18 * 60 + 30),
    ("log Dana yesterday at 3pm: the launch", 15 * 60), ("met Dana at 2pm today", 14 * 60),
    ("coffee with Dana yesterday at noon", 12 * 60), ("log Dana at 9 am: planning", 9 * 60),
    ("log Dana @3pm", 15 * 60), ("log Dana at 12am", 0),
    # An hour without am/pm as said at work: 7 to 12 as said, 1 to 6 in the afternoon.
    ("log Dana at 9 coffee", 9 * 60), ("log Dana at 3 coffee", 15 * 60),
    ("log Dana at 03:00 coffee", 3 * 60),
    # An ISO timestamp's time, in one token or two.
    ("log Dana 2026-11-23T23:00", 23 * 60), ("log Dana on 2026-11-23 18:30 coffee", 18 * 60 + 30),
    ("log Dana: coffee 2026-11-19T08:30:00", 8 * 60 + 30),
    ("log Dana coffee", None), ("log Dana yesterday", None), ("log Dana 1:1", None)])
def test_the_time_of_day_in_a_log_is_kept_for_the_use_case(line: str, minute: int | None
                                                           ) -> None:
    """The time set aside is still read: a log at a time still to come today is refused by
    the use case, which knows what time it is ("log Dana 23:00: coffee" at 10:00 was logged)."""
    logged = parse(line)
    assert isinstance(logged, c.Log), logged
    assert logged.minute_of_day == minute


def test_facts_said_after_a_name_read_as_the_command_they_mean() -> None:
    """"Dana every 2 weeks", "lee works at Initech now" and "Lee is a client" answered “I
    don't know the command “dana”” (or “lee”, with “Did you mean “see”?”)."""
    assert parse("Dana every 2 weeks") == c.SetCadence(person("Dana"), 14)
    assert parse("lee park every other week") == c.SetCadence(person("lee park"), 14)
    assert parse("Zoë every 3 months") == c.SetCadence(person("Zoë"), None, 3)
    assert parse("lee works at Initech now") == c.NewCompany(person("lee"), "Initech",
                                                             "works at")
    assert parse("Dana now works for Globex Corp.") == c.NewCompany(
        person("Dana"), "Globex Corp", "now works for")
    assert parse("Lee is a client") == c.SetField(person("Lee"), "kind", "client")
    assert parse("dana is my colleague") == c.SetField(person("dana"), "kind", "colleague")
    # A rhythm that is none, or no name before it: not a rhythm at all.
    for line in ("Standup every Monday", "Dana every", "every now and then"):
        assert not isinstance(parse(line), c.SetCadence), line


def test_reaching_someone_on_a_day_is_a_reminder_and_without_one_asks() -> None:
    assert parse("call Lee tomorrow") == c.AddNote(person("Lee"), "call",
                                                   TODAY + timedelta(days=1))
    assert isinstance(parse("text Dana on Friday"), c.AddNote)
    asked = parse("call Lee")
    assert isinstance(asked, c.CommandError) and "“log Lee call”" in asked.message
    assert isinstance(parse("call with Lee yesterday"), c.Log)
    assert isinstance(parse("phone call with Lee"), c.Log)



def test_small_ways_people_type_them() -> None:
    """A name given is no call; "re:" opens the summary; a chat tool names the kind; "skip"
    is "dismiss"; stopping nudges about one person asks rather than pause everything."""
    assert isinstance(parse("Dana's daughter is called Maya"), c.AddNote)
    assert isinstance(parse("Lee called me yesterday"), c.Log)
    logged = parse("log Dana slack chat yesterday re: hiring plan")
    assert isinstance(logged, c.Log) and logged.summary == "hiring plan"
    assert isinstance(parse("skip Tom"), c.Dismiss)
    stop = parse("stop reminding me about Lee")
    assert isinstance(stop, c.CommandError) and "“every Lee off”" in stop.message
    assert isinstance(parse("stop reminding me for 2 weeks"), c.Pause)


def test_a_conversation_said_as_the_day_s_is_logged_on_that_day() -> None:
    logged = parse("Yesterday's call with Lee went well")
    assert isinstance(logged, c.Log)
    assert (logged.day, logged.kind) == (TODAY - timedelta(days=1), "call")
    assert not isinstance(parse("yesterday's news"), c.Log)



@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("aZ 09:,.\t\n\r\x0b\x0c\x7f\x00\u00a0\u2028é\u200b"),
                    max_size=40) | st.text(max_size=80))
def test_clean_text_s_shortcut_gives_what_cleaning_every_character_gives(text: str) -> None:
    """Plain printable ASCII skips the character by character pass: for any line the
    result is the same as with it."""
    assert c.clean_text(text) == c._clean_every_character(text)


@pytest.mark.parametrize(("line", "expected"), [
    ("who haven't I talked to lately?", c.ShowDue(quiet=True)),
    ("who am I neglecting?", c.ShowDue(quiet=True)),
    ("who have I lost touch with", c.ShowDue(quiet=True)),
    ("who haven’t I heard from in a while", c.ShowDue(quiet=True)),
    ("who haven't I talked to in 2 months?", c.ShowDue(quiet=True, quiet_days=60)),
    ("who have I not seen for over 3 weeks", c.ShowDue(quiet=True, quiet_days=21)),
    ("who's overdue?", c.ShowDue()),
    ("I want to talk to Lee every 2 weeks", c.SetCadence(person("Lee"), days=14)),
    ("I'd like to catch up with Sam monthly", c.SetCadence(person("Sam"), days=None, months=1)),
    ("remind me to talk to Lee every 3 weeks", c.SetCadence(person("Lee"), days=21)),
    ("remind me every 2 weeks to check in with Mei", c.SetCadence(person("Mei"), days=14)),
    ("remind me every month to talk to Lee Park",
     c.SetCadence(person("Lee Park"), days=None, months=1)),
    ("what did Dana and I talk about?", c.ShowPerson(person("Dana"))),
    ("when did Lee Park and I last speak?", c.ShowPerson(person("Lee Park"))),
    ("how long since Sam and I caught up?", c.ShowPerson(person("Sam"))),
])
def test_questions_and_rhythms_said_as_people_say_them(line: str, expected: object) -> None:
    assert parse(line) == expected


def test_what_stays_a_reminder_or_a_question_without_a_person() -> None:
    # A day, not a rhythm: still a reminder.
    talk = parse("remind me to talk to Lee on Friday")
    assert isinstance(talk, c.AddNote) and talk.follow_up_on == date(2026, 11, 27)
    call = parse("remind me to call Lee tmrw")
    assert isinstance(call, c.AddNote) and call.follow_up_on == date(2026, 11, 24)
    # Something a person said, not a conversation between you: how to look, never a guess.
    said = parse("what did Lee say about the offsite?")
    assert isinstance(said, c.CommandError) and "“show Lee”" in said.message
    assert isinstance(parse("who haven't I talked to about the offsite"), c.CommandError)


@pytest.mark.parametrize(("line", "expected"), [
    ("what's Dana's email?", c.ShowPerson(person("Dana"))),
    ("what is Lee Park's role", c.ShowPerson(person("Lee Park"))),
    ("where's Dana's office?", c.ShowPerson(person("Dana"))),
    ("who works at Acme?", c.Search("Acme")),
    ("who do I know at Globex", c.Search("Globex")),
    ("people at Initech", c.Search("Initech")),
    ("who is Dana?", c.ShowPerson(person("Dana"))),
    ("when is Lee's birthday?", c.ShowPerson(person("Lee"))),
    ("what is due", c.ShowDue()),
])
def test_details_and_companies_asked_about(line: str, expected: object) -> None:
    assert parse(line) == expected


def test_a_new_title_said_as_news_offers_the_role_and_stores_nothing() -> None:
    for line, role in (("Lee got promoted to CEO", "CEO"), ("Dana is now VP of Sales",
                                                            "VP of Sales"),
                       ("Lee became CTO", "CTO")):
        answer = parse(line)
        name = line.split()[0]
        assert isinstance(answer, c.CommandError), line
        assert f"“note {name}: " in answer.message and \
            f"“set {name} role {role}”" in answer.message, answer.message
    # Not a title: only the note is offered.
    engaged = parse("Dana is now engaged")
    assert isinstance(engaged, c.CommandError) and "role" not in engaged.message
    # Neither is a question about nothing in particular a guess at someone.
    assert isinstance(parse("what's up?"), c.CommandError)
    assert isinstance(parse("who works at"), c.CommandError)


MON_FRI = 0b0011111


@pytest.mark.parametrize(("line", "expected"), [
    ("I'm on vacation until Dec 7", c.Pause(date(2026, 12, 7))),
    ("i’m away for 2 weeks", c.Pause(date(2026, 12, 7))),
    ("I'll be off until Monday", c.Pause(date(2026, 11, 30))),
    ("I'm out today", c.Pause(date(2026, 11, 24))),
    ("I'm out for the rest of the week", c.Pause(date(2026, 11, 30))),
    ("I'm on vacation", c.Pause(None)),
    ("turn off nudges for a week", c.Pause(date(2026, 11, 30))),
    ("turn nudges off until Friday", c.Pause(date(2026, 11, 27))),
    ("turn off all notifications for now", c.Pause(None)),
    ("turn nudges back on", c.Resume()),
    ("change my time zone to Europe/Berlin", c.Settings(tz="Europe/Berlin")),
    ("set my timezone to America/New_York", c.Settings(tz="America/New_York")),
    ("my time zone is Asia/Tokyo", c.Settings(tz="Asia/Tokyo")),
    ("nudge me between 9 and 5", c.Settings(window=(9 * 60, 17 * 60))),
    ("only nudge me from 8:30 to 4pm", c.Settings(window=(8 * 60 + 30, 16 * 60))),
    ("only nudge me on weekdays", c.Settings(days=MON_FRI)),
    ("nudge me monday to friday", c.Settings(days=MON_FRI)),
    ("nudge me only on Mondays and Thursdays", c.Settings(days=0b1001)),
    ("no nudges on weekends", c.Settings(days=MON_FRI)),
    ("don't nudge me more than twice a day", c.Settings(cap=2)),
    ("at most 4 nudges a day", c.Settings(cap=4)),
    ("only nudge me once a day", c.Settings(cap=1)),
    ("turn off the digest", c.Settings(digest=False)),
    ("please turn the weekly summary off", c.Settings(summary=False)),
    ("stop the weekly summary", c.Settings(summary=False)),
    ("don't send me the digest", c.Settings(digest=False)),
    ("disable AI drafts", c.Settings(ai=False)),
    ("turn on meeting briefs", c.Settings(prep=30)),
    ("make drafts more formal", c.Settings(tone="formal")),
    ("drafts should be shorter", c.Settings(tone="brief")),
    ("nudge me to call Lee on Friday", c.AddNote(person("Lee"), "call", date(2026, 11, 27),
                                                 event_on=date(2026, 11, 27))),
])
def test_settings_said_as_sentences(line: str, expected: object) -> None:
    assert parse(line) == expected


def test_settings_sentences_never_guess() -> None:
    # A stay that starts later cannot be paused from now: said so, nothing paused.
    later = parse("I'm out next week")
    assert isinstance(later, c.CommandError) and "pause until" in later.message
    # A name where a setting goes: which setting, and how to stop one person's nudges.
    dana = parse("turn off Dana")
    assert isinstance(dana, c.CommandError) and "“every <name> off”" in dana.message
    # Only nudges pause for a while; the digest is on or off.
    assert isinstance(parse("turn off the digest for a week"), c.CommandError)
    assert isinstance(parse("make drafts purple"), c.CommandError)
    assert isinstance(parse("don't nudge me more than sometimes"), c.CommandError)
    # A person called Max still calls.
    assert isinstance(parse("Max called me yesterday"), c.Log)


@given(st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=11))
def test_office_hours_on_a_twelve_hour_clock_end_in_the_afternoon(start: int,
                                                                   end: int) -> None:
    window = c.parse_window(f"{start}-{end}")
    if end < start:
        assert window == (start * 60, (end + 12) * 60)
    elif end > start:
        assert window == (start * 60, end * 60)
    else:
        assert window is None
    # Past midnight on a 24-hour clock stays refused.
    assert c.parse_window(f"{start + 12}-{end}") is None


@pytest.mark.parametrize("line", [
    "nudges", "my nudges", "show my reminders", "any reminders?", "my reminders for this week",
    "what nudges do I have", "when's my next nudge?", "upcoming reminders"])
def test_the_due_list_by_what_people_call_it(line: str) -> None:
    assert parse(line) == c.ShowDue()


def test_how_often_you_talk_to_someone_is_on_their_card() -> None:
    assert parse("how often do I talk to Dana?") == c.ShowPerson(person("Dana"))
    assert parse("what's my rhythm with Lee Park") == c.ShowPerson(person("Lee Park"))
    # About one person's nudges: where to look, not the whole list.
    assert isinstance(parse("show nudges about Dana"), c.CommandError)


@pytest.mark.parametrize(("line", "first", "last", "label"), [
    ("recent", date(2026, 11, 10), TODAY, "in the last 2 weeks"),
    ("history", date(2026, 11, 10), TODAY, "in the last 2 weeks"),
    ("who did I talk to lately?", date(2026, 11, 10), TODAY, "in the last 2 weeks"),
    ("who did I talk to today?", TODAY, TODAY, "today"),
    ("who did I see yesterday", date(2026, 11, 22), date(2026, 11, 22), "yesterday"),
    ("who did I talk to this week?", TODAY, TODAY, "this week"),
    ("who did I talk to last week?", date(2026, 11, 16), date(2026, 11, 22), "last week"),
    ("who have I met this month", date(2026, 11, 1), TODAY, "this month"),
    ("what did I log last month", date(2026, 10, 1), date(2026, 10, 31), "last month"),
    ("recent in the last 10 days", date(2026, 11, 14), TODAY, "in the last 10 days"),
    ("who have I spoken to over the past month?", date(2026, 10, 24), TODAY,
     "in the last month"),
    ("recent 3 weeks", date(2026, 11, 3), TODAY, "in the last 3 weeks"),
    ("who did I catch up with in the last few days", date(2026, 11, 21), TODAY,
     "in the last 3 days"),
    ("who did I talk to since Thursday?", date(2026, 11, 19), TODAY, "since Thu Nov 19"),
    ("who did I talk to on Friday", date(2026, 11, 20), date(2026, 11, 20), "on Fri Nov 20"),
    ("who did I talk to over the weekend?", date(2026, 11, 21), date(2026, 11, 22),
     "over the weekend"),
    ("my conversations in October", date(2026, 10, 1), date(2026, 10, 31), "in October"),
    ("recent december", date(2025, 12, 1), date(2025, 12, 31), "in December 2025"),
    ("recent this year", date(2026, 1, 1), TODAY, "this year"),
])
def test_spans_of_who_you_talked_to(line: str, first: date, last: date, label: str) -> None:
    assert parse(line) == c.ShowRecent(first, last, label)


def test_who_you_talked_to_about_something_or_with_someone_goes_where_it_is_answered() -> None:
    assert parse("my conversations with Lee Park") == c.ShowPerson(person("Lee Park"))
    about = parse("who did I talk to about the offsite?")
    assert isinstance(about, c.CommandError) and "“search the offsite”" in about.message
    at = parse("who did I meet at Acme")
    assert isinstance(at, c.CommandError) and "“who works at Acme?”" in at.message
    for still_to_come in ("recent tomorrow", "who did I talk to next week"):
        answer = parse(still_to_come)
        assert isinstance(answer, c.CommandError) and "still to come" in answer.message
    unread = parse("recent blah blah")
    assert isinstance(unread, c.CommandError) and "“since Monday”" in unread.message


@settings(max_examples=300, deadline=None)
@given(today=st.dates(min_value=date(2001, 1, 2), max_value=date(2099, 12, 31)),
       said=st.sampled_from(["", "today", "yesterday", "this week", "last week", "this month",
                             "last month", "this year", "over the weekend", "in the last 10 days",
                             "in the past month", "2 weeks", "since Monday", "on Friday",
                             "in March", "the last few weeks", "since 2001-01-01"]))
def test_every_span_ends_by_today_and_never_starts_after_it_ends(today: date,
                                                                  said: str) -> None:
    result = parse_command(f"recent {said}", today=today)
    assert isinstance(result, c.ShowRecent), result
    assert result.first_day <= result.last_day <= today


@pytest.mark.parametrize(("line", "first", "last", "label"), [
    ("meetings", TODAY, date(2026, 11, 29), "in the next 7 days"),
    ("agenda", TODAY, date(2026, 11, 29), "in the next 7 days"),
    ("my upcoming meetings", TODAY, date(2026, 11, 29), "in the next 7 days"),
    ("what meetings do I have today?", TODAY, TODAY, "today"),
    ("who am I meeting tomorrow?", date(2026, 11, 24), date(2026, 11, 24), "tomorrow"),
    ("who do I meet with this week", TODAY, date(2026, 11, 29), "this week"),
    ("meetings for the rest of the week", TODAY, date(2026, 11, 29), "this week"),
    ("meetings next week", date(2026, 11, 30), date(2026, 12, 6), "next week"),
    ("meetings on Friday", date(2026, 11, 27), date(2026, 11, 27), "on Fri Nov 27"),
    ("meetings in the next 10 days", TODAY, date(2026, 12, 2), "in the next 10 days"),
    ("prep for my meetings over the next 2 weeks", TODAY, date(2026, 12, 6),
     "in the next 2 weeks"),
    ("do I have any meetings this weekend?", date(2026, 11, 28), date(2026, 11, 29),
     "this weekend"),
])
def test_spans_of_meetings_to_come(line: str, first: date, last: date, label: str) -> None:
    assert parse(line) == c.ShowMeetings(first, last, label)


@pytest.mark.parametrize("line", ["prep me", "brief me", "next meeting", "meetings next",
                                  "when is my next meeting?", "who am I meeting next?",
                                  "prep for my next meeting"])
def test_the_next_meeting_alone(line: str) -> None:
    assert parse(line) == c.ShowMeetings(TODAY, date(2026, 12, 22), "next", True)


def test_meetings_that_have_passed_or_are_about_one_person_go_where_they_are_answered() -> None:
    for passed in ("meetings yesterday", "what meetings do I have last week"):
        answer = parse(passed)
        assert isinstance(answer, c.CommandError) and "“recent " in answer.message
    one = parse("meetings with Dana")
    assert isinstance(one, c.CommandError) and "“show Dana”" in one.message
    ahead = parse("who did I talk to next week")
    assert isinstance(ahead, c.CommandError) and "“meetings next week”" in ahead.message


@settings(max_examples=300, deadline=None)
@given(today=st.dates(min_value=date(2001, 1, 2), max_value=date(2099, 12, 1)),
       said=st.sampled_from(["", "today", "tomorrow", "this week", "next week", "this weekend",
                             "this month", "in the next 10 days", "next 2 weeks", "on Friday",
                             "sunday", "the next few days", "next", "2099-12-31"]))
def test_every_span_of_meetings_starts_today_or_later_and_never_ends_before_it_starts(
        today: date, said: str) -> None:
    result = parse_command(f"meetings {said}", today=today)
    assert isinstance(result, c.ShowMeetings), result
    assert today <= result.first_day <= result.last_day


@pytest.mark.parametrize("line", [
    "change Lee's rhythm to every 6 weeks", "Lee's rhythm is every 6 weeks",
    "set Lee rhythm 6 weeks", "set Lee's cadence to 6 weeks", "Lee’s rhythm should be 6 weeks",
    "change the rhythm for Lee to every 6 weeks", "set the frequency for Lee to 6 weeks"])
def test_a_rhythm_said_as_a_detail_is_the_rhythm(line: str) -> None:
    assert parse(line) == c.SetCadence(person("Lee"), 42)


def test_a_remark_about_a_rhythm_is_never_a_note() -> None:
    remark = parse("Lee's rhythm is too fast")
    assert isinstance(remark, c.CommandError) and "“every Lee 6 weeks”" in remark.message
    assert parse("set Lee's rhythm to off") == c.SetCadence(person("Lee"), None)


@pytest.mark.parametrize("line", ["who's in #clients?", "who is tagged clients",
                                  "people in clients", "people tagged #clients",
                                  "show #clients", "everyone in clients"])
def test_the_people_of_a_group_however_asked(line: str) -> None:
    assert parse(line) == c.ShowPeople("clients")


def test_tags_are_listed_with_the_goals_and_questions_about_someone_show_them() -> None:
    for line in ("what tags do I have?", "my tags", "tags", "which groups do I have"):
        assert parse(line) == c.ShowGoals(), line
    for line in ("what did I talk to Lee about?", "when should I talk to Lee next?",
                 "when's my next nudge about Lee?", "when should I call Lee again"):
        assert parse(line) == c.ShowPerson(person("Lee")), line
    # "I" is the one asking, never the name to suggest.
    asked = parse("what did I say about the offsite?")
    assert isinstance(asked, c.CommandError) and "“show I”" not in asked.message


def test_log_refuses_days_it_cannot_place_instead_of_keeping_them_as_the_summary() -> None:
    """Saved, each would be a conversation today "about" the date words."""
    for line in ("log Lee in -3 days", "log Lee -3 days ago", "log Dana Scully on Feb 30: call",
                 "log Lee on Feb 30"):
        answer = parse(line)
        assert isinstance(answer, c.CommandError) and "couldn't read" in answer.message, line
    for line in ("log Lee 3 days from now", "log Lee 2 weeks later"):
        answer = parse(line)
        assert isinstance(answer, c.CommandError) and "already happened" in answer.message, line
    assert parse("log Lee 3 days ago") == c.Log(person("Lee"), day=TODAY - timedelta(days=3),
                                                kind="chat", summary=None)


def test_a_pause_of_no_length_is_asked_about_not_read_as_a_person() -> None:
    for line in ("pause for 0 days", "pause for -1 week", "pause for zero days"):
        answer = parse(line)
        assert isinstance(answer, c.CommandError) and "how long" in answer.message, line
    assert parse("pause for 2 weeks") == c.Pause(TODAY + timedelta(days=14))


def test_an_edit_with_nothing_after_its_colon_wipes_nothing() -> None:
    answer = parse("edit t4:")
    assert isinstance(answer, c.CommandError) and "t4" in answer.message
    assert parse("edit t4 yesterday:") == c.EditTouch(4, day=TODAY - timedelta(days=1),
                                                      kind=None, summary=None)


@pytest.mark.parametrize(("phrase", "day"), [
    ("2 weeks from today", date(2026, 12, 7)),
    ("a week from today", date(2026, 11, 30)),
    ("2 weeks from tomorrow", date(2026, 12, 8)),
    ("3 days from now", date(2026, 11, 26)),
    ("2 weeks before today", date(2026, 11, 9)),
    ("a couple of days before yesterday", date(2026, 11, 20)),
    ("the day before yesterday", date(2026, 11, 21)),
    ("the day after tomorrow", date(2026, 11, 25)),
    ("a month from today", date(2026, 12, 23)),
    ("1 month before Dec 31", date(2026, 11, 30)),
    ("3 days after Friday", date(2026, 11, 30)),
])
def test_a_day_counted_from_another_is_one_day(phrase: str, day: date) -> None:
    assert parse_day(phrase, today=TODAY, direction="future") == day


@pytest.mark.parametrize("phrase", ["-2 weeks from today", "0 days from today",
                                    "100 years before today", "2 weeks from the launch",
                                    "2 weeks from"])
def test_a_count_that_cannot_be_placed_is_no_day(phrase: str) -> None:
    assert parse_day(phrase, today=TODAY, direction="past") is None


@pytest.mark.parametrize("line", [
    "log Lee 2 weeks from today", "log Lee a week from today", "log Lee 2 weeks from tomorrow",
    "log Lee a couple of weeks from today", "log Lee 2 weeks from next Monday",
    "log Lee: coffee 2 weeks from today", "log Lee: coffee 2 weeks from tomorrow",
    "log coffee with Lee a week from yesterday",
    "talked to Lee 3 days after today"])
def test_log_refuses_a_day_counted_into_the_future(line: str) -> None:
    """Each was logged today "about" its first words ("2 weeks from")."""
    answer = parse(line)
    assert isinstance(answer, c.CommandError) and "already happened" in answer.message, answer


@pytest.mark.parametrize(("line", "day", "kind"), [
    ("log Lee 2 weeks before today", date(2026, 11, 9), "chat"),
    ("log Lee the day before yesterday", date(2026, 11, 21), "chat"),
    ("log Lee day before yesterday: coffee", date(2026, 11, 21), "coffee"),
    ("log Lee a couple of weeks before today", date(2026, 11, 9), "chat"),
    ("log Lee a couple of weeks before today: coffee", date(2026, 11, 9), "coffee"),
    ("log Lee: coffee 2 weeks before today", date(2026, 11, 9), "coffee"),
    ("log coffee with Lee 3 days before last Friday", date(2026, 11, 17), "coffee"),
    ("log Lee: coffee a week before tomorrow", date(2026, 11, 17), "coffee"),
])
def test_log_on_a_day_counted_back_keeps_no_date_words(line: str, day: date, kind: str
                                                       ) -> None:
    logged = parse(line)
    assert isinstance(logged, c.Log), logged
    # Before a colon the longest name is read first ("Lee day before"): Lee's reading counts.
    [lee] = [reading for reading in (logged, *logged.alternatives)
             if reading.person == person("Lee")]
    assert (lee.day, lee.kind, lee.summary, lee.unsure) == (day, kind, None, None)


def test_a_summary_that_only_ends_near_a_count_is_kept() -> None:
    """"2 weeks before the launch" counts from no day Rapport can read: it is what was said."""
    logged = parse("log Lee: planning 2 weeks before the launch")
    assert isinstance(logged, c.Log) and logged.day is None
    assert logged.summary == "planning 2 weeks before the launch"


def test_log_refuses_a_count_it_cannot_place() -> None:
    for line in ("log Lee 100 years before today", "log Lee 2 weeks from",
                 "log Lee: coffee 100 years before tomorrow"):
        answer = parse(line)
        assert isinstance(answer, c.CommandError) and "couldn't read" in answer.message, line


@settings(max_examples=200, deadline=None)
@given(amount=st.integers(min_value=1, max_value=20),
       unit=st.sampled_from(["day", "days", "week", "weeks", "d", "w"]),
       way=st.sampled_from(["from", "after", "before"]),
       anchor=st.sampled_from(["today", "yesterday", "tomorrow", "now", "last Friday",
                               "next Monday", "Nov 2"]),
       name=st.sampled_from(["Lee", "Lee Park", "coffee with Lee", "talked to Lee"]))
def test_a_counted_day_in_a_log_is_its_day_or_refused_never_a_summary(
        amount: int, unit: str, way: str, anchor: str, name: str) -> None:
    phrase = f"{amount} {unit} {way} {anchor}"
    answer = parse(f"{'' if name.startswith('talked') else 'log '}{name} {phrase}")
    day = parse_day(phrase, today=TODAY, direction="past")
    counted_from = parse_day(anchor, today=TODAY, direction="past")
    assert day is not None and counted_from is not None
    if day > TODAY:
        assert isinstance(answer, c.CommandError) and "already happened" in answer.message
    elif isinstance(answer, c.CommandError):
        # Counted back from a day to come ("7 days before next Monday") in more words than a
        # log reads as one day: the day to come is refused, which writes nothing.
        assert counted_from > TODAY and "already happened" in answer.message, answer
    else:
        assert isinstance(answer, c.Log), answer
        # The reading that names the person, as the use case takes it.
        [named] = [reading for reading in (answer, *answer.alternatives)
                   if reading.person.text == ("Lee Park" if "Park" in name else "Lee")]
        assert (named.day, named.summary, named.unsure) == (day, None, None)


@pytest.mark.parametrize(("line", "text", "follow_up"), [
    ("note Lee: back 2 weeks from Friday", "back", date(2026, 12, 11)),
    ("note Lee: call 3 days from now", "call", date(2026, 11, 26)),
    ("note Lee: demo a week before Dec 10", "demo", date(2026, 12, 3)),
    # After "for" the amount is how long, and the day is when it starts.
    ("note Lee: off for 2 weeks from Monday", "off for 2 weeks", date(2026, 11, 30)),
])
def test_a_note_reads_a_counted_day_whole(line: str, text: str, follow_up: date) -> None:
    note = parse(line)
    assert isinstance(note, c.AddNote), note
    assert (note.text, note.follow_up_on) == (text, follow_up)


# ------------------------------------------------------------------ typed as people type them
# A Friday: "next Saturday" is the day after tomorrow's Saturday, "this Saturday" tomorrow.
FRIDAY = date(2026, 12, 4)


def on_friday(text: str) -> c.Command | c.CommandError:
    return parse_command(text, today=FRIDAY)


@pytest.mark.parametrize(("line", "text", "follow_up"), [
    ("note Dana: call her in two weeks", "call her", date(2026, 12, 18)),
    ("note Dana: call her in three days", "call her", date(2026, 12, 7)),
    ("note Dana: call her in ten days", "call her", date(2026, 12, 14)),
    ("note Dana: call her two weeks from now", "call her", date(2026, 12, 18)),
    ("note Dana: call her in a fortnight", "call her", date(2026, 12, 18)),
    # "A few" is three, as `recent` and `meetings` read "the last few days".
    ("note Dana: call her in a few days", "call her", date(2026, 12, 7)),
    ("note Dana: call her in a few weeks", "call her", date(2026, 12, 25)),
    ("remind me to call Dana in two weeks", "call", date(2026, 12, 18)),
])
def test_an_amount_in_words_gets_its_reminder(line: str, text: str, follow_up: date) -> None:
    """Each was kept with no reminder, and said nothing: only digits were counted."""
    note = on_friday(line)
    assert isinstance(note, c.AddNote), note
    assert (note.text, note.follow_up_on) == (text, follow_up)


def test_an_amount_nobody_can_count_says_it_looked_like_a_date() -> None:
    note = on_friday("note Dana: call her in several weeks")
    assert isinstance(note, c.AddNote) and note.follow_up_on is None
    assert note.unread_date == "in several weeks"


_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen", "twenty"]


@settings(deadline=None)
@given(amount=st.integers(min_value=1, max_value=20),
       unit=st.sampled_from(["days", "weeks"]),
       said=st.sampled_from(["note Dana: call her in {amount} {unit}",
                             "note Dana: call her {amount} {unit} from now",
                             "remind me to call Dana in {amount} {unit}"]))
def test_an_amount_reads_the_same_in_words_as_in_digits(amount: int, unit: str,
                                                         said: str) -> None:
    in_digits = on_friday(said.format(amount=amount, unit=unit))
    in_words = on_friday(said.format(amount=_WORDS[amount - 1], unit=unit))
    assert isinstance(in_digits, c.AddNote) and isinstance(in_words, c.AddNote)
    assert in_words.follow_up_on == in_digits.follow_up_on is not None
    assert in_words.text == in_digits.text


@pytest.mark.parametrize(("line", "day", "kind"), [
    ("log Lee a fortnight ago", date(2026, 11, 20), "chat"),
    ("log Lee a few days ago", date(2026, 12, 1), "chat"),
    ("log Lee a couple of days ago", date(2026, 12, 2), "chat"),
    ("log Lee on Mon", date(2026, 11, 30), "chat"),
    ("log Lee on Wed", date(2026, 12, 2), "chat"),
    ("log Lee on Sat", date(2026, 11, 28), "chat"),
    ("log Lee on Sun", date(2026, 11, 29), "chat"),
    ("log Lee on Tue", date(2026, 12, 1), "chat"),
    ("log Lee: coffee 2 days ago", date(2026, 12, 2), "coffee"),
    ("log Lee: coffee a couple of days ago", date(2026, 12, 2), "coffee"),
    ("log Lee: coffee on Dec 1", date(2026, 12, 1), "coffee"),
    ("log Lee: coffee 2026-02-25", date(2026, 2, 25), "coffee"),
    ("log Lee: coffee last week", date(2026, 11, 27), "coffee"),
    ("log Lee coffee about the launch a couple of days ago", date(2026, 12, 2), "coffee"),
])
def test_a_past_day_however_said_is_the_day_and_never_the_summary(line: str, day: date,
                                                                  kind: str) -> None:
    """Each was logged today "about" its date words ("on Mon", "a fortnight ago"), or asked
    about a person called "Lee a"."""
    logged = on_friday(line)
    assert isinstance(logged, c.Log), logged
    assert (logged.person, logged.day, logged.kind) == (person("Lee"), day, kind)
    assert logged.summary in (None, "about the launch")


def test_a_date_that_is_what_was_talked_about_stays_in_the_summary() -> None:
    """After "for", "about" or "is" a date is the topic; a span after other words too."""
    for line, summary in (("log Lee: planning for Dec 10", "planning for Dec 10"),
                          ("log Lee: went over the plan for next week",
                           "went over the plan for next week"),
                          ("log Lee: her birthday is May 4", "her birthday is May 4")):
        logged = on_friday(line)
        assert isinstance(logged, c.Log) and logged.day is None, (line, logged)
        assert logged.summary == summary
    # "sat" is no Saturday unless said as a day ("on Sat").
    sat = on_friday("log Lee sat with me")
    assert isinstance(sat, c.Log) and sat.day is None and sat.summary == "sat with me"


def test_a_day_to_come_at_the_end_of_a_summary_is_refused_as_a_plan() -> None:
    """"log Lee: coffee next Monday" was logged last Monday "about" “next”."""
    for line in ("log Lee: coffee next Monday", "log Lee: coffee tomorrow",
                 "log Lee: coffee in a fortnight"):
        answer = on_friday(line)
        assert isinstance(answer, c.CommandError) and "already happened" in answer.message, \
            (line, answer)


def test_a_month_without_its_day_is_asked_about_not_logged_today() -> None:
    """A conversation is kept by its day; "in November" names none of them."""
    for line in ("log Lee in November", "log Lee: coffee in November", "log Lee early Nov"):
        answer = on_friday(line)
        assert isinstance(answer, c.CommandError), (line, answer)
        assert "couldn't read" in answer.message and "Nov 12" in answer.message, answer
    # Said after other words, a month is what was talked about.
    plans = on_friday("log Lee: plans to move in March")
    assert isinstance(plans, c.Log) and plans.summary == "plans to move in March"


_DAYS_SAID = ["yesterday", "last Friday", "3 days ago", "a couple of days ago",
              "a fortnight ago", "on Mon", "on Monday", "on Dec 1", "2026-11-25",
              "the day before yesterday", "a week ago", "Tuesday", "last night"]


@settings(deadline=None)
@given(day_said=st.sampled_from(_DAYS_SAID),
       shape=st.sampled_from(["log Lee {day}", "log Lee {day} coffee", "log Lee coffee {day}",
                              "log Lee: {day}", "log Lee: coffee {day}",
                              "had coffee with Lee {day}", "talked to Lee {day}"]),
       punctuation=st.sampled_from(["", "!", "?", "!!", "?!", ".", "…", ","]))
def test_a_log_never_stores_date_words_as_its_summary(day_said: str, shape: str,
                                                      punctuation: str) -> None:
    logged = on_friday(shape.format(day=day_said) + punctuation)
    assert isinstance(logged, c.Log), logged
    said = day_said.removeprefix("on ")
    assert logged.day == parse_day(said, today=FRIDAY, direction="past")
    assert logged.summary is None and logged.unsure is None, logged


@settings(deadline=None)
@given(day_said=st.sampled_from([*_DAYS_SAID, "last Fri", "3 days ago"]),
       verb=st.sampled_from(["log Dana", "log Dana: coffee", "talked to Dana"]),
       around=st.sampled_from(["{}!", "{}?", "{}!!", "{}?!", "{}…", "({})", "{} !", "{}."]))
def test_trailing_punctuation_never_changes_the_day_read(day_said: str, verb: str,
                                                         around: str) -> None:
    plain = on_friday(f"{verb} {day_said}")
    marked = on_friday(f"{verb} {around.format(day_said)}")
    assert isinstance(plain, c.Log) and isinstance(marked, c.Log), (plain, marked)
    assert (marked.day, marked.kind, marked.summary) == (plain.day, plain.kind, plain.summary)


@settings(deadline=None)
@given(day_said=st.sampled_from(["tomorrow", "next Tuesday", "on Friday", "in two weeks",
                                 "in 3 days", "next Saturday", "Dec 10"]),
       note=st.sampled_from(["note Dana: demo {}", "note Dana: call her {}",
                             "remind me to call Dana {}"]),
       punctuation=st.sampled_from(["!", "?", "!!", "?!", "…", "."]))
def test_trailing_punctuation_never_changes_a_notes_day_nor_stays_in_its_text(
        day_said: str, note: str, punctuation: str) -> None:
    plain = on_friday(note.format(day_said))
    marked = on_friday(note.format(day_said) + punctuation)
    assert isinstance(plain, c.AddNote) and isinstance(marked, c.AddNote), (plain, marked)
    assert marked.follow_up_on == plain.follow_up_on is not None
    assert marked.text == plain.text


def test_a_reminder_said_with_an_exclamation_keeps_its_day() -> None:
    """"remind me to call Dana tomorrow!" answered "When should I remind you?"."""
    reminder = on_friday("remind me to call Dana tomorrow!")
    assert isinstance(reminder, c.AddNote), reminder
    assert (reminder.person, reminder.text, reminder.follow_up_on) == (
        person("Dana"), "call", date(2026, 12, 5))
    note = on_friday("note Dana: call her tomorrow!")
    assert isinstance(note, c.AddNote) and note.text == "call her"


def test_a_reading_without_a_day_leaves_the_one_with_a_day() -> None:
    """"Dana tomorrow!" as the name leaves no day; "Dana" with "tomorrow!" has one, and
    the reminder is kept (it answered “When should I remind you?”)."""
    reminder = on_friday("remind me to call Dana tmrw!!")
    assert isinstance(reminder, c.AddNote) and reminder.follow_up_on == date(2026, 12, 5)
    asked = on_friday("remind me to call Dana about the deck")
    assert isinstance(asked, c.CommandError) and "When should I remind you" in asked.message


def test_a_fortnight_is_two_weeks_wherever_a_length_goes() -> None:
    assert on_friday("pause for a fortnight") == c.Pause(date(2026, 12, 18))
    assert on_friday("snooze Dana a fortnight") == c.Snooze(person("Dana"), date(2026, 12, 18))


@pytest.mark.parametrize("line", ["delete goal clients", "remove the clients goal",
                                  "delete the goal for #clients", "remove goal clients."])
def test_deleting_a_goal_turns_it_off(line: str) -> None:
    """It was "I don't know anyone called “goal clients”"."""
    assert on_friday(line) == c.SetGoal("clients", None)


def test_deleting_a_goal_without_its_group_asks_which() -> None:
    answer = on_friday("delete the goal")
    assert isinstance(answer, c.CommandError) and "Which group's goal" in answer.message


@pytest.mark.parametrize("reaction", ["🎉", "👍 🎉", "☕️"])
def test_an_emoji_after_a_new_name_is_a_reaction_not_part_of_it(reaction: str) -> None:
    """"add Dana Scully 🎉" added a second Dana, "Dana Scully 🎉"."""
    added = on_friday(f"add Dana Scully {reaction}")
    assert isinstance(added, c.AddContact) and added.person == person("Dana Scully")
    with_role = on_friday(f"add Hiro Tanaka, VP Sales at Umbrella {reaction}")
    assert isinstance(with_role, c.AddContact) and with_role.company == "Umbrella"


@pytest.mark.parametrize(("line", "words"), [
    ("search renewal!", "renewal"), ("search contract?", "contract"),
    ("search initech.", "initech"), ("search “hiking trip”!", "hiking trip"),
    ("search renewal, initech", "renewal initech"),
    # Inside a word, punctuation is searched for.
    ("search o'brien", "o'brien"), ("search q3-plan", "q3-plan"), ("search v1.2?", "v1.2"),
])
def test_search_words_without_the_punctuation_that_ends_them(line: str, words: str) -> None:
    assert on_friday(line) == c.Search(words)


@pytest.mark.parametrize(("line", "day"), [
    # Said on a Friday, "next Saturday" is not tomorrow: tomorrow's is "this Saturday".
    ("note Dana: hiking trip next Saturday", date(2026, 12, 12)),
    ("note Dana: hiking trip this Saturday", date(2026, 12, 5)),
    ("note Dana: hiking trip on Saturday", date(2026, 12, 5)),
    ("note Dana: hiking trip next weekend", date(2026, 12, 12)),
    ("note Dana: hiking trip this weekend", date(2026, 12, 5)),
    # Further off, "next" is the coming one, as dateparser reads it.
    ("note Dana: demo next Monday", date(2026, 12, 7)),
    ("note Dana: demo next Thursday", date(2026, 12, 10)),
])
def test_next_weekday_is_never_tomorrow(line: str, day: date) -> None:
    note = on_friday(line)
    assert isinstance(note, c.AddNote) and note.follow_up_on == day, note


@given(today=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
       weekday=st.sampled_from(["monday", "tuesday", "wednesday", "thursday", "friday",
                                "saturday", "sunday"]))
def test_next_weekday_is_within_two_to_eight_days(today: date, weekday: str) -> None:
    day = parse_day(f"next {weekday}", today=today, direction="future")
    assert day is not None and 2 <= (day - today).days <= 8
    assert day.strftime("%A").lower() == weekday


@pytest.mark.parametrize(("line", "month", "day", "year"), [
    ("date Dana birthday 13/5", 5, 13, None), ("date Dana birthday 31/12", 12, 31, None),
    ("date Dana birthday 5/13", 5, 13, None), ("date Dana birthday 4/5", 4, 5, None),
    ("date Dana birthday 31/12/1990", 12, 31, 1990),
])
def test_a_day_before_its_month_is_read_when_it_cannot_be_a_month(
        line: str, month: int, day: int, year: int | None) -> None:
    """"13/5" was refused though `log Lee 30/11` reads day/month; "4/5" stays April 5."""
    assert on_friday(line) == c.SetDate(person("Dana"), "birthday", month, day, year)


def test_an_iso_date_is_never_read_day_first() -> None:
    answer = on_friday("date Dana birthday 2019-13-05")
    assert isinstance(answer, c.CommandError)


@pytest.mark.parametrize(("line", "kind", "summary"), [
    ("done #2: coffee, her new team", "coffee", "her new team"),
    ("done Dana: had lunch", "lunch", None),
    ("done Dana: call about Q3", "call", "about Q3"),
    ("done Dana: her new team", None, "her new team"),
])
def test_done_reads_the_kind_as_log_does(line: str, kind: str | None,
                                         summary: str | None) -> None:
    done = on_friday(line)
    assert isinstance(done, c.Done) and (done.kind, done.summary) == (kind, summary), done
    logged = on_friday(line.replace("done #2", "log Dana").replace("done Dana", "log Dana"))
    assert isinstance(logged, c.Log) and logged.summary == summary
    assert logged.kind == (kind or "chat")


@pytest.mark.parametrize(("line", "mention_id", "label"), [
    ("<@U0DANA>", "U0DANA", None), ("<@U0DANA|dana>?", "U0DANA", "dana"),
    ("“<@U0DANA>”", "U0DANA", None), ("/rapport <@U0DANA|dana>", "U0DANA", "dana"),
])
def test_a_line_that_is_one_mention_is_that_persons_card(line: str, mention_id: str,
                                                         label: str | None) -> None:
    """The grammar reads it itself; the Slack and Teams adapters need not ask first."""
    assert on_friday(line) == c.ShowPerson(c.PersonRef(text=label or "",
                                                       mention_id=mention_id,
                                                       mention_name=label))


@pytest.mark.parametrize("line", ["<@U0DANA> coffee yesterday", "<@U1> <@U2>",
                                  "<@U0DANA|dana> can you send the deck?"])
def test_a_line_that_starts_with_mentions_never_echoes_their_markup(line: str) -> None:
    """It answered “I don't know the command “<@u0dana>””, and stored nothing."""
    answer = on_friday(line)
    assert isinstance(answer, c.CommandError), answer
    assert "<@" not in answer.text() and "u0dana" not in answer.text().lower(), answer


# ------------------------------------------------------------------ date phrases as typed
# An exploratory session at the console, on a Wednesday.
WEDNESDAY = date(2026, 12, 9)


def on_wednesday(text: str) -> c.Command | c.CommandError:
    return parse_command(text, today=WEDNESDAY)


def _lees(answer: c.Command | c.CommandError) -> list[c.Log]:
    """The readings of a log line that name Lee, as the use case takes them."""
    assert isinstance(answer, c.Log), answer
    return [reading for reading in (answer, *answer.alternatives)
            if reading.person == person("Lee")]


@settings(deadline=None)
@given(amount=st.integers(min_value=1, max_value=20),
       unit=st.sampled_from(["day", "days", "week", "weeks", "d", "w", "wks"]),
       shape=st.sampled_from(["log Lee {}", "log Lee coffee {}", "log Lee: coffee {}",
                              "talked to Lee {}", "coffee w Lee {}", "log Lee {}: lunch"]))
def test_a_day_counted_back_reads_as_the_same_count_ago(amount: int, unit: str,
                                                         shape: str) -> None:
    """"log Dana 2 days back" was logged today "about" “2 days back”."""
    back = on_wednesday(shape.format(f"{amount} {unit} back"))
    ago = on_wednesday(shape.format(f"{amount} {unit} ago"))
    [lee_back], [lee_ago] = _lees(back), _lees(ago)
    assert lee_back.day is not None and lee_back.day < WEDNESDAY
    assert (lee_back.day, lee_back.kind, lee_back.summary) == (lee_ago.day, lee_ago.kind,
                                                              lee_ago.summary)


@pytest.mark.parametrize(("line", "day", "kind"), [
    ("drinks w Lee last nite", date(2026, 12, 8), "drinks"),
    ("log Lee last nite", date(2026, 12, 8), "chat"),
    ("log Lee: coffee last nite", date(2026, 12, 8), "coffee"),
    ("log Lee yesterday nite", date(2026, 12, 8), "chat"),
    ("log Lee a couple of weeks back", date(2026, 11, 25), "chat"),
    ("log Lee last wknd", date(2026, 12, 5), "chat"),
])
def test_chat_spellings_of_a_past_day_are_that_day(line: str, day: date, kind: str) -> None:
    [lee] = _lees(on_wednesday(line))
    assert (lee.day, lee.kind, lee.summary, lee.unsure) == (day, kind, None, None)


# Time phrases no day can be read from with confidence: vague ("the other day"), counted in
# amounts nobody can count ("several days ago"), lengths where a day goes ("3 days"), "last"
# with a word that is no day ("last nght").
_TIME_LIKE = ["the other day", "the other night", "other day", "a while back", "a while ago",
              "a little while ago", "several days ago", "some weeks back", "many months back",
              "3 days", "two weeks", "a few days", "a couple of weeks", "last nght",
              "last evning", "ages ago", "2 dayz ago", "3 days bak"]


@settings(deadline=None)
@given(time_said=st.sampled_from(_TIME_LIKE),
       shape=st.sampled_from(["log Lee {}", "log Lee coffee {}", "log Lee: coffee {}",
                              "log Lee: {}", "talked to Lee {}", "coffee w Lee {}",
                              "had lunch with Lee {}", "log Lee coffee about the launch {}"]),
       punctuation=st.sampled_from(["", ".", "!", "?", "…"]))
def test_a_time_phrase_ending_a_log_is_never_its_summary_on_a_conversation_today(
        time_said: str, shape: str, punctuation: str) -> None:
    """Rapport's promise: read the way you type, or asked back, never a silently wrong write.
    Saved, each was a conversation today "about" its time words."""
    answer = on_wednesday(shape.format(time_said) + punctuation)
    if isinstance(answer, c.CommandError):
        assert "nothing was logged" in answer.message.lower(), answer
        assert "?" in answer.message or "Say " in answer.message, answer
        return
    for lee in _lees(answer):
        assert lee.day is not None, (shape, time_said, lee)
        assert time_said.split()[-1] not in (lee.summary or ""), lee


def test_the_other_day_asks_which_day() -> None:
    answer = on_wednesday("talked to Dana the other day")
    assert isinstance(answer, c.CommandError), answer
    assert answer.message.startswith("Which day was “the other day”? Nothing was logged"), answer
    assert "2 days ago" in answer.message and "Dec 7" in answer.message


def test_a_time_phrase_that_is_what_was_talked_about_stays_in_the_summary() -> None:
    """After "for", "about" or "is" the words are the topic, as a date there is."""
    for line, summary in (("log Lee: planning for the next 2 weeks",
                           "planning for the next 2 weeks"),
                          ("log Lee: her leave is 3 weeks", "her leave is 3 weeks"),
                          ("log Lee: reviewed the last slide", "reviewed the last slide"),
                          ("log Lee: we talked about the other day",
                           "we talked about the other day")):
        [lee] = _lees(on_wednesday(line))
        assert (lee.day, lee.summary) == (None, summary), line


@pytest.mark.parametrize(("line", "past"), [
    ("note Dana: her son's wedding was last weekend", date(2026, 12, 5)),
    ("note Dana: wedding last weekend was lovely", date(2026, 12, 5)),
    ("note Dana: ran a marathon on Sunday", date(2026, 12, 6)),
    ("note Dana: her son's wedding was on Saturday", date(2026, 12, 5)),
    ("note Dana: her party was Saturday", date(2026, 12, 5)),
    ("note Dana: went hiking on Monday", date(2026, 12, 7)),
    ("note Dana: had her surgery on Tuesday", date(2026, 12, 8)),
    ("note Dana: we met for lunch on Friday", date(2026, 12, 4)),
    ("note Dana: the kids were sick on Monday", date(2026, 12, 7)),
])
def test_a_past_day_in_a_note_is_past_and_the_note_keeps_its_words(line: str,
                                                                    past: date) -> None:
    note = on_wednesday(line)
    assert isinstance(note, c.AddNote), note
    assert (note.follow_up_on, note.past_date) == (None, past)
    assert note.text == line.split(": ", 1)[1]


@pytest.mark.parametrize(("line", "follow_up"), [
    ("note Dana: runs a marathon on Sunday", date(2026, 12, 13)),
    ("note Dana: her party is on Saturday", date(2026, 12, 12)),
    ("note Dana: she asked me to call on Friday", date(2026, 12, 11)),
    ("note Dana: had to move the demo to Friday", date(2026, 12, 11)),
    ("note Dana: was planning to visit on Friday", date(2026, 12, 11)),
    ("note Dana: was told the launch is on Friday", date(2026, 12, 11)),
    ("note Dana: went over the plan, call her on Friday", date(2026, 12, 11)),
    ("note Dana: wedding was moved, remind me on Saturday", date(2026, 12, 12)),
    ("note Dana: had a great time, demo next Friday", date(2026, 12, 11)),
    ("note Dana: booked the venue for Saturday", date(2026, 12, 12)),
])
def test_a_day_to_come_in_a_note_keeps_its_reminder(line: str, follow_up: date) -> None:
    note = on_wednesday(line)
    assert isinstance(note, c.AddNote) and note.follow_up_on == follow_up, note


# (shape, the text the note keeps): the day's words go, the rest keeps its words and order.
_NOTE_SHAPES = [
    ("ping Dana {} about the contract", "ping about the contract"),
    ("email Dana {} about the contract", "email about the contract"),
    ("remind me to call Dana {} about the offsite", "call about the offsite"),
    ("note Dana: A {}", "A"),
    ("note Dana: lunch {} with the team", "lunch with the team"),
    ("note Dana: call her {} re the offsite", "call her re the offsite"),
    ("note Dana: hiking {}", "hiking"),
]


@settings(deadline=None)
@given(day_said=st.sampled_from(["next Monday", "next week", "tomorrow", "on Friday",
                                 "this weekend", "next Sat", "next Thurs", "in 2 weeks",
                                 "on Sat", "next Tues", "this Thursday"]),
       shape=st.sampled_from(_NOTE_SHAPES))
def test_the_words_that_set_a_reminders_day_never_stay_in_its_text(
        day_said: str, shape: tuple[str, str]) -> None:
    said, kept = shape
    note = on_wednesday(said.format(day_said))
    assert isinstance(note, c.AddNote), note
    assert note.follow_up_on == parse_day(day_said.removeprefix("on "), today=WEDNESDAY,
                                          direction="future") is not None
    assert note.text == kept, (said.format(day_said), note.text)


@pytest.mark.parametrize(("line", "day"), [
    ("note Dana: hiking Sat.", date(2026, 12, 12)),
    ("note Dana: Hiking Sun.", date(2026, 12, 13)),
    ("note Dana: hiking Wed.", date(2026, 12, 16)),
    ("note Dana: hiking Thurs.", date(2026, 12, 10)),
    ("note Dana: hiking next Sat.", date(2026, 12, 12)),
    ("note Dana: hiking this Sat", date(2026, 12, 12)),
])
def test_a_weekday_shortened_with_its_full_stop_or_after_next_is_that_day(line: str,
                                                                         day: date) -> None:
    note = on_wednesday(line)
    assert isinstance(note, c.AddNote) and note.follow_up_on == day, note
    assert note.text.lower() == "hiking"


@pytest.mark.parametrize("line", ["note Dana: she sat.", "note Dana: intro to Wei Sun.",
                                  "note Dana: the dog sat", "note Dana: hiking sat."])
def test_a_short_weekday_that_may_be_a_word_or_a_name_makes_no_reminder(line: str) -> None:
    note = on_wednesday(line)
    assert isinstance(note, c.AddNote) and note.follow_up_on is None, note


def test_a_colon_after_a_name_is_no_part_of_it_when_asked_back() -> None:
    answer = on_wednesday("message Dana: congrats on the launch")
    assert isinstance(answer, c.CommandError), answer
    assert answer.message == ("Did you talk to Dana? “log Dana message” records it. Or to be "
                              "reminded: “message Dana on Friday”.")


@pytest.mark.parametrize(("line", "expected"), [
    ("settings tz Europe/Berlin.", c.Settings(tz="Europe/Berlin")),
    ("settings tz new york!", c.Settings(tz="new york")),
    ("settings tone brief.", c.Settings(tone="brief")),
    ("settings digest off.", c.Settings(digest=False)),
])
def test_a_full_stop_ending_a_setting_is_not_part_of_its_value(line: str,
                                                               expected: c.Settings) -> None:
    assert on_wednesday(line) == expected
