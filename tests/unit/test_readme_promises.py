"""README promises needing no live stack (numbers read from README.md): catalogue, difficulty, score, objectives."""
from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from chaoslib import config
from chaoslib.backends.base import Features
from chaoslib.bench.faults import FaultBench, Run
from chaoslib.engine.registry import FaultRecord
from chaoslib.faults import FAMILIES, SCENARIOS, herrings
from chaoslib.game import Game, postmortem, scoring, steady
from chaoslib.game.draw import NO_FAULT_RATE, draw, draw_game
from chaoslib.game.session import GameState
from chaoslib.observe.metrics import Metrics

REPO = Path(__file__).resolve().parents[2]
TARGETS = ["app1", "app2", "app3"]
FEATURES = Features(has_netem=False, releases=True)  # the native backend's: deploy can be drawn
SEEDS = range(2000)


def _chaosctl(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chaoslib.cli", "--state-dir", str(tmp_path), *args],
                          capture_output=True, text=True, timeout=60, cwd=REPO)


class TestCatalogue:
    def test_catalogue_json_lists_every_scenario_with_its_params(self, tmp_path):
        """`chaosctl faults --catalogue --json` lists every scenario, its family and parameter bounds."""
        out = _chaosctl("faults", "--catalogue", "--json", tmp_path=tmp_path)
        assert out.returncode == 0, out.stderr
        rows = {r["scenario"]: r for r in json.loads(out.stdout)}
        assert set(rows) == set(SCENARIOS)
        for name, sc in SCENARIOS.items():
            assert rows[name]["family"] == sc.family in FAMILIES
            assert rows[name]["params"] == {k: [p.low, p.high, p.default] for k, p in sc.params.items()}
            assert rows[name]["strength"] == {d: {"param": st.param, "low": st.low, "high": st.high}
                                              for d, st in sc.strength.items()}
            assert rows[name]["default_draw"] == FAMILIES[sc.family].default_draw
        assert {r["default_draw"] for r in rows.values()} == {True, False}  # deploy is drawn only when chosen

    def test_catalogue_text_names_each_scenario_then_its_strengths(self, tmp_path):
        """`chaosctl faults --catalogue`: a line per scenario starting with its name, then an indented line with its
        strength at each difficulty, its replicas, what it needs and whether the default draw has it."""
        out = _chaosctl("faults", "--catalogue", tmp_path=tmp_path)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        names, details = lines[0::2], lines[1::2]
        assert sorted(line.split()[0] for line in names) == sorted(SCENARIOS)
        for name_line, detail in zip(names, details, strict=True):
            sc = SCENARIOS[name_line.split()[0]]
            assert detail.startswith(" ") and "replica" in detail
            for level, st in sc.strength.items():
                assert f"{level} {st.param} {st.low:g}" in detail, detail
            assert ("in the default draw" in detail) == FAMILIES[sc.family].default_draw, detail


