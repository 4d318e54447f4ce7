"""``wfhaudit audit`` on the command line: exit codes and the words a user sees."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from test_audit_support import WORKED, store_from_dir
from test_partitioned_support import assert_same_results
from typer.testing import CliRunner

from wfhaudit.audit.summary import parse_fail_on
from wfhaudit.cli import app
from wfhaudit.errors import UsageError

PERIOD = "2025-12-02..2025-12-11"
runner = CliRunner()


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "store"
    store_from_dir(WORKED, path)
    return path


def _audit(store_dir: Path, out: Path, *extra: str):
    return runner.invoke(
        app,
        ["audit", PERIOD, "--store", str(store_dir), "--as-of", "2025-12-12",
         "--out", str(out), *extra],
    )


def test_summary_table(store_dir: Path, tmp_path: Path) -> None:
    result = _audit(store_dir, tmp_path / "out")
    assert result.exit_code == 0, result.output
    for words in ("employee-days audited", "88", "excused", "violations", "ABSENT",
                  "ATTENDANCE_DATA_MISSING", "WFH_QUOTA_EXCEEDED", "Results written to"):
        assert words in result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "audit.json", "employee_days.parquet", "employee_summary.parquet",
        "unit_findings.parquet", "violations.parquet",
        "waived_unit_findings.parquet", "waived_violations.parquet",
    ]
    assert pl.read_parquet(tmp_path / "out" / "violations.parquet").height == 9
    # the employee-days' kinds add up: the days without K-Mob data are shown too
    counts = json.loads((tmp_path / "out" / "audit.json").read_text())["counts"]
    assert counts["no_attendance_data"] > 0
    assert counts["excused"] + counts["duty"] + counts["no_attendance_data"] + counts[
        "required"] == counts["employee_days"]
    assert re.search(rf"no K-Mob data \(not checked\)\s*│\s*{counts['no_attendance_data']}\s",
                     result.output)


def test_days_left_out_are_named(store_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["audit", "2025-12", "--store", str(store_dir), "--as-of", "2025-12-12",
              "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 0, result.output
    assert "Days left out" in result.output
    assert "2025-12-12 .. 2025-12-31" in result.output


def test_json(store_dir: Path, tmp_path: Path) -> None:
    result = _audit(store_dir, tmp_path / "out", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["counts"]["violations"] == 9
    assert data["counts"]["unit_findings_by_rule"]["WFH_QUOTA_EXCEEDED"] == 2
    assert data["period"]["label"] == PERIOD


def test_quiet_prints_nothing(store_dir: Path, tmp_path: Path) -> None:
    result = _audit(store_dir, tmp_path / "out", "--quiet")
    assert result.exit_code == 0
    assert result.output == ""
    assert (tmp_path / "out" / "audit.json").exists()


def test_fail_on_crossed_exits_1_after_writing(store_dir: Path, tmp_path: Path) -> None:
    result = _audit(store_dir, tmp_path / "out", "--quiet", "--fail-on", "LATE=0",
                    "--fail-on", "any=1000")
    assert result.exit_code == 1
    assert "LATE: 1 > 0" in result.output
    assert "any" not in result.output.split("crossed:")[1]
    assert (tmp_path / "out" / "violations.parquet").exists()


def test_fail_on_not_crossed(store_dir: Path, tmp_path: Path) -> None:
    result = _audit(store_dir, tmp_path / "out", "--fail-on", "ABSENT=80",
                    "--fail-on", "wfh_not_allowed=0", "--fail-on", "any=169")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("value", "words"),
    [("ABSNT=0", "unknown rule 'ABSNT'"), ("ABSENT", "write RULE=N"),
     ("ABSENT=-1", "not a whole number"), ("any=x", "not a whole number")],
)
def test_bad_fail_on_exits_2(store_dir: Path, tmp_path: Path, value: str, words: str) -> None:
    result = _audit(store_dir, tmp_path / "out", "--fail-on", value)
    assert result.exit_code == 2
    assert words in result.output
    assert not (tmp_path / "out").exists()


def test_bad_period_exits_2(store_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", "2025-13", "--store", str(store_dir)])
    assert result.exit_code == 2
    assert "bad period" in result.output


def test_bad_as_of_exits_2(store_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", PERIOD, "--store", str(store_dir), "--as-of", "kemarin"])
    assert result.exit_code == 2
    assert "--as-of" in result.output


def test_missing_table_exits_3_with_one_line(tmp_path: Path) -> None:
    store_from_dir(WORKED, tmp_path / "store", kinds=("employees", "offices", "attendance"))
    result = runner.invoke(
        app, ["audit", PERIOD, "--store", str(tmp_path / "store"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 3
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "no outputs table" in lines[0]
    assert "Traceback" not in result.output


def test_roster_and_leave_may_be_absent(tmp_path: Path) -> None:
    store_from_dir(WORKED, tmp_path / "store",
                   kinds=("employees", "offices", "attendance", "outputs"))
    result = runner.invoke(
        app, ["audit", PERIOD, "--store", str(tmp_path / "store"), "--as-of", "2025-12-12",
              "--out", str(tmp_path / "o"), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["counts"]["excused"] == 0
    assert data["data_quality"]["units_without_roster"] == ["U1", "U2"]


def test_parse_fail_on_library() -> None:
    assert parse_fail_on(["absent=0", "ANY=5", " LATE = 3 "]) == {"ABSENT": 0, "any": 5,
                                                                   "LATE": 3}
    assert parse_fail_on(None) == {}
    with pytest.raises(UsageError):
        parse_fail_on(["=3"])


def test_unwritable_out_exits_3(store_dir: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = _audit(store_dir, blocker / "out")
    assert result.exit_code == 3
    assert "cannot write the audit results" in result.output
    assert "Traceback" not in result.output


def test_rerun_replaces_results_and_leaves_no_temporary_files(
    store_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert _audit(store_dir, out, "--quiet").exit_code == 0
    first = json.loads((out / "audit.json").read_text())
    result = runner.invoke(
        app, ["audit", PERIOD, "--store", str(store_dir), "--as-of", "2025-12-05",
              "--out", str(out), "--quiet"],
    )
    assert result.exit_code == 0
    second = json.loads((out / "audit.json").read_text())
    assert first["counts"]["violations"] == 9
    assert second["days_left_out"][0] == "2025-12-05"
    assert pl.read_parquet(out / "violations.parquet")["date"].max().isoformat() < "2025-12-05"
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    "extra",
    [
        ("--partition-days", "1"),
        ("--partition-days", "3"),
        pytest.param(
            ("--cluster", "local:2"),
            marks=pytest.mark.skipif(
                not __import__("wfhaudit.cluster").cluster.available(),
                reason="Dask distributed is not installed (pip install 'wfhaudit[cluster]')",
            ),
        ),
    ],
)
def test_partitioned_and_cluster_runs_give_the_same_files(
    store_dir: Path, tmp_path: Path, extra: tuple[str, ...]
) -> None:
    assert _audit(store_dir, tmp_path / "whole").exit_code == 0
    result = _audit(store_dir, tmp_path / "parts", *extra)
    assert result.exit_code == 0, result.output
    assert "ATTENDANCE_DATA_MISSING" in result.output  # the same summary
    assert_same_results(tmp_path / "whole", tmp_path / "parts")


@pytest.mark.parametrize("bad", ["local:0", "local", "spark://x:7077"])
def test_bad_cluster_address_is_a_usage_error(store_dir: Path, tmp_path: Path, bad: str) -> None:
    result = _audit(store_dir, tmp_path / "out", "--cluster", bad)
    assert result.exit_code == 2
    assert "local:N" in result.output and "Traceback" not in result.output


def test_every_missing_table_is_named_at_once(tmp_path: Path) -> None:
    store_from_dir(WORKED, tmp_path / "store", kinds=("employees",))
    result = runner.invoke(
        app, ["audit", PERIOD, "--store", str(tmp_path / "store"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 3
    assert "has no offices, attendance or outputs tables" in result.output
    assert "'wfhaudit ingest offices FILE'; 'wfhaudit ingest attendance FILE'" in result.output
    assert not (tmp_path / "o" / "audit.json").exists()


@pytest.mark.parametrize("bad", ["often", "-1", "1.5"])
def test_bad_partition_days_exits_2(store_dir: Path, tmp_path: Path, bad: str) -> None:
    result = _audit(store_dir, tmp_path / "out", "--partition-days", bad)
    assert result.exit_code == 2, result.output
    assert "bad --partition-days" in result.output and "auto" in result.output
    assert not (tmp_path / "out").exists()


def test_run_checks_the_unit_before_any_work(store_dir: Path, tmp_path: Path) -> None:
    """Issue 15: ``run --unit NOPE`` audited, wrote results, then failed with exit 3."""
    result = runner.invoke(
        app, ["run", PERIOD, "--store", str(store_dir), "--as-of", "2025-12-12",
              "--out", str(tmp_path / "out"), "--unit", "NOPE"],
    )
    assert result.exit_code == 2, result.output
    assert "unknown --unit 'NOPE'" in result.output and "U1, U2" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_run_accepts_the_unit_in_another_case(store_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["run", PERIOD, "--store", str(store_dir), "--as-of", "2025-12-12",
              "--out", str(tmp_path / "out"), "--unit", "u1", "--format", "json", "--quiet"],
    )
    assert result.exit_code == 0, result.output
    assert [p.name for p in (tmp_path / "out").glob("*.json") if p.name != "audit.json"] == [
        "wfhaudit-2025-12-02..2025-12-11-U1.json"
    ]


def test_blanked_cells_are_counted_apart_from_rejected_rows(tmp_path: Path) -> None:
    """audit.json: a bad optional cell (stored empty) is `blanked_by_code`, a refused row
    is `rejects_by_code` — a kept check-in is never reported as a rejected row."""
    store = tmp_path / "store"
    store_from_dir(WORKED, store, kinds=("employees", "offices", "outputs", "leave"))
    bad = tmp_path / "attendance.csv"
    rows = (WORKED / "attendance.csv").read_text().splitlines()
    header, first, *rest = rows
    cells = first.split(",")
    cells[5] = "lima"  # accuracy_m: not a number -> blanked, the check-in kept
    bad.write_text("\n".join([header, ",".join(cells), *rest, "1985,2025-12-02 07:00,IN,,,,,"]))
    ingested = runner.invoke(app, ["ingest", "attendance", str(bad), "--store", str(store), "-q"])
    assert ingested.exit_code == 0, ingested.output
    result = _audit(store, tmp_path / "out")
    assert result.exit_code == 0, result.output
    quality = json.loads((tmp_path / "out" / "audit.json").read_text())["data_quality"]
    assert quality["blanked_by_code"] == {"type-error": 1}
    assert quality["rejects_by_code"] == {"bad-nip": 1}


@pytest.mark.parametrize("extra", [(), ("--partition-days", "2")])
def test_paths_with_brackets_are_read_literally(
    store_dir: Path, tmp_path: Path, extra: tuple[str, ...]
) -> None:
    """A store or --out named like a glob pattern (`s[1]`) is read as written: before, every
    scan of it found no file, so the audit saw no attendance (or silently no leave)."""
    bracketed = tmp_path / "store[1]"
    store_from_dir(WORKED, bracketed)
    plain = _audit(store_dir, tmp_path / "plain", *extra)
    result = _audit(bracketed, tmp_path / "out[1]", *extra)
    assert plain.exit_code == 0 and result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "plain").glob("*.parquet"))
    assert files and files == sorted(p.name for p in (tmp_path / "out[1]").iterdir()
                                     if p.suffix == ".parquet")
    for name in files:
        assert pl.read_parquet(tmp_path / "plain" / name).equals(
            pl.read_parquet(tmp_path / "out[1]" / name, glob=False)
        ), name
    counts = [json.loads((d / "audit.json").read_text())["counts"]
              for d in (tmp_path / "plain", tmp_path / "out[1]")]
    assert counts[0] == counts[1] and counts[0]["by_rule"]["ABSENT"] == 1
    report = runner.invoke(
        app, ["report", PERIOD, "--results", str(tmp_path / "out[1]"), "--store", str(bracketed),
              "--format", "md", "-q"],
    )
    assert report.exit_code == 0, report.output
    assert (tmp_path / "out[1]" / f"wfhaudit-{PERIOD}.md").is_file()
