"""The engine's shortcuts give exactly what the plain computation gives (issue 16).

The per-day facts sum the IN, OUT and located counts as one packed integer; an
employee-day with too many events for the packing falls back to three sums.  The
event distances reuse each point's radians and cosine.  Each is checked here against
the plain computation on the worked example of rules.md.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from test_audit_support import WORKED, store_from_dir, worked_period

import wfhaudit.audit.employee_days as engine
from wfhaudit.audit.calendar import calendar
from wfhaudit.audit.employee_days import audited_days, build_employee_days, haversine_m
from wfhaudit.audit.inputs import AuditInputs, load_inputs, pin_versions
from wfhaudit.policy import load_policy

POLICY = load_policy()


@pytest.fixture(scope="module")
def worked(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditInputs, pl.DataFrame]:
    store = store_from_dir(WORKED, tmp_path_factory.mktemp("worked") / "store")
    period = worked_period()
    inputs = load_inputs(store, period.start, period.end, versions=pin_versions(store))
    days = audited_days(calendar(POLICY, period.start, period.end), dt.date(2025, 12, 12))
    return inputs, days


def test_packed_counts_equal_three_sums(worked: tuple[AuditInputs, pl.DataFrame]) -> None:
    inputs, days = worked
    events = build_employee_days(inputs, POLICY, days).events
    assert events.height == 9
    packed = engine._unpacked(engine._event_facts(events, packed=True).collect())
    plain = engine._event_facts(events, packed=False).collect()
    assert_frame_equal(packed.sort("ed_key"), plain.sort("ed_key"), check_exact=True)
    # the worked example has days without an IN and days without an OUT
    assert packed.select(
        (pl.col("in_events") == 0).any(), (pl.col("out_events") == 0).any()
    ).row(0) == (True, True)
    assert packed.get_column("located_events").sum() == events.get_column("located").sum()
    assert packed.get_column("in_events").sum() == (events.get_column("kind") == "IN").sum()


def test_too_many_events_to_pack_fall_back_to_three_sums(
    worked: tuple[AuditInputs, pl.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, days = worked
    want = build_employee_days(inputs, POLICY, days).employee_days
    assert want.get_column("in_events").max() == 1
    # no bits per count: no employee-day with an event can be packed; without the
    # fallback every IN count would read 0
    monkeypatch.setattr(engine, "_PACK", 0)
    got = build_employee_days(inputs, POLICY, days).employee_days
    assert_frame_equal(got, want, check_exact=True)


def test_distances_from_reused_radians_are_the_same_bits(tmp_path: Path) -> None:
    points = pl.DataFrame(
        {
            "lat": [-6.9022, -6.9, 0.0, -0.0, 89.9, -6.91475, None],
            "lon": [107.6186, 107.61, 0.0, 180.0, -179.9, 107.60, 107.6],
            "lat2": [-6.9023, -6.95, 0.0, 0.0, -89.9, -6.91475, -6.9],
            "lon2": [107.6187, 107.70, 0.0, -180.0, 179.9, 107.6001, 107.6],
        }
    )
    p1, p2 = pl.col("lat").radians(), pl.col("lat2").radians()
    got = points.select(
        engine._haversine(p1, p1.cos(), pl.col("lon"), p2, p2.cos(), pl.col("lon2"))
    ).to_series()
    # the formula written out once more, as haversine_m had it before the reuse
    dlat, dlon = p2 - p1, (pl.col("lon2") - pl.col("lon")).radians()
    a = (dlat / 2).sin().pow(2) + p1.cos() * p2.cos() * (dlon / 2).sin().pow(2)
    plain = points.select(
        2 * engine.EARTH_RADIUS_M * a.sqrt().clip(upper_bound=1.0).arcsin()
    ).to_series()
    public = points.select(
        haversine_m(pl.col("lat"), pl.col("lon"), pl.col("lat2"), pl.col("lon2"))
    ).to_series()
    assert got.to_list() == plain.to_list() == public.to_list()
    assert got[0] == pytest.approx(15.67, abs=0.01) and got[-1] is None
