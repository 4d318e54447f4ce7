"""``wfhaudit report`` and ``wfhaudit run`` on a real audit of the worked example.

The store is filled by ``wfhaudit ingest`` from ``tests/data/worked`` (or from
the committed ``sample_data/`` canonical tables when they are there), audited
by ``wfhaudit run``, and every report format is parsed back and compared with
``violations.parquet``.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from test_report import all_text, expected_counts, parsed_counts
from test_report_helpers import home_coordinate_strings
from typer.testing import CliRunner

from wfhaudit.cli import app

WORKED = Path(__file__).parent / "data" / "worked"
SAMPLE = Path(__file__).parent.parent / "sample_data"
KINDS = ("employees", "offices", "roster", "attendance", "outputs", "leave")
PERIOD = "2025-12-02..2025-12-11"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("worked") / "store"
    for kind in KINDS:
        result = invoke("ingest", kind, WORKED / f"{kind}.csv", "--store", path, "--quiet")
        assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def ran(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / PERIOD
    result = invoke(
        "run",
        PERIOD,
        "--store",
        store,
        "--as-of",
        "2025-12-12",
        "--out",
        out,
        "--quiet",
        "--format",
        "html",
        "--format",
        "md",
        "--format",
        "xlsx",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert result.output == ""  # --quiet
    return out


def test_run_writes_results_and_every_report(ran: Path):
    names = sorted(p.name for p in ran.iterdir())
    for f in (
        "audit.json",
        "violations.parquet",
        "unit_findings.parquet",
        "employee_days.parquet",
        "employee_summary.parquet",
    ):
        assert f in names
    for ext in ("html", "md", "xlsx", "json"):
        assert f"wfhaudit-{PERIOD}.{ext}" in names


def test_reports_of_a_real_audit_have_the_totals_of_violations_parquet(ran: Path):
    want = expected_counts(ran)
    # the worked example: rules.md rows 1-9 plus nine absent U2 employees
    expected = pl.read_csv(WORKED / "expected_violations.csv")
    assert want[1] == expected.height
    for ext in ("html", "md", "xlsx", "json"):
        assert parsed_counts(ran / f"wfhaudit-{PERIOD}.{ext}", "id") == want, ext


def test_real_reports_show_no_home_coordinate(ran: Path, store: Path, tmp_path: Path):
    emp = pl.read_csv(WORKED / "employees.csv")
    needles = home_coordinate_strings(emp["home_lat"].to_list(), emp["home_lon"].to_list())
    result = invoke(
        "report",
        PERIOD,
        "--results",
        ran,
        "--out",
        tmp_path,
        "--lang",
        "en",
        "--unit",
        "U1",
        "--format",
        "html",
        "--format",
        "md",
        "--format",
        "xlsx",
        "--format",
        "json",
        "--store",
        store,
    )
    assert result.exit_code == 0, result.output
    files = [*ran.glob("wfhaudit-*"), *tmp_path.glob("wfhaudit-*")]
    assert len(files) == 8
    for path in files:
        text = all_text(path)
        assert not [n for n in needles if n in text], path.name


def test_report_command_unit_and_language(ran: Path, tmp_path: Path):
    result = invoke(
        "report",
        PERIOD,
        "--results",
        ran,
        "--out",
        tmp_path,
        "--unit",
        "U1",
        "--lang",
        "en",
        "--format",
        "json",
        "--format",
        "md",
    )
    assert result.exit_code == 0, result.output
    assert f"wfhaudit-{PERIOD}-U1-en.json" in result.output
    doc = json.loads((tmp_path / f"wfhaudit-{PERIOD}-U1-en.json").read_text("utf-8"))
    assert doc["lang"] == "en"
    assert {v["unit_code"] for v in doc["violations"]} == {"U1"}
    assert doc["summary"]["violations_total"] == 9  # rules.md worked rows 1-9
    md = (tmp_path / f"wfhaudit-{PERIOD}-U1-en.md").read_text("utf-8")
    assert "Dinas Satu" in md and "Dinas Dua" not in md  # unit name from the store
    assert "## Summary" in md


def test_report_defaults_to_html_and_md_in_the_results_dir(ran: Path):
    result = invoke("report", PERIOD, "--results", ran)
    assert result.exit_code == 0, result.output
    assert "html" in result.output and ".md" in result.output


def test_report_without_results_says_to_run_the_audit(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("report", "2025-11")
    assert result.exit_code == 3
    assert "wfhaudit audit 2025-11" in result.output
    assert "reports/out/2025-11" in result.output
    assert "Traceback" not in result.output


def test_report_unknown_unit_exit_3_naming_it(ran: Path, tmp_path: Path):
    result = invoke("report", PERIOD, "--results", ran, "--out", tmp_path, "--unit", "NOPE")
    assert result.exit_code == 3
    assert "NOPE" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "word"),
    [(["--lang", "fr"], "--lang"), (["--format", "pdf"], "pdf"), ([], "period")],
)
def test_report_bad_options_exit_2(ran: Path, args: list[str], word: str):
    period = "2025-13" if not args else PERIOD
    result = invoke("report", period, "--results", ran, *args)
    assert result.exit_code == 2, result.output
    assert word in result.output


def test_run_checks_report_options_before_auditing(store: Path, tmp_path: Path):
    out = tmp_path / "out"
    result = invoke("run", PERIOD, "--store", store, "--out", out, "--format", "pdf")
    assert result.exit_code == 2
    assert not out.exists()


def test_run_fail_on_exits_1_after_writing_everything(store: Path, tmp_path: Path):
    out = tmp_path / "out"
    result = invoke(
        "run",
        PERIOD,
        "--store",
        store,
        "--as-of",
        "2025-12-12",
        "--out",
        out,
        "--fail-on",
        "ABSENT=0",
        "--json",
        "--format",
        "xlsx",
    )
    assert result.exit_code == 1
    assert "ABSENT" in result.output
    assert (out / f"wfhaudit-{PERIOD}.xlsx").is_file()
    assert (out / "violations.parquet").is_file()
    doc = json.loads(result.stdout)
    assert doc["reports"] == [str(out / f"wfhaudit-{PERIOD}.xlsx")]
    # under the threshold: exit 0
    result = invoke(
        "run",
        PERIOD,
        "--store",
        store,
        "--as-of",
        "2025-12-12",
        "--out",
        out,
        "--fail-on",
        "any=1000",
        "--quiet",
    )
    assert result.exit_code == 0 and result.output == ""


# --- the December 2025 report of the committed sample data ----------------------------


def _ingest_sample(store: Path) -> None:
    """Ingest sample_data/ as its README says (export files as analysts receive them)."""
    steps = [
        ("employees", [SAMPLE / "employees.csv"], []),
        ("offices", [SAMPLE / "offices.csv"], []),
        ("roster", sorted((SAMPLE / "roster").glob("*.xlsx")), []),
        ("attendance", sorted(SAMPLE.glob("attendance-kmob-*.csv")), ["--profile", "kmob"]),
        ("outputs", [SAMPLE / "outputs.csv"], []),
        ("leave", [SAMPLE / "leave.csv"], []),
    ]
    for kind, files, extra in steps:
        result = invoke("ingest", kind, *files, "--store", store, "--quiet", *extra)
        assert result.exit_code == 0, (kind, result.output)


@pytest.fixture(scope="module")
def december(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pl.DataFrame]:
    """(results dir, store, employees with home points) of the December 2025 audit.

    The committed sample_data/ when it is there, else the worked example.
    """
    root = tmp_path_factory.mktemp("december")
    store = root / "store"
    if (SAMPLE / "employees.csv").is_file():
        _ingest_sample(store)
        period, as_of, employees = "2025-12", "2026-01-01", SAMPLE / "employees.csv"
    else:
        for kind in KINDS:
            assert (
                invoke(
                    "ingest", kind, WORKED / f"{kind}.csv", "--store", store, "--quiet"
                ).exit_code
                == 0
            )
        period, as_of, employees = "2025-12", "2025-12-12", WORKED / "employees.csv"
    out = root / "out" / period
    result = invoke(
        "run",
        period,
        "--store",
        store,
        "--as-of",
        as_of,
        "--out",
        out,
        "--quiet",
        "--format",
        "html",
        "--format",
        "md",
        "--format",
        "xlsx",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    emp = pl.read_csv(employees, schema_overrides={"nip": pl.String})
    return out, store, emp


def test_december_report_totals_in_every_format_and_language(december, tmp_path: Path):
    out, store, _ = december
    want = expected_counts(out)
    assert want[1] > 0
    for ext in ("html", "md", "xlsx", "json"):
        assert parsed_counts(out / f"wfhaudit-2025-12.{ext}", "id") == want, ext
    result = invoke(
        "report",
        "2025-12",
        "--results",
        out,
        "--out",
        tmp_path,
        "--lang",
        "en",
        "--store",
        store,
        "--format",
        "html",
        "--format",
        "md",
        "--format",
        "xlsx",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    for ext in ("html", "md", "xlsx", "json"):
        assert parsed_counts(tmp_path / f"wfhaudit-2025-12-en.{ext}", "en") == want, ext


def test_december_reports_show_no_home_coordinate(december, tmp_path: Path):
    out, store, emp = december
    units = sorted(emp["unit_code"].unique().to_list())[:2]
    for unit in units:
        result = invoke(
            "report",
            "2025-12",
            "--results",
            out,
            "--out",
            tmp_path,
            "--unit",
            unit,
            "--store",
            store,
            "--format",
            "html",
            "--format",
            "md",
            "--format",
            "xlsx",
            "--format",
            "json",
        )
        assert result.exit_code == 0, result.output
    needles = home_coordinate_strings(
        emp["home_lat"].drop_nulls().to_list(), emp["home_lon"].drop_nulls().to_list()
    )
    files = [*out.glob("wfhaudit-*"), *tmp_path.glob("wfhaudit-*")]
    assert len(files) == 4 + 4 * len(units)
    for path in files:
        text = all_text(path)
        assert not [n for n in needles if n in text], path.name


def test_december_unit_report_has_only_that_unit(december, tmp_path: Path):
    out, store, emp = december
    unit = emp["unit_code"].value_counts(sort=True)["unit_code"][0]
    result = invoke(
        "report",
        "2025-12",
        "--results",
        out,
        "--out",
        tmp_path,
        "--unit",
        unit,
        "--store",
        store,
        "--format",
        "json",
        "--format",
        "xlsx",
        "--format",
        "md",
    )
    assert result.exit_code == 0, result.output
    want = expected_counts(out, unit)
    for ext in ("json", "xlsx", "md"):
        assert parsed_counts(tmp_path / f"wfhaudit-2025-12-{unit}.{ext}", "id") == want, ext
    doc = json.loads((tmp_path / f"wfhaudit-2025-12-{unit}.json").read_text("utf-8"))
    assert {u["unit_code"] for u in doc["units"]} == {unit}
    assert {e["unit_code"] for e in doc["employees"]} == {unit}
    assert len(doc["employees"]) == emp.filter(pl.col("unit_code") == unit).height
    others = set(emp.filter(pl.col("unit_code") != unit)["nip"].to_list())
    md = (tmp_path / f"wfhaudit-2025-12-{unit}.md").read_text("utf-8")
    assert not [n for n in others if n in md]


def test_report_refuses_results_of_another_period(ran: Path, tmp_path: Path):
    result = invoke("report", "2025-11", "--results", ran, "--out", tmp_path)
    assert result.exit_code == 3
    assert PERIOD in result.output and "2025-11" in result.output
    assert list(tmp_path.iterdir()) == []
