"""``wfhaudit evaluate``: hand-computable province figures, buckets, the CLI, feedback."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from wfhaudit.audit.run import run_audit
from wfhaudit.cli import app
from wfhaudit.evaluate import evaluate
from wfhaudit.evaluate.buckets import buckets, parse_span
from wfhaudit.policy import load_policy
from wfhaudit.store import Store

DATA = Path(__file__).parent / "data" / "evaluate"
KINDS = ("employees", "offices", "roster", "attendance", "outputs", "feedback")
runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def evaluate_small(store: Path, *args: object):
    """``wfhaudit evaluate`` of the small store's three days."""
    return invoke(
        "evaluate", "2025-12-02..2025-12-04", "--store", store, "--as-of", "2025-12-31", *args
    )


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("small") / "store"
    for kind in KINDS:
        result = invoke("ingest", kind, DATA / f"{kind}.csv", "--store", store, "--quiet")
        assert result.exit_code == 0, result.output
    return store


def test_province_figures_are_the_hand_sums(small: Path):
    # 2 employees x 3 working days (Tue 2 - Thu 4 Dec 2025), all required.
    # A: clean 2 Dec; 15 min late 3 Dec, report next morning (late); WFH at home 4 Dec.
    # B: absent 2 Dec (no report); clean 3 Dec with report "ok" (invalid); clean 4 Dec.
    model = evaluate(
        Store(small),
        parse_span("2025-12-02..2025-12-04"),
        load_policy(None),
        as_of=dt.date(2025, 12, 31),
    )
    (p,) = model["province"]
    got = {k: (v["numerator"], v["denominator"]) for k, v in p["measures"].items()}
    assert got == {
        "planned_wfh_share": (1, 6),  # A on 4 Dec
        "realised_wfh_share": (1, 5),  # days with located check-ins: A 3, B 2; at home: A 4 Dec
        "attendance_compliance": (4, 6),  # B 2 Dec ABSENT, A 3 Dec LATE
        "absence_rate": (1, 6),
        "lateness": (15.0, 5),  # 15 LATE minutes over the 5 days with an IN
        "output_rate": (4, 6),  # no report B 2 Dec, only "ok" B 3 Dec
        "on_time_output_rate": (3, 6),  # A 3 Dec handed in the next morning
        "report_length": (None, 4),
        "integrity_per_1000": (0, 6),
    }
    assert p["measures"]["report_length"]["value"] == 25.0  # median of 25, 24, 25, 30
    assert p["measures"]["lateness"]["value"] == 3.0
    assert p["measures"]["planned_wfh_share"]["value"] == pytest.approx(1 / 6)
    # one agency: its figures are the province's
    (u,) = model["units"]
    assert u["unit_code"] == "U1" and u["measures"] == p["measures"]
    # two employees: every comparison is "too few", nothing flagged
    assert {c["verdict"] for c in model["comparisons"]["province"]} == {"too_few"}
    assert model["flagged"] == []
    # feedback: 3 + 1 (empty count = 1) over 6 headcount employee-days
    prov = [r for r in model["feedback"]["rows"] if r["unit_code"] is None]
    assert prov == [
        {
            "bucket": "2025-12-02..2025-12-04",
            "unit_code": None,
            "complaints": 4,
            "headcount_days": 6,
            "per_1000": pytest.approx(4000 / 6),
        }
    ]


def test_readiness_of_an_exempt_agency(small: Path, tmp_path: Path):
    policy_file = tmp_path / "p.toml"
    policy_file.write_text(
        '[[wfh]]\nname = "WFH 50:50"\nfrom = 2025-12-02\nto = 2025-12-31\n'
        'weekdays = ["mon", "tue", "wed", "thu", "fri"]\ndefault_wfh_weekdays = []\n'
        'max_share = 0.5\nexempt_units = ["U1"]\n',
        "utf-8",
    )
    model = evaluate(
        Store(small),
        parse_span("2025-12-02..2025-12-04"),
        load_policy(policy_file),
        as_of=dt.date(2025, 12, 31),
    )
    days = {
        (r["date"], r["on_site"], r["planned_wfo"], r["below"]) for r in model["readiness"]["days"]
    }
    # 2 Dec: A on site, B absent; 3 Dec both; 4 Dec: B on site (A planned WFH: not counted)
    assert days == {
        ("2025-12-02", 1, 2, True),
        ("2025-12-03", 2, 2, False),
        ("2025-12-04", 1, 1, False),
    }
    assert model["readiness"]["summary"][0]["days_below"] == 1


