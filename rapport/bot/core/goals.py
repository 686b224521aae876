"""Use cases on groups and goals: tags on people, a cadence goal per tag, and attainment.

A goal's cadence is the default for everyone carrying its tag unless they have their own. It is
materialised on the contact: `contacts.cadence_days` is what the sweep, the nudge wording, the
stats and the summary read (so planning stays one index range scan on `plan_at`), and
`contacts.goal_cadence_days` remembers the goal cadence last applied. A contact follows its
goals unless `contacts.cadence_own`: a rhythm of one's own (`every`, `add … every`, an import)
sets it, and from then on goals leave the rhythm alone, even when the two happen to be equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from rapport.bot.core import commands as c
from rapport.bot.core import people as people_cases
from rapport.bot.core.context import Turn, UserContext
from rapport.bot.core.journal import GOAL_RHYTHM, NUDGE_OUTCOME, TAG_GOAL, Change
from rapport.bot.core.people import find_contact, resolve_person
from rapport.bot.core.resolve import Resolved, resolve
from rapport.bot.core.views import GoalsView, OwnRhythmLine, Reply, TagLine, error
from rapport.scheduler import planner, wording
from rapport.scheduler.attainment import (
    GoalAttainment,
    every_phrase,
    goal_attainments,
    goal_line,
    percent,
)
from rapport.scheduler.items import called_names
from rapport.storage import queries
from rapport.storage.names import tag_key

MAX_TAGS_PER_PERSON = 20
# `goals` lists this many people with a rhythm of their own, then how many more.
MAX_OWN_RHYTHM_LINES = 10


# ---------------------------------------------------------------------- applying goals
def refresh_goal_cadences(session: Session, user_id: int, contact_ids: Iterable[int],
                          change: Change | None = None, *, tz: str,
                          now: datetime | None = None) -> dict[int, int | None]:
    """Re-apply the goals of these contacts' tags to their cadence; contact id -> new cadence
    of those whose rhythm changed.

    A contact who follows goals takes the new goal cadence (or none); a contact with a
    rhythm of their own keeps it. `change`: the journal entry to record what changes in.
    `now`: a rhythm that then falls due after it closes the reminder out about it, as
    `every` does (without it, only a rhythm gone closes them).
    """
    ids = list(dict.fromkeys(contact_ids))
    goals = queries.goal_cadences(session, user_id, ids)
    changed: dict[int, int | None] = {}
    for state in queries.goal_states(session, user_id, ids):
        goal = goals.get(state.id)
        months = planner.goal_months(goal)
        values: dict[str, object] = {}
        rhythm_changes = state.follows_goal and (state.cadence_days, state.cadence_months) != (
            goal, months)
        next_due = planner.cadence_next_due(state.last_touch_at, goal, state.created_at,
                                            months, tz=tz) if rhythm_changes else None
        # No rhythm any more, or none due before its new day: the reminder out about it
        # would contradict it.
        closes = rhythm_changes and (goal is None or (
            now is not None and next_due is not None and next_due > now))
        if change is not None and (goal != state.goal_cadence_days or rhythm_changes):
            change.before_update("contacts", [state.id], GOAL_RHYTHM)
            if closes:
                change.before_update("nudges", queries.open_cadence_nudge_ids(
                    session, user_id, state.id), NUDGE_OUTCOME)
        if goal != state.goal_cadence_days:
            values["goal_cadence_days"] = goal
        if rhythm_changes:
            values.update(cadence_days=goal, cadence_months=months, next_due_at=next_due,
                          plan_at=next_due)
            if closes:
                queries.expire_cadence_nudges(session, state.id, user_id=user_id,
                                              with_sent=True)
            changed[state.id] = goal
        if values:
            queries.update_contact(session, user_id, state.id, **values)
    return changed


def ensure_tag(session: Session, user: UserContext, name: str, now: datetime,
               change: Change | None = None) -> queries.TagRow:
    """The user's tag called `name`, created when new."""
    key = tag_key(name)
    found = queries.tag_by_key(session, user.user_id, key)
    if found is not None:
        return found
    tag_id = queries.insert_tag(session, workspace_id=user.workspace_id, user_id=user.user_id,
                                name=name, key=key, now=now)
    if change is not None:
        change.inserted_row("tags", tag_id)
    return queries.TagRow(tag_id, name, None)


