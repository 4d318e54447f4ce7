"""The round trip with the agencies, through the CLI (issue 12).

Audit the sample data, write one agency's xlsx report, fill two rows of its
"Tanggapan" sheet with openpyxl as an agency would (one reason beginning with "="),
ingest the returned file, audit again: those two findings are waived, the others
open, the report says 2 answered; the "=" reason stays text both ways.  Also the
sheet's structure (header row, protection, validation) and the "Klarifikasi"
section in every format and both languages.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from wfhaudit.audit.clarifications import RESPONSE_COLUMNS, RESPONSE_INPUT_COLUMNS
from wfhaudit.cli import app
from wfhaudit.demo import ingest_plan
from wfhaudit.schema import ALL_RULES

PERIOD = "2025-12"
AS_OF = "2026-01-01"
runner = CliRunner()
FORMULA_REASON = "=Dinas luar ke Bappeda (surat 800/12)"


def invoke(*args: Any):
    result = runner.invoke(app, [str(a) for a in args])
    return result


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample data ingested and audited once; the agency with the most findings."""
    root = tmp_path_factory.mktemp("roundtrip")
    data, store, first = root / "data", root / "store", root / "first"
    result = invoke("sample", "--out", data, "--employees", 60, "--units", 4, "--quiet")
    assert result.exit_code == 0, result.output
    for kind, files, options in ingest_plan(data):
        result = invoke("ingest", kind, *files, *options, "--store", store, "--quiet")
        assert result.exit_code == 0, result.output
    result = invoke("audit", PERIOD, "--store", store, "--as-of", AS_OF, "--out", first, "-q")
    assert result.exit_code == 0, result.output
    return {"root": root, "store": store, "first": first}


def busiest_unit(results: Path) -> str:
    v = pl.read_parquet(results / "violations.parquet")
    return str(v.group_by("unit_code").len().sort(["len", "unit_code"], descending=[True, False])
               ["unit_code"][0])


def report_xlsx(results: Path, store: Path, unit: str | None, out: Path, lang: str = "id"):
    args = ["report", PERIOD, "--results", results, "--store", store, "--format", "xlsx",
            "--lang", lang, "--out", out, "-q"]
    if unit:
        args += ["--unit", unit]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return out / (f"wfhaudit-{PERIOD}-{unit}.xlsx" if unit else f"wfhaudit-{PERIOD}.xlsx")


