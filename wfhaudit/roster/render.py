"""Feedback reports of ``roster check``: terminal table, Markdown, HTML, Excel, JSON.

Written for an agency's staff: per problem the day, the rule, how many over the
cap, which names to change, and the suggested correction with how it was
chosen.  Indonesian by default (``--lang id``), English with ``--lang en``.
Files: ``roster-check-<month>.<ext>`` (every agency checked) and
``roster-check-<month>-<unit>.<ext>`` (one agency; the unit code reduced to
``[A-Za-z0-9_-]``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

from wfhaudit.report.i18n import Catalogue, catalogue
from wfhaudit.report.render import _env, _sheet, _write_atomic, safe_workbook, template_dir
from wfhaudit.roster.check import PROBLEMS, RosterCheck, safe_unit
from wfhaudit.roster.plan import PLAN_RULES

LABELS: dict[str, dict[str, str]] = {
    "id": {
        "title": "Pemeriksaan Jadwal WFH",
        "intro": "Hasil pemeriksaan jadwal WFH/WFO yang dilaporkan perangkat daerah, sebelum "
        "bulan berjalan, terhadap kebijakan WFH dan data pegawai (pegawai aktif, cuti yang "
        "sudah tercatat). Perbaiki jadwal sesuai catatan di bawah lalu kirim ulang.",
        "month": "Bulan",
        "source": "Jadwal yang diperiksa",
        "source_store": "jadwal yang tersimpan di sistem",
        "agency": "Perangkat daerah",
        "agencies": "Perangkat daerah",
        "status": "Status",
        "ok": "OK",
        "problems": "masalah",
        "problem_one": "masalah",
        "problem": "Masalah",
        "breaks": "Melanggar kebijakan",
        "yes": "ya",
        "no": "tidak",
        "count": "Jumlah",
        "date": "Tanggal",
        "nip": "NIP",
        "name": "Nama",
        "detail": "Keterangan",
        "file": "Berkas",
        "headcount": "Pegawai (di luar cuti)",
        "wfh": "WFH direncanakan",
        "share": "Porsi WFH",
        "max_share": "Batas",
        "over": "Harus diubah ke WFO",
        "move": "Usulan: ubah ke WFO",
        "entries": "Isian jadwal",
        "section_quota": "Hari yang melebihi batas WFH",
        "section_not_allowed": "WFH pada hari atau perangkat daerah yang tidak diizinkan",
        "section_entries": "Isian jadwal yang perlu diperbaiki",
        "section_suggestion": "Usulan perbaikan",
        "section_days": "Rekap per hari",
        "section_unattributed": "Masalah tanpa perangkat daerah yang dikenali",
        "none_found": "Tidak ada masalah: jadwal sesuai kebijakan.",
        "no_moves": "Tidak ada isian yang perlu diubah.",
        "verified": "Setelah usulan ini diterapkan, tidak ada hari yang melebihi batas atau WFH "
        "yang tidak diizinkan (diperiksa ulang dengan aturan audit).",
        "not_verified": "Peringatan: setelah usulan ini masih ada pelanggaran; periksa manual.",
        "from_to": "WFH → WFO",
        "kind": "Jenis isian",
        "source_roster": "ubah isian",
        "source_default": "tambahkan isian WFO (tanpa isian berlaku bawaan WFH)",
        "losses": "Hari WFH yang diubah per pegawai",
        "days_lost": "Hari diubah",
        "method": "Cara usulan dipilih: (1) semua WFH pada hari yang tidak diizinkan diubah ke "
        "WFO; (2) pada setiap hari yang melebihi batas, hanya sebanyak yang perlu diubah "
        "sehingga porsi WFH tepat mencapai batas, tidak kurang; (3) pegawai yang diubah "
        "dipilih agar beban merata: lebih dulu pegawai yang paling sedikit kehilangan hari "
        "WFH, lalu yang hari WFH-nya paling banyak, lalu menurut NIP; kemudian usulan "
        "disetarakan sampai tidak ada pegawai yang kehilangan dua hari lebih banyak daripada "
        "pegawai lain yang dapat menggantikannya. Pegawai yang cuti tidak dihitung dan tidak "
        "diubah. Usulan ini boleh diganti dengan pilihan lain selama jumlah per hari sama.",
        "day_status_over": "melebihi batas",
        "day_status_not_allowed": "WFH tidak diizinkan",
        "rejected_note": "Baris ini akan ditolak saat impor; perbaiki isinya.",
        "files_note": "Berkas dan perangkat daerahnya",
        "unknown_agency": "(tidak dikenali)",
    },
    "en": {
        "title": "WFH roster check",
        "intro": "The WFH/WFO schedule reported by the agency, checked before the month "
        "against the WFH policy and the staff master (active staff, leave already known). "
        "Fix the schedule as noted below and send it again.",
        "month": "Month",
        "source": "Schedule checked",
        "source_store": "the roster stored in the system",
        "agency": "Agency",
        "agencies": "Agencies",
        "status": "Status",
        "ok": "OK",
        "problems": "problems",
        "problem_one": "problem",
        "problem": "Problem",
        "breaks": "Breaks the policy",
        "yes": "yes",
        "no": "no",
        "count": "Count",
        "date": "Date",
        "nip": "NIP",
        "name": "Name",
        "detail": "Detail",
        "file": "File",
        "headcount": "Staff (not on leave)",
        "wfh": "Planned WFH",
        "share": "WFH share",
        "max_share": "Cap",
        "over": "To change to WFO",
        "move": "Suggested: change to WFO",
        "entries": "Entries",
        "section_quota": "Days over the WFH cap",
        "section_not_allowed": "WFH on a day or in an agency where it is not allowed",
        "section_entries": "Entries to fix",
        "section_suggestion": "Suggested correction",
        "section_days": "Day by day",
        "section_unattributed": "Problems of no known agency",
        "none_found": "No problem: the schedule is within the policy.",
        "no_moves": "No entry needs to change.",
        "verified": "With this correction applied no day is over the cap and no WFH is "
        "outside what is allowed (checked again with the audit's rules).",
        "not_verified": "Warning: the correction still leaves a breach; check by hand.",
        "from_to": "WFH → WFO",
        "kind": "Entry",
        "source_roster": "change the entry",
        "source_default": "add a WFO entry (without one the default WFH applies)",
        "losses": "WFH days changed per employee",
        "days_lost": "Days changed",
        "method": "How the suggestion was chosen: (1) every WFH on a day where WFH is not "
        "allowed turns to WFO; (2) on every day over the cap, only as many WFH days change "
        "as needed for the share to reach the cap exactly, never fewer WFH than allowed; (3) "
        "who changes is chosen so the burden is even: first those who lost the fewest WFH "
        "days so far, then those with the most WFH days, then by NIP; then the suggestion is "
        "rebalanced until nobody loses two days more than another employee who could take "
        "the change. Staff on leave are not counted and not changed. Another choice with "
        "the same number per day is just as valid.",
        "day_status_over": "over the cap",
        "day_status_not_allowed": "WFH not allowed",
        "rejected_note": "Ingest would reject this row; fix its content.",
        "files_note": "Files and their agencies",
        "unknown_agency": "(not recognised)",
    },
}

PROBLEM_NAMES: dict[str, dict[str, str]] = {
    "id": {
        "WFH_QUOTA_EXCEEDED": "Porsi WFH melebihi batas",
        "WFH_NOT_ALLOWED": "WFH tidak diizinkan",
        "REJECTED_ROW": "Baris ditolak",
        "NIP_UNKNOWN": "NIP tidak dikenal",
        "NIP_OTHER_UNIT": "NIP perangkat daerah lain",
        "ENTRY_NOT_ACTIVE": "Pegawai tidak aktif pada hari itu",
        "ENTRY_NON_WORKING_DAY": "Isian pada hari libur",
        "ENTRY_OUTSIDE_MONTH": "Isian di luar bulan",
        "UNIT_WITHOUT_ENTRY": "Tidak ada jadwal sama sekali (berlaku mode bawaan)",
        "EMPLOYEE_WITHOUT_ENTRY": "Pegawai tanpa isian (berlaku mode bawaan)",
        "DAY_WITHOUT_ENTRY": "Hari kerja tanpa isian",
    },
    "en": {
        "WFH_QUOTA_EXCEEDED": "WFH share over the cap",
        "WFH_NOT_ALLOWED": "WFH not allowed",
        "REJECTED_ROW": "Rejected row",
        "NIP_UNKNOWN": "Unknown NIP",
        "NIP_OTHER_UNIT": "NIP of another agency",
        "ENTRY_NOT_ACTIVE": "Employee not active that day",
        "ENTRY_NON_WORKING_DAY": "Entry on a non-working day",
        "ENTRY_OUTSIDE_MONTH": "Entries outside the month",
        "UNIT_WITHOUT_ENTRY": "No roster at all (the default mode applies)",
        "EMPLOYEE_WITHOUT_ENTRY": "Staff without any entry (the default mode applies)",
        "DAY_WITHOUT_ENTRY": "Working day without entries",
    },
}

DETAILS: dict[str, dict[str, str]] = {
    "id": {
        "no_wfh_period": "di luar masa WFH",
        "weekday_not_allowed": "hari ini bukan hari WFH",
        "unit_exempt": "perangkat daerah ini dikecualikan dari WFH",
        "holiday": "hari libur",
        "sat": "Sabtu",
        "sun": "Minggu",
        "mon": "Senin",
        "tue": "Selasa",
        "wed": "Rabu",
        "thu": "Kamis",
        "fri": "Jumat",
    },
    "en": {
        "no_wfh_period": "outside any WFH period",
        "weekday_not_allowed": "not a WFH weekday",
        "unit_exempt": "the agency is exempt from WFH",
        "holiday": "holiday",
        "sat": "Saturday",
        "sun": "Sunday",
        "mon": "Monday",
        "tue": "Tuesday",
        "wed": "Wednesday",
        "thu": "Thursday",
        "fri": "Friday",
    },
}

REPORT_FORMATS: dict[str, str] = {"md": "md", "html": "html", "xlsx": "xlsx", "json": "json"}


def report_name(month: str, unit: str | None, ext: str) -> str:
    """``roster-check-<month>[-<unit>].<ext>``, the unit code safe for a file name."""
    return f"roster-check-{month}{'-' + safe_unit(unit) if unit else ''}.{ext}"


# --- terminal -------------------------------------------------------------------


def print_table(console: Console, check: RosterCheck) -> None:
    """One line per checked agency: OK, or how many problems (and policy breaks)."""
    table = Table(
        title=f"Roster check {check.month}", show_header=True, header_style="bold"
    )
    for name, justify in (
        ("agency", "left"),
        ("status", "left"),
        ("problems", "right"),
        ("over cap", "right"),
        ("not allowed", "right"),
        ("to WFO", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    moves = dict(check.suggestion.moves.group_by("unit_code").len().iter_rows())
    for unit in check.units:
        counts = check.problem_counts(unit)
        breaks = check.breaks(unit)
        total = sum(counts.values())
        words = f"{total} problem{'s' if total != 1 else ''}"
        status = "[green]OK[/]" if total == 0 else (
            f"[red]{words}[/]" if sum(breaks.values()) else f"[yellow]{words}[/]"
        )
        table.add_row(
            unit,
            status,
            f"{total:,}",
            f"{breaks['WFH_QUOTA_EXCEEDED']:,}",
            f"{breaks['WFH_NOT_ALLOWED']:,}",
            f"{int(moves.get(unit, 0)):,}",
        )
    stray = check.problem_counts(None)
    if stray:
        table.add_row("(no agency)", f"[yellow]{sum(stray.values())} problems[/]", "", "", "", "")
    console.print(table)


# --- the report model -------------------------------------------------------------


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts()


def _section(check: RosterCheck, unit: str | None, lang: str, cat: Catalogue) -> dict[str, Any]:
    """What the report says about one agency (None: problems of no known agency)."""
    names = PROBLEM_NAMES[lang]
    details = DETAILS[lang]
    where = pl.col("unit_code").is_null() if unit is None else pl.col("unit_code") == unit
    problems = check.problems.filter(where)
    moves = check.suggestion.moves.filter(where)
    people = _people(check)
    moves = moves.join(people, on="nip", how="left")
    by_day: dict[Any, list[str]] = {}
    for row in moves.iter_rows(named=True):
        by_day.setdefault((row["date"], row["reason"]), []).append(
            f"{row['nip']} {row['name'] or ''}".strip()
        )
    quota = [
        {
            "date": cat.date(r["date"]),
            "headcount": cat.integer(r["headcount"]),
            "wfh": cat.integer(r["count"]),
            "share": cat.percent(r["share"]),
            "max_share": cat.percent(r["max_share"], 0),
            "over": cat.integer(r["over"]),
            "move": "; ".join(by_day.get((r["date"], "WFH_QUOTA_EXCEEDED"), [])),
        }
        for r in _rows(problems.filter(pl.col("problem") == "WFH_QUOTA_EXCEEDED"))
    ]
    not_allowed = [
        {
            "date": cat.date(r["date"]),
            "detail": details.get(r["detail"] or "", r["detail"] or ""),
            "count": cat.integer(r["count"]),
            "move": "; ".join(by_day.get((r["date"], "WFH_NOT_ALLOWED"), [])),
        }
        for r in _rows(problems.filter(pl.col("problem") == "WFH_NOT_ALLOWED"))
    ]
    entries = [
        {
            "problem": names[r["problem"]],
            "code": r["problem"],
            "date": cat.date(r["date"]) if r["date"] else "",
            "nip": r["nip"] or "",
            "name": r["name"] or "",
            "count": cat.integer(r["count"]) if r["count"] is not None else "",
            "detail": details.get(r["detail"] or "", r["detail"] or ""),
            "file": Path(r["source_file"]).name if r["source_file"] else "",
        }
        for r in _rows(problems.filter(~pl.col("problem").is_in(list(PLAN_RULES))))
    ]
    L = LABELS[lang]
    move_rows = [
        {
            "date": cat.date(r["date"]),
            "nip": r["nip"],
            "name": r["name"] or "",
            "kind": L["source_roster"] if r["source"] == "roster" else L["source_default"],
            "reason": names[r["reason"]],
        }
        for r in _rows(moves)
    ]
    losses = [
        {"nip": nip, "name": name or "", "days": cat.integer(n)}
        for nip, name, n in moves.filter(pl.col("reason") == "WFH_QUOTA_EXCEEDED")
        .group_by("nip", "name")
        .len()
        .sort("len", "nip", descending=[True, False])
        .iter_rows()
    ]
    days = []
    if unit is not None:
        for r in _rows(check.days.filter(pl.col("unit_code") == unit)):
            flags = []
            if r["quota_exceeded"]:
                flags.append(L["day_status_over"])
            if r["wfh_not_allowed"]:
                flags.append(L["day_status_not_allowed"])
            days.append(
                {
                    "date": cat.date(r["date"]),
                    "entries": cat.integer(r["entries"]),
                    "headcount": cat.integer(r["headcount"]),
                    "wfh": cat.integer(r["wfh"]),
                    "share": cat.percent(r["share"]),
                    "max_share": cat.percent(r["max_share"], 0)
                    if r["max_share"] is not None
                    else "—",
                    "status": ", ".join(flags) or L["ok"],
                }
            )
    counts = check.problem_counts(unit)
    return {
        "unit": unit,
        "unit_name": check.unit_names.get(unit, unit) if unit else L["unknown_agency"],
        "total": sum(counts.values()),
        "counts": [{"name": names[c], "code": c, "n": cat.integer(n)} for c, n in counts.items()],
        "breaks": sum(check.breaks(unit).values()) if unit else 0,
        "quota": quota,
        "not_allowed": not_allowed,
        "entries": entries,
        "moves": move_rows,
        "losses": losses,
        "days": days,
    }


def _people(check: RosterCheck) -> pl.DataFrame:
    """NIP and name of everyone a problem or a move names."""
    return check.names


def build_model(check: RosterCheck, unit: str | None, lang: str) -> dict[str, Any]:
    """Everything a Markdown or HTML report shows, formatted for ``lang``."""
    cat = catalogue(lang)
    L = LABELS[cat.lang]
    units = [unit] if unit is not None else check.units
    sections = [_section(check, u, cat.lang, cat) for u in units]
    stray = _section(check, None, cat.lang, cat) if unit is None else None
    if check.source == "files":
        source = [
            f"{Path(f).name} → {u or L['unknown_agency']}"
            for f, u in check.file_units.items()
            if unit is None or u == unit
        ]
    else:
        source = [L["source_store"]]
    return {
        "lang": cat.lang,
        "L": L,
        "month": check.month,
        "month_text": f"{cat.months[check.period.start.month - 1]} {check.period.start.year}",
        "unit": unit,
        "source": source,
        "sections": sections,
        "stray": stray if stray and stray["total"] else None,
        "verified": check.suggestion.verified,
    }


def render_markdown(model: dict[str, Any]) -> str:
    return _env(False).get_template("roster-check.md.j2").render(m=model, L=model["L"])


def render_html(model: dict[str, Any]) -> str:
    css = (template_dir() / "report.css").read_text("utf-8")
    return _env(True).get_template("roster-check.html.j2").render(m=model, L=model["L"], css=css)


def _json_frame(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.with_columns(
        [pl.col(c).cast(pl.String) for c, t in frame.schema.items() if t == pl.Date]
    ).to_dicts()


def render_json(check: RosterCheck, unit: str | None, lang: str) -> str:
    """The check as data: problems, the suggested moves and the day table (codes, ISO dates)."""
    where = pl.lit(True) if unit is None else pl.col("unit_code") == unit
    doc = {
        "month": check.month,
        "lang": lang,
        "source": check.source,
        "files": check.file_units,
        "units": [unit] if unit else check.units,
        "breaks": check.breaks(unit),
        "problems": _json_frame(check.problems.filter(where)),
        "problem_names": PROBLEM_NAMES[lang],
        "suggestion": {
            "verified": check.suggestion.verified,
            "moves": _json_frame(check.suggestion.moves.filter(where)),
            "method": LABELS[lang]["method"],
        },
        "days": _json_frame(check.days.filter(where)),
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def render_xlsx(check: RosterCheck, unit: str | None, lang: str, path: Path) -> None:
    """Sheets: problems, suggested correction, day by day; text never becomes a formula."""
    L = LABELS[lang]
    where = pl.lit(True) if unit is None else pl.col("unit_code") == unit
    wb = safe_workbook(path)
    names = PROBLEM_NAMES[lang]
    problems = check.problems.filter(where).with_columns(
        pl.col("problem").replace_strict(names, return_dtype=pl.String).alias("problem_name"),
        pl.col("source_file").str.replace(r"^.*[/\\]", "").alias("source_file"),
    ).select(
        "unit_code", "problem", "problem_name", "date", "nip", "name", "count", "headcount",
        "share", "max_share", "over", "detail", "source_file",
    )
    labels = {
        "unit_code": L["agency"],
        "problem": "kode" if lang == "id" else "code",
        "problem_name": L["problem"],
        "date": L["date"],
        "nip": L["nip"],
        "name": L["name"],
        "count": L["count"],
        "headcount": L["headcount"],
        "share": L["share"],
        "max_share": L["max_share"],
        "over": L["over"],
        "detail": L["detail"],
        "source_file": L["file"],
        "source": L["kind"],
        "reason": L["problem"],
        "entries": L["entries"],
        "wfh": L["wfh"],
        "wfh_period": "WFH",
        "quota_exceeded": L["day_status_over"],
        "wfh_not_allowed": L["day_status_not_allowed"],
    }
    _sheet(wb, L["problem"][:31], problems, labels, percent=("share", "max_share"))
    moves = (
        check.suggestion.moves.filter(where)
        .join(_people(check), on="nip", how="left")
        .select("unit_code", "date", "nip", "name", "source", "reason")
    )
    _sheet(wb, L["section_suggestion"][:31], moves, labels)
    days = check.days.filter(pl.col("unit_code").is_in([unit] if unit else check.units))
    _sheet(wb, L["section_days"][:31], days, labels, percent=("share", "max_share"))
    wb.close()


def write_reports(
    check: RosterCheck, out_dir: Path, formats: list[str], lang: str
) -> list[Path]:
    """The report of every agency checked and one per agency, in each format.

    With one agency checked (one agency's file, or ``--unit``) only its own file.
    """
    lang = catalogue(lang).lang
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    # one agency checked: its own file is the whole report
    scopes = check.units if len(check.units) == 1 else [None, *check.units]
    for unit in scopes:
        model: dict[str, Any] | None = None
        for fmt in formats:
            path = out_dir / report_name(check.month, unit, REPORT_FORMATS[fmt])
            if fmt in ("md", "html"):
                model = model or build_model(check, unit, lang)
                text = render_markdown(model) if fmt == "md" else render_html(model)
                _write_atomic(path, lambda p, t=text: p.write_text(t, "utf-8"))
            elif fmt == "json":
                text = render_json(check, unit, lang)
                _write_atomic(path, lambda p, t=text: p.write_text(t, "utf-8"))
            else:
                _write_atomic(path, lambda p, u=unit: render_xlsx(check, u, lang, p))
            written.append(path)
    return written


__all__ = ["PROBLEMS", "build_model", "print_table", "report_name", "write_reports"]
