"""The hidden draw: which fault, on which replicas, how strong — from a seed and a difficulty.

Difficulty changes how subtle the incident is:
- easy: one loud fault on one replica (60-80 % of the packets lost, a replica cut off, all
  replicas cut from the database, a full disk, a 1-2 % CPU quota, a 16 MiB memory limit);
- normal: one fault on one or two replicas, medium strength (45-60 % loss, 2-5 % CPU);
- hard: subtle strength (35-45 % loss, 5-10 % CPU) and, two times in five, a second fault
  of another family on another replica, so two symptoms overlap.
The same seed and difficulty always draw the same incident on the same stack.
"""
from __future__ import annotations

import os
import random
from dataclasses import dataclass, field

from .backends.base import Features
from .errors import UsageError
from .faults import FAMILIES, SCENARIOS

DIFFICULTIES = ("easy", "normal", "hard")

#: Parameter ranges per difficulty.
STRENGTH = {
    "lb-loss": {"easy": ("fraction", 0.6, 0.8), "normal": ("fraction", 0.45, 0.6), "hard": ("fraction", 0.35, 0.45)},
    "cpu-starve": {"easy": ("cpu", 0.01, 0.02), "normal": ("cpu", 0.02, 0.05), "hard": ("cpu", 0.05, 0.1)},
    "memory-starve": {"easy": ("memory_mb", 16, 16), "normal": ("memory_mb", 20, 28), "hard": ("memory_mb", 28, 36)},
    "lb-latency": {"easy": ("delay_ms", 1000, 2000), "normal": ("delay_ms", 400, 1000), "hard": ("delay_ms", 150, 400)},
}


@dataclass
class Drawn:
    """One fault of a drawn incident."""

    scenario: str
    targets: list[str]
    params: dict = field(default_factory=dict)

    @property
    def family(self) -> str:
        return SCENARIOS[self.scenario].family


def forced_family() -> str | None:
    """CHAOSCTL_FAMILY forces the family of the draw (CI runs the notebooks once per family)."""
    value = os.environ.get("CHAOSCTL_FAMILY") or None
    if value is not None and value not in FAMILIES:
        raise UsageError(f"CHAOSCTL_FAMILY must be one of {', '.join(FAMILIES)}, got {value!r}",
                         field="CHAOSCTL_FAMILY", value=value)
    return value


def _variants(family: str, features: Features) -> list[str]:
    return sorted(name for name, sc in SCENARIOS.items() if sc.family == family and not features.lacks(sc.requires))


def _params(rng: random.Random, scenario: str, difficulty: str) -> dict:
    spec = STRENGTH.get(scenario, {}).get(difficulty)
    if not spec:
        return {}
    name, low, high = spec
    kind = SCENARIOS[scenario].params[name].kind
    value = rng.uniform(low, high) if kind is float else rng.randint(int(low), int(high))
    return {name: round(value, 3) if kind is float else value}


def _targets(rng: random.Random, scenario: str, difficulty: str, pool: list[str]) -> list[str]:
    if scenario == "db-cutoff" and difficulty == "easy":
        return list(pool)
    most = 1 if difficulty == "easy" or len(pool) < 3 else 2
    if scenario in ("disk-crashloop", "lb-cutoff"):
        most = 1
    count = rng.randint(1, min(most, len(pool) - 1 if len(pool) > 1 else 1))
    return sorted(rng.sample(pool, count))


def draw(*, seed: int, difficulty: str, targets: list[str], features: Features,
         family: str | None = None) -> list[Drawn]:
    """Draw an incident: one fault (two on hard, sometimes)."""
    if difficulty not in DIFFICULTIES:
        raise UsageError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}",
                         field="difficulty", value=difficulty)
    if not targets:
        raise UsageError("no replicas to draw targets from", hint="is the stack up?")
    rng = random.Random(f"chaos-control:{seed}:{difficulty}")
    family = family or rng.choice(FAMILIES)
    scenario = rng.choice(_variants(family, features))
    first = Drawn(scenario, _targets(rng, scenario, difficulty, targets), _params(rng, scenario, difficulty))
    out = [first]
    rest = [t for t in targets if t not in first.targets]
    if difficulty == "hard" and rest and rng.random() < 0.4:
        other_family = rng.choice([f for f in FAMILIES if f != family])
        other = rng.choice([v for v in _variants(other_family, features) if v not in ("db-cutoff",)] or
                           _variants(other_family, features))
        out.append(Drawn(other, [rng.choice(rest)], _params(rng, other, difficulty)))
    return out
