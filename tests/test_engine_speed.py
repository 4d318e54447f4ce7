"""The engine's shortcuts give exactly what the plain computation gives (issue 16).

The per-day facts sum the IN, OUT and located counts as one packed integer; an
employee-day with too many events for the packing falls back to three sums.  Both
are checked here against the plain computation on the worked example of rules.md.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from test_audit_support import WORKED, store_from_dir, worked_period

import wfhaudit.audit.employee_days as engine
from wfhaudit.audit.calendar import calendar
from wfhaudit.audit.employee_days import audited_days, build_employee_days
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

