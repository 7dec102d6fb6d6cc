"""The instance schema's versions: checking a database's revision and migrating it with Alembic.

The Alembic scripts live in ``versions/`` of this package (shipped in the wheel); ``env.py``
runs them on the connection the storage hands over, so no ``alembic.ini`` is needed. Alembic
itself is imported only by :func:`upgrade_to_head`: opening a storage reads the revision with
one query and never pays for importing Alembic.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from weir._instance import sql_schema as schema
from weir.errors import SchemaVersionError, StorageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = ["MIGRATIONS_DIR", "check_revision", "create_schema", "read_schema", "upgrade_to_head"]

MIGRATIONS_DIR = Path(__file__).resolve().parent
"""The Alembic script location: this package's folder."""


def read_schema(conn: Connection) -> tuple[str | None, bool]:
    """``(revision, has_weir_tables)``: the stored revision (None when none is recorded) and
    whether any weir table exists."""
    import sqlalchemy as sa

    names = set(sa.inspect(conn).get_table_names())
    if schema.alembic_version.name in names:
        revisions = list(conn.execute(sa.select(schema.alembic_version.c.version_num)).scalars())
        if len(revisions) == 1:
            return revisions[0], True
        if len(revisions) > 1:
            msg = (
                f"The database records several schema revisions ({', '.join(revisions)}) but "
                "weir's migrations are linear; repair its alembic_version table."
            )
            raise StorageError(msg)
    return None, bool(names & (set(schema.metadata.tables) - {schema.alembic_version.name}))


def check_revision(revision: str, display_url: str) -> None:
    """Raise ``SchemaVersionError`` unless ``revision`` is this weir's schema head."""
    if revision == schema.SCHEMA_HEAD:
        return
    if revision in schema.SCHEMA_REVISIONS:
        msg = (
            f"The instance database {display_url} has schema revision {revision}; this weir "
            f"needs revision {schema.SCHEMA_HEAD}. Upgrade it (back it up first) with "
            "`instance.upgrade()` (for the default home: `weir.Instance.get().upgrade()`)."
        )
    else:
        from weir import __version__

        msg = (
            f"The instance database {display_url} has schema revision {revision!r}, which weir "
            f"{__version__} does not know (its newest is {schema.SCHEMA_HEAD}): it was written by "
            "a newer weir. Upgrade weir (pip install -U weir), or point this instance at another "
            "database."
        )
    raise SchemaVersionError(msg)


def create_schema(conn: Connection, display_url: str) -> None:
    """Create every table and record the head revision, unless another process just did."""
    revision, has_tables = read_schema(conn)
    if revision is not None:
        check_revision(revision, display_url)
        return
    if has_tables:
        msg = (
            f"The database {display_url} has tables named like weir's but no schema version (no "
            "alembic_version row): it was not created by weir, or its creation was interrupted. "
            "Point the instance at an empty database or a weir database."
        )
        raise StorageError(msg)
    schema.metadata.create_all(conn)
    conn.execute(schema.alembic_version.insert(), {"version_num": schema.SCHEMA_HEAD})


def upgrade_to_head(conn: Connection) -> None:
    """``alembic upgrade head`` on ``conn`` (already in the caller's transaction)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")
