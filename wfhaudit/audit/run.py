"""The audit pipeline: every run mode (in memory, partitioned, Dask) goes through it.

    snapshot  ->  chunks  ->  period step  ->  publish

1. **Snapshot** (``snapshot``): the store's versions pinned (every read after is
   at them), the period's inputs, the calendar, the audited days, and the
   year's earlier days the store holds attendance for (the year to date).
2. **Chunks** (``wfhaudit.audit.partitioned.audit_chunk``): the audited days in
   chunks that tile the period; per chunk the engine's employee-day frames and
   every rule whose scope fits a chunk.  Every chunk reads the pinned store
   itself (its layout makes a day readable without a copy); the in-memory run
   is one chunk of the whole period.  A chunk runner
   (``Executor``: here, or Dask) is the only thing the modes differ in.  The
   year to date runs the same chunks over 1 January .. the day before the period.
3. **Period step** (``period_step``): ``DUPLICATE_OUTPUT`` per nip bucket, the
   merge of the chunks into the result files, the summary with the year to
   date, ``audit.json``.
4. **Publish** (``publish``): the files renamed into the output directory,
   ``audit.json`` last; every write error a ``DataError`` (exit 3).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
from deltalake import DeltaTable

from wfhaudit import __version__
from wfhaudit.audit import partitioned, ytd_cache
from wfhaudit.audit.calendar import calendar
from wfhaudit.audit.clarifications import apply_clarifications, waived_frames, waiver_meta
from wfhaudit.audit.day_masks import day_masks, held_dates
from wfhaudit.audit.employee_days import (
    STATUS_DUTY,
    STATUS_EXCUSED,
    STATUS_NO_ATTENDANCE_DATA,
    STATUS_REQUIRED,
    audited_days,
    release_indexes,
)
from wfhaudit.audit.inputs import (
    AuditInputs,
    load_inputs,
    pin_versions,
    store_dates,
)
from wfhaudit.audit.partitioned import (
    FIRST_REPORT,
    PEOPLE_SCHEMA,
    PERIOD_RULES,
    REPORT_CHARS,
    Chunk,
    ChunkResult,
    Executor,
    LocalExecutor,
    Progress,
    StoreSource,
    attendance_totals,
    audit_chunk,
    audit_days,
    bucket_count,
    input_quality,
    owned_strings,
    private_dir,
    range_cuts,
    range_index,
    unit_groups,
)
from wfhaudit.audit.period import Period
from wfhaudit.audit.rules import UNIT_RULES, VIOLATION_RULES, RuleContext
from wfhaudit.audit.spans import (
    ATTENDANCE_SPAN,
    OUTPUT_SPAN,
    QUALITY_LISTS,
    agency_spans,
    in_force,
    merge_quality_lists,
    quality_lists,
    reports_warning,
    require_attendance,
)
from wfhaudit.errors import DataError
from wfhaudit.policy.model import Policy
from wfhaudit.policy.sanctions import EPSILON, sanction_tier
from wfhaudit.policy.toml_out import policy_dict
from wfhaudit.schema import (
    ACTION_BLANKED,
    AUDIT_JSON,
    EMPLOYEE_DAYS_SCHEMA,
    EMPLOYEE_DAYS_SORT,
    EMPLOYEE_SUMMARY_SCHEMA,
    EMPLOYEE_SUMMARY_SORT,
    PARTITION_COLUMN,
    REJECTS,
    RESULT_FILES,
    VIOLATIONS_SCHEMA,
    WAIVED_UNIT_FINDINGS_SCHEMA,
    WAIVED_VIOLATIONS_SCHEMA,
    WIB,
)
from wfhaudit.store import Store

__all__ = [
    "AuditFrames", "AuditPlan", "AuditResult", "Execution", "audit_days", "audit_frames", "execute",
    "run_audit",
]

#: v1 names of the result columns (now in ``schema.py``).
EMPLOYEE_DAY_COLUMNS = EMPLOYEE_DAYS_SCHEMA
EMPLOYEE_SUMMARY_COLUMNS = EMPLOYEE_SUMMARY_SCHEMA
#: ``--partition-days auto`` keeps the period in memory when its inputs, at this many
#: bytes per row, take at most this share of the machine's memory.
BYTES_PER_ROW = 400
IN_MEMORY_SHARE = 0.25
#: at most this many chunks at once in this process (threads; memory allowing)
MAX_CHUNK_THREADS = 4
#: Prefixes of the private directories (stale ones of killed runs are removed).
WORK_PREFIX = "wfhaudit-audit-"
RESULTS_PREFIX = ".wfhaudit-results-"

def today_wib() -> dt.date:
    """Today's date in WIB."""
    return dt.datetime.now(WIB).date()


def _noop(_: str) -> None:
    return None


def _day(days: pl.DataFrame, last: bool = True) -> dt.date:
    """The last (first) date of ``days`` (not empty)."""
    value = days.get_column("date").max() if last else days.get_column("date").min()
    assert isinstance(value, dt.date)
    return value


# --- the plan ---------------------------------------------------------------------


@dataclass(frozen=True)
class Execution:
    """How the chunks run.  ``partition_days``: None chooses (``auto``), 0 is one chunk in
    memory, N audits N days per chunk; ``executor`` runs the chunks (default: here);
    ``work_dir`` holds the chunks' files (default: ``$WFHAUDIT_WORK_DIR`` or the system's
    temporary directory; a cluster's workers must all see it, and the store)."""

    partition_days: int | None = None
    executor: Executor | None = None
    work_dir: Path | None = None
    #: the year-to-date cache (``ytd_cache``): ``use``, ``off``, ``rebuild``; None:
    #: ``$WFHAUDIT_YTD_CACHE`` or ``use``
    ytd_cache: str | None = None


