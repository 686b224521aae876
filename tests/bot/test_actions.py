"""Use cases through `Rapport.handle_text` on a real SQLite database, good input and bad."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core import commands as c
from rapport.bot.core.context import Actor
from rapport.bot.core.preferences import FAR_FUTURE
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import Reply
from rapport.scheduler.delivery import Sweeper
from rapport.scheduler.messenger import DeliveryResult, OutgoingMessage
from rapport.storage import db
from rapport.storage.models import Contact, Note, Nudge, Touchpoint, User
from tests.conftest import Clock, console_user, copy_database, run_in_fresh_loop, snapshot

MAX_ERROR_CHARS = 600


class Inbox:
    """A console messenger that keeps what it was asked to deliver."""

    platform = "console"

    def __init__(self) -> None:
        self.delivered: list[OutgoingMessage] = []

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        self.delivered.append(message)
        return DeliveryResult.sent(ref=f"ref-{len(self.delivered)}")


async def say(rapport: Rapport, actor: Actor, text: str) -> Reply:
    reply = await rapport.handle_text(actor, text)
    assert reply.ok, (text, reply.text)
    return reply


async def count(engine: AsyncEngine, model: type) -> int:
    async with db.session_factory(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def contact(engine: AsyncEngine, name: str) -> Contact:
    async with db.session_factory(engine)() as session:
        row = await session.scalar(select(Contact).where(Contact.name == name))
        assert row is not None, name
        return row


async def open_nudge(rapport: Rapport, engine: AsyncEngine, clock: Clock, actor: Actor,
                     name: str = "Dana Scully") -> int:
    """Give `actor` a delivered cadence nudge about `name` and return its number."""
    await say(rapport, actor, f"every {name} 1 week")
    clock.set(datetime(2026, 11, 30, 10, 5, tzinfo=UTC))  # a week later, inside the window
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    assert (await sweeper.sweep()).sent >= 1
    reply = await say(rapport, actor, "due")
    [item] = [n for n in reply.nudges if n.contact_name == name]
    return item.nudge_id


async def expect_refusal(rapport: Rapport, engine: AsyncEngine, actor: Actor, text: str,
                         *fragments: str) -> Reply:
    """Bad input: ok=False, a short specific answer, and not one row changed."""
    before = await snapshot(engine)
    reply = await rapport.handle_text(actor, text)
    assert reply.ok is False, (text, reply.text)
    assert 0 < len(reply.text) < MAX_ERROR_CHARS
    assert "Traceback" not in reply.text
    for fragment in fragments:
        assert fragment in reply.text, (text, reply.text)
    assert await snapshot(engine) == before, text
    return reply


# --------------------------------------------------------------------------- good flows
async def test_add_log_note_every(rapport: Rapport, engine: AsyncEngine, actor: Actor,
                                  clock: Clock) -> None:
    reply = await say(rapport, actor, "add Lee Park client at Acme every 6 weeks")
    assert reply.text.startswith("Added Lee Park (client at Acme).")
    assert "every 6 weeks" in reply.text and reply.changed
    lee = await contact(engine, "Lee Park")
    assert (lee.kind, lee.company, lee.cadence_days) == ("client", "Acme", 42)
    assert lee.next_due_at == datetime(2027, 1, 4, tzinfo=UTC)  # the day six weeks on

    reply = await say(rapport, actor, "log Lee yesterday: coffee about the Q3 plan")
    assert reply.text == "Logged coffee with Lee Park (yesterday)."
    async with db.session_factory(engine)() as session:
        touch = await session.scalar(select(Touchpoint))
    assert touch is not None
    assert (touch.kind, touch.summary) == ("coffee", "about the Q3 plan")
    assert touch.happened_at == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    lee = await contact(engine, "Lee Park")
    # The cadence counts from the day it happened, not the day it was logged.
    assert lee.next_due_at == datetime(2027, 1, 3, tzinfo=UTC)

    # A backdated log never makes Lee look more overdue.
    await say(rapport, actor, "log Lee last tuesday call")
    assert (await contact(engine, "Lee Park")).next_due_at == lee.next_due_at
    assert await count(engine, Touchpoint) == 2

    reply = await say(rapport, actor, "note Lee: hiking trip in Yosemite after Saturday")
    # Issue 14 (item 9): one date format, the day before the reminder.
    assert reply.text == ("Noted. I'll remind you on Mon Nov 30 to ask Lee about the hiking "
                          "trip in Yosemite (n1): Sun Nov 29 is not one of your working days.")
    async with db.session_factory(engine)() as session:
        note = await session.scalar(select(Note))
    assert note is not None and note.follow_up_on == date(2026, 11, 29)
    assert note.plan_at == datetime(2026, 11, 29, 9, 0, tzinfo=UTC)

    reply = await say(rapport, actor, "every Lee 2 weeks")
    assert reply.text.startswith("I'll remind you to talk to Lee Park every 2 weeks")
    assert (await contact(engine, "Lee Park")).cadence_days == 14
    await say(rapport, actor, "every Lee off")
    assert (await contact(engine, "Lee Park")).next_due_at is None


async def test_mentions_create_contacts_with_their_platform_id(
        rapport: Rapport, engine: AsyncEngine, actor: Actor) -> None:
    reply = await say(rapport, actor, "log <@U123|dana> in person")
    assert reply.text == "Logged in person with dana. I added dana to your people."
    dana = await contact(engine, "dana")
    assert dana.platform_user_id == "U123"
    await say(rapport, actor, "log <@U123> call")  # the id alone finds the same contact
    assert await count(engine, Contact) == 1 and await count(engine, Touchpoint) == 2
    # Mentioning yourself adds nobody: you are not one of your people.
    before = await snapshot(engine)
    for line in (f"log <@{actor.user_external_id}|me> call", f"add <@{actor.user_external_id}>",
                 f"note <@{actor.user_external_id}>: remember the milk"):
        reply = await rapport.handle_text(actor, line)
        assert not reply.ok and reply.text.startswith("That's you."), (line, reply.text)
    assert await snapshot(engine) == before


async def test_people_settings_pause_resume_stats_export(
        rapport: Rapport, engine: AsyncEngine, actor: Actor, clock: Clock,
        tmp_path: Path) -> None:
    await say(rapport, actor, "add Dana Scully every 2 weeks")
    await say(rapport, actor, "log Dana coffee")
    people = await say(rapport, actor, "people")
    assert "Dana Scully (colleague, every 2 weeks): last talked today" in people.text

    assert "Time zone: UTC" in (await say(rapport, actor, "settings")).text
    reply = await say(rapport, actor, "settings tz new york")  # a city names its zone
    assert "Time zone: America/New_York" in reply.text
    reply = await say(rapport, actor, "settings tz europe/berlin")
    assert "Time zone: Europe/Berlin" in reply.text
    reply = await say(rapport, actor, "settings window 8:30-24:00")
    assert "Delivery window: 08:30-24:00" in reply.text
    reply = await say(rapport, actor, "settings days sun-thu")
    assert "on Sun-Thu" in reply.text
    await say(rapport, actor, "settings cap 5")
    async with db.session_factory(engine)() as session:
        user = await session.scalar(select(User))
    assert user is not None
    assert (user.tz, user.window_start_minute, user.window_end_minute, user.working_days,
            user.daily_cap) == ("Europe/Berlin", 510, 1440, 0b1001111, 5)

    assert (await say(rapport, actor, "pause until Monday")).text == (
        "Paused until Mon Nov 30.")
    async with db.session_factory(engine)() as session:
        paused = await session.scalar(select(User.paused_until))
    assert paused == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)  # Monday 00:00 in Berlin
    await say(rapport, actor, "pause")
    async with db.session_factory(engine)() as session:
        assert await session.scalar(select(User.paused_until)) == FAR_FUTURE
    assert (await say(rapport, actor, "resume")).text == "Welcome back. Nudges are on again."
    async with db.session_factory(engine)() as session:
        assert await session.scalar(select(User.paused_until)) is None

    stats = await say(rapport, actor, "stats")
    assert "1 of 1 person within their rhythm" in stats.text

    export = await say(rapport, actor, "export")
    assert export.attachment is not None
    data = json.loads(export.attachment.data)
    assert [c["name"] for c in data["contacts"]] == ["Dana Scully"]
    assert len(data["touchpoints"]) == 1


async def test_nudge_done_snooze_dismiss(rapport: Rapport, engine: AsyncEngine, actor: Actor,
                                         clock: Clock) -> None:
    await say(rapport, actor, "add Dana Scully")
    await say(rapport, actor, "add Lee Park")
    dana = await open_nudge(rapport, engine, clock, actor)
    due = await say(rapport, actor, "due")
    assert (f"#{dana} You wanted to keep in touch with Dana Scully every 7 days, and you have "
            "not logged a conversation yet") in due.text

    # The answer stays in the nudge's message after the click: "tomorrow" says which day.
    reply = await say(rapport, actor, f"snooze #{dana} 1 day")
    assert reply.text == ("Snoozed the reminder to talk to Dana Scully until tomorrow "
                          "(Tue Dec 1).")
    reply = await say(rapport, actor, f"snooze #{dana} 2 days")
    # Issue 14 (item 9): one date format across messages.
    assert reply.text == "Snoozed the reminder to talk to Dana Scully until Wed Dec 2."
    async with db.session_factory(engine)() as session:
        nudge = await session.get(Nudge, dana)
    assert nudge is not None and nudge.status == "snoozed"
    assert nudge.deliver_after == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

    reply = await say(rapport, actor, f"done #{dana}")
    assert reply.text == "Nice. Logged that you reached out to Dana Scully."
    async with db.session_factory(engine)() as session:
        nudge = await session.get(Nudge, dana)
        touches = await session.scalar(select(func.count()).select_from(Touchpoint))
    assert nudge is not None and nudge.status == "done" and touches == 1

    lee = await open_nudge(rapport, engine, clock, actor, "Lee Park")
    assert (await say(rapport, actor, "dismiss Lee")).text == (
        "Dismissed the reminder to talk to Lee Park.")
    async with db.session_factory(engine)() as session:
        nudge = await session.get(Nudge, lee)
    assert nudge is not None and nudge.status == "dismissed"


async def test_done_by_name_without_a_nudge_logs_a_chat(rapport: Rapport, engine: AsyncEngine,
                                                        actor: Actor) -> None:
    await say(rapport, actor, "add Dana Scully")
    assert (await say(rapport, actor, "done Dana: the launch")).text == (
        "Logged a chat with Dana Scully.")
    # After the colon a kind is read as `log` reads it: "lunch" is how, not what about.
    assert (await say(rapport, actor, "done Dana: lunch, her new team")).text == (
        "Logged lunch with Dana Scully.")
    async with db.session_factory(engine)() as session:
        touches = (await session.execute(select(Touchpoint.kind, Touchpoint.summary)
                                         .order_by(Touchpoint.id))).all()
    assert [tuple(t) for t in touches] == [("chat", "the launch"), ("lunch", "her new team")]


async def test_forget_a_contact_and_forget_me(rapport: Rapport, engine: AsyncEngine,
                                              actor: Actor) -> None:
    await say(rapport, actor, "add Dana Scully")
    await say(rapport, actor, "add Lee Park")
    await say(rapport, actor, "note Dana: new job")
    await say(rapport, actor, "log Dana call")
    # Issue 14 (item 6): forgetting a person asks first, like "forget me".
    assert "forget Dana Scully confirm" in (await say(rapport, actor, "forget Dana")).text
    assert await count(engine, Contact) == 2
    assert (await say(rapport, actor, "forget Dana confirm")).text.startswith(
        "Forgot Dana Scully")
    assert await count(engine, Contact) == 1
    assert await count(engine, Note) == 0 and await count(engine, Touchpoint) == 0

    before = await snapshot(engine)
    warning = await say(rapport, actor, "forget me")
    assert "forget me confirm" in warning.text
    assert await snapshot(engine) == before  # the warning alone deletes nothing
    await say(rapport, actor, "forget me confirm")
    assert await count(engine, User) == 0 and await count(engine, Contact) == 0
    # Talking again starts afresh.
    assert "no people yet" in (await say(rapport, actor, "people")).text


async def test_fuzzy_match_asks_and_never_guesses(rapport: Rapport, engine: AsyncEngine,
                                                  actor: Actor) -> None:
    await say(rapport, actor, "add Dana Scully")
    reply = await expect_refusal(rapport, engine, actor, "log Dnaa coffee",
                                 "Did you mean Dana Scully?")
    assert reply.text.startswith("I don't know anyone called “Dnaa”.")
    await expect_refusal(rapport, engine, actor, "note Dnaa Scully: the offsite",
                         "Did you mean Dana Scully?")
    await expect_refusal(rapport, engine, actor, "log Zyx", "add Zyx")


async def test_ambiguous_first_name_asks_which(rapport: Rapport, engine: AsyncEngine,
                                               actor: Actor) -> None:
    await say(rapport, actor, "add Dana Scully")
    await say(rapport, actor, "add Dana White")
    for text in ("log Dana", "note Dana: x", "every Dana 2 weeks", "done Dana", "forget Dana",
                 "snooze Dana", "dismiss Dana", "date Dana birthday May 4"):
        await expect_refusal(rapport, engine, actor, text,
                             "Which Dana do you mean: Dana Scully or Dana White?")
    await say(rapport, actor, "log Dana White: call")  # the full name is not ambiguous
    assert (await contact(engine, "Dana White")).last_touch_at is not None


# --------------------------------------------------------------------------- bad input
BAD_INPUT = [
    ("frobnicate Dana", ("I don't know the command “frobnicate”",)),
    ("log", ("Who do you mean?", "Usage: log")),
    ("note Dana", ("What should I remember?", "Usage: note")),
    ("log Nobody", ("I don't know anyone called “Nobody”",)),
    ("log Dana tomorrow", ("already happened", "Usage: log")),
    ("pause until someday", ("Pause until when?", "Usage: pause")),
    ("snooze Dana until blursday", ("I don't know anyone called",)),
    ("date Dana birthday Smarch 40", ("Which day?", "Usage: date")),
    ("every Dana sometimes", ("How often?", "Usage: every")),
    ("", ("Type a command", "Usage: help")),
    ("   ", ("Type a command",)),
    ("log Dana: " + "x" * 9990, ("too long",)),
    ("x" * 10_000, ("too long",)),
    ("log \u202e\u200b", ("Who do you mean?",)),
    ("\u202egol Dana", ("I don't know the command",)),
    ("lo\u0301g Dana", ("I don't know the command",)),
    ("log \x00\x00", ("Who do you mean?",)),
    # A combining accent is read (and "Dána" would be Dana: names match without accents).
    ("log Zo\u0301e\u0308", ("I don't know anyone called",)),
    ("log 👩‍🚀", ("I don't know anyone called",)),
    ("settings tz Mars/Olympus", ("I don't know the time zone", "Usage: settings")),
    ("settings tz springfield", ("I don't know the time zone “springfield”",
                                 "a city a zone is named after")),
    ("settings tz ../../etc/passwd", ("I don't know the time zone",)),
    ("settings window 17-9", ("“17-9” runs past midnight, and the window is within one day",
                              "e.g. “8-18”", "Usage: settings")),
    ("settings window 9-9", ("needs an end after its start",)),
    ("settings window 9-25", ("start-end",)),
    ("settings cap 0", ("1 to 20",)),
    ("settings cap 500", ("1 to 20",)),
    ("settings days funday", ("Which days?",)),
    ("settings tone rude", ("warm, brief or formal",)),
    ("done #999999", ("I can't find nudge #999999 among yours.",)),
    ("snooze #999999", ("I can't find nudge #999999 among yours.",)),
    ("dismiss Dana", ("There is no open nudge for Dana Scully.",)),
    ("snooze Dana 2 years", ("at most a year",)),
    ("forget me please", ("forget me confirm",)),
    ("add Dana Scully", ("You already keep in touch with Dana Scully.",)),
]


@pytest.mark.parametrize(("text", "fragments"), BAD_INPUT,
                         ids=[f"{i}-{t[:20]!r}" for i, (t, _) in enumerate(BAD_INPUT)])
async def test_bad_input_changes_nothing(rapport: Rapport, engine: AsyncEngine, actor: Actor,
                                         text: str, fragments: tuple[str, ...]) -> None:
    await say(rapport, actor, "add Dana Scully")
    await say(rapport, actor, "note Dana: the offsite")
    await expect_refusal(rapport, engine, actor, text, *fragments)


async def test_a_second_done_on_the_same_nudge(rapport: Rapport, engine: AsyncEngine,
                                               actor: Actor, clock: Clock) -> None:
    await say(rapport, actor, "add Dana Scully")
    number = await open_nudge(rapport, engine, clock, actor)
    await say(rapport, actor, f"done #{number}")
    await expect_refusal(rapport, engine, actor, f"done #{number}", "already done")
    await expect_refusal(rapport, engine, actor, f"snooze #{number} 1 week", "already done")
    await expect_refusal(rapport, engine, actor, f"dismiss #{number}", "already done")
    # The same through the button path.
    before = await snapshot(engine)
    reply = await rapport.execute(actor, c.nudge_button("done", number))
    assert reply.ok is False and "already done" in reply.text
    assert await snapshot(engine) == before


async def test_another_users_nudge_is_refused_without_leaking(
        rapport: Rapport, engine: AsyncEngine, actor: Actor, clock: Clock) -> None:
    await say(rapport, actor, "add Dana Scully")
    number = await open_nudge(rapport, engine, clock, actor)
    mallory = console_user("mallory")
    await say(rapport, mallory, "add Eve")
    answer = f"I can't find nudge #{number} among yours."
    for text in (f"done #{number}", f"snooze #{number}", f"snooze #{number} 1 week",
                 f"dismiss #{number}"):
        await expect_refusal(rapport, engine, mallory, text, answer)
    for action in ("done", "dismiss", "snooze_1w", "draft"):
        before = await snapshot(engine)
        reply = await rapport.execute(mallory, c.nudge_button(action, number))
        assert reply.ok is False and reply.text == answer
        assert await snapshot(engine) == before
    async with db.session_factory(engine)() as session:
        nudge = await session.get(Nudge, number)
    assert nudge is not None and nudge.status == "sent"


# --------------------------------------------------------------------------- property
_VERBS = ["log", "note", "every", "add", "due", "people", "snooze", "done", "dismiss", "pause",
          "resume", "settings", "draft", "date", "stats", "export", "forget", "help"]
_WORDS = st.sampled_from(["Dana", "Scully", "Dnaa", "#1", "#2", "yesterday", "tomorrow", ":",
                          "in", "person", "2", "weeks", "until", "friday", "tz", "window",
                          "cap", "0", "birthday", "May", "4", "\u202e", "\u200b", "\x00", "🙂",
                          "<@U9|zed>", "me", "off", "9-17", "24:00", "2026-02-30"])
_RANDOM_TEXT = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=200),
    st.builds(lambda verb, words: " ".join([verb, *words]), st.sampled_from(_VERBS),
              st.lists(_WORDS, max_size=6)),
)


_EXAMPLES = itertools.count()


def _copy_database(source: Path, folder: Path) -> None:
    folder.mkdir()
    copy_database(source, folder / "rapport.db")


@pytest.fixture(scope="module")
def dana_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rows every random-text example starts from, typed once: each example copies the
    file instead of typing them again (the typing was most of an example's time)."""
    folder = tmp_path_factory.mktemp("dana") / "world"
    _copy_database(sqlite_template, folder)

    async def seed() -> None:
        engine = db.create_engine(f"sqlite+aiosqlite:///{folder / 'rapport.db'}")
        try:
            rapport = Rapport(sessions=db.session_factory(engine), clock=Clock())
            await say(rapport, console_user(), "add Dana Scully every 1 week")
            await say(rapport, console_user(), "note Dana: the offsite on friday")
        finally:
            await engine.dispose()  # the last connection closing checkpoints the WAL

    run_in_fresh_loop(seed)
    return folder / "rapport.db"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=_RANDOM_TEXT)
