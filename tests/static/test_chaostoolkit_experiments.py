"""experiments/: one current Chaos Toolkit experiment per scenario, valid to `chaos validate`, meaning our SLOs.

Chaos Toolkit runs from its own virtualenv (`make venv-ctk`, .venv-ctk/): its library is also
imported as `chaoslib`. These checks need no stack: the files equal a fresh export, Chaos Toolkit's
own validator accepts each (and refuses a broken one), no file names a python provider, the project's
venv holds no chaostoolkit-lib, and promtool shows each probe's PromQL returns one series exactly
when its objective holds (a healthy stack, an idle one) and none when it does not.
"""
from __future__ import annotations

import importlib.metadata
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from chaoslib.cli.main import main
from chaoslib.export import chaostoolkit
from chaoslib.faults import SCENARIOS
from skips import skip_or_fail

from .tooling import run, tool

REPO = Path(__file__).resolve().parents[2]
EXPERIMENTS = REPO / "experiments"
CHAOS = REPO / ".venv-ctk" / "bin" / "chaos"
RECORDING = REPO / "stack" / "prometheus" / "rules" / "recording.yml"


def _files() -> list[Path]:
    return sorted(EXPERIMENTS.glob("*.json"))


def test_one_current_experiment_per_scenario(tmp_path):
    """A fresh `chaosctl export chaostoolkit --all --dir` equals experiments/, file for file."""
    assert main(["export", "chaostoolkit", "--all", "--dir", str(tmp_path)]) == 0
    fresh = {p.name: p.read_text() for p in tmp_path.glob("*.json")}
    kept = {p.name: p.read_text() for p in _files()}
    assert set(fresh) == {f"{name}.json" for name in SCENARIOS}
    stale = sorted(name for name in fresh.keys() | kept.keys() if fresh.get(name) != kept.get(name))
    assert not stale, f"experiments/ is not current ({', '.join(stale)}): run `make experiments`"


def test_no_experiment_imports_python():
    """Every activity runs `chaosctl` (process) or asks Prometheus (http): none is a python provider."""
    assert _files()
    for path in _files():
        doc = json.loads(path.read_text())
        activities = [*doc["steady-state-hypothesis"]["probes"], *doc["method"], *doc["rollbacks"]]
        kinds = {a["provider"]["type"] for a in activities}
        assert kinds <= {"process", "http"}, (path.name, kinds)
        assert '"python"' not in path.read_text() and '"module"' not in path.read_text(), path.name


def test_the_project_venv_has_no_chaostoolkit_lib():
    """Chaos Toolkit's library (import name `chaoslib` too) is only in .venv-ctk, never beside this package."""
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("chaostoolkit-lib")


def _chaos() -> str:
    if not CHAOS.exists():
        skip_or_fail("Chaos Toolkit is not installed in .venv-ctk (`make venv-ctk`, which `make test` runs)")
    return str(CHAOS)


def _validate(chaos: str, path: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([chaos, "--no-version-check", "--no-log-file", "validate", str(path)],
                          capture_output=True, text=True, timeout=60, cwd=cwd)


def test_chaos_validate_accepts_every_experiment(tmp_path):
    """`chaos validate` (Chaos Toolkit's own checks: providers, tolerances, jsonpath) accepts each file."""
    chaos = _chaos()
    assert len(_files()) == len(SCENARIOS)
    for path in _files():
        proc = _validate(chaos, path, tmp_path)
        assert proc.returncode == 0, f"{path.name}:\n{proc.stdout}\n{proc.stderr}"


def test_control_chaos_validate_refuses_a_broken_tolerance(tmp_path):
    """The validator is not a rubber stamp: a probe whose jsonpath does not parse is refused."""
    chaos = _chaos()
    doc = json.loads((EXPERIMENTS / "lb-cutoff.json").read_text())
    doc["steady-state-hypothesis"]["probes"][0]["tolerance"]["path"] = "$.data.result["
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(doc))
    assert _validate(chaos, broken, tmp_path).returncode != 0


# -- what the probes mean, by promtool on the recording rules --------------------------------------------
def _series(errors_per_s: int, p95_slow: bool, app2_up: int, traffic: bool = True) -> list[dict]:
    """Traefik's series at 20 requests/s (5 s apart): a share of 5xx, p95 0.375 s or 0.2 s, app2 up or not."""
    series = [{"series": f'traefik_service_server_up{{service="polls@file",replica="{r}"}}',
               "values": f"{app2_up if r == 'app2' else 1}x60"} for r in ("app1", "app2", "app3")]
    if not traffic:
        return series
    web = 'entrypoint="web"'
    series += [
        {"series": f'traefik_entrypoint_requests_total{{{web},code="200"}}',
         "values": f"0+{5 * (20 - errors_per_s)}x60"},
        {"series": f'traefik_entrypoint_requests_total{{{web},code="500"}}', "values": f"0+{5 * errors_per_s}x60"},
        # Per second: 18 (or all 20) within 0.25 s and all within 0.5 s.
        {"series": f'traefik_entrypoint_request_duration_seconds_bucket{{{web},le="0.25"}}',
         "values": f"0+{90 if p95_slow else 100}x60"},
        {"series": f'traefik_entrypoint_request_duration_seconds_bucket{{{web},le="0.5"}}', "values": "0+100x60"},
        {"series": f'traefik_entrypoint_request_duration_seconds_bucket{{{web},le="+Inf"}}', "values": "0+100x60"},
    ]
    return series


ALL = {"error-ratio-within-slo", "p95-latency-within-slo", "every-replica-in-rotation"}
CASES = {  # name: (series, probes that hold)
    "healthy": (_series(0, False, 1), ALL),
    "idle": (_series(0, False, 1, traffic=False), ALL),
    "errors": (_series(4, False, 1), {"p95-latency-within-slo", "every-replica-in-rotation"}),
    "slow": (_series(0, True, 1), {"error-ratio-within-slo", "every-replica-in-rotation"}),
    "app2 out of rotation": (_series(0, False, 0), {"error-ratio-within-slo", "p95-latency-within-slo"}),
}


def test_each_probe_returns_one_series_exactly_while_its_objective_holds(tmp_path):
    """promtool evaluates each probe's query over our recording rules: one series when it holds, none when not."""
    promtool = tool("promtool")
    probes = json.loads((EXPERIMENTS / "lb-cutoff.json").read_text())["steady-state-hypothesis"]["probes"]
    assert {p["name"] for p in probes} == {name for name, _, _ in chaostoolkit.PROBES}
    tests = [{"name": case, "interval": "5s", "input_series": series,
              "promql_expr_test": [{"expr": f"count({p['provider']['arguments']['query']})", "eval_time": "4m",
                                    "exp_samples": [{"labels": "{}", "value": 1}] if p["name"] in holds else []}
                                   for p in probes]}
             for case, (series, holds) in CASES.items()]
    spec = tmp_path / "probes_test.yml"
    spec.write_text(yaml.safe_dump({"rule_files": [str(RECORDING)], "evaluation_interval": "5s", "tests": tests}))
    run(promtool, "test", "rules", spec.name, cwd=tmp_path)
