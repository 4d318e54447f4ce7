"""Ingest: every kind from CSV / xlsx / Parquet, profiles, time zones, grids, error codes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from typer.testing import CliRunner

from wfhaudit.cli import app
from wfhaudit.errors import DataError, UsageError
from wfhaudit.ingest import ingest_files
from wfhaudit.schema import KINDS, TABLES
from wfhaudit.store import Store

DATA = Path(__file__).parent / "data"
WORKED = DATA / "worked"
INGEST = DATA / "ingest"
runner = CliRunner()

NIP1 = "198501012010011001"
NIP2 = "199002022015012000"


def stored(store: Store, kind: str) -> pl.DataFrame:
    return store.scan(kind).collect().sort(list(TABLES[kind].key))


def expected_canonical(kind: str) -> pl.DataFrame:
    """The worked-example CSV parsed independently of ingest (ISO formats, canonical dtypes)."""
    table = TABLES[kind]
    df = pl.read_csv(WORKED / f"{kind}.csv", infer_schema=False)
    exprs = []
    for col, dtype in table.columns.items():
        c = pl.col(col)
        if col not in df.columns:  # an optional column the file lacks (employees valid_from)
            exprs.append(pl.lit(None, dtype).alias(col))
        elif dtype == pl.Date:
            exprs.append(c.str.to_date("%Y-%m-%d").alias(col))
        elif isinstance(dtype, pl.Datetime):
            exprs.append(c.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us").alias(col))
        else:
            exprs.append(c.cast(dtype).alias(col))
    return df.select(exprs).sort(list(table.key))


def to_xlsx(csv: Path, out: Path, sheet: str = "Data") -> Path:
    df = pl.read_csv(csv, infer_schema=False)
    df.write_excel(out, worksheet=sheet)
    return out


def to_parquet(csv: Path, out: Path) -> Path:
    pl.read_csv(csv, try_parse_dates=True).write_parquet(out)
    return out


# --- every kind, every format ------------------------------------------------------


# clarifications (no worked-example file): tests/test_clarifications_ingest.py, every format
@pytest.mark.parametrize("kind", [k for k in KINDS if k != "clarifications"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_each_kind_each_format(tmp_path: Path, kind: str, fmt: str) -> None:
    src = WORKED / f"{kind}.csv"
    if fmt == "xlsx":
        src = to_xlsx(src, tmp_path / f"{kind}.xlsx")
    elif fmt == "parquet":
        src = to_parquet(src, tmp_path / f"{kind}.parquet")
    store = Store(tmp_path / "store")
    summary = ingest_files(store, kind, [src])
    expected = expected_canonical(kind)
    assert summary.rejected == 0, summary.rejects_sample
    assert summary.read == expected.height == summary.inserted
    got = stored(store, kind)
    assert got.schema == TABLES[kind].schema
    assert got.equals(expected), (got, expected)


def test_empty_text_output_is_stored_as_empty_string(tmp_path: Path) -> None:
    f = tmp_path / "outputs.csv"
    f.write_text(f"nip,date,submitted_at,text\n{NIP1},2025-12-02,2025-12-02 17:00:00,\n")
    store = Store(tmp_path / "s")
    summary = ingest_files(store, "outputs", [f])
    assert summary.rejected == 0
    assert stored(store, "outputs")["text"].to_list() == [""]


# --- profiles ------------------------------------------------------------------------


def test_kmob_profile(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    summary = ingest_files(store, "attendance", [INGEST / "kmob_attendance.csv"], profile="kmob")
    assert summary.read == 5
    assert summary.zero_coordinates == 1
    assert [(r["source_row"], r["error_code"]) for r in summary.rejects_sample] == [
        ("6", "type-error")
    ]
    assert "25:10:00" in summary.rejects_sample[0]["message"]
    got = stored(store, "attendance")
    assert got.rows() == [
        (NIP1, dt.datetime(2025, 12, 2, 7, 29, 40), "IN", -6.9022, 107.6186, 5.0, "dA", "WFO"),
        (NIP1, dt.datetime(2025, 12, 2, 16, 2), "OUT", -6.9022, 107.6186, 4.5, "dA", "WFO"),
        (NIP1, dt.datetime(2025, 12, 3, 7, 45, 59), "IN", None, None, 12.0, "dA", "WFH"),
        (NIP2, dt.datetime(2025, 12, 3, 7, 10), "IN", None, None, None, "dB", None),
    ]


def test_kmob_profile_xlsx(tmp_path: Path) -> None:
    df = pl.read_csv(INGEST / "kmob_attendance.csv", separator=";", infer_schema=False)
    xlsx = tmp_path / "kmob.xlsx"
    df.write_excel(xlsx)
    store = Store(tmp_path / "s")
    summary = ingest_files(store, "attendance", [xlsx], profile="kmob")
    assert summary.stored == 4
    assert [r["source_row"] for r in summary.rejects_sample] == ["Sheet1!6"]


def test_user_profile_file(tmp_path: Path) -> None:
    profiles = tmp_path / "mine.toml"
    profiles.write_text(
        """
[bkd]
delimiter = "|"
date_formats = ["%d-%m-%Y"]

[bkd.columns]
"NIP Pegawai" = "nip"
"Mulai" = "start"
"Selesai" = "end"
"Jenis Cuti" = "kind"