def test_round_trip_two_answers_waive_two_findings(sample: dict[str, Path]) -> None:
    root, store, first = sample["root"], sample["store"], sample["first"]
    unit = busiest_unit(first)
    before = pl.read_parquet(first / "violations.parquet").filter(pl.col("unit_code") == unit)
    assert before.height >= 3
    book = report_xlsx(first, store, unit, root / "sent")
    wb = openpyxl.load_workbook(book)
    ws = wb["Tanggapan"]
    header = [c.value for c in ws[1]]
    assert header == list(RESPONSE_COLUMNS)
    col = {name: i + 1 for i, name in enumerate(header)}
    data_rows = [r for r in range(2, ws.max_row + 1) if ws.cell(r, col["rule"]).value]
    assert len(data_rows) == before.height + pl.read_parquet(
        first / "unit_findings.parquet"
    ).filter(pl.col("unit_code") == unit).height
    # the agency answers the first two employee findings; a third row gets a reason
    # without decided_by (unanswered), a fourth says waive = tidak (kept)
    answered = data_rows[:2]
    reason = ws.cell(answered[0], col["reason"])
    reason.value = FORMULA_REASON
    reason.data_type = "s"  # typed into a text-formatted cell: text, not a formula
    ws.cell(answered[0], col["decided_by"]).value = "Kepala Dinas"
    ws.cell(answered[1], col["reason"]).value = "K-Mob gangguan pagi"
    ws.cell(answered[1], col["decided_by"]).value = "Sekretaris"
    ws.cell(answered[1], col["waive"]).value = "ya"
    ws.cell(data_rows[2], col["reason"]).value = "belum diputuskan"
    if len(data_rows) > 3:
        ws.cell(data_rows[3], col["reason"]).value = "hadir, tetapi tidak usul dihapus"
        ws.cell(data_rows[3], col["decided_by"]).value = "Kepala Dinas"
        ws.cell(data_rows[3], col["waive"]).value = "tidak"
    keys = [
        (ws.cell(r, col["nip"]).value, ws.cell(r, col["date"]).value, ws.cell(r, col["rule"]).value)
        for r in answered
    ]
    returned = root / "returned.xlsx"
    wb.save(returned)

    result = invoke("ingest", "clarifications", returned, "--store", store)
    assert result.exit_code == 0, result.output
    declined = 1 if len(data_rows) > 3 else 0
    assert (f"2 answered (stored as clarifications), {declined} answered with waive = no"
            in result.output)
    assert f"{len(data_rows) - 2 - declined} unanswered" in result.output
    stored = pl.read_delta(str(store / "clarifications"))
    assert sorted(stored["reason"].to_list()) == sorted([FORMULA_REASON, "K-Mob gangguan pagi"])
    assert set(stored["unit_code"].to_list()) == {unit}

    second = root / "second"
    result = invoke("audit", PERIOD, "--store", store, "--as-of", AS_OF, "--out", second, "-q")
    assert result.exit_code == 0, result.output
    waived = pl.read_parquet(second / "waived_violations.parquet")
    assert sorted((r["nip"], r["date"].isoformat(), r["rule"]) for r in waived.iter_rows(named=True)
                  ) == sorted(keys)
    after = pl.read_parquet(second / "violations.parquet").filter(pl.col("unit_code") == unit)
    assert after.height == before.height - 2
    assert pl.concat([after, waived.drop("reason", "decided_by")]).sort(
        "unit_code", "nip", "date", "rule"
    ).equals(before)
    meta = json.loads((second / "audit.json").read_text())
    assert meta["counts"]["waived_violations"] == 2
    assert meta["clarifications"]["rows"] == 2

    # the report says 2 answered, in every format; the "=" reason is written back as text
    result = invoke("report", PERIOD, "--results", second, "--store", store, "--unit", unit,
                    "--format", "md", "--format", "json", "--format", "xlsx", "--format", "html",
                    "--out", root / "final", "-q")
    assert result.exit_code == 0, result.output
    md = (root / "final" / f"wfhaudit-{PERIOD}-{unit}.md").read_text()
    section = md[md.index("## Klarifikasi"):]
    open_now = after.height + pl.read_parquet(second / "unit_findings.parquet").filter(
        pl.col("unit_code") == unit
    ).height
    assert f"| {open_now} | 2 |" in section.replace("`", "")
    assert "\\=Dinas" not in section and FORMULA_REASON in section
    model = json.loads((root / "final" / f"wfhaudit-{PERIOD}-{unit}.json").read_text())
    assert model["clarifications"]["answered"] == 2
    assert model["clarifications"]["units"][0]["answered"] == 2
    assert model["clarifications"]["units"][0]["open"] == open_now
    html = (root / "final" / f"wfhaudit-{PERIOD}-{unit}.html").read_text()
    assert '<section id="clarifications">' in html and FORMULA_REASON in html
    final = openpyxl.load_workbook(root / "final" / f"wfhaudit-{PERIOD}-{unit}.xlsx")
    cells = [c for row in final["Klarifikasi"].iter_rows() for c in row
             if c.value == FORMULA_REASON]
    assert cells and all(c.data_type == "s" for c in cells)
    # the answered findings are no longer in the agency's responses sheet
    again = final["Tanggapan"]
    rows_now = [r for r in range(2, again.max_row + 1) if again.cell(r, col["rule"]).value]
    assert len(rows_now) == open_now
    # and the employees' table counts them nowhere
    summary = pl.read_parquet(second / "employee_summary.parquet")
    first_summary = pl.read_parquet(first / "employee_summary.parquet")
    assert summary.height == first_summary.height


