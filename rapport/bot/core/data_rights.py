"""Use cases on a person's data as a whole: export it, import contacts, forget it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rapport.bot.core import commands as c
from rapport.bot.core.calendars import NAMES as CALENDAR_NAMES
from rapport.bot.core.calendars import REMOVE_ACCESS
from rapport.bot.core.context import Directory, Turn, UserContext
from rapport.bot.core.journal import exported_history
from rapport.bot.core.people import forget_person
from rapport.bot.core.views import Attachment, FileView, Reply
from rapport.scheduler import planner, wording
from rapport.storage import queries
from rapport.storage.models import AUTOMATIC_SOURCES, CALENDAR_SOURCE, SLACK_DM_SOURCE, TYPED_SOURCE

if TYPE_CHECKING:
    from rapport.bot.core.rapport import Rapport

# The export's file name: front ends that hand files over differently (Teams' file consent)
# know an export by it, not by parsing the words that asked for it again.
EXPORT_FILENAME = "rapport-export.json"
FORGET_ME_WARNING = ("This deletes everything Rapport stores for you: people, notes, "
                     "conversations, nudges and drafts. It cannot be undone. To go ahead, type "
                     "“forget me confirm”.")
# A touchpoint's `source` as `export` explains it.
LOGGED_FROM = {CALENDAR_SOURCE: "calendar", SLACK_DM_SOURCE: "Slack DMs", TYPED_SOURCE: "typed",
               "nudge": "nudge marked done", "import": "import"}
IMPORT_IN_CHAT = ("Import reads a file on your own computer, so it works in the console "
                  "(“rapport chat”) or with “rapport import FILE --user ...”.")


def export_data(turn: Turn) -> dict[str, Any]:
    """Every row Rapport keeps for this user, as plain JSON-ready data."""
    tables = queries.user_rows(turn.session, turn.user.user_id)
    [user] = tables.pop("user")
    result: dict[str, Any] = {"user": user, "exported_at": turn.now, **tables,
                              **queries.chat_capture_rows(turn.session, turn.user.user_id)}
    for touch in result["touchpoints"]:
        # How each conversation got here, in words: Rapport logged it, or the person did.
        touch["automatic"] = touch["source"] in AUTOMATIC_SOURCES
        touch["logged_from"] = LOGGED_FROM.get(touch["source"], touch["source"])
    for draft in result["drafts"]:
        # An old draft's texts are NULL once the workspace's retention removed them; it says so.
        draft["cleared_by_retention"] = draft["draft_text"] is None
    # What `undo` can still reverse, with the before-images it keeps, except what it keeps of
    # people just forgotten: only until when they can be brought back (see journal.py).
    result["undo_history"], pending = exported_history(result["undo_history"], turn.now)
    result["forgotten_people_undo_until"] = pending
    result["sent_to_ai_providers"] = [
        {"draft_id": d["id"], "provider": d["provider"], "model": d["model"],
         "sent": json.loads(d["sent_context"]) if d["sent_context"] else None,
         "at": d["created_at"]}
        for d in result["drafts"] if d["sent_context"]]
    return result


async def export(core: Rapport, ctx: UserContext, command: c.Export,
                 directory: Directory | None) -> Reply:
    del command, directory
    # The calendar rows first, then the unit of work that checks the cached ids are still
    # the actor's (`StaleUser` otherwise): they were the actor's when the calendar was read.
    calendar = await core.calendars.export(ctx.user_id) if core.calendars is not None else {}
    data = await core.read(ctx, export_data)
    data.update(calendar)
    payload = json.dumps(data, indent=2, ensure_ascii=False, default=str).encode()
    return Reply(f"Here is everything Rapport stores about your relationships "
                 f"({wording.counted(len(data['contacts']), 'person', 'people')})."
                 + _kept_for_undo(data["forgotten_people_undo_until"], ctx),
                 view=FileView(Attachment(EXPORT_FILENAME, "application/json", payload)))


def _kept_for_undo(until: list[datetime], ctx: UserContext) -> str:
    """The sentence about people forgotten in the last 15 minutes: how many, and until when
    `undo` can bring them back (their data is not in the file)."""
    if not until:
        return ""
    latest = max(until).astimezone(planner.zone(ctx.tz))
    count = len(until)
    person = wording.counted(count, "person", "people")
    last = "" if count == 1 else " at the latest"
    return (f" {person} you forgot can still be brought back with “undo” until "
            f"{latest:%H:%M}{last}; nothing about them is in this file, and what Rapport keeps "
            "for undo is deleted then.")


def forget_me_warning(turn: Turn) -> str:
    """What `forget me` will do, naming the connections it withdraws first. A provider that
    gives Rapport no way to withdraw its access (Microsoft) is named with where the person
    removes it, as `disconnect calendar` says it."""
    user_id = turn.user.user_id
    providers = [provider for provider, *_ in queries.calendar_states(turn.session, user_id)]
    connected = [f"your {CALENDAR_NAMES.get(provider, provider)} calendar"
                 for provider in providers]
    connected += [f"the logging of your {provider.capitalize()} DMs"
                  for provider in queries.chat_capture_providers(turn.session, user_id)]
    if not connected:
        return FORGET_ME_WARNING
    what = " and ".join(connected) if len(connected) <= 2 else \
        ", ".join(connected[:-1]) + " and " + connected[-1]
    kept = [REMOVE_ACCESS[provider] for provider in providers if provider in REMOVE_ACCESS]
    if not kept:
        done = "withdraws its access."
    elif len(kept) == len(connected):
        done = "deletes its tokens." if len(kept) == 1 else "deletes their tokens."
    else:
        done = "withdraws its access where it can."
    return FORGET_ME_WARNING.replace(
        "drafts.", " ".join([f"drafts. Before that, Rapport disconnects {what} and {done}",
                             *kept]), 1)


def forget(turn: Turn, command: c.Forget) -> Reply:
    if command.person is not None:
        return forget_person(turn, command.person, confirmed=command.confirmed)
    if not command.confirmed:
        return Reply(forget_me_warning(turn))
    queries.queue_redactions(turn.session, turn.now, workspace_id=turn.user.workspace_id,
                             user_id=turn.user.user_id)
    queries.delete_user(turn.session, turn.user.workspace_id, turn.user.user_id)
    # changed, erased: what platforms show of it (Slack's App Home) is cleared too, at once.
    return Reply("Done. Everything Rapport stored for you is deleted.", changed=True,
                 erased=True)
