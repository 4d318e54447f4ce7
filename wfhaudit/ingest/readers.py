"""Read CSV, .xlsx and Parquet files into all-string frames.

Every cell is read as a string first, so a garbage cell becomes a rejected row
during validation instead of a crash here.  Each frame carries the source row
number in the column ``ROW`` (CSV: line number, header = 1; xlsx: sheet row;
Parquet: 1-based data row).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
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
    """One table read from a file: string columns with the source headers plus ``ROW``."""

    frame: pl.DataFrame
    sheet: str | None = None  # sheet name of an .xlsx workbook

    @property
    def headers(self) -> list[str]:
        return [c for c in self.frame.columns if c not in (ROW, NIP_NUMERIC)]

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
    if not path.is_file():
        raise DataError(f"cannot read {path}: the file does not exist.")
    if path.stat().st_size == 0:
        raise DataError(f"cannot read {path}: the file is empty.")
    if fmt == "csv":
        return [_read_csv(path, delimiter)]
    if fmt == "xlsx":
        return _read_xlsx(path, nip_headers)
    return [_read_parquet(path)]


def _drop_empty_rows(df: pl.DataFrame) -> pl.DataFrame:
    cols = [c for c in df.columns if c not in (ROW, NIP_NUMERIC)]
    if not cols:
        return df.clear()
    keep = df.select(pl.any_horizontal([pl.col(c).is_not_null() for c in cols])).to_series()
    return df if keep.all() else df.filter(keep)


def _sniff_text(path: Path) -> None:
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


def _encoding_error(path: Path, position: int | None = None) -> DataError:
    where = f" (byte {position})" if position is not None else ""
    return DataError(
        f"cannot read {path}: it is not UTF-8 text{where}, probably latin-1/Windows-1252; "
        "save it as 'CSV UTF-8' and ingest again."
    )


def _read_csv(path: Path, delimiter: str) -> RawSheet:
    _sniff_text(path)
    try:
        df = pl.read_csv(
            path,
            infer_schema=False,
            separator=delimiter,
            row_index_name=ROW,
            row_index_offset=2,
        )
    except pl.exceptions.NoDataError:
        raise DataError(f"cannot read {path}: the file is empty.") from None
    except pl.exceptions.ComputeError as exc:
        text = str(exc)
        if "utf-8" in text.lower():
            raise _encoding_error(path) from None
        if "more fields" in text:
            raise DataError(
                f"cannot read {path}: a line has more fields than the header (separator "
                f"'{delimiter}'); check the separator and quoting, or pick another --profile."
            ) from None
        raise DataError(f"cannot read {path} as CSV: {text.splitlines()[0]}.") from None
    df = df.rename({c: c.strip() for c in df.columns if c != ROW})
    return RawSheet(_drop_empty_rows(df))


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
        headers: list[str] = []
        for i, cell in enumerate(header_cells):
            base = (
                str(cell).strip() if cell is not None and str(cell).strip() else f"column {i + 1}"
            )
            title, n = base, 1
            while title in headers:
                n += 1
                title = f"{base} ({n})"
            headers.append(title)
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
    try:
        df = pl.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any parquet decoding failure
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"cannot read {path} as Parquet ({first}).") from None
    exprs: list[pl.Expr] = []
    for name, dtype in df.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            if dtype.time_zone is not None:
                col = col.dt.convert_time_zone(TIMEZONE).dt.replace_time_zone(None)
            exprs.append(col.dt.strftime("%Y-%m-%d %H:%M:%S%.f").alias(name))
        elif dtype.is_nested():
            raise DataError(
                f"cannot read {path}: column '{name}' holds {dtype} values; only flat columns "
                "are supported."
            )
        else:
            exprs.append(col.cast(pl.String).alias(name))
    out = df.select(exprs).rename({c: c.strip() for c in df.columns}).with_row_index(ROW, offset=1)
    return RawSheet(_drop_empty_rows(out))
