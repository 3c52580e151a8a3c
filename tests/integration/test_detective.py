"""The detective names the fault from what the player can see: a seed per scenario (ten per family in `make bench`).

This is the proof that every scenario is solvable from the signals the notebooks show.
The protocol (first stable verdict, evidence windows cut at the game's start) is
chaoslib.bench.trials, the same one `chaosctl bench detective` runs.
"""
from __future__ import annotations

import time

import pytest

from chaoslib.bench.faults import recovered
from chaoslib.bench.trials import run_trials
from chaoslib.engine.injector import panic
from chaoslib.game import detective
from chaoslib.observe.metrics import Metrics

from .helpers import wait_until

pytestmark = pytest.mark.integration

#: Seeds per family here, one per scenario of the family (seen in docs/bench-detective.txt): each must be
#: named exactly. Ten seeds per family (nine right or better) are `chaosctl bench detective --seeds 10`
#: in `make bench`: they took about 15 of the suite's minutes.
SEEDS = {"network": (1, 5, 10), "disk": (1, 5), "resources": (1, 5)}
SCENARIOS = {"network": {"db-cutoff", "lb-cutoff", "lb-loss"}, "disk": {"disk-full", "disk-crashloop"},
             "resources": {"cpu-starve", "memory-starve"}}


@pytest.mark.parametrize("family", ["network", "disk", "resources"])
def test_detective_names_family_and_targets(live_stack, family, capsys):
    """One seeded game per scenario of the family: the detective's settled verdict is exactly the truth in each."""
    with capsys.disabled():  # each verdict is a figure for the closing note: show it
        trials = run_trials(live_stack, seeds=SEEDS[family], families=(family,),
                            progress=lambda line: print(f"\n[detective] {line}", end="", flush=True))[family]
    assert len(trials) == len(SEEDS[family]) and all(t.right for t in trials), "\n".join(t.line() for t in trials)
    assert {s for t in trials for s in t.scenarios} == SCENARIOS[family]


def test_a_healthy_stack_has_no_suspect(live_stack):
    """With no fault injected, asked every 5 s over a window longer than its loss evidence, the detective names nothing."""
    panic(live_stack)
    assert wait_until(lambda: recovered(live_stack), timeout=180, interval=1)
    since = time.time()
    # Packet loss is named only on LOSS_EVIDENCE_S of evidence: watch well past it, as a game would.
    window = detective.LOSS_EVIDENCE_S + 20
    metrics = Metrics(live_stack.endpoint("prometheus"))
    time.sleep(15)
    while time.time() - since < window:
        h = detective.investigate(live_stack, metrics=metrics, since=since)
        assert (h.family, h.targets) == (None, []), (round(time.time() - since), h.evidence)
        time.sleep(5)
