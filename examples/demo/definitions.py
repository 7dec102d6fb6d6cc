"""The demo project: raw orders -> cleaned orders -> daily revenue -> a report file.

Written as a Dagster user would write it, with ``import weir as dg``. Each asset is a pandas
DataFrame stored as a table in a DuckDB file, ``.weir/demo.duckdb`` next to this file (schema
``shop``), through ``DuckDBPandasIOManager``: query it afterwards with DuckDB. Set
``WEIR_DEMO_STORAGE=s3`` (and ``WEIR_DEMO_S3_BUCKET``, optionally ``WEIR_DEMO_S3_ENDPOINT``) to
store the same assets as Parquet objects in S3 instead. The report is a markdown file in
``.weir/reports``.
"""

import os
from pathlib import Path

import pandas as pd

import weir as dg

DEMO_DIR = Path(__file__).resolve().parent
ORDERS_CSV = DEMO_DIR / "data" / "orders.csv"
DATABASE = DEMO_DIR / ".weir" / "demo.duckdb"
REPORT_PATH = DEMO_DIR / ".weir" / "reports" / "daily_revenue.md"

VALID_STATUSES = {"paid"}


@dg.asset(group_name="ingest")
def raw_orders(context: dg.AssetExecutionContext) -> dg.Output[pd.DataFrame]:
    """Every row of data/orders.csv, as text, exactly as exported by the shop."""
    rows = pd.read_csv(ORDERS_CSV, dtype=str, keep_default_na=False)
    context.log.info(f"read {len(rows)} rows from {ORDERS_CSV.name}")
    return dg.Output(
        rows, metadata={"rows": len(rows), "source": dg.MetadataValue.path(str(ORDERS_CSV))}
    )


@dg.asset(group_name="clean")
def cleaned_orders(
    context: dg.AssetExecutionContext, raw_orders: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """Paid orders with a positive numeric amount, each order once, amounts as floats."""
    seen: set[str] = set()
    kept: list[dict] = []
    dropped: dict[str, int] = {}

    def drop(reason: str) -> None:
        dropped[reason] = dropped.get(reason, 0) + 1

    for row in raw_orders.to_dict("records"):
        if row["order_id"] in seen:
            drop("duplicate")
            continue
        seen.add(row["order_id"])
        if row["status"] not in VALID_STATUSES:
            drop(f"status {row['status']}")
            continue
        try:
            amount = float(row["amount"])
        except ValueError:
            drop("unreadable amount")
            continue
        if amount <= 0:
            drop("non-positive amount")
            continue
        kept.append(
            {"order_id": int(row["order_id"]), "day": row["ordered_at"][:10], "amount": amount}
        )
    context.log.info(f"kept {len(kept)} orders, dropped {sum(dropped.values())}: {dropped}")
    frame = pd.DataFrame(kept, columns=["order_id", "day", "amount"])
    return dg.Output(frame, metadata={"kept": len(kept), "dropped": dg.MetadataValue.json(dropped)})


@dg.asset(group_name="report")
def daily_revenue(cleaned_orders: pd.DataFrame) -> pd.DataFrame:
    """Number of orders and revenue per day."""
    days = (
        cleaned_orders.groupby("day", as_index=False)
        .agg(orders=("order_id", "count"), revenue=("amount", "sum"))
        .sort_values("day")
    )
    days["revenue"] = days["revenue"].round(2)
    return days.reset_index(drop=True)


@dg.asset(group_name="report")
def revenue_report(daily_revenue: pd.DataFrame) -> dg.MaterializeResult:
    """A markdown table of daily revenue; the file is the asset, so nothing goes to the IO manager."""
    lines = ["| day | orders | revenue |", "|---|--:|--:|"]
    lines += [
        f"| {row.day} | {row.orders} | {row.revenue:.2f} |"
        for row in daily_revenue.itertuples(index=False)
    ]
    total = float(daily_revenue["revenue"].sum())
    lines.append(f"| **total** | {int(daily_revenue['orders'].sum())} | {total:.2f} |")
    REPORT_PATH.parent.mkdir(parents=True, exist_ok=True)
    REPORT_PATH.write_text("# Daily revenue\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(REPORT_PATH)), "total_revenue": round(total, 2)}
    )


def _io_manager() -> object:
    """DuckDB tables by default (embedded, nothing to run); S3 Parquet objects with WEIR_DEMO_STORAGE=s3."""
    if os.environ.get("WEIR_DEMO_STORAGE", "duckdb") == "s3":
        from weir_io_s3 import S3ParquetIOManager, S3Resource

        return S3ParquetIOManager(
            s3_resource=S3Resource(endpoint_url=os.environ.get("WEIR_DEMO_S3_ENDPOINT")),
            s3_bucket=os.environ["WEIR_DEMO_S3_BUCKET"],
            s3_prefix="weir-demo",
        )
    from weir_io_duckdb import DuckDBPandasIOManager

    DATABASE.parent.mkdir(parents=True, exist_ok=True)
    return DuckDBPandasIOManager(database=str(DATABASE), schema="shop")


defs = dg.Definitions(
    assets=[raw_orders, cleaned_orders, daily_revenue, revenue_report],
    resources={"io_manager": _io_manager()},
)
