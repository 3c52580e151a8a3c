"""README promises that need no live stack: the catalogue, difficulty ranges, hint costs, fast mode, bench medians."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chaoslib import config
from chaoslib.backends.base import Features
from chaoslib.bench.faults import FaultBench, Run
from chaoslib.engine.registry import FaultRecord
from chaoslib.faults import FAMILIES, SCENARIOS
from chaoslib.game import scoring
from chaoslib.game.draw import draw
from chaoslib.game.session import GameState

REPO = Path(__file__).resolve().parents[2]
TARGETS = ["app1", "app2", "app3"]
FEATURES = Features(has_netem=False)
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

    def test_catalogue_text_is_one_line_per_scenario(self, tmp_path):
        """`chaosctl faults --catalogue` prints one line per scenario, starting with its name."""
        out = _chaosctl("faults", "--catalogue", tmp_path=tmp_path)
        assert out.returncode == 0, out.stderr
        assert sorted(line.split()[0] for line in out.stdout.splitlines()) == sorted(SCENARIOS)


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
        out[level] = {"lb-loss": (int(loss[1]) / 100, int(loss[2]) / 100),
                      "cpu-starve": (int(cpu[1]) / 100, int(cpu[2]) / 100),
                      "memory-starve": (int(mem[1]), int(mem[2] or mem[1]))}
    return out


def _drawn(level: str):
    return [draw(seed=s, difficulty=level, targets=TARGETS, features=FEATURES) for s in SEEDS]


class TestDifficulty:
    @pytest.mark.parametrize("level", ["easy", "normal", "hard"])
    def test_parameters_span_the_readme_ranges(self, level):
        """Over 2000 seeds, every drawn strength lies in the README's range for its difficulty and
        the draws reach both ends of it (within a tenth of its width)."""
        ranges = _readme_ranges()[level]
        seen: dict[str, list[float]] = {name: [] for name in ranges}
        for incident in _drawn(level):
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


def _game(hints: int) -> GameState:
    state = GameState(seed=1, difficulty="normal", started_at=T0, fault_ids=["f-1"])
    state.events = [{"t": T0 + 20, "kind": "paged", "received_at": T0 + 20, "alertname": "PollsHighErrorRatio"},
                    {"t": T0 + 60, "kind": "hypothesis", "version": 1, "family": "disk", "targets": ["app2"],
                     "evidence": "", "by": "player"}]
    state.events += [{"t": T0 + 30 + i, "kind": "hint", "level": i + 1, "text": ""} for i in range(hints)]
    state.events.append({"t": T0 + 120, "kind": "validation", "passed": True, "problems": [], "window_s": 60})
    return state


@pytest.mark.parametrize("hints", [0, 1, 2, 3])
def test_each_hint_costs_ten_points(hints):
    """A journal with N hints and an otherwise perfect game scores 100 - 10 N."""
    fault = FaultRecord(id="f-1", scenario="disk-full", family="disk", targets=["app2"], params={},
                        injected_at=T0, expires_at=T0 + 2700)
    s = scoring.score(_game(hints), [fault])
    assert s["hints_used"] == hints
    assert s["points"] == 100 - 10 * hints
    assert s["deductions"].get("hints", 0) == 10 * hints


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
        "game --runs 3", "scale --replicas 1,3,6"]
    assert "chaosctl bench $b" in out.stdout and "tee docs/bench-$name.txt" in out.stdout
    assert "pipefail" in out.stdout  # a failing benchmark fails `make bench`
