"""``reconstructable``: a pointer to a job that another Python process can follow.

A worker process of the multiprocess executor cannot receive a job object (jobs hold functions,
resources and closures that do not pickle). It receives a :class:`ReconstructableJob` instead --
a module name (or, for a job defined in the ``__main__`` script, the script's file path) and the
name of a module-level attribute -- and imports the job itself, once.

``reconstructable`` accepts what Dagster's does: a function at module scope that returns a job
(``def get_job(): return defs.get_job_def("all")``) or a job bound at module scope
(``@dg.job def my_job(): ...``). Beyond Dagster, any job object bound to a module-level name
(``my_job = defs.get_job_def("all")``) is accepted too: weir finds the module that holds it.
Lambdas, nested functions and jobs that live only inside a function are refused with an error
that says how to fix the code.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

from weir.errors import InvariantViolationError

__all__ = ["ReconstructableJob", "build_reconstructable_job", "reconstructable"]

_DOCS_HINT = (
    "Define the job (or a function that returns it, e.g. `def get_job(): return "
    'defs.get_job_def("my_job")`) at the top level of an importable module and pass that to '
    "reconstructable()."
)


class ReconstructableJob:
    """Where a job can be imported from, so that worker processes can rebuild it.

    Exactly one of ``module_name`` and ``python_file`` is set. ``attribute`` names a module-level
    job or a function returning one (called with ``args``/``kwargs``). The loaded job is cached in
    the process that loaded it; pickling sends only the pointer.
    """

    def __init__(
        self,
        *,
        attribute: str,
        module_name: str | None = None,
        python_file: str | None = None,
        working_directory: str | None = None,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        job_name: str | None = None,
    ) -> None:
        if (module_name is None) == (python_file is None):
            msg = "ReconstructableJob needs exactly one of module_name and python_file."
            raise InvariantViolationError(msg)
        self.attribute = attribute
        self.module_name = module_name
        self.python_file = os.path.abspath(python_file) if python_file is not None else None
        self.working_directory = working_directory or os.getcwd()
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        self._job_name = job_name
        self._loaded: Any = None

    # -- pickling: the pointer only ----------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_loaded"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    # -- loading -----------------------------------------------------------------------------------
    @property
    def location(self) -> str:
        """``module:attribute`` or ``path/to/file.py:attribute``, for messages."""
        return f"{self.module_name or self.python_file}:{self.attribute}"

    @property
    def job_name(self) -> str:
        """The job's name (loads the job if it was not loaded yet)."""
        if self._job_name is None:
            self._job_name = str(self.get_definition().name)
        return self._job_name

    def get_definition(self) -> Any:
        """The job this pointer designates, imported (once per process) and validated."""
        if self._loaded is None:
            self._loaded = self._load()
            self._job_name = str(self._loaded.name)
        return self._loaded

    def _module(self) -> ModuleType:
        if self.module_name is not None:
            try:
                return importlib.import_module(self.module_name)
            except Exception as exc:
                msg = (
                    f"Could not import module {self.module_name!r} to reconstruct the job at {self.location}: "
                    f"{type(exc).__name__}: {exc}. The module must be importable in every worker process "
                    "(on sys.path, or installed)."
                )
                raise InvariantViolationError(msg) from exc
        return _module_for_file(str(self.python_file), self.working_directory)

    def _load(self) -> Any:
        module = self._module()
        target = getattr(module, self.attribute, None)
        if target is None:
            msg = (
                f"Cannot reconstruct the job at {self.location}: the module has no attribute "
                f'{self.attribute!r}. Was it renamed or defined under `if __name__ == "__main__":`?'
            )
            raise InvariantViolationError(msg)
        if _is_job(target):
            return target
        if not callable(target):
            msg = f"Cannot reconstruct the job at {self.location}: it is a {type(target).__name__}, not a job or a function returning one."
            raise InvariantViolationError(msg)
        job = target(*self.args, **self.kwargs)
        if _is_job(job):
            return job
        if type(job).__name__ == "UnresolvedAssetJobDefinition":
            msg = (
                f"The function at {self.location} returned the unresolved asset job {job.name!r} (from "
                "define_asset_job). Return the resolved job instead: `return defs.get_job_def("
                f'"{job.name}")`.'
            )
            raise InvariantViolationError(msg)
        msg = f"The function at {self.location} returned a {type(job).__name__}; it must return a job definition."
        raise InvariantViolationError(msg)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReconstructableJob):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key()[:3])

    def _key(self) -> tuple[Any, ...]:
        return (self.module_name, self.python_file, self.attribute, self.args, self.kwargs)

    def __repr__(self) -> str:
        return f"ReconstructableJob({self.location!r})"


def _is_job(obj: Any) -> bool:
    from weir._execution.asset_job import JobDefinition

    return isinstance(obj, JobDefinition)


def _module_for_file(path: str, working_directory: str) -> ModuleType:
    """The module loaded from ``path``: the running script itself if it is that file, else a fresh import.

    In a worker started with ``spawn`` or ``forkserver``, ``multiprocessing`` has already run the
    parent's script as ``__mp_main__`` (that is why scripts need an ``if __name__ == "__main__":``
    guard); reusing it keeps classes defined there identical to the ones the parent pickled.
    """
    for name in ("__main__", "__mp_main__"):
        module = sys.modules.get(name)
        module_file = getattr(module, "__file__", None)
        if module is not None and module_file and _same_file(module_file, path):
            return module
    name = "__weir_reconstructed__" + "".join(ch if ch.isalnum() else "_" for ch in path)
    existing = sys.modules.get(name)
    if existing is not None:
        return existing
    if working_directory and working_directory not in sys.path:
        sys.path.insert(0, working_directory)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        msg = f"Cannot load the Python file {path!r} to reconstruct a job; is it a .py file?"
        raise InvariantViolationError(msg)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        msg = f"Could not load {path!r} to reconstruct a job: {type(exc).__name__}: {exc}"
        raise InvariantViolationError(msg) from exc
    return module


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _script_path(module: ModuleType | None, what: str) -> str:
    path = getattr(module, "__file__", None)
    if not path or not os.path.exists(path):
        msg = (
            f"reconstructable() cannot reconstruct {what}: it is defined in an interactive session "
            "(a REPL or a notebook) that worker processes cannot import. " + _DOCS_HINT
        )
        raise InvariantViolationError(msg)
    return str(path)


