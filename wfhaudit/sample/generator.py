"""A deterministic synthetic Pemprov Jabar with planted violations and their ground truth.

``generate_sample(out_dir, employees=..., units=..., month=..., seed=..., fmt=...)``
writes the six input tables plus ``ground_truth.csv`` and ``README.md``.

How it stays exact:

- Clean employee-days are generated so that no rule can fire: check-in 1-45
  minutes before start, check-out 0-40 minutes after end, positions 1-40 m from
  the expected place (fences are >= 100 m), one distinct device per employee,
  report texts that never repeat on more than two days for an employee, rosters
  that keep every agency at or under ``max_share`` with the day's headcount.
- Each planted anomaly (``plan.py``) owns its employee: no random leave, no
  other plant.  Its rule rows are written down where its data is made.
- Rules that follow from structure (a missing home point, an unknown office,
  an agency's WFH share, WFH rostered outside a WFH period) are counted from
  the same arrays the rows are generated from.

Same arguments give byte-identical files: all randomness comes from the seed
(``random.Random`` for the plan, ``numpy`` generators per agency), no clock.
Work is done one agency at a time and written incrementally, so memory stays
bounded by the largest agency.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import polars as pl

from wfhaudit.errors import UsageError
from wfhaudit.policy import Policy, load_policy
from wfhaudit.sample import plan as P
from wfhaudit.sample import reference as ref
from wfhaudit.sample.calendar import WorkDay, working_days
from wfhaudit.sample.geo import destination, destination_point, haversine_m
from wfhaudit.schema import TABLES

FORMATS: tuple[str, ...] = ("export", "csv", "parquet")
MIN_EMPLOYEES = 40
MIN_PER_UNIT = 5
#: employees per block of bulk rows (bounds memory for very large agencies)
BLOCK = 20_000
NOISE_MAX_M = 40.0
N_TEXTS = len(ref.REPORT_VERBS) * len(ref.REPORT_OBJECTS)  # 41 * 37, both prime
LEAVE_KINDS = ("", "CUTI", "SAKIT", "IZIN", "DINAS_LUAR", "TUGAS_BELAJAR")
DUTY = 4
#: probability of a random leave spell in the month, by kind (index of LEAVE_KINDS)
LEAVE_P = (0.80, 0.07, 0.05, 0.03, 0.045, 0.005)
GROUND_TRUTH_COLUMNS = ("nip", "unit_code", "date", "rule", "scenario")


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    office: ref.Office
    weight: float


@dataclass
class SampleInfo:
    """What ``generate_sample`` wrote."""

    out_dir: Path
    fmt: str
    month: str
    seed: int
    employees: int
    units: int
    files: list[Path]
    rows: dict[str, int]
    #: ground-truth rows per rule code
    truth: dict[str, int]
    #: planted scenarios per kind
    plants: dict[str, int]
    working_days: int = 0
    command: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# --- units, offices, employees ------------------------------------------------


#: Smallest distance of a planted impossible-travel place from the office (metres).
TRAVEL_FAR_M = 21_000.0

def make_units(n_units: int) -> list[Unit]:
    """The first ``n_units`` agencies; beyond the 30 real ones, numbered UPTDs."""
    offices = {o.office_id: o for o in ref.OFFICES}
    units = [
        Unit(a.unit_code, a.unit_name, offices[a.office_id], a.weight)
        for a in ref.AGENCIES[:n_units]
    ]
    center = offices["GEDUNG-SATE"]
    for j in range(max(0, n_units - len(ref.AGENCIES))):
        number = len(ref.AGENCIES) + j + 1
        ring, slot = divmod(j, 12)
        radius = 13_000.0 + 1500.0 * ring  # beyond the real offices (all within ~11 km)
        bearing = 2 * math.pi * slot / 12 + 0.26 * ring
        lat, lon = destination(center.lat, center.lon, radius, bearing)
        office = ref.Office(
            f"KTR-UPTD-{number:03d}",
            f"Kantor UPTD Pelayanan Wilayah {number - len(ref.AGENCIES)}",
            round(float(lat), 6),
            round(float(lon), 6),
            None,
        )
        units.append(
            Unit(
                f"UPTD-{number:03d}",
                f"UPTD Pelayanan Wilayah {number - len(ref.AGENCIES)}",
                office,
                0.6,
            )
        )
    return units


def unit_sizes(employees: int, units: list[Unit]) -> list[int]:
    """At least MIN_PER_UNIT each; the rest by weight (largest remainder)."""
    rest = employees - MIN_PER_UNIT * len(units)
    weights = np.array([u.weight for u in units])
    raw = rest * weights / weights.sum()
    sizes = np.floor(raw).astype(np.int64)
    short = rest - int(sizes.sum())
    order = np.argsort(-(raw - sizes), kind="stable")
    sizes[order[:short]] += 1
    return [int(s) + MIN_PER_UNIT for s in sizes]


def _hex_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random 16-hex-digit phone ids."""
    raw = rng.integers(0, 2**63 - 1, size=n, dtype=np.int64).view(np.uint8).reshape(n, 8)
    digits = np.array(list("0123456789abcdef"))
    chars = np.empty((n, 16), dtype="<U1")
    chars[:, 0::2] = digits[raw >> 4]
    chars[:, 1::2] = digits[raw & 15]
    return np.ascontiguousarray(chars).view("<U16").reshape(n)


@dataclass
class People:
    """Per-employee arrays (index = employee number, grouped by unit)."""

    nip: pl.Series
    name: pl.Series
    unit: np.ndarray  # unit index
    office_lat: np.ndarray  # the office the employee really works at
    office_lon: np.ndarray
    home_lat: np.ndarray  # where the employee really lives (6 decimals)
    home_lon: np.ndarray
    device: np.ndarray  # str
    text_base: np.ndarray
    text_step: np.ndarray
    frame: pl.DataFrame  # the employees table as published
    device_series: pl.Series  # ``device`` as a Polars column


