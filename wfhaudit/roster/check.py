"""``roster check``: an agency's WFH plan against the policy and the staff master.

The planned month comes from the audit engine (``plan.py``): the check adds no
rule of its own about modes, headcount or the cap.  What it adds is what only a
plan has: which file (agency) an entry came from, entries the engine cannot use
(unknown NIPs, another agency's staff, non-working days, staff not active that
day), staff and days without any entry, and the suggested correction
(``suggest.py``).

Problems are rows of ``PROBLEM_SCHEMA``, one code each (``PROBLEMS``).  Only
``WFH_QUOTA_EXCEEDED`` and ``WFH_NOT_ALLOWED`` break the policy (exit 1); the
others tell the agency what to fix so that the plan says what it means.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from wfhaudit.audit.period import Period
from wfhaudit.errors import UsageError
from wfhaudit.ingest.core import FileSummary, validate_files
from wfhaudit.policy.model import Policy
from wfhaudit.roster.plan import (
    PLAN_RULES,
    Plan,
    parse_roster_month,
    plan_month,
    planning_inputs,
    working_calendar,
)
from wfhaudit.roster.suggest import Suggestion, suggest_correction
from wfhaudit.schema import ACTION_REJECTED
from wfhaudit.store import Store

#: Problem codes, in the order a report lists them.
PROBLEMS: tuple[str, ...] = (
    "WFH_QUOTA_EXCEEDED",  # planned WFH over max_share of the day's headcount
    "WFH_NOT_ALLOWED",  # planned WFH on a day / in an agency where WFH is not allowed
    "REJECTED_ROW",  # a row ingest would reject (same code and message)
    "NIP_UNKNOWN",  # an entry for a NIP not in the staff master
    "NIP_OTHER_UNIT",  # an entry for staff of another agency (on that day)
    "ENTRY_NOT_ACTIVE",  # an entry on a working day the employee is not active
    "ENTRY_NON_WORKING_DAY",  # an entry on a weekend or holiday
    "ENTRY_OUTSIDE_MONTH",  # entries dated outside the checked month
    "UNIT_WITHOUT_ENTRY",  # an agency without any entry in the month (all get the default)
    "EMPLOYEE_WITHOUT_ENTRY",  # active staff without any entry (they get the default)
    "DAY_WITHOUT_ENTRY",  # a working day without any entry of the agency
)

PROBLEM_SCHEMA = pl.Schema(
    {
        "unit_code": pl.String(),
        "problem": pl.String(),
        "date": pl.Date(),
        "nip": pl.String(),
        "name": pl.String(),
        "count": pl.Int64(),
        "headcount": pl.Int64(),
        "share": pl.Float64(),
        "max_share": pl.Float64(),
        "over": pl.Int64(),
        "detail": pl.String(),
        "source_file": pl.String(),
    }
)

#: Per checked agency and working day.
DAY_SCHEMA = pl.Schema(
    {
        "unit_code": pl.String(),
        "date": pl.Date(),
        "entries": pl.Int64(),
        "headcount": pl.Int64(),
        "wfh": pl.Int64(),
        "share": pl.Float64(),
        "max_share": pl.Float64(),
        "wfh_period": pl.String(),
        "quota_exceeded": pl.Boolean(),
        "wfh_not_allowed": pl.Int64(),
    }
)

_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def safe_unit(code: str) -> str:
    """A unit code as it may appear in a file name: only ``[A-Za-z0-9_-]``."""
    return _SAFE.sub("_", code) or "_"


@dataclass
class RosterCheck:
    """Everything a check found; ``render.py`` writes it, the CLI prints it."""

    period: Period
    #: ``files`` (agency files given) or ``store`` (the stored roster)
    source: str
    units: list[str]
    unit_names: dict[str, str]
    problems: pl.DataFrame
    days: pl.DataFrame
    suggestion: Suggestion
    #: nip and name of every employee of the staff master
    names: pl.DataFrame
    files: list[FileSummary] = field(default_factory=list)
    #: agency of each file given (None: could not be told)
    file_units: dict[str, str | None] = field(default_factory=dict)

    @property
    def month(self) -> str:
        return self.period.label

    def breaks(self, unit: str | None = None) -> dict[str, int]:
        """Agency-days breaking the policy, per rule (one agency, or all checked)."""
        rows = self.problems.filter(pl.col("problem").is_in(list(PLAN_RULES)))
        if unit is not None:
            rows = rows.filter(pl.col("unit_code") == unit)
        counts = dict(rows.group_by("problem").len().iter_rows())
        return {rule: int(counts.get(rule, 0)) for rule in PLAN_RULES}

    def problem_counts(self, unit: str | None) -> dict[str, int]:
        """Problems per code of one agency (None: those no agency could be told for)."""
        rows = self.problems.filter(
            pl.col("unit_code").is_null() if unit is None else pl.col("unit_code") == unit
        )
        counts = dict(rows.group_by("problem").len().iter_rows())
        return {code: int(counts[code]) for code in PROBLEMS if code in counts}


def latest_rows(employees: pl.LazyFrame) -> pl.DataFrame:
    """One row per NIP of the staff master: its latest (for names and agency names only).

    With history (a ``valid_from`` column), the row with the greatest ``valid_from``.
    """
    if "valid_from" in employees.collect_schema().names():
        employees = employees.sort("nip", "valid_from", nulls_last=False)
    return employees.collect().unique("nip", keep="last", maintain_order=True)


def _problems(frame: pl.DataFrame, problem: str) -> pl.DataFrame:
    """``frame``'s columns (a subset of PROBLEM_SCHEMA) as problem rows of ``problem``."""
    return frame.select(
        pl.lit(problem).alias("problem"),
        *[
            (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c)
            for c, t in PROBLEM_SCHEMA.items()
            if c != "problem"
        ],
    ).select(list(PROBLEM_SCHEMA))