def _pointer_for_function(target: Callable[..., Any]) -> ReconstructableJob:
    name = getattr(target, "__name__", None)
    qualname = getattr(target, "__qualname__", name)
    if name == "<lambda>":
        msg = (
            "reconstructable() cannot reconstruct a lambda: worker processes cannot import it. "
            + _DOCS_HINT
        )
        raise InvariantViolationError(msg)
    if not name or qualname != name:
        msg = (
            f"reconstructable() got {qualname!r}, which is not defined at module scope (it is nested in "
            "another function or a class), so worker processes cannot import it. " + _DOCS_HINT
        )
        raise InvariantViolationError(msg)
    module = inspect.getmodule(target)
    module_name = getattr(module, "__name__", None) or getattr(target, "__module__", None)
    if module is None or getattr(module, name, None) is not target:
        msg = (
            f"reconstructable() got the function {name!r}, but its module {module_name!r} does not hold it "
            f"under that name (was it redefined or created dynamically?). " + _DOCS_HINT
        )
        raise InvariantViolationError(msg)
    if module_name in ("__main__", "__mp_main__"):
        return ReconstructableJob(attribute=name, python_file=_script_path(module, repr(name)))
    return ReconstructableJob(attribute=name, module_name=module_name)


def _find_module_attribute(job: Any) -> tuple[ModuleType, str] | None:
    """A module that holds ``job`` at top level, and the attribute name; scripts come last."""
    script: tuple[ModuleType, str] | None = None
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        name = getattr(job, "name", None)
        if isinstance(name, str) and namespace.get(name) is job:
            found: tuple[ModuleType, str] | None = (module, name)
        else:
            found = next(((module, k) for k, v in list(namespace.items()) if v is job), None)
        if found is None:
            continue
        if module.__name__ in ("__main__", "__mp_main__"):
            script = script or found
            continue
        if not _is_importable(module):
            continue
        return found
    return script


def _is_importable(module: ModuleType) -> bool:
    """Whether a fresh process can import ``module`` by name (not an in-memory module)."""
    spec = getattr(module, "__spec__", None)
    return spec is not None and getattr(spec, "origin", None) not in (None, "built-in")


def reconstructable(target: Any) -> ReconstructableJob:
    """A pointer to ``target`` that worker processes can import (for :func:`execute_job`).

    ``target`` is a job at module scope (``@job``, or any job object bound to a module-level
    name) or a module-level function that returns a job (use this for ``graph.to_job(...)`` and
    for asset jobs: ``def get_job(): return defs.get_job_def("all_assets")``). A job defined in
    the running script is found again through the script's file, so scripts need an
    ``if __name__ == "__main__":`` guard around the code that runs the job.

    Raises ``DagsterInvariantViolationError`` for lambdas, nested functions and jobs that are not
    bound at module scope.

    Example::

        result = dg.execute_job(dg.reconstructable(get_job), instance=dg.DagsterInstance.get())
    """
    if isinstance(target, ReconstructableJob):
        return target
    if _is_job(target):
        found = _find_module_attribute(target)
        if found is None:
            msg = (
                f"reconstructable() got the job {target.name!r}, but no imported module holds it at top level, "
                "so worker processes could not import it (was it built inside a function?). "
                + _DOCS_HINT
            )
            raise InvariantViolationError(msg)
        module, attribute = found
        if module.__name__ in ("__main__", "__mp_main__"):
            pointer = ReconstructableJob(
                attribute=attribute,
                python_file=_script_path(module, f"the job {target.name!r}"),
                job_name=target.name,
            )
        else:
            pointer = ReconstructableJob(
                attribute=attribute, module_name=module.__name__, job_name=target.name
            )
        pointer._loaded = target
        return pointer
    if inspect.isfunction(target) or (
        callable(target) and hasattr(target, "__name__") and hasattr(target, "__module__")
    ):
        return _pointer_for_function(target)
    msg = (
        f"reconstructable() takes a job or a module-level function returning a job, got a {type(target).__name__}. "
        + _DOCS_HINT
    )
    raise InvariantViolationError(msg)


def build_reconstructable_job(
    reconstructor_module_name: str,
    reconstructor_function_name: str,
    reconstructable_args: Sequence[Any] | None = None,
    reconstructable_kwargs: Mapping[str, Any] | None = None,
    reconstructor_working_directory: str | None = None,
) -> ReconstructableJob:
    """A pointer to the job returned by ``module.function(*args, **kwargs)``, for jobs that
    :func:`reconstructable` cannot point at (built dynamically, or with arguments).

    The arguments are pickled to the worker processes.
    """
    return ReconstructableJob(
        attribute=reconstructor_function_name,
        module_name=reconstructor_module_name,
        working_directory=reconstructor_working_directory,
        args=tuple(reconstructable_args or ()),
        kwargs=reconstructable_kwargs,
    )
