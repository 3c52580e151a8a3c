"""A game that follows another shows nothing of the one before: the views' cut (issue #24, games back to back)."""
from __future__ import annotations

import pytest

from chaoslib.game import steady
from chaoslib.game.observation import Observation
from chaoslib.observe import dashboards
from chaoslib.stack import Stack

T0 = 1_800_000_000.0


class TestViewFrom:
    def test_no_fault_ever_undone_cuts_nothing(self):
        assert steady.view_from(started_at=T0, last_heal=None) is None

    def test_a_game_right_after_an_undo_begins_at_its_start(self):
        assert steady.view_from(started_at=T0, last_heal=T0 - 20) == T0

    def test_a_game_long_after_an_undo_begins_where_the_echo_ended(self):
        assert steady.view_from(started_at=T0, last_heal=T0 - 1000) == T0 - 1000 + steady.ECHO_S

    def test_last_undone_ignores_faults_still_active(self):
        assert steady.last_undone([None, T0 - 5, T0 - 50, None]) == T0 - 5
        assert steady.last_undone([None]) is None


class TestGrid:
    def test_since_moves_the_start_onto_a_whole_step(self):
        start, end = dashboards.grid(minutes=15, end=T0, step=5, since=T0 - 61.5)
        assert (start, end) == (T0 - 60, T0)

    def test_since_before_the_window_changes_nothing(self):
        assert dashboards.grid(minutes=15, end=T0, step=5, since=T0 - 3600) == (T0 - 900, T0)

    def test_a_game_younger_than_a_step_keeps_one_step(self):
        start, end = dashboards.grid(minutes=15, end=T0, step=5, since=T0 - 1)
        assert end - start == 5


@pytest.fixture
def observe():
    cut: list[float | None] = [None]
    obs = Observation(Stack("memory"), None, started_at=lambda: cut[0], view_from=lambda: cut[0])
    return obs, cut


class TestObservationCut:
    def test_ranges_are_untouched_without_a_cut(self, observe):
        obs, _ = observe
        assert obs._cut({}, minutes=15) == {"minutes": 15}
        assert obs._cut_logs({"service": "pollapp"}) == {"service": "pollapp"}

    def test_a_range_starting_before_the_game_starts_at_it(self, observe):
        obs, cut = observe
        cut[0] = T0 - 120
        kw = obs._cut({"end": T0}, minutes=15)
        assert kw["start"] == T0 - 120 and kw["end"] == T0
        assert obs._cut({"end": T0, "start": T0 - 60}, minutes=15)["start"] == T0 - 60  # later: kept
        assert obs._cut({"end": T0}, minutes=1)["start"] == T0 - 60

    def test_a_log_search_starting_before_the_game_starts_at_it(self, observe):
        obs, cut = observe
        cut[0] = T0 - 120
        assert obs._cut_logs({"until": T0, "minutes": 15}) == {"until": T0, "minutes": None, "since": T0 - 120}
        assert obs._cut_logs({"until": T0, "since": T0 - 30})["since"] == T0 - 30
        assert obs._cut_logs({"until": T0, "minutes": None})["since"] == T0 - 120  # "everything": from the cut
