"""What people type in Slack, read back as the plain words they typed.

Slack sends slash-command text (with `should_escape`) and message text in its own markup: `&`,
`<` and `>` arrive as `&amp;`, `&lt;` and `&gt;`, and what Slack linked arrives in angle
brackets (`<mailto:dana@acme.com|dana@acme.com>`, `<https://acme.com|acme.com>`,
`<#C123|general>`, `<!here>`). The core reads plain text, with `<@U123|name>` for a mentioned
person (and for a mention of many people: `_GROUP_PREFIX`); everything else is turned back into
what the person saw when they typed it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# One markup token or one escaped character, in a single pass: an entity inside a token's
# label is decoded with the label, and a decoded `&lt;` never starts a token.
_MARKUP = re.compile(r"<([^<>]*)>|&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_BROADCASTS = {"here", "channel", "everyone"}
# A command reads Slack's mentions of many people (`<!here>`, `<!channel>`, `<!everyone>`, a user
# group's `<!subteam^S0ENG|@eng>`) as mentions of these made-up ids (`group:here`,
# `group:S0ENG`): where a person goes, the directory says each is a group, no one person (as it
# says a bot is), and in free text they read "@here", "@eng", as the person saw them. No Slack
# account id has a colon.
_GROUP_PREFIX = "group:"


# Ids Rapport writes into buttons and views fit a database integer (64 bits: 19 digits).
_MAX_ID_DIGITS = 18


def row_id(value: object) -> int | None:
    """An id as Rapport wrote it into a button or a view (ASCII digits that fit a database
    integer), or None for anything else a forged or garbled payload holds: `str.isdigit`
    takes "²", which `int` refuses, and an id past 64 bits fails in the database."""
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= _MAX_ID_DIGITS \
        else None


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def group_mentioned(mention_id: str) -> str | None:
    """For a group's mention id (see `_GROUP_PREFIX`): its name ("here", or "" for a user
    group, which its mention's label names); None for anyone else's id."""
    if not mention_id.startswith(_GROUP_PREFIX):
        return None
    group = mention_id.removeprefix(_GROUP_PREFIX)
    return group if group in _BROADCASTS else ""


# A link's address without its scheme and closing slash: Slack labels a link it made of typed
# words ("acme.com") with those words, which say where it points already.
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# A mention without a label (how Slack sends them now): `<@U123>`, `<@W123>`.
_BARE_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")


def _bare_address(address: str) -> str:
    return _SCHEME.sub("", address).rstrip("/").lower()


def unnamed_mentions(text: str) -> list[str]:
    """The user ids `text` mentions without a name (whose names a text box must look up), in
    order, each once."""
    return list(dict.fromkeys(_BARE_MENTION.findall(text)))


def _token(inner: str, name_of: Callable[[str], str | None] | None) -> str:
    target, _, label = inner.partition("|")
    label = _unescape(label)
    if target.startswith("@"):
        if name_of is None:
            return f"<{inner}>"  # a mention: the core's own token
        return "@" + (label or name_of(target[1:]) or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        special, _, group_id = target[1:].partition("^")
        if special in _BROADCASTS:
            group, said = special, special
        elif special == "subteam" and group_id.isalnum() and label:
            group, said = group_id, label.removeprefix("@")
        else:
            return label  # a date, say: its text as shown
        if name_of is None:
            # The core's mention token, so a group is refused where a person goes.
            return f"<@{_GROUP_PREFIX}{group}|{said}>"
        return "@" + said
    if target.startswith("mailto:"):
        return _unescape(target.removeprefix("mailto:"))
    address = _unescape(target)
    if name_of is not None and label and _bare_address(label) != _bare_address(address):
        # In a text box the link's words would lose where it points: both are kept.
        return f"{label} ({address})"
    return label or address


def plain_text(text: str, *, name_of: Callable[[str], str | None] | None = None) -> str:
    """`text` as typed: entities decoded, links and channels as shown; user mentions stay
    `<@U123|name>` tokens, or become `@name` when `name_of` is given (for a text box, where a
    link labelled with other words than its address shows both: "the plan (https://…)")."""
    def replace(match: re.Match[str]) -> str:
        if match.group(2):
            return _ENTITIES[match.group(2)]
        return _token(match.group(1), name_of)

    return _MARKUP.sub(replace, text)
