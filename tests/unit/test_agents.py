"""The agent protocol's Python API (chaoslib.agents): a whole game played from what a person sees, bounded
plain answers, time limits, and no way through it to the game's truth (in-memory backend, no root)."""
from __future__ import annotations

import inspect
import json
import threading
import time

import pandas as pd
import pytest

from chaoslib import config
from chaoslib.agents import AgentSession, Bounds, CallTimedOut
from chaoslib.agents.bounds import Limiter, fit, series, table, wide
from chaoslib.errors import ChaosError, GameError, UsageError
from chaoslib.game import Game
from chaoslib.stack import Stack

#: What a status detail says, and the family a person on call would read in it.
SYMPTOMS = {"disk": ("no space", "disk full"), "resources": ("oom", "cpu throttled"),
            "network": ("cut off", "database unreachable")}
#: What the agent protocol must never offer: the truth, the draw, the registry, the journal, the detective.
HIDDEN = ("truth", "injected_scenarios", "detective_view", "detective_verdict", "autofix", "panic", "abandon",
          "stack", "game", "registry", "journal", "faults", "seed", "observe", "metrics", "postmortem", "info",
          "start", "_state")


class Everything(dict):
    """Every agent answer of a game, kept to check it is plain JSON and names no hidden scenario."""

    def keep(self, name: str, answer):
        json.dumps(answer)  # plain data: raises on anything else
        self.setdefault(name, []).append(answer)
        return answer


def diagnose(agent: AgentSession, seen: Everything) -> dict[str, list[str]]:
    """The family and replicas of each problem, read as a person reads them: status details and firewall rules."""
    found: dict[str, list[str]] = {}
    for row in seen.keep("status", agent.status())["services"]["rows"]:
        if row["kind"] == "replica" and not row["healthy"]:
            family = next(f for f, words in SYMPTOMS.items() if any(w in row["detail"].lower() for w in words))
            found.setdefault(family, []).append(row["name"])
    for rule in seen.keep("view", agent.view("firewall-rules"))["rows"]:
        replica = rule["target"] if rule["source"] == "lb" else rule["source"]
        if replica not in found.get("network", []):
            found.setdefault("network", []).append(replica)
    return {f: sorted(t) for f, t in found.items()}


def repair(agent: AgentSession, family: str, target: str, seen: Everything) -> None:
    """The family's fix, through the player's fixes (a disk: delete what is not the app's, then restart)."""
    if family == "network":
        seen.keep("fix", agent.apply_fix("remove_firewall_rules", {"target": target}))
    elif family == "resources":
        seen.keep("fix", agent.apply_fix("set_limits", {"target": target, "cpu": 1, "memory_mb": 512}))
    else:
        files = seen.keep("view", agent.view("disk-files", {"target": target}))["rows"]
        junk = [f["path"] for f in files if not config.is_app_file(f["path"])]
        seen.keep("fix", agent.apply_fix("delete_files", {"target": target, "paths": junk}))
        seen.keep("fix", agent.apply_fix("restart", {"target": target}))


def _started(stack: Stack, family: str, seed: int) -> tuple[Game, AgentSession]:
    game = Game(stack, autopilot=False)
    game.start(seed=seed, difficulty="easy", families=[family], steady_timeout=0)  # the harness starts it
    return game, AgentSession(game, validation_window_s=0)


class TestAWholeGame:
    @pytest.mark.parametrize("family, seed", [("disk", 4), ("resources", 2), ("network", 5)])
    def test_an_agent_wins_from_what_it_sees(self, memory_stack, family, seed):
        """Clock, status, the page, a hypothesis from the status, a fix, validation, finish and score: plain JSON,
        never naming the injected scenario before the reveal."""
        game, agent = _started(memory_stack, family, seed)
        seen = Everything()
        hidden_names = game.injected_scenarios()  # the test may peek; the agent cannot
        clock = seen.keep("clock", agent.clock())
        assert clock["status"] == "playing" and clock["difficulty"] == "easy" and "seed" not in clock
        assert seen.keep("page", agent.page()) is None  # the memory backend has no pager
        assert set(agent.families()) == {"network", "disk", "resources"}
        offered = seen.keep("fixes", agent.fixes())
        assert {f["name"] for f in offered["fixes"]} >= {"restart", "delete_files"}
        findings = diagnose(agent, seen)
        assert findings == game.truth()
        hyp = seen.keep("hypothesis", agent.hypothesis([{"family": f, "targets": t} for f, t in findings.items()],
                                                       evidence="read from the status"))
        assert hyp["version"] == 1 and [h["version"] for h in agent.hypotheses()] == [1]
        assert not seen.keep("validate", agent.validate(recover_s=0))["passed"]
        for fam, targets in findings.items():
            for t in targets:
                repair(agent, fam, t, seen)
        assert seen.keep("validate", agent.validate(recover_s=0)) == {"passed": True, "problems": [], "window_s": 0}
        before_reveal = json.dumps(dict(seen))
        assert not [n for n in hidden_names if n in before_reveal]
        outcome = agent.finish()
        json.dumps(outcome)
        assert outcome["score"]["diagnosis_correct"] and outcome["score"]["wrong_fixes"] == 0
        assert [f["scenario"] for f in outcome["faults"]] == hidden_names  # the reveal, once the game is over
        assert agent.score() == outcome["score"] and agent.clock()["status"] == "finished"

    def test_give_up_hint_and_one_line_errors(self, memory_stack):
        game, agent = _started(memory_stack, "disk", 4)
        assert agent.hint()["cost"] == 10
        with pytest.raises(GameError, match="not finished"):
            agent.score()
        with pytest.raises(UsageError, match="family must be one of"):
            agent.hypothesis([{"family": "cosmic", "targets": ["app1"]}])
        with pytest.raises(UsageError, match="unknown fix"):
            agent.apply_fix("reboot-the-world", {"target": "app1"})
        with pytest.raises(UsageError, match="minutes"):
            agent.logs(minutes=10_000)
        with pytest.raises(ChaosError, match="no Prometheus"):
            agent.query("up")
        outcome = agent.give_up()
        assert not outcome["score"]["diagnosis_correct"] and outcome["score"]["hints_used"] == 1

    def test_declare_no_fault_answers_a_no_fault_round(self, memory_stack):
        """In a round with nothing injected, "no fault" is recorded through Game.hypothesis(no_fault=True) and is
        the right answer."""
        game = Game(memory_stack, autopilot=False)
        game.start(seed=4, difficulty="easy", steady_timeout=0, no_fault=True)
        agent = AgentSession(game, validation_window_s=0)
        assert all(r["healthy"] for r in agent.status()["services"]["rows"])
        answer = agent.declare_no_fault(evidence="every service healthy, no page")
        assert answer["no_fault"] and answer["findings"] == [] and answer["version"] == 1
        outcome = agent.finish()
        assert outcome["faults"] == [] and outcome["score"]["answer"] == "right"

    def test_declare_no_fault_is_one_line_where_the_game_cannot_take_it(self, memory_stack, monkeypatch):
        """A game whose hypothesis() has no `no_fault` (an older façade): a one-line error, nothing recorded."""
        game, agent = _started(memory_stack, "disk", 4)
        monkeypatch.setattr(game, "hypothesis", lambda findings, *, evidence="", by="player": None)
        with pytest.raises(GameError, match="cannot take a 'no fault' answer"):
            agent.declare_no_fault(evidence="all quiet")
        assert game.hypotheses() == []


