"""What ``wfhaudit audit`` (and ``run``) do, as library calls the CLI wraps.

``plan_command(...)`` parses and checks every option before any work (a typo
costs no audit: ``UsageError``, exit 2); ``run_command(command, store)`` runs
the planned audit through the pipeline (``wfhaudit.audit.run.execute``),
opening the Dask cluster of ``--cluster`` around it.
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from wfhaudit.audit.period import parse_period
from wfhaudit.audit.run import AuditPlan, AuditResult, Execution, Progress, execute
from wfhaudit.audit.summary import parse_fail_on
from wfhaudit.errors import UsageError
from wfhaudit.policy import load_policy
from wfhaudit.store import Store

#: Where results go by default (cli.md): ``reports/out/<period>/``.
DEFAULT_OUT_ROOT = Path("reports") / "out"


@dataclass(frozen=True)
class AuditCommand:
    """A checked ``audit``/``run`` command line: the plan, thresholds, the cluster to use."""

    plan: AuditPlan
    thresholds: dict[str, int]
    #: ("local", N) or ("connect", "tcp://HOST:PORT"); None: no cluster
    cluster: tuple[str, int | str] | None = None


def parse_as_of(as_of: str | None) -> dt.date | None:
    """``--as-of YYYY-MM-DD`` as a date (None: today in WIB, decided by the audit)."""
    if as_of is None:
        return None
    try:
        return dt.date.fromisoformat(as_of.strip())
    except ValueError:
        raise UsageError(f"bad --as-of {as_of!r}: write a date as YYYY-MM-DD.") from None


def parse_partition_days(value: str | int | None) -> int | None:
    """``--partition-days``: ``auto`` (None: chosen from the store's size), 0 (in memory) or N."""
    text = str(value if value is not None else "auto").strip().lower()
    if text == "auto":
        return None
    if not text.isdigit():
        raise UsageError(
            f"bad --partition-days {value!r}: write auto, 0 (all days in memory) or a number "
            "of days per chunk such as 1."
        )
    return int(text)


def parse_cluster(cluster: str | None) -> tuple[str, int | str] | None:
    """``--cluster local:N`` or ``tcp://HOST:PORT`` as ("local", N) / ("connect", address)."""
    if cluster is None:
        return None
    from wfhaudit import cluster as dask_cluster

    text = cluster.strip()
    if text.startswith("local:") and text[6:].isdigit() and int(text[6:]) > 0:
        parsed: tuple[str, int | str] = ("local", int(text[6:]))
    elif text.startswith("tcp://") and len(text) > 6:
        parsed = ("connect", text)
    else:
        raise UsageError(
            f"bad --cluster {cluster!r}: write local:N (e.g. local:2) or tcp://HOST:PORT."
        )
    if not dask_cluster.available():
        raise UsageError(
            "--cluster needs Dask distributed: install it with pip install 'wfhaudit[cluster]'."
        )
    return parsed


def check_unit(store: Store, unit: str | None) -> str | None:
    """The agency code of ``--unit`` as the store spells it; ``UsageError`` when no employee
    of the store belongs to it (a store without employees is left to the audit's error)."""
    if unit is None or not store.exists("employees"):
        return unit
    units = (
        store.scan("employees").select(pl.col("unit_code").unique().sort()).collect()
    ).get_column("unit_code").drop_nulls().to_list()
    if unit in units:
        return unit
    same = [u for u in units if u.casefold() == unit.strip().casefold()]
    if len(same) == 1:
        return str(same[0])
    shown = ", ".join(units[:20]) + (", ..." if len(units) > 20 else "")
    raise UsageError(
        f"unknown --unit {unit!r}: no employee of the store belongs to it (agencies: "
        f"{shown or 'none'}); check the code."
    )


def plan_command(
    period: str,
    *,
    policy: Path | None = None,
    out: Path | None = None,
    as_of: str | None = None,
    fail_on: list[str] | None = None,
    partition_days: str | int | None = "auto",
    cluster: str | None = None,
    work_dir: Path | None = None,
) -> AuditCommand:
    """Parse and check every audit option; nothing runs yet."""
    audit_period = parse_period(period)
    thresholds = parse_fail_on(fail_on)
    days = parse_partition_days(partition_days)
    plan = AuditPlan(
        period=audit_period,
        policy=load_policy(policy),
        out_dir=out or DEFAULT_OUT_ROOT / audit_period.label,
        as_of=parse_as_of(as_of),
        execution=Execution(partition_days=days, work_dir=work_dir),
    )
    return AuditCommand(plan, thresholds, parse_cluster(cluster))


def run_command(
    command: AuditCommand, store: Store, progress: Progress | None = None
) -> AuditResult:
    """Run the planned audit (on the Dask cluster of ``--cluster`` when one is given)."""
    from wfhaudit import cluster as dask_cluster

    opened: AbstractContextManager[Any] = nullcontext()
    if command.cluster is not None:
        how, where = command.cluster
        opened = (
            dask_cluster.local_cluster(n_workers=int(where))
            if how == "local"
            else dask_cluster.connect(str(where))
        )
    with opened as executor:
        plan = command.plan
        if executor is not None:
            plan = replace(plan, execution=replace(plan.execution, executor=executor))
        return execute(plan, store, progress)
