"""Dagster's legacy function-style DuckDB IO managers, as ``IOManagerDefinition`` objects.

Code written before Dagster's pydantic resources configures a DuckDB IO manager in one of these
ways::

    from weir_io_duckdb.legacy import build_duckdb_io_manager, duckdb_pandas_io_manager

    io_manager = duckdb_pandas_io_manager.configured({"database": "warehouse.duckdb"})
    custom = build_duckdb_io_manager([MyTypeHandler()], default_load_type=MyType)

* :func:`build_duckdb_io_manager` -- an IO manager definition from a list of
  :class:`~weir_io_duckdb.type_handlers.DbTypeHandler` objects (``dagster_duckdb``'s builder).
* ``duckdb_pandas_io_manager``, ``duckdb_pyarrow_io_manager``, ``duckdb_polars_io_manager`` --
  ready-made definitions (``dagster_duckdb_pandas``, ``_pyarrow``, ``_polars``). Each stores
  exactly what :class:`~weir_io_duckdb.DuckDBPandasIOManager` (resp. the pyarrow and polars
  managers) stores, and loads an unannotated input as the same type.

The config is that of :class:`~weir_io_duckdb.DuckDBIOManager`: ``database`` (required),
``connection_config``, ``schema`` and ``lock_timeout_s``, given with ``.configured({...})`` or as
run config under ``resources.<key>.config``. A run gets the same live
:class:`~weir_io_duckdb.io_manager.DuckDBDbIOManager` the pydantic managers create, so the table
mapping, partitions, transactions, lock lane and errors are shared, and a table written through one
form loads through the other.

Importing this module is light: duckdb, pandas, pyarrow, polars and pydantic are imported when a
run creates the IO manager. The ready-made definitions are built on first access (PEP 562), so
``duckdb_polars_io_manager`` fails with :class:`PolarsNotInstalledError` (an ``ImportError``) only
when polars is missing and the name is used.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import typing
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import weir as dg
from weir.errors import DefinitionError

if TYPE_CHECKING:
    from weir_io_duckdb.io_manager import DuckDBDbIOManager
    from weir_io_duckdb.type_handlers import DbTypeHandler

__all__ = [
    "PolarsNotInstalledError",
    "build_duckdb_io_manager",
    "duckdb_pandas_io_manager",
    "duckdb_polars_io_manager",
    "duckdb_pyarrow_io_manager",
]

logger = logging.getLogger(__name__)

# The default of DuckDBIOManager.lock_timeout_s (weir_io_duckdb.resource.DEFAULT_LOCK_TIMEOUT_S),
# repeated so that this module does not import pydantic; a test keeps the two equal.
_DEFAULT_LOCK_TIMEOUT_S = 120.0

# What Dagster's DbIOManager calls itself in its messages ("DuckDBIOManager does not have a
# handler for type ...") when it was made by build_duckdb_io_manager.
_IO_MANAGER_NAME = "DuckDBIOManager"

_HANDLER_MEMBERS = ("supported_types", "handle_output", "load_input")

# ready-made definition -> the pydantic manager whose handlers and default load type it uses
_READY_MADE = {
    "duckdb_pandas_io_manager": "DuckDBPandasIOManager",
    "duckdb_pyarrow_io_manager": "DuckDBPyArrowIOManager",
    "duckdb_polars_io_manager": "DuckDBPolarsIOManager",
}


# The ready-made definitions, made by the module __getattr__ below on first access (these
# annotations declare them for type checkers without binding them).
duckdb_pandas_io_manager: dg.IOManagerDefinition
duckdb_pyarrow_io_manager: dg.IOManagerDefinition
duckdb_polars_io_manager: dg.IOManagerDefinition


class PolarsNotInstalledError(DefinitionError, ImportError):
    """``duckdb_polars_io_manager`` was used, but polars is not installed.

    An ``ImportError`` too, so ``try: from weir_io_duckdb.legacy import duckdb_polars_io_manager
    except ImportError: ...`` works as for any optional dependency.
    """


def _config_schema() -> dict[str, Any]:
    """The classic config schema equal to :class:`~weir_io_duckdb.DuckDBIOManager`'s fields."""
    return {
        "database": dg.Field(
            dg.StringSource,
            is_required=True,
            description="Path to the DuckDB database file (created when missing), or ':memory:'.",
        ),
        "connection_config": dg.Field(
            dg.Map(str, typing.Any),
            default_value={},
            is_required=False,
            description="DuckDB configuration options for duckdb.connect(config=...).",
        ),
        "schema": dg.Field(
            dg.Noneable(dg.StringSource),
            default_value=None,
            is_required=False,
            description=(
                "Schema for every table, unless the asset's 'schema' metadata says otherwise "
                "(default: the asset key's second-to-last part, else 'public')."
            ),
        ),
        "lock_timeout_s": dg.Field(
            float,
            default_value=_DEFAULT_LOCK_TIMEOUT_S,
            is_required=False,
            description=(
                "How long to keep retrying, with backoff, while another process holds the "
                "database file's lock, before failing."
            ),
        ),
    }


