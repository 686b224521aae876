"""Tags, goals and attainment through the console grammar, on a history built over months."""

from __future__ import annotations

import io
import struct
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core import commands as c
from rapport.bot.core.goals import person_badges, person_badges_for
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.trend_chart import DPI, HEIGHT_INCHES, WIDTH_INCHES, trend_chart
from rapport.bot.core.verbs import parse_command
from rapport.bot.core.views import GoalsView, PeopleView, StatsView
from rapport.bot.platforms.console.chat import ConsoleMessenger
from rapport.scheduler import planner
from rapport.scheduler.attainment import (
    GoalAttainment,
    Point,
    cadence_phrase,
    every_phrase,
    goal_line,
)
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from rapport.storage.models import Contact, ContactTag, Tag
from tests.conftest import MONDAY_10_UTC, Clock, console_user, snapshot

ALEX = console_user("alex")
CLIENTS = ("Ana Diaz", "Ben Ng", "Cy Ode", "Di Park", "Ed Roy", "Fay Soto", "Gus Tam",
           "Hal Udo", "Ivy Vo")
NOW = MONDAY_10_UTC + timedelta(weeks=20)


async def _say(rapport: Rapport, *lines: str, actor: object = ALEX) -> None:
    for line in lines:
        reply = await rapport.handle_text(actor, line)  # type: ignore[arg-type]
        assert reply.ok, (line, reply.text)


async def _contacts(rapport: Rapport) -> dict[str, Contact]:
    async with rapport.sessions() as session:
        return {row.name: row for row in (await session.scalars(select(Contact))).all()}


async def _client_history(rapport: Rapport, clock: Clock) -> None:
    """Nine clients added 20 weeks ago; five talked to 66 days ago, seven 10 days ago."""
    clock.set(NOW - timedelta(weeks=20))
    await _say(rapport, *(f"add {name} client at Initech #clients" for name in CLIENTS),
               "goal clients every month")
    clock.set(NOW - timedelta(days=66))
    await _say(rapport, *(f'log "{name}" call' for name in CLIENTS[:5]))
    clock.set(NOW - timedelta(days=10))
    await _say(rapport, *(f'log "{name}" coffee' for name in CLIENTS[:7]))
    clock.set(NOW)


# ------------------------------------------------------------------------------ grammar
def test_tag_goal_set_and_suggestion_grammar() -> None:
    today = NOW.date()

    def ok(text: str) -> object:
        parsed = parse_command(text, today=today)
        assert not isinstance(parsed, c.CommandError), (text, parsed)
        return parsed

    lee, lee_park = c.PersonRef(text="Lee"), c.PersonRef(text="Lee Park")
    assert ok("tag Lee clients") == c.TagPerson(lee, ("clients",))
    assert ok("tag Lee Park #Clients #emea") == c.TagPerson(lee_park, ("clients", "emea"))
    assert ok('tag "Lee Park" vip') == c.TagPerson(lee_park, ("vip",))
    assert ok("untag Lee clients") == c.UntagPerson(lee, ("clients",))
    assert ok("goal clients every month") == c.SetGoal("clients", 30)
    assert ok("goal #team every 2 weeks") == c.SetGoal("team", 14)
    assert ok("goal team fortnight") == c.SetGoal("team", 14)
    assert ok("goal clients off") == c.SetGoal("clients", None)
    # The same words read as one person's rhythm, for when no group is called that.
    assert ok("goal Dana every 2 weeks").person == c.SetCadence(c.PersonRef(text="Dana"), 14)
    assert ok("goal Dana Scully monthly") == c.SetGoal(None, None)
    assert ok("goal Dana Scully monthly").person == c.SetCadence(
        c.PersonRef(text="Dana Scully"), None, 1)
    assert ok("goals") == c.ShowGoals()
    assert ok("people #clients") == c.ShowPeople("clients")
    assert ok("add Lee Park client at Initech #clients") == c.AddContact(
        lee_park, "client", "Initech", None, tags=("clients",))
    assert ok("add Lee Park client at Initech") == c.AddContact(lee_park, "client", "Initech",
                                                                None)
    assert ok("set Dana ai off") == c.SetPersonField(c.PersonRef(text="Dana"), "ai", "off")
    assert ok("set Dana Scully sensitive") == c.SetPersonField(c.PersonRef(text="Dana Scully"),
                                                               "sensitive", "")
    assert ok("suggestions") == c.ShowSuggestions()
    assert ok("suggestions on window") == c.ShowSuggestions("window", True)
    assert ok("accept 3") == c.AnswerSuggestion(3, "accept")
    assert ok("keep #3") == c.AnswerSuggestion(3, "keep")
    assert ok("silence s3") == c.AnswerSuggestion(3, "silence")
    for bad, message in (("tag Lee", "Which tag? For example “tag Lee clients”."),
                         ("tag Zoë", "Which tag?"), ("untag Zoë", "Which tag?"),
                         ("tag", "Who do you mean? Name a person and a tag"),
                         ("untag", "Who do you mean?"), ("tag #clients", "Who do you mean?"),
                         ("tag Lee c@t", "not a tag name"),
                         ("goal", "Which group?"), ("goal clients sometimes", "How often?"),
                         ("people clients", "takes no arguments"),
                         ("set Dana", "Which field?"),
                         ("set Dana ai maybe", "Say “on” or “off”"),
                         ("accept", "Which suggestion?"), ("keep all", "Which suggestion?"),
                         ("suggestions please", "suggestions on window"),
                         ("add Lee #b@d", "not a tag name")):
        parsed = parse_command(bad, today=today)
        assert isinstance(parsed, c.CommandError), bad
        assert message in parsed.message, (bad, parsed.message)
        assert parsed.usage, bad


