"""Instance storage for plugin authors: the contract, the SQL base class and the record format.

A storage plugin (``weir_storage_for_url``) returns an :class:`InstanceStorage`. A SQL database
with a SQLAlchemy dialect gets most of the work from :class:`SqlInstanceStorage` (schema,
migrations, queries); ``weir-resource-postgres`` is a thin subclass of it. Payload classes that a
plugin puts into events are made storable with :func:`register_serializable`. The storage contract
suite is :class:`weir.testing.InstanceStorageContract`.

Names load lazily: ``import weir.storage`` does not import SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from weir.lazy import lazy_dir, lazy_getattr

if TYPE_CHECKING:
    from weir._instance.memory_storage import InMemoryInstanceStorage
    from weir._instance.serdes import deserialize, register_serializable, serialize
    from weir._instance.sql_storage import SqlInstanceStorage
    from weir._instance.sqlite_storage import SqliteInstanceStorage
    from weir._instance.storage import RUN_STATUS_BY_EVENT, InstanceStorage

__all__ = [
    "RUN_STATUS_BY_EVENT",
    "InMemoryInstanceStorage",
    "InstanceStorage",
    "SqlInstanceStorage",
    "SqliteInstanceStorage",
    "deserialize",
    "register_serializable",
    "serialize",
]

_EXPORTS = {
    "RUN_STATUS_BY_EVENT": "weir._instance.storage",
    "InstanceStorage": "weir._instance.storage",
    "InMemoryInstanceStorage": "weir._instance.memory_storage",
    "SqlInstanceStorage": "weir._instance.sql_storage",
    "SqliteInstanceStorage": "weir._instance.sqlite_storage",
    "serialize": "weir._instance.serdes",
    "deserialize": "weir._instance.serdes",
    "register_serializable": "weir._instance.serdes",
}

__getattr__ = lazy_getattr(globals(), _EXPORTS)

__dir__ = lazy_dir(globals(), _EXPORTS)
