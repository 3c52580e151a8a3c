"""Detective trials: play seeded games and check that the detective names what was injected.

The issue's proof that every scenario is solvable from what the player sees: for each fault
family, over ten seeds or more, the detective (which reads only metrics, logs and status)
must name the family and the exact targets in at least nine games out of ten. The test
suite and `chaosctl bench detective` run the same protocol, defined once here.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from chaoslib import faults
from chaoslib.bench.faults import recovered, wait_for
from chaoslib.errors import ChaosError
from chaoslib.game import Game
from chaoslib.progress import Progress
from chaoslib.stack import Stack

#: The detective is first asked this long after the injection (a couple of scrapes of evidence).
FIRST_LOOK_S = 15.0
#: How often it is asked again, and for how long at most.
INTERVAL_S = 5.0
TIMEOUT_S = 90.0


@dataclass
class Trial:
    """One seeded game: what was injected, what the detective said, and whether that was right."""

    family: str
    seed: int
    scenarios: list[str]
    #: Each fault's family and replicas, sorted; and what the detective named, the same way.
    truth: tuple[tuple[str, tuple[str, ...]], ...]
    said: tuple[tuple[str, tuple[str, ...]], ...]
    settled_s: float | None

    @property
    def right(self) -> bool:
        return self.said == self.truth

    def line(self) -> str:
        verdict = "right" if self.right else "WRONG"
        when = f"{self.settled_s:.0f} s" if self.settled_s is not None else "never settled"
        return (f"{self.family:9} seed {self.seed:2}: {verdict:5} {'+'.join(self.scenarios)}: {_words(self.truth)}; "
                f"said {_words(self.said) or '-'} ({when})")


def _words(named: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    return "; ".join(f"{family} on {','.join(targets)}" for family, targets in named)


def settle(game: Game, *, started_at: float) -> tuple[tuple, float | None]:
    """Ask the detective until it gives the same non-empty answer twice in a row (its verdict).

    The verdict is the first stable answer, not the first right one: a detective that
    wavers and lands on the truth by chance would not pass.
    """
    time.sleep(max(0.0, started_at + FIRST_LOOK_S - time.time()))
    last: tuple = ()
    while time.time() - started_at < TIMEOUT_S:
        said = game.detective_view().said()
        if said and said == last:
            return said, time.time() - started_at
        last = said
        time.sleep(INTERVAL_S)
    return last, None


def trial(stack: Stack, *, family: str, seed: int, difficulty: str = "normal") -> Trial:
    """Play one seeded game of `family`, take the detective's verdict, then undo the fault."""
    if not wait_for(lambda: recovered(stack), timeout=180, interval=1):
        raise ChaosError("the stack did not recover before the trial", hint="check `chaosctl status`")
    game = Game(stack, autopilot=False)
    game.abandon(reason="trial")
    # The detective's evidence is cut at the game's start: a ticket still resolving from the
    # previous trial cannot mislead it, so the trial does not wait for every alert to clear.
    info = game.start(seed=seed, difficulty=difficulty, families=[family], require="in-rotation")
    try:
        truth = tuple(sorted((name, tuple(targets)) for name, targets in game.truth().items()))
        scenarios = game.injected_scenarios()
        said, settled_s = settle(game, started_at=info.started_at)
    finally:
        game.panic()
    return Trial(family, seed, scenarios, truth, said, settled_s)


def run_trials(stack: Stack, *, seeds: int | tuple[int, ...] = 10, families: tuple[str, ...] | None = None,
               difficulty: str = "normal", progress: Progress = print) -> dict[str, list[Trial]]:
    """`seeds` trials per family (seeds 1..N, or the seeds given); progress shows each verdict as it comes."""
    out: dict[str, list[Trial]] = {}
    chosen = tuple(range(1, seeds + 1)) if isinstance(seeds, int) else seeds
    for family in families or tuple(faults.default_families()):
        out[family] = []
        for seed in chosen:
            t = trial(stack, family=family, seed=seed, difficulty=difficulty)
            out[family].append(t)
            progress("  " + t.line())
        right = sum(t.right for t in out[family])
        two = [t for t in out[family] if len(t.truth) > 1]
        progress(f"{family}: {right}/{len(chosen)} named correctly"
                 + (f" ({sum(t.right for t in two)}/{len(two)} of the two-fault games)" if two else ""))
    return out
