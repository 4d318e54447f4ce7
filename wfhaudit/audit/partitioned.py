"""Out-of-core audit: the period in partitions of days, the same result files.

``run_audit`` (``wfhaudit.audit.run``) holds the whole period in memory.  For a
province or a country (millions of employees) ``run_audit_partitioned`` keeps
peak memory bounded by one partition instead:

1. **Stage** — one streaming pass copies the store's tables for the period
   into a work directory: attendance, outputs and roster split into one
   Parquet directory per day, the small tables (employees, offices, leave) as
   one file each.  Every later step reads this snapshot, so the audit sees one
   consistent version of the store.
2. **Partitions** — the audited days in chunks of ``days_per_partition``.
   Each chunk is audited by the engine's own code (``build_employee_days`` and
   the rule registry) with every rule whose scope fits inside a chunk:
   ``employee_day``, ``day`` (all employees of one day across agencies) and
   ``unit_day``.  A chunk writes its violations and evidence rows sorted, and,
   for ``DUPLICATE_OUTPUT``, one compact row per valid report of a non-excused
   day: ``(nip, date, submitted_at, unit_code, hash of the normalised text)``,
   split into nip buckets.  Chunks are independent: an ``executor`` may run
   them on other processes or machines (``wfhaudit.cluster``).
3. **Second pass per employee** — per nip bucket, groups of equal hash on at
   least ``duplicate_output_min_days`` days are candidates; their texts are
   read back and compared as text, so a hash collision can never make a
   finding (a collision can only add a candidate; equal texts always have equal
   hashes, so no finding is missed).
4. **Merge** — the sorted chunk files are merged range by range of
   ``unit_code`` into the result files; the period summary is computed per nip
   bucket with the engine's ``employee_summary``.

The result files equal those of ``run_audit`` row for row (tests compare them).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

import polars as pl
import pyarrow.parquet as pq
from deltalake import DeltaTable

from wfhaudit.audit.calendar import calendar
from wfhaudit.audit.clarifications import (
    apply_clarifications,
    load_clarifications,
    waive_violations,
    waived_frames,
    waiver_meta,
)
from wfhaudit.audit.employee_days import (
    audited_days,
    build_employee_days,
)
from wfhaudit.audit.inputs import REQUIRED_KINDS, AuditInputs, load_inputs
from wfhaudit.audit.period import Period
from wfhaudit.audit.rules import (
    NOT_EXCUSED,
    RULES,
    RuleContext,
    absent,
    early_leave,
    late,
    normalised_text,
    violations,
)
from wfhaudit.audit.run import (
    EMPLOYEE_DAY_COLUMNS,
    AuditResult,
    _attendance_totals,
    _jsonable,
    audit_meta,
    data_quality,
    employee_day_evidence,
    employee_summary,
    today_wib,
)
from wfhaudit.errors import DataError
from wfhaudit.policy.model import Policy
from wfhaudit.schema import (
    ATTENDANCE,
    EMPLOYEES,
    LEAVE,
    OFFICES,
    OUTPUTS,
    PARTITION_COLUMN,
    ROSTER,
    TABLES,
    UNIT_FINDINGS_SCHEMA,
    UNIT_FINDINGS_SORT,
    VIOLATIONS_SCHEMA,
    VIOLATIONS_SORT,
)
from wfhaudit.store import Store

#: The one rule whose scope is an employee's whole period, done in the second pass.
PERIOD_RULE = "DUPLICATE_OUTPUT"
#: Seed of the text hash; any fixed value works, it only has to be the same everywhere.
TEXT_HASH_SEED = 20251202
#: A text every worker hashes once: different values mean workers hash differently.
HASH_PROBE = "wfhaudit text hash probe: Menyusun laporan anggaran"
#: Rows of one nip bucket in the second pass / one unit range in the merge.
ROWS_PER_BUCKET = 5_000_000
#: Employee-days audited at once inside a partition (agencies grouped up to this size).
GROUP_EMPLOYEES = 1_000_000
#: Rows read from the store per batch while staging.
STAGE_BATCH_ROWS = 1_000_000
#: Compression of the temporary files: fast to write and read, they live minutes.
WORK_COMPRESSION: Final = "lz4"
#: Per-day tables staged as one directory per day.
DAILY_KINDS: tuple[str, ...] = ("attendance", "outputs", "roster")

Progress = Callable[[str], None]
T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs one function over a list of items, returning the results in order."""

    def map(self, func: Callable[[T], R], items: Sequence[T]) -> list[R]: ...


class LocalExecutor:
    """One partition after the other in this process: memory bounded by one partition."""

    def __init__(self, progress: Progress | None = None) -> None:
        self.progress = progress

    def map(self, func: Callable[[T], R], items: Sequence[T]) -> list[R]:
        results = []
        for done, item in enumerate(items, start=1):
            results.append(func(item))
            if self.progress is not None:
                self.progress(f"partition {done}/{len(items)} done")
        return results


