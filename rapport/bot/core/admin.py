"""Admin controls in chat: a workspace's AI policy, disclosure line, retention, team report
and purge, for its admins only.

The platform says who is an admin (`Admins`); this module never sees a platform. Everything
here acts on the actor's own workspace and reads or writes workspace rows, aggregates and
counts only: an admin sees no other person's contacts, notes or drafts. The operator CLI
(`rapport workspace-ai`, `retention`, `report`, `purge-workspace`) calls the same functions.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from rapport.bot.core import commands as c
from rapport.bot.core.calendars import REMOVE_ACCESS
from rapport.bot.core.context import Admins, Directory, UserContext
from rapport.bot.core.drafts import set_workspace_ai
from rapport.bot.core.report import GroupTooSmall, build_report, report_csv
from rapport.bot.core.users import StaleUser, fresh_context
from rapport.bot.core.views import Attachment, FileView, Reply, error
from rapport.scheduler.lifecycle import purge_workspace
from rapport.scheduler.retention import set_retention
from rapport.scheduler.wording import counted
from rapport.storage import queries

if TYPE_CHECKING:
    from rapport.bot.core.rapport import Rapport

logger = logging.getLogger(__name__)

NOT_ADMIN = ("Only workspace admins can change that, and you are not one here ({who}). "
             "Your own settings are under “settings”.")
NO_ADMINS = "Only workspace admins can change that, and I can't tell who they are here."
CANNOT_CHECK = ("I could not check that you are an admin of this workspace right now. Please "
                "try again in a moment.")
REPORT_FILENAME = "rapport-team-report.csv"


async def refusal(ctx: UserContext, admins: Admins | None) -> Reply | None:
    """None when the actor is an admin of their workspace; otherwise the answer to give."""
    if admins is None:
        answer = NO_ADMINS
    else:
        try:
            allowed = await admins.is_admin(ctx.user_external_id)
        except Exception as failure:  # a platform failure must never grant, nor raise
            logger.warning("admin check failed", extra={"error": type(failure).__name__})
            allowed = None
        if allowed:
            return None
        answer = CANNOT_CHECK if allowed is None else NOT_ADMIN.format(who=admins.who)
    logger.info("admin command refused", extra={"workspace_id": ctx.workspace_id})
    return error(answer)


async def admin(core: Rapport, ctx: UserContext, command: c.Admin,
                directory: Directory | None) -> Reply:
    """Run one admin command for the actor's own workspace (the actor is an admin)."""
    del directory  # nobody is named by @mention here
    # The ids this process cached may be older than another replica's purge: the workspace
    # is a new row since, or (SQLite gives a deleted row's id to the next one) the id is
    # another workspace's. Read by them again, they must still be the actor's rows;
    # `StaleUser` otherwise, and the caller finds the actor's rows afresh and runs the
    # command again, so no admin command acts on a dead or another workspace.
    known = ctx
    ctx = await core.db.run(lambda session: fresh_context(session, known), write=False,
                            short=True)
    action = command.action
    if action == "ai":
        assert command.ai_enabled is not None
        return await _set_policy(core, ctx, ai_enabled=command.ai_enabled)
    if action == "disclosure":
        return await _set_policy(core, ctx, disclosure=command.disclosure)
    if action == "retention":
        return await _set_retention(core, ctx, command)
    if action == "report":
        return await _report(core, ctx)
    if action == "purge":
        return await (_purge(core, ctx) if command.confirmed else _purge_preview(core, ctx))
    return await status(core, ctx)


async def status(core: Rapport, ctx: UserContext, *, changed: str = "") -> Reply:
    """The workspace's current settings, after what just changed when something did."""
    policy = await core.db.run(lambda session: queries.workspace_policy(
        session, ctx.workspace_id), write=False)
    if policy is None:  # purged by another admin a moment ago
        return error("This workspace has no data in Rapport any more.")
    ai = "on" if policy.ai_enabled else "off (everyone gets templates to write from)"
    if policy.ai_enabled and getattr(core.drafter, "provider", None) is None:
        ai = "on, but no AI provider is set up on this server, so drafts are templates"
    lines = [changed] if changed else []
    lines += ["Settings for everyone in this workspace:",
              f"• AI drafts: {ai}",
              f"• Disclosure line on AI-assisted messages: {policy.disclosure_policy}",
              f"• Retention of notes and conversation summaries: "
              f"{retention_text(policy.retention_months)}"]
    if not changed:
        lines.append("Change them with “admin ai on|off”, “admin disclosure "
                     "required|optional|off”, “admin retention 12 months|off”; “admin report” "
                     "sends the team report, “admin purge” deletes the workspace's data. "
                     "Everything else stays each person's own.")
    return Reply("\n".join(lines), changed=bool(changed))


