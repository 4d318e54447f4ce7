"""Employees history at ingest: ``--valid-from`` and ``--full-snapshot`` (data.md).

An employees row describes the employee from its ``valid_from`` on (empty: since
always); the key is ``(nip, valid_from)``.  A SIMPEG snapshot taken on a date is
ingested with ``--valid-from DATE``; with ``--full-snapshot`` it is the whole staff
list of that date, so an employee in force in the store but absent from it gets a
row from that date with ``active_to`` the day before (a leaver, no longer audited).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from wfhaudit.errors import UsageError
from wfhaudit.hashing import row_hash
from wfhaudit.ingest.validate import KEY_HASH
from wfhaudit.schema import EMPLOYEES
from wfhaudit.store import Store


def parse_valid_from(text: str) -> dt.date:
    """``--valid-from YYYY-MM-DD`` as a date; exit 2 when it is not one."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"bad --valid-from {text!r}: write the date the file describes as YYYY-MM-DD, "
            "e.g. --valid-from 2025-12-08."
        ) from None


def fill_valid_from(valid: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Rows of one file (validated) with an empty ``valid_from`` set to ``day``."""
    return valid.with_columns(pl.col("valid_from").fill_null(day)).with_columns(
        row_hash([pl.col(k) for k in EMPLOYEES.key]).alias(KEY_HASH)
    )


def snapshot_date(rows: pl.DataFrame, valid_from: dt.date | None) -> dt.date:
    """The date a ``--full-snapshot`` describes: ``--valid-from``, else the file's one date."""
    if valid_from is not None:
        return valid_from
    days = rows.get_column("valid_from").unique().to_list()
    if len(days) == 1 and days[0] is not None:
        return days[0]  # type: ignore[no-any-return]
    raise UsageError(
        "--full-snapshot needs the date the snapshot describes: pass --valid-from YYYY-MM-DD "
        "(the file's valid_from cells are empty or not all the same)."
    )


def in_force(employees: pl.LazyFrame, day: dt.date) -> pl.LazyFrame:
    """Each employee's row in force on ``day``: the latest ``valid_from`` not after it
    (an empty ``valid_from`` is the earliest)."""
    return (
        employees.filter(pl.col("valid_from").is_null() | (pl.col("valid_from") <= day))
        .sort("nip", "valid_from", nulls_last=False)
        .group_by("nip", maintain_order=True)
        .last()
    )


def leavers(store: Store, rows: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Rows ending the employees in force and active on ``day`` whose NIP is not in ``rows``.

    Each is the row in force with ``valid_from = day`` and ``active_to = day - 1``.
    """
    if not store.exists(EMPLOYEES.name):
        return EMPLOYEES.empty()
    listed = rows.get_column("nip").unique().implode()
    return (
        in_force(store.scan(EMPLOYEES.name), day)
        .filter(pl.col("active_to").is_null() | (pl.col("active_to") >= day))
        .filter(~pl.col("nip").is_in(listed))
        .with_columns(
            pl.lit(day).alias("valid_from"),
            pl.lit(day - dt.timedelta(days=1)).alias("active_to"),
        )
        .select(list(EMPLOYEES.columns))
        .sort("nip")
        .collect()
    )
