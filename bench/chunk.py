"""Where one day chunk's time goes: the partitioned engine's ``audit_chunk`` for one day
of a store, as the pipeline runs it (the snapshot, the agency groups, the merge plan),
timed and profiled.

    .venv/bin/python bench/chunk.py STORE [--day 2025-12-03] [--month 2025-12]
                                          [--as-of 2026-01-05] [--top 25]
                                          [--group-employees 1000000] [--memory]

The first chunk of an audit also numbers the employees (the index every later chunk
shares), so the day is audited twice: the first run is timed as ``first``, the second
(the cost of every later chunk) is timed and profiled.  Prints the wall times, each
step's own peak memory (Linux: ``VmHWM`` reset between steps, ``bench/peak.py``) and
what it left held, and the functions of ``wfhaudit`` with the most cumulative time in
the profiled run (``docs/scale.md``).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
from peak import peak_mb, reset_peak, rss_mb  # bench/peak.py, beside this script

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wfhaudit.audit import partitioned, run  # noqa: E402
from wfhaudit.audit.period import parse_period  # noqa: E402
from wfhaudit.policy import load_policy  # noqa: E402
from wfhaudit.store import Store  # noqa: E402


def watch_memory() -> None:
    """Wrap the chunk engine's steps to print, after each, its own peak and what it left.
    A step that contains watched steps (``audit_days``) prints the peak since its last
    inner step ended: each step resets the peak when it starts."""
    from wfhaudit.audit import employee_days

    def watched(module: object, name: str) -> None:
        real = getattr(module, name)

        def wrapper(*a: object, **k: object) -> object:
            reset_peak()
            before = rss_mb()
            out = real(*a, **k)
            print(f"  {name:<24} held before {before:7,.0f} MB, own peak {peak_mb():7,.0f} MB, "
                  f"held after {rss_mb():7,.0f} MB", flush=True)
            return out

        setattr(module, name, wrapper)

    for name in ("agency_groups", "audit_days", "employee_day_evidence", "apply_clarifications",
                 "split_ranges", "_evaluate"):
        watched(partitioned, name)
    for name in ("_base", "_events", "_reports"):
        watched(employee_days, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--month", default="2025-12")
    parser.add_argument("--day", default="2025-12-03")
    parser.add_argument("--as-of", default="2026-01-05")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--memory", action="store_true",
                        help="also print, around each of the chunk engine's steps in the "
                             "profiled run, the memory held and the step's own peak")
    parser.add_argument("--group-employees", type=int, default=partitioned.GROUP_EMPLOYEES,
                        help="employees per agency group (the engine's GROUP_EMPLOYEES)")
    args = parser.parse_args()
    partitioned.GROUP_EMPLOYEES = args.group_employees

    store = Store(Path(args.store))
    period, policy = parse_period(args.month), load_policy()
    day = dt.date.fromisoformat(args.day)
    started = time.perf_counter()
    snap = run.snapshot(store, period, policy, dt.date.fromisoformat(args.as_of))
    source = partitioned.StoreSource.of(store, snap.inputs)
    groups = partitioned.unit_groups(
        source.inputs(period.start, period.start).employees, partitioned.GROUP_EMPLOYEES
    )
    employees = int(snap.inputs.employees.select(pl.len()).collect().item())
    days = snap.days.filter(pl.col("date") == day)
    if days.is_empty():
        raise SystemExit(f"{day} is not an audited day of {args.month}")
    print(f"snapshot {time.perf_counter() - started:.1f} s, {employees:,} employees, "
          f"{len(groups) if groups else 1} agency group(s), peak {peak_mb():,.0f} MB, "
          f"held {rss_mb():,.0f} MB", flush=True)
    reset_peak()
    with tempfile.TemporaryDirectory(prefix="wfhaudit-chunk-") as work:
        def chunk(index: int) -> partitioned.Chunk:
            return partitioned.Chunk(
                index, day, day, days, policy, source, work, groups=groups,
                buckets=partitioned.bucket_count(employees * snap.days.height),
                ranges=run.merge_plan(snap),
            )

        first = time.perf_counter()
        partitioned.audit_chunk(chunk(0))
        print(f"first chunk (numbers the employees) {time.perf_counter() - first:.1f} s, "
              f"peak {peak_mb():,.0f} MB, held after {rss_mb():,.0f} MB", flush=True)
        reset_peak()
        if args.memory:
            watch_memory()
        profile = cProfile.Profile()
        again = time.perf_counter()
        profile.enable()
        result = partitioned.audit_chunk(chunk(1))
        profile.disable()
        print(f"a later chunk {time.perf_counter() - again:.1f} s (profiled), "
              f"{result.employee_days:,} employee-days, peak {peak_mb():,.0f} MB, "
              f"held after {rss_mb():,.0f} MB", flush=True)
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("cumulative").print_stats(r"wfhaudit", args.top)
    print(text.getvalue())


if __name__ == "__main__":
    main()
