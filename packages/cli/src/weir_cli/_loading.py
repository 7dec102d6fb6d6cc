"""Loading user code: which module or file to import, and the ``Definitions`` it holds.

A code target comes from the command line (``-m/--module-name``, ``-f/--python-file``,
``-a/--attribute``, ``-d/--working-directory``) or, when none is given, from the
``[tool.weir]`` (or Dagster's ``[tool.dagster]``) table of ``pyproject.toml`` in the working
directory. The ``Definitions`` object is the ``-a`` attribute, else the one module-level
``Definitions``, else an attribute ``defs`` (a ``Definitions`` or a function returning one).

Every failure is a :class:`CodeLoadError` whose message says what went wrong and, for an
exception in the user's code, the ``file:line`` of the user's failing line.

This module is private to the CLI; a later core "code location" module will take it over.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import linecache
import logging
import os
import sys
import sysconfig
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from weir.errors import WeirError

__all__ = [
    "CodeLoadError",
    "CodeTarget",
    "LoadedDefinitions",
    "load_definitions",
    "reconstruct_job",
    "target_from_options",
]

logger = logging.getLogger(__name__)

_NO_TARGET_HINT = (
    "Pass -m MODULE or -f FILE.py (optionally -a ATTRIBUTE and -d WORKING_DIRECTORY), or add "
    '[tool.weir] module_name = "my_project.definitions" to pyproject.toml.'
)


class CodeLoadError(WeirError):
    """The user's code could not be found, imported, or holds no usable ``Definitions``.

    Attributes:
        location: ``file:line`` of the user's failing line, when known.
        source_line: That line's text, when known.
    """

    def __init__(
        self, message: str, *, location: str | None = None, source_line: str | None = None
    ) -> None:
        super().__init__(message)
        self.location = location
        self.source_line = source_line

    def render(self) -> str:
        """The message with the failing line underneath, as the CLI prints it."""
        text = str(self)
        if self.location is not None:
            text += f"\n  at {self.location}"
            if self.source_line:
                text += f"\n      {self.source_line.strip()}"
        return text


@dataclass(frozen=True)
class CodeTarget:
    """Where the user's ``Definitions`` live: exactly one of a module name and a file path."""

    module_name: str | None
    python_file: str | None
    attribute: str | None
    working_directory: str

    def describe(self, *, with_attribute: bool = True) -> str:
        """``module 'x'`` or ``file 'path.py'``, with the attribute, for messages."""
        what = (
            f"module {self.module_name!r}"
            if self.module_name is not None
            else f"file {_display_path(str(self.python_file))!r}"
        )
        if with_attribute and self.attribute:
            what += f" (attribute {self.attribute!r})"
        return what


@dataclass(frozen=True)
class LoadedDefinitions:
    """The result of loading a target: the ``Definitions``, and where it was found."""

    target: CodeTarget
    definitions: Any
    attribute: str
    module: ModuleType


# --------------------------------------------------------------------------- choosing the target


def target_from_options(
    *,
    module_name: str | None = None,
    python_file: str | None = None,
    attribute: str | None = None,
    working_directory: str | None = None,
) -> CodeTarget:
    """The code target the command-line options name, else the one in ``pyproject.toml``.

    Raises:
        CodeLoadError: Both or neither of a module and a file are given (and ``pyproject.toml``
            names none), the file does not exist, or ``pyproject.toml`` is invalid.
    """
    workdir = os.path.abspath(working_directory or os.getcwd())
    if working_directory is not None and not os.path.isdir(workdir):
        msg = f"The working directory {working_directory!r} does not exist or is not a folder."
        raise CodeLoadError(msg)
    if module_name is not None and python_file is not None:
        msg = "Pass either -m/--module-name or -f/--python-file, not both."
        raise CodeLoadError(msg)
    if python_file is not None:
        path = python_file if os.path.isabs(python_file) else os.path.join(workdir, python_file)
        if not os.path.isfile(path):
            msg = f"The Python file {python_file!r} does not exist (looked for {path})."
            raise CodeLoadError(msg)
        return CodeTarget(None, os.path.abspath(path), attribute, workdir)
    if module_name is not None:
        return CodeTarget(module_name, None, attribute, workdir)
    return _target_from_pyproject(workdir, attribute)


