"""History and missing data: the row in force, the agencies' data spans, empty audits.

``rules.md``: the employees table keeps one row per ``(nip, valid_from)``; on day
``d`` the **row in force** is the one with the greatest ``valid_from <= d`` (where
none has, the one with the smallest; an empty ``valid_from`` is the earliest).
An agency's **attendance span** (**output span**) runs from the first to the last
date on which the store holds an event (a report) of an employee of the agency,
the unit being that of the row in force on the event's (report's) date.

- ``in_force(employees)``: each employees row with the days it is in force;
- ``unit_spans(dates, people)``: per unit, the first and last date of ``dates``;
- ``require_attendance`` / ``reports_warning``: the audit's exit 3 when the audited
  days hold no attendance at all, and its warning when they hold no report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl

from wfhaudit.audit.day_masks import first_last, mask_dates
from wfhaudit.errors import DataError
from wfhaudit.schema import STATUS_REQUIRED

#: Columns of ``in_force``'s result beside the employees columns.
FORCE_FROM, FORCE_TO, HISTORY_FROM = "force_from", "force_to", "history_from"


def in_force(employees: pl.LazyFrame) -> pl.LazyFrame:
    """Each employees row with the days it is the row in force.

    ``force_from`` / ``force_to`` (inclusive; null = unbounded): the row with the
    smallest ``valid_from`` of a nip (an empty one is the smallest) is in force on
    every day before the next row's ``valid_from``; each later row from its own
    ``valid_from`` to the day before the next one's.  ``history_from``: on the
    nip's first row, its ``valid_from`` (null when empty, and on later rows):
    before that day the employee is active only with an ``active_from`` set
    (``rules.md``, new hires).
    """
    first = pl.int_range(pl.len()).over("nip") == 0
    following = pl.col("valid_from").shift(-1).over("nip")
    return (
        employees.sort("nip", "valid_from", nulls_last=False)
        .with_columns(
            pl.when(first).then(pl.lit(None, dtype=pl.Date)).otherwise(pl.col("valid_from"))
            .alias(FORCE_FROM),
            (following - pl.duration(days=1)).alias(FORCE_TO),
            pl.when(first).then(pl.col("valid_from")).alias(HISTORY_FROM),
        )
    )


def on_day(date: pl.Expr) -> pl.Expr:
    """Whether the row (of ``in_force``) is in force on ``date``."""
    return (pl.col(FORCE_FROM).is_null() | (pl.col(FORCE_FROM) <= date)) & (
        pl.col(FORCE_TO).is_null() | (date <= pl.col(FORCE_TO))
    )


def active_on(date: pl.Expr) -> pl.Expr:
    """Whether the employee of the row in force is active on ``date`` (``rules.md``)."""
    return (
        (pl.col("active_from").is_null() | (pl.col("active_from") <= date))
        & (pl.col("active_to").is_null() | (date <= pl.col("active_to")))
        & (
            pl.col(HISTORY_FROM).is_null()
            | (date >= pl.col(HISTORY_FROM))
            | pl.col("active_from").is_not_null()
        )
    )


def unit_spans(
    dates: pl.LazyFrame, people: pl.DataFrame, masks: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Per ``unit_code``: ``first`` and ``last`` date of the rows of ``dates`` (nip, date).

    ``people`` is ``in_force(employees)`` collected.  A row counts for the unit of
    the row in force on its date; rows of an unknown nip count for none.  Cheap on
    a large store: employees with one row (nearly all) are reduced to their first
    and last date in one pass; only the dates of employees with history are matched
    day by day with their rows.  With ``masks`` (``day_masks.day_masks``: the days
    each nip has rows on, per data file) the same from those, not from ``dates``.
    """
    rows = people.select("nip", "unit_code", FORCE_FROM, FORCE_TO)
    several = rows.filter(pl.len().over("nip") > 1)
    history = several.get_column("nip").unique().implode()
    single = rows.filter(pl.len().over("nip") == 1).select("nip", "unit_code")
    moved_nip = pl.col("nip").is_in(history)
    if masks is None:
        per_nip = (
            dates.filter(~moved_nip)
            .group_by("nip")
            .agg(pl.col("date").min().alias("first"), pl.col("date").max().alias("last"))
        )
        moved_dates = dates.filter(moved_nip).unique()
    else:
        per_nip = first_last(masks.filter(~moved_nip)).lazy()
        moved_dates = mask_dates(masks.filter(moved_nip)).lazy()
    plain = per_nip.join(single.lazy(), on="nip", how="inner").select("unit_code", "first", "last")
    moved = (
        moved_dates.join(several.lazy(), on="nip", how="inner")
        .filter(on_day(pl.col("date")))
        .select("unit_code", pl.col("date").alias("first"), pl.col("date").alias("last"))
    )
    # one query each, never ``collect_all``: the two share the scan of every date of the
    # store, and a shared sub-plan is cached whole in memory (issue 16: more than 8 GB at
    # 4 million employees and three months held)
    both = [plain.collect(engine="streaming")]
    if several.height:
        both.append(moved.collect(engine="streaming"))
    return (
        pl.concat(both)
        .group_by("unit_code")
        .agg(pl.col("first").min(), pl.col("last").max())
        .sort("unit_code")
    )


