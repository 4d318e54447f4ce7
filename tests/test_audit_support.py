"""Helpers for the audit tests (no tests here): build stores from CSV or rows."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from wfhaudit.audit.period import Period, range_period
from wfhaudit.audit.run import AuditResult, run_audit
from wfhaudit.policy import Policy, load_policy
from wfhaudit.schema import TABLES
from wfhaudit.store import Store

WORKED = Path(__file__).parent / "data" / "worked"


def read_csv(kind: str, path: Path) -> pl.DataFrame:
    """A canonical CSV as the canonical frame (nip as text, dates, naive datetimes)."""
    schema = TABLES[kind].schema
    frame = pl.read_csv(path, infer_schema=False)
    exprs = []
    for name, dtype in schema.items():
        col = pl.col(name)
        if name not in frame.columns:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
        elif dtype == pl.Date:
            exprs.append(col.str.to_date("%Y-%m-%d", strict=True).alias(name))
        elif isinstance(dtype, pl.Datetime):
            exprs.append(col.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us").alias(name))
        else:
            exprs.append(col.cast(dtype).alias(name))
    return frame.select(exprs)


def store_from_dir(directory: Path, path: Path, kinds: tuple[str, ...] | None = None) -> Store:
    store = Store(path)
    for kind in kinds or tuple(TABLES):
        file = directory / f"{kind}.csv"
        if file.exists():
            store.write(kind, read_csv(kind, file))
    return store


def frame(kind: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows (dicts, missing keys = null) as a canonical frame of ``kind``."""
    schema = TABLES[kind].schema
    return pl.DataFrame(
        [{c: r.get(c) for c in schema} for r in rows], schema=schema, orient="row"
    )


def worked_period() -> Period:
    start, end = (WORKED / "period.txt").read_text().split()
    return range_period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))


def policy_with(**changes: Any) -> Policy:
    """The Jabar default with some attributes replaced."""
    return dataclasses.replace(load_policy(), **changes)


# A (unit U1, office O1 at -6.9022, 107.6186, home at -6.9200, 107.6000) of rules.md.
NIP_A = "198501012010011001"
O1 = (-6.9022, 107.6186)
HOME_A = (-6.9200, 107.6000)


def employee(nip: str = NIP_A, unit: str = "U1", office: str = "O1", home=HOME_A, **kw: Any):
    row = {
        "nip": nip,
        "name": f"Pegawai {nip[-3:]}",
        "unit_code": unit,
        "unit_name": f"Dinas {unit}",
        "office_id": office,
        "home_lat": home[0] if home else None,
        "home_lon": home[1] if home else None,
    }
    row.update(kw)
    return row


def event(ts: str, kind: str, where=O1, nip: str = NIP_A, **kw: Any) -> dict[str, Any]:
    row = {
        "nip": nip,
        "ts": dt.datetime.fromisoformat(ts),
        "kind": kind,
        "lat": where[0] if where else None,
        "lon": where[1] if where else None,
        "accuracy_m": 5.0,
        "device_id": f"dev-{nip}",
    }
    row.update(kw)
    return row


def report(day: str, at: str, text: str = "Menyusun laporan anggaran", nip: str = NIP_A):
    return {
        "nip": nip,
        "date": dt.date.fromisoformat(day),
        "submitted_at": dt.datetime.fromisoformat(at),
        "text": text,
    }


def make_store(
    path: Path,
    *,
    employees: list[dict[str, Any]] | None = None,
    offices: list[dict[str, Any]] | None = None,
    attendance: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    roster: list[dict[str, Any]] | None = None,
    leave: list[dict[str, Any]] | None = None,
) -> Store:
    """A store with the given rows; employees default to A, offices to O1.

    Required tables are always created (empty when no rows are given)."""
    store = Store(path)
    tables = {
        "employees": employees if employees is not None else [employee()],
        "offices": offices
        if offices is not None
        else [{"office_id": "O1", "name": "Gedung Sate", "lat": O1[0], "lon": O1[1],
               "radius_m": 100.0}],
        "attendance": attendance or [],
        "outputs": outputs or [],
        "roster": roster or [],
        "leave": leave or [],
    }
    for kind, rows in tables.items():
        df = frame(kind, rows)
        if df.height:
            store.write(kind, df)
        elif kind in ("employees", "offices", "attendance", "outputs"):
            _write_empty(store, kind)
    return store


def _write_empty(store: Store, kind: str) -> None:
    """Create an empty Delta table (Store.write skips empty frames)."""
    table = TABLES[kind]
    df = table.empty()
    part = table.partition_expr()
    options = None
    if part is not None:
        df = df.with_columns(part)
        options = {"partition_by": ["month"]}
    store.path.mkdir(parents=True, exist_ok=True)
    df.write_delta(str(store.table_path(kind)), mode="error", delta_write_options=options)


def audit(
    store: Store,
    start: str,
    end: str | None = None,
    policy: Policy | None = None,
    as_of: str = "2027-01-01",
    out: Path | None = None,
) -> AuditResult:
    period = range_period(dt.date.fromisoformat(start), dt.date.fromisoformat(end or start))
    return run_audit(
        store,
        period,
        policy or load_policy(),
        as_of=dt.date.fromisoformat(as_of),
        out_dir=out or (store.path.parent / "out"),
    )


def rows(result: AuditResult, *rules: str) -> list[tuple]:
    """Violations as (date iso, rule, minutes, distance_m, detail), optionally of some rules."""
    v = result.violations
    if rules:
        v = v.filter(pl.col("rule").is_in(list(rules)))
    return [
        (r["nip"], r["date"].isoformat(), r["rule"], r["minutes"], r["distance_m"], r["detail"])
        for r in v.iter_rows(named=True)
    ]
