"""The notebooks, run in order with nbval against the live stack, under autopilot, per family.

CHAOSCTL_AUTOPILOT=1 makes the widget cells submit the detective's hypothesis and apply the
matching fix; CHAOSCTL_FAMILY forces the drawn family; CHAOSCTL_FAST shortens the waits.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from chaoslib.game import session as game
from chaoslib.engine.injector import panic

from integration.helpers import all_healthy, play_notebooks, wait_until

pytestmark = pytest.mark.integration
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


#: One family natively (00 to 05, the whole sequence): every family plays notebooks 02 to 05
#: under nbval on the compose stack (tests/docker/test_game_on_compose.py) and natively in the
#: browser (tests/browser/test_person_plays.py). The run stays inside CI's time that way.
@pytest.mark.parametrize("family,seed", [("resources", 13)])
def test_notebooks_play_a_game(live_stack, family, seed, tmp_path):
    """Every numbered notebook (00 to 05 today) runs top to bottom, a game is won, and the journal holds page, hypothesis, fix, score."""
    wait_until(lambda: all_healthy(live_stack), timeout=120)
    game.abandon(live_stack, reason="before notebook run")
    env = {**os.environ, "CHAOSCTL_STATE_DIR": str(live_stack.settings.state_dir), "CHAOSCTL_AUTOPILOT": "1",
           "CHAOSCTL_FAMILY": family, "CHAOSCTL_SEED": str(seed), "CHAOSCTL_FAST": "1", "MPLBACKEND": "Agg"}
    notebooks = sorted(str(p) for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))  # every numbered notebook, in order
    try:
        play_notebooks(live_stack, notebooks, env, tmp_path)
    finally:
        panic(live_stack)
        game.abandon(live_stack, reason="test")
