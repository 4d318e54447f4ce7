"""The README.md written beside a generated data set (deterministic text)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from wfhaudit.sample import plan as P

if TYPE_CHECKING:
    from wfhaudit.sample.generator import SampleInfo

SCENARIOS: dict[str, str] = {
    P.ABSENT: "no check-in, no report (TK)",
    P.ABSENT_REPORTED: "no check-in, but a daily report was filed",
    P.ABSENT_STREAK: "three working days in a row without check-in or report",
    P.MISSING_CHECKIN: "only a check-out (Pulang)",
    P.MISSING_CHECKOUT: "only a check-in (Masuk)",
    P.LATE: "check-in 8-150 minutes after 07:30",
    P.EARLY: "check-out 10-150 minutes before the end of the day",
    P.WRONG_PLACE: "WFO day checked in from home, or WFH day checked in 1-4 km from home",
    P.NO_GPS: "check-in and check-out without coordinates (empty, or the phone's 0,0)",
    P.NO_REPORT: "attendance fine, no daily report",
    P.SHORT_REPORT: 'only a report shorter than 10 characters ("ok", "hadir" ...)',
    P.LATE_REPORT: "the daily report filed the next morning",
    P.TRAVEL: "check-in 30+ km away, a second check-in at the office 3-8 minutes later",
    P.TRAVEL_DUTY: "the same jump on a DINAS_LUAR day: no finding (a flight on duty)",
    P.EDGE_TIMES: "clean: check-in in the minute 07:30, check-out in the last scheduled minute",
    P.EDGE_ACCURACY: "clean: 20 m outside the fence with a GPS accuracy of 35 m",
    P.EDGE_REPORTS: "clean: a short note at noon and a valid report at 23:59",
    P.DUTY_NO_EVENTS: "clean: DINAS_LUAR without check-in, valid report",
    P.DUPLICATE: "the same report text (case and spacing changed) on 3-4 days",
    P.NO_HOME: "no registered home point (HOME_UNREGISTERED on each WFH day)",
    P.UNKNOWN_OFFICE: "office_id not in offices (no finding: a data-quality item)",
    P.NEW_HIRE: "clean: active_from in the middle of the month, no data before",
    P.LEAVER: "clean: active_to in the middle of the month, no data after",
    P.RING: "3-4 employees of different agencies checking in at one exact (fake-GPS) coordinate",
    P.SHARED_PHONE: "an employee checking in with a colleague's phone",
    P.NOT_ALLOWED: "1-2 employees rostered WFH on a day outside every WFH period (one at the "
    "office, one at home: no finding, the agency gets WFH_NOT_ALLOWED)",
    P.QUOTA: "an agency rostering more than the allowed WFH share on a day",
    P.TRANSFER: "moved to another agency mid-month (a second employees row, valid_from the "
    "move); one later day checked in at the old office: WRONG_LOCATION under the new agency",
}


def _table(header: tuple[str, ...], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def _next_month(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def write_readme(info: SampleInfo) -> Path:
    first_day: dt.date = info.extra["first_day"]
    as_of = _next_month(first_day.replace(day=1))
    ext = "parquet" if info.fmt == "parquet" else "csv"
    transfers: list[tuple[dt.date, str, str, str]] = info.extra.get("transfers", [])
    snapshots = sorted({day.isoformat() for day, *_ in transfers})
    lines = [
        f"# Synthetic Pemprov Jabar, {info.month}",
        "",
        f"A synthetic data set for `wfhaudit`: {info.employees} civil servants (ASN) in "
        f"{info.units} agencies, {info.working_days} working days ({first_day.isoformat()} to "
        f"{info.extra['last_day'].isoformat()}; weekends and holidays have no data), with planted "
        "violations of every rule and their exact ground truth. Every name, NIP, phone id and "
        "coordinate is invented; agency names and office positions only look like the real ones.",
        "",
        "Generated with (same arguments give byte-identical files):",
        "",
        "```",
        info.command,
        "```",
        "",
        "## Files",
        "",
    ]
    if info.fmt == "export":
        lines += _table(
            ("file", "what"),
            [
                ("`employees.csv`", "staff master data (canonical columns)"),
                *[
                    (
                        f"`employees-{day}.csv`",
                        f"a later SIMPEG snapshot, in force from {day}: the rows that changed "
                        "(a transfer), same columns as `employees.csv`",
                    )
                    for day in snapshots
                ],
                ("`offices.csv`", "office geofences (canonical columns)"),
                (
                    f"`attendance-kmob-{info.month}.csv`",
                    "K-Mob check-in export: `;`-separated, decimal comma, "
                    "`Tanggal` dd/mm/yyyy, `Jam` HH:MM:SS, `Jenis` Masuk/Pulang (profile `kmob`)",
                ),
                (
                    "`roster/<unit_code>.xlsx`",
                    "one WFH roster grid per agency: `NIP`, `Nama`, one column per "
                    "working day (ISO date headers), cells `WFH`/`WFO`, empty when the "
                    "employee is not active",
                ),
                ("`outputs.csv`", "daily performance reports (canonical columns)"),
                (
                    "`leave.csv`",
                    "leave: CUTI, SAKIT, IZIN, DINAS_LUAR, TUGAS_BELAJAR (canonical columns)",
                ),
                ("`ground_truth.csv`", "every violation the audit must report, and nothing else"),
            ],
        )
    else:
        lines += _table(
            ("file", "what"),
            [
                (f"`{k}.{ext}`", "canonical columns of `wfhaudit/schema.py`")
                for k in ("employees", "offices", "roster", "attendance", "outputs", "leave")
            ]
            + [("`ground_truth.csv`", "every violation the audit must report, and nothing else")],
        )
    lines += ["", "Rows written:", ""]
    lines += _table(("table", "rows"), [(k, v) for k, v in info.rows.items()])
    lines += ["", "## Agencies", ""]
    lines += _table(("unit_code", "unit_name", "employees"), list(info.extra["units"]))
    lines += ["", "## How to ingest and audit it", "", "```"]
    if info.fmt == "export":
        lines += [
            "wfhaudit ingest employees employees.csv",
            *[
                f"wfhaudit ingest employees employees-{day}.csv --valid-from {day}"
                for day in snapshots
            ],
            "wfhaudit ingest offices offices.csv",
            "wfhaudit ingest roster roster/*.xlsx",
            f"wfhaudit ingest attendance attendance-kmob-{info.month}.csv --profile kmob",
            "wfhaudit ingest outputs outputs.csv",
            "wfhaudit ingest leave leave.csv",
        ]
    else:
        lines += [
            f"wfhaudit ingest {k} {k}.{ext}"
            for k in ("employees", "offices", "roster", "attendance", "outputs", "leave")
        ]
    lines += [f"wfhaudit audit {info.month} --as-of {as_of.isoformat()}", "```", ""]
    lines += [
        "Add `--store DIR` to each command to use a store other than `./wfhaudit-store`. For the "
        "committed `sample_data/`, `make demo` does all of this in a fresh store, writes the HTML "
        "and Markdown reports into `reports/out/2025-12/` and checks the findings against the "
        "ground truth; `tests/test_sample_committed.py` checks that the committed files are "
        "exactly what the command above generates.",
        "",
    ]
    lines += [
        f"With `--as-of {as_of.isoformat()}` every working day of the month is audited (the "
        "default, today, would leave out days not yet over). The default Jabar policy applies.",
        "",
        "## Ground truth",
        "",
        "`ground_truth.csv` has the columns `nip, unit_code, date, rule, scenario`: one row per "
        "`(nip, date, rule)` the audit must write to `violations.parquet`, and one row per "
        "`(unit_code, date, rule)` it must write to `unit_findings.parquet` (those rows have an "
        "empty `nip`). `scenario` names the planted case that causes the row. The audit's findings "
        "must equal this list exactly: everything found, nothing else.",
        "",
        "Rows per rule:",
        "",
    ]
    lines += _table(("rule", "rows"), [(k, v) for k, v in info.truth.items()])
    lines += [
        "",
        "## Planted scenarios",
        "",
        "Each planted employee carries one scenario and takes no other leave, so its consequences "
        "are known. Side effects are in the ground truth too: an absent day without a report is "
        "also `NO_DAILY_OUTPUT`; a fake-GPS ring member whose own office is elsewhere is also "
        "`WRONG_LOCATION`; the check-in 30+ km away before the office check-in is also "
        "`WRONG_LOCATION` (not on a DINAS_LUAR day, where the jump is no finding at all); an "
        "employee without a home point gets `HOME_UNREGISTERED` on every WFH day; one with an "
        "unknown office gets no finding (the audit's data quality lists it). Scenarios marked "
        "clean are edge cases that must give no violation. Two agency-days test missing data: "
        "the largest agency is absent from one day's K-Mob export (`ATTENDANCE_DATA_MISSING`, "
        "no `ABSENT` for its staff) and the second largest sent no daily report on another day "
        "(`OUTPUT_DATA_MISSING`, no `NO_DAILY_OUTPUT`). In the K-Mob export one check-in's "
        "accuracy cell is unreadable (`tidak terbaca`): the ingest blanks the cell and keeps "
        "the check-in (no finding).",
        "",
    ]
    lines += [
        f"Transfer: {nip} moved from {old} to {new} on {day.isoformat()} (the employees row "
        f"in force from then on has the new agency and office); the agencies' headcounts change "
        "on that day, and the one day checked in at the old office is a `WRONG_LOCATION` "
        f"under {new}."
        for day, nip, old, new in transfers
    ]
    lines += [""] if transfers else []
    lines += _table(
        ("scenario", "count", "what"),
        [(f"`{k}`", v, SCENARIOS.get(k, "")) for k, v in info.plants.items()],
    )
    lines += [
        "",
        "Everyone else is clean: check-in 06:45-07:29, check-out up to 40 minutes after the end "
        "of the day, 1-40 m from the expected place (office on WFO days, registered home on WFH "
        "days), their own phone, one or two daily reports the same day, rosters that keep each "
        "agency at or under 50% WFH among the staff present (those on leave are not counted), "
        "and random leave (about 20% of staff: CUTI, SAKIT, IZIN, DINAS_LUAR, rarely a whole month "
        "of TUGAS_BELAJAR).",
        "",
    ]
    path = info.out_dir / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
