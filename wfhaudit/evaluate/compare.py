"""Within-person comparison of WFH days with WFO days, with a seeded bootstrap interval.

For a measure that exists per employee-day, each employee's difference is
``mean(value on WFH days) - mean(value on WFO days)`` (expected mode, same
bucket); the comparison is the mean of those differences over the employees
having both kinds of days, with a 95% percentile interval from a bootstrap
over employees (``RESAMPLES`` resamples, generator seeded from ``SEED`` and the
comparison's name: same data, same interval, in any order of computation).
"""

from __future__ import annotations

import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

SEED = 20251201
RESAMPLES = 2000
LEVEL = 0.95
#: fewer employees with both kinds of days than this: "too few", no interval, no flag.
MIN_EMPLOYEES = 10
#: employee indices drawn at once by the bootstrap: about 2 MB, so that the draws and the
#: values they pick stay in the processor's cache (the draws, hence the interval, do not
#: depend on it)
DRAWS_AT_ONCE = 250_000
#: bootstraps run at once (threads), at most one per core
BOOTSTRAP_THREADS = 4


@dataclass(frozen=True)
class Measure:
    """A per-employee-day measure: which days it is counted on, its value, which side is worse."""

    key: str
    days: str  # boolean fact column: the days the measure exists on
    value: str  # fact column: the day's value
    worse: str  # "higher" or "lower"


