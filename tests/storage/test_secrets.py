"""Secrets at rest: Fernet with rotation, and re-encrypting stored columns in place."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import column, insert, select, table
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.storage.secrets import (
    PREFIX,
    Secrets,
    SecretsError,
    encrypt_columns,
    is_encrypted,
)

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
BOTS = table("slack_bots", column("id"), column("client_id"), column("app_id"),
             column("team_id"), column("bot_token"), column("bot_refresh_token"),
             column("is_enterprise_install"), column("installed_at"))


def test_encrypt_decrypt_and_rotation() -> None:
    old = Secrets([OLD])
    stored = old.encrypt("xoxb-123-secret")
    assert is_encrypted(stored) and stored.startswith(PREFIX) and "xoxb" not in stored
    assert old.encrypt("xoxb-123-secret") != stored  # a fresh IV each time
    assert old.decrypt(stored) == "xoxb-123-secret"

    both = Secrets.from_setting(f"{NEW}, {OLD}")
    assert both is not None and both.decrypt(stored) == "xoxb-123-secret"
    rotated = both.rotate(stored)
    assert Secrets([NEW]).decrypt(rotated) == "xoxb-123-secret"
    with pytest.raises(SecretsError, match="none of the configured keys"):
        Secrets([OLD]).decrypt(rotated)
    assert both.reveal(None) is None and both.reveal("xoxb-plain") == "xoxb-plain"
    assert Secrets([NEW]).decrypt(both.rotate("xoxb-plain")) == "xoxb-plain"


def test_missing_or_malformed_keys_are_refused_without_echoing_them() -> None:
    assert Secrets.from_setting(None) is None and Secrets.from_setting(" , ") is None
    with pytest.raises(SecretsError) as raised:
        Secrets.from_setting("not-a-fernet-key-but-secret-looking")
    assert "secret-looking" not in str(raised.value)


async def test_columns_are_encrypted_then_rotated_in_place(any_engine: AsyncEngine) -> None:
    old = Secrets([OLD])
    now = datetime(2026, 11, 23, tzinfo=UTC).replace(tzinfo=None)
    rows = [("T1", "xoxb-plain-1", None), ("T2", old.encrypt("xoxb-old-2"), "xoxe-plain-r"),
            ("T3", None, None)]
    async with any_engine.begin() as connection:
        await connection.execute(insert(BOTS), [
            {"client_id": "c", "app_id": "A", "team_id": team, "bot_token": token,
             "bot_refresh_token": refresh, "is_enterprise_install": False, "installed_at": now}
            for team, token, refresh in rows])
    columns = {"slack_bots": ("bot_token", "bot_refresh_token")}

    sealed = await encrypt_columns(any_engine, old, columns, rotate=False)
    assert sealed.rewritten == {"slack_bots": 2}  # rows: T1 (token) and T2 (refresh token)
    both = Secrets([NEW, OLD])
    rotated = await encrypt_columns(any_engine, both, columns, rotate=True)
    assert rotated.total == 2

    async with any_engine.connect() as connection:
        stored = (await connection.execute(
            select(BOTS.c.team_id, BOTS.c.bot_token, BOTS.c.bot_refresh_token)
            .order_by(BOTS.c.team_id))).all()
    new_only = Secrets([NEW])
    assert [(team, new_only.reveal(token), new_only.reveal(refresh))
            for team, token, refresh in stored] == [
        ("T1", "xoxb-plain-1", None), ("T2", "xoxb-old-2", "xoxe-plain-r"), ("T3", None, None)]
    assert all(value is None or is_encrypted(value) for _, *values in stored for value in values)
