"""The injector, registry, game, scoring and draw run on the in-memory backend: seconds, no root, no stack."""
from __future__ import annotations

import pytest

from chaoslib import faults as catalogue
from chaoslib.backends.memory import MemoryBackend
from chaoslib.engine.injector import active_faults, all_faults, heal, heal_expired, inject, panic
from chaoslib.engine.registry import HEALED, Registry
from chaoslib.errors import FaultError, GameError, UsageError
from chaoslib.faults import SCENARIOS
from chaoslib.game import Finding, Game, scoring
from chaoslib.game import session as game
from chaoslib.game.draw import DIFFICULTIES, draw
from chaoslib.stack import Stack

#: Every scenario the memory backend's features allow (all but the netem one).
RUNNABLE = sorted(n for n, sc in SCENARIOS.items() if not MemoryBackend.features.lacks(sc.requires))


def right_fix(stack: Stack, scenario: str, target: str) -> None:
    """What an engineer who understood the fault would do: its family's fix, through the player's fixes."""
    catalogue.family(SCENARIOS[scenario].family).autofix(stack, target, lambda s, n, **kw: game.apply_fix(s, n, **kw))


def _all_running(stack: Stack) -> bool:
    return all(s.state == "RUNNING" and s.healthy for s in stack.status())


class TestInjector:
    @pytest.mark.parametrize("scenario", RUNNABLE)
    def test_inject_is_recorded_and_heal_undoes_it(self, memory_stack, scenario):
        """Each scenario changes the footprint and is recorded; heal restores the footprint exactly."""
        before = memory_stack.backend.fault_footprint()
        record = inject(memory_stack, scenario, targets=["app2"])
        assert memory_stack.backend.fault_footprint() != before
        assert [(r.id, r.scenario, r.targets) for r in active_faults(memory_stack)] == [(record.id, scenario, ["app2"])]
        assert record.undo and not record.injecting
        healed = heal(memory_stack, record.id)
        assert healed.status == HEALED and healed.healed_by == "heal"
        assert memory_stack.backend.fault_footprint() == before
        assert _all_running(memory_stack)
        assert heal(memory_stack, record.id).healed_at == healed.healed_at  # healing twice changes nothing

    def test_panic_undoes_every_fault(self, memory_stack):
        """panic heals every active fault, sweeps, and leaves the footprint as before."""
        before = memory_stack.backend.fault_footprint()
        ids = [inject(memory_stack, sc, targets=[t]).id
               for sc, t in (("disk-crashloop", "app1"), ("memory-starve", "app2"), ("lb-cutoff", "app3"))]
        lines = panic(memory_stack)
        assert [f"healed {i}" for i in ids] == [line for line in lines if line.startswith("healed")]
        assert not [line for line in lines if line.startswith("could not")]
        assert active_faults(memory_stack) == [] and memory_stack.backend.fault_footprint() == before
        assert _all_running(memory_stack)

    def test_panic_sweeps_what_the_registry_does_not_know(self, memory_stack):
        """Junk and rules with no record are still removed by panic's sweep."""
        before = memory_stack.backend.fault_footprint()
        memory_stack.backend.write_file(target="app1", path="tmp/x.bin", size_bytes=2**20, tag="f-lost")
        memory_stack.backend.drop_packets(key="f-lost", source="lb", target="app2", fraction=0.3)
        assert "removed app1:tmp/x.bin" in panic(memory_stack)
        assert memory_stack.backend.fault_footprint() == before

    def test_ttl_expiry_heals_only_expired_faults(self, memory_stack):
        """heal_expired (what the warden runs) undoes a fault whose time ran out, and only that one."""
        before = memory_stack.backend.fault_footprint()
        old = inject(memory_stack, "cpu-starve", targets=["app1"], ttl_s=60)
        young = inject(memory_stack, "lb-loss", targets=["app2"], ttl_s=60)
        assert heal_expired(memory_stack) == ([], [])
        with Registry(memory_stack.settings.faults_file).transaction() as records:
            next(r for r in records if r.id == old.id).expires_at = 0
        assert heal_expired(memory_stack) == ([old.id], [])
        assert [r.id for r in active_faults(memory_stack)] == [young.id]
        heal(memory_stack, young.id)
        assert memory_stack.backend.fault_footprint() == before

    @pytest.mark.parametrize("scenario, targets, params, ttl", [
        ("no-such-scenario", ["app1"], {}, None),
        ("lb-loss", ["app9"], {}, None),
        ("lb-loss", [], {}, None),
        ("lb-loss", ["app1", "app1"], {}, None),
        ("lb-loss", ["app1"], {"fraction": 2.0}, None),
        ("lb-loss", ["app1"], {"bogus": 1}, None),
        ("lb-latency", ["app1"], {}, None),
        ("disk-full", ["app1"], {}, 0),
    ])
    def test_a_bad_request_changes_nothing(self, memory_stack, scenario, targets, params, ttl):
        """A refused request leaves no record and no trace."""
        before = memory_stack.backend.fault_footprint()
        with pytest.raises(UsageError):
            inject(memory_stack, scenario, targets=targets, params=params, ttl_s=ttl)
        assert all_faults(memory_stack) == [] and memory_stack.backend.fault_footprint() == before

    def test_a_busy_target_is_refused(self, memory_stack):
        """A second fault on a target that has one is refused; the first stays."""
        first = inject(memory_stack, "disk-full", targets=["app1"])
        with pytest.raises(UsageError, match="already has an active fault"):
            inject(memory_stack, "lb-cutoff", targets=["app1"])
        assert [r.id for r in active_faults(memory_stack)] == [first.id]

    def test_a_failed_injection_is_undone(self, memory_stack, monkeypatch):
        """When a primitive fails mid-injection, what was done is undone and the record is healed."""
        before = memory_stack.backend.fault_footprint()

        def broken(*, target: str) -> None:
            raise FaultError(f"cannot restart {target}")

        monkeypatch.setattr(memory_stack.backend, "restart", broken)
        with pytest.raises(FaultError, match="cannot restart app1"):
            inject(memory_stack, "disk-crashloop", targets=["app1"])
        assert memory_stack.backend.fault_footprint() == before
        assert [r.healed_by for r in all_faults(memory_stack)] == ["failed-inject"]

    def test_a_stopped_stack_refuses_injection(self, memory_stack):
        """Nothing is injected into a stack that is down."""
        memory_stack.down()
        with pytest.raises(Exception, match="not running"):
            inject(memory_stack, "disk-full", targets=["app1"])


