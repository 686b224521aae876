"""Use cases on when and how Rapport reaches a person: settings, pause, resume."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from rapport.bot.core import commands as c
from rapport.bot.core.calendars import NAMES as CALENDAR_NAMES
from rapport.bot.core.context import Turn, UserContext
from rapport.bot.core.dates import read_zone
from rapport.bot.core.journal import CLOCK, NUDGE_OUTCOME, PLANNED, Change
from rapport.bot.core.touchpoints import day_logs_to_move, move_day_logs
from rapport.bot.core.views import Reply, SettingsView, error
from rapport.scheduler import planner, wording
from rapport.storage import queries

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
# The user columns that decide when a nudge may be delivered (`planner.DeliveryPrefs`, the
# pause aside): a change to one plans again what waits for a later moment.
DELIVERY_COLUMNS = frozenset({"tz", "window_start_minute", "window_end_minute",
                              "working_days", "daily_cap"})
# What `settings` says of AI drafts when a workspace admin turned them off (the Slack
# settings form says the same).
AI_OFF_FOR_THE_WORKSPACE = "off (turned off for the whole workspace)"
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def format_days(mask: int) -> str:
    """'Mon-Fri', 'Sun-Thu', 'Mon, Wed, Fri' or 'every day'."""
    days = [i for i in range(7) if mask & (1 << i)]
    if len(days) == 7:
        return "every day"
    if not days:
        return "no days"
    for start in range(7):
        run = [(start + k) % 7 for k in range(len(days))]
        if sorted(run) == days and len(days) > 2:
            return f"{_DAY_NAMES[run[0]]}-{_DAY_NAMES[run[-1]]}"
    return ", ".join(_DAY_NAMES[d] for d in days)


def settings_view(ctx: UserContext, now: datetime, *, ai_configured: bool = True,
                  chat_capture: tuple[str, ...] = (),
                  calendars: tuple[tuple[str, str, str | None], ...] = ()) -> SettingsView:
    p = ctx.prefs
    paused = p.paused_until is not None and p.paused_until > now
    return SettingsView(
        tz=ctx.tz, window_start_minute=p.window_start_minute,
        window_end_minute=p.window_end_minute, working_days=p.working_days,
        daily_cap=p.daily_cap, digest=ctx.digest, ai_enabled=ctx.ai_enabled,
        workspace_ai_enabled=ctx.workspace_ai_enabled, tone=ctx.tone,
        weekly_summary=ctx.weekly_summary, prep_minutes=ctx.prep_minutes,
        paused_until=planner.local_date(p.paused_until, ctx.tz)
        if paused and p.paused_until is not None and p.paused_until < FAR_FUTURE else None,
        paused_indefinitely=paused and p.paused_until is not None
        and p.paused_until >= FAR_FUTURE, ai_configured=ai_configured,
        chat_capture=chat_capture, calendars=calendars, platform=ctx.platform)


def calendars_line(calendars: tuple[tuple[str, str, str | None], ...]) -> str:
    """'Google (connected as alex@example.com)', or what to do about a paused one; 'none
    connected'. The address shows whose calendar a consent link connected."""
    if not calendars:
        return "none connected (“connect calendar”)"
    return ", ".join(
        (f"{CALENDAR_NAMES.get(provider, provider)} (connected"
         + (f" as {account})" if account else ")")) if status == "active" else
        f"{CALENDAR_NAMES.get(provider, provider)} (stopped: it no longer lets Rapport read; "
        f"type “connect {provider} calendar” again)" for provider, status, account in calendars)


