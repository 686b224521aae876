"""A person at a glance (`show`, `who is`, `Dana?`) and `search`, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core import commands as c
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import PersonView, SearchView
from rapport.storage import db
from rapport.storage.models import CALENDAR_SOURCE, Contact, Touchpoint
from tests.conftest import Clock, console_user, say, snapshot

ALEX = console_user("alex")
MALLORY = console_user("mallory")


async def _world(rapport: Rapport) -> None:
    for line in ("add Dana Scully client at Acme every 2 weeks",
                 "set Dana email dana@acme.test",
                 "note Dana: allergic to peanuts",
                 "note Dana: hiking trip in Yosemite after Saturday",
                 "note Dana: ask how the offsite went on Friday",
                 "date Dana birthday May 4", "date Dana anniversary March 1 2019",
                 "log Dana 9 days ago call: budget", "log Dana 7 days ago lunch",
                 "log Dana 5 days ago email",
                 "log Dana 3 days ago: coffee, talked about the Q3 plan",
                 "log Dana 2 days ago video", "log Dana yesterday in person"):
        await say(rapport, line)


async def test_show_puts_what_to_ask_first_and_lists_everything_with_handles(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await _world(rapport)
    reply = await rapport.handle_text(ALEX, "show Dana")
    assert reply.ok and isinstance(reply.view, PersonView)
    view = reply.view
    text = reply.text
    lines = text.splitlines()
    assert lines[0] == "Dana Scully: client at Acme · dana@acme.test"
    # Meeting prep: the open follow-ups first, the soonest first.
    assert lines[1].startswith("First: ask Dana how the offsite went (n3, noted today, "
                               "follow-up Fri Nov 27)")
    assert lines[2].startswith("  then ask about: the hiking trip in Yosemite (n2")
    assert "Rhythm: every 2 weeks · last talked yesterday" in text
    assert "n1 allergic to peanuts (noted today)" in text
    # The last five conversations, newest first, with how many there are in all.
    assert "Last conversations (6 in all):" in text
    touches = [line for line in lines if re.match(r"  t\d", line)]
    assert len(touches) == 5 and touches[0].startswith("  t6 yesterday, in person")
    assert "t4 Fri Nov 20, coffee: talked about the Q3 plan" in text
    assert "t1 " not in text  # the sixth is counted, not listed
    assert "Dates: work anniversary Mon Mar 1 2027 (since 2019); birthday Tue May 4 2027" in text
    assert "Drafts: none yet" in text
    assert [n.handle for n in view.ask_about] == ["n3", "n2"]
    assert view.touch_count == 6 and view.tags == ()
    assert view.cadence_days == 14 and view.email == "dana@acme.test"


async def test_who_is_and_a_question_mark_show_the_same_card(rapport: Rapport) -> None:
    await say(rapport, "add Lee Park client at Acme")
    shown = await rapport.handle_text(ALEX, "show Lee")
    for line in ("who is Lee", "Lee?", "who's Lee Park?", "Lee Park", "tell me about Lee"):
        reply = await rapport.handle_text(ALEX, line)
        assert reply.ok and reply.text == shown.text, line


async def test_show_answers_unknown_and_foreign_people_the_same_and_changes_nothing(
        rapport: Rapport, engine: AsyncEngine) -> None:
    await say(rapport, "add Dana Scully")
    await say(rapport, "add Eve Secret", MALLORY)
    before = await snapshot(engine)
    reply = await rapport.handle_text(ALEX, "show Eve")
    assert not reply.ok and "I don't know anyone called “Eve”" in reply.text
    assert "Secret" not in reply.text
    # A contact id from a forged button or form: the same answer for missing and foreign.
    ctx = await rapport.user_context(MALLORY)
    async with rapport.sessions() as session:
        eve = await session.scalar(select(Contact.id).where(Contact.user_id == ctx.user_id))
    assert eve is not None
    foreign = await rapport.execute(ALEX, c.ShowPerson(c.PersonRef(contact_id=eve)))
    missing = await rapport.execute(ALEX, c.ShowPerson(c.PersonRef(contact_id=999_999)))
    assert not foreign.ok
    assert foreign.text == missing.text == "I can't find that person among yours."
    assert await snapshot(engine) == before


async def test_a_bare_word_that_is_nobody_is_answered_as_an_unknown_command(
        rapport: Rapport) -> None:
    await say(rapport, "add Dana Scully")
    reply = await rapport.handle_text(ALEX, "Banana")
    assert not reply.ok and reply.text.startswith("I don't know the command “banana”")
    # Greetings and thanks capitalised, as phones type them, are small talk, not names.
    assert (await rapport.handle_text(ALEX, "Hello")).text.startswith("Hi! ")
    assert (await rapport.handle_text(ALEX, "Thanks")).text == "You're welcome!"


async def test_a_name_typed_alone_in_lowercase_shows_that_person(rapport: Rapport) -> None:
    for line in ("add Sam O'Neil client", "add Dana Scully", "add Dana White"):
        await say(rapport, line)
    shown = await rapport.handle_text(ALEX, "sam")
    assert shown.ok and isinstance(shown.view, PersonView)
    assert shown.text.startswith("Sam O'Neil: client")
    which = await rapport.handle_text(ALEX, "dana")
    assert not which.ok and which.text.startswith("Which dana do you mean")
    # A near miss is the mistyped command it more likely is, never someone's card.
    for typed, answer in (("samm", "I don't know the command “samm”. Type “help”"),
                          ("hlep", "I don't know the command “hlep”. Did you mean “help”?")):
        missed = await rapport.handle_text(ALEX, typed)
        assert not missed.ok and missed.text.startswith(answer), missed.text


async def test_search_finds_people_notes_and_conversations_newest_first(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await say(rapport, "add Dana Scully client at Hiking Co")
    await say(rapport, "add Lee Park")
    clock.advance(hours=1)
    await say(rapport, "note Dana: hiking trip in Yosemite")
    clock.advance(hours=1)
    await say(rapport, "log Lee yesterday: talked about HIKING boots")
    clock.advance(hours=1)
    await say(rapport, "note Lee: 100% sure about the offsite")
    await say(rapport, "add Eve", MALLORY)
    await say(rapport, "note Eve: hiking secrets", MALLORY)
    reply = await rapport.handle_text(ALEX, "search hiking")
    assert reply.ok and isinstance(reply.view, SearchView)
    kinds = [(hit.kind, hit.contact_name) for hit in reply.view.hits]
    # Newest first by when it happened: the note, the person (added before it), then the
    # conversation (yesterday); never another user's note.
    assert kinds == [("note", "Dana Scully"), ("person", "Dana Scully"),
                     ("conversation", "Lee Park")]
    assert all(hit.contact_name != "Eve" for hit in reply.view.hits)
    assert "secrets" not in reply.text
    # LIKE characters are plain text; several words must all match.
    percent = await rapport.handle_text(ALEX, "search 100%")
    assert isinstance(percent.view, SearchView) and len(percent.view.hits) == 1
    both = await rapport.handle_text(ALEX, "search lee boots")
    assert isinstance(both.view, SearchView)
    assert [h.kind for h in both.view.hits] == ["conversation"]
    nothing = await rapport.handle_text(ALEX, "search zebra")
    assert nothing.ok and nothing.text == "Nothing matches “zebra”."
    # A name is found as names are compared: without its accents, with either apostrophe.
    await say(rapport, "add Zoë O'Brien")
    clock.advance(hours=1)
    await say(rapport, "note Zoë: loves sourdough")
    for typed in ("zoe", "o’brien", "ZOE O'BRIEN"):
        found = await rapport.handle_text(ALEX, f"search {typed}")
        assert isinstance(found.view, SearchView), typed
        assert [(h.kind, h.contact_name) for h in found.view.hits] == [
            ("note", "Zoë O'Brien"), ("person", "Zoë O'Brien")], typed


async def test_search_is_blind_to_accents_case_and_typography_in_everything_it_reads(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await say(rapport, "add Lee Park client at Société Générale")
    clock.advance(hours=1)
    await say(rapport, "note Lee: loves the Café Central’s strudel")
    clock.advance(hours=1)
    await say(rapport, "log Lee yesterday: RÉSUMÉ review, the Q3–plan")
    for typed, kinds in (("cafe", ["note"]), ("CAFÉ central's", ["note"]),
                         ("resume", ["conversation"]), ("q3-plan", ["conversation"]),
                         ("societe generale", ["person"]), ("strudel lee", ["note"])):
        found = await rapport.handle_text(ALEX, f"search {typed}")
        assert isinstance(found.view, SearchView), (typed, found.text)
        assert [h.kind for h in found.view.hits] == kinds, typed
    # Pattern characters are plain text; a word with an accent still needs its letters.
    for typed in ("caf*", "c_fe", "[cafe]", "cafés"):
        nothing = await rapport.handle_text(ALEX, f"search {typed}")
        assert nothing.ok and nothing.text.startswith("Nothing matches"), (typed, nothing.text)


async def test_person_card_says_when_nudges_are_paused_and_counts_drafts(
        rapport: Rapport, clock: Clock) -> None:
    await say(rapport, "add Dana Scully every 1 week")
    await say(rapport, "pause until Monday")
    reply = await rapport.handle_text(ALEX, "show Dana")
    assert isinstance(reply.view, PersonView)
    assert reply.view.paused_until == date(2026, 11, 30)
    assert "nudges paused" in reply.text
    assert reply.view.next_nudge_on == clock.now.date() + timedelta(days=7)


async def test_show_names_tags_draft_settings_and_what_the_calendar_logged(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    for line in ("add Lee Park client at Initech #clients #emea", "set Lee ai off",
                 "log Lee yesterday: coffee"):
        await say(rapport, line)
    async with any_engine.begin() as connection:
        # What the calendar connector writes for a meeting with Lee that ended today.
        lee_id = (await connection.execute(select(Contact.id).where(
            Contact.name == "Lee Park"))).scalar_one()
        row = (await connection.execute(select(Touchpoint).where(
            Touchpoint.contact_id == lee_id))).first()
        assert row is not None
        await connection.execute(Touchpoint.__table__.insert().values(
            workspace_id=row.workspace_id, user_id=row.user_id, contact_id=lee_id,
            happened_at=clock.now, kind="meeting", source=CALENDAR_SOURCE,
            created_at=clock.now))
    reply = await rapport.handle_text(ALEX, "show Lee")
    assert reply.ok and isinstance(reply.view, PersonView)
    assert reply.view.tags == ("clients", "emea")
    assert reply.view.drafts_note == "AI drafts off for Lee: template drafts only."
    lines = reply.text.splitlines()
    assert lines[0] == "Lee Park: client at Initech · #clients #emea"
    assert lines[1] == "AI drafts off for Lee: template drafts only."
    meeting = next(line for line in lines if ", meeting" in line)
    coffee = next(line for line in lines if ", coffee" in line)
    assert meeting.endswith("meeting (logged from your calendar)")
    assert "calendar" not in coffee


async def test_the_fix_line_suggests_only_this_persons_handles_and_full_name(
        any_engine: AsyncEngine, clock: Clock) -> None:
    # Found by a tester: every card without notes suggested "edit n3" and "delete t7", other
    # people's records, and "set Dana company" when there were two Danas.
    from rapport.bot.platforms.slack.blocks import person_blocks, to_dicts
    from rapport.bot.platforms.teams.cards import person_card

    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await _world(rapport)  # Dana Scully's notes n1-n3 and conversations
    added = await say(rapport, "add Dana White")
    assert "“every Dana White 2 weeks”" in added

    white = await rapport.handle_text(ALEX, "show Dana White")
    assert isinstance(white.view, PersonView)
    fix = white.text.splitlines()[-1]
    assert fix == ("Fix anything: “rename Dana White to …”, “set Dana White company …”; "
                   "“undo” reverses a change.")
    scully = await rapport.handle_text(ALEX, "show Dana Scully")
    assert isinstance(scully.view, PersonView)
    own = (scully.view.notes[0].handle, scully.view.touches[0].handle)
    assert scully.text.splitlines()[-1].startswith(
        f"Fix anything: “edit {own[0]}: …”, “delete {own[1]}”, “rename Dana Scully to …”, "
        "“set Dana Scully company …”")
    # The Slack and Teams cards say the same.
    for view, handles in ((white.view, ()), (scully.view, own)):
        for rendered in (str(to_dicts(person_blocks(view))), str(person_card(view))):
            found = set(re.findall(r"\b[nt]\d+\b", rendered.split("Fix anything", 1)[1]))
            assert found == set(handles), rendered
            assert f"set {view.name} company" in rendered


async def test_a_role_given_to_add_is_theirs_on_the_card_and_can_be_changed(
        rapport: Rapport) -> None:
    added = await rapport.handle_text(ALEX, "add Hiro Tanaka, VP Sales at Umbrella, monthly")
    assert added.text == ("Added Hiro Tanaka (VP Sales at Umbrella, colleague). I'll remind you "
                          "to talk every month.")
    card = await rapport.handle_text(ALEX, "show Hiro")
    assert card.text.startswith("Hiro Tanaka: VP Sales at Umbrella, colleague\n")
    # A role is not something to ask about: there are no notes to lead with.
    assert "Ask about" not in card.text and "Notes:" not in card.text
    changed = await rapport.handle_text(ALEX, "set Hiro title Head of Sales")
    assert changed.text == "Hiro Tanaka's role is now Head of Sales (was VP Sales)."
    assert (await rapport.handle_text(ALEX, "undo")).ok
    assert (await rapport.handle_text(ALEX, "show Hiro")).text.startswith(
        "Hiro Tanaka: VP Sales at Umbrella, colleague\n")
    # How you met is a note, not a company.
    met = await rapport.handle_text(ALEX, "add Dana Scully, met at KubeCon")
    assert met.text == ("Added Dana Scully (colleague). Set how often with “every Dana Scully "
                        "2 weeks”. I kept “met at KubeCon” as a note.")
    # Imports carry it too (a title column, or a vCard's TITLE).
    imported = await rapport.handle_import(
        ALEX, "people.csv", b"name,company,job title\nMei Chen,Globex,Head of Design\n",
        dry_run=False)
    assert imported.ok and "Ignored" not in imported.text, imported.text
    assert (await rapport.handle_text(ALEX, "show Mei")).text.startswith(
        "Mei Chen: Head of Design at Globex, colleague\n")
    card = (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Sam Okafor\r\nORG:Initech\r\nTITLE:CTO\r\n"
            b"END:VCARD\r\n")
    assert (await rapport.handle_import(ALEX, "sam.vcf", card, dry_run=False)).ok
    assert (await rapport.handle_text(ALEX, "show Sam")).text.startswith(
        "Sam Okafor: CTO at Initech, colleague\n")


async def test_a_note_of_what_someone_is_like_is_not_what_to_open_with(rapport: Rapport
                                                                        ) -> None:
    """The card opened with “First: check in with Priya: prefers email over calls”: what
    someone is like is listed with the notes, and the newest topic is what to ask about."""
    await say(rapport, "add Priya Natarajan client at Initech")
    await say(rapport, "note Priya: the offsite in Lisbon")
    await say(rapport, "note Priya: prefers email over calls")
    card = await say(rapport, "show Priya")
    assert "Ask about first: the offsite in Lisbon (n1" in card
    assert "prefers email over calls (noted today)" in card  # listed with the notes
    assert "First: check in with Priya" not in card
