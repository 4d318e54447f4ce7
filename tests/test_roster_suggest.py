"""The suggested correction: the fewest moves per day, losses as even as possible."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest

from wfhaudit.roster.suggest import needed_moves, spread


@pytest.mark.parametrize(
    ("wfh", "headcount", "cap", "moves"),
    [
        (3, 4, 0.5, 1),  # 3/4 -> 2/4 = 50%
        (11, 19, 0.5, 2),  # 11/19 -> 9/19 (10/19 is still over)
        (5, 9, 0.5, 1),
        (2, 3, 0.5, 1),
        (10, 20, 0.5, 0),  # exactly at the cap is within it
        (7, 7, 1.0, 0),
        (7, 7, 0.0, 7),
        (0, 0, 0.5, 0),
    ],
)
def test_needed_moves_reach_the_cap_exactly(wfh: int, headcount: int, cap: float,
                                            moves: int) -> None:
    assert needed_moves(wfh, headcount, cap) == moves
    if moves:
        assert (wfh - moves) / headcount <= cap < (wfh - moves + 1) / headcount


def test_a_chain_of_swaps_evens_out_what_the_first_pass_does_not() -> None:
    # day 1: A or B; day 2: only A. The first pass takes A on day 1 (A has more WFH days),
    # then must take A again on day 2; rebalancing gives day 1 to B.
    days = [(("U1", 1), 1, ["A", "B"]), (("U1", 2), 1, ["A"])]
    chosen = spread(days, {"A": 2, "B": 1})
    assert chosen == {("U1", 1): {"B"}, ("U1", 2): {"A"}}


def _losses(picks) -> list[int]:
    """The losses, largest first (the vector the spread makes as small as possible)."""
    return sorted(Counter(n for pick in picks for n in pick).values(), reverse=True)


def _best_losses(days) -> list[int]:
    return min(
        _losses(picks)
        for picks in itertools.product(
            *[list(itertools.combinations(sorted(c), k)) for _, k, c in days]
        )
    )


@pytest.mark.parametrize("seed", range(60))
def test_the_losses_are_as_even_as_possible(seed: int) -> None:
    rnd = random.Random(seed)
    people = [f"P{i}" for i in range(rnd.randint(2, 5))]
    days = []
    for d in range(rnd.randint(1, 5)):
        candidates = rnd.sample(people, rnd.randint(1, len(people)))
        days.append((("U1", d), rnd.randint(1, len(candidates)), candidates))
    wfh_days = {p: sum(p in c for _, _, c in days) for p in people}
    chosen = spread(days, wfh_days)
    for key, k, candidates in days:
        assert len(chosen[key]) == k and chosen[key] <= set(candidates)
    # the largest loss is the smallest possible, then the next largest, and so on
    assert _losses(chosen.values()) == _best_losses(days)