def test_buckets_of_a_span():
    span = parse_span("2025-11..2026-02")
    assert (span.start, span.end) == (dt.date(2025, 11, 1), dt.date(2026, 2, 28))
    assert [b.label for b in buckets(span, "month")] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    weeks = buckets(parse_span("2025-12"), "week")
    assert weeks[0].label == "2025-W49"  # W49 runs Mon 1 - Sun 7 Dec: a whole week
    assert weeks[-1].label == "2025-12-29..2025-12-31"  # W01 of 2026, cut to the span
    assert sum(b.days for b in weeks) == 31


def test_cli_writes_every_format_and_the_model(small: Path, tmp_path: Path):
    result = evaluate_small(
        small,
        "--format",
        "html",
        "--format",
        "md",
        "--format",
        "xlsx",
        "--format",
        "json",
        "--lang",
        "en",
        "--out",
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    assert "no agency flagged" in result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "evaluation-2025-12-02..2025-12-04.html",
        "evaluation-2025-12-02..2025-12-04.json",
        "evaluation-2025-12-02..2025-12-04.md",
        "evaluation-2025-12-02..2025-12-04.xlsx",
        "evaluation.json",
    ]
    model = json.loads((tmp_path / "evaluation.json").read_text("utf-8"))
    assert model["province"][0]["measures"]["absence_rate"]["numerator"] == 1
    md = (tmp_path / "evaluation-2025-12-02..2025-12-04.md").read_text("utf-8")
    assert "Absence rate" in md and "too few" in md
    html = (tmp_path / "evaluation-2025-12-02..2025-12-04.html").read_text("utf-8")
    assert html.count("<svg") == 9 + 5 and "<script" not in html


def test_cli_errors(small: Path, tmp_path: Path):
    bad_unit = invoke("evaluate", "2025-12", "--store", small, "--unit", "NOPE", "--out", tmp_path)
    assert bad_unit.exit_code == 2 and "unknown agency 'NOPE'" in bad_unit.output
    bad_by = invoke("evaluate", "2025-12", "--store", small, "--by", "year", "--out", tmp_path)
    assert bad_by.exit_code == 2 and "--by month or --by week" in bad_by.output
    empty = invoke("evaluate", "2026-03..2026-04", "--store", small, "--as-of", "2026-05-01")
    assert empty.exit_code == 3 and "holds no attendance in 2026-03..2026-04" in empty.output
    assert "2025-12" in empty.output  # names the months the store holds


def test_by_week_audits_only_weeks_with_data(small: Path):
    model = evaluate(
        Store(small),
        parse_span("2025-11-29..2025-12-14"),
        load_policy(None),
        by="week",
        as_of=dt.date(2025, 12, 31),
    )
    assert [(b["label"], b["audited"]) for b in model["buckets"]] == [
        ("2025-11-29..2025-11-30", False),  # a weekend: no working day
        ("2025-W49", True),
        ("2025-W50", False),  # no attendance in the store
    ]
    (p,) = model["province"]
    assert p["bucket"] == "2025-W49"


