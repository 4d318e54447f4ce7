"""Independent review of the audit against rules.md: adversarial cases, exact rows.

Every expected row below was derived from the spec text (rules.md, data.md,
policy.md), not from the engine.  The cases are the ones the other audit tests
(test_rules*.py, test_worked_example.py, test_audit_properties.py) leave out:
leave across the period edges, midnight and time-zone edges, places that are
half known, integrity rules next to excused or unaudited days, agency-day
findings with an empty headcount, the 2026 WFH weekdays, Ramadan hours, a user
policy file.

Conditions read from rules.md (the checklist this file tests against):

- audited employee-day: from <= d <= to, d < as-of, d a working day (weekday has
  hours, the special period's hours inside one; not a holiday), active_from <= d <=
  active_to (inclusive, empty = unbounded);
- leave covering d: CUTI/SAKIT/IZIN/TUGAS_BELAJAR -> excused (no rule at all, not
  even integrity); else DINAS_LUAR -> duty (output + integrity rules only);
- expected mode: roster, else WFH when the weekday is in the period's
  default_wfh_weekdays and the unit is not exempt, else WFO; expected place:
  office (radius_m or office_radius_m) for WFO, home (home_radius_m) for WFH;
- events: attendance rows whose ts (WIB, offsets converted at ingest) falls on d;
- minutes: truncation to the minute; LATE/EARLY measured from start/end;
- outside: distance - min(accuracy, cap) (missing accuracy 0) > radius;
  WRONG_LOCATION distance = largest distance among *outside* events, 0.1 m;
- OFFICE_UNKNOWN only on WFO days, HOME_UNREGISTERED only on WFH days;
- valid report: trimmed text >= min_chars; cutoff midnight starting
  d + deadline_days + 1; outputs belong to their `date` column;
- integrity rules over every audited non-excused employee-day (duty included);
- agency-day: headcount = active with no leave of any kind; wfh among them;
  WFH_QUOTA_EXCEEDED only inside a WFH period and share > max_share;
  WFH_NOT_ALLOWED counts rostered-WFH employees active on d, on leave or not.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import polars as pl
import pytest
from test_audit_support import (
    HOME_A,
    NIP_A,
    O1,
    employee,
    event,
    rows,
)
from test_audit_support import audit as _audit
from test_audit_support import report as _report
from test_rules_support import bare_store, make_store

from wfhaudit.audit.employee_days import EARTH_RADIUS_M
from wfhaudit.audit.partitioned import run_audit_partitioned
from wfhaudit.audit.period import range_period
from wfhaudit.ingest import ingest_files
from wfhaudit.policy import load_policy
from wfhaudit.store import Store

B = "199002022015010002"
C = "199103032016011003"
D = "199204042017012004"
GOOD = "Menyusun laporan anggaran"
CIREBON = (-6.7063, 108.5570)
SPOT = (-6.9031, 107.6190)  # inside O1's fence, a point several phones "share"


def audit(store: Store, start: str, end: str | None = None, policy=None,
          as_of: str = "2027-01-01", out: Path | None = None):
    """run_audit, and the partitioned engine (1 and 3 days per partition) on the same
    inputs: both must write the same violations and unit findings."""
    out = out or (store.path.parent / "out")
    result = _audit(store, start, end, policy=policy, as_of=as_of, out=out)
    for days_per_partition in (1, 3) if end and end != start else (1,):
        parts = out.parent / f"{out.name}-partitioned-{days_per_partition}"
        run_audit_partitioned(
            store, range_period(day(start), day(end or start)), policy or load_policy(),
            as_of=day(as_of), out_dir=parts, days_per_partition=days_per_partition,
        )
        for name in ("violations.parquet", "unit_findings.parquet"):
            assert pl.read_parquet(parts / name).equals(pl.read_parquet(out / name)), name
    return result


def report(d: str, at: str, text: str | None = None, nip: str = NIP_A) -> dict:
    """A report for ``d``; by default a valid text of its own (no accidental duplicates)."""
    return _report(d, at, text if text is not None else f"Laporan kegiatan tanggal {d}", nip=nip)


def north_of(origin: tuple[float, float], metres: float) -> tuple[float, float]:
    return (origin[0] + math.degrees(metres / EARTH_RADIUS_M), origin[1])


def day(iso: str) -> dt.date:
    return dt.date.fromisoformat(iso)


def roster(d: str, mode: str, nip: str = NIP_A) -> dict:
    return {"nip": nip, "date": day(d), "mode": mode}


def leave(start: str, kind: str, end: str | None = None, nip: str = NIP_A) -> dict:
    return {"nip": nip, "start": day(start), "end": day(end or start), "kind": kind}


def v(d: str, rule: str, minutes=None, distance=None, detail=None, nip: str = NIP_A):
    return (nip, d, rule, minutes, distance, detail)


def full_day(d: str, nip: str = NIP_A, where=O1, **kw) -> tuple[list[dict], list[dict]]:
    """A compliant WFO day: IN 07:30 and OUT 16:30 at ``where``, a good report at 17:00."""
    return (
        [event(f"{d} 07:30:00", "IN", where, nip=nip, **kw),
         event(f"{d} 16:30:00", "OUT", where, nip=nip, **kw)],
        [report(d, f"{d} 17:00:00", GOOD, nip=nip)],
    )


def units(result) -> list[tuple]:
    return [
        (f["unit_code"], f["date"].isoformat(), f["rule"], f["count"], f["headcount"],
         None if f["share"] is None else round(f["share"], 6))
        for f in result.unit_findings.to_dicts()
    ]


# --- leave: overlaps and the period's edges ---------------------------------------------


def test_leave_spanning_the_period_start_and_end(tmp_path: Path) -> None:
    # CUTI from Fri 28 Nov to Wed 3 Dec; DINAS_LUAR from Thu 4 Dec to Tue 9 Dec.
    # Audit Mon 1 .. Fri 5 Dec with no events, no reports.
    store = make_store(
        tmp_path / "s",
        leave=[leave("2025-11-28", "CUTI", end="2025-12-03"),
               leave("2025-12-04", "DINAS_LUAR", end="2025-12-09")],
    )
    result = audit(store, "2025-12-01", "2025-12-05")
    # excused 1-3 Dec: no rule; on duty 4-5 Dec: only the output rules
    assert rows(result) == [
        v("2025-12-04", "NO_DAILY_OUTPUT", detail="none"),
        v("2025-12-05", "NO_DAILY_OUTPUT", detail="none"),
    ]
    assert result.employee_days["status"].to_list() == ["excused"] * 3 + ["duty"] * 2
    s = result.employee_summary.row(0, named=True)
    assert (s["working_days"], s["excused_days"], s["duty_days"], s["absent_days"]) == (5, 3, 2, 0)


def test_cuti_inside_a_dinas_luar_range_excuses_that_day_only(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-03 10:00:00", "IN", CIREBON)],
        leave=[leave("2025-12-01", "DINAS_LUAR", end="2025-12-05"), leave("2025-12-03", "CUTI")],
    )
    result = audit(store, "2025-12-01", "2025-12-05")
    assert rows(result) == [
        v(d, "NO_DAILY_OUTPUT", detail="none")
        for d in ("2025-12-01", "2025-12-02", "2025-12-04", "2025-12-05")
    ]
    assert result.employee_days.select("status", "leave_kind").rows() == [
        ("duty", "DINAS_LUAR"), ("duty", "DINAS_LUAR"), ("excused", "CUTI"),
        ("duty", "DINAS_LUAR"), ("duty", "DINAS_LUAR"),
    ]


# --- active range, inclusive -----------------------------------------------------------


def test_active_range_is_inclusive_at_both_period_edges(tmp_path: Path) -> None:
    late_joiner = "199305052018011005"
    store = make_store(
        tmp_path / "s",
        employees=[
            employee(active_from=day("2025-12-02"), active_to=day("2025-12-04")),
            employee(B, active_to=day("2025-12-01")),  # left the day before
            employee(C, active_from=day("2025-12-05")),  # joins the day after
            employee(late_joiner, active_from=day("2025-12-04"), active_to=day("2025-12-04")),
        ],
    )
    result = audit(store, "2025-12-02", "2025-12-04")
    got = {(r[0], r[1]) for r in rows(result, "ABSENT")}
    assert got == {(NIP_A, "2025-12-02"), (NIP_A, "2025-12-03"), (NIP_A, "2025-12-04"),
                   (late_joiner, "2025-12-04")}
    assert sorted(result.employee_summary["nip"].to_list()) == sorted([NIP_A, late_joiner])


# --- midnight, month and time-zone edges ------------------------------------------------


def test_events_at_midnight_belong_to_their_own_local_date(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[
            event("2025-12-02 07:30:00", "IN"),
            event("2025-12-02 23:59:59", "OUT"),
            event("2025-12-03 00:00:00", "OUT"),
        ],
        outputs=[report("2025-12-02", "2025-12-02 17:00:00"),
                 report("2025-12-03", "2025-12-03 17:00:00")],
    )
    result = audit(store, "2025-12-02", "2025-12-03")
    assert rows(result) == [
        v("2025-12-03", "EARLY_LEAVE", minutes=960),  # 16:00 - 00:00
        v("2025-12-03", "MISSING_CHECKIN"),
    ]


def test_an_out_just_after_midnight_is_not_the_checkout_of_the_last_period_day(
    tmp_path: Path,
) -> None:
    # Wed 31 Dec 2025: IN at 07:30, "OUT" at 00:00:00 on 1 Jan 2026 (a holiday);
    # the report for 31 Dec is submitted on 1 Jan at 08:00 and belongs to 31 Dec.
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-31 07:30:00", "IN"), event("2026-01-01 00:00:00", "OUT")],
        outputs=[report("2025-12-31", "2026-01-01 08:00:00"),
                 report("2025-12-30", "2025-12-31 09:00:00")],  # late report of the day before
    )
    result = audit(store, "2025-12-31", "2025-12-31")
    assert rows(result) == [
        v("2025-12-31", "LATE_DAILY_OUTPUT", minutes=480),
        v("2025-12-31", "MISSING_CHECKOUT"),
    ]
    result = audit(store, "2025-12-01", "2026-01-31", out=tmp_path / "o2")
    assert v("2025-12-31", "MISSING_CHECKOUT") in rows(result)
    assert v("2025-12-30", "LATE_DAILY_OUTPUT", minutes=540) in rows(result)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_utc_timestamps_are_converted_to_wib_at_ingest(tmp_path: Path) -> None:
    """data.md: a value with an offset or Z is converted to WIB; events belong to the
    local date of ts.  01 Dec 23:45Z is 02 Dec 06:45 WIB."""
    store = Store(tmp_path / "s")
    files = tmp_path / "in"
    files.mkdir()
    ingest_files(store, "employees", [_write(
        files / "employees.csv",
        "nip,name,unit_code,unit_name,office_id,home_lat,home_lon,active_from,active_to\n"
        f"{NIP_A},Ahmad,U1,Dinas Satu,O1,{HOME_A[0]},{HOME_A[1]},,\n")])
    ingest_files(store, "offices", [_write(
        files / "offices.csv",
        f"office_id,name,lat,lon,radius_m\nO1,Gedung Sate,{O1[0]},{O1[1]},100\n")])
    ingest_files(store, "attendance", [_write(
        files / "attendance.csv",
        "nip,ts,kind,lat,lon,accuracy_m,device_id,mode\n"
        f"{NIP_A},2025-12-01T23:45:00Z,IN,{O1[0]},{O1[1]},5,d1,WFO\n"
        f"{NIP_A},2025-12-02T17:00:00+08:00,OUT,{O1[0]},{O1[1]},5,d1,WFO\n"  # 16:00 WIB
        f"{NIP_A},2025-12-03T07:40:00+07:00,IN,{O1[0]},{O1[1]},5,d1,WFO\n"
        f"{NIP_A},2025-12-03T08:59:59Z,OUT,{O1[0]},{O1[1]},5,d1,WFO\n")])  # 15:59:59 WIB
    ingest_files(store, "outputs", [_write(
        files / "outputs.csv",
        "nip,date,submitted_at,text\n"
        f"{NIP_A},2025-12-01,2025-12-01T16:59:59Z,Rapat pagi\n"  # 23:59:59 WIB: in time
        f"{NIP_A},2025-12-02,2025-12-02T17:00:00Z,{GOOD}\n"  # 00:00 WIB on 3 Dec: late, 0
        f"{NIP_A},2025-12-03,2025-12-03T10:00:00Z,Menyusun telaahan\n")])
    result = audit(store, "2025-12-01", "2025-12-03")
    # v2: U1's attendance span starts on 2 Dec (WIB), so 1 Dec is missing data, not
    # ABSENT; 15:59:59 is 0 whole minutes early (v1: EARLY_LEAVE 1)
    assert rows(result) == [
        v("2025-12-02", "LATE_DAILY_OUTPUT", minutes=0),
        v("2025-12-03", "LATE", minutes=10),
    ]
    assert result.employee_days["status"].to_list()[0] == "no_attendance_data"


# --- location: allowance, largest *outside* distance, half-known places ----------------


def test_wrong_location_distance_ignores_a_farther_event_forgiven_by_accuracy(
    tmp_path: Path,
) -> None:
    # IN 140 m out with accuracy 80 (capped to 50: 90 <= 100, inside);
    # OUT 120 m out without accuracy (allowance 0: outside).  Largest distance among
    # OUTSIDE events: 120.0, not 140.0.
    store = make_store(
        tmp_path / "s",
        attendance=[
            event("2025-12-02 07:30:00", "IN", north_of(O1, 140.0), accuracy_m=80.0),
            event("2025-12-02 16:00:00", "OUT", north_of(O1, 120.0), accuracy_m=None),
        ],
        outputs=[report("2025-12-02", "2025-12-02 17:00:00")],
    )
    assert rows(audit(store, "2025-12-02")) == [
        v("2025-12-02", "WRONG_LOCATION", distance=120.0, detail="WFO")
    ]


def test_accuracy_above_the_cap_forgives_only_the_cap(tmp_path: Path) -> None:
    # 200 m home fence on a WFH day; a point 250.2 m away with accuracy 500 -> 200.2 > 200
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-04 07:30:00", "IN", north_of(HOME_A, 250.2), accuracy_m=500.0),
                    event("2025-12-04 16:00:00", "OUT", north_of(HOME_A, 249.9), accuracy_m=500.0)],
        outputs=[report("2025-12-04", "2025-12-04 17:00:00")],
        roster=[roster("2025-12-04", "WFH")],
    )
    assert rows(audit(store, "2025-12-04")) == [
        v("2025-12-04", "WRONG_LOCATION", distance=250.2, detail="WFH")
    ]


def test_wfh_day_with_unknown_office_is_not_office_unknown(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        employees=[employee(office="O9")],
        attendance=[event("2025-12-04 07:30:00", "IN", HOME_A),
                    event("2025-12-04 16:00:00", "OUT", north_of(HOME_A, 300.0))],
        outputs=[report("2025-12-04", "2025-12-04 17:00:00")],
        roster=[roster("2025-12-04", "WFH")],
    )
    # the expected place (home) is known: WRONG_LOCATION, and no OFFICE_UNKNOWN
    assert rows(audit(store, "2025-12-04")) == [
        v("2025-12-04", "WRONG_LOCATION", distance=300.0, detail="WFH")
    ]


def test_wfo_day_without_home_point_is_not_home_unregistered(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        employees=[employee(home=None)],
        attendance=[event("2025-12-03 07:30:00", "IN"), event("2025-12-03 16:00:00", "OUT")],
        outputs=[report("2025-12-03", "2025-12-03 17:00:00")],
    )
    assert rows(audit(store, "2025-12-03")) == []


def test_default_wfh_thursday_without_home_and_without_coordinates(tmp_path: Path) -> None:
    # 2026: Thursday is WFH by default; no home point, no coordinates on either event
    store = make_store(
        tmp_path / "s",
        employees=[employee(home=None, office="O9")],
        attendance=[event("2026-01-08 07:30:00", "IN", None),
                    event("2026-01-08 16:00:00", "OUT", None)],
        outputs=[report("2026-01-08", "2026-01-08 17:00:00")],
    )
    assert rows(audit(store, "2026-01-08")) == [
        v("2026-01-08", "HOME_UNREGISTERED"),
        v("2026-01-08", "NO_LOCATION"),
    ]


def test_duty_day_far_away_is_not_wrong_location_nor_late(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-02 11:00:00", "OUT", CIREBON, accuracy_m=None)],
        outputs=[report("2025-12-02", "2025-12-02 15:00:00", "ok")],
        leave=[leave("2025-12-02", "DINAS_LUAR")],
    )
    assert rows(audit(store, "2025-12-02")) == [v("2025-12-02", "NO_DAILY_OUTPUT",
                                                  detail="empty")]


# --- daily output -------------------------------------------------------------------


def test_valid_report_on_time_and_invalid_one_late(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-02 07:30:00", "IN"), event("2025-12-02 16:00:00", "OUT"),
                    event("2025-12-03 07:30:00", "IN"), event("2025-12-03 16:00:00", "OUT")],
        outputs=[report("2025-12-02", "2025-12-02 17:00:00", GOOD),
                 report("2025-12-02", "2025-12-04 09:00:00", "x"),
                 # 3 Dec: only an invalid report, and it is late: NO_DAILY_OUTPUT empty only
                 report("2025-12-03", "2025-12-05 09:00:00", " \t  123456789 \n")],
    )
    assert rows(audit(store, "2025-12-02", "2025-12-03")) == [
        v("2025-12-03", "NO_DAILY_OUTPUT", detail="empty")
    ]


def test_deadline_days_from_a_user_policy_file(tmp_path: Path) -> None:
    policy_file = _write(tmp_path / "p.toml", "[output]\ndeadline_days = 1\n")
    policy = load_policy(policy_file)
    assert policy.output_min_chars == 10  # tables merge key by key
    store = make_store(
        tmp_path / "s",
        attendance=[event(f"2025-12-0{d} 07:30:00", "IN") for d in (2, 3, 4)]
        + [event(f"2025-12-0{d} 16:00:00", "OUT") for d in (2, 3, 4)],
        outputs=[report("2025-12-02", "2025-12-03 23:59:59"),  # in time with 1 day
                 report("2025-12-03", "2025-12-05 00:00:59"),  # 0 minutes late
                 report("2025-12-04", "2025-12-06 02:03:04")],  # 123 minutes late
    )
    assert rows(audit(store, "2025-12-02", "2025-12-04", policy=policy)) == [
        v("2025-12-03", "LATE_DAILY_OUTPUT", minutes=0),
        v("2025-12-04", "LATE_DAILY_OUTPUT", minutes=123),
    ]


# --- integrity: who takes part --------------------------------------------------------


def _people(*nips: str) -> list[dict]:
    return [employee(n, unit=f"U{i + 1}") for i, n in enumerate(nips)]


def test_shared_device_with_an_excused_colleague_is_no_finding(tmp_path: Path) -> None:
    """"Excused days take part in no rule": B's events on a CUTI day are not looked at,
    so A's phone is not "used by another employee" in the audit's sense."""
    att_a, out_a = full_day("2025-12-02", NIP_A, device_id="HP-1")
    att_b, out_b = full_day("2025-12-02", B, where=HOME_A, device_id="HP-1")
    store = make_store(tmp_path / "s", employees=_people(NIP_A, B), attendance=att_a + att_b,
                       outputs=out_a + out_b, leave=[leave("2025-12-02", "CUTI", nip=B)])
    assert rows(audit(store, "2025-12-02")) == []


def test_shared_device_with_a_colleague_on_duty_is_a_finding_for_both(tmp_path: Path) -> None:
    att_a, out_a = full_day("2025-12-02", NIP_A, device_id="HP-1")
    att_b, out_b = full_day("2025-12-02", B, where=CIREBON, device_id="HP-1")
    store = make_store(tmp_path / "s", employees=_people(NIP_A, B), attendance=att_a + att_b,
                       outputs=out_a + out_b, leave=[leave("2025-12-02", "DINAS_LUAR", nip=B)])
    assert rows(audit(store, "2025-12-02")) == [
        v("2025-12-02", "SHARED_DEVICE", detail="HP-1"),
        v("2025-12-02", "SHARED_DEVICE", detail="HP-1", nip=B),
    ]


def test_shared_device_with_an_unknown_or_inactive_nip_is_no_finding(tmp_path: Path) -> None:
    stranger = "199912312020121001"
    att_a, out_a = full_day("2025-12-02", NIP_A, device_id="HP-1")
    att_s, _ = full_day("2025-12-02", stranger, where=HOME_A, device_id="HP-1")
    att_b, _ = full_day("2025-12-02", B, where=HOME_A, device_id="HP-1")
    store = make_store(
        tmp_path / "s",
        employees=[employee(), employee(B, active_to=day("2025-12-01"))],
        attendance=att_a + att_s + att_b, outputs=out_a,
    )
    assert rows(audit(store, "2025-12-02")) == []


def test_same_device_either_side_of_midnight_is_no_finding(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s", employees=_people(NIP_A, B),
        attendance=[event("2025-12-02 07:30:00", "IN", device_id="HP-1"),
                    event("2025-12-02 23:59:59", "OUT", device_id="HP-1"),
                    event("2025-12-03 00:00:00", "IN", HOME_A, nip=B, device_id="HP-1")],
        outputs=[report("2025-12-02", "2025-12-02 17:00:00")],
    )
    assert rows(audit(store, "2025-12-02", "2025-12-03"), "SHARED_DEVICE") == []


def _crowd(nips, d="2025-12-02", where=SPOT):
    """Each nip checks in at ``where`` and out at its own home (no other shared point)."""
    att = []
    for i, n in enumerate(nips):
        att.append(event(f"{d} 07:{20 + i}:00", "IN", where, nip=n, device_id=f"dev-{n}"))
        att.append(event(f"{d} 16:00:00", "OUT", north_of(HOME_A, 10.0 * i), nip=n,
                         device_id=f"dev-{n}"))
    return att


def test_shared_coordinates_counts_a_colleague_on_duty(tmp_path: Path) -> None:
    nips = (NIP_A, B, C)
    store = make_store(tmp_path / "s", employees=_people(*nips), attendance=_crowd(nips),
                       leave=[leave("2025-12-02", "DINAS_LUAR", nip=C)])
    got = rows(audit(store, "2025-12-02"), "SHARED_COORDINATES")
    assert got == [
        v("2025-12-02", "SHARED_COORDINATES", detail="-6.9031,107.619 (3 employees)", nip=n)
        for n in nips
    ]


def test_shared_coordinates_needs_distinct_audited_employees(tmp_path: Path) -> None:
    stranger = "199912312020121001"
    att = _crowd((NIP_A, B)) + [
        event("2025-12-02 12:00:00", "IN", SPOT, nip=NIP_A),  # A twice at the spot
        event("2025-12-02 07:25:00", "IN", SPOT, nip=stranger),  # not an employee
        event("2025-12-02 07:26:00", "IN", SPOT, nip=C),  # C has left the service
        event("2025-12-02 07:27:00", "IN", SPOT, nip=D),  # D is on SAKIT
    ]
    store = make_store(
        tmp_path / "s",
        employees=_people(NIP_A, B) + [employee(C, active_to=day("2025-12-01")), employee(D)],
        attendance=att, leave=[leave("2025-12-02", "SAKIT", nip=D)],
    )
    assert rows(audit(store, "2025-12-02"), "SHARED_COORDINATES") == []


def test_shared_coordinates_is_exact_equality(tmp_path: Path) -> None:
    att = _crowd((NIP_A, B)) + [
        event("2025-12-02 07:26:00", "IN", (SPOT[0] + 1e-7, SPOT[1]), nip=C)
    ]
    store = make_store(tmp_path / "s", employees=_people(NIP_A, B, C), attendance=att)
    assert rows(audit(store, "2025-12-02"), "SHARED_COORDINATES") == []


def _texts(nip: str, texts: dict[str, str]) -> list[dict]:
    return [report(d, f"{d} 17:00:00", t, nip=nip) for d, t in texts.items()]


def _present(days: list[str], nip: str = NIP_A) -> list[dict]:
    return [e for d in days for e in full_day(d, nip)[0]]


def test_duplicate_output_counts_only_audited_days(tmp_path: Path) -> None:
    text = "Rapat koordinasi WFH"
    # Sat 6 Dec is not a working day; Thu 4 Dec is the as-of day (not audited)
    texts = {"2025-12-02": text, "2025-12-03": text, "2025-12-04": text, "2025-12-06": text}
    store = make_store(tmp_path / "s", attendance=_present(["2025-12-02", "2025-12-03"]),
                       outputs=_texts(NIP_A, texts))
    result = audit(store, "2025-12-01", "2025-12-07", as_of="2025-12-04")
    assert rows(result, "DUPLICATE_OUTPUT") == []
    # a period ending on 3 Dec does not see 4 Dec either
    assert rows(audit(store, "2025-12-02", "2025-12-03", out=tmp_path / "o2"),
                "DUPLICATE_OUTPUT") == []


def test_duplicate_output_counts_duty_days_and_second_reports(tmp_path: Path) -> None:
    text = "Rapat koordinasi WFH"
    outputs = _texts(NIP_A, {"2025-12-02": text, "2025-12-03": "Menyusun telaahan staf",
                             "2025-12-04": text})
    # on 3 Dec the duplicated text is the second valid report of the day
    outputs.append(report("2025-12-03", "2025-12-03 18:00:00", "  RAPAT koordinasi   wfh"))
    store = make_store(
        tmp_path / "s", attendance=_present(["2025-12-02", "2025-12-03"]),
        outputs=outputs, leave=[leave("2025-12-04", "DINAS_LUAR")],
    )
    assert rows(audit(store, "2025-12-02", "2025-12-04"), "DUPLICATE_OUTPUT") == [
        v(d, "DUPLICATE_OUTPUT") for d in ("2025-12-02", "2025-12-03", "2025-12-04")
    ]


def test_duplicate_output_twice_on_one_day_is_one_day(tmp_path: Path) -> None:
    text = "Rapat koordinasi WFH"
    outputs = _texts(NIP_A, {"2025-12-02": text, "2025-12-03": text})
    outputs.append(report("2025-12-03", "2025-12-03 19:00:00", text))
    store = make_store(tmp_path / "s", attendance=_present(["2025-12-02", "2025-12-03"]),
                       outputs=outputs)
    assert rows(audit(store, "2025-12-02", "2025-12-03"), "DUPLICATE_OUTPUT") == []


def _trip(tmp_path: Path, events: list[dict], leave_rows=()):
    store = make_store(tmp_path / "s", attendance=events,
                       outputs=[report("2025-12-02", "2025-12-02 17:00:00")],
                       leave=list(leave_rows))
    return rows(audit(store, "2025-12-02"), "IMPOSSIBLE_TRAVEL")


def test_impossible_travel_zero_seconds_just_over_1000_m(tmp_path: Path) -> None:
    got = _trip(tmp_path, [event("2025-12-02 07:30:00", "IN", O1, accuracy_m=None),
                           event("2025-12-02 07:30:00", "OUT", north_of(O1, 1001.0),
                                 accuracy_m=None)])
    assert got == [v("2025-12-02", "IMPOSSIBLE_TRAVEL", detail="inf")]
    # v2: the effective distance subtracts both allowances (1001 - 5 - 5 = 991 m)
    got = _trip(tmp_path / "b", [event("2025-12-02 07:30:00", "IN", O1),
                                 event("2025-12-02 07:30:00", "OUT", north_of(O1, 1001.0))])
    assert got == []


def test_impossible_travel_zero_seconds_under_1000_m_is_no_finding(tmp_path: Path) -> None:
    assert _trip(tmp_path, [event("2025-12-02 07:30:00", "IN", O1),
                            event("2025-12-02 07:30:00", "OUT", north_of(O1, 999.0))]) == []


def test_impossible_travel_ordering_by_ts_then_kind(tmp_path: Path) -> None:
    # 07:00 OUT at O1; 07:30 IN 59.5 km north (119 km/h: fine); 07:30 OUT 900 m further
    # (zero time but < 1000 m: fine).  Ordered by ts then kind, IN comes before OUT, so
    # the O1 -> 60.4 km hop (120.8 km/h) is never a consecutive pair.
    events = [event("2025-12-02 07:00:00", "OUT", O1),
              event("2025-12-02 07:30:00", "IN", north_of(O1, 59_500.0)),
              event("2025-12-02 07:30:00", "OUT", north_of(O1, 60_400.0))]
    assert _trip(tmp_path, events) == []


def test_impossible_travel_uses_seconds_not_minutes(tmp_path: Path) -> None:
    # effective 2000 - 5 - 5 = 1990 m in 59 s = 121.42 km/h (truncating both times to
    # 07:30 would say inf; v1 used the raw 2000 m: 122)
    got = _trip(tmp_path, [event("2025-12-02 07:30:00", "IN", O1),
                           event("2025-12-02 07:30:59", "OUT", north_of(O1, 2000.0))])
    assert got == [v("2025-12-02", "IMPOSSIBLE_TRAVEL", detail="121")]


def test_impossible_travel_not_across_midnight(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-02 07:30:00", "IN", O1),
                    event("2025-12-02 23:59:59", "OUT", O1),
                    event("2025-12-03 00:00:00", "IN", CIREBON)],
    )
    assert rows(audit(store, "2025-12-02", "2025-12-03"), "IMPOSSIBLE_TRAVEL") == []


def test_impossible_travel_not_on_excused_days(tmp_path: Path) -> None:
    got = _trip(tmp_path, [event("2025-12-02 07:30:00", "IN", O1),
                           event("2025-12-02 07:31:00", "OUT", CIREBON)],
                leave_rows=[leave("2025-12-02", "TUGAS_BELAJAR")])
    assert got == []


# --- agency-day findings ----------------------------------------------------------------


def _unit(n: int, unit: str = "U1") -> list[str]:
    return [f"19900202201501{i:04d}" for i in range(n)]


def test_all_staff_on_leave_headcount_zero(tmp_path: Path) -> None:
    nips = _unit(3)
    store = make_store(
        tmp_path / "s", employees=[employee(n) for n in nips],
        roster=[roster("2025-12-03", "WFH", n) for n in nips]
        + [roster("2026-01-07", "WFH", n) for n in nips],  # Wed 2026: not an allowed weekday
        leave=[leave("2025-12-03", "CUTI", nip=nips[0]), leave("2025-12-03", "SAKIT", nip=nips[1]),
               leave("2025-12-03", "DINAS_LUAR", nip=nips[2]),
               leave("2026-01-07", "CUTI", nip=nips[0]), leave("2026-01-07", "IZIN", nip=nips[1]),
               leave("2026-01-07", "DINAS_LUAR", nip=nips[2])],
    )
    # December: in the 50:50 period, wfh 0 of headcount 0 -> no quota finding
    assert units(audit(store, "2025-12-03")) == []
    # 2026 Wednesday: rostered WFH although not allowed -> counted even on leave
    assert units(audit(store, "2026-01-07", out=tmp_path / "o2")) == [
        ("U1", "2026-01-07", "WFH_NOT_ALLOWED", 3, 0, None)
    ]


def test_2026_friday_rostered_wfh_is_allowed_wednesday_is_not(tmp_path: Path) -> None:
    nips = _unit(2)
    store = make_store(
        tmp_path / "s", employees=[employee(n) for n in nips],
        roster=[roster("2026-01-09", "WFH", nips[0]), roster("2026-01-07", "WFH", nips[1])],
    )
    result = audit(store, "2026-01-05", "2026-01-09")
    assert units(result) == [("U1", "2026-01-07", "WFH_NOT_ALLOWED", 1, 2, None)]
    modes = result.employee_days.filter(pl.col("nip") == nips[0]).select(
        pl.col("date").cast(pl.String), "expected_mode").rows()
    assert modes == [("2026-01-05", "WFO"), ("2026-01-06", "WFO"), ("2026-01-07", "WFO"),
                     ("2026-01-08", "WFH"), ("2026-01-09", "WFH")]


def test_wfh_not_allowed_ignores_weekends_holidays_and_inactive_staff(tmp_path: Path) -> None:
    nips = _unit(2)
    store = make_store(
        tmp_path / "s",
        employees=[employee(nips[0]), employee(nips[1], active_to=day("2026-01-06"))],
        roster=[roster("2026-01-10", "WFH", nips[0]),  # Saturday
                roster("2026-01-16", "WFH", nips[0]),  # Friday holiday (Isra Mi'raj)
                roster("2026-01-07", "WFH", nips[1])],  # no longer active
    )
    assert units(audit(store, "2026-01-05", "2026-01-18")) == []


def test_quota_ignores_rostered_wfh_of_staff_on_leave(tmp_path: Path) -> None:
    # December 50:50: 4 staff; 3 rostered WFH, one of them on CUTI -> headcount 3, wfh 2
    nips = _unit(4)
    store = make_store(
        tmp_path / "s", employees=[employee(n) for n in nips],
        roster=[roster("2025-12-03", "WFH", n) for n in nips[:3]],
        leave=[leave("2025-12-03", "CUTI", nip=nips[0])],
    )
    assert units(audit(store, "2025-12-03")) == [
        ("U1", "2025-12-03", "WFH_QUOTA_EXCEEDED", 2, 3, round(2 / 3, 6))
    ]


def test_exempt_unit_rostered_wfh_on_default_thursday(tmp_path: Path) -> None:
    import dataclasses

    policy = load_policy()
    policy = dataclasses.replace(policy, wfh=tuple(
        dataclasses.replace(p, exempt_units=("U1",)) for p in policy.wfh))
    nips = _unit(2)
    store = make_store(
        tmp_path / "s", employees=[employee(nips[0]), employee(nips[1], unit="U2")],
        roster=[roster("2026-01-08", "WFH", nips[0])],
        attendance=[event("2026-01-08 07:30:00", "IN", HOME_A, nip=nips[1]),
                    event("2026-01-08 16:00:00", "OUT", HOME_A, nip=nips[1])],
        outputs=[report("2026-01-08", "2026-01-08 17:00:00", nip=nips[1])],
    )
    result = audit(store, "2026-01-08", policy=policy)
    # U1 exempt: the rostered WFH is not allowed; U2 (not exempt) is WFH by default
    assert units(result) == [("U1", "2026-01-08", "WFH_NOT_ALLOWED", 1, 1, None)]
    assert [r[2] for r in rows(result) if r[0] == nips[1]] == []


# --- calendar: Ramadan 2026 ---------------------------------------------------------


def test_ramadan_friday_ends_at_1400_and_the_day_before_is_normal(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2026-02-18 07:30:00", "IN"), event("2026-02-18 14:00:00", "OUT"),
                    event("2026-02-20 06:31:00", "IN"), event("2026-02-20 14:00:00", "OUT"),
                    event("2026-02-19 06:30:00", "IN", HOME_A),  # Thu: WFH by default
                    event("2026-02-19 13:59:00", "OUT", HOME_A)],
        outputs=[report(d, f"{d} 17:00:00") for d in ("2026-02-18", "2026-02-19", "2026-02-20")],
    )
    assert rows(audit(store, "2026-02-18", "2026-02-22")) == [
        v("2026-02-18", "EARLY_LEAVE", minutes=120),  # Wednesday before Ramadan: 16:00
        v("2026-02-19", "EARLY_LEAVE", minutes=1),
        v("2026-02-20", "LATE", minutes=1),
    ]


def test_special_period_replaces_only_the_weekdays_it_lists(tmp_path: Path) -> None:
    # v2 (policy.md): Friday, not listed, keeps its normal hours and is a working day
    policy_file = _write(tmp_path / "p.toml", """
