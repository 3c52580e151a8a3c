"""The game: a hidden draw, a journal on disk, hypotheses, fixes, validation and a score.

The journal (`game.json` in the state directory) is the single record of a game. Every
step appends an event with its time, so it survives kernel restarts and re-running a
cell: `play` with a game in progress returns that game instead of injecting again.
"""
from __future__ import annotations

import fcntl
import json
import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

from .draw import draw, forced_family
from .errors import GameError
from .stack import Stack

PLAYING, FINISHED = "playing", "finished"


@dataclass
class GameState:
    """The journal of one game."""

    seed: int
    difficulty: str
    started_at: float
    fault_ids: list[str]
    status: str = PLAYING
    events: list[dict] = field(default_factory=list)

    def add(self, kind: str, **data) -> dict:
        event = {"t": time.time(), "kind": kind, **data}
        self.events.append(event)
        return event

    def first(self, kind: str) -> dict | None:
        return next((e for e in self.events if e["kind"] == kind), None)

    def all(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["kind"] == kind]


class Journal:
    """The game file, read and written under a lock, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def edit(self) -> Iterator[GameState | None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                box = [self._load()]
                yield box[0]
                if box[0] is not None:
                    self.save(box[0])
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _load(self) -> GameState | None:
        try:
            return GameState(**json.loads(self.path.read_text()))
        except FileNotFoundError:
            return None

    def load(self) -> GameState | None:
        return self._load()

    def save(self, state: GameState) -> None:
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(asdict(state), indent=1))
        os.replace(tmp, self.path)


def journal(stack: Stack) -> Journal:
    return Journal(stack.settings.state_dir / "game.json")


def current(stack: Stack) -> GameState | None:
    """The game in progress (or the last one), if any."""
    return journal(stack).load()


def play(stack: Stack, *, seed: int | None = None, difficulty: str = "normal") -> GameState:
    """Start a game: draw a hidden incident and inject it. Idempotent while a game is in progress."""
    from .injector import inject

    j = journal(stack)
    existing = j.load()
    if existing is not None and existing.status == PLAYING:
        if seed is not None and seed != existing.seed:
            raise GameError(f"a game (seed {existing.seed}) is already in progress",
                            hint="finish it, or run `chaosctl panic` to abandon it")
        return existing
    seed = int(seed if seed is not None else int.from_bytes(os.urandom(4), "big") % 100000)
    drawn = draw(seed=seed, difficulty=difficulty, targets=stack.targets(), features=stack.backend.features,
                 family=forced_family())
    ids = []
    started_at = time.time()  # before the injection: the evidence window must cover it
    try:
        for d in drawn:
            ids.append(inject(stack, d.scenario, targets=d.targets, params=d.params, hidden=True).id)
    except BaseException:
        from .injector import heal

        for fid in ids:
            heal(stack, fid, by="failed-play")
        raise
    state = GameState(seed=seed, difficulty=difficulty, started_at=started_at, fault_ids=ids)
    state.add("incident-started", seed=seed, difficulty=difficulty)
    j.save(state)
    return state


def game_faults(stack: Stack, state: GameState) -> list:
    """The fault records this game injected (hidden from the player until the reveal)."""
    from .injector import all_faults

    return [f for f in all_faults(stack) if f.id in state.fault_ids]


def require_game(stack: Stack) -> GameState:
    state = current(stack)
    if state is None:
        raise GameError("no game has been started", hint="run `chaosctl play` (or notebook 02-incident)")
    return state


def abandon(stack: Stack, *, reason: str) -> None:
    """Mark a game in progress as finished without a score (after `panic` or `down`)."""
    with journal(stack).edit() as state:
        if state is not None and state.status == PLAYING:
            state.add("abandoned", reason=reason)
            state.status = FINISHED


# -- what the player does, recorded with its time -------------------------------------------
FAMILIES = ("network", "disk", "resources")
HINT_COST = 10
HINTS = {
    1: "Compare the replicas: which one looks different from its peers? Look at saturation and at the "
       "load balancer's view of each server, not only at the overall error ratio.",
    2: "The family: {family}.",
    3: "The affected replica(s): {targets}.",
}


def record_page(stack: Stack, *, received_at: float, alertname: str) -> None:
    """Note when the first page arrived (time to detect)."""
    with journal(stack).edit() as state:
        if state is not None and state.first("paged") is None:
            state.add("paged", received_at=received_at, alertname=alertname)


def record_hypothesis(stack: Stack, *, family: str, targets: list[str], evidence: str, by: str = "player") -> dict:
    """Record (or revise) the hypothesis; every version is kept."""
    from .errors import UsageError

    if family not in FAMILIES:
        raise UsageError(f"family must be one of {', '.join(FAMILIES)}, got {family!r}", field="family", value=family)
    known = stack.targets()
    bad = [t for t in targets if t not in known]
    if not targets or bad:
        raise UsageError(f"name the affected replicas among {', '.join(known)}", field="targets", value=targets)
    with journal(stack).edit() as state:
        if state is None or state.status != PLAYING:
            raise GameError("no game in progress", hint="start one with `chaosctl play` or notebook 02")
        version = len(state.all("hypothesis")) + 1
        return state.add("hypothesis", version=version, family=family, targets=sorted(targets),
                         evidence=evidence.strip(), by=by)


def hint(stack: Stack) -> str:
    """The next hint (each costs points): where to look, then the family, then the targets."""
    with journal(stack).edit() as state:
        if state is None or state.status != PLAYING:
            raise GameError("no game in progress", hint="start one with `chaosctl play`")
        level = min(len(state.all("hint")) + 1, max(HINTS))
        faults = game_faults(stack, state)
        text = HINTS[level].format(family=", ".join(sorted({f.family for f in faults})),
                                   targets=", ".join(sorted({t for f in faults for t in f.targets})))
        state.add("hint", level=level, text=text)
        return text


def apply_fix(stack: Stack, name: str, **kwargs) -> dict:
    """Run one of the player's fixes (chaoslib.fixes) and record it, with its outcome."""
    from . import fixes
    from .errors import ChaosError, UsageError

    if name not in fixes.FIXES:
        raise UsageError(f"unknown fix {name!r}", field="fix", value=name, hint=f"fixes are {', '.join(fixes.FIXES)}")
    try:
        result, error = fixes.FIXES[name](stack, **kwargs), ""
    except ChaosError as e:
        result, error = None, e.one_line()
    with journal(stack).edit() as state:
        if state is not None and state.status == PLAYING:
            state.add("fix", name=name, args={k: v for k, v in kwargs.items()}, error=error)
    if error:
        raise UsageError(error)
    return {"fix": name, "result": result}
