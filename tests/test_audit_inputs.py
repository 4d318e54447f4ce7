"""The audit names exactly the store versions it read, even when an ingest commits mid-audit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from test_audit_support import read_csv, store_from_dir

from wfhaudit.audit.inputs import load_inputs
from wfhaudit.store import Store

WORKED = Path(__file__).parent / "data" / "worked"


class IngestDuringScan(Store):
    """A store where another process commits attendance right after the audit scans it."""

    def __init__(self, path: Path, extra: pl.DataFrame) -> None:
        super().__init__(path)
        self.extra: pl.DataFrame | None = extra

    def scan(self, kind, start=None, end=None, *, version=None):  # type: ignore[override]
        frame = super().scan(kind, start, end, version=version)
        if kind == "attendance" and self.extra is not None:
            extra, self.extra = self.extra, None
            Store(self.path).write("attendance", extra)  # the concurrent ingest
        return frame


def test_versions_named_are_the_versions_read(tmp_path: Path) -> None:
    store_from_dir(WORKED, tmp_path / "s")
    before = Store(tmp_path / "s").version("attendance")
    extra = read_csv("attendance", WORKED / "attendance.csv").with_columns(
        pl.col("ts") + dt.timedelta(seconds=1)
    )
    store = IngestDuringScan(tmp_path / "s", extra)
    inputs = load_inputs(store, dt.date(2025, 12, 2), dt.date(2025, 12, 11))
    assert store.version("attendance") == before + 1  # the concurrent commit happened
    read = inputs.attendance.collect()
    assert read.height == 9  # the audit read the version before it
    assert inputs.versions["attendance"] == before
