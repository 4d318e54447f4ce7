"""The employee-day frame: every fact a rule needs, built once per audit.

One row per audited employee-day ``(nip, date)``: an employee active on a
working day of the period before the as-of date (``rules.md``).  Beside it:

- ``events``: the attendance rows of those employee-days (keyed by ``ed_key``), each with its
  distance to the expected place and whether it is outside the fence;
- ``reports``: the daily reports of those employee-days, each with its
  validity.

Integrity rules need the event and report rows; all other rules read only the
employee-day frame.  The frames are built with lazy Polars and collected once
each; a caller may build them for any set of days (e.g. one partition of a
long period) and concatenate the results.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from wfhaudit.audit.inputs import AuditInputs
from wfhaudit.audit.spans import (
    ATTENDANCE_SPAN,
    FORCE_FROM,
    FORCE_TO,
    HISTORY_FROM,
    OUTPUT_SPAN,
    active_on,
    agency_spans,
    in_force,
    on_day,
)
from wfhaudit.policy.model import Policy
from wfhaudit.schema import (
    EARTH_RADIUS_M,
    LEAVE_DUTY,
    LEAVE_EXCUSED,
    OUTPUT_MISSING,
    OUTPUT_PENDING,
    OUTPUT_PRESENT,
    STATUS_DUTY,
    STATUS_EXCUSED,
    STATUS_NO_ATTENDANCE_DATA,
    STATUS_REQUIRED,
)

#: Consecutive located events closer than this are never impossible travel.
TRAVEL_MIN_DISTANCE_M = 1000.0

#: Bits per count when the per-day facts sum three counts as one integer.
_PACK = 21

__all__ = [
    "STATUS_DUTY",
    "STATUS_EXCUSED",
    "STATUS_NO_ATTENDANCE_DATA",
    "STATUS_REQUIRED",
]

#: Columns of the calendar the audit uses.
CALENDAR_COLUMNS = (
    "date",
    "weekday",
    "start_min",
    "end_min",
    "wfh_period",
    "wfh_weekday_allowed",
    "default_wfh",
    "max_share",
    "exempt_units",
)


@dataclass(frozen=True)
class EmployeeDayFrames:
    """The collected frames of one audit (or one partition of days)."""

    employee_days: pl.DataFrame
    events: pl.DataFrame
    reports: pl.DataFrame
    #: data-quality facts met while building (``run.data_quality`` reuses them):
    #: ``attendance_unknown_nip``, ``roster_unknown_nip``, ``outputs_unknown_nip``
    #: (rows of the period whose nip is not in employees) and ``rostered_units``.
    quality: dict[str, Any] = field(default_factory=dict)


def haversine_m(lat1: pl.Expr, lon1: pl.Expr, lat2: pl.Expr, lon2: pl.Expr) -> pl.Expr:
    """Great-circle distance in metres on a sphere of radius ``EARTH_RADIUS_M``."""
    p1, p2 = lat1.radians(), lat2.radians()
    dlat = p2 - p1
    dlon = (lon2 - lon1).radians()
    a = (dlat / 2).sin().pow(2) + p1.cos() * p2.cos() * (dlon / 2).sin().pow(2)
    return 2 * EARTH_RADIUS_M * a.sqrt().clip(upper_bound=1.0).arcsin()


def minute_of_day(ts: pl.Expr) -> pl.Expr:
    """Minutes after midnight of a timestamp truncated to its minute (07:31:59 -> 451)."""
    return ts.dt.hour().cast(pl.Int64) * 60 + ts.dt.minute().cast(pl.Int64)


def audited_days(calendar: pl.DataFrame, as_of: dt.date | None) -> pl.DataFrame:
    """Working days of ``calendar`` before ``as_of`` (all working days if None)."""
    days = calendar.filter(pl.col("working"))
    if as_of is not None:
        days = days.filter(pl.col("date") < as_of)
    return days.select(CALENDAR_COLUMNS)


def _leave_days(leave: pl.LazyFrame, start: dt.date, end: dt.date) -> pl.LazyFrame:
    """Per (nip, date) covered by leave: the excusing kind (if any) and whether on duty."""
    priority = {kind: rank for rank, kind in enumerate(LEAVE_EXCUSED)}
    return (
        leave.with_columns(
            pl.date_ranges(
                pl.max_horizontal(pl.col("start"), pl.lit(start)),
                pl.min_horizontal(pl.col("end"), pl.lit(end)),
            ).alias("date"),
            pl.col("kind")
            .replace_strict(priority, default=len(priority), return_dtype=pl.Int64)
            .alias("_rank"),
        )
        .explode("date")
        .drop_nulls("date")
        .group_by("nip", "date", *_numbered(leave))  # keyed rows keep their emp_idx
        .agg(
            pl.col("kind")
            .filter(pl.col("kind").is_in(list(LEAVE_EXCUSED)))
            .sort_by(pl.col("_rank").filter(pl.col("kind").is_in(list(LEAVE_EXCUSED))))
            .first()
            .alias("excused_kind"),
            (pl.col("kind") == LEAVE_DUTY).any().alias("on_duty"),
        )
    )


def _employee_index(inputs: AuditInputs) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The employees rows with the days each is in force, and a dense ``emp_idx`` per nip.

    Returns ``(people, nips)``: ``people`` has one row per employees row (history:
    several per nip, ``spans.in_force``); ``nips`` one row per nip with its
    ``emp_idx`` (0, 1, ...), numbered by the unit of the nip's first row, then nip,
    so that ``ed_key`` order is (unit, nip, date) for everyone who never moved.
    """
    employees = inputs.employees
    if "valid_from" not in employees.collect_schema():
        employees = employees.with_columns(pl.lit(None, dtype=pl.Date).alias("valid_from"))
    people = in_force(
        employees.select(
            "nip", "unit_code", "office_id", "home_lat", "home_lon", "active_from",
            "active_to", "valid_from",
        )
    ).collect()
    nips = (
        people.group_by("nip", maintain_order=True)
        .agg(pl.col("unit_code").first())
        .sort("unit_code", "nip")
        .with_row_index("emp_idx")
        .select("nip", pl.col("emp_idx").cast(pl.Int64))
    )
    people = people.join(nips, on="nip", how="left")
    return people, nips


def _span(inputs: AuditInputs) -> int:
    return (inputs.end - inputs.start).days + 1


def _ed_key(inputs: AuditInputs, date: pl.Expr) -> pl.Expr:
    """The integer key of an employee-day: ``emp_idx * days_in_period + day number``.

    Sorting by it sorts by (unit, nip, date); joins and group-bys on it are integer work.
    Only valid for dates inside ``[inputs.start, inputs.end]``.
    """
    day_number = (date - pl.lit(inputs.start)).dt.total_days().cast(pl.Int64)
    return (pl.col("emp_idx") * _span(inputs) + day_number).alias("ed_key")


def _in_period(inputs: AuditInputs, date: pl.Expr) -> pl.Expr:
    return date.is_between(inputs.start, inputs.end)


def _numbered(lf: pl.LazyFrame) -> list[str]:
    """``["emp_idx"]`` when ``lf``'s rows carry their employee number already (an agency
    group's rows, keyed once for all groups of a chunk by ``agency_groups``), else ``[]``."""
    return ["emp_idx"] if "emp_idx" in lf.collect_schema() else []


def _keyed(inputs: AuditInputs, lf: pl.LazyFrame, employees: pl.DataFrame) -> pl.LazyFrame:
    """Rows of ``lf`` (with nip and date) inside the period, with ``emp_idx`` and ``ed_key``.

    Both are null where the nip is not in ``employees`` (callers count, then drop
    those rows).  The nip is looked up by a join on the employees' index; rows that
    already have their ``emp_idx`` (an agency group's rows, keyed once for all groups of
    a chunk by ``agency_groups``) keep it.
    """
    rows = lf.filter(_in_period(inputs, pl.col("date")))
    if not _numbered(lf):
        # a join, not ``replace_strict``: Polars (2.2) builds a replace's mapping again
        # for every chunk of the column, and a day read from the store comes in one
        # chunk per row group: at 4 million employees a year-to-date day chunk took 85 s
        # instead of 9 s (7.8 million check-ins into 78 chunks: 39 s against 2 s)
        rows = rows.join(
            employees.lazy().select("nip", "emp_idx"), on="nip", how="left",
            maintain_order="left",
        )
    return rows.with_columns(_ed_key(inputs, pl.col("date")))


def _slots(keys: pl.Series, size: int) -> pl.Series:
    """For each integer ``0 .. size - 1``: its position in ``keys`` (null if absent).

    ``keys`` are distinct integers in ``[0, size)`` (e.g. ``ed_key``s):
    ``_slots(keys, n).gather(other)`` finds ``other``'s rows in ``keys`` by array
    indexing, an integer join without hashing.
    """
    return pl.repeat(None, size, dtype=pl.UInt32, eager=True).scatter(
        keys, pl.int_range(0, len(keys), dtype=pl.UInt32, eager=True)
    )


def _align(frame: pl.DataFrame, key: str, to: pl.Series, size: int) -> pl.DataFrame:
    """The columns of ``frame`` (distinct ``key`` in ``[0, size)``) for each value of ``to``.

    One row per value of ``to``, in its order; all null where ``frame`` has no row:
    a left join of ``to`` with ``frame`` on ``key``.
    """
    rows = _slots(frame.get_column(key), size).gather(to)
    return frame.drop(key).select(pl.all().gather(rows))


def _known(keyed: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Rows of ``keyed`` with a known nip, and how many rows had an unknown one."""
    unknown = keyed.get_column("emp_idx").null_count()
    if unknown:
        keyed = keyed.filter(pl.col("emp_idx").is_not_null())
    return keyed, unknown


@dataclass(frozen=True)
class _Keys:
    """What every keyed table of one build needs: the employees and the ed_key space."""

    inputs: AuditInputs
    people: pl.DataFrame  # employees rows with the days they are in force (``in_force``)
    nips: pl.DataFrame  # one row per nip: nip, emp_idx
    size: int  # number of possible ed_keys: employees x days of the period


#: The employee indexes computed for the keyed inputs (``AuditInputs.employees_key``) of
#: one audit: the chunks share them, so each is computed once per audit, not once per
#: chunk (at 4 million employees in 4 groups, 12 s of every day's chunk).  With agency
#: groups (``agency_groups``): the whole audit's index with each nip's group
#: (``key|groups=...``) and each group's share of it (``key|units=...``).  An audit of
#: other employees data clears them.
_INDEXES: dict[str, tuple[pl.DataFrame, pl.DataFrame]] = {}
_INDEX_LOCK = threading.Lock()


def _forget_other_audits(audit: str) -> None:
    """Drop the indexes of other employees data than ``audit``'s (hold ``_INDEX_LOCK``)."""
    if any(k.split("|", 1)[0] != audit for k in _INDEXES):
        _INDEXES.clear()


def _shared_index(inputs: AuditInputs) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``_employee_index(inputs)``, computed once per ``employees_key`` in this process."""
    key = inputs.employees_key
    if key is None:
        return _employee_index(inputs)
    audit = key.split("|", 1)[0]  # the employees data; the rest names a group
    with _INDEX_LOCK:  # chunks running in threads compute it once
        if key not in _INDEXES:
            _forget_other_audits(audit)
            _INDEXES[key] = _employee_index(inputs)
        return _INDEXES[key]


def release_indexes() -> None:
    """Forget the shared employee indexes (the pipeline calls it when its chunks are done:
    at 4 million employees they hold about 0.5 GB that the period step can use)."""
    with _INDEX_LOCK:
        _INDEXES.clear()


def _keys(inputs: AuditInputs) -> _Keys:
    people, nips = _shared_index(inputs)
    # an agency group numbers its employees as the whole audit does (``agency_groups``):
    # the key space runs to its largest number, not to its number of employees
    largest = nips.get_column("emp_idx").max() if nips.height else None
    employees = int(largest) + 1 if largest is not None else 0  # type: ignore[arg-type]
    return _Keys(inputs, people, nips, employees * _span(inputs))


def nip_number(nip: pl.Expr) -> pl.Expr:
    """A NIP of 18 ASCII digits as its number (null for any other text): two such NIPs
    are equal exactly when their numbers are.

    18 bytes without a leading sign: Polars' ``to_integer`` then reads a number only
    from 18 ASCII digits (a sign is the one other thing it accepts; spaces, letters and
    other scripts' digits give null; ``tests/test_modes.py`` checks it against the
    regular expression ``^[0-9]{18}$``, which costs three times as much: at 4 million
    employees 0.3 s of every chunk)."""
    plain = (nip.str.len_bytes() == 18) & ~nip.str.starts_with("+") & ~nip.str.starts_with("-")
    return pl.when(plain).then(nip.str.to_integer(strict=False))


def agency_groups(
    inputs: AuditInputs, groups: Sequence[Sequence[str]]
) -> tuple[dict[str, int], Iterator[AuditInputs]]:
    """One chunk's inputs split into agency groups (``groups``: unit codes, each employee's
    units in one group), the day's tables read and their NIPs looked up once for all.

    One join per table on the audit's employee index gives each row its employee number
    (``emp_idx``) and its group.  The groups keep the whole audit's numbering: a row's
    ``ed_key`` is the one the whole audit would give it, and the groups' keys are
    distinct, so the day-wide rules take the groups' rows together as they are.  Each
    group's share of the index is computed once per audit (like ``_shared_index``).
    Needs ``inputs.employees_key``.

    Returns the numbers of rows of a nip not in employees (``attendance_unknown_nip``,
    ``roster_unknown_nip``, ``outputs_unknown_nip``: no group holds those rows) and the
    groups' inputs, one at a time (a group's rows are let go once its audit is done).
    """
    audit = inputs.employees_key
    assert audit is not None, "agency groups share the audit's employee index"
    names = [f"{audit}|units={','.join(sorted(units))}" for units in groups]
    whole = f"{audit}|groups={'/'.join(names)}"
    with _INDEX_LOCK:
        if whole not in _INDEXES:
            _forget_other_audits(audit)
            people, nips = _employee_index(inputs)
            unit_group = {u: g for g, units in enumerate(groups) for u in units}
            people = people.with_columns(
                pl.col("unit_code")
                .replace_strict(unit_group, return_dtype=pl.UInt32)
                .alias("_group")
            )
            nips = nips.join(
                people.select("emp_idx", "_group").unique("emp_idx"), on="emp_idx",
                how="left", maintain_order="left",
            ).with_columns(nip_number(pl.col("nip")).alias("_number"))
            for g, name in enumerate(names):
                _INDEXES[name] = (
                    people.filter(pl.col("_group") == g).drop("_group"),
                    nips.filter(pl.col("_group") == g).drop("_group", "_number"),
                )
            _INDEXES[whole] = (pl.DataFrame(), nips)
        index = _INDEXES[whole][1]
    # looked up by the NIP's number where every employee's NIP is 18 digits (an integer
    # join: at 4 million employees 0.5 against 1.4 s for a day's 7.8 million check-ins),
    # else by the text
    on = "_number" if index.get_column("_number").null_count() == 0 else "nip"
    lookup = index.lazy().select(on, "emp_idx", "_group")
    unknown: dict[str, int] = {}
    split: dict[str, dict[int, pl.DataFrame]] = {}
    for kind in ("roster", "attendance", "outputs", "leave"):
        rows, count = _known(
            getattr(inputs, kind)
            .with_columns(nip_number(pl.col("nip")).alias("_number"))
            .join(lookup, on=on, how="left", maintain_order="left")
            .drop("_number")
            # Polars' in-memory engine: at 4 million employees 0.4 s less a chunk than the
            # default (streaming) engine for these four reads and joins (docs/scale.md)
            .collect(engine="in-memory")
        )
        if kind != "leave":  # audit.json counts no leave of unknown nips
            unknown[f"{kind}_unknown_nip"] = count
        split[kind] = {
            int(g): part for (g,), part in rows.partition_by(
                "_group", as_dict=True, include_key=False
            ).items()
        }
        del rows

    def each() -> Iterator[AuditInputs]:
        for g, (units, name) in enumerate(zip(groups, names, strict=True)):
            tables = {
                kind: parts.pop(g).lazy() if g in parts
                else getattr(inputs, kind).clear().with_columns(
                    pl.lit(None, pl.Int64).alias("emp_idx")
                )
                for kind, parts in split.items()
            }
            tables["employees"] = inputs.employees.filter(pl.col("unit_code").is_in(list(units)))
            yield replace(inputs, employees_key=name, **tables)  # type: ignore[arg-type]
            del tables

    return unknown, each()


def decimetres(metres: pl.Expr) -> pl.Expr:
    """A length rounded to 0.1 m (half away from zero), as a whole number of decimetres."""
    return (metres * 10).round(0, mode="half_away_from_zero").cast(pl.Int64)


def planned_and_expected(
    roster_mode: pl.Expr, default_wfh: pl.Expr, wfh_allowed: pl.Expr
) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """``planned_mode``, ``expected_mode`` and ``home_accepted`` (``rules.md``).

    Planned: the roster entry, else WFH on a default-WFH weekday of a unit not
    exempt, else WFO.  Expected: the planned mode, but WFO where a planned WFH is not
    allowed.  The home is also accepted on that day, and on a WFH-allowed day with
    no roster entry whose default is WFO.
    """
    planned = (
        pl.when(roster_mode.is_not_null())
        .then(roster_mode)
        .when(default_wfh)
        .then(pl.lit("WFH"))
        .otherwise(pl.lit("WFO"))
    )
    stale = (planned == "WFH") & ~wfh_allowed
    expected = pl.when(stale).then(pl.lit("WFO")).otherwise(planned)
    accepted = stale | (wfh_allowed & roster_mode.is_null() & (planned == "WFO"))
    return planned, expected, accepted


def _base(keys: _Keys, policy: Policy, days: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Active employees x audited days, with leave, roster, modes and expected place.

    The unit, office, home point and activity of each day come from the row in
    force that day.  Sorted by ``ed_key``.  Also returns the roster's data-quality
    facts (rows of an unknown nip, units with a roster row in the period).
    """
    inputs = keys.inputs
    offices = inputs.offices.select(
        "office_id",
        pl.col("lat").alias("office_lat"),
        pl.col("lon").alias("office_lon"),
        pl.col("radius_m").fill_null(policy.office_radius_m).alias("office_radius_m"),
    ).unique("office_id", keep="first")
    # in emp_idx order (a nip's rows by the day they come into force), so that the cross
    # join below is already in ed_key order: the small people frame is sorted, not
    # the 840 000 employee-days after (0.06 CPU-s on one thread at 40 000 employees)
    people = (
        keys.people.lazy()
        .sort("emp_idx", FORCE_FROM, nulls_last=False, maintain_order=True)
        .join(offices, on="office_id", how="left", maintain_order="left")
    )
    date = pl.col("date")
    base = (
        people.join(days.lazy().sort("date"), how="cross", maintain_order="left_right")
        .filter(on_day(date) & active_on(date))
        .with_columns(
            _ed_key(inputs, date),
            pl.col("exempt_units")
            .list.contains(pl.col("unit_code"))
            .fill_null(False)
            .alias("unit_exempt"),
        )
        .drop(
            "exempt_units", "active_from", "active_to", "valid_from", FORCE_FROM, FORCE_TO,
            HISTORY_FROM,
        )
        .collect(engine="in-memory")
    )
    if not base.get_column("ed_key").is_sorted():
        base = base.sort("ed_key")
    ed_key = base.get_column("ed_key")
    roster, roster_unknown = _known(
        _keyed(
            inputs,
            inputs.roster.select(
                "nip", "date", pl.col("mode").alias("roster_mode"), *_numbered(inputs.roster)
            ),
            keys.nips,
        ).collect()
    )
    leave, _ = _known(
        _keyed(inputs, _leave_days(inputs.leave, inputs.start, inputs.end), keys.nips).collect(
            engine="in-memory"
        )
    )
    base = pl.concat(
        [
            base,
            _align(roster.select("ed_key", "roster_mode"), "ed_key", ed_key, keys.size),
            _align(
                leave.select("ed_key", "excused_kind", "on_duty"), "ed_key", ed_key, keys.size
            ),
        ],
        how="horizontal",
    )
    # units with a roster row in the period: the unit of the row in force on its date
    rostered = base.filter(pl.col("roster_mode").is_not_null()).get_column("unit_code")
    wfh_allowed = (
        pl.col("wfh_period").is_not_null()
        & pl.col("wfh_weekday_allowed").fill_null(False)
        & ~pl.col("unit_exempt")
    )
    planned, expected, accepted = planned_and_expected(
        pl.col("roster_mode"), pl.col("default_wfh") & ~pl.col("unit_exempt"), wfh_allowed
    )
    wfo = pl.col("expected_mode") == "WFO"
    base = base.with_columns(
        pl.when(pl.col("excused_kind").is_not_null())
        .then(pl.lit(STATUS_EXCUSED))
        .when(pl.col("on_duty").fill_null(False))
        .then(pl.lit(STATUS_DUTY))
        .otherwise(pl.lit(STATUS_REQUIRED))
        .alias("status"),
        pl.coalesce(
            pl.col("excused_kind"),
            pl.when(pl.col("on_duty").fill_null(False)).then(pl.lit(LEAVE_DUTY)),
        ).alias("leave_kind"),
        wfh_allowed.alias("wfh_allowed"),
        planned.alias("planned_mode"),
        expected.alias("expected_mode"),
        accepted.alias("home_accepted"),
        pl.col("office_lat").is_not_null().alias("office_known"),
        (pl.col("home_lat").is_not_null() & pl.col("home_lon").is_not_null()).alias("home_known"),
    ).with_columns(
        pl.when(wfo).then(pl.col("office_lat")).otherwise(pl.col("home_lat")).alias("place_lat"),
        pl.when(wfo).then(pl.col("office_lon")).otherwise(pl.col("home_lon")).alias("place_lon"),
        pl.when(wfo)
        .then(pl.col("office_radius_m"))
        .otherwise(pl.lit(float(policy.home_radius_m)))
        .alias("place_radius_m"),
    ).with_columns(
        (pl.col("place_lat").is_not_null() & pl.col("place_lon").is_not_null()).alias(
            "place_known"
        ),
        # on a day the home is also accepted, the home fence counts only where known
        (pl.col("home_accepted") & pl.col("home_known")).alias("home_fence_too"),
    )
    quality = {
        "roster_unknown_nip": roster_unknown,
        "rostered_units": set(rostered.unique().to_list()),
    }
    return base, quality


def _audited(
    keys: _Keys, keyed: pl.DataFrame, base: pl.DataFrame, columns: list[str]
) -> pl.DataFrame:
    """Rows of ``keyed`` (known nips) on an audited employee-day, with ``columns`` of ``base``."""
    rows = _slots(base.get_column("ed_key"), keys.size).gather(keyed.get_column("ed_key"))
    audited = rows.is_not_null()
    if not audited.all():
        keyed, rows = keyed.filter(audited), rows.filter(audited)
    return pl.concat(
        [keyed, base.select(pl.col(columns).gather(rows))], how="horizontal"
    )


def _events(
    keys: _Keys, base: pl.DataFrame, policy: Policy
) -> tuple[pl.DataFrame, int]:
    """Attendance rows of audited employee-days with their location facts.

    Distances, allowances and radii are compared in whole decimetres (``rules.md``):
    an event is outside its fence when ``distance - allowance > radius``, each
    rounded to 0.1 m.  Where the home is also accepted, an event is outside only
    when outside the office fence and (where a home point is known) the home fence.

    Also returns the number of attendance rows of the period with an unknown nip.
    """
    inputs = keys.inputs
    allowance = (
        pl.col("accuracy_m").clip(0.0, float(policy.accuracy_allowance_max_m)).fill_null(0.0)
    )
    attendance = inputs.attendance.with_columns(pl.col("ts").dt.date().alias("date"))
    keyed, unknown = _known(_keyed(inputs, attendance, keys.nips).collect())
    places = [
        "status", "place_lat", "place_lon", "place_radius_m", "home_lat", "home_lon",
        "home_fence_too",
    ]
    home_radius_dm = round(float(policy.home_radius_m) * 10)
    away = pl.col("home_dm") - pl.col("allowance_dm") > home_radius_dm
    events = (
        _audited(keys, keyed, base, places)
        .lazy()
        .with_columns(
            (pl.col("lat").is_not_null() & pl.col("lon").is_not_null()).alias("located"),
            decimetres(allowance).alias("allowance_dm"),
            decimetres(
                haversine_m(pl.col("lat"), pl.col("lon"), pl.col("place_lat"), pl.col("place_lon"))
            ).alias("distance_dm"),
            decimetres(
                haversine_m(pl.col("lat"), pl.col("lon"), pl.col("home_lat"), pl.col("home_lon"))
            ).alias("home_dm"),
        )
        .with_columns(
            (
                (pl.col("distance_dm") - pl.col("allowance_dm"))
                > decimetres(pl.col("place_radius_m"))
            )
            .fill_null(False)
            .alias("outside_place"),
            # decimetres back to metres; round(1) pins the one double nearest to n/10 (an
            # engine may compute x / 10 as x * 0.1: 2527 * 0.1 = 252.70000000000002)
            (pl.col("distance_dm").cast(pl.Float64) / 10).round(1).alias("distance_m"),
        )
        .with_columns(
            (pl.col("outside_place") & (~pl.col("home_fence_too") | away.fill_null(True)))
            .alias("outside"),
            (~away).alias("inside_home"),
        )
        .select(
            "ed_key", "date", "status", "ts", "kind", "lat", "lon", "device_id", "located",
            "allowance_dm", "distance_m", "outside", "inside_home",
        )
        .collect()
    )
    return events, unknown


def _travel_candidates(event_facts: pl.DataFrame) -> pl.Series:
    """``ed_key``s whose located events could hold two points more than 1000 m apart.

    ``event_facts`` holds per employee-day the number of located events and their
    latitude/longitude box.  No two points of a box are farther apart than its
    diagonal (for boxes of a few km; a box across the antimeridian is huge, hence a
    candidate).  With a 10% margin this only skips days that cannot have a hop
    over 1000 m (the effective distance is never more than the distance): the
    exact check runs on every candidate.
    """
    diagonal = haversine_m(pl.col("lat_lo"), pl.col("lon_lo"), pl.col("lat_hi"), pl.col("lon_hi"))
    return event_facts.filter(
        (pl.col("located_events") >= 2) & (diagonal > 0.9 * TRAVEL_MIN_DISTANCE_M)
    ).get_column("ed_key")


def _travel(events: pl.LazyFrame, candidates: pl.Series, policy: Policy) -> pl.LazyFrame:
    """Per employee-day: the highest implied speed of an impossible hop (inf for zero time).

    Consecutive located events of one employee-day (of ``candidates``; never a
    duty day), ordered by ts, then kind (IN < OUT).  A hop's **effective
    distance** is its distance rounded to 0.1 m minus both events' allowances, in
    decimetres; it is impossible when above 1000 m at a speed above
    ``max_speed_kmh`` (computed from the effective distance).
    """
    hops = (
        events.filter(
            pl.col("located")
            & (pl.col("status") != STATUS_DUTY)
            & pl.col("ed_key").is_in(candidates.implode())
        )
        .select(
            "ed_key", "ts", (pl.col("kind") == "OUT").alias("kind_order"), "lat", "lon",
            "allowance_dm",
        )
        .sort("ed_key", "ts", "kind_order")
        .with_columns(
            pl.col("ed_key").shift(1).alias("prev_key"),
            pl.col("lat").shift(1).alias("prev_lat"),
            pl.col("lon").shift(1).alias("prev_lon"),
            pl.col("ts").shift(1).alias("prev_ts"),
            pl.col("allowance_dm").shift(1).alias("prev_allowance_dm"),
        )
        .filter(pl.col("prev_key") == pl.col("ed_key"))
        .with_columns(
            (
                decimetres(
                    haversine_m(
                        pl.col("prev_lat"), pl.col("prev_lon"), pl.col("lat"), pl.col("lon")
                    )
                )
                - pl.col("prev_allowance_dm")
                - pl.col("allowance_dm")
            ).alias("hop_dm"),
            ((pl.col("ts") - pl.col("prev_ts")).dt.total_microseconds() / 3.6e9).alias("hop_h"),
        )
        .with_columns(
            pl.when(pl.col("hop_h") <= 0)
            .then(pl.lit(float("inf")))
            .otherwise(pl.col("hop_dm") / 10_000.0 / pl.col("hop_h"))
            .alias("speed_kmh")
        )
        .filter(
            (pl.col("hop_dm") > round(TRAVEL_MIN_DISTANCE_M * 10))
            & (pl.col("speed_kmh") > float(policy.max_speed_kmh))
        )
    )
    return hops.group_by("ed_key").agg(pl.col("speed_kmh").max().alias("travel_speed_kmh"))