def test_figures_are_the_audit_engines_own(small: Path, tmp_path: Path):
    """One engine: the week's absence and output figures are counts of the audit's own rows."""
    policy = load_policy(None)
    week = parse_span("2025-W49")
    audit = run_audit(Store(small), week, policy, as_of=dt.date(2025, 12, 31), out_dir=tmp_path)
    model = evaluate(Store(small), week, policy, as_of=dt.date(2025, 12, 31))
    m = model["province"][0]["measures"]
    days, vio = audit.employee_days, audit.violations
    required = days.filter(pl.col("status") == "required").height
    assert (m["absence_rate"]["numerator"], m["absence_rate"]["denominator"]) == (
        vio.filter(pl.col("rule") == "ABSENT").height,
        required,
    )
    late_output = vio.filter(pl.col("rule") == "LATE_DAILY_OUTPUT").height
    valid = days.filter(pl.col("first_valid_report_at").is_not_null()).height
    assert m["output_rate"]["numerator"] == valid
    assert m["on_time_output_rate"]["numerator"] == valid - late_output


def test_one_agency_evaluation_heads_with_its_figures(small: Path, tmp_path: Path):
    result = evaluate_small(
        small,
        "--unit",
        "U1",
        "--format",
        "md",
        "--out",
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    md = (tmp_path / "evaluation-2025-12-02..2025-12-04-U1.md").read_text("utf-8")
    assert "### Dinas Satu, 2025-12-02..2025-12-04" in md  # Indonesian by default
    assert "| Tingkat ketidakhadiran | 16,7% | 1 | 6 |" in md


def test_report_length_is_the_median_of_the_days_valid_reports_as_the_engine_counts():
    from wfhaudit.evaluate.facts import day_report_lengths

    d1, d2 = dt.date(2025, 12, 2), dt.date(2025, 12, 3)
    reports = pl.DataFrame(
        {
            "nip": ["a", "a", "a", "b", "b", "c"],
            "date": [d1, d1, d1, d1, d2, d1],
            "text": [
                "  ten chars!  ",  # trimmed: 10
                "e\u0301\u200b" + "x" * 9,  # NFC é, no zero-width space: 10
                "x" * 13,
                "short",  # 5 < 10: not valid
                "y" * 12,
                None,  # empty: not valid
            ],
        }
    )
    got = day_report_lengths(reports, 10).sort("nip", "date").rows()
    assert got == [("a", d1, 10.0), ("b", d2, 12.0)]


def test_in_memory_facts_are_the_published_files_rows(small: Path, tmp_path: Path):
    """The evaluation reduces the engine's in-memory frames (nothing published) when the
    bucket is audited in one chunk: they are the rows the audit publishes, and the facts
    equal those of the same bucket audited in chunks and read back from its files."""
    from wfhaudit.audit.run import AuditPlan, Execution, audit_frames
    from wfhaudit.evaluate.facts import bucket_facts

    policy, as_of = load_policy(None), dt.date(2025, 12, 31)
    week = parse_span("2025-W49")
    out = tmp_path / "unused"
    out.mkdir()
    plan = AuditPlan(week, policy, out, as_of, Execution(partition_days=0))
    frames = audit_frames(plan, Store(small))
    assert frames.report_chars is not None and list(out.iterdir()) == []
    audit = run_audit(Store(small), week, policy, as_of=as_of, out_dir=tmp_path / "a",
                      partition_days=0)
    assert frames.employee_days.collect().equals(audit.employee_days)
    assert frames.violations.collect().equals(audit.violations)
    assert frames.violations.collect().height > 0
    assert frames.versions == audit.meta["store"]["versions"]
    # in chunks: published into the plan's directory, the same rows read back
    chunked = AuditPlan(week, policy, tmp_path / "c", as_of, Execution(partition_days=1))
    (tmp_path / "c").mkdir()
    in_chunks = audit_frames(chunked, Store(small))
    assert in_chunks.report_chars is None
    assert (tmp_path / "c" / "employee_days.parquet").exists()
    assert in_chunks.employee_days.collect().equals(audit.employee_days)
    assert in_chunks.violations.collect().equals(audit.violations)
    assert in_chunks.versions == frames.versions
    by_frames = bucket_facts(Store(small), week, policy, as_of)
    by_files = bucket_facts(Store(small), week, policy, as_of, execution=Execution(1))
    assert by_frames.facts.height == audit.employee_days.height
    assert by_frames.facts.equals(by_files.facts)
    assert by_frames.meta["store"]["versions"] == by_files.meta["store"]["versions"]
