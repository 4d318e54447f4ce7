"""The year-to-date cache: per month and employee the facts the year-to-date figure needs.

The year to date (``rules.md``) counts ``ABSENT``, ``LATE`` and ``EARLY_LEAVE`` (waivers
and the missing-data rule applied) from 1 January to the last audited day.  Rather than
re-audit the year's earlier months at every audit, their per-employee totals are kept in
a derived Delta table of the store, ``derived/ytd_facts/``:

- partitioned by ``month`` (``YYYY-MM``) and ``fingerprint``; columns ``nip``,
  ``absent_days``, ``late_minutes``, ``early_minutes`` (the month's unwaived totals of
  every employee with one of those findings) and one marker row per month (``nip``
  empty, zeros) so that a month without findings is cached too;
- a month's **fingerprint** digests exactly what its facts depend on (``fingerprint``):
  the month's attendance and roster data files at the pinned versions (a Delta file is
  never rewritten: new rows, new file names; a December ingest leaves October's files
  alone), the content of the employees rows in force in the month (homes left out: the
  three rules never read them), of the leave and clarification rows overlapping it, of
  the offices, the agencies' attendance and output spans clipped to the month, the
  audited days (policy calendar, as-of date), the whole policy, this module's
  ``FACTS_VERSION``, the tool's and Polars' versions.  A change in any of them is a new
  fingerprint: the month is recomputed and replaces the old entry;
- only whole months before the period are cached; the period's own month before its
  first day (a week period audited mid-month) is computed every time;
- a month is read from the cache only under its current fingerprint, so the figure is
  the one computed from scratch (``tests/test_ytd_cache.py``); ``WFHAUDIT_YTD_CACHE``
  (``use``, ``off``: neither read nor write, ``rebuild``: recompute every month and
  replace the entries) or ``Execution.ytd_cache`` chooses;
- written in one Delta commit per audit under the store's writer lock ``ytd_facts``,
  retried on a commit conflict; a store that cannot be written (read-only) is audited
  all the same and ``audit.json`` says the months were not cached.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import polars as pl
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError
from deltalake.transaction import CommitProperties

from wfhaudit import __version__
from wfhaudit.audit.inputs import AuditInputs
from wfhaudit.audit.spans import (
    ATTENDANCE_SPAN,
    FORCE_FROM,
    FORCE_TO,
    HISTORY_FROM,
    OUTPUT_SPAN,
    in_force,
)
from wfhaudit.errors import UsageError, as_os_error
from wfhaudit.policy.model import Policy
from wfhaudit.policy.toml_out import policy_dict
from wfhaudit.store import Store

#: Bump when the facts or what they mean change: every cached month is then recomputed.
FACTS_VERSION = 1
#: Where the derived table lives in the store, and its writer lock's name.
DERIVED_DIR = "derived"
TABLE = "ytd_facts"
#: ``use`` (read and write), ``off`` (neither), ``rebuild`` (recompute, replace).
ENV = "WFHAUDIT_YTD_CACHE"
MODES: tuple[str, ...] = ("use", "off", "rebuild")
#: The per-employee facts of a month (the year-to-date totals of ``partitioned``).
FACTS_SCHEMA = pl.Schema(
    {"nip": pl.String(), "absent_days": pl.Int64(), "late_minutes": pl.Int64(),
     "early_minutes": pl.Int64()}
)
#: The derived table's partition columns.
PARTITIONS = ["month", "fingerprint"]
#: How many times a write is retried after a commit conflict.
MAX_ATTEMPTS = 8


def table_path(store: Store) -> Path:
    return store.path / DERIVED_DIR / TABLE


def cache_mode(value: str | None = None) -> str:
    """The cache mode: ``value``, else ``$WFHAUDIT_YTD_CACHE``, else ``use``."""
    text = (value if value is not None else os.environ.get(ENV) or "use").strip().lower()
    if text not in MODES:
        raise UsageError(
            f"bad {ENV} {text!r}: write use (the default), off (compute the year to date "
            "from scratch, cache nothing) or rebuild (recompute and replace the cache)."
        )
    return text


def month_label(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of ``YYYY-MM``."""
    first = dt.date.fromisoformat(f"{month}-01")
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, following - dt.timedelta(days=1)


# --- fingerprints -------------------------------------------------------------------------


def _digest_rows(frame: pl.DataFrame) -> str:
    """An order-independent digest of ``frame``'s rows: their count and the wrapping sums of
    two independent 64-bit row hashes (Polars' row hash is stable within a Polars version,
    which is part of the fingerprint)."""
    columns = ",".join(f"{name}={dtype}" for name, dtype in frame.schema.items())
    if frame.is_empty():
        return f"0:{columns}"
    sums = [int(frame.hash_rows(seed=seed).to_numpy().sum(dtype=np.uint64)) for seed in (11, 97)]
    return f"{frame.height}:{columns}:{sums[0]:016x}{sums[1]:016x}"


