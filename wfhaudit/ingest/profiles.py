"""Import profiles: how a source's headers and formats map onto the canonical tables.

The shipped profiles live in ``profiles.toml`` beside this module; users add
their own in a TOML file of the same structure (``--profiles FILE``).  See
``docs/formats.md`` for the format.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from wfhaudit.errors import DataError, UsageError
from wfhaudit.schema import KINDS

_KEYS = {
    "description",
    "delimiter",
    "decimal",
    "date_formats",
    "datetime_formats",
    "time_formats",
    "columns",
    "combine",
    "enum_aliases",
}


@dataclass(frozen=True)
class Combine:
    """A canonical datetime built from a date column and a time column of the source."""

    date: str
    time: str


@dataclass(frozen=True)
class Profile:
    """One import profile, resolved for one kind."""

    name: str
    description: str = ""
    delimiter: str = ","
    decimal: str = "."
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    datetime_formats: tuple[str, ...] = ("%Y-%m-%d %H:%M:%S%.f",)
    time_formats: tuple[str, ...] = ("%H:%M:%S",)
    #: source header -> canonical column
    columns: dict[str, str] = field(default_factory=dict)
    #: canonical datetime column -> (date source header, time source header)
    combine: dict[str, Combine] = field(default_factory=dict)
    #: canonical column -> {source value (upper case) -> canonical value}
    enum_aliases: dict[str, dict[str, str]] = field(default_factory=dict)


def _enum_key(value: object) -> str:
    """Enum values are compared upper case, with runs of spaces/dashes as one underscore."""
    return re.sub(r"[\s-]+", "_", str(value).strip().upper())


def _shipped() -> dict[str, Any]:
    text = resources.files("wfhaudit.ingest").joinpath("profiles.toml").read_text("utf-8")
    return tomllib.loads(text)


def _user(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"profiles file {path} does not exist; check the --profiles path."
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(
            f"profiles file {path} is not valid TOML ({exc}); fix it and try again."
        ) from None


def available(profiles_file: Path | None = None) -> dict[str, dict[str, Any]]:
    """All profiles by name: the shipped ones, then those of ``profiles_file`` (which win)."""
    raw = dict(_shipped())
    if profiles_file is not None:
        raw.update(_user(profiles_file))
    return raw


def _check(name: str, body: dict[str, Any], where: str) -> None:
    for key, value in body.items():
        if key in KINDS:
            if not isinstance(value, dict):
                raise DataError(f"profile '{name}' in {where}: '{key}' must be a table.")
            _check(name, value, where)
        elif key not in _KEYS:
            raise DataError(
                f"profile '{name}' in {where} has an unknown key '{key}'; allowed: "
                f"{', '.join(sorted(_KEYS))} and per-kind tables ({', '.join(KINDS)})."
            )
    for key in ("delimiter", "decimal"):
        if key in body and (not isinstance(body[key], str) or len(body[key]) != 1):
            raise DataError(f"profile '{name}' in {where}: '{key}' must be one character.")
    for key in ("date_formats", "datetime_formats", "time_formats"):
        if key in body and not (
            isinstance(body[key], list) and body[key] and all(isinstance(f, str) for f in body[key])
        ):
            raise DataError(f"profile '{name}' in {where}: '{key}' must be a list of strings.")


def load_profile(name: str, kind: str, profiles_file: Path | None = None) -> Profile:
    """The profile ``name`` resolved for ``kind``; UsageError listing the valid names if unknown."""
    raw = available(profiles_file)
    if name not in raw or not isinstance(raw[name], dict):
        names = ", ".join(sorted(k for k, v in raw.items() if isinstance(v, dict)))
        raise UsageError(f"unknown profile '{name}'; valid profiles: {names}.")
    where = str(profiles_file) if profiles_file is not None else "the shipped profiles"
    body: dict[str, Any] = raw[name]
    _check(name, body, where)
    merged = {k: v for k, v in body.items() if k not in KINDS}
    for key, value in body.get(kind, {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    combine: dict[str, Combine] = {}
    for column, spec in merged.get("combine", {}).items():
        if not (
            isinstance(spec, dict)
            and isinstance(spec.get("date"), str)
            and isinstance(spec.get("time"), str)
        ):
            raise DataError(
                f"profile '{name}' in {where}: combine.{column} needs 'date' and 'time' headers."
            )
        combine[column] = Combine(spec["date"], spec["time"])
    aliases = {
        column: {_enum_key(k): str(v).strip().upper() for k, v in mapping.items()}
        for column, mapping in merged.get("enum_aliases", {}).items()
    }
    defaults = Profile(name=name)
    return Profile(
        name=name,
        description=str(merged.get("description", "")),
        delimiter=merged.get("delimiter", defaults.delimiter),
        decimal=merged.get("decimal", defaults.decimal),
        date_formats=tuple(merged.get("date_formats", defaults.date_formats)),
        datetime_formats=tuple(merged.get("datetime_formats", defaults.datetime_formats)),
        time_formats=tuple(merged.get("time_formats", defaults.time_formats)),
        columns={str(k): str(v) for k, v in merged.get("columns", {}).items()},
        combine=combine,
        enum_aliases=aliases,
    )
