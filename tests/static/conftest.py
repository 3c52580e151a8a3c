"""The static stage's slow tool runs start once, when its first test begins (see tooling.Background)."""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .tooling import Background

REPO = Path(__file__).resolve().parents[2]
PROM_TESTS_DIR = REPO / "stack" / "prometheus" / "tests"


@pytest.fixture(scope="session", autouse=True)
def background() -> Iterator[Background]:
    """mypy over chaoslib and `promtool test rules` on each test file, started now, collected by their tests."""
    runs = Background()
    if importlib.util.find_spec("mypy") is not None:
        # The cache is not written (mypy's documented /dev/null): nothing lands in the checkout (issue #26).
        runs.start("mypy", [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"),
                            "--cache-dir", os.devnull], cwd=REPO)
    promtool = shutil.which("promtool")
    if promtool:
        for f in sorted(PROM_TESTS_DIR.glob("*.yml")):
            runs.start(f"promtool {f.name}", [promtool, "test", "rules", f.name], cwd=f.parent)
    yield runs
    runs.stop()