def test_random_text_never_raises_and_refusals_change_nothing(
        dana_template: Path, tmp_path: Path, text: str) -> None:
    # A loop and database per example: hypothesis drives a sync function, and every example
    # starts from the same rows so a refusal can be compared with a fresh snapshot.
    folder = tmp_path / f"example{next(_EXAMPLES)}"
    _copy_database(dana_template, folder)

    async def run() -> None:
        engine = db.create_engine(f"sqlite+aiosqlite:///{folder / 'rapport.db'}")
        try:
            rapport = Rapport(sessions=db.session_factory(engine), clock=Clock())
            actor = console_user()
            before = await snapshot(engine)
            reply = await rapport.handle_text(actor, text)
            assert isinstance(reply, Reply) and reply.text
            if not reply.ok:
                assert len(reply.text) < MAX_ERROR_CHARS
                assert await snapshot(engine) == before
        finally:
            await engine.dispose()

    asyncio.run(run())


async def test_log_with_a_two_word_name_without_quotes(rapport: Rapport, actor: Actor) -> None:
    assert (await rapport.handle_text(actor, "add Dana Scully")).ok
    assert (await rapport.handle_text(actor, "add Dana White")).ok
    reply = await rapport.handle_text(actor, "log Dana White")
    assert reply.ok and reply.text == "Logged chat with Dana White."
    # A free kind word that is not part of a name stays a kind, and still needs a clear name.
    assert "Which Dana" in (await rapport.handle_text(actor, "log Dana pairing")).text


