"""Reports: every format says the same numbers, escapes hostile text, leaks no home point."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from test_report_helpers import (
    EMPLOYEES_ROWS,
    FORMULA_TEXTS,
    SCRIPT_NAME,
    home_coordinate_strings,
    make_results,
    make_store,
)

from wfhaudit.errors import DataError, UsageError
from wfhaudit.report import build_report, render_reports
from wfhaudit.report.i18n import catalogue
from wfhaudit.report.render import SHEETS
from wfhaudit.schema import VIOLATIONS_SCHEMA

ALL = ["html", "md", "xlsx", "json"]


# --- parsing the rendered files back -------------------------------------------------


class _Rows(HTMLParser):
    """Rows (lists of cell texts) of the table with a given id, keyed by data-rule."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.inside = False
        self.rule: str | None = None
        self.cells: list[str] = []
        self.cell: list[str] | None = None
        self.rows: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self.inside = a.get("id") == self.table_id
        elif self.inside and tag == "tr":
            self.rule, self.cells = a.get("data-rule"), []
        elif self.inside and tag == "td":
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif self.inside and tag == "td" and self.cell is not None:
            self.cells.append("".join(self.cell).strip())
            self.cell = None
        elif self.inside and tag == "tr" and self.rule:
            self.rows[self.rule] = self.cells

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _int(text: str, lang: str) -> int:
    sep = catalogue(lang).thousands
    cleaned = text.replace("*", "").replace(sep, "").strip()
    assert re.fullmatch(r"\d+", cleaned), text
    return int(cleaned)


def html_counts(path: Path, lang: str) -> tuple[dict[str, int], int]:
    parser = _Rows("by-rule")
    parser.feed(path.read_text("utf-8"))
    rows = dict(parser.rows)
    total = _int(rows.pop("TOTAL")[3], lang)
    return {rule: _int(cells[3], lang) for rule, cells in rows.items()}, total


def md_counts(path: Path, lang: str) -> tuple[dict[str, int], int]:
    text = path.read_text("utf-8")
    heading = f"### {catalogue(lang).t('by_rule')}"
    section = text.split(heading, 1)[1].split("\n#", 1)[0]
    counts: dict[str, int] = {}
    total = None
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4:
            continue
        if m := re.fullmatch(r"`([A-Z_]+)`", cells[0]):
            counts[m[1]] = _int(cells[3], lang)
        elif cells[3].startswith("**"):
            total = _int(cells[3], lang)
    assert total is not None
    return counts, total


def xlsx_counts(path: Path, lang: str) -> tuple[dict[str, int], int]:
    cat = catalogue(lang)
    rows = pl.read_excel(path, sheet_name=cat.sheets["violations"])
    by_rule = dict(rows.group_by(cat.t("rule")).len().iter_rows())
    summary = pl.read_excel(path, sheet_name=cat.sheets["summary"])
    kv = dict(summary.select(cat.t("code"), cat.t("value")).iter_rows())
    # the summary sheet says the same as the violation rows
    for rule, n in by_rule.items():
        assert kv[rule] == n
    assert kv["violations_total"] == rows.height
    return {k: int(v) for k, v in by_rule.items()}, rows.height


def json_counts(path: Path) -> tuple[dict[str, int], int]:
    doc = json.loads(path.read_text("utf-8"))
    by_rule = doc["summary"]["violations_by_rule"]
    assert len(doc["violations"]) == doc["summary"]["violations_total"]
    return by_rule, doc["summary"]["violations_total"]


def parsed_counts(path: Path, lang: str) -> tuple[dict[str, int], int]:
    ext = path.suffix
    if ext == ".html":
        return html_counts(path, lang)
    if ext == ".md":
        return md_counts(path, lang)
    if ext == ".xlsx":
        return xlsx_counts(path, lang)
    return json_counts(path)


def expected_counts(results_dir: Path, unit: str | None = None) -> tuple[dict[str, int], int]:
    v = pl.read_parquet(results_dir / "violations.parquet")
    if unit:
        v = v.filter(pl.col("unit_code") == unit)
    return dict(v.group_by("rule").len().iter_rows()), v.height


