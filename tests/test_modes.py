"""Every run mode is one pipeline: the same result files, whatever runs the chunks.

A hypothesis test over random small stores compares every result file and
``audit.json`` (apart from clock and execution fields) across the in-memory
run, the partitioned run with 1, 2 and 5 days per chunk and a two-worker local
Dask cluster; then the reproductions of issue 10 (each failed on the two-engine
code): different sanctions, different errors, unpinned reads during staging.
``WFHAUDIT_MODE_EXAMPLES`` sets the number of random stores (default 3).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_partitioned_support import (
    AS_OF,
    OFFICES,
    PERIOD,
    TEXTS,
    _at,
    _frame,
    assert_same_results,
    build_store,
)
from typer.testing import CliRunner

from wfhaudit import cluster
from wfhaudit.audit import partitioned, run
from wfhaudit.audit.run import run_audit
from wfhaudit.cli import app
from wfhaudit.policy import load_policy
from wfhaudit.schema import EMPLOYEES, TABLES
from wfhaudit.store import Store

runner = CliRunner()
EXAMPLES = int(os.environ.get("WFHAUDIT_MODE_EXAMPLES", "3"))
UNITS = ["U1", "U2", "U3", "U4"]


def random_store(path: Path, seed: int, employees: int, earlier_units: list[str]) -> Store:
    """A small store: several agencies, November held by ``earlier_units`` only, a transfer
    (where employees have history), leave across chunk boundaries, devices and points shared
    across agencies, report texts repeated across weeks."""
    rng = random.Random(seed)
    staff = []
    for i in range(employees):
        staff.append({
            "nip": f"19900101202001{i:04d}", "name": f"P{i}", "unit_code": UNITS[i % 4],
            "unit_name": UNITS[i % 4], "office_id": ["O1", "O2", "O3", "O9"][rng.randrange(4)],
            "home_lat": None if rng.random() < 0.15 else -6.93 + i * 0.001,
            "home_lon": 107.61 + i * 0.001,
            "active_from": dt.date(2025, 12, rng.randint(1, 12)) if rng.random() < 0.1 else None,
            "active_to": dt.date(2025, 12, rng.randint(1, 12)) if rng.random() < 0.1 else None,
        })
    if "valid_from" in EMPLOYEES.columns and staff:  # a transfer on 8 December
        moved = dict(staff[0], unit_code="U2", office_id="O2", valid_from=dt.date(2025, 12, 8))
        staff.append(moved)
        if employees > 4:  # from a later agency to an earlier one, with a smaller NIP than
            # some of its new colleagues: numbered by the first agency, listed by the new
            # one (the in-memory run once wrote these days out of (unit, nip, date) order)
            staff.append(dict(staff[3], unit_code="U1", office_id="O1",
                              valid_from=dt.date(2025, 12, 15)))
    offices = [{"office_id": k, "name": k, "lat": v[0], "lon": v[1], "radius_m": None}
               for k, v in OFFICES.items()]
    attendance: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    roster: list[dict[str, Any]] = []
    leave: list[dict[str, Any]] = []
    days = [dt.date(2025, 11, 3) + dt.timedelta(n) for n in range(40)]
    for n, person in enumerate(staff[:employees]):
        nip, unit = person["nip"], person["unit_code"]
        place = OFFICES.get(person["office_id"], (-6.95, 107.70))
        if rng.random() < 0.3:
            start = dt.date(2025, 12, rng.randint(1, 10))
            end = start + dt.timedelta(rng.randint(0, 5))
            leave.append({"nip": nip, "start": start, "end": end,
                          "kind": rng.choice(["CUTI", "DINAS_LUAR", "SAKIT", "IZIN"])})
        favourite = rng.choice(TEXTS[:5])
        for day in days:
            if day < PERIOD.start and unit not in earlier_units:
                continue  # the store holds November for some agencies only
            if day >= PERIOD.start and rng.random() < 0.6:
                roster.append({"nip": nip, "date": day, "mode": rng.choice(["WFH", "WFO"])})
            if rng.random() < 0.15:
                continue
            lat, lon = place[0] + rng.uniform(-0.003, 0.003), place[1] + rng.uniform(-0.003, 0.003)
            device = f"d{n}"
            if day.day % 3 == 0 and n % 5 == 0:
                lat, lon = -6.9100, 107.6100  # one point, several agencies
            if day.day % 4 == 0 and n % 6 == 1:
                device = "shared"
            check_in = _at(day, 7, rng.randint(0, 59), rng.randint(0, 59))
            attendance.append({"nip": nip, "ts": check_in, "kind": "IN", "lat": lat, "lon": lon,
                               "accuracy_m": rng.choice([None, 10.0, 60.0]), "device_id": device,
                               "mode": "WFO"})
            if rng.random() < 0.85:
                far = rng.random() < 0.05
                check_out = _at(day, 15 + rng.randint(0, 1), rng.randint(0, 59))
                attendance.append({"nip": nip, "ts": check_out, "kind": "OUT",
                                   "lat": lat + (0.3 if far else 0.0), "lon": lon,
                                   "accuracy_m": None, "device_id": device, "mode": "WFO"})
            if rng.random() < 0.85:
                text = favourite if rng.random() < 0.5 else rng.choice(TEXTS)
                outputs.append({"nip": nip, "date": day, "text": text,
                                "submitted_at": _at(day + dt.timedelta(rng.choice([0, 0, 1])),
                                                    rng.randint(14, 23), 5)})
    store = Store(path)
    store.write("employees", _frame("employees", staff))
    store.write("offices", _frame("offices", offices))
    store.write("attendance", _frame("attendance", attendance).unique(["nip", "ts", "kind"]))
    store.write("outputs", _frame("outputs", outputs).unique(["nip", "date", "submitted_at"]))
    if roster:
        store.write("roster", _frame("roster", roster).unique(["nip", "date"]))
    if leave:
        store.write("leave", _frame("leave", leave).unique(["nip", "start", "kind"]))
    return store


@pytest.fixture(scope="module")
def dask() -> Iterator[Any]:
    if not cluster.available():
        yield None
        return
    with cluster.local_cluster(n_workers=2) as executor:
        yield executor


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    employees=st.integers(4, 14),
    earlier_units=st.lists(st.sampled_from(UNITS), max_size=3, unique=True),
    as_of_day=st.sampled_from([3, 9, 13]),
)
# found by this test: the in-memory engine computed 2527 dm / 10 as 252.70000000000002 m
@example(seed=119, employees=5, earlier_units=[], as_of_day=9)
def test_every_mode_writes_the_same_files(
    tmp_path_factory: pytest.TempPathFactory, dask: Any, seed: int, employees: int,
    earlier_units: list[str], as_of_day: int,
) -> None:
    base = tmp_path_factory.mktemp("modes")
    store = random_store(base / "store", seed, employees, earlier_units)
    policy, as_of = load_policy(), dt.date(2025, 12, as_of_day)
    whole = run_audit(store, PERIOD, policy, as_of=as_of, out_dir=base / "memory",
                      partition_days=0)
    assert whole.meta["execution"]["mode"] == "in_memory"
    for days in (1, 2, 5):
        result = run_audit(store, PERIOD, policy, as_of=as_of, out_dir=base / f"p{days}",
                           partition_days=days)
        assert result.meta["execution"]["days_per_chunk"] == days
        assert_same_results(base / "memory", base / f"p{days}")
    if dask is not None:
        run_audit(store, PERIOD, policy, as_of=as_of, out_dir=base / "dask", executor=dask)
        assert_same_results(base / "memory", base / "dask")


# --- the reproductions of issue 10 -------------------------------------------------------


def _sanctions_store(path: Path) -> Store:
    """January 2026 attendance only for agency U1; B (U2) present every day of a February week."""
    a, b = "198501012010011001", "198501012010012002"
    staff = [{"nip": nip, "name": nip, "unit_code": unit, "unit_name": unit, "office_id": "O1"}
             for nip, unit in ((a, "U1"), (b, "U2"))]
    attendance = []
    for n in range(40):
        day = dt.date(2026, 1, 1) + dt.timedelta(n)
        if day.weekday() < 5 and (day.month == 1 or day <= dt.date(2026, 2, 6)):
            for nip in ([a] if day.month == 1 else [a, b]):
                for kind, hour in (("IN", 7), ("OUT", 17)):
                    attendance.append({"nip": nip, "ts": _at(day, hour, 20), "kind": kind,
                                       "lat": OFFICES["O1"][0], "lon": OFFICES["O1"][1]})
    store = Store(path)
    store.write("employees", _frame("employees", staff))
    store.write("offices", _frame("offices", [{"office_id": "O1", "name": "O1",
                                               "lat": OFFICES["O1"][0], "lon": OFFICES["O1"][1]}]))
    store.write("attendance", _frame("attendance", attendance))
    store.write("outputs", _frame("outputs", [{"nip": a, "date": dt.date(2026, 2, 2),
                                               "submitted_at": _at(dt.date(2026, 2, 2), 18, 0),
                                               "text": TEXTS[0]}]))
    return store


@pytest.mark.parametrize("mode", [[], ["--partition-days", "7"], ["--partition-days", "1"]])
def test_same_sanctions_in_every_mode(tmp_path: Path, mode: list[str]) -> None:
    """Issue 10: B got 5.0 and TEGURAN_TERTULIS partitioned, 0.0 in memory."""
    _sanctions_store(tmp_path / "s")
    out = tmp_path / "out"
    done = runner.invoke(app, ["audit", "2026-02-02..2026-02-06", "--as-of", "2026-02-07",
                               "--store", str(tmp_path / "s"), "--out", str(out), "--quiet",
                               *mode])
    assert done.exit_code == 0, done.output
    b = pl.read_parquet(out / "employee_summary.parquet").filter(pl.col("unit_code") == "U2")
    assert b.select("ytd_equivalent_days", "ytd_tier").rows() == [(0.0, None)]


def test_unwritable_out_is_a_data_error_in_every_mode(tmp_path: Path) -> None:
    """Issue 10: exit 4 "unexpected NotADirectoryError" partitioned."""
    _sanctions_store(tmp_path / "s")
    (tmp_path / "file").write_text("not a directory")
    for mode in ([], ["--partition-days", "1"]):
        done = runner.invoke(app, ["audit", "2026-02-02..2026-02-06", "--as-of", "2026-02-07",
                                   "--store", str(tmp_path / "s"),
                                   "--out", str(tmp_path / "file" / "out"), *mode])
        assert done.exit_code == 3, done.output
        assert "cannot write the audit results" in done.output
        assert "choose another directory with --out" in done.output


class IngestDuringStaging(Store):
    """A store into which another process commits attendance once the audit has pinned its
    versions and starts reading the attendance table."""

    def __init__(self, path: Path, extra: pl.DataFrame) -> None:
        super().__init__(path)
        self.extra: pl.DataFrame | None = extra
        self.pinned = False

    def version(self, kind: str) -> int | None:
        found = super().version(kind)
        self.pinned = self.pinned or kind == "attendance"
        return found

    def table_path(self, kind: str) -> Path:
        if kind == "attendance" and self.pinned and self.extra is not None:
            extra, self.extra = self.extra, None
            Store(self.path).write("attendance", extra)  # the concurrent ingest
        return super().table_path(kind)


def test_an_ingest_during_the_audit_is_not_read(tmp_path: Path) -> None:
    """Issue 10: audit.json named versions the staged audit did not read."""
    store = build_store(tmp_path / "s")
    before = store.version("attendance")
    run_audit(store, PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / "before",
              partition_days=0)
    absent = pl.read_parquet(tmp_path / "before" / "violations.parquet").filter(
        pl.col("rule") == "ABSENT"
    )
    nip, day = absent.row(0, named=True)["nip"], absent.row(0, named=True)["date"]
    extra = _frame("attendance", [
        {"nip": nip, "ts": _at(day, 7, 0), "kind": "IN", "lat": OFFICES["O1"][0],
         "lon": OFFICES["O1"][1]},
        {"nip": nip, "ts": _at(day, 17, 0), "kind": "OUT", "lat": OFFICES["O1"][0],
         "lon": OFFICES["O1"][1]},
    ])
    racing = IngestDuringStaging(tmp_path / "s", extra)
    result = run_audit(racing, PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / "during",
                       partition_days=2)
    assert racing.extra is None and store.version("attendance") == before + 1  # it happened
    assert result.meta["store"]["versions"]["attendance"] == before
    assert_same_results(tmp_path / "before", tmp_path / "during")


# --- staging, auto --------------------------------------------------------------------


def test_work_dir_is_private_outside_the_output_and_stale_ones_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17 item 6: a killed audit left every home in <out>/.partitions-*/stage.
    Issue 16: chunks read the store itself (no copy of it is staged); the chunks' files
    live in a private work directory outside ``--out``, removed after the run."""
    store = build_store(tmp_path / "s")
    work = tmp_path / "work"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    import socket

    stale = work / f"{run.WORK_PREFIX}{socket.gethostname()}-{gone.stdout.strip()}-x1"
    (stale / "stage").mkdir(parents=True)
    (stale / "stage" / "employees.parquet").write_text("homes")
    seen: list[tuple[Path, int, list[str]]] = []
    real = partitioned.audit_chunk

    def spy(chunk: Any) -> Any:
        done = real(chunk)
        folder = Path(chunk.work)
        seen.append((folder, folder.stat().st_mode & 0o077,
                     sorted(p.name for p in folder.iterdir())))
        return done

    monkeypatch.setattr(run, "audit_chunk", spy)
    out = tmp_path / "out"
    run_audit(store, PERIOD, load_policy(), as_of=AS_OF, out_dir=out, partition_days=3,
              work_dir=work)
    assert not stale.exists()
    assert [p.name for p in work.iterdir()] == []  # this run's work directory removed too
    assert sorted(p.name for p in out.iterdir()) == [
        "audit.json", "employee_days.parquet", "employee_summary.parquet",
        "unit_findings.parquet", "violations.parquet",
        "waived_unit_findings.parquet", "waived_violations.parquet"]
    assert len(seen) >= 2
    for folder, private, names in seen:
        assert out not in folder.parents
        assert private == 0  # the work directory is the user's only
        assert not any(n.startswith("stage") for n in names)  # no copy of the store


