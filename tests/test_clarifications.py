"""Clarifications waive findings (rules.md "Clarifications", issue 12).

The waiver step on hand-made frames (exact rows), then through the audit on small
stores: waived findings leave violations / unit findings for the waived files and
count nowhere else (summary, year to date, audit.json, --fail-on); then the fairness
example's exact waived rows.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from test_audit_support import (
    NIP_A,
    audit,
    employee,
    event,
    frame,
    make_store,
    read_csv,
    store_from_dir,
)

from wfhaudit.audit.clarifications import apply_clarifications, key_order, waive_violations
from wfhaudit.audit.partitioned import run_audit_partitioned
from wfhaudit.audit.period import range_period
from wfhaudit.audit.summary import crossed_thresholds
from wfhaudit.policy import load_policy
from wfhaudit.schema import (
    UNIT_FINDINGS_SCHEMA,
    UNIT_RULES,
    VIOLATIONS_SCHEMA,
    WAIVED_UNIT_FINDINGS_SCHEMA,
    WAIVED_VIOLATIONS_SCHEMA,
)
from wfhaudit.store import Store

FAIRNESS = Path(__file__).parent / "data" / "fairness"
NIP_B = "199204042017014004"
NIP_E = "199305052018015005"
D10 = dt.date(2025, 12, 10)
D11 = dt.date(2025, 12, 11)


def vio(nip: str, unit: str, rule: str, day: dt.date = D10, minutes: int | None = None) -> dict:
    return {"nip": nip, "date": day, "unit_code": unit, "rule": rule, "minutes": minutes,
            "distance_m": None, "detail": None}


def violations(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=VIOLATIONS_SCHEMA, orient="row")


def finding(unit: str, rule: str, day: dt.date = D10) -> dict:
    return {"unit_code": unit, "date": day, "rule": rule, "count": 3, "headcount": 4,
            "share": 0.75}


def findings(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=UNIT_FINDINGS_SCHEMA, orient="row")


def clar(
    reason: str,
    *,
    nip: str | None = None,
    unit: str | None = None,
    start: dt.date = D10,
    end: dt.date | None = None,
    rule: str | None = None,
    by: str = "Kepala BKD",
) -> dict[str, Any]:
    return {"nip": nip, "unit_code": unit, "start": start, "end": end or start, "rule": rule,
            "reason": reason, "decided_by": by}


def clarifications(*rows: dict) -> pl.DataFrame:
    return frame("clarifications", list(rows))


#: the chunk every waiver test starts from: A and B of U1, E of U2, one U1 and one U2
#: agency finding, all on 10 Dec, and A's LATE of 11 Dec
VIOLATIONS = violations(
    vio(NIP_A, "U1", "EARLY_LEAVE", minutes=10),
    vio(NIP_A, "U1", "LATE", minutes=22),
    vio(NIP_A, "U1", "LATE", D11, minutes=3),
    vio(NIP_B, "U1", "LATE", minutes=1),
    vio(NIP_B, "U1", "NO_DAILY_OUTPUT"),
    vio(NIP_E, "U2", "LATE", minutes=10),
)
FINDINGS = findings(finding("U1", "WFH_QUOTA_EXCEEDED"), finding("U2", "WFH_QUOTA_EXCEEDED"))


def waived_keys(frame_: pl.DataFrame) -> list[tuple]:
    cols = [c for c in ("nip", "unit_code", "date", "rule", "reason") if c in frame_.columns]
    return [tuple(r[c] for c in cols) for r in frame_.iter_rows(named=True)]


def split(*rows: dict):
    return apply_clarifications(VIOLATIONS, FINDINGS, clarifications(*rows))


# --- the waiver step: exact rows -------------------------------------------------------


def test_no_clarification_waives_nothing() -> None:
    w = apply_clarifications(VIOLATIONS, FINDINGS, clarifications())
    assert w.violations.equals(VIOLATIONS) and w.unit_findings.equals(FINDINGS)
    assert w.waived_violations.schema == WAIVED_VIOLATIONS_SCHEMA
    assert w.waived_unit_findings.schema == WAIVED_UNIT_FINDINGS_SCHEMA
    assert w.waived_violations.height == w.waived_unit_findings.height == 0


def test_employee_level_without_rule_waives_every_finding_of_that_day() -> None:
    w = split(clar("rapat", nip=NIP_A))
    assert waived_keys(w.waived_violations) == [
        (NIP_A, "U1", D10, "EARLY_LEAVE", "rapat"),
        (NIP_A, "U1", D10, "LATE", "rapat"),
    ]
    # A's LATE of the next day, B, E and both agency findings stay
    assert w.violations.height == 4 and (NIP_A, "U1", D11, "LATE") in waived_keys(w.violations)
    assert w.unit_findings.equals(FINDINGS)
    assert w.waived_violations["decided_by"].to_list() == ["Kepala BKD"] * 2
    assert w.waived_violations.select(list(VIOLATIONS_SCHEMA)).to_dicts() == [
        VIOLATIONS.row(0, named=True), VIOLATIONS.row(1, named=True)
    ]


def test_employee_level_with_rule_waives_only_that_rule() -> None:
    w = split(clar("K-Mob", nip=NIP_A, rule="LATE", end=D11))
    assert waived_keys(w.waived_violations) == [
        (NIP_A, "U1", D10, "LATE", "K-Mob"),
        (NIP_A, "U1", D11, "LATE", "K-Mob"),
    ]
    assert w.violations["rule"].to_list() == ["EARLY_LEAVE", "LATE", "NO_DAILY_OUTPUT", "LATE"]


def test_agency_level_without_rule_waives_its_staff_and_its_agency_findings() -> None:
    w = split(clar("uji coba", unit="U1"))
    assert [k[:4] for k in waived_keys(w.waived_violations)] == [
        (NIP_A, "U1", D10, "EARLY_LEAVE"),
        (NIP_A, "U1", D10, "LATE"),
        (NIP_B, "U1", D10, "LATE"),
        (NIP_B, "U1", D10, "NO_DAILY_OUTPUT"),
    ]
    assert waived_keys(w.waived_unit_findings) == [("U1", D10, "WFH_QUOTA_EXCEEDED", "uji coba")]
    assert w.unit_findings["unit_code"].to_list() == ["U2"]
    assert w.violations["nip"].to_list() == [NIP_A, NIP_E]  # A on 11 Dec; E of U2


def test_agency_level_with_rule() -> None:
    w = split(clar("K-Mob gangguan", unit="U1", rule="LATE"))
    assert [k[:4] for k in waived_keys(w.waived_violations)] == [
        (NIP_A, "U1", D10, "LATE"),
        (NIP_B, "U1", D10, "LATE"),
    ]
    assert w.waived_unit_findings.height == 0  # a LATE row does not match an agency finding
    # E of U2 keeps LATE 10: another agency (the fairness example's contrast)
    assert (NIP_E, "U2", D10, "LATE") in waived_keys(w.violations)


def test_global_without_rule_waives_everything_of_the_day() -> None:
    w = split(clar("libur mendadak"))
    assert w.waived_violations.height == 5 and w.waived_unit_findings.height == 2
    assert waived_keys(w.violations) == [(NIP_A, "U1", D11, "LATE")]
    assert w.unit_findings.height == 0


def test_global_with_rule() -> None:
    w = split(clar("K-Mob down", rule="LATE"))
    assert [k[0] for k in waived_keys(w.waived_violations)] == [NIP_A, NIP_B, NIP_E]
    assert w.unit_findings.equals(FINDINGS)


def test_agency_finding_is_waived_only_by_a_row_with_empty_nip() -> None:
    w = split(
        clar("izin", nip=NIP_A, unit="U1"), clar("izin", nip=NIP_B, rule="WFH_QUOTA_EXCEEDED")
    )
    assert w.waived_unit_findings.height == 0 and w.unit_findings.equals(FINDINGS)
    w = split(clar("kuota disetujui", unit="U1", rule="WFH_QUOTA_EXCEEDED"))
    assert waived_keys(w.waived_unit_findings) == [
        ("U1", D10, "WFH_QUOTA_EXCEEDED", "kuota disetujui")
    ]
    assert w.waived_violations.height == 0


def test_the_first_matching_clarification_in_key_order_gives_the_reason() -> None:
    # given in the "wrong" order: A's own row, then U1's row; U1's (empty nip) sorts first
    w = split(
        clar("Izin atasan: rapat di Bappeda", nip=NIP_A, by="Kepala Dinas Satu"),
        clar("K-Mob gangguan 07:00-09:00", unit="U1", rule="LATE"),
    )
    got = {(r["nip"], r["rule"]): (r["reason"], r["decided_by"])
           for r in w.waived_violations.iter_rows(named=True)}
    assert got == {
        (NIP_A, "EARLY_LEAVE"): ("Izin atasan: rapat di Bappeda", "Kepala Dinas Satu"),
        (NIP_A, "LATE"): ("K-Mob gangguan 07:00-09:00", "Kepala BKD"),
        (NIP_B, "LATE"): ("K-Mob gangguan 07:00-09:00", "Kepala BKD"),
    }
    # among rows that differ only in start, the earlier start comes first
    w = split(
        clar("kedua", nip=NIP_A, rule="LATE", start=D10, end=D11),
        clar("pertama", nip=NIP_A, rule="LATE", start=dt.date(2025, 12, 1), end=D11),
    )
    assert w.waived_violations["reason"].to_list() == ["pertama", "pertama"]


def test_dates_are_inclusive_and_outside_days_stay() -> None:
    w = split(clar("sehari", nip=NIP_A, start=D11))
    assert waived_keys(w.waived_violations) == [(NIP_A, "U1", D11, "LATE", "sehari")]
    w = split(clar("kemarin", nip=NIP_A, start=dt.date(2025, 12, 1), end=dt.date(2025, 12, 9)))
    assert w.waived_violations.height == 0


def test_open_and_waived_partition_the_chunk() -> None:
    w = split(clar("a", nip=NIP_B), clar("b", unit="U2", rule="LATE"))
    back = pl.concat([w.violations, w.waived_violations.select(list(VIOLATIONS_SCHEMA))])
    assert sorted(back.rows()) == sorted(VIOLATIONS.rows())
    assert w.violations.height + w.waived_violations.height == VIOLATIONS.height
    assert waive_violations(VIOLATIONS, clarifications(clar("a", nip=NIP_B))).equals(
        w.violations.filter(pl.col("nip") != NIP_E).vstack(
            VIOLATIONS.filter(pl.col("nip") == NIP_E)
        )
    )


def test_key_order_puts_empty_cells_first() -> None:
    rows = key_order(clarifications(clar("x", nip=NIP_A), clar("y", unit="U1"), clar("z")))
    assert rows["reason"].to_list() == ["z", "y", "x"]
    assert rows["nip"].to_list() == ["", "", NIP_A]


# --- through the audit: small stores -------------------------------------------------

NIP_C = "199001012015011003"
#: where each employee checks in: inside O1's fence, a few metres apart (no shared point)
SPOT = {NIP_A: (-6.90225, 107.6186), NIP_B: (-6.90230, 107.6186), NIP_C: (-6.90235, 107.6186)}


def at(ts: str, kind: str, nip: str = NIP_A) -> dict:
    return event(ts, kind, where=SPOT[nip], nip=nip)


def _u1_store(path: Path) -> Store:
    """A and B of U1, C of U2; on Tue 2 Dec A is 15 min late, B 5 min late, C 20 min late;
    on Wed 3 Dec A is absent (B and C are there); every day reported."""
    day2 = [
        at("2025-12-02 07:45:00", "IN"), at("2025-12-02 16:05:00", "OUT"),
        at("2025-12-02 07:35:00", "IN", nip=NIP_B),
        at("2025-12-02 16:05:00", "OUT", nip=NIP_B),
        at("2025-12-02 07:50:00", "IN", nip=NIP_C),
        at("2025-12-02 16:05:00", "OUT", nip=NIP_C),
    ]
    day3 = [
        at("2025-12-03 07:20:00", "IN", nip=NIP_B),
        at("2025-12-03 16:05:00", "OUT", nip=NIP_B),
        at("2025-12-03 07:20:00", "IN", nip=NIP_C),
        at("2025-12-03 16:05:00", "OUT", nip=NIP_C),
    ]
    outputs = [
        {"nip": n, "date": dt.date(2025, 12, d),
         "submitted_at": dt.datetime(2025, 12, d, 17), "text": "Menyusun laporan anggaran"}
        for n in (NIP_A, NIP_B, NIP_C) for d in (2, 3)
    ]
    return make_store(
        path,
        employees=[employee(), employee(NIP_B), employee(NIP_C, unit="U2")],
        attendance=day2 + day3,
        outputs=outputs,
    )


def _minutes(result, nip: str) -> dict[str, Any]:
    row = result.employee_summary.filter(pl.col("nip") == nip).to_dicts()[0]
    return {k: row[k] for k in ("absent_days", "late_minutes", "equivalent_days")}


def test_audit_moves_waived_rows_and_counts_them_nowhere_else(tmp_path: Path) -> None:
    store = _u1_store(tmp_path / "store")
    before = audit(store, "2025-12-02", "2025-12-03", out=tmp_path / "before")
    assert [(r["nip"], r["rule"], r["minutes"]) for r in
            before.violations.filter(pl.col("rule").is_in(["LATE", "ABSENT"])).iter_rows(named=True)
            ] == [(NIP_A, "LATE", 15), (NIP_A, "ABSENT", None), (NIP_B, "LATE", 5),
                  (NIP_C, "LATE", 20)]
    store.write("clarifications", clarifications(
        clar("K-Mob gangguan", unit="U1", rule="LATE", start=dt.date(2025, 12, 2)),
    ))
    out = tmp_path / "after"
    after = audit(store, "2025-12-02", "2025-12-03", out=out)
    waived = pl.read_parquet(out / "waived_violations.parquet")
    assert waived.schema == WAIVED_VIOLATIONS_SCHEMA
    assert [(r["nip"], r["rule"], r["minutes"], r["reason"]) for r in waived.iter_rows(named=True)
            ] == [(NIP_A, "LATE", 15, "K-Mob gangguan"), (NIP_B, "LATE", 5, "K-Mob gangguan")]
    assert pl.read_parquet(out / "waived_unit_findings.parquet").height == 0
    on_disk = pl.read_parquet(out / "violations.parquet")
    assert on_disk.filter(pl.col("rule") == "LATE")["nip"].to_list() == [NIP_C]
    assert on_disk.height == before.violations.height - 2
    # the summary and the evidence count only unwaived rows
    assert _minutes(after, NIP_A) == {"absent_days": 1, "late_minutes": 0, "equivalent_days": 1.0}
    assert _minutes(after, NIP_B)["late_minutes"] == 0
    assert _minutes(after, NIP_C)["late_minutes"] == 20
    days = pl.read_parquet(out / "employee_days.parquet")
    b2 = days.filter((pl.col("nip") == NIP_B) & (pl.col("date") == dt.date(2025, 12, 2)))
    assert b2["violations"].to_list() == [0]
    # audit.json counts them by rule and names the clarifications version read
    meta = json.loads((out / "audit.json").read_text())
    assert meta["clarifications"] == {"version": 0, "rows": 1}
    assert meta["store"]["versions"]["clarifications"] == 0
    assert meta["counts"]["waived_violations"] == 2
    assert meta["counts"]["waived_by_rule"]["LATE"] == 2
    assert meta["counts"]["by_rule"]["LATE"] == 1
    assert meta["counts"]["violations"] == on_disk.height
    # --fail-on sees the unwaived rows only
    assert crossed_thresholds(after, {"LATE": 1}) == []
    assert crossed_thresholds(before, {"LATE": 1}) == ["LATE: 3 > 1"]


def test_reingested_clarification_with_new_end_and_reason_replaces_the_old(
    tmp_path: Path,
) -> None:
    from wfhaudit.ingest import ingest_files

    store = _u1_store(tmp_path / "store")
    first = tmp_path / "c1.csv"
    first.write_text("nip,unit_code,start,end,rule,reason,decided_by\n"
                     f"{NIP_A},,2025-12-02,2025-12-02,,rapat,Kepala Dinas\n")
    ingest_files(store, "clarifications", [first])
    out = tmp_path / "one"
    audit(store, "2025-12-02", "2025-12-03", out=out)
    assert pl.read_parquet(out / "waived_violations.parquet")["rule"].to_list() == ["LATE"]
    second = tmp_path / "c2.csv"
    second.write_text("nip,unit_code,start,end,rule,reason,decided_by\n"
                      f"{NIP_A},,2025-12-02,2025-12-03,,dinas ke Bappeda,Sekda\n")
    summary = ingest_files(store, "clarifications", [second])
    assert (summary.inserted, summary.replaced) == (0, 1)
    assert store.scan("clarifications").collect().height == 1
    out = tmp_path / "two"
    after = audit(store, "2025-12-02", "2025-12-03", out=out)
    waived = pl.read_parquet(out / "waived_violations.parquet")
    assert [(r["date"].day, r["rule"], r["reason"], r["decided_by"])
            for r in waived.iter_rows(named=True)] == [
        (2, "LATE", "dinas ke Bappeda", "Sekda"),
        (3, "ABSENT", "dinas ke Bappeda", "Sekda"),
    ]
    assert _minutes(after, NIP_A) == {"absent_days": 0, "late_minutes": 0, "equivalent_days": 0.0}
    assert json.loads((out / "audit.json").read_text())["clarifications"]["version"] == 1


def _ytd_store(path: Path) -> Store:
    """A and B of U1.  November: A on time on 3 and 5 Nov, absent on Tue 4 Nov (B there);
    December: both on time on 2 Dec."""
    def day(d: dt.date, nip: str) -> list[dict]:
        return [at(f"{d} 07:20:00", "IN", nip=nip), at(f"{d} 16:05:00", "OUT", nip=nip)]

    nov = [dt.date(2025, 11, 3), dt.date(2025, 11, 4), dt.date(2025, 11, 5)]
    rows = [e for d in nov for e in day(d, NIP_B)]
    rows += day(nov[0], NIP_A) + day(nov[2], NIP_A)
    rows += day(dt.date(2025, 12, 2), NIP_A) + day(dt.date(2025, 12, 2), NIP_B)
    outputs = [
        {"nip": n, "date": d, "submitted_at": dt.datetime(d.year, d.month, d.day, 17),
         "text": "Menyusun laporan anggaran"}
        for n in (NIP_A, NIP_B) for d in [*nov, dt.date(2025, 12, 2)]
    ]
    return make_store(
        path,
        employees=[employee(active_from=dt.date(2025, 11, 3)),
                   employee(NIP_B, active_from=dt.date(2025, 11, 3))],
        attendance=rows,
        outputs=outputs,
    )


def _ytd_of_a(result) -> float:
    return result.employee_summary.filter(pl.col("nip") == NIP_A)["ytd_equivalent_days"].item()


@pytest.mark.parametrize("partitioned", [False, True])
def test_a_waived_absent_lowers_ytd_in_the_next_months_audit(
    tmp_path: Path, partitioned: bool
) -> None:
    store = _ytd_store(tmp_path / "store")
    policy = load_policy()

    def december(out: str):
        if not partitioned:
            return audit(store, "2025-12-02", out=tmp_path / out)
        return run_audit_partitioned(
            store, range_period(dt.date(2025, 12, 2), dt.date(2025, 12, 2)), policy,
            as_of=dt.date(2027, 1, 1), out_dir=tmp_path / out, days_per_partition=1,
        )

    november = audit(store, "2025-11-04", out=tmp_path / "nov")
    assert [r["rule"] for r in november.violations.filter(pl.col("nip") == NIP_A)
            .iter_rows(named=True)] == ["ABSENT"]
    assert _ytd_of_a(december("dec-before")) == 1.0
    store.write("clarifications", clarifications(
        clar("Surat tugas menyusul", nip=NIP_A, start=dt.date(2025, 11, 4), rule="ABSENT"),
    ))
    after = december("dec-after")
    assert _ytd_of_a(after) == 0.0
    # the waived November ABSENT is not a December finding: December waives nothing
    assert pl.read_parquet(tmp_path / "dec-after" / "waived_violations.parquet").height == 0


def test_partitioned_run_writes_the_same_waived_files(tmp_path: Path) -> None:
    store = _u1_store(tmp_path / "store")
    store.write("clarifications", clarifications(
        clar("K-Mob gangguan", unit="U1", rule="LATE", start=dt.date(2025, 12, 2)),
        clar("izin", nip=NIP_A, start=dt.date(2025, 12, 3)),
    ))
    period = range_period(dt.date(2025, 12, 2), dt.date(2025, 12, 3))
    whole = audit(store, "2025-12-02", "2025-12-03", out=tmp_path / "whole")
    run_audit_partitioned(store, period, load_policy(), as_of=dt.date(2027, 1, 1),
                          out_dir=tmp_path / "parts", days_per_partition=1)
    for name in ("violations.parquet", "unit_findings.parquet", "employee_days.parquet",
                 "employee_summary.parquet", "waived_violations.parquet",
                 "waived_unit_findings.parquet"):
        assert pl.read_parquet(tmp_path / "parts" / name).equals(
            pl.read_parquet(tmp_path / "whole" / name)
        ), name
    parts = json.loads((tmp_path / "parts" / "audit.json").read_text())
    assert parts["counts"]["waived_violations"] == whole.meta["counts"]["waived_violations"] == 3
    assert parts["clarifications"] == whole.meta["clarifications"] == {"version": 0, "rows": 2}


# --- the fairness example ---------------------------------------------------------------


def _fairness_period():
    start, end = (FAIRNESS / "period.txt").read_text().split()
    return range_period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))


def test_fairness_clarifications_file_is_the_spec_copy() -> None:
    rows = read_csv("clarifications", FAIRNESS / "clarifications.csv")
    assert rows.height == 3
    assert rows["reason"].to_list() == [
        "K-Mob gangguan 07:00-09:00", "Izin atasan: rapat di Bappeda",
        "Uji coba jadwal WFH disetujui",
    ]


def test_fairness_example_gives_exactly_its_waived_rows(tmp_path: Path) -> None:
    from wfhaudit.audit.run import run_audit

    store = store_from_dir(FAIRNESS, tmp_path / "store")
    out = tmp_path / "out"
    run_audit(store, _fairness_period(), load_policy(), as_of=dt.date(2026, 2, 1), out_dir=out)
    for name, schema in (
        ("waived_violations", WAIVED_VIOLATIONS_SCHEMA),
        ("waived_unit_findings", WAIVED_UNIT_FINDINGS_SCHEMA),
        ("violations", VIOLATIONS_SCHEMA),
        ("unit_findings", UNIT_FINDINGS_SCHEMA),
    ):
        got = pl.read_parquet(out / f"{name}.parquet")
        if "share" in got.columns:
            got = got.with_columns(pl.col("share").round(6))
        want = pl.read_csv(FAIRNESS / f"expected_{name}.csv", schema=schema)
        assert got.schema == schema
        assert got.to_dicts() == want.to_dicts(), name
    summary = pl.read_parquet(out / "employee_summary.parquet").with_columns(
        pl.col("equivalent_days").round(6)
    )
    want = pl.read_csv(FAIRNESS / "expected_summary.csv", schema_overrides={"nip": pl.String})
    got = summary.select(want.columns).sort("nip")
    assert got.to_dicts() == want.sort("nip").to_dicts()


# --- against a plain reading of rules.md, on random chunks -------------------------------


def _reference(findings_: list[dict], rows: list[dict], agency: bool) -> list[str | None]:
    """rules.md read literally: per finding, the reason of the first matching row in key
    order (empty cells first), or None."""
    ordered = sorted(rows, key=lambda c: (c["nip"] or "", c["unit_code"] or "", c["start"],
                                          c["rule"] or ""))
    out = []
    for f in findings_:
        reason = None
        for c in ordered:
            if agency and c["nip"]:
                continue
            if (
                (not c["nip"] or c["nip"] == f.get("nip"))
                and (not c["unit_code"] or c["unit_code"] == f["unit_code"])
                and c["start"] <= f["date"] <= c["end"]
                and (not c["rule"] or c["rule"] == f["rule"])
            ):
                reason = c["reason"]
                break
        out.append(reason)
    return out


@pytest.mark.parametrize("seed", range(20))
def test_waiver_equals_the_plain_reading_of_the_rule(seed: int) -> None:
    import random

    rng = random.Random(seed)
    nips, units = [NIP_A, NIP_B, NIP_E, NIP_C], ["U1", "U2", "U3"]
    rules = ["LATE", "ABSENT", "EARLY_LEAVE"]
    day = lambda: dt.date(2025, 12, rng.randint(1, 6))  # noqa: E731
    vrows = [vio(rng.choice(nips), rng.choice(units), rng.choice(rules), day())
             for _ in range(rng.randint(0, 60))]
    vrows = list({(r["nip"], r["date"], r["rule"]): r for r in vrows}.values())
    urows = [finding(rng.choice(units), rng.choice(UNIT_RULES), day())
             for _ in range(rng.randint(0, 15))]
    urows = list({(r["unit_code"], r["date"], r["rule"]): r for r in urows}.values())
    crows = {}
    for i in range(rng.randint(1, 12)):
        start = day()
        row = clar(f"alasan {i}", nip=rng.choice([None, *nips]), unit=rng.choice([None, *units]),
                   start=start, end=start + dt.timedelta(days=rng.randint(0, 4)),
                   rule=rng.choice([None, *rules, *UNIT_RULES]))
        crows[(row["nip"], row["unit_code"], row["start"], row["rule"])] = row
    rows = list(crows.values())
    w = apply_clarifications(violations(*vrows), findings(*urows), clarifications(*rows))
    want_v = _reference(vrows, rows, agency=False)
    want_u = _reference(urows, rows, agency=True)
    got_v = {(r["nip"], r["date"], r["rule"]): r["reason"]
             for r in w.waived_violations.iter_rows(named=True)}
    got_u = {(r["unit_code"], r["date"], r["rule"]): r["reason"]
             for r in w.waived_unit_findings.iter_rows(named=True)}
    assert got_v == {(r["nip"], r["date"], r["rule"]): reason
                     for r, reason in zip(vrows, want_v, strict=True) if reason is not None}
    assert got_u == {(r["unit_code"], r["date"], r["rule"]): reason
                     for r, reason in zip(urows, want_u, strict=True) if reason is not None}
    assert w.violations.height == sum(reason is None for reason in want_v)
    assert w.unit_findings.height == sum(reason is None for reason in want_u)
