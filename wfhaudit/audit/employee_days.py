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
from dataclasses import dataclass

import polars as pl

from wfhaudit.audit.inputs import AuditInputs
from wfhaudit.policy.model import Policy
from wfhaudit.schema import LEAVE_DUTY, LEAVE_EXCUSED

#: Mean Earth radius (IUGG), metres: the sphere of every haversine distance.
EARTH_RADIUS_M = 6_371_008.8
#: Consecutive located events closer than this are never impossible travel.
TRAVEL_MIN_DISTANCE_M = 1000.0
#: Floating-point noise forgiven when comparing a distance with a fence (1 micrometre):
#: a point computed to lie exactly on the fence is inside, never "outside by 1e-10 m".
DISTANCE_TOLERANCE_M = 1e-6

STATUS_EXCUSED = "excused"
STATUS_DUTY = "duty"
STATUS_REQUIRED = "required"

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
        .group_by("nip", "date")
        .agg(
            pl.col("kind")
            .filter(pl.col("kind").is_in(list(LEAVE_EXCUSED)))
            .sort_by(pl.col("_rank").filter(pl.col("kind").is_in(list(LEAVE_EXCUSED))))
            .first()
            .alias("excused_kind"),
            (pl.col("kind") == LEAVE_DUTY).any().alias("on_duty"),
        )
    )


def _employee_index(inputs: AuditInputs) -> pl.LazyFrame:
    """Employees sorted by nip with a dense integer ``emp_idx`` (0, 1, ...)."""
    return (
        inputs.employees.select(
            "nip", "unit_code", "office_id", "home_lat", "home_lon", "active_from", "active_to"
        )
        .sort("nip")
        .with_row_index("emp_idx")
        .with_columns(pl.col("emp_idx").cast(pl.Int64))
    )


def _ed_key(inputs: AuditInputs, date: pl.Expr) -> pl.Expr:
    """The integer key of an employee-day: ``emp_idx * days_in_period + day number``.

    Sorting by it sorts by (nip, date); joins and group-bys on it are integer work.
    Only valid for dates inside ``[inputs.start, inputs.end]``.
    """
    span = (inputs.end - inputs.start).days + 1
    day_number = (date - pl.lit(inputs.start)).dt.total_days().cast(pl.Int64)
    return (pl.col("emp_idx") * span + day_number).alias("ed_key")


def _in_period(inputs: AuditInputs, date: pl.Expr) -> pl.Expr:
    return date.is_between(inputs.start, inputs.end)


def _keyed(inputs: AuditInputs, lf: pl.LazyFrame, employees: pl.LazyFrame) -> pl.LazyFrame:
    """Rows of ``lf`` (with nip and date) of known employees inside the period, with ed_key."""
    return (
        lf.filter(_in_period(inputs, pl.col("date")))
        .join(employees.select("nip", "emp_idx"), on="nip", how="inner")
        .with_columns(_ed_key(inputs, pl.col("date")))
    )


def _base(
    inputs: AuditInputs, policy: Policy, days: pl.DataFrame, employees: pl.LazyFrame
) -> pl.LazyFrame:
    """Active employees x audited days, with leave, roster, mode and expected place."""
    offices = inputs.offices.select(
        "office_id",
        pl.col("lat").alias("office_lat"),
        pl.col("lon").alias("office_lon"),
        pl.col("radius_m").fill_null(policy.office_radius_m).alias("office_radius_m"),
    ).unique("office_id", keep="first")
    roster = _keyed(
        inputs,
        inputs.roster.select("nip", "date", pl.col("mode").alias("roster_mode")),
        employees,
    ).select("ed_key", "roster_mode")
    leave = _keyed(
        inputs, _leave_days(inputs.leave, inputs.start, inputs.end), employees
    ).select("ed_key", "excused_kind", "on_duty")
    base = (
        employees.join(days.lazy(), how="cross")
        .filter(
            (pl.col("active_from").is_null() | (pl.col("active_from") <= pl.col("date")))
            & (pl.col("active_to").is_null() | (pl.col("date") <= pl.col("active_to")))
        )
        .with_columns(
            _ed_key(inputs, pl.col("date")),
            pl.col("exempt_units")
            .list.contains(pl.col("unit_code"))
            .fill_null(False)
            .alias("unit_exempt"),
        )
        .drop("exempt_units", "active_from", "active_to")
        .join(offices, on="office_id", how="left")
        .join(roster, on="ed_key", how="left")
        .join(leave, on="ed_key", how="left")
    )
    mode = (
        pl.when(pl.col("roster_mode").is_not_null())
        .then(pl.col("roster_mode"))
        .when(pl.col("default_wfh") & ~pl.col("unit_exempt"))
        .then(pl.lit("WFH"))
        .otherwise(pl.lit("WFO"))
    )
    wfo = pl.col("expected_mode") == "WFO"
    return base.with_columns(
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
        mode.alias("expected_mode"),
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
        )
    )


def _events(
    inputs: AuditInputs, employees: pl.LazyFrame, base: pl.LazyFrame, policy: Policy
) -> pl.LazyFrame:
    """Attendance rows of audited employee-days with their location facts."""
    keys = base.select(
        "ed_key",
        "status",
        "place_lat",
        "place_lon",
        "place_radius_m",
        "home_lat",
        "home_lon",
    )
    allowance = (
        pl.col("accuracy_m").clip(0.0, float(policy.accuracy_allowance_max_m)).fill_null(0.0)
    )
    attendance = inputs.attendance.with_columns(pl.col("ts").dt.date().alias("date"))
    return (
        _keyed(inputs, attendance, employees)
        .join(keys, on="ed_key", how="inner")
        .with_columns(
            (pl.col("lat").is_not_null() & pl.col("lon").is_not_null()).alias("located"),
            allowance.alias("allowance_m"),
            haversine_m(pl.col("lat"), pl.col("lon"), pl.col("place_lat"), pl.col("place_lon"))
            .alias("distance_m"),
            haversine_m(pl.col("lat"), pl.col("lon"), pl.col("home_lat"), pl.col("home_lon"))
            .alias("home_distance_m"),
        )
        .with_columns(
            (
                (pl.col("distance_m") - pl.col("allowance_m"))
                > pl.col("place_radius_m") + DISTANCE_TOLERANCE_M
            )
            .fill_null(False)
            .alias("outside"),
            (
                (pl.col("home_distance_m") - pl.col("allowance_m"))
                <= float(policy.home_radius_m) + DISTANCE_TOLERANCE_M
            )
            .alias("inside_home"),
        )
        .select(
            "ed_key", "date", "status", "ts", "kind", "lat", "lon", "device_id", "located",
            "distance_m", "outside", "inside_home",
        )
    )


def _travel_candidates(events: pl.LazyFrame) -> pl.LazyFrame:
    """Employee-days whose located events could hold two points more than 1000 m apart.

    No two points of a latitude/longitude box are farther apart than its diagonal
    (for boxes of a few km; a box across the antimeridian is huge, hence a
    candidate).  With a 10% margin this only skips days that cannot have a hop
    over 1000 m: the exact check runs on every candidate.
    """
    boxes = (
        events.filter(pl.col("located"))
        .group_by("ed_key")
        .agg(
            pl.len().alias("n"),
            pl.col("lat").min().alias("lat_lo"),
            pl.col("lat").max().alias("lat_hi"),
            pl.col("lon").min().alias("lon_lo"),
            pl.col("lon").max().alias("lon_hi"),
        )
    )
    diagonal = haversine_m(pl.col("lat_lo"), pl.col("lon_lo"), pl.col("lat_hi"), pl.col("lon_hi"))
    return boxes.filter((pl.col("n") >= 2) & (diagonal > 0.9 * TRAVEL_MIN_DISTANCE_M)).select(
        "ed_key"
    )


