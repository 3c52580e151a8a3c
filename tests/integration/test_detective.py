"""The detective names the fault from what the player can see: ten seeds per family.

This is the proof that every scenario is solvable from the signals the notebooks show.
The protocol (first stable verdict, evidence windows cut at the game's start) is
chaoslib.bench.trials, the same one `chaosctl bench detective` runs.
"""
from __future__ import annotations

import time

import pytest

from chaoslib.game import detective
from chaoslib.bench.faults import recovered
from chaoslib.engine.injector import panic
from chaoslib.bench.trials import run_trials

from .helpers import wait_until

pytestmark = pytest.mark.integration

SEEDS = 10


@pytest.mark.parametrize("family", ["network", "disk", "resources"])
def test_detective_names_family_and_targets_in_nine_of_ten(live_stack, family, capsys):
    """Over ten seeded games of one family, the detective's verdict is exactly right in nine or more."""
    with capsys.disabled():  # each verdict is a figure for the closing note: show it
        trials = run_trials(live_stack, seeds=SEEDS, families=(family,),
                            progress=lambda line: print(f"\n[detective] {line}", end="", flush=True))[family]
    right = [t for t in trials if t.right]
    assert len(right) >= 9, "\n".join(t.line() for t in trials)
    assert {s for t in trials for s in t.scenarios} >= {"network": {"db-cutoff", "lb-cutoff", "lb-loss"},
                                                       "disk": {"disk-full", "disk-crashloop"},
                                                       "resources": {"cpu-starve", "memory-starve"}}[family]


def test_a_healthy_stack_has_no_suspect(live_stack):
    """With no fault injected, asked every 5 s over a window longer than its loss evidence, the detective names nothing."""
    panic(live_stack)
    assert wait_until(lambda: recovered(live_stack), timeout=180, interval=1)
    since = time.time()
    # Packet loss is named only on LOSS_EVIDENCE_S of evidence: watch well past it, as a game would.
    window = detective.LOSS_EVIDENCE_S + 20
    time.sleep(15)
    while time.time() - since < window:
        h = detective.diagnose(detective.Signals.gather(live_stack, since=since))
        assert (h.family, h.targets) == (None, []), (round(time.time() - since), h.evidence)
        time.sleep(5)
