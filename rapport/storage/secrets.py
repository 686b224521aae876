"""Secrets at rest (OAuth access and refresh tokens): Fernet encryption with key rotation.

``RAPPORT_ENCRYPTION_KEY`` holds one or more Fernet keys, comma-separated: the first encrypts,
every one decrypts, so a new key is put first, ``rapport rotate-key`` re-encrypts every stored
value with it, and the old key can then be removed. A stored value carries a prefix, so rows
written before encryption was configured (plaintext) are told apart and encrypted later.
A new key: ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key()
.decode())"``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import TableClause, and_, column, select, table, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

logger = logging.getLogger(__name__)

PREFIX = "enc1:"
# Rapport's own tables name every column holding sealed values so (sealed_model_columns).
SEALED_SUFFIX = "_encrypted"
_BATCH = 500


class SecretsError(Exception):
    """A key is malformed, or a value cannot be decrypted with the configured keys."""


def is_encrypted(value: str) -> bool:
    """Whether `value` was written by Secrets.encrypt (else it is a plaintext legacy value)."""
    return value.startswith(PREFIX)


class Secrets:
    """Encrypts and decrypts short strings with the configured keys."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise SecretsError("no encryption key given")
        try:
            self._fernet = MultiFernet([Fernet(key.strip().encode()) for key in keys])
        except ValueError as problem:
            # Never the key itself in the message.
            raise SecretsError("RAPPORT_ENCRYPTION_KEY must be Fernet keys (32 url-safe "
                               "base64-encoded bytes each), comma-separated") from problem

    @classmethod
    def from_setting(cls, value: str | None) -> Secrets | None:
        """Secrets for ``RAPPORT_ENCRYPTION_KEY``, or None when it is unset or blank."""
        keys = [part for part in (value or "").split(",") if part.strip()]
        return cls(keys) if keys else None

    def encrypt(self, plaintext: str) -> str:
        """The stored form of `plaintext`, encrypted with the first key."""
        return PREFIX + self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, stored: str) -> str:
        """The plaintext of a value Secrets.encrypt wrote, with any configured key."""
        if not is_encrypted(stored):
            raise SecretsError("value is not encrypted")
        try:
            return self._fernet.decrypt(stored[len(PREFIX):].encode()).decode()
        except InvalidToken as problem:
            raise SecretsError("cannot decrypt: none of the configured keys matches "
                               "(was a key removed before `rapport rotate-key`?)") from problem

    def reveal(self, stored: str | None) -> str | None:
        """Decrypt an encrypted value; pass plaintext (not yet encrypted) and None through."""
        if stored is None or not is_encrypted(stored):
            return stored
        return self.decrypt(stored)

    def rotate(self, stored: str) -> str:
        """The value encrypted with the first key (plaintext values are encrypted)."""
        if not is_encrypted(stored):
            return self.encrypt(stored)
        try:
            return PREFIX + self._fernet.rotate(stored[len(PREFIX):].encode()).decode()
        except InvalidToken as problem:
            raise SecretsError("cannot decrypt: none of the configured keys matches") from problem


@dataclass
class RotationReport:
    """How many stored values `encrypt_columns` rewrote, per table."""

    rewritten: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rewritten.values())


def sealed_model_columns() -> dict[str, tuple[str, ...]]:
    """Every column of Rapport's own tables that holds values sealed by Secrets (those named
    `*_encrypted`: calendar tokens, DM capture grants, pending consents' PKCE verifiers), by
    table. Read from the models, so a new sealed column is rotated without another list."""
    from rapport.storage.models import Base

    found: dict[str, tuple[str, ...]] = {}
    for model_table in Base.metadata.sorted_tables:
        names = tuple(c.name for c in model_table.columns if c.name.endswith(SEALED_SUFFIX))
        if names:
            found[model_table.name] = names
    return found


async def encrypt_columns(engine: AsyncEngine, secrets: Secrets,
                          columns: Mapping[str, Iterable[str]], *,
                          rotate: bool, one_transaction: bool = False) -> RotationReport:
    """Encrypt every plaintext value in `columns` ({table: column names}, each table with an
    integer ``id``); with `rotate`, re-encrypt encrypted values with the first key as well.

    Each row is updated only if it still holds what was read, so replicas doing this at the
    same time, or a token refreshed meanwhile, are never overwritten. A transaction per batch
    of rows, or with `one_transaction` one for everything: then a value no key decrypts
    (SecretsError, naming its table and column) leaves every row as it was, instead of a
    rotation stopped half-way that the operator cannot tell from a finished one.
    """
    report = RotationReport(rewritten={})
    async with contextlib.AsyncExitStack() as stack:
        whole = await stack.enter_async_context(engine.begin()) if one_transaction else None

        def batch_transaction() -> AbstractAsyncContextManager[AsyncConnection]:
            return contextlib.nullcontext(whole) if whole is not None else engine.begin()

        for table_name, names in columns.items():
            names = tuple(names)
            target = table(table_name, column("id"), *(column(name) for name in names))
            rewritten = 0
            last_id: int | None = -1
            while last_id is not None:
                async with batch_transaction() as connection:
                    last_id, count = await _encrypt_batch(connection, secrets, target, names,
                                                          after_id=last_id, rotate=rotate)
                rewritten += count
            report.rewritten[table_name] = rewritten
    if report.total:
        logger.info("secrets encrypted", extra={"rows": report.total, "rotate": rotate})
    return report


async def _encrypt_batch(connection: AsyncConnection, secrets: Secrets, target: TableClause,
                         names: tuple[str, ...], *, after_id: int, rotate: bool
                         ) -> tuple[int | None, int]:
    """One batch of rows after `after_id`: (the last id read, None when it was the last batch;
    how many rows were rewritten)."""
    rows = (await connection.execute(
        select(target.c.id, *(target.c[name] for name in names))
        .where(target.c.id > after_id).order_by(target.c.id).limit(_BATCH))).all()
    rewritten = 0
    for row in rows:
        values = dict(zip(names, row[1:], strict=True))
        changes = {}
        for name, value in values.items():
            if not (isinstance(value, str) and value and (rotate or not is_encrypted(value))):
                continue
            try:
                changes[name] = secrets.rotate(value)
            except SecretsError as problem:
                # Where, never what: the operator finds the row, the log never holds a token.
                raise SecretsError(f"a value in {target.name}.{name} cannot be decrypted: "
                                   "none of the configured keys matches") from problem
        if not changes:
            continue
        unchanged = and_(*(target.c[name] == values[name] for name in changes))
        result = await connection.execute(
            update(target).where(target.c.id == row[0], unchanged).values(changes))
        rewritten += int(result.rowcount or 0)
    return (int(rows[-1][0]) if len(rows) == _BATCH else None), rewritten
