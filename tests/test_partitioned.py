"""The partitioned (out-of-core) audit gives exactly the result files of ``run_audit``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from test_partitioned_support import AS_OF, PERIOD, assert_same_results, build_store

from wfhaudit.audit import partitioned
from wfhaudit.audit.partitioned import run_audit_partitioned, unit_ranges
from wfhaudit.audit.period import range_period
from wfhaudit.audit.run import run_audit
from wfhaudit.errors import DataError
from wfhaudit.policy import load_policy
from wfhaudit.store import Store

WORKED = Path(__file__).parent / "data" / "worked"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Path]:
    """The synthetic store and the unpartitioned audit of it."""
    base = tmp_path_factory.mktemp("partitioned")
    store = build_store(base / "store")
    run_audit(store, PERIOD, load_policy(), as_of=AS_OF, out_dir=base / "whole", partition_days=0)
    return store, base / "whole"


def test_synthetic_data_exercises_every_hard_rule(synthetic: tuple[Store, Path]) -> None:
    _, whole = synthetic
    counts = json.loads((whole / "audit.json").read_text())["counts"]["by_rule"]
    for rule in ("DUPLICATE_OUTPUT", "SHARED_COORDINATES", "SHARED_DEVICE", "IMPOSSIBLE_TRAVEL",
                 "ABSENT", "LATE", "WRONG_LOCATION", "LATE_DAILY_OUTPUT"):
        assert counts[rule] > 0, rule
    summary = pl.read_parquet(whole / "employee_summary.parquet")
    # attendance in November counts towards the year-to-date figure
    assert (summary["ytd_equivalent_days"] > summary["equivalent_days"]).any()


@pytest.mark.parametrize("days_per_partition", [1, 2, 5, 100])
def test_partitioned_equals_whole_run(
    synthetic: tuple[Store, Path], tmp_path: Path, days_per_partition: int
) -> None:
    store, whole = synthetic
    out = tmp_path / "out"
    result = run_audit_partitioned(
        store, PERIOD, load_policy(), as_of=AS_OF, out_dir=out,
        days_per_partition=days_per_partition,
    )
    assert_same_results(whole, out)
    working = len(result.meta["execution"]["chunk_seconds"])
    assert working == -(-10 // days_per_partition)  # 10 working days in the period
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # work dir removed


def test_small_buckets_and_unit_ranges_change_nothing(
    synthetic: tuple[Store, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many nip buckets in the second pass, one unit per merge range."""
    store, whole = synthetic
    monkeypatch.setattr(partitioned, "ROWS_PER_BUCKET", 40)
    run_audit_partitioned(store, PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / "o")
    assert_same_results(whole, tmp_path / "o")


@pytest.mark.parametrize("group_employees", [10, 20])
@pytest.mark.parametrize("shared_index", [True, False], ids=["keyed-together", "keyed-apart"])
def test_agency_groups_inside_a_day_change_nothing(
    synthetic: tuple[Store, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    group_employees: int, shared_index: bool,
) -> None:
    """A day audited agency group by agency group; day-wide rules still see every agency.
    Keyed together on the audit's employee index (``agency_groups``), or, where the
    store cannot name its employees files (``files_by_month`` None: no shared index),
    each group on its own."""
    store, whole = synthetic
    monkeypatch.setattr(partitioned, "GROUP_EMPLOYEES", group_employees)
    if not shared_index:
        monkeypatch.setattr(Store, "files_by_month", lambda *_: None)
    calls: list[int] = []
    real = partitioned.agency_groups

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(partitioned, "agency_groups", counted)
    result = run_audit_partitioned(
        store, PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / "o"
    )
    assert bool(calls) == shared_index  # the path the test names is the one that ran
    assert result.meta["execution"]["agency_groups"] == {10: 4, 20: 2}[group_employees]
    assert_same_results(whole, tmp_path / "o")


def test_worked_example(tmp_path: Path) -> None:
    from test_partitioned_support import load_worked

    store = load_worked(WORKED, tmp_path / "store")
    start, end = (WORKED / "period.txt").read_text().split()
    period = range_period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    run_audit(store, period, load_policy(), as_of=AS_OF, out_dir=tmp_path / "whole",
              partition_days=0)
    run_audit_partitioned(store, period, load_policy(), as_of=AS_OF, out_dir=tmp_path / "part")
    assert_same_results(tmp_path / "whole", tmp_path / "part")
    found = pl.read_parquet(tmp_path / "part" / "violations.parquet")
    assert {"LATE", "EARLY_LEAVE", "ABSENT"} <= set(found["rule"].to_list())


def test_days_left_out_and_empty_period(synthetic: tuple[Store, Path], tmp_path: Path) -> None:
    """As-of before the period: nothing audited, the same (empty) files as the whole run."""
    store, _ = synthetic
    as_of = PERIOD.start
    run_audit(store, PERIOD, load_policy(), as_of=as_of, out_dir=tmp_path / "whole",
              partition_days=0)
    run_audit_partitioned(store, PERIOD, load_policy(), as_of=as_of, out_dir=tmp_path / "part")
    assert_same_results(tmp_path / "whole", tmp_path / "part")
    assert pl.read_parquet(tmp_path / "part" / "violations.parquet").height == 0


def test_missing_table_is_a_data_error(tmp_path: Path) -> None:
    store = Store(tmp_path / "empty")
    with pytest.raises(DataError, match="employees"):
        run_audit_partitioned(store, PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / "o")
    assert not (tmp_path / "o" / "violations.parquet").exists()


def test_unit_ranges_respect_the_limit() -> None:
    rows = {"U3": 5, "U1": 4, "U2": 4, "U4": 20, "U5": 1}
    assert unit_ranges(rows, 8) == [("U1", "U2"), ("U3", "U3"), ("U4", "U4"), ("U5", "U5")]
    assert unit_ranges(rows, 100) == [("U1", "U5")]
    assert unit_ranges({}, 10) == []
