"""The game's one door: `Game(stack)` offers what a player does, and hands back plain data.

Notebooks, widgets, the terminal commands, the benches and the agent protocol all play
through it. It is told which stack it plays on; the stack says where to look (Prometheus,
the pager...), so nothing here reads the environment. Each method returns a dataclass of
`chaoslib.game.records` (or a DataFrame of observations), never text to parse.
"""
from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from chaoslib import config, faults
from chaoslib.engine import injector
from chaoslib.engine.registry import FaultRecord
from chaoslib.errors import GameError, ObserveError, UsageError
from chaoslib.game import detective, postmortem, scoring, session
from chaoslib.game.draw import families_of
from chaoslib.game.journal import FINISHED, PLAYING, Event, GameState
from chaoslib.game.observation import Observation
from chaoslib.game.records import (
    Fault,
    Finding,
    FixOffer,
    FixResult,
    GameInfo,
    Hint,
    Hypothesis,
    Outcome,
    Page,
    Score,
    Validation,
    View,
)
from chaoslib.observe.metrics import Metrics
from chaoslib.progress import Progress, no_progress
from chaoslib.stack import Stack

__all__ = ["Game"]


class Game:
    """A game on one stack: start it, read the page, observe, hypothesise, fix, validate, score."""

    def __init__(self, stack: Stack | None = None, *, autopilot: bool | None = None) -> None:
        #: The stack in hand (default: the backend config names).
        self.stack = stack if stack is not None else Stack()
        #: Prometheus on this stack, or None for a backend without monitoring.
        self.metrics = Metrics(self.stack.endpoint("prometheus")) \
            if self.stack.backend.features.has_monitoring else None
        #: The forms fill and submit themselves (CI, a facilitator's demo): config.autopilot() by default.
        self.autopilot = config.autopilot() if autopilot is None else autopilot
        #: What the player can see: status, PromQL, logs, pages, dashboards.
        self.observe = Observation(self.stack, self.metrics, started_at=self._started_at, view_from=self._view_from)

    # -- the game's state ----------------------------------------------------------------------
    def _state(self) -> GameState:
        return session.require_game(self.stack)

    def _started_at(self) -> float | None:
        state = session.current(self.stack)
        return state.started_at if state else None

    def _view_from(self) -> float | None:
        state = session.current(self.stack)
        return state.view_from if state else None

    def info(self) -> GameInfo | None:
        """The game in progress (or the last one), or None if none was ever started."""
        state = session.current(self.stack)
        if state is None:
            return None
        return GameInfo(seed=state.seed, difficulty=state.difficulty, started_at=state.started_at, status=state.status)

    def in_progress(self) -> bool:
        info = self.info()
        return info is not None and info.status == PLAYING

    # -- the front half: start, page ----------------------------------------------------------
    def start(self, *, seed: int | None = None, difficulty: str = "normal", families: list[str] | None = None,
              progress: Progress = no_progress, steady_timeout: float = session.STEADY_TIMEOUT_S,
              require: str = "quiet", no_fault: bool | None = None) -> GameInfo:
        """Wait for a quiet stack, draw a hidden incident from `families` (default: the config's, else all), inject
        it.

        One game in ten injects nothing (draw.NO_FAULT_RATE), only when every family may be drawn;
        `no_fault=True` asks for such a round (tests, benches), False rules it out.
        """
        chosen = families_of(families or config.forced_families())
        state = session.play(self.stack, metrics=self.metrics, seed=seed, difficulty=difficulty, families=chosen,
                             progress=progress, steady_timeout=steady_timeout, require=require, no_fault=no_fault)
        return GameInfo(seed=state.seed, difficulty=state.difficulty, started_at=state.started_at, status=state.status)

    def page(self, *, wait_s: float = 0.0, progress: Progress = no_progress) -> Page | None:
        """The game's first page (an alert that started after the injection); waits up to `wait_s` for it.

        None when no page came (within `wait_s`), or on a backend without a pager; an error when no game began.
        """
        started_at = self._state().started_at
        if wait_s > 0 and self.stack.backend.features.has_monitoring and session.detect(self.stack) is None:
            try:
                session.wait_for_page(self.stack, timeout=wait_s, progress=progress)
            except ObserveError:  # no page within wait_s; an unreachable pager raises again just below
                pass
        paged = session.detect(self.stack)
        if paged is None:
            return None
        return Page(alertname=paged["alertname"], replica=paged.get("replica", ""), summary=paged.get("summary", ""),
                    received_at=paged["received_at"], after_s=round(paged["received_at"] - started_at, 1))

    # -- the back half: hypothesis, fix, validate, score -----------------------------------------
    def hypothesis(self, findings: list[Finding] | list[dict[str, Any]] | None = None, *, evidence: str = "",
                   by: str = "player", no_fault: bool = False) -> Hypothesis:
        """Record (or revise) the hypothesis: one finding per fault (a family and its replicas), or
        `no_fault=True` with no finding: "nothing is wrong"."""
        raw = [f.to_dict() if isinstance(f, Finding) else dict(f) for f in findings or []]
        event = session.record_hypothesis(self.stack, findings=raw, evidence=evidence, by=by, no_fault=no_fault)
        return _hypothesis(event)

    def hypotheses(self) -> list[Hypothesis]:
        """Every version of the hypothesis recorded in this game, oldest first."""
        return [_hypothesis(e) for e in self._state().all("hypothesis")]

    def fixes(self) -> list[FixOffer]:
        """The fixes a player may apply, with what each does and the arguments it takes."""
        return [FixOffer(name=name, description=_summary(fn), arguments=_arguments(fn))
                for name, fn in faults.fixes().items()]

    def apply_fix(self, name: str, **arguments: object) -> FixResult:
        """Apply one of the player's fixes; it is journalled (a wrong one costs points). Errors are one line."""
        _check_call("fix", name, faults.fix(name), self.stack, arguments)
        done = session.apply_fix(self.stack, name, **arguments)
        result = done["result"]
        return FixResult(name=name, arguments=dict(arguments),
                         result=result.to_dict(orient="records") if isinstance(result, pd.DataFrame) else result)

    def views(self) -> list[View]:
        """The read-only views the fixes need (the firewall rules, a disk's files), with their arguments."""
        return [View(name=name, description=_summary(fn), arguments=_arguments(fn)) for name, fn in _views().items()]

    def view(self, name: str, **arguments: object) -> pd.DataFrame:
        """One read-only view (see `views()`): a DataFrame to look at; it changes nothing and costs nothing."""
        known = _views()
        if name not in known:
            raise UsageError(f"unknown view {name!r}", field="view", value=name, hint=f"views are {', '.join(known)}")
        _check_call("view", name, known[name], self.stack, arguments)
        frame: pd.DataFrame = known[name](self.stack, **arguments)
        return frame

    def validate(self, *, progress: Progress = no_progress, window_s: float | None = None,
                 recover_s: float = 180.0) -> Validation:
        """Wait for recovery (up to `recover_s`), hold the objectives over a window, check the cause is gone.

        Progress lines are `ProgressLine`s: their phase (recovering, holding) and how far along.
        """
        result = scoring.validate(self.stack, metrics=self.metrics, window_s=window_s, recover_s=recover_s,
                                  progress=progress)
        window = scoring.validation_window() if window_s is None else window_s
        return Validation(passed=result["passed"], problems=tuple(result["problems"]), window_s=window)

    def hint(self) -> Hint:
        """The next hint: where to look, then the family, then the replicas (each costs points)."""
        text = session.hint(self.stack)
        level = len(self._state().all("hint"))
        return Hint(level=level, text=text, cost=session.HINT_COST)

    def give_up(self, *, write_postmortem: bool = True, plots: bool = True) -> Outcome:
        """End the game now: the reveal and the score. The answer counts as declined (neither right nor wrong)."""
        with session.edit_game(self.stack) as state:
            if state.status == PLAYING and state.first("gave-up") is None:
                state.add("gave-up")
        return self.finish(write_postmortem=write_postmortem, plots=plots)

    def finish(self, *, write_postmortem: bool = True, plots: bool = True) -> Outcome:
        """Reveal, score and close the game, and write its postmortem; safe to ask again once finished."""
        state = self._state()
        finished = state.first("finished")
        if state.status == FINISHED and finished is not None:
            score = finished["score"]
            records = session.game_faults(self.stack, state)
        else:
            done = scoring.finish(self.stack)
            score, records = done["score"], session.game_faults(self.stack, self._state())
        path = self.postmortem(plots=plots) if write_postmortem else None
        herrings = session.game_herrings(self.stack, self._state())
        return Outcome(faults=tuple(_fault(r) for r in records), score=_score(score),
                       postmortem=str(path) if path else None, herrings=tuple(_fault(r) for r in herrings))

    def score(self) -> Score:
        """The score of the finished game (finish it first: the score reveals the answer)."""
        fin = self._state().first("finished")
        if fin is None:
            raise GameError("the game is not finished", hint="validate your fix, then finish (or give up)")
        return _score(fin["score"])

    def postmortem(self, *, directory: Path | None = None, plots: bool = True) -> Path:
        """Write the game's blameless postmortem (Markdown, a picture beside it where there are metrics); its path."""
        return postmortem.write(self.stack, metrics=self.metrics, directory=directory, plots=plots)

    # -- the detective (the autopilot, hints, the benches) ---------------------------------------
    def detective_view(self) -> detective.Hypothesis:
        """What the detective names now, from what the player sees, since the game began."""
        return detective.investigate(self.stack, metrics=self.metrics, since=self._started_at())

    def detective_verdict(self, *, timeout: float = 90, progress: Progress = no_progress) -> detective.Hypothesis:
        """Ask the detective until it names something (or `timeout` passes)."""
        return detective.verdict(self.stack, metrics=self.metrics, since=self._started_at(), timeout=timeout,
                                 progress=progress)

    def autofix(self) -> list[str]:
        """For each finding of the latest hypothesis, its family's fix, from what the player can see."""
        hyps = self._state().all("hypothesis")
        if not hyps:
            raise GameError("no hypothesis recorded yet", hint="record one first")

        def apply(stack: Stack, name: str, **kwargs: object) -> dict[str, Any]:
            return session.apply_fix(stack, name, **kwargs)
        return [faults.family(f["family"]).autofix(self.stack, t, apply)
                for f in session.findings_of(hyps[-1]) for t in f["targets"]]

    def panic(self) -> list[str]:
        """Undo every fault now and close the game in progress (what `chaosctl panic` does); what was done."""
        done = injector.panic(self.stack)
        session.abandon(self.stack, reason="panic")
        return done

    def abandon(self, *, reason: str) -> None:
        """Close a game in progress without a score (after `panic`, or a bench's round)."""
        session.abandon(self.stack, reason=reason)

    def truth(self) -> dict[str, list[str]]:
        """The game's faults by family (hidden from the player: for the benches and the reveal only)."""
        return session.truth_of(session.game_faults(self.stack, self._state()))

    def injected_scenarios(self) -> list[str]:
        """The scenarios this game injected (hidden from the player: for the benches only)."""
        return [r.scenario for r in session.game_faults(self.stack, self._state())]

    def elapsed_s(self) -> float:
        """Seconds since the game began (the game's clock)."""
        return time.time() - self._state().started_at


