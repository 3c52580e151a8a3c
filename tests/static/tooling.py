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


class Background:
    """Slow tool runs started together when the static stage begins (mypy, promtool's unit tests), so they run
    beside the other checks on the second core; each test then takes its run's output (`result`)."""

    def __init__(self) -> None:
        self._procs: dict[str, tuple[subprocess.Popen[str], str]] = {}

    def start(self, key: str, argv: list[str], cwd: Path) -> None:
        self._procs[key] = (subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                             text=True), " ".join(argv))

    def result(self, key: str, timeout: float = 600) -> tuple[int, str]:
        """(exit code, output) of the run started as `key`; KeyError when it was not started."""
        proc, _ = self._procs[key]
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out

    def stop(self) -> None:
        for proc, _ in self._procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
