"""The planned month, computed by the audit engine itself (no second set of rules).

``planning_inputs`` builds the engine's ``AuditInputs`` for a month that has not
happened yet: the staff master, offices and leave of the store, a roster (the
stored one, or rows read from agency files), and **no** attendance or reports.
``planned_days`` runs the engine's employee-day build on every working day of
the month (no as-of cut: ``audited_days(calendar, None)``), so active staff,
the row in force, leave, the planned mode and the headcount are exactly the
audit's.  ``unit_findings`` applies the engine's own agency-day rules
(``WFH_QUOTA_EXCEEDED``, ``WFH_NOT_ALLOWED``) and its per-day headcount and
WFH count.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import polars as pl

from wfhaudit.audit.calendar import calendar
from wfhaudit.audit.employee_days import (
    STATUS_DUTY,
    STATUS_EXCUSED,
    audited_days,
    build_employee_days,
)
from wfhaudit.audit.inputs import AuditInputs
from wfhaudit.audit.period import Period, month_period
from wfhaudit.audit.rules import (
    RuleContext,
    _unit_days,
    wfh_not_allowed,
    wfh_quota_exceeded,
)
from wfhaudit.ingest.validate import parse_month
from wfhaudit.policy.model import Policy
from wfhaudit.schema import ATTENDANCE, LEAVE, OUTPUTS, ROSTER, TABLES
from wfhaudit.store import Store

#: The agency-day rules a roster plan can break.
PLAN_RULES: tuple[str, ...] = ("WFH_QUOTA_EXCEEDED", "WFH_NOT_ALLOWED")



def parse_roster_month(month: str) -> Period:
    """``--month YYYY-MM`` as the month's period (UsageError, exit 2, otherwise)."""
    year, number = parse_month(month)
    return month_period(year, number)


def _optional(store: Store, kind: str, period: Period) -> pl.LazyFrame:
    version = store.version(kind)
    if version is None:
        return TABLES[kind].empty().lazy()
    return store.scan(kind, period.start, period.end, version=version)


def planning_inputs(
    store: Store, period: Period, roster: pl.DataFrame | None = None
) -> AuditInputs:
    """The engine's inputs for ``period`` without attendance or reports.

    ``roster``: roster rows to plan with (``nip, date, mode``); None: the stored
    roster.  The staff master is required (``DataError``, exit 3, naming the
    missing table); offices, roster and leave may be absent.
    """
    employees = store.scan("employees")  # raises DataError when the store has none
    if roster is None:
        planned = _optional(store, "roster", period)
    else:
        planned = roster.lazy().select(list(ROSTER.columns))
    leave = _optional(store, "leave", period).filter(
        (pl.col("start") <= period.end) & (pl.col("end") >= period.start)
    )
    return AuditInputs(
        start=period.start,
        end=period.end,
        employees=employees,
        offices=_optional(store, "offices", period),
        roster=planned.filter(pl.col("date").is_between(period.start, period.end)),
        attendance=ATTENDANCE.empty().lazy(),
        outputs=OUTPUTS.empty().lazy(),
        leave=leave.select(list(LEAVE.columns)),
    )


def with_roster(inputs: AuditInputs, roster: pl.DataFrame) -> AuditInputs:
    """The same inputs with another roster (the suggested correction applied)."""
    return dataclasses.replace(
        inputs, roster=roster.lazy().select(list(ROSTER.columns))
    )


def working_calendar(policy: Policy, period: Period) -> pl.DataFrame:
    """The calendar of the period (every date, working or not)."""
    return calendar(policy, period.start, period.end)


@dataclass(frozen=True)
class Plan:
    """The engine's view of a planned month."""

    #: one row per active employee and working day (the engine's employee-day frame)
    employee_days: pl.DataFrame
    #: per (unit_code, date): headcount, wfh, wfh_period, max_share (the engine's)
    unit_days: pl.DataFrame
    #: the engine's WFH_QUOTA_EXCEEDED / WFH_NOT_ALLOWED findings (unit_findings columns)
    findings: pl.DataFrame


def plan_month(inputs: AuditInputs, policy: Policy, cal: pl.DataFrame) -> Plan:
    """Run the engine on every working day of ``cal`` (future days included)."""
    frames = build_employee_days(inputs, policy, audited_days(cal, None))
    days = frames.employee_days
    ctx = RuleContext(days.lazy(), frames.events.lazy(), frames.reports.lazy(), policy)
    unit_days, quota, not_allowed = pl.collect_all(
        [_unit_days(ctx), wfh_quota_exceeded(ctx), wfh_not_allowed(ctx)]
    )
    findings = pl.concat([quota, not_allowed], how="vertical_relaxed").sort(
        "unit_code", "date", "rule"
    )
    return Plan(days, unit_days, findings)


#: Not on leave: the employee-days the headcount and the WFH count are made of.
NOT_ON_LEAVE = ~pl.col("status").is_in([STATUS_EXCUSED, STATUS_DUTY])

