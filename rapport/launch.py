"""The `rapport` command's entry point (also `python -m rapport`).

Start-up is almost all imports: SQLAlchemy, aiohttp, pydantic and Rapport's own modules build
several hundred thousand objects that live as long as the process. The cyclic collector would
walk them again and again while they load (about a fifth of start-up, measured with
`bench/startup.py`), so imports run with it paused. Once a server has started,
`keep_from_collector` sets what start-up built aside for good.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
    with collector_paused():
        from rapport.bot.service.cli import main as run_cli
    run_cli()
