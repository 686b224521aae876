"""Addresses of people the user forgot, kept as salted hashes only (models.ForgottenAddress).

`forget Dana` deletes Dana and everything about her; what it must not do is let the next
calendar sync meet dana@… again and offer "You met Dana… Add to your people?". Recognising
her address later needs something derived from it, and the least that works is an HMAC of
the lower-cased address under a random salt of the user's: no address, no name, nothing that
can be read back, and a hash that matches nothing of another user's. Whoever holds the
database and guesses an address can still check the guess against this user's hashes, which
is exactly the question "would Rapport offer this address?" answers anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable


def new_salt() -> str:
    return secrets.token_hex(16)


def normalised(address: str) -> str:
    """How contacts' and attendees' addresses are compared everywhere: trimmed, lower case."""
    return address.strip().lower()


def digest(salt: str, address: str) -> str:
    """The hash kept for `address` under the user's `salt` (64 hex characters)."""
    return hmac.new(salt.encode(), normalised(address).encode(), hashlib.sha256).hexdigest()


class ForgottenAddresses:
    """The user's forgotten addresses, asked one address at a time (each address hashed once
    per salt, remembered for the next page)."""

    def __init__(self, rows: Iterable[tuple[str, str]] = ()) -> None:
        self._digests: dict[str, set[str]] = {}
        for salt, kept in rows:
            self._digests.setdefault(salt, set()).add(kept)
        self._answers: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self._digests)

    def __contains__(self, address: object) -> bool:
        if not self._digests or not isinstance(address, str):
            return False
        answer = self._answers.get(address)
        if answer is None:
            answer = self._answers[address] = any(
                digest(salt, address) in kept for salt, kept in self._digests.items())
        return answer