COMPARED: tuple[Measure, ...] = (
    Measure("absence", "required", "absent", "higher"),
    Measure("lateness", "has_in", "late", "higher"),
    Measure("output", "output_applies", "valid_report", "lower"),
    Measure("on_time_output", "output_applies", "on_time", "lower"),
    Measure("report_length", "report_length_day", "report_chars", "lower"),
)


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def bootstrap_means(
    diffs: np.ndarray, name: str, *, seed: int = SEED, resamples: int = RESAMPLES
) -> np.ndarray:
    """The means of ``resamples`` bootstrap resamples (over employees) of ``diffs``.

    Resampling ``n`` employees with replacement draws each distinct difference
    a multinomial number of times (probabilities: its share): the same
    distribution as drawing indices, in O(resamples x distinct values) work,
    used when there are few distinct values (0/1 days); otherwise indices are drawn.
    """
    data = np.asarray(diffs, dtype=np.float64)
    values, counts = np.unique(data, return_counts=True)
    n = int(counts.sum())
    rng = _rng(seed, name)
    if len(values) * 8 <= n:
        draws = rng.multinomial(n, counts / n, size=resamples)
        return np.asarray(draws @ values / n, dtype=np.float64)
    # many distinct values (lengths, minutes): draw employee indices, in chunks
    means = np.empty(resamples, dtype=np.float64)
    chunk = max(1, DRAWS_AT_ONCE // n)
    for lo in range(0, resamples, chunk):
        size = min(chunk, resamples - lo)
        picks = rng.integers(0, n, size=(size, n), dtype=np.intp)  # what take() indexes with
        means[lo : lo + size] = np.take(data, picks).mean(axis=1)
    return means


def interval(means: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The percentile interval of ``level`` of bootstrap ``means``."""
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def bootstrap_interval(
    diffs: np.ndarray, name: str, *, seed: int = SEED, resamples: int = RESAMPLES
) -> tuple[float, float]:
    """The 95% percentile interval of the mean of ``diffs``."""
    return interval(bootstrap_means(diffs, name, seed=seed, resamples=resamples))


def _worse(lo: float, hi: float, measure: Measure) -> bool:
    return lo > 0 if measure.worse == "higher" else hi < 0


def person_sums(facts: pl.DataFrame) -> pl.DataFrame:
    """Per (unit_code, nip): each compared measure's sum and number of WFH and WFO days.

    One group-by for every measure; sums and counts add up, so the province's
    per-person figures are sums of these over a person's agencies.
    """
    facts = facts.with_columns(pl.col("report_chars").is_not_null().alias("report_length_day"))
    terms: list[pl.Expr] = []  # each day's share of each sum, then plain sums per person
    for m in COMPARED:
        for mode in ("WFH", "WFO"):
            on = pl.col(m.days) & (pl.col("mode") == mode)
            value = pl.col(m.value).cast(pl.Float64)
            terms += [
                pl.when(on).then(value).otherwise(0.0).alias(f"{m.key}:{mode}:sum"),
                on.cast(pl.Int64).alias(f"{m.key}:{mode}:n"),
            ]
    return (
        facts.lazy()
        .select("unit_code", "nip", *terms)
        .group_by("unit_code", "nip")
        .agg(pl.all().sum())
        .sort("unit_code", "nip")
        .collect()
    )


def employee_differences(sums: pl.DataFrame, measure: Measure, by: list[str]) -> pl.DataFrame:
    """Per employee (``by`` + nip): mean on WFH days, mean on WFO days, and the difference.

    ``sums`` is ``person_sums``; employees without both kinds of days are left out.
    """
    keys = [*by, "nip"]
    cols = [f"{measure.key}:{mode}:{x}" for mode in ("WFH", "WFO") for x in ("sum", "n")]
    if not by:
        sums = sums.group_by("nip").agg(pl.col(cols).sum())
    ws, wn, os_, on = (pl.col(c) for c in cols)
    return (
        sums.filter((wn > 0) & (on > 0))
        .select(*keys, (ws / wn).alias("wfh"), (os_ / on).alias("wfo"))
        .with_columns((pl.col("wfh") - pl.col("wfo")).alias("diff"))
        .sort(keys)
    )


def compare(
    diffs: np.ndarray, measure: Measure, name: str, *, seed: int = SEED
) -> tuple[dict[str, Any], np.ndarray | None]:
    """The comparison of one scope (mean difference, 95% interval, employees, verdict)
    and its bootstrap means (None when too few employees)."""
    n = int(len(diffs))
    row: dict[str, Any] = {
        "measure": measure.key,
        "worse": measure.worse,
        "employees": n,
        "difference": float(np.mean(diffs)) if n else None,
        "low": None,
        "high": None,
        "verdict": "too_few",
    }
    if n < MIN_EMPLOYEES:
        return row, None
    means = bootstrap_means(diffs, name, seed=seed)
    lo, hi = interval(means)
    worse = _worse(lo, hi, measure)
    better = hi < 0 if measure.worse == "higher" else lo > 0
    row.update(low=lo, high=hi, verdict="worse" if worse else ("better" if better else "alike"))
    return row, means


def compare_sums(
    sums: pl.DataFrame, bucket: str, *, seed: int = SEED
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(per agency rows, province rows) of every compared measure in one bucket, from its
    ``person_sums`` (a few rows per employee: the evaluation keeps these, not the facts,
    while the next bucket is audited).

    An agency row is ``flagged`` when its interval lies wholly on the worse side
    also at the Bonferroni level ``1 - 0.05 / m`` (``m``: the agency comparisons
    of the bucket with enough employees), so that many agencies and measures
    compared at once do not flag an agency by chance; the 95% interval is the
    one shown.
    """
    # every scope's differences first; then the bootstraps, a few at once in threads
    # (numpy draws and averages without the interpreter lock; each scope has its own
    # seeded generator, so the intervals do not depend on the order or the threads)
    scopes: list[tuple[str | None, Measure, np.ndarray]] = []
    for measure in COMPARED:
        per_unit = employee_differences(sums, measure, ["unit_code"])
        for (code,), part in per_unit.group_by(["unit_code"], maintain_order=True):
            scopes.append((str(code), measure, part.get_column("diff").to_numpy()))
        diffs = employee_differences(sums, measure, []).get_column("diff").to_numpy()
        scopes.append((None, measure, diffs))

    def one(scope: tuple[str | None, Measure, np.ndarray]) -> tuple[dict[str, Any], Any]:
        code, measure, diffs = scope
        scope_name = "*" if code is None else code  # the province: "*"
        return compare(diffs, measure, f"{bucket}/{scope_name}/{measure.key}", seed=seed)

    with ThreadPoolExecutor(min(os.cpu_count() or 1, BOOTSTRAP_THREADS)) as pool:
        done = list(pool.map(one, scopes))
    units: list[dict[str, Any]] = []
    province: list[dict[str, Any]] = []
    pending: list[tuple[dict[str, Any], np.ndarray, Measure]] = []
    for (code, measure, _), (row, means) in zip(scopes, done, strict=True):
        if code is None:
            province.append({"bucket": bucket, **row})
            continue
        row = {"bucket": bucket, "unit_code": code, **row, "flagged": False}
        units.append(row)
        if means is not None:
            pending.append((row, means, measure))
    level = 1 - (1 - LEVEL) / max(1, len(pending))
    for row, means, measure in pending:
        lo, hi = interval(means, level)
        row["flag_level"] = level
        row["flagged"] = row["verdict"] == "worse" and _worse(lo, hi, measure)
    return units, province
