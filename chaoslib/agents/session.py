"""`AgentSession(game)`: the game as an agent plays it, with exactly what a person on call has, as plain data.

Observations (status, PromQL, logs, pages, alerts, dashboards, the clock) and actions (a hypothesis,
"no fault", a player's fix, a view, validation, a hint, giving up, finishing), each answer a dict or
list that `json.dumps` takes, cut to `Bounds` and answered within a time limit. It offers no way to
the game's truth, its injected scenarios, the fault registry, the journal's hidden part, the seed (the
draw is reproducible from it), the detective, autofix or panic. The MCP server (agents/server.py)
serves these methods as tools; a program may call them directly.
"""
from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TypeVar

from chaoslib.agents.bounds import Bounds, Limiter, plain, series, table, wide
from chaoslib.errors import GameError, UsageError
from chaoslib.game import Game, scoring
from chaoslib.game.draw import families_of

__all__ = ["AgentSession", "Bounds"]

T = TypeVar("T")

#: Log columns an agent does not need (where the file is, how it was parsed).
LOG_NOISE = ("file", "is_json")


class AgentSession:
    """What an agent may see and do in the game on `game`'s stack (usually started by a harness or a person).

    `validation_window_s` is the harness's to set (None: the game's own window); `postmortem` writes the
    postmortem (without plots) when the game ends.
    """

    __slots__ = ("_game", "_bounds", "_limiter", "_window_s", "_postmortem")

    def __init__(self, game: Game, *, bounds: Bounds | None = None, validation_window_s: float | None = None,
                 postmortem: bool = True) -> None:
        self._game = game
        self._bounds = bounds or Bounds()
        self._limiter = Limiter()
        self._window_s = validation_window_s
        self._postmortem = postmortem

    def limits(self) -> dict[str, Any]:
        """The caps on answers and calls: rows, series, points, characters, minutes back, seconds per call."""
        return plain(asdict(self._bounds))

    def _call(self, what: str, fn: Callable[[], T], *, timeout_s: float | None = None) -> T:
        return self._limiter.run(what, fn, self._bounds.call_timeout_s if timeout_s is None else timeout_s)

    def _minutes(self, minutes: float) -> float:
        if not 0 < minutes <= self._bounds.max_minutes:
            raise UsageError(f"minutes must be above 0 and at most {self._bounds.max_minutes:g}, got {minutes:g}",
                             field="minutes", value=minutes)
        return float(minutes)

    # -- the clock and the stack ------------------------------------------------------------------
    def clock(self) -> dict[str, Any]:
        """The game's status (playing, finished...), difficulty and seconds since it began (no game: status none)."""
        def read() -> dict[str, Any]:
            info = self._game.info()
            if info is None:
                return {"status": "none", "difficulty": None, "elapsed_s": None, "now": round(time.time(), 3)}
            return {"status": info.status, "difficulty": info.difficulty, "started_at": round(info.started_at, 3),
                    "elapsed_s": round(self._game.elapsed_s(), 1), "now": round(time.time(), 3)}
        return self._call("clock", read)

    def status(self) -> dict[str, Any]:
        """Every service's state, health, restarts and saturation, and what keeps the stack from steady."""
        def read() -> dict[str, Any]:
            return {"services": table(self._game.observe.status(), self._bounds),
                    "problems": list(self._game.observe.steady_problems())}
        return self._call("status", read)

    # -- metrics ----------------------------------------------------------------------------------
    def query(self, promql: str) -> dict[str, Any]:
        """An instant PromQL query: {"series": [{"labels", "time", "value"}], "total_series", "truncated"}."""
        return self._call("query", lambda: series(self._game.observe.query(promql), self._bounds,
                                                  instant=True))

    def query_range(self, promql: str, *, minutes: float = 15, step_s: float = 15) -> dict[str, Any]:
        """A PromQL range query over the last `minutes`; the step grows so a series has at most max_points."""
        minutes = self._minutes(minutes)
        step = max(float(step_s), minutes * 60 / self._bounds.max_points, 1.0)

        def read() -> dict[str, Any]:
            frame = self._game.observe.query_range(promql, minutes=minutes, step=step)
            return {**series(frame, self._bounds, instant=False), "step_s": step}
        return self._call("query_range", read)

    # -- logs -------------------------------------------------------------------------------------
    def logs(self, *, service: str | None = None, replica: str | None = None, level: str | None = None,
             text: str | None = None, minutes: float = 15) -> dict[str, Any]:
        """Log lines matching every filter given (level: that level or worse; text: a substring), newest last."""
        minutes = self._minutes(minutes)
        return self._call("logs", lambda: table(
            self._game.observe.logs(service=service, replica=replica, level=level, text=text, minutes=minutes,
                                    limit=None), self._bounds, newest_last=True, drop=LOG_NOISE))

    def log_counts(self, *, by: tuple[str, ...] | list[str] = ("service", "level"), service: str | None = None,
                   replica: str | None = None, level: str | None = None, text: str | None = None,
                   minutes: float = 15) -> dict[str, Any]:
        """How many lines match, per group of `by` columns (service, replica, level, logger, status...)."""
        minutes = self._minutes(minutes)
        return self._call("log_counts", lambda: table(
            self._game.observe.log_counts(by=tuple(by), service=service, replica=replica, level=level, text=text,
                                          minutes=minutes), self._bounds))

    # -- pages, alerts, dashboards ----------------------------------------------------------------
    def page(self) -> dict[str, Any] | None:
        """The game's first page (alert, replica, summary, seconds after the start), or None before it comes."""
        def read() -> dict[str, Any] | None:
            found = self._game.page()
            return plain(found.to_dict()) if found else None
        return self._call("page", read)

    def pages(self) -> dict[str, Any]:
        """Every notification the pager received about alerts that started in this game."""
        return self._call("pages", lambda: table(self._game.observe.pages(this_game=True),
                                                 self._bounds, newest_last=True, drop=("generator_url",)))

    def alerts(self) -> dict[str, Any]:
        """The alerts Prometheus evaluates as pending or firing now."""
        return self._call("alerts", lambda: table(self._game.observe.alerts(), self._bounds))

    def dashboards(self) -> list[str]:
        """The dashboards' names."""
        return self._call("dashboards", lambda: list(self._game.observe.dashboards()))

    def dashboard(self, name: str, *, minutes: float = 15) -> dict[str, Any]:
        """Each panel of one dashboard as {"columns", "points"} on one time grid (thinned to max_points)."""
        minutes = self._minutes(minutes)
        return self._call("dashboard", lambda: {
            title: wide(frame, self._bounds) for title, frame in self._game.observe.dashboard(name,
                                                                                               minutes=minutes).items()})

    # -- the forms: hypothesis, fixes, views ------------------------------------------------------
    def families(self) -> list[str]:
        """The fault families a finding may name."""
        return families_of(None)

    def hypothesis(self, findings: list[dict[str, Any]], *, evidence: str = "") -> dict[str, Any]:
        """Record (or revise) the hypothesis: one {"family", "targets": [replicas]} per fault, and the evidence."""
        return self._call("hypothesis", lambda: plain(
            self._game.hypothesis([dict(f) for f in findings], evidence=evidence, by="agent").to_dict()))

    def hypotheses(self) -> list[dict[str, Any]]:
        """Every version of the hypothesis recorded in this game, oldest first."""
        return self._call("hypotheses", lambda: [plain(h.to_dict()) for h in self._game.hypotheses()])

    def declare_no_fault(self, *, evidence: str = "") -> dict[str, Any]:
        """Answer "no fault": nothing is wrong in this game (where the game can take that answer)."""
        method = self._game.hypothesis
        if "no_fault" not in inspect.signature(method).parameters:
            raise GameError("this game cannot take a 'no fault' answer yet",
                            hint="record a hypothesis with findings, or give up")
        kwargs: dict[str, Any] = {"no_fault": True, "evidence": evidence, "by": "agent"}
        return self._call("declare_no_fault", lambda: plain(method([], **kwargs).to_dict()))

    def fixes(self) -> dict[str, Any]:
        """The fixes a player may apply and the read-only views they need, with what each does and its arguments."""
        return self._call("fixes", lambda: {
            "fixes": [plain(f.to_dict()) for f in self._game.fixes()],
            "views": [plain(v.to_dict()) for v in self._game.views()]})

    def view(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """One read-only view (the firewall rules, a disk's files): changes nothing, costs nothing."""
        return self._call("view", lambda: table(self._game.view(name, **(arguments or {})),
                                                self._bounds))

    def apply_fix(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """Apply one of the player's fixes (a wrong one costs points)."""
        return self._call("apply_fix", lambda: plain(
            self._game.apply_fix(name, **(arguments or {})).to_dict()))

    # -- the end: validate, hint, give up, finish, score ------------------------------------------
    def validate(self, *, recover_s: float = 120) -> dict[str, Any]:
        """Wait up to `recover_s` for recovery, hold the steady state over the game's window, check the cause."""
        window = self._window_s if self._window_s is not None else scoring.validation_window()
        most = max(0.0, self._bounds.validate_timeout_s - window - 15)
        if not 0 <= recover_s <= most:
            raise UsageError(f"recover_s must be between 0 and {most:g}, got {recover_s:g}", field="recover_s",
                             value=recover_s)
        return self._call("validate", lambda: plain(
            self._game.validate(window_s=self._window_s, recover_s=recover_s).to_dict()),
            timeout_s=self._bounds.validate_timeout_s)

    def hint(self) -> dict[str, Any]:
        """The next hint (where to look, then the family, then the replicas); each costs points."""
        return self._call("hint", lambda: plain(self._game.hint().to_dict()))

    def give_up(self) -> dict[str, Any]:
        """End the game now: the reveal and the score; the answer counts as declined (neither right nor wrong)."""
        return self._call("give_up", lambda: plain(
            self._game.give_up(write_postmortem=self._postmortem, plots=False).to_dict()))

    def finish(self) -> dict[str, Any]:
        """End the game (after a validated fix): the reveal (faults), the score and the postmortem's path."""
        return self._finish("finish")

    def _finish(self, what: str) -> dict[str, Any]:
        return self._call(what, lambda: plain(
            self._game.finish(write_postmortem=self._postmortem, plots=False).to_dict()))

    def score(self) -> dict[str, Any]:
        """The finished game's score: points, times to detect, diagnose and recover, what cost points."""
        return self._call("score", lambda: plain(self._game.score().to_dict()))
