"""The end of a game: validate the steady state, reveal the fault, score, write the postmortem.

Validation holds the stack to its SLOs over a window (every service healthy, every replica
in the load balancer's rotation, error ratio and latency within objectives) and checks that
what the hidden fault changed is really undone. A wrong fix leaves the fault in place, so it
fails validation even if the symptoms happen to pause.
"""
from __future__ import annotations

import time
from typing import Any

from chaoslib import config, faults
from chaoslib.backends.base import Backend
from chaoslib.engine.injector import heal
from chaoslib.engine.registry import FaultRecord
from chaoslib.game import steady
from chaoslib.game.journal import Event
from chaoslib.game.session import (
    FINISHED,
    HINT_COST,
    PLAYING,
    GameState,
    detect,
    edit_game,
    findings_of,
    game_faults,
    game_herrings,
    require_game,
    truth_of,
)
from chaoslib.observe.metrics import Metrics
from chaoslib.progress import Progress, ProgressLine, no_progress
from chaoslib.stack import Stack

POINTS_START = 100
WRONG_FIX_COST = 5


def validation_window() -> float:
    """Seconds the steady state must hold (shorter in CI: the one CI switch, config.fast_mode)."""
    return 20.0 if config.fast_mode() else 60.0


def effect_gone(backend: Backend, fault: FaultRecord) -> tuple[bool, str]:
    """Is what this fault changed undone (whoever undid it)? Its family says; an unknown family is an error."""
    return faults.family(fault.family).effect_gone(backend, list(fault.targets))


def validate(stack: Stack, *, metrics: Metrics | None, window_s: float | None = None, recover_s: float = 180.0,
             progress: Progress = no_progress) -> dict[str, Any]:
    """Wait for recovery, hold the SLOs over a window, check the cause is gone; record the result.

    Progress gets a line at least every 5 s in both phases: "recovering: ..." while waiting
    for the stack to come back (at most `recover_s`), then "steady state holding: N / W s".
    """
    state = require_game(stack)
    window = validation_window() if window_s is None else window_s
    faults = game_faults(stack, state)

    def check() -> list[str]:
        if metrics is None:  # no Prometheus: trust the backend's status()
            return steady.status_problems(stack)
        return steady.slo_problems(stack, metrics)

    start, problems = time.monotonic(), check()
    while problems and time.monotonic() - start < recover_s:
        done = time.monotonic() - start
        progress(ProgressLine(f"recovering: {done:.0f} / {recover_s:.0f} s: {'; '.join(problems[:2])}",
                              phase="recovering", done=done, total=recover_s))
        time.sleep(3)
        problems = check()
    held = time.monotonic()
    while not problems and time.monotonic() - held < window:
        done = time.monotonic() - held
        progress(ProgressLine(f"steady state holding: {done:.0f} / {window:.0f} s", phase="holding", done=done,
                              total=window))
        time.sleep(3)
        problems = check()
    if not problems and not all(effect_gone(stack.backend, f)[0] for f in faults):
        # Said without naming the cause: validation must not be a hint.
        problems.append("the symptoms paused, but the underlying cause is still in place")
    passed = not problems
    with edit_game(stack) as st:
        st.add("validation", passed=passed, problems=problems, window_s=window)
    if passed:
        for f in faults:
            if f.active:
                heal(stack, f.id, by="player-fix")
    progress("validated" if passed else "not yet: " + "; ".join(problems[:3]))
    return {"passed": passed, "problems": problems}


def findings_right(hyp: Event | None, faults_: list[FaultRecord]) -> tuple[int, int]:
    """How many of a hypothesis' findings name a fault exactly (its family and all its replicas), out of how many.

    Out of the larger of the faults and the findings: naming a fault that is not there
    costs as much as missing one that is. "No fault" is one answer: right (1 of 1) in a
    no-fault round, none right in a round with faults.
    """
    truth = truth_of(faults_)
    if not hyp:
        return 0, max(len(truth), 1)
    if hyp.get("no_fault"):
        return (0, len(truth)) if truth else (1, 1)
    said = findings_of(hyp)
    right = sum(1 for f in said if truth.get(f["family"]) == sorted(f["targets"]))
    return right, max(len(truth), len(said), 1)


def _family_fixes(family: str) -> list[str]:
    """The names of a family's own fixes (none for a family no longer in the catalogue)."""
    return list(faults.FAMILIES[family].fixes) if family in faults.FAMILIES else []


def _right(hyp: Event | None, faults_: list[FaultRecord]) -> bool:
    right, out_of = findings_right(hyp, faults_)
    return right == out_of


#: Points lost with time, from the start of the incident: (up to this many seconds, points lost).
#: Diagnosis is the first right hypothesis; recovery is the first passed validation.
SPEED_BANDS = {
    "diagnose": ((300, 0), (600, 5), (1200, 10), (float("inf"), 15)),
    "recover": ((600, 0), (900, 5), (1800, 10), (float("inf"), 20)),
}
WRONG_DIAGNOSIS_COST, NOT_RECOVERED_COST = 30, 40
#: A declined answer (the player gave up, or named nothing) costs what a wrong diagnosis costs, counted apart;
#: a fault invented in a no-fault round costs what a fault left in place costs.
DECLINED_COST, INVENTED_FAULT_COST = WRONG_DIAGNOSIS_COST, NOT_RECOVERED_COST
#: What the final answer was: right, wrong, or declined (given up, or no hypothesis at all).
RIGHT, WRONG, DECLINED = "right", "wrong", "declined"


def speed_cost(kind: str, seconds: float | None) -> int:
    """Points lost for taking `seconds` to diagnose or recover (0 when it never happened: scored elsewhere)."""
    if seconds is None:
        return 0
    return next(cost for limit, cost in SPEED_BANDS[kind] if seconds <= limit)


