"""Roster check benchmark: a 40 000-employee month's 30 agency grids, checked.

Generates the month (``wfhaudit sample --format export``: one roster grid per
agency, ``roster/<unit>.xlsx``) once into ``bench/out/roster-<N>/``, ingests the
staff master, offices and leave, then times:

- ``files``  — ``roster check`` of the 30 grid files (read and validated as
  ``ingest roster`` reads them, not stored), with the suggested correction;
- ``store``  — the same check of the stored roster (after ``ingest roster``);
- ``export`` — ``roster export`` of the month;
- ``reports`` — writing the feedback reports (md and html) of every agency.

Printed, not asserted (target: the grids checked in under 10 s).

    python bench/roster.py                     # 40 000 employees, 30 agencies
    python bench/roster.py --employees 4000 --units 10
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MONTH = "2025-12"


def generate(data: Path, employees: int, units: int) -> None:
    if (data / "roster").is_dir() and (data / "employees.csv").exists():
        return
    cmd = [sys.executable, "-m", "wfhaudit", "sample", "--employees", str(employees),
           "--units", str(units), "--month", MONTH, "--seed", "1", "--format", "export",
           "--out", str(data), "--quiet"]
    subprocess.run(cmd, check=True)


def _took(wall0: float, cpu0: float) -> str:
    """Wall and CPU seconds (all threads) since ``wall0`` / ``cpu0``."""
    return f"{time.perf_counter() - wall0:.2f} s wall, {time.process_time() - cpu0:.2f} s CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=40_000)
    parser.add_argument("--units", type=int, default=30)
    args = parser.parse_args()

    from wfhaudit.ingest import ingest_files
    from wfhaudit.policy import load_policy
    from wfhaudit.roster import check_roster, export_roster
    from wfhaudit.roster.render import write_reports
    from wfhaudit.store import Store

    data = HERE / "out" / f"roster-{args.employees}"
    started = time.perf_counter()
    generate(data, args.employees, args.units)
    print(f"data: {data} ({time.perf_counter() - started:.1f} s to generate or find)")
    grids = sorted((data / "roster").glob("*.xlsx"))
    policy = load_policy()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "store")
        ingest_files(store, "employees", [data / "employees.csv"])
        ingest_files(store, "offices", [data / "offices.csv"])
        ingest_files(store, "leave", [data / "leave.csv"])

        t0, c0 = time.perf_counter(), time.process_time()
        checked = check_roster(store, MONTH, policy, files=grids)
        files_s, files_cpu = time.perf_counter() - t0, time.process_time() - c0
        entries = sum(f.valid for f in checked.files)
        print(
            f"files:   {len(grids)} grids, {entries:,} entries, {len(checked.units)} agencies, "
            f"{checked.problems.height:,} problems, {checked.suggestion.moves.height:,} "
            f"suggested moves: {files_s:.2f} s wall, {files_cpu:.2f} s CPU"
        )
        ingest_files(store, "roster", grids)
        t0, c0 = time.perf_counter(), time.process_time()
        stored = check_roster(store, MONTH, policy)
        print(f"store:   {stored.problems.height:,} problems: {_took(t0, c0)}")
        t0, c0 = time.perf_counter(), time.process_time()
        rows = export_roster(store, MONTH, policy)
        print(f"export:  {rows.height:,} employee-days: {_took(t0, c0)}")
        t0, c0 = time.perf_counter(), time.process_time()
        written = write_reports(checked, Path(tmp) / "feedback", ["md", "html"], "id")
        print(f"reports: {len(written)} files: {_took(t0, c0)}")
    print(f"load average (1, 5, 15 min): {os.getloadavg()} on {os.cpu_count()} CPUs")
    target = "within" if files_s < 10 else "OVER"
    print(f"the {len(grids)} grids checked in {files_s:.2f} s ({target} the 10 s target)")


if __name__ == "__main__":
    main()
