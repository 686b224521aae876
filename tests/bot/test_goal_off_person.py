"""`goal <person> off` says truthfully where that person's rhythm comes from: a group's goal
they follow (and how to change that), a rhythm of their own, or none; it changes nothing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core.context import NotAPerson
from rapport.bot.core.rapport import Rapport
from rapport.storage import db
from tests.conftest import Clock, console_user, snapshot

ALEX = console_user("alex")


class Directory:
    """The platform's directory, as Slack's users.info answers for one colleague."""

    async def display_name(self, user_external_id: str) -> str | None:
        return "Fox Mulder" if user_external_id == "U0FOX" else None

    async def not_a_person(self, user_external_id: str) -> NotAPerson | None:
        del user_external_id
        return None


async def _say(rapport: Rapport, *lines: str) -> None:
    for line in lines:
        reply = await rapport.handle_text(ALEX, line)
        assert reply.ok, (line, reply.text)


async def test_goal_off_for_someone_following_a_group_goal_names_that_goal(
        engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(engine), clock=clock)
    fox = await rapport.handle_text(ALEX, "add <@U0FOX> #clients", directory=Directory())
    assert fox.ok, fox.text
    await _say(rapport, "add Dana Scully #clients", "add Lee Park #clients #team",
               "goal clients every 3 weeks", "goal team every 2 weeks",
               "add Priya Shah every month", "add Sam Okafor")
    people = await rapport.handle_text(ALEX, "people")
    assert "Dana Scully (colleague; goal: every 3 weeks) #clients" in people.text
    before = await snapshot(engine)

    dana = await rapport.handle_text(ALEX, "goal dana off")
    assert not dana.ok
    assert dana.text == (
        "There is no group called dana. Dana Scully follows your goal for clients (every 3 "
        "weeks); their rhythm is not their own. “untag Dana Scully clients” takes them out "
        "of it, “goal clients off” turns it off for everyone tagged clients, and “every Dana "
        "Scully off” stops reminders for Dana Scully alone.")
    # Named by @mention (never a group's name), the same truth.
    fox = await rapport.handle_text(ALEX, "goal <@U0FOX> off", directory=Directory())
    assert not fox.ok and fox.text == (
        "A goal is a group's. Fox Mulder follows your goal for clients (every 3 weeks); their "
        "rhythm is not their own. “untag Fox Mulder clients” takes them out of it, “goal "
        "clients off” turns it off for everyone tagged clients, and “every Fox Mulder off” "
        "stops reminders for Fox Mulder alone.")

    # Two goals: the shorter one applies, and both are named.
    lee = await rapport.handle_text(ALEX, "goal lee off")
    assert lee.text == (
        "There is no group called lee. Lee Park follows your goal for team (every 2 weeks), "
        "the shorter of their goals (also clients every 3 weeks); their rhythm is not their "
        "own. “untag Lee Park team” takes them out of it, “goal team off” turns it off for "
        "everyone tagged team, and “every Lee Park off” stops reminders for Lee Park alone.")

    # Their own rhythm: as before.
    priya = await rapport.handle_text(ALEX, "goal priya off")
    assert priya.text == ("There is no group called priya. Priya Shah's rhythm is their own: "
                          "“every Priya Shah off” stops reminders, “every Priya Shah 3 weeks” "
                          "changes it.")
    # No rhythm at all: nothing to turn off, and how to set one.
    sam = await rapport.handle_text(ALEX, "goal sam off")
    assert sam.text == ("There is no group called sam. Sam Okafor has no rhythm to turn off: "
                        "“every Sam Okafor 3 weeks” sets one.")
    assert not any(reply.ok for reply in (lee, priya, sam))
    assert await snapshot(engine) == before