def score(state: GameState, faults: list[FaultRecord]) -> dict[str, Any]:
    """Times to detect, diagnose, recover; right or wrong diagnosis; hints; wrong fixes; points.

    100 points, less: 10 per hint, 5 per wrong fix, 30 for a wrong final diagnosis (or 30 for
    a declined one: given up, or none), 40 if the fix never validated, and the speed bands
    (SPEED_BANDS) for diagnosing and recovering. A no-fault round (no fault injected) answered
    "no fault" keeps every point but hints and fixes (any fix is wrong: nothing was broken); a
    fault invented there costs the wrong diagnosis and 40 more; no speed band applies to it.
    """
    t0 = state.started_at
    no_fault_round = not faults
    paged = state.first("paged")
    hyps = state.all("hypothesis")
    first_right = next((h for h in hyps if _right(h, faults)), None)
    passed = next((v for v in state.all("validation") if v["passed"]), None)
    fix_targets = {t for f in faults for t in f.targets}
    # A wrong fix: one that failed, or one aimed at a replica the fault did not touch (a fix aimed at no
    # replica, the database's, is wrong unless it is a fix of a drawn fault's family).
    fault_fixes = {name for f in faults for name in _family_fixes(f.family)}
    wrong = [f for f in state.all("fix") if f.get("error") or
             (f["args"].get("target") not in fix_targets if "target" in f["args"] else f["name"] not in fault_fixes)]
    hints = len(state.all("hint"))
    right_findings, out_of = findings_right(hyps[-1] if hyps else None, faults)
    answer = DECLINED if not hyps or state.first("gave-up") else RIGHT if right_findings == out_of else WRONG
    diagnose_s = round(first_right["t"] - t0, 1) if first_right else None
    recover_s = round(passed["t"] - t0, 1) if passed else None
    deductions = {"hints": HINT_COST * hints, "wrong fixes": WRONG_FIX_COST * len(wrong),
                  # Credit per finding: each fault named right earns its share back.
                  "wrong diagnosis": round(WRONG_DIAGNOSIS_COST * (out_of - right_findings) / out_of)
                  if answer == WRONG else 0,
                  "no answer": DECLINED_COST if answer == DECLINED else 0}
    if no_fault_round:
        deductions["invented fault"] = INVENTED_FAULT_COST if answer == WRONG else 0
    else:
        deductions.update({"not recovered": 0 if passed else NOT_RECOVERED_COST,
                           "time to diagnose": speed_cost("diagnose", diagnose_s),
                           "time to recover": speed_cost("recover", recover_s)})
    return {"time_to_detect_s": round(paged["received_at"] - t0, 1) if paged else None,
            "time_to_diagnose_s": diagnose_s, "time_to_recover_s": recover_s,
            "diagnosis_correct": answer == RIGHT, "findings_right": right_findings, "findings_out_of": out_of,
            "hypotheses": len(hyps), "hints_used": hints,
            "wrong_fixes": len(wrong), "deductions": {k: v for k, v in deductions.items() if v},
            "no_fault_round": no_fault_round, "answer": answer,
            "wrong_answers": int(answer == WRONG), "declined_answers": int(answer == DECLINED),
            "points": max(0, POINTS_START - sum(deductions.values()))}


def describe(score: dict[str, Any]) -> list[str]:
    """The score as a person reads it, one line each: times in seconds, yes/no, the points lost and why."""
    def seconds(v: float | None) -> str:
        return "never" if v is None else f"{v:.0f} s"
    lost = "; ".join(f"{k} -{v}" for k, v in score["deductions"].items()) or "none"
    return [f"time to detect: {seconds(score['time_to_detect_s'])}",
            f"time to diagnose: {seconds(score['time_to_diagnose_s'])}",
            f"time to recover: {seconds(score['time_to_recover_s'])}",
            f"diagnosis correct: {'yes' if score['diagnosis_correct'] else 'no'}"
            + (f" ({score['findings_right']} of {score['findings_out_of']} faults named right)"
               if score.get("findings_out_of", 1) > 1 else ""),
            f"answer: {score.get('answer', RIGHT if score['diagnosis_correct'] else WRONG)}"
            + (" (a no-fault round: nothing was injected)" if score.get("no_fault_round") else ""),
            f"hypotheses: {score['hypotheses']}, hints used: {score['hints_used']},"
            f" wrong fixes: {score['wrong_fixes']}",
            f"points lost: {lost}", f"points: {score['points']}"]


def reveal(stack: Stack, *, by: str = "player") -> list[dict[str, Any]]:
    """What was injected: scenario, targets, parameters (recorded: a facilitator's reveal too)."""
    return _reveal(stack, game_faults(stack, require_game(stack)), by=by)


def _reveal(stack: Stack, faults: list[FaultRecord], *, by: str) -> list[dict[str, Any]]:
    with edit_game(stack) as st:
        st.add("revealed", by=by)
    return [{"scenario": f.scenario, "family": f.family, "targets": f.targets, "params": f.params} for f in faults]


def finish(stack: Stack) -> dict[str, Any]:
    """Reveal, score and close the game, and undo its red herrings; returns the reveal and the score.

    The page is looked up in the pager first, so time to detect is known even when
    notebook 02 never waited for it (a game started with `chaosctl play`).
    """
    detect(stack)
    state = require_game(stack)
    faults = game_faults(stack, state)
    truth = _reveal(stack, faults, by="player")
    result = score(require_game(stack), faults)
    with edit_game(stack) as st:
        if st.status == PLAYING:
            st.add("finished", score=result)
            st.status = FINISHED
    for f in game_herrings(stack, state):  # harmless, but a herring left active would block the next draw
        if f.active:
            heal(stack, f.id, by="game-end")
    return {"truth": truth, "score": result}
