"""The evaluation model: one dict that every format (HTML, Markdown, Excel, JSON) renders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl

from wfhaudit import __version__
from wfhaudit.audit.calendar import calendar
from wfhaudit.audit.employee_days import audited_days
from wfhaudit.audit.period import Period
from wfhaudit.audit.run import today_wib
from wfhaudit.errors import DataError, UsageError
from wfhaudit.evaluate.buckets import buckets
from wfhaudit.evaluate.compare import (
    LEVEL,
    MIN_EMPLOYEES,
    RESAMPLES,
    SEED,
    compare_sums,
    person_sums,
)
from wfhaudit.evaluate.facts import bucket_facts
from wfhaudit.evaluate.measures import BETTER, MEASURES, bucket_measures, readiness_days
from wfhaudit.policy.model import Policy
from wfhaudit.schema import WIB
from wfhaudit.store import Store

#: evaluation.min_onsite_share default (a policy key may set it)
MIN_ONSITE_SHARE = 0.9

Progress = Callable[[str], None]


def _min_onsite_share(policy: Policy) -> float:
    section = policy.raw.get("evaluation", {}) if isinstance(policy.raw, dict) else {}
    value = getattr(policy, "min_onsite_share", None) or section.get("min_onsite_share")
    return float(value) if value is not None else MIN_ONSITE_SHARE


def _exempt_units(policy: Policy, bucket: Period) -> set[str]:
    """Agencies exempt (front-line) in a WFH period meeting the bucket."""
    out: set[str] = set()
    for period in policy.wfh:
        if period.start <= bucket.end and bucket.start <= period.end:
            out.update(period.exempt_units)
    return out


def _has_attendance(store: Store, bucket: Period) -> bool:
    if not store.exists("attendance"):
        return False
    lo = dt.datetime.combine(bucket.start, dt.time())
    hi = dt.datetime.combine(bucket.end + dt.timedelta(days=1), dt.time())
    found = (
        store.scan("attendance", bucket.start, bucket.end)
        .filter((pl.col("ts") >= lo) & (pl.col("ts") < hi))
        .select(pl.len())
        .collect()
        .item()
    )
    return bool(found)


def _months_held(store: Store) -> str:
    if not store.exists("attendance"):
        return "none"
    months = (
        store.scan("attendance")
        .select(pl.col("ts").dt.strftime("%Y-%m").unique().sort())
        .collect()
        .to_series()
        .to_list()
    )
    return ", ".join(months) if months else "none"


def _unit_names(store: Store) -> dict[str, str]:
    if not store.exists("employees"):
        return {}
    frame = (
        store.scan("employees")
        .select("unit_code", "unit_name")
        .drop_nulls("unit_code")
        .unique("unit_code", keep="last")
        .collect()
    )
    return {str(c): str(n) if n else str(c) for c, n in frame.iter_rows()}


def _feedback(
    store: Store, bucket_list: list[Period], headcount: dict[tuple[str, str | None], int]
) -> dict[str, Any]:
    """Complaints per bucket and agency, and per 1 000 headcount employee-days."""
    if not store.exists("feedback") or not bucket_list:
        return {"present": False, "rows": [], "channels": []}
    start, end = bucket_list[0].start, bucket_list[-1].end
    frame = (
        store.scan("feedback")
        .filter(pl.col("date").is_between(start, end))
        .select(
            "date", "unit_code", "channel", pl.col("count").fill_null(1.0).round(0).cast(pl.Int64)
        )
        .collect()
    )
    label = pl.lit(None, pl.String)
    for b in bucket_list:
        label = (
            pl.when(pl.col("date").is_between(b.start, b.end))
            .then(pl.lit(b.label))
            .otherwise(label)
        )
    frame = frame.with_columns(label.alias("bucket"))
    rows = []
    for scope in ("unit", "province"):
        keys = ["bucket", "unit_code"] if scope == "unit" else ["bucket"]
        for r in frame.group_by(keys).agg(pl.col("count").sum()).sort(keys).iter_rows(named=True):
            unit = r.get("unit_code")
            days = headcount.get((r["bucket"], unit), 0)
            rows.append(
                {
                    "bucket": r["bucket"],
                    "unit_code": unit,
                    "complaints": int(r["count"]),
                    "headcount_days": days,
                    "per_1000": 1000.0 * r["count"] / days if days else None,
                }
            )
    channels = (
        frame.group_by("channel").agg(pl.col("count").sum()).sort("channel").iter_rows(named=True)
    )
    return {
        "present": True,
        "rows": rows,
        "channels": [{"channel": c["channel"], "complaints": int(c["count"])} for c in channels],
    }


def _changes(province: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each province measure in the last audited bucket against the one before."""
    if len(province) < 2:
        return []
    prev, last = province[-2], province[-1]
    out = []
    for key in MEASURES:
        a, b = prev["measures"][key]["value"], last["measures"][key]["value"]
        delta = None if a is None or b is None else b - a
        better = BETTER[key]
        direction = "none"
        if delta is not None and better != "none" and abs(delta) > 1e-12:
            direction = "better" if (delta > 0) == (better == "higher") else "worse"
        out.append(
            {
                "measure": key,
                "previous_bucket": prev["bucket"],
                "bucket": last["bucket"],
                "previous": a,
                "current": b,
                "delta": delta,
                "direction": direction,
            }
        )
    return out


