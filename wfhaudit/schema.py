"""The canonical tables: columns, Polars dtypes, required columns, keys, enums.

This module is the single definition of what the store holds (``data.md`` of
the spec).  Ingest validates into these shapes, the store writes them, the audit
reads them.  Import it; never restate a column list elsewhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

#: Local time of every timestamp in the store (WIB, UTC+7).
TIMEZONE = "Asia/Jakarta"

#: The offset of WIB from UTC (no daylight saving time in Indonesia): "today", clocks.
WIB = dt.timezone(dt.timedelta(hours=7), "WIB")

#: Mean Earth radius (IUGG), metres: the sphere of every distance (audit and sample data).
EARTH_RADIUS_M = 6_371_008.8

#: Timestamps are stored naive, in WIB, microsecond precision.
DATETIME = pl.Datetime("us")

#: Name of the derived partition column (``YYYY-MM``) on partitioned tables.
PARTITION_COLUMN = "month"


@dataclass(frozen=True)
class Table:
    """One canonical table of the store."""

    name: str
    columns: dict[str, pl.DataType]
    required: tuple[str, ...]
    key: tuple[str, ...]
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: column whose month (``YYYY-MM``) partitions the Delta table, or None.
    partition_source: str | None = None
    #: pairs of columns that must be both present or both empty.
    pairs: tuple[tuple[str, str], ...] = ()
    #: optional text key columns where an empty cell is a value of its own: stored as ""
    #: (a key column never holds a null in the store), read back as "" (``clarifications``).
    blank_keys: tuple[str, ...] = ()
    #: the date (or datetime) column ``ingest --replace-period FROM..TO`` selects the rows
    #: to replace by; None: the table has no dates to replace by.
    period_column: str | None = None

    @property
    def schema(self) -> pl.Schema:
        """The canonical columns as a Polars schema (no partition column)."""
        return pl.Schema(self.columns)

    @property
    def store_schema(self) -> pl.Schema:
        """The columns as stored: canonical columns plus ``month`` if partitioned."""
        cols = dict(self.columns)
        if self.partition_source is not None:
            cols[PARTITION_COLUMN] = pl.String()
        return pl.Schema(cols)

    @property
    def value_columns(self) -> tuple[str, ...]:
        """Columns that are not part of the key."""
        return tuple(c for c in self.columns if c not in self.key)

    def partition_expr(self) -> pl.Expr | None:
        """Expression computing the ``month`` partition value, or None."""
        if self.partition_source is None:
            return None
        return pl.col(self.partition_source).dt.strftime("%Y-%m").alias(PARTITION_COLUMN)

    def empty(self) -> pl.DataFrame:
        """An empty frame with the canonical schema."""
        return pl.DataFrame(schema=self.schema)

    def file_order(self) -> list[pl.Expr]:
        """The order of the rows inside every data file of the store (``docs/store.md``,
        layout): a day-keyed table sorted by its date (``partition_source``; check-ins by
        their time), so that each Parquet row group of a file covers a day or a few and a
        reader of one day skips the others by their statistics.  One column, not the
        key: sorting by ``(date, nip, ts)`` costs five times as much at ingest and no
        reader uses the order within a day.  Other tables: none (they are read whole)."""
        return [] if self.partition_source is None else [pl.col(self.partition_source)]

    def canonical_exprs(self) -> list[pl.Expr]:
        """The canonical columns cast to their dtypes, an empty ``blank_keys`` cell as ""."""
        return [
            pl.col(c).cast(t).fill_null("") if c in self.blank_keys else pl.col(c).cast(t)
            for c, t in self.columns.items()
        ]


EMPLOYEES = Table(
    name="employees",
    columns={
        "nip": pl.String(),
        "name": pl.String(),
        "unit_code": pl.String(),
        "unit_name": pl.String(),
        "office_id": pl.String(),
        "home_lat": pl.Float64(),
        "home_lon": pl.Float64(),
        "active_from": pl.Date(),
        "active_to": pl.Date(),
        "valid_from": pl.Date(),
    },
    required=("nip", "name", "unit_code", "office_id"),
    key=("nip", "valid_from"),
    pairs=(("home_lat", "home_lon"),),
    period_column="valid_from",
)

OFFICES = Table(
    name="offices",
    columns={
        "office_id": pl.String(),
        "name": pl.String(),
        "lat": pl.Float64(),
        "lon": pl.Float64(),
        "radius_m": pl.Float64(),
    },
    required=("office_id", "lat", "lon"),
    key=("office_id",),
)

ROSTER = Table(
    name="roster",
    columns={
        "nip": pl.String(),
        "date": pl.Date(),
        "mode": pl.String(),
    },
    required=("nip", "date", "mode"),
    key=("nip", "date"),
    enums={"mode": ("WFH", "WFO")},
    partition_source="date",
    period_column="date",
)

ATTENDANCE = Table(
    name="attendance",
    columns={
        "nip": pl.String(),
        "ts": DATETIME,
        "kind": pl.String(),
        "lat": pl.Float64(),
        "lon": pl.Float64(),
        "accuracy_m": pl.Float64(),
        "device_id": pl.String(),
        "mode": pl.String(),
    },
    required=("nip", "ts", "kind"),
    key=("nip", "ts", "kind"),
    enums={"kind": ("IN", "OUT"), "mode": ("WFO", "WFH")},
    partition_source="ts",
    pairs=(("lat", "lon"),),
    period_column="ts",
)

OUTPUTS = Table(
    name="outputs",
    columns={
        "nip": pl.String(),
        "date": pl.Date(),
        "submitted_at": DATETIME,
        "text": pl.String(),
    },
    required=("nip", "date", "submitted_at", "text"),
    key=("nip", "date", "submitted_at"),
    partition_source="date",
    period_column="date",
)

LEAVE = Table(
    name="leave",
    columns={
        "nip": pl.String(),
        "start": pl.Date(),
        "end": pl.Date(),
        "kind": pl.String(),
    },
    required=("nip", "start", "end", "kind"),
    key=("nip", "start", "kind"),
    enums={"kind": ("CUTI", "SAKIT", "IZIN", "DINAS_LUAR", "TUGAS_BELAJAR")},
    period_column="start",
)

#: Public and agency feedback (optional; read only by ``evaluate``).
FEEDBACK = Table(
    name="feedback",
    columns={
        "date": pl.Date(),
        "unit_code": pl.String(),
        "channel": pl.String(),
        "category": pl.String(),
        # a number of complaints (default 1); Float64 because ingest parses numbers as
        # floats; ``evaluate`` reads it as a whole count
        "count": pl.Float64(),
    },
    required=("date", "unit_code", "channel"),
    key=("date", "unit_code", "channel", "category"),
    partition_source="date",
)

#: The tables an audit reads (the fields of ``AuditInputs``; clarifications added below).
AUDIT_TABLES: dict[str, Table] = {
    t.name: t for t in (EMPLOYEES, OFFICES, ROSTER, ATTENDANCE, OUTPUTS, LEAVE)
}
#: Every input kind (what ingest accepts), in the order a fresh store is best filled.
TABLES: dict[str, Table] = {**AUDIT_TABLES, FEEDBACK.name: FEEDBACK}
KINDS: tuple[str, ...] = tuple(TABLES)

#: Rejected rows of every ingest, kept in the store for the data-quality report.
REJECTS = Table(
    name="rejects",
    columns={
        "kind": pl.String(),
        "source_file": pl.String(),
        "source_row": pl.String(),  # "12" (CSV line, header = 1) or "Sheet1!12"
        "values": pl.String(),  # the original cells, as JSON
        "error_code": pl.String(),
        "message": pl.String(),
        #: "rejected" (the row was not stored) or "blanked" (a bad optional cell was
        #: stored empty, the row kept); empty in rows written before v2 = rejected
        "action": pl.String(),
        "ingested_at": DATETIME,
    },
    required=("kind", "source_file", "source_row", "error_code", "message"),
    key=("kind", "source_file", "source_row", "error_code", "ingested_at"),
)

#: ``REJECTS.action`` values.
ACTION_REJECTED = "rejected"
ACTION_BLANKED = "blanked"

#: Ingest error codes (data.md, after the Frictionless catalogue).
ERROR_CODES: tuple[str, ...] = (
    "missing-column",
    "missing-value",
    "type-error",
    "bad-nip",
    "out-of-range",
    "bad-enum",
    "duplicate-row",
    "conflict",
)

LEAVE_EXCUSED: tuple[str, ...] = ("CUTI", "SAKIT", "IZIN", "TUGAS_BELAJAR")
LEAVE_DUTY = "DINAS_LUAR"

# --- audit result files (cli.md) -------------------------------------------

VIOLATIONS_SCHEMA = pl.Schema(
    {
        "nip": pl.String(),
        "date": pl.Date(),
        "unit_code": pl.String(),
        "rule": pl.String(),
        "minutes": pl.Int64(),
        "distance_m": pl.Float64(),
        "detail": pl.String(),
    }
)
VIOLATIONS_SORT = ("unit_code", "nip", "date", "rule")

UNIT_FINDINGS_SCHEMA = pl.Schema(
    {
        "unit_code": pl.String(),
        "date": pl.Date(),
        "rule": pl.String(),
        "count": pl.Int64(),
        "headcount": pl.Int64(),
        "share": pl.Float64(),
    }
)
UNIT_FINDINGS_SORT = ("unit_code", "date", "rule")

#: ``employee_days.parquet``: the evidence, one row per audited employee-day.
EMPLOYEE_DAYS_SCHEMA = pl.Schema(
    {
        "nip": pl.String(),
        "date": pl.Date(),
        "unit_code": pl.String(),
        "office_id": pl.String(),
        "status": pl.String(),
        "output_data": pl.String(),
        "leave_kind": pl.String(),
        "planned_mode": pl.String(),
        "expected_mode": pl.String(),
        "home_accepted": pl.Boolean(),
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
)
EMPLOYEE_DAYS_SORT = ("unit_code", "nip", "date")

#: ``employee_summary.parquet``: the period summary per employee with an audited day.
EMPLOYEE_SUMMARY_SCHEMA = pl.Schema(
    {
        "nip": pl.String(),
        "name": pl.String(),
        "unit_code": pl.String(),
        "working_days": pl.Int64(),
        "excused_days": pl.Int64(),
        "duty_days": pl.Int64(),
        "no_attendance_data_days": pl.Int64(),
        "violation_days": pl.Int64(),
        "absent_days": pl.Int64(),
        "late_minutes": pl.Int64(),
        "early_minutes": pl.Int64(),
        "equivalent_days": pl.Float64(),
        "ytd_equivalent_days": pl.Float64(),
        "ytd_tier": pl.String(),
    }
)
EMPLOYEE_SUMMARY_SORT = ("unit_code", "nip")

#: The Parquet result files of an audit (cli.md) with their columns and order; every
#: run mode writes each of them, then ``AUDIT_JSON`` last.
RESULT_FILES: dict[str, tuple[pl.Schema, tuple[str, ...]]] = {
    "violations.parquet": (VIOLATIONS_SCHEMA, VIOLATIONS_SORT),
    "unit_findings.parquet": (UNIT_FINDINGS_SCHEMA, UNIT_FINDINGS_SORT),
    "employee_days.parquet": (EMPLOYEE_DAYS_SCHEMA, EMPLOYEE_DAYS_SORT),
    "employee_summary.parquet": (EMPLOYEE_SUMMARY_SCHEMA, EMPLOYEE_SUMMARY_SORT),
}
AUDIT_JSON = "audit.json"

#: Rule codes, in the order of rules.md.
EMPLOYEE_DAY_RULES: tuple[str, ...] = (
    "ABSENT",
    "MISSING_CHECKIN",
    "MISSING_CHECKOUT",
    "LATE",
    "EARLY_LEAVE",
    "WRONG_LOCATION",
    "NO_LOCATION",
    "HOME_UNREGISTERED",
    "NO_DAILY_OUTPUT",
    "LATE_DAILY_OUTPUT",
)
INTEGRITY_RULES: tuple[str, ...] = (
    "SHARED_COORDINATES",
    "SHARED_DEVICE",
    "IMPOSSIBLE_TRAVEL",
    "DUPLICATE_OUTPUT",
)
UNIT_RULES: tuple[str, ...] = (
    "WFH_QUOTA_EXCEEDED",
    "WFH_NOT_ALLOWED",
    "ATTENDANCE_DATA_MISSING",
    "OUTPUT_DATA_MISSING",
)
#: Agency findings that say data is missing (shown as missing data, not as violations).
DATA_MISSING_RULES: tuple[str, ...] = ("ATTENDANCE_DATA_MISSING", "OUTPUT_DATA_MISSING")
ALL_RULES: tuple[str, ...] = EMPLOYEE_DAY_RULES + INTEGRITY_RULES + UNIT_RULES

#: Statuses of an audited employee-day (rules.md), in the order they are decided.
STATUS_EXCUSED = "excused"
STATUS_DUTY = "duty"
STATUS_NO_ATTENDANCE_DATA = "no_attendance_data"
STATUS_REQUIRED = "required"
STATUSES: tuple[str, ...] = (
    STATUS_EXCUSED,
    STATUS_DUTY,
    STATUS_NO_ATTENDANCE_DATA,
    STATUS_REQUIRED,
)

#: Values of the evidence column ``output_data`` (null on an excused day).
OUTPUT_PRESENT = "present"
OUTPUT_MISSING = "missing"
OUTPUT_PENDING = "pending"
OUTPUT_DATA_VALUES: tuple[str, ...] = (OUTPUT_PRESENT, OUTPUT_MISSING, OUTPUT_PENDING)
# --- clarifications: decisions that waive findings (data.md, rules.md) ----------------

#: Rows of ``clarifications``; an empty ``nip``/``unit_code``/``rule`` matches every value
#: (stored as "": a key column never holds a null).  Defined after the rule codes, whose
#: names are its ``rule`` enum, and registered as an input kind below.
CLARIFICATIONS = Table(
    name="clarifications",
    columns={
        "nip": pl.String(),
        "unit_code": pl.String(),
        "start": pl.Date(),
        "end": pl.Date(),
        "rule": pl.String(),
        "reason": pl.String(),
        "decided_by": pl.String(),
    },
    required=("start", "end", "reason", "decided_by"),
    key=("nip", "unit_code", "start", "rule"),
    enums={"rule": ALL_RULES},
    blank_keys=("nip", "unit_code", "rule"),
    period_column="start",
)
# The audit reads the clarifications (the waiver step); feedback stays last of the kinds.
AUDIT_TABLES[CLARIFICATIONS.name] = CLARIFICATIONS
TABLES = {**AUDIT_TABLES, FEEDBACK.name: FEEDBACK}
KINDS = tuple(TABLES)

#: The waived result files: the columns of violations / unit findings plus these two.
WAIVER_COLUMNS: dict[str, pl.DataType] = {"reason": pl.String(), "decided_by": pl.String()}
WAIVED_VIOLATIONS_SCHEMA = pl.Schema({**VIOLATIONS_SCHEMA, **WAIVER_COLUMNS})
WAIVED_UNIT_FINDINGS_SCHEMA = pl.Schema({**UNIT_FINDINGS_SCHEMA, **WAIVER_COLUMNS})
WAIVED_RESULT_FILES: dict[str, tuple[pl.Schema, tuple[str, ...]]] = {
    "waived_violations.parquet": (WAIVED_VIOLATIONS_SCHEMA, VIOLATIONS_SORT),
    "waived_unit_findings.parquet": (WAIVED_UNIT_FINDINGS_SCHEMA, UNIT_FINDINGS_SORT),
}
RESULT_FILES.update(WAIVED_RESULT_FILES)  # every run mode writes and publishes them too
