"""A game's session: the hidden draw and injection, the page, hypotheses, hints and fixes, journalled.

The journal (`game.json` in the state directory) is the single record of a game. Every
step appends an event with its time, so it survives kernel restarts and re-running a
cell: `play` with a game in progress returns that game instead of injecting again.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd

from chaoslib import faults
from chaoslib.engine.injector import all_faults, heal, inject
from chaoslib.engine.registry import FaultRecord
from chaoslib.errors import ChaosError, GameError, UsageError
from chaoslib.game import steady
from chaoslib.game.draw import draw_game
from chaoslib.game.journal import FAILED, FINISHED, INJECTING, PLAYING, Event, GameJournal, GameState
from chaoslib.observe import alerts
from chaoslib.observe.metrics import Metrics
from chaoslib.progress import Progress, no_progress
from chaoslib.stack import Stack

__all__ = ["FAILED", "FINISHED", "INJECTING", "PLAYING", "GameState", "GameJournal", "journal", "current", "play",
           "game_faults", "game_herrings", "require_game", "edit_game", "abandon", "findings_of", "truth_of",
           "record_page", "detect", "wait_for_page", "record_hypothesis", "hint", "apply_fix", "HINTS",
           "NO_FAULT_HINTS", "HINT_COST", "STEADY_TIMEOUT_S"]

def journal(stack: Stack) -> GameJournal:
    return GameJournal(stack.settings.state_dir / "game.json")


def current(stack: Stack) -> GameState | None:
    """The game in progress (or the last one), if any."""
    return journal(stack).load()


STEADY_TIMEOUT_S = 300.0  #: How long `play` waits for a quiet stack before it refuses.


def play(stack: Stack, *, metrics: Metrics | None, seed: int | None = None, difficulty: str = "normal",
         families: list[str] | None = None, progress: Progress = no_progress,
         steady_timeout: float = STEADY_TIMEOUT_S, require: str = "quiet",
         no_fault: bool | None = None) -> GameState:
    """Start a game: wait for a quiet stack, draw a hidden incident and inject it.

    Idempotent while a game is in progress (re-running a cell never injects twice). The
    game lock is held from the draw to the journal, so two `play` at once make one game;
    the game is journalled before anything is injected, and marked failed (its faults
    undone) if the injection fails. `require="quiet"` (the player's game) waits for
    steady.quiet_problems (no alert, or right after an undo no page: the views are cut at the
    game's start, `GameState.view_from`); `require="in-rotation"` waits only for the
    services (the detective trials, which cut their evidence at the game's start).
    `families` limits the draw to those families (default: every family); `no_fault` asks for a
    no-fault round (True) or rules one out (False); None lets the seed decide (draw.draw_game).
    The red herrings of a hard game are injected after its faults, hidden too.
    """
    if require not in ("quiet", "in-rotation"):
        raise UsageError(f"require must be quiet or in-rotation, got {require!r}", field="require", value=require)
    j = journal(stack)
    with j.locked():
        existing = j.load()
        if existing is not None and existing.status == PLAYING:
            if seed is not None and seed != existing.seed:
                raise GameError(f"a game (seed {existing.seed}) is already in progress",
                                hint="finish it, or run `chaosctl panic` to abandon it")
            return existing
        if existing is not None and existing.status == INJECTING:  # a crash mid-injection: undo it
            for fid in existing.fault_ids:
                heal(stack, fid, by="failed-play")
            existing.add("failed", error="interrupted while injecting")
            existing.status = FAILED
            j.save(existing)
        _wait_for_steady(stack, metrics, require=require, timeout=steady_timeout, progress=progress)
        last_heal = steady.last_heal(stack)
        seed = int(seed if seed is not None else int.from_bytes(os.urandom(4), "big") % 100000)
        drawn = draw_game(seed=seed, difficulty=difficulty, targets=stack.targets(),
                          features=stack.backend.features, families=families, no_fault=no_fault)
        # Before the injection: the evidence window and the page's start must cover it.
        state = GameState(seed=seed, difficulty=difficulty, started_at=time.time(), fault_ids=[], status=INJECTING)
        state.view_from = steady.view_from(started_at=state.started_at, last_heal=last_heal)
        j.save(state)
        try:
            for d in drawn.faults + drawn.herrings:
                state.fault_ids.append(inject(stack, d.scenario, targets=d.targets, params=d.params, hidden=True).id)
                j.save(state)
        except BaseException as e:
            for fid in state.fault_ids:
                heal(stack, fid, by="failed-play")
            state.add("failed", error=str(e)[:200])
            state.status = FAILED
            j.save(state)
            raise
        state.status = PLAYING
        state.add("incident-started", seed=seed, difficulty=difficulty)
        j.save(state)
        return state


def _wait_for_steady(stack: Stack, metrics: Metrics | None, *, require: str, timeout: float,
                     progress: Progress) -> None:
    def check() -> list[str]:
        if metrics is None:  # no Prometheus: trust the backend's status()
            return steady.status_problems(stack)
        if require == "quiet":
            return steady.quiet_problems(stack, metrics, echo=steady.echoing(stack))
        return steady.service_problems(stack, metrics)

    what = "a quiet stack before the game" if require == "quiet" else "every replica in rotation"
    left = steady.wait_until(check, timeout=timeout, progress=progress, what=what)
    if left:
        raise GameError(f"the stack is not steady after {timeout:.0f} s: {'; '.join(left[:4])}",
                        hint="a game starts only from a quiet stack: wait for these to clear (`chaosctl status`, "
                             "`chaosctl faults`); `chaosctl panic` undoes any fault left")


def game_faults(stack: Stack, state: GameState) -> list[FaultRecord]:
    """The fault records this game injected (hidden until the reveal): none in a no-fault round, no herring."""
    return [f for f in all_faults(stack) if f.id in state.fault_ids and f.scenario not in faults.BENIGN]


def game_herrings(stack: Stack, state: GameState) -> list[FaultRecord]:
    """The red herrings this game planted (harmless, never the answer): hidden until the reveal too."""
    return [f for f in all_faults(stack) if f.id in state.fault_ids and f.scenario in faults.BENIGN]


def require_game(stack: Stack) -> GameState:
    state = current(stack)
    if state is None:
        raise GameError("no game has been started", hint="run `chaosctl play` (or notebook 02-incident)")
    return state


@contextmanager
def edit_game(stack: Stack) -> Iterator[GameState]:
    """The game under the journal's lock, saved when the block ends; GameError when there is none."""
    with journal(stack).edit() as state:
        if state is None:
            raise GameError("no game has been started", hint="run `chaosctl play` (or notebook 02-incident)")
        yield state


def abandon(stack: Stack, *, reason: str) -> None:
    """Mark a game in progress as finished without a score (after `panic` or `down`)."""
    with journal(stack).edit() as state:
        if state is not None and state.status in (PLAYING, INJECTING):
            state.add("abandoned", reason=reason)
            state.status = FINISHED


# -- what the player does, recorded with its time -------------------------------------------
HINT_COST = 10
HINTS = {
    1: "Compare the replicas: which one looks different from its peers? Look at saturation and at the "
       "load balancer's view of each server, not only at the overall error ratio. If they all suffer alike, "
       "look at what they share.",
    2: "The family: {families}.",
    3: "The affected replica(s): {targets}.",
}
#: The hints of a no-fault round: the second gives nothing away, the last says where the answer lies.
NO_FAULT_HINTS = {2: "Before you name a family, check every replica against the steady state of notebook 01: "
                     "status, saturation, the error ratio and latency, and whether any alert pages.",
                  3: "Look at whether anything is actually wrong: an anomaly that breaks no objective and pages "
                     "nobody may be no fault at all."}


def findings_of(hypothesis: Event) -> list[dict[str, Any]]:
    """A recorded hypothesis' findings (one family and its replicas each), older one-family records included."""
    if "findings" in hypothesis:
        return list(hypothesis["findings"])
    return [{"family": hypothesis["family"], "targets": hypothesis["targets"]}]


def truth_of(records: list[FaultRecord]) -> dict[str, list[str]]:
    """What a right diagnosis names: each family of the game's faults and its replicas."""
    out: dict[str, set[str]] = {}
    for f in records:
        out.setdefault(f.family, set()).update(f.targets)
    return {family: sorted(targets) for family, targets in out.items()}


def record_page(stack: Stack, *, received_at: float, alertname: str, **detail: Any) -> None:
    """Note when the game's first page arrived (time to detect), once."""
    with journal(stack).edit() as state:
        if state is not None and state.first("paged") is None:
            state.add("paged", received_at=received_at, alertname=alertname, **detail)


def detect(stack: Stack) -> Event | None:
    """The game's first page, from the pager, recorded in the journal; None if none came yet.

    Only an alert that started after the injection counts (an earlier one is the previous
    incident's echo), and it is found whether or not notebook 02 waited for it.
    """
    state = current(stack)
    if state is None or state.first("paged") is not None or state.status not in (PLAYING, FINISHED) \
            or not stack.backend.features.has_monitoring:  # no Alertmanager, no pager: nothing pages
        return state.first("paged") if state else None
    page = alerts.first_page(stack.endpoint("pager"), since=state.started_at)
    if page is None:
        return None
    record_page(stack, received_at=page["received_at"].timestamp(), alertname=str(page["alertname"]),
                alert_started_at=page["starts_at"].timestamp(), replica=page["replica"] or "",
                summary=page["summary"])
    state = current(stack)
    return state.first("paged") if state else None


def wait_for_page(stack: Stack, *, timeout: float = 300, progress: Progress = no_progress) -> pd.DataFrame:
    """Wait (with progress) for this game's first page, record it, and return the firing rows."""
    state = require_game(stack)
    firing = alerts.wait_for_page(stack.endpoint("pager"), since=state.started_at, timeout=timeout, progress=progress)
    detect(stack)
    return firing.sort_values("received_at")


def record_hypothesis(stack: Stack, *, family: str | None = None, targets: list[str] | None = None,
                      evidence: str = "", findings: list[dict[str, Any]] | None = None, by: str = "player",
                      no_fault: bool = False) -> Event:
    """Record (or revise) the hypothesis: one finding or more (a family and its replicas each); every version is kept.

    `family` and `targets` record a single finding; `findings` records several (hard mode can
    draw two faults). A family is named once at most, a replica in one finding at most.
    `no_fault` records the answer "nothing is wrong" (no finding with it).
    """
    if no_fault:
        if findings or family is not None or targets:
            raise UsageError("a no-fault hypothesis names no finding", field="findings",
                             hint="either say no fault, or name the findings")
        findings = []
    elif findings is None:
        findings = [{"family": family, "targets": list(targets or [])}]
    elif family is not None or targets:
        raise UsageError("give either family and targets, or findings", field="findings")
    if not findings and not no_fault:
        raise UsageError("name at least one finding (a family and its replicas)", field="findings",
                         hint="or say that nothing is wrong (no_fault=True)")
    known = stack.targets()
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for f in findings:
        fam, tgts = f.get("family"), list(f.get("targets") or [])
        if fam not in faults.FAMILIES:
            raise UsageError(f"family must be one of {', '.join(faults.FAMILIES)}, got {fam!r}", field="family",
                             value=fam)
        bad = [t for t in tgts if t not in known]
        if not tgts or bad:
            raise UsageError(f"name the replicas affected by {fam} among {', '.join(known)}", field="targets",
                             value=tgts)
        if fam in {c["family"] for c in clean}:
            raise UsageError(f"{fam} is named in two findings; put its replicas in one", field="family", value=fam)
        if seen & set(tgts):
            raise UsageError(f"{', '.join(sorted(seen & set(tgts)))} is named in two findings", field="targets",
                             value=tgts)
        seen |= set(tgts)
        clean.append({"family": fam, "targets": sorted(tgts)})
    with journal(stack).edit() as state:
        if state is None or state.status != PLAYING:
            raise GameError("no game in progress", hint="start one with `chaosctl play` or notebook 02")
        version = len(state.all("hypothesis")) + 1
        return state.add("hypothesis", version=version, findings=clean,
                         family="+".join(c["family"] for c in clean) or "none", targets=sorted(seen),
                         evidence=evidence.strip(), by=by, no_fault=no_fault)


def hint(stack: Stack) -> str:
    """The next hint (each costs points): where to look, then each fault's family, then each one's replicas."""
    with journal(stack).edit() as state:
        if state is None or state.status != PLAYING:
            raise GameError("no game in progress", hint="start one with `chaosctl play`")
        level = min(len(state.all("hint")) + 1, max(HINTS))
        truth = truth_of(game_faults(stack, state))
        families = "; ".join(faults.family(name).hint for name in truth)
        if len(truth) > 1:
            families = f"{len(truth)} faults, one per family. " + families
        targets = "; ".join(f"{name} on {', '.join(tgts)}" for name, tgts in truth.items())
        text = HINTS[level].format(families=families, targets=targets) if truth or level == 1 \
            else NO_FAULT_HINTS[level]
        state.add("hint", level=level, text=text)
        return text


def apply_fix(stack: Stack, name: str, **kwargs: Any) -> dict[str, Any]:
    """Run one of the player's fixes (chaoslib.faults.fixes) and record it, with its outcome."""
    chosen = faults.fix(name)
    try:
        result, error = chosen(stack, **kwargs), ""
    except ChaosError as e:
        result, error = None, e.one_line()
    with journal(stack).edit() as state:
        if state is not None and state.status == PLAYING:
            state.add("fix", name=name, args={k: v for k, v in kwargs.items()}, error=error)
    if error:
        raise UsageError(error)
    return {"fix": name, "result": result}
