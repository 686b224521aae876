"""`is_database_file`: the live SQLite database and its companions, by any name or link."""

from __future__ import annotations

import os
from pathlib import Path

from rapport.storage.db import is_database_file


def test_the_database_and_its_companions_are_recognised_by_inode_not_name(tmp_path: Path
                                                                          ) -> None:
    database = tmp_path / "live.db"
    url = f"sqlite+aiosqlite:///{database}"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").write_bytes(b"x")
    os.link(f"{database}-wal", tmp_path / "hard-link")
    (tmp_path / "soft-link").symlink_to(f"{database}-shm")
    (tmp_path / "dir").mkdir()
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm"),
                 Path(f"{database}-journal"), tmp_path / "hard-link", tmp_path / "soft-link",
                 tmp_path / "dir" / ".." / "live.db"):
        assert is_database_file(path, url), path
    other = tmp_path / "people.csv"
    other.write_text("name\nLee\n")
    for path in (other, tmp_path / "missing.csv", tmp_path / "live.db-copy"):
        assert not is_database_file(path, url), path
    assert not is_database_file(database, "sqlite+aiosqlite:///:memory:")
    assert not is_database_file(database, "postgresql+asyncpg://u@h/db")
