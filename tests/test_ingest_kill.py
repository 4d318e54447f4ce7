"""SIGKILL of a real ingest at several points (issue 17): the store stays whole.

A subprocess ingests a generated attendance file (every seventh row rejected) into a
fresh store and is SIGKILLed: at fixed fractions of a full ingest's duration, and the
moment the attendance commit appears (the window between the table's commit and the
rejects' commit, where a kill used to keep the rows without their rejects).  After
each kill:

- the store opens; the attendance table holds all of the file's valid rows or none;
- rejects are never recorded without the rows; rows without their rejects only with
  the ingest's journal left in ``.pending/`` -- and the next run (``Store.repair``,
  which every ingest calls first) records them, so the tables and the rejects agree;
- every rejects CSV is whole (``rejected`` rows, not a prefix);
- ingesting the same file again gives exactly the file's valid rows.

The loop is bounded in time: ``WFHAUDIT_KILL_SECONDS`` (default 30) of kills.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from wfhaudit.schema import REJECTS
from wfhaudit.store import Store

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

ROWS = 120_000
BUDGET_S = float(os.environ.get("WFHAUDIT_KILL_SECONDS", "30"))


def write_file(path: Path) -> tuple[int, int]:
    """A canonical attendance CSV; (valid rows, rejected rows)."""
    i = pl.int_range(ROWS, eager=True)
    nip = (i % 2000 + 198500000000000000).cast(pl.String)
    seconds = (i // 2000).cast(pl.Int64)
    ts = pl.select(
        (pl.datetime(2025, 12, 1, 6) + pl.duration(seconds=seconds)).dt.strftime(
            "%Y-%m-%d %H:%M:%S"
        )
    ).to_series()
    kind = pl.select(pl.when(i % 7 == 0).then(pl.lit("xx")).otherwise(pl.lit("IN"))).to_series()
    pl.DataFrame(
        {
            "nip": nip,
            "ts": ts,
            "kind": kind,
            "lat": ["-6.9"] * ROWS,
            "lon": ["107.6"] * ROWS,
            "accuracy_m": ["5"] * ROWS,
            "device_id": ["d1"] * ROWS,
            "mode": ["WFO"] * ROWS,
        }
    ).write_csv(path)
    rejected = (ROWS + 6) // 7
    return ROWS - rejected, rejected


def start(src: Path, store: Path) -> subprocess.Popen[bytes]:
    command = ["ingest", "attendance", str(src), "--store", str(store), "--quiet"]
    return subprocess.Popen(
        [sys.executable, "-m", "wfhaudit", *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for_commit(proc: subprocess.Popen[bytes], store: Path, timeout: float) -> None:
    log = store / "attendance" / "_delta_log" / "00000000000000000000.json"
    deadline = time.monotonic() + timeout
    while not log.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.0005)


def rejects_rows(store: Store) -> int:
    if not store.exists(REJECTS.name):
        return 0
    return store.scan(REJECTS.name).collect().height


def attendance_rows(store: Store) -> int:
    return store.scan("attendance").collect().height if store.exists("attendance") else 0


def check_csvs(root: Path, rejected: int) -> int:
    folder = root / "rejected-rows"
    csvs = sorted(folder.glob("*.csv")) if folder.exists() else []
    for csv in csvs:
        assert pl.read_csv(csv, infer_schema=False).height == rejected, csv
    return len(csvs)


def test_sigkill_at_several_points_never_splits_rows_from_their_rejects(tmp_path: Path) -> None:
    src = tmp_path / "attendance.csv"
    valid, rejected = write_file(src)
    # one full run: how long an ingest takes here (the machine may be shared)
    t0 = time.monotonic()
    full = start(src, tmp_path / "full")
    _, err = full.communicate(timeout=600)
    duration = time.monotonic() - t0
    assert full.returncode == 0, err
    assert attendance_rows(Store(tmp_path / "full")) == valid
    assert rejects_rows(Store(tmp_path / "full")) == rejected

    points: list[float | str] = ["commit", 0.3, "commit", 0.6, 0.85, "commit", 0.95, 0.1, 0.45]
    outcomes: dict[str, int] = {"nothing": 0, "rows only (journal)": 0, "both": 0}
    began = time.monotonic()
    for n, point in enumerate(points):
        if n >= 3 and time.monotonic() - began > BUDGET_S:
            break
        root = tmp_path / f"s{n}"
        proc = start(src, root)
        try:
            if point == "commit":
                wait_for_commit(proc, root, timeout=duration * 3 + 30)
            else:
                assert isinstance(point, float)
                time.sleep(duration * point)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        store = Store(root)
        store.versions()  # the store opens
        rows, recorded = attendance_rows(store), rejects_rows(store)
        pending = list((root / ".pending").glob("[!.]*")) if (root / ".pending").exists() else []
        assert rows in (0, valid), f"kill at {point}: {rows} rows"
        assert recorded in (0, rejected), f"kill at {point}: {recorded} rejects"
        if rows == 0:
            assert recorded == 0, f"kill at {point}: rejects without their rows"
            outcomes["nothing"] += 1
        elif recorded == 0:
            assert len(pending) == 1, f"kill at {point}: rows without rejects and no journal"
            outcomes["rows only (journal)"] += 1
        else:
            outcomes["both"] += 1
        # the next run repairs: the tables and the rejects agree
        store.repair()
        rows, recorded = attendance_rows(store), rejects_rows(store)
        assert recorded == (rejected if rows else 0), f"kill at {point}: after repair"
        assert check_csvs(root, rejected) == (1 if rows else 0)
        # ingesting the file again gives the right total
        again = start(src, root)
        _, err = again.communicate(timeout=600)
        assert again.returncode == 0, err
        assert attendance_rows(store) == valid
        assert rejects_rows(store) == rejected * (2 if rows else 1)
        assert check_csvs(root, rejected) == (2 if rows else 1)
    print(f"ingest {duration:.1f} s; kills: {outcomes}")
    assert sum(outcomes.values()) >= 3
