"""Render the evaluation model: HTML (inline SVG charts), Markdown, Excel and JSON.

Reuses the report machinery (``wfhaudit.report``): its Jinja environment and
templates directory, its number/date catalogue, its chart style and SVG
writer, its Excel sheet writer and atomic file writes.  The evaluation's own
labels are in ``wfhaudit/evaluate/i18n/<lang>.toml``; its templates are
``reports/templates/evaluate.*``.
"""

from __future__ import annotations

import functools
import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from wfhaudit.report.i18n import Catalogue, catalogue
from wfhaudit.report.render import (
    _env,
    _sheet,
    _write_atomic,
    check_options,
    safe_workbook,
    template_dir,
)

PERCENT = {
    "planned_wfh_share",
    "realised_wfh_share",
    "attendance_compliance",
    "absence_rate",
    "output_rate",
    "on_time_output_rate",
}
PALETTE = ("#2f5d8a", "#d08c2f", "#3f8f5a", "#8a4f9e", "#7a7a2f", "#2f8a8a", "#a0522d", "#5b6773")


@dataclass(frozen=True)
class Labels:
    labels: dict[str, str]
    measures: dict[str, str]
    compared: dict[str, str]
    sheets: dict[str, str]

    def t(self, key: str, **values: Any) -> str:
        text = self.labels[key]
        return text.format(**values) if values else text


