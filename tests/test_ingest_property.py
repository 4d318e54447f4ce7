"""Property: every row read is stored or rejected, whatever garbage the cells hold; a bad
optional cell is blanked in a stored row and recorded with its original value."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from tempfile import TemporaryDirectory

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wfhaudit.ingest import ingest_files
from wfhaudit.store import Store

COLUMNS = ["nip", "ts", "kind", "lat", "lon", "accuracy_m", "device_id", "mode"]
garbage = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n\x00"), max_size=12)
# small pools so that keys repeat: duplicates and conflicts happen often
cells = {
    "nip": st.sampled_from(["198501012010011001", "199002022015012000", " 199002022015012000"])
    | garbage,
    "ts": st.sampled_from(
        ["2025-12-02 07:30:00", "2025-12-02T00:30:00Z", "2025-12-02 08:30:00+08:00", ""]
    )
    | garbage,
    "kind": st.sampled_from(["IN", "out", "Masuk", ""]) | garbage,
    "lat": st.sampled_from(["-6.9", "0", "91", "", "-6,9"]) | garbage,
    "lon": st.sampled_from(["107.6", "0", "", "-181"]) | garbage,
    "accuracy_m": st.sampled_from(["5", "-1", "", "1e3"]) | garbage,
    "device_id": st.sampled_from(["dA", "dB", "", "\u200b", "d\x07"]) | garbage,
    "mode": st.sampled_from(["WFO", "wfh", ""]) | garbage,
}
rows = st.lists(st.fixed_dictionaries(cells), min_size=0, max_size=25)
#: the cells a blanked record names (the end of its message)
BLANKED = re.compile(r"the row is stored with (.+) empty$")


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(rows=rows)
def test_read_equals_stored_plus_rejected(rows: list[dict[str, str]]) -> None:
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "attendance.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        store = Store(Path(tmp) / "store")
        summary = ingest_files(store, "attendance", [path])
        non_blank = sum(1 for r in rows if any(v != "" for v in r.values()))
        assert summary.read == non_blank
        assert summary.read == summary.stored + summary.rejected
        assert sum(summary.rejected_by_code.values()) == summary.rejected
        in_store = store.scan("attendance").collect().height if summary.stored else 0
        assert in_store == summary.stored == summary.inserted
        if summary.rejected or summary.blanked:
            rejects = pl.read_csv(summary.rejects_path, infer_schema=False)
            assert set(rejects["action"]) <= {"rejected", "blanked"}
            rejected = rejects.filter(pl.col("action") == "rejected")
            blanked = rejects.filter(pl.col("action") == "blanked")
            assert rejected.height == summary.rejected
            assert blanked.height == summary.blanked == sum(summary.blanked_by_code.values())
            # each source line is rejected at most once, and lines are real data lines
            lines = rejected["source_row"].cast(pl.Int64)
            assert lines.n_unique() == rejected.height
            if rejected.height:
                assert lines.min() >= 2 and lines.max() <= len(rows) + 1
            # blanked rows are stored rows: never a rejected line
            assert not set(blanked["source_row"]) & set(rejected["source_row"])
            stored = store.scan("attendance").collect() if summary.stored else None
            per_group: dict[str, int] = {}
            for line, values, message in blanked.select("source_row", "values", "message").rows():
                cols = BLANKED.search(message)
                assert cols is not None, message
                group = cols.group(1)
                per_group[group] = per_group.get(group, 0) + 1
                original = rows[int(line) - 2]
                cells = json.loads(values)
                # every blanked cell is in the rejects file with its original value
                for col in group.split(" and "):
                    assert (cells.get(col) or "") == original[col], (col, cells, original)
            for group, n in per_group.items():
                assert stored is not None
                empty = stored.filter(
                    pl.all_horizontal(pl.col(c).is_null() for c in group.split(" and "))
                )
                assert empty.height >= n
        if summary.stored:
            stored = store.scan("attendance").collect()
            assert stored.select(pl.struct("nip", "ts", "kind").is_unique().all()).item()
            assert stored["nip"].str.contains(r"^[0-9]{18}$").all()
            # what is stored is valid: coordinates in range and paired, accuracy >= 0
            assert (stored["lat"].is_null() == stored["lon"].is_null()).all()
            assert not (stored["lat"].abs() > 90).any() and not (stored["lon"].abs() > 180).any()
            assert not (stored["accuracy_m"] < 0).any()
            assert set(stored["mode"].drop_nulls()) <= {"WFO", "WFH"}
