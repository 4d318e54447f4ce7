"""Run an audit: store + period + policy -> the result files of ``cli.md``.

``run_audit`` reads the store, builds the employee-day frame once, evaluates
the rule registry and writes, atomically (temporary files, then renames),
``violations.parquet``, ``unit_findings.parquet``, ``employee_days.parquet``,
``employee_summary.parquet`` and ``audit.json`` into the output directory.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from wfhaudit import __version__
from wfhaudit.audit.calendar import calendar
from wfhaudit.audit.clarifications import (
    apply_clarifications,
    load_clarifications,
    waive_violations,
    waiver_meta,
)
from wfhaudit.audit.employee_days import (
    STATUS_DUTY,
    STATUS_EXCUSED,
    STATUS_REQUIRED,
    EmployeeDayFrames,
    audited_days,
    build_attendance_days,
    build_employee_days,
)
from wfhaudit.audit.inputs import AuditInputs, load_inputs
from wfhaudit.audit.period import Period
from wfhaudit.audit.rules import (
    UNIT_RULES,
    VIOLATION_RULES,
    RuleContext,
    absent,
    early_leave,
    evaluate,
    late,
)
from wfhaudit.errors import DataError
from wfhaudit.policy.model import Policy
from wfhaudit.policy.sanctions import sanction_tier
from wfhaudit.policy.toml_out import policy_dict
from wfhaudit.schema import REJECTS, VIOLATIONS_SCHEMA
from wfhaudit.store import Store

#: Offset of WIB from UTC (no daylight saving time in Indonesia).
WIB = dt.timezone(dt.timedelta(hours=7), "WIB")

#: Columns of ``employee_days.parquet``, in order.
EMPLOYEE_DAY_COLUMNS: dict[str, pl.DataType] = {
    "nip": pl.String(),
    "date": pl.Date(),
    "unit_code": pl.String(),
    "office_id": pl.String(),
    "status": pl.String(),
    "leave_kind": pl.String(),
    "expected_mode": pl.String(),
    "start_min": pl.Int32(),
    "end_min": pl.Int32(),
    "first_in": pl.Datetime("us"),
    "last_out": pl.Datetime("us"),
    "events": pl.Int64(),
    "max_distance_m": pl.Float64(),
    "at_home": pl.Boolean(),
    "first_valid_report_at": pl.Datetime("us"),
    "violations": pl.Int64(),
}

EMPLOYEE_SUMMARY_COLUMNS: dict[str, pl.DataType] = {
    "nip": pl.String(),
    "name": pl.String(),
    "unit_code": pl.String(),
    "working_days": pl.Int64(),
    "excused_days": pl.Int64(),
    "duty_days": pl.Int64(),
    "violation_days": pl.Int64(),
    "absent_days": pl.Int64(),
    "late_minutes": pl.Int64(),
    "early_minutes": pl.Int64(),
    "equivalent_days": pl.Float64(),
    "ytd_equivalent_days": pl.Float64(),
    "ytd_tier": pl.String(),
}

RESULT_FILES = (
    "violations.parquet",
    "unit_findings.parquet",
    "employee_days.parquet",
    "employee_summary.parquet",
    # clarifications (issue 12): the waived findings
    "waived_violations.parquet",
    "waived_unit_findings.parquet",
    "audit.json",
)

Progress = Callable[[str], None]


def today_wib() -> dt.date:
    """Today's date in WIB."""
    return dt.datetime.now(WIB).date()


@dataclass
class AuditResult:
    """What an audit produced: the frames, the counts, where the files are."""

    period: Period
    as_of: dt.date
    out_dir: Path
    violations: pl.DataFrame
    unit_findings: pl.DataFrame
    employee_days: pl.DataFrame
    employee_summary: pl.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, Any]:
        return dict(self.meta["counts"])

    @property
    def days_left_out(self) -> list[str]:
        return list(self.meta["days_left_out"])


def _noop(_: str) -> None:
    return None