async def test_one_conversation_with_several_people_is_one_change(
        rapport: Rapport, engine: AsyncEngine, actor: Actor) -> None:
    """“log Dana and Lee lunch” answered “One person at a time”: now a touchpoint with each,
    their clocks restarted, one change `undo` takes back whole; nothing is written when one
    of the names is nobody's, not even a contact for a mention before it."""
    await say(rapport, actor, "add Dana Scully every 2 weeks")
    await say(rapport, actor, "add Lee Park")
    reply = await say(rapport, actor, "had lunch with Dana and Lee yesterday: Q3 plan")
    assert reply.text == "Logged lunch with Dana Scully and Lee Park (yesterday)."
    async with db.session_factory(engine)() as session:
        rows = (await session.execute(
            select(Contact.name, Touchpoint.kind, Touchpoint.summary, Touchpoint.happened_at)
            .join(Contact, Contact.id == Touchpoint.contact_id).order_by(Contact.name))).all()
    yesterday_noon = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert [tuple(row) for row in rows] == [
        ("Dana Scully", "lunch", "Q3 plan", yesterday_noon),
        ("Lee Park", "lunch", "Q3 plan", yesterday_noon)]
    assert (await contact(engine, "Dana Scully")).next_due_at == \
        datetime(2026, 12, 6, tzinfo=UTC)

    reply = await say(rapport, actor, "undo")
    assert reply.text.startswith("Undone: logged lunch with Dana Scully and Lee Park")
    assert await count(engine, Touchpoint) == 0
    assert (await contact(engine, "Dana Scully")).last_touch_at is None

    before = await snapshot(engine)
    for line, why in (("log <@U0NEW|sam> and Bob coffee", "“Bob”"),
                      ("log Dana and Bob coffee", "“Bob”"),
                      (f"log <@U0NEW|sam> and <@{actor.user_external_id}|me> coffee",
                       "That's you.")):
        reply = await rapport.handle_text(actor, line)
        assert not reply.ok and why in reply.text, reply.text
    assert await snapshot(engine) == before

    reply = await say(rapport, actor, "log Dana, Dana Scully and <@U0NEW|sam> coffee")
    assert reply.text == ("Logged coffee with Dana Scully and sam. I added sam to your "
                          "people.")
    assert await count(engine, Touchpoint) == 2
