"""Delta-table implementation of the store (see ``wfhaudit.store``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from deltalake import DeltaTable

from wfhaudit.errors import DataError
from wfhaudit.schema import PARTITION_COLUMN, REJECTS, TABLES, Table


@dataclass(frozen=True)
class WriteResult:
    inserted: int
    replaced: int
    unchanged: int
    version: int | None


@dataclass(frozen=True)
class TableInfo:
    kind: str
    rows: int
    first_date: dt.date | None
    last_date: dt.date | None
    version: int | None


def _table(kind: str) -> Table:
    if kind == REJECTS.name:
        return REJECTS
    return TABLES[kind]


class Store:
    """A directory of Delta tables, one per input kind."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def table_path(self, kind: str) -> Path:
        return self.path / kind

    def exists(self, kind: str) -> bool:
        return (self.table_path(kind) / "_delta_log").is_dir()

    def version(self, kind: str) -> int | None:
        if not self.exists(kind):
            return None
        return DeltaTable(str(self.table_path(kind))).version()

    def scan(
        self, kind: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> pl.LazyFrame:
        table = _table(kind)
        if not self.exists(kind):
            raise DataError(
                f"the store {self.path} has no {kind} table; ingest one first with "
                f"'wfhaudit ingest {kind} FILE'."
            )
        lf = pl.scan_delta(str(self.table_path(kind)))
        if table.partition_source is not None:
            if start is not None:
                lf = lf.filter(pl.col(PARTITION_COLUMN) >= start.strftime("%Y-%m"))
            if end is not None:
                lf = lf.filter(pl.col(PARTITION_COLUMN) <= end.strftime("%Y-%m"))
        return lf.select(list(table.columns))

    def write(self, kind: str, df: pl.DataFrame) -> WriteResult:
        table = _table(kind)
        df = df.select([pl.col(c).cast(t) for c, t in table.columns.items()])
        part = table.partition_expr()
        if part is not None:
            df = df.with_columns(part)
        path = str(self.table_path(kind))
        if df.height == 0:
            return WriteResult(0, 0, 0, self.version(kind))
        if not self.exists(kind):
            self.path.mkdir(parents=True, exist_ok=True)
            options = {}
            if table.partition_source is not None:
                options["partition_by"] = [PARTITION_COLUMN]
            df.write_delta(path, mode="error", delta_write_options=options or None)
            return WriteResult(df.height, 0, 0, self.version(kind))
        on = " AND ".join(f"s.`{k}` = t.`{k}`" for k in table.key)
        if part is not None:
            months = df.get_column(PARTITION_COLUMN).unique().sort().to_list()
            in_list = ", ".join(f"'{m}'" for m in months)
            on = f"t.`{PARTITION_COLUMN}` IN ({in_list}) AND " + on
        differ = " OR ".join(f"(s.`{c}` IS DISTINCT FROM t.`{c}`)" for c in table.value_columns)
        merger = df.write_delta(
            path,
            mode="merge",
            delta_merge_options={"predicate": on, "source_alias": "s", "target_alias": "t"},
        )
        if differ:
            merger = merger.when_matched_update_all(predicate=differ)
        metrics = merger.when_not_matched_insert_all().execute()
        inserted = int(metrics.get("num_target_rows_inserted", 0))
        replaced = int(metrics.get("num_target_rows_updated", 0))
        return WriteResult(inserted, replaced, df.height - inserted - replaced, self.version(kind))

    def append_rejects(self, df: pl.DataFrame) -> None:
        if df.height:
            path = str(self.table_path(REJECTS.name))
            self.path.mkdir(parents=True, exist_ok=True)
            df.select(list(REJECTS.columns)).write_delta(path, mode="append")

    def info(self) -> list[TableInfo]:
        out: list[TableInfo] = []
        for kind, table in TABLES.items():
            if not self.exists(kind):
                out.append(TableInfo(kind, 0, None, None, None))
                continue
            lf = self.scan(kind)
            date_col = {"attendance": "ts", "leave": "start"}.get(kind, "date")
            if date_col in table.columns:
                stats = lf.select(
                    pl.len().alias("rows"),
                    pl.col(date_col).min().cast(pl.Date).alias("lo"),
                    pl.col(date_col).max().cast(pl.Date).alias("hi"),
                ).collect()
                lo, hi = stats["lo"][0], stats["hi"][0]
            else:
                stats = lf.select(pl.len().alias("rows")).collect()
                lo = hi = None
            out.append(TableInfo(kind, int(stats["rows"][0]), lo, hi, self.version(kind)))
        return out
