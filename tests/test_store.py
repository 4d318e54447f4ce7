"""The Delta store: merge semantics, versions, partition pruning, info, housekeeping."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable
from typer.testing import CliRunner

from wfhaudit.cli import app
from wfhaudit.errors import DataError
from wfhaudit.schema import ATTENDANCE, EMPLOYEES, REJECTS
from wfhaudit.store import Store

NIP_A = "198501012010011001"
NIP_B = "199002022015012005"


def attendance(rows: list[tuple[str, dt.datetime, str, float | None, str | None]]) -> pl.DataFrame:
    """Attendance rows ``(nip, ts, kind, lat, mode)``; lon follows lat."""
    return pl.DataFrame(
        {
            "nip": [r[0] for r in rows],
            "ts": [r[1] for r in rows],
            "kind": [r[2] for r in rows],
            "lat": [r[3] for r in rows],
            "lon": [None if r[3] is None else 107.6 for r in rows],
            "accuracy_m": [5.0] * len(rows),
            "device_id": ["dA"] * len(rows),
            "mode": [r[4] for r in rows],
        },
        schema=ATTENDANCE.schema,
    )


def commits(store: Store, kind: str) -> int:
    return len(list((store.table_path(kind) / "_delta_log").glob("*.json")))


def stored(store: Store, kind: str, **kw: object) -> pl.DataFrame:
    return store.scan(kind, **kw).collect().sort(list(store_table_key(kind)))  # type: ignore[arg-type]


def store_table_key(kind: str) -> tuple[str, ...]:
    from wfhaudit.schema import TABLES

    return TABLES[kind].key


T = dt.datetime
DAY1 = [
    (NIP_A, T(2025, 12, 2, 7, 29, 40), "IN", -6.9022, "WFO"),
    (NIP_A, T(2025, 12, 2, 16, 2), "OUT", -6.9022, "WFO"),
    (NIP_B, T(2025, 12, 2, 7, 10), "IN", None, "WFH"),
]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


def test_first_write_creates_the_table_in_one_commit(store: Store) -> None:
    result = store.write("attendance", attendance(DAY1))
    assert (result.inserted, result.replaced, result.unchanged) == (3, 0, 0)
    assert result.version == 0 == store.version("attendance")
    assert commits(store, "attendance") == 1
    assert stored(store, "attendance").equals(attendance(DAY1).sort(list(ATTENDANCE.key)))
    assert (store.table_path("attendance") / "month=2025-12").is_dir()


def test_reingest_adds_nothing_and_makes_no_commit(store: Store) -> None:
    store.write("attendance", attendance(DAY1))
    again = store.write("attendance", attendance(DAY1))
    assert (again.inserted, again.replaced, again.unchanged) == (0, 0, 3)
    assert again.version == 0 == store.version("attendance")
    assert commits(store, "attendance") == 1
    assert store.scan("attendance").collect().height == 3


def test_revised_row_replaces_the_old_one_in_exactly_one_commit(store: Store) -> None:
    store.write("attendance", attendance(DAY1))
    revised = [
        DAY1[0],
        (NIP_A, T(2025, 12, 2, 16, 2), "OUT", -6.9168, "WFH"),  # revised values
        DAY1[2],
        (NIP_B, T(2025, 12, 2, 16, 30), "OUT", -6.95, "WFH"),  # new key
    ]
    result = store.write("attendance", attendance(revised))
    assert (result.inserted, result.replaced, result.unchanged) == (1, 1, 2)
    assert result.version == 1 and commits(store, "attendance") == 2
    rows = stored(store, "attendance")
    assert rows.height == 4
    assert rows.select(ATTENDANCE.key).is_duplicated().sum() == 0
    out = rows.filter((pl.col("nip") == NIP_A) & (pl.col("kind") == "OUT")).row(0, named=True)
    assert (out["mode"], out["lat"]) == ("WFH", -6.9168)
    # the same revised file again: nothing moves
    again = store.write("attendance", attendance(revised))
    assert (again.inserted, again.replaced, again.unchanged) == (0, 0, 4)
    assert store.version("attendance") == 1


def test_merge_is_exact_even_when_key_hashes_collide(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wfhaudit.store.delta as delta_module

    # every key gets one of two hashes: joins on the hash match almost everything
    monkeypatch.setattr(
        delta_module, "_key_hash", lambda key: (pl.col("kind") == "IN").cast(pl.UInt64)
    )
    store.write("attendance", attendance(DAY1))
    revised = [
        DAY1[0],
        (NIP_A, T(2025, 12, 2, 16, 2), "OUT", -6.9168, "WFH"),
        (NIP_B, T(2025, 12, 2, 16, 30), "OUT", -6.95, "WFH"),
        (NIP_B, T(2025, 12, 3, 7, 0), "IN", -6.95, "WFH"),
    ]
    result = store.write("attendance", attendance(revised))
    assert (result.inserted, result.replaced, result.unchanged) == (2, 1, 1)
    expected = attendance([*revised, DAY1[2]]).sort(list(ATTENDANCE.key))
    assert stored(store, "attendance").equals(expected)
    again = store.write("attendance", attendance(revised))
    assert (again.inserted, again.replaced, again.unchanged) == (0, 0, 4)


def test_null_equals_null_but_null_to_value_is_a_change(store: Store) -> None:
    store.write("attendance", attendance(DAY1))  # NIP_B has no location
    same = store.write("attendance", attendance(DAY1[2:]))
    assert (same.inserted, same.replaced, same.unchanged) == (0, 0, 1)
    located = [(NIP_B, T(2025, 12, 2, 7, 10), "IN", -6.91, "WFH")]
    changed = store.write("attendance", attendance(located))
    assert (changed.inserted, changed.replaced, changed.unchanged) == (0, 1, 0)
    row = store.scan("attendance").filter(pl.col("nip") == NIP_B).collect()
    assert row.height == 1 and row["lat"][0] == -6.91


def test_untouched_files_are_kept_and_versions_can_be_read_back(store: Store) -> None:
    store.write("attendance", attendance(DAY1))
    nov = [(NIP_A, T(2025, 11, 28, 7, 0), "IN", -6.9, "WFO")]
    store.write("attendance", attendance(nov))
    revised = [(NIP_A, T(2025, 12, 2, 7, 29, 40), "IN", -6.9022, "WFH")]
    result = store.write("attendance", attendance(revised))
    assert (result.inserted, result.replaced, result.version) == (0, 1, 2)
    # the November file was not rewritten
    delta = DeltaTable(str(store.table_path("attendance")))
    assert sum("month=2025-11" in f for f in delta.file_uris()) == 1
    assert store.versions()["attendance"] == 2
    assert store.versions()["employees"] is None
    v0 = store.scan_at("attendance", 0).collect()
    assert v0.height == 3 and "2025-11" not in v0["ts"].dt.strftime("%Y-%m").to_list()
    first_in = v0.filter((pl.col("nip") == NIP_A) & (pl.col("kind") == "IN"))["mode"][0]
    assert first_in == "WFO"
    now = store.scan("attendance").filter((pl.col("nip") == NIP_A) & (pl.col("kind") == "IN"))
    assert sorted(now.collect()["mode"].to_list()) == ["WFH", "WFO"]  # Dec revised, Nov
    with pytest.raises(DataError, match="no version 9"):
        store.scan("attendance", version=9)


def test_unpartitioned_table_merges_on_its_key(store: Store) -> None:
    def employees(unit: str, extra: bool = False) -> pl.DataFrame:
        rows = {
            "nip": [NIP_A, NIP_B] + ([f"{NIP_B[:-1]}9"] if extra else []),
            "name": ["Asep", "Dewi"] + (["Ujang"] if extra else []),
            "unit_code": [unit, "DISHUB"] + (["DISHUB"] if extra else []),
        }
        return pl.DataFrame(rows).with_columns(
            [pl.lit(None, dtype=t).alias(c) for c, t in EMPLOYEES.columns.items() if c not in rows]
        ).with_columns(pl.lit("OFF1").alias("office_id"))

    assert store.write("employees", employees("DISKOMINFO")).inserted == 2
    moved = store.write("employees", employees("BAPPEDA", extra=True))  # a transfer
    assert (moved.inserted, moved.replaced, moved.unchanged) == (1, 1, 1)
    rows = stored(store, "employees")
    assert rows.height == 3
    assert rows.filter(pl.col("nip") == NIP_A)["unit_code"][0] == "BAPPEDA"
    assert not (store.table_path("employees") / "month=2025-12").exists()


def test_rows_must_be_unique_on_the_key(store: Store) -> None:
    with pytest.raises(ValueError, match="unique"):
        store.write("attendance", attendance([DAY1[0], DAY1[0]]))
    no_ts = attendance(DAY1).with_columns(pl.lit(None, dtype=pl.Datetime("us")).alias("ts"))
    with pytest.raises(ValueError, match="every key column"):
        store.write("attendance", no_ts.head(1))
    assert not store.exists("attendance")


def test_a_full_disk_is_one_sentence_and_stores_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write("attendance", attendance(DAY1[:1]))

    def full(self: pl.DataFrame, file: Path, **kw: object) -> None:
        Path(file).write_bytes(b"PAR1 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", full)
    with pytest.raises(DataError, match="No space left on device; nothing was stored"):
        store.write("attendance", attendance(DAY1))
    monkeypatch.undo()
    assert store.version("attendance") == 0
    assert store.scan("attendance").collect().height == 1
    on_disk = list(store.table_path("attendance").rglob("*.parquet"))
    assert len(on_disk) == 1  # the half-written file was removed


def test_missing_table_is_a_data_error(store: Store) -> None:
    with pytest.raises(DataError, match="ingest one first"):
        store.scan("roster")


def year_of_attendance(per_month: int = 600) -> pl.DataFrame:
    """``per_month`` rows in each month of 2025 (the 1st to the 28th)."""
    frames = []
    for month in range(1, 13):
        base = dt.datetime(2025, month, 1, 7, 0)
        frames.append(
            pl.DataFrame(
                {
                    "nip": [f"{198500000000000000 + i % 40}" for i in range(per_month)],
                    "ts": [base + dt.timedelta(hours=i) for i in range(per_month)],
                }
            )
        )
    df = pl.concat(frames)
    return df.with_columns(
        pl.lit("IN").alias("kind"),
        pl.lit(-6.9).alias("lat"),
        pl.lit(107.6).alias("lon"),
        pl.lit(5.0).alias("accuracy_m"),
        pl.lit("dA").alias("device_id"),
        pl.lit("WFO").alias("mode"),
    ).select(list(ATTENDANCE.columns))


def test_scan_of_one_week_reads_only_that_month(store: Store) -> None:
    year = year_of_attendance()
    # two ingests per month half: several files per month partition
    store.write("attendance", year.filter(pl.col("ts").dt.day() <= 14))
    store.write("attendance", year.filter(pl.col("ts").dt.day() > 14))
    everything = store.files("attendance")
    week = store.files("attendance", dt.date(2025, 12, 1), dt.date(2025, 12, 7))
    assert len(everything) == 24 and len(week) == 2
    assert all("/month=2025-12/" in f for f in week)
    # same answer as Delta's own partition filter
    delta = DeltaTable(str(store.table_path("attendance")))
    by_delta = delta.file_uris(file_pruning_predicate=[("month", "=", "2025-12")])
    assert sorted(week) == sorted(by_delta)
    lf = store.scan("attendance", dt.date(2025, 12, 1), dt.date(2025, 12, 7))
    read = lf.collect()
    assert read.height == year.height // 12
    assert read["ts"].dt.month().unique().to_list() == [12]
    # a week across a month boundary reads both months
    across = store.files("attendance", dt.date(2025, 6, 28), dt.date(2025, 7, 4))
    assert sorted({f.split("/")[-2] for f in across}) == ["month=2025-06", "month=2025-07"]
    # a period with no data reads nothing but keeps the schema
    empty = store.scan("attendance", dt.date(2026, 3, 1), dt.date(2026, 3, 31)).collect()
    assert empty.height == 0 and empty.schema == ATTENDANCE.schema


def test_a_write_reads_only_the_months_it_touches(store: Store) -> None:
    year = year_of_attendance(per_month=20)
    store.write("attendance", year)
    # make every month but December unreadable: a write into December must not need them
    for path in store.files("attendance"):
        if "/month=2025-12/" not in path:
            Path(path).write_bytes(b"not parquet")
    december = year.filter(pl.col("ts").dt.month() == 12)
    revised = december.with_columns(pl.lit("WFH").alias("mode"))
    result = store.write("attendance", revised)
    assert (result.inserted, result.replaced, result.unchanged) == (0, 20, 0)
    assert store.scan("attendance", dt.date(2025, 12, 1), dt.date(2025, 12, 31)).collect()[
        "mode"
    ].to_list() == ["WFH"] * 20
    with pytest.raises(pl.exceptions.ComputeError):  # the damage is real
        store.scan("attendance", dt.date(2025, 11, 1), dt.date(2025, 11, 30)).collect()


def test_rejects_are_appended(store: Store) -> None:
    def rejects(n: int, file: str) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "kind": ["attendance"] * n,
                "source_file": [file] * n,
                "source_row": [str(i + 2) for i in range(n)],
                "values": ['{"nip": "123"}'] * n,
                "error_code": ["bad-nip"] * n,
                "message": ["NIP 123 is not 18 digits"] * n,
                "action": ["rejected"] * n,
                "ingested_at": [dt.datetime(2025, 12, 3, 8, 0)] * n,
            },
            schema=REJECTS.schema,
        )

    store.append_rejects(rejects(2, "a.csv"))
    store.append_rejects(rejects(3, "b.csv"))
    store.append_rejects(REJECTS.empty())
    assert store.scan("rejects").collect().height == 5
    assert store.version("rejects") == 1


def test_compact_keeps_rows_and_leaves_one_file_per_month(store: Store) -> None:
    year = year_of_attendance(per_month=50)
    store.write("attendance", year.filter(pl.col("ts").dt.day() <= 1))
    store.write("attendance", year.filter(pl.col("ts").dt.day() > 1))
    before = stored(store, "attendance")
    assert len(store.files("attendance")) == 24
    version = store.compact("attendance")
    assert version == 2 and len(store.files("attendance")) == 12
    assert stored(store, "attendance").equals(before)
    assert store.compact("attendance") is None
    assert store.scan_at("attendance", 1).collect().height == before.height


def test_vacuum_removes_replaced_and_orphaned_files(store: Store) -> None:
    store.write("attendance", attendance(DAY1))
    store.write("attendance", attendance([(*DAY1[0][:3], -6.95, "WFH")]))  # rewrites the file
    orphan = store.table_path("attendance") / "month=2025-12" / "part-killed.zstd.parquet"
    attendance(DAY1).write_parquet(orphan)  # as left by a write killed before its commit
    removed = store.vacuum("attendance", retention_hours=0)
    assert len(removed) == 2 and not orphan.exists()
    on_disk = {str(p) for p in store.table_path("attendance").rglob("*.parquet")}
    assert on_disk == set(store.files("attendance"))
    assert store.scan("attendance").collect().height == 3


def test_other_delta_readers_see_the_same_rows(store: Store) -> None:
    store.write("attendance", attendance(DAY1))
    store.write("attendance", attendance([(*DAY1[0][:3], -6.95, "WFH")]))
    path = str(store.table_path("attendance"))
    ours = stored(store, "attendance")
    polars_delta = pl.scan_delta(path).collect()
    assert polars_delta["month"].unique().to_list() == ["2025-12"]
    assert polars_delta.drop("month").sort(list(ATTENDANCE.key)).equals(ours)
    arrow = pl.DataFrame(DeltaTable(path).to_pyarrow_table())  # delta-rs's own reader
    assert arrow.select(list(ATTENDANCE.columns)).sort(list(ATTENDANCE.key)).equals(ours)
    old = pl.scan_delta(path, version=0).collect().drop("month").sort(list(ATTENDANCE.key))
    assert old.equals(stored(store, "attendance", version=0))


def test_info_counts_rows_months_and_dates(store: Store) -> None:
    store.write("attendance", attendance(DAY1))
    store.write("attendance", attendance([(NIP_A, T(2025, 11, 28, 7, 0), "IN", -6.9, "WFO")]))
    infos = {i.kind: i for i in store.info()}
    assert list(infos) == ["employees", "offices", "roster", "attendance", "outputs", "leave",
                           "clarifications", "feedback", "rejects"]
    att = infos["attendance"]
    assert (att.rows, att.version, att.months) == (4, 1, ("2025-11", "2025-12"))
    assert (att.first_date, att.last_date) == (dt.date(2025, 11, 28), dt.date(2025, 12, 2))
    assert infos["roster"].version is None and infos["roster"].rows == 0


runner = CliRunner()


def test_cli_store_info_table_and_json(store: Store) -> None:
    store.write("attendance", attendance(DAY1))
    result = runner.invoke(app, ["store", "info", "--store", str(store.path)])
    assert result.exit_code == 0, result.output
    assert "attendance" in result.output and "2025-12" in result.output
    assert "not ingested" in result.output and "rejects" in result.output
    result = runner.invoke(app, ["store", "info", "--store", str(store.path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    att = next(t for t in data["tables"] if t["table"] == "attendance")
    assert (att["rows"], att["version"], att["months"]) == (3, 0, ["2025-12"])
    assert (att["first_date"], att["last_date"]) == ("2025-12-02", "2025-12-02")
    assert data["rejects"] == 0


def test_cli_store_info_without_a_store_says_ingest_first(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = runner.invoke(app, ["store", "info", "--store", str(missing)])
    assert result.exit_code == 3
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "ingest" in lines[0] and "Traceback" not in result.output
    assert not missing.exists()


def test_cli_store_info_uses_the_environment_variable(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write("attendance", attendance(DAY1))
    monkeypatch.setenv("WFHAUDIT_STORE", str(store.path))
    result = runner.invoke(app, ["store", "info", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["store"] == str(store.path)