def describe_settings(view: SettingsView) -> str:
    """The user's settings as a short text."""
    paused = ""
    if view.paused_indefinitely:
        paused = "\n• Paused until you resume"
    elif view.paused_until is not None:
        paused = f"\n• Paused until {view.paused_until}"
    ai = "on" if view.ai_enabled and view.workspace_ai_enabled else "off"
    if not view.workspace_ai_enabled:
        ai = AI_OFF_FOR_THE_WORKSPACE
    elif ai == "on" and not view.ai_configured:
        ai = "template drafts (no AI provider is set up here)"
    return (f"Your settings:\n• Time zone: {view.tz}\n"
            f"• Delivery window: {view.window} on {format_days(view.working_days)}\n"
            f"• At most {wording.counted(view.daily_cap, 'nudge message')} a day; digest: "
            f"{'on' if view.digest else 'off'}\n"
            f"• AI drafts: {ai}; tone: {view.tone}\n"
            f"• Weekly summary: {'on' if view.weekly_summary else 'off'}\n"
            f"• Briefs before meetings (connected calendars): "
            f"{f'{view.prep_minutes} min before' if view.prep_minutes else 'off'}\n"
            f"• Calendars: {calendars_line(view.calendars)}"
            + (f"\n• Slack DMs with your people logged as conversations: "
               f"{'on' if 'slack' in view.chat_capture else 'off'}"
               # Teams and the console can't turn it on: a line about Slack there only puzzles.
               if view.platform == "slack" or view.chat_capture else "")
            + paused)


def show_settings(ctx: UserContext, now: datetime, *, ai_configured: bool = True,
                  chat_capture: tuple[str, ...] = (),
                  calendars: tuple[tuple[str, str, str | None], ...] = ()) -> Reply:
    view = settings_view(ctx, now, ai_configured=ai_configured, chat_capture=chat_capture,
                         calendars=calendars)
    return Reply(describe_settings(view), view=view)


def settings(turn: Turn, command: c.Settings) -> Reply:
    capturing = queries.chat_capture_providers(turn.session, turn.user.user_id)
    calendars = queries.calendar_states(turn.session, turn.user.user_id)
    if not command.is_change:
        return show_settings(turn.user, turn.now, ai_configured=turn.ai_configured,
                             chat_capture=capturing, calendars=calendars)
    values: dict[str, Any] = {}
    read_as = ""
    if command.tz is not None:
        reading = read_zone(command.tz)
        if reading.zone is None:
            return error((reading.question or f"I don't know the time zone “{command.tz[:40]}”. "
                          "Use a name like Europe/Berlin or America/New_York, or a city a "
                          "zone is named after (“Berlin”).") + f"\nUsage: {c.SETTINGS_USAGE}")
        values.update(tz=reading.zone, tz_from_platform=False)
        # "I read EST as America/New_York …": an abbreviation is read, and the answer says how.
        read_as = f" {reading.read_as}" if reading.read_as else ""
    if command.window is not None:
        values.update(window_start_minute=command.window[0],
                      window_end_minute=command.window[1])
    for field, column in (("days", "working_days"), ("cap", "daily_cap"),
                          ("digest", "digest"), ("ai", "ai_enabled"), ("tone", "tone"),
                          ("summary", "weekly_summary"), ("prep", "prep_minutes")):
        value = getattr(command, field)
        if value is not None:
            values[column] = value
    change = Change(turn)
    change.before_update("users", [turn.user.user_id], tuple(values))
    moves = day_logs_to_move(turn.session, turn.user.user_id, turn.user.tz,
                             values.get("tz", turn.user.tz), turn.now)
    if moves:
        # Days logged stay the days they were in the new zone (undo moves them back).
        change.before_update("touchpoints", [m.touchpoint_id for m in moves], ("happened_at",))
        change.before_update("contacts", sorted({m.contact_id for m in moves}), CLOCK)
        move_day_logs(turn.session, moves)
    queries.update_user(turn.session, turn.user.user_id, **values)
    updated = _updated_context(turn.user, values)
    replan_deliveries(turn.session, turn.user.user_id, updated.prefs, turn.now,
                      held_too=not DELIVERY_COLUMNS.isdisjoint(values),
                      old_tz=turn.user.tz, change=change)
    labels = _unchanged_labels(command)
    change.save("changed settings (" + ", ".join(_changed_names(command)) + ")",
                unchanged=f"Your {labels[0]} {labels[1]} already set that way.{read_as}")
    view = settings_view(updated, turn.now, ai_configured=turn.ai_configured,
                         chat_capture=capturing, calendars=calendars)
    return Reply(f"Saved.{read_as}\n" + describe_settings(view), changed=True, view=view)


