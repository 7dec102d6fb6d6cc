"""Meta-tests: every hook is declared, typed, documented, in the docs and exercised by a test."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from types import FunctionType

import pytest

from weir import hookspecs

REPO = Path(__file__).resolve().parents[3]
DOCS_PAGE = REPO / "docs" / "plugins.md"


def _hookspecs() -> dict[str, FunctionType]:
    return {
        name: value
        for name, value in vars(hookspecs).items()
        if isinstance(value, FunctionType) and hasattr(value, f"{hookspecs.PROJECT_NAME}_spec")
    }


HOOKS = sorted(_hookspecs())


def _test_sources() -> dict[Path, str]:
    files = [*REPO.glob("packages/*/tests/**/*.py"), *REPO.glob("tests/**/*.py")]
    here = Path(__file__).resolve()
    return {path: path.read_text() for path in files if path.resolve() != here}


def test_every_hook_of_the_design_is_declared() -> None:
    assert HOOKS == [
        "weir_on_event",
        "weir_register_commands",
        "weir_register_components",
        "weir_register_executors",
        "weir_register_io_managers",
        "weir_register_partition_types",
        "weir_register_resources",
        "weir_storage_for_url",
    ]
    assert {name for name in hookspecs.__all__ if name.startswith("weir_")} == set(HOOKS)


@pytest.mark.parametrize("hook_name", HOOKS)
def test_hook_has_a_real_docstring(hook_name: str) -> None:
    doc = inspect.getdoc(_hookspecs()[hook_name]) or ""
    assert len(doc) >= 200, f"{hook_name} needs a docstring that explains params, return and kind"
    assert re.search(r"^Kind: (collect|firstresult|observer)\b", doc, re.MULTILINE), hook_name
    parameters = inspect.signature(_hookspecs()[hook_name]).parameters
    for parameter in parameters:
        assert f"{parameter}:" in doc, f"{hook_name} does not document its argument {parameter!r}"
    if _hookspecs()[hook_name].__annotations__.get("return") not in ("None", None):
        assert "Returns:" in doc, f"{hook_name} does not document what it returns"


@pytest.mark.parametrize("hook_name", HOOKS)
def test_hook_is_fully_annotated(hook_name: str) -> None:
    function = _hookspecs()[hook_name]
    annotations = function.__annotations__
    assert "return" in annotations, hook_name
    for parameter in inspect.signature(function).parameters:
        assert parameter in annotations, f"{hook_name}({parameter}) has no type annotation"


@pytest.mark.parametrize("hook_name", HOOKS)
def test_hook_is_in_the_docs_page(hook_name: str) -> None:
    assert f"`{hook_name}(" in DOCS_PAGE.read_text(), (
        f"docs/plugins.md does not mention {hook_name}"
    )


@pytest.mark.parametrize("hook_name", HOOKS)
def test_hook_is_exercised_by_a_test(hook_name: str) -> None:
    users = [path.name for path, text in _test_sources().items() if hook_name in text]
    assert users, f"no test mentions {hook_name}; add one that implements and calls it"


def test_firstresult_marking_matches_the_docstring() -> None:
    for name, function in _hookspecs().items():
        opts = getattr(function, f"{hookspecs.PROJECT_NAME}_spec")
        documented_first = "Kind: firstresult" in (function.__doc__ or "")
        assert bool(opts.get("firstresult")) == documented_first, name


def test_docs_page_renders_the_hook_reference() -> None:
    text = DOCS_PAGE.read_text()
    assert re.search(r"^::: weir\.hookspecs$", text, re.MULTILINE)


def test_docs_examples_marked_to_run_do_run() -> None:
    blocks = re.findall(
        r"<!-- test: run -->\n```python\n(.*?)```", DOCS_PAGE.read_text(), re.DOTALL
    )
    assert blocks, "docs/plugins.md should carry at least one executed example"
    for block in blocks:
        exec(compile(block, str(DOCS_PAGE), "exec"), {"__name__": "docs_plugins_example"})
