"""How busy this process is answering people, so work nobody waits for can step aside."""

from __future__ import annotations

import asyncio
import time

# How long no request may have arrived before the process counts as quiet. Under a burst a
# request is often answered before the next one arrives (a command's unit of work runs on the
# event loop itself), so "none in flight right now" happens between two requests of the same
# burst and would let deferred work in; a burst is over when nothing arrived for this long.
LULL_SECONDS = 0.25


class RequestLoad:
    """Requests being answered right now (counted by the web server's middleware).

    Background work a person is not waiting for (a Home tab refreshed after a change) waits
    for a lull, a moment with no request in flight and none arriving for `lull` seconds, up to
    a bound: during a burst of commands every command is answered first and the refreshes
    follow when the burst is over.
    """

    def __init__(self, lull: float = LULL_SECONDS) -> None:
        self.in_flight = 0
        self.lull = lull
        self._last_arrival = float("-inf")
        self._idle: asyncio.Event | None = None

    def started(self) -> None:
        self.in_flight += 1
        self._last_arrival = time.monotonic()
        if self._idle is not None:
            self._idle.clear()

    def finished(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0 and self._idle is not None:
            self._idle.set()

    async def quiet(self, at_most: float) -> bool:
        """Wait for a lull, at most `at_most` seconds; False on timeout."""
        give_up_at = time.monotonic() + at_most
        while True:
            now = time.monotonic()
            if self.in_flight == 0:
                calm_at = self._last_arrival + self.lull
                if now >= calm_at:
                    return True
                if calm_at > give_up_at:
                    await asyncio.sleep(max(0.0, give_up_at - now))
                    return False
                await asyncio.sleep(calm_at - now)
                continue
            if now >= give_up_at:
                return False
            if self._idle is None:
                self._idle = asyncio.Event()
            try:
                await asyncio.wait_for(self._idle.wait(), timeout=give_up_at - now)
            except TimeoutError:
                return False
