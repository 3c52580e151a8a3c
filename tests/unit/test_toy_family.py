"""A new fault family is one module: a toy family, defined in this test alone, plays a whole game.

It goes through the draw, the injector, the detective, the fix panel's fix, validation and
the score, on the in-memory backend, without a line changed in the library. If the game,
draw, scoring or detective named the seed's families anywhere, this would fail.
"""
from __future__ import annotations

import pytest

from chaoslib import faults
from chaoslib.engine.injector import active_faults
from chaoslib.faults import Family, Finding, Scenario, known_target
from chaoslib.game import Game
from chaoslib.game import session as game

SPILL = "spill/puddle.dat"


def spill(backend, *, key: str, targets: list[str], record_undo) -> None:
    """Pour a puddle on each target's disk (a quarter of it), journalling the undo first."""
    for t in targets:
        record_undo({"op": "remove_file", "target": t, "path": SPILL})
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
    priority=5, hint="toy: look at the floor", gather=puddles, gathered=("puddle",))


@pytest.fixture
def toy():
    with faults.registered(TOY):
        yield TOY
    assert "toy" not in faults.FAMILIES


def test_a_toy_family_plays_a_whole_game(memory_stack, toy):
    """Draw, inject, the detective names it, the autopilot's fix, validation and a full score: no library change."""
    g = Game(memory_stack, autopilot=False)
    g.start(seed=4, difficulty="normal", families=["toy"], steady_timeout=0)
    truth = g.truth()
    assert list(truth) == ["toy"]
    assert g.detective_view().said() == (("toy", tuple(truth["toy"])),)
    g.hypothesis([{"family": "toy", "targets": truth["toy"]}], evidence="wet")
    assert not g.validate(window_s=0, recover_s=0).passed
    assert g.hint().text == game.HINTS[1] and "toy: look at the floor" in g.hint().text
    assert g.autofix() == ["mopped True"] * len(truth["toy"])
    assert g.validate(window_s=0, recover_s=0).passed
    assert active_faults(memory_stack) == []
    score = g.finish(write_postmortem=False).score
    assert score.diagnosis_correct and score.points == 100 - 2 * 10
    assert [e["name"] for e in game.current(memory_stack).all("fix")] == ["mop"] * len(truth["toy"])


def test_the_toy_fix_is_offered_by_name(memory_stack, toy):
    """The façade offers the toy family's fix by name, and refuses a name no family offers."""
    g = Game(memory_stack, autopilot=False)
    g.start(seed=1, difficulty="easy", families=["toy"], steady_timeout=0)
    assert "mop" in [f.name for f in g.fixes()]
    target = g.truth()["toy"][0]
    assert g.apply_fix("mop", target=target).result is True
    with pytest.raises(Exception, match="unknown fix 'sweep'"):
        g.apply_fix("sweep", target=target)
