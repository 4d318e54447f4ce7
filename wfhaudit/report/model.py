"""The report model: plain data every format renders (reports.md).

``build_report(results_dir, unit=None, store=None)`` reads the audit result
files with Polars and returns a ``dict`` of plain values (str, int, float,
bool, None, ISO date strings, lists, dicts) — language-neutral: labels and
number formats are applied by the renderers.  Sections, in order:
``header``, ``summary``, ``daily``, ``units``, ``unit_daily``, ``employees``, ``violations``,
``unit_findings``, ``integrity``, ``data_quality``.

Home coordinates never enter the model: the store's employees table is read
for ``name``/``unit_name`` only, and the ``detail`` of ``SHARED_COORDINATES``
(the shared ``lat,lon``, which may be someone's home) is replaced by a group
number.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import polars as pl

from wfhaudit import __version__
from wfhaudit.errors import DataError
from wfhaudit.report.clarifications import clarifications_section
from wfhaudit.schema import (
    ALL_RULES,
    AUDIT_JSON,
    DATA_MISSING_RULES,
    EMPLOYEE_DAY_RULES,
    INTEGRITY_RULES,
    UNIT_FINDINGS_SCHEMA,
    UNIT_RULES,
    VIOLATIONS_SCHEMA,
    WAIVED_RESULT_FILES,
    WIB,
)
from wfhaudit.schema import RESULT_FILES as PARQUET_RESULTS

#: Employees listed in a report for all agencies (a one-agency report lists all).
TOP_EMPLOYEES = 50

#: The files a report needs; the waived files (issue 12) are read when present (an audit
#: of an earlier version has none): ``wfhaudit.report.clarifications``.
RESULT_FILES = (AUDIT_JSON, *(n for n in PARQUET_RESULTS if n not in WAIVED_RESULT_FILES))

_COORDS = re.compile(r"-?\d{1,3}\.\d+\s*[,;]\s*-?\d{1,3}\.\d+")


# --- reading ----------------------------------------------------------------


class Results:
    """The audit result files of one directory, optionally cut to one unit."""

    def __init__(self, results_dir: Path) -> None:
        self.dir = Path(results_dir)
        missing = [name for name in RESULT_FILES if not (self.dir / name).is_file()]
        if missing:
            raise DataError(
                f"the audit result directory {self.dir} lacks {', '.join(missing)}; "
                "run 'wfhaudit audit PERIOD' first."
            )
        try:
            self.audit: dict[str, Any] = json.loads((self.dir / "audit.json").read_text("utf-8"))
            self.violations = _read(self.dir / "violations.parquet", VIOLATIONS_SCHEMA)
            self.unit_findings = _read(self.dir / "unit_findings.parquet", UNIT_FINDINGS_SCHEMA)
            self.employee_days = pl.read_parquet(self.dir / "employee_days.parquet", glob=False)
            self.employee_summary = pl.read_parquet(
                self.dir / "employee_summary.parquet", glob=False
            )
        except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
            raise DataError(
                f"cannot read the audit result in {self.dir} ({exc}); run 'wfhaudit audit PERIOD' "
                "again to rewrite it."
            ) from exc

    def units(self) -> list[str]:
        codes: set[str] = set()
        for df in (self.employee_days, self.employee_summary, self.unit_findings, self.violations):
            if "unit_code" in df.columns:
                codes.update(c for c in df.get_column("unit_code").unique().to_list() if c)
        return sorted(codes)

    def resolve_unit(self, unit: str) -> str:
        """The unit code as the results spell it (``disdik`` -> ``DISDIK`` when unambiguous)."""
        units = self.units()
        if unit in units:
            return unit
        same = [u for u in units if u.casefold() == unit.strip().casefold()]
        return same[0] if len(same) == 1 else unit

    def only_unit(self, unit: str) -> Results:
        unit = self.resolve_unit(unit)
        if unit not in self.units():
            shown = ", ".join(self.units()[:20]) or "none"
            raise DataError(
                f"unit {unit!r} is not in the audit result {self.dir} (units there: {shown}); "
                "check the code with --unit."
            )
        cut = object.__new__(Results)
        cut.dir = self.dir
        cut.audit = self.audit
        only = pl.col("unit_code") == unit
        cut.violations = self.violations.filter(only)
        cut.unit_findings = self.unit_findings.filter(only)
        cut.employee_days = self.employee_days.filter(only)
        cut.employee_summary = self.employee_summary.filter(only)
        return cut


def _read(path: Path, schema: pl.Schema) -> pl.DataFrame:
    df = pl.read_parquet(path, glob=False)
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise DataError(f"{path} lacks the columns {', '.join(missing)}; re-run the audit.")
    return df.select([pl.col(c).cast(t) for c, t in schema.items()])


def _store_names(store: Path | str | None) -> tuple[dict[str, str], dict[str, str]]:
    """(nip -> name, unit_code -> unit_name) from the store; empty without one."""
    if store is None:
        return {}, {}
    from wfhaudit.store import Store

    st = Store(store)
    if not st.exists("employees"):
        return {}, {}
    # Select only the name columns: home_lat/home_lon never leave the store here.
    emp = st.scan("employees").select("nip", "name", "unit_code", "unit_name").collect()
    names = {n: m for n, m in zip(emp["nip"], emp["name"], strict=True) if m}
    units = (
        emp.filter(pl.col("unit_name").is_not_null())
        .group_by("unit_code")
        .agg(pl.col("unit_name").mode().sort().first())
    )
    return names, dict(zip(units["unit_code"], units["unit_name"], strict=True))


# --- small helpers ----------------------------------------------------------


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _count(value: Any) -> int:
    """A count given as a number or as the list of the things counted."""
    if isinstance(value, list | tuple | dict):
        return len(value)
    return int(value or 0)


def _records(df: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: _iso(v) for k, v in row.items()} for row in df.iter_rows(named=True)]


def _ratio(num: int | float, den: int | float) -> float | None:
    return float(num) / float(den) if den else None


def _counts_by_rule(df: pl.DataFrame, rules: tuple[str, ...]) -> dict[str, int]:
    got = dict(df.group_by("rule").len().iter_rows()) if df.height else {}
    ordered = {r: int(got[r]) for r in rules if r in got}
    ordered.update({r: int(n) for r, n in sorted(got.items()) if r not in ordered})
    return ordered


#: Employee-days that are no one's compliance: excused, or without attendance data (v2).
_NOT_AUDITED = ("excused", "no_attendance_data")


def _day_counts(days: pl.DataFrame) -> dict[str, int]:
    status = (
        days.get_column("status") if "status" in days.columns else pl.Series([], dtype=pl.String)
    )
    excused = int((status == "excused").sum())
    duty = int((status == "duty").sum())
    # a day without attendance data is no one's compliance (v2): neither audited nor clean
    no_data = int((status == "no_attendance_data").sum())
    audited = days.height - excused - no_data
    subject = (
        days.filter(~pl.col("status").is_in(list(_NOT_AUDITED)))
        if days.height
        else days
    )
    clean = int((subject.get_column("violations").fill_null(0) == 0).sum()) if subject.height else 0
    return {
        "employee_days": days.height,
        "excused": excused,
        "duty": duty,
        "no_attendance_data": no_data,
        "audited": audited,
        "clean_days": clean,
    }


def _is_missing_data() -> pl.Expr:
    """The agency findings that say data is missing (not violations, not quota findings)."""
    return pl.col("rule").is_in(list(DATA_MISSING_RULES))


def _summary(res: Results) -> dict[str, Any]:
    counts = _day_counts(res.employee_days)
    by_rule = _counts_by_rule(res.violations, EMPLOYEE_DAY_RULES + INTEGRITY_RULES)
    quota = res.unit_findings.filter(~_is_missing_data())
    missing = res.unit_findings.filter(_is_missing_data())
    return {
        **counts,
        "employees": res.employee_summary.height,
        "compliance_rate": _ratio(counts["clean_days"], counts["audited"]),
        "violations_total": res.violations.height,
        "violations_by_rule": by_rule,
        # the agency findings proper (quota, WFH not allowed); missing data is counted apart
        "unit_findings_total": quota.height,
        "unit_findings_by_rule": _counts_by_rule(quota, UNIT_RULES),
        "missing_data_total": missing.height,
        "missing_data_by_rule": _counts_by_rule(missing, DATA_MISSING_RULES),
    }


def _previous(res: Results, unit: str | None) -> dict[str, Any] | None:
    """Summary of the previous period of the same length, when its result exists beside ours."""
    from wfhaudit.audit.period import parse_period, previous_period

    label = (res.audit.get("period") or {}).get("label")
    if not label:
        return None
    try:
        prev = previous_period(parse_period(label))
    except Exception:  # noqa: BLE001 - a period we cannot parse simply has no comparison
        return None
    prev_dir = res.dir.parent / prev.label
    info: dict[str, Any] = {
        "label": prev.label,
        "start": prev.start.isoformat(),
        "end": prev.end.isoformat(),
        "found": False,
    }
    if not all((prev_dir / name).is_file() for name in RESULT_FILES):
        return info
    try:
        old = Results(prev_dir)
        if unit is not None:
            old = old.only_unit(unit)
    except DataError:
        return info
    info.update(found=True, summary=_summary(old))
    return info


def _change(now: dict[str, Any], prev: dict[str, Any] | None) -> dict[str, Any] | None:
    if not prev or not prev.get("found"):
        return None
    old = prev["summary"]
    rules = list(dict.fromkeys([*now["violations_by_rule"], *old["violations_by_rule"]]))
    rate = (
        now["compliance_rate"] - old["compliance_rate"]
        if now["compliance_rate"] is not None and old["compliance_rate"] is not None
        else None
    )
    return {
        "audited": now["audited"] - old["audited"],
        "compliance_rate": rate,
        "violations_total": now["violations_total"] - old["violations_total"],
        "violations_by_rule": {
            r: now["violations_by_rule"].get(r, 0) - old["violations_by_rule"].get(r, 0)
            for r in rules
        },
    }


def _daily(days: pl.DataFrame) -> list[dict[str, Any]]:
    if not days.height:
        return []
    df = (
        days.filter(~pl.col("status").is_in(list(_NOT_AUDITED)))
        .group_by("date")
        .agg(
            pl.len().alias("audited"),
            (pl.col("violations").fill_null(0) == 0).sum().alias("clean_days"),
        )
        .sort("date")
        .with_columns((pl.col("clean_days") / pl.col("audited")).alias("compliance_rate"))
    )
    return _records(df)


def _caps(
    audit: dict[str, Any], start: dt.date | None, end: dt.date | None
) -> list[dict[str, Any]]:
    """The WFH periods (name, from, to, max_share) overlapping the audited period."""
    out = []
    for p in (audit.get("policy") or {}).get("wfh") or []:
        try:
            p_from = dt.date.fromisoformat(str(p.get("from"))[:10])
            p_to = dt.date.fromisoformat(str(p.get("to"))[:10])
        except ValueError:
            continue
        if start and end and (p_to < start or p_from > end):
            continue
        out.append(
            {
                "name": p.get("name"),
                "from": p_from.isoformat(),
                "to": p_to.isoformat(),
                "max_share": p.get("max_share"),
            }
        )
    return out


def _units(res: Results, unit_names: dict[str, str], cap: float | None) -> list[dict[str, Any]]:
    days = res.employee_days
    codes = res.units()
    if not codes:
        return []
    base = pl.DataFrame({"unit_code": codes}, schema={"unit_code": pl.String})
    has_events = pl.col("events").fill_null(0) > 0 if "events" in days.columns else pl.lit(False)
    at_home = pl.col("at_home") if "at_home" in days.columns else pl.lit(None, pl.Boolean)
    audited = ~pl.col("status").is_in(list(_NOT_AUDITED))
    day_stats = days.group_by("unit_code").agg(
        pl.col("nip").n_unique().alias("headcount"),
        audited.sum().alias("audited"),
        (audited & (pl.col("violations").fill_null(0) == 0))
        .sum()
        .alias("clean_days"),
        (pl.col("status") == "required").sum().alias("present_days"),
        ((pl.col("status") == "required") & (pl.col("expected_mode") == "WFH"))
        .sum()
        .alias("planned_wfh_days"),
        (has_events & (pl.col("expected_mode") == "WFH")).sum().alias("wfh_days_with_checkins"),
        has_events.sum().alias("days_with_checkins"),
        (has_events & (at_home.fill_null(False))).sum().alias("at_home_days"),
    )
    viol = res.violations.group_by("unit_code").agg(pl.len().alias("violations"))
    quota_rows = res.unit_findings.filter(~_is_missing_data())
    quota = quota_rows.group_by("unit_code").agg(pl.len().alias("quota_findings"))
    missing = (
        res.unit_findings.filter(_is_missing_data())
        .group_by("unit_code")
        .agg(pl.len().alias("missing_data"))
    )
    df = (
        base.join(day_stats, on="unit_code", how="left")
        .join(viol, on="unit_code", how="left")
        .join(quota, on="unit_code", how="left")
        .join(missing, on="unit_code", how="left")
        .with_columns(pl.col(pl.UInt32, pl.Int64, pl.UInt64, pl.Int32).fill_null(0))
    )
    rules_by_unit: dict[str, dict[str, int]] = {}
    for (code,), part in res.violations.group_by(["unit_code"]):
        rules_by_unit[str(code)] = _counts_by_rule(part, EMPLOYEE_DAY_RULES + INTEGRITY_RULES)
    findings_by_unit: dict[str, dict[str, int]] = {}
    for (code,), part in quota_rows.group_by(["unit_code"]):
        findings_by_unit[str(code)] = _counts_by_rule(part, UNIT_RULES)
    rows = []
    for r in df.iter_rows(named=True):
        code = r["unit_code"]
        rows.append(
            {
                "unit_code": code,
                "unit_name": unit_names.get(code, code),
                "headcount": int(r["headcount"]),
                "audited": int(r["audited"]),
                "clean_days": int(r["clean_days"]),
                "compliance_rate": _ratio(r["clean_days"], r["audited"]),
                "planned_wfh_share": _ratio(r["planned_wfh_days"], r["present_days"]),
                "max_share": cap,
                "realised_wfh_share": _ratio(r["at_home_days"], r["days_with_checkins"]),
                "days_with_checkins": int(r["days_with_checkins"]),
                "at_home_days": int(r["at_home_days"]),
                "violations": int(r["violations"]),
                "violations_by_rule": rules_by_unit.get(code, {}),
                "quota_findings": int(r["quota_findings"]),
                "quota_findings_by_rule": findings_by_unit.get(code, {}),
                "missing_data": int(r["missing_data"]),
            }
        )
    # Worst first: lowest compliance, then most violations, then most quota findings.
    rows.sort(
        key=lambda u: (
            u["compliance_rate"] if u["compliance_rate"] is not None else 2.0,
            -u["violations"],
            -u["quota_findings"],
            u["unit_code"],
        )
    )
    return rows


def _unit_daily(res: Results) -> list[dict[str, Any]]:
    """Planned WFH share per agency and day, and whether the day is a WFH_QUOTA_EXCEEDED breach.

    The share is the chart's: employees rostered WFH among those required that day
    (the rule's own count and headcount are in ``unit_findings``).
    """
    days = res.employee_days
    if not days.height or "expected_mode" not in days.columns:
        return []
    present = pl.col("status") == "required"
    df = (
        days.group_by("unit_code", "date")
        .agg(
            present.sum().alias("present"),
            (present & (pl.col("expected_mode") == "WFH")).sum().alias("wfh"),
        )
        .filter(pl.col("present") > 0)
        .with_columns((pl.col("wfh") / pl.col("present")).alias("planned_wfh_share"))
    )
    breach = (
        res.unit_findings.filter(pl.col("rule") == "WFH_QUOTA_EXCEEDED")
        .select("unit_code", "date")
        .unique()
        .with_columns(pl.lit(True).alias("breach"))
    )
    df = (
        df.join(breach, on=["unit_code", "date"], how="left")
        .with_columns(pl.col("breach").fill_null(False))
        .select("unit_code", "date", "planned_wfh_share", "breach")
        .sort("unit_code", "date")
    )
    return _records(df)


def _employees(
    res: Results, names: dict[str, str], unit_names: dict[str, str]
) -> list[dict[str, Any]]:
    es = res.employee_summary
    if not es.height:
        return []
    cols = [
        "nip",
        "name",
        "unit_code",
        "working_days",
        "excused_days",
        "duty_days",
        "violation_days",
        "absent_days",
        "late_minutes",
        "early_minutes",
        "equivalent_days",
        "ytd_equivalent_days",
        "ytd_tier",
    ]
    es = es.select([c for c in cols if c in es.columns]).sort(
        ["equivalent_days", "absent_days", "nip"], descending=[True, True, False], nulls_last=True
    )
    out = []
    for row in _records(es):
        for col in cols:  # an older or partial summary: absent columns show as "—"
            row.setdefault(col, None)
        row["name"] = names.get(row["nip"]) or row.get("name") or row["nip"]
        row["unit_name"] = unit_names.get(row["unit_code"], row["unit_code"])
        out.append(row)
    return out


def _redact(detail: str | None) -> str | None:
    if detail is None:
        return None
    return _COORDS.sub("…", detail)


def _integrity(
    res: Results, names: dict[str, str]
) -> tuple[dict[str, Any], dict[tuple[str, str], str]]:
    v = res.violations.filter(pl.col("rule").is_in(list(INTEGRITY_RULES)))

    def who(nips: list[str], units: list[str]) -> list[dict[str, str]]:
        return [
            {"nip": n, "name": names.get(n, n), "unit_code": u}
            for n, u in zip(nips, units, strict=True)
        ]

    # Shared coordinates: one group per (date, shared point); the point itself is never shown.
    coords = (
        v.filter(pl.col("rule") == "SHARED_COORDINATES")
        .group_by("date", "detail")
        .agg(pl.col("nip").sort(), pl.col("unit_code").sort_by("nip"))
        .sort("date", pl.col("nip").list.first())
    )
    groups = []
    group_of: dict[tuple[str, str], str] = {}
    for i, r in enumerate(coords.iter_rows(named=True), start=1):
        label = f"K{i}"
        # detail: "lat,lon (N employees)"; N counts the whole group, also outside this scope
        m = re.search(r"\((\d+)\b", r["detail"] or "")
        groups.append(
            {
                "group": label,
                "date": r["date"].isoformat(),
                "size": int(m.group(1)) if m else len(r["nip"]),
                "members_in_scope": len(r["nip"]),
                "members": who(r["nip"], r["unit_code"]),
            }
        )
        group_of[(r["date"].isoformat(), r["detail"] or "")] = label
    # One group per (date, device): an employee whose detail names several shared devices
    # ("HP-1,HP-2") belongs to the group of each.
    devices = (
        v.filter(pl.col("rule") == "SHARED_DEVICE")
        .with_columns(pl.col("detail").str.split(","))
        .explode("detail")
        .group_by("date", "detail")
        .agg(pl.col("nip").sort(), pl.col("unit_code").sort_by("nip"))
        .sort("date", "detail")
    )
    device_rows = [
        {
            "date": r["date"].isoformat(),
            "device": r["detail"],
            "size": len(r["nip"]),
            "members": who(r["nip"], r["unit_code"]),
        }
        for r in devices.iter_rows(named=True)
    ]
    travel = v.filter(pl.col("rule") == "IMPOSSIBLE_TRAVEL").sort("date", "nip")
    travel_rows = [
        {
            "date": r["date"].isoformat(),
            "nip": r["nip"],
            "name": names.get(r["nip"], r["nip"]),
            "unit_code": r["unit_code"],
            "speed_kmh": r["detail"],
            "distance_m": r["distance_m"],
        }
        for r in travel.iter_rows(named=True)
    ]
    dup = (
        v.filter(pl.col("rule") == "DUPLICATE_OUTPUT")
        .group_by("nip", "unit_code")
        .agg(pl.col("date").sort())
        .sort(pl.col("date").list.len(), "nip", descending=[True, False])
    )
    dup_rows = [
        {
            "nip": r["nip"],
            "name": names.get(r["nip"], r["nip"]),
            "unit_code": r["unit_code"],
            "days": len(r["date"]),
            "dates": [d.isoformat() for d in r["date"]],
        }
        for r in dup.iter_rows(named=True)
    ]
    return (
        {
            "shared_coordinates": groups,
            "shared_devices": device_rows,
            "impossible_travel": travel_rows,
            "duplicate_outputs": dup_rows,
        },
        group_of,
    )


def _violation_rows(
    res: Results, names: dict[str, str], group_of: dict[tuple[str, str], str]
) -> list[dict[str, Any]]:
    rows = []
    for r in res.violations.sort("unit_code", "nip", "date", "rule").iter_rows(named=True):
        date = r["date"].isoformat()
        detail = r["detail"]
        if r["rule"] == "SHARED_COORDINATES":
            detail = group_of.get((date, detail or ""), "…")
        rows.append(
            {
                "nip": r["nip"],
                "name": names.get(r["nip"], r["nip"]),
                "unit_code": r["unit_code"],
                "date": date,
                "rule": r["rule"],
                "minutes": r["minutes"],
                "distance_m": r["distance_m"],
                "detail": _redact(detail),
            }
        )
    return rows


def _data_quality(audit: dict[str, Any], unit: str | None) -> dict[str, Any]:
    """audit.json's data quality; in a one-agency report, its per-agency lists cut to it
    (another agency's employees are never named)."""
    dq = dict(audit.get("data_quality") or {})
    dq.setdefault("rejects_by_code", {})
    dq.setdefault("units_without_roster", [])
    if unit is None:
        return dq
    dq["units_without_roster"] = [u for u in dq["units_without_roster"] if u == unit]
    for key in ("possibly_missing_data", "unknown_office"):
        if key in dq:
            dq[key] = [r for r in dq[key] or [] if r.get("unit_code") == unit]
    if "unknown_office" in dq:
        wfo_days = (int(r.get("wfo_days") or 0) for r in dq["unknown_office"])
        dq["unknown_office_wfo_days"] = sum(wfo_days)
    if "home_accepted_without_roster" in dq:
        by_unit = dq["home_accepted_without_roster"] or {}
        dq["home_accepted_without_roster"] = {u: n for u, n in by_unit.items() if u == unit}
    return dq


# --- the model --------------------------------------------------------------


def build_report(
    results_dir: Path | str, *, unit: str | None = None, store: Path | str | None = None
) -> dict[str, Any]:
    """The report model of the audit result in ``results_dir`` (all agencies or ``unit``)."""
    res = Results(Path(results_dir))
    if unit is not None:
        unit = res.resolve_unit(unit)
        res = res.only_unit(unit)
    audit = res.audit
    names, unit_names = _store_names(store)
    for nip, name in zip(
        res.employee_summary.get_column("nip").to_list(),
        res.employee_summary.get_column("name").to_list()
        if "name" in res.employee_summary.columns
        else [None] * res.employee_summary.height,
        strict=True,
    ):
        if name and nip not in names:
            names[nip] = name

    period = dict(audit.get("period") or {})
    start = dt.date.fromisoformat(period["start"]) if period.get("start") else None
    end = dt.date.fromisoformat(period["end"]) if period.get("end") else None
    caps = _caps(audit, start, end)
    in_force = audit.get("wfh_periods_in_force")
    if in_force is None:
        in_force = [c["name"] for c in caps]
    shares = [c["max_share"] for c in caps if c["name"] in in_force and c["max_share"] is not None]
    cap = min(shares) if shares else None

    summary = _summary(res)
    previous = _previous(res, unit)
    summary["previous"] = previous
    summary["change"] = _change(summary, previous)
    summary["rules_shown"] = [
        r
        for r in ALL_RULES
        if r in summary["violations_by_rule"] or r in summary["unit_findings_by_rule"]
    ]

    integrity, group_of = _integrity(res, names)
    employees = _employees(res, names, unit_names)
    policy = audit.get("policy") or {}
    store_info = audit.get("store") or {}
    return {
        "header": {
            "period": period,
            "unit": unit,
            "unit_name": unit_names.get(unit, unit) if unit else None,
            "wfh_policies": list(in_force),
            "wfh_caps": caps,
            "max_share": cap,
            "store_path": store_info.get("path"),
            # a table the store never wrote (e.g. no rejects yet) has no version: not listed
            "store_versions": {
                k: v for k, v in (store_info.get("versions") or {}).items() if v is not None
            },
            "policy_sources": audit.get("policy_sources"),
            "as_of": audit.get("as_of"),
            "days_left_out": _count(audit.get("days_left_out")),
            "audit_generated_at": audit.get("generated_at"),
            "generated_at": dt.datetime.now(WIB).replace(microsecond=0).isoformat(),
            "tool_version": __version__,
            "audit_tool_version": audit.get("tool_version"),
            "minutes_per_day": policy.get("minutes_per_day", 450),
            "results_dir": str(res.dir),
        },
        "summary": summary,
        "daily": _daily(res.employee_days),
        "units": _units(res, unit_names, cap),
        "unit_daily": _unit_daily(res),
        "employees": employees,
        "employees_limit": None if unit else TOP_EMPLOYEES,
        "violations": _violation_rows(res, names, group_of),
        "unit_findings": _records(
            res.unit_findings.filter(~_is_missing_data()).sort("unit_code", "date", "rule")
        ),
        # the agency-days whose data is missing (ATTENDANCE_/OUTPUT_DATA_MISSING): shown as
        # missing data ("data K-Mob tidak ada untuk PD ini pada hari itu"), not as violations
        "missing_data": _records(
            res.unit_findings.filter(_is_missing_data()).sort(
                "unit_code", "date", "rule"
            )
        ),
        "integrity": integrity,
        "data_quality": _data_quality(audit, unit),
        # issue 12: the "Klarifikasi" section (waived findings, share answered, responses)
        "clarifications": clarifications_section(
            res.dir, res.violations, res.unit_findings, unit=unit, names=names,
            unit_names=unit_names,
        ),
    }
