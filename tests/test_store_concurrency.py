"""The store under stress: SIGKILL in the middle of a write, two writers at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable

from wfhaudit.schema import ATTENDANCE
from wfhaudit.store import Store

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and flock")

#: Shared by the worker processes: build attendance rows for a writer.
ROWS = """
import datetime as dt
import polars as pl
from wfhaudit.schema import ATTENDANCE

def rows(writer: int, n: int, month: int = 12, mode: str = "WFO") -> pl.DataFrame:
    base = dt.datetime(2025, month, 1, 7, 0)
    return pl.DataFrame(
        {
            "nip": (
                pl.int_range(n, eager=True) % 5000 + 198500000000000000 + writer * 1_000_000
            ).cast(pl.String),
            "ts": pl.datetime_range(
                base, base + dt.timedelta(seconds=n - 1), "1s", eager=True
            ).cast(pl.Datetime("us")),
        }
    ).with_columns(
        pl.lit("IN").alias("kind"),
        pl.lit(-6.9).alias("lat"),
        pl.lit(107.6).alias("lon"),
        pl.lit(5.0).alias("accuracy_m"),
        pl.lit(f"dev{writer}").alias("device_id"),
        pl.lit(mode).alias("mode"),
    ).select(list(ATTENDANCE.columns))
"""


def run_python(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(ROWS) + textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def rows(writer: int, n: int, month: int = 12, mode: str = "WFO") -> pl.DataFrame:
    namespace: dict[str, object] = {}
    exec(ROWS, namespace)  # the same rows the workers write
    return namespace["rows"](writer, n, month, mode)  # type: ignore[operator,no-any-return]


def committed_files(path: Path) -> set[str]:
    return {os.path.abspath(f) for f in DeltaTable(str(path)).file_uris()}


def parquet_on_disk(path: Path) -> set[str]:
    return {os.path.abspath(f) for f in path.rglob("*.parquet")}


KILLED_WRITER = """
import sys
from wfhaudit.store import Store
big = rows(7, 600_000, month=11)
big = big.vstack(rows(8, 600_000, month=12))
print("writing", flush=True)
Store(sys.argv[1]).write("attendance", big)
print("done", flush=True)
"""


def kill_when(proc: subprocess.Popen[str], table: Path, delay: float | None) -> None:
    """SIGKILL ``proc`` after ``delay`` s, or (None) as soon as it creates a data file."""
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "writing", proc.stderr.read() if proc.stderr else ""
    if delay is not None:
        time.sleep(delay)
    else:
        known = parquet_on_disk(table)
        deadline = time.monotonic() + 60
        while not parquet_on_disk(table) - known and time.monotonic() < deadline:
            time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_sigkill_mid_write_leaves_the_previous_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    before = rows(1, 1000)
    store.write("attendance", before)
    table = store.table_path("attendance")
    mid_write_kills = 0
    for delay in (None, 0.05, None, 0.3, 0.6):
        if mid_write_kills >= 2:
            break
        version = store.version("attendance")
        proc = run_python(KILLED_WRITER, str(store.path))
        try:
            kill_when(proc, table, delay)
        finally:
            if proc.poll() is None:
                proc.kill()
        after = store.version("attendance")
        got = store.scan("attendance").collect()
        if after == version:  # killed before the commit: exactly the previous rows
            assert got.sort("nip", "ts").equals(before.sort("nip", "ts"))
            orphans = parquet_on_disk(table) - committed_files(table)
            mid_write_kills += bool(orphans)  # data files were being written
        else:  # the commit won the race: all of it or nothing
            assert after == version + 1 and got.height == before.height + 1_200_000
            break
    assert mid_write_kills >= 1, "no kill landed while data files were being written"
    # the store still takes writes after the kill (the lock died with the process)
    height = store.scan("attendance").collect().height
    result = store.write("attendance", rows(2, 10))
    assert result.inserted == 10
    assert store.scan("attendance").collect().height == height + 10


WRITER = """
import json, sys, time
from pathlib import Path
from wfhaudit.store import Store
import polars as pl

writer, root, rounds, lock = int(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
results = []

def barrier(name):
    (root / f"{name}.{writer}").touch()
    deadline = time.monotonic() + 60
    while not (root / f"{name}.{1 - writer}").exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"the other writer never reached {name}")
        time.sleep(0.001)

