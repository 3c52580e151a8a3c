"""`chaosctl bench experiments`: the real `chaos run` of experiments/*.json against the live stack, journal by journal.

Chaos Toolkit runs from its own virtualenv (.venv-ctk: its library is also imported as `chaoslib`)
and reaches the game only as the experiments say: `chaosctl` through its process provider and
Prometheus's HTTP API. Each run starts on a steady stack (the SLOs met, no page active) and is
summed up from Chaos Toolkit's journal: the hypothesis before, the method, the hypothesis after
(which probes broke), the rollback, the journal's status, and whether any fault is left.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from chaoslib import config
from chaoslib.engine.injector import active_faults
from chaoslib.errors import UsageError
from chaoslib.game.steady import alert_problems, slo_problems, wait_until
from chaoslib.observe.metrics import Metrics
from chaoslib.progress import Progress
from chaoslib.stack import Stack

#: Chaos Toolkit's command, in the virtualenv `make venv-ctk` makes.
CHAOS = config.REPO_ROOT / ".venv-ctk" / "bin" / "chaos"
EXPERIMENTS = config.REPO_ROOT / "experiments"
#: How long a run may take (the longest method pauses 30 s; a rollback waits for its heal).
RUN_TIMEOUT_S = 420.0


def experiment_path(scenario: str, directory: Path = EXPERIMENTS) -> Path:
    """The experiment file of a scenario, or a one-line UsageError naming what exists."""
    path = directory / f"{scenario}.json"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.json")))
        raise UsageError(f"no experiment for {scenario!r} in {directory}: there are {known}",
                         hint="`make experiments` writes one per scenario")
    return path


def summary(journal: dict[str, Any]) -> dict[str, Any]:
    """What a Chaos Toolkit journal says, as plain data: each phase's status and the probes that broke."""
    before, after = journal["steady_states"].get("before") or {}, journal["steady_states"].get("after") or {}
    return {
        "status": journal["status"],
        "deviated": bool(journal.get("deviated")),
        "before_met": before.get("steady_state_met"),
        "method": [r["status"] for r in journal.get("run", [])],
        "after_met": after.get("steady_state_met"),
        "broken": sorted(p["activity"]["name"] for p in after.get("probes", []) if not p["tolerance_met"]),
        "rollbacks": [r["status"] for r in journal.get("rollbacks", [])],
        "duration_s": journal.get("duration"),
    }


def chaos_run(stack: Stack, path: Path, workdir: Path, *,
              chaos: Path = CHAOS) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None]:
    """`chaos run` one experiment file against `stack` (its state dir, backend and Prometheus in the environment
    the experiment's chaosctl and probes read), in `workdir`; the process and its journal (None: none written)."""
    env = config.environment(CHAOSCTL_STATE_DIR=str(stack.settings.state_dir), CHAOSCTL_BACKEND=stack.backend.name,
                             CHAOSCTL_BIN=str(Path(sys.executable).parent / "chaosctl"),
                             CHAOSCTL_PROMETHEUS_URL=stack.endpoint("prometheus"))
    journal = workdir / "journal.json"
    proc = subprocess.run([str(chaos), "--no-version-check", "--settings", str(workdir / "settings.yaml"),
                           "run", "--journal-path", str(journal), str(path)],
                          capture_output=True, text=True, timeout=RUN_TIMEOUT_S, cwd=workdir, env=env)
    return proc, json.loads(journal.read_text()) if journal.exists() else None


def run_one(stack: Stack, scenario: str, *, chaos: Path = CHAOS, progress: Progress = print) -> dict[str, Any]:
    """Wait for a steady stack, `chaos run` the scenario's experiment, and sum up its journal."""
    path = experiment_path(scenario)
    metrics = Metrics(stack.endpoint("prometheus"))
    left = wait_until(lambda: slo_problems(stack, metrics) + alert_problems(stack, severity="page"),
                      timeout=300, progress=progress, what=f"a steady stack before {scenario}")
    if left:
        raise UsageError(f"the stack did not settle before {scenario}: {'; '.join(left[:3])}",
                         hint="`chaosctl panic`, then look at `chaosctl status`")
    with tempfile.TemporaryDirectory(prefix="chaos-run-") as tmp:
        t0 = time.monotonic()
        proc, journal = chaos_run(stack, path, Path(tmp), chaos=chaos)
        if journal is None:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise UsageError(f"`chaos run` of {scenario} wrote no journal (exit {proc.returncode}): {tail}")
        out = summary(journal)
    out.update(scenario=scenario, exit_code=proc.returncode, wall_s=time.monotonic() - t0,
               faults_left=[f.id for f in active_faults(stack)])
    return out


def run_experiments(stack: Stack, scenarios: Iterable[str], *, chaos: Path = CHAOS,
                    progress: Progress = print) -> list[dict[str, Any]]:
    """`chaos run` each scenario's experiment in turn; one summary each."""
    if not chaos.exists():
        raise UsageError("Chaos Toolkit is not installed in .venv-ctk", hint="run `make venv-ctk`")
    names = list(scenarios)
    for name in names:
        experiment_path(name)  # every name checked before the first run
    results = []
    for name in names:
        progress(f"chaos run experiments/{name}.json")
        r = run_one(stack, name, chaos=chaos, progress=progress)
        progress(line(r))
        results.append(r)
    return results


def line(r: dict[str, Any]) -> str:
    """One run as a line of the bench's table."""
    def met(v: object) -> str:
        return "met" if v is True else "deviated" if v is False else "-"
    return (f"  {r['scenario']:<18} before {met(r['before_met']):<8} method {','.join(r['method']) or '-':<9} "
            f"after {met(r['after_met']):<8} broken {','.join(r['broken']) or '-':<52} "
            f"rollback {','.join(r['rollbacks']) or '-':<9} journal {r['status']}"
            f"{' (deviated)' if r['deviated'] else ''}, exit {r['exit_code']}, {r['wall_s']:.0f} s, "
            f"faults left {len(r['faults_left'])}")
