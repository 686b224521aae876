"""Answers that used to mislead (issue 14, item 8) and nudge wording (item 9)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.drafts import DraftContext, DraftService, template_text
from rapport.bot.core.rapport import Rapport
from rapport.scheduler import wording
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from rapport.storage.models import Nudge
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say


def _sweeper(engine: AsyncEngine, clock: Clock, inbox: Inbox | None = None) -> Sweeper:
    return Sweeper(sessions=db.session_factory(engine),
                   messengers={"console": inbox or Inbox()}, owner="test", clock=clock)


async def test_due_after_a_dismiss_says_when_the_next_reminder_comes(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await say(rapport, "add Dana Scully every 1 week")
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    assert (await _sweeper(engine, clock).sweep()).sent == 1
    await say(rapport, "dismiss Dana")
    due = await say(rapport, "due")
    assert "on its way" not in due
    assert due == "Due today, reminded later:\n  Dana Scully: next reminder Mon Dec 7"


async def test_due_and_notes_while_paused_say_so(rapport: Rapport, engine: AsyncEngine,
                                                  clock: Clock) -> None:
    await say(rapport, "add Dana Scully every 1 week")
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    await say(rapport, "pause until Friday")
    due = await say(rapport, "due")
    assert due == "Due today (nudges are paused until Fri Dec 4):\n  Dana Scully"
    await _sweeper(engine, clock).sweep()  # planned, held until the pause ends
    due = await say(rapport, "due")
    assert "on its way" not in due and due.endswith("Nudges are paused until Fri Dec 4.")
    note = await say(rapport, "note Dana: the offsite today")
    assert note.endswith("Nudges are paused until Fri Dec 4, so it comes after that.")
    await say(rapport, "pause")
    note = await say(rapport, "note Dana: the launch tomorrow")
    assert note.endswith("Nudges are paused, so it waits until you type “resume”.")


async def test_the_first_due_after_adding_someone_does_not_say_add_people(
        rapport: Rapport) -> None:
    assert "Add people" in await say(rapport, "due")
    await say(rapport, "add Dana Scully")
    assert await say(rapport, "due") == (
        "Nothing is due. None of your people has a rhythm yet: “every <name> 2 weeks” tells "
        "me how often to remind you.")
    await say(rapport, "every Dana monthly")
    assert await say(rapport, "due") == "Nothing is due in the next week."


async def test_settings_say_template_drafts_without_a_provider(rapport: Rapport,
                                                                clock: Clock) -> None:
    assert "AI drafts: template drafts (no AI provider is set up here)" in \
        await say(rapport, "settings")

    class Provider:
        name = "openai"
        model = "m"

    rapport.drafter = DraftService(sessions=rapport.sessions,
                                   provider=Provider(),  # type: ignore[arg-type]
                                   clock=clock)
    assert "AI drafts: on; tone: warm" in await say(rapport, "settings")


async def test_resume_sends_what_came_due_during_the_pause_at_the_next_allowed_moment(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await say(rapport, "add Dana Scully every 1 week")
    await say(rapport, "pause until Dec 10")
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    inbox = Inbox()
    sweeper = _sweeper(engine, clock, inbox)
    assert (await sweeper.sweep()).sent == 0  # planned, held for the end of the pause
    async with db.session_factory(engine)() as session:
        held = await session.scalar(select(Nudge))
    assert held is not None and held.deliver_after == datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
    clock.set(datetime(2026, 12, 1, 19, 0, tzinfo=UTC))  # Tuesday evening, after the window
    await say(rapport, "resume")
    await sweeper.sweep()
    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))  # the next allowed moment
    assert (await sweeper.sweep()).sent == 1
    assert inbox.delivered[0].items[0].contact_name == "Dana Scully"


def test_nudges_are_worded_from_the_notes_own_form() -> None:
    noted = date(2026, 11, 20)
    cases = {
        "ask how the offsite went": "Ask Priya how the offsite went",
        "hiking trip in Yosemite": "Ask Priya about the hiking trip in Yosemite",
        "wife is expecting": "Check in with Priya: wife is expecting",
        "send the deck": "Send Priya the deck",
        "check in": "Check in with Priya",
        "congratulate on the promotion": "Congratulate Priya on the promotion",
        "her new job": "Ask Priya about her new job",
        "wedding": "Ask Priya about the wedding",
        # What someone is like is a fact to keep in mind, not a topic ("the loves sourdough").
        "loves sourdough": "Check in with Priya: loves sourdough",
        "plays bass in a band": "Check in with Priya: plays bass in a band",
        "can't eat gluten": "Check in with Priya: can't eat gluten",
        "moving to Berlin": "Ask Priya about moving to Berlin",
    }
    for note, headline in cases.items():
        assert wording.follow_up_headline("Priya Natarajan", note, noted) == \
            f"{headline} (you noted it on Fri Nov 20)", note


def test_one_date_format_across_messages() -> None:
    today = date(2026, 11, 23)
    assert [wording.friendly_day(today.replace(day=d), today) for d in (22, 23, 24, 27)] == [
        "yesterday", "today", "tomorrow", "Fri Nov 27"]
    assert wording.friendly_day(date(2027, 3, 3), today) == "Wed Mar 3 2027"
    assert wording.friendly_day(date(2026, 12, 14), today) == "Mon Dec 14"
    assert wording.short_date(date(2026, 11, 20)) == "Fri Nov 20"
    # Every weekday and month, named as English does whatever the locale.
    first = date(2027, 1, 4)
    assert [wording.short_date(first + timedelta(days=n)) for n in range(7)] == [
        f"{name} Jan {4 + n}" for n, name in enumerate(
            ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))]
    assert [wording.short_date(date(2027, month, 1)).split()[1] for month in range(1, 13)] == [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def test_template_drafts_follow_the_events_tense() -> None:
    def draft(topic: str, timing: str | None, tone: str = "warm") -> str:
        return template_text(DraftContext(first_name="Priya", tone=tone, topic=topic,
                                          reason="follow_up", timing=timing))

    assert draft("her talk", "ahead") == ("Hi Priya! I've been thinking about her talk you "
                                          "mentioned. Hope it goes great!")
    assert draft("her talk", "today", "brief") == "Hi Priya, good luck with her talk today!"
    assert draft("her talk", "past", "brief") == "Hi Priya, how did her talk go?"
    assert draft("ask how the offsite went", "past") == \
        "Hi Priya! I've been meaning to ask how the offsite went."
    assert "How did" not in draft("wife is expecting", "ahead")
    assert draft("congratulate on the promotion", None) == \
        "Hi Priya! Congratulations on the promotion!"


async def test_snoozing_a_person_does_not_deny_a_dated_reminder_coming_sooner(
        rapport: Rapport) -> None:
    """`snooze Dana 1 week` with nothing out said no nudge came before next week, while the
    reminder to call her, dated tomorrow, still came tomorrow (her card said so)."""
    await say(rapport, "add Dana Scully every 2 weeks")
    await say(rapport, "log Dana yesterday: coffee")
    assert (await _answer(rapport, "snooze Dana 1 week")).startswith(
        "No nudge about Dana Scully is due before")  # nothing dated: as before
    await say(rapport, "remind me to call Dana tomorrow")
    held = await _answer(rapport, "snooze Dana 1 week")
    assert held.startswith("Dana Scully's rhythm brings no nudge before ")
    assert held.endswith("A reminder with a day of its own still comes tomorrow "
                         "(“show Dana Scully” lists it).")
    await say(rapport, "add Lee Park every 1 week")
    await say(rapport, "log Lee 6 days ago: call")
    await say(rapport, "remind me to send Lee the deck tomorrow")
    moved = await say(rapport, "snooze Lee 1 week")
    assert moved.startswith("No nudge about Lee Park is out; their next rhythm nudge waits "
                            "until ")
    assert "A reminder with a day of its own still comes " in moved


async def _answer(rapport: Rapport, text: str) -> str:
    """Rapport's answer, an error included."""
    return (await rapport.handle_text(console_user(), text)).text