def evaluate(
    store: Store,
    span: Period,
    policy: Policy,
    *,
    by: str = "month",
    as_of: dt.date | None = None,
    unit: str | None = None,
    seed: int = SEED,
    progress: Progress | None = None,
    work_dir: Path | None = None,
) -> dict[str, Any]:
    """The evaluation model of ``span``: the engine's audit of each bucket, one at a time."""
    as_of = as_of or today_wib()
    names = _unit_names(store)
    if unit is not None and unit not in names:
        known = ", ".join(sorted(names)) or "none"
        raise UsageError(f"unknown agency {unit!r} for --unit; the store holds: {known}.")
    min_share = _min_onsite_share(policy)
    bucket_rows: list[dict[str, Any]] = []
    units: list[dict[str, Any]] = []
    province: list[dict[str, Any]] = []
    cmp_units: list[dict[str, Any]] = []
    cmp_province: list[dict[str, Any]] = []
    readiness: list[dict[str, Any]] = []
    audited: list[Period] = []
    versions: dict[str, Any] = {}
    all_buckets = buckets(span, by)
    # A bucket's comparisons (the bootstraps) run in the background while the next
    # bucket is audited, which leaves part of the cores idle; they need only the
    # per-person sums (a few rows per employee), not the facts; one bucket at a time,
    # so that short buckets (weeks) do not queue up their sums.  Taken in bucket order.
    pending: list[Future[tuple[list[dict[str, Any]], list[dict[str, Any]]]]] = []
    with ThreadPoolExecutor(1, thread_name_prefix="wfhaudit-compare") as background:
        for i, bucket in enumerate(all_buckets, 1):
            entry = {
                "label": bucket.label,
                "start": bucket.start.isoformat(),
                "end": bucket.end.isoformat(),
            }
            working = audited_days(calendar(policy, bucket.start, bucket.end), as_of).height
            if not working or not _has_attendance(store, bucket):
                bucket_rows.append({**entry, "audited": False, "employee_days": 0})
                continue
            if progress is not None:
                progress(f"auditing {bucket.label} ({i}/{len(all_buckets)})")
            result = bucket_facts(store, bucket, policy, as_of, work_dir)
            facts = result.facts
            if not facts.height:  # no working day (a weekend cut of a week) or nobody active
                bucket_rows.append({**entry, "audited": False, "employee_days": 0})
                continue
            versions = dict(result.meta.get("store", {}).get("versions", {}))
            u_rows, p_row = bucket_measures(facts, bucket.label)
            units += u_rows
            province.append(p_row)
            sums = person_sums(facts)
            if pending:  # at most one bucket's sums in the background (memory: one, not a queue)
                pending[-1].result()
            pending.append(background.submit(compare_sums, sums, bucket.label, seed=seed))
            del sums
            exempt = _exempt_units(policy, bucket)
            readiness += [
                {"bucket": bucket.label, **r} for r in readiness_days(facts, exempt, min_share)
            ]
            bucket_rows.append({**entry, "audited": True, "employee_days": facts.height})
            audited.append(bucket)
            del facts, result
        for future in pending:
            c_units, c_province = future.result()
            cmp_units += c_units
            cmp_province += c_province
    if not audited:
        raise DataError(
            f"the store holds no attendance in {span.label} (before the as-of date "
            f"{as_of.isoformat()}); it holds: {_months_held(store)}. Ingest the months first "
            "or choose another period."
        )
    headcount = {
        (u["bucket"], u["unit_code"]): u["measures"]["planned_wfh_share"]["denominator"]
        for u in units
    }
    headcount.update(
        {(p["bucket"], None): p["measures"]["planned_wfh_share"]["denominator"] for p in province}
    )
    feedback = _feedback(store, audited, headcount)
    if unit is not None:
        units = [u for u in units if u["unit_code"] == unit]
        cmp_units = [c for c in cmp_units if c["unit_code"] == unit]
        readiness = [r for r in readiness if r["unit_code"] == unit]
        feedback["rows"] = [r for r in feedback["rows"] if r["unit_code"] in (unit, None)]
    for row in units + cmp_units + readiness:
        row["unit_name"] = names.get(row["unit_code"], row["unit_code"])
    flagged = [c for c in cmp_units if c["flagged"]]
    flagged_units = sorted({c["unit_code"] for c in flagged})
    exempt_all = sorted(set().union(*(_exempt_units(policy, b) for b in audited)))
    readiness_summary = []
    for code in sorted({r["unit_code"] for r in readiness}):
        mine = [r for r in readiness if r["unit_code"] == code]
        on, planned = sum(r["on_site"] for r in mine), sum(r["planned_wfo"] for r in mine)
        readiness_summary.append(
            {
                "unit_code": code,
                "unit_name": names.get(code, code),
                "days": len(mine),
                "days_below": sum(r["below"] for r in mine),
                "on_site": on,
                "planned_wfo": planned,
                "share": on / planned if planned else None,
            }
        )
    return {
        "kind": "evaluation",
        "header": {
            "span": {
                "label": span.label,
                "start": span.start.isoformat(),
                "end": span.end.isoformat(),
            },
            "by": by,
            "unit": unit,
            "unit_name": names.get(unit, unit) if unit else None,
            "as_of": as_of.isoformat(),
            "policy_sources": list(policy.sources),
            "store": {"path": str(store.path.resolve()), "versions": versions},
            "tool_version": __version__,
            "generated_at": dt.datetime.now(WIB).isoformat(timespec="seconds"),
            "bootstrap": {
                "seed": seed,
                "resamples": RESAMPLES,
                "level": LEVEL,
                "min_employees": MIN_EMPLOYEES,
            },
        },
        "buckets": bucket_rows,
        "measures": list(MEASURES),
        "province": province,
        "units": units,
        "comparisons": {"province": cmp_province, "units": cmp_units},
        "flagged": flagged,
        "flagged_units": [{"unit_code": c, "unit_name": names.get(c, c)} for c in flagged_units],
        "changes": _changes(province),
        "readiness": {
            "min_share": min_share,
            "exempt_units": exempt_all,
            "summary": readiness_summary,
            "days": readiness,
        },
        "feedback": feedback,
    }
