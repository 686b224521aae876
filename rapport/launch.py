"""The `rapport` command's entry point (also `python -m rapport`).

Start-up is almost all imports: SQLAlchemy, aiohttp, pydantic and Rapport's own modules build
several hundred thousand objects that live as long as the process. The cyclic collector would
walk them again and again while they load (about a fifth of start-up, measured with
`bench/startup.py`), so imports run with it paused. Once a server has started,
`keep_from_collector` sets what start-up built aside for good.

Those imports take about two seconds, and a SIGTERM then (a deploy that changes its mind, a
container stopped while it starts) killed the process with status 143 half-way through. So
the first thing `main` does is take SIGTERM and SIGINT over: a signal is recorded, and the
commands that run until stopped (`serve`, `worker`, `chat`) honour it at their next start-up
step and exit 0 (docs/operations.md); every other command gets the usual handling back, and a
signal recorded meanwhile is delivered to it then (`release_stop_signals`).
"""

from __future__ import annotations

import gc
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

# What `signal.signal` returns and takes: a handler, SIG_DFL or SIG_IGN, or None.
_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# The first stop signal received while `main` holds them, and the handlers it replaced.
_stop_requested: signal.Signals | None = None
_replaced: dict[signal.Signals, _Handler] = {}


def _record_stop(signum: int, _frame: FrameType | None) -> None:
    global _stop_requested
    if _stop_requested is None:
        _stop_requested = signal.Signals(signum)


def hold_stop_signals() -> None:
    """Record SIGTERM and SIGINT instead of dying of them, until `release_stop_signals` or
    until the event loop's own handlers take over."""
    for signum in STOP_SIGNALS:
        _replaced[signum] = signal.signal(signum, _record_stop)


def stop_requested() -> signal.Signals | None:
    """The stop signal received since `hold_stop_signals`, if any."""
    return _stop_requested


def release_stop_signals() -> None:
    """Give SIGTERM and SIGINT their handling from before `hold_stop_signals` back (nothing to
    do when it was not called, as in tests calling the CLI in-process) and deliver a signal
    received meanwhile, for commands that do not stop gracefully."""
    global _stop_requested
    for signum, handler in _replaced.items():
        signal.signal(signum, handler)
    _replaced.clear()
    received, _stop_requested = _stop_requested, None
    if received is not None:
        signal.raise_signal(received)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block of imports; reference counting still
    frees everything that is not in a cycle, and the collector resumes after the block."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def keep_from_collector() -> int:
    """Move every object alive now into the collector's permanent generation, which it never
    walks, and return how many there are. For a server that has started: what start-up built
    (modules, the Bolt app, compiled statements, the phrasing grammar) lives as long as the
    process, and each full collection walked all of it again, about 45 ms at 166,000 objects:
    a pause that every request in flight waited for, a slash command's p99 under load
    (docs/performance.md, session 11). Garbage is collected first, so none of it is kept."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def main() -> None:
    hold_stop_signals()  # before the imports: they are most of start-up
    with collector_paused():
        from rapport.bot.service.cli import main as run_cli
    run_cli()
