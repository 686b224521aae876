"""The accounts a Teams message @mentions, as the message itself describes them.

Each `mention` entity carries the account's id and display name, so the command path needs no
roster call. Bot Framework ids in Teams say what kind of account they are: a user's starts
with "29:", a bot's with "28:". The conversation's own bot (the activity's recipient) is a
bot whatever its id: the Bot Framework Emulator's has no prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rapport.bot.core.context import NotAPerson

BOT_ID_PREFIX = "28:"


def is_bot(account_id: str, own_bot_id: str | None = None) -> bool:
    """Whether a Teams account id is a bot's: any app's ("28:"), or this conversation's own."""
    return account_id.startswith(BOT_ID_PREFIX) or (bool(own_bot_id) and account_id == own_bot_id)


@dataclass(frozen=True, slots=True)
class Mentioned:
    """One @mentioned account: the name Teams showed, and whether it is a bot."""

    name: str
    bot: bool


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
        """"bot" for a bot's mention; Teams' mentions say nothing of deactivated accounts."""
        found = self._mentioned.get(user_external_id)
        return "bot" if found is not None and found.bot else None
