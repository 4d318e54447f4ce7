"""A small TOML emitter for the resolved policy (no extra dependency).

Handles what a policy holds: text, whole numbers, numbers, booleans, dates,
arrays of those, tables and arrays of tables (written as ``[[...]]``).  The
output parses back with ``tomllib`` to the same dict.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from wfhaudit.policy.model import WEEKDAYS, Hours, Policy

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
}
_WRAP = 88


def toml_string(text: str) -> str:
    """A TOML basic string."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else toml_string(key)


def toml_value(value: Any) -> str:
    """One TOML value, inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        inner = ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(value, list | tuple):
        return _array(list(value), indent="")
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _array(items: list[Any], indent: str) -> str:
    parts = [toml_value(v) for v in items]
    one_line = "[" + ", ".join(parts) + "]"
    if len(one_line) <= _WRAP - 30:
        return one_line
    lines, line = [], ""
    for part in parts:
        candidate = f"{line} {part}," if line else f"{part},"
        if line and len(indent) + 2 + len(candidate) > _WRAP - 10:
            lines.append(line)
            candidate = f"{part},"
        line = candidate
    if line:
        lines.append(line)
    return "[\n" + "".join(f"{indent}  {ln}\n" for ln in lines) + indent + "]"


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _emit(lines: list[str], path: list[str], table: dict[str, Any]) -> None:
    for key, value in table.items():
        if not isinstance(value, dict) and not _is_table_array(value):
            lines.append(f"{toml_key(key)} = {toml_value(value)}")
    for key, value in table.items():
        if isinstance(value, dict):
            dotted = ".".join(toml_key(p) for p in [*path, key])
            lines.extend(["", f"[{dotted}]"])
            _emit(lines, [*path, key], value)
    for key, value in table.items():
        if _is_table_array(value):
            dotted = ".".join(toml_key(p) for p in [*path, key])
            for item in value:
                lines.extend(["", f"[[{dotted}]]"])
                _emit(lines, [*path, key], item)


def dict_to_toml(data: dict[str, Any], header: str = "") -> str:
    """``data`` as a TOML document (``header`` lines become ``#`` comments)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    if lines:
        lines.append("")
    _emit(lines, [], data)
    return "\n".join(lines).strip("\n") + "\n"


def _fmt(hours: Hours) -> str:
    return (
        f"{hours.start_min // 60:02d}:{hours.start_min % 60:02d}-"
        f"{hours.end_min // 60:02d}:{hours.end_min % 60:02d}"
    )


def _number(value: float) -> int | float:
    """100.0 -> 100 (reads as written in the default); 0.5 stays 0.5."""
    return int(value) if float(value).is_integer() else value


def policy_dict(policy: Policy) -> dict[str, Any]:
    """The policy's typed fields as a TOML-able dict (the canonical resolved policy).

    Built from the fields, never from ``policy.raw``, so it is right even for a
    Policy changed with ``dataclasses.replace``.  Working weekdays mon..fri without
    hours are written as ``"off"`` so that the output, used as a user file, does not
    get the default's hours back by the key-by-key merge.
    """
    return {
        "timezone": policy.timezone,
        "minutes_per_day": policy.minutes_per_day,
        "holidays": list(policy.holidays),
        "hours": {
            **{d: _fmt(policy.hours[d]) if d in policy.hours else "off" for d in WEEKDAYS[:5]},
            **{d: _fmt(policy.hours[d]) for d in WEEKDAYS[5:] if d in policy.hours},
            "late_grace_minutes": policy.late_grace_minutes,
            "early_grace_minutes": policy.early_grace_minutes,
            "special": [
                {
                    "name": s.name,
                    "from": s.start,
                    "to": s.end,
                    **{
                        d: _fmt(s.hours[d]) if d in s.hours else "off"
                        for d in WEEKDAYS
                        if d in s.hours or d in s.off
                    },
                }
                for s in policy.special_hours
            ],
        },
        "location": {
            "office_radius_m": _number(policy.office_radius_m),
            "home_radius_m": _number(policy.home_radius_m),
            "accuracy_allowance_max_m": _number(policy.accuracy_allowance_max_m),
        },
        "data": {"gap_min_employees": policy.gap_min_employees},
        "output": {
            "min_chars": policy.output_min_chars,
            "deadline_days": policy.output_deadline_days,
        },
        "integrity": {
            "shared_coordinates_min_employees": policy.shared_coordinates_min_employees,
            "max_speed_kmh": _number(policy.max_speed_kmh),
            "duplicate_output_min_days": policy.duplicate_output_min_days,
        },
        "wfh": [
            {
                "name": w.name,
                "from": w.start,
                "to": w.end,
                "weekdays": list(w.weekdays),
                "default_wfh_weekdays": list(w.default_wfh_weekdays),
                "max_share": w.max_share,
                "exempt_units": list(w.exempt_units),
            }
            for w in policy.wfh
        ],
    }


def policy_to_toml(policy: Policy, *, with_sources: bool = True) -> str:
    """The resolved policy as TOML; a leading comment names its sources."""
    header = ""
    if with_sources:
        header = (
            "wfhaudit policy in force\n"
            f"sources: {' + '.join(policy.sources)} "
            "(a later file overrides the earlier key by key)"
        )
    return dict_to_toml(policy_dict(policy), header)
