"""The period step (issue 16): the merge plan made before the chunks, the chunks' outputs
split by unit range, the merge range by range, and the summary from per-range counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest
from test_partitioned_support import AS_OF, OFFICES, PERIOD, _at, _frame, assert_same_results

from wfhaudit.audit import partitioned, run
from wfhaudit.audit.partitioned import attendance_totals, range_cuts, range_index, split_ranges
from wfhaudit.audit.run import (
    merge_plan,
    run_audit,
    violation_counts,
    ytd_equivalent_days,
)
from wfhaudit.audit.spans import merge_quality_lists, quality_lists
from wfhaudit.policy import load_policy
from wfhaudit.store import Store

MOVER = "198001012005011000"  # U1 until 5 December, U3 from 8 December
TEXT = "Menyusun laporan kinerja harian"


def test_a_unit_larger_than_the_limit_is_a_range_of_its_own() -> None:
    rows = {"U1": 3, "U2": 20, "U3": 2, "U4": 4}
    assert range_cuts(rows, 8) == ("U2", "U3")  # [U1], [U2] alone, [U3, U4]
    assert range_cuts(rows, 100) == ()
    assert range_cuts({}, 8) == ()


def test_ranges_cover_every_unit_and_rows_without_one() -> None:
    """Range k holds the units from cuts[k-1] up to cuts[k]: a unit the plan did not know
    (U0, U9) still has one range, rows without a unit go to the first (where they sort)."""
    frame = pl.DataFrame({"unit_code": [None, "U0", "U1", "U2", "U2", "U3", "U4", "U9"],
                          "row": range(8)})
    assert range_index(frame["unit_code"], ("U2", "U3")).to_list() == [0, 0, 0, 1, 1, 2, 2, 2]
    assert [p["row"].to_list() for p in split_ranges(frame, ("U2", "U3"))] == [
        [0, 1, 2], [3, 4], [5, 6, 7]]
    shuffled = frame.reverse()  # not sorted by unit: the same rows, each range in order
    assert [p["row"].to_list() for p in split_ranges(shuffled, ("U2", "U3"))] == [
        [2, 1, 0], [4, 3], [7, 6, 5]]
    assert [p.height for p in split_ranges(frame.clear(), ("U2", "U3"))] == [0, 0, 0]
    assert split_ranges(frame, ())[0].equals(frame)


def test_the_plan_counts_employee_days_and_a_transfer_in_both_units(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    employees = pl.LazyFrame({
        "nip": ["a", "b", "c", "c", "d", "e", "f"],
        "unit_code": ["U1", "U1", "U2", "U3", "U3", "U4", "U4"],
    })
    days = pl.DataFrame({"date": [dt.date(2025, 12, d) for d in (1, 2, 3)]})
    snap: Any = SimpleNamespace(inputs=SimpleNamespace(employees=employees), days=days)
    monkeypatch.setattr(partitioned, "ROWS_PER_BUCKET", 6)  # two employees a range
    # U1: 2 x 3 days, U2: 1 x 3 (c), U3: 2 x 3 (c again, d), U4: 2 x 3
    assert merge_plan(snap) == ("U2", "U3", "U4")
    monkeypatch.setattr(partitioned, "ROWS_PER_BUCKET", 12)
    assert merge_plan(snap) == ("U3",)


def test_quality_lists_of_unit_ranges_are_those_of_the_whole() -> None:
    required = {"status": "required", "planned_mode": "WFO", "expected_mode": "WFO",
                "home_accepted": True}
    rows = [
        {**required, "unit_code": "U1", "nip": "a", "date": dt.date(2025, 12, 1),
         "events": 0, "office_id": "O1"},
        {**required, "unit_code": "U2", "nip": "b", "date": dt.date(2025, 12, 1),
         "events": 2, "office_id": "O9"},
        {**required, "unit_code": "U2", "nip": "b", "date": dt.date(2025, 12, 2),
         "events": 2, "office_id": "O8"},
        {**required, "unit_code": "U3", "nip": "c", "date": dt.date(2025, 12, 2),
         "events": 1, "office_id": "O9"},
    ]
    evidence = pl.DataFrame(rows)
    whole = quality_lists(evidence, {"O1"}, 5)
    parts = [quality_lists(p, {"O1"}, 5) for p in split_ranges(evidence, ("U2", "U3"))]
    assert merge_quality_lists(parts) == whole
    assert whole["unknown_office"] == [
        {"nip": "b", "unit_code": "U2", "office_id": "O8", "wfo_days": 1},
        {"nip": "b", "unit_code": "U2", "office_id": "O9", "wfo_days": 1},
        {"nip": "c", "unit_code": "U3", "office_id": "O9", "wfo_days": 1},
    ]
    assert whole["home_accepted_without_roster"] == {"U2": 2, "U3": 1}
    assert whole["unknown_office_wfo_days"] == 3


def test_counts_of_a_transfer_s_two_ranges_add_up_to_those_of_the_whole() -> None:
    """Per-range counts summed per nip (the period step) equal the counts of all the rows:
    the days with a violation, the minutes and the year to date (floats from summed
    integers, never summed floats)."""
    def row(unit: str, day: int, rule: str, minutes: int | None = None) -> dict[str, Any]:
        return {"nip": "a", "unit_code": unit, "date": dt.date(2025, 12, day), "rule": rule,
                "minutes": minutes}

    violations = pl.DataFrame([
        row("U1", 1, "LATE", 7), row("U1", 1, "EARLY_LEAVE", 13), row("U1", 2, "ABSENT"),
        row("U1", 2, "DUPLICATE_OUTPUT"), row("U3", 9, "LATE", 1), row("U3", 9, "SHARED_DEVICE"),
        row("U3", 10, "DUPLICATE_OUTPUT"),
    ])
    earlier = pl.DataFrame({"nip": ["a"], "absent_days": [1], "late_minutes": [449],
                            "early_minutes": [0]})
    parts = split_ranges(violations, ("U2",))
    assert [p.height for p in parts] == [4, 3]
    counts = pl.concat([violation_counts(p) for p in parts]).group_by("nip").agg(pl.all().sum())
    assert counts.rows() == violation_counts(violations).rows() == [("a", 4, 1, 8, 13)]
    policy = load_policy()
    start = dt.date(2025, 1, 1)
    summed = ytd_equivalent_days([*(attendance_totals(p) for p in parts), earlier], policy)
    whole = ytd_equivalent_days(
        [attendance_totals(violations.filter(pl.col("date") >= start)), earlier], policy
    )
    assert summed.rows() == whole.rows()
    assert summed.rows() == [("a", 2 + (449 + 8 + 13) / 450)]


def _transfer_store(path: Path, twice: bool = False) -> Store:
    """Three agencies of three; MOVER moves from U1 to U3 on 8 December, writes the same
    report every day (``twice``: two a day, half an hour apart) and is absent (no
    check-in, the report written) on 3 and 10 December: one absence in each agency, each
    on a day holding a duplicate output."""
    staff = [
        {"nip": f"19800101200501{u}{i:03d}", "name": f"P{u}{i}", "unit_code": f"U{u}",
         "unit_name": f"U{u}", "office_id": "O1"}
        for u in (1, 2, 3) for i in range(3)
    ]
    staff[0]["nip"] = MOVER
    staff.append(dict(staff[0], unit_code="U3", unit_name="U3", valid_from=dt.date(2025, 12, 8)))
    attendance, outputs = [], []
    lat, lon = OFFICES["O1"]
    for n, person in enumerate(staff[:9]):
        for offset in range(12):
            day = PERIOD.start + dt.timedelta(offset)
            if day.weekday() >= 5:
                continue
            if not (person["nip"] == MOVER and day.day in (3, 10)):
                for kind, hour, minute in (("IN", 7, 15), ("OUT", 16, 30)):
                    attendance.append({"nip": person["nip"], "ts": _at(day, hour, minute),
                                       "kind": kind, "lat": lat, "lon": lon,
                                       "device_id": f"d{n}", "mode": "WFO"})
            text = TEXT if person["nip"] == MOVER else f"Laporan {n} hari {day.day} selesai"
            outputs.append({"nip": person["nip"], "date": day, "text": text,
                            "submitted_at": _at(day, 16, 0)})
            if twice and person["nip"] == MOVER:
                outputs.append({"nip": MOVER, "date": day, "text": text,
                                "submitted_at": _at(day, 16, 30)})
    store = Store(path)
    store.write("employees", _frame("employees", staff))
    store.write("offices", _frame("offices", [{"office_id": "O1", "name": "O1", "lat": lat,
                                               "lon": lon, "radius_m": None}]))
    store.write("attendance", _frame("attendance", attendance))
    store.write("outputs", _frame("outputs", outputs))
    return store


def test_a_transfer_across_merge_ranges_counts_each_day_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _transfer_store(tmp_path / "s")
    policy = load_policy()
    whole = run_audit(store, PERIOD, policy, as_of=AS_OF, out_dir=tmp_path / "m",
                      partition_days=0)
    mine = whole.violations.filter(pl.col("nip") == MOVER)
    assert sorted(mine.filter(pl.col("rule") == "ABSENT")["date"].dt.day()) == [3, 10]
    assert mine.filter(pl.col("rule") == "DUPLICATE_OUTPUT").height == 10
    days = whole.employee_days.filter(pl.col("nip") == MOVER)
    assert days.group_by("unit_code").len().sort("unit_code").rows() == [("U1", 5), ("U3", 5)]
    row = whole.employee_summary.filter(pl.col("nip") == MOVER).row(0, named=True)
    assert (row["unit_code"], row["working_days"], row["absent_days"]) == ("U3", 10, 2)
    assert row["violation_days"] == mine["date"].n_unique() == 10  # not 12

    seen: list[tuple[str, ...]] = []
    real = run.period_step

    def spy(snap: Any, policy: Any, period: Any, results: Any, *rest: Any) -> Any:
        seen.append(results[0].ranges)
        for r in results:  # each ranged part holds only its range's units, sorted
            for name, part in r.parts.items():
                if name.startswith(("violations-r", "evidence-r")):
                    frame = pl.read_parquet(part)
                    k = int(name.rsplit("-r", 1)[1])
                    assert set(range_index(frame["unit_code"], r.ranges)) == {k}
                    keys = ["unit_code", "nip", "date"]
                    assert frame.select(keys).equals(frame.select(keys).sort(keys))
        return real(snap, policy, period, results, *rest)

    monkeypatch.setattr(run, "period_step", spy)
    monkeypatch.setattr(partitioned, "ROWS_PER_BUCKET", 20)  # one agency a range
    for days in (1, 3):
        run_audit(store, PERIOD, policy, as_of=AS_OF, out_dir=tmp_path / f"p{days}",
                  partition_days=days)
        assert_same_results(tmp_path / "m", tmp_path / f"p{days}")
    assert seen == [("U2", "U3"), ("U2", "U3")]


def test_a_range_that_fails_to_write_fails_the_audit_and_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The merge writes range by range (``_SortedWriter``): a disk that fills up while the
    second range is written is the audit's one clear error (exit 3 from the CLI), and the
    results of the previous audit stay as they were."""
    import errno

    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from wfhaudit.cli import app

    _transfer_store(tmp_path / "s")
    out = tmp_path / "out"
    args = ["audit", f"{PERIOD.start}..{PERIOD.end}", "--as-of", str(AS_OF),
            "--store", str(tmp_path / "s"), "--out", str(out), "--quiet",
            "--partition-days", "1"]
    monkeypatch.setattr(partitioned, "ROWS_PER_BUCKET", 20)  # one agency a range
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = pq.ParquetWriter.write_table
    writes: list[int] = []

    def full_disk(self: Any, table: Any, *a: Any, **k: Any) -> Any:
        writes.append(table.num_rows)
        if len(writes) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, table, *a, **k)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full_disk)
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 3, done.output
    assert "cannot write the audit results" in done.output
    assert "Traceback" not in done.output
    assert len(writes) >= 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def _text_buffer_bytes(frame: pl.DataFrame, column: str) -> int:
    """The bytes of the buffers behind ``column``'s texts (Arrow's string views)."""
    array = frame.get_column(column).to_arrow(compat_level=pl.CompatLevel.newest())
    return sum(b.size for b in array.buffers() if b is not None)


