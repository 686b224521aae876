"""AI output cleaning: whatever a model answers, no broadcast, foreign mention or hidden link
reaches Slack or Teams (hypothesis properties plus the cases that used to get through)."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from rapport.bot.core.drafts import MAX_DRAFT_CHARS, sanitise

CONTACT = "UDANA"
# Pieces that make Slack and Teams tokens, and the words around them.
PIECES = ["<", ">", "<!", "!", "@", "|", "#", ":", "^", " ", "\n", "'", '"', "“", "”", "…",
          "here", "channel", "everyone", "all", "subteam^S1", "date^1|x", "C123", CONTACT,
          "U999", "at", "/at", "http", "https://evil.example", "mailto", "mailto:a@b.example",
          "a@b.example", "tel:123", "slack://open", "click", "x", "é", "\u202e", "\u200d"]
texts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=80).map(
    "".join)
BROADCAST = re.compile(r"@(?:here|channel|everyone|all)\b", re.IGNORECASE)
LINK_OPENING = re.compile(r"<[A-Za-z][A-Za-z0-9+.-]*:")
MENTION = re.compile(r"<@([^>|]*)")


def assert_clean(out: str, *, limit: int = MAX_DRAFT_CHARS) -> None:
    assert "<!" not in out, out
    assert BROADCAST.search(out) is None, out
    assert LINK_OPENING.search(out) is None, out
    assert re.search(r"</?at\b", out, re.IGNORECASE) is None, out
    assert all(found == CONTACT for found in MENTION.findall(out)), out
    assert len(out) <= limit


@settings(max_examples=400, deadline=None)
@given(texts)
@example("<!" * 11 + ">" * 10 + "here>")
@example("<<!x>!here>")
@example("<@here!x>")
@example("@<!x>here now")
@example("@<here:x")
@example("<https://evil.example|<!here>>")
@example("<<https://a|mailto:x>>")
def test_no_broadcast_mention_or_link_token_survives(text: str) -> None:
    assert_clean(sanitise(text, allowed_mention=CONTACT))
    assert_clean(sanitise(text))


@settings(max_examples=200, deadline=None)
@given(texts, st.integers(min_value=5, max_value=60))
@example("a" * 10 + "@heresy", 16)
@example("<000<athere", 9)
def test_cutting_to_the_limit_forms_no_broadcast(text: str, limit: int) -> None:
    assert_clean(sanitise(text, allowed_mention=CONTACT, limit=limit), limit=limit)


def test_eleven_nested_openings_no_longer_come_out_as_here() -> None:
    # Was "<!here>": cleaning stopped after 10 passes.
    assert sanitise("<!" * 11 + ">" * 10 + "here>") == ""
    assert sanitise("<!" * 500 + ">" * 500 + " hi") == "hi"


def test_links_become_visible_text() -> None:
    assert sanitise("see <https://evil.example/x|the doc>") == \
        "see the doc (https://evil.example/x)"
    assert sanitise("<https://example.com>") == "https://example.com"
    assert sanitise("<https://example.com|https://example.com>") == "https://example.com"
    assert sanitise("write to <mailto:dana@example.com|Dana>") == "write to Dana (dana@example.com)"
    assert sanitise("<mailto:dana@example.com|dana@example.com>") == "dana@example.com"
    assert sanitise("in <#C123|general> or <#C456>") == "in #general or"
    assert sanitise("I <3 you, 1 < 2 > 0") == "I <3 you, 1 < 2 > 0"


def test_the_contacts_mention_stays_and_unclosed_tokens_are_defused() -> None:
    assert sanitise("hi <@UDANA|dana>, <@U999> too", allowed_mention="UDANA") == \
        "hi <@UDANA>, too"
    assert sanitise("<!here") == "‹!here"
    assert sanitise("go <https://evil.example") == "go ‹https://evil.example"
