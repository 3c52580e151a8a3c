"""Running the tools that own each config (promtool, amtool): skip when missing, fail with output."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def tool(name: str) -> str:
    """The path of a command-line tool, or skip the test (with the reason) when it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian: `make deps` installs it)")
    return path


def run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run a tool; fail the test with its output when it exits non-zero."""
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=120, cwd=cwd)
    assert proc.returncode == 0, f"{' '.join(argv)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc
