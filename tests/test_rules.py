"""Per employee-day and agency-day rules: the worked examples of rules.md and the edges."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import polars as pl
import pytest
from test_audit_support import (
    HOME_A,
    NIP_A,
    O1,
    audit,
    employee,
    event,
    policy_with,
    report,
    rows,
)
from test_rules_support import bare_store, make_store

from wfhaudit.audit.employee_days import EARTH_RADIUS_M
from wfhaudit.policy import load_policy

CIREBON = (-6.7063, 108.5570)


def north_of(origin: tuple[float, float], metres: float) -> tuple[float, float]:
    """A point ``metres`` due north of ``origin`` on the audit's sphere."""
    return (origin[0] + math.degrees(metres / EARTH_RADIUS_M), origin[1])


def roster(day: str, mode: str, nip: str = NIP_A) -> dict:
    import datetime as dt

    return {"nip": nip, "date": dt.date.fromisoformat(day), "mode": mode}


def leave(start: str, kind: str, end: str | None = None, nip: str = NIP_A) -> dict:
    import datetime as dt

    return {
        "nip": nip,
        "start": dt.date.fromisoformat(start),
        "end": dt.date.fromisoformat(end or start),
        "kind": kind,
    }


def v(day: str, rule: str, minutes=None, distance=None, detail=None, nip: str = NIP_A):
    return (nip, day, rule, minutes, distance, detail)


GOOD = "Menyusun laporan anggaran"


# --- the nine worked days of rules.md -----------------------------------------------


def test_day1_on_time_at_office_report_in_evening(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-02 07:29:40", "IN"), event("2025-12-02 16:02:00", "OUT")],
        outputs=[report("2025-12-02", "2025-12-02 21:00:00", GOOD)],
        roster=[roster("2025-12-02", "WFO")],
    )
    assert rows(audit(store, "2025-12-02")) == []


def test_day2_late_15_and_early_29(tmp_path: Path) -> None:
    """v2: whole minutes fully elapsed (15:30:30 is 29 min 30 s before 16:00: 29; v1 said 30)."""
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-03 07:45:59", "IN"), event("2025-12-03 15:30:30", "OUT")],
        outputs=[report("2025-12-03", "2025-12-03 16:00:00", GOOD)],
        roster=[roster("2025-12-03", "WFO")],
    )
    assert rows(audit(store, "2025-12-03")) == [
        v("2025-12-03", "EARLY_LEAVE", minutes=29),
        v("2025-12-03", "LATE", minutes=15),
    ]


def test_day3_wfh_350_m_from_home(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[
            event("2025-12-04 07:30:00", "IN", north_of(HOME_A, 350.0)),
            event("2025-12-04 16:00:00", "OUT", HOME_A),
        ],
        outputs=[report("2025-12-04", "2025-12-04 17:00:00", GOOD)],
        roster=[roster("2025-12-04", "WFH")],
    )
    result = audit(store, "2025-12-04")
    assert rows(result) == [v("2025-12-04", "WRONG_LOCATION", distance=350.0, detail="WFH")]
    day = result.employee_days.row(0, named=True)
    assert day["at_home"] is False
    assert day["max_distance_m"] == pytest.approx(350.0)


def test_day4_nothing_at_all(tmp_path: Path) -> None:
    store = make_store(tmp_path / "s", roster=[roster("2025-12-05", "WFO")])
    assert rows(audit(store, "2025-12-05")) == [
        v("2025-12-05", "ABSENT"),
        v("2025-12-05", "NO_DAILY_OUTPUT", detail="none"),
    ]


def test_day5_dinas_luar_in_cirebon(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-08 09:10:00", "IN", CIREBON)],
        outputs=[report("2025-12-08", "2025-12-08 20:00:00", "Monitoring lapangan di Cirebon")],
        roster=[roster("2025-12-08", "WFO")],
        leave=[leave("2025-12-08", "DINAS_LUAR")],
    )
    result = audit(store, "2025-12-08")
    assert rows(result) == []
    assert result.employee_days["status"].to_list() == ["duty"]


