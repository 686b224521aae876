"""vCard BDAY and monthly cadences on import (issue 14): birthdays become yearly dates."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from rapport.bot.core.importer import vcard_birthday
from rapport.bot.core.rapport import Rapport
from rapport.storage.models import Contact, ImportantDate
from tests.conftest import Clock, console_user

VCF = (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dana Scully\r\nBDAY:1964-02-23\r\nEND:VCARD\r\n"
       b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Fox Mulder\r\nBDAY:--1013\r\nEND:VCARD\r\n"
       b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Walter Skinner\r\nBDAY;VALUE=date:19520605\r\n"
       b"END:VCARD\r\n"
       b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Lone Gunman\r\nBDAY:sometime\r\nEND:VCARD\r\n")


def test_vcard_birthday_forms() -> None:
    assert vcard_birthday("1985-04-12") == (4, 12, 1985)
    assert vcard_birthday("19850412") == (4, 12, 1985)
    assert vcard_birthday("--0412") == (4, 12, None)
    assert vcard_birthday("--04-12") == (4, 12, None)
    assert vcard_birthday("1985-04-12T00:00:00Z") == (4, 12, 1985)
    assert vcard_birthday("--0229") == (2, 29, None)
    for bad in ("1985-02-30", "sometime", "", "12/04/1985"):
        assert vcard_birthday(bad) is None, bad


async def test_a_vcard_bday_becomes_a_birthday_nudge_and_reimport_changes_nothing(
        rapport: Rapport) -> None:
    actor = console_user()
    reply = await rapport.handle_import(actor, "contacts.vcf", VCF, dry_run=False)
    assert reply.ok and "Added 4 people" in reply.text
    assert "card 4: I couldn't read the birthday 'sometime'" in reply.text
    async with rapport.sessions() as session:
        rows = (await session.execute(
            select(Contact.name, ImportantDate.kind, ImportantDate.month, ImportantDate.day,
                   ImportantDate.year, ImportantDate.plan_at)
            .join(ImportantDate, ImportantDate.contact_id == Contact.id)
            .order_by(Contact.name))).all()
    assert [tuple(r[:5]) for r in rows] == [("Dana Scully", "birthday", 2, 23, 1964),
                                            ("Fox Mulder", "birthday", 10, 13, None),
                                            ("Walter Skinner", "birthday", 6, 5, 1952)]
    # Three days before, at the start of the window.
    assert rows[0][5] == datetime(2027, 2, 20, 9, 0, tzinfo=UTC)
    shown = await rapport.handle_text(actor, "show Dana")
    assert "birthday Tue Feb 23 2027 (since 1964)" in shown.text
    again = await rapport.handle_import(actor, "contacts.vcf", VCF, dry_run=False)
    assert again.ok and "left 4 unchanged" in again.text


async def test_a_monthly_cadence_column_is_calendar_months(rapport: Rapport) -> None:
    actor = console_user()
    data = b"name,cadence\nLee Park,monthly\nSam Lee,quarterly\nAna Lima,2 weeks\n"
    assert (await rapport.handle_import(actor, "people.csv", data, dry_run=False)).ok
    async with rapport.sessions() as session:
        rows = (await session.execute(select(Contact.name, Contact.cadence_days,
                                             Contact.cadence_months)
                                      .order_by(Contact.name))).all()
    assert [tuple(r) for r in rows] == [("Ana Lima", 14, None), ("Lee Park", 30, 1),
                                        ("Sam Lee", 91, 3)]


async def test_a_csv_birthday_column_in_the_forms_people_write(rapport: Rapport) -> None:
    actor = console_user()
    data = (b"name,Birthday\nLee Park,Mar 3\nSam Lee,1990-07-14\nAna Lima,4 May 1985\n"
            b"Kim Wu,12/24\nRon Ng,someday\nEd Roy,\n")
    reply = await rapport.handle_import(actor, "people.csv", data, dry_run=False)
    assert reply.ok and "Added 6 people" in reply.text, reply.text
    assert "row 6: I couldn't read the birthday 'someday', so I left it out." in reply.text
    assert "Ignored unknown column" not in reply.text
    async with rapport.sessions() as session:
        rows = (await session.execute(
            select(Contact.name, ImportantDate.month, ImportantDate.day, ImportantDate.year)
            .join(ImportantDate, ImportantDate.contact_id == Contact.id)
            .where(ImportantDate.kind == "birthday").order_by(Contact.name))).all()
    assert [tuple(row) for row in rows] == [("Ana Lima", 5, 4, 1985), ("Kim Wu", 12, 24, None),
                                            ("Lee Park", 3, 3, None), ("Sam Lee", 7, 14, 1990)]
    # Other names people give the column.
    for header in ("DOB", "bday", "date of birth"):
        data = f"name,{header}\nLee Park,Mar 3\n".encode()
        again = await rapport.handle_import(actor, "people.csv", data, dry_run=True)
        assert again.ok and "Ignored unknown column" not in again.text, (header, again.text)


async def test_a_birth_year_is_judged_by_the_clock_and_the_users_day_not_the_servers(
        rapport: Rapport, clock: Clock) -> None:
    # 11:00 UTC on New Year's Eve is already New Year's Day at UTC+14 (Kiritimati): a baby
    # born "today" there has a valid birth year that the server's own date would call future.
    clock.now = datetime(2031, 12, 31, 11, 0, tzinfo=UTC)
    kiritimati = console_user(tz="Pacific/Kiritimati")
    data = (b"name,birthday\nNew Baby,January 1 2032\nTypo Year,March 3 2033\n"
            b"Card Year,2033-03-03\n")
    reply = await rapport.handle_import(kiritimati, "people.csv", data, dry_run=False)
    assert reply.ok and "Added 3 people" in reply.text, reply.text
    assert "row 3: I couldn't read the birthday 'March 3 2033'" in reply.text
    async with rapport.sessions() as session:
        rows = (await session.execute(
            select(Contact.name, ImportantDate.month, ImportantDate.day, ImportantDate.year)
            .join(ImportantDate, ImportantDate.contact_id == Contact.id)
            .order_by(Contact.name))).all()
    # A vCard-style date with a future year keeps its day, like one outside 1900-2100.
    assert [tuple(row) for row in rows] == [("Card Year", 3, 3, None), ("New Baby", 1, 1, 2032)]
    # The same file for someone in UTC, where it is still 2031: 2032 is in the future.
    utc_reply = await rapport.handle_import(console_user("sam"), "people.csv", data,
                                            dry_run=True)
    assert "row 2: I couldn't read the birthday 'January 1 2032'" in utc_reply.text