def _target_from_pyproject(workdir: str, attribute: str | None) -> CodeTarget:
    path = Path(workdir, "pyproject.toml")
    if not path.is_file():
        msg = f"No code location given, and there is no pyproject.toml in {workdir}. {_NO_TARGET_HINT}"
        raise CodeLoadError(msg)
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        msg = f"{_display_path(str(path))} is not valid TOML: {exc}. Fix the file, or pass -m/-f."
        raise CodeLoadError(msg) from exc
    tool = data.get("tool", {})
    for section in ("weir", "dagster"):
        table = tool.get(section)
        if not isinstance(table, dict):
            continue
        module_name = table.get("module_name")
        if not isinstance(module_name, str) or not module_name:
            msg = (
                f"[tool.{section}] in {_display_path(str(path))} has no module_name string "
                f'(got {module_name!r}); add module_name = "my_project.definitions".'
            )
            raise CodeLoadError(msg)
        table_attribute = table.get("attribute")
        table_workdir = table.get("working_directory")
        resolved_workdir = (
            os.path.abspath(os.path.join(workdir, table_workdir))
            if isinstance(table_workdir, str)
            else workdir
        )
        logger.debug("code target from [tool.%s] of %s: %s", section, path, module_name)
        return CodeTarget(
            module_name,
            None,
            attribute or (table_attribute if isinstance(table_attribute, str) else None),
            resolved_workdir,
        )
    msg = (
        f"No code location given, and {_display_path(str(path))} has no [tool.weir] or "
        f"[tool.dagster] table. {_NO_TARGET_HINT}"
    )
    raise CodeLoadError(msg)


# --------------------------------------------------------------------------- importing


_cache: dict[CodeTarget, LoadedDefinitions] = {}


def load_definitions(target: CodeTarget) -> LoadedDefinitions:
    """Import ``target`` and find its ``Definitions`` (once per process and target).

    Raises:
        CodeLoadError: The module or file cannot be imported (the message names the failing
            ``file:line`` of the user's code), or it holds no usable ``Definitions``.
    """
    cached = _cache.get(target)
    if cached is not None:
        return cached
    _add_to_sys_path(target.working_directory)
    if target.python_file is not None:
        _add_to_sys_path(os.path.dirname(target.python_file))
        module = _import_file(target)
    else:
        module = _import_module(target)
    attribute, definitions = _find_definitions(module, target)
    loaded = LoadedDefinitions(target, definitions, attribute, module)
    _cache[target] = loaded
    return loaded


def reconstruct_job(
    module_name: str | None,
    python_file: str | None,
    attribute: str | None,
    working_directory: str,
    job_name: str,
) -> Any:
    """The job ``job_name`` of the target's ``Definitions``; worker processes call this.

    The CLI hands ``weir.build_reconstructable_job("weir_cli._loading", "reconstruct_job",
    ...)`` to ``weir.execute_job``, so each worker imports the user's code once itself.
    """
    target = CodeTarget(module_name, python_file, attribute, working_directory)
    return load_definitions(target).definitions.resolve_job_def(job_name)


def _add_to_sys_path(folder: str) -> None:
    if folder not in sys.path:
        sys.path.insert(0, folder)


def _import_module(target: CodeTarget) -> ModuleType:
    name = str(target.module_name)
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (name == missing or name.startswith(missing + ".")):
            msg = (
                f"No module named {name!r} (the import of {missing!r} failed), looking in the "
                f"working directory {_display_path(target.working_directory)} and on sys.path. "
                "Check the spelling, install the project (pip install -e .), or pass "
                "-d/--working-directory."
            )
            raise CodeLoadError(msg) from exc
        raise _user_code_error(f"Could not import {target.describe()}", exc, target) from exc
    except (Exception, SystemExit) as exc:
        raise _user_code_error(f"Could not import {target.describe()}", exc, target) from exc