def _definition(
    *,
    handlers: Callable[[], Sequence[DbTypeHandler]],
    default_load_type: Callable[[], type | None],
    io_manager_base: type[DuckDBDbIOManager] | None,
    description: str,
) -> dg.IOManagerDefinition:
    """The IO manager definition whose run-time manager is made from ``handlers()`` and
    ``default_load_type()``, called when a run initialises the resource (not before)."""

    def duckdb_io_manager(init_context: Any) -> DuckDBDbIOManager:
        from weir_io_duckdb.io_manager import DuckDBDbIOManager

        config = init_context.resource_config or {}
        manager_cls = io_manager_base or DuckDBDbIOManager
        return manager_cls(
            database=config["database"],
            connection_config=dict(config.get("connection_config") or {}),
            schema=config.get("schema"),
            lock_timeout_s=float(config.get("lock_timeout_s", _DEFAULT_LOCK_TIMEOUT_S)),
            type_handlers=list(handlers()),
            default_load_type=default_load_type(),
            io_manager_name=_IO_MANAGER_NAME,
        )

    return dg.IOManagerDefinition(
        duckdb_io_manager, config_schema=_config_schema(), description=description
    )


def _check_handlers(type_handlers: Sequence[DbTypeHandler]) -> list[DbTypeHandler]:
    if isinstance(type_handlers, (str, bytes)) or not isinstance(type_handlers, Sequence):
        msg = (
            "build_duckdb_io_manager(type_handlers=...) takes a list of DbTypeHandler objects, "
            f"got {type_handlers!r}. Write e.g. build_duckdb_io_manager([DuckDBPandasTypeHandler()])."
        )
        raise DefinitionError(msg)
    handlers = list(type_handlers)
    if not handlers:
        msg = (
            "build_duckdb_io_manager got no type handlers, so the IO manager could store nothing. "
            "Pass at least one, e.g. build_duckdb_io_manager([DuckDBPandasTypeHandler()]), or use "
            "duckdb_pandas_io_manager."
        )
        raise DefinitionError(msg)
    for index, handler in enumerate(handlers):
        # look the members up on the class: evaluating supported_types would import pandas now
        missing = [name for name in _HANDLER_MEMBERS if not hasattr(type(handler), name)]
        if not missing:
            continue
        if isinstance(handler, type) and all(hasattr(handler, n) for n in _HANDLER_MEMBERS):
            hint = f"it is the class itself: pass an instance, {handler.__name__}()"
        else:
            hint = (
                f"it lacks {', '.join(missing)}; a handler implements supported_types, "
                "handle_output(context, table_slice, obj, connection) and "
                "load_input(context, table_slice, connection) (see DbTypeHandler)"
            )
        msg = f"type_handlers[{index}] of build_duckdb_io_manager is not a DbTypeHandler: {hint}."
        raise DefinitionError(msg)
    return handlers


