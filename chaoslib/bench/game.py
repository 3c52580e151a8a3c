"""Benchmark: the wall time of one whole unattended game, notebooks 02 to 05, per family.

The notebooks run as a player runs them (one kernel each, top to bottom) under the
autopilot, with the real waits (not CI's fast mode): the page, the investigation, the
hypothesis, the fix, the validation window, the reveal and the postmortem.
"""
from __future__ import annotations

import statistics
import time

from chaoslib import config, faults
from chaoslib.bench.faults import recovered, wait_for
from chaoslib.errors import ChaosError
from chaoslib.game import Game
from chaoslib.progress import Progress
from chaoslib.stack import Stack

GAME_NOTEBOOKS = ("02-incident", "03-investigate", "04-hypothesis", "05-fix-and-verify")


def play_unattended(stack: Stack, *, family: str, seed: int, fast: bool = False) -> float:
    """Run notebooks 02 to 05 under the autopilot; return the wall time in seconds."""
    if not wait_for(lambda: recovered(stack), timeout=180, interval=1):
        raise ChaosError("the stack did not recover before the game", hint="check `chaosctl status`")
    game = Game(stack, autopilot=False)
    game.abandon(reason="bench")
    # The kernels play under the autopilot, on this stack, drawing from this family.
    env = config.environment(CHAOSCTL_AUTOPILOT="1", CHAOSCTL_FAMILY=family, CHAOSCTL_SEED=str(seed),
                             CHAOSCTL_FAST="1" if fast else "0", CHAOSCTL_STATE_DIR=str(stack.settings.state_dir),
                             CHAOSCTL_BACKEND=stack.backend.name, MPLBACKEND="Agg")
    # nbformat and nbclient take over a second to import: loaded only when a game is played.
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    folder = config.REPO_ROOT / "notebooks"
    start = time.monotonic()
    try:
        for name in GAME_NOTEBOOKS:
            nb = nbformat.read(folder / f"{name}.ipynb", as_version=4)
            try:
                NotebookClient(nb, timeout=900, kernel_name="python3",
                               resources={"metadata": {"path": str(folder)}}).execute(env=env)
            except CellExecutionError as e:
                raise ChaosError(f"{name} failed under the autopilot", hint=str(e).splitlines()[-1]) from e
        elapsed = time.monotonic() - start
        info = game.info()
        if info is None or info.status != "finished":
            raise ChaosError("the game did not finish", hint="see the journal in the state directory")
        return elapsed
    finally:
        game.panic()


def game_bench(stack: Stack, *, runs: int = 3, families: tuple[str, ...] | None = None,
               progress: Progress = print) -> dict[str, float]:
    """Median wall time of `runs` unattended games per family (seeds 1..runs)."""
    out = {}
    for family in families or tuple(faults.default_families()):
        times = []
        for seed in range(1, runs + 1):
            times.append(play_unattended(stack, family=family, seed=seed))
            progress(f"  {family:9} seed {seed}: {times[-1]:6.1f} s")
        out[family] = statistics.median(times)
        progress(f"{family}: median {out[family]:.1f} s over {runs} games (target < 240 s)")
    return out
