"""Scale benchmark: one month of 40 000, 400 000 and 4 000 000 employees (docs/scale.md).

For each size: generate the data (``wfhaudit sample --format parquet``), load it
into a store (streamed into Delta tables), then measure, each in its own
process so that peak memory is that step's alone:

- ``scan``  — a bare scan of the period's input tables (every column decoded);
- ``audit`` — the partitioned audit (``run_audit(partition_days=N)``, default one day per chunk);
- ``whole`` — the in-memory ``run_audit``, for comparison, where it fits.

Printed per step: input rows, wall time, rows/s and peak resident memory.
Sizes that would not fit the time budget or memory are run as large as they go,
with the reason printed.  Results are appended to ``bench/out/scale.jsonl``.

    python bench/scale.py                          # 40k, 400k, 4M
    python bench/scale.py --sizes 40000 --whole    # one size, with the in-memory run
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from peak import peak_mb as own_peak_mb  # bench/peak.py (this script's directory is on sys.path)

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
MONTH = "2025-12"
AS_OF = "2026-01-05"
SEED = 1
#: the in-memory run is skipped when its predicted peak exceeds this (the machine has 24 GiB)
WHOLE_LIMIT_MB = 12_000
#: the partitioned audit must stay under this
TARGET_PEAK_MB = 6_000
#: rows per commit when loading the generated tables into the store
LOAD_BATCH_ROWS = 4_000_000


def peak_mb() -> float:
    """This step's peak: its own (``peak.peak_mb``) or its largest child's (Dask workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return max(own_peak_mb(), children)


# --- steps (each runs in a child process) ----------------------------------------------


def step_generate(size: int, data: Path, units: int) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "wfhaudit", "sample", "--employees", str(size),
           "--units", str(units), "--month", MONTH, "--seed", str(SEED),
           "--format", "parquet", "--out", str(data), "--quiet"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    via = "wfhaudit sample --format parquet"
    if done.returncode != 0:
        if "NotImplementedError" not in done.stderr + done.stdout:
            raise SystemExit(f"wfhaudit sample failed: {done.stderr.strip()[-500:]}")
        from wfhaudit.sample.generator import generate_sample

        generate_sample(data, employees=size, units=units, month=MONTH, seed=SEED,
                        fmt="parquet")
        via = "wfhaudit.sample.generator.generate_sample (CLI not wired yet)"
    return {"via": via, "units": units}


def step_load(data: Path, store_dir: Path) -> dict[str, Any]:
    """Stream the generated Parquet tables into the store through its own writer (each
    batch one commit of files in the store's layout: sorted by day and NIP, row groups
    with statistics), never the whole table in memory."""
    import polars as pl
    import pyarrow.parquet as pq

    from wfhaudit.schema import TABLES
    from wfhaudit.store import Store

    if store_dir.exists():
        shutil.rmtree(store_dir)
    store = Store(store_dir)
    rows = 0
    for kind, table in TABLES.items():
        file = data / f"{kind}.parquet"
        if not file.exists():
            continue
        # pyarrow's batch reader: bounded by a batch (Polars' collect_batches was not)
        for batch in pq.ParquetFile(file).iter_batches(batch_size=LOAD_BATCH_ROWS):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            store.append_new(kind, frame.select(
                [pl.col(c).cast(t) for c, t in table.columns.items()]
            ))
            rows += frame.height
    return {"rows": rows}


#: an earlier "month" is December's data moved back by this many weeks per month
WEEKS_PER_EARLIER_MONTH = 5
#: the columns moved back, per table
SHIFTED = {"attendance": ("ts",), "outputs": ("date", "submitted_at"), "roster": ("date",),
           "leave": ("start", "end")}


def step_load_earlier(data: Path, store_dir: Path, months: int) -> dict[str, Any]:
    """The year to date's data: ``months`` copies of the generated month's day-keyed
    tables, the n-th moved back by 5n weeks (the same weekdays, the same employees), so
    the store holds some 5·months earlier weeks from late September on (the generator
    makes different employees for another month)."""
    import polars as pl
    import pyarrow.parquet as pq

    from wfhaudit.schema import TABLES
    from wfhaudit.store import Store

    store = Store(store_dir)
    rows = 0
    for n in range(1, months + 1):
        back = dt.timedelta(weeks=WEEKS_PER_EARLIER_MONTH * n)
        for kind, columns in SHIFTED.items():
            file = data / f"{kind}.parquet"
            if not file.exists():
                continue
            table = TABLES[kind]
            for batch in pq.ParquetFile(file).iter_batches(batch_size=LOAD_BATCH_ROWS):
                frame = pl.from_arrow(batch)
                assert isinstance(frame, pl.DataFrame)
                frame = frame.with_columns([pl.col(c) - back for c in columns])
                store.append_new(kind, frame.select(
                    [pl.col(c).cast(t) for c, t in table.columns.items()]
                ))
                rows += frame.height
    return {"rows": rows, "earlier_months": months}


def _input_rows(store: Any, start: dt.date, end: dt.date) -> int:
    import polars as pl

    total = 0
    for kind in ("employees", "offices", "roster", "attendance", "outputs", "leave"):
        if store.exists(kind):
            total += store.scan(kind, start, end).select(pl.len()).collect().item()
    return total


def step_scan(store_dir: Path) -> dict[str, Any]:
    """A bare scan: every column of the period's tables decoded and dropped, batch by batch."""
    import polars as pl

    from wfhaudit.audit.period import parse_period
    from wfhaudit.store import Store

    store = Store(store_dir)
    period = parse_period(MONTH)
    rows = 0

    def count(batch: pl.DataFrame) -> None:
        nonlocal rows
        rows += batch.height

    for kind in ("employees", "offices", "roster", "attendance", "outputs", "leave"):
        if store.exists(kind):
            store.scan(kind, period.start, period.end).sink_batches(count)
    return {"rows": rows}


def step_audit(store_dir: Path, out: Path, days_per_partition: int) -> dict[str, Any]:
    from wfhaudit.audit.period import parse_period
    from wfhaudit.audit.run import run_audit
    from wfhaudit.policy import load_policy
    from wfhaudit.store import Store

    store = Store(store_dir)
    period = parse_period(MONTH)
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"{time.perf_counter() - started:8.1f}s {peak_mb():8.0f} MB  {message}",
              file=sys.stderr, flush=True)

    result = run_audit(
        store, period, load_policy(), as_of=dt.date.fromisoformat(AS_OF), out_dir=out,
        partition_days=days_per_partition, progress=progress,
    )
    counts = result.meta["counts"]
    return {"rows": _input_rows(store, period.start, period.end),
            "employee_days": counts["employee_days"], "violations": counts["violations"],
            "partitions": result.meta["execution"]["chunks"]}


