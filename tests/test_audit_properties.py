"""Properties of the engine on small random inputs (hypothesis)."""

from __future__ import annotations

import datetime as dt
import os

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
# most activity on a few days, so that shared points, devices and texts meet
FOCUS = [dt.date(2025, 11, 27), dt.date(2025, 12, 1), dt.date(2025, 12, 2), dt.date(2025, 12, 3)]
busy_day = st.one_of(st.sampled_from(FOCUS), day)

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
    min_size=2,
    max_size=5,
    unique_by=lambda r: r["nip"],
)

event_st = st.fixed_dictionaries(
    {
        "nip": st.one_of(nip, nip, nip, st.just(UNKNOWN)),
        "day": busy_day,
        "minute": st.one_of(st.integers(400, 1000), st.integers(0, 24 * 60 - 1)),
        "second": st.integers(0, 59),
        "kind": st.sampled_from(["IN", "OUT"]),
        "point": st.one_of(st.none(), st.sampled_from(POINTS)),
        "accuracy_m": st.one_of(st.none(), st.floats(0, 200)),
        "device_id": st.one_of(st.none(), st.sampled_from(["", "d1", "d2", "d3"])),
    }
)

# several employees checking in at one point, with one phone, at about the same time
crowd_st = st.fixed_dictionaries(
    {
        "nips": st.sets(nip, min_size=2, max_size=4),
        "day": st.sampled_from(FOCUS),
        "minute": st.integers(400, 1000),
        "kind": st.sampled_from(["IN", "OUT"]),
        "point": st.sampled_from(POINTS),
        "device_id": st.sampled_from([None, "d1", "d2"]),
    }
)

# one employee at two places within an hour (or at the same minute)
trip_st = st.fixed_dictionaries(
    {
        "nip": nip,
        "day": st.sampled_from(FOCUS),
        "minute": st.integers(400, 1000),
        "gap": st.integers(0, 60),
        "points": st.tuples(st.sampled_from(POINTS), st.sampled_from(POINTS)),
        "kinds": st.tuples(st.sampled_from(["IN", "OUT"]), st.sampled_from(["IN", "OUT"])),
    }
)

output_st = st.fixed_dictionaries(
    {
        "nip": nip,
        "day": busy_day,
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
    crowd = [
        {**c, "nip": n, "second": i, "accuracy_m": None}
        for c in data.get("crowds", []) for i, n in enumerate(sorted(c["nips"]))
    ]
    trips = [
        {"nip": t["nip"], "day": t["day"], "minute": t["minute"] + i * t["gap"], "second": 0,
         "kind": t["kinds"][i], "point": t["points"][i], "accuracy_m": 10.0,
         "device_id": None}
        for t in data.get("trips", []) for i in (0, 1)
    ]
    for e in [*data["events"], *crowd, *trips]:
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
        "events": st.lists(event_st, max_size=60),
        "crowds": st.lists(crowd_st, max_size=3),
        "trips": st.lists(trip_st, max_size=3),
        "outputs": st.lists(output_st, max_size=25),
        "roster": st.lists(roster_st, max_size=15),
        "leave": st.lists(leave_st, max_size=4),
    }
)

