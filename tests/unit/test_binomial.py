"""The loss tests' bounds: they hold the true share and leave out the wrong ones, neighbouring bands included."""
from __future__ import annotations

import random

from binomial import ATTEMPTS, band_middles, bounds, neighbours, outside, separates


def test_bounds_hold_simulated_counts():
    """Two thousand simulated runs of the loss tests' attempts at 20 % all fall inside the bounds."""
    rng = random.Random(7)
    lo, hi = bounds(ATTEMPTS, 0.2)
    assert all(lo <= sum(rng.random() < 0.2 for _ in range(ATTEMPTS)) <= hi for _ in range(2_000))


def test_bounds_tell_a_fraction_from_its_complement_and_from_half():
    """20 % and 80 % each exclude 50 % and each other; ten attempts could not."""
    assert separates(ATTEMPTS, 0.2, (0.5, 0.8)) and separates(ATTEMPTS, 0.8, (0.5, 0.2))
    assert not separates(10, 0.2, (0.5,))


def test_the_attempts_tell_each_difficulty_band_from_its_neighbours():
    """The bounds of each band's middle (from the catalogue) leave out every other band's middle; the 80
    attempts the tests made before could not (a 20 % rule passed anywhere from 3 to 44 %)."""
    middles = band_middles("lb-loss")
    assert len(middles) == 3
    for difficulty, p in middles.items():
        for q in neighbours(middles, difficulty):
            assert outside(round(ATTEMPTS * q), ATTEMPTS, p), (difficulty, p, q)
    hard, normal = middles["hard"], middles["normal"]
    assert not outside(round(80 * normal), 80, hard)
