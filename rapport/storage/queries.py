"""Every statement the use cases run, in one place.

Synchronous functions on a SQLAlchemy `Session`: a use case runs several of them inside one
unit of work (`rapport.storage.uow.Database.run`). Reads return plain rows or small frozen
dataclasses, never ORM object graphs; every query is scoped by its owner's ids.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    distinct,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from rapport.storage import forgotten, met
from rapport.storage.forgotten import ForgottenAddresses
from rapport.storage.models import (
    ACTIVE_NUDGE_STATUSES,
    AUTOMATIC_SOURCES,
    CALENDAR_SOURCE,
    OPEN_NUDGE_STATUSES,
    Base,
    CalendarConnection,
    CapturedAttendee,
    CapturedChat,
    CapturedEvent,
    ChatGrant,
    Contact,
    ContactTag,
    ConversationRef,
    DeliveredMessagePerson,
    DeliveredMessageRecord,
    Draft,
    ForgottenAddress,
    ImportantDate,
    MessageRedaction,
    MetPerson,
    Note,
    Nudge,
    NudgeStatus,
    PendingFile,
    Suggestion,
    Tag,
    Touchpoint,
    UndoEntry,
    User,
    Workspace,
)
from rapport.storage.names import accent_blind_glob, accent_blind_regex, name_key
from rapport.storage.prepared import JsonRowsInsert, JsonRowsUpdate, Prepared, in_json_list
from rapport.storage.types import UTCDateTime


def _rows(result: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in result]


def _first(row: Sequence[Any] | None) -> tuple[Any, ...] | None:
    return tuple(row) if row is not None else None


# ------------------------------------------------------------------------------ users
@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    tz_from_platform: bool
    active: bool
    inactive_reason: str | None
    tz: str = "UTC"


def user_ids(session: Session, platform: str, workspace_external_id: str,
             user_external_id: str) -> tuple[int, int] | None:
    """(workspace id, user id) of a platform user, or None when Rapport never met them."""
    row = session.execute(
        select(User.workspace_id, User.id).join(Workspace, Workspace.id == User.workspace_id)
        .where(Workspace.platform == platform, Workspace.external_id == workspace_external_id,
               User.external_id == user_external_id)).first()
    return (row[0], row[1]) if row is not None else None


def workspace_id(session: Session, platform: str, external_id: str) -> int | None:
    return session.execute(select(Workspace.id).where(
        Workspace.platform == platform, Workspace.external_id == external_id)).scalar()


def insert_workspace(session: Session, *, platform: str, external_id: str, name: str,
                     now: datetime) -> int:
    return session.execute(insert(Workspace).values(
        platform=platform, external_id=external_id, name=name, ai_enabled=True,
        disclosure_policy="optional", active=True, created_at=now)
        .returning(Workspace.id)).scalar_one()


def user_row(session: Session, workspace_id: int, external_id: str) -> UserRow | None:
    row = session.execute(select(User.id, User.tz_from_platform, User.active,
                                 User.inactive_reason, User.tz)
                          .where(User.workspace_id == workspace_id,
                                 User.external_id == external_id)).first()
    return UserRow(*row) if row is not None else None


def insert_user(session: Session, *, workspace_id: int, external_id: str, display_name: str,
                tz: str, now: datetime) -> int:
    """A new user with the default preferences (09:00-17:00, Mon-Fri, 3 a day, digest)."""
    return session.execute(insert(User).values(
        workspace_id=workspace_id, external_id=external_id, display_name=display_name, tz=tz,
        tz_from_platform=True, window_start_minute=9 * 60, window_end_minute=17 * 60,
        working_days=0b0011111, daily_cap=3, digest=True, ai_enabled=True, tone="warm",
        weekly_summary=True, active=True, sent_day_count=0, created_at=now)
        .returning(User.id)).scalar_one()


def update_user(session: Session, user_id: int, **values: Any) -> None:
    session.execute(update(User).where(User.id == user_id).values(**values))


def reactivate_user(session: Session, user_id: int, now: datetime) -> None:
    """The user talks to us again: reachable again, and what waited for that is due at once;
    a wait that is not theirs (`Nudge.not_before`: a retry's backoff, a digest's spacing)
    still ends when it ends."""
    update_user(session, user_id, active=True, inactive_reason=None)
    now_bound = bindparam("now", now, type_=UTCDateTime)
    session.execute(update(Nudge).where(Nudge.user_id == user_id,
                                        Nudge.status == NudgeStatus.PLANNED,
                                        Nudge.deliver_after > now_bound)
                    .values(deliver_after=case((Nudge.not_before > now_bound,
                                                Nudge.not_before), else_=now_bound))
                    .execution_options(synchronize_session=False))


def held_nudge_ids(session: Session, user_id: int, now: datetime) -> list[int]:
    """Planned nudges of the user put off to a later moment by their delivery settings (the
    window, the working days, the cap, a pause's end): past `Nudge.not_before`, the wait a
    retry's backoff or a digest's spacing set, which those settings do not decide."""
    return list(session.execute(select(Nudge.id).where(
        Nudge.user_id == user_id, Nudge.status == NudgeStatus.PLANNED,
        Nudge.deliver_after > now,
        or_(Nudge.not_before.is_(None), Nudge.deliver_after > Nudge.not_before))).scalars())


def release_nudges(session: Session, nudge_ids: Sequence[int], now: datetime) -> None:
    """Make these planned nudges due now, or when their `not_before` wait ends (the sweep
    then finds the next moment the user's settings allow)."""
    if nudge_ids:
        now_bound = bindparam("now", now, type_=UTCDateTime)
        session.execute(update(Nudge).where(Nudge.id.in_(list(nudge_ids)),
                                            Nudge.status == NudgeStatus.PLANNED)
                        .values(deliver_after=case((Nudge.not_before > now_bound,
                                                    Nudge.not_before), else_=now_bound))
                        .execution_options(synchronize_session=False))


_USER_CONTEXT = Prepared(
    select(User.tz, User.window_start_minute, User.window_end_minute, User.working_days,
           User.daily_cap, User.paused_until, User.digest, User.ai_enabled, User.tone,
           User.weekly_summary, Workspace.platform, Workspace.ai_enabled,
           Workspace.disclosure_policy, User.active, Workspace.external_id,
           User.external_id, User.prep_minutes)
    .join(Workspace, Workspace.id == User.workspace_id)
    .where(User.id == bindparam("user_id"), User.workspace_id == bindparam("workspace_id")))


def user_context_row(session: Session, workspace_id: int, user_id: int
                     ) -> tuple[Any, ...] | None:
    """The user's preferences and their workspace's AI policy, in one read."""
    return _USER_CONTEXT.first(session, user_id=user_id, workspace_id=workspace_id)


def mark_welcomed(session: Session, user_id: int, now: datetime) -> bool:
    """Record the welcome; True only for the first caller (replicas race safely)."""
    result = session.execute(update(User).where(User.id == user_id, User.welcomed_at.is_(None))
                             .values(welcomed_at=now))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def recipient_row(session: Session, user_id: int) -> tuple[Any, ...] | None:
    """(workspace id, workspace external id, platform, user external id, display name, tz)
    of a user, to send them a message."""
    return _first(session.execute(
        select(User.workspace_id, Workspace.external_id, Workspace.platform, User.external_id,
               User.display_name, User.tz)
        .join(Workspace, Workspace.id == User.workspace_id).where(User.id == user_id)).first())


def brief_prefs(session: Session, user_id: int) -> tuple[Any, ...] | None:
    """(prep_minutes, paused_until, tz) of a user, for meeting briefs."""
    return _first(session.execute(select(User.prep_minutes, User.paused_until, User.tz)
                                  .where(User.id == user_id)).first())


def brief_leads(session: Session, user_ids: Iterable[int]) -> dict[int, int]:
    """Each user's brief lead in minutes (0: briefs off), by user id."""
    return {user_id: minutes for user_id, minutes in session.execute(
        select(User.id, User.prep_minutes).where(User.id.in_(list(user_ids))))}


def briefed_at(session: Session, user_id: int, start_at: datetime) -> bool:
    """Whether a meeting of the user starting at `start_at` has had its brief handled (one
    in another connected calendar is the same meeting)."""
    return session.scalar(select(CapturedEvent.id).where(
        CapturedEvent.user_id == user_id, CapturedEvent.start_at == start_at,
        CapturedEvent.brief_sent_at.is_not(None)).limit(1)) is not None


def claim_brief(session: Session, meeting_id: int, now: datetime) -> bool:
    """Mark a meeting's brief as handled; True only for the one caller that did (replicas)."""
    result = session.execute(update(CapturedEvent).where(CapturedEvent.id == meeting_id,
                                                         CapturedEvent.brief_sent_at.is_(None))
                             .values(brief_sent_at=now))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def delete_user(session: Session, workspace_id: int, user_id: int) -> None:
    """Everything of the user goes with the row (foreign keys cascade)."""
    session.execute(delete(User).where(User.id == user_id, User.workspace_id == workspace_id))


# ------------------------------------------------------------------------------ contacts
@dataclass(frozen=True, slots=True)
class ContactName:
    id: int
    name: str
    platform_user_id: str | None


@dataclass(frozen=True, slots=True)
class ContactState:
    id: int
    name: str
    company: str | None
    kind: str
    cadence_days: int | None
    last_touch_at: datetime | None
    next_due_at: datetime | None
    created_at: datetime
    cadence_months: int | None = None
    email: str | None = None
    platform_user_id: str | None = None
    plan_at: datetime | None = None
    role: str | None = None


_NAME_COLUMNS = (Contact.id, Contact.name, Contact.platform_user_id)


_CONTACT_BY_KEY = Prepared(select(*_NAME_COLUMNS).where(
    Contact.user_id == bindparam("user_id"), Contact.name_key == bindparam("key")))


def contact_by_key(session: Session, user_id: int, key: str) -> ContactName | None:
    """The contact whose normalised name is exactly `key` (one unique-index lookup)."""
    row = _CONTACT_BY_KEY.first(session, user_id=user_id, key=key)
    return ContactName(*row) if row is not None else None


def _others_first_name() -> ColumnElement[bool]:
    """Whether the one-word `key` is the first name of another of the user's contacts (Dana
    Scully, for "dana" when someone is called Dana alone): read with the name's lookup, so
    that asking "Which Dana?" costs no statement of its own. Never so for a key of several
    words (no first name has a space)."""
    others = Contact.__table__.alias("namesake")
    return select(others.c.id).where(
        others.c.user_id == bindparam("user_id"), others.c.first_key == bindparam("key"),
        others.c.name_key != bindparam("key")).exists().label("shared")


_CONTACT_BY_KEY_SHARED = Prepared(select(*_NAME_COLUMNS, _others_first_name()).where(
    Contact.user_id == bindparam("user_id"), Contact.name_key == bindparam("key")))


def contact_by_key_shared(session: Session, user_id: int, key: str
                          ) -> tuple[ContactName, bool] | None:
    """`contact_by_key`, and whether its one word is others' first name too, in one
    statement (`rapport.bot.core.resolve`)."""
    row = _CONTACT_BY_KEY_SHARED.first(session, user_id=user_id, key=key)
    return (ContactName(*row[:3]), bool(row[3])) if row is not None else None


def contacts_by_first_name(session: Session, user_id: int, first: str) -> list[ContactName]:
    """Contacts of several words whose first word is `first` (one index lookup)."""
    rows = session.execute(select(*_NAME_COLUMNS).where(
        Contact.user_id == user_id, Contact.first_key == first, Contact.name_key != first))
    return [ContactName(*row) for row in rows]


def contact_by_mention(session: Session, user_id: int, platform_user_id: str
                       ) -> ContactName | None:
    row = session.execute(select(*_NAME_COLUMNS).where(
        Contact.user_id == user_id, Contact.platform_user_id == platform_user_id)
        .order_by(Contact.id).limit(1)).first()
    return ContactName(*row) if row is not None else None


def contact_by_id(session: Session, user_id: int, contact_id: int) -> ContactName | None:
    """The contact when it is this user's; the same None for missing and someone else's."""
    row = session.execute(select(*_NAME_COLUMNS).where(Contact.user_id == user_id,
                                                       Contact.id == contact_id)).first()
    return ContactName(*row) if row is not None else None


def contact_names(session: Session, user_id: int) -> list[ContactName]:
    """Every contact's name: for "did you mean" after a miss, and for imports."""
    return [ContactName(*row) for row in session.execute(
        select(*_NAME_COLUMNS).where(Contact.user_id == user_id))]


_CONTACT_STATE = Prepared(select(
    Contact.id, Contact.name, Contact.company, Contact.kind, Contact.cadence_days,
    Contact.last_touch_at, Contact.next_due_at, Contact.created_at, Contact.cadence_months,
    Contact.email, Contact.platform_user_id, Contact.plan_at, Contact.role)
    .where(Contact.id == bindparam("contact_id"), Contact.user_id == bindparam("user_id")))


def contact_state(session: Session, user_id: int, contact_id: int) -> ContactState | None:
    row = _CONTACT_STATE.first(session, user_id=user_id, contact_id=contact_id)
    return ContactState(*row) if row is not None else None


def insert_contact(session: Session, *, workspace_id: int, user_id: int, name: str, key: str,
                   kind: str, platform_user_id: str | None, company: str | None,
                   email: str | None = None, cadence_days: int | None,
                   next_due_at: datetime | None, now: datetime,
                   cadence_months: int | None = None, cadence_own: bool = False,
                   role: str | None = None) -> int:
    return session.execute(insert(Contact).values(
        workspace_id=workspace_id, user_id=user_id, name=name, name_key=key, kind=kind,
        platform_user_id=platform_user_id, company=company, email=email, role=role,
        cadence_days=cadence_days, cadence_months=cadence_months, cadence_own=cadence_own,
        next_due_at=next_due_at, plan_at=next_due_at, created_at=now
    ).returning(Contact.id)).scalar_one()


def update_contact(session: Session, user_id: int, contact_id: int, **values: Any) -> None:
    session.execute(update(Contact).where(Contact.id == contact_id, Contact.user_id == user_id)
                    .values(**values).execution_options(synchronize_session=False))


_SET_CONTACT_CLOCK = Prepared(
    update(Contact).where(Contact.id == bindparam("contact_id"))
    .values(last_touch_at=bindparam("last_touch_at"), next_due_at=bindparam("next_due_at"),
            plan_at=bindparam("plan_at")))


def set_contact_clock(session: Session, contact_id: int, *, last_touch_at: datetime | None,
                      next_due_at: datetime | None) -> None:
    """Last touch and the cadence clock (`plan_at` follows `next_due_at`)."""
    _SET_CONTACT_CLOCK.execute(session, contact_id=contact_id, last_touch_at=last_touch_at,
                               next_due_at=next_due_at, plan_at=next_due_at)


def delete_contact(session: Session, user_id: int, contact_id: int) -> None:
    session.execute(delete(Contact).where(Contact.id == contact_id, Contact.user_id == user_id))


def contacts_for_import(session: Session, user_id: int) -> list[tuple[Any, ...]]:
    """(id, name_key, email, kind, company, cadence_days, last_touch_at, created_at,
    cadence_months, role)."""
    return _rows(session.execute(select(
        Contact.id, Contact.name_key, Contact.email, Contact.kind, Contact.company,
        Contact.cadence_days, Contact.last_touch_at, Contact.created_at, Contact.cadence_months,
        Contact.role)
        .where(Contact.user_id == user_id)))


def birthdays(session: Session, user_id: int) -> dict[int, tuple[int, int, int, int | None]]:
    """contact id -> (date id, month, day, year) of every birthday the user keeps."""
    return {contact_id: (date_id, month, day, year) for contact_id, date_id, month, day, year
            in session.execute(select(ImportantDate.contact_id, ImportantDate.id,
                                      ImportantDate.month, ImportantDate.day,
                                      ImportantDate.year)
                               .where(ImportantDate.user_id == user_id,
                                      ImportantDate.kind == "birthday"))}


def insert_contacts(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Several contacts in one statement; their ids in the same order."""
    if not rows:
        return []
    ids = session.execute(insert(Contact).returning(Contact.id, sort_by_parameter_order=True),
                          list(rows)).scalars()
    return list(ids)


# ------------------------------------------------------------------------------ touchpoints
_INSERT_TOUCHPOINT = Prepared(insert(Touchpoint).values(
    {column: bindparam(column) for column in (
        "workspace_id", "user_id", "contact_id", "happened_at", "kind", "summary", "source",
        "day_only", "created_at")}).returning(Touchpoint.id))


def insert_touchpoint(session: Session, *, workspace_id: int, user_id: int, contact_id: int,
                      happened_at: datetime, kind: str, summary: str | None, source: str,
                      now: datetime, day_only: bool = False) -> int:
    return int(_INSERT_TOUCHPOINT.scalar(
        session, workspace_id=workspace_id, user_id=user_id, contact_id=contact_id,
        happened_at=happened_at, kind=kind, summary=summary, source=source,
        day_only=day_only, created_at=now))


_TOUCHPOINTS: Table = Touchpoint.__table__  # type: ignore[assignment]
# One statement however many rows, the rows one JSON parameter. RETURNING gives no order to
# rely on, so rows are matched back by what identifies them.
_INSERT_TOUCHPOINTS = JsonRowsInsert(
    _TOUCHPOINTS, shared=("workspace_id", "user_id", "kind", "summary", "source", "created_at"),
    per_row=("contact_id", "happened_at"), tail="RETURNING id, contact_id, happened_at",
    returning=("id", "contact_id", "happened_at"))


def insert_touchpoints(session: Session, *, workspace_id: int, user_id: int, kind: str,
                       summary: str | None, source: str, now: datetime,
                       meetings: Sequence[tuple[int, datetime]]) -> list[int]:
    """Insert many touchpoints of one user, of one kind, summary and source, in one
    statement: (contact_id, happened_at) each. Their ids in the order of `meetings`."""
    if not meetings:
        return []
    ids: dict[tuple[int, datetime], list[int]] = {}
    for touchpoint_id, contact_id, happened_at in _INSERT_TOUCHPOINTS.rows(
            session, meetings, workspace_id=workspace_id, user_id=user_id, kind=kind,
            summary=summary, source=source, created_at=now):
        ids.setdefault((contact_id, happened_at), []).append(touchpoint_id)
    # Two rows with the same contact and moment are the same conversation twice: which id
    # goes to which does not matter, each gets one.
    return [ids[(contact_id, happened_at)].pop() for contact_id, happened_at in meetings]


def move_touchpoint(session: Session, touchpoint_id: int, happened_at: datetime,
                    day_only: bool | None = None) -> int | None:
    """New moment of a touchpoint (and whether it now stands for a day, when given); its
    contact id, or None when it is gone."""
    values: dict[str, object] = {"happened_at": happened_at}
    if day_only is not None:
        values["day_only"] = day_only
    return session.execute(update(Touchpoint).where(Touchpoint.id == touchpoint_id)
                           .values(values)
                           .returning(Touchpoint.contact_id)).scalar_one_or_none()


def delete_touchpoint(session: Session, touchpoint_id: int) -> int | None:
    """Delete a touchpoint; its contact id, or None when it was already gone."""
    return session.execute(delete(Touchpoint).where(Touchpoint.id == touchpoint_id)
                           .returning(Touchpoint.contact_id)).scalar_one_or_none()


def calendar_owned(session: Session, touchpoint_id: int) -> bool:
    """Whether the calendar may move or delete this touchpoint: only one it wrote itself. A
    typed one is the person's own record, and so is a calendar one they gave a summary
    (`edit t7: ...`) or another day (`edit t7 yesterday`)."""
    row = session.execute(select(Touchpoint.source, Touchpoint.summary, Touchpoint.day_only)
                          .where(Touchpoint.id == touchpoint_id)).first()
    return row is not None and row.source == CALENDAR_SOURCE and not row.summary \
        and not row.day_only


def calendar_touch_between(session: Session, user_id: int, contact_id: int, start: datetime,
                           end: datetime) -> tuple[int, str] | None:
    """(id, kind) of the newest touchpoint with this contact in [start, end) that the
    calendar logged and still owns (`calendar_owned`: no summary, no day given by hand), or
    None."""
    row = session.execute(select(Touchpoint.id, Touchpoint.kind).where(
        Touchpoint.user_id == user_id, Touchpoint.contact_id == contact_id,
        Touchpoint.source == CALENDAR_SOURCE,
        or_(Touchpoint.summary.is_(None), Touchpoint.summary == ""),
        Touchpoint.day_only.is_(False), Touchpoint.happened_at >= start,
        Touchpoint.happened_at < end)
        .order_by(Touchpoint.happened_at.desc(), Touchpoint.id.desc()).limit(1)).first()
    return None if row is None else (row.id, row.kind)


def hand_calendar_touchpoint_over(session: Session, touchpoint_id: int) -> bool:
    """The meeting may stand in another connected calendar, whose row was handled without a
    touchpoint because this one logged it first (capture's `_logged_from_calendars`): that
    row takes the touchpoint over, so the meeting stays logged once. True when one did."""
    e, a = CapturedEvent, CapturedAttendee
    touch = session.execute(select(Touchpoint.contact_id, Touchpoint.happened_at)
                            .where(Touchpoint.id == touchpoint_id)).first()
    if touch is None:
        return False
    holders = select(e.connection_id).join(a, a.captured_event_id == e.id) \
        .where(a.touchpoint_id == touchpoint_id)
    other = session.scalar(
        select(a.id).join(e, e.id == a.captured_event_id)
        .where(a.contact_id == touch.contact_id, a.touchpoint_id.is_(None),
               a.logged_at.is_not(None), e.start_at == touch.happened_at,
               e.connection_id.not_in(holders))
        .order_by(a.id).limit(1))
    if other is None:
        return False
    session.execute(update(a).where(a.id == other).values(touchpoint_id=touchpoint_id))
    return True


def day_only_touches(session: Session, user_id: int) -> list[tuple[int, int, datetime]]:
    """(id, contact id, happened_at) of the user's conversations logged or corrected for a
    day rather than a moment, whatever their source."""
    return [tuple(row) for row in session.execute(  # type: ignore[misc]
        select(Touchpoint.id, Touchpoint.contact_id, Touchpoint.happened_at)
        .where(Touchpoint.user_id == user_id, Touchpoint.day_only))]


def set_touch_moments(session: Session, moments: Sequence[tuple[int, datetime]]) -> None:
    """Move each touchpoint (id, new happened_at)."""
    if moments:
        session.connection().execute(
            update(Touchpoint).where(Touchpoint.id == bindparam("b_id"))
            .values(happened_at=bindparam("b_at")),
            [{"b_id": tp_id, "b_at": at} for tp_id, at in moments])


def newest_touch(session: Session, contact_id: int) -> datetime | None:
    return session.execute(select(func.max(Touchpoint.happened_at))
                           .where(Touchpoint.contact_id == contact_id)).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class ClockInputs:
    last_touch_at: datetime | None
    cadence_days: int | None
    created_at: datetime
    cadence_months: int | None = None
    # The user's zone: the rhythm counts days and months on their calendar.
    tz: str = "UTC"


_CLOCK_INPUTS = Prepared(select(Contact.last_touch_at, Contact.cadence_days,
                                Contact.created_at, Contact.cadence_months, User.tz)
                         .join(User, User.id == Contact.user_id)
                         .where(Contact.id == bindparam("contact_id")))


def contact_clock_inputs(session: Session, contact_id: int) -> ClockInputs | None:
    """What a contact's keep-in-touch clock is computed from."""
    row = _CLOCK_INPUTS.first(session, contact_id=contact_id)
    return ClockInputs(*row) if row is not None else None


# The batch twins below run once per calendar page: prepared, their IN lists one JSON
# parameter, so a page pays neither statement construction nor a list rendered per call.
_CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
_SET_CONTACT_CLOCKS = JsonRowsUpdate(_CONTACTS, key="id", shared=(),
                                     per_row=("last_touch_at", "next_due_at", "plan_at"))


def clock_inputs_of(session: Session, user_id: int, contact_ids: Iterable[int]
                    ) -> tuple[dict[int, ClockInputs], list[int]]:
    """`contact_clock_inputs` for many contacts of the user in one statement, and which of
    them have open cadence nudges (what `close_cadence_nudges_of` closes)."""
    inputs: dict[int, ClockInputs] = {}
    open_cadence: list[int] = []
    for contact_id, last, days, created, months, has_open, tz in _CLOCK_INPUTS_OF.rows(
            session, contact_ids=list(set(contact_ids)), user_id=user_id):
        inputs[contact_id] = ClockInputs(last, days, created, months, tz)
        if has_open:
            open_cadence.append(contact_id)
    return inputs, open_cadence


def set_contact_clocks(session: Session, clocks: Sequence[tuple[int, datetime | None,
                                                                datetime | None]]) -> None:
    """`set_contact_clock` for many contacts: (id, last_touch_at, next_due_at) each, one
    statement."""
    if not clocks:
        return
    _SET_CONTACT_CLOCKS.execute(session, [(contact_id, last, due, due)
                                          for contact_id, last, due in clocks])


@dataclass(frozen=True, slots=True)
class RhythmClock:
    contact_id: int
    last_touch_at: datetime | None
    cadence_days: int | None
    created_at: datetime
    cadence_months: int | None
    next_due_at: datetime | None
    plan_at: datetime | None


_RHYTHM_CLOCKS = Prepared(select(
    Contact.id, Contact.last_touch_at, Contact.cadence_days, Contact.created_at,
    Contact.cadence_months, Contact.next_due_at, Contact.plan_at)
    .where(Contact.user_id == bindparam("user_id"),
           or_(Contact.cadence_days > 0, Contact.cadence_months > 0)))
_SET_PLANNED = JsonRowsUpdate(_CONTACTS, key="id", shared=(),
                              per_row=("next_due_at", "plan_at"))


def rhythm_clocks(session: Session, user_id: int) -> list[RhythmClock]:
    """The user's contacts with a rhythm, with what their next due moment is counted from."""
    return [RhythmClock(*row) for row in _RHYTHM_CLOCKS.rows(session, user_id=user_id)]


def set_planned_moments(session: Session, moments: Sequence[tuple[int, datetime | None,
                                                                 datetime | None]]) -> None:
    """(id, next_due_at, plan_at) of many contacts, one statement."""
    if moments:
        _SET_PLANNED.execute(session, list(moments))


def latest_summary(session: Session, user_id: int, contact_id: int) -> str | None:
    return session.execute(
        select(Touchpoint.summary).where(Touchpoint.contact_id == contact_id,
                                         Touchpoint.user_id == user_id)
        .order_by(Touchpoint.happened_at.desc(), Touchpoint.id.desc()).limit(1)).scalar()


# ------------------------------------------------------------------------------ notes, dates
def insert_note(session: Session, *, workspace_id: int, user_id: int, contact_id: int,
                text: str, follow_up_on: date | None, plan_at: datetime | None,
                now: datetime, event_on: date | None = None) -> int:
    return session.execute(insert(Note).values(
        workspace_id=workspace_id, user_id=user_id, contact_id=contact_id, text=text,
        follow_up_on=follow_up_on, event_on=event_on, plan_at=plan_at, created_at=now)
        .returning(Note.id)).scalar_one()


def insert_notes(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.execute(insert(Note), list(rows))


def note_texts(session: Session, user_id: int) -> list[tuple[int, str]]:
    """(contact_id, text) of every note of the user."""
    return _rows(session.execute(select(Note.contact_id, Note.text)
                                .where(Note.user_id == user_id)))


def unplanned_follow_ups(session: Session, user_id: int) -> list[tuple[int, date]]:
    """(id, follow_up_on) of notes whose nudge is not planned yet."""
    return [(note_id, day) for note_id, day in session.execute(
        select(Note.id, Note.follow_up_on).where(
            Note.user_id == user_id, Note.plan_at.is_not(None),
            Note.follow_up_on.is_not(None))) if day is not None]


def set_note_plan(session: Session, note_id: int, plan_at: datetime | None) -> None:
    session.execute(update(Note).where(Note.id == note_id).values(plan_at=plan_at)
                    .execution_options(synchronize_session=False))


def note_text(session: Session, user_id: int, note_id: int) -> str | None:
    return session.execute(select(Note.text).where(Note.id == note_id,
                                                   Note.user_id == user_id)).scalar()


def note_for_draft(session: Session, user_id: int, note_id: int
                   ) -> tuple[str, date | None] | None:
    """(text, event_on) of the user's note."""
    row = session.execute(select(Note.text, Note.event_on).where(
        Note.id == note_id, Note.user_id == user_id)).first()
    return (row[0], row[1]) if row is not None else None


def newest_follow_up(session: Session, user_id: int, contact_id: int
                     ) -> tuple[str, date | None] | None:
    """(text, event_on) of the contact's newest note with a follow-up date."""
    row = session.execute(
        select(Note.text, Note.event_on).where(Note.contact_id == contact_id,
                                               Note.user_id == user_id,
                                               Note.follow_up_on.is_not(None))
        .order_by(Note.created_at.desc(), Note.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row is not None else None


def newest_follow_up_text(session: Session, user_id: int, contact_id: int) -> str | None:
    return session.execute(
        select(Note.text).where(Note.contact_id == contact_id, Note.user_id == user_id,
                                Note.follow_up_on.is_not(None))
        .order_by(Note.created_at.desc(), Note.id.desc()).limit(1)).scalar()


def important_date_id(session: Session, contact_id: int, kind: str) -> int | None:
    return session.execute(select(ImportantDate.id).where(
        ImportantDate.contact_id == contact_id, ImportantDate.kind == kind)).scalar()


def insert_important_date(session: Session, *, workspace_id: int, user_id: int,
                          contact_id: int, kind: str, month: int, day: int,
                          plan_at: datetime, now: datetime, year: int | None = None) -> int:
    return session.execute(insert(ImportantDate).values(
        workspace_id=workspace_id, user_id=user_id, contact_id=contact_id, kind=kind,
        month=month, day=day, year=year, plan_at=plan_at, created_at=now)
        .returning(ImportantDate.id)).scalar_one()


def update_important_date(session: Session, date_id: int, *, month: int, day: int,
                          plan_at: datetime, year: int | None = None) -> None:
    session.execute(update(ImportantDate).where(ImportantDate.id == date_id)
                    .values(month=month, day=day, year=year, plan_at=plan_at))


def delete_important_date(session: Session, date_id: int) -> None:
    session.execute(delete(ImportantDate).where(ImportantDate.id == date_id))


def notes_since(session: Session, user_id: int, contact_id: int, since: datetime | None,
                limit: int = 3) -> list[tuple[str, datetime]]:
    """(text, created_at) of the contact's newest notes written after `since` (all when
    None): what has not been talked about since."""
    query = select(Note.text, Note.created_at).where(Note.user_id == user_id,
                                                     Note.contact_id == contact_id)
    if since is not None:
        query = query.where(Note.created_at > since)
    return _rows(session.execute(query.order_by(Note.created_at.desc(), Note.id.desc())
                                 .limit(limit)))


def important_dates_of(session: Session, user_id: int, contact_id: int
                       ) -> list[tuple[str, int, int]]:
    """(kind, month, day) of the contact's yearly dates."""
    return _rows(session.execute(select(ImportantDate.kind, ImportantDate.month,
                                        ImportantDate.day)
                                 .where(ImportantDate.user_id == user_id,
                                        ImportantDate.contact_id == contact_id)))


def important_date_kind(session: Session, user_id: int, date_id: int) -> str | None:
    return session.execute(select(ImportantDate.kind).where(
        ImportantDate.id == date_id, ImportantDate.user_id == user_id)).scalar()


# ------------------------------------------------------------------------------ nudges
@dataclass(frozen=True, slots=True)
class NudgeRow:
    """A nudge as `done`, `snooze` and `dismiss` act on it, with what names it in their answer:
    the contact's name, the note of a follow-up, the kind of a yearly date."""

    id: int
    contact_id: int
    note_id: int | None
    important_date_id: int | None
    reason: str
    status: str
    contact_name: str
    note_text: str | None
    date_kind: str | None


_NUDGE_ROWS = (select(Nudge.id, Nudge.contact_id, Nudge.note_id, Nudge.important_date_id,
                      Nudge.reason, Nudge.status, Contact.name, Note.text, ImportantDate.kind)
               .join(Contact, Contact.id == Nudge.contact_id)
               .outerjoin(Note, Note.id == Nudge.note_id)
               .outerjoin(ImportantDate, ImportantDate.id == Nudge.important_date_id))


def nudge_of_user(session: Session, user_id: int, workspace_id: int, nudge_id: int
                  ) -> NudgeRow | None:
    """The nudge when it belongs to this user; the same None for missing and foreign."""
    row = session.execute(_NUDGE_ROWS.where(
        Nudge.id == nudge_id, Nudge.user_id == user_id,
        Nudge.workspace_id == workspace_id)).first()
    return NudgeRow(*row) if row is not None else None


def nudges_of_user(session: Session, user_id: int, workspace_id: int,
                   nudge_ids: Sequence[int]) -> list[NudgeRow]:
    """Those of the nudges that belong to this user, in one read (a message's rows)."""
    return [NudgeRow(*row) for row in session.execute(_NUDGE_ROWS.where(
        Nudge.id.in_(list(nudge_ids)), Nudge.user_id == user_id,
        Nudge.workspace_id == workspace_id))]


def open_nudges_for_contact(session: Session, user_id: int, contact_id: int,
                            due_before: datetime, limit: int = 10) -> list[NudgeRow]:
    """The open nudges about a contact that are due (or nearly due), newest first."""
    rows = session.execute(_NUDGE_ROWS.where(
        Nudge.user_id == user_id, Nudge.contact_id == contact_id,
        Nudge.status.in_(OPEN_NUDGE_STATUSES), Nudge.due_at <= due_before)
        .order_by(Nudge.due_at.desc(), Nudge.id.desc()).limit(limit))
    return [NudgeRow(*row) for row in rows]


def nudge_owned_by(session: Session, nudge_id: int, *, platform: str, workspace_external_id: str,
                   user_external_id: str) -> bool:
    """Whether the nudge belongs to this platform user (no rows are created to find out)."""
    return session.execute(
        select(Nudge.id).join(User, User.id == Nudge.user_id)
        .join(Workspace, Workspace.id == Nudge.workspace_id)
        .where(Nudge.id == nudge_id, User.external_id == user_external_id,
               Workspace.platform == platform,
               Workspace.external_id == workspace_external_id)).first() is not None


def nudge_exists(session: Session, nudge_id: int) -> bool:
    """Whether a nudge with this id is still stored (a forgotten person's are not)."""
    return session.execute(select(Nudge.id).where(Nudge.id == nudge_id)).first() is not None


def suggestion_exists(session: Session, suggestion_id: int) -> bool:
    """Whether a suggestion with this id is still stored (a forgotten person's are not)."""
    return session.execute(
        select(Suggestion.id).where(Suggestion.id == suggestion_id)).first() is not None


def set_nudge_status(session: Session, nudge_id: int, status: NudgeStatus,
                     acted_at: datetime) -> None:
    session.execute(update(Nudge).where(Nudge.id == nudge_id)
                    .values(status=status, acted_at=acted_at)
                    .execution_options(synchronize_session=False))


def snooze_nudge(session: Session, nudge_id: int, deliver_after: datetime) -> None:
    session.execute(update(Nudge).where(Nudge.id == nudge_id).values(
        status=NudgeStatus.SNOOZED, snooze_count=Nudge.snooze_count + 1, lease_owner=None,
        deliver_after=deliver_after).execution_options(synchronize_session=False))


def close_cadence_nudges(session: Session, user_id: int, contact_id: int,
                         now: datetime) -> None:
    """A conversation answers the cadence nudges: sent ones are done, waiting ones moot."""
    _CLOSE_CADENCE_NUDGES.execute(session, b_contact=contact_id, b_user=user_id, b_now=now)


def close_cadence_nudges_of(session: Session, user_id: int, contact_ids: Iterable[int],
                            now: datetime) -> None:
    """`close_cadence_nudges` for many contacts: one statement however many."""
    wanted = list(set(contact_ids))
    if not wanted:
        return
    _CLOSE_CADENCE_NUDGES_OF.execute(session, b_contacts=wanted, b_user=user_id, b_now=now)


def _any_status(*statuses: NudgeStatus) -> ColumnElement[bool]:
    # Spelled out rather than `in_`: an IN list is rendered at execution, which a prepared
    # statement cannot be.
    return or_(*(Nudge.status == status for status in statuses))


# The cadence nudges a conversation answers: out (sent) or still to come.
_OPEN_CADENCE = (NudgeStatus.SENT, NudgeStatus.PLANNED, NudgeStatus.SNOOZED)


def _close_cadence(contacts: ColumnElement[bool], user_id: Any, now: Any) -> Any:
    """Sent cadence nudges of `contacts` are answered (done, acted on `now`), planned or
    snoozed ones are no longer needed (expired): one UPDATE for both."""
    return update(Nudge).where(
        contacts, Nudge.user_id == user_id, Nudge.reason == "cadence",
        _any_status(*_OPEN_CADENCE)
    ).values(
        status=case((Nudge.status == NudgeStatus.SENT, literal(NudgeStatus.DONE.value)),
                    else_=literal(NudgeStatus.EXPIRED.value)),
        acted_at=case((Nudge.status == NudgeStatus.SENT, now), else_=Nudge.acted_at))


_CLOSE_CADENCE_NUDGES = Prepared(_close_cadence(
    Nudge.contact_id == bindparam("b_contact"), bindparam("b_user"),
    bindparam("b_now", type_=UTCDateTime)))
_CLOSE_CADENCE_NUDGES_OF = Prepared(_close_cadence(
    in_json_list(Nudge.contact_id, "b_contacts"), bindparam("b_user"),
    bindparam("b_now", type_=UTCDateTime)))


_CLOCK_INPUTS_OF = Prepared(select(
    Contact.id, Contact.last_touch_at, Contact.cadence_days, Contact.created_at,
    Contact.cadence_months,
    select(Nudge.id).where(Nudge.contact_id == Contact.id,
                           Nudge.user_id == bindparam("user_id"), Nudge.reason == "cadence",
                           _any_status(*_OPEN_CADENCE)).exists(), User.tz)
    .join(User, User.id == Contact.user_id)
    .where(in_json_list(Contact.id, "contact_ids")))
_OPEN_CADENCE_NUDGES = Prepared(select(Nudge.id).where(
    Nudge.user_id == bindparam("user_id"), Nudge.contact_id == bindparam("contact_id"),
    Nudge.reason == "cadence", _any_status(*_OPEN_CADENCE)))


def open_cadence_nudge_ids(session: Session, user_id: int, contact_id: int) -> list[int]:
    """The contact's cadence nudges a conversation (or a new rhythm) would close."""
    return [row[0] for row in _OPEN_CADENCE_NUDGES.rows(session, user_id=user_id,
                                                        contact_id=contact_id)]


def cadence_nudges_out_of(session: Session, user_id: int, contact_ids: Iterable[int]
                          ) -> list[tuple[int, int]]:
    """(nudge id, contact id) of these contacts' cadence nudges out or on their way (sent or
    planned), not those snoozed: a snooze holds the rhythm until its end, which the person
    chose."""
    wanted = list(set(contact_ids))
    if not wanted:
        return []
    return [(nudge_id, contact_id) for nudge_id, contact_id in session.execute(
        select(Nudge.id, Nudge.contact_id).where(
            Nudge.user_id == user_id, Nudge.contact_id.in_(wanted), Nudge.reason == "cadence",
            _any_status(NudgeStatus.SENT, NudgeStatus.PLANNED)).order_by(Nudge.id))]


def contact_rows(session: Session, user_id: int, contact_id: int) -> dict[str, list[int]]:
    """Ids of every row that goes with a contact, table by table (what forgetting deletes)."""
    found: dict[str, list[int]] = {}
    for key, model in (("notes", Note), ("important_dates", ImportantDate),
                       ("touchpoints", Touchpoint), ("nudges", Nudge)):
        table = model.__table__
        found[key] = list(session.execute(select(table.c.id).where(
            table.c.user_id == user_id, table.c.contact_id == contact_id)
            .order_by(table.c.id)).scalars())
    found["contact_tags"] = list(contact_tag_ids(session, user_id, contact_id).values())
    found["drafts"] = list(session.execute(select(Draft.id).where(
        Draft.user_id == user_id,
        or_(Draft.contact_id == contact_id, Draft.nudge_id.in_(found["nudges"] or [-1])))
        .order_by(Draft.id)).scalars())
    found["suggestions"] = list(session.execute(select(Suggestion.id).where(
        Suggestion.user_id == user_id, Suggestion.contact_id == contact_id)
        .order_by(Suggestion.id)).scalars())
    return found


def expire_cadence_nudges(session: Session, contact_id: int, *, user_id: int,
                          with_sent: bool = False) -> None:
    """Close the contact's keep-in-touch nudges still to come; `with_sent`, the one out and
    unanswered too (the person turned the rhythm off: "due" must not list it)."""
    statuses = _OPEN_CADENCE if with_sent else (NudgeStatus.PLANNED, NudgeStatus.SNOOZED)
    session.execute(
        update(Nudge).where(Nudge.contact_id == contact_id, Nudge.user_id == user_id,
                            Nudge.reason == "cadence", Nudge.status.in_(statuses))
        .values(status=NudgeStatus.EXPIRED).execution_options(synchronize_session=False))


# A nudge that is out now: sent, or due and not acted on.
_OUT_NOW = or_(Nudge.status == NudgeStatus.SENT,
               _any_status(NudgeStatus.PLANNED, NudgeStatus.CLAIMED)
               & (Nudge.due_at <= bindparam("now", type_=UTCDateTime)))
_OPEN_NUDGES = Prepared(select(Nudge.id).where(Nudge.user_id == bindparam("user_id"), _OUT_NOW)
                        .order_by(Nudge.due_at, Nudge.id).limit(bindparam("limit")))
_OPEN_NUDGE_COUNT = Prepared(select(func.count()).select_from(Nudge)
                             .where(Nudge.user_id == bindparam("user_id"), _OUT_NOW))


def open_nudge_ids(session: Session, user_id: int, now: datetime, limit: int) -> list[int]:
    """Nudges due and not acted on, oldest first: sent ones, and planned ones past due."""
    return [row[0] for row in _OPEN_NUDGES.rows(session, user_id=user_id, now=now,
                                                limit=limit)]


def open_nudge_count(session: Session, user_id: int, now: datetime) -> int:
    """How many nudges are due and not acted on (`open_nudge_ids` without its limit)."""
    row = _OPEN_NUDGE_COUNT.first(session, user_id=user_id, now=now)
    assert row is not None  # an aggregate always has its row
    return int(row[0])


# What a nudge's wording needs: reason, contact, note, date and the user's zone. The sweep
# reads the same columns in its claim, joined the same way (`with_nudge_item_columns`).
NUDGE_ITEM_COLUMNS = (Nudge.id, Nudge.reason, Nudge.contact_id, Nudge.due_at, Contact.name,
                      Contact.company, Contact.cadence_days, Contact.last_touch_at, Note.text,
                      Note.created_at, ImportantDate.kind, ImportantDate.month,
                      ImportantDate.day, User.tz, Contact.cadence_months, ImportantDate.year)


def with_nudge_item_columns(query: Select[*tuple[Any, ...]]
                            ) -> Select[*tuple[Any, ...]]:
    """`query` on nudges (already joined to their user) with `NUDGE_ITEM_COLUMNS` added."""
    return (query.add_columns(*NUDGE_ITEM_COLUMNS)
            .join(Contact, Contact.id == Nudge.contact_id)
            .outerjoin(Note, Note.id == Nudge.note_id)
            .outerjoin(ImportantDate, ImportantDate.id == Nudge.important_date_id))


def nudge_item_rows(session: Session, nudge_ids: Iterable[int]) -> list[tuple[Any, ...]]:
    """`NUDGE_ITEM_COLUMNS` of the nudges."""
    return _rows(session.execute(with_nudge_item_columns(
        select().select_from(Nudge).join(User, User.id == Nudge.user_id))
        .where(Nudge.id.in_(list(nudge_ids)))))


_LATEST = (select(Touchpoint.contact_id, func.max(Touchpoint.happened_at).label("at"))
           .where(in_json_list(Touchpoint.contact_id, "contact_ids"))
           .group_by(Touchpoint.contact_id).subquery())
_LATEST_TOUCHES = Prepared(
    select(Touchpoint.contact_id, Touchpoint.kind, Touchpoint.happened_at, Touchpoint.summary)
    .join(_LATEST, and_(_LATEST.c.contact_id == Touchpoint.contact_id,
                        _LATEST.c.at == Touchpoint.happened_at)))


def latest_touches(session: Session, contact_ids: Iterable[int]
                   ) -> dict[int, tuple[str, datetime, str | None]]:
    """contact id -> (kind, happened_at, summary) of its newest touchpoint."""
    ids = list(contact_ids)
    if not ids:
        return {}
    return {contact_id: (kind, happened_at, summary)
            for contact_id, kind, happened_at, summary in _LATEST_TOUCHES.rows(
                session, contact_ids=ids)}


# ------------------------------------------------------------------------------ overview
# Whose rhythm has come due without a nudge out about them (or whose moment is still to
# come today), and whose rhythm falls due later: two reads, each with its own limit, so
# neither list crowds out the other, and whether a nudge is out is asked of every nudge, not
# only of those a list of open nudges has room for.
_COME_DUE_CONTACTS = Prepared(
    select(Contact.name, Contact.next_due_at, Contact.plan_at)
    .where(Contact.user_id == bindparam("user_id"), Contact.next_due_at.is_not(None),
           Contact.next_due_at < bindparam("until", type_=UTCDateTime),
           or_(Contact.next_due_at > bindparam("now", type_=UTCDateTime),
               # The rhythm's own nudge: one about a note of theirs out beside a snoozed
               # rhythm nudge must not hide that one.
               ~select(Nudge.id).where(Nudge.contact_id == Contact.id,
                                       Nudge.reason == "cadence", _OUT_NOW).exists()))
    .order_by(Contact.next_due_at, Contact.id).limit(bindparam("limit")))
_UPCOMING_CONTACTS = Prepared(
    select(Contact.name, Contact.next_due_at, Contact.plan_at)
    .where(Contact.user_id == bindparam("user_id"),
           Contact.next_due_at >= bindparam("after", type_=UTCDateTime),
           Contact.next_due_at <= bindparam("horizon", type_=UTCDateTime))
    .order_by(Contact.next_due_at, Contact.id).limit(bindparam("limit")))


def come_due_contacts(session: Session, user_id: int, now: datetime, until: datetime,
                      limit: int = 20) -> list[tuple[str, datetime, datetime | None]]:
    """(name, next_due_at, plan_at) of rhythms come due before `until` with no rhythm nudge
    out now (any rhythm whose moment is still after `now` counts), soonest first."""
    return [(name, at, plan) for name, at, plan in _COME_DUE_CONTACTS.rows(
        session, user_id=user_id, now=now, until=until, limit=limit) if at is not None]


def upcoming_contacts(session: Session, user_id: int, after: datetime, horizon: datetime,
                      limit: int = 20) -> list[tuple[str, datetime, datetime | None]]:
    """(name, next_due_at, plan_at) of rhythms falling due from `after` to `horizon`."""
    return [(name, at, plan) for name, at, plan in _UPCOMING_CONTACTS.rows(
        session, user_id=user_id, after=after, horizon=horizon, limit=limit)
        if at is not None]


_LONGEST_QUIET = Prepared(
    select(Contact.name, Contact.last_touch_at)
    .where(Contact.user_id == bindparam("user_id"),
           Contact.last_touch_at <= bindparam("before", type_=UTCDateTime))
    .order_by(Contact.last_touch_at, Contact.id).limit(bindparam("limit")))
_NEVER_TALKED = Prepared(
    select(Contact.name)
    .where(Contact.user_id == bindparam("user_id"), Contact.last_touch_at.is_(None))
    .order_by(Contact.name_key, Contact.id).limit(bindparam("limit")))
_NEVER_TALKED_COUNT = Prepared(
    select(func.count())
    .where(Contact.user_id == bindparam("user_id"), Contact.last_touch_at.is_(None)))


def longest_quiet(session: Session, user_id: int, before: datetime, limit: int
                  ) -> list[tuple[str, datetime]]:
    """(name, last_touch_at) of the people last talked to at or before `before`, oldest
    first."""
    return [(name, at) for name, at in _LONGEST_QUIET.rows(session, user_id=user_id,
                                                            before=before, limit=limit)]


def never_talked(session: Session, user_id: int, limit: int) -> tuple[list[str], int]:
    """(the first names by name, how many in all) of the people with no conversation
    logged."""
    names = [name for (name,) in _NEVER_TALKED.rows(session, user_id=user_id, limit=limit)]
    if len(names) < limit:
        return names, len(names)
    row = _NEVER_TALKED_COUNT.first(session, user_id=user_id)
    assert row is not None  # an aggregate always has its row
    return names, int(row[0])


_PEOPLE_COUNTS = Prepared(select(func.count(), func.count(Contact.cadence_days))
                          .where(Contact.user_id == bindparam("user_id")))


def people_counts(session: Session, user_id: int) -> tuple[int, int]:
    """(contacts, contacts with a rhythm) of the user."""
    row = _PEOPLE_COUNTS.first(session, user_id=user_id)
    assert row is not None  # an aggregate always has its row
    return int(row[0]), int(row[1])


_UPCOMING_FOLLOW_UPS = Prepared(
    select(Contact.name, Note.text, Note.follow_up_on, Contact.id)
    .join(Contact, Contact.id == Note.contact_id)
    .where(Note.user_id == bindparam("user_id"), Note.plan_at.is_not(None),
           Note.plan_at <= bindparam("horizon", type_=UTCDateTime))
    .order_by(Note.plan_at).limit(bindparam("limit")))


def upcoming_follow_ups(session: Session, user_id: int, horizon: datetime,
                        limit: int = 20) -> list[tuple[str, str, date | None, int]]:
    """(name, note text, follow_up_on, contact id) of follow-ups planned before `horizon`."""
    return _UPCOMING_FOLLOW_UPS.rows(session, user_id=user_id, horizon=horizon, limit=limit)


_UPCOMING_DATES = Prepared(
    select(Contact.name, ImportantDate.kind, ImportantDate.month, ImportantDate.day,
           ImportantDate.year, ImportantDate.plan_at, Contact.id)
    .join(Contact, Contact.id == ImportantDate.contact_id)
    .where(ImportantDate.user_id == bindparam("user_id"), ImportantDate.plan_at.is_not(None),
           ImportantDate.plan_at <= bindparam("horizon", type_=UTCDateTime))
    .order_by(ImportantDate.plan_at, ImportantDate.id).limit(bindparam("limit")))


def upcoming_dates(session: Session, user_id: int, horizon: datetime, limit: int = 20
                   ) -> list[tuple[str, str, int, int, int | None, datetime, int]]:
    """(name, kind, month, day, year, plan_at, contact id) of the birthdays and work
    anniversaries whose reminder is planned before `horizon` (not yet made into a nudge)."""
    return [(name, kind, month, day, year, plan_at, contact_id)
            for name, kind, month, day, year, plan_at, contact_id
            in _UPCOMING_DATES.rows(session, user_id=user_id, horizon=horizon, limit=limit)]


# The user's snoozed nudges, soonest back first: the rhythm ones whenever they come back (an
# overdue person's next reminder may be weeks away), the others when they come back before
# the horizon. One range of the (user, status) index.
_SNOOZED_NUDGES = Prepared(
    select(Nudge.reason, Nudge.deliver_after, Nudge.due_at, Contact.name, Note.text,
           ImportantDate.kind, ImportantDate.month, ImportantDate.day, ImportantDate.year,
           Contact.id)
    .join(Contact, Contact.id == Nudge.contact_id)
    .outerjoin(Note, Note.id == Nudge.note_id)
    .outerjoin(ImportantDate, ImportantDate.id == Nudge.important_date_id)
    .where(Nudge.user_id == bindparam("user_id"), Nudge.status == NudgeStatus.SNOOZED,
           or_(Nudge.reason == "cadence",
               Nudge.deliver_after <= bindparam("horizon", type_=UTCDateTime)))
    .order_by(Nudge.deliver_after, Nudge.id).limit(bindparam("limit")))


def snoozed_nudges(session: Session, user_id: int, horizon: datetime, limit: int
                   ) -> list[tuple[Any, ...]]:
    """(reason, deliver_after, due_at, contact name, note text, date kind, month, day,
    year, contact id) of the user's snoozed nudges: every rhythm one, the others back before
    `horizon`."""
    return _SNOOZED_NUDGES.rows(session, user_id=user_id, horizon=horizon, limit=limit)


# One person's snoozed nudges, soonest back first, however far off: the person card's next
# nudge and the notes whose follow-up was put off.
_SNOOZED_NUDGES_OF_CONTACT = Prepared(
    select(Nudge.deliver_after, Nudge.note_id)
    .where(Nudge.user_id == bindparam("user_id"), Nudge.status == NudgeStatus.SNOOZED,
           Nudge.contact_id == bindparam("contact_id"))
    .order_by(Nudge.deliver_after, Nudge.id).limit(bindparam("limit")))


def snoozed_nudges_of_contact(session: Session, user_id: int, contact_id: int, limit: int
                              ) -> list[tuple[datetime, int | None]]:
    """(deliver_after, note id of a follow-up) of the contact's snoozed nudges, soonest back
    first."""
    return _SNOOZED_NUDGES_OF_CONTACT.rows(session, user_id=user_id, contact_id=contact_id,
                                           limit=limit)


def people_rows(session: Session, user_id: int, limit: int, tag_id: int | None = None
                ) -> list[tuple[Any, ...]]:
    """(id, name, company, kind, cadence_days, last_touch_at, next_due_at, cadence_months)
    by name; only the people carrying `tag_id` when it is given."""
    query = (select(Contact.id, Contact.name, Contact.company, Contact.kind,
                    Contact.cadence_days, Contact.last_touch_at, Contact.next_due_at,
                    Contact.cadence_months)
             .where(Contact.user_id == user_id))
    if tag_id is not None:
        query = query.join(ContactTag, ContactTag.contact_id == Contact.id).where(
            ContactTag.tag_id == tag_id)
    return _rows(session.execute(query.order_by(Contact.name_key).limit(limit)))


# ------------------------------------------------------------------------------ stats
def touch_counts(session: Session, user_id: int, *, week_ago: datetime, month_ago: datetime,
                 now: datetime) -> tuple[int, int, int]:
    """(touchpoints in the week, in the month, distinct people in the week)."""
    return session.execute(
        select(func.count().filter(Touchpoint.happened_at >= week_ago), func.count(),
               func.count(Touchpoint.contact_id.distinct()).filter(
                   Touchpoint.happened_at >= week_ago))
        .where(Touchpoint.user_id == user_id, Touchpoint.happened_at >= month_ago,
               Touchpoint.happened_at <= now)).one()


def automatic_touch_counts(session: Session, user_id: int, *, month_ago: datetime,
                           now: datetime) -> dict[str, int]:
    """source -> touchpoints Rapport logged by itself (calendar, ...) in the month."""
    return {source: count for source, count in session.execute(
        select(Touchpoint.source, func.count())
        .where(Touchpoint.user_id == user_id, Touchpoint.happened_at >= month_ago,
               Touchpoint.happened_at <= now, Touchpoint.source.in_(AUTOMATIC_SOURCES))
        .group_by(Touchpoint.source))}


def nudge_outcomes(session: Session, user_id: int
                   ) -> list[tuple[str, int, datetime | None, datetime | None]]:
    """(status, snooze_count, delivered_at, acted_at) of every nudge of the user."""
    return _rows(session.execute(
        select(Nudge.status, Nudge.snooze_count, Nudge.delivered_at, Nudge.acted_at)
        .where(Nudge.user_id == user_id)))


def contact_rhythms(session: Session, user_id: int
                    ) -> list[tuple[int, str, int | None, datetime | None]]:
    """(id, name, cadence_days, next_due_at) of every contact."""
    return _rows(session.execute(
        select(Contact.id, Contact.name, Contact.cadence_days, Contact.next_due_at)
        .where(Contact.user_id == user_id)))


def draft_outcomes(session: Session, user_id: int) -> list[tuple[str | None, int | None]]:
    """(outcome, edit_distance) of every draft."""
    return _rows(session.execute(select(Draft.outcome, Draft.edit_distance)
                                .where(Draft.user_id == user_id)))


# ------------------------------------------------------------------------------ drafts
def draft_contact(session: Session, user_id: int, workspace_id: int, contact_id: int
                  ) -> tuple[str, str | None, str | None] | None:
    """(name, company, platform_user_id) of a contact the user owns."""
    return _first(session.execute(select(Contact.name, Contact.company, Contact.platform_user_id)
                           .where(Contact.id == contact_id, Contact.user_id == user_id,
                                  Contact.workspace_id == workspace_id)).first())


def nudge_reason(session: Session, user_id: int, contact_id: int, nudge_id: int
                 ) -> tuple[str, int | None, int | None] | None:
    """(reason, note_id, important_date_id) of the user's nudge about the contact."""
    return _first(session.execute(select(Nudge.reason, Nudge.note_id, Nudge.important_date_id)
                           .where(Nudge.id == nudge_id, Nudge.user_id == user_id,
                                  Nudge.contact_id == contact_id)).first())


def insert_draft(session: Session, **values: Any) -> int:
    return session.execute(insert(Draft).values(**values).returning(Draft.id)).scalar_one()


def draft_with_contact(session: Session, user_id: int, workspace_id: int, draft_id: int
                       ) -> tuple[Any, ...] | None:
    """(draft text, provider, outcome, contact name, contact platform id, disclosure policy,
    model, contact id, nudge id)."""
    return _first(session.execute(
        select(Draft.draft_text, Draft.provider, Draft.outcome, Contact.name,
               Contact.platform_user_id, Workspace.disclosure_policy, Draft.model,
               Draft.contact_id, Draft.nudge_id)
        .join(Workspace, Workspace.id == Draft.workspace_id)
        .outerjoin(Contact, Contact.id == Draft.contact_id)
        .where(Draft.id == draft_id, Draft.user_id == user_id,
               Draft.workspace_id == workspace_id)).first())


def finish_draft(session: Session, user_id: int, draft_id: int, **values: Any) -> bool:
    """Record a draft's outcome once; False when it was already finished."""
    result = session.execute(update(Draft).where(Draft.id == draft_id, Draft.user_id == user_id,
                                                 Draft.outcome.is_(None)).values(**values))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def draft_count(session: Session, user_id: int, contact_id: int) -> int:
    return session.execute(select(func.count()).select_from(Draft).where(
        Draft.user_id == user_id, Draft.contact_id == contact_id)).scalar_one()


def set_workspace_active(session: Session, platform: str, external_id: str,
                         active: bool, now: datetime) -> None:
    """Start or stop deliveries to a workspace (install, uninstall, revoked bot token).

    Stopping also starts the grace period after which the workspace's data is purged
    (the first moment is kept when it stops twice); starting again cancels the purge.
    """
    uninstalled_at = None if active else func.coalesce(
        Workspace.uninstalled_at, literal(now, UTCDateTime()))
    session.execute(update(Workspace).where(Workspace.platform == platform,
                                            Workspace.external_id == external_id)
                    .values(active=active, uninstalled_at=uninstalled_at))


def set_workspace_policy(session: Session, *, platform: str | None, external_id: str | None,
                         values: Mapping[str, object], workspace_id: int | None = None) -> int:
    """Set AI policy columns on matching workspaces (all of them when every filter is None)."""
    statement = update(Workspace).values(**values)
    if workspace_id is not None:
        statement = statement.where(Workspace.id == workspace_id)
    if platform is not None:
        statement = statement.where(Workspace.platform == platform)
    if external_id is not None:
        statement = statement.where(Workspace.external_id == external_id)
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class WorkspacePolicy:
    """A workspace's admin settings (`admin status`)."""

    ai_enabled: bool
    disclosure_policy: str
    retention_months: int | None


def workspace_policy(session: Session, workspace_id: int) -> WorkspacePolicy | None:
    row = session.execute(select(Workspace.ai_enabled, Workspace.disclosure_policy,
                                 Workspace.retention_months)
                          .where(Workspace.id == workspace_id)).first()
    return WorkspacePolicy(bool(row[0]), str(row[1]), row[2]) if row is not None else None


def set_workspace_retention(session: Session, workspace_id: int, months: int | None) -> int:
    """Keep touchpoint summaries and notes `months` months (None: forever); row count."""
    return int(session.execute(update(Workspace).where(Workspace.id == workspace_id)
                               .values(retention_months=months)).rowcount)  # type: ignore[attr-defined]


# What `admin purge` names before it deletes: (label, table), counted in one workspace.
WORKSPACE_COUNTED: tuple[tuple[str, type[Base]], ...] = (
    ("people using Rapport", User), ("contacts", Contact), ("conversations", Touchpoint),
    ("notes", Note), ("nudges", Nudge), ("drafts", Draft))


def workspace_counts(session: Session, workspace_id: int) -> list[tuple[str, int]]:
    """How many rows of each kind one workspace holds (counts only, nobody's data)."""
    counts: list[tuple[str, int]] = []
    for label, model in WORKSPACE_COUNTED:
        column = model.__table__.c.workspace_id
        counts.append((label, int(session.execute(
            select(func.count()).select_from(model).where(column == workspace_id)
        ).scalar_one())))
    return counts


# ------------------------------------------------------------------------------ data rights
EXPORTED_TABLES: dict[str, type[Base]] = {
    "contacts": Contact, "touchpoints": Touchpoint, "notes": Note,
    "important_dates": ImportantDate, "nudges": Nudge, "drafts": Draft,
    "conversation_refs": ConversationRef, "tags": Tag, "contact_tags": ContactTag,
    "suggestions": Suggestion, "undo_history": UndoEntry,
    "forgotten_addresses": ForgottenAddress,
    # Where each meeting brief and weekly summary went (to clear it after a forget).
    "briefs_and_summaries_delivered": DeliveredMessageRecord}


def chat_capture_providers(session: Session, user_id: int) -> tuple[str, ...]:
    """Platforms whose DMs the user lets Rapport log (`settings capture slack on`)."""
    return tuple(session.scalars(select(ChatGrant.provider).where(ChatGrant.user_id == user_id)
                                 .order_by(ChatGrant.provider)))


def calendar_states(session: Session, user_id: int
                    ) -> tuple[tuple[str, str, str | None], ...]:
    """(provider, status, account address once a sync has learnt it) of the user's calendars
    that are connected or paused (a disconnected one is kept only so its meetings are not
    logged twice)."""
    c = CalendarConnection
    return tuple((row.provider, row.status, row.account_email) for row in session.execute(
        select(c.provider, c.status, c.account_email)
        .where(c.user_id == user_id, c.status != "revoked").order_by(c.provider)))


_MEETINGS_AHEAD = Prepared(
    select(CapturedEvent.start_at, CapturedAttendee.contact_id, Contact.name)
    .join(CalendarConnection, CalendarConnection.id == CapturedEvent.connection_id)
    .join(CapturedAttendee, CapturedAttendee.captured_event_id == CapturedEvent.id)
    .join(Contact, Contact.id == CapturedAttendee.contact_id)
    .where(CapturedEvent.user_id == bindparam("user_id"),
           CapturedEvent.start_at >= bindparam("start"), CapturedEvent.start_at < bindparam("end"),
           CalendarConnection.status == "active", Contact.user_id == bindparam("user_id"))
    .order_by(CapturedEvent.start_at, Contact.name_key, Contact.id))


_NEXT_MEETING_WITH = Prepared(
    select(func.min(CapturedEvent.start_at))
    .join(CalendarConnection, CalendarConnection.id == CapturedEvent.connection_id)
    .join(CapturedAttendee, CapturedAttendee.captured_event_id == CapturedEvent.id)
    .where(CapturedAttendee.contact_id == bindparam("contact_id"),
           CapturedEvent.user_id == bindparam("user_id"),
           CapturedEvent.start_at >= bindparam("start"), CalendarConnection.status == "active"))


def next_meeting_with(session: Session, user_id: int, contact_id: int, start: datetime
                      ) -> datetime | None:
    """When the user's next meeting with the contact starts (from `start` on), in their
    connected calendars; None when none holds one."""
    found: datetime | None = _NEXT_MEETING_WITH.scalar(session, user_id=user_id,
                                                       contact_id=contact_id, start=start)
    return found


def meetings_ahead(session: Session, user_id: int, start: datetime, end: datetime
                   ) -> list[tuple[Any, ...]]:
    """(start, contact id, contact name) for each of the user's people in each meeting of
    their connected calendars that starts from `start` up to (not including) `end`, by
    start then name: a meeting held in two calendars gives its people twice."""
    return _MEETINGS_AHEAD.rows(session, user_id=user_id, start=start, end=end)


def chat_capture_rows(session: Session, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """The user's chat capture for `export`: grants (never the token) and logged days."""
    g, d = ChatGrant, CapturedChat
    grants = [dict(row._mapping) for row in session.execute(
        select(g.id, g.provider, g.external_user_id, g.scopes, g.granted_at)
        .where(g.user_id == user_id).order_by(g.id))]
    days = [dict(row._mapping) for row in session.execute(
        select(d.id, d.provider, d.contact_id, d.day, d.touchpoint_id, d.logged_at)
        .where(d.user_id == user_id).order_by(d.day, d.contact_id))]
    return {"chat_capture": grants, "chat_days_logged": days}


def user_rows(session: Session, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row Rapport keeps for the user, table by table, as plain column values."""
    result: dict[str, list[dict[str, Any]]] = {
        "user": [dict(row._mapping) for row in session.execute(
            select(User.__table__).where(User.id == user_id))]}
    for key, model in EXPORTED_TABLES.items():
        table = model.__table__
        result[key] = [dict(row._mapping) for row in session.execute(
            select(table).where(table.c.user_id == user_id).order_by(table.c.id))]
    named: dict[int, list[int]] = {}
    for message_id, contact_id in session.execute(
            select(DeliveredMessagePerson.delivered_message_id, DeliveredMessagePerson.contact_id)
            .join(DeliveredMessageRecord,
                  DeliveredMessageRecord.id == DeliveredMessagePerson.delivered_message_id)
            .where(DeliveredMessageRecord.user_id == user_id)
            .order_by(DeliveredMessagePerson.contact_id)):
        named.setdefault(message_id, []).append(contact_id)
    for message in result["briefs_and_summaries_delivered"]:
        message["names_contact_ids"] = named.get(message["id"], [])
    # Export offers and uploads waiting for the person's answer (a few minutes at most).
    result["files_waiting"] = pending_file_rows(session, user_id)
    return result


# ------------------------------------------------------------------------------ tags and goals
@dataclass(frozen=True, slots=True)
class TagRow:
    id: int
    name: str
    goal_cadence_days: int | None


def tag_by_key(session: Session, user_id: int, key: str) -> TagRow | None:
    """The user's tag with this key (one unique-index lookup)."""
    row = session.execute(select(Tag.id, Tag.name, Tag.goal_cadence_days)
                          .where(Tag.user_id == user_id, Tag.name_key == key)).first()
    return TagRow(*row) if row is not None else None


def insert_tag(session: Session, *, workspace_id: int, user_id: int, name: str, key: str,
               now: datetime) -> int:
    return session.execute(insert(Tag).values(
        workspace_id=workspace_id, user_id=user_id, name=name, name_key=key, created_at=now)
        .returning(Tag.id)).scalar_one()


def set_tag_goal(session: Session, user_id: int, tag_id: int, days: int | None,
                 now: datetime) -> None:
    session.execute(update(Tag).where(Tag.id == tag_id, Tag.user_id == user_id)
                    .values(goal_cadence_days=days, goal_set_at=now if days else None)
                    .execution_options(synchronize_session=False))


@dataclass(frozen=True, slots=True)
class OwnRhythmRow:
    """A person whose rhythm is their own (`every`, `goal <person>`), and when you last talked."""

    name: str
    cadence_days: int
    cadence_months: int | None
    last_touch_at: datetime | None
    next_due_at: datetime | None = None


def own_rhythms(session: Session, user_id: int) -> list[OwnRhythmRow]:
    """Every person of the user with a rhythm of their own, by name."""
    rows = session.execute(
        select(Contact.name, Contact.cadence_days, Contact.cadence_months,
               Contact.last_touch_at, Contact.next_due_at)
        .where(Contact.user_id == user_id, Contact.cadence_own.is_(True),
               Contact.cadence_days.is_not(None))
        .order_by(Contact.name_key))
    return [OwnRhythmRow(name, days, months, last, due) for name, days, months, last, due
            in rows if days is not None]


def user_tags(session: Session, user_id: int) -> list[tuple[TagRow, int]]:
    """Every tag of the user with how many people carry it, by name."""
    rows = session.execute(
        select(Tag.id, Tag.name, Tag.goal_cadence_days, func.count(ContactTag.id))
        .outerjoin(ContactTag, ContactTag.tag_id == Tag.id)
        .where(Tag.user_id == user_id)
        .group_by(Tag.id, Tag.name, Tag.goal_cadence_days, Tag.name_key)
        .order_by(Tag.name_key))
    return [(TagRow(tag_id, name, goal), count) for tag_id, name, goal, count in rows]


def tag_contact(session: Session, *, workspace_id: int, user_id: int, contact_id: int,
                tag_id: int, now: datetime) -> int | None:
    """Put a tag on a contact: the new row's id; None when it was there already."""
    exists = session.execute(select(ContactTag.id).where(
        ContactTag.contact_id == contact_id, ContactTag.tag_id == tag_id)).first()
    if exists is not None:
        return None
    return int(session.execute(insert(ContactTag).values(
        workspace_id=workspace_id, user_id=user_id, contact_id=contact_id, tag_id=tag_id,
        created_at=now).returning(ContactTag.id)).scalar_one())


def contact_tag_ids(session: Session, user_id: int, contact_id: int) -> dict[int, int]:
    """tag id -> the id of the row putting it on this contact."""
    return {tag_id: row_id for row_id, tag_id in session.execute(
        select(ContactTag.id, ContactTag.tag_id).where(
            ContactTag.user_id == user_id, ContactTag.contact_id == contact_id))}


def untag_contact(session: Session, user_id: int, contact_id: int, tag_id: int) -> bool:
    """Take a tag off a contact; False when it was not there."""
    result = session.execute(delete(ContactTag).where(
        ContactTag.user_id == user_id, ContactTag.contact_id == contact_id,
        ContactTag.tag_id == tag_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def tag_member_ids(session: Session, user_id: int, tag_id: int) -> list[int]:
    return list(session.execute(select(ContactTag.contact_id).where(
        ContactTag.user_id == user_id, ContactTag.tag_id == tag_id)).scalars())


# One statement for one person's card (`show`) and for a page of people alike: the ids are
# one JSON parameter.
_TAGS_OF_CONTACTS = Prepared(
    select(ContactTag.contact_id, Tag.name).join(Tag, Tag.id == ContactTag.tag_id)
    .where(ContactTag.user_id == bindparam("user_id"),
           in_json_list(ContactTag.contact_id, "contact_ids"))
    .order_by(Tag.name_key))


def tags_of_contacts(session: Session, user_id: int, contact_ids: Iterable[int]
                     ) -> dict[int, list[str]]:
    """contact id -> its tag names, by name (for the people list, show and imports)."""
    ids = list(contact_ids)
    if not ids:
        return {}
    result: dict[int, list[str]] = {}
    for contact_id, name in _TAGS_OF_CONTACTS.rows(session, user_id=user_id,
                                                   contact_ids=ids):
        result.setdefault(contact_id, []).append(name)
    return result


def goal_cadences(session: Session, user_id: int, contact_ids: Iterable[int]
                  ) -> dict[int, int]:
    """contact id -> the shortest goal among its tags (contacts without a goal are left out)."""
    ids = list(contact_ids)
    if not ids:
        return {}
    return {contact_id: days for contact_id, days in session.execute(
        select(ContactTag.contact_id, func.min(Tag.goal_cadence_days))
        .join(Tag, Tag.id == ContactTag.tag_id)
        .where(ContactTag.user_id == user_id, ContactTag.contact_id.in_(ids),
               Tag.goal_cadence_days.is_not(None))
        .group_by(ContactTag.contact_id)) if days is not None}


@dataclass(frozen=True, slots=True)
class GoalState:
    """What applying a goal's cadence to a contact needs."""

    id: int
    cadence_days: int | None
    goal_cadence_days: int | None
    last_touch_at: datetime | None
    created_at: datetime
    cadence_own: bool
    cadence_months: int | None

    @property
    def follows_goal(self) -> bool:
        """Whether `cadence_days` is the goals' (not a rhythm of the person's own)."""
        return not self.cadence_own


def goal_states(session: Session, user_id: int, contact_ids: Iterable[int]) -> list[GoalState]:
    ids = list(contact_ids)
    if not ids:
        return []
    return [GoalState(*row) for row in session.execute(
        select(Contact.id, Contact.cadence_days, Contact.goal_cadence_days,
               Contact.last_touch_at, Contact.created_at, Contact.cadence_own,
               Contact.cadence_months)
        .where(Contact.user_id == user_id, Contact.id.in_(ids)))]


@dataclass(frozen=True, slots=True)
class GoalMemberRow:
    contact_id: int
    cadence_days: int | None
    created_at: datetime
    # Their own rhythm in calendar months (`every Dana monthly`), None otherwise.
    cadence_months: int | None = None


@dataclass(frozen=True, slots=True)
class GoalGroup:
    """A goal (a tag with a cadence) and the people who carry its tag."""

    tag: str
    cadence_days: int
    members: tuple[GoalMemberRow, ...]


def goal_members(session: Session, user_id: int) -> list[GoalGroup]:
    """Every goal of the user, by tag name, with its people: each with their own rhythm, or
    None where they follow goals (then each goal measures them by its own cadence, not by the
    shortest of their goals, which is what `contacts.cadence_days` holds for them)."""
    groups: dict[int, tuple[str, int, list[GoalMemberRow]]] = {}
    for tag_id, name, days, contact_id, cadence, own, created_at, months in session.execute(
            select(Tag.id, Tag.name, Tag.goal_cadence_days, Contact.id, Contact.cadence_days,
                   Contact.cadence_own, Contact.created_at, Contact.cadence_months)
            .outerjoin(ContactTag, ContactTag.tag_id == Tag.id)
            .outerjoin(Contact, Contact.id == ContactTag.contact_id)
            .where(Tag.user_id == user_id, Tag.goal_cadence_days.is_not(None))
            .order_by(Tag.name_key, Contact.id)):
        group = groups.setdefault(tag_id, (name, days or 0, []))
        if contact_id is not None:
            group[2].append(GoalMemberRow(contact_id, cadence if own else None, created_at,
                                          months if own else None))
    return [GoalGroup(name, days, tuple(members)) for name, days, members in groups.values()]


def touch_moments(session: Session, user_id: int, contact_ids: Iterable[int], *,
                  since: datetime, until: datetime) -> dict[int, list[datetime]]:
    """contact id -> when its conversations happened in (since, until], oldest first."""
    ids = list(contact_ids)
    if not ids:
        return {}
    result: dict[int, list[datetime]] = {}
    for contact_id, at in session.execute(
            select(Touchpoint.contact_id, Touchpoint.happened_at)
            .where(Touchpoint.user_id == user_id, Touchpoint.happened_at > since,
                   Touchpoint.happened_at <= until, Touchpoint.contact_id.in_(ids))
            .order_by(Touchpoint.happened_at)):
        result.setdefault(contact_id, []).append(at)
    return result


# ------------------------------------------------------------------------------ person AI control
@dataclass(frozen=True, slots=True)
class PersonFlags:
    """A contact's per-person AI control and tags (what `show` adds as badges)."""

    name: str
    ai_drafts: bool
    sensitive: bool
    tags: tuple[str, ...]


_PERSON_FLAGS = Prepared(select(Contact.name, Contact.ai_drafts, Contact.sensitive)
                         .where(Contact.id == bindparam("contact_id"),
                                Contact.user_id == bindparam("user_id")))


def person_flags(session: Session, user_id: int, contact_id: int) -> PersonFlags | None:
    row = _PERSON_FLAGS.first(session, user_id=user_id, contact_id=contact_id)
    if row is None:
        return None
    tags = tuple(tags_of_contacts(session, user_id, [contact_id]).get(contact_id, ()))
    return PersonFlags(row[0], bool(row[1]), bool(row[2]), tags)


def contact_ai_mode(session: Session, user_id: int, contact_id: int
                    ) -> tuple[bool, bool] | None:
    """(AI drafts allowed, sensitive) for one of the user's contacts."""
    row = session.execute(select(Contact.ai_drafts, Contact.sensitive).where(
        Contact.id == contact_id, Contact.user_id == user_id)).first()
    return (bool(row[0]), bool(row[1])) if row is not None else None


# ------------------------------------------------------------------------------ draft measures
def nudge_outcomes_by_id(session: Session, user_id: int
                         ) -> list[tuple[int, str, int, datetime | None, datetime | None]]:
    """(id, status, snooze_count, delivered_at, acted_at) of every nudge of the user."""
    return _rows(session.execute(
        select(Nudge.id, Nudge.status, Nudge.snooze_count, Nudge.delivered_at, Nudge.acted_at)
        .where(Nudge.user_id == user_id)))


def draft_measures(session: Session, user_id: int
                   ) -> list[tuple[int | None, str | None, int | None, int]]:
    """(nudge_id, outcome, edit_distance, length of the draft) of every draft."""
    return _rows(session.execute(
        select(Draft.nudge_id, Draft.outcome, Draft.edit_distance, Draft.draft_length)
        .where(Draft.user_id == user_id)))


# ------------------------------------------------------------------------------ suggestions
@dataclass(frozen=True, slots=True)
class SuggestionUser:
    """A user the suggestion rules look at, with what the timing rules need."""

    user_id: int
    workspace_id: int
    tz: str
    window_start: int
    window_end: int
    working_days: int
    silenced: tuple[str, ...]
    checked_at: datetime | None


def silenced_kinds(value: str | None) -> tuple[str, ...]:
    """'window,coffee' -> ('window', 'coffee')."""
    return tuple(kind for kind in (value or "").split(",") if kind)


def users_due_for_suggestions(session: Session, checked_before: datetime, limit: int,
                              after_id: int = 0) -> list[SuggestionUser]:
    """Active users not looked at since `checked_before` who have people (or met someone
    in a calendar meeting), by id after `after_id`."""
    has_people = or_(select(Contact.id).where(Contact.user_id == User.id).exists(),
                     select(MetPerson.id).where(MetPerson.user_id == User.id).exists())
    return [SuggestionUser(uid, wid, tz, start, end, days, silenced_kinds(silenced), checked)
            for uid, wid, tz, start, end, days, silenced, checked in session.execute(
                select(User.id, User.workspace_id, User.tz, User.window_start_minute,
                       User.window_end_minute, User.working_days, User.suggestions_silenced,
                       User.suggestions_checked_at)
                .where(User.id > after_id, User.active.is_(True), has_people,
                       or_(User.suggestions_checked_at.is_(None),
                           User.suggestions_checked_at <= checked_before))
                .order_by(User.id).limit(limit))]


def claim_suggestion_check(session: Session, user_id: int, previous: datetime | None,
                           now: datetime) -> bool:
    """Mark the user checked now, unless another replica did since `previous` was read."""
    condition = User.suggestions_checked_at.is_(None) if previous is None \
        else User.suggestions_checked_at == previous
    result = session.execute(update(User).where(User.id == user_id, condition)
                             .values(suggestions_checked_at=now)
                             .execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def set_suggestions_silenced(session: Session, user_id: int, kinds: Iterable[str]) -> None:
    update_user(session, user_id, suggestions_silenced=",".join(sorted(set(kinds)))[:120])


def user_silenced_kinds(session: Session, user_id: int) -> tuple[str, ...]:
    return silenced_kinds(session.execute(select(User.suggestions_silenced)
                                          .where(User.id == user_id)).scalar())


def people_for_rules(session: Session, user_id: int) -> list[Any]:
    """(id, name, cadence_days, last_touch_at, cadence_months) of every contact."""
    return list(session.execute(select(Contact.id, Contact.name, Contact.cadence_days,
                                       Contact.last_touch_at, Contact.cadence_months)
                                .where(Contact.user_id == user_id)).all())


def cadence_nudges_for_rules(session: Session, user_id: int
                             ) -> list[tuple[int, int, str, int, datetime]]:
    """(id, contact_id, status, snooze_count, created_at) of rhythm nudges that reached the
    person or were put off."""
    return _rows(session.execute(
        select(Nudge.id, Nudge.contact_id, Nudge.status, Nudge.snooze_count, Nudge.created_at)
        .where(Nudge.user_id == user_id, Nudge.reason == "cadence",
               or_(Nudge.delivered_at.is_not(None), Nudge.snooze_count > 0,
                   Nudge.status == NudgeStatus.DISMISSED))))


def touches_since(session: Session, user_id: int, since: datetime
                  ) -> list[tuple[int, datetime]]:
    """(contact_id, happened_at) of conversations after `since`."""
    return _rows(session.execute(select(Touchpoint.contact_id, Touchpoint.happened_at).where(
        Touchpoint.user_id == user_id, Touchpoint.happened_at > since)))


def notes_for_rules(session: Session, user_id: int) -> list[tuple[int, datetime]]:
    """(contact_id, created_at) of notes not waiting for a planned follow-up."""
    return _rows(session.execute(select(Note.contact_id, Note.created_at).where(
        Note.user_id == user_id, Note.plan_at.is_(None))))


@dataclass(frozen=True, slots=True)
class SuggestionHistoryRow:
    kind: str
    contact_id: int | None
    status: str
    answered_at: datetime | None
    attendee_email: str | None = None
    created_at: datetime | None = None


def _offer_taken() -> ColumnElement[bool]:
    """An offer to add someone met whose address is one of the person's people's since (`set
    Sam email ...`): withdrawn, seen as expired, while it is (undoing the `set` brings it
    back as it stood). Both addresses are compared trimmed and in any case, as an answer to
    the offer compares them: one stored as a calendar wrote it is withdrawn too."""
    # Aliased: the statements that ask join the contact a suggestion is about, too.
    addressed = _table(Contact).alias("addressed")
    return and_(Suggestion.attendee_email.is_not(None), select(addressed.c.id).where(
        addressed.c.user_id == Suggestion.user_id,
        func.lower(func.trim(addressed.c.email))
        == func.lower(func.trim(Suggestion.attendee_email)))
        .correlate(Suggestion).exists())


def _seen_status() -> ColumnElement[str]:
    """A suggestion's status as the person and the rules see it (`_offer_taken`)."""
    return case((and_(Suggestion.status == "open", _offer_taken()), "expired"),
                else_=Suggestion.status)


def suggestion_history(session: Session, user_id: int) -> list[SuggestionHistoryRow]:
    return [SuggestionHistoryRow(*row) for row in session.execute(
        select(Suggestion.kind, Suggestion.contact_id, _seen_status(),
               Suggestion.answered_at, Suggestion.attendee_email, Suggestion.created_at)
        .where(Suggestion.user_id == user_id))]


def insert_suggestion(session: Session, *, workspace_id: int, user_id: int,
                      contact_id: int | None, kind: str, text: str, dedupe_key: str,
                      proposed_days: int | None, proposed_window_start: int | None,
                      proposed_window_end: int | None, proposed_working_days: int | None,
                      current_value: int | None, now: datetime,
                      attendee: tuple[str, str, str | None] | None = None) -> int:
    """A new open suggestion; `attendee` is (email, name, company) of an "add person" one."""
    email, name, company = attendee if attendee is not None else (None, None, None)
    return session.execute(insert(Suggestion).values(
        workspace_id=workspace_id, user_id=user_id, contact_id=contact_id, kind=kind,
        text=text[:500], dedupe_key=dedupe_key[:120], proposed_days=proposed_days,
        proposed_window_start=proposed_window_start, proposed_window_end=proposed_window_end,
        proposed_working_days=proposed_working_days, current_value=current_value,
        attendee_email=email, attendee_name=name[:200] if name else None,
        attendee_company=company[:200] if company else None,
        status="open", created_at=now).returning(Suggestion.id)).scalar_one()


@dataclass(frozen=True, slots=True)
class MetRow:
    """One meeting with someone who is not a contact (rapport.storage.models.MetPerson)."""

    email: str
    display_name: str | None
    start_at: datetime


def met_for_rules(session: Session, user_id: int, since: datetime, now: datetime
                  ) -> list[MetRow]:
    """Meetings with non-contacts that started after `since` and have ended, oldest first."""
    m = MetPerson
    found: list[tuple[datetime, int, MetRow]] = []
    for row_id, email, name, listed in session.execute(
            select(m.id, m.email, m.display_name, m.meetings).where(m.user_id == user_id)):
        for meeting in met.meetings(listed):
            if meeting.start_at >= since and meeting.end_at <= now:
                found.append((meeting.start_at, row_id, MetRow(email, name, meeting.start_at)))
    found.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in found]


# Rewrites of people met's lists by row id, one statement for every row (retention, a full
# sync's unseen meetings).
_SET_MET_LISTS = JsonRowsUpdate(MetPerson.__table__,  # type: ignore[arg-type]
                                key="id", shared=(), per_row=("meetings", "first_start_at"))
_DELETE_MET = Prepared(delete(MetPerson).where(in_json_list(MetPerson.id, "ids")))


def set_met_lists(session: Session, lists: Sequence[tuple[int, Sequence[met.Entry]]]) -> None:
    """Give rows of people met these (ordered) lists of meetings; a row whose list is empty
    is deleted: nobody is held without a meeting."""
    kept = [(row_id, met.encode(entries), met.first_day(entries))
            for row_id, entries in lists if entries]
    empty = [row_id for row_id, entries in lists if not entries]
    if kept:
        _SET_MET_LISTS.execute(session, kept)
    if empty:
        _DELETE_MET.execute(session, ids=empty)


def return_meetings_to_met(session: Session, user_id: int, contact_id: int) -> int:
    """Before a contact with an email is taken back (`undo` of an add): the meetings the
    calendar captured with them become meetings with someone met again, as they were before
    the add handed them over (capture.promote_met), so adding them once more logs them
    again. Returns how many meetings went back."""
    contact = session.execute(select(Contact.email, Contact.name).where(
        Contact.id == contact_id, Contact.user_id == user_id)).first()
    address = forgotten.normalised(contact.email or "") if contact is not None else ""
    if contact is None or not address:
        return 0
    meetings = _captured_with(session, contact_id)
    _hold_as_met(session, user_id, address, contact.name, meetings)
    return len(meetings)


def contact_addresses(session: Session, user_id: int, contact_ids: Sequence[int]
                      ) -> dict[int, str]:
    """The normalised emails of these contacts of the user that have one."""
    if not contact_ids:
        return {}
    return {contact_id: forgotten.normalised(email) for contact_id, email in session.execute(
        select(Contact.id, Contact.email).where(Contact.id.in_(list(contact_ids)),
                                                Contact.user_id == user_id))
        if email and email.strip()}


# Built once: `set Dana email` asks it on the command path (compiling it cost more than it).
_CAPTURED_ATTENDEE_IDS = Prepared(
    select(CapturedAttendee.id, CapturedAttendee.contact_id)
    .join(Contact, Contact.id == CapturedAttendee.contact_id)
    .where(in_json_list(CapturedAttendee.contact_id, "contact_ids"),
           Contact.user_id == bindparam("user_id"))
    .order_by(CapturedAttendee.id))


def captured_attendee_ids(session: Session, user_id: int, contact_ids: Sequence[int]
                          ) -> dict[int, list[int]]:
    """The captured attendee rows of each of these contacts of the user (an entry for every
    one, empty when the calendar met them nowhere): before their email changes, what `undo`
    of that change keeps (`return_readdressed_meetings`)."""
    found: dict[int, list[int]] = {contact_id: [] for contact_id in contact_ids}
    if found:
        for attendee_id, contact_id in _CAPTURED_ATTENDEE_IDS.rows(
                session, contact_ids=list(found), user_id=user_id):
            found[contact_id].append(attendee_id)
    return found


def return_readdressed_meetings(session: Session, user_id: int, contact_id: int,
                                address: str, kept: Iterable[int]) -> list[int]:
    """`undo` of a change of the contact's email that made it `address` (the email is set
    back already): the meetings captured with them since (their attendee rows not `kept`)
    were theirs through that address alone. Those rows go, and the meetings are held as
    someone met at `address` again, as capture.promote_met found them, unless the address
    is another contact's, the user's own or forgotten (the calendar holds none of those as
    someone met). Returns the touchpoint ids the rows had, for the caller to drop."""
    standing = set(kept)
    meetings = [row for row in _captured_with(session, contact_id)
                if row.attendee_id not in standing]
    if not meetings:
        return []
    session.execute(delete(CapturedAttendee).where(
        CapturedAttendee.id.in_([row.attendee_id for row in meetings])))
    contact = session.execute(select(Contact.name).where(Contact.id == contact_id)).first()
    held = session.scalar(select(Contact.id).where(
        Contact.user_id == user_id, func.lower(func.trim(Contact.email)) == address).limit(1))
    if contact is not None and held is None \
            and address not in own_calendar_addresses(session, user_id) \
            and address not in forgotten_addresses(session, user_id):
        _hold_as_met(session, user_id, address, contact.name, meetings)
    return [row.touchpoint_id for row in meetings if row.touchpoint_id is not None]


@dataclass(frozen=True, slots=True)
class _CapturedMeeting:
    """A meeting the calendar captured with a contact, as people met hold it again."""

    attendee_id: int
    touchpoint_id: int | None
    connection_id: int
    workspace_id: int
    entry: met.Entry


def _captured_with(session: Session, contact_id: int) -> list[_CapturedMeeting]:
    """The meetings of the contact's captured attendee rows, on calendars still connected."""
    e, a, c = CapturedEvent, CapturedAttendee, CalendarConnection
    return [_CapturedMeeting(attendee_id, touchpoint_id, connection_id, workspace_id,
                             met.entry(event_id, series_id, start_at, end_at))
            for (attendee_id, touchpoint_id, connection_id, workspace_id, event_id, series_id,
                 start_at, end_at) in session.execute(
                select(a.id, a.touchpoint_id, e.connection_id, e.workspace_id, e.event_id,
                       e.series_id, e.start_at, e.end_at)
                .join(a, a.captured_event_id == e.id).join(c, c.id == e.connection_id)
                .where(a.contact_id == contact_id, c.status != "revoked"))]


def _hold_as_met(session: Session, user_id: int, address: str, name: str,
                 meetings: Sequence[_CapturedMeeting]) -> None:
    """Add the meetings to the lists of the person met at `address` on their calendars (a
    new row, named `name`, where the calendar holds none)."""
    found: dict[int, tuple[int, list[met.Entry]]] = {}
    for meeting in meetings:
        found.setdefault(meeting.connection_id, (meeting.workspace_id, []))[1].append(
            meeting.entry)
    m = MetPerson
    for connection_id, (workspace_id, entries) in found.items():
        row = session.execute(select(m.id, m.meetings).where(
            m.connection_id == connection_id, m.email == address)).first()
        if row is not None:
            held = {entry[0]: entry for entry in met.decode(row.meetings)}
            merged = met.ordered({**held, **{entry[0]: entry for entry in entries}}.values())
            set_met_lists(session, [(row.id, merged)])
        else:
            merged = met.ordered(entries)
            session.execute(insert(m).values(
                connection_id=connection_id, workspace_id=workspace_id, user_id=user_id,
                email=address, display_name=name[:200] if name else None,
                meetings=met.encode(merged), first_start_at=met.first_day(merged)))


def trim_met(session: Session, before: datetime, limit: int,
             workspace_id: int | None = None) -> tuple[int, int]:
    """Drop meetings with people met that started on days (UTC) before `before`'s from their
    lists, in at most `limit` rows (found by the day of their oldest start); (meetings
    dropped, rows looked at).

    Whole days, as `first_start_at` holds them (`met.first_day`): every row looked at loses
    at least its oldest meeting, so a caller that runs again while `limit` rows were looked
    at comes to an end."""
    m = MetPerson
    before = met.day_start(before)
    query = select(m.id, m.meetings).where(m.first_start_at < before)
    if workspace_id is not None:
        query = query.where(m.workspace_id == workspace_id)
    rows = session.execute(query.order_by(m.id).limit(limit)).all()
    cutoff = met.micros(before)
    lists: list[tuple[int, list[met.Entry]]] = []
    dropped = 0
    for row_id, listed in rows:
        entries = met.decode(listed)
        kept = [entry for entry in entries if entry[2] >= cutoff]
        dropped += len(entries) - len(kept)
        lists.append((row_id, kept))
    set_met_lists(session, lists)
    return dropped, len(rows)


_FORGOTTEN = Prepared(select(ForgottenAddress.salt, ForgottenAddress.digest)
                      .where(ForgottenAddress.user_id == bindparam("user_id")))


def forgotten_addresses(session: Session, user_id: int) -> ForgottenAddresses:
    """The user's forgotten addresses (salted hashes), to be asked one address at a time."""
    return ForgottenAddresses((salt, digest)
                              for salt, digest in _FORGOTTEN.rows(session, user_id=user_id))


def forget_address(session: Session, workspace_id: int, user_id: int, address: str,
                   now: datetime) -> int | None:
    """`forget Dana` with an email: her address kept as a salted hash only, so she is never
    offered again; her meetings as someone met and the offers naming her address deleted.
    The id of the hash's row when it is new (undo deletes it), None when it was kept
    already."""
    address = forgotten.normalised(address)
    session.execute(delete(MetPerson).where(MetPerson.user_id == user_id,
                                            MetPerson.email == address))
    session.execute(delete(Suggestion).where(Suggestion.user_id == user_id,
                                             Suggestion.attendee_email == address))
    f = ForgottenAddress
    salt = session.scalar(select(f.salt).where(f.user_id == user_id).limit(1)) \
        or forgotten.new_salt()
    digest = forgotten.digest(salt, address)
    if session.scalar(select(f.id).where(f.user_id == user_id, f.digest == digest)) is not None:
        return None
    return int(session.execute(insert(f).values(
        workspace_id=workspace_id, user_id=user_id, salt=salt, digest=digest,
        forgotten_at=now).returning(f.id)).scalar_one())


def own_calendar_addresses(session: Session, user_id: int) -> set[str]:
    """The user's own addresses, as their connected calendars mark them."""
    return {email for email in session.scalars(select(CalendarConnection.account_email).where(
        CalendarConnection.user_id == user_id, CalendarConnection.account_email.is_not(None)))
        if email}


def contact_emails_and_companies(session: Session, user_id: int
                                 ) -> list[tuple[str, str | None]]:
    """(email, company) of the user's contacts that have an email."""
    return _rows(session.execute(select(Contact.email, Contact.company).where(
        Contact.user_id == user_id, Contact.email.is_not(None))))


def delete_attendee_offers(session: Session, user_id: int) -> None:
    """`disconnect calendar`, after the disconnected calendar's people met are deleted: "add
    person" offers go with the meetings they came from, except an accepted one (that person
    is a contact now), a "Never", which keeps that address from being offered again, and one
    whose person another connected calendar still holds meetings with."""
    held_elsewhere = select(MetPerson.id).where(MetPerson.user_id == user_id,
                                                MetPerson.email == Suggestion.attendee_email)
    session.execute(delete(Suggestion).where(
        Suggestion.user_id == user_id, Suggestion.attendee_email.is_not(None),
        Suggestion.status.not_in(("accepted", "silenced")), ~held_elsewhere.exists()))


def expire_old_suggestions(session: Session, user_id: int, before: datetime) -> None:
    session.execute(update(Suggestion).where(
        Suggestion.user_id == user_id, Suggestion.status == "open",
        Suggestion.created_at < before).values(status="expired")
        .execution_options(synchronize_session=False))


@dataclass(frozen=True, slots=True)
class SuggestionRow:
    """A suggestion as the person sees and answers it."""

    id: int
    kind: str
    contact_id: int | None
    text: str
    status: str
    proposed_days: int | None
    proposed_window_start: int | None
    proposed_window_end: int | None
    proposed_working_days: int | None
    current_value: int | None
    contact_name: str | None
    attendee_email: str | None = None
    attendee_name: str | None = None
    attendee_company: str | None = None


_SUGGESTION_COLUMNS = (Suggestion.id, Suggestion.kind, Suggestion.contact_id, Suggestion.text,
                       Suggestion.status, Suggestion.proposed_days,
                       Suggestion.proposed_window_start, Suggestion.proposed_window_end,
                       Suggestion.proposed_working_days, Suggestion.current_value, Contact.name,
                       Suggestion.attendee_email, Suggestion.attendee_name,
                       Suggestion.attendee_company)


def suggestion_of_user(session: Session, user_id: int, workspace_id: int, suggestion_id: int,
                       *, lock: bool = False) -> SuggestionRow | None:
    """The suggestion when it belongs to this user; the same None for missing and foreign.
    `lock`: its row stays locked until the unit ends (FOR UPDATE; SQLite's one writer does
    that already), so of two answers at once the second waits and reads the first's."""
    query = select(*_SUGGESTION_COLUMNS) \
        .outerjoin(Contact, Contact.id == Suggestion.contact_id) \
        .where(Suggestion.id == suggestion_id, Suggestion.user_id == user_id,
               Suggestion.workspace_id == workspace_id)
    if lock:
        query = query.with_for_update(of=Suggestion)
    row = session.execute(query).first()
    return SuggestionRow(*row) if row is not None else None


def suggestions_of_user(session: Session, user_id: int, workspace_id: int,
                        suggestion_ids: Sequence[int]) -> list[SuggestionRow]:
    """Those of the suggestions that belong to this user, in one read (a message's rows),
    each in its status as `open_suggestions` sees it: an offer whose address is one of their
    people's is withdrawn there too (`_offer_taken`)."""
    seen = (*_SUGGESTION_COLUMNS[:4], _seen_status(), *_SUGGESTION_COLUMNS[5:])
    return [SuggestionRow(*row) for row in _rows(session.execute(
        select(*seen).outerjoin(Contact, Contact.id == Suggestion.contact_id)
        .where(Suggestion.id.in_(list(suggestion_ids)), Suggestion.user_id == user_id,
               Suggestion.workspace_id == workspace_id)))]


def open_suggestions(session: Session, user_id: int, limit: int = 10) -> list[SuggestionRow]:
    """The user's unanswered suggestions, oldest first."""
    return [SuggestionRow(*row) for row in session.execute(
        select(*_SUGGESTION_COLUMNS).outerjoin(Contact, Contact.id == Suggestion.contact_id)
        .where(Suggestion.user_id == user_id, Suggestion.status == "open", ~_offer_taken())
        .order_by(Suggestion.created_at, Suggestion.id).limit(limit))]


def answer_suggestion(session: Session, suggestion_id: int, status: str, now: datetime) -> bool:
    """Record the answer once; False when the suggestion was answered meanwhile."""
    result = session.execute(update(Suggestion).where(
        Suggestion.id == suggestion_id, Suggestion.status == "open")
        .values(status=status, answered_at=now).execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def expire_open_of_kind(session: Session, user_id: int, kind: str, now: datetime) -> None:
    """Other open suggestions of a kind the person just silenced go away too."""
    session.execute(update(Suggestion).where(
        Suggestion.user_id == user_id, Suggestion.kind == kind, Suggestion.status == "open")
        .values(status="expired", answered_at=now)
        .execution_options(synchronize_session=False))


def suggestion_counts(session: Session, user_id: int) -> dict[str, int]:
    """status -> how many of the user's suggestions have it."""
    status = _seen_status()
    return {seen: count for seen, count in session.execute(
        select(status, func.count()).where(Suggestion.user_id == user_id).group_by(status))}


def suggestion_owned_by(session: Session, suggestion_id: int, *, platform: str,
                        workspace_external_id: str, user_external_id: str) -> bool:
    """Whether the suggestion belongs to this platform user (no rows are created to find out)."""
    return session.execute(
        select(Suggestion.id).join(User, User.id == Suggestion.user_id)
        .join(Workspace, Workspace.id == Suggestion.workspace_id)
        .where(Suggestion.id == suggestion_id, User.external_id == user_external_id,
               Workspace.platform == platform,
               Workspace.external_id == workspace_external_id)).first() is not None
# ------------------------------------------------------------------------------ undo journal
# The tables a change may touch, by name, in the order rows are restored (parents first).
JOURNAL_TABLES: dict[str, type[Base]] = {
    "users": User, "contacts": Contact, "tags": Tag, "contact_tags": ContactTag, "notes": Note,
    "important_dates": ImportantDate, "touchpoints": Touchpoint, "nudges": Nudge,
    "drafts": Draft, "suggestions": Suggestion, "forgotten_addresses": ForgottenAddress,
    # What calendars and chat capture hold about a person (`forget` takes it, undo gives it
    # back): after the contacts and touchpoints their rows name.
    "met_people": MetPerson, "captured_attendees": CapturedAttendee,
    "captured_chats": CapturedChat}
# A user row's columns that changes may set (and undo may set back): preferences only.
USER_PREFERENCE_COLUMNS = ("tz", "tz_from_platform", "window_start_minute",
                           "window_end_minute", "working_days", "daily_cap", "digest",
                           "paused_until", "ai_enabled", "tone", "weekly_summary",
                           "prep_minutes")


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _owner_column(model: type[Base]) -> Any:
    table = _table(model)
    if model is CapturedAttendee:
        # An attendee row has no user of its own: it is its captured event's user's.
        return select(CapturedEvent.user_id).where(
            CapturedEvent.id == table.c.captured_event_id).scalar_subquery()
    return table.c.id if model is User else table.c.user_id


def _to_json(model: type[Base], row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as JSON-ready values (dates and datetimes as ISO text)."""
    values: dict[str, Any] = {}
    for key, value in row.items():
        values[key] = value.isoformat() if isinstance(value, date | datetime) else value
    if model is User:
        values = {k: v for k, v in values.items() if k in ("id", *USER_PREFERENCE_COLUMNS)}
    return values


def _from_json(model: type[Base], values: Mapping[str, Any]) -> dict[str, Any]:
    """JSON values back to column values, by each column's type."""
    table = model.__table__
    result: dict[str, Any] = {}
    for key, value in values.items():
        if key not in table.c:
            continue  # a column dropped since the change was recorded
        if isinstance(value, str) and value:
            python_type = _python_type(table.c[key])
            if python_type is datetime:
                value = datetime.fromisoformat(value)
            elif python_type is date:
                value = date.fromisoformat(value)
        result[key] = value
    return result


def _python_type(column: Any) -> type | None:
    """datetime for (UTC) timestamp columns, date for day columns, else None."""
    kind = column.type
    if isinstance(kind, UTCDateTime | DateTime):
        return datetime
    if isinstance(kind, Date):
        return date
    return None


def row_images(session: Session, table: str, user_id: int, ids: Iterable[int],
               columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The user's rows of `table` with these ids, as JSON-ready before-images: whole rows,
    or only `columns` (and the id) when given."""
    model = JOURNAL_TABLES[table]
    wanted = sorted(set(ids))
    if not wanted:
        return []
    if len(wanted) == 1 and columns is not None:
        # The common case (a command changes one contact): a statement prepared per table
        # and column set.
        query = _one_row_image(table, tuple(columns))
        row = query.first(session, id=wanted[0], user_id=user_id)
        if row is None:
            return []
        return [_to_json(model, dict(zip(("id", *columns), row, strict=True)))]
    sql_table = _table(model)
    selected = [sql_table.c.id, *(sql_table.c[name] for name in columns or ())] \
        if columns is not None else [sql_table]
    rows = session.execute(select(*selected).where(sql_table.c.id.in_(wanted),
                                                   _owner_column(model) == user_id)
                           .order_by(sql_table.c.id))
    return [_to_json(model, dict(row._mapping)) for row in rows]


@functools.cache
def _one_row_image(table: str, columns: tuple[str, ...]) -> Prepared:
    model = JOURNAL_TABLES[table]
    sql_table = _table(model)
    return Prepared(select(sql_table.c.id, *(sql_table.c[name] for name in columns))
                    .where(sql_table.c.id == bindparam("id"),
                           _owner_column(model) == bindparam("user_id")))


def restore_image(session: Session, table: str, user_id: int, image: Mapping[str, Any]
                  ) -> bool:
    """Set the user's row back to its before-image; False when the row is gone."""
    model = JOURNAL_TABLES[table]
    values = _from_json(model, image)
    row_id = values.pop("id")
    values.pop("user_id", None)
    values.pop("workspace_id", None)
    if not values:
        return True  # nothing of this row was recorded (an empty SET is no statement)
    sql_table = _table(model)
    result = session.execute(update(sql_table).where(sql_table.c.id == row_id,
                                                     _owner_column(model) == user_id)
                             .values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def id_taken(session: Session, table: str, row_id: int) -> bool:
    """Whether any row of `table` (anyone's) has this id."""
    sql_table = JOURNAL_TABLES[table].__table__
    return session.execute(select(sql_table.c.id).where(sql_table.c.id == row_id)
                           ).first() is not None


def reinsert_row(session: Session, table: str, image: Mapping[str, Any], *,
                 keep_id: bool) -> int:
    """Insert a deleted row again from its image (with its old id when `keep_id`)."""
    model = JOURNAL_TABLES[table]
    values = _from_json(model, image)
    if not keep_id:
        values.pop("id", None)
    sql_table = _table(model)
    return int(session.execute(insert(sql_table).values(**values)
                               .returning(sql_table.c.id)).scalar_one())


def delete_owned(session: Session, table: str, user_id: int, row_id: int) -> bool:
    """Delete the user's row; False when it was already gone."""
    model = JOURNAL_TABLES[table]
    sql_table = _table(model)
    result = session.execute(delete(sql_table).where(sql_table.c.id == row_id,
                                                     _owner_column(model) == user_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def contact_exists(session: Session, user_id: int, contact_id: int) -> bool:
    return session.execute(select(Contact.id).where(
        Contact.id == contact_id, Contact.user_id == user_id)).first() is not None


_INSERT_UNDO_ENTRY = Prepared(insert(UndoEntry).values(
    {column: bindparam(column) for column in (
        "workspace_id", "user_id", "description", "kind", "payload", "created_at")})
    .returning(UndoEntry.id))


def insert_undo_entry(session: Session, *, workspace_id: int, user_id: int, description: str,
                      kind: str, payload: str | None, now: datetime) -> int:
    return int(_INSERT_UNDO_ENTRY.scalar(
        session, workspace_id=workspace_id, user_id=user_id, description=description[:300],
        kind=kind, payload=payload, created_at=now))


@dataclass(frozen=True, slots=True)
class UndoRow:
    id: int
    description: str
    kind: str
    payload: str | None
    created_at: datetime


def latest_undo_entry(session: Session, user_id: int) -> UndoRow | None:
    row = session.execute(select(UndoEntry.id, UndoEntry.description, UndoEntry.kind,
                                 UndoEntry.payload, UndoEntry.created_at)
                          .where(UndoEntry.user_id == user_id)
                          .order_by(UndoEntry.id.desc()).limit(1)).first()
    return UndoRow(*row) if row is not None else None


def take_undo_entry(session: Session, user_id: int, entry_id: int) -> bool:
    """Delete the entry being undone; False when another undo took it first."""
    result = session.execute(delete(UndoEntry).where(UndoEntry.id == entry_id,
                                                     UndoEntry.user_id == user_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


# What a forgotten person's entry says once their snapshot is dropped (and in `export`).
FORGOTTEN = "forgot someone"


def blank_forget_entries(session: Session, older_than: datetime, *,
                         user_id: int | None = None) -> int:
    """Drop the snapshots of people forgotten before `older_than`: each entry stays as a
    barrier without data, and the entries before it (which no undo can reach any more, and
    which may name the person) are deleted."""
    query = select(UndoEntry.id, UndoEntry.user_id).where(
        UndoEntry.kind == "forget", UndoEntry.created_at < older_than)
    if user_id is not None:
        query = query.where(UndoEntry.user_id == user_id)
    rows = session.execute(query).all()
    for entry_id, owner in rows:
        empty_undo_entry(session, entry_id, owner, kind="forget", description=FORGOTTEN)
    return len(rows)


def empty_undo_entry(session: Session, entry_id: int, user_id: int, *, kind: str,
                     description: str) -> None:
    """Make one entry a barrier without data, saying `description`. A forgotten person's
    entry takes the entries before it along (only undoing it could reach them, and they may
    name the person)."""
    session.execute(update(UndoEntry).where(UndoEntry.id == entry_id).values(
        kind="barrier", payload=None, description=description[:300]))
    if kind == "forget":
        session.execute(delete(UndoEntry).where(UndoEntry.user_id == user_id,
                                                UndoEntry.id < entry_id))


@dataclass(frozen=True, slots=True)
class JournalPayload:
    id: int
    user_id: int
    kind: str
    description: str
    payload: str


def workspace_undo_payloads(session: Session, workspace_id: int) -> list[JournalPayload]:
    """Every journal entry of a workspace that still holds data, oldest first."""
    rows = session.execute(
        select(UndoEntry.id, UndoEntry.user_id, UndoEntry.kind, UndoEntry.description,
               UndoEntry.payload)
        .where(UndoEntry.workspace_id == workspace_id, UndoEntry.payload.is_not(None))
        .order_by(UndoEntry.id))
    return [JournalPayload(entry_id, user_id, kind, description, payload)
            for entry_id, user_id, kind, description, payload in rows if payload is not None]


def ids_older_than(session: Session, table: str, ids: Iterable[int], column: str,
                   cutoff: datetime) -> set[int]:
    """Those of `ids` whose row of a journal table has `column` before `cutoff`."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    sql_table = _table(JOURNAL_TABLES[table])
    return set(session.scalars(select(sql_table.c.id).where(
        sql_table.c.id.in_(wanted), sql_table.c[column] < cutoff)))


def purge_undo_entries(session: Session, older_than: datetime, *,
                       user_id: int | None = None, keep: int | None = None) -> None:
    """Delete entries older than `older_than`; with `user_id` and `keep`, also all but the
    newest `keep` of that user."""
    statement = delete(UndoEntry).where(UndoEntry.created_at < older_than)
    if user_id is not None:
        statement = statement.where(UndoEntry.user_id == user_id)
    session.execute(statement.execution_options(synchronize_session=False))
    if user_id is not None and keep is not None:
        trim_undo_entries(session, user_id, keep)


def _nth_newest_undo_entry(offset: str) -> Any:
    """The id of the user's entry `offset` places below their newest (0: the newest)."""
    return (select(UndoEntry.id).where(UndoEntry.user_id == bindparam("user_id"))
            .order_by(UndoEntry.id.desc()).offset(bindparam(offset)).limit(1)
            .scalar_subquery())


_TRIM_UNDO_ENTRIES = Prepared(delete(UndoEntry).where(
    UndoEntry.user_id == bindparam("user_id"),
    UndoEntry.id <= _nth_newest_undo_entry("keep")))


def trim_undo_entries(session: Session, user_id: int, keep: int) -> None:
    """All but the user's newest `keep` entries go, in one statement."""
    _TRIM_UNDO_ENTRIES.execute(session, user_id=user_id, keep=keep)


# On PostgreSQL a journal entry is written and the journal trimmed in one statement (one round
# trip): the DELETE does not see the row its CTE inserts (one snapshot for the statement), so
# it counts and keeps one entry fewer of the older ones.
_INSERT_UNDO_ENTRY_AND_TRIM = Prepared(delete(UndoEntry).where(
    UndoEntry.user_id == bindparam("user_id"),
    UndoEntry.id <= _nth_newest_undo_entry("older_kept"),
    _nth_newest_undo_entry("older_past").is_not(None),
).add_cte(insert(UndoEntry).values(
    {column: bindparam(column) for column in (
        "workspace_id", "user_id", "description", "kind", "payload", "created_at")}
).cte("entry")))
# SQLite has no data-modifying CTEs: the entry is written with a glance at the older ones
# (the one `older_past` places below it, if any), and the DELETE runs only when that says the
# journal is past its bound. Running it after every change cost more than the entry itself.
_INSERT_UNDO_ENTRY_SEEING_OLDER = Prepared(text(
    "INSERT INTO undo_entries (workspace_id, user_id, description, kind, payload, created_at) "
    "VALUES (:workspace_id, :user_id, :description, :kind, :payload, :created_at) "
    "RETURNING id, (SELECT older.id FROM undo_entries AS older "
    "WHERE older.user_id = undo_entries.user_id AND older.id < undo_entries.id "
    "ORDER BY older.id DESC LIMIT 1 OFFSET :older_past)"
).bindparams(bindparam("created_at", type_=UTCDateTime)))


def _combines_writes(session: Session) -> bool:
    """Whether the database runs several writes as one statement (data-modifying CTEs)."""
    return session.get_bind().dialect.name == "postgresql"


def insert_undo_entry_and_trim(session: Session, *, workspace_id: int, user_id: int,
                               description: str, kind: str, payload: str | None,
                               now: datetime, keep: int, trim_past: int) -> None:
    """`insert_undo_entry`; when that makes the user's journal longer than `trim_past`
    entries, `trim_undo_entries` back to the newest `keep` (the new one included). One
    statement on PostgreSQL; on SQLite a second one only when trimming."""
    if not 1 <= keep <= trim_past:
        raise ValueError("the new entry is always kept, and a trim keeps at most the bound")
    if not _combines_writes(session):
        row = _INSERT_UNDO_ENTRY_SEEING_OLDER.first(
            session, workspace_id=workspace_id, user_id=user_id, description=description[:300],
            kind=kind, payload=payload, created_at=now, older_past=trim_past - 1)
        if row is not None and row[1] is not None:
            trim_undo_entries(session, user_id, keep)
        return
    _INSERT_UNDO_ENTRY_AND_TRIM.execute(
        session, workspace_id=workspace_id, user_id=user_id, description=description[:300],
        kind=kind, payload=payload, created_at=now, older_kept=keep - 1,
        older_past=trim_past - 1)


# ------------------------------------------------------------------------------ a conversation
@dataclass(frozen=True, slots=True)
class TouchState:
    """What recording a conversation with a contact reads first, in one statement: the
    contact's before-image, what its clock is computed from, and the open cadence nudges the
    conversation closes, with their before-images (JSON-ready, as `row_images` gives them)."""

    contact_image: dict[str, Any]
    clock: ClockInputs
    nudge_images: list[dict[str, Any]]
    # When the newest meeting the calendar logged with them and still owns was (None: none),
    # so a `log` of another day never asks for one to complete (`calendar_touch_between`).
    calendar_touch_at: datetime | None = None

    @property
    def open_nudges(self) -> list[int]:
        return [int(image["id"]) for image in self.nudge_images]


_CLOCK_INPUT_COLUMNS = ("last_touch_at", "cadence_days", "created_at", "cadence_months")


@functools.cache
def _touch_state(contact_columns: tuple[str, ...], nudge_columns: tuple[str, ...], by: str
                 ) -> tuple[Prepared, tuple[str, ...]]:
    """The statement for `touch_state` (`by` "id") or `contact_by_key_touched` (`by` "key")
    and the contact columns it selects, in order."""
    contacts, nudges = _table(Contact), _table(Nudge)
    names = tuple(dict.fromkeys(("id", "name", "platform_user_id", *contact_columns,
                                 *_CLOCK_INPUT_COLUMNS)))
    open_cadence = and_(nudges.c.contact_id == contacts.c.id,
                        nudges.c.user_id == bindparam("user_id"),
                        nudges.c.reason == "cadence",
                        or_(*(nudges.c.status == status for status in _OPEN_CADENCE)))
    which = contacts.c.id == bindparam("contact_id") if by == "id" \
        else contacts.c.name_key == bindparam("key")
    # By name, the last column says whether the name is others' first name too.
    shared = (_others_first_name(),) if by == "key" else ()
    # The user's zone, after the contact's columns: their clock counts on that calendar.
    zone = select(User.tz).where(User.id == contacts.c.user_id).scalar_subquery()
    # Then the newest meeting the calendar logged with them and still owns (`TouchState`):
    # read here, a `log` that has none to complete costs no statement more.
    # The source a literal, as in ix_touchpoints_calendar_contact_id_happened_at's condition:
    # a bound value would keep PostgreSQL's generic plan of the prepared statement off it.
    touches = _table(Touchpoint)
    calendar_touch = select(touches.c.happened_at).where(
        touches.c.contact_id == contacts.c.id,
        touches.c.source == literal_column(f"'{CALENDAR_SOURCE}'"),
        or_(touches.c.summary.is_(None), touches.c.summary == ""),
        touches.c.day_only.is_(False)).order_by(touches.c.happened_at.desc()).limit(1) \
        .scalar_subquery()
    statement = (select(*(contacts.c[name] for name in names), zone, calendar_touch,
                        nudges.c.id, *(nudges.c[name] for name in nudge_columns), *shared)
                 .select_from(contacts.outerjoin(nudges, open_cadence))
                 .where(contacts.c.user_id == bindparam("user_id"), which)
                 .order_by(nudges.c.id))
    return Prepared(statement), names


def _touched(rows: Sequence[Sequence[Any]], names: tuple[str, ...],
             contact_columns: Sequence[str], nudge_columns: Sequence[str]
             ) -> tuple[ContactName, TouchState] | None:
    if not rows:
        return None
    contact = dict(zip(names, rows[0][:len(names)], strict=True))
    image = _to_json(Contact, {name: contact[name] for name in ("id", *contact_columns)})
    clock = replace(ClockInputs(*(contact[name] for name in _CLOCK_INPUT_COLUMNS)),
                    tz=rows[0][len(names)])
    nudge_images = [_to_json(Nudge, dict(zip(("id", *nudge_columns), row[len(names) + 2:],
                                             strict=True)))
                    for row in rows if row[len(names) + 2] is not None]
    return (ContactName(contact["id"], contact["name"], contact["platform_user_id"]),
            TouchState(image, clock, nudge_images, rows[0][len(names) + 1]))


def touch_state(session: Session, user_id: int, contact_id: int,
                contact_columns: Sequence[str], nudge_columns: Sequence[str]
                ) -> TouchState | None:
    """The user's contact's `contact_columns` (its before-image), its clock inputs and its
    open cadence nudges' `nudge_columns`, in one statement; None when the contact is not
    theirs. What `row_images`, `open_cadence_nudge_ids`, `row_images` of those nudges and
    `contact_clock_inputs` read, as one round trip."""
    statement, names = _touch_state(tuple(contact_columns), tuple(nudge_columns), "id")
    found = _touched(statement.rows(session, user_id=user_id, contact_id=contact_id), names,
                     contact_columns, nudge_columns)
    return found[1] if found is not None else None


def contact_by_key_touched(session: Session, user_id: int, key: str,
                           contact_columns: Sequence[str], nudge_columns: Sequence[str]
                           ) -> tuple[ContactName, TouchState, bool] | None:
    """`contact_by_key` and that contact's `touch_state`, in one statement: for a command
    that names someone to record a conversation with them. The flag: as
    `contact_by_key_shared`'s."""
    statement, names = _touch_state(tuple(contact_columns), tuple(nudge_columns), "key")
    rows = statement.rows(session, user_id=user_id, key=key)
    found = _touched([row[:-1] for row in rows], names, contact_columns, nudge_columns)
    return (*found, bool(rows[0][-1])) if found is not None else None


def _touch_and_clock(close: bool) -> Prepared:
    """PostgreSQL: the touchpoint inserted, the contact's clock set and (`close`) its cadence
    nudges closed, in one statement."""
    clock = update(Contact).where(Contact.id == bindparam("contact_id")).values(
        last_touch_at=bindparam("last_touch_at", type_=UTCDateTime),
        next_due_at=bindparam("next_due_at", type_=UTCDateTime),
        plan_at=bindparam("next_due_at", type_=UTCDateTime))
    statement = insert(Touchpoint).values(
        {**{column: bindparam(column) for column in (
            "workspace_id", "user_id", "contact_id", "happened_at", "kind", "summary",
            "source", "day_only")}, "created_at": bindparam("now", type_=UTCDateTime)}
    ).returning(Touchpoint.id).add_cte(clock.cte("clock"))
    if close:
        statement = statement.add_cte(_close_cadence(
            Nudge.contact_id == bindparam("contact_id"), bindparam("user_id"),
            bindparam("now", type_=UTCDateTime)).cte("closed"))
    return Prepared(statement)


_TOUCHED = {close: _touch_and_clock(close) for close in (False, True)}


def insert_touchpoint_with_clock(session: Session, *, workspace_id: int, user_id: int,
                                 contact_id: int, happened_at: datetime, kind: str,
                                 summary: str | None, source: str, now: datetime,
                                 close_cadence: bool, last_touch_at: datetime | None,
                                 next_due_at: datetime | None, day_only: bool = False) -> int:
    """`insert_touchpoint`, `close_cadence_nudges` (when `close_cadence`) and
    `set_contact_clock` together: one statement on PostgreSQL. The touchpoint's id."""
    if _combines_writes(session):
        return int(_TOUCHED[close_cadence].scalar(
            session, workspace_id=workspace_id, user_id=user_id, contact_id=contact_id,
            happened_at=happened_at, kind=kind, summary=summary, source=source, now=now,
            last_touch_at=last_touch_at, next_due_at=next_due_at, day_only=day_only))
    touchpoint_id = insert_touchpoint(
        session, workspace_id=workspace_id, user_id=user_id, contact_id=contact_id,
        happened_at=happened_at, kind=kind, summary=summary, source=source, now=now,
        day_only=day_only)
    if close_cadence:
        close_cadence_nudges(session, user_id, contact_id, now)
    set_contact_clock(session, contact_id, last_touch_at=last_touch_at,
                      next_due_at=next_due_at)
    return touchpoint_id


# ------------------------------------------------------------------------------ person card
_NOTES_OF_CONTACT = Prepared(
    select(Note.id, Note.text, Note.created_at, Note.follow_up_on, Note.event_on, Note.plan_at)
    .where(Note.user_id == bindparam("user_id"), Note.contact_id == bindparam("contact_id"))
    .order_by(Note.created_at.desc(), Note.id.desc()).limit(bindparam("limit")))


def notes_of_contact(session: Session, user_id: int, contact_id: int, limit: int
                     ) -> list[tuple[Any, ...]]:
    """(id, text, created_at, follow_up_on, event_on, plan_at), newest first."""
    return _NOTES_OF_CONTACT.rows(session, user_id=user_id, contact_id=contact_id, limit=limit)


_NOTE_COUNT = Prepared(select(func.count()).select_from(Note).where(
    Note.user_id == bindparam("user_id"), Note.contact_id == bindparam("contact_id")))


def note_count(session: Session, user_id: int, contact_id: int) -> int:
    return int(_NOTE_COUNT.scalar(session, user_id=user_id, contact_id=contact_id))


# One person's open follow-ups (a day, and no reminder about it done or dismissed), through
# the notes' contact index, however many notes they have: the snoozed ones (`snoozed_ids`)
# first, since the day they come back is not in the row, then the soonest, newest first.
_ACTED_NOTES_OF_CONTACT = select(Nudge.note_id).where(
    Nudge.user_id == bindparam("user_id"), Nudge.contact_id == bindparam("contact_id"),
    _any_status(NudgeStatus.DONE, NudgeStatus.DISMISSED), Nudge.note_id.is_not(None))
_OPEN_FOLLOW_UPS = Prepared(
    select(Note.id, Note.text, Note.created_at, Note.follow_up_on, Note.event_on, Note.plan_at)
    .where(Note.user_id == bindparam("user_id"), Note.contact_id == bindparam("contact_id"),
           Note.follow_up_on.is_not(None), Note.id.not_in(_ACTED_NOTES_OF_CONTACT))
    .order_by(case((in_json_list(Note.id, "snoozed_ids"), 0), else_=1), Note.follow_up_on,
              Note.id.desc())
    .limit(bindparam("limit")))


def open_follow_ups(session: Session, user_id: int, contact_id: int,
                    snoozed_ids: Sequence[int], limit: int) -> list[tuple[Any, ...]]:
    """(id, text, created_at, follow_up_on, event_on, plan_at) of the contact's notes whose
    follow-up is open: those among `snoozed_ids` first, then by follow-up day (a snoozed
    one's day is the snooze's, so ask for `limit` more than the snoozed ones to sort them
    in)."""
    return _OPEN_FOLLOW_UPS.rows(session, user_id=user_id, contact_id=contact_id,
                                 snoozed_ids=list(snoozed_ids), limit=limit)


def acted_note_ids(session: Session, user_id: int, note_ids: Sequence[int]) -> set[int]:
    """Notes whose follow-up nudge was done or dismissed."""
    if not note_ids:
        return set()
    return {note_id for note_id in session.execute(select(Nudge.note_id).where(
        Nudge.user_id == user_id, Nudge.note_id.in_(list(note_ids)),
        Nudge.status.in_((NudgeStatus.DONE, NudgeStatus.DISMISSED)))).scalars()
        if note_id is not None}


_TOUCHES_OF_CONTACT = Prepared(
    select(Touchpoint.id, Touchpoint.happened_at, Touchpoint.kind, Touchpoint.summary,
           Touchpoint.source)
    .where(Touchpoint.user_id == bindparam("user_id"),
           Touchpoint.contact_id == bindparam("contact_id"))
    .order_by(Touchpoint.happened_at.desc(), Touchpoint.id.desc()).limit(bindparam("limit")))


def touches_of_contact(session: Session, user_id: int, contact_id: int, limit: int
                       ) -> list[tuple[Any, ...]]:
    """(id, happened_at, kind, summary, source), newest first."""
    return _TOUCHES_OF_CONTACT.rows(session, user_id=user_id, contact_id=contact_id,
                                    limit=limit)


_TOUCH_COUNT = Prepared(select(func.count()).select_from(Touchpoint).where(
    Touchpoint.user_id == bindparam("user_id"), Touchpoint.contact_id == bindparam("contact_id")))


def touched_between(session: Session, user_id: int, contact_id: int, start: datetime,
                    end: datetime) -> bool:
    """Whether a conversation with the contact is recorded between the two moments."""
    return session.execute(select(Touchpoint.id).where(
        Touchpoint.user_id == user_id, Touchpoint.contact_id == contact_id,
        Touchpoint.happened_at >= start, Touchpoint.happened_at <= end).limit(1)).first() \
        is not None


def touch_count(session: Session, user_id: int, contact_id: int) -> int:
    return int(_TOUCH_COUNT.scalar(session, user_id=user_id, contact_id=contact_id))


_DATES_OF_CONTACT = Prepared(
    select(ImportantDate.kind, ImportantDate.month, ImportantDate.day, ImportantDate.year)
    .where(ImportantDate.user_id == bindparam("user_id"),
           ImportantDate.contact_id == bindparam("contact_id"))
    .order_by(ImportantDate.kind))


def dates_of_contact(session: Session, user_id: int, contact_id: int
                     ) -> list[tuple[str, int, int, int | None]]:
    """(kind, month, day, year) of the contact's yearly dates."""
    return _DATES_OF_CONTACT.rows(session, user_id=user_id, contact_id=contact_id)


_DRAFT_USAGE = Prepared(
    select(func.count(), func.count().filter(or_(Draft.outcome == "posted",
                                                 Draft.outcome == "copied")))
    .where(Draft.user_id == bindparam("user_id"), Draft.contact_id == bindparam("contact_id")))


def draft_usage(session: Session, user_id: int, contact_id: int) -> tuple[int, int]:
    """(drafts made, drafts posted or copied) for the contact."""
    row = _DRAFT_USAGE.first(session, user_id=user_id, contact_id=contact_id)
    assert row is not None  # an aggregate always has its row
    return int(row[0]), int(row[1])


_NEXT_PLANS = Prepared(select(
    select(Contact.plan_at).where(Contact.id == bindparam("contact_id"),
                                  Contact.user_id == bindparam("user_id"),
                                  Contact.cadence_days.is_not(None)).scalar_subquery(),
    *(select(func.min(model.plan_at)).where(model.user_id == bindparam("user_id"),
                                            model.contact_id == bindparam("contact_id"))
      .scalar_subquery() for model in (Note, ImportantDate))))


def next_plans(session: Session, user_id: int, contact_id: int) -> list[datetime]:
    """When the sweep next looks at the contact's rhythm, notes and dates."""
    row = _NEXT_PLANS.first(session, user_id=user_id, contact_id=contact_id)
    return [moment for moment in row or () if moment is not None]


def next_dated_plan(session: Session, user_id: int, contact_id: int) -> datetime | None:
    """When the sweep next looks at the contact's dated notes and yearly dates (not their
    rhythm), if ever."""
    row = _NEXT_PLANS.first(session, user_id=user_id, contact_id=contact_id)
    return min((moment for moment in (row or ())[1:] if moment is not None), default=None)


@dataclass(frozen=True, slots=True)
class NudgesAhead:
    """A person's nudges that are out or still to be delivered."""

    delivered: bool  # one was delivered and is not acted on (sent)
    held_until: datetime | None  # when the sweep next looks at the soonest planned one
    delivering: bool  # one is being delivered (claimed)


# One row through the nudges' contact index: a person has few nudges, a user may have many
# out.
_NUDGES_AHEAD_OF_CONTACT = Prepared(
    select(func.count().filter(Nudge.status == NudgeStatus.SENT),
           func.min(Nudge.deliver_after).filter(Nudge.status == NudgeStatus.PLANNED),
           func.count().filter(Nudge.status == NudgeStatus.CLAIMED))
    .where(Nudge.user_id == bindparam("user_id"), Nudge.contact_id == bindparam("contact_id")))


def nudges_ahead_of_contact(session: Session, user_id: int, contact_id: int) -> NudgesAhead:
    """Whether a nudge about the contact is out or being delivered, and when the sweep next
    looks at one planned."""
    row = _NUDGES_AHEAD_OF_CONTACT.first(session, user_id=user_id, contact_id=contact_id)
    assert row is not None  # an aggregate always has its row
    return NudgesAhead(delivered=bool(row[0]), held_until=row[1], delivering=bool(row[2]))


_DELIVERED_TODAY = Prepared(select(User.sent_day, User.sent_day_count)
                            .where(User.id == bindparam("user_id")))


def delivered_today(session: Session, user_id: int) -> tuple[date | None, int]:
    """(the user's local day of the last delivery, messages delivered that day): what the
    daily cap has used."""
    row = _DELIVERED_TODAY.first(session, user_id=user_id)
    return (row[0], int(row[1] or 0)) if row is not None else (None, 0)


# ------------------------------------------------------------------------------ search
def _all_words(session: Session, words: Sequence[str], *columns: Any) -> Any:
    """Every word appears in one of `columns` however it is accented, cased or typed ("cafe"
    finds "Café", "o'brien" finds "O’Brien"), or in the person's name as names are compared
    (`Contact.name_key`)."""
    if session.get_bind().dialect.name == "postgresql":
        def has(column: Any, word: str) -> Any:
            return column.op("~")(accent_blind_regex(word))
    else:
        def has(column: Any, word: str) -> Any:
            return column.op("GLOB")(accent_blind_glob(word))
    return and_(*(or_(*(has(column, word) for column in columns),
                      Contact.name_key.contains(name_key(word), autoescape=True))
                  for word in words))


def search_people(session: Session, user_id: int, words: Sequence[str], limit: int
                  ) -> list[tuple[Any, ...]]:
    """(id, name, company, created_at) of contacts whose name or company has every word."""
    return _rows(session.execute(
        select(Contact.id, Contact.name, Contact.company, Contact.created_at)
        .where(Contact.user_id == user_id,
               _all_words(session, words, Contact.name, func.coalesce(Contact.company, ""),
                          func.coalesce(Contact.email, "")))
        .order_by(Contact.created_at.desc()).limit(limit)))


def search_notes(session: Session, user_id: int, words: Sequence[str], limit: int,
                 contact_id: int | None = None) -> list[tuple[Any, ...]]:
    """(note id, contact id, contact name, text, created_at): every word in the note or the
    person's name; of one contact's notes when `contact_id` is given."""
    of_contact = () if contact_id is None else (Note.contact_id == contact_id,)
    return _rows(session.execute(
        select(Note.id, Note.contact_id, Contact.name, Note.text, Note.created_at)
        .join(Contact, Contact.id == Note.contact_id)
        .where(Note.user_id == user_id, *of_contact,
               _all_words(session, words, Note.text, Contact.name))
        .order_by(Note.created_at.desc(), Note.id.desc()).limit(limit)))


def search_touches(session: Session, user_id: int, words: Sequence[str], limit: int,
                   contact_id: int | None = None) -> list[tuple[Any, ...]]:
    """(touchpoint id, contact id, contact name, kind, summary, happened_at): every word in
    the summary, the kind or the person's name; of one contact's when `contact_id` is
    given."""
    of_contact = () if contact_id is None else (Touchpoint.contact_id == contact_id,)
    return _rows(session.execute(
        select(Touchpoint.id, Touchpoint.contact_id, Contact.name, Touchpoint.kind,
               Touchpoint.summary, Touchpoint.happened_at)
        .join(Contact, Contact.id == Touchpoint.contact_id)
        .where(Touchpoint.user_id == user_id, *of_contact,
               _all_words(session, words, func.coalesce(Touchpoint.summary, ""), Touchpoint.kind,
                          Contact.name))
        .order_by(Touchpoint.happened_at.desc(), Touchpoint.id.desc()).limit(limit)))


_IN_SPAN = (Touchpoint.user_id == bindparam("user_id"),
            Touchpoint.happened_at >= bindparam("start"), Touchpoint.happened_at < bindparam("end"))
_TOUCHES_IN_SPAN = Prepared(
    select(Touchpoint.id, Touchpoint.contact_id, Contact.name, Touchpoint.happened_at,
           Touchpoint.kind, Touchpoint.summary, Touchpoint.source)
    .join(Contact, Contact.id == Touchpoint.contact_id).where(*_IN_SPAN)
    .order_by(Touchpoint.happened_at.desc(), Touchpoint.id.desc()).limit(bindparam("limit")))
_SPAN_COUNTS = Prepared(select(func.count(), func.count(distinct(Touchpoint.contact_id)))
                        .where(*_IN_SPAN))


def touches_in_span(session: Session, user_id: int, start: datetime, end: datetime,
                    limit: int) -> list[tuple[Any, ...]]:
    """(touchpoint id, contact id, contact name, happened_at, kind, summary, source) of the
    user's conversations from `start` up to (not including) `end`, newest first."""
    return _TOUCHES_IN_SPAN.rows(session, user_id=user_id, start=start, end=end, limit=limit)


def span_counts(session: Session, user_id: int, start: datetime, end: datetime
                ) -> tuple[int, int]:
    """(conversations, different people) of the user from `start` up to `end`."""
    row = _SPAN_COUNTS.first(session, user_id=user_id, start=start, end=end)
    return (int(row[0]), int(row[1])) if row is not None else (0, 0)


# ------------------------------------------------------------------------------ corrections
@dataclass(frozen=True, slots=True)
class NoteRow:
    id: int
    contact_id: int
    text: str
    follow_up_on: date | None
    event_on: date | None


def note_row(session: Session, user_id: int, note_id: int) -> NoteRow | None:
    """The note when it is this user's; the same None for missing and someone else's."""
    row = session.execute(select(Note.id, Note.contact_id, Note.text, Note.follow_up_on,
                                 Note.event_on)
                          .where(Note.id == note_id, Note.user_id == user_id)).first()
    return NoteRow(*row) if row is not None else None


def newest_entry_id(session: Session, user_id: int, kind: str, contact_id: int | None
                    ) -> int | None:
    """The id of the user's note (`kind` "note") or conversation recorded last, of everyone's
    or of one contact's."""
    table: type[Note] | type[Touchpoint] = Note if kind == "note" else Touchpoint
    query = select(table.id).where(table.user_id == user_id)
    if contact_id is not None:
        query = query.where(table.contact_id == contact_id)
    return session.scalar(query.order_by(table.id.desc()).limit(1))


def update_note(session: Session, user_id: int, note_id: int, **values: Any) -> None:
    session.execute(update(Note).where(Note.id == note_id, Note.user_id == user_id)
                    .values(**values).execution_options(synchronize_session=False))


def waiting_note_nudge_ids(session: Session, user_id: int, note_id: int) -> list[int]:
    """The note's nudges not delivered yet (planned or snoozed)."""
    return list(session.execute(select(Nudge.id).where(
        Nudge.user_id == user_id, Nudge.note_id == note_id,
        Nudge.status.in_((NudgeStatus.PLANNED, NudgeStatus.SNOOZED)))).scalars())


def note_nudge_ids(session: Session, user_id: int, note_id: int
                   ) -> tuple[list[int], list[int], list[int]]:
    """(nudges still waiting to go out, nudges with a history, and of those the ones out
    and not answered yet) about the note."""
    rows = session.execute(select(Nudge.id, Nudge.status).where(
        Nudge.user_id == user_id, Nudge.note_id == note_id).order_by(Nudge.id)).all()
    waiting = [nudge_id for nudge_id, status in rows if status in ACTIVE_NUDGE_STATUSES]
    return (waiting,
            [nudge_id for nudge_id, status in rows if status not in ACTIVE_NUDGE_STATUSES],
            [nudge_id for nudge_id, status in rows if status == NudgeStatus.SENT])


def detach_note(session: Session, nudge_ids: Sequence[int]) -> None:
    """Delivered nudges keep their history without the note they were about."""
    if nudge_ids:
        session.execute(update(Nudge).where(Nudge.id.in_(list(nudge_ids)))
                        .values(note_id=None).execution_options(synchronize_session=False))


def expire_nudges(session: Session, nudge_ids: Sequence[int]) -> None:
    if nudge_ids:
        session.execute(update(Nudge).where(Nudge.id.in_(list(nudge_ids)))
                        .values(status=NudgeStatus.EXPIRED)
                        .execution_options(synchronize_session=False))


@dataclass(frozen=True, slots=True)
class TouchRow:
    id: int
    contact_id: int
    happened_at: datetime
    kind: str
    summary: str | None


def touch_row(session: Session, user_id: int, touchpoint_id: int) -> TouchRow | None:
    """The conversation when it is this user's; the same None for missing and foreign."""
    row = session.execute(select(Touchpoint.id, Touchpoint.contact_id, Touchpoint.happened_at,
                                 Touchpoint.kind, Touchpoint.summary)
                          .where(Touchpoint.id == touchpoint_id,
                                 Touchpoint.user_id == user_id)).first()
    return TouchRow(*row) if row is not None else None


def take_over_captured(session: Session, touchpoint_id: int) -> list[int]:
    """A conversation the calendar logged, corrected by the person: it is theirs now, so a
    later move or cancellation of the meeting leaves it alone (the attendee row stays handled,
    so the meeting is not logged again either). Returns the attendee rows let go, for undo
    (`give_back_captured`)."""
    a = CapturedAttendee
    ids = list(session.scalars(select(a.id).where(a.touchpoint_id == touchpoint_id)))
    if ids:
        session.execute(update(a).where(a.id.in_(ids)).values(touchpoint_id=None)
                        .execution_options(synchronize_session=False))
    return ids


def give_back_captured(session: Session, user_id: int,
                       links: Sequence[tuple[int, int]]) -> None:
    """Undo of `take_over_captured`: each (attendee row, touchpoint) linked again, so the
    calendar follows the meeting with that touchpoint as before the correction; a row since
    linked to another touchpoint, or gone, is left as it is."""
    a, e = CapturedAttendee, CapturedEvent
    for attendee_id, touchpoint_id in links:
        session.execute(update(a).where(
            a.id == attendee_id, a.touchpoint_id.is_(None),
            a.captured_event_id.in_(select(e.id).where(e.user_id == user_id)),
            select(Touchpoint.id).where(Touchpoint.id == touchpoint_id,
                                        Touchpoint.user_id == user_id).exists())
            .values(touchpoint_id=touchpoint_id).execution_options(synchronize_session=False))


def update_touchpoint(session: Session, user_id: int, touchpoint_id: int,
                      **values: Any) -> None:
    session.execute(update(Touchpoint).where(Touchpoint.id == touchpoint_id,
                                             Touchpoint.user_id == user_id)
                    .values(**values).execution_options(synchronize_session=False))


def someone_works_at(session: Session, user_id: int, company: str) -> bool:
    """Whether one of the user's contacts has this company (letter case apart)."""
    return session.scalar(select(Contact.id).where(
        Contact.user_id == user_id, func.lower(Contact.company) == company.lower())
        .limit(1)) is not None


def contact_value(session: Session, user_id: int, contact_id: int, column: str) -> Any:
    """One column of the user's contact (a `set` field's current value)."""
    return session.execute(select(Contact.__table__.c[column]).where(
        Contact.id == contact_id, Contact.user_id == user_id)).scalar()


# ------------------------------------------------------------------------------ redactions
# MessageRedaction.reason: the message was about the person forgotten, or a digest that also
# named others; a meeting brief or weekly summary that named them; the person who had it was
# forgotten (`forget me`); the workspace was purged.
REDACT_PERSON, REDACT_DIGEST, REDACT_USER, REDACT_WORKSPACE = ("person", "digest", "user",
                                                               "workspace")
# DeliveredMessageRecord.kind, which is also the reason when someone it names is forgotten.
REDACT_BRIEF, REDACT_SUMMARY = "brief", "summary"


def record_delivered_message(session: Session, now: datetime, *, workspace_id: int,
                             user_id: int, kind: str, delivery_ref: str,
                             contact_ids: Sequence[int]) -> None:
    """Remember where a brief or summary went and whom it names, for a later forget.
    Contacts forgotten meanwhile (no row any more) are left out."""
    message_id = session.execute(insert(DeliveredMessageRecord).values(
        workspace_id=workspace_id, user_id=user_id, kind=kind, delivery_ref=delivery_ref,
        created_at=now).returning(DeliveredMessageRecord.id)).scalar_one()
    named = sorted(set(session.scalars(select(Contact.id).where(
        Contact.user_id == user_id, Contact.id.in_(sorted(set(contact_ids)))))))
    if named:
        session.execute(insert(DeliveredMessagePerson), [
            {"delivered_message_id": message_id, "contact_id": contact_id}
            for contact_id in named])


def queue_redactions(session: Session, now: datetime, *, workspace_id: int,
                     user_id: int | None = None, contact_id: int | None = None) -> int:
    """Queue every message delivered about one contact (`contact_id`, of `user_id`), to one
    user (`user_id` alone) or in one workspace for redaction, before their rows are deleted:
    each delivered message once, however many nudges it carried; meeting briefs and weekly
    summaries too (those naming the contact, or all of the user's or workspace's). How many
    were queued."""
    where = [Nudge.workspace_id == workspace_id, Nudge.delivery_ref.is_not(None)]
    if user_id is not None:
        where.append(Nudge.user_id == user_id)
    if contact_id is not None:
        where.append(Nudge.contact_id == contact_id)
    rows = session.execute(
        select(Nudge.delivery_ref, Nudge.message_key, Workspace.platform,
               Workspace.external_id, ConversationRef.reference_json)
        .join(Workspace, Workspace.id == Nudge.workspace_id)
        .outerjoin(ConversationRef, ConversationRef.user_id == Nudge.user_id)
        .where(*where)).all()
    reason = REDACT_WORKSPACE if user_id is None else REDACT_USER if contact_id is None \
        else REDACT_PERSON
    shared: set[str] = set()
    keys = {row.message_key for row in rows if row.message_key}
    if contact_id is not None and keys:
        # A digest also carried reminders about others: the cleared text says where they are.
        shared = set(session.scalars(
            select(Nudge.message_key).where(Nudge.user_id == user_id,
                                            Nudge.message_key.in_(sorted(keys)),
                                            Nudge.contact_id != contact_id)))
    queued: dict[str, dict[str, Any]] = {}

    def queue(ref: str, platform: str, external_id: str, conversation_json: str | None,
              why: str) -> None:
        queued.setdefault(ref, {
            "platform": platform, "workspace_external_id": external_id, "message_ref": ref,
            "conversation_json": conversation_json, "reason": why, "attempts": 0,
            "next_attempt_at": now, "created_at": now})

    for row in rows:
        queue(row.delivery_ref, row.platform, row.external_id, row.reference_json,
              REDACT_DIGEST if row.message_key in shared else reason)
    for ref, kind, platform, external_id, conversation_json in _briefs_and_summaries(
            session, workspace_id, user_id, contact_id):
        # Naming the person forgotten: the kind says what was cleared ("This meeting brief
        # ..."); forget me and a purge clear everything with their own words.
        queue(ref, platform, external_id, conversation_json,
              kind if contact_id is not None else reason)
    if contact_id is not None:
        # Cleared now, so a later `forget me` does not clear them a second time.
        session.execute(delete(DeliveredMessageRecord).where(DeliveredMessageRecord.id.in_(
            select(DeliveredMessagePerson.delivered_message_id)
            .where(DeliveredMessagePerson.contact_id == contact_id))))
    if not queued:
        return 0
    session.execute(insert(MessageRedaction), list(queued.values()))
    return len(queued)


def _briefs_and_summaries(session: Session, workspace_id: int, user_id: int | None,
                          contact_id: int | None
                          ) -> list[tuple[str, str, str, str, str | None]]:
    """(delivery ref, kind, platform, workspace external id, conversation reference JSON) of
    the briefs and summaries naming the contact, or all of the user's or workspace's."""
    where = [DeliveredMessageRecord.workspace_id == workspace_id]
    if user_id is not None:
        where.append(DeliveredMessageRecord.user_id == user_id)
    if contact_id is not None:
        where.append(DeliveredMessageRecord.id.in_(
            select(DeliveredMessagePerson.delivered_message_id)
            .where(DeliveredMessagePerson.contact_id == contact_id)))
    return [(ref, kind, platform, external_id, conversation_json)
            for ref, kind, platform, external_id, conversation_json in session.execute(
                select(DeliveredMessageRecord.delivery_ref, DeliveredMessageRecord.kind,
                       Workspace.platform, Workspace.external_id,
                       ConversationRef.reference_json)
                .join(Workspace, Workspace.id == DeliveredMessageRecord.workspace_id)
                .outerjoin(ConversationRef,
                           ConversationRef.user_id == DeliveredMessageRecord.user_id)
                .where(*where).order_by(DeliveredMessageRecord.id))]


@dataclass(frozen=True, slots=True)
class RedactionRow:
    id: int
    platform: str
    workspace_external_id: str
    message_ref: str
    conversation_json: str | None
    reason: str
    attempts: int
    created_at: datetime


def claim_redactions(session: Session, now: datetime, lease_until: datetime, limit: int
                     ) -> list[RedactionRow]:
    """Redactions due now, each claimed until `lease_until` (a conditional update, so two
    replicas never both take one)."""
    due = session.execute(
        select(MessageRedaction.id, MessageRedaction.platform,
               MessageRedaction.workspace_external_id, MessageRedaction.message_ref,
               MessageRedaction.conversation_json, MessageRedaction.reason,
               MessageRedaction.attempts, MessageRedaction.created_at,
               MessageRedaction.next_attempt_at)
        .where(MessageRedaction.next_attempt_at <= now)
        .order_by(MessageRedaction.next_attempt_at, MessageRedaction.id).limit(limit)).all()
    claimed = []
    for row in due:
        taken = session.execute(
            update(MessageRedaction)
            .where(MessageRedaction.id == row.id,
                   MessageRedaction.next_attempt_at == row.next_attempt_at)
            .values(next_attempt_at=lease_until)).rowcount  # type: ignore[attr-defined]
        if taken:
            claimed.append(RedactionRow(*row[:8]))
    return claimed


def finish_redaction(session: Session, redaction_id: int) -> None:
    """The message is redacted, or can't be any more: the row goes."""
    session.execute(delete(MessageRedaction).where(MessageRedaction.id == redaction_id))


def retry_redaction(session: Session, redaction_id: int, at: datetime, error: str, *,
                    counted: bool = True) -> None:
    """Try again at `at` (`counted`: one more attempt)."""
    session.execute(update(MessageRedaction).where(MessageRedaction.id == redaction_id).values(
        attempts=MessageRedaction.attempts + (1 if counted else 0), next_attempt_at=at,
        last_error=error[:200]))


# ------------------------------------------------------------------ forget and its undo
def held_about(session: Session, user_id: int, contact_id: int, email: str | None
               ) -> dict[str, list[int]]:
    """Ids, table by table, of what calendars and chat capture hold about one contact, which
    forgetting them deletes besides `contact_rows` (through the cascades, and
    `forget_address` for their email): their captured meetings and days of DMs, their
    meetings held by address as someone met, and the offers naming that address."""
    a, e = CapturedAttendee, CapturedEvent
    found = {
        "captured_attendees": list(session.scalars(
            select(a.id).join(e, e.id == a.captured_event_id)
            .where(a.contact_id == contact_id, e.user_id == user_id).order_by(a.id))),
        "captured_chats": list(session.scalars(
            select(CapturedChat.id).where(CapturedChat.user_id == user_id,
                                          CapturedChat.contact_id == contact_id)
            .order_by(CapturedChat.id))),
        "met_people": [], "suggestions": []}
    address = forgotten.normalised(email or "")
    if address:
        found["met_people"] = list(session.scalars(
            select(MetPerson.id).where(MetPerson.user_id == user_id,
                                       MetPerson.email == address).order_by(MetPerson.id)))
        found["suggestions"] = list(session.scalars(
            select(Suggestion.id).where(Suggestion.user_id == user_id,
                                        Suggestion.attendee_email == address)
            .order_by(Suggestion.id)))
    return found


def still_followed(session: Session, table: str, image: Mapping[str, Any]) -> bool:
    """Whether a row forgotten with someone may come back with them: a captured attendee row
    only while its meeting is still captured (not cancelled or disconnected since), their
    meetings held as someone met only while that calendar is still connected."""
    if table == "captured_attendees":
        return session.scalar(select(CapturedEvent.id).where(
            CapturedEvent.id == int(image["captured_event_id"]))) is not None
    if table == "met_people":
        return session.scalar(select(CalendarConnection.id).where(
            CalendarConnection.id == int(image["connection_id"]),
            CalendarConnection.status != "revoked")) is not None
    return True


def workspaces_with_calendar_grants(session: Session, workspace_ids: Sequence[int]) -> set[int]:
    """Those of these workspaces where someone's calendar connection still holds a token."""
    c = CalendarConnection
    return set(session.scalars(select(c.workspace_id).where(
        c.workspace_id.in_(list(workspace_ids)),
        or_(c.refresh_token_encrypted.is_not(None), c.access_token_encrypted.is_not(None)))))


def workspace_grants(session: Session, workspace_id: int) -> list[tuple[int, str, str]]:
    """(user id, "calendar" or "chat", provider) of every grant the workspace's people gave
    Rapport at a provider and have not withdrawn: connected or paused calendars, chat
    capture (what `admin purge` withdraws first, and its preview names)."""
    c = CalendarConnection
    calendars = session.execute(select(c.user_id, c.provider).where(
        c.workspace_id == workspace_id, c.status != "revoked").order_by(c.user_id, c.provider))
    chats = session.execute(select(ChatGrant.user_id, ChatGrant.provider).where(
        ChatGrant.workspace_id == workspace_id).order_by(ChatGrant.user_id, ChatGrant.provider))
    return [(user_id, "calendar", provider) for user_id, provider in calendars] + \
        [(user_id, "chat", provider) for user_id, provider in chats]


# ------------------------------------------------------------------------------ pending files
@dataclass(frozen=True, slots=True)
class PendingFileRow:
    """A file waiting for an answer, as its token finds it: whose it is, what it is called."""

    workspace_id: int
    user_id: int
    platform: str
    workspace_external_id: str
    user_external_id: str
    filename: str
    expires_at: datetime


def open_pending_file(session: Session, *, token_hash: str, kind: str, workspace_id: int,
                      user_id: int, filename: str, sealed_content: bytes | None,
                      now: datetime, expires_at: datetime, keep_per_user: int | None) -> None:
    """Keep a file waiting for its owner's answer. Expired ones (anyone's) go while here;
    beyond `keep_per_user` of this kind, the user's oldest make room (None: none do)."""
    session.execute(delete(PendingFile).where(PendingFile.expires_at <= now))
    if keep_per_user is not None:
        older = list(session.scalars(
            select(PendingFile.id).where(PendingFile.user_id == user_id,
                                         PendingFile.kind == kind)
            .order_by(PendingFile.id.desc()).offset(max(0, keep_per_user - 1))))
        if older:
            session.execute(delete(PendingFile).where(PendingFile.id.in_(older)))
    session.execute(insert(PendingFile).values(
        token_hash=token_hash, kind=kind, workspace_id=workspace_id, user_id=user_id,
        filename=filename, sealed_content=sealed_content, expires_at=expires_at,
        created_at=now))


def pending_file(session: Session, token_hash: str, kind: str, now: datetime
                 ) -> PendingFileRow | None:
    """The unexpired waiting file of this token and kind, with its owner's platform ids."""
    row = session.execute(
        select(PendingFile.workspace_id, PendingFile.user_id, Workspace.platform,
               Workspace.external_id, User.external_id, PendingFile.filename,
               PendingFile.expires_at)
        .join(User, User.id == PendingFile.user_id)
        .join(Workspace, Workspace.id == PendingFile.workspace_id)
        .where(PendingFile.token_hash == token_hash, PendingFile.kind == kind,
               PendingFile.expires_at > now)).first()
    return PendingFileRow(*row) if row is not None else None


def claim_pending_file(session: Session, token_hash: str, kind: str, user_id: int,
                       now: datetime) -> tuple[str, bytes | None] | None:
    """Take the user's unexpired waiting file out, in one statement: of answers racing on
    any replica, one gets (filename, sealed content), the others None."""
    row = session.execute(
        delete(PendingFile).where(PendingFile.token_hash == token_hash,
                                  PendingFile.kind == kind, PendingFile.user_id == user_id,
                                  PendingFile.expires_at > now)
        .returning(PendingFile.filename, PendingFile.sealed_content)).first()
    return (row[0], row[1]) if row is not None else None


def delete_pending_files(session: Session, user_id: int) -> int:
    """Every file waiting for the user's answer (they removed the app); how many."""
    return int(session.execute(delete(PendingFile).where(PendingFile.user_id == user_id))
               .rowcount)  # type: ignore[attr-defined]


def delete_expired_pending_files(session: Session, now: datetime) -> int:
    """Waiting files past their time, whoever's: nobody can answer them any more."""
    return int(session.execute(delete(PendingFile).where(PendingFile.expires_at <= now))
               .rowcount)  # type: ignore[attr-defined]


def pending_file_rows(session: Session, user_id: int) -> list[dict[str, Any]]:
    """The user's waiting files for `export`: what and until when, never the token's hash
    or an upload's (sealed) bytes."""
    p = PendingFile
    return [dict(row._mapping) for row in session.execute(
        select(p.id, p.kind, p.filename, p.created_at, p.expires_at)
        .where(p.user_id == user_id).order_by(p.id))]
