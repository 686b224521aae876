"""The one thing connectors need from the encryption at rest: turn a token into ciphertext and
back. The implementation (Fernet keys from RAPPORT_ENCRYPTION_KEY) is injected, so connectors
never see a key and tests can use any cipher."""

from __future__ import annotations

from typing import Protocol


class TokenCipher(Protocol):
    """Encrypts secrets before they are stored and decrypts them when they are used."""

    def encrypt(self, plaintext: str) -> str:
        """Ciphertext of `plaintext`, safe to store in a text column."""
        ...

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext of a value `encrypt` returned (with any key still configured)."""
        ...