def test_auto_says_what_it_chose_and_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = build_store(tmp_path / "s")
    small = run_audit(store, PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / "a")
    execution = json.loads((tmp_path / "a" / "audit.json").read_text())["execution"]
    assert (execution["mode"], execution["chosen_by"]) == ("in_memory", "auto")
    assert "input rows" in execution["reason"] and "fit in 25%" in execution["reason"]
    monkeypatch.setattr(run, "IN_MEMORY_SHARE", 1e-9)  # a machine far too small
    big = run_audit(store, PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / "b")
    assert big.meta["execution"]["mode"] == "partitioned"
    assert big.meta["execution"]["days_per_chunk"] == 1
    assert "exceed" in big.meta["execution"]["reason"]
    assert small.counts == big.counts
    assert_same_results(tmp_path / "a", tmp_path / "b")


def test_chunks_run_in_threads_when_they_fit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small chunks run a few at once (the results as one at a time); a chunk too large
    for two in memory runs alone; audit.json says which and why."""
    store = build_store(tmp_path / "s")
    monkeypatch.setattr(run.os, "cpu_count", lambda: 8)
    two = run_audit(store, PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / "t",
                    partition_days=1)
    assert two.meta["execution"]["threads"] == run.MAX_CHUNK_THREADS
    assert "per chunk" in two.meta["execution"]["threads_reason"]
    monkeypatch.setattr(run, "MAX_CHUNK_THREADS", 1)
    one = run_audit(store, PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / "o",
                    partition_days=1)
    assert one.meta["execution"]["threads"] == 1
    assert_same_results(tmp_path / "t", tmp_path / "o")
    monkeypatch.setattr(run, "MAX_CHUNK_THREADS", 4)
    monkeypatch.setattr(run, "IN_MEMORY_SHARE", 1e-9)  # not even one chunk fits
    alone = run_audit(store, PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / "a",
                      partition_days=1)
    assert alone.meta["execution"]["threads"] == 1


def test_threaded_runner_keeps_chunk_order_and_raises_the_first_failure() -> None:
    from wfhaudit.audit.partitioned import LocalExecutor

    said: list[str] = []

    def slow_first(i: int) -> int:
        time.sleep(0.05 if i == 0 else 0)
        if i == 3:
            raise ValueError("chunk 3")
        return i * i

    runner = LocalExecutor(said.append, threads=3)
    assert runner.map(lambda i: i * i, list(range(6))) == [0, 1, 4, 9, 16, 25]
    assert said == [f"chunk {k}/6 done" for k in range(1, 7)]
    with pytest.raises(ValueError, match="chunk 3"):
        runner.map(slow_first, list(range(6)))


# --- the year to date (rules.md v2) ------------------------------------------------------


def _ytd(result: Any) -> dict[str, float]:
    return dict(result.employee_summary.select("nip", "ytd_equivalent_days").iter_rows())


@pytest.mark.parametrize("partition_days", [0, 2])
def test_year_to_date_does_not_depend_on_the_period_length(
    tmp_path: Path, partition_days: int
) -> None:
    """The same last audited day: the same year to date, whatever the period's first day."""
    from wfhaudit.audit.period import parse_period, range_period

    store = build_store(tmp_path / "s")
    as_of, policy = dt.date(2025, 12, 13), load_policy()
    month = run_audit(store, parse_period("2025-12"), policy, as_of=as_of,
                      out_dir=tmp_path / "m", partition_days=partition_days)
    week = run_audit(store, range_period(dt.date(2025, 12, 8), dt.date(2025, 12, 12)), policy,
                     as_of=as_of, out_dir=tmp_path / "w", partition_days=partition_days)
    in_week = _ytd(week)
    assert in_week == {nip: v for nip, v in _ytd(month).items() if nip in in_week}
    assert sum(in_week.values()) > sum(week.employee_summary["equivalent_days"])