def retention_text(months: int | None) -> str:
    if not months:
        return "kept until people delete them"
    return f"{_months(months)}, then deleted"


def _months(months: int) -> str:
    return counted(months, "month")


async def _set_policy(core: Rapport, ctx: UserContext, *, ai_enabled: bool | None = None,
                      disclosure: str | None = None) -> Reply:
    # Named by its platform ids as well, so a purge since the check above changes nothing
    # rather than another workspace, and the command runs again for the actor's rows.
    changed = await set_workspace_ai(core.sessions, platform=ctx.platform,
                                     external_id=ctx.workspace_external_id,
                                     workspace_id=ctx.workspace_id, ai_enabled=ai_enabled,
                                     disclosure_policy=disclosure)
    if not changed:
        raise StaleUser()
    # This process's cached contexts of the workspace's users; commands re-read it anyway.
    core.users.expire_workspace(ctx.workspace_id)
    logger.warning("workspace policy changed by an admin",
                   extra={"workspace_id": ctx.workspace_id, "ai_enabled": ai_enabled,
                          "disclosure_policy": disclosure})
    if ai_enabled is not None:
        done = ("AI drafts are on for this workspace; each person can still turn them off "
                "for themselves." if ai_enabled else
                "AI drafts are off for everyone in this workspace; drafts are templates to "
                "write from, and nothing is sent to an AI provider.")
    else:
        done = {"required": "AI-assisted messages now always end with the disclosure line.",
                "optional": "People now choose whether AI-assisted messages carry the "
                            "disclosure line.",
                "off": "AI-assisted messages no longer carry a disclosure line."}[
            disclosure or "optional"]
    return await status(core, ctx, changed=done)


async def _set_retention(core: Rapport, ctx: UserContext, command: c.Admin) -> Reply:
    months = command.retention_months
    await set_retention(core.sessions, ctx.workspace_id, months)
    logger.warning("workspace retention changed by an admin",
                   extra={"workspace_id": ctx.workspace_id, "months": months})
    if months is None:
        done = ("Retention off: notes and conversation summaries are kept until people delete "
                "them.")
    else:
        read_as = _months(months)
        typed = command.retention_text
        shown = read_as if not typed or typed.lower().startswith(f"{months} month") \
            else f"{read_as} (“{typed}” in whole months)"
        done = (f"Retention set to {shown}: notes and conversation summaries older than that "
                "are deleted for everyone in this workspace at the next cleanup (every 6 "
                "hours). Dates and kinds of conversations stay, for stats.")
    return await status(core, ctx, changed=done)


async def _report(core: Rapport, ctx: UserContext) -> Reply:
    try:
        team = await build_report(core.sessions, ctx.workspace_id, core.clock())
    except GroupTooSmall as small:
        return error(str(small))
    logger.info("team report sent to an admin", extra={"workspace_id": ctx.workspace_id})
    return Reply(f"The team report for this workspace: {team.users} people, {team.contacts} "
                 f"contacts, last {len(team.weeks)} weeks. Aggregates only: no names, notes or "
                 "drafts. (“rapport report” on the server also draws the charts.)",
                 view=FileView(Attachment(REPORT_FILENAME, "text/csv",
                                          report_csv(team).encode())))


