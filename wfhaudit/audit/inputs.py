"""What an audit reads: the store's versions pinned once, and its tables for some days.

``employees``, ``offices``, ``attendance`` and ``outputs`` are required: a store
without them raises ``DataError`` (exit 3) naming every missing one at once.
``roster`` and ``leave`` may be absent: an absent roster means every day takes
the policy's default mode, an absent leave table means nobody is on leave.
Both are then empty frames.

``pin_versions`` takes the versions first; every later read (``load_inputs``,
every chunk, the year to date) is pinned to them, so
``audit.json`` names exactly the data read even when an ingest commits while
the audit runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import polars as pl

from wfhaudit.errors import DataError
from wfhaudit.schema import AUDIT_TABLES, CLARIFICATIONS, REJECTS, TABLES
from wfhaudit.store import Store

#: Tables an audit cannot run without.
REQUIRED_KINDS: tuple[str, ...] = ("employees", "offices", "attendance", "outputs")
#: Tables treated as empty when the store has none.
OPTIONAL_KINDS: tuple[str, ...] = ("roster", "leave")


@dataclass(frozen=True)
class AuditInputs:
    """The six input tables for ``[start, end]`` (attendance by local date of ``ts``).

    Fields beyond the six tables are small store-wide side inputs: a chunk's
    inputs are ``dataclasses.replace(template, start=..., end=..., **tables)``,
    so every such field reaches every chunk unchanged.
    """

    start: dt.date
    end: dt.date
    employees: pl.LazyFrame
    offices: pl.LazyFrame
    roster: pl.LazyFrame
    attendance: pl.LazyFrame
    outputs: pl.LazyFrame
    leave: pl.LazyFrame
    #: decisions that waive findings (issue 12; ``wfhaudit.audit.clarifications``), the
    #: rows whose days overlap ``[start, end]``; empty without the table
    clarifications: pl.LazyFrame = field(default_factory=lambda: CLARIFICATIONS.empty().lazy())
    versions: dict[str, int | None] = field(default_factory=dict)
    #: The agencies' attendance and output spans over the whole store (``spans.agency_spans``,
    #: computed once by the snapshot); None: drawn from this input's own rows.
    spans: dict[str, pl.DataFrame] | None = None
    #: The as-of date (reports whose cutoff is after its start are ``pending``); None: none.
    as_of: dt.date | None = None
    #: Names the employees rows of ``employees`` (store, pinned version, agency group) when
    #: they come from the store: chunks with the same key share one employee index
    #: (``employee_days``: issue 16, numbering 4 million employees once, not per chunk);
    #: None: computed from the rows every time.
    employees_key: str | None = None

    def attendance_dates(self) -> pl.LazyFrame:
        """``(nip, date)`` of the attendance rows of this input."""
        return self.attendance.select("nip", pl.col("ts").dt.date().alias("date"))

    def output_dates(self) -> pl.LazyFrame:
        """``(nip, date)`` of the reports of this input."""
        return self.outputs.select("nip", "date")


def pin_versions(store: Store) -> dict[str, int | None]:
    """The current version of every table (and of the rejects); a ``DataError`` naming every
    required table the store lacks."""
    versions = {kind: store.version(kind) for kind in (*TABLES, REJECTS.name)}
    missing = [kind for kind in REQUIRED_KINDS if versions[kind] is None]
    if missing:
        names = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " or " + missing[-1]
        first = " FILE'; '".join(f"wfhaudit ingest {kind}" for kind in missing)
        raise DataError(
            f"the store {store.path} has no {names} table{'s' if len(missing) > 1 else ''}, "
            f"which an audit needs; ingest {'them' if len(missing) > 1 else 'it'} first with "
            f"'{first} FILE'."
        )
    return versions


def in_range(
    tables: dict[str, pl.LazyFrame], start: dt.date, end: dt.date
) -> dict[str, pl.LazyFrame]:
    """The six tables restricted to ``[start, end]`` (inclusive), canonical columns only.

    Attendance by the local date of ``ts``, outputs and roster by ``date``, leave
    overlapping the range; employees and offices whole.
    """
    lo = dt.datetime(start.year, start.month, start.day)
    hi = dt.datetime(end.year, end.month, end.day) + dt.timedelta(days=1)
    keep = {
        "attendance": (pl.col("ts") >= lo) & (pl.col("ts") < hi),
        "outputs": pl.col("date").is_between(start, end),
        "roster": pl.col("date").is_between(start, end),
        "leave": (pl.col("start") <= end) & (pl.col("end") >= start),
        "clarifications": (pl.col("start") <= end) & (pl.col("end") >= start),
    }
    return {
        kind: (tables[kind].filter(keep[kind]) if kind in keep else tables[kind]).select(
            list(table.columns)
        )
        for kind, table in AUDIT_TABLES.items()
    }


def with_tables(
    template: AuditInputs, start: dt.date, end: dt.date, tables: dict[str, pl.LazyFrame]
) -> AuditInputs:
    """``template`` (its versions and side inputs) with other tables for ``[start, end]``."""
    return replace(template, start=start, end=end, **tables)  # type: ignore[arg-type]


def store_tables(
    store: Store, start: dt.date, end: dt.date, versions: dict[str, int | None]
) -> dict[str, pl.LazyFrame]:
    """The six tables of ``store`` at ``versions`` for ``[start, end]`` (lazy, month-pruned)."""
    scans = {
        kind: store.scan(kind, start, end, version=version)
        if (version := versions.get(kind)) is not None
        else TABLES[kind].empty().lazy()
        for kind in AUDIT_TABLES
    }
    return in_range(scans, start, end)


def store_dates(
    store: Store, versions: dict[str, int | None]
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """``(nip, date)`` of every attendance row and every report of the store (for the
    agencies' spans, ``rules.md``): two lazy column scans."""
    return (
        store.scan("attendance", version=versions["attendance"]).select(
            "nip", pl.col("ts").dt.date().alias("date")
        ),
        store.scan("outputs", version=versions["outputs"]).select("nip", "date"),
    )


def load_inputs(
    store: Store,
    start: dt.date,
    end: dt.date,
    *,
    versions: dict[str, int | None] | None = None,
) -> AuditInputs:
    """The store's tables needed to audit ``[start, end]`` (inclusive), lazily.

    Pinned to ``versions`` (default: pinned now).  Raises ``DataError`` when a
    required table is missing.  Outputs are selected by the report's ``date`` (a
    report may be submitted days later).
    """
    pinned = versions if versions is not None else pin_versions(store)
    return AuditInputs(
        start=start,
        end=end,
        **store_tables(store, start, end, pinned),  # type: ignore[arg-type]
        versions=pinned,
    )
