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


#: The order of the suites: fast static and unit checks first (fail fast), the live ones after,
#: the docker backend (its own engine and images) at the very end. Unknown folders run before docker.
SUITE_ORDER = ("static", "unit", "webapp", "alerting", "host", "integration", "backends", "browser", "notebooks")
LAST_SUITES = ("docker",)


def suite_rank(nodeid: str) -> int:
    """The rank of a test's suite (its folder under tests/) in the session's order."""
    parts = nodeid.split("/")
    folder = parts[1] if len(parts) > 2 and parts[0] == "tests" else ""
    if folder in SUITE_ORDER:
        return SUITE_ORDER.index(folder)
    return len(SUITE_ORDER) + (1 + LAST_SUITES.index(folder) if folder in LAST_SUITES else 0)


def pytest_collection_modifyitems(config, items):
    """Suites in SUITE_ORDER (each module's tests stay together, in their own order); then the
    tests marked `last` (tearing the stack down), by their `order` (default 0); then docker."""
    def key(item):
        marker = item.get_closest_marker("last")
        docker = suite_rank(item.nodeid) > len(SUITE_ORDER)
        if marker is None:
            return (2 if docker else 0, suite_rank(item.nodeid), 0)
        if docker:  # the docker suite's own teardown tests: after every other docker test
            return (3, marker.kwargs.get("order", 0), suite_rank(item.nodeid))
        return (1, marker.kwargs.get("order", 0), suite_rank(item.nodeid))

    items[:] = sorted(items, key=key)  # stable: collection order inside each module is kept


def pytest_configure(config):
    config.addinivalue_line("markers", "last(order=0): run at the very end of the session (before docker)")


_skipped: list[tuple[str, str]] = []


def _reason(report) -> str:
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    return reason.removeprefix("Skipped: ")


#: Seconds spent in each stage (the folder under tests/), setup and teardown included.
_stage_seconds: dict[str, float] = {}


def stage_of(nodeid: str) -> str:
    """The stage (suite folder under tests/) a test belongs to."""
    parts = nodeid.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" else "other"


def pytest_runtest_logreport(report):
    """Collect every skip with its reason (from setup or the test body), and every xfail: an expected
    failure hides a failure as well as a skip does, so it needs the allow-list too. Time each stage."""
    _stage_seconds[stage_of(report.nodeid)] = _stage_seconds.get(stage_of(report.nodeid), 0.0) + report.duration
    if hasattr(report, "wasxfail"):
        if report.skipped:  # XFAIL (an XPASS fails on its own: xfail_strict)
            _skipped.append((report.nodeid, f"xfail: {report.wasxfail}"))
    elif report.skipped:
        _skipped.append((report.nodeid, _reason(report)))


def pytest_collectreport(report):
    """Collect the skips of whole modules at collection (`allow_module_level`, `importorskip`)."""
    if report.skipped:
        _skipped.append((report.nodeid, _reason(report)))


def _unlisted(strict_run: bool) -> list[tuple[str, str]]:
    from skips import allowed

    return [(n, r) for n, r in _skipped if allowed(n, r, strict_run=strict_run) is None]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """A skip that is not on tests/skips.py's allow-list fails the run."""
    from skips import strict

    # 5: nothing ran (a module skipped whole at collection): with an unlisted skip, that is a failure too.
    if _unlisted(strict()) and session.exitstatus in (0, 5):
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The figures tests recorded, then the skip summary, last: each skip, allowed (and why) or NOT listed."""
    from skips import allowed, strict

    tr = terminalreporter
    figures = config.stash.get(FIGURES, [])
    if figures:
        tr.section("figures")
        for line in figures:
            tr.write_line(line)
    if _stage_seconds:
        tr.section("stage times")
        order = [*SUITE_ORDER, *sorted(set(_stage_seconds) - set(SUITE_ORDER) - set(LAST_SUITES)), *LAST_SUITES]
        for stage in [s for s in order if s in _stage_seconds]:
            tr.write_line(f"{stage:12} {_stage_seconds[stage] / 60:6.1f} min")
        tr.write_line(f"{'total':12} {sum(_stage_seconds.values()) / 60:6.1f} min (tests only: collection and installs"
                      " not counted)")
    if not _skipped:
        return
    strict_run = strict()
    tr.section(f"skip summary ({'strict: CI or root' if strict_run else 'unprivileged'})")
    for nodeid, reason in _skipped:
        entry = allowed(nodeid, reason, strict_run=strict_run)
        if entry is None:
            tr.write_line(f"NOT ALLOWED  {nodeid}: {reason}", red=True, bold=True)
        else:
            tr.write_line(f"allowed      {nodeid}: {reason} ({entry.why})")
    bad = len(_unlisted(strict_run))
    if bad:
        tr.write_line(f"{bad} skip(s) not on the allow-list in tests/skips.py: the run fails", red=True, bold=True)


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