def _readme_ranges() -> dict[str, dict[str, tuple[float, float]]]:
    """The README's Difficulty section: per difficulty, the loss, CPU and memory ranges it promises."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Difficulty"):]
    section = section[:section.index("\n## ", 5)]
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for level in ("easy", "normal", "hard"):
        bullet = re.search(rf"- \*\*{level}\*\*(.*?)(?=\n- \*\*|\Z)", section, re.S).group(1).replace("\n", " ")
        loss = re.search(r"(\d+)-(\d+) % (?:packet )?loss", bullet)
        cpu = re.search(r"(\d+)-(\d+) % CPU", bullet)
        mem = re.search(r"(\d+)(?:-(\d+))? MiB", bullet)
        votes = re.search(r"(\d+)-(\d+) % of votes", bullet)
        delay = re.search(r"(\d+)-(\d+) ms", bullet)
        out[level] = {"lb-loss": (int(loss[1]) / 100, int(loss[2]) / 100),
                      "cpu-starve": (int(cpu[1]) / 100, int(cpu[2]) / 100),
                      "memory-starve": (int(mem[1]), int(mem[2] or mem[1])),
                      "deploy-bad-votes": (int(votes[1]) / 100, int(votes[2]) / 100),
                      "deploy-slow-reads": (int(delay[1]), int(delay[2]))}
    return out


def _drawn(level: str, families: list[str] | None = None):
    return [draw(seed=s, difficulty=level, targets=TARGETS, features=FEATURES, families=families) for s in SEEDS]


class TestDifficulty:
    @pytest.mark.parametrize("level", ["easy", "normal", "hard"])
    def test_parameters_span_the_readme_ranges(self, level):
        """Over 2000 seeds, every drawn strength lies in the README's range for its difficulty and
        the draws reach both ends of it (within a tenth of its width)."""
        ranges = _readme_ranges()[level]
        seen: dict[str, list[float]] = {name: [] for name in ranges}
        for incident in _drawn(level, families=["all"]):  # deploy too (drawn only when chosen)
            for d in incident:
                if d.scenario in ranges:
                    seen[d.scenario].append(next(iter(d.params.values())))
        for name, (low, high) in ranges.items():
            values = seen[name]
            assert len(values) > 30, (name, len(values))
            slack = (high - low) / 10
            assert low <= min(values) <= low + slack and high - slack <= max(values) <= high, (name, low, high,
                                                                                               min(values), max(values))

    def test_easy_and_normal_replica_counts(self):
        """Easy is one fault on one replica (a database cut-off on all); normal one fault on one or two."""
        for incident in _drawn("easy"):
            assert len(incident) == 1
            assert len(incident[0].targets) == 1 or (incident[0].scenario == "db-cutoff"
                                                     and incident[0].targets == TARGETS)
        normal = [incident for incident in _drawn("normal")]
        assert all(len(i) == 1 for i in normal)
        assert {len(i[0].targets) for i in normal} == {1, 2}

    def test_hard_overlaps_two_families_two_times_in_five(self):
        """Hard adds a second fault of another family on another replica in 2 of 5 draws (36-44 % of 2000)."""
        hard = _drawn("hard")
        doubles = [i for i in hard if len(i) == 2]
        assert 0.36 <= len(doubles) / len(hard) <= 0.44, len(doubles) / len(hard)
        for first, second in doubles:
            assert first.family != second.family and not set(first.targets) & set(second.targets)


T0 = 1_000_000.0
FAULT = FaultRecord(id="f-1", scenario="disk-full", family="disk", targets=["app2"], params={},
                    injected_at=T0, expires_at=T0 + 2700)


def _game(hints: int = 0, *, diagnose_s: float = 60, family: str = "disk", recover_s: float | None = 120,
          fixes: tuple[dict, ...] = ()) -> GameState:
    """A journal: paged at 20 s, a hypothesis, hints, fixes, and a passed validation (none if recover_s is None)."""
    state = GameState(seed=1, difficulty="normal", started_at=T0, fault_ids=["f-1"])
    state.events = [{"t": T0 + 20, "kind": "paged", "received_at": T0 + 20, "alertname": "PollsHighErrorRatio"},
                    {"t": T0 + diagnose_s, "kind": "hypothesis", "version": 1, "family": family,
                     "targets": ["app2"], "evidence": "", "by": "player"}]
    state.events += [{"t": T0 + 30 + i, "kind": "hint", "level": i + 1, "text": ""} for i in range(hints)]
    state.events += [{"t": T0 + 40, "kind": "fix", "name": "restart", **fix} for fix in fixes]
    if recover_s is not None:
        state.events.append({"t": T0 + recover_s, "kind": "validation", "passed": True, "problems": [],
                             "window_s": 60})
    return state


def _points(state: GameState) -> int:  # what scoring.score gives the game, against the one fault
    return int(scoring.score(state, [FAULT])["points"])


def _readme_score() -> tuple[int, dict[str, str]]:
    """The README's score section: the points a game starts with, and its table (what -> points lost)."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("### The score"):text.index("### The postmortem")]
    start = int(re.search(r"(\d+) points, less", section)[1])
    rows = dict(re.findall(r"(?m)^\| (.+?) \| (.+?) \|$", section)[2:])
    return start, rows


def _readme_bands(cell: str) -> list[tuple[float, int]]:
    """"0 within 5 min, 5 within 10, 10 within 20, 15 beyond" -> [(300, 0), (600, 5), (1200, 10), (inf, 15)]."""
    bands = [(int(m) * 60.0, int(p)) for p, m in re.findall(r"(\d+) within (\d+)", cell)]
    return [*bands, (float("inf"), int(re.search(r"(\d+) beyond", cell)[1]))]