def _import_file(target: CodeTarget) -> ModuleType:
    path = str(target.python_file)
    name = _module_name_for_file(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        msg = f"Cannot import {_display_path(path)!r} as Python code; pass a .py file."
        raise CodeLoadError(msg)
    module = importlib.util.module_from_spec(spec)
    # registered first, as an import would be: dataclasses, pickling and pydantic need it
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        raise _user_code_error(f"Could not load {target.describe()}", exc, target) from exc
    return module


def _module_name_for_file(path: str) -> str:
    """The file's stem (so pickles name it as an import would), unless that name is taken."""
    stem = Path(path).stem
    existing = sys.modules.get(stem)
    if existing is None or _same_file(getattr(existing, "__file__", None), path):
        return stem
    return f"__weir_file__{stem}"


def _same_file(a: str | None, b: str) -> bool:
    if a is None:
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


# --------------------------------------------------------------------------- finding Definitions


def _find_definitions(module: ModuleType, target: CodeTarget) -> tuple[str, Any]:
    from weir import Definitions

    where = target.describe()
    if target.attribute is not None:
        if not hasattr(module, target.attribute):
            names = [n for n in vars(module) if not n.startswith("_")]
            close = difflib.get_close_matches(target.attribute, names, n=3)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            found = _definitions_attributes(module, Definitions)
            listing = (
                f" Module-level Definitions: {', '.join(found)}."
                if found
                else " It has no module-level Definitions."
            )
            msg = f"{target.describe(with_attribute=False)} has no attribute {target.attribute!r}.{hint}{listing}"
            raise CodeLoadError(msg)
        value = getattr(module, target.attribute)
        return target.attribute, _as_definitions(value, target.attribute, target, Definitions)
    found = _definitions_attributes(module, Definitions)
    distinct = {id(getattr(module, name)) for name in found}
    if len(distinct) == 1:
        return found[0], getattr(module, found[0])
    if len(distinct) > 1:
        msg = (
            f"{where} has {len(found)} module-level Definitions objects: {', '.join(found)}. "
            "Keep one (combine them with Definitions.merge), or pick one with -a/--attribute."
        )
        raise CodeLoadError(msg)
    if hasattr(module, "defs"):
        return "defs", _as_definitions(module.defs, "defs", target, Definitions)
    msg = (
        f"No Definitions found in {where}: define one at module level, e.g. "
        "`defs = dg.Definitions(assets=[...])`, or name it with -a/--attribute."
    )
    raise CodeLoadError(msg)


def _definitions_attributes(module: ModuleType, definitions_cls: type) -> list[str]:
    return sorted(
        name for name, value in vars(module).items() if isinstance(value, definitions_cls)
    )


def _as_definitions(value: Any, name: str, target: CodeTarget, definitions_cls: type) -> Any:
    if isinstance(value, definitions_cls):
        return value
    if callable(value):
        try:
            result = value()
        except Exception as exc:
            raise _user_code_error(
                f"Calling {name}() of {target.describe()} raised", exc, target
            ) from exc
        if isinstance(result, definitions_cls):
            return result
        msg = f"{name}() of {target.describe()} returned a {type(result).__name__}; it must return a Definitions."
        raise CodeLoadError(msg)
    msg = (
        f"{name!r} of {target.describe()} is a {type(value).__name__}, not a Definitions (or a "
        "function returning one). Point -a/--attribute at your Definitions."
    )
    raise CodeLoadError(msg)


# --------------------------------------------------------------------------- describing failures


def _user_code_error(what: str, exc: BaseException, target: CodeTarget) -> CodeLoadError:
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        location = f"{_display_path(exc.filename)}:{exc.lineno}"
        detail = f"SyntaxError: {exc.msg}"
        line = exc.text or linecache.getline(exc.filename, exc.lineno)
        return CodeLoadError(f"{what}: {detail}.", location=location, source_line=line)
    frame = _user_frame(exc.__traceback__, _roots(target))
    detail = f"{type(exc).__name__}: {exc}".rstrip()
    if frame is None:
        return CodeLoadError(f"{what}: {detail}")
    filename, lineno = frame
    return CodeLoadError(
        f"{what}: {detail}",
        location=f"{_display_path(filename)}:{lineno}",
        source_line=linecache.getline(filename, lineno),
    )


def _roots(target: CodeTarget) -> list[str]:
    roots = [target.working_directory]
    if target.python_file is not None:
        roots.append(os.path.dirname(target.python_file))
    return [os.path.abspath(r) for r in roots]


def _excluded_dirs() -> list[str]:
    import weir

    paths = sysconfig.get_paths()
    dirs = [paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths]
    dirs.append(os.path.dirname(os.path.abspath(str(weir.__file__))))
    dirs.append(os.path.dirname(os.path.abspath(__file__)))
    return [os.path.abspath(d) for d in dirs]


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _user_frame(tb: TracebackType | None, roots: list[str]) -> tuple[str, int] | None:
    """The deepest frame of the user's own code: under the project's folders if possible, and
    never in the standard library, installed packages, weir or this CLI."""
    excluded = _excluded_dirs()
    candidates: list[tuple[str, int]] = []
    for frame, lineno in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if filename.startswith("<"):
            continue
        absolute = os.path.abspath(filename)
        if any(_under(absolute, d) for d in excluded):
            continue
        candidates.append((absolute, lineno))
    for filename, lineno in reversed(candidates):
        if any(_under(filename, root) for root in roots):
            return filename, lineno
    return candidates[-1] if candidates else None


def _display_path(path: str) -> str:
    """``path`` relative to the current directory when it is below it."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    if _under(absolute, cwd) and absolute != cwd:
        return os.path.relpath(absolute, cwd)
    return absolute