def run_audit(
    store: Store,
    period: Period,
    policy: Policy,
    *,
    as_of: dt.date | None = None,
    out_dir: Path,
    progress: Progress | None = None,
) -> AuditResult:
    """Audit ``period`` from ``store`` under ``policy``; write the result files to ``out_dir``.

    Days from ``as_of`` on (default: today in WIB) are not audited.
    """
    step = progress or _noop
    started = time.perf_counter()
    as_of = as_of or today_wib()
    step("reading the store")
    inputs = load_inputs(store, period.start, period.end)
    cal = calendar(policy, period.start, period.end)
    days = audited_days(cal, as_of)
    step("building employee-days and applying the rules")
    frames, violations, unit_findings = audit_days(inputs, policy, days)
    # --- clarifications (issue 12): the waiver step, right after the rules; waived
    # findings count nowhere else (evidence, summary, year to date, audit.json, --fail-on)
    clar_version = inputs.versions.get("clarifications")
    clarifications = load_clarifications(store, clar_version)
    waiver = apply_clarifications(violations, unit_findings, clarifications)
    violations, unit_findings = waiver.violations, waiver.unit_findings
    # --- end of the waiver step
    step("summarising")
    evidence = employee_day_evidence(frames.employee_days, violations)
    ytd = year_to_date(store, period, policy, as_of, violations, clarifications)
    summary = employee_summary(inputs, frames.employee_days, violations, ytd, policy)
    meta = _meta(store, period, policy, as_of, cal, inputs, frames, violations, unit_findings)
    waived_counts, meta["clarifications"] = waiver_meta(  # clarifications (issue 12)
        waiver.waived_violations, waiver.waived_unit_findings, clarifications, clar_version
    )
    meta["counts"].update(waived_counts)
    meta["run_seconds"] = round(time.perf_counter() - started, 3)
    step("writing results")
    write_results(
        out_dir,
        {
            "violations.parquet": violations,
            "unit_findings.parquet": unit_findings,
            "employee_days.parquet": evidence,
            "employee_summary.parquet": summary,
            # clarifications (issue 12)
            "waived_violations.parquet": waiver.waived_violations,
            "waived_unit_findings.parquet": waiver.waived_unit_findings,
        },
        meta,
    )
    return AuditResult(period, as_of, out_dir, violations, unit_findings, evidence, summary, meta)


def audit_days(
    inputs: AuditInputs, policy: Policy, days: pl.DataFrame
) -> tuple[EmployeeDayFrames, pl.DataFrame, pl.DataFrame]:
    """The employee-day frames, violations and unit findings of ``days`` (calendar rows).

    Pure: reads only ``inputs``; the unit of work a partitioned run repeats per
    block of days (every rule looks at one day, except DUPLICATE_OUTPUT, which
    needs all days of the period).
    """
    frames = build_employee_days(inputs, policy, days)
    ctx = RuleContext(
        frames.employee_days.lazy(), frames.events.lazy(), frames.reports.lazy(), policy
    )
    violations, unit_findings = evaluate(ctx)
    return frames, violations, unit_findings


# --- result frames --------------------------------------------------------------


def employee_day_evidence(employee_days: pl.DataFrame, violations: pl.DataFrame) -> pl.DataFrame:
    """``employee_days.parquet``: one row per audited employee-day with its evidence.

    Sorted by unit, nip, date.  The engine's frame (with ``ed_key``) is usually in
    that order already (employees are numbered by unit, then nip): then no sort.
    """
    per_day = violations.group_by("nip", "date").agg(pl.len().cast(pl.Int64).alias("violations"))
    keyed = "ed_key" in employee_days.columns
    columns = [c for c in EMPLOYEE_DAY_COLUMNS if c != "violations"]
    evidence = employee_days.select(*columns, *(["ed_key"] if keyed else [])).join(
        per_day, on=["nip", "date"], how="left", maintain_order="left"
    )
    if not (keyed and _sorted_by_unit_and_key(evidence)):
        # ed_key (when present) orders (nip, date) within a unit as integers: cheaper sort
        evidence = evidence.sort(["unit_code", "ed_key"] if keyed else ["unit_code", "nip", "date"])
    return evidence.with_columns(pl.col("violations").fill_null(0)).select(
        [pl.col(c).cast(t) for c, t in EMPLOYEE_DAY_COLUMNS.items()]
    )