def all_text(path: Path) -> str:
    """Everything a reader of the file could see, for leak checks (xlsx: every XML part)."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as zf:
            return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
    text = path.read_text("utf-8")
    # Chart drawings are path data (numbers like 107.6 are pixel positions, not places); charts
    # only draw aggregates, and their text is drawn as paths, so leave the drawings out.
    return re.sub(r"<svg.*?</svg>", "<svg/>", text, flags=re.S) if path.suffix == ".html" else text


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixture_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("report")
    return make_results(root / "out"), make_store(root / "store")


@pytest.fixture(scope="module", params=["id", "en"])
def rendered(
    request: pytest.FixtureRequest, fixture_dirs: tuple[Path, Path], tmp_path_factory
) -> tuple[str, list[Path]]:
    results, store = fixture_dirs
    out = tmp_path_factory.mktemp(f"rendered-{request.param}")
    paths = render_reports(results, formats=ALL, lang=request.param, out_dir=out, store=store)
    return request.param, paths


# --- tests ---------------------------------------------------------------------------


def test_files_are_named_by_period_and_unit(fixture_dirs, tmp_path):
    results, store = fixture_dirs
    paths = render_reports(results, formats=ALL, lang="id", out_dir=tmp_path, store=store)
    assert [p.name for p in paths] == [f"wfhaudit-2025-12.{e}" for e in ALL]
    paths = render_reports(results, formats=["md"], unit="U2", out_dir=tmp_path)
    assert [p.name for p in paths] == ["wfhaudit-2025-12-U2.md"]
    # default out dir: the results directory
    paths = render_reports(results, formats=["json"])
    assert paths == [results / "wfhaudit-2025-12.json"]


def test_every_format_has_the_totals_of_violations_parquet(fixture_dirs, rendered):
    results, _ = fixture_dirs
    lang, paths = rendered
    want = expected_counts(results)
    assert want[1] == 11
    for path in paths:
        assert parsed_counts(path, lang) == want, path.name


def test_unit_report_contains_only_that_unit(fixture_dirs, tmp_path):
    results, store = fixture_dirs
    paths = render_reports(
        results, formats=ALL, lang="id", unit="U1", out_dir=tmp_path, store=store
    )
    want = expected_counts(results, "U1")
    for path in paths:
        assert parsed_counts(path, "id") == want, path.name
    doc = json.loads((tmp_path / "wfhaudit-2025-12-U1.json").read_text("utf-8"))
    assert {u["unit_code"] for u in doc["units"]} == {"U1"}
    assert {e["unit_code"] for e in doc["employees"]} == {"U1"}
    assert {v["unit_code"] for v in doc["violations"]} == {"U1"}
    assert doc["unit_findings"] == []  # the quota finding is U2's
    html = (tmp_path / "wfhaudit-2025-12-U1.html").read_text("utf-8")
    assert "Dinas Satu" in html and "Badan Dua" not in html
    for (
        nip,
        *_rest,
    ) in EMPLOYEES_ROWS:
        assert (nip in html) == nip.endswith(("1", "2")), nip
    # a one-agency report lists all its employees
    assert doc["employees_limit"] is None and len(doc["employees"]) == 2
    # the shared-coordinates group has 3 employees, 2 of them in U1: only those are named
    (group,) = doc["integrity"]["shared_coordinates"]
    assert group["size"] == 3 and group["members_in_scope"] == 2
    assert {m["unit_code"] for m in group["members"]} == {"U1"}


def test_unknown_unit_is_a_data_error_naming_it(fixture_dirs, tmp_path):
    results, _ = fixture_dirs
    with pytest.raises(DataError, match="'U7'"):
        render_reports(results, formats=["md"], unit="U7", out_dir=tmp_path)
    assert not list(tmp_path.iterdir())


def test_bad_language_or_format_is_a_usage_error(fixture_dirs, tmp_path):
    results, _ = fixture_dirs
    with pytest.raises(UsageError, match="--lang"):
        render_reports(results, formats=["md"], lang="fr", out_dir=tmp_path)
    with pytest.raises(UsageError, match="'pdf'"):
        render_reports(results, formats=["pdf"], out_dir=tmp_path)


def test_html_is_self_contained(rendered):
    _, paths = rendered
    html = next(p for p in paths if p.suffix == ".html").read_text("utf-8")
    assert "<script" not in html.lower()
    refs = re.findall(
        r"""(?:src|href)\s*=\s*["']?([^"'\s>]*)|url\(\s*["']?([^"')\s]*)""", html, re.I
    )
    targets = [a or b for a, b in refs]
    assert targets, "charts reference their own glyphs and clip paths"
    for target in targets:
        assert target.startswith("#"), target
        assert "//" not in target
    assert "<link" not in html.lower() and "@import" not in html and "@font-face" not in html
    assert html.count("<svg") == 3
    assert "@media print" in html and "size: A4" in html


def test_html_escapes_names_with_script(rendered):
    _, paths = rendered
    html = next(p for p in paths if p.suffix == ".html").read_text("utf-8")
    assert SCRIPT_NAME not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Budi" in html
    md = next(p for p in paths if p.suffix == ".md").read_text("utf-8")
    assert "<script" not in md
    doc = json.loads(next(p for p in paths if p.suffix == ".json").read_text("utf-8"))
    assert SCRIPT_NAME in {e["name"] for e in doc["employees"]}  # JSON keeps the data as is


def _xlsx_cells(path: Path) -> list[tuple[str, str, str | None, str | None]]:
    """(sheet, ref, type, formula) of every cell."""
    out = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if not name.startswith("xl/worksheets/sheet"):
                continue
            xml = zf.read(name).decode("utf-8")
            for m in re.finditer(r"<c r=\"([A-Z]+\d+)\"([^>]*?)(/>|>(.*?)</c>)", xml, re.S):
                attrs, body = m[2], m[4] or ""
                t = re.search(r't="(\w+)"', attrs)
                f = re.search(r"<f>(.*?)</f>", body, re.S)
                out.append((name, m[1], t[1] if t else None, f[1] if f else None))
    return out


def test_text_starting_with_formula_characters_stays_text_in_xlsx(rendered):
    lang, paths = rendered
    path = next(p for p in paths if p.suffix == ".xlsx")
    cells = _xlsx_cells(path)
    assert cells
    assert [c for c in cells if c[3] is not None] == []  # not a single formula
    with zipfile.ZipFile(path) as zf:
        strings = zf.read("xl/sharedStrings.xml").decode("utf-8")
    for text in FORMULA_TEXTS:
        escaped = text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
        assert f">{escaped}<" in strings or f">{text}<" in strings, text
    # and they read back as the same strings
    cat = catalogue(lang)
    emp = pl.read_excel(path, sheet_name=cat.sheets["employees"])
    assert set(FORMULA_TEXTS[:2]) <= set(emp[cat.t("name")].to_list())
    viol = pl.read_excel(path, sheet_name=cat.sheets["violations"])
    assert set(FORMULA_TEXTS[2:]) <= set(viol[cat.t("detail")].to_list())


def test_xlsx_sheets_numbers_and_dates(rendered):
    lang, paths = rendered
    cat = catalogue(lang)
    path = next(p for p in paths if p.suffix == ".xlsx")
    sheets = [cat.sheets[k] for k in SHEETS]
    with zipfile.ZipFile(path) as zf:
        book = zf.read("xl/workbook.xml").decode("utf-8")
        # then the clarifications sheet (issue 12; tests/test_clarifications_report.py)
        assert re.findall(r'<sheet name="([^"]+)"', book) == [
            *sheets, cat.t("sheet_clarifications")
        ]
        for i in range(1, len(sheets) + 1):
            xml = zf.read(f"xl/worksheets/sheet{i}.xml").decode("utf-8")
            assert 'state="frozen"' in xml and 'ySplit="1"' in xml
    if lang == "id":
        assert sheets == [
            "Ringkasan",
            "Perangkat Daerah",
            "Pegawai",
            "Pelanggaran",
            "Temuan PD per Hari",
            "Data Tidak Ada",
            "Temuan Integritas",
            "Kualitas Data",
        ]
    viol = pl.read_excel(path, sheet_name=cat.sheets["violations"])
    assert viol.schema[cat.t("date")] == pl.Date
    assert viol.schema[cat.t("minutes")].is_numeric()
    units = pl.read_excel(path, sheet_name=cat.sheets["units"])
    assert units.schema[cat.t("headcount")].is_numeric()
    assert units.schema[cat.t("compliance_rate")] == pl.Float64


def test_no_home_coordinate_in_any_format(fixture_dirs, tmp_path):
    results, store = fixture_dirs
    paths = []
    for lang in ("id", "en"):
        paths += render_reports(
            results, formats=ALL, lang=lang, out_dir=tmp_path / lang, store=store
        )
        paths += render_reports(
            results, formats=ALL, lang=lang, unit="U1", out_dir=tmp_path / lang, store=store
        )
    lats = [r[4] for r in EMPLOYEES_ROWS]
    lons = [r[5] for r in EMPLOYEES_ROWS]
    needles = home_coordinate_strings(lats, lons)
    for path in paths:
        text = all_text(path)
        found = [n for n in needles if n in text]
        assert not found, (path.name, found)
    # the shared point (a home) is replaced by a group label in the data too
    doc = json.loads((tmp_path / "id" / "wfhaudit-2025-12.json").read_text("utf-8"))
    shared = [v for v in doc["violations"] if v["rule"] == "SHARED_COORDINATES"]
    assert {v["detail"] for v in shared} == {"K1"}
    assert doc["integrity"]["shared_coordinates"][0]["size"] == 3


def test_languages_differ_and_come_from_the_catalogues(fixture_dirs, tmp_path):
    results, store = fixture_dirs
    out = {}
    for lang in ("id", "en"):
        out[lang] = {
            p.suffix: all_text(p)
            for p in render_reports(
                results, formats=ALL, lang=lang, out_dir=tmp_path / lang, store=store
            )
        }
    id_cat, en_cat = catalogue("id"), catalogue("en")
    assert set(id_cat.labels) == set(en_cat.labels)
    assert set(id_cat.rules) == set(en_cat.rules)
    for key in ("title", "section_summary", "compliance_rate", "section_integrity"):
        assert id_cat.t(key) != en_cat.t(key)
        for ext in (".html", ".md"):
            assert id_cat.t(key) in out["id"][ext] and en_cat.t(key) not in out["id"][ext]
            assert en_cat.t(key) in out["en"][ext] and id_cat.t(key) not in out["en"][ext]
    assert "Temuan Integritas" in out["id"][".xlsx"]
    assert en_cat.sheets["integrity"] in out["en"][".xlsx"]
    # rule names are explained in both languages
    assert id_cat.rule_explain("ABSENT") in out["id"][".html"]
    assert en_cat.rule_explain("ABSENT") in out["en"][".html"]
    # Indonesian dates and numbers
    assert "2 Desember 2025" in out["id"][".html"] and "2 December 2025" in out["en"][".html"]
    assert "27,3%" in out["id"][".html"] and "27.3%" in out["en"][".html"]


def test_templates_hold_no_label_of_their_own():
    from wfhaudit.report.render import template_dir

    for name in ("report.html.j2", "report.md.j2"):
        text = (template_dir() / name).read_text("utf-8")
        stripped = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|<[^>]+>", " ", text, flags=re.S)
        words = re.findall(r"[A-Za-z][a-z]{3,}", stripped)
        assert words == [], (name, words[:10])


def test_number_and_date_formats():
    id_cat, en_cat = catalogue("id"), catalogue("en")
    assert id_cat.number(1234.5) == "1.234,5" and en_cat.number(1234.5) == "1,234.5"
    assert id_cat.integer(1234567) == "1.234.567"
    assert id_cat.percent(0.875) == "87,5%"
    import datetime as dt

    assert id_cat.date(dt.date(2025, 12, 2)) == "2 Desember 2025"
    assert en_cat.date("2025-12-02") == "2 December 2025"
    assert id_cat.datetime("2025-12-05T01:00:00+00:00") == "5 Desember 2025 08:00 WIB"


def test_model_summary_and_units(fixture_dirs):
    results, store = fixture_dirs
    m = build_report(results, store=store)
    s = m["summary"]
    assert (s["employee_days"], s["excused"], s["audited"]) == (12, 1, 11)
    assert s["clean_days"] == 3 and s["compliance_rate"] == pytest.approx(3 / 11)
    units = {u["unit_code"]: u for u in m["units"]}
    assert units["U1"]["unit_name"] == "Dinas Satu"  # from the store
    assert units["U2"]["quota_findings"] == 1
    # U1: 5 days without leave, WFH on Dec 4 for both -> 2/5 planned
    assert units["U1"]["planned_wfh_share"] == pytest.approx(2 / 5)
    # U1 employee-days with check-ins: 4; at home: employee 1 on Dec 4 only
    assert units["U1"]["realised_wfh_share"] == pytest.approx(1 / 4)
    assert [u["unit_code"] for u in m["units"]] == ["U1", "U2"]  # worst compliance first
    assert m["header"]["max_share"] == 0.5 and m["header"]["wfh_policies"] == ["WFH 50:50"]
    assert m["employees"][0]["nip"] == "198501012010011001"  # most equivalent days first
    assert m["summary"]["previous"] == {
        "label": "2025-11",
        "start": "2025-11-01",
        "end": "2025-11-30",
        "found": False,
    }
    # without a store: names from employee_summary, units by code
    m2 = build_report(results)
    assert {u["unit_name"] for u in m2["units"]} == {"U1", "U2"}


def test_change_against_the_previous_period(tmp_path):
    out = tmp_path / "out"
    now = make_results(out)
    make_results(out, label="2025-11", start="2025-11-01", end="2025-11-30")
    m = build_report(now)
    prev = m["summary"]["previous"]
    assert prev["found"] and prev["label"] == "2025-11"
    assert m["summary"]["change"]["violations_total"] == 0
    assert m["summary"]["change"]["compliance_rate"] == 0
    paths = render_reports(now, formats=["html", "md"], lang="en", out_dir=tmp_path)
    html = paths[0].read_text("utf-8")
    assert "Previous period (2025-11)" in html


def test_missing_result_files_are_a_data_error(tmp_path):
    with pytest.raises(DataError, match="run 'wfhaudit audit PERIOD' first"):
        build_report(tmp_path)


def test_every_sanction_tier_and_rule_has_a_label_in_both_languages():
    from wfhaudit.policy.sanctions import TIERS
    from wfhaudit.schema import ALL_RULES

    for lang in ("id", "en"):
        cat = catalogue(lang)
        assert {t.code for t in TIERS} <= set(cat.tiers), lang
        assert set(ALL_RULES) <= set(cat.rules), lang
    assert catalogue("id").tier("TEGURAN_LISAN") == "Teguran lisan"
    assert catalogue("en").tier(None) == "—"


def test_speed_and_top_employees(fixture_dirs, tmp_path):
    results, _ = fixture_dirs
    md = render_reports(results, formats=["md"], lang="id", out_dir=tmp_path)[0].read_text("utf-8")
    assert "| ∞ |" in md  # IMPOSSIBLE_TRAVEL detail "inf"
    # all agencies: only employees with equivalent days are listed (2 of 4)
    table = md.split("## Per pegawai", 1)[1].split("##", 1)[0]
    assert "198501012010011001" in table and "198501012010011004" in table
    assert "198501012010011002" not in table and "198501012010011003" not in table


def test_violations_sheet_is_cut_at_the_excel_limit_and_says_so(
    fixture_dirs, tmp_path, monkeypatch
):
    import wfhaudit.report.render as render

    results, _ = fixture_dirs
    monkeypatch.setattr(render, "EXCEL_MAX_ROWS", 4)
    path = render_reports(results, formats=["xlsx"], lang="en", out_dir=tmp_path)[0]
    cat = catalogue("en")
    assert pl.read_excel(path, sheet_name=cat.sheets["violations"]).height == 4
    summary = pl.read_excel(path, sheet_name=cat.sheets["summary"])
    kv = dict(summary.select(cat.t("code"), cat.t("value")).iter_rows())
    assert kv["violations_rows_in_sheet"] == 4 and kv["violations_total"] == 11


def test_charts_are_deterministic_and_self_contained(fixture_dirs):
    from wfhaudit.report import charts

    results, store = fixture_dirs
    model = build_report(results, store=store)
    first = charts.all_charts(model, catalogue("id"))
    again = charts.all_charts(model, catalogue("id"))
    assert first == again  # fixed hashsalt, no date: same bytes every run
    ids: list[str] = []
    for svg in first.values():
        assert svg.startswith("<svg") and "<metadata" not in svg and "<text" not in svg
        ids += re.findall(r'\bid="([^"]+)"', svg)
    assert len(ids) == len(set(ids))  # charts share one page: no id twice
    assert charts.all_charts(model, catalogue("en")) != first  # labels follow the language


def test_report_command_quiet_prints_nothing(fixture_dirs, tmp_path):
    from typer.testing import CliRunner

    from wfhaudit.cli import app

    results, _ = fixture_dirs
    args = ["report", "2025-12", "--results", str(results), "--out", str(tmp_path)]
    loud = CliRunner().invoke(app, [*args, "--format", "md"])
    assert loud.exit_code == 0 and "wfhaudit-2025-12.md" in loud.output
    quiet = CliRunner().invoke(app, [*args, "--format", "json", "--quiet"])
    assert quiet.exit_code == 0 and quiet.output == ""
    assert (tmp_path / "wfhaudit-2025-12.json").is_file()


def test_format_and_language_in_any_case(fixture_dirs, tmp_path):
    results, _ = fixture_dirs
    paths = render_reports(results, formats=["MD", "md", " Json "], lang="EN", out_dir=tmp_path)
    assert [p.suffix for p in paths] == [".md", ".json"]
    assert "## Summary" in paths[0].read_text("utf-8")


def test_unit_code_in_another_case_is_found(fixture_dirs, tmp_path):
    results, _ = fixture_dirs
    paths = render_reports(results, formats=["json"], unit="u1", out_dir=tmp_path)
    assert [p.name for p in paths] == ["wfhaudit-2025-12-U1.json"]
    doc = json.loads(paths[0].read_text("utf-8"))
    assert doc["header"]["unit"] == "U1"


def test_shared_device_groups_are_per_device(tmp_path):
    """A used HP-1 and HP-2, B used HP-1, C used HP-2: two groups of two, not three of one."""
    results = make_results(tmp_path / "out")
    day = dt.date(2025, 12, 3)
    rows = [
        ("198501012010011001", "HP-1,HP-2"),
        ("198501012010011002", "HP-1"),
        ("198501012010011003", "HP-2"),
    ]
    pl.DataFrame(
        [(nip, day, "U1", "SHARED_DEVICE", None, None, device) for nip, device in rows],
        schema=VIOLATIONS_SCHEMA,
        orient="row",
    ).write_parquet(results / "violations.parquet")
    groups = build_report(results)["integrity"]["shared_devices"]
    assert [(g["device"], [m["nip"] for m in g["members"]]) for g in groups] == [
        ("HP-1", ["198501012010011001", "198501012010011002"]),
        ("HP-2", ["198501012010011001", "198501012010011003"]),
    ]
