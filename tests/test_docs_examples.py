"""Every ``python`` code block in README.md and docs/**/*.md runs, page by page.

A page's blocks run in order in one fresh namespace (a later block may use what an earlier one
defined), inside a temporary working directory with ``WEIR_HOME`` pointing at a temporary folder,
so examples may write files freely. The namespace is a real module registered in ``sys.modules``
for the duration, so pickling and pydantic models defined in examples behave as in a script; its
``__name__`` is not ``"__main__"``, so put example code at top level rather than under
``if __name__ == "__main__":``.

To keep a block out (pseudo-code, a shell session written as python, an excerpt that cannot run
alone), put ``<!-- test: skip -->`` on the last non-blank line before its opening fence. Blocks
fenced as ``python`` or ``py`` run; ``pycon``, ``bash`` and other languages never do.
"""

from __future__ import annotations

import re
import sys
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP_MARKER = "<!-- test: skip -->"
RUNNABLE_LANGUAGES = {"python", "py"}
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")


@dataclass(frozen=True)
class CodeBlock:
    """A fenced code block: where it starts (1-based line of its first code line) and its source."""

    path: Path
    line: int
    source: str


def extract_blocks(path: Path) -> list[CodeBlock]:
    """The runnable python blocks of a markdown file, in order, without the skipped ones."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[CodeBlock] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, indent = opening["fence"], opening["indent"]
        language = (opening["info"].split() or [""])[0].lower().lstrip("{.").rstrip("}")
        previous = next((ln.strip() for ln in reversed(lines[:index]) if ln.strip()), "")
        body: list[str] = []
        index += 1
        while index < len(lines) and not _closes(lines[index], fence):
            line = lines[index]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            index += 1
        index += 1  # the closing fence
        if language in RUNNABLE_LANGUAGES and previous != SKIP_MARKER:
            first_code_line = index - len(body)  # 1-based: the line after the opening fence
            blocks.append(CodeBlock(path, first_code_line, "\n".join(body) + "\n"))
    return blocks


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]}


def run_page(blocks: list[CodeBlock], module_name: str) -> None:
    """Run a page's blocks in order in one module namespace; fail naming the file and line."""
    module = types.ModuleType(module_name)
    module.__file__ = str(blocks[0].path) if blocks else None
    sys.modules[module_name] = module
    try:
        for number, block in enumerate(blocks, start=1):
            where = f"{_display(block.path)}:{block.line}"
            # blank lines in front keep traceback line numbers equal to the markdown file's
            code = compile("\n" * (block.line - 1) + block.source, str(block.path), "exec")
            try:
                exec(code, module.__dict__)
            except Exception as exc:
                details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                pytest.fail(
                    f"{where}: code block {number} of {len(blocks)} failed with "
                    f"{type(exc).__name__}: {exc}\n\n{details}",
                    pytrace=False,
                )
    finally:
        sys.modules.pop(module_name, None)


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def documented_pages() -> list[Path]:
    """README.md and every page under docs/ that has at least one runnable block."""
    candidates = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [page for page in candidates if page.is_file() and extract_blocks(page)]


@pytest.mark.parametrize("page", documented_pages(), ids=_display)
def test_docs_page_examples_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("WEIR_HOME", str(tmp_path / "weir_home"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    module_name = "weir_docs_example_" + re.sub(r"\W", "_", _display(page))
    run_page(extract_blocks(page), module_name)


def test_readme_and_getting_started_have_examples() -> None:
    pages = {_display(p) for p in documented_pages()}
    assert "README.md" in pages
    assert str(Path("docs") / "getting-started.md") in pages


# --- the extractor itself -------------------------------------------------------------------

SAMPLE = """\
# Title

```python
x = 1
```

<!-- test: skip -->
```python
this is not python
```

```bash
echo not python either
```

- a list item with an indented block:

    ```py
    y = x + 1
    ```

````python title="four backticks"
z = y * 10
````
"""


def test_extractor_finds_runnable_blocks_with_their_lines(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(SAMPLE, encoding="utf-8")
    blocks = extract_blocks(page)
    assert [(b.line, b.source) for b in blocks] == [
        (4, "x = 1\n"),
        (19, "y = x + 1\n"),
        (23, "z = y * 10\n"),
    ]


def test_blocks_share_a_namespace_per_page(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(SAMPLE, encoding="utf-8")
    module_name = "weir_docs_example_selftest"
    run_page(extract_blocks(page), module_name)  # z = y * 10 needs x and y from earlier blocks
    assert module_name not in sys.modules


def test_failure_names_the_file_and_line(tmp_path: Path) -> None:
    page = tmp_path / "broken.md"
    page.write_text(
        "Intro\n\n```python\nok = True\n```\n\n```python\n\nraise ValueError('boom')\n```\n",
        encoding="utf-8",
    )
    with pytest.raises(pytest.fail.Exception) as failure:
        run_page(extract_blocks(page), "weir_docs_example_broken")
    message = str(failure.value)
    assert f"{page}:8: code block 2 of 2 failed with ValueError: boom" in message
    # the traceback points at the markdown line of the raise
    assert f'File "{page}", line 9' in message
