"""``weir asset list`` and ``weir asset materialize``."""

from __future__ import annotations

import difflib
import re
from typing import Any

import click
from rich.text import Text

from weir_cli._options import code_location_options, load_or_exit, run_config_options
from weir_cli._output import EXIT_USAGE, fail, stdout_console

__all__ = ["asset"]

IMPLICIT_ASSET_JOB = "__ASSET_JOB"
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

_SELECTION_WORDS = frozenset({"and", "or", "not", "sinks", "roots"})


@click.group()
def asset() -> None:
    """List and materialize the assets of your Definitions."""


def _select(definitions: Any, selection: str | None) -> list[Any]:
    """The asset keys ``selection`` resolves to (every asset when ``None``), sorted."""
    import weir as dg
    from weir.errors import WeirError

    graph = definitions.resolve_asset_graph()
    if selection is None:
        return sorted(definitions.resolve_all_asset_keys())
    try:
        keys = dg.AssetSelection.from_string(selection).resolve(graph)
    except WeirError as exc:
        hint = "" if "did you mean" in str(exc).lower() else _did_you_mean(selection, graph)
        fail(f"Invalid --select {selection!r}: {exc}{hint}", EXIT_USAGE)
    if not keys:
        fail(f"--select {selection!r} matches no asset.", EXIT_USAGE)
    return sorted(keys)


def _did_you_mean(selection: str, graph: Any) -> str:
    known = sorted(k.to_user_string() for k in graph.all_asset_keys)
    suggestions: list[str] = []
    for word in re.findall(r"[\w./-]+", selection):
        name = word.split(":", 1)[-1]
        if name in known or name in _SELECTION_WORDS:
            continue
        suggestions.extend(
            c for c in difflib.get_close_matches(name, known, n=2) if c not in suggestions
        )
    if not suggestions:
        return ""
    return f" Did you mean {' or '.join(repr(s) for s in suggestions)}?"


@asset.command(name="list")
@click.option("--select", "selection", help="Asset selection, e.g. 'key:raw+' or 'a,b'.")
@code_location_options
@click.pass_context
def list_assets(ctx: click.Context, selection: str | None, **location: Any) -> None:
    """Print the asset keys, one per line."""
    from weir.errors import WeirError

    loaded = load_or_exit(ctx, **location)
    try:
        keys = _select(loaded.definitions, selection)
    except WeirError as exc:
        fail(f"The Definitions in {loaded.target.describe()} are invalid: {exc}", EXIT_USAGE)
    console = stdout_console()
    for key in keys:
        console.print(Text(key.to_user_string()))


@asset.command()
@click.option(
    "--select",
    "selection",
    required=True,
    help="Assets to materialize: a selection string, e.g. 'key:raw+', or comma-separated keys.",
)
@click.option("--partition", help="The partition key to materialize.")
@click.option("--partition-range", help="An inclusive partition key range: START...END (one run).")
@run_config_options
@code_location_options
@click.pass_context
def materialize(
    ctx: click.Context,
    selection: str,
    partition: str | None,
    partition_range: str | None,
    config_files: tuple[str, ...],
    config_json: str | None,
    tags_json: str | None,
    **location: Any,
) -> None:
    """Materialize the selected assets in the instance of $WEIR_HOME."""
    from weir.errors import WeirError
    from weir_cli._execute import execute_and_report
    from weir_cli._run_config import RunConfigInputError, parse_tags, run_config_from_options

    if partition is not None and partition_range is not None:
        fail("Pass --partition or --partition-range, not both.", EXIT_USAGE)
    try:
        run_config = run_config_from_options(config_files, config_json)
        tags = parse_tags(tags_json)
    except RunConfigInputError as exc:
        fail(str(exc), EXIT_USAGE)
    if partition is not None:
        tags[PARTITION_TAG] = partition
    elif partition_range is not None:
        start, sep, end = partition_range.partition("...")
        if not sep or not start or not end:
            fail(
                f"--partition-range {partition_range!r} must be START...END, e.g. "
                "2024-01-01...2024-01-31.",
                EXIT_USAGE,
            )
        tags[RANGE_START_TAG] = start
        tags[RANGE_END_TAG] = end
    loaded = load_or_exit(ctx, **location)
    try:
        keys = _select(loaded.definitions, selection)
        if partition is not None or partition_range is not None:
            _check_one_partitions_def(loaded.definitions, keys)
    except WeirError as exc:
        fail(f"The Definitions in {loaded.target.describe()} are invalid: {exc}", EXIT_USAGE)
    execute_and_report(
        loaded, IMPLICIT_ASSET_JOB, run_config=run_config, tags=tags, asset_selection=keys
    )


def _check_one_partitions_def(definitions: Any, keys: list[Any]) -> None:
    """With a partition, every selected asset must be partitioned, all the same way (Dagster's
    rule for ``asset materialize --partition``)."""
    by_def: dict[str, list[str]] = {}
    for key in keys:
        pdef = definitions.get_assets_def(key).partitions_def
        by_def.setdefault(repr(pdef) if pdef is not None else "unpartitioned", []).append(
            key.to_user_string()
        )
    if "unpartitioned" in by_def:
        fail(
            f"--partition needs partitioned assets, but {', '.join(by_def['unpartitioned'])} "
            "are not partitioned. Select only partitioned assets.",
            EXIT_USAGE,
        )
    if len(by_def) > 1:
        groups = "; ".join(f"{', '.join(v)}: {k}" for k, v in by_def.items())
        fail(
            "All selected assets must share one partitions definition to use a partition; "
            f"they have {len(by_def)}: {groups}.",
            EXIT_USAGE,
        )
