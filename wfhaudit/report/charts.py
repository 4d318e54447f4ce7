"""Charts as inline SVG, drawn with matplotlib.

Text is drawn as paths (``svg.fonttype = 'path'``), so a chart reads the same
without any font installed; ids are deterministic (fixed ``svg.hashsalt``, no
date in the metadata) and prefixed per chart, so several charts can share one
HTML page.  The ``<metadata>`` block and the XML prologue are dropped.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import Formatter, FuncFormatter, MaxNLocator  # noqa: E402

from wfhaudit.report.i18n import Catalogue  # noqa: E402

BLUE = "#2f5d8a"
RED = "#b23a3a"
GREY = "#888888"
_RC: Any = {
    "svg.fonttype": "path",
    "svg.hashsalt": "wfhaudit",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    # Labels are agencies' codes and names: "$\\undefinedmacro$" is text, never mathtext.
    "text.parse_math": False,
}


#: an id's definition or reference: ``id="X"``, ``"#X"`` (href) and ``(#X)`` (url)
_REFERENCE = re.compile(r'(\bid="|"#|\(#)([^"()]+)([")])')


def _svg(fig: Figure, prefix: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    # every id="X", "#X" and (#X) of the chart's own ids, in one pass over the text
    text = _REFERENCE.sub(
        lambda m: f"{m[1]}{prefix}-{m[2]}{m[3]}" if m[2] in ids else m[0], text
    )
    # A fixed rendered size on top of the viewBox; CSS scales it down to the page.
    return text.strip()


def tick_decimals(ticks: Any) -> int:
    """The fewest decimals that write every tick exactly (0.25 needs 2, 0.5 one, 20 none)."""
    for decimals in range(4):
        if all(abs(t - round(t, decimals)) <= 1e-9 * max(1.0, abs(t)) for t in ticks):
            return decimals
    return 4


class Ticks(Formatter):
    """Tick labels ("12%", "0,25%", "0,05") in the catalogue's number format, with as
    many decimals as the ticks need: on a zoomed axis (0.2% .. 0.8%) every label
    differs, where a fixed "0%" would print the same label on every tick."""

    def __init__(self, cat: Catalogue, suffix: str = "%") -> None:
        self.cat = cat
        self.suffix = suffix
        self.decimals = 0

    def set_locs(self, locs: Any) -> None:
        super().set_locs(locs)
        self.decimals = tick_decimals(locs)

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.cat.number(x, self.decimals) + self.suffix


def _fig(width: float = 7.0, height: float = 3.0) -> tuple[Figure, Any]:
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    return fig, ax


def violations_by_rule(by_rule: dict[str, int], cat: Catalogue) -> str:
    """Horizontal bars, one per rule with violations."""
    with plt.rc_context(_RC):
        items = list(by_rule.items())[::-1]
        fig, ax = _fig(7.0, max(1.6, 0.32 * len(items) + 0.9))
        if items:
            labels = [f"{cat.rule_name(r)} ({r})" for r, _ in items]
            values = [n for _, n in items]
            bars = ax.barh(labels, values, color=BLUE)
            top = max(values)
            for bar, n in zip(bars, values, strict=True):
                ax.text(
                    bar.get_width() + top * 0.01,
                    bar.get_y() + bar.get_height() / 2,
                    cat.integer(n),
                    va="center",
                    fontsize=8,
                )
            ax.set_xlim(0, top * 1.15)
        else:
            ax.text(
                0.5, 0.5, cat.t("no_violations"), ha="center", va="center", transform=ax.transAxes
            )
            ax.set_yticks([])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: cat.integer(x)))
        ax.set_xlabel(cat.t("chart_violations"))
        ax.set_title(cat.t("chart_by_rule"), loc="left", fontsize=10)
        return _svg(fig, "c1")


def _weekly_ticks(days: list[dt.date], cat: Catalogue) -> tuple[list[int], list[str]]:
    """Ticks on the first audited day of each ISO week: regular dates, whatever days are missing."""
    xs, labels, seen = [], [], set()
    for i, day in enumerate(days):
        week = day.isocalendar()[:2]
        if week not in seen:
            seen.add(week)
            xs.append(i)
            labels.append(cat.short_date(day))
    return xs, labels


def daily_compliance(daily: list[dict[str, Any]], cat: Catalogue) -> str:
    """Line of the compliance rate per audited day; a zoomed axis says where it starts."""
    with plt.rc_context(_RC):
        fig, ax = _fig(7.0, 2.8)
        days = [dt.date.fromisoformat(d["date"]) for d in daily]
        rates = [100.0 * (d["compliance_rate"] or 0.0) for d in daily]
        if days:
            xs = list(range(len(days)))
            ax.plot(xs, rates, color=BLUE, marker="o", markersize=3, linewidth=1.5)
            ax.set_xticks(*_weekly_ticks(days, cat))
        # Start the axis at 0 unless every day is above 60%: then zoom in (to a multiple of 10)
        low = min(rates, default=0.0)
        start = 0 if low < 60 else 10 * math.floor((low - 5) / 10)
        ax.set_ylim(start, 101)
        ax.yaxis.set_major_formatter(Ticks(cat))
        label = cat.t("chart_rate")
        if start > 0:
            label += f"\n({cat.t('chart_axis_from', start=cat.number(start, 0) + '%')})"
        ax.set_ylabel(label)
        ax.set_xlabel(cat.t("chart_date"))
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_title(cat.t("chart_daily"), loc="left", fontsize=10)
        return _svg(fig, "c2")


def _percent_axis(ax: Any, cap: float | None, cat: Catalogue) -> None:
    if cap is not None:
        ax.axhline(
            100.0 * cap,
            color=RED,
            linestyle="--",
            linewidth=1.2,
            label=f"{cat.t('chart_cap')} {cat.percent(cap, 0)}",
        )
        ax.legend(loc="upper right", frameon=False)
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_formatter(Ticks(cat))
    ax.set_ylabel(cat.t("chart_share"))


def wfh_share(
    units: list[dict[str, Any]],
    unit_daily: list[dict[str, Any]],
    cap: float | None,
    cat: Catalogue,
) -> str:
    """Planned WFH share against the cap: per agency its peak day (bars), breach days marked.

    One agency: its share per day (a line), breach days as red dots.
    """
    with plt.rc_context(_RC):
        fig, ax = _fig(7.0, 3.0)
        codes = sorted(u["unit_code"] for u in units)
        if len(codes) == 1:
            rows = [d for d in unit_daily if d["unit_code"] == codes[0]]
            days = [dt.date.fromisoformat(d["date"]) for d in rows]
            values = [100.0 * d["planned_wfh_share"] for d in rows]
            xs = list(range(len(days)))
            ax.plot(xs, values, color=BLUE, marker="o", markersize=3, linewidth=1.5)
            bad = [(x, v) for x, v, d in zip(xs, values, rows, strict=True) if d["breach"]]
            if bad:
                ax.scatter(*zip(*bad, strict=True), color=RED, s=28, zorder=3)
            if days:
                ax.set_xticks(*_weekly_ticks(days, cat))
            ax.set_xlabel(cat.t("chart_date"))
            title = cat.t("chart_wfh_daily")
        else:
            peak: dict[str, float] = {}
            breaches: dict[str, int] = {}
            for d in unit_daily:
                code = d["unit_code"]
                peak[code] = max(peak.get(code, 0.0), 100.0 * d["planned_wfh_share"])
                breaches[code] = breaches.get(code, 0) + int(bool(d["breach"]))
            xs = list(range(len(codes)))
            values = [peak.get(c, 0.0) for c in codes]
            colours = [RED if breaches.get(c) else BLUE for c in codes]
            ax.bar(xs, values, color=colours)
            for x, code, v in zip(xs, codes, values, strict=True):
                if breaches.get(code):
                    ax.text(
                        x, v + 1.5, cat.integer(breaches[code]), ha="center", fontsize=7, color=RED
                    )
            ax.set_xticks(
                xs,
                codes,
                rotation=45 if len(codes) > 8 else 0,
                ha="right" if len(codes) > 8 else "center",
                fontsize=7 if len(codes) > 20 else 9,
            )
            title = cat.t("chart_wfh_peak")
            if any(breaches.values()):
                title += f" ({cat.t('chart_breach_days')})"
        _percent_axis(ax, cap, cat)
        ax.set_title(title, loc="left", fontsize=10)
        return _svg(fig, "c3")


def all_charts(model: dict[str, Any], cat: Catalogue) -> dict[str, str]:
    return {
        "by_rule": violations_by_rule(model["summary"]["violations_by_rule"], cat),
        "daily": daily_compliance(model["daily"], cat),
        "wfh_share": wfh_share(
            model["units"], model.get("unit_daily") or [], model["header"]["max_share"], cat
        ),
    }
