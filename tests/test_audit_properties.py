"""Properties of the engine on small random inputs (hypothesis)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_audit_support import frame

from wfhaudit.audit.calendar import calendar
from wfhaudit.audit.employee_days import audited_days
from wfhaudit.audit.inputs import AuditInputs
from wfhaudit.audit.run import audit_days
from wfhaudit.policy import load_policy

START, END = dt.date(2025, 11, 27), dt.date(2025, 12, 9)  # Thu trial, gap day, weekends
DAYS = [START + dt.timedelta(days=i) for i in range((END - START).days + 1)]
NIPS = [f"1990020220150100{i:02d}" for i in range(5)]
UNKNOWN = "199912312020121999"
POINTS = [(-6.9022, 107.6186), (-6.9200, 107.6000), (-6.7063, 108.5570), (-6.9030, 107.6190)]
POLICY = load_policy()
CALENDAR = calendar(POLICY, START, END)
WORKING = set(CALENDAR.filter(pl.col("working"))["date"].to_list())

nip = st.sampled_from(NIPS)
day = st.sampled_from(DAYS)

employees_st = st.lists(
    st.fixed_dictionaries(
        {
            "nip": nip,
            "name": st.just("Pegawai"),
            "unit_code": st.sampled_from(["U1", "U2"]),
            "office_id": st.sampled_from(["O1", "O2", "O9"]),
            "home": st.one_of(st.none(), st.sampled_from(POINTS)),
            "active_from": st.one_of(st.none(), day),
            "active_to": st.one_of(st.none(), day),
        }
    ),
    min_size=1,
    max_size=5,
    unique_by=lambda r: r["nip"],
)

event_st = st.fixed_dictionaries(
    {
        "nip": st.one_of(nip, st.just(UNKNOWN)),
        "day": day,
        "minute": st.integers(0, 24 * 60 - 1),
        "second": st.integers(0, 59),
        "kind": st.sampled_from(["IN", "OUT"]),
        "point": st.one_of(st.none(), st.sampled_from(POINTS)),
        "accuracy_m": st.one_of(st.none(), st.floats(0, 200)),
        "device_id": st.one_of(st.none(), st.sampled_from(["", "d1", "d2", "d3"])),
    }
)

output_st = st.fixed_dictionaries(
    {
        "nip": nip,
        "day": day,
        "delay_h": st.integers(0, 60),
        "text": st.sampled_from(["ok", "", "Menyusun laporan", "Rapat  koordinasi", "x" * 12]),
    }
)

roster_st = st.fixed_dictionaries(
    {"nip": st.one_of(nip, st.just(UNKNOWN)), "date": day, "mode": st.sampled_from(["WFH", "WFO"])}
)

leave_st = st.fixed_dictionaries(
    {
        "nip": nip,
        "start": day,
        "days": st.integers(0, 3),
        "kind": st.sampled_from(["CUTI", "SAKIT", "IZIN", "DINAS_LUAR", "TUGAS_BELAJAR"]),
    }
)


def _inputs(data: dict, shuffle_seed: int | None = None) -> AuditInputs:
    employees = [
        {**e, "home_lat": e["home"][0] if e["home"] else None,
         "home_lon": e["home"][1] if e["home"] else None}
        for e in data["employees"]
    ]
    events = {}
    for e in data["events"]:
        ts = dt.datetime.combine(e["day"], dt.time()) + dt.timedelta(
            minutes=e["minute"], seconds=e["second"]
        )
        events[(e["nip"], ts, e["kind"])] = {
            "nip": e["nip"], "ts": ts, "kind": e["kind"],
            "lat": e["point"][0] if e["point"] else None,
            "lon": e["point"][1] if e["point"] else None,
            "accuracy_m": e["accuracy_m"], "device_id": e["device_id"],
        }
    outputs = {}
    for o in data["outputs"]:
        at = dt.datetime.combine(o["day"], dt.time(8)) + dt.timedelta(hours=o["delay_h"])
        outputs[(o["nip"], o["day"], at)] = {
            "nip": o["nip"], "date": o["day"], "submitted_at": at, "text": o["text"]
        }
    roster = {(r["nip"], r["date"]): r for r in data["roster"]}
    leave = {
        (r["nip"], r["start"], r["kind"]): {
            **r, "end": r["start"] + dt.timedelta(days=r["days"])
        }
        for r in data["leave"]
    }
    offices = [
        {"office_id": "O1", "lat": -6.9022, "lon": 107.6186, "radius_m": 100.0},
        {"office_id": "O2", "lat": -6.9030, "lon": 107.6190, "radius_m": None},
    ]
    tables = {
        "employees": frame("employees", employees),
        "offices": frame("offices", offices),
        "attendance": frame("attendance", list(events.values())),
        "outputs": frame("outputs", list(outputs.values())),
        "roster": frame("roster", list(roster.values())),
        "leave": frame("leave", list(leave.values())),
    }
    if shuffle_seed is not None:
        tables = {k: v.sample(fraction=1.0, shuffle=True, seed=shuffle_seed)
                  for k, v in tables.items()}
    return AuditInputs(start=START, end=END, **{k: v.lazy() for k, v in tables.items()})


stores = st.fixed_dictionaries(
    {
        "employees": employees_st,
        "events": st.lists(event_st, max_size=40),
        "outputs": st.lists(output_st, max_size=15),
        "roster": st.lists(roster_st, max_size=15),
        "leave": st.lists(leave_st, max_size=4),
    }
)

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _run(data: dict, shuffle_seed: int | None = None):
    return audit_days(_inputs(data, shuffle_seed), POLICY, audited_days(CALENDAR, None))


@SETTINGS
@given(stores)
def test_invariants(data: dict) -> None:
    frames, violations, unit_findings = _run(data)
    # only working days, only audited employee-days, never an excused one
    assert set(violations["date"].to_list()) <= WORKING
    assert set(unit_findings["date"].to_list()) <= WORKING
    traced = violations.join(frames.employee_days, on=["nip", "date"], how="left")
    assert traced["status"].null_count() == 0
    assert (traced["status"] != "excused").all()
    # attendance rules only where attendance is required
    attendance_rules = ["ABSENT", "MISSING_CHECKIN", "MISSING_CHECKOUT", "LATE", "EARLY_LEAVE",
                        "WRONG_LOCATION", "NO_LOCATION", "HOME_UNREGISTERED", "OFFICE_UNKNOWN"]
    assert (traced.filter(pl.col("rule").is_in(attendance_rules))["status"] == "required").all()
    # at most one row per (nip, date, rule); minutes >= 0
    assert violations.select("nip", "date", "rule").is_duplicated().sum() == 0
    assert (violations["minutes"].drop_nulls() >= 0).all()
    assert (violations["distance_m"].drop_nulls() >= 0).all()
    assert unit_findings.select("unit_code", "date", "rule").is_duplicated().sum() == 0
    assert (unit_findings["count"] >= 1).all()
    assert UNKNOWN not in violations["nip"].to_list()


@SETTINGS
@given(stores, st.integers(0, 2**16))
def test_shuffling_input_rows_changes_nothing(data: dict, seed: int) -> None:
    _, violations, unit_findings = _run(data)
    _, violations2, unit_findings2 = _run(data, shuffle_seed=seed)
    assert violations.equals(violations2)
    assert unit_findings.equals(unit_findings2)
