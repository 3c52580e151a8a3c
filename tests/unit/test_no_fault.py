"""No-fault rounds and red herrings (issue #24, item 2): the draw, a whole game both ways, herrings, the score."""
from __future__ import annotations

import hashlib
import json

import pytest

from chaoslib.backends.base import Features
from chaoslib.cli import args as cli_args
from chaoslib.cli.main import main
from chaoslib.engine.injector import active_faults, all_faults, heal_expired, panic
from chaoslib.engine.registry import Registry
from chaoslib.errors import UsageError
from chaoslib.faults import BENIGN, FAMILIES, SCENARIOS, herrings
from chaoslib.game import Finding, Game, steady, widgets
from chaoslib.game import session as game
from chaoslib.game.draw import (
    DIFFICULTIES,
    NO_FAULT_RATE,
    draw,
    draw_game,
    families_of,
    no_fault_round,
)
from chaoslib.stack import Stack

TARGETS = ["app1", "app2", "app3"]
NO_NETEM = Features(has_netem=False)
#: sha256 of every (seed, difficulty, incident) for seeds 1..200 that is not a no-fault round, drawn by
#: chaoslib/game/draw.py as it was before no-fault rounds existed (git HEAD b9165f8): the same incidents now.
DRAWS_BEFORE = "4ead14cf76f3c0a4990121aee66661dc8108ec3dd6968200f7c239941661414d"


def _start(stack: Stack, *, seed: int = 5, difficulty: str = "normal", no_fault: bool | None = True,
           families: list[str] | None = None) -> Game:
    g = Game(stack, autopilot=False)
    g.start(seed=seed, difficulty=difficulty, families=families, no_fault=no_fault, steady_timeout=0)
    return g


class TestTheDraw:
    @pytest.mark.parametrize("difficulty", DIFFICULTIES)
    def test_the_rate_over_1000_seeds(self, difficulty):
        """About one game in ten (NO_FAULT_RATE) is a no-fault round, at every difficulty (7-13 % of 1,000)."""
        share = sum(draw_game(seed=s, difficulty=difficulty, targets=TARGETS, features=NO_NETEM).no_fault
                    for s in range(1000)) / 1000
        assert NO_FAULT_RATE == 0.1 and 0.07 <= share <= 0.13, share

    def test_other_seeds_draw_what_they_drew_before(self):
        """Seeds 1..200 that are not no-fault rounds draw exactly the incidents they drew before."""
        kept = [(s, d) for d in DIFFICULTIES for s in range(1, 201) if not no_fault_round(seed=s, difficulty=d)]
        rows = [(s, d, [(x.scenario, x.targets, x.params) for x in draw_game(
            seed=s, difficulty=d, targets=TARGETS, features=NO_NETEM).faults]) for s, d in kept]
        assert rows == [(s, d, [(x.scenario, x.targets, x.params) for x in draw(
            seed=s, difficulty=d, targets=TARGETS, features=NO_NETEM)]) for s, d in kept]
        assert hashlib.sha256(repr(rows).encode()).hexdigest() == DRAWS_BEFORE
        assert 500 < len(kept) < 600  # the no-fault ones (about a tenth) are left out

    def test_seeds_the_tests_pin_are_not_no_fault_rounds(self):
        """The seeds live tests play with no family forced still draw a fault (3 hard, 3 and 42 and 6 normal)."""
        for seed, difficulty in ((3, "hard"), (3, "normal"), (42, "normal"), (6, "normal")):
            assert not no_fault_round(seed=seed, difficulty=difficulty), (seed, difficulty)

    def test_a_forced_family_never_draws_a_no_fault_round(self):
        """A player practising one family (or several) always gets a fault; every family, or none named, may not."""
        for seed in range(1000):
            for families in (["disk"], ["network", "resources"]):
                assert draw_game(seed=seed, difficulty="normal", targets=TARGETS, features=NO_NETEM,
                                 families=families).faults
        assert families_of(["all"]) == list(FAMILIES)
        every = [draw_game(seed=s, difficulty="easy", targets=TARGETS, features=NO_NETEM, families=list(FAMILIES))
                 for s in range(100)]
        assert any(g.no_fault for g in every)

    def test_asked_for_or_ruled_out(self):
        """no_fault=True asks for one whatever the family; False rules it out whatever the seed."""
        seed = next(s for s in range(100) if no_fault_round(seed=s, difficulty="normal"))
        assert draw_game(seed=seed, difficulty="normal", targets=TARGETS, features=NO_NETEM, no_fault=False).faults
        assert draw_game(seed=1, difficulty="easy", targets=TARGETS, features=NO_NETEM, families=["disk"],
                         no_fault=True).faults == []
        with pytest.raises(UsageError, match="difficulty must be one of"):
            draw_game(seed=1, difficulty="nightmare", targets=TARGETS, features=NO_NETEM, no_fault=True)

    def test_herrings_only_at_hard_on_replicas_the_fault_leaves_alone(self):
        """Hard plants one or two herrings, each on its own free replica; easy and normal plant none."""
        features = Features(log_lines=True, load_burst=True)
        for seed in range(300):
            assert not draw_game(seed=seed, difficulty="normal", targets=TARGETS, features=features).herrings
            g = draw_game(seed=seed, difficulty="hard", targets=TARGETS, features=features)
            hit = {t for d in g.faults for t in d.targets}
            spots = [t for h in g.herrings for t in h.targets]
            assert len(spots) == len(set(spots)) and not hit & set(spots)
            assert all(h.scenario in BENIGN and h.family == "herrings" for h in g.herrings)
            assert g.herrings or len(hit) == len(TARGETS)
        kinds = {h.scenario for s in range(300) for h in draw_game(seed=s, difficulty="hard", targets=TARGETS,
                                                                   features=features).herrings}
        assert kinds == set(BENIGN)
        # A backend that cannot write a log line gets only the backup.
        assert {h.scenario for s in range(100) for h in draw_game(seed=s, difficulty="hard", targets=TARGETS,
                                                                  features=NO_NETEM).herrings} == {"herring-backup"}

    def test_herrings_are_never_a_family(self):
        """No herring is a scenario of the catalogue's families: nothing draws one as the fault or names it."""
        assert not set(BENIGN) & set(SCENARIOS) and "herrings" not in FAMILIES
        assert all(sc.benign and sc.family == herrings.HERRINGS for sc in BENIGN.values())
        assert not any(sc.benign for sc in SCENARIOS.values())


