"""Loading user code: -m, -f, -a, -d, pyproject.toml, and every way it can fail (exit code 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

ASSETS = """\
import weir as dg


@dg.asset
def first() -> int:
    return 1


@dg.asset
def second(first: int) -> int:
    return first + 1
"""


def test_python_file_is_loaded(invoke, write) -> None:
    write("flows.py", ASSETS + "\ndefs = dg.Definitions(assets=[first, second])\n")
    result = invoke("asset", "list", "-f", "flows.py")
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["first", "second"]


def test_module_is_imported_from_the_working_directory(invoke, write, work) -> None:
    write("pkg_mod_a/__init__.py", "")
    write("pkg_mod_a/definitions.py", ASSETS + "\nmy_defs = dg.Definitions(assets=[first])\n")
    result = invoke("asset", "list", "-m", "pkg_mod_a.definitions", "-d", str(work))
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["first"]


def test_pyproject_tool_weir_names_the_module(invoke, write) -> None:
    write("pkg_mod_b.py", ASSETS + "\ndefs = dg.Definitions(assets=[first, second])\n")
    write("pyproject.toml", '[tool.weir]\nmodule_name = "pkg_mod_b"\n')
    result = invoke("asset", "list")
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["first", "second"]


def test_pyproject_tool_dagster_is_read_too(invoke, write) -> None:
    write("pkg_mod_c.py", ASSETS + "\ndefs = dg.Definitions(assets=[second, first])\n")
    write("pyproject.toml", '[project]\nname = "x"\n\n[tool.dagster]\nmodule_name = "pkg_mod_c"\n')
    result = invoke("asset", "list")
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["first", "second"]


def test_no_target_and_no_pyproject_says_how_to_give_one(invoke) -> None:
    result = invoke("asset", "list")
    assert result.exit_code == 2
    assert "No code location given" in result.stderr
    assert "[tool.weir]" in result.stderr


def test_pyproject_without_a_weir_table_is_explained(invoke, write) -> None:
    write("pyproject.toml", '[project]\nname = "x"\n')
    result = invoke("asset", "list")
    assert result.exit_code == 2
    assert "has no [tool.weir] or [tool.dagster] table" in result.stderr


def test_attribute_picks_one_of_several_and_a_defs_function_is_called(invoke, write) -> None:
    write(
        "several.py",
        ASSETS
        + "\nsmall = dg.Definitions(assets=[first])\nbig = dg.Definitions(assets=[first, second])\n"
        + "\ndef build():\n    return dg.Definitions(assets=[second, first])\n",
    )
    result = invoke("asset", "list", "-f", "several.py", "-a", "small")
    assert result.stdout.split() == ["first"]
    result = invoke("asset", "list", "-f", "several.py", "-a", "build")
    assert result.stdout.split() == ["first", "second"]


def test_two_definitions_are_named_in_the_error(invoke, write) -> None:
    write(
        "two.py",
        ASSETS
        + "\nalpha = dg.Definitions(assets=[first])\nbeta = dg.Definitions(assets=[second])\n",
    )
    result = invoke("asset", "list", "-f", "two.py")
    assert result.exit_code == 2
    assert "2 module-level Definitions objects: alpha, beta" in result.stderr
    assert "-a/--attribute" in result.stderr


def test_no_definitions_is_an_error(invoke, write) -> None:
    write("nodefs.py", ASSETS)
    result = invoke("asset", "list", "-f", "nodefs.py")
    assert result.exit_code == 2
    assert "No Definitions found in file 'nodefs.py'" in result.stderr


def test_unknown_attribute_suggests_the_close_name(invoke, write) -> None:
    write("attr.py", ASSETS + "\nmy_defs = dg.Definitions(assets=[first])\n")
    result = invoke("asset", "list", "-f", "attr.py", "-a", "my_def")
    assert result.exit_code == 2
    assert "has no attribute 'my_def'" in result.stderr
    assert "Did you mean 'my_defs'?" in result.stderr


def test_missing_module(invoke) -> None:
    result = invoke("asset", "list", "-m", "no_such_module_xyz")
    assert result.exit_code == 2
    assert "No module named 'no_such_module_xyz'" in result.stderr
    assert "Traceback" not in result.output


def test_missing_file(invoke) -> None:
    result = invoke("asset", "list", "-f", "nowhere.py")
    assert result.exit_code == 2
    assert "The Python file 'nowhere.py' does not exist" in result.stderr


def test_syntax_error_names_file_and_line(invoke, write) -> None:
    write("bad_syntax.py", "import weir as dg\n\n\ndef oops(:\n    pass\n")
    result = invoke("asset", "list", "-f", "bad_syntax.py")
    assert result.exit_code == 2
    assert "SyntaxError" in result.stderr
    assert "bad_syntax.py:4" in result.stderr
    assert "def oops(:" in result.stderr
    assert "Traceback" not in result.output


def test_exception_in_user_code_names_the_users_line(invoke, write) -> None:
    write("pkg_mod_d/__init__.py", "")
    write("pkg_mod_d/helpers.py", "def load():\n    return {}['missing']\n")
    write("pkg_mod_d/defs.py", "from pkg_mod_d.helpers import load\n\nVALUE = load()\n")
    result = invoke("asset", "list", "-m", "pkg_mod_d.defs")
    assert result.exit_code == 2
    assert "KeyError: 'missing'" in result.stderr
    assert str(Path("pkg_mod_d", "helpers.py")) + ":2" in result.stderr
    assert "Traceback" not in result.output


def test_import_of_a_missing_dependency_is_user_code_not_a_missing_module(invoke, write) -> None:
    write("needs_dep.py", "import weir as dg\nimport not_installed_dep_xyz\n")
    result = invoke("asset", "list", "-f", "needs_dep.py")
    assert result.exit_code == 2
    assert "ModuleNotFoundError: No module named 'not_installed_dep_xyz'" in result.stderr
    assert "needs_dep.py:2" in result.stderr


def test_definition_error_at_import_names_the_line(invoke, write) -> None:
    write(
        "dup.py",
        ASSETS + "\n\ndefs = dg.Definitions(assets=[first, second])\ndefs.resolve_asset_graph()\n"
        "dg.Definitions(assets=[first, first.with_attributes()]).resolve_asset_graph()\n",
    )
    result = invoke("asset", "list", "-f", "dup.py")
    assert result.exit_code == 2
    assert "dup.py:16" in result.stderr


@pytest.mark.parametrize("flag_first", [True, False])
def test_verbose_shows_the_full_traceback(invoke, write, flag_first: bool) -> None:
    write("boom.py", "raise RuntimeError('boom at import')\n")
    args = (
        ["-v", "asset", "list", "-f", "boom.py"]
        if flag_first
        else ["asset", "list", "-f", "boom.py", "-v"]
    )
    result = invoke(*args)
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: boom at import" in result.stderr
    assert "boom.py:1" in result.stderr


def test_module_and_file_together_are_refused(invoke, write) -> None:
    write("either.py", ASSETS + "\ndefs = dg.Definitions(assets=[first])\n")
    result = invoke("asset", "list", "-f", "either.py", "-m", "either")
    assert result.exit_code == 2
    assert "not both" in result.stderr
