"""Widget buttons: disabled while their action runs, a double click acts once, errors in one line."""
from __future__ import annotations

import threading
import time

import ipywidgets as w
import pytest

from chaoslib.errors import GameError, UsageError
from chaoslib.game import widgets


def test_a_double_click_runs_the_action_once():
    """A second click queued while the first ran (or right after) is ignored; a later click runs again."""
    calls = []
    button, out = w.Button(description="Go"), w.Output()
    widgets.action(button, out, lambda: calls.append(time.monotonic()))
    button.click()
    button.click()
    assert len(calls) == 1
    time.sleep(widgets.DEBOUNCE_S + 0.05)
    button.click()
    assert len(calls) == 2


def test_the_button_is_disabled_while_the_action_runs():
    """While the action runs the button is disabled and says so; after, it is back as it was."""
    seen = {}
    button, out = w.Button(description="Go"), w.Output()
    widgets.action(button, out, lambda: seen.update(disabled=button.disabled, text=button.description),
                   busy="going...")
    button.click()
    assert seen == {"disabled": True, "text": "going..."}
    assert (button.disabled, button.description) == (False, "Go")


def test_a_click_during_a_long_action_is_ignored():
    """A click that arrives while the action is still running does not start it again."""
    calls, release = [], threading.Event()
    button, out = w.Button(description="Go"), w.Output()
    widgets.action(button, out, lambda: (calls.append(1), release.wait(5)))
    worker = threading.Thread(target=button.click)
    worker.start()
    time.sleep(0.2)
    button.click()
    release.set()
    worker.join(5)
    assert calls == [1]


def test_errors_are_one_line(capsys):
    """A ChaosError and an unexpected exception each print one line starting with 'error:'."""
    button, out = w.Button(description="Go"), w.Output()

    def broken():
        raise UsageError("cpu must be between 0.01 and 64 cores, got 0", field="cpu", hint="try 1.0")
    widgets.action(button, out, broken)
    button.click()
    time.sleep(widgets.DEBOUNCE_S + 0.05)
    other = w.Button(description="Other")
    widgets.action(other, out, lambda: {}["missing"])
    other.click()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines), lines
    assert "cpu must be between" in lines[0] and "KeyError" in lines[1]
    assert not button.disabled and not other.disabled


def test_a_long_action_counts_its_seconds_on_the_button():
    """An action that takes a few seconds shows them ticking on its button, then the label comes back."""
    seen = []
    button, out = w.Button(description="Go"), w.Output()
    button.observe(lambda change: seen.append(change["new"]), names="description")
    widgets.action(button, out, lambda: time.sleep(2.5), busy="going...")
    button.click()
    assert seen[0] == "going..." and "going... 1 s" in seen and "going... 2 s" in seen and seen[-1] == "Go"


def test_the_hypothesis_form_records_two_findings(memory_stack, monkeypatch):
    """Add a finding, fill both rows, record: the journal holds both findings; removing goes back to one row."""
    from chaoslib.game import Game
    from chaoslib.game import session as game

    g = Game(memory_stack, autopilot=False)
    g.start(seed=1, difficulty="normal", families=["disk"], steady_timeout=0)
    form = widgets.hypothesis_form(g)
    add = next(b for b in form.children[1].children if b.description == "Add a finding")
    add.run()
    assert len(form.rows) == 2
    (fam1, tg1, _), (fam2, tg2, _) = form.rows
    fam1.value, tg1.value, fam2.value, tg2.value = "disk", ("app1",), "network", ("app2", "app3")
    form.submit()
    h = game.current(memory_stack).all("hypothesis")[-1]
    assert h["findings"] == [{"family": "disk", "targets": ["app1"]},
                             {"family": "network", "targets": ["app2", "app3"]}]
    drop = next(b for b in form.children[1].children if b.description == "Remove a finding")
    time.sleep(widgets.DEBOUNCE_S)
    drop.run()
    assert len(form.rows) == 1 and len(form.children[0].children) == 1


def test_the_fix_panel_has_a_tab_per_family_and_a_restart(memory_stack):
    """The fix panel is built from the catalogue: Firewall, Disk, Limits, then Restart."""
    from chaoslib import faults
    from chaoslib.game import Game

    panel = widgets.fix_panel(Game(memory_stack, autopilot=False))
    tab = panel.children[0]
    titles = [tab.get_title(i) for i in range(len(tab.children))]
    assert titles == [f.fix_tab.title for f in faults.FAMILIES.values() if f.fix_tab] + ["Restart"]
    assert {"show_rules", "remove_rules", "list_files", "delete_files", "set_limits", "restart"} <= set(panel.buttons)


def test_under_the_autopilot_the_panels_play_a_whole_game(memory_stack, monkeypatch):
    """A notebook's cells hold no test code: each panel plays its step itself, and the game is won.

    The detective is told the truth here (the memory backend has no metrics for it to read).
    """
    from chaoslib.faults import Finding
    from chaoslib.game import Game, detective, scoring

    monkeypatch.setenv("CHAOSCTL_FAMILY", "disk")
    monkeypatch.setenv("CHAOSCTL_SEED", "4")
    monkeypatch.setattr(scoring, "validation_window", lambda: 0.0)
    shown = []
    monkeypatch.setattr(widgets, "display", lambda obj: shown.append(obj.data))
    g = Game(memory_stack, autopilot=True)
    play = widgets.play_panel(g)
    assert g.in_progress() and g.info().seed == 4 and play.children[0].children[1].value == 4
    monkeypatch.setattr(g, "detective_verdict", lambda **kw: detective.Hypothesis(
        findings=[Finding(family, targets, "seen", ["seen"]) for family, targets in g.truth().items()]))
    widgets.hypothesis_form(g)
    assert [f.family for f in g.hypotheses()[-1].findings] == ["disk"]
    widgets.fix_panel(g)
    assert widgets.validation_panel(g).result.passed
    assert widgets.show_finish(g) is None
    assert "### The reveal" in shown[0] and "Your score" in shown[0]
    assert g.score().diagnosis_correct


def test_under_the_autopilot_a_step_it_cannot_take_fails_its_cell(memory_stack, monkeypatch):
    """No cause named, or a fix that does not hold: the panel raises (an unattended run stops there)."""
    from chaoslib.game import Game, scoring

    monkeypatch.setattr(scoring, "validation_window", lambda: 0.0)
    g = Game(memory_stack, autopilot=True)
    g.start(seed=4, families=["disk"], steady_timeout=0)
    monkeypatch.setattr(g, "detective_verdict", lambda **kw: type("H", (), {"named": False, "cause": "nothing"})())
    with pytest.raises(GameError, match="named no cause"):
        widgets.hypothesis_form(g)
    monkeypatch.setattr(g, "validate", lambda **kw: type("V", (), {"passed": False, "problems": ("app1 down",)})())
    with pytest.raises(GameError, match="did not hold: app1 down"):
        widgets.validation_panel(g)