@functools.cache
def labels(lang: str) -> Labels:
    with (Path(__file__).parent / "i18n" / f"{catalogue(lang).lang}.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    return Labels(raw["labels"], raw["measures"], raw["compared"], raw["sheets"])


def value_text(key: str, value: Any, cat: Catalogue) -> str:
    """A measure's value as shown: percent, minutes, characters or per 1 000."""
    if value is None:
        return "—"
    if key in PERCENT:
        return cat.percent(value)
    if key == "report_length":
        return cat.number(value, 0)
    return cat.number(value, 2 if key == "lateness" else 1)


def diff_text(measure: str, value: Any, cat: Catalogue) -> str:
    if value is None:
        return "—"
    if measure in ("absence", "output", "on_time_output"):
        return cat.signed(value, percent_points=True)
    return cat.signed(value, 1)


# --- HTML, Markdown, JSON --------------------------------------------------------------


def _context(model: dict[str, Any], cat: Catalogue) -> dict[str, Any]:
    L = labels(cat.lang)
    return {
        "m": model,
        "cat": cat,
        "E": L,
        "fv": lambda k, v: value_text(k, v, cat),
        "fd": lambda k, v: diff_text(k, v, cat),
        "verdict": lambda v: {
            "too_few": L.t("too_few"),
            "alike": L.t("alike"),
            "better": L.t("v_better"),
            "worse": L.t("v_worse"),
        }[v],
        "last": _headline(model),
    }


def _headline(model: dict[str, Any]) -> dict[str, Any] | None:
    """The last audited bucket's row: the agency's in a one-agency evaluation, else the
    province's."""
    if not model["province"]:
        return None
    last = model["province"][-1]
    unit = model["header"]["unit"]
    if unit is None:
        return dict(last)
    mine = [u for u in model["units"] if u["bucket"] == last["bucket"]]
    return dict(mine[0]) if mine else dict(last)


def render_html(model: dict[str, Any], cat: Catalogue) -> str:
    from wfhaudit.evaluate.charts import all_charts  # matplotlib: loaded to draw, not before

    ctx = _context(model, cat)
    ctx["charts"] = all_charts(model, cat, ctx["E"])
    ctx["css"] = (template_dir() / "evaluate.css").read_text("utf-8")
    return _env(True).get_template("evaluate.html.j2").render(ctx)


def render_markdown(model: dict[str, Any], cat: Catalogue) -> str:
    return _env(False).get_template("evaluate.md.j2").render(_context(model, cat))


def render_json(model: dict[str, Any], cat: Catalogue) -> str:
    return json.dumps({"lang": cat.lang, **model}, ensure_ascii=False, indent=2, default=str) + "\n"


# --- Excel -------------------------------------------------------------------------


def _measure_rows(rows: list[dict[str, Any]], L: Labels) -> pl.DataFrame:
    out = []
    for r in rows:
        for key, m in r["measures"].items():
            out.append(
                {
                    "bucket": r["bucket"],
                    "unit_code": r.get("unit_code") or "",
                    "measure": L.measures[key],
                    "numerator": None if m["numerator"] is None else float(m["numerator"]),
                    "denominator": None if m["denominator"] is None else int(m["denominator"]),
                    "value": m["value"],
                }
            )
    schema = {
        "bucket": pl.String,
        "unit_code": pl.String,
        "measure": pl.String,
        "numerator": pl.Float64,
        "denominator": pl.Int64,
        "value": pl.Float64,
    }
    return pl.DataFrame(out, schema=schema, orient="row")


def render_xlsx(model: dict[str, Any], cat: Catalogue, path: Path) -> None:
    L = labels(cat.lang)
    names = {
        "bucket": L.t("bucket"),
        "unit_code": L.t("agency"),
        "measure": L.t("measure"),
        "numerator": L.t("numerator"),
        "denominator": L.t("denominator"),
        "value": L.t("value"),
        "employees": L.t("employees"),
        "difference": L.t("difference"),
        "low": "low 95%",
        "high": "high 95%",
        "verdict": L.t("verdict"),
        "flagged": L.t("flag"),
        "date": L.t("date"),
        "on_site": L.t("on_site"),
        "planned_wfo": L.t("planned_wfo"),
        "share": L.t("share"),
        "complaints": L.t("complaints"),
        "per_1000": L.t("per_1000"),
        "label": L.t("bucket"),
        "employee_days": L.t("employee_days"),
        "audited": L.t("audited"),
        "start": "start",
        "end": "end",
    }
    wb = safe_workbook(path, date_format=None)
    try:
        _sheet(
            wb,
            L.sheets["summary"],
            pl.DataFrame(model["buckets"]).select(
                "label", "start", "end", "audited", "employee_days"
            ),
            names,
        )
        _sheet(wb, L.sheets["province"], _measure_rows(model["province"], L), names)
        _sheet(wb, L.sheets["units"], _measure_rows(model["units"], L), names)
        cmp_cols = {
            "bucket": pl.String,
            "unit_code": pl.String,
            "measure": pl.String,
            "employees": pl.Int64,
            "difference": pl.Float64,
            "low": pl.Float64,
            "high": pl.Float64,
            "verdict": pl.String,
            "flagged": pl.Boolean,
        }
        cmp_rows = [
            {
                **c,
                "unit_code": c.get("unit_code") or L.t("province"),
                "measure": L.compared[c["measure"]],
            }
            for c in model["comparisons"]["province"] + model["comparisons"]["units"]
        ]
        _sheet(
            wb,
            L.sheets["compare"],
            pl.DataFrame(
                [{k: r.get(k) for k in cmp_cols} for r in cmp_rows], schema=cmp_cols, orient="row"
            ),
            names,
        )
        rd_cols = {
            "bucket": pl.String,
            "unit_code": pl.String,
            "date": pl.String,
            "on_site": pl.Int64,
            "planned_wfo": pl.Int64,
            "share": pl.Float64,
        }
        _sheet(
            wb,
            L.sheets["readiness"],
            pl.DataFrame(
                [{k: r.get(k) for k in rd_cols} for r in model["readiness"]["days"]],
                schema=rd_cols,
                orient="row",
            ),
            names,
            percent=["share"],
        )
        fb_cols = {
            "bucket": pl.String,
            "unit_code": pl.String,
            "complaints": pl.Int64,
            "per_1000": pl.Float64,
        }
        _sheet(
            wb,
            L.sheets["feedback"],
            pl.DataFrame(
                [{k: r.get(k) for k in fb_cols} for r in model["feedback"]["rows"]],
                schema=fb_cols,
                orient="row",
            ),
            names,
        )
    finally:
        wb.close()


# --- entry point -------------------------------------------------------------------


def evaluation_name(label: str, unit: str | None, ext: str) -> str:
    return f"evaluation-{label}{'-' + unit if unit else ''}.{ext}"


def render_evaluation(
    model: dict[str, Any], *, formats: Iterable[str] | None, lang: str, out_dir: Path
) -> list[Path]:
    """Write the model in each format into ``out_dir``, plus ``evaluation.json`` (the model)."""
    chosen = check_options(formats, lang)
    cat = catalogue(lang)
    out_dir.mkdir(parents=True, exist_ok=True)
    label = model["header"]["span"]["label"]
    unit = model["header"]["unit"]
    written: list[Path] = []
    for fmt in chosen:
        path = out_dir / evaluation_name(label, unit, fmt)
        if fmt == "xlsx":
            _write_atomic(path, lambda p: render_xlsx(model, cat, p))
        else:
            text = {"html": render_html, "md": render_markdown, "json": render_json}[fmt](
                model, cat
            )
            _write_atomic(path, lambda p, t=text: p.write_text(t, "utf-8"))
        written.append(path)
    doc = render_json(model, cat)
    _write_atomic(out_dir / "evaluation.json", lambda p: p.write_text(doc, "utf-8"))
    written.append(out_dir / "evaluation.json")
    return written
