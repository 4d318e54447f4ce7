"""Four generated months: exactly the planted agency is flagged; the HTML prints in Chromium."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import tempfile
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from wfhaudit.audit.period import parse_period
from wfhaudit.audit.run import AuditPlan, execute, run_audit
from wfhaudit.cli import app
from wfhaudit.policy import load_policy
from wfhaudit.report.browser import _FLAGS, find_chromium, print_pdf
from wfhaudit.store import Store

runner = CliRunner()
KINDS = ("employees", "offices", "roster", "attendance", "outputs", "leave", "feedback")


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, Path]:
    root = tmp_path_factory.mktemp("months")
    data, store, out = root / "data", root / "store", root / "out"
    made = invoke(
        "sample",
        "--month",
        "2025-11..2026-02",
        "--employees",
        300,
        "--units",
        5,
        "--format",
        "parquet",
        "--out",
        data,
    )
    assert made.exit_code == 0, made.output
    assert "planted agency" in made.output
    for kind in KINDS:
        done = invoke("ingest", kind, data / f"{kind}.parquet", "--store", store, "--quiet")
        assert done.exit_code == 0, done.output
    result = invoke(
        "evaluate",
        "2025-11..2026-02",
        "--store",
        store,
        "--as-of",
        "2026-03-02",
        "--format",
        "html",
        "--format",
        "json",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    return data, out, result.output, store


def test_every_month_audits_to_exactly_its_ground_truth(evaluated, tmp_path: Path):
    """Staff changes of one month get their own nip: each month holds exactly its truth."""
    data, _, _, store = evaluated
    truth = pl.read_csv(
        data / "ground_truth.csv", schema_overrides={"nip": pl.String, "date": pl.Date}
    ).with_columns(pl.col("nip").fill_null(""))
    assert truth.filter(pl.col("scenario") == "evaluation_effect").height > 0
    for month in ("2025-11", "2025-12", "2026-01", "2026-02"):
        period = parse_period(month)
        result = run_audit(
            Store(store),
            period,
            load_policy(None),
            as_of=dt.date(2026, 3, 2),
            out_dir=tmp_path / month,
        )
        want = {
            (r["nip"] or r["unit_code"], r["date"], r["rule"])
            for r in truth.filter(pl.col("date").is_between(period.start, period.end)).iter_rows(
                named=True
            )
        }
        got = set(result.violations.select("nip", "date", "rule").iter_rows())
        got |= set(result.unit_findings.select("unit_code", "date", "rule").iter_rows())
        assert got == want, (month, sorted(want - got)[:5], sorted(got - want)[:5])


def test_without_the_year_to_date_the_days_and_violations_are_the_audits(
    evaluated, tmp_path: Path
):
    """Evaluate audits a bucket without the year to date (it reads no summary): the same
    employee days and violations as the audit; only the summary's year to date differs,
    and audit.json says it was left out."""
    _, _, _, store = evaluated
    december, policy, as_of = parse_period("2025-12"), load_policy(None), dt.date(2026, 3, 2)
    full = run_audit(  # the year to date computed, not read from the cache
        Store(store), december, policy, as_of=as_of, out_dir=tmp_path / "full", ytd_cache="off"
    )
    plan = AuditPlan(december, policy, tmp_path / "bare", as_of, year_to_date=False)
    bare = execute(plan, Store(store))
    assert full.meta["execution"]["ytd_chunks"] > 0 and bare.meta["execution"]["ytd_chunks"] == 0
    assert bare.meta["execution"]["year_to_date"] is None
    assert bare.meta["execution"]["year_to_date_skipped"] is True
    assert "year_to_date_skipped" not in full.meta["execution"]
    assert bare.employee_days.equals(full.employee_days)
    assert bare.violations.equals(full.violations)
    ytd = pl.col("ytd_equivalent_days")
    assert bare.employee_summary.select(ytd).equals(
        bare.employee_summary.select(pl.col("equivalent_days").alias("ytd_equivalent_days"))
    )
    # November's absences and late minutes are in the full audit's year to date only
    assert full.employee_summary.select(ytd.sum()).item() > bare.employee_summary.select(
        ytd.sum()
    ).item()


def test_exactly_the_planted_agency_is_flagged(evaluated):
    data, out, output, _ = evaluated
    truth = pl.read_csv(data / "evaluation_truth.csv")
    planted = truth.filter(pl.col("flagged"))["unit_code"].to_list()
    alike = truth.filter(~pl.col("flagged"))["unit_code"].to_list()
    assert len(planted) == 1 and len(alike) == 1
    import json

    model = json.loads((out / "evaluation.json").read_text("utf-8"))
    assert {f["unit_code"] for f in model["flagged"]} == set(planted)
    # flagged on the planted measure, in every month with WFH days
    assert {(f["bucket"], f["measure"]) for f in model["flagged"]} == {
        (m, "on_time_output") for m in ("2025-11", "2025-12", "2026-01", "2026-02")
    }
    alike_rows = [
        c
        for c in model["comparisons"]["units"]
        if c["unit_code"] == alike[0] and c["measure"] == "on_time_output"
    ]
    assert len(alike_rows) == 4 and not any(c["flagged"] for c in alike_rows)
    assert all(c["employees"] >= 10 for c in alike_rows)  # compared, not "too few"
    assert f"{planted[0]} (on_time_output)" in output
    assert model["feedback"]["present"] and model["feedback"]["rows"]


CHROMIUM = find_chromium()
if CHROMIUM is None and os.environ.get("CI"):
    raise RuntimeError("CI is set but Chromium is missing; .ci/run should have installed it.")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed")

_PROBE = """<script>
window.addEventListener('load', () => {
  const w = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('table, figure svg')]
    .filter(t => t.getBoundingClientRect().right > w + 1).map(t => t.id || t.tagName);
  const svgs = [...document.querySelectorAll('figure svg')]
    .filter(s => s.getBoundingClientRect().width > 0 && s.getBoundingClientRect().height > 0);
  document.body.setAttribute('data-overflow', wide.join(',') || 'none');
  document.body.setAttribute('data-charts', String(svgs.length));
});
</script>"""


def _dom(page: Path) -> str:
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            CHROMIUM,
            *_FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=703,1000",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.resolve().as_uri(),
        ]
        return subprocess.run(cmd, capture_output=True, timeout=120, check=False).stdout.decode()


@needs_chromium
def test_html_prints_with_every_chart_and_no_table_wider_than_a4(evaluated, tmp_path: Path):
    _, out, _, _ = evaluated
    (html,) = out.glob("evaluation-*.html")
    pdf = tmp_path / "evaluation.pdf"
    print_pdf(CHROMIUM, html, pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", data)) >= 6
    probe = tmp_path / "probe.html"
    probe.write_text(html.read_text("utf-8").replace("</body>", _PROBE + "</body>"), "utf-8")
    dom = _dom(probe)
    assert re.search(r'data-charts="(\d+)"', dom)[1] == str(9 + 5)  # 9 trends, 5 forest plots
    assert re.search(r'data-overflow="([^"]*)"', dom)[1] == "none"


def test_comparisons_run_beside_the_next_audit_are_each_buckets_own(evaluated):
    """The evaluation compares a bucket in the background while it audits the next one:
    every bucket's rows are still that bucket's comparisons, in bucket order."""
    import json

    from wfhaudit.evaluate.compare import compare_sums, person_sums
    from wfhaudit.evaluate.facts import bucket_facts

    _, out, _, store = evaluated
    model = json.loads((out / "evaluation.json").read_text("utf-8"))
    months = ("2025-11", "2025-12", "2026-01", "2026-02")
    assert [c["bucket"] for c in model["comparisons"]["province"]] == [
        m for m in months for _ in range(5)
    ]
    month = "2026-01"
    facts = bucket_facts(Store(store), parse_period(month), load_policy(None),
                         dt.date(2026, 3, 2)).facts
    compared = compare_sums(person_sums(facts), month)
    units, province = json.loads(json.dumps(compared))  # as the JSON holds them
    assert [c for c in model["comparisons"]["province"] if c["bucket"] == month] == province
    mine = [
        {k: v for k, v in c.items() if k != "unit_name"}
        for c in model["comparisons"]["units"]
        if c["bucket"] == month
    ]
    assert mine == units