#: Names of the two spans of ``agency_spans``.
ATTENDANCE_SPAN, OUTPUT_SPAN = "attendance", "outputs"


def agency_spans(
    people: pl.DataFrame,
    attendance_dates: pl.LazyFrame,
    output_dates: pl.LazyFrame,
    masks: dict[str, pl.DataFrame] | None = None,
) -> dict[str, pl.DataFrame]:
    """Both spans per unit (``unit_spans``): ``{"attendance": ..., "outputs": ...}``;
    from the day masks of ``masks`` (``{"attendance": ..., "outputs": ...}``) if given."""
    masks = masks or {}
    return {
        ATTENDANCE_SPAN: unit_spans(attendance_dates, people, masks.get(ATTENDANCE_SPAN)),
        OUTPUT_SPAN: unit_spans(output_dates, people, masks.get(OUTPUT_SPAN)),
    }


#: The data-quality items of ``quality_lists`` (keys of audit.json's ``data_quality``).
QUALITY_LISTS: tuple[str, ...] = (
    "possibly_missing_data",
    "home_accepted_without_roster",
    "unknown_office",
    "unknown_office_wfo_days",
)


def quality_lists(
    evidence: pl.DataFrame, known_offices: set[str], gap_min_employees: int
) -> dict[str, Any]:
    """The data-quality items of the v2 rules (``rules.md``), from the evidence columns
    (``employee_days.parquet``: status, events, planned_mode, expected_mode,
    home_accepted, unit_code, nip, date, office_id).

    - ``possibly_missing_data``: agency-days too small for the gap rule (fewer than
      ``gap_min_employees`` required staff) inside the attendance span (their staff
      have the status ``required``) where nobody checked in:
      ``[{unit_code, date, employees}]``;
    - ``home_accepted_without_roster``: per agency, the required employee-days with
      events on a WFH-allowed day without a roster entry (planned WFO by default,
      the home also accepted);
    - ``unknown_office``: per employee whose office is not in ``offices``, the number
      of WFO days with events whose location could not be checked; and
      ``unknown_office_wfo_days``, their total.
    """
    # three lazy queries collected together: each filter reads only its columns and no
    # filtered copy of the range is made (at 4 million employees 0.5 against 1.2 s a
    # merge range)
    rows = evidence.lazy()
    required = pl.col("status") == STATUS_REQUIRED
    with_events = required & (pl.col("events") > 0)
    small = (
        rows.filter(required)
        .group_by("unit_code", "date")
        .agg(pl.len().cast(pl.Int64).alias("employees"), pl.col("events").sum().alias("ev"))
        .filter((pl.col("employees") < gap_min_employees) & (pl.col("ev") == 0))
        .select("unit_code", "date", "employees")
        .sort("unit_code", "date")
    )
    no_roster = (
        rows.filter(
            with_events & pl.col("home_accepted") & (pl.col("planned_mode") == "WFO")
        )
        .group_by("unit_code")
        .len()
        .sort("unit_code")
    )
    unknown = (
        rows.filter(
            with_events
            & (pl.col("expected_mode") == "WFO")
            & ~pl.col("office_id").is_in(sorted(known_offices))
        )
        .group_by("nip", "unit_code", "office_id")
        .agg(pl.len().cast(pl.Int64).alias("wfo_days"))
        .sort("unit_code", "nip", "office_id")
    )
    gaps, homes, offices = pl.collect_all([small, no_roster, unknown])
    return {
        "possibly_missing_data": gaps.with_columns(pl.col("date").cast(pl.String)).to_dicts(),
        "home_accepted_without_roster": dict(homes.iter_rows()),
        "unknown_office": offices.to_dicts(),
        "unknown_office_wfo_days": int(offices.get_column("wfo_days").sum()),
    }