def test_year_to_date_is_of_the_last_audited_day_s_year(tmp_path: Path) -> None:
    """A period across the new year audited before 1 January counts the old year."""
    from wfhaudit.audit.period import range_period

    store = build_store(tmp_path / "s")
    period = range_period(dt.date(2025, 12, 8), dt.date(2026, 1, 9))
    old_year = run_audit(store, period, load_policy(), as_of=dt.date(2025, 12, 13),
                         out_dir=tmp_path / "a", partition_days=0)
    month = run_audit(store, range_period(dt.date(2025, 12, 1), dt.date(2025, 12, 12)),
                      load_policy(), as_of=dt.date(2025, 12, 13), out_dir=tmp_path / "b")
    assert _ytd(old_year) == {nip: v for nip, v in _ytd(month).items() if nip in _ytd(old_year)}
    new_year = run_audit(store, period, load_policy(), as_of=dt.date(2026, 1, 10),
                         out_dir=tmp_path / "c", partition_days=0)
    summary = new_year.employee_summary  # 2026: only the period's January days count
    january = new_year.violations.filter(pl.col("date") >= dt.date(2026, 1, 1))
    absent = dict(january.filter(pl.col("rule") == "ABSENT").group_by("nip").len().iter_rows())
    minutes = dict(january.filter(pl.col("rule").is_in(["LATE", "EARLY_LEAVE"]))
                   .group_by("nip").agg(pl.col("minutes").sum()).iter_rows())
    assert dict(summary.select("nip", "ytd_equivalent_days").iter_rows()) == {
        nip: absent.get(nip, 0) + minutes.get(nip, 0) / 450 for nip in summary["nip"]
    }
    assert _ytd(new_year) != _ytd(old_year)