def make_people(
    rng: np.random.Generator,
    units: list[Unit],
    sizes: list[int],
    year: int,
    month: int,
    plan: P.Plan,
    days: list[WorkDay],
) -> People:
    n = sum(sizes)
    unit = np.repeat(np.arange(len(units)), sizes)
    sex = rng.integers(1, 3, size=n)
    birth = np.datetime64("1966-01-01") + rng.integers(0, 35 * 365, size=n).astype("timedelta64[D]")
    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    appt_year = np.minimum(birth_year + rng.integers(21, 34, size=n), year - 1)
    appt_month = rng.integers(1, 13, size=n)
    for e, (first, _last) in plan.active_days.items():
        if first > 0:  # new hire: appointed (TMT CPNS) this month
            appt_year[e] = year
            appt_month[e] = month
    frame = pl.DataFrame(
        {
            "birth": birth.astype("datetime64[D]"),
            "appt_year": appt_year,
            "appt_month": appt_month,
            "sex": sex,
        }
    )
    prefix = frame.select(
        pl.concat_str(
            pl.col("birth").dt.strftime("%Y%m%d"),
            pl.col("appt_year").cast(pl.String),
            pl.col("appt_month").cast(pl.String).str.zfill(2),
            pl.col("sex").cast(pl.String),
        ).alias("prefix")
    )
    seq = prefix.select((pl.int_range(pl.len()).over("prefix") + 1).alias("seq"), pl.col("prefix"))
    longest = seq["seq"].max()
    if isinstance(longest, int) and longest > 999:  # pragma: no cover - needs ~10^8 employees
        raise UsageError("too many employees for unique 18-digit NIPs; use fewer employees.")
    nip = seq.select(
        pl.concat_str("prefix", pl.col("seq").cast(pl.String).str.zfill(3)).alias("nip")
    )["nip"]

    male = pl.Series(ref.MALE_FIRST)
    female = pl.Series(ref.FEMALE_FIRST)
    first_idx = rng.integers(0, len(ref.MALE_FIRST), size=n)
    names = pl.DataFrame(
        {
            "m": male.gather(first_idx % len(male)),
            "f": female.gather(first_idx % len(female)),
            "sex": sex,
            "last": pl.Series(ref.LAST).gather(rng.integers(0, len(ref.LAST), size=n)),
            "title": pl.Series(ref.TITLES).gather(rng.integers(0, len(ref.TITLES), size=n)),
        }
    ).select(
        pl.concat_str(
            pl.when(pl.col("sex") == 1).then(pl.col("m")).otherwise(pl.col("f")),
            pl.lit(" "),
            pl.col("last"),
            pl.col("title"),
        ).alias("name")
    )["name"]

    office_lat = np.array([units[u].office.lat for u in range(len(units))])[unit]
    office_lon = np.array([units[u].office.lon for u in range(len(units))])[unit]
    home_dist = 2000.0 + 18000.0 * rng.random(n) ** 1.6
    home_lat, home_lon = destination(
        office_lat, office_lon, home_dist, rng.uniform(0, 2 * math.pi, n)
    )
    home_lat = np.round(home_lat, 6)
    home_lon = np.round(home_lon, 6)
    device = _hex_ids(rng, n)
    coprime = np.array([s for s in range(1, N_TEXTS) if s % 41 and s % 37])
    text_base = rng.integers(0, N_TEXTS, size=n)
    text_step = coprime[rng.integers(0, len(coprime), size=n)]

    pub_home_lat = home_lat.copy()
    pub_home_lon = home_lon.copy()
    no_home = np.array(sorted(plan.no_home), dtype=np.int64)
    pub_home_lat[no_home] = np.nan
    pub_home_lon[no_home] = np.nan
    office_id = np.array([units[u].office.office_id for u in range(len(units))], dtype=object)[unit]
    for e, oid in plan.unknown_office.items():
        office_id[e] = oid
    active_from: list[dt.date | None] = [None] * n
    active_to: list[dt.date | None] = [None] * n
    for e, (first, last) in plan.active_days.items():
        if first > 0:
            active_from[e] = days[first].date
        if last < len(days) - 1:
            active_to[e] = days[last].date
    published = pl.DataFrame(
        {
            "nip": nip,
            "name": names,
            "unit_code": pl.Series([u.code for u in units]).gather(unit),
            "unit_name": pl.Series([u.name for u in units]).gather(unit),
            "office_id": pl.Series(office_id.tolist(), dtype=pl.String),
            "home_lat": pl.Series(pub_home_lat).fill_nan(None),
            "home_lon": pl.Series(pub_home_lon).fill_nan(None),
            "active_from": pl.Series(active_from, dtype=pl.Date),
            "active_to": pl.Series(active_to, dtype=pl.Date),
            "valid_from": pl.Series([None] * n, dtype=pl.Date),
        },
        schema=TABLES["employees"].schema,
    )
    return People(
        nip,
        names,
        unit,
        office_lat,
        office_lon,
        home_lat,
        home_lon,
        device,
        text_base,
        text_step,
        published,
        pl.Series("device_id", device, dtype=pl.String),
    )


def report_texts(idx: np.ndarray, notes: np.ndarray) -> pl.Series:
    """Report texts for text numbers ``idx`` (distinct numbers give distinct texts)."""
    frame = pl.DataFrame(
        {
            "v": pl.Series(ref.REPORT_VERBS).gather(idx % len(ref.REPORT_VERBS)),
            "o": pl.Series(ref.REPORT_OBJECTS).gather(idx % len(ref.REPORT_OBJECTS)),
            "n": pl.Series(ref.REPORT_NOTES).gather(notes % len(ref.REPORT_NOTES)),
        }
    )
    return frame.select(pl.concat_str("v", pl.lit(" "), "o", "n").alias("text"))["text"]


def copy_paste_variant(base: str, k: int) -> str:
    """The same text as typed again: changed case and spacing (normalises equal)."""
    variants = (
        base,
        base.lower() + " ",
        "  " + base.replace(" ", "  ", 2),
        base.upper(),
        base[0].lower() + base[1:],
    )
    return variants[k % len(variants)]


# --- one agency ---------------------------------------------------------------


@dataclass
class Chunk:
    attendance: pl.DataFrame
    outputs: pl.DataFrame
    roster: pl.DataFrame
    leave: pl.DataFrame
    grid: pl.DataFrame
    truth: list[tuple[str, str, dt.date, str, str]]


class _Ctx:
    """Everything the per-agency step reads."""

    def __init__(
        self,
        seed: int,
        policy: Policy,
        days: list[WorkDay],
        units: list[Unit],
        people: People,
        plan: P.Plan,
        round_coords: bool,
        grids: bool = False,
    ) -> None:
        self.seed = seed
        self.policy = policy
        self.days = days
        self.units = units
        self.people = people
        self.plan = plan
        self.round_coords = round_coords
        self.grids = grids
        self.n_days = len(days)
        self.day_dt = np.array([np.datetime64(d.date, "s") for d in days])
        self.start_s = np.array([d.start_min * 60 for d in days], dtype=np.int64)
        self.end_s = np.array([d.end_min * 60 for d in days], dtype=np.int64)
        self.dates = pl.Series("date", [d.date for d in days], dtype=pl.Date)
        offices = {u.office.office_id: u.office for u in units}
        self.offices = offices
        self.cells_by_unit: dict[int, list[tuple[int, int, P.Plant]]] = defaultdict(list)
        for (e, d), plant in plan.cells.items():
            self.cells_by_unit[int(people.unit[e])].append((e, d, plant))
        for lst in self.cells_by_unit.values():
            lst.sort(key=lambda c: (c[0], c[1]))
        self.planted = np.zeros(len(people.unit), dtype=bool)
        self.planted[list(plan.planted)] = True

    def radius(self, office_id: str) -> float:
        r = self.offices[office_id].radius_m
        return float(r) if r is not None else float(self.policy.office_radius_m)


