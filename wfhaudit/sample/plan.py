"""Which employees get which planted anomaly, decided before any row is generated.

The plan is made once for the whole data set from ``random.Random(seed)`` and
is small (a few plants per 150 employees).  Every planted employee is used by
exactly one plant and takes no random leave, so each plant's consequences are
known by construction (see ``generator.py`` for the rule rows each one yields).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from wfhaudit.sample.calendar import WorkDay

# Per-day plants: one employee, one day (the streak: three consecutive days).
ABSENT = "absent"  # no events, no report
ABSENT_REPORTED = "absent_reported"  # no events, a valid report
ABSENT_STREAK = "absent_streak"  # three working days in a row without events or report
MISSING_CHECKIN = "missing_checkin"  # only an OUT event
MISSING_CHECKOUT = "missing_checkout"  # only an IN event
LATE = "late"  # IN 8..150 minutes after start
EARLY = "early"  # OUT 10..150 minutes before end
WRONG_PLACE = "wrong_place"  # both events far from the expected place
NO_GPS = "no_gps"  # events without coordinates (or the phone's 0,0)
NO_REPORT = "no_report"  # attendance fine, no report
SHORT_REPORT = "short_report"  # only a report shorter than min_chars
LATE_REPORT = "late_report"  # the valid report comes the next morning
TRAVEL = "travel"  # IN 30+ km away, IN at the office minutes later (WFO)
TRAVEL_DUTY = "travel_duty"  # same jump on a DINAS_LUAR day: no finding (a duty-day flight)
# Clean cases at the edges of the rules: no violation expected.
EDGE_TIMES = "edge_times"  # IN in the start minute, OUT in the end minute
EDGE_ACCURACY = "edge_accuracy"  # outside the fence by less than the GPS accuracy
EDGE_REPORTS = "edge_reports"  # a short note plus a valid report at 23:59
DUTY_NO_EVENTS = "duty_no_events"  # DINAS_LUAR, no check-in, valid report

DAY_PLANTS: tuple[str, ...] = (
    ABSENT,
    ABSENT_REPORTED,
    ABSENT_STREAK,
    MISSING_CHECKIN,
    MISSING_CHECKOUT,
    LATE,
    EARLY,
    WRONG_PLACE,
    NO_GPS,
    NO_REPORT,
    SHORT_REPORT,
    LATE_REPORT,
    TRAVEL,
    TRAVEL_DUTY,
    EDGE_TIMES,
    EDGE_ACCURACY,
    EDGE_REPORTS,
    DUTY_NO_EVENTS,
)

# Per-employee plants.
DUPLICATE = "duplicate"  # the same report text on 3-4 days
NO_HOME = "no_home"  # no registered home point
UNKNOWN_OFFICE = "unknown_office"  # office_id not in offices
NEW_HIRE = "new_hire"  # active_from in the middle of the month (clean)
LEAVER = "leaver"  # active_to in the middle of the month (clean)
# Several employees.
RING = "ring"  # 3-4 employees of different agencies at one exact coordinate
SHARED_PHONE = "shared_phone"  # B checks in with A's phone
NOT_ALLOWED = "not_allowed"  # rostered WFH on a day outside every WFH period (the first
# at the office, the others at home: no finding for them, WFH_NOT_ALLOWED for the agency)
# Agency-days.
QUOTA = "quota"  # more than max_share of an agency rostered WFH
# History (v2): a transfer to another agency on a mid-month working day D (a second
# employees row with valid_from = D); on one later day the employee checks in at the OLD
# office: WRONG_LOCATION under the NEW agency, proving the audit reads the row in force.
TRANSFER = "transfer"


@dataclass
class Plant:
    kind: str
    employees: list[int]
    days: list[int]  # indexes into the month's working days
    #: per-plant choices (far place, variant, ring office, text ...)
    extra: dict[str, object] = field(default_factory=dict)


@dataclass
class Plan:
    plants: list[Plant]
    #: (employee, day) -> the plant generating that cell's rows
    cells: dict[tuple[int, int], Plant]
    #: (employee, day) -> forced expected mode (0 WFO, 1 WFH)
    forced_mode: dict[tuple[int, int], int]
    #: employees that take no random leave (every planted employee)
    planted: set[int]
    #: employee -> DINAS_LUAR day indexes (planted duty days)
    duty_days: dict[int, list[int]]
    no_home: set[int]
    unknown_office: dict[int, str]
    #: employee -> (first active day index, last active day index), inclusive
    active_days: dict[int, tuple[int, int]]
    #: unit index -> [(day index, extra WFH count)]
    quota: dict[int, list[tuple[int, int]]]
    #: employee -> (first day index in the new unit, new unit, day at the old office)
    transfer: dict[int, tuple[int, int, int]] = field(default_factory=dict)


def plants_per_kind(employees: int) -> int:
    """How many times each anomaly is planted: 1 per 150 employees, at least 1."""
    return max(1, min(employees // 150, 5000))


def make_plan(
    rnd: random.Random,
    unit_of: list[int],
    unit_codes: list[str],
    unit_offices: list[str],
    days: list[WorkDay],
) -> Plan:
    """Choose the planted employees and days."""
    n_employees = len(unit_of)
    n_days = len(days)
    k = plants_per_kind(n_employees)
    pool = list(range(n_employees))
    rnd.shuffle(pool)
    used: set[int] = set()
    by_unit: dict[int, list[int]] = defaultdict(list)
    for emp in pool:
        by_unit[unit_of[emp]].append(emp)

    start_at: dict[int | None, int] = defaultdict(int)  # candidates before it are all used
    used_in_unit: Counter[int] = Counter()

    def take(unit: int | None = None, avoid_units: set[int] | None = None) -> int | None:
        candidates = by_unit[unit] if unit is not None else pool
        i = start_at[unit]
        while i < len(candidates) and candidates[i] in used:
            i += 1
        start_at[unit] = i
        for j in range(i, len(candidates)):
            e = candidates[j]
            if e in used or (avoid_units and unit_of[e] in avoid_units):
                continue
            used.add(e)
            used_in_unit[unit_of[e]] += 1
            return e
        return None

    plan = Plan([], {}, {}, set(), defaultdict(list), set(), {}, {}, defaultdict(list))

    def add(plant: Plant) -> None:
        plan.plants.append(plant)
        plan.planted.update(plant.employees)

    # Multi-employee plants first: they need room in particular units.
    ring_office_pref = "GEDUNG-SATE" if "GEDUNG-SATE" in unit_offices else None
    for _ in range(k):
        size = rnd.choice((3, 4))
        members: list[int] = []
        units_used: set[int] = set()
        first_units = [u for u, o in enumerate(unit_offices) if o == ring_office_pref]
        rnd.shuffle(first_units)
        for u in first_units[:1]:
            e = take(unit=u)
            if e is not None:
                members.append(e)
                units_used.add(u)
        while len(members) < size:
            e = take(avoid_units=units_used) if len(units_used) < len(unit_codes) else take()
            if e is None:
                break
            members.append(e)
            units_used.add(unit_of[e])
        if len(members) < 3:
            used.difference_update(members)
            break
        day = rnd.randrange(n_days)
        plant = Plant(RING, members, [day], {"office": unit_offices[unit_of[members[0]]]})
        for e in members:
            plan.cells[(e, day)] = plant
            plan.forced_mode[(e, day)] = 0
        add(plant)

    for _ in range(k):
        units = list(range(len(unit_codes)))
        rnd.shuffle(units)
        for u in units:
            if len(by_unit[u]) - used_in_unit[u] >= 4:  # keep room in the unit for other plants
                a, b = take(unit=u), take(unit=u)
                assert a is not None and b is not None
                day = rnd.randrange(n_days)
                plant = Plant(SHARED_PHONE, [a, b], [day])
                for e in (a, b):
                    plan.cells[(e, day)] = plant
                    plan.forced_mode[(e, day)] = 0
                add(plant)
                break

    not_allowed_days = [
        i for i, d in enumerate(days) if not d.wfh_allowed("")
    ]  # exemptions are per unit; the default has none
    if not_allowed_days:
        for _ in range(k):
            day = rnd.choice(not_allowed_days)
            u = rnd.randrange(len(unit_codes))
            members = [
                e for e in (take(unit=u) for _ in range(rnd.choice((1, 2)))) if e is not None
            ]
            if not members:
                continue
            plant = Plant(NOT_ALLOWED, members, [day])
            for e in members:
                plan.forced_mode[(e, day)] = 1
            add(plant)

    quota_days = [
        i
        for i, d in enumerate(days)
        if d.max_share is not None and d.max_share < 1 and d.wfh_weekday
    ]
    if quota_days:
        for _ in range(k):
            u = rnd.randrange(len(unit_codes))
            day = rnd.choice(quota_days)
            if all(day != d for d, _m in plan.quota[u]):
                plan.quota[u].append((day, 0))  # the extra count is sized per unit later
                plan.plants.append(Plant(QUOTA, [], [day], {"unit": u}))

    # Per-employee plants.
    for kind in (DUPLICATE, NO_HOME, UNKNOWN_OFFICE, NEW_HIRE, LEAVER):
        for _ in range(k):
            picked = take()
            if picked is None:
                break
            e = picked
            plant = Plant(kind, [e], [])
            if kind == DUPLICATE:
                n_dup = min(rnd.choice((3, 4)), n_days)
                plant.days = sorted(rnd.sample(range(n_days), n_dup))
                plant.extra["text"] = rnd.randrange(1 << 30)
                for d in plant.days:
                    plan.cells[(e, d)] = plant
            elif kind == NO_HOME:
                plan.no_home.add(e)
            elif kind == UNKNOWN_OFFICE:
                plan.unknown_office[e] = f"KTR-{unit_codes[unit_of[e]]}-LAMA"
            elif kind == NEW_HIRE:
                first = rnd.randrange(max(1, n_days // 3), max(2, n_days - 1))
                plan.active_days[e] = (first, n_days - 1)
            else:
                last = rnd.randrange(1, max(2, 2 * n_days // 3))
                plan.active_days[e] = (0, last)
            add(plant)

    # Per-day plants.
    for kind in DAY_PLANTS:
        for _ in range(k):
            picked = take()
            if picked is None:
                break
            e = picked
            if kind == ABSENT_STREAK:
                start = rnd.randrange(max(1, n_days - 2))
                plant_days = list(range(start, min(start + 3, n_days)))
            else:
                plant_days = [rnd.randrange(n_days)]
            plant = Plant(kind, [e], plant_days, {"variant": rnd.randrange(1 << 30)})
            for d in plant_days:
                plan.cells[(e, d)] = plant
            if kind in (TRAVEL,):
                for d in plant_days:
                    plan.forced_mode[(e, d)] = 0
            if kind in (TRAVEL_DUTY, DUTY_NO_EVENTS):
                plan.duty_days[e].extend(plant_days)
            add(plant)

    # The transfer: between two agencies other than the two largest (those lose one day's
    # check-ins or reports, see ``missing_data_days``), drawn last so that no other plant
    # changes.
    sizes = Counter(unit_of)
    small = sorted(range(len(unit_codes)), key=lambda u: (-sizes[u], u))[2:]
    pairs = [(a, b) for a in small for b in small if unit_offices[a] != unit_offices[b]]
    if pairs and n_days >= 4:
        old, new = rnd.choice(pairs)
        picked = take(unit=old)
        if picked is not None:
            first = n_days // 2
            wrong = rnd.randrange(first + 1, n_days)
            plan.transfer[picked] = (first, new, wrong)
            plant = Plant(TRANSFER, [picked], list(range(first, n_days)), {"unit": new})
            for d in plant.days:
                plan.cells[(picked, d)] = plant
                plan.forced_mode[(picked, d)] = 0
            add(plant)
    return plan
