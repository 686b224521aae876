"""The accounts a Teams message @mentions, as the message itself describes them.

Each `mention` entity carries the account's id and display name, so the command path needs no
roster call. Bot Framework ids in Teams say what kind of account they are: a user's starts
with "29:", a bot's with "28:", a conversation's (a channel, a team, a group chat's
"Everyone") with "19:". The conversation's own bot (the activity's recipient) is a bot
whatever its id: the Bot Framework Emulator's has no prefix. A tag (a named set of team
members) says so in the entity's `type`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from rapport.bot.core.context import NotAPerson
from rapport.storage import names

BOT_ID_PREFIX = "28:"
CONVERSATION_ID_PREFIX = "19:"
# What a mention entity's `mentioned.type` says of a person; a tag's is "tag". Absent, as in
# most mentions Teams sends, the id's prefix tells.
PERSON_TYPES = frozenset({"", "person", "user"})

# Generational suffixes and credentials a name may end with after a comma ("John Smith, Jr.",
# "Dana Scully, PhD"): no "Last, First" order to undo.
_NAME_SUFFIXES = frozenset({
    "jr", "sr", "ii", "iii", "iv", "v", "phd", "md", "dds", "esq", "mba", "cpa", "pe", "rn"})
# A label a directory appends after the name: "(Contractor)", "[EXT]".
_TRAILING_LABEL = re.compile(r"\s*(\([^()]*\)|\[[^\[\]]*\])\s*$")


def is_bot(account_id: str, own_bot_id: str | None = None) -> bool:
    """Whether a Teams account id is a bot's: any app's ("28:"), or this conversation's own."""
    return account_id.startswith(BOT_ID_PREFIX) or (bool(own_bot_id) and account_id == own_bot_id)


def is_group(mentioned: Mapping[str, object]) -> bool:
    """Whether a mention entity's `mentioned` names many people: a channel, a team, a group
    chat's "Everyone" (conversation ids, "19:"), or a tag."""
    kind = str(mentioned.get("type") or "").lower()
    return str(mentioned.get("id") or "").startswith(CONVERSATION_ID_PREFIX) \
        or kind not in PERSON_TYPES


def natural_order(name: str) -> str:
    """A directory's "Last, First" name in the order people say it: "Mulder, Fox" is
    "Fox Mulder", "Smith-Jones, Ann-Marie (Contractor)" is "Ann-Marie Smith-Jones
    (Contractor)"; any other name as it is, its spaces tidied.

    Why here, not in the core: the core takes a first name to be a name's first word (drafts
    say "Hi Fox!", nudges "ask Fox about…", the welcome "Hi Dana,"), and Teams is where the
    comma order comes from (Azure AD's displayName in many companies). The contact is stored
    as "Fox Mulder" so that every one of those reads right, and a contact added by typing
    "add Fox Mulder" is the same person.
    """
    tidy = " ".join(name.split())
    label = _TRAILING_LABEL.search(tidy)
    body, suffix = (tidy[:label.start()], label.group(1)) if label else (tidy, "")
    last, comma, first = body.partition(",")
    last, first = last.strip(), first.strip()
    if not comma or "," in first or not last or not first \
            or first.lower().rstrip(".") in _NAME_SUFFIXES:
        return tidy
    return " ".join(part for part in (first, last, suffix) if part)


def given_name(name: str) -> str:
    """The name to greet someone by: the storage's `given_name` (past the titles of its one
    list, "Dr.", "Sir", "Dame"…) of the name in the order people say it ("Dr. Jane Doe",
    "Doe, Jane" and "Dench, Dame Judi" are "Jane", "Jane" and "Judi"); "" when there is none.

    Why here, not in the core: Teams is where "Last, First" names come from (Azure AD's
    displayName)."""
    return names.given_name(natural_order(name))


@dataclass(frozen=True, slots=True)
class Mentioned:
    """One @mentioned account: the name Teams showed, and why it is no person (None: it is
    one)."""

    name: str
    not_a_person: NotAPerson | None = None


class MentionDirectory:
    """The core's `Directory` for one Teams message: the accounts it @mentions, by the id the
    command's mention tokens carry."""

    def __init__(self, mentioned: Mapping[str, Mentioned]) -> None:
        self._mentioned = dict(mentioned)

    async def display_name(self, user_external_id: str) -> str | None:
        """The name Teams showed in the mention, or None for an account it did not mention."""
        found = self._mentioned.get(user_external_id)
        return found.name or None if found is not None else None

    async def not_a_person(self, user_external_id: str) -> NotAPerson | None:
        """"bot" for a bot's mention, "group" for a channel's, a team's, "Everyone" or a tag;
        Teams' mentions say nothing of deactivated accounts."""
        found = self._mentioned.get(user_external_id)
        return found.not_a_person if found is not None else None
