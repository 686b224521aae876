"""Bounds on request bodies that hold before any parser sees them."""

from __future__ import annotations

import re

# Slack and Bot Framework payloads nest about a dozen levels (a view's blocks, a card's body);
# Python's parsers raise RecursionError somewhere near 1,000, and code that walks a parsed body
# may recurse too: anything this deep is refused as malformed.
MAX_JSON_DEPTH = 64
_BRACKETS = re.compile(r"[\[\]{}]")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `text` opens more than `limit` nested arrays or objects (strings ignored).

    Cheap for ordinary bodies: the exact scan runs only when the body holds more brackets than
    the limit at all.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub('""', text)):
        if bracket.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth = max(0, depth - 1)
    return False
