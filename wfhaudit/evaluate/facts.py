"""One bucket's employee-day facts, from the audit engine (one engine, not a second reading).

``bucket_facts`` audits the bucket through the audit pipeline (an
``AuditPlan`` run by ``wfhaudit.audit.run.audit_frames``: in memory the
pipeline's chunk whose parts are the result files' rows, unpublished; in chunks
published into a scratch directory) and reduces its result frames —
``employee_days`` (statuses, modes, first IN, earliest valid report, at home),
``violations`` (unwaived findings: waivers are already applied by the engine) —
to one row per audited employee-day holding the
0/1 facts and values the measures count.  Columns that come with the v2
engine (``planned_mode``, ``output_data``) are used when present.

The daily report's length: the number of characters of each valid report of
the bucket's employee-days that count for ``output.min_chars``.  In memory the
engine's chunk keeps them as it counted them (``AuditFrames.report_chars``);
in chunks they are read beside the engine and counted by its own function
(``employee_days.report_lengths``), valid when at least ``output.min_chars``.
The evaluation reads no summary, so the bucket is audited without the year to
date (``AuditPlan.year_to_date``), and only the result columns it counts are read.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from wfhaudit.audit.employee_days import report_lengths
from wfhaudit.audit.period import Period
from wfhaudit.audit.run import AuditPlan, Execution, audit_frames
from wfhaudit.policy.model import Policy
from wfhaudit.schema import EMPLOYEE_DAY_RULES, INTEGRITY_RULES
from wfhaudit.store import Store

#: The attendance and location rules of rules.md (the first eight).
ATTENDANCE_RULES: tuple[str, ...] = tuple(
    r
    for r in EMPLOYEE_DAY_RULES
    if r not in ("OFFICE_UNKNOWN", "NO_DAILY_OUTPUT", "LATE_DAILY_OUTPUT")
)
HEADCOUNT_STATUSES = ("required", "no_attendance_data")


@dataclass(frozen=True)
class BucketAudit:
    """What the engine said about one bucket, reduced to the facts the evaluation counts."""

    bucket: Period
    facts: pl.DataFrame  # one row per audited employee-day (columns: see ``reduce_facts``)
    meta: dict


#: The result columns the facts are made of (``employee_days.parquet``, ``violations.parquet``).
DAY_COLUMNS = (
    "nip",
    "date",
    "unit_code",
    "status",
    "expected_mode",
    "first_in",
    "max_distance_m",
    "at_home",
    "first_valid_report_at",
)
OPTIONAL_DAY_COLUMNS = ("planned_mode", "output_data")  # v2 engine
VIOLATION_COLUMNS = ("nip", "date", "rule", "minutes")
LENGTHS_SCHEMA = pl.Schema({"nip": pl.String, "date": pl.Date, "report_chars": pl.Float64})


def day_report_lengths(reports: pl.DataFrame, min_chars: int) -> pl.DataFrame:
    """Per (nip, date) of ``reports`` (nip, date, text): the median characters of the
    day's valid reports (at least ``min_chars``, counted as the engine counts them)."""
    chars = reports.select("nip", "date", report_lengths(reports.get_column("text")).alias("chars"))
    valid = chars.filter(pl.col("chars") >= min_chars).with_columns(
        pl.len().over("nip", "date").alias("_n")
    )
    # most days have one valid report, its length the median; only the others are grouped
    return pl.concat(
        [
            valid.filter(pl.col("_n") == 1).select(
                "nip", "date", pl.col("chars").cast(pl.Float64).alias("report_chars")
            ),
            valid.filter(pl.col("_n") > 1)
            .group_by("nip", "date")
            .agg(pl.col("chars").median().cast(pl.Float64).alias("report_chars")),
        ]
    )


def _report_lengths(store: Store, bucket: Period, policy: Policy) -> pl.DataFrame:
    """``day_report_lengths`` of the bucket's reports in the store."""
    if not store.exists("outputs"):
        return pl.DataFrame(schema=LENGTHS_SCHEMA)
    reports = (
        store.scan("outputs", bucket.start, bucket.end)
        .filter(pl.col("date").is_between(bucket.start, bucket.end))
        .select("nip", "date", "text")
        .collect()
    )
    return day_report_lengths(reports, policy.output_min_chars)


def _columns(
    frame: pl.LazyFrame, wanted: tuple[str, ...], optional: tuple[str, ...] = ()
) -> pl.LazyFrame:
    present = frame.collect_schema().names()
    return frame.select(*wanted, *(c for c in optional if c in present))


