"""The fairness example of rules.md ("More examples"), audited end to end.

``tests/data/fairness/`` is a copy of the spec's ``examples/fairness/``: one case per
fairness rule (stale roster at the office / at home / elsewhere, an agency missing
from one day's export, a transfer, the 0.1 m fence, the accuracy allowances and
duty days of IMPOSSIBLE_TRAVEL), plus three clarifications.

Waivers (the clarifications step): the kept rows are exactly ``expected_*``, the
waived ones ``expected_waived_*`` (with ``reason`` / ``decided_by``), and the summary
counts waived rows nowhere.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from test_audit_support import store_from_dir

from wfhaudit.audit.period import range_period
from wfhaudit.audit.run import run_audit
from wfhaudit.policy import load_policy
from wfhaudit.schema import UNIT_FINDINGS_SCHEMA, VIOLATIONS_SCHEMA

FAIRNESS = Path(__file__).parent / "data" / "fairness"
START, END = (dt.date.fromisoformat(d) for d in (FAIRNESS / "period.txt").read_text().split())
B, C, G, H = (
    "199002022015012002",
    "199103032016013003",
    "199406062019016006",
    "199507072020017007",
)


@pytest.fixture(scope="module")
def result_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fairness")
    store = store_from_dir(FAIRNESS, root / "store")
    out = root / "out"
    as_of = END + dt.timedelta(days=1)  # no --as-of limit: nothing pending
    run_audit(store, range_period(START, END), load_policy(), as_of=as_of, out_dir=out)
    return out


def _csv(name: str, schema: pl.Schema) -> pl.DataFrame:
    extra = {"reason": pl.String(), "decided_by": pl.String()}
    full = pl.Schema({**schema, **extra}) if name.startswith("expected_waived") else schema
    return pl.read_csv(FAIRNESS / name, schema=full).select(list(schema))


def _rows(frame: pl.DataFrame) -> set[tuple]:
    return set(frame.rows())


def _waived(result_dir: Path, name: str, schema: pl.Schema) -> pl.DataFrame:
    path = result_dir / name
    if not path.exists():
        return pl.DataFrame(schema=schema)
    return pl.read_parquet(path).select(list(schema))


def test_violations_kept_and_waived_are_the_expected_rows(result_dir: Path) -> None:
    got = pl.read_parquet(result_dir / "violations.parquet")
    assert got.schema == VIOLATIONS_SCHEMA
    want = _csv("expected_violations.csv", VIOLATIONS_SCHEMA)
    want_waived = _csv("expected_waived_violations.csv", VIOLATIONS_SCHEMA)
    waived = _waived(result_dir, "waived_violations.parquet", VIOLATIONS_SCHEMA)
    assert _rows(got) | _rows(waived) == _rows(want) | _rows(want_waived)
    assert got.height + waived.height == want.height + want_waived.height == 13
    # with the clarifications step: exactly the kept rows, and the waived ones with reasons
    assert got.to_dicts() == want.to_dicts()
    full = pl.read_csv(FAIRNESS / "expected_waived_violations.csv",
                       schema_overrides={"nip": pl.String, "date": pl.Date, "minutes": pl.Int64,
                                         "distance_m": pl.Float64, "detail": pl.String})
    assert pl.read_parquet(result_dir / "waived_violations.parquet").select(
        full.columns).to_dicts() == full.to_dicts()


def test_unit_findings_kept_and_waived_are_the_expected_rows(result_dir: Path) -> None:
    got = pl.read_parquet(result_dir / "unit_findings.parquet").with_columns(
        pl.col("share").round(6)
    )
    want = _csv("expected_unit_findings.csv", UNIT_FINDINGS_SCHEMA)
    want_waived = _csv("expected_waived_unit_findings.csv", UNIT_FINDINGS_SCHEMA)
    waived = _waived(result_dir, "waived_unit_findings.parquet", UNIT_FINDINGS_SCHEMA)
    assert _rows(got) | _rows(waived) == _rows(want) | _rows(want_waived)
    assert got.height + waived.height == 5
    assert got.to_dicts() == want.to_dicts() and waived.to_dicts() == want_waived.to_dicts()


def test_summary_is_exactly_the_expected_rows(result_dir: Path) -> None:
    want = pl.read_csv(FAIRNESS / "expected_summary.csv", schema_overrides={"nip": pl.String})
    got = (
        pl.read_parquet(result_dir / "employee_summary.parquet")
        .select(want.columns)
        .with_columns(pl.col("equivalent_days").round(6))
    )
    # waived rows count nowhere: A, D and K2's summaries too
    assert got.sort("nip").to_dicts() == want.sort("nip").to_dicts()
    assert got.height == want.height == 17


def test_ytd_is_zero_for_everyone(result_dir: Path) -> None:
    summary = pl.read_parquet(result_dir / "employee_summary.parquet")
    assert summary["ytd_equivalent_days"].to_list() == [0.0] * summary.height


def _day(days: pl.DataFrame, nip: str, day: str) -> dict:
    return days.filter((pl.col("nip") == nip) & (pl.col("date") == dt.date.fromisoformat(day))
                       ).to_dicts()[0]


def test_evidence_of_the_stale_roster_and_the_transfer(result_dir: Path) -> None:
    days = pl.read_parquet(result_dir / "employee_days.parquet")
    for day in ("2026-01-05", "2026-01-06", "2026-01-07"):
        b = _day(days, B, day)
        assert (b["planned_mode"], b["expected_mode"], b["home_accepted"]) == ("WFH", "WFO", True)
    # C: U1 / O1 up to 7 Dec, U2 / O2 from 8 Dec (row in force)
    assert (_day(days, C, "2025-12-05")["unit_code"], _day(days, C, "2025-12-05")["office_id"]) \
        == ("U1", "O1")
    assert (_day(days, C, "2025-12-08")["unit_code"], _day(days, C, "2025-12-08")["office_id"]) \
        == ("U2", "O2")
    # G on 5 Dec: no roster entry on a WFH-allowed day, default WFO: home also accepted
    g = _day(days, G, "2025-12-05")
    assert (g["planned_mode"], g["expected_mode"], g["home_accepted"]) == ("WFO", "WFO", True)
    # U4's eight staff on 9 Dec: no attendance data (the gap rule), reports present
    u4 = days.filter((pl.col("unit_code") == "U4") & (pl.col("date") == dt.date(2025, 12, 9)))
    assert u4.height == 8
    assert set(u4["status"]) == {"no_attendance_data"}
    assert set(u4["output_data"]) == {"present"}
    assert _day(days, H, "2025-12-09")["status"] == "duty"


def test_no_roster_home_accepted_is_listed_in_data_quality(result_dir: Path) -> None:
    import json

    quality = json.loads((result_dir / "audit.json").read_text())["data_quality"]
    # 41 required employee-days with events on WFH-allowed December days without roster
    assert sum(quality["home_accepted_without_roster"].values()) == 41
    assert quality["possibly_missing_data"] == []
    assert quality["unknown_office_wfo_days"] == 0