def _check_registry() -> None:
    period_rules = {r.code for r in RULES if r.scope == "employee_period"}
    if period_rules != {PERIOD_RULE}:
        raise RuntimeError(
            f"the partitioned audit knows how to run only {PERIOD_RULE} over a whole period, "
            f"but the rule registry has {sorted(period_rules)}; extend "
            "wfhaudit.audit.partitioned before using it."
        )


def text_hash(text: pl.Expr) -> pl.Expr:
    """The compact fingerprint of a normalised report text (UInt64)."""
    return text.hash(seed=TEXT_HASH_SEED)


def probe_hash() -> int:
    return int(pl.Series([HASH_PROBE]).hash(seed=TEXT_HASH_SEED)[0])


def bucket_count(rows: int) -> int:
    """Buckets for ``rows`` rows: at most ``ROWS_PER_BUCKET`` each, and a number prime to 10
    (NIPs end in small serial numbers: an even or a multiple-of-5 count would split them
    unevenly)."""
    count = max(1, math.ceil(rows / ROWS_PER_BUCKET))
    while count > 1 and (count % 2 == 0 or count % 5 == 0):
        count += 1
    return count


def nip_bucket(buckets: int) -> pl.Expr:
    """A bucket number in ``[0, buckets)`` from the NIP's digits (the same on every machine)."""
    digits = pl.col("nip").str.slice(-9).cast(pl.Int64, strict=False).fill_null(0)
    return (digits % buckets).cast(pl.Int32).alias("bucket")


# --- stage ----------------------------------------------------------------------


def _day_dir(stage: Path, kind: str, day: dt.date) -> Path:
    return stage / kind / f"date={day.isoformat()}"


def stage_inputs(store: Store, start: dt.date, end: dt.date, stage: Path) -> dict[str, int | None]:
    """Copy the store's tables for ``[start, end]`` into ``stage`` (streaming, bounded memory).

    Returns the store versions read.  Raises ``DataError`` when a required table
    is missing (as ``run_audit`` does).
    """
    for kind in REQUIRED_KINDS:
        store.scan(kind)  # raises DataError naming the missing table
    versions = {kind: store.version(kind) for kind in TABLES}
    stage.mkdir(parents=True, exist_ok=True)
    lo = dt.datetime(start.year, start.month, start.day)
    hi = dt.datetime(end.year, end.month, end.day) + dt.timedelta(days=1)
    in_period: dict[str, pl.Expr] = {
        "attendance": (pl.col("ts") >= lo) & (pl.col("ts") < hi),
        "outputs": pl.col("date").is_between(start, end),
        "roster": pl.col("date").is_between(start, end),
    }
    for kind in DAILY_KINDS:
        if not store.exists(kind):
            continue
        for number, batch in enumerate(_store_batches(store, kind, start, end)):
            rows = batch.filter(in_period[kind])
            if kind == "attendance":
                rows = rows.with_columns(pl.col("ts").dt.date().alias("date"))
            _write_days(rows, stage / kind, number)
    store.scan("employees").sink_parquet(stage / "employees.parquet")
    store.scan("offices").sink_parquet(stage / "offices.parquet")
    leave = (
        store.scan("leave").filter((pl.col("start") <= end) & (pl.col("end") >= start))
        if store.exists("leave")
        else LEAVE.empty().lazy()
    )
    leave.sink_parquet(stage / "leave.parquet")
    return versions


def _months(start: dt.date, end: dt.date) -> list[str]:
    months: list[str] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _store_batches(
    store: Store, kind: str, start: dt.date, end: dt.date
) -> Iterator[pl.DataFrame]:
    """The rows ``store.scan(kind, start, end)`` gives, as frames of at most
    ``STAGE_BATCH_ROWS`` rows, read one after the other (memory bounded by a batch)."""
    table = TABLES[kind]
    delta = DeltaTable(str(store.table_path(kind)))
    files = delta.file_uris(file_pruning_predicate=[(PARTITION_COLUMN, "in", _months(start, end))])
    for uri in sorted(files):
        with pq.ParquetFile(uri.removeprefix("file://")) as parquet:
            for batch in parquet.iter_batches(
                batch_size=STAGE_BATCH_ROWS, columns=list(table.columns)
            ):
                if batch.num_rows:
                    frame = pl.from_arrow(batch)
                    assert isinstance(frame, pl.DataFrame)
                    yield frame.select([pl.col(c).cast(t) for c, t in table.columns.items()])


