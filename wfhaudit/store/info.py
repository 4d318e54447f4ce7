"""``wfhaudit store info``: what the store holds, as a Rich table or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.table import Table as RichTable
from rich.text import Text

from wfhaudit.audit.ytd_cache import cache_info, month_bounds
from wfhaudit.errors import DataError
from wfhaudit.schema import REJECTS
from wfhaudit.store.delta import Store, TableInfo


def load_info(path: Path) -> list[TableInfo]:
    """The store's ``info()``; ``DataError`` (exit 3) when there is no store at ``path``."""
    store = Store(path)
    infos = store.info() if path.is_dir() else []
    if not any(i.version is not None for i in infos):
        raise DataError(
            f"there is no store at {path}: ingest data first, e.g. "
            f"'wfhaudit ingest employees pegawai.csv --store {path}'."
        )
    return infos


def periods(info: TableInfo) -> str:
    """The months a table covers, e.g. ``2025-11, 2025-12`` or ``2025-01 … 2025-12 (12)``."""
    if not info.months:
        return "-"
    if len(info.months) <= 3:
        return ", ".join(info.months)
    return f"{info.months[0]} … {info.months[-1]} ({len(info.months)} months)"


def as_dict(path: Path, infos: list[TableInfo]) -> dict[str, Any]:
    """JSON-ready summary: every table, plus the number of rejected rows."""
    tables = [
        {
            "table": i.kind,
            "rows": i.rows,
            "first_date": i.first_date.isoformat() if i.first_date else None,
            "last_date": i.last_date.isoformat() if i.last_date else None,
            "months": list(i.months),
            "version": i.version,
            "files": i.files,
            "old_layout_files": i.old_layout_files,
        }
        for i in infos
    ]
    rejects = next((i.rows for i in infos if i.kind == REJECTS.name), 0)
    return {"store": str(path), "tables": tables, "rejects": rejects, "derived": derived(path)}


def derived(path: Path) -> list[dict[str, Any]]:
    """The store's derived tables (never ingested: audits write them): the year-to-date
    cache with its version, months, rows and files (``wfhaudit.audit.ytd_cache``)."""
    found = cache_info(Store(path))
    return [found] if found is not None else []


def as_json(path: Path, infos: list[TableInfo]) -> str:
    return json.dumps(as_dict(path, infos), indent=2)


def as_rich(path: Path, infos: list[TableInfo]) -> RichTable:
    out = RichTable(title=Text(f"Store {path}"), title_justify="left")  # a path is not markup
    out.add_column("table")
    out.add_column("rows", justify="right")
    out.add_column("first date")
    out.add_column("last date")
    out.add_column("months")
    out.add_column("version", justify="right")
    for i in infos:
        missing = i.version is None
        rejects = i.kind == REJECTS.name
        out.add_row(
            i.kind,
            "0" if missing and rejects else "-" if missing else f"{i.rows:,}",
            i.first_date.isoformat() if i.first_date else "-",
            i.last_date.isoformat() if i.last_date else "-",
            periods(i),
            "-" if missing and rejects else "not ingested" if missing else str(i.version),
            style="dim" if missing else None,
        )
    for table in derived(path):  # the year-to-date cache, after the input tables
        months = tuple(table["months"])
        out.add_row(
            "ytd_facts*",
            f"{table['rows']:,}",
            month_bounds(months[0])[0].isoformat() if months else "-",
            month_bounds(months[-1])[1].isoformat() if months else "-",
            periods(TableInfo(table["table"], 0, None, None, None, months)),
            str(table["version"]),
        )
        out.caption = Text(
            f"* derived: the year-to-date cache audits write ({table['table']}), per month "
            "and employee; never ingested (docs/store.md)."
        )
        out.caption_justify = "left"
    return out


def layout_hint(infos: list[TableInfo]) -> str | None:
    """A sentence for the user when some data files are in an older layout, else None."""
    old = sum(i.old_layout_files for i in infos)
    if not old:
        return None
    return (
        f"{old:,} data file(s) are in the layout of an older wfhaudit: run "
        "'wfhaudit store migrate' once, so that audits in chunks read one day at a time."
    )