def test_waived_findings_are_the_same_in_every_mode(tmp_path: Path) -> None:
    """Clarifications waive findings of the chunks and of the period step (DUPLICATE_OUTPUT)
    alike: the waived files too are equal across modes."""
    store = build_store(tmp_path / "s")
    run_audit(store, PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / "plain",
              partition_days=0)
    found = pl.read_parquet(tmp_path / "plain" / "violations.parquet")
    dup = found.filter(pl.col("rule") == "DUPLICATE_OUTPUT").row(0, named=True)
    store.write("clarifications", _frame("clarifications", [
        {"nip": dup["nip"], "start": PERIOD.start, "end": PERIOD.end, "rule": "DUPLICATE_OUTPUT",
         "reason": "template agreed", "decided_by": "BKD"},
        {"unit_code": "U2", "start": dt.date(2025, 12, 2), "end": dt.date(2025, 12, 3),
         "reason": "K-Mob outage", "decided_by": "BKD"},
    ]))
    run_audit(store, PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / "memory",
              partition_days=0)
    waived = pl.read_parquet(tmp_path / "memory" / "waived_violations.parquet")
    assert "DUPLICATE_OUTPUT" in set(waived["rule"]) and "U2" in set(waived["unit_code"])
    for days in (1, 3):
        run_audit(store, PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / f"p{days}",
                  partition_days=days)
        assert_same_results(tmp_path / "memory", tmp_path / f"p{days}")


