"""Chunks of days: the unit of work of every audit run mode, and where they read.

The pipeline (``wfhaudit.audit.run``) cuts the audited days into chunks; the
in-memory run is one chunk of the whole period.  This module holds what a chunk
needs and does:

- the **source** of a chunk's inputs: the store itself, pinned
  (``StoreSource``); its layout makes a day readable without a copy;
- ``audit_days``: the engine's employee-day frames and the rules for some days;
- ``audit_chunk``: one chunk — every rule whose scope fits a chunk
  (``employee_day``, ``day``, ``unit_day``; and ``employee_period`` when the
  chunk holds the whole period, as the in-memory run does), the evidence, the
  report rows the period step needs for ``DUPLICATE_OUTPUT`` otherwise, the
  counts; kept in memory or written under the work directory (then only paths
  travel back);
- ``LocalExecutor`` runs chunks here, one after the other or a few at once in threads
  when several fit in memory (``wfhaudit.cluster`` runs them on Dask).
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import math
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal, Protocol, TypeVar

import polars as pl

from wfhaudit.audit.clarifications import apply_clarifications, key_order, waive_violations
from wfhaudit.audit.employee_days import EmployeeDayFrames, agency_groups, build_employee_days
from wfhaudit.audit.inputs import AuditInputs, store_tables, with_tables
from wfhaudit.audit.rules import RULES, Rule, RuleContext
from wfhaudit.policy.model import Policy
from wfhaudit.processes import pid_alive
from wfhaudit.schema import (
    AUDIT_TABLES,
    EMPLOYEE_DAYS_SCHEMA,
    EMPLOYEE_DAYS_SORT,
    TABLES,
    UNIT_FINDINGS_SCHEMA,
    UNIT_FINDINGS_SORT,
    VIOLATIONS_SCHEMA,
    VIOLATIONS_SORT,
)
from wfhaudit.store import Store

#: Rules a chunk runs: every rule whose scope fits inside some days.
CHUNK_RULES: tuple[Rule, ...] = tuple(r for r in RULES if r.scope != "employee_period")
#: Rules of the period step (one employee over the whole period).
PERIOD_RULES: tuple[Rule, ...] = tuple(r for r in RULES if r.scope == "employee_period")
#: The rules the year to date counts (rules.md).
YTD_RULES: tuple[Rule, ...] = tuple(r for r in RULES if r.code in ("ABSENT", "LATE", "EARLY_LEAVE"))
#: Rows of one nip bucket in the period step / of one unit range in the merge.
ROWS_PER_BUCKET = 5_000_000
#: The report columns the period-scope rules read (``DUPLICATE_OUTPUT``: status, valid,
#: date, text; the period step adds ``emp_idx`` and ``ed_key``, and takes the
#: employee-days' nip, date and unit_code from the same rows): what a chunk writes for
#: them.  A rule reading another column fails loudly in the period step.
PERIOD_REPORT_COLUMNS = ("nip", "date", "unit_code", "status", "valid", "text")
#: The column a chunk adds to those rows: true on one report of each employee-day (its
#: first in the chunk, which holds all of that day's).  The period step takes its
#: employee-days (nip, date, unit) from those rows instead of a ``unique`` over all
#: (at 4 million employees 0.1 against 0.5 s for each of 17 NIP buckets).
FIRST_REPORT = "first_of_day"
#: The evidence column a chunk adds with ``Chunk.report_lengths``.
REPORT_CHARS = "report_chars"
#: The parts of a chunk written one per merge range (``Chunk.ranges``): ``<name>-r<k>``.
RANGED_PARTS = ("violations", "evidence")
#: The columns of a chunk's ``people-<bucket>`` parts (its employees, their first row).
PEOPLE_SCHEMA = pl.Schema(
    {"nip": pl.String(), "unit_code": pl.String(), "home_known": pl.Boolean(),
     "office_known": pl.Boolean()}
)
#: Employee-days audited at once inside a chunk (agencies grouped up to this size).
GROUP_EMPLOYEES = 1_000_000
#: Compression of the temporary files: fast to write and read, they live minutes.
WORK_COMPRESSION: Final = "lz4"
#: Columns the day-wide rules read when agencies are audited in groups.
DAY_RULE_DAYS = ("nip", "date", "unit_code", "home_lat", "home_lon")
DAY_RULE_EVENTS = ("ed_key", "status", "located", "lat", "lon", "device_id")
#: The columns of the engine's employee-day frame that ``employee_day_evidence`` reads.
EVIDENCE_READS = (*(c for c in EMPLOYEE_DAYS_SCHEMA if c != "violations"), "ed_key")

Progress = Callable[[str], None]
T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs one function over a list of items, returning the results in order."""

    def map(self, func: Callable[[T], R], items: Sequence[T]) -> list[R]: ...


