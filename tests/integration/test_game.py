"""A whole game through the library and the widgets: hypothesis, hints, fixes, validation, score."""
from __future__ import annotations

import time

import pytest

from chaoslib import config
from chaoslib.game import session as game
from chaoslib.game import scoring
from chaoslib.game import widgets
from chaoslib.errors import GameError, UsageError
from chaoslib.engine.injector import panic

from .helpers import all_healthy, undrawn_panels, wait_until

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
        (family, targets, _), evidence = form.rows[0], form.evidence
        family.value, targets.value, evidence.value = "network", ("app1",), "errors on app1"
        form.submit_button.click()
        time.sleep(widgets.DEBOUNCE_S)  # a revision, not a double click
        family.value, targets.value = "disk", ("app2",)
        form.submit_button.click()
        versions = game.current(stack).all("hypothesis")
        assert [(h["version"], h["family"]) for h in versions] == [(1, "network"), (2, "disk")]
        with pytest.raises(UsageError):
            game.record_hypothesis(stack, family="cosmic-rays", targets=["app1"], evidence="")

    def test_hints_are_graduated(self, disk_game):
        """Hint 1 says where to look; hint 2 names the family; hint 3 the replicas."""
        stack, state = disk_game
        texts = [game.hint(stack) for _ in range(3)]
        targets = {t for f in game.game_faults(stack, state) for t in f.targets}
        assert "disk" not in texts[0] and "disk" in texts[1]
        assert all(t in texts[2] for t in targets) and not any(t in texts[2] for t in set(stack.targets()) - targets)

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
        # Started by `play`, not by notebook 02: time to detect still comes from the pager.
        assert s["time_to_detect_s"] is not None and 0 < s["time_to_detect_s"] < s["time_to_recover_s"]
        assert s["deductions"]["wrong fixes"] == 5 and s["points"] == 100 - sum(s["deductions"].values())
        import matplotlib

        before = matplotlib.get_backend()
        matplotlib.use("module://matplotlib_inline.backend_inline")  # the player's kernel
        try:
            path = scoring.postmortem(stack)
            assert matplotlib.get_backend() == "module://matplotlib_inline.backend_inline"
        finally:
            matplotlib.use(before)
        assert path.parent == stack.settings.state_dir / "postmortems"
        text = path.read_text()
        for section in ("## Summary", "## Impact", "## Detection", "## Timeline", "## Root cause", "## Resolution",
                        "## What went well", "## What to do next", "## Score", "## Evidence"):
            assert section in text, section
        assert "disk-" in text.split("## Root cause")[1] and "votes attempted / acknowledged" in text
        assert (path.parent / text.split("](")[1].split(")")[0]).stat().st_size > 10_000
        from chaoslib.game import postmortem

        fig = postmortem.figure(game.current(stack))
        assert undrawn_panels(fig) == []
        marks = {line.get_label() for ax in fig.axes for line in ax.get_lines() if line.get_gid() == "chaos-mark"}
        assert marks == {"fault", "page", "fix", "validated"}


class TestBackToBack:
    def test_the_second_game_is_paged_by_its_own_alert(self, live_stack, monkeypatch, capsys):
        """Two games back to back: the second waits for a quiet stack, and its recorded page is its own alert."""
        import random
        import time

        from chaoslib.game.draw import draw

        monkeypatch.setenv("CHAOSCTL_FAMILY", "network")
        panic(live_stack)
        game.abandon(live_stack, reason="test setup")
        rng = random.Random()
        stack_targets, features = live_stack.targets(), live_stack.backend.features

        def seed_hitting(allowed: set[str]) -> int:
            """A random seed whose network fault touches only `allowed` replicas (never all of them)."""
            def hits(s: int) -> set[str]:
                return {t for d in draw(seed=s, difficulty="easy", targets=stack_targets, features=features,
                                        family="network") for t in d.targets}
            return next(s for s in (rng.randrange(1, 100000) for _ in range(10000))
                        if hits(s) <= allowed and len(hits(s)) < len(stack_targets))
        first = game.play(live_stack, seed=seed_hitting(set(stack_targets)), difficulty="easy")
        one = game.wait_for_page(live_stack, timeout=180).iloc[0]
        first_targets = {t for f in game.game_faults(live_stack, first) for t in f.targets}
        panic(live_stack)
        game.abandon(live_stack, reason="test: next game")
        # The next game's faults on other replicas, so a page about the first game's is told apart.
        seed = seed_hitting(set(stack_targets) - first_targets)
        waited: list[str] = []
        asked = time.time()
        second = game.play(live_stack, seed=seed, difficulty="easy", progress=waited.append)
        try:
            assert waited and "waiting for a quiet stack" in waited[0], waited  # the first game's alerts were live
            firing = game.wait_for_page(live_stack, timeout=180)
            page = game.current(live_stack).first("paged")
            second_targets = {t for f in game.game_faults(live_stack, second) for t in f.targets}
            assert page["alert_started_at"] >= second.started_at and page["received_at"] > second.started_at
            assert (firing["starts_at"].map(lambda t: t.timestamp()) >= second.started_at).all()
            if page["replica"]:
                assert page["replica"] in second_targets, (page, second_targets, first_targets)
            with capsys.disabled():
                print(f"\n[back-to-back] first page {one['alertname']} after "
                      f"{one['received_at'].timestamp() - first.started_at:.1f} s; waited "
                      f"{second.started_at - asked:.0f} s for quiet; second page "
                      f"{page['alertname']} on {page['replica'] or '-'} after {page['received_at'] - second.started_at:.1f} s"
                      f" ({len(waited)} progress lines while the stack quietened)")
        finally:
            panic(live_stack)
            game.abandon(live_stack, reason="test")
