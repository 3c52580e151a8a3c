"""The score from a journal alone: speed bands, hints, wrong fixes, diagnosis (no stack needed)."""
from __future__ import annotations

import pytest

from chaoslib.engine.registry import FaultRecord
from chaoslib.game import scoring
from chaoslib.game.session import GameState

T0 = 1_000_000.0


def _fault() -> FaultRecord:
    return FaultRecord(id="f-1", scenario="disk-full", family="disk", targets=["app2"], params={},
                       injected_at=T0, expires_at=T0 + 2700)


def _game(*, diagnosed_after: float, recovered_after: float, family: str = "disk", hints: int = 0,
          wrong_fix: bool = False) -> GameState:
    state = GameState(seed=1, difficulty="normal", started_at=T0, fault_ids=["f-1"])
    state.events = [{"t": T0 + 20, "kind": "paged", "received_at": T0 + 20, "alertname": "PollsHighErrorRatio"},
                    {"t": T0 + diagnosed_after, "kind": "hypothesis", "version": 1, "family": family,
                     "targets": ["app2"], "evidence": "", "by": "player"}]
    state.events += [{"t": T0 + 30 + i, "kind": "hint", "level": i + 1, "text": ""} for i in range(hints)]
    if wrong_fix:
        state.events.append({"t": T0 + 40, "kind": "fix", "name": "restart", "args": {"target": "app1"}, "error": ""})
    state.events.append({"t": T0 + recovered_after, "kind": "validation", "passed": True, "problems": [],
                         "window_s": 60})
    return state


class TestSpeedBands:
    @pytest.mark.parametrize("seconds, cost", [(None, 0), (0, 0), (300, 0), (301, 5), (600, 5), (601, 10),
                                               (1200, 10), (1201, 15), (10**6, 15)])
    def test_diagnosis_costs_more_the_longer_it_takes(self, seconds, cost):
        """Diagnosing within 5 min is free; then 5, 10, 15 points lost at 10, 20 min and beyond."""
        assert scoring.speed_cost("diagnose", seconds) == cost

    @pytest.mark.parametrize("seconds, cost", [(600, 0), (601, 5), (900, 5), (1800, 10), (1801, 20)])
    def test_recovery_costs_more_the_longer_it_takes(self, seconds, cost):
        """Recovering within 10 min is free; then 5, 10, 20 points lost at 15, 30 min and beyond."""
        assert scoring.speed_cost("recover", seconds) == cost

    def test_a_slow_game_scores_less_than_a_fast_one(self):
        """A diagnosis after 4 minutes scores more than the same one after 40 minutes."""
        fast = scoring.score(_game(diagnosed_after=240, recovered_after=400), [_fault()])
        slow = scoring.score(_game(diagnosed_after=2400, recovered_after=2500), [_fault()])
        assert fast["points"] == 100 and fast["deductions"] == {}
        assert slow["points"] == 100 - 15 - 20
        assert slow["deductions"] == {"time to diagnose": 15, "time to recover": 20}


class TestScore:
    def test_times_come_from_the_journal(self):
        """Detect, diagnose and recover are measured from the game's start."""
        s = scoring.score(_game(diagnosed_after=100, recovered_after=200), [_fault()])
        assert (s["time_to_detect_s"], s["time_to_diagnose_s"], s["time_to_recover_s"]) == (20, 100, 200)

    def test_hints_wrong_fixes_and_a_wrong_diagnosis_cost_points(self):
        """10 per hint, 5 per fix aimed at an unaffected replica, 30 for the wrong family."""
        s = scoring.score(_game(diagnosed_after=100, recovered_after=200, family="network", hints=2,
                                wrong_fix=True), [_fault()])
        assert not s["diagnosis_correct"] and s["time_to_diagnose_s"] is None
        assert s["deductions"] == {"hints": 20, "wrong fixes": 5, "wrong diagnosis": 30}
        assert s["points"] == 45


def test_the_score_reads_as_a_person_would():
    """describe() gives times in seconds, yes/no and the points lost with their reasons."""
    s = scoring.score(_game(diagnosed_after=2400, recovered_after=2500, hints=1), [_fault()])
    lines = scoring.describe(s)
    assert "time to detect: 20 s" in lines and "time to diagnose: 2400 s" in lines
    assert "diagnosis correct: yes" in lines
    assert "points lost: hints -10; time to diagnose -15; time to recover -20" in lines
    assert lines[-1] == f"points: {s['points']}" == "points: 55"


def _two_faults() -> list[FaultRecord]:
    return [_fault(), FaultRecord(id="f-2", scenario="lb-loss", family="network", targets=["app3"],
                                  params={"fraction": 0.4}, injected_at=T0, expires_at=T0 + 2700)]


def _hard_game(findings: list[dict]) -> GameState:
    state = GameState(seed=1, difficulty="hard", started_at=T0, fault_ids=["f-1", "f-2"])
    state.events = [{"t": T0 + 60, "kind": "hypothesis", "version": 1, "findings": findings, "evidence": "",
                     "by": "player"},
                    {"t": T0 + 120, "kind": "validation", "passed": True, "problems": [], "window_s": 60}]
    return state


class TestTwoFaults:
    def test_both_findings_right_is_a_right_diagnosis(self):
        """Naming each fault of a two-fault game with its replicas is a right diagnosis, at full points."""
        s = scoring.score(_hard_game([{"family": "disk", "targets": ["app2"]},
                                      {"family": "network", "targets": ["app3"]}]), _two_faults())
        assert (s["diagnosis_correct"], s["findings_right"], s["findings_out_of"], s["points"]) == (True, 2, 2, 100)
        assert s["time_to_diagnose_s"] == 60

    def test_one_finding_of_two_earns_half_the_diagnosis_points(self):
        """Naming one fault of two costs half the wrong-diagnosis points, and the diagnosis is not correct."""
        s = scoring.score(_hard_game([{"family": "disk", "targets": ["app2"]}]), _two_faults())
        assert (s["diagnosis_correct"], s["findings_right"], s["findings_out_of"]) == (False, 1, 2)
        assert s["deductions"]["wrong diagnosis"] == scoring.WRONG_DIAGNOSIS_COST // 2
        assert s["time_to_diagnose_s"] is None

    def test_an_extra_finding_costs_like_a_missing_one(self):
        """Naming a fault that is not there beside the right one is not a free guess."""
        s = scoring.score(_game(diagnosed_after=60, recovered_after=120), [_fault()])
        assert s["diagnosis_correct"]
        state = _hard_game([{"family": "disk", "targets": ["app2"]}, {"family": "resources", "targets": ["app1"]}])
        guess = scoring.score(state, [_fault()])
        assert (guess["diagnosis_correct"], guess["findings_right"], guess["findings_out_of"]) == (False, 1, 2)

    def test_the_score_says_how_many_faults_were_named(self):
        """describe() says "1 of 2 faults named right" when the game had two faults."""
        lines = scoring.describe(scoring.score(_hard_game([{"family": "disk", "targets": ["app2"]}]), _two_faults()))
        assert any("1 of 2 faults named right" in line for line in lines), lines


class TestEffectGone:
    def test_an_unknown_family_is_an_error_not_fixed(self):
        """A fault of a family the catalogue does not know is never counted as undone."""
        from chaoslib.errors import UsageError

        ghost = FaultRecord(id="f-9", scenario="solar-flare", family="cosmic", targets=["app1"], params={},
                            injected_at=T0, expires_at=T0 + 60)
        with pytest.raises(UsageError, match="unknown fault family 'cosmic'"):
            scoring.effect_gone(object(), ghost)