def test_day6_cuti(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s", roster=[roster("2025-12-09", "WFO")], leave=[leave("2025-12-09", "CUTI")]
    )
    result = audit(store, "2025-12-09")
    assert rows(result) == []
    assert result.employee_days.select("status", "leave_kind").row(0) == ("excused", "CUTI")


def test_day7_no_checkout_report_next_morning(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-10 07:20:00", "IN")],
        outputs=[report("2025-12-10", "2025-12-11 08:00:00", "Menyiapkan bahan paparan")],
        roster=[roster("2025-12-10", "WFO")],
    )
    assert rows(audit(store, "2025-12-10")) == [
        v("2025-12-10", "LATE_DAILY_OUTPUT", minutes=480),
        v("2025-12-10", "MISSING_CHECKOUT"),
    ]


def test_day8_christmas_is_not_a_working_day(tmp_path: Path) -> None:
    store = make_store(tmp_path / "s", roster=[roster("2025-12-25", "WFH")])
    result = audit(store, "2025-12-25")
    assert rows(result) == []
    assert result.unit_findings.height == 0
    assert result.employee_days.height == 0


def test_day9_no_checkin_report_too_short(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-11 16:05:00", "OUT")],
        outputs=[report("2025-12-11", "2025-12-11 16:10:00", "ok")],
        roster=[roster("2025-12-11", "WFO")],
    )
    assert rows(audit(store, "2025-12-11")) == [
        v("2025-12-11", "MISSING_CHECKIN"),
        v("2025-12-11", "NO_DAILY_OUTPUT", detail="empty"),
    ]


def _unit_of_ten(wfh: int, on_leave: int = 0, leave_kind: str = "CUTI") -> dict:
    nips = [f"19900202201501{i:04d}" for i in range(10)]
    return {
        "employees": [employee(n, unit="U1") for n in nips],
        "roster": [roster("2025-12-02", "WFH", n) for n in nips[-wfh:]] if wfh else [],
        "leave": [leave("2025-12-02", leave_kind, nip=n) for n in nips[:on_leave]],
    }


def _checked_in(unit: dict, day: str = "2025-12-02") -> dict:
    """``unit`` with a check-in and a report of everyone on ``day`` (data present)."""
    people = [e["nip"] for e in unit["employees"]]
    return {
        **unit,
        "attendance": [event(f"{day} 07:20:00", "IN", nip=n) for n in people],
        "outputs": [report(day, f"{day} 17:00:00", GOOD, nip=n) for n in people],
    }


def test_agency_example_quota_exceeded(tmp_path: Path) -> None:
    store = make_store(tmp_path / "s", **_checked_in(_unit_of_ten(wfh=5, on_leave=1)))
    found = audit(store, "2025-12-02").unit_findings.to_dicts()
    assert len(found) == 1
    assert found[0]["rule"] == "WFH_QUOTA_EXCEEDED"
    assert (found[0]["count"], found[0]["headcount"]) == (5, 9)
    assert found[0]["share"] == pytest.approx(5 / 9)


def test_quota_exactly_half_is_allowed(tmp_path: Path) -> None:
    store = make_store(tmp_path / "s", **_checked_in(_unit_of_ten(wfh=5)))
    assert audit(store, "2025-12-02").unit_findings.height == 0


def test_quota_counts_planned_mode_when_nobody_checked_in(tmp_path: Path) -> None:
    """v2: the agency findings count the planned mode, whatever the attendance data;
    ten staff without a check-in is missing data (ATTENDANCE_DATA_MISSING), not absence."""
    store = make_store(tmp_path / "s", **_unit_of_ten(wfh=5, on_leave=1))
    result = audit(store, "2025-12-02")
    found = [(f["rule"], f["count"], f["headcount"]) for f in result.unit_findings.to_dicts()]
    assert found == [
        ("ATTENDANCE_DATA_MISSING", 9, 9),
        ("OUTPUT_DATA_MISSING", 9, 9),  # the one on CUTI is excused
        ("WFH_QUOTA_EXCEEDED", 5, 9),
    ]
    assert rows(result, "ABSENT") == []


