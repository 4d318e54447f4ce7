"""Benchmark: ``evaluate`` of four months against four single-month audits one after the other.

    .venv/bin/python bench/evaluate.py [--employees 40000] [--units 30] [--data DIR] [--regen]
                                       [--repeat N]

Generates (once) four months 2025-11..2026-02 with ``wfhaudit.sample.months`` and
ingests them into a store; then, each in a fresh child process, measures wall time
and peak memory (the child's own high-water mark, bench/peak.py) of

- ``audit <month>``: ``run_audit`` of one month (``--as-of 2026-03-02``), for each of
  the four months, one after the other (their walls are summed, their peaks maxed);
- ``evaluate``: ``wfhaudit.evaluate.evaluate`` of the span by month (it audits the
  months one at a time with the same engine) plus the HTML rendering.

Targets (issue 13): evaluate within 1.2x the sum of the four audits, peak no more
than one month's audit.  CPU seconds (user + system, all threads) are printed too: on a
shared machine they vary less than wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from peak import bench_env  # bench/peak.py (this script's directory is on sys.path)

SPAN = "2025-11..2026-02"
MONTHS = ("2025-11", "2025-12", "2026-01", "2026-02")
AS_OF = "2026-03-02"
KINDS = ("employees", "offices", "roster", "attendance", "outputs", "leave", "feedback")

CHILD = r"""
import datetime as dt, json, resource, sys, tempfile, time
from pathlib import Path
from peak import peak_mb
from wfhaudit.policy import load_policy
from wfhaudit.store import Store
what, store = sys.argv[1], Store(sys.argv[2])
as_of = dt.date.fromisoformat(sys.argv[3])
started = time.perf_counter()
cpu_before = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
with tempfile.TemporaryDirectory() as tmp:
    if what == "evaluate":
        from wfhaudit.evaluate import evaluate
        from wfhaudit.evaluate.buckets import parse_span
        from wfhaudit.evaluate.render import render_evaluation
        model = evaluate(store, parse_span(sys.argv[4]), load_policy(None), as_of=as_of)
        render_evaluation(model, formats=["html"], lang="id", out_dir=Path(tmp))
    else:
        from wfhaudit.audit.period import parse_period
        from wfhaudit.audit.run import run_audit
        period = parse_period(sys.argv[4])
        run_audit(store, period, load_policy(None), as_of=as_of, out_dir=Path(tmp))
wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime - cpu_before
print(json.dumps({"wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                  "peak_mb": round(peak_mb())}))
"""


def _child(what: str, store: Path, arg: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, what, str(store), AS_OF, arg],
        capture_output=True,
        text=True,
        check=True,
        env=bench_env(),
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _fastest(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run with the least wall time; its CPU seconds; the highest peak of all runs
    (memory does not vary with the load)."""
    best = dict(min(runs, key=lambda r: r["wall_s"]))
    best["peak_mb"] = max(r["peak_mb"] for r in runs)
    return best


def prepare(data: Path, employees: int, units: int, regen: bool) -> Path:
    from typer.testing import CliRunner

    from wfhaudit.cli import app
    from wfhaudit.sample.months import generate_months

    store = data / "store"
    if store.is_dir() and not regen:
        return store
    generate_months(data / "tables", months=SPAN, employees=employees, units=units, fmt="parquet")
    runner = CliRunner()
    for kind in KINDS:
        done = runner.invoke(
            app,
            ["ingest", kind, str(data / "tables" / f"{kind}.parquet"), "--store", str(store), "-q"],
        )
        assert done.exit_code == 0, done.output
    return store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--employees", type=int, default=40_000)
    ap.add_argument("--units", type=int, default=30)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--regen", action="store_true")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the four audits and the evaluation this many times, interleaved; "
                         "each step's fastest run is reported (wall time on a shared machine "
                         "varies by a third from one run to the next)")
    args = ap.parse_args()
    data = args.data or Path(tempfile.gettempdir()) / f"wfhaudit-bench-evaluate-{args.employees}"
    data.mkdir(parents=True, exist_ok=True)
    store = prepare(data, args.employees, args.units, args.regen)
    load = os.getloadavg()[0]
    runs: list[tuple[dict[str, dict[str, float]], dict[str, float]]] = []
    for _ in range(max(1, args.repeat)):
        audited = {m: _child("audit", store, m) for m in MONTHS}
        runs.append((audited, _child("evaluate", store, SPAN)))
    audits = {m: _fastest([r[0][m] for r in runs]) for m in MONTHS}
    ev = _fastest([r[1] for r in runs])
    if len(runs) > 1:
        for i, (a, e) in enumerate(runs, 1):
            each = sum(x["wall_s"] for x in a.values())
            print(f"run {i}: 4 audits {each:6.2f} s, evaluate {e['wall_s']:6.2f} s, "
                  f"ratio {e['wall_s'] / each:.2f}x")
        print(f"fastest of {len(runs)} runs per step:")
    total = sum(a["wall_s"] for a in audits.values())
    cpu = sum(a["cpu_s"] for a in audits.values())
    peak = max(a["peak_mb"] for a in audits.values())
    print(f"load average (1 min): {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    for m, a in audits.items():
        print(
            f"audit {m}:      {a['wall_s']:8.2f} s  {a['cpu_s']:8.2f} CPU-s  "
            f"{a['peak_mb']:7.0f} MB"
        )
    print(f"4 audits:          {total:8.2f} s  {cpu:8.2f} CPU-s  {peak:7.0f} MB (max)")
    print(
        f"evaluate {SPAN}: {ev['wall_s']:8.2f} s  {ev['cpu_s']:8.2f} CPU-s  "
        f"{ev['peak_mb']:7.0f} MB"
    )
    print(
        f"ratio: wall {ev['wall_s'] / total:.2f}x (target <= 1.2x), "
        f"CPU {ev['cpu_s'] / cpu:.2f}x, peak {ev['peak_mb'] / peak:.2f}x (target <= 1.0x)"
    )


if __name__ == "__main__":
    main()