#: AUDIT_EXAMPLES=400 for a longer search (about a minute)
SETTINGS = settings(
    max_examples=int(os.environ.get("AUDIT_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


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


# --- an independent reference: every rule in plain Python, straight from rules.md ---------

R = 6_371_008.8


def _hav(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    import math

    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * R * math.asin(min(1.0, math.sqrt(a)))


def _reference(data: dict) -> tuple[set, set]:  # noqa: C901 - one rule after another
    import re

    inputs = _inputs(data)
    emp = inputs.employees.collect().to_dicts()
    offices = {o["office_id"]: o for o in inputs.offices.collect().to_dicts()}
    att = inputs.attendance.collect().to_dicts()
    outs = inputs.outputs.collect().to_dicts()
    roster = {(r["nip"], r["date"]): r["mode"] for r in inputs.roster.collect().to_dicts()}
    leaves = inputs.leave.collect().to_dicts()
    pol = POLICY
    wd = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    out: set = set()
    units: set = set()
    days: dict = {}  # (nip, d) -> facts
    for e in emp:
        for d in DAYS:
            hours = pol.hours_on(d)
            if hours is None:
                continue
            if e["active_from"] and d < e["active_from"]:
                continue
            if e["active_to"] and d > e["active_to"]:
                continue
            kinds = {lv["kind"] for lv in leaves if lv["nip"] == e["nip"]
                     and lv["start"] <= d <= lv["end"]}
            status = ("excused" if kinds & {"CUTI", "SAKIT", "IZIN", "TUGAS_BELAJAR"}
                      else "duty" if "DINAS_LUAR" in kinds else "required")
            period = pol.wfh_period_on(d)
            exempt = period is not None and e["unit_code"] in period.exempt_units
            mode = roster.get((e["nip"], d))
            if mode is None:
                mode = ("WFH" if period and wd[d.weekday()] in period.default_wfh_weekdays
                        and not exempt else "WFO")
            days[(e["nip"], d)] = dict(e=e, status=status, mode=mode, hours=hours,
                                       period=period, exempt=exempt, kinds=kinds,
                                       rostered=roster.get((e["nip"], d)))
    for (nip, d), f in days.items():
        e, hours = f["e"], f["hours"]
        ev = [a for a in att if a["nip"] == nip and a["ts"].date() == d]
        f["ev"] = ev
        reps = [o for o in outs if o["nip"] == nip and o["date"] == d]
        valid = [o for o in reps if len(o["text"].strip()) >= pol.output_min_chars]
        f["valid"] = valid

        def add(rule, minutes=None, dist=None, detail=None, nip=nip, d=d, e=e):
            out.add((nip, d, e["unit_code"], rule, minutes, dist, detail))

        if f["status"] == "excused":
            continue
        if not valid:
            add("NO_DAILY_OUTPUT", detail="none" if not reps else "empty")
        else:
            first = min(o["submitted_at"] for o in valid)
            cutoff = dt.datetime.combine(d + dt.timedelta(days=pol.output_deadline_days + 1),
                                         dt.time())
            if first >= cutoff:
                add("LATE_DAILY_OUTPUT", minutes=int((first - cutoff).total_seconds() // 60))
        located = sorted((a for a in ev if a["lat"] is not None),
                         key=lambda a: (a["ts"], a["kind"]))
        speeds = []
        for a, b in zip(located, located[1:], strict=False):
            m = _hav(a["lat"], a["lon"], b["lat"], b["lon"])
            h = (b["ts"] - a["ts"]).total_seconds() / 3600
            v = float("inf") if h <= 0 else m / 1000 / h
            if m > 1000 and v > pol.max_speed_kmh:
                speeds.append(v)
        if speeds:
            top = max(speeds)
            add("IMPOSSIBLE_TRAVEL",
                detail="inf" if top == float("inf") else str(int(top + 0.5)))
        if f["status"] != "required":
            continue
        if not ev:
            add("ABSENT")
            continue
        ins = [a["ts"] for a in ev if a["kind"] == "IN"]
        outs_ = [a["ts"] for a in ev if a["kind"] == "OUT"]
        if not ins:
            add("MISSING_CHECKIN")
        else:
            late = min(ins).hour * 60 + min(ins).minute - hours.start_min
            if late > pol.late_grace_minutes:
                add("LATE", minutes=late)
        if not outs_:
            add("MISSING_CHECKOUT")
        else:
            early = hours.end_min - (max(outs_).hour * 60 + max(outs_).minute)
            if early > pol.early_grace_minutes:
                add("EARLY_LEAVE", minutes=early)
        if not located:
            add("NO_LOCATION")
        home = (e["home_lat"], e["home_lon"]) if e["home_lat"] is not None else None
        office = offices.get(e["office_id"])
        if f["mode"] == "WFH":
            place = (home[0], home[1], pol.home_radius_m) if home else None
            if not home:
                add("HOME_UNREGISTERED")
        else:
            place = ((office["lat"], office["lon"], office["radius_m"] or pol.office_radius_m)
                     if office else None)
            if not office:
                add("OFFICE_UNKNOWN", detail=e["office_id"])
        if place and located:
            outside = []
            for a in located:
                dist = _hav(a["lat"], a["lon"], place[0], place[1])
                allow = min(max(a["accuracy_m"] or 0.0, 0.0), pol.accuracy_allowance_max_m)
                if dist - allow > place[2] + 1e-6:
                    outside.append(dist)
            if outside:
                add("WRONG_LOCATION", dist=round(max(outside), 1), detail=f["mode"])
    live = {k: f for k, f in days.items() if f["status"] != "excused"}
    for d in DAYS:
        coords: dict = {}
        devices: dict = {}
        for (nip, day), f in live.items():
            if day != d:
                continue
            for a in f["ev"]:
                if a["lat"] is not None:
                    coords.setdefault((a["lat"], a["lon"]), set()).add(nip)
                dev = (a["device_id"] or "").strip()
                if dev:
                    devices.setdefault(dev, set()).add(nip)
        best: dict = {}
        for (lat, lon), who in coords.items():
            if len(who) >= pol.shared_coordinates_min_employees:
                for nip in who:
                    key = (-len(who), lat, lon)
                    if nip not in best or key < best[nip]:
                        best[nip] = key
        for nip, (n, lat, lon) in best.items():
            e = live[(nip, d)]["e"]
            out.add((nip, d, e["unit_code"], "SHARED_COORDINATES", None, None,
                     f"{pl.Series([lat]).cast(pl.String)[0]},{pl.Series([lon]).cast(pl.String)[0]}"
                     f" ({-n} employees)"))
        shared: dict = {}
        for dev, who in devices.items():
            if len(who) >= 2:
                for nip in who:
                    shared.setdefault(nip, []).append(dev)
        for nip, devs in shared.items():
            out.add((nip, d, live[(nip, d)]["e"]["unit_code"], "SHARED_DEVICE", None, None,
                     ",".join(sorted(devs))))
    texts: dict = {}
    for (nip, d), f in live.items():
        for o in f["valid"]:
            norm = re.sub(r"\s+", " ", o["text"].strip().lower())
            texts.setdefault((nip, norm), set()).add(d)
    for (nip, _), ds in texts.items():
        if len(ds) >= pol.duplicate_output_min_days:
            for d in ds:
                out.add((nip, d, live[(nip, d)]["e"]["unit_code"], "DUPLICATE_OUTPUT", None,
                         None, None))
    for d in DAYS:
        by_unit: dict = {}
        for (_nip, day), f in days.items():
            if day == d:
                by_unit.setdefault(f["e"]["unit_code"], []).append(f)
        for unit, fs in by_unit.items():
            head = [f for f in fs if not f["kinds"]]
            wfh = [f for f in head if f["mode"] == "WFH"]
            period = fs[0]["period"]
            if period and head and len(wfh) / len(head) > period.max_share:
                units.add((unit, d, "WFH_QUOTA_EXCEEDED", len(wfh), len(head),
                           round(len(wfh) / len(head), 9)))
            bad = [f for f in fs if f["rostered"] == "WFH" and (
                period is None or wd[d.weekday()] not in period.weekdays or f["exempt"])]
            if bad:
                units.add((unit, d, "WFH_NOT_ALLOWED", len(bad), len(head), None))
    return out, units


@SETTINGS
@given(stores)
def test_engine_equals_plain_python_reference(data: dict) -> None:
    _, violations, unit_findings = _run(data)
    want, want_units = _reference(data)
    got = {tuple(r.values()) for r in violations.to_dicts()}
    assert got == want
    got_units = {
        (r["unit_code"], r["date"], r["rule"], r["count"], r["headcount"],
         None if r["share"] is None else round(r["share"], 9))
        for r in unit_findings.to_dicts()
    }
    assert got_units == want_units
