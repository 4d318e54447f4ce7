"""Print an ``IngestSummary`` for people (Rich tables) or scripts (JSON).

Every value that comes from the user (file names, sheet names, codes, reject
messages quoting cells) is printed as plain ``Text``: a name like
``cuti[/x].csv`` or a cell ``[bold]`` is shown as written, never read as markup.
"""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from wfhaudit.ingest.core import IngestSummary
from wfhaudit.schema import ERROR_CODES

SHOWN_REJECTS = 10


def plain(value: object) -> Text:
    """``value`` as literal text for a Rich table or line (no markup, no highlighting)."""
    return Text("" if value is None else str(value))


def summary_json(summary: IngestSummary) -> str:
    return json.dumps(summary.to_dict(), ensure_ascii=False, default=str)


def print_summary(summary: IngestSummary, console: Console) -> None:
    """The summary table, the rejects by code, the first rejects and where the rest are."""
    title = f"ingest {summary.kind} (profile {summary.profile})"
    if summary.dry_run:
        title += " - dry run, nothing stored"
    files = Table(title=plain(title), title_justify="left")
    for name in ("file", "read", "valid", "rejected", "superseded", "zero coordinates"):
        files.add_column(name, justify="left" if name == "file" else "right")
    for f in summary.files:
        files.add_row(
            plain(f.file + (" (grid)" if f.grid else "")),
            f"{f.read:,}",
            f"{f.valid:,}",
            f"{f.rejected:,}",
            f"{f.superseded:,}",
            f"{f.zero_coordinates:,}",
        )
    if len(summary.files) > 1:
        files.add_row(
            "[bold]total[/]",
            f"{summary.read:,}",
            f"{sum(f.valid for f in summary.files):,}",
            f"{summary.rejected:,}",
            f"{summary.superseded:,}",
            f"{summary.zero_coordinates:,}",
        )
    console.print(files)
    for f in summary.files:
        for note in f.skipped_sheets:
            console.print(Text.assemble(("skipped sheet", "yellow"), " ", str(note)))
        if f.responses is not None:  # clarifications (issue 12): a returned responses sheet
            console.print(
                Text(
                    f"responses in {f.file}: {f.responses['answered']:,} answered (stored as "
                    f"clarifications), {f.responses['declined']:,} answered with waive = no "
                    f"(kept), {f.responses['unanswered']:,} unanswered"
                ),
                soft_wrap=True,
            )
    store = Table(show_header=True, title="store", title_justify="left")
    for name in ("stored", "new", "replaced", "unchanged", "version"):
        store.add_column(name, justify="right")
    if summary.dry_run:
        store.add_row(
            f"{summary.stored:,} (would be)",
            "-",
            "-",
            "-",
            str(summary.store_version) if summary.store_version is not None else "-",
        )
    else:
        store.add_row(
            f"{summary.stored:,}",
            f"{summary.inserted:,}",
            f"{summary.replaced:,}",
            f"{summary.unchanged:,}",
            str(summary.store_version) if summary.store_version is not None else "-",
        )
    console.print(store)
    if summary.rejected:
        codes = Table(title="rejected rows by error code", title_justify="left")
        codes.add_column("code")
        codes.add_column("rows", justify="right")
        for code in ERROR_CODES:
            if code in summary.rejected_by_code:
                codes.add_row(plain(code), f"{summary.rejected_by_code[code]:,}")
        console.print(codes)
        first = Table(title=f"first rejected rows (of {summary.rejected:,})", title_justify="left")
        for name in ("file", "row", "code", "message"):
            first.add_column(name, overflow="fold")
        for row in summary.rejects_sample[:SHOWN_REJECTS]:
            first.add_row(
                *(plain(row[c]) for c in ("source_file", "source_row", "error_code", "message"))
            )
        console.print(first)
        if summary.rejects_path is not None:
            console.print(
                f"rejected rows written to {summary.rejects_path}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