class LocalExecutor:
    """The chunks in this process, ``threads`` at a time (memory bounded by that many
    chunks), the results in chunk order.  A chunk spends much of its time in Polars'
    fixed cost per query, which leaves cores idle; a second chunk fills them (the
    pipeline chooses ``threads`` from the memory a chunk needs: ``choose_mode``)."""

    def __init__(self, progress: Progress | None = None, threads: int = 1) -> None:
        self.progress = progress
        self.threads = max(1, threads)

    def _done(self, done: int, total: int) -> None:
        if self.progress is not None and total > 1:
            self.progress(f"chunk {done}/{total} done")

    def map(self, func: Callable[[T], R], items: Sequence[T]) -> list[R]:
        results: list[R] = []
        if self.threads == 1 or len(items) <= 1:
            for item in items:
                results.append(func(item))
                self._done(len(results), len(items))
            return results
        pool = ThreadPoolExecutor(self.threads, thread_name_prefix="wfhaudit-chunk")
        try:
            for future in [pool.submit(func, item) for item in items]:
                results.append(future.result())  # the first failure in chunk order raises
                self._done(len(results), len(items))
        finally:  # on a failure or Ctrl-C: no chunk starts any more
            pool.shutdown(wait=True, cancel_futures=True)
        return results


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


# --- private work directories -------------------------------------------------------


def private_dir(parent: Path | None, prefix: str) -> Path:
    """A new directory only this user can read, ``<prefix><host>-<pid>-XXXX`` in ``parent``
    (default: the system's temporary directory).  Directories of that prefix left by a
    process of this host that is gone (a killed audit) are removed first."""
    parent = parent if parent is not None else Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    mine = f"{prefix}{socket.gethostname()}-"
    for old in parent.iterdir():
        pid = old.name.removeprefix(mine).split("-")[0]
        if old.name.startswith(mine) and pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{mine}{os.getpid()}-", dir=parent))


# --- sources: where a chunk reads its inputs -------------------------------------------


def _bare(template: AuditInputs) -> AuditInputs:
    """``template`` without its six tables (small to send to a worker): the side inputs."""
    empty = {kind: table.empty().lazy() for kind, table in AUDIT_TABLES.items()}
    return with_tables(template, template.start, template.end, empty)


@dataclass(frozen=True)
class StoreSource:
    """A chunk's inputs straight from the store, pinned to ``template.versions`` (picklable:
    a path and the side inputs, never a lazy frame).  The store's layout (files sorted by
    day, row groups with statistics, ``docs/store.md``) lets a chunk of one day read
    that day's row groups only: no copy of the store is made."""

    store: Store
    template: AuditInputs

    @classmethod
    def of(cls, store: Store, template: AuditInputs) -> StoreSource:
        """The source of ``template``'s chunks; its employees rows are named by the data
        files of the pinned version (``AuditInputs.employees_key``: file names are unique
        per write, so a table written again at the same path gets another key)."""
        version = template.versions.get("employees")
        key = None
        if version is not None and store.files_by_month("employees", version) is not None:
            files = sorted(store.files("employees", version=version))
            key = hashlib.sha1("\0".join(files).encode()).hexdigest()
        return cls(store, replace(_bare(template), employees_key=key))

    def inputs(self, start: dt.date, end: dt.date) -> AuditInputs:
        tables = store_tables(self.store, start, end, self.template.versions)
        return with_tables(self.template, start, end, tables)


