"""The rules of ``rules.md``, one small pure function each, in ONE registry.

Every function takes the ``RuleContext`` (the employee-day frame, its event
and report rows, the policy) and returns a LazyFrame of violations with the
columns of ``schema.VIOLATIONS_SCHEMA`` (or, for agency-day rules,
``schema.UNIT_FINDINGS_SCHEMA``).  Each docstring quotes the rule it codes.

Scopes: ``employee_day`` (one row of the employee-day frame), ``day`` (all
employees of one day, across agencies), ``employee_period`` (one employee over
the audited days), ``unit_day`` (agency-day findings).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from wfhaudit.audit.employee_days import decimetres, haversine_m, report_characters
from wfhaudit.hashing import row_hash
from wfhaudit.policy.model import Policy
from wfhaudit.schema import (
    ALL_RULES,
    OUTPUT_PRESENT,
    STATUS_DUTY,
    STATUS_EXCUSED,
    STATUS_NO_ATTENDANCE_DATA,
    STATUS_REQUIRED,
    UNIT_FINDINGS_SCHEMA,
    UNIT_FINDINGS_SORT,
    VIOLATIONS_SCHEMA,
    VIOLATIONS_SORT,
)


@dataclass(frozen=True)
class RuleContext:
    employee_days: pl.LazyFrame
    events: pl.LazyFrame
    reports: pl.LazyFrame
    policy: Policy


@dataclass(frozen=True)
class Rule:
    code: str
    scope: str  # employee_day | day | employee_period | unit_day
    func: Callable[[RuleContext], pl.LazyFrame]


# --- helpers ------------------------------------------------------------------

REQUIRED = pl.col("status") == STATUS_REQUIRED
NOT_EXCUSED = pl.col("status") != STATUS_EXCUSED
#: Output rules: not excused, and the agency's output data present (not missing, not pending).
OUTPUT_APPLIES = NOT_EXCUSED & (pl.col("output_data") == OUTPUT_PRESENT)
#: In the day's headcount: active, no leave of any kind (required, or without attendance data).
HEADCOUNT = pl.col("status").is_in([STATUS_REQUIRED, STATUS_NO_ATTENDANCE_DATA])
SOME_EVENT = pl.col("events") > 0


def violations(
    lf: pl.LazyFrame,
    rule: str,
    *,
    minutes: pl.Expr | None = None,
    distance_m: pl.Expr | None = None,
    detail: pl.Expr | None = None,
) -> pl.LazyFrame:
    """Rows of ``lf`` (with nip, date, unit_code) as violations of ``rule``."""
    return lf.select(
        pl.col("nip"),
        pl.col("date"),
        pl.col("unit_code"),
        pl.lit(rule).alias("rule"),
        (minutes if minutes is not None else pl.lit(None)).cast(pl.Int64).alias("minutes"),
        (distance_m if distance_m is not None else pl.lit(None)).cast(pl.Float64).alias(
            "distance_m"
        ),
        (detail if detail is not None else pl.lit(None)).cast(pl.String).alias("detail"),
    )


def empty_violations() -> pl.LazyFrame:
    return pl.LazyFrame(schema=VIOLATIONS_SCHEMA)


def empty_unit_findings() -> pl.LazyFrame:
    return pl.LazyFrame(schema=UNIT_FINDINGS_SCHEMA)


# --- attendance rules (status required only) ----------------------------------


def absent(ctx: RuleContext) -> pl.LazyFrame:
    """ABSENT — applies always; violation when there are no events."""
    return violations(ctx.employee_days.filter(REQUIRED & (pl.col("events") == 0)), "ABSENT")


def missing_checkin(ctx: RuleContext) -> pl.LazyFrame:
    """MISSING_CHECKIN — applies when there is some event; violation when no `IN` event."""
    ed = ctx.employee_days
    return violations(
        ed.filter(REQUIRED & SOME_EVENT & (pl.col("in_events") == 0)), "MISSING_CHECKIN"
    )


def missing_checkout(ctx: RuleContext) -> pl.LazyFrame:
    """MISSING_CHECKOUT — applies when there is some event; violation when no `OUT` event."""
    ed = ctx.employee_days
    return violations(
        ed.filter(REQUIRED & SOME_EVENT & (pl.col("out_events") == 0)), "MISSING_CHECKOUT"
    )


def late(ctx: RuleContext) -> pl.LazyFrame:
    """LATE — applies when some `IN` event; violation when
    `late = floor((first IN ts - start) / 1 min)` > `late_grace_minutes`; minutes = `late`."""
    grace = ctx.policy.late_grace_minutes
    ed = ctx.employee_days.filter(
        REQUIRED & (pl.col("in_events") > 0) & (pl.col("late_minutes") > grace)
    )
    return violations(ed, "LATE", minutes=pl.col("late_minutes"))


def early_leave(ctx: RuleContext) -> pl.LazyFrame:
    """EARLY_LEAVE — applies when some `OUT` event; violation when
    `early = floor((end - last OUT ts) / 1 min)` > `early_grace_minutes`; minutes = `early`."""
    grace = ctx.policy.early_grace_minutes
    ed = ctx.employee_days.filter(
        REQUIRED & (pl.col("out_events") > 0) & (pl.col("early_minutes") > grace)
    )
    return violations(ed, "EARLY_LEAVE", minutes=pl.col("early_minutes"))


def wrong_location(ctx: RuleContext) -> pl.LazyFrame:
    """WRONG_LOCATION — applies when some event has coordinates and the expected place is
    known; violation when some event is outside: its distance to the expected place minus
    its allowance > the radius, in whole decimetres (where the home is also accepted:
    outside the office fence and, where a home point is known, the home fence);
    distance_m = the largest distance among outside events, rounded to 0.1 m (to the
    office on a home-accepted day); detail = expected mode."""
    ed = ctx.employee_days.filter(
        REQUIRED
        & (pl.col("located_events") > 0)
        & pl.col("place_known")
        & pl.col("any_outside")
    )
    return violations(
        ed,
        "WRONG_LOCATION",
        distance_m=pl.col("outside_distance_m").round(1, mode="half_away_from_zero"),
        detail=pl.col("expected_mode"),
    )


def no_location(ctx: RuleContext) -> pl.LazyFrame:
    """NO_LOCATION — applies when there is some event; violation when no event has
    coordinates."""
    ed = ctx.employee_days.filter(REQUIRED & SOME_EVENT & (pl.col("located_events") == 0))
    return violations(ed, "NO_LOCATION")


def home_unregistered(ctx: RuleContext) -> pl.LazyFrame:
    """HOME_UNREGISTERED — applies when the mode is WFH and there is some event; violation
    when the employee has no home point."""
    ed = ctx.employee_days.filter(
        REQUIRED & SOME_EVENT & (pl.col("expected_mode") == "WFH") & ~pl.col("home_known")
    )
    return violations(ed, "HOME_UNREGISTERED")


# --- output rules (required and duty) -----------------------------------------


def no_daily_output(ctx: RuleContext) -> pl.LazyFrame:
    """NO_DAILY_OUTPUT — applies when not excused and output data present; violation when
    there is no valid report for `d`; detail `none` (no report) or `empty` (only invalid
    ones)."""
    ed = ctx.employee_days.filter(OUTPUT_APPLIES & (pl.col("valid_reports") == 0))
    detail = pl.when(pl.col("reports") == 0).then(pl.lit("none")).otherwise(pl.lit("empty"))
    return violations(ed, "NO_DAILY_OUTPUT", detail=detail)


def late_daily_output(ctx: RuleContext) -> pl.LazyFrame:
    """LATE_DAILY_OUTPUT — applies when not excused, output data present and a valid report
    exists; violation
    when the earliest valid `submitted_at` >= cutoff (midnight at the start of day
    `d + deadline_days + 1`); minutes = whole minutes from cutoff, truncated."""
    ed = ctx.employee_days.filter(
        OUTPUT_APPLIES
        & pl.col("first_valid_report_at").is_not_null()
        & (pl.col("first_valid_report_at") >= pl.col("report_cutoff"))
    )
    minutes = (
        pl.col("first_valid_report_at") - pl.col("report_cutoff")
    ).dt.total_microseconds() // 60_000_000
    return violations(ed, "LATE_DAILY_OUTPUT", minutes=minutes)


# --- integrity rules (every non-excused audited employee-day) -----------------


def _float_text(col: str) -> pl.Expr:
    """The shortest decimal that reads back as the stored value; ``-0.0`` as ``0.0``."""
    return pl.when(pl.col(col) == 0).then(pl.lit("0.0")).otherwise(pl.col(col).cast(pl.String))


#: Written instead of the point when it is within the home fence of one of the group.
HOME_POINT_TEXT = "rumah pegawai"


def _hash(*columns: str) -> pl.Expr:
    """A 64-bit hash of ``columns``: equal values have equal hashes (0.0 and -0.0, NaNs too).

    Used to pre-filter rows with integer work before the exact grouping: a hash
    collision can let a row through, but rows of one exact group are never split.
    """
    return row_hash([pl.col(c) for c in columns])


def shared_coordinates(ctx: RuleContext) -> pl.LazyFrame:
    """SHARED_COORDINATES — on `d`, at least `shared_coordinates_min_employees` distinct
    employees have an event at exactly the same `(lat, lon)` as stored; detail `lat,lon`
    and the number of employees, e.g. ``-6.9022,107.6186 (3 employees)``, each number the
    shortest decimal that reads back, ``-0.0`` as ``0.0``.

    An employee in several such groups on one day gets one row: the group with the
    most employees (then the smallest lat, lon).  Where the point is within the home
    fence of one of the group, the detail does not give it away: ``rumah pegawai
    (N employees)`` (a finding must not publish an employee's home)."""
    threshold = ctx.policy.shared_coordinates_min_employees
    located = (
        ctx.events.filter(NOT_EXCUSED & pl.col("located"))
        .select("ed_key", "date", "lat", "lon")
        # a point met by `threshold` employees is met on at least `threshold` rows
        .filter(pl.len().over(_hash("date", "lat", "lon")) >= threshold)
        .collect()  # read twice below: a lazy frame would run this pass twice
        .lazy()
    )
    # ed_key is one employee on one day: distinct ed_keys of a day = distinct employees
    groups = (
        located.group_by("date", "lat", "lon")
        .agg(pl.col("ed_key").n_unique().alias("n"))
        .filter(pl.col("n") >= threshold)
    )
    members = located.join(groups, on=["date", "lat", "lon"], how="inner")
    homes = ctx.employee_days.select("ed_key", "home_lat", "home_lon")
    home_radius_dm = round(float(ctx.policy.home_radius_m) * 10)
    # a group's point is somebody's home when within the home fence of one of its members
    at_home = (
        members.join(homes, on="ed_key", how="left")
        .with_columns(
            (
                decimetres(
                    haversine_m(
                        pl.col("lat"), pl.col("lon"), pl.col("home_lat"), pl.col("home_lon")
                    )
                )
                <= home_radius_dm
            )
            .fill_null(False)
            .alias("home")
        )
        .group_by("date", "lat", "lon")
        .agg(pl.col("home").any())
    )
    points = (
        members.select("ed_key", "date", "n", "lat", "lon")
        .sort("ed_key", "n", "lat", "lon", descending=[False, True, False, False])
        .unique("ed_key", keep="first", maintain_order=True)
        .join(at_home, on=["date", "lat", "lon"], how="left")
        .drop("date")
    )
    who = ctx.employee_days.select("ed_key", "nip", "date", "unit_code")
    detail = (
        pl.when(pl.col("home"))
        .then(pl.format("{} ({} employees)", pl.lit(HOME_POINT_TEXT), pl.col("n")))
        .otherwise(
            pl.format("{},{} ({} employees)", _float_text("lat"), _float_text("lon"), pl.col("n"))
        )
    )
    return violations(points.join(who, on="ed_key"), "SHARED_COORDINATES", detail=detail)


#: Device ids that identify no phone (compared trimmed and in upper case): never shared.
PLACEHOLDER_DEVICES: tuple[str, ...] = (
    "", "NULL", "NONE", "UNKNOWN", "UNDEFINED", "N/A", "NA", "-", "0",
)


def _compared_device(device_id: pl.Expr) -> pl.Expr:
    """A device id as compared: trimmed, upper case (``_placeholder`` ones never count)."""
    return device_id.str.strip_chars().str.to_uppercase()


def _placeholder(device: pl.Expr) -> pl.Expr:
    """Whether a compared device id is empty or a placeholder."""
    return device.is_in(list(PLACEHOLDER_DEVICES))


def shared_device(ctx: RuleContext) -> pl.LazyFrame:
    """SHARED_DEVICE — on `d`, the employee's `device_id` (trimmed, compared
    case-insensitively; empty and placeholder ids never count) is used by another
    employee on `d` too; detail = every shared device id of the day, trimmed, upper
    case, sorted, comma-separated."""
    same = _hash("date", "device")
    used = (
        ctx.events.filter(NOT_EXCUSED & pl.col("device_id").is_not_null())
        # placeholders dropped here (a when/then making them null cost 0.1 CPU-s)
        .select("ed_key", "date", _compared_device(pl.col("device_id")).alias("device"))
        .filter(~_placeholder(pl.col("device")))
        # a device used by two employee-days has two different ed_keys
        .filter(pl.col("ed_key").min().over(same) != pl.col("ed_key").max().over(same))
        .collect()  # read twice below: a lazy frame would run this pass twice
        .lazy()
    )
    shared_devices = (
        used.group_by("date", "device")
        .agg(pl.col("ed_key").n_unique().alias("n"))
        .filter(pl.col("n") >= 2)
        .select("date", "device")
    )
    shared = (
        used.join(shared_devices, on=["date", "device"], how="inner")
        .group_by("ed_key")
        .agg(pl.col("device").unique().sort().str.join(","))
    )
    who = ctx.employee_days.select("ed_key", "nip", "date", "unit_code")
    return violations(shared.join(who, on="ed_key"), "SHARED_DEVICE", detail=pl.col("device"))


def impossible_travel(ctx: RuleContext) -> pl.LazyFrame:
    """IMPOSSIBLE_TRAVEL — two consecutive events with coordinates (ordered by `ts`, then
    `kind`) of the employee on `d` have an effective distance (rounded to 0.1 m, minus
    both allowances) above 1000 m at an implied speed (effective distance / time apart)
    above `max_speed_kmh` (zero time apart counts as infinite); not on duty days;
    detail = the highest such speed in whole km/h, half away from zero, or `inf`."""
    ed = ctx.employee_days.filter(
        NOT_EXCUSED
        & (pl.col("status") != STATUS_DUTY)
        & pl.col("travel_speed_kmh").is_not_null()
    )
    speed = pl.col("travel_speed_kmh")
    detail = (
        pl.when(speed.is_infinite())
        .then(pl.lit("inf"))
        .otherwise(speed.round(0, mode="half_away_from_zero").cast(pl.Int64).cast(pl.String))
    )
    return violations(ed, "IMPOSSIBLE_TRAVEL", detail=detail)


def normalised_text(text: pl.Expr) -> pl.Expr:
    """The report's characters (NFC, no format characters, trimmed), lower case, runs of
    white space as one space."""
    return report_characters(text).str.to_lowercase().str.replace_all(r"\s+", " ")


#: ASCII white space other than the space: with the space, all the white space an
#: ASCII text can hold (Unicode White_Space, which `\s` and trimming use).
_ASCII_SPACE_OTHER_THAN_SPACE_OR_RUN = r"(?-u:[\t\n\x0b\x0c\r]|  )"


def _with_normalised_text(reports: pl.LazyFrame) -> pl.LazyFrame:
    """``reports`` (with ``text``) with ``norm`` = ``normalised_text(text)``, row order aside.

    Most texts are ASCII with single spaces between words: for them trimming and
    lower-casing is the whole normalisation (NFC and format characters concern
    non-ASCII text only), so the regular expression only runs
    on the others (same result, a fraction of the work).
    """
    text = pl.col("text")
    plain = (
        (text.str.len_bytes() == text.str.len_chars())
        & ~text.str.contains(_ASCII_SPACE_OTHER_THAN_SPACE_OR_RUN)
    ).fill_null(False)
    return pl.concat(
        [
            reports.filter(plain).with_columns(
                text.str.strip_chars().str.to_lowercase().alias("norm")
            ),
            reports.filter(~plain).with_columns(normalised_text(text).alias("norm")),
        ]
    ).drop("text")


def duplicate_output(ctx: RuleContext) -> pl.LazyFrame:
    """DUPLICATE_OUTPUT — the same normalised text (the report's characters, lower case,
    runs of white space as one space) is one of the employee's valid reports on at least
    `duplicate_output_min_days` distinct audited days; one row per (nip, date) involved."""
    threshold = ctx.policy.duplicate_output_min_days
    valid = _with_normalised_text(
        ctx.reports.filter(NOT_EXCUSED & pl.col("valid")).select(
            "emp_idx", "ed_key", "date", "text"
        )
    ).with_columns(pl.col("norm").hash().alias("h")).collect().lazy()  # read twice below
    # candidates by hash (integer work), then confirmed on the text itself: a hash
    # collision can add a candidate but never a finding
    candidates = (
        valid.group_by("emp_idx", "h")
        .agg(pl.col("date").n_unique().alias("days"))
        .filter(pl.col("days") >= threshold)
        .select("emp_idx", "h")
    )
    confirmed = (
        valid.join(candidates, on=["emp_idx", "h"], how="inner")
        .filter(pl.col("date").n_unique().over("emp_idx", "norm") >= threshold)
        .select("ed_key")
        .unique()
    )
    hits = confirmed.join(
        ctx.employee_days.select("ed_key", "nip", "date", "unit_code"), on="ed_key"
    )
    return violations(hits, "DUPLICATE_OUTPUT")


# --- agency-day findings -------------------------------------------------------


def _unit_days(ctx: RuleContext) -> pl.LazyFrame:
    """Per (unit, day): headcount (active, no leave of any kind), wfh among them (planned
    WFH where WFH is allowed), the employee-days without attendance data and those with
    output data missing."""
    return ctx.employee_days.group_by("unit_code", "date").agg(
        HEADCOUNT.sum().cast(pl.Int64).alias("headcount"),
        (HEADCOUNT & (pl.col("planned_mode") == "WFH") & pl.col("wfh_allowed"))
        .sum()
        .cast(pl.Int64)
        .alias("wfh"),
        (pl.col("status") == STATUS_NO_ATTENDANCE_DATA).sum().cast(pl.Int64).alias("no_att"),
        (NOT_EXCUSED & (pl.col("output_data") == "missing")).sum().cast(pl.Int64).alias("no_out"),
        pl.col("wfh_period").first(),
        pl.col("max_share").first(),
    )


def wfh_quota_exceeded(ctx: RuleContext) -> pl.LazyFrame:
    """WFH_QUOTA_EXCEEDED — `d` is in a WFH period and `wfh / headcount > max_share`;
    count = wfh, share = wfh / headcount."""
    units = _unit_days(ctx).with_columns(
        (pl.col("wfh") / pl.col("headcount")).alias("share")
    ).filter(
        pl.col("wfh_period").is_not_null()
        & (pl.col("headcount") > 0)
        & (pl.col("share") > pl.col("max_share"))
    )
    return units.select(
        "unit_code",
        "date",
        pl.lit("WFH_QUOTA_EXCEEDED").alias("rule"),
        pl.col("wfh").alias("count"),
        "headcount",
        pl.col("share").cast(pl.Float64),
    )


def wfh_not_allowed(ctx: RuleContext) -> pl.LazyFrame:
    """WFH_NOT_ALLOWED — some of `u`'s employees active on `d` are rostered WFH (on leave
    or not) although `d` is in no WFH period, or its weekday is not in the period's
    `weekdays`, or `u` is in `exempt_units`; count = those employees, share null."""
    ed = ctx.employee_days
    rostered = (
        ed.filter((pl.col("roster_mode") == "WFH") & ~pl.col("wfh_allowed"))
        .group_by("unit_code", "date")
        .agg(pl.len().cast(pl.Int64).alias("count"))
    )
    return rostered.join(
        _unit_days(ctx).select("unit_code", "date", "headcount"),
        on=["unit_code", "date"],
        how="left",
    ).select(
        "unit_code",
        "date",
        pl.lit("WFH_NOT_ALLOWED").alias("rule"),
        "count",
        "headcount",
        pl.lit(None, dtype=pl.Float64).alias("share"),
    )


def _data_missing(ctx: RuleContext, rule: str, column: str) -> pl.LazyFrame:
    return (
        _unit_days(ctx)
        .filter(pl.col(column) > 0)
        .select(
            "unit_code",
            "date",
            pl.lit(rule).alias("rule"),
            pl.col(column).alias("count"),
            "headcount",
            pl.lit(None, dtype=pl.Float64).alias("share"),
        )
    )


def attendance_data_missing(ctx: RuleContext) -> pl.LazyFrame:
    """ATTENDANCE_DATA_MISSING — attendance missing for `(u, d)` (outside the agency's
    attendance span, or none of at least `gap_min_employees` staff neither excused nor
    on duty has an event) and at least one such employee-day; count = those
    employee-days (status `no_attendance_data`), share null."""
    return _data_missing(ctx, "ATTENDANCE_DATA_MISSING", "no_att")


def output_data_missing(ctx: RuleContext) -> pl.LazyFrame:
    """OUTPUT_DATA_MISSING — output data missing for `(u, d)` (outside the agency's
    output span, or no report at all among at least `gap_min_employees` employee-days
    not excused) and at least one employee-day not excused; count = those
    employee-days (`output_data = missing`), share null."""
    return _data_missing(ctx, "OUTPUT_DATA_MISSING", "no_out")


#: Every rule, in the order of rules.md.
RULES: tuple[Rule, ...] = (
    Rule("ABSENT", "employee_day", absent),
    Rule("MISSING_CHECKIN", "employee_day", missing_checkin),
    Rule("MISSING_CHECKOUT", "employee_day", missing_checkout),
    Rule("LATE", "employee_day", late),
    Rule("EARLY_LEAVE", "employee_day", early_leave),
    Rule("WRONG_LOCATION", "employee_day", wrong_location),
    Rule("NO_LOCATION", "employee_day", no_location),
    Rule("HOME_UNREGISTERED", "employee_day", home_unregistered),
    Rule("NO_DAILY_OUTPUT", "employee_day", no_daily_output),
    Rule("LATE_DAILY_OUTPUT", "employee_day", late_daily_output),
    Rule("SHARED_COORDINATES", "day", shared_coordinates),
    Rule("SHARED_DEVICE", "day", shared_device),
    Rule("IMPOSSIBLE_TRAVEL", "employee_day", impossible_travel),
    Rule("DUPLICATE_OUTPUT", "employee_period", duplicate_output),
    Rule("WFH_QUOTA_EXCEEDED", "unit_day", wfh_quota_exceeded),
    Rule("WFH_NOT_ALLOWED", "unit_day", wfh_not_allowed),
    Rule("ATTENDANCE_DATA_MISSING", "unit_day", attendance_data_missing),
    Rule("OUTPUT_DATA_MISSING", "unit_day", output_data_missing),
)

assert tuple(r.code for r in RULES) == ALL_RULES, "registry out of step with schema.ALL_RULES"

VIOLATION_RULES: tuple[Rule, ...] = tuple(r for r in RULES if r.scope != "unit_day")
UNIT_RULES: tuple[Rule, ...] = tuple(r for r in RULES if r.scope == "unit_day")


def evaluate(ctx: RuleContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """All violations and unit findings, sorted as cli.md says."""
    vio = pl.concat([r.func(ctx) for r in VIOLATION_RULES], how="vertical").sort(
        list(VIOLATIONS_SORT)
    )
    units = pl.concat([r.func(ctx) for r in UNIT_RULES], how="vertical").sort(
        list(UNIT_FINDINGS_SORT)
    )
    violations_df, units_df = pl.collect_all([vio, units])
    return (
        violations_df.select(list(VIOLATIONS_SCHEMA)).cast(VIOLATIONS_SCHEMA),
        units_df.select(list(UNIT_FINDINGS_SCHEMA)).cast(UNIT_FINDINGS_SCHEMA),
    )