def within(frame: pl.DataFrame, lo: pl.Expr, hi: pl.Expr, first: dt.date,
           last: dt.date) -> pl.DataFrame:
    """The rows of ``frame`` whose days ``[lo, hi]`` (a null bound: unbounded) meet
    ``[first, last]``, with ``lo``/``hi`` clipped to it as ``first``/``last`` columns: what a
    row means for those days, whatever it says of others."""
    return (
        frame.with_columns(
            pl.max_horizontal(lo, pl.lit(first)).alias("_first"),
            pl.min_horizontal(hi, pl.lit(last)).alias("_last"),
        )
        .filter(pl.col("_first") <= pl.col("_last"))
    )


def active_days(people: pl.DataFrame, first: dt.date, last: dt.date) -> pl.DataFrame:
    """The employees rows (``spans.in_force``) that make employee-days in ``[first, last]``,
    the days they do as ``_first`` .. ``_last`` (one interval: a day counts when the row is
    in force (``spans.on_day``) and its employee active (``spans.active_on``), each an
    interval), without the columns those days are drawn from."""
    date_cols = ("active_from", "active_to", "valid_from", FORCE_FROM, FORCE_TO, HISTORY_FROM)
    history = pl.when(pl.col("active_from").is_null()).then(pl.col(HISTORY_FROM))
    lo = pl.max_horizontal(pl.col(FORCE_FROM), pl.col("active_from"), history)
    hi = pl.min_horizontal(pl.col(FORCE_TO), pl.col("active_to"))
    return within(people, lo, hi, first, last).drop(date_cols, strict=False)


@dataclass(frozen=True)
class _Sources:
    """What the fingerprints of every month are drawn from (collected once per audit)."""

    people: pl.DataFrame  # in_force(employees) without homes
    leave: pl.DataFrame
    clarifications: pl.DataFrame
    offices: str  # digest
    files: dict[str, dict[str | None, list[str]] | None]  # attendance, roster
    spans: dict[str, pl.DataFrame]
    common: dict[str, Any]


def _sources(
    store: Store, earlier: AuditInputs, policy: Policy, people: pl.DataFrame | None
) -> _Sources:
    """``people``: ``in_force(earlier.employees)`` when already collected."""
    versions = earlier.versions
    everyone = in_force(earlier.employees) if people is None else people.lazy()
    people, leave, clarifications, offices = pl.collect_all(
        [everyone.drop("home_lat", "home_lon", strict=False), earlier.leave,
         earlier.clarifications, earlier.offices]
    )
    files: dict[str, dict[str | None, list[str]] | None] = {}
    for kind in ("attendance", "roster"):
        version = versions.get(kind)
        files[kind] = {} if version is None else store.files_by_month(kind, version)
    spans = earlier.spans or {}
    common = {
        "facts_version": FACTS_VERSION,
        "tool_version": __version__,
        "polars_version": pl.__version__,
        "policy": json.dumps(policy_dict(policy), sort_keys=True, default=str),
        "policy_fields": repr(replace(policy, sources=())),
    }
    return _Sources(people, leave, clarifications, _digest_rows(offices), files, spans, common)


def fingerprint(src: _Sources, month: str, days: pl.DataFrame, as_of: dt.date | None) -> str | None:
    """The fingerprint of ``month``'s facts (``days``: its audited calendar rows), or None
    when one of its inputs cannot be fingerprinted (a table with deletion vectors)."""
    first, last = month_bounds(month)
    parts: dict[str, Any] = dict(src.common, month=month)
    for kind, by_month in src.files.items():
        if by_month is None:
            return None
        parts[kind] = by_month.get(month, by_month.get(None, []))
    parts["employees"] = _digest_rows(active_days(src.people, first, last))
    for name, frame in (("leave", src.leave), ("clarifications", src.clarifications)):
        parts[name] = _digest_rows(
            within(frame, pl.col("start"), pl.col("end"), first, last).drop("start", "end")
        )
    parts["offices"] = src.offices
    for name in (ATTENDANCE_SPAN, OUTPUT_SPAN):
        span = src.spans.get(name)
        # a unit whose span misses the month is left out: as for a unit without a span, no
        # day of the month is inside it
        parts[f"span_{name}"] = None if span is None else _digest_rows(
            within(span, pl.col("first"), pl.col("last"), first, last).drop("first", "last")
        )
    parts["days"] = [str(row) for row in days.rows()]
    parts["as_of"] = None if as_of is None else min(as_of, last + dt.timedelta(days=1)).isoformat()
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


