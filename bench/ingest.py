"""Benchmark: ingest a K-Mob attendance export vs a bare read_csv + write_parquet.

    .venv/bin/python bench/ingest.py              # 5 million rows
    .venv/bin/python bench/ingest.py --rows 200000
    .venv/bin/python bench/ingest.py --repeat 3    # best of 3, on a busy machine
    .venv/bin/python bench/ingest.py --bad-cells 20  # with 20 bad or odd cells

Generates ``bench/out/kmob-<rows>.csv`` (kmob profile: semicolon separated,
decimal comma, dd/mm/yyyy + HH:MM:SS) once, then runs each contender in its own
subprocess and prints rows/s and peak memory (peak.py's peak_mb, the child's own).
Target: ingest at least half the raw speed, peak memory under 3 GB.
``--bad-cells N`` measures a file like a real export instead: N cells spread
over the file are rejected or need a second parse (``kmob-<rows>-bad<N>.csv``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
from peak import bench_env  # bench/peak.py (this script's directory is on sys.path)

from wfhaudit.sample.generator import KMOB_HEADERS

OUT = Path(__file__).resolve().parent / "out"
EVENTS_PER_EMPLOYEE = 44  # 22 work days, IN and OUT


def generate(path: Path, rows: int, seed: int = 1) -> None:
    """A kmob-profile attendance CSV with ``rows`` rows (unique keys, a few (0,0) fixes)."""
    i = pl.int_range(0, rows, dtype=pl.Int64, eager=True)
    employee = i // EVENTS_PER_EMPLOYEE
    day = (i % EVENTS_PER_EMPLOYEE) // 2
    is_out = (i % 2) == 1
    df = pl.DataFrame({"i": i, "employee": employee, "day": day, "is_out": is_out})
    rnd = pl.int_range(0, rows, eager=True).shuffle(seed=seed)
    df = df.with_columns(
        (pl.lit(198001012005011000, pl.Int64) + pl.col("employee")).cast(pl.String).alias("NIP"),
        pl.format("Pegawai {}", pl.col("employee")).alias("Nama"),
        (pl.date(2025, 12, 1) + pl.duration(days=pl.col("day")))
        .dt.strftime("%d/%m/%Y")
        .alias("Tanggal"),
        (
            pl.datetime(2025, 1, 1)
            + pl.duration(
                hours=pl.when(pl.col("is_out")).then(16).otherwise(7),
                seconds=rnd.alias("r") % 3600,
            )
        )
        .dt.strftime("%H:%M:%S")
        .alias("Jam"),
        pl.when(pl.col("is_out")).then(pl.lit("Pulang")).otherwise(pl.lit("Masuk")).alias("Jenis"),
        pl.lit(rnd).alias("rnd"),
    )
    zero = (pl.col("rnd") % 500) == 0
    lat = -6.9 + (pl.col("rnd") % 10000) / 100000.0
    lon = 107.6 + (pl.col("rnd") % 7919) / 100000.0
    df = df.with_columns(
        pl.when(zero)
        .then(0.0)
        .otherwise(lat)
        .round(6)
        .cast(pl.String)
        .str.replace(".", ",", literal=True)
        .alias("Latitude"),
        pl.when(zero)
        .then(0.0)
        .otherwise(lon)
        .round(6)
        .cast(pl.String)
        .str.replace(".", ",", literal=True)
        .alias("Longitude"),
        ((pl.col("rnd") % 300) / 10.0)
        .round(1)
        .cast(pl.String)
        .str.replace(".", ",", literal=True)
        .alias("Akurasi"),
        pl.format("dev-{}", pl.col("employee")).alias("ID Perangkat"),
        pl.when(pl.col("day") % 2 == 0).then(pl.lit("WFO")).otherwise(pl.lit("WFH")).alias("Mode"),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    df.select(KMOB_HEADERS).write_csv(path, separator=";")


_RAW = """
import json, resource, sys, time
from peak import peak_mb
import polars as pl
u0 = resource.getrusage(resource.RUSAGE_SELF)
cpu0 = u0.ru_utime + u0.ru_stime
t = time.perf_counter()
df = pl.read_csv(sys.argv[1], separator=";", infer_schema=False)
df.write_parquet(sys.argv[2])
u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - t, "rows": df.height,
                  "cpu": u.ru_utime + u.ru_stime - cpu0, "maxrss_kb": peak_mb() * 1024}))
"""

_INGEST = """
import json, resource, sys, time
from peak import peak_mb
from pathlib import Path
from wfhaudit.ingest import ingest_files
from wfhaudit.store import Store
steps = []
Store  # imports done before timing
u0 = resource.getrusage(resource.RUSAGE_SELF)
cpu0 = u0.ru_utime + u0.ru_stime
t = time.perf_counter()
s = ingest_files(Store(sys.argv[2]), "attendance", [Path(sys.argv[1])], profile="kmob",
                 on_step=lambda m: steps.append((m, time.perf_counter() - t)))
