"""Running the tools that own each config (promtool, amtool): fail (CI, root) or skip when missing, fail with output."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from skips import skip_or_fail


def tool(name: str) -> str:
    """The path of a command-line tool; when it is missing, fail (CI, root) or skip with the reason."""
    path = shutil.which(name)
    if path is None:
        skip_or_fail(f"{name} is not installed (Debian: `make deps` installs it)")
    return path


def run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run a tool; fail the test with its output when it exits non-zero."""
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=120, cwd=cwd)
    assert proc.returncode == 0, f"{' '.join(argv)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc
