"""One 64-bit hash of several columns, for finding candidate duplicate keys fast.

``pl.struct(cols).hash()`` row-encodes the struct first, which costs about three
times as much as hashing each column on its own.  The columns' hashes, each with
its own seed, are combined with XOR.  A hash only ever nominates candidates:
every caller confirms a match on the key columns themselves, so a collision can
cost time, never a wrong row.
"""

from __future__ import annotations

from functools import reduce
from operator import xor

import polars as pl


def row_hash(columns: list[pl.Expr]) -> pl.Expr:
    """A UInt64 hash of ``columns`` per row (a different seed per position)."""
    if not columns:
        raise ValueError("row_hash needs at least one column")
    return reduce(xor, [c.hash(seed=1 + i) for i, c in enumerate(columns)])
