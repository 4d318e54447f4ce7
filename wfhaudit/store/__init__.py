"""The store: one Delta table per input kind under the store directory.

Delta tables are Parquet files plus a transaction log: every write is one
atomic commit, versions can be read back, two writers cannot corrupt a table.

API used by the rest of the package (keep it stable):

- ``Store(path)``
- ``store.write(kind, df) -> WriteResult`` — merge ``df`` (canonical columns of
  ``schema.TABLES[kind]``, already validated, unique on the key) on the
  table's key in one Delta commit: new keys are inserted, keys whose values
  differ are replaced, identical rows are left alone.  No commit when nothing
  changes.
- ``store.scan(kind, start=None, end=None) -> pl.LazyFrame`` — the canonical
  columns; ``start``/``end`` (dates, inclusive) prune partitions of the
  partitioned tables.  Raises ``DataError`` when the table does not exist.
- ``store.version(kind) -> int | None``, ``store.exists(kind) -> bool``
- ``store.append_rejects(df)`` — rows of ``schema.REJECTS``.
- ``store.info() -> list[TableInfo]``
"""

from wfhaudit.store.delta import Store, TableInfo, WriteResult

__all__ = ["Store", "TableInfo", "WriteResult"]