class TestRegistry:
    def test_records_outlive_the_stack_object(self, memory_stack):
        """The registry is on disk: another Stack over the same state sees and heals the fault."""
        record = inject(memory_stack, "lb-cutoff", targets=["app1"])
        other = Stack(memory_stack.backend, settings=memory_stack.settings)
        assert [r.id for r in active_faults(other)] == [record.id]
        assert [s["op"] for s in active_faults(other)[0].undo] == ["remove_network_rules"]
        heal(other, record.id)
        assert active_faults(memory_stack) == [] and memory_stack.backend.network_rules() == []

    def test_healing_an_unknown_fault_is_a_usage_error(self, memory_stack):
        """heal names the active faults when the id is unknown."""
        record = inject(memory_stack, "disk-full", targets=["app3"])
        with pytest.raises(UsageError, match="no fault 'f-nope'") as e:
            heal(memory_stack, "f-nope")
        assert record.id in e.value.hint


class TestEffectGone:
    @pytest.mark.parametrize("scenario", RUNNABLE)
    def test_only_the_right_fix_removes_the_effect(self, memory_stack, scenario):
        """effect_gone is False once injected, still False after a restart, True after the right fix."""
        backend = memory_stack.backend
        record = inject(memory_stack, scenario, targets=["app1"])
        assert not scoring.effect_gone(backend, record)[0]
        backend.restart(target="app1")
        gone, why = scoring.effect_gone(backend, record)
        assert not gone and "app1" in why
        right_fix(memory_stack, scenario, "app1")
        assert scoring.effect_gone(backend, record)[0]
        assert _all_running(memory_stack)


def _play(stack: Stack, *, family: str, seed: int = 7, difficulty: str = "easy") -> Game:
    g = Game(stack, autopilot=False)
    g.start(seed=seed, difficulty=difficulty, families=[family], steady_timeout=0)
    return g