def step_whole(store_dir: Path, out: Path) -> dict[str, Any]:
    from wfhaudit.audit.period import parse_period
    from wfhaudit.audit.run import run_audit
    from wfhaudit.policy import load_policy
    from wfhaudit.store import Store

    store = Store(store_dir)
    period = parse_period(MONTH)
    result = run_audit(store, period, load_policy(), as_of=dt.date.fromisoformat(AS_OF),
                       out_dir=out, partition_days=0)
    counts = result.meta["counts"]
    return {"rows": _input_rows(store, period.start, period.end),
            "employee_days": counts["employee_days"], "violations": counts["violations"]}


def child(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    if args.rows_per_bucket:
        from wfhaudit.audit import partitioned

        partitioned.ROWS_PER_BUCKET = args.rows_per_bucket
    work = Path(args.work)
    if args.step == "generate":
        info = step_generate(args.size, work / "data", args.units)
    elif args.step == "load":
        info = step_load(work / "data", work / "store")
    elif args.step == "load-earlier":
        info = step_load_earlier(work / "data", work / "store", args.earlier_months)
    elif args.step == "scan":
        info = step_scan(work / "store")
    elif args.step == "audit":
        info = step_audit(work / "store", work / "out-partitioned", args.days_per_partition)
    elif args.step == "whole":
        info = step_whole(work / "store", work / "out-whole")
    else:
        raise SystemExit(f"unknown step {args.step}")
    info.update(seconds=time.perf_counter() - started, peak_mb=peak_mb())
    print("RESULT " + json.dumps(info))


# --- driver -----------------------------------------------------------------------------


def run_step(step: str, size: int, work: Path, extra: list[str] | None = None,
             label: str | None = None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", step, "--size", str(size), "--work", str(work),
           *(extra or [])]
    done = subprocess.run(cmd, capture_output=True, text=True)
    label = label or step
    (OUT / f"n{size}-{label}.log").write_text(done.stderr, encoding="utf-8")
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        return {"step": label, "error": f"exit {done.returncode}: " + " | ".join(tail)}
    info = json.loads(lines[-1][len("RESULT "):])
    info["step"] = label
    return info


def show(size: int, info: dict[str, Any]) -> None:
    if "error" in info:
        print(f"{size:>9,} {info['step']:<12} FAILED {info['error']}", flush=True)
        return
    rows = info.get("rows")
    rate = f"{rows / info['seconds']:>12,.0f}" if rows else f"{'-':>12}"
    print(
        f"{size:>9,} {info['step']:<12} {rows or 0:>13,} {info['seconds']:>9.1f} {rate} "
        f"{info['peak_mb']:>9,.0f}  {info.get('note', '')}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="40000,400000,4000000")
    parser.add_argument(
        "--work", default=os.environ.get("WFHAUDIT_BENCH_WORK", "/tmp/wfhaudit-scale")
    )
    parser.add_argument("--days-per-partition", type=int, default=1)
    parser.add_argument("--units", type=int, default=48,
                        help="agencies (about the number of perangkat daerah of a province)")
    parser.add_argument("--earlier-months", type=int, default=2,
                        help="copies of the month moved back 5, 10, ... weeks: the year to "
                             "date the audit counts (its first audit fills the store's cache, "
                             "the second, measured as 'audit-warm', reads it)")
    parser.add_argument("--data-cache",
                        help="keep each size's generated data here and reuse it next time")
    parser.add_argument("--whole", action="store_true",
                        help="also run the in-memory run_audit at every size that fits")
    parser.add_argument("--budget-minutes", type=float, default=90.0,
                        help="largest predicted time for one size (generate+load+scan+audit)")
    parser.add_argument("--keep", action="store_true", help="keep each size's data")
    parser.add_argument("--rows-per-bucket", type=int, default=0,
                        help="employee-days per merge range and NIP bucket (the engine's "
                             "ROWS_PER_BUCKET; default: the engine's own)")
    parser.add_argument("--child")
    parser.add_argument("--size", type=int, default=0)
    args = parser.parse_args()
    if args.child:
        args.step = args.child
        child(args)
        return

    OUT.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"wfhaudit scale benchmark, month {MONTH}, {os.cpu_count()} cores, "
          f"days per partition {args.days_per_partition}", flush=True)
    print(f"{'employees':>9} {'step':<12} {'rows':>13} {'seconds':>9} {'rows/s':>12} "
          f"{'peak MB':>9}", flush=True)
    per_employee_s: float | None = None
    whole_mb_per_employee: float | None = None
    records: list[dict[str, Any]] = []
    for size in sizes:
        run_size = size
        if per_employee_s is not None:
            predicted = per_employee_s * size / 60
            if predicted > args.budget_minutes:
                run_size = int(args.budget_minutes * 60 / per_employee_s) // 10_000 * 10_000
                print(f"{size:>9,} predicted {predicted:.0f} min > budget "
                      f"{args.budget_minutes:.0f} min on this machine: running {run_size:,} "
                      "employees instead", flush=True)
        work = Path(args.work) / f"n{run_size}"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        total = 0.0
        steps = ["generate", "load", "scan", "audit"]
        if args.data_cache:
            cache = Path(args.data_cache) / f"n{run_size}-u{args.units}"
            (work / "data").symlink_to(cache.resolve(), target_is_directory=True)
            if (cache / "attendance.parquet").exists():
                steps.remove("generate")
                print(f"{run_size:>9,} generate  reusing {cache}", flush=True)
            cache.mkdir(parents=True, exist_ok=True)
        if args.earlier_months:
            steps.insert(steps.index("scan"), "load-earlier")
            steps.append("audit-warm")
        for step in steps:
            extra = ["--units", str(args.units), "--earlier-months", str(args.earlier_months)]
            if step.startswith("audit"):
                extra += ["--days-per-partition", str(args.days_per_partition)]
            info = run_step(step.removesuffix("-warm"), run_size, work, extra, label=step)
            if step.startswith("audit") and "error" not in info:
                info["note"] = (f"{info['partitions']} partitions, {info['employee_days']:,} "
                                f"employee-days, {info['violations']:,} violations")
                if info["peak_mb"] > TARGET_PEAK_MB:
                    info["note"] += f"; over the {TARGET_PEAK_MB:,} MB target"
            show(run_size, info)
            records.append({"employees": run_size, "requested": size, **info})
            total += info.get("seconds", 0.0)
            if "error" in info:
                break
        per_employee_s = total / run_size
        if args.whole:
            predicted_mb = (whole_mb_per_employee or 0) * run_size
            if predicted_mb > WHOLE_LIMIT_MB:
                print(f"{run_size:>9,} whole     skipped: predicted peak {predicted_mb:,.0f} MB "
                      f"> {WHOLE_LIMIT_MB:,} MB of this 24 GiB machine", flush=True)
            else:
                info = run_step("whole", run_size, work)
                show(run_size, info)
                records.append({"employees": run_size, "requested": size, **info})
                if "error" not in info:
                    whole_mb_per_employee = info["peak_mb"] / run_size
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with (OUT / "scale.jsonl").open("a", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps({"at": stamp, **rec}) + "\n")
    ok = [r for r in records if "error" not in r]
    audits = [r for r in ok if r.get("step") in ("audit", "audit-warm")]
    wholes = [r for r in ok if r.get("step") == "whole"]
    if audits and wholes:  # issue 16's targets
        floor = wholes[0]
        base = floor["rows"] / floor["seconds"]
        for r in audits:
            rate = r["rows"] / r["seconds"]
            print(f"{r['employees']:>9,} {r['step']:<12} {rate / base:.0%} of the in-memory "
                  f"rows/s at {floor['employees']:,} (target at 4,000,000: at least 70%); "
                  f"{r['seconds']:.0f} s (target at 4,000,000: at most 400 s), peak "
                  f"{r['peak_mb']:,.0f} MB (target: under {TARGET_PEAK_MB:,})", flush=True)

if __name__ == "__main__":
    main()