def _changed_names(command: c.Settings) -> list[str]:
    names = {"tz": "time zone", "window": "window", "days": "days", "cap": "cap",
             "digest": "digest", "ai": "AI drafts", "tone": "tone", "summary": "summary",
             "prep": "meeting briefs"}
    return [label for field, label in names.items() if getattr(command, field) is not None]


def _unchanged_labels(command: c.Settings) -> tuple[str, str]:
    """The settings a command names, for "Your delivery window is already set that way",
    and the verb that goes with them."""
    names = {"tz": "time zone", "window": "delivery window", "days": "working days",
             "cap": "daily cap", "digest": "digest", "ai": "AI drafts", "tone": "tone",
             "summary": "weekly summary", "prep": "meeting briefs"}
    said = [label for field, label in names.items() if getattr(command, field) is not None]
    joined = said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]
    plural = len(said) > 1 or said[0] in ("working days", "AI drafts", "meeting briefs")
    return joined, "are" if plural else "is"


def _updated_context(ctx: UserContext, values: dict[str, Any]) -> UserContext:
    prefs = replace(ctx.prefs, tz=values.get("tz", ctx.tz),
                    window_start_minute=values.get("window_start_minute",
                                                   ctx.prefs.window_start_minute),
                    window_end_minute=values.get("window_end_minute",
                                                 ctx.prefs.window_end_minute),
                    working_days=values.get("working_days", ctx.prefs.working_days),
                    daily_cap=values.get("daily_cap", ctx.prefs.daily_cap))
    return replace(ctx, tz=prefs.tz, prefs=prefs, digest=values.get("digest", ctx.digest),
                   ai_enabled=values.get("ai_enabled", ctx.ai_enabled),
                   tone=values.get("tone", ctx.tone),
                   weekly_summary=values.get("weekly_summary", ctx.weekly_summary),
                   prep_minutes=values.get("prep_minutes", ctx.prep_minutes))


def replan_deliveries(session: Session, user_id: int, prefs: planner.DeliveryPrefs,
                      now: datetime, *, held_too: bool = True, old_tz: str | None = None,
                      change: Change | None = None) -> None:
    """Follow the user's new delivery settings (`prefs`): follow-up notes not planned yet are
    due at the start of their day's window in them, (`held_too`) planned nudges put off
    to a later moment are released (`release_held`), and (`old_tz`: the zone changed from
    it) rhythms are due at the start of their day in the new zone (`replan_rhythms`). With
    `change`, the old moments are journaled, so `undo` sets them back with the settings."""
    # A nudge the sweep put off (outside the window, not a working day, the cap reached)
    # keeps the moment the old settings gave it: a note for today written on a Friday
    # evening in UTC waited for Monday 09:00 UTC although, with the person's real zone
    # Honolulu, it was Friday 11:45 there.
    today = planner.local_date(now, prefs.tz)
    waiting = queries.unplanned_follow_ups(session, user_id)
    if change is not None:
        change.before_update("notes", [note_id for note_id, _ in waiting], ("plan_at",),
                             follows=("plan_at",))
    for note_id, follow_up_on in waiting:
        moment = planner.follow_up_moment(follow_up_on, prefs)
        queries.set_note_plan(session, note_id,
                              max(moment, now) if follow_up_on <= today else moment)
    if old_tz is not None and old_tz != prefs.tz:
        replan_rhythms(session, user_id, old_tz, prefs.tz, now, change=change)
    if held_too:
        release_held(session, user_id, now, change=change)


