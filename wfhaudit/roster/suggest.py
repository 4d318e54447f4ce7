"""The suggested correction: the fewest WFH days to turn to WFO, shared out fairly.

1. Every WFH entry on an agency-day the engine finds ``WFH_NOT_ALLOWED`` turns
   to WFO: the policy leaves no choice there.
2. Where such an agency-day is also over the cap, the engine plans it again
   with those entries corrected.  On every agency-day it then finds
   ``WFH_QUOTA_EXCEEDED`` (``wfh / headcount >
   max_share``), exactly ``needed_moves`` WFH employee-days turn to WFO: the
   smallest number that brings the share within ``max_share``, compared as the
   engine compares it (so the day ends exactly at the cap, never below).
   Which employees: the day's planned-WFH staff not on leave (those the
   engine's WFH count is made of).
3. Who is moved is decided for the whole month at once.  A first pass goes day
   by day (agency, date) and moves the employees who have lost the fewest days
   so far, then those with the most WFH days left, then by NIP.  A second pass
   rebalances: while some employee A has lost at least two days more than some
   employee B who could take one of A's moves (directly, or through a chain of
   swaps on other days), the move passes along the chain.  At the end no such
   chain exists, which is the condition for the losses to be as even as
   possible: the largest loss is the smallest any correction of the same size
   can have, and so on down (the loss vectors of all corrections are the bases
   of a polymatroid, where this local condition is the optimum).
4. The engine plans the agencies and dates with a move a last time, every move
   applied; the correction is ``verified`` when it finds no ``WFH_QUOTA_EXCEEDED``
   or ``WFH_NOT_ALLOWED`` there (the other agency-days had none and are unchanged).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict, deque
from dataclasses import dataclass

import polars as pl

from wfhaudit.audit.inputs import AuditInputs
from wfhaudit.policy.model import Policy
from wfhaudit.roster.plan import NOT_ON_LEAVE, Plan, plan_month, with_roster

MOVE_SCHEMA = pl.Schema(
    {
        "unit_code": pl.String(),
        "date": pl.Date(),
        "nip": pl.String(),
        "source": pl.String(),  # roster (an entry to change) or default (an entry to add)
        "reason": pl.String(),  # WFH_NOT_ALLOWED or WFH_QUOTA_EXCEEDED
    }
)


@dataclass(frozen=True)
class Suggestion:
    """The suggested correction of the checked agencies."""

    #: one row per employee-day to turn from WFH to WFO (MOVE_SCHEMA), sorted
    moves: pl.DataFrame
    #: per over-cap agency-day: ``over``, the number of WFH days to move
    needed: pl.DataFrame
    #: the engine finds no plan break in the checked agencies after the correction
    verified: bool


def needed_moves(wfh: int, headcount: int, max_share: float) -> int:
    """The fewest WFH days to move so that ``(wfh - k) / headcount <= max_share``.

    Compared in floating point exactly as the audit compares the share.
    """
    if headcount <= 0 or wfh / headcount <= max_share:
        return 0
    k = max(0, wfh - int(max_share * headcount) - 1)
    while k > 0 and not (wfh - (k - 1)) / headcount > max_share:
        k -= 1
    while (wfh - k) / headcount > max_share:
        k += 1
    return k


def _apply(roster: pl.DataFrame, moves: pl.DataFrame) -> pl.DataFrame:
    """``roster`` (nip, date, mode) with every move's employee-day set to WFO."""
    if moves.height == 0:
        return roster
    changed = moves.select("nip", "date", pl.lit("WFO").alias("mode"))
    kept = roster.join(changed.select("nip", "date"), on=["nip", "date"], how="anti")
    return pl.concat([kept.select("nip", "date", "mode"), changed], how="vertical")


def spread(
    days: list[tuple[tuple[str, object], int, list[str]]], wfh_days: dict[str, int]
) -> dict[tuple[str, object], set[str]]:
    """Choose ``k`` employees of each day's candidates; losses as even as possible.

    ``days``: ``(key, k, candidates)`` per day; ``wfh_days``: each candidate's
    planned WFH days in the month.  See the module docstring (steps 3).
    """
    lost: dict[str, int] = defaultdict(int)
    chosen: dict[tuple[str, object], set[str]] = {}
    for key, k, candidates in sorted(days, key=lambda d: d[0]):  # type: ignore[arg-type,return-value]
        order = sorted(candidates, key=lambda n: (lost[n], -(wfh_days.get(n, 0) - lost[n]), n))
        chosen[key] = set(order[:k])
        for nip in order[:k]:
            lost[nip] += 1
    _rebalance(days, chosen, lost)
    return chosen