def test_quota_dinas_luar_leaves_headcount(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s", **_checked_in(_unit_of_ten(wfh=5, on_leave=1, leave_kind="DINAS_LUAR"))
    )
    found = audit(store, "2025-12-02").unit_findings.to_dicts()
    assert [(f["rule"], f["count"], f["headcount"]) for f in found] == [
        ("WFH_QUOTA_EXCEEDED", 5, 9)
    ]


# --- minutes ---------------------------------------------------------------------------


def _day(tmp_path: Path, in_ts: str | None, out_ts: str | None, day: str = "2025-12-02",
         policy=None):
    attendance = []
    if in_ts:
        attendance.append(event(f"{day} {in_ts}", "IN"))
    if out_ts:
        attendance.append(event(f"{day} {out_ts}", "OUT"))
    store = make_store(
        tmp_path / "s", attendance=attendance, outputs=[report(day, f"{day} 17:00:00", GOOD)]
    )
    return rows(audit(store, day, policy=policy))


@pytest.mark.parametrize(
    ("in_ts", "expected"),
    [("07:30:59", []), ("07:31:00", [1]), ("07:31:59", [1]), ("07:29:00", []),
     ("10:00:00", [150])],
)
def test_late_minutes_are_truncated(tmp_path: Path, in_ts: str, expected: list[int]) -> None:
    got = _day(tmp_path, in_ts, "16:00:00")
    assert [r[3] for r in got if r[2] == "LATE"] == expected
    assert [r for r in got if r[2] != "LATE"] == []


@pytest.mark.parametrize(
    ("out_ts", "expected"), [("16:00:00", []), ("15:59:59", []), ("15:59:00", [1]),
                             ("15:30:30", [29]), ("23:00:00", [])]
)
def test_early_minutes_are_truncated(tmp_path: Path, out_ts: str, expected: list[int]) -> None:
    got = _day(tmp_path, "07:30:00", out_ts)
    assert [r[3] for r in got if r[2] == "EARLY_LEAVE"] == expected


def test_friday_ends_at_1630(tmp_path: Path) -> None:
    got = _day(tmp_path, "07:30:00", "16:10:00", day="2025-12-05")
    assert got == [v("2025-12-05", "EARLY_LEAVE", minutes=20)]


@pytest.mark.parametrize(("in_ts", "minutes"), [("07:35:59", None), ("07:36:00", 6)])
def test_late_grace(tmp_path: Path, in_ts: str, minutes: int | None) -> None:
    got = _day(tmp_path, in_ts, "16:00:00", policy=policy_with(late_grace_minutes=5))
    assert got == ([v("2025-12-02", "LATE", minutes=minutes)] if minutes else [])


@pytest.mark.parametrize(
    ("out_ts", "minutes"), [("15:55:00", None), ("15:54:59", None), ("15:54:00", 6)]
)
def test_early_grace(tmp_path: Path, out_ts: str, minutes: int | None) -> None:
    got = _day(tmp_path, "07:30:00", out_ts, policy=policy_with(early_grace_minutes=5))
    assert got == ([v("2025-12-02", "EARLY_LEAVE", minutes=minutes)] if minutes else [])


def test_first_in_and_last_out_count(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[
            event("2025-12-02 07:40:00", "IN"),
            event("2025-12-02 07:25:00", "IN"),
            event("2025-12-02 12:00:00", "OUT"),
            event("2025-12-02 16:05:00", "OUT"),
        ],
        outputs=[report("2025-12-02", "2025-12-02 17:00:00", GOOD)],
    )
    result = audit(store, "2025-12-02")
    assert rows(result) == []
    day = result.employee_days.row(0, named=True)
    assert (day["first_in"].time().isoformat(), day["last_out"].time().isoformat()) == (
        "07:25:00",
        "16:05:00",
    )
    assert day["events"] == 4


def test_ramadan_hours(tmp_path: Path) -> None:
    # Monday 2026-02-23 is in Ramadan 1447 H: 06:30-14:00
    got = _day(tmp_path, "06:45:00", "14:00:00", day="2026-02-23")
    assert got == [v("2026-02-23", "LATE", minutes=15)]
    got = _day(tmp_path / "b", "06:30:00", "13:30:00", day="2026-02-23")
    assert got == [v("2026-02-23", "EARLY_LEAVE", minutes=30)]


