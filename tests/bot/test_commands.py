"""The command grammar and date phrases: pure unit and property tests (no database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.bot.core import commands as c
from rapport.bot.core import verbs as v
from rapport.bot.core.commands import CommandError, PersonRef, parse_working_days
from rapport.bot.core.dates import parse_clock, parse_day, parse_duration_days
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.verbs import parse_command
from tests.conftest import console_user

# Monday 2026-11-23, the same day as the shared clock fixture.
TODAY = date(2026, 11, 23)
YESTERDAY = date(2026, 11, 22)


def parse(text: str) -> c.Command | CommandError:
    return parse_command(text, today=TODAY)


def ok(text: str) -> c.Command:
    result = parse(text)
    assert not isinstance(result, CommandError), (text, result)
    return result


def err(text: str, verb: str | None = None) -> CommandError:
    result = parse(text)
    assert isinstance(result, CommandError), (text, result)
    assert result.verb == verb
    rendered = result.text()
    assert 0 < len(rendered) < 600
    if verb is not None:
        assert rendered.endswith(f"Usage: {v.SPECS[verb].usage}")
    return result


def person(text: str) -> PersonRef:
    return PersonRef(text=text)


# --------------------------------------------------------------------------- log
@pytest.mark.parametrize(("text", "expected"), [
    ("log Dana", c.Log(person("Dana"), None, "chat", None)),
    ("log Dana coffee", c.Log(person("Dana"), None, "coffee", None)),
    ("log Dana in person", c.Log(person("Dana"), None, "in person", None)),
    ("log Dana yesterday", c.Log(person("Dana"), YESTERDAY, "chat", None)),
    ("log Dana yesterday call", c.Log(person("Dana"), YESTERDAY, "call", None)),
    ("log Dana 2026-11-20 email", c.Log(person("Dana"), date(2026, 11, 20), "email", None)),
    ("log Dana last tuesday", c.Log(person("Dana"), date(2026, 11, 17), "chat", None)),
    ("log Dana friday", c.Log(person("Dana"), date(2026, 11, 20), "chat", None)),
    ("log Dana 2 days ago", c.Log(person("Dana"), date(2026, 11, 21), "chat", None)),
    ("log Dana pairing", c.Log(person("Dana"), None, "pairing", None)),
    ("log Dana yesterday: coffee about Q3",
     c.Log(person("Dana"), YESTERDAY, "coffee", "about Q3")),
    ("log Dana coffee: talked about Q3", c.Log(person("Dana"), None, "coffee", "talked about Q3")),
    ("log Dana yesterday pairing: design review",
     c.Log(person("Dana"), YESTERDAY, "pairing", "design review")),
    ("log Dana yesterday in person: lunch", c.Log(person("Dana"), YESTERDAY, "in person", "lunch")),
    ("log Dana in person: lunch", c.Log(person("Dana"), None, "in person", "lunch")),
    ("log Dana: in person, lunch", c.Log(person("Dana"), None, "in person", "lunch")),
    ("log Lee Park yesterday: call about the Q3 plan",
     c.Log(person("Lee Park"), YESTERDAY, "call", "about the Q3 plan")),
    ('log "Dana Scully" call', c.Log(person("Dana Scully"), None, "call", None)),
    ("LOG Dana Coffee", c.Log(person("Dana"), None, "coffee", None)),
    ("logged Dana", c.Log(person("Dana"), None, "chat", None)),
    ("/rapport log Dana", c.Log(person("Dana"), None, "chat", None)),
])
def test_log_forms(text: str, expected: c.Log) -> None:
    assert ok(text) == expected


def test_log_mention_carries_id_and_name() -> None:
    command = ok("log <@U123|dana> call")
    assert command == c.Log(PersonRef("dana", "U123", "dana"), None, "call", None)


def test_a_name_beside_a_mention_is_the_mention_and_two_mentions_are_asked_about() -> None:
    assert ok("add Dana <@U0DANA>") == ok("add <@U0DANA>")
    assert ok("every Dana <@U0DANA|dana> 2 weeks") == c.SetCadence(
        PersonRef(text="dana", mention_id="U0DANA", mention_name="dana"), 14)
    for line in ("log <@U1> <@U2> call",
                 "note <@U1> <@U2>: the offsite", "show <@U1> <@U2>"):
        assert "One person at a time" in err(line, line.split()[0].replace("had", "log")
                                             ).message


def test_a_line_in_quotes_is_read_as_its_words_and_set_reads_yearly_dates() -> None:
    assert ok("“log Dana coffee yesterday”") == ok("log Dana coffee yesterday")
    assert ok('"had lunch with Priya on Friday."') == ok("had lunch with Priya on Friday")
    assert ok("‘show Dana Scully’") == ok("show Dana Scully")
    assert parse("“Dana”") == parse("Dana")
    assert ok("set Dana birthday May 4") == c.SetDate(PersonRef(text="Dana"), "birthday", 5, 4,
                                                      None)
    assert ok("set Lee's birthday to 4 May") == ok("date Lee birthday May 4")
    assert ok("set Lee Park work anniversary March 1 2019") == c.SetDate(
        PersonRef(text="Lee Park"), "anniversary", 3, 1, 2019)
    assert "Which day?" in err("set Dana birthday Feb 30", "date").message
    # A detail said as a fact is `set`; a remark that only looks like one is no command.
    assert ok("Dana's email is dana@acme.com") == ok("set Dana email dana@acme.com")
    assert ok("Lee’s new role is CTO") == ok("set Lee role CTO")
    assert ok("lee's title: VP Sales") == ok("set lee role VP Sales")
    # A remark about Dana, not her role: kept as a note about her.
    assert ok("Dana's new job is tough") == ok("note Dana: new job is tough")
    assert "“show Dana” lists them" in err("delete Dana's second note", "delete").message
    assert "“show Dana” lists them" in err("delete the conversation with Lee", "delete").message
    assert ok("forget about Lee") == c.Forget(PersonRef(text="Lee"), False)


def test_log_today_and_nonsense_day_words_are_not_dates() -> None:
    assert ok("log Dana today") == c.Log(person("Dana"), TODAY, "chat", None)
    # An unknown word is never read as a date: it stays the summary.
    assert ok("log Dana on Zorgday") == c.Log(person("Dana"), None, "chat", "on Zorgday")


@pytest.mark.parametrize("text", ["log Dana tomorrow", "log Dana 2027-01-01: plans",
                                  "log Dana next friday", "log Dana in 2 weeks"])
def test_log_refuses_the_future(text: str) -> None:
    assert "already happened" in err(text, "log").message


def test_log_refuses_a_date_ten_years_back_and_long_summaries() -> None:
    assert "ten years" in err("log Dana 2001-01-01", "log").message
    assert "under 1,000" in err("log Dana: " + "x" * 1500, "log").message


@pytest.mark.parametrize(("text", "answer"), [
    ("log Lee on 2026-13-45", "couldn't read “2026-13-45”"),
    ("log Lee 2026-02-30", "couldn't read “2026-02-30”"),
    ("log Lee: call on 2026-13-45", "couldn't read “2026-13-45”"),
    ("log Lee on feb 30", "couldn't read “feb 30”"),
    ("log Lee 15/13", "couldn't read “15/13”"),
    ("log Lee on fridya", "couldn't read “fridya”"),
    ("log Dana Scully 100 years ago", "more than ten years ago"),
    ("log Dana 20 years ago", "more than ten years ago"),
    ("log Dana in 100 years", "already happened"),
])
def test_log_refuses_a_date_it_cannot_read_instead_of_saving_today(text: str, answer: str
                                                                  ) -> None:
    assert answer in err(text, "log").message


def test_log_zero_days_ago_is_today_and_date_like_words_in_a_summary_stay() -> None:
    assert ok("log Dana 0 days ago") == c.Log(person("Dana"), TODAY, "chat", None)
    assert ok("log Dana Scully 0 days ago").alternatives[0] == c.Log(  # type: ignore[union-attr]
        person("Dana Scully"), TODAY, "chat", None)
    for summary in ("agreed 50/50", "roadmap for June 2027", "her 30th",
                    "complained about mondays", "planning for next sprint"):
        assert ok(f"log Dana: {summary}") == c.Log(person("Dana"), None, "chat", summary)


# --------------------------------------------------------------------------- note
def test_note_forms() -> None:
    assert ok("note Dana: hiking trip in Yosemite after Saturday") == c.AddNote(
        person("Dana"), "hiking trip in Yosemite", date(2026, 11, 29))  # the day after Sat 28
    assert ok("note Dana: dentist on Friday") == c.AddNote(person("Dana"), "dentist",
                                                           date(2026, 11, 27))
    assert ok("note Dana: her new job") == c.AddNote(person("Dana"), "her new job", None)
    assert ok("note Dana new job on May 4") == c.AddNote(person("Dana"), "new job",
                                                         date(2027, 5, 4))
    assert ok("note Dana Scully: promotion, follow up in 2 weeks") == c.AddNote(
        person("Dana Scully"), "promotion", date(2026, 12, 7))
    assert ok("remember Dana: likes tea") == c.AddNote(person("Dana"), "likes tea", None)
    # "on" followed by something that is not a date stays part of the note.
    assert ok("note Dana: talk on distributed systems") == c.AddNote(
        person("Dana"), "talk on distributed systems", None)


@pytest.mark.parametrize(("line", "text"), [
    ("note Dana: demo at 3pm tomorrow", "demo at 3pm"),
    ("note Dana: standup at 9:30 tomorrow", "standup at 9:30"),
    ("note Dana: demo at 3 pm tomorrow", "demo at 3 pm"),
    ("note Dana: lunch at noon tomorrow", "lunch at noon"),
    # And after it, the same: a "tomorrow" kept in the text would be wrong on the day.
    ("note Dana: demo tomorrow at 3pm", "demo at 3pm"),
])
def test_note_with_a_time_before_the_day_keeps_the_reminder(line: str, text: str) -> None:
    tomorrow = TODAY + timedelta(days=1)
    assert ok(line) == c.AddNote(person("Dana"), text, tomorrow, event_on=tomorrow)


@pytest.mark.parametrize(("line", "text", "day"), [
    # Any day words before a time, not only "tomorrow": "next Thursday" is wrong on that
    # Thursday, when the reminder comes and names the day itself.
    ("note Dana: his kid's recital next Thursday at 6pm", "his kid's recital at 6pm",
     date(2026, 11, 26)),
    ("note Dana: recital Thursday at 6:30 pm", "recital at 6:30 pm", date(2026, 11, 26)),
    ("note Dana: recital Dec 10 at noon", "recital at noon", date(2026, 12, 10)),
    ("note Dana: recital next Thursday in the evening", "recital in the evening",
     date(2026, 11, 26)),
])
def test_note_with_a_day_then_a_time_keeps_only_the_time(line: str, text: str,
                                                         day: date) -> None:
    assert ok(line) == c.AddNote(person("Dana"), text, day, event_on=day)


def test_note_after_an_event_on_a_day_asks_the_day_after_wherever_it_stands() -> None:
    friday, saturday = date(2026, 11, 27), date(2026, 11, 28)
    assert ok("note Zoë: after the offsite on Friday") == c.AddNote(
        person("Zoë"), "the offsite", saturday, event_on=friday)
    assert ok("note Zoë: moving house after the offsite on Friday") == c.AddNote(
        person("Zoë"), "moving house after the offsite", saturday, event_on=friday)
    assert ok("note Zoë: moving house after the offsite on Friday with Sam") == c.AddNote(
        person("Zoë"), "moving house after the offsite with Sam", saturday, event_on=friday)
    # Without "after", the day itself.
    assert ok("note Zoë: moving house on Friday") == c.AddNote(
        person("Zoë"), "moving house", friday, event_on=friday)


def test_note_errors() -> None:
    assert "What should I remember" in err("note Dana", "note").message
    assert "What should I remember" in err("note Dana:", "note").message
    assert "already passed" in err("note Dana: x on 2020-01-01", "note").message
    assert "Name a person" in err("note", "note").message


# --------------------------------------------------------------------------- every / add
@pytest.mark.parametrize(("text", "days", "months"), [
    ("every Dana 2 weeks", 14, None), ("every Dana 6w", 42, None),
    # Issue 14: months are calendar months, not 30 days each.
    ("every Dana 3 months", None, 3),
    ("every Dana a week", 7, None), ("every Dana off", None, None),
    ("every Dana never", None, None),
])
def test_every(text: str, days: int | None, months: int | None) -> None:
    assert ok(text) == c.SetCadence(person("Dana"), days, months)


def test_every_errors() -> None:
    assert "How often" in err("every Dana sometimes", "every").message
    assert "How often" in err("every", "every").message
    assert "Name a person" in err("every off", "every").message


def test_add_forms() -> None:
    assert ok("add Lee Park client at Acme every 6 weeks") == c.AddContact(
        person("Lee Park"), "client", "Acme", 42)
    assert ok("add Lee at Acme Corp") == c.AddContact(person("Lee"), "colleague", "Acme Corp",
                                                      None)
    assert ok("add Dana every 2w") == c.AddContact(person("Dana"), "colleague", None, 14)
    assert ok("add <@U123|dana>") == c.AddContact(PersonRef("dana", "U123", "dana"),
                                                  "colleague", None, None)
    assert ok("add <@U123> client") == c.AddContact(PersonRef("", "U123", None), "client",
                                                    None, None)


def test_add_errors() -> None:
    assert "How often" in err("add Lee every sometimes", "add").message
    assert "did not understand" in err("add Lee client Park", "add").message
    assert "Name a person" in err("add", "add").message
    assert "too long" in err("add " + "A" * 150, "add").message


# --------------------------------------------------------------------------- snooze / done
@pytest.mark.parametrize(("text", "target", "until"), [
    ("snooze Dana", person("Dana"), date(2026, 11, 24)),
    ("snooze Dana 1 week", person("Dana"), date(2026, 11, 30)),
    ("snooze Dana for 3 days", person("Dana"), date(2026, 11, 26)),
    ("snooze Dana until 2026-12-01", person("Dana"), date(2026, 12, 1)),
    ("snooze Dana until next friday", person("Dana"), date(2026, 11, 27)),
    ("snooze #12 friday", c.NudgeRef(12), date(2026, 11, 27)),
    ("snooze #3 2w", c.NudgeRef(3), date(2026, 12, 7)),
])
def test_snooze(text: str, target: c.Target, until: date) -> None:
    assert ok(text) == c.Snooze(target, until)


def test_snooze_errors() -> None:
    assert "after today" in err("snooze Dana until yesterday", "snooze").message
    assert "at most a year" in err("snooze Dana 2 years", "snooze").message
    assert "Name a person" in err("snooze", "snooze").message


def test_done_and_dismiss() -> None:
    assert ok("done #4") == c.Done(c.NudgeRef(4))
    # What follows the colon reads as `log` reads it: the kind first, then what about.
    assert ok("done Dana: had coffee") == c.Done(person("Dana"), None, "coffee")
    assert ok("done #2: coffee, her new team") == c.Done(c.NudgeRef(2), "her new team", "coffee")
    assert ok("done #2: her new team") == c.Done(c.NudgeRef(2), "her new team")
    assert ok("done Dana Scully") == c.Done(person("Dana Scully"))
    assert ok("dismiss #5") == c.Dismiss(c.NudgeRef(5))
    assert ok("dismiss Dana") == c.Dismiss(person("Dana"))
    assert "Name a person" in err("done", "done").message
    assert "Name a person" in err("dismiss", "dismiss").message
    # "#x" is not a nudge number; it is read as a (strange) name for the resolver to refuse.
    assert ok("done #x") == c.Done(person("#x"))


# --------------------------------------------------------------------------- pause / resume
def test_pause_resume() -> None:
    assert ok("pause") == c.Pause(None)
    assert ok("pause until Monday") == c.Pause(date(2026, 11, 30))
    assert ok("pause for 2 weeks") == c.Pause(date(2026, 12, 7))
    assert ok("pause 3 days") == c.Pause(date(2026, 11, 26))
    assert ok("resume") == c.Resume()
    assert ok("unpause") == c.Resume()
    assert "until when" in err("pause until blah", "pause").message
    assert "after today" in err("pause until yesterday", "pause").message
    assert "no arguments" in err("resume now", "resume").message


# --------------------------------------------------------------------------- settings
@pytest.mark.parametrize(("text", "expected"), [
    ("settings", c.Settings()),
    ("settings tz Europe/Berlin", c.Settings(tz="Europe/Berlin")),
    ("settings tz new york", c.Settings(tz="new york")),
    ("settings window 9-17", c.Settings(window=(540, 1020))),
    ("settings window 08:30-16:00", c.Settings(window=(510, 960))),
    ("settings window 8:30-24:00", c.Settings(window=(510, 1440))),
    ("settings window 0-24", c.Settings(window=(0, 1440))),
    ("settings window 9am to 5pm", c.Settings(window=(540, 1020))),
    ("settings days mon-fri", c.Settings(days=0b0011111)),
    ("settings days sun-thu", c.Settings(days=0b1001111)),
    ("settings days mon,wed,fri", c.Settings(days=0b0010101)),
    ("settings days weekdays", c.Settings(days=0b0011111)),
    ("settings days all", c.Settings(days=0b1111111)),
    ("settings cap 1", c.Settings(cap=1)),
    ("settings cap 20", c.Settings(cap=20)),
    ("settings digest off", c.Settings(digest=False)),
    ("settings ai on", c.Settings(ai=True)),
    ("settings summary no", c.Settings(summary=False)),
    ("settings tone brief", c.Settings(tone="brief")),
    ("settings tone FORMAL", c.Settings(tone="formal")),
])
def test_settings(text: str, expected: c.Settings) -> None:
    assert ok(text) == expected


@pytest.mark.parametrize(("text", "fragment"), [
    ("settings tz", "Which time zone"),
    ("settings window 17-9", "runs past midnight"),
    ("settings window 9-25", "start-end"),
    ("settings window 9-24:30", "start-end"),
    ("settings window nine to five", "start-end"),
    ("settings days funday", "Which days"),
    ("settings days mon-fri-sun", "Which days"),
    ("settings cap 0", "1 to 20"),
    ("settings cap 21", "1 to 20"),
    ("settings cap -1", "1 to 20"),
    ("settings cap many", "1 to 20"),
    ("settings digest maybe", "settings digest on"),
    ("settings ai", "settings ai on"),
    ("settings tone rude", "warm, brief or formal"),
    ("settings color blue", "no setting called"),
])
def test_settings_errors(text: str, fragment: str) -> None:
    assert fragment in err(text, "settings").message


def test_working_days_masks() -> None:
    assert parse_working_days("sun-thu") == 0b1001111
    assert parse_working_days("fri-mon") == 0b1110001  # wraps round the week end
    assert parse_working_days("Saturday") == 0b0100000
    assert parse_working_days("") is None
    assert parse_working_days("mon,,fri") is None


# --------------------------------------------------------------------------- date / forget
def test_date_command() -> None:
    assert ok("date Dana birthday May 4") == c.SetDate(person("Dana"), "birthday", 5, 4)
    assert ok("date Dana anniversary 4 May") == c.SetDate(person("Dana"), "anniversary", 5, 4)
    assert ok("date Dana birthday 12/24") == c.SetDate(person("Dana"), "birthday", 12, 24)
    assert ok("date Dana birthday Feb 29") == c.SetDate(person("Dana"), "birthday", 2, 29)
    assert ok("date Dana birthday off") == c.SetDate(person("Dana"), "birthday", None, None)
    assert "Which day" in err("date Dana birthday Feb 30", "date").message
    assert "Which day" in err("date Dana birthday Smarch 4", "date").message
    assert "birthday" in err("date Dana", "date").message
    assert "Name a person" in err("date birthday May 4", "date").message


def test_forget() -> None:
    assert ok("forget me") == c.Forget(None, False)
    assert ok("forget me confirm") == c.Forget(None, True)
    assert ok("forget Dana") == c.Forget(person("Dana"))
    assert "forget me confirm" in err("forget me now", "forget").message
    assert "Name a person" in err("forget", "forget").message


def test_no_argument_verbs() -> None:
    assert ok("due") == c.ShowDue()
    assert ok("people") == c.ShowPeople()
    assert ok("list") == c.ShowPeople()
    assert ok("stats") == c.Stats()
    assert ok("export") == c.Export()
    assert ok("draft Dana") == c.Draft(person("Dana"))
    for verb in ("people", "stats", "export"):
        assert "no arguments" in err(f"{verb} please", verb).message
    # `due` takes when ("due this week"), and nothing else.
    assert ok("due this week") == c.ShowDue()
    assert "Say “due” to see who is due" in err("due please", "due").message


# --------------------------------------------------------------------------- help
def test_help_is_generated_from_the_grammar_table() -> None:
    text = v.help_text()
    for verb, spec in v.SPECS.items():
        assert spec.usage in text, verb
        assert spec.summary in text, verb
    assert set(v.VERBS) == {"log", "note", "every", "add", "due", "people", "snooze", "done",
                            "dismiss", "pause", "resume", "settings", "draft", "date", "stats",
                            "export", "import", "forget", "help", "connect", "disconnect",
                            # goals and suggestions (issue 15)
                            "tag", "untag", "goal", "goals", "set", "suggestions", "accept",
                            "keep", "silence",
                            # issue 14: a person at a glance, and fixing mistakes
                            "show", "search", "undo", "edit", "delete", "rename",
                            # who you talked to over a span, and whom you will meet
                            "recent", "meetings",
                            # issue 17: admin controls in chat
                            "admin"}
    # Every verb in the table has a parser: no usage line advertises a dead verb.
    for verb in v.SPECS:
        result = parse(verb)
        assert not (isinstance(result, CommandError) and "don't know" in result.message), verb


def test_help_topic() -> None:
    assert ok("help") == c.Help()
    assert ok("help log") == c.Help("log")
    assert ok("?") == c.Help()
    log_help = v.help_text("log")
    assert log_help.startswith(v.SPECS["log"].usage)
    assert "e.g. log Dana coffee" in log_help
    assert v.help_text("frobnicate").startswith("There is no command called “frobnicate”.")


# --------------------------------------------------------------------------- bad input
def test_unknown_verb() -> None:
    result = err("frobnicate Dana")
    assert result.message.startswith("I don't know the command “frobnicate”.")
    assert "help" in result.text()
    long_verb = err("x" * 300)
    assert len(long_verb.text()) < 120  # the verb is clipped in the answer


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\u200b\u200b", "\x00"])
def test_empty_text_gets_a_pointer_to_help(text: str) -> None:
    result = err(text, "help")
    assert "help" in result.message


def test_ten_thousand_characters() -> None:
    result = err("log Dana: " + "x" * 9990)
    assert result.message == "That is too long for me (10,000 characters; at most 4,000)."


@pytest.mark.parametrize(("text", "verb", "fragment"), [
    ("log \u202e\u200b", "log", "Name a person"),  # only an RTL override and a zero-width space
    ("note \u0301\u0301: x", "note", "Name a person"),  # lone combining marks are not a name
    ("log \x00\x00", "log", "Name a person"),
    ("\u202egol Dana", None, "don't know the command"),
    ("lo\u0301g Dana", None, "don't know the command"),  # a combining accent changes the verb
    ("🙂 Dana", None, "don't know the command"),
    ("every Dana 2 weeks\x00ish", "every", "How often"),
])
def test_odd_unicode_gets_a_specific_error(text: str, verb: str | None, fragment: str) -> None:
    assert fragment in err(text, verb).message


def test_invisible_characters_are_removed_not_kept() -> None:
    # Zero-width, bidi and NUL characters never end up inside a stored name or summary.
    assert ok("log Da\u200bna\u202e") == c.Log(person("Dana"), None, "chat", None)
    assert ok("log Dana\x00: coffee") == c.Log(person("Dana"), None, "coffee", None)
    # A decomposed accent is composed (NFC), so it matches the precomposed spelling.
    assert ok("log Rene\u0301") == c.Log(person("Ren\u00e9"), None, "chat", None)
    # A joiner inside an emoji is part of it: 👩 + joiner + 🚀 is one astronaut, not two.
    assert ok("log 👩‍🚀") == c.Log(person("👩\u200d🚀"), None, "chat", None)
    assert ok("log 👩\u200dDana") == c.Log(person("👩Dana"), None, "chat", None)


# --------------------------------------------------------------------------- properties
def _check_result(result: object) -> None:
    assert isinstance(result, (*c.Command.__args__, CommandError))  # type: ignore[attr-defined]
    if isinstance(result, CommandError):
        rendered = result.text()
        assert 0 < len(rendered) < 600


_ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300)
_WORD = st.one_of(
    st.sampled_from(["Dana", "yesterday", "next", "friday", "in", "person", "2", "weeks", ":",
                     "at", "every", "until", "#3", "me", "confirm", "off", "on", "after", "9-17",
                     "tz", "window", "days", "cap", "birthday", "May", "4", "<@U1|x>", '"',
                     "sun-thu", "24:00", "2026-02-30", "0", "-1", "99999999999999", "“"]),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(text=_ANY_TEXT)
def test_parser_never_raises_on_arbitrary_text(text: str) -> None:
    _check_result(parse_command(text, today=TODAY))


@settings(max_examples=400, deadline=None)
@given(verb=st.sampled_from([*v.VERBS, "remember", "list", "/rapport log"]),
       words=st.lists(_WORD, max_size=8),
       today=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_parser_never_raises_on_a_verb_and_random_words(verb: str, words: list[str],
                                                        today: date) -> None:
    _check_result(parse_command(" ".join([verb, *words]), today=today))


# --------------------------------------------------------------------------- bot/dates.py
@pytest.mark.parametrize(("phrase", "past", "future"), [
    ("today", TODAY, TODAY),
    ("yesterday", YESTERDAY, YESTERDAY),
    ("tomorrow", TODAY + timedelta(days=1), TODAY + timedelta(days=1)),
    ("next friday", date(2026, 11, 27), date(2026, 11, 27)),
    ("friday", date(2026, 11, 20), date(2026, 11, 27)),
    ("Fri", date(2026, 11, 20), date(2026, 11, 27)),
    ("monday", date(2026, 11, 16), date(2026, 11, 30)),  # today is Monday: never today
    ("last tuesday", date(2026, 11, 17), date(2026, 11, 17)),
    ("in 2 weeks", date(2026, 12, 7), date(2026, 12, 7)),
    ("in two weeks", date(2026, 12, 7), date(2026, 12, 7)),
    ("3 days ago", date(2026, 11, 20), date(2026, 11, 20)),
    ("a week ago", date(2026, 11, 16), date(2026, 11, 16)),
    ("next week", date(2026, 11, 30), date(2026, 11, 30)),
    ("2026-11-20", date(2026, 11, 20), date(2026, 11, 20)),
    ("May 4", date(2026, 5, 4), date(2027, 5, 4)),
    ("may 4th", date(2026, 5, 4), date(2027, 5, 4)),
    ("4 May 2027", date(2027, 5, 4), date(2027, 5, 4)),
    # A month and day without a year: the nearest one, even on the wrong side of today when
    # it is near (a log refuses Dec 24 as still to come, rather than taking last year's).
    ("12/24", date(2026, 12, 24), date(2026, 12, 24)),
    ("Nov 20", date(2026, 11, 20), date(2026, 11, 20)),
    ("Jan 10", date(2027, 1, 10), date(2027, 1, 10)),  # 48 days on, 317 back
    ("Jan 30", date(2026, 1, 30), date(2027, 1, 30)),  # more than two months on
    # A day of the month: this month's or the one before (after) it.
    ("the 4th", date(2026, 11, 4), date(2026, 12, 4)),
    ("the 23rd", TODAY, TODAY),
    ("the 30th", date(2026, 10, 30), date(2026, 11, 30)),
    ("the 31st", date(2026, 10, 31), None),  # November has none, and December's is no nearer
])
def test_parse_day(phrase: str, past: date, future: date | None) -> None:
    assert parse_day(phrase, today=TODAY, direction="past") == past
    assert parse_day(phrase, today=TODAY, direction="future") == future


@pytest.mark.parametrize("phrase", [
    "", "coffee", "call", "banana", "in banana", "next banana", "lunch 4", "4th", "the 32nd",
    "the 0th",
    "2026-02-30", "Dana", "in person", "zorgday", "x" * 60, "may", "in 0 days",
])
def test_nonsense_is_never_a_date(phrase: str) -> None:
    for direction in ("past", "future"):
        assert parse_day(phrase, today=TODAY, direction=direction) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "days"), [
    ("2 weeks", 14), ("6w", 42), ("3 months", 90), ("a week", 7), ("1 day", 1),
    ("two weeks", 14), ("10y", 3650), ("  2   Weeks ", 14),
    ("0 days", None), ("9999 days", None), ("weeks", None), ("", None), ("2 blorps", None),
    # Said in words, and by the fortnight (a few is three, as `recent` reads "a few days").
    ("a fortnight", 14), ("2 fortnights", 28), ("a few days", 3), ("ten days", 10),
])
def test_parse_duration_days(text: str, days: int | None) -> None:
    assert parse_duration_days(text) == days


@pytest.mark.parametrize(("text", "minute"), [
    ("9", 540), ("09:30", 570), ("17h", 1020), ("5pm", 1020), ("12am", 0), ("12pm", 720),
    ("24:00", 1440), ("8.30", 510), ("0", 0),
    ("24:30", None), ("25", None), ("9:60", None), ("13pm", None), ("0am", None),
    ("noon", None), ("", None),
])
def test_parse_clock(text: str, minute: int | None) -> None:
    assert parse_clock(text) == minute


def test_import_takes_a_path_and_an_optional_dry_run() -> None:
    assert ok("import contacts.csv") == c.ImportFile("contacts.csv", False)
    assert ok("import ~/My Contacts.vcf dry run") == c.ImportFile("~/My Contacts.vcf", True)
    assert ok("import people.csv --dry-run") == c.ImportFile("people.csv", True)
    assert isinstance(parse("import"), CommandError)


@pytest.mark.parametrize(("text", "expected"), [
    ("connect calendar", c.Connect(None)),
    ("connect google calendar", c.Connect("google")),
    ("connect my Outlook calendar", c.Connect("microsoft")),
    ("disconnect calendar", c.Disconnect(None)),
    ("disconnect calendar microsoft", c.Disconnect("microsoft")),
])
def test_calendar_connections(text: str, expected: c.Command) -> None:
    assert ok(text) == expected


def test_calendar_connections_need_a_calendar_and_a_known_provider() -> None:
    err("connect", "connect")
    err("connect yahoo calendar", "connect")
    err("disconnect slack", "disconnect")


@pytest.mark.parametrize(("phrase", "today", "expected"), [
    ("in 1 month", date(2026, 12, 3), date(2027, 1, 3)),
    ("in a month", date(2026, 12, 3), date(2027, 1, 3)),
    ("next month", date(2026, 12, 3), date(2027, 1, 3)),
    ("in 2 months", date(2026, 12, 3), date(2027, 2, 3)),
    ("in 1 month", date(2027, 1, 31), date(2027, 2, 28)),
    ("in 1 year", date(2028, 2, 29), date(2029, 2, 28)),
    ("1 month ago", date(2027, 3, 31), date(2027, 2, 28)),
    ("last month", date(2026, 12, 3), date(2026, 11, 3)),
    ("in 2 weeks", date(2026, 12, 3), date(2026, 12, 17)),
    ("3 days ago", date(2026, 12, 3), date(2026, 11, 30)),
])
def test_months_in_dates_are_calendar_months_as_in_rhythms(phrase: str, today: date,
                                                            expected: date) -> None:
    direction = "past" if "ago" in phrase or "last" in phrase else "future"
    assert parse_day(phrase, today=today, direction=direction) == expected


def test_pause_and_snooze_for_a_month_end_on_the_same_day_next_month() -> None:
    # TODAY is Mon Nov 23: 30 days would end on Dec 23 too, so the longer ones tell.
    assert ok("pause for 1 month") == c.Pause(date(2026, 12, 23))
    assert ok("pause for 3 months") == c.Pause(date(2027, 2, 23))
    assert ok("pause 2 months") == c.Pause(date(2027, 1, 23))
    assert ok("snooze #6 2 months") == c.Snooze(c.NudgeRef(6), date(2027, 1, 23))


@pytest.mark.parametrize(("line", "talk"), [
    ("hi", "hello"), ("Hello!", "hello"), ("hey there", "hello"), ("good morning!", "hello"),
    ("thanks", "thanks"), ("Thank you!", "thanks"), ("thanks 🙏", "thanks"), ("ty", "thanks"),
    ("great, thanks!", "thanks"),
])
def test_small_talk_is_answered_not_refused(line: str, talk: str) -> None:
    assert ok(line) == c.Help(small_talk=talk)  # type: ignore[arg-type]


async def test_small_talk_gets_a_line_back(rapport: Rapport) -> None:
    hello = await rapport.handle_text(console_user(), "Hi!")
    assert hello.ok and hello.text.startswith("Hi! Tell me after you talk to someone")
    thanks = await rapport.handle_text(console_user(), "thanks!")
    assert thanks.ok and thanks.text == "You're welcome!"
    # With more words it is no small talk: a command is never guessed.
    unknown = await rapport.handle_text(console_user(), "hi Dana")
    assert not unknown.ok and "I don't know the command" in unknown.text


@pytest.mark.parametrize("text,expected", [
    ("what do you know about Lee?", c.ShowPerson(PersonRef("Lee"))),
    ("everything you know about Dana Scully", c.ShowPerson(PersonRef("Dana Scully"))),
    ("when is Lee's birthday?", c.ShowPerson(PersonRef("Lee"))),
    ("when's Dana Scully's anniversary", c.ShowPerson(PersonRef("Dana Scully"))),
    ("how am I doing?", c.Stats()),
    ("how's it going lately", c.Stats()),
    ("show my stats", c.Stats()),
    ("how's it going with Dana?", c.ShowPerson(PersonRef("Dana"))),
    ("how am I doing on my goals?", c.ShowGoals()),
    ("show me my goals", c.ShowGoals()),
    ("my goals", c.ShowGoals()),
    ("how are my goals going?", c.ShowGoals()),
    ("change Dana's name to Dana Mulder", c.Rename(PersonRef("Dana"), "Dana Mulder")),
    ("set Lee's name to Lee Parker", c.Rename(PersonRef("Lee"), "Lee Parker")),
    ("set Lee name Lee Parker", c.Rename(PersonRef("Lee"), "Lee Parker")),
    ("Dana's name is actually Dana Mulder", c.Rename(PersonRef("Dana"), "Dana Mulder")),
    ("change Lee's company name to Initech", c.SetField(PersonRef("Lee"), "company", "Initech")),
    ("Dana's email address is dana@acme.com",
     c.SetField(PersonRef("Dana"), "email", "dana@acme.com")),
])
def test_questions_and_details_said_as_people_say_them(text: str, expected: c.Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("text", [
    "when is the offsite?",  # no one's date: asked back, not a person called "the offsite"
    "how am I doing with the launch plan and the budget",
    "show me my goals from last year",
    "change Dana's name to",
])
def test_questions_that_name_nothing_known_are_asked_back(text: str) -> None:
    assert isinstance(parse(text), (CommandError, c.ShowPerson))
    assert not isinstance(parse(text), (c.Rename, c.Stats, c.ShowGoals))


def test_a_remark_about_a_name_is_a_note_not_a_rename() -> None:
    """Only a capitalised new name renames: "hard to spell" is what someone said about it."""
    note = parse("Dana's name is hard to spell")
    assert isinstance(note, c.AddNote)
    assert (note.person, note.text) == (PersonRef("Dana"), "name is hard to spell")


@pytest.mark.parametrize(("text", "day"), [
    ("log Lee on the 1st: lunch", date(2026, 11, 1)),
    ("log Lee the 20th call", date(2026, 11, 20)),
])
def test_a_log_on_a_day_of_the_month(text: str, day: date) -> None:
    logged = parse(text)
    assert isinstance(logged, c.Log) and logged.day == day


@pytest.mark.parametrize("text", ["note Dana: she finished 4th in the marathon",
                                  "note Dana: came 2nd at the hackathon",
                                  "log Dana coffee: she came 4th"])
def test_a_rank_in_a_text_is_no_date(text: str) -> None:
    said = parse(text)
    assert getattr(said, "follow_up_on", None) is None and getattr(said, "day", None) is None


@pytest.mark.parametrize("text", ["I haven't talked to Lee in a month", "the weather is nice",
                                  "what is this", "we should grab lunch sometime"])
def test_a_sentence_is_not_called_an_unknown_command(text: str) -> None:
    """These answered “I don't know the command “i”” (or “the”, “what”, “we”)."""
    said = parse(text)
    assert isinstance(said, CommandError)
    assert said.message.startswith("I didn't catch that.") and "help" in said.message


