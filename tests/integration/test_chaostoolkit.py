"""The real `chaos run` of experiments/lb-cutoff.json (and deploy-bad-votes.json, through `bench experiments`)
against the live stack, and its journal.

Chaos Toolkit runs from its own virtualenv (.venv-ctk: its library is also imported as `chaoslib`)
and reaches the game only through `chaosctl` and Prometheus's HTTP API. Cutting app2 off from the
load balancer takes it out of rotation within seconds: the hypothesis holds before, the method's
injection succeeds, the hypothesis deviates after the pause, and the rollback heals exactly that
fault (by the tag the injection carried). About a minute.
"""
from __future__ import annotations

import json

import pytest

from chaoslib import config
from chaoslib.bench import experiments
from chaoslib.engine.injector import active_faults
from chaoslib.game.steady import slo_problems
from chaoslib.kernel import nft
from chaoslib.observe.metrics import Metrics
from pollapp import releases
from skips import skip_or_fail

from .helpers import wait_until

pytestmark = pytest.mark.integration
CHAOS = experiments.CHAOS
EXPERIMENT = config.REPO_ROOT / "experiments" / "lb-cutoff.json"


def test_chaos_run_deviates_while_app2_is_cut_off_and_the_rollback_heals(clean, tmp_path):
    """Journal: hypothesis met before, injection succeeded, deviated after, rollback succeeded; nothing left."""
    if not CHAOS.exists():
        skip_or_fail("Chaos Toolkit is not installed in .venv-ctk (`make venv-ctk`, which `make test` runs)")
    prometheus = clean.endpoint("prometheus")
    metrics = Metrics(prometheus)
    probes = json.loads(EXPERIMENT.read_text())["steady-state-hypothesis"]["probes"]
    # Steady as the game sees it and as the probes ask it (a recording rule lags its series by a beat).
    wait_until(lambda: not slo_problems(clean, metrics)
               and all(len(metrics.query(p["provider"]["arguments"]["query"])) == 1 for p in probes),
               timeout=120, interval=2, what="the SLOs met")
    # The experiment's chaosctl is this venv's, on the test stack's state dir (it reads CHAOSCTL_STATE_DIR).
    proc, j = experiments.chaos_run(clean, EXPERIMENT, tmp_path)
    assert j is not None, f"no journal:\n{proc.stdout}\n{proc.stderr}"
    log = f"\n{proc.stderr[-3000:]}"
    assert j["steady_states"]["before"]["steady_state_met"] is True, log
    (run,) = j["run"]
    assert run["activity"]["name"] == "inject-lb-cutoff" and run["status"] == "succeeded", log
    assert run["output"]["status"] == 0 and "injected f-" in run["output"]["stdout"], run["output"]
    after = j["steady_states"]["after"]
    assert after["steady_state_met"] is False, log
    broken = {p["activity"]["name"] for p in after["probes"] if not p["tolerance_met"]}
    assert "every-replica-in-rotation" in broken, after["probes"]
    # Chaos Toolkit's journal says a run that went through is "completed" and flags the deviation apart.
    assert j["status"] == "completed" and j["deviated"] is True, log
    assert "Experiment ended with status: deviated" in proc.stderr
    (rollback,) = j["rollbacks"]
    assert rollback["status"] == "succeeded" and rollback["output"]["status"] == 0, rollback["output"]
    healed = run["output"]["stdout"].split()[1].rstrip(":")  # "injected f-abc123: lb-cutoff on app2 ..."
    assert rollback["output"]["stdout"].startswith(f"healed {healed} (lb-cutoff on app2)"), rollback["output"]
    assert rollback["activity"]["provider"]["arguments"][-2:] == ["--tag", "chaostoolkit-lb-cutoff-app2"]
    assert proc.returncode == 1  # chaos exits 1 when the experiment deviated
    assert not active_faults(clean)
    assert not nft.table_exists()


def test_bench_experiments_runs_a_new_familys_experiment_that_deviates_and_rolls_back(clean):
    """deploy-bad-votes through the bench: the roll breaks the error objective within the method's 30 s, the
    rollback (`chaosctl heal --tag`) rolls app2 back to the current release, and no fault is left."""
    if not CHAOS.exists():
        skip_or_fail("Chaos Toolkit is not installed in .venv-ctk (`make venv-ctk`, which `make test` runs)")
    seen: list[str] = []
    (r,) = experiments.run_experiments(clean, ["deploy-bad-votes"], progress=seen.append)
    assert r["before_met"] is True and r["method"] == ["succeeded"], r
    assert r["after_met"] is False and "error-ratio-within-slo" in r["broken"], r
    assert r["status"] == "completed" and r["deviated"] is True and r["exit_code"] == 1, r
    assert r["rollbacks"] == ["succeeded"] and r["faults_left"] == [], r
    assert clean.backend.release(target="app2") == releases.CURRENT
    assert seen[0] == "chaos run experiments/deploy-bad-votes.json" and "journal completed (deviated)" in seen[-1]
