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

import random
from dataclasses import dataclass, field
from typing import Any

from chaoslib.backends.base import Features
from chaoslib.errors import UsageError
from chaoslib.faults import DIFFICULTIES, FAMILIES, SCENARIOS

__all__ = ["DIFFICULTIES", "Drawn", "draw", "families_of"]


@dataclass
class Drawn:
    """One fault of a drawn incident."""

    scenario: str
    targets: list[str]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def family(self) -> str:
        return SCENARIOS[self.scenario].family


def _variants(family: str, features: Features) -> list[str]:
    return sorted(name for name, sc in SCENARIOS.items() if sc.family == family and not features.lacks(sc.requires))


def _params(rng: random.Random, scenario: str, difficulty: str) -> dict[str, Any]:
    spec = SCENARIOS[scenario].strength.get(difficulty)
    if not spec:
        return {}
    kind = SCENARIOS[scenario].params[spec.param].kind
    value = rng.uniform(spec.low, spec.high) if kind is float else rng.randint(int(spec.low), int(spec.high))
    return {spec.param: round(value, 3) if kind is float else value}


def _targets(rng: random.Random, scenario: str, difficulty: str, pool: list[str]) -> list[str]:
    sc = SCENARIOS[scenario]
    if sc.easy_everywhere and difficulty == "easy":
        return list(pool)
    most = 1 if difficulty == "easy" or len(pool) < 3 or sc.drawn_alone else 2
    count = rng.randint(1, min(most, len(pool) - 1 if len(pool) > 1 else 1))
    return sorted(rng.sample(pool, count))


def families_of(names: list[str] | None) -> list[str]:
    """The families a draw may pick from: `names` checked against the catalogue ("all" or none: every family)."""
    if not names or names == ["all"]:
        return list(FAMILIES)
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        raise UsageError(f"unknown fault family {unknown[0]!r}", field="family", value=unknown[0],
                         hint=f"families are {', '.join(FAMILIES)} (or all)")
    return [f for f in FAMILIES if f in names]


def draw(*, seed: int, difficulty: str, targets: list[str], features: Features,
         families: list[str] | None = None) -> list[Drawn]:
    """Draw an incident from `families` (default: all): one fault (two on hard, sometimes)."""
    if difficulty not in DIFFICULTIES:
        raise UsageError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}",
                         field="difficulty", value=difficulty)
    if not targets:
        raise UsageError("no replicas to draw targets from", hint="is the stack up?")
    rng = random.Random(f"chaos-control:{seed}:{difficulty}")
    pool = families_of(families)
    family = pool[0] if len(pool) == 1 else rng.choice(pool)
    if not _variants(family, features):
        raise UsageError(f"no scenario of the {family} family can run on this backend", field="family",
                         value=family, hint="pick another family")
    scenario = rng.choice(_variants(family, features))
    first = Drawn(scenario, _targets(rng, scenario, difficulty, targets), _params(rng, scenario, difficulty))
    out = [first]
    rest = [t for t in targets if t not in first.targets]
    if difficulty == "hard" and rest and rng.random() < 0.4:
        other_family = rng.choice([f for f in FAMILIES if f != family])
        other = rng.choice([v for v in _variants(other_family, features) if SCENARIOS[v].second_fault] or
                           _variants(other_family, features))
        out.append(Drawn(other, [rng.choice(rest)], _params(rng, other, difficulty)))
    return out
