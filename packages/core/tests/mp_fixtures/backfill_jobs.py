"""Assets for ``test_backfills.py``: a backfill whose driver is killed in its second run.

``events`` for partition ``2024-01-02`` writes ``<signal_dir>/events.started`` and waits for
``<signal_dir>/events.may_finish``; the test kills the driving process while it waits.
``WEIR_TEST_SIGNAL_DIR`` names the folder. Every run of ``events`` appends its partition key to
``<signal_dir>/events.log``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import weir as dg
from weir._backfill.driver import launch_backfill

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-05")


def _signal_dir() -> Path:
    return Path(os.environ["WEIR_TEST_SIGNAL_DIR"])


@dg.asset(partitions_def=DAYS)
def events(context: dg.AssetExecutionContext) -> None:
    key = context.partition_key
    with open(_signal_dir() / "events.log", "a", encoding="utf-8") as log:
        log.write(key + "\n")
    if key == "2024-01-02" and not (_signal_dir() / "events.may_finish").exists():
        (_signal_dir() / "events.started").write_text(str(os.getpid()), encoding="utf-8")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # killed here by the test
            time.sleep(0.05)


def main(backfill_id: str) -> None:
    """Drive a backfill of ``events`` over its four partitions, one run each."""
    with dg.Instance.get() as instance:
        result = launch_backfill([events], instance=instance, backfill_id=backfill_id)
        print("BACKFILL", result.status.value)


if __name__ == "__main__":
    main(sys.argv[1])