# --- the plan ------------------------------------------------------------------------------


@dataclass
class YtdPlan:
    """Which earlier months come from the cache and which are computed (and cached)."""

    mode: str
    start: dt.date
    end: dt.date
    #: months read from the cache, and their totals per nip (summed over those months)
    hits: list[str] = field(default_factory=list)
    cached: pl.DataFrame | None = None
    #: whole months computed now and cached after: month -> fingerprint
    to_write: dict[str, str] = field(default_factory=dict)
    #: months computed now and not cached (the period's own month, or not fingerprinted)
    uncached: list[str] = field(default_factory=list)
    #: of ``to_write``: months the cache held under another fingerprint (inputs changed)
    stale: list[str] = field(default_factory=list)
    #: months the store holds no attendance for: nothing to compute
    empty: list[str] = field(default_factory=list)

    @property
    def computed(self) -> list[str]:
        return sorted([*self.to_write, *self.uncached])


def _stored(store: Store) -> pl.DataFrame:
    """``month``, ``fingerprint``, ``path`` (absolute) of the cache's current files."""
    schema = {"month": pl.String(), "fingerprint": pl.String(), "path": pl.String(),
              "rows": pl.Int64()}
    path = table_path(store)
    if not (path / "_delta_log").is_dir():
        return pl.DataFrame(schema=schema)
    try:
        actions = pl.DataFrame(DeltaTable(str(path)).get_add_actions(flatten=True))
    except (DeltaError, OSError):  # an unreadable cache is an empty one
        return pl.DataFrame(schema=schema)
    if not actions.height:
        return pl.DataFrame(schema=schema)
    return actions.select(
        pl.col("partition.month").alias("month"),
        pl.col("partition.fingerprint").alias("fingerprint"),
        pl.col("path").map_elements(lambda p: str(path / unquote(p)), return_dtype=pl.String),
        pl.col("num_records").cast(pl.Int64).alias("rows"),
    )


def read_facts(paths: Sequence[str]) -> pl.DataFrame:
    """The facts of the cache files ``paths`` summed per nip (markers left out)."""
    if not paths:
        return pl.DataFrame(schema=FACTS_SCHEMA)
    return (
        pl.scan_parquet(list(paths), hive_partitioning=False, glob=False)
        .select(list(FACTS_SCHEMA))
        .filter(pl.col("nip").is_not_null())
        .group_by("nip")
        .agg(pl.col("absent_days", "late_minutes", "early_minutes").sum())
        .select([pl.col(c).cast(t) for c, t in FACTS_SCHEMA.items()])
        .collect(engine="streaming")
    )


def plan(
    store: Store, earlier: AuditInputs, days: pl.DataFrame, policy: Policy,
    as_of: dt.date | None, mode: str, people: pl.DataFrame | None = None,
) -> YtdPlan:
    """Decide, month by month of ``days`` (the year to date's audited earlier days), what is
    read from the cache and what is computed (``people``: ``in_force`` of the pinned
    employees, when the caller has it)."""
    out = YtdPlan(mode, earlier.start, earlier.end)
    by_month = {
        month: rows for (month,), rows in days.group_by(
            pl.col("date").dt.strftime("%Y-%m"), maintain_order=True
        )
    }
    version = earlier.versions.get("attendance")
    files = {} if version is None else store.files_by_month("attendance", version)
    whole = [m for m in by_month if month_bounds(m)[1] <= earlier.end]
    for month in by_month:
        if files is not None and not files.get(month, files.get(None, [])):
            out.empty.append(month)
    if mode == "off":
        out.uncached = [m for m in by_month if m not in out.empty]
        return out
    src = _sources(store, earlier, policy, people)
    stored = _stored(store) if mode == "use" else _stored(store).clear()
    held = {m: set(stored.filter(pl.col("month") == m)["fingerprint"].to_list())
            for m in whole}
    hit_paths: list[str] = []
    for month in by_month:
        if month in out.empty:
            continue
        key = fingerprint(src, month, by_month[month], as_of) if month in whole else None
        if key is None:
            out.uncached.append(month)
        elif key in held[month]:
            out.hits.append(month)
            hit_paths += stored.filter(
                (pl.col("month") == month) & (pl.col("fingerprint") == key)
            )["path"].to_list()
        else:
            out.to_write[month] = key
            if held[month]:
                out.stale.append(month)
    if out.hits:
        try:
            out.cached = read_facts(hit_paths)
        except (OSError, pl.exceptions.PolarsError):  # a file vacuumed meanwhile: recompute
            for month in out.hits:
                key = fingerprint(src, month, by_month[month], as_of)
                assert key is not None
                out.to_write[month] = key
            out.hits = []
    return out