def _travel(events: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    """Per employee-day: the highest implied speed of an impossible hop (inf for zero time).

    Consecutive located events of one employee-day, ordered by ts, then kind (IN < OUT).
    """
    hops = (
        events.filter(pl.col("located"))
        .join(_travel_candidates(events), on="ed_key", how="semi")
        .select("ed_key", "ts", (pl.col("kind") == "OUT").alias("kind_order"), "lat", "lon")
        .sort("ed_key", "ts", "kind_order")
        .with_columns(
            pl.col("ed_key").shift(1).alias("prev_key"),
            pl.col("lat").shift(1).alias("prev_lat"),
            pl.col("lon").shift(1).alias("prev_lon"),
            pl.col("ts").shift(1).alias("prev_ts"),
        )
        .filter(pl.col("prev_key") == pl.col("ed_key"))
        .with_columns(
            haversine_m(pl.col("prev_lat"), pl.col("prev_lon"), pl.col("lat"), pl.col("lon"))
            .alias("hop_m"),
            ((pl.col("ts") - pl.col("prev_ts")).dt.total_microseconds() / 3.6e9).alias("hop_h"),
        )
        .with_columns(
            pl.when(pl.col("hop_h") <= 0)
            .then(pl.lit(float("inf")))
            .otherwise(pl.col("hop_m") / 1000.0 / pl.col("hop_h"))
            .alias("speed_kmh")
        )
        .filter(
            (pl.col("hop_m") > TRAVEL_MIN_DISTANCE_M)
            & (pl.col("speed_kmh") > float(policy.max_speed_kmh))
        )
    )
    return hops.group_by("ed_key").agg(pl.col("speed_kmh").max().alias("travel_speed_kmh"))


def _reports(
    inputs: AuditInputs, employees: pl.LazyFrame, base: pl.LazyFrame, policy: Policy
) -> pl.LazyFrame:
    """Daily reports of audited employee-days, each with ``valid``."""
    return (
        _keyed(inputs, inputs.outputs, employees)
        .join(base.select("ed_key", "unit_code", "status"), on="ed_key", how="inner")
        .with_columns(
            (
                pl.col("text").fill_null("").str.strip_chars().str.len_chars()
                >= policy.output_min_chars
            ).alias("valid")
        )
    )


def build_employee_days(
    inputs: AuditInputs, policy: Policy, days: pl.DataFrame
) -> EmployeeDayFrames:
    """Build the employee-day frame (and its event and report rows) for ``days``.

    ``days`` are rows of the calendar (``audited_days``) inside
    ``[inputs.start, inputs.end]``: working days only.
    """
    employees = _employee_index(inputs).collect().lazy()
    base = _base(inputs, policy, days, employees).collect()
    events = _events(inputs, employees, base.lazy(), policy).collect()
    reports = _reports(inputs, employees, base.lazy(), policy).collect()
    by = "ed_key"
    is_in, is_out = pl.col("kind") == "IN", pl.col("kind") == "OUT"
    # conditional columns first, then plain reductions (faster than filters inside agg)
    event_facts = (
        events.lazy()
        .select(
            by,
            is_in.cast(pl.Int64).alias("in_events"),
            is_out.cast(pl.Int64).alias("out_events"),
            pl.col("located").cast(pl.Int64).alias("located_events"),
            pl.when(is_in).then(pl.col("ts")).alias("first_in"),
            pl.when(is_out).then(pl.col("ts")).alias("last_out"),
            pl.col("distance_m").alias("max_distance_m"),
            pl.when(pl.col("outside")).then(pl.col("distance_m")).alias("outside_distance_m"),
            pl.col("outside").alias("any_outside"),
            pl.when(pl.col("located")).then(pl.col("inside_home")).alias("_all_home"),
        )
        .group_by(by)
        .agg(
            pl.len().cast(pl.Int64).alias("events"),
            pl.col("in_events", "out_events", "located_events").sum(),
            pl.col("first_in").min(),
            pl.col("last_out").max(),
            pl.col("max_distance_m", "outside_distance_m").max(),
            pl.col("any_outside").max(),
            pl.col("_all_home").min(),  # false if any located event is away; null if none
        )
    )
    report_facts = reports.lazy().group_by(by).agg(
        pl.len().cast(pl.Int64).alias("reports"),
        pl.col("valid").sum().cast(pl.Int64).alias("valid_reports"),
        pl.col("submitted_at").filter(pl.col("valid")).min().alias("first_valid_report_at"),
    )
    deadline = pl.duration(days=policy.output_deadline_days + 1)
    counts = ("events", "in_events", "out_events", "located_events", "reports", "valid_reports")
    employee_days = (
        base.lazy()
        .join(event_facts, on=by, how="left")
        .join(_travel(events.lazy(), policy), on=by, how="left")
        .join(report_facts, on=by, how="left")
        .with_columns(pl.col(c).fill_null(0) for c in counts)
        .with_columns(
            pl.col("any_outside").fill_null(False),
            pl.when((pl.col("located_events") > 0) & pl.col("home_known"))
            .then(pl.col("_all_home"))
            .alias("at_home"),
            (minute_of_day(pl.col("first_in")) - pl.col("start_min")).alias("late_minutes"),
            (pl.col("end_min") - minute_of_day(pl.col("last_out"))).alias("early_minutes"),
            (pl.col("date").cast(pl.Datetime("us")) + deadline).alias("report_cutoff"),
        )
        .drop("_all_home")
        .sort(by)
        .collect()
    )
    return EmployeeDayFrames(employee_days=employee_days, events=events, reports=reports)
