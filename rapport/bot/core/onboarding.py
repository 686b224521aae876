"""The first meeting: a short welcome, once per person, whichever front end they use first."""

from __future__ import annotations

from rapport.bot.core.context import Turn
from rapport.storage import queries

PRIVACY_NOTICE = ("Everything you tell Rapport stays private to you: your people, notes and "
                  "nudges are never shown to anyone else, and AI drafts are sent only what "
                  "“export” lists.")


# Three commands to start with, one a line, as typed to the bot.
FIRST_COMMANDS = ("  add Dana every 2 weeks\n"
                  "  note Dana: hiking trip in Yosemite after Saturday\n"
                  "  due")


def greeting(display_name: str) -> str:
    """Hello, and what Rapport does, in one line."""
    first = display_name.split(" ")[0] if display_name.strip() else "there"
    return (f"Hi {first}, I'm Rapport. I remember who you talk to and what they told you, and "
            "tell you privately when it is a good moment to reach out, and why.")


def welcome_text(display_name: str) -> str:
    """What Rapport does, privacy in one sentence, three commands to start."""
    return (f"{greeting(display_name)}\n"
            f"{PRIVACY_NOTICE}\n"
            f"Three commands to start:\n{FIRST_COMMANDS}\n"
            "Type “help” for everything else.")


def first_meeting(turn: Turn) -> bool:
    """True the first time it is asked for this user (and records it)."""
    return queries.mark_welcomed(turn.session, turn.user.user_id, turn.now)
