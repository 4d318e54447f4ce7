"""Generated ground truth == what ingest + audit find: every planted finding, nothing else."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from wfhaudit.cli import app
from wfhaudit.demo import snapshots
from wfhaudit.sample import generate_sample, generator
from wfhaudit.schema import ALL_RULES, KINDS

runner = CliRunner()


def _invoke(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, f"{args}: {result.output}"


def ingest_sample(data: Path, fmt: str, store: Path) -> None:
    """Ingest every file of a generated set the way an analyst would."""
    for kind in KINDS:
        if kind in ("clarifications", "feedback"):  # decisions and feedback: not planted here
            continue
        if fmt == "export" and kind == "roster":
            files = [str(p) for p in sorted((data / "roster").glob("*.xlsx"))]
            _invoke(["ingest", "roster", *files, "--store", str(store), "--quiet"])
        elif fmt == "export" and kind == "attendance":
            files = [str(p) for p in sorted(data.glob("attendance-kmob-*.csv"))]
            _invoke(
                [
                    "ingest",
                    "attendance",
                    *files,
                    "--profile",
                    "kmob",
                    "--store",
                    str(store),
                    "--quiet",
                ]
            )
        else:
            ext = "parquet" if fmt == "parquet" else "csv"
            _invoke(["ingest", kind, str(data / f"{kind}.{ext}"), "--store", str(store), "--quiet"])
        if kind == "employees":  # the export's later snapshot (the planted transfer)
            for path, day in snapshots(data):
                options = ["--valid-from", day, "--store", str(store), "--quiet"]
                _invoke(["ingest", kind, str(path), *options])


def read_truth(path: Path) -> tuple[set[tuple[str, str, str]], set[tuple[str, str, str]]]:
    truth = pl.read_csv(path, schema_overrides={"nip": pl.String, "date": pl.String}).with_columns(
        pl.col("nip").fill_null("")
    )
    employee = {
        (r["nip"], r["date"], r["rule"])
        for r in truth.filter(pl.col("nip") != "").iter_rows(named=True)
    }
    unit = {
        (r["unit_code"], r["date"], r["rule"])
        for r in truth.filter(pl.col("nip") == "").iter_rows(named=True)
    }
    return employee, unit


def found(results: Path) -> tuple[set[tuple[str, str, str]], set[tuple[str, str, str]]]:
    violations = pl.read_parquet(results / "violations.parquet")
    findings = pl.read_parquet(results / "unit_findings.parquet")
    employee = {
        (n, d.isoformat(), r) for n, d, r in violations.select("nip", "date", "rule").iter_rows()
    }
    unit = {
        (u, d.isoformat(), r)
        for u, d, r in findings.select("unit_code", "date", "rule").iter_rows()
    }
    assert violations.height == len(employee), "one violation row per (nip, date, rule)"
    return employee, unit


@pytest.mark.parametrize(
    ("fmt", "employees", "units", "seed", "block", "month"),
    [
        ("export", 60, 4, 7, None, "2025-12"),
        ("csv", 160, 7, 11, None, "2025-12"),
        ("parquet", 90, 5, 3, None, "2025-12"),
        ("export", 140, 3, 5, 17, "2025-12"),  # agencies written in several blocks of employees
        # Ramadan hours, holidays, every Thursday WFH with max_share 1.0 (no quota to exceed)
        ("csv", 120, 5, 9, None, "2026-03"),
        # beyond the 30 named agencies: numbered UPTD offices far out, some near a town
        # used for planted impossible travel
        ("parquet", 400, 48, 1, None, "2025-12"),
    ],
)
def test_audit_finds_exactly_the_ground_truth(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    employees: int,
    units: int,
    seed: int,
    block: int | None,
    month: str,
) -> None:
    if block is not None:
        monkeypatch.setattr(generator, "BLOCK", block)
    data = tmp_path / "data"
    info = generate_sample(data, employees=employees, units=units, month=month, seed=seed, fmt=fmt)
    store = tmp_path / "store"
    ingest_sample(data, fmt, store)
    out = tmp_path / "out"
    year, mon = map(int, month.split("-"))
    as_of = f"{year + mon // 12}-{mon % 12 + 1:02d}-01"
    _invoke(
        [
            "audit",
            month,
            "--store",
            str(store),
            "--as-of",
            as_of,
            "--out",
            str(out),
            "--quiet",
        ]
    )

    want_employee, want_unit = read_truth(data / "ground_truth.csv")
    got_employee, got_unit = found(out)
    assert sorted(got_employee - want_employee) == [], "reported but not planted"
    assert sorted(want_employee - got_employee) == [], (
        "planted but not reported", sorted(want_employee - got_employee))
    assert got_unit == want_unit
    # Every rule of rules.md is planted (no quota can be exceeded where max_share is 1.0).
    # (ATTENDANCE_DATA_MISSING / OUTPUT_DATA_MISSING: an agency missing from one day's
    # export, another's reports missing on one day)
    expected_rules = set(ALL_RULES) - ({"WFH_QUOTA_EXCEEDED"} if month == "2026-03" else set())
    assert set(info.truth) == expected_rules
    # The transfer (four agencies or more): its finding is under the NEW agency, the unit of
    # the employees row in force on the day.
    truth = pl.read_csv(data / "ground_truth.csv", schema_overrides={"nip": pl.String})
    moved = truth.filter(pl.col("scenario") == "transfer")
    moved = moved.select("nip", "date", "rule", "unit_code")
    assert moved.height == (1 if units >= 4 else 0)
    violations = pl.read_parquet(out / "violations.parquet").with_columns(
        pl.col("date").cast(pl.String)
    )
    assert moved.join(violations, on=["nip", "date", "rule"], suffix="_audit").select(
        "unit_code", "unit_code_audit"
    ).rows() == [(r, r) for r in moved["unit_code"]]
