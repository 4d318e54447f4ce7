"""The days each employee has data on, per data file of the store: what the agencies'
spans (``spans.unit_spans``) are drawn from, without reading every row of the store.

An agency's attendance (output) span runs over the **whole store** (``rules.md``),
so computing it from the rows means a group-by over every check-in the store has
ever held, on every audit: 46 CPU-seconds and 2.9 GB per month at 4 million
employees (issue 16).  But a data file of a Delta table never changes: a write
adds new files (named by a fresh UUID) and removes old ones.  So per data file
the set of days each NIP has rows on is computed once and kept beside the store,
in ``derived/file_days/<kind>/<key>.parquet`` (``key``: a hash of the file's path
and size); an audit reads the small files of the data files of its pinned
version, and computes only those of files written since (a daily ingest: one
day's file).  Rows: ``nip``, ``month`` (``yyyymm``), ``days`` (bit ``d - 1`` set
when the NIP has a row on day ``d`` of that month).

A store that cannot be written is still audited (the masks are computed in
memory and not kept).  A damaged or unreadable mask file is recomputed.  The
files are removed by nothing yet: they are small (a few bytes per NIP and month)
and a mask whose data file was vacuumed is never read again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import tempfile
from pathlib import Path
from urllib.parse import unquote

import polars as pl

from wfhaudit.store import Store

#: Where the masks live in the store.
MASK_DIR = Path("derived") / "file_days"
#: Version of the mask files' content; a change makes every mask be recomputed.
MASK_VERSION = "1"
MASK_SCHEMA = pl.Schema({"nip": pl.String(), "month": pl.Int32(), "days": pl.Int64()})
#: The date column of each day-keyed table.
DATE_OF = {"attendance": pl.col("ts").dt.date(), "outputs": pl.col("date")}


def _key(path: str, size: int) -> str:
    return hashlib.sha1(f"{MASK_VERSION}\0{path}\0{size}".encode()).hexdigest()[:32]


def masks_of_rows(rows: pl.LazyFrame) -> pl.LazyFrame:
    """``(nip, month, days)`` of rows with ``nip`` and ``date``."""
    date = pl.col("date")
    month = (date.dt.year() * 100 + date.dt.month()).cast(pl.Int32).alias("month")
    bit = pl.lit(2, pl.Int64).pow(date.dt.day().cast(pl.Int64) - 1)
    return rows.select("nip", date).unique().group_by("nip", month).agg(bit.sum().alias("days"))


def _compute(store: Store, kind: str, path: str) -> pl.DataFrame:
    rows = store.scan_files(kind, [str(store.table_path(kind) / unquote(path))]).select(
        "nip", DATE_OF[kind].alias("date")
    )
    return masks_of_rows(rows).collect(engine="streaming").cast(MASK_SCHEMA)


def _write(target: Path, frame: pl.DataFrame) -> None:
    """Write ``frame`` to ``target`` atomically (a hidden temporary file renamed); a store
    that cannot be written keeps nothing (the audit goes on)."""
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=target.parent)
        os.close(fd)
        try:
            frame.write_parquet(tmp)
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def day_masks(store: Store, kind: str, version: int | None) -> pl.DataFrame:
    """``(nip, month, days)`` of every row of ``kind`` at ``version`` (one row per data
    file, NIP and month: a NIP may appear once per file)."""
    if version is None:
        return MASK_SCHEMA.to_frame()
    actions = store.add_actions(kind, version)
    if actions is None:  # e.g. deletion vectors: read the rows
        dates = store.scan(kind, version=version).select("nip", DATE_OF[kind].alias("date"))
        return masks_of_rows(dates).collect(engine="streaming").cast(MASK_SCHEMA)
    if not actions.height:
        return MASK_SCHEMA.to_frame()
    folder = store.path / MASK_DIR / kind
    parts = []
    for path, size in actions.select("path", "size_bytes").iter_rows():
        target = folder / f"{_key(path, int(size))}.parquet"
        frame = None
        if target.exists():
            try:
                frame = pl.read_parquet(target, glob=False)
                if frame.schema != MASK_SCHEMA:
                    frame = None
            except (OSError, pl.exceptions.PolarsError):
                frame = None  # damaged: computed again below
        if frame is None:
            frame = _compute(store, kind, path)
            _write(target, frame)
        parts.append(frame)
    return pl.concat(parts)


def mask_dates(masks: pl.DataFrame) -> pl.DataFrame:
    """The ``(nip, date)`` rows a mask frame stands for (for the few employees whose
    history needs every date)."""
    if not masks.height:
        return pl.DataFrame(schema={"nip": pl.String(), "date": pl.Date()})
    days = pl.DataFrame({"day": list(range(1, 32))}, schema={"day": pl.Int64()})
    return (
        masks.join(days, how="cross")
        .filter((pl.col("days") // (pl.lit(2, pl.Int64).pow(pl.col("day") - 1))) % 2 == 1)
        .select(
            "nip",
            pl.date(pl.col("month") // 100, pl.col("month") % 100, pl.col("day")).alias("date"),
        )
        .unique()
    )


def first_last(masks: pl.DataFrame) -> pl.DataFrame:
    """Per nip: the first and the last date of its masks."""
    low = pl.col("days").bitwise_trailing_zeros().cast(pl.Int32) + 1
    high = 64 - pl.col("days").bitwise_leading_zeros().cast(pl.Int32)
    # a day as one integer (month * 32 + day, in date order): the dates are made once
    # per nip, not once per mask row (at 4 million employees 1.7 against 3.4 s for the
    # 20 million mask rows of four months)
    first, last = pl.col("first"), pl.col("last")
    return (
        masks.lazy()
        .filter(pl.col("days") != 0)
        .group_by("nip")
        .agg((pl.col("month") * 32 + low).min().alias("first"),
             (pl.col("month") * 32 + high).max().alias("last"))
        .with_columns(
            pl.date(first // 32 // 100, first // 32 % 100, first % 32).alias("first"),
            pl.date(last // 32 // 100, last // 32 % 100, last % 32).alias("last"),
        )
        .collect()
    )


def held_dates(masks: pl.DataFrame) -> list[dt.date]:
    """Every date on which some NIP of ``masks`` has a row."""
    if not masks.height:
        return []
    per_month = masks.group_by("month").agg(pl.col("days").bitwise_or())
    out = []
    for month, days in per_month.sort("month").iter_rows():
        for day in range(1, 32):
            if days >> (day - 1) & 1:
                out.append(dt.date(month // 100, month % 100, day))
    return out