def _write_days(frame: pl.DataFrame, folder: Path, number: int) -> None:
    """Write the rows of ``frame`` (with a ``date`` column) into one sub-folder per day."""
    for (day,), part in frame.partition_by("date", as_dict=True).items():
        target = folder / f"date={day.isoformat()}"
        target.mkdir(parents=True, exist_ok=True)
        part.write_parquet(target / f"{number:06d}.parquet", compression=WORK_COMPRESSION)


def _scan_days(stage: Path, kind: str, days: Sequence[dt.date]) -> pl.LazyFrame:
    table = TABLES[kind]
    files = [
        str(f)
        for d in days
        if (folder := _day_dir(stage, kind, d)).is_dir()
        for f in sorted(folder.glob("*.parquet"))
    ]
    if not files:
        return table.empty().lazy()
    return pl.scan_parquet(files, hive_partitioning=False).select(
        [pl.col(c).cast(t) for c, t in table.columns.items()]
    )


def staged_inputs(
    stage: Path, days: Sequence[dt.date], units: Sequence[str] | None = None
) -> AuditInputs:
    """The engine's ``AuditInputs`` for ``days`` (consecutive or not) from the stage;
    with ``units``, only the employees of those agencies and their rows."""
    start, end = min(days), max(days)
    employees = pl.scan_parquet(stage / "employees.parquet").select(list(EMPLOYEES.columns))
    leave = pl.scan_parquet(stage / "leave.parquet").filter(
        (pl.col("start") <= end) & (pl.col("end") >= start)
    )
    roster = _scan_days(stage, "roster", days)
    attendance = _scan_days(stage, "attendance", days)
    outputs = _scan_days(stage, "outputs", days)
    if units is not None:
        employees = employees.filter(pl.col("unit_code").is_in(list(units)))
        nips = employees.select("nip")
        roster, attendance, outputs, leave = (
            lf.join(nips, on="nip", how="semi") for lf in (roster, attendance, outputs, leave)
        )
    return AuditInputs(
        start=start,
        end=end,
        employees=employees,
        offices=pl.scan_parquet(stage / "offices.parquet").select(list(OFFICES.columns)),
        roster=roster.select(list(ROSTER.columns)),
        attendance=attendance.select(list(ATTENDANCE.columns)),
        outputs=outputs.select(list(OUTPUTS.columns)),
        leave=leave.select(list(LEAVE.columns)),
    )


def unit_groups(stage: Path, limit: int) -> list[list[str]] | None:
    """Agencies in groups of at most ``limit`` employees (a larger agency is a group of its
    own), or None (one group) when all fit in one or an employee has no agency."""
    sizes = (
        pl.scan_parquet(stage / "employees.parquet").group_by("unit_code").len().collect()
    )
    if sizes.get_column("unit_code").null_count() or sizes["len"].sum() <= limit:
        return None
    rows = {str(u): int(n) for u, n in sizes.iter_rows()}
    groups: list[list[str]] = []
    for lo, hi in unit_ranges(rows, limit):
        groups.append([u for u in sorted(rows) if lo <= u <= hi])
    return groups


# --- one partition ------------------------------------------------------------------


@dataclass(frozen=True)
class PartitionTask:
    """One chunk of days to audit; everything a worker process needs (picklable)."""

    index: int
    days: pl.DataFrame  # calendar rows (``audited_days``) of the chunk
    stage: str
    work: str
    policy: Policy
    buckets: int
    #: "audit": every rule of the chunk; "ytd": only ABSENT/LATE/EARLY_LEAVE totals per nip
    mode: str = "audit"
    #: agencies audited together inside the chunk (None: all at once); the day-wide
    #: rules then run once over compact event rows of all groups
    groups: list[list[str]] | None = None
    #: clarifications (issue 12): the decisions that waive findings (a small table)
    clarifications: pl.DataFrame | None = None


@dataclass
class PartitionResult:
    index: int
    employee_days: int = 0
    status: dict[str, int] = field(default_factory=dict)
    by_rule: dict[str, int] = field(default_factory=dict)
    #: unit_code -> [evidence rows, violation rows], to plan the merge
    unit_rows: dict[str, list[int]] = field(default_factory=dict)
    unit_findings: pl.DataFrame | None = None
    probe: int = 0
    seconds: float = 0.0
    #: the process that ran it (a cluster spreads partitions over several)
    pid: int = 0


def _chunk_dir(work: str, mode: str, index: int) -> Path:
    return Path(work) / mode / f"part-{index:05d}"


