"""Read CSV, .xlsx and Parquet files into all-string frames.

Every cell is read as a string first, so a garbage cell becomes a rejected row
during validation instead of a crash here.  Each frame carries the source row
number in the column ``ROW`` (CSV: line number, header = 1; xlsx: sheet row;
Parquet: 1-based data row).
"""

from __future__ import annotations

import codecs
import errno
import functools
import io
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from wfhaudit.errors import DataError, UsageError
from wfhaudit.schema import TIMEZONE

ROW = "__row"
#: True where the NIP cell of an .xlsx sheet was a number (Excel keeps 15 digits only).
NIP_NUMERIC = "__nip_numeric"

FORMATS = ("csv", "xlsx", "parquet")
_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass
class RawSheet:
    """One table read from a file: string columns with the source headers plus ``ROW``.

    An .xlsx sheet is read eagerly (``frame``, blank rows already dropped); a CSV or
    Parquet file is a lazy scan (``lazy``, every row incl. blank lines): validation
    selects the parsed columns straight from the scan, so a multi-million-row file
    never sits in memory as raw strings, and the unmapped columns (e.g. K-Mob's
    'Nama') are not even parsed unless a row needs them (``blank_rows``).
    """

    frame: pl.DataFrame | None
    sheet: str | None = None  # sheet name of an .xlsx workbook
    lazy: pl.LazyFrame | None = None
    columns: list[str] = field(default_factory=list)
    on_error: Callable[[Exception], DataError] | None = None

    @property
    def headers(self) -> list[str]:
        names = self.frame.columns if self.frame is not None else self.columns
        return [c for c in names if c not in (ROW, NIP_NUMERIC)]

    def scan(self) -> pl.LazyFrame:
        """The rows that are not blank (some cell filled), every column."""
        if self.frame is not None:
            return self.frame.lazy()
        assert self.lazy is not None
        return self.lazy.filter(_non_empty(self.headers))

    def scan_all(self) -> pl.LazyFrame:
        """Every row, blank ones included: select only the columns you need.

        Filtering the blank rows out in the scan (``scan``) makes the reader parse every
        column of every row; a caller that reads a few columns drops them itself
        (``blank_rows``).
        """
        if self.frame is not None:
            return self.frame.lazy()
        assert self.lazy is not None
        return self.lazy

    def blank_rows(self, rows: pl.Series) -> pl.Series:
        """The ``ROW`` numbers among ``rows`` whose cells are all empty (null).

        Reads every column, but keeps only the rows asked about.
        """
        candidates = self.scan_all().filter(pl.col(ROW).is_in(rows.implode()))
        if self.headers:
            candidates = candidates.filter(~_non_empty(self.headers))
        return self.collect(candidates.select(ROW)).get_column(ROW)

    def collect(self, query: pl.LazyFrame) -> pl.DataFrame:
        """Run ``query``; a read error becomes one DataError sentence."""
        try:
            # measured on a 2M-row K-Mob file: the in-memory engine over the scan peaks at
            # 0.65 GB, the streaming engine at 1.07 GB, read_csv + select at 1.2 GB
            return query.collect(engine="in-memory")
        except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, OSError) as exc:
            if self.on_error is None:
                raise
            raise self.on_error(exc) from None

    def materialize(self) -> pl.DataFrame:
        if self.frame is None:
            self.frame = self.collect(self.scan())
        return self.frame

    def label(self, row: int) -> str:
        return f"{self.sheet}!{row}" if self.sheet is not None else str(row)


def file_format(path: Path, fmt: str | None) -> str:
    """``csv``, ``xlsx`` or ``parquet``: ``fmt`` if given, else from the extension."""
    if fmt is not None:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise UsageError(f"unknown --format '{fmt}'; use one of {', '.join(FORMATS)}.")
        return fmt
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise DataError(
            f"cannot read {path}: '{path.suffix or '(no extension)'}' is not a CSV, .xlsx or "
            "Parquet file; convert it, or pass --format if the name is misleading."
        )
    return found


def read_file(path: Path, fmt: str, delimiter: str, nip_headers: set[str]) -> list[RawSheet]:
    """Read ``path`` as strings.  ``nip_headers`` (lower case) name the NIP column, if any."""
    _check_regular_file(path)
    if fmt == "csv":
        return [_read_csv(path, delimiter)]
    if fmt == "xlsx":
        return _read_xlsx(path, nip_headers)
    return [_read_parquet(path)]


