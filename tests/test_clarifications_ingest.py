"""``ingest clarifications`` (every format, validation, spreadsheet safety) and the
``clarify`` command (issue 12)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest
from test_audit_support import read_csv
from typer.testing import CliRunner

from wfhaudit.cli import app
from wfhaudit.ingest import ingest_files
from wfhaudit.schema import ALL_RULES, CLARIFICATIONS
from wfhaudit.store import Store

FAIRNESS = Path(__file__).parent / "data" / "fairness"
WORKED = Path(__file__).parent / "data" / "worked"
HEADER = "nip,unit_code,start,end,rule,reason,decided_by\n"
NIP_A = "198501012010011001"
runner = CliRunner()

#: the fairness example's three rows as the store holds them ("" for an empty cell)
STORED = [
    {"nip": "", "unit_code": "U1", "start": dt.date(2025, 12, 10), "end": dt.date(2025, 12, 10),
     "rule": "LATE", "reason": "K-Mob gangguan 07:00-09:00", "decided_by": "Kepala BKD"},
    {"nip": "", "unit_code": "U6", "start": dt.date(2025, 12, 4), "end": dt.date(2025, 12, 4),
     "rule": "", "reason": "Uji coba jadwal WFH disetujui", "decided_by": "Sekretaris Daerah"},
    {"nip": NIP_A, "unit_code": "", "start": dt.date(2025, 12, 10), "end": dt.date(2025, 12, 10),
     "rule": "", "reason": "Izin atasan: rapat di Bappeda", "decided_by": "Kepala Dinas Satu"},
]


def stored(store: Store) -> list[dict]:
    return store.scan("clarifications").collect().sort("nip", "unit_code", "start").to_dicts()


def _as(fmt: str, tmp_path: Path) -> Path:
    src = FAIRNESS / "clarifications.csv"
    if fmt == "csv":
        return src
    frame = pl.read_csv(src, infer_schema=False)
    if fmt == "xlsx":
        frame.write_excel(tmp_path / "c.xlsx", worksheet="Data")
        return tmp_path / "c.xlsx"
    frame.write_parquet(tmp_path / "c.parquet")
    return tmp_path / "c.parquet"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_each_format_stores_the_rows_with_empty_cells_as_values(tmp_path: Path, fmt: str) -> None:
    store = Store(tmp_path / "store")
    summary = ingest_files(store, "clarifications", [_as(fmt, tmp_path)])
    assert (summary.read, summary.inserted, summary.rejected) == (3, 3, 0)
    assert stored(store) == STORED
    got = store.scan("clarifications").collect()
    assert got.schema == CLARIFICATIONS.schema
    # the same file again: every key found, nothing changed
    again = ingest_files(store, "clarifications", [_as(fmt, tmp_path)])
    assert (again.inserted, again.replaced, again.unchanged) == (0, 0, 3)


def test_the_test_copy_reads_like_the_spec_rows() -> None:
    rows = read_csv("clarifications", FAIRNESS / "clarifications.csv")
    assert rows.select(CLARIFICATIONS.canonical_exprs()).sort("nip", "unit_code").to_dicts() == (
        STORED
    )


def test_bad_rows_are_rejected_with_the_codes_of_data_md(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(
        HEADER
        + ",U1,2025-12-10,2025-12-09,LATE,mundur,Kepala BKD\n"  # end < start
        + ",U1,2025-12-10,2025-12-10,TERLAMBAT,salah kode,Kepala BKD\n"  # unknown rule
        + "12345,U1,2025-12-10,2025-12-10,,nip pendek,Kepala BKD\n"
        + ",U1,2025-12-10,2025-12-10,LATE,,Kepala BKD\n"  # no reason
        + ",U1,2025-12-10,,LATE,tanpa akhir,Kepala BKD\n"  # no end
        + ",U2,2025-12-11,2025-12-12,late,huruf kecil,Kepala BKD\n"  # a valid row
    )
    store = Store(tmp_path / "store")
    summary = ingest_files(store, "clarifications", [f])
    assert summary.rejected_by_code == {"missing-value": 2, "bad-nip": 1, "out-of-range": 1,
                                        "bad-enum": 1}
    messages = {r["source_row"]: (r["error_code"], r["message"]) for r in summary.rejects_sample}
    assert messages["2"] == ("out-of-range", "end 2025-12-09 is before start 2025-12-10")
    code, message = messages["3"]
    assert code == "bad-enum" and "'TERLAMBAT'" in message
    assert all(rule in message for rule in ALL_RULES)  # names the valid codes
    assert [r["rule"] for r in stored(store)] == ["LATE"]


def test_a_reason_beginning_with_a_formula_sign_is_stored_as_text(tmp_path: Path) -> None:
    reasons = ["=HYPERLINK(\"http://x\")", "+62 812 1111", "-sakit mendadak", "@kantor cabang"]
    f = tmp_path / "c.csv"
    f.write_text(HEADER + "".join(
        f'{NIP_A},,2025-12-{10 + i},2025-12-{10 + i},,"{r.replace(chr(34), chr(34) * 2)}",Kepala\n'
        for i, r in enumerate(reasons)
    ))
    store = Store(tmp_path / "store")
    ingest_files(store, "clarifications", [f])
    assert [r["reason"] for r in stored(store)] == reasons
    # an .xlsx cell holding such text (a text cell, as the responses sheet formats them)
    import xlsxwriter

    book = tmp_path / "c.xlsx"
    wb = xlsxwriter.Workbook(str(book), {"strings_to_formulas": False})
    ws = wb.add_worksheet("Data")
    for col, name in enumerate(HEADER.strip().split(",")):
        ws.write_string(0, col, name)
    for row, reason in enumerate(reasons, start=1):
        values = ["", "U9", f"2025-12-0{row}", f"2025-12-0{row}", "", reason, "Sekda"]
        for col, value in enumerate(values):
            ws.write_string(row, col, value)
    wb.close()
    ingest_files(store, "clarifications", [book])
    u9 = [r["reason"] for r in stored(store) if r["unit_code"] == "U9"]
    assert u9 == reasons


# --- the clarify command --------------------------------------------------------------


@pytest.fixture
def audited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The worked example ingested and audited into the default results directory."""
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "store"
    for kind in ("employees", "offices", "roster", "attendance", "outputs", "leave"):
        result = runner.invoke(app, ["ingest", kind, str(WORKED / f"{kind}.csv"),
                                     "--store", str(store), "-q"])
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["audit", "2025-12-02..2025-12-11", "--store", str(store),
                                 "--as-of", "2025-12-12", "-q"])
    assert result.exit_code == 0, result.output
    return store


