"""The report's "Klarifikasi" section and the agencies' "Tanggapan" sheet (issue 12).

``clarifications_section(results_dir, unit, names, unit_names)`` is the model section
(plain data, language-neutral): waived findings by rule and by reason per agency, open
findings per agency with the share answered, the waived rows, and the open findings
an agency answers in its workbook.

``write_clarification_sheets(wb, model, cat)`` adds to an xlsx report the sheet
"Klarifikasi" and, in a one-agency report, the sheet "Tanggapan" (Responses): one row
per open finding, header row of machine column names (``RESPONSE_COLUMNS``) so the
filled sheet is read back as it comes by ``wfhaudit ingest clarifications FILE.xlsx``;
the evidence columns are protected, the answer columns unlocked and formatted as text
(a reason beginning with ``=``, ``+``, ``-`` or ``@`` stays text), data validation on
the rule and waive columns.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from wfhaudit.audit.clarifications import (
    RESPONSE_COLUMNS,
    RESPONSE_INPUT_COLUMNS,
    WAIVE_NO,
    WAIVE_YES,
)
from wfhaudit.schema import (
    ALL_RULES,
    UNIT_FINDINGS_SCHEMA,
    VIOLATIONS_SCHEMA,
    WAIVED_UNIT_FINDINGS_SCHEMA,
    WAIVED_VIOLATIONS_SCHEMA,
)

#: Blank rows below the findings that still carry the sheet's data validation.
SPARE_ROWS = 100


def _read(path: Path, schema: pl.Schema) -> pl.DataFrame:
    """A waived result file (an audit written before issue 12 has none: empty)."""
    if not path.is_file():
        return pl.DataFrame(schema=schema)
    df = pl.read_parquet(path, glob=False)
    return df.select([pl.col(c).cast(t) for c, t in schema.items() if c in df.columns])


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def clarifications_section(
    results_dir: Path,
    open_violations: pl.DataFrame,
    open_unit_findings: pl.DataFrame,
    *,
    unit: str | None,
    names: dict[str, str],
    unit_names: dict[str, str],
) -> dict[str, Any]:
    """The "Klarifikasi" model section of the audit result in ``results_dir`` (``unit``: a
    one-agency report, which also carries the rows of its responses sheet)."""
    waived_v = _read(results_dir / "waived_violations.parquet", WAIVED_VIOLATIONS_SCHEMA)
    waived_u = _read(results_dir / "waived_unit_findings.parquet", WAIVED_UNIT_FINDINGS_SCHEMA)
    if unit is not None:
        waived_v = waived_v.filter(pl.col("unit_code") == unit)
        waived_u = waived_u.filter(pl.col("unit_code") == unit)
    keys = ["unit_code", "rule", "reason", "decided_by"]
    waived = pl.concat([waived_v.select(keys), waived_u.select(keys)])
    open_all = pl.concat(
        [open_violations.select("unit_code"), open_unit_findings.select("unit_code")]
    )
    open_by_unit = dict(open_all.group_by("unit_code").len().iter_rows())
    waived_by_unit = dict(waived.group_by("unit_code").len().iter_rows())
    codes = sorted({str(u) for u in [*open_by_unit, *waived_by_unit] if u is not None})
    units = []
    for code in codes:
        n_open, n_waived = int(open_by_unit.get(code, 0)), int(waived_by_unit.get(code, 0))
        units.append(
            {
                "unit_code": code,
                "unit_name": unit_names.get(code, code),
                "open": n_open,
                "answered": n_waived,
                "answered_share": _ratio(n_waived, n_open + n_waived),
            }
        )
    order = {r: i for i, r in enumerate(ALL_RULES)}
    groups = (
        waived.group_by(keys)
        .len()
        .with_columns(pl.col("rule").replace_strict(order, default=len(order)).alias("_o"))
        .sort(["unit_code", "_o", "len", "reason"], descending=[False, False, True, False])
    )
    by_rule = dict(waived.group_by("rule").len().iter_rows())
    by_reason = (
        waived.group_by("reason", "decided_by")
        .len()
        .sort(["len", "reason"], descending=[True, False])
    )
    total_open = sum(int(n) for n in open_by_unit.values())
    rows = [
        {**_employee_row(r, names), "reason": r["reason"], "decided_by": r["decided_by"]}
        for r in waived_v.iter_rows(named=True)
    ] + [
        {**_agency_row(r, unit_names), "reason": r["reason"], "decided_by": r["decided_by"]}
        for r in waived_u.iter_rows(named=True)
    ]
    return {
        "answered": waived.height,
        "open": total_open,
        "answered_share": _ratio(waived.height, total_open + waived.height),
        "by_rule": {r: int(by_rule[r]) for r in sorted(by_rule, key=lambda r: order.get(r, 99))},
        "by_reason": [
            {"reason": r, "decided_by": d, "count": int(n)} for r, d, n in by_reason.iter_rows()
        ],
        "units": units,
        "groups": [
            {
                "unit_code": u,
                "unit_name": unit_names.get(u, u),
                "rule": r,
                "reason": reason,
                "decided_by": by,
                "count": int(n),
            }
            for u, r, reason, by, n, _ in groups.iter_rows()
        ],
        "waived": rows,
        # the rows of the agency's responses sheet: a one-agency report only
        "responses": _responses(open_violations, open_unit_findings, names, unit_names)
        if unit is not None
        else [],
    }


def _employee_row(r: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """A violation as a row of the responses / waived tables."""
    return {
        "nip": r["nip"],
        "name": names.get(r["nip"], r["nip"]),
        "unit_code": r["unit_code"],
        "date": _iso(r["date"]),
        "rule": r["rule"],
        "minutes": r["minutes"],
        "distance_m": r["distance_m"],
        # a shared point may be someone's home: not in a file sent to agencies
        "detail": None if r["rule"] == "SHARED_COORDINATES" else r["detail"],
    }


def _agency_row(r: dict[str, Any], unit_names: dict[str, str]) -> dict[str, Any]:
    """An agency finding as a row of the responses / waived tables (no NIP)."""
    return {
        "nip": None,
        "name": unit_names.get(r["unit_code"], r["unit_code"]),
        "unit_code": r["unit_code"],
        "date": _iso(r["date"]),
        "rule": r["rule"],
        "minutes": None,
        "distance_m": None,
        "detail": f"{r['count']}/{r['headcount']}",
        "count": r["count"],
        "headcount": r["headcount"],
        "share": r["share"],
    }


def _responses(
    violations: pl.DataFrame,
    unit_findings: pl.DataFrame,
    names: dict[str, str],
    unit_names: dict[str, str],
) -> list[dict[str, Any]]:
    """The open findings as rows of the responses sheet (employee findings, then agency's)."""
    employees = violations.select(list(VIOLATIONS_SCHEMA)).sort("unit_code", "nip", "date", "rule")
    agencies = unit_findings.select(list(UNIT_FINDINGS_SCHEMA)).sort("unit_code", "date", "rule")
    return [_employee_row(r, names) for r in employees.iter_rows(named=True)] + [
        _agency_row(r, unit_names) for r in agencies.iter_rows(named=True)
    ]


# --- Excel ------------------------------------------------------------------------


def write_clarification_sheets(wb: Any, model: dict[str, Any], cat: Any, sheet: Any) -> None:
    """Add the "Klarifikasi" sheet, and "Tanggapan" in a one-agency report.

    ``sheet``: the renderer's ``_sheet(wb, name, df, labels, position=...)`` helper.
    """
    section = model["clarifications"]
    L = cat.labels
    name = L["sheet_clarifications"]
    per_unit = pl.DataFrame(
        section["units"] or None,
        schema={
            "unit_code": pl.String,
            "unit_name": pl.String,
            "open": pl.Int64,
            "answered": pl.Int64,
            "answered_share": pl.Float64,
        },
        orient="row",
    )
    sheet(
        wb,
        name,
        per_unit,
        {
            "unit_code": L["unit_code"],
            "unit_name": L["unit_name"],
            "open": L["open_findings"],
            "answered": L["answered"],
            "answered_share": L["answered_share"],
        },
        percent=("answered_share",),
    )
    groups = pl.DataFrame(
        [{**g, "rule_name": cat.rule_name(g["rule"])} for g in section["groups"]] or None,
        schema={
            "unit_code": pl.String,
            "rule": pl.String,
            "rule_name": pl.String,
            "reason": pl.String,
            "decided_by": pl.String,
            "count": pl.Int64,
        },
        orient="row",
    )
    sheet(
        wb,
        name,
        groups,
        {k: L[k] for k in groups.columns},
        position=f"A{per_unit.height + 4}",
    )
    waived_schema = {
        "nip": pl.String,
        "name": pl.String,
        "unit_code": pl.String,
        "date": pl.String,
        "rule": pl.String,
        "minutes": pl.Int64,
        "distance_m": pl.Float64,
        "detail": pl.String,
        "reason": pl.String,
        "decided_by": pl.String,
    }
    waived = pl.DataFrame(
        [{k: r[k] for k in waived_schema} for r in section["waived"]] or None,
        schema=waived_schema,
        orient="row",
    )
    sheet(
        wb,
        name,
        waived,
        {k: L[k] for k in waived.columns},
        position=f"A{per_unit.height + groups.height + 7}",
    )
    _print_setup(wb.get_worksheet_by_name(name))
    if model["header"]["unit"]:
        _responses_sheet(wb, section["responses"], cat)


def _print_setup(ws: Any) -> None:
    """A4 landscape, one page wide, the header row on every page (as the other sheets)."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)


def _responses_sheet(wb: Any, rows: list[dict[str, Any]], cat: Any) -> None:
    L = cat.labels
    ws = wb.add_worksheet(L["sheet_responses"])
    head = wb.add_format({"bold": True, "locked": True, "bg_color": "#DDEBF7", "border": 1})
    head_input = wb.add_format({"bold": True, "locked": True, "bg_color": "#FFF2CC", "border": 1})
    locked = wb.add_format({"locked": True})
    locked_num = wb.add_format({"locked": True, "num_format": "#,##0.0"})
    answer = wb.add_format({"locked": False, "num_format": "@", "bg_color": "#FFFBEA"})
    widths = {
        "nip": 20,
        "name": 28,
        "unit_code": 12,
        "date": 12,
        "rule": 22,
        "rule_name": 26,
        "minutes": 9,
        "distance_m": 11,
        "detail": 24,
        "waive": 12,
        "reason": 44,
        "decided_by": 26,
    }
    for col, key in enumerate(RESPONSE_COLUMNS):
        fmt = answer if key in RESPONSE_INPUT_COLUMNS else None
        ws.set_column(col, col, widths.get(key, 14), fmt)
        ws.write_string(0, col, key, head_input if key in RESPONSE_INPUT_COLUMNS else head)
        label = L.get(key) or L.get("waive")
        ws.write_comment(0, col, label if key != "waive" else L["waive"])
    ws.write_comment(
        0, RESPONSE_COLUMNS.index("reason"), L["responses_note"], {"x_scale": 3, "y_scale": 2}
    )
    for i, r in enumerate(rows, start=1):
        values: dict[str, Any] = {
            "nip": r["nip"],
            "name": r["name"],
            "unit_code": r["unit_code"],
            "date": r["date"],
            "rule": r["rule"],
            "rule_name": cat.rule_name(r["rule"]),
            "minutes": r.get("minutes"),
            "distance_m": r.get("distance_m"),
            "detail": r.get("detail"),
        }
        if r["nip"] is None:
            share = r.get("share")
            values["detail"] = (
                f"{L['agency_finding']}: "
                + cat.t(
                    "agency_detail",
                    count=cat.integer(r.get("count")),
                    headcount=cat.integer(r.get("headcount")),
                )
                + (f" ({cat.percent(share)})" if share is not None else "")
            )
        for col, key in enumerate(RESPONSE_COLUMNS):
            value = values.get(key)
            if key in RESPONSE_INPUT_COLUMNS:
                ws.write_blank(i, col, None, answer)
            elif value is None:
                ws.write_blank(i, col, None, locked)
            elif isinstance(value, int | float):
                ws.write_number(i, col, value, locked_num if key == "distance_m" else locked)
            else:
                ws.write_string(i, col, str(value), locked)  # text, never a formula
    last = len(rows) + SPARE_ROWS
    codes_sheet = wb.add_worksheet("_codes")
    for i, code in enumerate(ALL_RULES):
        codes_sheet.write_string(i, 0, code)
    codes_sheet.hide()
    rule_col = RESPONSE_COLUMNS.index("rule")
    ws.data_validation(
        1,
        rule_col,
        last,
        rule_col,
        {
            "validate": "list",
            "source": f"='_codes'!$A$1:$A${len(ALL_RULES)}",
            "error_title": L["rule"],
            "error_message": L["rule_choose"],
        },
    )
    waive_col = RESPONSE_COLUMNS.index("waive")
    yes, no = (WAIVE_YES, WAIVE_NO)
    choice = [yes[0], no[0]] if cat.lang == "id" else [yes[1], no[1]]
    ws.data_validation(
        1,
        waive_col,
        last,
        waive_col,
        {
            "validate": "list",
            "source": choice,
            "error_title": L["waive"],
            "error_message": " / ".join(choice),
        },
    )
    ws.freeze_panes(1, 0)
    _print_setup(ws)
    ws.autofilter(0, 0, max(len(rows), 1), len(RESPONSE_COLUMNS) - 1)
    ws.protect(
        "",
        {
            "autofilter": True,
            "sort": True,
            "format_columns": True,
            "format_rows": True,
            "select_locked_cells": True,
            "select_unlocked_cells": True,
        },
    )
