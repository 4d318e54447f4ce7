"""The audit PERIOD argument (spec ``cli.md``).

Three forms, all inclusive:

- ``2025-12`` — a calendar month;
- ``2025-W49`` — an ISO week, Monday..Sunday (2026-W01 starts 2025-12-29);
- ``2025-12-02..2025-12-19`` — a range of dates.

``Period.label`` is the canonical text of the period (used in result and
report file names); ``previous_period`` gives the period of the same kind just
before (the previous month, the previous ISO week, or the same number of days
just before a range).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from wfhaudit.errors import UsageError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-[Ww](\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})$")

EXAMPLES = (
    "2025-12 (a month), 2025-W49 (an ISO week) or 2025-12-02..2025-12-19 (a range, inclusive)"
)


@dataclass(frozen=True)
class Period:
    """An audit period: ``start`` and ``end`` inclusive."""

    label: str
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        """Number of calendar days in the period."""
        return (self.end - self.start).days + 1

    @property
    def kind(self) -> str:
        """``month``, ``week`` or ``range``."""
        if _MONTH.match(self.label):
            return "month"
        if _WEEK.match(self.label):
            return "week"
        return "range"

    def dates(self) -> list[dt.date]:
        """Every date of the period, in order."""
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    def __str__(self) -> str:
        return self.label


def _bad(text: str, why: str) -> UsageError:
    return UsageError(f"bad period {text!r}: {why}; write {EXAMPLES}.")


def month_period(year: int, month: int) -> Period:
    start = dt.date(year, month, 1)
    following = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return Period(f"{year:04d}-{month:02d}", start, following - dt.timedelta(days=1))


def week_period(year: int, week: int) -> Period:
    start = dt.date.fromisocalendar(year, week, 1)
    return Period(f"{year:04d}-W{week:02d}", start, start + dt.timedelta(days=6))


def range_period(start: dt.date, end: dt.date) -> Period:
    return Period(f"{start.isoformat()}..{end.isoformat()}", start, end)


def parse_period(text: str) -> Period:
    """Parse a PERIOD; anything else is a UsageError (exit 2) showing the right forms."""
    raw = text.strip() if isinstance(text, str) else ""
    if m := _MONTH.match(raw):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12 or year < 1:
            raise _bad(text, f"month {m[2]} does not exist")
        return month_period(year, month)
    if m := _WEEK.match(raw):
        year, week = int(m[1]), int(m[2])
        try:
            return week_period(year, week)
        except ValueError:
            last = dt.date(year, 12, 28).isocalendar().week if year >= 1 else 52
            raise _bad(text, f"ISO year {year} has weeks W01..W{last:02d}") from None
    if m := _RANGE.match(raw):
        try:
            start, end = dt.date.fromisoformat(m[1]), dt.date.fromisoformat(m[2])
        except ValueError:
            raise _bad(text, "one of its dates does not exist") from None
        if end < start:
            raise _bad(text, f"it ends ({end}) before it starts ({start})")
        return range_period(start, end)
    raise _bad(text, "not a month, an ISO week or a date range")


def previous_period(period: Period) -> Period:
    """The period of the same kind and length just before ``period``."""
    kind = period.kind
    if kind == "month":
        year, month = period.start.year, period.start.month
        return month_period(year - 1, 12) if month == 1 else month_period(year, month - 1)
    if kind == "week":
        iso = (period.start - dt.timedelta(days=7)).isocalendar()
        return week_period(iso.year, iso.week)
    end = period.start - dt.timedelta(days=1)
    return range_period(end - dt.timedelta(days=period.days - 1), end)
