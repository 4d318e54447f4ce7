"""Reports of a real v2 audit: missing data shown as missing data, and the v2 data quality.

The store is the fairness example (``tests/data/fairness``: agency U4 has no K-Mob
data on 9 December 2025) plus agency U9 of one employee whose office is unknown and
who checked in (and reported) on 4 and 8 December, her last day, but not in between
(a small agency: "possibly missing data"), and one blanked optional cell in the
rejects table.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import markupsafe
import openpyxl
import polars as pl
import pytest
from test_audit_support import store_from_dir
from test_report import html_counts

from wfhaudit.audit.period import range_period
from wfhaudit.audit.run import run_audit
from wfhaudit.policy import load_policy
from wfhaudit.report import build_report, render_reports
from wfhaudit.report.i18n import catalogue
from wfhaudit.schema import REJECTS

FAIRNESS = Path(__file__).parent / "data" / "fairness"
START, END = (dt.date.fromisoformat(d) for d in (FAIRNESS / "period.txt").read_text().split())
X = "199909092023019009"  # the one employee of U9, office OX (not in offices)

SENTENCE = {
    "id": "data K-Mob tidak ada untuk PD ini pada hari itu",
    "en": "no K-Mob data for this agency on that day",
}
DATE = {"id": "9 Desember 2025", "en": "9 December 2025"}


def _append(path: Path, lines: list[str]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("report-v2")
    data = root / "data"
    shutil.copytree(FAIRNESS, data)
    (data / "clarifications.csv").unlink()  # no waivers here: every finding stays open
    _append(
        data / "employees.csv", [f"{X},Xena Wibowo,U9,Biro Sembilan,OX,,,2025-12-04,2025-12-08,"]
    )
    _append(
        data / "outputs.csv",
        [
            f"{X},{d},{d} 17:00:00,Menyusun laporan kegiatan {d} biro"
            for d in ("2025-12-04", "2025-12-08")
        ],
    )
    _append(
        data / "attendance.csv",
        [
            f"{X},2025-12-04 07:20:00,IN,-6.91,107.61,5,hp-x,WFO",
            f"{X},2025-12-04 16:10:00,OUT,-6.91,107.61,5,hp-x,WFO",
            f"{X},2025-12-08 07:20:00,IN,-6.91,107.61,5,hp-x,WFO",
            f"{X},2025-12-08 16:10:00,OUT,-6.91,107.61,5,hp-x,WFO",
        ],
    )
    store = store_from_dir(data, root / "store")
    blanked = pl.DataFrame(
        [
            {
                "kind": "attendance",
                "source_file": "kmob.csv",
                "source_row": "7",
                "values": '{"accuracy_m": "abc"}',
                "error_code": "bad-number",
                "message": "accuracy_m is not a number; blanked",
                "action": "blanked",
                "ingested_at": dt.datetime(2026, 1, 8, 9, 0),
            }
        ],
        schema=REJECTS.schema,
    )
    store.append_rejects(blanked)
    out = root / "out"
    run_audit(
        store, range_period(START, END), load_policy(), as_of=END + dt.timedelta(days=1),
        out_dir=out,
    )
    return out, root / "store"



def test_the_audit_holds_what_the_report_must_show(audited: tuple[Path, Path]) -> None:
    out, _ = audited
    uf = pl.read_parquet(out / "unit_findings.parquet")
    missing = uf.filter(pl.col("rule") == "ATTENDANCE_DATA_MISSING")
    assert missing.select("unit_code", "date").rows() == [("U4", dt.date(2025, 12, 9))]
    dq = json.loads((out / "audit.json").read_text("utf-8"))["data_quality"]
    assert dq["blanked_by_code"] == {"bad-number": 1}
    assert dq["unknown_office_wfo_days"] == 2
    assert {"unit_code": "U9", "date": "2025-12-05", "employees": 1} in dq[
        "possibly_missing_data"
    ]
    assert dq["home_accepted_without_roster"]["U4"] > 0


@pytest.fixture(scope="module", params=["id", "en"])
def rendered(request: pytest.FixtureRequest, audited: tuple[Path, Path], tmp_path_factory):
    out, store = audited
    lang = request.param
    paths = render_reports(
        out, formats=["html", "md", "xlsx", "json"], lang=lang, store=store,
        out_dir=tmp_path_factory.mktemp(f"rep-{lang}"),
    )
    return lang, {p.suffix: p for p in paths}


def _md_rows(md: str, first_cell: str) -> list[list[str]]:
    return [
        [c.strip() for c in line.strip("|").split("|")]
        for line in md.splitlines()
        if line.startswith(f"| {first_cell} |")
    ]


def _md_rows_starting(md: str, text: str) -> list[list[str]]:
    return [
        [c.strip() for c in line.strip("|").split("|")]
        for line in md.splitlines()
        if line.startswith(f"| {text}")
    ]


def test_markdown_says_missing_data_not_violation(rendered) -> None:
    lang, paths = rendered
    cat = catalogue(lang)
    md = paths[".md"].read_text("utf-8")
    assert f"### {cat.t('missing_data')}" in md
    assert cat.t("missing_data_note") in md
    rows = [r for r in _md_rows(md, "U4") if "ATTENDANCE_DATA_MISSING" in r[2]]
    assert rows == [
        ["U4", DATE[lang], f"`ATTENDANCE_DATA_MISSING` {cat.rule_name('ATTENDANCE_DATA_MISSING')}",
         SENTENCE[lang], "8"]
    ]
    # the summary counts it apart, as one agency-day without data
    assert f"| {cat.t('missing_data_total')} | 1 |" in md
    # never among the violations or the agency findings proper
    by_rule = md[md.index(f"### {cat.t('by_rule')}"): md.index(f"## {cat.t('section_units')}")]
    assert "DATA_MISSING" not in by_rule
    uf_day = md.index(f"### {cat.t('quota_findings_by_day')}")
    assert "DATA_MISSING" not in md[uf_day: md.index(f"### {cat.t('missing_data')}")]


def test_markdown_lists_every_v2_quality_item(rendered) -> None:
    lang, paths = rendered
    cat = catalogue(lang)
    md = paths[".md"].read_text("utf-8")
    quality = md[md.index(f"## {cat.t('section_quality')}"):]
    assert f"| {cat.t('blanked_by_code')}: `bad-number` | 1 |" in quality
    assert f"| {cat.t('unknown_office_wfo_days')} | 2 |" in quality
    # one row per list (pages of A4): its agencies and counts; the sheet lists each
    assert f"| {cat.t('unknown_office_employees')} — U9 (1) | 1 |" in quality
    assert f"| {cat.t('possibly_missing_data_days')} — U9 (1) | 1 |" in quality
    assert f"| {cat.t('units_without_roster')} — U1, U2, U4, U5, U9 | 5 |" in quality
    home = next(r for r in _md_rows_starting(quality, cat.t("home_accepted_total")))
    assert "U4 (" in home[0] and int(home[1].replace(".", "").replace(",", "")) > 0
    if lang == "id":
        assert "Kemungkinan data hilang (PD kecil tanpa satu pun absensi): hari-PD" in quality


def test_html_missing_data_table_and_counts(rendered) -> None:
    lang, paths = rendered
    cat = catalogue(lang)
    html = paths[".html"].read_text("utf-8")
    table = html[html.index('<table id="missing-data">'):]
    table = table[: table.index("</table>")]
    assert SENTENCE[lang] in table and DATE[lang] in table and "U4" in table
    assert str(markupsafe.escape(cat.t("missing_data_note"))) in html
    counts, total = html_counts(paths[".html"], lang)
    assert not [r for r in counts if "DATA_MISSING" in r]
    assert total == sum(counts.values())
    quality = html[html.index('<table id="quality-table">'):]
    quality = quality[: quality.index("</table>")]
    assert f"{cat.t('blanked_by_code')}: <code>bad-number</code>" in quality
    assert f"{cat.t('unknown_office_employees')} — U9 (1)" in quality
    # the matrix and the quota table hold no missing-data rule
    for table_id in ("units-matrix", "unit-findings", "unit-findings-by-rule"):
        if f'id="{table_id}"' in html:
            part = html[html.index(f'id="{table_id}"'):]
            assert "DATA_MISSING" not in part[: part.index("</table>")]


def test_xlsx_missing_data_sheet_and_quality_items(rendered) -> None:
    lang, paths = rendered
    cat = catalogue(lang)
    wb = openpyxl.load_workbook(paths[".xlsx"])
    rows = list(wb[cat.sheets["missing_data"]].iter_rows(values_only=True))
    assert rows[0][4] == cat.t("detail")
    body = [r for r in rows[1:] if r[2] == "ATTENDANCE_DATA_MISSING"]
    assert [(r[0], r[1].date(), r[4], r[5]) for r in body] == [
        ("U4", dt.date(2025, 12, 9), SENTENCE[lang], 8)
    ]
    violations = list(wb[cat.sheets["violations"]].iter_rows(min_row=2, values_only=True))
    assert not [r for r in violations if r[4] and "DATA_MISSING" in r[4]]
    agency_days = list(wb[cat.sheets["unit_days"]].iter_rows(min_row=2, values_only=True))
    assert not [r for r in agency_days if "DATA_MISSING" in (r[2] or "")]
    quality = list(wb[cat.sheets["quality"]].iter_rows(min_row=2, values_only=True))
    assert (cat.t("blanked_by_code"), "bad-number", 1, None) in quality
    assert (cat.t("unknown_office_wfo_days"), None, 2, None) in quality
    assert (cat.t("unknown_office_employees"), X, 2, "U9, OX") in quality
    assert (cat.t("possibly_missing_data_days"), None, 1, None) in quality
    assert any(r[0] == cat.t("home_accepted_without_roster") and r[1] == "U4" for r in quality)
    day = "5 Desember 2025" if lang == "id" else "5 December 2025"
    who = f"{cat.t('missing_data_employees')}: 1"
    assert (cat.t("possibly_missing_data"), "U9", None, f"{day} ({who})") in quality
    if lang == "id":
        names = {r[0] for r in quality}
        assert "Kemungkinan data hilang: PD kecil tanpa satu pun absensi pada hari itu" in names
    summary = {r[1]: r[2] for r in wb[cat.sheets["summary"]].iter_rows(min_row=2, values_only=True)}
    assert summary["missing_data_total"] == 1
    assert summary["no_attendance_data"] == 8


def test_json_and_model_count_missing_data_apart(rendered, audited) -> None:
    lang, paths = rendered
    out, store = audited
    doc = json.loads(paths[".json"].read_text("utf-8"))
    assert doc["lang"] == lang
    assert [(f["unit_code"], f["date"], f["rule"]) for f in doc["missing_data"]] == [
        ("U4", "2025-12-09", "ATTENDANCE_DATA_MISSING")
    ]
    s = doc["summary"]
    assert s["missing_data_total"] == 1 and s["missing_data_by_rule"] == {
        "ATTENDANCE_DATA_MISSING": 1
    }
    assert not [r for r in s["violations_by_rule"] if "DATA_MISSING" in r]
    assert not [r for r in s["unit_findings_by_rule"] if "DATA_MISSING" in r]
    assert not [f for f in doc["unit_findings"] if "DATA_MISSING" in f["rule"]]
    assert s["violations_total"] == len(doc["violations"])
    u4 = next(u for u in doc["units"] if u["unit_code"] == "U4")
    assert u4["missing_data"] == 1 and u4["quota_findings"] == 0
    assert doc["data_quality"]["blanked_by_code"] == {"bad-number": 1}
    # the U4 employee-days without data are not audited: not clean days of the agency
    days = pl.read_parquet(out / "employee_days.parquet").filter(pl.col("unit_code") == "U4")
    no_data = days.filter(pl.col("status") == "no_attendance_data").height
    assert no_data == 8
    assert u4["audited"] == days.filter(pl.col("status") != "excused").height - no_data
    # a one-agency report of another agency names neither U4's missing day nor X
    other = build_report(out, unit="U1", store=store)
    assert other["missing_data"] == []
    assert X not in json.dumps(other["data_quality"])