@pytest.mark.parametrize("text", ["note Dana: the 4th quarter looks rough",
                                  "note Lee: moved to the 2nd floor",
                                  "note Sam: the 3rd time she asked about pricing",
                                  "note Dana: their 10th anniversary party was fun"])
def test_a_ranked_noun_in_a_note_is_no_date(text: str) -> None:
    """“the 4th quarter” planned a reminder for the 4th of the month (today, on Dec 4)."""
    note = parse(text)
    assert isinstance(note, c.AddNote), note
    assert (note.follow_up_on, note.event_on) == (None, None)


@pytest.mark.parametrize(("text", "day"), [
    ("note Dana: the offsite is on the 4th", date(2026, 12, 4)),
    ("note Dana: call her the 15th about the budget", date(2026, 12, 15)),
])
def test_the_nth_before_other_words_is_still_a_day(text: str, day: date) -> None:
    note = parse(text)
    assert isinstance(note, c.AddNote), note
    assert note.follow_up_on == day


@pytest.mark.parametrize("text", ["what did I note about Dana?", "notes on Dana",
                                  "show notes for Dana", "notes Dana", "my notes about Dana"])
def test_asking_for_someones_notes_shows_them(text: str) -> None:
    assert parse(text) == c.ShowPerson(PersonRef("Dana"))


