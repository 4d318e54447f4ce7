"""Delta-table implementation of the store (see ``wfhaudit.store``).

Data files are written by Polars (multi-threaded Parquet, zstd) and committed
to the Delta log by deltalake as ONE transaction per write: the add actions of
the new files plus the remove actions of the files they supersede.  A file
that is written but never committed (process killed, commit conflict) is not
part of any version: readers never see it and ``vacuum`` deletes it.

A write is a merge on the table's key, computed with Polars:

1. read the keys of the target files that can hold the incoming rows (for
   partitioned tables only the months the incoming rows fall in);
2. incoming keys not found there are *inserted*; found keys whose values are
   identical are *unchanged*; found keys whose values differ are *replaced*;
3. nothing new and nothing replaced: no commit at all;
4. otherwise write the new and replaced rows, plus the surviving rows of every
   file holding a replaced key, and commit adds + removes together.

Writers on one machine are serialised per table with ``flock``; on top of that
Delta's optimistic concurrency detects conflicting commits (two writers
rewriting the same file, two writers creating the table) and the write is
recomputed from a fresh snapshot, with backoff, a bounded number of times.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote

import polars as pl
from deltalake import DeltaTable, Field, Schema
from deltalake.exceptions import CommitFailedError, DeltaError
from deltalake.transaction import (
    AddAction,
    CommitProperties,
    RemoveAction,
    create_table_with_add_actions,
)

from wfhaudit.errors import DataError, as_os_error
from wfhaudit.hashing import row_hash
from wfhaudit.schema import PARTITION_COLUMN, REJECTS, TABLES, Table

try:  # POSIX only; elsewhere only Delta's optimistic concurrency protects writers
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: How many times a write is recomputed after a commit conflict.
MAX_ATTEMPTS = 10
#: How long a writer waits for another writer of the same table (seconds).
LOCK_TIMEOUT_S = 900.0
#: Reader features this module reads natively; anything else falls back to scan_delta.
_NATIVE_READER_FEATURES = {"timestampNtz"}
#: Column holding the source file of a row while merging (never stored).
_FILE = "__wfhaudit_file"
#: Column holding a hash of the key while merging (never stored).
_KEY_HASH = "__wfhaudit_key_hash"
#: Folder (in the store) of the rejects CSV files, one per ingest with rejects.
REJECTED_ROWS = "rejected-rows"
#: Folder (in the store) of the journals of ingests between their two commits.
PENDING = ".pending"
#: A journal folder still being written and older than this (s) was left by a kill.
_STALE_S = 3600.0
#: Columns giving the period a table covers, for ``info``: (first, last).
_PERIOD_COLUMNS: dict[str, tuple[str, str]] = {
    "roster": ("date", "date"),
    "attendance": ("ts", "ts"),
    "outputs": ("date", "date"),
    "leave": ("start", "end"),
    "clarifications": ("start", "end"),
    REJECTS.name: ("ingested_at", "ingested_at"),
}


@dataclass(frozen=True)
class WriteResult:
    inserted: int
    replaced: int
    unchanged: int
    version: int | None
    #: stored rows removed by ``replace_period`` (their key was not written again)
    removed: int = 0


@dataclass(frozen=True)
class IngestWrite:
    """What ``Store.write_ingest`` did: the table write and the rejects CSV (or None)."""

    written: WriteResult
    rejects_csv: Path | None


@dataclass(frozen=True)
class TableInfo:
    kind: str
    rows: int
    first_date: dt.date | None
    last_date: dt.date | None
    version: int | None
    #: partitions present (``YYYY-MM``), empty for unpartitioned tables.
    months: tuple[str, ...] = ()
    #: number of data files in the current version.
    files: int = 0
    #: of those, files in an older layout (``wfhaudit store migrate`` rewrites them).
    old_layout_files: int = 0


class _Conflict(Exception):
    """A concurrent writer won the race; recompute the write from a fresh snapshot."""


def _table(kind: str) -> Table:
    if kind == REJECTS.name:
        return REJECTS
    try:
        return TABLES[kind]
    except KeyError:
        raise DataError(
            f"unknown table {kind!r}; use one of {', '.join([*TABLES, REJECTS.name])}."
        ) from None


def _months_between(start: dt.date | None, end: dt.date | None, present: list[str]) -> list[str]:
    lo = start.strftime("%Y-%m") if start is not None else None
    hi = end.strftime("%Y-%m") if end is not None else None
    return [m for m in present if (lo is None or m >= lo) and (hi is None or m <= hi)]


def _has_duplicate_keys(df: pl.DataFrame, key: tuple[str, ...]) -> bool:
    """True when two rows share a key (a fast hash count, confirmed exactly on a clash)."""
    if df.select(key).hash_rows().n_unique() == df.height:
        return False
    return bool(df.select(pl.struct(key).is_duplicated().any()).item())


def _key_hash(key: list[str]) -> pl.Expr:
    """A 64-bit hash of the key columns (equal keys, equal hashes; the converse is checked)."""
    return row_hash([pl.col(k) for k in key])


def _month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of ``YYYY-MM`` (the last as the 28th is enough for pruning)."""
    first = dt.date.fromisoformat(f"{month}-01")
    return first, first.replace(day=28)


def _removes(table: Table, actions: pl.DataFrame, paths: list[str]) -> list[RemoveAction]:
    """Remove actions (data change) for the files ``paths`` of the add-actions frame."""
    now = _now_ms()
    part_col = f"partition.{PARTITION_COLUMN}"
    return [
        RemoveAction(
            row["path"],
            True,
            now,
            row["size_bytes"],
            {PARTITION_COLUMN: row[part_col]} if table.partition_source is not None else None,
        )
        for row in actions.filter(pl.col("path").is_in(paths)).iter_rows(named=True)
    ]


def _month_range(first: dt.date, last: dt.date) -> list[str]:
    """The months ``YYYY-MM`` from ``first`` to ``last`` (inclusive)."""
    out, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


#: Marks a data file written in the current layout (sorted by ``Table.file_order``, row
#: groups of ``ROW_GROUP_ROWS``): ``part-<uuid>.<LAYOUT_TAG>.zstd.parquet``.  Files
#: without it (written by wfhaudit before 2026-12) are rewritten by ``Store.migrate``.
LAYOUT_TAG: Final = "c1"
#: Rows per Parquet row group: a day of a province's check-ins spans one or two groups,
#: a day of the country's about a hundred; each carries min/max statistics.
ROW_GROUP_ROWS: Final = 100_000


def _old_layout(actions: pl.DataFrame) -> pl.DataFrame:
    """The add actions (``get_add_actions``) of data files not in the current layout."""
    if not actions.height:
        return actions
    return actions.filter(~pl.col("path").str.contains(f".{LAYOUT_TAG}.", literal=True))


def _in_file_order(table: Table, df: pl.DataFrame) -> pl.DataFrame:
    """``df`` sorted as every data file of ``table`` is (``Table.file_order``)."""
    order = table.file_order()
    if df.height < 2 or not order:
        return df
    return df.sort(order, maintain_order=False, multithreaded=True)


def _file_stats(table: Table, part: pl.DataFrame) -> dict[str, Any]:
    """The Delta ``stats`` of a data file: rows, nulls per column and, for the ``date``
    column of a day-keyed table (outputs, roster), its least and greatest value (exact,
    from the rows: readers that skip files by them, DuckDB or Spark, skip nothing they
    need).  Timestamps get none: writers round them to milliseconds, a bound rounded
    below the true maximum would make a reader skip rows."""
    stats: dict[str, Any] = {
        "numRecords": part.height, "nullCount": part.null_count().row(0, named=True),
    }
    source = table.partition_source
    if source is not None and table.columns[source] == pl.Date() and part.height:
        col = pl.col(source)
        lo, hi = part.select(col.min().alias("lo"), col.max().alias("hi")).row(0)
        if lo is not None:
            stats["minValues"] = {source: lo.isoformat()}
            stats["maxValues"] = {source: hi.isoformat()}
    return stats


def _now_ms() -> int:
    return int(time.time() * 1000)


class Store:
    """A directory of Delta tables, one per input kind (plus ``rejects``)."""

    def __init__(self, path: Path | str, *, lock: bool = True) -> None:
        self.path = Path(path)
        #: serialise writers of one table on this machine with flock (see module doc).
        self.lock = lock
        #: commit conflicts met (and retried) by this object's writes, for tests and logs.
        self.conflicts = 0

    # --- reading -----------------------------------------------------------

    def table_path(self, kind: str) -> Path:
        return self.path / kind

    def exists(self, kind: str) -> bool:
        return (self.table_path(kind) / "_delta_log").is_dir() and any(
            (self.table_path(kind) / "_delta_log").glob("*.json")
        )

    def version(self, kind: str) -> int | None:
        if not self.exists(kind):
            return None
        return DeltaTable(str(self.table_path(kind))).version()

    def versions(self) -> dict[str, int | None]:
        """The current version of every table (None: not created yet), for audit.json."""
        return {kind: self.version(kind) for kind in (*TABLES, REJECTS.name)}

    def _delta(self, kind: str, version: int | None = None) -> DeltaTable:
        if not self.exists(kind):
            raise DataError(
                f"the store {self.path} has no {kind} table; ingest one first with "
                f"'wfhaudit ingest {kind} FILE'."
            )
        try:
            return DeltaTable(str(self.table_path(kind)), version=version)
        except DeltaError as exc:
            raise DataError(
                f"the {kind} table in {self.path} has no version {version} ({exc}); "
                f"'wfhaudit store info' shows the current version."
            ) from None

    def files(
        self,
        kind: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        version: int | None = None,
    ) -> list[str]:
        """Absolute paths of the data files a ``scan`` with these bounds reads."""
        table = _table(kind)
        return self._files(self._delta(kind, version), table, start, end)

    def _files(
        self, delta: DeltaTable, table: Table, start: dt.date | None, end: dt.date | None
    ) -> list[str]:
        if table.partition_source is None or (start is None and end is None):
            return delta.file_uris()
        present = sorted({p[PARTITION_COLUMN] for p in delta.partitions()})
        months = _months_between(start, end, present)
        if not months:
            return []
        return delta.file_uris(file_pruning_predicate=[(PARTITION_COLUMN, "in", months)])

    def scan(
        self,
        kind: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        version: int | None = None,
    ) -> pl.LazyFrame:
        """The canonical columns of ``kind``, at ``version`` (default: the latest).

        ``start``/``end`` (inclusive dates) select the month partitions that
        overlap them, so only those files are read; rows of those months outside
        the bounds are still returned (filter them yourself).  The frame is bound
        to the snapshot taken now: later writes do not change what it returns.
        """
        table = _table(kind)
        delta = self._delta(kind, version)
        columns = [pl.col(c).cast(t) for c, t in table.columns.items()]
        features = set(delta.protocol().reader_features or [])
        if not features <= _NATIVE_READER_FEATURES:  # e.g. deletion vectors written by Spark
            lf = pl.scan_delta(delta)
            if table.partition_source is not None:
                months = _months_between(
                    start, end, sorted({p[PARTITION_COLUMN] for p in delta.partitions()})
                )
                lf = lf.filter(pl.col(PARTITION_COLUMN).is_in(months))
            return lf.select(columns)
        files = self._files(delta, table, start, end)
        if not files:
            return table.empty().lazy()
        return self.scan_files(kind, files)

    def scan_files(self, kind: str, files: list[str]) -> pl.LazyFrame:
        """The canonical columns of the data files ``files`` of ``kind`` (absolute paths,
        e.g. from ``files``): no version, no pruning; for work per data file."""
        table = _table(kind)
        return pl.scan_parquet(
            files,
            schema=table.columns,  # a column added since a file was written reads as empty
            missing_columns="insert",
            extra_columns="ignore",
            hive_partitioning=False,
            glob=False,  # user paths are literal, never patterns
        ).select([pl.col(c).cast(t) for c, t in table.columns.items()])

    def scan_at(self, kind: str, version: int) -> pl.LazyFrame:
        """The whole table as it was at ``version`` (see ``versions``)."""
        return self.scan(kind, version=version)

    def files_by_month(self, kind: str, version: int) -> dict[str | None, list[str]] | None:
        """The data files of ``kind`` at ``version`` (paths as the Delta log names them,
        sorted) by the month (``YYYY-MM``) whose rows they can hold: ``{None: every file}``
        for a table not partitioned by month.  A file is never rewritten in place (its name
        is unique per write), so a month's list changes whenever one of its rows does: the
        year-to-date cache keys each month by it.  None when the table uses reader features
        this module does not read (e.g. deletion vectors: rows removed without a new file).
        Keep this true with the layout (``wfhaudit.audit.ytd_cache``)."""
        actions = self.add_actions(kind, version)
        if actions is None:
            return None
        column = f"partition.{PARTITION_COLUMN}"
        if not actions.height:
            return {}
        if _table(kind).partition_source is None or column not in actions.columns:
            return {None: sorted(actions.get_column("path").to_list())}
        out: dict[str | None, list[str]] = {}
        for month, path in actions.select(column, "path").sort(column, "path").iter_rows():
            out.setdefault(month, []).append(path)
        return out

    def add_actions(self, kind: str, version: int) -> pl.DataFrame | None:
        """The Delta add actions (one row per data file: ``path``, ``size_bytes``, ...) of
        ``kind`` at ``version``; None when the table uses reader features this module does
        not read (e.g. deletion vectors: rows removed without a new file)."""
        delta = self._delta(kind, version)
        if not set(delta.protocol().reader_features or []) <= _NATIVE_READER_FEATURES:
            return None
        return pl.DataFrame(delta.get_add_actions(flatten=True))

    @contextlib.contextmanager
    def locked(self, name: str) -> Iterator[None]:
        """Hold this machine's writer lock of ``name`` (a table, or a derived table such as
        ``ytd_facts``) for the block; see the module doc."""
        with self._locked(name):
            yield

    # --- writing -----------------------------------------------------------

    def write(
        self,
        kind: str,
        df: pl.DataFrame,
        *,
        assume_unique: bool = False,
        replace_period: tuple[dt.date, dt.date] | None = None,
        tag: str | None = None,
    ) -> WriteResult:
        """Merge ``df`` on the table's key in one commit (see module doc).

        ``df`` must be unique on the key; this is checked unless the caller
        says it already made sure (``assume_unique=True``, saves a hash pass).
        A key column that is not required (employees ``valid_from``) may be
        empty: an empty value is a key value of its own (null-safe merge).
        ``replace_period=(first, last)``: in the same commit, first remove the
        stored rows whose ``Table.period_column`` falls on those dates (inclusive).
        ``tag`` (an ingest id) is recorded in the commit's metadata as ``ingest``.
        """
        table = _table(kind)
        df = self._canonical(table, df)
        if replace_period is not None and table.period_column is None:
            raise DataError(f"the {kind} table has no dates: --replace-period does not apply.")
        if df.height == 0 and replace_period is None:
            return WriteResult(0, 0, 0, self.version(kind))
        if not assume_unique and _has_duplicate_keys(df, table.key):
            raise ValueError(f"rows written to {kind} must be unique on {table.key}")
        needed = [k for k in table.key if k in table.required]
        if needed and df.select(pl.col(needed).null_count()).sum_horizontal().item():
            raise ValueError(
                f"rows written to {kind} need a value in every key column ({', '.join(needed)})"
            )
        if replace_period is not None:
            first, last = replace_period
            if not self.exists(kind) and df.height == 0:
                return WriteResult(0, 0, 0, None)
            return self._with_retry(kind, lambda: self._replace_once(table, df, first, last, tag))
        return self._with_retry(kind, lambda: self._merge_once(table, df, tag))

    def append_new(self, kind: str, df: pl.DataFrame) -> WriteResult:
        """Add ``df``'s rows as one commit without reading the table: for a bulk load of
        rows whose keys the table does not hold (the caller's guarantee, e.g. a benchmark
        or a copy loading a fresh store batch by batch).  Ingest uses ``write``."""
        table = _table(kind)
        return self._with_retry(kind, lambda: self._append_once(table, self._canonical(table, df)))

    def append_rejects(self, df: pl.DataFrame, *, tag: str | None = None) -> None:
        """Append rows of ``schema.REJECTS`` (no merge: every ingest adds its own)."""
        df = self._canonical(REJECTS, df)
        if df.height:
            self._with_retry(REJECTS.name, lambda: self._append_once(REJECTS, df, tag))

    # --- an ingest: the table and its rejects ----------------------------------

    def write_ingest(
        self,
        kind: str,
        rows: pl.DataFrame,
        rejects: pl.DataFrame,
        *,
        replace_period: tuple[dt.date, dt.date] | None = None,
    ) -> IngestWrite:
        """Store an ingest: ``rows`` merged into ``kind``, ``rejects`` (``schema.REJECTS``)
        appended to the rejects table and written as a new CSV.

        The two tables are two Delta commits.  So that a kill between them cannot
        keep the rows without their rejects, the rejects are first saved in a
        journal (``.pending/<id>/``, locked while this runs); both commits carry the
        ingest id.  A journal left behind is finished by ``repair`` (the next ingest
        runs it): if the table commit happened, the rejects are appended; if not,
        nothing of that ingest was stored and the journal is dropped.
        """
        self.repair()
        token = uuid.uuid4().hex[:12]
        rejects = self._canonical(REJECTS, rejects)
        if rejects.height == 0:
            written = self.write(
                kind, rows, assume_unique=True, replace_period=replace_period, tag=token
            )
            return IngestWrite(written, None)
        with self._journal(kind, token, rejects) as journal:
            written = self.write(
                kind, rows, assume_unique=True, replace_period=replace_period, tag=token
            )
            try:
                csv = self.write_rejects_csv(kind, rejects, written.version, token)
                self.append_rejects(rejects, tag=token)
            except DataError as exc:
                cause = exc.__cause__
                reason = cause.strerror if isinstance(cause, OSError) else None
                raise DataError(
                    f"the {kind} rows were stored (version {written.version}), but their "
                    f"{rejects.height:,} rejected rows could not be recorded "
                    f"({reason or exc.message}); they are kept in {journal} and the next "
                    "'wfhaudit ingest' records them: free space or fix the permissions, then "
                    "run any ingest."
                ) from exc
            shutil.rmtree(journal, ignore_errors=True)
        return IngestWrite(written, csv)

    def write_rejects_csv(
        self, kind: str, rejects: pl.DataFrame, version: int | None, token: str | None = None
    ) -> Path:
        """Write ``rejects`` to ``rejected-rows/<UTC time>-<kind>-v<version>-<id>.csv``.

        The name is unique (a random id) and created with an exclusive open, so two
        ingests never write the same file; the rows are written to a hidden file
        first and moved over it, so the CSV is never seen half written.
        """
        folder = self.path / REJECTED_ROWS  # not inside the Delta table rejects/ (vacuum)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        at = f"-v{version}" if version is not None else ""
        try:
            folder.mkdir(parents=True, exist_ok=True)
            while True:
                token = token or uuid.uuid4().hex[:12]
                path = folder / f"{stamp}-{kind}{at}-{token}.csv"
                try:
                    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
                    break
                except FileExistsError:
                    token = None
            tmp = folder / f".{path.name}.tmp"
            with open(tmp, "wb") as fh:
                self._canonical(REJECTS, rejects).write_csv(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except (OSError, pl.exceptions.ComputeError) as exc:
            error = as_os_error(exc)
            if error is None:
                raise
            raise self._os_error(f"the rejects file {REJECTED_ROWS}/", error) from error
        return path

    def _os_error(self, what: str, exc: OSError) -> DataError:
        return DataError(
            f"could not write {what} in {self.path}: {exc.strerror or exc}; nothing was "
            "stored, the store is unchanged: free space or fix the permissions and run the "
            "ingest again."
        )

    @contextlib.contextmanager
    def _journal(self, kind: str, token: str, rejects: pl.DataFrame) -> Iterator[Path]:
        """A folder ``.pending/<token>/`` holding ``rejects`` and ``job.json``, flocked."""
        pending = self.path / PENDING
        final = pending / token
        tmp = pending / f".tmp-{token}"
        job = {
            "kind": kind,
            "ingest": token,
            "table_version": self.version(kind),
            "rejects_version": self.version(REJECTS.name),
        }
        try:
            tmp.mkdir(parents=True)
            rejects.write_parquet(tmp / "rejects.parquet")
            (tmp / "job.json").write_text(json.dumps(job))
            fh = open(tmp / "job.json", "rb")  # noqa: SIM115 - held for the whole ingest
        except (OSError, pl.exceptions.ComputeError) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            error = as_os_error(exc)
            if error is None:
                raise
            raise self._os_error(f"the ingest journal {PENDING}/", error) from error
        try:
            if fcntl is not None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            os.rename(tmp, final)
            yield final
        finally:
            fh.close()

    def repair(self) -> list[str]:
        """Finish or drop the journals of ingests killed between their two commits.

        Returns the ids of the journals handled.  A journal whose ingest is still
        running (its ``job.json`` is locked) is left alone.
        """
        pending = self.path / PENDING
        if not pending.is_dir():
            return []
        done: list[str] = []
        for entry in sorted(pending.iterdir()):
            if entry.name.startswith(".tmp-"):
                with contextlib.suppress(OSError):
                    if time.time() - entry.stat().st_mtime > _STALE_S:
                        shutil.rmtree(entry, ignore_errors=True)
                continue
            try:
                fh = open(entry / "job.json", "rb")  # noqa: SIM115
            except OSError:
                continue
            with fh:
                if fcntl is not None:
                    try:
                        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # that ingest is still running
                job = json.loads(fh.read() or b"{}")
                if not entry.exists():  # another repair finished it meanwhile
                    continue
                self._finish(entry, job)
            shutil.rmtree(entry, ignore_errors=True)
            done.append(entry.name)
        return done

    def _finish(self, entry: Path, job: dict[str, object]) -> None:
        kind, token = str(job["kind"]), str(job["ingest"])
        for tmp in (self.path / REJECTED_ROWS).glob(f".*-{token}.csv.tmp"):
            tmp.unlink(missing_ok=True)  # a CSV killed while being written
        if self._tagged(REJECTS.name, token, job.get("rejects_version")) is not None:
            return  # both commits happened; only the journal was left
        committed = self._tagged(kind, token, job.get("table_version"))
        csvs = list((self.path / REJECTED_ROWS).glob(f"*-{token}.csv"))
        if committed is None:  # nothing of that ingest was stored: drop it whole
            for csv in csvs:
                csv.unlink(missing_ok=True)
            return
        rejects = pl.read_parquet(entry / "rejects.parquet", glob=False)
        if not any(csv.stat().st_size for csv in csvs):
            for csv in csvs:
                csv.unlink(missing_ok=True)
            self.write_rejects_csv(kind, rejects, committed, token)
        self.append_rejects(rejects, tag=token)

    def _commits_after(self, kind: str, version: object) -> list[dict[str, object]]:
        if not self.exists(kind):
            return []
        delta = DeltaTable(str(self.table_path(kind)))
        since = int(version) if isinstance(version, int) else -1
        newer = delta.version() - since
        return delta.history(limit=newer) if newer > 0 else []

    def _tagged(self, kind: str, token: str, since: object) -> int | None:
        """The version of the commit of ``kind`` newer than ``since`` carrying ingest
        ``token``, or None."""
        for commit in self._commits_after(kind, since):
            meta = commit.get("userMetadata")
            if not isinstance(meta, str):
                continue
            with contextlib.suppress(ValueError, AttributeError):
                if json.loads(meta).get("wfhaudit", {}).get("ingest") == token:
                    version = commit.get("version")
                    return int(version) if isinstance(version, int) else -1
        return None

    @staticmethod
    def _canonical(table: Table, df: pl.DataFrame) -> pl.DataFrame:
        return df.select(table.canonical_exprs())  # an empty blank-key cell is stored as ""

    @staticmethod
    def _by_month(table: Table, df: pl.DataFrame) -> list[tuple[str | None, pl.DataFrame]]:
        """Split ``df`` into its partitions: ``[(month or None, rows)]``."""
        if table.partition_source is None:
            return [(None, df)]
        src = pl.col(table.partition_source)
        ym = (src.dt.year() * 100 + src.dt.month()).alias("ym")
        lo, hi = df.select(src.min().alias("lo"), src.max().alias("hi")).row(0)
        if lo is not None and (lo.year, lo.month) == (hi.year, hi.month):  # the usual case
            months = [lo.year * 100 + lo.month]
        else:
            months = df.select(ym.unique().sort()).get_column("ym").to_list()
        if len(months) == 1:
            groups = [(months[0], df)]
        else:
            groups = [(m, df.filter(ym == m)) for m in months]
        return [(f"{m // 100:04d}-{m % 100:02d}", part) for m, part in groups]

    def _with_retry(self, kind: str, attempt: Callable[[], WriteResult]) -> WriteResult:
        try:
            with self._locked(kind):
                for n in range(MAX_ATTEMPTS):
                    try:
                        return attempt()
                    except _Conflict:
                        self.conflicts += 1
                        time.sleep(min(2.0, 0.05 * 2**n) * (0.5 + random.random()))
        except (OSError, pl.exceptions.ComputeError, DeltaError) as exc:
            # disk full, permission denied, read-only store (Polars and deltalake wrap them)
            error = as_os_error(exc)
            if error is None:
                raise
            raise self._os_error(f"the {kind} table", error) from error
        raise DataError(
            f"could not write the {kind} table in {self.path}: other writers kept changing it "
            f"({MAX_ATTEMPTS} attempts); nothing was stored, run the ingest again."
        )

    @contextlib.contextmanager
    def _locked(self, kind: str) -> Iterator[None]:
        self.path.mkdir(parents=True, exist_ok=True)
        if not self.lock or fcntl is None:
            yield
            return
        lock_dir = self.path / ".locks"
        lock_dir.mkdir(exist_ok=True)
        with open(lock_dir / f"{kind}.lock", "a+b") as fh:
            deadline = time.monotonic() + LOCK_TIMEOUT_S
            while True:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise DataError(
                            f"another process has been writing the {kind} table in {self.path} "
                            f"for over {LOCK_TIMEOUT_S:.0f} s; wait for it to finish and run "
                            "the ingest again."
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _write_files(self, table: Table, df: pl.DataFrame) -> list[AddAction]:
        """Write ``df`` as one Parquet file per partition; return their add actions."""
        root = self.table_path(table.name)
        adds: list[AddAction] = []
        for month, part in self._by_month(table, df):
            part = _in_file_order(table, part)
            name = f"part-{uuid.uuid4()}.{LAYOUT_TAG}.zstd.parquet"
            rel = f"{PARTITION_COLUMN}={month}/{name}" if month is not None else name
            target = root / rel
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                part.write_parquet(
                    target, compression="zstd", compression_level=3,
                    row_group_size=ROW_GROUP_ROWS, statistics=True,
                )
            except BaseException:
                self._discard(table, adds)
                target.unlink(missing_ok=True)
                raise
            stat = target.stat()
            stats = json.dumps(_file_stats(table, part))
            values = {PARTITION_COLUMN: month} if month is not None else {}
            adds.append(
                AddAction(rel, stat.st_size, values, int(stat.st_mtime * 1000), True, stats)
            )
        return adds

    def _discard(self, table: Table, adds: list[AddAction]) -> None:
        """Delete files written for a commit that failed (they belong to no version)."""
        for add in adds:
            with contextlib.suppress(OSError):
                (self.table_path(table.name) / add.path).unlink()

    def _commit(
        self,
        table: Table,
        delta: DeltaTable | None,
        adds: list[AddAction],
        removes: list[RemoveAction],
        metadata: dict[str, int | str],
    ) -> int:
        """Commit ``adds`` and ``removes`` as one transaction; return the new version."""
        partition_by = [PARTITION_COLUMN] if table.partition_source is not None else None
        props = CommitProperties(
            custom_metadata={"userMetadata": json.dumps({"wfhaudit": metadata})}
        )
        path = str(self.table_path(table.name))
        try:
            if delta is None:
                arrow = pl.DataFrame(schema=table.store_schema).to_arrow().schema
                create_table_with_add_actions(
                    path,
                    Schema.from_arrow(arrow),
                    adds,
                    mode="error",
                    partition_by=partition_by,
                    commit_properties=props,
                )
            else:
                delta.create_write_transaction(
                    [*adds, *removes],
                    mode="append",
                    schema=delta.schema(),
                    partition_by=partition_by,
                    commit_properties=props,
                )
        except CommitFailedError as exc:
            self._discard(table, adds)
            raise _Conflict(str(exc)) from exc
        except DeltaError as exc:
            self._discard(table, adds)
            if delta is None and "already exists" in str(exc):  # lost the create race
                raise _Conflict(str(exc)) from exc
            raise
        except BaseException:
            self._discard(table, adds)
            raise
        return DeltaTable(path).version()

    def _migrated(self, table: Table, delta: DeltaTable) -> DeltaTable:
        """``delta`` with every canonical column in its schema (added empty: one commit).

        A table written by an older wfhaudit lacks the columns added since (employees
        ``valid_from``, rejects ``action``); their rows read those columns as empty.
        Adding the columns changes only the table's metadata, never a row.
        """
        have = {f.name for f in delta.schema().fields}
        wanted = Schema.from_arrow(pl.DataFrame(schema=table.store_schema).to_arrow().schema)
        missing = [f for f in wanted.fields if f.name not in have]
        if not missing:
            return delta
        fields = [Field(f.name, f.type, nullable=True) for f in missing]
        delta.alter.add_columns(
            fields,
            commit_properties=CommitProperties(
                custom_metadata={
                    "userMetadata": json.dumps({"wfhaudit": {"added_columns": len(fields)}})
                }
            ),
        )
        return DeltaTable(str(self.table_path(table.name)))

    @staticmethod
    def _meta(counts: dict[str, int], tag: str | None) -> dict[str, int | str]:
        return {**counts, "ingest": tag} if tag is not None else {**counts}

    def _append_once(self, table: Table, df: pl.DataFrame, tag: str | None = None) -> WriteResult:
        delta = DeltaTable(str(self.table_path(table.name))) if self.exists(table.name) else None
        if delta is not None:
            delta = self._migrated(table, delta)
        adds = self._write_files(table, df)
        version = self._commit(table, delta, adds, [], self._meta({"inserted": df.height}, tag))
        return WriteResult(df.height, 0, 0, version)

    def _merge_once(self, table: Table, df: pl.DataFrame, tag: str | None = None) -> WriteResult:
        if not self.exists(table.name):
            return self._append_once(table, df, tag)
        root = self.table_path(table.name)
        delta = self._migrated(table, DeltaTable(str(root)))
        key, values = list(table.key), list(table.value_columns)
        actions = pl.DataFrame(delta.get_add_actions(flatten=True))
        part_col = f"partition.{PARTITION_COLUMN}"
        if table.partition_source is not None and actions.height:
            months = [m for m, _ in self._by_month(table, df.select(table.partition_source))]
            actions = actions.filter(pl.col(part_col).is_in(months))
        if actions.height == 0:  # nothing stored where these rows go: pure insert
            return self._insert(table, delta, df, tag)
        paths = {str(root / unquote(p)): p for p in actions.get_column("path").to_list()}

        # Joins run on one 64-bit hash of the key (much cheaper than on the key
        # columns); every hash match is then confirmed on the key columns themselves.
        key_hash = _key_hash(key).alias(_KEY_HASH)
        df = df.with_columns(key_hash)
        # 1. which stored files hold any incoming key?  (reads the key columns only;
        # a hash collision here only means one more file is read)
        holding = (
            self._scan_files(list(paths), table, key)
            .select(key_hash, pl.col(_FILE))
            .join(df.lazy().select(_KEY_HASH), on=_KEY_HASH, how="semi")
            .select(pl.col(_FILE).unique())
            .collect()
            .get_column(_FILE)
            .to_list()
        )
        columns = list(table.columns)
        if not holding:
            return self._insert(table, delta, df.select(columns), tag)
        # 2. compare values with the rows of those files only
        old = self._scan_files(holding, table, key + values).with_columns(key_hash).collect()
        matches = old
        if df.height * 4 < old.height:  # a few rows into a big file: shrink the join first
            matches = old.join(df.select(_KEY_HASH), on=_KEY_HASH, how="semi")
        found = df.join(matches, on=_KEY_HASH, how="inner", suffix="__old").filter(
            pl.all_horizontal([pl.col(k).eq_missing(pl.col(f"{k}__old")) for k in key])
        )
        if found.height == 0:
            return self._insert(table, delta, df.select(columns), tag)
        differs = pl.any_horizontal(
            [pl.col(c).ne_missing(pl.col(f"{c}__old")) for c in values] or [pl.lit(False)]
        )
        changed = found.filter(differs)
        unchanged = found.height - changed.height
        new = df.clear()
        if found.height < df.height:
            new = df.join(found.select(_KEY_HASH), on=_KEY_HASH, how="anti")
            if new.height + found.height != df.height:  # a hash collision: use the keys
                new = df.join(found.select(key), on=key, how="anti", nulls_equal=True)
        if new.height == 0 and changed.height == 0:
            return WriteResult(0, 0, unchanged, delta.version())
        new = new.select(columns)

        rewrite = changed.get_column(_FILE).unique().to_list()
        changed = changed.select(columns)
        kept = (
            old.filter(pl.col(_FILE).is_in(rewrite))
            # exact keys: never drop a row
            .join(changed.select(key), on=key, how="anti", nulls_equal=True)
            .select(columns)
        )
        adds = self._write_files(table, pl.concat([new, changed, kept], how="vertical"))
        removes = _removes(table, actions, [paths[f] for f in rewrite])
        counts = {"inserted": new.height, "replaced": changed.height, "unchanged": unchanged}
        version = self._commit(table, delta, adds, removes, self._meta(counts, tag))
        return WriteResult(new.height, changed.height, unchanged, version)

    def _replace_once(
        self,
        table: Table,
        df: pl.DataFrame,
        first: dt.date,
        last: dt.date,
        tag: str | None = None,
    ) -> WriteResult:
        """Remove the rows of ``[first, last]`` and merge ``df``, in one commit.

        Reads whole files (the months of the range and of ``df``): a replace is a
        deliberate correction of a period, not the everyday append.
        """
        if not self.exists(table.name):
            return self._append_once(table, df, tag)
        assert table.period_column is not None
        root = self.table_path(table.name)
        delta = self._migrated(table, DeltaTable(str(root)))
        key, values, columns = list(table.key), list(table.value_columns), list(table.columns)
        actions = pl.DataFrame(delta.get_add_actions(flatten=True))
        part_col = f"partition.{PARTITION_COLUMN}"
        if table.partition_source is not None and actions.height:
            months = set(_month_range(first, last))
            if df.height:
                parts = self._by_month(table, df.select(table.partition_source))
                months |= {m for m, _ in parts if m is not None}
            actions = actions.filter(pl.col(part_col).is_in(sorted(months)))
        if actions.height == 0:
            if df.height == 0:
                return WriteResult(0, 0, 0, delta.version())
            return self._insert(table, delta, df, tag)
        paths = {str(root / unquote(p)): p for p in actions.get_column("path").to_list()}
        in_range = "__wfhaudit_in_range"
        day = pl.col(table.period_column).cast(pl.Date)
        old = (
            self._scan_files(list(paths), table, columns)
            .with_columns(day.is_between(first, last).fill_null(False).alias(in_range))
            .collect()
        )
        found = df.join(old, on=key, how="inner", suffix="__old", nulls_equal=True)
        differs = pl.any_horizontal(
            [pl.col(c).ne_missing(pl.col(f"{c}__old")) for c in values] or [pl.lit(False)]
        )
        changed = found.filter(differs)
        same_keys = found.filter(~differs).select(key)
        removed = (
            old.filter(pl.col(in_range))
            .join(df.select(key), on=key, how="anti", nulls_equal=True)
            .height
        )
        new = df.join(found.select(key), on=key, how="anti", nulls_equal=True)
        if new.height == 0 and changed.height == 0 and removed == 0:
            return WriteResult(0, 0, found.height, delta.version())
        rewrite = set(old.filter(pl.col(in_range)).get_column(_FILE).to_list())
        rewrite |= set(changed.get_column(_FILE).to_list())
        kept = old.filter(pl.col(_FILE).is_in(sorted(rewrite))).join(
            changed.select(key), on=key, how="anti", nulls_equal=True
        )
        kept = pl.concat(
            [
                kept.filter(~pl.col(in_range)),
                # rows of the range written again unchanged stay as they are
                kept.filter(pl.col(in_range)).join(
                    same_keys, on=key, how="semi", nulls_equal=True
                ),
            ]
        )
        adds = self._write_files(
            table,
            pl.concat([new.select(columns), changed.select(columns), kept.select(columns)]),
        )
        removes = _removes(table, actions, [paths[f] for f in sorted(rewrite)])
        unchanged = found.height - changed.height
        counts = {
            "inserted": new.height,
            "replaced": changed.height,
            "unchanged": unchanged,
            "removed": removed,
        }
        version = self._commit(table, delta, adds, removes, self._meta(counts, tag))
        return WriteResult(new.height, changed.height, unchanged, version, removed)

    def _insert(
        self, table: Table, delta: DeltaTable, df: pl.DataFrame, tag: str | None = None
    ) -> WriteResult:
        adds = self._write_files(table, df)
        version = self._commit(table, delta, adds, [], self._meta({"inserted": df.height}, tag))
        return WriteResult(df.height, 0, 0, version)

    def _scan_files(self, files: list[str], table: Table, columns: list[str]) -> pl.LazyFrame:
        return pl.scan_parquet(
            files,
            schema=table.columns,
            include_file_paths=_FILE,
            missing_columns="insert",
            extra_columns="ignore",
            hive_partitioning=False,
            glob=False,  # user paths are literal, never patterns
        ).select([pl.col(c).cast(table.columns[c]) for c in columns] + [pl.col(_FILE)])

    # --- housekeeping ------------------------------------------------------

    def compact(self, kind: str) -> int | None:
        """Rewrite every partition holding several files into one file (one commit).

        Returns the new version, or None when there was nothing to compact.
        The rows do not change (the commit is marked ``dataChange: false``).
        """
        table = _table(kind)
        with self._locked(kind):
            delta = self._migrated(table, self._delta(kind))
            root = self.table_path(kind)
            actions = pl.DataFrame(delta.get_add_actions(flatten=True))
            group = (
                f"partition.{PARTITION_COLUMN}" if table.partition_source is not None else None
            )
            if group is None:
                actions = actions.with_columns(pl.lit("").alias("__group"))
                group = "__group"
            crowded = actions.filter(pl.len().over(group) > 1)
            if crowded.height == 0:
                return None
            files = [str(root / unquote(p)) for p in crowded.get_column("path").to_list()]
            df = (
                pl.scan_parquet(
                    files, schema=table.columns, missing_columns="insert", extra_columns="ignore",
                    glob=False,
                )
                .select([pl.col(c).cast(t) for c, t in table.columns.items()])
                .collect()
            )
            adds = [
                AddAction(a.path, a.size, a.partition_values, a.modification_time, False, a.stats)
                for a in self._write_files(table, df)
            ]
            now = _now_ms()
            removes = [
                RemoveAction(
                    row["path"],
                    False,
                    now,
                    row["size_bytes"],
                    {PARTITION_COLUMN: row[group]} if table.partition_source is not None else None,
                )
                for row in crowded.iter_rows(named=True)
            ]
            try:
                return self._commit(table, delta, adds, removes, {"compacted": len(removes)})
            except _Conflict:
                return None  # a writer changed the table meanwhile; compact another time

    def old_layout_files(self, kind: str, version: int | None = None) -> int:
        """Data files of ``kind`` (at ``version``) not yet in the current layout."""
        if not self.exists(kind):
            return 0
        actions = pl.DataFrame(self._delta(kind, version).get_add_actions(flatten=True))
        return _old_layout(actions).height

    def migrate(self, kind: str) -> tuple[int, int | None]:
        """Rewrite every data file of ``kind`` written in an older layout into the current
        one (``LAYOUT_TAG``), file by file (memory bounded by the largest file), as one
        commit marked ``dataChange: false``: the rows and their versions' contents do not
        change.  Returns ``(files rewritten, new version or None)``; a table already in
        the layout is left as it is (no commit)."""
        table = _table(kind)
        if not self.exists(kind):
            return 0, None
        with self._locked(kind):
            delta = self._migrated(table, self._delta(kind))
            root = self.table_path(kind)
            old = _old_layout(pl.DataFrame(delta.get_add_actions(flatten=True)))
            if old.height == 0:
                return 0, None
            group = f"partition.{PARTITION_COLUMN}"
            adds: list[AddAction] = []
            removes: list[RemoveAction] = []
            now = _now_ms()
            rows_in = rows_out = 0
            try:
                for row in old.iter_rows(named=True):
                    df = (
                        self.scan_files(kind, [str(root / unquote(row["path"]))])
                        .select(table.canonical_exprs())
                        .collect()
                    )
                    rows_in += df.height
                    written = self._write_files(table, df)
                    adds += [
                        AddAction(a.path, a.size, a.partition_values, a.modification_time,
                                  False, a.stats)
                        for a in written
                    ]
                    rows_out += sum(json.loads(a.stats or "{}").get("numRecords", 0)
                                    for a in written)
                    partition = (
                        {PARTITION_COLUMN: row[group]}
                        if table.partition_source is not None else None
                    )
                    removes.append(
                        RemoveAction(row["path"], False, now, row["size_bytes"], partition)
                    )
                if rows_in != rows_out:  # pragma: no cover - a guard, never expected
                    raise RuntimeError(f"internal: migrating {kind} read {rows_in} rows "
                                       f"but wrote {rows_out}")
            except BaseException:
                self._discard(table, adds)
                raise
            try:
                version = self._commit(
                    table, delta, adds, removes, {"migrated": len(removes), "layout": LAYOUT_TAG}
                )
            except _Conflict:
                return 0, None  # a writer changed the table meanwhile: migrate again later
            return len(removes), version

    def migrate_layout(self) -> dict[str, tuple[int, int | None]]:
        """``migrate`` every table of the store: ``{kind: (files rewritten, version)}``."""
        return {kind: self.migrate(kind) for kind in (*TABLES, REJECTS.name)
                if self.exists(kind)}

    def vacuum(self, kind: str, retention_hours: int = 168) -> list[str]:
        """Delete files no version younger than ``retention_hours`` needs, and files of
        interrupted writes; return their paths.  Versions older than the retention
        can no longer be read afterwards."""
        with self._locked(kind):
            delta = self._delta(kind)
            return delta.vacuum(
                retention_hours=retention_hours,
                dry_run=False,
                enforce_retention_duration=retention_hours >= 168,
                full=True,
            )

    # --- summary -----------------------------------------------------------

    def info(self) -> list[TableInfo]:
        """One entry per input kind (in ``schema.TABLES`` order), then ``rejects``."""
        out: list[TableInfo] = []
        for kind in (*TABLES, REJECTS.name):
            if not self.exists(kind):
                out.append(TableInfo(kind, 0, None, None, None))
                continue
            out.append(self._table_info(kind))
        return out

    def _table_info(self, kind: str) -> TableInfo:
        table = _table(kind)
        delta = self._delta(kind)
        actions = pl.DataFrame(delta.get_add_actions(flatten=True))
        months: tuple[str, ...] = ()
        if table.partition_source is not None and actions.height:
            months = tuple(
                sorted(actions.get_column(f"partition.{PARTITION_COLUMN}").unique().to_list())
            )
        if actions.height and "num_records" in actions.columns and (
            actions.get_column("num_records").null_count() == 0
        ):
            rows = int(actions.get_column("num_records").sum())
        else:
            rows = int(self.scan(kind).select(pl.len()).collect().item())
        first = last = None
        if kind in _PERIOD_COLUMNS and rows:
            lo_col, hi_col = _PERIOD_COLUMNS[kind]
            if months:  # read only the first and the last partition
                lo_files = self._files(delta, table, *_month_bounds(months[0]))
                hi_files = self._files(delta, table, *_month_bounds(months[-1]))
            else:
                lo_files = hi_files = delta.file_uris()
            first = self._bound(lo_files, lo_col, min)
            last = self._bound(hi_files, hi_col, max)
        return TableInfo(kind, rows, first, last, delta.version(), months, actions.height,
                         _old_layout(actions).height)

    @staticmethod
    def _bound(files: list[str], column: str, how: object) -> dt.date | None:
        if not files:
            return None
        col = pl.col(column).cast(pl.Date)
        agg = col.min() if how is min else col.max()
        value = (
            pl.scan_parquet(files, missing_columns="insert", extra_columns="ignore", glob=False)
            .select(agg)
            .collect()
            .item()
        )
        return value if isinstance(value, dt.date) else None
