"""Shared fixtures: one live native stack per test session, in its own state directory."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
TEST_STATE = REPO / ".chaos-test"


def pytest_collection_modifyitems(config, items):
    """Tests marked `last` (tearing the stack down) run after everything else."""
    last = [i for i in items if i.get_closest_marker("last")]
    rest = [i for i in items if not i.get_closest_marker("last")]
    items[:] = rest + last


def pytest_configure(config):
    config.addinivalue_line("markers", "last: run at the very end of the session")


def _progress(line: str) -> None:
    sys.__stderr__.write(f"[stack] {line}\n")
    sys.__stderr__.flush()


@pytest.fixture(scope="session")
def live_stack():
    """The native stack, up and healthy for the whole session; torn down and purged at the end."""
    if os.geteuid() != 0:
        pytest.skip("the native stack needs root")
    from chaoslib.config import Settings
    from chaoslib.native.supervisor import Supervisor
    from chaoslib.stack import Stack

    default = Settings(state_dir=REPO / ".chaos")
    if Supervisor(default.supervisor_socket, default.config_dir / "supervisord.conf").running():
        pytest.fail("a Chaos Control stack from .chaos/ is running: run `chaosctl down` before the tests")
    os.environ["CHAOSCTL_STATE_DIR"] = str(TEST_STATE)
    stack = Stack("local", settings=Settings(state_dir=TEST_STATE))
    if stack.backend.is_up():
        stack.down(purge=True)
    stack.up(progress=_progress)
    yield stack
    stack.down(purge=True, progress=_progress)


FIGURES = pytest.StashKey[list]()


def pytest_sessionstart(session):
    session.config.stash[FIGURES] = []


@pytest.fixture(scope="session")
def figures(request) -> list:
    """Lines a test wants in the run's summary (figures an issue asks for: attempts, cases, sequences)."""
    return request.config.stash[FIGURES]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print the figures tests recorded, after the results."""
    lines = config.stash.get(FIGURES, [])
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.write_line(line)
