"""``roster export``: the consolidated roster of a month for the attendance app.

One row per active employee and working day, with the planned mode the audit
will use (the agency's roster entry, else the policy's default) and its source
(``roster`` / ``default``); sorted by agency, NIP, date.  Computed by the audit
engine (``plan.py``), so the export and the audit's ``employee_days.parquet``
agree on every employee-day.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from wfhaudit.errors import UsageError
from wfhaudit.policy.model import Policy
from wfhaudit.report.render import safe_workbook
from wfhaudit.roster.check import latest_rows
from wfhaudit.roster.plan import parse_roster_month, plan_month, planning_inputs, working_calendar
from wfhaudit.store import Store

EXPORT_SCHEMA = pl.Schema(
    {
        "unit_code": pl.String(),
        "nip": pl.String(),
        "name": pl.String(),
        "date": pl.Date(),
        "planned_mode": pl.String(),
        "source": pl.String(),
    }
)

EXPORT_FORMATS = ("csv", "xlsx")


def export_roster(
    store: Store, month: str, policy: Policy, *, unit: str | None = None
) -> pl.DataFrame:
    """The consolidated roster of ``month`` (``EXPORT_SCHEMA``), one agency or all."""
    period = parse_roster_month(month)
    inputs = planning_inputs(store, period)
    plan = plan_month(inputs, policy, working_calendar(policy, period))
    days = plan.employee_days
    if unit is not None:
        units = inputs.employees.select("unit_code").unique().collect().get_column("unit_code")
        if unit not in units.to_list():
            raise UsageError(
                f"unknown unit {unit!r}: no employee of the staff master has that unit_code."
            )
        days = days.filter(pl.col("unit_code") == unit)
    names = latest_rows(inputs.employees).select("nip", "name")
    return (
        days.select(
            "unit_code",
            "nip",
            "date",
            "planned_mode",
            pl.when(pl.col("roster_mode").is_null())
            .then(pl.lit("default"))
            .otherwise(pl.lit("roster"))
            .alias("source"),
        )
        .join(names, on="nip", how="left")
        .select(list(EXPORT_SCHEMA))
        .sort("unit_code", "nip", "date")
    )


def export_name(month: str, unit: str | None, ext: str) -> str:
    """``roster-<month>[-<unit>].<ext>``, the unit code safe for a file name."""
    from wfhaudit.roster.check import safe_unit

    return f"roster-{month}{'-' + safe_unit(unit) if unit else ''}.{ext}"


def write_export(rows: pl.DataFrame, path: Path) -> None:
    """Write the export as CSV or XLSX (by ``path``'s suffix), atomically."""
    from wfhaudit.report.render import _write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        _write_atomic(path, lambda p: rows.write_csv(p))
        return

    def excel(p: Path) -> None:
        wb = safe_workbook(p)
        rows.write_excel(
            wb, worksheet="roster", autofilter=True, freeze_panes=(1, 0),
            dtype_formats={pl.Date: "yyyy-mm-dd"},
        )
        wb.close()

    _write_atomic(path, excel)
