"""Load what an audit needs from the store, as LazyFrames pruned to the period.

``employees``, ``offices``, ``attendance`` and ``outputs`` are required: a store
without one of them raises ``DataError`` (exit 3).  ``roster`` and ``leave`` may
be absent: an absent roster means every day takes the policy's default mode, an
absent leave table means nobody is on leave.  Both are then empty frames.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from wfhaudit.schema import ATTENDANCE, LEAVE, OUTPUTS, ROSTER, TABLES
from wfhaudit.store import Store

#: Tables an audit cannot run without.
REQUIRED_KINDS: tuple[str, ...] = ("employees", "offices", "attendance", "outputs")
#: Tables treated as empty when the store has none.
OPTIONAL_KINDS: tuple[str, ...] = ("roster", "leave")


@dataclass(frozen=True)
class AuditInputs:
    """The six input tables for ``[start, end]`` (attendance by local date of ``ts``)."""

    start: dt.date
    end: dt.date
    employees: pl.LazyFrame
    offices: pl.LazyFrame
    roster: pl.LazyFrame
    attendance: pl.LazyFrame
    outputs: pl.LazyFrame
    leave: pl.LazyFrame
    versions: dict[str, int | None] = field(default_factory=dict)
    #: Every attendance date (``nip``, ``date`` of ``ts``) and report date (``nip``,
    #: ``date``) of the whole store, for the agencies' data spans (``rules.md``);
    #: None: the period's own rows stand for them (inputs built by hand in tests).
    store_attendance_dates: pl.LazyFrame | None = None
    store_output_dates: pl.LazyFrame | None = None
    #: The as-of date (reports whose cutoff is after its start are ``pending``); None: none.
    as_of: dt.date | None = None
    #: The agencies' spans, computed beforehand (``spans.agency_spans``: a partitioned run
    #: computes them once over the whole store); None: computed from the dates above.
    spans: dict[str, pl.DataFrame] | None = None

    def attendance_dates(self) -> pl.LazyFrame:
        """``(nip, date)`` of every attendance row the spans look at."""
        if self.store_attendance_dates is not None:
            return self.store_attendance_dates
        return self.attendance.select("nip", pl.col("ts").dt.date().alias("date"))

    def output_dates(self) -> pl.LazyFrame:
        """``(nip, date)`` of every report the spans look at."""
        if self.store_output_dates is not None:
            return self.store_output_dates
        return self.outputs.select("nip", "date")


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def _scan_optional(
    store: Store, kind: str, start: dt.date, end: dt.date, version: int | None
) -> pl.LazyFrame:
    if version is not None:
        return store.scan(kind, start, end, version=version)
    return TABLES[kind].empty().lazy()


def load_inputs(
    store: Store, start: dt.date, end: dt.date, *, as_of: dt.date | None = None
) -> AuditInputs:
    """The store's tables needed to audit ``[start, end]`` (inclusive), lazily.

    Raises ``DataError`` when a required table is missing.  Outputs are
    selected by the report's ``date`` (a report may be submitted days later).
    """
    # The versions are taken first and every scan is pinned to them, so audit.json names
    # exactly the data read even when an ingest commits while the audit runs.
    versions = {kind: store.version(kind) for kind in TABLES}
    for kind in REQUIRED_KINDS:
        if versions[kind] is None:
            store.scan(kind)  # raises DataError naming the missing table
    lo, hi = _midnight(start), _midnight(end + dt.timedelta(days=1))
    attendance = store.scan("attendance", start, end, version=versions["attendance"]).filter(
        (pl.col("ts") >= lo) & (pl.col("ts") < hi)
    )
    outputs = store.scan("outputs", start, end, version=versions["outputs"]).filter(
        pl.col("date").is_between(start, end)
    )
    roster = _scan_optional(store, "roster", start, end, versions["roster"]).filter(
        pl.col("date").is_between(start, end)
    )
    leave = _scan_optional(store, "leave", start, end, versions["leave"]).filter(
        (pl.col("start") <= end) & (pl.col("end") >= start)
    )
    return AuditInputs(
        start=start,
        end=end,
        employees=store.scan("employees", version=versions["employees"]),
        offices=store.scan("offices", version=versions["offices"]),
        roster=roster.select(list(ROSTER.columns)),
        attendance=attendance.select(list(ATTENDANCE.columns)),
        outputs=outputs.select(list(OUTPUTS.columns)),
        leave=leave.select(list(LEAVE.columns)),
        versions=versions,
        store_attendance_dates=store.scan("attendance", version=versions["attendance"]).select(
            "nip", pl.col("ts").dt.date().alias("date")
        ),
        store_output_dates=store.scan("outputs", version=versions["outputs"]).select(
            "nip", "date"
        ),
        as_of=as_of,
    )
