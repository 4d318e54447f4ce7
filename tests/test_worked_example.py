"""The worked example of rules.md, audited end to end: exactly the expected rows.

``tests/data/worked/`` is a copy of the spec's ``examples/worked/`` (v2): the
violations, the agency findings (U2 has no check-in and no report at all: missing
data, not absence) and the summary columns of ``expected_summary.csv``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from test_audit_support import WORKED, store_from_dir, worked_period

from wfhaudit.audit.run import run_audit
from wfhaudit.policy import load_policy
from wfhaudit.schema import UNIT_FINDINGS_SCHEMA, VIOLATIONS_SCHEMA


@pytest.fixture(scope="module")
def result_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("worked")
    store = store_from_dir(WORKED, root / "store")
    out = root / "out"
    run_audit(store, worked_period(), load_policy(), as_of=dt.date(2025, 12, 12), out_dir=out)
    return out


def _expected(name: str, schema: pl.Schema) -> pl.DataFrame:
    return pl.read_csv(WORKED / name, schema=schema)


def test_violations_are_exactly_the_expected_rows(result_dir: Path) -> None:
    got = pl.read_parquet(result_dir / "violations.parquet")
    want = _expected("expected_violations.csv", VIOLATIONS_SCHEMA)
    assert got.schema == VIOLATIONS_SCHEMA
    assert got.height == want.height == 9
    assert got.to_dicts() == want.to_dicts()


def test_unit_findings_are_exactly_the_expected_rows(result_dir: Path) -> None:
    got = pl.read_parquet(result_dir / "unit_findings.parquet")
    want = _expected("expected_unit_findings.csv", UNIT_FINDINGS_SCHEMA)
    assert got.schema == UNIT_FINDINGS_SCHEMA
    got = got.with_columns(pl.col("share").round(6))
    assert got.height == want.height == 18
    assert got.to_dicts() == want.to_dicts()


def test_summary_is_exactly_the_expected_rows(result_dir: Path) -> None:
    want = pl.read_csv(WORKED / "expected_summary.csv", schema_overrides={"nip": pl.String})
    got = (
        pl.read_parquet(result_dir / "employee_summary.parquet")
        .select(want.columns)
        .with_columns(pl.col("equivalent_days").round(6))
        .sort("nip")
    )
    assert got.to_dicts() == want.to_dicts()


def test_u2_days_are_missing_data_not_absence(result_dir: Path) -> None:
    days = pl.read_parquet(result_dir / "employee_days.parquet")
    u2 = days.filter(pl.col("unit_code") == "U2")
    # 10 x 8 employee-days, one of them on CUTI: 79 without attendance data
    assert u2["status"].value_counts(sort=True).rows() == [
        ("no_attendance_data", 79), ("excused", 1)
    ]
    assert set(u2["output_data"].drop_nulls()) == {"missing"}
    a = days.filter(pl.col("unit_code") == "U1")
    assert set(a["output_data"].drop_nulls()) == {"present"}
    assert a.filter(pl.col("date") == dt.date(2025, 12, 4))[
        "planned_mode", "expected_mode", "home_accepted"
    ].row(0) == ("WFH", "WFH", False)


def test_every_violation_traces_to_an_employee_day(result_dir: Path) -> None:
    days = pl.read_parquet(result_dir / "employee_days.parquet")
    violations = pl.read_parquet(result_dir / "violations.parquet")
    assert violations.join(days, on=["nip", "date"], how="anti").height == 0
    per_day = violations.group_by("nip", "date").len()
    joined = days.join(per_day, on=["nip", "date"], how="left").with_columns(
        pl.col("len").fill_null(0)
    )
    assert (joined["violations"] == joined["len"]).all()
    # 11 employees x 8 working days (2025-12-02..11); CUTI twice, DINAS_LUAR once
    assert days.height == 88
    assert days.filter(pl.col("status") == "excused").height == 2
    assert days.filter(pl.col("status") == "duty")["leave_kind"].to_list() == ["DINAS_LUAR"]


def test_audit_json_names_period_counts_and_versions(result_dir: Path) -> None:
    meta = json.loads((result_dir / "audit.json").read_text())
    assert meta["period"] == {"label": "2025-12-02..2025-12-11", "start": "2025-12-02",
                              "end": "2025-12-11"}
    assert meta["as_of"] == "2025-12-12"
    assert meta["days_left_out"] == []
    assert meta["counts"]["violations"] == 9
    assert meta["counts"]["by_rule"]["ABSENT"] == 1
    assert meta["counts"]["no_attendance_data"] == 79
    assert meta["counts"]["unit_findings_by_rule"] == {
        "WFH_QUOTA_EXCEEDED": 2, "WFH_NOT_ALLOWED": 0, "ATTENDANCE_DATA_MISSING": 8,
        "OUTPUT_DATA_MISSING": 8,
    }
    assert "OFFICE_UNKNOWN" not in meta["counts"]["by_rule"]
    assert meta["wfh_periods_in_force"] == ["WFH 50:50"]
    assert meta["store"]["versions"]["attendance"] == 0
    assert meta["policy"]["output"]["min_chars"] == 10


def test_employee_summary_of_a(result_dir: Path) -> None:
    summary = pl.read_parquet(result_dir / "employee_summary.parquet")
    a = summary.filter(pl.col("nip") == "198501012010011001").to_dicts()[0]
    assert a["working_days"] == 8
    assert a["excused_days"] == 1
    assert a["duty_days"] == 1
    assert a["violation_days"] == 5  # 12-03, 12-04, 12-05, 12-10, 12-11
    assert a["no_attendance_data_days"] == 0
    assert (a["absent_days"], a["late_minutes"], a["early_minutes"]) == (1, 15, 29)
    assert a["equivalent_days"] == pytest.approx(1 + 44 / 450)
    assert a["ytd_equivalent_days"] == pytest.approx(1 + 44 / 450)
    assert a["ytd_tier"] is None


def test_result_file_schemas(result_dir: Path) -> None:
    from wfhaudit.audit.run import EMPLOYEE_DAY_COLUMNS, EMPLOYEE_SUMMARY_COLUMNS

    days = pl.read_parquet(result_dir / "employee_days.parquet")
    assert days.schema == pl.Schema(EMPLOYEE_DAY_COLUMNS)
    assert list(days.columns[:10]) == [
        "nip", "date", "unit_code", "office_id", "status", "output_data", "leave_kind",
        "planned_mode", "expected_mode", "home_accepted",
    ]
    summary = pl.read_parquet(result_dir / "employee_summary.parquet")
    assert summary.schema == pl.Schema(EMPLOYEE_SUMMARY_COLUMNS)
    assert summary.height == 11
    # evidence sorted by unit, nip, date
    assert days.select("unit_code", "nip", "date").equals(
        days.select("unit_code", "nip", "date").sort("unit_code", "nip", "date")
    )