def _rebalance(
    days: list[tuple[tuple[str, object], int, list[str]]],
    chosen: dict[tuple[str, object], set[str]],
    lost: dict[str, int],
) -> None:
    """Pass moves along swap chains from employees who lost 2+ more than another."""
    candidates = {key: sorted(c) for key, _, c in days}
    days_of: dict[str, list[tuple[str, object]]] = defaultdict(list)
    for key in sorted(chosen):  # type: ignore[type-var]
        for nip in chosen[key]:
            days_of[nip].append(key)
    by_level: dict[int, set[str]] = defaultdict(set)
    for nip, n in lost.items():
        by_level[n].add(nip)
    improved = True
    while improved:  # passes from the top level down, until one changes nothing
        improved = False
        level = max(lost.values(), default=0)
        while level >= 2:
            path = _find_chain(sorted(by_level[level]), level, candidates, chosen, days_of, lost)
            if path is None:
                level -= 1
                continue
            for giver, key, taker in path:
                chosen[key].discard(giver)
                chosen[key].add(taker)
                days_of[giver].remove(key)
                days_of[taker].append(key)
            first, last = path[0][0], path[-1][2]
            for nip, change in ((first, -1), (last, 1)):
                by_level[lost[nip]].discard(nip)
                lost[nip] += change
                by_level[lost[nip]].add(nip)
            improved = True


def _find_chain(
    starts: list[str],
    level: int,
    candidates: dict[tuple[str, object], list[str]],
    chosen: dict[tuple[str, object], set[str]],
    days_of: dict[str, list[tuple[str, object]]],
    lost: dict[str, int],
) -> list[tuple[str, tuple[str, object], str]] | None:
    """A chain of swaps from an employee who lost ``level`` to one who lost ``<= level-2``.

    Breadth first from ``starts``, every employee at ``level``: from an employee, a day they
    were moved on, to another candidate of that day not moved that day.  Each
    employee and each day is visited once (a day's other candidates are all
    reached the first time it is), so the search is linear in the candidates and
    the swaps of the chain can be applied in order.
    """
    parent: dict[str, tuple[str, tuple[str, object]] | None] = {n: None for n in starts}
    seen_days: set[tuple[str, object]] = set()
    queue = deque(starts)
    while queue:
        giver = queue.popleft()
        for key in days_of[giver]:
            if key in seen_days:
                continue
            seen_days.add(key)
            moved = chosen[key]
            for taker in candidates[key]:
                if taker in moved or taker in parent:
                    continue
                parent[taker] = (giver, key)
                if lost.get(taker, 0) <= level - 2:
                    chain = []
                    node = taker
                    while (step := parent[node]) is not None:
                        chain.append((step[0], step[1], node))
                        node = step[0]
                    return chain[::-1]
                queue.append(taker)
    return None


def _only(
    inputs: AuditInputs, plan: Plan, where: pl.DataFrame, cal: pl.DataFrame
) -> tuple[AuditInputs, pl.DataFrame]:
    """``inputs`` and ``cal`` reduced to the agencies and dates of ``where``.

    Every employee with an employee-day in those agencies is kept, with all their
    rows, on every date of ``where``: the engine then gives those agencies' days
    exactly as with everybody and every day (each agency-day rule looks at one day).
    """
    units = where.get_column("unit_code").unique().implode()
    nips = (
        plan.employee_days.filter(pl.col("unit_code").is_in(units))
        .get_column("nip")
        .unique()
        .implode()
    )
    dates = where.get_column("date").unique().implode()
    reduced = dataclasses.replace(
        inputs, employees=inputs.employees.filter(pl.col("nip").is_in(nips))
    )
    return reduced, cal.filter(pl.col("date").is_in(dates))


#: The employee-day columns the suggestion reads.
_COLUMNS = ("unit_code", "date", "nip", "status", "roster_mode", "planned_mode")