def audit_partition(task: PartitionTask) -> PartitionResult:
    """Audit one chunk of days; write its files under the work directory."""
    started = time.perf_counter()
    stage = Path(task.stage)
    days = task.days.get_column("date").to_list()
    out = _chunk_dir(task.work, task.mode, task.index)
    out.mkdir(parents=True, exist_ok=True)
    result = PartitionResult(task.index, probe=probe_hash(), pid=os.getpid())
    if task.mode == "ytd":
        frames = build_employee_days(staged_inputs(stage, days), task.policy, task.days)
        ctx = RuleContext(
            frames.employee_days.lazy(), frames.events.lazy(), frames.reports.lazy(),
            task.policy,
        )
        earlier = pl.concat([absent(ctx), late(ctx), early_leave(ctx)]).collect()
        if task.clarifications is not None:  # clarifications (issue 12): the waiver step
            earlier = waive_violations(earlier, task.clarifications)
        _attendance_totals(earlier).write_parquet(out / "totals.parquet")
        result.seconds = time.perf_counter() - started
        return result
    group_rules = [r for r in RULES if r.scope == "employee_day"]
    day_rules = [r for r in RULES if r.scope == "day"]
    unit_rules = [r for r in RULES if r.scope == "unit_day"]
    vio_parts: list[pl.DataFrame] = []
    evidence_parts: list[pl.DataFrame] = []
    unit_parts: list[pl.DataFrame] = []
    people_parts: list[pl.DataFrame] = []
    hash_parts: list[pl.DataFrame] = []
    day_who: list[pl.DataFrame] = []
    day_events: list[pl.DataFrame] = []
    waived_v: list[pl.DataFrame] = []  # clarifications (issue 12)
    waived_u: list[pl.DataFrame] = []
    clarifications = task.clarifications if task.clarifications is not None else pl.DataFrame()
    status: dict[str, int] = {}
    groups: list[list[str] | None] = [*task.groups] if task.groups else [None]
    for units in groups:
        frames = build_employee_days(staged_inputs(stage, days, units), task.policy, task.days)
        ctx = RuleContext(
            frames.employee_days.lazy(), frames.events.lazy(), frames.reports.lazy(),
            task.policy,
        )
        vio_lf = pl.concat([r.func(ctx) for r in group_rules], how="vertical")
        units_lf = pl.concat([r.func(ctx) for r in unit_rules], how="vertical")
        vio, found = pl.collect_all([vio_lf, units_lf])
        vio = vio.select(list(VIOLATIONS_SCHEMA)).cast(VIOLATIONS_SCHEMA)
        found = found.select(list(UNIT_FINDINGS_SCHEMA)).cast(UNIT_FINDINGS_SCHEMA)
        if clarifications.height:  # clarifications (issue 12): the waiver step
            waiver = apply_clarifications(vio, found, clarifications)
            vio, found = waiver.violations, waiver.unit_findings
            waived_v.append(waiver.waived_violations)
            waived_u.append(waiver.waived_unit_findings)
        vio_parts.append(vio)
        unit_parts.append(found)
        evidence_parts.append(employee_day_evidence(frames.employee_days, vio))
        ed = frames.employee_days
        people_parts.append(
            ed.select("nip", "unit_code", "home_known", "office_known").unique("nip")
        )
        for k, v in ed.group_by("status").len().iter_rows():
            status[str(k)] = status.get(str(k), 0) + int(v)
        day_who.append(ed.select("nip", "date", "unit_code"))
        day_events.append(
            frames.events.select("ed_key", "status", "located", "lat", "lon", "device_id")
            .join(ed.select("ed_key", "nip", "date"), on="ed_key", how="inner")
            .drop("ed_key")
        )
        hash_parts.append(
            frames.reports.lazy()
            .filter(NOT_EXCUSED & pl.col("valid"))
            .select(
                "nip",
                "date",
                "submitted_at",
                "unit_code",
                text_hash(normalised_text(pl.col("text"))).alias("h"),
                nip_bucket(task.buckets),
            )
            .collect()
        )
        del frames, ctx, ed
    # Day-wide rules (all agencies of a day): on compact rows of every group, re-keyed.
    who = pl.concat(day_who).with_row_index("ed_key").with_columns(pl.col("ed_key").cast(pl.Int64))
    events = pl.concat(day_events).join(
        who.select("nip", "date", "ed_key"), on=["nip", "date"], how="inner"
    )
    day_ctx = RuleContext(who.lazy(), events.lazy(), pl.LazyFrame(), task.policy)
    day_vio = (
        pl.concat([r.func(day_ctx) for r in day_rules], how="vertical")
        .collect()
        .select(list(VIOLATIONS_SCHEMA))
        .cast(VIOLATIONS_SCHEMA)
    )
    if clarifications.height:  # clarifications (issue 12): the waiver step
        day_waiver = apply_clarifications(day_vio, UNIT_FINDINGS_SCHEMA.to_frame(), clarifications)
        day_vio = day_waiver.violations
        waived_v.append(day_waiver.waived_violations)
    del who, events, day_ctx, day_who, day_events
    vio = pl.concat([*vio_parts, day_vio]).sort(list(VIOLATIONS_SORT))
    day_counts = day_vio.group_by("nip", "date").agg(pl.len().cast(pl.Int64).alias("_more"))
    evidence = (
        pl.concat(evidence_parts)
        .join(day_counts, on=["nip", "date"], how="left")
        .with_columns(pl.col("violations") + pl.col("_more").fill_null(0))
        .drop("_more")
        .sort("unit_code", "nip", "date")
    )
    vio.write_parquet(out / "violations.parquet", compression=WORK_COMPRESSION)
    evidence.write_parquet(out / "evidence.parquet", compression=WORK_COMPRESSION)
    waived = waived_frames(waived_v, waived_u)  # clarifications (issue 12)
    waived[0].write_parquet(out / "waived_violations.parquet", compression=WORK_COMPRESSION)
    waived[1].write_parquet(out / "waived_unit_findings.parquet", compression=WORK_COMPRESSION)
    pl.concat(people_parts).unique("nip").write_parquet(
        out / "people.parquet", compression=WORK_COMPRESSION
    )
    hashes = pl.concat(hash_parts)
    for (bucket,), rows in hashes.partition_by("bucket", as_dict=True).items():
        target = out / "hashes" / f"bucket={bucket}"
        target.mkdir(parents=True, exist_ok=True)
        rows.drop("bucket").write_parquet(target / "0.parquet", compression=WORK_COMPRESSION)
    result.employee_days = evidence.height
    result.status = status
    result.by_rule = {str(k): int(v) for k, v in vio.group_by("rule").len().iter_rows()}
    ev_units = dict(evidence.group_by("unit_code").len().iter_rows())
    vio_units = dict(vio.group_by("unit_code").len().iter_rows())
    result.unit_rows = {
        str(u): [int(ev_units.get(u, 0)), int(vio_units.get(u, 0))]
        for u in set(ev_units) | set(vio_units)
    }
    result.unit_findings = pl.concat(unit_parts)
    result.seconds = time.perf_counter() - started
    return result


