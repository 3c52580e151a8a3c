"""A scenario as a Chaos Toolkit experiment: our SLOs as its steady state, `chaosctl` as its method and rollback.

Chaos Toolkit's library is also imported as `chaoslib`, so it never shares a virtualenv with this
package: the experiment reaches the game only through the `chaosctl` command (the process provider)
and Prometheus's HTTP API (the http provider), never through a python provider. Each steady-state
probe is a PromQL comparison that returns one series while its objective holds and none when not,
read with a jsonpath tolerance (`$.data.result[*]`, count 1). The numbers are steady.SLO's.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chaoslib import config
from chaoslib.errors import UsageError
from chaoslib.faults import SCENARIOS, Scenario
from chaoslib.game.steady import SLO

#: The replica an experiment targets when none is named (one of three: the service survives it).
DEFAULT_TARGETS = ("app2",)
#: A scenario of a shared service (Scenario.everywhere: the database) names every replica of the default stack.
EVERYWHERE_TARGETS = ("app1", "app2", "app3")
#: Seconds after the injection before the hypothesis is checked again: every scenario pages within
#: ~26 s (docs/bench-faults.txt) and the probes' 20 s windows see the symptom sooner. A family that
#: needs longer gets an entry in PAUSE_BY_FAMILY_S.
PAUSE_S = 30
PAUSE_BY_FAMILY_S: dict[str, int] = {}
#: The fault's time to live: the warden undoes it even if `chaos run` dies before its rollback.
DEFAULT_TTL_S = 180.0
#: Where the probes ask Prometheus (the variable chaosctl itself reads) and which chaosctl runs.
PROMETHEUS_ENV = "CHAOSCTL_PROMETHEUS_URL"
CHAOSCTL_ENV = "CHAOSCTL_BIN"
#: The probes' question, `(value or 0) <= limit`: a stack with no traffic has no ratio, and holds.
PROBES = (
    ("error-ratio-within-slo", "at most {error_ratio_max:.0%} of requests fail (20 s window)",
     f"(lb:errors:ratio_rate20s or vector(0)) <= {SLO['error_ratio_max']:g}"),
    ("p95-latency-within-slo", "95 % of requests answered within {p95_ms:.0f} ms (20 s window)",
     f"(lb:latency_seconds:p95_20s or vector(0)) <= {SLO['p95_max_s']:g}"),
    ("every-replica-in-rotation", "every replica is in the load balancer's rotation",
     "lb:servers_up:count == lb:servers:count"),
)


def catalogue_scenario(name: str) -> Scenario:
    """The scenario of the catalogue named `name` (a one-line error for any other name)."""
    if name not in SCENARIOS:
        raise UsageError(f"unknown scenario {name!r}", field="scenario", value=name,
                         hint=f"scenarios are {', '.join(SCENARIOS)}")
    return SCENARIOS[name]


def check_targets(sc: Scenario, targets: list[str]) -> list[str]:
    """The targets as given, refused in one line unless each names a replica (app1..app9) once, in range."""
    for t in targets:
        try:
            index = config.replica_index(t)
        except ValueError:
            index = 0
        if not 1 <= index <= config.MAX_REPLICAS:
            raise UsageError(f"unknown target {t!r}", field="target", value=t,
                             hint=f"targets are replicas app1 to app{config.MAX_REPLICAS}")
    if len(set(targets)) != len(targets):
        raise UsageError("a target is named twice", field="target", value=targets)
    if not sc.min_targets <= len(targets) <= sc.max_targets:
        raise UsageError(f"scenario {sc.name} takes {sc.min_targets} to {sc.max_targets} targets, "
                         f"got {len(targets)}", field="target", value=targets)
    return list(targets)


def check_params(sc: Scenario, params: dict[str, str]) -> dict[str, Any]:
    """Every parameter of the scenario, as given or its default, refused in one line when unknown or out of range."""
    unknown = sorted(set(params) - set(sc.params))
    if unknown:
        raise UsageError(f"unknown parameter {unknown[0]!r} for {sc.name}", field="param", value=unknown[0],
                         hint=f"its parameters: {', '.join(sc.params) or 'none'}")
    return {k: p.parse(k, params.get(k, p.default)) for k, p in sc.params.items()}


def tag_of(scenario: str, targets: list[str]) -> str:
    """The tag the experiment's injection carries and its rollback heals by (`chaostoolkit-lb-cutoff-app2`)."""
    return "-".join(["chaostoolkit", scenario, *targets])