def merge_quality_lists(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``quality_lists`` of the whole evidence from those of its ranges of unit codes
    (``parts``, in unit order; an agency in one range only): each list is per agency
    and sorted by agency first, so the lists are the ranges' lists one after the other."""
    merged: dict[str, Any] = {
        "possibly_missing_data": [],
        "home_accepted_without_roster": {},
        "unknown_office": [],
        "unknown_office_wfo_days": 0,
    }
    for part in parts:
        merged["possibly_missing_data"] += part["possibly_missing_data"]
        merged["home_accepted_without_roster"].update(part["home_accepted_without_roster"])
        merged["unknown_office"] += part["unknown_office"]
        merged["unknown_office_wfo_days"] += part["unknown_office_wfo_days"]
    return merged


def _months(dates: pl.LazyFrame) -> list[str]:
    """The months (``YYYY-MM``) of ``dates`` (a ``date`` column), sorted."""
    months = (
        dates.select(pl.col("date").dt.strftime("%Y-%m").alias("m"))
        .unique()
        .sort("m")
        .collect(engine="streaming")
    )
    return months.get_column("m").to_list()


def _span_text(days: list[dt.date]) -> str:
    first, last = min(days), max(days)
    return first.isoformat() if first == last else f"{first.isoformat()} .. {last.isoformat()}"


def require_attendance(
    audited: pl.DataFrame, attendance: pl.LazyFrame, store_dates: pl.LazyFrame
) -> None:
    """Raise ``DataError`` (exit 3) when the audited days hold no attendance at all.

    ``audited``: the audited calendar rows (``date``); ``attendance``: the period's
    attendance (``ts``); ``store_dates``: every attendance date of the store
    (``date``), whose months the message names.  Nothing is checked when no day is
    audited (a period wholly after the as-of date).
    """
    days = audited.get_column("date").to_list()
    if not days:
        return
    wanted = pl.Series("date", days, dtype=pl.Date).implode()
    held = (
        attendance.select(pl.col("ts").dt.date().alias("date"))
        .filter(pl.col("date").is_in(wanted))
        .head(1)
        .collect()
    )
    if held.height:
        return
    months = _months(store_dates)
    where = (
        f"the store holds attendance for {', '.join(months)}"
        if months
        else "the store holds no attendance at all"
    )
    raise DataError(
        f"no attendance at all on the audited days ({_span_text(days)}): {where}; "
        "ingest the K-Mob export of the period, or audit a period the store holds."
    )


def reports_warning(audited: pl.DataFrame, outputs: pl.LazyFrame) -> str | None:
    """A warning line when the audited days hold no daily report at all, else None.

    ``outputs``: the period's reports (``date``).  The audit still runs: every
    agency-day is then missing output data, not a missing report of its staff.
    """
    days = audited.get_column("date").to_list()
    if not days:
        return None
    wanted = pl.Series("date", days, dtype=pl.Date).implode()
    held = outputs.select("date").filter(pl.col("date").is_in(wanted)).head(1).collect()
    if held.height:
        return None
    return (
        f"warning: no daily report at all on the audited days ({_span_text(days)}): "
        "the output rules are skipped (OUTPUT_DATA_MISSING); ingest the reports of the period."
    )
