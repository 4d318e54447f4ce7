"""Where the period step's time goes: the chunks of a month audited once and kept, then
the period step (``run.period_step``: ``DUPLICATE_OUTPUT``, the merge, the summary) run
on them again and again, its steps timed.

    .venv/bin/python bench/period.py STORE --work DIR [--month 2025-12]
                                           [--as-of 2026-01-05] [--days-per-chunk 1]
                                           [--trace] [--profile] [--top 25]

The first call audits the chunks into ``DIR`` (kept, with ``results.pkl``, the chunk
results); later calls with the same ``DIR`` reuse them, so only the period step runs.
Prints the period step's wall time, its peak memory, and per timed step the calls, the
seconds and the peak memory seen at its end (``docs/scale.md``).  ``--trace`` also prints
every timed call as it ends, with the memory then held; ``--profile`` adds the functions
of ``wfhaudit`` with the most cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import pickle
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from peak import peak_mb, reset_peak, rss_mb  # bench/peak.py, beside this script

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wfhaudit.audit import partitioned, run  # noqa: E402
from wfhaudit.audit.period import parse_period  # noqa: E402
from wfhaudit.policy import load_policy  # noqa: E402
from wfhaudit.store import Store  # noqa: E402

TIMES: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])


def timed(owner: Any, name: str, label: str | None = None, trace: bool = False) -> None:
    """Wrap ``owner.name`` to add its calls, seconds and the peak at its end to TIMES
    (``trace``: and print each call as it ends)."""
    real = getattr(owner, name)
    key = label or name

    def wrapper(*a: Any, **k: Any) -> Any:
        started = time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            entry = TIMES[key]
            entry[0] += 1
            entry[1] += time.perf_counter() - started
            entry[2] = max(entry[2], peak_mb())
            if trace:
                print(f"    {key:<24} {time.perf_counter() - started:6.2f} s, held after "
                      f"{rss_mb():7,.0f} MB, peak {peak_mb():7,.0f} MB", flush=True)

    setattr(owner, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--work", required=True, help="where the chunks' files are kept")
    parser.add_argument("--month", default="2025-12")
    parser.add_argument("--as-of", default="2026-01-05")
    parser.add_argument("--days-per-chunk", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--trace", action="store_true",
                        help="print every timed call as it ends, with the memory held")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    store = Store(Path(args.store))
    period, policy = parse_period(args.month), load_policy()
    work = Path(args.work)
    kept = work / "results.pkl"
    started = time.perf_counter()
    snap = run.snapshot(store, period, policy, dt.date.fromisoformat(args.as_of))
    print(f"snapshot {time.perf_counter() - started:.1f} s, held {rss_mb():,.0f} MB", flush=True)
    if not kept.exists():
        work.mkdir(parents=True, exist_ok=True)
        chunks = time.perf_counter()
        results, ytd, _ = run._run_chunks(
            store, snap, policy, args.days_per_chunk, work, partitioned.LocalExecutor(),
            lambda message: None,
        )
        kept.write_bytes(pickle.dumps((results, ytd)))
        print(f"chunks {time.perf_counter() - chunks:.1f} s ({len(results)}), kept in {work}",
              flush=True)
    results, ytd = pickle.loads(kept.read_bytes())

    for name in ("period_violations", "day_counts", "violation_counts", "attendance_totals",
                 "quality_lists", "_with_duplicates", "employee_summary", "_write_sorted",
                 "merge_quality_lists", "waived_frames"):
        timed(run, name, trace=args.trace)
    timed(run._SortedWriter, "write", "_SortedWriter.write", args.trace)
    reset_peak()
    profile = cProfile.Profile()
    with tempfile.TemporaryDirectory(prefix="wfhaudit-period-") as tmp:
        step = time.perf_counter()
        if args.profile:
            profile.enable()
        counts = run.period_step(snap, policy, period, results, ytd, Path(tmp))
        if args.profile:
            profile.disable()
        seconds = time.perf_counter() - step
    print(f"period step {seconds:.1f} s, {counts['employee_days']:,} employee-days, "
          f"{sum(counts['by_rule'].values()):,} violations, peak {peak_mb():,.0f} MB, "
          f"held after {rss_mb():,.0f} MB", flush=True)
    for key, (calls, secs, peak) in sorted(TIMES.items(), key=lambda kv: -kv[1][1]):
        print(f"  {key:<24} {calls:>4} calls {secs:8.1f} s   peak by then {peak:8,.0f} MB")
    if args.profile:
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(
            r"wfhaudit", args.top
        )
        print(text.getvalue())


if __name__ == "__main__":
    main()
