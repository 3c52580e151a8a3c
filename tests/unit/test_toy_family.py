"""A new fault family is one module: a toy family, defined in this test alone, plays a whole game.

It goes through the draw, the injector, the detective, the fix panel's fix, validation and
the score, on the in-memory backend, without a line changed in the library. If the game,
draw, scoring or detective named the seed's families anywhere, this would fail.
"""
from __future__ import annotations

import pytest

from chaoslib import faults
from chaoslib.game import detective
from chaoslib.game import session as game
from chaoslib.game import scoring
from chaoslib.faults import Family, Finding, Scenario, known_target
from chaoslib.engine.injector import active_faults

SPILL = "spill/puddle.dat"


def spill(backend, *, key: str, targets: list[str], journal) -> None:
    """Pour a puddle on each target's disk (a quarter of it), journalling the undo first."""
    for t in targets:
        journal({"op": "remove_file", "target": t, "path": SPILL})
        backend.write_file(target=t, path=SPILL, size_bytes=backend.disk_usage(target=t).size_bytes // 4, tag=key)


def puddles(stack, since: float) -> dict[str, dict[str, float]]:
    """The toy's signal, read from the backend: which replicas have a puddle."""
    return {"puddle": {t: 1.0 for t in stack.targets()
                       if any(f.path == SPILL for f in stack.backend.list_files(target=t))}}


def mop(stack, *, target: str) -> bool:
    """The player's fix: mop the puddle up."""
    return stack.backend.remove_file(target=known_target(stack, target), path=SPILL)


def rule(s, claimed):
    wet = sorted(r for r in s.puddle if r not in claimed)
    return Finding("toy", wet, "a puddle", [f"{r}: a puddle" for r in wet], 0.9) if wet else None


TOY = Family(
    name="toy", scenarios=(Scenario("toy-spill", "toy", spill, "a puddle on the floor"),),
    effect_gone=lambda backend, targets: (not any(f.path == SPILL for t in targets
                                                  for f in backend.list_files(target=t)), "still wet"),
    fixes={"mop": mop}, autofix=lambda stack, target, apply: f"mopped {apply(stack, 'mop', target=target)['result']}",
    rule=rule,
    priority=5, hint="toy: look at the floor", gather=puddles)


@pytest.fixture
def toy():
    with faults.registered(TOY):
        yield TOY
    assert "toy" not in faults.FAMILIES


def test_a_toy_family_plays_a_whole_game(memory_stack, monkeypatch, toy):
    """Draw, inject, the detective names it, the autopilot's fix, validation and a full score: no library change."""
    monkeypatch.setenv("CHAOSCTL_FAMILY", "toy")
    state = game.play(memory_stack, seed=4, difficulty="normal", steady_timeout=0)
    truth = game.truth_of(game.game_faults(memory_stack, state))
    assert list(truth) == ["toy"]
    h = detective.investigate(memory_stack)
    assert h.said() == (("toy", tuple(truth["toy"])),)
    game.record_hypothesis(memory_stack, findings=[{"family": "toy", "targets": truth["toy"]}], evidence="wet")
    assert not scoring.validate(memory_stack, window_s=0, recover_s=0)["passed"]
    assert game.hint(memory_stack) == game.HINTS[1] and "toy: look at the floor" in game.hint(memory_stack)
    for t in truth["toy"]:
        assert toy.autofix(memory_stack, t, game.apply_fix) == "mopped True"
    assert scoring.validate(memory_stack, window_s=0, recover_s=0)["passed"]
    assert active_faults(memory_stack) == []
    score = scoring.finish(memory_stack)["score"]
    assert score["diagnosis_correct"] and score["points"] == scoring.POINTS_START - 2 * game.HINT_COST
    assert [e["name"] for e in game.current(memory_stack).all("fix")] == ["mop"] * len(truth["toy"])


def test_the_toy_fix_is_offered_by_name(memory_stack, monkeypatch, toy):
    """game.apply_fix finds the toy family's fix by name, and refuses a name no family offers."""
    monkeypatch.setenv("CHAOSCTL_FAMILY", "toy")
    game.play(memory_stack, seed=1, difficulty="easy", steady_timeout=0)
    target = game.truth_of(game.game_faults(memory_stack, game.current(memory_stack)))["toy"][0]
    assert game.apply_fix(memory_stack, "mop", target=target)["result"] is True
    with pytest.raises(Exception, match="unknown fix 'sweep'"):
        game.apply_fix(memory_stack, "sweep", target=target)
