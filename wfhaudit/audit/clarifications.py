"""Clarifications: decisions that waive findings (rules.md "Clarifications", issue 12).

A clarification (a row of the store's ``clarifications`` table) **waives** a finding
when

- its ``nip`` is empty or equal to the finding's nip (an agency finding, which has
  no nip, is matched only by rows with an empty ``nip``);
- its ``unit_code`` is empty or equal to the finding's ``unit_code``;
- ``start <= date <= end``;
- its ``rule`` is empty or equal to the finding's rule.

Empty cells are stored as "" (``schema.CLARIFICATIONS.blank_keys``).  When several
clarifications match a finding, the first in key order (``nip, unit_code, start,
rule``; an empty cell sorts first) gives ``reason`` and ``decided_by``.

``apply_clarifications`` is the waiver step: pure, over one chunk of findings (any
set of days: the in-memory run, one partition, one month of the year to date), so
that waived findings count nowhere else.  The rest of the module serves the
``clarify`` command and the agencies' "Tanggapan" (responses) workbook read back by
``ingest clarifications``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from wfhaudit.errors import DataError, UsageError
from wfhaudit.schema import (
    ALL_RULES,
    CLARIFICATIONS,
    UNIT_FINDINGS_SCHEMA,
    UNIT_RULES,
    VIOLATIONS_SCHEMA,
    WAIVED_UNIT_FINDINGS_SCHEMA,
    WAIVED_VIOLATIONS_SCHEMA,
    WAIVER_COLUMNS,
)
from wfhaudit.store import Store

KIND = CLARIFICATIONS.name
#: Rule codes of employee findings (violations) and of agency findings, in rules.md order.
VIOLATION_CODES: tuple[str, ...] = tuple(r for r in ALL_RULES if r not in UNIT_RULES)

_I = "__clar_row"  # row index of a finding
_K = "__clar_key"  # position of a clarification in key order


# --- reading ------------------------------------------------------------------------


def key_order(clarifications: pl.DataFrame) -> pl.DataFrame:
    """The clarifications in canonical columns ("" for an empty cell), in key order."""
    return clarifications.select(CLARIFICATIONS.canonical_exprs()).sort(
        list(CLARIFICATIONS.key), maintain_order=True
    )


# --- the waiver step ----------------------------------------------------------------


@dataclass(frozen=True)
class Waiver:
    """One chunk's findings split by the clarifications: open and waived."""

    violations: pl.DataFrame
    unit_findings: pl.DataFrame
    waived_violations: pl.DataFrame
    waived_unit_findings: pl.DataFrame


def _first_match(findings: pl.DataFrame, clar: pl.DataFrame, *, agency: bool) -> pl.DataFrame:
    """``(_I, _K)``: for each matched finding (row index) the first matching clarification."""
    none = pl.DataFrame(schema={_I: pl.UInt32, _K: pl.UInt32})
    if findings.height == 0 or clar.height == 0:
        return none
    candidates = clar.with_row_index(_K)
    if agency:
        candidates = candidates.filter(pl.col("nip") == "")
    lo, hi = findings.select(
        pl.col("date").min().alias("lo"), pl.col("date").max().alias("hi")
    ).row(0)
    candidates = candidates.filter((pl.col("end") >= lo) & (pl.col("start") <= hi))
    if candidates.height == 0:
        return none
    # One row per (clarification, day) of the chunk, then equality joins on the day and
    # the clarification's most specific key: a finding meets only the few clarifications
    # of its own employee, agency or day, never every clarification of the period.
    days = candidates.select(
        _K,
        pl.date_ranges(
            pl.max_horizontal("start", pl.lit(lo)), pl.min_horizontal("end", pl.lit(hi))
        ).alias("date"),
        pl.col("nip").alias("_c_nip"),
        pl.col("unit_code").alias("_c_unit"),
        pl.col("rule").alias("_c_rule"),
    ).explode("date")
    cols = ["unit_code", "date", "rule"] + ([] if agency else ["nip"])
    rows = findings.select(cols).with_row_index(_I)
    rule_ok = (pl.col("_c_rule") == "") | (pl.col("_c_rule") == pl.col("rule"))
    unit_ok = (pl.col("_c_unit") == "") | (pl.col("_c_unit") == pl.col("unit_code"))
    tiers = [
        # no nip: every employee (and the agency findings) of one agency, or of every agency
        (
            days.filter((pl.col("_c_nip") == "") & (pl.col("_c_unit") != "")),
            ["unit_code", "date"],
            ["_c_unit", "date"],
            rule_ok,
        ),
        (
            days.filter((pl.col("_c_nip") == "") & (pl.col("_c_unit") == "")),
            ["date"],
            ["date"],
            rule_ok,
        ),
    ]
    if not agency:  # one employee: only their own findings
        tiers.append(
            (
                days.filter(pl.col("_c_nip") != ""),
                ["nip", "date"],
                ["_c_nip", "date"],
                rule_ok & unit_ok,
            )
        )
    pairs = [
        rows.join(tier, left_on=left, right_on=right, how="inner")
        .filter(ok.fill_null(False))
        .select(_I, _K)
        for tier, left, right, ok in tiers
        if tier.height
    ]
    if not pairs:
        return none
    return pl.concat(pairs).group_by(_I).agg(pl.col(_K).min())