# --- second pass: DUPLICATE_OUTPUT -------------------------------------------------


def _bucket_files(work: Path, bucket: int) -> list[str]:
    return sorted(str(p) for p in work.glob(f"audit/part-*/hashes/bucket={bucket}/*.parquet"))


def duplicate_output_pass(work: Path, stage: Path, policy: Policy, buckets: int) -> pl.DataFrame:
    """``DUPLICATE_OUTPUT`` violations of the whole period, one nip bucket at a time."""
    threshold = policy.duplicate_output_min_days
    found: list[pl.DataFrame] = []
    for bucket in range(buckets):
        files = _bucket_files(work, bucket)
        if not files:
            continue
        rows = pl.scan_parquet(files, hive_partitioning=False)
        repeated = (
            rows.group_by("nip", "h")
            .agg(pl.col("date").n_unique().alias("days"))
            .filter(pl.col("days") >= threshold)
        )
        candidates = rows.join(repeated, on=["nip", "h"], how="semi").collect(engine="streaming")
        if candidates.height == 0:
            continue
        # Compare the candidates' real texts: equal hashes are not proof of equal texts.
        dates = candidates.get_column("date").unique().sort().to_list()
        texts = (
            _scan_days(stage, "outputs", dates)
            .filter(nip_bucket(buckets) == bucket)
            .join(
                candidates.lazy().select("nip", "date", "submitted_at", "unit_code"),
                on=["nip", "date", "submitted_at"],
                how="inner",
            )
            .select("nip", "date", "unit_code", normalised_text(pl.col("text")).alias("norm"))
        )
        confirmed = (
            texts.group_by("nip", "norm")
            .agg(pl.col("date").n_unique().alias("days"))
            .filter(pl.col("days") >= threshold)
        )
        hits = texts.join(confirmed, on=["nip", "norm"], how="inner").unique(["nip", "date"])
        found.append(violations(hits, PERIOD_RULE).collect())
    if not found:
        return pl.DataFrame(schema=VIOLATIONS_SCHEMA)
    return pl.concat(found).select(list(VIOLATIONS_SCHEMA)).cast(VIOLATIONS_SCHEMA)


# --- merge ------------------------------------------------------------------------


def unit_ranges(rows_per_unit: dict[str, int], limit: int) -> list[tuple[str, str]]:
    """Consecutive ranges ``(first, last)`` of sorted unit codes, each of at most ``limit`` rows
    (a single larger unit is a range of its own)."""
    ranges: list[tuple[str, str]] = []
    first: str | None = None
    last = ""
    total = 0
    for unit in sorted(rows_per_unit):
        n = rows_per_unit[unit]
        if first is not None and total + n > limit:
            ranges.append((first, last))
            first, total = None, 0
        if first is None:
            first = unit
        last, total = unit, total + n
    if first is not None:
        ranges.append((first, last))
    return ranges


