"""Bounds for counts of random events (dropped packets), tight enough to tell 20 % from 50 % or 80 %."""
from __future__ import annotations

from math import comb

from chaoslib.faults import SCENARIOS


def bounds(n: int, p: float, *, alpha: float = 1e-6) -> tuple[int, int]:
    """The smallest [lo, hi] holding a Binomial(n, p) count with probability at least 1 - alpha.

    A test of a loss rule with fraction p over n attempts fails by chance only once in 1/alpha
    runs, while a rule dropping another share (or 1 - p) falls outside.
    """
    pmf = [comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(n + 1)]
    lo, hi, tail_lo, tail_hi = 0, n, 0.0, 0.0
    while tail_lo + pmf[lo] <= alpha / 2:
        tail_lo += pmf[lo]
        lo += 1
    while tail_hi + pmf[hi] <= alpha / 2:
        tail_hi += pmf[hi]
        hi -= 1
    return lo, hi


def separates(n: int, p: float, others: tuple[float, ...] = (0.25, 0.5), *, alpha: float = 1e-6) -> bool:
    """True when the bounds for p leave out the likeliest count of every other share (and of 1 - p)."""
    lo, hi = bounds(n, p, alpha=alpha)
    return all(not lo <= round(n * q) <= hi for q in (*others, 1 - p) if abs(q - p) > 1e-9)


#: Connection attempts a loss test makes: enough that the bounds of one difficulty band's middle
#: leave out its neighbours' (easy 0.6-0.8, normal 0.45-0.6, hard 0.35-0.45 for lb-loss).
ATTEMPTS = 1000


def band_middles(scenario: str = "lb-loss") -> dict[str, float]:
    """The middle of each difficulty's drawn fraction, from the catalogue (not written here)."""
    return {d: round((s.low + s.high) / 2, 4) for d, s in SCENARIOS[scenario].strength.items()}


def neighbours(middles: dict[str, float], difficulty: str) -> tuple[float, ...]:
    """The other bands' middles, nearest first."""
    p = middles[difficulty]
    return tuple(sorted((q for d, q in middles.items() if d != difficulty), key=lambda q: abs(q - p)))


def outside(count: int, n: int, p: float, *, alpha: float = 1e-6) -> bool:
    """True when `count` would fail a test of a rule with fraction p: the measurement tells p apart."""
    lo, hi = bounds(n, p, alpha=alpha)
    return not lo <= count <= hi
