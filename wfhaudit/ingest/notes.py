"""The v2 lines of the ingest summary: blanked cells, leavers, replaced period.

Printed after ``display.print_summary`` (which shows files, store and rejected rows).
"""

from __future__ import annotations

from rich.console import Console

from wfhaudit.ingest.core import IngestSummary
from wfhaudit.schema import ERROR_CODES

SHOWN = 10


def print_notes(summary: IngestSummary, console: Console) -> None:
    """Blanked cells by code and the first ones; ended employees; removed rows."""
    would = " (would be)" if summary.dry_run else ""
    if summary.replace_period is not None:
        first, last = summary.replace_period
        console.print(
            f"--replace-period {first}..{last}: {summary.removed:,} stored row(s) of those dates "
            f"not in the files removed{would}",
            highlight=False,
            soft_wrap=True,
        )
    if summary.valid_from is not None:
        console.print(
            f"--valid-from {summary.valid_from}: rows without valid_from describe the employee "
            "from that date",
            highlight=False,
            soft_wrap=True,
        )
    if summary.ended:
        console.print(
            f"--full-snapshot: {len(summary.ended):,} employee(s) in force but not in the snapshot "
            f"ended{would} (active_to {summary.ended[0]['active_to']}):",
            highlight=False,
            soft_wrap=True,
        )
        for row in summary.ended[:SHOWN]:
            console.print(
                f"  {row['nip']} {row['name']} ({row['unit_code']})", highlight=False, markup=False
            )
        if len(summary.ended) > SHOWN:
            console.print(f"  … and {len(summary.ended) - SHOWN:,} more", highlight=False)
    if summary.blanked:
        by_code = summary.blanked_by_code
        codes = ", ".join(f"{by_code[c]:,} {c}" for c in ERROR_CODES if c in by_code)
        console.print(
            f"bad optional cells blanked (row stored, cell empty): {summary.blanked:,} ({codes})",
            highlight=False,
            soft_wrap=True,
        )
        for row in summary.blanked_sample[:SHOWN]:
            console.print(
                f"  {row['source_file']}:{row['source_row']} {row['error_code']}: {row['message']}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
        if summary.rejects_path is not None and not summary.rejected:
            console.print(
                f"blanked cells written to {summary.rejects_path}", highlight=False, soft_wrap=True
            )
