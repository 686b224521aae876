"""The user's control over their data: export holds every row; forget really deletes.

Checked on SQLite and PostgreSQL, over every table in Base.metadata, so a table added later
without a cascade or an export entry fails here.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rapport.bot.connectors.calendars.connections import export_calendar_data
from rapport.bot.core.journal import HELD
from rapport.bot.core.rapport import Rapport
from rapport.scheduler.retention import undo_purge_job
from rapport.storage import db, forgotten, met
from rapport.storage.models import (
    Base,
    CalendarConnection,
    CapturedAttendee,
    CapturedChat,
    CapturedEvent,
    ChatGrant,
    Contact,
    ConversationRef,
    DeliveredMessagePerson,
    DeliveredMessageRecord,
    ForgottenAddress,
    ImportantDate,
    MessageRedaction,
    MetPerson,
    Nudge,
    OAuthState,
    PendingFile,
    UndoEntry,
)
from tests.bot import seed
from tests.conftest import Clock, console_user, say, snapshot

# Export key for each table that holds a user's rows.
EXPORT_KEYS = {"contacts": "contacts", "touchpoints": "touchpoints", "notes": "notes",
               "important_dates": "important_dates", "nudges": "nudges", "drafts": "drafts",
               "conversation_refs": "conversation_refs", "tags": "tags",
               "contact_tags": "contact_tags", "suggestions": "suggestions",
               # Calendar tables (issue 16): export_calendar_data, which `export` includes
               # once the core wires calendars.
               "connections": "calendar_connections", "captured_events": "calendar_meetings",
               "oauth_states": "calendar_consents_pending", "undo_entries": "undo_history",
               # Slack DM capture (issue 16): whether it is on (never the token), days logged.
               "chat_grants": "chat_capture", "captured_chats": "chat_days_logged",
               "met_people": "calendar_people_met",
               # Salted hashes of forgotten people's addresses (never offered again).
               "forgotten_addresses": "forgotten_addresses",
               # Where briefs and summaries went and whom they name, to clear after a forget.
               "delivered_messages": "briefs_and_summaries_delivered",
               # Teams export offers and uploads waiting for an answer (minutes).
               "pending_files": "files_waiting"}


async def _calendar_history(session: AsyncSession, ctx_ids: tuple[int, int], dana: Contact,
                            now: datetime) -> None:
    """A connected calendar, a meeting with Dana logged from it (with someone who is not a
    contact), and a pending consent."""
    workspace_id, user_id = ctx_ids
    connection = CalendarConnection(
        workspace_id=workspace_id, user_id=user_id, provider="google", status="active",
        refresh_token_encrypted="ciphertext-of-a-refresh-token", next_sync_at=now,
        connected_at=now, updated_at=now)
    await seed.add_all(session, connection)
    meeting = CapturedEvent(connection_id=connection.id, workspace_id=workspace_id,
                            user_id=user_id, event_id=f"evt{user_id}", start_at=now,
                            end_at=now, updated_at=now)
    await seed.add_all(session, meeting, OAuthState(
        state_hash=f"{user_id:064d}", workspace_id=workspace_id, user_id=user_id,
        provider="microsoft", code_verifier_encrypted="ciphertext", expires_at=now,
        created_at=now))
    await seed.add_all(session, ChatGrant(
        workspace_id=workspace_id, user_id=user_id, provider="slack", external_user_id="U0X",
        token_encrypted="ciphertext-of-a-user-token", scopes="im:history,im:read",
        granted_at=now), CapturedChat(workspace_id=workspace_id, user_id=user_id,
                                      contact_id=dana.id, provider="slack", day=now.date(),
                                      logged_at=now))
    await seed.add_all(session, CapturedAttendee(captured_event_id=meeting.id,
                                                 contact_id=dana.id))
    # Someone met who is not a contact (kept to offer adding them).
    meetings = [met.entry(f"evt{user_id}", None, now, now)]
    await seed.add_all(session, MetPerson(
        connection_id=connection.id, workspace_id=workspace_id, user_id=user_id,
        email="pat@initech.com", display_name="Pat Kim", meetings=met.encode(meetings),
        first_start_at=now))
    # Someone forgotten earlier, kept as a salted hash of their address only.
    salt = forgotten.new_salt()
    await seed.add_all(session, ForgottenAddress(
        workspace_id=workspace_id, user_id=user_id, salt=salt,
        digest=forgotten.digest(salt, "kim@initech.com"), forgotten_at=now))


async def _history(rapport: Rapport, clock: Clock, name: str) -> int:
    """Commands and seeded rows touching every table; returns the user id."""
    actor = console_user(name)
    for command in ("add Dana Scully client at FBI every 2 weeks", "add Sam Lee every 1 week",
                    "log Dana coffee: talked about the new puppy",
                    "note Dana: hiking trip in Yosemite after Saturday",
                    "note Sam: knee surgery", "date Dana birthday May 4",
                    "date Sam anniversary Jan 9", "tag Dana clients", "tag Sam team",
                    "goal clients every month"):
        reply = await rapport.handle_text(actor, command)
        assert reply.ok, reply.text
    ctx = await rapport.user_context(actor)
    async with rapport.sessions() as session, session.begin():
        contacts = {c.name: c for c in (await session.scalars(
            select(Contact).where(Contact.user_id == ctx.user_id))).all()}
        dana, sam = contacts["Dana Scully"], contacts["Sam Lee"]
        now = clock.now
        dana_nudge = seed.nudge(dana, "sent", now, delivered=now)
        sam_nudge = seed.nudge(sam, "done", now, delivered=now, acted=now)
        await seed.add_all(session, dana_nudge, sam_nudge)
        dana_draft = seed.draft(dana, "posted", 4, now, nudge_id=dana_nudge.id)
        dana_draft.sent_context = json.dumps({"first_name": "Dana", "topic": "Yosemite"})
        # A draft linked to Dana only through her nudge must go with her too.
        orphan = seed.draft(dana, None, None, now, nudge_id=dana_nudge.id)
        orphan.contact_id = None
        await seed.add_all(
            session, dana_draft, orphan, seed.draft(sam, "copied", 0, now),
            ConversationRef(workspace_id=ctx.workspace_id, user_id=ctx.user_id,
                            platform="console", conversation_id=f"dm-{name}",
                            reference_json="{}", updated_at=now),
            # A suggestion about Dana (goes with her) and one about the window (stays).
            seed.suggestion(dana, "put_off", now, proposed_days=28),
            seed.suggestion(dana, "window", now, about_contact=False))
        await _calendar_history(session, (ctx.workspace_id, ctx.user_id), dana, now)
        # A meeting brief about Dana and a weekly summary naming both, as delivered.
        brief = DeliveredMessageRecord(workspace_id=ctx.workspace_id, user_id=ctx.user_id,
                                       kind="brief", delivery_ref=f"D-{name}:1.0",
                                       created_at=now)
        summary = DeliveredMessageRecord(workspace_id=ctx.workspace_id, user_id=ctx.user_id,
                                         kind="summary", delivery_ref=f"D-{name}:2.0",
                                         created_at=now)
        await seed.add_all(session, brief, summary)
        await seed.add_all(session, *(
            DeliveredMessagePerson(delivered_message_id=message.id, contact_id=contact.id)
            for message, contact in ((brief, dana), (summary, dana), (summary, sam))))
        # An upload waiting for Import (Teams): its sealed bytes never go into the export.
        await seed.add_all(session, PendingFile(
            token_hash=f"{ctx.user_id:064d}", workspace_id=ctx.workspace_id,
            user_id=ctx.user_id, kind="import", filename="people.csv",
            sealed_content=b"ciphertext-of-a-file", expires_at=now + timedelta(minutes=15),
            created_at=now))
    clock.advance(minutes=1)
    return ctx.user_id


async def _rows_of_user(engine: AsyncEngine, user_id: int) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    async with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name == "users":
                column = table.c.id
            elif "user_id" in table.c:
                column = table.c.user_id
            else:
                continue
            ids = (await connection.execute(select(table.c.id).where(column == user_id))).all()
            found[table.name] = {row[0] for row in ids}
    return found


async def test_export_contains_every_row_of_the_user(any_engine: AsyncEngine, clock: Clock
                                                     ) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    user_id = await _history(rapport, clock, "alex")
    await _history(rapport, clock, "sam")
    reply = await rapport.handle_text(console_user("alex"), "export")
    assert reply.ok and reply.attachment is not None
    assert reply.attachment.filename == "rapport-export.json"
    data: dict[str, Any] = json.loads(reply.attachment.data)
    assert "ciphertext" not in reply.attachment.data.decode()  # never a token
    assert data["chat_capture"][0]["provider"] == "slack"
    async with rapport.sessions() as session:
        calendar = await export_calendar_data(session, user_id)
    assert "ciphertext" not in repr(calendar)  # no token, verifier or state hash
    data.update(json.loads(json.dumps(calendar, default=str)))
    assert data["calendar_meetings"][0]["contacts"][0]["contact_id"] in {
        c["id"] for c in data["contacts"]}
    in_db = await _rows_of_user(any_engine, user_id)
    assert in_db["users"] == {data["user"]["id"]}
    for table, ids in in_db.items():
        if table == "users":
            continue
        assert table in EXPORT_KEYS, f"table {table} is missing from the export"
        assert {row["id"] for row in data[EXPORT_KEYS[table]]} == ids, table
        assert ids, f"the seeded history should have rows in {table}"
    assert len(data["sent_to_ai_providers"]) == 1
    assert data["sent_to_ai_providers"][0]["sent"] == {"first_name": "Dana",
                                                       "topic": "Yosemite"}
    notes = {n["text"] for n in data["notes"]}
    assert notes == {"hiking trip in Yosemite", "knee surgery"}


async def test_forget_person_leaves_no_row_about_them(any_engine: AsyncEngine, clock: Clock
                                                      ) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    user_id = await _history(rapport, clock, "alex")
    await _history(rapport, clock, "sam")  # sam also knows a "Dana Scully": untouched
    async with rapport.sessions() as session:
        dana_id = await session.scalar(select(Contact.id).where(
            Contact.user_id == user_id, Contact.name == "Dana Scully"))
        nudge_ids = set((await session.scalars(
            select(Nudge.id).where(Nudge.contact_id == dana_id))).all())
        date_ids = set((await session.scalars(
            select(ImportantDate.id).where(ImportantDate.contact_id == dana_id))).all())
    assert dana_id is not None and nudge_ids and date_ids
    before = await snapshot(any_engine)
    # Issue 14 (item 6): forgetting a person asks first; "confirm" deletes.
    reply = await rapport.handle_text(console_user("alex"), "forget dana confirm")
    assert reply.ok and reply.text.startswith("Forgot Dana Scully")
    after = await snapshot(any_engine)
    async with any_engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            checks = []
            if table.name == "contacts":
                checks.append(table.c.id == dana_id)
            if "contact_id" in table.c:
                checks.append(table.c.contact_id == dana_id)
            if "nudge_id" in table.c:
                checks.append(table.c.nudge_id.in_(nudge_ids))
            if "important_date_id" in table.c:
                checks.append(table.c.important_date_id.in_(date_ids))
            for check in checks:
                count = await connection.scalar(select(func.count()).select_from(table)
                                                .where(check))
                assert count == 0, f"{table.name} still has rows about the forgotten contact"
    # The brief and the summary naming her are queued to be cleared, each with what it was,
    # and no longer on record (a later `forget me` does not clear them again).
    async with rapport.sessions() as session:
        queued = {(row.message_ref, row.reason) for row in (await session.scalars(
            select(MessageRedaction))).all()}
        kept = (await session.scalars(select(DeliveredMessageRecord.delivery_ref).where(
            DeliveredMessageRecord.user_id == user_id))).all()
    assert {("D-alex:1.0", "brief"), ("D-alex:2.0", "summary")} <= queued
    assert kept == []
    # Everything else is as it was: the other contact, the other user, the user row.
    assert len(after["contacts"]) == len(before["contacts"]) - 1
    assert after["users"] == before["users"]
    assert after["conversation_refs"] == before["conversation_refs"]


async def test_forget_me_asks_first_then_deletes_every_row(any_engine: AsyncEngine,
                                                           clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    user_id = await _history(rapport, clock, "alex")
    other_id = await _history(rapport, clock, "sam")
    others_before = await _rows_of_user(any_engine, other_id)
    before = await snapshot(any_engine)
    ask = await rapport.handle_text(console_user("alex"), "forget me")
    assert ask.ok and "forget me confirm" in ask.text
    assert await snapshot(any_engine) == before
    wrong = await rapport.handle_text(console_user("alex"), "forget me please")
    assert not wrong.ok and await snapshot(any_engine) == before
    done = await rapport.handle_text(console_user("alex"), "forget me confirm")
    assert done.ok and done.text == "Done. Everything Rapport stored for you is deleted."
    left = await _rows_of_user(any_engine, user_id)
    assert left == {table: set() for table in left}, left
    assert await _rows_of_user(any_engine, other_id) == others_before
    # Coming back starts from nothing, under a new user row.
    people = await rapport.handle_text(console_user("alex"), "people")
    assert people.text.startswith("You have no people yet")
    fresh = await rapport.user_context(console_user("alex"))
    assert fresh.user_id != user_id


async def test_export_after_import_then_forget(any_engine: AsyncEngine, clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    ctx = await rapport.user_context(console_user())
    reply = await rapport.import_contacts(
        ctx, "c.csv", b"name,notes\nDana Scully,likes tea\nSam Lee,\n")
    assert reply.ok, reply.text
    clock.advance(days=1)
    export = await rapport.handle_text(console_user(), "export")
    assert export.attachment is not None
    data = json.loads(export.attachment.data)
    assert sorted(c["name"] for c in data["contacts"]) == ["Dana Scully", "Sam Lee"]
    assert [n["text"] for n in data["notes"]] == ["likes tea"]
    await rapport.handle_text(console_user(), "forget me confirm")
    left = await _rows_of_user(any_engine, ctx.user_id)
    assert left and all(not ids for ids in left.values()), left


# What Alex's history says about Dana (tests above): none of it may be in an export after
# "forget Dana", not even through the undo journal's before-images.
ABOUT_DANA = ("Dana", "Scully", "FBI", "puppy", "Yosemite")


async def _export(rapport: Rapport) -> tuple[str, dict[str, Any]]:
    reply = await rapport.handle_text(console_user("alex"), "export")
    assert reply.ok and reply.attachment is not None
    return reply.text, json.loads(reply.attachment.data)


async def test_export_right_after_forget_holds_nothing_about_them(any_engine: AsyncEngine,
                                                                  clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    user_id = await _history(rapport, clock, "alex")
    await say(rapport, "forget dana confirm")
    forgot_at = clock.now
    clock.advance(minutes=2)
    text, data = await _export(rapport)
    dumped = json.dumps(data, default=str)
    for word in ABOUT_DANA:
        assert word not in dumped, word
        assert word not in text, word
    assert "knee surgery" in dumped and "Sam Lee" in dumped  # everyone else is all there
    # It says the copy exists, how long for, and that it is not in the file.
    until = forgot_at + timedelta(minutes=15)
    assert text.endswith(f"1 person you forgot can still be brought back with “undo” until "
                         f"{until:%H:%M}; nothing about them is in this file, and what "
                         "Rapport keeps for undo is deleted then.")
    assert data["forgotten_people_undo_until"] == [str(until)]
    # Every journal row is still listed (an export lists every row), without its content.
    async with rapport.sessions() as session:
        journal = set((await session.scalars(
            select(UndoEntry.id).where(UndoEntry.user_id == user_id))).all())
    assert {entry["id"] for entry in data["undo_history"]} == journal
    [forget] = [entry for entry in data["undo_history"] if entry["kind"] == "forget"]
    assert forget["description"] == "forgot someone" and forget["payload"] is None
    assert forget["undo_until"] == str(until)
    earlier = [entry for entry in data["undo_history"] if entry["id"] < forget["id"]]
    assert earlier and all(entry["description"] == HELD and entry["payload"] is None
                           for entry in earlier)
    # The copy is real: undo brings Dana back, and the export shows her again, history too.
    assert (await say(rapport, "undo")).startswith("Undone: forgot Dana Scully")
    text, data = await _export(rapport)
    assert "Dana Scully" in [c["name"] for c in data["contacts"]]
    assert "logged coffee with Dana Scully" in json.dumps(data["undo_history"])
    assert "forgot" not in text and data["forgotten_people_undo_until"] == []


async def test_export_after_the_undo_window_and_its_purge(any_engine: AsyncEngine,
                                                          clock: Clock) -> None:
    rapport = Rapport(sessions=db.session_factory(any_engine), clock=clock)
    await _history(rapport, clock, "alex")
    await say(rapport, "forget dana confirm")
    await say(rapport, "log Sam call")  # a change after it: shown as usual
    clock.advance(minutes=10)
    await say(rapport, "forget sam confirm")
    text, _ = await _export(rapport)
    assert "2 people you forgot can still be brought back with “undo” until " in text
    assert " at the latest;" in text
    # Past Dana's window, before the purge job has run: nothing about her, nor a promise.
    clock.advance(minutes=6)
    text, data = await _export(rapport)
    assert text.endswith("1 person you forgot can still be brought back with “undo” until "
                         f"{clock.now + timedelta(minutes=9):%H:%M}; nothing about them is in "
                         "this file, and what Rapport keeps for undo is deleted then.")
    kinds = [(entry["kind"], entry["description"]) for entry in data["undo_history"]]
    assert ("barrier", "forgot someone") in kinds and ("forget", "forgot someone") in kinds
    for word in (*ABOUT_DANA, "Sam", "knee surgery"):
        assert word not in json.dumps(data, default=str), word
    # After both windows and the purge job: one empty marker (Sam's; Dana's was before it).
    clock.advance(minutes=10)
    await undo_purge_job(db.session_factory(any_engine), clock)()
    text, data = await _export(rapport)
    assert text == "Here is everything Rapport stores about your relationships (0 people)."
    assert [(e["kind"], e["description"], e["payload"]) for e in data["undo_history"]] == [
        ("barrier", "forgot someone", None)]
    assert data["forgotten_people_undo_until"] == []
