"""The store for v2: null-safe keys (employees valid_from), migration, --replace-period."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable, write_deltalake

import wfhaudit.store.delta as delta_module
from wfhaudit.errors import DataError
from wfhaudit.schema import ATTENDANCE, EMPLOYEES, REJECTS, ROSTER
from wfhaudit.store import Store

NIP_A = "198501012010011001"
NIP_B = "199002022015012005"
D = dt.date


def employees(rows: list[tuple[str, str, dt.date | None]]) -> pl.DataFrame:
    """Employee rows ``(nip, unit_code, valid_from)``."""
    return pl.DataFrame(
        {
            "nip": [r[0] for r in rows],
            "name": ["Asep"] * len(rows),
            "unit_code": [r[1] for r in rows],
            "office_id": ["OFF1"] * len(rows),
            "valid_from": [r[2] for r in rows],
        }
    ).with_columns(
        [pl.lit(None, dtype=t).alias(c) for c, t in EMPLOYEES.columns.items() if c not in
         ("nip", "name", "unit_code", "office_id", "valid_from")]
    ).select(list(EMPLOYEES.columns))


def roster(days: list[int], mode: str = "WFH") -> pl.DataFrame:
    return pl.DataFrame(
        {"nip": [NIP_A] * len(days), "date": [D(2025, 12, d) for d in days], "mode": mode},
        schema=ROSTER.schema,
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


def test_an_empty_valid_from_is_a_key_value_of_its_own(store: Store) -> None:
    first = store.write("employees", employees([(NIP_A, "DISHUB", None)]))
    assert (first.inserted, first.replaced, first.unchanged) == (1, 0, 0)
    transfer = employees([(NIP_A, "DISHUB", None), (NIP_A, "BAPPEDA", D(2025, 12, 8))])
    second = store.write("employees", transfer)
    assert (second.inserted, second.replaced, second.unchanged) == (1, 0, 1)
    again = store.write("employees", transfer)
    assert (again.inserted, again.replaced, again.unchanged) == (0, 0, 2)
    assert again.version == second.version
    fixed = store.write("employees", employees([(NIP_A, "DINKES", None)]))
    assert (fixed.inserted, fixed.replaced, fixed.unchanged) == (0, 1, 0)
    rows = store.scan("employees").collect().sort("valid_from", nulls_last=False)
    assert rows.select("nip", "unit_code", "valid_from").rows() == [
        (NIP_A, "DINKES", None),
        (NIP_A, "BAPPEDA", D(2025, 12, 8)),
    ]


def test_two_rows_with_an_empty_valid_from_are_a_duplicate_key(store: Store) -> None:
    with pytest.raises(ValueError, match="unique"):
        store.write("employees", employees([(NIP_A, "A", None), (NIP_A, "B", None)]))


OLD_EMPLOYEES = dataclasses.replace(
    EMPLOYEES,
    columns={c: t for c, t in EMPLOYEES.columns.items() if c != "valid_from"},
    key=("nip",),
    period_column=None,
)


def _old_store_with_two_employees(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """An employees table written by the v1 code path (no valid_from, key nip)."""
    with monkeypatch.context() as m:
        m.setitem(delta_module.TABLES, "employees", OLD_EMPLOYEES)
        old = employees([(NIP_A, "DISHUB", None), (NIP_B, "DINKES", None)]).drop("valid_from")
        assert store.write("employees", old).inserted == 2
    names = {f.name for f in DeltaTable(str(store.table_path("employees"))).schema().fields}
    assert "valid_from" not in names


def test_an_old_employees_table_reads_with_an_empty_valid_from(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _old_store_with_two_employees(store, monkeypatch)
    rows = store.scan("employees").collect().sort("nip")
    assert rows.columns == list(EMPLOYEES.columns)
    assert rows.select("nip", "unit_code", "valid_from").rows() == [
        (NIP_A, "DISHUB", None),
        (NIP_B, "DINKES", None),
    ]


def test_writing_to_an_old_employees_table_migrates_it_without_losing_a_row(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _old_store_with_two_employees(store, monkeypatch)
    result = store.write(
        "employees", employees([(NIP_A, "DISHUB", None), (NIP_A, "BAPPEDA", D(2025, 12, 8))])
    )
    assert (result.inserted, result.replaced, result.unchanged) == (1, 0, 1)
    table = DeltaTable(str(store.table_path("employees")))
    assert [f.name for f in table.schema().fields] == list(EMPLOYEES.columns)
    rows = store.scan("employees").collect().sort("nip", "valid_from", nulls_last=False)
    assert rows.select("nip", "unit_code", "valid_from").rows() == [
        (NIP_A, "DISHUB", None),
        (NIP_A, "BAPPEDA", D(2025, 12, 8)),
        (NIP_B, "DINKES", None),
    ]
    # other Delta readers see the migrated table too
    assert pl.read_delta(str(store.table_path("employees"))).height == 3
    # the migration commit is its own version; the old version still reads
    assert store.scan_at("employees", 0).collect().height == 2


def test_a_table_written_by_plain_deltalake_is_migrated(store: Store) -> None:
    old = employees([(NIP_A, "DISHUB", None)]).drop("valid_from")
    write_deltalake(str(store.table_path("employees")), old.to_arrow())
    result = store.write("employees", employees([(NIP_A, "DISHUB", None)]))
    assert (result.inserted, result.replaced, result.unchanged) == (0, 0, 1)
    store.write("employees", employees([(NIP_B, "DINKES", D(2026, 1, 1))]))
    assert store.scan("employees").collect().height == 2


def test_an_old_rejects_table_gains_the_action_column(store: Store) -> None:
    base = {
        "kind": ["attendance"],
        "source_file": ["a.csv"],
        "source_row": ["2"],
        "values": ["{}"],
        "error_code": ["bad-nip"],
        "message": ["NIP 1 is not exactly 18 digits"],
        "ingested_at": [dt.datetime(2025, 12, 3, 8)],
    }
    write_deltalake(str(store.table_path("rejects")), pl.DataFrame(base).to_arrow())
    store.append_rejects(pl.DataFrame({**base, "action": ["blanked"]}, schema=REJECTS.schema))
    rows = store.scan("rejects").collect()
    assert rows.get_column("action").to_list() == [None, "blanked"] or rows.get_column(
        "action"
    ).to_list() == ["blanked", None]


# --- replace_period ------------------------------------------------------------------


def test_replace_period_removes_the_dates_and_merges_in_one_commit(store: Store) -> None:
    store.write("roster", roster([1, 2, 3, 4, 5, 8]))
    before = store.version("roster")
    result = store.write(
        "roster",
        pl.concat([roster([3]), roster([4], "WFO")]),
        replace_period=(D(2025, 12, 3), D(2025, 12, 5)),
    )
    assert (result.inserted, result.replaced, result.unchanged, result.removed) == (0, 1, 1, 1)
    assert result.version == (before or 0) + 1
    rows = store.scan("roster").collect().sort("date")
    assert [(r[1].day, r[2]) for r in rows.rows()] == [
        (1, "WFH"),
        (2, "WFH"),
        (3, "WFH"),
        (4, "WFO"),
        (8, "WFH"),
    ]


def test_replace_period_keeps_rows_outside_the_range_and_inserts_new_ones(store: Store) -> None:
    store.write("roster", roster([1, 10]))
    result = store.write("roster", roster([11]), replace_period=(D(2025, 12, 10), D(2025, 12, 10)))
    assert (result.inserted, result.removed) == (1, 1)
    assert sorted(r.day for r in store.scan("roster").collect()["date"]) == [1, 11]


def test_replace_period_by_timestamp_covers_the_whole_last_day(store: Store) -> None:
    def check(day: int, hour: int) -> tuple[object, ...]:
        return (NIP_A, dt.datetime(2025, 12, day, hour), "IN", None, None, None, None, None)

    rows = pl.DataFrame([check(2, 7), check(3, 23), check(4, 7)], schema=ATTENDANCE.schema,
                        orient="row")
    store.write("attendance", rows)
    result = store.write(
        "attendance", rows.head(0), replace_period=(D(2025, 12, 2), D(2025, 12, 3))
    )
    assert result.removed == 2
    assert store.scan("attendance").collect()["ts"].to_list() == [dt.datetime(2025, 12, 4, 7)]


def test_replace_period_with_nothing_to_do_makes_no_commit(store: Store) -> None:
    store.write("roster", roster([1, 2]))
    version = store.version("roster")
    result = store.write("roster", roster([2]), replace_period=(D(2025, 12, 2), D(2025, 12, 2)))
    assert (result.unchanged, result.removed, result.version) == (1, 0, version)
    assert store.version("roster") == version


def test_replace_period_on_a_table_without_dates_is_refused(store: Store) -> None:
    offices = pl.DataFrame(
        {"office_id": ["OFF1"], "name": [None], "lat": [-6.9], "lon": [107.6], "radius_m": [None]}
    )
    with pytest.raises(DataError, match="offices table has no dates"):
        store.write("offices", offices, replace_period=(D(2025, 12, 1), D(2025, 12, 2)))