# --- location -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metres", "accuracy", "expected"),
    [
        (100.0, None, None),
        (100.1, None, 100.1),
        (130.0, 30.0, None),
        (130.1, 30.0, 130.1),
        (150.0, 80.0, None),  # accuracy capped at 50 m
        (150.1, 80.0, 150.1),
        (100.1, -1.0, 100.1),  # a negative accuracy forgives nothing
    ],
)
def test_office_fence(tmp_path: Path, metres: float, accuracy, expected) -> None:
    where = north_of(O1, metres)
    store = make_store(
        tmp_path / "s",
        attendance=[
            event("2025-12-02 07:30:00", "IN", where, accuracy_m=accuracy),
            event("2025-12-02 16:00:00", "OUT", O1),
        ],
        outputs=[report("2025-12-02", "2025-12-02 17:00:00", GOOD)],
    )
    got = rows(audit(store, "2025-12-02"))
    if expected is None:
        assert got == []
    else:
        assert got == [v("2025-12-02", "WRONG_LOCATION", distance=expected, detail="WFO")]


def test_office_without_radius_uses_policy_radius(tmp_path: Path) -> None:
    office = {"office_id": "O1", "lat": O1[0], "lon": O1[1], "radius_m": None}
    where = north_of(O1, 160.0)
    for radius, expected in ((100.0, [v("2025-12-02", "WRONG_LOCATION", distance=160.0,
                                           detail="WFO")]), (200.0, [])):
        store = make_store(
            tmp_path / f"s{radius}",
            offices=[office],
            attendance=[event("2025-12-02 07:30:00", "IN", where, accuracy_m=None),
                        event("2025-12-02 16:00:00", "OUT", O1)],
            outputs=[report("2025-12-02", "2025-12-02 17:00:00", GOOD)],
        )
        got = rows(audit(store, "2025-12-02", policy=policy_with(office_radius_m=radius)))
        assert got == expected


def test_wrong_location_reports_the_largest_outside_distance(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[
            event("2025-12-02 07:30:00", "IN", north_of(O1, 300.0), accuracy_m=None),
            event("2025-12-02 12:00:00", "OUT", north_of(O1, 1234.56), accuracy_m=None),
            event("2025-12-02 16:00:00", "OUT", O1),
        ],
        outputs=[report("2025-12-02", "2025-12-02 17:00:00", GOOD)],
    )
    assert rows(audit(store, "2025-12-02")) == [
        v("2025-12-02", "WRONG_LOCATION", distance=1234.6, detail="WFO")
    ]


def test_no_location(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-02 07:30:00", "IN", None),
                    event("2025-12-02 16:00:00", "OUT", None)],
        outputs=[report("2025-12-02", "2025-12-02 17:00:00", GOOD)],
    )
    assert rows(audit(store, "2025-12-02")) == [v("2025-12-02", "NO_LOCATION")]


def test_home_unregistered_and_no_wrong_location(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        employees=[employee(home=None)],
        attendance=[event("2025-12-04 07:30:00", "IN", CIREBON),
                    event("2025-12-04 16:00:00", "OUT", CIREBON)],
        outputs=[report("2025-12-04", "2025-12-04 17:00:00", GOOD)],
        roster=[roster("2025-12-04", "WFH")],
    )
    result = audit(store, "2025-12-04")
    assert rows(result) == [v("2025-12-04", "HOME_UNREGISTERED")]
    assert result.meta["data_quality"]["employees_without_home"] == 1


def test_office_unknown_is_data_quality_not_a_violation(tmp_path: Path) -> None:
    """v2: an office not in `offices` is not the employee's fault: no violation; the data
    quality lists the employee with the number of WFO days not checked (v1: OFFICE_UNKNOWN)."""
    store = make_store(
        tmp_path / "s",
        employees=[employee(office="O9")],
        attendance=[event("2025-12-02 07:30:00", "IN", CIREBON),
                    event("2025-12-02 16:00:00", "OUT", CIREBON)],
        outputs=[report("2025-12-02", "2025-12-02 17:00:00", GOOD)],
    )
    result = audit(store, "2025-12-02")
    assert rows(result) == []
    quality = result.meta["data_quality"]
    assert quality["employees_unknown_office"] == 1
    assert quality["unknown_office_wfo_days"] == 1
    assert quality["unknown_office"] == [
        {"nip": NIP_A, "unit_code": "U1", "office_id": "O9", "wfo_days": 1}
    ]


