"""The `rapport` command's entry point (also `python -m rapport`).

Start-up is almost all imports: SQLAlchemy, aiohttp, pydantic and Rapport's own modules build
several hundred thousand objects that live as long as the process. The cyclic collector would
walk them again and again while they load (about a fifth of start-up, measured with
`bench/startup.py`), so imports run with it paused.
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


def main() -> None:
    with collector_paused():
        from rapport.bot.service.cli import main as run_cli
    run_cli()