def test_responses_sheet_is_protected_and_validated(sample: dict[str, Path]) -> None:
    unit = busiest_unit(sample["first"])
    book = report_xlsx(sample["first"], sample["store"], unit, sample["root"] / "check", "en")
    wb = openpyxl.load_workbook(book)
    assert "Responses" in wb.sheetnames and "Clarifications" in wb.sheetnames
    ws = wb["Responses"]
    assert ws.protection.sheet is True
    header = [c.value for c in ws[1]]
    assert header == list(RESPONSE_COLUMNS)
    for i, name in enumerate(header, start=1):
        cell = ws.cell(2, i)
        if name in RESPONSE_INPUT_COLUMNS:
            assert cell.protection.locked is False and cell.number_format == "@", name
        else:
            assert cell.protection.locked is True, name
    rule_col = openpyxl.utils.get_column_letter(header.index("rule") + 1)
    validations = {str(v.sqref).split(":")[0]: v for v in ws.data_validations.dataValidation}
    rule_check = validations[f"{rule_col}2"]
    assert rule_check.type == "list" and "_codes" in rule_check.formula1
    codes = [c.value for c in wb["_codes"]["A"]]
    assert codes == list(ALL_RULES)
    waive_col = openpyxl.utils.get_column_letter(header.index("waive") + 1)
    assert validations[f"{waive_col}2"].formula1 == '"yes,no"'


def test_report_for_all_agencies_has_no_responses_sheet(sample: dict[str, Path]) -> None:
    book = report_xlsx(sample["first"], sample["store"], None, sample["root"] / "all")
    names = openpyxl.load_workbook(book).sheetnames
    assert "Klarifikasi" in names and "Tanggapan" not in names


def test_returned_workbook_without_answers_stores_nothing(sample: dict[str, Path],
                                                          tmp_path: Path) -> None:
    unit = busiest_unit(sample["first"])
    book = report_xlsx(sample["first"], sample["store"], unit, tmp_path)
    store = tmp_path / "store"
    result = invoke("ingest", "clarifications", book, "--store", store)
    assert result.exit_code == 0, result.output
    assert "0 answered (stored as clarifications)" in result.output
    assert not (store / "clarifications").exists() or pl.read_delta(
        str(store / "clarifications")
    ).height == 0


@pytest.mark.parametrize("lang, title, none", [
    ("id", "## Klarifikasi", "Tidak ada temuan periode ini yang dihapuskan"),
    ("en", "## Clarifications", "No finding of this period was waived"),
])
def test_section_in_both_languages_without_waivers(
    sample: dict[str, Path], tmp_path: Path, lang: str, title: str, none: str
) -> None:
    result = invoke("report", PERIOD, "--results", sample["first"], "--store", sample["store"],
                    "--format", "md", "--lang", lang, "--out", tmp_path, "-q")
    assert result.exit_code == 0, result.output
    md = (tmp_path / f"wfhaudit-{PERIOD}.md").read_text()
    assert title in md and none in md
    open_total = pl.read_parquet(sample["first"] / "violations.parquet").height + pl.read_parquet(
        sample["first"] / "unit_findings.parquet"
    ).height
    section = md[md.index(title):]
    assert f"{open_total:,}".replace(",", "." if lang == "id" else ",") in section


WORKED = Path(__file__).parent / "data" / "worked"
WORKED_PERIOD = "2025-12-02..2025-12-11"