def _write_sorted(
    path: Path,
    files: list[str],
    extra: pl.DataFrame,
    ranges: list[tuple[str, str]],
    sort: Sequence[str],
    schema: pl.Schema,
    adjust: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> int:
    """Merge sorted chunk files (plus ``extra`` rows) into one Parquet file sorted by ``sort``,
    one unit range at a time."""
    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        for lo, hi in ranges or [("", "")]:
            in_range = pl.col("unit_code").is_between(pl.lit(lo), pl.lit(hi))
            parts = [extra.filter(in_range)]
            if files:
                parts.insert(
                    0, pl.scan_parquet(files).filter(in_range).collect(engine="streaming")
                )
            frame = pl.concat(parts, how="vertical") if ranges else pl.DataFrame(schema=schema)
            if adjust is not None:
                frame = adjust(frame)
            frame = frame.select(list(schema)).cast(schema).sort(list(sort))
            table = frame.to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(str(path), table.schema, compression="zstd")
            writer.write_table(table)
            rows += frame.height
    finally:
        if writer is not None:
            writer.close()
    return rows


# --- the period summary per nip bucket ------------------------------------------------


def _ytd_earlier(
    store: Store,
    work: Path,
    policy: Policy,
    period: Period,
    as_of: dt.date,
    executor: Executor,
    days_per_partition: int,
    clarifications: pl.DataFrame | None = None,
) -> pl.LazyFrame | None:
    """ABSENT/LATE/EARLY_LEAVE totals per nip on the year's earlier days the store holds
    (as ``run.year_to_date`` counts them), audited partition by partition."""
    year_start = dt.date(period.end.year, 1, 1)
    before_end = min(period.start - dt.timedelta(days=1), as_of - dt.timedelta(days=1))
    if not (year_start <= before_end and store.exists("attendance")):
        return None
    held = (
        store.scan("attendance", year_start, before_end)
        .select(pl.col("ts").dt.date().alias("date"))
        .filter(pl.col("date").is_between(year_start, before_end))
        .unique()
        .collect(engine="streaming")
    )
    if held.height == 0:
        return None
    days = audited_days(calendar(policy, year_start, before_end), as_of).join(
        held, on="date", how="semi"
    )
    if days.height == 0:
        return None
    stage = work / "stage-ytd"
    stage_inputs(store, year_start, before_end, stage)
    tasks = [
        PartitionTask(
            i, chunk, str(stage), str(work), policy, 1, mode="ytd", clarifications=clarifications
        )
        for i, chunk in enumerate(_chunks(days, days_per_partition))
    ]
    executor.map(audit_partition, tasks)
    files = sorted(str(p) for p in (work / "ytd").glob("part-*/totals.parquet"))
    return pl.scan_parquet(files)


def _summary(
    stage: Path,
    evidence_path: Path,
    violations_path: Path,
    earlier: pl.LazyFrame | None,
    period: Period,
    policy: Policy,
    buckets: int,
) -> pl.DataFrame:
    """``employee_summary.parquet`` with the engine's ``employee_summary``, per nip bucket."""
    year_start = dt.date(period.end.year, 1, 1)
    inputs = staged_inputs(stage, [period.start])
    parts: list[pl.DataFrame] = []
    for bucket in range(buckets):
        mine = nip_bucket(buckets) == bucket
        ed = (
            pl.scan_parquet(evidence_path)
            .select("nip", "status")
            .filter(mine)
            .collect(engine="streaming")
        )
        vio = pl.scan_parquet(violations_path).filter(mine).collect(engine="streaming")
        totals = [_attendance_totals(vio.filter(pl.col("date") >= year_start))]
        if earlier is not None:
            totals.append(earlier.filter(mine).collect(engine="streaming"))
        ytd = (
            pl.concat(totals)
            .group_by("nip")
            .agg(pl.col("absent_days", "late_minutes", "early_minutes").sum())
            .select(
                "nip",
                (
                    pl.col("absent_days")
                    + (pl.col("late_minutes") + pl.col("early_minutes")) / policy.minutes_per_day
                )
                .cast(pl.Float64)
                .alias("ytd_equivalent_days"),
            )
        )
        parts.append(employee_summary(inputs, ed, vio, ytd, policy))
    return pl.concat(parts).sort("unit_code", "nip")


# --- the run ----------------------------------------------------------------------


def _chunks(days: pl.DataFrame, size: int) -> Iterator[pl.DataFrame]:
    for offset in range(0, days.height, size):
        yield days.slice(offset, size)


def _noop(_: str) -> None:
    return None


@contextmanager
def _work_dir(work_dir: Path | None, out_dir: Path) -> Iterator[Path]:
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
    parent = work_dir or out_dir
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=".partitions-", dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run_audit_partitioned(
    store: Store,
    period: Period,
    policy: Policy,
    *,
    as_of: dt.date | None = None,
    out_dir: Path,
    days_per_partition: int = 1,
    executor: Executor | None = None,
    work_dir: Path | None = None,
    progress: Progress | None = None,
) -> AuditResult:
    """Audit ``period`` like ``run_audit``, holding one partition of days in memory at a time.

    ``executor`` runs the partitions (default: one after the other here);
    ``work_dir`` holds the temporary files (default: inside ``out_dir``) and must
    be visible to every worker of a cluster executor.  The returned
    ``AuditResult`` carries the small frames (unit findings, summary) and empty
    frames for violations and evidence, which stay on disk.
    """
    if days_per_partition < 1:
        raise ValueError("days_per_partition must be at least 1")
    _check_registry()
    step = progress or _noop
    executor = executor or LocalExecutor(step)
    started = time.perf_counter()
    as_of = as_of or today_wib()
    out_dir = Path(out_dir)
    with _work_dir(work_dir, out_dir) as work:
        stage = work / "stage"
        step("reading the store")
        versions = stage_inputs(store, period.start, period.end, stage)
        # clarifications (issue 12): read once at the staged version, waived per chunk
        clarifications = load_clarifications(store, versions.get("clarifications"))
        cal = calendar(policy, period.start, period.end)
        days = audited_days(cal, as_of)
        employees = pl.scan_parquet(stage / "employees.parquet").select(pl.len()).collect().item()
        buckets = bucket_count(employees * max(days.height, 1))
        groups = unit_groups(stage, max(1, GROUP_EMPLOYEES // days_per_partition))
        tasks = [
            PartitionTask(
                i, chunk, str(stage), str(work), policy, buckets, groups=groups,
                clarifications=clarifications,
            )
            for i, chunk in enumerate(_chunks(days, days_per_partition))
        ]
        step(f"auditing {len(tasks)} partitions")
        results = executor.map(audit_partition, tasks)
        own = probe_hash()
        if any(r.probe != own for r in results):
            raise DataError(
                "the workers hash report texts differently from this machine (another Polars "
                "version or build); install the same wfhaudit and Polars on every worker."
            )
        step("second pass: duplicate outputs per employee")
        duplicates = duplicate_output_pass(work, stage, policy, buckets)
        # clarifications (issue 12): the waiver step of the period-wide rule
        dup_waiver = apply_clarifications(
            duplicates, UNIT_FINDINGS_SCHEMA.to_frame(), clarifications
        )
        duplicates = dup_waiver.violations
        step("merging results")
        ev_rows: dict[str, int] = {}
        vio_rows: dict[str, int] = {}
        for r in results:
            for unit, (n_ev, n_vio) in r.unit_rows.items():
                ev_rows[unit] = ev_rows.get(unit, 0) + n_ev
                vio_rows[unit] = vio_rows.get(unit, 0) + n_vio
        for unit, n in duplicates.group_by("unit_code").len().iter_rows():
            vio_rows[unit] = vio_rows.get(unit, 0) + int(n)
        tmp = work / "result"
        tmp.mkdir()
        chunk_files = sorted(work.glob("audit/part-*"))
        vio_files = [str(p / "violations.parquet") for p in chunk_files]
        ev_files = [str(p / "evidence.parquet") for p in chunk_files]
        n_violations = _write_sorted(
            tmp / "violations.parquet",
            vio_files,
            duplicates,
            unit_ranges(vio_rows, ROWS_PER_BUCKET),
            VIOLATIONS_SORT,
            VIOLATIONS_SCHEMA,
        )
        dup_days = duplicates.select("nip", "date", pl.lit(1, pl.Int64).alias("_dup"))

        def add_duplicates(frame: pl.DataFrame) -> pl.DataFrame:
            return (
                frame.join(dup_days, on=["nip", "date"], how="left")
                .with_columns(pl.col("violations") + pl.col("_dup").fill_null(0))
                .drop("_dup")
            )

        n_evidence = _write_sorted(
            tmp / "employee_days.parquet",
            ev_files,
            pl.DataFrame(schema=EMPLOYEE_DAY_COLUMNS),
            unit_ranges(ev_rows, ROWS_PER_BUCKET),
            ("unit_code", "nip", "date"),
            pl.Schema(EMPLOYEE_DAY_COLUMNS),
            adjust=add_duplicates,
        )
        unit_frames = [r.unit_findings for r in results if r.unit_findings is not None]
        unit_findings = (
            pl.concat(unit_frames) if unit_frames else pl.DataFrame(schema=UNIT_FINDINGS_SCHEMA)
        ).sort(list(UNIT_FINDINGS_SORT))
        unit_findings.write_parquet(tmp / "unit_findings.parquet")
        # clarifications (issue 12): the chunks' waived findings, one file each
        waived_v, waived_u = waived_frames(
            [pl.read_parquet(p / "waived_violations.parquet") for p in chunk_files]
            + [dup_waiver.waived_violations],
            [pl.read_parquet(p / "waived_unit_findings.parquet") for p in chunk_files],
        )
        waived_v.write_parquet(tmp / "waived_violations.parquet")
        waived_u.write_parquet(tmp / "waived_unit_findings.parquet")
        step("summarising")
        earlier = _ytd_earlier(
            store, work, policy, period, as_of, executor, days_per_partition, clarifications
        )
        summary = _summary(
            stage,
            tmp / "employee_days.parquet",
            tmp / "violations.parquet",
            earlier,
            period,
            policy,
            bucket_count(n_evidence),
        )
        summary.write_parquet(tmp / "employee_summary.parquet")
        people = _people([p / "people.parquet" for p in chunk_files])
        by_rule: dict[str, int] = {}
        status: dict[str, int] = {}
        for r in results:
            for k, v in r.by_rule.items():
                by_rule[k] = by_rule.get(k, 0) + v
            for k, v in r.status.items():
                status[k] = status.get(k, 0) + v
        by_rule[PERIOD_RULE] = by_rule.get(PERIOD_RULE, 0) + duplicates.height
        if n_violations != sum(by_rule.values()):  # audit.json counts what was written
            raise RuntimeError(
                f"internal: {n_violations} violations written but {sum(by_rule.values())} "
                "counted; run with --debug and report it."
            )
        # The data-quality counts scan the whole period: from the store's few large files
        # (the stage holds thousands of small ones, which a streaming scan would open at once).
        full_inputs = replace(load_inputs(store, period.start, period.end), versions=versions)
        meta = _meta(
            store, period, policy, as_of, cal, full_inputs, people, n_evidence, status,
            by_rule, unit_findings,
        )
        waived_counts, meta["clarifications"] = waiver_meta(  # clarifications (issue 12)
            waived_v, waived_u, clarifications, versions.get("clarifications")
        )
        meta["counts"].update(waived_counts)
        meta["execution"] = {
            "partitions": len(tasks),
            "days_per_partition": days_per_partition,
            "executor": type(executor).__name__,
            "partition_seconds": [round(r.seconds, 3) for r in results],
            "worker_processes": len({r.pid for r in results}),
            "agency_groups": len(groups) if groups else 1,
        }
        meta["run_seconds"] = round(time.perf_counter() - started, 3)
        step("writing results")
        _publish(tmp, out_dir, meta)
    empty_ev = pl.DataFrame(schema=EMPLOYEE_DAY_COLUMNS)
    return AuditResult(
        period, as_of, out_dir, pl.DataFrame(schema=VIOLATIONS_SCHEMA), unit_findings,
        empty_ev, summary, meta,
    )


def _meta(
    store: Store,
    period: Period,
    policy: Policy,
    as_of: dt.date,
    cal: pl.DataFrame,
    inputs: AuditInputs,
    people: pl.DataFrame,
    employee_days: int,
    status: dict[str, int],
    by_rule: dict[str, int],
    unit_findings: pl.DataFrame,
) -> dict[str, Any]:
    """``audit.json`` as ``run_audit`` writes it, from the partitions' counts."""
    return audit_meta(
        store,
        period,
        policy,
        as_of,
        cal,
        inputs,
        employees=people.height,
        employee_days=employee_days,
        status=status,
        by_rule=by_rule,
        unit_findings=unit_findings,
        quality=_streaming(lambda: data_quality(store, inputs, people)),
    )


def _people(files: list[Path]) -> pl.DataFrame:
    """One row per audited employee (nip, unit_code, home_known, office_known), adding the
    new employees of one partition at a time (a unique over all partitions at once took
    10 GB at 4M employees x 21 days)."""
    people = pl.DataFrame(
        schema={"nip": pl.String, "unit_code": pl.String, "home_known": pl.Boolean,
                "office_known": pl.Boolean}
    )
    for file in files:
        part = pl.read_parquet(file).select(list(people.columns))
        people = pl.concat([people, part.join(people.select("nip"), on="nip", how="anti")])
    return people


def _streaming(func: Callable[[], T]) -> T:
    """Run ``func`` with Polars preferring its streaming engine (whole-period scans)."""
    with pl.Config(engine_affinity="streaming"):
        return func()


def _publish(tmp: Path, out_dir: Path, meta: dict[str, Any]) -> None:
    """Move the result files into ``out_dir``; ``audit.json`` last (as ``run_audit`` does)."""
    (tmp / "audit.json").write_text(
        json.dumps(_jsonable(meta), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (
        "violations.parquet",
        "unit_findings.parquet",
        "employee_days.parquet",
        "employee_summary.parquet",
        "waived_violations.parquet",  # clarifications (issue 12)
        "waived_unit_findings.parquet",
        "audit.json",
    ):
        shutil.move(tmp / name, out_dir / name)