class TestANoFaultRound:
    def test_played_right_no_fault_keeps_every_point(self, memory_stack):
        """Nothing injected, no page, validation passes; the answer "no fault" scores full points."""
        before = memory_stack.backend.fault_footprint()
        g = _start(memory_stack)
        assert g.in_progress() and all_faults(memory_stack) == [] and g.truth() == {}
        assert memory_stack.backend.fault_footprint() == before
        assert g.page(wait_s=0) is None
        recorded = g.hypothesis(no_fault=True, evidence="every replica healthy, no page")
        assert (recorded.no_fault, recorded.findings, recorded.version) == (True, (), 1)
        assert g.hypotheses() == [recorded]
        assert g.validate(window_s=0, recover_s=0).passed
        outcome = g.finish(write_postmortem=False)
        score = outcome.score
        assert outcome.faults == () and outcome.herrings == ()
        assert (score.points, score.diagnosis_correct, score.answer, score.no_fault_round) == (100, True, "right", True)
        assert (score.wrong_answers, score.declined_answers, score.deductions) == (0, 0, {})
        assert "answer: right (a no-fault round: nothing was injected)" in score.lines

    def test_played_wrong_an_invented_fault_is_a_wrong_answer(self, memory_stack):
        """Naming a fault where there is none, and fixing it: wrong answer, -30, -40 invented, -5 the fix."""
        g = _start(memory_stack)
        g.hypothesis([Finding("disk", ("app2",))], evidence="app2 looks odd")
        g.apply_fix("restart", target="app2")  # nothing was broken: any fix is a wrong one
        score = g.finish(write_postmortem=False).score
        assert (score.answer, score.diagnosis_correct, score.wrong_answers, score.declined_answers) == \
            ("wrong", False, 1, 0)
        assert score.deductions == {"wrong fixes": 5, "wrong diagnosis": 30, "invented fault": 40}
        assert score.points == 100 - 5 - 30 - 40

    def test_no_fault_in_a_fault_round_is_a_wrong_answer(self, memory_stack):
        """Saying "no fault" when there is one: wrong (-30), and the fault was never fixed (-40)."""
        g = _start(memory_stack, seed=4, families=["disk"], no_fault=None)
        assert g.truth()
        g.hypothesis(no_fault=True)
        score = g.finish(write_postmortem=False).score
        assert (score.answer, score.wrong_answers, score.declined_answers, score.no_fault_round) == \
            ("wrong", 1, 0, False)
        assert score.deductions == {"wrong diagnosis": 30, "not recovered": 40} and score.points == 30

    @pytest.mark.parametrize("no_fault", [True, False])
    def test_giving_up_is_declined_not_wrong(self, memory_stack, no_fault):
        """Giving up (even after a hypothesis) is a declined answer, counted apart from a wrong one."""
        g = _start(memory_stack, seed=4, families=["disk"], no_fault=no_fault)
        g.hypothesis([Finding("network", ("app1",))])
        score = g.give_up().score
        assert (score.answer, score.declined_answers, score.wrong_answers, score.diagnosis_correct) == \
            ("declined", 1, 0, False)
        assert score.deductions["no answer"] == 30 and "wrong diagnosis" not in score.deductions
        assert score.points == (70 if no_fault else 30)

    def test_the_hints_give_nothing_away_until_the_last(self, memory_stack):
        """Hint 1 is every game's; hint 2 names no family; the last asks whether anything is wrong at all."""
        g = _start(memory_stack)
        texts = [g.hint().text for _ in range(3)]
        assert texts[0] == game.HINTS[1] and texts[1] == game.NO_FAULT_HINTS[2]
        assert not any(name in texts[1] for name in FAMILIES)
        assert "whether anything is actually wrong" in texts[2]

    def test_a_hypothesis_is_either_no_fault_or_findings(self, memory_stack):
        g = _start(memory_stack)
        with pytest.raises(UsageError, match="no-fault hypothesis names no finding"):
            g.hypothesis([Finding("disk", ("app1",))], no_fault=True)
        with pytest.raises(UsageError, match="at least one finding"):
            g.hypothesis([])
        assert g.hypotheses() == []

    def test_the_postmortem_says_so(self, memory_stack):
        g = _start(memory_stack)
        g.hypothesis(no_fault=True)
        text = open(g.finish(plots=False).postmortem or "").read()
        assert "this was a no-fault round" in text and "**no fault**" in text