def _check_regular_file(path: Path) -> None:
    """Refuse, in one sentence, anything that is not a readable regular file with data."""
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DataError(
                f"cannot read {path}: it is a symbolic link that loops back on itself; "
                "name the real file."
            ) from None
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise DataError(f"cannot read {path}: the file does not exist.") from None
        raise DataError(f"cannot read {path}: {exc.strerror or exc}.") from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"cannot read {path}: it is a directory; name the files in it.")
    if not stat.S_ISREG(info.st_mode):
        what = (
            "a named pipe (FIFO)"
            if stat.S_ISFIFO(info.st_mode)
            else "a device"
            if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else "a socket"
            if stat.S_ISSOCK(info.st_mode)
            else "not a regular file"
        )
        raise DataError(
            f"cannot read {path}: it is {what}, not a regular file; save the data to a "
            "file and ingest that."
        )
    try:
        with path.open("rb") as fh:
            first = fh.read(1)
    except OSError as exc:
        reason = "permission denied" if exc.errno in (errno.EACCES, errno.EPERM) else None
        raise DataError(
            f"cannot read {path}: {reason or exc.strerror or exc}; check that this user may "
            "read it."
        ) from None
    if info.st_size == 0:
        if first:  # /proc and similar: a size of 0 but content
            raise DataError(
                f"cannot read {path}: it is a special file whose size is not known (e.g. "
                "under /proc); copy it to a regular file and ingest that."
            )
        raise DataError(f"cannot read {path}: the file is empty.")


def _drop_empty_rows(df: pl.DataFrame) -> pl.DataFrame:
    cols = [c for c in df.columns if c not in (ROW, NIP_NUMERIC)]
    if not cols:
        return df.clear()
    keep = df.select(_non_empty(cols)).to_series()
    return df if keep.all() else df.filter(keep)


