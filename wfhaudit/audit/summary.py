"""What the ``audit`` (and ``run``) command prints, and its ``--fail-on`` thresholds.

Library functions so that ``audit`` and ``run`` behave the same:

- ``parse_fail_on(["ABSENT=0", "any=100"]) -> {"ABSENT": 0, "any": 100}`` (UsageError, exit 2,
  naming the bad value);
- ``crossed_thresholds(result, thresholds) -> ["ABSENT: 3 > 0", ...]`` (empty: none crossed);
- ``summary_json(result) -> dict`` (what ``--json`` prints);
- ``print_summary(console, result)`` (the Rich table).

A threshold ``RULE=N`` is crossed when the number of rows of ``RULE`` (violations, or
agency-day findings for ``WFH_QUOTA_EXCEEDED`` / ``WFH_NOT_ALLOWED``) is greater than
``N``; ``any=N`` when all violation rows plus all agency-day finding rows are more than N.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from wfhaudit.audit.run import AuditResult
from wfhaudit.errors import UsageError
from wfhaudit.schema import ALL_RULES, UNIT_RULES

ANY = "any"


def parse_fail_on(values: list[str] | None) -> dict[str, int]:
    """``RULE=N`` / ``any=N`` strings as a dict; a bad form or unknown rule is a UsageError."""
    thresholds: dict[str, int] = {}
    for value in values or []:
        name, sep, number = value.partition("=")
        name, number = name.strip(), number.strip()
        code = ANY if name.lower() == ANY else name.upper()
        if not sep or not name:
            raise UsageError(
                f"bad --fail-on {value!r}: write RULE=N or any=N, e.g. --fail-on ABSENT=0."
            )
        if code != ANY and code not in ALL_RULES:
            raise UsageError(
                f"bad --fail-on {value!r}: unknown rule {name!r}; use 'any' or one of "
                f"{', '.join(ALL_RULES)}."
            )
        if not number.isdigit():
            raise UsageError(
                f"bad --fail-on {value!r}: {number!r} is not a whole number >= 0; "
                "write e.g. --fail-on ABSENT=0."
            )
        thresholds[code] = int(number)
    return thresholds


def rule_count(result: AuditResult, code: str) -> int:
    """Rows of ``code`` in the result (``any``: all violations and agency findings)."""
    counts = result.counts
    if code == ANY:
        return int(counts["violations"]) + int(counts["unit_findings"])
    if code in UNIT_RULES:
        return int(counts["unit_findings_by_rule"].get(code, 0))
    return int(counts["by_rule"].get(code, 0))


def crossed_thresholds(result: AuditResult, thresholds: dict[str, int]) -> list[str]:
    """One line per crossed threshold, e.g. ``ABSENT: 80 > 0``."""
    crossed = []
    for code, limit in thresholds.items():
        count = rule_count(result, code)
        if count > limit:
            crossed.append(f"{code}: {count} > {limit}")
    return crossed


def summary_json(result: AuditResult) -> dict[str, Any]:
    """The summary of ``--json``: period, as-of, days left out, counts, result directory."""
    meta = result.meta
    return {
        "period": meta["period"],
        "as_of": meta["as_of"],
        "days_left_out": meta["days_left_out"],
        "counts": meta["counts"],
        "data_quality": meta["data_quality"],
        "out_dir": str(result.out_dir),
        "run_seconds": meta.get("run_seconds"),
    }


def print_summary(console: Console, result: AuditResult) -> None:
    """The Rich summary table of an audit."""
    counts = result.counts
    table = Table(title=f"Audit {result.period.label}", show_header=True, header_style="bold")
    table.add_column("")
    table.add_column("count", justify="right")
    table.add_row("employees", f"{counts['employees']:,}")
    table.add_row("employee-days audited", f"{counts['employee_days']:,}")
    table.add_row("  excused (leave)", f"{counts['excused']:,}")
    table.add_row("  duty (dinas luar)", f"{counts['duty']:,}")
    if counts.get("no_attendance_data"):  # v2: missing K-Mob data is not absence
        table.add_row("  no K-Mob data (not checked)", f"{counts['no_attendance_data']:,}")
    table.add_row("  required", f"{counts['required']:,}")
    table.add_section()
    table.add_row("[bold]violations[/]", f"[bold]{counts['violations']:,}[/]")
    for code, n in counts["by_rule"].items():
        if n:
            table.add_row(f"  {code}", f"{n:,}")
    table.add_section()
    table.add_row("[bold]unit findings[/]", f"[bold]{counts['unit_findings']:,}[/]")
    for code, n in counts["unit_findings_by_rule"].items():
        if n:
            table.add_row(f"  {code}", f"{n:,}")
    waived = int(counts.get("waived_violations", 0)) + int(counts.get("waived_unit_findings", 0))
    if waived:  # clarifications (issue 12): counted nowhere above
        table.add_section()
        table.add_row("[bold]waived by clarifications[/]", f"[bold]{waived:,}[/]")
        for key in ("waived_by_rule", "waived_unit_findings_by_rule"):
            for code, n in counts.get(key, {}).items():
                if n:
                    table.add_row(f"  {code}", f"{n:,}")
    console.print(table)
    left_out = result.days_left_out
    if left_out:
        span = left_out[0] if len(left_out) == 1 else f"{left_out[0]} .. {left_out[-1]}"
        console.print(
            f"Days left out (from as-of {result.as_of.isoformat()} on, data not complete): "
            f"{len(left_out)} ({span})",
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        f"Results written to {result.out_dir}/", markup=False, highlight=False, soft_wrap=True
    )
