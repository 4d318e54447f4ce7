"""``ingest_files``: read, validate and store files of one kind (issue 2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from wfhaudit.errors import DataError, UsageError
from wfhaudit.ingest.profiles import load_profile
from wfhaudit.ingest.readers import ROW, file_format, read_file
from wfhaudit.ingest.validate import (
    HDR,
    KEY_HASH,
    SHEET,
    MissingColumns,
    SheetResult,
    duplicate_candidates,
    find_duplicates,
    nip_headers,
    parse_month,
    validate_sheet,
    with_source,
)
from wfhaudit.schema import ERROR_CODES, KINDS, REJECTS, TABLES
from wfhaudit.store import Store

_FILE = "__file"
#: how many rejected rows the summary carries for display
SAMPLE_REJECTS = 20


@dataclass
class FileSummary:
    """Counts of one input file."""

    file: str
    read: int = 0
    valid: int = 0
    #: valid rows replaced by a later file of the same command (same key)
    superseded: int = 0
    rejected: int = 0
    rejected_by_code: dict[str, int] = field(default_factory=dict)
    zero_coordinates: int = 0
    grid: bool = False
    skipped_sheets: list[str] = field(default_factory=list)


@dataclass
class IngestSummary:
    """What one ``ingest_files`` call did."""

    kind: str
    profile: str
    files: list[FileSummary]
    read: int = 0
    #: rows handed to the store (inserted + replaced + unchanged)
    stored: int = 0
    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0
    superseded: int = 0
    rejected: int = 0
    rejected_by_code: dict[str, int] = field(default_factory=dict)
    zero_coordinates: int = 0
    rejects_path: Path | None = None
    store_version: int | None = None
    dry_run: bool = False
    strict: bool = False
    #: the first rejected rows (source_file, source_row, error_code, message)
    rejects_sample: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["rejects_path"] = str(self.rejects_path) if self.rejects_path else None
        return out


def _now_wib() -> dt.datetime:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)).replace(tzinfo=None)


def _by_code(rejects: pl.DataFrame) -> dict[str, int]:
    if rejects.height == 0:
        return {}
    counts = dict(rejects.group_by("error_code").len().iter_rows())
    return {code: int(counts[code]) for code in ERROR_CODES if code in counts}


def _validate_file(
    path: Path,
    file_index: int,
    kind: str,
    profile_name: str,
    profiles_file: Path | None,
    fmt: str | None,
    month: str | None,
) -> tuple[FileSummary, pl.DataFrame, pl.DataFrame]:
    """(summary, valid rows with _FILE, rejects in schema.REJECTS columns minus ingested_at)."""
    table = TABLES[kind]
    profile = load_profile(profile_name, kind, profiles_file)
    sheets = read_file(path, file_format(path, fmt), profile.delimiter, nip_headers(table, profile))
    summary = FileSummary(file=str(path))
    results: list[SheetResult] = []
    refused: list[str] = []
    for sheet in sheets:
        where = str(path) if sheet.sheet is None else f"{path} (sheet '{sheet.sheet}')"
        try:
            results.append(validate_sheet(table, profile, sheet, where=where, month=month))
        except MissingColumns as exc:
            refused.append(str(exc))
            summary.skipped_sheets.append(f"{sheet.sheet}: {exc}")
    if not results:
        raise DataError(f"missing-column: {refused[0]} Nothing was stored.")
    del sheets  # the source frames live on in results, slimmed below
    labels = [f"{r.sheet}!" if r.sheet is not None else "" for r in results]
    valid = pl.concat(
        [r.valid.with_columns(pl.lit(i, pl.Int16).alias(SHEET)) for i, r in enumerate(results)],
        how="vertical",
    )
    dup_mask = duplicate_candidates(table, valid)
    # keep only the source rows a reject can point at (memory: a big file is mostly valid)
    for i, result in enumerate(results):
        needed = pl.concat(
            [
                result.rejects.get_column(ROW),
                valid.filter(dup_mask & (pl.col(SHEET) == i)).get_column(ROW),
            ]
        )
        scan = result.frame.lazy() if result.frame is not None else result.source.scan()
        if needed.len() == 0:  # nothing to point at: do not read the file again
            result.frame = scan.head(0).collect()
            continue
        needed = needed.unique().implode()
        if result.frame is None and result.cells is not None:
            # validation read the rejected rows already: read only the other rows (copies)
            have = result.cells.filter(pl.col(ROW).is_in(needed))
            missing = needed.list.set_difference(have.get_column(ROW).implode())
            if missing.list.len().item() == 0:
                result.frame = have
                continue
            more = result.source.collect(scan.filter(pl.col(ROW).is_in(missing)))
            result.frame = pl.concat([have, more.select(have.columns)])
            continue
        result.frame = result.source.collect(scan.filter(pl.col(ROW).is_in(needed)))
    valid, dup_rejects = find_duplicates(TABLES[kind], valid, labels, dup_mask)
    parts: list[pl.DataFrame] = []
    for i, result in enumerate(results):
        mine = pl.concat(
            [
                result.rejects,
                dup_rejects.filter(pl.col(SHEET) == i).select(ROW, HDR, "error_code", "message"),
            ],
            how="vertical_relaxed",
        )
        parts.append(with_source(mine, result))
        summary.read += result.read
        summary.zero_coordinates += result.zero_coordinates
        summary.grid = summary.grid or result.grid
    rejects = pl.concat(parts, how="vertical").select(
        pl.lit(kind).alias("kind"), pl.lit(str(path)).alias("source_file"), pl.all()
    )
    summary.valid = valid.height
    summary.rejected = rejects.height
    summary.rejected_by_code = _by_code(rejects)
    valid = valid.drop(SHEET, ROW, HDR, KEY_HASH).with_columns(
        pl.lit(file_index, pl.Int32).alias(_FILE)
    )
    return summary, valid, rejects


def ingest_files(
    store: Store,
    kind: str,
    files: list[Path],
    *,
    profile: str = "canonical",
    profiles_file: Path | None = None,
    fmt: str | None = None,
    month: str | None = None,
    strict: bool = False,
    dry_run: bool = False,
    on_step: Callable[[str], None] | None = None,
) -> IngestSummary:
    """Validate ``files`` of ``kind`` and store them in one write per kind.

    Rows of a later file replace rows of an earlier file with the same key (a
    revised roster wins).  Rejected rows go to the store's rejects table and a
    CSV at ``<store>/rejected-rows/<UTC time>-<kind>-v<version>-<id>.csv``
    (``Store.write_ingest``).  ``strict``: any
    rejected row raises DataError and nothing is stored (the rejects CSV is
    still written so the rows can be fixed).  ``dry_run``: nothing is written.
    """
    if kind not in TABLES:
        raise UsageError(f"unknown kind '{kind}'; valid kinds: {', '.join(KINDS)}.")
    if not files:
        raise UsageError(f"no file given; usage: wfhaudit ingest {kind} FILE...")
    load_profile(profile, kind, profiles_file)  # unknown profile: UsageError before any reading
    if month is not None:
        parse_month(month)
    table = TABLES[kind]
    step = on_step or (lambda _message: None)
    summaries: list[FileSummary] = []
    valids: list[pl.DataFrame] = []
    rejects: list[pl.DataFrame] = []
    for i, path in enumerate(Path(f) for f in files):
        step(f"reading and validating {path.name}")
        summary, valid, rej = _validate_file(path, i, kind, profile, profiles_file, fmt, month)
        summaries.append(summary)
        valids.append(valid)
        rejects.append(rej)
    rows = pl.concat(valids, how="vertical")
    if len(files) > 1 and rows.height:
        last = rows.select(pl.struct(list(table.key)).is_last_distinct()).to_series()
        if not last.all():
            dropped = dict(rows.filter(~last).group_by(_FILE).len().iter_rows())
            for idx, n in dropped.items():
                summaries[idx].superseded = int(n)
            rows = rows.filter(last)
    rows = rows.select(list(table.columns))
    all_rejects = pl.concat(rejects, how="vertical")
    result = IngestSummary(
        kind=kind,
        profile=profile,
        files=summaries,
        read=sum(s.read for s in summaries),
        superseded=sum(s.superseded for s in summaries),
        rejected=all_rejects.height,
        rejected_by_code=_by_code(all_rejects),
        zero_coordinates=sum(s.zero_coordinates for s in summaries),
        dry_run=dry_run,
        strict=strict,
        rejects_sample=all_rejects.head(SAMPLE_REJECTS)
        .select("source_file", "source_row", "error_code", "message")
        .to_dicts(),
    )
    result.store_version = store.version(kind)
    if dry_run:
        result.stored = rows.height
        return result
    stamped = all_rejects.with_columns(
        pl.lit(_now_wib()).cast(REJECTS.columns["ingested_at"]).alias("ingested_at")
    ).select(list(REJECTS.columns))
    if strict and all_rejects.height:
        result.rejects_path = store.write_rejects_csv(kind, stamped, result.store_version)
        codes = ", ".join(f"{n} {c}" for c, n in result.rejected_by_code.items())
        raise DataError(
            f"--strict: {all_rejects.height} rejected row(s) ({codes}); nothing was stored. "
            f"The rows are listed in {result.rejects_path}; fix them and ingest again."
        )
    step(f"writing {rows.height:,} {kind} rows and {all_rejects.height:,} rejected rows")
    # one call: the table, then the rejects CSV and table, journalled against a kill
    done = store.write_ingest(kind, rows, stamped)
    written, result.rejects_path = done.written, done.rejects_csv
    result.stored = rows.height
    result.inserted = written.inserted
    result.replaced = written.replaced
    result.unchanged = written.unchanged
    result.store_version = written.version
    return result