def test_office_unknown_needs_an_event(tmp_path: Path) -> None:
    store = make_store(tmp_path / "s", employees=[employee(office="O9")])
    assert [r[2] for r in rows(audit(store, "2025-12-02"))] == ["ABSENT", "NO_DAILY_OUTPUT"]


# --- calendar, activity, leave -------------------------------------------------


def test_weekend_and_holiday_produce_nothing(tmp_path: Path) -> None:
    store = make_store(tmp_path / "s", roster=[roster("2025-12-06", "WFH")])
    result = audit(store, "2025-12-06", "2025-12-07")
    assert rows(result) == [] and result.unit_findings.height == 0
    result = audit(store, "2025-12-24", "2025-12-26")
    assert {r[1] for r in rows(result)} == {"2025-12-24"}


def test_employee_joining_and_leaving_mid_period(tmp_path: Path) -> None:
    import datetime as dt

    store = make_store(
        tmp_path / "s",
        employees=[employee(active_from=dt.date(2025, 12, 4), active_to=dt.date(2025, 12, 5))],
    )
    result = audit(store, "2025-12-02", "2025-12-09")
    assert sorted({r[1] for r in rows(result)}) == ["2025-12-04", "2025-12-05"]
    assert result.employee_summary["working_days"].to_list() == [2]


@pytest.mark.parametrize("kind", ["CUTI", "SAKIT", "IZIN", "TUGAS_BELAJAR"])
def test_excused_leave_kinds(tmp_path: Path, kind: str) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-02 09:00:00", "IN", CIREBON, device_id="shared")],
        outputs=[report("2025-12-02", "2025-12-03 09:00:00", "ok")],
        roster=[roster("2025-12-02", "WFH")],
        leave=[leave("2025-12-01", kind, end="2025-12-03")],
    )
    result = audit(store, "2025-12-02")
    assert rows(result) == []
    assert result.employee_days.select("status", "leave_kind").row(0) == ("excused", kind)
    assert result.employee_summary["excused_days"].to_list() == [1]


def test_dinas_luar_keeps_output_rules_only(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-02 10:00:00", "IN", CIREBON)],
        outputs=[report("2025-12-02", "2025-12-03 00:30:00", GOOD)],
        leave=[leave("2025-12-02", "DINAS_LUAR")],
    )
    assert rows(audit(store, "2025-12-02")) == [
        v("2025-12-02", "LATE_DAILY_OUTPUT", minutes=30)
    ]
    store = make_store(tmp_path / "t", leave=[leave("2025-12-02", "DINAS_LUAR")])
    assert rows(audit(store, "2025-12-02")) == [v("2025-12-02", "NO_DAILY_OUTPUT", detail="none")]


def test_excused_wins_over_dinas_luar(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        leave=[leave("2025-12-02", "DINAS_LUAR"), leave("2025-12-02", "SAKIT")],
    )
    result = audit(store, "2025-12-02")
    assert rows(result) == []
    assert result.employee_days.select("status", "leave_kind").row(0) == ("excused", "SAKIT")


# --- expected mode and agency-day rules -------------------------------------


def _mode_on(tmp_path: Path, day: str, unit: str = "U1", policy=None) -> str:
    store = make_store(tmp_path / "s", employees=[employee(unit=unit)])
    result = audit(store, day, policy=policy)
    return result.employee_days["expected_mode"].to_list()[0]


def test_default_mode_2026_thursday_is_wfh(tmp_path: Path) -> None:
    assert _mode_on(tmp_path / "a", "2026-01-08") == "WFH"  # Thursday
    assert _mode_on(tmp_path / "b", "2026-01-09") == "WFO"  # Friday: allowed, not default


def test_default_mode_november_trial(tmp_path: Path) -> None:
    assert _mode_on(tmp_path / "a", "2025-11-06") == "WFH"  # Thursday
    assert _mode_on(tmp_path / "b", "2025-11-05") == "WFO"


