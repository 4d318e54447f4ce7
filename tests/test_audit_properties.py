"""Properties of the engine on small random inputs (hypothesis)."""

from __future__ import annotations

import dataclasses
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
            # v2 history: a later employees row (a transfer) from `day`, the first row
            # valid since always or from `first` (a new hire first seen then)
            "move": st.one_of(
                st.none(),
                st.fixed_dictionaries({
                    "day": day,
                    "first": st.one_of(st.none(), day),
                    "unit_code": st.sampled_from(["U1", "U2"]),
                    "office_id": st.sampled_from(["O1", "O2", "O9"]),
                    "home": st.one_of(st.none(), st.sampled_from(POINTS)),
                }),
            ),
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
        "device_id": st.one_of(
            st.none(), st.sampled_from(["", "d1", "d2", "d3", " D1 ", "null", "N/A", "0"])
        ),
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
        "text": st.sampled_from([
            "ok", "", "Menyusun laporan", "Rapat  koordinasi", "x" * 12, "\u200b" * 12,
            "\u3000Rapat\u00a0koordinasi ", "Cafe\u0301 laporan", "rapat koordinasi",
        ]),
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
    employees = []
    for e in data["employees"]:
        home = e["home"]
        move = e.get("move")
        first = move["first"] if move and move["first"] and move["first"] < move["day"] else None
        employees.append({**e, "home_lat": home[0] if home else None,
                          "home_lon": home[1] if home else None, "valid_from": first})
        if move:
            employees.append({**e, **{k: move[k] for k in ("unit_code", "office_id")},
                              "home_lat": move["home"][0] if move["home"] else None,
                              "home_lon": move["home"][1] if move["home"] else None,
                              "valid_from": move["day"]})
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
                        "WRONG_LOCATION", "NO_LOCATION", "HOME_UNREGISTERED"]
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


# --- an independent reference: every rule in plain Python, straight from rules.md (v2) ----

R = 6_371_008.8
PLACEHOLDERS = {"", "NULL", "NONE", "UNKNOWN", "UNDEFINED", "N/A", "NA", "-", "0"}


