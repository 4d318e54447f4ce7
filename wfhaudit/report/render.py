"""Render the report model as HTML, Markdown, Excel and JSON.

``render_reports(results_dir, formats=..., lang=..., unit=..., out_dir=..., store=...)``
builds the model once and writes ``wfhaudit-<period>[-<unit>].<ext>`` per format.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2
import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_cell_to_rowcol

from wfhaudit.errors import UsageError
from wfhaudit.processes import pid_alive
from wfhaudit.report.clarifications import write_clarification_sheets
from wfhaudit.report.i18n import Catalogue, catalogue
from wfhaudit.report.model import build_report

FORMATS: dict[str, str] = {"html": "html", "md": "md", "xlsx": "xlsx", "json": "json"}
DEFAULT_FORMATS: tuple[str, ...] = ("html", "md")


def template_dir() -> Path:
    """Templates shipped in the wheel (``wfhaudit/report/templates``), else the repo's."""
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "reports" / "templates"


def _env(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md_cell
    env.filters["mdcode"] = _md_code
    env.filters["speed"] = _speed
    return env


def _speed(value: Any, cat: Catalogue) -> str:
    """The km/h of an IMPOSSIBLE_TRAVEL detail: a whole number, or ``inf`` (no time apart)."""
    text = "" if value is None else str(value).strip()
    if text.lower() in ("inf", "infinity"):
        return "∞"
    try:
        return cat.integer(round(float(text)))
    except ValueError:
        return text


#: Characters that start Markdown inline syntax in a table cell (emphasis, code, links and
#: images, strike, cell breaks, escapes); each is backslash-escaped. Parentheses and "!"
#: are inert once "[" and "]" are escaped, so "(surat 800/12)" stays as written.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]~|])")
#: A bare URL or ``www.`` that GitHub would turn into a live link.
_MD_AUTOLINK = re.compile(r"(?i)\b(https?|ftp|mailto|www)(:|\.)")


def _md_cell(value: Any) -> str:
    """A Markdown table cell holding ``value`` as literal text: no syntax, pipe, newline or HTML.

    Names and codes come from agencies' files: ``**b**`` must not turn bold, nor
    ``[x](http://…)`` into a link, nor ``<img …>`` into HTML.
    """
    text = "" if value is None else str(value)
    text = " ".join(text.replace("\r", " ").replace("\n", " ").split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_AUTOLINK.sub(lambda m: f"{m[1]}\\{m[2]}", text)


def _md_code(value: Any) -> str:
    """``value`` as an inline code span that no backtick or pipe inside can break."""
    text = " ".join(("" if value is None else str(value)).split())
    if not text:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    # GitHub splits table cells on "|" before reading code spans: escape it there too.
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


def _matrix(model: dict[str, Any]) -> dict[str, Any]:
    """The agencies x rules matrix: the rules with violations, and each rule's highest cell."""
    rules = [r for r in model["summary"]["violations_by_rule"]]
    worst = {
        r: max((u["violations_by_rule"].get(r, 0) for u in model["units"]), default=0)
        for r in rules
    }
    return {"rules": rules, "worst": worst}


def _context(model: dict[str, Any], cat: Catalogue, with_xlsx: bool = False) -> dict[str, Any]:
    limit = model["employees_limit"]
    employees = model["employees"]
    # A report for all agencies lists the top employees among those with equivalent days.
    ranked = [e for e in employees if (e.get("equivalent_days") or 0) > 0]
    shown = employees if limit is None else ranked[:limit]
    return {
        "m": model,
        "cat": cat,
        "L": cat.labels,
        "employees_shown": shown,
        "matrix": _matrix(model),
        "with_xlsx": with_xlsx,
        "quality_rows": _quality_rows(model, cat, detailed=False),
        "missing_rows": _missing_rows(model, cat),
    }


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string: quotes, backslashes, ``<`` and newlines escaped."""
    out = []
    for ch in text:
        if ch in '"\\<>&' or ord(ch) < 0x20:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def page_css(model: dict[str, Any], cat: Catalogue) -> str:
    """The running header and page numbers of the printed report (@page margin boxes)."""
    h = model["header"]
    scope = f"{h['unit_name'] or h['unit']}" if h["unit"] else cat.t("scope_all")
    head = f"{cat.t('title')} {h['period'].get('label', '')} · {scope}"
    page = f"{cat.t('page')} "
    of = f" {cat.t('page_of')} "
    return (
        "@page { "
        f"@top-left {{ content: {css_string(head)}; }} "
        f"@top-right {{ content: {css_string(cat.t('running_confidential'))}; }} "
        f"@bottom-right {{ content: {css_string(page)} counter(page) {css_string(of)} "
        "counter(pages); } }"
    )


# --- HTML and Markdown ------------------------------------------------------


def render_html(model: dict[str, Any], cat: Catalogue, with_xlsx: bool = False) -> str:
    ctx = _context(model, cat, with_xlsx)
    from wfhaudit.report import charts  # matplotlib: loaded to draw, not before

    ctx["charts"] = charts.all_charts(model, cat)
    ctx["css"] = (template_dir() / "report.css").read_text("utf-8")
    ctx["page_css"] = page_css(model, cat)
    return _env(True).get_template("report.html.j2").render(ctx)


def render_markdown(model: dict[str, Any], cat: Catalogue, with_xlsx: bool = False) -> str:
    return _env(False).get_template("report.md.j2").render(_context(model, cat, with_xlsx))


def render_json(model: dict[str, Any], cat: Catalogue) -> str:
    doc = {"lang": cat.lang, **model}
    doc["rules"] = {
        code: {"name": cat.rule_name(code), "explain": cat.rule_explain(code)} for code in cat.rules
    }
    return json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n"


# --- Excel ------------------------------------------------------------------


def _frame(rows: list[dict[str, Any]], schema: dict[str, Any]) -> pl.DataFrame:
    data = {c: [r.get(c) for r in rows] for c in schema}
    df = pl.DataFrame(data, schema={c: pl.String if t == pl.Date else t for c, t in schema.items()})
    dates = [c for c, t in schema.items() if t == pl.Date]
    return df.with_columns([pl.col(c).str.to_date("%Y-%m-%d") for c in dates]) if dates else df


#: The workbook's core sheets in order (keys of ``[sheets]`` in the catalogues); sections
#: written after them (``write_clarification_sheets``) use ``_sheet`` too, so every sheet
#: gets the same table, filter and print setup.
SHEETS: tuple[str, ...] = (
    "summary",
    "units",
    "employees",
    "violations",
    "unit_days",
    "missing_data",
    "integrity",
    "quality",
)

#: Rows of data an Excel sheet can hold below its header row.
EXCEL_MAX_ROWS = 1_048_575


def _widths(df: pl.DataFrame) -> dict[str, int]:
    """Column widths in pixels that fit header and values (computed with Polars: fast)."""
    out = {}
    for col, dtype in df.schema.items():
        if dtype == pl.Date or dtype.is_float():
            chars = 10
        elif dtype.is_integer():
            top: Any = df.get_column(col).abs().max() if df.height else 0
            chars = len(f"{int(top or 0):,}")
        else:
            longest: Any = df.get_column(col).cast(pl.String).str.len_chars().max()
            chars = int(longest or 0)
        chars = max(chars, min(len(col), 30))  # long headers wrap after 30 characters
        out[col] = min(60, chars + 2) * 7 + 5
    return out


def _sheet(
    wb: xlsxwriter.Workbook,
    name: str,
    df: pl.DataFrame,
    labels: dict[str, str],
    position: str = "A1",
    percent: Iterable[str] = (),
) -> None:
    pct = set(percent)
    formats: Any = {labels[c]: "0.0%" for c in df.columns if c in pct}
    df = df.rename({c: labels[c] for c in df.columns})
    widths: Any = _widths(df)
    df.write_excel(
        wb,
        worksheet=name,
        position=position,
        autofilter=True,
        column_widths=widths,
        freeze_panes=(1, 0),
        column_formats=formats or None,
        dtype_formats={pl.Date: "yyyy-mm-dd"},
        float_precision=2,
        table_style="Table Style Light 9",
    )
    # the last column used on the sheet so far (the summary sheet holds two tables side by side)
    _print_setup(wb.get_worksheet_by_name(name), xl_cell_to_rowcol(position)[1] + df.width)


def _print_setup(ws: Any, columns: int) -> None:
    """A4, one page wide, header row repeated; landscape when the sheet is wide."""
    ws.set_paper(9)
    if columns > 5:
        ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)


def safe_workbook(path: Path, date_format: str | None = "yyyy-mm-dd") -> xlsxwriter.Workbook:
    """A workbook that writes every text as text: never a formula, a number or a link
    (a name or reason beginning with ``=``, ``+``, ``-`` or ``@`` stays what it says)."""
    options: dict[str, Any] = {
        "strings_to_formulas": False,
        "strings_to_numbers": False,
        "strings_to_urls": False,
    }
    if date_format is not None:
        options["default_date_format"] = date_format
    return xlsxwriter.Workbook(str(path), options)


def render_xlsx(model: dict[str, Any], cat: Catalogue, path: Path) -> None:
    """One sheet per section; text is never turned into a formula, number or link."""
    L = cat.labels
    S = cat.sheets
    wb = safe_workbook(path)
    summary = model["summary"]
    header = model["header"]
    rate_keys = {"compliance_rate"}
    rows: list[dict[str, Any]] = []
    for key in (
        "employee_days",
        "excused",
        "duty",
        "no_attendance_data",
        "audited",
        "clean_days",
        "compliance_rate",
        "violations_total",
        "unit_findings_total",
        "missing_data_total",
        "employees",
    ):
        rows.append({"code": key, "metric": cat.t(key), "value": summary.get(key)})
    for rule, n in summary["violations_by_rule"].items():
        rows.append(
            {"code": rule, "metric": f"{cat.t('by_rule')}: {cat.rule_name(rule)}", "value": n}
        )
    for rule, n in summary["unit_findings_by_rule"].items():
        rows.append(
            {
                "code": rule,
                "metric": f"{cat.t('quota_findings_by_rule')}: {cat.rule_name(rule)}",
                "value": n,
            }
        )
    if len(model["violations"]) > EXCEL_MAX_ROWS:
        rows.append(
            {
                "code": "violations_rows_in_sheet",
                "metric": cat.t("sheet_cut"),
                "value": EXCEL_MAX_ROWS,
            }
        )
    df = _frame(rows, {"metric": pl.String, "code": pl.String, "value": pl.Float64})
    _sheet(wb, S["summary"], df, {"metric": L["metric"], "code": L["code"], "value": L["value"]})
    ws = wb.get_worksheet_by_name(S["summary"])
    pct_fmt = wb.add_format({"num_format": "0.0%"})
    int_fmt = wb.add_format({"num_format": "#,##0"})
    for i, r in enumerate(rows, start=1):
        if r["value"] is not None:
            ws.write_number(i, 2, float(r["value"]), pct_fmt if r["code"] in rate_keys else int_fmt)
    period = header["period"]
    about = [
        (L["title"], ""),
        (
            L["period"],
            f"{period.get('label', '')}: {cat.date(period.get('start'))} – "
            f"{cat.date(period.get('end'))}",
        ),
        (
            L["scope"],
            f"{header['unit']} {header['unit_name'] or ''}".strip()
            if header["unit"]
            else L["scope_all"],
        ),
        (
            L["wfh_policies"],
            "; ".join(
                f"{c['name']} ({cat.date(c['from'])} – {cat.date(c['to'])}, {L['cap_short']} "
                f"{cat.percent(c['max_share'], 0)})"
                for c in header["wfh_caps"]
            )
            or L["none"],
        ),
        (L["as_of"], cat.date(header["as_of"]) if header["as_of"] else L["none"]),
        (L["store_versions"], ", ".join(f"{k} v{v}" for k, v in header["store_versions"].items())),
        (L["audit_generated_at"], cat.datetime(header["audit_generated_at"])),
        (L["generated_at"], cat.datetime(header["generated_at"])),
        (L["tool_version"], header["tool_version"]),
    ]
    about_df = pl.DataFrame({"item": [a for a, _ in about], "text": [str(b) for _, b in about]})
    _sheet(wb, S["summary"], about_df, {"item": L["metric"], "text": L["value"]}, position="E1")

    units = model["units"]
    unit_rules = [r for r in summary["rules_shown"] if r in summary["violations_by_rule"]]
    urows = []
    for u in units:
        row = {
            k: u[k]
            for k in (
                "unit_code",
                "unit_name",
                "headcount",
                "planned_wfh_share",
                "max_share",
                "realised_wfh_share",
                "compliance_rate",
                "violations",
                "quota_findings",
            )
        }
        row.update({f"rule:{r}": u["violations_by_rule"].get(r, 0) for r in unit_rules})
        urows.append(row)
    schema: dict[str, Any] = {
        "unit_code": pl.String,
        "unit_name": pl.String,
        "headcount": pl.Int64,
        "planned_wfh_share": pl.Float64,
        "max_share": pl.Float64,
        "realised_wfh_share": pl.Float64,
        "compliance_rate": pl.Float64,
        "violations": pl.Int64,
        "quota_findings": pl.Int64,
    }
    schema.update({f"rule:{r}": pl.Int64 for r in unit_rules})
    labels = {
        k: cat.t(k if k != "violations" else "violations_total")
        for k in schema
        if not k.startswith("rule:")
    }
    labels.update({f"rule:{r}": f"{r}" for r in unit_rules})
    _sheet(
        wb,
        S["units"],
        _frame(urows, schema),
        labels,
        percent=("planned_wfh_share", "max_share", "realised_wfh_share", "compliance_rate"),
    )

    emp_schema: dict[str, Any] = {
        "nip": pl.String,
        "name": pl.String,
        "unit_code": pl.String,
        "working_days": pl.Int64,
        "absent_days": pl.Int64,
        "late_minutes": pl.Int64,
        "early_minutes": pl.Int64,
        "equivalent_days": pl.Float64,
        "ytd_equivalent_days": pl.Float64,
        "ytd_tier": pl.String,
    }
    erows = [
        {**e, "ytd_tier": cat.tier(e.get("ytd_tier")) if e.get("ytd_tier") else None}
        for e in model["employees"]
    ]
    _sheet(wb, S["employees"], _frame(erows, emp_schema), {k: cat.t(k) for k in emp_schema})

    v_schema: dict[str, Any] = {
        "nip": pl.String,
        "name": pl.String,
        "unit_code": pl.String,
        "date": pl.Date,
        "rule": pl.String,
        "rule_name": pl.String,
        "minutes": pl.Int64,
        "distance_m": pl.Float64,
        "detail": pl.String,
    }
    # A sheet holds at most EXCEL_MAX_ROWS rows: beyond that the sheet is cut, and the Summary
    # sheet says so (the JSON and violations.parquet hold every row).
    vrows = [
        {**v, "rule_name": cat.rule_name(v["rule"])} for v in model["violations"][:EXCEL_MAX_ROWS]
    ]
    _sheet(wb, S["violations"], _frame(vrows, v_schema), {k: cat.t(k) for k in v_schema})

    uf_schema: dict[str, Any] = {
        "unit_code": pl.String,
        "date": pl.Date,
        "rule": pl.String,
        "rule_name": pl.String,
        "count": pl.Int64,
        "headcount": pl.Int64,
        "share": pl.Float64,
    }
    uf_rows = [{**f, "rule_name": cat.rule_name(f["rule"])} for f in model["unit_findings"]]
    _sheet(
        wb,
        S["unit_days"],
        _frame(uf_rows, uf_schema),
        {k: cat.t(k) for k in uf_schema},
        percent=("share",),
    )

    md_schema: dict[str, Any] = {
        "unit_code": pl.String,
        "date": pl.Date,
        "rule": pl.String,
        "rule_name": pl.String,
        "detail": pl.String,
        "headcount": pl.Int64,
    }
    md_labels = {k: cat.t(k) for k in md_schema}
    md_labels["headcount"] = cat.t("missing_data_employees")
    _sheet(wb, S["missing_data"], _frame(_missing_rows(model, cat), md_schema), md_labels)

    _sheet(
        wb,
        S["integrity"],
        _frame(
            _integrity_rows(model, cat),
            {
                "integrity_type": pl.String,
                "date": pl.Date,
                "group": pl.String,
                "nip": pl.String,
                "name": pl.String,
                "unit_code": pl.String,
                "speed": pl.Float64,
                "detail": pl.String,
            },
        ),
        {
            k: cat.t(k)
            for k in (
                "integrity_type",
                "date",
                "group",
                "nip",
                "name",
                "unit_code",
                "speed",
                "detail",
            )
        },
    )

    _sheet(
        wb,
        S["quality"],
        _frame(
            _quality_rows(model, cat),
            {"quality_item": pl.String, "code": pl.String, "value": pl.Int64, "detail": pl.String},
        ),
        {
            "quality_item": L["quality_item"],
            "code": L["code"],
            "value": L["value"],
            "detail": L["detail"],
        },
    )
    write_clarification_sheets(wb, model, cat, _sheet)  # issue 12: Klarifikasi, Tanggapan
    wb.close()


def _integrity_rows(model: dict[str, Any], cat: Catalogue) -> list[dict[str, Any]]:
    integ = model["integrity"]
    rows: list[dict[str, Any]] = []
    for g in integ["shared_coordinates"]:
        for m in g["members"]:
            rows.append(
                {
                    "integrity_type": cat.rule_name("SHARED_COORDINATES"),
                    "date": g["date"],
                    "group": g["group"],
                    **m,
                    "detail": None,
                }
            )
    for g in integ["shared_devices"]:
        for m in g["members"]:
            rows.append(
                {
                    "integrity_type": cat.rule_name("SHARED_DEVICE"),
                    "date": g["date"],
                    "group": g["device"],
                    **m,
                    "detail": g["device"],
                }
            )
    for t in integ["impossible_travel"]:
        rows.append(
            {
                "integrity_type": cat.rule_name("IMPOSSIBLE_TRAVEL"),
                "date": t["date"],
                "group": None,
                "nip": t["nip"],
                "name": t["name"],
                "unit_code": t["unit_code"],
                "speed": _speed_number(t["speed_kmh"]),
                # Excel holds no infinity: the same timestamp twice reads "∞" beside an empty speed
                "detail": None if _speed_number(t["speed_kmh"]) is not None else "∞",
            }
        )
    for d in integ["duplicate_outputs"]:
        for day in d["dates"]:
            rows.append(
                {
                    "integrity_type": cat.rule_name("DUPLICATE_OUTPUT"),
                    "date": day,
                    "group": None,
                    "nip": d["nip"],
                    "name": d["name"],
                    "unit_code": d["unit_code"],
                    "detail": f"{d['days']}",
                }
            )
    return rows


def _speed_number(value: Any) -> float | None:
    """An IMPOSSIBLE_TRAVEL speed as a number of km/h (``inf``: no time apart), or None."""
    try:
        speed = float(str(value).strip())
    except ValueError:
        return None
    return speed if math.isfinite(speed) else None


def _quality_rows(
    model: dict[str, Any], cat: Catalogue, detailed: bool = True
) -> list[dict[str, Any]]:
    """The data-quality items of every format (HTML, Markdown and the "Kualitas Data" sheet).

    Each row: ``quality_item`` (label), ``code`` (a reject code, agency code or NIP the
    item is about, else None), ``value`` (a count, or None) and ``detail`` (text or None).
    ``detailed``: the sheet's one row per agency, employee or agency-day of a list; else
    (HTML, Markdown: pages of A4) one row per list, its agencies and counts in ``detail``.
    """
    dq = model["data_quality"]
    rows: list[dict[str, Any]] = []

    def add(key: str, value: Any, code: str | None = None, detail: str | None = None) -> None:
        rows.append({"quality_item": cat.t(key), "code": code, "value": value, "detail": detail})

    def per_unit(counts: dict[str, int]) -> str | None:
        text = ", ".join(f"{u} ({cat.integer(n)})" for u, n in sorted(counts.items()))
        return text or None

    def tally(items: list[dict[str, Any]], weight: str | None = None) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in items:
            code = str(r.get("unit_code"))
            out[code] = out.get(code, 0) + (int(r.get(weight) or 0) if weight else 1)
        return out

    for key in ("rejects_by_code", "blanked_by_code"):
        by_code = dq.get(key) or {}
        for code, n in sorted(by_code.items()):
            add(key, n, code)
        if not by_code and (key == "rejects_by_code" or key in dq):
            add(key, 0)
    for key in (
        "attendance_unknown_nip",
        "roster_unknown_nip",
        "outputs_unknown_nip",
        "employees_without_home",
        "employees_unknown_office",
    ):
        if key in dq:
            add(key, dq[key])
    if "unknown_office_wfo_days" in dq:
        add("unknown_office_wfo_days", dq["unknown_office_wfo_days"])
    unknown = dq.get("unknown_office") or []
    if detailed:
        for e in unknown:
            detail = ", ".join(str(e[k]) for k in ("unit_code", "office_id") if e.get(k))
            add("unknown_office_employees", e.get("wfo_days"), e.get("nip"), detail or None)
    elif "unknown_office" in dq:
        add("unknown_office_employees", len(unknown), None, per_unit(tally(unknown)))
    if "home_accepted_without_roster" in dq:
        by_unit = {str(u): int(n) for u, n in (dq["home_accepted_without_roster"] or {}).items()}
        listed = None if detailed else per_unit(by_unit)
        add("home_accepted_total", sum(by_unit.values()), None, listed)
        for code, n in sorted(by_unit.items()) if detailed else ():
            add("home_accepted_without_roster", n, code)
    if "possibly_missing_data" in dq:
        small = dq["possibly_missing_data"] or []
        listed = None if detailed else per_unit(tally(small))
        add("possibly_missing_data_days", len(small), None, listed)
        for d in small if detailed else ():
            who = f"{cat.t('missing_data_employees')}: {cat.integer(d.get('employees'))}"
            detail = f"{cat.date(d.get('date'))} ({who})"
            add("possibly_missing_data", None, d.get("unit_code"), detail)
    missing = dq.get("units_without_roster") or []
    listed = None if detailed else ", ".join(missing) or None
    add("units_without_roster", len(missing), None, listed)
    for code in missing if detailed else ():
        add("units_without_roster", None, code)
    return rows


def _missing_rows(model: dict[str, Any], cat: Catalogue) -> list[dict[str, Any]]:
    """The missing-data agency-days, each worded as missing data (never as a violation)."""
    explain = {
        "ATTENDANCE_DATA_MISSING": cat.t("missing_data_explain"),
        "OUTPUT_DATA_MISSING": cat.t("missing_output_explain"),
    }
    return [
        {
            "unit_code": f["unit_code"],
            "date": f["date"],
            "rule": f["rule"],
            "rule_name": cat.rule_name(f["rule"]),
            "detail": explain.get(f["rule"], cat.t("missing_data")),
            "headcount": f.get("headcount"),
        }
        for f in model["missing_data"]
    ]


# --- entry point ------------------------------------------------------------


#: The language whose reports carry no language suffix in their file name.
DEFAULT_LANG = "id"
#: Temporaries are ``.wfhaudit-tmp-<pid>-<random>-<name>``: a run removes those of dead processes.
_TMP_PREFIX = ".wfhaudit-tmp-"


def safe_unit(code: str) -> str:
    """A code as a file-name part: letters, digits, ``.``, ``-``, ``_`` only, never a path.

    A code that had to be changed (``BIRO/UMUM``, ``../x``) gets a short hash of the
    original, so two codes never share a file name.
    """
    clean = re.sub(r"[^A-Za-z0-9_.-]+", "_", code).lstrip("._-").rstrip("._")[:60]
    if clean == code:
        return clean
    digest = hashlib.sha256(code.encode("utf-8")).hexdigest()[:8]
    return f"{clean}-{digest}" if clean else f"unit-{digest}"


def report_name(period_label: str, unit: str | None, ext: str, lang: str = DEFAULT_LANG) -> str:
    """``wfhaudit-<period>[-<unit>][-<lang>].<ext>``; the language only when not the default."""
    parts = ["wfhaudit", safe_unit(period_label)]
    if unit:
        parts.append(safe_unit(unit))
    if lang != DEFAULT_LANG:
        parts.append(lang)
    return f"{'-'.join(parts)}.{ext}"


def remove_stale_temporaries(directory: Path) -> list[Path]:
    """Delete the report temporaries a killed run left in ``directory``; those removed."""
    removed = []
    for path in directory.glob(f"{_TMP_PREFIX}*"):
        pid_text = path.name[len(_TMP_PREFIX) :].split("-", 1)[0]
        if pid_text.isdigit() and pid_alive(int(pid_text)) and int(pid_text) != os.getpid():
            continue  # another report is writing it right now
        try:
            path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def _write_atomic(path: Path, write: Any) -> None:
    """Write through a temporary file in the same directory, then rename.

    The temporary's name carries this process id: a killed run's leftovers are
    removed by the next one (``remove_stale_temporaries``).
    """
    tmp = path.with_name(f"{_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{path.name}")
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # a report is an ordinary file
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_options(formats: Iterable[str] | None, lang: str) -> list[str]:
    """Validate ``--format`` and ``--lang`` (UsageError, exit 2); the formats, de-duplicated."""
    catalogue(lang)
    chosen = list(dict.fromkeys(f.strip().lower() for f in (formats or DEFAULT_FORMATS)))
    bad = [f for f in chosen if f not in FORMATS]
    if bad:
        raise UsageError(f"unknown report format {bad[0]!r}; use --format html, md, xlsx or json.")
    return chosen


def render_reports(
    results_dir: Path | str,
    *,
    formats: Iterable[str] | None = None,
    lang: str = "id",
    unit: str | None = None,
    out_dir: Path | str | None = None,
    store: Path | str | None = None,
    replaced: list[Path] | None = None,
) -> list[Path]:
    """Render the report of ``results_dir`` in each format; the paths written.

    A file of the same name is replaced (the same period, unit and language);
    its path is added to ``replaced`` when a list is given, so the caller can say so.
    """
    chosen = check_options(formats, lang)
    cat = catalogue(lang)
    model = build_report(results_dir, unit=unit, store=store)
    out = Path(out_dir) if out_dir is not None else Path(results_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a directory; give a directory.")
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    label = model["header"]["period"].get("label") or Path(results_dir).name
    written: list[Path] = []
    for fmt in chosen:
        path = out / report_name(label, model["header"]["unit"], FORMATS[fmt], cat.lang)
        if path.exists() and replaced is not None:
            replaced.append(path)
        if fmt == "html":
            text = render_html(model, cat, "xlsx" in chosen)
            _write_atomic(path, lambda p, t=text: p.write_text(t, "utf-8"))
        elif fmt == "md":
            text = render_markdown(model, cat, "xlsx" in chosen)
            _write_atomic(path, lambda p, t=text: p.write_text(t, "utf-8"))
        elif fmt == "json":
            text = render_json(model, cat)
            _write_atomic(path, lambda p, t=text: p.write_text(t, "utf-8"))
        else:
            _write_atomic(path, lambda p: render_xlsx(model, cat, p))
        written.append(path)
    return written


__all__ = [
    "DEFAULT_FORMATS",
    "FORMATS",
    "SHEETS",
    "check_options",
    "render_html",
    "render_json",
    "render_markdown",
    "render_reports",
    "render_xlsx",
    "remove_stale_temporaries",
    "report_name",
    "safe_unit",
    "template_dir",
]
