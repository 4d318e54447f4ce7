"""The Excel report opened with openpyxl (issue 15, "Excel"): filters, print setup, every sheet."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from test_report_helpers import make_results

from wfhaudit.report import render_reports
from wfhaudit.report.i18n import catalogue
from wfhaudit.report.render import SHEETS


def test_every_sheet_filters_and_prints_on_a4(tmp_path: Path):
    results = make_results(tmp_path / "out")
    for lang in ("id", "en"):
        path = render_reports(results, formats=["xlsx"], lang=lang, out_dir=tmp_path)[0]
        wb = openpyxl.load_workbook(path)
        sheets = catalogue(lang).sheets
        assert wb.sheetnames == [sheets[key] for key in SHEETS]
        for ws in wb.worksheets:
            tables = list(ws.tables.values())
            assert tables and all(t.autoFilter is not None for t in tables), ws.title
            assert ws.page_setup.paperSize in (9, "9"), ws.title
            assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
            assert str(ws.page_setup.fitToHeight) == "0", ws.title  # one page wide, any tall
            assert ws.print_title_rows == "$1:$1", ws.title
            if ws.max_column > 5:
                assert ws.page_setup.orientation == "landscape", ws.title


def test_agency_findings_by_day_quality_items_and_numeric_speeds(tmp_path: Path):
    results = make_results(tmp_path / "out")
    path = render_reports(results, formats=["xlsx"], lang="id", out_dir=tmp_path)[0]
    wb = openpyxl.load_workbook(path)
    days = list(wb["Temuan PD per Hari"].iter_rows(values_only=True))
    assert days[1][0] == "U2" and days[1][2] == "WFH_QUOTA_EXCEEDED" and days[1][4] == 2
    quality = [r[0] for r in wb["Kualitas Data"].iter_rows(min_row=2, values_only=True)]
    cat = catalogue("id")
    assert cat.t("rejects_by_code") in quality and cat.t("units_without_roster") in quality
    integ = list(wb["Temuan Integritas"].iter_rows(values_only=True))
    assert cat.t("speed") in integ[0]
    speeds = [r[integ[0].index(cat.t("speed"))] for r in integ[1:]]
    assert all(s is None or isinstance(s, float) for s in speeds)
    assert not any(isinstance(v, str) and "km/h" in v for row in integ for v in row)


def test_metadata_names_the_as_of_date_and_policy_periods(tmp_path: Path):
    results = make_results(tmp_path / "out")
    path = render_reports(results, formats=["xlsx"], lang="en", out_dir=tmp_path)[0]
    ws = openpyxl.load_workbook(path)[catalogue("en").sheets["summary"]]
    about = {r[4]: r[5] for r in ws.iter_rows(min_row=2, values_only=True) if r[4]}
    cat = catalogue("en")
    assert about[cat.t("as_of")] == "5 December 2025"
    assert "December 2025" in about[cat.t("wfh_policies")], about
