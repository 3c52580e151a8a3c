"""The loss tests' bounds: they hold the true share and leave out the wrong ones."""
from __future__ import annotations

import random

from binomial import bounds, separates


def test_bounds_hold_simulated_counts():
    """Ten thousand simulated runs of 80 attempts at 20 % all fall inside the bounds."""
    rng = random.Random(7)
    lo, hi = bounds(80, 0.2)
    assert all(lo <= sum(rng.random() < 0.2 for _ in range(80)) <= hi for _ in range(10_000))


def test_bounds_tell_a_fraction_from_its_complement_and_from_half():
    """At 80 attempts, 20 % and 80 % each exclude 25 % or 75 %, 50 % and each other."""
    assert separates(80, 0.2, (0.5, 0.8)) and separates(80, 0.8, (0.5, 0.25))
    assert not separates(10, 0.2, (0.5,))
