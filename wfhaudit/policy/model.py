"""The policy as typed, immutable data (policy.md of the spec).

``wfhaudit.policy.load_policy(path | None) -> Policy`` builds it from the
shipped Jabar default merged with a user's file.  The audit reads only these
attributes; TOML never leaks past the loader.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Hours:
    """Scheduled hours of one day, in minutes after local midnight."""

    start_min: int  # 07:30 -> 450
    end_min: int  # 16:00 -> 960


@dataclass(frozen=True)
class SpecialHours:
    """A period (e.g. Ramadan) whose hours replace the normal ones of the weekdays it lists.

    A weekday it does not list keeps its normal hours (policy.md).
    """

    name: str
    start: dt.date  # `from`, inclusive
    end: dt.date  # `to`, inclusive
    hours: dict[str, Hours]  # weekday ("mon".."sun") -> the special hours of that weekday
    #: weekdays it lists as "off": not working days inside the period
    off: tuple[str, ...] = ()

    def hours_for(self, weekday: str, normal: dict[str, Hours]) -> Hours | None:
        """The hours of ``weekday`` inside the period (``normal``: the policy's [hours])."""
        if weekday in self.hours:
            return self.hours[weekday]
        if weekday in self.off:
            return None
        return normal.get(weekday)


@dataclass(frozen=True)
class WfhPeriod:
    """One `[[wfh]]` table."""

    name: str
    start: dt.date
    end: dt.date
    weekdays: tuple[str, ...]  # weekdays on which WFH is allowed
    default_wfh_weekdays: tuple[str, ...]  # WFH when the roster says nothing
    max_share: float
    exempt_units: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    timezone: str
    minutes_per_day: int
    holidays: tuple[dt.date, ...]
    hours: dict[str, Hours]  # weekday -> hours; weekdays absent are not working days
    late_grace_minutes: int
    early_grace_minutes: int
    special_hours: tuple[SpecialHours, ...]
    office_radius_m: float
    home_radius_m: float
    accuracy_allowance_max_m: float
    output_min_chars: int
    output_deadline_days: int
    shared_coordinates_min_employees: int
    max_speed_kmh: float
    duplicate_output_min_days: int
    wfh: tuple[WfhPeriod, ...]
    #: `[data] gap_min_employees`: an agency-day with at least this many required staff and
    #: no check-in (no report) at all is missing data, not a mass absence (rules.md).
    gap_min_employees: int = 5
    #: the resolved policy as a plain TOML-able dict (for `policy show` and audit.json)
    raw: dict = field(default_factory=dict, compare=False, repr=False)
    #: where it came from: ("default",) or ("default", "/path/to/user.toml")
    sources: tuple[str, ...] = ("default",)

    def hours_on(self, day: dt.date) -> Hours | None:
        """The scheduled hours of ``day`` (special period first), or None if not a working day.

        Holidays are not working days.
        """
        if day in self.holidays:
            return None
        return self.scheduled(day)[1]

    def special_on(self, day: dt.date) -> SpecialHours | None:
        """The ``[[hours.special]]`` period containing ``day`` (they never overlap), or None."""
        return next((s for s in self.special_hours if s.start <= day <= s.end), None)

    def scheduled(self, day: dt.date) -> tuple[SpecialHours | None, Hours | None]:
        """(special period of ``day`` or None, the weekday's hours), holidays not considered:
        inside a special period its hours for the weekdays it lists, the normal hours for
        the others."""
        weekday = WEEKDAYS[day.weekday()]
        special = self.special_on(day)
        if special is None:
            return None, self.hours.get(weekday)
        return special, special.hours_for(weekday, self.hours)

    def wfh_period_on(self, day: dt.date) -> WfhPeriod | None:
        """The WFH period containing ``day`` (periods never overlap), or None."""
        for period in self.wfh:
            if period.start <= day <= period.end:
                return period
        return None
