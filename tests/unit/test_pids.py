"""A pid is signalled only while it is still the program we started."""
from __future__ import annotations

import subprocess
import sys
import time

from chaoslib.native.pids import is_ours, read_pid


def test_is_ours_matches_the_command_line(tmp_path):
    """A live process matches its own arguments and not another program's."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "marker-xyz"])
    try:
        deadline = time.monotonic() + 10  # between fork and exec the child still has our arguments
        while not is_ours(proc.pid, "marker-xyz") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert is_ours(proc.pid, "marker-xyz")
        assert not is_ours(proc.pid, "supervisord")
    finally:
        proc.kill()
        proc.wait()
    assert not is_ours(proc.pid, "marker-xyz")


def test_stale_pid_file_names_nothing_of_ours(tmp_path):
    """A pid file naming pid 1 or garbage is never taken for our program."""
    (tmp_path / "a.pid").write_text("1")
    (tmp_path / "b.pid").write_text("not a pid")
    assert read_pid(tmp_path / "a.pid") == 1 and not is_ours(1, "supervisord")
    assert read_pid(tmp_path / "b.pid") is None and read_pid(tmp_path / "missing.pid") is None