def _probe(name: str, title: str, query: str) -> dict[str, Any]:
    return {
        "type": "probe",
        "name": name,
        "description": title,
        "tolerance": {"type": "jsonpath", "path": "$.data.result[*]", "count": 1, "target": "body"},
        "provider": {"type": "http", "url": "${prometheus_url}/api/v1/query", "method": "GET",
                     "arguments": {"query": query}, "timeout": 10},
    }


def _chaosctl(*arguments: str, timeout: float) -> dict[str, Any]:
    """A process provider running chaosctl (`env` finds the configured one: a provider's path is not substituted)."""
    return {"type": "process", "path": "env", "arguments": ["${chaosctl}", *arguments], "timeout": timeout}


def experiment(name: str, targets: list[str] | None = None, params: dict[str, str] | None = None,
               ttl_s: float | None = None) -> dict[str, Any]:
    """The Chaos Toolkit experiment that injects scenario `name` on `targets` and checks our SLOs around it."""
    sc = catalogue_scenario(name)
    targets = check_targets(sc, list(targets or (EVERYWHERE_TARGETS if sc.everywhere else DEFAULT_TARGETS)))
    clean = check_params(sc, params or {})
    ttl = DEFAULT_TTL_S if ttl_s is None else float(ttl_s)
    if not 1 <= ttl <= 24 * 3600:
        raise UsageError(f"ttl must be between 1 s and 86400 s, got {ttl:g}", field="ttl", value=ttl)
    pause = PAUSE_BY_FAMILY_S.get(sc.family, PAUSE_S)
    on = [a for t in targets for a in ("--target", t)]
    shown = ", ".join(targets)
    tag = tag_of(sc.name, targets)
    numbers = {"error_ratio_max": SLO["error_ratio_max"], "p95_ms": SLO["p95_max_s"] * 1000}
    return {
        "version": "1.0.0",
        "title": f"The polls service keeps its objectives while {sc.name} hits {shown}",
        "description": (
            f"Injects the scenario {sc.name} ({sc.description}) on {shown} through `chaosctl inject` "
            f"(undone by its TTL of {ttl:g} s at the latest), waits {pause} s, and checks our SLOs in "
            "Prometheus before and after; the rollback heals it, and only it, through `chaosctl heal --tag`. "
            "chaosctl reads CHAOSCTL_STATE_DIR and CHAOSCTL_BACKEND from the environment `chaos run` runs in. "
            "Generated by `chaosctl export chaostoolkit`."),
        "tags": ["chaos-control", sc.family, sc.name],
        "configuration": {
            "prometheus_url": {"type": "env", "key": PROMETHEUS_ENV, "default": config.PROMETHEUS.url},
            "chaosctl": {"type": "env", "key": CHAOSCTL_ENV, "default": "chaosctl"},
        },
        "steady-state-hypothesis": {
            "title": "The polls service meets its SLOs",
            "probes": [_probe(n, t.format(**numbers), q) for n, t, q in PROBES],
        },
        "method": [{
            "type": "action",
            "name": f"inject-{sc.name}",
            "description": f"{sc.description} on {shown}",
            "provider": _chaosctl("inject", sc.name, *on,
                                  *[a for k, v in clean.items() for a in ("--param", f"{k}={v}")],
                                  "--ttl", f"{ttl:g}", "--tag", tag, timeout=120),
            "pauses": {"after": pause},
        }],
        "rollbacks": [{
            "type": "action",
            "name": f"heal-{sc.name}",
            "description": f"undo what the method injected (the faults tagged {tag}, and no other)",
            "provider": _chaosctl("heal", "--tag", tag, timeout=120),
        }],
        # Always, interrupted or failed too: the rollback undoes only this experiment's own faults.
        "runtime": {"rollbacks": {"strategy": "always"}},
    }


def render(doc: dict[str, Any]) -> str:
    """The experiment as the file holds it: indented JSON with a final newline."""
    return json.dumps(doc, indent=2) + "\n"


def write_all(directory: Path, targets: list[str] | None = None, ttl_s: float | None = None) -> list[Path]:
    """One experiment per scenario of the catalogue, `SCENARIO.json` in `directory`, with default parameters."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCENARIOS:
        path = directory / f"{name}.json"
        path.write_text(render(experiment(name, targets, ttl_s=ttl_s)))
        written.append(path)
    return written
