"""Store write and scan figures (prints seconds; no assertions).

    .venv/bin/python bench/store.py [--rows 5000000] [--months 12] [--per-month 1000000]
                                    [--repeat 3] [--native]

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


def timed(label: str, func, repeat: int = 1, setup=None):  # type: ignore[no-untyped-def]
    """Run ``setup()`` then time ``func()``, ``repeat`` times; print the best time."""
    best, cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        if setup is not None:
            setup()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = func()
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    print(f"{label:58s} {best:6.2f} s  (cpu {cpu:5.2f} s)  {result if result else ''}")
    return result


def fresh(src: Path | None, dst: Path):  # type: ignore[no-untyped-def]
    """A setup function: make ``dst`` a copy of ``src`` (or absent)."""

    def setup() -> None:
        shutil.rmtree(dst, ignore_errors=True)
        if src is not None:
            shutil.copytree(src, dst)

    return setup


def writes(root: Path, rows: int, repeat: int, native: bool) -> None:
    print(f"\n== writes of {rows:,} attendance rows (best of {repeat}) ==")
    nov = attendance(rows, 2025, 11)
    dec = attendance(rows, 2025, 12, writer=1)
    csv = root / "dec.csv"
    dec.write_csv(csv)
    timed("baseline: df.write_parquet", lambda: dec.write_parquet(root / "x.parquet"), repeat)
    timed(
        "baseline: pl.read_csv + write_parquet",
        lambda: pl.read_csv(csv).write_parquet(root / "y.parquet"),
        repeat,
    )
    one, two, work = root / "one", root / "two", root / "work"
    Store(one).write("attendance", nov, assume_unique=True)
    Store(two).write("attendance", nov, assume_unique=True)
    Store(two).write("attendance", dec, assume_unique=True)
    store = Store(work)
    timed("(a) store.write into a new table", lambda: store.write("attendance", dec),
          repeat, fresh(None, work))
    timed("(a') same, assume_unique=True (ingest already deduped)",
          lambda: store.write("attendance", dec, assume_unique=True), repeat, fresh(None, work))
    timed("(b) into a table holding another month (5M rows)",
          lambda: store.write("attendance", dec), repeat, fresh(one, work))
    timed("(c) the same 5M rows again (no commit)",
          lambda: store.write("attendance", dec), repeat, fresh(two, work))
    revised = dec.head(1000).with_columns(pl.lit("late").alias("device_id"))
    timed("(d) 1,000 revised rows (rewrites one 5M-row file)",
          lambda: store.write("attendance", revised), repeat, fresh(two, work))
    daily = attendance(200_000, 2025, 12, writer=2)
    timed("(e) 200,000-row daily append into the 5M-row month",
          lambda: store.write("attendance", daily), repeat, fresh(two, work))
    if native:
        part = dec.with_columns(pl.col("ts").dt.strftime("%Y-%m").alias("month"))
        timed("deltalake write_deltalake into a new table",
              lambda: part.write_delta(work / "attendance", mode="error",
                                       delta_write_options={"partition_by": ["month"]}),
              repeat, fresh(None, work))
        on = " AND ".join(f"s.{k} = t.{k}" for k in ATTENDANCE.key)
        timed(
            "deltalake MERGE into a table holding another month",
            lambda: part.write_delta(
                work / "attendance", mode="merge",
                delta_merge_options={"predicate": f"t.month IN ('2025-12') AND {on}",
                                     "source_alias": "s", "target_alias": "t"},
            ).when_not_matched_insert_all().execute(),
            repeat,
            fresh(one, work),
        )


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
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    parser.add_argument("--native", action="store_true", help="also time deltalake's writer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wfhaudit-bench-store-") as tmp:
        writes(Path(tmp), args.rows, args.repeat, args.native)
        pruning(Path(tmp), args.months, args.per_month)


if __name__ == "__main__":
    main()