class TestRedHerrings:
    def _hard(self, stack: Stack, *, no_fault: bool, kinds: set[str] | None = None) -> Game:
        """A hard game planting two herrings (of `kinds` if named)."""
        def planted(s: int) -> set[str]:
            return {h.scenario for h in draw_game(seed=s, difficulty="hard", targets=stack.targets(),
                                                  features=stack.backend.features).herrings}
        seed = next(s for s in range(500) if len(planted(s)) == 2 and (kinds is None or planted(s) == kinds))
        return _start(stack, seed=seed, difficulty="hard", no_fault=no_fault)

    def test_planted_harmless_and_undone_by_panic(self, memory_stack):
        """Both herrings planted (a WARNING in a log, a backup on a disk): healthy, not the truth; panic undoes."""
        backend = memory_stack.backend
        before = backend.fault_footprint()
        g = self._hard(memory_stack, no_fault=True, kinds={"herring-warning", "herring-backup"})
        planted = {r.scenario: r for r in active_faults(memory_stack)}
        assert set(planted) == {"herring-warning", "herring-backup"}
        assert all(r.hidden and r.family == "herrings" for r in planted.values())
        assert g.truth() == {} and g.injected_scenarios() == []
        assert steady.status_problems(memory_stack) == []  # harmless: every replica healthy
        (warned,) = planted["herring-warning"].targets
        line = json.loads(backend.tail_log(service=warned, lines=1))
        assert (line["level"], line["replica"]) == ("WARNING", warned)
        (backed,) = planted["herring-backup"].targets
        usage = backend.disk_usage(target=backed)
        assert 0.2 <= usage.used_ratio <= 0.3 and any(f.path.startswith("backups/") for f in backend.list_files(
            target=backed))
        assert g.hint().text == game.HINTS[1]
        g.panic()
        assert active_faults(memory_stack) == [] and backend.fault_footprint() == before

    def test_a_burst_of_traffic_paces_the_load_up_until_undone(self, memory_stack):
        """The burst herring raises the load generator's pace by BURST_FACTOR; panic's undo sets it back."""
        backend = memory_stack.backend
        before = backend.fault_footprint()
        g = self._hard(memory_stack, no_fault=True, kinds={"herring-burst", "herring-backup"})
        assert {r.scenario for r in active_faults(memory_stack)} == {"herring-burst", "herring-backup"}
        assert backend.load_factor() == herrings.BURST_FACTOR > 1 and g.truth() == {}
        assert steady.status_problems(memory_stack) == []
        g.panic()
        assert backend.load_factor() == 1 and backend.fault_footprint() == before

    def test_the_sweep_sets_a_stray_pace_back(self, memory_stack):
        """A pace no record knows of (a crash between the write and the record) is swept by panic too."""
        backend = memory_stack.backend
        backend.set_load_factor(factor=3.0)
        assert "set the load generator's pace back to steady" in panic(memory_stack)
        assert backend.load_factor() == 1

    def test_undone_by_their_time_to_live_and_at_the_game_end(self, memory_stack):
        """An expired herring is healed by the warden's sweep; the rest at the game's end, never scored."""
        backend = memory_stack.backend
        before = backend.fault_footprint()
        g = self._hard(memory_stack, no_fault=True, kinds={"herring-warning", "herring-backup"})
        with Registry(memory_stack.settings.faults_file).transaction() as records:
            next(r for r in records if r.scenario == "herring-backup").expires_at = 0
        healed, failed = heal_expired(memory_stack)
        assert len(healed) == 1 and failed == [] and backend.fault_footprint() == before
        g.hypothesis(no_fault=True)
        outcome = g.finish(write_postmortem=False)
        assert {h.scenario for h in outcome.herrings} == {"herring-warning", "herring-backup"} and outcome.faults == ()
        assert outcome.score.points == 100 and active_faults(memory_stack) == []

    def test_a_hard_game_with_a_fault_and_herrings(self, memory_stack):
        """The fault is the answer; the herrings are not part of it; fixing a herring's replica is a wrong fix."""
        g = self._hard(memory_stack, no_fault=False)
        truth = g.truth()
        assert truth and "herrings" not in truth
        herring_spots = {t for r in active_faults(memory_stack) if r.scenario in BENIGN for t in r.targets}
        assert herring_spots and not herring_spots & {t for ts in truth.values() for t in ts}
        g.hypothesis([{"family": fam, "targets": ts} for fam, ts in truth.items()])
        g.apply_fix("restart", target=sorted(herring_spots)[0])
        score = g.give_up().score
        assert score.wrong_fixes == 1 and score.findings_out_of == len(truth)
        panic(memory_stack)


