"""JupyterLab on notebooks/, bound to localhost with a token, started in the background."""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from chaoslib import config
from chaoslib.config import Settings
from chaoslib.errors import PrerequisiteError, ServiceError
from chaoslib.native.health import port_in_use
from chaoslib.native.pids import is_ours, read_pid
from chaoslib.progress import Progress, no_progress

NOTEBOOKS = config.REPO_ROOT / "notebooks"
#: JupyterLab's application settings folder, shared by every launcher (`chaosctl lab`, .gitpod.yml):
#: its overrides.json keeps the lab from asking in a pop-up whether to fetch Jupyter's news (over
#: the player's game), from fetching them and from checking for a newer JupyterLab. A player who
#: wants the news turns them on in Settings (their own settings win over these).
APP_SETTINGS = config.REPO_ROOT / "stack" / "jupyter"
SETTINGS_OVERRIDES = json.loads((APP_SETTINGS / "overrides.json").read_text())


def _pid(settings: Settings) -> int | None:
    """The pid of the JupyterLab this project started, if that process is still it."""
    pid = read_pid(settings.run_dir / "jupyter.pid")
    if pid is None or not is_ours(pid, "jupyterlab", "--ServerApp.root_dir="):
        return None
    return pid


def start_lab(settings: Settings, *, port: int = config.JUPYTER.port, progress: Progress = no_progress,
              extra_args: tuple[str, ...] = (), root: Path | None = None) -> str:
    """Start JupyterLab (once) on `root` (default notebooks/) and return its URL with the token.

    `extra_args` go to jupyterlab.
    """
    root = root or NOTEBOOKS
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    token_file = settings.run_dir / "jupyter.token"
    if _pid(settings) and token_file.exists():
        return f"http://127.0.0.1:{port}/lab?token={token_file.read_text().strip()}"
    if port_in_use("127.0.0.1", port):
        raise PrerequisiteError(f"port 127.0.0.1:{port} is already in use", hint="pass --port to pick another")
    token = secrets.token_hex(24)
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    log = open(settings.log_dir / "jupyter.log", "ab")
    # The token goes in the environment (/proc/PID/environ is readable by its owner only),
    # never on the command line, which every local user can read in /proc/PID/cmdline.
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--ServerApp.root_dir={root}", f"--LabApp.app_settings_dir={APP_SETTINGS}", *extra_args]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    env = config.environment(PYTHONPATH=str(config.REPO_ROOT), CHAOSCTL_STATE_DIR=str(settings.state_dir),
                             JUPYTER_TOKEN=token)
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env,
                            cwd=root)
    fd = os.open(settings.run_dir / "jupyter.pid", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(str(proc.pid))
    deadline = time.monotonic() + 60
    progress("starting JupyterLab")
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceError("jupyter", "exited at start", log_tail=_tail(settings.log_dir / "jupyter.log"))
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=1)
            return f"http://127.0.0.1:{port}/lab?token={token}"
        except OSError:
            time.sleep(0.5)
    raise ServiceError("jupyter", "did not answer within 60 s", log_tail=_tail(settings.log_dir / "jupyter.log"))


def stop_lab(settings: Settings) -> bool:
    """Stop JupyterLab if this project started it; True when it was running."""
    pid = _pid(settings)
    (settings.run_dir / "jupyter.pid").unlink(missing_ok=True)
    if pid is None:
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    for _ in range(50):
        if not is_ours(pid, "jupyterlab"):
            return True
        time.sleep(0.1)
    if is_ours(pid, "jupyterlab", "--ServerApp.root_dir="):
        os.killpg(pid, signal.SIGKILL)
    return True


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""
