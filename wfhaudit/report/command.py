"""What ``wfhaudit report`` does, as a library call the CLI (and ``run``) wraps."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from wfhaudit.audit.period import parse_period
from wfhaudit.errors import DataError
from wfhaudit.report.render import check_options, render_reports

#: Where ``wfhaudit audit PERIOD`` writes its results by default (cli.md).
DEFAULT_RESULTS_ROOT = Path("reports") / "out"


def default_results_dir(label: str) -> Path:
    return DEFAULT_RESULTS_ROOT / label


def _store_of(results_dir: Path) -> Path | None:
    """The store the audit read (from audit.json), if it is still there."""
    try:
        audit = json.loads((results_dir / "audit.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    path = (audit.get("store") or {}).get("path")
    if path and (Path(path) / "employees" / "_delta_log").is_dir():
        return Path(path)
    return None


def _period_of(results_dir: Path) -> str | None:
    try:
        audit = json.loads((results_dir / "audit.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    label = (audit.get("period") or {}).get("label")
    return str(label) if label else None


def report_command(
    period: str,
    *,
    results: Path | None = None,
    formats: Iterable[str] | None = None,
    lang: str = "id",
    unit: str | None = None,
    out: Path | None = None,
    store: Path | None = None,
    replaced: list[Path] | None = None,
) -> list[Path]:
    """Check the options, find the result directory, render; the files written.

    Names of agencies come from ``store`` or, without one, from the store the
    audit read when it still exists; otherwise codes are shown.
    """
    chosen = check_options(formats, lang)
    label = parse_period(period).label
    results_dir = results if results is not None else default_results_dir(label)
    if not (results_dir / "audit.json").is_file():
        raise DataError(
            f"no audit result for {label} in {results_dir}; run 'wfhaudit audit {label}' first "
            "(or give its directory with --results)."
        )
    found = _period_of(results_dir)
    if found is not None and found != label:
        raise DataError(
            f"the audit result in {results_dir} is for period {found}, not {label}; "
            f"run 'wfhaudit report {found}' or give the directory of {label} with --results."
        )
    names_from = store if store is not None else _store_of(results_dir)
    return render_reports(
        results_dir,
        formats=chosen,
        lang=lang,
        unit=unit,
        out_dir=out,
        store=names_from,
        replaced=replaced,
    )