class TestNothingHidden:
    def test_the_public_surface_is_the_protocol_and_nothing_more(self, memory_stack):
        """Every public name is an observation or an action; none reaches the game, its stack or its truth."""
        _game, agent = _started(memory_stack, "network", 5)
        public = {n for n in dir(agent) if not n.startswith("_")}
        assert public == {"clock", "status", "query", "query_range", "logs", "log_counts", "page", "pages", "alerts",
                          "dashboards", "dashboard", "families", "hypothesis", "hypotheses", "declare_no_fault",
                          "fixes", "view", "apply_fix", "validate", "hint", "give_up", "finish", "score", "limits"}
        for name in HIDDEN:
            with pytest.raises(AttributeError):
                getattr(agent, name)
        assert not hasattr(agent, "__dict__") and not hasattr(type(agent), "__getattr__")
        with pytest.raises(AttributeError):
            agent.truth = lambda: {}  # no new attribute can be hung on it either
        for name in public:  # no public attribute is an object with more behind it
            value = getattr(agent, name)
            assert inspect.ismethod(value) and value.__self__ is agent, name

    def test_no_answer_carries_an_object(self, memory_stack):
        """Each answer of an observation survives a JSON round trip unchanged (no Game, Stack or frame inside)."""
        _game, agent = _started(memory_stack, "resources", 2)
        for answer in (agent.clock(), agent.status(), agent.logs(), agent.log_counts(), agent.fixes(),
                       agent.view("firewall-rules"), agent.dashboards(), agent.families(), agent.limits()):
            assert json.loads(json.dumps(answer)) == answer


class TestBounds:
    def test_a_table_is_cut_and_says_so(self):
        frame = pd.DataFrame({"line": ["x" * 1000] * 500, "n": range(500), "gap": [None] * 500})
        out = table(frame, Bounds(max_rows=10, max_cell_chars=50), newest_last=True)
        assert (out["total_rows"], out["truncated"], len(out["rows"])) == (500, True, 10)
        assert out["rows"][-1]["n"] == 499 and len(out["rows"][0]["line"]) == 50 and "gap" not in out["rows"][0]

    def test_series_and_points_are_capped(self):
        t = pd.to_datetime([1_700_000_000 + i for i in range(100)], unit="s", utc=True)
        frame = pd.DataFrame({"time": list(t) * 30, "replica": [f"app{i}" for i in range(30) for _ in range(100)],
                              "value": [float(i) for i in range(3000)]})
        out = series(frame, Bounds(max_series=5, max_points=10), instant=False)
        assert (out["total_series"], len(out["series"]), out["truncated"]) == (30, 5, True)
        assert all(len(s["points"]) == 10 for s in out["series"])
        assert out["series"][0]["points"][-1] == [1_700_000_099.0, 99.0]
        grid = wide(frame.pivot_table(index="time", columns="replica", values="value"), Bounds(max_series=4,
                                                                                                max_points=10))
        assert len(grid["columns"]) == 5 and len(grid["points"]) <= 10 and grid["truncated"]

    def test_an_answer_fits_its_characters(self):
        answer = {"rows": [{"line": "é\"" * 100, "n": i} for i in range(1000)], "truncated": False}
        text = fit(answer, 5_000)
        data = json.loads(text)
        assert len(text) <= 5_000 and data["truncated"] and data["rows"][-1]["n"] == 999
        assert len(fit("x" * 50_000, 1_000)) <= 1_000 and json.loads(fit("x" * 50_000, 1_000))["truncated"]

    def test_a_slow_call_is_a_one_line_error_and_the_next_waits(self):
        limiter, release = Limiter(), threading.Event()
        began = time.monotonic()
        with pytest.raises(CallTimedOut, match="did not answer within 0.2 s"):
            limiter.run("slow", release.wait, 0.2)
        with pytest.raises(CallTimedOut, match="still running"):
            limiter.run("next", lambda: 1, 0.2)
        release.set()
        assert limiter.run("next", lambda: 2, 2) == 2 and time.monotonic() - began < 3