class TestScoreAsTheReadmeSays:
    """The score section's numbers, read from README.md, against what scoring.score gives constructed games."""

    def test_a_perfect_game_keeps_every_point(self):
        assert _points(_game()) == _readme_score()[0]

    @pytest.mark.parametrize("hints", [1, 2, 3])
    def test_each_hint(self, hints):
        start, rows = _readme_score()
        assert _points(_game(hints)) == start - hints * int(rows["each hint"])

    @pytest.mark.parametrize("fixes", [({"args": {"target": "app1"}},),
                                       ({"args": {"target": "app2"}, "error": "exit 1"},),
                                       ({"args": {"target": "app1"}}, {"args": {"target": "app3"}}),
                                       ({"args": {"target": "app2"}},)],
                             ids=["wrong-replica", "failed", "two-wrong", "right-one-costs-nothing"])
    def test_each_wrong_or_failed_fix(self, fixes):
        start, rows = _readme_score()
        wrong = sum(1 for f in fixes if f.get("error") or f["args"]["target"] != "app2")
        assert _points(_game(fixes=fixes)) == start - wrong * int(rows[next(k for k in rows if "fix aimed" in k)])

    def test_a_wrong_final_diagnosis(self):
        start, rows = _readme_score()
        assert _points(_game(family="network")) == start - int(rows["a wrong final diagnosis (family and replicas)"])

    def test_a_fix_that_never_validated(self):
        start, rows = _readme_score()
        assert _points(_game(recover_s=None)) == start - int(rows["a fix that never validated"])

    def test_a_declined_answer_instead_of_the_wrong_diagnosis(self):
        """Giving up after a right hypothesis, or finishing with none: the declined row, counted apart."""
        start, rows = _readme_score()
        declined = int(rows[next(k for k in rows if k.startswith("a declined answer"))])
        gave_up = _game()
        gave_up.add("gave-up")
        none = _game()
        none.events = [e for e in none.events if e["kind"] != "hypothesis"]
        for state in (gave_up, none):
            result = scoring.score(state, [FAULT])
            assert result["points"] == start - declined
            assert (result["answer"], result["declined_answers"], result["wrong_answers"]) == ("declined", 1, 0)

    def test_a_no_fault_round(self):
        """Answered "no fault": every point; a fault named there: the wrong diagnosis and the invented row."""
        start, rows = _readme_score()
        invented = int(rows[next(k for k in rows if k.startswith("a fault named in a no-fault round"))])
        right = _game(recover_s=None, diagnose_s=3000)  # no speed band, no recovery owed in a no-fault round
        next(e for e in right.events if e["kind"] == "hypothesis").update(no_fault=True, family="none", targets=[],
                                                                          findings=[])
        assert scoring.score(right, [])["points"] == start
        wrong = scoring.score(_game(recover_s=None), [])
        assert wrong["points"] == start - int(rows["a wrong final diagnosis (family and replicas)"]) - invented
        assert (wrong["answer"], wrong["wrong_answers"], wrong["declined_answers"]) == ("wrong", 1, 0)
        said_none = scoring.score(right, [FAULT])  # "no fault" in a round with a fault: a wrong diagnosis
        assert said_none["answer"] == "wrong" and said_none["deductions"]["wrong diagnosis"] == int(
            rows["a wrong final diagnosis (family and replicas)"])

    @pytest.mark.parametrize("kind", ["diagnose", "recover"])
    def test_speed_bands_at_their_edges(self, kind):
        """Just inside each band's limit costs that band's points; just past it, the next band's."""
        start, rows = _readme_score()
        bands = _readme_bands(rows[next(k for k in rows if k.startswith(f"time to {kind}"))])
        edges = [(limit - 1, cost) for limit, cost in bands if limit != float("inf")]
        edges += [(limit + 1, after) for (limit, _), (_, after) in zip(bands, bands[1:], strict=False)]
        for seconds, cost in edges:
            game = _game(diagnose_s=seconds) if kind == "diagnose" else _game(recover_s=seconds)
            assert _points(game) == start - cost, (kind, seconds, cost)


def _no_fault_section() -> str:
    text = (REPO / "README.md").read_text()
    return text[text.index("### No-fault rounds and red herrings"):text.index("### The score")]