u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - t, "rows": s.read, "stored": s.stored,
                  "rejected": s.rejected, "zero_coordinates": s.zero_coordinates,
                  "steps": steps, "cpu": u.ru_utime + u.ru_stime - cpu0,
                  "maxrss_kb": peak_mb() * 1024}))
"""


#: (column, cell) written into the --bad-cells rows, in turn: rejected or re-parsed
BAD_CELLS = (
    ("NIP", "19800101200501100"),  # bad-nip
    ("Tanggal", "2025-12-01"),  # the profile's second date format: re-parsed, stored
    ("Jam", "7:03"),  # the second time format: re-parsed, stored
    ("Jenis", "MASUK "),  # odd spelling: re-parsed, stored
    ("Latitude", "abc"),  # type-error
    ("Longitude", " 107,6 "),  # padded: re-parsed, stored
    ("Akurasi", "x"),  # type-error
    ("Mode", "wfo"),  # odd case: re-parsed, stored
)


def add_bad_cells(clean: Path, path: Path, n: int) -> None:
    """``clean`` with ``n`` cells replaced (``BAD_CELLS`` in turn), evenly spread."""
    df = pl.read_csv(clean, separator=";", infer_schema=False)
    step = max(df.height // n, 1)
    i = pl.int_range(pl.len())
    hit = (i % step == step // 2) & (i // step < n)
    turn = (i // step) % len(BAD_CELLS)
    df = df.with_columns(
        pl.when(hit & (turn == k)).then(pl.lit(cell)).otherwise(pl.col(col)).alias(col)
        for k, (col, cell) in enumerate(BAD_CELLS)
    )
    df.write_csv(path, separator=";")


def _child(code: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True,
        env=bench_env(),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best counts")
    parser.add_argument(
        "--bad-cells", type=int, default=0, help="cells to spoil (rejects, re-parses)"
    )
    args = parser.parse_args()
    csv = OUT / f"kmob-{args.rows}.csv"
    if not csv.exists():
        t = time.perf_counter()
        generate(csv, args.rows)
        print(
            f"generated {csv} ({csv.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - t:.1f} s"
        )
    if args.bad_cells:
        clean, csv = csv, OUT / f"kmob-{args.rows}-bad{args.bad_cells}.csv"
        if not csv.exists():
            add_bad_cells(clean, csv, args.bad_cells)
            print(f"wrote {csv} ({args.bad_cells} bad or odd cells)")
    store = OUT / f"store-{args.rows}"
    raw: dict | None = None
    ing: dict | None = None
    for _ in range(args.repeat):  # interleaved; the best run of each counts (shared machine)
        r = _child(_RAW, str(csv), str(OUT / f"raw-{args.rows}.parquet"))
        shutil.rmtree(store, ignore_errors=True)
        i = _child(_INGEST, str(csv), str(store))
        raw = r if raw is None or r["seconds"] < raw["seconds"] else raw
        ing = i if ing is None or i["seconds"] < ing["seconds"] else ing
        raw["maxrss_kb"] = max(raw["maxrss_kb"], r["maxrss_kb"])
        ing["maxrss_kb"] = max(ing["maxrss_kb"], i["maxrss_kb"])
    assert raw is not None and ing is not None
    rr = raw["rows"] / raw["seconds"]
    ir = ing["rows"] / ing["seconds"]
    print(f"rows: {args.rows:,} (best of {args.repeat}; peak memory = highest of the runs)")
    print(
        f"raw read_csv + write_parquet: {raw['seconds']:6.2f} s  {rr:12,.0f} rows/s  "
        f"peak {raw['maxrss_kb'] / 1024:7.0f} MB"
    )
    print(
        f"ingest_files (kmob):          {ing['seconds']:6.2f} s  {ir:12,.0f} rows/s  "
        f"peak {ing['maxrss_kb'] / 1024:7.0f} MB"
    )
    print(f"ingest / raw speed: {ir / rr:.2f} (target >= 0.5); peak memory target < 3072 MB")
    print(
        f"CPU seconds (robust on a shared machine): raw {raw['cpu']:.2f}, ingest "
        f"{ing['cpu']:.2f}, ratio raw/ingest {raw['cpu'] / ing['cpu']:.2f}"
    )
    print(
        f"stored {ing['stored']:,}, rejected {ing['rejected']:,}, "
        f"zero coordinates {ing['zero_coordinates']:,}"
    )
    for message, at in ing["steps"]:
        print(f"  {at:6.2f} s  {message}")


if __name__ == "__main__":
    main()
