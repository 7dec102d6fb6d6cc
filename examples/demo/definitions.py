"""The demo project: raw orders -> cleaned orders -> daily revenue -> a report file.

Written as a Dagster user would write it, with ``import weir as dg``. Values pass between assets
through the filesystem IO manager, which pickles each one to ``.weir/storage/<asset name>`` next to
this file; the report is a markdown file in ``.weir/reports``.
"""

import csv
from pathlib import Path

import weir as dg

DEMO_DIR = Path(__file__).resolve().parent
ORDERS_CSV = DEMO_DIR / "data" / "orders.csv"
STORAGE_DIR = DEMO_DIR / ".weir" / "storage"
REPORT_PATH = DEMO_DIR / ".weir" / "reports" / "daily_revenue.md"

VALID_STATUSES = {"paid"}


@dg.asset(group_name="ingest")
def raw_orders(context: dg.AssetExecutionContext) -> dg.Output[list[dict[str, str]]]:
    """Every row of data/orders.csv, as text, exactly as exported by the shop."""
    with ORDERS_CSV.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    context.log.info(f"read {len(rows)} rows from {ORDERS_CSV.name}")
    return dg.Output(
        rows, metadata={"rows": len(rows), "source": dg.MetadataValue.path(str(ORDERS_CSV))}
    )


@dg.asset(group_name="clean")
def cleaned_orders(
    context: dg.AssetExecutionContext, raw_orders: list[dict[str, str]]
) -> dg.Output[list[dict]]:
    """Paid orders with a positive numeric amount, each order once, amounts as floats."""
    seen: set[str] = set()
    kept: list[dict] = []
    dropped: dict[str, int] = {}

    def drop(reason: str) -> None:
        dropped[reason] = dropped.get(reason, 0) + 1

    for row in raw_orders:
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
    return dg.Output(kept, metadata={"kept": len(kept), "dropped": dg.MetadataValue.json(dropped)})


@dg.asset(group_name="report")
def daily_revenue(cleaned_orders: list[dict]) -> dict[str, dict]:
    """Number of orders and revenue per day."""
    days: dict[str, dict] = {}
    for order in sorted(cleaned_orders, key=lambda o: o["day"]):
        day = days.setdefault(order["day"], {"orders": 0, "revenue": 0.0})
        day["orders"] += 1
        day["revenue"] = round(day["revenue"] + order["amount"], 2)
    return days


@dg.asset(group_name="report")
def revenue_report(daily_revenue: dict[str, dict]) -> dg.MaterializeResult:
    """A markdown table of daily revenue; the file is the asset, so nothing goes to the IO manager."""
    lines = ["| day | orders | revenue |", "|---|--:|--:|"]
    lines += [f"| {day} | {v['orders']} | {v['revenue']:.2f} |" for day, v in daily_revenue.items()]
    total = sum(v["revenue"] for v in daily_revenue.values())
    lines.append(
        f"| **total** | {sum(v['orders'] for v in daily_revenue.values())} | {total:.2f} |"
    )
    REPORT_PATH.parent.mkdir(parents=True, exist_ok=True)
    REPORT_PATH.write_text("# Daily revenue\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(REPORT_PATH)), "total_revenue": round(total, 2)}
    )


defs = dg.Definitions(
    assets=[raw_orders, cleaned_orders, daily_revenue, revenue_report],
    resources={"io_manager": dg.FilesystemIOManager(base_dir=str(STORAGE_DIR))},
)
