"""How well Rapport understands people the way they type (issue 14): the measured figure.

`phrases.yaml` holds lines as people type them, each with what a person meant it to store
(exact rows, read back through `export`), or `asks: true` where the right answer is a
question or a clear refusal that stores nothing, or `shows:` for lines that only look.
Each line runs through the console chat on a fresh copy of the same small world.

Every line ends in one of four outcomes:
- understood: exactly the expected rows changed (or, for `asks`/`shows`, nothing changed
  and the answer says what it should);
- asked back: nothing changed and the answer is a question or points at the fix;
- not understood: nothing changed and the answer does not help;
- silently wrong: something changed that was not meant. The target is zero of these.

The test prints the figures and asserts at least 95% understood or asked back, and no
silent wrong write.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Clock, copy_database
from tests.phrasing.harness import Outcome, run_case, seed_world

TABLE = Path(__file__).with_name("phrases.yaml")
TARGET = 0.95
# An answer that asks back or points at the fix rather than shrugging.
_ASKING = ("?", "Say “", "say “", "Did you mean", "Which ", "Is “", "“add ", "put the name",
           "Put the name", "Usage:")


@dataclass(frozen=True)
class Case:
    say: str
    given: tuple[str, ...]
    stores: frozenset[str]
    removes: frozenset[str]
    asks: bool
    shows: str | None
    says: str | None

    @classmethod
    def load(cls, raw: dict[str, Any]) -> Case:
        return cls(say=str(raw["say"]), given=tuple(raw.get("given") or ()),
                   stores=frozenset(raw.get("stores") or ()),
                   removes=frozenset(raw.get("removes") or ()),
                   asks=bool(raw.get("asks")), shows=raw.get("shows"), says=raw.get("says"))

    @property
    def writes(self) -> bool:
        return bool(self.stores or self.removes)


def load_cases() -> list[Case]:
    return [Case.load(raw) for raw in yaml.safe_load(TABLE.read_text())]


def classify(case: Case, outcome: Outcome) -> str:
    """understood, asked, not understood, or wrong (a write nobody meant)."""
    changed = bool(outcome.added or outcome.removed)
    text = outcome.reply.text
    said = case.says is None or case.says in text
    if case.writes:
        if changed:
            exact = outcome.added == case.stores and outcome.removed == case.removes
            return "understood" if exact and said else "wrong"
        return "asked" if any(mark in text for mark in _ASKING) else "not understood"
    if changed:
        return "wrong"
    if case.shows is not None:
        return "understood" if case.shows in text and outcome.reply.ok else "not understood"
    return "understood" if said else "not understood"


def test_the_table_is_big_enough_and_well_formed() -> None:
    cases = load_cases()
    assert len(cases) >= 150
    for case in cases:
        assert case.writes or case.asks or case.shows, case.say
    # A line listed twice (with the same lines before it) would count twice in the figure.
    listed = Counter((case.say, case.given) for case in cases)
    assert [line for line, times in listed.items() if times > 1] == []


def test_phrasing_understood_or_asked_back_with_no_silent_wrong_write(
        sqlite_template: Path, tmp_path: Path) -> None:
    cases = load_cases()
    clock = Clock()
    world = tmp_path / "world.db"
    copy_database(sqlite_template, world)

    async def run_all() -> list[tuple[Case, Outcome, str]]:
        await seed_world(world, clock)
        results = []
        for index, case in enumerate(cases):
            outcome = await run_case(world, tmp_path / f"case{index}", clock,
                                     list(case.given), case.say)
            results.append((case, outcome, classify(case, outcome)))
        return results

    results = asyncio.run(run_all())
    counts = Counter(kind for _, _, kind in results)
    handled = counts["understood"] + counts["asked"]
    rate = handled / len(results)
    print(f"\nPhrasing table: {len(results)} lines; understood {counts['understood']}, "
          f"asked back {counts['asked']}, not understood {counts['not understood']}, "
          f"silently wrong {counts['wrong']}; understood or asked back {rate:.1%} "
          f"(target {TARGET:.0%}, and no silent wrong write).")
    for case, outcome, kind in results:
        if kind in ("not understood", "wrong", "asked"):
            print(f"  {kind}: {case.say!r} -> {outcome.reply.text[:160]!r}"
                  f" added={sorted(outcome.added)} removed={sorted(outcome.removed)}")
    wrong = [(c.say, sorted(o.added), sorted(o.removed), o.reply.text)
             for c, o, kind in results if kind == "wrong"]
    assert wrong == [], wrong
    assert rate >= TARGET


@pytest.mark.parametrize("line", ["log Dana White yesterday coffee", "add colleague",
                                  "note Dana and Lee: the offsite"])
def test_lines_that_can_be_read_two_ways_are_in_the_table_as_questions(line: str) -> None:
    [case] = [c for c in load_cases() if c.say == line and not c.given]
    assert case.asks and not case.writes