class TestTheForms:
    def test_the_hypothesis_form_has_a_nothing_is_wrong_box(self, memory_stack):
        g = _start(memory_stack)
        form = widgets.hypothesis_form(g)
        form.no_fault.value = True
        form.submit()
        assert g.hypotheses()[-1].no_fault and g.hypotheses()[-1].findings == ()

    def test_the_reveal_says_no_fault_and_lists_the_herrings(self, memory_stack, monkeypatch):
        shown: list[str] = []
        monkeypatch.setattr(widgets, "display", lambda obj: shown.append(obj.data))
        seed = next(s for s in range(200) if draw_game(seed=s, difficulty="hard", targets=TARGETS,
                                                       features=memory_stack.backend.features).herrings)
        g = _start(memory_stack, seed=seed, difficulty="hard")
        g.hypothesis(no_fault=True)
        widgets.show_finish(g)
        assert "**No fault**" in shown[0] and "Red herrings" in shown[0] and "points" in shown[0]

    def test_chaosctl_hypothesis_no_fault(self, memory_stack, monkeypatch, capsys):
        """`chaosctl hypothesis --no-fault` records the answer; with a --finding it is a usage error (exit 2)."""
        monkeypatch.setattr(cli_args, "Stack", lambda *a, **kw: memory_stack)
        _start(memory_stack)
        capsys.readouterr()
        assert main(["hypothesis", "--no-fault", "--evidence", "all quiet", "--json"]) == 0
        recorded = json.loads(capsys.readouterr().out)
        assert (recorded["no_fault"], recorded["findings"], recorded["evidence"]) == (True, [], "all quiet")
        assert main(["hypothesis", "--no-fault", "--finding", "disk:app1"]) == 2
        assert main(["hypothesis"]) == 0 and "no fault" in capsys.readouterr().out
        assert main(["give-up"]) == 0
        out = capsys.readouterr().out
        assert "no fault: nothing was injected" in out and "answer: declined" in out
