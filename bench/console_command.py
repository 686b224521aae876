"""How long one command takes in the console on SQLite, and what warming up at start saves.

Each side runs in a fresh Python process so the date library is really cold:
- cold: the first command that names a month ("note Dana: the launch on June 12"), with
  nothing warmed (what the first "June 12" cost before issue 14);
- warm: the same first command after `Rapport.warm_up()` (the console runs it while the prompt
  shows), then a mix of everyday commands typed repeatedly through `ConsoleChat.answer`.

Prints the figures; nothing here asserts on time. Usage: python bench/console_command.py
[--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

FIRST = "note Dana: the launch on June 12"
MIX = (
    "log Dana coffee", "log coffee with Lee yesterday", "talked to Priya today",
    "note Priya: her talk is next Thursday", "note Marco: likes golf",
    "remind me to ask Dana about the offsite next week", "every Lee monthly",
    "show Dana", "Priya?", "search offsite", "due", "people", "undo",
    "edit n1: the launch on June 13", "date Lee anniversary March 1 2019",
    "log Dana White yesterday coffee", "lgo Dana", "add Hiro Tanaka, VP Sales at Umbrella",
    "forget Hiro", "settings",
)
PEOPLE = ("add Dana Scully every 2 weeks", "add Lee Park client at Acme", "add Priya Natarajan",
          "add Marco Rossi client at Globex", "add Sam Okafor", "add Ana Lima",
          "add Tom Becker", "add Mei Chen")


async def _no_lines() -> AsyncIterator[str]:
    return
    yield ""  # pragma: no cover


async def child(mode: str, rounds: int, folder: Path) -> dict[str, object]:
    started = time.perf_counter()
    from rapport.bot.core.rapport import Rapport
    from rapport.bot.platforms.console.chat import ConsoleChat, console_actor
    from rapport.storage import db

    imported = time.perf_counter() - started
    engine = db.create_engine(f"sqlite+aiosqlite:///{folder / 'bench.db'}")
    await db.upgrade(engine)
    rapport = Rapport(sessions=db.session_factory(engine))
    chat = ConsoleChat(rapport=rapport, actor=console_actor("bench", "UTC"), lines=_no_lines(),
                       write=lambda _text: None, export_dir=folder)
    for line in PEOPLE:
        await chat.answer(line)
    warm = 0.0
    if mode == "warm":
        begin = time.perf_counter()
        await rapport.warm_up()
        warm = time.perf_counter() - begin
    begin = time.perf_counter()
    await chat.answer(FIRST)
    first = time.perf_counter() - begin
    timings: list[float] = []
    if mode == "warm":
        for _ in range(rounds):
            for line in MIX:
                begin = time.perf_counter()
                await chat.answer(line)
                timings.append(time.perf_counter() - begin)
    await engine.dispose()
    return {"imported": imported, "warm_up": warm, "first": first, "timings": timings}


def run_child(mode: str, rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run([sys.executable, __file__, "--child", mode, "--rounds", str(rounds),
                              "--folder", folder], check=True, capture_output=True, text=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--child", choices=("cold", "warm"))
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.child, args.rounds, args.folder))))
        return
    cold = run_child("cold", args.rounds)
    warm = run_child("warm", args.rounds)
    times = sorted(float(t) * 1000 for t in warm["timings"])  # type: ignore[union-attr]
    p50 = statistics.median(times)
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"Console command on SQLite, {len(times)} commands ({len(MIX)} kinds x "
          f"{args.rounds}): p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms "
          f"(target: under 50 ms)")
    print(f"First command naming a month (“{FIRST}”): cold {float(cold['first']) * 1000:.0f} ms,"
          f" after warm-up {float(warm['first']) * 1000:.1f} ms; the warm-up itself "
          f"{float(warm['warm_up']) * 1000:.0f} ms, run while the prompt shows")


if __name__ == "__main__":
    main()
