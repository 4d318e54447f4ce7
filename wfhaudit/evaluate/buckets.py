"""The evaluated span and its buckets (months or ISO weeks)."""

from __future__ import annotations

import datetime as dt
import re

from wfhaudit.audit.period import Period, month_period, parse_period, range_period, week_period
from wfhaudit.errors import UsageError

BY: tuple[str, ...] = ("month", "week")
_MONTH_SPAN = re.compile(r"^(\d{4})-(\d{2})\.\.(\d{4})-(\d{2})$")
_WEEK_SPAN = re.compile(r"^(\d{4})-W(\d{2})\.\.(\d{4})-W(\d{2})$")


def parse_span(text: str) -> Period:
    """``2025-11..2026-02`` (months), ``2025-W45..2025-W52`` (weeks) or any audit PERIOD."""
    raw = text.strip()
    if m := _MONTH_SPAN.match(raw):
        first = parse_period(f"{m[1]}-{m[2]}")
        last = parse_period(f"{m[3]}-{m[4]}")
    elif m := _WEEK_SPAN.match(raw):
        first = parse_period(f"{m[1]}-W{m[2]}")
        last = parse_period(f"{m[3]}-W{m[4]}")
    else:
        return parse_period(raw)
    if last.end < first.start:
        raise UsageError(
            f"period {text!r} ends before it starts; write the earlier month or week first, "
            "e.g. 2025-11..2026-02."
        )
    span = range_period(first.start, last.end)
    return Period(raw, span.start, span.end)


def buckets(span: Period, by: str) -> list[Period]:
    """The months or ISO weeks that meet ``span``, each cut to the span."""
    if by not in BY:
        raise UsageError(f"unknown bucket {by!r}; use --by month or --by week.")
    out: list[Period] = []
    day = span.start
    while day <= span.end:
        if by == "month":
            whole = month_period(day.year, day.month)
        else:
            year, week, _ = day.isocalendar()
            whole = week_period(year, week)
        start, end = max(whole.start, span.start), min(whole.end, span.end)
        label = (
            whole.label
            if (start, end) == (whole.start, whole.end)
            else range_period(start, end).label
        )
        out.append(Period(label, start, end))
        day = end + dt.timedelta(days=1)
    return out
