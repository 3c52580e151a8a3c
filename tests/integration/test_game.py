"""A whole game through the library and the widgets: hypothesis, hints, fixes, validation, score."""
from __future__ import annotations

import pytest

from chaoslib import config, game, scoring, widgets
from chaoslib.errors import GameError, UsageError
from chaoslib.injector import panic

from .helpers import all_healthy, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def disk_game(live_stack, monkeypatch):
    """A game whose hidden fault is forced into the disk family."""
    wait_until(lambda: all_healthy(live_stack), timeout=120)
    game.abandon(live_stack, reason="test setup")
    monkeypatch.setenv("CHAOSCTL_FAMILY", "disk")
    monkeypatch.setenv("CHAOSCTL_FAST", "1")
    monkeypatch.delenv("CHAOSCTL_AUTOPILOT", raising=False)
    state = game.play(live_stack, seed=5, difficulty="easy")
    yield live_stack, state
    panic(live_stack)
    game.abandon(live_stack, reason="test")


class TestGame:
    def test_replaying_play_does_not_inject_twice(self, disk_game):
        """Running play again returns the game in progress; another seed is refused."""
        stack, state = disk_game
        assert game.play(stack, seed=5, difficulty="easy").fault_ids == state.fault_ids
        with pytest.raises(GameError):
            game.play(stack, seed=6)

    def test_hypothesis_widget_records_every_version(self, disk_game):
        """The form records a hypothesis on submit; a revision is a second version, both kept."""
        stack, _ = disk_game
        form = widgets.hypothesis_form(stack)
        family, targets, evidence = form.children[0], form.children[1], form.children[2]
        family.value, targets.value, evidence.value = "network", ("app1",), "errors on app1"
        form.children[3].click()
        family.value, targets.value = "disk", ("app2",)
        form.children[3].click()
        versions = game.current(stack).all("hypothesis")
        assert [(h["version"], h["family"]) for h in versions] == [(1, "network"), (2, "disk")]
        with pytest.raises(UsageError):
            game.record_hypothesis(stack, family="cosmic-rays", targets=["app1"], evidence="")

    def test_hints_are_graduated(self, disk_game):
        """Hint 1 says where to look; hint 2 names the family; hint 3 the replicas."""
        stack, state = disk_game
        texts = [game.hint(stack) for _ in range(3)]
        assert "disk" not in texts[0] and "disk" in texts[1] and "app" in texts[2]

    def test_wrong_fix_fails_validation_right_fix_wins(self, disk_game):
        """Restarting leaves the disk full and fails validation; the matching fix passes; then the score.

        The junk is moved under journal/ first (one junk place in four is there): the autopilot
        must still tell it from the app's own journal.
        """
        stack, state = disk_game
        truth = game.game_faults(stack, state)
        target = truth[0].targets[0]
        disk = stack.settings.disk_path(target)
        junk = [f.path for f in stack.backend.list_files(target=target) if not config.is_app_file(f.path)]
        assert junk, "the disk fault left no junk"
        hidden = disk / "journal" / "archive" / "events-20260101.jsonl.old"
        hidden.parent.mkdir(parents=True, exist_ok=True)
        (disk / junk[0]).rename(hidden)
        healthy_one = next(t for t in stack.targets() if t not in truth[0].targets)
        game.apply_fix(stack, "restart", target=healthy_one)
        assert not scoring.validate(stack, window_s=10, recover_s=20)["passed"]
        game.record_hypothesis(stack, family="disk", targets=list(truth[0].targets), evidence="disk 100 % used")
        widgets.apply_matching_fix(stack)
        result = scoring.validate(stack)
        assert result["passed"], result
        done = scoring.finish(stack)
        s = done["score"]
        assert s["diagnosis_correct"] and s["wrong_fixes"] == 1 and s["time_to_recover_s"] > 0
        assert done["truth"][0]["targets"] == truth[0].targets and target in truth[0].targets
        assert not hidden.exists()
        path = scoring.postmortem(stack, plots=False)
        text = path.read_text()
        assert "## Timeline" in text and "## Hypothesis" in text and "## Score" in text
