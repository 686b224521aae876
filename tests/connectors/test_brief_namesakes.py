"""A meeting brief about Dana Scully, beside Dana White among the user's people, says whose
birthday is coming as her reminders do: in full, since "Dana's birthday" could be either's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rapport.bot.connectors.calendars.briefs import BriefJob
from tests.conftest import console_user
from tests.connectors.helpers import connected
from tests.fakes.calendar_fixtures import CalendarApp

ALEX = console_user("alex", tz="Europe/Berlin")
MEETING = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # Monday, 14:00 in Berlin


async def _brief(app: CalendarApp, *people: str) -> str:
    calendar = await connected(app, "google")
    rapport = app.runtime.rapport
    for number, name in enumerate(people):
        await app.add_contact("alex", name, f"person{number}@acme.com")
    for line in ("note Dana Scully: hiking trip in Yosemite", "date Dana Scully birthday Nov 27"):
        assert (await rapport.handle_text(ALEX, line)).ok
    calendar.add(start=MEETING, attendees=["person0@acme.com"])
    await app.sync.run_once()
    told: list[str] = []

    async def tell(user_id: int, text: str, people: object = ()) -> bool:
        told.append(text)
        return True

    app.clock.set(MEETING - timedelta(minutes=29))
    assert await BriefJob(sessions=app.runtime.sessions, tell=tell, clock=app.clock
                          ).run_once() == 1
    return told[0]


async def test_a_brief_says_which_dana_has_a_birthday(calendar_app: CalendarApp) -> None:
    brief = await _brief(calendar_app, "Dana Scully", "Dana White")
    assert brief.startswith("Meeting with Dana Scully at 14:00 — ")
    assert "Dana Scully's birthday is Fri Nov 27" in brief


async def test_a_brief_about_the_only_dana_calls_her_dana(calendar_app: CalendarApp) -> None:
    brief = await _brief(calendar_app, "Dana Scully", "Lee Park")
    assert "Dana's birthday is Fri Nov 27" in brief