@pytest.fixture
def index_keys(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The ``employees_key`` of every employee index computed (in order)."""
    from wfhaudit.audit import employee_days

    keys: list[str | None] = []
    real = employee_days._employee_index

    def recording(inputs: Any) -> Any:
        keys.append(inputs.employees_key)
        return real(inputs)

    monkeypatch.setattr(employee_days, "_employee_index", recording)
    return keys


def test_a_store_written_again_at_the_same_path_gets_its_own_employee_index(
    tmp_path: Path, index_keys: list[str | None]
) -> None:
    """Issue 16: chunks share one employee index per ``employees_key`` (the employees
    table's data files at the pinned version).  A store deleted and written again at the
    same path has the same version numbers but other rows: it must get another key, never
    the index of the rows that were there before (a finding names a civil servant).  And
    the indexes are released when an audit's chunks are done."""
    from wfhaudit.audit import employee_days

    keys = index_keys
    path = tmp_path / "s"
    random_store(path, seed=1, employees=9, earlier_units=UNITS[:2])
    run_audit(Store(path), PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / "a",
              partition_days=2)
    first = set(keys)
    assert first and None not in first
    assert employee_days._INDEXES == {}  # released after the chunks
    import shutil

    shutil.rmtree(path)
    random_store(path, seed=2, employees=13, earlier_units=UNITS[1:])
    keys.clear()
    # as if the first store's indexes had stayed: a wrong key would find an empty index
    employee_days._INDEXES.update({k: (pl.DataFrame(), pl.DataFrame()) for k in first if k})
    run_audit(Store(path), PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / "b",
              partition_days=2)
    assert keys and not first & set(keys)  # another key: the stale index is never used
    run_audit(Store(path), PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / "c",
              partition_days=2)
    assert_same_results(tmp_path / "c", tmp_path / "b")


def test_an_18_digit_nip_and_only_that_has_a_number() -> None:
    """The groups' integer lookup (``nip_number``): a number only for 18 ASCII digits, so
    no two different NIPs share one ('+1...' or ' 1...' would read as '01...')."""
    from wfhaudit.audit.employee_days import nip_number

    nips = pl.Series(["012345678901234567", "+12345678901234567", " 12345678901234567",
                      "12345678901234567", "1234567890123456789", "٠١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧", None])
    assert pl.select(nip_number(pl.lit(nips))).to_series().to_list() == [
        12345678901234567, None, None, None, None, None, None
    ]


@settings(max_examples=300, deadline=None)
@given(st.lists(
    st.text(alphabet="0123456789+- _\n\tx.eE٠١９", min_size=15, max_size=20), max_size=40
))
@example(["+12345678901234567", "-12345678901234567", "1234567890123456٠", "12345678901234567\n"])
def test_nip_number_is_a_number_exactly_for_18_ascii_digits(texts: list[str]) -> None:
    """``nip_number`` without a regular expression gives what ``^[0-9]{18}$`` and the
    integer would: a sign, a space, a letter, another script's digit or a length other
    than 18 leaves no number."""
    from wfhaudit.audit.employee_days import nip_number

    nips = pl.Series("nip", [*texts, "098765432109876543"], dtype=pl.String)
    expected = [
        int(t) if re.fullmatch(r"[0-9]{18}", t) else None for t in nips.to_list()
    ]
    assert pl.select(nip_number(pl.lit(nips))).to_series().to_list() == expected


@pytest.mark.parametrize("text_nip", [False, True], ids=["by-number", "by-text"])
def test_a_chunk_s_agency_groups_hold_exactly_their_own_employees_rows(
    tmp_path: Path, index_keys: list[str | None], text_nip: bool
) -> None:
    """Issue 16: ``agency_groups`` reads a day once and splits it by the whole audit's
    employee numbering.  Each group gets exactly the rows a filter on its own employees'
    NIPs gives (rows of an unknown nip in none), each with its employee's number; looked
    up by the NIP's number, or by its text where an employee's NIP is not 18 digits."""
    from wfhaudit.audit import employee_days
    from wfhaudit.audit.inputs import load_inputs

    store = build_store(tmp_path / "s")
    day = dt.date(2025, 12, 3)
    if text_nip:  # a NIP of another form in employees: the text lookup
        someone = store.scan("employees").head(1).collect()
        store.write("employees", someone.with_columns(pl.lit("K-1").alias("nip")))
        att = store.scan("attendance").filter(pl.col("ts").dt.date() == day).slice(5, 1).collect()
        store.write("attendance", att.with_columns(pl.lit("K-1").alias("nip")))
    unknown = store.scan("attendance").filter(pl.col("ts").dt.date() == day).head(2).collect()
    store.write("attendance", unknown.with_columns(pl.lit("199901012020011999").alias("nip")))
    key = f"audit of {tmp_path}"  # the store's own: the index is kept per key
    inputs = dataclasses.replace(load_inputs(store, day, day), employees_key=key)
    groups = partitioned.unit_groups(inputs.employees, 2)
    assert groups is not None and len(groups) > 1
    _, whole = employee_days._employee_index(inputs)
    number = dict(whole.iter_rows())
    index_keys.clear()
    seen = {kind: 0 for kind in ("roster", "attendance", "outputs", "leave")}
    unknown, each = employee_days.agency_groups(inputs, groups)
    assert unknown == {"roster_unknown_nip": 0, "attendance_unknown_nip": 2,
                       "outputs_unknown_nip": 0}
    for units, group in zip(groups, each, strict=True):
        nips = inputs.employees.filter(pl.col("unit_code").is_in(units)).select("nip")
        for kind in seen:
            expected = getattr(inputs, kind).join(nips, on="nip", how="semi").collect()
            got = getattr(group, kind).collect()
            assert [number[n] for n in got["nip"]] == got["emp_idx"].to_list()
            got = got.drop("emp_idx")
            assert got.sort(got.columns).equals(expected.sort(expected.columns)), kind
            seen[kind] += got.height
        assert group.employees.collect().equals(
            inputs.employees.filter(pl.col("unit_code").is_in(units)).collect()
        )
    assert seen["attendance"] == inputs.attendance.collect().height - 2  # the unknown nip's
    assert all(seen.values())
    assert index_keys == [key]  # one index for all groups
    employee_days.release_indexes()


def test_agency_groups_share_one_employee_index_per_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, index_keys: list[str | None]
) -> None:
    """Issue 16: chunks audit their agencies group by group, and the employee index is
    computed once for the whole audit (at 4 million employees it was computed again for
    every group of every day: 12 s a chunk), each day's tables keyed once on it for every
    group.  The results are the in-memory run's."""
    store = build_store(tmp_path / "s")
    # rows of nips not in employees: no group holds them, the chunks count them
    for kind in ("attendance", "outputs", "roster"):
        others = [c for c in TABLES[kind].key if c != "nip"]  # still unique on the key
        day = pl.col(TABLES[kind].period_column).cast(pl.Date)
        rows = (store.scan(kind).filter(day.is_between(dt.date(2025, 12, 2), PERIOD.end))
                .collect().unique(others, maintain_order=True).head(3))
        store.write(kind, rows.with_columns(pl.lit("199901012020011999").alias("nip")))
    memory = run_audit(store, PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / "m",
                       partition_days=0)
    assert memory.meta["data_quality"]["attendance_unknown_nip"] == 3
    monkeypatch.setattr(partitioned, "GROUP_EMPLOYEES", 2)  # one agency per group
    computed = index_keys
    computed.clear()
    result = run_audit(store, PERIOD, load_policy(), as_of=AS_OF, out_dir=tmp_path / "g",
                       partition_days=1)
    groups = result.meta["execution"]["agency_groups"]
    assert groups > 1 and result.meta["execution"]["chunks"] > 1
    keyed = [k for k in computed if k is not None]
    assert len(keyed) == 1 and "|" not in keyed[0]  # the whole audit's, once
    assert_same_results(tmp_path / "m", tmp_path / "g")