def test_cadence_words() -> None:
    assert [cadence_phrase(d) for d in (7, 14, 30, 60, 10, 365)] == [
        "a week", "2 weeks", "a month", "2 months", "10 days", "a year"]
    assert [every_phrase(d) for d in (7, 14, 30, 56)] == [
        "every week", "every 2 weeks", "every month", "every 8 weeks"]


# ------------------------------------------------------------------------------ tags
async def test_tags_on_people_in_add_people_and_show_badges(rapport: Rapport,
                                                           clock: Clock) -> None:
    reply = await rapport.handle_text(ALEX, "add Lee Park client at Initech #clients")
    assert reply.ok and reply.text == ("Added Lee Park (client at Initech). Set how often with "
                                       "“every Lee Park 2 weeks”. Tagged clients.")
    await _say(rapport, "add Dana Scully", "add Sam Lee every 1 week")
    tagged = await rapport.handle_text(ALEX, "tag Dana #clients #vip")
    assert tagged.text == "Tagged Dana Scully clients and vip."
    again = await rapport.handle_text(ALEX, "tag Dana clients")
    assert again.ok and not again.changed and again.text == "Dana Scully is already tagged " \
                                                           "clients."
    clients = await rapport.handle_text(ALEX, "people #clients")
    assert isinstance(clients.view, PeopleView)
    assert [p.name for p in clients.view.people] == ["Dana Scully", "Lee Park"]
    assert clients.text.splitlines() == [
        "Your people tagged clients:",
        "  Dana Scully (colleague) #clients #vip: no conversation logged",
        "  Lee Park (client at Initech) #clients: no conversation logged"]
    everyone = await rapport.handle_text(ALEX, "people")
    assert "  Sam Lee (colleague, every 7 days): no conversation logged" in everyone.text
    untagged = await rapport.handle_text(ALEX, "untag Dana vip")
    assert untagged.text == "Took vip off Dana Scully."
    await _say(rapport, "set Dana sensitive")
    ctx = await rapport.user_context(ALEX)
    dana = (await _contacts(rapport))["Dana Scully"]
    async with rapport.sessions() as session:
        badges = await session.run_sync(person_badges_for, ctx.user_id, dana.id)
        stranger = await session.run_sync(person_badges_for, ctx.user_id + 1000, dana.id)
    assert badges == ["#clients", "Sensitive: write to Dana personally; no drafts."]
    assert stranger == []
    assert person_badges(["team"], sensitive=False, ai_drafts=False, first_name="Lee") == [
        "#team", "AI drafts off for Lee: template drafts only."]
    assert person_badges([], sensitive=False, ai_drafts=True, first_name="Lee") == []
    nobody = await rapport.handle_text(ALEX, "people #vip")
    assert nobody.text == "Nobody is tagged vip. Tag someone with “tag Lee vip”."


