"""The session's order (tests/conftest.py): static and unit first, live suites after, `last`, then docker."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
FILES = {
    "docker/test_d.py": "def test_d1(): pass\n",
    "integration/test_i.py": ("import pytest\n\n@pytest.mark.last(order=1)\ndef test_after_down(): pass\n\n"
                              "@pytest.mark.last\ndef test_down(): pass\n\n"
                              "def test_i1(): pass\n\ndef test_i2(): pass\n"),
    "host/test_h.py": "def test_h1(): pass\n",
    "static/test_s.py": "def test_s1(): pass\n\ndef test_s2(): pass\n",
    "unit/test_u.py": "def test_u1(): pass\n",
}


def test_suites_run_fast_first_then_live_then_last_then_docker(tmp_path):
    """Whatever the folders' alphabetical order, a session runs static, unit, host, integration,
    the `last` tests by their order, then docker; each module's tests keep their own order."""
    for name, body in FILES.items():
        (tmp_path / "tests" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "tests" / name).write_text(body)
    shutil.copy(TESTS / "conftest.py", tmp_path / "tests" / "conftest.py")
    shutil.copy(TESTS / "skips.py", tmp_path / "tests" / "skips.py")
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", "tests"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})  # plugins: 3 s, not tested here
    assert proc.returncode == 0, proc.stdout
    ran = [line.split("::")[1].split()[0] for line in proc.stdout.splitlines() if " PASSED" in line]
    assert ran == ["test_s1", "test_s2", "test_u1", "test_h1", "test_i1", "test_i2", "test_down",
                   "test_after_down", "test_d1"]