def test_kept_counts_hold_their_own_texts_not_the_range_s() -> None:
    """A group-by's keys are views into the frame grouped: kept across ranges, every
    range's NIP buffers would stay alive (90 MB a range at 4 million employees).  The
    period step keeps copies (``owned_strings``): the same rows, in buffers of their own."""
    rows = pl.DataFrame({
        "nip": [f"19800101200501{i:04d}" for i in range(5_000)] * 20,
        "unit_code": [f"UNIT-{i % 7:02d}-PANJANG-SEKALI" for i in range(100_000)],
        "n": list(range(100_000)),
    })
    # a range's rows sorted, grouped, ten groups kept: their NIPs still point into the
    # buffers of all 100 000 rows
    counts = (
        rows.sort("unit_code", "nip").group_by("nip", "unit_code", maintain_order=True)
        .agg(pl.len()).head(10)
    )
    owned = partitioned.owned_strings(counts)
    assert owned.equals(counts)
    assert owned.schema == counts.schema
    assert _text_buffer_bytes(counts, "nip") > 1_000_000  # the whole frame's NIPs
    assert _text_buffer_bytes(owned, "nip") < 2_000  # its ten
    assert _text_buffer_bytes(owned, "unit_code") < 2_000
    with_null = pl.DataFrame({"nip": ["a" * 20, None], "k": [1, 2]})
    assert partitioned.owned_strings(with_null).equals(with_null)  # a null stays null
    numbers = pl.DataFrame({"k": [1, 2]})
    assert partitioned.owned_strings(numbers) is numbers