def _sorted_by_unit_and_key(frame: pl.DataFrame) -> bool:
    """Whether rows are in (unit_code, ed_key) order: both columns ascending, no null unit."""
    unit = frame.get_column("unit_code")
    return unit.null_count() == 0 and unit.is_sorted() and frame.get_column("ed_key").is_sorted()


def _attendance_totals(violations: pl.DataFrame) -> pl.DataFrame:
    """Per nip: absent days, late minutes, early minutes (from ABSENT/LATE/EARLY_LEAVE)."""
    return violations.group_by("nip").agg(
        (pl.col("rule") == "ABSENT").sum().cast(pl.Int64).alias("absent_days"),
        pl.col("minutes").filter(pl.col("rule") == "LATE").sum().cast(pl.Int64).alias(
            "late_minutes"
        ),
        pl.col("minutes").filter(pl.col("rule") == "EARLY_LEAVE").sum().cast(pl.Int64).alias(
            "early_minutes"
        ),
    )


def year_to_date(
    store: Store,
    period: Period,
    policy: Policy,
    as_of: dt.date,
    violations: pl.DataFrame,
    clarifications: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per nip: ``ytd_equivalent_days`` from 1 January of the period end's year.

    The year runs from 1 January of ``period.end``'s year to the period end (days
    before ``as_of``).  The period's own days count as audited.  Earlier days count
    only where the store holds attendance on that day for someone of the
    employee's agency (a month, or an agency, the store does not hold is not
    counted as absence): they are audited with the
    ABSENT, LATE and EARLY_LEAVE rules under the same policy, month by month, on
    the reduced employee-day frame of ``build_attendance_days`` (no locations, no
    reports: a fraction of a full audit's work and memory).  ``violations`` are the
    period's unwaived ones; earlier days' findings are waived by ``clarifications``
    (issue 12) as the period's are.
    """
    year_start = dt.date(period.end.year, 1, 1)
    in_period = violations.filter(pl.col("date") >= year_start)
    parts = [_attendance_totals(in_period)]
    before_end = min(period.start - dt.timedelta(days=1), as_of - dt.timedelta(days=1))
    if year_start <= before_end and store.exists("attendance"):
        # (unit_code, date) pairs for which the store holds someone's attendance
        held_unit_days = (
            store.scan("attendance", year_start, before_end)
            .select("nip", pl.col("ts").dt.date().alias("date"))
            .filter(pl.col("date").is_between(year_start, before_end))
            .join(store.scan("employees").select("nip", "unit_code"), on="nip", how="inner")
            .select("unit_code", "date")
            .unique()
            .collect(engine="streaming")
        )
        held = held_unit_days.select("date").unique()
        for start, end in _months(year_start, before_end):
            days = audited_days(calendar(policy, start, end), as_of).join(
                held, on="date", how="semi"
            )
            if not days.height:
                continue
            inputs = load_inputs(store, start, end)
            ctx = RuleContext(
                build_attendance_days(inputs, policy, days).lazy(),
                pl.LazyFrame(),
                pl.LazyFrame(),
                policy,
            )
            earlier = (
                pl.concat([absent(ctx), late(ctx), early_leave(ctx)])
                .join(held_unit_days.lazy(), on=["unit_code", "date"], how="semi")
                .collect()
            )
            if clarifications is not None:  # clarifications (issue 12): the waiver step
                earlier = waive_violations(earlier, clarifications)
            parts.append(_attendance_totals(earlier))
    totals = (
        pl.concat(parts)
        .group_by("nip")
        .agg(pl.col("absent_days", "late_minutes", "early_minutes").sum())
    )
    return totals.select(
        "nip",
        (
            pl.col("absent_days")
            + (pl.col("late_minutes") + pl.col("early_minutes")) / policy.minutes_per_day
        )
        .cast(pl.Float64)
        .alias("ytd_equivalent_days"),
    )


def _months(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """``[start, end]`` cut at month boundaries: ``[(first day, last day), ...]``."""
    out = []
    while start <= end:
        following = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
        out.append((start, min(end, following - dt.timedelta(days=1))))
        start = following
    return out


def employee_summary(
    inputs: AuditInputs,
    employee_days: pl.DataFrame,
    violations: pl.DataFrame,
    ytd: pl.DataFrame,
    policy: Policy,
) -> pl.DataFrame:
    """``employee_summary.parquet``: the period summary per employee with an audited day."""
    days = employee_days.group_by("nip").agg(
        pl.len().cast(pl.Int64).alias("working_days"),
        (pl.col("status") == STATUS_EXCUSED).sum().cast(pl.Int64).alias("excused_days"),
        (pl.col("status") == STATUS_DUTY).sum().cast(pl.Int64).alias("duty_days"),
    )
    violation_days = violations.group_by("nip").agg(
        pl.col("date").n_unique().cast(pl.Int64).alias("violation_days")
    )
    names = inputs.employees.select("nip", "name", "unit_code").collect()
    summary = (
        days.join(names, on="nip", how="left")
        .join(violation_days, on="nip", how="left")
        .join(_attendance_totals(violations), on="nip", how="left")
        .join(ytd, on="nip", how="left")
        .with_columns(
            pl.col("violation_days", "absent_days", "late_minutes", "early_minutes").fill_null(0),
            pl.col("ytd_equivalent_days").fill_null(0.0),
        )
        .with_columns(
            (
                pl.col("absent_days")
                + (pl.col("late_minutes") + pl.col("early_minutes")) / policy.minutes_per_day
            )
            .cast(pl.Float64)
            .alias("equivalent_days"),
        )
    )
    tiers = [sanction_tier(v) for v in summary["ytd_equivalent_days"].to_list()]
    summary = summary.with_columns(pl.Series("ytd_tier", tiers, dtype=pl.String))
    return summary.select(
        [pl.col(c).cast(t) for c, t in EMPLOYEE_SUMMARY_COLUMNS.items()]
    ).sort("unit_code", "nip")


# --- audit.json ---------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return value


def _by_rule(frame: pl.DataFrame, codes: tuple[str, ...]) -> dict[str, int]:
    found = dict(frame.group_by("rule").len().iter_rows())
    return {code: int(found.get(code, 0)) for code in codes}


def _unknown_nip(lf: pl.LazyFrame, employees: pl.LazyFrame) -> int:
    unknown = lf.join(employees.select("nip"), on="nip", how="anti").select(pl.len())
    return int(unknown.collect(engine="streaming").item())


def data_quality(
    store: Store,
    inputs: AuditInputs,
    employee_days: pl.DataFrame,
    known: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The data-quality counts of ``audit.json``.

    ``known``: facts already counted while building the employee-day frame
    (``EmployeeDayFrames.quality``): the inputs are then not read again for them.
    """
    known = known or {}
    rejects: dict[str, int] = {}
    if store.exists(REJECTS.name):
        counts = store.scan(REJECTS.name).group_by("error_code").len().collect()
        rejects = {str(k): int(v) for k, v in sorted(counts.iter_rows())}
    person = "emp_idx" if "emp_idx" in employee_days.columns else "nip"
    people = employee_days.unique(person)
    audited_units = set(people["unit_code"].to_list())
    if "rostered_units" in known:
        rostered_units = set(known["rostered_units"])
    else:
        rostered_units = set(
            inputs.roster.join(inputs.employees.select("nip", "unit_code"), on="nip", how="inner")
            .select("unit_code")
            .unique()
            .collect()["unit_code"]
            .to_list()
        )

    def unknown(kind: str, lf: pl.LazyFrame) -> int:
        key = f"{kind}_unknown_nip"
        return int(known[key]) if key in known else _unknown_nip(lf, inputs.employees)

    return {
        "rejects_by_code": rejects,
        "attendance_unknown_nip": unknown("attendance", inputs.attendance),
        "roster_unknown_nip": unknown("roster", inputs.roster),
        "outputs_unknown_nip": unknown("outputs", inputs.outputs),
        "employees_without_home": int((~people["home_known"]).sum()),
        "employees_unknown_office": int((~people["office_known"]).sum()),
        "units_without_roster": sorted(audited_units - rostered_units),
    }


def audit_meta(
    store: Store,
    period: Period,
    policy: Policy,
    as_of: dt.date,
    cal: pl.DataFrame,
    inputs: AuditInputs,
    *,
    employees: int,
    employee_days: int,
    status: dict[str, int],
    by_rule: dict[str, int],
    unit_findings: pl.DataFrame,
    quality: dict[str, Any],
) -> dict[str, Any]:
    """``audit.json``: where the result came from and what it counts.

    Shared by ``run_audit`` and the partitioned runner, which pass their counts.
    """
    audited = cal.filter(pl.col("working") & (pl.col("date") < as_of))
    in_force = audited.get_column("wfh_period").drop_nulls().unique(maintain_order=True)
    return {
        "tool_version": __version__,
        "period": {
            "label": period.label,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
        },
        "as_of": as_of.isoformat(),
        "days_left_out": [d.isoformat() for d in period.dates() if d >= as_of],
        "policy": _jsonable(policy_dict(policy)),
        "policy_sources": list(policy.sources),
        "wfh_periods_in_force": in_force.to_list(),
        "store": {
            "path": str(store.path.resolve()),
            "versions": dict(inputs.versions),
        },
        "counts": {
            "employees": employees,
            "employee_days": employee_days,
            "excused": int(status.get(STATUS_EXCUSED, 0)),
            "duty": int(status.get(STATUS_DUTY, 0)),
            "required": int(status.get(STATUS_REQUIRED, 0)),
            "violations": sum(by_rule.values()),
            "by_rule": {r.code: int(by_rule.get(r.code, 0)) for r in VIOLATION_RULES},
            "unit_findings": unit_findings.height,
            "unit_findings_by_rule": _by_rule(unit_findings, tuple(r.code for r in UNIT_RULES)),
        },
        "data_quality": quality,
        "generated_at": dt.datetime.now(WIB).isoformat(timespec="seconds"),
    }


def _meta(
    store: Store,
    period: Period,
    policy: Policy,
    as_of: dt.date,
    cal: pl.DataFrame,
    inputs: AuditInputs,
    frames: EmployeeDayFrames,
    violations: pl.DataFrame,
    unit_findings: pl.DataFrame,
) -> dict[str, Any]:
    ed = frames.employee_days
    return audit_meta(
        store,
        period,
        policy,
        as_of,
        cal,
        inputs,
        employees=int(ed["emp_idx" if "emp_idx" in ed.columns else "nip"].n_unique()),
        employee_days=ed.height,
        status=dict(ed.group_by("status").len().iter_rows()),
        by_rule=_by_rule(violations, tuple(r.code for r in VIOLATION_RULES)),
        unit_findings=unit_findings,
        quality=data_quality(store, inputs, ed, frames.quality),
    )


# --- writing ----------------------------------------------------------------------


def write_results(out_dir: Path, frames: dict[str, pl.DataFrame], meta: dict[str, Any]) -> None:
    """Write every result file to a temporary directory, then rename them into ``out_dir``.

    ``audit.json`` is renamed last: a directory with an ``audit.json`` newer than its
    Parquet files is complete.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".audit-", dir=out_dir))
    except OSError as exc:
        raise DataError(
            f"cannot write the audit results to {out_dir}: {exc.strerror or exc}; "
            "choose another directory with --out."
        ) from exc
    try:
        for name, frame in frames.items():
            frame.write_parquet(tmp / name)
        (tmp / "audit.json").write_text(
            json.dumps(_jsonable(meta), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        for name in [*frames, "audit.json"]:
            os.replace(tmp / name, out_dir / name)
    except OSError as exc:
        raise DataError(
            f"cannot write the audit results to {out_dir}: {exc.strerror or exc}; "
            "free some space or choose another directory with --out."
        ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def empty_violations() -> pl.DataFrame:
    return pl.DataFrame(schema=VIOLATIONS_SCHEMA)
