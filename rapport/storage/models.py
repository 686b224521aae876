"""Typed SQLAlchemy models. Every row is scoped by workspace, and below User by its owner."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from rapport.storage.names import first_word
from rapport.storage.types import UTCDateTime

# Stable constraint names so Alembic migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
Id = BigInteger().with_variant(Integer(), "sqlite")
# Touchpoint.source of a conversation the person typed (`log`, `done` by name, a form).
TYPED_SOURCE = "command"
# Touchpoint.source of a conversation Rapport logged from a connected calendar.
CALENDAR_SOURCE = "calendar"
# Touchpoint.source of a conversation Rapport logged from the user's Slack direct messages
# (opt-in, metadata only: who and which day, never the text).
SLACK_DM_SOURCE = "slack_dm"
# Sources Rapport writes by itself; every other source is the person's own record.
AUTOMATIC_SOURCES = (CALENDAR_SOURCE, SLACK_DM_SOURCE)
# The condition of the index of calendar touchpoints; a query spells it the same way (with
# the literal, not a bound value) for PostgreSQL's generic plans to use the index.
CALENDAR_SOURCE_SQL = f"source = '{CALENDAR_SOURCE}'"


class NudgeStatus(StrEnum):
    """Where a nudge is in its life; stored as its string value."""

    PLANNED = "planned"  # waiting for its moment (deliver_after)
    CLAIMED = "claimed"  # leased by one replica's sweep while it delivers
    SENT = "sent"  # the platform accepted it; waiting for the person
    SNOOZED = "snoozed"  # comes back at deliver_after
    DONE = "done"  # the person reached out
    DISMISSED = "dismissed"  # dropped without a conversation
    EXPIRED = "expired"  # made moot (a conversation happened, the rhythm was turned off)
    FAILED = "failed"  # the platform refused it for good


# Nudge statuses that the sweep still has to look at; see Nudge.deliver_after.
ACTIVE_NUDGE_STATUSES = (NudgeStatus.PLANNED, NudgeStatus.SNOOZED, NudgeStatus.CLAIMED)
_ACTIVE_SQL = "status IN ('planned', 'snoozed', 'claimed')"
# Nudges a person can still act on (done, snooze, dismiss).
OPEN_NUDGE_STATUSES = (NudgeStatus.PLANNED, NudgeStatus.CLAIMED, NudgeStatus.SNOOZED,
                       NudgeStatus.SENT)

# Mon..Fri as a bitmask, bit 0 = Monday (datetime.weekday()).
WEEKDAYS_MASK = 0b0011111

# Created by migrations but owned by a library (slack_sdk's OAuth stores, 0002_slack_oauth), so
# not modelled here; autogenerate and the models-match-migrations check leave them alone.
UNMODELLED_TABLES = frozenset({"slack_installations", "slack_bots", "slack_oauth_states"})


def is_modelled(obj: object, name: str | None, type_: str, reflected: bool,
                compare_to: object) -> bool:
    """Alembic include_object hook: skip UNMODELLED_TABLES and their indexes."""
    del reflected, compare_to
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table not in UNMODELLED_TABLES


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Workspace(Base):
    """A tenant: one Slack team, one Teams tenant, or the local console."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200), default="")
    ai_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disclosure_policy: Mapped[str] = mapped_column(String(16), default="optional")
    retention_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # When the app was removed from the workspace; its data is purged a grace period later
    # unless it is installed again (which clears this).
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class User(Base):
    """A person using Rapport, with their delivery preferences."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("workspace_id", "external_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    tz_from_platform: Mapped[bool] = mapped_column(Boolean, default=True)
    window_start_minute: Mapped[int] = mapped_column(SmallInteger, default=9 * 60)
    window_end_minute: Mapped[int] = mapped_column(SmallInteger, default=17 * 60)
    working_days: Mapped[int] = mapped_column(SmallInteger, default=WEEKDAYS_MASK)
    daily_cap: Mapped[int] = mapped_column(SmallInteger, default=3)
    digest: Mapped[bool] = mapped_column(Boolean, default=True)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ai_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    tone: Mapped[str] = mapped_column(String(16), default="warm")
    weekly_summary: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    inactive_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Messages delivered on `sent_day` (the user's local date): the daily cap without a COUNT.
    sent_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    sent_day_count: Mapped[int] = mapped_column(SmallInteger, default=0)
    summary_sent_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # When the welcome went out (once, whichever front end met the user first).
    welcomed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the suggestion rules last looked at this user (at most once a day; see
    # rapport.scheduler.suggestions), and the kinds of suggestion the user silenced.
    suggestions_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    suggestions_silenced: Mapped[str] = mapped_column(String(120), default="")
    # Minutes before a meeting with a contact that its brief arrives; 0 turns briefs off.
    prep_minutes: Mapped[int] = mapped_column(SmallInteger, default=30,
                                              server_default=text("30"))
    # The goal trend chart last shared into the user's DM: the platform's id of the file, a
    # fingerprint of the numbers it shows, and when. `chart_claimed_at` marks an upload under
    # way, claimed by one conditional UPDATE, so two replicas never both share one chart.
    chart_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    chart_file_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    chart_shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    chart_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Contact(Base):
    """Someone a user keeps in touch with; owned by that user alone."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("user_id", "name_key"),
        Index("ix_contacts_plan_at", "plan_at", sqlite_where=text("plan_at IS NOT NULL"),
              postgresql_where=text("plan_at IS NOT NULL")),
        Index("ix_contacts_user_id_next_due_at", "user_id", "next_due_at"),
        Index("ix_contacts_user_id_platform_user_id", "user_id", "platform_user_id"),
        Index("ix_contacts_user_id_first_key", "user_id", "first_key"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    # casefolded name: one contact per name per user, and exact lookups without LOWER().
    name_key: Mapped[str] = mapped_column(String(200))
    # The first word of name_key: "log Dana" finds "Dana Scully" with one index lookup.
    first_key: Mapped[str] = mapped_column(String(200), default=lambda context: first_word(
        context.get_current_parameters().get("name_key") or ""))
    kind: Mapped[str] = mapped_column(String(16), default="colleague")
    platform_user_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    company: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # What they do ("VP Sales"): `add Hiro Tanaka, VP Sales at Umbrella`, `set Hiro role …`.
    role: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    cadence_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A rhythm in calendar months ("monthly", "quarterly"): the clock adds months, and
    # cadence_days keeps an approximate length for what only needs one (health, stats).
    cadence_months: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    last_touch_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the cadence says it is time to talk again (for display and health).
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the sweep should next look at this contact; NULL once planned, so the sweep's
    # index range covers only contacts that may need a new nudge.
    plan_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The cadence the contact's goals ask for (the shortest goal of its tags), as last applied:
    # `cadence_days` follows it unless `cadence_own`, so a person's own rhythm (`every`)
    # always wins and the sweep reads one column (rapport.bot.core.goals).
    goal_cadence_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The rhythm (or its absence, `every Dana off`) is the person's own, set with `every`,
    # `add … every` or an import: goals never change it. False: `cadence_days` follows goals.
    cadence_own: Mapped[bool] = mapped_column(Boolean, default=False)
    # Per-person AI control: template drafts only, or no drafts at all (write personally).
    ai_drafts: Mapped[bool] = mapped_column(Boolean, default=True)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Touchpoint(Base):
    """A logged interaction with a contact."""

    __tablename__ = "touchpoints"
    __table_args__ = (Index("ix_touchpoints_contact_id_happened_at", "contact_id", "happened_at"),
                      Index("ix_touchpoints_user_id_happened_at", "user_id", "happened_at"),
                      # A contact's newest meeting (`log` reads it with the contact) among
                      # its calendar touchpoints alone, however many it has typed.
                      Index("ix_touchpoints_calendar_contact_id_happened_at", "contact_id",
                            "happened_at", sqlite_where=text(CALENDAR_SOURCE_SQL),
                            postgresql_where=text(CALENDAR_SOURCE_SQL)))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32), default="chat")
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    # "command" (typed), "import", CALENDAR_SOURCE (logged from a connected calendar) or
    # SLACK_DM_SOURCE (logged from the user's Slack DMs with the contact).
    source: Mapped[str] = mapped_column(String(16), default=TYPED_SOURCE)
    # Logged or corrected for a day rather than a moment ("log Dana yesterday", "edit t7
    # Monday"), whatever its source: kept at noon of that day, and moved to noon of the same
    # day when the person's time zone changes. A meeting's own time is a moment.
    day_only: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Note(Base):
    """Something worth remembering about a contact, optionally with a follow-up date."""

    __tablename__ = "notes"
    __table_args__ = (
        Index("ix_notes_plan_at", "plan_at", sqlite_where=text("plan_at IS NOT NULL"),
              postgresql_where=text("plan_at IS NOT NULL")),
        Index("ix_notes_contact_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    follow_up_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The day the noted thing happens when the note named one ("the offsite on Friday"), so
    # a nudge or draft on the follow-up day knows whether it is still ahead or already past.
    event_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    plan_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ImportantDate(Base):
    """A yearly date worth a nudge a few days before (birthday, work anniversary)."""

    __tablename__ = "important_dates"
    __table_args__ = (
        UniqueConstraint("contact_id", "kind"),
        Index("ix_important_dates_plan_at", "plan_at", sqlite_where=text("plan_at IS NOT NULL"),
              postgresql_where=text("plan_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    month: Mapped[int] = mapped_column(SmallInteger)
    day: Mapped[int] = mapped_column(SmallInteger)
    year: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    plan_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Nudge(Base):
    """One reminder for one user about one contact.

    `deliver_after` is the single moment the sweep compares against: the due moment while
    planned, the snooze end while snoozed, and the lease expiry while claimed, so "what needs
    work now" is one index range over the active statuses.

    `not_before`: while planned, the part of that wait the user's delivery settings do not
    decide (a retry's backoff, the spacing after a digest; not the recheck of a user who
    cannot be reached, which their talking to Rapport again ends); NULL when only the user's
    delivery moments hold it. A change of those settings re-plans a held nudge no earlier than
    this.
    """

    __tablename__ = "nudges"
    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_nudges_active_deliver_after", "deliver_after",
              sqlite_where=text(_ACTIVE_SQL), postgresql_where=text(_ACTIVE_SQL)),
        Index("ix_nudges_user_id_status", "user_id", "status"),
        Index("ix_nudges_contact_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    note_id: Mapped[int | None] = mapped_column(
        ForeignKey("notes.id", ondelete="CASCADE"), nullable=True)
    important_date_id: Mapped[int | None] = mapped_column(
        ForeignKey("important_dates.id", ondelete="CASCADE"), nullable=True)
    reason: Mapped[str] = mapped_column(String(16))
    # "<reason>:<contact>:<note or date or ->:<due date>": makes creation idempotent.
    dedupe_key: Mapped[str] = mapped_column(String(120))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deliver_after: Mapped[datetime] = mapped_column(UTCDateTime)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default=NudgeStatus.PLANNED.value)
    snooze_count: Mapped[int] = mapped_column(SmallInteger, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    message_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    delivery_ref: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Draft(Base):
    """An AI or template draft and what became of it."""

    __tablename__ = "drafts"
    __table_args__ = (Index("ix_drafts_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), nullable=True)
    nudge_id: Mapped[int | None] = mapped_column(
        ForeignKey("nudges.id", ondelete="CASCADE"), nullable=True)
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # JSON of exactly what was sent to the provider (for the user's export), or NULL.
    sent_context: Mapped[str | None] = mapped_column(Text, nullable=True)
    # NULL once retention removed it (with final_text and sent_context); draft_length stays,
    # since `stats` and the team report count the share rewritten as edit distance over it.
    draft_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    # In characters; an insert that gives only the text gets its length.
    draft_length: Mapped[int] = mapped_column(Integer, default=lambda context: len(
        context.get_current_parameters().get("draft_text") or ""))
    final_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    edit_distance: Mapped[int | None] = mapped_column(Integer, nullable=True)
    disclosure: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConversationRef(Base):
    """Where to reach a user proactively (a Teams conversation reference, a Slack DM id)."""

    __tablename__ = "conversation_refs"
    __table_args__ = (UniqueConstraint("user_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str] = mapped_column(String(300))
    service_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    reference_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SeenSignature(Base):
    """A signed request already accepted (Slack's X-Slack-Signature), kept until it could no
    longer pass the timestamp check, so no replica accepts the same request twice; or, for an
    Events API delivery, its event (`replay.event_key`), kept past Slack's last retry."""

    __tablename__ = "seen_signatures"
    __table_args__ = (Index("ix_seen_signatures_expires_at", "expires_at"),)

    signature: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarConnection(Base):
    """A user's link to one calendar provider (issue 16): encrypted tokens and a sync cursor.

    `next_sync_at` is the one moment the calendar job compares against, like Nudge's
    `deliver_after`: the next sync while active, the lease expiry while claimed, a retry of the
    "your calendar was disconnected" message while paused and not yet told, NULL otherwise.
    """

    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("user_id", "provider"),
        Index("ix_connections_next_sync_at", "next_sync_at",
              sqlite_where=text("next_sync_at IS NOT NULL"),
              postgresql_where=text("next_sync_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(16))
    # active | paused (the provider refused the grant; the user is told once) | revoked
    # (disconnected by the user: tokens gone, row kept so captured meetings are not doubled
    # on reconnect).
    status: Mapped[str] = mapped_column(String(12), default="active")
    # Ciphertexts from the injected TokenCipher; never the tokens themselves.
    refresh_token_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    access_token_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    access_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Google's nextSyncToken or Graph's @odata.deltaLink; NULL means a bounded full sync next.
    sync_cursor: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The range the last full sync covered (Graph's delta window is fixed per round).
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    failures: Mapped[int] = mapped_column(SmallInteger, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paused_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The calendar owner's own address, as the provider marks it (Google's `self`, Graph's
    # organizer of a meeting the user organised): never offered as someone they met.
    account_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OAuthState(Base):
    """A pending consent: single-use, bound to one user and provider, short-lived."""

    __tablename__ = "oauth_states"
    __table_args__ = (UniqueConstraint("state_hash"),
                      Index("ix_oauth_states_expires_at", "expires_at"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # SHA-256 of the state: the database never holds a value that completes a consent.
    state_hash: Mapped[str] = mapped_column(String(64))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(16))
    # The PKCE code_verifier must be sent back to the token endpoint, so it is encrypted,
    # not hashed.
    code_verifier_encrypted: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PendingFile(Base):
    """A file waiting for its owner's answer to a card: an export offered through Teams'
    file consent, or an uploaded contacts file checked and waiting for Import or Cancel.
    Kept here, not in one process, so any replica (or the process after a restart) answers
    it; single-use (the answer that deletes the row is the one that counts), bound to one
    user, minutes long. Gone with its user (`forget me`) and workspace (purge)."""

    __tablename__ = "pending_files"
    __table_args__ = (UniqueConstraint("token_hash"),
                      Index("ix_pending_files_user_id", "user_id"),
                      Index("ix_pending_files_expires_at", "expires_at"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # SHA-256 of the random token the card carries: the database never holds a value that
    # answers the card.
    token_hash: Mapped[str] = mapped_column(String(64))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # "export" (an offer: nothing of the export is kept, it is made on accept) or "import".
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    # An upload's bytes, sealed under a key derived from the card's token (which the
    # database does not hold), so a copy of the database cannot read them; None for offers.
    sealed_content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CapturedEvent(Base):
    """One calendar event instance with at least one contact: times only, never its title,
    description or location. Keyed by the provider's instance id, so it is handled once."""

    __tablename__ = "captured_events"
    __table_args__ = (
        UniqueConstraint("connection_id", "event_id"),
        Index("ix_captured_events_connection_id_series_id", "connection_id", "series_id"),
        Index("ix_captured_events_user_id_start_at", "user_id", "start_at"),
        # The brief job's every-minute read of everyone's next two hours: only meetings still
        # to brief, which are upcoming ones (one captured after it began, or once it has
        # ended, is marked handled). An index of every meeting's start took a third of what
        # a first sync wrote, its entries landing all over it (docs/performance.md).
        Index("ix_captured_events_unbriefed_start_at", "start_at",
              sqlite_where=text("brief_sent_at IS NULL"),
              postgresql_where=text("brief_sent_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The provider's id of this instance (Google instance id, Graph occurrence id).
    event_id: Mapped[str] = mapped_column(String(1024))
    # The recurring series and the instance's original start: the instance key.
    series_id: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    instance_start: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the brief for this meeting was handled: sent, or found to have nothing to say
    # (a moment before the start), or needing none: captured after the meeting began, or
    # ended without one (the meeting's own start, which no brief has). NULL: still to
    # brief, so in the index the brief job reads.
    brief_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CapturedAttendee(Base):
    """A contact met in a captured event, and the touchpoint logged for it once it ended.

    `logged_at` set with `touchpoint_id` NULL means handled without a touchpoint of ours (the
    person deleted it, or had typed one that day): it is never logged again.
    """

    __tablename__ = "captured_attendees"
    __table_args__ = (
        UniqueConstraint("captured_event_id", "contact_id"),
        Index("ix_captured_attendees_contact_id", "contact_id"),
        Index("ix_captured_attendees_touchpoint_id", "touchpoint_id",
              sqlite_where=text("touchpoint_id IS NOT NULL"),
              postgresql_where=text("touchpoint_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    captured_event_id: Mapped[int] = mapped_column(
        ForeignKey("captured_events.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    touchpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("touchpoints.id", ondelete="SET NULL"), nullable=True)
    logged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ChatGrant(Base):
    """A user's opt-in to chat capture (issue 16): the user token that lets Rapport see who
    the user exchanged direct messages with, and when. Deleted (after revoking the token at
    the provider) when the user turns capture off or is forgotten."""

    __tablename__ = "chat_grants"
    __table_args__ = (
        UniqueConstraint("user_id", "provider"),
        Index("ix_chat_grants_workspace_id_external_user_id", "workspace_id",
              "external_user_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(16))
    # The platform's id of the user the token belongs to (Slack's authed_user.id).
    external_user_id: Mapped[str] = mapped_column(String(128))
    # Ciphertext from the injected TokenCipher; never the token itself.
    token_encrypted: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(String(300), default="")
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChatChannel(Base):
    """A direct-message conversation of a grant's user, and who is on the other side (looked
    up once per conversation, so later messages cost no API call)."""

    __tablename__ = "chat_channels"
    __table_args__ = (UniqueConstraint("grant_id", "channel_id"),
                      Index("ix_chat_channels_channel_id", "channel_id"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("chat_grants.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(64))
    counterpart_external_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CapturedChat(Base):
    """A day (the user's local date) on which the user and a contact exchanged direct
    messages: the unique key makes the `chat` touchpoint one per contact per day, whatever
    the number of messages, retries or replicas.

    `touchpoint_id` NULL means handled without a touchpoint of ours (the person deleted it,
    or had logged that day themselves): the day is never logged again.
    """

    __tablename__ = "captured_chats"
    __table_args__ = (
        UniqueConstraint("user_id", "contact_id", "day"),
        Index("ix_captured_chats_contact_id", "contact_id"),
        Index("ix_captured_chats_touchpoint_id", "touchpoint_id",
              sqlite_where=text("touchpoint_id IS NOT NULL"),
              postgresql_where=text("touchpoint_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    touchpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("touchpoints.id", ondelete="SET NULL"), nullable=True)
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MetPerson(Base):
    """Someone met in calendar meetings who is not one of the user's contacts, one row per
    connection and person: only the email, the display name the calendar last gave, and their
    meetings as a small JSON list of [event id, series id, start, end]
    (rapport.storage.met), so Rapport can count meetings and offer to add the person
    (rapport.scheduler.suggestions). One row per person rather than per meeting: a calendar
    page rewrites a few dozen lists instead of inserting a hundred rows and their index
    entries. Meetings older than MET_KEEP are trimmed (the row goes with its last one;
    `first_start_at` is midnight UTC of the oldest start's day, so retention finds the rows
    to trim by an index whose rows of one day share a key: `met.first_day`);
    deleted by `disconnect calendar`, `forget <person>` (their address) and `forget me`."""

    __tablename__ = "met_people"
    __table_args__ = (
        UniqueConstraint("connection_id", "email"),
        Index("ix_met_people_user_id_email", "user_id", "email"),
        Index("ix_met_people_first_start_at", "first_start_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # JSON text written and read by rapport.storage.met alone, the same text on every backend.
    meetings: Mapped[str] = mapped_column(Text)
    first_start_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ForgottenAddress(Base):
    """An email address of someone the user forgot (`forget Dana`), kept only as a salted
    hash so a calendar never offers that person again (rapport.storage.forgotten): not the
    address, not the name. Deleted by `undo` of that forget and by `forget me`."""

    __tablename__ = "forgotten_addresses"
    __table_args__ = (UniqueConstraint("user_id", "digest"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # One random salt per user (every row of a user has the same), so the same address
    # hashes differently for two users and a table of hashed addresses is of no use.
    salt: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    forgotten_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Tag(Base):
    """A user's group of contacts ("clients", "team"), with an optional cadence goal."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("user_id", "name_key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    name_key: Mapped[str] = mapped_column(String(40))
    # The goal: talk to everyone tagged at least this often (their own cadence wins).
    goal_cadence_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    goal_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContactTag(Base):
    """One contact carrying one tag."""

    __tablename__ = "contact_tags"
    __table_args__ = (UniqueConstraint("contact_id", "tag_id"),
                      Index("ix_contact_tags_tag_id", "tag_id"),
                      Index("ix_contact_tags_user_id", "user_id"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Suggestion(Base):
    """A proposed change to the plan, the rule and reason behind it, and the person's answer.

    `status`: open, accepted, kept (the person said no), silenced (no more of this kind),
    expired (nobody answered in time, or the plan changed meanwhile).
    """

    __tablename__ = "suggestions"
    __table_args__ = (UniqueConstraint("user_id", "dedupe_key"),
                      Index("ix_suggestions_user_id_status", "user_id", "status"),
                      Index("ix_suggestions_contact_id", "contact_id"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    dedupe_key: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(String(500))
    proposed_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    proposed_window_start: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    proposed_window_end: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    proposed_working_days: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    current_value: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # An "add person" offer: the attendee met (lower-cased email, name, company if known).
    # Kept after a "Never" so that this person, and only this person, is never offered again.
    attendee_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    attendee_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    attendee_company: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class UndoEntry(Base):
    """One change a user made, with what is needed to reverse it (`undo`).

    Written in the same unit of work as the change. `payload` is JSON: ids of rows the
    change inserted, and before-images of rows it updated or deleted. A forgotten person's
    snapshot is kept for a short while only; then the entry stays as a barrier without data.
    """

    __tablename__ = "undo_entries"
    __table_args__ = (Index("ix_undo_entries_user_id_id", "user_id", "id"),
                      Index("ix_undo_entries_created_at", "created_at"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # What the change was, in words ("logged coffee with Dana Scully on Sun Nov 22").
    description: Mapped[str] = mapped_column(String(300))
    # "change" (reversible), "forget" (reversible while its snapshot is kept), "barrier".
    kind: Mapped[str] = mapped_column(String(16), default="change")
    payload: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MessageRedaction(Base):
    """A message already delivered about someone who was forgotten (`forget Dana`, `forget
    me`, `admin purge`), still to be edited to a neutral text without buttons.

    Written in the same unit of work as the delete, so a restart between the two loses
    nothing; the scheduler edits the message and deletes the row (also when the platform says
    the message is gone). It holds no name and no text, and points at no user or contact row
    (those are deleted with the forget): only where the message is.
    """

    __tablename__ = "message_redactions"
    __table_args__ = (Index("ix_message_redactions_next_attempt_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_external_id: Mapped[str] = mapped_column(String(128))
    # The platform's delivery reference (Nudge.delivery_ref): Slack "channel:ts", Teams JSON.
    message_ref: Mapped[str] = mapped_column(Text)
    # The conversation reference the message went through (ConversationRef.reference_json),
    # copied because `forget me` deletes that row.
    conversation_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Which neutral text replaces it (rapport.scheduler.wording.redacted_text).
    reason: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeliveredMessageRecord(Base):
    """A meeting brief or weekly summary delivered to a user, and where: kept so that a
    forget (`forget Dana`, `forget me`, `admin purge`) can clear it like a reminder.

    Holds no text and no name; the people it names are `DeliveredMessagePerson` rows.
    """

    __tablename__ = "delivered_messages"
    __table_args__ = (Index("ix_delivered_messages_user_id", "user_id"),
                      Index("ix_delivered_messages_workspace_id", "workspace_id"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # "brief" or "summary": which neutral text replaces it when someone it names is forgotten.
    kind: Mapped[str] = mapped_column(String(16))
    # The platform's delivery reference (DeliveryResult.ref): Slack "channel:ts", Teams JSON.
    delivery_ref: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeliveredMessagePerson(Base):
    """A contact a delivered brief or summary names, so `forget <person>` finds it."""

    __tablename__ = "delivered_message_people"
    __table_args__ = (Index("ix_delivered_message_people_contact_id", "contact_id"),)

    delivered_message_id: Mapped[int] = mapped_column(
        ForeignKey("delivered_messages.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"),
                                            primary_key=True)
