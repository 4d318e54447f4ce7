"""Load, merge and validate policy files (spec ``policy.md``).

The shipped Jabar default (``jabar.toml`` next to this module) is read first;
a user's file is merged over it key by key: tables merge recursively, while a
value or an array (``holidays``, ``[[hours.special]]``, ``[[wfh]]``) replaces
the default's whole.  The merged dict is then validated and turned into the
typed :class:`~wfhaudit.policy.model.Policy`.

Every problem is a :class:`~wfhaudit.errors.DataError` (exit 3) whose one
sentence names the key (``location.office_radius_m``, ``wfh[2].max_share`` —
array entries count from 1 in file order), the file, and what to write instead.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import re
import tomllib
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wfhaudit.errors import DataError
from wfhaudit.policy.model import WEEKDAYS, Hours, Policy, SpecialHours, WfhPeriod
from wfhaudit.policy.toml_out import policy_dict
from wfhaudit.schema import TIMEZONE

DEFAULT_RESOURCE = "jabar.toml"
#: the largest whole number / number a policy key may hold when it names no bound of its
#: own (a sane range: 9223372036854775807 deadline days would crash the audit, issue 17)
MAX_INTEGER = 100_000
MAX_NUMBER = 10_000_000.0
#: how deeply tables and arrays of a policy file may nest (the key tree needs 3)
MAX_DEPTH = 10
DEFAULT_SOURCE = "default"

#: a weekday's hours may be written as this (or "") to make it a non-working day
OFF = "off"

_SPECIAL_KEYS = ("name", "from", "to", *WEEKDAYS)
_WFH_KEYS = (
    "name",
    "from",
    "to",
    "weekdays",
    "default_wfh_weekdays",
    "max_share",
    "exempt_units",
)

#: The key tree of a policy file: ``None`` = a value, a dict = a table,
#: a one-element list = an array of tables with that entry shape.
KEYS: dict[str, Any] = {
    "timezone": None,
    "minutes_per_day": None,
    "holidays": None,
    "extra_holidays": None,
    "hours": {
        **{day: None for day in WEEKDAYS},
        "late_grace_minutes": None,
        "early_grace_minutes": None,
        "special": [{key: None for key in _SPECIAL_KEYS}],
    },
    "location": {
        "office_radius_m": None,
        "home_radius_m": None,
        "accuracy_allowance_max_m": None,
    },
    "data": {"gap_min_employees": None},
    "output": {"min_chars": None, "deadline_days": None},
    "integrity": {
        "shared_coordinates_min_employees": None,
        "max_speed_kmh": None,
        "duplicate_output_min_days": None,
    },
    "wfh": [{key: None for key in _WFH_KEYS}],
}

_TIME_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


# --- reading and merging -----------------------------------------------------


def default_policy_dict() -> dict[str, Any]:
    """The shipped Jabar default as a plain dict (a fresh copy)."""
    text = resources.files("wfhaudit.policy").joinpath(DEFAULT_RESOURCE).read_text("utf-8")
    return tomllib.loads(text)


def read_policy_file(path: Path) -> dict[str, Any]:
    """Parse a user's policy file; any problem is one sentence (DataError)."""
    if not path.exists():
        raise DataError(
            f"policy file {path} does not exist; give the path of a TOML policy file "
            "(see `wfhaudit policy show` for the format)."
        )
    if path.is_dir():
        raise DataError(f"policy file {path} is a directory; give the path of a TOML file.")
    try:
        text = path.read_text("utf-8-sig")  # tolerate the BOM Windows editors add
    except UnicodeDecodeError:
        raise DataError(f"policy file {path} is not UTF-8 text; save it as UTF-8 TOML.") from None
    except OSError as exc:
        raise DataError(f"cannot read policy file {path}: {exc.strerror or exc}.") from None
    too_deep = DataError(
        f"policy file {path} nests tables or arrays more than {MAX_DEPTH} deep; a policy "
        "needs 3 (see `wfhaudit policy show`)."
    )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(
            f"policy file {path} is not valid TOML: {exc}; fix that line "
            "(dates unquoted like 2025-12-25, text in double quotes)."
        ) from None
    except RecursionError:
        raise too_deep from None
    if _depth(data) > MAX_DEPTH:
        raise too_deep
    return data


