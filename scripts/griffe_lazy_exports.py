"""A griffe extension for the docs build: tell griffe what ``weir`` exports.

``weir/__init__.py`` computes ``__all__`` from its lazy export table (``_EXPORTS``, public name ->
module), which static analysis cannot evaluate, so mkdocstrings would render only the names it
can see. This extension reads the table's keys from the source (it is a dict literal) and sets
them as the module's exports; the names themselves resolve through the ``TYPE_CHECKING`` imports.
Nothing is imported. Enabled in mkdocs.yml under the python handler's ``extensions``.
"""

from __future__ import annotations

import ast
from typing import Any

import griffe

LAZY_MODULES = {"weir": "_EXPORTS"}

logger = griffe.get_logger(__name__)


class LazyExports(griffe.Extension):
    """Set ``Module.exports`` from a module-level dict literal of lazily exported names."""

    def on_module(self, *, mod: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        table = LAZY_MODULES.get(mod.path)
        if table is None or mod.filepath is None or isinstance(mod.filepath, list):
            return
        tree = ast.parse(mod.filepath.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id == table:
                mod.exports = sorted(ast.literal_eval(value))
                logger.debug("%s exports %d names from %s", mod.path, len(mod.exports), table)
                return
        msg = f"{mod.filepath}: no module-level {table} dict literal; update {__file__}"
        raise RuntimeError(msg)
