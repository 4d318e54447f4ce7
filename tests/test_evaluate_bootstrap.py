"""The WFH-WFO bootstrap: reproducible, and its 95% interval covers the true difference."""

from __future__ import annotations

import numpy as np
import polars as pl

from wfhaudit.evaluate.compare import (
    COMPARED,
    MIN_EMPLOYEES,
    bootstrap_interval,
    compare,
    employee_differences,
    person_sums,
)


def test_same_seed_same_interval_other_seed_other_interval():
    diffs = np.random.default_rng(3).normal(0.1, 0.5, size=40)
    a = bootstrap_interval(diffs, "2025-12/U1/absence")
    assert a == bootstrap_interval(diffs.copy(), "2025-12/U1/absence")
    assert a != bootstrap_interval(diffs, "2025-12/U1/absence", seed=7)
    assert a[0] < float(diffs.mean()) < a[1]


def test_interval_covers_the_true_difference_in_at_least_90_of_100_cases():
    rng = np.random.default_rng(20251201)
    true = -0.15
    covered = 0
    for case in range(100):
        # 30 employees, 4 WFH and 12 WFO days each, on-time with an employee's own rate
        base = rng.uniform(0.6, 0.95, size=30)
        wfh = rng.binomial(4, np.clip(base + true, 0, 1)) / 4
        wfo = rng.binomial(12, base) / 12
        lo, hi = bootstrap_interval(wfh - wfo, f"case-{case}")
        covered += lo <= true <= hi
    assert covered >= 90, covered


def test_too_few_employees_give_no_interval_and_no_verdict():
    measure = COMPARED[0]
    row, means = compare(np.ones(MIN_EMPLOYEES - 1), measure, "x")
    assert row["verdict"] == "too_few" and row["low"] is None and means is None
    row, means = compare(np.ones(MIN_EMPLOYEES), measure, "x")
    assert row["verdict"] == "worse" and row["low"] == row["high"] == 1.0


def _facts(rows: list[tuple[str, str, str, bool]]) -> pl.DataFrame:
    """Facts of output days: (unit, nip, mode, on_time)."""
    return pl.DataFrame(
        {
            "unit_code": [r[0] for r in rows],
            "nip": [r[1] for r in rows],
            "mode": [r[2] for r in rows],
            "output_applies": [True] * len(rows),
            "on_time": [r[3] for r in rows],
            "required": [True] * len(rows),
            "absent": [False] * len(rows),
            "has_in": [True] * len(rows),
            "late": [0.0] * len(rows),
            "valid_report": [True] * len(rows),
            "report_chars": [20.0] * len(rows),
        }
    )


def test_differences_are_within_person_and_pool_a_transfer_in_the_province():
    on_time = next(m for m in COMPARED if m.key == "on_time_output")
    facts = _facts(
        [
            ("U1", "a", "WFH", True),
            ("U1", "a", "WFH", False),  # a: WFH 1/2
            ("U1", "a", "WFO", True),
            ("U1", "a", "WFO", True),  # a: WFO 2/2 -> -0.5
            ("U1", "b", "WFO", False),  # b: no WFH day: not compared
            ("U1", "c", "WFH", True),  # c in U1 (WFH only) ...
            ("U2", "c", "WFO", False),  # ... and U2 (WFO only): both only in the province
        ]
    )
    sums = person_sums(facts)
    per_unit = employee_differences(sums, on_time, ["unit_code"])
    assert per_unit.select("unit_code", "nip", "diff").rows() == [("U1", "a", -0.5)]
    province = employee_differences(sums, on_time, [])
    assert province.select("nip", "diff").rows() == [("a", -0.5), ("c", 1.0)]