def report_characters(text: pl.Expr) -> pl.Expr:
    """The characters of a report that count (``rules.md``): NFC, no format characters
    (``Cf``), Unicode white space trimmed from both ends.  Null text: empty.

    (For ASCII text this is trimming alone: ``_report_characters`` runs the rest only
    on the other rows.)"""
    return text.fill_null("").str.normalize("NFC").str.replace_all(r"\p{Cf}", "").str.strip_chars()


def _report_characters(text: pl.Series) -> pl.Series:
    """``report_characters`` of ``text``, normalising only the non-ASCII texts (most
    reports are ASCII: trimming is their whole treatment)."""
    text = text.fill_null("")
    chars = text.str.strip_chars()
    other = text.str.len_bytes() != text.str.len_chars()
    if other.any():
        rows = other.arg_true()
        fixed = pl.select(report_characters(pl.lit(text.gather(rows)))).to_series()
        chars = chars.scatter(rows, fixed)
    return chars


def report_lengths(text: pl.Series) -> pl.Series:
    """The number of characters that count (``report_characters``) of each report of
    ``text``, as the engine counts them for ``output.min_chars``."""
    return _report_characters(text).str.len_chars()


def _reports(keys: _Keys, base: pl.DataFrame, policy: Policy) -> tuple[pl.DataFrame, int]:
    """Daily reports of audited employee-days, each with its ``chars`` (the characters
    that count), their number ``length`` and ``valid`` (at least ``output.min_chars``).

    Also returns the number of reports of the period with an unknown nip.
    """
    keyed, unknown = _known(_keyed(keys.inputs, keys.inputs.outputs, keys.nips).collect())
    reports = _audited(keys, keyed, base, ["unit_code", "status"])
    reports = reports.with_columns(
        _report_characters(reports.get_column("text")).alias("chars")
    ).with_columns(pl.col("chars").str.len_chars().alias("length")).with_columns(
        (pl.col("length") >= policy.output_min_chars).alias("valid")
    )
    return reports, unknown