# --- writing -------------------------------------------------------------------------------


def _reason(exc: BaseException) -> str:
    error = as_os_error(exc)
    text = (error.strerror if error is not None and error.strerror else None) or str(exc)
    return f"the store could not be written ({text})"


def record(store: Store, plan: YtdPlan, facts: dict[str, pl.DataFrame]) -> str | None:
    """Write ``facts`` (month -> per-nip totals) of the months of ``plan.to_write`` in one
    commit, replacing those months' entries; None, or why nothing was written."""
    months = [m for m in plan.to_write if m in facts]
    if not months:
        return None
    parts = []
    for month in months:
        rows = facts[month].select([pl.col(c).cast(t) for c, t in FACTS_SCHEMA.items()])
        marker = pl.DataFrame({"nip": [None], "absent_days": [0], "late_minutes": [0],
                               "early_minutes": [0]}, schema=FACTS_SCHEMA)
        parts.append(pl.concat([marker, rows.sort("nip")]).with_columns(
            pl.lit(month).alias("month"), pl.lit(plan.to_write[month]).alias("fingerprint")
        ))
    data = pl.concat(parts).to_arrow()
    path = table_path(store)
    listed = ", ".join(f"'{m}'" for m in months)
    props = CommitProperties(custom_metadata={"userMetadata": json.dumps(
        {"wfhaudit": {"ytd_months": months}})})
    try:
        with store.locked(TABLE):
            for attempt in range(MAX_ATTEMPTS):
                try:
                    path.mkdir(parents=True, exist_ok=True)
                    if (path / "_delta_log").is_dir():  # replace those months' entries
                        write_deltalake(str(path), data, partition_by=PARTITIONS,
                                        mode="overwrite", predicate=f"month IN ({listed})",
                                        commit_properties=props)
                    else:
                        write_deltalake(str(path), data, partition_by=PARTITIONS,
                                        mode="append", commit_properties=props)
                    return None
                except CommitFailedError:
                    time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
                except DeltaError as exc:
                    if "already exists" not in str(exc):  # lost the create race: retry
                        raise
        return f"other writers kept changing it ({MAX_ATTEMPTS} attempts)"
    except (OSError, DeltaError, pl.exceptions.PolarsError) as exc:
        return _reason(exc)


def meta(plan: YtdPlan, days: Iterable[dt.date], not_written: str | None) -> dict[str, Any]:
    """``audit.json``'s ``execution.year_to_date``: where each earlier month came from."""
    computed_days = sorted(days)
    return {
        "start": plan.start.isoformat(),
        "end": plan.end.isoformat(),
        "cache": plan.mode,
        "cache_table": f"{DERIVED_DIR}/{TABLE}",
        "months_from_cache": plan.hits,
        "months_computed": plan.computed,
        "months_recomputed_inputs_changed": plan.stale,
        "months_without_attendance": plan.empty,
        "months_cached_now": [] if not_written else sorted(plan.to_write),
        "not_cached": not_written,
        "days_computed": len(computed_days),
    }


# --- store info ------------------------------------------------------------------------------


def cache_info(store: Store) -> dict[str, Any] | None:
    """The derived table for ``store info``: version, months, rows (markers left out), files;
    None when the store has none."""
    path = table_path(store)
    if not (path / "_delta_log").is_dir():
        return None
    try:
        version = DeltaTable(str(path)).version()
    except (DeltaError, OSError):
        return None
    stored = _stored(store)
    months = sorted(set(stored["month"].to_list()))
    return {
        "table": f"{DERIVED_DIR}/{TABLE}",
        "version": version,
        "months": months,
        # one marker row per cached month
        "rows": int(stored["rows"].sum()) - stored.select("month", "fingerprint").n_unique(),
        "files": stored.height,
    }


def vacuum(store: Store, retention_hours: int = 168) -> list[str]:
    """Delete the cache's files no version younger than ``retention_hours`` needs (those of
    replaced months' entries); their paths.  The cache is derived: removing
    ``derived/`` altogether is safe too (the next audit computes and caches again)."""
    path = table_path(store)
    if not (path / "_delta_log").is_dir():
        return []
    with store.locked(TABLE):
        return list(DeltaTable(str(path)).vacuum(
            retention_hours=retention_hours, dry_run=False,
            enforce_retention_duration=retention_hours >= 168, full=True,
        ))