def _results() -> Path:
    return Path("reports") / "out" / "2025-12-02..2025-12-11"


def test_clarify_records_and_counts_what_the_last_audit_would_waive(audited: Path) -> None:
    v = pl.read_parquet(_results() / "violations.parquet")
    late = v.filter((pl.col("unit_code") == "U1") & (pl.col("rule") == "LATE")
                    & (pl.col("date") == dt.date(2025, 12, 3))).height
    assert late == 1
    result = runner.invoke(app, [
        "clarify", "--unit", "U1", "--date", "2025-12-03", "--rule", "late",
        "--reason", "K-Mob gangguan 07:00-09:00", "--by", "Kepala BKD", "--store", str(audited),
    ])
    assert result.exit_code == 0, result.output
    assert "recorded clarification (every employee, unit U1, 2025-12-03, LATE)" in result.output
    assert "it would waive 1 violation(s) and 0 agency finding(s)" in result.output
    assert stored(Store(audited)) == [{
        "nip": "", "unit_code": "U1", "start": dt.date(2025, 12, 3), "end": dt.date(2025, 12, 3),
        "rule": "LATE", "reason": "K-Mob gangguan 07:00-09:00", "decided_by": "Kepala BKD",
    }]
    # the same key again, a longer span: replaces; every rule of U2 on 2..3 Dec
    result = runner.invoke(app, [
        "clarify", "--unit", "U1", "--date", "2025-12-03", "--to", "2025-12-04", "--rule", "LATE",
        "--reason", "K-Mob gangguan dua hari", "--by", "Kepala BKD", "--store", str(audited),
    ])
    assert result.exit_code == 0 and "replaced clarification" in result.output
    u2 = v.filter((pl.col("unit_code") == "U2") & pl.col("date").is_between(
        dt.date(2025, 12, 2), dt.date(2025, 12, 3))).height
    uf = pl.read_parquet(_results() / "unit_findings.parquet")
    u2_findings = uf.filter((pl.col("unit_code") == "U2") & pl.col("date").is_between(
        dt.date(2025, 12, 2), dt.date(2025, 12, 3))).height
    assert u2_findings > 0  # v2: U2 has no data at all, so only agency findings
    result = runner.invoke(app, [
        "clarify", "--unit", "U2", "--date", "2025-12-02", "--to", "2025-12-03",
        "--reason", "Uji coba", "--by", "Sekda", "--store", str(audited),
    ])
    assert result.exit_code == 0, result.output
    assert f"it would waive {u2:,} violation(s) and {u2_findings:,} agency finding(s)" in (
        result.output
    )
    # the next audit applies them: exactly those rows leave violations.parquet
    result = runner.invoke(app, ["audit", "2025-12-02..2025-12-11", "--store", str(audited),
                                 "--as-of", "2025-12-12"])
    assert result.exit_code == 0, result.output
    assert re.search(rf"waived by clarifications\s*│\s*{u2 + 1 + u2_findings:,} ", result.output)
    waived = pl.read_parquet(_results() / "waived_violations.parquet")
    assert waived.height == u2 + 1
    assert pl.read_parquet(_results() / "violations.parquet").height == v.height - u2 - 1
    assert pl.read_parquet(_results() / "waived_unit_findings.parquet").height == u2_findings


@pytest.mark.parametrize("args, words", [
    (["--date", "2025-12-10", "--to", "2025-12-09"], "--to 2025-12-09 is before --date 2025-12-10"),
    (["--date", "10/12/2025x"], "in --date is not a date"),
    (["--date", "2025-12-10", "--rule", "TELAT"], "'TELAT' in --rule is not one of ABSENT"),
    (["--date", "2025-12-10", "--nip", "1985"], "NIP '1985' is not exactly 18 digits"),
    (["--date", "2025-12-10", "--reason", "  "], "required value --reason is empty"),
])
def test_clarify_refuses_bad_options_and_records_nothing(
    tmp_path: Path, args: list[str], words: str
) -> None:
    base = {"--reason": "alasan", "--by": "Kepala BKD"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    flat = [x for pair in base.items() for x in pair]
    result = runner.invoke(app, ["clarify", *flat, "--store", str(tmp_path / "store")])
    assert result.exit_code == 2, result.output
    assert words in result.output and "nothing was recorded" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "store" / "clarifications").exists()


def test_clarify_without_an_audit_says_the_next_audit_applies_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["clarify", "--date", "2025-12-10", "--nip", NIP_A,
                                 "--reason", "izin", "--by", "Kepala", "--store", "st"])
    assert result.exit_code == 0, result.output
    assert f"NIP {NIP_A}, every agency, 2025-12-10, every rule" in result.output
    assert "the next audit applies it" in result.output
