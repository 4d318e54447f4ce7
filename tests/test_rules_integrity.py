"""Integrity rules: SHARED_COORDINATES, SHARED_DEVICE, IMPOSSIBLE_TRAVEL, DUPLICATE_OUTPUT."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from test_audit_support import NIP_A, O1, audit, employee, event, report, rows
from test_rules_support import make_store

from wfhaudit.audit import rules
from wfhaudit.audit.rules import normalised_text

B = "199002022015010002"
C = "199103032016011003"
D = "199204042017012004"
SPOT = (-6.9031, 107.6190)  # inside the office fence
CIREBON = (-6.7063, 108.5570)
GOOD = "Menyusun laporan anggaran"


def _people(*nips: str) -> list[dict]:
    units = ["U1", "U2", "U3", "U4"]
    return [employee(n, unit=units[i]) for i, n in enumerate(nips)]


def _full_day(nip: str, day: str, where=O1, device: str | None = None, text: str = GOOD):
    dev = device or f"dev-{nip}"
    return (
        [event(f"{day} 07:30:00", "IN", where, nip=nip, device_id=dev),
         event(f"{day} 16:00:00", "OUT", O1, nip=nip, device_id=dev)],
        [report(day, f"{day} 17:00:00", text, nip=nip)],
    )


def _store(tmp_path: Path, nips, days: dict[str, dict], leave=()):
    attendance, outputs = [], []
    for nip in nips:
        for day, kw in days.get(nip, {}).items():
            a, o = _full_day(nip, day, **kw)
            attendance += a
            outputs += o
    return make_store(
        tmp_path / "s", employees=_people(*nips), attendance=attendance, outputs=outputs,
        leave=list(leave),
    )


def test_three_employees_share_coordinates_across_agencies(tmp_path: Path) -> None:
    nips = (NIP_A, B, C)
    store = _store(tmp_path, nips, {n: {"2025-12-02": {"where": SPOT}} for n in nips})
    got = rows(audit(store, "2025-12-02"), "SHARED_COORDINATES")
    assert got == [
        (n, "2025-12-02", "SHARED_COORDINATES", None, None, "-6.9031,107.619 (3 employees)")
        for n in nips
    ]
    # the office point itself is shared too at OUT: the larger group (same size) is
    # reported once per employee-day
    assert len({(r[0], r[1]) for r in got}) == 3


def test_two_employees_sharing_coordinates_is_no_finding(tmp_path: Path) -> None:
    nips = (NIP_A, B)
    # OUT events are all at O1 too; only 2 employees, threshold 3
    store = _store(tmp_path, nips, {n: {"2025-12-02": {"where": SPOT}} for n in nips})
    assert rows(audit(store, "2025-12-02"), "SHARED_COORDINATES") == []


def test_shared_coordinates_on_different_days_is_no_finding(tmp_path: Path) -> None:
    nips = (NIP_A, B, C)
    days = {NIP_A: {"2025-12-02": {"where": SPOT}}, B: {"2025-12-02": {"where": SPOT}},
            C: {"2025-12-03": {"where": SPOT}}}
    store = _store(tmp_path, nips, days)
    assert rows(audit(store, "2025-12-02", "2025-12-03"), "SHARED_COORDINATES") == []


def test_excused_employee_does_not_count_for_shared_coordinates(tmp_path: Path) -> None:
    nips = (NIP_A, B, C)
    leave = [{"nip": C, "start": dt.date(2025, 12, 2), "end": dt.date(2025, 12, 2),
              "kind": "CUTI"}]
    store = _store(tmp_path, nips, {n: {"2025-12-02": {"where": SPOT}} for n in nips},
                   leave=leave)
    assert rows(audit(store, "2025-12-02"), "SHARED_COORDINATES") == []


def test_shared_device(tmp_path: Path) -> None:
    nips = (NIP_A, B, C)
    days = {NIP_A: {"2025-12-02": {"device": "HP-1"}}, B: {"2025-12-02": {"device": "HP-1"}},
            C: {"2025-12-02": {"device": "HP-2"}}}
    store = _store(tmp_path, nips, days)
    assert rows(audit(store, "2025-12-02"), "SHARED_DEVICE") == [
        (NIP_A, "2025-12-02", "SHARED_DEVICE", None, None, "HP-1"),
        (B, "2025-12-02", "SHARED_DEVICE", None, None, "HP-1"),
    ]


def test_same_device_on_different_days_or_empty_is_no_finding(tmp_path: Path) -> None:
    nips = (NIP_A, B, C, D)
    days = {NIP_A: {"2025-12-02": {"device": "HP-1"}}, B: {"2025-12-03": {"device": "HP-1"}},
            C: {"2025-12-02": {"device": "  "}}, D: {"2025-12-02": {"device": "  "}}}
    store = _store(tmp_path, nips, days)
    assert rows(audit(store, "2025-12-02", "2025-12-03"), "SHARED_DEVICE") == []


def _travel(tmp_path: Path, second_ts: str, where, leave=()):
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-02 07:30:00", "IN", O1),
                    event(second_ts, "OUT", where)],
        outputs=[report("2025-12-02", "2025-12-02 17:00:00", GOOD)],
        leave=list(leave),
    )
    return rows(audit(store, "2025-12-02"), "IMPOSSIBLE_TRAVEL")


def test_impossible_travel_fires_with_the_speed(tmp_path: Path) -> None:
    # O1 -> Cirebon is about 108.4 km; in 30 minutes: about 217 km/h
    got = _travel(tmp_path, "2025-12-02 08:00:00", CIREBON)
    assert len(got) == 1
    assert got[0][2] == "IMPOSSIBLE_TRAVEL"
    assert 200 < int(got[0][5]) < 230


def test_impossible_travel_zero_time_is_inf(tmp_path: Path) -> None:
    assert [r[5] for r in _travel(tmp_path, "2025-12-02 07:30:00", CIREBON)] == ["inf"]


def test_plausible_travel_is_no_finding(tmp_path: Path) -> None:
    assert _travel(tmp_path, "2025-12-02 16:00:00", CIREBON) == []  # 8.5 h


def test_short_hop_is_never_impossible_travel(tmp_path: Path) -> None:
    near = (O1[0] + 0.008, O1[1])  # about 890 m, same instant
    assert _travel(tmp_path, "2025-12-02 07:30:00", near) == []


def test_impossible_travel_not_on_duty_days(tmp_path: Path) -> None:
    """v2: a flight on a DINAS_LUAR day is the duty, not a fraud (v1 found it)."""
    leave = [{"nip": NIP_A, "start": dt.date(2025, 12, 2), "end": dt.date(2025, 12, 2),
              "kind": "DINAS_LUAR"}]
    assert _travel(tmp_path, "2025-12-02 08:00:00", CIREBON, leave) == []


def test_impossible_travel_skips_events_without_coordinates(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-02 07:30:00", "IN", O1),
                    event("2025-12-02 08:00:00", "OUT", None),
                    event("2025-12-02 08:10:00", "OUT", CIREBON)],
        outputs=[report("2025-12-02", "2025-12-02 17:00:00", GOOD)],
    )
    got = rows(audit(store, "2025-12-02"), "IMPOSSIBLE_TRAVEL")
    assert len(got) == 1 and 150 < int(got[0][5]) < 170  # about 106 km in 40 min


def test_normalised_text() -> None:
    import polars as pl

    s = pl.Series(["  Rapat   Koordinasi\tWFH \n", "rapat koordinasi wfh"])
    assert pl.select(normalised_text(pl.lit(s))).to_series().to_list() == [
        "rapat koordinasi wfh", "rapat koordinasi wfh"
    ]


def test_duplicate_output_on_three_days(tmp_path: Path) -> None:
    texts = {"2025-12-02": "Rapat koordinasi WFH", "2025-12-03": "  rapat  KOORDINASI wfh ",
             "2025-12-04": "Rapat\tkoordinasi\nWFH", "2025-12-05": "Menyusun telaahan staf"}
    store = _store(tmp_path, (NIP_A,), {NIP_A: {d: {"text": t} for d, t in texts.items()}})
    got = rows(audit(store, "2025-12-02", "2025-12-05"), "DUPLICATE_OUTPUT")
    assert got == [(NIP_A, d, "DUPLICATE_OUTPUT", None, None, None)
                   for d in ("2025-12-02", "2025-12-03", "2025-12-04")]


def test_duplicate_output_on_two_days_is_no_finding(tmp_path: Path) -> None:
    texts = {"2025-12-02": "Rapat koordinasi WFH", "2025-12-03": "Rapat koordinasi WFH"}
    store = _store(tmp_path, (NIP_A,), {NIP_A: {d: {"text": t} for d, t in texts.items()}})
    assert rows(audit(store, "2025-12-02", "2025-12-05"), "DUPLICATE_OUTPUT") == []


def test_duplicate_output_ignores_excused_days_and_other_employees(tmp_path: Path) -> None:
    text = "Rapat koordinasi WFH"
    days = {NIP_A: {"2025-12-02": {"text": text}, "2025-12-03": {"text": text},
                    "2025-12-04": {"text": text}},
            B: {"2025-12-02": {"text": text}, "2025-12-03": {"text": text}}}
    leave = [{"nip": NIP_A, "start": dt.date(2025, 12, 4), "end": dt.date(2025, 12, 4),
              "kind": "IZIN"}]
    store = _store(tmp_path, (NIP_A, B), days, leave=leave)
    assert rows(audit(store, "2025-12-02", "2025-12-05"), "DUPLICATE_OUTPUT") == []


def test_duplicate_of_invalid_reports_is_no_finding(tmp_path: Path) -> None:
    store = _store(tmp_path, (NIP_A,), {NIP_A: {d: {"text": "ok"} for d in
                                                ("2025-12-02", "2025-12-03", "2025-12-04")}})
    result = audit(store, "2025-12-02", "2025-12-04")
    assert rows(result, "DUPLICATE_OUTPUT") == []
    assert len(rows(result, "NO_DAILY_OUTPUT")) == 3


def test_hash_collisions_in_the_pre_filters_change_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SHARED_COORDINATES and SHARED_DEVICE pre-filter on a hash; with every hash equal
    (all rows collide) the exact grouping must still give the same findings, no more."""
    nips = (NIP_A, B, C, D)
    days = {
        NIP_A: {"2025-12-02": {"where": SPOT, "device": "HP-1"}},
        B: {"2025-12-02": {"where": SPOT, "device": "HP-1"}},
        C: {"2025-12-02": {"where": SPOT, "device": "HP-2"}, "2025-12-03": {"device": "HP-9"}},
        D: {"2025-12-03": {"where": CIREBON, "device": "HP-9"}},
    }
    store = _store(tmp_path, nips, days)
    wanted = ("SHARED_COORDINATES", "SHARED_DEVICE")
    honest = [r for r in rows(audit(store, "2025-12-02", "2025-12-03")) if r[2] in wanted]
    assert {r[2] for r in honest} == set(wanted)
    monkeypatch.setattr(rules, "row_hash", lambda columns: pl.lit(7, pl.UInt64))
    colliding = [r for r in rows(audit(store, "2025-12-02", "2025-12-03")) if r[2] in wanted]
    assert colliding == honest
