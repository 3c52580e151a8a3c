"""The game's blameless postmortem, in Markdown: what users felt, how it was found and fixed.

Written after the reveal, in the shape of a blameless postmortem: summary, impact (failed
requests, the error budget burned, votes attempted and acknowledged), detection, timeline,
root cause, resolution, what went well, what to do next (left for the player), the score,
and the golden-signals picture marked with the fault, the page, the fix and the validation.
The picture is drawn on a figure of its own: the player's plotting backend is left alone.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chaoslib.engine.registry import FaultRecord
from chaoslib.errors import ChaosError
from chaoslib.faults import BENIGN, SCENARIOS
from chaoslib.game.journal import Event
from chaoslib.game.scoring import describe
from chaoslib.game.session import GameState, findings_of, game_faults, game_herrings, require_game
from chaoslib.game.steady import SLO
from chaoslib.observe import dashboards
from chaoslib.observe.metrics import Metrics
from chaoslib.stack import Stack

if TYPE_CHECKING:  # matplotlib is heavy: the figure is drawn by observe.dashboards on demand
    from matplotlib.figure import Figure

#: The error budget's period: a 99 % objective allows 1 % of 30 days' requests to fail.
BUDGET_DAYS = 30


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(t))


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def window(state: GameState) -> tuple[float, float]:
    """The incident: from the injection to the first passed validation (or now)."""
    passed = next((v for v in state.all("validation") if v["passed"]), None)
    return state.started_at, passed["t"] if passed else time.time()


def impact(stack: Stack, state: GameState, *, metrics: Metrics | None) -> dict[str, Any]:
    """What users felt over the incident: requests, failures, budget burned, votes (None where unknown)."""
    start, end = window(state)
    span = max(10, int(end - start))
    out: dict[str, Any] = {"duration_s": end - start}
    try:
        if metrics is None:
            raise ChaosError(f"the {stack.backend.name} backend runs no Prometheus")
        total = metrics.value(f'sum(increase(traefik_entrypoint_requests_total{{entrypoint="web"}}[{span}s]))')
        failed = metrics.value(f'sum(increase(traefik_entrypoint_requests_total{{entrypoint="web",code=~"5.."}}'
                               f'[{span}s]))', 0.0)
        p95 = metrics.value(f"max_over_time(lb:latency_seconds:p95_1m[{span}s])")
        out.update(requests=total, requests_failed=failed, p95_peak_s=p95)
    except ChaosError as e:
        out["metrics_error"] = e.one_line()
    total, failed = out.get("requests"), out.get("requests_failed")
    if total:
        out["failed_ratio"] = failed / total
        # The budget: the objective's allowed failures over BUDGET_DAYS at the incident's rate.
        budget = SLO["error_ratio_max"] * total * (BUDGET_DAYS * 86400 / span)
        out["budget_burned"] = failed / budget if budget else None
    ledger = stack.backend.vote_ledger()
    if ledger is not None:
        votes = [v for v in ledger if start <= v.get("t", 0) <= end]
        out["votes_attempted"] = len(votes)
        out["votes_acknowledged"] = sum(1 for v in votes if v.get("ack", True) and "vote_id" in v)
    return out


def _impact_lines(i: dict[str, Any]) -> list[str]:
    lines = ["| measure | value |", "|---|---|", f"| duration | {_duration(i['duration_s'])} |"]
    if "requests" in i and i["requests"] is not None:
        lines.append(f"| requests through the load balancer | {i['requests']:.0f} |")
        lines.append(f"| requests failed (5xx) | {i['requests_failed']:.0f} ({i.get('failed_ratio', 0):.1%}) |")
        if i.get("budget_burned") is not None:
            lines.append(f"| error budget burned | {i['budget_burned']:.2%} of {BUDGET_DAYS} days' budget "
                         f"(objective: {1 - SLO['error_ratio_max']:.0%} of requests succeed) |")
        if i.get("p95_peak_s") is not None:
            lines.append(f"| worst p95 latency (1 min) | {i['p95_peak_s'] * 1000:.0f} ms "
                         f"(objective {SLO['p95_max_s'] * 1000:.0f} ms) |")
    else:
        lines.append(f"| requests | unknown: {i.get('metrics_error', 'no data')} |")
    if "votes_attempted" in i:
        lost = i["votes_attempted"] - i["votes_acknowledged"]
        lines.append(f"| votes attempted / acknowledged | {i['votes_attempted']} / {i['votes_acknowledged']}"
                     f" ({lost} refused or failed: the voter was told, nothing acknowledged was lost) |")
    else:
        lines.append("| votes | this backend does not expose the load generator's ledger |")
    return lines


def _root_cause(faults: list[FaultRecord]) -> list[str]:
    if not faults:
        return ["- None: this was a no-fault round. Nothing was injected; the right answer was \"no fault\"."]
    out = []
    for f in faults:
        sc = SCENARIOS.get(f.scenario) or BENIGN.get(f.scenario)
        what = sc.description if sc else f.scenario
        params = ", ".join(f"{k}={v}" for k, v in (f.params or {}).items())
        out.append(f"- **{f.scenario}** ({f.family}): {what}, on {', '.join(f.targets)}"
                   + (f" ({params})" if params else "") + ".")
    return out


def _went_well(state: GameState, score: dict[str, Any] | None) -> list[str]:
    good = []
    if score:
        if score.get("time_to_detect_s") is not None:
            good.append(f"- The alerting paged {score['time_to_detect_s']:.0f} s after the fault began.")
        if score.get("diagnosis_correct") and score.get("hypotheses") == 1:
            good.append("- The first hypothesis was the right one.")
        if not score.get("hints_used"):
            good.append("- No hint was needed.")
        if not score.get("wrong_fixes") and state.all("fix"):
            good.append("- Every fix applied was aimed at the affected replicas.")
        if score.get("time_to_recover_s") is not None:
            good.append(f"- The steady state was back and proven {_duration(score['time_to_recover_s'])}"
                        " after the start.")
    return good or ["- (nothing stood out: say what you would keep)"]


def _when(e: Event) -> float:
    """When an event happened: a page when it arrived, not when the journal learnt of it."""
    return float(e["received_at"] if e["kind"] == "paged" and "received_at" in e else e["t"])


def _marks(state: GameState) -> dict[str, float | None]:
    paged, fix = state.first("paged"), state.first("fix")
    passed = next((v for v in state.all("validation") if v["passed"]), None)
    return {"fault": state.started_at, "page": paged["received_at"] if paged else None,
            "fix": fix["t"] if fix else None, "validated": passed["t"] if passed else None}


def figure(state: GameState, *, metrics: Metrics) -> Figure:
    """The golden-signals dashboard over the incident, marked with fault, page, fix and validation."""
    start, end = window(state)
    minutes = max(5.0, (end - start) / 60 + 3)
    return dashboards.plot("golden-signals", minutes=minutes, end=min(end + 60, time.time()), marks=_marks(state),
                           metrics=metrics, standalone=True, slo=SLO)


def picture(state: GameState, path: Path, *, metrics: Metrics) -> Path:
    """The postmortem's figure saved as a PNG (drawn outside pyplot: the player's backend is untouched)."""
    figure(state, metrics=metrics).savefig(path, dpi=80)
    return path


def write(stack: Stack, *, metrics: Metrics | None, directory: Path | None = None, plots: bool = True) -> Path:
    """Write the postmortem of the current game; returns its path (pictures beside it)."""
    state = require_game(stack)
    faults = game_faults(stack, state)
    out = directory or (stack.settings.state_dir / "postmortems")
    out.mkdir(parents=True, exist_ok=True)
    t0 = state.started_at
    stem = f"postmortem-seed{state.seed}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime(t0))}"
    fin = state.first("finished")
    score = fin["score"] if fin else None
    paged = state.first("paged")
    hyps = state.all("hypothesis")
    i = impact(stack, state, metrics=metrics)
    start, end = window(state)
    scenarios = ", ".join(f"{f.scenario} on {', '.join(f.targets)}" for f in faults) or "no fault (a no-fault round)"

    lines = [f"# Postmortem: {scenarios}", "",
             f"Game seed {state.seed}, {state.difficulty}. Blameless: this is about the system and the signals, "
             "not about who did what.", "", "## Summary", "",
             f"From {_clock(start)} to {_clock(end)} UTC ({_duration(end - start)}), {scenarios}. "
             + (f"{i['requests_failed']:.0f} of {i['requests']:.0f} requests failed ({i.get('failed_ratio', 0):.1%}). "
                if i.get("requests") else "")
             + (f"Paged by {paged['alertname']} after {paged['received_at'] - t0:.0f} s. " if paged else
                "No page reached the pager. ")
             + (f"Recovered after {_duration(score['time_to_recover_s'])}." if score and score.get("time_to_recover_s")
                else "The fix was not validated."), "",
             "## Impact", ""] + _impact_lines(i)
    lines += ["", "## Detection", ""]
    if paged:
        where = f" on {paged['replica']}" if paged.get("replica") else ""
        lines.append(f"- **{paged['alertname']}**{where} paged at {_clock(paged['received_at'])} UTC, "
                     f"{paged['received_at'] - t0:.0f} s after the fault began"
                     + (f": {paged['summary']}" if paged.get("summary") else "") + ".")
    else:
        lines.append("- No page about this incident reached the pager.")
    lines += ["", "## Timeline", "", "| t+ (s) | UTC | event | detail |", "|---|---|---|---|"]
    for e in sorted(state.events, key=_when):
        at = _when(e)
        detail = {k: v for k, v in e.items() if k not in ("t", "kind", "received_at")}
        lines.append(f"| {at - t0:.0f} | {_clock(at)} | {e['kind']} | {_short(detail)} |")
    lines += ["", "## Root cause", ""] + _root_cause(faults)
    herrings = game_herrings(stack, state)
    if herrings:
        lines += ["", "Red herrings, planted to mislead (harmless: no page, objectives kept, never the answer):", ""]
        lines += _root_cause(herrings)
    if hyps:
        h = hyps[-1]
        named = "; ".join(f"**{f['family']}** on {', '.join(f['targets'])}" for f in findings_of(h)) \
            or "**no fault**"
        lines += ["", f"Your diagnosis (version {h['version']}): {named}"
                  + (" (right)." if score and score.get("diagnosis_correct") else "."),
                  "", f"> {h['evidence'] or '(no evidence written)'}"]
    lines += ["", "## Resolution", ""]
    lines += [f"- {e['t'] - t0:.0f} s: `{e['name']}` {e['args']}" + (f" (failed: {e['error']})" if e["error"] else "")
              for e in state.all("fix")] or ["- No fix was applied."]
    lines += [f"- {v['t'] - t0:.0f} s: validation {'passed' if v['passed'] else 'failed'} over {v['window_s']:.0f} s"
              + (f": {'; '.join(v['problems'])}" if v["problems"] else "") for v in state.all("validation")]
    lines += ["", "## What went well", ""] + _went_well(state, score)
    lines += ["", "## What to do next", "", "_For you to fill in: what would have caught this sooner, made it "
              "smaller, or made it impossible? One line each, with an owner._", "", "- [ ] ", "- [ ] "]
    if score:
        lines += ["", "## Score", ""] + [f"- {line}" for line in describe(score)]
    if plots and metrics is not None:
        try:
            png = picture(state, out / f"{stem}-golden-signals.png", metrics=metrics)
            lines += ["", "## Evidence", "", "The golden signals over the incident; dashed lines mark the fault, "
                      "the page, the first fix and the passed validation.", "", f"![golden signals]({png.name})"]
        except Exception as e:  # a postmortem without a picture is still a postmortem
            lines += ["", f"(picture unavailable: {str(e).splitlines()[0] if str(e) else type(e).__name__})"]
    path = out / f"{stem}.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _short(detail: dict[str, Any]) -> str:
    text = ", ".join(f"{k}={v}" for k, v in detail.items()).replace("|", "/")
    return (text[:120] + "...") if len(text) > 120 else text