[[hours.special]]
name = "Short week"
from = 2025-12-01
to = 2025-12-07
mon = "08:00-15:00"
tue = "08:00-15:00"
wed = "08:00-15:00"
thu = "08:00-15:00"
""")
    policy = load_policy(policy_file)
    store = make_store(tmp_path / "s",
                       attendance=[event("2025-12-02 08:00:00", "IN"),
                                   event("2025-12-02 15:00:00", "OUT")],
                       outputs=[report("2025-12-02", "2025-12-02 17:00:00")])
    result = audit(store, "2025-12-02", "2025-12-05", policy=policy)
    assert rows(result, "LATE", "EARLY_LEAVE") == []
    assert sorted({r[1] for r in rows(result)}) == ["2025-12-03", "2025-12-04", "2025-12-05"]


# --- summary -----------------------------------------------------------------------


def test_period_summary_counts_and_equivalent_days(tmp_path: Path) -> None:
    store = make_store(
        tmp_path / "s",
        attendance=[event("2025-12-02 07:45:59", "IN"), event("2025-12-02 15:30:30", "OUT")],
        outputs=[report("2025-12-02", "2025-12-02 17:00:00"),
                 report("2025-12-03", "2025-12-03 17:00:00")],
        leave=[leave("2025-12-03", "DINAS_LUAR"), leave("2025-12-04", "SAKIT")],
    )
    result = audit(store, "2025-12-01", "2025-12-05", as_of="2025-12-05")
    s = result.employee_summary.row(0, named=True)
    assert (s["working_days"], s["excused_days"], s["duty_days"], s["violation_days"],
            s["absent_days"], s["late_minutes"], s["early_minutes"]) == (4, 1, 1, 2, 1, 15, 29)
    assert s["equivalent_days"] == pytest.approx(1 + 44 / 450)
    assert result.days_left_out == ["2025-12-05"]


def test_duplicate_output_two_texts_overlapping_days_one_row_per_day(tmp_path: Path) -> None:
    x, y = "Rapat koordinasi WFH", "Menyusun telaahan staf"
    outputs = _texts(NIP_A, {"2025-12-01": x, "2025-12-02": x, "2025-12-03": x})
    outputs += [report(d, f"{d} 18:00:00", y) for d in ("2025-12-02", "2025-12-03", "2025-12-04")]
    store = make_store(tmp_path / "s", outputs=outputs)
    assert rows(audit(store, "2025-12-01", "2025-12-04"), "DUPLICATE_OUTPUT") == [
        v(d, "DUPLICATE_OUTPUT") for d in ("2025-12-01", "2025-12-02", "2025-12-03", "2025-12-04")
    ]


def test_rostered_wfh_on_a_day_without_wfh_expects_the_office(tmp_path: Path) -> None:
    """rules.md v2: a planned WFH where WFH is not allowed makes the expected mode WFO,
    the home also accepted.  An employee who goes to the office on a Monday the agency
    wrongly rostered as WFH gets nothing (v1: WRONG_LOCATION to the home, 2851.9 m);
    the agency still gets WFH_NOT_ALLOWED."""
    store = make_store(
        tmp_path / "s",
        attendance=[event("2026-01-05 07:30:00", "IN"), event("2026-01-05 16:00:00", "OUT")],
        outputs=[report("2026-01-05", "2026-01-05 17:00:00")],
        roster=[roster("2026-01-05", "WFH")],
    )
    result = audit(store, "2026-01-05")
    assert rows(result) == []
    assert units(result) == [("U1", "2026-01-05", "WFH_NOT_ALLOWED", 1, 1, None)]
    a = result.employee_days.row(0, named=True)
    assert (a["planned_mode"], a["expected_mode"], a["home_accepted"]) == ("WFH", "WFO", True)


def test_year_to_date_starts_on_1_january_of_the_period_end(tmp_path: Path) -> None:
    # December 2025: A absent on 5 days while B checked in (the store holds those days).
    # Audit 5-9 Jan 2026: A absent 5 days.  Year to date 2026: 5 days, written warning.
    dec = ["2025-12-01", "2025-12-02", "2025-12-03", "2025-12-04", "2025-12-05"]
    jan = ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09"]
    store = bare_store(tmp_path / "s", employees=[employee(), employee(B)],
                       attendance=_present(dec + jan, nip=B))
    result = audit(store, "2026-01-05", "2026-01-09")
    a = result.employee_summary.filter(pl.col("nip") == NIP_A).row(0, named=True)
    assert (a["absent_days"], a["ytd_equivalent_days"], a["ytd_tier"]) == (
        5, pytest.approx(5.0), "TEGURAN_TERTULIS")


def _csv(path: Path, header: str, *lines: str) -> Path:
    return _write(path, "\n".join([header, *lines]) + "\n")


def test_cli_end_to_end_user_policy_utc_zero_gps_empty_text(tmp_path: Path) -> None:
    """Ingest CSVs and audit through the CLI with a user policy and --as-of.

    - 30 Nov 23:30Z is Mon 1 Dec 06:30 WIB (another month's partition before conversion);
    - (0, 0) is a failed GPS fix, stored as empty: NO_LOCATION, not WRONG_LOCATION;
    - an empty report text is a report (data.md: "may be empty"): NO_DAILY_OUTPUT empty;
    - the user's [[wfh]] replaces the default periods: December 2025 is in none, so
      a rostered WFH there is WFH_NOT_ALLOWED; [location] merges key by key (150 m);
    - --as-of 2025-12-03: only 1 and 2 Dec are audited.
    """
    from typer.testing import CliRunner

    from wfhaudit.cli import app

    d = tmp_path / "in"
    d.mkdir()
    out_a = north_of(O1, 120.0)
    files = {
        "employees": _csv(
            d / "employees.csv",
            "nip,name,unit_code,unit_name,office_id,home_lat,home_lon,active_from,active_to",
            f"{NIP_A},Ahmad,U1,Dinas Satu,O1,{HOME_A[0]},{HOME_A[1]},,",
            f"{B},Budi,U2,Dinas Dua,O1,,,,"),
        "offices": _csv(d / "offices.csv", "office_id,name,lat,lon,radius_m",
                        f"O1,Gedung Sate,{O1[0]},{O1[1]},"),
        "attendance": _csv(
            d / "attendance.csv", "nip,ts,kind,lat,lon,accuracy_m,device_id,mode",
            f"{NIP_A},2025-11-30T23:30:00Z,IN,{O1[0]},{O1[1]},5,dA,WFO",
            f"{NIP_A},2025-12-01 16:00:00,OUT,{out_a[0]!r},{out_a[1]!r},,dA,WFO",
            f"{B},2025-12-01 07:30:00,IN,0,0,10,dB,WFO",
            f"{B},2025-12-01 16:00:00,OUT,0,0,10,dB,WFO"),
        "outputs": _csv(
            d / "outputs.csv", "nip,date,submitted_at,text",
            f"{NIP_A},2025-12-01,2025-12-01 17:00:00,Rapat pagi dengan kepala dinas",
            f"{B},2025-12-01,2025-12-01 17:00:00,"),
        "roster": _csv(d / "roster.csv", "nip,date,mode", f"{NIP_A},2025-12-02,wfh"),
    }
    policy = _write(tmp_path / "policy.toml", """
[location]
office_radius_m = 150

[[wfh]]
name = "Hanya 2026"
from = 2026-01-01
to = 2026-12-31
weekdays = ["thu"]
default_wfh_weekdays = ["thu"]
max_share = 1.0
exempt_units = []
""")
    store = tmp_path / "store"
    runner = CliRunner()
    for kind, file in files.items():
        r = runner.invoke(app, ["ingest", kind, str(file), "--store", str(store), "--quiet"])
        assert r.exit_code == 0, r.output
    out = tmp_path / "out"
    r = runner.invoke(app, ["audit", "2025-12-01..2025-12-05", "--store", str(store),
                            "--policy", str(policy), "--as-of", "2025-12-03", "--out", str(out),
                            "--quiet"])
    assert r.exit_code == 0, r.output
    got = [
        (x["nip"], x["date"].isoformat(), x["unit_code"], x["rule"], x["minutes"],
         x["distance_m"], x["detail"])
        for x in pl.read_parquet(out / "violations.parquet").to_dicts()
    ]
    # v2: the store holds 1 Dec only, so 2 Dec lies outside both agencies' spans:
    # missing data, not ABSENT / NO_DAILY_OUTPUT
    assert got == [
        (B, "2025-12-01", "U2", "NO_DAILY_OUTPUT", None, None, "empty"),
        (B, "2025-12-01", "U2", "NO_LOCATION", None, None, None),
    ]
    found = pl.read_parquet(out / "unit_findings.parquet").to_dicts()
    assert [(f["unit_code"], f["date"].isoformat(), f["rule"], f["count"], f["headcount"])
            for f in found] == [
        ("U1", "2025-12-02", "ATTENDANCE_DATA_MISSING", 1, 1),
        ("U1", "2025-12-02", "OUTPUT_DATA_MISSING", 1, 1),
        ("U1", "2025-12-02", "WFH_NOT_ALLOWED", 1, 1),
        ("U2", "2025-12-02", "ATTENDANCE_DATA_MISSING", 1, 1),
        ("U2", "2025-12-02", "OUTPUT_DATA_MISSING", 1, 1),
    ]


def test_many_employees_each_get_their_own_facts(tmp_path: Path) -> None:
    """30 employees stored out of nip order, with gaps in their active days and leave:
    every LATE / EARLY_LEAVE / report fact must land on its own (nip, date)."""
    import random

    nips = [f"19{(37 * i) % 90 + 10:02d}0101201001{i:04d}" for i in range(30)]
    order = list(range(30))
    random.Random(7).shuffle(order)
    employees, attendance, outputs, leave_rows, want = [], [], [], [], []
    for i in order:
        n = nips[i]
        kw = {"active_from": day("2025-12-03")} if i % 5 == 0 else {}
        employees.append(employee(n, unit=f"U{i % 3}", **kw))
        for k, d in enumerate(("2025-12-02", "2025-12-03")):
            if i % 5 == 0 and k == 0:
                attendance.append(event(f"{d} 07:00:00", "IN", nip=n))  # not yet active
                continue
            if i % 7 == 3 and k == 1:
                leave_rows.append(leave(d, "IZIN", nip=n))
                attendance.append(event(f"{d} 09:00:00", "IN", nip=n))  # excused: ignored
                continue
            late_by = i + 10 * k
            early_by = (i * 3 + k) % 11
            attendance.append(event(f"{d} {7 + (30 + late_by) // 60:02d}:{(30 + late_by) % 60:02d}:"
                                    f"{i % 60:02d}", "IN", nip=n))
            out_at = f"15:{60 - early_by:02d}:00" if early_by else "16:00:00"
            attendance.append(event(f"{d} {out_at}", "OUT", nip=n))
            outputs.append(report(d, f"{d} 17:00:00", f"Laporan {n} {d}", nip=n))
            if late_by:
                want.append((n, d, "LATE", late_by))
            if early_by:
                want.append((n, d, "EARLY_LEAVE", early_by))
    store = make_store(tmp_path / "s", employees=employees, attendance=attendance,
                       outputs=outputs, leave=leave_rows)
    result = audit(store, "2025-12-02", "2025-12-03")
    got = [(r[0], r[1], r[2], r[3]) for r in rows(result, "LATE", "EARLY_LEAVE")]
    assert sorted(got) == sorted(want)
    # everyone checked in at O1: one SHARED_COORDINATES row per audited, non-excused day
    audited = result.employee_days.filter(pl.col("status") != "excused").height
    assert len(rows(result, "SHARED_COORDINATES")) == audited


def test_nobody_active_in_the_period_gives_no_finding(tmp_path: Path) -> None:
    att, out = full_day("2025-12-02")
    store = make_store(
        tmp_path / "s", employees=[employee(active_to=day("2025-11-28"))],
        attendance=att, outputs=out, roster=[roster("2025-12-02", "WFH")],
        leave=[leave("2025-12-01", "CUTI", end="2025-12-05")],
    )
    result = audit(store, "2025-12-01", "2025-12-05")
    assert rows(result) == [] and units(result) == []
    assert result.employee_days.height == 0 and result.employee_summary.height == 0


def test_year_to_date_ignores_days_the_store_holds_only_for_other_agencies(
    tmp_path: Path,
) -> None:
    # January 2026 and 2 Feb: only agency U2's attendance was ingested (B present every
    # day); agency U1 (A) sent nothing at all.  v2: U1 has no attendance span, so A's
    # 2 Feb is missing data (v1: ABSENT), and no January day counts either.
    jan = [dt.date(2026, 1, d) for d in range(2, 31) if dt.date(2026, 1, d).weekday() < 5]
    store = bare_store(
        tmp_path / "s", employees=[employee(), employee(B, unit="U2")],
        attendance=[event(f"{d} 07:30:00", "IN", nip=B) for d in [*jan, day("2026-02-02")]],
    )
    result = audit(store, "2026-02-02", as_of="2026-02-03")
    a = result.employee_summary.filter(pl.col("nip") == NIP_A).row(0, named=True)
    assert (a["absent_days"], a["no_attendance_data_days"]) == (0, 1)
    assert (a["ytd_equivalent_days"], a["ytd_tier"]) == (pytest.approx(0.0), None)
    assert units(result)[0][:4] == ("U1", "2026-02-02", "ATTENDANCE_DATA_MISSING", 1)


def test_report_submitted_before_its_day_is_valid_and_in_time(tmp_path: Path) -> None:
    """rules.md sets only a cutoff, no earliest time: a report for 2 Dec submitted on
    1 Dec counts for 2 Dec (spec-literal; noted in the review)."""
    att, _ = full_day("2025-12-02")
    store = make_store(tmp_path / "s", attendance=att,
                       outputs=[report("2025-12-02", "2025-12-01 20:00:00")])
    assert rows(audit(store, "2025-12-02")) == []


# --- randomised: the engine against the plain-Python reference, other policy and days ---


def _random_data(rng, days: list[dt.date], nips: list[str], unknown: str) -> dict:
    points = [(-6.9022, 107.6186), (-6.9200, 107.6000), (-6.7063, 108.5570),
              (-6.9030, 107.6190), (-6.9022, 107.6250)]
    texts = ["ok", "", "Menyusun laporan", "Rapat  koordinasi", "x" * 12, "Rapat koordinasi"]

    def some_day():
        return rng.choice(days[:6]) if rng.random() < 0.6 else rng.choice(days)

    employees = []
    for n in nips:
        employees.append({
            "nip": n, "name": "P", "unit_code": rng.choice(["U1", "U2"]),
            "office_id": rng.choice(["O1", "O2", "O9"]),
            "home": rng.choice([None, *points]),
            "active_from": rng.choice([None, None, rng.choice(days)]),
            "active_to": rng.choice([None, None, rng.choice(days)]),
        })
    events = [{
        "nip": rng.choice([*nips, *nips, unknown]), "day": some_day(),
        "minute": rng.choice([rng.randint(360, 900), rng.randint(0, 1439)]),
        "second": rng.randint(0, 59), "kind": rng.choice(["IN", "OUT"]),
        "point": rng.choice([None, *points]),
        "accuracy_m": rng.choice([None, rng.uniform(0, 120)]),
        "device_id": rng.choice([None, "", "d1", "d2"]),
    } for _ in range(rng.randint(0, 70))]
    crowds = [{
        "nips": set(rng.sample(nips, rng.randint(2, 4))), "day": rng.choice(days[:6]),
        "minute": rng.randint(360, 900), "kind": rng.choice(["IN", "OUT"]),
        "point": rng.choice(points), "device_id": rng.choice([None, "d1"]),
    } for _ in range(rng.randint(0, 3))]
    trips = [{
        "nip": rng.choice(nips), "day": rng.choice(days[:6]), "minute": rng.randint(360, 900),
        "gap": rng.randint(0, 90), "points": (rng.choice(points), rng.choice(points)),
        "kinds": (rng.choice(["IN", "OUT"]), rng.choice(["IN", "OUT"])),
    } for _ in range(rng.randint(0, 3))]
    outputs = [{"nip": rng.choice(nips), "day": some_day(), "delay_h": rng.randint(0, 70),
                "text": rng.choice(texts)} for _ in range(rng.randint(0, 30))]
    roster = [{"nip": rng.choice([*nips, unknown]), "date": rng.choice(days),
               "mode": rng.choice(["WFH", "WFO"])} for _ in range(rng.randint(0, 20))]
    leave_rows = [{"nip": rng.choice(nips), "start": rng.choice(days), "days": rng.randint(0, 4),
                   "kind": rng.choice(["CUTI", "SAKIT", "IZIN", "DINAS_LUAR", "TUGAS_BELAJAR"])}
                  for _ in range(rng.randint(0, 5))]
    return {"employees": employees, "events": events, "crowds": crowds, "trips": trips,
            "outputs": outputs, "roster": roster, "leave": leave_rows}


WINDOWS = {
    # Ramadan 2026: special hours, holidays, Thursday WFH by default, Friday allowed
    "ramadan-2026": (dt.date(2026, 2, 12), dt.date(2026, 3, 24)),
    # the end of the Thursday trial, the gap day 1 Dec, the 50:50 month with its cap
    "december-2025": (dt.date(2025, 11, 24), dt.date(2025, 12, 12)),
}


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("window", sorted(WINDOWS))
def test_engine_equals_reference_with_another_policy(
    monkeypatch: pytest.MonkeyPatch, window: str, seed: int
) -> None:
    """The plain-Python reference of test_audit_properties, moved to other days, under a
    policy with grace, deadline_days = 1, other thresholds and an exempt unit."""
    import dataclasses
    import random

    import test_audit_properties as ref

    from wfhaudit.audit.calendar import calendar
    from wfhaudit.audit.employee_days import audited_days
    from wfhaudit.audit.run import audit_days

    base = load_policy()
    policy = dataclasses.replace(
        base, late_grace_minutes=5, early_grace_minutes=3, output_deadline_days=1,
        output_min_chars=12, duplicate_output_min_days=2, shared_coordinates_min_employees=2,
        max_speed_kmh=60.0, accuracy_allowance_max_m=30.0,
        wfh=tuple(dataclasses.replace(p, exempt_units=("U2",)) if p.max_share == 1.0 else p
                  for p in base.wfh),
    )
    start, end = WINDOWS[window]
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    cal = calendar(policy, start, end)
    for name, value in {"START": start, "END": end, "DAYS": days, "POLICY": policy,
                        "CALENDAR": cal}.items():
        monkeypatch.setattr(ref, name, value)
    data = _random_data(random.Random(seed), days, ref.NIPS, ref.UNKNOWN)
    _, violations, unit_findings = audit_days(ref._inputs(data), policy, audited_days(cal, None))
    want, want_units = ref._reference(data)
    assert {tuple(r.values()) for r in violations.to_dicts()} == want
    got_units = {
        (r["unit_code"], r["date"], r["rule"], r["count"], r["headcount"],
         None if r["share"] is None else round(r["share"], 9))
        for r in unit_findings.to_dicts()
    }
    assert got_units == want_units
    assert violations.height > 0
