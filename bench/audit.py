"""Benchmark: audit a month for 40 000 employees in 30 agencies vs a bare read of its inputs.

    .venv/bin/python bench/audit.py [--employees 40000] [--units 30] [--data DIR] [--regen]
                                    [--earlier-months N] [--repeat N]

Generates (once, deterministic, vectorised Polars) a store for December 2025 with about
4 attendance events per employee-day (IN, lunch OUT/IN, OUT: ~3.4 million rows), one
daily report per employee-day, a roster and some leave.  Then, each in a fresh child
process, measures wall time and peak memory (max RSS) of

- ``read``: ``pl.read_parquet`` of every input table's Parquet files (the floor: the
  audit must at least read its inputs), and
- ``audit``: ``run_audit`` for the month in memory (``--as-of 2026-01-01``), writing the results,
- ``floor`` (not an audit): the least work any audit that writes ``employee_days``
  must do: read the attendance and the reports, find each event's employee, one
  group-by into employee-days (first IN, last OUT, events), one into report days,
  and write the employee-day facts; no rules, no base frame, no distances,

and prints them side by side.  Targets: audit within 3x the bare read, peak < 4 GB.

``--earlier-months N`` also stores the N months before December (same employees, own
data directory): the audit's year to date then re-audits them (ABSENT, LATE,
EARLY_LEAVE), as it does in a store that holds the year.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
from peak import peak_mb  # bench/peak.py (this script's directory is on sys.path)

from wfhaudit.audit.calendar import calendar
from wfhaudit.audit.period import parse_period
from wfhaudit.policy import load_policy
from wfhaudit.store import Store

PERIOD = "2025-12"
AS_OF = dt.date(2026, 1, 1)
TABLES = ("employees", "offices", "roster", "attendance", "outputs", "leave")


def _u(expr: pl.Expr, seed: int) -> pl.Expr:
    """A deterministic pseudo-random integer in [0, 2**32) from ``expr``."""
    return (expr.hash(seed=seed) % (2**32)).cast(pl.Int64)


def _month_labels(earlier: int) -> list[str]:
    """``PERIOD`` and the ``earlier`` months before it, oldest first."""
    year, month = (int(x) for x in PERIOD.split("-"))
    serial = year * 12 + month - 1
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(serial - earlier, serial + 1)]


def generate(path: Path, employees: int, units: int, earlier: int = 0) -> None:
    """Write a synthetic store for December 2025 (and ``earlier`` months before) into ``path``."""
    for n, label in enumerate(_month_labels(earlier)):
        _generate_month(path, employees, units, label, with_people=n == 0)


def _generate_month(path: Path, employees: int, units: int, label: str, with_people: bool) -> None:
    policy = load_policy()
    period = parse_period(label)
    days = calendar(policy, period.start, period.end).filter(pl.col("working")).select("date")
    idx = pl.int_range(0, employees, eager=True).alias("i")
    offices = pl.DataFrame(
        {
            "office_id": [f"O{u:02d}" for u in range(units)],
            "name": [f"Kantor {u}" for u in range(units)],
            "lat": [-6.90 - 0.01 * u for u in range(units)],
            "lon": [107.60 + 0.01 * u for u in range(units)],
            "radius_m": [100.0] * units,
        }
    )
    emp = pl.DataFrame(idx).with_columns(
        pl.format("19900101{}", pl.col("i").cast(pl.String).str.zfill(10)).alias("nip"),
        (pl.col("i") % units).alias("u"),
    )
    employees_df = emp.select(
        "nip",
        pl.format("Pegawai {}", pl.col("i")).alias("name"),
        pl.format("U{}", pl.col("u").cast(pl.String).str.zfill(2)).alias("unit_code"),
        pl.format("Dinas {}", pl.col("u")).alias("unit_name"),
        pl.format("O{}", pl.col("u").cast(pl.String).str.zfill(2)).alias("office_id"),
        (-6.95 + (_u(pl.col("i"), 1) % 1000) / 10000.0).alias("home_lat"),
        (107.55 + (_u(pl.col("i"), 2) % 1000) / 10000.0).alias("home_lon"),
        pl.lit(None, pl.Date).alias("active_from"),
        pl.lit(None, pl.Date).alias("active_to"),
        pl.lit(None, pl.Date).alias("valid_from"),
    ).with_columns(
        # 0.5% without a home point
        pl.when(_u(pl.col("nip"), 3) % 200 == 0).then(None).otherwise(pl.col("home_lat"))
        .alias("home_lat"),
    ).with_columns(
        pl.when(pl.col("home_lat").is_null()).then(None).otherwise(pl.col("home_lon"))
        .alias("home_lon")
    )
    ed = (
        emp.join(days, how="cross")
        .join(offices.with_row_index("u").with_columns(pl.col("u").cast(pl.Int64)), on="u")
        .join(employees_df.select("nip", "home_lat", "home_lon"), on="nip")
        .with_columns(_u(pl.concat_str("nip", pl.col("date").cast(pl.String)), 7).alias("h"))
    )
    roster = ed.select(
        "nip", "date", pl.when(pl.col("h") % 100 < 48).then(pl.lit("WFH")).otherwise(pl.lit("WFO"))
        .alias("mode"),
    )
    present = ed.join(roster, on=["nip", "date"]).filter(pl.col("h") % 100 != 99)  # 1% absent
    wfh = (pl.col("mode") == "WFH") & pl.col("home_lat").is_not_null()
    base_lat = pl.when(wfh).then(pl.col("home_lat")).otherwise(pl.col("lat"))
    base_lon = pl.when(wfh).then(pl.col("home_lon")).otherwise(pl.col("lon"))
    midnight = pl.col("date").cast(pl.Datetime("us"))
    spec = [  # (kind, minute of day base, jitter minutes, seed)
        ("IN", 7 * 60, 33, 11),  # 07:00-07:33: about 9% late
        ("OUT", 12 * 60, 10, 12),
        ("IN", 13 * 60, 10, 13),
        ("OUT", 16 * 60 + 25, 40, 14),  # 16:25-17:05: early on some Fridays
    ]
    parts = []
    for kind, minute, jitter, seed in spec:
        h = _u(pl.col("h"), seed)
        far = (h % 1000 == 0)  # 0.1% far away
        parts.append(
            present.select(
                "nip",
                (midnight + pl.duration(seconds=minute * 60 + (h % (jitter * 60)))).alias("ts"),
                pl.lit(kind).alias("kind"),
                # GPS noise up to +-55 m; 0.1% of events about 5.5 km away
                (base_lat + (h % 1001 - 500) / 1e6 + pl.when(far).then(0.05).otherwise(0.0))
                .alias("lat"),
                (base_lon + (_u(h, 99) % 1001 - 500) / 1e6).alias("lon"),
                (5.0 + (h % 25)).cast(pl.Float64).alias("accuracy_m"),
                pl.format("dev-{}", pl.col("nip")).alias("device_id"),
                pl.col("mode"),
            )
        )
    attendance = pl.concat(parts)
    outputs = present.select(
        "nip",
        "date",
        (midnight + pl.duration(minutes=16 * 60 + (_u(pl.col("h"), 21) % 500))).alias(
            "submitted_at"
        ),
        pl.when(_u(pl.col("h"), 22) % 50 == 0)
        .then(pl.lit("ok"))
        .otherwise(pl.format("Menyusun laporan kegiatan {} {}", pl.col("nip"), pl.col("date")))
        .alias("text"),
    )
    leave = emp.filter(_u(pl.col("nip"), 31) % 50 == 0).select(
        "nip",
        pl.lit(period.start + dt.timedelta(days=7)).alias("start"),
        pl.lit(period.start + dt.timedelta(days=9)).alias("end"),
        pl.when(pl.col("i") % 2 == 0).then(pl.lit("CUTI")).otherwise(pl.lit("DINAS_LUAR"))
        .alias("kind"),
    )
    store = Store(path)
    people = [("employees", employees_df), ("offices", offices)] if with_people else []
    for kind, frame in (
        *people,
        ("roster", roster),
        ("attendance", attendance),
        ("outputs", outputs),
        ("leave", leave),
    ):
        store.write(kind, frame)
        print(f"  {label} {kind}: {frame.height:,} rows", file=sys.stderr)


def _files(store_path: Path, kind: str) -> list[str]:
    """The Parquet files of one table (the bench store is never merged: no stale files)."""
    return sorted(str(p) for p in (store_path / kind).rglob("*.parquet"))


def child_read(store_path: Path) -> dict:
    started = time.perf_counter()
    rows = 0
    for kind in TABLES:
        rows += pl.read_parquet(_files(store_path, kind)).height
    return {"seconds": time.perf_counter() - started, "rows": rows}


def child_audit(store_path: Path, out: Path) -> dict:
    from wfhaudit.audit.run import run_audit

    started = time.perf_counter()
    result = run_audit(
        Store(store_path), parse_period(PERIOD), load_policy(), as_of=AS_OF, out_dir=out,
        partition_days=0,
    )
    return {
        "seconds": time.perf_counter() - started,
        "employee_days": result.counts["employee_days"],
        "violations": result.counts["violations"],
    }


def child_floor(store_path: Path, out: Path) -> dict:
    started = time.perf_counter()
    employees = pl.read_parquet(_files(store_path, "employees"), columns=["nip"])
    employees = employees.with_row_index("emp_idx")
    start = parse_period(PERIOD).start
    day = (pl.col("ts").dt.date() - pl.lit(start)).dt.total_days()
    facts = (
        pl.scan_parquet(_files(store_path, "attendance"))
        .select("nip", "ts", "kind")
        .join(employees.lazy(), on="nip", how="inner")
        .with_columns((pl.col("emp_idx").cast(pl.Int64) * 31 + day).alias("ed_key"))
        .group_by("ed_key")
        .agg(
            pl.col("ts").filter(pl.col("kind") == "IN").min().alias("first_in"),
            pl.col("ts").filter(pl.col("kind") == "OUT").max().alias("last_out"),
            pl.len().alias("events"),
        )
    )
    reports = (
        pl.scan_parquet(_files(store_path, "outputs"))
        .group_by("nip", "date")
        .agg(pl.col("text").str.len_chars().max(), pl.col("submitted_at").min())
    )
    facts_df, _ = pl.collect_all([facts, reports])
    out.mkdir(parents=True, exist_ok=True)
    facts_df.write_parquet(out / "floor-employee-day-facts.parquet")
    return {"seconds": time.perf_counter() - started, "employee_days": facts_df.height}


def _child(mode: str, store_path: Path, out: Path) -> dict:
    import wfhaudit.audit.run  # noqa: F401  (imported before the CPU count starts)

    before = resource.getrusage(resource.RUSAGE_SELF)
    if mode == "read":
        data = child_read(store_path)
    elif mode == "floor":
        data = child_floor(store_path, out)
    else:
        data = child_audit(store_path, out)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    data["peak_mb"] = peak_mb()
    # CPU of the measured work only (imports and interpreter start-up excluded)
    data["cpu_seconds"] = (usage.ru_utime + usage.ru_stime) - (before.ru_utime + before.ru_stime)
    return data


def _spawn(mode: str, store_path: Path, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--data", str(store_path.parent),
           "--out", str(out)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--employees", type=int, default=40_000)
    parser.add_argument("--units", type=int, default=30)
    parser.add_argument("--data", type=Path, default=None, help="directory for the store")
    parser.add_argument("--out", type=Path, default=None, help="directory for audit results")
    parser.add_argument("--regen", action="store_true", help="regenerate the store")
    parser.add_argument("--earlier-months", type=int, default=0,
                        help="also store N months before December (year-to-date work)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each (best is shown)")
    parser.add_argument("--child", choices=["read", "floor", "audit"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    suffix = f"-ytd{args.earlier_months}" if args.earlier_months else ""
    name = f"wfhaudit-bench-audit-{args.employees}{suffix}"
    data = args.data or Path(tempfile.gettempdir()) / name
    store_path = data / "store"
    out = args.out or data / "out"
    if args.child:
        print(json.dumps(_child(args.child, store_path, out)))
        return
    if args.regen or not (store_path / "attendance" / "_delta_log").is_dir():
        import shutil

        shutil.rmtree(store_path, ignore_errors=True)
        months = ", ".join(_month_labels(args.earlier_months))
        print(f"generating {args.employees:,} employees in {args.units} agencies, {months}...",
              file=sys.stderr)
        t = time.perf_counter()
        generate(store_path, args.employees, args.units, args.earlier_months)
        print(f"  generated in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    modes = ("read", "floor", "audit")
    runs: dict[str, list[dict]] = {m: [] for m in modes}
    for _ in range(args.repeat):  # interleaved: a busy moment hits all three alike
        for m in modes:
            runs[m].append(_spawn(m, store_path, out))
    best = {m: min(r, key=lambda x: x["seconds"]) for m, r in runs.items()}
    read, floor, audit = best["read"], best["floor"], best["audit"]
    print(f"store: {store_path}  ({read['rows']:,} input rows)")
    print(f"{'':24}{'wall s':>10}{'cpu s':>10}{'peak MB':>10}   (CPU of the work, not start-up)")
    for label, r in (
        ("bare pl.read_parquet", read),
        ("floor (no rules)", floor),
        ("audit (run_audit)", audit),
    ):
        print(f"{label:24}{r['seconds']:>10.2f}{r['cpu_seconds']:>10.2f}{r['peak_mb']:>10.0f}")
    print(f"load average now: {' '.join(f'{x:.1f}' for x in __import__('os').getloadavg())}")
    print(f"ratio floor/read: {floor['seconds'] / read['seconds']:.1f}x wall time, "
          f"{floor['cpu_seconds'] / read['cpu_seconds']:.1f}x CPU")
    print(f"ratio audit/read: {audit['seconds'] / read['seconds']:.1f}x wall time, "
          f"{audit['cpu_seconds'] / read['cpu_seconds']:.1f}x CPU; "
          f"{audit['employee_days']:,} employee-days, {audit['violations']:,} violations")


if __name__ == "__main__":
    main()