def _leave_spells(
    rng: np.random.Generator, n: int, n_days: int, eligible: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random leave: kind code, first day index, length (kind 0 = none)."""
    kind = rng.choice(len(LEAVE_P), size=n, p=np.array(LEAVE_P))
    kind[~eligible] = 0
    max_len = np.array([0, 5, 3, 1, 3, n_days])
    length = np.minimum(1 + (rng.random(n) * max_len[kind]).astype(np.int64), n_days)
    length[kind == 5] = n_days
    length[kind == 0] = 0
    start = (rng.random(n) * np.maximum(n_days - length + 1, 1)).astype(np.int64)
    return kind, start, length


def _jitter(
    rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Points 1..NOISE_MAX_M metres from (lat, lon)."""
    dist = np.sqrt(rng.random(lat.shape) * (NOISE_MAX_M**2 - 1.0) + 1.0)
    return destination(lat, lon, dist, rng.uniform(0, 2 * math.pi, lat.shape))


def make_chunks(ctx: _Ctx, u: int, lo: int, hi: int) -> Iterator[Chunk]:  # noqa: C901
    """One agency's rows, in blocks of at most BLOCK employees (the first carries the rest)."""
    rng = np.random.default_rng([ctx.seed, 1000 + u])
    rnd = random.Random(ctx.seed * 100_003 + u)
    people, plan, days = ctx.people, ctx.plan, ctx.days
    unit = ctx.units[u]
    n, n_days = hi - lo, ctx.n_days
    planted = ctx.planted[lo:hi]

    # Who is active, who is on leave.
    active = np.ones((n, n_days), dtype=bool)
    for e, (first, last) in plan.active_days.items():
        if lo <= e < hi:
            active[e - lo, :first] = False
            active[e - lo, last + 1 :] = False
    kind, start, length = _leave_spells(rng, n, n_days, ~planted)
    cols = np.arange(n_days)
    in_spell = (cols >= start[:, None]) & (cols < (start + length)[:, None])
    leave = np.where(in_spell, kind[:, None], 0)
    leave_rows: list[tuple[int, int, int, str]] = [
        (int(e), int(start[e]), int(start[e] + length[e] - 1), LEAVE_KINDS[kind[e]])
        for e in np.nonzero(kind)[0]
    ]
    for e, duty in plan.duty_days.items():
        if lo <= e < hi:
            for d in duty:
                leave[e - lo, d] = DUTY
                leave_rows.append((e - lo, d, d, "DINAS_LUAR"))
    status = np.where(~active, 0, np.where(leave == 0, 1, np.where(leave == DUTY, 2, 3)))
    # A transferred employee leaves this agency's headcount and rotation from the transfer
    # day on; the roster (one file per agency, keyed by nip and date) still lists him WFO.
    rostered = status.copy()
    for e, (first_day, _new, _wrong) in plan.transfer.items():
        if lo <= e < hi:
            status[e - lo, first_day:] = 0
    #: employees transferred into this agency: how many count in its headcount per day
    joined = np.zeros(n_days, dtype=np.int64)
    for first_day, new, _wrong in plan.transfer.values():
        if new == u:
            joined[first_day:] += 1

    # The roster: rotate WFH among the day's available staff, never above max_share.
    mode = np.zeros((n, n_days), dtype=np.int8)
    for d, day in enumerate(days):
        if not day.wfh_allowed(unit.code) or day.max_share is None:
            continue
        if day.max_share >= 1.0:
            mode[:, d] = 1 if day.default_wfh else 0
            continue
        elig = status[:, d] == 1
        n_elig = int(elig.sum())
        if n_elig == 0:
            continue
        q = math.floor(n_elig * day.max_share)
        rank = np.cumsum(elig) - 1
        mode[:, d] = (elig & (((rank - d * q) % n_elig) < q)).astype(np.int8)
    for (e, d), m in plan.forced_mode.items():
        if lo <= e < hi:
            mode[e - lo, d] = m
    for d, _extra in plan.quota.get(u, []):
        day = days[d]
        assert day.max_share is not None
        elig = status[:, d] == 1
        n_elig = int(elig.sum())
        wfh_now = int((elig & (mode[:, d] == 1)).sum())
        needed = math.floor(n_elig * day.max_share) + 1 - wfh_now + n_elig // 10
        cands = np.nonzero(elig & (mode[:, d] == 0) & ~planted)[0]
        take = min(max(needed, 1), len(cands))
        if take:
            chosen = rng.choice(cands, size=take, replace=False)
            mode[chosen, d] = 1

    # Cells generated row by row (planted) and in bulk (everything else).
    cell_list = [c for c in ctx.cells_by_unit.get(u, [])]
    plant_mask = np.zeros((n, n_days), dtype=bool)
    for e, d, _plant in cell_list:
        plant_mask[e - lo, d] = True
    has_events = np.zeros((n, n_days), dtype=bool)

    has_events[(status == 1) & ~plant_mask] = True

    # Planted cells, row by row.
    att_rows: list[tuple[Any, ...]] = []
    out_rows: list[tuple[int, int, int, str]] = []
    truth: list[tuple[str, str, dt.date, str, str]] = []
    nips = people.nip

    def nip_of(e: int) -> str:
        return str(nips[e])

    def add_truth(e: int, d: int, rule: str, scenario: str) -> None:
        truth.append((nip_of(e), unit.code, days[d].date, rule, scenario))

    def expected_center(e: int, d: int) -> tuple[float, float]:
        if mode[e - lo, d] == 1:
            return float(people.home_lat[e]), float(people.home_lon[e])
        return float(people.office_lat[e]), float(people.office_lon[e])

    def near(lat: float, lon: float) -> tuple[float, float]:
        dist = math.sqrt(rnd.random() * (NOISE_MAX_M**2 - 1.0) + 1.0)
        return destination_point(lat, lon, dist, rnd.uniform(0, 2 * math.pi))

    def event(
        e: int,
        d: int,
        kind_: str,
        sec: int,
        pos: tuple[float | None, float | None],
        acc_m: float | None = None,
        device: str | None = None,
        fixed: bool = False,
    ) -> None:
        lat, lon = pos
        att_rows.append(
            (
                e - lo,
                d,
                0 if kind_ == "IN" else 1,
                sec,
                lat,
                lon,
                round(rnd.uniform(3.0, 20.0), 1) if acc_m is None and lat is not None else acc_m,
                device if device is not None else str(people.device[e]),
                int(mode[e - lo, d]),
                fixed,
            )
        )
        has_events[e - lo, d] = True

    def normal_in(e: int, d: int, **kw: Any) -> None:
        event(
            e,
            d,
            "IN",
            int(ctx.start_s[d]) - rnd.randint(1, 45 * 60),
            near(*expected_center(e, d)),
            **kw,
        )

    def normal_out(e: int, d: int, **kw: Any) -> None:
        event(
            e,
            d,
            "OUT",
            int(ctx.end_s[d]) + rnd.randint(0, 40 * 60 - 1),
            near(*expected_center(e, d)),
            **kw,
        )

    def text_of(e: int, d: int) -> str:
        i = int((people.text_base[e] + d * people.text_step[e]) % N_TEXTS)
        verb = ref.REPORT_VERBS[i % len(ref.REPORT_VERBS)]
        obj = ref.REPORT_OBJECTS[i % len(ref.REPORT_OBJECTS)]
        return f"{verb} {obj}{ref.REPORT_NOTES[rnd.randrange(len(ref.REPORT_NOTES))]}"

    def report(e: int, d: int, sec: int | None = None, text: str | None = None) -> None:
        if sec is None:
            sec = rnd.randint(int(ctx.end_s[d]) - 3600, 23 * 3600 + 1800)
        out_rows.append((e - lo, d, sec, text if text is not None else text_of(e, d)))

    for e, d, plant in cell_list:
        k = plant.kind
        variant = int(plant.extra.get("variant", 0))  # type: ignore[call-overload]
        if k in (P.ABSENT, P.ABSENT_STREAK):
            add_truth(e, d, "ABSENT", k)
            add_truth(e, d, "NO_DAILY_OUTPUT", k)
        elif k == P.ABSENT_REPORTED:
            report(e, d)
            add_truth(e, d, "ABSENT", k)
        elif k == P.MISSING_CHECKIN:
            normal_out(e, d)
            report(e, d)
            add_truth(e, d, "MISSING_CHECKIN", k)
        elif k == P.MISSING_CHECKOUT:
            normal_in(e, d)
            report(e, d)
            add_truth(e, d, "MISSING_CHECKOUT", k)
        elif k == P.LATE:
            sec = int(ctx.start_s[d]) + rnd.randint(8, 150) * 60 + rnd.randint(0, 59)
            event(e, d, "IN", sec, near(*expected_center(e, d)))
            normal_out(e, d)
            report(e, d)
            add_truth(e, d, "LATE", k)
        elif k == P.EARLY:
            normal_in(e, d)
            sec = int(ctx.end_s[d]) - rnd.randint(10, 150) * 60 + rnd.randint(0, 59)
            event(e, d, "OUT", sec, near(*expected_center(e, d)))
            report(e, d)
            add_truth(e, d, "EARLY_LEAVE", k)
        elif k == P.WRONG_PLACE:
            if mode[e - lo, d] == 1:  # WFH, but at a cafe 1-4 km from home
                a, b = destination(
                    people.home_lat[e],
                    people.home_lon[e],
                    rnd.uniform(1000, 4000),
                    rnd.uniform(0, 2 * math.pi),
                )
                center = (float(a), float(b))
            else:  # WFO, but checked in from home
                center = (float(people.home_lat[e]), float(people.home_lon[e]))
            event(e, d, "IN", int(ctx.start_s[d]) - rnd.randint(1, 45 * 60), near(*center))
            event(e, d, "OUT", int(ctx.end_s[d]) + rnd.randint(0, 40 * 60 - 1), near(*center))
            report(e, d)
            add_truth(e, d, "WRONG_LOCATION", k)
        elif k == P.NO_GPS:
            pos: tuple[float | None, float | None] = (0.0, 0.0) if variant % 2 else (None, None)
            event(e, d, "IN", int(ctx.start_s[d]) - rnd.randint(1, 45 * 60), pos, fixed=True)
            event(e, d, "OUT", int(ctx.end_s[d]) + rnd.randint(0, 40 * 60 - 1), pos, fixed=True)
            report(e, d)
            add_truth(e, d, "NO_LOCATION", k)
        elif k == P.NO_REPORT:
            normal_in(e, d)
            normal_out(e, d)
            add_truth(e, d, "NO_DAILY_OUTPUT", k)
        elif k == P.SHORT_REPORT:
            normal_in(e, d)
            normal_out(e, d)
            report(e, d, text=ref.SHORT_TEXTS[variant % len(ref.SHORT_TEXTS)])
            add_truth(e, d, "NO_DAILY_OUTPUT", k)
        elif k == P.LATE_REPORT:
            normal_in(e, d)
            normal_out(e, d)
            report(e, d, sec=86400 + rnd.randint(6 * 3600, 11 * 3600))
            add_truth(e, d, "LATE_DAILY_OUTPUT", k)
        elif k in (P.TRAVEL, P.TRAVEL_DUTY):
            office = (float(people.office_lat[e]), float(people.office_lon[e]))
            # The far place must be out of reach in the largest gap (8 min at 150 km/h =
            # 20 km): numbered UPTD offices can lie near one of the towns, so take the
            # first place from this variant on that is far enough from the office.
            places = ref.FAR_PLACES[variant % len(ref.FAR_PLACES) :] + ref.FAR_PLACES
            name, flat, flon = next(
                p for p in places if float(haversine_m(p[1], p[2], *office)) > TRAVEL_FAR_M
            )
            far = near(flat, flon)
            there = near(*office)
            t0 = int(ctx.start_s[d]) - rnd.randint(20, 40) * 60
            gap = rnd.randint(3 * 60, 8 * 60)
            speed = float(haversine_m(far[0], far[1], there[0], there[1])) / gap * 3.6
            assert speed > 150, (name, speed)
            event(e, d, "IN", t0, far)
            if k == P.TRAVEL:
                event(e, d, "IN", t0 + gap, there)
                normal_out(e, d)
                add_truth(e, d, "WRONG_LOCATION", k)
                add_truth(e, d, "IMPOSSIBLE_TRAVEL", k)
            else:  # a flight on a DINAS_LUAR day is the duty: no finding at all (v2)
                event(e, d, "OUT", t0 + gap, there)
            report(e, d)
        elif k == P.EDGE_TIMES:
            event(
                e, d, "IN", int(ctx.start_s[d]) + rnd.randint(0, 59), near(*expected_center(e, d))
            )
            event(e, d, "OUT", int(ctx.end_s[d]) + rnd.randint(0, 59), near(*expected_center(e, d)))
            report(e, d)
        elif k == P.EDGE_ACCURACY:
            if mode[e - lo, d] == 1:
                radius = float(ctx.policy.home_radius_m)
            else:
                radius = ctx.radius(unit.office.office_id)
            allowance = min(35.0, float(ctx.policy.accuracy_allowance_max_m))
            c_lat0, c_lon0 = expected_center(e, d)
            a, b = destination(
                c_lat0, c_lon0, radius + allowance - 15.0, rnd.uniform(0, 2 * math.pi)
            )
            event(
                e,
                d,
                "IN",
                int(ctx.start_s[d]) - rnd.randint(1, 45 * 60),
                (float(a), float(b)),
                acc_m=35.0,
            )
            normal_out(e, d)
            report(e, d)
        elif k == P.EDGE_REPORTS:
            normal_in(e, d)
            normal_out(e, d)
            report(
                e,
                d,
                sec=rnd.randint(11 * 3600, 13 * 3600),
                text=ref.SHORT_TEXTS[variant % len(ref.SHORT_TEXTS)],
            )
            report(e, d, sec=23 * 3600 + 59 * 60 + rnd.randint(0, 50))
        elif k == P.DUTY_NO_EVENTS:
            report(e, d)
        elif k == P.DUPLICATE:
            normal_in(e, d)
            normal_out(e, d)
            text_no = int(plant.extra["text"])  # type: ignore[call-overload]
            base = ref.COPY_PASTE_TEXTS[text_no % len(ref.COPY_PASTE_TEXTS)]
            report(e, d, text=copy_paste_variant(base, plant.days.index(d) + text_no))
            add_truth(e, d, "DUPLICATE_OUTPUT", k)
        elif k == P.RING:
            ring_office = ctx.offices[str(plant.extra["office"])]
            spot = (ring_office.lat, ring_office.lon)
            acc_fake = round(rnd.uniform(3.0, 5.0), 1)
            event(
                e,
                d,
                "IN",
                int(ctx.start_s[d]) - rnd.randint(1, 45 * 60),
                spot,
                acc_m=acc_fake,
                fixed=True,
            )
            event(
                e,
                d,
                "OUT",
                int(ctx.end_s[d]) + rnd.randint(0, 40 * 60 - 1),
                spot,
                acc_m=acc_fake,
                fixed=True,
            )
            report(e, d)
            add_truth(e, d, "SHARED_COORDINATES", k)
            if ring_office.office_id != unit.office.office_id:
                add_truth(e, d, "WRONG_LOCATION", k)
        elif k == P.TRANSFER:
            _first, new, wrong = plan.transfer[e]
            where = ctx.units[new].office if d != wrong else unit.office  # wrong: the old one
            at = (where.lat, where.lon)
            event(e, d, "IN", int(ctx.start_s[d]) - rnd.randint(1, 45 * 60), near(*at))
            event(e, d, "OUT", int(ctx.end_s[d]) + rnd.randint(0, 40 * 60 - 1), near(*at))
            report(e, d)
            if d == wrong:  # at the old office: a finding under the NEW agency
                truth.append((nip_of(e), ctx.units[new].code, days[d].date, "WRONG_LOCATION", k))
        elif k == P.SHARED_PHONE:
            owner = plant.employees[0]
            normal_in(e, d, device=str(people.device[owner]))
            normal_out(e, d, device=str(people.device[owner]))
            report(e, d)
            add_truth(e, d, "SHARED_DEVICE", k)
        else:  # pragma: no cover - every cell plant is handled above
            raise AssertionError(k)

    # Rules that follow from structure, counted from the arrays the rows came from.
    for e in plan.no_home:
        if lo <= e < hi:
            wfh_days = (status[e - lo] == 1) & (mode[e - lo] == 1) & has_events[e - lo]
            for day_no in np.nonzero(wfh_days)[0].tolist():
                add_truth(e, day_no, "HOME_UNREGISTERED", P.NO_HOME)
    # plan.unknown_office: no finding (v2): a data-quality item of the audit, not a fault
    # of the employee's
    for d, day in enumerate(days):
        headcount = int((status[:, d] == 1).sum()) + int(joined[d])  # joiners work WFO
        wfh = int(((status[:, d] == 1) & (mode[:, d] == 1)).sum())
        if day.max_share is not None and headcount and wfh / headcount > day.max_share:
            truth.append(("", unit.code, day.date, "WFH_QUOTA_EXCEEDED", P.QUOTA))
        if not day.wfh_allowed(unit.code) and bool(((status[:, d] != 0) & (mode[:, d] == 1)).any()):
            truth.append(("", unit.code, day.date, "WFH_NOT_ALLOWED", P.NOT_ALLOWED))

    # Frames: planted rows once, bulk rows per block of employees.
    att_planted = pl.DataFrame(
        att_rows,
        schema={
            "e": pl.Int64,
            "d": pl.Int64,
            "kind": pl.Int8,
            "sec": pl.Int64,
            "lat": pl.Float64,
            "lon": pl.Float64,
            "accuracy_m": pl.Float64,
            "device_id": pl.String,
            "mode": pl.Int8,
            "fixed": pl.Boolean,
        },
        orient="row",
    )
    att_planted = att_planted.with_columns(
        ts=_timestamps(ctx, att_planted["d"].to_numpy(), att_planted["sec"].to_numpy())
    ).drop("sec")
    out_planted = pl.DataFrame(
        out_rows,
        schema={"e": pl.Int64, "d": pl.Int64, "sec": pl.Int64, "text": pl.String},
        orient="row",
    )
    out_planted = out_planted.with_columns(
        submitted_at=_timestamps(ctx, out_planted["d"].to_numpy(), out_planted["sec"].to_numpy())
    ).drop("sec")
    leave_df = pl.DataFrame(
        {
            "nip": [nip_of(lo + r[0]) for r in leave_rows],
            "start": [days[r[1]].date for r in leave_rows],
            "end": [days[r[2]].date for r in leave_rows],
            "kind": [r[3] for r in leave_rows],
        },
        schema=TABLES["leave"].schema,
    ).sort("nip", "start")
    grid = pl.DataFrame()
    if ctx.grids:
        grid_cols: dict[str, Any] = {"NIP": nips.slice(lo, n), "Nama": people.name.slice(lo, n)}
        for d, day in enumerate(days):
            grid_cols[day.date.isoformat()] = pl.Series(
                np.where(mode[:, d] == 1, "WFH", "WFO"), dtype=pl.String
            ).zip_with(pl.Series(rostered[:, d] != 0), pl.Series([None] * n, dtype=pl.String))
        grid = pl.DataFrame(grid_cols)
    nips_local = nips.slice(lo, n)
    devices_local = people.device_series.slice(lo, n)

    check_in_at = _places(plan, mode, lo)
    for block_no, b0 in enumerate(range(0, n, BLOCK)):
        b1 = min(n, b0 + BLOCK)
        rng = np.random.default_rng([ctx.seed, 1000 + u, 1 + block_no])
        sub_status = status[b0:b1]
        sub_mode = mode[b0:b1]
        sub_plant = plant_mask[b0:b1]
        attendance_bulk, outputs_bulk = _bulk_rows(
            ctx, rng, lo + b0, sub_status, check_in_at[b0:b1], sub_plant
        )
        attendance_bulk = attendance_bulk.with_columns(pl.col("e") + b0)
        outputs_bulk = outputs_bulk.with_columns(pl.col("e") + b0)
        attendance = pl.concat(
            [
                attendance_bulk.with_columns(device_id=devices_local.gather(attendance_bulk["e"])),
                att_planted.filter(pl.col("e").is_between(b0, b1 - 1)),
            ],
            how="diagonal_relaxed",
        )
        if ctx.round_coords:
            attendance = attendance.with_columns(pl.col("lat").round(7), pl.col("lon").round(7))
            attendance = _separate_coincident(attendance)
        attendance = attendance.sort("e", "ts", "kind")
        attendance = attendance.select(
            nip=nips_local.gather(attendance["e"]),
            ts="ts",
            kind=pl.col("kind").replace_strict([0, 1], ["IN", "OUT"], return_dtype=pl.String),
            lat="lat",
            lon="lon",
            accuracy_m="accuracy_m",
            device_id="device_id",
            mode=pl.col("mode").replace_strict([0, 1], ["WFO", "WFH"], return_dtype=pl.String),
        )
        outputs = pl.concat(
            [outputs_bulk, out_planted.filter(pl.col("e").is_between(b0, b1 - 1))],
            how="diagonal_relaxed",
        )
        outputs = outputs.sort("e", "d", "submitted_at")
        outputs = outputs.select(
            nip=nips_local.gather(outputs["e"]),
            date=ctx.dates.gather(outputs["d"]),
            submitted_at="submitted_at",
            text="text",
        )
        ae, ad = np.nonzero(rostered[b0:b1] != 0)
        roster = pl.DataFrame(
            {
                "nip": nips_local.gather(ae + b0),
                "date": ctx.dates.gather(ad),
                "mode": pl.Series(sub_mode[ae, ad]).replace_strict(
                    [0, 1], ["WFO", "WFH"], return_dtype=pl.String
                ),
            }
        )
        first = block_no == 0
        yield Chunk(
            attendance,
            outputs,
            roster,
            leave_df if first else leave_df.clear(),
            grid if first else pl.DataFrame(),
            truth if first else [],
        )


def _timestamps(ctx: _Ctx, day: np.ndarray, seconds: np.ndarray) -> pl.Series:
    """Local timestamps: working day number + seconds after its midnight."""
    stamps = ctx.day_dt[day.astype(np.int64)] + seconds.astype("timedelta64[s]")
    return pl.Series(stamps.astype("datetime64[us]"), dtype=pl.Datetime("us"))


def _places(plan: P.Plan, mode: np.ndarray, lo: int) -> np.ndarray:
    """Where each employee-day checks in (0 office, 1 home): the mode, except that the first
    employee of each stale WFH roster (``not_allowed``: rostered WFH on a day WFH is not
    allowed) went to the office; the others stayed home.  v2 accepts both: no finding,
    only the agency's ``WFH_NOT_ALLOWED``."""
    place = mode.copy()
    for plant in plan.plants:
        if plant.kind == P.NOT_ALLOWED and lo <= plant.employees[0] < lo + len(mode):
            for d in plant.days:
                place[plant.employees[0] - lo, d] = 0
    return place


def _bulk_rows(
    ctx: _Ctx,
    rng: np.random.Generator,
    first: int,
    status: np.ndarray,
    mode: np.ndarray,
    plant_mask: np.ndarray,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Attendance and reports of the clean (unplanted) cells of a block of employees.

    ``first`` is the global number of the block's first employee; ``e`` in the
    frames counts from 0 within the block.
    """
    people = ctx.people
    n = status.shape[0]
    lo, hi = first, first + n
    home_lat, home_lon = people.home_lat[lo:hi], people.home_lon[lo:hi]
    off_lat, off_lon = people.office_lat[lo:hi], people.office_lon[lo:hi]

    # Bulk: required days.
    ei, di = np.nonzero((status == 1) & ~plant_mask)
    m = mode[ei, di]
    c_lat = np.where(m == 1, home_lat[ei], off_lat[ei])
    c_lon = np.where(m == 1, home_lon[ei], off_lon[ei])
    in_s = ctx.start_s[di] - rng.integers(1, 45 * 60 + 1, size=len(ei))
    out_s = ctx.end_s[di] + rng.integers(0, 40 * 60, size=len(ei))
    in_lat, in_lon = _jitter(rng, c_lat, c_lon)
    out_lat, out_lon = _jitter(rng, c_lat, c_lon)
    acc = np.round(rng.uniform(3.0, 20.0, size=(2, len(ei))), 1)
    # Bulk: duty days (DINAS_LUAR): 60% check in at the trip's town.
    de, dd = np.nonzero((status == 2) & ~plant_mask)
    checked = rng.random(len(de)) < 0.6
    de, dd = de[checked], dd[checked]
    place = rng.integers(0, len(ref.FAR_PLACES), size=len(de))
    far_lat = np.array([p[1] for p in ref.FAR_PLACES])[place]
    far_lon = np.array([p[2] for p in ref.FAR_PLACES])[place]
    d_lat, d_lon = _jitter(rng, far_lat, far_lon)
    d_s = ctx.start_s[dd] + rng.integers(-30 * 60, 90 * 60, size=len(de))

    e_all = np.concatenate([ei, ei, de])
    d_all = np.concatenate([di, di, dd])
    secs = np.concatenate([in_s, out_s, d_s])
    attendance_bulk = pl.DataFrame(
        {
            "e": e_all,
            "d": d_all,
            "ts": (ctx.day_dt[d_all] + secs.astype("timedelta64[s]")).astype("datetime64[us]"),
            "kind": np.concatenate(
                [np.zeros(len(ei), np.int8), np.ones(len(ei), np.int8), np.zeros(len(de), np.int8)]
            ),
            "lat": np.concatenate([in_lat, out_lat, d_lat]),
            "lon": np.concatenate([in_lon, out_lon, d_lon]),
            "accuracy_m": np.concatenate(
                [acc[0], acc[1], np.round(rng.uniform(3.0, 20.0, len(de)), 1)]
            ),
            "mode": mode[e_all, d_all].astype(np.int8),
            "fixed": np.zeros(len(e_all), dtype=bool),
        }
    )

    # Bulk: daily reports for required and duty days.
    re_, rd = np.nonzero(((status == 1) | (status == 2)) & ~plant_mask)
    t_idx = (people.text_base[lo + re_] + rd * people.text_step[lo + re_]) % N_TEXTS
    sub = (
        ctx.end_s[rd]
        - 3600
        + rng.integers(0, 23 * 3600 + 1800 - (ctx.end_s[rd] - 3600), size=len(re_))
    )
    second = rng.random(len(re_)) < 0.08
    r2e, r2d = re_[second], rd[second]
    sub2 = sub[second] - rng.integers(600, 3 * 3600, size=int(second.sum()))
    t2_idx = (t_idx[second] + 700) % N_TEXTS
    outputs_bulk = pl.DataFrame(
        {
            "e": np.concatenate([re_, r2e]),
            "d": np.concatenate([rd, r2d]),
            "submitted_at": (
                ctx.day_dt[np.concatenate([rd, r2d])]
                + np.concatenate([sub, sub2]).astype("timedelta64[s]")
            ).astype("datetime64[us]"),
            "text": report_texts(
                np.concatenate([t_idx, t2_idx]),
                rng.integers(0, len(ref.REPORT_NOTES), size=len(re_) + len(r2e)),
            ),
        }
    )

    return attendance_bulk, outputs_bulk


def _separate_coincident(attendance: pl.DataFrame) -> pl.DataFrame:
    """Nudge rounded points that two employees happen to share on a day (not planted ones)."""
    key = [pl.col("d"), pl.col("lat"), pl.col("lon")]
    flagged = attendance.with_columns(
        clash=(pl.col("e").n_unique().over(key) > 1)
        & ~pl.col("fixed")
        & pl.col("lat").is_not_null(),
        rank=pl.col("e").rank("dense").over(key),
    )
    if not flagged["clash"].any():
        return attendance
    return flagged.with_columns(
        lat=pl.when("clash").then((pl.col("lat") + pl.col("rank") * 1e-7).round(7)).otherwise("lat")
    ).drop("clash", "rank")


# --- writing --------------------------------------------------------------------

KMOB_HEADERS = (
    "NIP",
    "Nama",
    "Tanggal",
    "Jam",
    "Jenis",
    "Latitude",
    "Longitude",
    "Akurasi",
    "ID Perangkat",
    "Mode",
)


def _comma(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.String).str.replace(".", ",", literal=True)


def to_kmob(attendance: pl.DataFrame, names: pl.DataFrame) -> pl.DataFrame:
    """Canonical attendance as the K-Mob export (``kmob`` profile)."""
    return attendance.join(names, on="nip", how="left", maintain_order="left").select(
        pl.col("nip").alias("NIP"),
        pl.col("name").alias("Nama"),
        pl.col("ts").dt.strftime("%d/%m/%Y").alias("Tanggal"),
        pl.col("ts").dt.strftime("%H:%M:%S").alias("Jam"),
        pl.col("kind").replace_strict({"IN": "Masuk", "OUT": "Pulang"}).alias("Jenis"),
        _comma("lat").alias("Latitude"),
        _comma("lon").alias("Longitude"),
        _comma("accuracy_m").alias("Akurasi"),
        pl.col("device_id").alias("ID Perangkat"),
        pl.col("mode").alias("Mode"),
    )


class _Writer:
    """Writes tables incrementally in the chosen format."""

    def __init__(self, out_dir: Path, fmt: str, month: str) -> None:
        self.out_dir = out_dir
        self.fmt = fmt
        self.month = month
        self.handles: dict[str, IO[bytes]] = {}
        self.parquet: dict[str, Any] = {}
        self.files: dict[str, Path] = {}
        self.rows: Counter[str] = Counter()
        self.grids: list[Path] = []

    def path(self, kind: str) -> Path:
        if self.fmt == "parquet":
            return self.out_dir / f"{kind}.parquet"
        if self.fmt == "export" and kind == "attendance":
            return self.out_dir / f"attendance-kmob-{self.month}.csv"
        return self.out_dir / f"{kind}.csv"

    def write(self, kind: str, df: pl.DataFrame, names: pl.DataFrame | None = None) -> None:
        self.rows[kind] += df.height
        if self.fmt == "export" and kind == "roster":
            return  # written as grids
        path = self.path(kind)
        self.files[kind] = path
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            table = df.to_arrow()
            if kind not in self.parquet:
                self.parquet[kind] = pq.ParquetWriter(path, table.schema, compression="zstd")
            self.parquet[kind].write_table(table)
            return
        first = kind not in self.handles
        if first:
            self.handles[kind] = path.open("wb")
        out = df
        separator = ","
        if self.fmt == "export" and kind == "attendance":
            assert names is not None
            out = to_kmob(df, names)
            separator = ";"
        out.write_csv(
            self.handles[kind],
            include_header=first,
            separator=separator,
            datetime_format="%Y-%m-%d %H:%M:%S",
            date_format="%Y-%m-%d",
        )

    def write_grid(self, unit_code: str, grid: pl.DataFrame) -> None:
        import xlsxwriter

        path = self.out_dir / "roster" / f"{unit_code}.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        workbook = xlsxwriter.Workbook(str(path))
        workbook.set_properties(
            {
                "title": f"Jadwal WFH {unit_code} {self.month}",
                "author": "wfhaudit sample",
                "created": dt.datetime(2000, 1, 1),
            }
        )
        grid.write_excel(
            workbook, "Jadwal", table_style=None, autofilter=False, column_widths={"Nama": 220}
        )
        workbook.close()
        self.grids.append(path)

    def close(self) -> list[Path]:
        for handle in self.handles.values():
            handle.close()
        for writer in self.parquet.values():
            writer.close()
        return sorted(self.files.values()) + sorted(self.grids)


# --- the entry point ------------------------------------------------------------


#: Rules that read a day's check-ins: none of them applies where the agency's export is
#: missing (v2, ``rules.md``: missing data is not absence).
ATTENDANCE_READING_RULES = frozenset(
    {"ABSENT", "MISSING_CHECKIN", "MISSING_CHECKOUT", "LATE", "EARLY_LEAVE", "WRONG_LOCATION",
     "NO_LOCATION", "HOME_UNREGISTERED", "IMPOSSIBLE_TRAVEL", "SHARED_DEVICE",
     "SHARED_COORDINATES"}
)
#: The output rules, skipped where the agency's reports are missing.
OUTPUT_RULES = frozenset({"NO_DAILY_OUTPUT", "LATE_DAILY_OUTPUT"})
#: Scenario names of the two missing-data plants (ground truth, README).
MISSING_EXPORT = "missing_export"  # an agency's check-ins absent from one day's export
MISSING_REPORTS = "missing_reports"  # an agency's reports absent on one day


def missing_data_days(
    plan: P.Plan, sizes: list[int], unit_of: list[int], n_days: int
) -> tuple[tuple[int, int], tuple[int, int]]:
    """``(unit, day)`` whose check-ins the export lacks, and ``(unit, day)`` whose reports are
    missing: the two largest agencies (at least ``gap_min_employees`` staff), on days no
    plant spanning several employees or days (ring, shared phone, duplicate texts) uses and
    none of the agency's own plants, so that dropping the rows changes no other finding."""
    busy = {
        d for p in plan.plants if p.kind in (P.RING, P.SHARED_PHONE, P.DUPLICATE) for d in p.days
    }
    order = sorted(range(len(sizes)), key=lambda u: (-sizes[u], u))

    def pick(unit: int, avoid: set[int]) -> int:
        own = {d for (e, d) in plan.cells if unit_of[e] == unit}
        own |= {d for p in plan.plants if p.kind == P.QUOTA and p.extra.get("unit") == unit
                for d in p.days}
        free = [d for d in range(1, n_days - 1) if d not in busy | own | avoid]
        free = free or [d for d in range(n_days) if d not in avoid] or [0]
        return free[len(free) // 2]

    first_day = pick(order[0], set())
    second_unit = order[1] if len(order) > 1 else order[0]
    second_day = pick(second_unit, {first_day} if second_unit == order[0] else set())
    return (order[0], first_day), (second_unit, second_day)


def _drop_day(
    frame: pl.DataFrame, column: str, day: dt.date, truth: list, code: str, rules: frozenset
) -> tuple[pl.DataFrame, list]:
    """``frame`` without its rows of ``day`` (by ``column``), and ``truth`` without the
    findings of agency ``code`` on ``day`` that those rows decided."""
    on_day = pl.col(column).dt.date() if frame.schema[column] != pl.Date else pl.col(column)
    kept = [t for t in truth if not (t[1] == code and t[2] == day and t[3] in rules)]
    return frame.filter(on_day != day), kept


#: What the K-Mob export holds in the accuracy cell of one check-in: the ingest blanks the
#: cell (``action = blanked`` in the rejects) and keeps the row; the check-in, well inside
#: its fence, gives no finding (v2: one bad optional cell never costs the check-in).
BAD_ACCURACY = "tidak terbaca"


def nips_of(people: People, employees: list[int]) -> list[str]:
    """The nips of the employees (indexes) of ``people``."""
    nips = people.frame.get_column("nip")
    return [str(nips[e]) for e in employees]


def _plant_bad_cell(path: Path, planted: set[str]) -> None:
    """Replace the accuracy cell of the first check-in of an unplanted employee in the K-Mob
    export at ``path`` with ``BAD_ACCURACY``."""
    lines = path.read_text(encoding="utf-8").split("\n")
    header = lines[0].split(";")
    column = header.index("Akurasi")
    for i, line in enumerate(lines[1:], start=1):
        cells = line.split(";")
        if len(cells) == len(header) and cells[0] not in planted and cells[column]:
            cells[column] = BAD_ACCURACY
            lines[i] = ";".join(cells)
            break
    path.write_text("\n".join(lines), encoding="utf-8")


def transfer_rows(
    people: People, units: list[Unit], plan: P.Plan, days: list[WorkDay]
) -> pl.DataFrame:
    """The employees rows of the planted transfers: the new agency and office, valid from
    the transfer day."""
    rows = [
        people.frame.slice(e, 1).with_columns(
            unit_code=pl.lit(units[new].code),
            unit_name=pl.lit(units[new].name),
            office_id=pl.lit(units[new].office.office_id),
            valid_from=pl.lit(days[first].date, dtype=pl.Date),
        )
        for e, (first, new, _wrong) in sorted(plan.transfer.items())
    ]
    return pl.concat(rows) if rows else people.frame.clear()


def generate_sample(
    out_dir: Path | str,
    *,
    employees: int = 300,
    units: int = 12,
    month: str = "2025-12",
    seed: int = 1,
    fmt: str = "export",
    policy: Policy | None = None,
    progress: Callable[[str], None] | None = None,
) -> SampleInfo:
    """Write a synthetic data set with planted violations and ``ground_truth.csv``."""
    from wfhaudit.sample.calendar import parse_month
    from wfhaudit.sample.readme import write_readme

    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of export, csv, parquet.")
    year, mon = parse_month(month)
    if units < 1:
        raise UsageError("--units must be at least 1.")
    least = max(MIN_EMPLOYEES, MIN_PER_UNIT * units)
    if employees < least:
        raise UsageError(
            f"--employees {employees} is too few: give at least {least} ({MIN_PER_UNIT} per "
            f"agency, {MIN_EMPLOYEES} in all) so every violation can be planted."
        )
    if seed < 0:
        raise UsageError("--seed must be 0 or more.")
    policy = policy or load_policy(None)
    days = working_days(month, policy)
    if not days:
        raise UsageError(f"{month} has no working days under the policy; choose another --month.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if (out / "roster").is_dir():
        shutil.rmtree(out / "roster")  # stale grids of an earlier run would be ingested too

    unit_list = make_units(units)
    sizes = unit_sizes(employees, unit_list)
    unit_of = np.repeat(np.arange(units), sizes)
    plan = P.make_plan(
        random.Random(seed),
        unit_of.tolist(),
        [u.code for u in unit_list],
        [u.office.office_id for u in unit_list],
        days,
    )
    people = make_people(np.random.default_rng([seed, 1]), unit_list, sizes, year, mon, plan, days)
    ctx = _Ctx(
        seed,
        policy,
        days,
        unit_list,
        people,
        plan,
        round_coords=fmt != "parquet",
        grids=fmt == "export",
    )

    writer = _Writer(out, fmt, month)
    # a SIMPEG export has no valid_from column: the analyst gives it (--valid-from)
    writer.write("employees", people.frame.drop("valid_from") if fmt == "export" else people.frame)
    moved = transfer_rows(people, unit_list, plan, days)
    if moved.height:
        if fmt == "export":  # the second snapshot: the transferred employee's new row
            path = out / f"employees-{moved['valid_from'][0].isoformat()}.csv"
            moved.drop("valid_from").write_csv(path, date_format="%Y-%m-%d")
            writer.files["employees-transfer"] = path
        else:  # canonical: the history row itself
            writer.write("employees", moved)
    office_rows = {u.office.office_id: u.office for u in unit_list}
    writer.write(
        "offices",
        pl.DataFrame(
            [(o.office_id, o.name, o.lat, o.lon, o.radius_m) for o in office_rows.values()],
            schema=TABLES["offices"].schema,
            orient="row",
        ),
    )
    names = people.frame.select("nip", "name")
    truth: list[tuple[str, str, dt.date, str, str]] = []
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    (gap_unit, gap_day), (quiet_unit, quiet_day) = missing_data_days(
        plan, sizes, unit_of.tolist(), len(days)
    )
    for u in range(units):
        if progress is not None:
            progress(f"agency {u + 1}/{units} ({unit_list[u].code}, {sizes[u]} employees)")
        unit_names = names.slice(int(bounds[u]), sizes[u])
        code = unit_list[u].code
        for chunk in make_chunks(ctx, u, int(bounds[u]), int(bounds[u + 1])):
            attendance, outputs, found = chunk.attendance, chunk.outputs, chunk.truth
            if u == gap_unit:  # the K-Mob export lacks this agency on one day
                attendance, found = _drop_day(
                    attendance, "ts", days[gap_day].date, found, code, ATTENDANCE_READING_RULES
                )
            if u == quiet_unit:  # and its daily reports are missing on another
                outputs, found = _drop_day(
                    outputs, "date", days[quiet_day].date, found, code, OUTPUT_RULES
                )
            writer.write("attendance", attendance, unit_names)
            writer.write("roster", chunk.roster)
            writer.write("outputs", outputs)
            writer.write("leave", chunk.leave)
            if fmt == "export" and chunk.grid.width:
                writer.write_grid(unit_list[u].code, chunk.grid)
            truth.extend(found)
        if u == gap_unit:
            truth.append(
                ("", code, days[gap_day].date, "ATTENDANCE_DATA_MISSING", MISSING_EXPORT)
            )
        if u == quiet_unit:
            truth.append(("", code, days[quiet_day].date, "OUTPUT_DATA_MISSING", MISSING_REPORTS))
    files = writer.close()
    if fmt == "export":
        planted = set(nips_of(people, sorted(plan.planted)))
        _plant_bad_cell(writer.path("attendance"), planted)

    truth_schema = {c: (pl.Date if c == "date" else pl.String) for c in GROUND_TRUTH_COLUMNS}
    truth_df = pl.DataFrame(truth, schema=truth_schema, orient="row").sort(
        pl.col("nip") == "", "unit_code", "nip", "date", "rule"
    )
    truth_path = out / "ground_truth.csv"
    truth_df.write_csv(truth_path, date_format="%Y-%m-%d")
    files.append(truth_path)

    plant_counts = Counter(p.kind for p in plan.plants)
    info = SampleInfo(
        out_dir=out,
        fmt=fmt,
        month=month,
        seed=seed,
        employees=employees,
        units=units,
        files=files,
        rows=dict(writer.rows),
        truth=dict(sorted(Counter(truth_df["rule"].to_list()).items())),
        plants=dict(sorted(plant_counts.items())),
        working_days=len(days),
        command=(
            f"wfhaudit sample --employees {employees} --units {units} --month {month} "
            f"--seed {seed} --format {fmt} --out {out.name or out}"
        ),
        extra={
            "units": [(u.code, u.name, s) for u, s in zip(unit_list, sizes, strict=True)],
            "first_day": days[0].date,
            "last_day": days[-1].date,
            #: (valid_from, nip, old unit code, new unit code) of each planted transfer
            "transfers": [
                (days[first].date, nips_of(people, [e])[0], unit_list[int(unit_of[e])].code,
                 unit_list[new].code)
                for e, (first, new, _wrong) in sorted(plan.transfer.items())
            ],
        },
    )
    readme = write_readme(info)
    info.files.append(readme)
    return info
