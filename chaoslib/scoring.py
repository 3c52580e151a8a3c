"""The end of a game: validate the steady state, reveal the fault, score, write the postmortem.

Validation holds the stack to its SLOs over a window (every service healthy, every replica
in the load balancer's rotation, error ratio and latency within objectives) and checks that
what the hidden fault changed is really undone. A wrong fix leaves the fault in place, so it
fails validation even if the symptoms happen to pause.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from . import config
from .backends.base import Backend
from .game import FINISHED, PLAYING, GameState, game_faults, journal, require_game
from .injector import heal
from .observe.metrics import Metrics
from .registry import FaultRecord
from .stack import Stack

Progress = Callable[[str], None]

#: Steady state: the objectives the fix is proven against.
SLO = {"error_ratio_max": 0.01, "p95_max_s": 0.25}
#: A replica's disk fuller than this still counts as the disk fault's effect.
DISK_FULL_RATIO = 0.8
POINTS_START = 100
WRONG_FIX_COST = 5


def validation_window() -> float:
    """Seconds the steady state must hold (shorter in CI: the one CI switch, config.fast_mode)."""
    return 20.0 if config.fast_mode() else 60.0


def effect_gone(backend: Backend, fault: FaultRecord) -> tuple[bool, str]:
    """Is what this fault changed undone (whoever undid it)?"""
    family, targets = fault.family, fault.targets
    if family == "network":
        left = [r for r in backend.network_rules() if {r.source, r.target} & set(targets)]
        return (not left, f"{len(left)} firewall rule(s) still affect {', '.join(targets)}")
    if family == "disk":
        full = [t for t in targets if backend.disk_usage(target=t).used_ratio > DISK_FULL_RATIO]
        return (not full, f"disk still {', '.join(full)} over 80 % full")
    if family == "resources":
        low = []
        for t in targets:
            lim = backend.get_limits(target=t)
            if (lim.cpu is not None and lim.cpu < 0.25) or (lim.memory is not None and lim.memory < 128 * 2**20):
                low.append(t)
        return (not low, f"limits of {', '.join(low)} still too low")
    return True, ""


def _slo_sample(stack: Stack, metrics: Metrics) -> list[str]:
    problems = [f"{s.name} unhealthy" for s in stack.status() if not s.healthy]
    up = metrics.query('traefik_service_server_up{service=~"polls@.*"}')
    problems += [f"{r.get('replica', r.get('url'))} out of rotation" for _, r in up.iterrows() if r["value"] < 1]
    err = metrics.value("lb:errors:ratio_rate30s", 0.0) or 0.0
    p95 = metrics.value("lb:latency_seconds:p95_30s", 0.0) or 0.0
    if err > SLO["error_ratio_max"]:
        problems.append(f"error ratio {err:.1%}")
    if p95 > SLO["p95_max_s"]:
        problems.append(f"p95 {p95 * 1000:.0f} ms")
    return problems


def validate(stack: Stack, *, window_s: float | None = None, recover_s: float = 180.0,
             progress: Progress = lambda _: None, metrics: Metrics | None = None) -> dict:
    """Wait for recovery, hold the SLOs over a window, check the cause is gone; record the result."""
    state = require_game(stack)
    metrics = metrics or Metrics()
    window = validation_window() if window_s is None else window_s
    faults = game_faults(stack, state)
    start, problems = time.monotonic(), _slo_sample(stack, metrics)
    while problems and time.monotonic() - start < recover_s:
        progress(f"waiting for the stack to recover ({time.monotonic() - start:.0f} s): {'; '.join(problems[:2])}")
        time.sleep(5)
        problems = _slo_sample(stack, metrics)
    held = time.monotonic()
    while not problems and time.monotonic() - held < window:
        progress(f"steady state holding: {time.monotonic() - held:.0f} / {window:.0f} s")
        time.sleep(5)
        problems = _slo_sample(stack, metrics)
    if not problems and not all(effect_gone(stack.backend, f)[0] for f in faults):
        # Said without naming the cause: validation must not be a hint.
        problems.append("the symptoms paused, but the underlying cause is still in place")
    passed = not problems
    with journal(stack).edit() as st:
        st.add("validation", passed=passed, problems=problems, window_s=window)
    if passed:
        for f in faults:
            if f.active:
                heal(stack, f.id, by="player-fix")
    return {"passed": passed, "problems": problems}


def _right(hyp: dict | None, faults: list[FaultRecord]) -> bool:
    if not hyp:
        return False
    return hyp["family"] in {f.family for f in faults} and set(hyp["targets"]) == {t for f in faults for t in f.targets}


def score(state: GameState, faults: list[FaultRecord]) -> dict:
    """Times to detect, diagnose, recover; right or wrong diagnosis; hints; wrong fixes; points."""
    t0 = state.started_at
    paged = state.first("paged")
    hyps = state.all("hypothesis")
    first_right = next((h for h in hyps if _right(h, faults)), None)
    passed = next((v for v in state.all("validation") if v["passed"]), None)
    fix_targets = {t for f in faults for t in f.targets}
    # A wrong fix: one that failed, or one aimed at a replica the fault did not touch.
    wrong = [f for f in state.all("fix") if f.get("error") or f["args"].get("target") not in fix_targets]
    hints = len(state.all("hint"))
    right = _right(hyps[-1] if hyps else None, faults)
    points = POINTS_START - 10 * hints - WRONG_FIX_COST * len(wrong) - (0 if right else 30) - (0 if passed else 40)
    return {"time_to_detect_s": round(paged["received_at"] - t0, 1) if paged else None,
            "time_to_diagnose_s": round(first_right["t"] - t0, 1) if first_right else None,
            "time_to_recover_s": round(passed["t"] - t0, 1) if passed else None,
            "diagnosis_correct": right, "hypotheses": len(hyps), "hints_used": hints,
            "wrong_fixes": len(wrong), "points": max(0, points)}


def reveal(stack: Stack, *, by: str = "player") -> list[dict]:
    """What was injected: scenario, targets, parameters (recorded: a facilitator's reveal too)."""
    return _reveal(stack, game_faults(stack, require_game(stack)), by=by)


def _reveal(stack: Stack, faults: list[FaultRecord], *, by: str) -> list[dict]:
    with journal(stack).edit() as st:
        st.add("revealed", by=by)
    return [{"scenario": f.scenario, "family": f.family, "targets": f.targets, "params": f.params} for f in faults]


def finish(stack: Stack) -> dict:
    """Reveal, score and close the game; returns the reveal and the score."""
    faults = game_faults(stack, require_game(stack))
    truth = _reveal(stack, faults, by="player")
    result = score(require_game(stack), faults)
    with journal(stack).edit() as st:
        if st.status == PLAYING:
            st.add("finished", score=result)
            st.status = FINISHED
    return {"truth": truth, "score": result}


def postmortem(stack: Stack, *, directory: Path | None = None, plots: bool = True) -> Path:
    """Write the postmortem in Markdown (timeline, evidence plots, hypothesis, fix, validation, score)."""
    state = require_game(stack)
    faults = game_faults(stack, state)
    out = directory or (stack.settings.state_dir / "postmortems")
    out.mkdir(parents=True, exist_ok=True)
    stem = f"postmortem-seed{state.seed}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime(state.started_at))}"
    t0 = state.started_at
    lines = [f"# Postmortem: game seed {state.seed} ({state.difficulty})", "",
             "## What happened", ""]
    lines += [f"- `{f.scenario}` on {', '.join(f.targets)} {f.params or ''}" for f in faults]
    lines += ["", "## Timeline", "", "| t+ (s) | event | detail |", "|---|---|---|"]
    for e in state.events:
        detail = {k: v for k, v in e.items() if k not in ("t", "kind")}
        lines.append(f"| {e['t'] - t0:.0f} | {e['kind']} | {_short(detail)} |")
    hyps = state.all("hypothesis")
    if hyps:
        h = hyps[-1]
        lines += ["", "## Hypothesis", "", f"Family **{h['family']}**, targets {', '.join(h['targets'])}", "",
                  f"> {h['evidence'] or '(no evidence written)'}"]
    lines += ["", "## Fixes tried", ""] + [f"- `{f['name']}` {f['args']}" + (f" (failed: {f['error']})" if f["error"]
                                                                             else "") for f in state.all("fix")]
    lines += ["", "## Validation", ""] + [f"- {'passed' if v['passed'] else 'failed'} over {v['window_s']:.0f} s"
                                         + (f": {'; '.join(v['problems'])}" if v["problems"] else "")
                                         for v in state.all("validation")]
    fin = state.first("finished")
    if fin:
        lines += ["", "## Score", ""] + [f"- {k.replace('_', ' ')}: {v}" for k, v in fin["score"].items()]
    if plots:
        try:
            import matplotlib

            matplotlib.use("Agg")
            from .observe import dashboards

            paged = state.first("paged")
            minutes = max(5.0, (time.time() - t0) / 60 + 3)
            fig = dashboards.plot("golden-signals", minutes=minutes, fault_at=t0,
                                  page_at=paged["received_at"] if paged else None)
            png = out / f"{stem}-golden-signals.png"
            fig.savefig(png, dpi=80)
            lines += ["", "## Evidence", "", f"![golden signals]({png.name})"]
        except Exception as e:  # a postmortem without a plot is still a postmortem
            lines += ["", f"(plots unavailable: {e})"]
    path = out / f"{stem}.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _short(detail: dict) -> str:
    text = ", ".join(f"{k}={v}" for k, v in detail.items())
    return (text[:120] + "...") if len(text) > 120 else text.replace("|", "/")
