"""Alembic environment: runs on the connection handed in by rapport.storage.db.upgrade, or a URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from rapport.storage.models import Base, is_modelled

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        include_object=is_modelled,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    # `alembic` run by hand with a sync URL (e.g. sqlite:///rapport.db) for autogenerate.
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("alembic needs sqlalchemy.url (e.g. -x or alembic.ini) outside the app")
    with create_engine(url).connect() as sync_connection:
        _run(sync_connection)
        sync_connection.commit()