def test_an_answered_agency_row_waives_only_the_agency_finding(tmp_path: Path) -> None:
    """The worked example's U2 exceeds the cap on 2 Dec: its row in U2's Tanggapan sheet
    has no NIP; answered, it becomes a clarification with an empty nip, which waives the
    agency finding and not the findings of U2's staff that day."""
    store, first, second = tmp_path / "store", tmp_path / "first", tmp_path / "second"
    for kind in ("employees", "offices", "roster", "attendance", "outputs", "leave"):
        result = invoke("ingest", kind, WORKED / f"{kind}.csv", "--store", store, "-q")
        assert result.exit_code == 0, result.output
    audit = ("audit", WORKED_PERIOD, "--store", store, "--as-of", "2025-12-12", "-q")
    assert invoke(*audit, "--out", first).exit_code == 0
    result = invoke("report", WORKED_PERIOD, "--results", first, "--store", store, "--unit", "U2",
                    "--format", "xlsx", "--out", tmp_path, "-q")
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(tmp_path / f"wfhaudit-{WORKED_PERIOD}-U2.xlsx")
    ws = wb["Tanggapan"]
    col = {c.value: i + 1 for i, c in enumerate(ws[1])}
    quota = [r for r in range(2, ws.max_row + 1)
             if ws.cell(r, col["rule"]).value == "WFH_QUOTA_EXCEEDED"
             and ws.cell(r, col["date"]).value == "2025-12-02"]
    assert len(quota) == 1 and ws.cell(quota[0], col["nip"]).value is None
    assert "temuan perangkat daerah: 5 dari 9" in ws.cell(quota[0], col["detail"]).value
    ws.cell(quota[0], col["reason"]).value = "Piket bergilir disetujui"
    ws.cell(quota[0], col["decided_by"]).value = "Sekretaris Daerah"
    wb.save(tmp_path / "returned.xlsx")
    result = invoke("ingest", "clarifications", tmp_path / "returned.xlsx", "--store", store)
    assert result.exit_code == 0 and "1 answered" in result.output, result.output
    assert pl.read_delta(str(store / "clarifications")).select(
        "nip", "unit_code", "start", "end", "rule"
    ).rows() == [("", "U2", dt.date(2025, 12, 2), dt.date(2025, 12, 2), "WFH_QUOTA_EXCEEDED")]
    assert invoke(*audit, "--out", second).exit_code == 0
    waived_u = pl.read_parquet(second / "waived_unit_findings.parquet")
    assert waived_u.select("unit_code", "rule", "reason").rows() == [
        ("U2", "WFH_QUOTA_EXCEEDED", "Piket bergilir disetujui")
    ]
    assert pl.read_parquet(second / "waived_violations.parquet").height == 0
    assert pl.read_parquet(second / "violations.parquet").equals(
        pl.read_parquet(first / "violations.parquet")
    )


def test_reasons_with_formula_signs_are_written_back_as_text(tmp_path: Path) -> None:
    store, out = tmp_path / "store", tmp_path / "out"
    for kind in ("employees", "offices", "roster", "attendance", "outputs", "leave"):
        assert invoke("ingest", kind, WORKED / f"{kind}.csv", "--store", store, "-q").exit_code == 0
    a = "198501012010011001"
    decisions = [  # A's findings of the worked example, one reason per formula sign
        ("2025-12-03", "LATE", '=HYPERLINK("http://evil.example","klik")'),
        ("2025-12-03", "EARLY_LEAVE", "+62 812 0000 1111"),
        ("2025-12-04", "WRONG_LOCATION", "-dinas ke lapangan"),
        ("2025-12-05", "ABSENT", "@kantor cabang"),
    ]
    for day, rule, reason in decisions:
        result = invoke("clarify", "--nip", a, "--date", day, "--rule", rule, "--reason", reason,
                        "--by", "Kepala", "--store", store, "-q")
        assert result.exit_code == 0, result.output
    audit = ("audit", WORKED_PERIOD, "--store", store, "--as-of", "2025-12-12", "--out", out, "-q")
    assert invoke(*audit).exit_code == 0
    waived = pl.read_parquet(out / "waived_violations.parquet")
    assert sorted(waived["reason"].to_list()) == sorted(r for _, _, r in decisions)
    result = invoke("report", WORKED_PERIOD, "--results", out, "--store", store, "--unit", "U1",
                    "--format", "xlsx", "--format", "md", "--out", out, "-q")
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out / f"wfhaudit-{WORKED_PERIOD}-U1.xlsx")
    cells = {c.value: c for row in wb["Klarifikasi"].iter_rows() for c in row if c.value}
    for _, _, reason in decisions:
        assert cells[reason].data_type == "s", reason  # text, not a formula
    with zipfile.ZipFile(out / f"wfhaudit-{WORKED_PERIOD}-U1.xlsx") as zf:
        assert not any("<f>" in zf.read(n).decode("utf-8", "replace")
                       for n in zf.namelist() if n.startswith("xl/worksheets/"))
    md = (out / f"wfhaudit-{WORKED_PERIOD}-U1.md").read_text()
    assert all(reason.replace("<", "&lt;") in md for _, _, reason in decisions)
