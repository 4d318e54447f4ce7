"""``roster check`` on small grids: each problem's exact rows, the suggestion, exit codes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from test_audit_support import employee, make_store
from typer.testing import CliRunner

from wfhaudit.audit.calendar import working_days
from wfhaudit.cli import app
from wfhaudit.policy import load_policy
from wfhaudit.roster import check_roster, safe_unit
from wfhaudit.roster.render import report_name
from wfhaudit.store import Store

runner = CliRunner()

A1, A2, A3, A4 = (f"19800101200501100{i}" for i in range(1, 5))
B1 = "198202022006042001"
UNKNOWN = "199901012020011999"
DEC = working_days(load_policy(), dt.date(2025, 12, 1), dt.date(2025, 12, 31))
JAN = working_days(load_policy(), dt.date(2026, 1, 1), dt.date(2026, 1, 31))
STAFF = [A1, A2, A3, A4]

EXEMPT_POLICY = """
[[wfh]]
name = "WFH 50:50"
from = 2025-12-02
to = 2025-12-31
weekdays = ["mon", "tue", "wed", "thu", "fri"]
default_wfh_weekdays = []
max_share = 0.5
exempt_units = ["U1"]
"""


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("roster") / "store"
    make_store(
        path,
        employees=[employee(n, "U1", name=f"Pegawai {n[-1]}") for n in STAFF]
        + [employee(B1, "U2", name="Pegawai B")],
        leave=[
            {"nip": A4, "start": dt.date(2025, 12, 4), "end": dt.date(2025, 12, 4),
             "kind": "CUTI"}
        ],
    )
    return path


def grid(
    path: Path,
    days: list[dt.date],
    cells: dict[str, dict[dt.date, str]] | None = None,
    staff: tuple[str, ...] | list[str] = tuple(STAFF),
    extra: tuple[str, ...] | list[str] = (),
) -> Path:
    """A roster grid CSV: NIP, Nama, one column per day; WFO unless ``cells`` says."""
    cells = cells or {}
    rows = []
    for nip in [*staff, *extra]:
        row = {"NIP": nip, "Nama": f"Pegawai {nip[-1]}"}
        for day in days:
            row[day.isoformat()] = cells.get(nip, {}).get(day, "WFO")
        rows.append(row)
    pl.DataFrame(rows).write_csv(path)
    return path


def check(store_dir: Path, files: list[Path], month: str = "2025-12", policy=None):
    return check_roster(
        Store(store_dir),
        month,
        policy or load_policy(),
        files=files,
    )


def rows(result, problem: str) -> list[dict]:
    return result.problems.filter(pl.col("problem") == problem).drop("problem").to_dicts()


def invoke(store_dir: Path, out: Path, *args: str):
    return runner.invoke(
        app, ["roster", "check", *args, "--store", str(store_dir), "--out", str(out)]
    )


def test_a_full_grid_within_the_policy_has_no_problem(store_dir: Path, tmp_path: Path) -> None:
    file = grid(tmp_path / "U1.csv", DEC)
    result = check(store_dir, [file])
    assert result.units == ["U1"]
    assert result.problems.height == 0
    assert result.suggestion.moves.height == 0
    done = invoke(store_dir, tmp_path / "out", str(file), "--month", "2025-12")
    assert done.exit_code == 0, done.output
    assert "OK" in done.output
    assert (tmp_path / "out" / "roster-check-2025-12-U1.md").exists()


def test_a_day_over_the_cap_and_the_suggestion_brings_it_exactly_to_the_cap(
    store_dir: Path, tmp_path: Path
) -> None:
    day = dt.date(2025, 12, 3)
    file = grid(tmp_path / "U1.csv", DEC, {n: {day: "WFH"} for n in (A1, A2, A3)})
    result = check(store_dir, [file])
    assert rows(result, "WFH_QUOTA_EXCEEDED") == [
        {"unit_code": "U1", "date": day, "nip": None, "name": None, "count": 3,
         "headcount": 4, "share": 0.75, "max_share": 0.5, "over": 1, "detail": None,
         "source_file": None}
    ]
    assert set(result.problems["problem"]) == {"WFH_QUOTA_EXCEEDED"}
    # 3 of 4 is over 50%; moving one gives 2 of 4 = 50%, exactly the cap; all tie: NIP order
    assert result.suggestion.moves.to_dicts() == [
        {"unit_code": "U1", "date": day, "nip": A1, "source": "roster",
         "reason": "WFH_QUOTA_EXCEEDED"}
    ]
    assert result.suggestion.verified
    done = invoke(store_dir, tmp_path / "out", str(file), "--month", "2025-12")
    assert done.exit_code == 1
    assert "breaks the WFH policy" in done.output
    text = (tmp_path / "out" / "roster-check-2025-12-U1.md").read_text()
    assert "3 Desember 2025" in text and "75,0%" in text and A1 in text
    assert "Cara usulan dipilih" in text


def test_leave_lowers_the_headcount(store_dir: Path, tmp_path: Path) -> None:
    day = dt.date(2025, 12, 4)  # A4 is on CUTI: 2 WFH of 3, not of 4
    file = grid(tmp_path / "U1.csv", DEC, {n: {day: "WFH"} for n in (A1, A2)})
    result = check(store_dir, [file])
    assert [(r["date"], r["count"], r["headcount"], r["over"]) for r in
            rows(result, "WFH_QUOTA_EXCEEDED")] == [(day, 2, 3, 1)]
    assert result.suggestion.moves.get_column("nip").to_list() == [A1]


def test_wfh_on_a_weekday_where_it_is_not_allowed(store_dir: Path, tmp_path: Path) -> None:
    wednesday = dt.date(2026, 1, 7)  # 2026: WFH on Thursday and Friday only
    file = grid(tmp_path / "U1.csv", JAN, {A2: {wednesday: "WFH"}})
    result = check(store_dir, [file], month="2026-01")
    assert rows(result, "WFH_NOT_ALLOWED") == [
        {"unit_code": "U1", "date": wednesday, "nip": None, "name": None, "count": 1,
         "headcount": 4, "share": None, "max_share": None, "over": None,
         "detail": "weekday_not_allowed", "source_file": None}
    ]
    assert set(result.problems["problem"]) == {"WFH_NOT_ALLOWED"}
    assert result.suggestion.moves.select("nip", "reason").rows() == [(A2, "WFH_NOT_ALLOWED")]
    done = invoke(store_dir, tmp_path / "o", str(file), "--month", "2026-01", "--lang", "en")
    assert done.exit_code == 1
    text = (tmp_path / "o" / "roster-check-2026-01-U1.md").read_text()
    assert "not a WFH weekday" in text
    assert "## Dinas U1 (U1): 1 problem\n" in text


def test_wfh_in_an_exempt_agency(store_dir: Path, tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(EXEMPT_POLICY)
    day = dt.date(2025, 12, 9)
    file = grid(tmp_path / "U1.csv", DEC, {A3: {day: "WFH"}})
    result = check(store_dir, [file], policy=load_policy(policy_file))
    assert [(r["date"], r["count"], r["detail"]) for r in rows(result, "WFH_NOT_ALLOWED")] == [
        (day, 1, "unit_exempt")
    ]
    assert set(result.problems["problem"]) == {"WFH_NOT_ALLOWED"}
    done = invoke(store_dir, tmp_path / "o", str(file), "--month", "2025-12",
                  "--policy", str(policy_file))
    assert done.exit_code == 1


def test_a_nip_of_another_agency(store_dir: Path, tmp_path: Path) -> None:
    file = grid(tmp_path / "U1.csv", DEC, extra=[B1])
    result = check(store_dir, [file])
    assert rows(result, "NIP_OTHER_UNIT") == [
        {"unit_code": "U1", "date": DEC[0], "nip": B1, "name": "Pegawai B", "count": len(DEC),
         "headcount": None, "share": None, "max_share": None, "over": None, "detail": "U2",
         "source_file": str(file)}
    ]
    assert set(result.problems["problem"]) == {"NIP_OTHER_UNIT"}
    done = invoke(store_dir, tmp_path / "o", str(file), "--month", "2025-12")
    assert done.exit_code == 0  # a data problem, not a breach of the policy
    assert "1 problem" in done.output


def test_an_unknown_nip(store_dir: Path, tmp_path: Path) -> None:
    file = grid(tmp_path / "U1.csv", DEC, extra=[UNKNOWN])
    result = check(store_dir, [file])
    assert rows(result, "NIP_UNKNOWN") == [
        {"unit_code": "U1", "date": DEC[0], "nip": UNKNOWN, "name": None, "count": len(DEC),
         "headcount": None, "share": None, "max_share": None, "over": None, "detail": None,
         "source_file": str(file)}
    ]
    assert set(result.problems["problem"]) == {"NIP_UNKNOWN"}
    assert invoke(store_dir, tmp_path / "o", str(file), "--month", "2025-12").exit_code == 0


def test_a_missing_employee_gets_the_default(store_dir: Path, tmp_path: Path) -> None:
    file = grid(tmp_path / "U1.csv", DEC, staff=[A1, A2, A3])
    result = check(store_dir, [file])
    assert rows(result, "EMPLOYEE_WITHOUT_ENTRY") == [
        {"unit_code": "U1", "date": None, "nip": A4, "name": "Pegawai 4", "count": len(DEC),
         "headcount": None, "share": None, "max_share": None, "over": None, "detail": "WFO",
         "source_file": None}
    ]
    assert set(result.problems["problem"]) == {"EMPLOYEE_WITHOUT_ENTRY"}
    assert invoke(store_dir, tmp_path / "o", str(file), "--month", "2025-12").exit_code == 0


def test_a_missing_day(store_dir: Path, tmp_path: Path) -> None:
    missing = dt.date(2025, 12, 10)
    file = grid(tmp_path / "U1.csv", [d for d in DEC if d != missing])
    result = check(store_dir, [file])
    assert rows(result, "DAY_WITHOUT_ENTRY") == [
        {"unit_code": "U1", "date": missing, "nip": None, "name": None, "count": None,
         "headcount": 4, "share": None, "max_share": None, "over": None, "detail": None,
         "source_file": None}
    ]
    assert set(result.problems["problem"]) == {"DAY_WITHOUT_ENTRY"}


def test_a_saturday_entry(store_dir: Path, tmp_path: Path) -> None:
    saturday = dt.date(2025, 12, 6)
    file = grid(tmp_path / "U1.csv", sorted([*DEC, saturday]), staff=[A1, A2, A3, A4])
    result = check(store_dir, [file])
    assert [(r["nip"], r["date"], r["detail"]) for r in rows(result, "ENTRY_NON_WORKING_DAY")] == [
        (n, saturday, "sat") for n in STAFF
    ]
    assert set(result.problems["problem"]) == {"ENTRY_NON_WORKING_DAY"}
    assert invoke(store_dir, tmp_path / "o", str(file), "--month", "2025-12").exit_code == 0


def test_rejected_rows_have_the_ingest_message(store_dir: Path, tmp_path: Path) -> None:
    file = grid(tmp_path / "U1.csv", DEC, {A1: {DEC[3]: "LIBUR"}})
    result = check(store_dir, [file])
    rejected = rows(result, "REJECTED_ROW")
    dry = runner.invoke(
        app, ["ingest", "roster", str(file), "--store", str(store_dir), "--dry-run", "--json"]
    )
    sample = json.loads(dry.output)["rejects_sample"]
    assert len(rejected) == len(sample) == 1
    assert rejected[0]["detail"] == (
        f"{sample[0]['source_row']}: {sample[0]['message']} ({sample[0]['error_code']})"
    )
    # the rejected cell is no entry: that day A1 takes the default
    assert set(result.problems["problem"]) == {"REJECTED_ROW"}


def test_the_stored_roster_is_checked_without_files(tmp_path: Path) -> None:
    day = dt.date(2025, 12, 3)
    store = make_store(
        tmp_path / "s",
        employees=[employee(n, "U1") for n in STAFF],
        roster=[{"nip": n, "date": d, "mode": "WFH" if d == day and n != A4 else "WFO"}
                for n in STAFF for d in DEC],
    )
    result = check_roster(store, "2025-12", load_policy())
    assert result.source == "store"
    assert result.problems.select("problem", "date", "count").rows() == [
        ("WFH_QUOTA_EXCEEDED", day, 3)
    ]
    done = runner.invoke(app, ["roster", "check", "--month", "2025-12", "--store",
                               str(tmp_path / "s"), "--out", str(tmp_path / "o"), "--json"])
    assert done.exit_code == 1
    assert json.loads(done.stdout)["breaks"] == {"WFH_QUOTA_EXCEEDED": 1, "WFH_NOT_ALLOWED": 0}
    ok = runner.invoke(app, ["roster", "check", "--month", "2025-12", "--store",
                             str(tmp_path / "s"), "--out", str(tmp_path / "o"),
                             "--fail-on", "WFH_QUOTA_EXCEEDED=1"])
    assert ok.exit_code == 0, ok.output


@pytest.mark.parametrize("fmt", ["md", "html", "xlsx", "json"])
def test_every_format_is_written_for_the_agency(
    store_dir: Path, tmp_path: Path, fmt: str
) -> None:
    day = dt.date(2025, 12, 3)
    file = grid(tmp_path / "U1.csv", DEC, {n: {day: "WFH"} for n in (A1, A2, A3)})
    done = invoke(store_dir, tmp_path / "o", str(file), "--month", "2025-12", "--format", fmt)
    assert done.exit_code == 1
    names = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert names == [f"roster-check-2025-12-U1.{fmt}"]
    assert (tmp_path / "o" / f"roster-check-2025-12-U1.{fmt}").stat().st_size > 0
    if fmt == "json":
        doc = json.loads((tmp_path / "o" / "roster-check-2025-12-U1.json").read_text())
        assert doc["suggestion"]["moves"] == [
            {"unit_code": "U1", "date": "2025-12-03", "nip": A1, "source": "roster",
             "reason": "WFH_QUOTA_EXCEEDED"}
        ]
    if fmt == "xlsx":
        sheets = pl.read_excel(tmp_path / "o" / "roster-check-2025-12-U1.xlsx", sheet_id=0)
        assert len(sheets) == 3


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--month", "2025-13"], 2, "not a month"),
        ([], 2, "needs --month"),
        (["--month", "2025-12", "--fail-on", "ABSENT=0"], 2, "counts only"),
        (["--month", "2025-12", "--format", "pdf"], 2, "unknown report format"),
        (["--month", "2025-12", "--lang", "fr"], 2, "unknown report language"),
        (["--month", "2025-12", "--unit", "NOPE"], 2, "unknown unit"),
        (["missing.xlsx", "--month", "2025-12"], 3, "missing.xlsx"),
    ],
)
def test_bad_input_is_one_sentence_and_its_exit_code(
    store_dir: Path, tmp_path: Path, args: list[str], code: int, words: str
) -> None:
    done = invoke(store_dir, tmp_path / "o", *args)
    assert done.exit_code == code, done.output
    assert words in done.output
    assert "Traceback" not in done.output


def test_a_store_without_staff_master_exits_3(tmp_path: Path) -> None:
    done = runner.invoke(app, ["roster", "check", "--month", "2025-12", "--store",
                               str(tmp_path / "empty"), "--out", str(tmp_path / "o")])
    assert done.exit_code == 3
    assert "employees" in done.output


def test_unit_codes_are_safe_in_file_names() -> None:
    assert safe_unit("DINAS/PU 2") == "DINAS_PU_2"
    assert safe_unit("../x") == "___x"
    assert report_name("2025-12", "BIRO-UMUM", "md") == "roster-check-2025-12-BIRO-UMUM.md"
    assert report_name("2025-12", None, "html") == "roster-check-2025-12.html"


def test_entries_outside_the_month_are_listed_and_ignored(store_dir: Path, tmp_path: Path) -> None:
    november = [dt.date(2025, 11, 27), dt.date(2025, 11, 28)]
    file = grid(tmp_path / "U1.csv", [*november, *DEC])
    result = check(store_dir, [file])
    assert rows(result, "ENTRY_OUTSIDE_MONTH") == [
        {"unit_code": "U1", "date": None, "nip": None, "name": None, "count": 8,
         "headcount": None, "share": None, "max_share": None, "over": None,
         "detail": "2025-11-27..2025-11-28", "source_file": str(file)}
    ]
    assert set(result.problems["problem"]) == {"ENTRY_OUTSIDE_MONTH"}


def test_an_agency_without_any_entry_is_one_problem(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        employees=[employee(n, "U1") for n in STAFF] + [employee(B1, "U2")],
        roster=[{"nip": B1, "date": d, "mode": "WFO"} for d in DEC],
    )
    result = check_roster(store, "2025-12", load_policy())
    assert result.problems.select("unit_code", "problem", "count", "detail").rows() == [
        ("U1", "UNIT_WITHOUT_ENTRY", 4, "WFO")
    ]
    assert result.units == ["U1", "U2"]


def test_a_file_whose_every_row_is_rejected(store_dir: Path, tmp_path: Path) -> None:
    file = grid(tmp_path / "U1.csv", DEC[:2], {n: {d: "?" for d in DEC[:2]} for n in STAFF})
    result = check(store_dir, [file])
    assert result.units == ["U1"]  # the file's name says whose it is
    counts = result.problem_counts("U1")
    assert counts == {"REJECTED_ROW": 8, "UNIT_WITHOUT_ENTRY": 1}
    done = invoke(store_dir, tmp_path / "o", str(file), "--month", "2025-12")
    assert done.exit_code == 0
    assert "9 problems" in done.output


def test_stored_entries_of_unknown_nips_are_listed_under_no_agency(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        employees=[employee(n, "U1") for n in STAFF] + [employee(B1, "U2")],
        roster=[{"nip": n, "date": d, "mode": "WFO"} for n in [*STAFF, B1] for d in DEC]
        + [{"nip": UNKNOWN, "date": DEC[0], "mode": "WFH"}],
    )
    result = check_roster(store, "2025-12", load_policy())
    assert result.problems.select("unit_code", "problem", "nip", "count").rows() == [
        (None, "NIP_UNKNOWN", UNKNOWN, 1)
    ]
    done = runner.invoke(app, ["roster", "check", "--month", "2025-12", "--store",
                               str(tmp_path / "s"), "--out", str(tmp_path / "o"),
                               "--format", "md"])
    assert done.exit_code == 0
    assert "(no agency)" in done.output
    summary = (tmp_path / "o" / "roster-check-2025-12.md").read_text()
    assert "Masalah tanpa perangkat daerah yang dikenali" in summary and UNKNOWN in summary


def test_unit_restricts_the_check_of_several_files(store_dir: Path, tmp_path: Path) -> None:
    day = dt.date(2025, 12, 3)
    u1 = grid(tmp_path / "U1.csv", DEC, {n: {day: "WFH"} for n in (A1, A2, A3)})
    u2 = grid(tmp_path / "U2.csv", DEC, staff=[B1], extra=[UNKNOWN])
    both = check_roster(Store(store_dir), "2025-12", load_policy(), files=[u1, u2])
    assert both.units == ["U1", "U2"]
    assert set(both.problems.select("unit_code", "problem").rows()) == {
        ("U1", "WFH_QUOTA_EXCEEDED"), ("U2", "NIP_UNKNOWN")
    }
    only = check_roster(Store(store_dir), "2025-12", load_policy(), files=[u1, u2], unit="U2")
    assert only.units == ["U2"]
    assert only.problems.select("unit_code", "problem").rows() == [("U2", "NIP_UNKNOWN")]
    done = invoke(store_dir, tmp_path / "o", str(u1), str(u2), "--month", "2025-12",
                  "--unit", "U2", "--format", "md")
    assert done.exit_code == 0  # U1's breach is not U2's
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["roster-check-2025-12-U2.md"]


def test_a_grid_with_day_number_headers_is_read_for_the_month(
    store_dir: Path, tmp_path: Path
) -> None:
    day = dt.date(2025, 12, 3)
    rows_ = []
    for nip in STAFF:
        row = {"NIP": nip, "Nama": "x"}
        for d in DEC:
            row[str(d.day)] = "H" if d == day and nip != A4 else "K"  # grid codes: H WFH, K WFO
        rows_.append(row)
    file = tmp_path / "U1.csv"
    pl.DataFrame(rows_).write_csv(file)
    result = check(store_dir, [file])
    assert result.problems.select("problem", "date", "count", "over").rows() == [
        ("WFH_QUOTA_EXCEEDED", day, 3, 1)
    ]


def test_a_day_both_over_the_cap_and_not_allowed_needs_only_the_forced_changes(
    store_dir: Path, tmp_path: Path
) -> None:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(EXEMPT_POLICY)  # U1 exempt in December
    day = dt.date(2025, 12, 9)
    u1 = grid(tmp_path / "U1.csv", DEC, {n: {day: "WFH"} for n in (A1, A2, A3)})
    u2 = grid(tmp_path / "U2.csv", DEC, {B1: {day: "WFH"}}, staff=[B1])  # 1 of 1 > 50%
    result = check_roster(
        Store(store_dir), "2025-12", load_policy(policy_file), files=[u1, u2]
    )
    assert ("U1", day, "WFH_NOT_ALLOWED") in result.problems.select(
        "unit_code", "date", "problem"
    ).rows()
    # all three WFH of U1 turn to WFO (the policy leaves no choice); nothing more there,
    # and U2's day over the cap still gets its one change
    assert result.suggestion.moves.select("unit_code", "nip", "reason").rows() == [
        ("U1", A1, "WFH_NOT_ALLOWED"),
        ("U1", A2, "WFH_NOT_ALLOWED"),
        ("U1", A3, "WFH_NOT_ALLOWED"),
        ("U2", B1, "WFH_QUOTA_EXCEEDED"),
    ]
    assert result.suggestion.verified
