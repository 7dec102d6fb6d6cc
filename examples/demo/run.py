"""Materialize every asset of the demo project and print what was done and where the files went.

Run it with an interpreter that has weir installed (``python scripts/demo.py`` at the root of the
repository sets one up)::

    python examples/demo/run.py

Running it again recomputes everything and replaces the tables. The assets are tables in the DuckDB
file ``.weir/demo.duckdb`` (query it with DuckDB afterwards); every run is recorded in the
instance's SQLite database (``$WEIR_HOME/weir.db``), so each run lists the runs before it.
"""

import os
import sys
import time
from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent
# keep the instance's files (run records, logs) inside the demo folder unless told otherwise
os.environ.setdefault("WEIR_HOME", str(DEMO_DIR / ".weir"))
sys.path.insert(0, str(DEMO_DIR))

from definitions import DATABASE, REPORT_PATH, defs  # noqa: E402

import weir as dg  # noqa: E402 - WEIR_HOME must be set first


def _shown(path: Path) -> str:
    """A path relative to the current folder when it is below it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _metadata(materialization: object) -> dict[str, object]:
    """A materialization's metadata as plain values (``MetadataValue.value``), paths shortened."""
    plain: dict[str, object] = {}
    for key, value in (getattr(materialization, "metadata", None) or {}).items():
        raw = getattr(value, "value", value)
        plain[key] = _shown(Path(raw)) if isinstance(raw, str) and os.path.isabs(raw) else raw
    return plain


def main() -> int:
    assets = list(defs.assets)
    started = time.perf_counter()
    with dg.Instance.get() as instance:  # $WEIR_HOME, storage: SQLite at $WEIR_HOME/weir.db
        result = dg.materialize(assets, resources=defs.resources, instance=instance)
        elapsed = time.perf_counter() - started
        runs = instance.get_run_records(limit=5)
        total = instance.get_runs_count()
        _print_result(assets, result, elapsed)
        print(f"runs recorded in {_shown(Path(instance.root_directory) / 'weir.db')}: {total}")
        for record in runs:
            run = record.dagster_run
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.create_timestamp))
            print(f"  {when}  {run.run_id}  {run.status.value}")
    print()
    print(REPORT_PATH.read_text(encoding="utf-8"), end="")
    return 0 if result.success else 1


def _print_result(assets: list, result: dg.ExecuteInProcessResult, elapsed: float) -> None:
    print(
        f"weir {dg.__version__}: materialized {len(assets)} assets in {elapsed:.2f} s (run {result.run_id})"
    )
    for asset in assets:
        node = asset.key.to_python_identifier()
        for materialization in result.asset_materializations_for_node(node):
            key = materialization.asset_key.to_user_string()
            metadata = _metadata(materialization)
            table = metadata.pop("dagster/table_name", None)
            rows = metadata.pop("dagster/row_count", None)
            where = (
                f"table {table} ({rows} rows)"
                if table
                else metadata.pop("uri", None) or metadata.pop("path", "(nothing stored)")
            )
            details = ", ".join(
                f"{k}={v}" for k, v in metadata.items() if k not in ("path", "dataframe_columns")
            )
            print(f"  {key:<16} -> {where!s:<42} {details}".rstrip())
    if os.environ.get("WEIR_DEMO_STORAGE", "duckdb") == "duckdb":
        import duckdb

        with duckdb.connect(str(DATABASE), read_only=True) as connection:
            rows = connection.sql(
                "SELECT day, orders, revenue FROM shop.daily_revenue ORDER BY day"
            )
            print(f"tables in {_shown(DATABASE)}, e.g. SELECT * FROM shop.daily_revenue:")
            for day, orders, revenue in rows.fetchall():
                print(f"  {day}  {orders:>3}  {revenue:>8.2f}")
    print(f"report: {_shown(REPORT_PATH)}")


if __name__ == "__main__":
    sys.exit(main())
