"""The detective names the fault from what the player can see (one case per family here)."""
from __future__ import annotations

import pytest

from chaoslib import detective, game
from chaoslib.injector import inject, panic

from .helpers import all_healthy, wait_until

pytestmark = pytest.mark.integration

CASES = [
    ("disk-full", ["app2"], {}, "disk"),
    ("memory-starve", ["app3"], {"memory_mb": 16}, "resources"),
    ("cpu-starve", ["app1"], {"cpu": 0.02}, "resources"),
    ("db-cutoff", ["app1"], {}, "network"),
    ("lb-cutoff", ["app3"], {}, "network"),
    ("lb-loss", ["app2"], {"fraction": 0.6}, "network"),
]


@pytest.fixture
def healthy(live_stack):
    wait_until(lambda: all_healthy(live_stack), timeout=120)
    # Signals look back a few minutes: start from a clean slate of evidence.
    wait_until(lambda: detective.investigate(live_stack, minutes=2).family is None, timeout=240, interval=5)
    yield live_stack
    panic(live_stack)
    game.abandon(live_stack, reason="test")


@pytest.mark.parametrize("scenario,targets,params,family", CASES, ids=[c[0] for c in CASES])
def test_detective_names_family_and_targets(healthy, scenario, targets, params, family):
    """Within 90 s of the injection the detective names the right family and the right replicas."""
    inject(healthy, scenario, targets=targets, params=params)

    def named():
        h = detective.investigate(healthy, minutes=2)
        return h if h.family == family and h.targets == targets else None
    h = wait_until(named, timeout=90, interval=5)
    assert h.evidence and h.cause
