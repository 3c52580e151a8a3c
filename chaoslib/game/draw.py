"""The hidden draw: which fault, on which replicas, how strong — from a seed and a difficulty.

Difficulty changes how subtle the incident is:
- easy: one loud fault on one replica (60-80 % of the packets lost, a replica cut off, all
  replicas cut from the database, a full disk, a 1-2 % CPU quota, a 16 MiB memory limit);
- normal: one fault on one or two replicas, medium strength (45-60 % loss, 2-5 % CPU);
- hard: subtle strength (35-45 % loss, 5-10 % CPU) and, two times in five, a second fault
  of another family on another replica, so two symptoms overlap.
No-fault rounds: one game in ten (NO_FAULT_RATE) at every difficulty injects nothing, and the
right answer is "no fault". The decision comes from a random stream of its own, so every other
seed draws exactly the incident it drew before; it is made only when the draw may pick any
family (a player practising one family always gets a fault), and a test or a bench can ask for
one (`no_fault=True`).
Red herrings: at hard difficulty, one or two harmless anomalies (faults/herrings.py) are planted
on replicas the fault leaves alone, also from a stream of their own.
The same seed and difficulty always draw the same incident on the same stack.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from chaoslib.backends.base import Features
from chaoslib.errors import UsageError
from chaoslib.faults import BENIGN, DIFFICULTIES, FAMILIES, SCENARIOS, default_families

__all__ = ["DIFFICULTIES", "Drawn", "Game", "NO_FAULT_RATE", "HERRING_DIFFICULTIES", "draw", "draw_game",
           "families_of", "herrings", "no_fault_round", "playable_families"]

#: The share of games that inject nothing (the answer is "no fault"), at every difficulty.
NO_FAULT_RATE = 0.1
#: The difficulties whose games plant red herrings beside the fault.
HERRING_DIFFICULTIES = ("hard",)


@dataclass
class Drawn:
    """One fault of a drawn incident."""

    scenario: str
    targets: list[str]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def family(self) -> str:
        sc = SCENARIOS.get(self.scenario) or BENIGN[self.scenario]
        return sc.family


@dataclass
class Game:
    """A whole drawn game: its faults (none in a no-fault round) and its red herrings."""

    faults: list[Drawn]
    herrings: list[Drawn] = field(default_factory=list)

    @property
    def no_fault(self) -> bool:
        return not self.faults


def _variants(family: str, features: Features) -> list[str]:
    return sorted(name for name, sc in SCENARIOS.items() if sc.family == family and not features.lacks(sc.requires))


def playable_families(features: Features) -> list[str]:
    """The families a backend with these features can draw (some scenario of each can run there)."""
    return [f for f in FAMILIES if _variants(f, features)]


def _params(rng: random.Random, scenario: str, difficulty: str) -> dict[str, Any]:
    spec = SCENARIOS[scenario].strength.get(difficulty)
    if not spec:
        return {}
    kind = SCENARIOS[scenario].params[spec.param].kind
    value = rng.uniform(spec.low, spec.high) if kind is float else rng.randint(int(spec.low), int(spec.high))
    return {spec.param: round(value, 3) if kind is float else value}


def _targets(rng: random.Random, scenario: str, difficulty: str, pool: list[str]) -> list[str]:
    sc = SCENARIOS[scenario]
    if sc.everywhere or (sc.easy_everywhere and difficulty == "easy"):
        return list(pool)
    most = 1 if difficulty == "easy" or len(pool) < 3 or sc.drawn_alone else 2
    count = rng.randint(1, min(most, len(pool) - 1 if len(pool) > 1 else 1))
    return sorted(rng.sample(pool, count))


def families_of(names: list[str] | None) -> list[str]:
    """The families a draw may pick from: `names` checked against the catalogue (none: the default families,
    the seed's three; "all": every family)."""
    if not names:
        return default_families()
    if names == ["all"]:
        return list(FAMILIES)
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        raise UsageError(f"unknown fault family {unknown[0]!r}", field="family", value=unknown[0],
                         hint=f"families are {', '.join(FAMILIES)} (or all)")
    return [f for f in FAMILIES if f in names]


def draw(*, seed: int, difficulty: str, targets: list[str], features: Features,
         families: list[str] | None = None) -> list[Drawn]:
    """Draw an incident from `families` (default: the default families): one fault (two on hard, sometimes)."""
    if difficulty not in DIFFICULTIES:
        raise UsageError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}",
                         field="difficulty", value=difficulty)
    if not targets:
        raise UsageError("no replicas to draw targets from", hint="is the stack up?")
    rng = random.Random(f"chaos-control:{seed}:{difficulty}")
    pool = families_of(families)
    # A family none of whose scenarios this backend can run is left out of a choice ("all" on Docker).
    pool = ([f for f in pool if _variants(f, features)] or pool) if len(pool) > 1 else pool
    family = pool[0] if len(pool) == 1 else rng.choice(pool)
    if not _variants(family, features):
        raise UsageError(f"no scenario of the {family} family can run on this backend", field="family",
                         value=family, hint="pick another family")
    scenario = rng.choice(_variants(family, features))
    first = Drawn(scenario, _targets(rng, scenario, difficulty, targets), _params(rng, scenario, difficulty))
    out = [first]
    rest = [t for t in targets if t not in first.targets]
    if difficulty == "hard" and rest and rng.random() < 0.4:
        # From the default families and those asked for (so a default draw is the one it always was).
        # A family none of whose scenarios can be a second fault (the database's, on every replica) is left out.
        other_family = rng.choice([f for f in FAMILIES if f != family and (f in pool or FAMILIES[f].default_draw)
                                   and _variants(f, features)
                                   and any(SCENARIOS[v].second_fault for v in _variants(f, features))])
        other = rng.choice([v for v in _variants(other_family, features) if SCENARIOS[v].second_fault] or
                           _variants(other_family, features))
        out.append(Drawn(other, [rng.choice(rest)], _params(rng, other, difficulty)))
    return out