def _exempt(units: tuple[str, ...]):
    policy = load_policy()
    return dataclasses.replace(
        policy, wfh=tuple(dataclasses.replace(p, exempt_units=units) for p in policy.wfh)
    )


def test_exempt_unit_defaults_to_wfo(tmp_path: Path) -> None:
    assert _mode_on(tmp_path, "2026-01-08", policy=_exempt(("U1",))) == "WFO"


def test_default_wfh_at_home_is_fine_at_office_is_wrong(tmp_path: Path) -> None:
    for where, expected in ((HOME_A, []), (O1, ["WRONG_LOCATION"])):
        store = make_store(
            tmp_path / str(where[0]),
            attendance=[event("2026-01-08 07:30:00", "IN", where),
                        event("2026-01-08 16:00:00", "OUT", where)],
            outputs=[report("2026-01-08", "2026-01-08 17:00:00", GOOD)],
        )
        result = audit(store, "2026-01-08")
        assert [r[2] for r in rows(result)] == expected
        assert result.unit_findings.height == 0  # max_share 1.0 in 2026


def _not_allowed(tmp_path: Path, day: str, policy=None, leave_rows=()):
    store = make_store(
        tmp_path / "s",
        employees=[employee(), employee("199002022015010002")],
        roster=[roster(day, "WFH")],
        leave=list(leave_rows),
    )
    return audit(store, day, policy=policy).unit_findings.to_dicts()


def test_wfh_not_allowed_outside_every_wfh_period(tmp_path: Path) -> None:
    assert _not_allowed(tmp_path, "2025-12-01") == [
        {"unit_code": "U1", "date": __import__("datetime").date(2025, 12, 1),
         "rule": "WFH_NOT_ALLOWED", "count": 1, "headcount": 2, "share": None}
    ]


def test_wfh_not_allowed_on_a_weekday_not_in_the_period(tmp_path: Path) -> None:
    found = _not_allowed(tmp_path, "2026-01-05")  # Monday; 2026 allows thu, fri
    assert [(f["rule"], f["count"], f["headcount"]) for f in found] == [
        ("WFH_NOT_ALLOWED", 1, 2)
    ]


def test_wfh_not_allowed_counts_employees_on_leave(tmp_path: Path) -> None:
    found = _not_allowed(tmp_path, "2026-01-05", leave_rows=[leave("2026-01-05", "CUTI")])
    assert [(f["rule"], f["count"], f["headcount"]) for f in found] == [
        ("WFH_NOT_ALLOWED", 1, 1)
    ]


def test_wfh_not_allowed_in_exempt_unit(tmp_path: Path) -> None:
    found = _not_allowed(tmp_path, "2025-12-03", policy=_exempt(("U1",)))
    assert [(f["rule"], f["count"], f["headcount"]) for f in found] == [
        ("WFH_NOT_ALLOWED", 1, 2)
    ]
    assert _not_allowed(tmp_path / "b", "2025-12-03") == []


def test_rostered_wfo_on_default_wfh_day_is_fine(tmp_path: Path) -> None:
    store = make_store(tmp_path / "s", roster=[roster("2026-01-08", "WFO")])
    result = audit(store, "2026-01-08")
    assert result.employee_days["expected_mode"].to_list() == ["WFO"]
    assert result.unit_findings.height == 0


# --- daily output -----------------------------------------------------------------


def test_only_the_later_report_is_valid(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-02 07:30:00", "IN"), event("2025-12-02 16:00:00", "OUT")],
        outputs=[
            report("2025-12-02", "2025-12-02 16:00:00", "   ok      "),
            report("2025-12-02", "2025-12-03 01:30:45", GOOD),
        ],
    )
    result = audit(store, "2025-12-02")
    assert rows(result) == [v("2025-12-02", "LATE_DAILY_OUTPUT", minutes=90)]
    assert str(result.employee_days["first_valid_report_at"][0]) == "2025-12-03 01:30:45"