def unit_groups(employees: pl.LazyFrame, limit: int) -> list[list[str]] | None:
    """Agencies in groups of at most ``limit`` employees (a larger agency is a group of its
    own), or None (one group) when all fit in one or an employee has no agency."""
    sizes = employees.group_by("unit_code").len().collect()
    if sizes.get_column("unit_code").null_count() or sizes["len"].sum() <= limit:
        return None
    rows = {str(u): int(n) for u, n in sizes.iter_rows()}
    groups = [[u for u in sorted(rows) if lo <= u <= hi] for lo, hi in unit_ranges(rows, limit)]
    # history: an employee transferred between agencies needs all of their employees rows
    # (and both agencies' days) in one group, so groups holding such agencies are merged
    moved = (
        employees.group_by("nip")
        .agg(pl.col("unit_code").unique())
        .filter(pl.col("unit_code").list.len() > 1)
        .collect()
    )
    if moved.height:
        index = {u: i for i, g in enumerate(groups) for u in g}
        parent = list(range(len(groups)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for units in moved.get_column("unit_code").to_list():
            first = find(index[units[0]])
            for unit in units[1:]:
                parent[find(index[unit])] = first
        merged: dict[int, list[str]] = {}
        for i, group in enumerate(groups):
            merged.setdefault(find(i), []).extend(group)
        groups = [sorted(g) for _, g in sorted(merged.items())]
    return groups if len(groups) > 1 else None


def range_cuts(rows_per_unit: dict[str, int], limit: int) -> tuple[str, ...]:
    """The merge plan: the first unit of every range of ``unit_ranges`` but the first.  The
    ranges it cuts cover every unit code (range ``k`` holds the units from ``cuts[k-1]`` up
    to, not including, ``cuts[k]``; rows without a unit go to range 0, where they sort)."""
    return tuple(first for first, _ in unit_ranges(rows_per_unit, limit)[1:])


def range_index(units: pl.Series, cuts: Sequence[str]) -> pl.Series:
    """The range (of ``range_cuts``) of every unit code in ``units`` (no unit: 0)."""
    found = units.unique().drop_nulls().to_list()
    return units.replace_strict(
        found, [bisect.bisect_right(cuts, u) for u in found], default=0, return_dtype=pl.UInt32
    ).fill_null(0)


def split_ranges(frame: pl.DataFrame, cuts: Sequence[str]) -> list[pl.DataFrame]:
    """``frame`` (with ``unit_code``) cut into the ``len(cuts) + 1`` ranges of ``cuts``, each
    in ``frame``'s order (slices when ``frame`` is sorted by unit, as a chunk's files are)."""
    if not cuts:
        return [frame]
    index = range_index(frame.get_column("unit_code"), cuts)
    if index.is_sorted():
        bounds = index.search_sorted(pl.Series(range(len(cuts) + 2), dtype=pl.UInt32))
        return [frame.slice(lo, hi - lo) for lo, hi in zip(bounds, bounds[1:], strict=False)]
    parts = frame.with_columns(index.alias("_range")).partition_by(
        "_range", as_dict=True, maintain_order=True
    )
    return [
        parts[(k,)].drop("_range") if (k,) in parts else frame.clear()
        for k in range(len(cuts) + 1)
    ]


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


# --- the engine for some days ---------------------------------------------------------


def owned_strings(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its text columns copied into buffers of their own.

    Polars keeps texts as views into shared buffers: a sort's or a gather's rows and a
    group-by's keys point into the buffers of the frame they came from and keep all of
    them alive (a filter compacts them).  A small result kept while larger frames come
    and go (a range's per-nip counts, the period's ``DUPLICATE_OUTPUT`` rows) would hold
    every range's NIP and report-text buffers: at 4 million employees 1.6 GB for the
    duplicates and about 90 MB per merge range for the counts (``docs/scale.md``).  The
    copy is ``concat_str`` with an empty text (a null stays null)."""
    texts = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not texts:
        return frame
    return frame.with_columns(pl.concat_str(pl.col(c), pl.lit("")).alias(c) for c in texts)


def _evaluate(ctx: RuleContext, rules: Sequence[Rule]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The violations and unit findings of ``rules``, sorted as cli.md says."""
    found = [r.func(ctx) for r in rules if r.scope != "unit_day"]
    units = [r.func(ctx) for r in rules if r.scope == "unit_day"]
    vio, unit = pl.collect_all(
        [
            pl.concat(found or [pl.LazyFrame(schema=VIOLATIONS_SCHEMA)], how="vertical")
            .select(list(VIOLATIONS_SCHEMA)).cast(VIOLATIONS_SCHEMA).sort(list(VIOLATIONS_SORT)),
            pl.concat(units or [pl.LazyFrame(schema=UNIT_FINDINGS_SCHEMA)], how="vertical")
            .select(list(UNIT_FINDINGS_SCHEMA)).cast(UNIT_FINDINGS_SCHEMA)
            .sort(list(UNIT_FINDINGS_SORT)),
        ]
    )
    return vio, unit


def audit_days(
    inputs: AuditInputs, policy: Policy, days: pl.DataFrame, rules: Sequence[Rule] = RULES
) -> tuple[EmployeeDayFrames, pl.DataFrame, pl.DataFrame]:
    """The employee-day frames, violations and unit findings of ``days`` (calendar rows).

    Pure: reads only ``inputs``.  ``rules`` (default: all) are evaluated over these
    days only; a chunk passes ``CHUNK_RULES`` (``DUPLICATE_OUTPUT`` needs the whole
    period and runs in the period step).
    """
    frames = build_employee_days(inputs, policy, days)
    ctx = RuleContext(
        frames.employee_days.lazy(), frames.events.lazy(), frames.reports.lazy(), policy
    )
    return (frames, *_evaluate(ctx, rules))


def employee_day_evidence(
    employee_days: pl.DataFrame, violations: pl.DataFrame, carry: Sequence[str] = ()
) -> pl.DataFrame:
    """``employee_days.parquet`` rows: one per audited employee-day with its evidence, sorted
    by unit, nip, date.  The engine's frame is in ``ed_key`` order (unit, then nip, then
    date) when every unit is known: then no sort.  ``carry``: columns of ``employee_days``
    kept after the file's columns (the result files' writers select the file's own)."""
    per_day = violations.group_by("nip", "date").agg(pl.len().cast(pl.Int64).alias("violations"))
    evidence = employee_days.select(*EVIDENCE_READS, *carry).join(
        per_day, on=["nip", "date"], how="left", maintain_order="left"
    )
    if not in_result_order(evidence):
        evidence = evidence.sort(list(EMPLOYEE_DAYS_SORT))
    return evidence.with_columns(pl.col("violations").fill_null(0)).select(
        *[pl.col(c).cast(t) for c, t in EMPLOYEE_DAYS_SCHEMA.items()], *carry
    )


def in_result_order(evidence: pl.DataFrame) -> bool:
    """Whether ``evidence`` is already in ``employee_days.parquet``'s order (unit, nip,
    date; no unit missing).  The engine's ``ed_key`` order is that order except for an
    employee transferred during the period: numbered by their first agency, listed
    under the later one (issue 16: the in-memory run wrote such days out of order)."""
    unit, nip, date = pl.col("unit_code"), pl.col("nip"), pl.col("date")
    same_unit = unit == unit.shift()
    out_of_order = (unit < unit.shift()) | (
        same_unit & ((nip < nip.shift()) | ((nip == nip.shift()) & (date <= date.shift())))
    )
    bad = evidence.select(unit.is_null().any() | out_of_order.fill_null(False).any()).item()
    return not bad


def attendance_totals(violations: pl.DataFrame) -> pl.DataFrame:
    """Per nip: absent days, late minutes, early minutes (from ABSENT/LATE/EARLY_LEAVE)."""
    minutes = pl.col("minutes")
    return violations.group_by("nip").agg(
        (pl.col("rule") == "ABSENT").sum().cast(pl.Int64).alias("absent_days"),
        minutes.filter(pl.col("rule") == "LATE").sum().cast(pl.Int64).alias("late_minutes"),
        minutes.filter(pl.col("rule") == "EARLY_LEAVE").sum().cast(pl.Int64).alias(
            "early_minutes"
        ),
    )


def input_quality(
    inputs: AuditInputs, engine: Literal["auto", "streaming"] = "auto"
) -> dict[str, Any]:
    """Data-quality facts of the inputs' rows (additive over chunks that tile a period):
    rows whose nip is not in employees, and the units with a roster row.  ``engine``:
    ``streaming`` for a whole period (the four queries one after the other, memory
    bounded; at 4 million employees 73 s for the month, against 8 s for every day's
    chunk)."""
    nips = inputs.employees.select("nip").unique()

    def unknown(lf: pl.LazyFrame) -> pl.LazyFrame:
        return lf.join(nips, on="nip", how="anti").select(pl.len())

    units = inputs.roster.join(
        inputs.employees.select("nip", "unit_code").unique("nip"), on="nip", how="inner"
    ).select(pl.col("unit_code").unique().implode())
    queries = [unknown(inputs.attendance), unknown(inputs.roster), unknown(inputs.outputs), units]
    if engine == "streaming":  # one after the other: one nip table in memory at a time
        att, ros, out, rostered = (q.collect(engine="streaming") for q in queries)
    else:
        att, ros, out, rostered = pl.collect_all(queries)
    return {
        "attendance_unknown_nip": int(att.item()),
        "roster_unknown_nip": int(ros.item()),
        "outputs_unknown_nip": int(out.item()),
        "rostered_units": sorted(u for u in rostered.item().to_list() if u is not None),
    }


# --- one chunk ----------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """One chunk of days to audit; everything a worker process needs (picklable)."""

    index: int
    #: the inputs read: ``[start, end]``; the chunks of a period tile it (every day once)
    start: dt.date
    end: dt.date
    days: pl.DataFrame  # the audited calendar rows (``audited_days``) of the chunk
    policy: Policy
    source: StoreSource
    #: where to write the chunk's files (None: keep them in memory)
    work: str | None = None
    #: a year-to-date chunk: only the YTD rules, on unit-days holding attendance; totals
    ytd: bool = False
    #: agencies audited together (None: all at once); day-wide rules then run once over
    #: compact rows of every group
    groups: list[list[str]] | None = None
    buckets: int = 1
    #: the chunk holds every audited day of the period: the period-scope rules fit in it too
    whole: bool = False
    #: the merge plan (``range_cuts``), planned before the chunks: the violations and the
    #: evidence are written one part per range of unit codes, sorted within
    ranges: tuple[str, ...] = ()
    #: also give each employee-day of the evidence the median characters of its valid
    #: reports, as the engine counted them for ``output.min_chars`` (column
    #: ``report_chars``, null without a valid report; for evaluate)
    report_lengths: bool = False


@dataclass
class ChunkResult:
    index: int
    #: name -> frame (in memory) or Parquet file (written)
    parts: dict[str, pl.DataFrame | str] = field(default_factory=dict)
    employee_days: int = 0
    status: dict[str, int] = field(default_factory=dict)
    by_rule: dict[str, int] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)
    #: the merge plan the chunk's ranged parts follow (``Chunk.ranges``)
    ranges: tuple[str, ...] = ()
    seconds: float = 0.0
    pid: int = 0

    def lazy(self, name: str) -> pl.LazyFrame | None:
        part = self.parts.get(name)
        if part is None:
            return None
        return part.lazy() if isinstance(part, pl.DataFrame) else pl.scan_parquet(part, glob=False)


def _only_units(inputs: AuditInputs, units: list[str]) -> AuditInputs:
    employees = inputs.employees.filter(pl.col("unit_code").is_in(units))
    nips = employees.select("nip")
    return replace(
        inputs,
        employees=employees,
        employees_key=None if inputs.employees_key is None
        else f"{inputs.employees_key}|units={','.join(sorted(units))}",
        **{
            kind: getattr(inputs, kind).join(nips, on="nip", how="semi")
            for kind in ("roster", "attendance", "outputs", "leave")
        },
    )


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in frame.group_by(column).len().iter_rows()}


def audit_chunk(chunk: Chunk) -> ChunkResult:
    """Audit one chunk of days (see ``Chunk``)."""
    started = time.perf_counter()
    inputs = chunk.source.inputs(chunk.start, chunk.end)
    result = ChunkResult(chunk.index, ranges=chunk.ranges, pid=os.getpid())
    if chunk.ytd:  # what the YTD rules read: no reports
        inputs = replace(inputs, outputs=TABLES["outputs"].empty().lazy())
        _, vio, _ = audit_days(inputs, chunk.policy, chunk.days, YTD_RULES)
        # clarifications (issue 12): the waiver step, as in a full chunk
        vio = waive_violations(vio, inputs.clarifications.collect())
        # The same rules as the period (rules.md): a month the store holds for other
        # agencies only lies outside this agency's attendance span, so it is missing
        # data (no_attendance_data), never absence.
        parts: dict[str, pl.DataFrame] = {"totals": attendance_totals(vio)}
    else:
        parts = _audit_groups(chunk, inputs, result)
    if chunk.work is not None:
        folder = Path(chunk.work) / f"{'ytd' if chunk.ytd else 'chunk'}-{chunk.index:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in parts.items():
            if frame.is_empty() and name.startswith(tuple(f"{p}-r" for p in RANGED_PARTS)):
                continue  # no rows in this range: no file
            frame.write_parquet(folder / f"{name}.parquet", compression=WORK_COMPRESSION)
            result.parts[name] = str(folder / f"{name}.parquet")
    else:
        result.parts.update(parts)
    result.seconds = time.perf_counter() - started
    return result


def _audit_groups(
    chunk: Chunk, inputs: AuditInputs, result: ChunkResult
) -> dict[str, pl.DataFrame]:
    """Every chunk rule over the chunk, agency group by agency group; the parts written."""
    groups: list[list[str] | None] = [*chunk.groups] if chunk.groups else [None]
    day_rules = [r for r in CHUNK_RULES if r.scope == "day"]
    rules = RULES if chunk.whole else CHUNK_RULES  # a group holds whole employees
    own_rules = rules if len(groups) == 1 else [r for r in rules if r.scope != "day"]
    quality: list[dict[str, Any]] = []
    vio_parts, unit_parts, evidence, people, reports, who, events = [], [], [], [], [], [], []
    # the day read and keyed once for all groups, in the whole audit's numbering: the
    # groups' ed_keys are distinct, and the day-wide rules take their rows as they are
    shared_keys = bool(chunk.groups) and inputs.employees_key is not None
    carry = (REPORT_CHARS,) if chunk.report_lengths else ()
    unknown: dict[str, int] = {}
    group_inputs: Iterable[AuditInputs]
    if shared_keys:
        unknown, group_inputs = agency_groups(inputs, chunk.groups or [])
    else:
        group_inputs = (
            inputs if units is None else _only_units(inputs, units) for units in groups
        )
    for units_inputs in group_inputs:
        frames, vio, found = audit_days(units_inputs, chunk.policy, chunk.days, own_rules)
        del units_inputs
        ed = frames.employee_days
        if chunk.report_lengths:  # per employee-day, an integer join on its key
            # lazy: only the two columns are filtered, not the reports' texts
            medians = (
                frames.reports.lazy()
                .filter(pl.col("valid"))
                .group_by("ed_key")
                .agg(pl.col("length").median().cast(pl.Float64).alias(REPORT_CHARS))
                .collect()
            )
            # joined to the key alone, then added as a column: the wide frame is not copied
            ed = ed.with_columns(
                ed.select("ed_key")
                .join(medians, on="ed_key", how="left", maintain_order="left")
                .get_column(REPORT_CHARS)
            )
        vio_parts.append(vio)
        unit_parts.append(found)
        people.append(
            ed.select("nip", "unit_code", "home_known", "office_known").unique(
                "nip", keep="first", maintain_order=True
            )
        )
        if not chunk.whole:
            reports.append(frames.reports.select(
                *PERIOD_REPORT_COLUMNS, pl.col("ed_key").is_first_distinct().alias(FIRST_REPORT)
            ))
        quality.append(frames.quality)
        if shared_keys:  # compact rows for the day-wide rules
            who.append(ed.select("ed_key", *DAY_RULE_DAYS))
            events.append(frames.events.select(*DAY_RULE_EVENTS, "date"))
        elif len(groups) > 1:  # the same, each group numbered its own way: re-keyed below
            who.append(ed.select(*DAY_RULE_DAYS))
            events.append(
                frames.events.select(*DAY_RULE_EVENTS)
                .join(ed.select("ed_key", "nip", "date"), on="ed_key", how="inner")
                .drop("ed_key")
            )
        # only what the evidence reads is kept (of the frame's 56 columns, about 20): the
        # chunk's largest frame, held until every group is done
        evidence.append(ed.select(*EVIDENCE_READS, *carry))
        del frames, ed
    if shared_keys:
        days, keyed = pl.concat(who), pl.concat(events)
    elif len(groups) > 1:
        days = pl.concat(who).with_row_index("ed_key").with_columns(pl.col("ed_key").cast(pl.Int64))
        keyed = pl.concat(events).join(
            days.select("nip", "date", "ed_key"), on=["nip", "date"], how="inner"
        )
    if len(groups) > 1:
        day_ctx = RuleContext(days.lazy(), keyed.lazy(), pl.LazyFrame(), chunk.policy)
        vio_parts.append(_evaluate(day_ctx, day_rules)[0])
        del day_ctx, days, keyed
    who.clear()
    events.clear()
    vio = pl.concat(vio_parts).sort(list(VIOLATIONS_SORT))
    found = pl.concat(unit_parts).sort(list(UNIT_FINDINGS_SORT))
    # clarifications (issue 12): the waiver step, before anything counts the findings
    waiver = apply_clarifications(vio, found, key_order(inputs.clarifications.collect()))
    vio, found = waiver.violations, waiver.unit_findings
    ev = employee_day_evidence(pl.concat(evidence), vio, carry)
    evidence.clear()
    result.employee_days = ev.height
    result.status = _counts(ev, "status")
    result.by_rule = _counts(vio, "rule")
    # the facts counted while keying the tables (the groups' rostered units together;
    # the rows of unknown nips, which no group holds, counted by ``agency_groups``).  A
    # group keyed on its own sees only its employees' rows: then the pipeline counts
    # them once over the period (``run._run_chunks``)
    if shared_keys:
        rostered = set().union(*(q["rostered_units"] for q in quality))
        result.quality = {**unknown, "rostered_units": sorted(rostered)}
    else:
        result.quality = {} if len(groups) > 1 else {
            k: sorted(v) if isinstance(v, set) else v for k, v in quality[0].items()
        }
    parts = {
        **{f"violations-r{k}": rows for k, rows in enumerate(split_ranges(vio, chunk.ranges))},
        **{f"evidence-r{k}": rows for k, rows in enumerate(split_ranges(ev, chunk.ranges))},
        "unit_findings": found,
        "waived_violations": waiver.waived_violations,  # clarifications (issue 12)
        "waived_unit_findings": waiver.waived_unit_findings,
    }
    # the chunk's employees (their first row) and the period step's rows for the
    # period-scope rules, by nip bucket: the period step holds one bucket at a time
    buckets = {"people": pl.concat(people).unique("nip", keep="first", maintain_order=True)}
    if reports:
        buckets["reports"] = pl.concat(reports)
    del people, reports  # the groups' frames: held by ``buckets`` until partitioned
    while buckets:
        name, frame = buckets.popitem()
        keyed = frame.with_columns(nip_bucket(chunk.buckets))
        del frame
        for (bucket,), rows in keyed.partition_by("bucket", as_dict=True).items():
            parts[f"{name}-{bucket}"] = rows.drop("bucket")
        del keyed
    return parts


def run_audit_partitioned(store: Store, period: Any, policy: Policy, *,
                          days_per_partition: int = 1, **kwargs: Any) -> Any:
    """``run_audit`` with ``partition_days=days_per_partition`` (the v1 name)."""
    from wfhaudit.audit.run import run_audit

    return run_audit(store, period, policy, partition_days=days_per_partition, **kwargs)
