"""One test per row of the ``rules.md`` list of CHANGES.md (v2): each fails on v1 code.

The rows, in CHANGES.md's order: row in force; missing data is not absence (span,
gap rule, ``output_data``, pending); no roster entry with the home accepted; new
hires; planned vs expected mode (and the cap); small agencies "possibly missing
data"; distances decide at 0.1 m / decimetres; whole minutes; summary minutes;
``OFFICE_UNKNOWN`` to data quality; characters; ``SHARED_DEVICE`` /
``SHARED_COORDINATES`` details; ``IMPOSSIBLE_TRAVEL``.  Plus the audit's exit 3
when the audited days hold no attendance at all, and the warning without reports.
(Whole minutes, OFFICE_UNKNOWN, duty-day travel and the stale roster at the office
are also in test_rules.py / test_spec_review.py; clarifications and the year to
date belong to their own steps.)
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import polars as pl
import pytest
from test_audit_support import HOME_A, NIP_A, O1, audit, employee, event, report, rows
from test_rules_support import bare_store, make_store

from wfhaudit.audit.employee_days import EARTH_RADIUS_M
from wfhaudit.errors import DataError

GOOD = "Menyusun laporan anggaran"
B = "199002022015010002"


def north_of(origin: tuple[float, float], metres: float) -> tuple[float, float]:
    return (origin[0] + math.degrees(metres / EARTH_RADIUS_M), origin[1])


def east_of(origin: tuple[float, float], metres: float) -> tuple[float, float]:
    lat = math.radians(origin[0])
    return (origin[0], origin[1] + math.degrees(metres / (EARTH_RADIUS_M * math.cos(lat))))


def d(iso: str) -> dt.date:
    return dt.date.fromisoformat(iso)


def full_day(day: str, where=O1, nip: str = NIP_A, **kw) -> tuple[list, list]:
    return (
        [event(f"{day} 07:25:00", "IN", where, nip=nip, **kw),
         event(f"{day} 16:35:00", "OUT", where, nip=nip, **kw)],
        [report(day, f"{day} 17:00:00", GOOD, nip=nip)],
    )


def v(day: str, rule: str, minutes=None, distance=None, detail=None, nip: str = NIP_A):
    return (nip, day, rule, minutes, distance, detail)


# --- row in force ---------------------------------------------------------------------


def test_row_in_force_transfer_files_each_day_under_that_days_unit(tmp_path: Path) -> None:
    o2 = east_of(O1, 5000.0)
    att1, out1 = full_day("2025-12-05", O1)
    att2, out2 = full_day("2025-12-08", O1)  # went to the old office after the transfer
    store = make_store(
        tmp_path / "s",
        employees=[employee(valid_from=None),
                   employee(unit="U2", office="O2", valid_from=d("2025-12-08"))],
        offices=[{"office_id": "O1", "lat": O1[0], "lon": O1[1], "radius_m": 100.0},
                 {"office_id": "O2", "lat": o2[0], "lon": o2[1], "radius_m": 100.0}],
        attendance=att1 + att2, outputs=out1 + out2,
    )
    result = audit(store, "2025-12-05", "2025-12-08")
    got = rows(result)
    assert got == [(NIP_A, "2025-12-08", "WRONG_LOCATION", None, 5000.0, "WFO")]
    assert result.violations["unit_code"].to_list() == ["U2"]
    days = result.employee_days.sort("date")
    assert days["unit_code"].to_list() == ["U1", "U2"]
    assert days["office_id"].to_list() == ["O1", "O2"]
    # one summary row per employee, under the unit of the last audited day
    assert result.employee_summary.select("nip", "unit_code").rows() == [(NIP_A, "U2")]


def test_new_hire_is_not_active_before_the_first_snapshot(tmp_path: Path) -> None:
    att, out = full_day("2025-12-15")
    att2, out2 = full_day("2025-12-16")
    att, out = att + att2, out + out2
    store = make_store(
        tmp_path / "s", employees=[employee(valid_from=d("2025-12-15"))],
        attendance=att, outputs=out,
    )
    result = audit(store, "2025-12-01", "2025-12-16")
    assert rows(result) == []
    assert result.employee_days["date"].min() == d("2025-12-15")
    # with an active_from the row is in force before its valid_from too
    store = make_store(
        tmp_path / "t",
        employees=[employee(valid_from=d("2025-12-15"), active_from=d("2025-12-12"))],
        attendance=att, outputs=out,
    )
    result = audit(store, "2025-12-01", "2025-12-16")
    assert result.employee_days["date"].min() == d("2025-12-12")
    assert [r[2] for r in rows(result) if r[1] == "2025-12-12"] == ["ABSENT", "NO_DAILY_OUTPUT"]


# --- missing data is not absence --------------------------------------------------------


def _agency(n: int, unit: str = "U4") -> list[str]:
    return [f"1997010120230110{i:02d}" for i in range(1, n + 1)]


def test_an_agency_missing_from_one_days_export_is_not_absent(tmp_path: Path) -> None:
    staff = _agency(8)
    att, out = [], []
    for day in ("2025-12-08", "2025-12-09", "2025-12-10"):
        for n in staff:
            a, o = full_day(day, nip=n)
            if day != "2025-12-09":
                att += a
            out += o
    store = bare_store(tmp_path / "s", employees=[employee(n, unit="U4") for n in staff],
                       attendance=att, outputs=out)
    result = audit(store, "2025-12-08", "2025-12-10")
    assert rows(result, "ABSENT") == []
    assert [(f["unit_code"], f["date"], f["rule"], f["count"], f["headcount"])
            for f in result.unit_findings.to_dicts()] == [
        ("U4", d("2025-12-09"), "ATTENDANCE_DATA_MISSING", 8, 8)
    ]
    ninth = result.employee_days.filter(pl.col("date") == d("2025-12-09"))
    assert set(ninth["status"]) == {"no_attendance_data"}
    assert set(ninth["output_data"]) == {"present"}
    # the output rules still apply on those days: a missing report is NO_DAILY_OUTPUT
    store = bare_store(tmp_path / "t", employees=[employee(n, unit="U4") for n in staff],
                       attendance=att, outputs=out[1:])
    assert rows(audit(store, "2025-12-08", "2025-12-10"), "NO_DAILY_OUTPUT") == [
        v("2025-12-08", "NO_DAILY_OUTPUT", detail="none", nip=staff[0])
    ]


def test_outside_the_agencys_spans_is_missing_data(tmp_path: Path) -> None:
    att, out = full_day("2025-12-03")
    store = bare_store(tmp_path / "s", attendance=att, outputs=out)
    result = audit(store, "2025-12-02", "2025-12-04")
    assert rows(result) == []
    assert result.employee_days["status"].to_list() == [
        "no_attendance_data", "required", "no_attendance_data"
    ]
    assert result.employee_days["output_data"].to_list() == ["missing", "present", "missing"]
    assert [(f["date"].day, f["rule"]) for f in result.unit_findings.to_dicts()] == [
        (2, "ATTENDANCE_DATA_MISSING"), (2, "OUTPUT_DATA_MISSING"),
        (4, "ATTENDANCE_DATA_MISSING"), (4, "OUTPUT_DATA_MISSING"),
    ]


def test_output_rules_wait_while_the_report_is_not_due(tmp_path: Path) -> None:
    from test_audit_support import policy_with

    att, _ = full_day("2025-12-02")
    store = make_store(tmp_path / "s", attendance=att)
    result = audit(store, "2025-12-02", policy=policy_with(output_deadline_days=2),
                   as_of="2025-12-04")
    assert rows(result) == []
    assert result.employee_days["output_data"].to_list() == ["pending"]


def test_no_attendance_at_all_in_the_audited_days_is_exit_3(tmp_path: Path) -> None:
    att, out = full_day("2025-12-02")
    store = bare_store(tmp_path / "s", attendance=att, outputs=out)
    with pytest.raises(DataError) as err:
        audit(store, "2025-11-03", "2025-11-28")
    assert err.value.exit_code == 3
    assert "no attendance at all" in str(err.value)
    assert "2025-12" in str(err.value)


def test_no_report_at_all_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    att, _ = full_day("2025-12-02")
    store = bare_store(tmp_path / "s", attendance=att)
    result = audit(store, "2025-12-02")
    assert "no daily report at all" in capsys.readouterr().err
    assert rows(result) == []
    assert [f["rule"] for f in result.unit_findings.to_dicts()] == ["OUTPUT_DATA_MISSING"]


# --- no roster entry / planned vs expected mode ------------------------------------------


def test_no_roster_entry_on_a_wfh_allowed_day_also_accepts_the_home(tmp_path: Path) -> None:
    att, out = full_day("2025-12-02", HOME_A)  # December: WFH allowed, default WFO
    store = make_store(tmp_path / "s", attendance=att, outputs=out)
    result = audit(store, "2025-12-02")
    assert rows(result) == []
    a = result.employee_days.row(0, named=True)
    assert (a["planned_mode"], a["expected_mode"], a["home_accepted"]) == ("WFO", "WFO", True)
    assert result.meta["data_quality"]["home_accepted_without_roster"] == {"U1": 1}
    # with a roster entry WFO the office alone is accepted
    store = make_store(tmp_path / "t", attendance=att, outputs=out,
                       roster=[{"nip": NIP_A, "date": d("2025-12-02"), "mode": "WFO"}])
    assert [r[2] for r in rows(audit(store, "2025-12-02"))] == ["WRONG_LOCATION"]


def test_stale_roster_at_home_is_accepted_and_elsewhere_is_wrong_location(
    tmp_path: Path,
) -> None:
    monday = "2026-01-05"  # 2026: WFH allowed Thu and Fri only
    roster = [{"nip": NIP_A, "date": d(monday), "mode": "WFH"}]
    att, out = full_day(monday, HOME_A)
    result = audit(make_store(tmp_path / "s", attendance=att, outputs=out, roster=roster),
                   monday)
    assert rows(result) == []
    assert [f["rule"] for f in result.unit_findings.to_dicts()] == ["WFH_NOT_ALLOWED"]
    far = north_of(O1, -3000.0)
    att, out = full_day(monday, far)
    result = audit(make_store(tmp_path / "t", attendance=att, outputs=out, roster=roster),
                   monday)
    assert rows(result) == [v(monday, "WRONG_LOCATION", distance=3000.0, detail="WFO")]


def test_the_cap_counts_planned_wfh_only_where_allowed(tmp_path: Path) -> None:
    """A planned WFH on a not-allowed day is WFH_NOT_ALLOWED, not also in the share."""
    monday = "2026-01-05"
    staff = [NIP_A, B]
    att, out = [], []
    for n in staff:
        a, o = full_day(monday, nip=n)
        att, out = att + a, out + o
    store = make_store(tmp_path / "s", employees=[employee(n) for n in staff],
                       attendance=att, outputs=out,
                       roster=[{"nip": n, "date": d(monday), "mode": "WFH"} for n in staff])
    found = audit(store, monday).unit_findings
    assert found.select("rule", "count", "headcount").rows() == [("WFH_NOT_ALLOWED", 2, 2)]


def test_small_agency_without_check_ins_is_possibly_missing_data(tmp_path: Path) -> None:
    att, out = full_day("2025-12-02")
    att2, out2 = full_day("2025-12-04")
    store = bare_store(tmp_path / "s", attendance=att + att2, outputs=out + out2)
    result = audit(store, "2025-12-02", "2025-12-04")
    assert [r[2] for r in rows(result)] == ["ABSENT", "NO_DAILY_OUTPUT"]  # 3 Dec, in span
    assert result.meta["data_quality"]["possibly_missing_data"] == [
        {"unit_code": "U1", "date": "2025-12-03", "employees": 1}
    ]


# --- distances, minutes -------------------------------------------------------------------


@pytest.mark.parametrize(("metres", "found"), [(100.04, None), (100.06, 100.1)])
def test_distances_decide_at_a_tenth_of_a_metre(tmp_path: Path, metres, found) -> None:
    roster = [{"nip": NIP_A, "date": d("2025-12-02"), "mode": "WFO"}]
    att, out = full_day("2025-12-02", north_of(O1, metres), accuracy_m=None)
    result = audit(make_store(tmp_path / "s", attendance=att, outputs=out, roster=roster),
                   "2025-12-02")
    assert rows(result) == ([] if found is None else
                            [v("2025-12-02", "WRONG_LOCATION", distance=found, detail="WFO")])


def test_decimetres_make_128_3_minus_28_3_exactly_100(tmp_path: Path) -> None:
    roster = [{"nip": NIP_A, "date": d("2025-12-02"), "mode": "WFO"}]
    att, out = full_day("2025-12-02", north_of(O1, 128.3), accuracy_m=28.3)
    result = audit(make_store(tmp_path / "s", attendance=att, outputs=out, roster=roster),
                   "2025-12-02")
    assert rows(result) == []


def test_whole_minutes_elapsed(tmp_path: Path) -> None:
    att = [event("2025-12-03 07:45:59", "IN"), event("2025-12-03 15:59:00.250000", "OUT")]
    store = make_store(tmp_path / "s", attendance=att,
                       outputs=[report("2025-12-03", "2025-12-03 17:00:00", GOOD)])
    result = audit(store, "2025-12-03")
    assert rows(result) == [v("2025-12-03", "LATE", minutes=15)]
    assert (result.employee_summary["late_minutes"][0],
            result.employee_summary["early_minutes"][0]) == (15, 0)


# --- characters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "valid"),
    [("\u200b" * 12, False), ("\ufeff ok \u200b\u200b\u200b\u200b\u200b\u200b\u200b", False),
     ("\u3000\u00a0Rapat\u3000\u00a0", False), ("Rapat pagi", True),
     ("Cafe\u0301 Rapat", True)],
)
def test_report_characters(tmp_path: Path, text: str, valid: bool) -> None:
    att, _ = full_day("2025-12-02")
    store = make_store(tmp_path / "s", attendance=att,
                       outputs=[report("2025-12-02", "2025-12-02 17:00:00", text)])
    got = rows(audit(store, "2025-12-02"))
    assert got == ([] if valid else [v("2025-12-02", "NO_DAILY_OUTPUT", detail="empty")])


def test_duplicate_output_compares_the_characters(tmp_path: Path) -> None:
    days = ["2025-12-02", "2025-12-03", "2025-12-04"]
    texts = ["Rapat koordinasi", "\u200bRAPAT  koordinasi ", "rapat\u00a0koordinasi\ufeff"]
    att, out = [], []
    for day, text in zip(days, texts, strict=True):
        a, _ = full_day(day)
        att += a
        out.append(report(day, f"{day} 17:00:00", text))
    store = make_store(tmp_path / "s", attendance=att, outputs=out)
    assert rows(audit(store, days[0], days[-1]), "DUPLICATE_OUTPUT") == [
        v(day, "DUPLICATE_OUTPUT") for day in days
    ]


# --- SHARED_DEVICE / SHARED_COORDINATES ---------------------------------------------------


def test_shared_device_is_trimmed_case_insensitive_and_ignores_placeholders(
    tmp_path: Path,
) -> None:
    c = "199103032016011003"
    att = [event("2025-12-02 07:25:00", "IN", nip=NIP_A, device_id=" hp-1 "),
           event("2025-12-02 16:05:00", "OUT", nip=NIP_A, device_id="unknown"),
           event("2025-12-02 07:26:00", "IN", nip=B, device_id="HP-1"),
           event("2025-12-02 16:06:00", "OUT", nip=B, device_id="Unknown"),
           event("2025-12-02 07:27:00", "IN", nip=c, device_id="N/A"),
           event("2025-12-02 16:07:00", "OUT", nip=c, device_id="n/a")]
    out = [report("2025-12-02", "2025-12-02 17:00:00", f"Laporan {n} hari ini", nip=n)
           for n in (NIP_A, B, c)]
    store = make_store(tmp_path / "s", employees=[employee(n) for n in (NIP_A, B, c)],
                       attendance=att, outputs=out)
    got = rows(audit(store, "2025-12-02"), "SHARED_DEVICE")
    assert got == [v("2025-12-02", "SHARED_DEVICE", detail="HP-1"),
                   v("2025-12-02", "SHARED_DEVICE", detail="HP-1", nip=B)]


def _crowd(tmp_path: Path, point: tuple[float, float], homes) -> list[str]:
    nips = [NIP_A, B, "199103032016011003"]
    att = [event(f"2025-12-02 07:2{i}:00", "IN", point, nip=n) for i, n in enumerate(nips)]
    out = [report("2025-12-02", "2025-12-02 17:00:00", f"Laporan {n} hari ini", nip=n)
           for n in nips]
    store = make_store(tmp_path / "s",
                       employees=[employee(n, home=h) for n, h in zip(nips, homes, strict=True)],
                       attendance=att, outputs=out)
    return [r[5] for r in rows(audit(store, "2025-12-02"), "SHARED_COORDINATES")]


def test_shared_coordinates_writes_minus_zero_as_zero(tmp_path: Path) -> None:
    assert _crowd(tmp_path, (-0.0, 107.6186), [None] * 3) == ["0.0,107.6186 (3 employees)"] * 3


def test_shared_coordinates_never_publishes_a_home_point(tmp_path: Path) -> None:
    home = north_of(O1, 1500.0)
    assert _crowd(tmp_path, home, [None, home, None]) == ["rumah pegawai (3 employees)"] * 3


# --- IMPOSSIBLE_TRAVEL ----------------------------------------------------------------------


def _hop(tmp_path: Path, seconds: int, acc: tuple[float, float], leave=()) -> list:
    start = dt.datetime(2025, 12, 5, 7, 25)
    a, b = east_of((-6.95, 107.65), -550.0), east_of((-6.95, 107.65), 550.0)
    att = [event(start.isoformat(sep=" "), "IN", a, accuracy_m=acc[0]),
           event((start + dt.timedelta(seconds=seconds)).isoformat(sep=" "), "IN", b,
                 accuracy_m=acc[1])]
    store = make_store(tmp_path / "s", attendance=att, leave=list(leave),
                       outputs=[report("2025-12-05", "2025-12-05 17:00:00", GOOD)])
    return rows(audit(store, "2025-12-05"), "IMPOSSIBLE_TRAVEL")


def test_impossible_travel_uses_the_effective_distance(tmp_path: Path) -> None:
    assert _hop(tmp_path / "a", 20, (80.0, 60.0)) == []  # 1100 - 50 - 50 = 1000: not above
    assert _hop(tmp_path / "b", 20, (10.0, 10.0)) == [
        v("2025-12-05", "IMPOSSIBLE_TRAVEL", detail="194")  # 1080 m in 20 s = 194.4 km/h
    ]
    duty = [{"nip": NIP_A, "start": d("2025-12-05"), "end": d("2025-12-05"),
             "kind": "DINAS_LUAR"}]
    assert _hop(tmp_path / "c", 20, (10.0, 10.0), duty) == []


def test_agency_groups_keep_a_transferred_employees_rows_together() -> None:
    """A partitioned run audits agencies in groups: a transfer between two agencies of
    different groups would split the employee's history; the groups are merged."""
    from wfhaudit.audit.partitioned import unit_groups

    rows = [employee(f"19900101201001{i:04d}", unit=f"U{i % 4}") for i in range(40)]
    rows.append(employee("199001012010010000", unit="U3", valid_from=d("2025-12-08")))
    from test_audit_support import frame

    employees = frame("employees", rows).lazy()
    groups = unit_groups(employees, 10)
    assert groups is not None
    together = [g for g in groups if "U0" in g][0]
    assert "U3" in together
    assert sorted(u for g in groups for u in g) == ["U0", "U1", "U2", "U3"]
