"""The notebooks, run in order with nbval against the live stack, under autopilot, per family.

The cells are what a player runs; CHAOSCTL_AUTOPILOT=1 makes their widgets play (start the
incident, submit the detective's hypothesis, apply the matching fix, validate);
CHAOSCTL_FAMILY forces the drawn family; CHAOSCTL_FAST shortens the waits. The checks live
here, read from the game journal (integration.helpers.play_notebooks), never in the cells.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from chaoslib.game import Game
from integration.helpers import all_healthy, play_notebooks, wait_until

pytestmark = pytest.mark.integration
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
#: One family natively (00 to 05, the whole sequence): every family plays notebooks 02 to 05
#: under nbval on the compose stack (tests/docker/test_game_on_compose.py) and natively in the
#: browser (tests/browser/test_person_plays.py). The run stays inside CI's time that way.
@pytest.mark.parametrize("family,seed", [("resources", 13)])
def test_notebooks_play_a_game(live_stack, family, seed, tmp_path):
    """Every numbered notebook (00 to 05 today) runs top to bottom, and a game is won: the journal holds
    the page, the hypothesis, the fix, the validation and the score."""
    wait_until(lambda: all_healthy(live_stack), timeout=120)
    game = Game(live_stack, autopilot=False)
    game.abandon(reason="before notebook run")
    env = {**os.environ, "CHAOSCTL_STATE_DIR": str(live_stack.settings.state_dir), "CHAOSCTL_AUTOPILOT": "1",
           "CHAOSCTL_FAMILY": family, "CHAOSCTL_SEED": str(seed), "CHAOSCTL_FAST": "1", "MPLBACKEND": "Agg"}
    notebooks = sorted(str(p) for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))  # every numbered notebook, in order
    try:
        play_notebooks(live_stack, notebooks, env, tmp_path)
    finally:
        game.panic()
