"""The measures of one bucket, per agency and for the province, as numerator / denominator.

Every ratio is kept with its numerator and denominator (the figures a reader
can check by hand); the province's figures are sums over the agencies' (the
report length, a median, is taken over the province's own days).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl


@dataclass(frozen=True)
class Ratio:
    key: str
    numerator: pl.Expr
    denominator: pl.Expr
    scale: float = 1.0  # 1000 for "per 1 000 employee-days"


def _n(col: str) -> pl.Expr:
    return pl.col(col).sum().cast(pl.Int64)


RATIOS: tuple[Ratio, ...] = (
    Ratio("planned_wfh_share", _n("planned_wfh"), _n("headcount")),
    Ratio(
        "realised_wfh_share",
        (pl.col("located") & pl.col("at_home")).sum().cast(pl.Int64),
        _n("located"),
    ),
    Ratio("attendance_compliance", _n("att_ok"), _n("required")),
    Ratio("absence_rate", _n("absent"), _n("required")),
    Ratio("lateness", pl.col("late").sum().cast(pl.Float64), _n("has_in")),
    Ratio("output_rate", _n("valid_report"), _n("output_applies")),
    Ratio("on_time_output_rate", _n("on_time"), _n("output_applies")),
    Ratio("integrity_per_1000", _n("integrity"), pl.len().cast(pl.Int64), 1000.0),
)
#: every measure key, in the order of evaluation.md
MEASURES: tuple[str, ...] = (*(r.key for r in RATIOS[:7]), "report_length", "integrity_per_1000")
#: the direction in which each measure is better (for "what changed")
BETTER: dict[str, str] = {
    "planned_wfh_share": "none",
    "realised_wfh_share": "none",
    "attendance_compliance": "higher",
    "absence_rate": "lower",
    "lateness": "lower",
    "output_rate": "higher",
    "on_time_output_rate": "higher",
    "report_length": "higher",
    "integrity_per_1000": "lower",
}


def _aggregations() -> list[pl.Expr]:
    out: list[pl.Expr] = [pl.len().cast(pl.Int64).alias("employee_days")]
    for r in RATIOS:
        out += [r.numerator.alias(f"{r.key}:num"), r.denominator.alias(f"{r.key}:den")]
    out += [
        pl.col("report_chars").median().cast(pl.Float64).alias("report_length:value"),
        pl.col("report_chars").is_not_null().sum().cast(pl.Int64).alias("report_length:den"),
        pl.col("nip").n_unique().cast(pl.Int64).alias("employees"),
    ]
    return out


def _rows(frame: pl.DataFrame, bucket: str) -> list[dict[str, Any]]:
    rows = []
    for r in frame.iter_rows(named=True):
        measures: dict[str, dict[str, Any]] = {}
        for ratio in RATIOS:
            num, den = r[f"{ratio.key}:num"], r[f"{ratio.key}:den"]
            value = ratio.scale * num / den if den else None
            measures[ratio.key] = {"numerator": num, "denominator": den, "value": value}
        measures["report_length"] = {
            "numerator": None,
            "denominator": r["report_length:den"],
            "value": r["report_length:value"],
        }
        rows.append(
            {
                "bucket": bucket,
                "unit_code": r.get("unit_code"),
                "employees": r["employees"],
                "employee_days": r["employee_days"],
                "measures": {k: measures[k] for k in MEASURES},
            }
        )
    return rows


def bucket_measures(
    facts: pl.DataFrame, bucket: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(per agency rows sorted by unit, the province row) of one bucket's facts."""
    units = facts.group_by("unit_code").agg(_aggregations()).sort("unit_code")
    province = facts.select(_aggregations())
    return _rows(units, bucket), _rows(province, bucket)[0]


def readiness_days(facts: pl.DataFrame, exempt: set[str], min_share: float) -> list[dict[str, Any]]:
    """Service readiness of the exempt agencies, per agency-day.

    On-site employee-days (a check-in inside the office fence: an IN with a
    location and no WRONG_LOCATION / NO_LOCATION) over WFO-planned headcount
    employee-days; ``below`` when the share is under ``min_share``.
    """
    if not exempt:
        return []
    days = (
        facts.filter(
            pl.col("unit_code").is_in(sorted(exempt))
            & pl.col("headcount")
            & (pl.col("planned_mode") == "WFO")
        )
        .group_by("unit_code", "date")
        .agg(_n("on_site").alias("on_site"), pl.len().cast(pl.Int64).alias("planned_wfo"))
        .sort("unit_code", "date")
    )
    return [
        {
            **r,
            "date": r["date"].isoformat(),
            "share": r["on_site"] / r["planned_wfo"] if r["planned_wfo"] else None,
            "below": bool(r["planned_wfo"] and r["on_site"] / r["planned_wfo"] < min_share),
        }
        for r in days.iter_rows(named=True)
    ]
