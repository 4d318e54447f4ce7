"""Message catalogues (one TOML per language) and number/date formatting.

Every label a report shows comes from ``wfhaudit/report/i18n/<lang>.toml``;
templates never hold a label of their own.  Indonesian formats numbers as
``1.234,5`` and dates as ``2 Desember 2025``; English as ``1,234.5`` and
``2 December 2025``.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wfhaudit.errors import UsageError
from wfhaudit.schema import WIB

LANGS: tuple[str, ...] = ("id", "en")
_DIR = Path(__file__).parent / "i18n"


@dataclass(frozen=True)
class Catalogue:
    """Labels, rule names and formats of one language."""

    lang: str
    labels: dict[str, str]
    sheets: dict[str, str]
    rules: dict[str, dict[str, str]]
    tiers: dict[str, str]
    decimal: str
    thousands: str
    months: tuple[str, ...]
    time_zone: str

    # --- labels -------------------------------------------------------------

    def t(self, key: str, **values: Any) -> str:
        """The label ``key`` with ``{name}`` placeholders filled in."""
        text = self.labels[key]
        return text.format(**values) if values else text

    def rule_name(self, code: str) -> str:
        entry = self.rules.get(code)
        return entry["name"] if entry else code

    def rule_explain(self, code: str) -> str:
        entry = self.rules.get(code)
        return entry["explain"] if entry else ""

    def tier(self, code: str | None) -> str:
        """Label of a PP 94/2021 tier code; the code itself when the catalogue lacks it."""
        if not code:
            return self.labels["no_tier"]
        return self.tiers.get(code, code.replace("_", " ").capitalize())

    # --- numbers and dates --------------------------------------------------

    def integer(self, value: Any) -> str:
        if value is None:
            return "—"
        return self._group(f"{int(value):,}")

    def number(self, value: Any, digits: int = 1) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "—"
        if isinstance(value, float) and math.isinf(value):
            return "∞"
        return self._group(f"{float(value):,.{digits}f}")

    def percent(self, value: Any, digits: int = 1) -> str:
        """``value`` is a fraction (0.875 -> 87,5%)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "—"
        return self.number(100.0 * float(value), digits) + "%"

    def signed(self, value: Any, digits: int = 0, percent_points: bool = False) -> str:
        if value is None:
            return "—"
        if percent_points:
            text = self.number(abs(100.0 * float(value)), 1) + (
                " pp" if self.lang == "en" else " poin"
            )
        elif digits == 0:
            text = self.integer(abs(int(value)))
        else:
            text = self.number(abs(float(value)), digits)
        sign = "+" if value > 0 else ("−" if value < 0 else "±")
        return sign + text

    def date(self, value: Any) -> str:
        if value is None:
            return "—"
        if isinstance(value, str):
            value = dt.date.fromisoformat(value[:10])
        return f"{value.day} {self.months[value.month - 1]} {value.year}"

    def short_date(self, value: Any) -> str:
        """``2 Des`` / ``2 Dec`` for chart axes."""
        if isinstance(value, str):
            value = dt.date.fromisoformat(value[:10])
        return f"{value.day} {self.months[value.month - 1][:3]}"

    def datetime(self, value: Any) -> str:
        """An ISO timestamp (naive = WIB, or with an offset, shown in WIB)."""
        if value is None or value == "":
            return "—"
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is not None:
            value = value.astimezone(WIB)
        return f"{self.date(value.date())} {value:%H:%M} {self.time_zone}"

    def _group(self, text: str) -> str:
        """Turn Python's ``1,234.5`` into this language's separators."""
        table: dict[str, str | int | None] = {",": self.thousands, ".": self.decimal}
        return text.translate(str.maketrans(table))


def catalogue(lang: str) -> Catalogue:
    """The catalogue of ``lang`` (``id`` or ``en``, any case); anything else is a usage error."""
    return _catalogue(lang.strip().lower() if isinstance(lang, str) else str(lang))


@functools.cache
def _catalogue(lang: str) -> Catalogue:
    if lang not in LANGS:
        raise UsageError(f"unknown report language {lang!r}; use --lang id or --lang en.")
    with (_DIR / f"{lang}.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    fmt = raw["format"]
    return Catalogue(
        lang=lang,
        labels=dict(raw["labels"]) | dict(raw.get("clarifications", {})),  # issue 12
        sheets=dict(raw["sheets"]),
        rules={code: dict(entry) for code, entry in raw["rules"].items()},
        tiers=dict(raw["tiers"]),
        decimal=fmt["decimal"],
        thousands=fmt["thousands"],
        months=tuple(fmt["months"]),
        time_zone=fmt["time_zone"],
    )
