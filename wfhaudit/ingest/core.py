"""``ingest_files``: read, validate and store files of one kind (issue 2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from wfhaudit.errors import DataError, UsageError
from wfhaudit.ingest.history import fill_valid_from, leavers, snapshot_date
from wfhaudit.ingest.profiles import Profile, load_profile
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
from wfhaudit.schema import (
    ACTION_BLANKED,
    ACTION_REJECTED,
    ERROR_CODES,
    KINDS,
    REJECTS,
    TABLES,
    WIB,
)
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
    #: bad optional cells stored empty (their rows are valid rows), by error code
    blanked: int = 0
    blanked_by_code: dict[str, int] = field(default_factory=dict)
    zero_coordinates: int = 0
    grid: bool = False
    skipped_sheets: list[str] = field(default_factory=list)
    #: a returned responses sheet (clarifications, issue 12): answered / declined /
    #: unanswered rows; None for other files
    responses: dict[str, int] | None = None


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
    #: bad optional cells stored empty (rejects file rows with action "blanked"), by code
    blanked: int = 0
    blanked_by_code: dict[str, int] = field(default_factory=dict)
    zero_coordinates: int = 0
    #: stored rows removed by --replace-period (dates of the range not ingested again)
    removed: int = 0
    replace_period: tuple[dt.date, dt.date] | None = None
    #: employees: the valid_from given with --valid-from (rows lacking one got it)
    valid_from: dt.date | None = None
    #: employees --full-snapshot: in force in the store, absent from the snapshot, so
    #: ended the day before it ({nip, name, unit_code, active_to})
    ended: list[dict[str, str]] = field(default_factory=list)
    rejects_path: Path | None = None
    store_version: int | None = None
    dry_run: bool = False
    strict: bool = False
    #: the first rejected rows (source_file, source_row, error_code, message)
    rejects_sample: list[dict[str, str]] = field(default_factory=list)
    #: returned responses sheets, summed over the files (clarifications, issue 12)
    responses: dict[str, int] | None = None
    #: the first blanked cells (source_file, source_row, error_code, message)
    blanked_sample: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["rejects_path"] = str(self.rejects_path) if self.rejects_path else None
        return out


def _now_wib() -> dt.datetime:
    return dt.datetime.now(WIB).replace(tzinfo=None)


def _with_options(profile: Profile, delimiter: str | None, decimal_comma: bool) -> Profile:
    """``profile`` with ``--delimiter`` / ``--decimal-comma`` of the command line applied."""
    if delimiter is not None:
        profile = replace(profile, delimiter=parse_delimiter(delimiter))
    if decimal_comma:
        profile = replace(profile, decimal=",")
    return profile


#: names accepted by ``--delimiter`` for characters hard to type on a command line
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ",", "pipe": "|"}


def parse_delimiter(text: str) -> str:
    """``--delimiter``: one character, or ``tab`` / ``\\t`` (and the names of ; , |)."""
    value = _DELIMITER_NAMES.get(text.strip().lower(), text)
    if len(value) != 1 or value in "\r\n\"":
        raise UsageError(
            f"bad --delimiter {text!r}: give one character, e.g. --delimiter ';' "
            "(or --delimiter tab)."
        )
    return value


def parse_replace_period(text: str) -> tuple[dt.date, dt.date]:
    """``--replace-period FROM..TO`` (or a month / ISO week) as (first, last) dates."""
    from wfhaudit.audit.period import parse_period

    try:
        period = parse_period(text)
    except UsageError as exc:
        raise UsageError(f"--replace-period: {exc.message}") from None
    return period.start, period.end


def _rejected(rejects: pl.DataFrame) -> pl.DataFrame:
    return rejects.filter(pl.col("action") == ACTION_REJECTED)


def _blanked(rejects: pl.DataFrame) -> pl.DataFrame:
    return rejects.filter(pl.col("action") == ACTION_BLANKED)


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
    valid_from: dt.date | None = None,
    delimiter: str | None = None,
    decimal_comma: bool = False,
) -> tuple[FileSummary, pl.DataFrame, pl.DataFrame]:
    """(summary, valid rows with _FILE, rejects in schema.REJECTS columns minus ingested_at)."""
    table = TABLES[kind]
    profile = load_profile(profile_name, kind, profiles_file)
    profile = _with_options(profile, delimiter, decimal_comma)
    sheets = read_file(path, file_format(path, fmt), profile.delimiter, nip_headers(table, profile))
    summary = FileSummary(file=str(path))
    if kind == "clarifications":  # issue 12: an agency's returned "Tanggapan" sheet
        from wfhaudit.audit.clarifications import prepare_response_sheets

        sheets, responses = prepare_response_sheets(sheets)
        summary.responses = asdict(responses) if responses is not None else None
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
    if valid_from is not None:
        valid = fill_valid_from(valid, valid_from)
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
        dups = dup_rejects.filter(pl.col(SHEET) == i).select(
            ROW, HDR, "error_code", "message", "action"
        )
        own = result.rejects
        if dups.height and own.height:
            # a blanked row rejected as a copy or conflict after all: only the reject counts
            gone = (pl.col("action") == ACTION_BLANKED) & pl.struct(ROW, HDR).is_in(
                dups.select(pl.struct(ROW, HDR)).to_series().implode()
            )
            own = own.filter(~gone)
        mine = pl.concat([own, dups], how="vertical_relaxed")
        parts.append(with_source(mine, result))
        summary.read += result.read
        summary.zero_coordinates += result.zero_coordinates
        summary.grid = summary.grid or result.grid
    rejects = pl.concat(parts, how="vertical").select(
        pl.lit(kind).alias("kind"), pl.lit(str(path)).alias("source_file"), pl.all()
    )
    summary.valid = valid.height
    summary.rejected = _rejected(rejects).height
    summary.rejected_by_code = _by_code(_rejected(rejects))
    summary.blanked = _blanked(rejects).height
    summary.blanked_by_code = _by_code(_blanked(rejects))
    valid = valid.drop(SHEET, ROW, HDR, KEY_HASH).with_columns(
        pl.lit(file_index, pl.Int32).alias(_FILE)
    )
    return summary, valid, rejects


def _sum_responses(summaries: list[FileSummary]) -> dict[str, int] | None:
    """The responses counts of every file that was a responses sheet, summed (or None)."""
    found = [s.responses for s in summaries if s.responses is not None]
    if not found:
        return None
    return {k: sum(r[k] for r in found) for k in found[0]}


def validate_files(
    kind: str,
    files: list[Path],
    *,
    profile: str = "canonical",
    profiles_file: Path | None = None,
    fmt: str | None = None,
    month: str | None = None,
    on_step: Callable[[str], None] | None = None,
    valid_from: dt.date | None = None,
    delimiter: str | None = None,
    decimal_comma: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame, list[FileSummary]]:
    """Read and validate ``files`` of ``kind`` as ``ingest`` does; store nothing.

    Returns the valid rows (canonical columns plus ``source_file``, the file each
    row came from; a later file's row replaces an earlier file's row of the same
    key), the rejected rows (``schema.REJECTS`` columns minus ``ingested_at``) and
    one summary per file.  ``roster check`` reads grids through this, so that a
    checked file gets exactly the rejects and messages its ingest would.
    """
    load_profile(profile, kind, profiles_file)  # unknown profile: UsageError before any reading
    if month is not None:
        parse_month(month)
    if delimiter is not None:
        parse_delimiter(delimiter)
    table = TABLES[kind]
    step = on_step or (lambda _message: None)
    summaries: list[FileSummary] = []
    valids: list[pl.DataFrame] = []
    rejects: list[pl.DataFrame] = []
    for i, path in enumerate(Path(f) for f in files):
        step(f"reading and validating {path.name}")
        summary, valid, rej = _validate_file(
            path,
            i,
            kind,
            profile,
            profiles_file,
            fmt,
            month,
            valid_from=valid_from,
            delimiter=delimiter,
            decimal_comma=decimal_comma,
        )
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
    names = [str(Path(f)) for f in files]
    source = pl.col(_FILE).replace_strict(
        list(range(len(names))), names, return_dtype=pl.String
    )
    rows = rows.select(*table.columns, source.alias("source_file"))
    return rows, pl.concat(rejects, how="vertical"), summaries


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
    valid_from: dt.date | None = None,
    full_snapshot: bool = False,
    replace_period: tuple[dt.date, dt.date] | str | None = None,
    delimiter: str | None = None,
    decimal_comma: bool = False,
) -> IngestSummary:
    """Validate ``files`` of ``kind`` and store them in one write per kind.

    Rows of a later file replace rows of an earlier file with the same key (a
    revised roster wins).  Rejected rows go to the store's rejects table and a
    CSV at ``<store>/rejected-rows/<UTC time>-<kind>-v<version>-<id>.csv``
    (``Store.write_ingest``); so do the bad
    optional attendance cells that were blanked (``action`` = ``blanked``).
    ``strict``: any rejected row raises DataError and nothing is stored (the
    rejects CSV is still written so the rows can be fixed).  ``dry_run``:
    nothing is written.  Employees: ``valid_from`` fills the rows without one;
    ``full_snapshot`` ends the employees in force but absent from the files.
    ``replace_period`` (``FROM..TO``): the table's rows of those dates are removed
    in the same commit.  ``full_snapshot`` and ``replace_period`` imply ``strict``
    (a rejected row would end an employee, or delete a row without replacing it).
    ``delimiter`` / ``decimal_comma`` override the profile's CSV separator and
    decimal separator.
    """
    if kind not in TABLES:
        raise UsageError(f"unknown kind '{kind}'; valid kinds: {', '.join(KINDS)}.")
    if not files:
        raise UsageError(f"no file given; usage: wfhaudit ingest {kind} FILE...")
    load_profile(profile, kind, profiles_file)  # unknown profile: UsageError before any reading
    if month is not None:
        parse_month(month)
    if delimiter is not None:
        parse_delimiter(delimiter)
    if (valid_from is not None or full_snapshot) and kind != "employees":
        option = "--valid-from" if valid_from is not None else "--full-snapshot"
        raise UsageError(f"{option} applies to employees only, not to {kind}.")
    if isinstance(replace_period, str):
        replace_period = parse_replace_period(replace_period)
    table = TABLES[kind]
    if replace_period is not None and table.period_column is None:
        raise UsageError(f"--replace-period does not apply to {kind}: the table has no dates.")
    step = on_step or (lambda _message: None)
    rows, all_rejects, summaries = validate_files(
        kind, files, profile=profile, profiles_file=profiles_file, fmt=fmt, month=month,
        on_step=step, valid_from=valid_from, delimiter=delimiter, decimal_comma=decimal_comma,
    )
    rows = rows.select(list(table.columns))
    sample = ["source_file", "source_row", "error_code", "message"]
    n_rejected = _rejected(all_rejects).height
    result = IngestSummary(
        kind=kind,
        profile=profile,
        files=summaries,
        read=sum(s.read for s in summaries),
        superseded=sum(s.superseded for s in summaries),
        rejected=n_rejected,
        rejected_by_code=_by_code(_rejected(all_rejects)),
        blanked=_blanked(all_rejects).height,
        blanked_by_code=_by_code(_blanked(all_rejects)),
        zero_coordinates=sum(s.zero_coordinates for s in summaries),
        dry_run=dry_run,
        strict=strict,
        responses=_sum_responses(summaries),
        rejects_sample=_rejected(all_rejects).head(SAMPLE_REJECTS).select(sample).to_dicts(),
        blanked_sample=_blanked(all_rejects).head(SAMPLE_REJECTS).select(sample).to_dicts(),
    )
    result.store_version = store.version(kind)
    result.valid_from = valid_from
    result.replace_period = replace_period
    ended = table.empty()
    if full_snapshot:
        ended = leavers(store, rows, snapshot_date(rows, valid_from))
        result.ended = [
            {k: str(v) for k, v in row.items()}
            for row in ended.select("nip", "name", "unit_code", "active_to").to_dicts()
        ]
    if dry_run:
        result.stored = rows.height
        return result
    stamped = all_rejects.with_columns(
        pl.lit(_now_wib()).cast(REJECTS.columns["ingested_at"]).alias("ingested_at")
    ).select(list(REJECTS.columns))
    if (strict or full_snapshot or replace_period is not None) and n_rejected:
        result.rejects_path = store.write_rejects_csv(kind, stamped, result.store_version)
        codes = ", ".join(f"{n} {c}" for c, n in result.rejected_by_code.items())
        option = (
            "--strict"
            if strict
            else "--full-snapshot (a rejected row would end an employee)"
            if full_snapshot
            else "--replace-period (a rejected row would delete a stored row)"
        )
        raise DataError(
            f"{option}: {n_rejected} rejected row(s) ({codes}); nothing was stored. "
            f"The rows are listed in {result.rejects_path}; fix them and ingest again."
        )
    step(f"writing {rows.height:,} {kind} rows and {all_rejects.height:,} rejected rows")
    if ended.height:
        rows = pl.concat([rows, ended])
    # one call: the table, then the rejects CSV and table, journalled against a kill
    done = store.write_ingest(kind, rows, stamped, replace_period=replace_period)
    written, result.rejects_path = done.written, done.rejects_csv
    result.stored = rows.height - ended.height
    result.removed = written.removed
    result.inserted = written.inserted
    result.replaced = written.replaced
    result.unchanged = written.unchanged
    result.store_version = written.version
    return result