@pytest.mark.parametrize("text", ["notes", "my notes", "show my notes", "all my notes"])
def test_notes_alone_says_where_notes_are(text: str) -> None:
    said = parse(text)
    assert isinstance(said, CommandError)
    assert "show Dana" in said.message and "search" in said.message


def test_notes_with_a_colon_keeps_the_note() -> None:
    note = parse("notes Dana: likes hiking")
    assert isinstance(note, c.AddNote) and note.text == "likes hiking"


@pytest.mark.parametrize(("text", "expected"), [
    ("delete the last note", c.DeleteNewest("note")),
    ("delete my latest note", c.DeleteNewest("note")),
    ("remove the last conversation.", c.DeleteNewest("touchpoint")),
    ("delete last log", c.DeleteNewest("touchpoint")),
    ("delete Dana's last note", c.DeleteNewest("note", PersonRef("Dana"))),
    ("delete the most recent note for Lee Park", c.DeleteNewest("note", PersonRef("Lee Park"))),
    ("delete my last call with Dana", c.DeleteNewest("touchpoint", PersonRef("Dana"))),
])
def test_delete_the_newest_entry(text: str, expected: c.DeleteNewest) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(("text", "names", "day", "kind", "summary"), [
    ("log Dana and Lee lunch", ["Dana", "Lee"], None, "lunch", None),
    ("had coffee with Dana, Lee and Sam yesterday", ["Dana", "Lee", "Sam"],
     date(2026, 11, 22), "coffee", None),
    ("log Dana Scully & Lee Park: Q3 plan", ["Dana Scully", "Lee Park"], None, "chat",
     "Q3 plan"),
    ("yesterday's call with Lee and Sam", ["Lee", "Sam"], date(2026, 11, 22), "call", None),
    ("log <@U0DANA> and <@U0LEE> coffee", ["@U0DANA", "@U0LEE"], None, "coffee", None),
])
def test_one_conversation_with_several_people(text: str, names: list[str], day: date | None,
                                              kind: str, summary: str | None) -> None:
    together = parse(text)
    assert isinstance(together, c.LogTogether), together
    assert [one.person.text or f"@{one.person.mention_id}" for one in together.logs] == names
    assert {(one.day, one.kind, one.summary) for one in together.logs} == {(day, kind, summary)}


def test_a_list_of_people_ending_in_and_asks_who_else() -> None:
    said = parse("log Dana and")
    assert isinstance(said, CommandError) and said.message.startswith("Who else was there?")


@pytest.mark.parametrize("text", ["had dinner with Marco and his wife",
                                  "lunch with Dana and the team", "coffee with Lee and co"])
def test_a_person_and_company_is_that_persons_conversation(text: str) -> None:
    logged = parse(text)
    assert isinstance(logged, c.Log), logged
    assert logged.person == PersonRef(text.split(" with ")[1].split()[0])
