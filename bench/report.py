"""Time the report model and each format on a large synthetic audit result.

    .venv/bin/python bench/report.py [EMPLOYEES] [VIOLATION_SHARE]

Writes a result directory (EMPLOYEES x 22 working days of employee_days, a share of them
with violations) under a temporary directory and prints seconds per step.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from wfhaudit.report.i18n import catalogue
from wfhaudit.report.model import build_report
from wfhaudit.report.render import render_html, render_json, render_markdown, render_xlsx
from wfhaudit.schema import EMPLOYEE_DAY_RULES, UNIT_FINDINGS_SCHEMA, VIOLATIONS_SCHEMA


def make(root: Path, employees: int, share: float) -> Path:
    rng = np.random.default_rng(1)
    days = [dt.date(2025, 12, 1) + dt.timedelta(days=i) for i in range(31)]
    days = [d for d in days if d.weekday() < 5 and d not in (dt.date(2025, 12, 25),
                                                              dt.date(2025, 12, 26))]
    nips = [f"19900101201501{i:04d}"[:14] + f"{i:04d}" for i in range(employees)]
    units = [f"U{i % 40:02d}" for i in range(employees)]
    n = employees * len(days)
    ed = pl.DataFrame({
        "nip": np.repeat(nips, len(days)),
        "date": days * employees,
        "unit_code": np.repeat(units, len(days)),
        "status": rng.choice(["required", "excused", "duty"], n, p=[0.96, 0.03, 0.01]),
        "expected_mode": rng.choice(["WFH", "WFO"], n),
        "events": rng.integers(0, 3, n),
        "at_home": rng.choice([True, False], n),
        "violations": (rng.random(n) < share).astype(np.int64),
    })
    bad = ed.filter(pl.col("violations") > 0)
    viol = pl.DataFrame({
        "nip": bad["nip"], "date": bad["date"], "unit_code": bad["unit_code"],
        "rule": rng.choice(list(EMPLOYEE_DAY_RULES), bad.height),
        "minutes": rng.integers(1, 200, bad.height), "distance_m": None, "detail": None,
    }, schema=VIOLATIONS_SCHEMA)
    out = root / "2025-12"
    out.mkdir(parents=True)
    ed.write_parquet(out / "employee_days.parquet")
    viol.write_parquet(out / "violations.parquet")
    pl.DataFrame(schema=UNIT_FINDINGS_SCHEMA).write_parquet(out / "unit_findings.parquet")
    summ = viol.group_by("nip", "unit_code").agg(
        (pl.col("rule") == "ABSENT").sum().cast(pl.Int64).alias("absent_days"),
        pl.col("minutes").filter(pl.col("rule") == "LATE").sum().alias("late_minutes"),
        pl.col("minutes").filter(pl.col("rule") == "EARLY_LEAVE").sum().alias("early_minutes"),
    ).with_columns(
        pl.col("nip").alias("name"),
        ((pl.col("absent_days") + (pl.col("late_minutes") + pl.col("early_minutes")) / 450)
         .alias("equivalent_days")),
        pl.lit(None, pl.String).alias("ytd_tier"),
    )
    summ.write_parquet(out / "employee_summary.parquet")
    (out / "audit.json").write_text(json.dumps({
        "period": {"label": "2025-12", "start": "2025-12-01", "end": "2025-12-31"},
        "policy": {"wfh": [{"name": "WFH 50:50", "from": "2025-12-02", "to": "2025-12-31",
                            "max_share": 0.5}]},
        "wfh_periods_in_force": ["WFH 50:50"], "data_quality": {},
    }))
    return out


def main() -> None:
    employees = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    share = float(sys.argv[2]) if len(sys.argv) > 2 else 0.05
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        results = make(Path(tmp), employees, share)
        v = pl.read_parquet(results / "violations.parquet").height
        print(f"{employees:,} employees, {v:,} violation rows: made in "
              f"{time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        model = build_report(results)
        print(f"model     {time.perf_counter() - t:6.1f} s")
        cat = catalogue("id")
        for name, fn in (("html", render_html), ("md", render_markdown), ("json", render_json)):
            t = time.perf_counter()
            text = fn(model, cat)
            print(f"{name:9} {time.perf_counter() - t:6.1f} s  {len(text) / 1e6:6.1f} MB")
        t = time.perf_counter()
        render_xlsx(model, cat, Path(tmp) / "r.xlsx")
        size = (Path(tmp) / "r.xlsx").stat().st_size / 1e6
        print(f"xlsx      {time.perf_counter() - t:6.1f} s  {size:6.1f} MB")


if __name__ == "__main__":
    main()
