"""Each listener answers Slack at its `ack()` and does the rest of its work after, with no
polling.

Left to itself (`process_before_response=False`), Bolt starts every listener as a task and then
checks every 10 ms whether it has called `ack()` yet: under load, with dozens of requests in
flight, those wake-ups cost a measurable share of each request (docs/performance.md). The app
runs with `process_before_response=True` instead, where Bolt awaits the listener itself, and
every listener is registered through `answered_at_ack`: the listener runs as a task of its own,
and Bolt's await ends the moment it acknowledges, so the answer goes out then, as before, while
the listener carries on (a follow-up page, the Home refresh, a slow command's `respond`).

- A listener that fails before acknowledging fails Bolt's await: Bolt's error handler answers
  (transport.on_error), as it did.
- A failure after the ack reaches nobody waiting: it is logged as every listener failure is.
- Event listeners never call `ack()` (Bolt acknowledges events itself): they are started and
  Bolt answers at once, so a slow event never holds Slack's delivery.
- On shutdown the web app waits for the listeners still at work (`finish_answers`): a
  follow-up page or a slow command's answer is sent, not cut, by a restart.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)

Listener = Callable[..., Awaitable[None]]

# Listeners still working after their ack. The event loop keeps only weak references to tasks.
_AFTER_ACK: set[asyncio.Task[None]] = set()


def log_listener_failure(error: BaseException) -> None:
    """The one line a listener's unexpected failure leaves (no payload, no traceback text)."""
    logger.error("slack listener failed", extra={"error": type(error).__name__})


def _finished_after_ack(task: asyncio.Task[None]) -> None:
    _AFTER_ACK.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log_listener_failure(task.exception())  # type: ignore[arg-type]


async def finish_answers() -> None:
    """Wait for this event loop's listeners still working after their ack (on shutdown)."""
    loop = asyncio.get_running_loop()
    while working := {task for task in _AFTER_ACK if task.get_loop() is loop}:
        await asyncio.wait(working)


def answered_at_ack(listener: Listener) -> Listener:
    """`listener` as Bolt should await it: done when it has acknowledged (see above)."""
    # Bolt passes the arguments a listener names; it reads them through functools.wraps.
    takes_ack = "ack" in inspect.signature(listener).parameters

    @functools.wraps(listener)
    async def until_ack(**kwargs: Any) -> None:
        work: asyncio.Task[None]
        if not takes_ack:
            work = asyncio.ensure_future(listener(**kwargs))
            _AFTER_ACK.add(work)
            work.add_done_callback(_finished_after_ack)
            return
        acked = asyncio.get_running_loop().create_future()
        ack = kwargs["ack"]

        async def ack_and_answer(*args: Any, **fields: Any) -> Any:
            try:
                return await ack(*args, **fields)
            finally:
                if not acked.done():
                    acked.set_result(True)

        def ended_without_ack(_: asyncio.Task[None]) -> None:
            if not acked.done():
                acked.set_result(False)

        work = asyncio.ensure_future(listener(**{**kwargs, "ack": ack_and_answer}))
        work.add_done_callback(ended_without_ack)
        if not await acked:
            work.result()  # its failure goes to Bolt's error handler, as before
            return
        if work.done():
            _finished_after_ack(work)
        else:
            _AFTER_ACK.add(work)
            work.add_done_callback(_finished_after_ack)

    return until_ack
