"""Fixture audit results for the report tests (no audit engine needed).

``make_results(dir)`` writes a small result directory with the columns of
cli.md / the audit brief, and hostile text: a name with ``<script>``, texts
starting with ``=``, ``+``, ``-``, ``@``, and a shared point equal to an
employee's home.  ``make_store(dir)`` writes the employees table (with home
coordinates) into a store.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl

from wfhaudit.schema import EMPLOYEES, RESULT_FILES, UNIT_FINDINGS_SCHEMA, VIOLATIONS_SCHEMA
from wfhaudit.store import Store

HOME_LAT = -6.987654
HOME_LON = 107.654321
SCRIPT_NAME = "<script>alert('x')</script> Budi"
FORMULA_TEXTS = ('=HYPERLINK("http://x")', "+62 811", "-1+2", "@SUM(A1)")

D = dt.date
EMPLOYEES_ROWS = [
    # nip, name, unit, unit_name, home_lat, home_lon
    ("198501012010011001", "Ahmad Suryana", "U1", "Dinas Satu", HOME_LAT, HOME_LON),
    ("198501012010011002", SCRIPT_NAME, "U1", "Dinas Satu", -6.911111, 107.611111),
    ("198501012010011003", FORMULA_TEXTS[0], "U2", "Badan Dua", -6.922222, 107.622222),
    ("198501012010011004", FORMULA_TEXTS[1], "U2", "Badan Dua", None, None),
]
DAYS = [D(2025, 12, 2), D(2025, 12, 3), D(2025, 12, 4)]

VIOLATIONS = [
    ("198501012010011001", D(2025, 12, 2), "U1", "LATE", 15, None, None),
    (
        "198501012010011001",
        D(2025, 12, 2),
        "U1",
        "SHARED_COORDINATES",
        None,
        None,
        f"{HOME_LAT},{HOME_LON} (3 employees)",
    ),
    ("198501012010011001", D(2025, 12, 3), "U1", "ABSENT", None, None, None),
    ("198501012010011001", D(2025, 12, 3), "U1", "NO_DAILY_OUTPUT", None, None, "none"),
    (
        "198501012010011002",
        D(2025, 12, 2),
        "U1",
        "SHARED_COORDINATES",
        None,
        None,
        f"{HOME_LAT},{HOME_LON} (3 employees)",
    ),
    ("198501012010011002", D(2025, 12, 4), "U1", "WRONG_LOCATION", None, 350.0, "WFH"),
    (
        "198501012010011003",
        D(2025, 12, 2),
        "U2",
        "SHARED_COORDINATES",
        None,
        None,
        f"{HOME_LAT},{HOME_LON} (3 employees)",
    ),
    ("198501012010011003", D(2025, 12, 3), "U2", "SHARED_DEVICE", None, None, FORMULA_TEXTS[2]),
    ("198501012010011004", D(2025, 12, 3), "U2", "SHARED_DEVICE", None, None, FORMULA_TEXTS[2]),
    ("198501012010011004", D(2025, 12, 4), "U2", "IMPOSSIBLE_TRAVEL", None, None, "inf"),
    ("198501012010011004", D(2025, 12, 4), "U2", "EARLY_LEAVE", None, None, FORMULA_TEXTS[3]),
]


def _employee_days() -> pl.DataFrame:
    viol = pl.DataFrame(VIOLATIONS, schema=VIOLATIONS_SCHEMA, orient="row")
    counts = {
        (r["nip"], r["date"]): r["n"]
        for r in viol.group_by("nip", "date").agg(pl.len().alias("n")).iter_rows(named=True)
    }
    rows = []
    for nip, _name, unit, _un, _lat, _lon in EMPLOYEES_ROWS:
        for day in DAYS:
            excused = nip.endswith("2") and day == DAYS[1]
            wfh = day == DAYS[2] or (unit == "U2" and day == DAYS[0])
            absent = (nip, day) in {("198501012010011001", DAYS[1])}
            rows.append(
                {
                    "nip": nip,
                    "date": day,
                    "unit_code": unit,
                    "office_id": "O1",
                    "status": "excused" if excused else "required",
                    "leave_kind": "CUTI" if excused else None,
                    "expected_mode": "WFH" if wfh else "WFO",
                    "start_min": 450,
                    "end_min": 960,
                    "first_in": None
                    if excused or absent
                    else dt.datetime.combine(day, dt.time(7, 30)),
                    "last_out": None
                    if excused or absent
                    else dt.datetime.combine(day, dt.time(16, 0)),
                    "events": 0 if excused or absent else 2,
                    "max_distance_m": None if excused or absent else 12.5,
                    "at_home": None
                    if excused or absent or not wfh
                    else nip != "198501012010011002",
                    "first_valid_report_at": None,
                    "violations": counts.get((nip, day), 0),
                }
            )
    return pl.DataFrame(rows)


def make_results(
    root: Path, label: str = "2025-12", start: str = "2025-12-01", end: str = "2025-12-31"
) -> Path:
    out = root / label
    out.mkdir(parents=True, exist_ok=True)
    viol = pl.DataFrame(VIOLATIONS, schema=VIOLATIONS_SCHEMA, orient="row")
    viol.sort("unit_code", "nip", "date", "rule").write_parquet(out / "violations.parquet")
    pl.DataFrame(
        [("U2", D(2025, 12, 2), "WFH_QUOTA_EXCEEDED", 2, 2, 1.0)],
        schema=UNIT_FINDINGS_SCHEMA,
        orient="row",
    ).write_parquet(out / "unit_findings.parquet")
    _employee_days().write_parquet(out / "employee_days.parquet")
    summary = pl.DataFrame(
        [
            (
                "198501012010011001",
                "Ahmad Suryana",
                "U1",
                3,
                0,
                0,
                2,
                1,
                15,
                0,
                1 + 15 / 450,
                3.2,
                "TEGURAN_LISAN",
            ),
            ("198501012010011002", SCRIPT_NAME, "U1", 3, 1, 0, 2, 0, 0, 0, 0.0, 0.0, None),
            ("198501012010011003", FORMULA_TEXTS[0], "U2", 3, 0, 0, 2, 0, 0, 0, 0.0, 0.0, None),
            (
                "198501012010011004",
                FORMULA_TEXTS[1],
                "U2",
                3,
                0,
                0,
                2,
                0,
                0,
                30,
                30 / 450,
                0.5,
                None,
            ),
        ],
        schema={
            "nip": pl.String,
            "name": pl.String,
            "unit_code": pl.String,
            "working_days": pl.Int64,
            "excused_days": pl.Int64,
            "duty_days": pl.Int64,
            "violation_days": pl.Int64,
            "absent_days": pl.Int64,
            "late_minutes": pl.Int64,
            "early_minutes": pl.Int64,
            "equivalent_days": pl.Float64,
            "ytd_equivalent_days": pl.Float64,
            "ytd_tier": pl.String,
        },
        orient="row",
    )
    summary.write_parquet(out / "employee_summary.parquet")
    audit = {
        "tool_version": "0.1.0",
        "period": {"label": label, "start": start, "end": end},
        "as_of": "2025-12-05",
        "days_left_out": 18,
        "policy": {
            "minutes_per_day": 450,
            "wfh": [
                {
                    "name": "Uji coba WFH Kamis",
                    "from": "2025-11-01",
                    "to": "2025-11-30",
                    "max_share": 1.0,
                },
                {"name": "WFH 50:50", "from": "2025-12-02", "to": "2025-12-31", "max_share": 0.5},
            ],
        },
        "policy_sources": ["default"],
        "wfh_periods_in_force": ["WFH 50:50"],
        "store": {"path": "store", "versions": {"employees": 0, "attendance": 3}},
        "counts": {"violations": viol.height},
        "data_quality": {
            "rejects_by_code": {"bad-nip": 2, "type-error": 1},
            "attendance_unknown_nip": 4,
            "roster_unknown_nip": 0,
            "outputs_unknown_nip": 1,
            "employees_without_home": 1,
            "employees_unknown_office": 0,
            "units_without_roster": ["U9"],
        },
        "generated_at": "2025-12-05T08:00:00+07:00",
        "run_seconds": 0.5,
    }
    (out / "audit.json").write_text(json.dumps(audit), "utf-8")
    # every other result file the audit writes (e.g. the waived findings): present, empty
    for name, (schema, _) in RESULT_FILES.items():
        if not (out / name).is_file():
            pl.DataFrame(schema=schema).write_parquet(out / name)
    return out


def make_store(path: Path) -> Path:
    rows = [
        {
            "nip": n,
            "name": m,
            "unit_code": u,
            "unit_name": un,
            "office_id": "O1",
            "home_lat": la,
            "home_lon": lo,
            "active_from": None,
            "active_to": None,
        }
        for n, m, u, un, la, lo in EMPLOYEES_ROWS
    ]
    Store(path).write("employees", pl.DataFrame(rows, schema=EMPLOYEES.schema))
    return path


def home_coordinate_strings(lats: list[float], lons: list[float]) -> set[str]:
    """Every way a home coordinate could be printed: as stored, and to 4-6 decimals, both styles."""
    out: set[str] = set()
    for value in [*lats, *lons]:
        if value is None:
            continue
        for text in (repr(value), f"{value:.6f}", f"{value:.5f}", f"{value:.4f}"):
            out.add(text)
            out.add(text.replace(".", ","))
    return out