def _missing_data(
    keys: _Keys, employee_days: pl.DataFrame, policy: Policy
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The missing-data rule of ``rules.md`` on the employee-day frame (with its facts).

    Adds ``attendance_missing`` / ``output_missing`` per employee-day (its agency-day
    lies outside the agency's span, or at least ``gap_min_employees`` of its staff —
    neither excused nor on duty; for reports: not excused — have no event (no report)
    at all), the final ``status`` (``no_attendance_data`` between duty and required)
    and ``output_data`` (``present``/``missing``/``pending``; null when excused).
    Also returns the small agency-days of the "possibly missing data" list.
    """
    inputs = keys.inputs
    found = inputs.spans or agency_spans(
        keys.people, inputs.attendance_dates(), inputs.output_dates()
    )
    spans = {"att": found[ATTENDANCE_SPAN], "out": found[OUTPUT_SPAN]}
    gap = int(policy.gap_min_employees)
    date = pl.col("date")

    def in_span(name: str) -> pl.Expr:
        return date.is_between(pl.col(f"{name}_first"), pl.col(f"{name}_last")).fill_null(False)

    if inputs.as_of is None:
        pending = pl.lit(False)
    else:
        cutoff = date + pl.duration(days=int(policy.output_deadline_days) + 1)
        pending = cutoff > pl.lit(inputs.as_of)
    required = pl.col("status") == STATUS_REQUIRED
    reporting = (pl.col("status") != STATUS_EXCUSED) & ~pl.col("output_pending")
    unit_day = ["unit_code", "date"]
    frame = employee_days
    for name in ("att", "out"):
        span = spans[name].rename({"first": f"{name}_first", "last": f"{name}_last"})
        frame = frame.join(span, on="unit_code", how="left", maintain_order="left")
    frame = frame.with_columns(pending.alias("output_pending")).with_columns(
        required.sum().over(unit_day).alias("_staff"),
        (required & (pl.col("events") > 0)).sum().over(unit_day).alias("_staff_present"),
        reporting.sum().over(unit_day).alias("_writers"),
        (reporting & (pl.col("reports") > 0)).sum().over(unit_day).alias("_writers_present"),
        in_span("att").alias("_in_att_span"),
        in_span("out").alias("_in_out_span"),
    )
    frame = frame.with_columns(
        (~pl.col("_in_att_span") | ((pl.col("_staff") >= gap) & (pl.col("_staff_present") == 0)))
        .alias("attendance_missing"),
        (
            ~pl.col("_in_out_span")
            | ((pl.col("_writers") >= gap) & (pl.col("_writers_present") == 0))
        ).alias("output_missing"),
    )
    small = (
        frame.filter(
            required
            & pl.col("_in_att_span")
            & (pl.col("_staff") < gap)
            & (pl.col("_staff_present") == 0)
        )
        .group_by(unit_day)
        .agg(pl.len().cast(pl.Int64).alias("employees"))
        .sort(unit_day)
    )
    frame = frame.with_columns(
        pl.when(required & pl.col("attendance_missing"))
        .then(pl.lit(STATUS_NO_ATTENDANCE_DATA))
        .otherwise(pl.col("status"))
        .alias("status"),
        pl.when(pl.col("status") == STATUS_EXCUSED)
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.col("output_pending"))
        .then(pl.lit(OUTPUT_PENDING))
        .when(pl.col("output_missing"))
        .then(pl.lit(OUTPUT_MISSING))
        .otherwise(pl.lit(OUTPUT_PRESENT))
        .alias("output_data"),
    ).drop(
        "att_first", "att_last", "out_first", "out_last", "_staff", "_staff_present",
        "_writers", "_writers_present", "_in_att_span", "_in_out_span",
    )
    return frame, {"possibly_missing_data": small}


def _event_facts(events: pl.DataFrame, *, packed: bool) -> pl.LazyFrame:
    """Per ``ed_key`` of ``events``: the counts, first IN, last OUT, distances, the
    located events' box (travel candidates) and whether all are at home.

    ``packed``: the IN, OUT and located counts as one sum of one integer (``_PACK``
    bits each; ``_unpacked`` splits it): one aggregation instead of three, exact
    while an employee-day has fewer than ``2 ** _PACK`` events (the caller checks).
    """
    is_in, is_out = pl.col("kind") == "IN", pl.col("kind") == "OUT"
    counts = (
        [
            (
                is_in.cast(pl.Int64)
                + is_out.cast(pl.Int64) * (1 << _PACK)
                + pl.col("located").cast(pl.Int64) * (1 << 2 * _PACK)
            ).alias("_counts")
        ]
        if packed
        else [
            is_in.cast(pl.Int64).alias("in_events"),
            is_out.cast(pl.Int64).alias("out_events"),
            pl.col("located").cast(pl.Int64).alias("located_events"),
        ]
    )
    count_sums = (
        [pl.col("_counts").sum()]
        if packed
        else [pl.col("in_events", "out_events", "located_events").sum()]
    )
    # conditional columns first, then plain reductions (faster than filters inside agg)
    return (
        events.lazy()
        .select(
            "ed_key",
            *counts,
            pl.when(is_in).then(pl.col("ts")).alias("first_in"),
            pl.when(is_out).then(pl.col("ts")).alias("last_out"),
            pl.col("distance_m").alias("max_distance_m"),
            pl.when(pl.col("outside")).then(pl.col("distance_m")).alias("outside_distance_m"),
            pl.col("outside").alias("any_outside"),
            pl.when(pl.col("located")).then(pl.col("inside_home")).alias("_all_home"),
            pl.when(pl.col("located")).then(pl.col("lat")).alias("lat_lo"),
            pl.when(pl.col("located")).then(pl.col("lat")).alias("lat_hi"),
            pl.when(pl.col("located")).then(pl.col("lon")).alias("lon_lo"),
            pl.when(pl.col("located")).then(pl.col("lon")).alias("lon_hi"),
        )
        .group_by("ed_key")
        .agg(
            pl.len().cast(pl.Int64).alias("events"),
            *count_sums,
            pl.col("first_in").min(),
            pl.col("last_out").max(),
            pl.col("max_distance_m", "outside_distance_m").max(),
            pl.col("any_outside").max(),
            pl.col("_all_home").min(),  # false if any located event is away; null if none
            pl.col("lat_lo", "lon_lo").min(),  # the located events' box (travel candidates)
            pl.col("lat_hi", "lon_hi").max(),
        )
    )


def _unpacked(event_facts: pl.DataFrame) -> pl.DataFrame:
    """``_event_facts(packed=True)`` with its ``_counts`` split into the three counts."""
    unit, counts = 1 << _PACK, pl.col("_counts")
    return event_facts.select(
        "ed_key",
        "events",
        (counts % unit).alias("in_events"),
        (counts // unit % unit).alias("out_events"),
        (counts // (unit * unit)).alias("located_events"),
        pl.exclude("ed_key", "events", "_counts"),
    )


def build_employee_days(
    inputs: AuditInputs, policy: Policy, days: pl.DataFrame
) -> EmployeeDayFrames:
    """Build the employee-day frame (and its event and report rows) for ``days``.

    ``days`` are rows of the calendar (``audited_days``) inside
    ``[inputs.start, inputs.end]``: working days only.

    Every table is keyed once (nip -> ``emp_idx`` -> ``ed_key``); from then on rows
    find their employee-day by array indexing on ``ed_key`` (``_slots``), not by
    hash joins.  The employee-day frame is sorted by ``ed_key``.
    """
    keys = _keys(inputs)
    base, quality = _base(keys, policy, days)
    events, quality["attendance_unknown_nip"] = _events(keys, base, policy)
    reports, quality["outputs_unknown_nip"] = _reports(keys, base, policy)
    by = "ed_key"
    report_query = reports.lazy().group_by(by).agg(
        pl.len().cast(pl.Int64).alias("reports"),
        pl.col("valid").sum().cast(pl.Int64).alias("valid_reports"),
        pl.col("submitted_at").filter(pl.col("valid")).min().alias("first_valid_report_at"),
    )
    event_facts, report_facts = pl.collect_all([_event_facts(events, packed=True), report_query])
    most = event_facts.get_column("events").max() if event_facts.height else 0
    if int(most) >= 1 << _PACK:  # type: ignore[arg-type]
        event_facts = _event_facts(events, packed=False).collect()  # counts too big to pack
    else:
        event_facts = _unpacked(event_facts)
    travel = _travel(events.lazy(), _travel_candidates(event_facts), policy).collect()
    facts = [event_facts.drop("lat_lo", "lat_hi", "lon_lo", "lon_hi"), travel, report_facts]
    ed_key = base.get_column(by)
    deadline = pl.duration(days=policy.output_deadline_days + 1)
    counts = ("events", "in_events", "out_events", "located_events", "reports", "valid_reports")
    employee_days = (
        pl.concat(
            [base, *(_align(f, by, ed_key, keys.size) for f in facts)], how="horizontal"
        )
        .with_columns(pl.col(c).fill_null(0) for c in counts)
        .with_columns(
            pl.col("any_outside").fill_null(False),
            pl.when((pl.col("located_events") > 0) & pl.col("home_known"))
            .then(pl.col("_all_home"))
            .alias("at_home"),
            *_minutes(),
            (pl.col("date").cast(pl.Datetime("us")) + deadline).alias("report_cutoff"),
        )
        .drop("_all_home")
    )
    employee_days, missing = _missing_data(keys, employee_days, policy)
    quality.update(missing)
    return EmployeeDayFrames(
        employee_days=employee_days, events=events, reports=reports, quality=quality
    )



def _minutes() -> tuple[pl.Expr, pl.Expr]:
    """``late_minutes`` / ``early_minutes``: whole minutes fully elapsed (floor) between
    the first IN and the start, and between the last OUT and the end (``rules.md``)."""
    midnight = pl.col("date").cast(pl.Datetime("us"))
    start = midnight + pl.duration(minutes=pl.col("start_min"))
    end = midnight + pl.duration(minutes=pl.col("end_min"))
    minute = 60_000_000
    return (
        ((pl.col("first_in") - start).dt.total_microseconds() // minute).alias("late_minutes"),
        ((end - pl.col("last_out")).dt.total_microseconds() // minute).alias("early_minutes"),
    )
