"""Validate an all-string sheet into the canonical dtypes, vectorised with Polars.

Every row of a sheet ends up in exactly one of two frames: ``valid`` (canonical
columns, parsed) or ``rejects`` (one error code per row: the first problem
found, in the order missing-value, bad-nip, type-error, bad-enum, pairs,
out-of-range; then duplicate-row / conflict among the rows that passed).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from wfhaudit.errors import DataError, UsageError
from wfhaudit.hashing import row_hash
from wfhaudit.ingest.profiles import Combine, Profile
from wfhaudit.ingest.readers import NIP_NUMERIC, ROW, RawSheet
from wfhaudit.schema import ACTION_BLANKED, ACTION_REJECTED, DATETIME, Table

#: grid column header of a roster-grid cell (part of the source row label).
HDR = "__hdr"
_CHECK = "__check"
#: a lazy source's rows to look at (re-parse, reject) are read once, every column, if at
#: most this many; more are re-read column by column (memory)
CACHED_ROWS = 200_000
#: hash of the key columns of a valid row (duplicate candidates, computed with the checks)
KEY_HASH = "__key_hash"
#: prefix of the per-group "first failing check" columns of blankable cells
_BLANK = "__blank"
#: optional cells whose bad value is blanked (stored empty, recorded with action
#: ``blanked``) instead of rejecting the row: kind -> column -> the cells blanked with it
#: (a coordinate is blanked with its partner; data.md, attendance)
BLANKABLE: dict[str, dict[str, tuple[str, ...]]] = {
    "attendance": {
        "lat": ("lat", "lon"),
        "lon": ("lat", "lon"),
        "accuracy_m": ("accuracy_m",),
        "device_id": ("device_id",),
        "mode": ("mode",),
    }
}
#: a device id that is empty once format characters and white space are removed, or that
#: holds control characters, is no device id (attendance; blanked)
ODD_DEVICE_ID = r"^[\p{Cf}\p{White_Space}]*$|\p{Cc}"

#: roster cells of agency grids: H = WFH, K (kantor) / O (office) = WFO.
GRID_ALIASES = {"H": "WFH", "K": "WFO", "O": "WFO"}
#: columns that are required but may hold an empty string.
EMPTY_ALLOWED = {("outputs", "text"), ("feedback", "category")}
#: (low, high) bounds of numeric columns; None = unbounded.
RANGES: dict[str, tuple[float | None, float | None]] = {
    "lat": (-90.0, 90.0),
    "lon": (-180.0, 180.0),
    "home_lat": (-90.0, 90.0),
    "home_lon": (-180.0, 180.0),
    "count": (0.0, None),  # feedback: complaints
    "radius_m": (0.0, None),
    "accuracy_m": (0.0, None),
}
#: (start, end) date pairs where end must not be before start.
ORDERED = (("start", "end"), ("active_from", "active_to"))

_OFFSET = r"(Z|z|[+-]\d{2}(?::?\d{2})?)"
_HAS_OFFSET = r"\d\s*" + _OFFSET + r"$"
_SPLIT_OFFSET = r"^(.*?\d)\s*" + _OFFSET + r"$"
_WIB_MINUTES = 7 * 60
#: years a stored date may have (Python's date range: year 0 or -1 breaks every reader)
YEARS = (1, 9999)
#: a clock with second (or minute) 60: a leap second is not a K-Mob time, and Polars
#: would read 23:59:60 as 00:00:00 of the next day
_LEAP = ":60"
#: what a valid NIP is: 18 ASCII digits (``_is_nip`` tests it; regex ``\d`` would also
#: take Arabic-Indic or full-width digits, which no employee NIP holds)
NIP_PATTERN = r"^[0-9]{18}$"


class MissingColumns(Exception):
    """The sheet lacks required columns (carries the one-sentence reason)."""


@dataclass
class SheetResult:
    valid: pl.DataFrame  # ROW, HDR (null unless grid), canonical columns
    rejects: pl.DataFrame  # ROW, HDR, error_code, message
    read: int
    zero_coordinates: int
    grid: bool
    #: the source rows (original cells) for the rejects file; None while the source is
    #: a lazy scan (core collects the few rows a reject needs)
    frame: pl.DataFrame | None
    originals: list[str]  # source headers to show in a reject's values
    sheet: str | None
    source: RawSheet
    #: lazy source: the source rows (ROW + every column) already read for the rejects, or None
    cells: pl.DataFrame | None = None


# --- header mapping ----------------------------------------------------------


def header_mapping(table: Table, profile: Profile, headers: list[str]) -> dict[str, str]:
    """canonical column -> source header, matching case-insensitively."""
    aliases = {k.strip().lower(): v for k, v in profile.columns.items()}
    found: dict[str, str] = {}
    for header in headers:
        key = header.strip().lower()
        canonical = aliases.get(key, key if key in table.columns else None)
        if canonical is None or canonical not in table.columns:
            continue
        if canonical in found:
            raise DataError(
                f"columns '{found[canonical]}' and '{header}' both map to '{canonical}'; "
                "remove one of them."
            )
        found[canonical] = header
    return found


def nip_headers(table: Table, profile: Profile) -> set[str]:
    """Lower-case source headers that hold the NIP."""
    names = {k.strip().lower() for k, v in profile.columns.items() if v == "nip"}
    return names | {"nip"} if "nip" in table.columns else set()


def _find(headers: list[str], wanted: str) -> str | None:
    for header in headers:
        if header.strip().lower() == wanted.strip().lower():
            return header
    return None


# --- parsing helpers (eager, on Series) ----------------------------------------


def _is_nip(e: pl.Expr) -> pl.Expr:
    """``e`` matches ``NIP_PATTERN`` (a null is False), at half the cost of the regex.

    18 bytes that parse as an unsigned integer are 18 ASCII digits, except for a
    leading '+', which the integer parser accepts (pinned in tests/test_ingest.py).
    """
    return (
        (e.str.len_bytes() == 18)
        & ~e.str.starts_with("+")
        & e.cast(pl.UInt64, strict=False).is_not_null()
    )


def _stripped(e: pl.Expr) -> pl.Expr:
    return e.str.strip_chars().replace("", None)


def _strip_series(s: pl.Series) -> pl.Series:
    s = s.cast(pl.String).str.strip_chars()
    return pl.select(pl.when(s != "").then(s)).to_series().alias(s.name)


def _fallbacks(
    w: pl.DataFrame,
    fetch: Callable[[pl.Series, list[str]], pl.DataFrame],
    sources: dict[str, str],
    table: Table,
    profile: Profile,
    combine: dict[str, Combine],
) -> tuple[pl.DataFrame, bool]:
    """Second chance, on the failing subset only: other formats, offsets, normalisations.

    ``fetch(positions, source headers)`` returns the raw cells of rows of ``w``.
    Returns the patched frame and whether anything was re-parsed.
    """
    patched = False

    def raw(name: str, idx: pl.Series) -> pl.Series:
        return _strip_series(fetch(idx, [sources[name]]).to_series())

    for col, dtype in table.columns.items():
        target = "p:" + col
        if col not in sources and col not in combine:
            continue
        if "retry:" + col not in w.columns:
            continue
        parsed = w.get_column(target)
        failed = w.get_column("retry:" + col)
        if not failed.any():
            continue
        idx = failed.arg_true()
        if col in combine:
            day, clock = raw(col + ":date", idx), raw(col + ":time", idx)
            fixed = parse_date_time(day, clock, profile)
            filled = day.is_not_null() & clock.is_not_null()
        else:
            cells = raw(col, idx)
            filled = cells.is_not_null()  # a cell of only spaces is empty after all
            if dtype == pl.Date:
                fixed = parse_date(cells, profile.date_formats)
            elif dtype == DATETIME:
                fixed = parse_datetime(cells, profile.datetime_formats)
            elif dtype == pl.Float64:
                fixed = parse_float(cells, profile.decimal)
            elif col in table.enums:
                fixed = normalise_enum(cells, _aliases(table, profile, col))
            else:
                fixed = normalise_nip(cells)
        present = w.get_column("present:" + col)
        patched = True
        fixed = fixed.cast(parsed.dtype)
        # retry:<col> now means "still not acceptable" (the checks reuse it for NIPs/enums)
        if col in table.enums:
            still = filled & ~fixed.is_in(list(table.enums[col]))
        elif col == "nip":
            still = filled & ~fixed.to_frame("v").select(_is_nip(pl.col("v"))).to_series()
        else:
            still = filled & fixed.is_null()
        w = w.with_columns(
            parsed.scatter(idx, fixed),
            present.scatter(idx, filled),
            failed.scatter(idx, still.fill_null(False)),
        )
    return w, patched


def _retry_masks(table: Table, combine: dict[str, Combine]) -> list[pl.Expr]:
    """``retry:<col>``: values the first pass did not accept (computed in the same query)."""
    out: list[pl.Expr] = []
    for col, dtype in table.columns.items():
        present, parsed = pl.col("present:" + col), pl.col("p:" + col)
        if col in combine or dtype in (pl.Date, DATETIME, pl.Float64):
            failed = present & parsed.is_null()
        elif col in table.enums:
            failed = present & ~parsed.is_in(list(table.enums[col]))
        elif col == "nip":
            failed = present & ~_is_nip(parsed)
        else:
            continue
        out.append(failed.fill_null(False).alias("retry:" + col))
    return out


def _fill(out: pl.Series | None, new: pl.Series) -> pl.Series:
    return new if out is None else out.fill_null(new)


def _unparsed(parsed: pl.Series, raw: pl.Series) -> bool:
    return bool((parsed.is_null() & raw.is_not_null()).any())


def parse_date(raw: pl.Series, formats: tuple[str, ...]) -> pl.Series:
    out: pl.Series | None = None
    for fmt in formats:
        out = _fill(out, raw.str.to_date(fmt, strict=False))
        if not _unparsed(out, raw):
            return out
    # Excel date cells read as text come as 'YYYY-MM-DD 00:00:00'
    trimmed = raw.str.strip_suffix(" 00:00:00")
    for fmt in formats:
        out = _fill(out, trimmed.str.to_date(fmt, strict=False))
    assert out is not None
    return out


def _split_offset(raw: pl.Series) -> tuple[pl.Series, pl.Series | None]:
    """(local part, offset in minutes or null); no offsets anywhere -> (raw, None)."""
    has = raw.str.contains(_HAS_OFFSET)
    if not has.any():
        return raw, None
    parts = raw.str.extract_groups(_SPLIT_OFFSET)
    local = pl.select(pl.when(has).then(parts.struct.field("1")).otherwise(raw)).to_series()
    off = parts.struct.field("2")
    digits = off.str.replace(":", "", literal=True).str.slice(1)
    hours = digits.str.slice(0, 2).cast(pl.Int32, strict=False)
    mins = digits.str.slice(2, 2).cast(pl.Int32, strict=False).fill_null(0)
    total = pl.select(
        pl.when(off.str.to_uppercase() == "Z")
        .then(pl.lit(0, pl.Int32))
        .when((hours <= 14) & (mins < 60))
        .then(pl.when(off.str.starts_with("-")).then(-1).otherwise(1) * (hours * 60 + mins))
    ).to_series()
    # an offset that does not parse (e.g. +99:00) makes the value unparsable
    local = pl.select(pl.when(off.is_null() | total.is_not_null()).then(local)).to_series()
    return local.alias(raw.name), total


def _to_wib(parsed: pl.Series, offset: pl.Series | None) -> pl.Series:
    if offset is None:
        return parsed
    frame = pl.DataFrame({"t": parsed, "o": offset.fill_null(_WIB_MINUTES) - _WIB_MINUTES})
    shifted = frame.select(pl.col("t") - pl.duration(minutes=pl.col("o"), time_unit="us"))
    return shifted.to_series().alias(parsed.name)


def parse_datetime(raw: pl.Series, formats: tuple[str, ...]) -> pl.Series:
    """Datetimes in WIB (naive): values with an offset or Z are converted, others taken as WIB."""
    local, offset = _split_offset(raw)
    out: pl.Series | None = None
    for fmt in formats:
        out = _fill(out, local.str.to_datetime(fmt, strict=False, time_unit="us"))
        if not _unparsed(out, local):
            break
    assert out is not None
    out = pl.select(pl.when(~_leap(pl.lit(local))).then(pl.lit(out))).to_series().alias(out.name)
    return _to_wib(out.cast(DATETIME), offset)


def _leap(e: pl.Expr) -> pl.Expr:
    """The cell has a minute or second 60 (never a valid clock here)."""
    return e.str.contains(_LEAP, literal=True).fill_null(False)


def parse_date_time(raw_date: pl.Series, raw_time: pl.Series, profile: Profile) -> pl.Series:
    """Datetime from a date column and a time column (the time may carry an offset)."""
    day = parse_date(raw_date, profile.date_formats)
    # an Excel time cell read as text is a date-time on Excel's day zero
    raw_time = raw_time.str.replace(r"^1899-12-3[01][ T]", "")
    local, offset = _split_offset(raw_time)
    clock: pl.Series | None = None
    for fmt in profile.time_formats:
        clock = _fill(clock, local.str.to_time(fmt, strict=False))
        if not _unparsed(clock, local):
            break
    assert clock is not None
    out = (
        pl.DataFrame({"d": day, "t": clock})
        .select(pl.col("d").dt.combine(pl.col("t"), time_unit="us"))
        .to_series()
    )
    return _to_wib(out.cast(DATETIME), offset)


def parse_float(raw: pl.Series, decimal: str) -> pl.Series:
    s = raw.str.replace(decimal, ".", literal=True) if decimal != "." else raw
    v = s.cast(pl.Float64, strict=False)
    return pl.select(pl.when(v.is_finite()).then(v)).to_series().alias(raw.name)


def normalise_enum(raw: pl.Series, aliases: dict[str, str]) -> pl.Series:
    s = raw.str.to_uppercase()
    if s.str.contains(r"[\s-]").any():
        s = s.str.replace_all(r"[\s-]+", "_")
    if aliases:
        s = s.replace(aliases)
    return s


def normalise_nip(raw: pl.Series) -> pl.Series:
    s = raw
    if s.str.contains(r"\s").any():
        s = s.str.replace_all(r"\s+", "")
    if s.str.starts_with("'").any():
        s = s.str.strip_chars_start("'")
    return s


# --- roster grids ----------------------------------------------------------------

_DAY = re.compile(r"^(\d{1,2})(?:\.0+)?$")


def _grid_date(header: str, profile: Profile, month: str | None) -> str | None:
    """ISO date string for a grid header, 'DAY:n' for a day number, None if not a date."""
    text = header.strip()
    m = _DAY.match(text)
    if m:
        return f"DAY:{int(m.group(1))}"
    parsed = parse_date(pl.Series([text]), ("%Y-%m-%d", *profile.date_formats))[0]
    return parsed.isoformat() if parsed is not None else None


def parse_month(month: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})-(\d{2})", month.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise UsageError(f"--month '{month}' is not a month; use YYYY-MM, e.g. 2025-12.")
    return int(m.group(1)), int(m.group(2))


def melt_grid(
    raw: RawSheet, table: Table, profile: Profile, month: str | None, where: str
) -> tuple[pl.DataFrame, dict[str, str], list[str]] | None:
    """Long roster rows (source headers nip/date/mode + ROW, HDR) from a grid, or None."""
    headers = raw.headers
    frame = raw.materialize()
    nip_header = next(
        (h for h in headers if h.strip().lower() in nip_headers(table, profile)), None
    )
    if nip_header is None:
        return None
    dates: dict[str, str] = {}
    day_headers: list[str] = []
    for header in headers:
        if header == nip_header:
            continue
        iso = _grid_date(header, profile, month)
        if iso is None:
            continue
        if iso.startswith("DAY:"):
            day_headers.append(header)
        dates[header] = iso
    if not dates:
        return None
    if day_headers:
        if month is None:
            raise UsageError(
                f"the roster grid {where} has day-number column headers (1..31); pass "
                "--month YYYY-MM to say which month they are."
            )
        year, mon = parse_month(month)
        last = calendar.monthrange(year, mon)[1]
        for header in day_headers:
            day = int(dates[header][4:])
            # an impossible day (31 in November) stays as text and fails as type-error
            dates[header] = (
                f"{year:04d}-{mon:02d}-{day:02d}"
                if 1 <= day <= last
                else f"{year:04d}-{mon:02d}-{day:02d} (no such day)"
            )
    name_header = _find(headers, "nama") or _find(headers, "name")
    index = [ROW, nip_header] + ([name_header] if name_header else [])
    if NIP_NUMERIC in frame.columns:
        index.append(NIP_NUMERIC)
    long = (
        frame.select([*index, *dates])
        .unpivot(index=index, on=list(dates), variable_name=HDR, value_name="__cell")
        .filter(pl.col("__cell").str.strip_chars() != "")
        .with_columns(pl.col(HDR).replace_strict(dates, return_dtype=pl.String).alias("__date"))
        .sort(ROW, maintain_order=True)
    )
    mapping = {"nip": nip_header, "date": "__date", "mode": "__cell"}
    originals = [nip_header] + ([name_header] if name_header else [])
    return long, mapping, originals


# --- validation ---------------------------------------------------------------------


def validate_sheet(
    table: Table,
    profile: Profile,
    raw: RawSheet,
    *,
    where: str,
    month: str | None = None,
) -> SheetResult:
    """Validate one sheet; raises MissingColumns when required columns are absent."""
    headers = raw.headers
    mapping = header_mapping(table, profile, headers)
    frame = raw.frame
    grid = False
    originals = headers
    combine = {
        col: spec
        for col, spec in profile.combine.items()
        if col in table.columns and col not in mapping
    }
    if table.name == "roster" and not ("date" in mapping and "mode" in mapping):
        melted = melt_grid(raw, table, profile, month, where)
        if melted is not None:
            frame, mapping, originals = melted
            grid = True
    missing: list[str] = []
    for col in table.required:
        if col in mapping:
            continue
        if col in combine:
            for part in (combine[col].date, combine[col].time):
                if _find(headers, part) is None:
                    missing.append(part)
            continue
        missing.append(col)
    if missing:
        hint = ""
        guess = [sep for sep in ";,\t|" if len(headers) == 1 and sep in headers[0]]
        if guess:
            shown = "tab" if guess[0] == "\t" else guess[0]
            hint = (
                f" (the header '{headers[0][:40]}' looks like one column: is the separator "
                f"'{profile.delimiter}' right? pass --delimiter '{shown}', or another --profile)"
            )
        if table.name == "roster":
            hint += " (a roster needs nip, date and mode columns, or a grid: NIP then date columns)"
        raise MissingColumns(
            f"{where} has no column {', '.join(repr(m) for m in missing)} required for "
            f"{table.name}{hint}; found: {', '.join(headers) or 'no columns'}."
        )
    # source columns (raw strings) of every canonical value: {name: source header}
    sources: dict[str, str] = {}
    for col in table.columns:
        if col in mapping:
            sources[col] = mapping[col]
        elif col in combine:
            date_h, time_h = _find(headers, combine[col].date), _find(headers, combine[col].time)
            assert date_h is not None and time_h is not None
            sources[col + ":date"], sources[col + ":time"] = date_h, time_h
    # an eager frame has no blank rows; a lazy scan still has them (filtering them in the
    # scan would parse every column, 'Nama' too): see _drop_blank_rows
    scan = frame.lazy() if frame is not None else raw.scan_all()
    numeric_nip = NIP_NUMERIC in scan.collect_schema().names()
    keep: list[pl.Expr] = [pl.col(ROW)] + ([pl.col(HDR)] if grid else [])
    if numeric_nip:
        keep.append(pl.col(NIP_NUMERIC).fill_null(False))
    checks, blank_groups = _split_checks(table, profile, combine, numeric_nip)
    # the common case is a clean row: one OR over all checks, the rest on bad rows only
    any_bad = pl.any_horizontal([mask.fill_null(False) for _, mask, _ in checks])
    # __blank<j>: the first failing check of blankable cell group j (null: the cells are fine)
    blank_flags = [
        pl.coalesce(
            [
                pl.when(mask.fill_null(False)).then(pl.lit(i, pl.Int16))
                for i, (_, mask, _) in enumerate(group)
            ]
        ).alias(f"{_BLANK}{j}")
        for j, (_, group) in enumerate(blank_groups)
    ]
    any_blank = pl.any_horizontal(
        [mask.fill_null(False) for _, group in blank_groups for _, mask, _ in group]
        or [pl.lit(False)]
    )
    key_hash = row_hash([pl.col("p:" + k) for k in table.key])
    if table.name == "attendance":
        # an exact (0, 0) is what phones send when GPS fails: stored as empty, counted
        is_zero = ((pl.col("p:lat") == 0) & (pl.col("p:lon") == 0)).fill_null(False)
    else:
        is_zero = pl.lit(False)
    judged = [
        any_bad.alias(_CHECK),
        key_hash.alias(KEY_HASH),
        is_zero.alias("__zero"),
        *blank_flags,
    ]
    # parse with the first formats and flag misses; the checks run on the materialised
    # values (in the same query the optimiser would inline and re-parse them: slower)
    first, derived = _first_pass(table, profile, sources, combine)
    w = raw.collect(
        scan.select(*keep, *first).with_columns(*derived, *_retry_masks(table, combine))
    )
    source_rows = w.get_column(ROW)

    # A lazy source is read again for the raw cells of the rows that need them (re-parse,
    # messages, the rejects file).  The first time, every cell of every row a check may
    # reject is read in one scan: those failing a check on the first-pass values, and
    # those _fallbacks re-parses (the only rows whose values it changes).  Without this,
    # each column with a miss and the messages cost a scan of the whole file each.
    first_pass: pl.DataFrame | None = w
    read_rows: pl.DataFrame | None = None  # ROW + every source column of those rows

    def fetch(idx: pl.Series, columns: list[str]) -> pl.DataFrame:
        """Raw cells (``columns``) of the rows of ``w`` at positions ``idx`` (ascending)."""
        nonlocal first_pass, read_rows
        if frame is not None:
            return frame.select(columns).gather(idx)
        rows = source_rows.gather(idx)
        if first_pass is not None:  # the first call: nothing has been re-parsed yet
            retry = [pl.col(c) for c in first_pass.columns if c.startswith("retry:")]
            suspect = first_pass.select(pl.any_horizontal(any_bad, any_blank, *retry)).to_series()
            first_pass = None
            if suspect.sum() <= CACHED_ROWS:
                wanted = source_rows.filter(suspect).implode()
                read_rows = raw.collect(
                    scan.filter(pl.col(ROW).is_in(wanted)).select(ROW, *raw.headers)
                )
        if read_rows is not None:
            have = read_rows.get_column(ROW)
            at = have.search_sorted(rows).clip(0, max(have.len() - 1, 0))
            if have.len() and have.gather(at).equals(rows, check_names=False):
                return read_rows.select(columns).gather(at)
        got = raw.collect(scan.filter(pl.col(ROW).is_in(rows.implode())).select(ROW, *columns))
        assert got.get_column(ROW).equals(rows, check_names=False), "source rows out of order"
        return got.select(columns)

    # (if _fallbacks fetched nothing, it changed nothing: first_pass still picks the rows)
    w, _ = _fallbacks(w, fetch, sources, table, profile, combine)
    if frame is None:
        # after _fallbacks: a cell of only spaces is not 'present' any more
        w = _drop_blank_rows(w, raw)
        source_rows = w.get_column(ROW)
        if first_pass is not None:
            first_pass = w
    read = w.height
    w = w.lazy().with_columns(judged).collect(engine="in-memory")
    ok = ~w.get_column(_CHECK)
    n_bad = w.height - int(ok.sum())
    flagged = ~ok
    if blank_groups:
        flags = [pl.col(f"{_BLANK}{j}").is_not_null() for j in range(len(blank_groups))]
        some_blank = w.select(pl.any_horizontal(flags)).to_series()
        flagged = flagged | some_blank
    if flagged.any():
        # messages need the raw cells: gather them for the rejected and blanked rows only
        idx = flagged.arg_true()
        first_failing = pl.coalesce(
            [pl.when(mask).then(pl.lit(i, pl.Int16)) for i, (_, mask, _) in enumerate(checks)]
        )
        cells = fetch(idx, list(dict.fromkeys(sources.values())))
        bad = (
            w.gather(idx)
            .with_columns(first_failing.alias(_CHECK))
            .with_columns(
                _strip_series(cells.get_column(src))
                .str.replace_all("\x00", "\\0", literal=True)
                .alias(name)
                for name, src in sources.items()
            )
        )
        for col in table.columns:
            if col not in bad.columns and col not in combine:
                bad = bad.with_columns(pl.lit(None, pl.String).alias(col))
        rejected = bad.filter(pl.col(_CHECK).is_not_null())
        rejects = _first_failing(rejected, checks, _CHECK, grid, ACTION_REJECTED)
        kept = bad.filter(pl.col(_CHECK).is_null())
        blanked = [
            _first_failing(
                kept.filter(pl.col(f"{_BLANK}{j}").is_not_null()),
                group,
                f"{_BLANK}{j}",
                grid,
                ACTION_BLANKED,
                suffix=f"; the row is stored with {' and '.join(cols)} empty",
            )
            for j, (cols, group) in enumerate(blank_groups)
        ]
        rejects = pl.concat([rejects, *blanked], how="vertical").sort(ROW, maintain_order=True)
    else:
        rejects = _empty_rejects(grid)
    blank_of = {c: j for j, (cols, _) in enumerate(blank_groups) for c in cols}
    valid = w.lazy().select(
        ROW,
        (pl.col(HDR) if grid else pl.lit(None, pl.String)).alias(HDR),
        *[
            (
                pl.when(~pl.col("__zero")).then(pl.col("p:" + c))
                if c in ("lat", "lon") and table.name == "attendance"
                # optional raw-parsed strings: an empty cell is null, not ""
                else pl.when(pl.col("present:" + c)).then(pl.col("p:" + c))
                if (c in table.enums or c == "nip") and c not in table.required
                else pl.col("p:" + c)
            )
            .cast(t)
            .pipe(_blanked, blank_of.get(c))
            .alias(c)
            for c, t in table.columns.items()
        ],
        "__zero",
        KEY_HASH,
    ).collect(engine="in-memory")
    del w
    if n_bad:
        valid = valid.filter(ok)
    zero = int(valid.get_column("__zero").sum())
    valid = valid.drop("__zero")
    if not grid:
        rejects = rejects.select(
            ROW, pl.lit(None, pl.String).alias(HDR), "error_code", "message", "action"
        )
    return SheetResult(
        valid=valid,
        rejects=rejects,
        read=read,
        zero_coordinates=zero,
        grid=grid,
        frame=frame,
        originals=originals,
        sheet=raw.sheet,
        source=raw,
        cells=read_rows,
    )


def _blanked(value: pl.Expr, group: int | None) -> pl.Expr:
    """``value``, or empty where blankable cell group ``group`` failed a check."""
    if group is None:
        return value
    return pl.when(pl.col(f"{_BLANK}{group}").is_null()).then(value)


def _first_failing(
    rows: pl.DataFrame,
    checks: list[tuple[str, pl.Expr, pl.Expr]],
    index: str,
    grid: bool,
    action: str,
    suffix: str = "",
) -> pl.DataFrame:
    """ROW (HDR), error_code, message, action of ``rows`` from the check numbered ``index``."""
    message = pl.coalesce(
        [pl.when(pl.col(index) == i).then(msg) for i, (_, _, msg) in enumerate(checks)]
    )
    return rows.select(
        ROW,
        *([HDR] if grid else []),
        pl.coalesce(
            [
                pl.when(pl.col(index) == i).then(pl.lit(code))
                for i, (code, _, _) in enumerate(checks)
            ]
        ).alias("error_code"),
        (message + pl.lit(suffix) if suffix else message).alias("message"),
        pl.lit(action).alias("action"),
    )


def _split_checks(
    table: Table, profile: Profile, combine: dict[str, Combine], numeric_nip: bool
) -> tuple[
    list[tuple[str, pl.Expr, pl.Expr]],
    list[tuple[tuple[str, ...], list[tuple[str, pl.Expr, pl.Expr]]]],
]:
    """(checks that reject the row, [(cells blanked, their checks)] per blankable group)."""
    blankable = BLANKABLE.get(table.name, {})
    rejecting: list[tuple[str, pl.Expr, pl.Expr]] = []
    groups: dict[tuple[str, ...], list[tuple[str, pl.Expr, pl.Expr]]] = {}
    for col, code, mask, message in checks_by_column(table, profile, combine, numeric_nip):
        if col in blankable:
            groups.setdefault(blankable[col], []).append((code, mask, message))
        else:
            rejecting.append((code, mask, message))
    return rejecting, list(groups.items())


def _drop_blank_rows(w: pl.DataFrame, raw: RawSheet) -> pl.DataFrame:
    """Drop the rows of ``w`` (first pass over a lazy source) whose cells are all empty.

    A row with a ``present:`` flag set is not blank.  The others (blank lines, and rows
    with only empty strings, spaces or unmapped cells such as 'Nama') are few: only they
    are read again, every column, to keep exactly the rows with some cell not null.
    (A flag for "some mapped cell is not null" in the first-pass query cost 0.9 CPU-s
    per 5 M rows with one thread; the flags are there anyway.)
    """
    present = [c for c in w.columns if c.startswith("present:")]
    some = w.select(pl.any_horizontal(present)).to_series()
    if not some.all():
        blank = raw.blank_rows(w.get_column(ROW).filter(~some))
        if blank.len():
            w = w.filter(~pl.col(ROW).is_in(blank.implode()))
    return w


def _first_pass(
    table: Table, profile: Profile, sources: dict[str, str], combine: dict[str, Combine]
) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """``present:<col>`` flags and ``p:<col>`` values parsed with the first format.

    Returns (expressions over the source columns, expressions over those results).
    The stripped strings are not kept: the few values that fail are re-parsed from
    the source frame (``_fallbacks``), and messages read the raw cells of rejected
    rows only.  This keeps a 5-million-row file within memory.
    """
    out: list[pl.Expr] = []
    derived: list[pl.Expr] = []
    for col, dtype in table.columns.items():
        target = "p:" + col
        if col in combine:
            # parse the raw cells: a padded or unusual value misses here and is
            # re-parsed (stripped, every format) in _fallbacks
            date, time = pl.col(sources[col + ":date"]), pl.col(sources[col + ":time"])
            out.append((_filled(date) & _filled(time)).alias("present:" + col))
            out.append(
                _combine_fast(date, time, profile.date_formats[0], profile.time_formats[0]).alias(
                    target
                )
            )
            continue
        if col not in sources:
            out.append(pl.lit(False).alias("present:" + col))
            out.append(pl.lit(None, dtype).alias(target))
            continue
        raw = pl.col(sources[col]).cast(pl.String)
        value = _stripped(raw)
        # parsed columns: a cheap "not empty" here; a cell of only spaces fails to parse
        # and _fallbacks corrects its flag.  Plain strings: the stripped value decides.
        parsed_here = dtype in (pl.Date, DATETIME, pl.Float64) or col in table.enums
        parsed_here = parsed_here or col == "nip"
        if parsed_here or (table.name, col) in EMPTY_ALLOWED:
            present = _filled(raw) if parsed_here else value.is_not_null()
            out.append(present.alias("present:" + col))
        else:
            # from the stripped value kept in p:<col> (stripping it twice costs 0.1 CPU-s
            # per 5 M rows: the engine does not share the two)
            derived.append(pl.col(target).is_not_null().alias("present:" + col))
        if dtype == pl.Date:
            out.append(raw.str.to_date(profile.date_formats[0], strict=False).alias(target))
        elif dtype == DATETIME:
            parsed = raw.str.to_datetime(profile.datetime_formats[0], strict=False, time_unit="us")
            out.append(pl.when(~_leap(raw)).then(parsed).alias(target))
        elif dtype == pl.Float64:
            number = raw
            if profile.decimal != ".":
                number = number.str.replace(profile.decimal, ".", literal=True)
            # NaN and infinity are caught by the type-error check (not finite)
            out.append(number.cast(pl.Float64, strict=False).alias(target))
        elif col in table.enums:
            # one hash lookup for the usual spellings; the rest (other case, spaces)
            # fails is_in and is normalised in _fallbacks
            out.append(raw.replace(_spellings(table, profile, col)).alias(target))
        elif col == "nip":
            out.append(raw.alias(target))  # spaces and apostrophes: _fallbacks
        elif (table.name, col) in EMPTY_ALLOWED:
            out.append(value.fill_null("").alias(target))
        else:
            out.append(value.alias(target))
    return out, derived


def _filled(e: pl.Expr) -> pl.Expr:
    return e.is_not_null() & (e.str.len_bytes() > 0)


def _combine_fast(date: pl.Expr, time: pl.Expr, date_format: str, time_format: str) -> pl.Expr:
    """Datetime from a date cell and a time cell, parsed with the first formats; else null.

    One ``str.to_datetime`` over "date time" costs less than a date parse plus a
    time parse (measured on 5 M K-Mob rows: 0.40 CPU-s against 0.65 for slicing
    HH:MM:SS by hand, which also took '+7:03:45' for 07:03:45).  A null here is
    only a first-pass miss: ``_fallbacks`` re-parses it with every format of the
    profile, so the fast path never decides a type-error by itself.
    """
    text = pl.concat_str([date, time], separator=" ")
    parsed = text.str.to_datetime(
        f"{date_format} {time_format}", strict=False, time_unit="us", cache=False
    )
    return pl.when(~_leap(time)).then(parsed)


def _spellings(table: Table, profile: Profile, col: str) -> dict[str, str]:
    """Exact spellings (as-is, upper, lower, title case) of the allowed values and aliases."""
    targets = {v: v for v in table.enums[col]} | _aliases(table, profile, col)
    out: dict[str, str] = {}
    for source, value in targets.items():
        for variant in (source, source.lower(), source.title(), source.capitalize()):
            out.setdefault(variant, value)
    return out


def _aliases(table: Table, profile: Profile, col: str) -> dict[str, str]:
    aliases = dict(profile.enum_aliases.get(col, {}))
    if table.name == "roster" and col == "mode":
        aliases = {**GRID_ALIASES, **aliases}
    return aliases


def _checks(
    table: Table, profile: Profile, combine: dict[str, Combine], numeric_nip: bool
) -> list[tuple[str, pl.Expr, pl.Expr]]:
    """(code, mask over the parsed frame, message over the rejected rows' raw cells)."""
    return [check[1:] for check in checks_by_column(table, profile, combine, numeric_nip)]


def checks_by_column(
    table: Table, profile: Profile, combine: dict[str, Combine], numeric_nip: bool
) -> list[tuple[str, str, pl.Expr, pl.Expr]]:
    """``_checks``, each led by the canonical column it judges (a pair: its first column)."""
    checks: list[tuple[str, str, pl.Expr, pl.Expr]] = []
    for col, dtype in table.columns.items():
        target = "p:" + col
        present = pl.col("present:" + col)
        if col in combine:
            raw_expr = pl.concat_str(
                [pl.col(col + ":date").fill_null(""), pl.col(col + ":time").fill_null("")],
                separator=" ",
            )
        else:
            raw_expr = pl.col(col)
        if col in table.required and (table.name, col) not in EMPTY_ALLOWED:
            what = "date or time of " if col in combine else ""
            checks.append(
                (col, "missing-value", ~present, pl.lit(f"required value {what}'{col}' is empty"))
            )
        if col == "nip":
            if numeric_nip:
                checks.append(
                    (
                        col,
                        "bad-nip",
                        present & pl.col(NIP_NUMERIC),
                        pl.format(
                            "NIP {} was a number in Excel, which keeps only 15 digits; format the "
                            "NIP column as Text and export again",
                            raw_expr,
                        ),
                    )
                )
            checks.append(
                (
                    col,
                    "bad-nip",
                    pl.col("retry:nip"),  # present and not 18 digits, after _fallbacks
                    pl.format("NIP '{}' is not exactly 18 digits", raw_expr),
                )
            )
        expected = _expected(col, dtype, profile, col in combine)
        if dtype == pl.String and col not in table.enums and col != "nip":
            checks.append(
                (
                    col,
                    "type-error",
                    present & pl.col(target).str.contains("\x00", literal=True).fill_null(False),
                    pl.lit(f"'{col}' holds a NUL byte (binary data), not text; check the export"),
                )
            )
        if expected is not None:
            unparsed = pl.col(target).is_null()
            if dtype == pl.Float64:
                unparsed = ~pl.col(target).is_finite().fill_null(False)
            elif dtype in (pl.Date, DATETIME):  # a year out of YEARS is not a date either
                unparsed = unparsed | ~pl.col(target).dt.year().is_between(*YEARS)
            checks.append(
                (
                    col,
                    "type-error",
                    present & unparsed,
                    pl.format(f"'{{}}' in '{col}' is not {expected}", raw_expr),
                )
            )
        if col in table.enums:
            allowed = table.enums[col]
            checks.append(
                (
                    col,
                    "bad-enum",
                    pl.col("retry:" + col),  # present and not allowed, after _fallbacks
                    pl.format(f"'{{}}' in '{col}' is not one of {', '.join(allowed)}", raw_expr),
                )
            )
    if table.name == "attendance":
        checks.append(
            (
                "device_id",
                "type-error",
                pl.col("p:device_id").str.contains(ODD_DEVICE_ID).fill_null(False),
                pl.format(
                    "'{}' in 'device_id' is not a device id (empty or control characters)",
                    pl.col("device_id"),
                ),
            )
        )
    for a, b in table.pairs:
        checks.append(
            (
                a,
                "missing-value",
                pl.col("present:" + a) != pl.col("present:" + b),
                pl.format(
                    f"'{a}' and '{b}' must be both filled or both empty ('{{}}', '{{}}')",
                    pl.col(a).fill_null(""),
                    pl.col(b).fill_null(""),
                ),
            )
        )
    for col, (low, high) in RANGES.items():
        if col not in table.columns:
            continue
        v = pl.col("p:" + col)
        bad = pl.lit(False)
        if low is not None:
            bad = bad | (v < low)
        if high is not None:
            bad = bad | (v > high)
        bound = f"between {low:g} and {high:g}" if high is not None else f">= {low:g}"
        checks.append(
            (
                col,
                "out-of-range",
                bad.fill_null(False),
                pl.format(f"{col} {{}} is out of range (must be {bound})", pl.col(col)),
            )
        )
    for first, last in ORDERED:
        if first in table.columns and last in table.columns:
            checks.append(
                (
                    last,
                    "out-of-range",
                    (pl.col("p:" + last) < pl.col("p:" + first)).fill_null(False),
                    pl.format(f"{last} {{}} is before {first} {{}}", pl.col(last), pl.col(first)),
                )
            )
    return checks


def _expected(col: str, dtype: pl.DataType, profile: Profile, combined: bool) -> str | None:
    def human(fmts: tuple[str, ...]) -> str:
        return " or ".join(
            f.replace("%Y", "YYYY")
            .replace("%m", "MM")
            .replace("%d", "DD")
            .replace("%H", "HH")
            .replace("%M", "MM")
            .replace("%S", "SS")
            .replace("%.f", "[.ffffff]")
            for f in fmts[:2]
        )

    if combined:
        return (
            f"a date and time; expected {human(profile.date_formats)} and "
            f"{human(profile.time_formats)}"
        )
    if dtype == pl.Date:
        return f"a date; expected {human(profile.date_formats)}"
    if dtype == DATETIME:
        return (
            f"a date and time; expected {human(profile.datetime_formats)}, optionally +07:00 or Z"
        )
    if dtype == pl.Float64:
        example = "-6.9022" if profile.decimal == "." else "-6,9022"
        return f"a number; expected e.g. {example}"
    return None


def _empty_rejects(grid: bool) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {ROW: pl.UInt32()}
    if grid:
        schema[HDR] = pl.String()
    schema.update({"error_code": pl.String(), "message": pl.String(), "action": pl.String()})
    return pl.DataFrame(schema=schema)


SHEET = "__sheet"


def duplicate_candidates(table: Table, valid: pl.DataFrame) -> pl.Series:
    """Rows whose key hash occurs twice: a superset of the duplicated keys, cheap to get."""
    if KEY_HASH in valid.columns:
        hashes = valid.get_column(KEY_HASH)
    else:
        hashes = valid.select(row_hash([pl.col(k) for k in table.key])).to_series()
    # sort and compare neighbours: 2-3x cheaper than a hash table over millions of rows;
    # NumPy's (SIMD) sort: 0.05 CPU-s for 5 M hashes against 0.19 for Polars' sort.
    # (row_hash gives UInt64 and never null: a null key value hashes too)
    ordered = np.sort(hashes.to_numpy())
    repeated = pl.Series(ordered[1:][ordered[1:] == ordered[:-1]])
    if repeated.len() == 0:
        return pl.repeat(False, hashes.len(), eager=True)
    return hashes.is_in(repeated.unique().implode())


def find_duplicates(
    table: Table, valid: pl.DataFrame, labels: list[str], dup_mask: pl.Series | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split off exact copies (duplicate-row, first kept) and key conflicts (all rejected).

    ``valid`` holds the rows of one file: SHEET (index into ``labels``, the row-label
    prefix of each sheet), ROW, HDR and the canonical columns, in file order.  Returns
    (kept rows, rejects with SHEET, ROW, HDR, error_code, message).
    """
    key = list(table.key)
    if dup_mask is None:
        dup_mask = duplicate_candidates(table, valid)
    sub = valid.filter(dup_mask) if dup_mask.any() else valid.clear()
    if sub.height:
        sub = sub.filter(sub.select(pl.struct(key).is_duplicated()).to_series())
    if sub.height == 0:
        return valid, valid.select(SHEET, ROW, HDR).clear().with_columns(
            pl.lit(None, pl.String).alias("error_code"),
            pl.lit(None, pl.String).alias("message"),
            pl.lit(None, pl.String).alias("action"),
        )
    values = list(table.value_columns)
    key_text = pl.concat_str(
        [
            pl.lit(f"{k}=")
            + (
                pl.col(k).dt.strftime("%Y-%m-%d %H:%M:%S")
                if table.columns[k] == DATETIME
                else pl.col(k).cast(pl.String)
            ).fill_null("")
            for k in key
        ],
        separator=", ",
    )
    label = (
        pl.col(SHEET).replace_strict(dict(enumerate(labels)), return_dtype=pl.String)
        + pl.col(ROW).cast(pl.String)
        + pl.when(pl.col(HDR).is_not_null())
        .then(pl.lit(" [") + pl.col(HDR) + pl.lit("]"))
        .otherwise(pl.lit(""))
    )
    sub = sub.with_columns(
        (pl.struct(values).n_unique().over(key) > 1).alias("__conflict"),
        pl.struct(key).is_first_distinct().alias("__first"),
        label.first().over(key).alias("__first_row"),
        pl.len().over(key).alias("__n"),
    )
    rejected = sub.filter(pl.col("__conflict") | ~pl.col("__first"))
    rejects = rejected.select(
        SHEET,
        ROW,
        HDR,
        pl.when(pl.col("__conflict"))
        .then(pl.lit("conflict"))
        .otherwise(pl.lit("duplicate-row"))
        .alias("error_code"),
        pl.when(pl.col("__conflict"))
        .then(
            pl.format(
                "{} rows of this file have the same key ({}) but different values; all are "
                "rejected, fix the file and ingest again",
                pl.col("__n"),
                key_text,
            )
        )
        .otherwise(
            pl.format("exact copy of row {} ({}); one copy kept", pl.col("__first_row"), key_text)
        )
        .alias("message"),
        pl.lit(ACTION_REJECTED).alias("action"),
    )
    kept = valid.join(
        rejected.select(SHEET, ROW, HDR),
        on=[SHEET, ROW, HDR],
        how="anti",
        nulls_equal=True,
        maintain_order="left",
    )
    return kept, rejects


def with_source(rejects: pl.DataFrame, result: SheetResult) -> pl.DataFrame:
    """source_row labels and the original cells (JSON) for reject rows of one sheet."""
    out_schema = {
        "source_row": pl.String(),
        "values": pl.String(),
        "error_code": pl.String(),
        "message": pl.String(),
        "action": pl.String(),
    }
    if rejects.height == 0:
        return pl.DataFrame(schema=out_schema)
    prefix = f"{result.sheet}!" if result.sheet is not None else ""
    frame = result.frame
    assert frame is not None, "core collects the source rows of rejects first"
    cells = [c for c in result.originals if c in frame.columns and c != ROW]
    if result.grid:
        on = [ROW, HDR]
        source = frame.select(ROW, HDR, *cells, "__cell")
        struct = [
            *[pl.col(c) for c in cells],
            pl.col(HDR).alias("column"),
            pl.col("__cell").alias("cell"),
        ]
    else:
        on = [ROW]
        source = frame.select(ROW, *cells)
        struct = [pl.col(c) for c in cells]
    wanted = rejects.get_column(ROW).unique().implode()
    joined = (
        rejects.select(*on, "error_code", "message", "action")
        .join(source.filter(pl.col(ROW).is_in(wanted)), on=on, how="left", maintain_order="left")
        .sort(ROW, maintain_order=True)
    )
    label = pl.lit(prefix) + pl.col(ROW).cast(pl.String)
    if result.grid:
        label = label + pl.lit(" [") + pl.col(HDR) + pl.lit("]")
    return joined.select(
        label.alias("source_row"),
        pl.struct(struct).struct.json_encode().alias("values"),
        "error_code",
        "message",
        "action",
    )