def reduce_facts(
    employee_days: pl.DataFrame | pl.LazyFrame,
    violations: pl.DataFrame | pl.LazyFrame,
    lengths: pl.DataFrame | pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """The evaluation's facts per audited employee-day, from the engine's frames.

    ``lengths``: the day's median report length per (nip, date) (``report_chars``);
    None when ``employee_days`` has the column already.

    ``headcount``: active, no leave of any kind (status required or
    no_attendance_data); ``planned_wfh``: planned WFH where it is allowed
    (planned and expected mode both WFH); ``mode``: the expected mode;
    ``required``: status required; ``att_ok``: required and no attendance or
    location violation; ``absent``; ``has_in``; ``late``: LATE minutes (0 when on
    time or within the grace); ``output_applies``: not excused and output data
    present; ``valid_report``; ``on_time``: a valid report and no
    LATE_DAILY_OUTPUT; ``report_chars``; ``integrity``: integrity violations;
    ``located``/``at_home``: located check-ins, all of them at home;
    ``on_site``: an IN with a location and no WRONG_LOCATION / NO_LOCATION.
    """
    employee_days, violations = employee_days.lazy(), violations.lazy()
    cols = employee_days.collect_schema().names()
    planned = pl.col("planned_mode") if "planned_mode" in cols else pl.col("expected_mode")
    status = pl.col("status")
    output_present = pl.col("output_data") == "present" if "output_data" in cols else pl.lit(True)
    per_day = violations.group_by("nip", "date").agg(
        pl.col("rule").is_in(list(ATTENDANCE_RULES)).any().alias("_att"),
        (pl.col("rule") == "ABSENT").any().alias("_absent"),
        pl.col("minutes").filter(pl.col("rule") == "LATE").sum().alias("_late"),
        (pl.col("rule") == "LATE_DAILY_OUTPUT").any().alias("_late_output"),
        pl.col("rule").is_in(["WRONG_LOCATION", "NO_LOCATION"]).any().alias("_away"),
        pl.col("rule").is_in(list(INTEGRITY_RULES)).sum().alias("_integrity"),
    )
    required = status == "required"
    output_applies = (status != "excused") & output_present
    valid = pl.col("first_valid_report_at").is_not_null()
    days = employee_days.select(
        "nip",
        "date",
        "unit_code",
        "status",
        "expected_mode",
        planned.alias("planned_mode"),
        "first_in",
        "max_distance_m",
        "at_home",
        "first_valid_report_at",
        *(["output_data"] if "output_data" in cols else []),
        *(["report_chars"] if lengths is None else []),
    ).join(per_day, on=["nip", "date"], how="left", maintain_order="left")
    if lengths is not None:
        days = days.join(lengths.lazy(), on=["nip", "date"], how="left", maintain_order="left")
    return (
        days.with_columns(pl.col("_att", "_absent", "_late_output", "_away").fill_null(False))
        .select(
            "nip",
            "date",
            "unit_code",
            "status",
            pl.col("expected_mode").alias("mode"),
            "planned_mode",
            status.is_in(HEADCOUNT_STATUSES).alias("headcount"),
            (
                status.is_in(HEADCOUNT_STATUSES)
                & (pl.col("planned_mode") == "WFH")
                & (pl.col("expected_mode") == "WFH")
            ).alias("planned_wfh"),
            required.alias("required"),
            (required & ~pl.col("_att")).alias("att_ok"),
            (required & pl.col("_absent")).alias("absent"),
            (required & pl.col("first_in").is_not_null()).alias("has_in"),
            pl.when(required & pl.col("first_in").is_not_null())
            .then(pl.col("_late").fill_null(0))
            .cast(pl.Float64)
            .alias("late"),
            output_applies.alias("output_applies"),
            (output_applies & valid).alias("valid_report"),
            (output_applies & valid & ~pl.col("_late_output")).alias("on_time"),
            pl.when(output_applies & valid).then(pl.col("report_chars")).alias("report_chars"),
            pl.col("_integrity").fill_null(0).cast(pl.Int64).alias("integrity"),
            pl.col("at_home").is_not_null().alias("located"),
            pl.col("at_home").fill_null(False).alias("at_home"),
            (
                required
                & pl.col("first_in").is_not_null()
                & pl.col("max_distance_m").is_not_null()
                & ~pl.col("_away")
            ).alias("on_site"),
        )
        .collect()
    )


def bucket_facts(
    store: Store,
    bucket: Period,
    policy: Policy,
    as_of: dt.date,
    work_dir: Path | None = None,
    execution: Execution | None = None,
) -> BucketAudit:
    """Audit ``bucket`` with the engine and reduce it.

    ``execution``: how the pipeline runs the bucket (default: it chooses, as ``audit``).
    In memory, the engine's frames are reduced as they are (``audit_frames``: no file
    written); in chunks, the pipeline publishes into a scratch directory and only the
    columns the facts count are read back.  Either way the store is pinned once.  The
    year to date is not audited (the evaluation reads no summary).
    """
    with tempfile.TemporaryDirectory(prefix="wfhaudit-evaluate-", dir=work_dir) as tmp:
        plan = AuditPlan(bucket, policy, Path(tmp), as_of, execution or Execution(),
                         year_to_date=False)
        frames = audit_frames(plan, store)
        days = _columns(frames.employee_days, DAY_COLUMNS, OPTIONAL_DAY_COLUMNS)
        lengths = None
        if frames.report_chars is not None:
            # the lengths the engine counted while checking output.min_chars, one per row
            # (no second read of the reports, no join)
            days = days.with_columns(frames.report_chars)
        else:  # in chunks: read beside the engine, counted by its function
            lengths = _report_lengths(store, bucket, policy)
        facts = reduce_facts(days, frames.violations.select(VIOLATION_COLUMNS), lengths)
        meta = {"store": {"versions": frames.versions}}
    return BucketAudit(bucket, facts, meta)
