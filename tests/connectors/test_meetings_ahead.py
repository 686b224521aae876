""""Who am I meeting this week?": the coming meetings with the user's people, from a really
synced calendar, each with what to know before it (the brief's content, on demand); only the
user's own people, in their time zone, never a meeting that has begun (before, "meetings"
and "prep me" were unknown commands)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from rapport.storage.models import CalendarConnection
from tests.conftest import console_user
from tests.connectors.helpers import connected
from tests.fakes.calendar_fixtures import CalendarApp

ALEX = console_user("alex", tz="Europe/Berlin")
# The shared clock starts on Monday 23 Nov 2026 10:00 UTC, 11:00 in Berlin.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def _ask(app: CalendarApp, line: str, user: object = ALEX) -> str:
    reply = await app.runtime.rapport.handle_text(user, line)  # type: ignore[arg-type]
    return reply.text


async def _week_of_meetings(app: CalendarApp, provider: str = "google") -> None:
    calendar = await connected(app, provider)
    await app.add_contact("alex", "Dana Scully", "dana@acme.com")
    await app.add_contact("alex", "Lee Park", "lee@globex.com")
    await app.add_contact("alex", "Sam Okafor", "sam@initech.com")
    for line in ("log Dana last Friday: coffee, the Q3 plan", "note Dana: hiking trip in Yosemite",
                 "date Lee birthday Nov 26"):
        assert (await app.runtime.rapport.handle_text(ALEX, line)).ok, line
    # Monday 14:00 Berlin: Dana, and a stranger who must never be named.
    calendar.add(start=NOW + timedelta(hours=3), attendees=["dana@acme.com",
                                                              "stranger@else.com"])
    # Wednesday 09:30 Berlin: Lee and Sam together.
    calendar.add(start=datetime(2026, 11, 25, 8, 30, tzinfo=UTC),
                 attendees=["lee@globex.com", "sam@initech.com"])
    # Earlier today (has begun), a meeting with nobody of ours, one declined, one next week.
    calendar.add(start=NOW - timedelta(minutes=30), minutes=60, attendees=["sam@initech.com"])
    calendar.add(start=NOW + timedelta(hours=5), attendees=["someone@else.com"])
    calendar.add(start=NOW + timedelta(hours=6), attendees=["lee@globex.com"],
                 organizer="lee@globex.com", owner_response="declined")
    calendar.add(start=datetime(2026, 12, 1, 15, 0, tzinfo=UTC), attendees=["sam@initech.com"])
    await app.sync.run_once()


@pytest.mark.parametrize("provider", ["google", "microsoft"])
async def test_the_week_s_meetings_with_what_to_know_before_each(calendar_app: CalendarApp,
                                                                 provider: str) -> None:
    await _week_of_meetings(calendar_app, provider)

    answer = await _ask(calendar_app, "who am I meeting this week?")

    assert answer == (
        "2 meetings with your people this week:\n"
        "• Today 14:00, Dana Scully — last talked Fri Nov 20 (coffee: the Q3 plan). Ask about: "
        "the hiking trip in Yosemite (noted Mon Nov 23).\n"
        "• Wed Nov 25 09:30, with Lee Park and Sam Okafor:\n"
        "    Lee Park — Lee's birthday is Thu Nov 26.\n"
        "    Sam Okafor: nothing logged with them yet.")
    assert "stranger" not in answer and "someone" not in answer
    # The default span is the next 7 days, which ends before next Tuesday's meeting.
    assert (await _ask(calendar_app, "meetings")).startswith(
        "2 meetings with your people in the next 7 days:\n• Today 14:00, Dana Scully")
    assert await _ask(calendar_app, "meetings next week") == (
        "1 meeting with your people next week:\n"
        "• Tue Dec 1 16:00, Sam Okafor: nothing logged with them yet.")
    assert (await _ask(calendar_app, "meetings tomorrow")) == \
        "No meetings with your people tomorrow in your calendar."


async def test_prep_me_gives_the_next_meeting_alone(calendar_app: CalendarApp) -> None:
    await _week_of_meetings(calendar_app)

    assert await _ask(calendar_app, "prep me") == (
        "Your next meeting with your people:\n"
        "• Today 14:00, Dana Scully — last talked Fri Nov 20 (coffee: the Q3 plan). Ask about: "
        "the hiking trip in Yosemite (noted Mon Nov 23).")
    # Once it has begun, the next one is Wednesday's.
    calendar_app.clock.set(NOW + timedelta(hours=3, minutes=1))
    assert (await _ask(calendar_app, "when is my next meeting?")).startswith(
        "Your next meeting with your people:\n• Wed Nov 25 09:30, with Lee Park and Sam Okafor:")


async def test_another_user_s_meetings_never_show(calendar_app: CalendarApp) -> None:
    await _week_of_meetings(calendar_app)
    await calendar_app.user("blake")
    blake = console_user("blake", tz="Europe/Berlin")

    assert await _ask(calendar_app, "meetings this week", blake) == (
        "No calendar is connected, so I don't know your meetings. “connect calendar” lets "
        "Rapport read who you meet and when (never what is said), log those meetings for you "
        "and brief you before the next one.")


async def test_a_paused_calendar_says_how_to_connect_it_again(calendar_app: CalendarApp) -> None:
    await _week_of_meetings(calendar_app)
    async with calendar_app.runtime.sessions() as session, session.begin():
        await session.execute(update(CalendarConnection).values(status="paused"))

    assert await _ask(calendar_app, "my meetings") == (
        "No meetings with your people in the next 7 days in your calendar. Your Google "
        "calendar stopped letting Rapport read it: “connect google calendar” connects it "
        "again.")


async def test_past_spans_and_other_requests_point_somewhere_useful(
        calendar_app: CalendarApp) -> None:
    await _week_of_meetings(calendar_app)

    assert (await _ask(calendar_app, "meetings last week")).startswith(
        "Meetings that have passed are logged as conversations: “recent last week” lists "
        "them.")
    assert "“show Dana” has one person's card" in await _ask(calendar_app, "meetings with Dana")
    assert "I can read a span like “today”" in await _ask(calendar_app, "meetings banana")


async def test_a_meeting_in_two_calendars_is_one_and_a_long_list_is_cut(
        calendar_app: CalendarApp) -> None:
    work = await connected(calendar_app, "google")
    personal = await connected(calendar_app, "microsoft", account="alex@home.example")
    await calendar_app.add_contact("alex", "Dana Scully", "dana@acme.com")
    await calendar_app.add_contact("alex", "Lee Park", "lee@globex.com")
    both = NOW + timedelta(hours=2)
    work.add(start=both, attendees=["dana@acme.com"])
    personal.add(start=both, attendees=["dana@acme.com", "lee@globex.com"])
    for day in range(1, 13):  # a meeting with Lee every day at 16:00 Berlin
        work.add(start=NOW + timedelta(days=day, hours=5), attendees=["lee@globex.com"])
    await calendar_app.sync.run_once()

    answer = (await _ask(calendar_app, "meetings in the next 2 weeks")).splitlines()

    assert answer[0] == "13 meetings with your people in the next 2 weeks:"
    assert answer[1:4] == ["• Today 13:00, with Dana Scully and Lee Park:",
                           "    Dana Scully: nothing logged with them yet.",
                           "    Lee Park: nothing logged with them yet."]
    assert len([line for line in answer if line.startswith("• ")]) == 10
    assert answer[-1] == ("… and 3 more: a shorter span (“meetings tomorrow”) lists them.")


async def test_a_person_s_card_says_when_you_meet_them_next(calendar_app: CalendarApp) -> None:
    await _week_of_meetings(calendar_app)

    assert "· next meeting today 14:00" in await _ask(calendar_app, "show Dana")
    # Lee's meeting today was declined: the next is Wednesday's.
    assert "· next meeting Wed Nov 25 09:30" in await _ask(calendar_app, "show Lee")
    calendar_app.clock.set(NOW + timedelta(hours=3, minutes=1))  # Dana's has begun
    assert "next meeting" not in await _ask(calendar_app, "show Dana")
