"""How busy this process is answering people, so work nobody waits for can step aside."""

from __future__ import annotations

import asyncio


class RequestLoad:
    """Requests being answered right now (counted by the web server's middleware).

    Background work a person is not waiting for (a Home tab refreshed after a change) waits
    for a moment with no request in flight, up to a bound: during a burst of commands every
    command is answered first and the refreshes follow when the burst is over.
    """

    def __init__(self) -> None:
        self.in_flight = 0
        self._idle: asyncio.Event | None = None

    def started(self) -> None:
        self.in_flight += 1
        if self._idle is not None:
            self._idle.clear()

    def finished(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0 and self._idle is not None:
            self._idle.set()

    async def quiet(self, at_most: float) -> bool:
        """Wait until no request is in flight, at most `at_most` seconds; False on timeout."""
        if self.in_flight == 0:
            return True
        if self._idle is None:
            self._idle = asyncio.Event()
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=at_most)
        except TimeoutError:
            return False
        return True
