"""The employee-day frame: every fact a rule needs, built once per audit.

One row per audited employee-day ``(nip, date)``: an employee active on a
working day of the period before the as-of date (``rules.md``).  Beside it:

- ``events``: the attendance rows of those employee-days, each with its
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


def _base(inputs: AuditInputs, policy: Policy, days: pl.DataFrame) -> pl.LazyFrame:
    """Active employees x audited days, with leave, roster, mode and expected place."""
    employees = inputs.employees.select(
        "nip", "unit_code", "office_id", "home_lat", "home_lon", "active_from", "active_to"
    )
    offices = inputs.offices.select(
        "office_id",
        pl.col("lat").alias("office_lat"),
        pl.col("lon").alias("office_lon"),
        pl.col("radius_m").fill_null(policy.office_radius_m).alias("office_radius_m"),
    ).unique("office_id", keep="first")
    roster = inputs.roster.select("nip", "date", pl.col("mode").alias("roster_mode")).unique(
        ["nip", "date"], keep="first"
    )
    base = (
        employees.join(days.lazy(), how="cross")
        .filter(
            (pl.col("active_from").is_null() | (pl.col("active_from") <= pl.col("date")))
            & (pl.col("active_to").is_null() | (pl.col("date") <= pl.col("active_to")))
        )
        .join(offices, on="office_id", how="left")
        .join(roster, on=["nip", "date"], how="left")
        .join(_leave_days(inputs.leave, inputs.start, inputs.end), on=["nip", "date"], how="left")
    )
    mode = (
        pl.when(pl.col("roster_mode").is_not_null())
        .then(pl.col("roster_mode"))
        .when(
            pl.col("default_wfh")
            & ~pl.col("exempt_units").list.contains(pl.col("unit_code")).fill_null(False)
        )
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


def _events(attendance: pl.LazyFrame, base: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    """Attendance rows of audited employee-days with their location facts."""
    keys = base.select(
        "nip",
        "date",
        "unit_code",
        "status",
        "expected_mode",
        "place_lat",
        "place_lon",
        "place_radius_m",
        "home_lat",
        "home_lon",
    )
    allowance = (
        pl.col("accuracy_m").clip(0.0, float(policy.accuracy_allowance_max_m)).fill_null(0.0)
    )
    return (
        attendance.with_columns(pl.col("ts").dt.date().alias("date"))
        .join(keys, on=["nip", "date"], how="inner")
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
        .drop("place_lat", "place_lon", "home_lat", "home_lon")
    )


def _travel(events: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    """Per employee-day: the highest implied speed of an impossible hop (inf for zero time)."""
    by = ["nip", "date"]
    hops = (
        events.filter(pl.col("located"))
        .sort("nip", "date", "ts", "kind")
        .with_columns(
            pl.col("lat").shift(1).over(by).alias("prev_lat"),
            pl.col("lon").shift(1).over(by).alias("prev_lon"),
            pl.col("ts").shift(1).over(by).alias("prev_ts"),
        )
        .filter(pl.col("prev_ts").is_not_null())
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
    return hops.group_by(by).agg(pl.col("speed_kmh").max().alias("travel_speed_kmh"))


def _reports(outputs: pl.LazyFrame, base: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    """Daily reports of audited employee-days, each with ``valid``."""
    return outputs.join(
        base.select("nip", "date", "unit_code", "status"), on=["nip", "date"], how="inner"
    ).with_columns(
        (
            pl.col("text").fill_null("").str.strip_chars().str.len_chars()
            >= policy.output_min_chars
        ).alias("valid")
    )


def build_employee_days(
    inputs: AuditInputs, policy: Policy, days: pl.DataFrame
) -> EmployeeDayFrames:
    """Build the employee-day frame (and its event and report rows) for ``days``.

    ``days`` are rows of the calendar (``audited_days``): working days only.
    """
    base = _base(inputs, policy, days).collect()
    events = _events(inputs.attendance, base.lazy(), policy).collect()
    reports = _reports(inputs.outputs, base.lazy(), policy).collect()
    by = ["nip", "date"]
    is_in, is_out = pl.col("kind") == "IN", pl.col("kind") == "OUT"
    event_facts = events.lazy().group_by(by).agg(
        pl.len().cast(pl.Int64).alias("events"),
        is_in.sum().cast(pl.Int64).alias("in_events"),
        is_out.sum().cast(pl.Int64).alias("out_events"),
        pl.col("located").sum().cast(pl.Int64).alias("located_events"),
        pl.col("ts").filter(is_in).min().alias("first_in"),
        pl.col("ts").filter(is_out).max().alias("last_out"),
        pl.col("distance_m").max().alias("max_distance_m"),
        pl.col("distance_m").filter(pl.col("outside")).max().alias("outside_distance_m"),
        pl.col("outside").any().alias("any_outside"),
        pl.col("inside_home").filter(pl.col("located")).all().alias("_all_home"),
    )
    report_facts = reports.lazy().group_by(by).agg(
        pl.len().cast(pl.Int64).alias("reports"),
        pl.col("valid").sum().cast(pl.Int64).alias("valid_reports"),
        pl.col("submitted_at").filter(pl.col("valid")).min().alias("first_valid_report_at"),
    )
    deadline = pl.duration(days=policy.output_deadline_days + 1)
    employee_days = (
        base.lazy()
        .join(event_facts, on=by, how="left")
        .join(_travel(events.lazy(), policy), on=by, how="left")
        .join(report_facts, on=by, how="left")
        .with_columns(
            pl.col(c).fill_null(0)
            for c in ("events", "in_events", "out_events", "located_events", "reports",
                      "valid_reports")
        )
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