def _depth(value: Any) -> int:
    """How deeply ``value`` nests dicts and lists (iterative: no recursion limit)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            level += 1
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                children = item.values() if isinstance(item, dict) else item
                stack.extend((v, level) for v in children)
    return deepest


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` merged into a copy of ``base``: tables merge, anything else replaces."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def check_keys(data: dict[str, Any], source: str) -> None:
    """Raise DataError on the first key not in :data:`KEYS` or of the wrong shape."""
    _check_table(data, KEYS, "", source)


def _check_table(data: dict[str, Any], shape: dict[str, Any], prefix: str, source: str) -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key not in shape and prefix and key in KEYS and KEYS[key] is None:
            raise DataError(
                f"{key} is a top-level key, but {source} has it under [{prefix[:-1]}]; "
                "move it above the first [table] of the file."
            )
        if key not in shape:
            known = list(shape)
            close = difflib.get_close_matches(key, list(shape), n=1)
            hint = (
                f"did you mean {prefix}{close[0]}?"
                if close
                else ("known keys here: " + ", ".join(known) + ".")
            )
            raise DataError(f"unknown key {name} in {source}; {hint}")
        sub = shape[key]
        if isinstance(sub, dict):
            if not isinstance(value, dict):
                raise DataError(
                    f"{name} in {source} must be a table ([{name}] followed by its keys), "
                    f"not {_show(value)}."
                )
            _check_table(value, sub, f"{name}.", source)
        elif isinstance(sub, list):
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise DataError(
                    f"{name} in {source} must be an array of tables ([[{name}]] blocks), "
                    f"not {_show(value)}."
                )
            for i, item in enumerate(value, start=1):
                _check_table(item, sub[0], f"{name}[{i}].", source)
        elif isinstance(value, dict):
            raise DataError(f"{name} in {source} must be a single value, not a table.")


# --- value checks --------------------------------------------------------------


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


class _Checker:
    """Validate the values of a merged policy dict, naming key and source."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, value: Any, problem: str, fix: str) -> DataError:
        return DataError(f"{key} = {_show(value)} in {self.source} {problem}; {fix}.")

    def missing(self, key: str, fix: str) -> DataError:
        return DataError(f"{key} is missing in {self.source}; {fix}.")

    def integer(self, key: str, value: Any, minimum: int, maximum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(
                key,
                value,
                "is not a whole number",
                f"write e.g. {key.split('.')[-1]} = {max(minimum, 1)}",
            )
        if value < minimum or (maximum is not None and value > maximum):
            bounds = (
                f"at least {minimum}" if maximum is None else f"between {minimum} and {maximum}"
            )
            raise self.fail(key, value, f"must be {bounds}", "change the value")
        if value > max(MAX_INTEGER, minimum):
            raise self.fail(key, value, f"must be at most {MAX_INTEGER:,}", "change the value")
        return value

    def number(self, key: str, value: Any, *, positive: bool) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, value, "is not a number", "write a number without quotes")
        if value != value or value in (float("inf"), float("-inf")):
            raise self.fail(key, value, "is not a finite number", "write an ordinary number")
        if value < 0 or (positive and value == 0):
            need = "positive" if positive else "zero or more"
            raise self.fail(key, value, f"must be {need}", "negative values make no sense here")
        if value > MAX_NUMBER:
            raise self.fail(key, value, f"must be at most {MAX_NUMBER:,.0f}", "change the value")
        return float(value)

    def share(self, key: str, value: Any) -> float:
        number = self.number(key, value, positive=False)
        if number > 1:
            raise self.fail(key, value, "is outside [0, 1]", "write a share such as 0.5 for 50%")
        return number

    def text(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(
                key, value, "is not a non-empty text", 'write it in double quotes, e.g. "WFH 50:50"'
            )
        return value.strip()

    def date(self, key: str, value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            raise self.fail(key, value, "is a date-time", "write only the date, e.g. 2025-12-02")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.fail(key, value, "is not a date", "write it as YYYY-MM-DD, e.g. 2025-12-02")

    def weekday(self, key: str, value: Any) -> str:
        if isinstance(value, str) and value.strip().lower() in WEEKDAYS:
            return value.strip().lower()
        raise self.fail(
            key, value, "is not a weekday name", "use " + ", ".join(f'"{d}"' for d in WEEKDAYS)
        )

    def weekdays(self, key: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(key, value, "is not an array of weekday names", 'write e.g. ["thu"]')
        days = {self.weekday(f"{key}[{i}]", v) for i, v in enumerate(value, start=1)}
        return tuple(d for d in WEEKDAYS if d in days)

    def hours(self, key: str, value: Any) -> Hours | None:
        """``"07:30-16:00"`` -> Hours(450, 960); ``"off"`` or ``""`` -> None."""
        if isinstance(value, str) and value.strip().lower() in (OFF, ""):
            return None
        match = _TIME_RE.match(value) if isinstance(value, str) else None
        if match is None:
            raise self.fail(
                key, value, "is not HH:MM-HH:MM", 'write hours like "07:30-16:00" (or "off")'
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise self.fail(
                key, value, "is not a valid time range", "hours run 00-23 and minutes 00-59"
            )
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise self.fail(
                key, value, "ends before it starts", 'write the start first, e.g. "07:30-16:00"'
            )
        return Hours(start, end)

    def span(self, key: str, table: dict[str, Any], what: str) -> tuple[dt.date, dt.date]:
        for part in ("from", "to"):
            if part not in table:
                raise self.missing(f"{key}.{part}", f"every {what} needs from and to dates")
        start = self.date(f"{key}.from", table["from"])
        end = self.date(f"{key}.to", table["to"])
        if start > end:
            raise DataError(
                f"{key}.from {start} is after {key}.to {end} in {self.source}; "
                "swap them or fix the dates."
            )
        return start, end

    def no_overlap(
        self, key: str, what: str, spans: list[tuple[int, str, dt.date, dt.date]]
    ) -> None:
        ordered = sorted(spans, key=lambda s: (s[2], s[3]))
        for prev, cur in zip(ordered, ordered[1:], strict=False):
            if cur[2] <= prev[3]:
                first, second = sorted((prev, cur))
                raise DataError(
                    f'{key}[{first[0]}] "{first[1]}" ({first[2]}..{first[3]}) overlaps '
                    f'{key}[{second[0]}] "{second[1]}" ({second[2]}..{second[3]}) in '
                    f"{self.source}; {what} must not overlap: end one before the next starts."
                )


def _require(data: dict[str, Any], key: str, path: str, check: _Checker, fix: str) -> Any:
    if key not in data:
        raise check.missing(f"{path}{key}", fix)
    return data[key]


def build_policy(data: dict[str, Any], source: str, sources: tuple[str, ...]) -> Policy:
    """Validate a merged policy dict and build the typed Policy.

    ``raw`` is rebuilt from the typed fields (:func:`policy_dict`), so it says exactly
    what the audit uses, in canonical form.
    """
    check = _Checker(source)
    check_keys(data, source)
    add = "add it (see `wfhaudit policy show` for the default)"

    timezone = check.text("timezone", _require(data, "timezone", "", check, add))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise check.fail(
            "timezone", timezone, "is not a known time zone", f'write "{TIMEZONE}"'
        ) from None
    if timezone != TIMEZONE:
        raise check.fail(
            "timezone",
            timezone,
            "is not supported",
            f"the store holds local times in WIB ({TIMEZONE}); remove the key or write "
            f'"{TIMEZONE}"',
        )
    minutes_per_day = check.integer(
        "minutes_per_day", _require(data, "minutes_per_day", "", check, add), 1, 1440
    )
    raw_holidays = _require(data, "holidays", "", check, add)
    if not isinstance(raw_holidays, list):
        raise check.fail(
            "holidays",
            raw_holidays,
            "is not an array of dates",
            "write holidays = [2025-12-25, ...]",
        )
    extra = data.get("extra_holidays", [])
    if not isinstance(extra, list):
        raise check.fail(
            "extra_holidays",
            extra,
            "is not an array of dates",
            "write extra_holidays = [2025-12-24, ...] at the top of the file, before any [table]",
        )
    holidays = tuple(
        sorted(
            {check.date(f"holidays[{i}]", v) for i, v in enumerate(raw_holidays, start=1)}
            | {check.date(f"extra_holidays[{i}]", v) for i, v in enumerate(extra, start=1)}
        )
    )

    hours_t = _require(data, "hours", "", check, add)
    hours: dict[str, Hours] = {}
    for day in WEEKDAYS:
        if day in hours_t:
            parsed = check.hours(f"hours.{day}", hours_t[day])
            if parsed is not None:
                hours[day] = parsed
    late_grace = check.integer(
        "hours.late_grace_minutes", _require(hours_t, "late_grace_minutes", "hours.", check, add), 0
    )
    early_grace = check.integer(
        "hours.early_grace_minutes",
        _require(hours_t, "early_grace_minutes", "hours.", check, add),
        0,
    )

    specials: list[SpecialHours] = []
    spans: list[tuple[int, str, dt.date, dt.date]] = []
    for i, table in enumerate(hours_t.get("special", []), start=1):
        key = f"hours.special[{i}]"
        name = check.text(
            f"{key}.name",
            _require(table, "name", f"{key}.", check, "give every [[hours.special]] a name"),
        )
        start, end = check.span(key, table, "[[hours.special]]")
        day_hours: dict[str, Hours] = {}
        off: list[str] = []
        for day in WEEKDAYS:
            if day in table:
                parsed = check.hours(f"{key}.{day}", table[day])
                if parsed is not None:
                    day_hours[day] = parsed
                else:
                    off.append(day)
        specials.append(
            SpecialHours(name=name, start=start, end=end, hours=day_hours, off=tuple(off))
        )
        spans.append((i, name, start, end))
    check.no_overlap("hours.special", "special hours periods", spans)

    location = _require(data, "location", "", check, add)
    office_radius = check.number(
        "location.office_radius_m",
        _require(location, "office_radius_m", "location.", check, add),
        positive=True,
    )
    home_radius = check.number(
        "location.home_radius_m",
        _require(location, "home_radius_m", "location.", check, add),
        positive=True,
    )
    allowance = check.number(
        "location.accuracy_allowance_max_m",
        _require(location, "accuracy_allowance_max_m", "location.", check, add),
        positive=False,
    )

    output = _require(data, "output", "", check, add)
    min_chars = check.integer(
        "output.min_chars", _require(output, "min_chars", "output.", check, add), 0
    )
    deadline_days = check.integer(
        "output.deadline_days", _require(output, "deadline_days", "output.", check, add), 0
    )

    data_table = _require(data, "data", "", check, add)
    gap_min = check.integer(
        "data.gap_min_employees",
        _require(data_table, "gap_min_employees", "data.", check, add),
        1,
    )

    integrity = _require(data, "integrity", "", check, add)
    shared_min = check.integer(
        "integrity.shared_coordinates_min_employees",
        _require(integrity, "shared_coordinates_min_employees", "integrity.", check, add),
        2,
    )
    max_speed = check.number(
        "integrity.max_speed_kmh",
        _require(integrity, "max_speed_kmh", "integrity.", check, add),
        positive=True,
    )
    duplicate_min = check.integer(
        "integrity.duplicate_output_min_days",
        _require(integrity, "duplicate_output_min_days", "integrity.", check, add),
        2,
    )

    periods: list[WfhPeriod] = []
    spans = []
    for i, table in enumerate(_require(data, "wfh", "", check, add), start=1):
        key = f"wfh[{i}]"
        name = check.text(
            f"{key}.name", _require(table, "name", f"{key}.", check, "give every [[wfh]] a name")
        )
        start, end = check.span(key, table, "[[wfh]]")
        weekdays = check.weekdays(
            f"{key}.weekdays",
            _require(
                table,
                "weekdays",
                f"{key}.",
                check,
                'list the weekdays WFH is allowed on, e.g. weekdays = ["thu"]',
            ),
        )
        default_days = check.weekdays(
            f"{key}.default_wfh_weekdays", table.get("default_wfh_weekdays", [])
        )
        for day in default_days:
            if day not in weekdays:
                raise DataError(
                    f'{key}.default_wfh_weekdays contains "{day}" in {source}, '
                    f"which is not in {key}.weekdays; WFH by default is only possible on "
                    "a weekday WFH is allowed on: add it to weekdays or remove it."
                )
        max_share = check.share(f"{key}.max_share", table.get("max_share", 1.0))
        units_raw = table.get("exempt_units", [])
        if not isinstance(units_raw, list):
            raise check.fail(
                f"{key}.exempt_units",
                units_raw,
                "is not an array of unit codes",
                'write e.g. exempt_units = ["RSUD"]',
            )
        units = tuple(
            dict.fromkeys(
                check.text(f"{key}.exempt_units[{j}]", u) for j, u in enumerate(units_raw, start=1)
            )
        )
        periods.append(
            WfhPeriod(
                name=name,
                start=start,
                end=end,
                weekdays=weekdays,
                default_wfh_weekdays=default_days,
                max_share=max_share,
                exempt_units=units,
            )
        )
        spans.append((i, name, start, end))
    check.no_overlap("wfh", "WFH periods", spans)

    policy = Policy(
        timezone=timezone,
        minutes_per_day=minutes_per_day,
        holidays=holidays,
        hours=hours,
        late_grace_minutes=late_grace,
        early_grace_minutes=early_grace,
        special_hours=tuple(specials),
        office_radius_m=office_radius,
        home_radius_m=home_radius,
        accuracy_allowance_max_m=allowance,
        output_min_chars=min_chars,
        output_deadline_days=deadline_days,
        shared_coordinates_min_employees=shared_min,
        max_speed_kmh=max_speed,
        duplicate_output_min_days=duplicate_min,
        wfh=tuple(periods),
        gap_min_employees=gap_min,
        sources=sources,
    )
    return replace(policy, raw=policy_dict(policy))


# --- public API ----------------------------------------------------------------


def load_policy(path: Path | str | None = None) -> Policy:
    """The Jabar default merged with ``path`` (if given), validated.

    Raises DataError (exit 3) with one sentence naming the key and the file.
    """
    data = default_policy_dict()
    if path is None:
        return build_policy(data, "the default policy", (DEFAULT_SOURCE,))
    path = Path(path)
    user = read_policy_file(path)
    check_keys(user, str(path))
    return build_policy(merge(data, user), str(path), (DEFAULT_SOURCE, str(path)))


def check_policy_file(path: Path | str) -> Policy:
    """Validate a user's policy file (merged over the default); same errors as load_policy."""
    return load_policy(Path(path))


def replaced_defaults(path: Path | str, policy: Policy | None = None) -> list[str]:
    """One warning sentence per default array the user's file replaces and so drops
    entries of (``holidays``, ``[[hours.special]]``, ``[[wfh]]``), naming how many.

    An entry counts as kept when the resolved policy still has it (``extra_holidays``
    adds to the file's ``holidays``)."""
    path = Path(path)
    user = read_policy_file(path)
    policy = policy or load_policy(path)
    default = load_policy()
    hours = user.get("hours")
    arrays: list[tuple[bool, str, tuple[Any, ...], tuple[Any, ...], str]] = [
        (
            "holidays" in user,
            "holidays",
            default.holidays,
            policy.holidays,
            "list only the days to add in extra_holidays instead, which keeps the default's",
        ),
        (
            isinstance(hours, dict) and "special" in hours,
            "[[hours.special]]",
            default.special_hours,
            policy.special_hours,
            "copy the entries to keep from `wfhaudit policy show`",
        ),
        (
            "wfh" in user,
            "[[wfh]]",
            default.wfh,
            policy.wfh,
            "copy the entries to keep from `wfhaudit policy show`",
        ),
    ]
    out: list[str] = []
    for present, label, before, after, fix in arrays:
        dropped = [entry for entry in before if entry not in after]
        if present and dropped:
            out.append(
                f"{path} replaces the default {label} whole and drops {len(dropped)} of its "
                f"{len(before)} entries; {fix}."
            )
    return out