async def test_bad_tag_commands_change_nothing(any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await _say(rapport, "add Lee Park #clients", "goal clients every month")
    before = await snapshot(any_engine)
    for line, answer in (
            ("tag Nobody clients", "I don't know anyone called “Nobody” yet."),
            ("untag Lee vip", "Lee Park is not tagged vip."),
            ("untag Lee Park #nope", "Lee Park is not tagged nope."),
            ("goal team off", "There is no goal for team to turn off."),
            ("tag Lee " + "x" * 40, "is not a tag name"),
            ("tag Lee \u200b\u0301", "is not a tag name"),
            ("set Nobody ai off", "I don't know anyone called “Nobody” yet."),
            ("accept 999999", "I can't find suggestion 999999 among yours;"
                              " it may have been withdrawn (“suggestions” lists the open ones).")):
        reply = await rapport.handle_text(ALEX, line)
        assert not reply.ok and answer in reply.text, (line, reply.text)
    assert await snapshot(any_engine) == before


# ------------------------------------------------------------------------------ goals
async def test_goal_cadence_applies_unless_a_person_has_their_own(rapport: Rapport,
                                                                  clock: Clock) -> None:
    await _say(rapport, "add Lee Park #clients", "add Dana Scully every 2 weeks #clients",
               "add Kim Wu")
    reply = await rapport.handle_text(ALEX, "goal clients every month")
    assert reply.text == ("Goal set: talk to everyone tagged clients every month. 1 of 2 keep a "
                          "rhythm of their own (set with “every”); attainment counts everyone.")
    contacts = await _contacts(rapport)
    assert (contacts["Lee Park"].cadence_days, contacts["Lee Park"].goal_cadence_days) == (30, 30)
    # A rhythm is due from the start of its day (00:00 UTC for this user).
    assert contacts["Lee Park"].next_due_at == (clock.now + timedelta(days=30)).replace(hour=0)
    assert contacts["Lee Park"].plan_at == contacts["Lee Park"].next_due_at
    assert contacts["Dana Scully"].cadence_days == 14
    tagged = await rapport.handle_text(ALEX, "tag Kim clients")
    assert tagged.text == "Tagged Kim Wu clients. Kim Wu now follows your goal: talk every month."
    people = await rapport.handle_text(ALEX, "people")
    assert "  Lee Park (colleague; goal: every month) #clients: no conversation logged" \
        in people.text
    # A shorter goal of a second tag wins; a rhythm of one's own always does.
    await _say(rapport, "tag Lee team", "goal team every 2 weeks")
    assert (await _contacts(rapport))["Lee Park"].cadence_days == 14
    await _say(rapport, "every Kim 3 weeks", "goal clients every 2 months")
    contacts = await _contacts(rapport)
    assert (contacts["Kim Wu"].cadence_days, contacts["Lee Park"].cadence_days) == (21, 14)
    off = await rapport.handle_text(ALEX, "goal team off")
    assert off.text == "Goal for team turned off. 1 of them now follows another goal."
    assert (await _contacts(rapport))["Lee Park"].cadence_days == 60
    off = await rapport.handle_text(ALEX, "goal clients off")
    assert off.text == ("Goal for clients turned off. 1 of them no longer has a rhythm; set one "
                        "with “every <name> 2 weeks”.")
    contacts = await _contacts(rapport)
    assert (contacts["Lee Park"].cadence_days, contacts["Lee Park"].next_due_at) == (None, None)
    assert contacts["Kim Wu"].cadence_days == 21 and contacts["Dana Scully"].cadence_days == 14


async def test_a_goal_for_one_person_is_their_own_rhythm(rapport: Rapport) -> None:
    # "goal Dana every 2 weeks" set a goal for a group "dana" that nobody carried before.
    await _say(rapport, "add Lee Park #clients", "add Dana Scully", "add Dana White",
               "goal clients every month")
    reply = await rapport.handle_text(ALEX, "goal Lee every 2 weeks")
    assert reply.text.startswith("Goal set: I'll remind you to talk to Lee Park every 2 weeks")
    assert "their own" in reply.text
    await _say(rapport, "goal Dana Scully monthly")
    off = await rapport.handle_text(ALEX, "goal Lee off")
    assert off.text == ("There is no group called lee. Lee Park's rhythm is their own: “every "
                        "Lee Park off” stops reminders, “every Lee Park 3 weeks” changes it.")
    which = await rapport.handle_text(ALEX, "goal Dana every week")
    assert not which.ok and "Which Dana do you mean" in which.text
    contacts = await _contacts(rapport)
    assert (contacts["Lee Park"].cadence_days, contacts["Lee Park"].cadence_own) == (14, True)
    assert (contacts["Dana Scully"].cadence_months, contacts["Dana White"].cadence_days) == (
        1, None)
    async with rapport.sessions() as session:
        assert list(await session.scalars(select(Tag.name))) == ["clients"]
    # `goals` shows them, so a goal set for one person can be watched like a group's.
    await _say(rapport, "log Lee yesterday")
    listed = await rapport.handle_text(ALEX, "goals")
    assert listed.text.endswith(
        "People with a rhythm of their own: 2 of 2 within their rhythm\n"
        "  Dana Scully: every month, no conversation logged yet\n"
        "  Lee Park: every 2 weeks, last talked yesterday")
    await _say(rapport, "undo")
    # A group of that name comes first; an unknown name is still a new group's goal.
    await _say(rapport, "tag Dana White lee", "goal lee every 3 weeks", "goal team every week")
    contacts = await _contacts(rapport)
    assert (contacts["Lee Park"].cadence_days, contacts["Dana White"].cadence_days) == (14, 21)
    await _say(rapport, "undo", "undo", "undo", "undo")
    assert (await _contacts(rapport))["Dana Scully"].cadence_months is None
    before = await snapshot(rapport.sessions.kw["bind"])
    for line, answer in (("goal cl!ents every week", "is not a tag name"),
                         ("goal Mr. Nobody every week", "I don't know anyone called “Mr. "),
                         ("goal Dana Sculy every week", "Did you mean Dana Scully?")):
        nobody = await rapport.handle_text(ALEX, line)
        assert not nobody.ok and answer in nobody.text, nobody.text
    # Words that name nobody are told what a goal is, never offered as a person to add.
    sentence = await rapport.handle_text(ALEX, "goal talk to 3 clients a week")
    assert not sentence.ok
    assert sentence.text.startswith("I don't know anyone called “talk to 3 clients”, and a "
                                    "group's name is one word."), sentence.text
    assert "“goal clients every month”" in sentence.text
    assert "add talk" not in sentence.text
    assert await snapshot(rapport.sessions.kw["bind"]) == before


async def test_the_sweep_nudges_about_a_goal_cadence(any_engine: AsyncEngine,
                                                     clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await _say(rapport, "settings window 0:00-24:00", "settings days all",
               "add Lee Park client at Initech #clients", "goal clients every 2 weeks")
    messenger = ConsoleMessenger(write=lambda text: None)
    sweeper = Sweeper(sessions=db.session_factory(any_engine), messengers={"console": messenger},
                      owner="goals", clock=clock)
    assert (await sweeper.sweep()).sent == 0
    clock.advance(days=14, minutes=1)
    assert (await sweeper.sweep()).sent == 1
    [message] = messenger.delivered
    assert message.items[0].headline == ("You wanted to keep in touch with Lee Park (Initech) "
                                         "every 2 weeks, and you have not logged a conversation "
                                         "yet")
    # Untagged, Lee no longer follows the goal: the waiting rhythm nudges go.
    await _say(rapport, "untag Lee clients")
    assert (await _contacts(rapport))["Lee Park"].cadence_days is None


async def test_attainment_leads_stats_and_the_goals_list(any_engine: AsyncEngine,
                                                         clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await _client_history(rapport, clock)
    await _say(rapport, "add Zed Ash #team", "goal team every 2 weeks")
    stats = await rapport.handle_text(ALEX, "stats")
    assert stats.text.splitlines()[0] == "Clients: 7 of 9 within a month (78%), up from 56%"
    assert stats.text.splitlines()[1] == "Team: 0 of 1 within 2 weeks (0%)"
    assert stats.text.splitlines()[2].startswith("Conversations logged: ")
    assert isinstance(stats.view, StatsView)
    [clients, team] = stats.view.goals
    assert [(p.within, p.members) for p in clients.trend] == [
        (5, 9), (5, 9), (5, 9), (0, 9), (0, 9), (0, 9), (0, 9), (7, 9), (7, 9)]
    assert [p.at for p in clients.trend] == [NOW - timedelta(weeks=8 - k) for k in range(9)]
    assert [(p.within, p.members) for p in team.trend][-1] == (0, 1)
    goals = await rapport.handle_text(ALEX, "goals")
    assert isinstance(goals.view, GoalsView)
    assert goals.text.splitlines() == [
        "Your goals:",
        "  Clients: 7 of 9 within a month (78%), up from 56%",
        "    week by week: 56%, 56%, 56%, 0%, 0%, 0%, 0%, 78%, 78% now",
        "  Team: 0 of 1 within 2 weeks (0%)",
        "    week by week: 0% now"]
    # Someone else's history never counts.
    other = console_user("sam")
    await _say(rapport, "add Ana Diaz #clients", "goal clients every month", actor=other)
    assert (await rapport.handle_text(other, "stats")).text.splitlines()[0] == \
        "Clients: 0 of 1 within a month (0%)"


async def test_someone_due_today_is_within_their_cadence(rapport: Rapport, clock: Clock
                                                         ) -> None:
    """Attainment counts as `people` and `stats` do: due today (in the user's calendar,
    whatever the hour) is still within the cadence; the day after is not."""
    new_york = console_user(tz="America/New_York")
    clock.set(NOW - timedelta(days=30))
    await _say(rapport, "add Ana Diaz #clients", "add Ben Ng #clients", "add Cy Ode #clients",
               "goal clients every 2 weeks", "add Lee Park every 2 weeks", actor=new_york)
    # NOW is Monday 06:00 in New York (EDT). Cy was due Sunday 23:00 there (overdue), Ben at
    # 02:00 today and Ana and Lee this very moment (both due today).
    for hours, names in ((7, ("Cy",)), (4, ("Ben",)), (0, ("Ana", "Lee"))):
        clock.set(NOW - timedelta(days=14, hours=hours))
        await _say(rapport, *(f"log {name} call" for name in names), actor=new_york)
    clock.set(NOW)
    stats = await rapport.handle_text(new_york, "stats")
    assert stats.text.splitlines()[0].startswith("Clients: 2 of 3 within 2 weeks (67%)")
    goals = (await rapport.handle_text(new_york, "goals")).text
    assert "People with a rhythm of their own: 1 of 1 within their rhythm" in goals
    assert "Lee Park: every 2 weeks, last talked " in goals and ", overdue" not in goals
    people = (await rapport.handle_text(new_york, "people")).text
    assert people.count("due today") == 3 and people.count("overdue 1 day") == 1


async def test_own_cadence_counts_and_people_added_later_count_from_then(
        rapport: Rapport, clock: Clock) -> None:
    clock.set(NOW - timedelta(weeks=10))
    await _say(rapport, "add Lee Park every 1 week #team", "goal team every month",
               "log Lee call")
    clock.set(NOW - timedelta(days=20))
    await _say(rapport, "add Dana Scully #team", "log Dana lunch")
    clock.set(NOW)
    stats = await rapport.handle_text(ALEX, "stats")
    # Lee's own weekly rhythm: a call 10 weeks ago is not within it; Dana's month is.
    assert stats.text.splitlines()[0] == "Team: 1 of 2 within a month (50%), up from 0%"
    assert isinstance(stats.view, StatsView)
    assert [p.members for p in stats.view.goals[0].trend] == [1, 1, 1, 1, 1, 1, 2, 2, 2]


async def test_each_goal_measures_its_followers_by_its_own_cadence(rapport: Rapport,
                                                                   clock: Clock) -> None:
    # Ann follows two goals: her reminders come at the shorter one's rhythm (2 weeks), but
    # the monthly goal still counts a talk 20 days ago as within its month.
    clock.set(NOW - timedelta(days=30))
    await _say(rapport, "add Ann Lee #vip #team")
    clock.set(NOW - timedelta(days=20))
    await _say(rapport, "log Ann coffee")
    clock.set(NOW)
    await _say(rapport, "goal vip monthly", "goal team every 2 weeks")
    assert (await _contacts(rapport))["Ann Lee"].cadence_days == 14
    stats = await rapport.handle_text(ALEX, "stats")
    [team, vip] = stats.text.splitlines()[:2]
    assert team.startswith("Team: 0 of 1 within 2 weeks (0%)")
    assert vip.startswith("Vip: 1 of 1 within a month (100%)")
    # Her own rhythm, once she has one, is what every goal measures her by.
    await _say(rapport, "every Ann 3 weeks")
    stats = await rapport.handle_text(ALEX, "stats")
    [team, vip] = stats.text.splitlines()[:2]
    assert team.startswith("Team: 1 of 1 within 2 weeks (100%)")
    assert vip.startswith("Vip: 1 of 1 within a month (100%)")


async def test_trend_chart_is_a_small_png_with_alt_text(rapport: Rapport, clock: Clock,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    await _client_history(rapport, clock)
    stats = await rapport.handle_text(ALEX, "stats")
    assert isinstance(stats.view, StatsView)
    chart = trend_chart(stats.view.goals)
    assert chart is not None and chart.png is not None
    png = chart.png
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (round(WIDTH_INCHES * DPI), round(HEIGHT_INCHES * DPI)) \
        == (320, 128)
    assert 2_000 < len(png) < 12_000  # small enough for a Teams card
    from matplotlib import image

    pixels = image.imread(io.BytesIO(png))
    assert pixels.shape[:2] == (128, 320)
    drawn = (pixels[:, :, :3].sum(axis=2) < 2.5).sum()
    assert drawn > 500, "the chart has lines and labels on it"
    assert chart.alt_text == "Goal attainment over the last 8 weeks: Clients from 56% to 78%."
    assert chart.filename == "goal-trend.png"
    # Without matplotlib the text line stands alone.
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    bare = trend_chart(stats.view.goals)
    assert bare is not None and bare.png is None and bare.alt_text == chart.alt_text
    assert trend_chart(()) is None


async def test_import_tags_column(rapport: Rapport, clock: Clock) -> None:
    await _say(rapport, "goal clients every month", "add Dana Scully every 2 weeks")
    ctx = await rapport.user_context(ALEX)
    csv = (b"name,company,tags,cadence\n"
           b"Lee Park,Initech,#clients vip,\n"
           b"Dana Scully,,clients; team,\n")
    dry = await rapport.import_contacts(ctx, "c.csv", csv, dry_run=True)
    assert dry.ok and dry.text == ("Would add 1 person, would update 1 and would leave 0 "
                                   "unchanged. Nothing was saved: this was a dry run.")
    async with rapport.sessions() as session:
        assert (await session.scalars(select(ContactTag))).all() == []
    done = await rapport.import_contacts(ctx, "c.csv", csv)
    assert done.ok, done.text
    contacts = await _contacts(rapport)
    assert contacts["Lee Park"].cadence_days == 30  # follows the goal
    assert contacts["Dana Scully"].cadence_days == 14  # her own
    people = await rapport.handle_text(ALEX, "people")
    assert "  Dana Scully (colleague, every 2 weeks) #clients #team: no conversation logged" \
        in people.text
    assert "  Lee Park (colleague at Initech; goal: every month) #clients #vip: no " \
           "conversation logged" in people.text
    again = await rapport.import_contacts(ctx, "c.csv", csv)
    assert "left 2 unchanged" in again.text
    async with rapport.sessions() as session:
        assert sorted((await session.scalars(select(Tag.name))).all()) == [
            "clients", "team", "vip"]
    bad = await rapport.import_contacts(ctx, "c.csv", b"name,tags\nKim Wu,good b@d\n")
    assert not bad.ok and "row 2: tag 'b@d' is not a tag name" in bad.text
    assert "Kim Wu" not in await _contacts(rapport)


async def test_a_rhythm_of_ones_own_survives_every_goal_change(any_engine: AsyncEngine,
                                                               clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    # Equal to the goal, and still one's own: turning the goal off leaves it.
    await _say(rapport, "add Ravi Kumar every 3 weeks #ops", "goal ops every 3 weeks")
    off = await rapport.handle_text(ALEX, "goal ops off")
    assert off.text == "Goal for ops turned off."
    ops = await rapport.handle_text(ALEX, "people #ops")
    assert "  Ravi Kumar (colleague, every 3 weeks) #ops: no conversation logged" in ops.text
    # Tagged into a goal equal to one's own, then the goal changes: one's own stays.
    await _say(rapport, "add Sam Lee every 4 weeks", "goal team every 4 weeks",
               "add Kim Wu")
    tagged = await rapport.handle_text(ALEX, "tag Sam team")
    assert tagged.text == "Tagged Sam Lee team."
    await _say(rapport, "tag Kim team", "goal team every 1 week")
    team = await rapport.handle_text(ALEX, "people #team")
    assert team.text.splitlines()[1:] == [
        "  Kim Wu (colleague; goal: every week) #team: no conversation logged",
        "  Sam Lee (colleague, every 4 weeks) #team: no conversation logged"]
    # An imported rhythm is one's own too.
    ctx = await rapport.user_context(ALEX)
    reply = await rapport.import_contacts(ctx, "c.csv", b"name,tags,cadence\nAna Diaz,team,"
                                                       b"every 1 week\n", dry_run=False)
    assert reply.ok, reply.text
    await _say(rapport, "goal team every 2 weeks")
    contacts = await _contacts(rapport)
    assert {name: row.cadence_days for name, row in contacts.items()} == {
        "Ravi Kumar": 21, "Sam Lee": 28, "Kim Wu": 14, "Ana Diaz": 7}
    assert [row.cadence_own for row in contacts.values()].count(False) == 1


async def test_add_says_a_rhythm_given_is_their_own_not_a_goal(rapport: Rapport) -> None:
    picard = await rapport.handle_text(
        ALEX, "add Jean-Luc Picard colleague at Starfleet every 3 months #captains")
    assert picard.text == ("Added Jean-Luc Picard (colleague at Starfleet). I'll remind you to "
                           "talk every 3 months. Tagged captains.")
    await _say(rapport, "goal heroes every month")
    kim = await rapport.handle_text(ALEX, "add Kim Possible every 2 months #heroes")
    assert kim.text == ("Added Kim Possible (colleague). I'll remind you to talk every 2 months. "
                        "Tagged heroes.")
    ron = await rapport.handle_text(ALEX, "add Ron Stoppable #heroes")
    assert ron.text == "Added Ron Stoppable (colleague). Tagged heroes. Your goal for them: " \
                       "talk every month."
    contacts = await _contacts(rapport)
    assert (contacts["Kim Possible"].cadence_months, contacts["Kim Possible"].cadence_own) == \
        (2, True)
    assert (contacts["Ron Stoppable"].cadence_days, contacts["Ron Stoppable"].cadence_own) == \
        (30, False)


async def test_a_goal_in_months_counts_calendar_months_like_every_monthly(
        rapport: Rapport, clock: Clock) -> None:
    # Jan 31: a calendar month on is Feb 28 (30 days would be Mar 2).
    clock.set(datetime(2027, 1, 31, 10, 0, tzinfo=UTC))
    await _say(rapport, "add Lee Park client at Initech #clients", "goal clients every month",
               "add Dana Scully every month #clients")
    contacts = await _contacts(rapport)
    lee, dana = contacts["Lee Park"], contacts["Dana Scully"]
    assert (lee.cadence_days, lee.cadence_months, lee.cadence_own) == (30, 1, False)
    assert lee.next_due_at == dana.next_due_at == datetime(2027, 2, 28, 0, 0, tzinfo=UTC)
    show = await rapport.handle_text(ALEX, "show Lee")
    # Due Sunday Feb 28; the nudge comes on the next working day.
    assert "Rhythm: every month · " in show.text and "next nudge Mon Mar 1\n" in show.text
    people = await rapport.handle_text(ALEX, "people")
    assert "  Lee Park (client at Initech; goal: every month) #clients" in people.text

    # Quarterly and yearly goals are calendar months too; weeks stay days.
    quarterly = await rapport.handle_text(ALEX, "goal clients quarterly")
    assert quarterly.text.startswith("Goal set: talk to everyone tagged clients every 3 months.")
    lee = (await _contacts(rapport))["Lee Park"]
    assert (lee.cadence_days, lee.cadence_months) == (90, 3)
    assert lee.next_due_at == datetime(2027, 4, 30, 0, 0, tzinfo=UTC)
    await _say(rapport, "goal clients every year")
    assert (await _contacts(rapport))["Lee Park"].cadence_months == 12
    await _say(rapport, "goal clients every 4 weeks")
    lee = (await _contacts(rapport))["Lee Park"]
    assert (lee.cadence_days, lee.cadence_months) == (28, None)
    show = await rapport.handle_text(ALEX, "show Lee")
    assert "Rhythm: every 4 weeks · " in show.text

    # Undo puts the months back with the rest of the rhythm.
    await _say(rapport, "undo")
    lee = (await _contacts(rapport))["Lee Park"]
    assert (lee.cadence_days, lee.cadence_months, lee.goal_cadence_days) == (365, 12, 365)


def test_goal_words_store_months_as_the_goal_wording_reads_them() -> None:
    today = NOW.date()
    for text, days in (("goal clients every month", 30), ("goal clients monthly", 30),
                       ("goal clients quarterly", 90), ("goal clients every other month", 60),
                       ("goal clients every 18 months", 540), ("goal clients yearly", 365),
                       ("goal clients every 2 years", 730), ("goal clients every 2 weeks", 14),
                       ("goal clients fortnight", 14), ("goal clients every 10 days", 10)):
        assert parse_command(text, today=today) == c.SetGoal("clients", days), text
    for days, months in ((30, 1), (60, 2), (90, 3), (540, 18), (365, 12), (730, 24),
                         (14, None), (28, None), (10, None), (None, None)):
        assert planner.goal_months(days) == months, days
        if months:
            assert every_phrase(days) == "every " + planner.cadence_text(days, months)


def test_a_goal_back_where_it_was_says_so_and_names_the_dip() -> None:
    """Start and end alike: "no change" only when it never fell in between."""
    def goal(shares: list[tuple[int, int]]) -> GoalAttainment:
        return GoalAttainment("clients", 30, tuple(
            Point(at=NOW - timedelta(weeks=len(shares) - 1 - k), within=within, members=of)
            for k, (within, of) in enumerate(shares)))

    steady = goal([(0, 0), (2, 4), (3, 4), (2, 4)])
    assert goal_line(steady) == "Clients: 2 of 4 within a month (50%), no change"
    dipped = goal([(2, 4), (2, 4), (1, 5), (0, 4), (2, 4)])
    assert goal_line(dipped) == ("Clients: 2 of 4 within a month (50%), the same as 4 weeks "
                                 "ago after a dip to 0%")
    assert goal_line(goal([(1, 4), (0, 4), (2, 4)])).endswith(", up from 25%")

