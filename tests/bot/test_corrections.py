"""Fix any mistake: edit and delete single entries by handle, rename, set one detail; and
nobody reaches another user's entries (the same answer for missing and foreign)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.core import commands as c
from rapport.bot.core.rapport import Rapport
from rapport.scheduler.delivery import Sweeper
from rapport.storage import db
from rapport.storage.models import Contact, Note, Nudge, Touchpoint
from tests.bot.test_actions import Inbox
from tests.conftest import Clock, console_user, say, snapshot

ALEX = console_user("alex")
MALLORY = console_user("mallory")


async def _contact(engine: AsyncEngine, name: str) -> Contact:
    async with db.session_factory(engine)() as session:
        row = await session.scalar(select(Contact).where(Contact.name == name))
    assert row is not None
    return row


async def test_edit_a_note_changes_its_text_and_its_reminder(rapport: Rapport,
                                                             engine: AsyncEngine) -> None:
    await say(rapport, "add Dana Scully")
    await say(rapport, "note Dana: hiking trip in Yosemite after Saturday")
    text = await say(rapport, "edit n1: hiking trip in Tahoe on Sunday")
    assert text == ("Changed n1 (Dana Scully): hiking trip in Tahoe. I'll remind you on Mon "
                    "Nov 30 to ask Dana about the hiking trip in Tahoe: Sun Nov 29 is not one "
                    "of your working days.")
    await say(rapport, "edit n1 on Friday")
    async with db.session_factory(engine)() as session:
        note = await session.scalar(select(Note))
    assert note is not None and (note.text, note.follow_up_on) == ("hiking trip in Tahoe",
                                                                   date(2026, 11, 27))
    assert note.plan_at == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert (await say(rapport, "edit n1 no date")).endswith("No reminder any more.")
    async with db.session_factory(engine)() as session:
        note = await session.scalar(select(Note))
    assert note is not None and note.follow_up_on is None and note.plan_at is None


async def test_a_new_follow_up_day_replaces_a_reminder_already_planned(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await say(rapport, "add Dana Scully")
    await say(rapport, "note Dana: the offsite on Tuesday")
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    # No console platform to deliver to: the nudge is planned and waits.
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={}, owner="test",
                      clock=clock)
    await sweeper.sweep()
    async with db.session_factory(engine)() as session:
        assert list((await session.scalars(select(Nudge.status))).all()) == ["planned"]
    await say(rapport, "edit n1 on Friday")
    async with db.session_factory(engine)() as session:
        statuses = (await session.scalars(select(Nudge.status))).all()
    assert list(statuses) == ["expired"]


async def test_editing_and_deleting_a_conversation_keeps_the_clock_right(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    await say(rapport, "add Dana Scully every 2 weeks")
    await say(rapport, "log Dana 5 days ago: coffee")
    await say(rapport, "log Dana yesterday call")
    assert (await _contact(engine, "Dana Scully")).last_touch_at == \
        datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    text = await say(rapport, "edit t2 3 days ago video: roadmap")
    assert text == "Changed t2: video with Dana Scully (Fri Nov 20): roadmap."
    dana = await _contact(engine, "Dana Scully")
    assert dana.last_touch_at == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert dana.next_due_at == datetime(2026, 12, 4, tzinfo=UTC)
    assert (await say(rapport, "delete t2")).startswith("Deleted t2: video with Dana Scully")
    dana = await _contact(engine, "Dana Scully")
    assert dana.last_touch_at == datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    async with db.session_factory(engine)() as session:
        kinds = (await session.scalars(select(Touchpoint.kind))).all()
    assert list(kinds) == ["coffee"]


async def _one_reminder_out(rapport: Rapport, engine: AsyncEngine, clock: Clock,
                            *lines: str) -> None:
    """Dana (every 2 weeks) and `lines` said, then the sweep of Tuesday morning sends
    exactly one reminder, #1, which `due` lists."""
    await say(rapport, "add Dana Scully every 2 weeks")
    for line in lines:
        await say(rapport, line)
    clock.set(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    sweeper = Sweeper(sessions=db.session_factory(engine), messengers={"console": Inbox()},
                      owner="test", clock=clock)
    assert (await sweeper.sweep()).sent == 1
    assert "#1" in await say(rapport, "due")


async def test_deleting_a_note_keeps_delivered_nudge_history(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    """The reminder out about the note is kept as history but closed: without its note it
    read as a keep-in-touch nudge for someone who had no rhythm at all."""
    await _one_reminder_out(rapport, engine, clock, "log Dana: coffee",
                            "note Dana: the offsite on Tuesday")
    await say(rapport, "delete n1")
    async with db.session_factory(engine)() as session:
        nudge = await session.scalar(select(Nudge))
        notes = (await session.scalars(select(Note))).all()
    assert notes == [] and nudge is not None
    assert (nudge.status, nudge.note_id) == ("expired", None)
    assert "#1" not in await say(rapport, "due")
    assert "keep in touch" not in await say(rapport, "due")
    await say(rapport, "undo")
    async with db.session_factory(engine)() as session:
        nudge = await session.scalar(select(Nudge))
    assert nudge is not None and (nudge.status, nudge.note_id) == ("sent", 1)
    assert "offsite" in await say(rapport, "due")


async def test_rename_and_set_one_detail(rapport: Rapport, engine: AsyncEngine) -> None:
    await say(rapport, "add Dana Scully")
    await say(rapport, "add Fox Mulder")
    assert await say(rapport, "rename Dana Scully to Dana Katherine Scully") == \
        "Renamed Dana Scully to Dana Katherine Scully."
    dana = await _contact(engine, "Dana Katherine Scully")
    assert (dana.name_key, dana.first_key) == ("dana katherine scully", "dana")
    assert "Dana Katherine Scully" in await say(rapport, "show Dana")
    assert await say(rapport, "set Dana company FBI") == \
        "Dana Katherine Scully's company is now FBI."
    assert await say(rapport, "set Dana company Bureau") == \
        "Dana Katherine Scully's company is now Bureau (was FBI)."
    assert await say(rapport, "set Dana email Dana@FBI.gov") == \
        "Dana Katherine Scully's email is now dana@fbi.gov."
    assert await say(rapport, "set Dana kind client") == \
        "Dana Katherine Scully's kind is now client (was colleague)."
    assert await say(rapport, "set Dana company none") == \
        "Cleared Dana Katherine Scully's company (was Bureau)."
    dana = await _contact(engine, "Dana Katherine Scully")
    assert (dana.company, dana.email, dana.kind) == (None, "dana@fbi.gov", "client")
    # A value that ends a sentence by itself gets no second period.
    assert await say(rapport, "set Dana company Acme Inc.") == \
        "Dana Katherine Scully's company is now Acme Inc."
    assert await say(rapport, "rename Fox Mulder to Fox W. M.") == \
        "Renamed Fox Mulder to Fox W. M."
    assert await say(rapport, "undo") == "Undone: renamed Fox Mulder to Fox W. M."


@pytest.mark.parametrize(("line", "answer"), [
    ("rename Dana Scully to Fox Mulder", "You already have someone called Fox Mulder."),
    ("rename Dana Scully to Dana Scully", "already called that"),
    ("rename Nobody to Dana", "I don't know anyone called “Nobody”."),
    ("set Dana email not-an-email", "is not an email address"),
    ("set Dana kind friend", "Kind is colleague or client."),
    ("set Dana colour blue", "Which field?"),
    ("set Dana company", "Set company to what?"),
    ("edit n1", "What should change?"),
    ("edit n1: x on 2020-01-01", "already passed"),
    ("edit t1 tomorrow", "already happened"),
    ("edit Dana: x", "handle"),
    ("delete n1 n2", "one entry at a time"),
    ("edit n99: x", "I can't find n99 among yours."),
    ("delete t99", "I can't find t99 among yours."),
])
async def test_bad_corrections_are_refused_and_change_nothing(
        rapport: Rapport, engine: AsyncEngine, line: str, answer: str) -> None:
    await say(rapport, "add Dana Scully")
    await say(rapport, "add Fox Mulder")
    before = await snapshot(engine)
    reply = await rapport.handle_text(ALEX, line)
    assert not reply.ok and answer in reply.text, reply.text
    assert await snapshot(engine) == before


@pytest.mark.parametrize(("day", "answer"), [
    (date(2026, 11, 1), "That follow-up date has already passed."),
    (date(2099, 1, 1), "That follow-up date is more than ten years away."),
])
async def test_a_form_day_the_note_cannot_use_is_refused_as_its_follow_up(
        rapport: Rapport, engine: AsyncEngine, day: date, answer: str) -> None:
    # Forms hand the core a picked day directly (typed text never gets this far): the
    # refusal says which argument it is about, so a form shows it under that field.
    await say(rapport, "add Dana Scully")
    await say(rapport, "note Dana: her talk")
    before = await snapshot(engine)
    for command in (c.AddNote(c.PersonRef(text="Dana"), "her sabbatical", day),
                    c.EditNote(1, follow_up_on=day)):
        reply = await rapport.execute(ALEX, command)
        assert (reply.ok, reply.refused) == (False, "follow_up_on")
        assert reply.text.startswith(answer)
    # A refusal about the person, not the day, is about the command as a whole.
    reply = await rapport.execute(ALEX, c.AddNote(c.PersonRef(text="Nobody"), "x",
                                                  date(2026, 12, 1)))
    assert (reply.ok, reply.refused) == (False, None)
    assert await snapshot(engine) == before


async def test_another_users_handles_and_contacts_are_refused_without_leaking(
        any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await say(rapport, "add Eve Secret", MALLORY)
    await say(rapport, "note Eve: the merger plan", MALLORY)
    await say(rapport, "log Eve coffee: acquisition talk", MALLORY)
    await say(rapport, "add Dana Scully")
    async with db.session_factory(any_engine)() as session:
        note_id = await session.scalar(select(Note.id))
        touch_id = await session.scalar(select(Touchpoint.id))
        eve = await session.scalar(select(Contact.id).where(Contact.name == "Eve Secret"))
    assert note_id is not None and touch_id is not None and eve is not None
    before = await snapshot(any_engine)
    for line, missing in ((f"edit n{note_id}: mine now", "edit n999999: mine now"),
                          (f"delete n{note_id}", "delete n999999"),
                          (f"edit t{touch_id}: mine", "edit t999999: mine"),
                          (f"delete t{touch_id}", "delete t999999")):
        theirs = await rapport.handle_text(ALEX, line)
        nobody = await rapport.handle_text(ALEX, missing)
        assert not theirs.ok
        assert theirs.text == nobody.text.replace("999999", str(
            note_id if "n" in line.split()[1] else touch_id)), (theirs.text, nobody.text)
        for secret in ("merger", "acquisition", "Eve"):
            assert secret not in theirs.text
    person = c.PersonRef(contact_id=eve)
    for command in (c.ShowPerson(person), c.Log(person, None, "chat", None),
                    c.AddNote(person, "x", None), c.Forget(person, confirmed=True),
                    c.Snooze(person, days=7), c.SetField(person, "company", "Mine"),
                    c.Rename(person, "Mine"), c.SetCadence(person, 7), c.Done(person)):
        reply = await rapport.execute(ALEX, command)
        assert not reply.ok and reply.text == "I can't find that person among yours.", command
    assert await snapshot(any_engine) == before


async def test_forget_asks_first_naming_the_person_in_full(rapport: Rapport,
                                                           engine: AsyncEngine) -> None:
    await say(rapport, "add Lee Park client at Acme")
    await say(rapport, "note Lee: likes golf")
    await say(rapport, "log Lee call")
    before = await snapshot(engine)
    reply = await rapport.handle_text(ALEX, "forget Lee")
    assert reply.ok and not reply.changed
    assert reply.text == ("This deletes Lee Park with 1 note and 1 conversation. To go ahead, "
                          "type “forget Lee Park confirm”.")
    assert await snapshot(engine) == before
    view = reply.view
    assert view is not None and getattr(view, "label", "") == "Forget Lee Park"
    # The button runs the typed command it carries.
    done = await rapport.execute(ALEX, view.command)  # type: ignore[union-attr]
    assert done.ok and done.text.startswith("Forgot Lee Park")
    nobody = await rapport.handle_text(ALEX, "forget Nobody")
    assert not nobody.ok and nobody.text == ("I don't know anyone called “Nobody”. There is "
                                             "nothing to forget.")


async def test_undo_after_a_correction(rapport: Rapport, engine: AsyncEngine,
                                       clock: Clock) -> None:
    await say(rapport, "add Dana Scully")
    await say(rapport, "note Dana: the offsite")
    before = await snapshot(engine)
    clock.advance(minutes=1)
    await say(rapport, "edit n1: the team offsite on Friday")
    assert await say(rapport, "undo") == "Undone: edited n1 about Dana Scully."
    assert (await snapshot(engine))["notes"] == before["notes"]


async def test_the_last_note_or_conversation_is_deleted_by_saying_so(
        any_engine: AsyncEngine, clock: Clock) -> None:
    """“delete the last note” asked for a handle; now it takes the one recorded last (of
    everyone, or of the person named), names it, and `undo` brings it back. Another user's
    newer entries are never the last one."""
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await say(rapport, "add Dana Scully")
    await say(rapport, "add Lee Park")
    await say(rapport, "note Dana: likes hiking")
    await say(rapport, "note Lee: new job at Initech")
    await say(rapport, "log Dana coffee: Q3 plan")
    await say(rapport, "add Eve Secret", MALLORY)
    await say(rapport, "note Eve: the merger plan", MALLORY)
    await say(rapport, "log Eve lunch", MALLORY)

    reply = await rapport.handle_text(ALEX, "delete Dana's last note")
    assert reply.ok and reply.text.startswith("Deleted n1 about Dana Scully: likes hiking.")
    reply = await rapport.handle_text(ALEX, "delete the last note")
    assert reply.ok and "about Lee Park: new job at Initech" in reply.text
    reply = await rapport.handle_text(ALEX, "delete my last conversation")
    assert reply.ok and "coffee with Dana Scully" in reply.text
    async with db.session_factory(any_engine)() as session:
        mine = (await session.scalars(select(Note.text).where(Note.user_id == Contact.user_id)
                                      .join(Contact, Contact.id == Note.contact_id)
                                      .where(Contact.name != "Eve Secret"))).all()
        theirs = (await session.scalars(select(Note.text).join(
            Contact, Contact.id == Note.contact_id).where(Contact.name == "Eve Secret"))).all()
        touches = (await session.scalars(select(Touchpoint.kind))).all()
    assert (mine, theirs, touches) == ([], ["the merger plan"], ["lunch"])

    assert (await rapport.handle_text(ALEX, "delete the last note")).text == \
        "There are no notes to delete."
    assert (await rapport.handle_text(ALEX, "delete Lee's last conversation")).text == \
        "There are no conversations logged for Lee Park to delete."
    assert "Undone" in (await rapport.handle_text(ALEX, "undo")).text
    async with db.session_factory(any_engine)() as session:
        assert (await session.scalars(select(Touchpoint.summary).order_by(Touchpoint.id))
                ).all() == ["Q3 plan", None]


async def test_forget_something_of_someones_points_at_that_entry_and_deletes_nothing(
        rapport: Rapport, engine: AsyncEngine) -> None:
    """`forget about Lee's daughter` named nobody and said "There is nothing to forget": the
    person meant Lee's note about her."""
    for line in ("add Lee Park", "add Dana Scully",
                 "note Lee: his daughter starts college next fall",
                 "note Dana: her daughter plays the cello",
                 "log Lee: lunch, the daughter's move",
                 # Newer than Lee's, and more than a page of them: Lee's are still found.
                 *(f"note Dana: her daughter's recital, part {n}" for n in range(25))):
        await say(rapport, line)
    before = await snapshot(engine)

    reply = await rapport.handle_text(console_user(), "forget about Lee's daughter")

    assert not reply.ok
    assert reply.text == (
        "To delete just what you have about “daughter”: “delete n1” (his daughter starts "
        "college next fall); “delete t1” (lunch: the daughter's move). “forget Lee Park” "
        "would delete Lee Park with everything about them.")
    # Dana's note names a daughter too: it is not Lee's, and is not offered.
    assert "n2" not in reply.text
    nothing = await rapport.handle_text(console_user(), "delete Lee’s dog")
    assert nothing.text == (
        "Nothing you have about Lee Park mentions “dog”. “show Lee Park” lists their notes and "
        "conversations, each with the handle that deletes just that one. “forget Lee Park” "
        "would delete Lee Park with everything about them.")
    assert await snapshot(engine) == before
    # Someone unknown before the "'s" is answered as before.
    unknown = await rapport.handle_text(console_user(), "forget Bob's car")
    assert unknown.text == ("I don't know anyone called “Bob's car”. There is nothing to "
                            "forget.")


async def test_edit_the_last_note_or_conversation_without_its_handle(
        rapport: Rapport, engine: AsyncEngine) -> None:
    """`edit last conversation with Sam: …` asked for a handle; the newest one recorded is
    meant, as `delete the last note` already reads it."""
    for line in ("add Sam Ortiz", "add Dana Scully", "log Sam yesterday: call",
                 "log Dana today: coffee", "note Dana: likes jazz"):
        await say(rapport, line)

    assert await say(rapport, "edit my last conversation with Sam: call about the renewal") \
        == "Changed t1: call with Sam Ortiz (yesterday): about the renewal."
    assert await say(rapport, "fix the last note: likes jazz and soul") == (
        "Changed n1 (Dana Scully): likes jazz and soul.")
    assert await say(rapport, "undo") == "Undone: edited n1 about Dana Scully."
    async with db.session_factory(engine)() as session:
        summaries = {touch_id: summary for touch_id, summary in (await session.execute(
            select(Touchpoint.id, Touchpoint.summary))).all()}
        notes = list((await session.scalars(select(Note.text))).all())
    assert summaries == {1: "about the renewal", 2: None}
    assert notes == ["likes jazz"]
    # Nothing to edit, or nothing said: an answer, no change.
    none = await rapport.handle_text(console_user(), "edit the last note for Sam: x")
    assert not none.ok and none.text == "There are no notes for Sam Ortiz to edit."
    bare = await rapport.handle_text(console_user(), "edit the last note")
    assert not bare.ok and bare.text.startswith(
        "What should the note say now? Put it after a colon: “edit the last note: …”.")


async def test_turning_a_rhythm_off_closes_the_reminder_already_out(
        rapport: Rapport, engine: AsyncEngine, clock: Clock) -> None:
    """"No more keep-in-touch reminders" holds for the one sent and not answered too."""
    await _one_reminder_out(rapport, engine, clock, "log Dana on Nov 1: coffee")
    assert await say(rapport, "every Dana off") == \
        "No more keep-in-touch reminders for Dana Scully."
    assert "#1" not in await say(rapport, "due")
    async with db.session_factory(engine)() as session:
        assert await session.scalar(select(Nudge.status)) == "expired"
    await say(rapport, "undo")
    async with db.session_factory(engine)() as session:
        assert await session.scalar(select(Nudge.status)) == "sent"