def split_findings(
    findings: pl.DataFrame, clarifications: pl.DataFrame, *, agency: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(open, waived)`` of one frame of findings (violations, or agency findings when
    ``agency``); ``clarifications`` in key order (``key_order``).  Both keep the order of
    ``findings``; ``waived`` has ``reason`` and ``decided_by`` added."""
    first = _first_match(findings, clarifications, agency=agency)
    if first.height == 0:
        waived = findings.head(0).with_columns(
            [pl.lit(None, t).alias(c) for c, t in WAIVER_COLUMNS.items()]
        )
        return findings, waived
    reasons = clarifications.select(list(WAIVER_COLUMNS)).with_row_index(_K)
    indexed = findings.with_row_index(_I)
    hit = pl.col(_I).is_in(first.get_column(_I).implode())
    waived = (
        indexed.filter(hit)
        .join(first, on=_I, how="left", maintain_order="left")
        .join(reasons, on=_K, how="left", maintain_order="left")
        .drop(_I, _K)
    )
    return indexed.filter(~hit).drop(_I), waived


def apply_clarifications(
    violations: pl.DataFrame, unit_findings: pl.DataFrame, clarifications: pl.DataFrame
) -> Waiver:
    """The waiver step of one chunk: open and waived violations and agency findings.

    Pure.  ``clarifications``: the table's rows (any order; put in key order here).
    """
    clar = key_order(clarifications)
    open_v, waived_v = split_findings(violations, clar, agency=False)
    open_u, waived_u = split_findings(unit_findings, clar, agency=True)
    return Waiver(open_v, open_u, waived_v, waived_u)


def waive_violations(violations: pl.DataFrame, clarifications: pl.DataFrame) -> pl.DataFrame:
    """Only the unwaived rows of ``violations`` (the year-to-date totals' step)."""
    return split_findings(violations, key_order(clarifications), agency=False)[0]


def waived_frames(
    violations: list[pl.DataFrame], unit_findings: list[pl.DataFrame]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The result files' frames from the chunks' waived rows: one schema, sorted as
    ``violations.parquet`` / ``unit_findings.parquet`` are."""
    from wfhaudit.schema import UNIT_FINDINGS_SORT, VIOLATIONS_SORT

    empty_v = pl.DataFrame(schema=WAIVED_VIOLATIONS_SCHEMA)
    empty_u = pl.DataFrame(schema=WAIVED_UNIT_FINDINGS_SCHEMA)
    v = pl.concat(
        [empty_v, *(f.select(list(empty_v.schema)).cast(empty_v.schema) for f in violations)]
    )
    u = pl.concat(
        [empty_u, *(f.select(list(empty_u.schema)).cast(empty_u.schema) for f in unit_findings)]
    )
    return (
        v.sort(list(VIOLATIONS_SORT), maintain_order=True),
        u.sort(list(UNIT_FINDINGS_SORT), maintain_order=True),
    )


def waiver_meta(
    waived_violations: pl.DataFrame,
    waived_unit_findings: pl.DataFrame,
    clarifications: pl.DataFrame,
    version: int | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(counts, clarifications)`` entries of ``audit.json``: the waived findings by rule,
    and the clarifications table's version read and its row count."""

    def by_rule(frame: pl.DataFrame, codes: tuple[str, ...]) -> dict[str, int]:
        found = dict(frame.group_by("rule").len().iter_rows()) if frame.height else {}
        return {code: int(found.get(code, 0)) for code in codes}

    counts = {
        "waived_violations": waived_violations.height,
        "waived_by_rule": by_rule(waived_violations, VIOLATION_CODES),
        "waived_unit_findings": waived_unit_findings.height,
        "waived_unit_findings_by_rule": by_rule(waived_unit_findings, UNIT_RULES),
    }
    return counts, {"version": version, "rows": clarifications.height}


# --- the clarify command ------------------------------------------------------------


#: The ``clarify`` option of each column (error messages name the option typed).
_OPTIONS = {
    "nip": "--nip",
    "unit_code": "--unit",
    "start": "--date",
    "end": "--to",
    "rule": "--rule",
    "reason": "--reason",
    "decided_by": "--by",
}


def decision_frame(
    *,
    start: str,
    end: str | None,
    reason: str,
    decided_by: str,
    unit: str | None = None,
    nip: str | None = None,
    rule: str | None = None,
) -> pl.DataFrame:
    """One clarification from the ``clarify`` options, validated as ``ingest`` validates a
    row (the same normalisation and checks); a bad value is a UsageError naming it."""
    from wfhaudit.ingest.profiles import load_profile
    from wfhaudit.ingest.readers import ROW, RawSheet
    from wfhaudit.ingest.validate import validate_sheet

    cells = {
        "nip": nip,
        "unit_code": unit,
        "start": start,
        "end": end if end is not None else start,
        "rule": rule,
        "reason": reason,
        "decided_by": decided_by,
    }
    raw = pl.DataFrame(
        {ROW: [1], **{k: [v] for k, v in cells.items()}},
        schema={ROW: pl.UInt32, **dict.fromkeys(cells, pl.String)},
    )
    result = validate_sheet(
        CLARIFICATIONS,
        load_profile("canonical", KIND),
        RawSheet(raw),
        where="the clarify options",
    )
    if result.rejects.height:
        code = str(result.rejects.get_column("error_code")[0])
        message = str(result.rejects.get_column("message")[0])
        if code == "out-of-range":
            message = f"--to {cells['end']} is before --date {cells['start']}"
        for column, option in _OPTIONS.items():
            message = message.replace(f"'{column}'", option)
        raise UsageError(f"bad clarification: {message}; nothing was recorded.")
    return result.valid.select(CLARIFICATIONS.canonical_exprs())


def last_audit(root: Path) -> Path | None:
    """The result directory under ``root`` whose ``audit.json`` was written last, or None."""
    found = sorted((p.stat().st_mtime, p.parent) for p in root.glob("*/audit.json") if p.is_file())
    return found[-1][1] if found else None


def would_waive(results_dir: Path, clarification: pl.DataFrame) -> tuple[int, int]:
    """``(violations, agency findings)`` of the open findings in ``results_dir`` that
    ``clarification`` would waive."""
    try:
        violations = pl.read_parquet(results_dir / "violations.parquet", glob=False)
        unit_findings = pl.read_parquet(results_dir / "unit_findings.parquet", glob=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise DataError(
            f"cannot read the audit result in {results_dir} ({exc}); run the audit again."
        ) from exc
    waiver = apply_clarifications(
        violations.select(list(VIOLATIONS_SCHEMA)).cast(VIOLATIONS_SCHEMA),
        unit_findings.select(list(UNIT_FINDINGS_SCHEMA)).cast(UNIT_FINDINGS_SCHEMA),
        clarification,
    )
    return waiver.waived_violations.height, waiver.waived_unit_findings.height


@dataclass
class Decision:
    """What ``clarify`` recorded and what it would waive in the last audit."""

    row: dict[str, Any]
    replaced: bool
    store_version: int | None
    results_dir: Path | None
    period: str | None
    violations: int = 0
    unit_findings: int = 0
    unknown: list[str] | None = None


def _unknown_codes(store: Store, row: dict[str, Any]) -> list[str]:
    """Warnings for a nip or unit code the employees table does not hold (a typo waives
    nothing)."""
    if not store.exists("employees"):
        return []
    emp = store.scan("employees").select("nip", "unit_code")

    def absent(column: str, value: str) -> bool:
        found = emp.filter(pl.col(column) == value).select(pl.len()).collect().item()
        return bool(value) and int(found) == 0

    notes = []
    if absent("nip", row["nip"]):
        notes.append(f"NIP {row['nip']} is not in the employees table")
    if absent("unit_code", row["unit_code"]):
        notes.append(f"unit {row['unit_code']} is not in the employees table")
    return notes


def record_decision(store: Store, decision: pl.DataFrame, results_root: Path) -> Decision:
    """Store one clarification (a later one with the same key replaces it) and count the
    findings of the last audit under ``results_root`` it would waive."""
    written = store.write(KIND, decision)
    row = decision.to_dicts()[0]
    out = Decision(
        row=row,
        replaced=written.replaced > 0,
        store_version=written.version,
        results_dir=None,
        period=None,
        unknown=_unknown_codes(store, row),
    )
    last = last_audit(results_root)
    if last is not None:
        out.results_dir = last
        try:
            meta = json.loads((last / "audit.json").read_text("utf-8"))
            out.period = (meta.get("period") or {}).get("label")
        except (OSError, ValueError):
            out.period = last.name
        out.violations, out.unit_findings = would_waive(last, decision)
    return out


def describe(row: dict[str, Any]) -> str:
    """A clarification in words: who, which agency, which days, which rule."""
    who = f"NIP {row['nip']}" if row["nip"] else "every employee"
    where = f"unit {row['unit_code']}" if row["unit_code"] else "every agency"
    start, end = row["start"], row["end"]
    days = start.isoformat() if start == end else f"{start.isoformat()}..{end.isoformat()}"
    rule = row["rule"] or "every rule"
    return f"{who}, {where}, {days}, {rule}"


# --- the agencies' responses workbook (sheet "Tanggapan") ----------------------------

#: Columns of the responses sheet, in order (row 1 holds these names: the sheet is read
#: back by ``ingest clarifications``).  ``start``/``end`` are the finding's date.
RESPONSE_COLUMNS: tuple[str, ...] = (
    "nip",
    "name",
    "unit_code",
    "date",
    "rule",
    "rule_name",
    "minutes",
    "distance_m",
    "detail",
    "waive",
    "reason",
    "decided_by",
)
#: Columns the agency fills (unlocked, text format); every other column is protected.
RESPONSE_INPUT_COLUMNS: tuple[str, ...] = ("waive", "reason", "decided_by")
#: What ``waive`` may say; a "no" keeps the finding (the row is answered, not waived).
WAIVE_YES: tuple[str, ...] = ("ya", "yes")
WAIVE_NO: tuple[str, ...] = ("tidak", "no")


def is_response_sheet(headers: list[str]) -> bool:
    """A responses sheet: ``date``, ``reason`` and ``decided_by`` columns, no ``start``."""
    names = {h.strip().lower() for h in headers}
    return {"date", "reason", "decided_by"} <= names and "start" not in names


@dataclass
class Responses:
    """Counts of the rows of responses sheets (``ingest clarifications`` prints them)."""

    answered: int = 0
    declined: int = 0
    unanswered: int = 0


def prepare_response_sheets(sheets: list[Any]) -> tuple[list[Any], Responses | None]:
    """The sheets of a returned responses workbook as clarification rows.

    When some sheet is a responses sheet (``is_response_sheet``), only those sheets are
    kept (the report's other sheets are not clarifications); in each, only the rows
    whose ``reason`` and ``decided_by`` are both filled and whose ``waive`` is not a
    "no" become clarifications, ``start = end = date``; the others are counted.  Other
    files come back unchanged, with None.
    """
    from wfhaudit.ingest.readers import RawSheet

    responses = [s for s in sheets if is_response_sheet(s.headers)]
    if not responses:
        return sheets, None
    counts = Responses()
    kept: list[RawSheet] = []
    for sheet in responses:
        frame = sheet.materialize()
        by_name = {h.strip().lower(): h for h in sheet.headers}

        def filled(name: str, frame: pl.DataFrame = frame, by_name: dict = by_name) -> pl.Series:
            header = by_name.get(name)
            if header is None:
                return pl.Series([False] * frame.height)
            return frame.get_column(header).cast(pl.String).str.strip_chars().fill_null("") != ""

        waive_col = by_name.get("waive")
        says_no = (
            frame.get_column(waive_col)
            .cast(pl.String)
            .str.strip_chars()
            .str.to_lowercase()
            .is_in(list(WAIVE_NO))
            .fill_null(False)
            if waive_col is not None
            else pl.Series([False] * frame.height)
        )
        answer = filled("reason") & filled("decided_by")
        counts.answered += int((answer & ~says_no).sum())
        counts.declined += int((answer & says_no).sum())
        counts.unanswered += int((~answer).sum())
        date = by_name["date"]
        rows = frame.filter(answer & ~says_no).with_columns(
            pl.col(date).alias("start"), pl.col(date).alias("end")
        )
        kept.append(RawSheet(rows, sheet=sheet.sheet))
    return kept, counts
