"""Store write and scan figures (prints seconds; no assertions).

    .venv/bin/python bench/store.py [--rows 5000000] [--months 12] [--per-month 1000000]

1. writes of ``--rows`` attendance rows: bare Polars ``write_parquet`` and
   ``read_csv`` + ``write_parquet`` as baselines; then the store: into a new
   table, into a table holding another month, the same rows again (no commit),
   1,000 revised rows, a 200,000-row daily append into the big month;
2. partition pruning: a store holding ``--months`` months of ``--per-month``
   rows, a one-week scan against a full scan (files, bytes, rows, seconds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import tempfile
import time
from pathlib import Path

import polars as pl

from wfhaudit.schema import ATTENDANCE
from wfhaudit.store import Store


def attendance(n: int, year: int, month: int, writer: int = 0) -> pl.DataFrame:
    """``n`` distinct check-ins in the first 28 days of the month, 40,000 employees."""
    base = dt.datetime(year, month, 1, 0, 0)
    step_us = 28 * 86_400 * 1_000_000 // n
    i = pl.int_range(n)
    return pl.select(
        nip=(i % 40_000 + 198_500_000_000_000_000 + writer * 1_000_000).cast(pl.String),
        ts=pl.lit(base).dt.cast_time_unit("us") + pl.duration(microseconds=i * step_us),
        kind=pl.when(i % 2 == 0).then(pl.lit("IN")).otherwise(pl.lit("OUT")),
        lat=-6.9 + (i % 1000) / 1e5,
        lon=107.6 + (i % 997) / 1e5,
        accuracy_m=(i % 30).cast(pl.Float64),
        device_id=pl.lit("dev") + (i % 40_000).cast(pl.String),
        mode=pl.when(i % 3 == 0).then(pl.lit("WFH")).otherwise(pl.lit("WFO")),
    ).select([pl.col(c).cast(t) for c, t in ATTENDANCE.columns.items()])


def timed(label: str, func):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = func()
    print(f"{label:58s} {time.perf_counter() - start:6.2f} s   {result if result else ''}")
    return result


def writes(root: Path, rows: int) -> None:
    print(f"\n== writes of {rows:,} attendance rows ==")
    nov = attendance(rows, 2025, 11)
    dec = attendance(rows, 2025, 12, writer=1)
    csv = root / "dec.csv"
    dec.write_csv(csv)
    timed("baseline: df.write_parquet", lambda: dec.write_parquet(root / "x.parquet"))
    timed(
        "baseline: pl.read_csv + write_parquet",
        lambda: pl.read_csv(csv).write_parquet(root / "y.parquet"),
    )
    store = Store(root / "store")
    timed("(a) store.write into a new table", lambda: store.write("attendance", dec))
    shutil.rmtree(root / "store")
    timed("(a') same, assume_unique=True (ingest already deduped)",
          lambda: store.write("attendance", dec, assume_unique=True))
    timed("(b) store.write into a table holding another month",
          lambda: store.write("attendance", nov))
    timed("(c) the same rows again (no commit)", lambda: store.write("attendance", nov))
    revised = nov.head(1000).with_columns(pl.lit("WFH").alias("mode"))
    timed("(d) 1,000 revised rows (rewrites one file)",
          lambda: store.write("attendance", revised))
    daily = attendance(200_000, 2025, 11, writer=2)
    timed("(e) 200,000-row daily append into the big month",
          lambda: store.write("attendance", daily))
    print(f"versions: {store.versions()}")


def pruning(root: Path, months: int, per_month: int) -> None:
    print(f"\n== pruning: {months} months x {per_month:,} rows ==")
    store = Store(root / "year")
    for m in range(months):
        year, month = 2025 + m // 12, 1 + m % 12
        store.write("attendance", attendance(per_month, year, month), assume_unique=True)
    start, end = dt.date(2025, 12, 1), dt.date(2025, 12, 7)
    week = store.files("attendance", start, end)
    every = store.files("attendance")
    size = lambda files: sum(os.path.getsize(f) for f in files)  # noqa: E731
    print(f"files read: week {len(week)} of {len(every)}; "
          f"bytes {size(week):,} of {size(every):,} ({size(week) / size(every):.1%})")

    def week_rows() -> str:
        df = store.scan("attendance", start, end).collect()
        return f"{df.height:,} rows read"

    def week_filtered() -> str:
        lf = store.scan("attendance", start, end)
        lf = lf.filter(pl.col("ts").dt.date().is_between(start, end))
        return f"{lf.select(pl.len()).collect().item():,} rows in the week"

    def all_rows() -> str:
        return f"{store.scan('attendance').collect().height:,} rows read"

    timed("scan one week (month partition, all columns)", week_rows)
    timed("scan one week, filtered to the week", week_filtered)
    timed("scan everything (all columns)", all_rows)
    timed("store.info()", lambda: f"{store.info()[3].rows:,} attendance rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--per-month", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wfhaudit-bench-store-") as tmp:
        writes(Path(tmp), args.rows)
        pruning(Path(tmp), args.months, args.per_month)


if __name__ == "__main__":
    main()
