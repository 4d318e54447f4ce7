"""``wfhaudit evaluate PERIOD``: parse the options, evaluate, render (cli.py stays thin)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wfhaudit.errors import UsageError
from wfhaudit.evaluate.buckets import BY, parse_span
from wfhaudit.evaluate.model import evaluate
from wfhaudit.evaluate.render import render_evaluation
from wfhaudit.policy import load_policy
from wfhaudit.report.render import check_options
from wfhaudit.store import Store


def default_out(label: str) -> Path:
    return Path("reports") / "out" / f"evaluation-{label}"


def evaluate_command(
    period: str,
    *,
    store: Path,
    by: str = "month",
    unit: str | None = None,
    formats: list[str] | None = None,
    lang: str = "id",
    out: Path | None = None,
    policy: Path | None = None,
    as_of: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], list[Path]]:
    """(the model, the files written)."""
    span = parse_span(period)
    if by not in BY:
        raise UsageError(f"unknown --by {by!r}; use --by month or --by week.")
    chosen = check_options(formats or ["html", "md"], lang)
    model = evaluate(
        Store(store), span, load_policy(policy), by=by, as_of=as_of, unit=unit, progress=progress
    )
    written = render_evaluation(
        model, formats=chosen, lang=lang, out_dir=out or default_out(span.label)
    )
    return model, written


def summary(model: dict[str, Any]) -> dict[str, Any]:
    """What ``--json`` prints: buckets, the province's last figures, the flags."""
    last = model["province"][-1] if model["province"] else None
    return {
        "span": model["header"]["span"],
        "by": model["header"]["by"],
        "buckets": [b["label"] for b in model["buckets"] if b["audited"]],
        "province": {k: v["value"] for k, v in last["measures"].items()} if last else {},
        "flagged": [
            {
                k: f[k]
                for k in (
                    "unit_code",
                    "bucket",
                    "measure",
                    "difference",
                    "low",
                    "high",
                    "employees",
                )
            }
            for f in model["flagged"]
        ],
    }
