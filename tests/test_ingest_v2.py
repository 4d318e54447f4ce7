"""Ingest v2 (data.md): employees history, --full-snapshot, --replace-period, replacement in
every table, blanked cells on the command line, --delimiter / --decimal-comma."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from wfhaudit.cli import app
from wfhaudit.errors import UsageError
from wfhaudit.ingest import ingest_files
from wfhaudit.schema import KINDS
from wfhaudit.store import Store

WORKED = Path(__file__).parent / "data" / "worked"
FAIRNESS = Path(__file__).parent / "data" / "fairness"
runner = CliRunner()
D = dt.date
NIP_A = "198501012010011001"
NIP_B = "199002022015012000"
NIP_C = "199002022015012001"
HEADER = "nip,name,unit_code,office_id,active_from,active_to"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def cli(store: Path, *args: str) -> object:
    return runner.invoke(app, ["ingest", *args, "--store", str(store)])


def employees_rows(store: Path) -> list[tuple[object, ...]]:
    return (
        Store(store)
        .scan("employees")
        .collect()
        .sort("nip", "valid_from", nulls_last=False)
        .select("nip", "unit_code", "valid_from", "active_to")
        .rows()
    )


# --- employees history -----------------------------------------------------------------


def test_valid_from_records_a_transfer_without_rewriting_the_past(tmp_path: Path) -> None:
    store = tmp_path / "s"
    first = write(tmp_path / "e1.csv", f"{HEADER}\n{NIP_A},Asep,U1,O1,,\n{NIP_B},Dewi,U2,O1,,\n")
    moved = write(tmp_path / "e2.csv", f"{HEADER}\n{NIP_A},Asep,U2,O2,,\n")
    r = cli(store, "employees", str(first))
    assert r.exit_code == 0, r.output
    r = cli(store, "employees", str(moved), "--valid-from", "2025-12-08")
    assert r.exit_code == 0, r.output
    assert "--valid-from 2025-12-08" in r.stdout
    assert employees_rows(store) == [
        (NIP_A, "U1", None, None),
        (NIP_A, "U2", D(2025, 12, 8), None),
        (NIP_B, "U2", None, None),
    ]
    # the same snapshot again changes nothing
    again = ingest_files(Store(store), "employees", [moved], valid_from=D(2025, 12, 8))
    assert (again.inserted, again.replaced, again.unchanged) == (0, 0, 1)


def test_valid_from_fills_only_rows_without_one(tmp_path: Path) -> None:
    f = write(
        tmp_path / "e.csv",
        f"{HEADER},valid_from\n{NIP_A},Asep,U1,O1,,,2025-11-01\n{NIP_B},Dewi,U2,O1,,,\n",
    )
    ingest_files(Store(tmp_path / "s"), "employees", [f], valid_from=D(2025, 12, 8))
    assert employees_rows(tmp_path / "s") == [
        (NIP_A, "U1", D(2025, 11, 1), None),
        (NIP_B, "U2", D(2025, 12, 8), None),
    ]


def test_bad_valid_from_is_a_usage_error(tmp_path: Path) -> None:
    f = write(tmp_path / "e.csv", f"{HEADER}\n{NIP_A},Asep,U1,O1,,\n")
    r = cli(tmp_path / "s", "employees", str(f), "--valid-from", "8/12/2025")
    assert r.exit_code == 2
    assert "bad --valid-from '8/12/2025': write the date the file describes as YYYY-MM-DD" in (
        r.stderr
    )
    roster = write(tmp_path / "r.csv", f"nip,date,mode\n{NIP_A},2025-12-02,WFH\n")
    r = cli(tmp_path / "s", "roster", str(roster), "--valid-from", "2025-12-08")
    assert r.exit_code == 2
    assert "--valid-from applies to employees only, not to roster." in r.stderr
    assert not (tmp_path / "s").exists()


def test_full_snapshot_ends_the_employees_it_does_not_list(tmp_path: Path) -> None:
    store = tmp_path / "s"
    everyone = write(
        tmp_path / "e1.csv",
        f"{HEADER}\n{NIP_A},Asep,U1,O1,,\n{NIP_B},Dewi,U2,O1,,\n{NIP_C},Ujang,U2,O1,,2025-11-30\n",
    )
    cli(store, "employees", str(everyone))
    snapshot = write(tmp_path / "e2.csv", f"{HEADER}\n{NIP_A},Asep,U1,O1,,\n")
    r = cli(store, "employees", str(snapshot), "--valid-from", "2025-12-08", "--full-snapshot")
    assert r.exit_code == 0, r.output
    assert (
        "--full-snapshot: 1 employee(s) in force but not in the snapshot ended (active_to "
        "2025-12-07):" in r.stdout
    )
    assert f"{NIP_B} Dewi (U2)" in r.stdout
    # Ujang had left already (active_to before the snapshot): not ended again
    assert employees_rows(store) == [
        (NIP_A, "U1", None, None),
        (NIP_A, "U1", D(2025, 12, 8), None),
        (NIP_B, "U2", None, None),
        (NIP_B, "U2", D(2025, 12, 8), D(2025, 12, 7)),
        (NIP_C, "U2", None, D(2025, 11, 30)),
    ]
    summary = ingest_files(
        Store(store), "employees", [snapshot], valid_from=D(2025, 12, 8), full_snapshot=True
    )
    assert summary.ended == [] and summary.inserted == 0


def test_full_snapshot_json_lists_the_leavers_and_dry_run_stores_nothing(tmp_path: Path) -> None:
    store = tmp_path / "s"
    cli(store, "employees", str(write(tmp_path / "e1.csv", f"{HEADER}\n{NIP_B},Dewi,U2,O1,,\n")))
    snapshot = write(tmp_path / "e2.csv", f"{HEADER},valid_from\n{NIP_A},Asep,U1,O1,,,2025-12-08\n")
    r = cli(store, "employees", str(snapshot), "--full-snapshot", "--dry-run", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["ended"] == [
        {"nip": NIP_B, "name": "Dewi", "unit_code": "U2", "active_to": "2025-12-07"}
    ]
    assert employees_rows(store) == [(NIP_B, "U2", None, None)]


def test_full_snapshot_needs_its_date(tmp_path: Path) -> None:
    f = write(tmp_path / "e.csv", f"{HEADER}\n{NIP_A},Asep,U1,O1,,\n")
    r = cli(tmp_path / "s", "employees", str(f), "--full-snapshot")
    assert r.exit_code == 2
    assert "--full-snapshot needs the date the snapshot describes: pass --valid-from" in r.stderr


def test_full_snapshot_with_a_rejected_row_stores_nothing(tmp_path: Path) -> None:
    store = tmp_path / "s"
    cli(store, "employees", str(write(tmp_path / "e1.csv", f"{HEADER}\n{NIP_B},Dewi,U2,O1,,\n")))
    # Dewi's row is bad: she must not be ended for it
    snapshot = write(tmp_path / "e2.csv", f"{HEADER}\n{NIP_A},Asep,U1,O1,,\n{NIP_B},,U2,O1,,\n")
    r = cli(store, "employees", str(snapshot), "--valid-from", "2025-12-08", "--full-snapshot")
    assert r.exit_code == 3
    assert (
        "--full-snapshot (a rejected row would end an employee): 1 rejected row(s) "
        "(1 missing-value); nothing was stored." in r.stderr
    )
    assert employees_rows(store) == [(NIP_B, "U2", None, None)]


# --- a later ingest of a key replaces the row, in every table ------------------------------

#: per kind: a value column of the worked example's first row and a new value for it
CHANGES = {
    "employees": ("name", "Ahmad S."),
    "offices": ("name", "Gedung Sate Baru"),
    "roster": ("mode", "WFH"),
    "attendance": ("device_id", "dZ"),
    "outputs": ("text", "Menyusun laporan anggaran (revisi)"),
    "leave": ("end", "2025-12-10"),
    "clarifications": ("reason", "Keputusan direvisi"),
    "feedback": ("count", "5.0"),  # re-ingest replaces count (data.md; stored as a float)
}


def example_file(kind: str) -> Path:
    """The worked example's file of ``kind``, else the fairness example's."""
    worked = WORKED / f"{kind}.csv"
    return worked if worked.exists() else FAIRNESS / f"{kind}.csv"


@pytest.mark.parametrize("kind", KINDS)
def test_a_later_ingest_of_a_key_replaces_the_row(tmp_path: Path, kind: str) -> None:
    store = Store(tmp_path / "s")
    src = example_file(kind)
    first = ingest_files(store, kind, [src])
    column, value = CHANGES[kind]
    frame = pl.read_csv(src, infer_schema=False)
    revised = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(value)).otherwise(pl.col(column))
        .alias(column)
    )
    revised.write_csv(tmp_path / f"{kind}.csv")
    again = ingest_files(store, kind, [tmp_path / f"{kind}.csv"])
    assert (again.inserted, again.replaced, again.unchanged) == (0, 1, first.inserted - 1)
    rows = store.scan(kind).collect()
    assert rows.height == first.inserted
    got = rows.get_column(column).cast(pl.String).to_list()
    assert value in got


# --- --replace-period -------------------------------------------------------------------


def test_replace_period_replaces_the_rows_of_those_dates(tmp_path: Path) -> None:
    store = tmp_path / "s"
    days = "".join(f"{NIP_A},2025-12-0{d},WFO\n" for d in range(1, 6))
    cli(store, "roster", str(write(tmp_path / "r1.csv", f"nip,date,mode\n{days}")))
    revised = write(tmp_path / "r2.csv", f"nip,date,mode\n{NIP_A},2025-12-03,WFH\n")
    r = cli(store, "roster", str(revised), "--replace-period", "2025-12-03..2025-12-04")
    assert r.exit_code == 0, r.output
    assert (
        "--replace-period 2025-12-03..2025-12-04: 1 stored row(s) of those dates not in the "
        "files removed" in r.stdout
    )
    rows = Store(store).scan("roster").collect().sort("date")
    assert [(d.day, m) for d, m in rows.select("date", "mode").rows()] == [
        (1, "WFO"),
        (2, "WFO"),
        (3, "WFH"),
        (5, "WFO"),
    ]


def test_replace_period_refuses_bad_input_before_changing_anything(tmp_path: Path) -> None:
    store = tmp_path / "s"
    first = write(tmp_path / "r1.csv", f"nip,date,mode\n{NIP_A},2025-12-03,WFO\n")
    cli(store, "roster", str(first))
    version = Store(store).version("roster")
    bad = write(tmp_path / "r2.csv", f"nip,date,mode\n{NIP_A},2025-12-03,LIBUR\n")
    r = cli(store, "roster", str(bad), "--replace-period", "2025-12-01..2025-12-31")
    assert r.exit_code == 3
    assert (
        "--replace-period (a rejected row would delete a stored row): 1 rejected row(s) "
        "(1 bad-enum); nothing was stored." in r.stderr
    )
    assert Store(store).version("roster") == version
    r = cli(store, "roster", str(bad), "--replace-period", "2025-12-31..2025-12-01")
    assert r.exit_code == 2
    assert "--replace-period: bad period '2025-12-31..2025-12-01'" in r.stderr
    offices = WORKED / "offices.csv"
    r = cli(store, "offices", str(offices), "--replace-period", "2025-12")
    assert r.exit_code == 2
    assert "--replace-period does not apply to offices: the table has no dates." in r.stderr


def test_replace_period_of_a_month_for_attendance(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    ingest_files(store, "attendance", [WORKED / "attendance.csv"])
    day2 = pl.read_csv(WORKED / "attendance.csv", infer_schema=False).filter(
        pl.col("ts").str.starts_with("2025-12-02")
    )
    day2.write_csv(tmp_path / "a.csv")
    s = ingest_files(store, "attendance", [tmp_path / "a.csv"], replace_period="2025-12")
    rows = store.scan("attendance").collect()
    assert rows.height == day2.height == s.unchanged
    assert s.removed == pl.read_csv(WORKED / "attendance.csv").height - day2.height > 0
    assert rows["ts"].dt.day().unique().to_list() == [2]


# --- blanked cells on the command line --------------------------------------------------


def test_blanked_cells_are_counted_and_shown(tmp_path: Path) -> None:
    f = write(
        tmp_path / "a.csv",
        "nip,ts,kind,lat,lon,accuracy_m,device_id,mode\n"
        f"{NIP_A},2025-12-02 07:00:00,IN,-6.9,107.6,abc,dA,WFO\n"
        f"{NIP_A},2025-12-02 16:00:00,OUT,-6.9,107.6,5,\u200b,WFO\n"
        f"{NIP_B},2025-12-02 07:00:00,IN,-6.9,107.6,5,d\x07A,WFO\n",
    )
    r = cli(tmp_path / "s", "attendance", str(f))
    assert r.exit_code == 0, r.output
    assert "bad optional cells blanked (row stored, cell empty): 3 (3 type-error)" in r.stdout
    assert "blanked cells written to" in r.stdout
    rows = Store(tmp_path / "s").scan("attendance").collect().sort("nip", "ts")
    assert rows.select("accuracy_m", "device_id").rows() == [(None, "dA"), (5.0, None), (5.0, None)]
    rejects = pl.read_csv(next((tmp_path / "s" / "rejected-rows").glob("*.csv")))
    assert rejects["action"].to_list() == ["blanked"] * 3
    assert rejects["message"].to_list()[1] == (
        "'\u200b' in 'device_id' is not a device id (empty or control characters); the row is "
        "stored with device_id empty"
    )
    assert json.loads(rejects["values"][2])["device_id"] == "d\x07A"


def test_strict_does_not_fail_on_blanked_cells(tmp_path: Path) -> None:
    f = write(
        tmp_path / "a.csv",
        f"nip,ts,kind,accuracy_m\n{NIP_A},2025-12-02 07:00:00,IN,-5\n",
    )
    s = ingest_files(Store(tmp_path / "s"), "attendance", [f], strict=True)
    assert (s.stored, s.rejected, s.blanked) == (1, 0, 1)


# --- --delimiter / --decimal-comma ------------------------------------------------------


def test_a_semicolon_canonical_csv_needs_delimiter(tmp_path: Path) -> None:
    f = write(
        tmp_path / "a.csv",
        f"nip;ts;kind;lat;lon;accuracy_m\n{NIP_A};2025-12-02 07:00:00;IN;-6,9;107,6;4,5\n",
    )
    r = cli(tmp_path / "s", "attendance", str(f))
    assert r.exit_code == 3
    assert "pass --delimiter ';', or another --profile" in r.stderr
    r = cli(tmp_path / "s", "attendance", str(f), "--delimiter", ";", "--decimal-comma")
    assert r.exit_code == 0, r.output
    rows = Store(tmp_path / "s").scan("attendance").collect()
    assert rows.select("lat", "lon", "accuracy_m").rows() == [(-6.9, 107.6, 4.5)]


def test_delimiter_tab_and_bad_delimiters(tmp_path: Path) -> None:
    f = write(tmp_path / "o.tsv", "office_id\tname\tlat\tlon\nO1\tSate\t-6.9\t107.6\n")
    r = cli(tmp_path / "s", "offices", str(f), "--delimiter", "tab")
    assert r.exit_code == 0, r.output
    assert Store(tmp_path / "s").scan("offices").collect()["name"].to_list() == ["Sate"]
    r = cli(tmp_path / "s", "offices", str(f), "--delimiter", ";;")
    assert r.exit_code == 2
    assert "bad --delimiter ';;': give one character, e.g. --delimiter ';'" in r.stderr
    with pytest.raises(UsageError, match="bad --delimiter"):
        ingest_files(Store(tmp_path / "s"), "offices", [f], delimiter="")
