"""The working days of a month under the policy, as the sample generator needs them."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from wfhaudit.errors import UsageError
from wfhaudit.policy import WEEKDAYS, Policy

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class WorkDay:
    """One working day of the month with its hours and WFH rules."""

    date: dt.date
    start_min: int
    end_min: int
    #: ``max_share`` of the WFH period containing the day, None outside every period.
    max_share: float | None
    #: the day's weekday is in the period's ``weekdays`` (WFH allowed at all).
    wfh_weekday: bool
    #: the day's weekday is in the period's ``default_wfh_weekdays``.
    default_wfh: bool
    exempt_units: frozenset[str]

    def wfh_allowed(self, unit_code: str) -> bool:
        """True when ``unit_code`` may roster WFH on this day."""
        return (
            self.max_share is not None and self.wfh_weekday and unit_code not in self.exempt_units
        )


def parse_month(month: str) -> tuple[int, int]:
    """``YYYY-MM`` -> (year, month); UsageError otherwise."""
    match = _MONTH.match(month)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise UsageError(f"--month {month!r} is not a month; write it as YYYY-MM, e.g. 2025-12.")
    return int(match.group(1)), int(match.group(2))


def working_days(month: str, policy: Policy) -> list[WorkDay]:
    """The policy's working days of ``month`` (holidays and days without hours left out)."""
    year, mon = parse_month(month)
    days: list[WorkDay] = []
    for day_no in range(1, calendar.monthrange(year, mon)[1] + 1):
        day = dt.date(year, mon, day_no)
        hours = policy.hours_on(day)
        if hours is None:
            continue
        weekday = WEEKDAYS[day.weekday()]
        period = policy.wfh_period_on(day)
        days.append(
            WorkDay(
                date=day,
                start_min=hours.start_min,
                end_min=hours.end_min,
                max_share=None if period is None else float(period.max_share),
                wfh_weekday=period is not None and weekday in period.weekdays,
                default_wfh=period is not None and weekday in period.default_wfh_weekdays,
                exempt_units=frozenset(period.exempt_units) if period is not None else frozenset(),
            )
        )
    return days
