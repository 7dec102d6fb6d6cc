"""``weir instance info`` and ``weir instance migrate``: the instance of ``$WEIR_HOME``."""

from __future__ import annotations

from typing import Any

import click
from rich.text import Text

from weir_cli._output import EXIT_FAILURE, fail, stdout_console

__all__ = ["instance"]


@click.group()
def instance() -> None:
    """Inspect and migrate the instance ($WEIR_HOME, default ./.weir)."""


def _open() -> Any:
    import weir as dg
    from weir.errors import WeirError

    try:
        return dg.DagsterInstance.get()
    except WeirError as exc:
        fail(f"Cannot open the instance: {exc}", EXIT_FAILURE)


def _schema_revision(storage: Any) -> str | None:
    """The storage's schema revision, for storages that have one (SQL storages)."""
    read = getattr(storage, "schema_revision", None)
    return read() if callable(read) else None


@instance.command()
def info() -> None:
    """Show the home folder, the storage (password masked) and its schema revision."""
    from weir.errors import WeirError

    inst = _open()
    with inst:
        try:
            storage = inst.storage
            revision = _schema_revision(storage)
        except WeirError as exc:
            fail(f"Cannot read the instance storage: {exc}", EXIT_FAILURE)
        console = stdout_console()
        console.print(Text(f"home: {inst.root_directory}"))
        console.print(Text(f"storage: {storage.display_url or type(storage).__name__}"))
        console.print(Text(f"artifacts: {inst.storage_directory()}"))
        if revision is not None:
            console.print(Text(f"schema revision: {revision}"))
        elif callable(getattr(storage, "schema_revision", None)):
            console.print(
                Text("schema revision: none (empty database; run `weir instance migrate`)")
            )


@instance.command()
def migrate() -> None:
    """Bring the storage's schema to this weir's version (safe to run again)."""
    from weir.errors import WeirError

    inst = _open()
    with inst:
        try:
            storage = inst.storage
            before = _schema_revision(storage)
            inst.upgrade()
            after = _schema_revision(storage)
        except WeirError as exc:
            fail(f"Migration failed: {exc}", EXIT_FAILURE)
        where = storage.display_url or type(storage).__name__
        console = stdout_console()
        if before is None and after is not None:
            console.print(Text(f"Created the weir schema (revision {after}) in {where}."))
        elif before != after:
            console.print(Text(f"Migrated {where} from schema revision {before} to {after}."))
        elif after is not None:
            console.print(Text(f"{where} is already at schema revision {after}; nothing to do."))
        else:
            console.print(Text(f"{where} has no schema to migrate; nothing to do."))
