"""The detached warden's process: started by the injector for a backend with no warden of its own.

A backend without a supervisor's warden (`Features.warden_process`: docker) gets one from the
injector: it starts with the first fault, logs to warden.log in the state directory and exits
once no fault is active (see engine/warden.py for what it does).
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from chaoslib.config import Settings

PIDFILE = "warden.pid"
LOGFILE = "warden.log"
#: The module the warden runs as (`python -m ...`): how its process is found by its command line.
MODULE = "chaoslib.engine.warden"


def running(settings: Settings) -> int | None:
    """The pid of the detached warden of this state dir, if one is alive."""
    try:
        pid = int((settings.state_dir / PIDFILE).read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if MODULE.encode() in cmdline else None


def start_detached(settings: Settings, backend: str) -> int:
    """Start a detached warden for `backend` over this state dir (or find the one running); its pid.

    It outlives the process that injected (a notebook's kernel, `chaosctl inject`), logs to
    warden.log in the state dir, and exits when no fault is left.
    """
    pid = running(settings)
    if pid is not None:
        return pid
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.state_dir / LOGFILE, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", MODULE, "--state-dir", str(settings.state_dir),
                                 "--backend", backend, "--exit-when-idle"],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    (settings.state_dir / PIDFILE).write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + 5
    while running(settings) is None and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # until the child has exec'ed: the next inject must find it by its command line
    return proc.pid