@pytest.mark.parametrize(
    ("text", "valid"),
    [("123456789", False), ("1234567890", True), ("  12345678  9 ", True),
     ("         x          ", False), ("", False), ("Rapat koordinasi", True)],
)
def test_report_validity(tmp_path: Path, text: str, valid: bool) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-02 07:30:00", "IN"), event("2025-12-02 16:00:00", "OUT")],
        outputs=[report("2025-12-02", "2025-12-02 16:30:00", text)],
    )
    expected = [] if valid else [v("2025-12-02", "NO_DAILY_OUTPUT", detail="empty")]
    assert rows(audit(store, "2025-12-02")) == expected


@pytest.mark.parametrize(
    ("submitted", "deadline", "minutes"),
    [("2025-12-02 23:59:59", 0, None), ("2025-12-03 00:00:00", 0, 0),
     ("2025-12-03 00:00:59", 0, 0), ("2025-12-03 00:01:00", 0, 1),
     ("2025-12-03 20:00:00", 1, None), ("2025-12-04 00:02:00", 1, 2)],
)
def test_report_cutoff(tmp_path: Path, submitted: str, deadline: int, minutes) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-02 07:30:00", "IN"), event("2025-12-02 16:00:00", "OUT")],
        outputs=[report("2025-12-02", submitted, GOOD)],
    )
    got = rows(audit(store, "2025-12-02", policy=policy_with(output_deadline_days=deadline)))
    expected = [] if minutes is None else [v("2025-12-02", "LATE_DAILY_OUTPUT", minutes=minutes)]
    assert got == expected


def test_report_for_another_day_does_not_count(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-02 07:30:00", "IN"), event("2025-12-02 16:00:00", "OUT")],
        outputs=[report("2025-12-01", "2025-12-02 10:00:00", GOOD)],
    )
    assert rows(audit(store, "2025-12-02")) == [
        v("2025-12-02", "NO_DAILY_OUTPUT", detail="none")
    ]


# --- as-of, summary, data quality -------------------------------------------------


def test_days_from_as_of_are_left_out(tmp_path: Path) -> None:
    store = make_store(tmp_path / "s")
    result = audit(store, "2025-12-01", "2025-12-07", as_of="2025-12-04")
    assert sorted({r[1] for r in rows(result)}) == ["2025-12-01", "2025-12-02", "2025-12-03"]
    assert result.days_left_out == [f"2025-12-0{d}" for d in range(4, 8)]
    result = audit(store, "2025-12-01", "2025-12-07", as_of="2025-11-30")
    assert rows(result) == [] and result.counts["employee_days"] == 0


def test_year_to_date_uses_days_the_store_holds(tmp_path: Path) -> None:
    # November: A absent 3 days while others checked in (store holds those days);
    # December period: absent on 2025-12-02.  Year to date: 4 days -> written warning.
    other = "199002022015010002"
    attendance = [
        event(f"2025-11-{d:02d} 07:30:00", "IN", nip=other) for d in (3, 4, 5)
    ] + [event("2025-12-02 07:30:00", "IN", nip=other)]
    store = bare_store(
        tmp_path / "s", employees=[employee(), employee(other)], attendance=attendance
    )
    result = audit(store, "2025-12-02")
    a = result.employee_summary.filter(pl.col("nip") == NIP_A).row(0, named=True)
    assert a["absent_days"] == 1
    assert a["ytd_equivalent_days"] == pytest.approx(4.0)
    assert a["ytd_tier"] == "TEGURAN_TERTULIS"


def test_data_quality_counts(tmp_path: Path) -> None:
    stranger = "199912312020121001"
    store = make_store(
        tmp_path / "s",
        employees=[employee(), employee("199002022015010002", unit="U2")],
        attendance=[event("2025-12-02 07:30:00", "IN", nip=stranger)],
        roster=[roster("2025-12-02", "WFO"), roster("2025-12-02", "WFH", nip=stranger)],
        outputs=[report("2025-12-02", "2025-12-02 17:00:00", nip=stranger)],
    )
    dq = audit(store, "2025-12-02").meta["data_quality"]
    assert dq["attendance_unknown_nip"] == 1
    assert dq["roster_unknown_nip"] == 1
    assert dq["outputs_unknown_nip"] == 1
    assert dq["units_without_roster"] == ["U2"]
    assert dq["rejects_by_code"] == {}