def build_duckdb_io_manager(
    type_handlers: Sequence[DbTypeHandler],
    default_load_type: type | None = None,
    *,
    io_manager_base: type[DuckDBDbIOManager] | None = None,
) -> dg.IOManagerDefinition:
    """An IO manager definition that stores outputs as DuckDB tables (Dagster's legacy builder).

    Args:
        type_handlers: the :class:`~weir_io_duckdb.type_handlers.DbTypeHandler` objects, one per
            kind of value stored; an output's handler is the first whose ``supported_types``
            match the value.
        default_load_type: what an input without a type annotation loads as. ``None``: as the
            first handler's type (so a single handler is the default, as in Dagster).
        io_manager_base: weir only. The run-time manager class, a subclass of
            :class:`~weir_io_duckdb.io_manager.DuckDBDbIOManager` (the default) for changing
            how outputs are stored or inputs loaded; it is built with the same keyword
            arguments.

    Config (``.configured({...})`` or run config ``resources.<key>.config``): ``database``
    (required), ``connection_config`` (``{}``), ``schema`` (``None``) and ``lock_timeout_s``
    (``120``), as for :class:`~weir_io_duckdb.DuckDBIOManager`.

    Example::

        from weir_io_duckdb.legacy import build_duckdb_io_manager
        from weir_io_duckdb.type_handlers import DuckDBPandasTypeHandler

        duckdb_io_manager = build_duckdb_io_manager([DuckDBPandasTypeHandler()])

        defs = dg.Definitions(
            assets=[my_table],
            resources={"io_manager": duckdb_io_manager.configured({"database": "my.duckdb"})},
        )

    Raises:
        DefinitionError: ``type_handlers`` is empty or holds something that is not a handler,
            ``default_load_type`` is not a type, or ``io_manager_base`` is not a
            ``DuckDBDbIOManager`` subclass.
    """
    handlers = _check_handlers(type_handlers)
    if default_load_type is not None and not isinstance(default_load_type, type):
        msg = (
            "build_duckdb_io_manager(default_load_type=...) must be a class (e.g. pd.DataFrame) "
            f"or None, got {default_load_type!r}."
        )
        raise DefinitionError(msg)
    if io_manager_base is not None:
        from weir_io_duckdb.io_manager import DuckDBDbIOManager

        if not (
            isinstance(io_manager_base, type) and issubclass(io_manager_base, DuckDBDbIOManager)
        ):
            msg = (
                "build_duckdb_io_manager(io_manager_base=...) must be DuckDBDbIOManager or a "
                f"subclass of it (weir_io_duckdb.io_manager), got {io_manager_base!r}."
            )
            raise DefinitionError(msg)
    return _definition(
        handlers=lambda: handlers,
        default_load_type=lambda: default_load_type,
        io_manager_base=io_manager_base,
        description=(
            "IO manager storing outputs as tables of a DuckDB database (schema and table from "
            "the asset key, rows replaced per partition)."
        ),
    )


def _ready_made(name: str) -> dg.IOManagerDefinition:
    class_name = _READY_MADE[name]
    if name == "duckdb_polars_io_manager" and importlib.util.find_spec("polars") is None:
        msg = (
            "duckdb_polars_io_manager needs polars, which is not installed: "
            'pip install "weir-io-duckdb[polars]" (or use duckdb_pandas_io_manager).'
        )
        raise PolarsNotInstalledError(msg, name="polars")

    def pydantic_manager() -> Any:
        module = importlib.import_module("weir_io_duckdb.io_manager")
        return getattr(module, class_name)

    return _definition(
        handlers=lambda: pydantic_manager().type_handlers(),
        default_load_type=lambda: pydantic_manager().default_load_type(),
        io_manager_base=None,
        description=(
            f"IO manager storing frames as DuckDB tables, like {class_name}; an unannotated "
            "input loads as its default type."
        ),
    )


def __getattr__(name: str) -> Any:
    if name not in _READY_MADE:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    definition = _ready_made(name)
    globals()[name] = definition  # built once: every access gives the same definition
    return definition


def __dir__() -> list[str]:
    return sorted({*globals(), *_READY_MADE})