def test_two_reports_a_day_are_one_employee_day_of_duplicate_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The period step takes its employee-days from the report each chunk marked first of
    its day (``FIRST_REPORT``): MOVER's second report of every day (the same text) marks
    nothing, so DUPLICATE_OUTPUT is one row per day, as in memory."""
    store = _transfer_store(tmp_path / "s", twice=True)
    policy = load_policy()
    whole = run_audit(store, PERIOD, policy, as_of=AS_OF, out_dir=tmp_path / "m",
                      partition_days=0)
    mine = whole.violations.filter(
        (pl.col("nip") == MOVER) & (pl.col("rule") == "DUPLICATE_OUTPUT")
    )
    assert mine.height == mine["date"].n_unique() == 10

    marked: list[pl.DataFrame] = []
    real = run.period_violations

    def spy(results: Any, *rest: Any) -> Any:
        for r in results:
            for name, part in r.parts.items():
                if name.startswith("reports-"):
                    marked.append(pl.read_parquet(part))
        return real(results, *rest)

    monkeypatch.setattr(run, "period_violations", spy)
    run_audit(store, PERIOD, policy, as_of=AS_OF, out_dir=tmp_path / "p",
              partition_days=1)
    assert_same_results(tmp_path / "m", tmp_path / "p")
    reports = pl.concat(marked).filter(pl.col("nip") == MOVER)
    assert reports.height == 20  # two a day, ten days
    first = reports.filter(pl.col(partitioned.FIRST_REPORT))
    assert first.height == first.select("date").n_unique() == 10