def apply_tags(session: Session, user: UserContext, contact_id: int, tags: Sequence[str],
               now: datetime, change: Change) -> list[str]:
    """Put `tags` on a contact (creating tags as needed) and apply their goals; the tags that
    were new on the contact."""
    added = []
    for name in tags:
        tag = ensure_tag(session, user, name, now, change)
        row_id = queries.tag_contact(session, workspace_id=user.workspace_id,
                                     user_id=user.user_id, contact_id=contact_id,
                                     tag_id=tag.id, now=now)
        if row_id is not None:
            change.inserted_row("contact_tags", row_id)
            added.append(tag.name)
    if added:
        refresh_goal_cadences(session, user.user_id, [contact_id], change, tz=user.tz,
                              now=now)
    return added


def _list(names: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _rhythm_note(turn: Turn, contact_id: int, name: str, added: Sequence[str]) -> str:
    """' Dana now follows your goal: talk every month.' when the goal of a tag just put on
    Dana is the one her rhythm now follows; nothing when those tags have no goal (her rhythm
    may come from another tag's goal, which this tagging did not change)."""
    user_id = turn.user.user_id
    goals: set[int] = set()
    for added_tag in added:
        found = queries.tag_by_key(turn.session, user_id, tag_key(added_tag))
        if found is not None and found.goal_cadence_days is not None:
            goals.add(found.goal_cadence_days)
    goal_state = queries.goal_states(turn.session, user_id, [contact_id])
    if not goal_state or not goal_state[0].follows_goal or \
            goal_state[0].cadence_days not in goals:
        return ""
    return f" {name} now follows your goal: talk {every_phrase(goal_state[0].cadence_days)}."


# ---------------------------------------------------------------------- verbs
def tag(turn: Turn, command: c.TagPerson) -> Reply:
    change = Change(turn)
    contact, problem, created = find_contact(turn, command.person, create_mentions=True,
                                             change=change)
    if contact is None:
        return error(problem or "Who do you mean?")
    existing = queries.tags_of_contacts(turn.session, turn.user.user_id,
                                        [contact.id]).get(contact.id, [])
    if len(set(existing) | set(command.tags)) > MAX_TAGS_PER_PERSON:
        return error(f"{contact.name} can carry at most {MAX_TAGS_PER_PERSON} tags.")
    if created:
        change.inserted_row("contacts", contact.id)
    added = apply_tags(turn.session, turn.user, contact.id, command.tags, turn.now, change)
    if not added:
        return Reply(f"{contact.name} is already tagged {_list(list(command.tags))}.")
    change.save(f"tagged {contact.name} {_list(added)}")
    return Reply(f"Tagged {contact.name} {_list(added)}."
                 + _rhythm_note(turn, contact.id, contact.name, added), changed=True)


def untag(turn: Turn, command: c.UntagPerson) -> Reply:
    contact, problem, _ = find_contact(turn, command.person, create_mentions=False)
    if contact is None:
        return error(problem or "Who do you mean?")
    removed = []
    change = Change(turn)
    rows = queries.contact_tag_ids(turn.session, turn.user.user_id, contact.id)
    for name in command.tags:
        found = queries.tag_by_key(turn.session, turn.user.user_id, tag_key(name))
        if found is not None and found.id in rows:
            change.before_delete("contact_tags", [rows[found.id]])
            if queries.untag_contact(turn.session, turn.user.user_id, contact.id, found.id):
                removed.append(found.name)
    if not removed:
        return error(f"{contact.name} is not tagged {_list(list(command.tags))}.")
    refresh_goal_cadences(turn.session, turn.user.user_id, [contact.id], change,
                          tz=turn.user.tz, now=turn.now)
    change.save(f"took {_list(removed)} off {contact.name}")
    return Reply(c.full_stop(f"Took {_list(removed)} off {contact.name}"), changed=True)


def _names_a_person(turn: Turn, command: c.SetGoal) -> bool:
    """Whether `goal <words> every …` means one person: no group is called that, and the
    words name one of the user's people (or several, who are asked about)."""
    if command.person is None:
        return False
    if command.person.person.mention_id:
        return True
    if command.tag is not None and queries.tag_by_key(
            turn.session, turn.user.user_id, tag_key(command.tag)) is not None:
        return False
    found = resolve(turn.session, turn.user.user_id, command.person.person)
    if isinstance(found, Resolved):
        return True
    if command.tag is None:
        # Words that cannot be a group and come close to someone's name: `every` asks "did
        # you mean …?". Words that name nobody ("goal talk to 3 clients a week") are answered
        # in `goal`, with what a goal is, not with an offer to add a person so named.
        return bool(found.suggestions)
    return bool(found.suggestions) and found.message.startswith("Which ")


def goal(turn: Turn, command: c.SetGoal) -> Reply:
    if command.tag is None and command.person is not None and \
            command.person.days is None and command.person.months is None:
        # "goal @Dana off": a goal is a group's; one person's rhythm is turned off by `every`.
        named = resolve_person(turn, command.person.person)
        if not isinstance(named, Resolved):
            if named.suggestions or command.person.person.mention_id:
                return error(named.message)
            # Nobody and no group (a group's name is one word): no offer to add anyone.
            nobody = c.clip(command.person.person.text)
            return error(f"There is no person or group called “{nobody}”: nothing to turn off.")
        return error("A goal is a group's. " + _rhythm_source(turn, named.contact.id,
                                                               named.contact.name))
    if _names_a_person(turn, command):
        # "goal Dana every 2 weeks": once a tag goal nobody carried ("tagged dana").
        assert command.person is not None
        reply = people_cases.every(turn, command.person)
        if not reply.ok:
            return reply
        return Reply(f"Goal set: {reply.text} That rhythm is their own: a group's goal "
                     "won't change it, “every” or “goal” again will.", changed=True)
    if command.tag is None:
        name = command.person.person.text if command.person is not None else ""
        usage = ("A goal says how often to talk to everyone in a group (“goal clients every "
                 "month”) or to one of your people (“goal Dana every 2 weeks”).")
        if " " in name.strip():
            return error(f"I don't know anyone called “{c.clip(name)}”, and a group's name is "
                         f"one word. {usage} Someone new is added first: “add <name>”.")
        return error(f"“{c.clip(name)}” is not a tag name (use letters, digits and dashes), "
                     f"nor one of your people. {usage}")
    user_id = turn.user.user_id
    found = queries.tag_by_key(turn.session, user_id, tag_key(command.tag))
    if command.days is None:
        if found is None or found.goal_cadence_days is None:
            person = resolve(turn.session, user_id, c.PersonRef(text=command.tag)) \
                if found is None else None
            if isinstance(person, Resolved):
                # "goal Dana off": after "goal Dana every 2 weeks" that was Dana's own
                # rhythm; otherwise Dana may follow a group's goal, or have no rhythm.
                return error(f"There is no group called {command.tag}. " + _rhythm_source(
                    turn, person.contact.id, person.contact.name))
            if person is not None and person.message.startswith("Which "):
                # Two Danas: which one, as for any command naming a person.
                return error(f"There is no group called {command.tag}. {person.message}")
            return error(f"There is no goal for {command.tag} to turn off.")
        change = Change(turn)
        change.before_update("tags", [found.id], TAG_GOAL)
        queries.set_tag_goal(turn.session, user_id, found.id, None, turn.now)
        changed = refresh_goal_cadences(turn.session, user_id, queries.tag_member_ids(
            turn.session, user_id, found.id), change, tz=turn.user.tz, now=turn.now)
        change.save(f"turned off the goal for {found.name}")
        lost = sum(1 for days in changed.values() if days is None)
        other = len(changed) - lost
        rest = (f" {lost} of them no longer {'has' if lost == 1 else 'have'} a rhythm; set one "
                "with “every <name> 2 weeks”.") if lost else ""
        rest += (f" {other} of them now {'follows' if other == 1 else 'follow'} another goal."
                 if other else "")
        return Reply(f"Goal for {found.name} turned off.{rest}", changed=True)
    change = Change(turn)
    tag_row = found or ensure_tag(turn.session, turn.user, command.tag, turn.now, change)
    change.before_update("tags", [tag_row.id], TAG_GOAL)
    queries.set_tag_goal(turn.session, user_id, tag_row.id, command.days, turn.now)
    members = queries.tag_member_ids(turn.session, user_id, tag_row.id)
    refresh_goal_cadences(turn.session, user_id, members, change, tz=turn.user.tz,
                          now=turn.now)
    change.save(f"set the goal for {tag_row.name} to {every_phrase(command.days)}")
    states = queries.goal_states(turn.session, user_id, members)
    own = sum(1 for s in states if not s.follows_goal)
    text = f"Goal set: talk to everyone tagged {tag_row.name} {every_phrase(command.days)}."
    if not members:
        text += f" Nobody is tagged {tag_row.name} yet: “tag Lee {tag_row.name}” adds someone."
    elif own:
        text += (f" {own} of {len(members)} keep a rhythm of their own (set with “every”); "
                 "attainment counts everyone.")
    return Reply(text, changed=True)


def _rhythm_source(turn: Turn, contact_id: int, name: str) -> str:
    """Where `name`'s rhythm comes from and how to change it, for `goal <person> off` (a
    goal is a group's): their own rhythm, the group goal they follow, or none."""
    user_id = turn.user.user_id
    [state] = queries.goal_states(turn.session, user_id, [contact_id])
    goals = {row.name: row.goal_cadence_days for row, _count in
             queries.user_tags(turn.session, user_id) if row.goal_cadence_days}
    theirs = sorted((goals[tag_name], tag_name) for tag_name in queries.tags_of_contacts(
        turn.session, user_id, [contact_id]).get(contact_id, []) if tag_name in goals)
    if state.cadence_days is None:
        return f"{name} has no rhythm to turn off: “every {name} 3 weeks” sets one."
    if not state.follows_goal or not theirs:
        return (f"{name}'s rhythm is their own: “every {name} off” stops reminders, “every "
                f"{name} 3 weeks” changes it.")
    (days, tag_name), others = theirs[0], theirs[1:]
    also = (f", the {'shorter' if len(others) == 1 else 'shortest'} of their goals (also "
            + ", ".join(f"{other} {every_phrase(more)}" for more, other in others) + ")"
            ) if others else ""
    return (f"{name} follows your goal for {tag_name} ({every_phrase(days)}){also}; their "
            f"rhythm is not their own. “untag {name} {tag_name}” takes them out of it, “goal "
            f"{tag_name} off” turns it off for everyone tagged {tag_name}, and “every {name} "
            f"off” stops reminders for {name} alone.")


def _own_rhythm_line(row: queries.OwnRhythmRow, turn: Turn) -> OwnRhythmLine:
    last = row.last_touch_at
    # The rule `stats` counts by: not overdue (due today is still within), a first period
    # not run out yet included.
    within = planner.within_rhythm(row.next_due_at, turn.now, turn.user.tz)
    talked = wording.friendly_day(planner.local_date(last, turn.user.tz), turn.today) \
        if last is not None else None
    return OwnRhythmLine(row.name, planner.cadence_text(row.cadence_days, row.cadence_months),
                         within, talked)


def goals_view(turn: Turn) -> GoalsView:
    tags = tuple(TagLine(row.name, count, row.goal_cadence_days)
                 for row, count in queries.user_tags(turn.session, turn.user.user_id))
    own = tuple(_own_rhythm_line(row, turn)
                for row in queries.own_rhythms(turn.session, turn.user.user_id))
    return GoalsView(tags=tags, goals=goal_attainments(turn.session, turn.user.user_id,
                                                       turn.now, tz=turn.user.tz), own=own)


def trend_line(goal_row: GoalAttainment) -> str:
    """'week by week: 56%, 60%, …, 78% now' (weeks before anyone was in the group are left
    out)."""
    shares = [percent(point.share) for point in goal_row.trend if point.members]
    return "week by week: " + ", ".join(shares) + " now"


def _own_rhythms_text(own: Sequence[OwnRhythmLine]) -> list[str]:
    """'People with a rhythm of their own: 1 of 2 within their rhythm' (the words and the
    rule of `stats`' health), then one line each."""
    within = sum(1 for line in own if line.within)
    lines = [f"People with a rhythm of their own: {within} of {len(own)} within their rhythm"]
    for line in own[:MAX_OWN_RHYTHM_LINES]:
        status = "no conversation logged yet" if line.last_talked is None \
            else f"last talked {line.last_talked}"
        status += "" if line.within else ", overdue"
        lines.append(f"  {line.name}: every {line.every}, {status}")
    if len(own) > MAX_OWN_RHYTHM_LINES:
        lines.append(f"  … and {len(own) - MAX_OWN_RHYTHM_LINES} more (“people” lists "
                     "everyone)")
    return lines


def goals_text(view: GoalsView) -> str:
    own = _own_rhythms_text(view.own) if view.own else []
    if not view.tags:
        return "\n".join([*own, "You have no groups yet. Tag people (“tag Lee clients”), then "
                           "set a goal for the group (“goal clients every month”)."])
    lines = []
    by_tag = {g.tag: g for g in view.goals}
    if view.goals:
        lines.append("Your goals:")
        for attained in view.goals:
            lines.append(f"  {goal_line(attained)}")
            if attained.now.members:
                lines.append(f"    {trend_line(attained)}")
    others = [t for t in view.tags if t.name not in by_tag]
    if others:
        lines.append("Groups without a goal: " + ", ".join(
            f"{t.name} ({t.people})" for t in others)
            + f". Set one with “goal {others[0].name} every month”.")
    return "\n".join(lines + own)


def show_goals(turn: Turn, command: c.ShowGoals) -> Reply:
    del command
    view = goals_view(turn)
    return Reply(goals_text(view), view=view)


def add_tagged(turn: Turn, command: c.AddContact) -> Reply:
    """`add` with #tags: the person is added as `add` always does, then tagged."""
    change = Change(turn)
    reply, contact = people_cases.add_contact(turn, command, change)
    if contact is None:
        return reply
    if not command.tags:
        change.save(f"added {contact.name}")
        return reply
    added = apply_tags(turn.session, turn.user, contact.id, command.tags, turn.now, change)
    change.save(f"added {contact.name}")
    text = reply.text + (f" Tagged {_list(added)}." if added else "")
    # A rhythm given in `add` is the person's own (the reply said so already); otherwise
    # say which goal they follow, if any.
    [state] = queries.goal_states(turn.session, turn.user.user_id, [contact.id])
    if state.follows_goal and state.cadence_days:
        text = text.replace(f" Set how often with {wording.every_example(contact.name)}.", "")
        text += f" Your goal for them: talk {every_phrase(state.cadence_days)}."
    return Reply(text, changed=True, view=reply.view)


def person_badges(tags: Sequence[str], *, sensitive: bool, ai_drafts: bool,
                  first_name: str) -> list[str]:
    """What `show` adds about a person: their tags and how AI may help with them.

    ['#clients', '#vip', 'Sensitive: write to Dana personally; no drafts.'].
    """
    badges = [f"#{name}" for name in tags]
    if sensitive:
        badges.append(f"Sensitive: write to {first_name} personally; no drafts.")
    elif not ai_drafts:
        badges.append(f"AI drafts off for {first_name}: template drafts only.")
    return badges


def person_badges_for(session: Session, user_id: int, contact_id: int) -> list[str]:
    """`person_badges` of one of the user's contacts (empty when it is not theirs), calling
    them as the card does: by their first name past any title ("Dr. Jane Doe" is Jane), or in
    full when another contact has that first name."""
    flags = queries.person_flags(session, user_id, contact_id)
    if flags is None:
        return []
    return person_badges(flags.tags, sensitive=flags.sensitive, ai_drafts=flags.ai_drafts,
                         first_name=called_names(session, {contact_id: flags.name})[contact_id])