async def _purge_preview(core: Rapport, ctx: UserContext) -> Reply:
    def read(session: Session) -> tuple[list[tuple[str, int]], list[tuple[int, str, str]]]:
        return (queries.workspace_counts(session, ctx.workspace_id),
                queries.workspace_grants(session, ctx.workspace_id))

    counts, grants = await core.db.run(read, write=False)
    listed = ", ".join(f"{label}: {count}" for label, count in counts)
    tokens = ("; Rapport's stored installation for this workspace is deleted too, so it must "
              "be installed again to be used here" if ctx.platform in core.workspace_tokens
              else "")
    return Reply(f"This deletes everything Rapport stores for this workspace, for every "
                 f"person in it ({listed}){tokens}.{_grants_withdrawn(grants)} It cannot be "
                 "undone. To go ahead, type “admin purge confirm”.")


def _grants_withdrawn(grants: Sequence[tuple[int, str, str]]) -> str:
    """What the purge withdraws at the providers first, as `forget me` says it for one
    person (counts only: whose they are is theirs). A provider that gives Rapport no way to
    withdraw its access (Microsoft) is named with where it is removed, in `disconnect
    calendar`'s words."""
    calendars = sum(1 for _, kind, _ in grants if kind == "calendar")
    kept = sorted({provider for _, kind, provider in grants
                   if kind == "calendar" and provider in REMOVE_ACCESS})
    chats: dict[str, set[int]] = {}
    for user_id, kind, provider in grants:
        if kind == "chat":
            chats.setdefault(provider, set()).add(user_id)
    what = []
    if calendars:
        what.append("the calendar connected here" if calendars == 1
                    else f"the {calendars} calendars connected here")
    what += [f"the logging of {counted(len(people), 'person', 'people')}'s "
             f"{provider.capitalize()} DMs" for provider, people in sorted(chats.items())]
    if not what:
        return ""
    if not kept:
        done = "withdraws its access."
    elif any(kind != "calendar" or provider not in REMOVE_ACCESS
             for _, kind, provider in grants):
        done = "withdraws its access where it can."
    else:
        done = "deletes its tokens." if calendars == 1 else "deletes their tokens."
    return " ".join(["", f"Before that, Rapport disconnects {' and '.join(what)} and {done}",
                     *(REMOVE_ACCESS[provider] for provider in kept)])


async def withdraw_grants(core: Rapport, workspace_id: int) -> None:
    """Revoke at the providers every grant the workspace's people gave (calendars, chat
    capture), as `forget me` does for one person, before the rows holding them go."""
    grants = await core.db.run(lambda session: queries.workspace_grants(
        session, workspace_id), write=False)
    for user_id in sorted({user_id for user_id, _, _ in grants}):
        if core.calendars is not None:
            await core.calendars.forget_user(user_id)
        for capture in core.chat_captures.values():
            await capture.forget_user(user_id)


async def _purge(core: Rapport, ctx: UserContext) -> Reply:
    people = await core.db.run(lambda session: dict(queries.workspace_counts(
        session, ctx.workspace_id)), write=False)
    purged = await purge_workspace(core.sessions, ctx.workspace_id, core.clock(),
                                   release=lambda workspace_id: withdraw_grants(core,
                                                                                workspace_id))
    # Every cached id of the workspace names deleted rows now; the next command starts afresh.
    core.users.forget(ctx.platform, ctx.workspace_external_id)
    if not purged:  # another admin's purge, in the moment since the rows were read
        return error("Nothing left to delete: this workspace's data was deleted a moment ago.")
    if core.redact_now is not None:
        # The reminders delivered here are cleared while the installation's token still
        # exists (it is deleted next); what fails now is tried again by the scheduler.
        await core.redact_now()
    deleted_tokens = 0
    tokens = core.workspace_tokens.get(ctx.platform)
    if tokens is not None:
        deleted_tokens = await tokens.delete(ctx.workspace_external_id)
    logger.warning("workspace purged by an admin", extra={"workspace_id": ctx.workspace_id,
                                                         "installations": deleted_tokens})
    again = (" and its stored installation; install Rapport again to use it here"
             if deleted_tokens else "")
    return Reply(f"Done. Deleted everything Rapport stored for this workspace "
                 f"({_whose_data(people.get('people using Rapport', 0))}){again}.")


def _whose_data(people: int) -> str:
    """How the purge answer names whose data went: "1 person's data", "3 people's data"."""
    if not people:
        return "no one's data"
    return f"{counted(people, 'person', 'people')}'s data"