def _views() -> dict[str, Callable[..., Any]]:
    """Every family's read-only views by name."""
    return {name: fn for fam in faults.FAMILIES.values() for name, fn in fam.views.items()}


def _arguments(fn: Callable[..., Any]) -> tuple[str, ...]:
    return tuple(p for p in inspect.signature(fn).parameters if p != "stack")


def _summary(fn: Callable[..., Any]) -> str:
    return next(iter((inspect.getdoc(fn) or "").splitlines()), "")


def _check_call(kind: str, name: str, fn: Callable[..., Any], stack: Stack, arguments: dict[str, object]) -> None:
    """A one-line error, before anything runs or is journalled, when `arguments` do not fit `fn`."""
    try:
        inspect.signature(fn).bind(stack, **arguments)
    except TypeError as e:
        raise UsageError(f"{kind} {name}: {e}", field="arguments", value=sorted(arguments),
                         hint=f"its arguments: {', '.join(_arguments(fn)) or 'none'}") from None


def _hypothesis(event: Event) -> Hypothesis:
    return Hypothesis(version=event["version"], evidence=event.get("evidence", ""), at=event["t"],
                      findings=tuple(Finding(f["family"], tuple(f["targets"])) for f in session.findings_of(event)),
                      no_fault=bool(event.get("no_fault")))