def _records(g: Game) -> list:
    return game.game_faults(g.stack, game.require_game(g.stack))


class TestGame:
    @pytest.mark.parametrize("family", ["network", "disk", "resources", "deploy", "database"])
    def test_a_whole_game(self, memory_stack, family):
        """Play, hypothesis, hint, a wrong then the right fix, validation and score, with status() as the judge."""
        g = _play(memory_stack, family=family)
        faults = _records(g)
        assert [f.family for f in faults] == [family] and all(f.hidden for f in faults)
        assert not any(scoring.effect_gone(memory_stack.backend, f)[0] for f in faults)
        targets = sorted({t for f in faults for t in f.targets})
        recorded = g.hypothesis([Finding(family, tuple(targets))], evidence="status says so")
        assert (recorded.version, recorded.findings) == (1, (Finding(family, tuple(targets)),))
        hint = g.hint()
        assert (hint.level, hint.text, hint.cost) == (1, game.HINTS[1], 10)
        for t in targets:
            g.apply_fix("restart", target=t)
        failed = g.validate(window_s=0, recover_s=0)
        assert not failed.passed and failed.problems
        assert active_faults(memory_stack)
        for f in faults:
            for t in f.targets:
                right_fix(memory_stack, f.scenario, t)
        assert g.validate(window_s=0, recover_s=0).passed
        assert active_faults(memory_stack) == [] and _all_running(memory_stack)
        outcome = g.finish(write_postmortem=False)
        assert [(f.scenario, f.family, list(f.targets)) for f in outcome.faults] == \
            [(f.scenario, family, f.targets) for f in faults]
        score = outcome.score
        assert score.diagnosis_correct and score.hints_used == 1 and score.wrong_fixes == 0
        assert score.time_to_detect_s is None  # no monitoring: nothing pages
        assert score.points == 100 - 10  # README: "10 points each" hint
        assert "time to detect: never" in score.lines and f"points: {score.points}" in score.lines
        assert g.info().status == "finished" and g.score() == score

    def test_play_waits_for_a_healthy_status(self, memory_stack):
        """Without monitoring, play trusts status(): an unhealthy replica keeps the game from starting."""
        memory_stack.backend.stop(target="app2")
        with pytest.raises(GameError, match="app2 unhealthy"):
            _play(memory_stack, family="disk")
        assert all_faults(memory_stack) == [] and Game(memory_stack).info() is None

    def test_play_again_returns_the_game_in_progress(self, memory_stack):
        """Re-running play does not inject twice; another seed is refused."""
        g = _play(memory_stack, family="network")
        first = [f.id for f in _records(g)]
        assert [f.id for f in _records(_play(memory_stack, family="network"))] == first
        with pytest.raises(GameError):
            _play(memory_stack, family="network", seed=8)
        assert len(all_faults(memory_stack)) == len(first)

    def test_wrong_hypothesis_and_wrong_fixes_cost_points(self, memory_stack):
        """A wrong family, a fix on an untouched replica and a failed fix lose points; the game is not recovered."""
        g = _play(memory_stack, family="disk")
        hit = set(_records(g)[0].targets)
        spare = next(t for t in memory_stack.targets() if t not in hit)
        g.hypothesis([{"family": "network", "targets": [spare]}], evidence="a guess")
        g.apply_fix("restart", target=spare)
        with pytest.raises(UsageError):
            g.apply_fix("delete_files", target=spare, paths=[])
        score = g.finish(write_postmortem=False).score  # finished, not given up: the answer counts (wrong)
        assert score.wrong_fixes == 2 and not score.diagnosis_correct and score.answer == "wrong"
        # README: -5 per wrong fix, -30 for a wrong diagnosis, -40 for a fix that never validated.
        assert score.points == 100 - 2 * 5 - 30 - 40
        assert score.deductions == {"wrong fixes": 10, "wrong diagnosis": 30, "not recovered": 40}
        assert "diagnosis correct: no" in score.lines

    def test_a_hard_game_with_two_faults(self, memory_stack):
        """A hard draw with two overlapping faults is played and fixed like any other."""
        features, targets = memory_stack.backend.features, memory_stack.targets()
        seed = next(s for s in range(200) if len(draw(seed=s, difficulty="hard", targets=targets, features=features,
                                                      families=["resources"])) == 2)
        g = _play(memory_stack, family="resources", seed=seed, difficulty="hard")
        faults = _records(g)
        assert len({f.family for f in faults}) == 2
        truth = g.truth()
        first = next(iter(truth))
        g.hypothesis([{"family": first, "targets": truth[first]}], evidence="one")
        g.hypothesis([{"family": fam, "targets": tgts} for fam, tgts in truth.items()], evidence="both")
        assert [h.version for h in g.hypotheses()] == [1, 2]
        assert g.hint().text == game.HINTS[1]
        families = g.hint().text
        assert "2 faults" in families and all(catalogue.family(fam).hint in families for fam in truth)
        replicas = g.hint().text
        assert all(f"{fam} on {', '.join(tgts)}" in replicas for fam, tgts in truth.items())
        for f in faults:
            for t in f.targets:
                right_fix(memory_stack, f.scenario, t)
        assert g.validate(window_s=0, recover_s=0).passed
        score = g.finish(write_postmortem=False).score
        assert (score.diagnosis_correct, score.findings_right, score.findings_out_of) == (True, 2, 2)
        assert score.points == 100 - 3 * 10

    def test_findings_are_checked_before_anything_is_recorded(self, memory_stack):
        """A family named twice, a replica in two findings, or an unknown family: one-line errors, nothing recorded."""
        g = _play(memory_stack, family="disk")
        for bad, match in (([{"family": "disk", "targets": ["app1"]}, {"family": "disk", "targets": ["app2"]}],
                            "disk is named in two findings"),
                           ([{"family": "disk", "targets": ["app1"]}, {"family": "network", "targets": ["app1"]}],
                            "app1 is named in two findings"),
                           ([{"family": "cosmic", "targets": ["app1"]}], "family must be one of"),
                           ([{"family": "disk", "targets": []}], "name the replicas"), ([], "at least one finding")):
            with pytest.raises(UsageError, match=match):
                g.hypothesis(bad, evidence="")
        assert g.hypotheses() == []

    def test_no_game_no_hypothesis(self, memory_stack):
        """A hypothesis, a hint or a validation without a game are refused; a bad family is a usage error."""
        g = Game(memory_stack)
        with pytest.raises(GameError):
            g.hypothesis([Finding("disk", ("app1",))], evidence="")
        with pytest.raises(GameError):
            g.validate(window_s=0, recover_s=0)
        with pytest.raises(GameError):
            g.hint()
        with pytest.raises(UsageError, match="family"):
            g.hypothesis([Finding("cosmic-rays", ("app1",))], evidence="")

    def test_the_family_setting_limits_the_draw(self, memory_stack, monkeypatch):
        """CHAOSCTL_FAMILY (read by config) limits the draw when start names no family; a bad name is one line."""
        monkeypatch.setenv("CHAOSCTL_FAMILY", "resources")
        g = Game(memory_stack, autopilot=False)
        g.start(seed=3, steady_timeout=0)
        assert set(g.truth()) == {"resources"}
        g.panic()
        monkeypatch.setenv("CHAOSCTL_FAMILY", "cosmic")
        with pytest.raises(UsageError, match="unknown fault family 'cosmic'"):
            Game(memory_stack).start(seed=3, steady_timeout=0)


class TestDraw:
    @pytest.mark.parametrize("difficulty", DIFFICULTIES)
    def test_every_draw_injects_and_panics_cleanly(self, memory_stack, difficulty):
        """Drawn incidents use only what the backend can do, inject whole, and panic leaves no trace."""
        backend = memory_stack.backend
        before = backend.fault_footprint()
        for seed in range(15):
            drawn = draw(seed=seed, difficulty=difficulty, targets=memory_stack.targets(), features=backend.features)
            assert all(d.scenario in RUNNABLE for d in drawn)
            records = [inject(memory_stack, d.scenario, targets=d.targets, params=d.params) for d in drawn]
            assert [(r.scenario, r.targets) for r in records] == [(d.scenario, d.targets) for d in drawn]
            panic(memory_stack)
            assert backend.fault_footprint() == before, (seed, drawn)