class TestNoFaultRoundsAsTheReadmeSays:
    def test_one_game_in_ten_at_every_difficulty(self):
        """"One game in 10, at every difficulty, injects nothing": the draw's rate, over 2000 seeds each (8-12 %)."""
        one_in = int(re.search(r"One game in (\d+), at every difficulty", _no_fault_section())[1])
        assert NO_FAULT_RATE == 1 / one_in
        for level in ("easy", "normal", "hard"):
            share = sum(draw_game(seed=s, difficulty=level, targets=TARGETS, features=FEATURES).no_fault
                        for s in SEEDS) / len(SEEDS)
            assert 0.08 <= share <= 0.12, (level, share)

    def test_the_backup_takes_the_readmes_share_of_a_disk(self):
        """"a slow but healthy nightly backup that takes 25 % of a replica's disk": below the disk fault's 80 %."""
        share = int(re.search(r"backup that takes (\d+) % of a replica's disk", _no_fault_section().replace(
            "\n", " "))[1])
        assert herrings.BACKUP_RATIO == share / 100 < 0.8

    def test_the_burst_is_the_readmes_pace(self):
        """"the load generator runs 50 % faster": the burst herring's pace factor."""
        faster = int(re.search(r"load generator runs (\d+) % faster", _no_fault_section().replace("\n", " "))[1])
        assert herrings.BURST_FACTOR == 1 + faster / 100


class _Prometheus(Metrics):
    """The real Metrics (its value() and what slo_problems reads) over canned instant queries: no server."""

    def __init__(self, answers: dict[str, list[tuple[dict, float]]]) -> None:  # no client: nothing to reach
        self.url, self.answers = "http://prometheus.invalid", answers

    def query(self, promql: str, *, at: float | datetime | None = None) -> pd.DataFrame:
        return pd.DataFrame([{"time": T0, **labels, "value": float(v)} for labels, v in self.answers[promql]])


def _readme_objectives() -> tuple[float, float]:
    """How the game goes, step 6: the error ratio and p95 a fix must hold under (a ratio and seconds)."""
    text = (REPO / "README.md").read_text()
    errors, p95 = re.search(r"errors under (\d+(?:\.\d+)?) %", text), re.search(r"p95 under (\d+) ms", text)
    assert errors and p95, "the README no longer states the validation objectives"
    return float(errors[1]) / 100, float(p95[1]) / 1000


def _judge(stack, *, errors: float, p95: float, out_of_rotation: str = "") -> list[str]:
    up = [({"replica": t}, 0 if t == out_of_rotation else 1) for t in TARGETS]
    return steady.slo_problems(stack, _Prometheus({'traefik_service_server_up{service=~"polls@.*"}': up,
                                                   "lb:errors:ratio_rate20s": [({}, errors)],
                                                   "lb:latency_seconds:p95_20s": [({}, p95)]}))


class TestValidationObjectives:
    """The README's objectives at their edges, judged by steady.slo_problems (what validation asks)."""

    def test_just_under_both_objectives_passes(self, memory_stack):
        errors, p95 = _readme_objectives()
        assert _judge(memory_stack, errors=errors * 0.99, p95=p95 * 0.99) == []

    def test_errors_just_over_fail(self, memory_stack):
        errors, p95 = _readme_objectives()
        assert _judge(memory_stack, errors=errors * 1.01, p95=p95 * 0.99) == [f"error ratio {errors * 1.01:.1%}"]

    def test_p95_just_over_fails(self, memory_stack):
        errors, p95 = _readme_objectives()
        assert _judge(memory_stack, errors=errors * 0.99, p95=p95 * 1.01) == [f"p95 {p95 * 1010:.0f} ms"]

    def test_the_postmortems_budget_is_the_same_objective(self):
        """"A 30-day error budget at the 99 % objective": the postmortem burns the errors objective's budget."""
        text = (REPO / "README.md").read_text()
        days, objective = re.search(r"a (\d+)-day\s+error budget at the (\d+) % objective", text).groups()
        assert (postmortem.BUDGET_DAYS, postmortem.SLO) == (int(days), steady.SLO)
        assert 1 - _readme_objectives()[0] == pytest.approx(int(objective) / 100)

    def test_the_waits_are_the_readme_minutes(self):
        """Play waits "at most 5 minutes" for a quiet stack; validation waits "up to 3 minutes" for recovery."""
        text = " ".join((REPO / "README.md").read_text().split())
        quiet = int(re.search(r"at most (\d+) minutes, then it refuses", text)[1])
        recover = int(re.search(r"must come back \(up to (\d+) minutes", text)[1])
        assert inspect.signature(Game.start).parameters["steady_timeout"].default == quiet * 60
        assert inspect.signature(Game.validate).parameters["recover_s"].default == recover * 60
        echo = int(re.search(r"a fault undone in the last (\d+) minutes", text)[1])
        assert steady.ECHO_S == echo * 60

    def test_a_replica_out_of_rotation_fails(self, memory_stack):
        """"Every replica in rotation": one replica the load balancer holds out fails with the rates fine."""
        errors, p95 = _readme_objectives()
        assert _judge(memory_stack, errors=0, p95=0, out_of_rotation="app2") == ["app2 out of rotation"]


