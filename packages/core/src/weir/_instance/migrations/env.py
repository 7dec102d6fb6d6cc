"""Alembic environment: run the migrations on the connection the storage hands over.

Alembic executes this file itself during ``SqlInstanceStorage.upgrade()``; nothing imports it.
The storage passes its own open connection (already inside its write transaction, so SQLite's
writer lock is held) as ``config.attributes["connection"]``; there is no URL and no ini file.
"""

from __future__ import annotations

from alembic import context

from weir._instance.sql_schema import metadata
from weir.errors import StorageError


def run_migrations_online() -> None:
    """Migrate through the connection given by the storage."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        msg = (
            "weir's migrations run only through a storage's upgrade() (e.g. instance.upgrade()), "
            "which provides the database connection; running "
            "`alembic` directly on this folder is not supported."
        )
        raise StorageError(msg)
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _msg = "weir's migrations cannot run in offline (--sql) mode; use instance.upgrade()."
    raise StorageError(_msg)
run_migrations_online()
