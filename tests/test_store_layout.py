"""Issue 16: the store's layout (files sorted by day, row groups with statistics) and the
migration of a store written by the previous release.

``tests/data/store-before-layout.tar.gz`` is the store ``make demo`` wrote with
wfhaudit at commit 414f0ac (the release before this layout): its data files are
named ``part-<uuid>.zstd.parquet`` and hold rows in the exports' order.
"""

from __future__ import annotations

import datetime as dt
import json
import tarfile
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from wfhaudit.audit.period import parse_period
from wfhaudit.audit.run import run_audit
from wfhaudit.cli import app
from wfhaudit.policy import load_policy
from wfhaudit.schema import REJECTS, RESULT_FILES, TABLES
from wfhaudit.store import Store
from wfhaudit.store.delta import LAYOUT_TAG

runner = CliRunner()
FIXTURE = Path(__file__).parent / "data" / "store-before-layout.tar.gz"
AS_OF = dt.date(2026, 1, 5)


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    with tarfile.open(FIXTURE) as tar:
        tar.extractall(tmp_path, filter="data")
    return tmp_path / "oldstore"


def every_row(store: Store) -> dict[str, pl.DataFrame]:
    """Every table's rows in a fixed order (the files' order may change, the rows not)."""
    out = {}
    for kind in (*TABLES, REJECTS.name):
        if store.exists(kind):
            frame = store.scan(kind).collect()
            out[kind] = frame.sort(frame.columns, nulls_last=True)
    return out


def test_migrate_rewrites_an_old_store_without_losing_a_row(
    old_store: Path, tmp_path: Path
) -> None:
    store = Store(old_store)
    before, versions = every_row(store), store.versions()
    old_files = {k: store.old_layout_files(k) for k in before}
    assert old_files["attendance"] >= 1 and old_files["employees"] >= 2  # the previous layout
    run_audit(store, parse_period("2025-12"), load_policy(), as_of=AS_OF,
              out_dir=tmp_path / "before", partition_days=0)

    done = runner.invoke(app, ["store", "migrate", "--store", str(old_store)])
    assert done.exit_code == 0, done.output
    assert "Rewritten in the current layout, no row changed" in done.output
    assert "attendance" in done.output

    after = every_row(store)
    assert sorted(after) == sorted(before)
    for kind, rows in before.items():
        assert_frame_equal(after[kind], rows, check_exact=True)
        assert store.old_layout_files(kind) == 0
        # one commit per table rewritten; the version before it still reads the same rows
        assert store.version(kind) == versions[kind] + 1
        old = store.scan(kind, version=versions[kind]).collect()
        assert_frame_equal(old.sort(old.columns, nulls_last=True), rows, check_exact=True)

    run_audit(store, parse_period("2025-12"), load_policy(), as_of=AS_OF,
              out_dir=tmp_path / "after", partition_days=1)
    for name in RESULT_FILES:
        assert_frame_equal(pl.read_parquet(tmp_path / "before" / name),
                           pl.read_parquet(tmp_path / "after" / name), check_exact=True)

    again = runner.invoke(app, ["store", "migrate", "--store", str(old_store)])
    assert again.exit_code == 0
    assert "already in the current layout; nothing rewritten" in again.output
    assert store.version("attendance") == versions["attendance"] + 1  # no second commit


def test_store_info_says_an_old_store_wants_migrating(old_store: Path) -> None:
    shown = runner.invoke(app, ["store", "info", "--store", str(old_store)],
                          env={"COLUMNS": "200"})
    assert shown.exit_code == 0
    assert "in the layout of an older wfhaudit" in shown.output
    assert "wfhaudit store migrate" in shown.output
    listed = json.loads(runner.invoke(app, ["store", "info", "--store", str(old_store),
                                            "--json"]).output)
    assert {t["table"]: t["old_layout_files"] for t in listed["tables"]}["attendance"] >= 1
    runner.invoke(app, ["store", "migrate", "--store", str(old_store)])
    listed = json.loads(runner.invoke(app, ["store", "info", "--store", str(old_store),
                                            "--json"]).output)
    assert all(t["old_layout_files"] == 0 for t in listed["tables"])


def test_migrate_without_a_store_is_a_data_error(tmp_path: Path) -> None:
    done = runner.invoke(app, ["store", "migrate", "--store", str(tmp_path / "none")])
    assert done.exit_code == 3
    assert "there is no store at" in done.output


def test_written_files_are_sorted_by_day_with_statistics(tmp_path: Path) -> None:
    """Rows ingested in any order are stored by day; each row group says its days, so a
    reader of one day skips the others; outputs' files carry their dates in the log."""
    store = Store(tmp_path / "s")
    days = [dt.date(2025, 12, d) for d in (19, 2, 11, 30, 2, 5)]
    attendance = pl.DataFrame({
        "nip": [f"19900101202001{i:04d}" for i in range(len(days))],
        "ts": [dt.datetime(d.year, d.month, d.day, 7, 30) for d in days],
        "kind": ["IN"] * len(days),
    }).select([pl.col(c).cast(t) if c in ("nip", "ts", "kind") else pl.lit(None, t).alias(c)
               for c, t in TABLES["attendance"].columns.items()])
    store.write("attendance", attendance)
    outputs = pl.DataFrame({
        "nip": ["1"] * len(days), "date": days,
        "submitted_at": [dt.datetime(d.year, d.month, d.day, 16) for d in days],
        "text": [f"t{i}" for i in range(len(days))],
    }).unique(["nip", "date", "submitted_at"])
    store.write("outputs", outputs.select(
        [pl.col(c).cast(t) for c, t in TABLES["outputs"].columns.items()]
    ))
    [path] = store.files("attendance")
    assert f".{LAYOUT_TAG}." in path
    stored = pl.read_parquet(path)
    assert stored["ts"].is_sorted()
    meta = pq.ParquetFile(path).metadata
    ts = meta.schema.to_arrow_schema().get_field_index("ts")
    assert meta.row_group(0).column(ts).statistics.has_min_max
    log = (tmp_path / "s" / "outputs" / "_delta_log" / "00000000000000000000.json").read_text()
    stats = [json.loads(json.loads(line)["add"]["stats"]) for line in log.splitlines()
             if '"add"' in line]
    assert stats == [{"numRecords": 5, "nullCount": {"nip": 0, "date": 0, "submitted_at": 0,
                                                     "text": 0},
                      "minValues": {"date": "2025-12-02"}, "maxValues": {"date": "2025-12-30"}}]
    one_day = store.scan("attendance", dt.date(2025, 12, 2), dt.date(2025, 12, 2)).filter(
        pl.col("ts").dt.date() == dt.date(2025, 12, 2)
    ).collect()
    assert one_day.height == 2