def no_fault_round(*, seed: int, difficulty: str) -> bool:
    """Is this seed's game at this difficulty a no-fault round? (Its own stream: other draws are unchanged.)"""
    return random.Random(f"chaos-control:no-fault-round:{seed}:{difficulty}").random() < NO_FAULT_RATE


def herrings(*, seed: int, difficulty: str, targets: list[str], features: Features) -> list[Drawn]:
    """The red herrings of a game: at hard, one or two harmless anomalies, each on its own replica of `targets`."""
    kinds = sorted(name for name, sc in BENIGN.items() if not features.lacks(sc.requires))
    if difficulty not in HERRING_DIFFICULTIES or not kinds or not targets:
        return []
    rng = random.Random(f"chaos-control:herrings:{seed}:{difficulty}")
    count = min(rng.randint(1, 2), len(kinds), len(targets))
    return [Drawn(kind, [target]) for kind, target in zip(rng.sample(kinds, count), rng.sample(sorted(targets), count),
                                                          strict=True)]


def draw_game(*, seed: int, difficulty: str, targets: list[str], features: Features,
              families: list[str] | None = None, no_fault: bool | None = None) -> Game:
    """Draw a whole game: the incident (`draw`), or none in a no-fault round, and its red herrings.

    `no_fault` None: the seed decides (NO_FAULT_RATE), only when `families` allows every default family;
    True: a no-fault round; False: never one.
    """
    if difficulty not in DIFFICULTIES:
        raise UsageError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}",
                         field="difficulty", value=difficulty)
    if no_fault is None:
        no_fault = set(families_of(families)) >= set(default_families()) and \
            no_fault_round(seed=seed, difficulty=difficulty)
    drawn = [] if no_fault else draw(seed=seed, difficulty=difficulty, targets=targets, features=features,
                                     families=families)
    hit = {t for d in drawn for t in d.targets}
    return Game(drawn, herrings(seed=seed, difficulty=difficulty, targets=[t for t in targets if t not in hit],
                                features=features))