[bkd.enum_aliases.kind]
"CUTI TAHUNAN" = "CUTI"
"""
    )
    f = tmp_path / "cuti.csv"
    f.write_text(
        "NIP Pegawai|Mulai|Selesai|Jenis Cuti\n"
        f"{NIP1}|08-12-2025|09-12-2025|Cuti Tahunan\n"
        f"{NIP2}|10-12-2025|10-12-2025|dinas luar\n"
    )
    store = Store(tmp_path / "s")
    summary = ingest_files(store, "leave", [f], profile="bkd", profiles_file=profiles)
    assert summary.rejected == 0
    assert stored(store, "leave").rows() == [
        (NIP1, dt.date(2025, 12, 8), dt.date(2025, 12, 9), "CUTI"),
        (NIP2, dt.date(2025, 12, 10), dt.date(2025, 12, 10), "DINAS_LUAR"),
    ]


def test_unknown_profile_and_kind_exit_2(tmp_path: Path) -> None:
    f = WORKED / "leave.csv"
    r = runner.invoke(app, ["ingest", "leave", str(f), "--store", str(tmp_path), "--profile", "x"])
    assert r.exit_code == 2
    assert "canonical" in r.stderr and "kmob" in r.stderr
    r = runner.invoke(app, ["ingest", "cuti", str(f), "--store", str(tmp_path)])
    assert r.exit_code == 2
    assert "employees, offices, roster, attendance, outputs, leave" in r.stderr


# --- time zones ----------------------------------------------------------------------


def test_naive_offset_and_z_timestamps_mixed(tmp_path: Path) -> None:
    f = tmp_path / "outputs.csv"
    f.write_text(
        "nip,date,submitted_at,text\n"
        f"{NIP1},2025-12-02,2025-12-02 21:00:00,naive\n"
        f"{NIP1},2025-12-03,2025-12-03T17:00:00+07:00,wib offset\n"
        f"{NIP1},2025-12-04,2025-12-04T18:00:00+08:00,wita offset\n"
        f"{NIP1},2025-12-05,2025-12-05T10:00:00Z,utc\n"
        f"{NIP1},2025-12-06,2025-12-06 23:30:00.250-0200,minus two\n"
    )
    store = Store(tmp_path / "s")
    summary = ingest_files(store, "outputs", [f])
    assert summary.rejected == 0
    got = dict(stored(store, "outputs").select("text", "submitted_at").iter_rows())
    assert got == {
        "naive": dt.datetime(2025, 12, 2, 21, 0),
        "wib offset": dt.datetime(2025, 12, 3, 17, 0),
        "wita offset": dt.datetime(2025, 12, 4, 17, 0),
        "utc": dt.datetime(2025, 12, 5, 17, 0),
        "minus two": dt.datetime(2025, 12, 7, 8, 30, 0, 250000),
    }


def test_parquet_with_time_zone_aware_column(tmp_path: Path) -> None:
    df = pl.DataFrame(
        {
            "nip": [NIP1],
            "ts": [dt.datetime(2025, 12, 2, 0, 30, tzinfo=dt.UTC)],
            "kind": ["IN"],
        }
    )
    f = tmp_path / "a.parquet"
    df.write_parquet(f)
    store = Store(tmp_path / "s")
    ingest_files(store, "attendance", [f])
    assert stored(store, "attendance")["ts"].to_list() == [dt.datetime(2025, 12, 2, 7, 30)]


# --- roster grids --------------------------------------------------------------------


def test_roster_grid_iso_headers_csv(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    summary = ingest_files(store, "roster", [INGEST / "roster_grid_iso.csv"])
    assert summary.files[0].grid
    assert summary.read == 3 and summary.rejected == 0
    assert stored(store, "roster").rows() == [
        (NIP1, dt.date(2025, 12, 2), "WFO"),
        (NIP1, dt.date(2025, 12, 3), "WFH"),
        (NIP2, dt.date(2025, 12, 2), "WFH"),
    ]


def test_roster_grid_xlsx_with_date_typed_headers(tmp_path: Path) -> None:
    path = tmp_path / "jadwal.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Desember")
    datefmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws.write_row(0, 0, ["NIP", "Nama"])
    ws.write_datetime(0, 2, dt.datetime(2025, 12, 2), datefmt)
    ws.write(0, 3, "2025-12-03")
    ws.write_row(1, 0, [NIP1, "Ahmad", "H", "K"])
    ws.write_row(2, 0, [NIP2, "Pegawai 0", "WFO", "libur"])
    wb.close()
    store = Store(tmp_path / "s")
    summary = ingest_files(store, "roster", [path])
    assert summary.read == 4
    assert [(r["source_row"], r["error_code"]) for r in summary.rejects_sample] == [
        ("Desember!3 [2025-12-03]", "bad-enum")
    ]
    assert stored(store, "roster").rows() == [
        (NIP1, dt.date(2025, 12, 2), "WFH"),
        (NIP1, dt.date(2025, 12, 3), "WFO"),
        (NIP2, dt.date(2025, 12, 2), "WFO"),
    ]
    rejects = pl.read_csv(summary.rejects_path, infer_schema=False)
    assert json.loads(rejects["values"][0]) == {
        "NIP": NIP2,
        "Nama": "Pegawai 0",
        "column": "2025-12-03",
        "cell": "libur",
    }


def test_roster_grid_day_numbers_with_month(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    summary = ingest_files(store, "roster", [INGEST / "roster_grid_days.csv"], month="2025-12")
    assert summary.read == 6
    assert [(r["source_row"], r["error_code"]) for r in summary.rejects_sample] == [
        ("3 [31]", "bad-enum")
    ]
    assert stored(store, "roster").rows() == [
        (NIP1, dt.date(2025, 12, 1), "WFO"),
        (NIP1, dt.date(2025, 12, 2), "WFH"),
        (NIP1, dt.date(2025, 12, 3), "WFO"),
        (NIP2, dt.date(2025, 12, 1), "WFH"),
        (NIP2, dt.date(2025, 12, 3), "WFO"),
    ]


def test_roster_grid_impossible_day_is_type_error(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    summary = ingest_files(store, "roster", [INGEST / "roster_grid_days.csv"], month="2025-11")
    assert [(r["source_row"], r["error_code"]) for r in summary.rejects_sample] == [
        ("3 [31]", "type-error")
    ]


def test_roster_grid_day_numbers_without_month_exit_2(tmp_path: Path) -> None:
    r = runner.invoke(
        app, ["ingest", "roster", str(INGEST / "roster_grid_days.csv"), "--store", str(tmp_path)]
    )
    assert r.exit_code == 2
    assert "--month" in r.stderr
    assert not Store(tmp_path).exists("roster")


# --- error codes ---------------------------------------------------------------------


def test_every_error_code_with_exact_rows(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    summary = ingest_files(store, "attendance", [INGEST / "errors_attendance.csv"])
    rejects = pl.read_csv(summary.rejects_path, infer_schema=False)
    got = sorted(
        zip(rejects["source_row"].cast(int), rejects["error_code"], rejects["action"], strict=True)
    )
    # a bad optional cell (coordinates, accuracy, mode) is blanked and the row stored
    assert got == [
        (3, "bad-nip", "rejected"),
        (4, "type-error", "rejected"),
        (5, "bad-enum", "rejected"),
        (6, "missing-value", "blanked"),
        (7, "out-of-range", "blanked"),
        (8, "out-of-range", "blanked"),
        (9, "missing-value", "rejected"),
        (11, "duplicate-row", "rejected"),
        (12, "conflict", "rejected"),
        (13, "conflict", "rejected"),
        (14, "type-error", "blanked"),
        (15, "bad-enum", "blanked"),
    ]
    assert (summary.read, summary.stored, summary.rejected, summary.blanked) == (14, 7, 7, 5)
    assert summary.blanked_by_code == {
        "missing-value": 1,
        "type-error": 1,
        "out-of-range": 2,
        "bad-enum": 1,
    }
    messages = dict(zip(rejects["source_row"], rejects["message"], strict=True))
    assert "2025-12-02 07:31:xx" in messages["4"] and "YYYY-MM-DD" in messages["4"]
    assert messages["14"] == (
        "'abc' in 'accuracy_m' is not a number; expected e.g. -6.9022; the row is stored with "
        "accuracy_m empty"
    )
    assert messages["7"] == (
        "lat -96.9 is out of range (must be between -90 and 90); the row is stored with lat "
        "and lon empty"
    )
    assert "row 10" in messages["11"]
    first = json.loads(rejects.filter(pl.col("source_row") == "3")["values"][0])
    assert first["nip"] == "19850101201001100" and first["mode"] == "WFO"
    blanked = json.loads(rejects.filter(pl.col("source_row") == "15")["values"][0])
    assert blanked["mode"] == "WFX"  # the original value is kept in the rejects file
    assert rejects.columns == [
        "kind",
        "source_file",
        "source_row",
        "values",
        "error_code",
        "message",
        "action",
        "ingested_at",
    ]
    # the rejects (and blanked cells) are in the store too
    in_store = store.scan("rejects").collect()
    assert in_store.height == 12
    assert in_store.filter(pl.col("action") == "blanked").height == 5
    assert set(in_store["error_code"]) == set(rejects["error_code"])
    rows = stored(store, "attendance").sort("ts")
    assert rows.select("nip", "lat", "lon", "accuracy_m", "mode").rows() == [
        (NIP1, -6.9022, 107.6186, 5.0, "WFO"),
        ("198501012010011002", None, None, 5.0, "WFO"),
        ("198501012010011002", None, None, 5.0, "WFO"),
        ("198501012010011002", -6.9022, 107.6186, None, "WFO"),
        ("198501012010011003", -6.9022, 107.6186, 5.0, "WFO"),
        ("198501012010011005", -6.9022, 107.6186, None, "WFO"),
        ("198501012010011005", -6.9022, 107.6186, 5.0, None),
    ]


def test_other_range_and_enum_rules(tmp_path: Path) -> None:
    offices = tmp_path / "offices.csv"
    offices.write_text("office_id,name,lat,lon,radius_m\nO1,A,-6.9,107.6,-5\nO2,B,-6.9,181,100\n")
    leave = tmp_path / "leave.csv"
    leave.write_text(
        f"nip,start,end,kind\n{NIP1},2025-12-09,2025-12-08,CUTI\n{NIP1},2025-12-10,2025-12-10,LIBUR\n"
        f"{NIP1},2025-12-11,2025-12-11,Tugas Belajar\n"
    )
    employees = tmp_path / "employees.csv"
    employees.write_text(
        f"nip,name,unit_code,office_id,home_lat\n{NIP1},A,U1,O1,-6.9\n{NIP2},,U1,O1,\n"
    )
    store = Store(tmp_path / "s")
    s = ingest_files(store, "offices", [offices])
    assert [(r["source_row"], r["error_code"]) for r in s.rejects_sample] == [
        ("2", "out-of-range"),
        ("3", "out-of-range"),
    ]
    s = ingest_files(store, "leave", [leave])
    assert [(r["source_row"], r["error_code"]) for r in s.rejects_sample] == [
        ("2", "out-of-range"),
        ("3", "bad-enum"),
    ]
    assert stored(store, "leave")["kind"].to_list() == ["TUGAS_BELAJAR"]
    s = ingest_files(store, "employees", [employees])  # home_lon column absent: pair incomplete
    assert [(r["source_row"], r["error_code"]) for r in s.rejects_sample] == [
        ("2", "missing-value"),
        ("3", "missing-value"),
    ]


def test_excel_numeric_nip_is_rejected_not_mangled(tmp_path: Path) -> None:
    path = tmp_path / "pegawai.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("SIMPEG")
    ws.write_row(0, 0, ["nip", "name", "unit_code", "office_id"])
    ws.write_row(1, 0, [int(NIP1), "Angka", "U1", "O1"])  # a number: Excel keeps 15 digits
    ws.write_row(2, 0, [" 19900202 201501 2 000 ", "Teks", "U1", "O1"])  # text, with spaces
    wb.close()
    store = Store(tmp_path / "s")
    s = ingest_files(store, "employees", [path])
    assert [(r["source_row"], r["error_code"]) for r in s.rejects_sample] == [
        ("SIMPEG!2", "bad-nip")
    ]
    assert "Text" in s.rejects_sample[0]["message"]
    assert stored(store, "employees")["nip"].to_list() == [NIP2]


def test_missing_column_refuses_the_file(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    ingest_files(store, "leave", [WORKED / "leave.csv"])
    version = store.version("leave")
    bad = tmp_path / "leave_bad.csv"
    bad.write_text(f"nip,start,kind\n{NIP1},2025-12-01,CUTI\n")
    r = runner.invoke(app, ["ingest", "leave", str(bad), "--store", str(store.path)])
    assert r.exit_code == 3
    assert "missing-column" in r.stderr and "'end'" in r.stderr
    assert "Traceback" not in r.output + r.stderr
    assert store.version("leave") == version
    with pytest.raises(DataError):
        ingest_files(store, "leave", [WORKED / "leave.csv", bad])
    assert store.version("leave") == version


# --- idempotence, revisions, several files ------------------------------------------


def test_reingest_same_file_is_idempotent(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    first = ingest_files(store, "attendance", [WORKED / "attendance.csv"])
    rows = store.scan("attendance").collect().height
    second = ingest_files(store, "attendance", [WORKED / "attendance.csv"])
    assert second.inserted == 0 and second.replaced == 0 and second.unchanged == first.inserted
    assert store.version("attendance") - first.store_version <= 1
    assert store.scan("attendance").collect().height == rows


def test_revised_roster_replaces_old_entry(tmp_path: Path) -> None:
    old = tmp_path / "roster_v1.csv"
    old.write_text(f"nip,date,mode\n{NIP1},2025-12-02,WFO\n{NIP1},2025-12-03,WFO\n")
    new = tmp_path / "roster_v2.csv"
    new.write_text(f"nip,date,mode\n{NIP1},2025-12-02,WFH\n")
    store = Store(tmp_path / "s")
    ingest_files(store, "roster", [old])
    s = ingest_files(store, "roster", [new])
    assert (s.inserted, s.replaced, s.unchanged) == (0, 1, 0)
    assert stored(store, "roster")["mode"].to_list() == ["WFH", "WFO"]
    # both files in one command: the later file wins, one store write
    store2 = Store(tmp_path / "s2")
    s = ingest_files(store2, "roster", [old, new])
    assert s.files[0].superseded == 1 and s.stored == 2 and s.rejected == 0
    assert store2.version("roster") == 0
    assert stored(store2, "roster")["mode"].to_list() == ["WFH", "WFO"]


# --- strict, dry run, CLI output -----------------------------------------------------


def test_strict_stores_nothing(tmp_path: Path) -> None:
    store = tmp_path / "s"
    f = INGEST / "errors_attendance.csv"
    r = runner.invoke(app, ["ingest", "attendance", str(f), "--store", str(store), "--strict"])
    assert r.exit_code == 3
    assert "--strict" in r.stderr and "nothing was stored" in r.stderr
    assert not Store(store).exists("attendance") and not Store(store).exists("rejects")
    with pytest.raises(DataError):
        ingest_files(Store(store), "attendance", [f], strict=True)
    ok = runner.invoke(
        app,
        ["ingest", "attendance", str(WORKED / "attendance.csv"), "--store", str(store), "--strict"],
    )
    assert ok.exit_code == 0


def test_dry_run_stores_nothing(tmp_path: Path) -> None:
    store = tmp_path / "s"
    r = runner.invoke(
        app,
        [
            "ingest",
            "attendance",
            str(INGEST / "errors_attendance.csv"),
            "--store",
            str(store),
            "--dry-run",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["dry_run"] and data["read"] == 14 and data["rejected"] == 7
    assert data["blanked"] == 5 and data["stored"] == 7
    assert data["rejected_by_code"]["conflict"] == 2
    assert not store.exists()


def test_cli_summary_and_quiet(tmp_path: Path) -> None:
    store = tmp_path / "s"
    f = INGEST / "errors_attendance.csv"
    r = runner.invoke(app, ["ingest", "attendance", str(f), "--store", str(store)])
    assert r.exit_code == 0
    for word in ("read", "rejected", "duplicate-row", "conflict", "rejected rows written to"):
        assert word in r.stdout
    q = runner.invoke(app, ["ingest", "attendance", str(f), "--store", str(store), "--quiet"])
    assert q.exit_code == 0 and q.stdout == ""


# --- unreadable files ----------------------------------------------------------------


UNREADABLE = {
    "empty.csv": (b"", "empty"),
    "blank.csv": (b"\n\n  \n", "empty"),
    "utf16.csv": ("nip,start,end,kind\n".encode("utf-16"), "UTF-16"),
    "latin1.csv": (
        b"nip,start,end,kind\n" + f"{NIP1},2025-12-01,2025-12-01,Cut\xed\n".encode("latin-1"),
        "UTF-8",
    ),
    "binary.csv": (b"\x00\x01\x02\x03garbage", "binary"),
    "report.docx": (b"PK\x03\x04whatever", "not a CSV"),
    "broken.xlsx": (b"this is not a workbook", "Excel"),
    "broken.parquet": (b"PAR1 nope", "Parquet"),
    "ragged.csv": (
        f"nip,start,end,kind\n{NIP1},2025-12-01,2025-12-01,CUTI,extra\n".encode(),
        "more fields",
    ),
}


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_unreadable_file_exit_3_one_line(tmp_path: Path, name: str) -> None:
    store = Store(tmp_path / "s")
    ingest_files(store, "leave", [WORKED / "leave.csv"])
    before = (store.version("leave"), stored(store, "leave"))
    content, words = UNREADABLE[name]
    bad = tmp_path / name
    bad.write_bytes(content)
    r = runner.invoke(
        app, ["ingest", "leave", str(WORKED / "leave.csv"), str(bad), "--store", str(store.path)]
    )
    assert r.exit_code == 3, r.output
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(" ".join(lines)) < 300 and name in r.stderr and words in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert store.version("leave") == before[0]
    assert stored(store, "leave").equals(before[1])


def test_missing_file_and_bad_format_option(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        ingest_files(Store(tmp_path), "leave", [tmp_path / "nope.csv"])
    with pytest.raises(UsageError, match="--format"):
        ingest_files(Store(tmp_path), "leave", [WORKED / "leave.csv"], fmt="json")
    # --format overrides the extension
    txt = tmp_path / "leave.dat"
    txt.write_bytes((WORKED / "leave.csv").read_bytes())
    s = ingest_files(Store(tmp_path / "s"), "leave", [txt], fmt="csv")
    assert s.stored == 3


def test_workbook_with_several_sheets(tmp_path: Path) -> None:
    """A notes sheet is skipped (and named); keys are checked across the data sheets."""
    path = tmp_path / "roster.xlsx"
    wb = xlsxwriter.Workbook(path)
    notes = wb.add_worksheet("Keterangan")
    notes.write(0, 0, "H = WFH, K = WFO")
    one = wb.add_worksheet("Bidang A")
    one.write_row(0, 0, ["NIP", "Nama", 1, 2])  # numeric day-number headers
    one.write_row(1, 0, [NIP1, "Ahmad", "H", "K"])
    two = wb.add_worksheet("Bidang B")
    two.write_row(0, 0, ["NIP", "Nama", 1, 2])
    two.write_row(1, 0, [NIP1, "Ahmad", "K", "K"])  # day 1 conflicts with Bidang A
    two.write_row(2, 0, [NIP2, "Pegawai 0", "H", None])
    wb.close()
    store = Store(tmp_path / "s")
    s = ingest_files(store, "roster", [path], month="2025-12")
    assert [n.split(":")[0] for n in s.files[0].skipped_sheets] == ["Keterangan"]
    assert s.read == 5
    assert sorted((r["source_row"], r["error_code"]) for r in s.rejects_sample) == [
        ("Bidang A!2 [1]", "conflict"),
        ("Bidang B!2 [1]", "conflict"),
        ("Bidang B!2 [2]", "duplicate-row"),
    ]
    assert stored(store, "roster").rows() == [
        (NIP1, dt.date(2025, 12, 2), "WFO"),
        (NIP2, dt.date(2025, 12, 1), "WFH"),
    ]
    r = runner.invoke(
        app, ["ingest", "roster", str(path), "--store", str(tmp_path / "s2"), "--month", "2025-12"]
    )
    assert r.exit_code == 0 and "Keterangan" in r.stdout


def test_bad_month_option_exit_2(tmp_path: Path) -> None:
    r = runner.invoke(
        app,
        [
            "ingest",
            "roster",
            str(INGEST / "roster_grid_days.csv"),
            "--store",
            str(tmp_path),
            "--month",
            "12-2025",
        ],
    )
    assert r.exit_code == 2 and "YYYY-MM" in r.stderr


def test_zero_coordinates_do_not_hide_the_real_error(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text(
        "nip,ts,kind,lat,lon,accuracy_m\n"
        f"{NIP1},2025-12-02 07:00:00,IN,0,0,-3\n"
        f"{NIP1},2025-12-02 16:00:00,OUT,0.0,0,4\n"
    )
    store = Store(tmp_path / "s")
    s = ingest_files(store, "attendance", [f])
    assert [(r["source_row"], r["error_code"]) for r in s.blanked_sample] == [("2", "out-of-range")]
    assert "accuracy_m -3" in s.blanked_sample[0]["message"]
    assert s.zero_coordinates == 2 and s.rejected == 0
    assert stored(store, "attendance").select("lat", "lon", "accuracy_m").rows() == [
        (None, None, None),
        (None, None, 4.0),
    ]


def test_nan_and_infinity_are_type_errors(tmp_path: Path) -> None:
    f = tmp_path / "offices.csv"
    f.write_text(
        "office_id,lat,lon,radius_m\nO1,NaN,107.6,100\nO2,-6.9,107.6,inf\nO3,-6.9,107.6,\n"
    )
    store = Store(tmp_path / "s")
    s = ingest_files(store, "offices", [f])
    assert [(r["source_row"], r["error_code"]) for r in s.rejects_sample] == [
        ("2", "type-error"),
        ("3", "type-error"),
    ]
    assert stored(store, "offices").rows() == [("O3", None, -6.9, 107.6, None)]


def test_kmob_xlsx_with_excel_date_and_time_cells(tmp_path: Path) -> None:
    path = tmp_path / "kmob.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("K-Mob")
    ws.write_row(0, 0, ["NIP", "Tanggal", "Jam", "Jenis", "Latitude", "Longitude"])
    ws.write_string(1, 0, NIP1)
    ws.write_datetime(1, 1, dt.datetime(2025, 12, 2), wb.add_format({"num_format": "dd/mm/yyyy"}))
    ws.write_datetime(1, 2, dt.time(7, 29, 40), wb.add_format({"num_format": "hh:mm:ss"}))
    ws.write_row(1, 3, ["Masuk", -6.9022, 107.6186])
    wb.close()
    store = Store(tmp_path / "s")
    s = ingest_files(store, "attendance", [path], profile="kmob")
    assert s.rejected == 0, s.rejects_sample
    assert stored(store, "attendance").select("ts", "kind", "lat").rows() == [
        (dt.datetime(2025, 12, 2, 7, 29, 40), "IN", -6.9022)
    ]


def test_xlsx_date_typed_cells_in_long_form(tmp_path: Path) -> None:
    path = tmp_path / "cuti.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Cuti")
    datefmt = wb.add_format({"num_format": "dd mmm yyyy"})
    ws.write_row(0, 0, ["nip", "start", "end", "kind"])
    ws.write_string(1, 0, NIP1)
    ws.write_datetime(1, 1, dt.datetime(2025, 12, 8), datefmt)
    ws.write_datetime(1, 2, dt.datetime(2025, 12, 9), datefmt)
    ws.write(1, 3, "Cuti")
    wb.close()
    store = Store(tmp_path / "s")
    s = ingest_files(store, "leave", [path])
    assert s.rejected == 0, s.rejects_sample
    assert stored(store, "leave").rows() == [
        (NIP1, dt.date(2025, 12, 8), dt.date(2025, 12, 9), "CUTI")
    ]


def test_padded_and_oddly_spelled_cells(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text(
        "nip,ts,kind,lat,lon,accuracy_m,device_id,mode\n"
        f" {NIP1} , 2025-12-02 07:00:00 , iN , -6.9 , 107.6 , 5 , dA , wFo \n"
        f"'19900202 201501 2 000,2025-12-02T07:00:00,Masuk,,,,,\n"
    )
    kmob = tmp_path / "k.csv"
    kmob.write_text(
        "NIP;Tanggal;Jam;Jenis;Latitude;Longitude;Akurasi\n"
        f"{NIP1}; 02/12/2025 ; 7:05:00 ; PULANG ; -6,9 ; 107,6 ; 4,5 \n"
    )
    store = Store(tmp_path / "s")
    s = ingest_files(store, "attendance", [f])
    assert s.rejected == 0, s.rejects_sample
    assert stored(store, "attendance").rows() == [
        (NIP1, dt.datetime(2025, 12, 2, 7), "IN", -6.9, 107.6, 5.0, "dA", "WFO"),
        (NIP2, dt.datetime(2025, 12, 2, 7), "IN", None, None, None, None, None),
    ]
    s = ingest_files(store, "attendance", [kmob], profile="kmob")
    assert s.rejected == 0, s.rejects_sample
    got = stored(store, "attendance").filter(pl.col("kind") == "OUT")
    assert got.select("ts", "lat", "lon", "accuracy_m").rows() == [
        (dt.datetime(2025, 12, 2, 7, 5), -6.9, 107.6, 4.5)
    ]


def test_cells_of_only_spaces_are_empty(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text(
        "nip,ts,kind,lat,lon,accuracy_m,device_id,mode\n"
        f"{NIP1},   ,IN,,,,,\n"
        f"{NIP1},2025-12-02 07:00:00,  ,,,,,\n"
        f"   ,2025-12-02 07:00:00,IN,,,,,\n"
        f"{NIP1},2025-12-02 08:00:00,IN,  ,  , , ,  \n"
    )
    store = Store(tmp_path / "s")
    s = ingest_files(store, "attendance", [f])
    assert [(r["source_row"], r["error_code"]) for r in s.rejects_sample] == [
        ("2", "missing-value"),
        ("3", "missing-value"),
        ("4", "missing-value"),
    ]
    assert stored(store, "attendance").rows() == [
        (NIP1, dt.datetime(2025, 12, 2, 8), "IN", None, None, None, None, None)
    ]


def test_excel_csv_utf8_with_bom_and_crlf(tmp_path: Path) -> None:
    f = tmp_path / "cuti.csv"
    f.write_bytes(
        b"\xef\xbb\xbfnip,start,end,kind\r\n" + f"{NIP1},2025-12-08,2025-12-08,Cuti\r\n".encode()
    )
    store = Store(tmp_path / "s")
    s = ingest_files(store, "leave", [f])
    assert s.rejected == 0, s.rejects_sample
    assert stored(store, "leave").rows() == [
        (NIP1, dt.date(2025, 12, 8), dt.date(2025, 12, 8), "CUTI")
    ]


def test_rejects_csv_survives_housekeeping_of_the_rejects_table(tmp_path: Path) -> None:
    """The CSV for people lives beside the Delta table, where vacuum never deletes it."""
    store = Store(tmp_path / "s")
    summary = ingest_files(store, "attendance", [INGEST / "errors_attendance.csv"])
    assert summary.rejects_path is not None
    csv_path = Path(summary.rejects_path)
    assert csv_path.parent == store.path / "rejected-rows"
    store.vacuum("rejects", retention_hours=0)
    assert csv_path.is_file()
    assert pl.read_csv(csv_path, infer_schema=False).height > 0


def test_kmob_time_cells_that_only_look_like_hh_mm_ss(tmp_path: Path) -> None:
    """'+7:03:45' and '24:00:00' are type-errors; '7:05:00' is 07:05 (every format tried)."""
    kmob = tmp_path / "k.csv"
    kmob.write_text(
        "NIP;Tanggal;Jam;Jenis;Latitude;Longitude;Akurasi\n"
        f"{NIP1};02/12/2025;+7:03:45;Masuk;-6,9;107,6;4,5\n"
        f"{NIP1};02/12/2025;24:00:00;Masuk;-6,9;107,6;4,5\n"
        f"{NIP1};02/12/2025;7:05:00;Pulang;-6,9;107,6;4,5\n"
        f"{NIP1};03/12/2025;07:00:00;Masuk;-6,9;107,6;4,5\n"
    )
    store = Store(tmp_path / "s")
    s = ingest_files(store, "attendance", [kmob], profile="kmob")
    assert [(r["source_row"], r["error_code"]) for r in s.rejects_sample] == [
        ("2", "type-error"),
        ("3", "type-error"),
    ]
    assert stored(store, "attendance").select("ts", "kind").rows() == [
        (dt.datetime(2025, 12, 2, 7, 5), "OUT"),
        (dt.datetime(2025, 12, 3, 7, 0), "IN"),
    ]


def test_blank_lines_are_ignored_but_a_row_with_only_unmapped_cells_is_rejected(
    tmp_path: Path,
) -> None:
    """Only the mapped columns are parsed; a row is blank only if *every* cell is empty
    (null, "" or spaces)."""
    kmob = tmp_path / "k.csv"
    kmob.write_text(
        "NIP;Nama;Tanggal;Jam;Jenis;Latitude;Longitude;Akurasi;ID Perangkat;Mode\n"
        f"{NIP1};Ani;02/12/2025;07:00:00;Masuk;-6,9;107,6;4,5;dA;WFO\n"
        ";;;;;;;;;\n"  # line 3: separators only
        "\n"  # line 4: empty
        ";Budi;;;;;;;;\n"  # line 5: only the unmapped 'Nama'
        f"{NIP1};Ani;02/12/2025;16:00:00;Pulang;-6,9;107,6;4,5;dA;WFO\n"
        f"{NIP1};Ani;03/12/2025;xx;Pulang;-6,9;107,6;4,5;dA;WFO\n"
        ";;;;;;;;;\n"
        '"";;;;;;;;;\n'  # line 9: only an empty quoted cell: blank (issue 17 item 17)
        " ;;;;;;;;  ;\n"  # line 10: only spaces: blank too
    )
    store = Store(tmp_path / "s")
    s = ingest_files(store, "attendance", [kmob], profile="kmob")
    assert (s.read, s.stored, s.rejected) == (4, 2, 2)
    rejects = pl.read_csv(s.rejects_path, infer_schema=False)
    assert rejects.select("source_row", "error_code").rows() == [
        ("5", "missing-value"),
        ("7", "type-error"),
    ]
    cells = json.loads(rejects["values"][0])
    assert cells["Nama"] == "Budi" and cells["NIP"] is None
    assert json.loads(rejects["values"][1])["Nama"] == "Ani"


def test_blank_parquet_rows_are_ignored(tmp_path: Path) -> None:
    f = tmp_path / "a.parquet"
    pl.DataFrame(
        {
            "nip": [NIP1, None, None, NIP1],
            "ts": ["2025-12-02 07:00:00", None, None, "2025-12-02 16:00:00"],
            "kind": ["IN", None, None, "OUT"],
            "note": ["a", None, "only a note", None],
        }
    ).write_parquet(f)
    store = Store(tmp_path / "s")
    s = ingest_files(store, "attendance", [f])
    assert (s.read, s.stored) == (3, 2)
    assert [(r["source_row"], r["error_code"]) for r in s.rejects_sample] == [
        ("3", "missing-value")
    ]


def test_nip_of_non_ascii_digits_is_bad_nip(tmp_path: Path) -> None:
    """Regex \\d takes Arabic-Indic and full-width digits; no employee NIP holds them."""
    arabic = NIP1.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    wide = NIP1.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    f = tmp_path / "a.csv"
    f.write_text(
        "nip,ts,kind\n"
        f"{arabic},2025-12-02 07:00:00,IN\n"
        f"{wide},2025-12-02 07:00:00,IN\n"
        f"+{NIP1[1:]},2025-12-02 07:00:00,IN\n"
        f"{NIP1},2025-12-02 07:00:00,IN\n",
        encoding="utf-8",
    )
    store = Store(tmp_path / "s")
    s = ingest_files(store, "attendance", [f])
    assert [(r["source_row"], r["error_code"]) for r in s.rejects_sample] == [
        ("2", "bad-nip"),
        ("3", "bad-nip"),
        ("4", "bad-nip"),
    ]
    assert stored(store, "attendance")["nip"].to_list() == [NIP1]


def test_fast_nip_check_equals_the_pattern() -> None:
    """``_is_nip`` relies on the integer parser: pin it (a Polars upgrade may change it)."""
    from wfhaudit.ingest.validate import NIP_PATTERN, _is_nip

    odd = [chr(c) for c in range(128) if not chr(c).isdigit()]
    odd += ["٣", "３", "é", "\u00a0", "𝟏", "²"]
    cells: list[str | None] = [None, "", NIP1, "0" * 18, "9" * 18, NIP1[:17], NIP1 + "0"]
    for pos in range(18):
        cells += [NIP1[:pos] + c + NIP1[pos + 1 :] for c in odd]
    for prefix in ("+", "-", "0x", "0b", "0o", " ", "+-", "-+", "1_", "1e"):
        cells += [prefix + NIP1[len(prefix) :], NIP1[: 18 - len(prefix)] + prefix]
    cells += ["0x" + "f" * 16, "1e17" + "0" * 14, "1.0" + "0" * 15, "1,0" + "0" * 15]
    frame = pl.DataFrame({"v": cells}, schema={"v": pl.String})
    got = frame.select(
        fast=_is_nip(pl.col("v")), regex=pl.col("v").str.contains(NIP_PATTERN).fill_null(False)
    )
    assert got["fast"].to_list() == got["regex"].to_list()
    assert got["fast"].sum() == 3


def test_rows_to_reject_are_read_again_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV is re-read once for the rows with bad cells, not once per column with a miss."""
    from wfhaudit.ingest import validate
    from wfhaudit.ingest.readers import RawSheet

    kmob = tmp_path / "k.csv"
    kmob.write_text(
        "NIP;Nama;Tanggal;Jam;Jenis;Latitude;Longitude;Akurasi;ID Perangkat;Mode\n"
        f"{NIP1};Ani;02/12/2025;07:00:00;Masuk;-6,9;107,6;4,5;dA;WFO\n"
        f"{NIP1};Ani;2025-12-02;16:00:00;Pulang;-6,9;107,6;4,5;dA;WFO\n"  # 2nd date format
        f"{NIP1};Ani;03/12/2025;xx;Pulang;-6,9;107,6;4,5;dA;WFO\n"  # type-error
        f"{NIP1};Ani;03/12/2025;07:00:00;masuk ;abc;107,6;4,5;dA;wfh\n"  # blanked type-error
        f"1985;Ani;04/12/2025;07:00:00;Masuk;-6,9;107,6;4,5;dA;WFO\n"  # bad-nip
        f"{NIP1};Ani;05/12/2025;07:00:00;Masuk;;;;dA;WFO\n"
        f"{NIP1};Ani;05/12/2025;07:00:00;Masuk;;;;dA;WFO\n"  # duplicate-row
        f"{NIP1};Ani;06/12/2025;07:00:00;Kemana;-6,9;107,6;4,5;dA;WFO\n"  # bad-enum
    )
    reads: list[int] = []
    collect = RawSheet.collect

    def counting(self: RawSheet, query: pl.LazyFrame) -> pl.DataFrame:
        out = collect(self, query)
        reads.append(out.height)
        return out

    monkeypatch.setattr(RawSheet, "collect", counting)
    results = []
    for cached in (validate.CACHED_ROWS, 0):  # 0: every row re-read column by column
        monkeypatch.setattr(validate, "CACHED_ROWS", cached)
        reads.clear()
        store = Store(tmp_path / f"s{cached}")
        s = ingest_files(store, "attendance", [kmob], profile="kmob")
        rejects = pl.read_csv(s.rejects_path, infer_schema=False).drop("ingested_at")
        got = stored(store, "attendance")
        results.append((s.rejected_by_code, rejects.drop("source_file"), got))
        if cached:
            # first pass, the 5 rows to look at (re-parse, reject), the 2 copies (core)
            assert reads == [8, 5, 2]
    assert results[0][0] == {"bad-nip": 1, "type-error": 1, "bad-enum": 1, "duplicate-row": 1}
    assert results[0][1].equals(results[1][1])
    assert results[0][2].equals(results[1][2])
    assert results[0][2].height == 4
    assert results[0][1].filter(pl.col("action") == "blanked")["error_code"].to_list() == [
        "type-error"
    ]
    # nothing to re-parse: the rejected rows are read once, for the messages and the file
    monkeypatch.setattr(validate, "CACHED_ROWS", 10)
    reads.clear()
    kmob.write_text(
        "NIP;Nama;Tanggal;Jam;Jenis;Latitude;Longitude;Akurasi;ID Perangkat;Mode\n"
        f"{NIP1};Ani;02/12/2025;07:00:00;Masuk;-6,9;107,6;4,5;dA;WFO\n"
        ";Ani;02/12/2025;16:00:00;Pulang;-6,9;107,6;4,5;dA;WFO\n"
    )
    s = ingest_files(Store(tmp_path / "s"), "attendance", [kmob], profile="kmob")
    assert s.rejected_by_code == {"missing-value": 1}
    assert reads == [2, 1]


def test_key_hash_collisions_change_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Duplicates are found from a key hash, then confirmed on the key: with every hash
    equal, the same rows are stored and the same rows rejected, with the same codes."""
    from wfhaudit.ingest import validate

    def ingest(folder: str) -> tuple[list[tuple], list[tuple]]:
        store = Store(tmp_path / folder)
        s = ingest_files(store, "attendance", [INGEST / "errors_attendance.csv"])
        rejects = pl.read_csv(s.rejects_path, infer_schema=False)
        got = sorted(rejects.select("source_row", "error_code", "message").rows())
        return stored(store, "attendance").rows(), got

    honest = ingest("honest")
    assert ("11", "duplicate-row") in [(r, c) for r, c, _ in honest[1]]
    monkeypatch.setattr(validate, "row_hash", lambda columns: pl.lit(7, pl.UInt64))
    assert ingest("colliding") == honest