@dataclass(frozen=True)
class AuditPlan:
    """An audit to run: what (period, policy, as-of), where to (out_dir), how (execution).

    ``as_of`` None: today in WIB (days from it on are not audited)."""

    period: Period
    policy: Policy
    out_dir: Path
    as_of: dt.date | None = None
    execution: Execution = field(default_factory=Execution)
    #: False: the earlier days of the year are not audited, so ``employee_summary``'s
    #: ``ytd_*`` columns count the period alone (audit.json:
    #: ``execution.year_to_date_skipped``); for a caller that reads no summary (evaluate)
    year_to_date: bool = True


@dataclass
class AuditResult:
    """A published audit: where its files are and ``audit.json``; frames read on demand."""

    period: Period
    as_of: dt.date
    out_dir: Path
    meta: dict[str, Any]

    @property
    def counts(self) -> dict[str, Any]:
        return dict(self.meta["counts"])

    @property
    def days_left_out(self) -> list[str]:
        return list(self.meta["days_left_out"])

    def frame(self, name: str) -> pl.DataFrame:
        return pl.read_parquet(self.out_dir / name, glob=False)

    @cached_property
    def violations(self) -> pl.DataFrame:
        return self.frame("violations.parquet")

    @cached_property
    def unit_findings(self) -> pl.DataFrame:
        return self.frame("unit_findings.parquet")

    @cached_property
    def employee_days(self) -> pl.DataFrame:
        return self.frame("employee_days.parquet")

    @cached_property
    def employee_summary(self) -> pl.DataFrame:
        return self.frame("employee_summary.parquet")


def run_audit(
    store: Store,
    period: Period,
    policy: Policy,
    *,
    as_of: dt.date | None = None,
    out_dir: Path,
    partition_days: int | None = None,
    executor: Executor | None = None,
    work_dir: Path | None = None,
    progress: Progress | None = None,
    ytd_cache: str | None = None,
) -> AuditResult:
    """Audit ``period`` from ``store`` under ``policy``; publish the result files in ``out_dir``.

    See ``Execution`` for ``partition_days``, ``executor``, ``work_dir`` and ``ytd_cache``."""
    execution = Execution(partition_days, executor, work_dir, ytd_cache)
    return execute(AuditPlan(period, policy, Path(out_dir), as_of, execution), store, progress)


# --- 1. snapshot ----------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """The pinned inputs of an audit and the days to audit."""

    inputs: AuditInputs  # the period, at the pinned versions
    calendar: pl.DataFrame  # the period's calendar
    days: pl.DataFrame  # its audited days
    #: the year to date's earlier days: the audited days of 1 January of the last audited
    #: day's year .. the day before the period (the year-to-date step computes those of
    #: them the cache does not hold and on which the store holds some attendance)
    earlier: AuditInputs | None
    earlier_days: pl.DataFrame
    #: ``spans.in_force`` of the pinned employees (collected once: the spans, the
    #: year-to-date cache's keys)
    people: pl.DataFrame | None = None
    #: every date on which the store holds some attendance at the pinned version
    #: (``date``; from the day masks: the year to date skips the other days, where every
    #: agency-day is missing data)
    held: pl.DataFrame | None = None


def snapshot(store: Store, period: Period, policy: Policy, as_of: dt.date) -> Snapshot:
    """Pin the store and plan the days (``DataError`` naming every missing table)."""
    versions = pin_versions(store)
    inputs = load_inputs(store, period.start, period.end, versions=versions)
    cal = calendar(policy, period.start, period.end)
    days = audited_days(cal, as_of)
    attendance_dates, output_dates = store_dates(store, versions)
    # the days each nip has data on, per data file (kept beside the store: only files
    # written since the last audit are read)
    masks = {ATTENDANCE_SPAN: day_masks(store, "attendance", versions["attendance"]),
             OUTPUT_SPAN: day_masks(store, "outputs", versions["outputs"])}
    held = pl.DataFrame({"date": held_dates(masks[ATTENDANCE_SPAN])},
                        schema={"date": pl.Date()})
    require_attendance(days, inputs.attendance, held.lazy())
    if (warning := reports_warning(days, inputs.outputs)) is not None:
        print(warning, file=sys.stderr)
    # the agencies' data spans run over the whole store: once here, for every chunk
    people = in_force(inputs.employees).collect()
    spans = agency_spans(people, attendance_dates, output_dates, masks)
    inputs = replace(inputs, spans=spans, as_of=as_of)
    earlier, earlier_days = None, days.clear()
    if days.height:
        year_start = dt.date(_day(days).year, 1, 1)
        before = period.start - dt.timedelta(days=1)
        if year_start <= before:
            earlier = replace(
                load_inputs(store, year_start, before, versions=versions), spans=spans
            )
            earlier_days = audited_days(calendar(policy, year_start, before), as_of)
    return Snapshot(inputs, cal, days, earlier, earlier_days, people, held)


def _rows(store: Store, kind: str, version: int | None, months: list[str] | None) -> int:
    """Rows of ``kind`` at ``version`` (in ``months``) from the Delta log's statistics."""
    if version is None:
        return 0
    delta = DeltaTable(str(store.table_path(kind)), version=version)
    actions = pl.DataFrame(delta.get_add_actions(flatten=True))
    month = f"partition.{PARTITION_COLUMN}"
    if months is not None and month in actions.columns:
        actions = actions.filter(pl.col(month).is_in(months))
    if not actions.height or "num_records" not in actions.columns:
        return 0
    return int(actions.get_column("num_records").fill_null(0).sum())


def _memory_bytes() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 8 << 30


def _input_rows(store: Store, snap: Snapshot) -> int:
    """The period's input rows estimated from the store's row counts (employees once per
    working day; attendance, outputs and roster of the period's months)."""
    versions = snap.inputs.versions
    months = snap.calendar.get_column("date").dt.strftime("%Y-%m").unique().to_list()
    return _rows(store, "employees", versions["employees"], None) * max(snap.days.height, 1) + sum(
        _rows(store, kind, versions[kind], months) for kind in ("attendance", "outputs", "roster")
    )


