"""The evaluation's charts (inline SVG): each measure over time, and a forest plot of the
WFH-WFO differences of the last bucket.  Imported when a chart is drawn, so that
matplotlib is not loaded while the buckets are audited."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt

from wfhaudit.evaluate.compare import COMPARED
from wfhaudit.evaluate.render import PALETTE, PERCENT, Labels
from wfhaudit.report import charts
from wfhaudit.report.i18n import Catalogue


def _trend(model: dict[str, Any], key: str, index: int, cat: Catalogue, L: Labels) -> str:
    with plt.rc_context(charts._RC):
        fig, ax = charts._fig(7.0, 2.4)
        labels_ = [p["bucket"] for p in model["province"]]
        xs = list(range(len(labels_)))
        scale = 100.0 if key in PERCENT else 1.0
        codes = sorted({u["unit_code"] for u in model["units"]})
        for i, code in enumerate(codes):
            by = {
                u["bucket"]: u["measures"][key]["value"]
                for u in model["units"]
                if u["unit_code"] == code
            }
            ys = [scale * by[b] if by.get(b) is not None else float("nan") for b in labels_]
            ax.plot(
                xs,
                ys,
                color=PALETTE[i % len(PALETTE)],
                linewidth=1.0,
                marker="o",
                markersize=2.5,
                label=code,
            )
        ys = [
            scale
            * (
                p["measures"][key]["value"]
                if p["measures"][key]["value"] is not None
                else float("nan")
            )
            for p in model["province"]
        ]
        ax.plot(
            xs, ys, color="#1d2733", linewidth=2.4, marker="o", markersize=4, label=L.t("province")
        )
        many = len(labels_) > 6
        ax.set_xticks(xs, labels_, rotation=45 if many else 0, ha="right" if many else "center")
        ax.yaxis.set_major_formatter(charts.Ticks(cat, "%" if key in PERCENT else ""))
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_title(L.measures[key], loc="left", fontsize=10)
        if len(codes) <= 12:
            ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=7)
        return charts._svg(fig, f"t{index}")


def _forest(model: dict[str, Any], measure: str, index: int, cat: Catalogue, L: Labels) -> str:
    with plt.rc_context(charts._RC):
        audited = [p["bucket"] for p in model["province"]]
        last = audited[-1] if audited else None
        rows = [
            c
            for c in model["comparisons"]["units"]
            if c["bucket"] == last and c["measure"] == measure and c["low"] is not None
        ]
        rows.sort(key=lambda c: c["unit_code"], reverse=True)
        prov = [
            c
            for c in model["comparisons"]["province"]
            if c["bucket"] == last and c["measure"] == measure and c["low"] is not None
        ]
        items = [(c["unit_code"], c, RED_IF(c)) for c in rows] + [
            (L.t("province"), c, "#1d2733") for c in prov
        ]
        fig, ax = charts._fig(7.0, max(1.4, 0.28 * len(items) + 0.9))
        scale = 100.0 if measure in ("absence", "output", "on_time_output") else 1.0
        for y, (_name, c, colour) in enumerate(items):
            ax.plot([scale * c["low"], scale * c["high"]], [y, y], color=colour, linewidth=2)
            ax.plot([scale * c["difference"]], [y], "o", color=colour, markersize=4)
        ax.axvline(0, color=charts.GREY, linewidth=0.8, linestyle="--")
        ax.xaxis.set_major_formatter(charts.Ticks(cat, ""))
        ax.set_yticks(range(len(items)), [name for name, _, _ in items])
        if not items:
            ax.text(0.5, 0.5, L.t("too_few"), ha="center", va="center", transform=ax.transAxes)
        unit = " (pp)" if scale == 100.0 else ""
        ax.set_title(f"{L.compared[measure]}{unit} — {last or ''}", loc="left", fontsize=10)
        return charts._svg(fig, f"f{index}")


def RED_IF(c: dict[str, Any]) -> str:  # noqa: N802 - reads as a colour rule
    return charts.RED if c.get("flagged") else charts.BLUE


def all_charts(model: dict[str, Any], cat: Catalogue, L: Labels) -> dict[str, list[str]]:
    return {
        "trends": [_trend(model, k, i, cat, L) for i, k in enumerate(model["measures"])],
        "forest": [_forest(model, m.key, i, cat, L) for i, m in enumerate(COMPARED)],
    }