@pytest.mark.parametrize("env, window", [({"CHAOSCTL_FAST": "1"}, 20.0), ({"CHAOSCTL_FAST": "0"}, 60.0),
                                         ({"CI": "true"}, 20.0), ({"CI": "true", "CHAOSCTL_FAST": "0"}, 60.0),
                                         ({}, 60.0)])
def test_fast_mode_shortens_the_validation_window(monkeypatch, env, window):
    """The steady state must hold 60 s, 20 s with CHAOSCTL_FAST=1 or under CI (CHAOSCTL_FAST=0 wins)."""
    monkeypatch.delenv("CHAOSCTL_FAST", raising=False)
    monkeypatch.delenv("CI", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert scoring.validation_window() == window


def test_run_state_lives_in_dot_chaos_unless_moved(monkeypatch, tmp_path):
    """Run state (and so postmortems/) is under .chaos/ of the repository, or CHAOSCTL_STATE_DIR."""
    monkeypatch.delenv("CHAOSCTL_STATE_DIR", raising=False)
    assert config.Settings().state_dir.resolve() == (REPO / ".chaos").resolve()
    monkeypatch.setenv("CHAOSCTL_STATE_DIR", str(tmp_path))
    assert config.Settings().state_dir.resolve() == tmp_path.resolve()


def test_fault_bench_prints_medians():
    """The fault bench's report gives the median per scenario and family, not the mean or the last run."""
    runs = [Run("network", "lb-loss", e, p, "PollsHighErrorRatio", r)
            for e, p, r in ((1.0, 30.0, 5.0), (2.0, 40.0, 6.0), (12.0, 95.0, 40.0))]
    runs.append(Run("disk", "disk-full", 3.0, None, "", 8.0))
    bench = FaultBench(stack=None, runs=3, progress=lambda line: None, results=runs)  # report() reads results only
    lines = {line.split()[0]: line.split() for line in bench.report().splitlines()[1:]}
    # effect p50, page p50, page max, recovery p50, then the page median over the one before #15
    assert lines["lb-loss"][1:10] == ["2.0", "s", "40.0", "s", "95.0", "s", "6.0", "s", f"{40.0 / 34.8:.2f}"]
    assert lines["[network]"][1:9] == ["2.0", "s", "40.0", "s", "95.0", "s", "6.0", "s"]
    assert lines["disk-full"][1:6] == ["3.0", "s", "-", "-", "8.0"]
    assert "no page 1)" in " ".join(lines["disk-full"])
    assert lines["[disk]"][1:3] == ["3.0", "s"]


def test_make_bench_runs_the_median_printing_benchmarks():
    """`make bench` runs every benchmark of issue #15 and the game's, each into docs/bench-<name>.txt."""
    out = subprocess.run(["make", "-n", "bench", "STAMP=/dev/null"], capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "MAKEFLAGS": ""}, timeout=60)
    loop = re.search(r"for b in (.*?); do", out.stdout.replace("\\\n", " "), re.S)
    assert loop, out.stdout
    assert re.findall(r'"([^"]+)"', loop.group(1)) == [
        "logs", "footprint", "startup", "faults --runs 3", "soak --minutes 60", "detective --seeds 10",
        "game --runs 3", "scale --replicas 1,3,6", "promclient --runs 5", "experiments"]
    assert "chaosctl bench $b" in out.stdout and "tee docs/bench-$name.txt" in out.stdout
    assert "pipefail" in out.stdout  # a failing benchmark fails `make bench`
