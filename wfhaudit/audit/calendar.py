"""The working-day calendar of a period under a policy.

``calendar(policy, start, end)`` returns one row per date in ``[start, end]``
(inclusive, in date order) with these columns:

=====================  ==============  ==================================================
column                 dtype           meaning
=====================  ==============  ==================================================
``date``               Date            the day
``weekday``            String          ``"mon"`` .. ``"sun"``
``holiday``            Boolean         the date is in ``holidays``
``working``            Boolean         its weekday has hours (in a special period: the
                                       period's hours for the weekdays it lists, the
                                       normal hours for the others) and it is not a
                                       holiday
``start_min``          Int32 (null)    scheduled start, minutes after midnight; null
                                       when not working
``end_min``            Int32 (null)    scheduled end, minutes after midnight; null when
                                       not working
``special_name``       String (null)   name of the ``[[hours.special]]`` containing the
                                       date (also on its non-working days)
``wfh_period``         String (null)   name of the ``[[wfh]]`` containing the date
``wfh_weekday_allowed`` Boolean        in a WFH period and the weekday is in its
                                       ``weekdays``
``default_wfh``        Boolean         in a WFH period and the weekday is in its
                                       ``default_wfh_weekdays``
``max_share``          Float64 (null)  the WFH period's ``max_share``; null outside one
``exempt_units``       List(String)    the WFH period's ``exempt_units``; empty outside
                                       one
=====================  ==============  ==================================================

The WFH columns are filled on every date of a WFH period, working or not; a
consumer that only wants working days filters on ``working``.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from wfhaudit.errors import UsageError
from wfhaudit.policy.model import WEEKDAYS, Policy

CALENDAR_SCHEMA = pl.Schema(
    {
        "date": pl.Date(),
        "weekday": pl.String(),
        "holiday": pl.Boolean(),
        "working": pl.Boolean(),
        "start_min": pl.Int32(),
        "end_min": pl.Int32(),
        "special_name": pl.String(),
        "wfh_period": pl.String(),
        "wfh_weekday_allowed": pl.Boolean(),
        "default_wfh": pl.Boolean(),
        "max_share": pl.Float64(),
        "exempt_units": pl.List(pl.String()),
    }
)


def calendar(policy: Policy, start: dt.date, end: dt.date) -> pl.DataFrame:
    """One row per date of ``[start, end]`` under ``policy`` (see the module docstring)."""
    if end < start:
        raise UsageError(f"calendar from {start} to {end}: the end is before the start.")
    holidays = set(policy.holidays)
    columns: dict[str, list[object]] = {name: [] for name in CALENDAR_SCHEMA}
    day = start
    one = dt.timedelta(days=1)
    while day <= end:
        weekday = WEEKDAYS[day.weekday()]
        special, hours = policy.scheduled(day)
        holiday = day in holidays
        working = hours is not None and not holiday
        wfh = policy.wfh_period_on(day)
        columns["date"].append(day)
        columns["weekday"].append(weekday)
        columns["holiday"].append(holiday)
        columns["working"].append(working)
        columns["start_min"].append(hours.start_min if working and hours else None)
        columns["end_min"].append(hours.end_min if working and hours else None)
        columns["special_name"].append(special.name if special else None)
        columns["wfh_period"].append(wfh.name if wfh else None)
        columns["wfh_weekday_allowed"].append(wfh is not None and weekday in wfh.weekdays)
        columns["default_wfh"].append(wfh is not None and weekday in wfh.default_wfh_weekdays)
        columns["max_share"].append(wfh.max_share if wfh else None)
        columns["exempt_units"].append(list(wfh.exempt_units) if wfh else [])
        day += one
    return pl.DataFrame(columns, schema=CALENDAR_SCHEMA)


def working_days(policy: Policy, start: dt.date, end: dt.date) -> list[dt.date]:
    """The working days of ``[start, end]`` under ``policy``."""
    frame = calendar(policy, start, end).filter(pl.col("working"))
    return frame["date"].to_list()
