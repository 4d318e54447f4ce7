"""What the report shows per agency and in its charts (issue 15, "Per agency", "WFH-share chart",
wording): stated on the fixture results of test_report_helpers."""

from __future__ import annotations

import re
from pathlib import Path

from test_report_helpers import make_results, make_store

from wfhaudit.report import build_report, render_reports
from wfhaudit.report.charts import daily_compliance, wfh_share
from wfhaudit.report.i18n import catalogue


def html_of(tmp_path: Path, **kwargs) -> str:
    results = make_results(tmp_path / "out")
    store = make_store(tmp_path / "store")
    path = render_reports(results, formats=["html"], out_dir=tmp_path, store=store, **kwargs)[0]
    return path.read_text("utf-8")


def test_agencies_by_rules_matrix_marks_the_worst_cell(tmp_path: Path):
    html = html_of(tmp_path)
    matrix = re.search(r'<table id="units-matrix".*?</table>', html, re.S)[0]
    heads = re.findall(r'<th class="rot"[^>]*><span>([A-Z_]+)</span>', matrix)
    assert heads[:2] == ["ABSENT", "LATE"] and "SHARED_DEVICE" in heads
    cells = dict(re.findall(r'data-unit="(U\d)"(.*?)</tr>', matrix, re.S))
    # SHARED_DEVICE: U2 has 2, U1 none -> U2's cell is the worst of its column, U1's is a dot
    u2 = re.search(r'<td class="num([^"]*)" data-rule="SHARED_DEVICE">([^<]*)<', cells["U2"])
    u1 = re.search(r'<td class="num([^"]*)" data-rule="SHARED_DEVICE">([^<]*)<', cells["U1"])
    assert u2[1].strip() == "worst" and u2[2] == "2"
    assert "zero" in u1[1] and u1[2] == "·"
    # the old comma list of raw codes is gone from the agencies table
    units = re.search(r'<table id="units-table".*?</table>', html, re.S)[0]
    assert "<code>LATE</code>" not in units


def test_one_agency_has_no_matrix_and_a_daily_wfh_line(tmp_path: Path):
    html = html_of(tmp_path, unit="U2")
    assert 'id="units-matrix"' not in html
    cat = catalogue("id")
    model = build_report(make_results(tmp_path / "o2"), unit="U2")
    one = wfh_share(model["units"], model["unit_daily"], 0.5, cat)
    many = wfh_share(
        build_report(make_results(tmp_path / "o3"))["units"],
        build_report(make_results(tmp_path / "o4"))["unit_daily"],
        0.5,
        cat,
    )
    patches = lambda svg: len(re.findall(r'id="c3-patch_\d+"', svg))  # noqa: E731
    lines = lambda svg: len(re.findall(r'id="c3-line2d_\d+"', svg))  # noqa: E731
    # two agencies: two bars more than the one-agency chart, which draws a line instead
    assert patches(many) == patches(one) + 2
    assert lines(one) >= lines(many)  # the data line is there (ticks are line2d too) ...
    assert 'id="c3-PathCollection_1"' in one  # ... and the breach day of U2 as a red dot
    dots = one.split('id="c3-PathCollection_1"')[1].split("</g>")[0]
    assert "#b23a3a" in dots


def test_unit_daily_marks_the_breach_days_of_the_rule(tmp_path: Path):
    model = build_report(make_results(tmp_path / "out"))
    breach = [(d["unit_code"], d["date"]) for d in model["unit_daily"] if d["breach"]]
    assert breach == [("U2", "2025-12-02")]  # the WFH_QUOTA_EXCEEDED row of the fixture


def test_zoomed_compliance_axis_says_where_it_starts():
    cat = catalogue("en")
    daily = [
        {"date": f"2025-12-{d:02d}", "compliance_rate": 0.95 + d / 1000} for d in (1, 2, 3, 8, 9)
    ]
    zoomed = daily_compliance(daily, cat)
    low = daily_compliance([{**d, "compliance_rate": 0.3} for d in daily], cat)
    # text is drawn as paths: compare the glyph count, the zoomed axis has the extra label
    assert zoomed.count("<use ") > low.count("<use ")


def test_wording(tmp_path: Path):
    html = html_of(tmp_path)
    cat = catalogue("id")
    assert "Temuan kuota" not in html and cat.t("quota_findings") in html
    assert cat.t("excel_lists_all") not in html  # no workbook was made
    results = make_results(tmp_path / "x")
    both = render_reports(results, formats=["html", "xlsx"], out_dir=tmp_path / "x2")[0]
    assert cat.t("excel_lists_all") in both.read_text("utf-8")
    en = catalogue("en")
    assert en.t("as_of") != "Data up to before" and en.t("members") != en.t("group_size")
    assert "K1" in cat.t("shared_coordinates_note")