def suggest_correction(
    inputs: AuditInputs, policy: Policy, cal: pl.DataFrame, plan: Plan, units: list[str]
) -> Suggestion:
    """The suggested correction of ``units``' plan (see the module docstring)."""
    mine = pl.col("unit_code").is_in(units)
    quota_rule = pl.col("rule") == "WFH_QUOTA_EXCEEDED"
    roster = inputs.roster.collect().select("nip", "date", "mode")
    keys = ["unit_code", "date"]
    not_allowed = plan.findings.filter(mine & (pl.col("rule") == "WFH_NOT_ALLOWED"))
    forced = (
        plan.employee_days.join(not_allowed.select(keys), on=keys, how="semi")
        .filter(pl.col("roster_mode") == "WFH")
        .select(*keys, "nip", pl.lit("roster").alias("source"))
        .with_columns(pl.lit("WFH_NOT_ALLOWED").alias("reason"))
    )
    over = plan.findings.filter(mine & quota_rule)
    employee_days = plan.employee_days.select(_COLUMNS)
    # the forced moves change only their own agency-days: plan again only where such a
    # day is also over the cap (whether the share counted them depends on the engine)
    both = over.join(not_allowed.select(keys), on=keys, how="semi").select(keys)
    if both.height:
        reduced, some_days = _only(with_roster(inputs, _apply(roster, forced)), plan, both, cal)
        again = plan_month(reduced, policy, some_days)
        over = pl.concat(
            [
                over.join(both, on=keys, how="anti"),
                again.findings.filter(quota_rule).join(both, on=keys, how="semi"),
            ]
        )
        employee_days = pl.concat(
            [
                employee_days.join(both, on=keys, how="anti"),
                again.employee_days.select(_COLUMNS).join(both, on=keys, how="semi"),
            ]
        )
    over = over.join(plan.unit_days.select(*keys, "max_share"), on=keys)
    needed = over.select(
        *keys,
        pl.struct("count", "headcount", "max_share")
        .map_elements(
            lambda r: needed_moves(r["count"], r["headcount"], r["max_share"]),
            return_dtype=pl.Int64,
        )
        .alias("over"),
    )
    wfh = employee_days.filter(mine & NOT_ON_LEAVE & (pl.col("planned_mode") == "WFH")).join(
        forced.select(*keys, "nip"), on=[*keys, "nip"], how="anti"
    )
    pool = wfh.join(needed.select(keys), on=keys, how="semi")
    groups = {
        (u, d): nips
        for u, d, nips in pool.group_by(keys).agg(pl.col("nip").sort()).iter_rows()
    }
    wfh_days = dict(wfh.group_by("nip").len().iter_rows())
    days = []
    for u, d, k in needed.iter_rows():
        candidates = groups.get((u, d), [])
        if len(candidates) < k:  # the engine's WFH count is made of these rows
            raise RuntimeError(f"{u} {d}: {len(candidates)} WFH candidates for {k} moves")
        days.append(((u, d), k, candidates))
    chosen = spread(days, wfh_days)
    picked = pl.DataFrame(
        [(u, d, n) for (u, d), nips in chosen.items() for n in nips],
        schema={"unit_code": pl.String, "date": pl.Date, "nip": pl.String},
        orient="row",
    )
    quota = picked.join(
        employee_days.select(*keys, "nip", "roster_mode"), on=[*keys, "nip"], how="left"
    ).select(
        *keys,
        "nip",
        pl.when(pl.col("roster_mode").is_null())
        .then(pl.lit("default"))
        .otherwise(pl.lit("roster"))
        .alias("source"),
        pl.lit("WFH_QUOTA_EXCEEDED").alias("reason"),
    )
    moves = (
        pl.concat([forced, quota], how="vertical")
        .select([pl.col(c).cast(t) for c, t in MOVE_SCHEMA.items()])
        .sort("unit_code", "date", "nip")
    )
    if moves.height == 0:
        verified = plan.findings.filter(mine).height == 0
    else:
        reduced, some_days = _only(with_roster(inputs, _apply(roster, moves)), plan, moves, cal)
        verified = plan_month(reduced, policy, some_days).findings.filter(mine).height == 0
    return Suggestion(moves=moves, needed=needed, verified=verified)