def replan_rhythms(session: Session, user_id: int, old_tz: str, tz: str, now: datetime, *,
                   change: Change | None = None) -> None:
    """Each rhythm due on the same day as before, from the start of that day in the user's
    new zone `tz`, not the old zone's midnight (`old_tz`), which lands mid-window or on the
    day before in the new one. The day itself stays: whoever was overdue still is, and a
    moment set by hand keeps its day. One read and one write for all the user's contacts
    (and, when a move put someone's day after `now`, one read of their reminders). A plan
    that followed the clock follows it; one a reminder already out or a hold moved on
    (`plan_cadences`, `snooze` with nothing out) keeps its moment, so the zone alone never
    asks again."""
    moved: list[tuple[int, datetime, datetime | None]] = []
    not_due_yet: set[int] = set()
    for clock in queries.rhythm_clocks(session, user_id):
        if clock.next_due_at is None:
            continue
        due = planner.local_moment(planner.local_date(clock.next_due_at, old_tz), 0, tz)
        if due == clock.next_due_at:
            continue
        if clock.next_due_at <= now < due:
            # Due in the old zone, not yet in the new one (Tuesday morning in Tokyo is Monday
            # in Los Angeles): the reminder out would say "due now" beside tomorrow's day.
            not_due_yet.add(clock.contact_id)
        plan = due if clock.plan_at == clock.next_due_at else clock.plan_at
        if plan == due and due <= now < clock.next_due_at:
            # Due from now on: asked from now, under a key of its own (the moment is in it),
            # not the one of a reminder an earlier move closed for the same day, which the
            # sweep would take for planned already (Tokyo, Los Angeles, and back).
            plan = now
        moved.append((clock.contact_id, due, plan))
    # Closed as a longer rhythm closes it (`every`); a snoozed one holds the rhythm until
    # its end. Those closed ask again at their new moment, once.
    out = queries.cadence_nudges_out_of(session, user_id, not_due_yet)
    closing = [nudge_id for nudge_id, _ in out]
    asks_again = {contact_id for _, contact_id in out}
    moved = [(contact_id, due, due if contact_id in asks_again else plan)
             for contact_id, due, plan in moved]
    if change is not None:
        change.before_update("contacts", [contact_id for contact_id, _, _ in moved], PLANNED,
                             follows=PLANNED)
        change.before_update("nudges", closing, NUDGE_OUTCOME, follows=NUDGE_OUTCOME)
    queries.set_planned_moments(session, moved)
    queries.expire_nudges(session, closing)


def release_held(session: Session, user_id: int, now: datetime, *,
                 change: Change | None = None) -> None:
    """The user's planned nudges put off to a later moment are due now: the sweep then puts
    each off to the next moment the user's settings allow now. With `change`, their old
    moments are journaled, so `undo` sets them back with the settings."""
    held = queries.held_nudge_ids(session, user_id, now)
    if change is not None:
        change.before_update("nudges", held, ("deliver_after",), follows=("deliver_after",))
    queries.release_nudges(session, held, now)


def pause(turn: Turn, command: c.Pause) -> Reply:
    until = FAR_FUTURE if command.until is None else planner.local_moment(
        command.until, 0, turn.user.tz)
    change = Change(turn)
    change.before_update("users", [turn.user.user_id], ("paused_until",))
    queries.update_user(turn.session, turn.user.user_id, paused_until=until)
    # What an earlier pause held for its end comes at this one's (a shorter pause: sooner).
    release_held(turn.session, turn.user.user_id, turn.now, change=change)
    if command.until is None:
        change.save("paused nudges", unchanged="Nudges are already paused until you resume.")
        return Reply("Paused. No nudges until you type “resume”.", changed=True)
    change.save(f"paused nudges until {wording.short_date(command.until)}",
                unchanged="Nudges are already paused until "
                          f"{wording.friendly_day(command.until, turn.today)}.")
    return Reply(f"Paused until {wording.friendly_day(command.until, turn.today)}.",
                 changed=True)


def resume(turn: Turn, command: c.Resume) -> Reply:
    del command
    change = Change(turn)
    paused_until = turn.user.prefs.paused_until
    # Not paused (or a pause that has ended): nothing to resume, and a nudge waiting for the
    # window keeps waiting; `save` answers that nudges are on already.
    if paused_until is not None and paused_until > turn.now:
        change.before_update("users", [turn.user.user_id], ("paused_until",))
        queries.update_user(turn.session, turn.user.user_id, paused_until=None)
        # Nudges that came due during the pause were put off until its end: they are due
        # now, and the sweep sends them at the next moment the window allows.
        release_held(turn.session, turn.user.user_id, turn.now, change=change)
    change.save("resumed nudges", unchanged="Nudges are already on.")
    return Reply("Welcome back. Nudges are on again.", changed=True)

