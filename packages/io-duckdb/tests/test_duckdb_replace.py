"""Replacing an unpartitioned table's rows: re-created whole when nothing would be lost, emptied
and refilled when a user added something to the table (constraints, defaults, comments, indexes,
other column types)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

import weir as dg
from weir_io_duckdb import DuckDBPandasIOManager, type_handlers


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "replace.duckdb"


@pytest.fixture
def live(database: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    # the re-create path normally starts at 200k rows; small frames exercise it here
    monkeypatch.setattr(type_handlers, "REPLACE_WHOLE_MIN_ROWS", 0)
    with dg.build_resources({"io": DuckDBPandasIOManager(database=str(database))}) as resources:
        yield resources.io


def _sql(database: Path, *statements: str) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    with duckdb.connect(str(database)) as conn:
        for statement in statements:
            rows = conn.execute(statement).fetchall()
    return rows


def _store(live: Any, frame: pd.DataFrame) -> None:
    live.handle_output(dg.build_output_context(asset_key=["s", "t"]), frame)


FIRST = pd.DataFrame({"id": [1, 2, 3], "amount": [1.5, 2.5, 3.5]})
SECOND = pd.DataFrame({"id": [7, 8], "amount": [0.5, -1.0]})


def test_a_plain_table_is_re_created_and_views_on_it_still_work(
    live: Any, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store(live, FIRST)
    _sql(database, 'CREATE VIEW s.total AS SELECT sum(amount) AS total FROM "s"."t"')
    replaced: list[bool] = []
    check = type_handlers._can_replace_whole

    def spy(*args: Any) -> bool:
        replaced.append(check(*args))
        return replaced[-1]

    monkeypatch.setattr(type_handlers, "_can_replace_whole", spy)
    _store(live, SECOND)
    assert replaced == [True]
    assert _sql(database, 'SELECT id, amount FROM "s"."t" ORDER BY id') == [(7, 0.5), (8, -1.0)]
    assert _sql(database, "SELECT total FROM s.total") == [(-0.5,)]


@pytest.mark.parametrize(
    "customization",
    [
        'ALTER TABLE "s"."t" ALTER COLUMN id SET NOT NULL',
        'ALTER TABLE "s"."t" ALTER COLUMN amount SET DEFAULT 0',
        'COMMENT ON TABLE "s"."t" IS \'owned by finance\'',
        'COMMENT ON COLUMN "s"."t".amount IS \'in euros\'',
        'CREATE INDEX t_id ON "s"."t" (id)',
    ],
)
def test_what_a_user_added_to_the_table_survives_a_write(
    live: Any, database: Path, customization: str
) -> None:
    _store(live, FIRST)
    _sql(database, customization)
    before = _sql(database, "SELECT sql FROM duckdb_tables() WHERE table_name = 't'")
    comments = "SELECT comment FROM duckdb_columns() WHERE table_name = 't' ORDER BY column_index"
    column_comments = _sql(database, comments)
    indexes = _sql(database, "SELECT index_name FROM duckdb_indexes() WHERE table_name = 't'")
    _store(live, SECOND)
    assert _sql(database, 'SELECT id, amount FROM "s"."t" ORDER BY id') == [(7, 0.5), (8, -1.0)]
    assert _sql(database, "SELECT sql FROM duckdb_tables() WHERE table_name = 't'") == before
    assert _sql(database, comments) == column_comments
    assert _sql(database, "SELECT index_name FROM duckdb_indexes() WHERE table_name = 't'") == (
        indexes
    )


def test_column_types_a_user_chose_are_kept(live: Any, database: Path) -> None:
    _store(live, FIRST)
    _sql(database, 'ALTER TABLE "s"."t" ALTER COLUMN amount TYPE DECIMAL(10, 2)')
    _store(live, SECOND)
    types = _sql(
        database, "SELECT data_type FROM duckdb_columns() WHERE table_name = 't' ORDER BY 1"
    )
    assert ("DECIMAL(10,2)",) in types
    assert _sql(database, 'SELECT count(*) FROM "s"."t"') == [(2,)]


def test_small_tables_are_emptied_rather_than_checked(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # below REPLACE_WHOLE_MIN_ROWS the column checks never run: a broken query would fail
    monkeypatch.setattr(type_handlers, "_COLUMN_CUSTOMIZATIONS", "SELECT no_such_column")
    with dg.build_resources({"io": DuckDBPandasIOManager(database=str(database))}) as res:
        _store(res.io, FIRST)
        _store(res.io, SECOND)
    assert _sql(database, 'SELECT id FROM "s"."t" ORDER BY id') == [(7,), (8,)]