def _threads(need: int, budget: int, days_per_chunk: int, working: int) -> dict[str, Any]:
    """How many chunks run at once here: as many as fit the budget, at most one per core
    (``MAX_CHUNK_THREADS``)."""
    chunk = max(1, need * days_per_chunk // working)
    cores = min(os.cpu_count() or 1, MAX_CHUNK_THREADS)
    threads = max(1, min(cores, budget // chunk))
    return {"threads": threads,
            "threads_reason": f"about {chunk >> 20:,} MB per chunk; {threads} at once "
                              f"({cores} core(s) used at most)"}


def choose_mode(store: Store, snap: Snapshot, execution: Execution) -> dict[str, Any]:
    """Days per chunk (0: the whole period in memory), how many chunks run at once here,
    and why: the option given, or ``auto``'s estimate of the period's inputs from the
    store's row counts."""
    if execution.executor is not None and execution.partition_days is None:
        return {"days_per_chunk": 1, "chosen_by": "--cluster", "reason": "one day per task"}
    working = max(snap.days.height, 1)
    rows = _input_rows(store, snap)
    need, budget = rows * BYTES_PER_ROW, int(_memory_bytes() * IN_MEMORY_SHARE)
    size = f"about {rows:,} input rows (about {need >> 20:,} MB)"
    mode: dict[str, Any]
    if execution.partition_days is not None:
        mode = {"days_per_chunk": execution.partition_days, "chosen_by": "--partition-days",
                "reason": "given"}
    elif need <= budget:
        mode = {"days_per_chunk": 0, "chosen_by": "auto",
                "reason": f"{size} fit in {IN_MEMORY_SHARE:.0%} of this machine's memory"}
    else:
        n = max(1, budget * working // max(need, 1))
        mode = {"days_per_chunk": n, "chosen_by": "auto",
                "reason": f"{size} exceed {IN_MEMORY_SHARE:.0%} of this machine's memory: "
                          f"{n} day(s) per chunk"}
    if mode["days_per_chunk"] and execution.executor is None:
        mode |= _threads(need, budget, mode["days_per_chunk"], working)
    return mode


# --- 2. chunks ------------------------------------------------------------------------


def _tiles(days: pl.DataFrame, size: int, start: dt.date, end: dt.date) -> Iterator[
    tuple[dt.date, dt.date, pl.DataFrame]
]:
    """``(first, last, days)`` per chunk of ``size`` audited days (0: all); the ranges tile
    ``[start, end]`` so that every input row of the period is read by exactly one chunk."""
    size = size or max(days.height, 1)
    if not days.height:
        yield start, end, days
        return
    first = start
    for offset in range(0, days.height, size):
        part = days.slice(offset, size)
        last = _day(part) if offset + size < days.height else end
        yield first, last, part
        first = last + dt.timedelta(days=1)


@contextmanager
def _work_dir(partitioned: bool, execution: Execution) -> Iterator[Path | None]:
    """The private work directory of a partitioned run (None in memory), removed after."""
    if not partitioned:
        yield None
        return
    env = os.environ.get("WFHAUDIT_WORK_DIR")
    parent = execution.work_dir or (Path(env) if env else None)
    try:
        work = private_dir(parent, WORK_PREFIX)
    except OSError as exc:
        raise DataError(
            f"cannot create a work directory in {parent or 'the temporary directory'}: "
            f"{exc.strerror or exc}; set WFHAUDIT_WORK_DIR to a writable directory."
        ) from exc
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def merge_plan(snap: Snapshot) -> tuple[str, ...]:
    """The unit ranges of the merge (``range_cuts``), planned before the chunks run: each
    range at most ``ROWS_PER_BUCKET`` employee-days, estimated as the unit's employees
    (every nip with an employees row of the unit, so a transferred employee counts in
    both) times the audited days.  Rows without a unit go to the first range."""
    per_unit = (
        snap.inputs.employees.filter(pl.col("unit_code").is_not_null())
        .group_by("unit_code")
        .agg(pl.col("nip").n_unique().alias("n"))
        .collect()
    )
    days = max(snap.days.height, 1)
    rows = {str(u): int(n) * days for u, n in per_unit.iter_rows()}
    return range_cuts(rows, partitioned.ROWS_PER_BUCKET)


def _run_year_to_date(
    store: Store, snap: Snapshot, policy: Policy, days_per_chunk: int, work: Path | None,
    executor: Executor, step: Progress, mode: str,
) -> tuple[list[ChunkResult], dict[str, Any] | None]:
    """The year to date's earlier months: from the cache (``ytd_cache``) where it holds them
    under their current fingerprint, else computed by year-to-date chunks (a month at a time
    in memory, ``days_per_chunk`` days at a time partitioned, never across a month) and
    cached.  Returns the per-nip totals (as chunk results; the cached months as one result
    of index -1) and audit.json's ``execution.year_to_date``."""
    earlier = snap.earlier
    if earlier is None or not snap.earlier_days.height:
        return [], None
    step("year to date")
    plan = ytd_cache.plan(
        store, earlier, snap.earlier_days, policy, snap.inputs.as_of, mode, snap.people
    )
    month = pl.col("date").dt.strftime("%Y-%m")
    # the days of the months to compute on which the store holds some attendance
    todo = snap.earlier_days.filter(month.is_in(plan.computed))
    if snap.held is not None:
        todo = todo.join(snap.held, on="date", how="semi", maintain_order="left")
    cuts: list[tuple[str, pl.DataFrame]] = []
    for (label,), rows in todo.group_by(month, maintain_order=True):
        size = days_per_chunk or rows.height
        cuts += [(str(label), rows.slice(o, size)) for o in range(0, rows.height, size)]
    ytd: list[ChunkResult] = []
    if cuts:
        first, last = _day(todo, last=False), _day(todo)
        earlier_source = StoreSource.of(store, replace(earlier, start=first, end=last))
        ytd = executor.map(audit_chunk, [
            Chunk(i, _day(part, last=False), _day(part), part, policy, earlier_source,
                  str(work) if work else None, ytd=True)
            for i, (_, part) in enumerate(cuts)
        ])
    facts = {}
    for label in plan.to_write:
        mine = [r for (m, _), r in zip(cuts, ytd, strict=True) if m == label]
        facts[label] = (
            _concat(mine, "totals", ytd_cache.FACTS_SCHEMA)
            .group_by("nip").agg(pl.col("absent_days", "late_minutes", "early_minutes").sum())
            .collect()
        )
    not_written = ytd_cache.record(store, plan, facts)
    if plan.cached is not None:
        ytd.append(ChunkResult(-1, parts={"totals": plan.cached}))
    return ytd, ytd_cache.meta(plan, todo.get_column("date").to_list(), not_written)


def _run_chunks(
    store: Store, snap: Snapshot, policy: Policy, days_per_chunk: int,
    work: Path | None, executor: Executor, step: Progress, ytd_cache_mode: str = "use",
    report_lengths: bool = False,
) -> tuple[list[ChunkResult], list[ChunkResult], dict[str, Any]]:
    """The period's chunks and the year to date's; and what ran (for audit.json)."""
    period_source = StoreSource.of(store, snap.inputs)
    groups = None
    if work is not None:
        groups = unit_groups(
            period_source.inputs(snap.inputs.start, snap.inputs.start).employees,
            max(1, partitioned.GROUP_EMPLOYEES // max(days_per_chunk, 1)),
        )
    employees = int(snap.inputs.employees.select(pl.len()).collect().item())
    buckets = bucket_count(employees * max(snap.days.height, 1))
    start, end = snap.inputs.start, snap.inputs.end
    tiles = list(_tiles(snap.days, days_per_chunk, start, end))
    ranges = merge_plan(snap) if len(tiles) > 1 else ()  # one chunk: its files are the result
    chunks = [
        Chunk(i, lo, hi, part, policy, period_source, str(work) if work else None,
              groups=groups, buckets=buckets, whole=len(tiles) == 1, ranges=ranges,
              report_lengths=report_lengths)
        for i, (lo, hi, part) in enumerate(tiles)
    ]
    step(f"auditing {len(chunks)} chunk(s)")
    results = executor.map(audit_chunk, chunks)
    own_keys = period_source.template.employees_key is None
    if results and groups is not None and len(groups) > 1 and own_keys:
        # chunks audited in agency groups keyed each on its own see only their own
        # employees' rows: the rows of unknown nips and the rostered units are counted
        # once over the period (one streaming pass), and kept with the first chunk's
        # facts (the period step sums the chunks' facts).  Groups keyed together on the
        # audit's employee index count them in each chunk (``agency_groups``)
        results[0].quality.update(input_quality(snap.inputs, engine="streaming"))
    if groups is not None and len(groups) > 1:
        release_indexes()  # the agency groups' indexes: the year to date numbers its own
    ytd, ytd_meta = _run_year_to_date(
        store, snap, policy, days_per_chunk, work, executor, step, ytd_cache_mode
    )
    release_indexes()  # the year to date's: not needed any more
    execution = {
        "chunks": len(chunks),
        "ytd_chunks": sum(1 for r in ytd if r.index >= 0),
        "year_to_date": ytd_meta,
        "agency_groups": len(groups) if groups else 1,
        "executor": type(executor).__name__,
        "chunk_seconds": [round(r.seconds, 3) for r in results],
        "worker_processes": len({r.pid for r in results}),
    }
    return results, ytd, execution


# --- 3. the period step -----------------------------------------------------------------


def _concat(results: Sequence[ChunkResult], name: str, schema: pl.Schema) -> pl.LazyFrame:
    parts = [lf for r in results if (lf := r.lazy(name)) is not None]
    return pl.concat(parts, how="vertical") if parts else pl.LazyFrame(schema=schema)


def _ranged(
    results: Sequence[ChunkResult], name: str, k: int, schema: pl.Schema
) -> pl.LazyFrame:
    """Range ``k`` of the chunks' ranged part ``name``, in chunk order."""
    return _concat(results, f"{name}-r{k}", schema)


def _bucket_names(results: Sequence[ChunkResult], name: str) -> list[str]:
    """The names of the chunks' nip-bucketed parts ``<name>-<bucket>``, in bucket order."""
    found = {part for r in results for part in r.parts if part.startswith(f"{name}-")}
    return sorted(found, key=lambda part: int(part.rsplit("-", 1)[1]))


def period_violations(
    results: Sequence[ChunkResult], period: Period, policy: Policy
) -> pl.DataFrame:
    """The period-scope rules (``DUPLICATE_OUTPUT``) over the chunks' report rows, one nip
    bucket at a time, with the engine's own rule functions (re-keyed for the period)."""
    span = (period.end - period.start).days + 1
    found = []
    for bucket in _bucket_names(results, "reports"):
        rows = _concat(results, bucket, pl.Schema()).collect()
        # emp_idx: any number that is one nip's only: the code of a dictionary of this
        # bucket's nips (a Categorical of its own, freed with the bucket)
        codes = pl.Categorical(pl.Categories.random())
        rows = rows.with_columns(
            pl.col("nip").cast(codes).to_physical().cast(pl.Int64).alias("emp_idx"),
        ).with_columns(
            (pl.col("emp_idx") * span + (pl.col("date") - pl.lit(period.start)).dt.total_days())
            .alias("ed_key")
        )
        # one row per employee-day: the report each chunk marked first of its day
        days = rows.filter(pl.col(FIRST_REPORT)).select("ed_key", "nip", "date", "unit_code")
        ctx = RuleContext(days.lazy(), pl.LazyFrame(), rows.lazy(), policy)
        # collected bucket by bucket: memory bounded by one bucket's reports
        # copied out of the bucket's buffers (its NIPs and texts): kept, they would hold them
        found += [owned_strings(f) for f in pl.collect_all([r.func(ctx) for r in PERIOD_RULES])]
        del rows, days, ctx
    if not found:
        return pl.DataFrame(schema=VIOLATIONS_SCHEMA)
    return pl.concat(found).select(list(VIOLATIONS_SCHEMA)).cast(VIOLATIONS_SCHEMA)


class _SortedWriter:
    """The result file ``name`` written range by range of unit codes (memory bounded by a
    range): each range's rows in the file's columns and order, the ranges in unit order,
    so the file is sorted.  Several ranges: Arrow's Parquet writer (zstd), which appends
    them one after the other, in a thread of its own: a range is encoded (on one core,
    outside the GIL) while the period step builds the next; at most one waits, and its
    error is raised by the next ``write`` or by ``close``.  One range (``whole``, as in
    memory): Polars' writer, which encodes the columns in parallel (about 0.15 s less
    for 840 000 employee-days).  Tried at 4 million employees and taken out
    (``docs/scale.md``): Polars' streaming sink fed range by range (127.6 s and 7.3 GB
    against 123.3 s and 7.0 GB), and the evidence sorted on integer keys (unit ranks,
    NIP numbers) and gathered once (no faster)."""

    def __init__(self, path: Path, name: str, whole: bool = False) -> None:
        self.path = path
        self.schema, self.sort = RESULT_FILES[name]
        self.writer: pq.ParquetWriter | None = None
        self.whole = whole
        self.done = False
        self.rows = 0
        self._encoder: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    def write(
        self, frame: pl.DataFrame, presorted: bool = False, stable_by: Sequence[str] = ()
    ) -> pl.DataFrame:
        """Write one range's rows; the rows written.  ``presorted``: already in order;
        ``stable_by``: in order once stably sorted by these leading keys (the rest of the
        order is the rows' own)."""
        frame = frame.select(list(self.schema)).cast(self.schema)
        if stable_by:
            frame = frame.sort(list(stable_by), maintain_order=True)
        elif not presorted:
            frame = frame.sort(list(self.sort))
        if self.whole:
            if self.done:
                raise RuntimeError(f"internal: {self.path.name} written twice as one range")
            frame.write_parquet(self.path, compression="zstd")
            self.done, self.rows = True, frame.height
            return frame
        table = frame.to_arrow()
        self._wait()  # the previous range written (or its error raised) first
        if self.writer is None:
            self.writer = pq.ParquetWriter(str(self.path), table.schema, compression="zstd")
        if self._encoder is None:
            self._encoder = ThreadPoolExecutor(1, thread_name_prefix="wfhaudit-writer")
        self._pending = self._encoder.submit(self.writer.write_table, table)
        self.rows += frame.height
        return frame

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        try:
            self._wait()
        finally:
            if self._encoder is not None:
                self._encoder.shutdown()
                self._encoder = None
            if self.writer is not None:
                self.writer.close()
                self.writer = None


def _write_sorted(path: Path, rows: pl.LazyFrame, name: str) -> int:
    """Write ``rows`` (a small result file) as the result file ``name``; its rows."""
    writer = _SortedWriter(path, name)
    try:
        writer.write(rows.collect())
    finally:
        writer.close()
    return writer.rows


def _with_duplicates(evidence: pl.DataFrame, duplicates: pl.DataFrame) -> pl.DataFrame:
    """``evidence`` with the period step's violations (``duplicates``) added to the
    ``violations`` of their employee-days (one evidence row per nip and date)."""
    if duplicates.is_empty():
        return evidence
    per_day = duplicates.group_by("nip", "date").agg(pl.len().cast(pl.Int64).alias("_dup"))
    # only the rows of a nip with a duplicate are joined (a few thousand of a range's
    # millions: 0.07 against 0.17 s a range at 4 million employees), their counts
    # scattered back by row number; the wide rows are not gathered
    nips = per_day.get_column("nip").unique().implode()
    hits = (
        evidence.select("nip", "date").with_row_index("_row")
        .filter(pl.col("nip").is_in(nips))
        .join(per_day, on=["nip", "date"], how="inner")
    )
    added = pl.zeros(evidence.height, pl.Int64, eager=True).scatter(
        hits.get_column("_row"), hits.get_column("_dup")
    )
    return evidence.with_columns(pl.col("violations") + added)


def _equivalent_days(policy: Policy) -> pl.Expr:
    return (
        pl.col("absent_days") + (pl.col("late_minutes") + pl.col("early_minutes"))
        / policy.minutes_per_day
    ).cast(pl.Float64)


def ytd_equivalent_days(totals: Sequence[pl.DataFrame], policy: Policy) -> pl.DataFrame:
    """Per nip: ``ytd_equivalent_days`` from per-nip totals (``absent_days``,
    ``late_minutes``, ``early_minutes``; a nip may have rows in several), summed first."""
    return (
        pl.concat(totals)
        .group_by("nip")
        .agg(pl.col("absent_days", "late_minutes", "early_minutes").sum())
        .select("nip", _equivalent_days(policy).alias("ytd_equivalent_days"))
    )


def day_counts(employee_days: pl.DataFrame) -> pl.DataFrame:
    """Per nip of ``employee_days`` rows: working, excused, duty and no-attendance-data
    days (additive over disjoint rows)."""
    return employee_days.group_by("nip").agg(
        pl.len().cast(pl.Int64).alias("working_days"),
        (pl.col("status") == STATUS_EXCUSED).sum().cast(pl.Int64).alias("excused_days"),
        (pl.col("status") == STATUS_DUTY).sum().cast(pl.Int64).alias("duty_days"),
        (pl.col("status") == STATUS_NO_ATTENDANCE_DATA)
        .sum()
        .cast(pl.Int64)
        .alias("no_attendance_data_days"),
    )


def violation_counts(violations: pl.DataFrame) -> pl.DataFrame:
    """Per nip of ``violations``: the days with a violation, absent days, late and early
    minutes (additive over violations of disjoint employee-days)."""
    days = violations.group_by("nip").agg(
        pl.col("date").n_unique().cast(pl.Int64).alias("violation_days")
    )
    return days.join(attendance_totals(violations), on="nip", how="left")


def _sum_by_nip(parts: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Partial per-nip counts (the same columns) summed per nip."""
    return pl.concat(parts).group_by("nip").agg(pl.all().sum())


def employee_summary(
    names: pl.DataFrame,
    days: pl.DataFrame,
    violations: pl.DataFrame,
    ytd: pl.DataFrame,
    policy: Policy,
) -> pl.DataFrame:
    """``employee_summary.parquet`` rows (rules.md) of the employees of ``days``
    (``day_counts``), with their ``violation_counts`` and year to date (``ytd``)."""
    summary = (
        days.join(names, on="nip", how="left")
        .join(violations, on="nip", how="left")
        .join(ytd, on="nip", how="left")
        .with_columns(
            pl.col("violation_days", "absent_days", "late_minutes", "early_minutes").fill_null(0),
            pl.col("ytd_equivalent_days").fill_null(0.0),
        )
        .with_columns(_equivalent_days(policy).alias("equivalent_days"))
    )
    # the tier depends on the whole days alone: looked up once per distinct whole number
    whole = (pl.col("ytd_equivalent_days") + EPSILON).floor()
    tiers = {w: sanction_tier(w) for w in summary.select(whole.unique()).to_series().to_list()}
    summary = summary.with_columns(
        whole.replace_strict(tiers, default=None, return_dtype=pl.String).alias("ytd_tier")
    )
    return summary.select([pl.col(c).cast(t) for c, t in EMPLOYEE_SUMMARY_SCHEMA.items()])


def period_step(
    snap: Snapshot,
    policy: Policy,
    period: Period,
    results: Sequence[ChunkResult],
    ytd: Sequence[ChunkResult],
    tmp: Path,
) -> dict[str, Any]:
    """Write every result file into ``tmp`` from the chunks; the counts for audit.json."""
    duplicates = period_violations(results, period, policy)
    # clarifications (issue 12): the waiver step of the period rules; the waived files
    clarifications = snap.inputs.clarifications.collect()
    dup_waiver = apply_clarifications(
        duplicates, pl.DataFrame(schema=RESULT_FILES["unit_findings.parquet"][0]), clarifications
    )
    duplicates = dup_waiver.violations
    waived_v, waived_u = waived_frames(
        [_concat(results, "waived_violations", WAIVED_VIOLATIONS_SCHEMA).collect(),
         dup_waiver.waived_violations],
        [_concat(results, "waived_unit_findings", WAIVED_UNIT_FINDINGS_SCHEMA).collect()],
    )
    waived_v.write_parquet(tmp / "waived_violations.parquet")
    waived_u.write_parquet(tmp / "waived_unit_findings.parquet")
    waived = waiver_meta(
        waived_v, waived_u, clarifications, snap.inputs.versions.get("clarifications")
    )
    year_start = dt.date(_day(snap.days).year, 1, 1) if snap.days.height else period.start
    offices = set(snap.inputs.offices.select("office_id").collect()["office_id"].to_list())
    # the merge, range by range of unit codes as planned before the chunks (each chunk
    # wrote one sorted part per range: every row read once); the summary's per-nip counts
    # and the data-quality lists of each range taken from the rows in hand
    cuts = results[0].ranges if results else ()
    where = range_index(duplicates.get_column("unit_code"), cuts) if cuts else None
    presorted = len(results) == 1  # one chunk (in memory): its parts are the result
    days_parts, vio_parts, ytd_parts, quality_parts = [], [], [], []
    vio_file = _SortedWriter(tmp / "violations.parquet", "violations.parquet", not cuts)
    ev_file = _SortedWriter(tmp / "employee_days.parquet", "employee_days.parquet", not cuts)
    try:
        for piece in range(len(cuts) + 1):
            dup = duplicates if where is None else duplicates.filter(where == piece)
            vio = vio_file.write(
                pl.concat([_ranged(results, "violations", piece, VIOLATIONS_SCHEMA), dup.lazy()])
                .collect(),
                presorted=presorted and dup.is_empty(),
            )
            # the chunks' parts, each sorted by unit, nip, date, come in chunk order, that
            # is in date order: sorted once stably sorted by unit and nip
            evidence = _ranged(results, "evidence", piece, EMPLOYEE_DAYS_SCHEMA).collect()
            ev = ev_file.write(
                _with_duplicates(evidence, dup), presorted=presorted,
                stable_by=() if presorted else EMPLOYEE_DAYS_SORT[:-1],
            )
            del evidence
            # an employee's day has one unit: the ranges' counts of a nip add up
            # kept until the summary: copied out of the range's buffers (``owned_strings``)
            days_parts.append(owned_strings(day_counts(ev)))
            vio_parts.append(owned_strings(violation_counts(vio)))
            ytd_parts.append(
                owned_strings(attendance_totals(vio.filter(pl.col("date") >= year_start)))
            )
            quality_parts.append(quality_lists(ev, offices, policy.gap_min_employees))
            del vio, ev
    finally:
        vio_file.close()
        ev_file.close()
    n_violations, n_evidence = vio_file.rows, ev_file.rows
    # unit_findings.parquet and any other small result file (e.g. the waived findings):
    # the chunks' part of the same name, concatenated and sorted
    for name, (schema, _) in RESULT_FILES.items():
        written = ("violations.parquet", "employee_days.parquet", "employee_summary.parquet")
        if name not in written and not (tmp / name).exists():
            rows = _concat(results, name.removesuffix(".parquet"), schema)
            _write_sorted(tmp / name, rows, name)
    # the summary from the ranges' per-nip counts and the year to date's totals
    # history: the name and unit of each employee's latest employees row
    names = (
        snap.inputs.employees.sort("valid_from", nulls_last=False)
        .select("nip", "name", "unit_code")
        .unique("nip", keep="last", maintain_order=True)
    )
    earlier = _concat(ytd, "totals", pl.Schema(
        {"nip": pl.String(), "absent_days": pl.Int64(), "late_minutes": pl.Int64(),
         "early_minutes": pl.Int64()}
    ))
    # the year to date's totals summed per nip as they stream (one row per employee held)
    names_df = names.collect()
    earlier_df = earlier.group_by("nip").agg(pl.all().sum()).collect(engine="streaming")
    summary = employee_summary(
        names_df,
        _sum_by_nip(days_parts),
        _sum_by_nip(vio_parts),
        ytd_equivalent_days([*ytd_parts, earlier_df], policy),
        policy,
    )
    del days_parts, vio_parts, ytd_parts, names_df, earlier_df
    summary.sort(list(EMPLOYEE_SUMMARY_SORT)).write_parquet(tmp / "employee_summary.parquet")
    by_rule: dict[str, int] = {}
    status: dict[str, int] = {}
    for r in results:
        for k, v in r.by_rule.items():
            by_rule[k] = by_rule.get(k, 0) + v
        for k, v in r.status.items():
            status[k] = status.get(k, 0) + v
    for k, v in duplicates.group_by("rule").len().iter_rows():
        by_rule[str(k)] = by_rule.get(str(k), 0) + int(v)
    if n_violations != sum(by_rule.values()):  # audit.json counts what was written
        raise RuntimeError(
            f"internal: {n_violations} violations written but {sum(by_rule.values())} "
            "counted; run with --debug and report it."
        )
    # the employees: per nip bucket, the first row of each in chunk order
    people_parts = [
        _concat(results, bucket, PEOPLE_SCHEMA)
        .unique("nip", keep="first", maintain_order=True)
        .collect()
        .pipe(owned_strings)  # one row of each nip's 21 or so: not the bucket's buffers
        for bucket in _bucket_names(results, "people")
    ]
    people = pl.concat(people_parts) if people_parts else pl.DataFrame(schema=PEOPLE_SCHEMA)
    quality: dict[str, Any] = {}
    for r in results:
        for key, value in r.quality.items():
            if isinstance(value, list):
                quality[key] = sorted(set(quality.get(key, [])) | set(value))
            else:
                quality[key] = quality.get(key, 0) + value
    quality.update(merge_quality_lists(quality_parts))  # the v2 lists, range by range
    return {
        "employees": people.height,
        "employee_days": n_evidence,
        "status": status,
        "by_rule": by_rule,
        "unit_findings": pl.read_parquet(tmp / "unit_findings.parquet", glob=False),
        "people": people,
        "quality": quality,
        "waived": waived,  # clarifications (issue 12): (counts, clarifications) of audit.json
    }


# --- audit.json -------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return value


def _by_rule(frame: pl.DataFrame, codes: Sequence[str]) -> dict[str, int]:
    found = dict(frame.group_by("rule").len().iter_rows())
    return {code: int(found.get(code, 0)) for code in codes}


def data_quality(
    store: Store, versions: dict[str, int | None], people: pl.DataFrame, quality: dict[str, Any]
) -> dict[str, Any]:
    """The data-quality counts of ``audit.json`` (``quality``: the chunks' input facts)."""
    rejects: dict[str, int] = {}
    blanked: dict[str, int] = {}
    if versions.get(REJECTS.name) is not None:
        counts = (
            store.scan(REJECTS.name, version=versions[REJECTS.name])
            # an empty action (a row written before v2) is a rejected row
            .with_columns((pl.col("action") == ACTION_BLANKED).fill_null(False).alias("blanked"))
            .group_by("blanked", "error_code").len().collect()
        )
        for is_blanked, code, n in sorted(counts.iter_rows()):
            (blanked if is_blanked else rejects)[str(code)] = int(n)
    audited_units = set(people["unit_code"].to_list())
    return {
        "rejects_by_code": rejects,
        "blanked_by_code": blanked,
        "attendance_unknown_nip": int(quality.get("attendance_unknown_nip", 0)),
        "roster_unknown_nip": int(quality.get("roster_unknown_nip", 0)),
        "outputs_unknown_nip": int(quality.get("outputs_unknown_nip", 0)),
        "employees_without_home": int((~people["home_known"]).sum()) if people.height else 0,
        "employees_unknown_office": int((~people["office_known"]).sum()) if people.height else 0,
        "units_without_roster": sorted(audited_units - set(quality.get("rostered_units", []))),
        **{key: quality[key] for key in QUALITY_LISTS if key in quality},
    }


def audit_meta(
    store: Store, period: Period, policy: Policy, as_of: dt.date, snap: Snapshot,
    counts: dict[str, Any],
) -> dict[str, Any]:
    """``audit.json``: where the result came from and what it counts."""
    audited = snap.calendar.filter(pl.col("working") & (pl.col("date") < as_of))
    in_force = audited.get_column("wfh_period").drop_nulls().unique(maintain_order=True)
    status, by_rule, unit_findings = counts["status"], counts["by_rule"], counts["unit_findings"]
    versions = snap.inputs.versions
    meta = {
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
        "store": {"path": str(store.path.resolve()), "versions": dict(versions)},
        "counts": {
            "employees": counts["employees"],
            "employee_days": counts["employee_days"],
            "excused": int(status.get(STATUS_EXCUSED, 0)),
            "duty": int(status.get(STATUS_DUTY, 0)),
            "no_attendance_data": int(status.get(STATUS_NO_ATTENDANCE_DATA, 0)),
            "required": int(status.get(STATUS_REQUIRED, 0)),
            "violations": sum(by_rule.values()),
            "by_rule": {r.code: int(by_rule.get(r.code, 0)) for r in VIOLATION_RULES},
            "unit_findings": unit_findings.height,
            "unit_findings_by_rule": _by_rule(unit_findings, [r.code for r in UNIT_RULES]),
        },
        "data_quality": data_quality(store, versions, counts["people"], counts["quality"]),
        "generated_at": dt.datetime.now(WIB).isoformat(timespec="seconds"),
    }
    if "waived" in counts:  # clarifications (issue 12): waived by rule, the version read
        meta["counts"].update(counts["waived"][0])
        meta["clarifications"] = counts["waived"][1]
    return meta


# --- 4. publish -----------------------------------------------------------------------


def _write_error(out_dir: Path, exc: OSError) -> DataError:
    return DataError(
        f"cannot write the audit results to {out_dir}: {exc.strerror or exc}; "
        "free some space or choose another directory with --out."
    )


def results_dir(out_dir: Path) -> Path:
    """A private temporary directory inside ``out_dir`` for the result files (stale ones
    of killed runs removed): checked before any work, renamed from at the end."""
    try:
        return private_dir(out_dir, RESULTS_PREFIX)
    except OSError as exc:
        raise _write_error(out_dir, exc) from exc


def publish(tmp: Path, out_dir: Path, meta: dict[str, Any]) -> None:
    """Rename the result files from ``tmp`` into ``out_dir``, ``audit.json`` last (removed
    first: a reader finding ``audit.json`` finds a complete, consistent set)."""
    try:
        (tmp / AUDIT_JSON).write_text(
            json.dumps(_jsonable(meta), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (out_dir / AUDIT_JSON).unlink(missing_ok=True)
        for name in [*RESULT_FILES, AUDIT_JSON]:
            os.replace(tmp / name, out_dir / name)
    except OSError as exc:
        raise _write_error(out_dir, exc) from exc


# --- the whole ---------------------------------------------------------------------------


def _start(
    plan: AuditPlan, store: Store, step: Progress
) -> tuple[dt.date, Snapshot, dict[str, Any], Executor]:
    """Step 1 of ``plan``: as-of, the snapshot, the mode, the chunk runner."""
    as_of = plan.as_of or today_wib()
    step("reading the store")
    snap = snapshot(store, plan.period, plan.policy, as_of)
    if not plan.year_to_date:
        snap = replace(snap, earlier=None, earlier_days=snap.earlier_days.clear())
    mode = choose_mode(store, snap, plan.execution)
    executor = plan.execution.executor or LocalExecutor(step, mode.get("threads", 1))
    return as_of, snap, mode, executor


def execute(plan: AuditPlan, store: Store, progress: Progress | None = None) -> AuditResult:
    """Run ``plan`` on ``store`` through the pipeline; the published result."""
    step = progress or _noop
    started = time.perf_counter()
    return _finish(plan, store, step, _start(plan, store, step), started)


def _finish(
    plan: AuditPlan, store: Store, step: Progress,
    start: tuple[dt.date, Snapshot, dict[str, Any], Executor], started: float,
) -> AuditResult:
    """Steps 2 to 4 of ``plan`` after ``_start``: the chunks, the period step, publish."""
    period, policy = plan.period, plan.policy
    ytd_mode = ytd_cache.cache_mode(plan.execution.ytd_cache)
    as_of, snap, mode, executor = start
    tmp = results_dir(plan.out_dir)
    try:
        with _work_dir(mode["days_per_chunk"] > 0, plan.execution) as work:
            results, ytd, ran = _run_chunks(
                store, snap, policy, mode["days_per_chunk"], work, executor, step, ytd_mode
            )
            step("period step: duplicate outputs, summary, year to date")
            try:
                counts = period_step(snap, policy, period, results, ytd, tmp)
            except OSError as exc:
                raise _write_error(plan.out_dir, exc) from exc
        meta = audit_meta(store, period, policy, as_of, snap, counts)
        meta["execution"] = {
            "mode": "partitioned" if mode["days_per_chunk"] else "in_memory", **mode, **ran
        }
        if not plan.year_to_date:
            meta["execution"]["year_to_date_skipped"] = True
        meta["run_seconds"] = round(time.perf_counter() - started, 3)
        step("writing results")
        publish(tmp, plan.out_dir, meta)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return AuditResult(period, as_of, plan.out_dir, meta)


@dataclass(frozen=True)
class AuditFrames:
    """An audit's employee-days and violations as frames (``audit_frames``)."""

    employee_days: pl.LazyFrame  # ``employee_days.parquet``'s rows
    violations: pl.LazyFrame  # ``violations.parquet``'s rows (waivers applied)
    versions: dict[str, Any]  # the store's versions read
    #: per row of ``employee_days``: the median characters of its valid reports, as the
    #: engine counted them for ``output.min_chars`` (null without a valid report); None
    #: when the period ran in chunks (the result files do not keep them)
    report_chars: pl.Series | None


def audit_frames(
    plan: AuditPlan, store: Store, progress: Progress | None = None
) -> AuditFrames:
    """``employee_days.parquet`` and ``violations.parquet`` of ``plan`` as frames, for a
    caller that counts facts (evaluate).  In memory: the one chunk's parts (it holds the
    whole period, so every rule, the period-scope ones too, and the waivers ran in it and
    its parts are those files' rows); nothing is written.  In chunks: the pipeline
    publishes into ``plan.out_dir`` (a scratch directory of the caller's, which must
    outlive the frames) and the frames scan its files.  The snapshot is taken once."""
    step = progress or _noop
    started = time.perf_counter()
    start = _start(plan, store, step)
    _, snap, mode, executor = start
    if mode["days_per_chunk"] or not snap.days.height:
        result = _finish(plan, store, step, start, started)
        return AuditFrames(
            pl.scan_parquet(result.out_dir / "employee_days.parquet", glob=False),
            pl.scan_parquet(result.out_dir / "violations.parquet", glob=False),
            dict(result.meta["store"]["versions"]),
            None,
        )
    ytd_mode = ytd_cache.cache_mode(plan.execution.ytd_cache)
    results, _, _ = _run_chunks(
        store, snap, plan.policy, 0, None, executor, step, ytd_mode, report_lengths=True
    )
    (chunk,) = results
    days, violations = chunk.parts["evidence-r0"], chunk.parts["violations-r0"]
    if not isinstance(days, pl.DataFrame) or not isinstance(violations, pl.DataFrame):
        raise RuntimeError("internal: an in-memory chunk wrote its parts to files")
    lengths = days.get_column(REPORT_CHARS)
    return AuditFrames(
        days.drop(REPORT_CHARS).lazy(), violations.lazy(), dict(snap.inputs.versions), lengths
    )