for r in range(rounds):
    store = Store(root / f"store{r}", lock=lock == "lock")
    # 1. both create the table at once (it does not exist yet)
    barrier(f"create{r}")
    res = store.write("attendance", rows(writer, 2000))
    results.append(["create", res.inserted, res.replaced, res.unchanged])
    # 2. both insert into the same existing partition at once
    barrier(f"insert{r}")
    res = store.write("attendance", rows(writer + 2, 2000))
    results.append(["insert", res.inserted, res.replaced, res.unchanged])
    # 3. both revise their own rows of the first step at once (rewrites files)
    barrier(f"revise{r}")
    res = store.write("attendance", rows(writer, 2000, mode="WFH"))
    results.append(["revise", res.inserted, res.replaced, res.unchanged])
    # 4. both append rejects at once
    barrier(f"rejects{r}")
    store.append_rejects(pl.DataFrame({
        "kind": ["attendance"] * 3, "source_file": [f"w{writer}.csv"] * 3,
        "source_row": ["2", "3", "4"], "values": ["{}"] * 3, "error_code": ["bad-nip"] * 3,
        "message": ["bad"] * 3, "action": ["rejected"] * 3, "ingested_at": [None] * 3,
    }))
    results.append(["conflicts", store.conflicts, 0, 0])
print(json.dumps(results))
"""


@pytest.mark.parametrize("lock", ["lock", "nolock"])
def test_two_writers_at_once_keep_both_files_rows(tmp_path: Path, lock: str) -> None:
    rounds = 3
    procs = [
        run_python(WRITER, str(w), str(tmp_path), str(rounds), lock) for w in (0, 1)
    ]
    try:
        outputs = [p.communicate(timeout=240) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        steps = json.loads(out)
        conflicts = sum(s[1] for s in steps if s[0] == "conflicts")
        steps = [s for s in steps if s[0] != "conflicts"]
        print(f"writer conflicts retried: {conflicts}")
        assert [s[0] for s in steps] == ["create", "insert", "revise"] * rounds
        for step, inserted, replaced, unchanged in steps:
            expected = {"create": (2000, 0, 0), "insert": (2000, 0, 0), "revise": (0, 2000, 0)}
            assert (inserted, replaced, unchanged) == expected[step]
    expected = pl.concat(
        [rows(0, 2000, mode="WFH"), rows(1, 2000, mode="WFH"), rows(2, 2000), rows(3, 2000)]
    ).sort("nip", "ts")
    for r in range(rounds):
        store = Store(tmp_path / f"store{r}")
        got = store.scan("attendance").collect().sort("nip", "ts")
        assert got.select(ATTENDANCE.key).is_duplicated().sum() == 0
        assert got.equals(expected), f"round {r}: {got.height} rows"
        # every write was exactly one commit: 2 creates/inserts x 3 steps = 6 versions
        assert store.version("attendance") == 5
        assert store.scan("rejects").collect().height == 6


def test_four_ingests_of_one_kind_at_once_keep_every_row_and_every_rejects_file(
    tmp_path: Path,
) -> None:
    """Issue 17: 4 CLI ingests of attendance at once, each with its own rejected rows."""
    header = "nip,ts,kind,lat,lon,accuracy_m,device_id,mode\n"
    files: dict[str, tuple[int, int]] = {}  # path -> (valid rows, rejected rows)
    for w in range(4):
        f = tmp_path / f"writer{w}.csv"
        lines = []
        for i in range(3000):
            kind = "xx" if i % (5 + w) == 0 else "IN"  # each writer its own rejects
            lines.append(
                f"{198500000000000000 + w * 10_000 + i % 300},2025-12-{1 + i // 300:02d} "
                f"07:{i % 60:02d}:00,{kind},-6.9,107.6,5,d{w},WFO\n"
            )
        f.write_text(header + "".join(lines))
        bad = sum(1 for i in range(3000) if i % (5 + w) == 0)
        files[str(f)] = (3000 - bad, bad)
    store = tmp_path / "store"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "wfhaudit", "ingest", "attendance", f, "--store", str(store)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    try:
        outputs = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    s = Store(store)
    got = s.scan("attendance").collect()
    assert got.height == sum(v for v, _ in files.values())
    assert got.select(ATTENDANCE.key).is_duplicated().sum() == 0
    rejects = s.scan("rejects").collect()
    per_file = dict(rejects.group_by("source_file").len().iter_rows())
    assert per_file == {f: bad for f, (_, bad) in files.items()}
    csvs = sorted((store / "rejected-rows").glob("*.csv"))
    assert len(csvs) == 4, [c.name for c in csvs]
    seen = {}
    for csv in csvs:
        df = pl.read_csv(csv, infer_schema=False)
        (source,) = df.get_column("source_file").unique().to_list()  # one ingest per file
        seen[source] = df.height
        assert df.get_column("source_row").n_unique() == df.height  # whole, not mixed
    assert seen == per_file
    assert not list((store / ".pending").glob("*"))  # no journal left behind
