"""Migration 0002_slack_oauth creates exactly the tables slack_sdk's stores define."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.storage.models import UNMODELLED_TABLES


def _library_metadata() -> sa.MetaData:
    metadata = sa.MetaData()
    SQLAlchemyInstallationStore.build_installations_table(metadata, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(metadata, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, "slack_oauth_states")
    return metadata


def _only_slack(obj: object, name: str | None, type_: str, reflected: bool,
                compare_to: object) -> bool:
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table in UNMODELLED_TABLES


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                            "include_object": _only_slack})
    return compare_metadata(context, _library_metadata())


async def test_migrated_tables_match_slack_sdk_definitions(engine: AsyncEngine) -> None:
    assert set(_library_metadata().tables) == UNMODELLED_TABLES
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []
