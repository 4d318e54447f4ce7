"""The store: one Delta table per input kind under the store directory.

Delta tables are Parquet files plus a transaction log: every write is one
atomic commit, versions can be read back, two writers cannot corrupt a table.
See ``docs/store.md`` for the layout and the guarantees.

API used by the rest of the package (keep it stable):

- ``Store(path)``
- ``store.write(kind, df, *, assume_unique=False) -> WriteResult`` — merge
  ``df`` (canonical columns of ``schema.TABLES[kind]``, already validated,
  unique on the key) on the table's key in one Delta commit: new keys are
  inserted, keys whose values differ are replaced, identical rows are left
  alone.  No commit when nothing changes.  Concurrent writers are serialised
  (same machine) and retried on Delta commit conflicts.
- ``store.scan(kind, start=None, end=None, *, version=None) -> pl.LazyFrame`` —
  the canonical columns; ``start``/``end`` (dates, inclusive) prune to the
  month partitions overlapping them (rows of those months outside the bounds
  are still returned: filter them).  ``version`` reads an older version.
  Raises ``DataError`` when the table does not exist.
- ``store.scan_at(kind, version)``, ``store.files(kind, start, end)``
- ``store.version(kind) -> int | None``, ``store.versions() -> dict``,
  ``store.exists(kind) -> bool``
- ``store.append_rejects(df)`` — rows of ``schema.REJECTS``.
- ``store.info() -> list[TableInfo]`` — the six kinds, then ``rejects``.
- ``store.compact(kind)``, ``store.vacuum(kind)`` — housekeeping.
"""

from wfhaudit.store.delta import Store, TableInfo, WriteResult

__all__ = ["Store", "TableInfo", "WriteResult"]
