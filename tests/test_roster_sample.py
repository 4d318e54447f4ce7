"""The roster check and export agree with the audit on the sample data's month."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from wfhaudit.audit.period import parse_period
from wfhaudit.audit.run import run_audit
from wfhaudit.cli import app
from wfhaudit.ingest import ingest_files
from wfhaudit.policy import load_policy
from wfhaudit.roster import check_roster, export_roster
from wfhaudit.roster.plan import PLAN_RULES
from wfhaudit.sample import generate_sample
from wfhaudit.store import Store

runner = CliRunner()
MONTH = "2025-12"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("roster-sample")
    data = root / "data"
    generate_sample(data, employees=300, units=12, month=MONTH, seed=2025, fmt="export")
    store = Store(root / "store")
    ingest_files(store, "employees", [data / "employees.csv"])
    ingest_files(store, "offices", [data / "offices.csv"])
    ingest_files(store, "roster", sorted((data / "roster").glob("*.xlsx")))
    ingest_files(store, "leave", [data / "leave.csv"])
    ingest_files(store, "outputs", [data / "outputs.csv"])
    ingest_files(store, "attendance", [data / f"attendance-kmob-{MONTH}.csv"], profile="kmob")
    run_audit(
        store, parse_period(MONTH), load_policy(), as_of=dt.date(2026, 1, 1),
        out_dir=root / "audit",
    )
    return {"data": data, "store": root / "store", "audit": root / "audit", "root": root}


def _audit_plan_days(sample: dict[str, Path]) -> set[tuple[str, dt.date, str]]:
    findings = pl.read_parquet(sample["audit"] / "unit_findings.parquet")
    return set(
        findings.filter(pl.col("rule").is_in(list(PLAN_RULES)))
        .select("unit_code", "date", "rule")
        .iter_rows()
    )


def _check_plan_days(result) -> set[tuple[str, dt.date, str]]:
    return set(
        result.problems.filter(pl.col("problem").is_in(list(PLAN_RULES)))
        .select("unit_code", "date", "problem")
        .iter_rows()
    )


def test_the_stored_roster_check_finds_exactly_the_audits_plan_breaches(sample) -> None:
    audit = _audit_plan_days(sample)
    assert {rule for _, _, rule in audit} == set(PLAN_RULES)  # the sample plants both
    result = check_roster(Store(sample["store"]), MONTH, load_policy())
    assert _check_plan_days(result) == audit
    # same headcount and count on each over-cap day as the audit's finding
    findings = pl.read_parquet(sample["audit"] / "unit_findings.parquet").filter(
        pl.col("rule") == "WFH_QUOTA_EXCEEDED"
    )
    ours = result.problems.filter(pl.col("problem") == "WFH_QUOTA_EXCEEDED")
    assert sorted(ours.select("unit_code", "date", "count", "headcount").rows()) == sorted(
        findings.select("unit_code", "date", "count", "headcount").rows()
    )
    assert result.suggestion.verified
    # 1 December 2025 is before the 50:50 period: WFH planned there is not allowed
    not_allowed = result.problems.filter(pl.col("problem") == "WFH_NOT_ALLOWED")
    assert set(not_allowed["date"]) == {dt.date(2025, 12, 1)}
    assert set(not_allowed["detail"]) == {"no_wfh_period"}
    moves = result.suggestion.moves
    assert moves.filter(pl.col("reason") == "WFH_NOT_ALLOWED").height == not_allowed[
        "count"
    ].sum()


def test_the_agencies_grid_files_check_the_same(sample) -> None:
    files = sorted((sample["data"] / "roster").glob("*.xlsx"))
    result = check_roster(Store(sample["store"]), MONTH, load_policy(), files=files)
    assert result.file_units == {str(f): f.stem for f in files}
    assert _check_plan_days(result) == _audit_plan_days(sample)
    # one agency's file: only that agency's breaches
    one = [f for f in files if f.stem == "BKD"]
    bkd = check_roster(Store(sample["store"]), MONTH, load_policy(), files=one)
    assert bkd.units == ["BKD"]
    assert _check_plan_days(bkd) == {d for d in _audit_plan_days(sample) if d[0] == "BKD"}


def test_the_export_has_the_audits_planned_mode_on_every_employee_day(sample) -> None:
    exported = export_roster(Store(sample["store"]), MONTH, load_policy())
    evidence = pl.read_parquet(sample["audit"] / "employee_days.parquet")
    ours = exported.select("nip", "date", "planned_mode").sort("nip", "date")
    theirs = evidence.select("nip", "date", "planned_mode").sort("nip", "date")
    assert ours.height == theirs.height > 0
    assert ours.equals(theirs)
    assert exported.get_column("source").unique().to_list() == ["roster"]
    assert exported.select("unit_code", "nip", "date").equals(
        exported.select("unit_code", "nip", "date").sort("unit_code", "nip", "date")
    )


def test_the_export_command_writes_csv_and_xlsx(sample) -> None:
    out = sample["root"] / "export"
    done = runner.invoke(
        app, ["roster", "export", "--month", MONTH, "--store", str(sample["store"]),
              "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    csv = pl.read_csv(out / f"roster-{MONTH}.csv", schema_overrides={"nip": pl.String})
    assert csv.columns == ["unit_code", "nip", "name", "date", "planned_mode", "source"]
    assert csv.height == export_roster(Store(sample["store"]), MONTH, load_policy()).height
    done = runner.invoke(
        app, ["roster", "export", "--month", MONTH, "--store", str(sample["store"]),
              "--out", str(out), "--format", "xlsx", "--unit", "BKD"]
    )
    assert done.exit_code == 0, done.output
    sheet = pl.read_excel(out / f"roster-{MONTH}-BKD.xlsx")
    assert sheet.get_column("unit_code").unique().to_list() == ["BKD"]
    bad = runner.invoke(
        app, ["roster", "export", "--month", MONTH, "--store", str(sample["store"]),
              "--format", "pdf"]
    )
    assert bad.exit_code == 2 and "csv or --format xlsx" in bad.output


def test_defaults_fill_the_export_where_the_roster_has_no_entry(tmp_path: Path) -> None:
    from test_audit_support import employee, make_store

    store = make_store(tmp_path / "s", employees=[employee("198001012005011001", "U1")])
    exported = export_roster(store, "2026-01", load_policy())
    thursdays = exported.filter(pl.col("date").dt.weekday() == 4)
    assert thursdays.height == 4  # 8, 15, 22, 29 January 2026 (1 January is a holiday)
    assert set(thursdays["planned_mode"]) == {"WFH"}
    assert set(exported.filter(pl.col("date").dt.weekday() != 4)["planned_mode"]) == {"WFO"}
    assert set(exported["source"]) == {"default"}


def test_the_command_on_every_grid_writes_one_file_per_agency_and_the_summary(sample) -> None:
    files = sorted((sample["data"] / "roster").glob("*.xlsx"))
    out = sample["root"] / "feedback"
    done = runner.invoke(
        app, ["roster", "check", *map(str, files), "--month", MONTH, "--store",
              str(sample["store"]), "--out", str(out), "--format", "md"]
    )
    assert done.exit_code == 1
    assert "breaks the WFH policy on 4 agency-day(s)" in done.output
    assert "BKD" in done.output and "OK" in done.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"roster-check-{MONTH}.md"] + [f"roster-check-{MONTH}-{f.stem}.md" for f in files]
    )
    summary = (out / f"roster-check-{MONTH}.md").read_text()
    assert "Pemeriksaan Jadwal WFH Desember 2025" in summary
    assert "Hari yang melebihi batas WFH" in summary