def _hav(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    import math

    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * R * math.asin(min(1.0, math.sqrt(a)))


def _dm(metres: float) -> int:
    """Rounded to 0.1 m half away from zero, in whole decimetres."""
    import math

    x = metres * 10
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def _chars(text: str | None) -> str:
    import unicodedata

    t = unicodedata.normalize("NFC", text or "")
    t = "".join(c for c in t if unicodedata.category(c) != "Cf")
    return t.strip()


def _num(x: float) -> str:
    return "0.0" if x == 0 else pl.Series([x]).cast(pl.String)[0]


def _row_in_force(rows: list[dict], d: dt.date) -> dict:
    """rules.md: the greatest valid_from <= d, else the smallest (empty = earliest)."""
    key = [(r["valid_from"] or dt.date.min, r) for r in rows]
    before = [k for k in key if k[0] <= d]
    return max(before, key=lambda k: k[0])[1] if before else min(key, key=lambda k: k[0])[1]


def _reference(data: dict) -> tuple[set, set]:  # noqa: C901 - one rule after another
    import re

    inputs = _inputs(data)
    emp_rows = inputs.employees.collect().to_dicts()
    history: dict = {}
    for r in emp_rows:
        history.setdefault(r["nip"], []).append(r)
    offices = {o["office_id"]: o for o in inputs.offices.collect().to_dicts()}
    att = inputs.attendance.collect().to_dicts()
    outs = inputs.outputs.collect().to_dicts()
    roster = {(r["nip"], r["date"]): r["mode"] for r in inputs.roster.collect().to_dicts()}
    leaves = inputs.leave.collect().to_dicts()
    pol = POLICY
    gap = pol.gap_min_employees
    wd = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    out: set = set()
    units: set = set()
    # spans over every row the store holds (here: the inputs), unit of the row in force
    spans: dict = {"att": {}, "out": {}}
    for name, rows in (("att", [(a["nip"], a["ts"].date()) for a in att]),
                       ("out", [(o["nip"], o["date"]) for o in outs])):
        for nip, d in rows:
            if nip in history:
                u = _row_in_force(history[nip], d)["unit_code"]
                lo, hi = spans[name].get(u, (d, d))
                spans[name][u] = (min(lo, d), max(hi, d))
    days: dict = {}  # (nip, d) -> facts
    for nip, rows in history.items():
        first_valid = min((r["valid_from"] for r in rows if r["valid_from"]), default=None)
        has_empty = any(r["valid_from"] is None for r in rows)
        for d in DAYS:
            hours = pol.hours_on(d)
            if hours is None:
                continue
            e = _row_in_force(rows, d)
            if e["active_from"] and d < e["active_from"]:
                continue
            if e["active_to"] and d > e["active_to"]:
                continue
            if not has_empty and first_valid and d < first_valid and not e["active_from"]:
                continue
            kinds = {lv["kind"] for lv in leaves if lv["nip"] == nip
                     and lv["start"] <= d <= lv["end"]}
            status = ("excused" if kinds & {"CUTI", "SAKIT", "IZIN", "TUGAS_BELAJAR"}
                      else "duty" if "DINAS_LUAR" in kinds else "required")
            period = pol.wfh_period_on(d)
            exempt = period is not None and e["unit_code"] in period.exempt_units
            allowed = period is not None and wd[d.weekday()] in period.weekdays and not exempt
            rostered = roster.get((nip, d))
            planned = rostered or (
                "WFH" if period and wd[d.weekday()] in period.default_wfh_weekdays
                and not exempt else "WFO")
            expected = "WFO" if planned == "WFH" and not allowed else planned
            accepted = (planned == "WFH" and not allowed) or (
                allowed and rostered is None and planned == "WFO")
            ev = [a for a in att if a["nip"] == nip and a["ts"].date() == d]
            reps = [o for o in outs if o["nip"] == nip and o["date"] == d]
            days[(nip, d)] = dict(e=e, status=status, planned=planned, expected=expected,
                                  accepted=accepted, hours=hours, period=period,
                                  allowed=allowed, kinds=kinds, rostered=rostered, ev=ev,
                                  reps=reps)
    # missing data per agency-day (spans, gap rule)
    by_unit_day: dict = {}
    for (_nip, d), f in days.items():
        by_unit_day.setdefault((f["e"]["unit_code"], d), []).append(f)
    for (u, d), fs in by_unit_day.items():
        req = [f for f in fs if f["status"] == "required"]
        writers = [f for f in fs if f["status"] != "excused"]
        lo, hi = spans["att"].get(u, (None, None))
        att_missing = lo is None or not lo <= d <= hi or (
            len(req) >= gap and not any(f["ev"] for f in req))
        lo, hi = spans["out"].get(u, (None, None))
        out_missing = lo is None or not lo <= d <= hi or (
            len(writers) >= gap and not any(f["reps"] for f in writers))
        for f in fs:
            if f["status"] == "required" and att_missing:
                f["status"] = "no_attendance_data"
            f["output_missing"] = out_missing
    for (nip, d), f in days.items():
        e, hours, ev = f["e"], f["hours"], f["ev"]
        valid = [o for o in f["reps"] if len(_chars(o["text"])) >= pol.output_min_chars]
        f["valid"] = valid

        def add(rule, minutes=None, dist=None, detail=None, nip=nip, d=d, e=e):
            out.add((nip, d, e["unit_code"], rule, minutes, dist, detail))

        if f["status"] == "excused":
            continue
        if not f["output_missing"]:
            if not valid:
                add("NO_DAILY_OUTPUT", detail="none" if not f["reps"] else "empty")
            else:
                first = min(o["submitted_at"] for o in valid)
                cutoff = dt.datetime.combine(
                    d + dt.timedelta(days=pol.output_deadline_days + 1), dt.time())
                if first >= cutoff:
                    add("LATE_DAILY_OUTPUT", minutes=int((first - cutoff).total_seconds() // 60))
        located = sorted((a for a in ev if a["lat"] is not None),
                         key=lambda a: (a["ts"], a["kind"]))

        def allow(a):
            return _dm(min(max(a["accuracy_m"] or 0.0, 0.0), pol.accuracy_allowance_max_m))

        speeds = []
        if f["status"] != "duty":
            for a, b in zip(located, located[1:], strict=False):
                eff = _dm(_hav(a["lat"], a["lon"], b["lat"], b["lon"])) - allow(a) - allow(b)
                h = (b["ts"] - a["ts"]).total_seconds() / 3600
                v = float("inf") if h <= 0 else eff / 10_000 / h
                if eff > 10_000 and v > pol.max_speed_kmh:
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
        midnight = dt.datetime.combine(d, dt.time())
        if not ins:
            add("MISSING_CHECKIN")
        else:
            start = midnight + dt.timedelta(minutes=hours.start_min)
            late = (min(ins) - start) // dt.timedelta(minutes=1)
            if late > pol.late_grace_minutes:
                add("LATE", minutes=late)
        if not outs_:
            add("MISSING_CHECKOUT")
        else:
            end = midnight + dt.timedelta(minutes=hours.end_min)
            early = (end - max(outs_)) // dt.timedelta(minutes=1)
            if early > pol.early_grace_minutes:
                add("EARLY_LEAVE", minutes=early)
        if not located:
            add("NO_LOCATION")
        home = (e["home_lat"], e["home_lon"]) if e["home_lat"] is not None else None
        office = offices.get(e["office_id"])
        if f["expected"] == "WFH":
            place = (home[0], home[1], pol.home_radius_m) if home else None
            if not home:
                add("HOME_UNREGISTERED")
        else:
            place = ((office["lat"], office["lon"], office["radius_m"] or pol.office_radius_m)
                     if office else None)
        if place and located:
            outside = []
            for a in located:
                dist = _dm(_hav(a["lat"], a["lon"], place[0], place[1]))
                away = dist - allow(a) > _dm(place[2])
                if away and f["accepted"] and home:
                    home_dm = _dm(_hav(a["lat"], a["lon"], home[0], home[1]))
                    away = home_dm - allow(a) > _dm(pol.home_radius_m)
                if away:
                    outside.append(dist)
            if outside:
                add("WRONG_LOCATION", dist=max(outside) / 10, detail=f["expected"])
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
                dev = (a["device_id"] or "").strip().upper()
                if dev not in PLACEHOLDERS:
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
            homes = [live[(m, d)]["e"] for m in coords[(lat, lon)]]
            at_home = any(h["home_lat"] is not None and _dm(
                _hav(lat, lon, h["home_lat"], h["home_lon"])) <= _dm(pol.home_radius_m)
                for h in homes)
            where = "rumah pegawai" if at_home else f"{_num(lat)},{_num(lon)}"
            out.add((nip, d, e["unit_code"], "SHARED_COORDINATES", None, None,
                     f"{where} ({-n} employees)"))
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
            norm = re.sub(r"\s+", " ", _chars(o["text"]).lower())
            texts.setdefault((nip, norm), set()).add(d)
    for (nip, _), ds in texts.items():
        if len(ds) >= pol.duplicate_output_min_days:
            for d in ds:
                out.add((nip, d, live[(nip, d)]["e"]["unit_code"], "DUPLICATE_OUTPUT", None,
                         None, None))
    for (unit, d), fs in by_unit_day.items():
        head = [f for f in fs if not f["kinds"]]
        wfh = [f for f in head if f["planned"] == "WFH" and f["allowed"]]
        period = fs[0]["period"]
        if period and head and len(wfh) / len(head) > period.max_share:
            units.add((unit, d, "WFH_QUOTA_EXCEEDED", len(wfh), len(head),
                       round(len(wfh) / len(head), 9)))
        bad = [f for f in fs if f["rostered"] == "WFH" and not f["allowed"]]
        if bad:
            units.add((unit, d, "WFH_NOT_ALLOWED", len(bad), len(head), None))
        no_att = [f for f in fs if f["status"] == "no_attendance_data"]
        if no_att:
            units.add((unit, d, "ATTENDANCE_DATA_MISSING", len(no_att), len(head), None))
        no_out = [f for f in fs if f["status"] != "excused" and f["output_missing"]]
        if no_out:
            units.add((unit, d, "OUTPUT_DATA_MISSING", len(no_out), len(head), None))
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


# --- v2 properties: missing data is not absence, history does not rewrite the past -------

ATTENDANCE_RULES = {"ABSENT", "MISSING_CHECKIN", "MISSING_CHECKOUT", "LATE", "EARLY_LEAVE",
                    "WRONG_LOCATION", "NO_LOCATION", "HOME_UNREGISTERED"}


@SETTINGS
@given(stores)
def test_no_attendance_rule_on_a_day_without_attendance_data(data: dict) -> None:
    frames, violations, _ = _run(data)
    no_data = frames.employee_days.filter(pl.col("status") == "no_attendance_data")
    hits = violations.filter(pl.col("rule").is_in(list(ATTENDANCE_RULES))).join(
        no_data, on=["nip", "date"], how="semi"
    )
    assert hits.height == 0


@SETTINGS
@given(stores)
def test_an_agency_without_any_event_gets_no_absent(data: dict) -> None:
    inputs = _inputs(data)
    history: dict = {}
    for r in inputs.employees.collect().to_dicts():
        history.setdefault(r["nip"], []).append(r)
    with_events = {
        _row_in_force(history[a["nip"]], a["ts"].date())["unit_code"]
        for a in inputs.attendance.collect().to_dicts() if a["nip"] in history
    }
    _, violations, _ = _run(data)
    absent = set(violations.filter(pl.col("rule") == "ABSENT")["unit_code"])
    assert not absent - with_events


@SETTINGS
@given(stores, day, st.sampled_from(["O1", "O2", "O9"]), st.sampled_from(POINTS))
def test_a_later_snapshot_never_changes_a_finding_dated_before_it(
    data: dict, valid_from: dt.date, office: str, home: tuple
) -> None:
    """An employees snapshot with a later ``valid_from`` (same agencies; a new office, a
    new home point, a leaver's active_to) changes no violation or agency finding
    dated before it.  (A snapshot that moves someone to another agency can move the
    agency's attendance span, which is drawn over the whole store: not covered.)"""
    _, before, units_before = _run(data)
    snapshot = []
    for e in data["employees"]:
        snapshot.append({**e, "office_id": office, "home": home, "move": None,
                         "active_to": valid_from, "valid_from": valid_from})
    later = {**data, "snapshot": snapshot}
    _, after, units_after = audit_days(
        _with_snapshot(later), POLICY, audited_days(CALENDAR, None)
    )
    early = pl.col("date") < valid_from
    # DUPLICATE_OUTPUT looks at the whole period: its rows before the snapshot stay
    assert before.filter(early).equals(after.filter(early))
    assert units_before.filter(early).equals(units_after.filter(early))


def _with_snapshot(data: dict) -> AuditInputs:
    """``_inputs(data)`` plus the employees rows of ``data["snapshot"]`` (same units)."""
    inputs = _inputs(data)
    rows = inputs.employees.collect().to_dicts()
    last_unit: dict = {}
    for r in sorted(rows, key=lambda r: r["valid_from"] or dt.date.min):
        last_unit[r["nip"]] = r["unit_code"]
    extra = []
    taken = {(r["nip"], r["valid_from"]) for r in rows}
    for s in data["snapshot"]:
        if (s["nip"], s["valid_from"]) in taken:
            continue
        later_rows = [r for r in rows if r["nip"] == s["nip"] and r["valid_from"]
                      and r["valid_from"] > s["valid_from"]]
        if later_rows:  # the snapshot is the latest row of its employee
            continue
        unit = _row_in_force([r for r in rows if r["nip"] == s["nip"]], s["valid_from"])
        extra.append({**s, "unit_code": unit["unit_code"], "home_lat": s["home"][0],
                      "home_lon": s["home"][1]})
    employees = pl.concat([inputs.employees.collect(), frame("employees", extra)])
    return dataclasses.replace(inputs, employees=employees.lazy())
