"""The skip allow-list (tests/skips.py) and the hook in tests/conftest.py that enforces it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import skips

TESTS = Path(__file__).resolve().parents[1]
NETEM = "this kernel has no netem qdisc: the latency fault cannot run here"


def test_listed_skip_is_allowed():
    """A skip on the list (node id and reason both match) is allowed, with its why."""
    node = "tests/backends/test_local.py::TestLocalNetwork::test_latency_delays_the_load_balancer"
    entry = skips.allowed(node, NETEM, strict_run=True)
    assert entry is not None and "netem" in entry.why


def test_unlisted_skip_is_refused():
    """Another reason, or a listed one reworded, is not on the list; a listed reason only for its tests."""
    assert skips.allowed("tests/backends/test_local.py::TestLocalNetwork::test_cutoff_blocks_only_that_replica",
                         NETEM, strict_run=True) is None
    assert skips.allowed("tests/backends/test_local.py::test_x", NETEM + " (yet)", strict_run=True) is None
    lacks = "the docker backend lacks netem on this machine"
    assert skips.allowed("tests/docker/test_docker.py::TestScenarios::test_inject_and_heal_every_scenario[lb-loss]",
                         lacks, strict_run=True) is None
    assert skips.allowed("tests/backends/test_local.py::test_x", "docker is flaky", strict_run=True) is None


def test_root_only_skips_are_refused_in_a_strict_run():
    """`needs root` is allowed for a normal user only: under CI or as root it fails the run."""
    node = "tests/host/test_primitives.py::test_x"
    assert skips.allowed(node, "kernel primitives need root", strict_run=False) is not None
    assert skips.allowed(node, "kernel primitives need root", strict_run=True) is None


def _session(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    """A pytest session in a copy of this conftest and allow-list, running one test module."""
    (tmp_path / "tests" / "backends").mkdir(parents=True)
    shutil.copy(TESTS / "conftest.py", tmp_path / "tests" / "conftest.py")
    shutil.copy(TESTS / "skips.py", tmp_path / "tests" / "skips.py")
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\nxfail_strict = true\n")
    (tmp_path / "tests" / "backends" / "test_x.py").write_text(f"import pytest\n\n{body}\n")
    # Only pytest and the copied conftest: the installed plugins (nbval, django, ...) take 3 s to load, not
    # what these sessions test (the unprivileged fast suite has a 90 s budget).
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})


def test_an_unlisted_skip_fails_the_run_and_is_printed_last(tmp_path):
    """A session whose only test skips for an unlisted reason exits 1 and names it in the summary."""
    proc = _session(tmp_path, "def test_a():\n    pytest.skip('not today')\n")
    assert proc.returncode == 1, proc.stdout
    assert "NOT ALLOWED  tests/backends/test_x.py::test_a: not today" in proc.stdout
    assert proc.stdout.index("skip summary") > proc.stdout.index("test_x.py")


def test_a_listed_skip_passes_the_run(tmp_path):
    """A session whose only skip is on the list exits 0 and prints it as allowed."""
    proc = _session(tmp_path, f"def test_latency_delays_the_load_balancer():\n    pytest.skip({NETEM!r})\n")
    assert proc.returncode == 0, proc.stdout
    assert "allowed      tests/backends/test_x.py::test_latency_delays_the_load_balancer" in proc.stdout


def test_skip_or_fail_fails_under_ci_and_skips_for_a_normal_user(monkeypatch):
    """Under CI a missing tool fails the test with its reason; a normal user outside CI gets a skip
    (the normal user is a patched euid: these tests run as root here)."""
    import pytest

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="promtool is not installed"):
        skips.skip_or_fail("promtool is not installed")
    monkeypatch.delenv("CI")
    monkeypatch.setattr(skips.os, "geteuid", lambda: 1000)
    with pytest.raises(pytest.skip.Exception, match="promtool is not installed"):
        skips.skip_or_fail("promtool is not installed")


def test_a_module_level_skip_fails_the_run(tmp_path):
    """A whole module skipped at collection (allow_module_level) is counted, and unlisted, fails the run."""
    proc = _session(tmp_path, "pytest.skip('not this module', allow_module_level=True)\n\ndef test_a():\n    pass\n")
    assert proc.returncode == 1, proc.stdout
    assert "NOT ALLOWED  tests/backends/test_x.py: not this module" in proc.stdout


def test_an_importorskip_fails_the_run(tmp_path):
    """pytest.importorskip of a module that is not there is a collection skip like any other."""
    proc = _session(tmp_path, "pytest.importorskip('no_such_module_here')\n\ndef test_a():\n    pass\n")
    assert proc.returncode == 1, proc.stdout
    assert "NOT ALLOWED  tests/backends/test_x.py" in proc.stdout and "no_such_module_here" in proc.stdout


def test_an_xfail_fails_the_run(tmp_path):
    """An expected failure hides a failure: unlisted, it fails the run like a skip."""
    proc = _session(tmp_path, "@pytest.mark.xfail(reason='known bug')\ndef test_a():\n    assert False\n")
    assert proc.returncode == 1, proc.stdout
    assert "NOT ALLOWED  tests/backends/test_x.py::test_a: xfail: known bug" in proc.stdout


def test_an_xpass_fails_the_run(tmp_path):
    """With xfail_strict (as in pyproject.toml), a test marked xfail that passes fails the run."""
    proc = _session(tmp_path, "@pytest.mark.xfail(reason='fixed?')\ndef test_a():\n    assert True\n")
    assert proc.returncode == 1, proc.stdout


def test_the_project_sets_xfail_strict():
    """pyproject.toml's pytest options make an XPASS a failure."""
    import tomllib

    options = tomllib.loads((TESTS.parent / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert options["xfail_strict"] is True


def test_the_run_prints_the_time_of_each_stage(tmp_path):
    """The session ends with each stage's time (the suite folder) and the total."""
    proc = _session(tmp_path, "import time\n\ndef test_a():\n    time.sleep(0.2)\n")
    assert proc.returncode == 0, proc.stdout
    stages = proc.stdout.split("stage times")[1]
    assert "backends" in stages and "total" in stages
