"""Import contacts from CSV or vCard: validate everything first, then write all or nothing.

Rows are merged into existing contacts (same name, or same email) instead of duplicating, so
importing the same file twice changes nothing the second time. Cells that a spreadsheet would
run as a formula (leading = + - @, tab or CR) lose those characters on the way in, and every CSV
Rapport writes goes through `safe_cell`.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import quopri
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from rapport.bot.core.commands import (
    MAX_NAME_CHARS,
    MAX_SUMMARY_CHARS,
    clean_text,
    clip,
    month_day_year,
    tag_name,
)
from rapport.bot.core.context import UserContext
from rapport.bot.core.dates import parse_cadence
from rapport.bot.core.goals import ensure_tag, refresh_goal_cadences
from rapport.bot.core.views import ImportView, Reply, error
from rapport.scheduler import planner, wording
from rapport.scheduler.planning import IMPORTANT_DATE_LEAD_DAYS
from rapport.storage import queries
from rapport.storage.names import name_key

logger = logging.getLogger(__name__)

MAX_BYTES = 1_000_000
# The answer when the file to import is Rapport's own database (or its WAL): it is never opened.
OWN_DATABASE = ("That is Rapport's own database, not a contacts file; I didn't open it. "
                "To get your data out, use “export”.")
MAX_ROWS = 5_000
MAX_REPORTED_ERRORS = 20
COLUMNS = ("name", "kind", "company", "role", "email", "cadence", "notes", "tags", "birthday")
_COLUMN_ALIASES = {"title": "role", "job title": "role", "job": "role", "position": "role",
                   "note": "notes", "organization": "company", "organisation": "company",
                   "org": "company", "type": "kind", "e-mail": "email", "every": "cadence",
                   "tag": "tags", "groups": "tags", "group": "tags", "bday": "birthday",
                   "birthdate": "birthday", "birth date": "birthday", "birth_date": "birthday",
                   "date of birth": "birthday", "dob": "birthday"}
MAX_TAGS = 20
# Several tags in one cell: "clients vip", "#clients #vip", "clients|vip", "clients, vip".
_TAG_SEPARATORS = re.compile(r"[\s,;|]+")
KINDS = ("colleague", "client")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")
_OFF = ("", "off", "none", "never", "-")


def safe_cell(value: object) -> str:
    """A CSV cell no spreadsheet will run as a formula (OWASP: prefix with an apostrophe)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def write_safe_csv(rows: list[list[object]]) -> str:
    """CSV text with every cell passed through `safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


def defuse(value: str) -> tuple[str, bool]:
    """`value` without leading formula characters, and whether any were removed."""
    stripped = value
    while stripped and (stripped.startswith(FORMULA_PREFIXES) or stripped[0].isspace()):
        stripped = stripped[1:]
    return stripped, stripped != value.strip()


@dataclass(frozen=True, slots=True)
class ContactRow:
    """One valid row, ready to merge."""

    line: str
    name: str
    kind: str | None
    company: str | None
    email: str | None
    cadence_days: int | None
    cadence_set: bool
    notes: str | None
    tags: tuple[str, ...] = ()
    cadence_months: int | None = None
    # (month, day, year or None) from a vCard BDAY.
    birthday: tuple[int, int, int | None] | None = None
    role: str | None = None


@dataclass
class Parsed:
    """What a file holds: valid rows, row-level errors and notes for the user."""

    rows: list[ContactRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportPlan:
    """What an import does (or would do) to the user's contacts."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    notes_added: int = 0


