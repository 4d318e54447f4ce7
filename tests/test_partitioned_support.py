"""A small synthetic store for the partitioned-audit tests (no tests here).

Seeded and hand-shaped so that every rule fires and the hard cases cross
partition boundaries: duplicate report texts spread over weeks, the same
coordinates and phones shared across agencies on one day, leave spanning
several days, excused days carrying duplicate texts, attendance in the month
before the period (year-to-date), employees joining and leaving mid-period.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import polars as pl
from polars.testing import assert_frame_equal

from wfhaudit.audit.period import Period, range_period
from wfhaudit.schema import AUDIT_JSON, RESULT_FILES, TABLES
from wfhaudit.store import Store

FIRST_DAY = dt.date(2025, 11, 17)
LAST_DAY = dt.date(2025, 12, 12)
PERIOD: Period = range_period(dt.date(2025, 12, 1), LAST_DAY)
AS_OF = dt.date(2026, 1, 5)
OFFICES = {"O1": (-6.9022, 107.6186), "O2": (-6.9391, 107.6655), "O3": (-6.8869, 107.6137)}
TEXTS = [
    "Menyusun laporan anggaran",
    "Rapat koordinasi WFH",
    "Verifikasi berkas  kepegawaian",
    "menyusun LAPORAN anggaran ",
    "Input data SIMPEG",
    "ok",
    "",
]


def _frame(kind: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = TABLES[kind].schema
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema, orient="row")


def _at(day: dt.date, hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second)


def build_store(path: Path, employees: int = 36, seed: int = 7) -> Store:
    rng = random.Random(seed)
    units = ["U1", "U2", "U3", "U4"]
    staff: list[dict[str, Any]] = []
    for i in range(employees):
        unit = units[i % len(units)]
        office = ["O1", "O2", "O3", "O9"][i % 4] if i % 11 else "O9"
        home = None if i % 9 == 0 else (-6.92 + i * 0.001, 107.60 + i * 0.001)
        staff.append(
            {
                "nip": f"19850101201001{i:04d}",
                "name": f"Pegawai {i}",
                "unit_code": unit,
                "unit_name": f"Dinas {unit}",
                "office_id": office,
                "home_lat": home[0] if home else None,
                "home_lon": home[1] if home else None,
                "active_from": dt.date(2025, 12, 4) if i == 5 else None,
                "active_to": dt.date(2025, 12, 9) if i == 6 else None,
            }
        )
    offices = [
        {"office_id": k, "name": k, "lat": v[0], "lon": v[1],
         "radius_m": 150.0 if k == "O1" else None}
        for k, v in OFFICES.items()
    ]
    attendance: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    roster: list[dict[str, Any]] = []
    leave: list[dict[str, Any]] = []
    days = [FIRST_DAY + dt.timedelta(d) for d in range((LAST_DAY - FIRST_DAY).days + 1)]
    for n, person in enumerate(staff):
        nip = person["nip"]
        place = OFFICES.get(person["office_id"], (-6.95, 107.70))
        favourite = TEXTS[n % 5]
        if n % 5 == 1:
            start = dt.date(2025, 12, 2) + dt.timedelta(days=n % 7)
            leave.append({"nip": nip, "start": start, "end": start + dt.timedelta(days=3),
                          "kind": ["CUTI", "DINAS_LUAR", "SAKIT"][n % 3]})
        if n % 7 == 3:
            leave.append({"nip": nip, "start": dt.date(2025, 11, 28), "end": dt.date(2025, 12, 2),
                          "kind": "DINAS_LUAR"})
            leave.append({"nip": nip, "start": dt.date(2025, 12, 1), "end": dt.date(2025, 12, 1),
                          "kind": "IZIN"})
        for day in days:
            if day >= dt.date(2025, 12, 1) and rng.random() < 0.8:
                roster.append({"nip": nip, "date": day, "mode": rng.choice(["WFH", "WFO", "WFO"])})
            elif day < dt.date(2025, 12, 1) and rng.random() < 0.1:
                roster.append({"nip": nip, "date": day, "mode": "WFH"})
            if rng.random() < 0.1:
                continue  # absent, no report
            lat = place[0] + rng.uniform(-0.002, 0.002)
            lon = place[1] + rng.uniform(-0.002, 0.002)
            device = f"dev-{nip}"
            if day.day % 5 == 0 and n % 6 == 0:
                lat, lon = -6.9100, 107.6100  # same spot, several agencies
            if day.day % 4 == 0 and n in (2, 3, 17):
                device = "dev-shared"
            accuracy = rng.choice([None, 5.0, 30.0, 80.0])
            located = rng.random() > 0.05
            in_ts = _at(day, 7, rng.randint(0, 59), rng.randint(0, 59))
            if rng.random() < 0.9:
                attendance.append({"nip": nip, "ts": in_ts, "kind": "IN",
                                   "lat": lat if located else None,
                                   "lon": lon if located else None,
                                   "accuracy_m": accuracy, "device_id": device, "mode": "WFO"})
            if rng.random() < 0.85:
                out_ts = _at(day, 15 + rng.randint(0, 1), rng.randint(0, 59))
                far = rng.random() < 0.05
                attendance.append({"nip": nip, "ts": out_ts, "kind": "OUT",
                                   "lat": (lat + 0.2) if far else lat,
                                   "lon": lon, "accuracy_m": accuracy, "device_id": device,
                                   "mode": "WFO"})
                if far:  # a third event moments later back at the first place
                    attendance.append({"nip": nip, "ts": out_ts + dt.timedelta(minutes=5),
                                       "kind": "IN", "lat": lat, "lon": lon, "accuracy_m": None,
                                       "device_id": device, "mode": "WFO"})
            if rng.random() < 0.9:
                text = favourite if rng.random() < 0.6 else rng.choice(TEXTS)
                late_by = rng.choice([0, 0, 0, 1])
                submitted = _at(day + dt.timedelta(days=late_by), rng.randint(15, 23), 10)
                outputs.append({"nip": nip, "date": day, "submitted_at": submitted, "text": text})
                if rng.random() < 0.2:
                    outputs.append({"nip": nip, "date": day,
                                    "submitted_at": submitted + dt.timedelta(minutes=7),
                                    "text": rng.choice(TEXTS)})
    store = Store(path)
    store.write("employees", _frame("employees", staff))
    store.write("offices", _frame("offices", offices))
    store.write("attendance", _frame("attendance", attendance).unique(["nip", "ts", "kind"]))
    store.write("outputs", _frame("outputs", outputs).unique(["nip", "date", "submitted_at"]))
    store.write("roster", _frame("roster", roster).unique(["nip", "date"]))
    store.write("leave", _frame("leave", leave).unique(["nip", "start", "kind"]))
    return store


def comparable_meta(path: Path) -> dict[str, Any]:
    """``audit.json`` without what differs between any two runs (clock, execution details)."""
    meta = json.loads(path.read_text(encoding="utf-8"))
    for key in ("generated_at", "run_seconds", "execution"):
        meta.pop(key, None)
    return meta


def assert_same_results(expected: Path, actual: Path) -> None:
    """Two result directories hold the same files: every Parquet file equal row for row,
    ``audit.json`` equal apart from clock and execution fields, nothing else."""
    names = sorted(p.name for p in expected.iterdir())
    assert names == sorted([*RESULT_FILES, AUDIT_JSON]) or set(RESULT_FILES) <= set(names)
    assert sorted(p.name for p in actual.iterdir()) == names
    for name in names:
        if name.endswith(".parquet"):
            assert_frame_equal(
                pl.read_parquet(expected / name, glob=False),
                pl.read_parquet(actual / name, glob=False),
                check_exact=True,
            )
    assert comparable_meta(expected / AUDIT_JSON) == comparable_meta(actual / AUDIT_JSON)


def load_worked(directory: Path, path: Path) -> Store:
    """The worked example's canonical CSVs in a store."""
    store = Store(path)
    for kind, table in TABLES.items():
        file = directory / f"{kind}.csv"
        if not file.exists():
            continue
        raw = pl.read_csv(file, infer_schema=False)
        exprs = []
        for name, dtype in table.columns.items():
            if name not in raw.columns:
                exprs.append(pl.lit(None, dtype=dtype).alias(name))
            elif dtype == pl.Date:
                exprs.append(pl.col(name).str.to_date("%Y-%m-%d").alias(name))
            elif isinstance(dtype, pl.Datetime):
                exprs.append(pl.col(name).str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us"))
            else:
                exprs.append(pl.col(name).cast(dtype).alias(name))
        store.write(kind, raw.select(exprs))
    return store
