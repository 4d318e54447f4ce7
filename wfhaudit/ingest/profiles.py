"""Import profiles: how a source's headers and formats map onto the canonical tables.

The shipped profiles live in ``profiles.toml`` beside this module; users add
their own in a TOML file of the same structure (``--profiles FILE``).  See
``docs/formats.md`` for the format.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from wfhaudit.errors import DataError, UsageError
from wfhaudit.schema import KINDS, TABLES


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


class _Combine(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    date: str
    time: str


class _Body(BaseModel):
    """The keys of a profile (or of its per-kind table), typed; anything else is an error."""

    model_config = ConfigDict(extra="forbid", strict=True)
    description: str | None = None
    delimiter: Annotated[str, StringConstraints(min_length=1, max_length=1)] | None = None
    decimal: Annotated[str, StringConstraints(min_length=1, max_length=1)] | None = None
    date_formats: Annotated[list[str], Field(min_length=1)] | None = None
    datetime_formats: Annotated[list[str], Field(min_length=1)] | None = None
    time_formats: Annotated[list[str], Field(min_length=1)] | None = None
    columns: dict[str, str] | None = None
    combine: dict[str, _Combine] | None = None
    enum_aliases: dict[str, dict[str, str]] | None = None


class _ProfileModel(_Body):
    """A whole profile: the shared keys plus one optional table per kind."""

    employees: _Body | None = None
    offices: _Body | None = None
    roster: _Body | None = None
    attendance: _Body | None = None
    outputs: _Body | None = None
    leave: _Body | None = None


def _where_in(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top)"


def _check(name: str, body: dict[str, Any], where: str) -> None:
    """Validate ``body`` with the typed model: DataError (exit 3, like a bad policy)."""
    try:
        _ProfileModel.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = _where_in(first["loc"])
        if first["type"] == "extra_forbidden":
            allowed = ", ".join(f for f in _Body.model_fields)
            raise DataError(
                f"profile '{name}' in {where} has an unknown key '{key}'; allowed: "
                f"{allowed} and per-kind tables ({', '.join(KINDS)})."
            ) from None
        raise DataError(
            f"profile '{name}' in {where}: '{key}' is invalid ({first['msg'].lower()}); "
            "see docs/formats.md for the profile format."
        ) from None


def _targets(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(where in the profile, canonical column) of every mapping, combine and alias of ``body``."""
    out = [(f"columns.{src!r}", str(dst)) for src, dst in (body.get("columns") or {}).items()]
    out += [(f"combine.{dst}", dst) for dst in body.get("combine") or {}]
    out += [(f"enum_aliases.{dst}", dst) for dst in body.get("enum_aliases") or {}]
    return out


def _check_targets(name: str, kind: str, body: dict[str, Any], where: str) -> None:
    """Every column the profile maps to, for ``kind``, must be a canonical column of ``kind``.

    A mapping in the per-kind table must name a column of that kind; one at the
    profile's top level (shared by every kind) must name a column of some kind.
    """
    valid = list(TABLES[kind].columns)
    anywhere = {c for table in TABLES.values() for c in table.columns}
    shared = [(key, t) for key, t in _targets(body) if t not in anywhere]
    own = [(f"{kind}.{key}", t) for key, t in _targets(body.get(kind) or {}) if t not in valid]
    for key, target in shared + own:
        close = difflib.get_close_matches(target, valid, n=1, cutoff=0.5)
        close += [c for c in valid if c.startswith(target) and c not in close]
        hint = f"did you mean {close[0]}? " if close else ""
        raise DataError(
            f"profile '{name}' in {where} maps {key} to '{target}', which is not a column "
            f"of {kind}; {hint}valid {kind} columns: {', '.join(valid)}."
        )


def load_profile(name: str, kind: str, profiles_file: Path | None = None) -> Profile:
    """The profile ``name`` resolved for ``kind``; UsageError listing the valid names if unknown."""
    raw = available(profiles_file)
    if name not in raw or not isinstance(raw[name], dict):
        names = ", ".join(sorted(k for k, v in raw.items() if isinstance(v, dict)))
        raise UsageError(f"unknown profile '{name}'; valid profiles: {names}.")
    where = str(profiles_file) if profiles_file is not None else "the shipped profiles"
    body: dict[str, Any] = raw[name]
    _check(name, body, where)
    _check_targets(name, kind, body, where)
    merged = {k: v for k, v in body.items() if k not in KINDS}
    for key, value in body.get(kind, {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    combine = {
        column: Combine(spec["date"], spec["time"])
        for column, spec in merged.get("combine", {}).items()
    }
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
