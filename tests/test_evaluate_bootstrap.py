"""The WFH-WFO bootstrap: reproducible, and its 95% interval covers the true difference."""

from __future__ import annotations

import numpy as np

from wfhaudit.evaluate.compare import COMPARED, MIN_EMPLOYEES, bootstrap_interval, compare


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
