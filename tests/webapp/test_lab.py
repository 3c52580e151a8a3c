"""`chaosctl lab` (no stack needed, a free loopback port): JupyterLab on 127.0.0.1 only, token required."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import requests

from chaoslib import config
from chaoslib.config import Settings
from chaoslib.services.lab import stop_lab


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> list[str]:
    """Local addresses of the TCP sockets listening on `port`."""
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return [line.split()[3] for line in out.splitlines() if line.strip()]


def test_lab_listens_on_loopback_and_requires_its_token(tmp_path):
    """`chaosctl lab` prints a URL with a token; JupyterLab listens on 127.0.0.1 only and refuses a
    request without the token or with a wrong one."""
    port = _free_port()
    settings = Settings(state_dir=tmp_path / "state")
    try:
        out = subprocess.run([sys.executable, "-m", "chaoslib.cli", "--state-dir", str(settings.state_dir), "lab",
                              "--port", str(port)], capture_output=True, text=True, timeout=120,
                             cwd=config.REPO_ROOT, env={**os.environ})
        assert out.returncode == 0, out.stderr[-2000:]
        m = re.search(rf"JupyterLab: http://127\.0\.0\.1:{port}/lab\?token=([0-9a-f]{{32,}})$", out.stdout.strip())
        assert m, out.stdout
        token = m[1]
        assert _listening(port) == [f"127.0.0.1:{port}"]
        status = f"http://127.0.0.1:{port}/api/status"
        assert requests.get(status, timeout=10).status_code == 403
        assert requests.get(status, params={"token": "0" * len(token)}, timeout=10).status_code == 403
        assert requests.get(status, params={"token": token}, timeout=10).status_code == 200
        assert requests.get(status, headers={"Authorization": f"token {token}"}, timeout=10).status_code == 200
        assert oct((settings.run_dir / "jupyter.token").stat().st_mode & 0o777) == "0o600"
    finally:
        stop_lab(settings)
    assert _listening(port) == []