def _fault(record: FaultRecord) -> Fault:
    sc = faults.SCENARIOS.get(record.scenario) or faults.BENIGN.get(record.scenario)
    params = record.params or {}
    strength = "; ".join(sc.params[k].describe(k, v) if sc and k in sc.params else f"{k} {v}"
                         for k, v in params.items())
    return Fault(scenario=record.scenario, family=record.family, description=sc.description if sc else record.scenario,
                 targets=tuple(record.targets), strength=strength)


def _score(raw: dict[str, Any]) -> Score:
    keys = ("points", "time_to_detect_s", "time_to_diagnose_s", "time_to_recover_s", "diagnosis_correct",
            "findings_right", "findings_out_of", "hypotheses", "hints_used", "wrong_fixes")
    # A score journalled before no-fault rounds lacks their fields: read as a fault round's.
    answer = raw.get("answer") or (scoring.RIGHT if raw["diagnosis_correct"] else scoring.WRONG)
    return Score(**{k: raw[k] for k in keys}, deductions=dict(raw["deductions"]),
                 no_fault_round=bool(raw.get("no_fault_round")), answer=answer,
                 wrong_answers=int(raw.get("wrong_answers", answer == scoring.WRONG)),
                 declined_answers=int(raw.get("declined_answers", answer == scoring.DECLINED)),
                 lines=tuple(scoring.describe(raw)))