def _sniff_text(path: Path) -> bool:
    """Refuse what is not UTF-8 text; True when the lines end in CR only (old Mac, Excel)."""
    with path.open("rb") as fh:
        head = fh.read(65536)
    if not head.strip():
        raise DataError(f"cannot read {path}: the file is empty.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
        raise DataError(
            f"cannot read {path}: it is UTF-16 or binary, not UTF-8 text; save it as "
            "'CSV UTF-8' and ingest again."
        )
    if head.startswith(b"PK\x03\x04"):
        raise DataError(
            f"cannot read {path} as CSV: it is an Excel (zip) file; name it .xlsx or pass "
            "--format xlsx."
        )
    if head.startswith(b"PAR1"):
        raise DataError(
            f"cannot read {path} as CSV: it is a Parquet file; name it .parquet or pass "
            "--format parquet."
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise _encoding_error(path, exc.start) from None
    bare_cr = head.count(b"\r") - head.count(b"\r\n")
    return bare_cr > 0 and bare_cr >= head.count(b"\n")


def _cr_to_lf(path: Path) -> io.BytesIO:
    """The file with its CR-only line ends as LF (Polars splits lines on LF only)."""
    data = path.read_bytes()
    if b"\n" in data:  # CR and LF line ends mixed: refuse rather than guess
        raise DataError(
            f"cannot read {path}: some of its lines end in CR only (old Mac style) and others "
            "in LF; save it again as 'CSV UTF-8' and ingest again."
        )
    return io.BytesIO(data.replace(b"\r", b"\n"))


def _unclosed_quote_line(path: Path) -> int | None:
    """Line number (1-based) where a quote opens that is never closed, if any."""
    line, opened_at, quoted = 1, 0, False
    with path.open("rb") as fh:
        for chunk in iter(functools.partial(fh.read, 1 << 20), b""):
            if not quoted and b'"' not in chunk:
                line += chunk.count(b"\n")
                continue
            for byte in chunk:
                if byte == 0x22:  # '"' toggles; an escaped "" toggles twice
                    quoted = not quoted
                    if quoted:
                        opened_at = line
                elif byte == 0x0A:
                    line += 1
    return opened_at if quoted else None


def _encoding_error(path: Path, position: int | None = None) -> DataError:
    where = f" (byte {position})" if position is not None else ""
    return DataError(
        f"cannot read {path}: it is not UTF-8 text{where}, probably latin-1/Windows-1252; "
        "save it as 'CSV UTF-8' and ingest again."
    )


def _csv_error(path: Path, delimiter: str, exc: Exception) -> DataError:
    text = str(exc)
    if isinstance(exc, pl.exceptions.NoDataError):
        return DataError(f"cannot read {path}: the file is empty.")
    if "utf-8" in text.lower() or "utf8" in text.lower():
        return _encoding_error(path)
    if "not properly escaped" in text or ("expected" in text and "rows" in text):
        opened = _unclosed_quote_line(path)
        if opened is not None:
            return DataError(
                f"cannot read {path}: the quote opened on line {opened} is never closed; "
                "close it (a quote inside a value is written twice: \"\") and ingest again."
            )
    if "more fields" in text:
        return DataError(
            f"cannot read {path}: a line has more fields than the header (separator "
            f"'{delimiter}'); check the quoting, or give the separator with --delimiter "
            "(or pick another --profile)."
        )
    first = text.splitlines()[0] if text else type(exc).__name__
    return DataError(f"cannot read {path} as CSV: {first}.")


def _non_empty(names: list[str]) -> pl.Expr:
    """Some cell holds more than spaces (a line of only ``""`` or spaces is blank)."""
    return pl.any_horizontal(
        [
            pl.col(c).is_not_null() & (pl.col(c).cast(pl.String).str.strip_chars() != "")
            for c in names
        ]
    )


def _unique_names(names: list[str]) -> list[str]:
    """Headers stripped of spaces; a repeat gets ' (2)', ' (3)' like an .xlsx header."""
    out: list[str] = []
    for name in names:
        base = name.strip()
        title, n = base, 1
        while title in out:
            n += 1
            title = f"{base} ({n})"
        out.append(title)
    return out


def _read_csv(path: Path, delimiter: str) -> RawSheet:
    cr_only = _sniff_text(path)
    on_error = functools.partial(_csv_error, path, delimiter)
    source: Path | io.BytesIO = _cr_to_lf(path) if cr_only else path
    try:
        lazy = pl.scan_csv(
            source,
            infer_schema=False,
            separator=delimiter,
            row_index_name=ROW,
            row_index_offset=2,
            glob=False,  # a name like 'pegawai[revisi].csv' is a file name, not a pattern
        )
        names = lazy.collect_schema().names()
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, OSError) as exc:
        raise on_error(exc) from None
    headers = [c for c in names if c != ROW]
    renames = dict(zip(headers, _unique_names(headers), strict=True))
    columns = [ROW, *renames.values()]
    # blank lines are dropped by RawSheet.scan or by the caller (blank_rows)
    lazy = lazy.rename(renames)
    return RawSheet(None, lazy=lazy, columns=columns, on_error=on_error)


def _excel_error(path: Path, exc: Exception) -> DataError:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return DataError(f"cannot read {path} as an Excel workbook ({first}); is it a real .xlsx?")


def _read_xlsx(path: Path, nip_headers: set[str]) -> list[RawSheet]:
    import fastexcel

    try:
        reader = fastexcel.read_excel(path)
        names = list(reader.sheet_names)
    except Exception as exc:  # noqa: BLE001 - calamine raises its own error types
        raise _excel_error(path, exc) from None
    sheets: list[RawSheet] = []
    for name in names:
        try:
            df = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string").to_polars()
        except Exception as exc:  # noqa: BLE001
            raise _excel_error(path, exc) from None
        if df.height == 0 or df.width == 0:
            continue
        loaded = list(df.columns)
        df = df.with_row_index(ROW, offset=1)
        nonempty = df.select(
            pl.any_horizontal([pl.col(c).is_not_null() for c in loaded])
        ).to_series()
        if not nonempty.any():
            continue
        header_at = int(nonempty.arg_true()[0])
        header_cells = df.row(header_at)[1:]
        headers = _unique_names(
            [
                str(cell) if cell is not None and str(cell).strip() else f"column {i + 1}"
                for i, cell in enumerate(header_cells)
            ]
        )
        data = df.slice(header_at + 1).rename(dict(zip(loaded, headers, strict=True)))
        for i, header in enumerate(headers):
            if header.lower() in nip_headers:
                try:
                    flags = (
                        reader.load_sheet(
                            name,
                            header_row=None,
                            skip_rows=0,
                            use_columns=[loaded[i]],
                            dtypes={loaded[i]: "boolean"},
                        )
                        .to_polars()
                        .to_series()
                        .slice(header_at + 1)
                        .is_not_null()
                    )
                except Exception:  # noqa: BLE001 - the flag is a safety net, not essential
                    break
                data = data.with_columns(flags.alias(NIP_NUMERIC))
                break
        unnamed_empty = [
            h
            for h in headers
            if h.startswith("column ") and data.get_column(h).null_count() == data.height
        ]
        data = data.drop(unnamed_empty)
        sheets.append(RawSheet(_drop_empty_rows(data), sheet=name))
    if not sheets:
        raise DataError(f"cannot read {path}: the workbook has no data.")
    return sheets


def _read_parquet(path: Path) -> RawSheet:
    def on_error(exc: Exception) -> DataError:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return DataError(f"cannot read {path} as Parquet ({first}).")

    try:
        lazy = pl.scan_parquet(path, glob=False)
        schema = lazy.collect_schema()
    except Exception as exc:  # noqa: BLE001 - any parquet decoding failure
        raise on_error(exc) from None
    names = _unique_names(schema.names())
    exprs: list[pl.Expr] = []
    for (name, dtype), title in zip(schema.items(), names, strict=True):
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            if dtype.time_zone is not None:
                col = col.dt.convert_time_zone(TIMEZONE).dt.replace_time_zone(None)
            exprs.append(col.dt.strftime("%Y-%m-%d %H:%M:%S%.f").alias(title))
        elif dtype == pl.Binary:
            # an extra binary column is ignored like any extra column; a binary column
            # holding text is read as text (a cell that is not UTF-8 becomes empty)
            exprs.append(col.map_batches(_binary_text, return_dtype=pl.String).alias(title))
        elif dtype.is_nested():
            raise DataError(
                f"cannot read {path}: column '{name}' holds {dtype} values; only flat columns "
                "are supported."
            )
        else:
            exprs.append(col.cast(pl.String).alias(title))
    lazy = lazy.select(exprs).with_row_index(ROW, offset=1)  # blank rows: see RawSheet.scan
    return RawSheet(None, lazy=lazy, columns=[ROW, *names], on_error=on_error)


def _binary_text(values: pl.Series) -> pl.Series:
    def text(value: bytes | None) -> str | None:
        if value is None:
            return None
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None

    return pl.Series(values.name, [text(v) for v in values.to_list()], dtype=pl.String)
