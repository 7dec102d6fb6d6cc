"""``instance_for_test``: a throwaway persistent instance for tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any

from weir._instance.instance import Instance, _write_config

__all__ = ["instance_for_test"]


@contextlib.contextmanager
def instance_for_test(
    overrides: Mapping[str, Any] | None = None,
    set_dagster_home: bool = True,
    temp_dir: str | None = None,
) -> Iterator[Instance]:
    """A persistent instance in a temporary home (SQLite unless ``overrides`` says otherwise).

    ``overrides`` is written as the home's ``weir.yaml``. While the block runs ``WEIR_HOME`` points at
    the home (``set_dagster_home=False`` leaves the environment alone), so ``Instance.get()`` returns
    the same instance. The home is removed afterwards unless ``temp_dir`` was given.
    """
    home = temp_dir or tempfile.mkdtemp(prefix="weir-test-instance-")
    if overrides:
        _write_config(home, overrides)
    previous = os.environ.get("WEIR_HOME")
    if set_dagster_home:
        os.environ["WEIR_HOME"] = home
    instance = Instance.from_home(home)
    try:
        yield instance
    finally:
        instance.dispose()
        if set_dagster_home:
            if previous is None:
                os.environ.pop("WEIR_HOME", None)
            else:
                os.environ["WEIR_HOME"] = previous
        if temp_dir is None:
            shutil.rmtree(home, ignore_errors=True)
