"""An emoji between the words of a line is a reaction, never part of who or what kind: "had a
🍕 lunch with sam on monday" logs lunch with Sam, as the line without it does (it offered to
add someone called "a 🍕"). The same rule as an emoji at the end of a line."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from rapport.bot.core import commands as c
from rapport.bot.core.verbs import parse_command
from tests.conftest import Clock, copy_database
from tests.phrasing.harness import run_case, seed_world

TODAY = date(2026, 11, 23)  # a Monday, as the phrasing world's


@pytest.mark.parametrize(("line", "plain"), [
    ("had a 🍕 lunch with sam on monday", "had a lunch with sam on monday"),
    ("had lunch 🍕 with sam on monday", "had lunch with sam on monday"),
    ("log sam 🍕 lunch", "log sam lunch"),
    ("log 🎉 Dana Scully ☕️ coffee", "log Dana Scully coffee"),
    ("add Mia 🙌🏽 Wong client", "add Mia Wong client"),
])
def test_an_emoji_between_words_reads_as_the_line_without_it(line: str, plain: str) -> None:
    assert _readings(line) == _readings(plain)


def _readings(line: str) -> object:
    """What the grammar reads, every reading of a log with its doubts (which equality of a
    `Log` leaves out)."""
    parsed = parse_command(line, today=TODAY)
    if isinstance(parsed, c.Log):
        return [(r.person, r.day, r.kind, r.summary, r.unsure)
                for r in (parsed, *parsed.alternatives)]
    return parsed


def test_an_emoji_said_after_a_colon_is_kept_and_an_emoji_alone_is_still_read() -> None:
    said = parse_command("log dana: 🎉 promotion party", today=TODAY)
    assert isinstance(said, c.Log) and said.summary == "🎉 promotion party"
    alone = parse_command("log 🍕", today=TODAY)
    assert not isinstance(alone, c.Log) or alone.person.text == "🍕"


def test_the_lines_log_lunch_with_sam(sqlite_template: Path, tmp_path: Path) -> None:
    clock = Clock()
    world = tmp_path / "world.db"
    copy_database(sqlite_template, world)

    async def run() -> list[tuple[str, set[str], bool]]:
        await seed_world(world, clock)
        results = []
        for index, line in enumerate(("had a 🍕 lunch with sam on monday",
                                      "had lunch 🍕 with sam on monday")):
            outcome = await run_case(world, tmp_path / f"case{index}", clock, [], line)
            results.append((outcome.reply.text, outcome.added, outcome.reply.ok))
        return results

    for text, added, ok in asyncio.run(run()):
        assert ok and text == "Logged lunch with Sam Okafor (Mon Nov 16).", text
        assert added == {"touch: Sam Okafor | 2026-11-16 | lunch | -"}
