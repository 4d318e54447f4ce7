"""Issue 16: the agencies' spans from per-file day masks kept beside the store equal the
spans drawn from every row; only files written since are read; a damaged mask is redone."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from wfhaudit.audit import day_masks as dm
from wfhaudit.audit.inputs import store_dates
from wfhaudit.audit.spans import agency_spans, in_force
from wfhaudit.schema import TABLES
from wfhaudit.store import Store


def _employees(n: int, moved: bool) -> pl.DataFrame:
    rows = [{"nip": f"N{i:03d}", "name": "x", "unit_code": f"U{i % 3}", "office_id": "O1",
             "valid_from": None} for i in range(n)]
    if moved:  # a transfer: the unit of the row in force on each date counts
        rows.append({"nip": "N000", "name": "x", "unit_code": "U2", "office_id": "O1",
                     "valid_from": dt.date(2025, 12, 10)})
    frame = pl.DataFrame(rows, schema={"nip": pl.String, "name": pl.String,
                                       "unit_code": pl.String, "office_id": pl.String,
                                       "valid_from": pl.Date})
    return frame.select([pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
                         for c, t in TABLES["employees"].columns.items()])


def _attendance(points: list[tuple[int, int]]) -> pl.DataFrame:
    frame = pl.DataFrame({
        "nip": [f"N{n:03d}" for n, _ in points],
        "ts": [dt.datetime(2025, 11, 1, 7) + dt.timedelta(days=d) for _, d in points],
        "kind": ["IN"] * len(points),
    }).unique(["nip", "ts"])
    return frame.select([pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
                         for c, t in TABLES["attendance"].columns.items()])


def _outputs() -> pl.DataFrame:
    return pl.DataFrame({"nip": ["N001", "N004"], "date": [dt.date(2025, 11, 3)] * 2,
                         "submitted_at": [dt.datetime(2025, 11, 3, 16)] * 2,
                         "text": ["a", "b"]}).cast(dict(TABLES["outputs"].columns))


def _spans(store: Store) -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    v = store.versions()
    people = in_force(store.scan("employees").collect().lazy()).collect()
    att, out = store_dates(store, v)
    masks = {"attendance": dm.day_masks(store, "attendance", v["attendance"]),
             "outputs": dm.day_masks(store, "outputs", v["outputs"])}
    return agency_spans(people, att, out), agency_spans(people, att, out, masks)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(
        st.lists(st.tuples(st.integers(0, 8), st.integers(0, 75)), min_size=1, max_size=30),
        min_size=1, max_size=3,
    ),
    moved=st.booleans(),
)
def test_spans_from_masks_equal_spans_from_rows(tmp_path_factory, batches, moved) -> None:
    store = Store(tmp_path_factory.mktemp("s") / "store")
    store.write("employees", _employees(8, moved))
    for batch in batches:  # several writes: several files, several months
        store.write("attendance", _attendance(batch))
    store.write("outputs", _outputs())
    rows, masks = _spans(store)
    for kind in rows:
        assert_frame_equal(rows[kind], masks[kind])


def test_only_new_files_are_read_and_a_damaged_mask_is_redone(tmp_path: Path,
                                                               monkeypatch) -> None:
    store = Store(tmp_path / "store")
    store.write("employees", _employees(6, False))
    store.write("attendance", _attendance([(1, 3), (2, 40)]))
    store.write("outputs", _outputs())
    computed: list[str] = []
    real = dm._compute
    monkeypatch.setattr(dm, "_compute", lambda s, k, p: computed.append(p) or real(s, k, p))
    _spans(store)
    assert len(computed) == 3  # the two months' files of the first write, the reports
    computed.clear()
    store.write("attendance", _attendance([(3, 41)]))  # a daily ingest: one new file
    rows, masks = _spans(store)
    assert len(computed) == 1
    assert_frame_equal(rows["attendance"], masks["attendance"])
    folder = tmp_path / "store" / dm.MASK_DIR / "attendance"
    victim = sorted(folder.glob("*.parquet"))[0]
    victim.write_bytes(b"not parquet")
    computed.clear()
    rows, masks = _spans(store)
    assert len(computed) == 1
    assert_frame_equal(rows["attendance"], masks["attendance"])


def test_a_store_that_cannot_be_written_still_gets_its_spans(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    store.write("employees", _employees(4, False))
    store.write("attendance", _attendance([(1, 3), (2, 5)]))
    store.write("outputs", _outputs())
    os.chmod(tmp_path / "store", stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(tmp_path / "store", os.W_OK):  # root writes anyway: nothing to check
            return
        rows, masks = _spans(store)
        assert_frame_equal(rows["attendance"], masks["attendance"])
        assert not (tmp_path / "store" / dm.MASK_DIR).exists()
    finally:
        os.chmod(tmp_path / "store", stat.S_IRWXU)


@settings(max_examples=60, deadline=None)
@given(st.lists(
    st.tuples(
        st.sampled_from(["198001012005011001", "198001012005011002", "X"]),
        st.sampled_from([202402, 202412, 202501, 202511, 202512]),
        st.integers(min_value=0, max_value=(1 << 31) - 1),
    ),
    min_size=1, max_size=12,
))
def test_first_last_is_the_first_and_last_date_of_the_masks(
    rows: list[tuple[str, int, int]],
) -> None:
    """``first_last`` (one integer per day, the dates made per nip) gives each nip's
    first and last date of the dates its masks stand for (``mask_dates``); a nip whose
    masks hold no day has no row.  Days past a month's end (31 February) are never set
    by a real mask, so the generated masks keep to the month's days."""
    def clip(month: int, days: int) -> int:
        last = (dt.date(month // 100 + month % 100 // 12, month % 100 % 12 + 1, 1)
                - dt.timedelta(days=1)).day
        return days & ((1 << last) - 1)

    masks = pl.DataFrame(
        [(n, m, clip(m, d)) for n, m, d in rows], schema=dm.MASK_SCHEMA, orient="row"
    )
    expected = (
        dm.mask_dates(masks)
        .group_by("nip")
        .agg(pl.col("date").min().alias("first"), pl.col("date").max().alias("last"))
    )
    assert_frame_equal(dm.first_last(masks), expected, check_row_order=False)
