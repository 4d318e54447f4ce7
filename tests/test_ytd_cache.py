"""The year-to-date cache (issue 16): ``derived/ytd_facts`` in the store.

The figure read through the cache equals the one computed from scratch
(``WFHAUDIT_YTD_CACHE=off``) on random stores holding several earlier months; one more late
check-in ingested into October, a leave row, a clarification, an employees change, a
roster row and a policy change each recompute exactly the months they touch (a December
ingest none); a week period computes its own month's earlier days every time; a store
that cannot be written is audited all the same; ``store info`` lists the table.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import random
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_partitioned_support import OFFICES, TEXTS, _at, _frame, assert_same_results
from typer.testing import CliRunner

from wfhaudit.audit import ytd_cache
from wfhaudit.audit.period import Period, parse_period, range_period
from wfhaudit.audit.run import run_audit
from wfhaudit.audit.spans import active_on, in_force, on_day
from wfhaudit.cli import app
from wfhaudit.policy import load_policy
from wfhaudit.schema import EMPLOYEES
from wfhaudit.store import Store

runner = CliRunner()
UNITS = ["U1", "U2", "U3"]
DECEMBER = parse_period("2025-12")
AS_OF = dt.date(2025, 12, 13)
FIRST = dt.date(2025, 9, 1)
POLICY = load_policy()


def year_store(path: Path, seed: int = 3, employees: int = 12) -> Store:
    """September .. 12 December for ``employees`` staff in three agencies: random check-in
    and check-out times (late, early, absent days), leave, a transfer on 6 October, a hire
    first seen in November, U3 holding no September."""
    rng = random.Random(seed)
    staff: list[dict[str, Any]] = []
    for i in range(employees):
        staff.append({
            "nip": f"19800101200501{i:04d}", "name": f"P{i}", "unit_code": UNITS[i % 3],
            "unit_name": UNITS[i % 3], "office_id": ["O1", "O2", "O3"][i % 3],
            "home_lat": -6.93, "home_lon": 107.61,
            "active_to": dt.date(2025, 10, 20) if i == 4 else None,
        })
    staff.append(dict(staff[0], unit_code="U2", office_id="O2", valid_from=dt.date(2025, 10, 6)))
    staff.append(dict(staff[1], nip="198001012005019999", valid_from=dt.date(2025, 11, 10)))
    attendance: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    leave: list[dict[str, Any]] = []
    for person in staff:
        nip, place = person["nip"], OFFICES[person["office_id"]]
        if rng.random() < 0.4:
            start = dt.date(2025, rng.randint(9, 12), rng.randint(1, 10))
            end = start + dt.timedelta(rng.randint(0, 4))
            leave.append({"nip": nip, "start": start, "end": end,
                          "kind": rng.choice(["CUTI", "SAKIT", "DINAS_LUAR"])})
        for n in range((dt.date(2025, 12, 12) - FIRST).days + 1):
            day = FIRST + dt.timedelta(n)
            if person.get("valid_from") and day < person["valid_from"]:
                continue
            if day.month == 9 and person["unit_code"] == "U3" or rng.random() < 0.12:
                continue
            check_in = _at(day, 7, rng.randint(0, 50), rng.randint(0, 59))
            attendance.append({"nip": nip, "ts": check_in, "kind": "IN", "lat": place[0],
                               "lon": place[1], "mode": "WFO"})
            if rng.random() < 0.9:
                attendance.append({"nip": nip, "ts": _at(day, 15 + rng.randint(0, 1),
                                                         rng.randint(0, 59)),
                                   "kind": "OUT", "lat": place[0], "lon": place[1], "mode": "WFO"})
            outputs.append({"nip": nip, "date": day, "text": rng.choice(TEXTS[:5]),
                            "submitted_at": _at(day, 17, 0)})
    store = Store(path)
    store.write("employees", _frame("employees", staff))
    store.write("offices", _frame("offices", [
        {"office_id": k, "name": k, "lat": v[0], "lon": v[1]} for k, v in OFFICES.items()]))
    store.write("attendance", _frame("attendance", attendance).unique(["nip", "ts", "kind"]))
    store.write("outputs", _frame("outputs", outputs).unique(["nip", "date", "submitted_at"]))
    store.write("leave", _frame("leave", leave).unique(["nip", "start", "kind"]))
    return store


def audit(store: Store, out: Path, *, period: Period = DECEMBER, policy: Any = POLICY,
          cache: str | None = None, days: int = 0) -> Any:
    return run_audit(store, period, policy, as_of=AS_OF, out_dir=out, partition_days=days,
                     ytd_cache=cache)


def ytd(result: Any) -> dict[str, Any]:
    return dict(result.meta["execution"]["year_to_date"])


def figures(result: Any) -> dict[str, tuple[float, str | None]]:
    summary = result.employee_summary
    return {n: (v, t) for n, v, t in summary.select("nip", "ytd_equivalent_days", "ytd_tier")
            .iter_rows()}


EARLIER = ["2025-09", "2025-10", "2025-11"]


# --- the cached figure is the figure from scratch ------------------------------------------


@pytest.mark.slow
@settings(max_examples=3, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), employees=st.integers(3, 9), days=st.sampled_from([0, 2, 5]))
def test_the_cached_figure_is_the_figure_from_scratch(
    tmp_path_factory: pytest.TempPathFactory, seed: int, employees: int, days: int
) -> None:
    base = tmp_path_factory.mktemp("ytd")
    store = year_store(base / "s", seed, employees)
    scratch = audit(store, base / "off", cache="off")
    assert ytd(scratch)["months_computed"] == EARLIER and ytd(scratch)["months_cached_now"] == []
    assert not ytd_cache.table_path(store).exists()  # off: nothing written
    cold = audit(store, base / "cold", days=days)
    assert ytd(cold)["months_cached_now"] == EARLIER and ytd(cold)["months_from_cache"] == []
    warm = audit(store, base / "warm", days=days)
    assert ytd(warm)["months_from_cache"] == EARLIER and ytd(warm)["days_computed"] == 0
    assert warm.meta["execution"]["ytd_chunks"] == 0
    for result in ("cold", "warm"):
        assert_same_results(base / "off", base / result)
    assert any(v > 0 for v, _ in figures(warm).values())  # earlier months count


def test_a_late_check_in_ingested_into_october_moves_the_cached_figure(tmp_path: Path) -> None:
    store = year_store(tmp_path / "s")
    first = audit(store, tmp_path / "a")
    assert ytd(first)["months_cached_now"] == EARLIER
    october = audit(store, tmp_path / "o", period=parse_period("2025-10"), cache="off")
    absent = october.violations.filter(pl.col("rule") == "ABSENT").row(0, named=True)
    nip, day = absent["nip"], absent["date"]
    office = OFFICES[str(store.scan("employees").filter(pl.col("nip") == nip)
                         .collect()["office_id"][-1])]
    # the day's K-Mob export arrives late: a check-in at 08:00 and a check-out at 16:00
    store.write("attendance", _frame("attendance", [
        {"nip": nip, "ts": _at(day, 8, 0), "kind": "IN", "lat": office[0], "lon": office[1]},
        {"nip": nip, "ts": _at(day, 16, 0), "kind": "OUT", "lat": office[0], "lon": office[1]},
    ]))
    after = audit(store, tmp_path / "b")
    assert ytd(after)["months_from_cache"] == ["2025-09", "2025-11"]
    assert ytd(after)["months_computed"] == ["2025-10"]
    assert ytd(after)["months_recomputed_inputs_changed"] == ["2025-10"]
    # ABSENT (1 day) became LATE (30 minutes, 07:30 .. 08:00): 1 - 30/450 days less
    assert figures(after)[nip][0] == pytest.approx(figures(first)[nip][0] - 1 + 30 / 450)
    scratch = audit(store, tmp_path / "c", cache="off")
    assert_same_results(tmp_path / "c", tmp_path / "b")
    assert figures(scratch) == figures(after)
    again = audit(store, tmp_path / "d")  # and the new October is now the cached one
    assert ytd(again)["months_from_cache"] == EARLIER


def _nip(store: Store, i: int) -> str:
    return str(store.scan("employees").collect().sort("nip")["nip"][i])


def _change_leave(store: Store) -> None:
    store.write("leave", _frame("leave", [{"nip": _nip(store, 2), "start": dt.date(2025, 10, 14),
                                           "end": dt.date(2025, 10, 16), "kind": "SAKIT"}]))


def _change_clarification(store: Store) -> None:
    store.write("clarifications", _frame("clarifications", [
        {"unit_code": "U1", "start": dt.date(2025, 10, 1), "end": dt.date(2025, 10, 3),
         "reason": "K-Mob outage", "decided_by": "BKD"}]))


def _change_employee(store: Store) -> None:  # leaves the service on 10 October, not 20th
    rows = store.scan("employees").collect().filter(pl.col("active_to").is_not_null())
    store.write("employees", rows.with_columns(pl.lit(dt.date(2025, 10, 10)).alias("active_to")))


def _change_roster(store: Store) -> None:
    store.write("roster", _frame("roster", [{"nip": _nip(store, 3), "date": dt.date(2025, 9, 9),
                                             "mode": "WFH"}]))


def _change_december(store: Store) -> None:  # the daily ingest of the period's month
    store.write("attendance", _frame("attendance", [
        {"nip": _nip(store, 5), "ts": _at(dt.date(2025, 12, 12), 6, 59), "kind": "IN"}]))


def _change_hire(store: Store) -> None:  # a new employee first seen in December
    row = store.scan("employees").collect().row(0, named=True)
    store.write("employees", _frame("employees", [
        dict(row, nip="198001012005018888", valid_from=dt.date(2025, 12, 1))]))


def _change_transfer(store: Store) -> None:  # a transfer to another agency from 8 December
    row = store.scan("employees").collect().filter(pl.col("unit_code") == "U3").row(
        0, named=True)
    store.write("employees", _frame("employees", [
        dict(row, unit_code="U1", office_id="O1", valid_from=dt.date(2025, 12, 8))]))


@pytest.mark.parametrize(("change", "months"), [
    (_change_leave, ["2025-10"]),
    (_change_clarification, ["2025-10"]),
    (_change_employee, ["2025-10"]),
    (_change_roster, ["2025-09"]),
    (_change_december, []),
    (_change_hire, []),
    (_change_transfer, []),
])
def test_an_ingest_recomputes_exactly_the_months_it_touches(
    tmp_path: Path, change: Any, months: list[str]
) -> None:
    store = year_store(tmp_path / "s")
    audit(store, tmp_path / "a")
    change(store)
    after = audit(store, tmp_path / "b")
    assert ytd(after)["months_recomputed_inputs_changed"] == months
    assert ytd(after)["months_from_cache"] == [m for m in EARLIER if m not in months]
    audit(store, tmp_path / "c", cache="off")
    assert_same_results(tmp_path / "c", tmp_path / "b")


def test_a_policy_change_recomputes_every_month(tmp_path: Path) -> None:
    store = year_store(tmp_path / "s")
    before = audit(store, tmp_path / "a")
    graceful = replace(POLICY, late_grace_minutes=20)
    after = audit(store, tmp_path / "b", policy=graceful)
    assert ytd(after)["months_from_cache"] == []
    assert ytd(after)["months_recomputed_inputs_changed"] == EARLIER
    assert figures(after) != figures(before)
    audit(store, tmp_path / "c", policy=graceful, cache="off")
    assert_same_results(tmp_path / "c", tmp_path / "b")


def test_a_week_period_computes_its_own_month_every_time(tmp_path: Path) -> None:
    store = year_store(tmp_path / "s")
    week = range_period(dt.date(2025, 12, 8), dt.date(2025, 12, 12))
    first = audit(store, tmp_path / "a", period=week, days=2)
    assert ytd(first)["months_computed"] == [*EARLIER, "2025-12"]
    assert ytd(first)["months_cached_now"] == EARLIER  # 1 .. 5 December is not cached
    result = audit(store, tmp_path / "b", period=week, days=2)
    assert ytd(result)["months_computed"] == ["2025-12"]
    assert ytd(result)["months_from_cache"] == EARLIER
    assert ytd(result)["days_computed"] == 5
    audit(store, tmp_path / "c", period=week, cache="off")
    assert_same_results(tmp_path / "c", tmp_path / "b")


def test_rebuild_recomputes_and_replaces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = year_store(tmp_path / "s")
    audit(store, tmp_path / "a")
    version = ytd_cache.cache_info(store)["version"]  # type: ignore[index]
    monkeypatch.setenv(ytd_cache.ENV, "rebuild")
    rebuilt = audit(store, tmp_path / "b")
    assert ytd(rebuilt)["months_computed"] == EARLIER == ytd(rebuilt)["months_cached_now"]
    info = ytd_cache.cache_info(store)
    assert info is not None and info["version"] == version + 1 and info["months"] == EARLIER
    assert info["files"] == 3  # one entry per month: the old ones replaced
    assert_same_results(tmp_path / "a", tmp_path / "b")


def test_a_bad_cache_setting_is_a_usage_error(tmp_path: Path) -> None:
    year_store(tmp_path / "s")
    done = runner.invoke(app, ["audit", "2025-12", "--as-of", "2025-12-13", "--store",
                               str(tmp_path / "s"), "--out", str(tmp_path / "o"), "--quiet"],
                         env={ytd_cache.ENV: "sometimes"})
    assert done.exit_code == 2, done.output
    assert "bad WFHAUDIT_YTD_CACHE 'sometimes'" in done.output and "Traceback" not in done.output


# --- the store ---------------------------------------------------------------------------


def test_a_store_that_cannot_be_written_is_audited_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = year_store(tmp_path / "s")
    real = Path.mkdir

    def read_only(self: Path, *args: Any, **kwargs: Any) -> None:
        if store.path in self.parents or self == store.path:
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    result = audit(store, tmp_path / "a")
    assert ytd(result)["months_computed"] == EARLIER and ytd(result)["months_cached_now"] == []
    assert ytd(result)["not_cached"] == "the store could not be written (Read-only file system)"
    assert not ytd_cache.table_path(store).exists()
    written = json.loads((tmp_path / "a" / "audit.json").read_text())
    assert written["execution"]["year_to_date"]["not_cached"].startswith("the store could not")
    monkeypatch.undo()
    audit(store, tmp_path / "b", cache="off")
    assert_same_results(tmp_path / "b", tmp_path / "a")


def test_store_info_lists_the_cache_and_ingest_does_not_take_it(tmp_path: Path) -> None:
    store = year_store(tmp_path / "s")
    audit(store, tmp_path / "a")
    shown = runner.invoke(app, ["store", "info", "--store", str(store.path), "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert "ytd_facts" not in [t["table"] for t in data["tables"]]
    [cache] = data["derived"]
    assert (cache["table"], cache["months"], cache["version"]) == (
        "derived/ytd_facts", EARLIER, 0)
    facts = pl.read_delta(str(ytd_cache.table_path(store))).filter(pl.col("nip").is_not_null())
    assert cache["rows"] == facts.height > 0
    table = runner.invoke(app, ["store", "info", "--store", str(store.path)],
                          env={"COLUMNS": "120"})
    assert table.exit_code == 0 and "ytd_facts*" in table.output
    assert "2025-09-01" in table.output and "the year-to-date cache" in table.output
    refused = runner.invoke(app, ["ingest", "ytd_facts", str(tmp_path / "x.csv"),
                                  "--store", str(store.path)])
    assert refused.exit_code == 2 and "ytd_facts" in refused.output


def test_housekeeping_leaves_the_cache_working(tmp_path: Path) -> None:
    store = year_store(tmp_path / "s")
    store.write("attendance", _frame("attendance", [  # a second file in every month
        {"nip": _nip(store, 1), "ts": _at(dt.date(2025, m, 28), 23, 0), "kind": "OUT"}
        for m in (9, 10, 11, 12)]))
    first = audit(store, tmp_path / "a")
    for kind in ("attendance", "employees"):
        store.compact(kind)  # new file names: the months those files hold are recomputed
        store.vacuum(kind, retention_hours=0)
    assert store.repair() == []
    after = audit(store, tmp_path / "b")
    assert ytd(after)["months_from_cache"] == []  # every month's attendance was compacted
    assert ytd_cache.vacuum(store, retention_hours=0)  # the replaced entries' files
    again = audit(store, tmp_path / "c")
    assert ytd(again)["months_from_cache"] == EARLIER
    assert figures(again) == figures(after) == figures(first)
    assert figures(again) == figures(audit(store, tmp_path / "d", cache="off"))


def test_two_writers_of_one_month_leave_a_consistent_cache(tmp_path: Path) -> None:
    store = year_store(tmp_path / "s")
    unlocked = Store(store.path, lock=False)  # Delta's own conflict check, no flock
    facts = [pl.DataFrame({"nip": ["a"], "absent_days": [n], "late_minutes": [n],
                           "early_minutes": [0]}) for n in (1, 2)]
    plans = [ytd_cache.YtdPlan("use", FIRST, FIRST, to_write={"2025-09": key})
             for key in ("f1", "f2")]
    errors: list[str | None] = []
    threads = [threading.Thread(target=lambda p=p, f=f: errors.append(
        ytd_cache.record(unlocked, p, {"2025-09": f}))) for p, f in zip(plans, facts, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [None, None]
    stored = pl.read_delta(str(ytd_cache.table_path(store)))
    for key, n in (("f1", 1), ("f2", 2)):  # whatever is kept under a fingerprint is its facts
        rows = stored.filter((pl.col("fingerprint") == key) & pl.col("nip").is_not_null())
        assert rows["absent_days"].to_list() in ([], [n])
    assert stored.filter(pl.col("nip").is_null()).height >= 1


def test_the_active_days_of_an_employees_row_are_those_the_engine_audits() -> None:
    """The fingerprint's employees part: per row the days of a month it makes employee-days,
    one interval, the same as the engine's ``on_day & active_on``."""
    rng = random.Random(5)
    days = [dt.date(2025, 10, 1) + dt.timedelta(n) for n in range(31)]
    some = [None, dt.date(2025, 9, 20), *days[::4], dt.date(2025, 11, 5)]
    rows = []
    for i in range(60):
        for valid in sorted({rng.choice(some) for _ in range(rng.randint(1, 3))},
                            key=lambda d: (d is not None, d or dt.date.min)):
            rows.append({"nip": f"n{i}", "name": "x", "unit_code": "U", "office_id": "O",
                         "active_from": rng.choice(some), "active_to": rng.choice(some),
                         "valid_from": valid})
    people = in_force(_frame("employees", rows).lazy()).collect()
    engine = {
        (nip, d) for d in days
        for nip in people.filter(on_day(pl.lit(d)) & active_on(pl.lit(d)))["nip"].to_list()
    }
    found = ytd_cache.active_days(people, days[0], days[-1])
    assert "valid_from" not in found.columns and "active_to" not in found.columns
    intervals = {
        (nip, lo + dt.timedelta(n))
        for nip, lo, hi in found.select("nip", "_first", "_last").iter_rows()
        for n in range((hi - lo).days + 1)
    }
    assert intervals == engine and len(engine) > 100
    assert EMPLOYEES.columns.keys() - {"home_lat", "home_lon"} - set(found.columns) == {
        "active_from", "active_to", "valid_from"}


def test_a_damaged_cache_is_recomputed_never_believed(tmp_path: Path) -> None:
    store = year_store(tmp_path / "s")
    audit(store, tmp_path / "a")
    scratch = figures(audit(store, tmp_path / "off", cache="off"))
    october = next(ytd_cache.table_path(store).glob("month=2025-10/*/*.parquet"))
    october.unlink()  # a data file removed by hand
    after = audit(store, tmp_path / "b")
    assert ytd(after)["months_from_cache"] == [] and ytd(after)["months_cached_now"] == EARLIER
    assert figures(after) == scratch
    log = sorted((ytd_cache.table_path(store) / "_delta_log").glob("*.json"))[-1]
    log.write_text("not json")  # a log broken by hand: the cache reads as empty
    broken = audit(store, tmp_path / "c")
    assert ytd(broken)["months_from_cache"] == [] and figures(broken) == scratch
    assert ytd(broken)["not_cached"].startswith("the store could not be written")