def _file_units(
    entries: pl.DataFrame, files: list[Path], units: set[str]
) -> dict[str, str | None]:
    """The agency of each file: its name when that is a unit code, else most of its staff's.

    ``entries`` carry ``source_file`` and ``day_unit`` (the unit of the employee's row
    in force on the entry's day, by the engine; null when unknown).  Ties go to the
    smallest unit code.
    """
    by_upper = {u.upper(): u for u in units}
    majority = (
        entries.filter(pl.col("day_unit").is_not_null())
        .group_by("source_file", "day_unit")
        .len()
        .sort("source_file", "len", "day_unit", descending=[False, True, False])
        .unique("source_file", keep="first", maintain_order=True)
    )
    most = dict(majority.select("source_file", "day_unit").iter_rows())
    out: dict[str, str | None] = {}
    for path in files:
        name = str(path)
        out[name] = by_upper.get(Path(name).stem.strip().upper()) or most.get(name)
    return out


def _entry_units(entries: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """``entries`` (nip, date, ...) with ``day_unit`` and ``active`` from the engine.

    ``active``: the engine has the employee-day (active staff, working day).  Where it
    has not, ``day_unit`` is the engine's unit of the employee on the nearest planned
    day (null when the employee has none in the month).
    """
    base = plan.employee_days.select("nip", "date", pl.col("unit_code").alias("day_unit"))
    joined = entries.join(
        base.with_columns(pl.lit(True).alias("active")), on=["nip", "date"], how="left"
    ).with_columns(pl.col("active").fill_null(False))
    lost = joined.filter(~pl.col("active"))
    if lost.height == 0:
        return joined
    near = (
        lost.drop("day_unit")
        .with_row_index("_i")
        .sort("date")
        .join_asof(
            base.sort("date"), on="date", by="nip", strategy="nearest", check_sortedness=False
        )
        .sort("_i")
        .drop("_i")
    )
    return pl.concat([joined.filter(pl.col("active")), near.select(joined.columns)])


def check_roster(
    store: Store,
    month: str,
    policy: Policy,
    *,
    files: list[Path] | None = None,
    unit: str | None = None,
    profile: str = "canonical",
    profiles_file: Path | None = None,
    fmt: str | None = None,
    on_step: Callable[[str], None] | None = None,
) -> RosterCheck:
    """Check the roster of ``month`` (files given, or the stored one) against the policy.

    ``unit``: check that agency only.  Raises ``UsageError`` (exit 2) for a bad month
    or an unknown unit, ``DataError`` (exit 3) for unreadable files or a store
    without a staff master.
    """
    step = on_step or (lambda _message: None)
    period = parse_roster_month(month)
    summaries: list[FileSummary] = []
    rejects = None
    if files:
        rows, rejects, summaries = validate_files(
            "roster", list(files), profile=profile, profiles_file=profiles_file, fmt=fmt,
            month=month, on_step=step,
        )
        inside = pl.col("date").is_between(period.start, period.end)
        outside = rows.filter(~inside)
        rows = rows.filter(inside)
        inputs = planning_inputs(store, period, rows)
    else:
        inputs = planning_inputs(store, period)
        rows = inputs.roster.collect().with_columns(pl.lit(None, pl.String).alias("source_file"))
        outside = rows.head(0)
    step("planning the month with the audit engine")
    cal = working_calendar(policy, period)
    plan = plan_month(inputs, policy, cal)
    staff = latest_rows(inputs.employees).select("nip", "name", "unit_code", "unit_name")
    names = staff.select("nip", "name")
    unit_names = {
        code: name
        for code, name in staff.filter(pl.col("unit_name").is_not_null())
        .unique("unit_code", keep="last", maintain_order=True)
        .select("unit_code", "unit_name")
        .iter_rows()
    }
    planned_units = set(plan.employee_days.get_column("unit_code").unique().to_list())
    all_units = planned_units | set(staff.get_column("unit_code").unique().to_list())
    working = cal.filter(pl.col("working")).get_column("date")
    entries = _entry_units(
        rows.with_columns(pl.col("date").is_in(working.implode()).alias("working_day")), plan
    ).with_columns(pl.col("nip").is_in(staff.get_column("nip").implode()).alias("known"))
    if files:
        file_units = _file_units(entries, list(files), all_units)
        entries = entries.with_columns(
            pl.col("source_file")
            .replace_strict(file_units, default=None, return_dtype=pl.String)
            .alias("file_unit")
        )
        checked = sorted({u for u in file_units.values() if u is not None})
    else:
        file_units = {}
        entries = entries.with_columns(pl.col("day_unit").alias("file_unit"))
        checked = sorted(planned_units)
    if unit is not None:
        if unit not in all_units:
            raise UsageError(
                f"unknown unit {unit!r}: no employee of the staff master has that unit_code."
            )
        checked = [unit]
    step("finding the problems and the suggested correction")
    suggestion = suggest_correction(inputs, policy, cal, plan, checked)
    problems = _all_problems(
        plan, entries, outside, rejects, file_units, checked, names, cal, suggestion,
        unit is not None,
    )
    days = _days(plan, entries, checked)
    return RosterCheck(
        period=period,
        source="files" if files else "store",
        units=checked,
        unit_names={u: unit_names.get(u, u) for u in checked},
        problems=problems,
        days=days,
        suggestion=suggestion,
        names=names,
        files=summaries,
        file_units=file_units,
    )


def _all_problems(
    plan: Plan,
    entries: pl.DataFrame,
    outside: pl.DataFrame,
    rejects: pl.DataFrame | None,
    file_units: dict[str, str | None],
    checked: list[str],
    names: pl.DataFrame,
    cal: pl.DataFrame,
    suggestion: Suggestion,
    only_checked: bool,
) -> pl.DataFrame:
    mine = pl.col("unit_code").is_in(checked)
    parts: list[pl.DataFrame] = []
    findings = plan.findings.filter(mine)
    quota = findings.filter(pl.col("rule") == "WFH_QUOTA_EXCEEDED").join(
        plan.unit_days.select("unit_code", "date", "max_share"), on=["unit_code", "date"]
    ).join(suggestion.needed, on=["unit_code", "date"], how="left")
    parts.append(_problems(quota, "WFH_QUOTA_EXCEEDED"))
    not_allowed = findings.filter(pl.col("rule") == "WFH_NOT_ALLOWED").join(
        cal.select(
            "date",
            pl.when(pl.col("wfh_period").is_null())
            .then(pl.lit("no_wfh_period"))
            .when(~pl.col("wfh_weekday_allowed"))
            .then(pl.lit("weekday_not_allowed"))
            .otherwise(pl.lit("unit_exempt"))
            .alias("detail"),
        ),
        on="date",
    )
    parts.append(_problems(not_allowed, "WFH_NOT_ALLOWED"))
    if rejects is not None and "action" in rejects.columns:
        rejects = rejects.filter(pl.col("action") == ACTION_REJECTED)  # not blanked cells
    if rejects is not None and rejects.height:
        parts.append(
            _problems(
                rejects.with_columns(
                    pl.col("source_file")
                    .replace_strict(file_units, default=None, return_dtype=pl.String)
                    .alias("unit_code"),
                    pl.format(
                        "{}: {} ({})",
                        pl.col("source_row"),
                        pl.col("message"),
                        pl.col("error_code"),
                    ).alias("detail"),
                ),
                "REJECTED_ROW",
            )
        )
    grouped = [pl.len().cast(pl.Int64).alias("count"), pl.col("date").min().alias("date")]
    owner = pl.col("file_unit").alias("unit_code")
    unknown = entries.filter(~pl.col("known")).group_by("file_unit", "nip", "source_file").agg(
        *grouped
    )
    parts.append(_problems(unknown.with_columns(owner), "NIP_UNKNOWN"))
    other = (
        entries.filter(
            pl.col("known")
            & pl.col("day_unit").is_not_null()
            & pl.col("file_unit").is_not_null()
            & (pl.col("day_unit") != pl.col("file_unit"))
        )
        .group_by("file_unit", "nip", "source_file")
        .agg(*grouped, pl.col("day_unit").unique().sort().str.join(", ").alias("detail"))
        .join(names, on="nip", how="left")
    )
    parts.append(_problems(other.with_columns(owner), "NIP_OTHER_UNIT"))
    inactive = (
        entries.filter(pl.col("known") & pl.col("working_day") & ~pl.col("active"))
        .group_by("file_unit", "nip", "source_file")
        .agg(*grouped)
        .join(names, on="nip", how="left")
    )
    parts.append(_problems(inactive.with_columns(owner), "ENTRY_NOT_ACTIVE"))
    non_working = entries.filter(~pl.col("working_day")).join(
        cal.select(
            "date",
            pl.when(pl.col("holiday"))
            .then(pl.lit("holiday"))
            .otherwise(pl.col("weekday"))
            .alias("detail"),
        ),
        on="date",
        how="left",
    ).join(names, on="nip", how="left")
    parts.append(_problems(non_working.with_columns(owner), "ENTRY_NON_WORKING_DAY"))
    if outside.height:
        away = outside.group_by("source_file").agg(
            *grouped,
            pl.format("{}..{}", pl.col("date").min(), pl.col("date").max()).alias("detail"),
        ).with_columns(
            pl.col("source_file")
            .replace_strict(file_units, default=None, return_dtype=pl.String)
            .alias("unit_code"),
            pl.lit(None, pl.Date).alias("date"),
        )
        parts.append(_problems(away, "ENTRY_OUTSIDE_MONTH"))
    ed = plan.employee_days.filter(mine)
    has_entry = pl.col("roster_mode").is_not_null()
    silent = (
        ed.group_by("unit_code")
        .agg(
            has_entry.any().alias("_any"),
            pl.col("nip").n_unique().cast(pl.Int64).alias("count"),
            pl.col("planned_mode").unique().sort().str.join("/").alias("detail"),
        )
        .filter(~pl.col("_any"))
    )
    parts.append(_problems(silent, "UNIT_WITHOUT_ENTRY"))
    # an agency without any entry is one problem, not one per employee and per day
    ed = ed.filter(~pl.col("unit_code").is_in(silent.get_column("unit_code").implode()))
    without = (
        ed.group_by("unit_code", "nip")
        .agg(
            has_entry.any().alias("_any"),
            pl.len().cast(pl.Int64).alias("count"),
            pl.col("planned_mode").unique().sort().str.join("/").alias("detail"),
        )
        .filter(~pl.col("_any"))
        .join(names, on="nip", how="left")
    )
    parts.append(_problems(without, "EMPLOYEE_WITHOUT_ENTRY"))
    empty_days = (
        ed.group_by("unit_code", "date")
        .agg(has_entry.any().alias("_any"), pl.len().cast(pl.Int64).alias("headcount"))
        .filter(~pl.col("_any"))
    )
    parts.append(_problems(empty_days, "DAY_WITHOUT_ENTRY"))
    problems = pl.concat(parts, how="vertical")
    if only_checked:
        problems = problems.filter(pl.col("unit_code").is_in(checked))
    order = {code: i for i, code in enumerate(PROBLEMS)}
    return problems.sort(
        pl.col("unit_code"),
        pl.col("problem").replace_strict(order, return_dtype=pl.Int64),
        pl.col("date"),
        pl.col("nip"),
        pl.col("detail"),
        nulls_last=True,
        maintain_order=True,
    )


def _days(plan: Plan, entries: pl.DataFrame, checked: list[str]) -> pl.DataFrame:
    """Per checked agency and working day: entries, headcount, WFH, share, the findings."""
    mine = pl.col("unit_code").is_in(checked)
    counted = (
        entries.filter(pl.col("active"))
        .group_by(pl.col("day_unit").alias("unit_code"), "date")
        .agg(pl.len().cast(pl.Int64).alias("entries"))
    )
    findings = plan.findings.filter(mine)
    quota = findings.filter(pl.col("rule") == "WFH_QUOTA_EXCEEDED").select(
        "unit_code", "date", pl.lit(True).alias("quota_exceeded")
    )
    not_allowed = findings.filter(pl.col("rule") == "WFH_NOT_ALLOWED").select(
        "unit_code", "date", pl.col("count").alias("wfh_not_allowed")
    )
    keys = ["unit_code", "date"]
    days = (
        plan.unit_days.filter(mine)
        .join(counted, on=keys, how="left")
        .join(quota, on=keys, how="left")
        .join(not_allowed, on=keys, how="left")
        .with_columns(
            pl.col("entries").fill_null(0),
            pl.col("quota_exceeded").fill_null(False),
            pl.col("wfh_not_allowed").fill_null(0),
            pl.when(pl.col("headcount") > 0)
            .then(pl.col("wfh") / pl.col("headcount"))
            .alias("share"),
        )
    )
    return days.select(
        [pl.col(c).cast(t) for c, t in DAY_SCHEMA.items()]
    ).sort("unit_code", "date")


#: What ``roster check --fail-on`` can count.
FAIL_ON_CODES: tuple[str, ...] = (*PLAN_RULES, "any")


def check_thresholds(values: list[str] | None) -> dict[str, int]:
    """``--fail-on`` as in audit, limited to the plan's rules; default: any break fails."""
    from wfhaudit.audit.summary import parse_fail_on

    thresholds = parse_fail_on(values)
    bad = [code for code in thresholds if code not in FAIL_ON_CODES]
    if bad:
        raise UsageError(
            f"bad --fail-on {bad[0]}: roster check counts only "
            f"{', '.join(FAIL_ON_CODES)} (agency-days), e.g. --fail-on WFH_QUOTA_EXCEEDED=0."
        )
    return thresholds or {"any": 0}


def crossed_thresholds(check: RosterCheck, thresholds: dict[str, int]) -> list[str]:
    """One line per crossed threshold, e.g. ``WFH_QUOTA_EXCEEDED: 2 > 0``."""
    breaks = check.breaks()
    counts = {**breaks, "any": sum(breaks.values())}
    return [
        f"{code}: {counts[code]} > {limit}"
        for code, limit in thresholds.items()
        if counts[code] > limit
    ]