# ------------------------------------------------------------------------------ parsing
# Byte order marks of the Unicode text a spreadsheet saves (Excel's "Unicode text" is UTF-16,
# little-endian, tab separated), and the codec that reads past each. UTF-32's come first: the
# little-endian one starts with UTF-16's.
_BYTE_ORDER_MARKS = ((codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
                     (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
                     (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
                     (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))
NOT_TEXT = "This is not a text file (it contains NUL bytes)."
SAVE_AS_UTF8 = "Save it as “CSV UTF-8” and try again."


def _looks_like_utf16(data: bytes) -> bool:
    """Whether NUL bytes fill most of the even or of the odd bytes, as in UTF-16 text of
    mostly Latin letters (a binary file's NULs fall anywhere)."""
    half = len(data) // 2
    return half > 0 and max(data[0::2].count(0), data[1::2].count(0)) >= half * 0.6


def _decode(data: bytes, parsed: Parsed) -> str | None:
    for mark, codec, name in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                parsed.errors.append(f"The file starts as {name} text but is not. "
                                     + SAVE_AS_UTF8)
                return None
            if "\x00" in text:
                parsed.errors.append(NOT_TEXT)
                return None
            return text
    if b"\x00" in data:
        parsed.errors.append(
            ("This looks like UTF-16 (“Unicode”) text without the mark at its start that "
             "says how to read it. " + SAVE_AS_UTF8) if _looks_like_utf16(data) else NOT_TEXT)
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        parsed.errors.append("The file is neither UTF-8 nor Windows-1252 text. Save it as "
                             "“CSV UTF-8” and try again.")
        return None
    parsed.warnings.append("The file is not UTF-8; I read it as Windows-1252. Check that "
                           "accented names look right (saving as “CSV UTF-8” avoids this).")
    return text


def _field(raw: str | None, label: str, column: str, limit: int, parsed: Parsed) -> str | None:
    """Clean one cell; remove formula prefixes (with a warning); None when empty."""
    if raw is None:
        return None
    value = clean_text(raw)
    value, defused = defuse(value)
    if defused:
        parsed.warnings.append(f"{label}: removed leading formula characters from {column} "
                               "so no spreadsheet runs it.")
    if len(value) > limit:
        parsed.errors.append(f"{label}: {column} is longer than {limit} characters.")
        return None
    return value or None


def _row(label: str, cells: dict[str, str | None], parsed: Parsed,
         today: date) -> ContactRow | None:
    errors_before = len(parsed.errors)
    name = _field(cells.get("name"), label, "name", MAX_NAME_CHARS, parsed)
    kind = _field(cells.get("kind"), label, "kind", 40, parsed)
    company = _field(cells.get("company"), label, "company", 200, parsed)
    role = _field(cells.get("role"), label, "role", 200, parsed)
    email = _field(cells.get("email"), label, "email", 320, parsed)
    cadence_text = _field(cells.get("cadence"), label, "cadence", 40, parsed)
    notes = _field(cells.get("notes"), label, "notes", MAX_SUMMARY_CHARS, parsed)
    tags_text = _field(cells.get("tags"), label, "tags", 400, parsed)
    tags: list[str] = []
    for word in _TAG_SEPARATORS.split(tags_text or ""):
        if not word.strip("#"):
            continue
        tag = tag_name(word)
        if tag is None:
            parsed.errors.append(f"{label}: tag '{word[:40]}' is not a tag name (letters, "
                                 "digits and dashes).")
        elif tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        parsed.errors.append(f"{label}: at most {MAX_TAGS} tags per person.")
    if name is None and len(parsed.errors) == errors_before:
        parsed.errors.append(f"{label}: the name is empty.")
    if kind is not None:
        kind = kind.lower()
        if kind not in KINDS:
            parsed.errors.append(f"{label}: kind '{kind[:40]}' is not colleague or client.")
    if email is not None:
        email = email.lower()
        if not _EMAIL.match(email):
            parsed.errors.append(f"{label}: email '{email[:60]}' is not an email address.")
    cadence_days, cadence_months, cadence_set = None, None, cadence_text is not None
    if cadence_text is not None and cadence_text.lower() not in _OFF:
        cadence = parse_cadence(cadence_text)
        if cadence is None:
            parsed.errors.append(f"{label}: cadence '{cadence_text[:40]}' is not a duration "
                                 "(try “2 weeks”, “6w”, “monthly” or “3 months”).")
        else:
            cadence_months = cadence.months
            cadence_days = planner.approx_days(cadence.months) if cadence.months \
                else cadence.days
    birthday = None
    if cells.get("birthday"):
        birthday = _birthday(str(cells["birthday"]), today)
        if birthday is None:
            parsed.warnings.append(f"{label}: I couldn't read the birthday "
                                   f"'{str(cells['birthday'])[:20]}', so I left it out.")
    if len(parsed.errors) > errors_before or name is None:
        return None
    return ContactRow(line=label, name=name, kind=kind, company=company, role=role, email=email,
                      cadence_days=cadence_days, cadence_set=cadence_set, notes=notes,
                      tags=tuple(tags), cadence_months=cadence_months, birthday=birthday)


_BDAY = re.compile(r"^(?:(\d{4})|--)-?(\d{2})-?(\d{2})(?:T.*)?$")


def _birthday(value: str, today: date) -> tuple[int, int, int | None] | None:
    """A birthday cell: a vCard BDAY, or a day as `date … birthday` reads it ("May 4",
    "4 May 1990", "12/24"); None when it is neither. `today` is the user's local day, which
    decides whether a year is in the future."""
    found = vcard_birthday(value)
    if found is not None:
        month, day, year = found
        # A year after the user's today is a typo, like one outside 1900-2100: keep the day.
        return month, day, year if year is None or year <= today.year else None
    read = month_day_year(value.lower(), today)
    return read if not isinstance(read, str) else None


def vcard_birthday(value: str) -> tuple[int, int, int | None] | None:
    """A vCard BDAY ('1985-04-12', '19850412', '--0412', '--04-12', with or without a time)
    as (month, day, year or None); None when it is not a day of the year."""
    match = _BDAY.match(value.strip())
    if not match:
        return None
    year = int(match.group(1)) if match.group(1) else None
    month, day = int(match.group(2)), int(match.group(3))
    try:
        date(year or 2024, month, day)  # 2024: a leap year, so Feb 29 without a year is fine
    except ValueError:
        return None
    if year is not None and not 1900 <= year <= 2100:
        year = None
    return month, day, year


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """Commas, semicolons or tabs, whichever the file's start uses."""
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _columns(header: list[str] | None) -> list[str]:
    return [_COLUMN_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header or []]


def reads_as_table(data: bytes) -> bool:
    """Whether an upload that says only "text" (.txt, .tsv) is something `parse_file` reads:
    a vCard, or a table whose first line names its columns, a name among them. Bytes that
    are no text it can decode count as one: `parse_file` says what is wrong with them."""
    text = _decode(data, Parsed())
    if text is None or not text.strip() or text.lstrip().upper().startswith("BEGIN:VCARD"):
        return True
    try:
        header = next(csv.reader(io.StringIO(text, newline=""), _dialect(text)), None)
    except csv.Error:
        return False
    return "name" in _columns(header)


# ------------------------------------------------------------------------------ uploads
# What a file sent in a chat may be, by its name or by the type the platform gives it (Slack's
# `filetype`, Teams' `fileType`). A table saved as text (Excel's "Unicode Text" is a .txt) is
# read as a CSV is, once its content shows it is a table (`reads_as_table`).
TEXT_EXTENSIONS = (".txt", ".tsv")
TEXT_FILE_TYPES = frozenset({"text", "txt", "tsv"})
VCARD_FILE_TYPES = frozenset({"vcf", "vcard"})
UPLOAD_EXTENSIONS = (".csv", ".vcf", ".vcard", *TEXT_EXTENSIONS)
UPLOAD_FILE_TYPES = frozenset({"csv", *VCARD_FILE_TYPES, *TEXT_FILE_TYPES})
# The files an upload may be, as a sentence's object: "attach …", "import contacts from …".
ACCEPTED_FILES = "a CSV (.csv), a vCard (.vcf) or a spreadsheet saved as text (.txt, .tsv)"


@dataclass(frozen=True, slots=True)
class UploadFormat:
    """A file sent in a chat, as its name and the platform's type for it say: whether it may
    be imported and under which name `import_file` reads it. Each front end asks this one
    routine, so Slack and Teams take the same files."""

    name: str
    file_type: str = ""

    @property
    def _named(self) -> bool:
        return self.name.lower().endswith(UPLOAD_EXTENSIONS)

    @property
    def importable(self) -> bool:
        """A CSV, vCard or text table, by its name or by its type."""
        return self._named or self.file_type.lower() in UPLOAD_FILE_TYPES

    @property
    def is_text(self) -> bool:
        """Whether only its content can say it is a table (not a .csv or a vCard)."""
        return self.name.lower().endswith(TEXT_EXTENSIONS) or (
            self.file_type.lower() in TEXT_FILE_TYPES and not self._named)

    @property
    def import_name(self) -> str:
        """The name `parse_file` sees: it picks CSV or vCard by the extension."""
        if self._named:
            return self.name
        extension = "vcf" if self.file_type.lower() in VCARD_FILE_TYPES else "csv"
        return f"{self.name or 'upload'}.{extension}"

    def content_refusal(self, data: bytes) -> str | None:
        """Why the downloaded `data` is left alone before it is read as contacts (a text
        file that is no table), or None. Every other fault `parse_file` reports itself."""
        if not self.is_text or reads_as_table(data):
            return None
        return (f"“{clip(self.name or self.import_name, 80)}” doesn't read as a table of "
                "contacts, so I left it alone. A text file is imported when it is a table "
                "saved from a spreadsheet (in Excel: Save As “Unicode Text” or “Text (Tab "
                "delimited)”), its first line naming the columns, a name column among them.")


def parse_csv(text: str, parsed: Parsed, today: date) -> None:
    """Rows of a CSV with a header line naming the columns."""
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    try:
        header = next(reader, None)
    except csv.Error as failure:
        parsed.errors.append(f"row 1: {failure}.")
        return
    columns = _columns(header)
    if "name" not in columns:
        parsed.errors.append("The first line must be a header with at least a name column, "
                             f"for example: {','.join(COLUMNS)}")
        return
    unknown = [c for c in columns if c and c not in COLUMNS]
    if unknown:
        parsed.warnings.append("Ignored unknown column(s): "
                               + ", ".join(f"'{c[:30]}'" for c in unknown[:5]) + ".")
    seen: dict[str, str] = {}
    try:
        for line_no, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(parsed.rows) + len(parsed.errors) >= MAX_ROWS:
                parsed.errors.append(f"The file has more than {MAX_ROWS} rows; split it up.")
                return
            values = {column: (cells[i] if i < len(cells) else None)
                      for i, column in enumerate(columns) if column in COLUMNS}
            _add(parsed, seen, _row(f"row {line_no}", values, parsed, today))
    except csv.Error as failure:
        parsed.errors.append(f"row {reader.line_num}: {failure}.")


def _add(parsed: Parsed, seen: dict[str, str], row: ContactRow | None) -> None:
    if row is None:
        return
    key = name_key(row.name)
    if key in seen:
        parsed.errors.append(f"{row.line}: “{row.name}” is already on {seen[key]}.")
        return
    seen[key] = row.line
    parsed.rows.append(row)


def _vcard_value(raw: str, params: list[str]) -> str:
    upper = [p.upper() for p in params]
    if "ENCODING=QUOTED-PRINTABLE" in upper or "QUOTED-PRINTABLE" in upper:
        charset = next((p.split("=", 1)[1] for p in params
                        if p.upper().startswith("CHARSET=")), "utf-8")
        try:
            raw = quopri.decodestring(raw.encode("latin-1", "replace")).decode(charset, "replace")
        except LookupError:
            raw = quopri.decodestring(raw.encode("latin-1", "replace")).decode("utf-8", "replace")
    # vCard escapes: \n, \, and \; (RFC 6350 section 3.4).
    return re.sub(r"\\([nN,;\\])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), raw)


def parse_vcard(text: str, parsed: Parsed, today: date) -> None:
    """Contacts of a .vcf file: FN (or N), ORG, EMAIL, NOTE of each card."""
    lines: list[str] = []
    for line in text.splitlines():
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += line[1:]  # folded continuation line
        elif lines and lines[-1].endswith("=") and \
                "QUOTED-PRINTABLE" in lines[-1].split(":", 1)[0].upper():
            lines[-1] = lines[-1][:-1] + line  # vCard 2.1 soft line break
        else:
            lines.append(line)
    cards: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines:
        if ":" not in line:
            continue
        head, value = line.split(":", 1)
        parts = head.split(";")
        prop = parts[0].split(".")[-1].upper()  # drop group prefixes like "item1."
        if prop == "BEGIN" and value.strip().upper() == "VCARD":
            current = {}
            continue
        if prop == "END" and value.strip().upper() == "VCARD":
            if current is not None:
                cards.append(current)
            current = None
            continue
        if current is None or prop not in ("FN", "N", "ORG", "TITLE", "EMAIL", "NOTE", "BDAY"):
            continue
        if prop not in current:  # the first EMAIL (or ORG) is the one we keep
            current[prop] = _vcard_value(value, parts[1:])
    if not cards:
        parsed.errors.append("I found no contact cards (BEGIN:VCARD … END:VCARD) in the file.")
        return
    seen: dict[str, str] = {}
    for index, card in enumerate(cards, start=1):
        if len(parsed.rows) + len(parsed.errors) >= MAX_ROWS:
            parsed.errors.append(f"The file has more than {MAX_ROWS} cards; split it up.")
            return
        name = card.get("FN")
        if not (name and name.strip()) and card.get("N"):
            family, _, rest = card["N"].partition(";")
            given = rest.split(";")[0]
            name = f"{given} {family}".strip()
        org = card.get("ORG", "").split(";")[0] or None
        _add(parsed, seen, _row(f"card {index}", {"name": name, "company": org,
                                                  "role": card.get("TITLE"),
                                                  "email": card.get("EMAIL"),
                                                  "notes": card.get("NOTE"),
                                                  "birthday": card.get("BDAY")},
                                parsed, today))


def parse_file(filename: str, data: bytes, today: date) -> Parsed:
    """Parse a CSV or vCard upload into valid rows and row-level errors; `today` is the
    user's local day (a birthday's year may not be after it)."""
    parsed = Parsed()
    if len(data) > MAX_BYTES:
        parsed.errors.append(f"The file is {len(data) / 1_000_000:.1f} MB; the limit is "
                             f"{MAX_BYTES // 1_000_000} MB ({MAX_ROWS} rows).")
        return parsed
    if not data.strip():
        parsed.errors.append("The file is empty.")
        return parsed
    text = _decode(data, parsed)
    if text is None:
        return parsed
    if not text.strip():  # a byte order mark and nothing after it
        parsed.errors.append("The file is empty.")
        return parsed
    is_vcard = filename.lower().endswith((".vcf", ".vcard")) or \
        text.lstrip().upper().startswith("BEGIN:VCARD")
    if is_vcard:
        parse_vcard(text, parsed, today)
    else:
        parse_csv(text, parsed, today)
    return parsed


# ------------------------------------------------------------------------------ merging
@dataclass
class _Known:
    """A contact the merge knows: an existing row (with its id) or one it is adding."""

    id: int | None
    key: str
    email: str | None
    kind: str
    company: str | None
    cadence_days: int | None
    last_touch_at: datetime | None
    created_at: datetime
    notes: set[str] = field(default_factory=set)
    changes: dict[str, object] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    new_tags: list[str] = field(default_factory=list)
    cadence_months: int | None = None
    birthday: tuple[int, int, int | None] | None = None
    birthday_id: int | None = None
    new_birthday: tuple[int, int, int | None] | None = None
    role: str | None = None


def merge(session: Session, ctx: UserContext, rows: list[ContactRow], *, write: bool,
          now: datetime) -> ImportPlan:
    """Merge rows into the user's contacts (one unit of work; a dry run writes nothing)."""
    plan = ImportPlan()
    known = [_Known(cid, key, email, kind, company, cadence, last, created,
                    cadence_months=months, role=role)
             for cid, key, email, kind, company, cadence, last, created, months, role
             in queries.contacts_for_import(session, ctx.user_id)]
    birthdays = queries.birthdays(session, ctx.user_id)
    by_key = {k.key: k for k in known}
    by_email = {k.email.lower(): k for k in known if k.email}
    by_id = {k.id: k for k in known}
    for contact_id, (date_id, month, day, year) in birthdays.items():
        if contact_id in by_id:
            by_id[contact_id].birthday_id = date_id
            by_id[contact_id].birthday = (month, day, year)
    for contact_id, text in queries.note_texts(session, ctx.user_id):
        if contact_id in by_id:
            by_id[contact_id].notes.add(text)
    if any(row.tags for row in rows):
        ids = [contact_id for contact_id in by_id if contact_id is not None]
        for contact_id, names in queries.tags_of_contacts(session, ctx.user_id, ids).items():
            if contact_id in by_id:
                by_id[contact_id].tags.update(names)
    new: list[tuple[_Known, ContactRow]] = []
    pending_notes: list[tuple[_Known, str]] = []
    for row in rows:
        contact = by_key.get(name_key(row.name)) or (
            by_email.get(row.email) if row.email else None)
        if contact is None:
            plan.created += 1
            plan.notes_added += row.notes is not None
            contact = _Known(None, name_key(row.name), row.email, row.kind or "colleague",
                             row.company, row.cadence_days, None, now,
                             cadence_months=row.cadence_months, new_birthday=row.birthday)
            contact.new_tags = list(row.tags)
            contact.tags.update(row.tags)
            by_key[contact.key] = contact
            if row.email:
                by_email[row.email] = contact
            new.append((contact, row))
            if row.notes:
                pending_notes.append((contact, row.notes))
                contact.notes.add(row.notes)
            continue
        changes: dict[str, object] = {}
        if row.kind and row.kind != contact.kind:
            changes["kind"] = row.kind
        if row.company and row.company != contact.company:
            changes["company"] = row.company
        if row.role and row.role != contact.role:
            changes["role"] = row.role
        if row.email and row.email != (contact.email or "").lower() and \
                by_email.get(row.email, contact) is contact:
            # Another contact has that address already: it stays theirs (one address, one
            # person, or each meeting with it would count for both; `set` refuses it).
            changes["email"] = row.email
            by_email[row.email] = contact
        if row.cadence_set and (row.cadence_days, row.cadence_months) != (
                contact.cadence_days, contact.cadence_months):
            changes["cadence_days"] = row.cadence_days
            changes["cadence_months"] = row.cadence_months
        if row.birthday is not None and row.birthday != contact.birthday:
            contact.new_birthday = row.birthday
        new_note = bool(row.notes) and row.notes not in contact.notes
        added_tags = [tag for tag in row.tags if tag not in contact.tags]
        if not changes and not new_note and not added_tags and contact.new_birthday is None:
            plan.unchanged += 1
            continue
        plan.updated += 1
        contact.new_tags += added_tags
        contact.tags.update(added_tags)
        plan.notes_added += new_note
        contact.changes.update(changes)
        if new_note and row.notes:
            pending_notes.append((contact, row.notes))
            contact.notes.add(row.notes)
    if write:
        changed = [k for k in known if k.changes] + [k for k, _ in new if k.changes]
        _write(session, ctx, new, changed, pending_notes, now)
        _write_tags(session, ctx, [k for k in known if k.new_tags]
                    + [k for k, _ in new if k.new_tags], now)
        _write_birthdays(session, ctx, [*known, *(k for k, _ in new)], now)
    return plan


def _write_tags(session: Session, ctx: UserContext, contacts: list[_Known],
                now: datetime) -> None:
    """The tags column: tags are added (never removed), then their goals applied."""
    if not contacts:
        return
    tag_ids: dict[str, int] = {}
    for contact in contacts:
        assert contact.id is not None
        for name in contact.new_tags:
            if name not in tag_ids:
                tag_ids[name] = ensure_tag(session, ctx, name, now).id
            queries.tag_contact(session, workspace_id=ctx.workspace_id, user_id=ctx.user_id,
                                contact_id=contact.id, tag_id=tag_ids[name], now=now)
    refresh_goal_cadences(session, ctx.user_id, [c.id for c in contacts if c.id is not None],
                          tz=ctx.tz, now=now)


def _write(session: Session, ctx: UserContext, new: list[tuple[_Known, ContactRow]],
           changed: list[_Known], notes: list[tuple[_Known, str]], now: datetime) -> None:
    # One multi-row INSERT gives every new contact its id, then the notes follow.
    ids = queries.insert_contacts(session, [
        {"workspace_id": ctx.workspace_id, "user_id": ctx.user_id, "name": row.name,
         "name_key": contact.key, "kind": contact.kind, "company": row.company,
         "role": row.role,
         "email": row.email, "cadence_days": row.cadence_days,
         "cadence_months": row.cadence_months, "cadence_own": row.cadence_set,
         "next_due_at": (due := planner.cadence_next_due(None, row.cadence_days, now,
                                                          row.cadence_months, tz=ctx.tz)),
         "plan_at": due, "created_at": now}
        for contact, row in new])
    for (contact, _row), contact_id in zip(new, ids, strict=True):
        contact.id = contact_id
    for contact in changed:
        assert contact.id is not None
        values = dict(contact.changes)
        if "cadence_days" in values:
            cadence = contact.changes["cadence_days"]
            months = contact.changes.get("cadence_months")
            due = planner.cadence_next_due(contact.last_touch_at,
                                           cadence if isinstance(cadence, int) else None,
                                           contact.created_at,
                                           months if isinstance(months, int) else None,
                                           tz=ctx.tz)
            values.update(next_due_at=due, plan_at=due, cadence_own=True)
            if cadence is None or (due is not None and due > now):
                # The rule `every` follows: the reminder out would contradict the new rhythm.
                queries.expire_cadence_nudges(session, contact.id, user_id=ctx.user_id,
                                              with_sent=True)
        queries.update_contact(session, ctx.user_id, contact.id, **values)
    queries.insert_notes(session, [
        {"workspace_id": ctx.workspace_id, "user_id": ctx.user_id, "contact_id": contact.id,
         "text": text, "created_at": now} for contact, text in notes])


def _write_birthdays(session: Session, ctx: UserContext, contacts: list[_Known],
                     now: datetime) -> None:
    """Birthdays from vCards: added, or changed to what the file says."""
    today = planner.local_date(now, ctx.tz)
    for contact in contacts:
        if contact.new_birthday is None or contact.id is None:
            continue
        month, day, year = contact.new_birthday
        occurrence = planner.yearly_occurrence(month, day, today)
        plan_at = max(now, planner.local_moment(
            occurrence - timedelta(days=IMPORTANT_DATE_LEAD_DAYS),
            ctx.prefs.window_start_minute, ctx.tz))
        if contact.birthday_id is None:
            queries.insert_important_date(session, workspace_id=ctx.workspace_id,
                                          user_id=ctx.user_id, contact_id=contact.id,
                                          kind="birthday", month=month, day=day, year=year,
                                          plan_at=plan_at, now=now)
        else:
            queries.update_important_date(session, contact.birthday_id, month=month, day=day,
                                          year=year, plan_at=plan_at)


def _summary(plan: ImportPlan, dry_run: bool) -> str:
    verb = ("Would add", "would update", "would leave") if dry_run else \
        ("Added", "updated", "left")
    text = (f"{verb[0]} {wording.counted(plan.created, 'person', 'people')}, {verb[1]} "
            f"{plan.updated} and {verb[2]} {plan.unchanged} unchanged")
    if plan.notes_added:
        text += (f" ({wording.counted(plan.notes_added, 'note')} "
                 f"{'to add' if dry_run else 'added'})")
    return text + "." + (" Nothing was saved: this was a dry run." if dry_run else "")


def import_file(session: Session, ctx: UserContext, filename: str, data: bytes, *,
                dry_run: bool, now: datetime) -> Reply:
    """Validate and merge an uploaded file into the user's contacts, all or nothing."""
    parsed = parse_file(filename, data, planner.local_date(now, ctx.tz))
    notes = "\n".join(parsed.warnings[:MAX_REPORTED_ERRORS])
    if parsed.errors:
        shown = parsed.errors[:MAX_REPORTED_ERRORS]
        more = len(parsed.errors) - len(shown)
        text = ("Nothing was imported; please fix these and try again:\n"
                + "\n".join(f"• {e}" for e in shown)
                + (f"\n• … and {more} more." if more else ""))
        logger.info("import refused", extra={"errors": len(parsed.errors)})
        return Reply(text + (f"\n{notes}" if notes else ""), ok=False,
                     view=ImportView(dry_run=dry_run, errors=tuple(parsed.errors),
                                     warnings=tuple(parsed.warnings)))
    if not parsed.rows:
        return error("The file has a header but no contacts.")
    plan = merge(session, ctx, parsed.rows, write=not dry_run, now=now)
    if not dry_run and (plan.created or plan.updated):
        # `undo` stops here rather than reach past an import and reverse something older.
        queries.insert_undo_entry(session, workspace_id=ctx.workspace_id, user_id=ctx.user_id,
                                  description=f"imported {filename[:100]}", kind="barrier",
                                  payload=None, now=now)
    logger.info("import", extra={"dry_run": dry_run, "contacts_created": plan.created,
                                 "contacts_updated": plan.updated,
                                 "contacts_unchanged": plan.unchanged})
    return Reply(_summary(plan, dry_run) + (f"\n{notes}" if notes else ""),
                 changed=not dry_run and bool(plan.created or plan.updated),
                 view=ImportView(dry_run=dry_run, created=plan.created, updated=plan.updated,
                                 unchanged=plan.unchanged, notes_added=plan.notes_added,
                                 warnings=tuple(parsed.warnings)))
